"""define.xml -> Spec: our own defines round trip, the CDISC pilot's Define-XML 2.0 defines read
into specs that pass the model's rules and check the pilot's real SAS files, defects are findings.

Round trips compare the spec read back with the spec written, field by field, after applying
exactly the losses the reader documents (lengths and codelist terms come from the written XML,
found here by XPath; everything else from the original spec).
"""
from __future__ import annotations

import copy
import re

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

import define
import specs
from define._xml import DEF, DEF20, ODM, XLINK
from specs import InputError
from specs.jsonio import check_schema
from specs.load import load_spec, save_spec, spec_files
from specs.model import CodelistItem
from tests.conftest import SHARED_DATA
from tests.define_fixtures import CREATED, adam_frames, adam_spec, sdtm_package

PILOT = SHARED_DATA / "cdiscpilot01"
NS = {"odm": ODM, "def": DEF, "xlink": XLINK}
NS20 = {"odm": ODM, "def": DEF20, "xlink": XLINK}


def xp(tree, path: str, ns=NS):
    return tree.xpath(path, namespaces=ns)


def assert_spec_usable(spec: specs.Spec, tmp_path) -> None:
    """The spec passes the model's rules and the JSON Schema, and saves and loads unchanged."""
    specs.validate_spec(spec)
    for body in spec_files(spec).values():
        check_schema(body, "spec", None)
    save_spec(spec, tmp_path / "spec")
    loaded = load_spec(tmp_path / "spec")                 # one file per dataset, read in name order
    loaded.datasets = [loaded.dataset(ds.name) for ds in spec.datasets]
    assert loaded.to_dict() == spec.to_dict()


# -- what Define-XML carries of a spec (the reader's documented losses) ----------------------------


def _int(value: str | None) -> int | None:
    return None if value is None else int(value)


def _carried_variable(var, item, position: int, analysis: bool):
    var.length = _int(item.get("Length"))
    var.significant_digits = _int(item.get("SignificantDigits"))
    var.core = "Req" if var.core == "Req" else None
    ref = xp(item, "odm:CodeListRef/@CodeListOID")
    var.codelist = ref[0] if ref else None
    var.order = position
    if analysis:
        var.role = None


def _carried_codelist(cl, el):
    terms = {t.value: t for t in cl.items}
    written = xp(el, "odm:CodeListItem/@CodedValue | odm:EnumeratedItem/@CodedValue")
    decoded = bool(xp(el, "odm:CodeListItem"))
    items = []
    for order, value in enumerate(written, start=1):
        term = copy.copy(terms.get(value) or CodelistItem(value=value, extended=True))
        term.order = order
        if decoded and term.decode is None:
            term.decode = term.value
        items.append(term)
    cl.items = [] if cl.is_external else items
    return cl


def carried(spec: specs.Spec, tree) -> specs.Spec:
    """``spec`` as its define carries it: see the module docstring of :mod:`define.reader`."""
    spec = copy.deepcopy(spec)
    by_name = {ds.name: ds for ds in spec.datasets}
    spec.datasets = [by_name[name] for name in xp(tree, "//odm:ItemGroupDef/@Name")]
    for ds in spec.datasets:
        analysis = ds.purpose == "Analysis"
        if analysis:
            ds.domain = None
        for position, var in enumerate(ds.variables, start=1):
            item = xp(tree, f"//odm:ItemDef[@OID='IT.{ds.name}.{var.name}']")[0]
            _carried_variable(var, item, position, analysis)
    for vl in spec.value_level:
        ref = xp(tree, f"//def:ValueListDef[@OID='VL.{vl.dataset}.{vl.variable}']/odm:ItemRef"
                       f"[def:WhereClauseRef/@WhereClauseOID='{vl.where_clause}']")[0]
        item = xp(tree, f"//odm:ItemDef[@OID='{ref.get('ItemOID')}']")[0]
        parent = spec.dataset(vl.dataset).variable(vl.variable)
        vl.label = None if vl.label == parent.label else vl.label
        vl.length, vl.significant_digits = _int(item.get("Length")), _int(item.get("SignificantDigits"))
        vl.core = "Req" if vl.core == "Req" else None
        vl.order = _int(ref.get("OrderNumber"))
    lists = xp(tree, "//def:ValueListDef/@OID")
    spec.value_level.sort(key=lambda v: (lists.index(f"VL.{v.dataset}.{v.variable}"), v.order))

    def written(items, key: str, path: str):
        found = {getattr(x, key): x for x in items}
        return [found[oid] for oid in xp(tree, path)]

    spec.codelists = [_carried_codelist(cl, xp(tree, f"//odm:CodeList[@OID='{cl.oid}']")[0])
                      for cl in written(spec.codelists, "oid", "//odm:CodeList/@OID")]
    spec.methods = written(spec.methods, "oid", "//odm:MethodDef/@OID")
    for mt in spec.methods:
        if mt.expression and mt.expression_context is None:
            mt.expression_context = "Python"
    spec.comments = written(spec.comments, "oid", "//def:CommentDef/@OID[not(starts-with(., 'COM.NODATA.'))]")
    spec.where_clauses = written(spec.where_clauses, "oid", "//def:WhereClauseDef/@OID")
    spec.standards = written(spec.standards, "oid", "//def:Standard/@OID")
    for std in spec.standards:
        std.status = std.status or "Final"
    spec.documents = written(spec.documents, "id", "//odm:MetaDataVersion/def:leaf/@ID")
    return spec


