"""Raw EDC dates to SDTM ISO 8601 --DTC values, study days, and date findings.

Raw-date format language
========================

A study config lists, per raw date column, the formats its values may be written in,
e.g. ``["DD MON YYYY", "YYYY-MM-DD"]``. A format is a sequence of *tokens* and
*literal separators*:

=========  ====================================================================
Token      Meaning
=========  ====================================================================
``YYYY``   four-digit year
``YY``     two-digit year — only with ``yearcutoff`` (SAS ``YEARCUTOFF=``): the
           year is the one in ``yearcutoff .. yearcutoff+99`` ending in those digits
``MON``    English month name, any case: ``JAN`` .. ``DEC``, the full name
           (``January``) or ``SEPT``
``MM``     month number ``1``-``12``; **minutes** when it follows ``HH``
``DD``     day of month
``HH``     hour ``0``-``23`` (24-hour clock)
``MI``     minutes (same as ``MM`` after ``HH``)
``SS``     seconds
=========  ====================================================================

* Any other character is a literal separator (``-``, ``/``, ``.``, ``:``, ``T``,
  ``,``); a space stands for one or more spaces. Letters other than the tokens and
  ``T`` are refused, so a typo in a config fails loudly.
* ``[ ... ]`` marks an optional part: ``"DD MON YYYY[ HH:MM[:SS]]"`` reads dates with
  or without a time.
* Numeric tokens other than the year take one or two digits, except where they touch
  another numeric token (``YYYYMMDD``, ``HHMM``): then exactly two.
* Every component token may instead hold an *unknown token* (``unknown_tokens``,
  default ``UN``, ``UNK``, ``UNKN``, ``--``, ``XX``, ``??``; any case). Tokens made of
  digits (``00`` in EDCs that write an unknown day as zeros) are honoured too. Put
  ``""`` in the set to also accept blank components (then spaces in the format match
  zero or more spaces).

Examples: ``"DD MON YYYY"``, ``"DD-MON-YYYY"``, ``"DDMONYYYY"``, ``"YYYY-MM-DD"``,
``"DD/MM/YYYY"``, ``"MM/DD/YYYY"``, ``"YYYYMMDD"``, ``"DD MON YYYY HH:MM"``,
``"YYYY-MM-DDTHH:MM:SS"``, ``"DD.MM.YY"`` (with ``yearcutoff``).

How values are read (:func:`parse_raw_dates`)
---------------------------------------------

1. Null, empty and blank values are missing: null ISO value, not a problem.
2. Leading and trailing spaces are trimmed.
3. The formats are tried in the order given; the first whose pattern matches the
   whole value is used — a match is by shape only, so a value that matches a format
   but is not a real date (``30 FEB 2021``) is a problem, never re-read with a later
   format. Two formats that read the same shapes (``DD/MM/YYYY`` and ``MM/DD/YYYY``)
   are refused: which one applies would be a guess.
4. Unknown components become ISO 8601 partial values: right truncation when the
   unknown parts are the lowest-order ones (``UN JAN 2021`` -> ``2021-01``,
   ``UN UNK 2021`` -> ``2021``), a hyphen per missing intermediate component
   otherwise (``15 UNK 2021`` -> ``2021---15``, ``15 JAN UNKN`` -> ``--01-15``,
   ``UN UNK UNKN 10:30`` -> ``-----T10:30``). A value with every component unknown
   is missing (null, not a problem).
5. Every other value is reported in ``problems`` with its row, raw text and reason,
   and its ISO value is null: no format matched; month, day, hour, minute or second out
   of range (``2021-02-30``, ``31 APR 2021``, ``2020-02-60``, ``25:00``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from specs.errors import InputError
from specs.iso8601 import (
    COMPONENTS,
    aligned_epoch_days,
    SINGLE,
    date_bounds,
    date_fields,
    days_in_month,
    factorize_text,
    spread,
    text_series,
    to_epoch_days,
)

DEFAULT_UNKNOWN_TOKENS = ("UN", "UNK", "UNKN", "--", "XX", "??")

_MONTHS = (
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
)
_MONTH_NAMES = (
    r"JAN(?:UARY)?|FEB(?:RUARY)?|MAR(?:CH)?|APR(?:IL)?|MAY|JUNE?|JULY?|AUG(?:UST)?"
    r"|SEPT?(?:EMBER)?|OCT(?:OBER)?|NOV(?:EMBER)?|DEC(?:EMBER)?"
)
_MONTH_NUMBER = {name: number for number, name in enumerate(_MONTHS, start=1)}

# token -> (group name, component index in COMPONENTS, digits or None for names)
_TOKENS = {
    "YYYY": ("year4", 0, 4),
    "YY": ("year2", 0, 2),
    "MON": ("monthname", 1, None),
    "MM": ("month", 1, 2),
    "DD": ("day", 2, 2),
    "HH": ("hour", 3, 2),
    "MI": ("minute", 4, 2),
    "SS": ("second", 5, 2),
}
_TOKEN_ORDER = ("YYYY", "YY", "MON", "MM", "MI", "DD", "HH", "SS")
_RANGES = {1: (1, 12, "month", "01-12"), 3: (0, 23, "hour", "00-23"),
           4: (0, 59, "minute", "00-59"), 5: (0, 59, "second", "00-59")}
_PROBLEM_COLUMNS = ["row", "value", "format", "reason"]


# --------------------------------------------------------------------------- formats


@dataclass(frozen=True)
class _Format:
    text: str
    pattern: re.Pattern
    groups: tuple[str, ...]  # group names used (from _TOKENS)


def _tokenize(fmt: str) -> list[tuple[str, str]]:
    """Split a format into ("token", name), ("literal", char), ("open"|"close", "")."""
    items: list[tuple[str, str]] = []
    i = 0
    seen_hour = False
    while i < len(fmt):
        char = fmt[i]
        if char == "[":
            items.append(("open", ""))
            i += 1
            continue
        if char == "]":
            items.append(("close", ""))
            i += 1
            continue
        token = next((t for t in _TOKEN_ORDER if fmt.startswith(t, i)), None)
        if token is not None:
            if token == "MM" and seen_hour:
                token = "MI"
            seen_hour = seen_hour or token == "HH"
            items.append(("token", token))
            i += len(token)
            continue
        if char.isalpha() and char != "T":
            raise InputError(
                f"date format {fmt!r}: unknown token at {fmt[i:]!r} (tokens: YYYY, YY, MON, "
                "MM, DD, HH, MI, SS; other letters are not allowed except the separator T)"
            )
        items.append(("literal", char))
        i += 1
    return items


def _unknown_alternatives(unknown_tokens: tuple[str, ...]) -> str:
    words = sorted({t.strip() for t in unknown_tokens if t.strip()}, key=len, reverse=True)
    return "|".join(re.escape(w) for w in words)


@lru_cache(maxsize=256)
def _compile(fmt: str, unknown_tokens: tuple[str, ...], yearcutoff: int | None) -> _Format:
    """Build (and cache) the regular expression of one format."""
    items = _tokenize(fmt)
    tokens = [name for kind, name in items if kind == "token"]
    if not tokens:
        raise InputError(f"date format {fmt!r} has no date or time token")
    duplicated = {t for t in tokens if tokens.count(t) > 1}
    components = [_TOKENS[t][1] for t in tokens]
    if duplicated or len(set(components)) != len(components):
        raise InputError(f"date format {fmt!r} names a date or time component twice")
    if "YY" in tokens and yearcutoff is None:
        raise InputError(
            f"date format {fmt!r} has a two-digit year (YY): give raw.year_cutoff in the study config (the "
            "first year of the 100-year window, e.g. 1940) so the century is not guessed"
        )
    if items.count(("open", "")) != items.count(("close", "")):
        raise InputError(f"date format {fmt!r}: unbalanced [ ]")
    blank = "" in {t.strip() for t in unknown_tokens}
    unknown = _unknown_alternatives(unknown_tokens)
    numeric = {"YYYY", "YY", "MM", "MI", "DD", "HH", "SS"}
    pieces = []
    depth = 0
    for position, (kind, name) in enumerate(items):
        if kind == "open":
            pieces.append("(?:")
            depth += 1
        elif kind == "close":
            depth -= 1
            if depth < 0:
                raise InputError(f"date format {fmt!r}: unbalanced [ ]")
            pieces.append(")?")
        elif kind == "literal":
            pieces.append((r"\s*" if blank else r"\s+") if name.isspace() else re.escape(name))
        else:
            group, _, digits = _TOKENS[name]
            if digits is None:
                body = _MONTH_NAMES
            elif name in ("YYYY", "YY") or _touches_number(items, position, numeric):
                body = rf"\d{{{digits}}}"
            else:
                body = r"\d{1,2}"
            alternatives = [body] + ([unknown] if unknown else []) + ([""] if blank else [])
            pieces.append(f"(?P<{group}>{'|'.join(alternatives)})")
    # the empty group "matched" takes part in every match: one extract tells match and parts
    pattern = re.compile("^(?P<matched>)" + "".join(pieces) + r"\Z", re.IGNORECASE | re.ASCII)
    return _Format(fmt, pattern, tuple(_TOKENS[t][0] for t in tokens))


def _touches_number(items, position: int, numeric: set[str]) -> bool:
    """True when the token at ``position`` has a numeric token right beside it."""
    for step in (-1, 1):
        j = position + step
        while 0 <= j < len(items) and items[j][0] in ("open", "close"):
            j += step
        if 0 <= j < len(items) and items[j][0] == "token" and items[j][1] in numeric:
            return True
    return False


def _compile_all(formats, unknown_tokens, yearcutoff) -> list[_Format]:
    if isinstance(formats, str):
        formats = [formats]
    if not formats:
        raise InputError("no raw date format given")
    compiled = [_compile(f, tuple(unknown_tokens), yearcutoff) for f in formats]
    shapes = [re.sub(r"\(\?P<\w+>", "(", f.pattern.pattern) for f in compiled]
    for later, fmt in enumerate(compiled):
        for earlier, shape in zip(compiled[:later], shapes[:later]):
            if shape == shapes[later]:
                raise InputError(
                    f"date formats {earlier.text!r} and {fmt.text!r} read the same values; "
                    "which one applies would be a guess — keep one per column"
                )
    return compiled


# --------------------------------------------------------------------------- parsing


def parse_raw_dates(
    values: pd.Series,
    formats,
    *,
    unknown_tokens=DEFAULT_UNKNOWN_TOKENS,
    yearcutoff: int | None = None,
) -> tuple[pd.Series, pd.DataFrame]:
    """Raw date(-time) text to SDTM ISO 8601 --DTC values.

    ``formats`` is one format or a list tried in order (language and rules in the module
    docstring). Returns ``(iso, problems)``: ``iso`` has the index of ``values`` and holds
    the ISO 8601 text (full, right-truncated or with missing intermediate components) or
    null; ``problems`` has one row per value that is not missing and could not be turned
    into a valid date — columns ``row`` (index label), ``value`` (raw text), ``format``
    (the format that matched its shape, or null) and ``reason``.

    Raises :class:`~specs.errors.InputError` for a bad format list (unknown token,
    two-digit year without ``yearcutoff``, two formats reading the same shapes).
    """
    if isinstance(unknown_tokens, str):
        unknown_tokens = [unknown_tokens]
    compiled = _compile_all(formats, unknown_tokens, yearcutoff)
    if not isinstance(values, pd.Series):
        values = pd.Series(values, dtype=object)
    codes, texts, _ = factorize_text(values)
    trimmed = pd.Series(texts, dtype=object).str.strip()
    parts = np.full((len(texts), len(COMPONENTS)), np.nan)
    written = np.zeros(len(texts), dtype=bool)  # some component was written (not unknown)
    matched_by = np.full(len(texts), -1, dtype=np.int64)
    pending = (trimmed != "").to_numpy(dtype=bool, copy=True)
    for number, fmt in enumerate(compiled):
        if not pending.any():
            break
        where = np.flatnonzero(pending)
        groups = trimmed.iloc[where].str.extract(fmt.pattern)
        hit = groups["matched"].notna().to_numpy()
        rows = where[hit]
        matched_by[rows] = number
        parts[rows], written[rows] = _components(groups[hit], fmt, yearcutoff, unknown_tokens)
        pending[rows] = False
    reason = _reasons(parts, matched_by, written, compiled)
    reason[(trimmed == "").to_numpy(dtype=bool)] = None  # blank: missing, not a problem
    iso = np.where(reason == None, _iso_text(parts), None)  # noqa: E711 (elementwise)
    iso_rows = spread(iso.astype(object), codes, None)
    problem = spread(reason != None, codes, False)  # noqa: E711
    iso_series = text_series(iso_rows, index=values.index)
    format_text = np.array([f.text for f in compiled] + [None], dtype=object)
    problems = pd.DataFrame(
        {
            "row": values.index[problem],
            "value": values.to_numpy(dtype=object)[problem],
            "format": format_text[spread(matched_by, codes, -1)[problem]],
            "reason": spread(reason, codes, None)[problem],
        },
        columns=_PROBLEM_COLUMNS,
    ).reset_index(drop=True)
    return iso_series, problems


def _components(groups: pd.DataFrame, fmt: _Format, yearcutoff: int | None, unknown_tokens):
    """Component numbers (NaN = unknown or absent) and whether any was written."""
    parts = np.full((len(groups), len(COMPONENTS)), np.nan)
    digit_tokens = [t.strip() for t in unknown_tokens if t.strip().isdigit()]  # e.g. "00"
    for group in fmt.groups:
        text = groups[group]
        if group == "monthname":
            number = text.str[:3].str.upper().map(_MONTH_NUMBER)
        else:
            number = pd.to_numeric(text, errors="coerce")  # unknown tokens -> NaN
            if digit_tokens:
                number = number.where(~text.isin(digit_tokens))
        number = number.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
        number[~np.isfinite(number)] = np.nan
        if group == "year2":
            number = _century(number, yearcutoff)
        column = next(c for g, c, _ in _TOKENS.values() if g == group)
        parts[:, column] = number
    return parts, ~np.isnan(parts).all(axis=1)


def _century(two_digits: np.ndarray, yearcutoff: int) -> np.ndarray:
    """SAS YEARCUTOFF rule: the year in yearcutoff..yearcutoff+99 ending in the digits."""
    year = yearcutoff - yearcutoff % 100 + two_digits
    return np.where(year < yearcutoff, year + 100, year)


def _reasons(parts, matched_by, written, compiled) -> np.ndarray:
    """Why each distinct value cannot be used (None where it can)."""
    n = len(parts)
    reason = np.full(n, None, dtype=object)
    tried = ", ".join(repr(f.text) for f in compiled)
    unmatched = (matched_by < 0)
    reason[unmatched] = f"matches none of the date formats {tried}"
    for column, (low, high, name, shown) in _RANGES.items():
        value = parts[:, column]
        bad = (reason == None) & ~np.isnan(value) & ((value < low) | (value > high))  # noqa: E711
        reason[bad] = _join(f"{name} ", _digits(value[bad], 2), f" is not in {shown}")
    day = parts[:, 2]
    limit = days_in_month(parts[:, 0], np.where(parts[:, 1] > 12, np.nan, parts[:, 1]))
    bad = (reason == None) & ~np.isnan(day) & ((day < 1) | (day > limit))  # noqa: E711
    if bad.any():
        where = _month_text(parts[bad])
        reason[bad] = _join("day ", _digits(day[bad], 2), " does not exist in ", where)
    # values whose every component is unknown are missing, not problems
    reason[~unmatched & ~written] = None
    return reason


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded text of whole numbers; "-" where NaN."""
    values = np.asarray(values, dtype=np.float64)
    if not len(values):
        return np.empty(0, dtype=object)
    text = np.char.zfill(np.nan_to_num(values).astype(np.int64).astype(str), width)
    return np.where(np.isnan(values), "-", text).astype(object)


