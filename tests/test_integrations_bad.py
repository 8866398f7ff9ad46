"""Bad variants of the integration corpus (tests/integrations/): a user's integration with one thing
broken, built with the CLI in a fresh process, each with its designed outcome.

* refused — exit 2, the problems on stderr (one line each, naming the file the user can open and the
  JSON path or row and column), nothing written;
* kept with an error finding — exit 1, the package written (the user needs it to read the
  findings), the record kept so that every count it is in stays (the numbers of the clean build).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.cli_support import fingerprint, run_cli
from tests.test_integrations import CORPUS, teae_subjects

CLEAN = "clean-two-study"
STUDY_201 = Path("studies/tvx-mig-201.json")
EX_201 = Path("raw/tvx-mig-201/ex.csv")
AE_201 = Path("raw/tvx-mig-201/ae.csv")


def copy_case(tmp_path: Path, name: str = CLEAN) -> Path:
    case = tmp_path / name
    shutil.copytree(CORPUS / name, case)
    return case


def edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")


def replace_line(path: Path, row: int, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` in the file's ``row`` (1-based, the header is row 1)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    assert old in lines[row - 1], lines[row - 1]
    lines[row - 1] = lines[row - 1].replace(old, new, 1)
    path.write_text("\n".join(lines), encoding="utf-8")


def build(case: Path, out: Path, *extra: str):
    return run_cli("build", "iss.json", "--out", str(out), "--quiet", *extra, cwd=case)


def findings_of(package: Path) -> list[dict]:
    return json.loads((package / "validation" / "findings.json").read_text(encoding="utf-8"))["findings"]


def expected_numbers(name: str = CLEAN) -> dict:
    return json.loads((CORPUS / name / "expected.json").read_text(encoding="utf-8"))


def test_a_misspelt_field_is_refused_with_the_nearest_name(tmp_path):
    """`"AESTDT": "START_DATE"` for AESTDAT would have left every AE start null (and, with
    missing_start emergent, every AE treatment-emergent): refused before anything is read."""
    case = copy_case(tmp_path)
    edit_json(case / STUDY_201, lambda d: d["raw"]["files"]["AE"]["columns"].update(
        AESTDT=d["raw"]["files"]["AE"]["columns"].pop("AESTDAT")))
    proc = build(case, tmp_path / "out")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == [
        "trialpack: error: studies/tvx-mig-201.json, at $.raw.files.AE.columns.AESTDT: unknown field 'AESTDT' "
        "(did you mean AESTDAT?): the AE export can map " + ", ".join(_ae_fields())
        + ", a variable of AE, a collection date (--DAT, --TIM), or a field a mapping or supplemental.AE reads"]
    assert not (tmp_path / "out").exists()


def _ae_fields() -> list[str]:
    from sdtm.forms import form_fields

    return list(form_fields("AE"))


def test_an_unknown_config_key_is_refused_with_the_nearest_name(tmp_path):
    case = copy_case(tmp_path)
    edit_json(case / STUDY_201, lambda d: d.update(arm=d.pop("arms")))
    proc = build(case, tmp_path / "out")
    assert proc.returncode == 2
    line = proc.stderr.strip()
    assert line.startswith("trialpack: error: studies/tvx-mig-201.json, at $.arm: unknown key 'arm' "
                           "(did you mean arms?)"), line


def test_an_impossible_exposure_date_and_a_blank_verbatim_term_are_kept_with_errors(tmp_path):
    """Subject 001's first diary record starts 2022-02-30: kept with EXSTDTC null and an error;
    001 stays in the safety population, so every participant count is the clean build's. The
    verbatim term of 001's first AE (a TEAE) is blank: kept with AETERM null and an error; every
    group's count of participants with a TEAE is the clean build's. Exit 1, package written."""
    case = copy_case(tmp_path)
    replace_line(case / EX_201, 2, "2022-01-24", "2022-02-30")
    replace_line(case / AE_201, 2, ",Headache,Headache,", ",,Headache,")
    proc = build(case, tmp_path / "out")
    assert proc.returncode == 1 and proc.stderr == "", proc.stderr
    errors = [(f["rule"], f["file"], f["row"], f["value"]) for f in findings_of(tmp_path / "out")
              if f["severity"] == "error"]
    assert ("TP0102", "raw/tvx-mig-201/ex.csv", 2, "2022-02-30") in errors
    assert ("TP0114", "raw/tvx-mig-201/ae.csv", 2) in {e[:3] for e in errors}
    summary = json.loads((tmp_path / "out" / "report" / "iss-summary.json").read_text())
    expected = expected_numbers()
    assert summary["participants"] == expected["participants"]
    assert {g["label"]: g["participants"] for g in summary["groups"]} == {
        label: n["participants"] for label, n in expected["groups"].items()}
    iss = json.loads((case / "iss.json").read_text())
    assert teae_subjects(tmp_path / "out", iss) == {label: n["teae_subjects"] for label, n in
                                                    expected["groups"].items()}


def test_out_on_a_folder_trialpack_did_not_write_is_refused_untouched(tmp_path):
    case = copy_case(tmp_path)
    foreign = tmp_path / "extension"
    foreign.mkdir()
    (foreign / "manifest.json").write_text('{"manifest_version": 3, "name": "My extension"}', encoding="utf-8")
    (foreign / "background.js").write_text("chrome.runtime.onInstalled.addListener(() => {});\n", encoding="utf-8")
    before = fingerprint(foreign)
    proc = build(case, foreign)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert fingerprint(foreign) == before


def _non_ascii(case: Path) -> None:
    """Three non-ASCII values in two studies' AE exports (written in an order the report must not keep)."""
    replace_line(case / "raw/tvx-mig-202/ae.csv", 3, ",Nausea,Nausea,", ",Nausée,Nausea,")
    replace_line(case / AE_201, 3, ",Nausea,Nausea,", ",Naus\u00e9e,Nausea,")
    replace_line(case / AE_201, 2, ",Headache,Headache,", ",Céphalée,Headache,")


