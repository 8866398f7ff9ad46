"""The XPT row fill: the C kernel (``_trialpack_xpt``) and numpy write the same bytes.

* The kernel is built by ``pip install .`` wherever a C compiler is present.
* Known answers: IBM doubles from IBM's own examples, missing and special missing values,
  blank-padded text, items by code, by byte offset and row by row.
* The kernel refuses what would write outside memory (a value longer than its width, a
  code outside its table, rows outside the column, a chunk too small).
* Differential (hypothesis): any frame the writer accepts — Arrow, object and categorical
  text with nulls, UTF-8 text, numbers with special missing values, integers, datetimes —
  gives the same file with the kernel and with numpy, in one thread or two, in chunks
  written in order or at their offsets.
"""
from __future__ import annotations

import hashlib
from contextlib import ExitStack
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fileformats import pagecache
from fileformats.xpt import _native, _writer, read_xpt, write_xpt

KERNEL = _native.kernel
needs_kernel = pytest.mark.skipif(KERNEL is None, reason="the C row fill is not built here")


@needs_kernel
def test_ibm_known_answers():
    # IBM System/360: 1.0 = 41 10 00..., -118.625 = C2 76 A0 00..., 0.1 = 40 19 99 99 99 99 99 9A
    values = np.array([1.0, -118.625, 0.1, 0.0, -0.0, np.nan, np.nan, 100.0])
    codes = np.array([0, 0, 0, 0, 0, 0, ord("A"), 0], dtype=np.uint8)
    rows = np.full((8, 10), 0xEE, dtype=np.uint8)
    KERNEL.put_ibm(rows, 1, 10, values, codes, 0, 8)
    assert rows[:, 0].tolist() == [0xEE] * 8 and rows[:, 9].tolist() == [0xEE] * 8
    got = [bytes(r[1:9]).hex() for r in rows]
    assert got == ["4110000000000000", "c276a00000000000", "401999999999999a", "0" * 16, "0" * 16,
                   "2e" + "0" * 14, "41" + "0" * 14, "4264000000000000"]


@needs_kernel
def test_text_items_known_answers():
    data = np.frombuffer(b"HEADACHENAUSEA", dtype=np.uint8)
    offsets = np.array([0, 8, 8, 14], dtype=np.int32)
    valid = np.array([1, 1, 0], dtype=np.uint8)
    rows = np.zeros((3, 12), dtype=np.uint8)
    KERNEL.put_text(rows, 2, 12, 9, offsets, 4, data, valid, 0, 3)
    assert [bytes(r) for r in rows] == [b"\0\0HEADACHE \0", b"\0\0         \0", b"\0\0         \0"]
    KERNEL.put_text(rows, 2, 12, 9, offsets.astype(np.int64), 8, data, None, 1, 3)  # rows 1-2
    assert [bytes(r) for r in rows[:2]] == [b"\0\0         \0", b"\0\0NAUSEA   \0"]
    table = np.frombuffer(b"MILDSEV BLNK", dtype=np.uint8)
    KERNEL.put_items(rows, 0, 12, 4, table, np.array([1, -1, 0], dtype=np.int32), 4, False, 0, 3)
    assert [bytes(r[:4]) for r in rows] == [b"SEV ", b"BLNK", b"MILD"]
    KERNEL.put_items(rows, 0, 12, 3, table, np.array([2, 4], dtype=np.int64), 8, True, 0, 2)
    assert [bytes(r[:3]) for r in rows[:2]] == [b"LDS", b"SEV"]
    KERNEL.put_items(rows, 0, 12, 4, table, None, 8, False, 1, 3)
    assert [bytes(r[:4]) for r in rows[:2]] == [b"SEV ", b"BLNK"]


