"""The standard specs shipped in ``specs/standard/``.

Two kinds of checks:

* internal consistency of each package (every file is exactly the model's JSON form, every
  OID reference resolves and every definition is used, names/labels obey the XPT v5 and FDA
  limits, keys and order are sound, origins follow Define-XML 2.1), plus known answers taken
  from SDTMIG 3.4 / ADaMIG 1.3 / NCI CT (standards.md section 3.1);
* a cross-check against the CDISC files in ``../shared/data`` (skipped where it is absent):
  labels, types, core, roles and order against the IG CSVs (ADaM placeholder-aware), codelists
  against the NCI CT files, and a byte-for-byte rebuild with ``tools/build_standard_specs.py``.
"""
from __future__ import annotations

import csv
import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

from specs.errors import InputError
from specs.model import (
    CORE_VALUES, DATA_TYPES, NUMERIC_TYPES, ORIGIN_TYPES, Codelist, Comment, DatasetSpec,
    Method, Spec, Standard, ValueLevel, WhereClause,
)

ROOT = Path(__file__).resolve().parents[1]
STANDARD = ROOT / "specs" / "standard"
SHARED = ROOT.parent / "shared" / "data"
GENERATOR = ROOT / "tools" / "build_standard_specs.py"

PACKAGE_FILES = {
    "sdtmig-3.4": {"standards.json", "dm.json", "ae.json", "ex.json", "ds.json", "ts.json", "suppdm.json",
                   "suppae.json", "codelists.json", "methods.json", "comments.json"},
    "adamig-1.3": {"standards.json", "adsl.json", "adae.json", "adex.json", "adaette.json",
                   "codelists.json", "methods.json", "comments.json"},
}
LIST_CLASSES = {
    "standards": Standard, "datasets": DatasetSpec, "codelists": Codelist, "value_level": ValueLevel,
    "where_clauses": WhereClause, "methods": Method, "comments": Comment,
}
SPEC_KEYS = {"study", "documents", *LIST_CLASSES}
#: Define-XML 2.1 def:Class names (define-enumerations.xsd / Define-XML CT "General Observation Class").
SDTM_CLASSES = {"SPECIAL PURPOSE", "EVENTS", "INTERVENTIONS", "RELATIONSHIP", "TRIAL DESIGN"}
ADAM_CLASSES = {"SUBJECT LEVEL ANALYSIS DATASET", "BASIC DATA STRUCTURE", "OCCURRENCE DATA STRUCTURE"}
ISO_DATE_TYPES = set(DATA_TYPES) - NUMERIC_TYPES - {"text"}
ORIGIN_SOURCES = {"Investigator", "Sponsor", "Subject", "Vendor"}
#: Documented departures from the IG CSVs (each reasoned in tools/standard_selection.json).
LABEL_OVERRIDES = {("ADAE", "AOCCFL"): "1st Occurrence within Subject Flag",
                   ("ADAE", "AOCC01FL"): "1st Occurrence within Subj x Trt Flag",   # AOCCzzFL: '1st Occurrence of ....'
                   ("ADAE", "AOCC02FL"): "1st Occ of SOC within Subj x Trt Flag",
                   ("ADAE", "AOCC03FL"): "1st Occ of PT within Subj x Trt Flag"}
CORE_OVERRIDES = {("ADSL", "TRT02P"): "Cond"}
SPONSOR_VARIABLES = {("ADEX", "AVALU"), ("ADAETTE", "AVALU")}
#: Variables whose origin lives at value level only.
VALUE_LEVEL_ORIGIN = {("SUPPDM", "QVAL"), ("SUPPAE", "QVAL"), ("TS", "TSVAL"), ("ADEX", "AVAL"), ("DS", "DSDECOD")}
#: Code lists decoded by the name list of the same C-codes (TSPARMCD by TSPARM), not by NCI preferred terms.
PAIRED_DECODES = {"C66738": "C67152"}

needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is not present")


# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------
def read_files(directory: str) -> dict[str, dict]:
    return {p.name: json.loads(p.read_text(encoding="ascii")) for p in sorted((STANDARD / directory).glob("*.json"))}


def merge(files: dict[str, dict]) -> Spec:
    """Spec of a package directory: the files' lists concatenated (as the loader merges them)."""
    merged: dict[str, list] = {}
    for content in files.values():
        for key, items in content.items():
            merged.setdefault(key, []).extend(items)
    return Spec.from_dict(merged)


@pytest.fixture(scope="module")
def packages() -> dict[str, Spec]:
    return {directory: merge(read_files(directory)) for directory in PACKAGE_FILES}


@pytest.fixture(scope="module")
def sdtm(packages) -> Spec:
    return packages["sdtmig-3.4"]


@pytest.fixture(scope="module")
def adam(packages) -> Spec:
    return packages["adamig-1.3"]


