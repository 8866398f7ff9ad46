"""Numeric data for XPT: pandas columns -> float64 SAS numbers, checked, and the encoder
that writes them as IBM doubles with SAS missing values.

Rules, in the order they apply to a column:

1. Booleans, timezone-aware datetimes, bytes and mixed objects are refused (no silent
   coercion): store flags as "Y"/"N" text or 1/0 numbers, datetimes as local clock time.
2. Integers must be exactly representable as doubles (|x| <= 2**53).
3. Dates (``datetime.date`` objects, or datetime64 with a DATE-type format) become days
   since 1960-01-01 and must be whole days; datetime64 with a DATETIME-type format, or with
   no format, become seconds since 1960-01-01 (default format ``DATETIME20.``); timedelta64
   and ``datetime.time`` become seconds (default format ``TIME8.``). A datetime64 column
   with no format is always written as a datetime, whatever its values: the stored type
   never depends on the data. Give ``DATE9.`` in the spec to store dates. Under a date,
   datetime or time format the SAS numbers must lie in the span SAS handles (dates from
   1582 to 19,900: :func:`fileformats._sasdates.out_of_range`); the writer checks that.
4. Infinite values are refused; finite values outside the IBM range (|x| < 16**-65 or
   >= 16**63) are refused rather than flushed to zero or clipped.
5. NaN / None / NaT become the ordinary missing value ``.``; ``special_missing`` codes
   (``A``-``Z``, ``_``) may be given for rows that are missing.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from fileformats import _sasdates
from fileformats.xpt import _native
from fileformats.xpt._ibm import MISSING_BYTES, ieee_to_ibm, missing_pattern, out_of_range
from fileformats.xpt._text import column_view
from specs.errors import InputError
from specs.formats import temporal_kind

DATE9 = ("DATE", 9, 0)
DATETIME20 = ("DATETIME", 20, 0)
TIME8 = ("TIME", 8, 0)
_EXACT_INT = 2 ** 53


def _first(mask: np.ndarray) -> int:
    return int(np.argmax(mask)) + 1


def _refuse(message: str, column: str, file, row: int | None = None) -> InputError:
    return InputError(message, file=file, column=column, row=row)


def _from_integers(values: np.ndarray, column: str, file) -> np.ndarray:
    if not len(values) or (values.max() <= _EXACT_INT and values.min() >= -_EXACT_INT):
        return values.astype(np.float64)
    big = (values > _EXACT_INT) | (values < -_EXACT_INT)
    if big.any():
        raise _refuse(f"integer {values[np.argmax(big)].item()} is too large to store exactly as a SAS "
                      "numeric (|x| <= 2**53)", column, file, _first(big))
    return values.astype(np.float64)


def _checked(result: tuple[np.ndarray, np.ndarray], message: str, column: str, file) -> np.ndarray:
    values, bad = result
    if bad.any():
        raise _refuse(message, column, file, _first(bad))
    return values


def _from_datetime64(values: np.ndarray, fmt: tuple | None, column: str, file):
    kind = temporal_kind(fmt[0]) if fmt else "datetime"
    if kind == "date":
        return _checked(_sasdates.datetime64_to_sas_days(values),
                        f"has a time of day but its format {fmt[0]}{fmt[1] or ''}. holds whole days "
                        "(nothing is truncated: use a DATETIME format or drop the time first)",
                        column, file), fmt
    if kind == "datetime":
        return _checked(_sasdates.datetime64_to_sas_seconds(values),
                        "has sub-microsecond precision, which a SAS datetime cannot hold",
                        column, file), fmt or DATETIME20
    raise _refuse(f"is a datetime column but its format {fmt[0]}{fmt[1] or ''}. is not a date or "
                  "datetime format (use DATE9. or DATETIME20.)", column, file)


def _from_timedelta64(values: np.ndarray, fmt: tuple | None, column: str, file):
    if fmt and temporal_kind(fmt[0]) in ("date", "datetime"):
        raise _refuse(f"is a time/duration column but its format {fmt[0]}. is a date format",
                      column, file)
    return _checked(_sasdates.timedelta64_to_sas_seconds(values),
                    "has sub-microsecond precision, which a SAS time cannot hold",
                    column, file), fmt or TIME8


def _from_objects(series: pd.Series, fmt: tuple | None, column: str, file):
    kind = pd.api.types.infer_dtype(series, skipna=True)
    values = series.to_numpy(dtype=object)
    missing = pd.isna(values)
    if kind == "empty":
        return np.full(len(series), np.nan), fmt
    if kind == "string":
        raise _refuse("holds text but is written as numeric (spec data_type integer/float); "
                      "nothing is converted silently", column, file)
    if kind in ("integer", "floating", "mixed-integer-float", "decimal"):
        numbers = pd.to_numeric(series)
        if numbers.dtype == object:
            raise _refuse("holds integers too large to store exactly as a SAS numeric (|x| <= 2**53)",
                          column, file)
        return numeric_values(numbers, fmt, column, file)
    if kind == "date":
        if fmt and temporal_kind(fmt[0]) not in ("date", None):
            raise _refuse(f"holds dates but its format {fmt[0]}. is not a date format", column, file)
        days = np.where(missing, None, values).astype("datetime64[D]")
        return _checked(_sasdates.datetime64_to_sas_days(days), "", column, file), fmt or DATE9
    if kind in ("datetime", "datetime64"):
        return numeric_values(pd.to_datetime(series), fmt, column, file)
    if kind == "time":
        text = np.where(missing, None, values.astype(str))
        return _from_timedelta64(pd.to_timedelta(text).to_numpy(), fmt, column, file)
    present = ~missing
    types = np.fromiter(map(type, values), dtype=object, count=len(values))
    differs = present & (types != types[np.argmax(present)])
    row = int(np.argmax(differs if differs.any() else present))
    raise _refuse(f"holds {kind} values, which a SAS numeric cannot store (here: "
                  f"{values[row]!r})", column, file, row + 1)


def numeric_values(series: pd.Series, fmt: tuple | None, column: str, file):
    """float64 SAS numbers of a column and the format to write (``fmt`` or a default)."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        raise _refuse("is a boolean column, which XPT cannot store; use 'Y'/'N' text or 1/0 numbers",
                      column, file)
    if isinstance(dtype, pd.DatetimeTZDtype):
        raise _refuse("has timezone-aware datetimes; SAS stores local clock time, so convert with "
                      ".dt.tz_localize(None) first", column, file)
    if isinstance(dtype, pd.CategoricalDtype):
        if not pd.api.types.is_numeric_dtype(dtype.categories.dtype):
            raise _refuse("is a categorical column of text but is written as numeric", column, file)
        return numeric_values(series.astype(dtype.categories.dtype), fmt, column, file)
    if pd.api.types.is_integer_dtype(dtype):
        if isinstance(dtype, pd.api.extensions.ExtensionDtype):
            mask = series.isna().to_numpy()
            filled = series.to_numpy(dtype=np.int64 if dtype.kind == "i" else np.uint64, na_value=0)
            values = _from_integers(filled, column, file)
            values[mask] = np.nan
            return values, fmt
        return _from_integers(series.to_numpy(), column, file), fmt
    if pd.api.types.is_float_dtype(dtype):
        if dtype == np.float64:
            return series.to_numpy(), fmt  # no copy
        return series.to_numpy(dtype=np.float64, na_value=np.nan), fmt
    if dtype.kind == "M":
        return _from_datetime64(series.to_numpy(), fmt, column, file)
    if dtype.kind == "m":
        return _from_timedelta64(series.to_numpy(), fmt, column, file)
    if dtype == object:
        return _from_objects(series, fmt, column, file)
    if pd.api.types.is_string_dtype(dtype):
        raise _refuse("holds text but is written as numeric (spec data_type integer/float); "
                      "nothing is converted silently", column, file)
    raise _refuse(f"has dtype {dtype}, which a SAS numeric cannot store", column, file)


