"""ADAETTE: time at risk (years) to the first treatment-emergent event of interest, per subject,
treatment group (pooled groups included) and event, worked out by hand. Config: TEAE window 30 days,
data cut-off 2021-12-31, events TTEANY (any TEAE), TTESER (serious), TTESINF (serious infection).

001 VEH-TPZ15 switcher: vehicle 2021-03-01..03-28, cream 1.5% 03-29..06-30; DS COMPLETED 2021-07-15.
    AE 1 2021-03-10 headache; AE 2 2021-05-01 cellulitis (infection), serious.
    vehicle window 03-01..03-28: ends the day before cream starts (28 days)
    cream window 03-29..07-15: min(06-30 + 30 = 07-30, EOSDT 07-15, cut-off) (3 + 30 + 31 + 30 + 15 = 109 days)
002 cream 2021-03-01..03-31; died 2021-04-10 (DS DEATH the same day). AE 1: unknown start, headache.
    window 03-01..04-10 (31 + 10 = 41 days); the unknown-start TEAE counts at the window start (1 day).
003 cream 2021-11-01..12-20, no DS: window ends at the cut-off 12-31 (before 12-20 + 30) (30 + 31 = 61 days).
004 cream 2021-03-01..03-31, no DS: window ends 03-31 + 30 = 04-30 (61 days).
    AE 1 2021-04-30 headache (the window's last day); AE 2 2021-05-01 serious (after it: not a TEAE).
005 TPZ075-TPZ15: cream 0.75% 2021-01-01..01-10, cream 1.5% 02-01..02-20, no DS.
    0.75% window 01-01..01-31 (the day before 1.5% starts; 31 days); 1.5% window 02-01..03-22
    (02-20 + 30; February 2021 has 28 days; 28 + 22 = 50 days). AE 1 2021-01-20 headache (0.75%:
    after its last dose, before 1.5%); AE 2 2021-02-05 syncope, serious (1.5%).
    All cream = both windows: TTEANY at 01-20 (20 days); TTESER at 02-05 (31 + 5 = 36 days);
    TTESINF censored at the end of the last window, 03-22 (31 + 50 = 81 days).
006 randomised, never treated: no records.
"""
from __future__ import annotations

import pandas as pd
import pytest

from tests.adam_frames import C075, C15, P1, P2, VEH, ae, day, derive, dm, ds, ex, group_tte, row, usubjid

INF, NERV = "Infections and infestations", "Nervous system disorders"
SUBJECTS = dm({"subject": "001", "ARMCD": "VEH-TPZ15"},
              {"subject": "002", "ARMCD": "TPZ15-TPZ15", "DTHDTC": "2021-04-10", "DTHFL": "Y"},
              {"subject": "003", "ARMCD": "TPZ15-TPZ15"}, {"subject": "004", "ARMCD": "TPZ15-TPZ15"},
              {"subject": "005", "ARMCD": "TPZ075-TPZ15"}, {"subject": "006", "ARMCD": "TPZ15-TPZ15"})
EXPOSURE = ex(("001", VEH, P1, "2021-03-01", "2021-03-28"), ("001", C15, P2, "2021-03-29", "2021-06-30"),
              ("002", C15, P1, "2021-03-01", "2021-03-31"), ("003", C15, P1, "2021-11-01", "2021-12-20"),
              ("004", C15, P1, "2021-03-01", "2021-03-31"),
              ("005", C075, P1, "2021-01-01", "2021-01-10"), ("005", C15, P2, "2021-02-01", "2021-02-20"))
EVENTS = ae(
    {"subject": "001", "AESEQ": 1, "AESTDTC": "2021-03-10", "AEENDTC": "2021-03-11"},
    {"subject": "001", "AESEQ": 2, "AESTDTC": "2021-05-01", "AEDECOD": "Cellulitis", "AEBODSYS": INF, "AESER": "Y"},
    {"subject": "002", "AESEQ": 1, "AESTDTC": None},
    {"subject": "004", "AESEQ": 1, "AESTDTC": "2021-04-30"},
    {"subject": "004", "AESEQ": 2, "AESTDTC": "2021-05-01", "AEDECOD": "Syncope", "AESER": "Y"},
    {"subject": "005", "AESEQ": 1, "AESTDTC": "2021-01-20"},
    {"subject": "005", "AESEQ": 2, "AESTDTC": "2021-02-05", "AEDECOD": "Syncope", "AESER": "Y"},
)
DISPOSITION = ds(("001", "COMPLETED", "2021-07-15"), ("002", "DEATH", "2021-04-10"))
YEAR = 365.25

