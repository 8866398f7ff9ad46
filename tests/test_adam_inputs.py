"""Pooling and bad input to the ISS derivations: errors where the analysis cannot go on, findings where
it can; nothing dropped silently (issue 5, "Bad input")."""
from __future__ import annotations

import pytest

from adam.build import derive_adam, pool_sdtm
from specs.errors import InputError
from tests.adam_frames import C15, P1, VEH, ae, derive, dm, ds, ex, iss_config, usubjid


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


@pytest.mark.parametrize("domain, column", [("DM", "ARMCD"), ("EX", "EXTRT"), ("AE", "AESTDTC")])
def test_sdtm_without_a_required_variable_is_an_error(tmp_path, domain, column):
    sdtm = {"DM": dm({"subject": "001", "ARMCD": "TPZ15-TPZ15"}),
            "EX": ex(("001", C15, P1, "2021-03-01", "2021-03-10")), "AE": ae({"subject": "001"})}
    sdtm[domain] = sdtm[domain].drop(columns=column)
    with pytest.raises(InputError, match=f"SDTM {domain} lacks required variable\\(s\\) {column}") as err:
        derive_adam(sdtm, iss_config(tmp_path))
    assert err.value.column == column


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
        with pytest.raises(InputError, match="EPOCH .* is not a treatment period of study S1") as err:
            derive(tmp_path, dm_rows=dm({"subject": "001", "ARMCD": "TPZ15-TPZ15"}),
                   ex_rows=ex(("001", C15, P1, "2021-03-01", "2021-03-10"), ("001", C15, epoch, "2021-03-11", None)))
        assert (err.value.column, err.value.row) == ("EPOCH", 2)
