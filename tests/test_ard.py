"""report.ard: the Analysis Results Dataset reproduces every number every table displays.

The displayed tables are read back from their XLSX (the submission layout: header row, row
labels, cell texts), every number in every cell and column header is parsed out of its text,
and each is compared with the ARD's full-precision value rounded as the text shows it: on
the hand-built synthetic analysis, on a corpus integration built by the CLI and on the demo
package. Where clauses are checked by selecting the ADaM records they name and counting.
"""
from __future__ import annotations

import io
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from report import ard as A
from report import render as R
from report import tables as T
from report.catalogue import LISTINGS, build_tables
from tests.cli_support import run_cli
from tests.test_tables import synthetic_analysis

CORPUS = Path(__file__).parent / "integrations"
TOKEN = re.compile(r"<0\.1|>99\.9|NE|-?\d+(?:\.\d+)?")


def xlsx_display(data: bytes) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """(column headers, [(row label, cell texts)]) of the first sheet of a table's workbook: the
    header row is the first row from row 5 with a stub header in column A, each header under
    the spanning header of the row above it if that row has one (a row without a stub);
    body rows follow it up to the first row without a label."""
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    rows = [[("" if c is None else str(c)) for c in r] for r in ws.iter_rows(values_only=True)]
    start = next(i for i in range(4, len(rows)) if rows[i][0])
    spans = rows[start - 1][1:] if not rows[start - 1][0] else [""] * (len(rows[start]) - 1)
    headers = [" ".join(f"{s} {h}".split()) for s, h in zip(spans, rows[start][1:])]
    body = []
    for r in rows[start + 1:]:
        if not r[0]:
            break
        body.append((r[0], r[1:len(headers) + 1]))
    return headers, body


def assert_shown(token: str, value: float, where: str) -> None:
    """The displayed ``token`` is ``value`` as rounded for display."""
    if token == "NE":
        assert value is None or not math.isfinite(value), f"{where}: NE shown for {value}"
    elif token == "<0.1":
        assert 0 < value < 0.05, f"{where}: <0.1 shown for {value}"
    elif token == ">99.9":
        assert 99.95 <= value < 100, f"{where}: >99.9 shown for {value}"
    else:
        decimals = len(token.split(".")[1]) if "." in token else 0
        assert math.isfinite(value) and abs(value - float(token)) <= 0.5 * 10 ** -decimals + 1e-9, \
            f"{where}: {token} shown, ARD has {value!r}"


def check_table(name: str, xlsx: bytes, ard: pd.DataFrame) -> int:
    """Every number of table ``name``'s display equals its ARD statistic; returns how many."""
    headers, body = xlsx_display(xlsx)
    mine = ard[ard["output_id"] == name]
    checked = 0
    for header in headers:  # "Cream 1.5% (N=240)", or a span "Cream 1.5% (N=240) Mild": N of the group
        shown = re.search(r"\(N=(\d+)\)", header)
        if shown:
            hit = mine[(mine["row_id"] == T.HEADER_ROW) & (mine["column_label"] == header[:shown.end()])]
            assert len(hit) == 1 and hit["stat"].iloc[0] == "N", f"{name}: header {header!r}"
            assert_shown(shown.group(1), hit["value"].iloc[0], f"{name} header {header!r}")
            checked += 1
    body_ard = mine[mine["row_id"] != T.HEADER_ROW]
    row_ids = list(dict.fromkeys(body_ard["row_id"]))
    shown_rows = [(label, texts) for label, texts in body if any(texts)]
    assert len(shown_rows) == len(row_ids), f"{name}: {len(shown_rows)} rows shown, {len(row_ids)} in the ARD"
    for (label, texts), row_id in zip(shown_rows, row_ids):
        row = body_ard[body_ard["row_id"] == row_id]
        assert (row["row_label"] == label).all(), f"{name}: row {label!r} is {row_id!r} in the ARD"
        for header, text in zip(headers, texts):
            cell = row[row["column_label"] == header]
            if not text:
                assert cell.empty, f"{name} {row_id} {header}: blank cell with ARD statistics"
                continue
            where = f"{name} {row_id!r} {header!r}"
            assert len(cell) and (cell["text"] == text).all(), f"{where}: {text!r} not in the ARD"
            tokens = TOKEN.findall(text) if text != T.NA else []
            values = cell["value"].tolist()
            assert len(tokens) <= len(values), f"{where}: {text!r} shows more than the ARD holds"
            for token, value in zip(tokens, values):
                assert_shown(token, value, where)
                checked += 1
            for stat, value, n in zip(cell["stat"].iloc[len(tokens):], values[len(tokens):],
                                      [values[0]] * len(values)):  # what a "0" or NA cell leaves unshown
                assert not math.isfinite(value) or (stat == "pct" and n == 0), \
                    f"{where}: {stat} = {value} not shown in {text!r}"
    return checked


