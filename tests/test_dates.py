"""Raw dates -> ISO 8601 (sdtm.dates.parse_raw_dates), study day (SDTMIG §4.4.4), future dates."""
from __future__ import annotations

import datetime as dt
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdtm.dates import DEFAULT_UNKNOWN_TOKENS, is_future, parse_raw_dates, study_day
from specs.errors import InputError
from specs.iso8601 import dtc_parts, is_valid_dtc

#: Each example must finish in time (as in tests/test_fuzz_readers.py): a parser that
#: backtracks or loops on some input fails the test instead of stalling the suite.
DEADLINE = timedelta(seconds=5)
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]


def _plain(series: pd.Series) -> list:
    return [None if pd.isna(x) else x for x in series]


def _iso(values, formats, **options):
    iso, problems = parse_raw_dates(pd.Series(values, dtype=object), formats, **options)
    return _plain(iso), problems


# -------------------------------------------------------------------------- formats


@pytest.mark.parametrize(
    "fmt, raw, expected",
    [
        ("DD MON YYYY", "05 JAN 2021", "2021-01-05"),
        ("DD MON YYYY", "5 jan 2021", "2021-01-05"),
        ("DD MON YYYY", "05 January 2021", "2021-01-05"),
        ("DD MON YYYY", "30 Sept 2021", "2021-09-30"),
        ("DD-MON-YYYY", "05-Feb-2021", "2021-02-05"),
        ("DDMONYYYY", "05FEB2021", "2021-02-05"),
        ("DDMONYYYY", "5feb2021", "2021-02-05"),
        ("YYYY-MM-DD", "2021-02-05", "2021-02-05"),
        ("YYYY-MM-DD", "2021-2-5", "2021-02-05"),
        ("DD/MM/YYYY", "05/02/2021", "2021-02-05"),
        ("MM/DD/YYYY", "02/05/2021", "2021-02-05"),
        ("YYYYMMDD", "20210205", "2021-02-05"),
        ("DD.MM.YYYY", "5.2.2021", "2021-02-05"),
        ("MON YYYY", "Feb 2021", "2021-02"),
        ("YYYY", "2021", "2021"),
        ("DD MON YYYY HH:MM", "05 JAN 2021 13:45", "2021-01-05T13:45"),
        ("DD MON YYYY HH:MM", "05 JAN 2021 9:05", "2021-01-05T09:05"),
        ("DD MON YYYY HH:MM:SS", "05 JAN 2021 13:45:07", "2021-01-05T13:45:07"),
        ("YYYY-MM-DDTHH:MM:SS", "2021-01-05T13:45:07", "2021-01-05T13:45:07"),
        ("YYYY-MM-DD HH:MI", "2021-01-05 13:45", "2021-01-05T13:45"),
        ("YYYYMMDDHHMM", "202101051345", "2021-01-05T13:45"),
        ("DD MON YYYY[ HH:MM[:SS]]", "05 JAN 2021", "2021-01-05"),
        ("DD MON YYYY[ HH:MM[:SS]]", "05 JAN 2021 13:45", "2021-01-05T13:45"),
        ("DD MON YYYY[ HH:MM[:SS]]", "05 JAN 2021 13:45:07", "2021-01-05T13:45:07"),
    ],
)
def test_formats(fmt, raw, expected):
    iso, problems = _iso([raw], [fmt])
    assert iso == [expected]
    assert problems.empty


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("UN JAN 2021", "2021-01"),
        ("15 UNK 2021", "2021---15"),
        ("UN UNK 2021", "2021"),
        ("15 JAN UNKN", "--01-15"),
        ("UN JAN UNKN", "--01"),
        ("un unk 2021", "2021"),
        ("XX JAN 2021", "2021-01"),
        ("?? JAN 2021", "2021-01"),
        ("-- JAN 2021", "2021-01"),
        ("UNK JAN 2021", "2021-01"),
        ("15 JAN 2021 UN:UN", "2021-01-15"),
        ("15 JAN 2021 10:UN", "2021-01-15T10"),
        ("15 JAN 2021 UN:30", "2021-01-15T-:30"),
        ("UN UNK UNKN 07:15", "-----T07:15"),
        ("15 UNK 2021 07:15", "2021---15T07:15"),
        ("UN UNK UNKN", None),  # wholly unknown: missing, not a problem
        ("UN UNK UNKN UN:UN", None),
    ],
)
def test_unknown_components(raw, expected):
    iso, problems = _iso([raw], ["DD MON YYYY[ HH:MM]"])
    assert iso == [expected]
    assert problems.empty
    assert is_valid_dtc(pd.Series(iso, dtype=object)).all()


