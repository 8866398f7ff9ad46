"""Hand-made SDTM frames and a tiny ISS config for the ADaM derivation tests (tests/test_adam_*.py).

One study, S1, with two periods (1: epoch BLINDED TREATMENT, 2: epoch OPEN LABEL TREATMENT)
and three treatments; the ISS groups are

    Cream 0.75% (1)   TOPAZITINIB CREAM 0.75%
    Cream 1.5%  (2)   TOPAZITINIB CREAM 1.5%
    Vehicle     (3)   VEHICLE CREAM              (control)
    All cream   (4)   pools Cream 0.75% + Cream 1.5%

and the arms VEH-TPZ15 (vehicle, then cream 1.5%), TPZ15-TPZ15 (cream 1.5% in both periods),
TPZ075-TPZ15 (cream 0.75%, then cream 1.5%). Each test writes only the rows it needs; every
column the derivations read gets a neutral default here, so a row states just what matters.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd

from adam.build import ISSAnalysis, derive_adam, pool_sdtm
from adam.config import ISSConfig, load_iss_config

STUDY = "S1"
VEH, C075, C15 = "VEHICLE CREAM", "TOPAZITINIB CREAM 0.75%", "TOPAZITINIB CREAM 1.5%"
P1, P2 = "BLINDED TREATMENT", "OPEN LABEL TREATMENT"
ARMS = {
    "VEH-TPZ15": ("Vehicle, then Topazitinib 1.5%", ["VEH", "TPZ15"]),
    "TPZ15-TPZ15": ("Topazitinib 1.5%", ["TPZ15", "TPZ15"]),
    "TPZ075-TPZ15": ("Topazitinib 0.75%, then 1.5%", ["TPZ075", "TPZ15"]),
}

STUDY_CONFIG = {
    "studyid": STUDY,
    "title": "Hand-made study for the ADaM tests",
    "source": "sdtm",
    "treatments": {"VEH": {"extrt": VEH, "active": False}, "TPZ075": {"extrt": C075}, "TPZ15": {"extrt": C15}},
    "periods": [{"number": 1, "epoch": P1}, {"number": 2, "epoch": P2}],
    "arms": [{"armcd": code, "arm": arm, "treatments": trts} for code, (arm, trts) in ARMS.items()],
}

ISS = {
    "id": "T-ISS",
    "title": "ADaM test integration",
    "studies": ["s1.json"],
    "creation_datetime": "2026-01-15T09:00:00",
    "groups": [
        {"label": "Cream 0.75%", "number": 1, "treatments": [C075]},
        {"label": "Cream 1.5%", "number": 2, "treatments": [C15]},
        {"label": "Vehicle", "number": 3, "treatments": [VEH], "control": True},
        {"label": "All cream", "number": 4, "pools": ["Cream 0.75%", "Cream 1.5%"]},
    ],
    "teae": {"window_days": 30, "missing_start": "emergent"},
    "imputation": {"ae_start": {"highest": "M", "fill": "first", "min": ["TRTSDT"]},
                   "ae_end": {"highest": "M", "fill": "last", "max": ["DTHDT", "EOSDT"]}},
    "age_groups": [{"label": "2 to <6 years", "number": 1, "lower": 2, "upper": 6},
                   {"label": "6 to <12 years", "number": 2, "lower": 6, "upper": 12},
                   {"label": "12 to 17 years", "number": 3, "lower": 12, "upper": 17, "upper_inclusive": True}],
    "related_terms": ["RELATED", "POSSIBLY RELATED"],
    "events": [
        {"paramcd": "TTEANY", "name": "Any TEAE"},
        {"paramcd": "TTESER", "name": "Serious TEAE", "serious": True},
        {"paramcd": "TTESINF", "name": "Serious infections", "cq": 1, "soc": ["Infections and infestations"],
         "serious": True},
    ],
}


def usubjid(subject: str, study: str = STUDY) -> str:
    return f"{study}-{subject}"


def _changed(base: dict, changes: dict) -> dict:
    """``base`` with top-level keys replaced by ``changes`` (a value None removes the key)."""
    data = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def iss_config(folder: Path, *, study: dict | None = None, **changes) -> ISSConfig:
    """Write the study config (top-level keys replaced by ``study``) and the ISS config (top-level
    keys replaced by ``changes``; a value None removes the key) into ``folder`` and load them as
    the application does."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "s1.json").write_text(json.dumps(_changed(STUDY_CONFIG, study or {})), encoding="utf-8")
    data = _changed(ISS, changes)
    path = folder / "iss.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return load_iss_config(path)


