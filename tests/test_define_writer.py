"""Define-XML 2.1 written from the minimal study's SDTM and a hand-made ISS ADaM package.

Every element and attribute the issue lists is asserted with XPath against values worked
out by hand from the data and the spec; both defines must be XSD-valid and cross-check clean.
"""
from __future__ import annotations

import copy

import pandas as pd
import pytest
from lxml import etree

import define
from define._xml import DEF, ODM, XLINK
from specs import InputError
from tests.define_fixtures import CREATED, adam_frames, adam_spec, sdtm_package

NS = {"odm": ODM, "def": DEF, "xlink": XLINK}


def xp(tree, path: str):
    return tree.xpath(path, namespaces=NS)


def one(tree, path: str):
    found = xp(tree, path)
    assert len(found) == 1, (path, found)
    return found[0]


@pytest.fixture(scope="module")
def sdtm(tmp_path_factory):
    spec, frames = sdtm_package(tmp_path_factory)
    folder = tmp_path_factory.mktemp("sdtm-out")
    path = define.write_define(spec, frames, folder / "define.xml", created=CREATED)
    for name in ("dm", "ae", "ex", "ds", "ts", "suppdm", "acrf", "csdrg"):
        (folder / (f"{name}.pdf" if name in ("acrf", "csdrg") else f"{name}.xpt")).write_bytes(b"placeholder")
    return spec, frames, path, etree.parse(str(path))


@pytest.fixture(scope="module")
def adam(tmp_path_factory):
    spec = adam_spec()
    frames = adam_frames(spec)
    path = define.write_define(spec, frames, tmp_path_factory.mktemp("adam-out") / "define.xml", created=CREATED)
    return spec, frames, path, etree.parse(str(path))


# -- valid and clean ---------------------------------------------------------------------------


def test_sdtm_define_is_schema_valid_and_cross_checks_clean(sdtm):
    spec, frames, path, _ = sdtm
    found = define.validate_define(path)
    assert not (found["severity"] == "error").any(), found.to_string()
    # only aCRF page references the minimal spec does not give (DD0022) remain, as warnings
    assert set(found["rule"]) <= {"DD0022"}
    assert define.cross_check(path, frames, folder=path.parent).empty


def test_adam_define_is_schema_valid_and_cross_checks_clean(adam):
    _, frames, path, _ = adam
    assert define.validate_define(path).empty
    assert define.cross_check(path, frames).empty


def test_stylesheet_written_beside_and_referenced(sdtm):
    _, _, path, tree = sdtm
    assert (path.parent / "define2-1.xsl").read_bytes()[:5] == b"<?xml"
    assert path.read_bytes().startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n'
                                        b'<?xml-stylesheet type="text/xsl" href="define2-1.xsl"?>\n')


def test_same_input_same_bytes(sdtm, tmp_path, monkeypatch):
    spec, frames, path, _ = sdtm
    again = define.write_define(spec, frames, tmp_path / "define.xml", created=CREATED)
    assert again.read_bytes() == path.read_bytes()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1738317600")   # 2025-01-31T10:00:00Z
    a = define.write_define(spec, frames, tmp_path / "a.xml").read_bytes()
    b = define.write_define(spec, frames, tmp_path / "b.xml").read_bytes()
    assert a == b and b'CreationDateTime="2025-01-31T10:00:00+00:00"' in a


# -- ODM, Study, MetaDataVersion, standards, documents --------------------------------------------


