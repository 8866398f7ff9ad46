"""fileformats.datasetjson: Dataset-JSON v1.1 JSON and NDJSON against the official schema.

Known answers are the v1.1 specification's own rules (data type combinations, ISO 8601,
null vs "", decimals as strings); every file written validates with jsonschema against
the official schema in ../shared/data/schemas/dataset-json-1.1 (the packaged copy must be
identical to it).
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft201909Validator

from fileformats.datasetjson import read_dataset_json, write_dataset_json
from specs.errors import InputError
from specs.model import VariableSpec

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
OFFICIAL = DATA / "schemas" / "dataset-json-1.1"
PACKAGED = Path(__file__).resolve().parents[1] / "fileformats" / "data" / "schemas" / "dataset-json-1.1"
CREATED = dt.datetime(2024, 1, 2, 3, 4, 5)
needs_official = pytest.mark.skipif(not OFFICIAL.is_dir(), reason="../shared/data schemas absent")


def official_validator() -> Draft201909Validator:
    return Draft201909Validator(json.loads((OFFICIAL / "dataset.schema.json").read_text()))


@needs_official
@pytest.mark.parametrize("name", ["dataset.schema.json", "dataset-ndjson-schema.json"])
def test_packaged_schemas_equal_the_official_copies(name):
    assert (PACKAGED / name).read_bytes() == (OFFICIAL / name).read_bytes()


def adsl() -> tuple[pd.DataFrame, list]:
    df = pd.DataFrame({
        "USUBJID": ["01-701-1015", "01-701-1023", None],
        "AGE": pd.array([63, 64, None], dtype="Int64"),
        "BMIBL": [25.1, 0.30000000000000004, np.nan],
        "TRTSDT": pd.to_datetime(["2014-01-02", "2012-08-05", None]),
        "ADTM": pd.to_datetime(["2014-01-02T10:00:00", "2012-08-05T23:59:59", None]),
        "AETM": pd.to_timedelta(["01:02:03", None, "23:59:59"]),
        "RFSTDTC": ["2014-01-02", "2012-08", ""],
    })
    spec = [VariableSpec("USUBJID", "Unique Subject Identifier", length=11),
            VariableSpec("AGE", "Age", "integer"),
            VariableSpec("BMIBL", "Baseline BMI (kg/m^2)", "float"),
            VariableSpec("TRTSDT", "Date of First Exposure to Treatment", "integer", display_format="DATE9."),
            VariableSpec("ADTM", "Analysis Datetime", "integer", display_format="DATETIME20."),
            VariableSpec("AETM", "Analysis Time", "integer", display_format="TIME8."),
            VariableSpec("RFSTDTC", "Subject Reference Start Date/Time", "datetime", length=10)]
    return df, spec


def test_json_content_follows_the_specification(tmp_path):
    df, spec = adsl()
    path = write_dataset_json(df, tmp_path / "adsl.json", label="Subject-Level Analysis Dataset",
                              variables=spec, keys=["USUBJID"], study_oid="cdisc.com.CDISCPILOT01",
                              metadata_version_oid="MDV.1", created=CREATED)
    doc = json.loads(path.read_text())
    assert list(doc)[:2] == ["datasetJSONCreationDateTime", "datasetJSONVersion"]
    assert list(doc)[-2:] == ["columns", "rows"]  # rows last, as the specification orders them
    assert doc["datasetJSONCreationDateTime"] == "2024-01-02T03:04:05"
    assert (doc["itemGroupOID"], doc["name"], doc["records"]) == ("IG.ADSL", "ADSL", 3)
    assert doc["columns"] == [
        {"itemOID": "IT.ADSL.USUBJID", "name": "USUBJID", "label": "Unique Subject Identifier",
         "dataType": "string", "length": 11, "keySequence": 1},
        {"itemOID": "IT.ADSL.AGE", "name": "AGE", "label": "Age", "dataType": "integer"},
        {"itemOID": "IT.ADSL.BMIBL", "name": "BMIBL", "label": "Baseline BMI (kg/m^2)", "dataType": "double"},
        {"itemOID": "IT.ADSL.TRTSDT", "name": "TRTSDT", "label": "Date of First Exposure to Treatment",
         "dataType": "date", "targetDataType": "integer", "displayFormat": "DATE9."},
        {"itemOID": "IT.ADSL.ADTM", "name": "ADTM", "label": "Analysis Datetime", "dataType": "datetime",
         "targetDataType": "integer", "displayFormat": "DATETIME20."},
        {"itemOID": "IT.ADSL.AETM", "name": "AETM", "label": "Analysis Time", "dataType": "time",
         "targetDataType": "integer", "displayFormat": "TIME8."},
        {"itemOID": "IT.ADSL.RFSTDTC", "name": "RFSTDTC", "label": "Subject Reference Start Date/Time",
         "dataType": "datetime", "length": 10},
    ]
    assert doc["rows"] == [
        ["01-701-1015", 63, 25.1, "2014-01-02", "2014-01-02T10:00:00", "01:02:03", "2014-01-02"],
        ["01-701-1023", 64, 0.30000000000000004, "2012-08-05", "2012-08-05T23:59:59", None, "2012-08"],
        [None, None, None, None, None, "23:59:59", ""],
    ]


@needs_official
@pytest.mark.parametrize("suffix", [".json", ".ndjson"])
def test_output_validates_against_the_official_schema(tmp_path, suffix):
    df, spec = adsl()
    path = write_dataset_json(df, tmp_path / f"adsl{suffix}", variables=spec, keys=["USUBJID"],
                              created=CREATED, decimals="string")
    lines = path.read_text().splitlines()
    if suffix == ".json":
        document = json.loads(path.read_text())
    else:  # the NDJSON content is the JSON content split by lines
        document = {**json.loads(lines[0]), "rows": [json.loads(line) for line in lines[1:]]}
        assert all(line.startswith("[") for line in lines[1:]) and len(lines) == 4
    errors = list(official_validator().iter_errors(document))
    assert errors == []


def test_decimals_keep_every_digit(tmp_path):
    df = pd.DataFrame({"X": [0.1 + 0.2, 1e-7, 1e21, np.nan], "D": [Decimal("1.10"), Decimal("0.000001"),
                                                                    Decimal("123456789012345678901.5"), None]})
    path = write_dataset_json(df, tmp_path / "dec.json", decimals="string", created=CREATED)
    doc = json.loads(path.read_text())
    assert [c["dataType"] for c in doc["columns"]] == ["decimal", "decimal"]
    assert [c["targetDataType"] for c in doc["columns"]] == ["decimal", "decimal"]
    assert [r[0] for r in doc["rows"]] == ["0.30000000000000004", "0.0000001",
                                           "1000000000000000000000", None]
    assert [r[1] for r in doc["rows"]] == ["1.10", "0.000001", "123456789012345678901.5", None]
    floats, _ = read_dataset_json(path)
    assert floats["X"].tolist()[:3] == [0.1 + 0.2, 1e-7, 1e21]
    exact, _ = read_dataset_json(path, decimals="decimal")
    assert exact["D"].tolist()[:3] == [Decimal("1.10"), Decimal("0.000001"),
                                       Decimal("123456789012345678901.5")]


@pytest.mark.parametrize("suffix", [".json", ".ndjson"])
def test_round_trip_with_metadata(tmp_path, suffix):
    df, spec = adsl()
    path = write_dataset_json(df, tmp_path / f"adsl{suffix}", variables=spec, keys=["USUBJID"],
                              created=CREATED)
    back, meta = read_dataset_json(path)
    assert meta.keys == ["USUBJID"] and meta.records == 3 and meta.name == "ADSL"
    assert back["USUBJID"].tolist()[:2] == ["01-701-1015", "01-701-1023"] and pd.isna(back["USUBJID"][2])
    assert back["AGE"].tolist()[:2] == [63, 64] and back["AGE"].dtype == "Int64"
    assert back["BMIBL"].tolist()[:2] == [25.1, 0.30000000000000004]
    pd.testing.assert_series_equal(back["TRTSDT"], df["TRTSDT"].astype("datetime64[us]"))
    pd.testing.assert_series_equal(back["ADTM"], df["ADTM"].astype("datetime64[us]"))
    pd.testing.assert_series_equal(back["AETM"], df["AETM"].astype("timedelta64[us]"))
    assert back["RFSTDTC"].tolist() == ["2014-01-02", "2012-08", ""]
    assert [v["display_format"] for v in meta.variables][3:6] == ["DATE9.", "DATETIME20.", "TIME8."]


# -- bad input: each names the JSON path --------------------------------------------------


def write_doc(tmp_path, document, name="bad.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def good_doc() -> dict:
    return {"datasetJSONCreationDateTime": "2024-01-02T03:04:05", "datasetJSONVersion": "1.1.0",
            "itemGroupOID": "IG.DM", "records": 2, "name": "DM", "label": "Demographics",
            "columns": [{"itemOID": "IT.DM.USUBJID", "name": "USUBJID", "label": "Subject",
                         "dataType": "string"},
                        {"itemOID": "IT.DM.AGE", "name": "AGE", "label": "Age", "dataType": "integer"}],
            "rows": [["01", 63], ["02", None]]}


def test_good_document_reads(tmp_path):
    frame, meta = read_dataset_json(write_doc(tmp_path, good_doc()))
    assert frame["AGE"].tolist()[0] == 63 and meta.label == "Demographics"


@pytest.mark.parametrize("damage, path, message", [
    (lambda d: d["columns"][1].pop("label"), r"\$\.columns\[1\]", "'label' is a required property"),
    (lambda d: d["columns"][0].update(dataType="text"), r"\$\.columns\[0\]\.dataType", "'text' is not one of"),
    (lambda d: d.update(datasetJSONVersion="1.0"), r"\$\.datasetJSONVersion", "does not match"),
    (lambda d: d.update(records=-1), r"\$\.records", "less than the minimum"),
    (lambda d: d.update(extra=1), r"at \$:", "Additional properties"),
    (lambda d: d["rows"].__setitem__(1, "02"), r"\$\.rows\[1\]", "not an array of 2 values"),
    (lambda d: d["rows"][0].__setitem__(1, "63"), r"\$\.rows\[0\]\[1\]", "'63' is not an integer"),
    (lambda d: d["rows"][1].__setitem__(0, 2), r"\$\.rows\[1\]\[0\]", "2 is not text"),
    (lambda d: d.update(records=5), r"\$\.records", "records says 5 but the file holds 2 rows"),
    (lambda d: d.update(records=306, rows=[]), r"\$\.records", "records says 306 but the file holds 0 rows"),
    (lambda d: d.pop("rows"), r"\$\.records", "records says 2 but the file holds 0 rows"),
    (lambda d: d["rows"][0].__setitem__(1, 2 ** 70), r"\$\.rows\[0\]\[1\]",
     "value 1180591620717411303424 is outside the 64-bit integer range"),
    (lambda d: d["rows"][0].__setitem__(1, 2 ** 63), r"\$\.rows\[0\]\[1\]", "outside the 64-bit integer range"),
    (lambda d: d["rows"][0].__setitem__(1, 1e30), r"\$\.rows\[0\]\[1\]", "outside the 64-bit integer range"),
    (lambda d: d["rows"][1].__setitem__(1, float("nan")), r"\$\.rows\[1\]\[1\]",
     "NaN is not a finite number \\(JSON has no NaN"),
    (lambda d: d["rows"][1].__setitem__(1, float("-inf")), r"\$\.rows\[1\]\[1\]", "-Infinity is not a finite number"),
    (lambda d: d.update(records=float("inf")), r"\$\.records", "Infinity is not a finite number"),
])
def test_schema_and_type_failures_name_the_json_path(tmp_path, damage, path, message):
    document = good_doc()
    damage(document)
    with pytest.raises(InputError, match=message) as err:
        read_dataset_json(write_doc(tmp_path, document))
    assert err.value.path is not None
    assert __import__("re").search(path, str(err.value))


def test_text_length_is_the_longest_value_in_utf8_bytes(tmp_path):
    """As define.xml and XPT count it (specs.lengths): "Äb" is 3 bytes."""
    write_dataset_json(pd.DataFrame({"C": ["Äb", None, "a"]}), tmp_path / "x.json")
    assert json.loads((tmp_path / "x.json").read_text(encoding="utf-8"))["columns"][0]["length"] == 3


def test_extreme_numbers_at_the_int64_edges(tmp_path):
    document = good_doc()
    document["rows"] = [["01", 2 ** 63 - 1], ["02", -2 ** 63]]
    frame, _ = read_dataset_json(write_doc(tmp_path, document))
    assert frame["AGE"].tolist() == [9223372036854775807, -9223372036854775808]


def test_a_double_that_overflows_is_refused(tmp_path):
    document = good_doc()
    document["columns"][1]["dataType"] = "double"
    path = write_doc(tmp_path, document)
    path.write_text(path.read_text().replace("63", "1e400"))  # valid JSON, infinite as a double
    with pytest.raises(InputError, match=r"column 'AGE', at \$\.rows\[0\]\[1\]: .*beyond the range of a double"):
        read_dataset_json(path)


@pytest.mark.parametrize("damage, path", [
    (lambda text: text.replace('"name": "DM"', '"name": "DM", "name": "AE"'), r"at \$\.name"),
    (lambda text: text.replace('"dataType": "integer"', '"dataType": "integer", "dataType": "string"'),
     r"at \$\.columns\[1\]\.dataType"),
])
def test_a_key_given_twice_is_refused(tmp_path, damage, path):
    file = write_doc(tmp_path, good_doc())
    file.write_text(damage(file.read_text()))
    with pytest.raises(InputError, match=rf"{path}: the key '(name|dataType)' appears twice"):
        read_dataset_json(file)


def test_ndjson_nan_names_its_line(tmp_path):
    path = tmp_path / "dm.ndjson"
    meta = good_doc()
    meta.pop("rows")
    path.write_text(json.dumps(meta) + "\n" + '["01", 63]\n["02", NaN]\n')
    with pytest.raises(InputError, match=r"at \$\[1\] \(line 3\): malformed JSON: NaN is not a finite"):
        read_dataset_json(path)


def test_invalid_json_names_line_and_column(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"name": "DM",\n "label": }')
    with pytest.raises(InputError, match=r"is not valid JSON .* line 2, column 11"):
        read_dataset_json(path)


def test_ndjson_bad_row_line_is_named(tmp_path):
    df, spec = adsl()
    path = write_dataset_json(df, tmp_path / "adsl.ndjson", variables=spec, created=CREATED)
    lines = path.read_text().splitlines()
    lines[2] = lines[2][:-1]  # drop the closing bracket of the second row
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match="is not valid JSON .* line 3"):
        read_dataset_json(path)


def test_ndjson_metadata_line_is_validated(tmp_path):
    path = tmp_path / "dm.ndjson"
    meta = good_doc()
    meta.pop("rows")
    meta["columns"][0]["dataType"] = "str"
    path.write_text(json.dumps(meta) + "\n" + '["01", 63]\n["02", null]\n')
    with pytest.raises(InputError, match=r"at \$\.columns\[0\]\.dataType.*'str' is not one of"):
        read_dataset_json(path)


def test_bad_iso_date_is_named(tmp_path):
    document = good_doc()
    document["columns"][1] = {"itemOID": "IT.DM.ADT", "name": "ADT", "label": "Date", "dataType": "date",
                              "targetDataType": "integer"}
    document["rows"] = [["01", "2014-01-02"], ["02", "2014-13-45"]]
    with pytest.raises(InputError, match=r"\$\.rows\[1\]\[1\].*'2014-13-45' is not an ISO 8601 date"):
        read_dataset_json(write_doc(tmp_path, document))


def test_writer_refuses_what_json_cannot_hold(tmp_path):
    with pytest.raises(InputError, match="row 2, column 'X': holds an infinite value"):
        write_dataset_json(pd.DataFrame({"X": [1.0, np.inf]}), tmp_path / "x.json")
    with pytest.raises(InputError, match="row 2, column 'N'.*1.5 is not an integer"):
        write_dataset_json(pd.DataFrame({"N": [1.0, 1.5]}), tmp_path / "x.json",
                           variables=[VariableSpec("N", "n", "integer")])
    with pytest.raises(InputError, match="ends in .json or .ndjson"):
        write_dataset_json(pd.DataFrame({"N": [1]}), tmp_path / "x.txt")
    with pytest.raises(InputError, match="row 2, column 'C': value 'ABCD' is 4 bytes, longer than the "
                                         "spec length 3"):  # the check write_xpt makes
        write_dataset_json(pd.DataFrame({"C": ["ABC", "ABCD"]}), tmp_path / "x.json",
                           variables=[VariableSpec("C", "c", "text", length=3)])
    with pytest.raises(InputError, match="row 1, column 'C': value 'Äb' is 3 bytes"):
        write_dataset_json(pd.DataFrame({"C": ["Äb"]}), tmp_path / "x.json",
                           variables=[VariableSpec("C", "c", "text", length=2)])
    with pytest.raises(InputError, match="key variable 'ZZ' is not a column"):
        write_dataset_json(pd.DataFrame({"N": [1]}), tmp_path / "x.json", keys=["ZZ"])
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# -- properties ----------------------------------------------------------------------------

FRAMES = st.integers(0, 8).flatmap(lambda n: st.fixed_dictionaries({
    "T": st.lists(st.one_of(st.none(), st.text(max_size=12)), min_size=n, max_size=n),
    "F": st.lists(st.one_of(st.just(float("nan")), st.floats(allow_nan=False, allow_infinity=False)),
                  min_size=n, max_size=n),
    "I": st.lists(st.one_of(st.none(), st.integers(-2 ** 53, 2 ** 53)), min_size=n, max_size=n),
    "D": st.lists(st.one_of(st.none(), st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))), min_size=n,
                  max_size=n),
}))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(FRAMES, st.sampled_from([".json", ".ndjson"]), st.sampled_from(["number", "string"]))
def test_round_trip_property(tmp_path, columns, suffix, decimals):
    df = pd.DataFrame({"T": pd.Series(columns["T"], dtype=object), "F": pd.Series(columns["F"], dtype=float),
                       "I": pd.array(columns["I"], dtype="Int64"),
                       "D": pd.Series(columns["D"], dtype=object)})
    spec = [{"name": "T", "data_type": "text"}, {"name": "F", "data_type": "float"},
            {"name": "I", "data_type": "integer"},
            {"name": "D", "data_type": "integer", "display_format": "DATE9."}]
    path = write_dataset_json(df, tmp_path / f"ds{suffix}", variables=spec, created=CREATED,
                              decimals=decimals)
    back, meta = read_dataset_json(path)
    assert [c.data_type for c in meta.columns] == ["string", "decimal" if decimals == "string" else "double",
                                                   "integer", "date"]
    assert [None if pd.isna(v) else v for v in back["T"]] == columns["T"]
    np.testing.assert_array_equal(back["F"].to_numpy(), np.array(columns["F"], dtype=float))
    assert [None if pd.isna(v) else v for v in back["I"]] == columns["I"]
    assert [None if pd.isna(v) else v.date() for v in back["D"]] == columns["D"]


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                           | st.text(max_size=5), lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["top", "column", "row", "cell"]), st.integers(0, 20),
                          JSON_VALUES), max_size=4), st.booleans())
def test_reader_survives_damaged_documents(tmp_path, damage, ndjson):
    document = good_doc()
    for where, index, value in damage:
        if where == "top":
            document[sorted(document)[index % len(document)]] = value
        elif where == "column":
            column = document["columns"][index % 2] if isinstance(document.get("columns"), list) \
                and len(document["columns"]) == 2 and isinstance(document["columns"][index % 2], dict) else None
            if column is not None:
                column[sorted(column)[index % len(column)]] = value
        elif where == "row" and isinstance(document.get("rows"), list) and document["rows"]:
            document["rows"][index % len(document["rows"])] = value
        elif where == "cell" and isinstance(document.get("rows"), list) and document["rows"] \
                and isinstance(document["rows"][0], list) and document["rows"][0]:
            document["rows"][0][index % len(document["rows"][0])] = value
    if ndjson:
        path = tmp_path / "dm.ndjson"
        rows = document.pop("rows", [])
        lines = [json.dumps(document)] + [json.dumps(r) for r in (rows if isinstance(rows, list) else [rows])]
        path.write_text("\n".join(lines) + "\n")
    else:
        path = write_doc(tmp_path, document, "dm.json")
    try:
        frame, meta = read_dataset_json(path)
    except InputError as exc:
        assert exc.file == path.name
        return
    assert list(frame.columns) == [c.name for c in meta.columns]
