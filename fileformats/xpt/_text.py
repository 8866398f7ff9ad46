"""Character data for XPT: profile rules, checks with the first offending row, and the
vectorised encoders that lay blank-padded values into observation records.

Every value is checked against the limits before anything is written (nothing is ever
truncated), then an encoder fills the column's bytes chunk by chunk, without a Python loop
over rows:

* :class:`ArrowEncoder` / :class:`PaddedEncoder` — the main path (pyarrow is a project
  dependency and pandas 3 stores text in Arrow; object columns are converted once). The
  UTF-8 buffer is checked in place: byte lengths from the offsets, ASCII and NUL from the
  bytes. Each chunk is blank-padded with ``ascii_rpad`` as it is written, so no
  column-sized copy is made; when every value already has the full width the rows are
  read straight from the Arrow buffer. Non-ASCII text under the ``utf8`` profile takes the
  general path below (``ascii_rpad`` counts characters, XPT counts bytes).
* :class:`TableEncoder` — categoricals (and, without pyarrow, repeating text): the
  distinct values are encoded once into a ``(k + 1, width)`` table of blank-padded bytes
  (the last row blank, for missing values) and rows are gathered by their codes.
* :class:`FlatEncoder` — without pyarrow, or for non-ASCII text: all values are joined
  once with ``width`` blanks between them, so row ``i`` is the ``width``-byte window at
  its offset, already followed by blanks.

The general path reads every Python string a fixed number of times in C (``len``,
``str.join``, ``str.encode``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from operator import methodcaller

import numpy as np
import pandas as pd

from fileformats.xpt import _native
from specs.columns import utf8_buffers, utf8_bytes
from specs.errors import InputError
from specs.model import is_sas_name

#: XPT v5 limits (SAS TS-140; FDA sdTCG) in bytes.
MAX_NAME = 8
MAX_LABEL = 40
MAX_VALUE = 200

_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_FDA_ASCII = ("FDA requires ASCII (profile='fda'; use profile='utf8', or trialpack convert --profile "
              "utf8, where the agency accepts UTF-8)")


@dataclass(frozen=True)
class Profile:
    """Agency rules for text: ``fda`` is ASCII only; ``utf8`` allows any text whose encoded
    bytes fit the same byte limits (as PMDA/NMPA accept), in UTF-8 or another encoding."""

    name: str
    encoding: str
    ascii_only: bool


def resolve_profile(profile: str, encoding: str | None) -> Profile:
    if profile == "fda":
        if encoding not in (None, "ascii", "us-ascii"):
            raise InputError(f"profile 'fda' writes ASCII only; encoding={encoding!r} needs profile='utf8'")
        return Profile("fda", "ascii", True)
    if profile == "utf8":
        return Profile("utf8", encoding or "utf-8", False)
    raise InputError(f"unknown profile {profile!r}; use 'fda' (ASCII) or 'utf8'")


def describe_char(ch: str) -> str:
    return f"{ch!r} (U+{ord(ch):04X})"


def check_name(name: object, what: str, file: object = None) -> str:
    """SAS v5 / FDA names: 1-8 characters, upper-case letter first, then A-Z, 0-9, _."""
    if not is_sas_name(name):
        raise InputError(
            f"{what} {name!r} is not a valid XPT v5 name: 1-8 characters, an upper-case letter "
            "first, then only A-Z, 0-9 and _", file=file)
    return name


def encode_text(text: str, what: str, limit: int, profile: Profile, *, file: object = None,
                column: str | None = None) -> bytes:
    """Encode a label under the profile and check its byte length (nothing is truncated)."""
    if profile.ascii_only:
        bad = _NON_ASCII.search(text)
        if bad:
            raise InputError(
                f"{what} {text!r} has the non-ASCII character {describe_char(bad.group())} at "
                f"position {bad.start() + 1}; {_FDA_ASCII}",
                file=file, column=column)
    try:
        raw = text.encode(profile.encoding)
    except UnicodeEncodeError as exc:
        raise InputError(f"{what} {text!r} cannot be encoded as {profile.encoding}: {exc.reason} "
                         f"at position {exc.start + 1}", file=file, column=column) from None
    if len(raw) > limit:
        raise InputError(f"{what} {text!r} is {len(raw)} bytes; XPT v5 allows at most {limit} "
                         "(nothing is truncated: shorten it)", file=file, column=column)
    return raw


# -- encoders ------------------------------------------------------------------------
#
# ``fill(rows, position, start, stop)`` writes one column of rows ``start:stop`` into
# ``rows``, a chunk of records (uint8, one row per record), at byte ``position`` of each.
# The C kernel (:mod:`fileformats.xpt._native`) does it in one pass; without it numpy copies
# whole ``V<width>`` items through a view striding by the row length (many times faster
# than a 2-D byte copy with a short inner dimension).


def as_items(block: np.ndarray) -> np.ndarray:
    """A contiguous ``(n, width)`` uint8 block as a 1-D array of ``V<width>`` items."""
    block = np.ascontiguousarray(block)
    return block.view(f"V{block.shape[1]}").reshape(len(block))


def column_view(rows: np.ndarray, position: int, width: int) -> np.ndarray:
    """The ``V<width>`` items at byte ``position`` of each row of a record chunk."""
    return np.ndarray((rows.shape[0],), dtype=f"V{width}", buffer=rows, offset=position,
                      strides=(rows.shape[1],))


class TableEncoder:
    """Rows gathered from a table of distinct encoded values by integer codes (-1 = blank)."""

    def __init__(self, codes: np.ndarray, table: np.ndarray) -> None:
        self.codes = np.ascontiguousarray(codes)
        self.width = table.shape[1]
        self.table = np.ascontiguousarray(table)
        self.items = as_items(self.table)

    def fill(self, rows: np.ndarray, position: int, start: int, stop: int) -> None:
        if _native.kernel:
            _native.kernel.put_items(rows, position, rows.shape[1], self.width, self.table, self.codes,
                                     self.codes.itemsize, False, start, stop)
            return
        column_view(rows, position, self.width)[: stop - start] = self.items[self.codes[start:stop]]


class PaddedEncoder:
    """Rows are items of one ``(n, width)`` block of blank-padded bytes."""

    def __init__(self, block: np.ndarray) -> None:
        self.width = block.shape[1]
        self.block = np.ascontiguousarray(block)
        self.items = as_items(self.block)

    def fill(self, rows: np.ndarray, position: int, start: int, stop: int) -> None:
        if _native.kernel:
            _native.kernel.put_items(rows, position, rows.shape[1], self.width, self.block, None, 8,
                                     False, start, stop)
            return
        column_view(rows, position, self.width)[: stop - start] = self.items[start:stop]


class ArrowEncoder:
    """Rows blank-padded chunk by chunk from an ASCII Arrow string array (a null is blank:
    filled chunk by chunk too, so the column is never copied whole)."""

    def __init__(self, array, width: int) -> None:
        self.array = array
        self.width = width
        self.offsets, self.data = utf8_buffers(array)
        self.valid = (None if not array.null_count else
                      np.asarray(array.is_valid().to_numpy(zero_copy_only=False), dtype=np.uint8))

    def fill(self, rows: np.ndarray, position: int, start: int, stop: int) -> None:
        if _native.kernel:
            _native.kernel.put_text(rows, position, rows.shape[1], self.width, self.offsets,
                                    self.offsets.itemsize, self.data, self.valid, start, stop)
            return
        _, pc = _arrow()
        chunk = self.array.slice(start, stop - start)
        if chunk.null_count:
            chunk = pc.fill_null(chunk, "")
        padded = pc.ascii_rpad(chunk, width=self.width, padding=" ")
        column_view(rows, position, self.width)[: stop - start] = np.frombuffer(
            utf8_bytes(padded), dtype=f"V{self.width}")


class FlatEncoder:
    """Rows as ``width``-byte windows into one buffer of values separated by ``width`` blanks."""

    def __init__(self, flat: np.ndarray, starts: np.ndarray, width: int) -> None:
        windows = len(flat) - width + 1
        self.flat = np.ascontiguousarray(flat)
        self.items = np.ndarray((max(windows, 0),), dtype=f"V{width}", buffer=self.flat, strides=(1,))
        self.starts = np.ascontiguousarray(starts, dtype=np.int64)
        self.width = width

    def fill(self, rows: np.ndarray, position: int, start: int, stop: int) -> None:
        if _native.kernel:
            _native.kernel.put_items(rows, position, rows.shape[1], self.width, self.flat, self.starts,
                                     8, True, start, stop)
            return
        column_view(rows, position, self.width)[: stop - start] = self.items[self.starts[start:stop]]


# -- building encoders -----------------------------------------------------------------


@dataclass
class _Encoded:
    """Distinct or all values encoded: byte lengths and the blank-separated buffer maker."""

    lengths: np.ndarray          # bytes per value
    pieces: object               # str (ASCII) or list[bytes] to join


def _locate_non_str(values: np.ndarray) -> int:
    kinds = np.fromiter(map(type, values), dtype=object, count=len(values))
    return int(np.flatnonzero(kinds != str)[0])


def _encode_values(values: np.ndarray, profile: Profile, row_of, column: str, file) -> _Encoded:
    """Lengths in bytes and the pieces of a column's (or its distinct) values.

    ``row_of(i)`` maps an index into ``values`` to the 1-based row reported in errors.
    """
    try:
        char_lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
        joined = "".join(values)
    except TypeError:
        i = _locate_non_str(values)
        raise InputError(f"value {values[i]!r} ({type(values[i]).__name__}) in a character column; "
                         "every value must be text or missing", file=file, row=row_of(i),
                         column=column) from None
    if "\x00" in joined:
        i = _index_of_char(char_lengths, joined.index("\x00"))
        raise InputError("value contains a NUL character, which XPT cannot store",
                         file=file, row=row_of(i), column=column)
    if joined.isascii():
        return _Encoded(char_lengths, values)
    if profile.ascii_only:
        bad = _NON_ASCII.search(joined)
        i = _index_of_char(char_lengths, bad.start())
        position = bad.start() - int(char_lengths[:i].sum())
        raise InputError(
            f"non-ASCII character {describe_char(bad.group())} at position {position + 1} of "
            f"{values[i]!r}; {_FDA_ASCII}", file=file, row=row_of(i), column=column)
    try:
        encoded = list(map(methodcaller("encode", profile.encoding), values))
    except UnicodeEncodeError:
        for i, value in enumerate(values):  # error path only: find the row that fails
            try:
                value.encode(profile.encoding)
            except UnicodeEncodeError as exc:
                raise InputError(
                    f"character {describe_char(value[exc.start])} of {value!r} cannot be encoded "
                    f"as {profile.encoding}", file=file, row=row_of(i), column=column) from None
        raise
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    return _Encoded(lengths, encoded)


def _index_of_char(char_lengths: np.ndarray, offset: int) -> int:
    """Index of the value holding character ``offset`` of the values joined without separators."""
    return int(np.searchsorted(np.cumsum(char_lengths), offset, side="right"))


def _flat_buffer(encoded: _Encoded, width: int, encoding: str) -> tuple[np.ndarray, np.ndarray]:
    """Values joined with ``width`` blanks between and after them, and each value's offset."""
    if isinstance(encoded.pieces, np.ndarray):  # ASCII str values
        raw = ((" " * width).join(encoded.pieces) + " " * width).encode("ascii")
    else:
        raw = (b" " * width).join(encoded.pieces) + b" " * width
    flat = np.frombuffer(raw, dtype=np.uint8)
    step = encoded.lengths + width
    starts = np.cumsum(step) - step
    return flat, starts