def test_root_study_and_standards(sdtm):
    _, _, _, tree = sdtm
    root = tree.getroot()
    assert root.get("ODMVersion") == "1.3.2" and root.get("FileType") == "Snapshot"
    assert root.get(f"{{{DEF}}}Context") == "Submission" and root.get("CreationDateTime") == "2025-01-31T10:00:00"
    assert one(tree, "//odm:GlobalVariables/odm:StudyName/text()") == "MINI-01"
    assert one(tree, "//odm:GlobalVariables/odm:StudyDescription/text()") == "Minimal study"
    assert one(tree, "//odm:MetaDataVersion/@def:DefineVersion") == "2.1.0"
    ig = one(tree, "//def:Standard[@Type='IG']")
    assert (ig.get("Name"), ig.get("Version"), ig.get("Status")) == ("SDTMIG", "3.4", "Final")
    ct = one(tree, "//def:Standard[@Type='CT']")
    assert (ct.get("Name"), ct.get("PublishingSet"), ct.get("Version")) == ("CDISC/NCI", "SDTM", "2025-03-28")


def test_adam_standards_are_the_referenced_ones(adam):
    _, _, _, tree = adam
    names = [(s.get("Name"), s.get("Version"), s.get("PublishingSet")) for s in xp(tree, "//def:Standard")]
    assert names == [("ADaMIG", "1.3", None), ("ADaM-OCCDSIG", "1.1", None), ("CDISC/NCI", "2025-09-26", "ADaM"),
                     ("CDISC/NCI", "2025-03-28", "SDTM")]


def test_documents_and_acrf_page_references(sdtm):
    _, _, _, tree = sdtm
    assert one(tree, "//def:AnnotatedCRF/def:DocumentRef/@leafID") == "LF.acrf"
    assert one(tree, "//def:SupplementalDoc/def:DocumentRef/@leafID") == "LF.csdrg"
    assert one(tree, "//odm:MetaDataVersion/def:leaf[@ID='LF.acrf']/@xlink:href") == "acrf.pdf"
    sex = one(tree, "//odm:ItemDef[@OID='IT.DM.SEX']/def:Origin")
    assert (sex.get("Type"), sex.get("Source")) == ("Collected", "Investigator")
    page = one(sex, "def:DocumentRef[@leafID='LF.acrf']/def:PDFPageRef")
    assert (page.get("Type"), page.get("PageRefs")) == ("PhysicalRef", "3")
    assert one(tree, "//odm:ItemDef[@OID='IT.DM.BRTHDTC']//def:PDFPageRef/@PageRefs") == "3 4"


# -- ItemGroupDef ------------------------------------------------------------------------------


def test_sdtm_dataset_order_and_attributes(sdtm):
    _, _, _, tree = sdtm
    assert [g.get("Name") for g in xp(tree, "//odm:ItemGroupDef")] == \
        ["TS", "DM", "EX", "AE", "DS", "SUPPAE", "SUPPDM"]   # SDTM-MSG class order
    dm = one(tree, "//odm:ItemGroupDef[@Name='DM']")
    assert dm.get("OID") == "IG.DM" and dm.get("SASDatasetName") == "DM" and dm.get("Domain") == "DM"
    assert dm.get("Purpose") == "Tabulation" and dm.get("Repeating") == "No" and dm.get("IsReferenceData") == "No"
    assert dm.get(f"{{{DEF}}}Structure") == "One record per subject"
    assert dm.get(f"{{{DEF}}}StandardOID") == "STD.SDTMIG.3.4"
    assert dm.get(f"{{{DEF}}}ArchiveLocationID") == "LF.DM"
    assert one(dm, "odm:Description/odm:TranslatedText/text()") == "Demographics"
    assert one(dm, "def:Class/@Name") == "SPECIAL PURPOSE"
    assert one(dm, "def:leaf[@ID='LF.DM']/@xlink:href") == "dm.xpt"
    assert one(dm, "def:leaf/def:title/text()") == "dm.xpt"
    ts = one(tree, "//odm:ItemGroupDef[@Name='TS']")
    assert ts.get("IsReferenceData") == "Yes" and one(ts, "def:Class/@Name") == "TRIAL DESIGN"


