"""The annotated CRF (sdtm.acrf): the annotation table covers every raw field the mappers read,
the PDF of the minimal study shows its forms and annotations page by page (text read back from
the PDF's content streams), its bytes are reproducible, and the study's define cites the pages
(def:AnnotatedCRF, def:leaf, PDFPageRef) the PDF shows.
"""
from __future__ import annotations

import copy
import json
import re
import zlib
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

import define
from define._xml import DEF, ODM, XLINK
from fileformats.rawio import RAW_FILE, RAW_ROW
from sdtm import acrf
from sdtm import ae as ae_mod
from sdtm import dm as dm_mod
from sdtm import ds as ds_mod
from sdtm import ex as ex_mod
from sdtm.common import Ledger
from sdtm.config import REQUIRED_FIELDS, StudyConfig, load_study_config
from sdtm.mapping import codelist_values, map_study, read_study_raw
from sdtm.studyspec import compose_study_spec
from specs import Document
from tests.minimal_study import CONFIG, write_minimal_study
from trialpack.writing import write_package_datasets

NS = {"odm": ODM, "def": DEF, "xlink": XLINK}
CREATED = datetime(2026, 1, 15, 9, 0, 0)


@pytest.fixture(scope="module")
def mini(tmp_path_factory) -> StudyConfig:
    return load_study_config(write_minimal_study(tmp_path_factory.mktemp("mini")))


def config_with(base: StudyConfig, edit) -> StudyConfig:
    data = copy.deepcopy(base.data)
    edit(data)
    return StudyConfig(data, base.file)


# -- reading the PDF back ------------------------------------------------------------------------


def pdf_pages(data: bytes) -> list[list[str]]:
    """The text lines of each page, in page order: one line per BT..ET text object, its
    strings decoded as Windows-1252 (the fonts use WinAnsiEncoding)."""
    objects = {int(m.group(1)): m.group(2) for m in re.finditer(rb"(?s)(\d+) 0 obj\n(.*?)\nendobj", data)}
    root = next(body for body in objects.values() if b"/Type /Pages" in body)
    kids = [int(n) for n in re.findall(rb"(\d+) 0 R", re.search(rb"/Kids \[(.*?)\]", root, re.S).group(1))]
    pages = []
    for kid in kids:
        contents = int(re.search(rb"/Contents (\d+) 0 R", objects[kid]).group(1))
        stream = re.search(rb"(?s)stream\n(.*)\nendstream", objects[contents]).group(1)
        pages.append(_text_lines(zlib.decompress(stream)))
    return pages


def _text_lines(content: bytes) -> list[str]:
    lines = []
    for block in re.findall(rb"(?s)\bBT\b(.*?)\bET\b", content):
        raw = b"".join(_literal(s) for s in re.findall(rb"\((?:\\.|[^\\)])*\)", block, re.S))
        lines.append(raw.decode("cp1252"))
    return lines


def _literal(token: bytes) -> bytes:
    """A PDF literal string ``(...)`` without its escapes (PDF 32000-1 §7.3.4.2)."""
    out, body, i = bytearray(), token[1:-1], 0
    simple = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}
    while i < len(body):
        if body[i] != ord("\\"):
            out.append(body[i])
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in simple:
            out += simple[nxt]
            i += 2
        elif chr(nxt) in "01234567":
            digits = re.match(rb"[0-7]{1,3}", body[i + 1:i + 4]).group(0)
            out.append(int(digits, 8) & 0xFF)
            i += 1 + len(digits)
        else:
            out.append(nxt)
            i += 2
    return bytes(out)


@pytest.fixture(scope="module")
def mini_pdf(mini, tmp_path_factory) -> tuple[Path, list[list[str]]]:
    path = acrf.write_acrf(mini, tmp_path_factory.mktemp("pdf") / "acrf.pdf", created=CREATED)
    return path, pdf_pages(path.read_bytes())


# -- the annotation table covers what the mappers read -------------------------------------------