def check_package(package: Path) -> int:
    ard = pd.read_csv(package / "report" / "results" / "ard.csv", keep_default_na=False,
                      na_values={"value": [""], "denominator": [""]}, dtype={"row_id": str, "column": str})
    listings = {name for name, _ in LISTINGS}   # records, not statistics: not in the ARD
    tables = sorted(t for t in (package / "report" / "tables").glob("*.xlsx") if t.stem not in listings)
    assert {t.stem for t in tables} == set(ard["output_id"])
    return sum(check_table(t.stem, t.read_bytes(), ard) for t in tables)


# --------------------------------------------------------------------------------------
# the hand-built analysis
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def syn():
    analysis = synthetic_analysis()
    ctx = T.context(analysis)
    tables = build_tables(analysis, ctx=ctx)
    return analysis, tables, A.ard_frame(tables, analysis.iss, ctx.N)


def test_ard_reproduces_every_displayed_number_of_the_synthetic_tables(syn):
    analysis, tables, ard = syn
    checked = sum(check_table(t.name, R.render_xlsx(t, analysis.iss), ard) for t in tables.values()
                  if t.kind == "Table")
    assert checked > 300
    assert not set(ard["output_id"]) & {name for name, _ in LISTINGS}


def test_ard_known_numbers(syn):
    """The synthetic analysis' numbers, computed by hand in tests/test_tables.py: High has N = 5,
    4 of them with a TEAE (80.0%)."""
    _, _, ard = syn
    any_high = ard[(ard["output_id"] == "teae-overview") & (ard["row_id"] == "any") & (ard["group"] == "High")]
    assert any_high.set_index("stat")["value"].to_dict() == {"n": 4.0, "pct": 80.0}
    assert (any_high["denominator"] == 5).all()
    assert set(any_high["where"]) == {'TRTEMFL = "Y"'} and set(any_high["dataset"]) == {"ADAE"}
    header = ard[(ard["output_id"] == "teae-overview") & (ard["row_id"] == "header")]
    assert dict(zip(header["group"], header["value"])) == {"Low": 2, "Mid": 0, "High": 5, "Placebo": 3,
                                                           "All active": 7}


def selected(frame: pd.DataFrame, where) -> np.ndarray:
    """The records of ``frame`` an AND of conditions on it selects (missing text is "")."""
    keep = np.ones(len(frame), dtype=bool)
    for c in where.conditions():
        column = frame[c.variable]
        if c.comparator == "GE":
            keep &= (column.astype(float) >= float(c.values[0])).to_numpy()
            continue
        hit = column.fillna("").astype(str).isin(c.values).to_numpy()
        keep &= hit if c.comparator in ("EQ", "IN") else ~hit
    return keep


@pytest.mark.parametrize("dataset, stats", [("ADAE", ("n",)), ("ADEX", ("n", "N")),
                                            ("ADAETTE", ("subjects_at_risk",))])
def test_ard_where_clauses_select_what_the_cells_count(syn, dataset, stats):
    """For every participant count on ``dataset`` (the overview's deaths aside: they read ADSL
    too), the records its where clause and group clause select hold exactly that many safety
    participants: ADAE counts, ADEX exposure counts and header N, ADAETTE participants at risk."""
    analysis, tables, ard = syn
    assert where_clause_mismatches(analysis, tables, ard, dataset, stats, at_least=15) == []


def where_clause_mismatches(analysis, tables, ard, dataset: str, stats, *, at_least: int) -> list[str]:
    """The participant counts of ``dataset`` (statistics ``stats``, the deaths row and summaries
    aside) whose where clause and group clause select another number of safety participants:
    the records selected, for a count at the maximum severity less the participants with a more
    severe record of the row, for a count of totals those whose AVAL summed over them reaches the
    threshold. At least ``at_least`` counts are checked."""
    frame = analysis.datasets[dataset]
    safety = set(analysis.datasets["ADSL"].query("SAFFL == 'Y'")["USUBJID"])
    cells = ard[(ard["dataset"] == dataset) & ard["stat"].isin(stats) & (ard["row_id"] != "deaths")
                & ~ard["method_id"].isin(["M_SUMMARY", "M_SUMMARY_TOTAL", "M_SUM"]) & ard["value"].notna()]
    catalogue = {a.id: a for a in A.analysis_catalogue(tables, analysis.iss)}
    assert len(cells) >= at_least
    wrong = []
    for analysis_id, group, n in zip(cells["analysis_id"], cells["group"], cells["value"]):
        where = A.both(catalogue[analysis_id].where, A.group_where(dataset, group, analysis.iss))
        subjects = set(frame.loc[selected(frame, where), "USUBJID"]) & safety
        if catalogue[analysis_id].method == "M_COUNT_MAX":   # less those with a more severe record of the row
            subjects -= set(frame.loc[selected(frame, more_severe(where)), "USUBJID"])
        threshold = A.total_threshold(catalogue[analysis_id].method)
        if threshold is not None:   # those whose AVAL summed over the selected records reaches it
            totals = frame.loc[selected(frame, where)].groupby("USUBJID")["AVAL"].sum()
            subjects &= set(totals.index[totals >= threshold])
        if len(subjects) != n:
            wrong.append(f"{analysis_id} {group}: where selects {len(subjects)}, cell shows {n}")
    return wrong


