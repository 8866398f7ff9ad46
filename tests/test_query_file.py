"""Standardised queries from a query file (ISS config ``query_file``, events[].query/smq/scope):
the file's checks, ADAE's SMQzzNAM/CD/SC/SCN (ADaM OCCDS 1.1) and the counts, worked out by hand.

Test query (QUERY below): "Neurological events (test query)", code 99100001 — PT Dizziness
NARROW, PT Headache BROAD, LLT Drowsiness NARROW (its PT is Somnolence, which the query does not
list). Broad scope holds the narrow terms (OCCDS 1.1 SMQzzSC); SMQzzSCN 1 = BROAD, 2 = NARROW.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from adam.adae import event_masks
from adam.config import load_iss_config
from adam.queries import derive_standardised_queries, load_query_file, with_query_terms
from specs.errors import InputError
from tests.cli_support import run_cli

CORPUS = Path(__file__).parent / "integrations"
HEADER = "query_name,query_code,scope,term_level,term_name,term_code\n"
QUERY = HEADER + ("Neurological events (test query),99100001,NARROW,PT,Dizziness,10013573\n"
                  "Neurological events (test query),99100001,broad,pt,headache,10019211\n"
                  "Neurological events (test query),99100001,NARROW,LLT,Drowsiness,10013649\n"
                  "Skin events (test query),99100002,BROAD,PT,Rash,10037844\n")
NAME = "Neurological events (test query)"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "queries.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_terms_by_scope(tmp_path):
    queries = load_query_file(write(tmp_path, QUERY))
    assert queries.names == [NAME, "Skin events (test query)"]
    assert queries.code(NAME) == 99100001
    assert queries.terms_of(NAME) == {"PT": ["DIZZINESS", "HEADACHE"], "LLT": ["DROWSINESS"]}
    assert queries.terms_of(NAME, "narrow") == {"PT": ["DIZZINESS"], "LLT": ["DROWSINESS"]}


def test_smq_variables_per_record(tmp_path):
    queries = load_query_file(write(tmp_path, QUERY))
    adae = pd.DataFrame({
        "AEDECOD": ["Headache", "DIZZINESS", "Somnolence", "Somnolence", "Nausea", "Headache"],
        "AELLT": ["Headache", "Dizzy spells", "Drowsiness", "Sleepiness", "Nausea", "Headache"],
        "AEBODSYS": ["Nervous system disorders"] * 6, "AESER": ["N", "N", "N", "N", "N", "Y"]}).astype("string")
    events = [with_query_terms({"paramcd": "TTENEURO", "name": "Neurological", "smq": 1, "query": NAME}, queries),
              with_query_terms({"paramcd": "TTENEURN", "name": "Neurological (narrow)", "smq": 2, "query": NAME,
                                "scope": "narrow"}, queries),
              with_query_terms({"paramcd": "TTENEURS", "name": "Serious neurological", "smq": 3, "query": NAME,
                                "serious": True}, queries)]
    out = derive_standardised_queries(adae, events, queries, event_masks(adae, events))
    out = out.astype(object).where(out.notna(), None)
    # broad: Headache (broad PT) x2, Dizziness (narrow PT), Somnolence coded from LLT Drowsiness (narrow LLT);
    # Somnolence from LLT Sleepiness and Nausea are not in the query
    assert out["SMQ01NAM"].tolist() == [NAME, NAME, NAME, None, None, NAME]
    assert out["SMQ01CD"].tolist() == [99100001.0] * 3 + [None, None, 99100001.0]
    assert out["SMQ01SC"].tolist() == ["BROAD", "NARROW", "NARROW", None, None, "BROAD"]
    assert out["SMQ01SCN"].tolist() == [1, 2, 2, None, None, 1]
    # narrow scope: the narrow terms only
    assert out["SMQ02NAM"].tolist() == [None, NAME, NAME, None, None, None]
    assert out["SMQ02SC"].tolist() == [None, "NARROW", "NARROW", None, None, None]
    # a query with a qualifier: serious records of the query only
    assert out["SMQ03NAM"].tolist() == [None, None, None, None, None, NAME]


@pytest.mark.parametrize("text, row, column, words", [
    (HEADER + "Q,1,NARROW,PT,Headache,10019211\nQ,1,WIDE,PT,Nausea,10028813\n", 3, "scope", "'WIDE'"),
    (HEADER + "Q,1,NARROW,HLT,Headaches NEC,10019233\n", 2, "term_level", "neither PT nor LLT"),
    (HEADER + "Q,1,NARROW,PT,Headache,10019211\nQ,1,BROAD,PT,Head pain,10019211\n", 3, "term_code",
     "listed twice"),
    (HEADER + "Q,1,NARROW,PT,Headache,10019211\nR,1,NARROW,PT,Nausea,10028813\n", 2, "query_code",
     "more than one query name"),
    (HEADER + "Q,1,NARROW,PT,Headache,10019211\nQ,2,NARROW,PT,Nausea,10028813\n", 2, "query_name",
     "more than one query code"),
    (HEADER + "Q,SMQ1,NARROW,PT,Headache,10019211\n", 2, "query_code", "not a whole number"),
    (HEADER + "Q,1,NARROW,PT,,10019211\n", 2, "term_name", "is empty"),
])
def test_bad_query_file_is_refused_naming_row_and_column(tmp_path, text, row, column, words):
    with pytest.raises(InputError) as err:
        load_query_file(write(tmp_path, text))
    assert (err.value.file, err.value.row, err.value.column) == ("queries.csv", row, column)
    assert words in err.value.message


def test_query_file_without_a_column_is_refused(tmp_path):
    with pytest.raises(InputError, match="scope"):
        load_query_file(write(tmp_path, "query_name,query_code,term_level,term_name,term_code\nQ,1,PT,Rash,1\n"))


def integration(tmp_path: Path, events: list[dict], query_text: str | None = QUERY) -> Path:
    """clean-two-study copied, with the query file and ``events`` added to its ISS config."""
    root = tmp_path / "clean-two-study"
    shutil.copytree(CORPUS / "clean-two-study", root)
    iss = json.loads((root / "iss.json").read_text())
    iss["events"] += events
    if query_text is not None:
        (root / "queries.csv").write_text(query_text, encoding="utf-8")
        iss["query_file"] = "queries.csv"
    (root / "iss.json").write_text(json.dumps(iss, indent=1))
    return root / "iss.json"


@pytest.mark.parametrize("events, query_text, path, words", [
    ([{"paramcd": "TTEX", "name": "X", "smq": 1, "query": "No such query"}], QUERY, "$.events[5].query",
     "not in the query file"),
    ([{"paramcd": "TTEX", "name": "X", "query": NAME}], QUERY, "$.events[5].query", "smq index together"),
    ([{"paramcd": "TTEX", "name": "X", "smq": 1, "query": NAME}], None, "$.events[5].query", "no query_file"),
    ([{"paramcd": "TTEX", "name": "X", "smq": 1, "query": NAME},
      {"paramcd": "TTEY", "name": "Y", "smq": 1, "query": NAME}], QUERY, "$.events[5].smq", "used twice"),
])
def test_event_naming_a_query_is_checked(tmp_path, events, query_text, path, words):
    with pytest.raises(InputError) as err:
        load_iss_config(integration(tmp_path, events, query_text))
    assert err.value.path == path and words in err.value.message


def test_integration_with_a_query_file(tmp_path):
    """From the user's side: clean-two-study with the test query as an AESI, built by the CLI.
    By hand from its README's TEAE table (every Headache, Dizziness and LLT Drowsiness record is a
    TEAE): broad scope — 25 mg 0101 Headache, 0202 Dizziness -> 2; 50 mg 001 Headache, 003
    Dizziness, 005 Drowsiness, 0203 Headache -> 4; placebo 004 Headache -> 1; all tervoxafen 6.
    Narrow scope — 25 mg 0202 -> 1; 50 mg 003, 005 -> 2; placebo 0; all tervoxafen 3."""
    from fileformats.xpt import read_xpt

    config = integration(tmp_path, [
        {"paramcd": "TTENEURO", "name": "Neurological events", "smq": 1, "query": NAME},
        {"paramcd": "TTENEURN", "name": "Neurological events (narrow)", "smq": 2, "query": NAME, "scope": "narrow"}])
    out = tmp_path / "out"
    proc = run_cli("build", str(config), "--out", str(out), "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    adae, _ = read_xpt(out / "m5/datasets/iss/analysis/adam/datasets/adae.xpt")
    named = adae[adae["SMQ01NAM"] == NAME]
    assert sorted(zip(named["AEDECOD"], named["SMQ01SC"], named["SMQ01SCN"])) == sorted(
        [("Headache", "BROAD", 1)] * 4 + [("Dizziness", "NARROW", 2)] * 2 + [("Somnolence", "NARROW", 2)])
    assert set(named["SMQ01CD"]) == {99100001}
    summary = json.loads((out / "report/iss-summary.json").read_text())
    counts = {(e["event"], e["group"]): e["subjects"] for e in summary["events"]}
    groups = ("Tervoxafen 25 mg", "Tervoxafen 50 mg", "Placebo", "All tervoxafen")
    assert [counts[("Neurological events", g)] for g in groups] == [2, 4, 1, 6]
    assert [counts[("Neurological events (narrow)", g)] for g in groups] == [1, 2, 0, 3]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["query_file"]["path"] == "queries.csv"
    define = (out / "m5/datasets/iss/analysis/adam/datasets/define.xml").read_text()
    assert 'OID="MT.SMQSC"' in define and 'CodedValue="NARROW"' in define
    assert "SMQ01NAM 'Neurological events (test query)' (code 99100001, query file queries.csv)" in define


def test_define_methods_write_out_the_config_value_mappings():
    """Issue 17 item 6: every value mapping the ISS config applies is written out in its method, as
    clean-two-study's iss.json gives it: related terms, age groups, groups, each query."""
    from adam.adamspec import compose_adam_spec

    spec = compose_adam_spec(load_iss_config(CORPUS / "clean-two-study/iss.json"))
    text = {m.oid: m.description for m in spec.methods}
    assert text["MT.AREL"].endswith("In this integration the categories counted as related are "
                                    "'POSSIBLY RELATED', 'RELATED' (any case).")
    assert text["MT.AGEGR1"].endswith("In this integration: '18 to <40 years' (AGEGR1N 1): 18 <= AGE < 40; "
                                      "'40 to <65 years' (AGEGR1N 2): 40 <= AGE < 65.")
    assert text["MT.TRTXXA"].endswith("In this integration: 'Tervoxafen 25 mg' (1): EXTRT 'TERVOXAFEN 25 MG'; "
                                      "'Tervoxafen 50 mg' (2): EXTRT 'TERVOXAFEN 50 MG'; 'Placebo' (3): EXTRT "
                                      "'PLACEBO'; 'All tervoxafen' (4): pools 'Tervoxafen 25 mg', 'Tervoxafen 50 mg'.")
    assert text["MT.CQNAM"].endswith(
        "In this integration: CQ01NAM 'Somnolence and sedation': records with PT \"Somnolence\", \"Sedation\", "
        "\"Hypersomnia\"; CQ02NAM 'Hepatic disorders': records with SOC \"Hepatobiliary disorders\"; CQ03NAM "
        "'Deaths': records, fatal (AEOUT = \"FATAL\" or AESDTH = \"Y\").")