def assert_same_spec(got: specs.Spec, want: specs.Spec) -> None:
    """Field by field, with the first difference named."""
    for key in ("study", "standards", "documents", "codelists", "where_clauses", "methods", "comments",
                "value_level"):
        g, w = getattr(got, key), getattr(want, key)
        assert (g.to_dict() if key == "study" else [x.to_dict() for x in g]) == \
               (w.to_dict() if key == "study" else [x.to_dict() for x in w]), key
    assert [d.name for d in got.datasets] == [d.name for d in want.datasets]
    for g, w in zip(got.datasets, want.datasets):
        for gv, wv in zip(g.variables, w.variables):
            assert gv.to_dict() == wv.to_dict(), f"{g.name}.{wv.name}"
        assert g.to_dict() == w.to_dict(), g.name


# -- our own defines round trip ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def sdtm(tmp_path_factory):
    spec, frames = sdtm_package(tmp_path_factory)
    path = define.write_define(spec, frames, tmp_path_factory.mktemp("sdtm") / "define.xml", created=CREATED)
    return spec, frames, path


@pytest.fixture(scope="module")
def adam(tmp_path_factory):
    spec = adam_spec()
    frames = adam_frames(spec)
    path = define.write_define(spec, frames, tmp_path_factory.mktemp("adam") / "define.xml", created=CREATED)
    return spec, frames, path


def test_sdtm_round_trip_gives_the_written_spec(sdtm, tmp_path):
    spec, _, path = sdtm
    got, found = define.read_define(path)
    assert found.empty, found.to_string()
    assert_same_spec(got, carried(spec, etree.parse(str(path))))
    assert_spec_usable(got, tmp_path)


def test_sdtm_round_trip_values_by_hand(sdtm):
    """A few of the carried fields against what the minimal study holds."""
    _, frames, path = sdtm
    got, _ = define.read_define(path)
    dm = got.dataset("DM")
    assert dm.keys == ["STUDYID", "USUBJID"] and dm.class_ == "SPECIAL PURPOSE" and not dm.repeating
    usubjid = dm.variable("USUBJID")
    assert (usubjid.length, usubjid.core, usubjid.method, usubjid.role) == (14, "Req", "MT.USUBJID", "Identifier")
    assert dm.variable("AGE").core is None                                   # Exp in SDTMIG: Mandatory="No"
    sex = dm.variable("SEX")
    assert (sex.origin_type, sex.origin_source, sex.origin_pages) == ("Collected", "Investigator", "3")
    assert dm.variable("BRTHDTC").origin_pages == "3 4"
    assert dm.variable("RFSTDTC").length is None                              # ISO 8601: no Length
    assert dm.variable("DTHDTC").comment is None                              # generated no-data comment
    route = got.codelist("CL.ROUTE")                                          # extensible, trimmed to the data
    assert route.extensible and [(t.value, t.code) for t in route.items] == [("TOPICAL", "C38304")]
    assert got.dataset("SUPPAE").comment is None and frames["SUPPAE"].empty
    [fitz] = got.value_levels("SUPPDM", "QVAL")
    assert (fitz.where_clause, fitz.length, fitz.label) == ("WC.SUPPDM.QNAM.FITZPAT", 3, "Fitzpatrick Skin Type")


def test_sdtm_write_read_write_gives_the_same_bytes(sdtm, tmp_path):
    spec, frames, path = sdtm
    got, _ = define.read_define(path)
    again = define.write_define(got, frames, tmp_path / "define.xml", created=CREATED)
    assert again.read_bytes() == path.read_bytes()


def test_adam_round_trip_gives_the_written_spec(adam, tmp_path):
    spec, _, path = adam
    got, found = define.read_define(path)
    want = carried(spec, etree.parse(str(path)))
    # the fixture's ADAETTE value-level label is 44 bytes, over the model's 40: shortened, with a finding
    sinf = next(v for v in want.value_level if v.where_clause == "WC.ADAETTE.PARAMCD.SINF")
    assert len(sinf.label) == 44
    sinf.label = "Years at risk to the first serious infec"
    assert_same_spec(got, want)
    assert found[["rule", "severity", "dataset", "variable", "value"]].values.tolist() == [
        ["DD0201", "warning", "ADAETTE", "AVAL", "Years at risk to the first serious infection"]]
    line = xp(etree.parse(str(path)), "//odm:ItemDef[@OID='IT.ADAETTE.AVAL.SINF']")[0].sourceline
    assert found.iloc[0]["row"] == line and found.iloc[0]["file"] == str(path)
    assert_spec_usable(got, tmp_path)