def _join(*pieces) -> np.ndarray:
    out = None
    for piece in pieces:
        out = piece if out is None else out + piece
    return np.asarray(out, dtype=object)


def _month_text(parts: np.ndarray) -> np.ndarray:
    """"2021-04", "month 02 of any year" (year unknown) or "any month" (month unknown)."""
    month = _digits(parts[:, 1], 2)
    text = np.where(
        np.isnan(parts[:, 0]),
        _join("month ", month, " of any year"),
        _join(_digits(parts[:, 0], 4), "-", month),
    )
    return np.where(np.isnan(parts[:, 1]), "any month", text).astype(object)


_ISO_TEMPLATE = np.array([ord(c) for c in "0000-00-00T00:00:00"], dtype=np.uint32)
_ISO_FIELDS = ((0, 4), (5, 2), (8, 2), (11, 2), (14, 2), (17, 2))  # (position, width)
_ISO_LENGTHS = np.array([4, 7, 10, 13, 16, 19])  # text length with 1..6 components


def _iso_text(parts: np.ndarray) -> np.ndarray:
    """ISO 8601 text of component rows: truncated after the last known component,
    a hyphen for each unknown component before it, None when nothing is known."""
    known = ~np.isnan(parts)
    last = np.where(known.any(axis=1), len(COMPONENTS) - 1 - np.argmax(known[:, ::-1], axis=1), -1)
    leading = np.cumprod(known, axis=1).sum(axis=1)
    out = np.full(len(parts), None, dtype=object)
    plain = (last >= 0) & (leading == last + 1)
    if plain.any():
        out[plain] = _truncated_text(parts[plain], leading[plain])
    gaps = (last >= 0) & ~plain
    if gaps.any():
        out[gaps] = _text_with_gaps(parts[gaps], last[gaps])
    return out