def test_supp_dataset_domain_alias_and_empty_dataset(sdtm):
    _, _, _, tree = sdtm
    supp = one(tree, "//odm:ItemGroupDef[@Name='SUPPDM']")
    assert supp.get("Domain") == "DM"
    assert one(supp, "odm:Alias[@Context='DomainDescription']/@Name") == "Demographics"
    # SUPPAE has no records: planned, HasNoData with a comment, no leaf and no archive location
    suppae = one(tree, "//odm:ItemGroupDef[@Name='SUPPAE']")
    assert suppae.get(f"{{{DEF}}}HasNoData") == "Yes"
    assert suppae.get(f"{{{DEF}}}ArchiveLocationID") is None and not xp(suppae, "def:leaf")
    comment = suppae.get(f"{{{DEF}}}CommentOID")
    assert xp(tree, f"//def:CommentDef[@OID='{comment}']/odm:Description/odm:TranslatedText/text()")


def test_adam_dataset_order_class_and_subclass(adam):
    _, _, _, tree = adam
    assert [g.get("Name") for g in xp(tree, "//odm:ItemGroupDef")] == ["ADSL", "ADAE", "ADAETTE", "ADEX"]
    adae = one(tree, "//odm:ItemGroupDef[@Name='ADAE']")
    assert adae.get("Purpose") == "Analysis" and adae.get("Domain") is None
    assert one(adae, "def:Class/@Name") == "OCCURRENCE DATA STRUCTURE"
    assert one(adae, "def:Class/def:SubClass/@Name") == "ADVERSE EVENT"
    assert one(tree, "//odm:ItemGroupDef[@Name='ADAETTE']/def:Class/def:SubClass/@Name") == "TIME-TO-EVENT"
    assert one(tree, "//odm:ItemGroupDef[@Name='ADSL']/def:Class/@Name") == "SUBJECT LEVEL ANALYSIS DATASET"
    assert not xp(tree, "//odm:ItemGroupDef[@Purpose='Analysis']/odm:ItemRef/@Role")   # Role is SDTM only


# -- ItemRef -----------------------------------------------------------------------------------


def test_item_refs_keys_mandatory_methods_roles(sdtm):
    _, frames, _, tree = sdtm
    dm = one(tree, "//odm:ItemGroupDef[@Name='DM']")
    refs = xp(dm, "odm:ItemRef")
    assert [r.get("ItemOID") for r in refs] == [f"IT.DM.{c}" for c in frames["DM"].columns]
    assert [r.get("OrderNumber") for r in refs] == [str(i) for i in range(1, len(refs) + 1)]
    keys = {r.get("ItemOID"): r.get("KeySequence") for r in refs if r.get("KeySequence")}
    assert keys == {"IT.DM.STUDYID": "1", "IT.DM.USUBJID": "2"}
    mandatory = {r.get("ItemOID").split(".")[-1]: r.get("Mandatory") for r in refs}
    assert mandatory["STUDYID"] == mandatory["USUBJID"] == mandatory["SEX"] == "Yes"      # Req
    assert mandatory["AGE"] == mandatory["RFSTDTC"] == mandatory["BRTHDTC"] == "No"       # Exp, Perm
    assert one(dm, "odm:ItemRef[@ItemOID='IT.DM.AGE']/@MethodOID") == "MT.AGE"
    assert one(dm, "odm:ItemRef[@ItemOID='IT.DM.USUBJID']/@MethodOID") == "MT.USUBJID"
    assert one(dm, "odm:ItemRef[@ItemOID='IT.DM.USUBJID']/@Role") == "Identifier"
    assert not xp(dm, "odm:ItemRef[@ItemOID='IT.DM.SEX']/@MethodOID")                     # collected
    ae_keys = [r.get("ItemOID") for r in sorted(xp(tree, "//odm:ItemGroupDef[@Name='AE']/odm:ItemRef[@KeySequence]"),
                                                 key=lambda r: int(r.get("KeySequence")))]
    assert ae_keys == ["IT.AE.STUDYID", "IT.AE.USUBJID", "IT.AE.AEDECOD", "IT.AE.AESTDTC", "IT.AE.AESEQ"]
    # every Derived variable's ItemRef names its method, and every MethodOID is defined
    for item in xp(tree, "//odm:ItemDef[def:Origin/@Type='Derived']"):
        ref = xp(tree, f"//odm:ItemRef[@ItemOID='{item.get('OID')}']")[0]
        assert xp(tree, f"//odm:MethodDef[@OID='{ref.get('MethodOID')}']"), item.get("OID")