def test_adam_numeric_dates_and_value_level(adam):
    _, _, path = adam
    got, _ = define.read_define(path)
    trtsdt = got.dataset("ADSL").variable("TRTSDT")
    assert (trtsdt.data_type, trtsdt.length, trtsdt.display_format) == ("integer", 5, "DATE9.")
    rows = {v.where_clause.rsplit(".", 1)[1]: (v.data_type, v.length, v.significant_digits, v.method)
            for v in got.value_levels("ADEX", "AVAL")}
    assert rows == {"TRTDURD": ("integer", 2, None, "MT.ADEX.TRTDURD"),
                    "TRTDURY": ("float", 5, 4, "MT.ADEX.TRTDURY"),
                    "TDOSE": ("float", 4, 1, "MT.ADEX.TDOSE"), "ADOSE": ("float", 3, 2, "MT.ADEX.ADOSE")}
    adae = got.dataset("ADAE")
    assert (adae.class_, adae.subclass, adae.purpose, adae.domain) == \
        ("OCCURRENCE DATA STRUCTURE", "ADVERSE EVENT", "Analysis", None)
    assert got.where_clause("WC.ADEX.PARAMCD.TDOSE").checks[0].to_dict() == \
        {"dataset": "ADEX", "variable": "PARAMCD", "comparator": "EQ", "values": ["TDOSE"]}


def test_extended_value_reads_back_as_extended(sdtm, tmp_path):
    spec, frames, _ = sdtm
    frames = {k: v.copy() for k, v in frames.items()}
    frames["EX"].loc[0, "EXDOSFRQ"] = "5 TIMES DAILY"                 # not a FREQ term
    path = define.write_define(spec, frames, tmp_path / "define.xml", created=CREATED)
    got, found = define.read_define(path)
    assert found.empty
    freq = got.codelist("CL.FREQ")
    assert freq.extensible and freq.code == "C71113"
    assert [(t.value, t.code, t.extended) for t in freq.items] == [("BID", "C64496", False),
                                                                   ("5 TIMES DAILY", None, True)]
    # an extended value is reported as the build reports it (TP0010): one set of findings
    found = specs.check(frames["EX"], got.dataset("EX"), got)
    assert found[["rule", "variable", "row", "value"]].values.tolist() == [["TP0010", "EXDOSFRQ", 1, "5 TIMES DAILY"]]



def test_only_extended_values_read_back_as_extended(sdtm, tmp_path):
    """A study whose data use no CT term of an extensible list (every EXDOSFRQ 'Q4W', the CT term
    being 'EVERY 4 WEEKS'): the define lists the extended value alone, and reading it back still
    reports each row as the build does (TP0010), not an empty list that allows anything."""
    spec, frames, _ = sdtm
    frames = {k: v.copy() for k, v in frames.items()}
    frames["EX"]["EXDOSFRQ"] = "Q4W"
    path = define.write_define(spec, frames, tmp_path / "define.xml", created=CREATED)
    got, _ = define.read_define(path)
    assert [(t.value, t.extended) for t in got.codelist("CL.FREQ").items] == [("Q4W", True)]
    found = specs.check(frames["EX"], got.dataset("EX"), got)
    assert found[["rule", "variable", "value"]].values.tolist() == [["TP0010", "EXDOSFRQ", "Q4W"]] * len(frames["EX"])
    assert found["row"].tolist() == list(range(1, len(frames["EX"]) + 1))

# -- the CDISC pilot's Define-XML 2.0 defines ---------------------------------------------------------


def pilot(which: str):
    path = PILOT / which / "define.xml"
    if not path.is_file():
        pytest.skip("../shared/data/cdiscpilot01 is not present")
    return path


@pytest.fixture(scope="module")
def pilot_sdtm():
    path = pilot("sdtm")
    spec, found = define.read_define(path)
    return path, etree.parse(str(path)), spec, found


def test_pilot_sdtm_datasets_and_variables_match_the_xml(pilot_sdtm):
    _, tree, spec, _ = pilot_sdtm
    groups = xp(tree, "//odm:ItemGroupDef", NS20)
    assert [d.name for d in spec.datasets] == [g.get("Name") for g in groups]
    assert len(spec.datasets) == 31
    for ds, group in zip(spec.datasets, groups):
        refs = xp(group, "odm:ItemRef", NS20)
        assert len(ds.variables) == len(refs), ds.name
        assert ds.names == [xp(tree, f"//odm:ItemDef[@OID='{r.get('ItemOID')}']/@Name", NS20)[0] for r in refs]
        keyed = sorted((int(r.get("KeySequence")), r.get("ItemOID").split(".")[-1])
                       for r in refs if r.get("KeySequence"))
        assert ds.keys == [name for _, name in keyed], ds.name
    assert sum(len(d.variables) for d in spec.datasets) == 517
    assert len(xp(tree, "//odm:ItemGroupDef/odm:ItemRef", NS20)) == 517


