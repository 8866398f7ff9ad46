"""DM — Demographics (SDTMIG v3.4 §5.2): one record per subject.

The raw demographics export gives the subjects; reference dates, death, age and the actual
arm are derived afterwards from EX, DS and AE, each by one function below. Rules are
quoted from SDTMIG v3.4 (standards.md §3.4) in each docstring.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from fileformats.rawio import RAW_FILE, RAW_ROW
from sdtm.algorithms import apply_value_map
from sdtm.common import Ledger, map_values, numbers, raw_dates, refuse_rows, text
from sdtm.config import StudyConfig
from specs.columns import is_in
from specs.iso8601 import date_fields, date_bounds, to_epoch_days

DOMAIN = "DM"


def map_subjects(raw: pd.DataFrame, config: StudyConfig, ledger: Ledger, codelists: dict[str, list[str]]) -> pd.DataFrame:
    """Raw demographics -> one record per subject with the collected DM variables.

    Rows without the identifiers the subject's USUBJID is built from (SUBJID, and SITEID
    where the template uses it) are rejected: the subject cannot be identified, nor its AE,
    EX and DS records linked to it. Exact duplicate rows of the export are rejected
    ("duplicate of row N"); two different rows for one subject are bad input (which one is
    right cannot be decided).
    """
    raw = _reject_blank_identifiers(raw, config, ledger)
    raw = _reject_exact_duplicates(raw, ledger)
    dm = pd.DataFrame(index=raw.index)
    dm["STUDYID"] = config.studyid
    dm["DOMAIN"] = DOMAIN
    dm["SUBJID"] = raw["SUBJID"]
    dm["SITEID"] = raw["SITEID"]
    dm["USUBJID"] = derive_usubjid(pd.concat([dm[["STUDYID"]], raw[config.usubjid_fields]], axis=1),
                                   config.usubjid_template)
    _refuse_conflicting_duplicates(raw.assign(_USUBJID=dm["USUBJID"]))
    dm["_LINK"] = raw["_LINK"] if "_LINK" in raw else raw["SUBJID"]
    raw, dm = _parse_dates(raw, dm, config, ledger)
    for var in ("SEX", "RACE", "ETHNIC"):
        dm[var] = map_values(raw[var], config.value_map(var), codelists.get(var)) if var in raw else None
    dm["COUNTRY"] = derive_country(raw, config)
    dm["ARMCD"], dm["ARM"] = derive_planned_arm(raw, config)
    if "AGE" in raw and config.get("age", "derived") == "collected":
        dm["AGE"] = numbers(raw, "AGE", ledger, DOMAIN)
    dm[RAW_FILE] = raw[RAW_FILE]
    dm[RAW_ROW] = raw[RAW_ROW]
    return dm


def _reject_blank_identifiers(raw: pd.DataFrame, config: StudyConfig, ledger: Ledger) -> pd.DataFrame:
    """SDTMIG §4.2.3: SUBJID and USUBJID are required; a record without SUBJID, or without a
    field of the USUBJID template, names no subject (rejected, one reason per empty field)."""
    for fld in dict.fromkeys(["SUBJID", *config.usubjid_fields]):
        raw = ledger.reject(raw, raw[fld].isna(), domain=DOMAIN, column=fld,
                            reason=f"{fld} is empty: the subject cannot be identified (USUBJID "
                                   f"{config.usubjid_template} needs it)")
    return raw


def _reject_exact_duplicates(raw: pd.DataFrame, ledger: Ledger) -> pd.DataFrame:
    data_cols = [c for c in raw.columns if c not in (RAW_FILE, RAW_ROW)]
    dup = raw.duplicated(subset=data_cols, keep="first")
    if not dup.any():
        return raw
    first_row = raw.groupby(data_cols, dropna=False, sort=False)[RAW_ROW].transform("first")
    reason = "exact duplicate of row " + first_row.astype(str)
    return ledger.reject(raw, dup, domain=DOMAIN, column="SUBJID", reason=reason, rule="TP0116")


def _refuse_conflicting_duplicates(raw: pd.DataFrame) -> None:
    """Two different demographics rows for one subject (one USUBJID): which is right cannot be
    decided (every such row listed)."""
    dup = raw.duplicated(subset=["_USUBJID"], keep="first")
    if dup.any():
        first = raw.groupby("_USUBJID", sort=False)[RAW_ROW].transform("first")
        refuse_rows(raw, dup, "SUBJID", ("the subject has two different demographics records (rows "
                                         + first.astype(str) + " and " + raw[RAW_ROW].astype(str)
                                         + "); correct the export").to_numpy())


#: Raw DM date fields -> (the column of DM's records holding its ISO 8601 value, the dataset and
#: variable its findings name): DM variables, and the randomisation date, which is no DM variable
#: but DS's RANDOMIZED milestone (``_RANDDTC``, :func:`sdtm.ds.derive_milestones`).
DATE_FIELDS = {"BRTHDAT": ("BRTHDTC", DOMAIN, "BRTHDTC"), "RFICDAT": ("RFICDTC", DOMAIN, "RFICDTC"),
               "RANDDAT": ("_RANDDTC", "DS", "DSSTDTC")}


def _parse_dates(raw, dm, config: StudyConfig, ledger: Ledger):
    for fld, (column, dataset, variable) in DATE_FIELDS.items():
        dm[column] = raw_dates(raw, fld, config, ledger=ledger, dataset=dataset, variable=variable)
    return raw, dm


def derive_usubjid(dm: pd.DataFrame, template: str) -> pd.Series:
    """USUBJID from the config template, e.g. ``{STUDYID}-{SITEID}-{SUBJID}`` (SDTMIG §4.2.3:
    unique for a person across every study of the submission)."""
    out = pd.Series("", index=dm.index, dtype=object)
    for literal, fld in re.findall(r"([^{]*)(?:\{(\w+)\})?", template):
        out = out + literal
        if fld:
            out = out + dm[fld].astype(str)
    return text(out, dm.index)


def derive_country(raw: pd.DataFrame, config: StudyConfig) -> pd.Series:
    """COUNTRY (ISO 3166-1 alpha-3): the raw country through ``value_maps.COUNTRY``; where
    the export has none, the country of the subject's site from ``sites``."""
    sites = {k: v.get("country") for k, v in config.get("sites", {}).items()}
    from_site = raw["SITEID"].map(sites)
    if "COUNTRY" not in raw:
        return text(from_site, raw.index)
    mapped = map_values(raw["COUNTRY"], config.value_map("COUNTRY"))
    return text(mapped.where(mapped.notna(), from_site), raw.index)


