"""Raw -> SDTM on the hand-written minimal study: every derivation against values worked out by hand."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def test_datasets_and_exactly_the_designed_error_findings(study):
    """The minimal study's planted problems, each an error on its raw row (records kept, values
    null), and nothing else: subject 999 is in no DM (its AE row 8 and EX row 7 rejected), EX
    row 6 has dose -1, EX row 10 starts on 30 FEB 2021, AE row 7 has no verbatim term and no
    coding (so AE has two null Req values, AETERM and AEDECOD of 002's second record: the spec
    check's row 6)."""
    assert list(study.datasets) == ["DM", "AE", "EX", "DS", "TS", "SUPPDM", "SUPPAE"]
    errors = study.findings[study.findings.severity == "error"]
    assert sorted(zip(errors["rule"], errors["file"].fillna(errors["dataset"]), errors["row"].astype(int))) == [
        ("TP0004", "AE", 6), ("TP0004", "AE", 6), ("TP0101", "raw/ae.csv", 8), ("TP0101", "raw/ex.csv", 7), ("TP0102", "raw/ex.csv", 10),
        ("TP0114", "raw/ae.csv", 7), ("TP0115", "raw/ex.csv", 6)]


def test_usubjid_and_subjects(study):
    dm = study.datasets["DM"]
    assert dm["USUBJID"].tolist() == [f"MINI-01-01-00{i}" for i in range(1, 8)]
    assert dm["STUDYID"].unique().tolist() == ["MINI-01"] and dm["DOMAIN"].unique().tolist() == ["DM"]


def test_reference_dates_from_ex_and_ds(study):
    dm = study.datasets["DM"]
    # 001: vehicle 2021-03-01..03-28 then cream 03-29..06-30; completed 2021-06-30
    assert one(dm, "001", "RFXSTDTC") == "2021-03-01" and one(dm, "001", "RFXENDTC") == "2021-06-30"
    assert one(dm, "001", "RFSTDTC") == "2021-03-01" and one(dm, "001", "RFENDTC") == "2021-06-30"
    # 002: the 21-22 MAR record (dose -1, kept with EXDOSE null) and the record starting 30 FEB (kept,
    # EXSTDTC null, ending 2021-03-31) count: first start 03-10, last end 03-31
    assert one(dm, "002", "RFXSTDTC") == "2021-03-10" and one(dm, "002", "RFXENDTC") == "2021-03-31"
    # 003 screen failure and 004 never treated: no reference start, RFPENDTC = last record
    for s in ("003", "004"):
        assert one(dm, s, "RFSTDTC") is None and one(dm, s, "RFXSTDTC") is None
    # RFENDTC (SDTMIG 3.4, CG0529): null for the screen failure 003; randomised but untreated 004
    # left the study on 2021-03-03 (its withdrawal, the end of its participation)
    assert one(dm, "003", "RFENDTC") is None and one(dm, "004", "RFENDTC") == "2021-03-03"
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
    assert s2["AESTDY"].tolist() == [-1, 6]                         # 03-09 and (no verbatim term) 03-15 vs 03-10
    assert s2["AEENDY"].tolist()[0] == 3 and np.isnan(s2["AEENDY"].tolist()[1])


def test_epoch_boundaries_and_partial_dates(study):
    ae = study.datasets["AE"]
    s1 = by_subject(ae, "001").set_index("AESEQ")
    assert s1.loc[1, "EPOCH"] == "SCREENING"            # after consent, before the first dose
    assert s1.loc[2, "EPOCH"] == "BLINDED TREATMENT"    # first dose day
    assert pd.isna(s1.loc[3, "EPOCH"])                  # "2021-03" spans period 1 and period 2
    assert s1.loc[4, "EPOCH"] == "OPEN LABEL TREATMENT"  # "2021-04" lies wholly in period 2
    assert by_subject(ae, "002")["EPOCH"].tolist() == ["SCREENING", "BLINDED TREATMENT"]  # 03-09: day before first dose


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
    assert found["row"].tolist() == [5] and found["file"].tolist() == ["raw/ae.csv"]  # headache: AESER Y, no criterion


def test_rejections_name_file_row_column_and_reason(study):
    rej = study.rejections
    got = set(zip(rej["file"], rej["row"], rej["column"], rej["reason"]))
    assert got == {   # only what cannot be placed (subject 999) and the exact duplicate: bad values are kept
        ("raw/dm.csv", 9, "SUBJID", "exact duplicate of row 2"),
        ("raw/ae.csv", 8, "SUBJID", "subject is not in DM"),
        ("raw/ex.csv", 7, "SUBJID", "subject is not in DM"),
    }
    assert rej.set_index("row")["rule"].to_dict() == {9: "TP0116", 8: "TP0101", 7: "TP0101"}


def test_reconciliation_balances(study):
    rec = study.reconciliation.set_index("domain")
    assert rec["balanced"].all()
    assert rec.loc["DM", ["rows_read", "rows_mapped", "rows_rejected"]].tolist() == [8, 7, 1]
    assert rec.loc["AE", ["rows_read", "rows_mapped", "rows_rejected"]].tolist() == [7, 6, 1]
    assert rec.loc["EX", ["rows_read", "rows_mapped", "rows_rejected"]].tolist() == [9, 8, 1]


def test_lineage_links_records_to_raw_rows(study):
    lin = study.lineage
    ae = lin[(lin.dataset == "AE") & (lin.USUBJID == "MINI-01-01-001")].set_index("seq")
    assert ae.loc[4, "row"] == 4 and ae.loc[4, "file"] == "raw/ae.csv"   # cellulitis is raw row 4


def test_supplemental_qualifiers(study):
    supp = study.datasets["SUPPDM"]
    assert supp[["USUBJID", "QNAM", "QVAL"]].values.tolist() == [
        ["MINI-01-01-001", "FITZPAT", "II"], ["MINI-01-01-003", "FITZPAT", "III"]]
    assert supp["IDVAR"].isna().all() and supp["RDOMAIN"].unique().tolist() == ["DM"]
    vl = study.spec.value_levels("SUPPDM", "QVAL")
    assert [v.where_clause for v in vl] == ["WC.SUPPDM.QNAM.FITZPAT"] and vl[0].label == "Fitzpatrick Skin Type"


def test_disposition_and_trial_summary(study):
    ds = study.datasets["DS"]
    ds = ds[ds["DSCAT"] == "DISPOSITION EVENT"]   # besides each subject's informed-consent milestone
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
    # subject 004 is the 4th record: row 5; the column as the export names it
    assert (err.value.file, err.value.row, err.value.column) == ("raw/dm.csv", 5, "Randomised to")


def test_missing_raw_column_names_file_and_column(tmp_path):
    path = write_minimal_study(tmp_path)
    cfg = json.loads(path.read_text())
    cfg["raw"]["files"]["AE"]["columns"]["AETERM"] = "Verbatim"
    path.write_text(json.dumps(cfg))
    with pytest.raises(InputError) as err:
        read_study_raw(load_study_config(path))
    assert err.value.file == "raw/ae.csv" and err.value.column == "Verbatim"


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


def test_blank_subject_identifiers_are_rejected_and_the_study_mapped(tmp_path):
    """Two DM records without SITEID (USUBJID needs it) and two without SUBJID: each rejected with
    its raw row and column; their AE/EX records are rejected as subjects not in DM."""
    path = write_minimal_study(tmp_path)
    dm = tmp_path / "raw" / "dm.csv"
    dm.write_text(dm.read_text() + "008,,02 FEB 2009,F,WHITE,NOT HISPANIC OR LATINO,01 MAR 2021,A,\n"
                                   "009,,02 FEB 2009,F,WHITE,NOT HISPANIC OR LATINO,01 MAR 2021,B,\n"
                                   ",01,02 FEB 2009,M,WHITE,NOT HISPANIC OR LATINO,01 MAR 2021,A,\n"
                                   ",01,03 FEB 2009,M,WHITE,NOT HISPANIC OR LATINO,01 MAR 2021,B,\n")
    ex = tmp_path / "raw" / "ex.csv"
    ex.write_text(ex.read_text() + "008,VEH,DB,05 MAR 2021,2021-03-31,2\n")
    config = load_study_config(path)
    study = map_study(config, read_study_raw(config), data_cutoff="2021-12-31")
    rej = study.rejections.set_index(["file", "row"])
    assert rej.loc[("raw/dm.csv", 10), "column"] == "SITEID" and rej.loc[("raw/dm.csv", 11), "column"] == "SITEID"
    assert rej.loc[("raw/dm.csv", 12), "column"] == "SUBJID" and rej.loc[("raw/dm.csv", 13), "column"] == "SUBJID"
    assert rej.loc[("raw/dm.csv", 10), "reason"].startswith("SITEID is empty: the subject cannot be identified")
    assert rej.loc[("raw/ex.csv", 11), "reason"] == "subject is not in DM"
    assert study.datasets["DM"]["USUBJID"].tolist() == [f"MINI-01-01-00{i}" for i in range(1, 8)]
    assert study.reconciliation.set_index("domain").loc["DM", ["rows_read", "rows_mapped", "rows_rejected"]].tolist() \
        == [12, 7, 5]


def test_zero_dose_is_kept_as_placebo(tmp_path):
    """EXDOSE = 0 is SDTMIG's placebo/vehicle convention: the record is mapped, not rejected. Subject
    001 gets a 0 g vehicle record inside its vehicle period: it stays on its planned arm and its first
    exposure (RFXSTDTC) stays 2021-03-01."""
    path = write_minimal_study(tmp_path)
    ex = tmp_path / "raw" / "ex.csv"
    ex.write_text(ex.read_text() + "001,VEH,DB,10 MAR 2021,12 MAR 2021,0\n")
    config = load_study_config(path)
    study = map_study(config, read_study_raw(config), data_cutoff="2021-12-31")
    assert not (study.rejections["file"] == "raw/ex.csv").sum() > 3     # only the three bad rows of EX_CSV
    s1 = by_subject(study.datasets["EX"], "001")
    assert s1["EXDOSE"].tolist() == [2.5, 0.0, 3.0] and s1["EXSTDTC"].tolist() == ["2021-03-01", "2021-03-10",
                                                                                    "2021-03-29"]
    dm = study.datasets["DM"]
    assert (one(dm, "001", "ARMCD"), one(dm, "001", "ACTARMCD"), one(dm, "001", "ARMNRS")) == \
        ("VEH-TPZ15", "VEH-TPZ15", None)
    assert one(dm, "001", "RFXSTDTC") == "2021-03-01" and one(dm, "001", "RFXENDTC") == "2021-06-30"


def test_country_read_from_the_raw_file_and_checked_against_iso_3166(tmp_path):
    """COUNTRY from the export through value_maps; blank -> the site's country; a value that is no
    ISO 3166-1 alpha-3 code after mapping is kept and reported (TP0009, error: COUNTRY is Req)."""
    path = write_minimal_study(tmp_path)
    cfg = json.loads(path.read_text())
    cfg["raw"]["files"]["DM"]["columns"]["COUNTRY"] = "Country"
    cfg["value_maps"]["COUNTRY"] = {"Germany": "DEU"}
    path.write_text(json.dumps(cfg))
    dm_csv = tmp_path / "raw" / "dm.csv"
    countries = ["Country", "Germany", "Deutschland", "", "usa", "Narnia", "XYZ", "CAN", "Germany"]
    dm_csv.write_text("\n".join(f"{line},{c}" for line, c in zip(dm_csv.read_text().splitlines(), countries)) + "\n")
    config = load_study_config(path)
    study = map_study(config, read_study_raw(config), data_cutoff="2021-12-31")
    dm = study.datasets["DM"]
    assert dm["COUNTRY"].tolist() == ["DEU", "DEUTSCHLAND", "USA", "USA", "NARNIA", "XYZ", "CAN"]
    bad = study.findings[(study.findings.rule == "TP0009") & (study.findings.variable == "COUNTRY")]
    assert bad["value"].tolist() == ["DEUTSCHLAND", "NARNIA", "XYZ"] and set(bad.severity) == {"error"}


def _with_future_ae(tmp_path):
    path = write_minimal_study(tmp_path)
    ae = tmp_path / "raw" / "ae.csv"
    ae.write_text(ae.read_text() + "002,3,rash,Rash,10037844,Skin disorders,10040785,2099-01-01,,N,N,N,N,MILD,No,"
                                   "Recovered\n")
    config = load_study_config(path)
    return config, read_study_raw(config)


def test_future_dates_without_a_cutoff_use_the_build_date(tmp_path, monkeypatch):
    """No data cut-off: a collected date after the build's creation date (``created``, else
    SOURCE_DATE_EPOCH) is a finding. One finding per raw value: RFPENDTC, which takes the 2099
    date as subject 002's last date, does not report it again."""
    from datetime import datetime

    config, raw = _with_future_ae(tmp_path)
    study = map_study(config, raw, created=datetime(2026, 1, 15, 9, 0))
    late = study.findings[study.findings.rule == "TP0103"]
    assert late[["dataset", "variable", "file", "row", "value"]].values.tolist() == [
        ["AE", "AESTDTC", "raw/ae.csv", 9, "2099-01-01"]]
    assert late["message"].tolist() == ["AESTDTC is after the build date (no data cut-off given) 2026-01-15"]
    assert one(study.datasets["DM"], "002", "RFPENDTC") == "2099-01-01"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1609459200")  # 2021-01-01: the minimal study's 2021 dates too
    late = map_study(config, raw).findings.query("rule == 'TP0103'")
    assert late["message"].str.endswith("2021-01-01").all() and len(late) == late[["file", "row", "variable"]] \
        .drop_duplicates().shape[0] and ("raw/ae.csv", 9) in set(zip(late["file"], late["row"]))
    assert set(late["variable"]) == {"AESTDTC", "AEENDTC", "RFICDTC", "EXSTDTC", "EXENDTC", "DSSTDTC"}


def test_future_dates_after_the_data_cutoff(tmp_path):
    config, raw = _with_future_ae(tmp_path)
    late = map_study(config, raw, data_cutoff="2021-12-31").findings.query("rule == 'TP0103'")
    assert late[["variable", "row", "message"]].values.tolist() == [
        ["AESTDTC", 9, "AESTDTC is after the data cut-off 2021-12-31"]]


LONG_TERM = " ".join(f"word{i:02d}" for i in range(64)) + " " + "x" * 10   # 64 x 6 + 63 + 11 = 458 characters


def words(first: int, last: int) -> str:
    return " ".join(f"word{i:02d}" for i in range(first, last))


def test_long_aeterm_continues_in_suppae(tmp_path):
    """SDTMIG §4.5.3.2: the first 200 characters, cut between words, stay in AETERM; each further
    piece of up to 200 is a SUPPAE record, QNAM AETERM1, AETERM2, QLABEL AETERM's label, IDVAR AESEQ.
    28 six-letter words and their spaces fill 195 characters; a 29th would make 202."""
    from datetime import datetime

    from specs.checks import check
    from trialpack.writing import write_package_datasets

    path = write_minimal_study(tmp_path)
    ae = tmp_path / "raw" / "ae.csv"
    ae.write_text(ae.read_text() + f"002,3,{LONG_TERM},Rash,10037844,Skin disorders,10040785,2021-03-16,,N,N,N,N,"
                                   "MILD,No,Recovered\n")
    config = load_study_config(path)
    study = map_study(config, read_study_raw(config), data_cutoff="2021-12-31")
    assert len(LONG_TERM) == 458 and len(words(0, 28)) == 195
    s2 = by_subject(study.datasets["AE"], "002").set_index("AETERM")
    seq = str(int(s2.loc[words(0, 28), "AESEQ"]))
    supp = study.datasets["SUPPAE"]
    assert supp[["USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QLABEL", "QORIG", "QVAL"]].values.tolist() == [
        ["MINI-01-01-002", "AESEQ", seq, "AETERM1", "Reported Term for the Adverse Event", "CRF", words(28, 56)],
        ["MINI-01-01-002", "AESEQ", seq, "AETERM2", "Reported Term for the Adverse Event", "CRF",
         words(56, 64) + " " + "x" * 10]]
    assert " ".join([words(0, 28), *supp["QVAL"]]) == LONG_TERM      # nothing lost: the pieces join with a space
    assert check(supp, study.spec.dataset("SUPPAE"), study.spec).query("severity == 'error'").empty
    vlm = study.spec.value_levels("SUPPAE", "QVAL")
    assert [(v.where_clause, v.label, v.origin_type) for v in vlm] == [
        ("WC.SUPPAE.QNAM.AETERM1", "Reported Term for the Adverse Event", "Collected"),
        ("WC.SUPPAE.QNAM.AETERM2", "Reported Term for the Adverse Event", "Collected")]
    assert vlm[0].origin_pages == study.spec.dataset("AE").variable("AETERM").origin_pages is not None
    written = write_package_datasets(study.spec, study.datasets, tmp_path / "out", formats=("xpt",),
                                     created=datetime(2026, 1, 15), study_oid=study.spec.study.oid)
    assert tmp_path / "out" / "suppae.xpt" in written


@pytest.mark.parametrize("values, pieces", [
    (["a" * 450], [["a" * 200], ["a" * 200], ["a" * 50]]),                  # no space within reach: cut at 200
    (["short", None], [["short", None]]),
    ([("ab " * 70).strip()], [[("ab " * 67).strip()], [("ab " * 3).strip()]]),   # 67 x 3 - 1 = 200
])
def test_split_between_words(values, pieces):
    from sdtm.supp import split_between_words, suffixed_qnam

    got = [p.tolist() for p in split_between_words(pd.Series(values, dtype=object))]
    assert [[None if v is None or v != v else v for v in p] for p in got] == pieces
    assert (suffixed_qnam("AETERM", 1), suffixed_qnam("AEACNOTH", 2)) == ("AETERM1", "AEACNOT2")


def test_long_text_without_a_supp_continuation_is_bad_input(tmp_path):
    """A DS verbatim term over 200 characters: no SUPPDS in the spec to continue it -> refused,
    naming the raw file, row and column (not a failure of the XPT writer naming ds.xpt)."""
    path = write_minimal_study(tmp_path)
    ds = tmp_path / "raw" / "ds.csv"
    verbatim = ["Verbatim", "done", "Withdrew: " + "x" * 199, "", "", ""]
    ds.write_text("\n".join(f"{line},{v}" for line, v in zip(ds.read_text().splitlines(), verbatim)) + "\n")
    cfg = json.loads(path.read_text())
    cfg["raw"]["files"]["DS"]["columns"]["DSTERM"] = "Verbatim"
    path.write_text(json.dumps(cfg))
    config = load_study_config(path)
    with pytest.raises(InputError) as err:
        map_study(config, read_study_raw(config), data_cutoff="2021-12-31")
    assert (err.value.file, err.value.row, err.value.column) == ("raw/ds.csv", 3, "DSTERM")
    assert "209 characters" in str(err.value)


def test_long_supplemental_qualifier_continues_under_numbered_qnams(tmp_path):
    """A non-standard variable over 200 characters (SDTMIG §4.5.3.2): the first piece keeps its
    QNAM without suffix (FITZPAT), the rest goes to FITZPAT1 with the same QLABEL; DM parent: no IDVAR."""
    path = write_minimal_study(tmp_path)
    dm = tmp_path / "raw" / "dm.csv"
    dm.write_text(dm.read_text().replace("20 FEB 2021,A,II", f"20 FEB 2021,A,{words(0, 30)}"))  # and its duplicate
    config = load_study_config(path)
    study = map_study(config, read_study_raw(config), data_cutoff="2021-12-31")
    supp = study.datasets["SUPPDM"]
    assert supp[["USUBJID", "QNAM", "QLABEL", "QVAL"]].values.tolist() == [
        ["MINI-01-01-001", "FITZPAT", "Fitzpatrick Skin Type", words(0, 28)],
        ["MINI-01-01-001", "FITZPAT1", "Fitzpatrick Skin Type", words(28, 30)],
        ["MINI-01-01-003", "FITZPAT", "Fitzpatrick Skin Type", "III"]]
    assert supp["IDVAR"].isna().all()
    assert [v.where_clause for v in study.spec.value_levels("SUPPDM", "QVAL")] == [
        "WC.SUPPDM.QNAM.FITZPAT", "WC.SUPPDM.QNAM.FITZPAT1"]


def test_sas7bdat_datetimes_keep_their_time():
    """A real SAS7BDAT file (tests/data/README.md says how it was made): a DATETIME20. value keeps
    its time (2021-02-20 09:30 -> 2021-02-20T09:30:00), a midnight one reads as its date (as an
    XLSX date cell does), DATE9. values read as dates, and the ISO parser takes them on."""
    from pathlib import Path

    from fileformats.rawio import read_raw
    from sdtm.dates import parse_raw_dates

    table = read_raw(Path(__file__).parent / "data" / "ae_datetimes.sas7bdat",
                     {"SUBJID": "subjid", "AESTDAT": "AESTDTM", "AEENDAT": "AEENDAT", "EXDOSE": "GRAMS"})
    frame = table.frame.astype(object).where(table.frame.notna(), None)
    assert frame[["_RAWROW", "SUBJID", "AESTDAT", "AEENDAT", "EXDOSE"]].values.tolist() == [
        [2, "001", "2021-02-20T09:30:00", "2021-02-21", "2.5"],
        [3, "002", "2021-03-01", None, "3.0"],
        [4, "003", None, "2021-03-12", None]]
    iso, problems = parse_raw_dates(table.frame["AESTDAT"], ["YYYY-MM-DD[THH:MI:SS]"])
    assert problems.empty and iso.tolist()[:2] == ["2021-02-20T09:30:00", "2021-03-01"]


def test_unbalanced_reconciliation_is_an_error(study):
    """A raw file whose rows read differ from mapped + rejected is an error finding (TP0110) naming
    the file; the minimal study balances, so it has none."""
    from sdtm.common import reconciliation_findings

    assert study.findings.query("rule == 'TP0110'").empty
    rec = study.reconciliation.copy()
    rec.loc[rec["domain"] == "AE", ["rows_mapped", "balanced"]] = [5, False]   # one AE record lost
    found = reconciliation_findings(rec)
    assert found[["rule", "severity", "dataset", "file", "value", "message"]].values.tolist() == [
        ["TP0110", "error", "AE", "raw/ae.csv", 7,
         "7 rows read but 5 mapped + 1 rejected = 6: the difference is in no dataset and no rejection"]]


# A variant of the minimal study for the rules its main data do not reach ----------------------------
#
# Added to tests/minimal_study.py's data:
#   DM  an "Age" column, taken as collected (001: 9 although born 15 MAR 2012 -> 8 at consent;
#       002: "ten", not a number); subject 008 with no arm and no disposition; a randomisation
#       date (RANDDAT): 001 and 004 01 MAR 2021, 002 2021-03-10, 005 "30 FEB 2021" (not a date).
#   AE  001: rash starting 28 MAR 2021 (last day of period 1), rash on 29 MAR (first dose of
#       period 2), cough on 05 JUL (after the last dose 30 JUN: FOLLOW-UP); 002: fatal sepsis
#       ending 19 MAR; an "Other specify" column feeding SUPPAE QNAM AESOSP (001's cellulitis).
#       005: nausea starting "2021-03", ended 04 MAR, and again "2021-03" ended 06 MAR (first dose
#       05 MAR 2021).
#   DS  006 died on 02 APR 2021 (its last dose was 31 MAR).


def add_column(path, header: str, values: dict[int, str]) -> None:
    """Append a column to a CSV: ``values`` by raw row (header = row 1), blank elsewhere."""
    lines = path.read_text().splitlines()
    path.write_text("\n".join([f"{lines[0]},{header}"] + [f"{line},{values.get(row, '')}"
                                                          for row, line in enumerate(lines[1:], start=2)]) + "\n")


def variant_study(folder, rfendtc: str):
    path = write_minimal_study(folder)
    raw = folder / "raw"
    with open(raw / "dm.csv", "a") as f:
        f.write("008,01,02 FEB 2009,F,WHITE,NOT HISPANIC OR LATINO,01 MAR 2021,,\n")
    add_column(raw / "dm.csv", "Age", {2: "9", 3: "ten", 9: "9"})         # row 9 duplicates row 2
    add_column(raw / "dm.csv", "Randomised on", {2: "01 MAR 2021", 9: "01 MAR 2021", 3: "2021-03-10",
                                                 5: "01 MAR 2021", 6: "30 FEB 2021"})
    with open(raw / "ae.csv", "a") as f:
        for line in ("001,5,rash,Rash,10037844,Skin disorders,10040785,28 MAR 2021,,N,N,N,N,MILD,No,Recovered",
                     "001,6,rash,Rash,10037844,Skin disorders,10040785,29 MAR 2021,,N,N,N,N,MILD,No,Recovered",
                     "001,7,cough,Cough,10011224,Respiratory disorders,10038738,05 JUL 2021,,N,N,N,N,MILD,No,"
                     "Recovered",
                     "002,3,sepsis,Sepsis,10040047,Infections and infestations,10021881,2021-03-16,2021-03-19,"
                     "N,Y,N,Y,SEVERE,No,Fatal",
                     "005,1,nausea,Nausea,10028813,Gastrointestinal disorders,10017947,UN MAR 2021,04 MAR 2021,"
                     "N,N,N,N,MILD,No,Recovered",
                     "005,2,nausea,Nausea,10028813,Gastrointestinal disorders,10017947,UN MAR 2021,06 MAR 2021,"
                     "N,N,N,N,MILD,No,Recovered"):
            f.write(line + "\n")
    add_column(raw / "ae.csv", "Other specify", {4: "needed intravenous antibiotics"})   # row 4: cellulitis
    with open(raw / "ds.csv", "a") as f:
        f.write("006,Died,02 APR 2021,DB\n")
    cfg = json.loads(path.read_text())
    cfg["age"] = "collected"
    cfg["raw"]["files"]["DM"]["columns"]["AGE"] = "Age"
    cfg["raw"]["files"]["DM"]["columns"]["RANDDAT"] = "Randomised on"
    cfg["raw"]["files"]["AE"]["columns"]["AESOSP"] = "Other specify"
    cfg["supplemental"]["AE"] = [{"qnam": "AESOSP", "qlabel": "Other Medically Important, Specify",
                                  "field": "AESOSP"}]
    cfg["value_maps"]["AEOUT"]["Fatal"] = "FATAL"
    cfg["value_maps"]["DSDECOD"]["Died"] = "DEATH"
    cfg["reference_dates"] = {"rfendtc": rfendtc}
    path.write_text(json.dumps(cfg))
    config = load_study_config(path)
    return map_study(config, read_study_raw(config), data_cutoff="2021-12-31")


@pytest.fixture(scope="module")
def variant(tmp_path_factory):
    return variant_study(tmp_path_factory.mktemp("variant"), "last_exposure")


def test_epoch_on_the_last_day_of_a_period_the_first_day_of_the_next_and_after_the_last_dose(variant):
    s1 = by_subject(variant.datasets["AE"], "001").set_index("AESPID")
    assert s1.loc["5", ["AESTDTC", "EPOCH", "AESTDY"]].tolist() == ["2021-03-28", "BLINDED TREATMENT", 28]
    assert s1.loc["6", ["AESTDTC", "EPOCH", "AESTDY"]].tolist() == ["2021-03-29", "OPEN LABEL TREATMENT", 29]
    assert s1.loc["7", ["AESTDTC", "EPOCH", "AESTDY"]].tolist() == ["2021-07-05", "FOLLOW-UP", 127]


def test_protocol_milestones_from_the_demographics_dates(study):
    """Every DM subject's consent date (RFICDAT) is a DS INFORMED CONSENT OBTAINED milestone, in
    SCREENING, traced to its demographics row; no RANDOMIZED record without a RANDDAT field; the
    disposition export still reconciles (5 rows read, 5 mapped)."""
    ds = study.datasets["DS"]
    consent = ds[ds["DSDECOD"] == "INFORMED CONSENT OBTAINED"]
    dm = study.datasets["DM"]
    assert consent[["USUBJID", "DSSTDTC"]].values.tolist() == dm[["USUBJID", "RFICDTC"]].values.tolist()
    assert set(consent["DSCAT"]) == {"PROTOCOL MILESTONE"} and set(consent["EPOCH"]) == {"SCREENING"}
    assert set(consent["DSTERM"]) == {"INFORMED CONSENT OBTAINED"} and "RANDOMIZED" not in set(ds["DSDECOD"])
    assert one(ds[ds["DSCAT"] == "DISPOSITION EVENT"], "003", "DSDECOD") == "SCREEN FAILURE"
    rec = study.reconciliation.set_index("domain")
    assert rec.loc["DS", ["rows_read", "rows_mapped", "balanced"]].tolist() == [5, 5, True]
    lineage = study.lineage[(study.lineage["dataset"] == "DS") & (study.lineage["file"] == "raw/dm.csv")]
    assert sorted(lineage["row"].tolist()) == [2, 3, 4, 5, 6, 7, 8]   # the 7 subjects' demographics rows


def test_randomized_milestones_from_the_randomisation_date(variant):
    """RANDDAT -> DS RANDOMIZED (PROTOCOL MILESTONE) for 001, 002 and 004 (randomised, never treated:
    SCREENING); 005's "30 FEB 2021" is no date: no record, an error at its raw row naming DSSTDTC."""
    ds = variant.datasets["DS"]
    rand = ds[ds["DSDECOD"] == "RANDOMIZED"]
    assert rand[["USUBJID", "DSSTDTC", "DSCAT", "EPOCH"]].values.tolist() == [
        ["MINI-01-01-001", "2021-03-01", "PROTOCOL MILESTONE", "BLINDED TREATMENT"],
        ["MINI-01-01-002", "2021-03-10", "PROTOCOL MILESTONE", "BLINDED TREATMENT"],
        ["MINI-01-01-004", "2021-03-01", "PROTOCOL MILESTONE", "SCREENING"]]
    bad = variant.findings[(variant.findings["rule"] == "TP0102") & (variant.findings["file"] == "raw/dm.csv")]
    assert bad[["dataset", "variable", "row", "value"]].values.tolist() == [["DS", "DSSTDTC", 6, "30 FEB 2021"]]
    # RFENDTC of 004 is still its withdrawal: a milestone does not end participation
    assert one(variant.datasets["DM"], "004", "RFENDTC") == "2021-03-03"


def test_a_randomisation_date_in_a_study_that_does_not_randomise_is_refused(tmp_path):
    path = write_minimal_study(tmp_path)
    cfg = json.loads(path.read_text())
    cfg["randomized"] = False
    cfg["raw"]["files"]["DM"]["columns"]["RANDDAT"] = "Consent"
    path.write_text(json.dumps(cfg))
    with pytest.raises(InputError) as err:
        load_study_config(path)
    assert err.value.path == "$.raw.files.DM.columns.RANDDAT" and "randomized: false" in str(err.value)


@pytest.mark.parametrize("arms, given, randomized", [(2, None, True), (1, None, False), (1, True, True),
                                                     (2, False, False)])
def test_a_study_randomises_unless_it_says_not_or_has_one_arm(tmp_path, arms, given, randomized):
    path = write_minimal_study(tmp_path)
    cfg = json.loads(path.read_text())
    cfg["arms"] = cfg["arms"][:arms]
    if given is not None:
        cfg["randomized"] = given
    path.write_text(json.dumps(cfg))
    assert load_study_config(path).randomized is randomized


def test_epoch_of_a_partial_start_bounded_by_the_end_date(variant):
    """FDA FB2201: 005 (consent 01 MAR, first dose 05 MAR 2021): a nausea starting "2021-03" that
    ended on 04 MAR began 1..4 MAR, all SCREENING; one that ended on 06 MAR may have begun in
    SCREENING or BLINDED TREATMENT: null."""
    s5 = by_subject(variant.datasets["AE"], "005").set_index("AESPID")
    assert s5.loc["1", ["AESTDTC", "AEENDTC", "EPOCH"]].tolist() == ["2021-03", "2021-03-04", "SCREENING"]
    assert s5.loc["2", ["AESTDTC", "AEENDTC"]].tolist() == ["2021-03", "2021-03-06"]
    assert pd.isna(s5.loc["2", "EPOCH"])


def test_bounded_start_ignores_an_end_before_the_start():
    from sdtm.epoch import latest_start
    from specs.iso8601 import date_bounds, date_fields

    low, high = date_bounds(date_fields(pd.Series(["2021-03", "2021-03", "2021-03", "2021"])))
    ended = pd.Series(["2021-03-04", "2021-02-27", None, "2021-05"])
    days = pd.to_datetime(latest_start(low, high, ended), unit="D").strftime("%Y-%m-%d").tolist()
    assert days == ["2021-03-04", "2021-03-31", "2021-03-31", "2021-05-31"]


def test_armnrs_not_assigned(variant):
    dm = variant.datasets["DM"]
    assert (one(dm, "008", "ARMCD"), one(dm, "008", "ACTARMCD"), one(dm, "008", "ARMNRS")) == \
        (None, None, "NOT ASSIGNED")                       # no arm and no screen-failure disposition
    assert one(dm, "003", "ARMNRS") == "SCREEN FAILURE"
    assert one(dm, "008", "RFENDTC") is None and one(dm, "008", "RFPENDTC") == "2021-03-01"  # unassigned: null


def test_death_flag_and_date_from_disposition_or_fatal_event(variant):
    dm = variant.datasets["DM"]
    assert (one(dm, "006", "DTHFL"), one(dm, "006", "DTHDTC")) == ("Y", "2021-04-02")   # DS DEATH
    assert (one(dm, "002", "DTHFL"), one(dm, "002", "DTHDTC")) == ("Y", "2021-03-19")   # AE outcome FATAL: its end
    assert dm.loc[~dm["USUBJID"].str.endswith(("002", "006")), "DTHFL"].isna().all()   # null, never "N"


@pytest.mark.parametrize("rule, rfendtc_006", [("last_exposure", "2021-03-31"), ("end_of_participation", "2021-04-02")])
def test_rfendtc_rules(variant, tmp_path, rule, rfendtc_006):
    """006's last dose is 31 MAR 2021 and it died on 02 APR: RFENDTC by the config's rule;
    RFXENDTC and RFPENDTC do not depend on it."""
    study = variant if rule == "last_exposure" else variant_study(tmp_path, rule)
    dm = study.datasets["DM"]
    assert one(dm, "006", "RFENDTC") == rfendtc_006
    assert (one(dm, "006", "RFXENDTC"), one(dm, "006", "RFPENDTC")) == ("2021-03-31", "2021-04-02")
    assert one(dm, "001", "RFPENDTC") == "2021-07-05"       # the cough after the last dose is the last record


def test_age_taken_as_collected(variant):
    dm = variant.datasets["DM"]
    assert (one(dm, "001", "AGE"), one(dm, "001", "AGEU")) == (9, "YEARS")   # collected 9, not derived 8
    assert (one(dm, "002", "AGE"), one(dm, "002", "AGEU")) == (None, None)   # "ten": null with a finding
    bad = variant.findings[variant.findings.rule == "TP0109"]
    assert bad[["file", "row", "variable", "value"]].values.tolist() == [["raw/dm.csv", 3, "AGE", "ten"]]
    assert variant.findings.query("rule in ('TP0106', 'TP0108')").empty    # nothing derived from birth dates


def test_suppae_links_to_its_record_by_aeseq(variant):
    """001's AEs by AESEQ: complete start dates first (02-25, 03-01, 03-28, 03-29, 07-05), then the
    partial ones (2021-03 headache, 2021-04 cellulitis): the cellulitis is AESEQ 7."""
    ae = by_subject(variant.datasets["AE"], "001")
    assert ae.sort_values("AESEQ")["AETERM"].tolist() == [
        "runny nose", "itchy skin at site", "rash", "rash", "cough", "headache", "cellulitis leg"]
    supp = variant.datasets["SUPPAE"]
    assert supp[["RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QLABEL", "QVAL", "QORIG"]].values.tolist() == [
        ["AE", "MINI-01-01-001", "AESEQ", "7", "AESOSP", "Other Medically Important, Specify",
         "needed intravenous antibiotics", "CRF"]]


def test_earliest_and_latest_dates_per_subject_by_the_days_they_denote():
    """RFXSTDTC/RFXENDTC pick per subject the value denoting the earliest (latest) day a partial
    date can denote; equal days: the smallest (largest) text; RFPENDTC the last known date (a
    partial date later only when its earliest day is); nulls and dates without a year are never
    picked."""
    from sdtm.dm import _extreme

    frame = pd.DataFrame({"USUBJID": ["A", "A", "A", "B", "B", "C", "A", "B"],
                          "DTC": ["2021-03", "2021-03-15", "2021", "2021-05-01", "2021-05-01T08:00", None,
                                  "--03-01", "2021-04"]}).astype("str")
    frame.loc[5, "DTC"] = None
    first = _extreme(frame, "DTC", "first")
    last = _extreme(frame, "DTC", "last")
    known = _extreme(frame, "DTC", "last_known")
    # A: 2021 -> Jan 1..Dec 31, 2021-03 -> Mar 1..31, 2021-03-15 -> Mar 15; B: Apr 1..30 and May 1 (twice)
    assert first.to_dict() == {"A": "2021", "B": "2021-04"}
    assert last.to_dict() == {"A": "2021", "B": "2021-05-01T08:00"}
    # last known (RFPENDTC): A's 2021-03-15 — neither "2021" nor "2021-03" must be later (they may
    # mean January, March 1st); B: 2021-05-01 twice (the time the larger text), "2021-04" is earlier
    assert known.to_dict() == {"A": "2021-03-15", "B": "2021-05-01T08:00"}
    assert "C" not in first.index


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("ABC"),
                          st.sampled_from(["2021", "2021-02", "2021-02-28", "2021-02-28T10:00", "2020-12-31",
                                           "2021-01", None, "--02-01"])), max_size=12),
       st.sampled_from(["first", "last", "last_known"]))
