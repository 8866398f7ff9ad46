"""ADEX — Exposure Analysis Dataset (ADaMIG 1.3 BDS, standards.md §4.4), pooled by group.

One record per subject, treatment group (TRTA, including pooled groups such as "All
cream") and parameter. Parameters (PARAM texts are the decodes of the spec's
CL.ADEX.PARAMCD; AVALU the unit):

==========  ==================================================================  ========
PARAMCD     AVAL                                                                AVALU
==========  ==================================================================  ========
TRTDURD     days on the group's treatment: for each run of it (a stretch of     DAYS
            treatment with no other treatment in between, adam.periods), last dose
            - first dose + 1, summed (pooled group: the sum over its groups); only
            dated records count, null when the subject has none in the group
TRTDURY     TRTDURD / :data:`adam.units.DAYS_PER_YEAR`               YEARS
TDOSE       sum over the group's EX records of EXDOSE x the administrations in     EXDOSU
            the record's days (:func:`administrations`)
ADOSE       TDOSE / TRTDURD: mean amount per day                                  EXDOSU/day
==========  ==================================================================  ========

ASTDT/AENDT are the first and last dose dates in the group. TDOSE (and ADOSE) is null when the
dose of any of the group's records cannot be computed (EXDOSE missing, EXDOSFRQ without a
``doses_per_day`` entry, no start date); the build reports each such record (TP0206).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from adam.config import ISSConfig
from adam.units import days_to_years

ADSL_COPIES = ["AGE", "SEX", "RACE", "SAFFL"]


def administrations(days, per_day):
    """How many administrations an EX record of ``days`` days (EXENDT - EXSTDT + 1) holds at
    ``per_day`` administrations a day (config ``doses_per_day`` by EXDOSFRQ): the first on its
    first day, then one every 1/``per_day`` days — ceil(days x per_day). Twice daily for 10 days:
    20; every 4 weeks (1/28) for one day (one record per injection): 1; for 57 days: 3 (days 1,
    29, 57). Rounded to 9 decimals first, so that 28 x 1/28 is 1, not 1.0000000000000002."""
    return np.ceil(np.round(np.asarray(days, dtype="float64") * np.asarray(per_day, dtype="float64"), 9))


def doses_per_day(records: pd.DataFrame, iss: ISSConfig) -> pd.Series:
    """Administrations per day of each record's EXDOSFRQ (the ISS config's ``doses_per_day``,
    matched in any case); null where the frequency has none."""
    rates = {str(k).upper(): v for k, v in iss.doses_per_day.items()}
    return records["EXDOSFRQ"].astype("string").str.upper().map(rates).astype("float64")


def dose_per_record(records: pd.DataFrame, iss: ISSConfig) -> pd.Series:
    """EXDOSE x :func:`administrations` in the record's days; null where any factor is unknown."""
    per_day = doses_per_day(records, iss)
    days = records["EXENDT"] - records["EXSTDT"] + 1
    return records["EXDOSE"].astype("float64") * pd.Series(administrations(days, per_day), index=records.index)


def group_exposure(records: pd.DataFrame, windows: pd.DataFrame, iss: ISSConfig) -> pd.DataFrame:
    """Per subject and group (pools included): first/last dose day, days, years, total dose.
    ``windows`` are the subject's runs of one treatment (:func:`adam.periods.emergence_windows`),
    whose spans (LAST - WSTART + 1) make the days."""
    rec = records.dropna(subset=["GROUP"]).sort_values(["USUBJID", "EXSTDT"], kind="mergesort").copy()
    rec["_DOSE"] = dose_per_record(rec, iss)
    rec["_NODOSE"] = rec["_DOSE"].isna()
    keys = ["USUBJID", "GROUP", "GROUPN"]   # a person once per group, whichever studies they took it in
    base = rec.groupby(keys, sort=True).agg(STUDYID=("STUDYID", "first"), ASTDT=("EXSTDT", "min"),
                                             AENDT=("EXENDT", "max"), TDOSE=("_DOSE", "sum"),
                                             _NODOSE=("_NODOSE", "max"), UNIT=("EXDOSU", "first")).reset_index()
    spans = (windows.assign(DAYS=windows["LAST"] - windows["WSTART"] + 1)
             .groupby(["USUBJID", "TRTAN"], sort=False)["DAYS"].sum().rename_axis(["USUBJID", "GROUPN"]).reset_index())
    base = base.merge(spans.astype({"GROUPN": "float64"}), on=["USUBJID", "GROUPN"], how="left")
    pools = []
    for g in iss.groups:
        if not g.pooled:
            continue
        part = base[base["GROUP"].isin(g.pools)].sort_values(["USUBJID", "ASTDT"], kind="mergesort")
        if not len(part):
            continue
        pooled = part.groupby("USUBJID", sort=True).agg(
            STUDYID=("STUDYID", "first"), ASTDT=("ASTDT", "min"), AENDT=("AENDT", "max"), TDOSE=("TDOSE", "sum"),
            _NODOSE=("_NODOSE", "max"), UNIT=("UNIT", "first")).reset_index()
        pooled["DAYS"] = part.groupby("USUBJID", sort=True)["DAYS"].sum(min_count=1).to_numpy()
        pooled["GROUP"], pooled["GROUPN"] = g.label, g.number
        pools.append(pooled)
    out = pd.concat([base, *pools], ignore_index=True)
    out.loc[out["_NODOSE"].astype(bool), "TDOSE"] = np.nan   # a dose that cannot be computed is not 0
    out = out.drop(columns="_NODOSE")
    out["YEARS"] = days_to_years(out["DAYS"])
    return out.sort_values(["STUDYID", "USUBJID", "GROUPN"], kind="mergesort").reset_index(drop=True)


def derive_adex(exposure: pd.DataFrame, adsl: pd.DataFrame, param_names: dict[str, str]) -> pd.DataFrame:
    """ADEX records from :func:`group_exposure` (see the module docstring)."""
    params = [("TRTDURD", exposure["DAYS"], "DAYS", 1), ("TRTDURY", exposure["YEARS"], "YEARS", 2),
              ("TDOSE", exposure["TDOSE"], exposure["UNIT"], 3),
              ("ADOSE", exposure["TDOSE"] / exposure["DAYS"], exposure["UNIT"] + "/day", 4)]
    parts = []
    for code, aval, unit, number in params:
        parts.append(pd.DataFrame({
            "STUDYID": exposure["STUDYID"].to_numpy(), "USUBJID": exposure["USUBJID"].to_numpy(),
            "TRTA": exposure["GROUP"].to_numpy(), "TRTAN": exposure["GROUPN"].to_numpy(dtype=float),
            "PARAMCD": code, "PARAM": param_names.get(code, code), "PARAMN": float(number),
            "AVAL": np.asarray(aval, dtype=float), "AVALU": np.asarray(unit, dtype=object),
            "ASTDT": exposure["ASTDT"].to_numpy(), "AENDT": exposure["AENDT"].to_numpy()}))
    adex = pd.concat(parts, ignore_index=True)
    copies = adsl.set_index("USUBJID")
    for name in ADSL_COPIES:
        if name in copies:
            adex[name] = adex["USUBJID"].map(copies[name])
    return adex.sort_values(["STUDYID", "USUBJID", "TRTAN", "PARAMN"], kind="mergesort").reset_index(drop=True)
