"""report.listings on the death-discontinuation integration, every field worked out by hand
from raw/cdx-202/ae.csv, ex.csv and the integration README, and a death without a fatal AE
on the synthetic analysis of tests/test_tables.py.

Study days: day 1 is the first dose (README: 003 27 JAN 2022, 004 31 JAN, 005 14 FEB).
003 Cardiac arrest 14 MAY 2022: Jan 27..31 = days 1-5, February 6-33, March 34-64, April
65-94, May 14 = day 108. 004 Fall `UN MAR 2022` -> 01 MAR (README) = day 30 (Jan 31 day 1,
February 2-29); Dizziness 10 MAR = day 39. 005 Renal impairment 16 MAY: Feb 14..28 = days
1-15, March 16-46, April 47-76, May 16 = day 92.
"""
from __future__ import annotations

import pytest

from report import render as R
from report.catalogue import build_tables
from tests.test_adverse_event_tables import INTEGRATION, integration_analysis
from tests.test_tables import synthetic_analysis

CDX = "Cardoxetrib 20 mg"
FIELDS = ["row_label", "study", "group", "day", "term", "teae", "severity", "relation", "outcome"]


@pytest.fixture(scope="module")
def dd_listings():
    analysis = integration_analysis(INTEGRATION)
    return analysis, {n: t for n, t in build_tables(analysis).items() if t.kind == "Listing"}


def shown(table) -> list[list[str]]:
    return table.grid()[FIELDS].values.tolist()


def test_deaths_listing_hand_checked(dd_listings):
    """ae.csv 003 AE 2: Cardiac arrest, Severe, Not related, Fatal, results in death; the only
    death (DS "Death", DTHFL "Y"), listed once (from its fatal AE, not again from ADSL)."""
    _, listings = dd_listings
    assert shown(listings["listing-deaths"]) == [
        ["CDX-202-01-003", "CDX-202", CDX, "108", "Cardiac arrest", "Y", "SEVERE", "NOT RELATED", "FATAL"]]


def test_sae_listing_hand_checked(dd_listings):
    """SERIOUS "Yes": 003 Cardiac arrest, 005 Worsening renal function (PT Renal impairment;
    Severe, Possibly related, Recovered)."""
    _, listings = dd_listings
    assert shown(listings["listing-sae"]) == [
        ["CDX-202-01-003", "CDX-202", CDX, "108", "Cardiac arrest", "Y", "SEVERE", "NOT RELATED", "FATAL"],
        ["CDX-202-02-005", "CDX-202", CDX, "92", "Renal impairment /\nWorsening renal function", "Y", "SEVERE",
         "POSSIBLY RELATED", "RECOVERED/RESOLVED"]]


def test_discontinuation_listing_hand_checked(dd_listings):
    """ACTION "Drug withdrawn": 004 Fall at home (day 30) before Dizzy spells (day 39), both
    Placebo; 005 Worsening renal function (day 92)."""
    _, listings = dd_listings
    assert shown(listings["listing-ae-discontinuation"]) == [
        ["CDX-202-01-004", "CDX-202", "Placebo", "30", "Fall /\nFall at home", "Y", "MILD", "NOT RELATED",
         "RECOVERED/RESOLVED"],
        ["CDX-202-01-004", "CDX-202", "Placebo", "39", "Dizziness /\nDizzy spells", "Y", "MODERATE",
         "POSSIBLY RELATED", "RECOVERED/RESOLVED"],
        ["CDX-202-02-005", "CDX-202", CDX, "92", "Renal impairment /\nWorsening renal function", "Y", "SEVERE",
         "POSSIBLY RELATED", "RECOVERED/RESOLVED"]]


def test_every_listing_cell_traces_to_its_adae_record(dd_listings):
    analysis, listings = dd_listings
    adae = analysis.datasets["ADAE"]
    for table in listings.values():
        lin = table.lineage_records()
        assert set(lin["dataset"]) == {"ADAE"}
        per_row = lin.groupby("row_id")
        assert per_row["column"].nunique().eq(len(table.columns)).all()
        keys = per_row[["USUBJID", "AESEQ"]].first()
        for rid, (subject, seq) in keys.iterrows():
            record = adae.iloc[int(rid.split("|")[1])]
            assert (record["USUBJID"], int(record["AESEQ"])) == (subject, seq)


def test_listings_render_to_rtf_and_xlsx(dd_listings):
    from io import BytesIO

    from openpyxl import load_workbook

    analysis, listings = dd_listings
    table = listings["listing-ae-discontinuation"]
    rtf = R.render_rtf(table, analysis.iss).decode("ascii")
    assert "Listing 3. Adverse events leading to discontinuation of study treatment" in rtf
    assert "Worsening renal function" in rtf
    ws = load_workbook(BytesIO(R.render_xlsx(table, analysis.iss)))["Listing 3"]
    assert "Renal impairment /\nWorsening renal function" in [c.value for row in ws.iter_rows() for c in row]


def test_a_death_without_a_fatal_ae_is_listed_from_adsl():
    """Synthetic: A06 (Placebo) died (DTHFL "Y") with no fatal AE; B02 has a fatal AE."""
    table = build_tables(synthetic_analysis())["listing-deaths"]
    grid = table.grid()
    assert grid["row_label"].tolist() == ["A06", "B02"]
    a06 = grid.iloc[0]
    assert (a06["term"], a06["outcome"]) == ("Death", "FATAL")
    lin = table.lineage_records()
    assert set(lin.loc[lin["USUBJID"] == "A06", "dataset"]) == {"ADSL"}
    assert set(lin.loc[lin["USUBJID"] == "B02", "dataset"]) == {"ADAE"}


# --------------------------------------------------------------------------------------
# disposition (report.disposition), on the same integration
# --------------------------------------------------------------------------------------
def test_disposition_hand_counted(dd_listings):
    """raw/cdx-202/ds.csv, DS_REASON per participant (N = 5 per group, README):
    Placebo 001, 006, 007 Completed; 004 Adverse event; 009 Withdrawal by subject ->
    completed 3 (60.0), discontinued 2 (40.0): adverse event 1 (20.0), withdrawal 1 (20.0).
    Cardoxetrib 002, 008, 010 Completed; 003 Death; 005 Adverse event -> completed 3 (60.0),
    discontinued 2 (40.0): adverse event 1 (20.0), death 1 (20.0). Nobody ongoing (no row)."""
    analysis, _ = dd_listings
    table = build_tables(analysis)["disposition"]
    grid = table.grid()
    assert grid[["row_label", "indent", "Placebo", CDX]].values.tolist() == [
        ["Completed the study", 0, "3 (60.0)", "3 (60.0)"],
        ["Discontinued the study", 0, "2 (40.0)", "2 (40.0)"],
        ["Adverse event", 1, "1 (20.0)", "1 (20.0)"],
        ["Death", 1, "0", "1 (20.0)"],
        ["Withdrawal by subject", 1, "1 (20.0)", "0"]]
    lin = table.lineage_records()
    death = lin[(lin["row_id"] == "DISCONTINUED|DEATH") & (lin["column"] == CDX)]
    assert death[["dataset", "USUBJID"]].values.tolist() == [["ADSL", "CDX-202-01-003"]]
    assert table.number == 2 and table.caption == "Table 2. Disposition of participants"


def test_disposition_without_eosstt_is_not_available():
    table = build_tables(synthetic_analysis())["disposition"]   # the synthetic ADSL has no EOSSTT
    assert set(table.cells["text"]) == {"NA"}
    assert any("ADSL has no EOSSTT" in f for f in table.footnotes)