def all_datasets(packages):
    return [(d, ds) for d, spec in packages.items() for ds in spec.datasets]


# --------------------------------------------------------------------------------------
# File form
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("directory", sorted(PACKAGE_FILES))
def test_each_package_holds_exactly_its_files(directory):
    assert {p.name for p in (STANDARD / directory).iterdir()} == PACKAGE_FILES[directory]


@pytest.mark.parametrize("directory", sorted(PACKAGE_FILES))
def test_files_are_deterministic_ascii_json_in_model_form(directory):
    for path in sorted((STANDARD / directory).glob("*.json")):
        text = path.read_text(encoding="ascii")
        content = json.loads(text)
        assert text == json.dumps(content, indent=1, ensure_ascii=True) + "\n", path.name
        assert set(content) <= SPEC_KEYS, path.name
        for key, items in content.items():
            assert [LIST_CLASSES[key].from_dict(item).to_dict() for item in items] == items, (path.name, key)


@pytest.mark.parametrize("directory", sorted(PACKAGE_FILES))
def test_identifiers_are_unique_across_the_package(directory):
    spec = merge(read_files(directory))
    for items, attr in [(spec.datasets, "name"), (spec.codelists, "oid"), (spec.codelists, "name"),
                        (spec.methods, "oid"), (spec.comments, "oid"), (spec.where_clauses, "oid"),
                        (spec.standards, "oid")]:
        values = [getattr(item, attr) for item in items]
        assert len(values) == len(set(values)), (attr, values)


# --------------------------------------------------------------------------------------
# Internal consistency
# --------------------------------------------------------------------------------------
def test_every_reference_resolves(packages):
    for spec in packages.values():
        standards = {s.oid: s for s in spec.standards}
        for ds, var in spec.iter_variables():
            for ref, lookup in [(var.codelist, spec.codelist), (var.method, spec.method), (var.comment, spec.comment)]:
                if ref:
                    lookup(ref)
            assert standards[ds.standard].type == "IG", ds.name
        for row in spec.value_level:
            assert row.variable in spec.dataset(row.dataset), row
            spec.where_clause(row.where_clause)
            for ref, lookup in [(row.codelist, spec.codelist), (row.method, spec.method), (row.comment, spec.comment)]:
                if ref:
                    lookup(ref)
        for clause in spec.where_clauses:
            for check in clause.checks:
                assert check.variable in spec.dataset(check.dataset), check
        for codelist in spec.codelists:
            if codelist.standard:
                assert standards[codelist.standard].type == "CT", codelist.oid


def library_codelists(directory: str, kind: str = "codelists") -> set[str]:
    """Codelists (comments) a package ships for study specs although its datasets do not use them."""
    selection = json.loads((ROOT / "tools" / "standard_selection.json").read_text(encoding="utf-8"))
    package = next(p for p in selection["packages"] if p["directory"] == directory)
    return set(package.get(f"library_{kind}", {}))


def test_every_definition_is_used(packages):
    assert library_codelists("adamig-1.3") == {"CL.DTYPE"} and not library_codelists("sdtmig-3.4")
    # the comment sdtm.studyspec.declare_not_collected gives an Expected variable a study does not collect
    assert library_codelists("sdtmig-3.4", "comments") == {"COM.NOTCOLLECTED"}
    for directory, spec in packages.items():
        rows = [var for _, var in spec.iter_variables()] + list(spec.value_level)
        used = {r.codelist for r in rows if r.codelist}
        assert {c.oid for c in spec.codelists} == used | library_codelists(directory)
        assert not used & library_codelists(directory)
        assert {m.oid for m in spec.methods} == {r.method for r in rows if r.method}
        assert {c.oid for c in spec.comments} == {r.comment for r in rows if r.comment} | library_codelists(
            directory, "comments")
        assert {w.oid for w in spec.where_clauses} == {r.where_clause for r in spec.value_level}
        assert {s.oid for s in spec.standards} == (
            {d.standard for d in spec.datasets} | {c.standard for c in spec.codelists if c.standard})


def test_names_and_labels_fit_xpt_v5_and_fda_rules(packages):
    for _, ds in all_datasets(packages):
        assert re.fullmatch(r"[A-Z][A-Z0-9]{0,7}", ds.name)
        for label in [ds.label] + [v.label for v in ds.variables]:
            assert label and label.isascii() and len(label.encode("ascii")) <= 40, label
            assert label.count("(") == label.count(")") and label.count("'") % 2 == 0, label
        for var in ds.variables:
            assert re.fullmatch(r"[A-Z][A-Z0-9_]{0,7}", var.name), var.name
    for spec in packages.values():
        for row in spec.value_level:
            assert row.label and row.label.isascii() and len(row.label) <= 40, row


