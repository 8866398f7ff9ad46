"""The XPT reader: version 5 files (SAS TS-140) and, for convenience, version 8 files
(TS-140_2: long names in the NAMESTR rest area, LABELV8/LABELV9 records), strictly checked,
vectorised.

Every structural problem (wrong header, a file cut short, a NAMESTR that points outside
the row, an incomplete last observation) raises :class:`specs.errors.InputError` with the
byte offset where the file stops making sense; nothing loops on corrupt input.
"""
from __future__ import annotations

import mmap
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fileformats import _sasdates
from fileformats.xpt import _layout as L
from fileformats.xpt._ibm import ibm_to_ieee, missing_mask
from fileformats.xpt._meta import XptMetadata, XptVariable
from specs.errors import InputError

_PREFIX = b"HEADER RECORD*******"
_MEMBER_PREFIXES = (L.MEMBER_HEADER[:48], _PREFIX + b"MEMBV8  HEADER RECORD!!!!!!!")
_FALLBACK = "cp1252"


class _File:
    """The bytes of one file and error helpers that know its name. ``data`` is the file read
    whole, or (``mapped``) a read-only memory map, of which only the pages looked at are read."""

    def __init__(self, path: Path, data=None) -> None:
        self.path = path
        self.name = path.name
        if data is not None:
            self.data = data
            return
        try:
            self.data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read the file: {exc.strerror}", file=self.name) from None

    @classmethod
    @contextmanager
    def mapped(cls, path: Path):
        try:
            with open(path, "rb") as fh:
                data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if os.fstat(fh.fileno()).st_size else b""
        except OSError as exc:
            raise InputError(f"cannot read the file: {exc.strerror}", file=path.name) from None
        try:
            yield cls(path, data)
        finally:
            if isinstance(data, mmap.mmap):
                data.close()

    def fail(self, message: str, offset: int) -> InputError:
        return InputError(message, file=self.name, offset=offset)

    def record(self, index: int, what: str) -> bytes:
        start = index * L.RECORD
        if start + L.RECORD > len(self.data):
            raise self.fail(f"the file ends after {len(self.data)} bytes, before the {what} "
                            "(truncated)", start)
        return self.data[start:start + L.RECORD]


def _decode_ascii(raw: bytes) -> str:
    return raw.decode("ascii", errors="replace").rstrip()


@dataclass
class _RawVariable:
    """A NAMESTR as read (text fields decoded except the label), and where it sits."""

    ntype: int
    length: int
    number: int
    name: str
    label: bytes
    format: str
    format_length: int
    format_decimals: int
    justification: int
    informat: str
    informat_length: int
    informat_decimals: int
    position: int
    offset: int


def _parse_namestrs(f: _File, offset: int, count: int, size: int, version: int) -> list[_RawVariable]:
    """``count`` NAMESTR records of ``size`` bytes; v8 long names come from the rest area."""
    end = offset + count * size
    if end > len(f.data):
        raise f.fail(f"the file ends inside the NAMESTR records ({count} variables of {size} bytes "
                     "announced; truncated)", len(f.data))
    out = []
    for i in range(count):  # one record per variable, not per row
        start = offset + i * size
        raw = f.data[start:start + size].ljust(L.NAMESTR_LENGTH, b"\x00")
        ntype, _, length, number, name, label, form, fl, fd, fj, _, iform, ifl, ifd, pos, rest = \
            L.NAMESTR_STRUCT.unpack(raw)
        if ntype not in (1, 2):
            raise f.fail(f"variable {i + 1}: type {ntype} is neither 1 (numeric) nor 2 (character)",
                         start)
        if (ntype == 1 and not 2 <= length <= 8) or (ntype == 2 and not 1 <= length <= 32767):
            raise f.fail(f"variable {i + 1}: length {length} is impossible for a "
                         f"{'numeric' if ntype == 1 else 'character'} variable", start + 4)
        if version == 8 and rest[:32].strip(b" \x00"):
            name = rest[:32]
        try:
            text_name = name.decode("ascii").rstrip(" \x00")
        except UnicodeDecodeError:
            raise f.fail(f"variable {i + 1}: the name {name!r} is not ASCII", start + 8) from None
        if not text_name:
            raise f.fail(f"variable {i + 1} has an empty name", start + 8)
        out.append(_RawVariable(ntype, length, number, text_name, label, _decode_ascii(form), fl, fd,
                                fj, _decode_ascii(iform), ifl, ifd, pos, start))
    return out


