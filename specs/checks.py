"""Conformance checks of a dataset against its spec, returned as findings.

Vectorised: every rule is a handful of whole-column operations, so a million rows take
seconds. Rules (ids in :data:`specs.findings.RULES`), in the order they run:

1. variables — Req present (TP0001), Exp present (TP0002), nothing outside the spec
   (TP0003), spec order (TP0015);
2. per variable — Req values non-null (TP0004); type (TP0005); numbers finite (TP0014);
   text no longer than 200 bytes (TP0006) and than the spec length (TP0007); ASCII only
   (TP0008); codelist membership, non-extensible error (TP0009) or extensible warning
   (TP0010), shipped external dictionaries (ISO 3166) included; ISO 8601 validity of
   date/time text (TP0011) and durations (TP0012);
3. dataset — key variables unique (TP0013).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from specs import findings
from specs.columns import arrow_text
from specs.dictionaries import codelist_terms
from specs.model import DatasetSpec, Spec, VariableSpec

MAX_VALUE_BYTES = 200
ISO_DATE_TYPES = frozenset({"date", "datetime", "time", "partialDate", "partialTime",
                            "partialDatetime", "incompleteDatetime", "intervalDatetime"})


def check(df: pd.DataFrame, dataset: DatasetSpec, spec: Spec | None = None) -> pd.DataFrame:
    """Findings for ``df`` against ``dataset`` (codelists are looked up in ``spec``).

    Numeric variables are checked one by one; all text variables of the dataset are checked
    together, stacked into one column (a few whole-column operations per dataset instead of
    a few per variable).
    """
    out = [_check_variables(df, dataset)]
    codelists = {c.oid: c for c in spec.codelists} if spec is not None else None
    present = [v for v in dataset.variables if v.name in df.columns]
    texts = []
    for var in present:
        col = df[var.name]
        if var.is_numeric:
            out += _check_numeric_variable(col, var, dataset.name, codelists)
        elif pd.api.types.is_numeric_dtype(col) and not col.isna().all():
            out.append(findings.make("TP0005", dataset.name, var.name,
                                     message=f"{var.name} is {var.data_type} (character) but the column is numeric"))
        else:
            texts.append(var)
    out += _check_text_variables(df, texts, dataset.name, codelists)
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


def _check_numeric_variable(col: pd.Series, var: VariableSpec, ds: str, codelists: dict | None) -> list:
    out = []
    missing = _missing(col)
    if var.core == "Req" and missing.any():
        out.append(_rows("TP0004", ds, var, missing, col, f"{var.name} is required and must not be null"))
    out += _check_numeric(col, var, ds)
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


class _Stack:
    """All text variables of a dataset as one Arrow array (``raw``, nulls kept): variable i
    holds positions ``i * n`` .. ``(i + 1) * n``, so each rule is one kernel over every
    value. Null, empty and all-whitespace values are ``missing``. A position's variable is
    ``code(pos)``, its 0-based row ``pos % n``."""

    def __init__(self, df: pd.DataFrame, variables: list[VariableSpec]) -> None:
        self.variables = variables
        self.names = np.array([v.name for v in variables], dtype=object)
        self.n = len(df)
        parts = [_arrow_text(df[v.name]) for v in variables]
        self.raw = pa.concat_arrays(parts) if parts else pa.array([], type=pa.string())
        self.nbytes = np.asarray(pc.binary_length(self.raw).fill_null(0))
        blank = pc.utf8_is_space(self.raw).fill_null(False)  # non-empty and only whitespace
        self.missing = (self.nbytes == 0) | np.asarray(blank)

    def code(self, positions: np.ndarray) -> np.ndarray:
        return positions // max(self.n, 1)

    def per_variable(self, values) -> np.ndarray:
        """One value per variable, repeated over that variable's positions."""
        return np.repeat(np.asarray(values), self.n)

    def where(self, codes) -> np.ndarray:
        mask = np.zeros(len(self.raw), dtype=bool)
        for i in codes:
            mask[i * self.n:(i + 1) * self.n] = True
        return mask

    def of(self, i: int) -> pa.Array:
        """The values of variable number ``i``."""
        return self.raw.slice(i * self.n, self.n)

    def texts(self, positions: np.ndarray) -> pd.Series:
        """The values at ``positions`` (None for null), as pandas text."""
        return pd.Series(self.raw.take(pa.array(positions, type=pa.int64())).to_pandas(), dtype=object)

    def findings(self, rule: str, ds: str, mask: np.ndarray, message) -> pd.DataFrame | None:
        idx = np.flatnonzero(mask)
        if not len(idx):
            return None
        names = self.names[self.code(idx)]
        values = self.raw.take(pa.array(idx, type=pa.int64())).to_pandas()
        frame = findings.make(rule, ds, None, rows=idx % self.n + 1, values=values,
                              message=message(idx, names) if callable(message) else message)
        frame["variable"] = names
        return frame


def _arrow_text(col: pd.Series) -> pa.Array:
    """A text column as an Arrow string array (nulls null)."""
    if not (pd.api.types.is_string_dtype(col) or col.dtype == object):
        col = col.astype("string")
    try:
        return arrow_text(col)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed objects (numbers among text)
        return arrow_text(col.astype("string"))


