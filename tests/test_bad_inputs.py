"""The catalogue of bad inputs: each is one broken thing, each has its designed outcome.

Two outcomes exist (DESIGN.md principle 4 and the CLI's exit codes):

* **refused** — exit 2, exactly one line on stderr that names the file and, where the case
  has one, the row, column, sheet, JSON path or byte offset; never a traceback; and nothing
  written: the folder holding the previous good package (and any previous output file) is
  byte-for-byte unchanged, with no scratch folder left beside it;
* **a finding** — the package is built (exit 0 or 1) and ``validation/findings.json`` holds
  the finding (rule id, raw file, raw row) while the record is kept or rejected with a reason.

Each refused case starts from the hand-checked minimal study (``tests/minimal_study.py``) and
breaks one thing, then runs the CLI in a fresh process. The finding cases each break one
record of their own (their own raw row) and share one build, which keeps the suite fast.
Cases marked ``xfail(strict=True)`` are wrong today in code outside the reliability fixes
(the reason names the module); they fail loudly once fixed, so the mark is removed then.
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from tests.cli_support import fingerprint, good_package, one_error_line, run_cli
from tests.minimal_study import write_minimal_iss

STUDY = "mini-01.json"
ISS = "iss.json"


# -- editing the minimal study ------------------------------------------------------------------


def edit_json(path: Path, change: Callable[[dict], object]) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")


def study(work: Path, change: Callable[[dict], object]) -> None:
    edit_json(work / STUDY, change)


def iss(work: Path, change: Callable[[dict], object]) -> None:
    edit_json(work / ISS, change)


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def append(path: Path, line: str) -> int:
    """Append one record; return its row as a spreadsheet shows it (the header is row 1)."""
    text = path.read_text(encoding="utf-8")
    path.write_text(text + line + "\n", encoding="utf-8")
    return len((text + line).splitlines())


def raw(work: Path, name: str) -> Path:
    return work / "raw" / name


def csv_to_xlsx(source: Path, target: Path, *, sheet: str = "DM", formula: tuple[str, str] | None = None,
                rows: bool = True) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    if rows:
        for row in csv.reader(io.StringIO(source.read_text(encoding="utf-8"))):
            ws.append(row)
    if formula:
        ws[formula[0]] = formula[1]
    wb.save(target)


def rezip(path: Path, member: str, change: Callable[[bytes], bytes]) -> None:
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts[member] = change(parts[member])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in parts.items():
            z.writestr(name, body)


def use_xlsx_dm(work: Path, **options) -> Path:
    """Switch the study's DM export to an xlsx copy of it; returns the workbook path."""
    target = raw(work, "dm.xlsx")
    csv_to_xlsx(raw(work, "dm.csv"), target)
    study(work, lambda c: c["raw"]["files"]["DM"].update(path="dm.xlsx", **options))
    return target


def with_entity(secret: Path) -> Callable[[bytes], bytes]:
    """Declare an external entity reading ``secret`` and use it in the first text cell."""
    def change(xml: bytes) -> bytes:
        text = xml.decode("utf-8")
        doctype = f'<!DOCTYPE worksheet [<!ENTITY leak SYSTEM "{secret.as_uri()}">]>'
        head, sep, body = text.partition("?>") if text.startswith("<?xml") else ("", "", text)
        return (head + sep + doctype + body.replace("<t>", "<t>&leak;", 1)).encode("utf-8")
    return change


# -- small specs and datasets for the spec, convert and validate commands -------------------------

SMALL_SPEC = {
    "study": {"oid": "STDY.T", "name": "T"},
    "datasets": [{"name": "XX", "label": "Test domain", "class": "EVENTS", "structure": "One record per event",
                  "keys": ["STUDYID", "USUBJID"], "variables": [
                      {"name": "STUDYID", "label": "Study Identifier", "data_type": "text", "length": 10, "order": 1},
                      {"name": "USUBJID", "label": "Unique Subject Identifier", "data_type": "text", "length": 20,
                       "order": 2},
                      {"name": "XXSEV", "label": "Severity", "data_type": "text", "length": 8, "order": 3,
                       "codelist": "CL.SEV"}]}],
    "codelists": [{"oid": "CL.SEV", "name": "Severity", "data_type": "text",
                   "items": [{"value": "MILD"}, {"value": "SEVERE"}]}],
}
VAR3 = "$.datasets[0].variables[2]"


def var3(**changes) -> Callable[[dict], None]:
    """Change the third variable (XXSEV) of the small spec."""
    return lambda spec: spec["datasets"][0]["variables"][2].update(**changes)


def spec_json(work: Path, target: Path, change: Callable[[dict], object]) -> list[str]:
    """A spec folder with one broken value, exported over a previous workbook."""
    data = json.loads(json.dumps(SMALL_SPEC))
    change(data)
    (work / "spec").mkdir()
    (work / "spec" / "spec.json").write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    (target / "spec.xlsx").write_bytes(b"the previous export")
    return ["spec", "export", "spec", str(target / "spec.xlsx")]


def spec_workbook(work: Path, target: Path, change: Callable) -> list[str]:
    """A spec workbook with one broken cell, imported over a previous spec folder."""
    from openpyxl import load_workbook

    from specs.load import save_spec
    from specs.model import Spec
    from specs.workbook import write_workbook

    spec = Spec.from_dict(json.loads(json.dumps(SMALL_SPEC)))
    write_workbook(spec, work / "good.xlsx")
    wb = load_workbook(work / "good.xlsx")
    change(wb)
    wb.save(work / "in.xlsx")
    save_spec(spec, target / "spec")
    return ["spec", "import", "in.xlsx", str(target / "spec")]


def set_cell(sheet: str, cell: str, value) -> Callable:
    return lambda wb: setattr(wb[sheet][cell], "value", value)


def good_xpt(work: Path, tmp_source: Path) -> bytes:
    return (tmp_source / "m5" / "datasets" / "mini-01" / "tabulations" / "sdtm" / "dm.xpt").read_bytes()


# -- the refused cases ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Refused:
    """One broken input: ``make(work, target, package)`` breaks the minimal study in ``work``
    (and may put a previous output in ``target``) and returns the CLI arguments (default: build
    into ``target/out``); the error line must contain every fragment of ``names``."""

    id: str
    make: Callable[[Path, Path, Path], list[str] | None]
    names: tuple[str, ...]


def build_args(target: Path) -> list[str]:
    return ["build", ISS, "--out", str(target / "out"), "--quiet"]


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def _xpt_case(change: Callable[[bytes], bytes], command: str) -> Callable:
    def make(work: Path, target: Path, package: Path) -> list[str]:
        (work / "dm.xpt").write_bytes(change(good_xpt(work, package)))
        if command == "validate":
            return ["validate", "dm.xpt", "--quiet"]
        (target / "dm.csv").write_text("the previous conversion\n")
        return ["convert", "dm.xpt", str(target / "dm.csv")]
    return make


def _to_xpt(source: str, text: str) -> Callable:
    """``trialpack convert SOURCE dm.xpt`` over a previous conversion (a CSV is typed by SDTMIG DM)."""
    def make(work: Path, target: Path, package: Path) -> list[str]:
        (work / source).write_text(text, encoding="utf-8")
        (target / "dm.xpt").write_bytes(b"the previous conversion")
        return ["convert", source, str(target / "dm.xpt")]
    return make


