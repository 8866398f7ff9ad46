"""TS — Trial Summary (SDTMIG v3.4 §7.6): the study-level parameters a reviewer's tools read
first. FDA technical rejection criterion 1734 requires ts.xpt with the study start date
(SSTDTC), so every study package carries at least: SSTDTC (earliest informed consent), TITLE,
TPHASE (with its C-code), STYPE, and where the config gives them SPONSOR and INDIC, plus the
study treatments (TRT), route (ROUTE) and dose form (DOSFRM).

TSPARM (the parameter's name) is the decode of TSPARMCD in the spec's codelist, and TSVALCD
the C-code of a CT-controlled value: nothing here types terminology twice.
"""
from __future__ import annotations

import pandas as pd

from sdtm.common import text
from sdtm.config import StudyConfig
from specs.iso8601 import dtc_date
from specs.model import Spec

TS_COLUMNS = ["STUDYID", "DOMAIN", "TSSEQ", "TSPARMCD", "TSPARM", "TSVAL", "TSVALCD", "TSVCDREF", "TSVCDVER"]


def build_trial_summary(config: StudyConfig, dm: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    """TS rows from the config and DM; see the module docstring for the parameters."""
    consent = dtc_date(dm["RFICDTC"]).dropna()
    active = [t["extrt"] for t in config.treatments.values() if t.get("active", True)]
    rows: list[tuple[str, str | None, str | None]] = [
        ("SSTDTC", consent.min().strftime("%Y-%m-%d") if len(consent) else None, None),
        ("TITLE", config.get("title"), None),
        ("TPHASE", config.get("phase"), "TPHASE"),
        ("STYPE", "INTERVENTIONAL", "STYPE"),
        ("SPONSOR", config.get("sponsor"), None),
        ("INDIC", config.get("indication"), None),
        *[("TRT", name, None) for name in active],
        ("ROUTE", config.exposure.get("route"), "ROUTE"),
        ("DOSFRM", config.exposure.get("dose_form"), "FRM"),
    ]
    names = _decodes(spec, "CL.TSPARMCD")
    out = []
    seq: dict[str, int] = {}
    for code, value, cl in rows:
        if value is None:
            continue
        seq[code] = seq.get(code, 0) + 1
        c_code, ref, version = _term_code(spec, cl, value)
        out.append({"STUDYID": config.studyid, "DOMAIN": "TS", "TSSEQ": float(seq[code]), "TSPARMCD": code,
                    "TSPARM": names.get(code, code), "TSVAL": value, "TSVALCD": c_code, "TSVCDREF": ref,
                    "TSVCDVER": version})
    ts = pd.DataFrame(out, columns=TS_COLUMNS)
    for col in TS_COLUMNS:
        if col != "TSSEQ":
            ts[col] = text(ts[col].astype(object).where(ts[col].notna(), None))
    return ts


def _decodes(spec: Spec, oid: str) -> dict[str, str]:
    try:
        return {i.value: i.decode for i in spec.codelist(oid).items if i.decode}
    except KeyError:
        return {}


def _term_code(spec: Spec, codelist: str | None, value: str) -> tuple[str | None, str | None, str | None]:
    if codelist is None:
        return None, None, None
    try:
        cl = spec.codelist(f"CL.{codelist}")
    except KeyError:
        return None, None, None
    item = next((i for i in cl.items if i.value == value), None)
    if item is None or item.code is None:
        return None, None, None
    version = next((s.version for s in spec.standards if s.oid == cl.standard), None)
    return item.code, "CDISC CT", version
