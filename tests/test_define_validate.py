"""Validation of defines: deliberately broken ones, unsafe XML, defines we did not write, the CLI.

Each broken define is our valid minimal-study define with one defect put in; each must
fail with one clear finding naming the defect (and its line, for schema errors).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

import define
from define._xml import DEF, ODM
from fileformats.xpt import write_xpt
from specs import InputError, VariableSpec
from tests.conftest import SHARED_DATA
from tests.define_fixtures import CREATED, sdtm_package
from trialpack.cli import main
from trialpack.commands import define_findings

PILOT = SHARED_DATA / "cdiscpilot01"
NS = {"odm": ODM, "def": DEF}


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    spec, frames = sdtm_package(tmp_path_factory)
    folder = tmp_path_factory.mktemp("good")
    path = define.write_define(spec, frames, folder / "define.xml", created=CREATED)
    for name, df in frames.items():     # the datasets beside it, as the package writes them
        if len(df):
            ds = spec.dataset(name)
            write_xpt(df, folder / f"{name.lower()}.xpt", name=name, label=ds.label, variables=ds.variables,
                      created=CREATED)
    for name in ("acrf", "csdrg"):
        (folder / f"{name}.pdf").write_bytes(b"placeholder")
    return frames, path


def errors(found: pd.DataFrame) -> pd.DataFrame:
    return found[found["severity"] == "error"]


def edited(good, tmp_path, edit) -> tuple:
    frames, path = good
    tree = etree.parse(str(path))
    edit(tree)
    out = tmp_path / "define.xml"
    tree.write(str(out), xml_declaration=True, encoding="UTF-8")
    return frames, out


def test_the_good_define_has_no_errors(good):
    frames, path = good
    assert errors(define.validate_define(path)).empty
    assert define.cross_check(path, frames, folder=path.parent).empty


# -- broken defines ------------------------------------------------------------------------------


def test_unknown_standard_name_fails_the_schema_with_its_line(good, tmp_path):
    frames, path = good
    text = path.read_text(encoding="utf-8").replace('Name="SDTMIG" Type="IG"', 'Name="SDTM-IG" Type="IG"')
    bad = tmp_path / "define.xml"
    bad.write_text(text, encoding="utf-8")
    line = next(i for i, s in enumerate(text.splitlines(), start=1) if 'Name="SDTM-IG"' in s)
    found = errors(define.validate_define(bad))
    assert found["rule"].tolist() == ["DD0004"]
    rec = found.iloc[0]
    assert rec["row"] == line     # the line is the finding's row, not repeated in its message
    assert rec["message"].startswith("Define-XML 2.1 schema: Element 'def:Standard', attribute 'Name'")
    assert "'SDTM-IG' is not an element of the set" in rec["message"]


def test_item_ref_without_item_def(good, tmp_path):
    def drop_age(tree):
        item = tree.xpath("//odm:ItemDef[@OID='IT.DM.AGE']", namespaces=NS)[0]
        item.getparent().remove(item)
    _, bad = edited(good, tmp_path, drop_age)
    found = errors(define.validate_define(bad))
    assert found["rule"].tolist() == ["DD0010"]
    assert found.iloc[0]["message"] == "ItemRef/@ItemOID 'IT.DM.AGE' refers to no ItemDef"
    assert (found.iloc[0]["dataset"], found.iloc[0]["value"]) == ("DM", "IT.DM.AGE")


def test_leaf_pointing_at_a_missing_file(good):
    frames, path = good
    (path.parent / "ae.xpt").rename(path.parent / "ae.xpt.moved")
    try:
        found = define.cross_check(path, frames, folder=path.parent)
    finally:
        (path.parent / "ae.xpt.moved").rename(path.parent / "ae.xpt")
    assert found["rule"].tolist() == ["DD0114"]
    assert found.iloc[0]["dataset"] == "AE" and found.iloc[0]["value"] == "ae.xpt"
    assert found.iloc[0]["message"] == f"def:leaf LF.AE points at ae.xpt, which does not exist in {path.parent}"


def test_length_shorter_than_the_data(good, tmp_path):
    def shorten(tree):
        tree.xpath("//odm:ItemDef[@OID='IT.DM.USUBJID']", namespaces=NS)[0].set("Length", "10")
    frames, bad = edited(good, tmp_path, shorten)
    found = define.cross_check(bad, frames)
    assert found["rule"].tolist() == ["DD0107"]
    assert found.iloc[0]["message"] == ("DM.USUBJID: define.xml Length 10 is shorter than the longest value "
                                        "(14 bytes)")


def test_text_length_longer_than_the_data_is_a_warning(good, tmp_path):
    def lengthen(tree):
        tree.xpath("//odm:ItemDef[@OID='IT.DM.SUBJID']", namespaces=NS)[0].set("Length", "200")
    frames, bad = edited(good, tmp_path, lengthen)
    found = define.cross_check(bad, frames)
    assert found[["rule", "severity", "variable"]].values.tolist() == [["DD0108", "warning", "SUBJID"]]


def test_value_outside_a_non_extensible_codelist(good):
    frames, path = good
    frames = dict(frames, AE=frames["AE"].copy())
    frames["AE"].loc[2, "AESEV"] = "FATAL"                            # no longer than MODERATE
    found = errors(define.cross_check(path, frames))
    assert found["rule"].tolist() == ["DD0112"]
    rec = found.iloc[0]
    assert (rec["dataset"], rec["variable"], rec["row"], rec["value"]) == ("AE", "AESEV", 3, "FATAL")
    assert "CL.AESEV" in rec["message"]


def test_value_level_codelist_is_checked_on_its_rows(good):
    frames, path = good
    frames = dict(frames, TS=frames["TS"].copy())
    row = frames["TS"].index[frames["TS"]["TSPARMCD"] == "ROUTE"][0]
    frames["TS"].loc[row, "TSVAL"] = "SKIN"                            # TSVAL is free text elsewhere
    found = define.cross_check(path, frames)
    # 'SKIN' is also shorter than the ROUTE slice's Length 7 ('TOPICAL'): a DD0108 warning
    assert found["rule"].tolist() == ["DD0108", "DD0112"]
    found = errors(found)
    assert found.iloc[0]["variable"] == "TSVAL" and found.iloc[0]["row"] == row + 1
    assert "where WC.TS.TSPARMCD.ROUTE" in found.iloc[0]["message"]


def test_duplicate_keys(good):
    frames, path = good
    frames = dict(frames, DM=pd.concat([frames["DM"], frames["DM"].iloc[[1]]], ignore_index=True))
    found = define.cross_check(path, frames)
    assert found["rule"].tolist() == ["DD0113"]
    rec = found.iloc[0]
    assert rec["row"] == 8 and rec["value"] == "MINI-01 | MINI-01-01-002"
    assert rec["variable"] == "STUDYID, USUBJID"


def test_mandatory_null_type_order_and_presence(good):
    frames, path = good
    dm = frames["DM"].copy()
    dm.loc[0, "SEX"] = None
    dm["AGE"] = dm["AGE"].astype("string")
    dm.loc[1, "AGE"] = "ten"
    dm = dm[[c for c in dm.columns if c != "COUNTRY"][:2][::-1] + [c for c in dm.columns if c != "COUNTRY"][2:]]
    found = define.cross_check(path, dict(frames, DM=dm, LB=frames["DM"].iloc[:0]))
    got = sorted(found[["rule", "variable"]].itertuples(index=False, name=None), key=str)
    assert got == [("DD0102", None), ("DD0104", "COUNTRY"), ("DD0105", "DOMAIN"), ("DD0106", "AGE"),
                   ("DD0115", "SEX")]


def test_data_file_lengths_and_labels(good):
    frames, path = good
    meta = {"DM": {"label": "Demographics", "variables": [
        {"name": "USUBJID", "label": "Unique Subject Identifier", "length": 20, "type": "character"},
        {"name": "SEX", "label": "Sex of the subject", "length": 1, "type": "character"},
        {"name": "AGE", "label": "Age", "length": 8, "type": "numeric"}]}}
    found = define.cross_check(path, frames, metadata=meta)
    assert found[["rule", "variable"]].values.tolist() == [["DD0109", "USUBJID"], ["DD0111", "SEX"]]
    assert found.iloc[0]["message"] == "DM.USUBJID: the data file stores length 20, define.xml says Length 14"


def test_has_no_data_disagreeing_with_the_data(good):
    frames, path = good
    frames = dict(frames, DM=frames["DM"].copy())
    frames["DM"].loc[0, "DTHDTC"] = "2021-07-01"
    found = define.cross_check(path, frames)
    assert found["rule"].tolist() == ["DD0116"]
    assert found.iloc[0]["message"] == 'DM.DTHDTC has def:HasNoData="Yes" but holds values'


# -- unsafe and foreign documents ------------------------------------------------------------------


def test_external_entity_is_refused_and_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    bad = tmp_path / "define.xml"
    bad.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE ODM [<!ENTITY leak SYSTEM "file://{secret}">]>\n'
                   f'<ODM xmlns="{ODM}" xmlns:def="{DEF}"><Study OID="S">&leak;</Study></ODM>\n')
    found = define.validate_define(bad)
    assert found["rule"].tolist() == ["DD0002"]
    assert "DOCTYPE declaring entities leak" in found.iloc[0]["message"]
    assert "TOP-SECRET" not in found.to_string()
    with pytest.raises(InputError, match="DOCTYPE"):
        define.cross_check(bad, {})
    assert main(["validate", str(bad)]) == 2


def test_not_xml_and_odm_without_def_namespace(tmp_path):
    text = tmp_path / "define.xml"
    text.write_text("STUDYID,USUBJID\n")
    found = define.validate_define(text)
    assert found["rule"].tolist() == ["DD0001"] and found.iloc[0]["message"].startswith("not well-formed XML")
    odm = tmp_path / "odm.xml"
    odm.write_text(f'<ODM xmlns="{ODM}" ODMVersion="1.3.2" FileType="Snapshot" FileOID="F" '
                   'CreationDateTime="2025-01-01T00:00:00"/>')
    found = define.validate_define(odm)
    assert found["rule"].tolist() == ["DD0003"]
    assert found.iloc[0]["message"].startswith("an ODM document without the Define-XML namespace")
    other = tmp_path / "other.xml"
    other.write_text("<html/>")
    assert define.validate_define(other).iloc[0]["message"].startswith("not a Define-XML document: the root "
                                                                       "element is html")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_validate_never_crashes_on_arbitrary_bytes(tmp_path, data):
    path = tmp_path / "fuzz.xml"
    path.write_bytes(data)
    found = define.validate_define(path)
    assert len(found) >= 1 and set(found["severity"]) <= {"error", "warning", "notice"}


FOREIGN = Path(__file__).parent / "data" / "foreign-define-2-1.xml"


def test_foreign_define_2_1_schema_errors_by_line(tmp_path, capsys):
    """A Define-XML 2.1 file another tool wrote: each schema error with the line libxml2 reads
    it on (the end of the element's start tag), then the rules, then its data beside it."""
    tree = etree.parse(str(FOREIGN))
    ae = tree.find(f".//{{{ODM}}}ItemGroupDef[@OID='IG.AE']")
    origin = tree.find(f".//{{{ODM}}}ItemDef[@OID='IT.DM.SEX']/{{{DEF}}}Origin")
    found = define.validate_define(FOREIGN)
    schema = found[found["rule"] == "DD0004"]
    assert schema["row"].tolist() == [ae.sourceline, origin.sourceline] == [45, 66]
    assert schema["message"].tolist() == [
        "Define-XML 2.1 schema: Element 'ItemGroupDef', attribute 'def:Class': The attribute 'def:Class' is not "
        "allowed.",
        "Define-XML 2.1 schema: Element 'def:Origin', attribute 'Type': [facet 'enumeration'] The value 'CRF' is "
        "not an element of the set {'Assigned', 'Collected', 'Derived', 'Not Available', 'Other', 'Predecessor', "
        "'Protocol'}."]
    assert found[found["rule"] == "DD0013"][["dataset", "row"]].values.tolist() == [["AE", 45]]
    # mended, with its two datasets beside it: schema-clean, and the data are cross-checked
    text = FOREIGN.read_text(encoding="utf-8").replace(' def:Class="EVENTS"', "").replace(
        'Type="CRF"', 'Type="Collected"').replace(
        '<def:leaf ID="LF.AE"', '<def:Class Name="EVENTS"/>\n        <def:leaf ID="LF.AE"')
    mended = tmp_path / "define.xml"
    mended.write_text(text, encoding="utf-8")
    ids = {"STUDYID": ["CDISC01"] * 2, "USUBJID": ["CDISC01-01-001", "CDISC01-01-002"]}     # 7 and 14 bytes
    labels = [VariableSpec("STUDYID", "Study Identifier"), VariableSpec("USUBJID", "Unique Subject Identifier"),
              VariableSpec("SEX", "Sex")]
    write_xpt(pd.DataFrame({**ids, "SEX": ["F", "U"]}), tmp_path / "dm.xpt", name="DM", label="Demographics",
              variables=labels)
    write_xpt(pd.DataFrame(ids), tmp_path / "ae.xpt", name="AE", label="Adverse Events", variables=labels[:2])
    for name in ("blankcrf", "csdrg"):
        (tmp_path / f"{name}.pdf").write_bytes(b"%PDF-1.4")
    assert define.validate_define(mended).empty
    assert main(["validate", str(mended)]) == 1
    out = capsys.readouterr().out
    assert out.rstrip().splitlines() == [
        "  error   DD0112 DM row 2: DM.SEX: value is not in codelist CL.SEX (Sex)",
        f"{mended}: 1 error(s), 0 warning(s), 0 notice(s)"]


def _pilot(which: str):
    path = PILOT / which / "define.xml"
    if not path.is_file():
        pytest.skip("../shared/data/cdiscpilot01 is not present")
    return path


@pytest.mark.parametrize("which", ["sdtm", "adam-spec"])
def test_pilot_define_2_0_is_valid_against_the_official_2_0_schema(which):
    """Define-XML 2.0 is checked against define2-0-0.xsd (odmlib's copy of the CDISC schema):
    the pilot's defines are schema-valid; the business rules find their real defects."""
    found = define.validate_define(_pilot(which))
    assert "DD0003" not in set(found["rule"]) and "DD0004" not in set(found["rule"])
    if which == "sdtm":
        # SUPPLB's where clauses test IT.SUPPLB.QNAM, which the define never defines
        dd0010 = found[found["rule"] == "DD0010"]
        assert dd0010[["row", "value"]].values.tolist() == [[2134, "IT.SUPPLB.QNAM"], [2139, "IT.SUPPLB.QNAM"]]
        # LBORRES is Length 5, its value-level items up to 200
        assert "value-level IT.LBCH.LBORRES.LBCH.LBCAT.EQ.CHEMISTRY-1980b5b1 has Length 200, more than its " \
               "variable's 5" in found["message"].tolist()
    else:
        # ADADAS.PARAM is Derived, with no method
        assert "IT.ADADAS.PARAM has a Derived origin but its ItemRef has no MethodOID" in found["message"].tolist()


def test_define_2_0_schema_errors_are_reported_by_line(tmp_path):
    """A 2.0 define that breaks define2-0-0.xsd (def:Class is an attribute in 2.0 with a
    required def:Structure; MetaDataVersion needs def:StandardName) gets DD0004 per error."""
    text = _pilot("sdtm").read_text(encoding="utf-8")
    bad = tmp_path / "define.xml"
    bad.write_text(text.replace("def:StandardName=", "def:StandardTitle=", 1), encoding="utf-8")
    mdv = etree.parse(str(bad)).find(f"{{{ODM}}}Study/{{{ODM}}}MetaDataVersion").sourceline
    found = define.validate_define(bad)
    schema = found[found["rule"] == "DD0004"]
    assert len(schema) >= 1 and set(schema["row"]) == {mdv}
    assert all(m.startswith("Define-XML 2.0 schema: Element 'MetaDataVersion'") for m in schema["message"])
    assert any("def:StandardName" in m and "required but missing" in m for m in schema["message"])


def _pilot_frames():
    pyreadstat = pytest.importorskip("pyreadstat")
    frames, metas = {}, {}
    for name in ("DM", "AE", "EX", "TS", "SV"):
        df, meta = pyreadstat.read_xport(str(PILOT / "sdtm" / f"{name.lower()}.xpt"), encoding="cp1252")
        frames[name] = df
        metas[name] = {"label": meta.file_label, "variables": [
            {"name": c, "label": meta.column_names_to_labels[c], "length": meta.variable_storage_width[c],
             "type": "numeric" if meta.readstat_variable_types[c] == "double" else "character"}
            for c in meta.column_names]}
    return frames, metas


def test_pilot_sdtm_data_against_its_define_2_0():
    """The pilot 'TDF' package carries known defects; the cross-check finds them in the SAS files."""
    if not (PILOT / "sdtm" / "define.xml").is_file():
        pytest.skip("../shared/data/cdiscpilot01 is not present")
    frames, metas = _pilot_frames()
    found = define.cross_check(PILOT / "sdtm" / "define.xml", frames, metadata=metas)
    found = found[found["rule"] != "DD0101"]      # datasets we did not load
    title = found[(found["rule"] == "DD0107") & found["message"].str.contains("TITLE")]
    assert title.iloc[0]["message"].endswith("define.xml Length 129 is shorter than the longest value (131 bytes)")
    visitnum = found[(found["rule"] == "DD0112") & (found["dataset"] == "SV")]
    assert visitnum[["variable", "row"]].values.tolist() == [["VISITNUM", 2556]]
    assert visitnum.iloc[0]["value"] == pytest.approx(9.3)
    label = found[(found["rule"] == "DD0111") & (found["dataset"] == "EX")]
    assert label.iloc[0]["message"] == ("EX.EXTRT: label 'Name of Treatment' in the data file differs from "
                                        "define.xml 'Name of  Treatment'")
    phase = found[(found["rule"] == "DD0112") & (found["dataset"] == "TS")]
    assert phase["value"].tolist() == ["PHASE II TRIAL"]
    # SAS stored DM.RFICDTC (all blank) in 1 byte; the define says 20
    rficdtc = found[(found["rule"] == "DD0109") & (found["variable"] == "RFICDTC")]
    assert rficdtc.iloc[0]["message"] == "DM.RFICDTC: the data file stores length 1, define.xml says Length 20"


# -- the command line --------------------------------------------------------------------------------


def test_cli_validate_good_define(good, capsys):
    _, path = good
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    # AE.AEACN, not in the minimal AE export, is declared not collected (no DD0022 for it)
    assert out.strip().endswith(f"{path}: 0 error(s), 0 warning(s), 0 notice(s)")


def test_cli_validate_broken_define_reports_line(good, tmp_path, capsys):
    _, path = good
    text = path.read_text(encoding="utf-8").replace('Name="SDTMIG" Type="IG"', 'Name="SDTM-IG" Type="IG"')
    bad = tmp_path / "define.xml"
    bad.write_text(text, encoding="utf-8")
    assert main(["validate", str(bad), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert ("error   DD0004 line 12: Define-XML 2.1 schema: Element 'def:Standard', attribute 'Name': "
            "[facet 'enumeration'] The value 'SDTM-IG' is not an element of the set") in out
    assert "line 12: line 12" not in out
    # the leaves of this copy are missing too: dm.xpt ... are not beside it
    assert "DD0114" in out


def test_cli_validate_pilot_and_unreadable(tmp_path, capsys):
    missing = tmp_path / "nothere.xml"
    assert main(["validate", str(missing)]) == 2
    assert "nothere.xml: no such path" in capsys.readouterr().err
    if (PILOT / "sdtm" / "define.xml").is_file():
        # Define-XML 2.0 with its SAS datasets beside it: schema, rules and the data cross-check
        assert main(["validate", str(PILOT / "sdtm" / "define.xml")]) == 1
        out = capsys.readouterr().out
        assert "DD0004" not in out and "error   DD0010 line 2134: RangeCheck/@def:ItemOID 'IT.SUPPLB.QNAM'" in out
        found = define_findings(PILOT / "sdtm" / "define.xml")
        title = found[(found["rule"] == "DD0107") & found["message"].str.contains("TITLE")]
        assert title.iloc[0]["message"].endswith("define.xml Length 129 is shorter than the longest value (131 bytes)")
        visitnum = found[(found["rule"] == "DD0112") & (found["dataset"] == "SV")]
        assert visitnum[["variable", "row"]].values.tolist() == [["VISITNUM", 2556]]
        # 31 datasets described, 14 files beside it: each missing file once (DD0114), not again as DD0101
        # (and the aCRF, cdiscpilot_docs/annotated_crf.pdf)
        assert len(found[found["rule"] == "DD0114"]) == 18 and "DD0101" not in set(found["rule"])
        assert "DD0102" not in set(found["rule"])


def test_cli_validate_folder_that_is_not_a_package(tmp_path, capsys):
    assert main(["validate", str(tmp_path)]) == 2
    assert "not a trialpack package folder" in capsys.readouterr().err


def test_schema_imports_outside_the_package_folder_are_refused(tmp_path):
    """The XSDs load from defineutils' folder; an import that points at the network is never fetched."""
    from define import _xml as X

    assert (X.schema_folder() / "cdisc-define-2.1" / "define2-1-0.xsd").is_file()
    xsd = tmp_path / "remote.xsd"
    xsd.write_text('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t">'
                   '<xs:import namespace="http://www.w3.org/1999/xlink" '
                   'schemaLocation="http://www.w3.org/1999/xlink.xsd"/></xs:schema>')
    parser = X.safe_parser()
    parser.resolvers.add(X._LocalOnly(tmp_path))
    with pytest.raises(etree.XMLSchemaParseError, match="xlink.xsd"):
        etree.XMLSchema(etree.parse(str(xsd), parser))


def test_iso8601_value_the_datatype_does_not_hold(good):
    """DD0106 for ISO 8601 DataTypes (Define-XML 2.1 section 4.3.1): a time in a partialDate
    column, and text that is no ISO 8601 date/time, each named with its row."""
    frames, path = good
    assert 'OID="IT.AE.AESTDTC" Name="AESTDTC" DataType="partialDate"' in path.read_text(encoding="utf-8")
    ae = frames["AE"].copy()
    ae["AESTDTC"] = ae["AESTDTC"].astype(object)
    ae.loc[1, "AESTDTC"] = "2021-03-04T10:30"
    ae.loc[2, "AESTDTC"] = "04MAR2021"
    found = define.cross_check(path, dict(frames, AE=ae))
    assert found[["rule", "variable", "row", "value"]].values.tolist() == [
        ["DD0106", "AESTDTC", 3, "04MAR2021"], ["DD0106", "AESTDTC", 2, "2021-03-04T10:30"]]
    assert found["message"].tolist() == [
        "AE.AESTDTC is partialDate in define.xml; the value is not an ISO 8601 date/time",
        "AE.AESTDTC is partialDate in define.xml; the value is a date with a time, right-truncated "
        "(partialDatetime), which partialDate does not hold"]


def test_integer_with_a_fraction(good):
    frames, path = good
    frames = dict(frames, DM=frames["DM"].copy())
    frames["DM"].loc[1, "AGE"] = 10.5
    found = define.cross_check(path, frames)
    assert found[["rule", "row", "value"]].values.tolist() == [["DD0106", 2, 10.5]]
    assert found.iloc[0]["message"] == "DM.AGE is integer in define.xml; the value has a fractional part"


# -- whole packages: every define XSD-valid and clean against its data --------------------------------


@pytest.mark.slow
def test_every_define_of_the_demo_package_is_valid_and_cross_checks_clean(demo_package):
    """Issue 7's 'done when': the demo's defines (one per study, one for the ISS ADaM) are
    XSD-valid, follow the Define-XML rules and agree with the dataset files beside them, and
    each cites its reviewer's guide, which is there."""
    defines = sorted(demo_package.glob("m5/datasets/**/define.xml"))
    assert len(defines) == 9                               # 8 studies and the ISS
    for path in defines:
        assert define.validate_define(path).empty, path
        found = define_findings(path)                      # schema, rules, leaves, data beside it
        assert found.empty, (path, found.head().to_string())
        guide = etree.parse(str(path)).xpath("//def:SupplementalDoc/def:DocumentRef/@leafID", namespaces=NS)
        assert guide == (["LF.adrg"] if "analysis" in path.parts else ["LF.csdrg"])
        assert (path.parent / ("adrg.pdf" if "analysis" in path.parts else "csdrg.pdf")).is_file()


@pytest.mark.slow
def test_bds_aval_origin_is_stated_once_at_value_level_in_adex_and_adaette(demo_package):
    """ADEX.AVAL and ADAETTE.AVAL alike (both with value-level metadata by PARAMCD): no origin or
    method on the variable, a Derived origin and a method on every parameter's value-level item."""
    path = demo_package / "m5" / "datasets" / "iss" / "analysis" / "adam" / "datasets" / "define.xml"
    tree = etree.parse(str(path))
    for ds in ("ADEX", "ADAETTE"):
        (item,) = tree.xpath(f"//odm:ItemDef[@OID='IT.{ds}.AVAL']", namespaces=NS)
        assert item.find(f"{{{DEF}}}Origin") is None and item.find(f"{{{DEF}}}ValueListRef") is not None, ds
        (ref,) = tree.xpath(f"//odm:ItemGroupDef[@Name='{ds}']/odm:ItemRef[@ItemOID='IT.{ds}.AVAL']", namespaces=NS)
        assert ref.get("MethodOID") is None, ds
        refs = tree.xpath(f"//def:ValueListDef[@OID='VL.{ds}.AVAL']/odm:ItemRef", namespaces=NS)
        assert len(refs) >= 4 and all(r.get("MethodOID") for r in refs), ds
        for r in refs:
            (vitem,) = tree.xpath(f"//odm:ItemDef[@OID='{r.get('ItemOID')}']", namespaces=NS)
            origin = vitem.find(f"{{{DEF}}}Origin")
            assert (origin.get("Type"), origin.get("Source")) == ("Derived", "Sponsor"), r.get("ItemOID")