def _xxe_define(work: Path, target: Path, package: Path) -> list[str]:
    (work / "secret.txt").write_text("TOPSECRET-DEFINE")
    (work / "define.xml").write_text(
        f'<?xml version="1.0"?><!DOCTYPE ODM [<!ENTITY leak SYSTEM "{(work / "secret.txt").as_uri()}">]>'
        '<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3">&leak;</ODM>')
    return ["validate", "define.xml", "--quiet"]


def _xxe_xlsx(work: Path, target: Path, package: Path) -> None:
    (work / "secret.txt").write_text("TOPSECRET-XLSX")
    rezip(use_xlsx_dm(work), "xl/worksheets/sheet1.xml", with_entity(work / "secret.txt"))


def _xxe_workbook(work: Path, target: Path, package: Path) -> list[str]:
    args = spec_workbook(work, target, lambda wb: None)
    (work / "secret.txt").write_text("TOPSECRET-SPEC")
    rezip(work / "in.xlsx", "xl/worksheets/sheet4.xml", with_entity(work / "secret.txt"))
    return args


def _study_spec(body: str) -> Callable:
    def make(work: Path, target: Path, package: Path) -> None:
        (work / "studyspec").mkdir()
        (work / "studyspec" / "xx.json").write_text(body, encoding="utf-8")
        study(work, lambda c: c.update(spec="studyspec"))
    return make


def _malformed_spec(work: Path, target: Path) -> list[str]:
    args = spec_json(work, target, lambda s: None)
    (work / "spec" / "spec.json").write_text('{"datasets": [\n\n  oops]}')
    return args


def _sdtm_study_missing(domain: str, variable: str) -> Callable:
    """A study that arrives as SDTM (source "sdtm") whose ``domain`` lacks ``variable``."""
    def make(work: Path, target: Path, package: Path) -> None:
        from fileformats.xpt import read_xpt, write_xpt

        sdtm = package / "m5" / "datasets" / "mini-01" / "tabulations" / "sdtm"
        (work / "sdtm").mkdir()
        for name in ("dm", "ae", "ex", "ds"):
            frame, meta = read_xpt(sdtm / f"{name}.xpt")
            write_xpt(frame.drop(columns=[variable] if name == domain.lower() else []), work / "sdtm" / f"{name}.xpt",
                      name=name.upper(), label=meta.label)
        (work / STUDY).write_text(json.dumps({"studyid": "MINI-01", "title": "Minimal study", "source": "sdtm",
                                              "sdtm_dir": "sdtm"}), encoding="utf-8")
    return make


def _out_user_folder(work: Path, target: Path, package: Path) -> list[str]:
    (target / "thesis").mkdir()
    (target / "thesis" / "chapter1.docx").write_bytes(b"two years of work")
    return ["build", ISS, "--out", str(target / "thesis"), "--quiet"]


def _other_manifest(body: str, command: str = "build") -> Callable:
    """A user's folder holding a manifest.json that trialpack did not write (``body``) and a file of its
    own, given as ``--out`` of a build (which would replace it) or to ``validate`` (which would write
    its reports into it)."""
    def make(work: Path, target: Path, package: Path) -> list[str]:
        (target / "extension").mkdir()
        (target / "extension" / "manifest.json").write_text(body, encoding="utf-8")
        (target / "extension" / "background.js").write_text("chrome.runtime.onInstalled.addListener(() => {});\n")
        if command == "validate":
            return ["validate", str(target / "extension"), "--quiet"]
        return ["build", ISS, "--out", str(target / "extension"), "--quiet"]
    return make


BROWSER_EXTENSION = '{"manifest_version": 3, "name": "Tab sorter", "version": "1.0", ' \
                    '"background": {"service_worker": "background.js"}}'


def _out_file(work: Path, target: Path, package: Path) -> list[str]:
    (target / "notes.txt").write_text("not a folder")
    return ["build", ISS, "--out", str(target / "notes.txt"), "--quiet"]


