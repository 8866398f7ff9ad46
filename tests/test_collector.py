"""trialpack.process.collector: long-lived objects kept out of the garbage collector's walks in the
``trialpack`` program only; a Python caller's collector is left as it was."""
from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

from trialpack.process import collector

ROOT = Path(__file__).resolve().parents[1]


def test_outside_the_program_nothing_is_frozen_and_collection_stays_on():
    frozen = gc.get_freeze_count()
    collector.settle()
    with collector.importing():
        assert gc.isenabled()
        import json  # noqa: F401
    assert gc.get_freeze_count() == frozen and gc.isenabled()


def _in_program(code: str) -> str:
    """Run ``code`` in a fresh interpreter that has entered program mode; its stdout."""
    prelude = "import gc\nfrom trialpack.process import collector\ncollector.program_mode()\n"
    result = subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT)
    return result.stdout.strip()


def test_in_the_program_settle_freezes_what_exists():
    out = _in_program("before, tracked = gc.get_freeze_count(), len(gc.get_objects())\ncollector.settle()\n"
                      "print(before == 0, gc.get_freeze_count() >= tracked > 1000)")
    assert out == "True True"


def test_in_the_program_imports_run_without_collection_then_settle():
    out = _in_program("seen = []\n"
                      "with collector.importing():\n"
                      "    seen.append(gc.isenabled())\n"
                      "    import decimal\n"
                      "print(seen[0], gc.isenabled(), gc.get_freeze_count() > 0)")
    assert out == "False True True"


def test_collection_is_back_on_when_an_import_fails():
    out = _in_program("try:\n"
                      "    with collector.importing():\n"
                      "        import no_such_module_anywhere\n"
                      "except ImportError:\n"
                      "    pass\n"
                      "print(gc.isenabled())")
    assert out == "True"


def test_a_forked_worker_settles_what_it_inherited():
    from trialpack.process import parallel

    def frozen_in_child() -> int:
        return gc.get_freeze_count()

    frozen_here = gc.get_freeze_count()
    with parallel.forked(frozen_in_child) as job:
        assert job is not None
        in_child = job.get()
    assert in_child > frozen_here + 1000     # the test process's objects, frozen in the child
    assert gc.get_freeze_count() == frozen_here   # and not here
