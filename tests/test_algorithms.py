"""The mapping algorithms of the study config (sdtm.algorithms), each against values worked out by
hand, the checks that refuse what cannot work, and properties held by hypothesis."""
from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sdtm.algorithms import Context, apply_value_map, check_mapping, evaluate, fields_of

RAW = pd.DataFrame({
    "PATNUM": ["701-1015", "701-1023", "715-1001", None, "weird"],
    "DECOD": ["COMPLETED", None, "RANDOMIZED", "Adverse Event", None],
    "OTHER": [None, "Moved away", None, None, "Sponsor decision"],
    "ARM": ["Placebo", "Screen Failure", "Xanomeline High Dose", "screen failure ", None],
})


def values(mapping, raw=RAW, context=None):
    got = evaluate(mapping, raw, context)
    return [None if pd.isna(v) else v for v in got.values], got.silent


def test_a_field_is_taken_as_it_is():
    assert values("PATNUM")[0] == ["701-1015", "701-1023", "715-1001", None, "weird"]


def test_part_of_a_field_by_a_regex_group():
    """SITEID and SUBJID from one compound patient number; a value the regex does not match is null."""
    assert values({"field": "PATNUM", "extract": r"^(\d+)-"}) == (["701", "701", "715", None, None], [])
    assert values({"field": "PATNUM", "extract": r"-(\d+)$"})[0] == ["1015", "1023", "1001", None, None]


def test_a_regex_that_never_matches_is_reported():
    got, silent = values({"field": "PATNUM", "extract": r"^SITE(\d+)"})
    assert got == [None] * 5
    assert silent == ["extract '^SITE(\\\\d+)' matches none of the 4 values of PATNUM"]


def test_a_constant_with_or_without_a_value():
    assert values({"constant": "DISPOSITION EVENT"})[0] == ["DISPOSITION EVENT"] * 5
    assert values({"constant": None})[0] == [None] * 5


def test_a_template_over_fields_is_null_when_one_is_empty():
    assert values({"template": "{PATNUM}/{DECOD}"})[0] == ["701-1015/COMPLETED", None, "715-1001/RANDOMIZED",
                                                           None, None]


def test_the_first_non_empty_of_several_fields():
    """An "other, specify" term where the decode is empty."""
    assert values({"first_of": ["DECOD", "OTHER"]})[0] == ["COMPLETED", "Moved away", "RANDOMIZED", "Adverse Event",
                                                           "Sponsor decision"]


def test_cases_take_the_first_condition_that_holds_then_else():
    mapping = {"cases": [{"when": {"field": "DECOD", "in_codelist": "PROTMLST"}, "then": "PROTOCOL MILESTONE"},
                         {"when": [{"field": "DECOD", "empty": True}, {"field": "OTHER", "empty": False}],
                          "then": "OTHER EVENT"}],
               "else": "DISPOSITION EVENT"}
    context = Context(codelist_terms=lambda name: ["INFORMED CONSENT OBTAINED", "RANDOMIZED"] if name == "PROTMLST"
                      else None)
    assert values(mapping, context=context) == (["DISPOSITION EVENT", "OTHER EVENT", "PROTOCOL MILESTONE",
                                                 "DISPOSITION EVENT", "OTHER EVENT"], [])


def test_a_case_may_give_a_mapping_and_equals_or_in_compare_trimmed_in_any_case():
    mapping = {"cases": [{"when": {"field": "ARM", "equals": "SCREEN FAILURE"}, "then": None},
                         {"when": {"field": "ARM", "in": ["placebo"]}, "then": {"field": "PATNUM", "extract": r"^(\d+)"}}],
               "else": {"field": "ARM"}}
    assert values(mapping)[0] == [ "701", None, "Xanomeline High Dose", None, None]


def test_a_condition_never_true_is_reported():
    _, silent = values({"cases": [{"when": {"field": "DECOD", "equals": "DEATH"}, "then": "x"}]})
    assert silent == ["case 1's condition (DECOD equals 'DEATH') holds for none of the 5 records"]