def _probe_class(seen: set):
    """A DataFrame that records every label probed with ``[]`` or ``in`` (kept by the frames
    pandas derives from it), to learn which raw fields the mapper code reads."""

    class Probe(pd.DataFrame):
        @property
        def _constructor(self):
            return Probe

        def __getitem__(self, key):
            if isinstance(key, (str, list)):
                seen.update([key] if isinstance(key, str) else key)
            return super().__getitem__(key)

        def __contains__(self, key):
            if isinstance(key, str):
                seen.add(key)
            return super().__contains__(key)

    return Probe


def _fields_read(config: StudyConfig) -> dict[str, set[str]]:
    """Per raw form, the fields the mapper code probes in the minimal study's raw data (present
    or not: optional fields are probed with ``in`` first)."""
    raw = {d: t.frame for d, t in read_study_raw(config).items()}
    values = codelist_values(compose_study_spec(config))
    seen: dict[str, set] = {d: set() for d in raw}
    ledger = Ledger()
    subjects = dm_mod.map_subjects(_probe_class(seen["DM"])(raw["DM"]), config, ledger, values)
    keys = subjects[["SUBJID", "USUBJID"]]
    ex_mod.map_exposure(_probe_class(seen["EX"])(raw["EX"]), config, keys, ledger, values)
    ds_mod.map_disposition(_probe_class(seen["DS"])(raw["DS"]), config, keys, ledger, values)
    ae_mod.map_adverse_events(_probe_class(seen["AE"])(raw["AE"]), config, keys, ledger, values)
    return {d: {k for k in labels if re.fullmatch(r"[A-Z][A-Z0-9]*", str(k))}
            - {RAW_FILE, RAW_ROW} for d, labels in seen.items()}


def test_every_field_the_mappers_read_has_an_annotation(mini):
    table = acrf.annotation_table()["forms"]
    read = _fields_read(mini)
    supplemental = {q["field"] for qs in CONFIG["supplemental"].values() for q in qs}    # from the config
    # the probe sees optional fields the minimal export lacks, so it really follows the code
    assert {"COUNTRY", "AGE"} <= read["DM"] and {"AEACN", "AESMIE", "AELLT", "AESOC"} <= read["AE"]
    assert {"EXDOSFRQ", "EXLOC"} <= read["EX"] and "DSTERM" in read["DS"]
    for domain, fields in read.items():
        missing = sorted(fields - supplemental - set(table[domain]["fields"]))
        assert not missing, f"{domain} fields read by the mapper without an annotation: {missing}"


def test_required_demo_and_minimal_fields_are_annotated_or_supplemental(mini):
    from trialpack.demo.configs import SUPPLEMENTAL
    from trialpack.demo.render import FIELDS

    table = acrf.annotation_table()["forms"]
    for domain, fields in REQUIRED_FIELDS.items():
        assert set(fields) <= set(table[domain]["fields"])
    for domain, fields in FIELDS.items():
        supplemental = {q["field"] for q in SUPPLEMENTAL.get(domain, [])}
        assert set(fields) - supplemental <= set(table[domain]["fields"]), domain
    for domain, raw in CONFIG["raw"]["files"].items():
        supplemental = {q["field"] for q in CONFIG["supplemental"].get(domain, [])}
        assert set(raw["columns"]) - supplemental <= set(table[domain]["fields"]), domain


def test_the_table_is_checked_and_its_targets_are_sdtm_variables():
    from specs.load import standard_spec

    spec = standard_spec("sdtmig-3.4")
    names = {(ds.name, v.name) for ds, v in spec.iter_variables()}
    for domain, form in acrf.annotation_table()["forms"].items():
        for name, fld in form["fields"].items():
            for case in fld.get("cases") or [fld]:
                for target in case.get("supplies", []):
                    assert tuple(target.split(".")) in names, (domain, name, target)


# -- what each field says ---------------------------------------------------------------------------


