"""The study config's mappings as the Mapping sheet of a spec workbook (sdtm.mappingsheet): JSON ->
sheet -> JSON gives the same mappings, a cell that cannot be read is refused naming sheet, row and
column, and a study whose mappings live in its spec workbook builds the same SDTM as with them in
its JSON config."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdtm.mappingsheet import HEADER, mappings_from_rows, parse_condition, sheet_rows
from specs.errors import InputError
from tests.cli_support import run_cli

CORPUS = Path(__file__).resolve().parent / "integrations"


def round_trip(maps: dict) -> dict:
    rows = [(i + 2, dict(zip(HEADER, row))) for i, row in enumerate(sheet_rows(maps))]
    return mappings_from_rows(rows)


def corpus_maps() -> list[dict]:
    out = []
    for path in sorted(CORPUS.glob("*/studies/*.json")):
        files = json.loads(path.read_text()).get("raw", {}).get("files", {})
        maps = {d: f["map"] for d, f in files.items() if f.get("map")}
        if maps:
            out.append(maps)
    return out


def normal(maps: dict) -> dict:
    """Mappings as the sheet writes them back: a bare field name is the field algorithm."""
    def one(m):
        if isinstance(m, str):
            return {"field": m}
        if isinstance(m, dict) and "cases" in m:
            out = {"cases": [{"when": c["when"], "then": one(c["then"]) if isinstance(c["then"], dict) else c["then"]}
                             for c in m["cases"]]}
            if "else" in m:
                out["else"] = one(m["else"]) if isinstance(m["else"], dict) else m["else"]
            return {**out, **({"value_map": m["value_map"]} if "value_map" in m else {})}
        return m
    return {d: {v: one(m) for v, m in vs.items()} for d, vs in maps.items()}


def test_the_corpus_mappings_round_trip():
    maps = corpus_maps()
    assert maps, "the corpus has mappings (legacy-edc)"
    for m in maps:
        assert round_trip(m) == normal(m)


def test_sheet_rows_read_as_a_user_writes_them():
    rows = [
        ["DM", "SITEID", "extract", "PATNUM", "^(\\d+)-", None, None],
        ["DS", "DSCAT", "constant", None, "PROTOCOL MILESTONE", 'DSDECOD in codelist PROTMLST', None],
        ["DS", "DSCAT", "constant", None, "OTHER EVENT", 'DSDECOD in ("DEATH", "LOST") and DSOTHER is not empty', None],
        ["DS", "DSCAT", "constant", None, "DISPOSITION EVENT", "else", None],
        ["DM", "ARMCD", "field", "TRTGRP", None, None, '{"Screen Failure": null}'],
    ]
    got = mappings_from_rows([(i + 2, dict(zip(HEADER, r))) for i, r in enumerate(rows)])
    assert got == {
        "DM": {"SITEID": {"field": "PATNUM", "extract": "^(\\d+)-"},
               "ARMCD": {"field": "TRTGRP", "value_map": {"Screen Failure": None}}},
        "DS": {"DSCAT": {"cases": [
            {"when": {"field": "DSDECOD", "in_codelist": "PROTMLST"}, "then": "PROTOCOL MILESTONE"},
            {"when": [{"field": "DSDECOD", "in": ["DEATH", "LOST"]}, {"field": "DSOTHER", "empty": False}],
             "then": "OTHER EVENT"}],
            "else": "DISPOSITION EVENT"}}}


@pytest.mark.parametrize("row, column, words", [
    (["DM", "SITEID", "regex", "PATNUM", "x", None, None], "Algorithm", "algorithm 'regex' is none of"),
    (["DM", "SITEID", "field", None, None, None, None], "Field", "field reads one field"),
    (["DS", "DSCAT", "constant", None, "X", "DSDECOD looks like RANDOMIZED", None], "Condition", "is none of"),
    (["DM", "ARMCD", "field", "TRTGRP", None, None, "{Screen Failure: null}"], "Value map", "not JSON"),
    ([None, "ARMCD", "field", "TRTGRP", None, None, None], "Form", "Form is empty"),
])
def test_a_cell_that_cannot_be_read_is_refused_naming_sheet_row_and_column(row, column, words):
    with pytest.raises(InputError) as err:
        mappings_from_rows([(5, dict(zip(HEADER, row)))])
    assert (err.value.sheet, err.value.row, err.value.column) == ("Mapping", 5, column)
    assert words in err.value.message


names = st.from_regex(r"[A-Z][A-Z0-9]{0,6}", fullmatch=True)
texts = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=12)
conditions = st.one_of(
    st.builds(lambda f, v: {"field": f, "equals": v}, names, texts),
    st.builds(lambda f, v: {"field": f, "in": v}, names, st.lists(texts, min_size=1, max_size=3)),
    st.builds(lambda f, e: {"field": f, "empty": e}, names, st.booleans()),
    st.builds(lambda f, c: {"field": f, "in_codelist": c}, names, names))


@settings(max_examples=200, deadline=None)
@given(st.lists(conditions, min_size=1, max_size=3))
def test_any_condition_reads_back_as_written(conds):
    from sdtm.mappingsheet import condition_text

    when = conds[0] if len(conds) == 1 else conds

    def fail(message, column):
        raise AssertionError(message)

    assert parse_condition(condition_text(when), fail) == when


def test_a_study_whose_mappings_live_in_its_spec_workbook_builds_the_same(tmp_path):
    """legacy-edc: `trialpack spec export` of its study config writes the workbook (its spec and a
    Mapping sheet); the config without its JSON mappings, naming the workbook as its spec, builds
    SDTM identical, file for file, to the JSON-mapped build."""
    case = tmp_path / "legacy-edc"
    shutil.copytree(CORPUS / "legacy-edc", case)
    study = case / "studies" / "xnl-td-302.json"
    proc = run_cli("spec", "export", str(study), str(case / "studies" / "xnl-spec.xlsx"), cwd=tmp_path)
    assert proc.returncode == 0 and "mappings" in proc.stdout, proc.stderr
    built = run_cli("build", "iss.json", "--out", str(tmp_path / "json-mapped"), "--quiet", cwd=case)
    assert built.returncode == 0, built.stderr
    data = json.loads(study.read_text())
    for f in data["raw"]["files"].values():
        f.pop("map", None)
    data["spec"] = "xnl-spec.xlsx"
    study.write_text(json.dumps(data, indent=1))
    again = run_cli("build", "iss.json", "--out", str(tmp_path / "sheet-mapped"), "--quiet", cwd=case)
    assert again.returncode == 0, again.stderr
    sdtm = Path("m5/datasets/xnl-td-302/tabulations/sdtm")
    for name in ("dm.xpt", "ae.xpt", "ex.xpt", "ds.xpt"):
        assert (tmp_path / "json-mapped" / sdtm / name).read_bytes() == (tmp_path / "sheet-mapped" / sdtm / name).read_bytes()
