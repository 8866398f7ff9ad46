"""ADSL — Subject-Level Analysis Dataset (ADaMIG 1.3 §3.2, standards.md §4.2), pooled.

One record per subject of the integrated database; STUDYID is kept (it is the stratum of
every pooled comparison). Subjects are the DM subjects with a planned arm or any exposure:
screen failures (neither) are not analysed. Each variable group is one function below,
with its rule in the docstring; dates are SAS-style numeric dates held as ``datetime64``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from adam.config import ISSConfig
from adam.groups import derive_pooled_groups
from adam.units import days_to_years
from specs.columns import is_in
from specs.shape import detached
from specs.iso8601 import days_to_datetime, to_epoch_days

def adsl_base(dm: pd.DataFrame, ds: pd.DataFrame | None, ex: pd.DataFrame) -> pd.DataFrame:
    """DM copies and the subject-level dates from DM and DS (before treatment variables).

    Subjects: DM records with ARMCD or any EX record, one ADSL record per person
    (:func:`first_enrolments`: a subject who rolled over into an extension is one person with
    one USUBJID in two studies' DM). RFICDT, DTHDT = DM.RFICDTC/DTHDTC as dates (complete
    dates only); RANDDT by :func:`derive_randdt`. EOSSTT/DCSREAS/EOSDT from the subject's last disposition event in any study
    (DS, DSCAT "DISPOSITION EVENT", by date then DSSEQ): DSDECOD "COMPLETED" -> EOSSTT
    "COMPLETED"; any other -> "DISCONTINUED" with DCSREAS = DSDECOD; no event -> "ONGOING".
    """
    treated = is_in(dm["USUBJID"], ex["USUBJID"])
    base = first_enrolments(dm.loc[dm["ARMCD"].notna() | treated])
    keep = ["STUDYID", "USUBJID", "SUBJID", "SITEID", "AGE", "AGEU", "SEX", "RACE", "ETHNIC", "ARMCD", "ARM",
            "ACTARM", "DTHFL"]
    adsl = base[[c for c in keep if c in base]].reset_index(drop=True)
    adsl["RFICDT"] = to_epoch_days(base["RFICDTC"])
    adsl["DTHDT"] = to_epoch_days(base["DTHDTC"]) if "DTHDTC" in base else np.nan
    return derive_end_of_study(derive_randdt(adsl, ds), ds)


def derive_randdt(adsl: pd.DataFrame, ds: pd.DataFrame | None, *, decod: str = "RANDOMIZED") -> pd.DataFrame:
    """RANDDT (ADaMIG 1.3: "Date of Randomization", required in randomised trials): the date of
    the subject's DS protocol milestone RANDOMIZED (DSCAT "PROTOCOL MILESTONE"), the earliest if
    the person was randomised in several studies; null without one, or when its date is partial
    (no imputation)."""
    adsl = detached(adsl)
    adsl["RANDDT"] = np.nan
    if ds is None or not len(ds) or "DSCAT" not in ds:
        return adsl
    randomised = ds[(ds["DSDECOD"] == decod) & (ds["DSCAT"] == "PROTOCOL MILESTONE")]
    day = pd.Series(to_epoch_days(randomised["DSSTDTC"]), index=randomised.index)
    first = day.groupby(randomised["USUBJID"].to_numpy()).min()
    adsl["RANDDT"] = adsl["USUBJID"].map(first).astype("float64")
    return adsl


def first_enrolments(dm: pd.DataFrame) -> pd.DataFrame:
    """One DM record per person: where a USUBJID is in several studies' DM (rolled over into an
    extension), the record of the study the person entered first — the earliest informed consent
    (RFICDTC, by the earliest day it can denote), then the first study in pooling order. Its
    STUDYID, site, arm and demographics (AGE at first consent) are ADSL's; DTHFL/DTHDTC come from
    any of the person's records (a death recorded in the extension is the person's)."""
    if not dm["USUBJID"].duplicated().any():
        return dm.copy()
    order = dm.assign(_C=to_epoch_days(dm["RFICDTC"]), _P=np.arange(len(dm)))
    first = order.sort_values(["_C", "_P"], kind="mergesort", na_position="last").drop_duplicates("USUBJID")
    first = first.sort_values("_P", kind="mergesort").drop(columns=["_C", "_P"])
    for var in ("DTHFL", "DTHDTC"):
        if var in dm:
            known = dm[dm[var].notna()].drop_duplicates("USUBJID").set_index("USUBJID")[var]
            first[var] = first["USUBJID"].map(known).where(lambda s: s.notna(), None)
    return first


def derive_end_of_study(adsl: pd.DataFrame, ds: pd.DataFrame | None) -> pd.DataFrame:
    """EOSSTT, DCSREAS, EOSDT (see :func:`adsl_base`)."""
    adsl = detached(adsl)
    if ds is None or not len(ds):
        adsl["EOSSTT"], adsl["DCSREAS"], adsl["EOSDT"] = "ONGOING", None, np.nan
        return adsl
    events = ds[ds["DSCAT"].fillna("DISPOSITION EVENT") == "DISPOSITION EVENT"]
    events = events.assign(_D=to_epoch_days(events["DSSTDTC"]))
    last = events.sort_values(["USUBJID", "_D", "DSSEQ"], kind="mergesort").drop_duplicates("USUBJID", keep="last")
    last = last.set_index("USUBJID")
    decod = adsl["USUBJID"].map(last["DSDECOD"])
    adsl["EOSSTT"] = np.select([decod.isna(), decod == "COMPLETED"], ["ONGOING", "COMPLETED"], "DISCONTINUED")
    adsl["DCSREAS"] = decod.where(adsl["EOSSTT"] == "DISCONTINUED").astype(object)
    adsl["EOSDT"] = adsl["USUBJID"].map(last["_D"]).astype("float64")
    return adsl


def derive_age_groups(adsl: pd.DataFrame, age_groups: list[dict]) -> pd.DataFrame:
    """AGEGR1/AGEGR1N from the config's age groups: the first group with lower <= AGE
    (< or <= per ``lower_inclusive``) and AGE < upper (or <= per ``upper_inclusive``);
    a missing bound is open. No group -> null."""
    adsl = detached(adsl)
    age = adsl["AGE"].astype("float64")
    label = pd.Series(None, index=adsl.index, dtype=object)
    number = pd.Series(np.nan, index=adsl.index)
    for g in age_groups:
        lo, hi = g.get("lower"), g.get("upper")
        ok = age.notna() & label.isna()
        if lo is not None:
            ok &= age >= lo if g.get("lower_inclusive", True) else age > lo
        if hi is not None:
            ok &= age <= hi if g.get("upper_inclusive", False) else age < hi
        label[ok] = g["label"]
        number[ok] = g["number"]
    adsl["AGEGR1"], adsl["AGEGR1N"] = label, number
    return adsl


def derive_treatment_variables(adsl: pd.DataFrame, periods: pd.DataFrame, planned: pd.DataFrame) -> pd.DataFrame:
    """Per period xx: TRTxxP/TRTxxPN from the planned arm (every subject with an arm, treated
    or not); TRTxxA/TRTxxAN, TRxxSDT/TRxxEDT (+F), APxxSDT/APxxEDT from the subject's
    periods; overall TRTSDT = first TRxxSDT, TRTEDT = last TRxxEDT (with the flags of those
    dates), TRTDURD = TRTEDT - TRTSDT + 1, TRTDURY = TRTDURD / DAYS_PER_YEAR."""
    adsl = detached(adsl)
    numbers = sorted(set(periods["APERIOD"].dropna().astype(int)) | set(planned["APERIOD"].dropna().astype(int)))
    for number in numbers:
        xx = f"{int(number):02d}"
        plan = planned[planned["APERIOD"] == number].drop_duplicates("USUBJID").set_index("USUBJID")
        adsl[f"TRT{xx}P"] = adsl["USUBJID"].map(plan["TRTP"])
        adsl[f"TRT{xx}PN"] = adsl["USUBJID"].map(plan["TRTPN"])
        p = periods[periods["APERIOD"] == number].set_index("USUBJID")
        for src, dst in (("TRTA", f"TRT{xx}A"), ("TRTAN", f"TRT{xx}AN"), ("TRSDT", f"TR{xx}SDT"),
                         ("TRSDTF", f"TR{xx}SDTF"), ("TREDT", f"TR{xx}EDT"), ("TREDTF", f"TR{xx}EDTF"),
                         ("APSDT", f"AP{xx}SDT"), ("APEDT", f"AP{xx}EDT")):
            adsl[dst] = adsl["USUBJID"].map(p[src])
    first = periods.sort_values(["USUBJID", "TRSDT"], kind="mergesort").drop_duplicates("USUBJID").set_index("USUBJID")
    last = periods.sort_values(["USUBJID", "TREDT"], kind="mergesort").drop_duplicates("USUBJID", keep="last")
    last = last.set_index("USUBJID")
    adsl["TRTSDT"] = adsl["USUBJID"].map(first["TRSDT"]).astype("float64")
    adsl["TRTSDTF"] = adsl["USUBJID"].map(first["TRSDTF"])
    adsl["TRTEDT"] = adsl["USUBJID"].map(last["TREDT"]).astype("float64")
    adsl["TRTEDTF"] = adsl["USUBJID"].map(last["TREDTF"])
    adsl["TRTDURD"] = adsl["TRTEDT"] - adsl["TRTSDT"] + 1
    adsl["TRTDURY"] = days_to_years(adsl["TRTDURD"])
    return adsl


def derive_period_pooled_groups(adsl: pd.DataFrame, iss: ISSConfig) -> pd.DataFrame:
    """Per period xx and pooling level y (ADaMIG 1.3: one level per pooled group of the ISS
    config, :func:`adam.groups.pooled_levels`): TRxxPGy/TRxxPGyN = the pooled group pooling
    TRTxxP, TRxxAGy/TRxxAGyN = the one pooling TRTxxA (null where the level's group does not
    pool the period's treatment)."""
    periods = [c[3:5] for c in adsl.columns if len(c) == 6 and c.startswith("TRT") and c[3:5].isdigit()
               and c[5] == "A"]
    for xx in periods:
        adsl = derive_pooled_groups(adsl, iss, actual=f"TRT{xx}A", planned=adsl.get(f"TRT{xx}P"),
                                    names=(f"TR{xx}AG{{y}}", f"TR{xx}PG{{y}}"))
    return adsl


def derive_population_flags(adsl: pd.DataFrame, records: pd.DataFrame, randomised_studies) -> pd.DataFrame:
    """SAFFL = "Y" if the subject received any study treatment — has any exposure record
    (``records``: EX), dated or not — else "N" (never null, ADaMIG §3.1.4).

    ITTFL, the randomised population, cases in order:

    1. the subject's study (ADSL.STUDYID) does not randomise (study config ``randomized:
       false``, ``randomised_studies`` lacks it: an open-label single-arm study) -> null, there
       is no intent-to-treat population;
    2. randomised: a planned arm (ARMCD not null) -> "Y";
    3. otherwise -> "N"."""
    adsl = detached(adsl)
    adsl["SAFFL"] = np.where(is_in(adsl["USUBJID"], records["USUBJID"]), "Y", "N")
    randomising = adsl["STUDYID"].isin(list(randomised_studies)).to_numpy()
    adsl["ITTFL"] = np.where(randomising, np.where(adsl["ARMCD"].notna(), "Y", "N"), None)
    return adsl


def dates_to_datetime(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Day-number columns -> ``datetime64[s]`` (the XPT writer stores them as SAS dates)."""
    frame = detached(frame)
    for name in names:
        if name in frame:
            frame[name] = days_to_datetime(frame[name].to_numpy(dtype="float64"), index=frame.index)
    return frame


def date_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.endswith("DT") and pd.api.types.is_float_dtype(frame[c])]
