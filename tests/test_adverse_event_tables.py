"""report.adverse_events on the death-discontinuation integration, numbers worked out by hand
from its raw files (tests/integrations/death-discontinuation/raw/cdx-202/ae.csv and its
README, which derives which AEs are treatment-emergent), and the no-duplicate-row rule of
every table.

TEAEs of the integration (README: 3 of the 13 AE records are not emergent — 001 Oedema
peripheral, 006 Gout, 010 Hypertension ended before the first dose), with ae.csv's
SEVERITY, RELATED and ACTION columns; ``related_terms`` are POSSIBLY RELATED and RELATED:

=========  =====================  ====================  ========  =================  ==============
group      subject                PT                    severity  related            action
=========  =====================  ====================  ========  =================  ==============
Placebo    001                    Dyspnoea              Mild      Not related        not changed
Placebo    004                    Dizziness             Moderate  Possibly related   Drug withdrawn
Placebo    004                    Fall                  Mild      Not related        Drug withdrawn
Placebo    007                    Arthralgia            Mild      Not related        n/a
Cardox.    002                    Hyperkalaemia         Moderate  Possibly related   not changed
Cardox.    003                    Atrial fibrillation   Moderate  Not related        not changed
Cardox.    003                    Cardiac arrest        Severe    Not related (fatal) n/a
Cardox.    005                    Renal impairment      Severe    Possibly related   Drug withdrawn
Cardox.    008                    Constipation          Mild      Possibly related   not changed
Cardox.    010                    Nausea                Mild      Possibly related   n/a
=========  =====================  ====================  ========  =================  ==============

N = 5 per group (README).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from report import tables as T
from report.catalogue import build_tables

INTEGRATION = Path(__file__).parent / "integrations" / "death-discontinuation"
PBO, CDX = "Placebo", "Cardoxetrib 20 mg"


def integration_analysis(folder: Path):
    from adam.build import derive_adam, pool_sdtm
    from adam.config import load_iss_config
    from sdtm.mapping import map_study, read_study_raw

    iss = load_iss_config(folder / "iss.json")
    return derive_adam(pool_sdtm([map_study(c, read_study_raw(c)).datasets for c in iss.studies]), iss)


@pytest.fixture(scope="module")
def dd():
    return integration_analysis(INTEGRATION)


@pytest.fixture(scope="module")
def dd_tables(dd):
    return build_tables(dd)


def texts(table: T.Table, column: str) -> dict[str, str]:
    """row label -> text of ``column`` (labels are unique in these tables)."""
    part = table.cells[table.cells["column"] == column]
    return dict(zip(part["row_label"], part["text"]))


def test_maximum_severity_hand_counted(dd_tables):
    """Any TEAE: Placebo 001 Mild, 004 Moderate (Dizziness moderate beats Fall mild), 007 Mild ->
    Mild 2 (40.0), Moderate 1 (20.0), Severe 0; Cardoxetrib 002 Moderate, 003 Severe (Cardiac
    arrest beats Atrial fibrillation), 005 Severe, 008 Mild, 010 Mild -> 2 / 1 / 2. Cardiac
    disorders: 003 once, at Severe (not also under Moderate); its PTs at their own severity."""
    table = dd_tables["teae-severity"]
    any_row = "Participants with at least one TEAE"
    expected = {(PBO, "Mild"): "2 (40.0)", (PBO, "Moderate"): "1 (20.0)", (PBO, "Severe"): "0",
                (CDX, "Mild"): "2 (40.0)", (CDX, "Moderate"): "1 (20.0)", (CDX, "Severe"): "2 (40.0)"}
    for (group, level), text in expected.items():
        assert texts(table, f"{group}|{level}")[any_row] == text
    assert texts(table, f"{CDX}|Severe")["Cardiac disorders"] == "1 (20.0)"
    assert texts(table, f"{CDX}|Moderate")["Cardiac disorders"] == "0"
    assert texts(table, f"{CDX}|Moderate")["Atrial fibrillation"] == "1 (20.0)"
    assert texts(table, f"{CDX}|Severe")["Cardiac arrest"] == "1 (20.0)"
    assert texts(table, f"{PBO}|Moderate")["Nervous system disorders"] == "1 (20.0)"
    assert [c.span for c in table.columns][:3] == ["Placebo (N=5)"] * 3
    # no Missing column: every TEAE has a severity
    assert [c.header for c in table.columns] == ["Mild", "Moderate", "Severe"] * 2
    # each participant counted once per row and group: the levels add up to the any-TEAE row of Table SOC/PT
    soc_pt = dd_tables["teae-soc-pt"]
    for group in (PBO, CDX):
        by_row = table.cells[table.cells["group"] == group].groupby("row_id")["value"].sum()
        plain = soc_pt.cells[soc_pt.cells["column"] == group].set_index("row_id")["value"]
        assert by_row.reindex(plain.index).tolist() == plain.tolist()


def test_maximum_severity_lineage_is_the_records_at_the_maximum(dd_tables):
    """Subject 003's Cardiac disorders cell traces to the Cardiac arrest record (AESEQ 1,
    severe), not to the moderate Atrial fibrillation (AESEQ 2)."""
    lin = dd_tables["teae-severity"].lineage_records()
    cell = lin[(lin["row_id"] == "soc|Cardiac disorders") & (lin["column"] == f"{CDX}|Severe")]
    assert cell[["USUBJID", "AESEQ"]].values.tolist() == [["CDX-202-01-003", 1]]
    assert lin[(lin["row_id"] == "soc|Cardiac disorders") & (lin["column"] == f"{CDX}|Moderate")].empty


def test_related_teaes_hand_counted(dd_tables):
    """RELATED "Possibly related" is one of the related terms: Placebo 004 Dizziness -> 1 (20.0);
    Cardoxetrib 002 Hyperkalaemia, 005 Renal impairment, 008 Constipation, 010 Nausea -> 4 (80.0);
    Gastrointestinal disorders 2 (40.0) (008, 010); 003's events are not related."""
    table = dd_tables["related-teae-soc-pt"]
    assert texts(table, PBO) == {"Participants with at least one related TEAE": "1 (20.0)",
                                 "Nervous system disorders": "1 (20.0)", "Dizziness": "1 (20.0)",
                                 "Gastrointestinal disorders": "0", "Constipation": "0", "Nausea": "0",
                                 "Metabolism and nutrition disorders": "0", "Hyperkalaemia": "0",
                                 "Renal and urinary disorders": "0", "Renal impairment": "0"}
    assert texts(table, CDX)["Participants with at least one related TEAE"] == "4 (80.0)"
    assert texts(table, CDX)["Gastrointestinal disorders"] == "2 (40.0)"
    assert "Cardiac disorders" not in texts(table, CDX)


