"""ADSL (ADaMIG 1.3 §3.2) from hand-made DM/EX/DS, every value worked out by hand.

Subjects (study S1; arms VEH-TPZ15 = vehicle then cream 1.5%, TPZ15-TPZ15, TPZ075-TPZ15):
  001 VEH-TPZ15, vehicle 2021-03-01..03-28 (P1), cream 1.5% 2021-03-29..06-30 (P2); DS COMPLETED 2021-07-15,
      then an OTHER EVENT (not a disposition event) 2021-07-20. AGE 12.
  002 TPZ15-TPZ15 but vehicle in P1 (2021-03-01..03-28) and cream 1.5% in P2 (2021-03-29..04-30);
      DS COMPLETED 2021-03-28 (end of P1), WITHDRAWAL BY SUBJECT 2021-05-01. AGE 6.
  003 VEH-TPZ15, never treated; no DS. AGE 5.
  004 screen failure: no ARMCD, no EX; DS SCREEN FAILURE. Not an ADSL subject.
  005 no ARMCD but treated (cream 1.5% 2021-03-01..03-10, P1); DS PROTOCOL MILESTONE RANDOMIZED
      2021-03-01 and ADVERSE EVENT 2021-03-12. AGE 17. Died 2021-03-20 (DTHFL Y).
  006 TPZ075-TPZ15, partial EX dates: 0.75% "2021-03" .. "2021-03-20" (P1), 1.5% "2021-03-21" .. "2021-05"
      (P2); DS COMPLETED 2021-05-18. AGE 18.
  007 TPZ15-TPZ15, cream 1.5% "2021" .. "2021-06-10" (P1); two disposition events on 2021-06-10,
      DSSEQ 1 COMPLETED and DSSEQ 2 LOST TO FOLLOW-UP. AGE 2. DTHDTC "2021-07" (partial).
  008 TPZ15-TPZ15, one application 2021-04-01 with EXENDTC missing; DS DEATH 2021-04-20. AGE missing.
"""
from __future__ import annotations

import pandas as pd
import pytest

from adam.adsl import derive_age_groups
from tests.adam_frames import (C075, C15, ISS, P1, P2, VEH, day, derive, dm, ds, ex, row, text, usubjid)

SUBJECTS = dm(
    {"subject": "001", "ARMCD": "VEH-TPZ15", "AGE": 12},
    {"subject": "002", "ARMCD": "TPZ15-TPZ15", "AGE": 6, "ACTARMCD": "VEH-TPZ15",
     "ACTARM": "Vehicle, then Topazitinib 1.5%"},
    {"subject": "003", "ARMCD": "VEH-TPZ15", "AGE": 5, "ACTARMCD": None, "ACTARM": None},
    {"subject": "004", "ARMCD": None, "AGE": 9},
    {"subject": "005", "ARMCD": None, "AGE": 17, "DTHDTC": "2021-03-20", "DTHFL": "Y"},
    {"subject": "006", "ARMCD": "TPZ075-TPZ15", "AGE": 18},
    {"subject": "007", "ARMCD": "TPZ15-TPZ15", "AGE": 2, "DTHDTC": "2021-07", "DTHFL": "Y"},
    {"subject": "008", "ARMCD": "TPZ15-TPZ15", "AGE": None, "AGEU": None},
)
EXPOSURE = ex(
    ("001", VEH, P1, "2021-03-01", "2021-03-28"), ("001", C15, P2, "2021-03-29", "2021-06-30"),
    ("002", VEH, P1, "2021-03-01", "2021-03-28"), ("002", C15, P2, "2021-03-29", "2021-04-30"),
    ("005", C15, P1, "2021-03-01", "2021-03-10"),
    ("006", C075, P1, "2021-03", "2021-03-20"), ("006", C15, P2, "2021-03-21", "2021-05"),
    ("007", C15, P1, "2021", "2021-06-10"),
    ("008", C15, P1, "2021-04-01", None),
)
DISPOSITION = ds(
    ("001", "COMPLETED", "2021-07-15"), ("001", "FINAL LAB VISIT", "2021-07-20", "OTHER EVENT"),
    ("002", "COMPLETED", "2021-03-28"), ("002", "WITHDRAWAL BY SUBJECT", "2021-05-01"),
    ("004", "SCREEN FAILURE", "2021-02-01"),
    ("005", "RANDOMIZED", "2021-03-01", "PROTOCOL MILESTONE"), ("005", "ADVERSE EVENT", "2021-03-12"),
    ("006", "COMPLETED", "2021-05-18"),
    ("007", "COMPLETED", "2021-06-10"), ("007", "LOST TO FOLLOW-UP", "2021-06-10"),
    ("008", "DEATH", "2021-04-20"),
)


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    return derive(tmp_path_factory.mktemp("adsl"), dm_rows=SUBJECTS, ex_rows=EXPOSURE, ds_rows=DISPOSITION)


@pytest.fixture(scope="module")
def adsl(analysis):
    return analysis.datasets["ADSL"]


