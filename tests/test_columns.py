"""specs.columns.is_in agrees with pandas' isin (it only takes a faster road for text)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from specs.columns import factorize_parts, is_in

TEXT = st.one_of(st.none(), st.text(alphabet="abcXYZ- ", max_size=4))


@settings(max_examples=200, deadline=None)
@given(values=st.lists(TEXT, max_size=30), candidates=st.lists(TEXT, max_size=30))
def test_text_membership_equals_pandas_isin(values, candidates):
    series = pd.Series(values, dtype="str")
    expected = series.isin(pd.Series(candidates, dtype="str")).to_numpy(dtype=bool)
    assert np.array_equal(is_in(series, pd.Series(candidates, dtype="str")), expected)
    assert np.array_equal(is_in(series, candidates), series.isin(candidates).to_numpy(dtype=bool))


def test_known_answers():
    subjects = pd.Series(["S-1", None, "S-2", "S-3"], dtype="str")
    assert is_in(subjects, pd.Series(["S-3", "S-1", "S-1"])).tolist() == [True, False, False, True]
    assert is_in(subjects, ["S-9", None]).tolist() == [False, True, False, False]  # null matches null
    assert is_in(subjects, []).tolist() == [False] * 4
    assert is_in(subjects.iloc[:0], ["S-1"]).tolist() == []


def test_numbers_and_mixed_objects_go_through_pandas():
    assert is_in(pd.Series([1.0, 2.0, np.nan]), [2.0, np.nan]).tolist() == [False, True, True]
    assert is_in(pd.Series(["a", 1], dtype=object), ["a", 1]).tolist() == [True, True]


PART = st.lists(TEXT, max_size=15)


def _as(kind: str, values: list) -> pd.Series:
    return pd.Series(pd.Categorical(values)) if kind == "category" else pd.Series(values, dtype=kind)


@settings(max_examples=200, deadline=None)
@given(parts=st.lists(st.tuples(PART, st.sampled_from(["str", "object", "category"])), max_size=5))
def test_factorize_parts_equals_factorize_of_the_stack(parts):
    series = [_as(kind, values) for values, kind in parts]
    codes, uniques = factorize_parts(series)
    stacked = [v for values, _ in parts for v in values]
    expected_codes, expected_uniques = pd.factorize(pd.Series(stacked, dtype=object))
    assert codes.tolist() == expected_codes.tolist()
    assert list(uniques) == list(expected_uniques)


def test_factorize_parts_known_answer():
    codes, uniques = factorize_parts([pd.Series(["B", None, "A"], dtype="str"),
                                      pd.Series(pd.Categorical(["C", "A", "C"], categories=["Z", "C", "A"]))])
    assert codes.tolist() == [0, -1, 1, 2, 1, 2] and list(uniques) == ["B", "A", "C"]
    codes, uniques = factorize_parts([])
    assert codes.tolist() == [] and list(uniques) == []


def test_text_built_by_arrow_keeps_rows_of_any_index():
    """Arrow-built text is placed by position on the caller's index, whatever its labels (a
    Series built with ``index=`` would align on labels and null every row not in 0..n-1)."""
    from fileformats.rawio import _clean_text
    from specs.columns import choose_text
    from specs.shape import _as_text

    index = pd.Index([7, 3, 12])
    assert choose_text(["NOT RELATED", "RELATED"], [1, 0, 1], index=index).tolist() == \
        ["RELATED", "NOT RELATED", "RELATED"]
    assert choose_text(["NOT RELATED", "RELATED"], [1, 0, 1], index=index).index.equals(index)
    assert _as_text(pd.Series([1, 2, None], index=index)).tolist()[:2] == ["1", "2"]
    assert _clean_text(pd.Series([" a ", "", "b"], index=index, dtype=object)).tolist()[::2] == ["a", "b"]