def more_severe(where):
    """An M_COUNT_MAX where clause (its severity condition the last of the row's) with the
    severities above it instead (MILD < MODERATE < SEVERE; a missing one below them all)."""
    severity = [c for c in where.conditions() if c.variable in ("AESEV", "ASEV")][-1]
    order = ["", "MILD", "MODERATE", "SEVERE"]
    above = tuple(order[order.index(severity.values[0]) + 1:]) or ("none",)
    others = [c for c in where.conditions() if c is not severity]
    return A.Compound("AND", (*others, A.Condition(severity.dataset, severity.variable, "IN", above)))


def test_ard_of_the_severity_table_counts_each_participant_at_the_maximum(syn):
    """A participant with a MILD and a SEVERE TEAE of a row is in its SEVERE analysis only."""
    analysis, tables, ard = syn
    severity = ard[(ard["output_id"] == "teae-severity") & (ard["stat"] == "n")]
    assert set(severity["method_id"]) == {"M_COUNT_MAX"} and len(severity) > 0
    shown = tables["teae-severity"].cells
    assert severity["value"].sum() == shown.loc[shown["stat"] == "n", "value"].sum()


def test_ard_where_clause_text():
    clause = A.both(A.TEAE, A.Compound("OR", (A.eq("ADAE", "AEOUT", "FATAL"), A.eq("ADSL", "DTHFL", "Y"))))
    assert clause.text("ADAE") == 'TRTEMFL = "Y" and (AEOUT = "FATAL" or ADSL.DTHFL = "Y")'
    assert A.Condition("ADAE", "TRTA", "IN", ("A", "B")).text("ADAE") == 'TRTA in ("A", "B")'
    assert A.Condition("ADEX", "AVAL", "GE", ("28",)).text("ADSL") == "ADEX.AVAL >= 28"


def test_ard_names_every_analysis_once(syn):
    analysis, tables, ard = syn
    ids = [a.id for a in A.analysis_catalogue(tables, analysis.iss)]
    assert len(ids) == len(set(ids)) and set(ard["analysis_id"]) == set(ids)
    assert list(ard.columns) == A.ARD_COLUMNS and (ard["pool"] == "").all()


# --------------------------------------------------------------------------------------
# packages built by the CLI: a corpus integration and the demo
# --------------------------------------------------------------------------------------
def test_ard_of_a_corpus_integration_reproduces_its_tables(tmp_path):
    case = tmp_path / "clean-two-study"
    shutil.copytree(CORPUS / "clean-two-study", case)
    proc = run_cli("build", "iss.json", "--out", str(tmp_path / "package"), "--quiet", cwd=case)
    assert proc.returncode == 0, proc.stderr
    assert check_package(tmp_path / "package") > 200


def test_ard_of_the_demo_reproduces_its_tables(demo_package):
    assert check_package(demo_package) > 900   # 962 numbers in the demo today


def test_ard_where_clauses_select_what_the_demo_tables_count(demo_package):
    """On the demo's ADaM (XPT; ADEX one record per treatment piece, the pooled group "All cream"
    in TRTAG1), every ADAE, ADEX and ADAETTE participant count of every table is what its where
    clause and group clause select (1,076 counts today)."""
    from types import SimpleNamespace

    from adam.config import load_iss_config
    from fileformats.xpt import read_xpt

    folder = demo_package / "m5" / "datasets" / "iss" / "analysis" / "adam" / "datasets"
    datasets = {}
    for name in ("ADSL", "ADAE", "ADEX", "ADAETTE"):
        frame = read_xpt(folder / f"{name.lower()}.xpt")[0]
        text = [c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])]
        datasets[name] = frame.assign(**{c: frame[c].where(frame[c] != "", None) for c in text})  # XPT blanks
    analysis = SimpleNamespace(iss=load_iss_config(demo_package / "demo-input" / "iss.json"), datasets=datasets)
    ctx = T.context(analysis)
    tables = build_tables(analysis, ctx=ctx)
    ard = A.ard_frame(tables, analysis.iss, ctx.N)
    assert "TRTAG1 = \"All cream\"" in set(ard["group_where"])
    for dataset, stats in (("ADAE", ("n",)), ("ADEX", ("n", "N")), ("ADAETTE", ("subjects_at_risk",))):
        assert where_clause_mismatches(analysis, tables, ard, dataset, stats, at_least=20) == [], dataset
