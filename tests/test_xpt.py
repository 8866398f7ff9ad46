"""fileformats.xpt: byte layout, IBM doubles, dates, missing values and every FDA refusal.

Known answers come from SAS TS-140 and from bytes of SAS-written files (see
reference/standards.md section 1); independent readers (pyreadstat, pandas.read_sas) check
that what we write is read the same by others.
"""
from __future__ import annotations

import datetime as dt
import re
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from fileformats.xpt import read_xpt, write_xpt
from fileformats.xpt._ibm import ibm_to_ieee, ieee_to_ibm
from specs.errors import InputError
from specs.model import VariableSpec

CREATED = dt.datetime(2020, 8, 21, 9, 14, 29)


def ibm_bytes(values) -> list[str]:
    return [ieee_to_ibm(np.array([v], dtype=float)).astype(">u8").tobytes().hex(" ").upper()
            for v in values]


# -- IBM System/360 doubles ------------------------------------------------------------

IBM_VECTORS = {  # value -> bytes (standards.md 1.5; 84 verified against SAS's dm.xpt AGE)
    1.0: "41 10 00 00 00 00 00 00",
    -1.0: "C1 10 00 00 00 00 00 00",
    0.5: "40 80 00 00 00 00 00 00",
    84.0: "42 54 00 00 00 00 00 00",
    100.0: "42 64 00 00 00 00 00 00",
    -3.0: "C1 30 00 00 00 00 00 00",
    0.1: "40 19 99 99 99 99 99 9A",
    19393.0: "44 4B C1 00 00 00 00 00",
    123.456: "42 7B 74 BC 6A 7E F9 DC",
    0.0: "00 00 00 00 00 00 00 00",
}


def test_ieee_to_ibm_matches_published_vectors():
    assert ibm_bytes(IBM_VECTORS) == list(IBM_VECTORS.values())


def test_ibm_to_ieee_inverts_published_vectors():
    raw = np.array([int(h.replace(" ", ""), 16) for h in IBM_VECTORS.values()], dtype=np.uint64)
    assert ibm_to_ieee(raw).tolist() == list(IBM_VECTORS)


def test_ibm_extremes_round_trip_exactly():
    values = np.array([2.0 ** -260, np.nextafter(2.0 ** 252, 0), -np.nextafter(2.0 ** 252, 0),
                       np.pi, -np.e, 1e75, 1e-78, 2.0 ** 53 + 2])
    assert (ibm_to_ieee(ieee_to_ibm(values)) == values).all()


# -- file layout -----------------------------------------------------------------------


def test_small_file_is_byte_exact_against_hand_assembled_ts140_layout(tmp_path):
    path = write_xpt(pd.DataFrame({"X": [1.0, np.nan], "C": ["AB", ""]}), tmp_path / "ds.xpt",
                     label="Demo", variables=[{"name": "X", "label": "Ex", "data_type": "float",
                                               "display_format": "8.2"},
                                              {"name": "C", "label": "Char", "data_type": "text"}],
                     created=CREATED, sas_version="9.4", os_name="X64_10PR")
    stamp = b"21AUG20:09:14:29"

    def record(text: bytes) -> bytes:
        assert len(text) <= 80
        return text.ljust(80)

    namestr_x = struct.pack(">hhhh8s40s8shhh2s8shhl52s", 1, 0, 8, 1, b"X       ", b"Ex".ljust(40),
                            b"        ", 8, 2, 0, b"\0\0", b"        ", 0, 0, 0, b"\0" * 52)
    namestr_c = struct.pack(">hhhh8s40s8shhh2s8shhl52s", 2, 0, 2, 2, b"C       ", b"Char".ljust(40),
                            b"        ", 0, 0, 0, b"\0\0", b"        ", 0, 0, 8, b"\0" * 52)
    expected = b"".join([
        b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!000000000000000000000000000000  ",
        record(b"SAS     SAS     SASLIB  9.4     X64_10PR" + b" " * 24 + stamp),
        record(stamp),
        b"HEADER RECORD*******MEMBER  HEADER RECORD!!!!!!!000000000000000001600000000140  ",
        b"HEADER RECORD*******DSCRPTR HEADER RECORD!!!!!!!000000000000000000000000000000  ",
        record(b"SAS     DS      SASDATA 9.4     X64_10PR" + b" " * 24 + stamp),
        record(stamp + b" " * 16 + b"Demo".ljust(40) + b" " * 8),
        b"HEADER RECORD*******NAMESTR HEADER RECORD!!!!!!!000000000200000000000000000000  ",
        (namestr_x + namestr_c).ljust(320),
        b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!000000000000000000000000000000  ",
        (bytes.fromhex("4110000000000000") + b"AB" + bytes.fromhex("2E00000000000000") + b"  ").ljust(80),
    ])
    assert path.read_bytes() == expected