def test_value_maps_apply_to_any_mapping_and_may_map_to_null():
    assert values({"field": "ARM", "value_map": {"Screen Failure": None}})[0] == [
        "Placebo", None, "Xanomeline High Dose", None, None]


def test_date_and_time_fields_make_one_date_time():
    raw = pd.DataFrame({"D": ["02JUL2014", "03JUL2014", None], "T": ["14:30", None, "09:00"]})
    seen = []

    def reader(date, time):
        seen.append(([None if pd.isna(v) else v for v in date], [None if pd.isna(v) else v for v in time]))
        return pd.Series(["2014-07-02T14:30", "2014-07-03", None], index=date.index)

    assert values({"date": "D", "time": "T"}, raw, Context(datetime=reader))[0] == ["2014-07-02T14:30", "2014-07-03",
                                                                                   None]
    assert seen == [(["02JUL2014", "03JUL2014", None], ["14:30", None, "09:00"])]


@pytest.mark.parametrize("mapping, path, words", [
    ({"field": "PATNUM", "extract": "(\\d+"}, "$.m.extract", "does not compile"),
    ({"field": "PATNUM", "extract": "\\d+"}, "$.m.extract", "has 0 groups"),
    ({"field": "PATNUM", "extract": "(\\d)-(\\d)"}, "$.m.extract", "has 2 groups"),
    ({"template": "{PATNUM}-{SITE}"}, "$.m.template", "field 'SITE' is not mapped"),
    ({"first_of": ["DECOD", "OTHR"]}, "$.m.first_of[1]", "(did you mean OTHER?)"),
    ({"cases": [{"when": {"field": "ARMCD", "equals": "A"}, "then": "x"}]}, "$.m.cases[0].when.field",
     "field 'ARMCD' is not mapped"),
    ({"cases": [{"when": {"field": "ARM", "in_codelist": "NOSUCH"}, "then": "x"}]},
     "$.m.cases[0].when.in_codelist", "no codelist"),
    ({"field": "PATNUM", "constant": "x"}, "$.m", "exactly one of"),
    ("PATNO", "$.m", "field 'PATNO' is not mapped"),
])
def test_what_cannot_work_is_refused_with_its_json_path(mapping, path, words):
    failures = []

    def fail(message, where):
        failures.append((message, where))
        raise ValueError(message)

    with pytest.raises(ValueError):
        check_mapping(mapping, list(RAW.columns), fail, "$.m", codelist_known=lambda name: name == "PROTMLST")
    assert failures[0][1] == path and words in failures[0][0], failures


def test_fields_of_names_every_field_a_mapping_reads():
    mapping = {"cases": [{"when": {"field": "DECOD", "empty": True}, "then": {"first_of": ["OTHER", "ARM"]}}],
               "else": {"template": "{PATNUM}"}}
    assert fields_of(mapping) == ["DECOD", "OTHER", "ARM", "PATNUM"]


texts = st.one_of(st.none(), st.text(alphabet="ab -", max_size=4))


@given(st.lists(st.tuples(texts, texts, texts), min_size=1, max_size=20))
def test_first_of_is_the_first_value_present_in_order(rows):
    raw = pd.DataFrame(rows, columns=["A", "B", "C"]).astype(object)
    got, _ = values({"first_of": ["A", "B", "C"]}, raw)
    assert got == [next((v for v in row if v is not None), None) for row in rows]


@given(st.lists(texts, min_size=1, max_size=20), st.dictionaries(st.text(alphabet="ab", min_size=1, max_size=3),
                                                                 st.one_of(st.none(), st.just("X")), max_size=3))
def test_a_value_map_changes_only_the_values_it_names(column, value_map):
    series = pd.Series(column, dtype=object)
    got = [None if pd.isna(v) else v for v in apply_value_map(series, value_map)]
    keys = {" ".join(k.split()).upper(): v for k, v in value_map.items()}
    assert got == [keys.get(" ".join(v.split()).upper(), v) if v is not None else None for v in column]
