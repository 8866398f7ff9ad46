"""The CDISC pilot (CDISCPILOT01) as a second study: ADSL, ADAE, ADEX from its SDTM with the pilot ISS
config (examples/cdiscpilot01), checked against the derivation methods of the pilot's ADaM define.xml
(../shared/data/cdiscpilot01/adam-spec/define.xml), quoted here:

  TRT01P   DM.ARM;  TRT01A  TRT01A=TRT01P;  TRT01PN/AN  numeric code for the randomized dose
  TRTSDT   SV.SVSTDTC when SV.VISITNUM=3, converted to SAS date
  TRTEDT   EX.EXENDTC on the subject's last EX record. If the date of final dose is missing for the
           subject and the subject discontinued after visit 3, use the date of discontinuation.
  TRTDUR   TRTEDT-TRTSDT+1
  AGEGR1N  1 if AGE <65. 2 if AGE 65-80. 3 if AGE >80
  ITTFL    Y if ARMCD ne ' '. N otherwise;  SAFFL  Y if ITTFL='Y' and TRTSDT ne missing. N otherwise
  EOSSTT   COMPLETED if DCDECOD='COMPLETED'. DISCONTINUED otherwise (DCDECOD: DS.DSDECOD where
           DSCAT='DISPOSITION EVENT')
  ASTDT    If the day component is missing, a value of '01' is used. If both the month and day are
           missing no imputation is performed
  TRTEMFL  If ASTDT >= TRTSDT > . then TRTEMFL='Y'. Otherwise TRTEMFL='N'
  AOCCFL   Subset to TRTEMFL='Y' and sort by USUBJID, ASTDT, AESEQ and flag the first record

Three kinds of check: whole-study re-derivations of those rules written here with pandas alone from
the pilot's SDTM XPT files; values of selected subjects worked out by hand from their SDTM rows; and
the subject counts the pilot's own report publishes.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import specs
from adam.adamspec import compose_adam_spec
from adam.build import derive_adam, pool_sdtm
from adam.config import load_iss_config
from fileformats.xpt import read_xpt
from sdtm.source import read_study_sdtm
from tests.conftest import PILOT_SDTM, ROOT

pytestmark = pytest.mark.skipif(not PILOT_SDTM.is_dir(), reason="../shared/data/cdiscpilot01/sdtm is not present")

PILOT_ISS = ROOT / "examples" / "cdiscpilot01" / "iss.json"


@pytest.fixture(scope="module")
def pilot():
    iss = load_iss_config(PILOT_ISS)
    return iss, derive_adam(pool_sdtm([read_study_sdtm(c) for c in iss.studies]), iss)


@pytest.fixture(scope="module")
def adsl(pilot):
    return pilot[1].datasets["ADSL"].set_index("USUBJID")


@pytest.fixture(scope="module")
def adae(pilot):
    return pilot[1].datasets["ADAE"]


def xpt(name: str) -> pd.DataFrame:
    """A pilot SDTM dataset as SAS wrote it, blank text read as missing."""
    df, _ = read_xpt(PILOT_SDTM / f"{name}.xpt")
    for col in df.columns:
        if not pd.api.types.is_numeric_dtype(df[col]):
            text = df[col].astype(object)
            df[col] = text.where(text.notna() & (text.astype(str).str.strip() != ""), None)
    return df


def date(values) -> pd.Series:
    return pd.to_datetime(pd.Series(values, dtype=object), format="%Y-%m-%d", errors="coerce")


# -- the pilot's rules, re-derived from SDTM -----------------------------------------------------


@pytest.fixture(scope="module")
def visit3() -> pd.Series:
    sv = xpt("sv")
    return date(sv.loc[sv["VISITNUM"] == 3, "SVSTDTC"]).set_axis(sv.loc[sv["VISITNUM"] == 3, "USUBJID"])


def test_adsl_has_the_254_randomised_subjects(adsl):
    dm = xpt("dm")
    assert len(adsl) == 254 == dm["ARMCD"].ne("Scrnfail").sum()
    assert (adsl["SAFFL"] == "Y").sum() == 254 and (adsl["ITTFL"] == "Y").sum() == 254


def test_first_exposure_is_the_visit_3_date_for_every_treated_subject(visit3, adsl):
    # The define derives TRTSDT from SV VISITNUM 3; trialpack takes the first EXSTDTC. In this SDTM the two
    # agree for every one of the 254 treated subjects, so the EX-based rule gives the pilot's TRTSDT.
    ex = xpt("ex")
    first = date(ex["EXSTDTC"]).groupby(ex["USUBJID"]).min()
    assert len(first) == 254 and visit3.index.is_unique
    assert first.equals(visit3.reindex(first.index))
    assert adsl["TRTSDT"].equals(visit3.reindex(adsl.index).astype(adsl["TRTSDT"].dtype).rename("TRTSDT"))


def test_last_exposure_by_the_pilot_rule(adsl):
    # EXENDTC of the last EX record; missing -> the discontinuation date (all six such subjects left
    # after visit 3, so the define's condition holds for each)
    ex, ds = xpt("ex"), xpt("ds")
    last = ex.sort_values(["USUBJID", "EXSTDTC", "EXSEQ"]).drop_duplicates("USUBJID", keep="last").set_index("USUBJID")
    disposition = ds[ds["DSCAT"] == "DISPOSITION EVENT"].set_index("USUBJID")
    missing = last.index[last["EXENDTC"].isna()]
    assert len(missing) == 6 and (disposition.loc[missing, "VISITNUM"] > 3).all()
    expected = date(last["EXENDTC"].fillna(disposition["DSSTDTC"].reindex(last.index))).set_axis(last.index)
    assert (adsl["TRTEDT"] == expected.reindex(adsl.index)).all()
    duration = (expected - date(ex["EXSTDTC"]).groupby(ex["USUBJID"]).min()).dt.days + 1
    assert (adsl["TRTDURD"] == duration.reindex(adsl.index)).all()
    assert set(adsl.loc[missing, "TRTEDTF"]) == {"Y"} and adsl.drop(missing)["TRTEDTF"].isna().all()


def test_age_groups_treatment_and_disposition_by_the_pilot_rules(adsl):
    dm = xpt("dm").set_index("USUBJID").loc[adsl.index]
    age = dm["AGE"]
    group = np.select([age < 65, age <= 80], [1, 2], 3)
    assert (adsl["AGEGR1N"] == group).all()
    assert (adsl["AGEGR1"] == pd.Series(group, index=adsl.index).map({1: "<65", 2: "65-80", 3: ">80"})).all()
    assert (adsl["TRT01P"] == dm["ARM"]).all() and (adsl["TRT01A"] == adsl["TRT01P"]).all()
    dose = {"Placebo": 0, "Xanomeline Low Dose": 54, "Xanomeline High Dose": 81}
    assert (adsl["TRT01PN"] == dm["ARM"].map(dose)).all() and (adsl["TRT01AN"] == adsl["TRT01PN"]).all()
    ds = xpt("ds")
    dcdecod = ds[ds["DSCAT"] == "DISPOSITION EVENT"].set_index("USUBJID")["DSDECOD"].reindex(adsl.index)
    assert (adsl["EOSSTT"] == np.where(dcdecod == "COMPLETED", "COMPLETED", "DISCONTINUED")).all()
    assert adsl["DCSREAS"].equals(dcdecod.where(dcdecod != "COMPLETED").rename("DCSREAS").astype(adsl["DCSREAS"].dtype))


@pytest.fixture(scope="module")
def pilot_teae(visit3) -> pd.DataFrame:
    """Every AE record with ASTDT and TRTEMFL by the pilot's rules, from SDTM AE and SV alone."""
    ae = xpt("ae")
    start = ae["AESTDTC"].astype(object)
    filled = start.where(start.str.len() != 7, start + "-01")   # a missing day is the 1st
    out = ae[["USUBJID", "AESEQ", "AEDECOD", "AEBODSYS", "AESTDTC"]].copy()
    out["ASTDT"] = date(filled).to_numpy()                      # a year alone stays missing
    out["TRTEMFL"] = np.where(out["ASTDT"] >= out["USUBJID"].map(visit3), "Y", "N")
    return out