def test_variables_without_values_have_no_data(sdtm):
    _, frames, _, tree = sdtm
    assert frames["DM"]["DTHDTC"].isna().all()               # nobody died in the minimal study
    ref = one(tree, "//odm:ItemRef[@ItemOID='IT.DM.DTHDTC']")
    assert ref.get(f"{{{DEF}}}HasNoData") == "Yes"
    assert one(tree, "//odm:ItemDef[@OID='IT.DM.DTHDTC']/@def:CommentOID") == "COM.NODATA.VARIABLE"
    assert one(tree, "//odm:ItemRef[@ItemOID='IT.DM.AGE']").get(f"{{{DEF}}}HasNoData") is None


# -- ItemDef -----------------------------------------------------------------------------------


def test_text_lengths_are_the_longest_value_in_bytes(sdtm):
    _, _, _, tree = sdtm
    item = one(tree, "//odm:ItemDef[@OID='IT.DM.USUBJID']")
    # 'MINI-01-01-001' is 14 bytes, every USUBJID has that length
    assert (item.get("DataType"), item.get("Length"), item.get("SASFieldName")) == ("text", "14", "USUBJID")
    assert one(item, "odm:Description/odm:TranslatedText/text()") == "Unique Subject Identifier"
    assert one(tree, "//odm:ItemDef[@OID='IT.DM.DOMAIN']/@Length") == "2"          # fixed by the spec
    assert one(tree, "//odm:ItemDef[@OID='IT.DM.SEX']/@Length") == "1"
    assert one(tree, "//odm:ItemDef[@OID='IT.DM.ETHNIC']/@Length") == str(len("NOT HISPANIC OR LATINO"))
    rfst = one(tree, "//odm:ItemDef[@OID='IT.DM.RFSTDTC']")
    assert rfst.get("DataType") == "partialDate" and rfst.get("Length") is None    # ISO 8601: no Length


def test_iso8601_datatype_holds_the_data(sdtm, tmp_path):
    """Define-XML 2.1 section 4.3.1: a --DTC planned as partialDate that holds a time is written
    partialDatetime (not partialDate); one with dates only keeps the planned partialDate."""
    spec, frames, _, _ = sdtm
    assert spec.dataset("AE").variable("AESTDTC").data_type == "partialDate"
    ae = frames["AE"].copy()
    ae.loc[0, "AESTDTC"] = ae.loc[0, "AESTDTC"][:10] + "T10:30"
    ae.loc[1, "AEENDTC"] = ae.loc[1, "AEENDTC"][:4] if isinstance(ae.loc[1, "AEENDTC"], str) else "2021"
    path = define.write_define(spec, dict(frames, AE=ae), tmp_path / "define.xml", created=CREATED)
    tree = etree.parse(str(path))
    assert one(tree, "//odm:ItemDef[@OID='IT.AE.AESTDTC']/@DataType") == "partialDatetime"
    assert one(tree, "//odm:ItemDef[@OID='IT.AE.AEENDTC']/@DataType") == "partialDate"
    assert one(tree, "//odm:ItemDef[@OID='IT.DM.RFSTDTC']/@DataType") == "partialDate"
    assert define.cross_check(path, dict(frames, AE=ae)).empty
    assert not (define.validate_define(path)["severity"] == "error").any()


