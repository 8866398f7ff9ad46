"""The spec as an Excel workbook, in the sheet layout regulatory teams use (Pinnacle 21 style).

Sheets: Study, Standards, Datasets, Variables, ValueLevel, WhereClauses, Codelists, Methods,
Comments, Documents. ``write_workbook`` and ``read_workbook`` are inverse: JSON -> xlsx ->
JSON is lossless.

Reading is tolerant of what real workbooks contain — extra sheets (a README), sheet and
header names in any case and spacing, known header synonyms, blank rows, trailing spaces,
numbers stored as text and text stored as numbers — and strict about what it cannot
interpret: an error names the sheet, the row and the column. Formula cells are refused
(a spec is data, not a calculation); text that starts with ``=``, ``+``, ``-`` or ``@``
is written as a text cell, never as a formula. Where-clause values share one cell, comma-
separated; a value holding a comma, a quote, surrounding spaces or nothing is written quoted
(``"a, b", ""``) and read back exactly. Cells are trimmed and an empty cell is an absent
value, which is why the JSON loader refuses text that is empty or has surrounding spaces.
"""
from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from specs.errors import InputError, SpecError
from specs.model import Spec
from specs.rules import validate_spec

YES, NO = "Yes", "No"


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    kind: str = "str"  # str | int | bool | list (comma-separated) | values (CSV-quoted)
    synonyms: tuple[str, ...] = ()


def _cols(*items: tuple) -> tuple[Column, ...]:
    return tuple(Column(*item) for item in items)


_VARIABLE_COMMON = (
    ("Data Type", "data_type", "str", ("DataType", "Type")),
    ("Length", "length", "int"),
    ("Significant Digits", "significant_digits", "int", ("SignificantDigits",)),
    ("Format", "display_format", "str", ("Display Format", "DisplayFormat")),
    ("Core", "core"),
    ("Codelist", "codelist", "str", ("Codelist OID", "CodeList")),
    ("Origin", "origin_type", "str", ("Origin Type",)),
    ("Source", "origin_source", "str", ("Origin Source",)),
    ("Pages", "origin_pages"),
    ("Predecessor", "origin_description", "str", ("Origin Description",)),
    ("Method", "method", "str", ("Method OID",)),
)

SHEETS: dict[str, tuple[Column, ...]] = {
    "Standards": _cols(("OID", "oid", "str", ("ID",)), ("Name", "name"), ("Type", "type"),
                       ("Publishing Set", "publishing_set"), ("Version", "version"),
                       ("Status", "status"), ("Comment", "comment")),
    "Datasets": _cols(("Dataset", "name", "str", ("Name",)),
                      ("Description", "label", "str", ("Label",)),
                      ("Class", "class"), ("Subclass", "subclass", "str", ("Sub Class",)),
                      ("Structure", "structure"), ("Purpose", "purpose"),
                      ("Key Variables", "keys", "list", ("Keys",)),
                      ("Repeating", "repeating", "bool"),
                      ("Reference Data", "reference_data", "bool", ("IsReferenceData",)),
                      ("Domain", "domain"), ("Standard", "standard"), ("Comment", "comment")),
    "Variables": _cols(("Order", "order", "int"), ("Dataset", "dataset"), ("Variable", "name", "str", ("Name",)),
                       ("Label", "label", "str", ("Description",)), *_VARIABLE_COMMON,
                       ("Role", "role"), ("Comment", "comment")),
    "ValueLevel": _cols(("Order", "order", "int"), ("Dataset", "dataset"), ("Variable", "variable"),
                        ("Where Clause", "where_clause", "str", ("WhereClause",)),
                        ("Label", "label", "str", ("Description",)), *_VARIABLE_COMMON,
                        ("Comment", "comment")),
    "WhereClauses": _cols(("ID", "oid", "str", ("OID",)), ("Dataset", "dataset"), ("Variable", "variable"),
                          ("Comparator", "comparator"), ("Value", "values", "values", ("Values",)),
                          ("Comment", "comment")),
    "Codelists": _cols(("ID", "oid", "str", ("OID",)), ("Name", "name"),
                       ("NCI Codelist Code", "code", "str", ("Codelist Code",)),
                       ("Data Type", "data_type", "str", ("DataType",)),
                       ("Extensible", "extensible", "bool"), ("Standard", "standard"),
                       ("Dictionary", "dictionary"), ("Version", "version"), ("Comment", "comment"),
                       ("Order", "item_order", "int"), ("Term", "value", "str", ("Coded Value", "CodedValue")),
                       ("NCI Term Code", "item_code", "str", ("Term Code",)),
                       ("Decoded Value", "decode", "str", ("Decode",)),
                       ("Extended Value", "extended", "bool")),
    "Methods": _cols(("ID", "oid", "str", ("OID",)), ("Name", "name"), ("Type", "type"),
                     ("Description", "description"), ("Expression Context", "expression_context"),
                     ("Expression Code", "expression", "str", ("Expression",)),
                     ("Document", "document"), ("Pages", "pages")),
    "Comments": _cols(("ID", "oid", "str", ("OID",)), ("Description", "description"),
                      ("Document", "document"), ("Pages", "pages")),
    "Documents": _cols(("ID", "id", "str", ("OID",)), ("Title", "title"), ("Href", "href", "str", ("Link",)),
                       ("Kind", "kind", "str", ("Type",))),
}
STUDY_FIELDS = (("StudyOID", "oid"), ("StudyName", "name"), ("StudyDescription", "description"),
                ("ProtocolName", "protocol_name"))