def test_start_dates_and_emergence_of_every_ae_record(adae, pilot_teae):
    got = adae.merge(pilot_teae, on=["USUBJID", "AESEQ"], suffixes=("", "_PILOT"), validate="1:1")
    assert len(got) == len(pilot_teae) == 961
    assert ((got["ASTDT"] == got["ASTDT_PILOT"]) | (got["ASTDT"].isna() & got["ASTDT_PILOT"].isna())).all()
    assert (got["TRTEMFL"] == got["TRTEMFL_PILOT"]).all()
    assert (got.loc[got["AESTDTC"].str.len() == 7, "ASTDTF"] == "D").all()
    assert got.loc[got["AESTDTC"].str.len() != 7, "ASTDTF"].isna().all()


def test_subjects_with_a_teae_match_the_pilot_report(adae, pilot_teae):
    # CDISCPILOT01 report, Table 14-5.01 (incidence of TEAEs), "ANY BODY SYSTEM": Placebo 65 (75.6%),
    # Xanomeline High Dose 76 (90.5%) of 86 and 84 subjects; Low Dose re-derived from SDTM (77)
    per_arm = adae[adae["AOCCFL"] == "Y"].groupby("TRTA")["USUBJID"].nunique().to_dict()
    assert per_arm == {"Placebo": 65, "Xanomeline Low Dose": 77, "Xanomeline High Dose": 76}
    arm = xpt("dm").set_index("USUBJID")["ARM"]
    again = pilot_teae[pilot_teae["TRTEMFL"] == "Y"].groupby(pilot_teae["USUBJID"].map(arm))["USUBJID"].nunique()
    assert again.to_dict() == per_arm
    assert (adae["AOCCFL"] == "Y").sum() == sum(per_arm.values())   # one AOCCFL per subject with a TEAE


