"""Atomic output: build beside the target, move into place only when complete.

``atomic_path`` writes one file through a temporary sibling and ``os.replace``.
``atomic_dir`` builds a whole folder in a hidden sibling and swaps it in; on Linux the
swap is a single ``renameat2(RENAME_EXCHANGE)``, so at every instant the target is
either the complete previous package or the complete new one. An interrupted build
leaves only its hidden scratch folder, which the next build removes.
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import shutil
from pathlib import Path
from typing import Callable, Iterator

from specs.errors import InputError

SCRATCH_MARK = ".trialpack-tmp-"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def scratch_name(target: Path) -> Path:
    return target.parent / f".{target.name}{SCRATCH_MARK}{os.getpid()}"


def remove_stale_scratch(target: Path) -> None:
    """Delete scratch folders/files left beside ``target`` by interrupted runs."""
    if not target.parent.is_dir():
        return
    for stale in target.parent.glob(f".{target.name}{SCRATCH_MARK}*"):
        pid = stale.name.rsplit("-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
            continue
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target``."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = scratch_name(target)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def check_replaceable(target: str | Path, ours: Callable[[Path], bool], what: str) -> None:
    """Refuse, before any work, a ``target`` that a folder swap must not replace: a file, or a
    non-empty folder that ``ours`` does not recognise (``what`` says what it would have to be) —
    the swap deletes the previous folder, and a mistyped ``--out`` must not delete a user's files."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise InputError("the output path exists and is not a folder", file=target)
    if target.is_dir() and any(target.iterdir()) and not ours(target):
        raise InputError(f"the output folder is not empty and is not {what}; it would be replaced as a "
                         "whole, so choose a new or empty folder", file=target)


@contextlib.contextmanager
def atomic_dir(target: str | Path) -> Iterator[Path]:
    """Yield an empty scratch folder; on success it becomes ``target`` in one swap."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise InputError("the output path exists and is not a folder", file=target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_scratch(target)
    scratch = scratch_name(target)
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir()
    try:
        yield scratch
        swap_into_place(scratch, target)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)


def swap_into_place(new: Path, target: Path) -> None:
    """Make ``new`` the ``target`` folder; the previous ``target`` (if any) is removed."""
    if target.exists() and not target.is_dir():
        raise FileExistsError(f"{target} exists and is not a folder")
    if not target.exists():
        os.rename(new, target)
        return
    if _exchange(new, target):
        shutil.rmtree(new)  # now holds the previous package
        return
    old = target.parent / f".{target.name}{SCRATCH_MARK}old-{os.getpid()}"
    os.rename(target, old)
    os.rename(new, target)
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths with renameat2(2); False where unsupported."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    try:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0