def test_pilot_sdtm_known_metadata(pilot_sdtm):
    _, _, spec, _ = pilot_sdtm
    dm = spec.dataset("DM")
    assert (dm.label, dm.class_, dm.structure, dm.repeating, dm.purpose) == \
        ("Demographics", "SPECIAL PURPOSE", "One record per subject", False, "Tabulation")
    assert dm.keys == ["STUDYID", "USUBJID"] and dm.variable("USUBJID").method == "MT.DM.USUBJID"
    assert spec.dataset("TA").reference_data and spec.dataset("SUPPAE").domain == "SUPPAE"   # as in the define
    armcd = spec.dataset("TA").variable("ARMCD")
    assert (armcd.label, armcd.length, armcd.codelist, armcd.origin_type, armcd.core, armcd.role) == \
        ("Planned Arm Code", 8, "CL.ARMCD", "Assigned", "Req", "TOPIC")
    assert [(t.value, t.decode) for t in spec.codelist("CL.ARMCD").items] == [
        ("Scrnfail", "Screen Failure"), ("Pbo", "Placebo"), ("Xan_Lo", "Xanomeline Low Dose"),
        ("Xan_Hi", "Xanomeline High Dose")]
    ageu = spec.codelist("CL.AGEU")
    assert (ageu.code, [(t.value, t.code) for t in ageu.items]) == ("C66781", [("YEARS", "C29848")])
    meddra = spec.codelist("CL.AEDICT")
    assert (meddra.dictionary, meddra.version, meddra.items) == ("MEDDRA", "8.0", [])
    assert spec.dataset("EX").variable("EXTRT").label == "Name of  Treatment"      # as the define spells it
    visitnum = spec.dataset("SV").variable("VISITNUM")
    assert (visitnum.data_type, visitnum.length, visitnum.significant_digits, visitnum.display_format) == \
        ("float", 8, 1, "8.1")
    assert spec.method("MT.COMPMETHOD.STUDY_DAY").description.startswith("(date portion of --DTC) minus")
    assert spec.comment("COM.DM.AGEU").description == 'AGEU="YEARS"'
    # Define-XML 2.0 origins: CRF -> Collected, eDT -> Collected from a Vendor
    assert spec.dataset("DM").variable("SEX").origin_type == "Collected"
    exdose = spec.dataset("EX").variable("EXDOSE")
    assert (exdose.origin_type, exdose.origin_source) == ("Collected", "Vendor")
    assert (spec.study.name, spec.study.oid) == ("TDF_SDTM", "TDF_SDTM.CDISC_SDTM.3.2")


def test_pilot_sdtm_value_level_and_where_clauses(pilot_sdtm):
    _, tree, spec, _ = pilot_sdtm
    # every value-list ItemRef is a row, except the six whose where clauses test IT.SUPPLB.QNAM,
    # an ItemDef no dataset uses (the pilot splits SUPPLB into SUPPLBCH/HE/UR)
    vl_refs = xp(tree, "//def:ValueListDef/odm:ItemRef", NS20)
    broken = xp(tree, "//def:ValueListDef/odm:ItemRef[starts-with(def:WhereClauseRef/@WhereClauseOID, "
                      "'WC.SUPPLB.')]", NS20)
    assert (len(vl_refs), len(broken)) == (230, 6)
    assert len(spec.value_level) == 224
    assert [v.where_clause.split(".")[4] for v in spec.value_levels("SUPPDM", "QVAL")] == \
        ["COMPLT16-2c61c087", "COMPLT24-78d3fa0b", "COMPLT8-516855af", "EFFICACY-c2197d3c", "SAFETY-3449cbd5",
         "ITT-ba1d676f"]
    wc = spec.where_clause("WC.LBHE.LBTESTCD.EQ.ANISO.LBHE.LBCAT.EQ.HEMATOLOGY-ad56f059")
    assert [c.to_dict() for c in wc.checks] == [
        {"dataset": "LBHE", "variable": "LBCAT", "comparator": "EQ", "values": ["HEMATOLOGY"]},
        {"dataset": "LBHE", "variable": "LBTESTCD", "comparator": "EQ", "values": ["ANISO"]}]
    [title] = [v for v in spec.value_levels("TS", "TSVAL") if ".TITLE-" in v.where_clause]
    assert (title.length, title.label, title.origin_type) == (129, None, "Protocol")
    assert len(spec.where_clauses) == len({v.where_clause for v in spec.value_level}) == 224


