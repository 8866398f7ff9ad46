"""Raw EDC exports in (CSV, XLSX, SAS7BDAT) -> DataFrames of text with their row numbers.

Every value comes back as text (stripped; empty -> null), the columns renamed from the
study's raw headers to the CDASH-like field names of its config, plus two lineage columns:
``_RAWFILE`` (the file as named in messages) and ``_RAWROW`` (the row as a spreadsheet shows
it: the header is row 1, the first record row 2). Blank rows are skipped and counted.

Bad input raises :class:`specs.errors.InputError` naming the file and, where it applies, the
row, the column or the byte offset: missing file or column, empty file, duplicated headers,
undecodable bytes, malformed CSV (a quote left open or followed by text, a row with more or
fewer fields than the header: pandas alone would glue or pad them silently), formula cells,
an xlsx that declares XML entities or is corrupt, oversized fields.
"""
from __future__ import annotations

import contextlib
import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fileformats.native import load
from specs.columns import TEXT_DTYPE, arrow_text, empty_as_null, text_column
from specs.errors import InputError

RAW_FILE = "_RAWFILE"
RAW_ROW = "_RAWROW"
#: Largest raw field accepted (bytes of text). SDTM text is at most 200 bytes per variable
#: (longer text is split into SUPP-- records); a field this large is corrupt input.
MAX_FIELD_CHARS = 65_536
_CSV_FIELD_LIMIT = 2**31 - 1
#: The C record layout (:func:`_record_layout`), or None: numpy then (tests switch it off).
_csv_kernel = load("_trialpack_csv", "TRIALPACK_CSV_NUMPY")


@dataclass
class RawTable:
    """One raw file, read: records by field name, plus what reading skipped."""

    name: str
    frame: pd.DataFrame
    blank_rows: int = 0
    headers: dict[str, str] = field(default_factory=dict)   # field -> the raw column it was read from
    unmapped: list[str] = field(default_factory=list)       # raw columns no field maps

    @property
    def rows(self) -> int:
        return len(self.frame)


def read_raw(
    path: Path,
    columns: dict[str, str],
    *,
    name: str | None = None,
    fmt: str | None = None,
    encoding: str = "utf-8",
    delimiter: str = ",",
    sheet: str | None = None,
    required: tuple[str, ...] = (),
) -> RawTable:
    """Read one raw file and rename ``columns`` (field -> raw header) to field names.

    ``required`` fields must be mapped and present in the file.
    """
    path = Path(path)
    name = name or path.name
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if not path.is_file():
        raise InputError(f"raw file not found (looked for {path})", file=name)
    readers = {"csv": _read_csv, "txt": _read_csv, "xlsx": _read_xlsx, "sas7bdat": _read_sas7bdat}
    if fmt not in readers:
        raise InputError(f"unsupported raw format {fmt!r} (csv, xlsx or sas7bdat)", file=name)
    if fmt in ("csv", "txt"):
        header, frame = _read_csv(path, name, encoding, delimiter)
    elif fmt == "xlsx":
        header, frame = _read_xlsx(path, name, sheet)
    else:
        header, frame = _read_sas7bdat(path, name, encoding)
    return _select(header, frame, columns, name, required)