def test_custom_unknown_tokens_and_blank():
    iso, problems = _iso(["NK/01/2021", "UN/01/2021"], ["DD/MM/YYYY"], unknown_tokens=["NK"])
    assert iso == ["2021-01", None]
    assert problems["value"].tolist() == ["UN/01/2021"]
    iso, problems = _iso(["/01/2021", "//2021", "15//2021"], ["DD/MM/YYYY"], unknown_tokens=["UN", ""])
    assert iso == ["2021-01", "2021", "2021---15"]
    assert problems.empty
    # EDCs that write an unknown day or month as zeros
    iso, problems = _iso(["00/01/2021", "00/00/2021", "05/00/2021"], ["DD/MM/YYYY"], unknown_tokens=["00"])
    assert iso == ["2021-01", "2021", "2021---05"]
    assert problems.empty
    # blanks are refused unless configured
    iso, problems = _iso(["/01/2021"], ["DD/MM/YYYY"])
    assert iso == [None] and len(problems) == 1


def test_first_matching_format_wins_in_order():
    formats = ["DD MON YYYY", "YYYY-MM-DD", "DD/MM/YYYY"]
    iso, problems = _iso(["05 JAN 2021", "2021-01-06", "07/01/2021"], formats)
    assert iso == ["2021-01-05", "2021-01-06", "2021-01-07"]
    assert problems.empty


def test_shape_match_is_final_no_silent_fallback():
    """A value whose shape matches a format but is not a real date is a problem; a later
    format is never tried for it (sdtm.oak#102: 2020-02-60 accepted)."""
    iso, problems = _iso(["31/04/2021"], ["DD/MM/YYYY", "YYYY-MM-DD"])
    assert iso == [None]
    assert problems.to_dict("records") == [
        {"row": 0, "value": "31/04/2021", "format": "DD/MM/YYYY",
         "reason": "day 31 does not exist in 2021-04"}
    ]


def test_ambiguous_format_lists_are_refused():
    with pytest.raises(InputError, match="read the same values"):
        parse_raw_dates(pd.Series(["01/02/2021"]), ["DD/MM/YYYY", "MM/DD/YYYY"])


def test_problems_report_every_bad_value():
    values = pd.Series(
        ["30 FEB 2021", "31 APR 2021", "29 FEB 2021", "29 FEB 2020", "15 JAN 21", "2021-13-01",
         "2020-02-60", "15 JAN 2021 25:00", "15 JAN 2021 10:60", "32 UNK 2021", "30 FEB UNKN",
         "hello", None, "", "   ", "15 JAN 2021"],
        index=[f"r{i}" for i in range(16)],
        dtype=object,
    )
    iso, problems = parse_raw_dates(values, ["DD MON YYYY[ HH:MM]", "YYYY-MM-DD"])
    assert iso.index.equals(values.index)
    assert _plain(iso) == [None, None, None, "2020-02-29"] + [None] * 11 + ["2021-01-15"]
    assert list(problems.columns) == ["row", "value", "format", "reason"]
    tried = "matches none of the date formats 'DD MON YYYY[ HH:MM]', 'YYYY-MM-DD'"
    assert problems[["row", "reason"]].values.tolist() == [
        ["r0", "day 30 does not exist in 2021-02"],
        ["r1", "day 31 does not exist in 2021-04"],
        ["r2", "day 29 does not exist in 2021-02"],
        ["r4", tried],
        ["r5", "month 13 is not in 01-12"],
        ["r6", "day 60 does not exist in 2020-02"],
        ["r7", "hour 25 is not in 00-23"],
        ["r8", "minute 60 is not in 00-59"],
        ["r9", "day 32 does not exist in any month"],
        ["r10", "day 30 does not exist in month 02 of any year"],
        ["r11", tried],
    ]
    assert problems["value"].tolist()[:2] == ["30 FEB 2021", "31 APR 2021"]
    assert _plain(problems["format"])[3] is None


