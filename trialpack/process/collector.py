"""Python's cyclic garbage collector in the ``trialpack`` program.

A full collection walks every container object the process holds. The objects the imports
make (modules, classes, functions: several hundred thousand once pandas, matplotlib, rtflite
and scipy are in) live as long as the program, yet every full collection walked them again:
in the demo the build's parent process spent 0.55 s of its 2.8 s of CPU collecting (measured
with ``gc.callbacks``), and each forked worker rewrote the collector's header of every object
it inherited, copying the page it lives on. So, in the program only:

* :func:`settle` moves what exists into the collector's permanent generation (``gc.freeze``):
  later collections walk only what the build makes after it;
* :func:`importing` imports without collecting (imports make few cycles) and settles after;
* a forked worker settles what it inherited (:func:`settle_inherited`): the parent's objects
  are the parent's to free.

:func:`program_mode` is set by the ``trialpack`` program (``trialpack.cli.entry``), which ends
with ``os._exit``: nothing frozen needs freeing then. A Python caller of the pipeline keeps
its collector as it was: frozen objects are never collected, so freezing in a long-lived
process would keep any garbage cycle that existed at that moment.
"""
from __future__ import annotations

import contextlib
import gc
from typing import Iterator

_program = False


def program_mode() -> None:
    """This process is the ``trialpack`` program: objects may be settled."""
    global _program
    _program = True


def settle() -> None:
    """Objects that exist now are kept out of later collections (in the program only)."""
    if _program:
        gc.freeze()


def settle_inherited() -> None:
    """In a forked worker (always trialpack's own process, ended with ``os._exit``): what it
    inherited is kept out of its collections, so they neither walk nor copy those pages."""
    gc.freeze()


@contextlib.contextmanager
def importing() -> Iterator[None]:
    """Imports of long-lived modules: no collection while they run and the objects settled
    after (in the program only; elsewhere nothing changes)."""
    if not _program or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()
