"""ISO 8601 --DTC / --DUR validation and decomposition (SDTMIG v3.4 §4.4)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from specs.iso8601 import (
    dtc_date,
    DTC_DATATYPES,
    dtc_column_datatype,
    dtc_date_range,
    dtc_datatype,
    dtc_outside_datatype,
    dtc_parts,
    dtc_precision,
    has_complete_date,
    is_valid_dtc,
    is_valid_duration,
)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
NA = pd.NA


def _plain(series: pd.Series) -> list:
    """Values with every kind of null as None."""
    return [None if pd.isna(x) else x for x in series]

VALID = [
    # complete, with fraction and time zones
    "2003-12-15T13:14:17",
    "2003-12-15T13:14:17.123",
    "2003-12-15T13:14:17Z",
    "2003-12-15T13:14:17+05:30",
    "2003-12-15T13:14-08:00",
    "2003-12-15T13+01",
    "2003-12-15T23:59:59",
    # right-truncated (SDTMIG §4.4.3 examples)
    "2003-12-15T13:14",
    "2003-12-15T13",
    "2003-12-15",
    "2003-12",
    "2003",
    # missing intermediate components
    "2003---15",
    "--12-15",
    "2003-12-15T-:15",
    "-----T07:15",
    "2003-12-15T13:-:17",
    "--12",
    # intervals
    "2003-12-01/2003-12-10",
    "2003-12/2004-01",
    "2003-12-01/P3D",
    "P3D/2003-12-10",
    "2003-12-01T10:00/2003-12-01T12:30",
    # calendar edges
    "2000-02-29",
    "2024-02-29",
    "--02-29",
    "2021---31",
    "2021-04-30",
    "2021-12-31",
    "0001-01-01",
    "9999-12-31",
]

INVALID = [
    "2021-02-30",  # no 30 February
    "2021-02-29",  # 2021 is not a leap year
    "1900-02-29",  # century not divisible by 400
    "2100-02-29",
    "2021-04-31",  # April has 30 days
    "2021-13-01",  # month 13
    "2021-00-10",  # month 0
    "2021-01-00",  # day 0
    "2020-02-60",  # sdtm.oak#102
    "--02-30",  # no 30 February in any year
    "2021---32",  # no month has 32 days
    "2021-01-01T25:00",  # hour 25
    "2021-01-01T24:00",  # 24:00 not accepted
    "2021-01-01T12:60",
    "2021-01-01T12:00:60",  # no leap second
    "2021-01-01T12:00+15:00",  # offset beyond +14
    "2021-01-01T12:00+05:60",
    "2021-01-01Z",  # zone without time
    "2021-01-01T12:00.5",  # fraction on minutes
    "2021-12--",  # trailing unknown component: truncate instead
    "2021---",
    "-----",
    "-",
    "2021-12T10",  # time needs all three date components
    "2021-1-5",  # two digits required
    "21-01-05",
    "20210105",  # basic format not allowed
    "2021/01/05",
    "2021-01-05 10:00",  # space instead of T
    "2021-01-05t10:00",  # lower-case t
    " 2021-01-05",
    "2021-01-05 ",
    "2021-01-05\n",
    "\u0662\u0660\u0662\u0661",  # Arabic-Indic digits
    "2021-01-05T",
    "P3D/P4D",  # two durations
    "2021-01-01/",
    "2021-01-01/2021-01-02/2021-01-03",
    "UNK",
    "15 JAN 2021",
]


def test_valid_forms():
    result = is_valid_dtc(pd.Series(VALID))
    assert result.tolist() == [True] * len(VALID), [v for v, ok in zip(VALID, result) if not ok]


def test_invalid_forms():
    result = is_valid_dtc(pd.Series(INVALID))
    assert result.tolist() == [False] * len(INVALID), [v for v, ok in zip(INVALID, result) if ok]


def test_missing_values_are_valid_and_index_kept():
    values = pd.Series([None, np.nan, "", "2021-01-01", "x"], index=[10, 11, 12, 13, 14], dtype=object)
    result = is_valid_dtc(values)
    assert result.dtype == bool
    assert result.index.tolist() == [10, 11, 12, 13, 14]
    assert result.tolist() == [True, True, True, True, False]


def test_non_text_values_are_invalid():
    """--DTC is character data: a number or a date object is not a valid value."""
    values = pd.Series([20210101, 2021, dt.date(2021, 1, 1), "2021"], dtype=object)
    assert is_valid_dtc(values).tolist() == [False, False, False, True]
    assert is_valid_duration(pd.Series([3, "P3D"], dtype=object)).tolist() == [False, True]


def test_empty_and_all_null_series():
    assert is_valid_dtc(pd.Series([], dtype=object)).tolist() == []
    assert is_valid_dtc(pd.Series([np.nan, np.nan])).tolist() == [True, True]
    assert dtc_parts(pd.Series([], dtype=object)).shape == (0, 6)


def test_dtc_parts():
    values = pd.Series(
        ["2003-12-15T13:14:17.5+01:00", "2003-12", "2003---15", "--12-15", "2003-12-15T-:15",
         "-----T07:15", None, "2021-02-30", "2003-12-01/2003-12-10"]
    )
    parts = dtc_parts(values)
    assert list(parts.columns) == ["year", "month", "day", "hour", "minute", "second"]
    assert all(str(t) == "Int64" for t in parts.dtypes)
    expected = [
        [2003, 12, 15, 13, 14, 17],
        [2003, 12, NA, NA, NA, NA],
        [2003, NA, 15, NA, NA, NA],
        [NA, 12, 15, NA, NA, NA],
        [2003, 12, 15, NA, 15, NA],
        [NA, NA, NA, 7, 15, NA],
        [NA] * 6,
        [NA] * 6,  # invalid
        [NA] * 6,  # interval
    ]
    got = [[None if pd.isna(x) else int(x) for x in row] for row in parts.itertuples(index=False)]
    assert got == [[None if x is NA else x for x in row] for row in expected]


def test_dtc_precision_and_complete_date():
    values = pd.Series(
        ["2003-12-15T13:14:17", "2003-12-15T13:14", "2003-12-15T13", "2003-12-15", "2003-12",
         "2003", "2003---15", "--12-15", "2003-12-15T-:15", None, "bad"]
    )
    assert _plain(dtc_precision(values)) == [
        "second", "minute", "hour", "day", "month", "year", "year", None, "day", None, None,
    ]
    assert has_complete_date(values).tolist() == [
        True, True, True, True, False, False, False, False, True, False, False,
    ]


def test_dtc_datatype_define_xml():
    values = pd.Series(
        ["2003-12-15", "2003-12-15T13:14:17", "2003-12-15T13:14:17.5Z", "2003", "2003-12",
         "2003-12-15T13:14", "2003-12-15T13", "2003---15", "--12-15", "2003-12-15T-:15",
         "2003-12-01/P3D", None, "2021-02-30"]
    )
    assert _plain(dtc_datatype(values)) == [
        "date", "datetime", "datetime", "partialDate", "partialDate", "partialDatetime",
        "partialDatetime", "incompleteDatetime", "incompleteDatetime", "incompleteDatetime",
        "intervalDatetime", None, None,
    ]


@pytest.mark.parametrize("planned, values, expected", [
    # Define-XML 2.1 section 4.3.1: the DataType is the planned precision, widened to hold the data
    ("partialDate", ["2021-03-04", "2021-03"], "partialDate"),            # complete dates fit partialDate
    ("partialDate", ["2021-03-04", "2021-03-04T10:30"], "partialDatetime"),  # a time: never partialDate
    ("date", ["2021-03-04"], "date"),
    ("date", ["2021-03-04", "2021"], "partialDate"),
    ("date", ["2021-03-04T10:30:00"], "partialDatetime"),                 # date and datetime: neither alone
    ("datetime", ["2021-03-04T10:30:00"], "datetime"),
    ("datetime", ["2021-03-04T10:30"], "partialDatetime"),
    ("partialDate", ["2021---04"], "incompleteDatetime"),
    ("partialDatetime", ["2021-03-04/2021-03-09"], "intervalDatetime"),
    ("partialDate", [None, "", "not a date"], "partialDate"),              # nothing valid: the plan
    (None, ["2021-03-04", "2021-03-04T10:30:15"], "partialDatetime"),
    (None, [None], None),
    ("time", ["2021-03-04"], "time"),                                       # not a --DTC type: as planned
])
def test_dtc_column_datatype_holds_every_value_and_the_plan(planned, values, expected):
    assert dtc_column_datatype(pd.Series(values, dtype=object), planned) == expected


def test_what_each_dtc_datatype_does_not_hold():
    examples = pd.Series(["2003-12-15", "2003-12-15T13:14:17", "2003-12", "2003-12-15T13:14", "2003---15",
                          "2003-12-01/2003-12-04"])
    kinds = ["date", "datetime", "partialDate", "partialDatetime", "incompleteDatetime", "intervalDatetime"]
    assert _plain(dtc_datatype(examples)) == kinds
    not_held = {   # worked out from Define-XML 2.1 section 4.3.1, by hand
        "date": kinds[1:],
        "datetime": ["date", *kinds[2:]],
        "partialDate": ["datetime", "partialDatetime", "incompleteDatetime", "intervalDatetime"],
        "partialDatetime": ["incompleteDatetime", "intervalDatetime"],
        "incompleteDatetime": ["intervalDatetime"],
        "intervalDatetime": [],
    }
    assert list(DTC_DATATYPES) == list(not_held)
    for declared, expected in not_held.items():
        assert [k for k in _plain(dtc_outside_datatype(examples, declared)) if k] == expected, declared


def test_dtc_outside_datatype_names_what_the_declared_type_does_not_hold():
    values = pd.Series(["2021-03-04", "2021-03-04T10:30", None, "", "2021", "2021-02-30", "2021-03-04T10:30:00"],
                       index=list("abcdefg"))
    assert _plain(dtc_outside_datatype(values, "partialDate")) == [
        None, "partialDatetime", None, None, None, "invalid", "datetime"]
    assert _plain(dtc_outside_datatype(values, "date")) == [
        None, "partialDatetime", None, None, "partialDate", "invalid", "datetime"]
    assert _plain(dtc_outside_datatype(values, "partialDatetime")) == [None, None, None, None, None, "invalid", None]
    assert list(dtc_outside_datatype(values, "date").index) == list("abcdefg")


def test_dtc_date_is_the_date_part_only():
    values = pd.Series(
        ["2021-03-04T23:59:59", "2021-03-04", "2021-03", "2021---04", None, "2021-02-29",
         "0001-01-01", "9999-12-31T10:00"],
        index=list("abcdefgh"),
    )
    got = dtc_date(values)
    assert str(got.dtype) == "datetime64[s]"
    assert got.index.tolist() == list("abcdefgh")
    assert got.iloc[0] == pd.Timestamp("2021-03-04") == got.iloc[1]
    assert got.iloc[2:6].isna().all()
    assert got.iloc[6] == np.datetime64("0001-01-01")
    assert got.iloc[7] == np.datetime64("9999-12-31")


def test_dtc_date_range_month_ends():
    values = pd.Series(["2020-02", "2021-02", "1900-02", "2000-02", "2021-04", "2021-12",
                        "2021", "2021---15", "2021-06-07T10:00", "--06-07", None])
    got = dtc_date_range(values)
    first = [None if pd.isna(x) else str(x.date()) for x in got["first"]]
    last = [None if pd.isna(x) else str(x.date()) for x in got["last"]]
    assert first == ["2020-02-01", "2021-02-01", "1900-02-01", "2000-02-01", "2021-04-01",
                     "2021-12-01", "2021-01-01", "2021-01-01", "2021-06-07", None, None]
    assert last == ["2020-02-29", "2021-02-28", "1900-02-28", "2000-02-29", "2021-04-30",
                    "2021-12-31", "2021-12-31", "2021-12-31", "2021-06-07", None, None]


DURATIONS_VALID = ["P1Y2M3DT4H5M6S", "P1Y", "P2M", "P10D", "PT36H", "PT0.5H", "P4.5W", "P2W",
                   "PT1M", "P1DT12H", "PT1H30.5M", "P0D", "P1Y0.5M"]
DURATIONS_INVALID = ["P", "PT", "P1DT", "P1W2D", "P1.5DT2H", "P.5D", "PT0,5H", "p1d", "1D",
                     "P1D1Y", "P1H", "P1S", "-P1D", "P0003-04-05", " P1D", "P1.5Y2M", "PT1.5H2M"]


def test_durations():
    values = pd.Series(DURATIONS_VALID + DURATIONS_INVALID + [None, ""])
    expected = [True] * len(DURATIONS_VALID) + [False] * len(DURATIONS_INVALID) + [True, True]
    got = is_valid_duration(values).tolist()
    assert got == expected, [v for v, g, e in zip(values, got, expected) if g != e]


# -------------------------------------------------------------------------- properties

days = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))


@given(st.lists(st.text(max_size=30), max_size=30))
@settings(max_examples=200, deadline=None)
def test_never_crashes_on_arbitrary_text(texts):
    values = pd.Series(texts, dtype=object)
    for fn in (is_valid_dtc, is_valid_duration, has_complete_date):
        assert len(fn(values)) == len(texts)
    assert dtc_parts(values).shape == (len(texts), 6)
    assert len(dtc_date(values)) == len(dtc_datatype(values)) == len(texts)


@given(st.lists(st.text(alphabet="0123456789-T:/PZ.+WYMDHS", max_size=25), max_size=30))
@settings(max_examples=300, deadline=None)
def test_never_crashes_on_date_like_text(texts):
    values = pd.Series(texts, dtype=object)
    ok = is_valid_dtc(values)
    # every value judged valid and single decomposes to something: its date range is sane
    ranges = dtc_date_range(values[ok])
    assert (ranges["first"].isna() | (ranges["first"] <= ranges["last"])).all()


@given(st.integers(0, 9999), st.integers(0, 13), st.integers(0, 32))
@settings(max_examples=400, deadline=None)
def test_calendar_validity_agrees_with_python(year, month, day):
    text = f"{year:04d}-{month:02d}-{day:02d}"
    try:
        dt.date(year, month, day)
        real = year >= 1
    except ValueError:
        real = False
    if year == 0:  # Python has no year 0; ISO 8601 year 0000 is valid (leap)
        real = 1 <= month <= 12 and 1 <= day <= [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    assert bool(is_valid_dtc(pd.Series([text])).iloc[0]) == real


@given(st.integers(0, 25), st.integers(0, 61), st.integers(0, 61))
@settings(max_examples=300, deadline=None)
def test_time_validity(hour, minute, second):
    text = f"2021-06-01T{hour:02d}:{minute:02d}:{second:02d}"
    expected = hour <= 23 and minute <= 59 and second <= 59
    assert bool(is_valid_dtc(pd.Series([text])).iloc[0]) == expected


@given(st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)),
       st.sampled_from(["", "Z", "+05:30", ".25"]), st.integers(1, 6))
@settings(max_examples=300, deadline=None)
def test_truncations_decompose_to_their_components(moment, suffix, keep):
    """Both readers (plain digits and the regex path for zones/fractions) agree."""
    full = (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
            f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}")
    cut = full[: [4, 7, 10, 13, 16, 19][keep - 1]]
    text = cut + (suffix if keep >= 4 and not (suffix == ".25" and keep < 6) else "")
    parts = dtc_parts(pd.Series([text])).iloc[0]
    expected = [moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second]
    assert [None if pd.isna(x) else int(x) for x in parts] == expected[:keep] + [None] * (6 - keep)
    assert bool(is_valid_dtc(pd.Series([text])).iloc[0])


@given(st.lists(days, min_size=1, max_size=20))
@settings(max_examples=100, deadline=None)
def test_dtc_date_round_trip(dates):
    values = pd.Series([d.isoformat() for d in dates])
    got = dtc_date(values)
    assert [x.date() for x in got] == dates


# -------------------------------------------------------------------------- real data


def _read_xpt(name):
    pyreadstat = pytest.importorskip("pyreadstat")
    path = DATA / "cdiscpilot01" / "sdtm" / name
    if not path.exists():
        pytest.skip(f"{path} not available")
    frame, _ = pyreadstat.read_xport(str(path))
    return frame


@pytest.mark.parametrize("dataset", ["ae.xpt", "dm.xpt", "ex.xpt", "sv.xpt"])
def test_cdisc_pilot_dates_are_valid(dataset):
    frame = _read_xpt(dataset)
    for column in [c for c in frame.columns if c.endswith("DTC")]:
        valid = is_valid_dtc(frame[column])
        assert valid.all(), (column, frame.loc[~valid, column].unique()[:5])


def test_cdisc_pilot_partial_ae_start_dates():
    ae = _read_xpt("ae.xpt")
    kinds = dtc_datatype(ae["AESTDTC"]).value_counts()
    # the pilot's AE start dates: complete dates plus 24 right-truncated partial dates
    assert kinds.to_dict() == {"date": 937, "partialDate": 24}
    complete = has_complete_date(ae["AESTDTC"])
    expected = pd.to_datetime(ae.loc[complete, "AESTDTC"], format="%Y-%m-%d")
    assert (dtc_date(ae["AESTDTC"])[complete] == expected).all()


# ----------------------------------------------------------------- remembered analyses

def test_a_remembered_analysis_is_read_only_and_is_the_one_computed():
    from specs import iso8601

    values = pd.Series(["2021-02-29", "2020-02-29", "2003---15", "2021-03-04T10:30", None, "2021-03-04T10:30"])
    first = dtc_datatype(values)
    again = dtc_datatype(values.copy())
    expected = [None, "date", "incompleteDatetime", "partialDatetime", None, "partialDatetime"]
    assert first.astype(object).where(first.notna(), None).tolist() == expected
    assert again.astype(object).where(again.notna(), None).tolist() == expected
    codes, texts, is_text = iso8601.factorize_text(values)
    remembered = iso8601._analyse(texts, is_text)
    assert iso8601._analyse(texts.copy(), is_text.copy()) is remembered
    with pytest.raises(ValueError):
        remembered.parts[0, 0] = 1999.0          # handed out read-only: no caller can change it
    fresh = iso8601._analyse_values(texts, is_text)
    for name, array in vars(fresh).items():
        np.testing.assert_array_equal(array, getattr(remembered, name))


def test_remembered_analyses_are_forgotten_oldest_first_beyond_the_limit():
    from specs.iso8601 import _Analysis, _Remembered

    memory = _Remembered(limit=5)
    def analysis(n):
        return _Analysis(np.zeros(n, dtype=np.int8), np.full((n, 6), np.nan))
    memory.keep((("a", "b", "c"), b"\x01" * 3), analysis(3))
    memory.keep((("d", "e"), b"\x01" * 2), analysis(2))
    assert memory.held == 5
    memory.keep((("f",), b"\x01"), analysis(1))        # 6 > 5: the oldest set goes
    assert memory.get((("a", "b", "c"), b"\x01" * 3)) is None
    assert memory.get((("d", "e"), b"\x01" * 2)) is not None and memory.held == 3
    memory.keep((tuple("ghijkl"), b"\x01" * 6), analysis(6))   # larger than the whole memory: not kept
    assert memory.get((tuple("ghijkl"), b"\x01" * 6)) is None and memory.held == 3


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["2021", "2021-02", "2021-02-30", "2021-02-28T10", "--02-28", "x", "",
                                 "2021-01-01/2021-02-01", "P1D/2021-02-01"]), max_size=12),
       st.lists(st.sampled_from(["2021", "2021-02", "2020-02-29", "2021-13-01"]), max_size=4))
def test_a_remembered_analysis_gives_what_a_fresh_one_gives(first, second):
    """Any mix of columns analysed one after the other: every answer equals the analysis made
    afresh (the memory never hands out another set's analysis)."""
    from specs import iso8601

    for values in (first, second, first + second, second):
        codes, texts, is_text = iso8601.factorize_text(pd.Series(values, dtype=object))
        got, fresh = iso8601._analyse(texts, is_text), iso8601._analyse_values(texts, is_text)
        for name, array in vars(fresh).items():
            np.testing.assert_array_equal(array, getattr(got, name))