def _check_lengths(lengths: np.ndarray, limit: int, why: str, row_of, column: str, file,
                   values: np.ndarray, longest: int | None = None) -> None:
    """Refuse the first value longer than ``limit`` bytes (``longest``: the lengths' maximum,
    if already known; the rows are searched only when it is over the limit)."""
    if len(lengths) and (int(lengths.max()) if longest is None else longest) > limit:
        i = int(np.argmax(lengths > limit))
        raise InputError(f"value {values[i]!r} is {int(lengths[i])} bytes, {why} (nothing is "
                         "truncated: shorten the value or fix the spec)", file=file, row=row_of(i),
                         column=column)


def check_spec_length(lengths: np.ndarray, spec_length: int, row_of, column: str, file,
                      values, longest: int | None = None) -> None:
    """Refuse a value longer (in bytes) than the spec length of its column (the XPT and
    Dataset-JSON writers). ``row_of(i)``: the 1-based row reported for ``values[i]``."""
    _check_lengths(lengths, spec_length, f"longer than the spec length {spec_length}", row_of,
                   column, file, values, longest)


def _width(lengths: np.ndarray, spec_length: int | None, row_of, column: str, file,
           values: np.ndarray) -> int:
    longest = int(lengths.max()) if len(lengths) else 0
    _check_lengths(lengths, MAX_VALUE, f"over the XPT v5 limit of {MAX_VALUE}", row_of, column, file,
                   values, longest)
    if spec_length is not None:
        check_spec_length(lengths, spec_length, row_of, column, file, values, longest)
        return spec_length
    return max(longest, 1)