def test_stray_spaces_are_trimmed_and_runs_collapsed():
    iso, problems = _iso(["  05 JAN 2021", "05  JAN   2021 ", "\t05 JAN 2021\n"], ["DD MON YYYY"])
    assert iso == ["2021-01-05"] * 3
    assert problems.empty


def test_missing_values_are_not_problems():
    """sdtm.oak#101: NA must not be counted as a parse failure."""
    iso, problems = _iso([None, np.nan, "", "  "], ["DD MON YYYY"])
    assert iso == [None] * 4
    assert problems.empty


def test_two_digit_years_need_a_cutoff():
    with pytest.raises(InputError, match="year_cutoff"):
        parse_raw_dates(pd.Series(["15.01.39"]), ["DD.MM.YY"])
    iso, problems = _iso(["15.01.39", "15.01.40", "15.01.00", "15.01.99"], ["DD.MM.YY"], yearcutoff=1940)
    assert iso == ["2039-01-15", "1940-01-15", "2000-01-15", "1999-01-15"]
    # a four-digit format never reads a two-digit year
    iso, problems = _iso(["15 JAN 21"], ["DD MON YYYY"])
    assert iso == [None] and len(problems) == 1


@pytest.mark.parametrize(
    "fmt, message",
    [
        ("DD/MN/YYYY", "unknown token"),
        ("DD MON YYYY[ HH:MM", "unbalanced"),
        ("DD MON YYYY] HH:MM", "unbalanced"),
        ("DD DD YYYY", "twice"),
        ("MON MM YYYY", "twice"),
        ("--", "no date or time token"),
    ],
)
def test_bad_formats_fail_loudly(fmt, message):
    with pytest.raises(InputError, match=message):
        parse_raw_dates(pd.Series(["x"]), [fmt])


def test_compact_numeric_formats_need_two_digits():
    iso, problems = _iso(["2021115", "20211105"], ["YYYYMMDD"])
    assert iso == [None, "2021-11-05"]
    assert problems["value"].tolist() == ["2021115"]


def test_non_text_values_are_read_as_text():
    iso, problems = _iso([20210105, "20210106"], ["YYYYMMDD"])
    assert iso == ["2021-01-05", "2021-01-06"]


def test_repeated_values_share_one_result_per_row():
    values = pd.Series(["05 JAN 2021", "bad", "05 JAN 2021", "bad"] * 3, dtype=object)
    iso, problems = parse_raw_dates(values, ["DD MON YYYY"])
    assert _plain(iso) == ["2021-01-05", None, "2021-01-05", None] * 3
    assert problems["row"].tolist() == [1, 3, 5, 7, 9, 11]


def test_default_unknown_tokens():
    assert set(DEFAULT_UNKNOWN_TOKENS) == {"UN", "UNK", "UNKN", "--", "XX", "??"}


# -------------------------------------------------------------------------- properties

