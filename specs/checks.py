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
    out += _check_text_variables(df, texts, dataset.name, codelists, value_level_codelists(df, dataset, spec))
    out.append(_check_keys(df, dataset))
    return findings.concat(out)


def value_level_codelists(df: pd.DataFrame, dataset: DatasetSpec, spec: Spec | None
                          ) -> dict[str, list[tuple[np.ndarray, str]]]:
    """Per text variable, the codelists its value-level metadata gives and the rows each applies
    to (its where clause holds: EQ and IN checks on variables of ``df``), e.g. DS.DSDECOD: PROTMLST
    where DSCAT is "PROTOCOL MILESTONE", NCOMPLT where it is "DISPOSITION EVENT". Rows no such
    clause covers keep the variable's own codelist."""
    if spec is None or not spec.value_level:
        return {}
    clauses = {w.oid: w for w in spec.where_clauses}
    out: dict[str, list[tuple[np.ndarray, str]]] = {}
    for row in spec.value_level:
        clause = clauses.get(row.where_clause)
        if row.dataset != dataset.name or not row.codelist or clause is None or row.variable not in df:
            continue
        if any(c.variable not in df or c.comparator not in ("EQ", "IN") for c in clause.checks):
            continue
        holds = np.ones(len(df), dtype=bool)
        for c in clause.checks:
            holds &= df[c.variable].astype("string").isin(c.values).fillna(False).to_numpy(dtype=bool)
        out.setdefault(row.variable, []).append((holds, row.codelist))
    return out


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


class _Text:
    """One text variable as an Arrow string array (nulls kept) with its values' byte lengths
    and which values are missing (null, empty or only whitespace)."""

    def __init__(self, col: pd.Series, var: VariableSpec) -> None:
        self.var = var
        self.raw = _arrow_text(col)
        self.nbytes = np.asarray(pc.binary_length(self.raw).fill_null(0))
        self.missing = (self.nbytes == 0) | np.asarray(pc.utf8_is_space(self.raw).fill_null(False))

    def findings(self, rule: str, ds: str, mask: np.ndarray, message) -> pd.DataFrame | None:
        """``rule`` findings at the rows of ``mask``; ``message`` text, or a function of the
        0-based rows giving one text per row."""
        idx = np.flatnonzero(mask)
        if not len(idx):
            return None
        values = self.raw.take(pa.array(idx, type=pa.int64())).to_pandas()
        return findings.make(rule, ds, self.var.name, rows=idx + 1, values=values,
                             message=message(idx) if callable(message) else message)

    def distinct_fail(self, valid) -> np.ndarray:
        """Rows whose non-missing value fails ``valid`` (a function of a pandas text Series
        giving booleans), judged once per distinct value."""
        distinct = pc.unique(pc.filter(self.raw, pa.array(~self.missing)))
        if not len(distinct):
            return np.zeros(len(self.raw), dtype=bool)
        ok = np.asarray(valid(pd.Series(distinct.to_pandas(), dtype=object)), dtype=bool)
        if ok.all():
            return np.zeros(len(self.raw), dtype=bool)
        bad = pc.is_in(self.raw, value_set=distinct.filter(pa.array(~ok)))
        return np.asarray(bad.fill_null(False)).astype(bool)


def _arrow_text(col: pd.Series) -> pa.Array:
    """A text column as an Arrow string array (nulls null)."""
    if not (pd.api.types.is_string_dtype(col) or col.dtype == object):
        col = col.astype("string")
    try:
        return arrow_text(col)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed objects (numbers among text)
        return arrow_text(col.astype("string"))


_TEXT_RULES = ("TP0004", "TP0008", "TP0006", "TP0007", "TP0011", "TP0012", "TP0016", "TP0010", "TP0009")
"""The order text findings are listed in: by rule, then by variable and row."""


def _check_text_variables(df: pd.DataFrame, variables: list[VariableSpec], ds: str,
                          codelists: dict | None, value_lists: dict | None = None) -> list:
    """TP0004 (Req null), TP0008 (ASCII), TP0006 (200 bytes), TP0007 (spec length),
    TP0011/TP0012 (ISO 8601), TP0009/TP0010 (codelists) on every text variable, each with
    a few Arrow kernels over the column as stored; ISO 8601 validity once per distinct value."""
    by_rule: dict[str, list] = {rule: [] for rule in _TEXT_RULES}
    for var in variables:
        text = _Text(df[var.name], var)
        for rule, found in _text_findings(text, ds, codelists, (value_lists or {}).get(var.name, [])):
            by_rule[rule].append(found)
    return [f for rule in _TEXT_RULES for f in by_rule[rule]]