def test_member_name_defaults_to_upper_stem_and_must_equal_it(tmp_path):
    write_xpt(pd.DataFrame({"A": ["x"]}), tmp_path / "adsl.xpt", created=CREATED)
    assert read_xpt(tmp_path / "adsl.xpt")[1].name == "ADSL"
    with pytest.raises(InputError, match="must equal the file name stem 'ADSL'"):
        write_xpt(pd.DataFrame({"A": ["x"]}), tmp_path / "adsl.xpt", name="DM")


def test_variable_numbers_are_one_based_and_positions_cumulative(tmp_path):
    df = pd.DataFrame({"A": ["abc"], "N": [1.0], "B": ["z"]})
    _, meta = read_xpt(write_xpt(df, tmp_path / "t.xpt", created=CREATED))
    assert [(v.number, v.position, v.length) for v in meta.variables] == [(1, 0, 3), (2, 3, 8), (3, 11, 1)]


def test_created_timestamp_and_source_date_epoch(tmp_path, monkeypatch):
    _, meta = read_xpt(write_xpt(pd.DataFrame({"A": ["x"]}), tmp_path / "a.xpt", created=CREATED))
    assert meta.created == CREATED and meta.modified == CREATED
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1600000000")  # 2020-09-13T12:26:40Z
    _, meta = read_xpt(write_xpt(pd.DataFrame({"A": ["x"]}), tmp_path / "b.xpt"))
    assert meta.created == dt.datetime(2020, 9, 13, 12, 26, 40)


def test_same_input_gives_same_bytes(tmp_path):
    df = pd.DataFrame({"A": ["x", "yy"], "N": [1, 2]})
    a = write_xpt(df, tmp_path / "t.xpt", created=CREATED).read_bytes()
    b = write_xpt(df, tmp_path / "t.xpt", created=CREATED).read_bytes()
    assert a == b


# -- character values ------------------------------------------------------------------


def test_char_length_is_longest_value_in_bytes_minimum_one(tmp_path):
    df = pd.DataFrame({"A": [None, "abcd", "x"], "E": ["", "", ""]})
    _, meta = read_xpt(write_xpt(df, tmp_path / "t.xpt", created=CREATED))
    assert [v.length for v in meta.variables] == [4, 1]


def test_spec_length_is_used_and_values_blank_padded(tmp_path):
    spec = [VariableSpec("A", "Text", "text", length=6)]
    path = write_xpt(pd.DataFrame({"A": ["ab", " c"]}), tmp_path / "t.xpt", variables=spec,
                     created=CREATED)
    data = path.read_bytes()
    assert data[-80:-80 + 12] == b"ab     c    "
    frame, _ = read_xpt(path)
    assert frame["A"].tolist() == ["ab", " c"]  # leading blanks kept, trailing dropped


def test_missing_text_is_blank_and_reads_back_as_empty_string(tmp_path):
    frame, _ = read_xpt(write_xpt(pd.DataFrame({"A": [None, np.nan, "x"]}), tmp_path / "t.xpt"))
    assert frame["A"].tolist() == ["", "", "x"]


