"""TS — Trial Summary complete to the FDA-expected parameter set (sdtm.ts), its config keys and
the FDA TS rules, against values worked out by hand from the raw data."""
from __future__ import annotations

import copy
import json
import shutil

import pandas as pd
import pytest

import specs
from sdtm.config import load_study_config
from sdtm.mapping import map_study, read_study_raw
from sdtm.ts import check_trial_summary
from sdtm.tsparams import fda_parameters
from specs import InputError
from tests.minimal_study import CONFIG, write_minimal_study

#: The protocol's TS parameters of the minimal study (the config's ``trial_summary``).
TRIAL_SUMMARY = {
    "TTYPE": ["EFFICACY", "SAFETY"], "INTMODEL": "PARALLEL", "INTTYPE": "DRUG", "TINDTP": "TREATMENT",
    "TBLIND": "DOUBLE BLIND", "TCNTRL": "PLACEBO", "ADDON": "N", "ADAPT": "N", "HLTSUBJI": "N",
    "SEXPOP": "BOTH", "LENGTH": "P18W", "PLANSUB": 6, "REGID": "NCT00000000",
    "INDIC": {"code": "24079001", "code_system": "SNOMED", "version": "2024-09-01"},
    "TDIGRP": {"null_flavor": "NA"}, "OBJPRIM": "Efficacy at week 4", "STOPRULE": "Sponsor decision",
    "PCLAS": {"value": "Janus Kinase Inhibitor", "code": "N0000000000", "code_system": "MED-RT"},
    "DCUTDESC": "Final analysis",
}


def mini(tmp_path, **changes):
    path = write_minimal_study(tmp_path)
    data = copy.deepcopy(CONFIG)
    data.update(changes)
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return load_study_config(path)


def build(config, cutoff="2021-12-31"):
    return map_study(config, read_study_raw(config), data_cutoff=cutoff).datasets["TS"]


def values(ts: pd.DataFrame, code: str, column: str = "TSVAL") -> list:
    got = ts.loc[ts["TSPARMCD"] == code].sort_values("TSSEQ")[column]
    return [None if pd.isna(v) or v == "" else v for v in got]   # XPT holds a null text as blank


@pytest.fixture(scope="module")
def full_study(tmp_path_factory):
    """The minimal study with every protocol parameter in its config."""
    config = mini(tmp_path_factory.mktemp("ts-full"), indication="Atopic dermatitis", sponsor="Topaz (fictional)",
                  trial_summary=TRIAL_SUMMARY, treatments={
                      **CONFIG["treatments"], "TPZ15": {**CONFIG["treatments"]["TPZ15"], "unii": "TPZ0000150"}})
    return map_study(config, read_study_raw(config), data_cutoff="2021-12-31")


@pytest.fixture(scope="module")
def full(full_study):
    return full_study.datasets["TS"]


@pytest.fixture(scope="module")
def bare(tmp_path_factory):
    """The minimal study as it is: no trial_summary (an older config)."""
    return build(load_study_config(write_minimal_study(tmp_path_factory.mktemp("ts-bare"))), cutoff=None)


def test_derived_parameters_are_the_hand_computed_ones(full):
    """tests/minimal_study.py by hand: consents 2021-02-20 (001) .. 2021-03-01; last contact
    2021-06-30 (001's DS and last dose); 6 of 7 subjects randomised (003 a screen failure);
    ages at consent of the randomised with a complete birth date: 001 8, 005-007 12 (002 and 004
    have partial birth dates); two planned arms; one country; the build's data cut-off."""
    expected = {"SSTDTC": "2021-02-20", "SENDTC": "2021-06-30", "ACTSUB": "6", "AGEMIN": "P8Y", "AGEMAX": "P12Y",
                "NARMS": "2", "DCUTDTC": "2021-12-31", "SDTIGVER": "3.4", "SDTMVER": "2.0", "EXTTIND": "N",
                "RANDOM": "Y"}   # two arms, randomized left out: a randomised study
    assert {code: values(full, code) for code in expected} == {code: [v] for code, v in expected.items()}
    assert values(full, "FCNTRY") == ["USA"] and values(full, "FCNTRY", "TSVALCD") == ["USA"]
    assert values(full, "FCNTRY", "TSVCDREF") == ["ISO 3166"]