def test_pilot_sdtm_findings_are_its_real_defects(pilot_sdtm):
    path, tree, spec, found = pilot_sdtm
    assert set(found["rule"]) == {"DD0203", "DD0206", "DD0209", "DD0210"}
    unresolved = found[found["rule"] == "DD0203"]
    assert sorted(set(unresolved["value"])) == ["IT.SUPPLB.QNAM", "WC.SUPPLB.QNAM.EQ.ENDPOINT-6f8439fc",
                                                "WC.SUPPLB.QNAM.EQ.LBTMSHI-341116d2"]
    assert not xp(tree, "//odm:ItemGroupDef/odm:ItemRef[@ItemOID='IT.SUPPLB.QNAM']", NS20)
    oid = found[found["rule"] == "DD0206"].iloc[0]
    assert (oid["value"], oid["row"]) == ("TDF_SDTM.CDISC SDTM.3.2", 11)
    crf = found[found["message"].str.contains('Type="CRF"')].iloc[0]["message"]
    crf_count = len(xp(tree, "//def:Origin[@Type='CRF']", NS20))
    assert crf.startswith(f"{crf_count} Define-XML 2.0 def:Origin")
    unused = found[found["rule"] == "DD0210"].iloc[0]["message"]
    assert unused.startswith("1 CodeList definitions") and "CL.ROLES" in unused
    assert set(found["file"]) == {str(path)}


def test_pilot_sdtm_spec_is_usable(pilot_sdtm, tmp_path):
    from specs.workbook import read_workbook, write_workbook

    _, _, spec, _ = pilot_sdtm
    assert_spec_usable(spec, tmp_path)
    write_workbook(spec, tmp_path / "spec.xlsx")           # the import users edit
    assert read_workbook(tmp_path / "spec.xlsx").to_dict() == spec.to_dict()


def test_pilot_sdtm_strict_stops_at_the_first_warning():
    with pytest.raises(InputError, match=r"define\.xml, row 11: Study OID 'TDF_SDTM\.CDISC SDTM\.3\.2' is not "
                                         r"a valid spec OID"):
        define.read_define(pilot("sdtm"), strict=True)


def test_pilot_adam_define(tmp_path):
    path = pilot("adam-spec")
    tree = etree.parse(str(path))
    spec, found = define.read_define(path)
    assert len(spec.datasets) == len(xp(tree, "//odm:ItemGroupDef", NS20)) == 12
    assert sum(len(d.variables) for d in spec.datasets) == 509
    # its two labels over 40 bytes are shortened, with the full label in the finding
    labels = found[found["rule"] == "DD0201"][["dataset", "value"]].values.tolist()
    assert labels == [["ADLBCPV", "Analysis Dataset Lab Blood Chemistry (Previous Visit)"],
                      ["ADLBHPV", "Analysis Dataset Lab Hematology (Previous Visit)"]]
    assert spec.dataset("ADLBCPV").label == "Analysis Dataset Lab Blood Chemistry (Pr"      # 40 bytes
    # MethodOIDs and CodeListOIDs the define references but never defines: dropped, one finding each
    defined_methods = set(xp(tree, "//odm:MethodDef/@OID", NS20))
    dangling = [r for r in xp(tree, "//odm:ItemGroupDef/odm:ItemRef[@MethodOID]", NS20)
                if r.get("MethodOID") not in defined_methods]
    dangling_cl = [r for r in xp(tree, "//odm:CodeListRef", NS20)
                   if r.get("CodeListOID") not in set(xp(tree, "//odm:CodeList/@OID", NS20))]
    unresolved = found[found["rule"] == "DD0203"]
    assert len(unresolved) == len(dangling) + len(dangling_cl) and len(dangling) > 100
    adsl = spec.dataset("ADSL")
    assert adsl.class_ == "SUBJECT LEVEL ANALYSIS DATASET" and adsl.variable("TRTSDT").display_format == "DATE9."
    referenced = {r.get("MethodOID") for r in xp(tree, "//odm:ItemRef[@MethodOID]", NS20)}
    assert {m.oid for m in spec.methods} == referenced & defined_methods
    assert len(spec.documents) == len(xp(tree, "//def:SupplementalDoc/def:DocumentRef", NS20)) == 22
    assert_spec_usable(spec, tmp_path)