def test_non_ascii_text_is_refused_all_at_once_in_a_stable_order(tmp_path):
    """Every non-ASCII value of every study is listed in one run, sorted by study, file, row and
    column, the same whichever study a worker process maps first."""
    case = copy_case(tmp_path)
    _non_ascii(case)
    runs = [build(case, tmp_path / "out", ), run_cli("build", "iss.json", "--out", str(tmp_path / "out"),
                                                     "--quiet", cwd=case, env={"TRIALPACK_WORKERS": "1"})]
    for proc in runs:
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert runs[0].stderr == runs[1].stderr
    lines = runs[0].stderr.splitlines()
    assert lines[0] == "trialpack: error: 3 problems in the input; each is listed below"
    assert [line.split(": non-ASCII")[0] for line in lines[1:]] == [
        "trialpack: error: raw/tvx-mig-201/ae.csv, row 2, column 'VERBATIM'",
        "trialpack: error: raw/tvx-mig-201/ae.csv, row 3, column 'VERBATIM'",
        "trialpack: error: raw/tvx-mig-202/ae.csv, row 3, column 'AETERM'"]
    assert not (tmp_path / "out").exists()


def test_non_ascii_text_transliterated_on_request_is_a_finding_per_value(tmp_path):
    case = copy_case(tmp_path)
    _non_ascii(case)
    for path in (case / STUDY_201, case / "studies/tvx-mig-202.json"):
        edit_json(path, lambda d: d.update(text={"non_ascii": "transliterate"}))
    proc = build(case, tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    found = [(f["rule"], f["file"], f["row"], f["value"], f["message"]) for f in findings_of(tmp_path / "out")
             if f["rule"] == "TP0113"]
    assert found == [
        ("TP0113", "raw/tvx-mig-201/ae.csv", 2, "Céphalée", "'VERBATIM': 'Céphalée' transliterated to 'Cephalee'"),
        ("TP0113", "raw/tvx-mig-201/ae.csv", 3, "Nausée", "'VERBATIM': 'Nausée' transliterated to 'Nausee'"),
        ("TP0113", "raw/tvx-mig-202/ae.csv", 3, "Nausée", "'AETERM': 'Nausée' transliterated to 'Nausee'")]
    from fileformats.xpt import read_xpt

    ae, _ = read_xpt(tmp_path / "out/m5/datasets/tvx-mig-201/tabulations/sdtm/ae.xpt")
    assert {"Cephalee", "Nausee"} <= set(ae["AETERM"])


def test_unmapped_raw_columns_are_listed_in_the_reconciliation(tmp_path):
    """A column no field maps (a kit number) is not read: a notice, and the reconciliation lists it."""
    case = copy_case(tmp_path)
    path = case / EX_201
    lines = path.read_text(encoding="utf-8").rstrip("\n").split("\n")
    path.write_text("\n".join([lines[0] + ",KIT_NO", *(f"{line},K{i:03d}" for i, line in enumerate(lines[1:]))])
                    + "\n", encoding="utf-8")
    proc = build(case, tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    notices = [(f["rule"], f["severity"], f["file"], f["value"]) for f in findings_of(tmp_path / "out")
               if f["rule"] == "TP0112"]
    assert notices == [("TP0112", "notice", "raw/tvx-mig-201/ex.csv", "KIT_NO")]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    rows = {r["file"]: r["unmapped_columns"] for r in manifest["reconciliation"]}
    assert rows["raw/tvx-mig-201/ex.csv"] == "KIT_NO" and rows["raw/tvx-mig-201/ae.csv"] == ""


def test_rolled_over_subjects_in_unlinked_studies_are_refused(tmp_path):
    """The roll-over integration without its extension_of: the same USUBJID in two studies that do not
    extend one another is refused, saying how to declare an extension."""
    case = copy_case(tmp_path, "oral-rollover")
    extension = next(p for p in (case / "studies").glob("*.json") if "extension_of" in json.loads(p.read_text()))
    edit_json(extension, lambda d: d.pop("extension_of"))
    proc = build(case, tmp_path / "out")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert '"extension_of"' in proc.stderr and "one USUBJID is one person" in proc.stderr


def test_an_extension_of_an_unknown_study_is_refused(tmp_path):
    case = copy_case(tmp_path, "oral-rollover")
    extension = next(p for p in (case / "studies").glob("*.json") if "extension_of" in json.loads(p.read_text()))
    edit_json(extension, lambda d: d.update(extension_of=["KLT-999"]))
    proc = build(case, tmp_path / "out")
    assert proc.returncode == 2
    assert f"studies/{extension.name}, at $.extension_of[0]: extension_of names study 'KLT-999'" in proc.stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_clean_integration_has_no_finding_whatever_the_workers(tmp_path, workers):
    """Clean data, the normal case: exit 0, zero findings, serial or in worker processes."""
    case = copy_case(tmp_path)
    proc = run_cli("build", "iss.json", "--out", str(tmp_path / "out"), "--quiet", cwd=case,
                   env={"TRIALPACK_WORKERS": workers})
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert findings_of(tmp_path / "out") == []


# -- the same bad variants of every integration of the corpus ---------------------------------------

RAW_CASES = [name for name in sorted(p.name for p in CORPUS.iterdir() if (p / "expected.json").is_file())
             if any(json.loads(s.read_text()).get("source", "raw") == "raw" for s in (CORPUS / name).glob("studies/*.json"))]


def _raw_study(case: Path, domain: str, *, csv_only: bool = False):
    """The first study config of the case (in ISS order) whose raw files include ``domain`` (as CSV
    when ``csv_only``): (config path, its JSON, the file's spec)."""
    for rel in json.loads((case / "iss.json").read_text())["studies"]:
        path = case / rel
        data = json.loads(path.read_text(encoding="utf-8-sig"))
        spec = data.get("raw", {}).get("files", {}).get(domain)
        if spec and (not csv_only or spec["path"].lower().endswith(".csv")):
            return path, data, spec
    return None


def _render_date(fmt: str, year: int, month: int, day: int) -> str:
    """A (possibly impossible) date in a study's raw date format, optional parts left out."""
    import re

    months = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()
    fmt = re.sub(r"\[.*?\]", "", fmt)
    values = {"YYYY": f"{year:04d}", "MON": months[month - 1], "MM": f"{month:02d}", "DD": f"{day:02d}"}
    return re.sub("YYYY|MON|MM|DD", lambda m: values[m.group()], fmt)


def _set_cell(case: Path, config: dict, spec: dict, field: str, value: str, row: int = 2) -> str:
    """Write ``value`` into ``field``'s column of raw ``row`` of a CSV export (only that line is
    rewritten); return the column's header."""
    import csv
    import io

    path = case / "studies" / config["raw"].get("dir", ".") / spec["path"]
    encoding, delimiter = spec.get("encoding", "utf-8"), spec.get("delimiter", ",")
    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig" if bom else encoding)
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.split(newline)
    header = next(csv.reader([lines[0]], delimiter=delimiter))
    wanted = spec["columns"][field].strip().lower()
    index = next(i for i, h in enumerate(header) if h.strip().lower() == wanted)
    cells = next(csv.reader([lines[row - 1]], delimiter=delimiter))
    cells[index] = value
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="").writerow(cells)
    lines[row - 1] = out.getvalue()
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + newline.join(lines).encode(encoding))
    return header[index].strip()