def test_categorical_text_column(tmp_path):
    df = pd.DataFrame({"SEV": pd.Categorical(["MILD", None, "SEVERE"],
                                             categories=["MILD", "SEVERE", "UNUSED CATEGORY TEXT"])})
    frame, meta = read_xpt(write_xpt(df, tmp_path / "t.xpt"))
    assert frame["SEV"].tolist() == ["MILD", "", "SEVERE"]
    assert meta.variable("SEV").length == 6  # unused categories do not widen the column


@pytest.mark.parametrize("dtype", [object, "string"])
def test_text_columns_of_any_pandas_string_dtype(tmp_path, dtype):
    df = pd.DataFrame({"A": pd.Series(["x", None, "zz"], dtype=dtype)})
    frame, _ = read_xpt(write_xpt(df, tmp_path / "t.xpt"))
    assert frame["A"].tolist() == ["x", "", "zz"]


def test_utf8_profile_counts_bytes_and_reads_back(tmp_path):
    df = pd.DataFrame({"A": ["Ménière", "x"]})
    path = write_xpt(df, tmp_path / "t.xpt", profile="utf8", label="Événements")
    frame, meta = read_xpt(path)
    assert meta.variable("A").length == len("Ménière".encode()) == 9
    assert frame["A"].tolist() == ["Ménière", "x"] and meta.encoding == "utf-8"
    assert meta.label == "Événements"


def test_cp1252_encoding_for_legacy_files(tmp_path):
    path = write_xpt(pd.DataFrame({"A": ["Alzheimer’s"]}), tmp_path / "t.xpt", profile="utf8",
                     encoding="cp1252")
    assert b"Alzheimer\x92s" in path.read_bytes()
    frame, meta = read_xpt(path)
    assert frame["A"].tolist() == ["Alzheimer’s"] and meta.encoding == "cp1252"


# -- numerics, dates, missing values ---------------------------------------------------


def test_missing_numerics_and_special_missing_codes_bytes(tmp_path):
    df = pd.DataFrame({"N": [np.nan, np.nan, np.nan, 2.0]})
    path = write_xpt(df, tmp_path / "t.xpt", special_missing={"N": {1: "A", 2: "_"}}, created=CREATED)
    rows = path.read_bytes()[-80:-80 + 32]
    assert rows == bytes.fromhex("2E00000000000000" "4100000000000000" "5F00000000000000"
                                 "4120000000000000")
    frame, meta = read_xpt(path)
    assert frame["N"].isna().tolist() == [True, True, True, False]
    assert meta.special_missing["N"].to_dict() == {1: "A", 2: "_"}


def test_special_missing_read_by_pyreadstat_as_missing(tmp_path):
    path = write_xpt(pd.DataFrame({"N": [np.nan, 3.0]}), tmp_path / "t.xpt",
                     special_missing={"N": pd.Series(["Z"], index=[0])})
    theirs, _ = pyreadstat.read_xport(str(path))
    assert theirs["N"].isna().tolist() == [True, False]


def test_special_missing_for_a_present_value_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"row 2.*special missing code \.B given for a row that holds 3\.0"):
        write_xpt(pd.DataFrame({"N": [np.nan, 3.0]}), tmp_path / "t.xpt", special_missing={"N": {1: "B"}})


def test_special_missing_for_an_unknown_column_is_refused(tmp_path):
    with pytest.raises(InputError, match="column 'M': special missing values given for a column"):
        write_xpt(pd.DataFrame({"N": [np.nan]}), tmp_path / "t.xpt", special_missing={"M": {0: "A"}})


def test_integers_and_nullable_integers(tmp_path):
    df = pd.DataFrame({"I": np.array([1, -7, 2 ** 53]), "J": pd.array([1, None, 3], dtype="Int64")})
    frame, _ = read_xpt(write_xpt(df, tmp_path / "t.xpt"))
    assert frame["I"].tolist() == [1.0, -7.0, 2.0 ** 53]
    assert frame["J"].isna().tolist() == [False, True, False]