def _corrupt_sheet(work: Path, target: Path, package: Path) -> None:
    rezip(use_xlsx_dm(work), "xl/worksheets/sheet1.xml", lambda xml: xml[: len(xml) // 2])


def _sas7bdat(work: Path, target: Path, package: Path) -> None:
    raw(work, "dm.sas7bdat").write_bytes(b"\x00" * 32 + b"SAS FILE" + bytes(range(256)) * 8)
    study(work, lambda c: c["raw"]["files"]["DM"].update(path="dm.sas7bdat"))


NOT_ASCII = "Vehicule, puis Topazitinib 1.5%".replace("e", "\u00e9", 1)

REFUSED = [
    # raw CSV exports
    Refused("raw-file-missing", lambda w, t, p: raw(w, "ds.csv").unlink(), ("raw/ds.csv", "not found")),
    Refused("raw-required-column-missing", lambda w, t, p: replace(raw(w, "ae.csv"), "Severity", "Sev"),
            ("raw/ae.csv", "column 'Severity'", "AESEV")),
    Refused("raw-empty-file", lambda w, t, p: raw(w, "dm.csv").write_bytes(b""), ("raw/dm.csv", "empty file")),
    Refused("raw-whitespace-only", lambda w, t, p: raw(w, "ex.csv").write_bytes(b" \r\n\t\n"),
            ("raw/ex.csv", "empty file")),
    Refused("raw-byte-order-mark-only", lambda w, t, p: raw(w, "ae.csv").write_bytes(b"\xef\xbb\xbf"),
            ("raw/ae.csv", "empty file")),
    Refused("raw-duplicated-header", lambda w, t, p: replace(raw(w, "ex.csv"), "Grams", "From"),
            ("raw/ex.csv", "row 1", "column 'From'", "duplicated header")),
    Refused("raw-duplicated-header-other-case", lambda w, t, p: replace(raw(w, "ds.csv"), "Period", "STATUS"),
            ("raw/ds.csv", "row 1", "duplicated header")),
    Refused("raw-unclosed-quote", lambda w, t, p: replace(raw(w, "ae.csv"), "itchy skin", '"itchy skin'),
            ("raw/ae.csv", "row 3", "malformed CSV", "quote")),
    Refused("raw-text-after-closing-quote", lambda w, t, p: replace(raw(w, "ae.csv"), "runny nose", '"runny" nose'),
            ("raw/ae.csv", "row 2", "malformed CSV")),
    Refused("raw-extra-field", lambda w, t, p: replace(raw(w, "ds.csv"), "005,Completed,31 MAR 2021,DB",
                                                       "005,Completed,31 MAR 2021,DB,extra"),
            ("raw/ds.csv", "row 6", "5 field(s)", "header has 4")),
    Refused("raw-row-cut-off", lambda w, t, p: raw(w, "ex.csv").write_bytes(raw(w, "ex.csv").read_bytes()[:-20]),
            ("raw/ex.csv", "row 10", "field(s)", "header has 6")),
    Refused("raw-utf16-with-bom", lambda w, t, p: raw(w, "dm.csv").write_bytes(
        raw(w, "dm.csv").read_text(encoding="utf-8").encode("utf-16")),
            ("raw/dm.csv", "row 1", "byte offset 0", "utf-8")),
    Refused("raw-latin1-not-declared", lambda w, t, p: raw(w, "ae.csv").write_bytes(
        raw(w, "ae.csv").read_text(encoding="utf-8").replace("runny nose", "caf\u00e9 nose").encode("latin-1")),
            ("raw/ae.csv", "row 2", "byte offset", "0xE9")),
    Refused("raw-unknown-encoding", lambda w, t, p: study(w, lambda c: c["raw"]["files"]["DM"].update(
        encoding="klingon")), ("raw/dm.csv", "unknown encoding 'klingon'")),
    Refused("raw-nul-byte", lambda w, t, p: replace(raw(w, "ex.csv"), "2.5", "2\x005"),
            ("raw/ex.csv", "row 2", "NUL")),
    Refused("raw-binary-file", lambda w, t, p: raw(w, "ds.csv").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256))),
            ("raw/ds.csv", "byte offset 0")),
    Refused("raw-10-MB-field", lambda w, t, p: replace(raw(w, "ae.csv"), "runny nose", "x" * 10_000_000),
            ("raw/ae.csv", "row 2", "column 'Term'", "10,000,000")),
    Refused("raw-duplicate-subject-conflicting", lambda w, t, p: append(
        raw(w, "dm.csv"), "002,01,UN JUN 2010,F,white,not hispanic or latino,2021-03-01,B,"),
            ("raw/dm.csv", "row 10", "column 'Subject'", "rows 3 and 10")),
    Refused("raw-unknown-arm-code", lambda w, t, p: replace(raw(w, "dm.csv"), "UN UNK 2011,M,WHITE,NOT HISPANIC OR "
                                                            "LATINO,01 MAR 2021,A,", "UN UNK 2011,M,WHITE,NOT "
                                                            "HISPANIC OR LATINO,01 MAR 2021,Z,"),
            ("raw/dm.csv", "row 5", "column 'Randomised to'", "'Z'")),
    # an exposure record that names no treatment or period of the config cannot be placed: the config
    # (or the export) must say where it belongs; every such row is listed
    Refused("ex-unknown-treatment", lambda w, t, p: append(raw(w, "ex.csv"), "002,PLACEBO,DB,11 MAR 2021,12 MAR 2021,1"),
            ("raw/ex.csv", "row 11", "column 'Product'", "'PLACEBO': treatment is not one of the study's treatments")),
    Refused("ex-unknown-period", lambda w, t, p: append(raw(w, "ex.csv"), "002,TPZ15,P9,11 MAR 2021,12 MAR 2021,1"),
            ("raw/ex.csv", "row 11", "column 'Period'", "'P9': period is not one of the study's periods")),
    # raw XLSX and SAS7BDAT exports
    Refused("xlsx-formula-cell", lambda w, t, p: (use_xlsx_dm(w), csv_to_xlsx(
        raw(w, "dm.csv"), raw(w, "dm.xlsx"), formula=("D3", '=A2&"x"'))),
            ("raw/dm.xlsx", "sheet 'DM'", "row 3", "column 'D'", "formula")),
    Refused("xlsx-external-entity", _xxe_xlsx, ("raw/dm.xlsx", "DOCTYPE")),
    Refused("xlsx-not-a-zip", lambda w, t, p: (use_xlsx_dm(w), raw(w, "dm.xlsx").write_bytes(b"PK\x03\x04" * 50)),
            ("raw/dm.xlsx", "not a readable xlsx")),
    Refused("xlsx-zip-without-workbook", lambda w, t, p: (use_xlsx_dm(w), zipfile.ZipFile(
        raw(w, "dm.xlsx"), "w").close()), ("raw/dm.xlsx", "not a readable xlsx")),
    Refused("xlsx-corrupt-sheet-xml", _corrupt_sheet, ("raw/dm.xlsx", "corrupt")),
    Refused("xlsx-missing-sheet", lambda w, t, p: use_xlsx_dm(w, sheet="Demographics"),
            ("raw/dm.xlsx", "no sheet 'Demographics'")),
    Refused("xlsx-empty-sheet", lambda w, t, p: (use_xlsx_dm(w), csv_to_xlsx(
        raw(w, "dm.csv"), raw(w, "dm.xlsx"), rows=False)), ("raw/dm.xlsx", "sheet 'DM'", "empty sheet")),
    Refused("sas7bdat-corrupt", _sas7bdat, ("raw/dm.sas7bdat", "not a readable SAS7BDAT")),
    # the ISS config
    Refused("iss-malformed-json", lambda w, t, p: (w / ISS).write_text('{"id": "MINI-ISS",\n "studies": [}'),
            ("iss.json", "row 2", "malformed JSON")),
    Refused("iss-not-utf8", lambda w, t, p: (w / ISS).write_bytes((w / ISS).read_bytes().replace(
        b"Minimal integration", b"Minimal \xe9tude")), ("iss.json", "not UTF-8", "byte")),
    Refused("iss-nan-number", lambda w, t, p: replace(w / ISS, '"window_days": 30', '"window_days": NaN'),
            ("iss.json", "row", "NaN", "finite")),
    Refused("iss-infinite-number", lambda w, t, p: replace(w / ISS, '"lower": 2,', '"lower": 1e400,'),
            ("iss.json", "row", "1e400", "finite")),
    Refused("iss-negative-window", lambda w, t, p: iss(w, lambda c: c["teae"].update(window_days=-5)),
            ("iss.json", "$.teae.window_days", "-5")),
    Refused("iss-missing-key", lambda w, t, p: iss(w, lambda c: c.pop("groups")),
            ("iss.json", "at $", "'groups'")),
    Refused("iss-unknown-key", lambda w, t, p: iss(w, lambda c: c.update(grups=[])),
            ("iss.json", "at $", "'grups'")),
    Refused("iss-misspelt-imputation-bound", lambda w, t, p: iss(w, lambda c: c.update(imputation={
        "ae_start": {"highest": "M", "fill": "first", "min": ["TRTSTDT"]}})),
            ("iss.json", "$.imputation.ae_start.min[0]", "'TRTSTDT'")),
    Refused("iss-cutoff-bound-without-data-cutoff", lambda w, t, p: iss(w, lambda c: (c.pop("data_cutoff"), c.update(
        imputation={"ae_end": {"highest": "M", "fill": "last", "max": ["DTHDT", "CUTOFF"]}}))),
            ("iss.json", "$.imputation.ae_end.max[1]", "CUTOFF", "no data_cutoff")),
    Refused("iss-teae-bound-cutoff-without-data-cutoff", lambda w, t, p: iss(w, lambda c: (c.pop("data_cutoff"), c[
        "teae"].update(bounded_by=["CUTOFF"]))), ("iss.json", "$.teae.bounded_by[0]", "no data_cutoff")),
    Refused("iss-study-config-missing", lambda w, t, p: (w / STUDY).unlink(),
            ("iss.json", "$.studies[0]", "'mini-01.json' not found")),
    Refused("iss-impossible-creation-datetime", lambda w, t, p: iss(
        w, lambda c: c.update(creation_datetime="2026-02-30T09:00:00")),
            ("iss.json", "$.creation_datetime", "2026-02-30")),
    Refused("iss-impossible-cutoff-2021-02-30", lambda w, t, p: iss(w, lambda c: c.update(data_cutoff="2021-02-30")),
            ("iss.json", "$.data_cutoff", "2021-02-30")),
    Refused("iss-non-ascii-group-label", lambda w, t, p: iss(w, lambda c: c["groups"][1].update(label="V\u00e9hicule")),
            ("iss.json", "$.groups[1].label", "non-ASCII")),
    Refused("iss-file-missing", lambda w, t, p: ["build", "nowhere.json", "--out", str(t / "out"), "--quiet"],
            ("nowhere.json", "not found")),
    Refused("source-date-epoch-malformed", lambda w, t, p: iss(w, lambda c: c.pop("creation_datetime")),
            ("SOURCE_DATE_EPOCH", "yesterday")),
    # the study config
    Refused("study-missing-key", lambda w, t, p: study(w, lambda c: c.pop("studyid")),
            ("mini-01.json", "at $", "'studyid'")),
    Refused("study-wrong-type", lambda w, t, p: study(w, lambda c: c["periods"][0].update(number="1")),
            ("mini-01.json", "$.periods[0].number", "integer")),
    Refused("study-raw-path-traversal", lambda w, t, p: study(w, lambda c: c["raw"]["files"]["DS"].update(
        path="../../../../../../etc/passwd")), ("mini-01.json", "$.raw.files.DS.path", "leaves the raw folder")),
    Refused("study-raw-path-absolute", lambda w, t, p: study(w, lambda c: c["raw"]["files"]["DS"].update(
        path=str(raw(w, "ds.csv").resolve()))), ("mini-01.json", "$.raw.files.DS.path", "leaves the raw folder")),
    Refused("study-id-path-traversal", lambda w, t, p: study(w, lambda c: c.update(studyid="../../EVIL")),
            ("mini-01.json", "$.studyid", "../../EVIL")),
    Refused("study-required-field-unmapped", lambda w, t, p: study(w, lambda c: c["raw"]["files"]["AE"]["columns"].pop(
        "AETERM")), ("mini-01.json", "$.raw.files.AE.columns", "AETERM")),
    Refused("study-arm-unknown-treatment", lambda w, t, p: study(w, lambda c: c["arms"][0]["treatments"].__setitem__(
        0, "XYZ")), ("mini-01.json", "$.arms[0].treatments[0]", "'XYZ'")),
    Refused("study-non-ascii-arm", lambda w, t, p: study(w, lambda c: c["arms"][0].update(arm=NOT_ASCII)),
            ("mini-01.json", "$.arms[0].arm", "non-ASCII", "U+00E9")),
    # Trial Summary values (sdtm.ts.check_trial_summary_config)
    Refused("study-ts-value-not-in-codelist", lambda w, t, p: study(w, lambda c: c.update(
        trial_summary={"TBLIND": "DOUBLE-BLIND"})), ("mini-01.json", "$.trial_summary.TBLIND", "'DOUBLE-BLIND'",
                                                     "TBLIND", "DOUBLE BLIND")),
    Refused("study-ts-value-not-in-codelist-in-list", lambda w, t, p: study(w, lambda c: c.update(
        trial_summary={"TTYPE": ["EFFICACY", "SAFETY STUDY"]})), ("mini-01.json", "$.trial_summary.TTYPE[1]",
                                                                   "'SAFETY STUDY'")),
    Refused("study-ts-phase-not-in-codelist", lambda w, t, p: study(w, lambda c: c.update(phase="PHASE 3")),
            ("mini-01.json", "$.phase", "'PHASE 3'", "TPHASE")),
    Refused("study-ts-code-without-code-system", lambda w, t, p: study(w, lambda c: c.update(
        trial_summary={"PCLAS": {"value": "Janus Kinase Inhibitor", "code": "N0000000001"}})),
            ("mini-01.json", "$.trial_summary.PCLAS", "code_system")),
    Refused("study-ts-unknown-code-system", lambda w, t, p: study(w, lambda c: c.update(
        trial_summary={"INDIC": {"code": "24079001", "code_system": "SNOMEDCT"}}, indication="Atopic dermatitis")),
            ("mini-01.json", "$.trial_summary.INDIC.code_system", "'SNOMEDCT'", "SNOMED")),
    Refused("study-ts-cdisc-term-given-a-code", lambda w, t, p: study(w, lambda c: c.update(
        trial_summary={"INTMODEL": {"value": "PARALLEL", "code": "C82639", "code_system": "CDISC CT"}})),
            ("mini-01.json", "$.trial_summary.INTMODEL.code", "looked up")),
    Refused("study-ts-derived-parameter-typed", lambda w, t, p: study(w, lambda c: c.update(
        trial_summary={"SSTDTC": "2021-01-01"})), ("mini-01.json", "$.trial_summary", "SSTDTC")),
    Refused("study-spec-malformed-json", _study_spec('{"datasets": [\n  {"name": "XX",]}'),
            ("studyspec/xx.json", "row 2", "malformed JSON")),
    Refused("study-spec-unknown-codelist", _study_spec(json.dumps({"datasets": [
        dict(SMALL_SPEC["datasets"][0], variables=[dict(v, codelist="CL.NOPE") if v["name"] == "XXSEV" else v
                                                   for v in SMALL_SPEC["datasets"][0]["variables"]])]})),
            ("studyspec/xx.json", f"{VAR3}.codelist", "unknown codelist 'CL.NOPE'")),
    # spec JSON (spec export over a previous workbook)
    Refused("spec-duplicate-variable", lambda w, t, p: spec_json(w, t, lambda s: s["datasets"][0]["variables"].append(
        dict(s["datasets"][0]["variables"][2], order=4))),
            ("spec/spec.json", "$.datasets[0].variables[3].name", "duplicate")),
    Refused("spec-name-over-8", lambda w, t, p: spec_json(w, t, var3(name="XXSEVERITY")),
            ("spec/spec.json", f"{VAR3}.name", "'XXSEVERITY'")),
    Refused("spec-label-over-40-bytes", lambda w, t, p: spec_json(w, t, var3(
        label="Severity of the event as graded by the investigator")), ("spec/spec.json", f"{VAR3}.label", "40")),
    Refused("spec-label-not-ascii", lambda w, t, p: spec_json(w, t, var3(label="S\u00e9v\u00e9rit\u00e9")),
            ("spec/spec.json", f"{VAR3}.label", "non-ASCII")),
    Refused("spec-length-over-200", lambda w, t, p: spec_json(w, t, var3(length=201)),
            ("spec/spec.json", f"{VAR3}.length", "201")),
    Refused("spec-unknown-codelist", lambda w, t, p: spec_json(w, t, var3(codelist="CL.NOPE")),
            ("spec/spec.json", f"{VAR3}.codelist", "'CL.NOPE'")),
    Refused("spec-malformed-json", lambda w, t, p: _malformed_spec(w, t),
            ("spec/spec.json", "row 3", "malformed JSON")),
    # spec workbooks (spec import over a previous spec folder)
    Refused("workbook-formula-cell", lambda w, t, p: spec_workbook(w, t, set_cell("Variables", "F4", "=1+2")),
            ("in.xlsx", "sheet 'Variables'", "row 4", "column 'Length'", "formula")),
    Refused("workbook-name-over-8", lambda w, t, p: spec_workbook(w, t, set_cell("Variables", "C4", "XXSEVERITY")),
            ("in.xlsx", "sheet 'Variables'", "row 4", "column 'Variable'")),
    Refused("workbook-label-over-40", lambda w, t, p: spec_workbook(w, t, set_cell("Variables", "D4", "L" * 41)),
            ("in.xlsx", "sheet 'Variables'", "row 4", "column 'Label'")),
    Refused("workbook-length-over-200", lambda w, t, p: spec_workbook(w, t, set_cell("Variables", "F4", 300)),
            ("in.xlsx", "sheet 'Variables'", "row 4", "column 'Length'", "300")),
    Refused("workbook-length-not-a-number", lambda w, t, p: spec_workbook(w, t, set_cell("Variables", "F4", "eight")),
            ("in.xlsx", "sheet 'Variables'", "row 4", "column 'Length'", "'eight'")),
    Refused("workbook-duplicate-variable", lambda w, t, p: spec_workbook(w, t, set_cell("Variables", "C4", "USUBJID")),
            ("in.xlsx", "sheet 'Variables'", "row 4", "duplicate")),
    Refused("workbook-unknown-codelist", lambda w, t, p: spec_workbook(w, t, set_cell("Variables", "J4", "CL.NOPE")),
            ("in.xlsx", "sheet 'Variables'", "row 4", "column 'Codelist'", "'CL.NOPE'")),
    Refused("workbook-missing-header", lambda w, t, p: spec_workbook(w, t, set_cell("Variables", "D1", "Blah")),
            ("in.xlsx", "sheet 'Variables'", "row 1", "'Label'")),
    Refused("workbook-external-entity", _xxe_workbook, ("in.xlsx", "DOCTYPE")),
    # datasets: XPT, Dataset-JSON, define.xml
    Refused("xpt-truncated", _xpt_case(lambda b: b[: len(b) // 2], "validate"),
            ("dm.xpt", "byte offset", "truncated")),
    Refused("xpt-cut-at-a-record", _xpt_case(lambda b: b[: 40 * 80], "convert"), ("dm.xpt", "byte offset")),
    Refused("xpt-not-xpt", _xpt_case(lambda b: b"SAS? no" * 80, "convert"), ("dm.xpt", "not a SAS XPORT file")),
    Refused("xpt-impossible-length", _xpt_case(lambda b: b[:644] + b"\xff\xff" + b[646:], "validate"),
            ("dm.xpt", "byte offset 644", "length")),
    Refused("dataset-json-fails-schema", _to_xpt("dm.json", '{"datasetJSONVersion": "1.1", "columns": []}'),
            ("dm.json", "Dataset-JSON v1.1 schema")),
    Refused("dataset-json-malformed", _to_xpt("dm.json", '{"datasetJSONVersion": '), ("dm.json", "not valid JSON")),
    Refused("define-xml-external-entity", _xxe_define, ("define.xml", "not read as a define")),
    Refused("csv-text-in-a-numeric-variable", _to_xpt("dm.csv", "USUBJID,SITEID,AGE\nS-1,001,63\nS-2,002,sixty\n"),
            ("dm.csv", "row 3", "column 'AGE'", "'sixty' is not a number")),
    # command line and output folder
    Refused("unknown-format", lambda w, t, p: [*build_args(t), "--format", "sas"], ("unknown dataset format", "'sas'")),
    Refused("out-is-a-file", _out_file, ("notes.txt", "not a folder")),
    Refused("out-is-a-user-folder", _out_user_folder, ("thesis", "not empty", "not a trialpack package")),
    # a manifest.json alone does not make a package: trialpack's carries its own key
    Refused("out-holds-a-browser-extension", _other_manifest(BROWSER_EXTENSION),
            ("extension", "not empty", "not a trialpack package")),
    Refused("out-holds-an-unreadable-manifest", _other_manifest('{"outputs": ['),
            ("extension", "not a trialpack package")),
    Refused("out-holds-a-manifest-that-is-no-object", _other_manifest("[1, 2, 3]"),
            ("extension", "not a trialpack package")),
    Refused("out-holds-a-manifest-naming-trialpack", _other_manifest('{"trialpack": "0.1.0", "pandas": "2.2.0"}'),
            ("extension", "not a trialpack package")),
    Refused("validate-a-browser-extension", _other_manifest(BROWSER_EXTENSION, "validate"),
            ("extension", "not a trialpack package")),
    Refused("input-dir-missing", lambda w, t, p: [*build_args(t), "--input-dir", "nowhere"],
            ("raw/dm.csv", "not found", "nowhere/raw/dm.csv")),
    # wrong today outside the reliability fixes (see EXPECTED_TO_FAIL)
    Refused("raw-dm-without-records", lambda w, t, p: raw(w, "dm.csv").write_text(
        raw(w, "dm.csv").read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8"),
            ("raw/dm.csv", "no records")),
    Refused("raw-non-ascii-text", lambda w, t, p: replace(raw(w, "ae.csv"), "runny nose", "nez qui coule (\u00e9)"),
            ("non-ASCII", "raw/ae.csv", "row 2", "column 'Term'")),
    # SAS V5 text is printable ASCII (standards.md section 2): control characters are refused as well
    Refused("raw-escape-sequence-in-text", lambda w, t, p: replace(raw(w, "ae.csv"), "runny nose", "runny\x1b[31m nose"),
            ("control character '\\x1b' (U+001B)", "raw/ae.csv", "row 2", "column 'Term'", "printable ASCII")),
    Refused("raw-tab-in-text", lambda w, t, p: replace(raw(w, "ae.csv"), "runny nose", "runny\tnose"),
            ("control character '\\t' (U+0009)", "raw/ae.csv", "row 2", "column 'Term'")),
    # the build replaces --out as a whole: a log inside it would be written into the previous package
    Refused("log-file-inside-out", lambda w, t, p: [*build_args(t), "--log-file", str(t / "out" / "build.log")],
            ("out/build.log", "--log-file is inside the --out folder")),
    Refused("log-file-is-a-folder", lambda w, t, p: [*build_args(t), "--log-file", str(w)],
            ("--log-file is a folder",)),
    Refused("sdtm-input-missing-required-variable", _sdtm_study_missing("DM", "ARMCD"),
            ("sdtm/dm.xpt", "ARMCD")),
    # SDTM input without a variable the ISS derivations read (SDTMIG 3.4 Req or Exp)
    *(Refused(f"sdtm-input-without-{d.lower()}-{v.lower()}", _sdtm_study_missing(d, v),
              (f"sdtm/{d.lower()}.xpt", f"column '{v}'", f"SDTM {d} lacks variable(s) {v}"))
      for d, v in (("EX", "EXDOSE"), ("DS", "DSCAT"), ("DS", "DSDECOD"), ("AE", "AESER"), ("DM", "AGE"))),
]

ENV = {"source-date-epoch-malformed": {"SOURCE_DATE_EPOCH": "yesterday"}}
#: Wrong today in code outside the reliability fixes; the reason says where the fix goes.
EXPECTED_TO_FAIL: dict[str, str] = {
}
#: Concurrent CLI processes for the refused cases (each is mostly interpreter start-up).
WORKERS = min(4, (os.cpu_count() or 2) + 1)


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    return good_package(tmp_path_factory)


def test_catalogue_is_large_and_named_uniquely():
    ids = [c.id for c in REFUSED] + [c.id for c in FINDINGS]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 40


@dataclass
class Run:
    args: list[str]
    work: Path
    target: Path
    before: dict[str, str]
    proc: subprocess.CompletedProcess | None = None


def prepare(case: Refused, folder: Path, package: Path) -> Run:
    """The minimal study broken as the case says, beside a target holding the previous package."""
    work, target = folder / "work", folder / "target"
    write_minimal_iss(work)
    target.mkdir()
    shutil.copytree(package, target / "out")
    made = case.make(work, target, package)
    args = made if isinstance(made, list) else build_args(target)
    return Run(args, work, target, fingerprint(target))


@pytest.fixture(scope="module")
def refused_runs(tmp_path_factory, package) -> dict[str, Run | BaseException]:
    """Every refused case prepared, then run by the CLI, a few processes at a time."""
    base = tmp_path_factory.mktemp("refused")
    runs: dict[str, Run | BaseException] = {}
    for case in REFUSED:
        try:
            runs[case.id] = prepare(case, base / case.id, package)
        except Exception as exc:  # reported by that case's test only
            runs[case.id] = exc

    def execute(case_id: str) -> None:
        run = runs[case_id]
        run.proc = run_cli(*run.args, cwd=run.work, env=ENV.get(case_id))

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(execute, [cid for cid, run in runs.items() if isinstance(run, Run)]))
    return runs


@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=EXPECTED_TO_FAIL[c.id]))
                                  if c.id in EXPECTED_TO_FAIL else c for c in REFUSED], ids=lambda c: c.id)