def test_extreme_is_a_sort_by_subject_day_and_text(records, which):
    from sdtm.dm import _extreme
    from specs.iso8601 import date_bounds, date_fields

    frame = pd.DataFrame(records, columns=["USUBJID", "DTC"], dtype=object)
    if not len(frame):
        assert _extreme(frame, "DTC", which).empty
        return
    low, high = date_bounds(date_fields(frame["DTC"]))
    ranked = frame.assign(low=low, high=high, minus_high=-high).dropna(subset=["low"])
    keys = {"first": ["USUBJID", "low", "DTC"], "last": ["USUBJID", "high", "DTC"],
            "last_known": ["USUBJID", "low", "minus_high", "DTC"]}[which]
    ranked = ranked.sort_values(keys, kind="mergesort")
    expected = ranked.groupby("USUBJID").head(1) if which == "first" else ranked.groupby("USUBJID").tail(1)
    assert _extreme(frame, "DTC", which).to_dict() == dict(zip(expected["USUBJID"], expected["DTC"]))


@pytest.mark.parametrize("dates, latest", [
    (["2023", "2023-09-04"], "2023-09-04"),        # TPZ-AD-304 402013: AEENDTC "2023", DS 2023-09-04
    (["2023-09", "2023-09-04"], "2023-09-04"),     # September may be the 1st
    (["2023-10", "2023-09-04"], "2023-10"),        # every day of October is after 09-04
    (["2024", "2023-12-31"], "2024"),
    (["2023", "2023-01", "2023-01-01"], "2023-01-01"),   # same earliest day: the most precise
])
def test_the_latest_date_is_later_only_when_it_must_be(dates, latest):
    from sdtm.dm import _extreme

    frame = pd.DataFrame({"USUBJID": "S", "DTC": dates})
    assert _extreme(frame, "DTC", "last_known").to_dict() == {"S": latest}
    assert _extreme(frame.iloc[::-1], "DTC", "last_known").to_dict() == {"S": latest}


