"""SUPP-- — Supplemental Qualifiers (SDTMIG v3.4 §8.4, standards.md §3.9).

One SUPP dataset per parent domain. Keys STUDYID, RDOMAIN, USUBJID, IDVAR, IDVARVAL, QNAM;
for DM parents IDVAR and IDVARVAL are null, otherwise IDVAR is --SEQ and IDVARVAL its
value as text. QVAL is never null: qualifiers without a value make no record.
"""
from __future__ import annotations

import pandas as pd

from sdtm.common import text

SUPP_COLUMNS = ["STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QLABEL", "QVAL", "QORIG", "QEVAL"]
SUPP_PREFIX = "_SUPP_"


def build_supp(parent: pd.DataFrame, domain: str, qualifiers: list[dict], *, idvar: str | None) -> pd.DataFrame:
    """SUPP``domain`` records from the parent's ``_SUPP_<QNAM>`` helper columns.

    ``qualifiers`` are the config's ``supplemental.<domain>`` entries (qnam, qlabel, qorig,
    qeval). Records are ordered by USUBJID, IDVARVAL (numerically) and the config's QNAM order.
    """
    parts = []
    for order, q in enumerate(qualifiers):
        col = SUPP_PREFIX + q["qnam"]
        if col not in parent:
            continue
        has = parent[col].notna()
        rows = parent.loc[has]
        part = pd.DataFrame({
            "STUDYID": rows["STUDYID"].to_numpy(), "RDOMAIN": domain, "USUBJID": rows["USUBJID"].to_numpy(),
            "IDVAR": idvar, "IDVARVAL": (rows[idvar].astype("Int64").astype("string").to_numpy()
                                         if idvar else None),
            "QNAM": q["qnam"], "QLABEL": q["qlabel"], "QVAL": rows[col].to_numpy(),
            "QORIG": q.get("qorig", "CRF"), "QEVAL": q.get("qeval"),
            "_ORDER": order, "_SEQ": rows[idvar].to_numpy() if idvar else 0,
        })
        parts.append(part)
    if not parts:
        return pd.DataFrame({c: text([]) for c in SUPP_COLUMNS})
    supp = pd.concat(parts, ignore_index=True).sort_values(["USUBJID", "_SEQ", "_ORDER"], kind="mergesort")
    supp = supp[SUPP_COLUMNS].reset_index(drop=True)
    for col in SUPP_COLUMNS:
        supp[col] = text(supp[col].astype(object).where(supp[col].notna(), None))
    return supp