SHEET_ORDER = ("Study", "Standards", "Datasets", "Variables", "ValueLevel", "WhereClauses",
               "Codelists", "Methods", "Comments", "Documents")
_CODELIST_HEAD = ("oid", "name", "code", "data_type", "extensible", "standard", "dictionary", "version", "comment")


def _norm(text: Any) -> str:
    return re.sub(r"[\s_]+", "", str(text)).lower()


# -- writing ------------------------------------------------------------------------------


def write_workbook(spec: Spec, path: str | Path, *, created: datetime | None = None,
                   more: Callable[[Any], None] | None = None) -> Path:
    """Write ``spec`` as an xlsx workbook (sheets in :data:`SHEET_ORDER`); ``more`` may add sheets
    of its own to the openpyxl workbook before it is saved (a study's Mapping sheet)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    ws = wb.create_sheet("Study")
    write_rows(ws, ["Attribute", "Value"],
                [[label, getattr(spec.study, key) if spec.study else None] for label, key in STUDY_FIELDS])
    for sheet, rows in _sheet_rows(spec).items():
        ws = wb.create_sheet(sheet)
        write_rows(ws, [c.header for c in SHEETS[sheet]],
                    [[_to_cell(row.get(c.key), c.kind) for c in SHEETS[sheet]] for row in rows])
    if more is not None:
        more(wb)
    for ws in wb.worksheets:
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
    path = Path(path)
    path.write_bytes(workbook_bytes(wb, created))
    return path


def _sheet_rows(spec: Spec) -> dict[str, list[dict]]:
    data = spec.to_dict()
    variables, datasets = [], []
    for ds in data.get("datasets", []):
        datasets.append({k: v for k, v in ds.items() if k != "variables"})
        variables += [{"dataset": ds["name"], **var} for var in ds["variables"]]
    where = []
    for wc in data.get("where_clauses", []):
        for i, check in enumerate(wc["checks"]):
            where.append({"oid": wc["oid"], **check, "comment": wc.get("comment") if i == 0 else None})
    codelists = []
    for cl in data.get("codelists", []):
        head = {k: cl.get(k) for k in _CODELIST_HEAD}
        items = cl.get("items") or [{}]
        for item in items:
            codelists.append({**head, "item_order": item.get("order"), "value": item.get("value"),
                              "item_code": item.get("code"), "decode": item.get("decode"),
                              "extended": item.get("extended") if item else None})
    return {
        "Standards": data.get("standards", []), "Datasets": datasets, "Variables": variables,
        "ValueLevel": data.get("value_level", []), "WhereClauses": where, "Codelists": codelists,
        "Methods": data.get("methods", []), "Comments": data.get("comments", []),
        "Documents": data.get("documents", []),
    }


def _to_cell(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "bool":
        return YES if value else NO
    if kind == "list":
        return ", ".join(value)
    if kind == "values":
        if all(v and v == v.strip() and "," not in v and '"' not in v for v in value):
            return ", ".join(value)
        return ", ".join('"' + v.replace('"', '""') + '"' for v in value)  # "" is an empty value
    return value


class _FixedTimeZip(zipfile.ZipFile):
    """A zip whose entries all carry one timestamp (reproducible XLSX bytes)."""

    stamp = (1980, 1, 1, 0, 0, 0)

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):
        if isinstance(zinfo_or_arcname, str):
            info = zipfile.ZipInfo(zinfo_or_arcname, date_time=self.stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zinfo_or_arcname = info
        else:
            zinfo_or_arcname.date_time = self.stamp
        return super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        """openpyxl writes worksheets from temporary files: take their bytes, not their mtime."""
        return self.writestr(str(arcname or filename), Path(filename).read_bytes(), compress_type, compresslevel)


def workbook_bytes(wb, created: datetime | None) -> bytes:
    from openpyxl.writer.excel import ExcelWriter

    """The xlsx bytes of ``wb`` with every timestamp (properties and zip entries) ``created``:
    the same workbook gives the same bytes (openpyxl's own save stamps the clock)."""
    stamp = (created or datetime(1980, 1, 1)).replace(tzinfo=None, microsecond=0)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.creator = "trialpack"
    wb.properties.lastModifiedBy = "trialpack"
    buffer = io.BytesIO()
    archive = _FixedTimeZip(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    archive.stamp = max(stamp, datetime(1980, 1, 1)).timetuple()[:6]
    ExcelWriter(wb, archive).save()
    return buffer.getvalue()


def write_rows(ws, header: list[str], rows: list[list[Any]]) -> None:
    """A header row then ``rows``, every value through :func:`write_cell` (None = empty cell)."""
    ws.append(header)
    first = ws.max_row + 1  # once: max_row scans every cell, so asking per row is quadratic
    for i, row in enumerate(rows):
        for c, value in enumerate(row, start=1):
            if value is not None:
                write_cell(ws.cell(row=first + i, column=c), value)


def write_cell(cell, value: Any) -> None:
    """Set a cell; text is always a text cell, so ``=SUM(...)`` stays text and never runs."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if value[:1] in ("=", "+", "-", "@"):
            cell.quotePrefix = True


# -- reading ------------------------------------------------------------------------------


#: Bytes of an XML part's prolog (declaration, comments, processing instructions) read to look
#: for a DOCTYPE; a longer prolog is refused too.
_PROLOG_BYTES = 65_536
_PROLOG_ITEM = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->)", re.S)


def check_xlsx_package(path: Path, *, error: type[InputError] = SpecError, file: object = None) -> None:
    """Refuse an xlsx whose XML parts declare a DOCTYPE (entities, external references): a
    workbook never needs one, and refusing it means no entity is ever expanded or fetched.
    A file that is not a zip archive is refused here too, with a plain message."""
    import zipfile

    file = path if file is None else file
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if member.lower().endswith((".xml", ".rels", ".vml")) and _declares_doctype(archive, member):
                    raise error(f"part {member} declares a DOCTYPE (XML entities); workbooks with DTDs are "
                                "refused and nothing they reference was read", file=file)
    except InputError:
        raise
    except Exception as exc:  # BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError (encrypted) ...
        raise error(f"not a readable xlsx workbook ({type(exc).__name__}: {exc})", file=file) from None


def _declares_doctype(archive, member: str) -> bool:
    with archive.open(member) as stream:
        head = stream.read(_PROLOG_BYTES + 1)
    text = head.decode("utf-16" if head[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8", "replace")
    position = 0
    while match := _PROLOG_ITEM.match(text, position):
        if match.end() == position:
            break
        position = match.end()
    rest = text[position:].lstrip()
    if not rest and len(head) > _PROLOG_BYTES:
        return True  # a prolog longer than any workbook writes: treated as hostile
    return rest.startswith("<!")


class _Cell:
    """Where a value came from: sheet, Excel row number, header text."""

    __slots__ = ("sheet", "row", "column")

    def __init__(self, sheet: str, row: int, column: str) -> None:
        self.sheet, self.row, self.column = sheet, row, column

    def error(self, message: str, file: Path) -> SpecError:
        return SpecError(message, file=file, sheet=self.sheet, row=self.row, column=self.column)


def read_workbook(path: str | Path) -> Spec:
    """Read a spec workbook; see the module docstring for what is tolerated and refused."""
    from openpyxl import load_workbook

    path = Path(path)
    if not path.is_file():
        raise SpecError("workbook not found", file=path)
    check_xlsx_package(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises zipfile/KeyError/ValueError for broken files
        raise SpecError(f"not a readable xlsx workbook ({type(exc).__name__}: {exc})", file=path) from None
    try:
        sheets = {_norm(ws.title): ws for ws in wb.worksheets}
        reader = _Reader(path)
        data: dict[str, Any] = {}
        study_ws = sheets.get(_norm("Study"))
        if study_ws is not None:
            study = reader.study(study_ws)
            if study:
                data["study"] = study
        tables = {name: reader.table(sheets[_norm(name)], name) if _norm(name) in sheets else []
                  for name in SHEETS}
    except SpecError:
        raise
    except Exception as exc:  # a corrupt sheet part fails while its rows stream (ParseError, KeyError ...)
        raise SpecError(f"not a readable xlsx workbook: a sheet is corrupt ({type(exc).__name__}: {exc})",
                        file=path) from None
    finally:
        wb.close()
    reader.assemble(data, tables)
    return reader.build(data)


class _Reader:
    def __init__(self, file: Path) -> None:
        self.file = file
        self.where: dict[str, _Cell] = {}  # JSON path -> cell

    # -- sheets -> rows of typed values ---------------------------------------------------
    def study(self, ws) -> dict:
        fields = {_norm(label): key for label, key in STUDY_FIELDS}
        fields.update({_norm(key): key for _, key in STUDY_FIELDS})
        out: dict[str, Any] = {}
        for r, row in enumerate(_values(ws), start=1):
            cells = [self._text(v, _Cell(ws.title, r, "A" if i == 0 else "B")) for i, v in enumerate(row[:2])]
            if len(cells) < 2 or cells[0] is None or _norm(cells[0]) in ("attribute", "field", "name"):
                continue
            key = fields.get(_norm(cells[0]))
            if key is None:
                raise _Cell(ws.title, r, "A").error(f"unknown study attribute {cells[0]!r}", self.file)
            if cells[1] is not None:
                out[key] = cells[1]
                self.where[f"$.study.{key}"] = _Cell(ws.title, r, "B")
        if out:
            out.setdefault("oid", "STDY." + re.sub(r"[^A-Za-z0-9_.-]", "", out.get("name", "STUDY")))
            out.setdefault("name", out["oid"])
        return out

    def table(self, ws, sheet: str) -> list[tuple[int, dict, dict]]:
        columns = SHEETS[sheet]
        rows = _values(ws)
        header, header_row = None, 0
        for header_row, row in enumerate(rows, start=1):
            if any(v is not None and str(v).strip() for v in row):
                header = row
                break
        if header is None:
            return []
        index = self._header_index(header, columns, ws.title, header_row)
        out = []
        for r, row in enumerate(rows, start=header_row + 1):
            if not any(v is not None and str(v).strip() for v in row):
                continue
            values, cells = {}, {}
            for col, i in index.items():
                cell = _Cell(ws.title, r, col.header)
                value = self._convert(row[i] if i < len(row) else None, col, cell)
                values[col.key], cells[col.key] = value, cell
            out.append((r, values, cells))
        return out

    def _header_index(self, header, columns, title: str, row: int) -> dict[Column, int]:
        names = {}
        for col in columns:
            for alias in (col.header, *col.synonyms):
                names.setdefault(_norm(alias), col)
        index: dict[Column, int] = {}
        for i, value in enumerate(header):
            if value is None:
                continue
            col = names.get(_norm(value))
            if col is not None and col not in index:
                index[col] = i
        required = {"Datasets": ("name", "label"), "Variables": ("dataset", "name", "label"),
                    "ValueLevel": ("dataset", "variable", "where_clause"),
                    "WhereClauses": ("oid", "dataset", "variable", "comparator", "values"),
                    "Codelists": ("oid", "name"), "Methods": ("oid", "name", "description"),
                    "Comments": ("oid", "description"), "Documents": ("id", "title", "href"),
                    "Standards": ("oid", "name", "type", "version")}
        for key in required.get(next(s for s, c in SHEETS.items() if c is columns), ()):
            if not any(c.key == key for c in index):
                header_name = next(c.header for c in columns if c.key == key)
                raise SpecError(f"the header row has no {header_name!r} column", file=self.file,
                                sheet=title, row=row, column=header_name)
        return index

    def _text(self, value: Any, cell: _Cell) -> str | None:
        if value is None:
            return None
        if isinstance(value, _Formula):
            raise cell.error(f"formula cells are not accepted in a spec ({value!s}); enter the value", self.file)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool):
            return YES if value else NO
        text = str(value).strip()
        return text or None

    def _convert(self, value: Any, col: Column, cell: _Cell) -> Any:
        text = self._text(value, cell)
        if text is None:
            return None
        if col.kind == "int":
            if not re.fullmatch(r"[+]?\d+(\.0+)?", text):
                raise cell.error(f"{text!r} is not a whole number", self.file)
            return int(float(text))
        if col.kind == "bool":
            norm = text.lower()
            if norm in ("yes", "y", "true", "1"):
                return True
            if norm in ("no", "n", "false", "0"):
                return False
            raise cell.error(f"{text!r} is not Yes or No", self.file)
        if col.kind == "list":
            return [part.strip() for part in re.split(r"[,\s]+", text) if part.strip()]
        if col.kind == "values":
            return _split_values(text)
        return text

    # -- rows -> spec dict -----------------------------------------------------------------
    def _record(self, path: str, values: dict, cells: dict, keys: tuple[str, ...] | None = None) -> dict:
        out = {}
        for key, value in values.items():
            if keys is not None and key not in keys:
                continue
            if value is not None:
                out[key] = value
                self.where[f"{path}.{key}"] = cells[key]
        self.where[path] = next(iter(cells.values()))
        return out

    def assemble(self, data: dict, tables: dict[str, list]) -> None:
        for sheet, key in (("Standards", "standards"), ("ValueLevel", "value_level"),
                           ("Methods", "methods"), ("Comments", "comments"), ("Documents", "documents")):
            data[key] = [self._record(f"$.{key}[{i}]", values, cells)
                         for i, (_, values, cells) in enumerate(tables[sheet])]
        self._datasets(data, tables["Datasets"], tables["Variables"])
        self._where_clauses(data, tables["WhereClauses"])
        self._codelists(data, tables["Codelists"])
        for key in [k for k, v in data.items() if v == []]:
            del data[key]

    def _datasets(self, data: dict, dataset_rows: list, variable_rows: list) -> None:
        datasets: list[dict] = []
        position: dict[str, int] = {}
        for _, values, cells in dataset_rows:
            path = f"$.datasets[{len(datasets)}]"
            record = self._record(path, values, cells)
            name = record.get("name")
            if name is None:
                raise cells["name"].error("a dataset row needs a Dataset name", self.file)
            if name in position:
                raise cells["name"].error(f"dataset {name} is listed twice", self.file)
            position[name] = len(datasets)
            record["variables"] = []
            datasets.append(record)
        for _, values, cells in variable_rows:
            ds = values.get("dataset")
            if ds not in position:
                raise cells["dataset"].error(f"dataset {ds!r} is not on the Datasets sheet", self.file)
            i = position[ds]
            path = f"$.datasets[{i}].variables[{len(datasets[i]['variables'])}]"
            values = {k: v for k, v in values.items() if k != "dataset"}
            datasets[i]["variables"].append(self._record(path, values, cells))
        data["datasets"] = datasets

    def _where_clauses(self, data: dict, rows: list) -> None:
        clauses: list[dict] = []
        position: dict[str, int] = {}
        for _, values, cells in rows:
            oid = values.get("oid")
            if oid not in position:
                position[oid] = len(clauses)
                path = f"$.where_clauses[{len(clauses)}]"
                clauses.append(self._record(path, values, cells, keys=("oid", "comment")))
                clauses[-1]["checks"] = []
            clause = clauses[position[oid]]
            path = f"$.where_clauses[{position[oid]}].checks[{len(clause['checks'])}]"
            clause["checks"].append(self._record(path, values, cells,
                                                 keys=("dataset", "variable", "comparator", "values")))
        data["where_clauses"] = clauses

    def _codelists(self, data: dict, rows: list) -> None:
        lists: list[dict] = []
        position: dict[str, int] = {}
        item_keys = {"item_order": "order", "value": "value", "item_code": "code", "decode": "decode",
                     "extended": "extended"}
        for _, values, cells in rows:
            oid = values.get("oid")
            if oid not in position:
                position[oid] = len(lists)
                lists.append(self._record(f"$.codelists[{len(lists)}]", values, cells, keys=_CODELIST_HEAD))
                lists[-1]["items"] = []
            cl = lists[position[oid]]
            if values.get("value") is None:
                if any(values.get(k) is not None for k in item_keys if k != "value"):
                    raise cells["value"].error("a codelist row with term details needs a Term", self.file)
                continue
            path = f"$.codelists[{position[oid]}].items[{len(cl['items'])}]"
            item = {item_keys[k]: v for k, v in values.items() if k in item_keys and v is not None}
            for k in item_keys:
                if values.get(k) is not None:
                    self.where[f"{path}.{item_keys[k]}"] = cells[k]
            self.where[path] = cells["value"]
            cl["items"].append(item)
        data["codelists"] = lists

    # -- validation with cell locations ----------------------------------------------------
    def build(self, data: dict) -> Spec:
        from specs.jsonio import first_schema_error, json_path, schema_message

        err = first_schema_error(data, "spec")
        if err is not None:  # a missing key is reported in its own column of the row
            missing = err.message.split("'")[1] if err.validator == "required" else None
            raise SpecError(schema_message(err), **self._kwargs(json_path(err.absolute_path), missing))
        spec = Spec.from_dict(data)
        paths = _object_paths(spec, data)
        validate_spec(spec, lambda obj, field: self._kwargs(paths.get(id(obj), "$"), field))
        return spec

    def _locate(self, path: str) -> _Cell:
        while path not in self.where and ("." in path or "[" in path):
            path = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", path)
        return self.where.get(path, _Cell("?", 0, "?"))

    def _kwargs(self, path: str, field: str | None) -> dict:
        key = {"class_": "class", "where_clause": "where_clause"}.get(field or "", field)
        cell = self._locate(f"{path}.{key}" if key else path)
        column = cell.column
        if key and f"{path}.{key}" not in self.where:
            column = _header_for(key, cell.sheet) or column
        return {"file": self.file, "sheet": cell.sheet, "row": cell.row, "column": column}


#: One value of a comma-separated list: "quoted" (kept exactly, "" for a quote) or plain (trimmed).
_LIST_VALUE = re.compile(r'\s*(?:"((?:[^"]|"")*)"|([^,]*?))\s*(,|\Z)')


def _split_values(text: str) -> list[str]:
    """Where-clause values: ``F, M`` or CSV-quoted ``"a, b", ""`` (quotes keep commas, spaces
    and empty values exactly). Every text splits: a plain value runs to the next comma."""
    out: list[str] = []
    position = 0
    while True:
        match = _LIST_VALUE.match(text, position)
        quoted, plain, separator = match.groups()
        out.append(quoted.replace('""', '"') if quoted is not None else plain)
        position = match.end()
        if not separator:
            return out


class _Formula(str):
    """The text of a formula cell (refused by the reader)."""


def _values(ws):
    """Rows of cell values; formula cells come back as :class:`_Formula`."""
    for row in ws.iter_rows():
        yield tuple(_Formula(c.value) if getattr(c, "data_type", None) == "f" else c.value for c in row)


def _header_for(key: str, sheet: str) -> str | None:
    """The header of ``key``'s column on ``sheet`` (its title as the workbook spells it)."""
    columns = next((cols for name, cols in SHEETS.items() if _norm(name) == _norm(sheet)), ())
    return next((col.header for col in columns if col.key == key), None)


def _object_paths(spec: Spec, data: dict) -> dict[int, str]:
    paths: dict[int, str] = {}
    for key in ("standards", "documents", "codelists", "value_level", "where_clauses", "methods", "comments"):
        for i, obj in enumerate(getattr(spec, key)):
            paths[id(obj)] = f"$.{key}[{i}]"
    for i, cl in enumerate(spec.codelists):
        for k, item in enumerate(cl.items):
            paths[id(item)] = f"$.codelists[{i}].items[{k}]"
    for i, ds in enumerate(spec.datasets):
        paths[id(ds)] = f"$.datasets[{i}]"
        raw_order = {v["name"]: j for j, v in enumerate(data["datasets"][i]["variables"])}
        for var in ds.variables:
            paths[id(var)] = f"$.datasets[{i}].variables[{raw_order[var.name]}]"
    if spec.study is not None:
        paths[id(spec.study)] = "$.study"
    return paths