def test_minimal_study_forms_fields_and_annotations(mini):
    forms = {f.domain: f for f in acrf.crf_forms(mini)}
    assert list(forms) == ["DM", "AE", "EX", "DS"]
    dm = {f.name: f for f in forms["DM"].fields}
    assert [f.name for f in forms["DM"].fields] == list(CONFIG["raw"]["files"]["DM"]["columns"])
    assert dm["BRTHDAT"].column == "Birth date" and dm["BRTHDAT"].annotations == ("DM.BRTHDTC",)
    assert dm["BRTHDAT"].entry == ("DD MON YYYY", "YYYY-MM-DD")   # the config's date formats
    assert dm["FITZ"].prompt == "Fitzpatrick Skin Type"
    assert dm["FITZ"].annotations == ('SUPPDM.QVAL when QNAM = "FITZPAT"',)
    assert dm["FITZ"].supplies == (("SUPPDM", "QVAL.FITZPAT"),)
    assert dm["SUBJID"].annotations == ("DM.SUBJID", "DM.USUBJID = {STUDYID}-{SITEID}-{SUBJID}")
    assert dm["ARM"].annotations == ("DM.ARMCD, DM.ARM", 'DM.ARMCD = "VEH-TPZ15" when "A"',
                                     'DM.ARMCD = "TPZ15-TPZ15" when "B"')
    assert forms["DM"].domains == (("DM", "Demographics"), ("SUPPDM", "Supplemental Qualifiers for DM"))
    ae = {f.name: f for f in forms["AE"].fields}
    assert ae["AEONGO"].annotations == ('AE.AEENRTPT = "ONGOING" when Y and AEENDAT is blank',
                                        'AE.AEENTPT = "END OF STUDY" when Y and AEENDAT is blank')
    # no AESOC column: the primary SOC comes from AEBODSYS
    assert ae["AEBODSYS"].supplies == (("AE", "AEBODSYS"), ("AE", "AESOC"))
    assert forms["AE"].domains == (("AE", "Adverse Events"),)       # no SUPPAE qualifier in this study
    ex = {f.name: f for f in forms["EX"].fields}
    assert ex["EXDOSE"].annotations == ('EX.EXDOSE (EXDOSU = "g")',)
    assert ex["EXTRT"].annotations == ("EX.EXTRT", 'EX.EXTRT = "VEHICLE CREAM" when "VEH"',
                                       'EX.EXTRT = "TOPAZITINIB CREAM 1.5%" when "TPZ15"')
    assert ex["PERIOD"].annotations[1:] == ('EX.EPOCH = "BLINDED TREATMENT" when "DB"',
                                            'EX.EPOCH = "OPEN LABEL TREATMENT" when "OLE"')
    assert forms["EX"].notes == ('EX.EXDOSFRM = "CREAM"', 'EX.EXROUTE = "TOPICAL"')
    ds = {f.name: f for f in forms["DS"].fields}
    # no DSTERM column: DSTERM is the decoded status (sdtm/ds.py)
    assert ds["DSDECOD"].supplies == (("DS", "DSDECOD"), ("DS", "DSTERM"))
    assert forms["DS"].notes == ('DS.DSCAT = "DISPOSITION EVENT"',)


def test_cases_follow_the_config(mini):
    def edit(data):
        data["age"] = "collected"
        data["raw"]["files"]["DM"]["columns"] |= {"AGE": "Age", "VISIT": "Visit"}
        data["raw"]["files"]["DS"]["columns"]["DSTERM"] = "Reason"
        del data["exposure"]["dose_unit"]
        data["periods"][0].pop("raw")

    forms = {f.domain: {fld.name: fld for fld in f.fields} for f in acrf.crf_forms(config_with(mini, edit))}
    assert forms["DM"]["AGE"].annotations == ("DM.AGE", 'DM.AGEU = "YEARS"')
    assert forms["DM"]["AGE"].supplies == (("DM", "AGE"),)
    assert forms["DM"]["VISIT"].annotations == ("[NOT SUBMITTED] exported but not used by trialpack",)
    assert forms["DM"]["VISIT"].supplies == ()
    assert forms["DS"]["DSDECOD"].supplies == (("DS", "DSDECOD"),)
    assert forms["EX"]["EXDOSE"].annotations == ("EX.EXDOSE",)
    assert forms["EX"]["PERIOD"].annotations[1] == 'EX.EPOCH = "BLINDED TREATMENT" when "1"'
    derived = {fld.name: fld for fld in acrf.crf_forms(config_with(
        mini, lambda d: d["raw"]["files"]["DM"]["columns"].update(AGE="Age")))[0].fields}
    assert derived["AGE"].annotations == ("[NOT SUBMITTED] DM.AGE is derived from BRTHDTC and RFICDTC",)
    assert derived["AGE"].supplies == ()


