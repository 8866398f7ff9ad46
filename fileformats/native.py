"""The optional compiled kernels (built by setup.py where a C compiler is present).

Each has a numpy twin that gives the same result, and tests hold the two equal; an
environment variable switches a kernel off on purpose:

- ``_trialpack_xpt`` (fileformats/xpt/_rowfill.c): the XPT writer's row fill;
  ``TRIALPACK_XPT_NUMPY=1``.
- ``_trialpack_csv`` (fileformats/_csvscan.c): the raw CSV reader's record layout;
  ``TRIALPACK_CSV_NUMPY=1``.
"""
from __future__ import annotations

import importlib
import os


def load(module: str, switch_off: str):
    """The compiled ``module``, or None when it is not built or ``switch_off`` is set (not 0)
    in the environment."""
    if os.environ.get(switch_off, "") not in ("", "0"):
        return None
    try:
        return importlib.import_module(module)
    except ImportError:
        return None