def test_pilot_sdtm_data_checked_against_the_spec_read_from_its_define(pilot_sdtm):
    """specs.check on the pilot's SAS files finds exactly the pilot's known defects."""
    from fileformats.xpt import read_xpt

    path, _, spec, _ = pilot_sdtm
    files = sorted(path.parent.glob("*.xpt"))
    assert len(files) == 14
    found = []
    for file in files:
        df, _ = read_xpt(file)
        found.append(specs.check(df, spec.dataset(file.stem), spec))
    found = pd.concat(found, ignore_index=True)
    # the pilot's sponsor-extended DSDECOD terms (def:ExtendedValue="Yes"), each row a TP0010 warning
    extended = found[found["rule"] == "TP0010"]
    assert (extended["dataset"] == "DS").all() and (extended["variable"] == "DSDECOD").all()
    assert sorted(set(extended["value"])) == ["FINAL LAB VISIT", "FINAL RETRIEVAL VISIT"] and len(extended) == 290
    found = found[found["rule"] != "TP0010"].reset_index(drop=True)
    assert found[["rule", "dataset", "variable", "row"]].values.tolist() == [
        # SAS stored 9.299999999999999 (shown as 9.3 by its 8.1 format): not the codelist's 9.3
        ["TP0009", "SV", "VISITNUM", 2556],
        # TSPARMCD AGEMAX has no TSVAL, which the define marks Mandatory
        ["TP0004", "TS", "TSVAL", 2],
        # TDIGRP and TITLE hold a right single quotation mark (U+2019)
        ["TP0008", "TS", "TSVAL", 8], ["TP0008", "TS", "TSVAL", 28],
        # TPHASE "PHASE II TRIAL", where its define's TPHASE codelist (value-level, for TSVAL where
        # TSPARMCD is TPHASE) spells the term "Phase II Trial"
        ["TP0009", "TS", "TSVAL", 22]]
    assert found.iloc[0]["value"] == 9.299999999999999 and "9.3" in spec.codelist("CL.VISITNUM").values()
    assert found.iloc[2]["message"] == "non-ASCII character '\u2019' (U+2019) in TSVAL"


# -- a define written by someone else (Define-XML 2.1) --------------------------------------------------


FOREIGN = f"""<?xml version="1.0" encoding="UTF-8"?>
<ODM xmlns="{ODM}" xmlns:def="{DEF}" xmlns:xlink="{XLINK}" ODMVersion="1.3.2" FileType="Snapshot"
     FileOID="F" CreationDateTime="2025-01-01T00:00:00" def:Context="Other">
 <Study OID="S 1">
  <GlobalVariables><StudyName>XY-1</StudyName><StudyDescription>d</StudyDescription>
   <ProtocolName>p</ProtocolName></GlobalVariables>
  <MetaDataVersion OID="M" Name="M" def:DefineVersion="2.1.0">
   <def:Standards><def:Standard OID="STD 1" Name="SDTMIG" Type="IG" Version="3.3"/>
    <def:Standard OID="STD.CT" Name="CDISC/NCI" Type="CT" PublishingSet="SDTM"/></def:Standards>
   <def:AnnotatedCRF><def:DocumentRef leafID="LF.crf"/></def:AnnotatedCRF>
   <def:ValueListDef OID="VL.LB.LBORRES">
    <ItemRef ItemOID="IT.LB.LBORRES.X" OrderNumber="1" Mandatory="No">
     <def:WhereClauseRef WhereClauseOID="WC.A"/><def:WhereClauseRef WhereClauseOID="WC.B"/>
    </ItemRef>
   </def:ValueListDef>
   <def:WhereClauseDef OID="WC.A"><RangeCheck Comparator="IN" SoftHard="Soft" def:ItemOID="IT.LBTESTCD">
    <CheckValue>ALB</CheckValue><CheckValue>ALP</CheckValue></RangeCheck></def:WhereClauseDef>
   <def:WhereClauseDef OID="WC.B"><RangeCheck Comparator="EQ" SoftHard="Soft" def:ItemOID="IT.LBTESTCD">
    <CheckValue>GLUC</CheckValue></RangeCheck></def:WhereClauseDef>
   <def:WhereClauseDef OID="WC.UNUSED"><RangeCheck Comparator="EQ" SoftHard="Soft" def:ItemOID="IT.LBTESTCD">
    <CheckValue>K</CheckValue></RangeCheck></def:WhereClauseDef>
   <ItemGroupDef OID="IG.LB" Name="LB" SASDatasetName="LB" Domain="LB" Repeating="Yes" IsReferenceData="No"
       Purpose="Tabulation" def:StandardOID="STD 1" def:Structure="One record per lab test per visit per subject">
    <Description><TranslatedText xml:lang="fr">Analyses</TranslatedText>
     <TranslatedText xml:lang="en">Laboratory Test Results</TranslatedText></Description>
    <ItemRef ItemOID="IT.lb.usubjid" OrderNumber="1" Mandatory="Yes" KeySequence="1"/>
    <ItemRef ItemOID="IT.LBTESTCD" OrderNumber="2" Mandatory="Yes" KeySequence="2"/>
    <ItemRef ItemOID="IT.LB.LBORRES" OrderNumber="3" Mandatory="No"/>
    <ItemRef ItemOID="IT.LB.LBLONGNAME" OrderNumber="4" Mandatory="No"/>
    <ItemRef ItemOID="IT.LB.MISSING" OrderNumber="5" Mandatory="No"/>
    <def:Class Name="FINDINGS"/>
   </ItemGroupDef>
   <ItemDef OID="IT.lb.usubjid" Name="usubjid" SASFieldName="USUBJID" DataType="text" Length="11">
    <Description><TranslatedText xml:lang="en">Unique Subject Identifier</TranslatedText></Description>
    <def:Origin Type="Derived" Source="Sponsor"/><def:Origin Type="Assigned"/>
   </ItemDef>
   <ItemDef OID="IT.LBTESTCD" Name="LBTESTCD" SASFieldName="LBTESTCD" DataType="text" Length="8">
    <Description><TranslatedText xml:lang="en">Lab Test or Examination Short Name.</TranslatedText></Description>
    <CodeListRef CodeListOID="CL.LBTESTCD"/>
    <def:Origin Type="Collected" Source="Investigator">
     <def:DocumentRef leafID="LF.crf"><def:PDFPageRef Type="PhysicalRef" FirstPage="12" LastPage="14"/>
     </def:DocumentRef></def:Origin>
   </ItemDef>
   <ItemDef OID="IT.LB.LBORRES" Name="LBORRES" SASFieldName="LBORRES" DataType="text" Length="300">
    <Description><TranslatedText xml:lang="en">Résultat ou constatation en unités d'origine</TranslatedText>
    </Description><def:Origin Type="Collected" Source="Vendor"/>
    <def:ValueListRef ValueListOID="VL.LB.LBORRES"/>
   </ItemDef>
   <ItemDef OID="IT.LB.LBORRES.X" Name="LBORRES" DataType="float" Length="5" SignificantDigits="1">
    <Description><TranslatedText xml:lang="en">Chemistry result</TranslatedText></Description>
    <def:Origin Type="Collected" Source="Vendor"/>
   </ItemDef>
   <ItemDef OID="IT.LB.LBLONGNAME" Name="LBLONGNAME" DataType="text" Length="4">
    <Description><TranslatedText xml:lang="en">Too long a name</TranslatedText></Description>
   </ItemDef>
   <CodeList OID="CL.LBTESTCD" Name="Laboratory Test Code" DataType="text" def:StandardOID="STD.CT">
    <EnumeratedItem CodedValue="ALB" OrderNumber="2"><Alias Context="nci:ExtCodeID" Name="C64431"/></EnumeratedItem>
    <EnumeratedItem CodedValue="ALB" OrderNumber="3"/>
    <EnumeratedItem CodedValue="XYZ" OrderNumber="9" def:ExtendedValue="Yes"/>
    <Alias Context="nci:ExtCodeID" Name="C65047"/>
   </CodeList>
   <def:leaf ID="LF.crf" xlink:href="acrf.pdf"><def:title>Annotated CRF</def:title></def:leaf>
  </MetaDataVersion>
 </Study>
</ODM>
"""