# -- the PDF -------------------------------------------------------------------------------------------


def test_minimal_pdf_has_one_page_per_form_with_its_annotations(mini_pdf):
    _, pages = mini_pdf
    assert len(pages) == 4
    for number, (lines, form) in enumerate(zip(pages, ["Demographics", "Adverse Events", "Exposure",
                                                        "Disposition"]), start=1):
        assert lines[:2] == ["MINI-01: Minimal study", form]
        assert acrf.DISCLAIMER in lines
        assert f"Page {number} of 4" in lines
    dm, ae, ex, ds = pages
    assert {"DM (Demographics)", "SUPPDM (Supplemental Qualifiers for DM)", '"Birth date"', "BRTHDAT",
            "Birth Date", "DM.BRTHDTC", 'SUPPDM.QVAL when QNAM = "FITZPAT"', "DD MON YYYY", "YYYY-MM-DD",
            "Raw form DM: EDC export file dm.csv, 9 fields"} <= set(dm)
    # a long annotation wraps inside its box: two lines
    assert {'AE.AEENRTPT = "ONGOING" when Y and', "AEENDAT is blank", "AE.AESTDTC", "AE.AEDECOD",
            "Ongoing", '"Ongoing"', "AEONGO"} <= set(ae)
    assert {'EX.EXDOSE (EXDOSU = "g")', 'EX.EXDOSFRM = "CREAM"', 'EX.EXTRT = "VEHICLE CREAM" when "VEH"',
            '"Grams"'} <= set(ex)
    assert {"DS.DSDECOD", "DS.DSTERM", "DS.DSSTDTC", 'DS.DSCAT = "DISPOSITION EVENT"'} <= set(ds)
    assert "AE.AESTDTC" not in dm and "DM.BRTHDTC" not in ae
    assert all("created 2026-01-15T09:00:00" in lines for lines in pages)


def test_pdf_bytes_are_reproducible_and_carry_no_tool_version(mini, mini_pdf, tmp_path):
    path, _ = mini_pdf
    again = acrf.write_acrf(mini, tmp_path / "again.pdf", created=CREATED)
    data = path.read_bytes()
    assert data.startswith(b"%PDF-1.4") and again.read_bytes() == data
    assert b"Matplotlib" not in data and b"/CreationDate" not in data   # a naive time has no zone
    assert b"/Creator (trialpack)" in data and b"/Title (MINI-01 Annotated CRF)" in data
    assert len(re.findall(rb"/FontFile2 ", data)) == 3                       # three embedded TrueType subsets
    stamped = acrf.write_acrf(mini, tmp_path / "utc.pdf", created=CREATED.replace(tzinfo=timezone.utc))
    assert b"/CreationDate (D:20260115090000Z)" in stamped.read_bytes()


