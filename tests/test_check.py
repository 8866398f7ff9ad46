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