def test_refused(case: Refused, refused_runs) -> None:
    run = refused_runs[case.id]
    if isinstance(run, BaseException):
        raise run
    proc = run.proc
    line = one_error_line(proc.stderr)
    assert proc.returncode == 2, line
    for fragment in case.names:
        assert fragment in line, f"{fragment!r} not in: {line}"
    assert "TOPSECRET" not in proc.stderr + proc.stdout
    assert fingerprint(run.target) == run.before, "the previous output changed or a scratch folder was left"


# -- the finding cases: one shared build, each case its own record --------------------------------


@dataclass(frozen=True)
class Finding:
    """A broken record that the build keeps or rejects with a finding: ``make(work)`` breaks
    it and returns the finding expected (keys of findings.json, e.g. rule, file, row)."""

    id: str
    make: Callable[[Path], dict]


AE_TAIL = ",N,N,N,N,MILD,No,Recovered"


def ae_row(work: Path, line: str) -> int:
    return append(raw(work, "ae.csv"), line)


def ex_row(work: Path, line: str) -> int:
    return append(raw(work, "ex.csv"), line)


def _rejected(file: str, column: str, value: str, reason: str) -> Callable[[int], dict]:
    return lambda row: {"rule": "TP0101", "file": f"raw/{file}", "row": row, "variable": column,
                        "value": value, "message": f"record rejected: {reason}"}


