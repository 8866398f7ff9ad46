"""ADaM date imputation (adam.imputation): the imputation matrix, bounds, start/end pairs."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from adam.imputation import impute_dates, impute_start_end
from specs.errors import InputError
from specs.iso8601 import dtc_date_range

D = "D"
M = "M"
Y = "Y"


def _dates(series: pd.Series) -> list:
    return [None if pd.isna(x) else x.date().isoformat() for x in series]


def _flags(series: pd.Series) -> list:
    return [None if pd.isna(x) else x for x in series]


def one(dtc, **options):
    """Impute a single value: (date text or None, flag or None)."""
    dates, flags = impute_dates(pd.Series([dtc], dtype=object, name="AESTDTC"), **options)
    return _dates(dates)[0], _flags(flags)[0]


# -------------------------------------------------------------------------- the matrix
# (dtc, options, expected date, expected flag); bounds are scalars broadcast to the row.

MATRIX = [
    # complete dates: never imputed, never moved by bounds, no flag
    ("2021-03-15", dict(highest=M), "2021-03-15", None),
    ("2021-03-15", dict(highest=None), "2021-03-15", None),
    ("2021-03-15", dict(highest=M, min_dates="2021-03-20"), "2021-03-15", None),
    ("2021-03-15", dict(highest=M, fill="last", max_dates="2021-03-01"), "2021-03-15", None),
    ("2021-03-15T23:59:59", dict(highest=D), "2021-03-15", None),
    # missing day
    ("2021-03", dict(highest=D), "2021-03-01", D),
    ("2021-03", dict(highest=D, fill="last"), "2021-03-31", D),
    ("2021-03", dict(highest=M), "2021-03-01", D),
    ("2021-03", dict(highest=Y, min_dates="2020-01-01"), "2021-03-01", D),
    ("2021-03", dict(highest=None), None, None),
    ("2021-03", dict(highest=D, fill="06-15"), "2021-03-15", D),
    ("2021-03", dict(highest=D, fill="06-30"), "2021-03-30", D),
    # missing day: month ends, leap years
    ("2020-02", dict(highest=D, fill="last"), "2020-02-29", D),
    ("2021-02", dict(highest=D, fill="last"), "2021-02-28", D),
    ("1900-02", dict(highest=D, fill="last"), "1900-02-28", D),
    ("2000-02", dict(highest=D, fill="last"), "2000-02-29", D),
    ("2021-04", dict(highest=D, fill="last"), "2021-04-30", D),
    ("2021-12", dict(highest=D, fill="last"), "2021-12-31", D),
    ("2021-02", dict(highest=D, fill="06-30"), "2021-02-28", D),
    ("2020-02", dict(highest=D, fill="06-30"), "2020-02-29", D),
    # missing day with min/max dates
    ("2021-03", dict(highest=M, min_dates="2021-03-20"), "2021-03-20", D),  # min in range
    ("2021-03", dict(highest=M, min_dates="2021-04-02"), "2021-03-01", D),  # min after range
    ("2021-03", dict(highest=M, min_dates="2021-02-27"), "2021-03-01", D),  # min before range
    ("2021-03", dict(highest=M, min_dates="2021-03-31"), "2021-03-31", D),  # min on range end
    ("2021-03", dict(highest=M, fill="last", min_dates="2021-03-20"), "2021-03-31", D),
    ("2021-03", dict(highest=M, fill="last", max_dates="2021-03-20"), "2021-03-20", D),
    ("2021-03", dict(highest=M, fill="last", max_dates="2021-04-01"), "2021-03-31", D),
    ("2021-03", dict(highest=M, fill="last", max_dates="2021-03-01"), "2021-03-01", D),
    ("2021-03", dict(highest=M, max_dates="2021-03-20"), "2021-03-01", D),
    ("2021-03", dict(highest=M, fill="06-30", min_dates="2021-03-31"), "2021-03-31", D),
    ("2021-03", dict(highest=M, fill="06-30", max_dates="2021-03-10"), "2021-03-10", D),
    # missing month and day (year only)
    ("2021", dict(highest=D), None, None),
    ("2021", dict(highest=M), "2021-01-01", M),
    ("2021", dict(highest=M, fill="last"), "2021-12-31", M),
    ("2021", dict(highest=M, fill="06-30"), "2021-06-30", M),
    ("2020", dict(highest=M, fill="02-29"), "2020-02-29", M),
    ("2021", dict(highest=M, fill="02-29"), "2021-02-28", M),
    ("2021", dict(highest=M, min_dates="2021-06-15"), "2021-06-15", M),
    ("2021", dict(highest=M, min_dates="2022-01-01"), "2021-01-01", M),
    ("2021", dict(highest=M, fill="last", max_dates="2021-06-15"), "2021-06-15", M),
    ("2021", dict(highest=M, fill="last", max_dates="2020-12-31"), "2021-12-31", M),
    ("2021", dict(highest=M, fill="06-30", min_dates="2021-08-01"), "2021-08-01", M),
    ("2021", dict(highest=M, fill="06-30", max_dates="2021-03-01"), "2021-03-01", M),
    # missing month, day known
    ("2021---15", dict(highest=D), None, None),
    ("2021---15", dict(highest=M), "2021-01-01", M),
    ("2021---15", dict(highest=M, preserve=True), "2021-01-15", M),
    ("2021---15", dict(highest=M, fill="last"), "2021-12-31", M),
    ("2021---15", dict(highest=M, fill="last", preserve=True), "2021-12-15", M),
    ("2021---31", dict(highest=M, fill="06-30", preserve=True), "2021-06-30", M),
    ("2021---15", dict(highest=M, fill="06-30", preserve=True), "2021-06-15", M),
    ("2021---15", dict(highest=M, preserve=True, min_dates="2021-03-20"), "2021-03-20", M),
    # missing year
    ("--03-15", dict(highest=M), None, None),
    ("--03-15", dict(highest=Y, min_dates="2021-06-01"), "2021-06-01", Y),
    ("--03-15", dict(highest=Y, fill="last", max_dates="2021-06-01"), "2021-06-01", Y),
    # wholly missing
    ("", dict(highest=M), None, None),
    (None, dict(highest=M), None, None),
    (None, dict(highest=Y, min_dates="2021-06-01"), "2021-06-01", Y),
    (None, dict(highest=Y, fill="last", max_dates="2021-06-01"), "2021-06-01", Y),
    ("", dict(highest=Y, min_dates="2021-06-01", max_dates="2021-12-01"), "2021-06-01", Y),
    ("", dict(highest=Y, fill="last", min_dates="2021-06-01", max_dates="2021-12-01"), "2021-12-01", Y),
    # both bounds together (admiral #1843: never silently "no imputation")
    ("2021-03", dict(highest=M, min_dates="2021-03-10", max_dates="2021-03-20"), "2021-03-10", D),
    ("2021-03", dict(highest=M, fill="last", min_dates="2021-03-10", max_dates="2021-03-20"), "2021-03-20", D),
    ("2021-03", dict(highest=M, min_dates="2021-03-10", max_dates="2021-05-20"), "2021-03-10", D),
    # max before min (admiral #2708): the maximum wins
    ("2021-03", dict(highest=M, min_dates="2021-03-20", max_dates="2021-03-10"), "2021-03-10", D),
    ("2021", dict(highest=M, fill="last", min_dates="2021-09-01", max_dates="2021-05-01"), "2021-05-01", M),
    # intervals are not imputed
    ("2021-03-01/2021-03-10", dict(highest=M), None, None),
]


@pytest.mark.parametrize("dtc, options, expected, flag", MATRIX)
def test_imputation_matrix(dtc, options, expected, flag):
    assert one(dtc, **options) == (expected, flag)


def test_mixed_rows_in_one_call():
    """Every level in one Series, to catch broadcasting slips between rows."""
    dtcs = pd.Series(["2021-03-15", "2021-03", "2021", "2021---15", "--03-15", None, "2020-02"])
    dates, flags = impute_dates(dtcs, highest=M, fill="last")
    assert _dates(dates) == ["2021-03-15", "2021-03-31", "2021-12-31", "2021-12-31", None, None, "2020-02-29"]
    assert _flags(flags) == [None, D, M, M, None, None, D]


def test_per_row_bounds_and_several_bounds():
    dtc = pd.Series(["2021-03", "2021-03", "2021-03", "2021", "2021-03-05"], index=list("abcde"))
    trtsdt = pd.Series(pd.to_datetime(["2021-03-20", None, "2021-05-01", "2021-02-10", "2021-03-20"]),
                       index=dtc.index)
    dates, flags = impute_dates(dtc, highest=M, min_dates=trtsdt)
    assert dates.index.equals(dtc.index)
    assert _dates(dates) == ["2021-03-20", "2021-03-01", "2021-03-01", "2021-02-10", "2021-03-05"]
    assert _flags(flags) == [D, D, D, M, None]
    # min dates given as --DTC text; a partial bound counts as no bound
    text = pd.Series(["2021-03-20T08:00", "2021-03", "", "2021-02-10", None], index=dtc.index)
    dates, _ = impute_dates(dtc, highest=M, min_dates=text)
    assert _dates(dates) == ["2021-03-20", "2021-03-01", "2021-03-01", "2021-02-10", "2021-03-05"]
    # several minimums: the latest one within range applies
    dates, _ = impute_dates(dtc, highest=M, min_dates=["2021-03-10", "2021-03-25", "2021-04-02"])
    assert _dates(dates) == ["2021-03-25"] * 3 + ["2021-04-02", "2021-03-05"]
    # several maximums: the earliest one within range applies
    dates, _ = impute_dates(dtc, highest=M, fill="last", max_dates=[trtsdt, "2021-03-25"])
    assert _dates(dates) == ["2021-03-20", "2021-03-25", "2021-03-25", "2021-02-10", "2021-03-05"]


def test_output_types():
    dates, flags = impute_dates(pd.Series(["2021-03", None], index=[7, 9]))
    assert str(dates.dtype) == "datetime64[s]"
    assert pd.api.types.is_string_dtype(flags.dtype)
    assert dates.index.tolist() == flags.index.tolist() == [7, 9]


def test_invalid_values_raise_with_row_and_column():
    with pytest.raises(InputError, match=r"row 11, column 'AESTDTC'.*'2021-02-30'") as info:
        impute_dates(pd.Series(["2021-03", "2021-02-30", "2021-13"], index=[10, 11, 12], name="AESTDTC"))
    assert "2 value(s)" in str(info.value)


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(highest="X"), "highest"),
        (dict(fill="middle"), "fill"),
        (dict(fill="13-01"), "fill"),
        (dict(fill="02-30"), "fill"),
        (dict(fill="06-15\n"), "fill"),  # a regex "$" would let the newline through
        (dict(highest=Y), "min_dates"),
        (dict(highest=Y, fill="last", min_dates="2021-01-01"), "max_dates"),
        (dict(highest=Y, fill="06-30", min_dates="2021-01-01"), "'first' or 'last'"),
    ],
)
def test_bad_options_fail_loudly(options, message):
    with pytest.raises(InputError, match=message):
        impute_dates(pd.Series(["2021"]), **options)


def test_misaligned_bounds_refused():
    with pytest.raises(ValueError, match="same index"):
        impute_dates(pd.Series(["2021-03"], index=[1]), min_dates=pd.Series(["2021-03-05"], index=[2]))


# -------------------------------------------------------------------------- start/end pairs


def pair(start, end, **options):
    frame = impute_start_end(pd.Series(start, dtype=object, name="AESTDTC"),
                             pd.Series(end, dtype=object, name="AEENDTC"), **options)
    return list(zip(_dates(frame["ASTDT"]), _flags(frame["ASTDTF"]),
                    _dates(frame["AENDT"]), _flags(frame["AENDTF"])))


def test_pair_start_never_after_complete_end():
    """admiral #727: a partial start in the month of a complete end, with TRTSDT after that
    end, is dated on its own range cut at the end — the AE ended before treatment."""
    assert pair(["2021-03"], ["2021-03-05"], start_min="2021-03-20") == [
        ("2021-03-01", D, "2021-03-05", None)
    ]
    # TRTSDT inside the cut range still applies
    assert pair(["2021-03"], ["2021-03-25"], start_min="2021-03-20") == [
        ("2021-03-20", D, "2021-03-25", None)
    ]
    # year-only start, end in February, TRTSDT in March: TRTSDT is outside the cut range
    assert pair(["2021"], ["2021-02"], start_min="2021-03-20") == [
        ("2021-01-01", M, "2021-02-28", D)
    ]


def test_pair_end_never_before_start():
    # end imputed to the first possible day is cut at the start
    assert pair(["2021-03-10"], ["2021-03"], end_fill="first") == [("2021-03-10", None, "2021-03-10", D)]
    # start imputed "last" is cut at the end's latest day
    assert pair(["2021"], ["2021-03"], start_fill="last") == [("2021-03-31", M, "2021-03-31", D)]
    # both partial in the same month
    assert pair(["2021-03"], ["2021-03"], start_min="2021-03-20") == [("2021-03-20", D, "2021-03-31", D)]


def test_pair_contradicting_bounds_start_moves_to_end():
    """start_min (TRTSDT) after end_max (death): the maximum stays a hard limit."""
    assert pair(["2021-03"], ["2021-03"], start_min="2021-03-20", end_max="2021-03-10") == [
        ("2021-03-10", D, "2021-03-10", D)
    ]


def test_pair_end_moves_up_when_start_is_complete():
    # end_max before a complete start that shares the end's range: the end moves up to the start
    assert pair(["2021-03-20"], ["2021-03"], end_max="2021-03-25", end_fill="first",
                end_min="2021-03-01") == [("2021-03-20", None, "2021-03-20", D)]


def test_pair_inconsistent_and_missing():
    # end wholly before start: data error, each imputed on its own (checks report it)
    assert pair(["2021-05"], ["2021-03"]) == [("2021-05-01", D, "2021-03-31", D)]
    assert pair(["2021-05-02"], ["2021-03-01"]) == [("2021-05-02", None, "2021-03-01", None)]
    # end missing: start imputed alone, end stays missing
    assert pair(["2021-03"], [None], start_min="2021-03-20") == [("2021-03-20", D, None, None)]
    # start too incomplete for its highest level still constrains the end
    assert pair(["2021"], ["2021"], start_highest=D, end_fill="first") == [(None, None, "2021-01-01", M)]
    # unknown start year with a bound after the complete end: nothing usable -> not imputed
    assert pair([None], ["2021-03-10"], start_highest=Y, start_min="2021-03-20") == [
        (None, None, "2021-03-10", None)
    ]
    assert pair([None], ["2021-03-10"], start_highest=Y, start_min="2021-03-01") == [
        ("2021-03-01", Y, "2021-03-10", None)
    ]


def test_pair_column_names_and_index():
    frame = impute_start_end(pd.Series(["2021-03"], index=[4]), pd.Series(["2021-04"], index=[4]),
                             start_var="TRTSDT", end_var="TRTEDT")
    assert list(frame.columns) == ["TRTSDT", "TRTSDTF", "TRTEDT", "TRTEDTF"]
    assert frame.index.tolist() == [4]
    with pytest.raises(ValueError, match="same index"):
        impute_start_end(pd.Series(["2021"], index=[1]), pd.Series(["2021"], index=[2]))


# -------------------------------------------------------------------------- properties

partial_dates = st.builds(
    lambda d, keep, gap: (
        d.isoformat()[: {1: 4, 2: 7, 3: 10}[keep]] if not gap else f"{d.year:04d}---{d.day:02d}"
    ),
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2030, 12, 31)),
    st.integers(1, 3),
    st.booleans(),
)
bounds = st.one_of(st.none(), st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2030, 12, 31)))


@given(st.lists(partial_dates, min_size=1, max_size=20), st.sampled_from(["first", "last", "06-30"]),
       bounds, bounds, st.booleans())
@settings(max_examples=150, deadline=None)
def test_imputed_dates_stay_in_the_possible_range(dtcs, fill, low, high, preserve):
    values = pd.Series(dtcs)
    dates, flags = impute_dates(values, highest=M, fill=fill, preserve=preserve,
                                min_dates=None if low is None else low.isoformat(),
                                max_dates=None if high is None else high.isoformat())
    rng = dtc_date_range(values)
    assert dates.notna().all()
    assert ((dates >= rng["first"]) & (dates <= rng["last"])).all()
    complete = rng["first"] == rng["last"]
    assert flags[complete].isna().all() and flags[~complete].notna().all()
    if high is not None:  # a maximum inside the range is never exceeded
        inside = (rng["first"] <= pd.Timestamp(high)) & (pd.Timestamp(high) <= rng["last"]) & ~complete
        assert (dates[inside] <= pd.Timestamp(high)).all()
    if low is not None and (high is None or high >= low):
        inside = (rng["first"] <= pd.Timestamp(low)) & (pd.Timestamp(low) <= rng["last"]) & ~complete
        assert (dates[inside] >= pd.Timestamp(low)).all()


@given(st.lists(st.tuples(partial_dates, partial_dates), min_size=1, max_size=20), bounds, bounds)
@settings(max_examples=150, deadline=None)
def test_pairs_keep_start_before_end(pairs, start_min, end_max):
    start = pd.Series([p[0] for p in pairs])
    end = pd.Series([p[1] for p in pairs])
    s_rng, e_rng = dtc_date_range(start), dtc_date_range(end)
    consistent = s_rng["first"] <= e_rng["last"]
    assume(consistent.any())
    frame = impute_start_end(start, end,
                             start_min=None if start_min is None else start_min.isoformat(),
                             end_max=None if end_max is None else end_max.isoformat())
    # whenever the two ranges allow it, the imputed start is not after the imputed end
    assert (frame["ASTDT"][consistent] <= frame["AENDT"][consistent]).all()
    # and each date stays within its own possible range
    assert ((frame["ASTDT"] >= s_rng["first"]) & (frame["ASTDT"] <= s_rng["last"])).all()
    assert ((frame["AENDT"] >= e_rng["first"]) & (frame["AENDT"] <= e_rng["last"])).all()


@given(st.lists(partial_dates, min_size=1, max_size=20))
@settings(max_examples=60, deadline=None)
def test_joint_equals_single_when_the_other_date_is_missing(dtcs):
    start = pd.Series(dtcs)
    frame = impute_start_end(start, pd.Series([None] * len(dtcs), dtype=object), start_min="2010-06-15")
    dates, flags = impute_dates(start, min_dates="2010-06-15")
    assert frame["ASTDT"].equals(dates)
    assert _flags(frame["ASTDTF"]) == _flags(flags)
    assert np.all(frame["AENDT"].isna())
