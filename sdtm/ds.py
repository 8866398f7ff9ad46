"""DS — Disposition (SDTMIG v3.4 §6.2.3): one record per disposition event per subject.

trialpack maps the disposition events of the raw export (completion or discontinuation of
each period, screen failure, death, protocol milestones such as informed consent and
randomisation) with DSCAT from DSDECOD's codelist (:func:`derive_dscat`); DSDECOD takes the
CT terms through ``value_maps.DSDECOD``. The informed-consent and randomisation dates the
demographics export collects become protocol milestones too (:func:`derive_milestones`). DM (RFENDTC, RFPENDTC, ARMNRS, death) and
ADSL (EOSSTT, DCSREAS) read it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from fileformats.rawio import RAW_FILE, RAW_ROW
from sdtm.common import Ledger, empty_required, map_values, raw_dates, text
from sdtm.config import StudyConfig
from sdtm.ex import reject_unknown_subjects

DOMAIN = "DS"


def map_disposition(raw: pd.DataFrame, config: StudyConfig, subjects: pd.DataFrame, ledger: Ledger,
                    codelists: dict[str, list[str]]) -> pd.DataFrame:
    """Raw disposition -> DS records (without DSSTDY and DSSEQ). Rejected (an error): a record
    of a subject not in DM. Kept with an error finding: an empty disposition term (DSDECOD null,
    TP0114) and a date that is not valid (left null, TP0102)."""
    raw = reject_unknown_subjects(raw, subjects, ledger, DOMAIN)
    empty_required(raw, "DSDECOD", ledger, DOMAIN, "the disposition term is required")
    start = raw_dates(raw, "DSSTDAT", config, variable="DSSTDTC", ledger=ledger, dataset=DOMAIN)
    ds = pd.DataFrame(index=raw.index)
    ds["STUDYID"] = config.studyid
    ds["DOMAIN"] = DOMAIN
    ds["USUBJID"] = raw["SUBJID"].map(subjects.set_index("SUBJID")["USUBJID"])
    decod = map_values(raw["DSDECOD"], config.value_map("DSDECOD"), codelists.get("DSDECOD"))
    ds["DSTERM"] = raw["DSTERM"].where(raw["DSTERM"].notna(), decod) if "DSTERM" in raw else decod
    ds["DSDECOD"] = decod
    ds["DSCAT"] = derive_dscat(decod, codelists)
    ds["DSSTDTC"] = start
    ds["_PERIOD"] = _period_numbers(raw, config)
    ds[RAW_FILE] = raw[RAW_FILE]
    ds[RAW_ROW] = raw[RAW_ROW]
    return ds


#: DS protocol milestones made of DM's collected dates: (DSDECOD, the date's column in DM's
#: records, whether only a randomised study has it). Raw fields RFICDAT and RANDDAT.
MILESTONES = (("INFORMED CONSENT OBTAINED", "RFICDTC", False), ("RANDOMIZED", "_RANDDTC", True))
PROTOCOL_MILESTONE = "PROTOCOL MILESTONE"


def derive_milestones(subjects: pd.DataFrame, config: StudyConfig) -> pd.DataFrame:
    """DS protocol-milestone records (SDTMIG 3.4 §6.2.3: DSCAT "PROTOCOL MILESTONE", DSDECOD
    from PROTMLST) from the dates the demographics export collects, one record per subject and
    date, in order:

    1. INFORMED CONSENT OBTAINED on the informed-consent date (raw field RFICDAT: DM.RFICDTC
       equals it, SDTMIG 3.4 DM);
    2. RANDOMIZED on the randomisation date (raw field RANDDAT), in a study whose config says
       it randomises (``randomized``, the default; mapping RANDDAT otherwise is refused).

    A subject without the date (not collected, or not a valid date: TP0102) has no such record.
    DSTERM = DSDECOD; no period (EPOCH from the date). The records keep the demographics row
    they come from (lineage)."""
    parts = []
    for decod, column, randomised_only in MILESTONES:
        if column not in subjects or (randomised_only and not config.randomized):
            continue
        dated = subjects[subjects[column].notna()]
        parts.append(pd.DataFrame({
            "STUDYID": config.studyid, "DOMAIN": DOMAIN, "USUBJID": dated["USUBJID"].to_numpy(),
            "DSTERM": decod, "DSDECOD": decod, "DSCAT": PROTOCOL_MILESTONE, "DSSTDTC": dated[column].to_numpy(),
            "_PERIOD": np.nan, RAW_FILE: dated[RAW_FILE].to_numpy(), RAW_ROW: dated[RAW_ROW].to_numpy()}))
    if not parts:
        return pd.DataFrame(columns=["STUDYID", "DOMAIN", "USUBJID", "DSTERM", "DSDECOD", "DSCAT", "DSSTDTC",
                                     "_PERIOD", RAW_FILE, RAW_ROW])
    return pd.concat(parts, ignore_index=True)


def add_milestones(ds: pd.DataFrame | None, subjects: pd.DataFrame, config: StudyConfig) -> pd.DataFrame | None:
    """The disposition records followed by the milestones of :func:`derive_milestones` that the
    disposition export does not record already (an export holding the subject's INFORMED CONSENT
    OBTAINED keeps its own record, not a second one); None when there are neither."""
    milestones = derive_milestones(subjects, config)
    if ds is not None and len(milestones):
        recorded = pd.MultiIndex.from_frame(ds[["USUBJID", "DSDECOD"]].astype(object))
        milestones = milestones[~pd.MultiIndex.from_frame(milestones[["USUBJID", "DSDECOD"]]).isin(recorded)]
    if not len(milestones):
        return ds
    if ds is None:
        return milestones
    return pd.concat([ds, milestones], ignore_index=True)


#: DSCAT of a DSDECOD term by the CDISC codelist holding it (SDTMIG 3.4 §6.2.3, DS assumption 3).
DSCAT_BY_CODELIST = (("CL.PROTMLST", "PROTOCOL MILESTONE"), ("CL.OTHEVENT", "OTHER EVENT"))


def derive_dscat(decod: pd.Series, codelists: dict[str, list[str]]) -> pd.Series:
    """DSCAT from DSDECOD's codelist, in order: a term of PROTMLST (INFORMED CONSENT OBTAINED,
    RANDOMIZED ...) -> "PROTOCOL MILESTONE"; of OTHEVENT -> "OTHER EVENT"; any other (NCOMPLT:
    COMPLETED, ADVERSE EVENT, SCREEN FAILURE ...) -> "DISPOSITION EVENT". A study config may map
    DSCAT explicitly instead (``raw.files.DS.map.DSCAT``)."""
    norm = decod.astype("string").str.upper()
    conditions = [norm.isin([t.upper() for t in codelists.get(oid, [])]).fillna(False).to_numpy(dtype=bool)
                  for oid, _ in DSCAT_BY_CODELIST]
    return text(np.select(conditions, [cat for _, cat in DSCAT_BY_CODELIST], "DISPOSITION EVENT"), decod.index)


def _period_numbers(raw: pd.DataFrame, config: StudyConfig) -> pd.Series:
    if "PERIOD" not in raw:
        return pd.Series(np.nan, index=raw.index)
    return config.period_of(raw["PERIOD"])


def derive_timing(ds: pd.DataFrame, dm: pd.DataFrame, windows: pd.DataFrame, config: StudyConfig) -> pd.DataFrame:
    """EPOCH: the epoch of the period the raw record names; without a period, the epoch of
    the disposition date (screen failures: the before-treatment epoch). DSSTDY from
    DM.RFSTDTC, DSSEQ 1..n per subject by date."""
    from sdtm.common import derive_seq
    from sdtm.dates import study_day
    from sdtm.epoch import assign_epoch
    from specs.iso8601 import to_epoch_days

    ds = ds.copy()
    by_period = ds["_PERIOD"].map({p["number"]: p["epoch"] for p in config.periods})
    by_date = assign_epoch(ds["USUBJID"], ds["DSSTDTC"], windows)
    ds["EPOCH"] = text(by_period.where(by_period.notna(), by_date).astype(object), ds.index)
    ref = ds["USUBJID"].map(dm.set_index("USUBJID")["RFSTDTC"])
    ds["DSSTDY"] = study_day(ds["DSSTDTC"], ref).astype("float64")
    ds["DSSEQ"] = derive_seq(ds.assign(_D=to_epoch_days(ds["DSSTDTC"])), ["_D", "DSDECOD", RAW_ROW])
    return ds
