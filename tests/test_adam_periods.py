"""Periods: ADSL TRxxSDT/TRxxEDT/APxxSDT/APxxEDT and ADAE APERIOD/APERIODC/TRTA by the period in
which the AE started (adam.periods, adam.adae.derive_period), worked by hand.

Subject 001, VEH-TPZ15, the vehicle-to-cream switcher:
    EX  VEHICLE CREAM           BLINDED TREATMENT     2021-03-01 .. 2021-03-20
    EX  TOPAZITINIB CREAM 1.5%  OPEN LABEL TREATMENT  2021-03-29 .. 2021-06-30
    DS  COMPLETED 2021-07-15 (EOSDT)
  period 1: TR01SDT = AP01SDT = 2021-03-01, TR01EDT = 2021-03-20,
            AP01EDT = the day before period 2's first dose = 2021-03-28 (the 8-day gap stays in period 1)
  period 2: TR02SDT = AP02SDT = 2021-03-29, TR02EDT = 2021-06-30,
            AP02EDT = EOSDT 2021-07-15 (known and not before TR02EDT)
Subject 003, TPZ15-TPZ15, cream in period 1 only, 2021-03-01 .. 2021-03-31, DS WITHDRAWAL 2021-03-15
  (a disposition date before the last dose): AP01EDT = TR01EDT = 2021-03-31.
Subject 004, TPZ15-TPZ15, cream 2021-04-01 .. 2021-04-30 in period 1, no DS: AP01EDT = TR01EDT.
Subject 007, TPZ15-TPZ15, received only vehicle, only in period 2 (2021-03-05 .. 2021-03-31).
"""
from __future__ import annotations

import pytest

from tests.adam_frames import C15, P1, P2, VEH, ae, by_seq, day, derive, dm, ds, ex, row, text, usubjid

SUBJECTS = dm({"subject": "001", "ARMCD": "VEH-TPZ15"}, {"subject": "003", "ARMCD": "TPZ15-TPZ15"},
              {"subject": "004", "ARMCD": "TPZ15-TPZ15"}, {"subject": "007", "ARMCD": "TPZ15-TPZ15"})
EXPOSURE = ex(("001", VEH, P1, "2021-03-01", "2021-03-20"), ("001", C15, P2, "2021-03-29", "2021-06-30"),
              ("003", C15, P1, "2021-03-01", "2021-03-31"), ("004", C15, P1, "2021-04-01", "2021-04-30"),
              ("007", VEH, P2, "2021-03-05", "2021-03-31"))
DISPOSITION = ds(("001", "COMPLETED", "2021-07-15"), ("003", "WITHDRAWAL BY SUBJECT", "2021-03-15"))
EVENTS = ae(
    {"subject": "001", "AESEQ": 1, "AESTDTC": "2021-03-29"},   # the day period 2 starts
    {"subject": "001", "AESEQ": 2, "AESTDTC": "2021-03-28"},   # the day before: period 1 (in the gap)
    {"subject": "001", "AESEQ": 3, "AESTDTC": "2021-02-27"},   # before the first dose
    {"subject": "001", "AESEQ": 4, "AESTDTC": "2021-07-10"},   # after the last dose, inside the window
    {"subject": "001", "AESEQ": 5, "AESTDTC": None},           # start unknown
    {"subject": "001", "AESEQ": 6, "AESTDTC": "2021-03-01"},   # the first dose day
    {"subject": "001", "AESEQ": 7, "AESTDTC": "2021-09-01"},   # after the end of study and the window
    {"subject": "007", "AESEQ": 1, "AESTDTC": None},           # start unknown; first period is period 2
    {"subject": "007", "AESEQ": 2, "AESTDTC": "2021-03-04"},   # the day before 007's first dose
)


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    return derive(tmp_path_factory.mktemp("periods"), dm_rows=SUBJECTS, ex_rows=EXPOSURE, ae_rows=EVENTS,
                  ds_rows=DISPOSITION)