def test_numeric_lengths_and_significant_digits(sdtm, adam):
    _, _, _, tree = sdtm
    age = one(tree, "//odm:ItemDef[@OID='IT.DM.AGE']")
    assert (age.get("DataType"), age.get("Length")) == ("integer", "2")               # ages 6..10
    dose = one(tree, "//odm:ItemDef[@OID='IT.EX.EXDOSE']")
    assert (dose.get("DataType"), dose.get("Length"), dose.get("SignificantDigits")) == ("float", "2", "1")
    _, _, _, atree = adam
    trtsdt = one(atree, "//odm:ItemDef[@OID='IT.ADSL.TRTSDT']")                       # 2022-01-05 = day 22650
    assert (trtsdt.get("DataType"), trtsdt.get("Length")) == ("integer", "5")
    assert trtsdt.get(f"{{{DEF}}}DisplayFormat") == "DATE9."
    dury = one(atree, "//odm:ItemDef[@OID='IT.ADSL.TRTDURY']")                        # 0.334, 0.0301, 0.2491
    assert (dury.get("Length"), dury.get("SignificantDigits")) == ("5", "4")
    assert one(atree, "//odm:ItemDef[@OID='IT.ADSL.USUBJID']/@Length") == "15"        # 'TPZ-301-02-0103'


def test_origins(sdtm, adam):
    _, _, _, tree = sdtm
    usubjid = one(tree, "//odm:ItemDef[@OID='IT.DM.USUBJID']/def:Origin")
    assert (usubjid.get("Type"), usubjid.get("Source")) == ("Derived", "Sponsor")
    studyid = one(tree, "//odm:ItemDef[@OID='IT.DM.STUDYID']/def:Origin")
    assert (studyid.get("Type"), studyid.get("Source")) == ("Protocol", "Sponsor")
    _, _, _, atree = adam
    pred = one(atree, "//odm:ItemDef[@OID='IT.ADSL.AGE']/def:Origin")
    assert pred.get("Type") == "Predecessor" and pred.get("Source") is None
    assert one(pred, "odm:Description/odm:TranslatedText/text()") == "DM.AGE"
    assert one(atree, "//odm:ItemDef[@OID='IT.ADEX.AVALU']/@def:CommentOID") == "COM.AVALU"
    assert one(atree, "//def:CommentDef[@OID='COM.AVALU']/odm:Description/odm:TranslatedText/text()").startswith(
        "AVALU is a sponsor-defined variable")


# -- CodeList ----------------------------------------------------------------------------------


def test_decoded_codelist_with_c_codes(sdtm):
    _, _, _, tree = sdtm
    assert one(tree, "//odm:ItemDef[@OID='IT.DM.SEX']/odm:CodeListRef/@CodeListOID") == "CL.SEX"
    sex = one(tree, "//odm:CodeList[@OID='CL.SEX']")
    assert sex.get(f"{{{DEF}}}StandardOID") == "STD.CT.SDTM.2025-03-28" and sex.get("DataType") == "text"
    assert one(sex, "odm:Alias[@Context='nci:ExtCodeID']/@Name") == "C66731"
    female = one(sex, "odm:CodeListItem[@CodedValue='F']")
    assert one(female, "odm:Decode/odm:TranslatedText/text()") == "Female"
    assert one(female, "odm:Alias[@Context='nci:ExtCodeID']/@Name") == "C16576"
    # non-extensible lists are written whole: all four Sex terms though the data use F and M
    assert [i.get("CodedValue") for i in xp(sex, "odm:CodeListItem")] == ["F", "INTERSEX", "M", "U"]


def test_extensible_codelist_trimmed_to_the_data(sdtm):
    _, _, _, tree = sdtm
    route = one(tree, "//odm:CodeList[@OID='CL.ROUTE']")             # 142 terms in CT; TOPICAL used
    assert [(i.get("CodedValue"), one(i, "odm:Alias/@Name")) for i in xp(route, "odm:EnumeratedItem")] == \
        [("TOPICAL", "C38304")]
    assert one(route, "odm:Alias/@Name") == "C66729"


