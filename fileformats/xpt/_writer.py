"""The XPT v5 writer: checks everything, then streams observations through a reused buffer."""
from __future__ import annotations

import hashlib
import os
import threading
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from fileformats import _sasdates, pagecache
from fileformats._variables import field, resolve_entries
from fileformats.xpt import _layout as L
from fileformats.xpt._numeric import NumericEncoder, check_numbers, numeric_values, special_codes
from fileformats.xpt._text import (MAX_LABEL, Profile, char_encoder, check_name, encode_text,
                                 resolve_profile)
from specs.errors import InputError
from specs.formats import format_text, parse_format, temporal_kind
from specs.model import NUMERIC_TYPES

#: FDA/ESG limit for one dataset file (sdTCG: 5 GB).
FIVE_GB = 5 * 1024 ** 3
_CHUNK_BYTES = 1 << 21
_WORKERS = 2  # threads checking columns and filling chunks (the C fill and numpy release the GIL)
_PARALLEL_CELLS = 1 << 20  # below this many values, threads cost more than they save
_PWRITE = hasattr(os, "pwrite")   # chunks written at their offsets by the filling threads
_PREADV = hasattr(os, "preadv")   # ... and read back in order to be hashed
_SPLIT_ADVICE = (
    "split it as the FDA Study Data Technical Conformance Guide describes: one file per --CAT "
    "value (e.g. lb.xpt -> lbch.xpt, lbhe.xpt) in a 'split' sub-folder, described in the "
    "reviewer's guide, with --SEQ unique across the pieces")


@dataclass
class _Var:
    """A variable to write: resolved metadata and its encoder."""

    name: str
    label: bytes
    numeric: bool
    length: int
    format: tuple[str, int, int]
    informat: tuple[str, int, int]
    justification: int
    encoder: Any


def _parsed_format(text: str | None, what: str, column: str, file) -> tuple[str, int, int] | None:
    if not text:
        return None
    try:
        return parse_format(text)
    except ValueError as exc:
        raise InputError(f"{what}: {exc}", file=file, column=column) from None


def _is_numeric(entry: Any, series: pd.Series) -> bool:
    data_type = field(entry, "data_type")
    if data_type is not None:
        return data_type in NUMERIC_TYPES
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return pd.api.types.is_numeric_dtype(dtype.categories.dtype)
    if pd.api.types.is_string_dtype(dtype) and dtype != object:
        return False
    if dtype == object:
        return pd.api.types.infer_dtype(series, skipna=True) not in ("string", "empty")
    return True


def _all_missing_numbers(series: pd.Series) -> bool:
    return pd.api.types.is_float_dtype(series.dtype) and bool(series.isna().all())


def _char_series(series: pd.Series, column: str, file) -> pd.Series:
    dtype = series.dtype
    if _all_missing_numbers(series):
        return pd.Series([None] * len(series), dtype=object)
    if isinstance(dtype, pd.CategoricalDtype) or dtype == object or pd.api.types.is_string_dtype(dtype):
        return series
    raise InputError(f"is a {dtype} column but the spec says character; convert the values to "
                     "text explicitly (nothing is converted silently)", file=file, column=column)


def _numeric_var(series: pd.Series, entry: Any, name: str, fmt, special, file):
    """Values (float64 SAS numbers), format and special missing codes of a numeric variable."""
    if field(entry, "length") not in (None, 8):
        raise InputError(f"numeric length {field(entry, 'length')} is not supported: XPT numerics "
                         "are written as 8-byte IBM doubles", file=file, column=name)
    values, fmt = numeric_values(series, fmt, name, file)
    if series.dtype.kind not in "iumM":   # integers (|x| <= 2**53, checked), datetimes and
        check_numbers(values, name, file)   # durations (whole microseconds at least) always fit
    kind = temporal_kind(fmt[0]) if fmt else None
    if kind:
        _sasdates.check_range(values, kind, format_text(*fmt), file=file, column=name)
    if field(entry, "data_type") == "integer":
        fraction = np.isfinite(values) & (values != np.round(values))
        if fraction.any():
            row = int(np.argmax(fraction))
            raise InputError(f"value {values[row].item()!r} is not an integer but the spec says "
                             "integer", file=file, column=name, row=row + 1)
    codes = special_codes(special.get(name) if special else None, values, name, file)
    return NumericEncoder(values, codes), fmt