def test_order_is_1_to_n_and_keys_are_variables(packages):
    for _, ds in all_datasets(packages):
        assert [v.order for v in ds.variables] == list(range(1, len(ds.variables) + 1)), ds.name
        assert len(set(ds.names)) == len(ds.names), ds.name
        assert ds.keys and set(ds.keys) <= set(ds.names) and len(set(ds.keys)) == len(ds.keys), ds.name
        assert ds.keys[0] == "STUDYID", ds.name


def test_dataset_level_metadata(packages):
    for directory, ds in all_datasets(packages):
        sdtm = directory.startswith("sdtmig")
        assert ds.purpose == ("Tabulation" if sdtm else "Analysis")
        assert ds.repeating is (ds.name not in ("DM", "ADSL", "TS"))
        assert ds.reference_data is (ds.name == "TS")
        assert ds.class_ in (SDTM_CLASSES if sdtm else ADAM_CLASSES), ds.name
        assert (ds.domain is not None) is sdtm, ds.name
        assert ds.structure, ds.name
        assert all((v.role is not None) is sdtm for v in ds.variables), ds.name
        assert all(v.core in CORE_VALUES or (not sdtm and v.core is None) for v in ds.variables), ds.name


def test_origins_follow_define_xml(packages):
    sdtm = packages["sdtmig-3.4"]
    for directory, ds in all_datasets(packages):
        spec = packages[directory]
        for var in ds.variables:
            where = f"{ds.name}.{var.name}"
            if var.origin_type is None:
                assert (ds.name, var.name) in VALUE_LEVEL_ORIGIN, where
                assert not var.method, where
                if directory != "sdtmig-3.4" or ds.name in ("TS", "DS"):  # SUPP-- value level comes with the study
                    assert spec.value_levels(ds.name, var.name), where
                continue
            assert var.origin_type in ORIGIN_TYPES, where
            assert (var.origin_type == "Derived") == (var.method is not None), where
            if var.origin_type == "Predecessor":
                assert var.origin_source is None, where
                source_ds, _, source_var = var.origin_description.partition(".")
                owner = spec if source_ds in [d.name for d in spec.datasets] else sdtm
                source = owner.dataset(source_ds).variable(source_var)
                assert (source.data_type, source.display_format) == (var.data_type, var.display_format), where
                if source.name == var.name:
                    assert source.label == var.label, where
            else:
                assert var.origin_source in ORIGIN_SOURCES, where
            if not directory.startswith("sdtmig"):
                assert var.origin_type not in ("Collected", "Protocol"), where
    for spec in packages.values():
        for row in spec.value_level:
            assert row.origin_type in ORIGIN_TYPES and row.origin_source in ORIGIN_SOURCES, row
            assert (row.origin_type == "Derived") == (row.method is not None), row
            assert spec.dataset(row.dataset).variable(row.variable).origin_type is None, row


def test_data_types_and_formats(packages):
    for directory, ds in all_datasets(packages):
        spec = packages[directory]
        for var in ds.variables:
            where = f"{ds.name}.{var.name}"
            assert var.data_type in DATA_TYPES, where
            if var.data_type in ISO_DATE_TYPES:
                assert var.codelist is None and var.length is None, where
                assert var.name.endswith(("DUR", "ELTM") if var.data_type == "durationDatetime" else ("DTC",)), where
            is_adam_date = not directory.startswith("sdtmig") and var.name.endswith("DT")
            assert (var.display_format == "DATE9.") is is_adam_date, where
            if is_adam_date:
                assert var.data_type == "integer", where
            if var.codelist:
                assert spec.codelist(var.codelist).data_type == ("text" if var.data_type not in NUMERIC_TYPES
                                                                  else var.data_type), where
        for row in spec.value_level:
            assert row.data_type in DATA_TYPES and not (row.data_type in ISO_DATE_TYPES and row.codelist), row


def test_codelist_shapes(packages):
    for spec in packages.values():
        for cl in spec.codelists:
            if cl.is_external:
                assert cl.version and not cl.items and cl.code is None and cl.standard is None, cl.oid
            elif cl.code:
                assert cl.standard and cl.items and all(re.fullmatch(r"C\d+", i.code) for i in cl.items), cl.oid
                assert re.fullmatch(r"C\d+", cl.code), cl.oid
            else:
                assert cl.items and cl.standard is None and all(i.code is None for i in cl.items), cl.oid
            decoded = [i.decode is not None for i in cl.items]
            assert all(decoded) or not any(decoded), cl.oid
            assert len(cl.values()) == len(set(cl.values())), cl.oid


