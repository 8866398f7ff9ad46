"""SAS dates, datetimes and times <-> numpy datetime64/timedelta64, vectorised.

A SAS date is the number of days since 1960-01-01, a SAS datetime the number of seconds
since 1960-01-01T00:00:00 and a SAS time the number of seconds since midnight (SAS
Language Reference, "Dates, Times, and Intervals"). Conversions go straight between the
1960 origin and numpy's, never through another epoch, and use integer arithmetic so that
whole days and whole seconds are exact. Fractions of a second are kept to the microsecond:
a double near 2e9 seconds resolves about 0.24 microseconds, so finer input is refused.

Each function returns ``(values, bad)`` where ``bad`` is a mask of the rows that cannot
be converted without losing information; callers turn the first one into an error.
"""
from __future__ import annotations

import numpy as np

SAS_EPOCH = np.datetime64("1960-01-01T00:00:00", "us")
_US_PER_SECOND = 1_000_000
_US_PER_DAY = 86_400 * _US_PER_SECOND


def _microseconds(values: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """int64 microseconds (since the SAS epoch for datetimes), NaT mask, sub-microsecond mask."""
    nat = np.isnat(values)
    as_us = values.astype(f"{values.dtype.kind == 'M' and 'datetime64' or 'timedelta64'}[us]")
    if np.datetime_data(values.dtype)[0] in ("ns", "ps", "fs", "as"):
        finer = (~nat) & (as_us != values)
    else:
        finer = np.zeros(len(values), dtype=bool)
    us = (as_us - SAS_EPOCH if kind == "datetime" else as_us).astype(np.int64)
    return us, nat, finer


def _seconds(us: np.ndarray) -> np.ndarray:
    whole, fraction = np.divmod(us, _US_PER_SECOND)
    return whole.astype(np.float64) + fraction / _US_PER_SECOND


def datetime64_to_sas_days(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Days since 1960-01-01; ``bad`` marks values that are not at midnight."""
    us, nat, _ = _microseconds(values, "datetime")
    days, rest = np.divmod(us, _US_PER_DAY)
    out = days.astype(np.float64)
    out[nat] = np.nan
    return out, (~nat) & (rest != 0)


def datetime64_to_sas_seconds(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Seconds since 1960-01-01T00:00:00; ``bad`` marks sub-microsecond values."""
    if np.datetime_data(values.dtype)[0] in ("s", "m", "h", "D", "W", "M", "Y"):
        nat = np.isnat(values)   # whole seconds: one exact integer subtraction
        out = (values.astype("datetime64[s]") - SAS_EPOCH.astype("datetime64[s]")).astype(np.int64)
        out = out.astype(np.float64)
        out[nat] = np.nan
        return out, np.zeros(len(values), dtype=bool)
    us, nat, finer = _microseconds(values, "datetime")
    out = _seconds(us)
    out[nat] = np.nan
    return out, finer


def timedelta64_to_sas_seconds(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Seconds (a SAS time is seconds since midnight); ``bad`` marks sub-microsecond values."""
    us, nat, finer = _microseconds(values, "timedelta")
    out = _seconds(us)
    out[nat] = np.nan
    return out, finer


def _to_microseconds(seconds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Round seconds to int64 microseconds: the whole part exactly, the fraction to nearest."""
    missing = ~np.isfinite(seconds)
    safe = np.where(missing, 0.0, seconds)
    whole = np.floor(safe)
    fraction = np.rint((safe - whole) * _US_PER_SECOND).astype(np.int64)
    return whole.astype(np.int64) * _US_PER_SECOND + fraction, missing


def sas_days_to_datetime64(days: np.ndarray) -> np.ndarray:
    """datetime64[us]; NaN -> NaT. Fractional days keep their time of day."""
    us, missing = _to_microseconds(np.asarray(days, dtype=np.float64) * 86_400.0)
    out = SAS_EPOCH + us.astype("timedelta64[us]")
    out[missing] = np.datetime64("NaT")
    return out


def sas_seconds_to_datetime64(seconds: np.ndarray) -> np.ndarray:
    """datetime64[us]; NaN -> NaT."""
    us, missing = _to_microseconds(np.asarray(seconds, dtype=np.float64))
    out = SAS_EPOCH + us.astype("timedelta64[us]")
    out[missing] = np.datetime64("NaT")
    return out


def sas_seconds_to_timedelta64(seconds: np.ndarray) -> np.ndarray:
    """timedelta64[us]; NaN -> NaT."""
    us, missing = _to_microseconds(np.asarray(seconds, dtype=np.float64))
    out = us.astype("timedelta64[us]")
    out[missing] = np.timedelta64("NaT")
    return out