def _check_positions(f: _File, variables: list[_RawVariable], row_length: int) -> None:
    """The variables' byte ranges must tile the observation row: no gap, no overlap.

    TS-140 stores each variable's offset in the row (``npos``); SAS writes them as the
    running sum of the lengths in NAMESTR order (every pilot file). Another order is read
    as the offsets say, but a gap or an overlap means the NAMESTRs and the data disagree,
    and reading on would give shifted values: the error names the offending ``npos``.
    """
    end = 0
    for v in sorted(variables, key=lambda v: (v.position, v.offset)):  # one per variable
        if v.position != end:
            gap = f"byte {end}" if v.position == end + 1 else f"bytes {end}-{v.position - 1}"
            what = (f"overlaps the last {end - v.position} byte(s) of the variable before it"
                    if v.position < end else f"leaves {gap} of the row to no variable")
            raise f.fail(f"variable {v.name}: position {v.position} (length {v.length}) {what}; "
                         f"the variables must tile the {row_length}-byte row (NAMESTR and data "
                         "disagree: corrupt file)", v.offset + 84)
        end = v.position + v.length


def _parse_long_labels(f: _File, header: int, variables: list[_RawVariable]) -> int:
    """Apply a v8 LABELV8/LABELV9 section (long names, labels, formats); returns its end.

    Each entry: big-endian shorts (variable index, name length, [format length, informat
    length,] label length) then the texts, entries back to back, blank-padded to 80.
    """
    record = f.data[header:header + L.RECORD]
    v9 = record[20:28].rstrip() == b"LABELV9"
    try:
        count = int(record[48:53])
    except ValueError:
        raise f.fail(f"the label count {record[48:53]!r} is not a number", header + 48) from None
    position = header + L.RECORD
    shorts = 5 if v9 else 3
    by_name = {v.name.upper(): v for v in variables}
    for _ in range(count):  # one entry per variable with a long label
        head = f.data[position:position + 2 * shorts]
        if len(head) < 2 * shorts:
            raise f.fail("the file ends inside the long-label records (truncated)", position)
        sizes = np.frombuffer(head, dtype=">u2").astype(int)
        index, lengths = int(sizes[0]), sizes[1:]
        texts, cursor = [], position + 2 * shorts
        for size in lengths:
            texts.append(f.data[cursor:cursor + size])
            cursor += int(size)
        if cursor > len(f.data):
            raise f.fail("the file ends inside the long-label records (truncated)", position)
        name = texts[0].decode("ascii", errors="strict").rstrip() if texts[0].isascii() else ""
        var = by_name.get(name.upper())
        if var is None and 0 <= index < len(variables):
            var = variables[index]
        if var is None:
            raise f.fail(f"a long label names variable {name!r} / index {index}, which does not "
                         "exist", position)
        var.name = name or var.name
        var.label = texts[-1]
        if v9 and texts[1].strip():
            var.format = texts[1].decode("ascii", errors="replace").strip()
        position = cursor
    return position + (-position % L.RECORD)


def _observation_count(f: _File, start: int, row_length: int, *, one_member: bool = True) -> int:
    """Number of rows in the observation section (which runs to the file end: one member only,
    checked unless ``one_member`` is false)."""
    data = f.data
    probe = -1
    for prefix in _MEMBER_PREFIXES if one_member else ():
        probe = data.find(prefix, start)
        while probe != -1 and (probe - start) % L.RECORD:
            probe = data.find(prefix, probe + 1)
        if probe != -1:
            break
    if probe != -1:
        raise f.fail("the file holds more than one dataset; FDA requires one dataset per file "
                     "and this reader reads single-dataset files only", probe)
    end = len(data)
    if row_length == 0:
        return 0
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
    return nobs


def _arrow_text(block: np.ndarray, width: int):
    """Strings of an ASCII/UTF-8 block via Arrow: one copy, then trimmed in C++."""
    import pyarrow as pa
    import pyarrow.compute as pc

    rows = len(block)
    raw = pa.py_buffer(np.ascontiguousarray(block))
    fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), rows, [None, raw])
    text = pc.cast(fixed, pa.large_binary()).cast(pa.large_string())  # validates UTF-8
    return pc.utf8_rtrim(text, characters=" \x00").to_pandas()


def _decode_column(block: np.ndarray, encoding: str | None, ascii_only: bool):
    """Strings of a character block (rows x width bytes), trailing blanks (and NULs) removed.

    ASCII and UTF-8 text goes through Arrow when it is installed (a pandas text column with
    no per-value Python work); other encodings through numpy's codec loop. ``ascii_only``:
    every byte of the block is below 0x80 (the caller has looked).
    """
    width = block.shape[1]
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
    return np.char.rstrip(text, " \x00").astype(object)  # np.char: numpy 1.26 and 2.x