ROWS = [
    # subject, group, event, STARTDT, ADT, CNSR, days at risk, SRCSEQ, CNSDTDSC
    ("001", "Vehicle", "TTEANY", "2021-03-01", "2021-03-10", 0, 10, 1, None),
    ("001", "Vehicle", "TTESER", "2021-03-01", "2021-03-28", 1, 28, None, "START OF ANOTHER TREATMENT"),
    ("001", "Vehicle", "TTESINF", "2021-03-01", "2021-03-28", 1, 28, None, "START OF ANOTHER TREATMENT"),
    ("001", "Cream 1.5%", "TTEANY", "2021-03-29", "2021-05-01", 0, 34, 2, None),
    ("001", "Cream 1.5%", "TTESER", "2021-03-29", "2021-05-01", 0, 34, 2, None),
    ("001", "Cream 1.5%", "TTESINF", "2021-03-29", "2021-05-01", 0, 34, 2, None),
    ("001", "All cream", "TTESINF", "2021-03-29", "2021-05-01", 0, 34, 2, None),
    ("002", "Cream 1.5%", "TTEANY", "2021-03-01", "2021-03-01", 0, 1, 1, None),
    ("002", "Cream 1.5%", "TTESER", "2021-03-01", "2021-04-10", 1, 41, None, "DEATH"),
    ("003", "Cream 1.5%", "TTEANY", "2021-11-01", "2021-12-31", 1, 61, None, "DATA CUT-OFF"),
    ("004", "Cream 1.5%", "TTEANY", "2021-03-01", "2021-04-30", 0, 61, 1, None),
    ("004", "Cream 1.5%", "TTESER", "2021-03-01", "2021-04-30", 1, 61, None, "LAST EXPOSURE PLUS WINDOW"),
    ("005", "Cream 0.75%", "TTEANY", "2021-01-01", "2021-01-20", 0, 20, 1, None),
    ("005", "Cream 0.75%", "TTESER", "2021-01-01", "2021-01-31", 1, 31, None, "START OF ANOTHER TREATMENT"),
    ("005", "Cream 1.5%", "TTEANY", "2021-02-01", "2021-02-05", 0, 5, 2, None),
    ("005", "Cream 1.5%", "TTESER", "2021-02-01", "2021-02-05", 0, 5, 2, None),
    ("005", "Cream 1.5%", "TTESINF", "2021-02-01", "2021-03-22", 1, 50, None, "LAST EXPOSURE PLUS WINDOW"),
    ("005", "All cream", "TTEANY", "2021-01-01", "2021-01-20", 0, 20, 1, None),
    ("005", "All cream", "TTESER", "2021-01-01", "2021-02-05", 0, 36, 2, None),
    ("005", "All cream", "TTESINF", "2021-01-01", "2021-03-22", 1, 81, None, "LAST EXPOSURE PLUS WINDOW"),
]


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    return derive(tmp_path_factory.mktemp("tte"), dm_rows=SUBJECTS, ex_rows=EXPOSURE, ae_rows=EVENTS,
                  ds_rows=DISPOSITION, data_cutoff="2021-12-31")


@pytest.fixture(scope="module")
def tte(analysis):
    return analysis.datasets["ADAETTE"]


@pytest.mark.parametrize("sid, group, paramcd, start, adt, cnsr, days, seq, why", ROWS,
                         ids=[f"{r[0]}-{r[1]}-{r[2]}" for r in ROWS])
def test_time_at_risk(tte, sid, group, paramcd, start, adt, cnsr, days, seq, why):
    rec = group_tte(tte, USUBJID=usubjid(sid), TRTA=group, PARAMCD=paramcd)
    assert (day(rec["STARTDT"]), day(rec["ADT"]), rec["CNSR"]) == (start, adt, cnsr)
    assert rec["AVAL"] == pytest.approx(days / YEAR, rel=1e-12)
    assert rec["AVALU"] == "YEARS"
    if cnsr == 0:
        assert (rec["SRCDOM"], rec["SRCSEQ"], rec["EVNTDESC"]) == ("AE", seq, "ADVERSE EVENT")
        assert pd.isna(rec["CNSDTDSC"])
    else:
        assert pd.isna(rec["SRCDOM"]) and pd.isna(rec["SRCSEQ"])
        assert (rec["EVNTDESC"], rec["CNSDTDSC"]) == ("NO EVENT DURING TIME AT RISK", why)


