"""Raw -> SDTM on the hand-written minimal study: every derivation against values worked out by hand."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sdtm.config import load_study_config
from sdtm.mapping import map_study, read_study_raw
from specs import InputError
from tests.minimal_study import CONFIG, write_minimal_study


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mini")
    config = load_study_config(write_minimal_study(folder))
    return map_study(config, read_study_raw(config), data_cutoff="2021-12-31")


def by_subject(df, subjid):
    return df[df["USUBJID"] == f"MINI-01-01-{subjid}"]


def one(df, subjid, var):
    values = by_subject(df, subjid)[var]
    assert len(values) == 1
    value = values.iloc[0]
    return None if pd.isna(value) else value


def test_datasets_and_no_error_findings(study):
    assert list(study.datasets) == ["DM", "AE", "EX", "DS", "TS", "SUPPDM", "SUPPAE"]
    errors = study.findings[study.findings.severity == "error"]
    assert errors.empty, errors


def test_usubjid_and_subjects(study):
    dm = study.datasets["DM"]
    assert dm["USUBJID"].tolist() == [f"MINI-01-01-00{i}" for i in range(1, 8)]
    assert dm["STUDYID"].unique().tolist() == ["MINI-01"] and dm["DOMAIN"].unique().tolist() == ["DM"]


def test_reference_dates_from_ex_and_ds(study):
    dm = study.datasets["DM"]
    # 001: vehicle 2021-03-01..03-28 then cream 03-29..06-30; completed 2021-06-30
    assert one(dm, "001", "RFXSTDTC") == "2021-03-01" and one(dm, "001", "RFXENDTC") == "2021-06-30"
    assert one(dm, "001", "RFSTDTC") == "2021-03-01" and one(dm, "001", "RFENDTC") == "2021-06-30"
    # 002: the 21-22 MAR record (dose -1) and the 30 FEB record are rejected, so 03-10..03-20
    assert one(dm, "002", "RFXSTDTC") == "2021-03-10" and one(dm, "002", "RFXENDTC") == "2021-03-20"
    # 003 screen failure and 004 never treated: no reference start/end, RFPENDTC = last record
    for s in ("003", "004"):
        assert one(dm, s, "RFSTDTC") is None and one(dm, s, "RFENDTC") is None and one(dm, s, "RFXSTDTC") is None
    assert one(dm, "003", "RFPENDTC") == "2021-03-05" and one(dm, "004", "RFPENDTC") == "2021-03-03"
    # RFPENDTC is the last date of any record: 001's ongoing AE has no end; last is 2021-06-30
    assert one(dm, "001", "RFPENDTC") == "2021-06-30"
    assert one(dm, "001", "RFICDTC") == "2021-02-20" and one(dm, "002", "RFICDTC") == "2021-03-01"


def test_age_from_birth_date_at_consent(study):
    dm = study.datasets["DM"]
    assert one(dm, "001", "AGE") == 8          # 2012-03-15 -> 2021-02-20: birthday not yet reached
    assert one(dm, "002", "AGE") == 10         # born 2010-06 (day unknown) -> 2021-03-01: 10 either way
    assert one(dm, "004", "AGE") is None       # born 2011 -> 2021-03-01: 9 or 10
    assert one(dm, "004", "BRTHDTC") == "2011" and one(dm, "002", "BRTHDTC") == "2010-06"
    assert one(dm, "001", "AGEU") == "YEARS" and one(dm, "004", "AGEU") is None
    notice = study.findings[study.findings.rule == "TP0106"]
    assert notice["value"].tolist() == ["2011"]


def test_controlled_terms_from_raw_quirks(study):
    dm = study.datasets["DM"]
    assert one(dm, "001", "SEX") == "F" and one(dm, "002", "SEX") == "M"            # "Female", "m "
    assert one(dm, "001", "RACE") == "WHITE" and one(dm, "002", "RACE") == "WHITE"  # "Caucasian", "white"
    assert one(dm, "002", "ETHNIC") == "NOT HISPANIC OR LATINO"                     # lower case
    assert set(dm["COUNTRY"]) == {"USA"}                                            # from the site


@pytest.mark.parametrize("subjid, armcd, actarmcd, armnrs, actarmud", [
    ("001", "VEH-TPZ15", "VEH-TPZ15", None, None),        # received as planned
    ("002", "TPZ15-TPZ15", "TPZ15-TPZ15", None, None),    # discontinued in period 1: prefix of the plan
    ("003", None, None, "SCREEN FAILURE", None),
    ("004", "VEH-TPZ15", None, "ASSIGNED, NOT TREATED", None),
    ("005", "VEH-TPZ15", "TPZ15-TPZ15", None, None),      # other arm; a mismatch needs no ARMNRS
    ("006", "TPZ15-TPZ15", "VEH-TPZ15", None, None),
    ("007", "TPZ15-TPZ15", None, "UNPLANNED TREATMENT", "RECEIVED: NONE > VEH"),
])
def test_arms(study, subjid, armcd, actarmcd, armnrs, actarmud):
    dm = study.datasets["DM"]
    assert (one(dm, subjid, "ARMCD"), one(dm, subjid, "ACTARMCD"), one(dm, subjid, "ARMNRS"),
            one(dm, subjid, "ACTARMUD")) == (armcd, actarmcd, armnrs, actarmud)


def test_exposure_records(study):
    ex = study.datasets["EX"]
    s1 = by_subject(ex, "001")
    assert s1["EXTRT"].tolist() == ["VEHICLE CREAM", "TOPAZITINIB CREAM 1.5%"]   # raw "veh" any case
    assert s1["EXSEQ"].tolist() == [1, 2] and s1["EXDOSE"].tolist() == [2.5, 3.0]
    assert s1["EPOCH"].tolist() == ["BLINDED TREATMENT", "OPEN LABEL TREATMENT"]
    assert s1["EXSTDY"].tolist() == [1, 29] and s1["EXENDY"].tolist() == [28, 122]
    assert set(ex["EXDOSU"]) == {"g"} and set(ex["EXROUTE"]) == {"TOPICAL"} and set(ex["EXDOSFRM"]) == {"CREAM"}
    assert set(ex["EXDOSFRQ"]) == {"BID"}


def test_study_day_has_no_day_zero_and_uses_date_parts(study):
    ae = study.datasets["AE"]
    s1 = by_subject(ae, "001").set_index("AESEQ")
    assert (s1.loc[1, "AESTDY"], s1.loc[1, "AEENDY"]) == (-4, -3)   # 02-25/26 vs RFSTDTC 03-01
    assert s1.loc[2, "AESTDY"] == 1                                 # on the reference date: day 1
    assert np.isnan(s1.loc[2, "AEENDY"])                            # end "2021-03" is partial
    s2 = by_subject(ae, "002")
    assert s2["AESTDY"].tolist() == [-1] and s2["AEENDY"].tolist() == [3]   # 03-09 / 03-12 vs 03-10


def test_epoch_boundaries_and_partial_dates(study):
    ae = study.datasets["AE"]
    s1 = by_subject(ae, "001").set_index("AESEQ")
    assert s1.loc[1, "EPOCH"] == "SCREENING"            # after consent, before the first dose
    assert s1.loc[2, "EPOCH"] == "BLINDED TREATMENT"    # first dose day
    assert pd.isna(s1.loc[3, "EPOCH"])                  # "2021-03" spans period 1 and period 2
    assert s1.loc[4, "EPOCH"] == "OPEN LABEL TREATMENT"  # "2021-04" lies wholly in period 2
    assert by_subject(ae, "002")["EPOCH"].tolist() == ["SCREENING"]  # day before first dose


def test_aeseq_orders_by_start_date(study):
    s1 = by_subject(study.datasets["AE"], "001")
    assert s1["AETERM"].tolist() == ["runny nose", "itchy skin at site", "headache", "cellulitis leg"]
    assert s1["AESEQ"].tolist() == [1, 2, 3, 4]


def test_adverse_event_qualifiers(study):
    s1 = by_subject(study.datasets["AE"], "001").set_index("AESEQ")
    assert s1.loc[4, "AESER"] == "Y" and s1.loc[4, "AESHOSP"] == "Y"
    assert s1.loc[4, "AEENRTPT"] == "ONGOING" and s1.loc[4, "AEENTPT"] == "END OF STUDY"
    assert pd.isna(s1.loc[1, "AEENRTPT"])
    assert s1.loc[4, "AEOUT"] == "NOT RECOVERED/NOT RESOLVED" and s1.loc[2, "AEREL"] == "RELATED"
    assert s1.loc[1, "AESEV"] == "MILD" and s1.loc[2, "AESEV"] == "MILD"       # "mild" and "MILD"
    assert s1.loc[4, "AEDECOD"] == "Cellulitis" and s1.loc[4, "AEPTCD"] == 10007882
    assert s1.loc[4, "AESOC"] == "Infections and infestations" and s1.loc[4, "AESOCCD"] == 10021881


def test_seriousness_disagreement_is_a_finding(study):
    found = study.findings[study.findings.rule == "TP0105"]
    assert found["row"].tolist() == [5] and found["file"].tolist() == ["mini-01/ae.csv"]  # headache: AESER Y, no criterion


def test_rejections_name_file_row_column_and_reason(study):
    rej = study.rejections
    got = set(zip(rej["file"], rej["row"], rej["column"], rej["reason"]))
    assert got == {
        ("mini-01/dm.csv", 9, "SUBJID", "exact duplicate of row 2"),
        ("mini-01/ae.csv", 7, "AETERM", "verbatim term (AETERM) is empty"),
        ("mini-01/ae.csv", 8, "SUBJID", "subject is not in DM"),
        ("mini-01/ex.csv", 6, "EXDOSE", "dose is not above zero"),
        ("mini-01/ex.csv", 7, "SUBJID", "subject is not in DM"),
        ("mini-01/ex.csv", 10, "EXSTDAT", "invalid date: day 30 does not exist in 2021-02"),
    }


def test_reconciliation_balances(study):
    rec = study.reconciliation.set_index("domain")
    assert rec["balanced"].all()
    assert rec.loc["DM", ["rows_read", "rows_mapped", "rows_rejected"]].tolist() == [8, 7, 1]
    assert rec.loc["AE", ["rows_read", "rows_mapped", "rows_rejected"]].tolist() == [7, 5, 2]
    assert rec.loc["EX", ["rows_read", "rows_mapped", "rows_rejected"]].tolist() == [9, 6, 3]


def test_lineage_links_records_to_raw_rows(study):
    lin = study.lineage
    ae = lin[(lin.dataset == "AE") & (lin.USUBJID == "MINI-01-01-001")].set_index("seq")
    assert ae.loc[4, "row"] == 4 and ae.loc[4, "file"] == "mini-01/ae.csv"   # cellulitis is raw row 4


def test_supplemental_qualifiers(study):
    supp = study.datasets["SUPPDM"]
    assert supp[["USUBJID", "QNAM", "QVAL"]].values.tolist() == [
        ["MINI-01-01-001", "FITZPAT", "II"], ["MINI-01-01-003", "FITZPAT", "III"]]
    assert supp["IDVAR"].isna().all() and supp["RDOMAIN"].unique().tolist() == ["DM"]
    vl = study.spec.value_levels("SUPPDM", "QVAL")
    assert [v.where_clause for v in vl] == ["WC.SUPPDM.QNAM.FITZPAT"] and vl[0].label == "Fitzpatrick Skin Type"


def test_disposition_and_trial_summary(study):
    ds = study.datasets["DS"]
    assert one(ds, "003", "DSDECOD") == "SCREEN FAILURE" and one(ds, "003", "EPOCH") == "SCREENING"
    assert one(ds, "002", "EPOCH") == "BLINDED TREATMENT" and one(ds, "002", "DSSTDY") == 11
    ts = study.datasets["TS"].set_index("TSPARMCD")
    assert ts.loc["SSTDTC", "TSVAL"] == "2021-02-20"        # earliest informed consent
    assert ts.loc["TPHASE", "TSVALCD"] == "C15602"
    assert ts.loc["TPHASE", "TSPARM"] == "Trial Phase Classification"


def test_unused_permissible_variables_are_dropped(study):
    ae_vars = study.spec.dataset("AE").names
    assert "AESCONG" not in ae_vars and "AESHOSP" in ae_vars   # not collected vs collected
    assert list(study.datasets["AE"].columns) == ae_vars


def test_unknown_arm_is_bad_input(tmp_path):
    path = write_minimal_study(tmp_path)
    dm = tmp_path / "raw" / "dm.csv"
    dm.write_text(dm.read_text().replace("01 MAR 2021,A,", "01 MAR 2021,Z,", 1))
    config = load_study_config(path)
    with pytest.raises(InputError) as err:
        map_study(config, read_study_raw(config))
    assert (err.value.file, err.value.row, err.value.column) == ("mini-01/dm.csv", 5, "ARM")  # subject 004 is the 4th record: row 5


def test_missing_raw_column_names_file_and_column(tmp_path):
    path = write_minimal_study(tmp_path)
    cfg = json.loads(path.read_text())
    cfg["raw"]["files"]["AE"]["columns"]["AETERM"] = "Verbatim"
    path.write_text(json.dumps(cfg))
    with pytest.raises(InputError) as err:
        read_study_raw(load_study_config(path))
    assert err.value.file == "mini-01/ae.csv" and err.value.column == "Verbatim"


def test_conflicting_duplicate_subject_is_bad_input(tmp_path):
    path = write_minimal_study(tmp_path)
    dm = tmp_path / "raw" / "dm.csv"
    dm.write_text(dm.read_text() + "002,01,UN JUN 2010,F,white,NOT HISPANIC OR LATINO,2021-03-01,B,\n")
    config = load_study_config(path)
    with pytest.raises(InputError, match="two different demographics records"):
        map_study(config, read_study_raw(config))


def test_a_key_given_twice_in_a_config_is_refused(tmp_path):
    """json.loads keeps the last of two equal keys; a config that says a thing twice is refused
    with file and JSON path (study and ISS configs, both read by specs.jsonio)."""
    from adam.config import load_iss_config
    from tests.minimal_study import write_minimal_iss

    iss = write_minimal_iss(tmp_path)
    study = tmp_path / "mini-01.json"
    study.write_text(study.read_text().replace('"studyid": "MINI-01",', '"studyid": "MINI-01", "studyid": "MINI-02",'))
    with pytest.raises(InputError, match=r"mini-01\.json, at \$\.studyid: the key 'studyid' appears twice"):
        load_study_config(study)
    iss.write_text(iss.read_text().replace('"window_days": 30', '"window_days": 30, "window_days": 7'))
    with pytest.raises(InputError, match=r"iss\.json, at \$\.teae\.window_days: the key 'window_days' appears twice"):
        load_iss_config(iss)


def test_config_cross_references_are_checked(tmp_path):
    path = write_minimal_study(tmp_path)
    cfg = json.loads(path.read_text())
    cfg["arms"][0]["treatments"] = ["VEH", "TPZ30"]
    path.write_text(json.dumps(cfg))
    with pytest.raises(InputError) as err:
        load_study_config(path)
    assert err.value.path == "$.arms[0].treatments[1]"
    assert CONFIG["arms"][0]["treatments"] == ["VEH", "TPZ15"]