# -- selected subjects, by hand from their SDTM rows -----------------------------------------------

# 01-716-1418  DM: AGE 80, ARMCD Xan_Hi, ARM/ACTARM Xanomeline High Dose
#   EX  1  XANOMELINE  54 mg QD  2013-05-05 .. 2013-05-19   (15 days:  810 mg)
#   EX  2  XANOMELINE  81 mg QD  2013-05-20 .. 2013-11-06   (12 + 30 + 31 + 31 + 30 + 31 + 6 = 171 days: 13851 mg)
#   EX  3  XANOMELINE  54 mg QD  2013-11-07 .. 2013-11-20   (14 days:  756 mg)
#   DS  1  PROTOCOL COMPLETED / COMPLETED  DISPOSITION EVENT  2013-11-20
#   SV  VISITNUM 3  2013-05-05
#   AE  2 ERYTHEMA 2013-05-05 | 3 URTICARIA 2013-05-05..05-07 | 4 PRURITUS 2013-05-07
#       7 HEADACHE 2013-07..2013-09-26 | 8 VISION BLURRED 2013-07..2013-10-04 | 10 HEADACHE 2013-09-26..11-11
# 01-705-1303  DM: AGE 72, Xanomeline High Dose
#   EX  1  54 mg  2013-12-16 .. 2013-12-30;  EX 2  81 mg  2013-12-31 .. (EXENDTC missing)
#   DS  1  ADVERSE EVENT  DISPOSITION EVENT  VISITNUM 11  2014-06-02;  SV VISITNUM 3  2013-12-16
#   AE  2 RASH, 3 PRURITUS, 4 RASH, all 2014-02-05 .. 2014-03-03
# 01-701-1181  DM: AGE 79, ARM Xanomeline High Dose, ACTARM Xanomeline Low Dose
#   EX  1  54 mg  2013-12-05 .. 2013-12-09;  DS ADVERSE EVENT 2013-12-12;  AE 1 AGITATION 2013-12-09
# 01-701-1211  DM: AGE 76, Xanomeline Low Dose, DTHDTC 2013-01-14, DTHFL Y
#   EX  2012-11-15 .. 2012-11-28, 2012-11-29 .. 2013-01-12;  DS DEATH 2013-01-14
# 01-701-1148  DM: AGE 57, Xanomeline High Dose;  EX 2013-08-23 .. 2014-02-20;  SV VISITNUM 3 2013-08-23
#   AE  8 DYSPEPSIA 2012-02 | 9 DEPRESSED MOOD 2013-07-29 | 1 APPLICATION SITE ERYTHEMA 2013-08-25 |
#       2 APPLICATION SITE PRURITUS 2013-08-25 | 4 LOWER RESPIRATORY TRACT INFECTION 2013-10-12 |
#       5 FLANK PAIN 2013-12-15 | 6 CALCULUS URETHRAL 2013-12-17 | 7 EPISTAXIS 2014-01-03 |
#       10 ACTINIC KERATOSIS 2014-02-12
# 01-701-1363  DM: AGE 81, Placebo;  EX 2013-05-30 .. 2013-11-27;  AE 2, 4 HEADACHE AESTDTC "1986"

