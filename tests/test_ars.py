"""report.ars: the reporting event is valid ARS 1.0 (its published JSON schema), its references
resolve, and its results are the ARD's numbers (one source)."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pandas as pd
import pytest

from report import ard as A
from report import ars
from report.catalogue import build_tables
from report import tables as T
from tests.test_tables import synthetic_analysis

SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "reference" / "ars" / "ars_ldm.schema.json"
"""The published ARS 1.0 JSON schema (../shared/reference/ars, beside the checkout)."""


@pytest.fixture(scope="module")
def validator():
    if not SCHEMA.is_file():
        pytest.skip("the ARS schema (../shared/reference/ars) is not present")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


@pytest.fixture(scope="module")
def syn():
    analysis = synthetic_analysis()
    ctx = T.context(analysis)
    tables = build_tables(analysis, ctx=ctx)
    ard = A.ard_frame(tables, analysis.iss, ctx.N)
    return analysis, tables, ard, ars.reporting_event(tables, analysis.iss, ard)


def errors(validator, event) -> list[str]:
    return [f"{e.json_path}: {e.message[:200]}" for e in validator.iter_errors(event)]


def check_event(validator, event: dict, ard: pd.DataFrame) -> None:
    """Schema-valid, every reference resolves, and the results are the ARD's statistics."""
    assert errors(validator, event) == []
    methods = {m["id"]: {o["id"] for o in m["operations"]} for m in event["methods"]}
    subsets = {s["id"] for s in event["dataSubsets"]}
    groups = {g["id"]: {x["id"] for x in g["groups"]} for g in event["analysisGroupings"]}
    analyses = {a["id"]: a for a in event["analyses"]}
    outputs = {o["id"] for o in event["outputs"]}
    listed = [item for output in event["mainListOfContents"]["contentsList"]["listItems"]
              for item in output["sublist"]["listItems"]]
    assert {i["outputId"] for i in event["mainListOfContents"]["contentsList"]["listItems"]} == outputs
    assert sorted(i["analysisId"] for i in listed) == sorted(analyses)
    relationships = {r["id"]: r["operationId"] for m in event["methods"] for o in m["operations"]
                     for r in o.get("referencedOperationRelationships", [])}
    results = []
    for a in event["analyses"]:
        for ref in a.get("referencedAnalysisOperations", []):  # the referenced analysis has the operation
            referenced = analyses[ref["analysisId"]]
            assert relationships[ref["referencedOperationRelationshipId"]] in methods[referenced["methodId"]]
        assert a["analysisSetId"] == ars.ANALYSIS_SET_ID and a.get("dataSubsetId", "DS_1") in subsets
        grouping = a["orderedGroupings"][0]["groupingId"]
        for r in a["results"]:
            assert r["operationId"] in methods[a["methodId"]]
            assert [g["groupingId"] for g in r["resultGroups"]] == [grouping]
            assert r["resultGroups"][0]["groupId"] in groups[grouping]
            results.append((a["id"], r["operationId"], r.get("rawValue")))
    expected = [(aid, op, None if pd.isna(v) else repr(float(v)))
                for aid, op, v in zip(ard["analysis_id"], ard["operation_id"], ard["value"])]
    assert sorted(results, key=str) == sorted(expected, key=str)


def test_reporting_event_is_valid_ars_and_holds_the_ard(validator, syn):
    _, _, ard, event = syn
    check_event(validator, event, ard)


def test_schema_rejects_a_broken_event(validator, syn):
    """The validation can fail: an analysis without a method, or with an unknown reason, is refused."""
    event = copy.deepcopy(syn[3])
    del event["analyses"][0]["methodId"]
    event["analyses"][1]["reason"] = {"controlledTerm": "BECAUSE"}
    found = errors(validator, event)
    assert len(found) == 2 and any("methodId" in e for e in found) and any("BECAUSE" in e for e in found)


def test_reporting_event_known_entries(syn):
    """The synthetic ISS: the related-TEAE subset is TRTEMFL = "Y" and AREL = "RELATED"; the pooled
    group "All active" (the first pooled level) counts the ADAE records of Low, Mid and High, which
    carry it in TRTAG1; High's any-TEAE n is 4 of 5."""
    analysis, _, _, event = syn
    related = next(a for a in event["analyses"] if a["id"] == "A_teae-overview_related")
    subset = next(s for s in event["dataSubsets"] if s["id"] == related["dataSubsetId"])
    assert subset["compoundExpression"]["logicalOperator"] == "AND"
    assert [c["condition"] for c in subset["compoundExpression"]["whereClauses"]] == [
        {"dataset": "ADAE", "variable": "TRTEMFL", "comparator": "EQ", "value": ["Y"]},
        {"dataset": "ADAE", "variable": "AREL", "comparator": "EQ", "value": ["RELATED"]}]
    adae_groups = next(g for g in event["analysisGroupings"] if g["id"] == "AG_TRT_ADAE")["groups"]
    pooled = next(g for g in adae_groups if g["name"] == "All active")
    assert pooled["condition"] == {"dataset": "ADAE", "variable": "TRTAG1", "comparator": "EQ",
                                   "value": ["All active"]}
    members = analysis.datasets["ADAE"].loc[analysis.datasets["ADAE"]["TRTAG1"] == "All active", "TRTA"]
    assert set(members) == {"Low", "High"}   # Mid has no participants (N = 0)
    high = next(g["id"] for g in adae_groups if g["name"] == "High")
    anyteae = next(a for a in event["analyses"] if a["id"] == "A_teae-overview_any")
    mine = {r["operationId"]: r for r in anyteae["results"] if r["resultGroups"][0]["groupId"] == high}
    assert mine["M_COUNT_n"]["rawValue"] == "4.0" and mine["M_COUNT_n"]["formattedValue"] == "4 (80.0)"
    assert mine["M_COUNT_pct"]["rawValue"] == "80.0"
    assert anyteae["referencedAnalysisOperations"] == [
        {"referencedOperationRelationshipId": "M_COUNT_pct_NUM", "analysisId": "A_teae-overview_any"},
        {"referencedOperationRelationshipId": "M_COUNT_pct_DEN", "analysisId": "A_teae-overview_N"}]


def test_demo_reporting_event_is_valid_and_is_its_ard(validator, demo_package):
    folder = demo_package / "report" / "results"
    event = json.loads((folder / "reporting-event.json").read_text(encoding="utf-8"))
    ard = pd.read_csv(folder / "ard.csv", keep_default_na=False, na_values={"value": [""]})
    check_event(validator, event, ard)


def test_listings_are_outputs_without_analyses(syn):
    """The listings (records, not statistics) are outputs "Listing n" of the reporting event, in its
    list of contents after the tables, with no analyses (and no ARD records)."""
    _, tables, ard, event = syn
    listings = [t.name for t in tables.values() if t.kind == "Listing"]
    assert listings == ["listing-deaths", "listing-sae", "listing-ae-discontinuation"]
    contents = event["mainListOfContents"]["contentsList"]["listItems"]
    assert [c["outputId"] for c in contents[-3:]] == [f"O_{n}" for n in listings]
    assert all(c["sublist"]["listItems"] == [] for c in contents[-3:])
    names = {o["id"]: o["displays"][0]["display"]["name"] for o in event["outputs"]}
    assert names["O_listing-deaths"] == "Listing 1" and names["O_teae-overview"].startswith("Table ")
    assert not set(ard["output_id"]) & set(listings)
