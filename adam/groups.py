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
