"""ADEX (BDS): per subject and treatment piece TRTDURD, TRTDURY, TDOSE, ADOSE with AVAL/AVALU; a
group's (or, through TRTAG1, the pooled group's) values are the sums over its records, worked out by hand.

001 VEH-TPZ15, the vehicle-to-cream switcher:
    vehicle  2021-03-01..03-28  2.5 g BID   28 days                        TDOSE 2.5 x 2 x 28 = 140 g
    cream    2021-03-29..04-30  3 g BID     33 days (3 in March + 30)      3 x 2 x 33 = 198 g
    cream    2021-05-01..06-30  2 g BID     61 days (31 + 30)              2 x 2 x 61 = 244 g
  Vehicle:    TRTDURD 28, TRTDURY 28 / 365.25, TDOSE 140, ADOSE 140 / 28 = 5 g/day
  Cream 1.5%: TRTDURD 94 (03-29..06-30), TDOSE 442, ADOSE 442 / 94
  All cream:  as Cream 1.5% (the only cream the subject had); no Cream 0.75% records
002 TPZ075-TPZ15 with a gap between its creams:
    cream 0.75%  2021-01-01..01-10  1 g QD     10 days   10 g
    cream 1.5%   2021-02-01..02-20  1.5 g BID  20 days   60 g
  All cream sums its groups: TRTDURD 10 + 20 = 30 (not the 51-day span 01-01..02-20), TDOSE 70,
  ADOSE 70 / 30; ASTDT 2021-01-01, AENDT 2021-02-20.
003 cream 1.5% 2021-03-01..03-10, EXDOSFRQ PRN (no applications per day known): TDOSE and ADOSE null.
004 cream 1.5% 2021-03-01..03-10, 1 g Q12H, which the config's doses_per_day counts as 2: TDOSE 20 g.
005 randomised, never treated: no ADEX records.
"""
from __future__ import annotations

import pandas as pd
import pytest

from tests.adam_frames import C075, C15, P1, P2, VEH, day, derive, dm, ex, group_total, in_group, row, usubjid

SUBJECTS = dm({"subject": "001", "ARMCD": "VEH-TPZ15"}, {"subject": "002", "ARMCD": "TPZ075-TPZ15"},
              {"subject": "003", "ARMCD": "TPZ15-TPZ15"}, {"subject": "004", "ARMCD": "TPZ15-TPZ15"},
              {"subject": "005", "ARMCD": "TPZ15-TPZ15"})
EXPOSURE = ex(
    ("001", VEH, P1, "2021-03-01", "2021-03-28", 2.5), ("001", C15, P2, "2021-03-29", "2021-04-30", 3.0),
    ("001", C15, P2, "2021-05-01", "2021-06-30", 2.0),
    ("002", C075, P1, "2021-01-01", "2021-01-10", 1.0, "QD"), ("002", C15, P2, "2021-02-01", "2021-02-20", 1.5),
    ("003", C15, P1, "2021-03-01", "2021-03-10", 1.0, "PRN"),
    ("004", C15, P1, "2021-03-01", "2021-03-10", 1.0, "Q12H"),
)
YEAR = 365.25


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    return derive(tmp_path_factory.mktemp("adex"), dm_rows=SUBJECTS, ex_rows=EXPOSURE, doses_per_day={"Q12H": 2})


@pytest.fixture(scope="module")
def adex(analysis):
    return analysis.datasets["ADEX"]


def aval(adex, sid, group, paramcd):
    """A group's value: the sum over the subject's records of it (ADOSE: TDOSE / TRTDURD of the group)."""
    if paramcd == "ADOSE":
        return aval(adex, sid, group, "TDOSE") / aval(adex, sid, group, "TRTDURD")
    return group_total(adex, USUBJID=usubjid(sid), TRTA=group, PARAMCD=paramcd)


@pytest.mark.parametrize("sid, group, expected", [
    ("001", "Vehicle", {"TRTDURD": 28, "TRTDURY": 28 / YEAR, "TDOSE": 140, "ADOSE": 5}),
    ("001", "Cream 1.5%", {"TRTDURD": 94, "TRTDURY": 94 / YEAR, "TDOSE": 442, "ADOSE": 442 / 94}),
    ("001", "All cream", {"TRTDURD": 94, "TRTDURY": 94 / YEAR, "TDOSE": 442, "ADOSE": 442 / 94}),
    ("002", "Cream 0.75%", {"TRTDURD": 10, "TRTDURY": 10 / YEAR, "TDOSE": 10, "ADOSE": 1}),
    ("002", "Cream 1.5%", {"TRTDURD": 20, "TRTDURY": 20 / YEAR, "TDOSE": 60, "ADOSE": 3}),
    ("002", "All cream", {"TRTDURD": 30, "TRTDURY": 30 / YEAR, "TDOSE": 70, "ADOSE": 70 / 30}),
    ("004", "Cream 1.5%", {"TRTDURD": 10, "TRTDURY": 10 / YEAR, "TDOSE": 20, "ADOSE": 2}),
])
def test_parameters(adex, sid, group, expected):
    got = {code: aval(adex, sid, group, code) for code in expected}
    assert got == pytest.approx(expected, rel=1e-12)