def test_every_fda_expected_parameter_is_there_with_its_codes(full):
    fda = fda_parameters()
    present = set(full["TSPARMCD"])
    assert set(fda["expected"]["parameters"]) | set(fda["if_applicable"]["parameters"]) <= present
    coded = full.set_index(["TSPARMCD", "TSSEQ"])
    assert tuple(coded.loc[("INDIC", 1), ["TSVAL", "TSVALCD", "TSVCDREF", "TSVCDVER"]]) == (
        "Atopic dermatitis", "24079001", "SNOMED", "2024-09-01")
    assert tuple(coded.loc[("TRT", 1), ["TSVAL", "TSVALCD", "TSVCDREF"]]) == (
        "TOPAZITINIB CREAM 1.5%", "TPZ0000150", "UNII")
    assert tuple(coded.loc[("PCLAS", 1), ["TSVALCD", "TSVCDREF"]]) == ("N0000000000", "MED-RT")
    # CDISC CT terms: the C-codes of the SDTM CT 2025-03-28 file
    assert values(full, "TBLIND", "TSVALCD") == ["C15228"] and values(full, "INTMODEL", "TSVALCD") == ["C82639"]
    assert values(full, "TTYPE", "TSVALCD") == ["C49666", "C49667"] and values(full, "RANDOM", "TSVALCD") == ["C49488"]
    assert (values(full, "TBLIND", "TSVCDREF"), values(full, "TBLIND", "TSVCDVER")) == (["CDISC CT"], ["2025-03-28"])
    # not applicable: no comparator drug code for the vehicle, CURTRT as ADDON is N, TDIGRP as given
    assert values(full, "COMPTRT") == ["VEHICLE CREAM"] and values(full, "COMPTRT", "TSVALCD") == [None]
    assert (values(full, "CURTRT"), values(full, "CURTRT", "TSVALNF")) == ([None], ["NA"])
    assert values(full, "TDIGRP", "TSVALNF") == ["NA"]
    assert values(full, "AGEMIN", "TSPARM") == ["Planned Minimum Age of Subjects"]
    assert check_trial_summary(full).empty


def test_a_config_without_the_new_keys_builds_and_each_gap_is_a_finding(bare):
    """No trial_summary, no indication, no sponsor: TS holds what the data and the design give;
    the FDA-expected parameters it cannot give are one TP0401, and STYPE's default
    INTERVENTIONAL without INTMODEL/INTTYPE/PCLAS is CORE-000741."""
    assert values(bare, "SSTDTC") == ["2021-02-20"] and values(bare, "STYPE") == ["INTERVENTIONAL"]
    assert "DCUTDTC" not in set(bare["TSPARMCD"])     # no data cut-off: no cut-off date
    found = check_trial_summary(bare)
    assert sorted(found["rule"]) == ["CORE-000741", "TP0401"]
    missing = found.loc[found.rule == "TP0401", "value"].iloc[0].split(", ")
    assert missing == ["ADAPT", "ADDON", "CURTRT", "DCUTDESC", "DCUTDTC", "HLTSUBJI", "INDIC", "INTMODEL", "INTTYPE",
                       "LENGTH", "OBJPRIM", "PCLAS", "PLANSUB", "REGID", "SEXPOP", "SPONSOR", "STOPRULE",
                       "TBLIND", "TCNTRL", "TDIGRP", "TINDTP", "TTYPE"]
    assert found.loc[found.rule == "CORE-000741", "value"].iloc[0] == "INTMODEL, INTTYPE, PCLAS"
    assert set(found["severity"]) == {"warning"}


# -- each rule on a small broken TS ------------------------------------------------------------------

def broken(ts: pd.DataFrame, code: str, **changes) -> pd.DataFrame:
    out = ts.copy()
    for column, value in changes.items():
        out.loc[out["TSPARMCD"] == code, column] = value
    return out


def test_tp0401_a_missing_expected_parameter(full):
    found = check_trial_summary(full[full["TSPARMCD"] != "REGID"])
    assert list(zip(found["rule"], found["value"])) == [("TP0401", "REGID")]


def test_core_000741_interventional_without_intervention_model(full):
    found = check_trial_summary(broken(full, "INTMODEL", TSVAL=None, TSVALNF="NI", TSVALCD=None, TSVCDREF=None,
                                       TSVCDVER=None))
    assert list(zip(found["rule"], found["value"])) == [("CORE-000741", "INTMODEL")]


def test_tp0402_a_code_without_its_code_system(full):
    ts = broken(full, "PCLAS", TSVCDREF=None)
    found = check_trial_summary(ts)
    row = int(ts.index[ts["TSPARMCD"] == "PCLAS"][0]) + 1
    assert list(zip(found["rule"], found["row"], found["value"])) == [("TP0402", row, "N0000000000")]


def test_tp0403_both_or_neither_of_tsval_and_tsvalnf(full):
    ts = broken(broken(full, "CURTRT", TSVALNF=None), "SEXPOP", TSVALNF="NA")
    found = check_trial_summary(ts)
    assert sorted(zip(found["rule"], found["value"])) == [("TP0403", "CURTRT"), ("TP0403", "SEXPOP")]


