"""The spec workbook: lossless round trip, tolerant import, exact error locations."""
from __future__ import annotations

import pytest
from openpyxl import Workbook, load_workbook

from specs import SpecError
from specs.workbook import SHEET_ORDER, read_workbook, write_workbook
from tests.test_spec_load import small_spec


def test_round_trip_is_lossless(tmp_path):
    spec = small_spec()
    spec.where_clauses[0].checks[0].values = ["F", "a, b", 'say "hi"', ""]
    spec.where_clauses[0].checks[0].comparator = "IN"
    spec.methods[0].description = "=1+1 is text, not a formula"
    path = write_workbook(spec, tmp_path / "spec.xlsx")
    assert load_workbook(path).sheetnames == list(SHEET_ORDER)
    assert read_workbook(path) == spec


@pytest.mark.parametrize("values", [[""], ["", "M"], ["F", ""]])
def test_an_empty_where_clause_value_survives_the_round_trip(tmp_path, values):
    spec = small_spec()
    spec.where_clauses[0].checks[0].values = values
    spec.where_clauses[0].checks[0].comparator = "IN"
    assert read_workbook(write_workbook(spec, tmp_path / "spec.xlsx")) == spec


@pytest.mark.parametrize("name", ["sdtmig-3.4", "adamig-1.3"])
def test_shipped_standard_specs_round_trip_losslessly(tmp_path, name):
    from specs import standard_spec

    spec = standard_spec(name)
    assert read_workbook(write_workbook(spec, tmp_path / f"{name}.xlsx")) == spec


def test_text_that_looks_like_a_formula_is_written_as_text(tmp_path):
    spec = small_spec()
    spec.methods[0].description = "=HYPERLINK(\"http://x\")"
    path = write_workbook(spec, tmp_path / "spec.xlsx")
    cell = load_workbook(path)["Methods"]["D2"]
    assert cell.data_type == "s" and cell.value == spec.methods[0].description


def messy_workbook(path):
    """What real workbooks look like: a README sheet, odd header case and spacing, blank rows,
    trailing spaces, numbers stored as text and floats where integers belong."""
    wb = Workbook()
    readme = wb.active
    readme.title = "README"
    readme.append(["This workbook is the study spec. Do not edit the Study sheet."])
    ws = wb.create_sheet("datasets")
    ws.append(["  DATASET ", "description", "CLASS", "Key Variables", "Repeating"])
    ws.append([])
    ws.append(["DM ", "Demographics  ", "SPECIAL PURPOSE", "STUDYID, USUBJID", "no"])
    ws = wb.create_sheet("VARIABLES")
    ws.append(["order", "Dataset", "Variable", "Label", "data type", "LENGTH", "Codelist", "Core"])
    ws.append([1.0, "DM", "STUDYID", "Study Identifier ", "text", "12", None, "Req"])
    ws.append([None] * 8)
    ws.append(["2", "DM", "USUBJID", "Unique Subject Identifier", "text", 20.0, None, "Req"])
    ws.append([3, "DM", "SEX", "Sex", "text", 1, "CL.SEX", "Req"])
    ws = wb.create_sheet("Code lists")
    ws.append(["ID", "Name", "NCI Codelist Code", "Term", "NCI Term Code", "Decoded Value", "Extensible"])
    ws.append(["CL.SEX", "Sex", "C66731", "F", "C16576", "Female", "No"])
    ws.append(["CL.SEX", "Sex", "C66731", "M ", "C20197", "Male", "No"])
    wb.save(path)
    return path


def test_messy_workbook_imports(tmp_path):
    spec = read_workbook(messy_workbook(tmp_path / "messy.xlsx"))
    dm = spec.dataset("DM")
    assert dm.label == "Demographics" and dm.keys == ["STUDYID", "USUBJID"] and dm.repeating is False
    assert dm.names == ["STUDYID", "USUBJID", "SEX"]
    assert dm.variable("STUDYID").length == 12 and dm.variable("USUBJID").length == 20
    assert dm.variable("STUDYID").label == "Study Identifier"
    assert spec.codelist("CL.SEX").values() == ["F", "M"]
    assert spec.codelist("CL.SEX").items[0].decode == "Female"


def break_cell(path, sheet, cell, value):
    wb = load_workbook(path)
    wb[sheet][cell] = value
    wb.save(path)


@pytest.mark.parametrize("sheet, cell, value, row, column, words", [
    ("VARIABLES", "F2", "twelve", 2, "Length", "not a whole number"),
    ("VARIABLES", "C5", "SEXTOOLONG", 5, "Variable", "not a valid SAS name"),
    ("VARIABLES", "G5", "CL.GENDER", 5, "Codelist", "unknown codelist"),
    ("VARIABLES", "B4", "XX", 4, "Dataset", "not on the Datasets sheet"),
    ("VARIABLES", "D5", "S" * 41, 5, "Label", "longer than 40"),
    ("VARIABLES", "F5", 250, 5, "Length", "200"),
    ("datasets", "E3", "sometimes", 3, "Repeating", "not Yes or No"),
    ("VARIABLES", "D2", "=CONCAT(\"Study\", \" Id\")", 2, "Label", "formula"),
    ("Code lists", "D3", "F", 3, "Term", "duplicate term of codelist CL.SEX 'F'"),
    ("datasets", "A3", None, 3, "Dataset", "a dataset row needs a Dataset name"),
    ("VARIABLES", "D4", None, 4, "Label", "'label' is a required property"),
])
def test_broken_workbook_names_sheet_row_and_column(tmp_path, sheet, cell, value, row, column, words):
    path = messy_workbook(tmp_path / "broken.xlsx")
    break_cell(path, sheet, cell, value)
    with pytest.raises(SpecError) as err:
        read_workbook(path)
    assert (err.value.sheet.lower(), err.value.row, err.value.column) == (sheet.lower(), row, column), str(err.value)
    assert words in str(err.value)


def test_missing_required_header_is_reported(tmp_path):
    path = messy_workbook(tmp_path / "nohead.xlsx")
    break_cell(path, "VARIABLES", "C1", "Name of thing")
    with pytest.raises(SpecError) as err:
        read_workbook(path)
    assert err.value.sheet == "VARIABLES" and err.value.row == 1 and "'Variable'" in str(err.value)


def test_not_a_workbook(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_text("hello")
    with pytest.raises(SpecError, match="not a readable xlsx"):
        read_workbook(path)
