"""SAS dates, datetimes and times <-> numpy datetime64/timedelta64, vectorised.

A SAS date is the number of days since 1960-01-01, a SAS datetime the number of seconds
since 1960-01-01T00:00:00 and a SAS time the number of seconds since midnight (SAS
Language Reference, "Dates, Times, and Intervals"). Conversions go straight between the
1960 origin and numpy's, never through another epoch, and use integer arithmetic so that
whole days and whole seconds are exact. Fractions of a second are kept to the microsecond:
a double near 2e9 seconds resolves about 0.24 microseconds, so finer input is refused.

Each function returns ``(values, bad)`` where ``bad`` is a mask of the rows that cannot
be converted without losing information; callers turn the first one into an error.

SAS handles dates from A.D. 1582 to A.D. 19,900 (SAS Language Reference: Concepts, "SAS
Date, Time, and Datetime Values"): :func:`out_of_range` marks the numbers outside that span
(for times: longer than the span), which no SAS date format can display; readers refuse
them rather than turn them into dates, writers refuse dates SAS could not hold.
"""
from __future__ import annotations

import numpy as np

from specs.errors import InputError

SAS_EPOCH = np.datetime64("1960-01-01T00:00:00", "us")
_EPOCH_SECONDS = SAS_EPOCH.astype("datetime64[s]").astype(np.int64)   # from 1970, negative
_US_PER_SECOND = 1_000_000
_US_PER_DAY = 86_400 * _US_PER_SECOND
_SECONDS_PER_DAY = 86_400

FIRST_SAS_DAY = np.datetime64("1582-01-01", "D")
END_SAS_DAY = np.datetime64("19901-01-01", "D")  # the day after 19,900-12-31
_FIRST = float((FIRST_SAS_DAY - SAS_EPOCH.astype("datetime64[D]")).astype(np.int64))
_END = float((END_SAS_DAY - SAS_EPOCH.astype("datetime64[D]")).astype(np.int64))
#: [low, high) of the SAS numbers each kind can hold: days, seconds since 1960, seconds.
SAS_RANGES = {
    "date": (_FIRST, _END),
    "datetime": (_FIRST * _SECONDS_PER_DAY, _END * _SECONDS_PER_DAY),
    "time": (-(_END - _FIRST) * _SECONDS_PER_DAY, (_END - _FIRST) * _SECONDS_PER_DAY),
}
_LAST = END_SAS_DAY - 1
#: The ranges in words, for error messages.
RANGE_TEXT = {
    "date": f"days {SAS_RANGES['date'][0]:.0f} to {SAS_RANGES['date'][1] - 1:.0f} "
            f"({FIRST_SAS_DAY} to {_LAST})",
    "datetime": f"seconds {SAS_RANGES['datetime'][0]:.0f} to below {SAS_RANGES['datetime'][1]:.0f} "
                f"({FIRST_SAS_DAY}T00:00:00 to {_LAST}T23:59:59)",
    "time": f"seconds above {SAS_RANGES['time'][0]:.0f} and below {SAS_RANGES['time'][1]:.0f} "
            "(the span of SAS datetimes)",
}


def out_of_range(values: np.ndarray, kind: str) -> np.ndarray:
    """Mask of the SAS numbers (days or seconds) outside the span SAS handles for ``kind``
    (``"date"``, ``"datetime"`` or ``"time"``); missing values (NaN) are never out of range."""
    low, high = SAS_RANGES[kind]
    values = np.asarray(values, dtype=np.float64)
    return ~np.isnan(values) & ~((values >= low) & (values < high))


def check_range(values: np.ndarray, kind: str, display_format: str, *, file, column: str,
                advice: str = "") -> None:
    """Refuse (InputError naming the first row) SAS numbers under a ``kind`` format that lie
    outside the span SAS handles; ``advice`` ends the message."""
    bad = out_of_range(values, kind)
    if bad.any():
        row = int(np.argmax(bad))
        raise InputError(f"value {values[row].item()!r} has the {kind} format {display_format} "
                         f"but is not a SAS {kind} ({RANGE_TEXT[kind]}){advice}",
                         file=file, column=column, row=row + 1)


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
        seconds = values.astype("datetime64[s]", copy=False).view(np.int64)
        out = (seconds - _EPOCH_SECONDS).astype(np.float64)
        np.copyto(out, np.nan, where=nat)
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