def _select(header: list[str], frame: pd.DataFrame, columns: dict[str, str], name: str,
            required: tuple[str, ...]) -> RawTable:
    """The mapped columns under their field names and cleaned, blank records dropped and
    counted. One raw column may feed several fields (each gets the column's values). The
    headers no field maps are kept in ``unmapped`` (the reconciliation lists them).
    ``frame.attrs`` may carry the readers' account of records they skipped before building the
    frame: ``record_rows`` (each frame row's row number) and ``blank_records``."""
    _check_duplicate_headers(header, name)
    for fld in required:
        if fld not in columns:
            raise InputError(f"the study config maps no raw column to required field {fld}", file=name)
    by_norm = {h.strip().lower(): h for h in header}
    source: dict[str, str] = {}   # field -> the file's own header
    for fld, raw_header in columns.items():
        actual = by_norm.get(raw_header.strip().lower())
        if actual is None:
            raise InputError(f"column {raw_header!r} (field {fld}) is not in the file; its columns are: "
                             f"{', '.join(header)}", file=name, column=raw_header)
        source[fld] = actual
    cleaned = {actual: _clean_text(frame[actual]) for actual in dict.fromkeys(source.values())}
    data = pd.DataFrame({fld: cleaned[actual] for fld, actual in source.items()}, index=frame.index)
    blank = data.isna().all(axis=1) if len(data.columns) else pd.Series(False, index=data.index)
    rows = frame.attrs.get("record_rows")
    rows = np.arange(len(frame), dtype="int64") + 2 if rows is None else rows
    _check_field_sizes(data, name, source, rows)
    data.insert(0, RAW_ROW, rows)
    data.insert(0, RAW_FILE, name)
    kept = data[~blank.to_numpy()].reset_index(drop=True)
    used = set(source.values())
    return RawTable(name=name, frame=kept, blank_rows=int(blank.sum()) + frame.attrs.get("blank_records", 0),
                    headers=source, unmapped=[h.strip() for h in header if h not in used])


def _clean_text(col: pd.Series) -> pd.Series:
    """Raw text with surrounding whitespace stripped and empty values null (None), as the
    default text dtype; one pass of Arrow kernels."""
    return text_column(empty_as_null(pc.utf8_trim_whitespace(arrow_text(col))), col.index, col.name)


def _check_duplicate_headers(header: list[str], name: str) -> None:
    seen: dict[str, int] = {}
    for i, h in enumerate(header, start=1):
        key = h.strip().lower()
        if key in seen:
            raise InputError(f"duplicated header {h.strip()!r} (columns {seen[key]} and {i})", file=name, row=1,
                             column=h.strip())
        seen[key] = i


def _check_field_sizes(data: pd.DataFrame, name: str, raw_headers: dict[str, str], rows: np.ndarray) -> None:
    for col in data.columns:
        lengths = data[col].str.len()
        if len(lengths) and lengths.max() > MAX_FIELD_CHARS:
            pos = int(np.flatnonzero((lengths > MAX_FIELD_CHARS).to_numpy())[0])
            raise InputError(f"field of {int(lengths.iloc[pos]):,} characters; raw fields over "
                             f"{MAX_FIELD_CHARS:,} characters are refused", file=name, row=int(rows[pos]),
                             column=raw_headers.get(col, col))


# -- CSV ----------------------------------------------------------------------------------------


def _read_csv(path: Path, name: str, encoding: str, delimiter: str) -> tuple[list[str], pd.DataFrame]:
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError("empty file: no header row", file=name)
    text = _decode(raw, encoding, name)
    if not text.strip():
        raise InputError("empty file: no header row", file=name)
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InputError("NUL byte in a text file (binary data?)", file=name, row=line)
    with _large_csv_fields():
        data = text.encode("utf-8")
        layout = _record_layout(data, delimiter)
        if layout is None:  # a quote only the csv module's state machine can place, or a broken record
            header = next(csv.reader(io.StringIO(text), delimiter=delimiter))
            return header, _read_csv_by_pandas(text, header, delimiter, name)
        # the header is record 0 (a StringIO of the whole text would hold it 4 bytes a character)
        header = next(csv.reader([data[:layout.ends[0]].decode("utf-8")], delimiter=delimiter), [])
    return header, _read_csv_by_arrow(data, header, layout, delimiter, name)


