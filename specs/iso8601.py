"""ISO 8601 date/time values as SDTM stores them in --DTC and --DUR (SDTMIG v3.4 §4.4).

SDTMIG §4.4 allows, in the ISO 8601 *extended* format only:

* complete values ``YYYY-MM-DDThh:mm:ss`` with an optional fraction of a second
  (``.n+``) and an optional time zone (``Z``, ``+hh:mm``, ``-hh:mm``, ``+hh``, ``-hh``);
* right-truncated partial values: ``2003-12-15T13:14``, ``2003-12-15T13``,
  ``2003-12-15``, ``2003-12``, ``2003``;
* missing intermediate components, one hyphen per missing component with the
  delimiters kept: ``2003---15`` (month unknown), ``--12-15`` (year unknown),
  ``2003-12-15T-:15`` (hour unknown), ``-----T07:15`` (date unknown);
* intervals ``start/end``, ``start/duration`` and ``duration/start`` with a solidus;
* null (missing) values.

Durations (--DUR) are ``PnYnMnDTnHnMnS`` or ``PnW`` (SDTMIG §4.4.3).

Rules this module applies beyond the grammar, so that a value is *valid* only when it
can denote a real instant:

1. The last component written must be known: ``2003-12--`` and ``2003---`` are
   invalid (truncate instead), and a value made only of hyphens is invalid (use null).
2. A time needs all three date components written (known or ``-``): ``2003-12T10`` is
   invalid.
3. Calendar: month 01-12; day 01 to the length of the month (leap years by the
   Gregorian rule; 29 February is accepted when the year is unknown; 31 when the month
   is unknown); hour 00-23 (``24:00`` is not accepted); minute and second 00-59 (no
   leap second); time-zone offset hours 00-14 and minutes 00-59.
4. ``T``, ``Z`` and ``P`` are upper case; the decimal sign is ``.`` with a leading
   digit (``PT0.5H``); no spaces anywhere (a padded value is invalid, not trimmed).

All functions are vectorised: the distinct values of a Series are found with
:func:`pandas.factorize`, decomposed once with one compiled regular expression over all
of them (``Series.str.extract``), checked with numpy, and spread back to the rows, so
1.5 million AE dates cost about as much as their few thousand distinct values.
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import NamedTuple

import numpy as np
import pandas as pd

COMPONENTS = ("year", "month", "day", "hour", "minute", "second")
PRECISIONS = COMPONENTS

_NUM = len(COMPONENTS)

_DTC_PATTERN = re.compile(
    r"^(?P<year>\d{4}|-)"
    r"(?:-(?P<month>\d{2}|-)"
    r"(?:-(?P<day>\d{2}|-)"
    r"(?:T(?P<hour>\d{2}|-)"
    r"(?::(?P<minute>\d{2}|-)"
    r"(?::(?P<second>\d{2}|-)(?P<fraction>\.\d+)?)?)?"
    r"(?P<tz>Z|[+-](?P<tzh>\d{2})(?::(?P<tzm>\d{2}))?)?"
    r")?)?)?\Z",
    re.ASCII,
)
_DUR_NUMBER = r"\d+(?:\.\d+)?"
_DUR_PATTERN = re.compile(
    rf"^P(?:(?P<W>{_DUR_NUMBER})W"
    rf"|(?:(?P<Y>{_DUR_NUMBER})Y)?(?:(?P<Mo>{_DUR_NUMBER})M)?(?:(?P<D>{_DUR_NUMBER})D)?"
    rf"(?:(?P<T>T)(?:(?P<H>{_DUR_NUMBER})H)?(?:(?P<Mi>{_DUR_NUMBER})M)?(?:(?P<S>{_DUR_NUMBER})S)?)?)\Z",
    re.ASCII,
)
_DUR_UNITS = ("W", "Y", "Mo", "D", "H", "Mi", "S")
_INTERVAL_PATTERN = re.compile(r"^(?P<start>[^/]+)/(?P<end>[^/]+)\Z")

_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_LIMITS = {1: (1, 12), 3: (0, 23), 4: (0, 59), 5: (0, 59)}

#: status of a value: null or empty, valid single date/time, valid interval, invalid
MISSING, SINGLE, INTERVAL, INVALID = 0, 1, 2, 3


#: dtype of text results: pandas' default string dtype ("str" from pandas 3, object before)
TEXT_DTYPE = "str" if int(pd.__version__.split(".")[0]) >= 3 else object

# --------------------------------------------------------------------------- helpers


def text_series(values: np.ndarray, index=None) -> pd.Series:
    """A text Series in pandas' default string dtype from an object array (None = null)."""
    return pd.Series(np.asarray(values, dtype=object), index=index, dtype=object).astype(TEXT_DTYPE)