def test_dates_with_date9_spec_are_days_since_1960(tmp_path):
    spec = [VariableSpec("ADT", "Analysis Date", "integer", display_format="DATE9.")]
    df = pd.DataFrame({"ADT": pd.to_datetime(["2013-02-04", "1960-01-01", None])})
    path = write_xpt(df, tmp_path / "t.xpt", variables=spec, created=CREATED)
    rows = path.read_bytes()[-80:-80 + 24]
    assert rows == bytes.fromhex("444BC10000000000" "0000000000000000" "2E00000000000000")
    frame, meta = read_xpt(path)
    assert meta.variable("ADT").display_format == "DATE9."
    assert frame["ADT"].tolist()[:2] == [pd.Timestamp("2013-02-04"), pd.Timestamp("1960-01-01")]
    theirs, _ = pyreadstat.read_xport(str(path))
    assert theirs["ADT"].tolist()[:2] == [dt.date(2013, 2, 4), dt.date(1960, 1, 1)]


def test_datetime64_without_format_is_always_datetime20(tmp_path):
    df = pd.DataFrame({"ADTM": pd.to_datetime(["1970-01-01", "2013-02-04"])})  # all midnight
    path = write_xpt(df, tmp_path / "t.xpt")
    frame, meta = read_xpt(path)
    assert meta.variable("ADTM").display_format == "DATETIME20."
    raw, _ = read_xpt(path, convert_dates=False)
    assert raw["ADTM"].tolist() == [315619200.0, 1675555200.0]  # 1970-01-01 = 315,619,200 s
    assert frame["ADTM"].tolist() == df["ADTM"].tolist()


def test_python_dates_are_date9_and_times_are_time8(tmp_path):
    df = pd.DataFrame({"D": [dt.date(2013, 2, 4), None], "T": [dt.time(1, 2, 3), None],
                       "DUR": pd.to_timedelta(["01:00:00", None])})
    path = write_xpt(df, tmp_path / "t.xpt")
    raw, meta = read_xpt(path, convert_dates=False)
    assert [v.display_format for v in meta.variables] == ["DATE9.", "TIME8.", "TIME8."]
    assert raw["D"].tolist()[0] == 19393.0 and raw["T"].tolist()[0] == 3723.0
    assert raw["DUR"].tolist()[0] == 3600.0


def test_date9_with_a_time_of_day_is_refused(tmp_path):
    spec = [{"name": "ADT", "data_type": "integer", "display_format": "DATE9."}]
    with pytest.raises(InputError, match="row 2, column 'ADT'.*time of day.*whole days"):
        write_xpt(pd.DataFrame({"ADT": pd.to_datetime(["2013-02-04", "2013-02-04 10:00"], format="ISO8601")}),
                  tmp_path / "t.xpt", variables=spec)


SAS_DATETIME_2013 = 1675591200.0  # 2013-02-04T10:00:00 in seconds: a datetime stored under DATE9.


@pytest.mark.parametrize(("fmt", "value", "kind"), [
    ("DATE9.", SAS_DATETIME_2013, "date"),   # read as days it was year -8895 or so
    ("DATE9.", -1e9, "date"),                # and this one year 186823
    ("DATE9.", -138062.0, "date"),           # 1581-12-31: one day before SAS's range
    ("DATETIME20.", 1e15, "datetime"),
    ("TIME8.", -1e13, "time"),
])
def test_date_format_numbers_sas_cannot_hold_are_refused_on_read(tmp_path, fmt, value, kind):
    path = tmp_path / "bad.xpt"  # written by another writer, as SAS would accept the numbers
    pyreadstat.write_xport(pd.DataFrame({"X": [0.0, value]}), str(path), file_format_version=5,
                           table_name="BAD", variable_format={"X": fmt})
    with pytest.raises(InputError, match=rf"bad\.xpt, row 2, column 'X': value {value!r} has the "
                                         rf"{kind} format {fmt} but is not a SAS {kind}.*convert_dates=False"):
        read_xpt(path)
    assert read_xpt(path, convert_dates=False)[0]["X"].tolist() == [0.0, value]