def test_teaes_leading_to_discontinuation_hand_counted(dd_tables):
    """ACTION "Drug withdrawn" (AEACN DRUG WITHDRAWN): Placebo 004 Dizziness and Fall -> 1
    participant (20.0), once in the any row although two events; Cardoxetrib 005 Renal
    impairment -> 1 (20.0). The two discontinuations for AE of ds.csv (004, 005)."""
    table = dd_tables["discontinuation-teae-soc-pt"]
    rows = "Participants with at least one TEAE leading to discontinuation"
    assert texts(table, PBO)[rows] == "1 (20.0)" and texts(table, CDX)[rows] == "1 (20.0)"
    assert texts(table, PBO)["Dizziness"] == texts(table, PBO)["Fall"] == "1 (20.0)"
    assert texts(table, CDX)["Renal impairment"] == "1 (20.0)"
    assert set(table.rows["row_label"]) == {rows, "Nervous system disorders", "Dizziness", "Renal and urinary "
                                            "disorders", "Renal impairment", "Injury, poisoning and procedural "
                                            "complications", "Fall"}


def test_aesis_by_pt_hand_counted(dd_tables):
    """iss.json's AESIs: Cardiac disorders (CQ01, SOC) -> Cardoxetrib 003 (Atrial fibrillation,
    Cardiac arrest) 1 (20.0); Renal events (CQ02) -> 005 Renal impairment 1 (20.0); Placebo 0.
    "Deaths" (CQ03, fatal only) is the overview's Deaths row, not an AESI here."""
    table = dd_tables["aesi-pt"]
    assert table.rows["row_label"].tolist() == ["Cardiac disorders", "Atrial fibrillation", "Cardiac arrest",
                                                "Renal events", "Renal impairment"]
    assert table.rows["indent"].tolist() == [0, 1, 1, 0, 1]
    assert set(texts(table, CDX).values()) == {"1 (20.0)"}
    assert set(texts(table, PBO).values()) == {"0"}
    lin = table.lineage_records()
    cardiac = lin[(lin["row_id"] == "aesi|TTECARD") & (lin["column"] == CDX)]
    assert sorted(cardiac["AESEQ"].tolist()) == [1, 2] and set(cardiac["USUBJID"]) == {"CDX-202-01-003"}


def test_overview_has_deaths_once(dd_tables):
    """The config's fatal-only event "Deaths" (CQ03) was a second Deaths row under the AESIs;
    it is the Deaths row: Cardoxetrib 1 (20.0) (003), Placebo 0."""
    table = dd_tables["teae-overview"]
    assert table.rows["row_label"].tolist().count("Deaths") == 1
    assert texts(table, CDX)["Deaths"] == "1 (20.0)" and texts(table, PBO)["Deaths"] == "0"
    assert "aesi|TTEDTH" not in set(table.rows["row_id"])


def duplicated_rows(table: T.Table) -> list:
    """Rows of a table shown twice: the same row id; the same label under the same parent
    (the nearest row above with a smaller indent); or the same label and the same numbers as
    a top-level row (as "Deaths" was, once a row and once an AESI under its header)."""
    grid = table.grid()
    keys = [c.key for c in table.columns]
    parents, seen, top, dups = [], set(), {}, []
    for rid, label, indent, values in zip(grid["row_id"], grid["row_label"], grid["indent"],
                                          grid[keys].to_numpy().tolist()):
        parents = parents[:int(indent)]
        key = (tuple(parents), label)
        if key in seen or ("id", rid) in seen or top.get(label) == values:
            dups.append(key)
        seen.update({key, ("id", rid)})
        if int(indent) == 0:
            top.setdefault(label, values)
        parents.append(label)
    return dups


def test_no_row_is_duplicated_in_any_table(dd_tables):
    for table in dd_tables.values():
        assert table.rows["row_id"].is_unique, table.name
        if table.kind == "Table":  # a listing lists a participant once per record
            assert duplicated_rows(table) == [], table.name


def test_duplicate_row_check_finds_the_old_deaths_row(dd, monkeypatch):
    monkeypatch.setattr(T, "aesi_events", lambda iss: [e for e in iss.events if "cq" in e])  # the old rule
    assert duplicated_rows(T.overview_table(dd)) == [(("Adverse events of special interest",), "Deaths")]