def _ex_dose(value: str, reason: str) -> Callable[[Path], dict]:
    """A bad dose: the record is kept (it counts for exposure) with EXDOSE null and an error (TP0115)."""
    return lambda w: {"rule": "TP0115", "severity": "error", "file": "raw/ex.csv", "variable": "EXDOSE",
                      "value": value, "message": f"EXDOSE {reason}",
                      "row": ex_row(w, f"002,TPZ15,DB,11 MAR 2021,12 MAR 2021,{value}")}


def _ae(rule: str, variable: str, value: str, line: str) -> Callable[[Path], dict]:
    return lambda w: {"rule": rule, "file": "raw/ae.csv", "row": ae_row(w, line), "variable": variable,
                      "value": value}


def _bom(work: Path) -> dict:
    for path in (raw(work, "dm.csv"), work / ISS, work / STUDY):
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    return {"reconciliation": {"file": "raw/dm.csv", "rows_mapped": 7, "balanced": True}}


def _crlf_and_blank_lines(work: Path) -> dict:
    path = raw(work, "ds.csv")
    text = path.read_text(encoding="utf-8").replace("003,", "\n \n003,", 1)
    path.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    return {"reconciliation": {"file": "raw/ds.csv", "rows_read": 5, "rows_mapped": 5, "blank_rows": 2,
                               "balanced": True}}


