"""Pooling and bad input to the ISS derivations: errors where the analysis cannot go on, findings where
it can; nothing dropped silently (issue 5, "Bad input")."""
from __future__ import annotations

import csv

import pandas as pd
import pytest

from adam.build import derive_adam, pool_sdtm
from sdtm.source import OPTIONAL_VARIABLES, REQUIRED_VARIABLES
from specs.errors import InputError
from tests.adam_frames import (C15, P1, VEH, ae, day, derive, dm, ds, ex, group_total, iss_config, row, text,
                               usubjid)


def test_usubjid_in_two_studies_is_an_error():
    s1 = {"DM": dm({"subject": "001", "ARMCD": "TPZ15-TPZ15"}, {"subject": "002", "ARMCD": "TPZ15-TPZ15"})}
    s2 = dm({"subject": "001", "ARMCD": "TPZ15-TPZ15", "STUDYID": "S2"})
    s2["USUBJID"] = "S1-001"   # study S2 reuses S1's key for its own subject
    with pytest.raises(InputError, match=r"USUBJID S1-001 is in DM of more than one study \(S1, S2\)") as err:
        pool_sdtm([s1, {"DM": s2}])
    assert err.value.column == "USUBJID"


def test_pooling_stacks_every_domain_and_keeps_studyid():
    s1 = {"DM": dm({"subject": "001", "ARMCD": "TPZ15-TPZ15"}), "AE": ae({"subject": "001"})}
    s2_dm = dm({"subject": "001", "ARMCD": "TPZ15-TPZ15", "STUDYID": "S2"})
    s2 = {"DM": s2_dm, "AE": ae({"subject": "001"}).assign(STUDYID="S2", USUBJID="S2-001"),
          "DS": ds(("001", "COMPLETED", "2021-01-01"))}
    pooled = pool_sdtm([s1, s2])
    assert list(pooled["DM"]["USUBJID"]) == ["S1-001", "S2-001"]
    assert list(pooled["DM"]["STUDYID"]) == ["S1", "S2"]
    assert list(pooled["AE"]["STUDYID"]) == ["S1", "S2"] and len(pooled["DS"]) == 1


def hand_sdtm() -> dict:
    return {"DM": dm({"subject": "001", "ARMCD": "TPZ15-TPZ15"}),
            "EX": ex(("001", C15, P1, "2021-03-01", "2021-03-10")), "AE": ae({"subject": "001"}),
            "DS": ds(("001", "COMPLETED", "2021-03-31"))}


@pytest.mark.parametrize("domain, column", [(d, v) for d, names in REQUIRED_VARIABLES.items() for v in names])
def test_sdtm_without_a_required_variable_is_an_error(tmp_path, domain, column):
    sdtm = hand_sdtm()
    sdtm[domain] = sdtm[domain].drop(columns=column)
    with pytest.raises(InputError, match=f"SDTM {domain} lacks variable\\(s\\) {column}, which the ISS") as err:
        derive_adam(sdtm, iss_config(tmp_path))
    assert err.value.column == column


def test_pooling_checks_each_study_before_stacking():
    # S1 has AESER, S2 has not: stacked, S2's records would hold AESER null and pass unnoticed
    s1 = hand_sdtm()
    s2 = {"DM": dm({"subject": "001", "ARMCD": "TPZ15-TPZ15", "STUDYID": "S2"}),
          "AE": ae({"subject": "001"}).assign(STUDYID="S2", USUBJID="S2-001").drop(columns="AESER")}
    with pytest.raises(InputError, match=r"SDTM AE of study S2 lacks variable\(s\) AESER"):
        pool_sdtm([s1, s2])


def test_required_variables_are_req_or_exp_in_sdtmig_and_permissible_ones_optional(shared_data):
    # a conformant SDTM dataset is never refused: every variable required is Req or Exp in SDTMIG 3.4;
    # the Permissible variables the derivations read (EX.EPOCH among them) are optional
    with open(shared_data / "standards" / "sdtmig-3.4-variables.csv", encoding="utf-8", newline="") as f:
        core = {(r["Dataset Name"], r["Variable Name"]): r["Core"] for r in csv.DictReader(f)}
    required = {(d, v): core[(d, v)] for d, names in REQUIRED_VARIABLES.items() for v in names}
    assert set(required.values()) <= {"Req", "Exp"}, required
    optional = {(d, v) for d, names in OPTIONAL_VARIABLES.items() for v in names}
    assert {(d, v) for (d, v) in optional if core[(d, v)] == "Perm"} == {
        ("DM", "ETHNIC"), ("EX", "EPOCH"), ("EX", "EXDOSFRQ"), ("AE", "AEOUT"), ("AE", "AESDTH")}
    assert not optional & set(required)