_DAYS = st.dates(min_value=pd.Timestamp("2022-11-01").date(), max_value=pd.Timestamp("2024-02-28").date())
_DTC = st.one_of(_DAYS.map(lambda d: d.isoformat()), _DAYS.map(lambda d: d.isoformat()[:7]),
                 _DAYS.map(lambda d: d.isoformat()[:4]))


@settings(max_examples=300, deadline=None)
@given(st.lists(_DTC, min_size=1, max_size=8))
def test_rfpendtc_never_prefers_a_partial_date_that_may_be_earlier(dates):
    """RFPENDTC's order: no candidate's earliest possible day is after the chosen one's; a complete
    date on or after the chosen value's earliest day is never passed over for a partial one."""
    from sdtm.dm import derive_rfpendtc
    from specs.iso8601 import date_bounds, date_fields

    dm = pd.DataFrame({"USUBJID": ["S"], "RFICDTC": [None]})
    picked = derive_rfpendtc(dm, [pd.DataFrame({"USUBJID": "S", "AEENDTC": dates}), None]).iloc[0]
    assert picked in dates
    low, _ = date_bounds(date_fields(pd.Series(dates)))
    (picked_low,), _ = date_bounds(date_fields(pd.Series([picked])))
    assert low.max() == picked_low                       # nothing can be later than the chosen date
    complete_days = {d: (pd.Timestamp(d) - pd.Timestamp("1970-01-01")).days for d in dates if len(d) == 10}
    if picked_low in complete_days.values():             # a complete date as late: that one, not a partial
        assert len(picked) == 10


