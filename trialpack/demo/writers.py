"""Byte-reproducible CSV and XLSX writers for the demo's raw exports.

Both take a table of text columns (``pyarrow`` string arrays, null = empty cell). CSV is written
by Arrow's CSV writer, which quotes every text value (as many EDC exports do) and leaves empty
cells unquoted. XLSX is one worksheet of inline strings (numbers as numeric cells for the listed
columns) written directly as SpreadsheetML: the document properties are fixed and every zip entry
carries the same timestamp, so the same table always gives the same bytes; building the sheet
with Arrow string kernels keeps 100,000-row sheets fast.
"""
from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

#: Timestamp of every XLSX zip entry and of the document properties.
XLSX_TIMESTAMP = (2026, 1, 15, 9, 0, 0)
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def write_csv(table: pa.Table, path: Path, *, delimiter: str = ",") -> None:
    pa_csv.write_csv(table, str(path), pa_csv.WriteOptions(delimiter=delimiter))


def write_xlsx(table: pa.Table, path: Path, *, sheet: str, numeric: frozenset[str] = frozenset()) -> None:
    """One worksheet named ``sheet``; columns named in ``numeric`` become numeric cells."""
    stamp = "%04d-%02d-%02dT%02d:%02d:%02dZ" % XLSX_TIMESTAMP
    parts = {
        "[Content_Types].xml": _content_types(),
        "_rels/.rels": _package_rels(),
        "docProps/core.xml": _core_properties(stamp),
        "docProps/app.xml": _XML + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/'
                                   '2006/extended-properties"><Application>trialpack</Application></Properties>',
        "xl/workbook.xml": _XML + f'<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}"><sheets>'
                                  f'<sheet name="{_escape_text(sheet)}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": _XML + f'<Relationships xmlns="{_PKG_REL_NS}">'
        f'<Relationship Id="rId1" Type="{_REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_REL_NS}/styles" Target="styles.xml"/></Relationships>',
        "xl/styles.xml": _styles(),
    }
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in parts.items():
            archive.writestr(_entry(name), text.encode("utf-8"))
        with archive.open(_entry("xl/worksheets/sheet1.xml"), "w", force_zip64=True) as sheet_file:
            for piece in _sheet_xml(table, numeric):
                sheet_file.write(piece)


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=XLSX_TIMESTAMP)
    info.compress_type = zipfile.ZIP_DEFLATED
    try:  # fast deflate: sheets can have 100,000 rows
        info.compress_level = 1  # Python >= 3.13
    except AttributeError:
        info._compresslevel = 1
    info.external_attr = 0o644 << 16
    return info


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _escape(values: pa.Array) -> pa.Array:
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        values = pc.replace_substring(values, char, entity)
    return values


ROWS_PER_PIECE = 4_000


def _sheet_xml(table: pa.Table, numeric: frozenset[str]) -> Iterator[bytes | memoryview]:
    """The worksheet XML in pieces of ROWS_PER_PIECE rows, so memory stays bounded."""
    n = table.num_rows
    header = "".join(
        f'<c r="{column_letter(j)}1" t="inlineStr"><is><t>{_escape_text(name)}</t></is></c>'
        for j, name in enumerate(table.column_names))
    last = f"{column_letter(max(table.num_columns - 1, 0))}{n + 1}"
    yield (_XML + f'<worksheet xmlns="{_MAIN_NS}"><dimension ref="A1:{last}"/><sheetData>'
           f'<row r="1">{header}</row>').encode("utf-8")
    for first in range(0, n, ROWS_PER_PIECE):
        yield _rows_xml(table.slice(first, ROWS_PER_PIECE), first + 2, numeric)
    yield b"</sheetData></worksheet>"


def _rows_xml(table: pa.Table, first_row: int, numeric: frozenset[str]) -> memoryview:
    row_numbers = pa.array(np.arange(first_row, first_row + table.num_rows)).cast(pa.string())
    cells = []
    for j, name in enumerate(table.column_names):  # one vectorised pass per column
        values = table.column(name).combine_chunks()
        if name in numeric:
            cell = pc.binary_join_element_wise(
                f'<c r="{column_letter(j)}', row_numbers, '"><v>', values, "</v></c>", "")
        else:
            cell = pc.binary_join_element_wise(
                f'<c r="{column_letter(j)}', row_numbers, '" t="inlineStr"><is><t xml:space="preserve">',
                _escape(values), "</t></is></c>", "")
        cells.append(pc.fill_null(cell, ""))
    rows = pc.binary_join_element_wise('<row r="', row_numbers, '">', *cells, "</row>", "")
    return _concatenated(rows)


def _concatenated(values: pa.Array) -> memoryview:
    """All values of a null-free string array, joined: a view of Arrow's data buffer (no copy)."""
    if len(values) == 0:
        return memoryview(b"")
    _, offsets, data = values.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int32)[values.offset:values.offset + len(values) + 1]
    return memoryview(data)[int(bounds[0]):int(bounds[-1])]


def _content_types() -> str:
    sheet = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    return (_XML + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{sheet}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{sheet}.worksheet+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{sheet}.styles+xml"/>'
            '<Override PartName="/docProps/core.xml" '
            'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            '<Override PartName="/docProps/app.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
            '</Types>')


def _package_rels() -> str:
    return (_XML + f'<Relationships xmlns="{_PKG_REL_NS}">'
            f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
            f'<Relationship Id="rId2" Type="{_PKG_REL_NS}/metadata/core-properties" Target="docProps/core.xml"/>'
            f'<Relationship Id="rId3" Type="{_REL_NS}/extended-properties" Target="docProps/app.xml"/>'
            '</Relationships>')


def _core_properties(stamp: str) -> str:
    return (_XML + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
            'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/'
            'terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>trialpack demo'
            f'</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified></cp:coreProperties>')


def _styles() -> str:
    return (_XML + f'<styleSheet xmlns="{_MAIN_NS}">'
            '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            '</styleSheet>')
