"""specs.findings.concat and gather: stacking the findings of many checks."""
from __future__ import annotations

from specs import findings


def test_gather_is_none_when_nothing_was_found_and_concat_an_empty_frame():
    nothing = [None, findings.empty(), None]
    assert findings.gather(nothing) is None
    stacked = findings.concat(nothing)
    assert list(stacked.columns) == list(findings.COLUMNS) and len(stacked) == 0


def test_gather_and_concat_stack_what_was_found_in_order():
    one = findings.make("TP0004", "AE", "AETERM", rows=[3], message="AETERM is required")
    two = findings.make("TP0009", "AE", "AESEV", rows=[1, 7], values=["GRAVE", "X"], message="not in codelist")
    for stacked in (findings.gather([None, one, findings.empty(), two]), findings.concat([one, None, two])):
        assert stacked["rule"].tolist() == ["TP0004", "TP0009", "TP0009"]
        assert stacked["row"].tolist() == [3, 1, 7]
        assert stacked.index.tolist() == [0, 1, 2]