def _unknown_severity(work: Path) -> dict:
    ae_row(work, "002,9,vomiting,Vomiting,10047700,Gastrointestinal disorders,10017947,2021-03-16,,N,N,N,N,"
                 "very bad,No,Recovered")
    return {"rule": "TP0009", "dataset": "AE", "variable": "AESEV", "value": "VERY BAD"}


def _unknown_sex(work: Path) -> dict:
    replace(raw(work, "dm.csv"), "005,01,02 FEB 2009,F,", "005,01,02 FEB 2009,Q,")
    return {"rule": "TP0009", "dataset": "DM", "variable": "SEX", "value": "Q"}


def _exact_duplicate(work: Path) -> dict:
    row = append(raw(work, "dm.csv"), "003,01,01 JAN 2015,F,ASIAN,NOT HISPANIC OR LATINO,01 MAR 2021,,III")
    return {**_rejected("dm.csv", "SUBJID", "003", "exact duplicate of row 4")(row), "rule": "TP0116",
            "severity": "warning"}


def _born_after_consent(work: Path) -> dict:
    replace(raw(work, "dm.csv"), "006,01,02 FEB 2009", "006,01,02 JUN 2021")
    return {"file": "raw/dm.csv", "row": 7, "dataset": "DM", "rule": "TP0108", "variable": "AGE",
            "value": "2021-06-02"}


def _blank_identifiers(column: str, first: str, second: str) -> Callable[[Path], dict]:
    """Two DM records with the same identifier field blank (the second is checked; both are rejected)."""
    def make(work: Path) -> dict:
        append(raw(work, "dm.csv"), first)
        return _rejected("dm.csv", column, None, f"{column} is empty: the subject cannot be identified")(
            append(raw(work, "dm.csv"), second))
    return make


def _meddra_code_not_a_number(work: Path) -> dict:
    row = ae_row(work, "002,8,chills,Chills,1000869X,General disorders and administration site conditions,"
                       "10018065,2021-03-17," + AE_TAIL)
    return {"file": "raw/ae.csv", "row": row, "value": "1000869X", "rule": "TP0109"}