def test_the_first_and_last_sas_dates_are_read(tmp_path):
    path = tmp_path / "ends.xpt"
    pyreadstat.write_xport(pd.DataFrame({"X": [-138061.0, 6552815.0, np.nan]}), str(path),
                           file_format_version=5, table_name="ENDS", variable_format={"X": "DATE9."})
    values = read_xpt(path)[0]["X"].to_numpy()
    assert values[:2].tolist() == np.array(["1582-01-01", "19900-12-31"], dtype="datetime64[us]").tolist()
    assert np.isnat(values[2])


@pytest.mark.parametrize(("values", "spec", "message"), [
    ([0.0, SAS_DATETIME_2013], {"display_format": "DATE9."}, "value 1675591200.0 has the date format DATE9."),
    (pd.Series(np.array(["2013-02-04", "1500-01-01"], dtype="datetime64[s]")), {"display_format": "DATE9."},
     "value -168011.0 has the date format DATE9. but is not a SAS date"),  # 1500-01-01
], ids=["datetime-seconds-under-DATE9", "year-1500"])
def test_dates_sas_cannot_hold_are_refused_on_write(tmp_path, values, spec, message):
    with pytest.raises(InputError, match=rf"row 2, column 'X': {re.escape(message)}"):
        write_xpt(pd.DataFrame({"X": values}), tmp_path / "t.xpt", variables=[{"name": "X", **spec}])


def test_spec_integer_with_fraction_is_refused(tmp_path):
    spec = [{"name": "AGE", "data_type": "integer"}]
    with pytest.raises(InputError, match="row 2, column 'AGE'.*not an integer"):
        write_xpt(pd.DataFrame({"AGE": [1.0, 1.5]}), tmp_path / "t.xpt", variables=spec)


# -- FDA checks and bad input: every one refuses with a clear message, writes nothing ----


@pytest.mark.parametrize("bad", ["TOOLONGNAME", "age", "1AGE", "_AGE", "AGE-1", "ÂGE", "", "AGE\n", "A\nB"])
def test_invalid_variable_names_are_refused(tmp_path, bad):
    with pytest.raises(InputError, match="is not a valid XPT v5 name"):
        write_xpt(pd.DataFrame({bad: [1]}), tmp_path / "t.xpt")
    assert not (tmp_path / "t.xpt").exists()


@pytest.mark.parametrize("stem", ["toolongname", "1dm", "d-m"])
def test_invalid_dataset_names_are_refused(tmp_path, stem):
    with pytest.raises(InputError, match="dataset name .* is not a valid XPT v5 name"):
        write_xpt(pd.DataFrame({"A": [1]}), tmp_path / f"{stem}.xpt")


def test_a_dataset_name_ending_in_a_newline_is_refused(tmp_path):
    with pytest.raises(InputError, match=r"dataset name 'DM\\n' is not a valid XPT v5 name"):
        write_xpt(pd.DataFrame({"A": [1]}), tmp_path / "dm.xpt", name="DM\n")


def test_variable_label_over_40_bytes_is_refused_not_truncated(tmp_path):
    spec = [VariableSpec("A", "L" * 41)]
    with pytest.raises(InputError, match=r"column 'A': label of A 'L{41}' is 41 bytes; XPT v5 allows at most 40"):
        write_xpt(pd.DataFrame({"A": ["x"]}), tmp_path / "t.xpt", variables=spec)


def test_dataset_label_over_40_bytes_is_refused(tmp_path):
    with pytest.raises(InputError, match="dataset label .* is 41 bytes"):
        write_xpt(pd.DataFrame({"A": ["x"]}), tmp_path / "t.xpt", label="D" * 41)


def test_utf8_label_counts_bytes_not_characters(tmp_path):
    spec = [VariableSpec("A", "é" * 21)]  # 21 characters, 42 bytes
    with pytest.raises(InputError, match="42 bytes"):
        write_xpt(pd.DataFrame({"A": ["x"]}), tmp_path / "t.xpt", variables=spec, profile="utf8")


