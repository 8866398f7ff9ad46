"""trialpack: the application, the top floor — CLI, pipeline, validation, manifest, lineage, demo.

Holds: ``cli``, ``commands`` and ``console`` (the ``trialpack`` program), ``pipeline`` (a build,
stage by stage), ``writing`` (one dataset folder), ``validation`` and ``consistency``,
``manifest``, ``lineage``, ``layout`` (where every file of a package goes), ``summary``,
``convert``, the demo generator (``demo/``) and the process plumbing (``process/``: parallel,
handover, collector, atomic, signals). ``xpt`` and ``datasetjson`` re-export
``fileformats.xpt`` and ``fileformats.datasetjson`` under the names of the README's Python API.

May import: every floor below (``specs``, ``fileformats``, ``sdtm``, ``adam``, ``define``,
``report``); nothing imports it (tests/test_layering.py).
"""
__version__ = "0.1.0"
