"""DS — Disposition (SDTMIG v3.4 §6.2.3): one record per disposition event per subject.

trialpack maps the disposition events of the raw export (completion or discontinuation of
each period, screen failure, death, protocol milestones such as informed consent and
randomisation) with DSCAT from DSDECOD's codelist (:func:`derive_dscat`); DSDECOD takes the
CT terms through ``value_maps.DSDECOD``. DM (RFENDTC, RFPENDTC, ARMNRS, death) and
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
