"""Use both cores: independent stages of a build run in forked worker processes.

Per-study work (raw -> SDTM, its XPT, define.xml and aCRF) is independent between studies,
and the report is independent of the package validation; on a machine with more than one
core they run in a small pool of forked processes. Results come back in submission order,
so the package bytes do not depend on which worker finished first. A job whose input is
large (the pooled ISS analysis for the report) runs in a process forked for it
(:func:`forked`): it inherits the data instead of receiving a pickled copy, which at 100,000
subjects would be gigabytes serialised, piped and rebuilt. Workers die with the
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

from trialpack.process import collector

_PR_SET_PDEATHSIG = 1


_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


@contextlib.contextmanager
def _forking() -> Iterator[None]:
    """Fork with SIGTERM and SIGINT blocked: a child unblocks them once it has set its own
    handlers (:func:`_die_with_parent`), so a signal meant for the build, arriving while a
    worker starts, never runs the build's handler (which raises) inside the worker."""
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def _die_with_parent() -> None:
    collector.settle_inherited()
    libc_name = ctypes.util.find_library("c")
    if libc_name:
        try:
            ctypes.CDLL(libc_name).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles interruption
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)  # blocked across the fork (see _forking)


def workers(jobs: int) -> int:
    """How many worker processes are worth starting for ``jobs`` independent jobs."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if os.environ.get("TRIALPACK_WORKERS", "").isdigit():
        cpus = int(os.environ["TRIALPACK_WORKERS"])
    return max(0, min(cpus, jobs)) if cpus > 1 and jobs > 1 and "fork" in multiprocessing.get_all_start_methods() \
        else 0


def warm_imports() -> None:
    """Import what the later stages need (matplotlib, openpyxl, rtflite, scipy.special) and
    read the reviewer's guide fonts while the workers map the studies (the parent only waits
    for their results then): the report worker, forked afterwards, inherits them instead of
    loading them on the critical path. Done before the first result is collected, it never
    delays a result (measured on the demo: collecting the last study's result waited 0.6 s
    when this ran once a core was free). What they make lives as long as the program and is
    kept out of its garbage collections (:func:`trialpack.process.collector.importing`)."""
    with collector.importing():
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.backends.backend_agg  # noqa: F401
        import matplotlib.figure  # noqa: F401
        import openpyxl  # noqa: F401
        import rtflite  # noqa: F401
        import scipy.special  # noqa: F401

        from fileformats.pdf import embedded_font
        from fileformats.textdoc import SANS

        for bold in (False, True):
            embedded_font(SANS, bold)


@contextlib.contextmanager
def pool(processes: int) -> Iterator[multiprocessing.pool.Pool | None]:
    """A forked worker pool (None when ``processes`` is 0: run in this process)."""
    if processes <= 0:
        yield None
        return
    import multiprocessing.pool  # noqa: F401 (the type in the annotation)

    with _forking():
        p = multiprocessing.get_context("fork").Pool(processes, initializer=_die_with_parent)
    try:
        yield p
    except BaseException:
        p.terminate()
        p.join()
        raise
    p.close()
    p.join()


class Forked:
    """A call running in a forked child process; :meth:`get` waits for its result."""

    def __init__(self, fn, args: tuple) -> None:
        ctx = multiprocessing.get_context("fork")
        self._receive, send = ctx.Pipe(duplex=False)
        self._process = ctx.Process(target=_run_forked, args=(send, fn, args), daemon=True)
        # fork with SIGTERM/SIGINT blocked: the child unblocks them once its own handlers are
        # set, so a signal meant for the build never runs the parent's handler in the child
        with _forking():
            self._process.start()  # fork: fn and args are inherited, never pickled
        send.close()

    def get(self):
        """The call's return value (pickled back through a pipe: keep it small); its
        exception re-raised here if it failed."""
        try:
            ok, value = self._receive.recv()
        except EOFError:
            self._process.join()
            raise RuntimeError(f"worker process died (exit code {self._process.exitcode})") from None
        finally:
            self._receive.close()
        self._process.join()
        if not ok:
            raise value
        return value

    def running(self) -> bool:
        """Whether the call is still running (its result not yet sent)."""
        return self._process.is_alive() and not self._receive.poll()

    def terminate(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()


def _run_forked(send, fn, args) -> None:
    _die_with_parent()
    try:
        result = (True, fn(*args))
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which re-raises it
        result = (False, exc)
    try:
        send.send(result)
    except Exception as exc:  # an exception that cannot be pickled: its text still goes back
        send.send((False, RuntimeError(f"{type(result[1]).__name__}: {result[1]}" if not result[0] else str(exc))))
    send.close()


@contextlib.contextmanager
def forked(fn, *args, enabled: bool = True) -> Iterator[Forked | None]:
    """Run ``fn(*args)`` in a forked child beside the caller (None when ``enabled`` is false
    or fork is unavailable: the caller runs it itself). The child is terminated if the
    caller's block fails."""
    if not enabled or "fork" not in multiprocessing.get_all_start_methods():
        yield None
        return
    job = Forked(fn, args)
    try:
        yield job
    except BaseException:
        job.terminate()
        raise