def test_period_dates_of_the_switcher(analysis):
    s = row(analysis.datasets["ADSL"], USUBJID=usubjid("001"))
    got = {name: day(s[name]) for name in ("TR01SDT", "TR01EDT", "AP01SDT", "AP01EDT", "TR02SDT", "TR02EDT",
                                           "AP02SDT", "AP02EDT", "TRTSDT", "TRTEDT")}
    assert got == {"TR01SDT": "2021-03-01", "TR01EDT": "2021-03-20", "AP01SDT": "2021-03-01",
                   "AP01EDT": "2021-03-28", "TR02SDT": "2021-03-29", "TR02EDT": "2021-06-30",
                   "AP02SDT": "2021-03-29", "AP02EDT": "2021-07-15", "TRTSDT": "2021-03-01",
                   "TRTEDT": "2021-06-30"}


def test_last_period_ends_at_end_of_study_only_when_it_is_not_before_the_last_dose(analysis):
    adsl = analysis.datasets["ADSL"]
    assert day(row(adsl, USUBJID=usubjid("003"))["AP01EDT"]) == "2021-03-31"   # DS 2021-03-15 < last dose
    assert day(row(adsl, USUBJID=usubjid("004"))["AP01EDT"]) == "2021-04-30"   # no DS: the last dose


def test_period_variables_of_a_subject_treated_in_period_2_only(analysis):
    s = row(analysis.datasets["ADSL"], USUBJID=usubjid("007"))
    assert (day(s["TR01SDT"]), s["TRT01A"] if isinstance(s["TRT01A"], str) else None) == (None, None)
    assert (day(s["TR02SDT"]), day(s["TR02EDT"]), s["TRT02A"], s["TRT02AN"]) == (
        "2021-03-05", "2021-03-31", "Vehicle", 3)
    assert (s["TRT01P"], s["TRT02P"]) == ("Cream 1.5%", "Cream 1.5%")


@pytest.mark.parametrize("seq, period, group, number, emergent", [
    (1, 2, "Cream 1.5%", 2, "Y"),   # 2021-03-29 = AP02SDT
    (2, 1, "Vehicle", 3, "Y"),      # 2021-03-28 = AP01EDT, after the last vehicle dose, inside its window
    (3, None, None, None, None),    # 2021-02-27 < AP01SDT: no period, not emergent
    (4, 2, "Cream 1.5%", 2, "Y"),   # 2021-07-10 <= TRTEDT + 30 = 2021-07-30
    (5, 1, "Vehicle", 3, "Y"),      # unknown start: the subject's first period
    (6, 1, "Vehicle", 3, "Y"),      # 2021-03-01 = AP01SDT
    (7, 2, "Cream 1.5%", 2, None),  # 2021-09-01: the last period is open-ended; not emergent
])
def test_period_of_each_event_of_the_switcher(analysis, seq, period, group, number, emergent):
    rec = by_seq(analysis.datasets["ADAE"], "001").loc[seq]
    got = text(rec[["APERIOD", "APERIODC", "TRTA", "TRTAN", "TRTEMFL"]])
    expected_c = None if period is None else f"Period {period:02d}"
    assert got == [period, expected_c, group, number, emergent]


def test_unknown_start_goes_to_the_subjects_first_period_even_when_it_is_period_2(analysis):
    recs = by_seq(analysis.datasets["ADAE"], "007")
    assert text(recs.loc[1, ["APERIOD", "APERIODC", "TRTA", "TRTAN", "TRTEMFL"]]) == [2, "Period 02", "Vehicle", 3,
                                                                                     "Y"]
    assert text(recs.loc[2, ["APERIOD", "TRTA", "TRTEMFL"]]) == [None, None, None]


def test_aperiod_values_are_periods_of_adsl(analysis):
    # ADaM OCCDS: APERIOD must be one of the xx of ADSL TRTxxP; APERIODC 1:1 with it
    adae = analysis.datasets["ADAE"]
    adsl = analysis.datasets["ADSL"]
    periods = {int(c[3:5]) for c in adsl.columns if c.startswith("TRT") and c.endswith("P") and c[3:5].isdigit()}
    assert set(adae["APERIOD"].dropna().astype(int)) <= periods
    pairs = adae[["APERIOD", "APERIODC"]].dropna().drop_duplicates()
    assert pairs["APERIOD"].is_unique and pairs["APERIODC"].is_unique