def factorize_text(values) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct non-null values of ``values`` as text, and each row's code into them.

    Returns ``(codes, texts, is_text)``: ``codes`` is an int64 array (``-1`` for null),
    ``texts`` an object array of ``str``, ``is_text`` whether each distinct value was a
    string in the input. Values that are not strings (numbers, dates read from a
    spreadsheet) are turned into text with ``str`` so that callers can read or report
    them; nothing is dropped.
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    texts = np.asarray(uniques, dtype=object)
    is_text = np.ones(len(texts), dtype=bool)
    if len(texts) and pd.api.types.infer_dtype(texts, skipna=False) != "string":
        is_text = np.array([isinstance(x, str) for x in texts], dtype=bool)
        texts = np.array([x if isinstance(x, str) else str(x) for x in texts], dtype=object)
    return codes.astype(np.int64, copy=False), texts, is_text


def spread(per_value: np.ndarray, codes: np.ndarray, fill) -> np.ndarray:
    """Rows' values from per-distinct-value results (``fill`` where the row is null)."""
    return np.append(per_value, np.array([fill], dtype=per_value.dtype))[codes]


def is_leap_year(year: np.ndarray) -> np.ndarray:
    """Gregorian leap years (divisible by 4, except centuries not divisible by 400)."""
    year = np.asarray(year)
    return (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))


def days_in_month(year, month) -> np.ndarray:
    """Length of the month; ``year`` and ``month`` are float arrays where NaN is unknown.

    Unknown month: 31 (the longest); unknown year: February has 29 days.
    """
    year = np.asarray(year, dtype=np.float64)
    month = np.asarray(month, dtype=np.float64)
    known_month = ~np.isnan(month)
    index = np.where(known_month, month, 1).astype(np.int64).clip(1, 12) - 1
    days = np.where(known_month, _MONTH_DAYS[index], 31)
    feb = known_month & (index == 1)
    leap = np.isnan(year) | is_leap_year(np.nan_to_num(year, nan=1).astype(np.int64))
    return np.where(feb & leap, 29, days).astype(np.int64)


def epoch_days(year, month, day) -> np.ndarray:
    """Days since 1970-01-01 of calendar dates given as int arrays (all known, valid)."""
    year = np.asarray(year, dtype=np.int64)
    month = np.asarray(month, dtype=np.int64)
    day = np.asarray(day, dtype=np.int64)
    months = (year - 1970) * 12 + (month - 1)
    first = months.astype("timedelta64[M]") + np.datetime64("1970-01", "M")
    return first.astype("datetime64[D]").astype(np.int64) + (day - 1)


def days_to_datetime(days: np.ndarray, index=None) -> pd.Series:
    """A ``datetime64[s]`` Series from float day numbers (NaN -> NaT).

    Seconds resolution covers years 0000-9999, which nanoseconds do not.
    """
    days = np.asarray(days, dtype=np.float64)
    known = ~np.isnan(days)
    out = np.full(len(days), np.datetime64("NaT"), dtype="datetime64[s]")
    out[known] = days[known].astype(np.int64).astype("datetime64[D]").astype("datetime64[s]")
    return pd.Series(out, index=index)


def to_epoch_days(values, index=None) -> np.ndarray:
    """Day numbers (days since 1970-01-01, float, NaN unknown) of dates given as
    --DTC text (the date part of values with a complete date; anything else NaN),
    datetime64 values (their date part), or one scalar (text, date, Timestamp) that
    is broadcast to ``index``.
    """
    if values is None:
        return np.full(0 if index is None else len(index), np.nan)
    if not isinstance(values, (pd.Series, pd.Index, np.ndarray, list, tuple)):
        if index is None:
            raise ValueError("a scalar date needs an index to broadcast to")
        single = to_epoch_days(pd.Series([values], dtype=object))[0]
        return np.full(len(index), single)
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        if getattr(series.dt, "tz", None) is not None:
            series = series.dt.tz_localize(None)
        stamps = series.to_numpy(dtype="datetime64[s]")
        out = stamps.astype("datetime64[D]").astype(np.int64).astype(np.float64)
        out[np.isnat(stamps)] = np.nan
        return out
    if series.dtype == object and len(series):
        kinds = pd.api.types.infer_dtype(series, skipna=True)
        if kinds in ("date", "datetime", "datetime64"):
            return to_epoch_days(pd.to_datetime(series))
    codes, texts, is_text = factorize_text(series)
    per_value = _analyse(texts, is_text)
    complete = per_value.complete_date
    days = np.full(len(texts), np.nan)
    parts = per_value.parts
    if complete.any():
        days[complete] = epoch_days(parts[complete, 0], parts[complete, 1], parts[complete, 2])
    return spread(days, codes, np.nan)