def derive_planned_arm(raw: pd.DataFrame, config: StudyConfig) -> tuple[pd.Series, pd.Series]:
    """ARMCD/ARM: the randomised arm, after the study's ``value_maps.ARM`` (a raw "Screen
    Failure" mapped to null: no planned arm), matched (trimmed, any case) against each config
    arm's ``raw`` values, ARMCD and ARM; blank -> null (ARMNRS then says why). A value matching
    no arm is bad input."""
    lookup: dict[str, dict] = {}
    for arm in config.arms:
        for key in (arm["armcd"], arm["arm"], *arm.get("raw", [])):
            lookup[" ".join(str(key).split()).upper()] = arm
    if "ARM" not in raw:
        none = text([None] * len(raw), raw.index)
        return none, none
    mapped = apply_value_map(raw["ARM"], config.value_map("ARM"))
    norm = mapped.astype("string").str.strip().str.upper().str.replace(r"\s+", " ", regex=True)
    unknown = norm.notna() & ~norm.isin(list(lookup))
    if unknown.any():
        refuse_rows(raw, unknown, "ARM", f"arm is not one of the study's arms "
                                         f"({', '.join(a['armcd'] for a in config.arms)})")
    armcd = norm.map({k: a["armcd"] for k, a in lookup.items()})
    arm = norm.map({k: a["arm"] for k, a in lookup.items()})
    return text(armcd.astype(object), raw.index), text(arm.astype(object), raw.index)


