"""Large files written and read dropping the page cache behind (fileformats.pagecache): the
bytes and digests are those of plain I/O, the whole file is flushed and dropped in order,
and small files or ``TRIALPACK_PAGE_CACHE=keep`` leave the cache alone."""
from __future__ import annotations

import hashlib
import os
from datetime import datetime
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fileformats import pagecache
from fileformats.xpt import _writer, read_xpt, write_xpt
from specs.model import Spec, Study

needs_fadvise = pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="no posix_fadvise here")


class Recorder:
    """Records posix_fadvise(DONTNEED) ranges and fdatasync calls, then does them."""

    def __init__(self) -> None:
        self.ranges: list[tuple[int, int]] = []
        self.syncs = 0
        self._fadvise, self._fdatasync = os.posix_fadvise, os.fdatasync

    def fadvise(self, fd, offset, length, advice):
        assert advice == os.POSIX_FADV_DONTNEED
        self.ranges.append((offset, length))
        return self._fadvise(fd, offset, length, advice)

    def fdatasync(self, fd):
        self.syncs += 1
        return self._fdatasync(fd)

    def __enter__(self):
        self._patches = [mock.patch.object(os, "posix_fadvise", self.fadvise),
                         mock.patch.object(os, "fdatasync", self.fdatasync)]
        for p in self._patches:
            p.start()
        return self

    def __exit__(self, *exc):
        for p in self._patches:
            p.stop()


def _frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({
        "USUBJID": pd.Series([f"TP-{i // 7:06d}" for i in range(rows)], dtype="str"),
        "AEDECOD": pd.Series(rng.choice(["HEADACHE", "NAUSEA", None, "PRURITUS"], rows), dtype="str"),
        "AESTDY": np.where(rng.random(rows) < 0.1, np.nan, rng.integers(-5, 400, rows)).astype(float),
    })