def test_crf_pages_are_the_pages_the_pdf_shows(mini, mini_pdf):
    _, pages = mini_pdf
    assert acrf.crf_pages(mini) == {
        **{("DM", v): "1" for v in ("SUBJID", "SITEID", "BRTHDTC", "SEX", "RACE", "ETHNIC", "RFICDTC", "ARMCD",
                                    "ARM")},
        ("SUPPDM", "QVAL.FITZPAT"): "1",
        **{("AE", v): "2" for v in ("AESPID", "AETERM", "AEDECOD", "AEPTCD", "AEBODSYS", "AESOC", "AEBDSYCD",
                                    "AESOCCD", "AESTDTC", "AEENDTC", "AEENRTPT", "AEENTPT", "AESER", "AESHOSP",
                                    "AESLIFE", "AESEV", "AEREL", "AEOUT")},
        **{("EX", v): "3" for v in ("EXTRT", "EPOCH", "EXSTDTC", "EXENDTC", "EXDOSE")},
        **{("DS", v): "4" for v in ("DSDECOD", "DSTERM", "EPOCH")},
        ("DS", "DSSTDTC"): "1 4",   # the consent date (page 1) is also DS's INFORMED CONSENT OBTAINED milestone
    }
    assert_pages_show_fields(mini, pages)


def assert_pages_show_fields(config: StudyConfig, pages: list[list[str]]) -> None:
    """Every field's export column and first annotation line are on the page crf_pages cites
    for what it supplies, and on no other page."""
    cited = acrf.crf_pages(config)
    for form in acrf.crf_forms(config):
        for fld in form.fields:
            first = acrf._wrap(fld.annotations[0], acrf.WRAP["annot"])[0]
            shown = {n for n, lines in enumerate(pages, start=1) if first in lines and f'"{fld.column}"' in lines}
            for key in fld.supplies:
                assert {int(p) for p in cited[key].split()} >= shown and len(shown) == 1, (fld.name, key, shown)


def test_a_long_form_continues_on_the_next_page(mini, tmp_path):
    table = acrf.annotation_table()["forms"]["AE"]["fields"]

    def edit(data):
        data["raw"]["files"]["AE"]["columns"] = {name: f"Column {name.lower()}" for name in table}

    config = config_with(mini, edit)
    pages = pdf_pages(acrf.write_acrf(config, tmp_path / "acrf.pdf", created=CREATED).read_bytes())
    layout = acrf.layout(config)
    assert [(p.form.domain, p.part, p.parts) for p in layout] == [("DM", 1, 1), ("AE", 1, 2), ("AE", 2, 2),
                                                                   ("EX", 1, 1), ("DS", 1, 1)]
    assert len(pages) == 5 and pages[2][1] == "Adverse Events (continued, 2 of 2)"
    assert layout[2].first == len(layout[1].fields) + 1 and f"{layout[2].first}." in pages[2]
    assert_pages_show_fields(config, pages)
    assert acrf.crf_pages(config)[("AE", "AEACN")] == "3"                # the last AE field: on the continuation


@settings(max_examples=40, deadline=None)
@given(headers=st.lists(st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=80),
                        min_size=1, max_size=40),
       title=st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=300))
def test_layout_keeps_every_field_once_in_order_and_within_the_page(headers, title):
    names = list(acrf.annotation_table()["forms"]["AE"]["fields"])
    data = copy.deepcopy(CONFIG)
    data["title"] = title
    data["raw"]["files"]["AE"]["columns"] = {names[i % len(names)] + ("" if i < len(names) else f"X{i}"): h
                                             for i, h in enumerate(headers)}
    config = StudyConfig(data, Path("study.json"))
    layout = acrf.layout(config)
    assert [p.number for p in layout] == list(range(1, len(layout) + 1))
    ae = [p for p in layout if p.form.domain == "AE"]
    assert [f for p in ae for f in p.fields] == list(ae[0].form.fields)
    for page in layout:
        room = acrf.PAGE_H - 2 * acrf.MARGIN - acrf.FOOTER - acrf.header_height(config, page.form)
        assert sum(acrf.row_height(f) for f in page.fields) <= room or len(page.fields) == 1


# -- the study spec and its define -------------------------------------------------------------------


def test_the_aCRF_document_is_a_plain_document_to_json_and_define(mini):
    doc = acrf.AnnotatedCRF(mini)
    plain = Document(id="LF.acrf", title="Annotated CRF", href="acrf.pdf", kind="AnnotatedCRF")
    assert doc.to_dict() == plain.to_dict() == {"id": "LF.acrf", "title": "Annotated CRF", "href": "acrf.pdf",
                                                "kind": "AnnotatedCRF"}
    assert doc == plain and plain == doc and doc != Document(id="LF.acrf", title="aCRF", href="acrf.pdf")


