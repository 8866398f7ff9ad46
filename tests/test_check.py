"""specs.conform and specs.check: every rule on a hand-made frame with known violations."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import specs
from specs import InputError
from specs.findings import COLUMNS, RULES
from specs.model import Codelist, CodelistItem, DatasetSpec, Spec, VariableSpec


@pytest.fixture()
def spec() -> Spec:
    ae = DatasetSpec("AE", "Adverse Events", keys=["STUDYID", "USUBJID", "AESEQ"], variables=[
        VariableSpec("STUDYID", "Study Identifier", core="Req", order=1),
        VariableSpec("USUBJID", "Unique Subject Identifier", core="Req", order=2),
        VariableSpec("AESEQ", "Sequence Number", data_type="integer", core="Req", order=3),
        VariableSpec("AETERM", "Reported Term for the Adverse Event", core="Req", length=20, order=4),
        VariableSpec("AESEV", "Severity/Intensity", core="Perm", codelist="CL.AESEV", order=5),
        VariableSpec("AEROUTE", "Route", core="Perm", codelist="CL.ROUTE", order=6),
        VariableSpec("AESER", "Serious Event", core="Exp", codelist="CL.NY", order=7),
        VariableSpec("AEDOSE", "Dose", data_type="float", core="Perm", order=8),
    ])
    return Spec(datasets=[ae], codelists=[
        Codelist("CL.AESEV", "Severity", items=[CodelistItem(v) for v in ("MILD", "MODERATE", "SEVERE")]),
        Codelist("CL.ROUTE", "Route", extensible=True, items=[CodelistItem("TOPICAL")]),
    ])


def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "STUDYID": ["S1", "S1", "S1", "S1", "S1"],
        "USUBJID": ["S1-001", "S1-001", None, "S1-002", "S1-002"],
        "AESEQ": [1.0, 2.0, 1.0, 1.0, 1.5],
        "AETERM": ["HEADACHE", "x" * 21, "ECZÉMA", "RASH", "y" * 201],
        "AESEV": ["MILD", "mild", None, "SEVERE", "MODERATE"],
        "AEROUTE": ["TOPICAL", "ORAL", "TOPICAL", "", "TOPICAL"],
        "AEDOSE": [1.0, np.inf, 2.0, np.nan, 0.5],
        "EXTRA": [1, 2, 3, 4, 5],
    })


def rows_of(found, rule, variable=None):
    sel = found[found.rule == rule]
    if variable:
        sel = sel[sel.variable == variable]
    return sel["row"].dropna().astype(int).tolist()


def test_findings_have_the_record_shape(spec):
    found = specs.check(frame(), spec.dataset("AE"), spec)
    assert list(found.columns) == COLUMNS
    assert set(found.rule) <= set(RULES)
    assert set(found.severity) <= {"error", "warning", "notice"}


def test_each_rule_fires_on_exactly_the_bad_rows(spec):
    found = specs.check(frame(), spec.dataset("AE"), spec)
    assert rows_of(found, "TP0004", "USUBJID") == [3]                 # Req null
    assert rows_of(found, "TP0005", "AESEQ") == [5]                   # integer with a fraction
    assert rows_of(found, "TP0014", "AEDOSE") == [2]                  # infinite
    assert rows_of(found, "TP0007", "AETERM") == [2]                  # 21 > spec length 20
    assert rows_of(found, "TP0006", "AETERM") == [5]                  # 201 bytes > 200
    assert rows_of(found, "TP0008", "AETERM") == [3]                  # É
    assert rows_of(found, "TP0009", "AESEV") == [2]                   # 'mild' not in non-extensible list
    assert rows_of(found, "TP0010", "AEROUTE") == [2]                 # 'ORAL' extended value (warning)
    assert found[found.rule == "TP0010"].severity.unique().tolist() == ["warning"]
    assert found[(found.rule == "TP0003")].variable.tolist() == ["EXTRA"]
    assert found[(found.rule == "TP0002")].variable.tolist() == ["AESER"]  # Exp missing
    assert rows_of(found, "TP0016") == []  # CL.NY unknown but AESER absent, so never looked up


def test_non_ascii_message_names_the_character(spec):
    found = specs.check(frame(), spec.dataset("AE"), spec)
    msg = found[found.rule == "TP0008"].message.iloc[0]
    assert "'É'" in msg and "U+00C9" in msg


def test_byte_length_counts_utf8_bytes(spec):
    df = frame().drop(columns="EXTRA")
    df.loc[0, "AETERM"] = "É" * 10 + "x"   # 11 characters, 21 bytes > 20
    found = specs.check(df, spec.dataset("AE"), spec)
    assert 1 in rows_of(found, "TP0007", "AETERM")


def test_duplicate_keys_and_missing_required_variable(spec):
    df = frame().drop(columns=["EXTRA", "AETERM"])
    df.loc[1, "AESEQ"] = 1.0
    found = specs.check(df, spec.dataset("AE"), spec)
    assert rows_of(found, "TP0013") == [2]
    assert found[found.rule == "TP0001"].variable.tolist() == ["AETERM"]


def test_order_difference_is_reported(spec):
    df = frame().drop(columns="EXTRA")[["USUBJID", "STUDYID", "AESEQ", "AETERM", "AESEV", "AEROUTE", "AEDOSE"]]
    found = specs.check(df, spec.dataset("AE"), spec)
    assert found[found.rule == "TP0015"].variable.tolist() == ["USUBJID"]


def test_clean_frame_has_no_findings(spec):
    ds = spec.dataset("AE")
    df = specs.conform(frame().iloc[[0, 3]].assign(AESER=["N", "Y"], AEROUTE=["TOPICAL", None]), ds, extra="drop")
    spec.codelists.append(Codelist("CL.NY", "No Yes Response", items=[CodelistItem("N"), CodelistItem("Y")]))
    found = specs.check(df, ds, spec)
    assert found.empty, found


def test_conform_orders_types_and_adds_missing(spec):
    ds = spec.dataset("AE")
    raw = pd.DataFrame({"AETERM": ["A", ""], "AESEQ": ["2", " 3 "], "STUDYID": ["S", "S"],
                        "USUBJID": ["S-1", "S-2"]})
    out = specs.conform(raw, ds)
    assert list(out.columns) == ds.names
    assert out["AESEQ"].dtype == np.float64 and out["AESEQ"].tolist() == [2.0, 3.0]
    assert out["AETERM"].isna().tolist() == [False, True]     # empty text is missing
    assert out["AEDOSE"].isna().all() and out["AESER"].isna().all()


def test_conform_refuses_unknown_columns_and_bad_numbers(spec):
    ds = spec.dataset("AE")
    with pytest.raises(InputError, match="EXTRA"):
        specs.conform(frame(), ds)
    with pytest.raises(InputError) as err:
        specs.conform(pd.DataFrame({"AESEQ": ["1", "two"]}), ds)
    assert err.value.row == 2 and err.value.column == "AESEQ"


def test_million_rows_vectorised(spec):
    n = 1_000_000
    df = pd.DataFrame({"STUDYID": np.repeat("S1", n), "USUBJID": np.char.add("S1-", np.arange(n).astype(str)),
                       "AESEQ": np.ones(n), "AETERM": np.repeat("HEADACHE", n),
                       "AESEV": np.tile(["MILD", "SEVERE"], n // 2), "AEROUTE": np.repeat("TOPICAL", n),
                       "AESER": np.repeat("N", n), "AEDOSE": np.ones(n)})
    spec.codelists.append(Codelist("CL.NY", "No Yes Response", items=[CodelistItem("N"), CodelistItem("Y")]))
    df.loc[999_999, "AESEV"] = "FATAL"
    found = specs.check(df, spec.dataset("AE"), spec)
    assert rows_of(found, "TP0009", "AESEV") == [1_000_000]


def test_country_codes_are_checked_against_the_shipped_iso_3166_list():
    """DM.COUNTRY (Req) uses the external codelist ISO 3166: its alpha-3 codes ship as data, so a
    value outside the list is an error (TP0009) like any non-extensible codelist; MedDRA, which
    trialpack does not ship, stays unchecked."""
    from specs.dictionaries import dictionary_terms

    sdtm = specs.standard_spec("sdtmig-3.4")
    dm = pd.DataFrame({"COUNTRY": ["DEU", "DEUTSCHLAND", "NARNIA", "XYZ", "USA", "usa", None]})
    found = specs.check(dm, sdtm.dataset("DM"), sdtm)
    bad = found[(found.variable == "COUNTRY") & (found.rule == "TP0009")]
    assert bad["value"].tolist() == ["DEUTSCHLAND", "NARNIA", "XYZ", "usa"] and bad["row"].tolist() == [2, 3, 4, 6]
    assert set(bad.severity) == {"error"} and "ISO 3166" in bad["message"].iloc[0]
    terms = dictionary_terms("ISO 3166")
    assert len(terms) == 249 and {"DEU", "USA", "JPN", "SSD", "CUW"} <= set(terms)   # SSD, CUW: assigned 2011
    assert {"UK", "XKX", "ANT"}.isdisjoint(terms)      # alpha-2, user-assigned Kosovo, deleted Netherlands Antilles
    assert dictionary_terms("MedDRA") == ()


# -- ISO 8601 (SDTMIG v3.4 section 4.4): TP0011 dates/times, TP0012 durations ------------------

DTC_CASES = [  # (value, valid?) - each row's answer from the SDTMIG 4.4 rules and the calendar
    ("2003-12-15T13:14:17", True),       # complete
    ("2003---15", True),                 # month unknown, day known
    ("2021-02-30", False),               # no 30 February
    ("2020-02-29", True),                # 2020 is a leap year
    ("2100-02-29", False),               # 2100 is not (divisible by 100, not by 400)
    ("2003-12--", False),                # the last component written must be known: truncate
    ("2003-12-15T25:00", False),         # hour 25
    ("2003-12-15/2003-12-20", True),     # interval
    ("", True),                          # null: not checked here (TP0004 is for required values)
    (" 2003-12-15", False),              # padded: invalid, not trimmed
    ("2003-12T10", False),               # a time needs the whole date written
    ("2003-12-15T13:14+05:30", True),    # time zone
]
DUR_CASES = [
    ("P1DT2H", True),
    ("PT0.5H", True),                    # a fraction in the lowest component written
    ("P4.5W", True),
    ("P1W2D", False),                    # weeks never mixed with other units
    ("PT", False),                       # T with no time component
    ("P1.5DT2H", False),                 # fraction not in the lowest component
    ("p1d", False),                      # P, T and the units are upper case
    ("P", False),                        # no component at all
    ("", True),
    ("P2Y10M", True),
    ("-P1D", False),                     # SDTM durations carry no sign
    ("PT36H", True),                     # components are not carried over (36 hours is fine)
]


def iso_spec() -> Spec:
    dataset = DatasetSpec("AE", "Adverse Events", variables=[
        VariableSpec("AESTDTC", "Start Date/Time of Adverse Event", order=1),  # text: by its DTC name
        VariableSpec("AEENDTC", "End Date/Time of Adverse Event", data_type="partialDatetime", order=2),
        VariableSpec("AEDUR", "Duration of Adverse Event", data_type="durationDatetime", order=3),
        VariableSpec("AEEVLDUR", "Evaluation Interval", order=4),                # text: by its DUR name
    ])
    return Spec(datasets=[dataset])


def test_iso8601_dates_and_durations_through_check():
    spec = iso_spec()
    dtc = [v for v, _ in DTC_CASES]
    dur = [v for v, _ in DUR_CASES]
    found = specs.check(pd.DataFrame({"AESTDTC": dtc, "AEENDTC": dtc[::-1], "AEDUR": dur, "AEEVLDUR": dur[::-1]}),
                        spec.dataset("AE"), spec)
    bad_dtc = [i + 1 for i, (_, ok) in enumerate(DTC_CASES) if not ok]
    bad_dur = [i + 1 for i, (_, ok) in enumerate(DUR_CASES) if not ok]
    assert bad_dtc == [3, 5, 6, 7, 10, 11] and bad_dur == [4, 5, 6, 7, 8, 11]
    n = len(DTC_CASES)
    assert rows_of(found, "TP0011", "AESTDTC") == bad_dtc
    assert rows_of(found, "TP0011", "AEENDTC") == sorted(n + 1 - r for r in bad_dtc)
    assert rows_of(found, "TP0012", "AEDUR") == bad_dur
    assert rows_of(found, "TP0012", "AEEVLDUR") == sorted(len(DUR_CASES) + 1 - r for r in bad_dur)
    assert set(found.rule) == {"TP0011", "TP0012"}  # durations are not read as dates, nor the reverse
    first = found[(found.rule == "TP0011") & (found.variable == "AESTDTC")].iloc[0]
    assert (first.severity, first.value, first.dataset) == ("error", "2021-02-30", "AE")
    assert first.message == "AESTDTC is not a valid ISO 8601 date/time"


@pytest.mark.parametrize(("fmt", "kind"), [
    ("DATE9.", "date"), ("IS8601DA10.", "date"), ("E8601DA10.", "date"), ("YYMMDDN8.", "date"),
    ("MMDDYY10.", "date"), ("IS8601DT19.", "datetime"), ("DATETIME20.", "datetime"), ("TOD8.", "time"),
    ("8.2", None), ("BEST12.", None), ("$20.", None),
])
def test_conform_and_the_xpt_writer_agree_on_date_formats(tmp_path, fmt, kind):
    """One list of SAS date/datetime/time formats (specs.formats) for conform and write_xpt:
    a temporal column under a temporal format is kept by conform and stored by the writer as
    days or seconds since 1960 (2013-02-04 is day 19393); under another format both refuse it."""
    from fileformats.xpt import read_xpt, write_xpt
    from specs.formats import format_kind

    assert format_kind(fmt) == kind
    var = VariableSpec("ADT", "Analysis Date", data_type="integer", display_format=fmt, order=1)
    ds = DatasetSpec("AD", "Dates", variables=[var])
    column = (pd.to_timedelta(["01:02:03", None]) if kind == "time"
              else pd.to_datetime(["2013-02-04", None]))
    if kind is None:
        with pytest.raises(InputError):
            specs.conform(pd.DataFrame({"ADT": column}), ds)
        with pytest.raises(InputError):
            write_xpt(pd.DataFrame({"ADT": column}), tmp_path / "ad.xpt", variables=[var])
        return
    kept = specs.conform(pd.DataFrame({"ADT": column}), ds)["ADT"]
    assert kept.dtype.kind == ("m" if kind == "time" else "M")
    path = write_xpt(kept.to_frame(), tmp_path / "ad.xpt", variables=[var])
    stored = read_xpt(path, convert_dates=False)[0]["ADT"].tolist()[0]
    assert stored == {"date": 19393.0, "datetime": 19393.0 * 86400, "time": 3723.0}[kind]
    assert read_xpt(path)[0]["ADT"].tolist()[0] == kept.tolist()[0]
