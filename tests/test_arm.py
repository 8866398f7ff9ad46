"""ARM 1.0 in the ISS ADaM define: the key safety results (TEAE overview, TEAEs by SOC/PT, EAIR)
added to the minimal study's define are valid against the ARM 1.0 schema for Define-XML 2.1
(odmlib's XSD, no network), every OID they refer to is defined, and the define's own
validation (schema chosen by the ARM namespace, business rules) finds nothing new."""
from __future__ import annotations

import copy

import pytest
from lxml import etree

from define import arm as DA
from define import validate as V
from define._xml import DEF, ODM
from define.writer import build_define, serialize
from report import arm
from tests.test_tables import minimal_analysis

NS = {"odm": ODM, "def": DEF, "arm": DA.ARM}


@pytest.fixture(scope="module")
def defines(tmp_path_factory):
    analysis = minimal_analysis(tmp_path_factory.mktemp("mini-adam"))
    plain = build_define(analysis.spec, analysis.datasets)
    return analysis, plain, arm.add_arm(copy.deepcopy(plain), analysis.iss)


def test_arm_define_is_valid_against_the_arm_schema(defines):
    _, plain, with_arm = defines
    assert DA.arm_errors(with_arm) == []
    assert DA.arm_errors(plain) == []          # ARM is optional in its schema
    assert V.schema_findings(with_arm, None).empty


def test_arm_schema_rejects_a_result_without_reason(defines):
    tree = copy.deepcopy(defines[2])
    result = tree.getroot().find(".//arm:AnalysisResult", NS)
    del result.attrib["AnalysisReason"]
    errors = DA.arm_errors(tree)
    assert len(errors) == 1 and "AnalysisReason" in errors[0]


def test_arm_references_resolve_and_business_rules_hold(defines):
    _, plain, with_arm = defines
    root = with_arm.getroot()
    groups = set(root.xpath("//odm:ItemGroupDef/@OID", namespaces=NS))
    items = set(root.xpath("//odm:ItemDef/@OID", namespaces=NS))
    wheres = set(root.xpath("//def:WhereClauseDef/@OID", namespaces=NS))
    assert set(root.xpath("//arm:AnalysisDataset/@ItemGroupOID", namespaces=NS)) <= groups
    assert set(root.xpath("//arm:AnalysisVariable/@ItemOID", namespaces=NS)) <= items
    assert set(root.xpath("//arm:AnalysisResult/@ParameterOID", namespaces=NS)) <= items
    assert set(root.xpath("//arm:AnalysisDataset/def:WhereClauseRef/@WhereClauseOID", namespaces=NS)) <= wheres
    before = V.business_rules(V._index(V.DefineDoc(plain, DEF, None)))
    after = V.business_rules(V._index(V.DefineDoc(with_arm, DEF, None)))
    assert len(after) == len(before)


def test_arm_holds_the_key_safety_results(defines, tmp_path):
    """The minimal ISS: overview rows whose ADAE variables exist, one SOC/PT result, one EAIR
    result per event with PARAMCD as parameter; the related row selects TRTEMFL = "Y" and
    AREL = "RELATED" by RangeChecks; the file written and read back validates (define.validate)."""
    analysis, _, with_arm = defines
    root = with_arm.getroot()
    displays = root.xpath("//arm:ResultDisplay/@OID", namespaces=NS)
    assert displays == ["RD.teae-overview", "RD.teae-soc-pt", "RD.aesi-eair"]
    eair = root.xpath("//arm:ResultDisplay[@OID='RD.aesi-eair']/arm:AnalysisResult", namespaces=NS)
    assert [r.get("ParameterOID") for r in eair] == ["IT.ADAETTE.PARAMCD"] * len(analysis.iss.events)
    related = root.xpath("//def:WhereClauseDef[@OID='WC.teae-overview_related.ADAE']/odm:RangeCheck",
                         namespaces=NS)
    if related:  # the minimal ADAE has AREL
        assert [(r.get(f"{{{DEF}}}ItemOID"), r.get("Comparator"), r.findtext("odm:CheckValue", namespaces=NS))
                for r in related] == [("IT.ADAE.TRTEMFL", "EQ", "Y"), ("IT.ADAE.AREL", "EQ", "RELATED")]
    path = tmp_path / "define.xml"
    path.write_bytes(serialize(with_arm))
    found = V.validate_define(path)
    assert not (found["rule"] == "DD0004").any(), found
    assert etree.parse(str(path)).getroot().find(".//arm:AnalysisResultDisplays", NS) is not None


