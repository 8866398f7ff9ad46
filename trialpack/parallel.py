"""Use both cores: independent stages of a build run in forked worker processes.

Per-study work (raw -> SDTM, its XPT, define.xml and aCRF) is independent between studies,
and the report is independent of the package validation; on a machine with more than one
core they run in a small pool of forked processes. Results come back in submission order,
so the package bytes do not depend on which worker finished first. Workers die with the
build (``PR_SET_PDEATHSIG``): a killed build leaves no process writing into its scratch
folder, and any failure terminates the pool before the error propagates.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import multiprocessing
import os
import signal
from typing import Iterator

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        try:
            ctypes.CDLL(libc_name).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles interruption


def workers(jobs: int) -> int:
    """How many worker processes are worth starting for ``jobs`` independent jobs."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if os.environ.get("TRIALPACK_WORKERS", "").isdigit():
        cpus = int(os.environ["TRIALPACK_WORKERS"])
    return max(0, min(cpus, jobs)) if cpus > 1 and jobs > 1 and "fork" in multiprocessing.get_all_start_methods() \
        else 0


def warm_imports() -> None:
    """Import what the later stages need (matplotlib, openpyxl, rtflite) once a core is free
    (the last studies are being mapped): the report worker, forked afterwards, inherits the
    loaded modules instead of importing them on the critical path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.backends.backend_agg  # noqa: F401
    import matplotlib.figure  # noqa: F401
    import openpyxl  # noqa: F401
    import rtflite  # noqa: F401


@contextlib.contextmanager
def pool(processes: int) -> Iterator[multiprocessing.pool.Pool | None]:
    """A forked worker pool (None when ``processes`` is 0: run in this process)."""
    if processes <= 0:
        yield None
        return
    import multiprocessing.pool  # noqa: F401 (the type in the annotation)

    p = multiprocessing.get_context("fork").Pool(processes, initializer=_die_with_parent)
    try:
        yield p
    except BaseException:
        p.terminate()
        p.join()
        raise
    p.close()
    p.join()
