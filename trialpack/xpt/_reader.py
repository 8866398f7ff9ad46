"""The XPT reader: version 5 files (SAS TS-140), strictly checked, vectorised.

Every structural problem (wrong header, a file cut short, a NAMESTR that points outside
the row, an incomplete last observation) raises :class:`specs.errors.InputError` with the
byte offset where the file stops making sense; nothing loops on corrupt input.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from specs.errors import InputError
from trialpack import _sasdates
from trialpack.xpt import _layout as L
from trialpack.xpt._ibm import ibm_to_ieee, missing_mask
from trialpack.xpt._meta import XptMetadata, XptVariable

_PREFIX = b"HEADER RECORD*******"
_MEMBER_PREFIX = L.MEMBER_HEADER[:48]
_V8_NAMES = (b"LIBV8", b"MEMBV8", b"DSCPTV8", b"NAMSTV8", b"OBSV8", b"LABELV8", b"LABELV9")
_FALLBACK = "cp1252"


class _File:
    """The bytes of one file and error helpers that know its name."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = path.name
        try:
            self.data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read the file: {exc.strerror}", file=self.name) from None

    def fail(self, message: str, offset: int) -> InputError:
        return InputError(message, file=self.name, offset=offset)

    def record(self, index: int, what: str) -> bytes:
        start = index * L.RECORD
        if start + L.RECORD > len(self.data):
            raise self.fail(f"the file ends after {len(self.data)} bytes, before the {what} "
                            "(truncated)", start)
        return self.data[start:start + L.RECORD]

    def expect_header(self, index: int, literal: bytes, what: str) -> bytes:
        record = self.record(index, what)
        if record[:48] != literal[:48]:
            raise self.fail(f"expected the {what} here, found {record[:48]!r}", index * L.RECORD)
        return record


def _decode_ascii(raw: bytes) -> str:
    return raw.decode("ascii", errors="replace").rstrip()


def _parse_namestrs(f: _File, offset: int, count: int, size: int) -> tuple[list, list]:
    """Raw NAMESTR fields and labels (bytes) of ``count`` records of ``size`` bytes."""
    end = offset + count * size
    if end > len(f.data):
        raise f.fail(f"the file ends inside the NAMESTR records ({count} variables of {size} bytes "
                     "announced; truncated)", len(f.data))
    fields, labels = [], []
    for i in range(count):  # one record per variable, not per row
        start = offset + i * size
        raw = f.data[start:start + size].ljust(L.NAMESTR_LENGTH, b"\x00")
        values = L.NAMESTR_STRUCT.unpack(raw)
        ntype, _, length, number, name, label, form, fl, fd, fj, _, iform, ifl, ifd, pos, _ = values
        if ntype not in (1, 2):
            raise f.fail(f"variable {i + 1}: type {ntype} is neither 1 (numeric) nor 2 (character)",
                         start)
        if (ntype == 1 and not 2 <= length <= 8) or (ntype == 2 and not 1 <= length <= 32767):
            raise f.fail(f"variable {i + 1}: length {length} is impossible for a "
                         f"{'numeric' if ntype == 1 else 'character'} variable", start + 4)
        try:
            text_name = name.decode("ascii").rstrip()
        except UnicodeDecodeError:
            raise f.fail(f"variable {i + 1}: the name {name!r} is not ASCII", start + 8) from None
        if not text_name:
            raise f.fail(f"variable {i + 1} has an empty name", start + 8)
        fields.append((ntype, length, number, text_name, _decode_ascii(form), fl, fd, fj,
                       _decode_ascii(iform), ifl, ifd, pos, start))
        labels.append(label)
    return fields, labels