# --------------------------------------------------------------------------------------
# Known answers (SDTMIG 3.4, ADaMIG 1.3, NCI CT as quoted in standards.md section 3)
# --------------------------------------------------------------------------------------
def test_sdtm_datasets_carry_the_chosen_variables(sdtm):
    """Every SDTMIG 3.4 variable of DM, AE, EX and DS (a study config may map any Perm one; a study's
    spec keeps those its data use), with the timing variables VISITNUM and VISIT before the first
    Timing variable of AE, EX and DS."""
    assert sdtm.dataset("DM").names == [
        "STUDYID", "DOMAIN", "USUBJID", "SUBJID", "RFSTDTC", "RFENDTC", "RFXSTDTC", "RFXENDTC", "RFCSTDTC",
        "RFCENDTC", "RFICDTC", "RFPENDTC", "DTHDTC", "DTHFL", "SITEID", "INVID", "INVNAM", "BRTHDTC", "AGE", "AGEU",
        "SEX", "RACE", "ETHNIC", "ARMCD", "ARM", "ACTARMCD", "ACTARM", "ARMNRS", "ACTARMUD", "COUNTRY", "DMDTC",
        "DMDY"]
    assert sdtm.dataset("EX").names == [
        "STUDYID", "DOMAIN", "USUBJID", "EXSEQ", "EXGRPID", "EXREFID", "EXSPID", "EXLNKID", "EXLNKGRP", "EXTRT",
        "EXCAT", "EXSCAT", "EXDOSE", "EXDOSTXT", "EXDOSU", "EXDOSFRM", "EXDOSFRQ", "EXDOSRGM", "EXROUTE", "EXLOT",
        "EXLOC", "EXLAT", "EXDIR", "EXFAST", "EXADJ", "VISITNUM", "VISIT", "TAETORD", "EPOCH", "EXDTC", "EXSTDTC",
        "EXENDTC",
        "EXSTDY", "EXENDY", "EXDUR", "EXTPT", "EXTPTNUM", "EXELTM", "EXTPTREF", "EXRFTDTC"]
    ae = sdtm.dataset("AE")
    assert ae.names[:9] == ["STUDYID", "DOMAIN", "USUBJID", "SPDEVID", "AESEQ", "AEGRPID", "AEREFID", "AESPID",
                            "AETERM"]
    assert ae.names[-13:] == ["VISITNUM", "VISIT", "TAETORD", "EPOCH", "AEDTC", "AESTDTC", "AEENDTC", "AESTDY",
                              "AEENDY", "AEDUR", "AEENRF", "AEENRTPT", "AEENTPT"]
    assert ae.variable("AEDTC").label == "Date/Time of Collection"   # the SDTM model's --DTC
    assert {"AESCAN", "AESOD", "AECONTRT"} <= set(ae.names)
    assert sdtm.dataset("DS").names[-8:] == ["DSSCAT", "VISITNUM", "VISIT", "EPOCH", "DSDTC", "DSSTDTC", "DSDY",
                                             "DSSTDY"]
    assert sdtm.dataset("DS").variable("VISITNUM").data_type == "float"   # unscheduled visits: 1.1
    assert sdtm.dataset("SUPPAE").names == [
        "STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QLABEL", "QVAL", "QORIG", "QEVAL"]


def test_sdtm_keys_and_dataset_metadata(sdtm):
    assert sdtm.dataset("DM").keys == ["STUDYID", "USUBJID"]
    assert sdtm.dataset("AE").keys == ["STUDYID", "USUBJID", "AEDECOD", "AESTDTC", "AESEQ"]
    assert sdtm.dataset("EX").keys == ["STUDYID", "USUBJID", "EXTRT", "EXSTDTC", "EXSEQ"]
    supp = sdtm.dataset("SUPPDM")
    assert supp.keys == ["STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM"]
    assert (supp.label, supp.class_, supp.domain) == ("Supplemental Qualifiers for DM", "RELATIONSHIP", "DM")
    assert (sdtm.dataset("AE").class_, sdtm.dataset("EX").class_) == ("EVENTS", "INTERVENTIONS")
    assert sdtm.dataset("DS").keys == ["STUDYID", "USUBJID", "DSCAT", "DSDECOD", "DSSTDTC", "DSSEQ"]
    ts = sdtm.dataset("TS")
    assert (ts.keys, ts.class_, ts.repeating, ts.reference_data) == (
        ["STUDYID", "TSPARMCD", "TSSEQ"], "TRIAL DESIGN", False, True)