# ----------------------------------------------------------------- numbers per distinct value

_NUMBER_TEXTS = st.one_of(st.none(), st.sampled_from(["", " ", "x", "1e400", "-0", "  7 ", "0x10", "1,000", "nan"]),
                          st.integers(-10**6, 10**6).map(str),
                          st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr))


@settings(max_examples=150, deadline=None)
@given(st.lists(_NUMBER_TEXTS, max_size=30), st.sampled_from(["str", object]))
def test_numbers_converted_per_distinct_value_equal_to_numeric(values, dtype):
    """sdtm.common.to_numbers is pd.to_numeric(errors="coerce"): the same values, NaN and dtype,
    on the column's own index, whatever mix of codes, blanks, junk and nulls it holds."""
    from sdtm.common import to_numbers

    column = pd.Series(values, dtype=dtype, index=pd.RangeIndex(100, 100 + len(values)), name="AEPTCD")
    expected = pd.to_numeric(column, errors="coerce")
    got = to_numbers(column)
    pd.testing.assert_series_equal(got, expected)


_RAW_TEXT = st.one_of(st.none(), st.text(alphabet=st.sampled_from(list("AZaz09 ~-/") + ["\t", "\n", "\x1b", "\x7f",
                                                                                   "é", "µ", "\u2019"]),
                                         max_size=6))