def test_non_ascii_label_is_refused_under_fda(tmp_path):
    spec = [VariableSpec("A", "Durée")]
    with pytest.raises(InputError, match=r"non-ASCII character 'é' \(U\+00E9\) at position 4"):
        write_xpt(pd.DataFrame({"A": ["x"]}), tmp_path / "t.xpt", variables=spec)


@pytest.mark.parametrize("dtype", [object, "string", "str"])
def test_non_ascii_value_reports_row_column_and_character(tmp_path, dtype):
    df = pd.DataFrame({"A": ["ok", "fine"], "B": pd.Series(["ok", "Ménière"], dtype=dtype)})
    with pytest.raises(InputError) as err:
        write_xpt(df, tmp_path / "t.xpt")
    assert "row 2, column 'B'" in str(err.value)
    assert "non-ASCII character 'é' (U+00E9) at position 2 of 'Ménière'" in str(err.value)
    assert "FDA requires ASCII" in str(err.value)


@pytest.mark.parametrize("dtype", [object, "str"])
def test_value_over_200_bytes_is_refused(tmp_path, dtype):
    df = pd.DataFrame({"T": pd.Series(["short", "x" * 201], dtype=dtype)})
    with pytest.raises(InputError, match="row 2, column 'T'.* is 201 bytes, over the XPT v5 limit of 200"):
        write_xpt(df, tmp_path / "t.xpt")


def test_value_longer_than_spec_length_is_refused(tmp_path):
    spec = [VariableSpec("T", "Term", length=3)]
    with pytest.raises(InputError, match="row 1, column 'T'.*'abcd' is 4 bytes, longer than the spec length 3"):
        write_xpt(pd.DataFrame({"T": ["abcd"]}), tmp_path / "t.xpt", variables=spec)


def test_spec_length_over_200_is_refused(tmp_path):
    with pytest.raises(InputError, match="spec length 250 is outside 1..200"):
        write_xpt(pd.DataFrame({"T": ["a"]}), tmp_path / "t.xpt",
                  variables=[VariableSpec("T", "Term", length=250)])


def test_file_over_the_size_limit_is_refused_with_split_advice(tmp_path):
    df = pd.DataFrame({"A": ["x" * 100] * 50})
    with pytest.raises(InputError) as err:
        write_xpt(df, tmp_path / "lb.xpt", max_bytes=4000)
    message = str(err.value)
    assert "over the limit of 4,000 bytes" in message and "--CAT" in message and "'split'" in message
    assert not (tmp_path / "lb.xpt").exists()