def test_extended_value_added_to_extensible_list(sdtm, tmp_path):
    spec, frames, _, _ = sdtm
    frames = {k: v.copy() for k, v in frames.items()}
    frames["EX"].loc[0, "EXDOSFRQ"] = "5 TIMES DAILY"                 # not a FREQ term
    path = define.write_define(spec, frames, tmp_path / "define.xml", created=CREATED)
    tree = etree.parse(str(path))
    freq = one(tree, "//odm:CodeList[@OID='CL.FREQ']")
    items = {i.get("CodedValue"): i for i in xp(freq, "odm:CodeListItem")}
    assert set(items) == {"BID", "5 TIMES DAILY"}
    extended = items["5 TIMES DAILY"]
    assert extended.get(f"{{{DEF}}}ExtendedValue") == "Yes" and not xp(extended, "odm:Alias")
    assert items["BID"].get(f"{{{DEF}}}ExtendedValue") is None and one(items["BID"], "odm:Alias/@Name") == "C64496"
    assert define.validate_define(path)["severity"].ne("error").all()
    assert define.cross_check(path, frames).empty


def test_subset_and_external_codelists(sdtm):
    _, _, _, tree = sdtm
    ny = one(tree, "//odm:CodeList[@OID='CL.NY_YN']")
    assert ny.get("Name") == "No Yes Response (N, Y)" and one(ny, "odm:Alias/@Name") == "C66742"
    meddra = one(tree, "//odm:CodeList[@OID='CL.MEDDRA']")
    ext = one(meddra, "odm:ExternalCodeList")
    assert (ext.get("Dictionary"), ext.get("Version")) == ("MedDRA", "27.1")
    assert meddra.get(f"{{{DEF}}}StandardOID") is None and meddra.get(f"{{{DEF}}}IsNonStandard") is None
    assert one(tree, "//odm:CodeList[@OID='CL.COUNTRY']/odm:ExternalCodeList/@Dictionary") == "ISO 3166"


def test_only_referenced_definitions_are_written(sdtm):
    spec, _, _, tree = sdtm
    referenced = set(xp(tree, "//odm:CodeListRef/@CodeListOID"))
    written = set(xp(tree, "//odm:CodeList/@OID"))
    assert written == referenced and len(written) < len(spec.codelists)
    assert set(xp(tree, "//odm:MethodDef/@OID")) == set(xp(tree, "//odm:ItemRef/@MethodOID"))
    assert set(xp(tree, "//def:WhereClauseDef/@OID")) == set(xp(tree, "//def:WhereClauseRef/@WhereClauseOID"))


# -- value-level metadata, methods ---------------------------------------------------------------


def test_suppdm_qval_value_level(sdtm):
    _, _, _, tree = sdtm
    assert one(tree, "//odm:ItemDef[@OID='IT.SUPPDM.QVAL']/def:ValueListRef/@ValueListOID") == "VL.SUPPDM.QVAL"
    ref = one(tree, "//def:ValueListDef[@OID='VL.SUPPDM.QVAL']/odm:ItemRef")
    assert (ref.get("ItemOID"), ref.get("OrderNumber"), ref.get("Mandatory")) == ("IT.SUPPDM.QVAL.FITZPAT", "1", "No")
    assert one(ref, "def:WhereClauseRef/@WhereClauseOID") == "WC.SUPPDM.QNAM.FITZPAT"
    check = one(tree, "//def:WhereClauseDef[@OID='WC.SUPPDM.QNAM.FITZPAT']/odm:RangeCheck")
    assert (check.get("Comparator"), check.get("SoftHard"), check.get(f"{{{DEF}}}ItemOID")) == \
        ("EQ", "Soft", "IT.SUPPDM.QNAM")
    assert one(check, "odm:CheckValue/text()") == "FITZPAT"
    item = one(tree, "//odm:ItemDef[@OID='IT.SUPPDM.QVAL.FITZPAT']")
    assert (item.get("Name"), item.get("Length")) == ("QVAL", "3")                   # 'II', 'III'
    assert one(item, "odm:Description/odm:TranslatedText/text()") == "Fitzpatrick Skin Type"
    assert one(item, "def:Origin/@Type") == "Collected"