@pytest.mark.parametrize("name", RAW_CASES)
def test_every_integration_refuses_a_misspelt_start_date_field(tmp_path, name):
    case = copy_case(tmp_path, name)
    path, data, spec = _raw_study(case, "AE") or _raw_study(case, "EX")
    field = "AESTDAT" if "AESTDAT" in spec["columns"] else "EXSTDAT"
    spec["columns"][field[:-1]] = spec["columns"].pop(field)   # AESTDA: the last letter lost
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    proc = build(case, tmp_path / "out")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert f"unknown field '{field[:-1]}' (did you mean {field}?)" in proc.stderr
    assert f"studies/{path.name}" in proc.stderr and not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", [n for n in RAW_CASES if _raw_study(CORPUS / n, "EX", csv_only=True)])
def test_every_integration_keeps_an_exposure_record_with_an_impossible_date(tmp_path, name):
    """30 February in the first diary record's start: kept with EXSTDTC null and an error (exit 1); the
    subject stays treated, so every group's participants are the clean build's."""
    case = copy_case(tmp_path, name)
    path, data, spec = _raw_study(case, "EX", csv_only=True)
    impossible = _render_date(data["raw"].get("date_formats", ["YYYY-MM-DD"])[0], 2022, 2, 30)
    column = _set_cell(case, data, spec, "EXSTDAT", impossible)
    proc = build(case, tmp_path / "out")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    found = {(f["rule"], f["severity"], f["row"], f["value"]) for f in findings_of(tmp_path / "out")
             if f["file"].endswith(spec["path"])}
    assert ("TP0102", "error", 2, impossible) in found, (column, found)
    summary = json.loads((tmp_path / "out" / "report" / "iss-summary.json").read_text())
    expected = expected_numbers(name)
    assert summary["participants"] == expected["participants"]
    assert {g["label"]: g["participants"] for g in summary["groups"] if g["label"] in expected["groups"]} == {
        label: n["participants"] for label, n in expected["groups"].items()}