def test_a_missing_domain_is_an_error(tmp_path):
    sdtm = {"DM": dm({"subject": "001", "ARMCD": "TPZ15-TPZ15"}), "EX": ex(("001", C15, P1, "2021-03-01", None))}
    with pytest.raises(InputError, match="needs SDTM AE"):
        derive_adam(sdtm, iss_config(tmp_path))


def test_exposure_to_a_treatment_in_no_group_is_an_error(tmp_path):
    with pytest.raises(InputError, match="exposure to RESCUE CREAM belongs to no group"):
        derive(tmp_path, dm_rows=dm({"subject": "001", "ARMCD": "TPZ15-TPZ15"}),
               ex_rows=ex(("001", "RESCUE CREAM", P1, "2021-03-01", "2021-03-10")))


OUTSIDE_AES = ae({"subject": "001", "AESTDTC": "2021-03-02"},     # AE row 1: analysed
                 {"subject": "004", "AESTDTC": "2021-03-02"},     # AE row 2: screen failure, not in ADSL
                 {"subject": "999", "AESTDTC": "2021-03-03"})     # AE row 3: in no DM at all


def outside_analysis(folder):
    return derive(folder, dm_rows=dm({"subject": "001", "ARMCD": "TPZ15-TPZ15"}, {"subject": "004", "ARMCD": None}),
                  ex_rows=ex(("001", C15, P1, "2021-03-01", "2021-03-10")), ae_rows=OUTSIDE_AES)


def test_aes_of_subjects_not_in_adsl_are_reported_not_dropped(tmp_path):
    got = outside_analysis(tmp_path)
    found = got.findings[got.findings["rule"] == "TP0201"]
    assert list(found["value"]) == [usubjid("004"), usubjid("999")]
    assert set(found["severity"]) == {"notice"} and set(found["dataset"]) == {"AE"}
    assert list(got.datasets["ADAE"]["USUBJID"]) == [usubjid("001")]
    assert len(got.datasets["ADAE"]) + len(found) == len(OUTSIDE_AES)   # every AE record accounted for


def test_tp0201_names_the_ae_row(tmp_path):
    got = outside_analysis(tmp_path)
    assert list(got.findings.loc[got.findings["rule"] == "TP0201", "row"]) == [2, 3]


def test_tp0201_says_why_the_subject_is_not_in_adsl(tmp_path):
    # 004 is in DM without arm or exposure (a screen failure); 999 is in no DM at all
    found = outside_analysis(tmp_path).findings.set_index("value")
    assert found.loc[usubjid("004"), "message"] == ("AE of a subject not in ADSL (in DM, neither randomised nor "
                                                    "treated: a screen failure): not analysed")
    assert found.loc[usubjid("999"), "message"] == "AE of a subject in no DM: not analysed"


def test_overlapping_exposure_is_a_finding(tmp_path):
    exposure = ex(("001", C15, P1, "2021-03-01", "2021-03-15"),     # EX row 1
                  ("001", C15, P1, "2021-03-10", "2021-03-20"),     # EX row 2: overlaps row 1 (03-10..03-15)
                  ("002", C15, P1, "2021-03-01", "2021-03-15"),     # EX row 3
                  ("002", C15, P1, "2021-03-16", "2021-03-20"),     # EX row 4: adjacent, no overlap
                  ("003", VEH, P1, "2021-03-01", "2021-03-15"),     # EX rows 5, 6: two treatments on the
                  ("003", C15, P1, "2021-03-15", "2021-03-20"))     # same day is not an overlap of one
    got = derive(tmp_path, dm_rows=dm(*({"subject": s, "ARMCD": "TPZ15-TPZ15"} for s in ("001", "002", "003"))),
                 ex_rows=exposure)
    found = got.findings[got.findings["rule"] == "TP0202"]
    assert list(zip(found["row"], found["value"], found["variable"])) == [(2, "2021-03-10", "EXSTDTC")]
    assert set(found["severity"]) == {"warning"}


def test_exposure_outside_the_reference_dates_is_a_finding(tmp_path):
    subjects = dm({"subject": "001", "ARMCD": "TPZ15-TPZ15", "RFXSTDTC": "2021-03-01", "RFXENDTC": "2021-03-20"})
    exposure = ex(("001", C15, P1, "2021-03-01", "2021-03-20"), ("001", C15, P1, "2021-03-21", "2021-03-25"))
    got = derive(tmp_path, dm_rows=subjects, ex_rows=exposure)
    found = got.findings[got.findings["rule"] == "TP0203"]
    assert list(zip(found["row"], found["value"])) == [(2, "2021-03-21")]
    # a finding, not a drop: the exposure still counts (03-01..03-25 = 25 days)
    assert got.datasets["ADSL"]["TRTDURD"].tolist() == [25]