@pytest.fixture(scope="module")
def foreign():
    return define.read_define(FOREIGN.encode("utf-8"))


def test_foreign_define_maps_what_the_model_holds(foreign, tmp_path):
    spec, _ = foreign
    lb = spec.dataset("LB")
    assert lb.names == ["USUBJID", "LBTESTCD", "LBORRES"] and lb.keys == ["USUBJID", "LBTESTCD"]
    assert lb.label == "Laboratory Test Results" and lb.standard == "STD_1" and lb.class_ == "FINDINGS"
    assert spec.standards[0].oid == "STD_1" and spec.study.oid == "S_1"
    usubjid = lb.variable("USUBJID")
    assert (usubjid.origin_type, usubjid.origin_source, usubjid.core) == ("Derived", "Sponsor", "Req")
    testcd = lb.variable("LBTESTCD")
    assert (testcd.origin_type, testcd.origin_pages) == ("Collected", "12 13 14")
    lborres = lb.variable("LBORRES")
    assert lborres.length is None and lborres.label == "Resultat ou constatation en unites d'ori"
    cl = spec.codelist("CL.LBTESTCD")
    assert cl.extensible and cl.standard is None and [s.oid for s in spec.standards] == ["STD_1"]
    assert [(t.value, t.code, t.extended, t.order) for t in cl.items] == [("ALB", "C64431", False, 2),
                                                                          ("XYZ", None, True, 9)]
    # one ItemRef with two where clauses (OR): one value-level row for each
    rows = spec.value_levels("LB", "LBORRES")
    assert [(v.where_clause, v.data_type, v.length, v.label) for v in rows] == [
        ("WC.A", "float", 5, "Chemistry result"), ("WC.B", "float", 5, "Chemistry result")]
    assert spec.where_clause("WC.A").checks[0].values == ["ALB", "ALP"]
    assert [w.oid for w in spec.where_clauses] == ["WC.A", "WC.B"]
    assert [d.kind for d in spec.documents] == ["AnnotatedCRF"]
    assert_spec_usable(spec, tmp_path)


