"""Which treatment group of the ISS config holds a treatment or an arm.

The ISS config's groups name the treatments (EXTRT, optionally one dose level) or the arms
(``assign_by: arm``) they hold. These lookups are the one place that rule is applied: to EX
records (adam.periods), to the study configs' planned arms (planned groups; the analysis
pools' check that a comparison is randomised, adam.pools). ``iss`` is an
:class:`adam.config.ISSConfig` (its ``base_groups``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def groups_of_treatments(extrt: pd.Series, dose: pd.Series, unit: pd.Series, iss
                         ) -> tuple[pd.Series, pd.Series]:
    """The non-pooled group (label, number) of each exposure by its EXTRT (any case) and, for a
    group that holds one dose level of a product, its EXDOSE (and EXDOSU, any case): a dose-level
    treatment is matched before a group holding every dose of the product. None where no group
    holds it."""
    label = pd.Series(None, index=extrt.index, dtype=object)
    number = pd.Series(np.nan, index=extrt.index)
    name = extrt.astype("string").str.upper()
    dose = pd.to_numeric(dose, errors="coerce").astype("float64")
    unit = unit.astype("string").str.upper() if unit is not None else pd.Series(pd.NA, index=extrt.index)
    refs = [(ref, g) for g in iss.base_groups for ref in g.treatments]
    for ref, g in sorted(refs, key=lambda pair: pair[0].dose is None):   # dose levels first
        holds = (name == ref.extrt.upper()).fillna(False)
        if ref.dose is not None:
            holds &= np.isclose(dose, ref.dose) & dose.notna()
        if ref.dose_unit is not None:
            holds &= (unit == ref.dose_unit.upper()).fillna(False)
        take = holds.to_numpy(dtype=bool) & label.isna().to_numpy()
        label[take], number[take] = g.label, float(g.number)
    return label, number


def group_of_arm(iss) -> dict[str, tuple[str, int]]:
    """``assign_by: arm``: each arm (upper case) a non-pooled group lists -> (label, number)."""
    out = {}
    for g in iss.base_groups:
        for arm in g.arms:
            out[arm.upper()] = (g.label, g.number)
    return out


def arm_treatment_groups(studies, iss) -> pd.DataFrame:
    """The group each arm of the study configs ``studies`` plans in each of its periods: STUDYID,
    ARMCD, PERIOD (the period's number in the study), TRTP, TRTPN (null where no group holds the
    treatment). With ``assign_by: exposure``, the group holding the arm's treatment of the period
    (one lookup for every study's arms); with ``assign_by: arm``, the group listing the arm (its
    ARM or ARMCD), planned in the arm's first period, as ADSL's TRTxxP are derived
    (adam.periods.planned_groups)."""
    rows = [(study.studyid, arm["armcd"], arm["arm"], number, study.treatments.get(code, {}))
            for study in studies for arm in study.arms for number, code in enumerate(arm["treatments"], start=1)]
    frame = pd.DataFrame({"STUDYID": pd.Series([r[0] for r in rows], dtype=object),
                          "ARMCD": pd.Series([r[1] for r in rows], dtype=object),
                          "PERIOD": pd.Series([r[3] for r in rows], dtype="int64")})
    if iss.assign_by == "arm":
        by_arm = group_of_arm(iss)
        found = [by_arm.get(r[2].upper(), by_arm.get(r[1].upper(), (None, np.nan))) if r[3] == 1 else (None, np.nan)
                 for r in rows]
        return frame.assign(TRTP=pd.Series([f[0] for f in found], dtype=object),
                            TRTPN=pd.Series([f[1] for f in found], dtype="float64"))
    label, number = groups_of_treatments(pd.Series([r[4].get("extrt") for r in rows], dtype=object),
                                         pd.Series([r[4].get("dose") for r in rows], dtype=object),
                                         pd.Series([r[4].get("dose_unit") for r in rows], dtype=object), iss)
    return frame.assign(TRTP=label.to_numpy(dtype=object), TRTPN=number.to_numpy(dtype="float64"))


def planned_groups_of_arms(studies, iss) -> dict[tuple[str, int], set[str]]:
    """Per study and period number of the study configs ``studies``, the labels of the groups
    their arms plan in it (:func:`arm_treatment_groups`)."""
    planned = arm_treatment_groups(studies, iss).dropna(subset=["TRTP"])
    return {(sid, int(period)): set(part["TRTP"]) for (sid, period), part in planned.groupby(["STUDYID", "PERIOD"])}


def pooled_levels(iss) -> list:
    """The pooled groups of the ISS config (those with ``pools``) in the order of their numbers:
    pooling level y = position + 1 of the ADaMIG pooled-treatment variables (TRTAGy, TRxxAGy)."""
    return sorted((g for g in iss.groups if g.pooled), key=lambda g: g.number)


def pooled_group(treatment: pd.Series, group) -> tuple[pd.Series, pd.Series]:
    """The pooled ``group``'s label and number where ``treatment`` (a group label) is one of the
    groups it pools, null elsewhere."""
    member = treatment.isin(group.pools).to_numpy(dtype=bool)
    label = pd.Series(np.where(member, group.label, None), index=treatment.index, dtype=object)
    number = pd.Series(np.where(member, float(group.number), np.nan), index=treatment.index)
    return label, number


def derive_pooled_groups(frame: pd.DataFrame, iss, *, actual: str = "TRTA", planned: pd.Series | None = None,
                         names: tuple[str, str] = ("TRTAG{y}", "TRTPG{y}")) -> pd.DataFrame:
    """ADaMIG 1.3 pooled treatments of each record (BDS/OCCDS TRTAGy/TRTAGyN, TRTPGy/TRTPGyN), one
    level y per pooled group (:func:`pooled_levels`): TRTAGy = the pooled group's label where the
    record's ``actual`` group is one it pools, else null; TRTPGy the same of ``planned`` (the
    record's planned group, :func:`planned_of_periods`; none when not given). ``names`` are the
    actual and planned variables' patterns (ADSL: ``("TR01AG{y}", "TR01PG{y}")``); each ...N holds
    the pooled group's number."""
    frame = frame.copy()
    for y, group in enumerate(pooled_levels(iss), start=1):
        for pattern, source in ((names[1], planned), (names[0], frame[actual] if actual in frame else None)):
            if source is None:
                continue
            name = pattern.format(y=y)
            frame[name], frame[f"{name}N"] = pooled_group(pd.Series(source, index=frame.index).astype(object), group)
    return frame


def planned_of_periods(frame: pd.DataFrame, adsl: pd.DataFrame, *, period: str = "APERIOD") -> pd.Series:
    """Each record's planned group: ADSL TRTxxP of its subject with xx = the record's ``period``
    (null without a period or a planned group)."""
    columns = [c for c in adsl.columns if len(c) == 6 and c.startswith("TRT") and c[3:5].isdigit() and c[5] == "P"]
    if not columns or period not in frame:
        return pd.Series(None, index=frame.index, dtype=object)
    long = adsl[["USUBJID", *columns]].melt(id_vars="USUBJID", var_name="_P", value_name="_TRTP")
    long = long.assign(_APERIOD=long["_P"].str[3:5].astype("float64"), USUBJID=long["USUBJID"].astype(object))
    keys = frame[["USUBJID", period]].astype({"USUBJID": object}).astype({period: "float64"})
    found = keys.merge(long[["USUBJID", "_APERIOD", "_TRTP"]], left_on=["USUBJID", period],
                       right_on=["USUBJID", "_APERIOD"], how="left")
    return pd.Series(found["_TRTP"].to_numpy(dtype=object), index=frame.index)