def test_demo_iss_define_carries_valid_arm(demo_package):
    """The demo package's ISS ADaM define (written by the CLI) has the three key displays — the
    TEAE overview's rows, one SOC/PT result and one EAIR result per event of interest of the
    demo's ISS config — is valid against the ARM 1.0 schema, and define.validate finds no error."""
    import json

    path = demo_package / "m5" / "datasets" / "iss" / "analysis" / "adam" / "datasets" / "define.xml"
    tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    assert DA.arm_errors(tree) == []
    root = tree.getroot()
    assert root.xpath("//arm:ResultDisplay/@OID", namespaces=NS) == ["RD.teae-overview", "RD.teae-soc-pt",
                                                                     "RD.aesi-eair"]
    iss = json.loads((demo_package / "demo-input" / "iss.json").read_text(encoding="utf-8"))
    eair = root.xpath("//arm:ResultDisplay[@OID='RD.aesi-eair']/arm:AnalysisResult/@OID", namespaces=NS)
    assert eair == [f"AR.aesi-eair_{e['paramcd']}" for e in iss["events"]]
    found = V.validate_define(path)
    assert not (found["severity"] == "error").any(), found


def test_pilot_adam_define_with_arm_is_valid_and_cross_checks_clean(tmp_path):
    """A real, very different ISS (the CDISC pilot, examples/cdiscpilot01) written with its ARM as
    the build writes it: no finding from define.validate (ARM schema, business rules) or from the
    define/data cross-checks, and a result for each overview row whose ADAE variables it has."""
    from tests.conftest import PILOT_SDTM

    if not PILOT_SDTM.is_dir():
        pytest.skip("../shared/data/cdiscpilot01/sdtm is not present")
    from adam.config import load_iss_config
    from tests.test_adam_pilot import PILOT_ISS, derive_adam, pool_sdtm, read_study_sdtm
    from trialpack.commands import define_findings
    from trialpack.writing import write_package_datasets

    iss = load_iss_config(PILOT_ISS)
    analysis = derive_adam(pool_sdtm([read_study_sdtm(c) for c in iss.studies]), iss)
    write_package_datasets(analysis.spec, analysis.datasets, tmp_path, formats=("xpt",), created=iss.created(),
                           study_oid=analysis.spec.study.oid, analysis_results=arm.arm_displays(iss))
    path = tmp_path / "define.xml"
    assert V.validate_define(path).empty
    found = define_findings(path)
    assert found.empty, found.head(10).to_string()
    root = etree.parse(str(path)).getroot()
    assert DA.arm_errors(root.getroottree()) == []
    overview = root.xpath("//arm:ResultDisplay[@OID='RD.teae-overview']/arm:AnalysisResult/@OID", namespaces=NS)
    assert "AR.teae-overview_any" in overview and "AR.teae-overview_serious" in overview


def test_reading_an_arm_define_notes_the_arm_once(defines, tmp_path):
    """define.read_define of a define with ARM: the spec is the one without it, and one notice
    (DD0210) says the result displays and their where clauses were not imported — the ARM's
    where clauses are not reported as unreferenced."""
    from define import read_define

    _, plain, with_arm = defines
    (tmp_path / "plain.xml").write_bytes(serialize(plain))
    (tmp_path / "arm.xml").write_bytes(serialize(with_arm))
    spec0, found0 = read_define(tmp_path / "plain.xml")
    spec1, found1 = read_define(tmp_path / "arm.xml")
    assert [d.name for d in spec1.datasets] == [d.name for d in spec0.datasets]
    assert sorted(found1["rule"]) == sorted([*found0["rule"], "DD0210"])
    notes = set(found1["message"]) - set(found0["message"])
    wheres = len(with_arm.getroot().xpath("//arm:AnalysisDataset/def:WhereClauseRef", namespaces=NS))
    assert notes == {f"3 Analysis Results Metadata display(s) (arm:ResultDisplay) and their {wheres} where "
                     f"clause(s) were not imported: a spec has no analysis results (trialpack writes them from "
                     f"the ISS tables)"}