def _from_distinct(codes: np.ndarray, uniques: np.ndarray, used: np.ndarray | None,
                   spec_length: int | None, profile: Profile, column: str, file):
    """TableEncoder over distinct values (``used`` masks the ones that occur)."""
    def row_of(i: int) -> int:
        return int(np.argmax(codes == i)) + 1

    if used is not None and not used.all():
        uniques = np.where(used, uniques, "")
    encoded = _encode_values(uniques, profile, row_of, column, file)
    width = _width(encoded.lengths, spec_length, row_of, column, file, uniques)
    flat, starts = _flat_buffer(encoded, width, profile.encoding)
    table = np.full((len(uniques) + 1, width), 0x20, dtype=np.uint8)
    if len(uniques):
        table[:-1] = np.lib.stride_tricks.sliding_window_view(flat, width)[starts]
    return TableEncoder(np.asarray(codes, dtype=np.int32 if len(uniques) < 2**31 else np.intp), table)


def _from_all(values: np.ndarray, spec_length: int | None, profile: Profile, column: str, file):
    def row_of(i: int) -> int:
        return i + 1

    missing = pd.isna(values)
    if missing.any():
        values = values.copy()
        values[missing] = ""
    encoded = _encode_values(values, profile, row_of, column, file)
    width = _width(encoded.lengths, spec_length, row_of, column, file, values)
    flat, starts = _flat_buffer(encoded, width, profile.encoding)
    return FlatEncoder(flat, starts, width)


