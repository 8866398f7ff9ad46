"""SAS display formats: name, width, decimals (as a NAMESTR stores them), and which of them
make a numeric a date, a datetime or a time.

One list for the whole tool: ``specs.conform`` (which columns stay datetime64), the length
rules, the XPT reader and writer and Dataset-JSON all ask :func:`temporal_kind` /
:func:`format_kind`, so they cannot disagree about a format.

A format is written ``NAMEw.d``: ``DATE9.`` is name ``DATE``, width 9; ``8.2`` has no name,
width 8, 2 decimals; ``$12.`` is name ``$``, width 12. SAS format names cannot end in a
digit, which is what separates the name from the width (``E8601DA10.``).

Which formats make a numeric a date, a datetime or a time decides how the reader converts
it. The lists are the SAS formats whose *value* is a SAS date (days since 1960-01-01),
datetime (seconds since 1960-01-01T00:00:00) or time (seconds since midnight). Unlike
ReadStat, ``DTDATE`` and the other ``DT*`` formats are datetimes: they display the date
part of a datetime value.
"""
from __future__ import annotations

import re

_FORMAT = re.compile(r"(\$?(?:[A-Z_](?:[A-Z0-9_]*[A-Z_])?)?)(\d*)\.(\d*)", re.ASCII)

DATE_FORMATS = frozenset({
    "DATE", "DAY", "DDMMYY", "DDMMYYB", "DDMMYYC", "DDMMYYD", "DDMMYYN", "DDMMYYP", "DDMMYYS",
    "DOWNAME", "E8601DA", "B8601DA", "IS8601DA", "JULDAY", "JULIAN", "MMDDYY", "MMDDYYB",
    "MMDDYYC", "MMDDYYD", "MMDDYYN", "MMDDYYP", "MMDDYYS", "MMYY", "MMYYC", "MMYYD", "MMYYN",
    "MMYYP", "MMYYS", "MONNAME", "MONTH", "MONYY", "NLDATE", "QTR", "WEEKDATE", "WEEKDATX",
    "WEEKDAY", "WORDDATE", "WORDDATX", "YEAR", "YYMM", "YYMMC", "YYMMD", "YYMMN", "YYMMP",
    "YYMMS", "YYMMDD", "YYMMDDB", "YYMMDDC", "YYMMDDD", "YYMMDDN", "YYMMDDP", "YYMMDDS",
    "YYMON", "YYQ", "YYQC", "YYQD", "YYQN", "YYQP", "YYQS", "YYQR",
})
DATETIME_FORMATS = frozenset({
    "DATETIME", "DATEAMPM", "DTDATE", "DTMONYY", "DTWKDATX", "DTYEAR", "DTYYQC", "E8601DT",
    "B8601DT", "B8601DN", "E8601DN", "IS8601DT", "E8601DZ", "B8601DZ", "MDYAMPM", "NLDATM",
})
TIME_FORMATS = frozenset({
    "TIME", "TIMEAMPM", "HHMM", "HOUR", "MMSS", "TOD", "E8601TM", "B8601TM", "IS8601TM",
    "E8601TZ", "B8601TZ", "NLTIME",
})


def parse_format(text: str) -> tuple[str, int, int]:
    """``"DATE9."`` -> ``("DATE", 9, 0)``; raises ValueError naming the expected form."""
    match = _FORMAT.fullmatch(text.strip().upper())
    if not match or (not match.group(1) and not match.group(2) and not match.group(3)):
        raise ValueError(f"format {text!r} is not a SAS format of the form NAMEw.d "
                         "(e.g. DATE9., 8.2, $12., BEST12.)")
    name, width, decimals = match.group(1), match.group(2), match.group(3)
    if len(name) > 8:
        raise ValueError(f"format {text!r}: the name {name!r} is longer than 8 characters")
    return name, int(width or 0), int(decimals or 0)


def format_text(name: str, width: int, decimals: int) -> str | None:
    """Inverse of :func:`parse_format`; None when there is no format at all."""
    if not name and not width and not decimals:
        return None
    return f"{name}{width or ''}.{decimals or ''}"


def format_kind(display_format: str | None) -> str | None:
    """``"date"``, ``"datetime"``, ``"time"`` or None for a display format such as ``DATE9.``
    or ``IS8601DA10.`` (None too for text that is not a SAS format)."""
    if not display_format:
        return None
    try:
        name = parse_format(display_format)[0]
    except ValueError:
        return None
    return temporal_kind(name)


def temporal_kind(format_name: str) -> str | None:
    """``"date"``, ``"datetime"``, ``"time"`` or None for a format name."""
    name = format_name.upper()
    if name in DATE_FORMATS:
        return "date"
    if name in DATETIME_FORMATS:
        return "datetime"
    if name in TIME_FORMATS:
        return "time"
    return None