def _character_columns(blocks: dict[str, np.ndarray], encoding: str | None, f: _File):
    """Decode every character column with one encoding for the whole file.

    With ``encoding=None``: ASCII if every byte is; else UTF-8 if every value decodes;
    else cp1252 (Windows Latin-1, e.g. ’ in the CDISC pilot's ts.xpt).
    """
    non_ascii = [name for name, block in blocks.items() if block.size and block.max() >= 0x80]  # once per column
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
            out[name] = _decode_column(block, chosen, name not in non_ascii)
        except (UnicodeDecodeError, ValueError) as exc:  # pyarrow raises ArrowInvalid (a ValueError)
            raise InputError(f"text is not valid {chosen} ({exc}); pass encoding= to read_xpt",
                             file=f.name, column=name) from None
    return out, chosen


def _numeric_column(block: np.ndarray, var: XptVariable, convert_dates: bool, f: _File):
    """Doubles (NaN for every missing value) and the special missing codes by row.

    With ``convert_dates`` and a date, datetime or time format, the numbers become datetime64/timedelta64; a number outside the span SAS handles (e.g. a
    datetime in seconds stored under DATE9.) is refused with its row, not turned into a date.
    """
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
    convert = var.temporal if convert_dates else None
    if convert is not None:
        _sasdates.check_range(values, convert, var.display_format, file=f.name, column=var.name,
                              advice="; read_xpt(..., convert_dates=False) reads the numbers "
                                     "as they are")
    if convert == "date":
        return _sasdates.sas_days_to_datetime64(values), special
    if convert == "datetime":
        return _sasdates.sas_seconds_to_datetime64(values), special
    if convert == "time":
        return _sasdates.sas_seconds_to_timedelta64(values), special
    return values, special


def _version(f: _File) -> int:
    """5 for ``LIBRARY``, 8 for ``LIBV8``; anything else is not a transport file."""
    first = f.record(0, "library header")
    if first[:48] == L.LIBRARY_HEADER[:48]:
        return 5
    if first[:48] == L.LIBRARY_HEADER_V8[:48]:
        return 8
    raise f.fail("not a SAS XPORT file: the library header record is missing", 0)


_HEADER_NAMES = {5: {"member": b"MEMBER", "descriptor": b"DSCRPTR", "namestr": b"NAMESTR",
                     "obs": b"OBS"},
                 8: {"member": b"MEMBV8", "descriptor": b"DSCPTV8", "namestr": b"NAMSTV8",
                     "obs": b"OBSV8"}}


def _header_name(f: _File, index: int, expected: bytes, what: str) -> bytes:
    record = f.record(index, what)
    if not record.startswith(_PREFIX) or record[28:48] != b"HEADER RECORD!!!!!!!" \
            or record[20:28].rstrip() != expected:
        raise f.fail(f"expected the {what} ({expected.decode()}) here, found {record[:48]!r}",
                     index * L.RECORD)
    return record


@dataclass
class _Header:
    """What the header records say: the NAMESTRs, where the observations start, how long a
    row is, and the records the metadata is read from."""

    version: int
    variables: list[_RawVariable]
    start: int
    row_length: int
    real1: bytes
    real2: bytes
    data2: bytes
    dataset: bytes