FORMATTERS = {
    "DD MON YYYY": lambda d: f"{d.day:02d} {MONTHS[d.month - 1]} {d.year:04d}",
    "DD-MON-YYYY": lambda d: f"{d.day:02d}-{MONTHS[d.month - 1].title()}-{d.year:04d}",
    "DDMONYYYY": lambda d: f"{d.day:02d}{MONTHS[d.month - 1].lower()}{d.year:04d}",
    "YYYY-MM-DD": lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}",
    "DD/MM/YYYY": lambda d: f"{d.day}/{d.month}/{d.year:04d}",
    "MM/DD/YYYY": lambda d: f"{d.month:02d}/{d.day:02d}/{d.year:04d}",
    "YYYYMMDD": lambda d: f"{d.year:04d}{d.month:02d}{d.day:02d}",
}


@given(st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)),
       st.sampled_from(sorted(FORMATTERS)))
@settings(max_examples=200, deadline=DEADLINE)
def test_full_dates_round_trip(date, fmt):
    iso, problems = _iso([FORMATTERS[fmt](date)], [fmt])
    assert iso == [date.isoformat()]
    assert problems.empty


@given(st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 12, 31)))
@settings(max_examples=100, deadline=DEADLINE)
def test_datetimes_round_trip(moment):
    raw = f"{moment.day:02d} {MONTHS[moment.month - 1]} {moment.year} {moment:%H:%M:%S}"
    iso, _ = _iso([raw], ["DD MON YYYY[ HH:MM[:SS]]"])
    assert iso == [moment.strftime("%Y-%m-%dT%H:%M:%S")]


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)),
       st.tuples(st.booleans(), st.booleans(), st.booleans()),
       st.sampled_from(DEFAULT_UNKNOWN_TOKENS))
@settings(max_examples=200, deadline=DEADLINE)
def test_unknown_parts_keep_the_known_ones(date, unknown, token):
    day = token if unknown[0] else f"{date.day:02d}"
    month = token if unknown[1] else MONTHS[date.month - 1]
    year = token if unknown[2] else f"{date.year}"
    iso, problems = _iso([f"{day} {month} {year}"], ["DD MON YYYY"])
    assert problems.empty
    if all(unknown):
        assert iso == [None]
        return
    parts = dtc_parts(pd.Series(iso, dtype=object)).iloc[0]
    expected = [None if unknown[2] else date.year, None if unknown[1] else date.month,
                None if unknown[0] else date.day]
    assert [None if pd.isna(x) else int(x) for x in parts[:3]] == expected
    assert is_valid_dtc(pd.Series(iso, dtype=object)).all()


@given(st.lists(st.one_of(st.text(max_size=25),
                          st.text(alphabet="0123456789 /-:.UNKXJAFEBMRDC?T", max_size=25)),
                max_size=25))
@settings(max_examples=200, deadline=DEADLINE)
def test_parser_never_crashes_and_output_always_validates(texts):
    values = pd.Series(texts, dtype=object)
    formats = ["DD MON YYYY[ HH:MM[:SS]]", "YYYY-MM-DD[THH:MM]", "DD/MM/YYYY", "YYYYMMDD"]
    iso, problems = parse_raw_dates(values, formats, unknown_tokens=[*DEFAULT_UNKNOWN_TOKENS, ""])
    assert len(iso) == len(texts)
    assert is_valid_dtc(iso).all()
    # every value is either missing, converted, or reported
    reported = set(problems["row"])
    blank = values.str.strip().eq("")
    for row in range(len(texts)):
        assert pd.notna(iso.iloc[row]) or row in reported or blank.iloc[row] or _all_unknown(texts[row])


def _all_unknown(text: str) -> bool:
    """The parser's "every component unknown" case: only unknown tokens and separators."""
    stripped = text.upper()
    for token in sorted(DEFAULT_UNKNOWN_TOKENS, key=len, reverse=True):
        stripped = stripped.replace(token, "")
    return stripped.strip(" /-:.T") == ""


# -------------------------------------------------------------------------- study day


