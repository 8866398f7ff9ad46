"""Large files written and read without filling the page cache ("drop behind").

Every byte written to a file first lands in the kernel's page cache, and a byte read is
cached too: a package of several gigabytes takes as much fresh memory as it has bytes. On
a virtual machine that hands free memory back to its host (virtio-balloon free page
reporting), every fresh page then costs a fault through the host. Measured on the
benchmark machine (BENCHMARKS.md): writing 1 GB in 2 MB chunks took 12.4 s, and 0.66 s
when every 64 MB written was flushed to disk and dropped from the cache behind the writer,
so that the next chunk reuses the pages just freed; hashing 1 GB that is not cached took
2.3-2.8 s reading plainly and 0.75 s dropping behind the reader. This is what ``dd
oflag=nocache`` and backup tools do. Elsewhere it costs little: the kernel writes the
data back to disk in any case, here it does so while the file is written.

Only files of at least :data:`MIN_BYTES` are handled so (the XPT datasets and what the
manifest hashes); small files stay cached. ``TRIALPACK_PAGE_CACHE=keep`` turns it off;
it is off where the system lacks ``posix_fadvise`` (Windows, macOS).
"""
from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict

WINDOW = 32 << 20
"""Bytes written or read between two flush-and-drop steps."""

MIN_BYTES = 64 << 20
"""Files smaller than this are written and read through the cache as usual."""

_READ_BLOCK = 1 << 21


def enabled() -> bool:
    """Whether large files drop behind (see the module docstring)."""
    return hasattr(os, "posix_fadvise") and os.environ.get("TRIALPACK_PAGE_CACHE", "").lower() != "keep"


class DropBehind:
    """Flush and drop from the page cache what has been written to ``fd`` so far, every
    :data:`WINDOW` bytes: call :meth:`written` with the end of the written prefix (every
    byte before it written), :meth:`close` once the file is complete. Does nothing when
    ``size`` is below :data:`MIN_BYTES` or dropping is off."""

    def __init__(self, fd: int, size: int) -> None:
        self.fd = fd
        self.active = size >= MIN_BYTES and enabled()
        self.dropped = 0

    def written(self, end: int) -> None:
        if self.active and end - self.dropped >= WINDOW:
            self._drop(end)

    def close(self) -> None:
        """Drop the rest (the file's writes must be complete)."""
        if self.active:
            self._drop(None)

    def _drop(self, end: int | None) -> None:
        """Flush, then drop ``dropped:end`` (``end`` None: to the end of the file)."""
        os.fdatasync(self.fd)   # dirty pages cannot be dropped: write them to disk first
        length = 0 if end is None else end - self.dropped   # posix_fadvise: length 0 = to the end
        os.posix_fadvise(self.fd, self.dropped, length, os.POSIX_FADV_DONTNEED)
        self.dropped = self.dropped if end is None else end


def sha256(path: str | os.PathLike) -> str:
    """The file's sha256, read once; a large file is dropped from the page cache behind the
    reader (:data:`MIN_BYTES`, :data:`WINDOW`)."""
    digest = hashlib.sha256()
    with open(path, "rb", buffering=0) as fh:
        drop = os.fstat(fh.fileno()).st_size >= MIN_BYTES and enabled()
        block = bytearray(_READ_BLOCK)
        view = memoryview(block)
        done = dropped = 0
        while n := fh.readinto(block):
            digest.update(view[:n])
            done += n
            if drop and done - dropped >= WINDOW:
                os.posix_fadvise(fh.fileno(), dropped, done - dropped, os.POSIX_FADV_DONTNEED)
                dropped = done
        if drop:
            os.posix_fadvise(fh.fileno(), dropped, 0, os.POSIX_FADV_DONTNEED)   # the rest
    return digest.hexdigest()



# ------------------------------------------------------------------ digests known

_DIGESTS: OrderedDict[str, tuple[tuple[int, int], str]] = OrderedDict()
_DIGESTS_LOCK = threading.Lock()
_DIGESTS_LIMIT = 10_000
"""How many files' digests are remembered (the oldest forgotten first)."""


def file_stamp(path: str | os.PathLike) -> tuple[int, int]:
    """Size and modification time (ns): a file whose stamp is unchanged has not been rewritten."""
    stat = os.stat(path)
    return stat.st_size, stat.st_mtime_ns


def remember_digest(path: str | os.PathLike, digest: str, stamp: tuple[int, int] | None = None) -> None:
    """The sha256 of a file, known without reading it again while the file keeps ``stamp``
    (:func:`file_stamp`; default: its stamp now). Two kinds of callers: a writer that hashed the
    bytes as they went out (the XPT writer: for a dataset dropped from the page cache behind it,
    reading it back would be a read from disk), and the manifest's hashing, done ahead of the
    manifest while a core is free (the stamp then taken before the file was read)."""
    entry = (stamp if stamp is not None else file_stamp(path), digest)
    _keep({os.path.abspath(path): entry})


def known_digest(path: str | os.PathLike) -> str | None:
    """The remembered sha256 of ``path`` (:func:`remember_digest`), if the file is unchanged."""
    with _DIGESTS_LOCK:
        entry = _DIGESTS.get(os.path.abspath(path))
    if entry is None:
        return None
    try:
        return entry[1] if file_stamp(path) == entry[0] else None
    except OSError:
        return None


def known_digests(paths) -> dict[str, tuple[tuple[int, int], str]]:
    """The remembered entries of ``paths`` that are still valid, to hand to another process."""
    out = {}
    for path in paths:
        digest = known_digest(path)
        if digest is not None:
            out[os.path.abspath(path)] = (file_stamp(path), digest)
    return out


def adopt_digests(entries: dict[str, tuple[tuple[int, int], str]]) -> None:
    """Remember entries another process made (:func:`known_digests`)."""
    _keep(entries)


def _keep(entries: dict[str, tuple[tuple[int, int], str]]) -> None:
    with _DIGESTS_LOCK:
        for key, entry in entries.items():
            _DIGESTS[key] = entry
            _DIGESTS.move_to_end(key)
        while len(_DIGESTS) > _DIGESTS_LIMIT:
            _DIGESTS.popitem(last=False)