SUBJECT_VALUES = {
    "01-716-1418": {"TRTSDT": "2013-05-05", "TRTEDT": "2013-11-20", "TRTDURD": 200,   # 27+30+31+31+30+31+20
                    "AGEGR1": "65-80", "AGEGR1N": 2, "TRT01P": "Xanomeline High Dose", "TRT01PN": 81,
                    "TRT01A": "Xanomeline High Dose", "TRT01AN": 81, "SAFFL": "Y", "ITTFL": "Y",
                    "EOSSTT": "COMPLETED", "DCSREAS": None},
    "01-705-1303": {"TRTSDT": "2013-12-16", "TRTEDT": "2014-06-02", "TRTDURD": 169,   # 16+31+28+31+30+31+2
                    "AGEGR1": "65-80", "AGEGR1N": 2, "TRT01P": "Xanomeline High Dose", "TRT01PN": 81,
                    "TRT01A": "Xanomeline High Dose", "TRT01AN": 81, "SAFFL": "Y", "ITTFL": "Y",
                    "EOSSTT": "DISCONTINUED", "DCSREAS": "ADVERSE EVENT"},
    "01-701-1181": {"TRTSDT": "2013-12-05", "TRTEDT": "2013-12-09", "TRTDURD": 5,
                    "AGEGR1": "65-80", "AGEGR1N": 2, "TRT01P": "Xanomeline High Dose", "TRT01PN": 81,
                    "TRT01A": "Xanomeline High Dose", "TRT01AN": 81,   # the pilot: TRT01A = TRT01P, not ACTARM
                    "SAFFL": "Y", "ITTFL": "Y", "EOSSTT": "DISCONTINUED", "DCSREAS": "ADVERSE EVENT"},
    "01-701-1211": {"TRTSDT": "2012-11-15", "TRTEDT": "2013-01-12", "TRTDURD": 59,    # 16+31+12
                    "AGEGR1": "65-80", "AGEGR1N": 2, "TRT01P": "Xanomeline Low Dose", "TRT01PN": 54,
                    "TRT01A": "Xanomeline Low Dose", "TRT01AN": 54, "SAFFL": "Y", "ITTFL": "Y",
                    "EOSSTT": "DISCONTINUED", "DCSREAS": "DEATH", "DTHFL": "Y", "DTHDT": "2013-01-14"},
    "01-701-1148": {"TRTSDT": "2013-08-23", "TRTEDT": "2014-02-20", "TRTDURD": 182,   # 9+30+31+30+31+31+20
                    "AGEGR1": "<65", "AGEGR1N": 1, "EOSSTT": "COMPLETED"},
    "01-701-1363": {"TRTSDT": "2013-05-30", "TRTEDT": "2013-11-27", "AGEGR1": ">80", "AGEGR1N": 3,
                    "TRT01P": "Placebo", "TRT01PN": 0},
}