def _check_text_variables(df: pd.DataFrame, variables: list[VariableSpec], ds: str,
                          codelists: dict | None) -> list:
    """TP0004 (Req null), TP0008 (ASCII), TP0006 (200 bytes), TP0007 (spec length),
    TP0011/TP0012 (ISO 8601), TP0009/TP0010 (codelists) on every text variable at once."""
    if not variables:
        return []
    st = _Stack(df, variables)
    out = []
    required = st.where(i for i, v in enumerate(variables) if v.core == "Req")
    out.append(st.findings("TP0004", ds, required & st.missing,
                           lambda idx, names: names + " is required and must not be null"))
    non_ascii = ~np.asarray(pc.string_is_ascii(st.raw).fill_null(True))
    nbytes = st.nbytes
    if non_ascii.any():
        positions = np.flatnonzero(non_ascii)
        chars = st.texts(positions).str.extract(r"([^\x00-\x7F])", expand=False)
        described = pd.Series(chars.map(_describe_char).to_numpy(), index=positions)
        out.append(st.findings("TP0008", ds, non_ascii, lambda idx, names: (
            "non-ASCII character " + described.loc[idx].to_numpy() + " in " + names)))
    too_long = nbytes > MAX_VALUE_BYTES
    out.append(st.findings("TP0006", ds, too_long, lambda idx, names: (
        "value of " + names + " is " + nbytes[idx].astype(str) + " bytes; XPT v5 allows 200")))
    limits = np.array([v.length if v.length is not None else np.iinfo(np.int64).max for v in variables])
    over = (nbytes > st.per_variable(limits)) & ~too_long
    out.append(st.findings("TP0007", ds, over, lambda idx, names: (
        "value of " + names + " is longer than its spec length " + limits[st.code(idx)].astype(str))))
    out += _check_iso8601(st, ds)
    if codelists is not None:
        out += _check_text_codelists(st, ds, codelists)
    return out


def _describe_char(ch: str) -> str:
    return f"{ch!r} (U+{ord(ch):04X})"


def is_date_variable(var: VariableSpec) -> bool:
    """An ISO 8601 date/time variable: by its Define-XML data type, or named --DTC."""
    return var.data_type in ISO_DATE_TYPES or var.name.endswith("DTC")


def _check_iso8601(st: _Stack, ds: str) -> list:
    from specs import iso8601

    out = []
    durations = [i for i, v in enumerate(st.variables)
                 if v.data_type == "durationDatetime" or (v.data_type == "text" and v.name.endswith("DUR"))]
    dates = [i for i, v in enumerate(st.variables) if i not in durations and is_date_variable(v)]
    for codes, valid, rule, what in ((dates, iso8601.is_valid_dtc, "TP0011", "a valid ISO 8601 date/time"),
                                     (durations, iso8601.is_valid_duration, "TP0012", "an ISO 8601 duration")):
        if not codes:
            continue
        sel = st.where(codes) & ~st.missing
        bad = np.zeros(len(st.raw), dtype=bool)
        idx = np.flatnonzero(sel)
        bad[idx] = ~valid(st.texts(idx)).to_numpy(dtype=bool)
        out.append(st.findings(rule, ds, bad, lambda idx, names, what=what: names + f" is not {what}"))
    return out


def _check_text_codelists(st: _Stack, ds: str, codelists: dict) -> list:
    """Membership of every coded text value in its variable's codelist, in one lookup."""
    allowed, missing_lists, extensible = {}, [], np.zeros(len(st.variables), dtype=bool)
    coded = np.zeros(len(st.variables), dtype=bool)
    for i, var in enumerate(st.variables):
        if not var.codelist:
            continue
        cl = codelists.get(var.codelist)
        if cl is None:
            missing_lists.append(findings.make("TP0016", ds, var.name,
                                               message=f"codelist {var.codelist} is not in the spec"))
            continue
        terms = codelist_terms(cl)
        if not terms:
            continue
        coded[i] = True
        extensible[i] = cl.extensible
        allowed[i] = [str(value) for value in terms]
    if not coded.any():
        return missing_lists
    outside = np.zeros(len(st.raw), dtype=bool)
    for i in np.flatnonzero(coded):
        inside = pc.is_in(st.of(i), value_set=pa.array(allowed[i], type=pa.string()))
        outside[i * st.n:(i + 1) * st.n] = ~np.asarray(inside).astype(bool)
    outside &= ~st.missing
    names = {i: codelists[v.codelist] for i, v in enumerate(st.variables) if coded[i]}
    label = np.array([f"{names[i].name} ({names[i].oid})" if i in names else "" for i in range(len(st.variables))],
                     dtype=object)
    ext = st.per_variable(extensible)
    return missing_lists + [
        st.findings("TP0010", ds, outside & ext, lambda idx, n: (
            n + " value is not in extensible codelist " + label[st.code(idx)] + "; flag it as an extended value")),
        st.findings("TP0009", ds, outside & ~ext, lambda idx, n: (
            n + " value is not in codelist " + label[st.code(idx)])),
    ]


def _check_codelist(col: pd.Series, var: VariableSpec, ds: str, missing: pd.Series,
                    codelists: dict) -> pd.DataFrame:
    cl = codelists.get(var.codelist)
    if cl is None:
        return findings.make("TP0016", ds, var.name, message=f"codelist {var.codelist} is not in the spec")
    allowed = codelist_terms(cl)
    if not allowed:
        return None
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