@settings(max_examples=200, deadline=None)
@given(st.lists(_RAW_TEXT, max_size=25), st.integers(0, 5), st.sampled_from(["str", object]))
def test_printable_bytes_never_pass_a_value_the_character_check_refuses(values, skip, dtype):
    """The one-pass byte check of raw text (sdtm.common.printable_ascii_bytes) says True only
    when no value holds a character outside space..tilde, on whole and sliced columns."""
    from sdtm.common import printable_ascii_bytes

    column = pd.Series(values, dtype=dtype).iloc[skip:]
    clean = all(" " <= ch <= "~" for v in column.tolist() if isinstance(v, str) for ch in v)
    if printable_ascii_bytes(column):
        assert clean
    elif dtype == "str" and clean:
        pytest.fail("clean Arrow text judged unprintable")   # no false alarm without bytes under nulls


def test_two_digit_years_read_with_the_configs_year_cutoff(tmp_path):
    """raw.year_cutoff (SAS YEARCUTOFF=) makes a YY date format usable: with 1940, '31.03.21' is
    2021-03-31; without it, the format is refused naming the key to give."""
    path = write_minimal_study(tmp_path)
    ds = tmp_path / "raw" / "ds.csv"
    ds.write_text(ds.read_text().replace("005,Completed,31 MAR 2021,DB", "005,Completed,31.03.21,DB"))
    cfg = json.loads(path.read_text())
    cfg["raw"]["date_formats"].append("DD.MM.YY")
    path.write_text(json.dumps(cfg))
    config = load_study_config(path)
    with pytest.raises(InputError, match="raw.year_cutoff"):
        map_study(config, read_study_raw(config), data_cutoff="2021-12-31")
    cfg["raw"]["year_cutoff"] = 1940
    path.write_text(json.dumps(cfg))
    config = load_study_config(path)
    study = map_study(config, read_study_raw(config), data_cutoff="2021-12-31")
    ds = study.datasets["DS"]
    assert one(ds[ds["DSCAT"] == "DISPOSITION EVENT"], "005", "DSSTDTC") == "2021-03-31"
