"""Writes the SDTM of study PLX-201 (raw/plx-201/dm.xpt, ae.xpt, ex.xpt, ds.xpt) as a CRO
would hand it over: SAS XPORT version 5, one dataset per file, written with pyreadstat.

Run from anywhere:  python raw/make_sdtm.py
The records are typed below by hand (they are the study's data; nothing is generated at
random), so every run writes the same records; only the creation timestamp in each file's
XPORT header changes.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pyreadstat

OUT = Path(__file__).resolve().parent / "plx-201"
STUDYID = "PLX-201"

# --- DM: one record per subject -------------------------------------------------------------
# (SUBJID, SITEID, AGE, SEX, RACE, ETHNIC, ARMCD, ARM, ACTARMCD, ACTARM, ARMNRS, RFICDTC, COUNTRY)
PBO, PLX = ("PBO", "Placebo"), ("PLX50", "Pelorixan 50 mg BID")
DM_ROWS = [
    ("001", "01", 54, "F", "WHITE", "NOT HISPANIC OR LATINO", *PBO, *PBO, "", "2021-01-20", "USA"),
    ("002", "01", 61, "M", "WHITE", "HISPANIC OR LATINO", *PBO, *PBO, "", "2021-01-25", "USA"),
    ("003", "01", 47, "F", "BLACK OR AFRICAN AMERICAN", "NOT HISPANIC OR LATINO", *PLX, *PLX, "", "2021-02-03", "USA"),
    # randomised to placebo, dispensed a pelorixan 50 mg kit for the whole study (kit error)
    ("004", "01", 58, "M", "ASIAN", "NOT HISPANIC OR LATINO", *PBO, *PLX, "", "2021-02-17", "USA"),
    ("001", "02", 39, "F", "WHITE", "NOT HISPANIC OR LATINO", *PLX, *PLX, "", "2021-02-24", "CAN"),
    ("002", "02", 66, "M", "WHITE", "NOT HISPANIC OR LATINO", *PBO, *PBO, "", "2021-03-02", "CAN"),
    ("003", "02", 52, "F", "ASIAN", "NOT HISPANIC OR LATINO", *PLX, *PLX, "", "2021-03-10", "CAN"),
    ("004", "02", 70, "M", "WHITE", "NOT HISPANIC OR LATINO", *PLX, *PLX, "", "2021-03-22", "CAN"),
    # screen failure: no arm (SDTMIG 3.4: ARMCD/ARM null, ARMNRS says why), never dosed
    ("005", "02", 44, "F", "WHITE", "NOT HISPANIC OR LATINO", "", "", "", "", "SCREEN FAILURE", "2021-03-25", "CAN"),
]

# --- EX: one record per dispensed bottle (21 days of capsules, 50 mg twice daily) ------------
# (site, subject, EXTRT, EXDOSE, EXSTDTC, EXENDTC)
EX_ROWS = [
    ("01", "001", "PLACEBO", 0, "2021-02-01T08:15", "2021-02-21"),
    ("01", "001", "PLACEBO", 0, "2021-02-22", "2021-03-14"),
    ("01", "002", "PLACEBO", 0, "2021-02-08T09:00", "2021-02-28"),
    ("01", "002", "PLACEBO", 0, "2021-03-01", "2021-03-21"),
    ("01", "003", "PELORIXAN", 50, "2021-02-15T08:40", "2021-03-07"),
    ("01", "003", "PELORIXAN", 50, "2021-03-08", "2021-03-28"),
    ("01", "004", "PELORIXAN", 50, "2021-03-01T10:05", "2021-03-21"),
    ("01", "004", "PELORIXAN", 50, "2021-03-22", "2021-04-11"),
    ("02", "001", "PELORIXAN", 50, "2021-03-08T08:30", "2021-03-28"),
    ("02", "002", "PLACEBO", 0, "2021-03-15T07:55", "2021-04-04"),
    ("02", "002", "PLACEBO", 0, "2021-04-05", "2021-04-25"),
    ("02", "003", "PELORIXAN", 50, "2021-03-22T08:10", "2021-04-11"),
    ("02", "003", "PELORIXAN", 50, "2021-04-12", "2021-05-02"),
    ("02", "004", "PELORIXAN", 50, "2021-04-05T09:20", "2021-04-25"),
    ("02", "004", "PELORIXAN", 50, "2021-04-26", "2021-05-16"),
]

# --- AE ---------------------------------------------------------------------------------------
# (site, subject, AETERM, AEDECOD, AEBODSYS, AESER, AESEV, AEREL, AEOUT, AEACN, AESTDTC, AEENDTC)
NERV, GI, INF, SKIN, IMM = ("Nervous system disorders", "Gastrointestinal disorders", "Infections and infestations",
                           "Skin and subcutaneous tissue disorders", "Immune system disorders")
AE_ROWS = [
    ("01", "001", "HEADACHE", "Headache", NERV, "N", "MILD", "NOT RELATED", "RECOVERED/RESOLVED",
     "DOSE NOT CHANGED", "2021-02-10", "2021-02-11"),
    ("01", "002", "HAY FEVER", "Seasonal allergy", IMM, "N", "MILD", "NOT RELATED", "NOT RECOVERED/NOT RESOLVED",
     "DOSE NOT CHANGED", "2021-01-28", ""),
    ("01", "003", "NAUSEA AFTER EVENING DOSE", "Nausea", GI, "N", "MILD", "POSSIBLY RELATED", "RECOVERED/RESOLVED",
     "DOSE NOT CHANGED", "2021-02-16T19:30", "2021-02-17"),
    ("01", "003", "DYSPEPSIA", "Dyspepsia", GI, "N", "MILD", "POSSIBLY RELATED", "RECOVERED/RESOLVED",
     "DOSE NOT CHANGED", "2021-03-05", "2021-03-09"),
    ("01", "004", "DIZZY", "Dizziness", NERV, "N", "MODERATE", "POSSIBLY RELATED", "RECOVERED/RESOLVED",
     "DOSE NOT CHANGED", "2021-03-20", "2021-03-21"),
    ("02", "001", "RASH ON TRUNK", "Rash", SKIN, "N", "MODERATE", "RELATED", "RECOVERED/RESOLVED",
     "DRUG WITHDRAWN", "2021-03-25", "2021-04-08"),
    ("02", "002", "COMMON COLD", "Upper respiratory tract infection", INF, "N", "MILD", "NOT RELATED",
     "RECOVERED/RESOLVED", "NOT APPLICABLE", "2021-05-20", "2021-05-27"),
    ("02", "004", "HEADACHE", "Headache", NERV, "N", "MILD", "NOT RELATED", "RECOVERED/RESOLVED",
     "NOT APPLICABLE", "2021-06-20", "2021-06-21"),
]

# --- DS: disposition events, and informed consent as a protocol milestone ----------------------
# (site, subject, DSTERM, DSDECOD, DSCAT, EPOCH, DSSTDTC)
DS_ROWS = []
for subj, site, *_rest in DM_ROWS:
    consent = _rest[-2]
    DS_ROWS.append((site, subj, "INFORMED CONSENT OBTAINED", "INFORMED CONSENT OBTAINED", "PROTOCOL MILESTONE",
                    "SCREENING", consent))
DS_ROWS += [
    ("01", "001", "COMPLETED", "COMPLETED", "DISPOSITION EVENT", "TREATMENT", "2021-03-14"),
    ("01", "002", "COMPLETED", "COMPLETED", "DISPOSITION EVENT", "TREATMENT", "2021-03-21"),
    ("01", "003", "COMPLETED", "COMPLETED", "DISPOSITION EVENT", "TREATMENT", "2021-03-28"),
    ("01", "004", "COMPLETED", "COMPLETED", "DISPOSITION EVENT", "TREATMENT", "2021-04-11"),
    ("02", "001", "RASH - STUDY DRUG STOPPED", "ADVERSE EVENT", "DISPOSITION EVENT", "FOLLOW-UP", "2021-03-29"),
    ("02", "002", "COMPLETED FOLLOW-UP", "COMPLETED", "DISPOSITION EVENT", "FOLLOW-UP", "2021-05-23"),
    ("02", "003", "COMPLETED", "COMPLETED", "DISPOSITION EVENT", "TREATMENT", "2021-05-02"),
    ("02", "004", "COMPLETED FOLLOW-UP", "COMPLETED", "DISPOSITION EVENT", "FOLLOW-UP", "2021-06-20"),
    ("02", "005", "DID NOT MEET INCLUSION CRITERION 4", "SCREEN FAILURE", "DISPOSITION EVENT", "SCREENING",
     "2021-04-01"),
]


def usubjid(site: str, subj: str) -> str:
    return f"{STUDYID}-{site}-{subj}"


def day(dtc: str) -> date | None:
    return date.fromisoformat(dtc[:10]) if len(dtc) >= 10 else None


def study_day(dtc: str, ref: str) -> float:
    """SDTMIG --DY: date - RFSTDTC + 1 on or after it, date - RFSTDTC before it (no day 0)."""
    d, r = day(dtc), day(ref) if ref else None
    if d is None or r is None:
        return float("nan")
    delta = (d - r).days
    return float(delta + 1 if delta >= 0 else delta)


def seq(frame: pd.DataFrame, by: list[str], name: str) -> pd.DataFrame:
    frame = frame.sort_values(["USUBJID", *by], kind="mergesort").reset_index(drop=True)
    frame[name] = (frame.groupby("USUBJID").cumcount() + 1).astype(float)
    return frame


def epoch(usub: str, dtc: str, first: dict, last: dict) -> str:
    d = day(dtc)
    if d is None or usub not in first:
        return ""
    if d < day(first[usub]):
        return "SCREENING"
    return "TREATMENT" if d <= day(last[usub]) else "FOLLOW-UP"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    ex = pd.DataFrame([{"STUDYID": STUDYID, "DOMAIN": "EX", "USUBJID": usubjid(site, subj), "EXTRT": trt,
                        "EXDOSE": float(dose), "EXDOSU": "mg", "EXDOSFRM": "CAPSULE", "EXDOSFRQ": "BID",
                        "EXROUTE": "ORAL", "EPOCH": "TREATMENT", "EXSTDTC": st, "EXENDTC": en}
                       for site, subj, trt, dose, st, en in EX_ROWS])
    ex = seq(ex, ["EXSTDTC"], "EXSEQ")
    first = ex.groupby("USUBJID")["EXSTDTC"].min().to_dict()
    last = ex.groupby("USUBJID")["EXENDTC"].max().to_dict()

    ds = pd.DataFrame([{"STUDYID": STUDYID, "DOMAIN": "DS", "USUBJID": usubjid(site, subj), "DSTERM": term,
                        "DSDECOD": decod, "DSCAT": cat, "EPOCH": ep, "DSSTDTC": dtc}
                       for site, subj, term, decod, cat, ep, dtc in DS_ROWS])
    ds = seq(ds, ["DSSTDTC"], "DSSEQ")
    end_of_study = ds[ds["DSCAT"] == "DISPOSITION EVENT"].groupby("USUBJID")["DSSTDTC"].max().to_dict()

    dm_records = []
    for subj, site, age, sex, race, ethnic, armcd, arm, actcd, act, armnrs, consent, country in DM_ROWS:
        u = usubjid(site, subj)
        rfst = first.get(u, "")
        dm_records.append({
            "STUDYID": STUDYID, "DOMAIN": "DM", "USUBJID": u, "SUBJID": subj,
            "RFSTDTC": rfst, "RFENDTC": end_of_study.get(u, "") if rfst else "",
            "RFXSTDTC": rfst, "RFXENDTC": last.get(u, ""), "RFICDTC": consent,
            "RFPENDTC": end_of_study.get(u, ""), "DTHDTC": "", "DTHFL": "", "SITEID": site,
            "AGE": float(age), "AGEU": "YEARS", "SEX": sex, "RACE": race, "ETHNIC": ethnic,
            "ARMCD": armcd, "ARM": arm, "ACTARMCD": actcd, "ACTARM": act, "ARMNRS": armnrs,
            "ACTARMUD": "", "COUNTRY": country})
    dm = pd.DataFrame(dm_records)
    rfstdtc = dm.set_index("USUBJID")["RFSTDTC"].to_dict()

    ex["EXSTDY"] = [study_day(v, rfstdtc[u]) for u, v in zip(ex["USUBJID"], ex["EXSTDTC"])]
    ex["EXENDY"] = [study_day(v, rfstdtc[u]) for u, v in zip(ex["USUBJID"], ex["EXENDTC"])]
    ex = ex[["STUDYID", "DOMAIN", "USUBJID", "EXSEQ", "EXTRT", "EXDOSE", "EXDOSU", "EXDOSFRM", "EXDOSFRQ",
             "EXROUTE", "EPOCH", "EXSTDTC", "EXENDTC", "EXSTDY", "EXENDY"]]

    ae = pd.DataFrame([{"STUDYID": STUDYID, "DOMAIN": "AE", "USUBJID": usubjid(site, subj), "AETERM": term,
                        "AEDECOD": decod, "AEBODSYS": soc, "AESER": ser, "AESEV": sev, "AEREL": rel,
                        "AEOUT": out, "AEACN": acn, "AESTDTC": st, "AEENDTC": en}
                       for site, subj, term, decod, soc, ser, sev, rel, out, acn, st, en in AE_ROWS])
    ae = seq(ae, ["AESTDTC", "AEDECOD"], "AESEQ")
    ae["EPOCH"] = [epoch(u, v, first, last) for u, v in zip(ae["USUBJID"], ae["AESTDTC"])]
    ae["AESTDY"] = [study_day(v, rfstdtc[u]) for u, v in zip(ae["USUBJID"], ae["AESTDTC"])]
    ae["AEENDY"] = [study_day(v, rfstdtc[u]) for u, v in zip(ae["USUBJID"], ae["AEENDTC"])]
    ae = ae[["STUDYID", "DOMAIN", "USUBJID", "AESEQ", "AETERM", "AEDECOD", "AEBODSYS", "AESEV", "AESER",
             "AEACN", "AEREL", "AEOUT", "EPOCH", "AESTDTC", "AEENDTC", "AESTDY", "AEENDY"]]

    ds["DSSTDY"] = [study_day(v, rfstdtc[u]) for u, v in zip(ds["USUBJID"], ds["DSSTDTC"])]
    ds = ds[["STUDYID", "DOMAIN", "USUBJID", "DSSEQ", "DSTERM", "DSDECOD", "DSCAT", "EPOCH", "DSSTDTC", "DSSTDY"]]

    labels = {
        "STUDYID": "Study Identifier", "DOMAIN": "Domain Abbreviation", "USUBJID": "Unique Subject Identifier",
        "SUBJID": "Subject Identifier for the Study", "RFSTDTC": "Subject Reference Start Date/Time",
        "RFENDTC": "Subject Reference End Date/Time", "RFXSTDTC": "Date/Time of First Study Treatment",
        "RFXENDTC": "Date/Time of Last Study Treatment", "RFICDTC": "Date/Time of Informed Consent",
        "RFPENDTC": "Date/Time of End of Participation", "DTHDTC": "Date/Time of Death",
        "DTHFL": "Subject Death Flag", "SITEID": "Study Site Identifier", "AGE": "Age", "AGEU": "Age Units",
        "SEX": "Sex", "RACE": "Race", "ETHNIC": "Ethnicity", "ARMCD": "Planned Arm Code",
        "ARM": "Description of Planned Arm", "ACTARMCD": "Actual Arm Code", "ACTARM": "Description of Actual Arm",
        "ARMNRS": "Reason Arm and/or Actual Arm is Null", "ACTARMUD": "Description of Unplanned Actual Arm",
        "COUNTRY": "Country", "EXSEQ": "Sequence Number", "EXTRT": "Name of Treatment", "EXDOSE": "Dose",
        "EXDOSU": "Dose Units", "EXDOSFRM": "Dose Form", "EXDOSFRQ": "Dosing Frequency per Interval",
        "EXROUTE": "Route of Administration", "EPOCH": "Epoch", "EXSTDTC": "Start Date/Time of Treatment",
        "EXENDTC": "End Date/Time of Treatment", "EXSTDY": "Study Day of Start of Treatment",
        "EXENDY": "Study Day of End of Treatment", "AESEQ": "Sequence Number",
        "AETERM": "Reported Term for the Adverse Event", "AEDECOD": "Dictionary-Derived Term",
        "AEBODSYS": "Body System or Organ Class", "AESEV": "Severity/Intensity", "AESER": "Serious Event",
        "AEACN": "Action Taken with Study Treatment", "AEREL": "Causality", "AEOUT": "Outcome of Adverse Event",
        "AESTDTC": "Start Date/Time of Adverse Event", "AEENDTC": "End Date/Time of Adverse Event",
        "AESTDY": "Study Day of Start of Adverse Event", "AEENDY": "Study Day of End of Adverse Event",
        "DSSEQ": "Sequence Number", "DSTERM": "Reported Term for the Disposition Event",
        "DSDECOD": "Standardized Disposition Term", "DSCAT": "Category for Disposition Event",
        "DSSTDTC": "Start Date/Time of Disposition Event", "DSSTDY": "Study Day of Start of Disposition Event",
    }
    for name, frame, label in (("DM", dm, "Demographics"), ("EX", ex, "Exposure"), ("AE", ae, "Adverse Events"),
                               ("DS", ds, "Disposition")):
        pyreadstat.write_xport(frame, str(OUT / f"{name.lower()}.xpt"), file_label=label,
                               column_labels={c: labels[c] for c in frame.columns}, table_name=name,
                               file_format_version=5)
        print(f"{name}: {len(frame)} records -> {OUT / (name.lower() + '.xpt')}")


if __name__ == "__main__":
    main()