def test_foreign_define_findings_name_each_difference(foreign):
    _, found = foreign
    got = [tuple(row) for row in found[["rule", "severity", "variable"]].values.tolist()]
    assert got == [
        ("DD0206", "warning", None),            # Study OID 'S 1'
        ("DD0206", "warning", None),            # def:Standard OID 'STD 1'
        ("DD0208", "warning", None),            # def:Standard STD.CT has no Version: not imported
        ("DD0202", "warning", None),            # usubjid -> SASFieldName USUBJID
        ("DD0205", "warning", "USUBJID"),       # two def:Origin
        ("DD0204", "warning", "LBORRES"),       # Length 300
        ("DD0201", "warning", "LBORRES"),       # non-ASCII label over 40 bytes
        ("DD0202", "warning", None),            # LBLONGNAME has no SAS V5 name
        ("DD0203", "warning", None),            # IT.LB.MISSING has no ItemDef
        ("DD0207", "warning", None),            # ALB twice
        ("DD0203", "warning", None),            # so the codelist's def:StandardOID STD.CT resolves to nothing
        ("DD0209", "notice", None),             # two where clauses -> two rows
        ("DD0210", "notice", None),             # WC.UNUSED
    ]
    assert found.iloc[0]["value"] == "S 1" and found.iloc[0]["row"] == 4
    assert "'LBLONGNAME' is not a SAS V5 name" in found.iloc[7]["message"]
    assert found.iloc[6]["value"] == "Résultat ou constatation en unités d'origine"
    assert "which was not imported" in found.iloc[10]["message"]


# -- refusals -------------------------------------------------------------------------------------------


def test_not_xml_doctype_and_foreign_xml_are_refused(tmp_path):
    text = tmp_path / "define.xml"
    text.write_text("STUDYID,USUBJID\n")
    with pytest.raises(InputError, match=r"define\.xml, row 1: not well-formed XML"):
        define.read_define(text)
    broken = tmp_path / "broken.xml"
    broken.write_text(f'<ODM xmlns="{ODM}">\n<Study>\n</ODM>\n')
    with pytest.raises(InputError, match=r"broken\.xml, row 3: not well-formed XML"):
        define.read_define(broken)
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    unsafe = tmp_path / "unsafe.xml"
    unsafe.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE ODM [<!ENTITY leak SYSTEM "file://{secret}">]>\n'
                      f'<ODM xmlns="{ODM}" xmlns:def="{DEF}"><Study OID="S">&leak;</Study></ODM>\n')
    with pytest.raises(InputError, match="unsafe.xml: the document has a DOCTYPE declaring entities leak") as err:
        define.read_define(unsafe)
    assert "TOP-SECRET" not in str(err.value)
    odm = tmp_path / "odm.xml"
    odm.write_text(f'<ODM xmlns="{ODM}"><Study OID="S"/></ODM>')
    with pytest.raises(InputError, match="odm.xml: an ODM document without the Define-XML namespace"):
        define.read_define(odm)
    html = tmp_path / "page.xml"
    html.write_text("<html/>")
    with pytest.raises(InputError, match="not a Define-XML document: the root element is html"):
        define.read_define(html)
    empty = tmp_path / "empty.xml"
    empty.write_text(f'<ODM xmlns="{ODM}" xmlns:def="{DEF}">\n<Study OID="S"/></ODM>')
    with pytest.raises(InputError, match=r"empty\.xml, row 1: the define has no Study/MetaDataVersion"):
        define.read_define(empty)
    with pytest.raises(InputError, match="cannot read the file"):
        define.read_define(tmp_path / "absent.xml")


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_read_never_crashes_on_arbitrary_bytes(data):
    try:
        define.read_define(data)
    except InputError:
        pass


ATTRIBUTES = ["OID", "Name", "SASFieldName", "DataType", "Length", "SignificantDigits", "OrderNumber",
              "KeySequence", "Mandatory", "Purpose", "Comparator", "CodedValue", "ItemOID", "MethodOID",
              "CodeListOID", "WhereClauseOID", "ValueListOID", "leafID", "ID", "Type", "Source", "Version",
              "Dictionary", "Context", "PageRefs", "FirstPage", "LastPage", f"{{{XLINK}}}href",
              f"{{{DEF}}}CommentOID", f"{{{DEF}}}ItemOID", f"{{{DEF}}}StandardOID", f"{{{DEF}}}ExtendedValue"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(min_value=0), st.sampled_from(["drop", "set", "unset"]),
                          st.sampled_from(ATTRIBUTES), st.text(max_size=45)), min_size=1, max_size=6))
def test_a_damaged_define_reads_into_a_usable_spec_or_is_refused(adam, tmp_path, edits):
    """Whatever is wrong in a define, the reader gives a spec the model accepts, or a clear InputError."""
    _, _, path = adam
    tree = etree.parse(str(path))
    for index, action, attr, value in edits:
        elements = list(tree.getroot().iter(etree.Element))
        el = elements[index % len(elements)]
        if action == "drop" and el.getparent() is not None:
            el.getparent().remove(el)
        elif action == "set":
            el.set(attr, re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]", "", value))
        elif attr in el.attrib:
            del el.attrib[attr]
    try:
        spec, found = define.read_define(etree.tostring(tree))
    except InputError as exc:
        assert "the model refuses" not in str(exc)
        return
    specs.validate_spec(spec)
    for body in spec_files(spec).values():
        check_schema(body, "spec", None)
    assert set(found["severity"]) <= {"warning", "notice"}