FINDINGS = [
    Finding("ae-end-before-start", _ae("TP0104", "AEENDTC", "2021-03-18",
                                       "002,3,sore throat,Oropharyngeal pain,10068319,Respiratory disorders,10038738,"
                                       "2021-03-20,2021-03-18" + AE_TAIL)),
    Finding("ae-date-after-cutoff", _ae("TP0103", "AESTDTC", "2030-01-01",
                                        "002,4,rash,Rash,10037844,Skin disorders,10040785,2030-01-01," + AE_TAIL)),
    Finding("ae-impossible-date-2021-02-30", _ae("TP0102", "AESTDTC", "2021-02-30",
                                                 "002,5,nausea,Nausea,10028813,Gastrointestinal disorders,10017947,"
                                                 "2021-02-30," + AE_TAIL)),
    Finding("ae-date-in-undeclared-format", _ae("TP0102", "AESTDTC", "03/16/2021",
                                                "002,6,dizziness,Dizziness,10013573,Nervous system disorders,"
                                                "10029205,03/16/2021," + AE_TAIL)),
    Finding("ae-subject-not-in-dm", lambda w: _rejected("ae.csv", "SUBJID", "888", "subject is not in DM")(ae_row(
        w, "888,1,cough,Cough,10011224,Respiratory disorders,10038738,2021-03-15," + AE_TAIL))),
    Finding("ae-empty-verbatim-term", lambda w: {   # kept: a coded AE counts in every ISS count
        "rule": "TP0114", "severity": "error", "file": "raw/ae.csv", "variable": "AETERM", "value": None,
        "row": ae_row(w, "002,7,,Pyrexia,10037660,General disorders,10018065,2021-03-15," + AE_TAIL)}),
    Finding("ae-unknown-ct-value", lambda w: _unknown_severity(w)),
    Finding("ae-seriousness-disagrees", _ae("TP0105", "AESER", "N",
                                            "002,10,sore throat,Oropharyngeal pain,10068319,Respiratory disorders,"
                                            "10038738,2021-03-20,,N,N,Y,N,MILD,No,Recovered")),
    Finding("ex-subject-not-in-dm", lambda w: _rejected("ex.csv", "SUBJID", "888", "subject is not in DM")(
        ex_row(w, "888,TPZ15,DB,01 MAR 2021,02 MAR 2021,1"))),
    Finding("ex-dose-nan", _ex_dose("NaN", "is not a number")),
    Finding("ex-dose-infinite", _ex_dose("inf", "is not a number")),
    Finding("ex-dose-non-numeric", _ex_dose("two", "is not a number")),
    Finding("ex-dose-negative", _ex_dose("-3", "is negative")),
    Finding("ex-dose-1e300", _ex_dose("1e300", "is outside the range a SAS XPORT number holds")),
    Finding("ex-impossible-date-2021-02-29", lambda w: {   # kept: the subject stays treated (SAFFL Y)
        "rule": "TP0102", "severity": "error", "file": "raw/ex.csv", "variable": "EXSTDTC", "value": "29 FEB 2021",
        "row": ex_row(w, "002,TPZ15,DB,29 FEB 2021,12 MAR 2021,1")}),
    Finding("ex-end-before-start", lambda w: {"rule": "TP0104", "file": "raw/ex.csv", "variable": "EXENDTC",
                                              "row": ex_row(w, "002,TPZ15,DB,13 MAR 2021,12 MAR 2021,1")}),
    Finding("dm-exact-duplicate-row", _exact_duplicate),
    Finding("dm-unknown-ct-value", _unknown_sex),
    Finding("byte-order-marks-accepted", _bom),
    Finding("crlf-and-blank-lines-accepted", _crlf_and_blank_lines),
    Finding("dm-born-after-consent", _born_after_consent),
    Finding("dm-two-blank-siteids", _blank_identifiers(
        "SITEID", "021,,02 FEB 2009,F,WHITE,NOT HISPANIC OR LATINO,01 MAR 2021,A,",
        "022,,02 FEB 2009,M,WHITE,NOT HISPANIC OR LATINO,01 MAR 2021,B,")),
    Finding("dm-two-blank-subjids", _blank_identifiers(
        "SUBJID", ",01,02 FEB 2009,F,WHITE,NOT HISPANIC OR LATINO,01 MAR 2021,A,",
        ",01,03 FEB 2009,M,WHITE,NOT HISPANIC OR LATINO,01 MAR 2021,B,")),
    Finding("ae-meddra-code-not-a-number", _meddra_code_not_a_number),
    Finding("ae-meddra-code-1e300", lambda w: {"rule": "TP0109", "file": "raw/ae.csv", "value": "1e300",
                                               "variable": "AEPTCD", "row": ae_row(
        w, "002,11,chills,Chills,1e300,General disorders,10018065,2021-03-17," + AE_TAIL)}),
    Finding("ae-start-before-birth", _ae("TP0111", "AESTDTC", "2009-12-31",   # 002 was born in June 2010
                                         "002,12,eczema,Eczema,10014184,Skin disorders,10040785,2009-12-31,"
                                         + AE_TAIL)),
]
FINDING_XFAIL: dict[str, str] = {
}


@pytest.fixture(scope="module")
def built_with_findings(tmp_path_factory):
    """Every finding case applied to one copy of the minimal study, built once."""
    base = tmp_path_factory.mktemp("findings")
    work = base / "work"
    write_minimal_iss(work)
    expected = {case.id: case.make(work) for case in FINDINGS}
    proc = run_cli("build", ISS, "--out", str(base / "out"), "--quiet", cwd=work)
    assert "Traceback" not in proc.stderr
    assert proc.returncode in (0, 1), proc.stderr
    assert proc.stderr == ""
    found = json.loads((base / "out" / "validation" / "findings.json").read_text(encoding="utf-8"))["findings"]
    manifest = json.loads((base / "out" / "manifest.json").read_text(encoding="utf-8"))
    with open(base / "out" / "lineage" / "sdtm-raw.csv", encoding="utf-8", newline="") as f:
        lineage = {(r["RAWFILE"], int(r["RAWROW"])) for r in csv.DictReader(f)}
    return expected, found, manifest, lineage


def _matches(record: dict, expected: dict) -> bool:
    for key, want in expected.items():
        got = record.get(key)
        if key == "message":
            if not str(got).startswith(want):
                return False
        elif got != want:
            return False
    return True


@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.xfail(strict=True, reason=FINDING_XFAIL[c.id]))
                                  if c.id in FINDING_XFAIL else c for c in FINDINGS], ids=lambda c: c.id)
def test_finding(case: Finding, built_with_findings) -> None:
    expected, found, manifest, lineage = built_with_findings
    want = expected[case.id]
    if "reconciliation" in want:
        rows = [r for r in manifest["reconciliation"] if r["file"] == want["reconciliation"]["file"]]
        assert len(rows) == 1 and _matches(rows[0], want["reconciliation"]), rows
        return
    hits = [f for f in found if _matches(f, want)]
    assert hits, f"no finding {want}; findings of that file/row: " + json.dumps(
        [f for f in found if f.get("file") == want.get("file") and f.get("row") == want.get("row")])
    if want.get("file") and want.get("row"):  # nothing lost: a rejected record is in no dataset, a kept one is
        mapped = (want["file"], want["row"]) in lineage
        assert mapped == (want.get("rule") not in ("TP0101", "TP0116")), f"raw row in the SDTM lineage: {mapped}"


# -- known defects outside the reliability fixes ----------------------------------------------------


def test_study_without_adverse_events_builds(tmp_path: Path) -> None:
    write_minimal_iss(tmp_path / "work")
    path = raw(tmp_path / "work", "ae.csv")
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    proc = run_cli("build", ISS, "--out", str(tmp_path / "out"), "--quiet", cwd=tmp_path / "work")
    assert proc.returncode in (0, 1), proc.stderr


def test_study_without_exposure_builds_with_an_error_finding(tmp_path: Path) -> None:
    """EX with its header only: nobody is treated; the package is built (exit 1) and says why (TP0207)."""
    write_minimal_iss(tmp_path / "work")
    path = raw(tmp_path / "work", "ex.csv")
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    proc = run_cli("build", ISS, "--out", str(tmp_path / "out"), "--quiet", cwd=tmp_path / "work")
    assert proc.returncode == 1 and proc.stderr == "", proc.stderr
    found = json.loads((tmp_path / "out" / "validation" / "findings.json").read_text(encoding="utf-8"))["findings"]
    assert [(f["severity"], f["file"], f["value"]) for f in found if f["rule"] == "TP0207"] == [
        ("error", "mini-01/ex", "MINI-01")]