def _read_csv_by_arrow(data: bytes, header: list[str], layout: "_Records", delimiter: str,
                       name: str) -> pd.DataFrame:
    """Parse with Arrow's CSV reader once :func:`_record_layout` has checked the grammar and
    counted the fields of every record (Arrow alone would glue ``"a"b`` into ``ab``)."""
    import pyarrow.csv as pacsv

    widths = layout.widths
    _check_widths(widths, name)  # rows of other widths first, as the csv module's path reports them
    single = np.flatnonzero(widths[1:] == 1) + 1
    blank_single = np.zeros(len(widths) - 1, dtype=bool)
    if widths[0] != 1 and len(single):  # a one-field row is a blank line only if that field is blank
        blank_single[single - 1] = [not next(csv.reader([data[layout.starts[i]:layout.ends[i]].decode()]),
                                             [""])[0].strip() for i in single]
    _check_widths(widths, name, blank_single)
    if len(widths) == 1:  # a header and nothing else
        return pd.DataFrame({h: pd.Series([], dtype=object) for h in header}).astype(TEXT_DTYPE)
    names = [f"c{i}" for i in range(int(widths[0]))]
    skipped = (widths[1:] == 0) | blank_single
    if widths[0] == 1:
        skipped = widths[1:] == 0
    table = pacsv.read_csv(
        pa.py_buffer(data[layout.ends[0] + 1:]),
        read_options=pacsv.ReadOptions(column_names=names, use_threads=False, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True, escape_char=False,
                                          newlines_in_values=True, ignore_empty_lines=True,
                                          invalid_row_handler=lambda row: "skip"),
        convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                              strings_can_be_null=False, quoted_strings_can_be_null=False))
    rows = np.flatnonzero(~skipped) + 2
    if table.num_rows != len(rows):  # pragma: no cover - the layout and Arrow disagree: a defect, not input
        raise AssertionError(f"{name}: {table.num_rows} records parsed, {len(rows)} expected")
    frame = pd.DataFrame({h: table.column(i).to_pandas() for i, h in enumerate(header)}
                         if len(set(header)) == len(header) else
                         {i: table.column(i).to_pandas() for i in range(len(header))})
    if len(set(header)) != len(header):
        frame.columns = header
    frame.attrs.update(record_rows=rows, blank_records=int(skipped.sum()))
    return frame


def _read_csv_by_pandas(text: str, header: list[str], delimiter: str, name: str) -> pd.DataFrame:
    """The general path: the csv module's strict reader counts the fields of every record
    (naming the row of a broken one), pandas parses."""
    widths = _record_widths(text, delimiter, name)
    _check_widths(widths, name)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False, na_filter=False,
                            skip_blank_lines=False, engine="c", header=0)
    except pd.errors.ParserError as exc:
        raise InputError(f"malformed CSV: {_parser_message(exc)}", file=name, row=_parser_row(exc)) from None
    except pd.errors.EmptyDataError:
        raise InputError("empty file: no header row", file=name) from None
    if len(frame) == len(widths) - 1 and len(frame.columns):
        _check_widths(widths, name, ((widths[1:] == 1) & (frame.iloc[:, 0].str.strip() == "").to_numpy()))
    frame.columns = header if len(header) == len(frame.columns) else list(frame.columns)
    return frame


@dataclass
class _Records:
    """Where each CSV record starts and ends (byte offsets, the line end excluded) and how many
    fields it has (0 for a blank line); record 0 is the header."""

    starts: np.ndarray
    ends: np.ndarray
    widths: np.ndarray