def _truncated_text(parts: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Right-truncated values (first ``count`` components known), built as characters."""
    values = np.nan_to_num(parts).astype(np.int64)
    chars = np.tile(_ISO_TEMPLATE, (len(parts), 1))
    for column, (position, width) in enumerate(_ISO_FIELDS):
        for k in range(width):
            chars[:, position + width - 1 - k] = 48 + (values[:, column] // 10**k) % 10
    chars[np.arange(chars.shape[1])[None, :] >= _ISO_LENGTHS[count - 1][:, None]] = 0
    return np.ascontiguousarray(chars).view(f"U{chars.shape[1]}").ravel().astype(object)


def _text_with_gaps(parts: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Values with missing intermediate components ("2003---15", "-----T07:15")."""
    text = _digits(parts[:, 0], 4)
    for column, separator in enumerate(("-", "-", "T", ":", ":"), start=1):
        piece = _digits(parts[:, column], 2)
        text = np.where(last >= column, _join(text, separator, piece), text)
    return np.asarray(text, dtype=object)


# --------------------------------------------------------------------------- study day


def study_day(dtc, ref_dtc) -> pd.Series:
    """Study day of --DTC relative to a reference date (SDTMIG v3.4 §4.4.4; --DY,
    --STDY, --ENDY with ``ref_dtc`` = DM.RFSTDTC; ADaM *DY with e.g. TRTSDT).

    "The reference start date is designated as Study Day 1"; there is no day 0. Only the
    date parts are used, so the times of day never change the result (CDISC CORE #707).
    Cases, in the order they apply to each row:

    1. ``dtc`` or ``ref_dtc`` has no complete date part (null, partial such as
       ``2021-03``, missing intermediate component, interval, or not valid ISO 8601)
       -> null. Partial dates are never imputed here.
    2. date(dtc) >= date(ref) -> ``date(dtc) - date(ref) + 1`` (the reference date is day 1).
    3. date(dtc) <  date(ref) -> ``date(dtc) - date(ref)`` (the day before is day -1).

    ``dtc`` is a Series of --DTC text or datetimes; ``ref_dtc`` a Series with the same
    index (the subject's reference date merged onto each record) or one scalar. Returns
    an ``Int64`` Series with the index of ``dtc``.
    """
    index = dtc.index if isinstance(dtc, pd.Series) else None
    days = to_epoch_days(dtc)
    ref = aligned_epoch_days(ref_dtc, dtc, "ref_dtc")
    delta = days - ref
    value = np.where(delta >= 0, delta + 1, delta)
    return pd.Series(pd.array(np.where(np.isnan(value), np.nan, value), dtype="Int64"), index=index)


# --------------------------------------------------------------------------- findings


def is_future(dtc, today) -> pd.Series:
    """True where a --DTC value can only denote dates after ``today``.

    ``today`` (a date, Timestamp or ``YYYY-MM-DD`` text) is passed in, never read from
    the clock here, so results are reproducible. Date parts only. A partial value is in
    the future when the *earliest* date it can denote is after ``today`` (``2099`` from
    2099-01-01; ``2024-07`` on 2024-07-15 is not). Null, invalid and interval values and
    values with an unknown year give False — their own checks report them.
    """
    fields = date_fields(dtc)
    low, _ = date_bounds(fields)
    reference = aligned_epoch_days(today, dtc, "today")
    if np.isnan(reference).all() and len(reference):
        raise InputError(f"today must be a complete date, got {today!r}")
    future = ~np.isnan(low) & (low > reference) & (fields.status == SINGLE)
    return pd.Series(future, index=fields.index, dtype=bool)


__all__ = ["DEFAULT_UNKNOWN_TOKENS", "is_future", "parse_raw_dates", "study_day"]