@pytest.mark.parametrize("name", [n for n in RAW_CASES if _raw_study(CORPUS / n, "AE", csv_only=True)])
def test_every_integration_keeps_an_adverse_event_without_its_verbatim_term(tmp_path, name):
    """The first AE record's verbatim term blanked: kept with AETERM null and an error (exit 1);
    every group's participants with a TEAE are the clean build's."""
    case = copy_case(tmp_path, name)
    path, data, spec = _raw_study(case, "AE", csv_only=True)
    _set_cell(case, data, spec, "AETERM", "")
    proc = build(case, tmp_path / "out")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert ("TP0114", 2) in {(f["rule"], f["row"]) for f in findings_of(tmp_path / "out")
                              if f["file"].endswith(spec["path"])}
    iss = json.loads((case / "iss.json").read_text())
    assert teae_subjects(tmp_path / "out", iss) == {label: n["teae_subjects"] for label, n in
                                                    expected_numbers(name)["groups"].items()}


def test_messages_name_files_the_user_can_open_from_where_they_ran(tmp_path):
    """Run from the folder above the integration (`trialpack build clean-two-study/iss.json`): a bad
    raw value is named as clean-two-study/raw/..., a path that opens from there."""
    case = copy_case(tmp_path)
    replace_line(case / AE_201, 3, ",Nausea,Nausea,", ",Naus\u00e9e,Nausea,")
    proc = run_cli("build", f"{CLEAN}/iss.json", "--out", str(tmp_path / "out"), "--quiet", cwd=tmp_path)
    assert proc.returncode == 2
    named = proc.stderr.split("trialpack: error: ", 1)[1].split(",", 1)[0]
    assert named == f"{CLEAN}/raw/tvx-mig-201/ae.csv" and (tmp_path / named).is_file()


