"""Treatment periods and groups of each subject — the timeline every ISS dataset uses.

ADaMIG 1.3 §3.2 (periods): a period is an interval of the study in which a subject's
treatment is the same; ``xx`` in TRTxxP/TRTxxA/TRxxSDT/APxxSDT is the period. For the
integrated analysis each subject-period also belongs to one treatment group of the ISS
config (the record-level TRTA), so that subjects who move from vehicle to cream in an
extension contribute time and events to each group they received.

``exposure_records`` dates every EX record (imputing partial dates) and assigns its period
and group; ``subject_periods`` reduces them to one row per subject and period:

=========  ==============================================================================
APERIOD    period number: the position of the record's EPOCH among the study config's
           ``periods`` (a study without periods has one, period 1)
TRTP(N)    planned group: the group of the treatment the subject's planned arm gives in
           that period (config ``assign_by: exposure``), or the group listing DM.ARM
           (``assign_by: arm``)
TRTA(N)    actual group: the group of the treatment received in the period (the one with
           most days if several), or TRTP (config ``actual_treatment: planned``)
TRSDT/F    first dose date of the period (and its imputation flag)
TREDT/F    last dose date of the period
APSDT      period start = TRSDT
APEDT      period end = the day before the next period's first dose; for the last
           period the end of study (EOSDT) when known and not before TREDT, else TREDT
=========  ==============================================================================
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from adam.config import ISSConfig
from adam.imputation import impute_dates
from specs.errors import InputError
from specs.iso8601 import days_to_datetime, to_epoch_days

PERIOD_COLUMNS = ["STUDYID", "USUBJID", "APERIOD", "TRTP", "TRTPN", "TRTA", "TRTAN",
                  "TRSDT", "TRSDTF", "TREDT", "TREDTF", "APSDT", "APEDT"]


def group_of_treatment(iss: ISSConfig) -> dict[str, tuple[str, int]]:
    """EXTRT (upper case) -> (group label, number) for the non-pooled groups."""
    out = {}
    for g in iss.base_groups:
        for trt in g.treatments:
            out[trt.upper()] = (g.label, g.number)
    return out


def group_of_arm(iss: ISSConfig) -> dict[str, tuple[str, int]]:
    out = {}
    for g in iss.base_groups:
        for arm in g.arms:
            out[arm.upper()] = (g.label, g.number)
    return out


def period_of_epoch(iss: ISSConfig) -> pd.DataFrame:
    """(STUDYID, EPOCH) -> APERIOD from each study config's periods."""
    rows = [(s.studyid, p["epoch"], p["number"]) for s in iss.studies for p in s.periods]
    return pd.DataFrame(rows, columns=["STUDYID", "EPOCH", "APERIOD"])