def test_study_day_cases():
    dtc = pd.Series(
        ["2021-01-10", "2021-01-11", "2021-01-09", "2021-01-01", "2021-01-09T23:59",
         "2021-01-11T00:01", "2021-01", "2021---10", None, "2021-02-30", "2021-01-01/2021-01-20",
         "2021-03-01", "2022-01-10"],
        index=range(100, 113),
    )
    ref = pd.Series(["2021-01-10T12:00"] * 13, index=dtc.index)
    before = dtc.copy()
    got = study_day(dtc, ref)
    assert dtc.equals(before)  # sdtm.oak#127: partial dates are never overwritten
    assert str(got.dtype) == "Int64"
    assert got.index.equals(dtc.index)
    # 2021-03-01 is 21 + 28 + 1 = 50 days after 2021-01-10: day 51
    assert _plain(got) == [1, 2, -1, -9, -1, 2, None, None, None, None, None, 51, 366]


def test_study_day_reference_forms():
    dtc = pd.Series(["2020-02-28", "2020-03-01", "2019-12-31"])
    assert _plain(study_day(dtc, "2020-02-28")) == [1, 3, -59]
    assert _plain(study_day(dtc, pd.Timestamp("2020-02-28 23:00"))) == [1, 3, -59]
    ref_dates = pd.Series(pd.to_datetime(["2020-02-28", "2020-02-29", None]))
    assert _plain(study_day(dtc, ref_dates)) == [1, 2, None]
    assert _plain(study_day(dtc, None)) == [None, None, None]
    assert _plain(study_day(dtc, pd.Series(["2020-02", "2020-02-27", ""]))) == [None, 4, None]


def test_study_day_partial_reference_and_misaligned_index():
    with pytest.raises(ValueError, match="same index"):
        study_day(pd.Series(["2021-01-01"], index=[5]), pd.Series(["2021-01-01"], index=[6]))


@given(st.lists(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)),
                min_size=1, max_size=30),
       st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)))
@settings(max_examples=150, deadline=DEADLINE)
def test_study_day_never_zero_monotonic_and_correct(dates, ref):
    dates = sorted(dates)
    got = study_day(pd.Series([d.isoformat() for d in dates]), ref.isoformat())
    values = got.astype(int).tolist()
    assert 0 not in values
    assert values == sorted(values)
    assert values == [(d - ref).days + (1 if d >= ref else 0) for d in dates]


def test_study_day_matches_cdisc_pilot_aestdy():
    pyreadstat = pytest.importorskip("pyreadstat")
    sdtm = DATA / "cdiscpilot01" / "sdtm"
    if not (sdtm / "ae.xpt").exists():
        pytest.skip("CDISC pilot data not available")
    ae, _ = pyreadstat.read_xport(str(sdtm / "ae.xpt"))
    dm, _ = pyreadstat.read_xport(str(sdtm / "dm.xpt"))
    merged = ae.merge(dm[["USUBJID", "RFSTDTC"]], on="USUBJID", how="left")
    for dtc, dy in (("AESTDTC", "AESTDY"), ("AEENDTC", "AEENDY")):
        got = study_day(merged[dtc], merged["RFSTDTC"]).astype("Float64")
        expected = merged[dy].astype("Float64")
        both_null = got.isna() & expected.isna()
        assert (both_null | (got == expected)).all(), merged.loc[~(both_null | (got == expected)), [dtc, "RFSTDTC", dy]]
        assert got.notna().sum() > 400


# -------------------------------------------------------------------------- future dates


def test_is_future():
    values = pd.Series(["2099", "2024-07", "2024-08", "2024-07-16", "2024-07-15T23:59", "2024-07-14",
                        "--08-01", "2024---20", "2025---01", None, "bad", "2024-08-01/2024-09-01"])
    expected = [True, False, True, True, False, False, False, False, True, False, False, False]
    assert is_future(values, "2024-07-15").tolist() == expected
    assert is_future(values, dt.date(2024, 7, 15)).tolist() == expected
    assert is_future(values, pd.Timestamp("2024-07-15 08:00")).tolist() == expected


def test_is_future_needs_a_complete_today():
    with pytest.raises(InputError, match="today"):
        is_future(pd.Series(["2024-07-16"]), "2024-07")
