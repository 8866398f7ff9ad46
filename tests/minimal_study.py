"""A tiny hand-written study (raw CSVs + config) whose SDTM is worked out by hand in the tests.

Subjects (site 01, consent dates in the DM export):
  001  randomised VEH-TPZ15, vehicle 2021-03-01..2021-03-28 (period 1), cream 1.5%
       2021-03-29..2021-06-30 (period 2): RFXSTDTC 2021-03-01, RFXENDTC 2021-06-30
  002  randomised TPZ15-TPZ15, cream from 2021-03-10, discontinued in period 1 (2021-03-20)
  003  screen failure: no arm, DS SCREEN FAILURE, no EX
  004  randomised VEH-TPZ15, never treated (no EX)
  005  randomised VEH-TPZ15 but received cream 1.5% in period 1: actual arm TPZ15-TPZ15
  006  randomised TPZ15-TPZ15, received vehicle in period 1 only: actual arm VEH-TPZ15
  007  randomised TPZ15-TPZ15, received vehicle in period 2 only: no arm starts so ->
       ARMNRS UNPLANNED TREATMENT, ACTARMUD "RECEIVED: NONE > VEH"
"""
from __future__ import annotations

import json
from pathlib import Path

CONFIG = {
    "studyid": "MINI-01",
    "title": "Minimal study",
    "protocol": "MINI-01",
    "phase": "PHASE III TRIAL",
    "raw": {
        "dir": "raw",
        "date_formats": ["DD MON YYYY", "YYYY-MM-DD"],
        "unknown_date_tokens": ["UN", "UNK"],
        "files": {
            "DM": {"path": "dm.csv", "columns": {
                "SUBJID": "Subject", "SITEID": "Site", "BRTHDAT": "Birth date", "SEX": "Sex", "RACE": "Race",
                "ETHNIC": "Ethnicity", "RFICDAT": "Consent", "ARM": "Randomised to", "FITZ": "Fitzpatrick"}},
            "AE": {"path": "ae.csv", "columns": {
                "SUBJID": "Subject", "AESPID": "Line", "AETERM": "Term", "AEDECOD": "PT", "AEPTCD": "PT code",
                "AEBODSYS": "SOC", "AEBDSYCD": "SOC code", "AESTDAT": "Start", "AEENDAT": "End",
                "AEONGO": "Ongoing", "AESER": "Serious", "AESHOSP": "Hosp", "AESLIFE": "Life",
                "AESEV": "Severity", "AEREL": "Related", "AEOUT": "Outcome"}},
            "EX": {"path": "ex.csv", "columns": {
                "SUBJID": "Subject", "EXTRT": "Product", "PERIOD": "Period", "EXSTDAT": "From", "EXENDAT": "To",
                "EXDOSE": "Grams"}},
            "DS": {"path": "ds.csv", "columns": {
                "SUBJID": "Subject", "DSDECOD": "Status", "DSSTDAT": "Date", "PERIOD": "Period"}},
        },
    },
    "sites": {"01": {"country": "USA"}},
    "treatments": {
        "VEH": {"extrt": "VEHICLE CREAM", "strength": 0, "strength_unit": "%", "active": False},
        "TPZ15": {"extrt": "TOPAZITINIB CREAM 1.5%", "strength": 1.5, "strength_unit": "%"},
    },
    "periods": [
        {"number": 1, "name": "Vehicle-controlled", "epoch": "BLINDED TREATMENT", "raw": ["DB"]},
        {"number": 2, "name": "Long-term extension", "epoch": "OPEN LABEL TREATMENT", "raw": ["OLE"]},
    ],
    "arms": [
        {"armcd": "VEH-TPZ15", "arm": "Vehicle, then Topazitinib 1.5%", "raw": ["A"], "treatments": ["VEH", "TPZ15"]},
        {"armcd": "TPZ15-TPZ15", "arm": "Topazitinib 1.5%", "raw": ["B"], "treatments": ["TPZ15", "TPZ15"]},
    ],
    "exposure": {"dose_unit": "g", "dose_form": "CREAM", "route": "TOPICAL", "frequency": "BID"},
    "value_maps": {
        "SEX": {"Female": "F", "Male": "M"},
        "RACE": {"Caucasian": "WHITE"},
        "AEREL": {"No": "NOT RELATED", "Yes": "RELATED"},
        "AEOUT": {"Recovered": "RECOVERED/RESOLVED", "Not recovered": "NOT RECOVERED/NOT RESOLVED"},
        "DSDECOD": {"Completed": "COMPLETED", "Screen failure": "SCREEN FAILURE", "Withdrew": "WITHDRAWAL BY SUBJECT"},
    },
    "supplemental": {"DM": [{"qnam": "FITZPAT", "qlabel": "Fitzpatrick Skin Type", "field": "FITZ"}]},
}

