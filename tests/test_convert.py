"""trialpack.convert and ``trialpack convert IN OUT`` (.xpt, .json, .ndjson, .csv).

The pilot's SAS-written XPT files go to Dataset-JSON and back: the NAMESTR records and
every observation byte must survive (labels, lengths, formats carried by the JSON).
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from jsonschema import Draft201909Validator

from fileformats.xpt import read_xpt, write_xpt
from specs.errors import InputError
from trialpack.cli import main
from trialpack.convert import convert

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SDTM = DATA / "cdiscpilot01" / "sdtm"
CREATED = dt.datetime(2024, 1, 2, 3, 4, 5)
needs_pilot = pytest.mark.skipif(not SDTM.is_dir(), reason="../shared/data/cdiscpilot01 is absent")


def _body(data: bytes) -> bytes:
    """NAMESTR header, records and observations: everything after the member records."""
    return data[7 * 80:]


@needs_pilot
@pytest.mark.parametrize("name", ["ae.xpt", "ds.xpt", "dm.xpt", "ts.xpt", "suppae.xpt"])
@pytest.mark.parametrize("via", [".json", ".ndjson"])
def test_pilot_xpt_to_dataset_json_and_back_is_byte_exact(tmp_path, name, via):
    source = SDTM / name
    middle = tmp_path / Path(name).with_suffix(via).name
    convert(source, middle, created=CREATED)
    text = {} if name != "ts.xpt" else {"profile": "utf8", "encoding": "cp1252"}
    back = tmp_path / name
    convert(middle, back, created=CREATED, **text)
    assert _body(back.read_bytes()) == _body(source.read_bytes())


PILOT = sorted(SDTM.glob("*.xpt")) if SDTM.is_dir() else []


@needs_pilot
@pytest.mark.parametrize("source", PILOT, ids=[p.name for p in PILOT])
def test_every_pilot_dataset_converts_to_valid_dataset_json(tmp_path, source):
    out = tmp_path / source.with_suffix(".json").name
    convert(source, out, created=CREATED)
    document = json.loads(out.read_text(encoding="utf-8"))
    schema = json.loads((DATA / "schemas" / "dataset-json-1.1" / "dataset.schema.json").read_text())
    assert list(Draft201909Validator(schema).iter_errors(document)) == []
    frame, _ = read_xpt(source)
    assert document["records"] == len(frame) == len(document["rows"])
    assert [c["name"] for c in document["columns"]] == list(frame.columns)


@needs_pilot
def test_pilot_dataset_json_validates_and_types_numbers(tmp_path):
    out = tmp_path / "dm.json"
    convert(SDTM / "dm.xpt", out, created=CREATED)
    document = json.loads(out.read_text())
    schema = json.loads((DATA / "schemas" / "dataset-json-1.1" / "dataset.schema.json").read_text())
    assert list(Draft201909Validator(schema).iter_errors(document)) == []
    columns = {c["name"]: c for c in document["columns"]}
    assert columns["AGE"]["dataType"] == "integer"       # every AGE is whole
    assert columns["USUBJID"] == {"itemOID": "IT.DM.USUBJID", "name": "USUBJID",
                                  "label": "Unique Subject Identifier", "dataType": "string", "length": 11}
    frame, _ = read_xpt(SDTM / "dm.xpt")
    assert [row[list(columns).index("AGE")] for row in document["rows"]] == frame["AGE"].astype(int).tolist()


def test_json_to_ndjson_keeps_the_column_metadata(tmp_path):
    document = {"datasetJSONCreationDateTime": "2024-01-02T03:04:05", "datasetJSONVersion": "1.1.0",
                "itemGroupOID": "IG.ADSL", "records": 2, "name": "ADSL", "label": "Subject Level",
                "columns": [
                    {"itemOID": "IT.USUBJID", "name": "USUBJID", "label": "Subject", "dataType": "string",
                     "length": 8, "keySequence": 1},
                    {"itemOID": "IT.BMIBL", "name": "BMIBL", "label": "BMI", "dataType": "decimal",
                     "targetDataType": "decimal", "length": 16},
                    {"itemOID": "IT.TRTSDT", "name": "TRTSDT", "label": "Start", "dataType": "date",
                     "targetDataType": "integer", "displayFormat": "E8601DA."},
                    {"itemOID": "IT.AGE", "name": "AGE", "label": "Age", "dataType": "integer"}],
                "rows": [["01-701-1", "30.8983333232059", "2014-01-02", 63], ["01-701-2", None, None, None]]}
    source = tmp_path / "adsl.json"
    source.write_text(json.dumps(document))
    convert(source, tmp_path / "adsl.ndjson", created=CREATED)
    lines = (tmp_path / "adsl.ndjson").read_text().splitlines()
    meta = json.loads(lines[0])
    assert meta["columns"] == document["columns"]
    assert [json.loads(line) for line in lines[1:]] == document["rows"]


# -- CSV input: types and labels from the spec of its dataset, never guessed from the text ----------


def _convert(tmp_path, *args):
    from tests.cli_support import run_cli

    return run_cli("convert", *args, cwd=tmp_path)


def test_csv_of_a_standard_dataset_takes_the_specs_types_and_labels(tmp_path):
    """dm.csv is SDTMIG DM: SITEID is Char (its zeros kept), AGE Num, each with its label; WEIGHT,
    which DM lacks, stays text however numeric it looks."""
    (tmp_path / "dm.csv").write_text("STUDYID,USUBJID,SITEID,AGE,WEIGHT,NOTE\n"
                                     "S-1,S-1-001,001,63,70.5,\nS-1,S-1-002,010,,71,NA\n")
    proc = _convert(tmp_path, "dm.csv", "dm.xpt")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    frame, meta = read_xpt(tmp_path / "dm.xpt")
    assert meta.label == "Demographics"
    assert [(v.name, v.label, v.numeric) for v in meta.variables] == [
        ("STUDYID", "Study Identifier", False), ("USUBJID", "Unique Subject Identifier", False),
        ("SITEID", "Study Site Identifier", False), ("AGE", "Age", True), ("WEIGHT", "", False), ("NOTE", "", False)]
    assert frame["SITEID"].tolist() == ["001", "010"]
    assert frame["AGE"].tolist()[0] == 63.0 and np.isnan(frame["AGE"].tolist()[1])
    assert frame["WEIGHT"].tolist() == ["70.5", "71"]
    assert frame["NOTE"].tolist() == ["", "NA"]  # "NA" is text, not a missing value


def test_csv_of_a_standard_dataset_to_dataset_json(tmp_path):
    (tmp_path / "dm.csv").write_text("USUBJID,SITEID,AGE,RFSTDTC\nS-1-001,001,63,2021-03\n")
    assert _convert(tmp_path, "dm.csv", "dm.json").returncode == 0
    document = json.loads((tmp_path / "dm.json").read_text())
    assert document["label"] == "Demographics" and document["rows"] == [["S-1-001", "001", 63, "2021-03"]]
    assert [(c["name"], c["label"], c["dataType"]) for c in document["columns"]] == [
        ("USUBJID", "Unique Subject Identifier", "string"), ("SITEID", "Study Site Identifier", "string"),
        ("AGE", "Age", "integer"), ("RFSTDTC", "Subject Reference Start Date/Time", "date")]


def test_csv_of_no_known_dataset_stays_text(tmp_path):
    (tmp_path / "sites.csv").write_text("SITEID,N,RATE\n001,12,0.5\n")
    assert _convert(tmp_path, "sites.csv", "sites.xpt").returncode == 0
    frame, meta = read_xpt(tmp_path / "sites.xpt")
    assert not any(v.numeric for v in meta.variables)
    assert frame.iloc[0].tolist() == ["001", "12", "0.5"]


def test_csv_typed_by_a_given_spec(tmp_path):
    """--spec describes the dataset instead of the shipped specs (as for validate --spec)."""
    spec = {"study": {"oid": "STDY.T", "name": "T"}, "datasets": [
        {"name": "XX", "label": "Test domain", "keys": ["USUBJID"], "variables": [
            {"name": "USUBJID", "label": "Unique Subject Identifier", "data_type": "text", "order": 1},
            {"name": "XXSEQ", "label": "Sequence Number", "data_type": "integer", "order": 2},
            {"name": "XXCODE", "label": "Code", "data_type": "text", "order": 3}]}]}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    (tmp_path / "xx.csv").write_text("USUBJID,XXSEQ,XXCODE\n007,1,0042\n")
    proc = _convert(tmp_path, "xx.csv", "xx.xpt", "--spec", "spec.json")
    assert proc.returncode == 0, proc.stderr
    frame, meta = read_xpt(tmp_path / "xx.xpt")
    assert meta.label == "Test domain"
    assert [(v.name, v.label, v.numeric) for v in meta.variables] == [
        ("USUBJID", "Unique Subject Identifier", False), ("XXSEQ", "Sequence Number", True), ("XXCODE", "Code", False)]
    assert frame.iloc[0].tolist() == ["007", 1.0, "0042"]
    (tmp_path / "dm.csv").write_text("AGE\n63\n")
    proc = _convert(tmp_path, "dm.csv", "dm.xpt", "--spec", "spec.json")  # DM is not in that spec
    assert proc.returncode == 2 and "spec.json: the spec describes no dataset DM" in proc.stderr


@pytest.mark.parametrize("name, text, where", [
    ("dm.csv", "USUBJID,AGE\nS-1,63\nS-2,sixty\n", "dm.csv, row 3, column 'AGE': 'sixty' is not a number"),
    ("dm.csv", "USUBJID,AGE\nS-1,nan\n", "dm.csv, row 2, column 'AGE': 'nan' is not a number"),
    ("adsl.csv", "USUBJID,TRTSDT\nS-1,02JAN2014\n",
     "adsl.csv, row 2, column 'TRTSDT': '02JAN2014' is not an ISO 8601 date (YYYY-MM-DD)")])
def test_csv_value_that_its_numeric_variable_cannot_hold_is_refused(tmp_path, name, text, where):
    from tests.cli_support import fingerprint, one_error_line

    (tmp_path / name).write_text(text)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x.xpt").write_bytes(b"the previous conversion")
    before = fingerprint(tmp_path / "out")
    proc = _convert(tmp_path, name, str(Path("out") / "x.xpt"))
    assert proc.returncode == 2
    assert one_error_line(proc.stderr).startswith(f"trialpack: error: {where}")
    assert fingerprint(tmp_path / "out") == before


def test_spec_is_for_a_csv_input_only(tmp_path):
    write_xpt(pd.DataFrame({"A": ["x"]}), tmp_path / "xx.xpt")
    proc = _convert(tmp_path, "xx.xpt", "xx.csv", "--spec", "spec.json")
    assert proc.returncode == 2 and "gives the types and labels of a CSV input only" in proc.stderr
    assert not (tmp_path / "xx.csv").exists()


def test_adam_xpt_to_csv_and_back_keeps_types_labels_and_dates(tmp_path):
    """The CSV carries names and values only (labels are not written); back to XPT, ADaMIG ADSL gives
    them again, and its DATE9. dates are read from the ISO 8601 dates convert wrote."""
    import datetime as dt_

    df = pd.DataFrame({"USUBJID": ["01", "02"], "AGE": [63.0, np.nan], "TRTSDT": pd.to_datetime(["2014-01-02", None]),
                       "TRTDURY": [0.5, 1.25]})
    variables = [{"name": "USUBJID", "label": "Unique Subject Identifier"},
                 {"name": "AGE", "label": "Age", "data_type": "integer"},
                 {"name": "TRTSDT", "label": "Date of First Exposure to Treatment", "data_type": "integer",
                  "display_format": "DATE9."},
                 {"name": "TRTDURY", "label": "Total Treatment Duration (Years)", "data_type": "float"}]
    write_xpt(df, tmp_path / "adsl.xpt", label="Subject-Level Analysis Dataset", variables=variables)
    assert _convert(tmp_path, "adsl.xpt", "adsl.csv").returncode == 0
    assert (tmp_path / "adsl.csv").read_text().splitlines() == [
        "USUBJID,AGE,TRTSDT,TRTDURY", "01,63.0,2014-01-02,0.5", "02,,,1.25"]
    (tmp_path / "back").mkdir()
    assert _convert(tmp_path, "adsl.csv", str(Path("back") / "adsl.xpt")).returncode == 0
    frame, meta = read_xpt(tmp_path / "back" / "adsl.xpt")
    original, original_meta = read_xpt(tmp_path / "adsl.xpt")
    assert meta.label == original_meta.label
    assert [(v.name, v.label, v.numeric, v.display_format) for v in meta.variables] == \
        [(v.name, v.label, v.numeric, v.display_format) for v in original_meta.variables]
    pd.testing.assert_frame_equal(frame, original)
    assert frame["TRTSDT"].tolist()[0] == pd.Timestamp(dt_.date(2014, 1, 2))


def test_xpt_to_csv(tmp_path):
    df = pd.DataFrame({"USUBJID": ["01", "02"], "ADT": pd.to_datetime(["2014-01-02", None])})
    write_xpt(df, tmp_path / "ad.xpt", variables=[{"name": "USUBJID", "label": "Subject"},
                                                  {"name": "ADT", "label": "Date", "data_type": "integer",
                                                   "display_format": "DATE9."}])
    convert(tmp_path / "ad.xpt", tmp_path / "ad.csv")
    assert (tmp_path / "ad.csv").read_text().splitlines() == ["USUBJID,ADT", "01,2014-01-02", "02,"]


def test_special_missing_values_are_not_dropped_silently(tmp_path):
    path = write_xpt(pd.DataFrame({"N": [np.nan, 1.0]}), tmp_path / "sm.xpt", special_missing={"N": {0: "A"}})
    with pytest.raises(InputError, match="column 'N'.*special missing values"):
        convert(path, tmp_path / "sm.json")
    assert not (tmp_path / "sm.json").exists()
    convert(path, tmp_path / "sm.json", lossy=True)
    assert json.loads((tmp_path / "sm.json").read_text())["rows"] == [[None], [1]]


def test_xpt_to_xpt_keeps_special_missing(tmp_path):
    path = write_xpt(pd.DataFrame({"N": [np.nan, 1.0]}), tmp_path / "sm.xpt", special_missing={"N": {0: "A"}})
    out = tmp_path / "out" / "sm.xpt"
    out.parent.mkdir()
    convert(path, out, created=CREATED)
    assert read_xpt(out)[1].special_missing["N"].to_dict() == {0: "A"}


def test_cli_convert_success_and_errors(tmp_path, capsys):
    csv = tmp_path / "lb.csv"
    csv.write_text("A,B\nx,1\n")
    assert main(["convert", str(csv), str(tmp_path / "lb.ndjson")]) == 0
    assert "1 rows, 2 columns" in capsys.readouterr().out
    assert main(["convert", str(csv), str(tmp_path / "lb.parquet")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("trialpack: error: lb.parquet: unknown format '.parquet'") and err.count("\n") == 1
    assert main(["convert", str(tmp_path / "missing.xpt"), str(tmp_path / "x.csv")]) == 2
    assert "cannot read the file" in capsys.readouterr().err
    assert main(["convert", str(csv), str(tmp_path / "nowhere" / "lb.xpt")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_cli_convert_options_the_error_messages_advise(tmp_path, capsys):
    """The refusals name --profile utf8 and --lossy; the command line takes them."""
    csv = tmp_path / "lb.csv"
    csv.write_text("A\nÄb\n", encoding="utf-8")
    assert main(["convert", str(csv), str(tmp_path / "lb.xpt")]) == 2
    assert "trialpack convert --profile utf8" in capsys.readouterr().err
    assert main(["convert", str(csv), str(tmp_path / "lb.xpt"), "--profile", "utf8"]) == 0
    frame, meta = read_xpt(tmp_path / "lb.xpt")
    assert frame["A"].tolist() == ["Äb"] and meta.variable("A").length == 3  # bytes
    special = write_xpt(pd.DataFrame({"N": [np.nan, 1.0]}), tmp_path / "sm.xpt", special_missing={"N": {0: "A"}})
    assert main(["convert", str(special), str(tmp_path / "sm.json")]) == 2
    assert "trialpack convert --lossy" in capsys.readouterr().err
    assert main(["convert", str(special), str(tmp_path / "sm.json"), "--lossy"]) == 0
    assert json.loads((tmp_path / "sm.json").read_text())["rows"] == [[None], [1]]