def _observation_bounds(f: _File, start: int, row_length: int) -> tuple[int, int]:
    """Number of rows and end of the observation section (the file end: one member only)."""
    data = f.data
    probe = data.find(_MEMBER_PREFIX, start)
    while probe != -1 and (probe - start) % L.RECORD:
        probe = data.find(_MEMBER_PREFIX, probe + 1)
    if probe != -1:
        raise f.fail("the file holds more than one dataset; FDA requires one dataset per file "
                     "and this reader reads single-dataset files only", probe)
    end = len(data)
    if row_length == 0:
        return 0, end
    size = end - start
    nobs = size // row_length
    tail = data[start + nobs * row_length:end]
    if tail.strip(b" ") and tail.strip(b"\x00"):
        raise f.fail(f"the last observation is incomplete ({len(tail)} of {row_length} bytes): "
                     "the file is truncated or corrupt", start + nobs * row_length)
    first_ambiguous = -(-(size - (L.RECORD - 1)) // row_length) if size else 0
    if row_length < L.RECORD and nobs > first_ambiguous:
        rows = np.frombuffer(data, dtype=np.uint8, count=(nobs - first_ambiguous) * row_length,
                             offset=start + first_ambiguous * row_length)
        blank = (rows.reshape(-1, row_length) == 0x20).all(axis=1)
        trailing = len(blank) - (np.flatnonzero(~blank)[-1] + 1 if (~blank).any() else 0)
        nobs -= int(trailing)
    return nobs, end


def _arrow_text(block: np.ndarray, width: int):
    """Strings of an ASCII/UTF-8 block via Arrow: one copy, then trimmed in C++."""
    import pyarrow as pa
    import pyarrow.compute as pc

    rows = len(block)
    raw = pa.py_buffer(np.ascontiguousarray(block))
    fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), rows, [None, raw])
    text = pc.cast(fixed, pa.large_binary()).cast(pa.large_string())  # validates UTF-8
    return pc.utf8_rtrim(text, characters=" \x00").to_pandas()


def _decode_column(block: np.ndarray, encoding: str | None):
    """Strings of a character block (rows x width bytes), trailing blanks (and NULs) removed.

    ASCII and UTF-8 text goes through Arrow when it is installed (a pandas text column with
    no per-value Python work); other encodings through numpy's codec loop.
    """
    width = block.shape[1]
    ascii_only = not block.size or block.max() < 0x80
    if ascii_only or encoding == "utf-8":
        try:
            return _arrow_text(block, width)
        except ImportError:  # pragma: no cover - pyarrow is a dependency
            pass
    fixed = np.ascontiguousarray(block).view(f"S{width}").ravel()
    if ascii_only:
        text = fixed.astype(f"U{width}")
    elif encoding is None:
        raise UnicodeDecodeError("ascii", b"", 0, 1, "non-ASCII bytes")
    else:
        text = np.char.decode(fixed, encoding)
    return np.strings.rstrip(text, " \x00").astype(object)


def _character_columns(blocks: dict[str, np.ndarray], encoding: str | None, f: _File):
    """Decode every character column with one encoding for the whole file.

    With ``encoding=None``: ASCII if every byte is; else UTF-8 if every value decodes;
    else cp1252 (Windows Latin-1, e.g. ’ in the CDISC pilot's ts.xpt).
    """
    non_ascii = [name for name, block in blocks.items() if block.size and block.max() >= 0x80]
    if encoding is not None:
        chosen = encoding
    elif not non_ascii:
        chosen = "ascii"
    else:
        chosen = _FALLBACK
        try:
            for name in non_ascii:
                np.char.decode(np.ascontiguousarray(blocks[name]).view(f"S{blocks[name].shape[1]}"),
                               "utf-8")
            chosen = "utf-8"
        except UnicodeDecodeError:
            pass
    out = {}
    for name, block in blocks.items():
        try:
            out[name] = _decode_column(block, chosen)
        except (UnicodeDecodeError, ValueError) as exc:  # pyarrow raises ArrowInvalid (a ValueError)
            raise InputError(f"text is not valid {chosen} ({exc}); pass encoding= to read_xpt",
                             file=f.name, column=name) from None
    return out, chosen


