"""The integration corpus (tests/integrations/): each user-shaped integration built end to end
with the CLI, as a user runs it, its package held to the reviewer's numbers worked out by hand
beside it (expected.json, README.md), then re-validated by ``trialpack validate``.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.cli_support import run_cli

CORPUS = Path(__file__).resolve().parent / "integrations"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "expected.json").is_file()) if CORPUS.is_dir() else []


def teae_subjects(package: Path, iss: dict) -> dict[str, int]:
    """Participants with a treatment-emergent AE per group label: ADAE TRTEMFL "Y" by TRTA;
    a pooled group counts the participants of its member groups, each once."""
    from fileformats.xpt import read_xpt

    adae, _ = read_xpt(package / "m5/datasets/iss/analysis/adam/datasets/adae.xpt")
    emergent = adae[adae["TRTEMFL"] == "Y"] if "TRTEMFL" in adae else adae.iloc[0:0]
    out = {}
    for group in iss["groups"]:
        members = group.get("pools") or [group["label"]]
        out[group["label"]] = int(emergent.loc[emergent["TRTA"].isin(members), "USUBJID"].nunique())
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Each case built once: (case folder, package folder, the build's completed process)."""
    cache: dict[str, tuple] = {}

    def build(name: str):
        if name not in cache:
            work = tmp_path_factory.mktemp(name)
            case = work / name
            shutil.copytree(CORPUS / name, case)
            proc = run_cli("build", "iss.json", "--out", str(work / "package"), "--quiet", cwd=case)
            cache[name] = (case, work / "package", proc)
        return cache[name]

    return build


@pytest.mark.parametrize("name", CASES)
def test_integration_numbers(name, built):
    case, package, proc = built(name)
    expected = json.loads((case / "expected.json").read_text())
    assert proc.returncode == expected.get("exit_code", 0), proc.stderr
    assert "Traceback" not in proc.stderr
    summary = json.loads((package / "report/iss-summary.json").read_text())
    iss = json.loads((case / "iss.json").read_text())
    assert summary["participants"] == expected["participants"]
    by_label = {g["label"]: g for g in summary["groups"]}
    teae = teae_subjects(package, iss)
    for label, numbers in expected["groups"].items():
        assert by_label[label]["participants"] == numbers["participants"], label
        assert round(by_label[label]["patient_years"], 2) == pytest.approx(numbers["patient_years"], abs=0.0051), label
        assert teae[label] == numbers["teae_subjects"], label
    counts = json.loads((package / "validation/findings.json").read_text())["counts"]
    for severity, n in expected.get("findings", {}).items():
        assert counts[severity] == n, (severity, counts)


@pytest.mark.parametrize("name", CASES)
def test_integration_revalidates(name, built):
    case, package, proc = built(name)
    expected = json.loads((case / "expected.json").read_text())
    if proc.returncode not in (0, 1):
        pytest.fail(proc.stderr)
    check = run_cli("validate", str(package), cwd=case)
    assert check.returncode == expected.get("exit_code", 0), check.stdout + check.stderr


@pytest.mark.parametrize("name", CASES)
def test_integration_manifest_lists_each_input_once_with_its_records(name, built):
    """Each input file once (a workbook holding several forms too), with the records read from it
    by domain, which sum to the reconciliation's rows read."""
    case, package, proc = built(name)
    manifest = json.loads((package / "manifest.json").read_text())
    paths = [entry["path"] for entry in manifest["inputs"]]
    assert len(paths) == len(set(paths))
    read: dict = {}
    for rec in manifest["reconciliation"]:
        read[rec["file"]] = read.get(rec["file"], 0) + rec["rows_read"]
    for entry in manifest["inputs"]:
        if entry["records"] is not None:
            assert entry["rows"] == sum(entry["records"].values()) == read[entry["path"]], entry