def _text_findings(text: _Text, ds: str, codelists: dict | None, value_lists: list | None = None):
    """(rule, findings) of one text variable."""
    var, nbytes = text.var, text.nbytes
    if var.core == "Req":
        yield "TP0004", text.findings("TP0004", ds, text.missing, f"{var.name} is required and must not be null")
    non_ascii = ~np.asarray(pc.string_is_ascii(text.raw).fill_null(True))
    if non_ascii.any():
        rows = np.flatnonzero(non_ascii)
        chars = text.raw.take(pa.array(rows)).to_pandas().str.extract(r"([^\x00-\x7F])", expand=False)
        described = pd.Series(chars.map(_describe_char).to_numpy(), index=rows)
        yield "TP0008", text.findings("TP0008", ds, non_ascii, lambda idx: (
            "non-ASCII character " + described.loc[idx].to_numpy() + f" in {var.name}"))
    too_long = nbytes > MAX_VALUE_BYTES
    yield "TP0006", text.findings("TP0006", ds, too_long, lambda idx: (
        f"value of {var.name} is " + nbytes[idx].astype(str) + " bytes; XPT v5 allows 200"))
    if var.length is not None:
        yield "TP0007", text.findings("TP0007", ds, (nbytes > var.length) & ~too_long,
                                      f"value of {var.name} is longer than its spec length {var.length}")
    yield from _iso8601_findings(text, ds)
    if codelists is not None and (var.codelist or value_lists):
        yield from _codelist_findings(text, ds, codelists, value_lists or [])


def _describe_char(ch: str) -> str:
    return f"{ch!r} (U+{ord(ch):04X})"


def is_date_variable(var: VariableSpec) -> bool:
    """An ISO 8601 date/time variable: by its Define-XML data type, or named --DTC."""
    return var.data_type in ISO_DATE_TYPES or var.name.endswith("DTC")


def _iso8601_findings(text: _Text, ds: str):
    from specs import iso8601

    var = text.var
    if var.data_type == "durationDatetime" or (var.data_type == "text" and var.name.endswith("DUR")):
        yield "TP0012", text.findings("TP0012", ds, text.distinct_fail(iso8601.is_valid_duration),
                                      f"{var.name} is not an ISO 8601 duration")
    elif is_date_variable(var):
        yield "TP0011", text.findings("TP0011", ds, text.distinct_fail(iso8601.is_valid_dtc),
                                      f"{var.name} is not a valid ISO 8601 date/time")


def _codelist_findings(text: _Text, ds: str, codelists: dict, value_lists: list):
    """Membership of every coded value in its codelist: the value-level one where a where clause
    gives one for the row (``value_lists``: (rows, codelist OID)), else the variable's (if it has
    one: TS.TSVAL has codelists per parameter only)."""
    covered = np.zeros(len(text.missing), dtype=bool)
    for rows, oid in value_lists:
        yield from _membership(text, ds, codelists, oid, rows & ~covered)
        covered |= rows
    if text.var.codelist:
        yield from _membership(text, ds, codelists, text.var.codelist, ~covered)


def _membership(text: _Text, ds: str, codelists: dict, oid: str, rows: np.ndarray):
    """Rows (of ``rows``) whose value is not a term of codelist ``oid``."""
    var = text.var
    cl = codelists.get(oid)
    if cl is None:
        yield "TP0016", findings.make("TP0016", ds, var.name, message=f"codelist {oid} is not in the spec")
        return
    terms = codelist_terms(cl)
    # a sponsor's extended value (def:ExtendedValue) is reported like any value CT lacks, also where
    # a define lists only extended values (the data use no CT term: nothing is left to allow)
    if cl.extensible and cl.items:
        terms = [item.value for item in cl.items if not item.extended]
    elif not terms:
        return
    if not rows.any():
        return
    allowed = pa.array([str(value) for value in terms], type=pa.string())
    outside = ~np.asarray(pc.is_in(text.raw, value_set=allowed)).astype(bool) & ~text.missing & rows
    if cl.extensible:
        yield "TP0010", text.findings("TP0010", ds, outside, f"{var.name} value is not in extensible codelist "
                                                             f"{cl.name} ({cl.oid}); flag it as an extended value")
    else:
        yield "TP0009", text.findings("TP0009", ds, outside, f"{var.name} value is not in codelist "
                                                             f"{cl.name} ({cl.oid})")


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
