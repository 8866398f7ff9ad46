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


def planned_groups_of_arms(study, iss) -> dict[int, set[str]]:
    """Per period number of a study config, the labels of the groups its arms plan in it: the
    group holding the arm's treatment of that period (``assign_by: exposure``), or the group
    listing the arm, in every period the arm has (``assign_by: arm``)."""
    out: dict[int, set[str]] = {}
    by_arm = group_of_arm(iss)
    for arm in study.arms:
        for number, code in enumerate(arm["treatments"], start=1):
            if iss.assign_by == "arm":
                label = by_arm.get(arm["arm"].upper(), by_arm.get(arm["armcd"].upper(), (None,)))[0]
            else:
                trt = study.treatments.get(code, {})
                label = groups_of_treatments(pd.Series([trt.get("extrt")], dtype=object), pd.Series([trt.get("dose")]),
                                             pd.Series([trt.get("dose_unit")], dtype=object), iss)[0].iloc[0]
            if label is not None and label == label:
                out.setdefault(number, set()).add(label)
    return out