def test_study_spec_cites_pages_on_collected_variables_only(mini):
    spec = compose_study_spec(mini)
    assert [(d.id, d.href, d.kind) for d in spec.documents] == [("LF.acrf", "acrf.pdf", "AnnotatedCRF")]
    pages = acrf.crf_pages(mini)
    for ds, var in spec.iter_variables():
        collected = var.origin_type == "Collected" and var.origin_source in ("Investigator", "Subject")
        expected = pages.get((ds.name, var.name)) if collected else None
        assert var.origin_pages == expected, (ds.name, var.name)
    # assigned, derived and protocol variables a field feeds keep their origins, with no page
    dm = spec.dataset("DM")
    assert dm.variable("SUBJID").origin_type == "Assigned" and dm.variable("SUBJID").origin_pages is None
    assert spec.dataset("AE").variable("AEENRTPT").method == "MT.AEENRTPT"
    assert spec.dataset("AE").variable("AEENRTPT").origin_pages is None
    assert spec.dataset("DM").variable("BRTHDTC").origin_pages == "1"
    (fitz,) = [v for v in spec.value_level if v.dataset == "SUPPDM"]
    assert (fitz.where_clause, fitz.origin_type, fitz.origin_pages) == ("WC.SUPPDM.QNAM.FITZPAT", "Collected", "1")


def test_a_spec_overlay_with_its_own_acrf_keeps_it(mini, tmp_path):
    overlay = tmp_path / "study-spec"
    overlay.mkdir()
    (overlay / "documents.json").write_text(json.dumps({"documents": [
        {"id": "LF.blankcrf", "title": "Annotated CRF (sponsor)", "href": "blankcrf.pdf", "kind": "AnnotatedCRF"}]}))
    config = config_with(mini, lambda d: d.update(spec="study-spec"))
    config = StudyConfig(config.data, tmp_path / "mini-01.json")
    spec = compose_study_spec(config)
    assert [type(d) for d in spec.documents] == [Document] and spec.documents[0].id == "LF.blankcrf"
    assert all(v.origin_pages is None for _, v in spec.iter_variables())


@pytest.fixture(scope="module")
def package(mini, tmp_path_factory):
    study = map_study(mini, read_study_raw(mini), data_cutoff="2021-12-31")
    folder = tmp_path_factory.mktemp("package")
    files = write_package_datasets(study.spec, study.datasets, folder, formats=("xpt",), created=CREATED,
                                   study_oid=study.spec.study.oid)
    return study, folder, files


def test_package_writes_the_acrf_beside_define(package, mini_pdf):
    study, folder, files = package
    assert folder / "acrf.pdf" in files
    assert (folder / "acrf.pdf").read_bytes() == mini_pdf[0].read_bytes()   # same config, same created


def test_define_has_the_acrf_and_its_page_references(package, mini):
    study, folder, _ = package
    tree = etree.parse(str(folder / "define.xml"))
    assert tree.xpath("//def:AnnotatedCRF/def:DocumentRef/@leafID", namespaces=NS) == ["LF.acrf"]
    (leaf,) = tree.xpath("//odm:MetaDataVersion/def:leaf[@ID='LF.acrf']", namespaces=NS)
    assert leaf.get(f"{{{XLINK}}}href") == "acrf.pdf"
    assert leaf.findtext(f"{{{DEF}}}title") == "Annotated CRF"
    pages = acrf.crf_pages(mini)
    cited = {}
    for item in tree.xpath("//odm:ItemDef[def:Origin/def:DocumentRef/def:PDFPageRef]", namespaces=NS):
        origin = item.find(f"{{{DEF}}}Origin")
        ref = origin.find(f"{{{DEF}}}DocumentRef")
        page = ref.find(f"{{{DEF}}}PDFPageRef")
        assert (origin.get("Type"), ref.get("leafID"), page.get("Type")) == ("Collected", "LF.acrf", "PhysicalRef")
        dataset, variable = item.get("OID").removeprefix("IT.").split(".", 1)
        cited[(dataset, variable)] = page.get("PageRefs")
    assert cited == {
        **{("DM", v): "1" for v in ("RFICDTC", "BRTHDTC", "SEX", "RACE", "ETHNIC")},
        ("SUPPDM", "QVAL.FITZPAT"): "1",
        **{("AE", v): "2" for v in ("AESPID", "AETERM", "AESEV", "AESER", "AEREL", "AEOUT", "AESHOSP", "AESLIFE",
                                    "AESTDTC", "AEENDTC")},
        **{("EX", v): "3" for v in ("EXDOSE", "EXSTDTC", "EXENDTC")},
        ("DS", "DSTERM"): "4", ("DS", "DSSTDTC"): "1 4",
    }
    assert all(pages[key] == value for key, value in cited.items())