def subject(adsl: pd.DataFrame, sid: str) -> pd.Series:
    return row(adsl, USUBJID=usubjid(sid))


def values(adsl, sid, names):
    s = subject(adsl, sid)
    return [day(s[n]) if pd.api.types.is_datetime64_any_dtype(adsl[n]) else text(pd.Series([s[n]]))[0]
            for n in names]


def test_one_record_per_analysed_subject(adsl):
    # DM subjects with an arm or any exposure; 004 (screen failure: neither) is not analysed
    assert list(adsl["USUBJID"]) == [usubjid(s) for s in ("001", "002", "003", "005", "006", "007", "008")]
    assert adsl["STUDYID"].eq("S1").all() and list(adsl["SUBJID"]) == ["001", "002", "003", "005", "006", "007",
                                                                       "008"]


TREATMENT = ["TRT01P", "TRT01PN", "TRT01A", "TRT01AN", "TRT02P", "TRT02PN", "TRT02A", "TRT02AN"]


@pytest.mark.parametrize("sid, expected", [
    # planned = the arm's treatment per period; actual = the EX treatment of the period
    ("001", ["Vehicle", 3, "Vehicle", 3, "Cream 1.5%", 2, "Cream 1.5%", 2]),
    ("002", ["Cream 1.5%", 2, "Vehicle", 3, "Cream 1.5%", 2, "Cream 1.5%", 2]),   # planned cream, got vehicle
    ("003", ["Vehicle", 3, None, None, "Cream 1.5%", 2, None, None]),              # never treated
    ("005", [None, None, "Cream 1.5%", 2, None, None, None, None]),                # no arm, treated
    ("006", ["Cream 0.75%", 1, "Cream 0.75%", 1, "Cream 1.5%", 2, "Cream 1.5%", 2]),
    ("008", ["Cream 1.5%", 2, "Cream 1.5%", 2, "Cream 1.5%", 2, None, None]),      # period 2 not entered
])
def test_planned_and_actual_treatment_per_period(adsl, sid, expected):
    assert values(adsl, sid, TREATMENT) == expected


@pytest.mark.parametrize("sid, expected", [
    # TRTSDT, TRTSDTF, TRTEDT, TRTEDTF, TRTDURD
    ("001", ["2021-03-01", None, "2021-06-30", None, 122]),   # 31 + 30 + 31 + 30 days, March to June
    ("003", [None, None, None, None, None]),
    # "2021-03" -> 1 March (day imputed: D); "2021-05" -> 31 May, but not after EOSDT 2021-05-18 (D)
    ("006", ["2021-03-01", "D", "2021-05-18", "D", 79]),      # 31 + 30 + 18
    # "2021" -> 1 January (month and day imputed: M); 31 + 28 + 31 + 30 + 31 + 10 = 161
    ("007", ["2021-01-01", "M", "2021-06-10", None, 161]),
    # missing EXENDTC: one application on EXSTDTC, an imputed date (ADaMIG: the flag is required whenever a
    # date is imputed; the whole date came from EXSTDTC -> "Y"), reported as TP0205
    ("008", ["2021-04-01", None, "2021-04-01", "Y", 1]),
])
def test_first_and_last_exposure_with_imputation_flags(adsl, sid, expected):
    assert values(adsl, sid, ["TRTSDT", "TRTSDTF", "TRTEDT", "TRTEDTF", "TRTDURD"]) == expected


def test_period_exposure_flags_of_partial_dates(adsl):
    assert values(adsl, "006", ["TR01SDT", "TR01SDTF", "TR01EDT", "TR02SDT", "TR02EDT", "TR02EDTF"]) == [
        "2021-03-01", "D", "2021-03-20", "2021-03-21", "2021-05-18", "D"]


def test_treatment_duration_in_years(adsl):
    assert subject(adsl, "001")["TRTDURY"] == pytest.approx(122 / 365.25, abs=1e-12)
    assert pd.isna(subject(adsl, "003")["TRTDURY"])


def test_missing_last_dose_from_the_disposition_date_by_config(tmp_path):
    # imputation.treatment_end.missing = disposition_date (the pilot's rule): 008's missing EXENDTC takes
    # EOSDT 2021-04-20; the whole date was imputed, so TRTEDTF = "Y" (DATEFL: year, month and day imputed)
    got = derive(tmp_path, dm_rows=SUBJECTS, ex_rows=EXPOSURE, ds_rows=DISPOSITION,
                 imputation={**ISS["imputation"], "treatment_end": {"missing": "disposition_date"}})
    assert values(got.datasets["ADSL"], "008", ["TRTSDT", "TRTEDT", "TRTEDTF", "TRTDURD"]) == [
        "2021-04-01", "2021-04-20", "Y", 20]