def exposure_records(ex: pd.DataFrame, iss: ISSConfig, *, eos: pd.Series | None = None,
                     death: pd.Series | None = None, arms: pd.Series | None = None) -> pd.DataFrame:
    """EX records with ``EXSTDT``/``EXENDT`` (day numbers), flags, APERIOD and group.

    Dates: a partial EXSTDTC is imputed to its first possible day, a partial EXENDTC to its
    last (never after the end of study or death); a missing EXENDTC takes EXSTDTC (one application),
    or with ``imputation.treatment_end.missing: disposition_date`` the subject's end-of-study
    date (the pilot's rule), flagged "Y": the whole date was imputed (ADaMIG DATEFL: year,
    month and day). Group: the group listing the record's EXTRT (``assign_by: exposure``), or
    the group listing the subject's arm (``assign_by: arm``; ``arms`` maps USUBJID to DM.ACTARM,
    or to DM.ARM when the config says the actual treatment is the planned one). A record whose
    treatment is in no group is an error: the ISS config must say where every treatment goes;
    so is a record of a study with periods whose EPOCH is none of them.
    """
    out = ex[["STUDYID", "USUBJID", "EXSEQ", "EXTRT", "EXDOSE", "EXDOSU", "EXDOSFRQ", "EPOCH",
              "EXSTDTC", "EXENDTC"]].copy() if len(ex) else ex.copy()
    eos_days = (pd.Series(to_epoch_days(out["USUBJID"].map(eos)), index=out.index)
                if eos is not None else pd.Series(np.nan, index=out.index))
    start, start_flag = impute_dates(out["EXSTDTC"], highest="M", fill="first")
    limits = [days_to_datetime(eos_days.to_numpy(), index=out.index)]
    if death is not None:
        limits.append(days_to_datetime(to_epoch_days(out["USUBJID"].map(death)), index=out.index))
    end, end_flag = impute_dates(out["EXENDTC"], highest="M", fill="last", max_dates=limits)
    out["EXSTDT"] = to_epoch_days(start)
    out["EXSTDTF"] = start_flag
    out["EXENDT"] = to_epoch_days(end)
    out["EXENDTF"] = end_flag
    missing_end = out["EXENDTC"].isna()
    if iss.imputation("treatment_end").get("missing") == "disposition_date":
        fill = missing_end & eos_days.notna()
        out.loc[fill, "EXENDT"] = eos_days[fill]
        out.loc[fill, "EXENDTF"] = "Y"   # the whole date came from another source
        missing_end &= ~fill
    out.loc[missing_end, "EXENDT"] = out.loc[missing_end, "EXSTDT"]
    out = out.merge(period_of_epoch(iss), on=["STUDYID", "EPOCH"], how="left")
    _check_periods(out, iss)
    out["APERIOD"] = out["APERIOD"].fillna(1).astype("int64")
    if iss.assign_by == "arm":
        groups = group_of_arm(iss)
        key = out["USUBJID"].map(arms if arms is not None else {}).astype("string").str.upper()
    else:
        groups = group_of_treatment(iss)
        key = out["EXTRT"].astype("string").str.upper()
    out["GROUP"] = key.map({k: v[0] for k, v in groups.items()}).astype(object)
    out["GROUPN"] = key.map({k: v[1] for k, v in groups.items()}).astype("float64")
    return out


def _check_periods(records: pd.DataFrame, iss: ISSConfig) -> None:
    """An EX record of a study with periods must be in one of them (its EPOCH the epoch of a
    period); only a study whose config lists no periods has the single period 1."""
    epochs = {s.studyid: [p["epoch"] for p in s.periods] for s in iss.studies if s.periods}
    unplaced = records["STUDYID"].isin(list(epochs)).to_numpy() & records["APERIOD"].isna().to_numpy()
    if unplaced.any():
        i = int(np.flatnonzero(unplaced)[0])
        sid, epoch = records["STUDYID"].iloc[i], records["EPOCH"].iloc[i]
        what = (f"EX EPOCH {epoch!r} is not a treatment period of study {sid}" if pd.notna(epoch) else
                f"EX record without EPOCH (null, or no EPOCH variable) in study {sid}, whose config places EX "
                f"records in periods by EPOCH")
        raise InputError(f"{what} (periods: {', '.join(epochs[sid])}); {int(unplaced.sum())} EX record(s) cannot "
                         f"be given a period", row=i + 1, column="EPOCH")