def test_one_record_per_subject_piece_and_event_pooled_groups_as_variables(tte):
    """One record per subject, treatment piece and event; "All cream" is no record of its own but
    the TRTAG1 of every cream record (the ADaMIG 1.3 pooled treatment), so no time is counted twice."""
    groups = tte.groupby("USUBJID")["TRTA"].agg(lambda t: sorted(set(t))).to_dict()
    assert groups == {"S1-001": ["Cream 1.5%", "Vehicle"], "S1-002": ["Cream 1.5%"],
                      "S1-003": ["Cream 1.5%"], "S1-004": ["Cream 1.5%"], "S1-005": ["Cream 0.75%", "Cream 1.5%"]}
    assert not tte.duplicated(["USUBJID", "PARAMCD", "APERIOD", "TRTA", "STARTDT"]).any()
    assert tte.groupby(["USUBJID", "TRTA"]).size().eq(3).all()
    assert usubjid("006") not in set(tte["USUBJID"])
    cream = tte["TRTA"].str.startswith("Cream")
    assert (tte.loc[cream, ["TRTAG1", "TRTAG1N"]].to_numpy().tolist()
            == [["All cream", 4]] * int(cream.sum()))
    assert tte.loc[~cream, "TRTAG1"].isna().all() and tte.loc[~cream, "TRTAG1N"].isna().all()


def test_event_sequence_points_at_a_treatment_emergent_adae_record(analysis):
    tte, adae = analysis.datasets["ADAETTE"], analysis.datasets["ADAE"]
    events = tte[tte["CNSR"] == 0].merge(adae, left_on=["USUBJID", "SRCSEQ"], right_on=["USUBJID", "AESEQ"],
                                         suffixes=("", "_AE"))
    assert len(events) == (tte["CNSR"] == 0).sum()
    assert events["TRTEMFL"].eq("Y").all()


def test_without_a_window_the_time_runs_to_the_end_of_study(tmp_path):
    # window None: 001's cream window ends at EOSDT 07-15 as before (109 days); 004 (no DS) at the
    # cut-off 12-31, so its AE 2 of 2021-05-01, emergent without a window, is a serious event at
    # 03-01..05-01 = 31 + 30 + 1 = 62 days
    got = derive(tmp_path, dm_rows=SUBJECTS, ex_rows=EXPOSURE, ae_rows=EVENTS, ds_rows=DISPOSITION,
                 data_cutoff="2021-12-31", teae={"window_days": None})
    tte = got.datasets["ADAETTE"]
    rec = row(tte, USUBJID=usubjid("001"), TRTA="Cream 1.5%", PARAMCD="TTEANY")
    assert (day(rec["ADT"]), rec["CNSR"]) == ("2021-05-01", 0)
    rec = row(tte, USUBJID=usubjid("004"), TRTA="Cream 1.5%", PARAMCD="TTESER")
    assert (day(rec["ADT"]), rec["CNSR"], rec["SRCSEQ"]) == ("2021-05-01", 0, 2)
    assert rec["AVAL"] == pytest.approx(62 / YEAR, rel=1e-12)
    rec = row(tte, USUBJID=usubjid("003"), TRTA="Cream 1.5%", PARAMCD="TTEANY")
    assert (day(rec["ADT"]), rec["CNSDTDSC"]) == ("2021-12-31", "DATA CUT-OFF")


# One treatment-emergent window for TRTEMFL and the time at risk. 101 and 102: cream 1.5% 2021-03-01..03-31,
# so last dose + 30 = 04-30. 101 completes the study on 04-05 and has an AE on 04-10; 102 has an AE on 04-20,
# after the data cut-off 2021-04-15. By default (teae.bounded_by: death, end of study, cut-off) neither AE is
# treatment-emergent, and both subjects are censored where their window ends (04-05: 36 days; 04-15: 46 days).
# With bounded_by [] both windows run to 04-30: both AEs are treatment-emergent and ADAETTE events
# (03-01..04-10 = 41 days, 03-01..04-20 = 51 days).
BOUND_SUBJECTS = dm({"subject": "101", "ARMCD": "TPZ15-TPZ15"}, {"subject": "102", "ARMCD": "TPZ15-TPZ15"})
BOUND_EXPOSURE = ex(("101", C15, P1, "2021-03-01", "2021-03-31"), ("102", C15, P1, "2021-03-01", "2021-03-31"))
BOUND_EVENTS = ae({"subject": "101", "AESEQ": 1, "AESTDTC": "2021-04-10"},
                  {"subject": "102", "AESEQ": 1, "AESTDTC": "2021-04-20"})