def test_define_is_valid_and_only_the_uncollected_variable_lacks_a_page(package):
    study, folder, _ = package
    found = define.validate_define(folder / "define.xml")
    assert not (found["severity"] == "error").any(), found.to_string()
    # AEACN is Expected, so it stays (all null); the minimal AE export has no such column: it is
    # declared not collected (origin Assigned, a comment), so no DD0022 asks for a page
    assert found.empty, found.to_string()
    written = {name: df for name, df in study.datasets.items() if len(df) or not name.startswith("SUPP")}
    crossed = define.cross_check(folder / "define.xml", written, folder=folder)   # DD0114: the leaf exists
    # the one AE record without a verbatim term or coding (kept, tests/minimal_study.py): two Mandatory nulls
    assert sorted(zip(crossed["rule"], crossed["variable"])) == [("DD0115", "AEDECOD"), ("DD0115", "AETERM")]


def test_define_html_links_to_the_acrf_pages(package):
    _, folder, _ = package
    html = (folder / "define.html").read_text(encoding="utf-8")
    assert 'href="acrf.pdf#page=1"' in html and 'href="acrf.pdf#page=4"' in html


# -- the reviewer's guides (def:SupplementalDoc) -------------------------------------------------------


def _follows(lines: list[str], expected: list[str]) -> bool:
    """``expected`` appears as consecutive text lines of the PDF."""
    n = len(expected)
    return any(lines[i:i + n] == expected for i in range(len(lines) - n + 1))


def test_package_writes_the_reviewers_guide_the_define_cites(package):
    study, folder, files = package
    assert folder / "csdrg.pdf" in files
    tree = etree.parse(str(folder / "define.xml"))
    assert tree.xpath("//def:SupplementalDoc/def:DocumentRef/@leafID", namespaces=NS) == ["LF.csdrg"]
    (leaf,) = tree.xpath("//odm:MetaDataVersion/def:leaf[@ID='LF.csdrg']", namespaces=NS)
    assert leaf.get(f"{{{XLINK}}}href") == "csdrg.pdf" and (folder / "csdrg.pdf").is_file()
    assert leaf.findtext(f"{{{DEF}}}title") == "Clinical Study Data Reviewer's Guide"
    data = (folder / "csdrg.pdf").read_bytes()
    assert data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF")
    titles = re.findall(rb"/Title \(([^)]*)\) /Parent", data)       # a bookmark per section's first page
    assert titles[0] == b"1. Introduction"