def _char_var(series: pd.Series, entry: Any, name: str, profile: Profile, special, file):
    """The encoder of a character variable (its width is the length written)."""
    if special and len(special.get(name, ())):
        raise InputError("special missing values apply to numeric variables only", file=file,
                         column=name)
    spec_length = field(entry, "length")
    if spec_length is not None and not 1 <= int(spec_length) <= 200:
        raise InputError(f"spec length {spec_length} is outside 1..200, the XPT v5 range for "
                         "character variables", file=file, column=name)
    return char_encoder(_char_series(series, name, file),
                        None if spec_length is None else int(spec_length), profile, name, file)


def _prepare(df: pd.DataFrame, entry: Any, profile: Profile, special, file) -> _Var:
    """Check one variable's name, label, formats and values; build its encoder."""
    name = check_name(field(entry, "name"), "variable name", file)
    label = encode_text(field(entry, "label") or "", f"label of {name}", MAX_LABEL, profile,
                        file=file, column=name).ljust(MAX_LABEL)
    series = df[name]
    fmt = _parsed_format(field(entry, "display_format"), "display format", name, file)
    informat = _parsed_format(field(entry, "informat"), "informat", name, file) or ("", 0, 0)
    justification = int(field(entry, "justification", 0) or 0)
    if _is_numeric(entry, series):
        encoder, fmt = _numeric_var(series, entry, name, fmt, special, file)
    else:
        encoder = _char_var(series, entry, name, profile, special, file)
    return _Var(name, label, isinstance(encoder, NumericEncoder),
                encoder.width, fmt or ("", 0, 0), informat, justification, encoder)


def _prepare_all(df: pd.DataFrame, entries: list, profile: Profile, special, file) -> list[_Var]:
    """Check and encode every column; on large frames two threads share the columns (numpy
    and Arrow release the GIL). Errors are reported in column order: the first bad column."""
    if len(df) * len(entries) < _PARALLEL_CELLS:
        return [_prepare(df, entry, profile, special, file) for entry in entries]
    with ThreadPoolExecutor(_WORKERS) as pool:
        futures = [pool.submit(_prepare, df, entry, profile, special, file) for entry in entries]
    return [future.result() for future in futures]


def _default_created() -> datetime:
    """SOURCE_DATE_EPOCH (reproducible builds) if set, else the local time now."""
    from specs.clock import default_created

    return default_created()


def _fixed(text: str, width: int, what: str, file) -> bytes:
    raw = text.encode("ascii", errors="strict") if text.isascii() else None
    if raw is None or len(raw) > width:
        raise InputError(f"{what} {text!r} must be ASCII of at most {width} characters", file=file)
    return raw.ljust(width)


def _headers(name: str, label: bytes, dataset_type: bytes, variables: list[_Var], created: bytes,
             modified: bytes, sas_version: bytes, os_name: bytes) -> bytes:
    namestrs = []
    position = 0
    for number, var in enumerate(variables, start=1):
        ns = L.Namestr(1 if var.numeric else 2, var.length, number, var.name, *var.format,
                       var.justification, *var.informat, position)
        namestrs.append(L.pack_namestr(ns, var.label))
        position += var.length
    return b"".join([
        L.LIBRARY_HEADER,
        L.first_real_header(sas_version, os_name, created),
        L.second_real_header(modified),
        L.MEMBER_HEADER,
        L.DESCRIPTOR_HEADER,
        L.member_record_1(name.encode("ascii").ljust(8), sas_version, os_name, created),
        L.member_record_2(modified, label, dataset_type),
        L.namestr_header(len(variables)),
        L.pad(b"".join(namestrs)),
        L.OBS_HEADER,
    ])