@needs_kernel
def test_kernel_refuses_to_write_outside_memory():
    data = np.frombuffer(b"HEADACHE", dtype=np.uint8)
    offsets = np.array([0, 8], dtype=np.int32)
    rows = np.zeros((2, 10), dtype=np.uint8)
    with pytest.raises(ValueError, match="does not fit its width"):
        KERNEL.put_text(rows, 0, 10, 5, offsets, 4, data, None, 0, 1)
    with pytest.raises(ValueError, match="rows outside"):
        KERNEL.put_text(rows, 0, 10, 8, offsets, 4, data, None, 0, 2)
    with pytest.raises(ValueError, match="does not fit the chunk"):
        KERNEL.put_text(rows, 4, 10, 8, offsets, 4, data, None, 0, 1)
    with pytest.raises(ValueError, match="refers outside"):
        KERNEL.put_items(rows, 0, 10, 4, data, np.array([2], dtype=np.int32), 4, False, 0, 1)
    with pytest.raises(ValueError, match="refers outside"):
        KERNEL.put_items(rows, 0, 10, 4, data, np.array([5], dtype=np.int64), 8, True, 0, 1)
    with pytest.raises(ValueError, match="rows outside"):
        KERNEL.put_ibm(rows, 0, 10, np.array([1.0]), None, 0, 2)
    with pytest.raises(TypeError):
        KERNEL.put_ibm(bytes(10), 0, 10, np.array([1.0]), None, 0, 1)   # read-only


TEXT = st.text(alphabet="".join(chr(c) for c in range(32, 127)), max_size=30).map(str.rstrip)
WIDE = st.text(alphabet="AZaz 09éü中", max_size=12).map(str.rstrip)
FLOATS = st.one_of(st.floats(-1e30, 1e30, allow_nan=False).filter(lambda x: x == 0 or abs(x) >= 1e-70),
                   st.just(np.nan))


@st.composite
def frames(draw):
    rows = draw(st.integers(1, 60))
    utf8 = draw(st.booleans())
    kinds = draw(st.lists(st.sampled_from(["arrow", "object", "category", "float", "int", "datetime"]),
                          min_size=1, max_size=7))
    data, special = {}, {}
    for number, kind in enumerate(kinds):
        name = f"V{number}"
        if kind in ("arrow", "object", "category"):
            values = draw(st.lists(st.one_of(st.none(), WIDE if utf8 else TEXT), min_size=rows, max_size=rows))
            if kind == "category":
                extra = draw(st.lists(TEXT, max_size=2))   # categories no row uses
                data[name] = pd.Categorical(values, categories=list(dict.fromkeys(
                    [v for v in values if v is not None] + extra)))
            else:
                data[name] = pd.Series(values, dtype="str" if kind == "arrow" else object)
        elif kind == "float":
            values = draw(st.lists(FLOATS, min_size=rows, max_size=rows))
            data[name] = np.array(values, dtype=float)
            missing = [i for i, v in enumerate(values) if np.isnan(v)]
            if missing:
                special[name] = draw(st.dictionaries(st.sampled_from(missing), st.sampled_from(list("_AZ"))))
        elif kind == "int":
            data[name] = np.array(draw(st.lists(st.integers(-2**53, 2**53), min_size=rows, max_size=rows)))
        else:
            seconds = draw(st.lists(st.one_of(st.none(), st.integers(-10**10, 10**10)), min_size=rows,
                                    max_size=rows))
            data[name] = pd.Series([None if s is None else np.datetime64(s, "s") for s in seconds],
                                   dtype="datetime64[s]")
    frame = pd.DataFrame(data)
    frame["KEY"] = np.arange(rows, dtype=float)   # never a blank last row (v5 cannot keep one)
    return frame, special, utf8


def _write(frame, special, utf8, path, *, kernel, pwrite, chunk, remember=False) -> bytes:
    with ExitStack() as stack:
        stack.enter_context(mock.patch.object(_native, "kernel", kernel))
        stack.enter_context(mock.patch.object(_writer, "_PWRITE", pwrite))
        stack.enter_context(mock.patch.object(_writer, "_CHUNK_BYTES", chunk))
        stack.enter_context(mock.patch.object(_writer, "_PARALLEL_CELLS", 0))
        write_xpt(frame, path, special_missing=special, profile="utf8" if utf8 else "fda",
                  created=pd.Timestamp("2026-01-01").to_pydatetime(), remember_sha256=remember)
    data = path.read_bytes()
    # the digest the writer made as the bytes went out (in order, whichever threads wrote
    # which chunk) is the file's: the manifest takes it instead of reading the file back;
    # a write that was not asked to hash leaves nothing to trust for the new file
    assert pagecache.known_digest(path) == (hashlib.sha256(data).hexdigest() if remember else None)
    return data