def test_adex_and_adaette_aval_by_paramcd(adam):
    _, _, _, tree = adam
    oids = xp(tree, "//def:ValueListDef[@OID='VL.ADEX.AVAL']/odm:ItemRef/@ItemOID")
    assert oids == ["IT.ADEX.AVAL.TRTDURD", "IT.ADEX.AVAL.TRTDURY", "IT.ADEX.AVAL.TDOSE", "IT.ADEX.AVAL.ADOSE"]
    got = {i.get("OID"): (i.get("DataType"), i.get("Length"), i.get("SignificantDigits"))
           for i in xp(tree, "//odm:ItemDef[@Name='AVAL'][starts-with(@OID, 'IT.ADEX.')]")}
    assert got == {
        "IT.ADEX.AVAL": ("float", "7", "4"),            # 182.0 has 3 digits; TRTDURY needs 4 decimals
        "IT.ADEX.AVAL.TRTDURD": ("integer", "2", None),  # 94, 11, 91
        "IT.ADEX.AVAL.TRTDURY": ("float", "5", "4"),     # 0.2574, 0.0301, 0.2491
        "IT.ADEX.AVAL.TDOSE": ("float", "4", "1"),       # 140.5, 33.0, 182.0
        "IT.ADEX.AVAL.ADOSE": ("float", "3", "2"),       # 1.49, 3.0, 2.0
    }
    assert one(tree, "//def:ValueListDef/odm:ItemRef[@ItemOID='IT.ADEX.AVAL.TDOSE']/@MethodOID") == "MT.ADEX.TDOSE"
    assert xp(tree, "//def:ValueListDef[@OID='VL.ADAETTE.AVAL']/odm:ItemRef/@ItemOID") == \
        ["IT.ADAETTE.AVAL.TEAE", "IT.ADAETTE.AVAL.SINF"]


def test_method_def(sdtm):
    _, _, _, tree = sdtm
    mt = one(tree, "//odm:MethodDef[@OID='MT.AGE']")
    assert (mt.get("Name"), mt.get("Type")) == ("Algorithm to derive AGE", "Computation")
    assert one(mt, "odm:Description/odm:TranslatedText/text()").startswith("AGE = age in completed years")


# -- refusals ----------------------------------------------------------------------------------


def test_missing_frame_is_an_error(sdtm, tmp_path):
    spec, frames, _, _ = sdtm
    frames = {k: v for k, v in frames.items() if k != "AE"}
    with pytest.raises(InputError, match="AE is in the spec but no data were given"):
        define.write_define(spec, frames, tmp_path / "define.xml", created=CREATED)


def test_data_longer_than_a_fixed_spec_length_is_an_error(sdtm, tmp_path):
    spec, frames, _, _ = sdtm
    spec = copy.deepcopy(spec)
    spec.dataset("DM").variable("SUBJID").length = 2                 # SUBJIDs are '001'...
    with pytest.raises(InputError, match=r"DM\.SUBJID: the data need Length 3 but the spec fixes 2"):
        define.write_define(spec, frames, tmp_path / "define.xml", created=CREATED)


def test_column_outside_the_spec_is_an_error(sdtm, tmp_path):
    spec, frames, _, _ = sdtm
    frames = dict(frames, DM=frames["DM"].assign(EXTRA="x"))
    with pytest.raises(InputError, match="DM has columns the spec does not list: EXTRA"):
        define.write_define(spec, frames, tmp_path / "define.xml", created=CREATED)
