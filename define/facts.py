"""What the data say about a variable: length, significant digits, presence, values used.

Pure functions on pandas Series (vectorised), shared by the writer (which puts these
facts into define.xml) and the cross-checks (which compare a define against them).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from specs.lengths import arrow_strings, float_length, integer_length, sas_numbers, significant_digits, text_length

#: Define-XML data types that carry a Length (Define-XML 2.1 section 5.3.12).
LENGTH_TYPES = frozenset({"text", "integer", "float"})
NUMERIC = frozenset({"integer", "float"})


@dataclass(frozen=True)
class Facts:
    """Define-XML facts of one column (or of the rows of a value-level slice)."""

    length: int | None
    significant_digits: int | None
    has_data: bool


def missing(series: pd.Series) -> np.ndarray:
    """Null values, and for character columns blank strings (XPT has no other null)."""
    arrow = arrow_strings(series)
    if arrow is not None:
        import pyarrow.compute as pc

        empty = np.asarray(pc.binary_length(arrow).fill_null(0)) == 0
        return empty | np.asarray(pc.utf8_is_space(arrow).fill_null(True))  # non-empty, only whitespace
    miss = series.isna().to_numpy(dtype=bool, copy=True)
    if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series)
            or pd.api.types.is_timedelta64_dtype(series)):
        miss |= (series.astype("string").str.strip().fillna("") == "").to_numpy(dtype=bool)
    return miss


def is_numeric_column(series: pd.Series) -> bool:
    """Stored as a SAS numeric: numbers, datetime64 and timedelta64 columns (booleans excluded)."""
    if pd.api.types.is_bool_dtype(series):
        return False
    return (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series)
            or pd.api.types.is_timedelta64_dtype(series))


def facts(series: pd.Series, data_type: str, display_format: str | None = None, *,
          miss: np.ndarray | None = None) -> Facts:
    """Length (text/integer/float), SignificantDigits (float) and presence of data.

    The rules are those of :mod:`specs.lengths`; data types without a Define-XML Length
    (dates and times as ISO 8601 text) get ``length=None``.
    """
    has_data = bool((~(missing(series) if miss is None else miss)).any())
    if data_type not in LENGTH_TYPES:
        return Facts(None, None, has_data)
    if data_type == "text":
        return Facts(text_length(series), None, has_data)
    values = sas_numbers(series, display_format)
    if data_type == "integer":
        return Facts(integer_length(values), None, has_data)
    return Facts(float_length(values), significant_digits(values), has_data)


def range_mask(column: pd.Series, comparator: str, values: list[str]) -> np.ndarray:
    """Rows where ``column comparator values`` holds (Define-XML RangeCheck semantics).

    EQ/NE/IN/NOTIN compare exactly (numbers numerically, text as text); LT/LE/GT/GE
    compare numerically for numeric columns, else as text. Null values satisfy only NE
    and NOTIN, and only against non-null check values.
    """
    comparator = comparator.upper()
    miss = missing(column)
    if is_numeric_column(column):
        data = pd.Series(sas_numbers(column), index=column.index)
        wanted = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(dtype=float)
    else:
        data = column.astype("string").fillna("")
        wanted = np.asarray(values, dtype=object)
    if comparator in ("EQ", "IN"):
        return data.isin(list(wanted)).to_numpy(dtype=bool) & ~miss
    if comparator in ("NE", "NOTIN"):
        return ~data.isin(list(wanted)).to_numpy(dtype=bool)
    if len(wanted) != 1:
        raise ValueError(f"comparator {comparator} takes one value, got {len(wanted)}")
    target = wanted[0]
    ops = {"LT": np.less, "LE": np.less_equal, "GT": np.greater, "GE": np.greater_equal}
    if comparator not in ops:
        raise ValueError(f"unknown comparator {comparator!r}")
    result = ops[comparator](data.to_numpy(dtype=float if is_numeric_column(column) else object), target)
    return np.asarray(result, dtype=bool) & ~miss


def used_values(series: pd.Series, data_type: str = "text") -> list[str]:
    """Distinct non-missing values as Define-XML CodedValues (numbers without ``.0``), sorted."""
    kept = series[~missing(series)]
    if kept.empty:
        return []
    if is_numeric_column(kept) or data_type in NUMERIC:
        numbers = pd.to_numeric(kept, errors="coerce").dropna().unique()
        return [_number_text(v) for v in sorted(numbers)]
    return sorted(kept.astype("string").unique().tolist())


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def coded_text(series: pd.Series) -> pd.Series:
    """Values as CodedValue text (numbers without a trailing ``.0``), NA where missing."""
    if is_numeric_column(series):
        numbers = pd.to_numeric(series, errors="coerce")
        whole = numbers.dropna()
        text = pd.Series(pd.NA, index=series.index, dtype="string")
        is_int = (whole == np.floor(whole))
        text.loc[whole.index[is_int.to_numpy()]] = whole[is_int].astype("int64").astype("string")
        text.loc[whole.index[~is_int.to_numpy()]] = whole[~is_int].astype("string")
        return text
    return series.astype("string").mask(missing(series))