def derive_reference_dates(dm: pd.DataFrame, ex: pd.DataFrame, ds: pd.DataFrame | None,
                           config: StudyConfig) -> pd.DataFrame:
    """RFXSTDTC, RFXENDTC, RFSTDTC, RFENDTC.

    1. RFXSTDTC = the earliest EXSTDTC of the subject (not customisable, SDTMIG §5.2);
    2. RFXENDTC = the latest EXENDTC (EXSTDTC where EXENDTC is null);
    3. RFSTDTC = RFXSTDTC: the study-day anchor is the first exposure; null when untreated;
    4. RFENDTC by :func:`derive_rfendtc` (config ``reference_dates.rfendtc``).
    Partial dates compare by the earliest (starts) or latest (ends) day they can denote.
    """
    dm = dm.copy()
    start = _extreme(ex, "EXSTDTC", "first")
    end_dtc = ex["EXENDTC"].where(ex["EXENDTC"].notna(), ex["EXSTDTC"])
    end = _extreme(ex.assign(_END=end_dtc), "_END", "last")
    dm["RFXSTDTC"] = text(dm["USUBJID"].map(start), dm.index)
    dm["RFXENDTC"] = text(dm["USUBJID"].map(end), dm.index)
    dm["RFSTDTC"] = dm["RFXSTDTC"]
    dm["RFENDTC"] = derive_rfendtc(dm, ds, rule=config.get("reference_dates", {}).get("rfendtc",
                                                                                      "end_of_participation"))
    return dm


#: DSCAT of the records that end a subject's participation (completion, discontinuation, death).
DISPOSITION_EVENT = "DISPOSITION EVENT"


def derive_rfendtc(dm: pd.DataFrame, ds: pd.DataFrame | None, *, rule: str = "end_of_participation",
                   armcd: str = "ARMCD", rfxendtc: str = "RFXENDTC", rfpendtc: str = "RFPENDTC") -> pd.Series:
    """RFENDTC, the end of the subject's reference period. SDTMIG 3.4 DM: "required for all
    randomized subjects; null for screen failures or unassigned subjects" (CDISC CG0529, CORE-000191).
    Cases, in order:

    1. no planned arm (``armcd`` null) and never treated (``rfxendtc`` null): a screen failure
       or a subject never assigned -> null;
    2. treated, config ``reference_dates.rfendtc: last_exposure`` -> RFXENDTC;
    3. the date of the subject's last disposition event (DS, DSCAT "DISPOSITION EVENT":
       completion, discontinuation, death; protocol milestones do not end participation) —
       the end of participation;
    4. RFXENDTC (treated, no dated disposition event);
    5. RFPENDTC, the last date of any record of the subject (assigned, never treated, and no
       dated disposition event: end of participation is the last contact).

    So a randomised subject who was never treated (ARMNRS "ASSIGNED, NOT TREATED") has the date
    they left the study, usually their discontinuation date.
    """
    last_event = pd.Series(None, index=dm.index, dtype=object)
    if ds is not None and len(ds):
        events = ds[ds["DSCAT"] == DISPOSITION_EVENT] if "DSCAT" in ds else ds
        last_event = dm["USUBJID"].map(_extreme(events, "DSSTDTC", "last"))
    in_order = [dm[rfxendtc]] if rule == "last_exposure" else []
    in_order += [last_event, dm[rfxendtc], dm[rfpendtc] if rfpendtc in dm else None]
    excluded = dm[armcd].isna() & dm[rfxendtc].isna()
    return text(_coalesce(in_order, dm.index).where(~excluded, None), dm.index)


def _coalesce(candidates: list[pd.Series | None], index: pd.Index) -> pd.Series:
    """Per row, the first non-null of ``candidates`` (``None`` entries skipped)."""
    out = pd.Series(None, index=index, dtype=object)
    for later in candidates:
        if later is not None:
            out = out.where(out.notna(), later.astype(object))
    return out