def _fill_rows(variables: list[_Var], buffer: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Rows ``start:stop`` assembled in ``buffer``, each variable filling its own byte range."""
    rows = buffer[: stop - start]
    position = 0
    for var in variables:
        var.encoder.fill(rows, position, start, stop)
        position += var.length
    return rows


def _check_trailing_blank(variables: list[_Var], nobs: int, row_length: int, file) -> None:
    """Refuse data whose last rows a reader would take for padding (v5 stores no row count).

    With rows shorter than 80 bytes, the blank padding of the last record can hold whole
    blank rows; readers drop trailing blank rows there, so a real all-blank last row
    would be lost. This cannot happen with rows of 80 bytes or more.
    """
    if row_length >= L.RECORD or nobs == 0:
        return
    data = nobs * row_length + (-nobs * row_length % L.RECORD)
    first_ambiguous = -(-(data - (L.RECORD - 1)) // row_length)
    if nobs <= first_ambiguous:
        return
    last = _fill_rows(variables, np.empty((1, row_length), dtype=np.uint8), nobs - 1, nobs)
    if (last == 0x20).all():
        raise InputError(f"the last row is entirely blank and rows are {row_length} bytes (< 80): "
                         "XPT v5 stores no row count, so readers cannot tell it from padding. "
                         "Drop the blank row or add a non-blank variable", file=file, row=nobs)


def _stream_rows(out, variables: list[_Var], nobs: int, row_length: int, digest
                 ) -> pagecache.DropBehind | None:
    """Write the observations after what ``out`` holds, in chunks of about 2 MB, each added
    to ``digest`` (a hashlib object, or None) in file order once written.

    Where the system has ``pwrite`` two threads each fill a chunk and write it at its own
    offset (the C fill, numpy and the write all release the GIL, so both cores work), and
    a large file is flushed and dropped from the page cache behind them
    (:mod:`fileformats.pagecache`; the :class:`~fileformats.pagecache.DropBehind` is returned,
    to drop the rest once the file is complete); elsewhere one thread fills chunks while
    this one writes them in order.
    """
    rows_per_chunk = max(1, _CHUNK_BYTES // row_length)
    starts = list(range(0, nobs, rows_per_chunk))
    if not starts:
        return None
    workers = max(1, min(_WORKERS, len(starts)))
    write = _pwrite_rows if _writes_at_offsets(digest) else _write_rows_in_order
    return write(out, variables, nobs, row_length, rows_per_chunk, starts, workers, digest)


def _writes_at_offsets(digest) -> bool:
    """Whether chunks are written at their offsets by the filling threads (where they can be
    read back to be hashed, if there is a ``digest``)."""
    return _PWRITE and (digest is None or _PREADV)


def _pwrite_rows(out, variables: list[_Var], nobs: int, row_length: int, rows_per_chunk: int,
                 starts: list[int], workers: int, digest) -> pagecache.DropBehind:
    """Chunks filled and written at their offsets by ``workers`` threads; this thread takes
    them in order, hashes each (read back while the page cache still holds it: the filling
    threads reuse their buffers) and lets the page cache drop what is hashed."""
    out.flush()
    fd, base = out.fileno(), out.tell()
    local = threading.local()

    def fill_and_write(start: int) -> None:
        buffer = getattr(local, "buffer", None)
        if buffer is None:
            buffer = local.buffer = np.empty((rows_per_chunk, row_length), dtype=np.uint8)
        rows = memoryview(_fill_rows(variables, buffer, start, min(start + rows_per_chunk, nobs))).cast("B")
        offset = base + start * row_length
        while len(rows):
            written = os.pwrite(fd, rows, offset)
            rows, offset = rows[written:], offset + written

    behind = pagecache.DropBehind(fd, base + nobs * row_length)
    written = bytearray(rows_per_chunk * row_length) if digest is not None else None
    with ThreadPoolExecutor(workers) as pool:
        chunks = [pool.submit(fill_and_write, start) for start in starts]
        try:
            for start, chunk in zip(starts, chunks):   # in order: the written prefix grows
                chunk.result()                          # the chunk's error, if any, raised here
                size = (min(start + rows_per_chunk, nobs) - start) * row_length
                if digest is not None:
                    _hash_written(fd, base + start * row_length, memoryview(written)[:size], digest)
                behind.written(base + start * row_length + size)
        except BaseException:
            for chunk in chunks:
                chunk.cancel()
            raise
    out.seek(base + nobs * row_length)
    return behind


def _hash_written(fd: int, offset: int, into: memoryview, digest) -> None:
    """Add the ``len(into)`` bytes written at ``offset`` of ``fd`` to ``digest``."""
    done = 0
    while done < len(into):
        got = os.preadv(fd, [into[done:]], offset + done)
        if not got:
            raise OSError(f"the file ended at byte {offset + done} while it was being hashed")
        done += got
    digest.update(into)


def _write_rows_in_order(out, variables: list[_Var], nobs: int, row_length: int, rows_per_chunk: int,
                         starts: list[int], workers: int, digest) -> None:
    depth = 2 * workers
    buffers = [np.empty((rows_per_chunk, row_length), dtype=np.uint8) for _ in range(min(depth, len(starts)))]

    def fill(index: int):
        start = starts[index]
        return _fill_rows(variables, buffers[index % depth], start, min(start + rows_per_chunk, nobs))

    with ThreadPoolExecutor(workers) as pool:
        pending = deque(pool.submit(fill, i) for i in range(min(depth, len(starts))))
        for index in range(len(starts)):
            rows = memoryview(pending.popleft().result()).cast("B")
            out.write(rows)
            if digest is not None:
                digest.update(rows)
            if index + depth < len(starts):
                pending.append(pool.submit(fill, index + depth))


def _write_atomically(path: Path, headers: bytes, variables: list[_Var], nobs: int,
                      row_length: int, remember_sha256: bool = False) -> None:
    """Write to a temporary file beside ``path`` and rename it into place at the end, so
    an interrupted or failed write never leaves a partial file under the target name; with
    ``remember_sha256``, hash it on the way (see :func:`write_xpt`)."""
    if not path.parent.is_dir():
        raise InputError(f"the output folder {str(path.parent)!r} does not exist", file=path.name)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    digest = hashlib.sha256(headers) if remember_sha256 else None
    reads_back = digest is not None and _writes_at_offsets(digest)   # chunks read back to be hashed
    fd = os.open(tmp, (os.O_RDWR if reads_back else os.O_WRONLY) | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                 0o666)
    try:
        with os.fdopen(fd, "r+b" if reads_back else "wb") as out:
            out.write(headers)
            behind = _stream_rows(out, variables, nobs, row_length, digest)
            padding = b" " * (-nobs * row_length % L.RECORD)
            out.write(padding)
            if digest is not None:
                digest.update(padding)
            if behind is not None:
                out.flush()
                behind.close()
        os.replace(tmp, path)
        if digest is not None:
            pagecache.remember_digest(path, digest.hexdigest())
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_xpt(
    df: pd.DataFrame,
    path: str | os.PathLike,
    *,
    name: str | None = None,
    label: str = "",
    variables: Iterable | None = None,
    profile: str = "fda",
    encoding: str | None = None,
    created: datetime | None = None,
    modified: datetime | None = None,
    special_missing: Mapping[str, Any] | None = None,
    max_bytes: int = FIVE_GB,
    sas_version: str = "9.4",
    os_name: str = "TRIALPCK",
    dataset_type: str = "",
    remember_sha256: bool = False,
) -> Path:
    """Write ``df`` as a SAS XPORT version 5 file (SAS TS-140), checked against FDA rules.

    Every check runs before a byte is written, and the file appears only when complete
    (written beside ``path`` and renamed). Nothing is ever truncated or coerced: a value,
    label or name that does not fit raises :class:`specs.errors.InputError` naming the
    row (1-based), column and offending character.

    Rules (SAS TS-140; FDA Study Data Technical Conformance Guide), in the order applied:

    1. One dataset per file; its ``name`` is the file stem in upper case (the default),
       1-8 characters, a letter first, then A-Z, 0-9, _. ``label`` <= 40 bytes.
    2. Variables follow ``variables`` (``specs.model.VariableSpec``, ``XptVariable`` or
       dicts with ``name``, ``label``, ``data_type``, ``length``, ``display_format`` and
       optionally ``informat``, ``justification``) in order; without it, ``df``'s columns
       with types inferred from the dtypes. Every spec variable must be a column and every
       column a spec variable. Names as above; labels <= 40 bytes.
    3. ``data_type`` integer/float is numeric, anything else character. Numerics are
       8-byte IBM doubles, exact; see :mod:`fileformats.xpt._numeric` for dates, datetimes,
       times (days or seconds since 1960-01-01; default formats DATE9. for
       ``datetime.date`` values, DATETIME20. for datetime64 without a format, TIME8. for
       timedelta64), missing values and ``special_missing`` (``{column: {row position:
       "A"}}``, as :func:`read_xpt` returns them).
    4. Character length is the spec ``length`` (an error if a value is longer), else the
       longest value in bytes (at least 1); at most 200 bytes. Values are blank-padded.
    5. Text: ``profile="fda"`` allows ASCII only (the first non-ASCII character is
       reported with its row and column); ``profile="utf8"`` allows any text whose bytes
       in ``encoding`` (default UTF-8) fit the same limits, as PMDA and NMPA accept, and
       ``encoding="cp1252"`` reproduces legacy files.
    6. A file larger than ``max_bytes`` (default 5 GB, the FDA limit) is refused with
       advice to split it by --CAT into a ``split`` folder; it is never split silently.

    ``created``/``modified`` set the header timestamps (default ``SOURCE_DATE_EPOCH``,
    else now) so builds are reproducible; ``sas_version``/``os_name`` fill the 8-byte
    header fields. ``remember_sha256`` also hashes the bytes as they are written and remembers
    the file's sha256 (:func:`fileformats.pagecache.known_digest`), for a package manifest that
    would otherwise read the file back: one sha256 pass over the data, about 1 GB/s here.
    Returns the path written.
    """
    path = Path(path)
    file = path.name
    chosen = resolve_profile(profile, encoding)
    stem = path.stem.upper()
    name = check_name(stem if name is None else name, "dataset name", file)
    if name != stem:
        raise InputError(f"dataset name {name!r} must equal the file name stem {stem!r} "
                         "(FDA: dm.xpt holds DM)", file=file)
    label_bytes = encode_text(label or "", "dataset label", MAX_LABEL, chosen, file=file).ljust(MAX_LABEL)
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"expected a pandas DataFrame, got {type(df).__name__}", file=file)
    if df.columns.has_duplicates:
        dup = df.columns[df.columns.duplicated()][0]
        raise InputError("the column name occurs more than once", file=file, column=str(dup))
    entries = resolve_entries(df, variables, file)
    unknown = sorted(set(special_missing or {}) - {field(e, "name") for e in entries})
    if unknown:
        raise InputError("special missing values given for a column that is not written",
                         file=file, column=str(unknown[0]))
    if not entries:
        raise InputError("a dataset needs at least one variable", file=file)
    if len(entries) > 9999:
        raise InputError(f"{len(entries)} variables: the NAMESTR header holds at most 9999", file=file)
    prepared = _prepare_all(df, entries, chosen, special_missing, file)
    row_length = sum(v.length for v in prepared)
    nobs = len(df)
    _check_trailing_blank(prepared, nobs, row_length, file)
    created = created or _default_created()
    headers = _headers(name, label_bytes, _fixed(dataset_type, 8, "dataset type", file), prepared,
                       L.format_timestamp(created), L.format_timestamp(modified or created),
                       _fixed(sas_version, 8, "SAS version", file), _fixed(os_name, 8, "OS name", file))
    size = len(headers) + nobs * row_length + (-nobs * row_length % L.RECORD)
    if size > max_bytes:
        raise InputError(f"the file would be {size:,} bytes, over the limit of {max_bytes:,} bytes "
                         f"(FDA: 5 GB per dataset file); {_SPLIT_ADVICE}", file=file)
    _write_atomically(path, headers, prepared, nobs, row_length, remember_sha256)
    return path
