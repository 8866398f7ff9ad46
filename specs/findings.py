"""Findings: conformance problems as data.

A finding is one record — rule id, severity, dataset, variable, row (1-based, or null
for dataset-level findings), value, message, and the file the row is in (a raw file for
mapping findings, where ``row`` is that file's row; else null). A set of findings is a pandas DataFrame with
exactly :data:`COLUMNS`, so a million of them cost one frame, not a million objects.
The rule catalogue (:data:`RULES`) gives every rule id its severity and meaning; the
validation report lists it.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

COLUMNS = ["rule", "severity", "dataset", "variable", "row", "value", "message", "file"]
SEVERITIES = ("error", "warning", "notice")

#: rule id -> (severity, what the rule checks)
RULES: dict[str, tuple[str, str]] = {
    "TP0001": ("error", "Required (Req) variable is missing from the dataset"),
    "TP0002": ("warning", "Expected (Exp) variable is missing from the dataset"),
    "TP0003": ("error", "Variable is not in the spec for this dataset"),
    "TP0004": ("error", "Required (Req) variable has a null value"),
    "TP0005": ("error", "Value does not match the variable's data type"),
    "TP0006": ("error", "Character value is longer than 200 bytes (XPT v5 limit)"),
    "TP0007": ("error", "Character value is longer than the spec length"),
    "TP0008": ("error", "Value contains a non-ASCII character"),
    "TP0009": ("error", "Value is not in the non-extensible codelist"),
    "TP0010": ("warning", "Value is not in the extensible codelist (extended value)"),
    "TP0011": ("error", "Value is not a valid ISO 8601 date/time"),
    "TP0012": ("error", "Value is not a valid ISO 8601 duration"),
    "TP0013": ("error", "Key variables do not identify records uniquely"),
    "TP0014": ("error", "Numeric value is infinite (not storable in XPT)"),
    "TP0015": ("error", "Variable order differs from the spec"),
    "TP0016": ("notice", "Codelist membership not checked: codelist unknown"),
    # raw data -> SDTM mapping
    "TP0101": ("warning", "Raw record rejected (not mapped to SDTM)"),
    "TP0102": ("warning", "Raw date is not a valid date; the SDTM date is left null"),
    "TP0103": ("warning", "Date is after the data cut-off"),
    "TP0104": ("warning", "End date is before the start date (record kept)"),
    "TP0105": ("warning", "Seriousness (AESER) disagrees with the seriousness criteria"),
    "TP0106": ("notice", "Age cannot be derived from a partial birth date"),
    "TP0107": ("warning", "Raw value not in the codelist after value mapping"),
    # SDTM -> ADaM
    "TP0201": ("notice", "AE of a subject not in ADSL (not analysed)"),
    "TP0202": ("warning", "Exposure intervals of one subject and treatment overlap"),
    "TP0203": ("warning", "Exposure dated outside DM.RFXSTDTC..RFXENDTC"),
}


def empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="Int64" if c == "row" else object) for c in COLUMNS})


def make(
    rule: str,
    dataset: str,
    variable: str | None,
    *,
    rows: Sequence[int] | np.ndarray | None = None,
    values: Sequence | np.ndarray | pd.Series | None = None,
    message: str | Sequence[str] | pd.Series,
    severity: str | None = None,
    file: str | Sequence[str] | np.ndarray | None = None,
) -> pd.DataFrame:
    """Findings of one rule: one per row in ``rows`` (1-based), or one dataset-level finding."""
    severity = severity or RULES[rule][0]
    if rows is None:
        n = 1
        row_col = pd.array([pd.NA], dtype="Int64")
    else:
        row_col = pd.array(np.asarray(rows, dtype="int64"), dtype="Int64")
        n = len(row_col)
    if values is None:
        value_col = np.full(n, None, dtype=object)
    else:
        value_col = np.asarray(pd.Series(values).astype(object).to_numpy(), dtype=object)
    msg = message if isinstance(message, str) else np.asarray(message, dtype=object)
    return pd.DataFrame({
        "rule": np.full(n, rule, dtype=object),
        "severity": np.full(n, severity, dtype=object),
        "dataset": np.full(n, dataset, dtype=object),
        "variable": np.full(n, variable, dtype=object),
        "row": row_col,
        "value": value_col,
        "message": np.full(n, msg, dtype=object) if isinstance(msg, str) else msg,
        "file": np.full(n, file, dtype=object) if file is None or isinstance(file, str)
        else np.asarray(file, dtype=object),
    })


def concat(frames: Iterable[pd.DataFrame | None]) -> pd.DataFrame:
    """Stack findings; ``None`` and empty frames (rules that found nothing) are skipped."""
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return empty()
    return pd.concat(frames, ignore_index=True)


def counts(findings: pd.DataFrame) -> dict[str, int]:
    """Number of findings per severity (every severity present, possibly 0)."""
    got = findings["severity"].value_counts()
    return {s: int(got.get(s, 0)) for s in SEVERITIES}