def test_a_value_not_in_its_codelist_is_the_value_level_codelist_check(full_study, full):
    """TSVAL of STYPE (non-extensible STYPE codelist) and TBLIND (extensible) outside their
    codelists: TP0009 and TP0010 on their rows, from the spec's value-level metadata."""
    spec = full_study.spec
    assert not [f for f in full_study.findings.itertuples() if f.dataset == "TS"]
    ts = broken(broken(full, "STYPE", TSVAL="INTERVENTION"), "TBLIND", TSVAL="TRIPLE BLIND")
    found = specs.check(ts.reset_index(drop=True), spec.dataset("TS"), spec)
    rows = {code: int(ts.index[ts["TSPARMCD"] == code][0]) + 1 for code in ("STYPE", "TBLIND")}
    assert sorted(zip(found["rule"], found["row"], found["value"])) == [
        ("TP0009", rows["STYPE"], "INTERVENTION"), ("TP0010", rows["TBLIND"], "TRIPLE BLIND")]


# -- bad config input ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("changes", "path", "fragment"), [
    ({"trial_summary": {"SEXPOP": "MALE"}}, "$.trial_summary.SEXPOP", "not a term of Sex of Participants"),
    ({"trial_summary": {"ADDON": ["N", "NO"]}}, "$.trial_summary.ADDON[1]", "'NO'"),
    ({"phase": "PHASE 3"}, "$.phase", "TPHASE"),
    ({"trial_summary": {"REGID": {"value": "NCT1", "code": "NCT1"}}}, "$.trial_summary.REGID", "code_system"),
    ({"trial_summary": {"PCLAS": {"value": "X", "code": "N1", "code_system": "NDF RT"}}},
     "$.trial_summary.PCLAS.code_system", "DICTNAM"),
    ({"trial_summary": {"TBLIND": {"value": "OPEN LABEL", "code": "C49659", "code_system": "CDISC CT"}}},
     "$.trial_summary.TBLIND.code", "looked up"),
    ({"indication": "AD", "trial_summary": {"INDIC": "Eczema"}}, "$.trial_summary.INDIC", "code only"),
    ({"trial_summary": {"ACTSUB": 6}}, "$.trial_summary", "ACTSUB"),
    ({"trial_summary": {"RANDOM": "Y"}}, "$.trial_summary", "RANDOM"),   # derived from the study's randomized
])
def test_bad_trial_summary_config_is_refused_naming_file_and_path(tmp_path, changes, path, fragment):
    with pytest.raises(InputError) as err:
        mini(tmp_path, **changes)
    message = str(err.value)
    assert "mini-01.json" in message and path in message and fragment in message, message


# -- the demo and the corpus ------------------------------------------------------------------------

def demo_ts(package, study):
    from fileformats.xpt import read_xpt

    return read_xpt(package / "m5" / "datasets" / study / "tabulations" / "sdtm" / "ts.xpt")[0]


def test_demo_ts_derives_from_the_raw_data(demo_package):
    """TPZ-AD-301 from its raw exports (demo-input/raw/tpz-ad-301), worked out with pandas apart:
    152 distinct DM rows (one exact duplicate row dropped), 11 without a randomised arm (screen
    failures): 141 entered; the earliest IC_DAT 06 APR 2021; the latest date of any record
    (DSSTDAT) 16 APR 2023; completed years from BRTHDAT to IC_DAT of the entered subjects 2..17;
    sites 1xx-4xx in USA, CAN, DEU, POL; the config's four arms; the ISS cut-off 2023-12-31."""
    ts = demo_ts(demo_package, "tpz-ad-301")
    expected = {"SSTDTC": "2021-04-06", "SENDTC": "2023-04-16", "ACTSUB": "141", "AGEMIN": "P2Y", "AGEMAX": "P17Y",
                "NARMS": "4", "DCUTDTC": "2023-12-31", "SDTIGVER": "3.4", "SDTMVER": "2.0", "STYPE": "INTERVENTIONAL"}
    assert {code: values(ts, code) for code in expected} == {code: [v] for code, v in expected.items()}
    assert values(ts, "FCNTRY") == ["CAN", "DEU", "POL", "USA"]
    assert values(ts, "INDIC", "TSVALCD") == ["24079001"] and values(ts, "INDIC", "TSVCDREF") == ["SNOMED"]
    assert values(ts, "TRT") == ["TOPAZITINIB CREAM 0.75%", "TOPAZITINIB CREAM 1.5%"]
    assert values(ts, "TRT", "TSVCDREF") == ["UNII", "UNII"] and values(ts, "COMPTRT") == ["VEHICLE CREAM"]
    fda = fda_parameters()
    assert set(fda["expected"]["parameters"]) | set(fda["if_applicable"]["parameters"]) <= set(ts["TSPARMCD"])
    phase1 = demo_ts(demo_package, "tpz-ad-101")
    assert (values(phase1, "COMPTRT"), values(phase1, "COMPTRT", "TSVALNF")) == ([None], ["NA"])
    assert values(phase1, "NARMS") == ["1"] and values(phase1, "INTMODEL") == ["SINGLE GROUP"]
    findings = json.loads((demo_package / "validation" / "findings.json").read_text())["findings"]
    assert not [f for f in findings if f["dataset"] == "TS"]


