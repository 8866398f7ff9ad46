"""ADEX — Exposure Analysis Dataset (ADaMIG 1.3 BDS, standards.md §4.4), pooled.

One record per subject, treatment piece and parameter. A piece (adam.periods.treatment_pieces) is
a run of one treatment (a stretch of the subject's dated EX records with no other treatment in
between) within one period: a run continued from a parent study's period into its extension is
two pieces, so that each record lies in one study period and carries each analysis pool's record
flag (ANLzzFL, :func:`adam.pools.derive_record_flags`). Pooled groups (e.g. "All cream") are not
records: a record names the pooled groups it belongs to in TRTAGy/TRTAGyN (ADaMIG 1.3; TRTPGy from
the planned treatment of its period), so that summing AVAL over any set of records counts each day
once. Parameters (PARAM texts are the decodes of the spec's CL.ADEX.PARAMCD; AVALU the unit):

==========  ==================================================================  ========
PARAMCD     AVAL                                                                AVALU
==========  ==================================================================  ========
TRTDURD     days of the piece: first dose to the day before the next piece of   DAYS
            the same run starts, or, for a run's last piece, its last dose, + 1
            (the pieces of a run add up to last dose - first dose + 1); null for
            undated EX records (one record per subject, period and group)
TRTDURY     TRTDURD / :data:`adam.units.DAYS_PER_YEAR`               YEARS
TDOSE       sum over the piece's EX records of EXDOSE x the administrations in    EXDOSU
            the record's days (:func:`administrations`)
ADOSE       TDOSE / TRTDURD: mean amount per day                                  EXDOSU/day
==========  ==================================================================  ========

ASTDT/AENDT are the piece's first and last dose dates. TDOSE (and ADOSE) is null when the dose of
any of the piece's records cannot be computed (EXDOSE missing, EXDOSFRQ without a
``doses_per_day`` entry); the build reports each such record (TP0206). A group's exposure is the
sum over its records (TRTA, or TRTAGy for a pooled group): the report's
:func:`report.tables.subject_totals`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from adam.config import ISSConfig
from adam.groups import derive_pooled_groups, planned_of_periods
from adam.periods import piece_of_records
from adam.pools import derive_record_flags
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


def piece_exposure(records: pd.DataFrame, pieces: pd.DataFrame, iss: ISSConfig) -> pd.DataFrame:
    """Per subject and treatment piece (:func:`adam.periods.piece_windows`: a run of one
    treatment within a period, with PEND, the end of its share of the run): the piece's study
    (STUDYID, SPERIOD), APERIOD, group (GROUP/GROUPN), first/last dose (ASTDT/AENDT), DAYS
    (PEND - first dose + 1: the pieces of a run add up to the run), YEARS, TDOSE (the doses of
    the piece's EX records, :func:`dose_per_record`; null when one cannot be computed) and the
    dose UNIT. Undated EX records (no EXSTDT: in no piece) are one more record per subject,
    period and group, with no dates, DAYS or TDOSE: the subject was exposed (SAFFL) but nothing
    can be measured."""
    rec = records.dropna(subset=["GROUP"]).copy()
    rec["_DOSE"] = dose_per_record(rec, iss)
    dated = piece_of_records(rec)
    doses = (dated.assign(_NODOSE=dated["_DOSE"].isna())
             .groupby(["USUBJID", "PIECE"], sort=False)
             .agg(TDOSE=("_DOSE", "sum"), _NODOSE=("_NODOSE", "max"), UNIT=("EXDOSU", "first")).reset_index())
    out = pieces.merge(doses, on=["USUBJID", "PIECE"], how="left")
    out = pd.DataFrame({"STUDYID": out["STUDYID"], "USUBJID": out["USUBJID"], "APERIOD": out["APERIOD"],
                        "SPERIOD": out["SPERIOD"], "GROUP": out["TRTA"], "GROUPN": out["TRTAN"],
                        "ASTDT": out["TRSDT"], "AENDT": out["TREDT"], "DAYS": out["PEND"] - out["TRSDT"] + 1,
                        "TDOSE": out["TDOSE"].where(~out["_NODOSE"].astype(bool)), "UNIT": out["UNIT"]})
    undated = (rec[rec["EXSTDT"].isna()]
               .groupby(["USUBJID", "APERIOD", "GROUPN"], sort=False)
               .agg(STUDYID=("STUDYID", "first"), SPERIOD=("SPERIOD", "first"), GROUP=("GROUP", "first"),
                    UNIT=("EXDOSU", "first")).reset_index())
    undated = undated.assign(ASTDT=np.nan, AENDT=np.nan, DAYS=np.nan, TDOSE=np.nan)
    out = pd.concat([out, undated[out.columns]], ignore_index=True)
    out["YEARS"] = days_to_years(out["DAYS"].astype("float64"))
    return out.sort_values(["STUDYID", "USUBJID", "ASTDT", "APERIOD", "GROUPN"], kind="mergesort",
                           na_position="last").reset_index(drop=True)


def derive_adex(exposure: pd.DataFrame, adsl: pd.DataFrame, param_names: dict[str, str], iss: ISSConfig
                ) -> pd.DataFrame:
    """ADEX records from :func:`piece_exposure` (see the module docstring), with the pooled
    groups (:func:`adam.groups.derive_pooled_groups`) and the pools' record flags
    (:func:`adam.pools.derive_record_flags`)."""
    params = [("TRTDURD", exposure["DAYS"], "DAYS", 1), ("TRTDURY", exposure["YEARS"], "YEARS", 2),
              ("TDOSE", exposure["TDOSE"], exposure["UNIT"], 3),
              ("ADOSE", exposure["TDOSE"] / exposure["DAYS"], exposure["UNIT"] + "/day", 4)]
    parts = []
    for code, aval, unit, number in params:
        parts.append(pd.DataFrame({
            "STUDYID": exposure["STUDYID"].to_numpy(), "USUBJID": exposure["USUBJID"].to_numpy(),
            "APERIOD": exposure["APERIOD"].to_numpy(dtype=float), "SPERIOD": exposure["SPERIOD"].to_numpy(),
            "TRTA": exposure["GROUP"].to_numpy(), "TRTAN": exposure["GROUPN"].to_numpy(dtype=float),
            "PARAMCD": code, "PARAM": param_names.get(code, code), "PARAMN": float(number),
            "AVAL": np.asarray(aval, dtype=float), "AVALU": np.asarray(unit, dtype=object),
            "ASTDT": exposure["ASTDT"].to_numpy(), "AENDT": exposure["AENDT"].to_numpy()}))
    adex = pd.concat(parts, ignore_index=True)
    copies = adsl.set_index("USUBJID")
    for name in ADSL_COPIES:
        if name in copies:
            adex[name] = adex["USUBJID"].map(copies[name])
    adex = derive_pooled_groups(adex, iss, planned=planned_of_periods(adex, adsl))
    adex = derive_record_flags(adex, iss.analysis_pools, study="STUDYID").drop(columns="SPERIOD")
    return adex.sort_values(["STUDYID", "USUBJID", "ASTDT", "APERIOD", "TRTAN", "PARAMN"], kind="mergesort",
                            na_position="last").reset_index(drop=True)