def _record_layout(data: bytes, delimiter: str) -> _Records | None:
    """Records and field counts of UTF-8 CSV text with ``\\n`` line ends, by the strict grammar
    of :func:`_record_widths`, in one pass over the bytes.

    A double quote opens a quoted field only at the start of a field; inside, ``""`` is a quote
    and the closing quote must be followed by the delimiter, a line end or the end of the file.
    Delimiters and line ends inside quoted fields separate nothing. Returns None when that
    reasoning does not apply (an odd number of quotes, a quote inside an unquoted field, text
    after a closing quote, a delimiter that is not one ASCII byte): the csv module then reads
    the file and names the row of any error.

    The pass is the C kernel ``_trialpack_csv`` where it is built (:mod:`fileformats.native`);
    :func:`_record_layout_numpy` gives the same answer in a few vectorised passes (at 100,000
    subjects it took 40% of mapping a study: a byte mask and an int64 per separator, all
    fresh memory)."""
    if len(delimiter) != 1 or ord(delimiter) > 127 or delimiter in '"\n' or not data:
        return None
    if _csv_kernel is None:
        return _record_layout_numpy(data, delimiter)
    table = np.empty((3, data.count(b"\n") + 1), dtype=np.int64)
    records = _csv_kernel.record_layout(data, ord(delimiter), table)
    if records < 0:
        return None
    starts, ends, widths = table[:, :records]
    return _Records(starts, ends, widths)


def _record_layout_numpy(data: bytes, delimiter: str) -> _Records | None:
    """:func:`_record_layout` with numpy (no C kernel): the quotes' parity before each
    delimiter or line end tells whether it separates fields."""
    arr = np.frombuffer(data, dtype=np.uint8)
    sep_byte, n = ord(delimiter), len(arr)
    quotes = np.flatnonzero(arr == 34)
    if len(quotes) % 2:
        return None
    opening, closing = quotes[0::2], quotes[1::2]
    escaped = np.zeros(len(closing), dtype=bool)  # a closing quote directly followed by the next opening: ""
    escaped[:-1] = opening[1:] == closing[:-1] + 1
    field_open = opening[np.concatenate(([True], ~escaped[:-1]))] if len(opening) else opening
    before = arr[np.maximum(field_open - 1, 0)]
    if not ((field_open == 0) | (before == sep_byte) | (before == 10)).all():
        return None
    field_close = closing[~escaped]
    after = arr[np.minimum(field_close + 1, n - 1)]
    if not ((field_close + 1 == n) | (after == sep_byte) | (after == 10)).all():
        return None
    marks = arr == sep_byte
    marks |= arr == 10
    seps = np.flatnonzero(marks)
    del marks
    if len(quotes):  # outside quoted fields: an even number of quotes before
        seps = seps[np.searchsorted(quotes, seps) % 2 == 0]
    line_end = arr[seps] == 10
    newlines, delims = seps[line_end], seps[~line_end]
    ends = newlines if arr[-1] == 10 else np.append(newlines, n)
    starts = np.concatenate(([0], newlines + 1))[: len(ends)]
    widths = np.searchsorted(delims, ends) - np.searchsorted(delims, starts) + 1
    widths[starts == ends] = 0
    return _Records(starts, ends, widths)


def _record_widths(text: str, delimiter: str, name: str) -> np.ndarray:
    """Fields per record (the header is record 0, a blank line has 0), read by the strict CSV
    grammar: a quote that opens a field must close it, and only a delimiter or the end of the
    line may follow the closing quote (pandas would silently glue such text together)."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    try:
        return np.fromiter(map(len, reader), dtype=np.int64)
    except csv.Error:
        _locate_csv_error(text, delimiter, name)
        raise  # pragma: no cover - _locate_csv_error always raises


@contextlib.contextmanager
def _large_csv_fields() -> Iterator[None]:
    """The csv module refuses fields over 128 KiB with no column named; lift its limit so that an
    oversized field is refused by ``MAX_FIELD_CHARS`` instead, with its row and column."""
    limit = csv.field_size_limit(_CSV_FIELD_LIMIT)
    try:
        yield
    finally:
        csv.field_size_limit(limit)


def _locate_csv_error(text: str, delimiter: str, name: str) -> None:
    """Error path only: re-read record by record to name the row where the bad record starts."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    row, start = 0, 1
    try:
        for _ in reader:
            row, start = row + 1, reader.line_num + 1
    except csv.Error as exc:
        spans = reader.line_num - start
        hint = f" at line {reader.line_num}; the quoted field that opens in this row (line {start}) is not " \
               f"closed where it should be - an unclosed or stray quote?" if spans else ""
        raise InputError(f"malformed CSV: {exc}{hint}", file=name, row=row + 1) from None