def test_sdtm_variable_known_values(sdtm):
    dm, ae, ex = sdtm.dataset("DM"), sdtm.dataset("AE"), sdtm.dataset("EX")
    assert (dm.variable("DOMAIN").length, dm.variable("DOMAIN").codelist) == (2, "CL.DOMAIN")
    assert (dm.variable("SEX").core, dm.variable("SEX").codelist, dm.variable("SEX").role) == (
        "Req", "CL.SEX", "Record Qualifier")
    assert dm.variable("AGE").data_type == "integer" and ex.variable("EXDOSE").data_type == "float"
    assert ae.variable("AESTDTC").data_type == "partialDate"
    assert ae.variable("AESTDY").method == ae.variable("AEENDY").method == ex.variable("EXSTDY").method
    assert (ae.variable("AEDECOD").codelist, ae.variable("AEPTCD").codelist) == ("CL.MEDDRA", "CL.MEDDRA_CODE")
    assert ae.variable("AESER").codelist == "CL.NY_YN" and dm.variable("DTHFL").codelist == "CL.NY_Y"
    assert sdtm.codelist("CL.MEDDRA").dictionary == "MedDRA"
    assert sdtm.codelist("CL.COUNTRY").dictionary == "ISO 3166"


def test_ct_codelists_known_codes(sdtm, adam):
    ny = sdtm.codelist("CL.NY_YN")
    assert (ny.code, ny.extensible) == ("C66742", False)
    assert [(i.value, i.code, i.decode) for i in ny.items] == [("N", "C49487", "No"), ("Y", "C49488", "Yes")]
    sex = {i.value: (i.code, i.decode) for i in sdtm.codelist("CL.SEX").items}
    assert sex["F"] == ("C16576", "Female") and sex["M"] == ("C20197", "Male")
    aesev = sdtm.codelist("CL.AESEV")
    assert (aesev.code, [(i.value, i.code) for i in aesev.items]) == (
        "C66769", [("MILD", "C41338"), ("MODERATE", "C41339"), ("SEVERE", "C41340")])
    assert sdtm.codelist("CL.ROUTE").extensible and sdtm.codelist("CL.ROUTE").code == "C66729"
    assert "C38304" in [i.code for i in sdtm.codelist("CL.ROUTE").items]  # TOPICAL
    assert ("CREAM", "C28944") in [(i.value, i.code) for i in sdtm.codelist("CL.FRM").items]
    assert adam.codelist("CL.DATEFL").code == "C81223"
    dtype = adam.codelist("CL.DTYPE")  # ADaM CT 2025-09-26 "Derivation Type", extensible
    assert (dtype.code, dtype.extensible, dtype.standard) == ("C81224", True, "STD.CT.ADAM.2025-09-26")
    assert {("LOCF", "C81198"), ("AVERAGE", "C81209"), ("PHANTOM", "C170545")} <= {(i.value, i.code) for i in dtype.items}
    assert len(dtype.items) == 29  # the terms of C81224 in the CT file
    tsparmcd = {i.value: (i.code, i.decode) for i in sdtm.codelist("CL.TSPARMCD").items}
    assert tsparmcd["SSTDTC"] == ("C69208", "Study Start Date") and tsparmcd["TPHASE"][1] == "Trial Phase Classification"
    assert sdtm.dataset("DS").variable("DSDECOD").codelist == "CL.NCOMPLT"
    assert {"COMPLETED", "SCREEN FAILURE", "DEATH", "ADVERSE EVENT"} <= set(sdtm.codelist("CL.NCOMPLT").values())
    assert [i.value for i in adam.codelist("CL.SBJTSTAT").items] == ["COMPLETED", "DISCONTINUED", "ONGOING"]


def test_adam_known_values(adam):
    adsl, adae, adex = adam.dataset("ADSL"), adam.dataset("ADAE"), adam.dataset("ADEX")
    assert (adsl.class_, adsl.keys, adsl.label) == (
        "SUBJECT LEVEL ANALYSIS DATASET", ["STUDYID", "USUBJID"], "Subject-Level Analysis Dataset")
    assert adsl.variable("TRT01P").label == "Planned Treatment for Period 01"
    assert adsl.variable("AGEGR1N").label == "Pooled Age Group 1 (N)"
    assert adsl.variable("AP02EDT").label == "Period 02 End Date"
    assert (adsl.variable("TRTSDT").data_type, adsl.variable("TRTSDT").display_format) == ("integer", "DATE9.")
    assert adsl.variable("ETHNIC").label == "Ethnicity" and adsl.variable("ETHNIC").core is None
    assert adsl.variable("TRTDURY").data_type == "float"
    assert (adae.class_, adae.subclass, adae.keys) == (
        "OCCURRENCE DATA STRUCTURE", "ADVERSE EVENT", ["STUDYID", "USUBJID", "AESEQ"])
    assert adae.variable("CQ01NAM").label == "Customized Query 01 Name"
    assert adae.variable("SRCSEQ").origin_description == "AE.AESEQ"
    assert adae.variable("AGE").origin_description == "ADSL.AGE"
    assert adam.dataset("ADAETTE").subclass == "TIME-TO-EVENT" and adex.subclass is None
    assert [r.where_clause for r in adam.value_levels("ADEX", "AVAL")] == [
        "WC.ADEX.PARAMCD.TRTDURD", "WC.ADEX.PARAMCD.TRTDURY", "WC.ADEX.PARAMCD.TDOSE", "WC.ADEX.PARAMCD.ADOSE"]
    assert adam.codelist("CL.ADEX.PARAMCD").values() == ["TRTDURD", "TRTDURY", "TDOSE", "ADOSE"]
    standards = {(s.name, s.type, s.version, s.publishing_set) for s in adam.standards}
    assert standards == {("ADaMIG", "IG", "1.3", None), ("ADaM-OCCDSIG", "IG", "1.1", None),
                         ("CDISC/NCI", "CT", "2025-09-26", "ADaM"), ("CDISC/NCI", "CT", "2025-03-28", "SDTM")}


