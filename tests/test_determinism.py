"""Reproducible output (DESIGN.md principle 5): the same inputs give the same bytes.

Every file of the package is compared byte for byte — XPT, define.xml and define.html,
Dataset-JSON, the report's HTML, RTF, XLSX, PNG and SVG, the lineage and validation files
and the manifest — between builds of the same input made in different folders and at
different times. The creation time comes from the ISS config (``creation_datetime``) or,
without it, from ``SOURCE_DATE_EPOCH``, and the known answer is checked in the files.
"""
from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest

from tests.cli_support import fingerprint, good_package, run_cli
from tests.minimal_study import write_minimal_iss

#: Files that still differ between identical builds, and why (fix outside this change).
EPOCH = "1767268800"  # 2026-01-01T12:00:00Z
EPOCH_TIME = "2026-01-01T12:00:00"


def differences(a: Path, b: Path) -> list[str]:
    fa, fb = fingerprint(a), fingerprint(b)
    return sorted(path for path in fa.keys() | fb.keys() if fa.get(path) != fb.get(path))


def assert_identical(a: Path, b: Path) -> None:
    assert sorted(fingerprint(a)) == sorted(fingerprint(b)), "the two packages hold different files"
    assert differences(a, b) == []


def build(iss: Path, out: Path, *, env: dict | None = None) -> Path:
    proc = run_cli("build", str(iss), "--out", str(out), "--quiet", cwd=iss.parent, env=env)
    assert proc.returncode in (0, 1), proc.stderr
    return out


@pytest.fixture(scope="module")
def previous(tmp_path_factory) -> Path:
    return good_package(tmp_path_factory)


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory) -> Path:
    """The same input, written anew in another place, built into a folder of another name."""
    base = tmp_path_factory.mktemp("rebuilt")
    return build(write_minimal_iss(base / "elsewhere"), base / "deep" / "second-package")


def test_same_input_gives_the_same_files_in_another_folder(previous: Path, rebuilt: Path) -> None:
    files = fingerprint(previous)
    kinds = {Path(p).suffix for p in files if not p.endswith("/")}
    assert {".xpt", ".xml", ".html", ".xlsx", ".rtf", ".png", ".svg", ".json", ".csv"} <= kinds
    assert_identical(previous, rebuilt)


def test_validation_report_and_manifest_are_reproducible(previous: Path, rebuilt: Path) -> None:
    assert differences(previous, rebuilt) == []


@pytest.fixture(scope="module")
def epoch_builds(tmp_path_factory) -> tuple[Path, Path]:
    """Two builds at different times, without creation_datetime, with SOURCE_DATE_EPOCH set:
    one after the other into the same folder path."""
    base = tmp_path_factory.mktemp("epoch")
    iss = write_minimal_iss(base / "input")
    data = json.loads(iss.read_text(encoding="utf-8"))
    del data["creation_datetime"]
    iss.write_text(json.dumps(data, indent=1), encoding="utf-8")
    first = build(iss, base / "package", env={"SOURCE_DATE_EPOCH": EPOCH})
    shutil.move(first, base / "first")
    second = build(iss, base / "package", env={"SOURCE_DATE_EPOCH": EPOCH})
    return base / "first", second


def test_source_date_epoch_gives_the_same_files(epoch_builds) -> None:
    assert_identical(*epoch_builds)


def test_source_date_epoch_is_the_creation_time(epoch_builds) -> None:
    from fileformats.xpt import read_xpt

    package = epoch_builds[1]
    assert json.loads((package / "manifest.json").read_text(encoding="utf-8"))["created"] == EPOCH_TIME
    define = (package / "m5" / "datasets" / "mini-01" / "tabulations" / "sdtm" / "define.xml").read_text("utf-8")
    assert f'CreationDateTime="{EPOCH_TIME}' in define
    _, meta = read_xpt(package / "m5" / "datasets" / "iss" / "analysis" / "adam" / "datasets" / "adsl.xpt")
    assert meta.created == datetime(2026, 1, 1, 12, 0, 0)


@pytest.mark.slow
def test_demo_builds_are_byte_identical(tmp_path: Path) -> None:
    """The whole 8-study demo twice (raw data generation included), in two folders at once:
    once in one process, once with studies mapped and the report drawn in two worker
    processes — the bytes must not depend on which worker finishes first."""
    def demo(workers: str) -> Path:
        out = tmp_path / f"workers-{workers}" / "package"
        proc = run_cli("demo", "--out", str(out), "--quiet", cwd=tmp_path, timeout=900,
                       env={"TRIALPACK_WORKERS": workers})
        assert proc.returncode in (0, 1), proc.stderr
        return out

    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.map(demo, ["1", "2"])
    assert len(fingerprint(first)) > 60
    assert_identical(first, second)