def test_nobody_treated_gives_empty_exposure_datasets(tmp_path):
    got = derive(tmp_path, dm_rows=dm({"subject": "001", "ARMCD": "VEH-TPZ15"}), ex_rows=ex(),
                 ae_rows=ae({"subject": "001", "AESTDTC": "2021-01-01"}))
    assert (len(got.datasets["ADSL"]), len(got.datasets["ADAE"]), len(got.datasets["ADEX"]),
            len(got.datasets["ADAETTE"])) == (1, 1, 0, 0)
    assert got.datasets["ADSL"]["SAFFL"].tolist() == ["N"]
    adae = got.datasets["ADAE"]   # no emergent record: TRTEMFL, all null, is dropped as an unused variable
    assert "TRTEMFL" not in adae or adae["TRTEMFL"].isna().all()


def test_exposure_in_an_epoch_that_is_no_period_is_an_error(tmp_path):
    # S1 has periods BLINDED TREATMENT (1) and OPEN LABEL TREATMENT (2); an EX record in any other epoch
    # (or none) cannot be given a period, and putting it in period 1 would be a silent guess
    for epoch in ("FOLLOW-UP", None):
        with pytest.raises(InputError, match="EPOCH.* study S1") as err:
            derive(tmp_path, dm_rows=dm({"subject": "001", "ARMCD": "TPZ15-TPZ15"}),
                   ex_rows=ex(("001", C15, P1, "2021-03-01", "2021-03-10"), ("001", C15, epoch, "2021-03-11", None)))
        assert (err.value.column, err.value.row) == ("EPOCH", 2)


def test_ex_without_epoch_in_a_study_without_periods_is_one_period(tmp_path):
    # EX.EPOCH is Permissible (SDTMIG 3.4): a study whose config has no periods has the one period 1,
    # dated from EX: TR01SDT = first EXSTDTC 2021-03-01, TR01EDT = last EXENDTC 2021-03-20 (20 days)
    got = derive(tmp_path, study={"periods": None, "arms": None},
                 dm_rows=dm({"subject": "001", "ARMCD": None}, {"subject": "002", "ARMCD": None}),
                 ex_rows=ex(("001", C15, None, "2021-03-01", "2021-03-10"),
                            ("001", C15, None, "2021-03-11", "2021-03-20")).drop(columns="EPOCH"),
                 ae_rows=ae({"subject": "001", "AESTDTC": "2021-03-15"}))
    adsl = got.datasets["ADSL"]
    assert list(adsl["USUBJID"]) == [usubjid("001")]   # 002: no arm, no exposure: not in ADSL
    s = adsl.iloc[0]
    assert (s["TRT01A"], day(s["TR01SDT"]), day(s["TR01EDT"]), s["TRTDURD"], s["SAFFL"]) == (
        "Cream 1.5%", "2021-03-01", "2021-03-20", 20, "Y")
    assert not any(c.startswith(("TRT02", "TR02")) for c in adsl.columns)
    assert text(got.datasets["ADAE"][["APERIOD", "TRTA", "TRTEMFL"]].iloc[0]) == [1, "Cream 1.5%", "Y"]


def test_ex_without_epoch_in_a_study_with_periods_is_an_error(tmp_path):
    with pytest.raises(InputError, match="EX record without EPOCH .* in study S1, whose config places EX records "
                                         "in periods by EPOCH") as err:
        derive(tmp_path, dm_rows=dm({"subject": "001", "ARMCD": "TPZ15-TPZ15"}),
               ex_rows=ex(("001", C15, P1, "2021-03-01", "2021-03-10")).drop(columns="EPOCH"))
    assert (err.value.column, err.value.row) == ("EPOCH", 1)