def _numeric_column(block: np.ndarray, convert: str | None):
    """Doubles (NaN for every missing value) and the special missing codes by row."""
    rows, width = block.shape
    if width == 8:
        ibm = np.ascontiguousarray(block).view(">u8").ravel().astype(np.uint64)
    else:  # truncated numerics: the first ``width`` bytes of the double
        full = np.zeros((rows, 8), dtype=np.uint8)
        full[:, :width] = block
        ibm = full.view(">u8").ravel().astype(np.uint64)
    missing = missing_mask(ibm)
    values = ibm_to_ieee(ibm)
    values[missing] = np.nan
    first = (ibm >> np.uint64(56)).astype(np.uint8)
    special_rows = np.flatnonzero(missing & (first != ord(".")))
    special = None
    if len(special_rows):
        special = pd.Series(first[special_rows].view("S1").astype("U1"), index=special_rows,
                            dtype=object)
    if convert == "date":
        return _sasdates.sas_days_to_datetime64(values), special
    if convert == "datetime":
        return _sasdates.sas_seconds_to_datetime64(values), special
    if convert == "time":
        return _sasdates.sas_seconds_to_timedelta64(values), special
    return values, special


def _check_library_header(f: _File) -> None:
    first = f.record(0, "library header")
    if first[:48] == L.LIBRARY_HEADER[:48]:
        return
    if first.startswith(_PREFIX) and first[20:28].rstrip() in _V8_NAMES:
        raise f.fail("this is a SAS transport version 8/9 file (LIBV8); FDA requires version 5 "
                     "and this reader reads version 5 only", 0)
    raise f.fail("not a SAS XPORT file: the library header record is missing", 0)


