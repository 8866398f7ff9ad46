"""``trialpack validate DIR`` on a built package: re-read findings, build findings kept, damage found."""
from __future__ import annotations

import json
import shutil

from tests.cli_support import good_package, run_cli


def findings_of(package):
    return json.loads((package / "validation" / "findings.json").read_text())["findings"]


def test_revalidation_reports_the_build_findings_again(tmp_path_factory, tmp_path):
    package = tmp_path / "package"
    shutil.copytree(good_package(tmp_path_factory), package)
    before = {(f["rule"], f.get("file"), f.get("row")) for f in findings_of(package)}
    proc = run_cli("validate", str(package), "--quiet", cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    after = {(f["rule"], f.get("file"), f.get("row")) for f in findings_of(package)}
    assert after == before
    # the minimal study's rejected raw records (TP0101) can only come from the build
    assert {r for r in after if r[0] == "TP0101"} == {
        ("TP0101", "mini-01/dm.csv", 9), ("TP0101", "mini-01/ae.csv", 7), ("TP0101", "mini-01/ae.csv", 8),
        ("TP0101", "mini-01/ex.csv", 6), ("TP0101", "mini-01/ex.csv", 7), ("TP0101", "mini-01/ex.csv", 10)}


def test_a_damaged_dataset_is_an_error_finding(tmp_path_factory, tmp_path):
    package = tmp_path / "package"
    shutil.copytree(good_package(tmp_path_factory), package)
    adae = package / "m5" / "datasets" / "iss" / "analysis" / "adam" / "datasets" / "adae.xpt"
    adae.write_bytes(adae.read_bytes()[:5000])
    proc = run_cli("validate", str(package), "--quiet", cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    hits = [f for f in findings_of(package) if f["rule"] == "TP0309"]
    assert [h["file"] for h in hits] == ["m5/datasets/iss/analysis/adam/datasets/adae.xpt"]
    assert "80-byte records" in hits[0]["message"]


def test_in_memory_findings_name_the_file_the_package_holds(tmp_path):
    """A spec-check finding made during the build names the dataset file that was written:
    the .xpt when XPT is among the formats, else the Dataset-JSON file."""
    from types import SimpleNamespace

    from specs import findings
    from trialpack.pipeline import with_dataset_files

    found = findings.concat([findings.make("TP0004", "AE", "AETERM", rows=[3], message="m").assign(study="S-1"),
                             findings.make("TP0004", "ADSL", "AGE", rows=[1], message="m").assign(study="ISS")])
    studies = [SimpleNamespace(studyid="S-1")]
    xpt = with_dataset_files(found, tmp_path, studies, ("xpt", "json"))
    assert xpt["file"].tolist() == ["m5/datasets/s-1/tabulations/sdtm/ae.xpt",
                                    "m5/datasets/iss/analysis/adam/datasets/adsl.xpt"]
    json_only = with_dataset_files(found, tmp_path, studies, ("json",))
    assert json_only["file"].tolist() == ["m5/datasets/s-1/tabulations/sdtm/ae.json",
                                          "m5/datasets/iss/analysis/adam/datasets/adsl.json"]
    assert "study" not in json_only
    assert with_dataset_files(found.iloc[:0], tmp_path, studies)["file"].tolist() == []


def reconciliation_rows(package):
    from openpyxl import load_workbook

    ws = load_workbook(package / "validation" / "validation-report.xlsx", read_only=True)["Reconciliation"]
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_the_report_shows_each_raw_files_reconciliation(tmp_path_factory, tmp_path):
    """The validation report's Reconciliation sheet: per raw file, rows read = mapped + rejected (the
    minimal study's counts worked out in tests/test_sdtm_mapping.py), the same after re-validation."""
    package = tmp_path / "package"
    shutil.copytree(good_package(tmp_path_factory), package)
    expected = [
        ["STUDYID", "DOMAIN", "RAWFILE", "ROWS_READ", "ROWS_MAPPED", "ROWS_REJECTED", "BLANK_ROWS", "BALANCED"],
        ["MINI-01", "DM", "mini-01/dm.csv", 8, 7, 1, 0, "Y"], ["MINI-01", "AE", "mini-01/ae.csv", 7, 5, 2, 0, "Y"],
        ["MINI-01", "EX", "mini-01/ex.csv", 9, 6, 3, 0, "Y"], ["MINI-01", "DS", "mini-01/ds.csv", 5, 5, 0, 0, "Y"]]
    assert reconciliation_rows(package) == expected
    proc = run_cli("validate", str(package), "--quiet", cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    assert reconciliation_rows(package) == expected
