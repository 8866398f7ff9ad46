"""Lengths of dataset variables, from the data: one rule for define.xml and the XPT writer.

The FDA Study Data Technical Conformance Guide asks that the allotted length of a
character variable be the maximum length actually used (P21 FDAC036/SD1082), and
Define-XML 2.1 ItemDef/@Length must equal the length stored in the transport file. Both
the define writer and the XPT writer therefore call :func:`text_length`; numeric
Define-XML lengths (which XPT does not store: numerics are always 8 bytes) come from
:func:`integer_length` and :func:`float_length`.

Rules, in the order they apply:

1. text: Length = the longest value in bytes (UTF-8, which is ASCII for FDA data);
   null and empty values count as 0; the result is at least 1.
2. integer: Length = the number of digits of the largest absolute value (0 has 1
   digit; no sign); at least 1.
3. float: SignificantDigits = the fewest decimal places that reproduce every value
   (to within 2 units in the last place of the double, at most :data:`MAX_DECIMALS`);
   Length = the integer digits of the largest absolute value plus SignificantDigits.
4. Numeric dates, datetimes and times (ADaM ``*DT``/``*DTM``/``*TM`` with a SAS display
   format) are measured as the SAS numbers they are stored as: days (dates) or seconds
   (datetimes, times) since 1960-01-01 or midnight, as :func:`sas_numbers` gives them.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from specs.formats import format_kind

#: The most decimal places a float64 can meaningfully carry (15-17 significant digits).
MAX_DECIMALS = 16
SAS_EPOCH = np.datetime64("1960-01-01T00:00:00", "s")


def text_length(series: pd.Series, *, encoding: str = "utf-8") -> int:
    """Longest value of a character column in bytes (at least 1); nulls count as 0.

    >>> text_length(pd.Series(["AB", None, "ÄB"]))
    3
    """
    arrow = arrow_strings(series)
    if arrow is not None and encoding.replace("-", "").lower() == "utf8":
        import pyarrow.compute as pc

        longest = pc.max(pc.binary_length(arrow)).as_py() if len(arrow) else None
        return max(1, int(longest or 0))
    text = series.astype("string").fillna("")
    if len(text) == 0:
        return 1
    ascii_only = ~text.str.contains(r"[^\x00-\x7F]", regex=True).fillna(False)
    nbytes = text.str.len().to_numpy(dtype="int64", na_value=0)
    mask = ~ascii_only.to_numpy(dtype=bool)
    if mask.any():
        nbytes[mask] = text[mask].str.encode(encoding).str.len().to_numpy(dtype="int64")
    return max(1, int(nbytes.max()))


def arrow_strings(series: pd.Series):
    """The pyarrow (UTF-8) array behind an Arrow-backed text column, else None: lets byte
    lengths and blanks be computed in one Arrow kernel instead of Python per value."""
    array = getattr(series, "array", None)
    data = getattr(array, "_pa_array", None)
    if data is None:
        return None
    import pyarrow as pa

    return data if pa.types.is_string(data.type) or pa.types.is_large_string(data.type) else None


def sas_numbers(series: pd.Series, display_format: str | None = None) -> np.ndarray:
    """The numbers a numeric column is stored as in SAS: float64, NaN for missing.

    datetime64 columns become days since 1960-01-01 when ``display_format`` is a date
    format (or absent), seconds since 1960-01-01T00:00:00 for a datetime format;
    timedelta64 columns become seconds. Other columns are converted with
    ``pd.to_numeric`` (a value that is not a number raises ``ValueError``).
    """
    if pd.api.types.is_datetime64_any_dtype(series):
        stamps = series.to_numpy(dtype="datetime64[s]")
        seconds = (stamps - SAS_EPOCH).astype("float64")
        seconds[np.isnat(stamps)] = np.nan
        if format_kind(display_format) == "datetime":
            return seconds
        return np.floor(seconds / 86400.0)
    if pd.api.types.is_timedelta64_dtype(series):
        deltas = series.to_numpy(dtype="timedelta64[s]")
        out = deltas.astype("float64")
        out[np.isnat(deltas)] = np.nan
        return out
    return pd.to_numeric(series, errors="raise").to_numpy(dtype="float64", na_value=np.nan)


def integer_length(values: np.ndarray) -> int:
    """Digits of the largest absolute finite value (at least 1)."""
    finite = np.abs(values[np.isfinite(values)])
    if finite.size == 0:
        return 1
    largest = float(np.floor(finite.max()))
    return max(1, len(str(int(largest))))


def significant_digits(values: np.ndarray | pd.Series) -> int:
    """Fewest decimal places that reproduce every finite value (at most :data:`MAX_DECIMALS`).

    >>> significant_digits(np.array([2.5, 3.0, 0.25]))
    2
    """
    x = np.asarray(values, dtype="float64")
    x = x[np.isfinite(x)]
    if x.size == 0:
        return 0
    tolerance = 2 * np.spacing(np.abs(x))
    for decimals in range(MAX_DECIMALS + 1):
        if np.all(np.abs(np.round(x, decimals) - x) <= tolerance):
            return decimals
    return MAX_DECIMALS


def float_length(values: np.ndarray) -> int:
    """Integer digits of the largest absolute value plus :func:`significant_digits`."""
    return integer_length(values) + significant_digits(values)