def test_reviewers_guide_states_the_mapping_facts(package):
    """The minimal study by hand (tests/minimal_study.py): 7 subjects in DM from 8 raw rows (a
    duplicate rejected); three raw rows rejected, each with its reason (the records with a bad value
    are kept, each an error finding); one SUPPDM qualifier."""
    study, folder, _ = package
    pages = pdf_pages((folder / "csdrg.pdf").read_bytes())
    lines = [line for page in pages for line in page]
    assert lines[:3] == ["MINI-01 Clinical Study Data Reviewer's Guide", "Minimal study", "Protocol MINI-01"]
    assert _follows(lines, ["DM", "Demographics", "SPECIAL PURPOSE", "One record per subject", "STUDYID, USUBJID",
                            "7"])
    assert _follows(lines, ["DM", "dm.csv", "8", "7", "1", "0"])
    assert _follows(lines, ["Raw form", "Reason", "Records", "AE", "subject is not in DM", "1",
                            "DM", "exact duplicate of row 2", "1", "EX", "subject is not in DM", "1"])
    assert _follows(lines, ["SUPPDM", "FITZPAT", "Fitzpatrick Skin Type", "Fitzpatrick", "CRF", "2"])
    assert _follows(lines, ["TP0101", "error", "Raw record rejected: it names no subject of the study's DM", "2"])
    assert _follows(lines, ["TP0102", "error", "Raw date is not a valid date: the record is kept with the SDTM date null",
                            "1"])
    assert _follows(lines, ["TP0114", "error", "A value the record needs is empty: the record is kept with it null", "1"])
    assert _follows(lines, ["TP0115", "error", "Dose not a storable non-negative number: record kept, EXDOSE null", "1"])
    assert _follows(lines, ["TP0116", "warning", "Raw record rejected as an exact duplicate of an earlier row (nothing lost)",
                            "1"])
    assert all(page[-1] == f"Page {n} of {len(pages)}" for n, page in enumerate(pages, start=1))


def test_reviewers_guide_same_bytes_and_a_spec_overlay_keeps_its_own(package, mini, tmp_path):
    study, folder, _ = package
    (guide,) = [d for d in study.spec.documents if d.kind == "SupplementalDoc"]
    assert guide == Document(id="LF.csdrg", title="Clinical Study Data Reviewer's Guide", href="csdrg.pdf",
                             kind="SupplementalDoc")
    assert guide.write(tmp_path / "again.pdf", created=CREATED).read_bytes() == (folder / "csdrg.pdf").read_bytes()
    spec = compose_study_spec(mini)
    spec.documents = [*spec.documents, Document(id="LF.sdrg", title="SDRG", href="sdrg.pdf", kind="SupplementalDoc")]
    study = map_study(mini, read_study_raw(mini), spec=spec)
    assert [d.id for d in study.spec.documents if d.kind == "SupplementalDoc"] == ["LF.sdrg"]


def test_iss_package_writes_the_analysis_reviewers_guide(tmp_path):
    """The minimal ISS: ADSL holds 6 of the 7 DM subjects (003 failed screening) and 5 of them
    are in the safety population (004 was never treated)."""
    from adam.build import derive_adam, pool_sdtm
    from adam.config import load_iss_config
    from tests.minimal_study import write_minimal_iss

    iss = load_iss_config(write_minimal_iss(tmp_path / "input"))
    analysis = derive_adam(pool_sdtm([map_study(c, read_study_raw(c)).datasets for c in iss.studies]), iss)
    folder = tmp_path / "adam"
    files = write_package_datasets(analysis.spec, analysis.datasets, folder, formats=("xpt",), created=CREATED,
                                   study_oid=analysis.spec.study.oid)
    assert folder / "adrg.pdf" in files
    tree = etree.parse(str(folder / "define.xml"))
    assert tree.xpath("//def:SupplementalDoc/def:DocumentRef/@leafID", namespaces=NS) == ["LF.adrg"]
    assert tree.xpath("//odm:MetaDataVersion/def:leaf[@ID='LF.adrg']/@xlink:href", namespaces=NS) == ["adrg.pdf"]
    assert define.check_leaves(folder / "define.xml", folder).empty
    lines = [line for page in pdf_pages((folder / "adrg.pdf").read_bytes()) for line in page]
    assert lines[0] == f"{iss.id} Analysis Data Reviewer's Guide"
    assert _follows(lines, ["Study", "Source", "Subjects in ADSL", "Safety population",
                            "MINI-01", "raw EDC exports", "6", "5"])
    assert _follows(lines, ["ADEX", "TRTDURD", "Total Treatment Duration (days)"])