# --------------------------------------------------------------------------------------
# Cross-check against ../shared/data
# --------------------------------------------------------------------------------------
def read_csv(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [{k: v.strip() for k, v in row.items()} for row in csv.DictReader(fh, delimiter=delimiter, quoting=quoting)]


@pytest.fixture(scope="module")
def cdisc():
    if not SHARED.is_dir():
        pytest.skip("../shared/data is not present")
    std, ct = SHARED / "standards", SHARED / "ct"
    return {
        "sdtmig": read_csv(std / "sdtmig-3.4-variables.csv"),
        "sdtmig_datasets": read_csv(std / "sdtmig-3.4-datasets.csv"),
        "adamig": read_csv(std / "adamig-1.3-variables.csv"),
        "occds": read_csv(std / "adam-occds-adae-1.0-variables.csv"),
        "ct": {"SDTM": read_csv(ct / "sdtm-ct-2025-03.txt", "\t"), "ADaM": read_csv(ct / "adam-ct-2025-09-26.csv")},
        "define_ct": read_csv(ct / "define-xml-ct-2025-09-26.csv"),
    }


def type_fits(ig_type: str, data_type: str) -> bool:
    return (data_type in NUMERIC_TYPES) == (ig_type == "Num")


@needs_shared
def test_sdtm_variables_match_sdtmig(sdtm, cdisc):
    for ds in sdtm.datasets:
        ig_name = "SUPPQUAL" if ds.name.startswith("SUPP") else ds.name
        rows = [r for r in cdisc["sdtmig"] if r["Dataset Name"] == ig_name]
        by_name = {r["Variable Name"]: r for r in rows}
        required = {r["Variable Name"] for r in rows if r["Core"] in ("Req", "Exp")}
        assert required <= set(ds.names), (ds.name, required - set(ds.names))
        ig_rank = [r["Variable Name"] for r in sorted(rows, key=lambda r: int(r["Variable Order"]))]
        timing = [n for n in ds.names if n not in by_name]   # general-observation timing variables, from VS
        assert timing in ([], ["VISITNUM", "VISIT"], ["VISITNUM", "VISIT", f"{ds.name}DTC"]), (ds.name, timing)
        assert [n for n in ds.names if n in by_name] == [n for n in ig_rank if n in ds.names], ds.name
        vs = {r["Variable Name"]: {**r, "Core": "Perm"} for r in cdisc["sdtmig"] if r["Dataset Name"] == "VS"}
        vs[f"{ds.name}DTC"] = {**vs["VSDTC"], "Variable Label": "Date/Time of Collection"}
        for var in ds.variables:
            row, where = by_name.get(var.name) or vs[var.name], f"{ds.name}.{var.name}"
            assert (var.label, var.core, var.role) == (row["Variable Label"], row["Core"], row["Role"]), where
            assert type_fits(row["Type"], var.data_type), where
            assert (var.data_type in ISO_DATE_TYPES) == row["Described Value Domain(s)"].startswith("ISO 8601"), where
            codes = [c.strip() for c in row["CDISC CT Codelist Code(s)"].split(";") if c.strip()]
            codelist = sdtm.codelist(var.codelist) if var.codelist else None
            if codes:
                assert codelist is not None and codelist.code in codes, where
            if row["Described Value Domain(s)"] == "MedDRA":
                assert codelist is not None and codelist.dictionary == "MedDRA", where


@needs_shared
def test_sdtm_datasets_match_sdtmig(sdtm, cdisc):
    meta = {r["Dataset Name"]: r for r in cdisc["sdtmig_datasets"]}
    for ds in sdtm.datasets:
        row = meta["SUPPQUAL" if ds.name.startswith("SUPP") else ds.name]
        assert ds.label == row["Dataset Label"].replace("[domain name]", ds.domain), ds.name
        assert ds.structure == row["Structure"], ds.name
        assert ds.class_ == row["Class"].upper().replace("-", " "), ds.name


def placeholder_matches(ig_name: str, name: str) -> dict[str, str] | None:
    """Index values if ``name`` instantiates ADaMIG name ``ig_name`` (``TRTxxP`` ~ ``TRT01P``), else None."""
    if ig_name.startswith("*"):
        return None
    pattern = ig_name
    for token, digits in (("y", "[1-9][0-9]?"), ("w", "[1-9]"), ("xx", "[0-9]{2}"), ("zz", "[0-9]{2}")):
        pattern = pattern.replace(token, f"(?P<{token}>{digits})", 1)
    m = re.fullmatch(pattern, name)
    return m.groupdict() if m else None


def ig_rows_for(name: str, rows: list[dict[str, str]]) -> list[tuple[dict[str, str], str]]:
    """(row, label with placeholders filled) of the IG rows defining ``name``; exact names win."""
    exact = [(r, r["Variable Label"]) for r in rows if r["Variable Name"] == name]
    if exact:
        return exact
    found = []
    for row in rows:
        values = placeholder_matches(row["Variable Name"], name)
        if values:
            label = row["Variable Label"]
            for token, value in values.items():
                label = re.sub(rf"(?<![A-Za-z]){token}(?![A-Za-z])", value, label)
            found.append((row, label))
    return found


@needs_shared
def test_adam_variables_match_adamig_and_occds(adam, sdtm, cdisc):
    tables = {
        "ADSL": [[r for r in cdisc["adamig"] if r["Data Structure Name"] == "Subject-Level Analysis Dataset"]],
        "ADEX": [[r for r in cdisc["adamig"] if r["Data Structure Name"] == "Basic Data Structure"]],
        "ADAE": [cdisc["occds"], [r for r in cdisc["adamig"] if r["Data Structure Name"] == "Basic Data Structure"]],
    }
    tables["ADAETTE"] = tables["ADEX"]
    for ds in adam.datasets:
        for var in ds.variables:
            where = (ds.name, var.name)
            found = next((f for f in (ig_rows_for(var.name, t) for t in tables[ds.name]) if f), [])
            if found:
                assert len(found) == 1, where
                row, label = found[0]
                assert var.label == LABEL_OVERRIDES.get(where, label), where
                assert var.core == CORE_OVERRIDES.get(where, row["Core"]), where
                assert type_fits(row["Type"], var.data_type), where
            elif var.origin_type == "Predecessor":
                source_ds, _, source_var = var.origin_description.partition(".")
                owner = adam if source_ds.startswith("AD") else sdtm
                assert var.label == owner.dataset(source_ds).variable(source_var).label, where
                assert var.core is None, where
            else:
                assert where in SPONSOR_VARIABLES and var.core is None, where
    for where, label in LABEL_OVERRIDES.items():  # an override that the IG file no longer needs is stale
        assert ig_rows_for(where[1], tables[where[0]][0])[0][1] != label


def ct_codelists(rows: list[dict[str, str]]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for row in rows:
        if not row["Codelist Code"]:
            out[row["Code"]] = {"row": row, "terms": []}
    for row in rows:
        if row["Codelist Code"]:
            out[row["Codelist Code"]]["terms"].append(row)
    return out


@needs_shared
def test_codelists_match_nci_ct(packages, cdisc):
    cts = {name: ct_codelists(rows) for name, rows in cdisc["ct"].items()}
    for spec in packages.values():
        sets = {s.oid: s.publishing_set for s in spec.standards if s.type == "CT"}
        for cl in spec.codelists:
            if not cl.code:
                continue
            ct = cts[sets[cl.standard]][cl.code]
            parent = ct["row"]
            assert cl.extensible == (parent["Codelist Extensible (Yes/No)"] == "Yes"), cl.oid
            terms = [(t["CDISC Submission Value"], t["Code"]) for t in ct["terms"]]
            items = [(i.value, i.code) for i in cl.items]
            if items == terms:
                assert (cl.oid, cl.name) == (f"CL.{parent['CDISC Submission Value']}", parent["Codelist Name"])
            else:  # a subset: its terms in CT order, named after the parent list (Define-XML 2.1 section 4.4)
                assert items == [t for t in terms if t in items] and set(items) < set(terms), cl.oid
                assert cl.oid.startswith(f"CL.{parent['CDISC Submission Value']}_"), cl.oid
                assert cl.name.startswith(parent["Codelist Name"]) and cl.name != parent["Codelist Name"], cl.oid
            if cl.code in PAIRED_DECODES:
                names = {t["Code"]: t["CDISC Submission Value"] for t in cts[sets[cl.standard]][PAIRED_DECODES[cl.code]]["terms"]}
                assert [i.decode for i in cl.items] == [names[i.code] for i in cl.items], cl.oid
                continue
            preferred = {t["CDISC Submission Value"]: t["NCI Preferred Term"] for t in ct["terms"]}
            for item in cl.items:
                assert item.decode in (None, preferred[item.value]), (cl.oid, item.value)


@needs_shared
def test_standards_and_origins_are_define_xml_ct_terms(packages, cdisc):
    define = ct_codelists(cdisc["define_ct"])
    values = {code: {t["CDISC Submission Value"] for t in cl["terms"]} for code, cl in define.items()}
    adam_dates = {r["Standard and Date"] for r in cdisc["ct"]["ADaM"]}
    for spec in packages.values():
        for std in spec.standards:
            assert std.name in values["C170452"] and std.type in values["C170451"], std.oid  # Standard Name/Type
            if std.type == "CT":
                assert std.publishing_set in values["C172331"], std.oid  # CT standard type
                if std.publishing_set == "ADaM":
                    assert adam_dates == {f"ADaM CT {std.version}"}
        for cl in spec.codelists:
            if cl.is_external:
                assert cl.dictionary in values["C66788"], cl.oid  # Dictionary Name
        for ds, var in spec.iter_variables():
            if var.origin_type:
                assert var.origin_type in values["C170449"], (ds.name, var.name)  # Origin Type
            if var.origin_source:
                assert var.origin_source in values["C170450"], (ds.name, var.name)  # Origin Source
        for ds in spec.datasets:
            assert ds.class_ in values["C103329"], ds.name  # General Observation Class
            if ds.subclass:
                assert ds.subclass in values["C165635"] | values["C176227"], ds.name


# --------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def generator():
    spec = importlib.util.spec_from_file_location("build_standard_specs", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rebuilt(generator):
    if not SHARED.is_dir():
        pytest.skip("../shared/data is not present")
    return generator.build_all(SHARED)  # the whole path, reading the files again


def test_generator_rebuilds_the_committed_files_byte_for_byte(rebuilt):
    committed = {f"{d}/{p.name}": p.read_bytes() for d in PACKAGE_FILES for p in (STANDARD / d).glob("*.json")}
    assert {rel: text.encode("ascii") for rel, text in rebuilt.items()} == committed


def test_check_mode_detects_a_changed_file(generator, rebuilt, tmp_path):
    generator.write_all(rebuilt, tmp_path)
    args = ["--shared", str(SHARED), "--out", str(tmp_path), "--check"]
    assert generator.main(args) == 0
    (tmp_path / "sdtmig-3.4" / "dm.json").write_text("{}\n", encoding="ascii")
    (tmp_path / "adamig-1.3" / "extra.json").write_text("{}\n", encoding="ascii")
    assert generator.differences(rebuilt, tmp_path) == ["adamig-1.3/extra.json", "sdtmig-3.4/dm.json"]
    assert generator.main(args) == 1
    generator.write_all(rebuilt, tmp_path)  # rewriting repairs and removes the stale file
    assert generator.differences(rebuilt, tmp_path) == []


@pytest.fixture(scope="module")
def sources(generator):
    if not SHARED.is_dir():
        pytest.skip("../shared/data is not present")
    return generator.Sources.read(SHARED, generator.load_selection())


def sdtm_dataset(selection: dict, name: str) -> dict:
    return next(d for d in selection["packages"][0]["datasets"] if d["name"] == name)


@pytest.mark.parametrize("edit, message", [
    (lambda s: sdtm_dataset(s, "DM")["variables"]["AGE"].update(metod="MT.AGE"), r"DM\.variables\.AGE: unknown key"),
    (lambda s: sdtm_dataset(s, "DM").update(permissible=["SEX"]), "SEX is not a Perm variable of DM"),
    (lambda s: sdtm_dataset(s, "AE")["variables"].pop("AESEQ"), r"AE\.variables\.AESEQ: no origin chosen"),
    (lambda s: sdtm_dataset(s, "DM")["variables"]["AGE"].update(origin="Collected/Investigator"),
     "a method is given exactly for Derived origins"),
    (lambda s: sdtm_dataset(s, "AE")["variables"]["AESEV"].update(codelist="CL.OUT"), "not the IG's codelist C66769"),
    (lambda s: s["packages"][1]["datasets"][0]["variables"][4].update(source="DM.AGEX"), "DM.AGEX is not a variable"),
    (lambda s: s["packages"][0]["methods"].pop("MT.AGE"), r"methods referenced but not defined \['MT.AGE'\]"),
    (lambda s: s["codelists"]["CL.NY_Y"].update(terms=["Y", "MAYBE"]), r"subset of NY: unknown terms \['MAYBE'\]"),
    (lambda s: s["packages"][1]["library_codelists"].update({"CL.SEX": "also"}), r"library_codelists\.CL\.SEX"),
    (lambda s: s["packages"][1]["library_codelists"].update({"CL.NOPE": "x"}), "codelist NOPE found in 0"),
])
def test_generator_rejects_bad_selections_with_where(generator, sources, edit, message):
    selection = generator.load_selection()
    edit(selection)
    with pytest.raises(InputError, match=message):
        generator.build_files(selection, sources)
