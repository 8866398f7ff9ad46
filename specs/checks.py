"""Conformance checks of a dataset against its spec, returned as findings.

Vectorised: every rule is a handful of whole-column operations, so a million rows take
seconds. Rules (ids in :data:`specs.findings.RULES`), in the order they run:

1. variables — Req present (TP0001), Exp present (TP0002), nothing outside the spec
   (TP0003), spec order (TP0015);
2. per variable — Req values non-null (TP0004); type (TP0005); numbers finite (TP0014);
   text no longer than 200 bytes (TP0006) and than the spec length (TP0007); ASCII only
   (TP0008); codelist membership, non-extensible error (TP0009) or extensible warning
   (TP0010); ISO 8601 validity of date/time text (TP0011) and durations (TP0012);
3. dataset — key variables unique (TP0013).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from specs import findings
from specs.model import DatasetSpec, Spec, VariableSpec

MAX_VALUE_BYTES = 200
ISO_DATE_TYPES = frozenset({"date", "datetime", "time", "partialDate", "partialTime",
                            "partialDatetime", "incompleteDatetime", "intervalDatetime"})


def check(df: pd.DataFrame, dataset: DatasetSpec, spec: Spec | None = None) -> pd.DataFrame:
    """Findings for ``df`` against ``dataset`` (codelists are looked up in ``spec``)."""
    out = [_check_variables(df, dataset)]
    codelists = {c.oid: c for c in spec.codelists} if spec is not None else None
    for var in dataset.variables:
        if var.name in df.columns:
            out += _check_values(df[var.name], var, dataset.name, codelists)
    out.append(_check_keys(df, dataset))
    return findings.concat(out)


def _check_variables(df: pd.DataFrame, dataset: DatasetSpec) -> pd.DataFrame:
    present = set(df.columns)
    out = []
    for var in dataset.variables:
        if var.name not in present and var.core in ("Req", "Exp"):
            rule = "TP0001" if var.core == "Req" else "TP0002"
            out.append(findings.make(rule, dataset.name, var.name,
                                     message=f"{var.core} variable {var.name} is missing"))
    for name in df.columns:
        if name not in dataset:
            out.append(findings.make("TP0003", dataset.name, str(name),
                                     message=f"{name} is not a variable of {dataset.name} in the spec"))
    spec_order = [n for n in dataset.names if n in present]
    data_order = [n for n in df.columns if n in dataset]
    if spec_order != data_order:
        first = next(i for i, (a, b) in enumerate(zip(spec_order, data_order)) if a != b)
        out.append(findings.make("TP0015", dataset.name, data_order[first],
                                 message=f"position {first + 1} holds {data_order[first]}; the spec has "
                                         f"{spec_order[first]} there"))
    return findings.concat(out)


def _check_values(col: pd.Series, var: VariableSpec, ds: str, codelists: dict | None) -> list:
    out = []
    missing = _missing(col)
    if var.core == "Req" and missing.any():
        out.append(_rows("TP0004", ds, var, missing, col, f"{var.name} is required and must not be null"))
    out += _check_numeric(col, var, ds) if var.is_numeric else _check_text(col, var, ds, missing)
    if var.codelist and codelists is not None:
        out.append(_check_codelist(col, var, ds, missing, codelists))
    return out


def _missing(col: pd.Series) -> pd.Series:
    miss = col.isna()
    if col.dtype == object or pd.api.types.is_string_dtype(col):
        miss |= col.astype("string").str.strip().fillna("") == ""
    return miss


def _rows(rule: str, ds: str, var: VariableSpec, mask: pd.Series, col: pd.Series, message) -> pd.DataFrame | None:
    idx = np.flatnonzero(mask.to_numpy(dtype=bool))
    if not len(idx):
        return None
    if isinstance(message, pd.Series):
        message = message.to_numpy()[idx]
    return findings.make(rule, ds, var.name, rows=idx + 1, values=col.iloc[idx], message=message)


def _check_numeric(col: pd.Series, var: VariableSpec, ds: str) -> list:
    if pd.api.types.is_datetime64_any_dtype(col) or pd.api.types.is_timedelta64_dtype(col):
        return []
    if pd.api.types.is_bool_dtype(col):
        return [findings.make("TP0005", ds, var.name, message=f"{var.name} is {var.data_type} but holds booleans")]
    if pd.api.types.is_numeric_dtype(col):
        numbers = col.astype("float64")
        bad_type = pd.Series(False, index=col.index)
    else:
        numbers = pd.to_numeric(col.astype("string").str.strip().replace("", None), errors="coerce")
        bad_type = numbers.isna() & ~_missing(col)
    out = [_rows("TP0005", ds, var, bad_type, col, f"{var.name} is {var.data_type}; the value is not a number")]
    out.append(_rows("TP0014", ds, var, pd.Series(np.isinf(numbers.to_numpy(dtype=float)), index=col.index),
                     col, f"{var.name} is infinite"))
    if var.data_type == "integer":
        vals = numbers.to_numpy(dtype=float)
        frac = np.isfinite(vals) & (vals != np.round(vals))
        out.append(_rows("TP0005", ds, var, pd.Series(frac, index=col.index), col,
                         f"{var.name} is integer; the value has a fractional part"))
    return out


def _check_text(col: pd.Series, var: VariableSpec, ds: str, missing: pd.Series) -> list:
    if pd.api.types.is_numeric_dtype(col) and not col.isna().all():
        return [findings.make("TP0005", ds, var.name, message=f"{var.name} is {var.data_type} (character) but "
                                                              f"the column is numeric")]
    text = col.astype("string").fillna("")
    non_ascii = text.str.contains(r"[^\x00-\x7F]", regex=True)
    nbytes = text.str.len().to_numpy(dtype="int64")
    if non_ascii.any():
        mask = non_ascii.to_numpy(dtype=bool)
        nbytes[mask] = text[mask].str.encode("utf-8").str.len().to_numpy(dtype="int64")
    nbytes = pd.Series(nbytes, index=col.index)
    out = []
    if non_ascii.any():
        first_char = text[non_ascii].str.extract(r"([^\x00-\x7F])", expand=False)
        msg = pd.Series("", index=col.index, dtype=object)
        msg[non_ascii] = ("non-ASCII character " + first_char.map(_describe_char) + " in " + var.name)
        out.append(_rows("TP0008", ds, var, non_ascii, col, msg))
    too_long = nbytes > MAX_VALUE_BYTES
    out.append(_rows("TP0006", ds, var, too_long, col,
                     "value of " + var.name + " is " + nbytes.astype(str) + " bytes; XPT v5 allows 200"))
    if var.length is not None:
        over = (nbytes > var.length) & ~too_long
        out.append(_rows("TP0007", ds, var, over, col, f"value of {var.name} is longer than its spec length "
                                                        f"{var.length}"))
    out.append(_check_iso8601(text, var, ds, missing, col))
    return out


def _describe_char(ch: str) -> str:
    return f"{ch!r} (U+{ord(ch):04X})"


def _check_iso8601(text: pd.Series, var: VariableSpec, ds: str, missing: pd.Series, col: pd.Series) -> pd.DataFrame:
    if var.data_type == "durationDatetime" or (var.data_type == "text" and var.name.endswith("DUR")):
        from specs import iso8601

        bad = ~iso8601.is_valid_duration(text.mask(missing)) & ~missing
        return _rows("TP0012", ds, var, bad, col, f"{var.name} is not an ISO 8601 duration")
    if var.data_type in ISO_DATE_TYPES or var.name.endswith("DTC"):
        from specs import iso8601

        bad = ~iso8601.is_valid_dtc(text.mask(missing)) & ~missing
        return _rows("TP0011", ds, var, bad, col, f"{var.name} is not a valid ISO 8601 date/time")
    return None


def _check_codelist(col: pd.Series, var: VariableSpec, ds: str, missing: pd.Series,
                    codelists: dict) -> pd.DataFrame:
    cl = codelists.get(var.codelist)
    if cl is None:
        return findings.make("TP0016", ds, var.name, message=f"codelist {var.codelist} is not in the spec")
    if cl.is_external or not cl.items:
        return None
    allowed = cl.values()
    if var.is_numeric or cl.data_type in ("integer", "float"):
        values = pd.to_numeric(col, errors="coerce")
        allowed_num = pd.to_numeric(pd.Series(allowed), errors="coerce").dropna().to_numpy()
        outside = ~values.isin(allowed_num) & ~missing
    else:
        outside = ~col.isin(allowed) & ~missing
    if not outside.any():
        return None
    if cl.extensible:
        return _rows("TP0010", ds, var, outside, col, f"{var.name} value is not in extensible codelist "
                                                       f"{cl.name} ({cl.oid}); flag it as an extended value")
    return _rows("TP0009", ds, var, outside, col, f"{var.name} value is not in codelist {cl.name} ({cl.oid})")


def _check_keys(df: pd.DataFrame, dataset: DatasetSpec) -> pd.DataFrame:
    keys = [k for k in dataset.keys if k in df.columns]
    if not keys or len(keys) < len(dataset.keys):
        return None
    dup = df.duplicated(subset=keys, keep="first")
    if not dup.any():
        return None
    idx = np.flatnonzero(dup.to_numpy())
    parts = [df[k].iloc[idx].astype("string").fillna("") for k in keys]
    shown = parts[0]
    for part in parts[1:]:
        shown = shown + " | " + part
    return findings.make("TP0013", dataset.name, ", ".join(keys), rows=idx + 1, values=shown,
                         message=f"duplicate key ({', '.join(keys)}) — an earlier row has the same values")