def _frame(rows: list[dict], defaults: dict, seq: str | None, columns: list[str]) -> pd.DataFrame:
    records = [{**defaults, **row} for row in rows]
    frame = pd.DataFrame(records, columns=columns).astype(object)
    frame = frame.where(frame.notna(), None)
    for name in columns:
        if name in ("AGE", "EXDOSE") or name == seq:
            frame[name] = pd.to_numeric(frame[name]).astype("float64")
    if seq is not None and frame[seq].isna().any():
        # --SEQ by subject in row order where a test does not give it
        order = frame.groupby("USUBJID").cumcount() + 1
        frame[seq] = frame[seq].fillna(order.astype("float64"))
    return frame


DM_COLUMNS = ["STUDYID", "DOMAIN", "USUBJID", "SUBJID", "RFSTDTC", "RFENDTC", "RFXSTDTC", "RFXENDTC", "RFICDTC",
              "RFPENDTC", "DTHDTC", "DTHFL", "SITEID", "AGE", "AGEU", "SEX", "RACE", "ETHNIC", "ARMCD", "ARM",
              "ACTARMCD", "ACTARM", "COUNTRY"]


def dm(*rows: dict) -> pd.DataFrame:
    """DM rows: give ``subject`` (e.g. "001") and what matters; ARMCD sets ARM (and, unless given,
    ACTARMCD/ACTARM to the same arm); RFXSTDTC/RFXENDTC default to null."""
    out = []
    for row in rows:
        row = dict(row)
        subject = row.pop("subject")
        armcd = row.get("ARMCD")
        arm = ARMS[armcd][0] if armcd in ARMS else None
        base = {"STUDYID": row.get("STUDYID", STUDY), "DOMAIN": "DM",
                "USUBJID": usubjid(subject, row.get("STUDYID", STUDY)), "SUBJID": subject, "SITEID": "01",
                "RFICDTC": "2021-01-01", "AGE": 10, "AGEU": "YEARS", "SEX": "F", "RACE": "WHITE",
                "ETHNIC": "NOT HISPANIC OR LATINO", "ARM": arm, "ACTARMCD": armcd, "ACTARM": arm, "COUNTRY": "USA"}
        out.append({**base, **row})
    return _frame(out, {}, None, DM_COLUMNS)


EX_COLUMNS = ["STUDYID", "DOMAIN", "USUBJID", "EXSEQ", "EXTRT", "EXDOSE", "EXDOSU", "EXDOSFRM", "EXDOSFRQ",
              "EXROUTE", "EPOCH", "EXSTDTC", "EXENDTC"]


def ex(*rows: tuple) -> pd.DataFrame:
    """EX rows as (subject, EXTRT, EPOCH, EXSTDTC, EXENDTC[, EXDOSE[, EXDOSFRQ]]); 1 g BID by default."""
    out = []
    for row in rows:
        subject, extrt, epoch, start, end, *rest = row
        dose = rest[0] if rest else 1.0
        freq = rest[1] if len(rest) > 1 else "BID"
        out.append({"USUBJID": usubjid(subject), "EXTRT": extrt, "EPOCH": epoch, "EXSTDTC": start, "EXENDTC": end,
                    "EXDOSE": dose, "EXDOSFRQ": freq})
    defaults = {"STUDYID": STUDY, "DOMAIN": "EX", "EXSEQ": None, "EXDOSU": "g", "EXDOSFRM": "CREAM",
                "EXROUTE": "TOPICAL"}
    return _frame(out, defaults, "EXSEQ", EX_COLUMNS)


AE_COLUMNS = ["STUDYID", "DOMAIN", "USUBJID", "AESEQ", "AETERM", "AEDECOD", "AEBODSYS", "AESOC", "AESEV", "AESER",
              "AEREL", "AEOUT", "AESDTH", "AESTDTC", "AEENDTC"]


def ae(*rows: dict) -> pd.DataFrame:
    """AE rows: give ``subject``, and AESTDTC/AEENDTC, AESEQ, AEDECOD/AEBODSYS, AESER ... as needed."""
    out = []
    for row in rows:
        row = dict(row)
        subject = row.pop("subject")
        decod = row.get("AEDECOD", "Headache")
        base = {"USUBJID": usubjid(subject), "AETERM": decod, "AEDECOD": decod,
                "AEBODSYS": row.get("AEBODSYS", "Nervous system disorders")}
        base["AESOC"] = row.get("AEBODSYS", base["AEBODSYS"])
        out.append({**base, **row})
    defaults = {"STUDYID": STUDY, "DOMAIN": "AE", "AESEQ": None, "AESEV": "MILD", "AESER": "N",
                "AEREL": "NOT RELATED", "AEOUT": "RECOVERED/RESOLVED", "AESDTH": "N", "AESTDTC": None,
                "AEENDTC": None}
    return _frame(out, defaults, "AESEQ", AE_COLUMNS)