def _check_widths(widths: np.ndarray, name: str, blank_single: np.ndarray | None = None) -> None:
    """Every record has as many fields as the header: a row with more is malformed, a row with
    fewer is cut off or hand-edited and its missing fields would silently read as empty. Blank
    lines (no field, or one blank field: ``blank_single``, once the text is known) are allowed
    and skipped; before that, one-field rows are left for the second call."""
    body = widths[1:]
    suspect = (body != widths[0]) & (body != 0)
    suspect &= (body != 1) if blank_single is None else ~blank_single
    bad = np.flatnonzero(suspect)
    if len(bad):
        i = int(bad[0])
        raise InputError(f"malformed CSV: the row has {int(body[i])} field(s); the header has {int(widths[0])}",
                         file=name, row=i + 2)


def _decode(raw: bytes, encoding: str, name: str) -> str:
    codec = encoding
    if encoding.lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig"):
        codec = "utf-8-sig"  # a byte-order mark is never data
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError as exc:
        row = raw[: exc.start].count(b"\n") + 1
        raise InputError(f"byte 0x{raw[exc.start]:02X} is not valid {encoding} text (declare the file's encoding "
                         f"in the study config)", file=name, row=row, offset=exc.start) from None
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r}", file=name) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _parser_row(exc: Exception) -> int | None:
    match = re.search(r"(?:line|row) (\d+)", str(exc))
    return int(match.group(1)) if match else None


def _parser_message(exc: Exception) -> str:
    msg = str(exc).strip().splitlines()[-1]
    return msg.replace("Error tokenizing data. C error: ", "")


# -- XLSX ---------------------------------------------------------------------------------------


def _read_xlsx(path: Path, name: str, sheet: str | None) -> tuple[list[str], pd.DataFrame]:
    from specs.workbook import check_xlsx_package

    check_xlsx_package(path, error=InputError, file=name)
    title, rows = _calamine_sheet(path, sheet) or _openpyxl_sheet(path, name, sheet)
    while rows and not any(v for v in rows[-1]):
        rows.pop()
    if not rows or not any(v for v in rows[0]):
        raise InputError("empty sheet: no header row", file=name, sheet=title)
    width = max(max((i + 1 for i, v in enumerate(r) if v), default=0) for r in rows)  # columns holding data
    header = [h or "" for h in rows[0]][:width]
    body = [(r + [""] * width)[:width] for r in rows[1:]]
    return header, pd.DataFrame(body, columns=header, dtype=object)