def test_one_record_per_piece_pooled_group_as_a_variable(adex):
    """No pooled records: each record is one treatment piece; "All cream" is the TRTAG1 of the cream
    records. 001's cream 1.5% is in period 2 only: one piece of two EX records."""
    groups = adex.groupby("USUBJID")["TRTA"].agg(lambda t: sorted(set(t))).to_dict()
    assert groups == {"S1-001": ["Cream 1.5%", "Vehicle"], "S1-002": ["Cream 0.75%", "Cream 1.5%"],
                      "S1-003": ["Cream 1.5%"], "S1-004": ["Cream 1.5%"]}
    assert adex.groupby(["USUBJID", "TRTA"]).size().eq(4).all()   # one piece each, four parameters
    assert not adex.duplicated(["USUBJID", "PARAMCD", "APERIOD", "TRTA", "ASTDT"]).any()
    assert set(zip(adex["TRTA"], adex["TRTAN"])) == {("Cream 0.75%", 1), ("Cream 1.5%", 2), ("Vehicle", 3)}
    pooled = adex[["TRTA", "TRTAG1", "TRTAG1N"]].drop_duplicates().astype(object).where(lambda f: f.notna(), None)
    assert sorted(map(tuple, pooled.to_numpy().tolist()), key=str) == sorted(
        [("Cream 0.75%", "All cream", 4), ("Cream 1.5%", "All cream", 4), ("Vehicle", None, None)], key=str)
    years = adex[adex["PARAMCD"] == "TRTDURY"]["AVAL"].sum()
    assert years == pytest.approx((28 + 94 + 10 + 20 + 10 + 10) / YEAR, rel=1e-12)   # each day once


def test_unknown_frequency_gives_no_dose(adex):
    assert aval(adex, "003", "Cream 1.5%", "TRTDURD") == 10
    assert pd.isna(aval(adex, "003", "Cream 1.5%", "TDOSE")) and pd.isna(aval(adex, "003", "Cream 1.5%", "ADOSE"))
    assert pd.isna(aval(adex, "003", "All cream", "TDOSE"))


def test_units_and_parameter_names(adex, analysis):
    one = adex[(adex["USUBJID"] == usubjid("001")) & (adex["TRTA"] == "Vehicle")].set_index("PARAMCD")
    assert one["AVALU"].to_dict() == {"TRTDURD": "DAYS", "TRTDURY": "YEARS", "TDOSE": "g", "ADOSE": "g/day"}
    decodes = {i.value: i.decode for i in analysis.spec.codelist("CL.ADEX.PARAMCD").items}
    assert one["PARAM"].to_dict() == {code: decodes[code] for code in one.index}
    assert one["PARAMN"].to_dict() == {"TRTDURD": 1, "TRTDURY": 2, "TDOSE": 3, "ADOSE": 4}


def test_interval_of_each_group(adex):
    pooled = in_group(adex, USUBJID=usubjid("002"), TRTA="All cream", PARAMCD="TRTDURD")
    assert (day(pooled["ASTDT"].min()), day(pooled["AENDT"].max())) == ("2021-01-01", "2021-02-20")
    vehicle = row(adex, USUBJID=usubjid("001"), TRTA="Vehicle", PARAMCD="TDOSE")
    assert (day(vehicle["ASTDT"]), day(vehicle["AENDT"])) == ("2021-03-01", "2021-03-28")


def test_switcher_groups_add_up_to_adsl_duration(analysis):
    # no gap between 001's vehicle and cream: 28 + 94 = ADSL TRTDURD 122 (2021-03-01..06-30)
    adsl = analysis.datasets["ADSL"]
    assert row(adsl, USUBJID=usubjid("001"))["TRTDURD"] == 122 == 28 + 94


def test_adsl_copies_and_no_records_for_untreated(adex, analysis):
    assert usubjid("005") not in set(adex["USUBJID"])
    assert adex["SAFFL"].eq("Y").all()
    assert not (analysis.findings["severity"] == "error").any()