@pytest.mark.parametrize("usubjid", sorted(SUBJECT_VALUES))
def test_adsl_values_of_selected_subjects(adsl, usubjid):
    rec = adsl.loc[usubjid]
    got = {}
    for name in SUBJECT_VALUES[usubjid]:
        value = rec[name]
        if pd.api.types.is_datetime64_any_dtype(adsl[name]):
            value = None if pd.isna(value) else value.strftime("%Y-%m-%d")
        got[name] = None if (not isinstance(value, str) and pd.isna(value)) else value
    assert got == SUBJECT_VALUES[usubjid]


def test_last_dose_taken_from_the_discontinuation_date_is_flagged(adsl):
    # 01-705-1303: EXENDTC of the last EX record is missing -> DS 2014-06-02, the whole date imputed: "Y"
    assert adsl.loc["01-705-1303", "TRTEDTF"] == "Y"
    assert pd.isna(adsl.loc["01-716-1418", "TRTEDTF"])


def by_seq(adae, usubjid):
    recs = adae[adae["USUBJID"] == usubjid]
    return recs.set_index(recs["AESEQ"].astype(int))


def test_partially_dated_aes(adae):
    # 01-716-1418 AESTDTC "2013-07": day missing -> 2013-07-01, ASTDTF D; on treatment -> Y; day 58
    # (2013-05-05 is day 1: 27 more days in May, 30 in June -> 2013-07-01 is day 58)
    recs = by_seq(adae, "01-716-1418")
    for seq in (7, 8):
        r = recs.loc[seq]
        assert (r["ASTDT"].strftime("%Y-%m-%d"), r["ASTDTF"], r["TRTEMFL"], r["ASTDY"]) == ("2013-07-01", "D", "Y", 58)
    # 01-701-1148 AESTDTC "2012-02" -> 2012-02-01 (D), before TRTSDT 2013-08-23 -> N
    r = by_seq(adae, "01-701-1148").loc[8]
    assert (r["ASTDT"].strftime("%Y-%m-%d"), r["ASTDTF"], r["TRTEMFL"]) == ("2012-02-01", "D", "N")
    # 01-701-1363 AESTDTC "1986": month and day missing, not imputed -> no ASTDT, no flag, N
    recs = by_seq(adae, "01-701-1363")
    for seq in (2, 4):
        assert pd.isna(recs.loc[seq, "ASTDT"]) and pd.isna(recs.loc[seq, "ASTDTF"])
        assert recs.loc[seq, "TRTEMFL"] == "N"


@pytest.mark.parametrize("usubjid, emergent, aoccfl, aoccsfl, aoccpfl", [
    # 1418: all six on or after 2013-05-05; first: AESEQ 2 (05-05, ties 3 on date, lower AESEQ);
    # SOC firsts: skin 2, nervous 7 (07-01 before 10's 09-26), eye 8; PT firsts: every PT but the second HEADACHE
    ("01-716-1418", [2, 3, 4, 7, 8, 10], [2], [2, 7, 8], [2, 3, 4, 7, 8]),
    # 1303: three on 2014-02-05: AESEQ 2 first; one SOC (skin); PTs RASH (2 before 4) and PRURITUS (3)
    ("01-705-1303", [2, 3, 4], [2], [2], [2, 3]),
    # 1148: 8 (2012-02) and 9 (2013-07-29) precede 2013-08-23; 1 and 2 tie on 08-25 (AESEQ 1 first);
    # six SOCs, seven distinct PTs among the TEAEs
    ("01-701-1148", [1, 2, 4, 5, 6, 7, 10], [1], [1, 4, 5, 6, 7, 10], [1, 2, 4, 5, 6, 7, 10]),
])
def test_emergence_and_first_occurrence_of_selected_subjects(adae, usubjid, emergent, aoccfl, aoccsfl, aoccpfl):
    recs = by_seq(adae, usubjid)
    assert sorted(recs.index[recs["TRTEMFL"] == "Y"]) == emergent
    assert sorted(recs.index[recs["TRTEMFL"] == "N"]) == sorted(set(recs.index) - set(emergent))
    assert sorted(recs.index[recs["AOCCFL"] == "Y"]) == aoccfl
    assert sorted(recs.index[recs["AOCCSFL"] == "Y"]) == aoccsfl
    assert sorted(recs.index[recs["AOCCPFL"] == "Y"]) == aoccpfl


