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

import pandas as pd
import pytest

from tests.adam_frames import (C075, C15, P1, P2, VEH, ae, by_seq, day, derive, dm, ds, ex, group_total, group_tte,
                               row, text, usubjid)

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


# -- as treated: a period holding two treatments, and a treatment given twice ----------------------
#
# 011 TPZ075-TPZ15: cream 0.75% 2021-01-01..01-10 (period 1); in period 2 vehicle 2021-02-01..02-20 (20 days),
#     then cream 1.5% 2021-03-01..03-10 (10 days). No DS, no cut-off; TEAE window 30 days.
#     Runs (each its own as-treated piece): 0.75% 01-01..01-10, vehicle 02-01..02-20, 1.5% 03-01..03-10.
#     Windows: 0.75% to min(01-10 + 30 = 02-09, the day before vehicle 01-31) = 01-31 (31 days);
#              vehicle to min(02-20 + 30 = 03-22, 02-28) = 02-28 (28 days);
#              1.5% to 03-10 + 30 = 04-09 (31 + 9 = 40 days).
#     AE 1 2021-01-20 -> period 1, 0.75%; AE 2 2021-02-05 -> period 2, vehicle; AE 3 2021-03-05 -> period 2, 1.5%.
#     ADSL keeps one treatment per period: TRT02A = vehicle (20 days against 10).
# 012 VEH-TPZ15: vehicle 2021-03-01..03-10 (period 1), cream 1.5% 03-11..03-20 and vehicle again 03-21..03-31
#     (period 2): three runs. Vehicle: 10 + 11 = 21 days of treatment (not the 31-day span 03-01..03-31);
#     at risk 03-01..03-10 (10 days, to the day before cream) and 03-21..04-30 (31 + 30 = 41 days,
#     to 03-31 + 30): 51 days. Cream 1.5%: 03-11..03-20 (10 days). AE 1 2021-03-25 -> period 2, vehicle.

SWITCHERS = dm({"subject": "011", "ARMCD": "TPZ075-TPZ15"}, {"subject": "012", "ARMCD": "VEH-TPZ15"})
SWITCHES = ex(("011", C075, P1, "2021-01-01", "2021-01-10"), ("011", VEH, P2, "2021-02-01", "2021-02-20"),
              ("011", C15, P2, "2021-03-01", "2021-03-10"),
              ("012", VEH, P1, "2021-03-01", "2021-03-10"), ("012", C15, P2, "2021-03-11", "2021-03-20"),
              ("012", VEH, P2, "2021-03-21", "2021-03-31"))
SWITCH_EVENTS = ae({"subject": "011", "AESEQ": 1, "AESTDTC": "2021-01-20"},
                   {"subject": "011", "AESEQ": 2, "AESTDTC": "2021-02-05"},
                   {"subject": "011", "AESEQ": 3, "AESTDTC": "2021-03-05"},
                   {"subject": "012", "AESEQ": 1, "AESTDTC": "2021-03-25"})


@pytest.fixture(scope="module")
def switches(tmp_path_factory):
    return derive(tmp_path_factory.mktemp("switches"), dm_rows=SWITCHERS, ex_rows=SWITCHES, ae_rows=SWITCH_EVENTS)


@pytest.mark.parametrize("sid, seq, period, group", [
    ("011", 1, 1, "Cream 0.75%"), ("011", 2, 2, "Vehicle"), ("011", 3, 2, "Cream 1.5%"), ("012", 1, 2, "Vehicle")])
def test_an_event_follows_the_treatment_received_at_onset_within_the_period(switches, sid, seq, period, group):
    rec = by_seq(switches.datasets["ADAE"], sid).loc[seq]
    assert text(rec[["APERIOD", "TRTA", "TRTEMFL"]]) == [period, group, "Y"]


def test_adsl_holds_the_main_treatment_of_a_period_with_two(switches):
    s = row(switches.datasets["ADSL"], USUBJID=usubjid("011"))
    assert (s["TRT01A"], s["TRT02A"], day(s["TR02SDT"]), day(s["TR02EDT"])) == (
        "Cream 0.75%", "Vehicle", "2021-02-01", "2021-03-10")


@pytest.mark.parametrize("sid, group, days", [
    ("011", "Cream 0.75%", 10), ("011", "Vehicle", 20), ("011", "Cream 1.5%", 10), ("011", "All cream", 20),
    ("012", "Vehicle", 21), ("012", "Cream 1.5%", 10), ("012", "All cream", 10)])
def test_exposure_days_per_treatment(switches, sid, group, days):
    assert group_total(switches.datasets["ADEX"], USUBJID=usubjid(sid), TRTA=group, PARAMCD="TRTDURD") == days


@pytest.mark.parametrize("sid, group, paramcd, adt, cnsr, days, why", [
    ("011", "Cream 0.75%", "TTEANY", "2021-01-20", 0, 20, None),
    ("011", "Cream 0.75%", "TTESER", "2021-01-31", 1, 31, "START OF ANOTHER TREATMENT"),
    ("011", "Vehicle", "TTEANY", "2021-02-05", 0, 5, None),
    ("011", "Vehicle", "TTESER", "2021-02-28", 1, 28, "START OF ANOTHER TREATMENT"),
    ("011", "Cream 1.5%", "TTEANY", "2021-03-05", 0, 5, None),
    ("011", "Cream 1.5%", "TTESER", "2021-04-09", 1, 40, "LAST EXPOSURE PLUS WINDOW"),
    ("011", "All cream", "TTEANY", "2021-01-20", 0, 20, None),
    ("011", "All cream", "TTESER", "2021-04-09", 1, 31 + 40, "LAST EXPOSURE PLUS WINDOW"),
    ("012", "Vehicle", "TTEANY", "2021-03-25", 0, 10 + 5, None),
    ("012", "Vehicle", "TTESER", "2021-04-30", 1, 10 + 41, "LAST EXPOSURE PLUS WINDOW"),
    ("012", "Cream 1.5%", "TTEANY", "2021-03-20", 1, 10, "START OF ANOTHER TREATMENT"),
])
def test_time_at_risk_per_treatment(switches, sid, group, paramcd, adt, cnsr, days, why):
    rec = group_tte(switches.datasets["ADAETTE"], USUBJID=usubjid(sid), TRTA=group, PARAMCD=paramcd)
    assert (day(rec["ADT"]), rec["CNSR"], round(rec["AVAL"] * 365.25, 9)) == (adt, cnsr, days)
    assert text(pd.Series([rec["CNSDTDSC"]]))[0] == why


@pytest.mark.parametrize("records", [1, 2])
def test_events_placed_in_slices_of_records_as_in_one(analysis, switches, tmp_path, monkeypatch, records):
    """ADAE records are placed in their treatment piece a slice at a time (each record by its
    own subject and onset): ADAE as when placed all at once, for both programmes above."""
    from adam import adae as adae_module

    monkeypatch.setattr(adae_module, "PERIOD_SLICE", records)
    sliced = derive(tmp_path / "periods", dm_rows=SUBJECTS, ex_rows=EXPOSURE, ae_rows=EVENTS, ds_rows=DISPOSITION)
    pd.testing.assert_frame_equal(sliced.datasets["ADAE"], analysis.datasets["ADAE"])
    sliced = derive(tmp_path / "switches", dm_rows=SWITCHERS, ex_rows=SWITCHES, ae_rows=SWITCH_EVENTS)
    pd.testing.assert_frame_equal(sliced.datasets["ADAE"], switches.datasets["ADAE"])