def read_xpt(path: str | os.PathLike, *, encoding: str | None = None,
             convert_dates: bool = True) -> tuple[pd.DataFrame, XptMetadata]:
    """Read a SAS XPORT version 5 file into a DataFrame and its :class:`XptMetadata`.

    * Character values lose their trailing blanks (SAS pads with them); a blank value is
      ``""``, as in SAS and pyreadstat. Text is decoded as ASCII when it is, else UTF-8
      when every value decodes, else cp1252; ``encoding=`` forces one. The encoding used
      is ``meta.encoding``.
    * Numerics are float64; every missing value (``.``, ``._``, ``.A``-``.Z``) is NaN and
      the special codes are kept in ``meta.special_missing`` (column -> Series of codes
      by 0-based row position) so that writing back is byte-exact.
    * With ``convert_dates`` (default), numerics with a date format become datetime64[us]
      (midnight), with a datetime format datetime64[us] and with a time format
      timedelta64[us], rounded to the microsecond (see :mod:`trialpack.xpt._formats`).
    * v5 stores no row count: rows are the observation bytes divided by the row length;
      with rows under 80 bytes, trailing all-blank rows inside the last 80-byte record
      are padding and dropped (as SAS and pandas do).
    """
    f = _File(Path(path))
    if len(f.data) % L.RECORD:
        whole = len(f.data) - len(f.data) % L.RECORD
        raise f.fail(f"the file is {len(f.data)} bytes, not a whole number of 80-byte records "
                     "(truncated or corrupt)", whole)
    _check_library_header(f)
    real1 = f.record(1, "first real header")
    if not real1.startswith(b"SAS     SAS     SASLIB  "):
        raise f.fail("the first real header does not start with 'SAS     SAS     SASLIB'", 80)
    real2 = f.record(2, "second real header")
    member = f.expect_header(3, L.MEMBER_HEADER, "member header")
    try:
        namestr_size = int(member[74:78])
    except ValueError:
        raise f.fail(f"the member header's NAMESTR length {member[74:78]!r} is not a number",
                     3 * 80 + 74) from None
    if namestr_size not in (136, 140):
        raise f.fail(f"NAMESTR length {namestr_size} is neither 140 nor 136", 3 * 80 + 74)
    f.expect_header(4, L.DESCRIPTOR_HEADER, "descriptor header")
    data1 = f.record(5, "member data record")
    if not data1.startswith(b"SAS     "):
        raise f.fail("the member data record does not start with 'SAS'", 5 * 80)
    data2 = f.record(6, "second member data record")
    count_record = f.expect_header(7, L.namestr_header(0), "NAMESTR header")
    try:
        count = int(count_record[54:58])
    except ValueError:
        raise f.fail(f"the variable count {count_record[54:58]!r} is not a number", 7 * 80 + 54) from None
    fields, raw_labels = _parse_namestrs(f, 8 * L.RECORD, count, namestr_size)
    obs_header = 8 * L.RECORD + count * namestr_size
    obs_header += -obs_header % L.RECORD
    f.expect_header(obs_header // L.RECORD, L.OBS_HEADER, "OBS header")
    start = obs_header + L.RECORD
    row_length = sum(field[1] for field in fields)
    for field in fields:
        if not 0 <= field[11] <= row_length - field[1]:
            raise f.fail(f"variable {field[3]}: position {field[11]} and length {field[1]} lie "
                         f"outside the {row_length}-byte row", field[12] + 84)
    nobs, _ = _observation_bounds(f, start, row_length)
    matrix = np.frombuffer(f.data, dtype=np.uint8, count=nobs * row_length,
                           offset=start).reshape(nobs, row_length)

    variables = []
    char_blocks: dict[str, np.ndarray] = {}
    for ntype, length, number, name, form, fl, fd, fj, iform, ifl, ifd, pos, _ in fields:
        block = matrix[:, pos:pos + length]
        if ntype == 2:
            char_blocks[name] = block
    texts, chosen = _character_columns(char_blocks, encoding, f)
    labels = _labels(raw_labels + [data2[32:72]], chosen, f)

    columns: dict[str, object] = {}
    special: dict[str, pd.Series] = {}
    for (ntype, length, number, name, form, fl, fd, fj, iform, ifl, ifd, pos, _), label in zip(fields, labels):
        var = XptVariable(name, label, "numeric" if ntype == 1 else "character", length, number,
                          pos, form, fl, fd, iform, ifl, ifd, fj)
        variables.append(var)
        if ntype == 2:
            columns[name] = texts[name]
            continue
        values, codes = _numeric_column(matrix[:, pos:pos + length],
                                        var.temporal if convert_dates else None)
        columns[name] = values
        if codes is not None:
            special[name] = codes
    if len(columns) != len(fields):
        raise f.fail("two variables have the same name", 8 * L.RECORD)
    frame = pd.DataFrame({name: values if isinstance(values, pd.Series) else pd.Series(values, copy=False)
                          for name, values in columns.items()})
    meta = XptMetadata(
        name=_decode_ascii(data1[8:16]), label=labels[-1], variables=variables,
        created=L.parse_timestamp(real1[64:80]), modified=L.parse_timestamp(real2[:16]),
        sas_version=_decode_ascii(real1[24:32]), os_name=_decode_ascii(real1[32:40]),
        dataset_type=_decode_ascii(data2[72:80]), version=5, encoding=chosen, nobs=nobs,
        special_missing=special)
    return frame, meta


def _labels(raw: list[bytes], encoding: str, f: _File) -> list[str]:
    """Variable labels and (last) the dataset label, in the file's text encoding."""
    out = []
    for i, label in enumerate(raw):
        if label.isascii():
            out.append(label.decode("ascii").rstrip())
            continue
        for candidate in ([encoding] if encoding != "ascii" else ["utf-8", _FALLBACK]):
            try:
                out.append(label.decode(candidate).rstrip())
                break
            except UnicodeDecodeError:
                continue
        else:
            raise f.fail(f"label {label!r} is not valid {encoding}; pass encoding= to read_xpt",
                         8 * L.RECORD if i < len(raw) - 1 else 6 * L.RECORD + 32)
    return out