def test_demo_define_describes_each_ts_parameter(demo_package):
    from lxml import etree

    define = etree.parse(str(demo_package / "m5/datasets/tpz-ad-301/tabulations/sdtm/define.xml"))
    ns = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1"}
    refs = define.xpath("//def:ValueListDef[@OID='VL.TS.TSVAL']/odm:ItemRef/@ItemOID", namespaces=ns)
    assert {r.removeprefix("IT.TS.TSVAL.") for r in refs} >= {"AGEMIN", "FCNTRY", "INTMODEL", "PCLAS", "SENDTC"}


def test_validate_finds_core_000741_in_a_package_without_intmodel(demo_package, tmp_path):
    """The small broken package: the demo's TS of TPZ-AD-101 without its INTMODEL record,
    re-validated by `trialpack validate`."""
    from fileformats.xpt import read_xpt, write_xpt
    from tests.cli_support import run_cli

    package = tmp_path / "package"
    shutil.copytree(demo_package, package)
    path = package / "m5/datasets/tpz-ad-101/tabulations/sdtm/ts.xpt"
    ts, meta = read_xpt(path)
    write_xpt(ts[ts["TSPARMCD"] != "INTMODEL"].reset_index(drop=True), path, name="TS", label=meta.label)
    proc = run_cli("validate", str(package), "--quiet", cwd=tmp_path)
    found = json.loads((package / "validation" / "findings.json").read_text())["findings"]
    ts_rules = sorted((f["rule"], f["value"]) for f in found if f["dataset"] == "TS" and f["rule"] != "DD0112")
    assert ("CORE-000741", "INTMODEL") in ts_rules and ("TP0401", "INTMODEL") in ts_rules, proc.stdout


def test_a_corpus_integration_builds_with_and_without_the_trial_summary_keys(tmp_path):
    """clean-two-study as it is (every TS key given) and with ``trial_summary`` taken out of both
    study configs: both build (exit 0, no error); with the keys TS has no finding, without them
    each study has one TP0401 and one CORE-000741 warning. Derived values from its README: 8 and
    6 subjects, sites in USA/CAN and DEU/GBR, two arms each; 202 has no placebo (COMPTRT NA)."""
    from fileformats.xpt import read_xpt
    from tests.cli_support import run_cli
    from tests.test_integrations import CORPUS

    results = {}
    for keys in (True, False):
        case = tmp_path / f"keys-{keys}"
        shutil.copytree(CORPUS / "clean-two-study", case)
        for path in (case / "studies").glob("*.json"):
            data = json.loads(path.read_text(encoding="utf-8"))
            assert "trial_summary" in data
            if not keys:
                del data["trial_summary"]
                path.write_text(json.dumps(data, indent=1), encoding="utf-8")
        proc = run_cli("build", "iss.json", "--out", str(case / "package"), "--quiet", cwd=case)
        assert proc.returncode == 0, proc.stderr
        found = json.loads((case / "package/validation/findings.json").read_text())
        results[keys] = (found["counts"], sorted((f["rule"], f["file"]) for f in found["findings"]), case / "package")
    assert results[True][0] == {"error": 0, "warning": 0, "notice": 0}
    assert results[False][0] == {"error": 0, "warning": 4, "notice": 0}
    assert [rule for rule, _ in results[False][1]] == ["CORE-000741", "CORE-000741", "TP0401", "TP0401"]
    sdtm = results[True][2] / "m5/datasets"
    ts201 = read_xpt(sdtm / "tvx-mig-201/tabulations/sdtm/ts.xpt")[0]
    ts202 = read_xpt(sdtm / "tvx-mig-202/tabulations/sdtm/ts.xpt")[0]
    assert (values(ts201, "ACTSUB"), values(ts202, "ACTSUB")) == (["8"], ["6"])
    assert (values(ts201, "FCNTRY"), values(ts202, "FCNTRY")) == (["CAN", "USA"], ["DEU", "GBR"])
    assert (values(ts201, "NARMS"), values(ts202, "NARMS")) == (["2"], ["2"])
    assert (values(ts201, "COMPTRT"), values(ts202, "COMPTRT", "TSVALNF")) == (["PLACEBO"], ["NA"])
    assert values(ts201, "INDIC", "TSVALCD") == ["37796009"] and values(ts202, "TCNTRL") == ["DOSE RESPONSE"]