def _extreme(frame: pd.DataFrame, var: str, which: str) -> pd.Series:
    """Per USUBJID, the earliest (``first``) or latest (``last``, ``last_known``) of the ``var``
    values.

    * ``first``: the value whose earliest possible day is the earliest; equal days: the
      smallest text.
    * ``last``: the value whose latest possible day is the latest (the end of exposure:
      RFXENDTC, as TP0303 checks it); equal days: the largest text.
    * ``last_known``: the date the subject is known to have reached — a value is later than
      another only when the earliest day it can denote is later, so a partial date is "later"
      only when it must be: "2023" (1 Jan .. 31 Dec 2023) is not later than 2023-09-04,
      "2023-10" is. Equal earliest days: the most precise value (the smallest latest possible
      day: 2023-01-01 over "2023-01" over "2023"), then the largest text (a time over the date).

    Values denoting no day (null, no year) are not candidates. Sorted on integer codes: the
    subjects and values are factorised, the texts never compared one by one."""
    if frame is None or not len(frame):
        return pd.Series(dtype=object)
    low, high = date_bounds(date_fields(frame[var]))
    subject, subjects = pd.factorize(frame["USUBJID"])
    value, values = pd.factorize(frame[var], sort=True)  # code order = text order
    rows = np.flatnonzero(~np.isnan(low) & (subject >= 0))
    if which == "first":
        order = rows[np.lexsort((value[rows], low[rows], subject[rows]))]
    elif which == "last":
        order = rows[np.lexsort((value[rows], high[rows], subject[rows]))][::-1]
    else:   # ascending by (subject, earliest day, -latest day, text): the last of each subject
        order = rows[np.lexsort((value[rows], -high[rows], low[rows], subject[rows]))][::-1]
    ordered = subject[order]
    pick = order[np.concatenate(([True], ordered[1:] != ordered[:-1]))] if len(order) else order
    return pd.Series(np.asarray(values, dtype=object)[value[pick]], name=var,
                     index=pd.Index(np.asarray(subjects, dtype=object)[subject[pick]], name="USUBJID"))


#: Dates that are not a contact with the subject: birth, and RFPENDTC itself.
NOT_CONTACT_DATES = ("BRTHDTC", "RFPENDTC")


def contact_dates(frame: pd.DataFrame) -> list[str]:
    """The ISO 8601 date variables of ``frame`` that date a contact with the subject: every
    --DTC variable (start, end, collection: AESTDTC, AEENDTC, AEDTC, DSDTC, RFICDTC, DTHDTC ...)
    but BRTHDTC and RFPENDTC; helper columns (``_``) are not variables."""
    return [c for c in frame.columns if c.endswith("DTC") and not c.startswith("_") and c not in NOT_CONTACT_DATES]


def derive_rfpendtc(dm: pd.DataFrame, records: list[pd.DataFrame | None]) -> pd.Series:
    """RFPENDTC: the last date of any record of the subject (SDTMIG §5.2: end of participation,
    "the last known date of contact" — completion, withdrawal, last follow-up or death): the
    latest of the :func:`contact_dates` of the subject's DM record (RFICDTC, DMDTC, a collected
    DTHDTC) and of its ``records`` (EX, DS, AE: start, end and collection dates). Partial dates
    compare by what they can mean (:func:`_extreme`, ``last_known``): an AEENDTC "2023" is not later
    than a disposition on 2023-09-04, since the year may have ended for the subject in January."""
    parts = [frame[["USUBJID", var]].rename(columns={var: "DTC"})
             for frame in (dm, *records) if frame is not None for var in contact_dates(frame)]
    allv = pd.concat(parts, ignore_index=True)
    allv = allv[allv["DTC"].notna()]
    last = _extreme(allv, "DTC", "last_known")
    return text(dm["USUBJID"].map(last), dm.index)