def test_exposure_without_a_start_date_is_treatment_without_dates(tmp_path):
    # 001: its one EX record has no EXSTDTC (EX row 1); 002: dated 03-01..03-10 (row 2) and an undated
    # record ending 03-31 (row 3). ADSL SAFFL is "received any study treatment": both are treated. An
    # undated record adds nothing to dates, durations or time at risk: 001 has no TRTSDT/TRTEDT, its
    # ADEX durations are null (not 0, in the pool too) and it has no time at risk; 002 has 10 days.
    # Each undated record is a finding naming it (TP0204).
    got = derive(tmp_path, dm_rows=dm({"subject": "001", "ARMCD": "TPZ15-TPZ15"},
                                      {"subject": "002", "ARMCD": "TPZ15-TPZ15"}),
                 ex_rows=ex(("001", C15, P1, None, "2021-04-30"), ("002", C15, P1, "2021-03-01", "2021-03-10"),
                            ("002", C15, P1, None, "2021-03-31")),
                 ae_rows=ae({"subject": "001", "AESTDTC": "2021-04-01"}))
    adsl = got.datasets["ADSL"].set_index("USUBJID")
    assert text(adsl["SAFFL"]) == ["Y", "Y"]
    assert [day(adsl.loc[usubjid("001"), n]) for n in ("TRTSDT", "TRTEDT")] == [None, None]
    assert adsl.loc[usubjid("001"), "TRT01A"] == "Cream 1.5%"
    assert [day(adsl.loc[usubjid("002"), n]) for n in ("TRTSDT", "TRTEDT")] == ["2021-03-01", "2021-03-10"]
    adex = got.datasets["ADEX"]
    for group in ("Cream 1.5%", "All cream"):   # the group's records (pooled: TRTAG1), summed
        assert pd.isna(group_total(adex, USUBJID=usubjid("001"), TRTA=group, PARAMCD="TRTDURD"))
        assert group_total(adex, USUBJID=usubjid("002"), TRTA=group, PARAMCD="TRTDURD") == 10
    # 002: its dated piece and, apart, its undated record (no dates, no duration)
    assert sorted(adex.loc[(adex["USUBJID"] == usubjid("002")) & (adex["PARAMCD"] == "TRTDURD"), "AVAL"].fillna(-1)) \
        == [-1, 10]
    assert usubjid("001") not in set(got.datasets["ADAETTE"]["USUBJID"])
    found = got.findings[got.findings["rule"] == "TP0204"]
    assert list(zip(found["row"], found["file"], found["variable"], found["severity"])) == [
        (1, "s1/ex", "EXSTDTC", "warning"), (3, "s1/ex", "EXSTDTC", "warning")]


def test_a_study_whose_only_subject_has_no_dated_exposure(tmp_path):
    got = derive(tmp_path, dm_rows=dm({"subject": "001", "ARMCD": "TPZ15-TPZ15"}),
                 ex_rows=ex(("001", C15, P1, None, "2021-04-30")), ae_rows=ae({"subject": "001"}))
    assert text(got.datasets["ADSL"]["SAFFL"]) == ["Y"]
    assert (len(got.datasets["ADAETTE"]), list(got.findings["rule"])) == (0, ["TP0204"])


def test_a_study_without_exposure_is_an_error_finding(tmp_path):
    got = derive(tmp_path, dm_rows=dm({"subject": "001", "ARMCD": "TPZ15-TPZ15"}), ex_rows=ex(),
                 ae_rows=ae({"subject": "001", "AESTDTC": "2021-03-02"}))
    found = got.findings[got.findings["rule"] == "TP0207"]
    assert list(zip(found["severity"], found["value"], found["file"])) == [("error", "S1", "s1/ex")]
    assert text(got.datasets["ADSL"]["SAFFL"]) == ["N"]
    assert text(got.datasets["ADAE"][["TRTA", "TRTEMFL"]].iloc[0]) == [None, None]   # kept, empty


def test_imputed_exposure_end_and_unknown_dose_are_findings(tmp_path):
    # EX row 1: no EXENDTC -> one application on EXSTDTC, flagged (TP0205); row 2: EXDOSFRQ PRN has no
    # administrations per day -> TDOSE null (TP0206); row 3: no EXDOSE (TP0206)
    got = derive(tmp_path, dm_rows=dm(*({"subject": s, "ARMCD": "TPZ15-TPZ15"} for s in ("001", "002", "003"))),
                 ex_rows=ex(("001", C15, P1, "2021-03-01", None), ("002", C15, P1, "2021-03-01", "2021-03-10", 1.0,
                                                                        "PRN"),
                            ("003", C15, P1, "2021-03-01", "2021-03-10", None)))
    f = got.findings[got.findings["rule"].isin(["TP0205", "TP0206"])]
    assert list(zip(f["rule"], f["row"], f["variable"], f["value"])) == [
        ("TP0205", 1, "EXENDTC", None), ("TP0206", 3, "EXDOSE", None), ("TP0206", 2, "EXDOSFRQ", "PRN")]
    assert f["message"].iloc[0] == "EX end date missing or not a date: one application on EXSTDTC taken, flagged Y"
    adsl = got.datasets["ADSL"].set_index("USUBJID")
    assert (day(adsl.loc[usubjid("001"), "TRTEDT"]), adsl.loc[usubjid("001"), "TRTEDTF"]) == ("2021-03-01", "Y")
    adex = got.datasets["ADEX"]
    assert all(pd.isna(row(adex, USUBJID=usubjid(s), TRTA="Cream 1.5%", PARAMCD="TDOSE")["AVAL"]) for s in ("002", "003"))