def subject_periods(records: pd.DataFrame, adsl_base: pd.DataFrame, iss: ISSConfig) -> pd.DataFrame:
    """One row per subject and period (columns :data:`PERIOD_COLUMNS`; dates as day numbers)."""
    if not len(records):
        text = ("STUDYID", "USUBJID", "TRTP", "TRTA", "TRSDTF", "TREDTF")
        return pd.DataFrame({c: pd.Series(dtype=object if c in text else "float64") for c in PERIOD_COLUMNS})
    span = records.assign(_DAYS=records["EXENDT"] - records["EXSTDT"] + 1)
    keys = ["STUDYID", "USUBJID", "APERIOD"]
    agg = span.groupby(keys, sort=True).agg(TRSDT=("EXSTDT", "min"), TREDT=("EXENDT", "max")).reset_index()
    agg = _attach_flags(agg, span, keys)
    actual = (span.groupby([*keys, "GROUP", "GROUPN"], dropna=False)["_DAYS"].sum().reset_index()
              .sort_values([*keys, "_DAYS", "GROUPN"], ascending=[True, True, True, False, True], kind="mergesort")
              .drop_duplicates(keys))
    agg = agg.merge(actual[[*keys, "GROUP", "GROUPN"]].rename(columns={"GROUP": "TRTA", "GROUPN": "TRTAN"}),
                    on=keys, how="left")
    planned = planned_groups(adsl_base, iss)
    agg = agg.merge(planned, on=["USUBJID", "APERIOD"], how="left")
    if iss.actual_treatment == "planned":
        agg["TRTA"], agg["TRTAN"] = agg["TRTP"], agg["TRTPN"]
    agg = agg.sort_values(["USUBJID", "APERIOD"], kind="mergesort").reset_index(drop=True)
    agg["APSDT"] = agg["TRSDT"]
    next_start = agg.groupby("USUBJID")["TRSDT"].shift(-1)
    eos = pd.Series(_day_numbers(agg["USUBJID"].map(adsl_base.set_index("USUBJID")["EOSDT"])), index=agg.index)
    last_end = np.where(eos.notna() & (eos >= agg["TREDT"]), eos, agg["TREDT"])
    agg["APEDT"] = np.where(next_start.notna(), next_start - 1, last_end)
    return agg[PERIOD_COLUMNS]


def _day_numbers(dates: pd.Series) -> np.ndarray:
    """Dates held as day numbers (float) or as datetime64 -> day numbers."""
    if pd.api.types.is_datetime64_any_dtype(dates.dtype):
        return to_epoch_days(dates)
    return dates.to_numpy(dtype="float64")


def _attach_flags(agg: pd.DataFrame, span: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Imputation flags of the record that gave each period's first and last dose."""
    first = span.sort_values([*keys, "EXSTDT"], kind="mergesort").drop_duplicates(keys)[[*keys, "EXSTDTF"]]
    last = span.sort_values([*keys, "EXENDT"], kind="mergesort").drop_duplicates(keys, keep="last")[[*keys, "EXENDTF"]]
    agg = agg.merge(first.rename(columns={"EXSTDTF": "TRSDTF"}), on=keys, how="left")
    return agg.merge(last.rename(columns={"EXENDTF": "TREDTF"}), on=keys, how="left")


def planned_groups(adsl_base: pd.DataFrame, iss: ISSConfig) -> pd.DataFrame:
    """Per subject and period, the planned group (TRTP/TRTPN) from the planned arm."""
    rows = []
    if iss.assign_by == "arm":
        groups = group_of_arm(iss)
        arm = adsl_base["ARM"].astype("string").str.upper()
        rows.append(pd.DataFrame({"USUBJID": adsl_base["USUBJID"].to_numpy(), "APERIOD": 1,
                                  "TRTP": arm.map({k: v[0] for k, v in groups.items()}).to_numpy(dtype=object),
                                  "TRTPN": arm.map({k: v[1] for k, v in groups.items()}).to_numpy(dtype=float)}))
    else:
        by_trt = group_of_treatment(iss)
        for study in iss.studies:
            subjects = adsl_base[adsl_base["STUDYID"] == study.studyid]
            for arm in study.arms:
                who = subjects.loc[subjects["ARMCD"] == arm["armcd"], "USUBJID"].to_numpy()
                for number, code in enumerate(arm["treatments"], start=1):
                    extrt = study.treatments[code]["extrt"].upper()
                    label, gnum = by_trt.get(extrt, (None, np.nan))
                    rows.append(pd.DataFrame({"USUBJID": who, "APERIOD": number, "TRTP": label, "TRTPN": gnum}))
    if not rows:
        return pd.DataFrame(columns=["USUBJID", "APERIOD", "TRTP", "TRTPN"])
    out = pd.concat(rows, ignore_index=True)
    out["TRTPN"] = out["TRTPN"].astype("float64")
    return out