def test_failed_write_leaves_previous_file_and_no_temporary(tmp_path):
    path = write_xpt(pd.DataFrame({"A": ["old"]}), tmp_path / "t.xpt")
    before = path.read_bytes()
    with pytest.raises(InputError):
        write_xpt(pd.DataFrame({"A": ["new", "é"]}), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.xpt"]


@pytest.mark.parametrize("values, message", [
    ([1.0, np.inf], "row 2, column 'N': holds an infinite value"),
    ([1.0, -np.inf], "row 2, column 'N': holds an infinite value"),
    ([1e76], "outside the range of an IBM double"),
    ([1e-80], "outside the range of an IBM double"),
    ([True, False], "boolean column"),
    (pd.to_datetime(["2020-01-01"]).tz_localize("UTC"), "timezone-aware"),
    ([2 ** 60], "too large to store exactly"),
    ([b"bytes"], "holds bytes values"),
])
def test_unsupported_numbers_and_types_are_refused(tmp_path, values, message):
    with pytest.raises(InputError, match=message):
        write_xpt(pd.DataFrame({"N": values}), tmp_path / "t.xpt")


def test_mixed_object_column_names_the_first_odd_row(tmp_path):
    with pytest.raises(InputError, match="row 3, column 'N'.*here: 'three'"):
        write_xpt(pd.DataFrame({"N": pd.Series([1, 2, "three"], dtype=object)}), tmp_path / "t.xpt",
                  variables=[{"name": "N", "data_type": "integer"}])


def test_text_in_a_numeric_spec_variable_is_refused(tmp_path):
    with pytest.raises(InputError, match="column 'N': holds text but is written as numeric"):
        write_xpt(pd.DataFrame({"N": ["1", "2"]}), tmp_path / "t.xpt",
                  variables=[{"name": "N", "data_type": "float"}])


def test_numbers_in_a_character_spec_variable_are_refused(tmp_path):
    with pytest.raises(InputError, match="column 'C': is a int64 column but the spec says character"):
        write_xpt(pd.DataFrame({"C": [1, 2]}), tmp_path / "t.xpt",
                  variables=[{"name": "C", "data_type": "text"}])


def test_non_text_value_in_text_column(tmp_path):
    with pytest.raises(InputError, match=r"row 2, column 'C'.*value 5 \(int\) in a character column"):
        write_xpt(pd.DataFrame({"C": pd.Series(["a", 5], dtype=object)}), tmp_path / "t.xpt",
                  variables=[{"name": "C", "data_type": "text"}])


def test_spec_and_frame_must_list_the_same_columns(tmp_path):
    df = pd.DataFrame({"A": ["x"], "B": ["y"]})
    with pytest.raises(InputError, match="column 'B' is not in the spec"):
        write_xpt(df, tmp_path / "t.xpt", variables=[VariableSpec("A", "a")])
    with pytest.raises(InputError, match="the spec lists 'C' but the data have no such column"):
        write_xpt(df, tmp_path / "t.xpt", variables=[VariableSpec("A", "a"), VariableSpec("B", "b"),
                                                       VariableSpec("C", "c")])


def test_spec_order_is_the_column_order_written(tmp_path):
    df = pd.DataFrame({"A": ["x"], "B": [1.0]})
    frame, _ = read_xpt(write_xpt(df, tmp_path / "t.xpt",
                                  variables=[VariableSpec("B", "b", "float"), VariableSpec("A", "a")]))
    assert list(frame.columns) == ["B", "A"]


def test_bad_display_format_names_the_column(tmp_path):
    with pytest.raises(InputError, match="column 'N': display format: format 'DATE' is not a SAS format"):
        write_xpt(pd.DataFrame({"N": [1.0]}), tmp_path / "t.xpt",
                  variables=[VariableSpec("N", "n", "float", display_format="DATE")])


def test_numeric_length_other_than_8_is_refused(tmp_path):
    with pytest.raises(InputError, match="numeric length 4 is not supported"):
        write_xpt(pd.DataFrame({"N": [1.0]}), tmp_path / "t.xpt",
                  variables=[VariableSpec("N", "n", "float", length=4)])


def test_nul_in_text_is_refused(tmp_path):
    with pytest.raises(InputError, match="row 1, column 'C'.*NUL"):
        write_xpt(pd.DataFrame({"C": ["a\x00b"]}), tmp_path / "t.xpt")


def test_trailing_blank_row_that_v5_cannot_keep_is_refused(tmp_path):
    with pytest.raises(InputError, match="last row is entirely blank"):
        write_xpt(pd.DataFrame({"C": ["a", ""]}), tmp_path / "t.xpt")
    frame, _ = read_xpt(write_xpt(pd.DataFrame({"C": ["", "a"]}), tmp_path / "t.xpt"))
    assert frame["C"].tolist() == ["", "a"]


def test_zero_rows(tmp_path):
    frame, meta = read_xpt(write_xpt(pd.DataFrame({"A": pd.Series([], dtype=object), "N": []}),
                                     tmp_path / "t.xpt"))
    assert len(frame) == 0 and meta.names == ["A", "N"]


# -- reading: corrupt and unsupported files --------------------------------------------


@pytest.fixture()
def sample(tmp_path) -> Path:
    df = pd.DataFrame({"USUBJID": ["01-701-1015", "01-701-1023"], "AGE": [63.0, 64.0],
                       "TERM": ["A" * 70, "B"]})
    return write_xpt(df, tmp_path / "dm.xpt", created=CREATED)


def test_truncated_file_reports_byte_offset(sample):
    data = sample.read_bytes()
    sample.write_bytes(data[:-5])
    with pytest.raises(InputError, match=rf"byte offset {len(data) - 80}: .*not a whole number of 80-byte records"):
        read_xpt(sample)


def test_file_cut_inside_the_namestrs(sample):
    sample.write_bytes(sample.read_bytes()[:9 * 80])
    with pytest.raises(InputError, match="ends inside the NAMESTR records"):
        read_xpt(sample)


def test_incomplete_last_observation(sample):
    data = sample.read_bytes()
    header = data.index(b"HEADER RECORD*******OBS") + 80
    sample.write_bytes(data[:header + 160])  # 2 records: 1 row of 89 bytes + 71 bytes of the next
    with pytest.raises(InputError, match=rf"byte offset {header + 89}: the last observation is incomplete"):
        read_xpt(sample)


def test_not_an_xpt_file(tmp_path):
    path = tmp_path / "x.xpt"
    path.write_bytes(b"x" * 160)
    with pytest.raises(InputError, match="byte offset 0: not a SAS XPORT file"):
        read_xpt(path)


def test_corrupt_namestr_type(sample):
    data = bytearray(sample.read_bytes())
    data[640:642] = b"\x00\x07"
    sample.write_bytes(bytes(data))
    with pytest.raises(InputError, match="byte offset 640: variable 1: type 7"):
        read_xpt(sample)


def test_version_8_files_are_read_with_long_names_and_labels(tmp_path):
    path = tmp_path / "v8.xpt"
    df = pd.DataFrame({"long_variable_name": [1.0, np.nan], "Txt": ["a", "bb"]})
    pyreadstat.write_xport(df, str(path), file_format_version=8, table_name="V8",
                           column_labels=["A label that is longer than forty characters, for v8",
                                          "short"])
    frame, meta = read_xpt(path)
    theirs, their_meta = pyreadstat.read_xport(str(path))
    assert meta.version == 8 and list(frame.columns) == list(theirs.columns) == list(df.columns)
    assert [v.label for v in meta.variables] == their_meta.column_labels
    np.testing.assert_array_equal(frame["long_variable_name"].to_numpy(), df["long_variable_name"].to_numpy())
    assert frame["Txt"].tolist() == ["a", "bb"]
    with pytest.raises(InputError, match="not a valid XPT v5 name"):  # v5 cannot hold it
        write_xpt(frame, tmp_path / "v8.xpt", **meta.write_options())


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="cannot read the file"):
        read_xpt(tmp_path / "nope.xpt")


