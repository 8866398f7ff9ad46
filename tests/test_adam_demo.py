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
from report.rates import counted_to_first_event
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
    years = adex[adex["PARAMCD"] == "TRTDURY"]
    by_group = years.groupby("TRTA")["AVAL"].sum()
    cream = by_group[list(CREAM_GROUPS)].sum()
    assert round(cream, 2) == HEADLINE["cream_patient_years"] == 509.62
    # "All cream" is the pooled treatment TRTAG1 of the cream records, not records of its own
    assert set(by_group.index) == {"Cream 0.75%", "Cream 1.5%", "Vehicle"}
    assert years.loc[years["TRTAG1"] == "All cream", "AVAL"].sum() == pytest.approx(cream, rel=1e-12)


def test_adex_patient_years_count_each_day_once(built):
    """Summing ADEX TRTDURY gives the exposure (531.18 PY = 255.58 + 254.04 + 21.56 of the three
    groups; with the former duplicated "All cream" records it gave 1,040.8), and no record repeats
    a subject's treatment piece in ADEX or ADAETTE."""
    adsl, adex, tte = (built[2].datasets[n] for n in ("ADSL", "ADEX", "ADAETTE"))
    years = adex[adex["PARAMCD"] == "TRTDURY"]
    assert round(years["AVAL"].sum(), 2) == 531.18
    assert [round(years.loc[years["TRTA"] == g, "AVAL"].sum(), 2) for g in ("Cream 0.75%", "Cream 1.5%", "Vehicle")] \
        == [255.58, 254.04, 21.56]
    assert not adex.duplicated(["USUBJID", "PARAMCD", "APERIOD", "TRTA", "ASTDT"]).any()
    assert not tte.duplicated(["USUBJID", "PARAMCD", "APERIOD", "TRTA", "STARTDT"]).any()
    # the subject's days on treatment: the pieces of a subject without a gap between its treatments
    # add up to ADSL's TRTDURD (first to last dose) — e.g. a vehicle -> cream switcher
    days = adex[adex["PARAMCD"] == "TRTDURD"].groupby("USUBJID")["AVAL"].sum()
    assert (days <= adsl.set_index("USUBJID")["TRTDURD"].reindex(days.index)).all()


def test_vehicle_controlled_pool_eairs(built):
    """Issue 17's reviewer: in the vehicle-controlled pool (period 1 of studies 201 and 301-304,
    ADAETTE records with ANL01FL = "Y"), any TEAE per 100 PY: 187.4 on cream 0.75%, 147.1 on
    cream 1.5%, 151.2 on vehicle, among 269 / 268 / 145 participants."""
    from report.tables import context, event_rates

    analysis = built[2]
    rates = event_rates(analysis, ctx=context(analysis, pool="VC"))
    any_teae = rates[rates["PARAMCD"] == "TTEANY"].set_index("TRTA")
    groups = ["Cream 0.75%", "Cream 1.5%", "Vehicle"]
    assert any_teae.loc[groups, "subjects_at_risk"].tolist() == [269, 268, 145]
    assert [round(v, 1) for v in any_teae.loc[groups, "eair"]] == [187.4, 147.1, 151.2]
    # the pool's records are selected by its record flag, never re-derived
    tte = analysis.datasets["ADAETTE"]
    inside = tte[(tte["ANL01FL"] == "Y") & (tte["PARAMCD"] == "TTEANY")]
    assert any_teae.loc["Vehicle", "patient_years_at_risk"] == pytest.approx(
        inside.loc[inside["TRTA"] == "Vehicle", "AVAL"].sum(), rel=1e-12)


def test_two_serious_infections_on_cream_1_5_neither_related(built):
    adae = built[2].datasets["ADAE"]
    infections = adae[(adae["TRTEMFL"] == "Y") & (adae["CQ01NAM"] == "Serious infections")]
    assert len(infections) == infections["USUBJID"].nunique() == HEADLINE["serious_infections"] == 2
    assert set(infections["TRTA"]) == {HEADLINE["serious_infections_group"]}
    assert (infections["AREL"] == "RELATED").sum() == HEADLINE["serious_infections_related"] == 0
    tte = built[2].datasets["ADAETTE"]
    events = tte[(tte["PARAMCD"] == "TTESINF") & (tte["CNSR"] == 0)]
    assert events.groupby("TRTA").size().to_dict() == {"Cream 1.5%": 2}
    assert events["TRTAG1"].tolist() == ["All cream", "All cream"]


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
        part = tte[tte["PARAMCD"] == event["paramcd"]]
        counted = part[counted_to_first_event(part)]   # a subject's pieces of the group up to its first event
        events = counted[(counted["CNSR"] == 0) & counted["TRTA"].isin(base)]
        assert sorted(zip(first["USUBJID"], first["TRTA"], first["AESEQ"])) == sorted(
            zip(events["USUBJID"], events["TRTA"], events["SRCSEQ"])), event["paramcd"]
    assert len(tte[(tte["PARAMCD"] == "TTEANY") & (tte["CNSR"] == 0)]) > 500   # the demo has events to compare