def _read_header(f: _File) -> _Header:
    if len(f.data) % L.RECORD:
        whole = len(f.data) - len(f.data) % L.RECORD
        raise f.fail(f"the file is {len(f.data)} bytes, not a whole number of 80-byte records "
                     "(truncated or corrupt)", whole)
    version = _version(f)
    names = _HEADER_NAMES[version]
    real1 = f.record(1, "first real header")
    if not real1.startswith(b"SAS     SAS     SASLIB  "):
        raise f.fail("the first real header does not start with 'SAS     SAS     SASLIB'", 80)
    real2 = f.record(2, "second real header")
    member = _header_name(f, 3, names["member"], "member header")
    try:
        namestr_size = int(member[74:78])
    except ValueError:
        raise f.fail(f"the member header's NAMESTR length {member[74:78]!r} is not a number",
                     3 * 80 + 74) from None
    if namestr_size not in (136, 140):
        raise f.fail(f"NAMESTR length {namestr_size} is neither 140 nor 136", 3 * 80 + 74)
    _header_name(f, 4, names["descriptor"], "descriptor header")
    data1 = f.record(5, "member data record")
    if not data1.startswith(b"SAS     "):
        raise f.fail("the member data record does not start with 'SAS'", 5 * 80)
    dataset = data1[8:40] if data1[40:48] == b"SASDATA " else data1[8:16]  # v8: 32-byte name
    data2 = f.record(6, "second member data record")
    count_record = _header_name(f, 7, names["namestr"], "NAMESTR header")
    try:
        count = int(count_record[53:58])
    except ValueError:
        raise f.fail(f"the variable count {count_record[53:58]!r} is not a number", 7 * 80 + 53) from None
    raw = _parse_namestrs(f, 8 * L.RECORD, count, namestr_size, version)
    header = 8 * L.RECORD + count * namestr_size
    header += -header % L.RECORD
    if version == 8 and f.record(header // L.RECORD, "OBS header")[20:28].rstrip() in (b"LABELV8",
                                                                                     b"LABELV9"):
        header = _parse_long_labels(f, header, raw)
    _header_name(f, header // L.RECORD, names["obs"], "OBS header")
    start = header + L.RECORD
    row_length = sum(v.length for v in raw)
    _check_positions(f, raw, row_length)
    if len({v.name for v in raw}) != len(raw):
        raise f.fail("two variables have the same name", 8 * L.RECORD)
    return _Header(version, raw, start, row_length, real1, real2, data2, dataset)


def read_xpt_metadata(path: str | os.PathLike) -> XptMetadata:
    """What the headers of an XPT file say (names, labels, types, lengths, formats, dataset
    name and label, row count), reading the header records and the last record only (the
    file is memory-mapped): what the define cross-check needs of a file the build has just
    written, without reading its observations again. Labels are decoded as ASCII, else
    UTF-8, else cp1252 (the file's text is not looked at)."""
    with _File.mapped(Path(path)) as f:
        header = _read_header(f)
        nobs = _observation_count(f, header.start, header.row_length, one_member=False)
        return _metadata(header, _labels([v.label for v in header.variables] + [header.data2[32:72]], "ascii", f),
                         "ascii", nobs, {})


def read_xpt(path: str | os.PathLike, *, encoding: str | None = None,
             convert_dates: bool = True) -> tuple[pd.DataFrame, XptMetadata]:
    """Read a SAS XPORT file into a DataFrame and its :class:`XptMetadata`.

    Version 5 is what the FDA accepts; version 8 files (e.g. pyreadstat's default) are read
    too, with their long names and labels (``meta.version`` says which).

    * Character values lose their trailing blanks (SAS pads with them); a blank value is
      ``""``, as in SAS and pyreadstat. Text is decoded as ASCII when it is, else UTF-8
      when every value decodes, else cp1252; ``encoding=`` forces one. The encoding used
      is ``meta.encoding``.
    * Numerics are float64; every missing value (``.``, ``._``, ``.A``-``.Z``) is NaN and
      the special codes are kept in ``meta.special_missing`` (column -> Series of codes
      by 0-based row position) so that writing back is byte-exact.
    * With ``convert_dates`` (default), numerics with a date format become datetime64[us]
      (midnight), with a datetime format datetime64[us] and with a time format
      timedelta64[us], rounded to the microsecond (see :mod:`specs.formats`).
      A number under such a format that SAS cannot hold as one (a date outside 1582 to
      19,900, e.g. a datetime in seconds stored under DATE9.) is an :class:`InputError`
      naming the file, variable and row; ``convert_dates=False`` reads it as a number.
    * v5 stores no row count: rows are the observation bytes divided by the row length;
      with rows under 80 bytes, trailing all-blank rows inside the last 80-byte record
      are padding and dropped (as SAS and pandas do).
    """
    f = _File(Path(path))
    header = _read_header(f)
    raw, start, row_length = header.variables, header.start, header.row_length
    nobs = _observation_count(f, start, row_length)
    matrix = np.frombuffer(f.data, dtype=np.uint8, count=nobs * row_length,
                           offset=start).reshape(nobs, row_length)
    blocks = {v.name: matrix[:, v.position:v.position + v.length] for v in raw}
    texts, chosen = _character_columns({v.name: blocks[v.name] for v in raw if v.ntype == 2},
                                       encoding, f)
    labels = _labels([v.label for v in raw] + [header.data2[32:72]], chosen, f)

    columns, special = {}, {}
    meta = _metadata(header, labels, chosen, nobs, special)
    for v, var in zip(raw, meta.variables):
        if v.ntype == 2:
            columns[v.name] = texts[v.name]
            continue
        values, codes = _numeric_column(blocks[v.name], var, convert_dates, f)
        columns[v.name] = pd.Series(values, copy=False)
        if codes is not None:
            special[v.name] = codes
    return pd.DataFrame(columns), meta


def _metadata(header: _Header, labels: list[str], encoding: str, nobs: int, special: dict) -> XptMetadata:
    variables = [XptVariable(v.name, label, "numeric" if v.ntype == 1 else "character", v.length, v.number,
                             v.position, v.format, v.format_length, v.format_decimals, v.informat,
                             v.informat_length, v.informat_decimals, v.justification)
                 for v, label in zip(header.variables, labels)]
    real1, real2, data2 = header.real1, header.real2, header.data2
    return XptMetadata(
        name=_decode_ascii(header.dataset), label=labels[-1], variables=variables,
        created=L.parse_timestamp(real1[64:80]), modified=L.parse_timestamp(real2[:16]),
        sas_version=_decode_ascii(real1[24:32]), os_name=_decode_ascii(real1[32:40]),
        dataset_type=_decode_ascii(data2[72:80]), version=header.version, encoding=encoding, nobs=nobs,
        special_missing=special)


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
