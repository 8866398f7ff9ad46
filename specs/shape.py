"""Shape a DataFrame to its dataset spec: spec order, spec types, missing variables added.

``conform`` never drops or coerces data silently: a column the spec does not list is an
error unless the caller asks to drop it (helper columns of a derivation), and a value that
cannot take the variable's type is an error naming its row and column.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow as pa

from specs.columns import TEXT_DTYPE, arrow_text, empty_as_null, text_column
from specs.errors import InputError
from specs.formats import format_kind
from specs.model import DatasetSpec, VariableSpec

def conform(
    df: pd.DataFrame,
    dataset: DatasetSpec,
    *,
    extra: str = "error",
    source: str | None = None,
) -> pd.DataFrame:
    """Return ``df`` with exactly the spec's variables, in spec order, in spec types.

    1. Columns not in the spec: ``extra="error"`` raises, ``extra="drop"`` drops them.
    2. Spec variables missing from ``df`` are added, all null (``specs.check`` then reports
       Req variables whose values are null).
    3. Text variables become strings with missing values as null (empty strings count
       as missing, as in XPT).
    4. Numeric variables become float64 (the only numeric type XPT stores); variables
       with a date, datetime or time display format stay datetime64/timedelta64.
    """
    unknown = [c for c in df.columns if c not in dataset]
    if unknown and extra == "error":
        raise InputError(f"{dataset.name} has columns the spec does not list: {', '.join(map(str, unknown))}",
                         file=source)
    out = {}
    n = len(df)
    for var in dataset.variables:
        if var.name in df.columns:
            out[var.name] = _as_type(df[var.name], var, dataset.name, source)
        else:
            out[var.name] = _null_column(var, n)
    return pd.DataFrame(out, index=df.index, copy=False)


def _null_column(var: VariableSpec, n: int) -> pd.Series:
    kind = format_kind(var.display_format)
    if kind in ("date", "datetime"):
        return pd.Series(np.full(n, np.datetime64("NaT"), dtype="datetime64[s]"))
    if var.is_numeric:
        return pd.Series(np.full(n, np.nan))
    return pd.Series(np.full(n, None, dtype=object)).astype(TEXT_DTYPE)


def _as_type(col: pd.Series, var: VariableSpec, dataset: str, source: str | None) -> pd.Series:
    kind = format_kind(var.display_format)
    if kind in ("date", "datetime") and pd.api.types.is_datetime64_any_dtype(col):
        return col
    if kind == "time" and pd.api.types.is_timedelta64_dtype(col):
        return col
    if var.is_numeric:
        return _as_float(col, var, dataset, source)
    return _as_text(col)


def _as_float(col: pd.Series, var: VariableSpec, dataset: str, source: str | None) -> pd.Series:
    if pd.api.types.is_bool_dtype(col):
        raise InputError(f"{dataset}.{var.name} is numeric in the spec but holds booleans", file=source,
                         column=var.name)
    if pd.api.types.is_numeric_dtype(col):
        return col.astype("float64")
    text = col.astype("string").str.strip()
    blank = text.isna() | (text == "")
    numbers = pd.to_numeric(text.mask(blank), errors="coerce")
    bad = numbers.isna() & ~blank
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"{dataset}.{var.name} is numeric in the spec; {col.iloc[pos]!r} is not a number",
                         file=source, row=pos + 1, column=var.name)
    return numbers.astype("float64")


def _as_text(col: pd.Series) -> pd.Series:
    if col.dtype == TEXT_DTYPE and col.dtype != object:  # already text: only empty strings -> null
        empty = (col == "").fillna(False)
        return col.mask(empty) if empty.any() else col
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        present = col.dropna()
        integral = bool(len(present)) and bool((present == np.round(present)).all())
        col = col.astype("Int64") if integral else col
    try:  # Arrow kernels: no Python string per value
        text = arrow_text(col)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed objects (numbers among text)
        text = arrow_text(col.astype("string"))
    return text_column(empty_as_null(text), col.index, col.name)


def detached(df: pd.DataFrame) -> pd.DataFrame:
    """A new frame over ``df``'s column data, for a derivation that adds or replaces whole
    columns (``out[name] = ...``) and returns it: assigning a column replaces it and never
    writes into the array it shares with ``df``, so ``df`` stays as it was without copying
    its data (a deep copy of ADAE costs a quarter of a second and its memory at 100,000
    subjects). Not for writes into part of a column (``.loc[rows, name] = ...``)."""
    return df.copy(deep=False)


def drop_unused_variables(spec, datasets: dict[str, pd.DataFrame], keep: set[str] | frozenset[str] = frozenset()):
    """The spec restricted to the given datasets, without the optional variables they do not use.

    SDTMIG §4.1.5 / ADaMIG: a Perm (or Cond) variable is included only when collected or
    derived — here, when the data hold at least one value for it. Req and Exp variables
    always stay, and so do the names in ``keep`` (variables planned for the study, such as
    one CQzzNAM per configured adverse event of special interest, kept even when no record
    has a value — define.xml then says so). Variable order numbers are renumbered 1..n.
    """
    kept = []
    for ds in spec.datasets:
        if ds.name not in datasets:
            continue
        df = datasets[ds.name]
        empty = not len(df)  # no records: every variable the derivation produced is kept
        used = [v for v in ds.variables if v.core in ("Req", "Exp") or v.name in keep
                or (v.name in df and (empty or df[v.name].notna().any()))]
        kept.append(replace(ds, variables=[replace(v, order=i) for i, v in enumerate(used, start=1)]))
    # the datasets and variables are new objects; codelists, methods and the rest are shared
    out = spec.subset([d.name for d in kept])
    out.datasets = kept
    return drop_unmatched_value_level(out, datasets)


def drop_unmatched_value_level(spec, datasets: dict[str, pd.DataFrame]):
    """The spec without the value-level rows of a dataset with records that no record matches
    (a where clause of EQ checks on variables the data hold: DS.DSDECOD's PROTMLST row in a study
    without protocol milestones), and without the where clauses no row uses any more."""
    clauses = {w.oid: w for w in spec.where_clauses}

    def matched(row) -> bool:
        df = datasets.get(row.dataset)
        clause = clauses.get(row.where_clause)
        if df is None or not len(df) or clause is None or any(
                c.comparator not in ("EQ", "IN") or c.variable not in df for c in clause.checks):
            return True
        holds = pd.Series(True, index=df.index)
        for c in clause.checks:
            holds &= df[c.variable].astype("string").isin(c.values).fillna(False)
        return bool(holds.any())

    kept = [row for row in spec.value_level if matched(row)]
    if len(kept) == len(spec.value_level):
        return spec
    dropped = {row.where_clause for row in spec.value_level} - {row.where_clause for row in kept}
    spec.value_level = kept
    spec.where_clauses = [w for w in spec.where_clauses if w.oid not in dropped]
    return spec