def _openpyxl_sheet(path: Path, name: str, sheet: str | None) -> tuple[str, list[list[str]]]:
    """The sheet's cell texts read by openpyxl, which names a formula cell and tells a
    corrupt workbook."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, ValueError ...
        raise InputError(f"not a readable xlsx workbook ({type(exc).__name__}: {exc})", file=name) from None
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise InputError(f"no sheet {sheet!r}; sheets: {', '.join(wb.sheetnames)}", file=name)
        ws = wb[sheet] if sheet else wb.worksheets[0]
        return ws.title, _sheet_rows(ws, name)
    except InputError:
        raise
    except Exception as exc:  # a corrupt sheet part fails while its rows stream (ParseError, KeyError ...)
        raise InputError(f"not a readable xlsx workbook: the sheet is corrupt ({type(exc).__name__}: {exc})",
                         file=name) from None
    finally:
        wb.close()


_CELL_TYPES = (str, float, int, bool, datetime, date, time)


def _calamine_sheet(path: Path, sheet: str | None) -> tuple[str, list[list[str]]] | None:
    """The sheet's cell texts read by python-calamine (a compiled reader, ten times faster
    than openpyxl on a large export), as :func:`_openpyxl_sheet` gives them: rows from A1,
    each as wide as the sheet. None — openpyxl reads the file instead — when calamine is not
    installed or cannot read it, a worksheet holds a formula (openpyxl names the cell), the
    sheet is not there, or a cell holds a value of another kind (an error value)."""
    import zipfile

    try:
        from python_calamine import CalamineWorkbook
    except ImportError:
        return None
    try:
        with zipfile.ZipFile(path) as package:
            if any(_has_formula(package.read(n)) for n in package.namelist()
                   if n.startswith("xl/worksheets/") and n.endswith(".xml")):
                return None
        book = CalamineWorkbook.from_path(str(path))
        if sheet is not None and sheet not in book.sheet_names:
            return None
        ws = book.get_sheet_by_name(sheet) if sheet is not None else book.get_sheet_by_index(0)
        grid = ws.to_python(skip_empty_area=False)   # from A1, as openpyxl reads it
        title = ws.name
    except Exception:  # noqa: BLE001 - anything calamine cannot read goes to openpyxl, which explains it
        return None
    columns = [list(c) for c in zip(*grid)] if grid else []
    for column in columns:
        if not all(isinstance(v, _CELL_TYPES) for v in column):
            return None
    texts = [column if all(type(v) is str for v in column) else [_cell_text(v) for v in column]
             for column in columns]
    return title, [list(r) for r in zip(*texts)] if texts else [[] for _ in grid]


def _has_formula(sheet_xml: bytes) -> bool:
    return b"<f>" in sheet_xml or b"<f " in sheet_xml or b":f>" in sheet_xml or b":f " in sheet_xml


def _sheet_rows(ws, name: str) -> list[list[str]]:
    """The cell texts of a worksheet, row by row; a formula cell is refused (raw data are values)."""
    from openpyxl.utils import get_column_letter

    rows = []
    for r, row in enumerate(ws.iter_rows(), start=1):
        values = []
        for c, cell in enumerate(row, start=1):
            if getattr(cell, "data_type", None) == "f":
                raise InputError(f"formula cell {cell.value!r}: raw data must hold values, not formulas",
                                 file=name, sheet=ws.title, row=r, column=get_column_letter(c))
            values.append(_cell_text(cell.value))
        rows.append(values)
    return rows


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S") if value.time() != time(0) else value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# -- SAS7BDAT -----------------------------------------------------------------------------------


def _read_sas7bdat(path: Path, name: str, encoding: str) -> tuple[list[str], pd.DataFrame]:
    import pyreadstat

    try:
        frame, _ = pyreadstat.read_sas7bdat(str(path), encoding=None if encoding.lower() in ("utf-8", "utf8")
                                            else encoding)
    except Exception as exc:  # pyreadstat raises its own ReadstatError/PyreadstatError
        raise InputError(f"not a readable SAS7BDAT file ({exc})", file=name) from None
    text = {}
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            text[col] = _datetime_text(s)
        elif pd.api.types.is_float_dtype(s):
            whole = s.dropna()
            text[col] = (s.astype("Int64").astype("string") if len(whole) and (whole == whole.round()).all()
                         else s.astype("string")).fillna("")
        else:
            text[col] = s.astype("string").fillna("")
    return [str(c) for c in frame.columns], pd.DataFrame(text)


def _datetime_text(values: pd.Series) -> pd.Series:
    """SAS datetimes as ISO 8601 text: with the time of day where it is not midnight
    (``2021-02-20T09:30:00``), the date alone where it is (as a date-only XLSX cell reads);
    missing -> empty."""
    with_time = values.dt.strftime("%Y-%m-%dT%H:%M:%S")
    date_only = values.dt.strftime("%Y-%m-%d")
    return with_time.where(values != values.dt.normalize(), date_only).fillna("")
