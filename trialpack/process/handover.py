"""A worker's result handed to the build through shared memory instead of a pipe.

A mapping worker's result is a study's SDTM: at 100,000 subjects about 1.2 GB of arrays over
the studies. Through the pool's pipe each byte is pickled in the worker, read into a growing
buffer in the parent and copied again into the parent's arrays: three copies, all in fresh
memory, on the core the workers need. Here the parent creates one anonymous memory file per
job before the workers are forked (``os.memfd_create``: memory, not a file system; the workers
inherit it); the worker pickles its result with the arrays' buffers out of band (pickle
protocol 5: numpy and Arrow buffers are handed over as they are) and writes the buffers into
the job's memory file; the parent maps the file and unpickles onto the mapped memory, so its
arrays are views of the bytes the worker wrote. The mapping is private: a page the build
modifies is copied then, the others are never copied.

Where memory files are missing (not Linux) :func:`channels` gives None per job and the
result goes through the pipe as before.
"""
from __future__ import annotations

import contextlib
import mmap
import os
import pickle
from dataclasses import dataclass
from typing import Iterator

ALIGN = 64
"""Each buffer starts at a multiple of 64 bytes (what numpy and Arrow would allocate)."""


@dataclass(frozen=True)
class Parcel:
    """What crosses the pipe: the pickle without its buffers, and where each buffer lies in
    the memory file ``fd`` (offset, bytes)."""

    fd: int
    pickled: bytes
    spans: tuple[tuple[int, int], ...]
    size: int


@contextlib.contextmanager
def channels(names: list[str]) -> Iterator[list[int | None]]:
    """One memory file per name (None for each where the system has none), to be created
    before the workers fork; all closed on exit (a received value keeps its mapping)."""
    if not hasattr(os, "memfd_create"):
        yield [None] * len(names)
        return
    fds = []
    try:
        for name in names:
            fds.append(os.memfd_create(f"trialpack-{name}", getattr(os, "MFD_CLOEXEC", 0)))
        yield list(fds)
    finally:
        for fd in fds:
            os.close(fd)


def send(fd: int | None, value) -> Parcel | object:
    """In the worker: ``value`` written into memory file ``fd`` (its buffers) and a
    :class:`Parcel` to return; ``value`` itself when ``fd`` is None."""
    if fd is None:
        return value
    buffers: list[pickle.PickleBuffer] = []
    pickled = pickle.dumps(value, protocol=5, buffer_callback=buffers.append)
    views = [buffer.raw() for buffer in buffers]
    spans, offset = [], 0
    for view in views:
        spans.append((offset, view.nbytes))
        offset += -(-view.nbytes // ALIGN) * ALIGN
    os.ftruncate(fd, offset)
    for (start, _), view in zip(spans, views):
        _write_all(fd, view, start)
    return Parcel(fd, pickled, tuple(spans), offset)


def receive(parcel) -> object:
    """In the parent: the value a worker sent (a :class:`Parcel` unpickled onto its memory
    file, mapped privately; anything else as it came)."""
    if not isinstance(parcel, Parcel):
        return parcel
    if not parcel.size:
        return pickle.loads(parcel.pickled, buffers=[b""] * len(parcel.spans))
    memory = memoryview(mmap.mmap(parcel.fd, parcel.size, access=mmap.ACCESS_COPY))
    return pickle.loads(parcel.pickled, buffers=[memory[start:start + n] for start, n in parcel.spans])


def _write_all(fd: int, view: memoryview, offset: int) -> None:
    view = view.cast("B")
    while len(view):
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written
