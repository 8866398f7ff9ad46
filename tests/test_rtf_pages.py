"""report.rtf_pages and the RTF it lays out: pages, "(continued)" on a section split over
pages, decimal-aligned numbers."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from adam.config import ISSConfig
from report import render as R
from report import rtf_pages as P
from report import tables as T

FS = P.FIGURE_SPACE


def long_table(n_pts: int = 70) -> T.Table:
    """An "any" row, a SOC of ``n_pts`` PTs (more than a page holds) and a second SOC of 2 PTs."""
    records = [("any", "Participants with at least one TEAE", 0)]
    records += [("soc|A", "Infections and infestations", 0)]
    records += [(f"pt|A|{i}", f"Infection {i:02d}", 1) for i in range(n_pts)]
    records += [("soc|B", "Nervous system disorders", 0), ("pt|B|1", "Headache", 1), ("pt|B|2", "Dizziness", 1)]
    rows = pd.DataFrame(records, columns=["row_id", "row_label", "indent"]).assign(is_header=False)
    rows.insert(0, "row", np.arange(len(rows)))
    n = np.arange(len(rows)) % 13
    cells = pd.DataFrame({"table": "t", "row": rows["row"], "row_id": rows["row_id"], "row_label": rows["row_label"],
                          "indent": rows["indent"], "column": "G", "group": "G", "stat": "n", "value": n.astype(float),
                          "lower": np.nan, "upper": np.nan, "denominator": 120.0,
                          "text": T.format_n_pct(n, np.full(len(n), 120.0))})
    return T.Table("t", 4, "TEAEs by SOC and PT", "Safety population", "System organ class\n  Preferred term",
                   [T.Column("G", "G\n(N=120)", group="G")], rows, cells, ["N = participants."],
                   T._lineage([], [], "ADAE", []))


ISS = ISSConfig({"id": "X-ISS", "title": "X", "studies": [], "groups": [{"label": "G", "number": 1,
                                                                        "treatments": ["G"]}]},
                Path("x.json"), [])


def test_a_soc_split_over_pages_is_continued_on_the_next():
    table = long_table()
    grid = table.grid()
    rows = [P.Row(lab, int(i), False, [t]) for lab, i, t in zip(grid["row_label"], grid["indent"], grid["G"])]
    pages = P.paginate(rows, [5.0, 3.0], header_lines=2)
    assert len(pages) == 2
    # page 1: 42 lines - 2 header lines - footnote and source = 38 rows
    assert len(pages[0]) == 38 and pages[0][-1].label == "Infection 35"
    assert pages[1][0].label == "Infections and infestations (continued)" and pages[1][0].texts == [""]
    assert pages[1][1].label == "Infection 36"
    # every row once, in order, besides the continued row
    shown = [r.label for page in pages for r in page if not r.label.endswith(P.CONTINUED)]
    assert shown == grid["row_label"].tolist()


def test_a_page_starting_with_a_soc_has_no_continued_row():
    table = long_table(n_pts=36)   # "any", SOC A and its 36 PTs fill the 38 rows of page 1
    grid = table.grid()
    rows = [P.Row(lab, int(i), False, [t]) for lab, i, t in zip(grid["row_label"], grid["indent"], grid["G"])]
    pages = P.paginate(rows, [5.0, 3.0], header_lines=2)
    assert [r.label for r in pages[1]] == ["Nervous system disorders", "Headache", "Dizziness"]
    assert not any(r.label.endswith(P.CONTINUED) for page in pages for r in page)


def test_rtf_pages_carry_continued_indents_and_footnotes_on_the_last_page():
    text = R.render_rtf(long_table(), ISS).decode("ascii")
    pages = text.split("\\page")
    assert len(pages) == 2
    assert "Infections and infestations (continued)" in pages[1]
    assert "N = participants." in pages[1] and "N = participants." not in pages[0]
    # the PTs are indented on the second page too (rtflite alone restarted the row attributes on each page)
    labels = re.findall(r"\\li(\d+)[^{}]*\{\\f0 (Infection[^}]*)\}", pages[1])
    assert labels[0] == ("0", "Infections and infestations (continued)")
    assert labels[1][0] == "240" and labels[1][1].startswith("Infection ")
    assert text.count("{\\rtf1") == 1 and text.rstrip().endswith("}")
    assert text.count("{") == text.count("}")


def aligned_positions(texts: list[str]) -> tuple[set, set]:
    """End of the leading integer part and of the integer part in parentheses, in characters
    (digits and figure spaces are one width)."""
    lead = {re.match(rf"^[{FS}]*[<>]?-?\d+", t).end() for t in texts if re.match(rf"^[{FS}]*[<>]?-?\d", t)}
    paren = {m.end() for t in texts if (m := re.search(rf"\([{FS}]*[<>]?-?\d+", t))}
    return lead, paren


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5000), st.integers(1, 5000)), min_size=1, max_size=30))
def test_n_pct_columns_are_decimal_aligned(pairs):
    n = [min(k, d) for k, d in pairs]
    texts = T.format_n_pct(n, [d for _, d in pairs])
    padded = P.decimal_aligned(texts)
    assert [t.replace(FS, "") for t in padded] == texts
    lead, paren = aligned_positions(padded)
    assert len(lead) == 1 and len(paren) <= 1


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.floats(-999, 9999, allow_nan=False), st.just(float("nan"))), min_size=1, max_size=20),
       st.integers(0, 2))
def test_statistics_columns_are_decimal_aligned(values, digits):
    texts = T.format_numbers(values, digits)
    padded = P.decimal_aligned(texts)
    lead, _ = aligned_positions(padded)
    assert len(lead) <= 1
    points = {t.index(".") for t in padded if "." in t}
    assert len(points) <= 1


def test_decimal_alignment_by_hand():
    assert P.decimal_aligned(["3 (60.0)", "12 (8.5)", "0", "", "NE"]) == \
        [f"{FS}3 (60.0)", f"12 ({FS}8.5)", f"{FS}0", "", "NE"]