def derive_death(dm: pd.DataFrame, ds: pd.DataFrame | None, ae: pd.DataFrame | None) -> pd.DataFrame:
    """DTHDTC/DTHFL (SDTMIG §5.2). DTHDTC, in order:

    1. the collected death date (DM's ``DTHDAT`` field, already in ``dm["DTHDTC"]``);
    2. else the date of the subject's DS "DEATH" disposition (the latest, if several);
    3. else the end date of the subject's AE with outcome FATAL or AESDTH "Y" (the latest).

    DTHFL = "Y" for a subject with any of them (even with no date), else null — never "N"."""
    dm = dm.copy()
    collected = dm["DTHDTC"] if "DTHDTC" in dm else pd.Series(None, index=dm.index, dtype=object)
    candidates = [collected]
    died = collected.notna()
    for frame, date, mask in _death_sources(ds, ae):
        dated = frame.loc[mask, ["USUBJID", date]].rename(columns={date: "DTC"})
        died |= is_in(dm["USUBJID"], dated["USUBJID"])
        dated = dated[dated["DTC"].notna()]
        latest = _extreme(dated, "DTC", "last") if len(dated) else pd.Series(dtype=object)
        candidates.append(dm["USUBJID"].map(latest))
    dm["DTHDTC"] = text(_coalesce(candidates, dm.index), dm.index)
    dm["DTHFL"] = text(np.where(died, "Y", None), dm.index)
    return dm


def _death_sources(ds: pd.DataFrame | None, ae: pd.DataFrame | None):
    """(records, their date variable, which of them record a death): DS, then AE."""
    if ds is not None and len(ds):
        yield ds, "DSSTDTC", (ds["DSDECOD"] == "DEATH").fillna(False).to_numpy(dtype=bool)
    if ae is not None and len(ae):
        fatal = (ae["AEOUT"] == "FATAL").fillna(False) | (ae.get("AESDTH") == "Y")
        yield ae, "AEENDTC", pd.Series(fatal).fillna(False).to_numpy(dtype=bool)


def derive_age(dm: pd.DataFrame, *, at: str = "RFICDTC") -> tuple[pd.Series, pd.Series]:
    """AGE in completed years from BRTHDTC to ``at`` (default the informed-consent date), AGEU
    "YEARS". A partial birth date gives an age when every birth day it can denote gives the
    same age (birth 2012-03 and consent 2021-05-10: 9); otherwise AGE is null. Returns AGE and
    a mask of subjects whose age could not be derived for that reason."""
    fields = date_fields(dm["BRTHDTC"])
    born_first, born_last = date_bounds(fields)
    ref = to_epoch_days(dm[at])
    young = _completed_years(born_last, ref)   # latest possible birth -> youngest
    old = _completed_years(born_first, ref)
    age = np.where(young == old, young, np.nan)
    ambiguous = ~np.isnan(young) & (young != old)
    return pd.Series(age, index=dm.index), pd.Series(ambiguous, index=dm.index)