DS_COLUMNS = ["STUDYID", "DOMAIN", "USUBJID", "DSSEQ", "DSTERM", "DSDECOD", "DSCAT", "EPOCH", "DSSTDTC"]


def ds(*rows: tuple) -> pd.DataFrame:
    """DS rows as (subject, DSDECOD, DSSTDTC[, DSCAT]); DSCAT defaults to DISPOSITION EVENT."""
    out = []
    for row in rows:
        subject, decod, date, *rest = row
        out.append({"USUBJID": usubjid(subject), "DSTERM": decod, "DSDECOD": decod, "DSSTDTC": date,
                    "DSCAT": rest[0] if rest else "DISPOSITION EVENT"})
    defaults = {"STUDYID": STUDY, "DOMAIN": "DS", "DSSEQ": None, "EPOCH": None}
    return _frame(out, defaults, "DSSEQ", DS_COLUMNS)


def derive(folder: Path, *, dm_rows: pd.DataFrame, ex_rows: pd.DataFrame, ae_rows: pd.DataFrame | None = None,
           ds_rows: pd.DataFrame | None = None, study: dict | None = None, **config) -> ISSAnalysis:
    """``derive_adam`` over the one study's hand-made SDTM with the test ISS config (``config``
    replaces top-level keys of :data:`ISS`, ``study`` those of :data:`STUDY_CONFIG`)."""
    iss = iss_config(folder, study=study, **config)
    sdtm = {"DM": dm_rows, "EX": ex_rows, "AE": ae_rows if ae_rows is not None else ae()}
    if ds_rows is not None:
        sdtm["DS"] = ds_rows
    return derive_adam(pool_sdtm([sdtm]), iss)


def day(value) -> str | None:
    """A date cell (datetime64 or NaT) as 'YYYY-MM-DD', None when missing."""
    return None if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def days(series: pd.Series) -> list[str | None]:
    return [day(v) for v in series]


def text(series: pd.Series) -> list[str | None]:
    """Text cells as a list with None for every kind of missing value."""
    return [None if pd.isna(v) else v for v in series.astype(object)]


def row(frame: pd.DataFrame, **where) -> pd.Series:
    """The one row of ``frame`` matching every column=value in ``where``."""
    mask = np.ones(len(frame), dtype=bool)
    for name, value in where.items():
        mask &= (frame[name] == value).to_numpy()
    hits = frame[mask]
    assert len(hits) == 1, f"{len(hits)} rows match {where}"
    return hits.iloc[0]


def by_seq(adae: pd.DataFrame, subject: str) -> pd.DataFrame:
    """One subject's ADAE records indexed by AESEQ (int)."""
    out = adae[adae["USUBJID"] == usubjid(subject)]
    return out.set_index(out["AESEQ"].astype(int))


def in_group(frame: pd.DataFrame, **where) -> pd.DataFrame:
    """The records of ``frame`` (ADEX, ADAETTE) counted in group ``TRTA`` — its own records, or
    for a pooled group those whose TRTAGy names it (as the report reads them,
    :func:`report.tables.in_groups`) — matching every other column=value in ``where``."""
    from report.tables import in_groups

    frame = in_groups(frame)
    mask = np.ones(len(frame), dtype=bool)
    for name, value in where.items():
        mask &= (frame[name] == value).to_numpy()
    hits = frame[mask]
    assert len(hits), f"no records match {where}"
    return hits


def group_total(frame: pd.DataFrame, **where) -> float:
    """AVAL summed over a subject's records of a group and parameter (null when all are null)."""
    return in_group(frame, **where)["AVAL"].sum(min_count=1)


def group_tte(tte: pd.DataFrame, **where) -> pd.Series:
    """A subject's time to the first event of a group from its ADAETTE records of the group
    (one per treatment piece), as the report counts it (:func:`report.rates.counted_to_first_event`):
    the last counted record (the event's, or the last piece's) with STARTDT of the first and AVAL
    summed over the counted ones."""
    from report.rates import counted_to_first_event

    hits = in_group(tte, **where).sort_values("STARTDT", kind="mergesort")
    counted = hits[counted_to_first_event(hits)]
    out = counted.iloc[-1].copy()
    out["STARTDT"] = counted["STARTDT"].iloc[0]
    out["AVAL"] = counted["AVAL"].sum()
    return out