@pytest.mark.parametrize("bounded_by, expected", [
    (None, {"101": (None, "2021-04-05", 1, 36, "END OF STUDY"), "102": (None, "2021-04-15", 1, 46, "DATA CUT-OFF")}),
    ([], {"101": ("Y", "2021-04-10", 0, 41, None), "102": ("Y", "2021-04-20", 0, 51, None)}),
])
def test_trtemfl_and_time_at_risk_share_the_window(tmp_path, bounded_by, expected):
    teae = {"window_days": 30} if bounded_by is None else {"window_days": 30, "bounded_by": bounded_by}
    got = derive(tmp_path, dm_rows=BOUND_SUBJECTS, ex_rows=BOUND_EXPOSURE, ae_rows=BOUND_EVENTS,
                 ds_rows=ds(("101", "COMPLETED", "2021-04-05")), data_cutoff="2021-04-15", teae=teae)
    adae, tte = got.datasets["ADAE"], got.datasets["ADAETTE"]
    for sid, (flag, adt, cnsr, days, why) in expected.items():
        emergent = adae.loc[adae["USUBJID"] == usubjid(sid), "TRTEMFL"] if "TRTEMFL" in adae else pd.Series([None])
        rec = row(tte, USUBJID=usubjid(sid), TRTA="Cream 1.5%", PARAMCD="TTEANY")
        got_why = None if pd.isna(rec["CNSDTDSC"]) else rec["CNSDTDSC"]
        assert (None if pd.isna(emergent.iloc[0]) else emergent.iloc[0], day(rec["ADT"]), rec["CNSR"],
                round(rec["AVAL"] * YEAR, 9), got_why) == (flag, adt, cnsr, days, why)


def test_a_window_nothing_limits_is_censored_at_the_last_dose(tmp_path):
    # no TEAE window and no bound: every AE from the first dose on is treatment-emergent (102's 04-20 is an event,
    # 51 days), and a subject without an event is censored at the last dose (101 without its AE: 31 days)
    got = derive(tmp_path, dm_rows=BOUND_SUBJECTS, ex_rows=BOUND_EXPOSURE, ae_rows=BOUND_EVENTS.iloc[[1]],
                 teae={"window_days": None, "bounded_by": []})
    tte = got.datasets["ADAETTE"]
    event = row(tte, USUBJID=usubjid("102"), TRTA="Cream 1.5%", PARAMCD="TTEANY")
    assert (day(event["ADT"]), event["CNSR"], round(event["AVAL"] * YEAR, 9)) == ("2021-04-20", 0, 51)
    censored = row(tte, USUBJID=usubjid("101"), TRTA="Cream 1.5%", PARAMCD="TTEANY")
    assert (day(censored["ADT"]), censored["CNSR"], round(censored["AVAL"] * YEAR, 9), censored["CNSDTDSC"]) == (
        "2021-03-31", 1, 31, "LAST EXPOSURE")


def test_pooled_group_eair_accumulates_a_switchers_pieces_to_the_first_event(analysis):
    """The report's EAIR of "All cream" (report.tables.event_rates: ADAETTE through TRTAG1, each
    subject's pieces in time order up to the first event), by hand from the windows above:

    TTESER — 001 cream window 03-29..05-01, the serious cellulitis: event, 34 days; 002 censored
    at death 04-10, 41 days; 003 cut-off, 61 days; 004 censored 04-30 (its serious syncope of
    05-01 is outside the window), 61 days; 005 (0.75% -> 1.5%): the whole 0.75% window (31 days,
    no serious event) then 1.5% to the syncope 02-05 (5 days): 36 days and one event, once.
    n = 2, T = 34 + 41 + 61 + 61 + 36 = 233 days; EAIR = 2 / (233 / 365.25) x 100 = 313.52.
    TTESINF — only 001's cellulitis: n = 1, T = 34 + 41 + 61 + 61 + (31 + 50) = 278 days:
    100 / (278 / 365.25) = 131.38 (005 adds both pieces, no event)."""
    from report.tables import event_rates

    rates = event_rates(analysis).set_index(["PARAMCD", "TRTA"])
    ser, sinf = rates.loc[("TTESER", "All cream")], rates.loc[("TTESINF", "All cream")]
    assert (ser["subjects_at_risk"], ser["subjects_with_event"]) == (5, 2)
    assert ser["patient_years_at_risk"] == pytest.approx(233 / YEAR, rel=1e-12)
    assert round(ser["eair"], 2) == 313.52
    assert (sinf["subjects_with_event"], round(sinf["patient_years_at_risk"] * YEAR, 6)) == (1, 278)
    assert round(sinf["eair"], 2) == 131.38
    # the duplicated records are gone: each day of 005 once in ADAETTE, in its own group's piece
    mine = analysis.datasets["ADAETTE"]
    mine = mine[(mine["USUBJID"] == usubjid("005")) & (mine["PARAMCD"] == "TTESINF")]
    assert sorted(round(v * YEAR) for v in mine["AVAL"]) == [31, 50]
