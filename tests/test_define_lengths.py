"""specs.lengths: the one length rule of define.xml and the XPT writer (FDA sdTCG, Define-XML 2.1)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from specs.lengths import float_length, integer_length, sas_numbers, significant_digits, text_length


def test_text_length_is_the_longest_value_in_bytes():
    assert text_length(pd.Series(["AB", None, "ABC ", ""])) == 4              # trailing blank counts
    assert text_length(pd.Series(["Ä"])) == 2                                 # UTF-8 bytes, not characters
    assert text_length(pd.Series([None, None], dtype=object)) == 1            # at least 1
    assert text_length(pd.Series([], dtype=object)) == 1
    assert text_length(pd.Series(["x" * 200])) == 200


def test_integer_length_is_the_digits_of_the_largest_absolute_value():
    assert integer_length(np.array([8.0, 10.0, np.nan])) == 2
    assert integer_length(np.array([-123.0, 45.0])) == 3                      # no sign
    assert integer_length(np.array([0.0])) == 1
    assert integer_length(np.array([np.nan])) == 1


def test_float_significant_digits_and_length():
    assert significant_digits(np.array([2.5, 3.0, 1.5])) == 1
    assert significant_digits(np.array([0.1, 0.25, 0.125])) == 3
    assert significant_digits(np.array([140.0, 33.0])) == 0
    assert float_length(np.array([182.0, 0.2574])) == 3 + 4
    assert significant_digits(np.array([1 / 3])) == 16                         # capped: not a short decimal
    assert significant_digits(np.array([np.nan])) == 0


def test_sas_numbers_of_dates_datetimes_and_times():
    dates = pd.to_datetime(pd.Series(["1960-01-01", "2013-02-04", None]))
    np.testing.assert_array_equal(sas_numbers(dates, "DATE9.")[:2], [0.0, 19393.0])   # TS-140 anchors
    assert np.isnan(sas_numbers(dates, "DATE9.")[2])
    stamps = pd.to_datetime(pd.Series(["1970-01-01T00:00:00"]))
    assert sas_numbers(stamps, "DATETIME20.")[0] == 315_619_200.0
    assert sas_numbers(pd.Series(pd.to_timedelta(["01:30:00"])), "TIME8.")[0] == 5400.0


@given(st.lists(st.decimals(min_value=-10**6, max_value=10**6, places=4, allow_nan=False), min_size=1, max_size=20))
def test_decimals_written_with_at_most_four_places_need_at_most_four(values):
    x = np.array([float(v) for v in values])
    digits = significant_digits(x)
    assert digits <= 4
    assert np.allclose(np.round(x, digits), x, rtol=0, atol=1e-9)
    assert float_length(x) == integer_length(x) + digits


@given(st.lists(st.text(min_size=0, max_size=30), min_size=1, max_size=20))
def test_text_length_bounds_every_value(values):
    n = text_length(pd.Series(values, dtype=object))
    assert n >= 1 and all(len(v.encode("utf-8")) <= n for v in values)
    assert n == max([1] + [len(v.encode("utf-8")) for v in values])