def _contiguous_from_zero(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The ranges before the final whole-file drop ``(x, 0)``, checked to follow each other from 0."""
    *steps, last = ranges
    assert last[1] == 0   # the rest of the file, once complete
    end = 0
    for offset, length in steps:
        assert offset == end and length > 0
        end += length
    assert last[0] == end
    return steps


@needs_fadvise
def test_large_xpt_is_dropped_behind_in_order_with_the_same_bytes(tmp_path, monkeypatch):
    """A write above MIN_BYTES flushes and drops every WINDOW in order, then the rest; the
    file is byte for byte the one written through the cache, and reads back."""
    frame = _frame(20_000)
    kept, dropped = tmp_path / "kept" / "ae.xpt", tmp_path / "dropped" / "ae.xpt"
    kept.parent.mkdir(), dropped.parent.mkdir()
    monkeypatch.setenv("TRIALPACK_PAGE_CACHE", "keep")
    write_xpt(frame, kept)
    monkeypatch.delenv("TRIALPACK_PAGE_CACHE")
    chunk = 997 * 25   # rows of 9 + 8 + 8 bytes
    with mock.patch.object(pagecache, "MIN_BYTES", 4096), mock.patch.object(pagecache, "WINDOW", 50_000), \
            mock.patch.object(_writer, "_CHUNK_BYTES", chunk), Recorder() as rec:
        write_xpt(frame, dropped, remember_sha256=True)
    assert dropped.read_bytes() == kept.read_bytes()
    # hashed chunk by chunk, each read back before it was dropped: the file's digest
    assert pagecache.known_digest(dropped) == hashlib.sha256(kept.read_bytes()).hexdigest()
    steps = _contiguous_from_zero(rec.ranges)
    assert len(steps) >= 5   # every WINDOW or so, not once at the end
    assert all(50_000 <= length < 50_000 + chunk for _, length in steps)
    assert rec.syncs == len(rec.ranges)   # flushed before every drop (dirty pages are not dropped)
    back, _ = read_xpt(dropped)
    assert back["USUBJID"].tolist() == frame["USUBJID"].tolist()


@needs_fadvise
def test_small_files_and_keep_leave_the_cache_alone(tmp_path, monkeypatch):
    frame = _frame(2_000)
    with Recorder() as rec:   # far below MIN_BYTES
        write_xpt(frame, tmp_path / "ae.xpt")
        pagecache.sha256(tmp_path / "ae.xpt")
    assert rec.ranges == [] and rec.syncs == 0
    monkeypatch.setenv("TRIALPACK_PAGE_CACHE", "keep")
    with mock.patch.object(pagecache, "MIN_BYTES", 1), Recorder() as rec:
        write_xpt(frame, tmp_path / "ae.xpt")
        pagecache.sha256(tmp_path / "ae.xpt")
    assert rec.ranges == [] and rec.syncs == 0
    assert not pagecache.enabled()


def test_a_failing_chunk_stops_the_write_and_leaves_no_file(tmp_path):
    frame = _frame(5_000)
    real = _writer._fill_rows

    def failing(variables, buffer, start, stop):
        if start >= 2_000:
            raise OSError("disk full")
        return real(variables, buffer, start, stop)

    with mock.patch.object(pagecache, "MIN_BYTES", 1), mock.patch.object(_writer, "_CHUNK_BYTES", 24 * 100), \
            mock.patch.object(_writer, "_fill_rows", failing), pytest.raises(OSError, match="disk full"):
        write_xpt(frame, tmp_path / "ae.xpt")
    assert list(tmp_path.iterdir()) == []


@settings(max_examples=25, deadline=None)
@given(data=st.binary(max_size=20_000), window=st.integers(1, 9_000), threshold=st.integers(0, 25_000))
def test_sha256_is_hashlib_for_any_size_window_and_threshold(tmp_path_factory, data, window, threshold):
    path = tmp_path_factory.mktemp("h") / "f.bin"
    path.write_bytes(data)
    with mock.patch.object(pagecache, "WINDOW", window), mock.patch.object(pagecache, "MIN_BYTES", threshold), \
            mock.patch.object(pagecache, "_READ_BLOCK", 4096):
        assert pagecache.sha256(path) == hashlib.sha256(data).hexdigest()


@needs_fadvise
def test_sha256_of_a_large_file_drops_behind_the_reader(tmp_path):
    data = os.urandom(300_000)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    with mock.patch.object(pagecache, "MIN_BYTES", 1000), mock.patch.object(pagecache, "WINDOW", 64_000), \
            mock.patch.object(pagecache, "_READ_BLOCK", 16_384), Recorder() as rec:
        assert pagecache.sha256(path) == hashlib.sha256(data).hexdigest()
    steps = _contiguous_from_zero(rec.ranges)
    assert len(steps) == 4 and rec.syncs == 0   # a reader has nothing to flush


def test_manifest_digests_hashed_ahead_are_used_only_for_unchanged_files(tmp_path):
    """The build hashes finished files ahead of the manifest (manifest.sha256_all remembers what
    it hashed); the manifest takes such a digest only while the file keeps its size and
    modification time."""
    import hashlib
    import os

    from trialpack import manifest

    same, rewritten, grown, new = (tmp_path / n for n in ("same.xpt", "rewritten.xpt", "grown.xpt", "new.xpt"))
    for path in (same, rewritten, grown, new):
        path.write_bytes(b"A" * 1000)
    ahead = manifest.sha256_all([same, rewritten, grown])
    assert ahead[same] == hashlib.sha256(b"A" * 1000).hexdigest()
    assert pagecache.known_digest(same) == ahead[same]
    pagecache.remember_digest(same, "kept")      # not read again: the digest remembered is the one used
    hashed_at = rewritten.stat().st_mtime_ns
    rewritten.write_bytes(b"B" * 1000)           # same size, later modification time
    stat = rewritten.stat()
    os.utime(rewritten, ns=(stat.st_atime_ns, hashed_at + 1_000_000))
    grown.write_bytes(b"A" * 1001)
    found = manifest.sha256_all([same, rewritten, grown, new], threads=1)
    assert found == {same: "kept", rewritten: hashlib.sha256(b"B" * 1000).hexdigest(),
                     grown: hashlib.sha256(b"A" * 1001).hexdigest(), new: hashlib.sha256(b"A" * 1000).hexdigest()}


# ------------------------------------------------------------------ digests known

def test_a_remembered_digest_holds_only_while_the_file_is_unchanged(tmp_path):
    path = tmp_path / "ae.xpt"
    path.write_bytes(b"x" * 100)
    pagecache.remember_digest(path, hashlib.sha256(b"x" * 100).hexdigest())
    assert pagecache.known_digest(path) == hashlib.sha256(b"x" * 100).hexdigest()
    assert pagecache.known_digest(tmp_path / "." / "ae.xpt") is not None   # the same file, spelt otherwise
    path.write_bytes(b"y" * 101)                                             # rewritten: not trusted
    assert pagecache.known_digest(path) is None
    path.unlink()
    assert pagecache.known_digest(path) is None


def test_remembered_digests_travel_between_processes_and_stay_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(pagecache, "_DIGESTS", type(pagecache._DIGESTS)())
    monkeypatch.setattr(pagecache, "_DIGESTS_LIMIT", 3)
    paths = []
    for i in range(4):
        paths.append(tmp_path / f"f{i}")
        paths[-1].write_bytes(bytes([i]) * 10)
        pagecache.remember_digest(paths[-1], f"digest{i}")
    assert pagecache.known_digest(paths[0]) is None                     # the oldest forgotten
    handed = pagecache.known_digests(paths)
    assert sorted(d for _, d in handed.values()) == ["digest1", "digest2", "digest3"]
    pagecache._DIGESTS.clear()
    pagecache.adopt_digests(handed)
    assert [pagecache.known_digest(p) for p in paths] == [None, "digest1", "digest2", "digest3"]


def test_the_manifest_takes_a_written_digest_without_reading_the_file(tmp_path, monkeypatch):
    from trialpack import manifest

    kept, fresh = tmp_path / "kept.xpt", tmp_path / "fresh.csv"
    kept.write_bytes(b"k" * 1000)
    fresh.write_bytes(b"f" * 1000)
    pagecache.remember_digest(kept, "0" * 64)            # what its writer computed
    read = []
    monkeypatch.setattr(manifest, "sha256", lambda p: read.append(p) or pagecache.sha256(p))
    got = manifest.sha256_all([kept, fresh])
    assert got == {kept: "0" * 64, fresh: hashlib.sha256(b"f" * 1000).hexdigest()}
    assert read == [fresh]


def test_the_package_writer_leaves_the_digests_the_manifest_takes(tmp_path):
    """write_package_datasets asks the XPT writer to hash (the manifest then reads nothing
    back); a standalone write_xpt does not pay for it."""
    from specs.model import DatasetSpec, VariableSpec
    from trialpack.writing import write_package_datasets

    frame = _frame(300)
    alone = write_xpt(frame, tmp_path / "ae.xpt")
    assert pagecache.known_digest(alone) is None
    (tmp_path / "pkg").mkdir()
    variables = [VariableSpec(name="USUBJID", label="Unique Subject Identifier", data_type="text", length=9),
                 VariableSpec(name="AEDECOD", label="Dictionary-Derived Term", data_type="text", length=8),
                 VariableSpec(name="AESTDY", label="Study Day of Start of Adverse Event", data_type="integer")]
    spec = Spec(datasets=[DatasetSpec(name="AE", label="Adverse Events", class_="EVENTS", keys=["USUBJID"],
                                      structure="One record per adverse event per subject", variables=variables)],
                study=Study(oid="STDY.T", name="T", description="T", protocol_name="T"))
    files = write_package_datasets(spec, {"AE": frame}, tmp_path / "pkg", formats=("xpt",),
                                   created=datetime(2026, 1, 1), study_oid="STDY.T")
    xpt = next(f for f in files if f.suffix == ".xpt")
    assert pagecache.known_digest(xpt) == hashlib.sha256(xpt.read_bytes()).hexdigest()


def test_without_preadv_a_hashed_write_goes_in_order_and_hashes_the_same(tmp_path):
    frame = _frame(5_000)
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    with mock.patch.object(_writer, "_CHUNK_BYTES", 997):
        at_offsets = write_xpt(frame, tmp_path / "a" / "ae.xpt", remember_sha256=True)
        with mock.patch.object(_writer, "_PREADV", False):
            assert not _writer._writes_at_offsets(hashlib.sha256())
            assert _writer._writes_at_offsets(None) == _writer._PWRITE   # unhashed writes keep pwrite
            in_order = write_xpt(frame, tmp_path / "b" / "ae.xpt", remember_sha256=True)
    assert in_order.read_bytes() == at_offsets.read_bytes()
    assert pagecache.known_digest(in_order) == pagecache.known_digest(at_offsets) \
        == hashlib.sha256(at_offsets.read_bytes()).hexdigest()
