"""The raw CSV reader's two paths agree: the record layout (field counts by the strict
grammar, computed over the bytes) and Arrow's parser on one side; the csv module's strict
reader and pandas on the other. The second is the reference: Python's csv module implements
the grammar record by record. The record layout has a C kernel (``_trialpack_csv``) and a
numpy twin: both give the known answers, and the same answer for any bytes."""
from __future__ import annotations

import csv
import datetime as dt
import io
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fileformats import rawio
from fileformats.rawio import _read_csv_by_arrow, _read_csv_by_pandas, _record_layout, _record_layout_numpy, read_raw
from specs.errors import InputError

C_LAYOUT = rawio._csv_kernel
needs_c_layout = pytest.mark.skipif(C_LAYOUT is None, reason="the C record layout is not built here")

FIELD = st.one_of(
    st.text(alphabet=st.sampled_from(list("ab c1é")), max_size=4),                       # unquoted
    st.text(alphabet=st.sampled_from(list('ab ,;"\n')), max_size=5).map(                # quoted, escaped
        lambda t: '"' + t.replace('"', '""') + '"'),
    st.sampled_from(['a"b', '"a"b', '  ', '"', '""', '"x"  ']),                          # odd ones
)


@st.composite
def csv_text(draw) -> tuple[str, str]:
    delimiter = draw(st.sampled_from([",", ";", "|"]))
    width = draw(st.integers(1, 4))
    header = delimiter.join(f"H{i}" for i in range(width))
    lines = [header]
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["row", "row", "row", "blank", "spaces", "short", "long"]))
        n = {"row": width, "short": max(width - 1, 1), "long": width + 1}.get(kind)
        lines.append("" if kind == "blank" else "   " if kind == "spaces" else
                     delimiter.join(draw(FIELD) for _ in range(n)))
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\n\n"])), delimiter


def by_reference(text: str, delimiter: str):
    header = next(csv.reader(io.StringIO(text), delimiter=delimiter))
    try:
        frame = _read_csv_by_pandas(text, header, delimiter, "t.csv")
    except InputError as exc:
        return ("error", exc.row)
    return frame


def by_arrow(text: str, delimiter: str):
    data = text.encode("utf-8")
    layout = _record_layout(data, delimiter)
    if layout is None:
        return None
    header = next(csv.reader(io.StringIO(text), delimiter=delimiter))
    try:
        frame = _read_csv_by_arrow(data, header, layout, delimiter, "t.csv")
    except InputError as exc:
        return ("error", exc.row)
    return frame


def kept(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows that are not blank (all fields empty after stripping), with their row numbers."""
    rows = frame.attrs.get("record_rows", np.arange(len(frame)) + 2)
    text = frame.astype(object).fillna("")
    blank = text.apply(lambda c: c.str.strip() == "").all(axis=1).to_numpy() if len(frame.columns) else \
        np.zeros(len(frame), bool)
    out = text[~blank].reset_index(drop=True)
    out.insert(0, "_row", np.asarray(rows)[~blank])
    return out


@settings(max_examples=400, deadline=None)
@given(csv_text())
def test_arrow_path_reads_what_the_csv_module_reads(case):
    text, delimiter = case
    arrow = by_arrow(text, delimiter)
    if arrow is None:  # the fast layout declined: the reference path alone reads such files
        return
    reference = by_reference(text, delimiter)
    if isinstance(reference, tuple) or isinstance(arrow, tuple):
        assert arrow == reference
        return
    pd.testing.assert_frame_equal(kept(arrow), kept(reference), check_dtype=False)


@settings(max_examples=400, deadline=None)
@given(csv_text())
def test_layout_field_counts_equal_the_strict_csv_module(case):
    text, delimiter = case
    layout = _record_layout(text.encode("utf-8"), delimiter)
    try:
        widths = [len(r) for r in csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)]
    except csv.Error:
        assert layout is None  # a broken record is left to the path that names its row
        return
    if layout is not None:
        assert layout.widths.tolist() == widths


LAYOUTS = [pytest.param(_record_layout_numpy, id="numpy"),
           pytest.param(_record_layout, id="C", marks=needs_c_layout)]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("text, starts, ends, widths", [
    ('A,B\n1,2\n', [0, 4], [3, 7], [2, 2]),
    ('A,B\n"1,5",2\n\n"x\ny",""""\n', [0, 4, 12, 13], [3, 11, 12, 23], [2, 2, 0, 2]),
    ('A;B\n"a;b";"c""d"\n   \n', [0, 4, 17], [3, 16, 20], [2, 2, 1]),
    ('A,B\n1,2', [0, 4], [3, 7], [2, 2]),
    ('A|B\n""|"|"\n\n', [0, 4, 11], [3, 10, 11], [2, 2, 0]),
])
def test_layout_known_counts(layout, text, starts, ends, widths):
    found = layout(text.encode(), text[1])
    assert (found.starts.tolist(), found.ends.tolist(), found.widths.tolist()) == (starts, ends, widths)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("text", ['A,B\n"1"x,2\n', 'A,B\na"b,2\n', 'A,B\n"open,2\n', 'A,B\n"a""b,2\n',
                                  'A,B\n1,"2" \n'])
