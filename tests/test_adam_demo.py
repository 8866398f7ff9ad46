"""The demo integration through SDTM to ADaM: ADSL, ADAE, ADEX and ADAETTE conform to the ISS ADaM spec
(specs.check, no error-level finding) and the headline numbers the programme is specified by
(trialpack.demo.DEMO_HEADLINE: 767 participants, 509.62 patient-years on cream, two serious
infections on cream 1.5% and neither related, no MACE, thromboembolic event, malignancy or death)
come out of the ADaM datasets themselves."""
from __future__ import annotations

import numpy as np
import pytest

import specs
from adam.adae import matches_event
from adam.adamspec import compose_adam_spec
from adam.build import derive_adam, pool_sdtm
from adam.config import load_iss_config
from sdtm.mapping import map_study, read_study_raw
from trialpack import demo

HEADLINE = demo.DEMO_HEADLINE
CREAM_GROUPS = ("Cream 0.75%", "Cream 1.5%")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    iss = load_iss_config(demo.generate(tmp_path_factory.mktemp("demo")))
    studies = [map_study(c, read_study_raw(c)) for c in iss.studies]
    sdtm = pool_sdtm([s.datasets for s in studies])
    return iss, sdtm, derive_adam(sdtm, iss)


@pytest.mark.parametrize("name", ["ADSL", "ADAE", "ADEX", "ADAETTE"])
def test_datasets_pass_the_spec_check(built, name):
    iss, _, analysis = built
    spec = compose_adam_spec(iss)   # the whole ISS spec, before unused variables are dropped
    found = specs.check(analysis.datasets[name], spec.dataset(name), spec)
    errors = found[found["severity"] == "error"]
    assert errors.empty, errors.head(10).to_string()


def test_no_error_level_findings_in_the_build(built):
    findings = built[2].findings
    assert not (findings["severity"] == "error").any(), findings.head(10).to_string()


def test_participants(built):
    adsl = built[2].datasets["ADSL"]
    safety = adsl[adsl["SAFFL"] == "Y"]
    assert len(safety) == HEADLINE["participants"] == 767
    assert safety.groupby("STUDYID").size().to_dict() == HEADLINE["participants_per_study"]
    assert adsl["STUDYID"].nunique() == HEADLINE["studies"] == 8
    assert (safety["AGE"].min(), safety["AGE"].max()) == HEADLINE["age_range"] == (2, 17)
    assert adsl["USUBJID"].is_unique


def test_cream_patient_years(built):
    adex = built[2].datasets["ADEX"]
    years = adex[adex["PARAMCD"] == "TRTDURY"].groupby("TRTA")["AVAL"].sum()
    cream = years[list(CREAM_GROUPS)].sum()
    assert round(cream, 2) == HEADLINE["cream_patient_years"] == 509.62
    assert years["All cream"] == pytest.approx(cream, rel=1e-12)   # the pool sums its groups


def test_two_serious_infections_on_cream_1_5_neither_related(built):
    adae = built[2].datasets["ADAE"]
    infections = adae[(adae["TRTEMFL"] == "Y") & (adae["CQ01NAM"] == "Serious infections")]
    assert len(infections) == infections["USUBJID"].nunique() == HEADLINE["serious_infections"] == 2
    assert set(infections["TRTA"]) == {HEADLINE["serious_infections_group"]}
    assert (infections["AREL"] == "RELATED").sum() == HEADLINE["serious_infections_related"] == 0
    tte = built[2].datasets["ADAETTE"]
    events = tte[(tte["PARAMCD"] == "TTESINF") & (tte["CNSR"] == 0)]
    assert events.groupby("TRTA").size().to_dict() == {"All cream": 2, "Cream 1.5%": 2}


@pytest.mark.parametrize("query, key", [("CQ02NAM", "mace"), ("SMQ01NAM", "thromboembolic"),
                                        ("SMQ02NAM", "malignancies")])
def test_no_events_of_special_interest(built, query, key):
    adae = built[2].datasets["ADAE"]
    assert ((adae["TRTEMFL"] == "Y") & adae[query].notna()).sum() == HEADLINE[key] == 0


def test_no_fatal_adverse_events(built):
    # deaths are counted from the AE outcome and ADSL (test_no_deaths), not as a query
    adae = built[2].datasets["ADAE"]
    fatal = (adae["AEOUT"] == "FATAL") | (adae.get("AESDTH") == "Y")
    assert fatal.sum() == HEADLINE["deaths"] == 0
    assert not [c for c in adae.columns if c.startswith("CQ05")]


def test_no_deaths(built):
    adsl = built[2].datasets["ADSL"]
    assert (adsl["DTHFL"] == "Y").sum() == HEADLINE["deaths"] == 0


def test_every_ae_record_is_analysed_or_reported(built):
    _, sdtm, analysis = built
    reported = (analysis.findings["rule"] == "TP0201").sum()
    assert len(analysis.datasets["ADAE"]) + reported == len(sdtm["AE"])


def test_treatment_emergent_events_are_the_adaette_events(built):
    # one treatment-emergent window for both (adam.periods.emergence_windows): for every event of interest
    # and treatment group, the subjects' first TRTEMFL = "Y" AE meeting the event's definition (a missing
    # start first: it counts at the window's start) are exactly ADAETTE's events, record for record
    iss, _, analysis = built
    adae, tte = analysis.datasets["ADAE"], analysis.datasets["ADAETTE"]
    base = [g.label for g in iss.base_groups]
    for event in iss.events:
        hits = adae[matches_event(adae, event) & (adae["TRTEMFL"] == "Y")]
        hits = hits.assign(_S=hits["ASTDT"].astype("datetime64[s]").astype("int64").where(hits["ASTDT"].notna(),
                                                                                         np.iinfo("int64").min))
        first = hits.sort_values(["USUBJID", "TRTA", "_S", "AESEQ"]).drop_duplicates(["USUBJID", "TRTA"])
        events = tte[(tte["PARAMCD"] == event["paramcd"]) & (tte["CNSR"] == 0) & tte["TRTA"].isin(base)]
        assert sorted(zip(first["USUBJID"], first["TRTA"], first["AESEQ"])) == sorted(
            zip(events["USUBJID"], events["TRTA"], events["SRCSEQ"])), event["paramcd"]
    assert len(tte[(tte["PARAMCD"] == "TTEANY") & (tte["CNSR"] == 0)]) > 500   # the demo has events to compare