@pytest.mark.parametrize("sid, expected", [
    ("001", ["COMPLETED", None, "2021-07-15"]),                         # the OTHER EVENT is not disposition
    ("002", ["DISCONTINUED", "WITHDRAWAL BY SUBJECT", "2021-05-01"]),   # the last disposition event wins
    ("003", ["ONGOING", None, None]),                                   # no disposition event
    ("005", ["DISCONTINUED", "ADVERSE EVENT", "2021-03-12"]),           # the milestone is not disposition
    ("007", ["DISCONTINUED", "LOST TO FOLLOW-UP", "2021-06-10"]),       # same date: the higher DSSEQ
    ("008", ["DISCONTINUED", "DEATH", "2021-04-20"]),
])
def test_end_of_study(adsl, sid, expected):
    assert values(adsl, sid, ["EOSSTT", "DCSREAS", "EOSDT"]) == expected


@pytest.mark.parametrize("sid, saffl, ittfl", [
    ("001", "Y", "Y"), ("002", "Y", "Y"), ("003", "N", "Y"), ("005", "Y", "N"), ("006", "Y", "Y"),
    ("007", "Y", "Y"), ("008", "Y", "Y"),
])
def test_population_flags(adsl, sid, saffl, ittfl):
    # SAFFL: any study treatment (vehicle included); ITTFL (a randomised study): a planned arm. Y/N
    assert values(adsl, sid, ["SAFFL", "ITTFL"]) == [saffl, ittfl]


def test_randdt_from_the_randomized_milestone(adsl):
    """RANDDT: 005's DS PROTOCOL MILESTONE RANDOMIZED of 2021-03-01; no other subject has one."""
    assert values(adsl, "005", ["RANDDT"]) == ["2021-03-01"]
    assert [values(adsl, sid, ["RANDDT"])[0] for sid in ("001", "002", "003", "006", "007", "008")] == [None] * 6


def test_ittfl_is_null_in_a_study_that_does_not_randomise(tmp_path):
    """The same subjects in a study whose config says randomized: false: ITTFL null for everyone
    (there is no intent-to-treat population) — so, the only study of the ISS, ADSL has no ITTFL
    (a Cond variable no record fills is left out); SAFFL as before."""
    analysis = derive(tmp_path, dm_rows=SUBJECTS, ex_rows=EXPOSURE, ds_rows=DISPOSITION, study={"randomized": False})
    adsl = analysis.datasets["ADSL"]
    assert "ITTFL" not in adsl and len(adsl) == 7
    assert "ITTFL" not in analysis.spec.dataset("ADSL").names
    assert [values(adsl, sid, ["SAFFL"])[0] for sid in ("001", "003", "005")] == ["Y", "N", "Y"]


def test_age_groups_from_config(adsl):
    # [2, 6) / [6, 12) / [12, 17]: 2 -> 1; 5 -> 1; 6 -> 2; 12 -> 3; 17 -> 3; 18 -> none; missing -> none
    got = {s: values(adsl, s, ["AGE", "AGEGR1", "AGEGR1N"]) for s in ("001", "002", "003", "005", "006", "007",
                                                                       "008")}
    assert got == {"001": [12, "12 to 17 years", 3], "002": [6, "6 to <12 years", 2], "003": [5, "2 to <6 years", 1],
                   "005": [17, "12 to 17 years", 3], "006": [18, None, None], "007": [2, "2 to <6 years", 1],
                   "008": [None, None, None]}


@pytest.mark.parametrize("ages, expected", [
    # the pilot's groups: <65, 65-80 (both ends in), >80
    ([64, 65, 80, 80.5, 81, None], ["<65", "65-80", "65-80", ">80", ">80", None]),
])
def test_pilot_age_group_boundaries(ages, expected):
    groups = [{"label": "<65", "number": 1, "upper": 65},
              {"label": "65-80", "number": 2, "lower": 65, "upper": 80, "upper_inclusive": True},
              {"label": ">80", "number": 3, "lower": 80, "lower_inclusive": False}]
    got = derive_age_groups(pd.DataFrame({"AGE": ages}), groups)
    assert text(got["AGEGR1"]) == expected
    assert text(got["AGEGR1N"]) == [1, 2, 2, 3, 3, None]


def test_death(adsl):
    # DTHDT is DTHDTC as a date with no imputation: a partial "2021-07" gives no date
    assert values(adsl, "005", ["DTHFL", "DTHDT"]) == ["Y", "2021-03-20"]
    assert values(adsl, "007", ["DTHFL", "DTHDT"]) == ["Y", None]
    assert values(adsl, "001", ["DTHFL", "DTHDT"]) == [None, None]


def test_dm_copies(adsl):
    s = subject(adsl, "002")
    assert (s["SITEID"], s["AGEU"], s["SEX"], s["RACE"], s["ETHNIC"], s["ARM"], s["ACTARM"]) == (
        "01", "YEARS", "F", "WHITE", "NOT HISPANIC OR LATINO", "Topazitinib 1.5%", "Vehicle, then Topazitinib 1.5%")


def test_eosdt_is_an_adsl_variable_with_a_method(analysis):
    var = analysis.spec.dataset("ADSL").variable("EOSDT")
    assert var.label == "End of Study Date" and var.method
    method = next(m for m in analysis.spec.methods if m.oid == var.method)
    assert "disposition" in method.description.lower()