# -- the Arrow path -----------------------------------------------------------------


def _arrow():
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:  # pragma: no cover - pyarrow is a dependency; object path still works
        return None, None
    return pa, pc


def _to_arrow(series: pd.Series, column: str, file):
    """The column as a pyarrow (large) string array: zero-copy for Arrow-backed text."""
    pa, _ = _arrow()
    try:
        array = pa.array(series.array) if not isinstance(series.dtype, np.dtype) \
            else pa.array(series.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid, TypeError):
        values = series.to_numpy(dtype=object)
        values = np.where(pd.isna(values), "", values)
        i = _locate_non_str(values)
        raise InputError(f"value {values[i]!r} ({type(values[i]).__name__}) in a character column; "
                         "every value must be text or missing", file=file, row=i + 1,
                         column=column) from None
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        raise InputError(f"arrow column of type {array.type} in a character column; every value "
                         "must be text or missing", file=file, column=column)
    return array


class _ArrowValues:
    """Index access to an Arrow array's Python values, for error messages only."""

    def __init__(self, array) -> None:
        self.array = array

    def __getitem__(self, i: int):
        return self.array[int(i)].as_py()


def _first_true(mask) -> int:
    return int(np.argmax(np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)))


def _from_arrow(series: pd.Series, spec_length: int | None, profile: Profile, column: str, file):
    """PaddedEncoder of an ASCII column; non-ASCII text goes to the general path (utf8)."""
    pa, pc = _arrow()
    array = _to_arrow(series, column, file)   # nulls kept: they hold no bytes and are written blank
    raw = utf8_bytes(array)
    if len(raw) and raw.max() >= 0x80:
        if profile.ascii_only:
            i = _first_true(pc.invert(pc.string_is_ascii(array)))
            value = array[i].as_py()
            j, ch = next((j, c) for j, c in enumerate(value) if ord(c) >= 0x80)
            raise InputError(
                f"non-ASCII character {describe_char(ch)} at position {j + 1} of {value!r}; {_FDA_ASCII}",
                file=file, row=i + 1, column=column)
        return _from_all(pc.fill_null(array, "").to_numpy(zero_copy_only=False), spec_length, profile, column,
                         file)
    if len(raw) and raw.min() == 0:
        i = _first_true(pc.match_substring(array, "\x00"))
        raise InputError("value contains a NUL character, which XPT cannot store", file=file,
                         row=i + 1, column=column)
    offsets, _ = utf8_buffers(array)
    lengths = (np.diff(offsets) if not array.null_count else   # a null's offsets may span bytes
               pc.binary_length(array).fill_null(0).to_numpy(zero_copy_only=False))
    width = _width(lengths, spec_length, lambda i: i + 1, column, file, _ArrowValues(array))
    if len(array) and int(lengths.min()) == width and not array.null_count:  # no padding: rows are the buffer
        return PaddedEncoder(raw.reshape(len(array), width))
    return ArrowEncoder(array, width)


# -- choosing the path ------------------------------------------------------------------


_SAMPLE = 20_000
_DISTINCT_SHARE = 0.3


def char_encoder(series: pd.Series, spec_length: int | None, profile: Profile, column: str,
                 file=None):
    """The encoder of one character column; raises InputError on the first bad value."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy()
        uniques = series.cat.categories.to_numpy(dtype=object)
        used = np.bincount(codes[codes >= 0], minlength=len(uniques)) > 0
        return _from_distinct(codes, uniques, used, spec_length, profile, column, file)
    if _arrow()[0] is not None:
        return _from_arrow(series, spec_length, profile, column, file)
    values = series.to_numpy(dtype=object)
    sample = values[:: max(1, len(values) // _SAMPLE)]
    if len(sample) and len(dict.fromkeys(sample)) < _DISTINCT_SHARE * len(sample):
        codes, uniques = pd.factorize(values)
        return _from_distinct(codes, np.asarray(uniques, dtype=object), None, spec_length, profile,
                              column, file)
    return _from_all(values, spec_length, profile, column, file)