def test_sdtm_input_without_ex_epoch_builds_as_treated(tmp_path: Path, package: Path) -> None:
    """EX.EPOCH is Permissible: a study given as SDTM without it, whose config lists no periods, is one
    period. Subject 001 had vehicle 2021-03-01..03-28, then cream 1.5% 03-29..06-30, now in that one
    period: each AE follows the treatment received at its onset (AESEQ 2, 03-01: vehicle; AESEQ 4,
    "UN APR 2021": cream), and ADAETTE has both groups (the pooled group as TRTAG1)."""
    from fileformats.xpt import read_xpt

    work = tmp_path / "work"
    write_minimal_iss(work)
    _sdtm_study_missing("EX", "EPOCH")(work, tmp_path, package)
    proc = run_cli("build", ISS, "--out", str(tmp_path / "out"), "--quiet", cwd=work)
    assert proc.returncode in (0, 1) and proc.stderr == "", proc.stderr
    adam = tmp_path / "out" / "m5" / "datasets" / "iss" / "analysis" / "adam" / "datasets"
    adae = read_xpt(adam / "adae.xpt")[0]
    first = adae[adae["USUBJID"] == "MINI-01-01-001"].set_index("AESEQ")
    assert (first.loc[2, "TRTA"], first.loc[4, "TRTA"], set(first["APERIOD"].dropna())) == ("Vehicle", "Cream 1.5%",
                                                                                           {1})
    tte = read_xpt(adam / "adaette.xpt")[0]
    mine = tte[tte["USUBJID"] == "MINI-01-01-001"]
    assert set(mine["TRTA"]) == {"Vehicle", "Cream 1.5%"}   # "All cream" is the cream records' TRTAG1
    assert set(mine.loc[mine["TRTA"] == "Cream 1.5%", "TRTAG1"]) == {"All cream"}


def test_sdtm_dataset_missing_a_required_variable_is_a_finding(tmp_path: Path, package: Path) -> None:
    """``trialpack validate dm.xpt`` of an SDTM DM without USUBJID: exit 1, finding TP0001."""
    from fileformats.xpt import read_xpt, write_xpt

    frame, meta = read_xpt(package / "m5" / "datasets" / "mini-01" / "tabulations" / "sdtm" / "dm.xpt")
    write_xpt(frame.drop(columns=["USUBJID"]), tmp_path / "dm.xpt", name="DM", label=meta.label)
    proc = run_cli("validate", "dm.xpt", cwd=tmp_path)
    assert proc.returncode == 1 and proc.stderr == ""
    assert "error   TP0001 dm.xpt, DM, USUBJID: Req variable USUBJID is missing" in proc.stdout


def test_progress_lines_and_one_error_line_without_quiet(tmp_path: Path) -> None:
    """Without --quiet, stderr holds progress lines and still exactly one error line."""
    write_minimal_iss(tmp_path / "work")
    replace(raw(tmp_path / "work", "dm.csv"), "2009,F,WHITE,NOT HISPANIC OR LATINO,01 MAR 2021,b,",
            "2009,F,WHITE,NOT HISPANIC OR LATINO,01 MAR 2021,c,")
    proc = run_cli("build", ISS, "--out", str(tmp_path / "out"), cwd=tmp_path / "work")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if not line.startswith("[trialpack] ")]
    assert errors == ["trialpack: error: raw/dm.csv, row 7, column 'Randomised to': 'c': arm is not one of the "
                      "study's arms (VEH-TPZ15, TPZ15-TPZ15)"]
    assert not (tmp_path / "out").exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


# -- the CSV grammar, in process: what is refused and what is only unusual ------------------------

CSV_STRUCTURE = [
    ("short-row", "a,b,c\n1,,3\n4,5\n", "row 3: malformed CSV: the row has 2 field(s); the header has 3"),
    ("one-field-row", "a,b,c\n1,,3\nx\n", "row 3: malformed CSV: the row has 1 field(s); the header has 3"),
    ("long-row", "a,b,c\n1,,3\n4,5,6,7\n", "row 3: malformed CSV: the row has 4 field(s); the header has 3"),
    ("quote-never-closed", 'a,b,c\n1,"x,3\n4,5,6\n', "row 2: malformed CSV: unexpected end of data at line 3"),
    ("quote-closed-rows-later", 'a,b,c\n1,"x,3\n4,5,6\n7,"8",9\n',
     "row 2: malformed CSV: ',' expected after '\"' at line 4"),
    ("text-after-quote", 'a,b,c\n1,"x"y,3\n', "row 2: malformed CSV: ',' expected after '\"'"),
]
CSV_ACCEPTED = [
    # (text, records as (row, A, B, C), blank rows)
    ("blank-and-whitespace-lines", "a,b,c\n1,,3\n\n   \n6,7,\n", [(2, "1", None, "3"), (5, "6", "7", None)], 2),
    ("quoted-line-break", 'a,b,c\n1,"x\ny",3\n4,5,6\n', [(2, "1", "x\ny", "3"), (3, "4", "5", "6")], 0),
    ("escaped-quotes", 'a,b,c\n1,"say ""hi""",3\n', [(2, "1", 'say "hi"', "3")], 0),
    ("no-final-newline", "a,b,c\n1,2,3", [(2, "1", "2", "3")], 0),
    ("blank-lines-at-the-end", "a,b,c\n1,2,3\n\n\n", [(2, "1", "2", "3")], 2),
]


@pytest.mark.parametrize("text, message", [c[1:] for c in CSV_STRUCTURE], ids=[c[0] for c in CSV_STRUCTURE])
def test_csv_structure_is_refused_with_its_row(tmp_path: Path, text: str, message: str) -> None:
    from fileformats.rawio import read_raw
    from specs.errors import InputError

    (tmp_path / "x.csv").write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_raw(tmp_path / "x.csv", {"A": "a", "B": "b", "C": "c"})
    assert str(exc.value).startswith(f"x.csv, {message}")


@pytest.mark.parametrize("text, records, blank", [c[1:] for c in CSV_ACCEPTED], ids=[c[0] for c in CSV_ACCEPTED])
def test_unusual_but_valid_csv_is_read_exactly(tmp_path: Path, text: str, records, blank: int) -> None:
    from fileformats.rawio import read_raw

    (tmp_path / "x.csv").write_text(text, encoding="utf-8")
    table = read_raw(tmp_path / "x.csv", {"A": "a", "B": "b", "C": "c"})
    got = [tuple(None if v is None or v != v else v for v in row)
           for row in table.frame[["_RAWROW", "A", "B", "C"]].astype(object).to_numpy().tolist()]
    assert got == records and table.blank_rows == blank


def test_log_file_records_the_error_that_stopped_the_build(tmp_path: Path) -> None:
    """--log-file beside the target: the progress so far, then the error the CLI printed."""
    write_minimal_iss(tmp_path / "work")
    raw(tmp_path / "work", "dm.csv").write_bytes(b"")
    log = tmp_path / "run.log"
    proc = run_cli(*build_args(tmp_path), "--log-file", str(log), cwd=tmp_path / "work")
    line = one_error_line(proc.stderr)
    assert proc.returncode == 2
    entries = [entry.split(None, 1)[1] for entry in log.read_text(encoding="utf-8").splitlines()]
    assert entries[0] == "reading configs"
    assert entries[-1] == "stopped: " + line.removeprefix("trialpack: ")
    assert entries[-1] == "stopped: error: raw/dm.csv: empty file: no header row"
    assert not (tmp_path / "out").exists()