# -- other readers agree with what we write ---------------------------------------------


def test_pyreadstat_and_pandas_read_what_we_write(tmp_path):
    df = pd.DataFrame({"USUBJID": ["01-701-1015", "01-701-1023", "01-701-1028"],
                       "AGE": [63.0, np.nan, 71.5], "SEX": ["F", "M", ""]})
    spec = [VariableSpec("USUBJID", "Unique Subject Identifier"), VariableSpec("AGE", "Age", "float"),
            VariableSpec("SEX", "Sex", length=1)]
    path = write_xpt(df, tmp_path / "dm.xpt", label="Demographics", variables=spec)
    theirs, meta = pyreadstat.read_xport(str(path))
    assert theirs["USUBJID"].tolist() == df["USUBJID"].tolist()
    assert theirs["SEX"].tolist() == ["F", "M", ""]
    np.testing.assert_array_equal(theirs["AGE"].to_numpy(), df["AGE"].to_numpy())
    assert meta.column_labels == ["Unique Subject Identifier", "Age", "Sex"]
    assert meta.table_name == "DM" and meta.file_label == "Demographics"
    pandas_frame = pd.read_sas(path, format="xport", encoding="ascii")
    np.testing.assert_array_equal(pandas_frame["AGE"].to_numpy(), df["AGE"].to_numpy())
    assert pandas_frame["USUBJID"].tolist() == df["USUBJID"].tolist()