def aligned_epoch_days(values, like, name: str) -> np.ndarray:
    """Day numbers of ``values`` for each row of ``like`` (see :func:`to_epoch_days`).

    ``values`` is a Series with the same index as ``like`` (a ValueError otherwise:
    merge per-subject dates onto the records first, never align silently), one scalar
    broadcast to every row, or None (no date).
    """
    index = like.index if isinstance(like, pd.Series) else pd.RangeIndex(len(like))
    if isinstance(values, pd.Series):
        if not values.index.equals(index):
            raise ValueError(
                f"{name} must have the same index as the dates (merge it onto the records first)"
            )
        return to_epoch_days(values)
    if values is None or (np.ndim(values) == 0 and pd.isna(values)):
        return np.full(len(index), np.nan)
    return to_epoch_days(values, index=index)


# --------------------------------------------------------------------------- analysis


class _Analysis:
    """Per distinct value: kind, components (float, NaN unknown) and derived facts."""

    def __init__(self, kind: np.ndarray, parts: np.ndarray) -> None:
        self.kind = kind
        self.parts = parts
        single = kind == SINGLE
        known = ~np.isnan(parts)
        self.single = single
        self.complete_date = single & known[:, :3].all(axis=1)
        # precision: how many leading components are known without a gap
        prefix = np.cumprod(known, axis=1).sum(axis=1)
        self.precision_depth = np.where(single, prefix, 0)
        # a known component after an unknown one: missing intermediate component(s)
        deepest = np.where(known.any(axis=1), _NUM - np.argmax(known[:, ::-1], axis=1), 0)
        self.incomplete = single & (prefix < deepest)


class _Remembered:
    """The analyses of the last few sets of distinct values, looked up by the values.

    A build reads the same --DTC column many times over (study days, epochs, future dates,
    the conformance checks, the define's DataType, the define <-> data cross-check), each
    time through :func:`_analyse` of its distinct values; remembered, each set is analysed
    once. An analysis is a pure function of the values and is handed out read-only, so a
    remembered one is the one that would be computed. Holds at most ``limit`` distinct
    values in all (the oldest sets are forgotten first); thread-safe (the checks of a
    dataset's columns may run in threads)."""

    def __init__(self, limit: int) -> None:
        self.limit, self.held = limit, 0
        self.analyses: OrderedDict[tuple, _Analysis] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple) -> _Analysis | None:
        with self.lock:
            found = self.analyses.get(key)
            if found is not None:
                self.analyses.move_to_end(key)
            return found

    def keep(self, key: tuple, analysis: _Analysis) -> None:
        size = len(key[0])
        if size > self.limit:
            return
        for array in vars(analysis).values():
            array.flags.writeable = False
        with self.lock:
            if key in self.analyses:
                return
            self.analyses[key] = analysis
            self.held += size
            while self.held > self.limit:
                old, _ = self.analyses.popitem(last=False)
                self.held -= len(old[0])


_REMEMBERED = _Remembered(limit=200_000)


def _analyse(texts: np.ndarray, is_text: np.ndarray) -> _Analysis:
    """Classify each distinct value: missing (""), valid single value, valid interval,
    invalid (including every value that was not a string: --DTC is character data).
    Each set of values is analysed once while it is remembered (:class:`_Remembered`)."""
    key = (tuple(texts), np.asarray(is_text, dtype=bool).tobytes())
    found = _REMEMBERED.get(key)
    if found is None:
        found = _analyse_values(texts, is_text)
        _REMEMBERED.keep(key, found)
    return found