def check_numbers(values: np.ndarray, column: str, file) -> None:
    """Refuse infinities and numbers outside the IBM double range (one pass when all is well)."""
    bad = out_of_range(values)
    if not bad.any():
        return
    row = int(np.argmax(bad))
    if np.isinf(values[row]):
        raise _refuse("holds an infinite value; SAS numerics have no infinity (use a missing value)",
                      column, file, row + 1)
    raise _refuse(f"value {values[row].item()!r} is outside the range of an IBM double "
                  "(5.4e-79 <= |x| < 7.2e75); nothing is flushed to zero or clipped",
                  column, file, row + 1)


def special_codes(codes, values: np.ndarray, column: str, file) -> np.ndarray | None:
    """Per-row first byte of missing values from ``{row position: code}`` (a Series or dict)."""
    if codes is None or len(codes) == 0:
        return None
    items = codes.items() if hasattr(codes, "items") else codes
    rows, letters = zip(*items)
    rows = np.asarray(rows, dtype=np.int64)
    letters = np.array([str(c).lstrip(".").upper() or "." for c in letters], dtype=object)
    bad_rows = (rows < 0) | (rows >= len(values))
    if bad_rows.any():
        raise _refuse(f"special missing value given for row position {rows[np.argmax(bad_rows)]}, "
                      f"outside 0..{len(values) - 1}", column, file)
    valid = np.isin(letters, [chr(b) for b in MISSING_BYTES])
    if not valid.all():
        i = int(np.argmax(~valid))
        raise _refuse(f"special missing code {letters[i]!r} is not one of . _ A-Z", column, file,
                      int(rows[i]) + 1)
    present = ~np.isnan(values[rows])
    if present.any():
        i = int(np.argmax(present))
        raise _refuse(f"special missing code .{letters[i]} given for a row that holds "
                      f"{values[rows[i]].item()!r}", column, file, int(rows[i]) + 1)
    out = np.zeros(len(values), dtype=np.uint8)
    out[rows] = np.frombuffer("".join(letters).encode("ascii"), dtype=np.uint8)
    return out


class NumericEncoder:
    """Writes 8-byte IBM doubles; NaN -> ``.`` or the row's special missing code."""

    width = 8

    def __init__(self, values: np.ndarray, codes: np.ndarray | None) -> None:
        self.values = np.ascontiguousarray(values, dtype=np.float64)
        self.codes = codes

    def fill(self, rows: np.ndarray, position: int, start: int, stop: int) -> None:
        """Rows ``start:stop`` at byte ``position`` of each record of the chunk ``rows``."""
        if _native.kernel:
            _native.kernel.put_ibm(rows, position, rows.shape[1], self.values, self.codes, start, stop)
            return
        chunk = self.values[start:stop]
        ibm = ieee_to_ibm(chunk)
        missing = np.isnan(chunk)
        if missing.any():
            ibm[missing] = missing_pattern(ord("."))
            if self.codes is not None:
                codes = self.codes[start:stop]
                special = codes != 0
                ibm[special] = codes[special].astype(np.uint64) << np.uint64(56)
        ibm.byteswap(inplace=True)
        column_view(rows, position, 8)[: stop - start] = ibm.view("V8")