def test_dermatologic_events_query(adae):
    # the define's CQ01NAM: AEDECOD contains APPLICATION/DERMATITIS/ERYTHEMA/BLISTER, or the skin SOC but
    # not COLD SWEAT, HYPERHIDROSIS, ALOPECIA
    decod = adae["AEDECOD"].astype(str)
    expected = (decod.str.contains("APPLICATION|DERMATITIS|ERYTHEMA|BLISTER")
                | (adae["AEBODSYS"] == "SKIN AND SUBCUTANEOUS TISSUE DISORDERS")) \
        & ~decod.isin(["COLD SWEAT", "HYPERHIDROSIS", "ALOPECIA"])
    assert (adae["CQ01NAM"].notna() == expected).all()
    assert set(adae["CQ01NAM"].dropna()) == {"DERMATOLOGIC EVENTS"}
    recs = by_seq(adae, "01-716-1418")
    assert list(recs.loc[[2, 3, 4, 7], "CQ01NAM"].fillna("-")) == ["DERMATOLOGIC EVENTS"] * 3 + ["-"]


def test_total_dose_of_a_titrated_subject(pilot):
    # 01-716-1418: 810 + 13851 + 756 = 15417 mg over 200 days -> 77.085 mg/day
    adex = pilot[1].datasets["ADEX"]
    recs = adex[(adex["USUBJID"] == "01-716-1418") & (adex["TRTA"] == "Xanomeline High Dose")]
    got = recs.set_index("PARAMCD")["AVAL"].to_dict()
    assert got == pytest.approx({"TRTDURD": 200, "TRTDURY": 200 / 365.25, "TDOSE": 15417, "ADOSE": 77.085})
    assert recs.set_index("PARAMCD")["AVALU"].to_dict() == {"TRTDURD": "DAYS", "TRTDURY": "YEARS", "TDOSE": "mg",
                                                           "ADOSE": "mg/day"}


@pytest.mark.parametrize("name", ["ADSL", "ADAE", "ADEX"])
def test_no_error_level_findings(pilot, name):
    iss, analysis = pilot
    spec = compose_adam_spec(iss)
    found = specs.check(analysis.datasets[name], spec.dataset(name), spec)
    assert found[found["severity"] == "error"].empty, found.head(10).to_string()
    built = analysis.findings
    assert built[(built["severity"] == "error") & (built["dataset"] == name)].empty


def test_pilot_adam_package_define_is_valid_and_cross_checks_clean(pilot, tmp_path):
    """The pilot's ADaM package as the build writes it: its define.xml is XSD-valid, follows the
    Define-XML rules, agrees with the XPT files beside it, and cites its ADRG, which is there."""
    from lxml import etree

    import define
    from define._xml import DEF
    from trialpack.commands import define_findings
    from trialpack.writing import write_package_datasets

    iss, analysis = pilot
    write_package_datasets(analysis.spec, analysis.datasets, tmp_path, formats=("xpt",), created=iss.created(),
                           study_oid=analysis.spec.study.oid)
    path = tmp_path / "define.xml"
    assert define.validate_define(path).empty
    found = define_findings(path)
    assert found.empty, found.head(10).to_string()
    refs = etree.parse(str(path)).xpath("//def:SupplementalDoc/def:DocumentRef/@leafID", namespaces={"def": DEF})
    assert refs == ["LF.adrg"] and (tmp_path / "adrg.pdf").read_bytes().startswith(b"%PDF-1.4")