def _analyse_values(texts: np.ndarray, is_text: np.ndarray) -> _Analysis:
    n = len(texts)
    kind = np.full(n, INVALID, dtype=np.int8)
    parts = np.full((n, _NUM), np.nan)
    if n == 0:
        return _Analysis(kind, parts)
    text = pd.Series(texts, dtype=object)
    kind[(text == "").to_numpy()] = MISSING
    slash = text.str.contains("/", regex=False).to_numpy(dtype=bool)
    plain = (kind == INVALID) & ~slash
    if plain.any():
        ok, plain_parts = _single(texts[plain])
        parts[plain] = plain_parts
        kind[np.flatnonzero(plain)[ok]] = SINGLE
    if slash.any():
        kind[np.flatnonzero(slash)[_interval(texts[slash])]] = INTERVAL
    kind[~is_text] = INVALID
    parts[kind != SINGLE] = np.nan
    return _Analysis(kind, parts)


def _single(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validity and components (float, NaN unknown) of single (non-interval) texts.

    Values written in the common shapes ``YYYY``, ``YYYY-MM`` ... ``YYYY-MM-DDThh:mm:ss``
    are read with numpy character arithmetic; every other value by the regular
    expression. Both feed the same calendar checks.
    """
    n = len(texts)
    parts = np.full((n, _NUM), np.nan)
    syntax_ok = np.zeros(n, dtype=bool)
    fast, fast_parts = _fast_components(texts)
    syntax_ok[fast] = True
    parts[fast] = fast_parts
    rest = ~fast
    if rest.any():
        syntax_ok[rest], parts[rest] = _regex_components(texts[rest])
    return syntax_ok & _calendar_ok(parts), parts


_FAST_TEMPLATE = "0000-00-00T00:00:00"
_FAST_WIDTH = len(_FAST_TEMPLATE)
_FAST_LENGTHS = [4, 7, 10, 13, 16, 19]  # right truncations after each component
_FAST_DIGIT = np.array([c == "0" for c in _FAST_TEMPLATE])
_FAST_CODES = np.array([ord(c) for c in _FAST_TEMPLATE], dtype=np.uint32)
_FAST_FIELDS = ((0, 4), (5, 7), (8, 10), (11, 13), (14, 16), (17, 19))


def _fast_components(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which texts are a right truncation of ``YYYY-MM-DDThh:mm:ss`` written with
    digits, and their components (rows of the selected texts only)."""
    lengths = pd.Series(texts, dtype=object).str.len().to_numpy(dtype=np.int64)
    candidate = np.isin(lengths, _FAST_LENGTHS)
    shape = np.zeros(len(texts), dtype=bool)
    if not candidate.any():
        return shape, np.empty((0, _NUM))
    chars = texts[candidate].astype(f"U{_FAST_WIDTH}").view(np.uint32).reshape(-1, _FAST_WIDTH)
    within = np.arange(_FAST_WIDTH)[None, :] < lengths[candidate][:, None]
    digit = (chars >= 48) & (chars <= 57)
    fits = np.where(_FAST_DIGIT[None, :], digit, chars == _FAST_CODES[None, :])
    good = (fits | ~within).all(axis=1)
    shape[np.flatnonzero(candidate)[good]] = True
    chars = chars[good]
    digits = chars.astype(np.int32) - 48
    parts = np.full((len(chars), _NUM), np.nan)
    for col, (a, b) in enumerate(_FAST_FIELDS):
        number = digits[:, a]
        for pos in range(a + 1, b):
            number = number * 10 + digits[:, pos]
        parts[:, col] = np.where(chars[:, a] != 0, number, np.nan)
    return shape, parts


def _regex_components(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Syntax validity (rules 1, 2 and the time-zone range) and components, by regex."""
    n = len(texts)
    groups = pd.Series(texts, dtype=object).str.extract(_DTC_PATTERN)
    raw = groups[list(COMPONENTS)].to_numpy(dtype=object)
    present = ~pd.isna(raw)
    known = present & (raw != "-")
    parts = np.full((n, _NUM), np.nan)
    parts[known] = raw[known].astype(np.float64)
    depth = present.sum(axis=1)
    ok = present[:, 0] & known[np.arange(n), np.maximum(depth - 1, 0)]
    tzh = pd.to_numeric(groups["tzh"]).to_numpy(dtype=np.float64, na_value=np.nan)
    tzm = pd.to_numeric(groups["tzm"]).to_numpy(dtype=np.float64, na_value=np.nan)
    ok &= (np.isnan(tzh) | (tzh <= 14)) & (np.isnan(tzm) | (tzm <= 59))
    return ok, parts


def _calendar_ok(parts: np.ndarray) -> np.ndarray:
    """Rule 3: each known component within its calendar range."""
    ok = np.ones(len(parts), dtype=bool)
    for col, (low, high) in _LIMITS.items():
        value = parts[:, col]
        ok &= np.isnan(value) | ((value >= low) & (value <= high))
    day = parts[:, 2]
    ok &= np.isnan(day) | ((day >= 1) & (day <= days_in_month(parts[:, 0], parts[:, 1])))
    return ok


def _duration_ok(texts: np.ndarray) -> np.ndarray:
    """Validity of ISO 8601 durations (SDTMIG §4.4.3)."""
    n = len(texts)
    if n == 0:
        return np.zeros(0, dtype=bool)
    groups = pd.Series(texts, dtype=object).str.extract(_DUR_PATTERN)
    units = groups[list(_DUR_UNITS)].to_numpy(dtype=object)
    present = ~pd.isna(units)  # a text that does not match has no unit present
    has_unit = present.any(axis=1)
    # "T" must be followed by at least one time component
    t_ok = pd.isna(groups["T"]).to_numpy() | present[:, 4:].any(axis=1)
    decimal = present & (np.char.find(np.where(present, units, "").astype(str), ".") >= 0)
    last = len(_DUR_UNITS) - 1 - np.argmax(present[:, ::-1], axis=1)
    decimal_count = decimal.sum(axis=1)
    decimal_ok = (decimal_count == 0) | ((decimal_count == 1) & decimal[np.arange(n), last])
    return has_unit & t_ok & decimal_ok


def _interval(texts: np.ndarray) -> np.ndarray:
    """Validity of ``start/end``, ``start/duration`` and ``duration/end`` intervals."""
    groups = pd.Series(texts, dtype=object).str.extract(_INTERVAL_PATTERN)
    matched = ~pd.isna(groups["start"]).to_numpy()
    ok = np.zeros(len(texts), dtype=bool)
    if not matched.any():
        return ok
    sides = {}
    for side in ("start", "end"):
        side_text = groups[side].to_numpy(dtype=object)[matched]
        sides[side] = (_single(side_text)[0], _duration_ok(side_text))
    (start_dt, start_dur), (end_dt, end_dur) = sides["start"], sides["end"]
    ok[matched] = (start_dt & end_dt) | (start_dt & end_dur) | (start_dur & end_dt)
    return ok


def _prepare(values) -> tuple[pd.Index | None, np.ndarray, _Analysis]:
    index = values.index if isinstance(values, pd.Series) else None
    codes, texts, is_text = factorize_text(values)
    return index, codes, _analyse(texts, is_text)


# --------------------------------------------------------------------------- public API


def is_valid_dtc(values) -> pd.Series:
    """True where a --DTC value is null/empty or a valid SDTMIG §4.4 ISO 8601 value.

    Valid forms are listed in the module docstring (complete, right-truncated,
    missing intermediate components, intervals), with calendar checks: 2021-02-30,
    2021-13-01 and ``T25:00`` are invalid; 2020-02-29 is valid, 2100-02-29 is not.
    """
    index, codes, info = _prepare(values)
    ok = info.kind != INVALID
    return pd.Series(spread(ok, codes, True), index=index, dtype=bool)


def is_valid_duration(values) -> pd.Series:
    """True where a --DUR value is null/empty or a valid ISO 8601 duration.

    Forms (SDTMIG §4.4.3): ``PnYnMnDTnHnMnS`` with only the collected components, in
    that order, at least one component, ``T`` only before a time component; or ``PnW``
    (weeks never mixed with other units). A decimal fraction (``.`` with a leading
    digit: ``PT0.5H``, ``P4.5W``) is allowed only in the lowest-order component written.
    """
    index = values.index if isinstance(values, pd.Series) else None
    codes, texts, is_text = factorize_text(values)
    ok = (texts == "") if len(texts) else np.zeros(0, dtype=bool)
    rest = ~ok & is_text
    if rest.any():
        ok[rest] = _duration_ok(texts[rest])
    return pd.Series(spread(ok, codes, True), index=index, dtype=bool)


def dtc_parts(values) -> pd.DataFrame:
    """Components of single --DTC values as nullable integers.

    Columns ``year, month, day, hour, minute, second`` (``Int64``), NA where the
    component is unknown (``-``) or not written, and all NA for null, invalid and
    interval values. The fraction of a second and the time zone are not returned.
    """
    index, codes, info = _prepare(values)
    rows = np.append(info.parts, np.full((1, _NUM), np.nan), axis=0)[codes]
    frame = pd.DataFrame(rows, columns=list(COMPONENTS), index=index)
    return frame.astype("Int64")


def dtc_precision(values) -> pd.Series:
    """Precision of single --DTC values: the deepest component known with every
    component above it known — ``"year"``, ``"month"``, ``"day"``, ``"hour"``,
    ``"minute"`` or ``"second"``.

    ``2003---15`` has precision ``"year"`` (its day is known but the month is not);
    null, invalid and interval values and values with an unknown year give NA. A value
    with a complete date part has precision ``"day"`` or finer.
    """
    index, codes, info = _prepare(values)
    names = np.array([None, *COMPONENTS], dtype=object)
    per_value = names[info.precision_depth]
    return text_series(spread(per_value, codes, None), index=index)


def has_complete_date(values) -> pd.Series:
    """True where a single --DTC value has a complete date part (year, month and day)."""
    index, codes, info = _prepare(values)
    return pd.Series(spread(info.complete_date, codes, False), index=index, dtype=bool)


def dtc_date(values) -> pd.Series:
    """The date part of --DTC values as ``datetime64[s]`` (time of day dropped).

    NaT unless the value is a valid single date/time with a complete date part
    (partial, invalid, null and interval values give NaT). Seconds resolution holds any
    year 0000-9999.
    """
    index = values.index if isinstance(values, pd.Series) else None
    return days_to_datetime(to_epoch_days(values), index=index)


def dtc_datatype(values) -> pd.Series:
    """Define-XML 2.1 ``DataType`` of each --DTC value (NA for null and invalid values).

    * ``date`` — complete date, no time: ``2003-12-15``
    * ``datetime`` — complete date and time to the second: ``2003-12-15T13:14:17``
    * ``partialDate`` — right-truncated date: ``2003``, ``2003-12``
    * ``partialDatetime`` — complete date with a right-truncated time: ``2003-12-15T13:14``
    * ``incompleteDatetime`` — an unknown component before a known one: ``2003---15``,
      ``--12-15``, ``2003-12-15T-:15``
    * ``intervalDatetime`` — ``start/end``, ``start/duration``, ``duration/end``
    """
    index, codes, info = _prepare(values)
    return text_series(spread(_datatypes(info), codes, None), index=index)


def _datatypes(info: _Analysis) -> np.ndarray:
    """The DataType of each distinct value (None for missing and invalid values)."""
    depth = info.precision_depth
    return np.select(
        [
            info.kind == INTERVAL,
            ~info.single,
            info.incomplete | (depth == 0),
            depth == 3,
            depth == 6,
            depth < 3,
        ],
        [
            "intervalDatetime", None, "incompleteDatetime", "date", "datetime", "partialDate",
        ],
        default="partialDatetime",
    ).astype(object)


#: Define-XML 2.1 DataTypes of --DTC variables (section 4.3.1), narrowest first, and the
#: value types (:func:`dtc_datatype`) each holds. A DataType states the *planned* precision:
#: "a variable defined with the Data Type partialDate may have a complete date but a variable
#: defined with the Data Type date may not be a partialDate". partialDatetime holds
#: right-truncated dates and date/times (a complete date with ``T10:30`` is partialDatetime,
#: never partialDate); incompleteDatetime, a value that may miss any component, also holds the
#: right-truncated ones; intervalDatetime is the type of a column that may hold intervals, and
#: holds single values too.
DTC_DATATYPES: dict[str, frozenset[str]] = {
    "date": frozenset({"date"}),
    "datetime": frozenset({"datetime"}),
    "partialDate": frozenset({"date", "partialDate"}),
    "partialDatetime": frozenset({"date", "partialDate", "datetime", "partialDatetime"}),
    "incompleteDatetime": frozenset({"date", "partialDate", "datetime", "partialDatetime", "incompleteDatetime"}),
    "intervalDatetime": frozenset({"date", "partialDate", "datetime", "partialDatetime", "incompleteDatetime",
                                   "intervalDatetime"}),
}


def dtc_column_datatype(values, planned: str | None = None) -> str | None:
    """The narrowest Define-XML DataType that holds every value of a --DTC column and the
    ``planned`` DataType (the spec's), per :data:`DTC_DATATYPES`.

    ``planned="partialDate"`` with ``2021-03-04T10:30`` in the data gives ``partialDatetime``;
    with complete dates only it stays ``partialDate`` (planned precision). Null and invalid
    values are ignored (the conformance checks report invalid ones); a column with no valid
    value gives ``planned``. ``planned`` outside :data:`DTC_DATATYPES` (e.g. ``time``) is
    returned unchanged.
    """
    if planned is not None and planned not in DTC_DATATYPES:
        return planned
    needed = set(dtc_datatype(values).dropna().unique())
    if planned is not None:
        needed |= DTC_DATATYPES[planned]
    if not needed:
        return planned
    return next(name for name, holds in DTC_DATATYPES.items() if needed <= holds)


def dtc_outside_datatype(values, declared: str) -> pd.Series:
    """Where a value is not held by the ``declared`` DataType (:data:`DTC_DATATYPES`): the
    value's own DataType (:func:`dtc_datatype`), or ``"invalid"`` for text that is not an
    ISO 8601 date/time; NA where the value is held, null or empty."""
    index, codes, info = _prepare(values)
    own = _datatypes(info)
    held = np.isin(own, list(DTC_DATATYPES[declared])) | (info.kind == MISSING)
    per_value = np.where(held, None, np.where(info.kind == INVALID, "invalid", own)).astype(object)
    return text_series(spread(per_value, codes, None), index=index)


class DateFields(NamedTuple):
    """Date components of --DTC values, one entry per row.

    ``year``, ``month``, ``day`` are float arrays (NaN where unknown or not written, and
    for every value whose ``status`` is not ``SINGLE``); ``status`` holds ``MISSING``,
    ``SINGLE``, ``INTERVAL`` or ``INVALID``; ``index`` is the input's index (or None).
    """

    year: np.ndarray
    month: np.ndarray
    day: np.ndarray
    status: np.ndarray
    index: pd.Index | None


def date_fields(values) -> DateFields:
    """Date components and status of each --DTC value (see :class:`DateFields`)."""
    index, codes, info = _prepare(values)
    columns = [spread(info.parts[:, col].copy(), codes, np.nan) for col in range(3)]
    status = spread(info.kind, codes, MISSING)
    return DateFields(*columns, status, index)


def date_bounds(fields: DateFields) -> tuple[np.ndarray, np.ndarray]:
    """Earliest and latest day numbers (days since 1970-01-01) a date part can denote.

    * complete date: that day, twice;
    * year and month known: first and last day of that month (leap years right);
    * year known, month unknown (day known or not): 1 January and 31 December;
    * year unknown, null, interval or invalid: NaN (no bound).
    """
    year, month, day = fields.year, fields.month, fields.day
    has_year = ~np.isnan(year)
    has_month = has_year & ~np.isnan(month)
    has_day = has_month & ~np.isnan(day)
    y = np.where(has_year, year, 1970).astype(np.int64)
    first_month = np.where(has_month, month, 1).astype(np.int64)
    last_month = np.where(has_month, month, 12).astype(np.int64)
    first_day = np.where(has_day, day, 1).astype(np.int64)
    last_day = np.where(has_day, day, days_in_month(y, last_month)).astype(np.int64)
    low = epoch_days(y, first_month, first_day).astype(np.float64)
    high = epoch_days(y, last_month, last_day).astype(np.float64)
    low[~has_year] = np.nan
    high[~has_year] = np.nan
    return low, high


def dtc_date_range(values) -> pd.DataFrame:
    """The first and last date (``datetime64[s]``) each --DTC value can denote.

    Columns ``first`` and ``last``; rules as :func:`date_bounds` (``2021-02`` ->
    2021-02-01 .. 2021-02-28; ``2020`` -> 2020-01-01 .. 2020-12-31; unknown year -> NaT).
    """
    fields = date_fields(values)
    low, high = date_bounds(fields)
    return pd.DataFrame(
        {
            "first": days_to_datetime(low, index=fields.index),
            "last": days_to_datetime(high, index=fields.index),
        }
    )