DM_CSV = """Subject,Site,Birth date,Sex,Race,Ethnicity,Consent,Randomised to,Fitzpatrick
001,01,15 MAR 2012,Female,Caucasian,NOT HISPANIC OR LATINO,20 FEB 2021,A,II
002,01,UN JUN 2010,m ,white,not hispanic or latino,2021-03-01,B,
003,01,01 JAN 2015,F,ASIAN,NOT HISPANIC OR LATINO,01 MAR 2021,,III
004,01,UN UNK 2011,M,WHITE,NOT HISPANIC OR LATINO,01 MAR 2021,A,
005,01,02 FEB 2009,F,WHITE,NOT HISPANIC OR LATINO,01 MAR 2021,A,
006,01,02 FEB 2009,F,WHITE,NOT HISPANIC OR LATINO,01 MAR 2021,b,
007,01,02 FEB 2009,F,WHITE,NOT HISPANIC OR LATINO,01 MAR 2021,B ,
001,01,15 MAR 2012,Female,Caucasian,NOT HISPANIC OR LATINO,20 FEB 2021,A,II
"""

EX_CSV = """Subject,Product,Period,From,To,Grams
001,veh,DB,01 MAR 2021,28 MAR 2021,2.5
001,TPZ15,OLE,29 MAR 2021,30 JUN 2021,3
002,TPZ15,DB,10 MAR 2021,20 MAR 2021,1.5
005,TPZ15,DB,05 MAR 2021,2021-03-31,2
002,TPZ15,DB,21 MAR 2021,22 MAR 2021,-1
999,TPZ15,DB,01 MAR 2021,02 MAR 2021,1
006,VEH,DB,05 MAR 2021,2021-03-31,2
007,VEH,OLE,05 MAR 2021,2021-03-31,2
002,TPZ15,DB,30 FEB 2021,2021-03-31,2
"""

AE_CSV = """Subject,Line,Term,PT,PT code,SOC,SOC code,Start,End,Ongoing,Serious,Hosp,Life,Severity,Related,Outcome
001,1,runny nose,Rhinorrhoea,10039101,"Respiratory, thoracic and mediastinal disorders",10038738,25 FEB 2021,26 FEB 2021,N,N,N,N,mild,No,Recovered
001,2,itchy skin at site,Application site pruritus,10003053,General disorders and administration site conditions,10018065,01 MAR 2021,UN MAR 2021,N,N,N,N,MILD,Yes,Recovered
001,3,cellulitis leg,Cellulitis,10007882,Infections and infestations,10021881,UN APR 2021,,Y,Y,Y,N,SEVERE,No,Not recovered
001,4,headache,Headache,10019211,Nervous system disorders,10029205,UN MAR 2021,30 MAR 2021,N,Y,N,N,MODERATE,No,Recovered
002,1,fever,Pyrexia,10037660,General disorders and administration site conditions,10018065,2021-03-09,2021-03-12,N,N,N,N,MILD,No,Recovered
002,2,,,,,,2021-03-15,,N,N,N,N,MILD,No,Recovered
999,1,cough,Cough,10011224,"Respiratory, thoracic and mediastinal disorders",10038738,2021-03-15,,N,N,N,N,MILD,No,Recovered
"""

DS_CSV = """Subject,Status,Date,Period
001,Completed,30 JUN 2021,OLE
002,Withdrew,20 MAR 2021,DB
003,Screen failure,05 MAR 2021,
004,Withdrew,03 MAR 2021,DB
005,Completed,31 MAR 2021,DB
"""


def write_minimal_study(folder: Path) -> Path:
    """Write the raw CSVs and the config into ``folder``; return the config path."""
    raw = folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name, body in (("dm.csv", DM_CSV), ("ex.csv", EX_CSV), ("ae.csv", AE_CSV), ("ds.csv", DS_CSV)):
        (raw / name).write_text(body, encoding="utf-8")
    path = folder / "mini-01.json"
    path.write_text(json.dumps(CONFIG, indent=1), encoding="utf-8")
    return path


ISS_CONFIG = {
    "id": "MINI-ISS",
    "title": "Minimal integration",
    "studies": ["mini-01.json"],
    "creation_datetime": "2026-01-15T09:00:00",
    "data_cutoff": "2021-12-31",
    "groups": [
        {"label": "Cream 1.5%", "number": 1, "treatments": ["TOPAZITINIB CREAM 1.5%"]},
        {"label": "Vehicle", "number": 2, "treatments": ["VEHICLE CREAM"], "control": True},
        {"label": "All cream", "number": 3, "pools": ["Cream 1.5%"]},
    ],
    "comparisons": [{"treatment": "Cream 1.5%", "control": "Vehicle"}],
    "teae": {"window_days": 30, "missing_start": "emergent"},
    "age_groups": [{"label": "2-<12 years", "number": 1, "lower": 2, "upper": 12},
                   {"label": "12-17 years", "number": 2, "lower": 12, "upper": 17, "upper_inclusive": True}],
    "related_terms": ["RELATED"],
    "events": [
        {"paramcd": "TTEANY", "name": "Any TEAE"},
        {"paramcd": "TTESER", "name": "Serious TEAE", "serious": True},
        {"paramcd": "TTESINF", "name": "Serious infections", "cq": 1, "soc": ["Infections and infestations"],
         "serious": True},
    ],
}


def write_minimal_iss(folder: Path) -> Path:
    """The minimal study plus an ISS config pooling it; returns the ISS config path."""
    write_minimal_study(folder)
    path = folder / "iss.json"
    path.write_text(json.dumps(ISS_CONFIG, indent=1), encoding="utf-8")
    return path
