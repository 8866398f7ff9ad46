"""Bad input reported all at once (specs.errors.InputErrors): every problem of one kind in one run,
sorted by study, file, row and column whatever order they were found in, at most PER_FILE lines
per file with the count of the rest, and whole across processes (pickled with every field)."""
from __future__ import annotations

import pickle

from hypothesis import given
from hypothesis import strategies as st

from specs.errors import InputError, InputErrors, did_you_mean

problem = st.builds(lambda study, file, row, column: _problem(study, file, row, column),
                    st.sampled_from(["S1", "S2", None]), st.sampled_from(["a.csv", "b.csv", "raw/c.csv"]),
                    st.one_of(st.none(), st.integers(2, 400)), st.sampled_from(["Term", "Date", None]))


def _problem(study, file, row, column) -> InputError:
    exc = InputError(f"bad value in {column}", file=file, row=row, column=column)
    exc.study = study
    return exc


def key(p: InputError, order: dict) -> tuple:
    return (order.get(p.study or "", len(order)), p.file, -1 if p.row is None else p.row, p.column or "", p.message)


@given(st.lists(problem, min_size=2, max_size=60), st.randoms())
def test_problems_are_sorted_the_same_whatever_order_they_come_in(problems, rnd):
    order = {"S2": 0, "S1": 1}   # the ISS config's order of studies
    shuffled = list(problems)
    rnd.shuffle(shuffled)
    a, b = InputErrors(problems, order=order), InputErrors(shuffled, order=order)
    assert a.lines() == b.lines()
    assert [key(p, order) for p in a.problems] == sorted(key(p, order) for p in problems)


def test_at_most_per_file_lines_then_the_count_of_the_rest():
    problems = [InputError("x", file="a.csv", row=r) for r in range(2, 2 + InputErrors.PER_FILE + 5)]
    problems.append(InputError("y", file="b.csv", row=7))
    lines = InputErrors(problems).lines()
    assert lines[0] == f"{InputErrors.PER_FILE + 6} problems in the input; each is listed below"
    assert lines[1] == "a.csv, row 2: x" and lines[InputErrors.PER_FILE] == f"a.csv, row {InputErrors.PER_FILE + 1}: x"
    assert lines[InputErrors.PER_FILE + 1] == "b.csv, row 7: y"
    assert lines[-1] == "a.csv: 5 more problem(s) like those above"


def test_one_problem_is_itself_and_errors_cross_processes_whole():
    one = InputError("bad", file="a.csv", row=3, column="Term")
    assert InputErrors.of([one]) is one
    one.study = "S1"
    back = pickle.loads(pickle.dumps(one))
    assert (back.file, back.row, back.column, back.study, str(back)) == ("a.csv", 3, "Term", "S1",
                                                                        "a.csv, row 3, column 'Term': bad")
    other = InputError("other", file="a.csv", row=2)
    several = InputErrors([one, other])
    again = pickle.loads(pickle.dumps(several))
    assert again.lines() == several.lines() and again.study is None   # problems of two studies (S1 and none)
    other.study = "S1"
    assert pickle.loads(pickle.dumps(InputErrors([one, other]))).study == "S1"   # all of one study: that study


def test_did_you_mean_names_the_nearest_known_name_in_any_case():
    assert did_you_mean("AESTDT", ["AETERM", "AESTDAT", "AEENDAT"]) == " (did you mean AESTDAT?)"
    assert did_you_mean("dose_unt", ["dose_unit", "route"]) == " (did you mean dose_unit?)"
    assert did_you_mean("colour", ["name", "label"]) == ""