def _completed_years(born_days: np.ndarray, at_days: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(born_days) & ~np.isnan(at_days)
    out = np.full(len(born_days), np.nan)
    if not ok.any():
        return out
    born = np.asarray(born_days[ok], dtype="int64").astype("datetime64[D]")
    at = np.asarray(at_days[ok], dtype="int64").astype("datetime64[D]")
    by, bm, bd = _ymd(born)
    ay, am, ad = _ymd(at)
    years = ay - by - ((am < bm) | ((am == bm) & (ad < bd))).astype(int)
    out[ok] = years
    return out


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    years = days.astype("datetime64[Y]")
    months = days.astype("datetime64[M]")
    y = years.astype(int) + 1970
    m = (months - years.astype("datetime64[M]")).astype(int) + 1
    d = (days - months.astype("datetime64[D]")).astype(int) + 1
    return y, m, d


def derive_actual_arm(dm: pd.DataFrame, ex: pd.DataFrame, config: StudyConfig) -> pd.DataFrame:
    """ACTARMCD/ACTARM/ACTARMUD (SDTMIG §5.2, standards.md §3.4).

    The treatment a subject received in each period (from EX) is compared with each arm's
    treatments per period. Cases, in order:

    1. no EX record -> ACTARMCD/ACTARM null (ARMNRS says why, see :func:`derive_armnrs`);
    2. the received sequence equals, or is the start of (discontinued early), the planned
       arm's -> the planned arm;
    3. it equals or starts another arm's sequence -> that arm (the first in config order);
    4. otherwise -> null, and ACTARMUD lists the treatments received by period.
    """
    dm = dm.copy()
    received = dm["USUBJID"].map(received_sequence(ex))
    arms = {a["armcd"]: (a["arm"], _prefixes(a["treatments"])) for a in config.arms}
    actcd = pd.Series(None, index=dm.index, dtype=object)
    for cd, (_, prefixes) in arms.items():
        planned = (dm["ARMCD"] == cd) & received.isin(prefixes)
        actcd = actcd.mask(planned, cd)
    for cd, (_, prefixes) in arms.items():
        actcd = actcd.mask(actcd.isna() & received.isin(prefixes), cd)
    dm["ACTARMCD"] = text(actcd, dm.index)
    dm["ACTARM"] = text(actcd.map({cd: a for cd, (a, _) in arms.items()}), dm.index)
    unplanned = received.notna() & actcd.isna()
    dm["ACTARMUD"] = text(np.where(unplanned, "RECEIVED: " + received.fillna(""), None), dm.index)
    return dm


def _prefixes(treatments: list[str]) -> list[str]:
    return [" > ".join(treatments[:k]) for k in range(1, len(treatments) + 1)]


def received_sequence(ex: pd.DataFrame) -> pd.Series:
    """Per USUBJID, the treatment codes received by period, e.g. ``"VEH > TPZ15"``; two
    treatments within one period read ``"A+B"``, a period without treatment before a
    treated one reads ``"NONE"``."""
    if not len(ex):
        return pd.Series(dtype=object)
    pairs = ex[["USUBJID", "_PERIOD", "_TRTCODE"]].drop_duplicates().sort_values(["USUBJID", "_PERIOD", "_TRTCODE"])
    per_period = pairs.groupby(["USUBJID", "_PERIOD"], sort=True)["_TRTCODE"]
    first = per_period.first()
    if (per_period.size() > 1).any():
        several = per_period.size() > 1
        first[several] = pairs.set_index(["USUBJID", "_PERIOD"]).loc[several[several].index] \
            .groupby(level=[0, 1])["_TRTCODE"].agg("+".join)
    wide = first.unstack("_PERIOD").sort_index(axis=1).fillna("NONE")
    seq = wide.iloc[:, 0].astype(str)
    for col in wide.columns[1:]:
        seq = seq + " > " + wide[col].astype(str)
    seq = seq.str.replace(r"( > NONE)+$", "", regex=True)
    return seq


def derive_armnrs(dm: pd.DataFrame, screen_failed: pd.Series) -> pd.Series:
    """ARMNRS (ARMNULRS): why ARMCD and/or ACTARMCD is null; null when both are populated
    (a planned/actual mismatch needs no reason). Cases, in order:

    1. no planned arm and a screen-failure disposition -> "SCREEN FAILURE";
    2. no planned arm -> "NOT ASSIGNED";
    3. no actual arm but treatment received (matching no arm) -> "UNPLANNED TREATMENT";
    4. no actual arm -> "ASSIGNED, NOT TREATED".
    """
    no_arm = dm["ARMCD"].isna()
    untreated = dm["ACTARMCD"].isna()
    reason = np.select(
        [no_arm & screen_failed, no_arm, untreated & dm["ACTARMUD"].notna(), untreated],
        ["SCREEN FAILURE", "NOT ASSIGNED", "UNPLANNED TREATMENT", "ASSIGNED, NOT TREATED"],
        default=None,
    )
    return text(reason, dm.index)