def test_layout_declines_what_it_cannot_place(layout, text):
    assert layout(text.encode(), ",") is None


@needs_c_layout
@settings(max_examples=1500, deadline=None)
@given(st.binary(max_size=40).map(lambda b: bytes(b'",;\nab \x00'[x % 8] for x in b)),
       st.sampled_from([",", ";", "a", "\x00"]))
def test_c_layout_equals_numpy_for_any_bytes(data, delimiter):
    fast = _record_layout(data, delimiter)
    with mock.patch.object(rawio, "_csv_kernel", None):
        slow = _record_layout(data, delimiter)
    assert (fast is None) == (slow is None)
    if fast is not None:
        for part in ("starts", "ends", "widths"):
            assert getattr(fast, part).tolist() == getattr(slow, part).tolist()


@needs_c_layout
def test_c_layout_refuses_an_output_buffer_too_small():
    with pytest.raises(ValueError, match="output buffer"):
        C_LAYOUT.record_layout(b"a\nb\nc\n", ord(","), np.empty((3, 2), dtype=np.int64))


def test_rows_and_blank_records_as_a_spreadsheet_numbers_them(tmp_path):
    path = tmp_path / "dm.csv"
    path.write_text('Subj,Sex\n"001",M\n\n   \n"002","F"\n,\n"003\nb",M\n')
    table = read_raw(path, {"SUBJID": "Subj", "SEX": "Sex"})
    assert table.frame["_RAWROW"].tolist() == [2, 5, 7]
    assert table.frame["SUBJID"].tolist() == ["001", "002", "003\nb"]
    assert table.blank_rows == 3


def test_a_lone_empty_quoted_field_is_a_blank_row(tmp_path):
    path = tmp_path / "dm.csv"
    path.write_text('Subj,Sex\n""\n001,M\n')
    table = read_raw(path, {"SUBJID": "Subj", "SEX": "Sex"})
    assert table.frame["_RAWROW"].tolist() == [3]
    assert table.blank_rows == 1


def test_a_wrong_width_row_is_reported_before_a_one_field_row(tmp_path):
    """Both paths name the first row whose width is neither the header's nor 1 before a
    one-field row that is not blank (found by the property test above)."""
    path = tmp_path / "x.csv"
    path.write_text('H0,H1,H2\n",,,"\n",",\n')
    with pytest.raises(InputError) as err:
        read_raw(path, {"A": "H0"})
    assert err.value.row == 3


# -- XLSX: python-calamine reads what openpyxl reads ------------------------------------

CELL = st.one_of(
    st.none(), st.text(alphabet=st.sampled_from(list("ab 1-/é")), max_size=5),
    st.integers(-10**9, 10**9), st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False).map(lambda f: round(f, 3)),
    st.booleans(), st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2050, 1, 1)),
    st.datetimes(min_value=dt.datetime(1950, 1, 1), max_value=dt.datetime(2050, 1, 1)).map(lambda d: d.replace(microsecond=0)),
)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2), st.integers(0, 2),
       st.lists(st.lists(CELL, min_size=1, max_size=4), min_size=1, max_size=6))
def test_calamine_reads_what_openpyxl_reads(tmp_path_factory, top, left, rows):
    """The fast xlsx path (python-calamine) gives the header and records of the openpyxl
    path, the reference, for strings, numbers, dates, datetimes and booleans placed anywhere."""
    from openpyxl import Workbook

    from fileformats import rawio

    wb = Workbook()
    ws = wb.active
    for r, row in enumerate(rows, start=1 + top):
        for c, value in enumerate(row, start=1 + left):
            ws.cell(row=r, column=c, value=value)
    path = tmp_path_factory.mktemp("xlsx") / "raw.xlsx"
    wb.save(path)
    if rawio._calamine_sheet(path, None) is None:
        pytest.skip("python-calamine is not installed")

    def read():
        try:
            header, frame = rawio._read_xlsx(path, "raw.xlsx", None)
        except InputError as exc:
            return exc.message
        return header, frame.astype(object).to_numpy().tolist()

    fast = read()
    with pytest.MonkeyPatch.context() as m:
        m.setattr(rawio, "_calamine_sheet", lambda *a: None)
        assert fast == read()


def test_a_workbook_with_a_formula_is_read_by_openpyxl_which_names_the_cell(tmp_path):
    from openpyxl import Workbook

    from fileformats.rawio import _calamine_sheet

    wb = Workbook()
    wb.active["A1"], wb.active["A2"], wb.active["B2"] = "Subj", "001", "=1+2"
    wb.save(tmp_path / "dm.xlsx")
    assert _calamine_sheet(tmp_path / "dm.xlsx", None) is None
    with pytest.raises(InputError) as err:
        read_raw(tmp_path / "dm.xlsx", {"SUBJID": "Subj"})
    assert "formula" in err.value.message and err.value.row == 2 and err.value.column == "B"