@needs_kernel
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frames(), st.integers(1, 600), st.booleans())
def test_kernel_and_numpy_write_the_same_file(tmp_path, case, chunk, pwrite):
    frame, special, utf8 = case
    path = tmp_path / "ae.xpt"
    expected = _write(frame, special, utf8, path, kernel=None, pwrite=False, chunk=1 << 21)
    assert _write(frame, special, utf8, path, kernel=KERNEL, pwrite=pwrite, chunk=chunk, remember=True) == expected
    assert _write(frame, special, utf8, path, kernel=None, pwrite=not pwrite, chunk=chunk, remember=True) == expected


def test_threads_write_every_chunk_in_place(tmp_path):
    """Many chunks filled by two threads and written at their offsets give the bytes of one
    thread writing them in order (whichever fill the machine has)."""
    rng = np.random.default_rng(7)
    rows = 5_000
    frame = pd.DataFrame({
        "USUBJID": pd.Series([f"S-{i // 3:05d}" for i in range(rows)], dtype="str"),
        "AETERM": pd.Series(rng.choice(["HEADACHE", "NAUSEA", None, "APPLICATION SITE PAIN"], rows), dtype="str"),
        "AESEV": pd.Categorical(rng.choice(["MILD", "MODERATE", "SEVERE"], rows)),
        "AESTDY": np.where(rng.random(rows) < 0.1, np.nan, rng.integers(1, 400, rows)),
    })
    path = tmp_path / "ae.xpt"
    kernel = _native.kernel
    in_order = _write(frame, {}, False, path, kernel=kernel, pwrite=False, chunk=1 << 21)
    assert _write(frame, {}, False, path, kernel=kernel, pwrite=True, chunk=997) == in_order
    assert len(in_order) % 80 == 0
    back, _ = read_xpt(path)   # every row where it belongs: the frame written, read back
    assert back["USUBJID"].tolist() == frame["USUBJID"].tolist()
    assert back["AETERM"].tolist() == frame["AETERM"].fillna("").tolist()
    assert back["AESEV"].tolist() == frame["AESEV"].astype(str).tolist()
    np.testing.assert_array_equal(back["AESTDY"].to_numpy(), frame["AESTDY"].to_numpy())


def test_checks_in_two_threads_report_the_first_bad_column(tmp_path):
    """With the columns checked in two threads, the error is still the first bad column's."""
    from specs.errors import InputError

    frame = pd.DataFrame({"A": [1.0, 2.0], "B": ["ok", "caf\u00e9"], "C": [np.inf, 1.0], "D": ["x" * 201, "y"]})
    for cells in (0, 1 << 40):   # threads / one thread
        with mock.patch.object(_writer, "_PARALLEL_CELLS", cells), pytest.raises(InputError) as err:
            write_xpt(frame, tmp_path / "ae.xpt")
        assert err.value.column == "B" and err.value.row == 2 and "non-ASCII" in str(err.value)
        assert not list(tmp_path.iterdir())   # nothing written


def test_empty_and_single_row_frames_in_place(tmp_path):
    for rows in (0, 1):
        frame = pd.DataFrame({"USUBJID": pd.Series(["S-1"][:rows], dtype="str"), "AGE": [40.0][:rows]})
        in_order = _write(frame, {}, False, tmp_path / "dm.xpt", kernel=_native.kernel, pwrite=False, chunk=1 << 21)
        assert _write(frame, {}, False, tmp_path / "dm.xpt", kernel=None, pwrite=True, chunk=7) == in_order
        assert len(in_order) % 80 == 0