# -- the mapping algorithms of a study config: what cannot work is refused at load ------------------

LEGACY = "legacy-edc"
LEGACY_STUDY = Path("studies/xnl-td-302.json")


def _legacy_refusal(tmp_path, change) -> str:
    case = copy_case(tmp_path, LEGACY)
    edit_json(case / LEGACY_STUDY, change)
    proc = build(case, tmp_path / "out")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists()
    return proc.stderr.strip()


def _dm_map(d):
    return d["raw"]["files"]["DM"]["map"]


def _ds_map(d):
    return d["raw"]["files"]["DS"]["map"]


@pytest.mark.parametrize("change, where, words", [
    (lambda d: _dm_map(d)["SITEID"].update(extract="^(\\d+-"), "$.raw.files.DM.map.SITEID.extract",
     "does not compile"),
    (lambda d: _dm_map(d)["SITEID"].update(extract="^\\d+-"), "$.raw.files.DM.map.SITEID.extract",
     "has 0 groups; it needs exactly one"),
    (lambda d: _ds_map(d).update(DSTERM={"template": "{DSOTHER} / {DSTERM_RAW}"}), "$.raw.files.DS.map.DSTERM.template",
     "field 'DSTERM_RAW' is not mapped in this raw file's columns"),
    (lambda d: _ds_map(d)["DSDECOD"]["cases"][0]["when"][0].update(field="DSOTHR"),
     "$.raw.files.DS.map.DSDECOD.cases[0].when[0].field", "(did you mean DSOTHER?)"),
    (lambda d: _ds_map(d).update(VISIT={"constant": "BASELINE"}), "$.raw.files.DS.map.VISIT",
     "VISIT is given twice: by a mapping and by the field of its name"),
    (lambda d: _dm_map(d).update(STIEID={"constant": "701"}), "$.raw.files.DM.map.STIEID",
     "'STIEID' is not a variable of DM (did you mean SITEID?)"),
    (lambda d: _ds_map(d).update(DSCAT={"constant": "MILESTONE"}), "$.raw.files.DS.map.DSCAT.constant",
     "'MILESTONE' is not a term of Category of Disposition Event (CL.DSCAT), which is not extensible"),
    (lambda d: d["value_maps"].update(SEX={"1": "M", "2": "Female"}), "$.value_maps.SEX.2",
     "'Female' is not a term of Sex (CL.SEX), which is not extensible"),
])
def test_a_mapping_that_cannot_work_is_refused_with_its_json_path(tmp_path, change, where, words):
    line = _legacy_refusal(tmp_path, change)
    assert line.startswith(f"trialpack: error: studies/xnl-td-302.json, at {where}: "), line
    assert words in line, line


def test_a_mapping_that_never_applies_is_a_warning_with_counts(tmp_path):
    """A regex that matches no value of the whole file (the site is written SITE701 nowhere) is a
    warning naming the mapping; SITEID is then null everywhere, which the spec check reports."""
    case = copy_case(tmp_path, LEGACY)
    edit_json(case / LEGACY_STUDY, lambda d: _dm_map(d)["SITEID"].update(extract="^SITE(\\d+)"))
    proc = build(case, tmp_path / "out")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    found = [f for f in findings_of(tmp_path / "out") if f["rule"] == "TP0117"]
    assert [(f["severity"], f["dataset"], f["variable"], f["value"], f["message"]) for f in found] == [
        ("warning", "DM", "SITEID", 16, "the mapping of SITEID: extract '^SITE(\\\\d+)' matches none of the 16 values "
                                        "of PATNUM")]
