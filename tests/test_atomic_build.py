"""Atomic output (DESIGN.md principle 5): a build interrupted at any point leaves the previous
package in DIR untouched and no partial package; the next build removes the leftovers.

Each scenario starts a real build (``python -m trialpack build``) over a folder holding a
previous good package and kills it by signal at a chosen stage: the build prints one
progress line per stage, so the kill lands while mapping, writing XPT, deriving ADaM,
rendering the report, validating or writing the manifest — deterministically, whatever the
machine's speed. The new build differs from the previous package (another creation time),
so a partial or swapped-in package cannot pass for the old one.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli_support import BASE_ENV, cli_command, fingerprint, good_package, one_error_line, run_cli, scratch_left
from tests.minimal_study import write_minimal_iss

NEW_CREATED = "2026-02-01T10:30:00"


@dataclass(frozen=True)
class Kill:
    """Kill the build ``delay`` seconds after it reports the stage ``marker``."""

    id: str
    marker: str
    delay: float
    signal: int
    may_have_finished: bool = False  # killed around the final swap: old or complete new package


SCENARIOS = [
    Kill("SIGKILL-while-mapping", "mapping raw data to SDTM", 0.0, signal.SIGKILL),
    Kill("SIGKILL-while-writing-XPT", "writing SDTM and define.xml", 0.1, signal.SIGKILL),
    Kill("SIGTERM-while-deriving-ADaM", "deriving the pooled ISS ADaM", 0.0, signal.SIGTERM),
    Kill("SIGKILL-while-rendering-report", "computing rates, tables and figures", 0.5, signal.SIGKILL),
    Kill("SIGTERM-while-validating", "validating the package", 0.2, signal.SIGTERM),
    Kill("SIGKILL-at-the-manifest", "writing the manifest", 0.0, signal.SIGKILL, may_have_finished=True),
]
WORKERS = min(3, (os.cpu_count() or 2))


@dataclass
class Outcome:
    kill: Kill
    parent: Path
    before: dict[str, str]
    returncode: int | None = None
    stderr: str = ""
    killed: bool = False


def new_input(folder: Path) -> Path:
    """The minimal study with another creation time: its package differs from the previous one."""
    iss = write_minimal_iss(folder)
    data = json.loads(iss.read_text(encoding="utf-8"))
    data["creation_datetime"] = NEW_CREATED
    iss.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return iss


def run_and_kill(kill: Kill, iss: Path, out: Path) -> tuple[int, str, bool]:
    """Start a build, wait for its stage line, sleep, send the signal; returns (exit, stderr, killed)."""
    proc = subprocess.Popen(cli_command("build", str(iss), "--out", str(out)), cwd=iss.parent, env=BASE_ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines, killed = [], False
    timer = threading.Timer(300, proc.kill)  # never hang the suite
    timer.start()
    try:
        for line in proc.stderr:
            lines.append(line)
            if not killed and kill.marker in line:
                time.sleep(kill.delay)
                proc.send_signal(kill.signal)
                killed = True
        return proc.wait(), "".join(lines), killed
    finally:
        timer.cancel()


@pytest.fixture(scope="module")
def previous(tmp_path_factory) -> Path:
    return good_package(tmp_path_factory)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory, previous) -> dict[str, Outcome]:
    base = tmp_path_factory.mktemp("killed")
    iss = new_input(base / "input")
    results = {}
    for kill in SCENARIOS:
        parent = base / kill.id
        parent.mkdir()
        shutil.copytree(previous, parent / "out")
        results[kill.id] = Outcome(kill, parent, fingerprint(parent / "out"))

    def execute(outcome: Outcome) -> None:
        outcome.returncode, outcome.stderr, outcome.killed = run_and_kill(outcome.kill, iss, outcome.parent / "out")

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(execute, results.values()))
    return results


def manifest_consistent(package: Path) -> bool:
    """Every file the manifest lists is there with its sha256, and nothing else is."""
    manifest = json.loads((package / "manifest.json").read_text(encoding="utf-8"))
    listed = {o["path"]: o["sha256"] for o in manifest["outputs"]}
    present = {p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file()} - {"manifest.json"}
    return present == set(listed) and all(
        hashlib.sha256((package / path).read_bytes()).hexdigest() == digest for path, digest in listed.items())


def test_the_previous_package_is_complete(previous: Path) -> None:
    assert manifest_consistent(previous)


@pytest.mark.parametrize("kill", SCENARIOS, ids=lambda k: k.id)
def test_interrupted_build_leaves_the_previous_package(kill: Kill, outcomes) -> None:
    outcome = outcomes[kill.id]
    assert outcome.killed, f"the build never reported {kill.marker!r}:\n{outcome.stderr}"
    assert "Traceback" not in outcome.stderr, outcome.stderr
    now = fingerprint(outcome.parent / "out")
    if kill.may_have_finished and now != outcome.before:
        # the signal landed after the swap: DIR must then hold the complete new package
        created = json.loads((outcome.parent / "out" / "manifest.json").read_text(encoding="utf-8"))["created"]
        assert manifest_consistent(outcome.parent / "out") and created.startswith(NEW_CREATED[:10]), outcome.stderr
    else:
        assert now == outcome.before, f"the previous package changed (exit {outcome.returncode}):\n{outcome.stderr}"
    visible = sorted(p.name for p in outcome.parent.iterdir() if not p.name.startswith("."))
    assert visible == ["out"], f"a partial package appeared beside the target:\n{outcome.stderr}"
    if kill.signal == signal.SIGTERM:
        assert outcome.returncode == 143, outcome.stderr
        assert outcome.stderr.splitlines()[-1] == "trialpack: terminated; the output folder is left as it was", \
            outcome.stderr
        assert scratch_left(outcome.parent) == [], f"SIGTERM must clean its scratch folder:\n{outcome.stderr}"
    else:
        assert outcome.returncode in ((-signal.SIGKILL, 0, 1) if kill.may_have_finished else (-signal.SIGKILL,)), \
            outcome.stderr


def test_next_build_removes_the_leftovers_and_replaces_the_package(outcomes, tmp_path) -> None:
    outcome = outcomes["SIGKILL-while-rendering-report"]
    leftovers = scratch_left(outcome.parent)
    assert leftovers, "SIGKILL cannot clean up: its scratch folder should be there"
    assert all(name.startswith(".out.trialpack-tmp-") for name in leftovers)
    iss = new_input(tmp_path / "input")

    proc = run_cli("build", str(iss), "--out", str(outcome.parent / "out"), "--quiet", cwd=tmp_path)

    assert proc.returncode in (0, 1), proc.stderr
    assert scratch_left(outcome.parent) == []
    assert sorted(p.name for p in outcome.parent.iterdir()) == ["out"]
    package = outcome.parent / "out"
    assert fingerprint(package) != outcome.before and manifest_consistent(package)
    created = json.loads((package / "manifest.json").read_text(encoding="utf-8"))["created"]
    assert created.startswith(NEW_CREATED[:10])


def test_build_failing_late_leaves_the_previous_package(previous, tmp_path) -> None:
    """A build that fails after writing part of its package (here: a value the XPT writer
    refuses, after mapping) changes nothing in DIR and leaves no scratch folder."""
    iss = new_input(tmp_path / "input")
    ae = tmp_path / "input" / "raw" / "ae.csv"
    ae.write_text(ae.read_text(encoding="utf-8").replace("runny nose", "rhinorrh\u00e9e"), encoding="utf-8")
    shutil.copytree(previous, tmp_path / "target" / "out")
    before = fingerprint(tmp_path / "target")

    proc = run_cli("build", str(iss), "--out", str(tmp_path / "target" / "out"), "--quiet", cwd=tmp_path)

    one_error_line(proc.stderr)
    assert proc.returncode == 2
    assert fingerprint(tmp_path / "target") == before


def test_first_build_into_a_new_folder_is_all_or_nothing(tmp_path) -> None:
    """Killed before the end, a build into a folder that did not exist leaves no folder at all."""
    iss = new_input(tmp_path / "input")
    code, stderr, killed = run_and_kill(Kill("x", "deriving the pooled ISS ADaM", 0.0, signal.SIGTERM), iss,
                                        tmp_path / "target" / "new")
    assert killed and code == 143, stderr
    assert sorted(p.name for p in (tmp_path / "target").iterdir()) == []


# -- which folders a build may replace: the packages trialpack wrote (a manifest.json alone is not one;
#    the refused folders are in tests/test_bad_inputs.py) -----------------------------------------------


def test_a_demo_package_is_replaced_by_the_next_build(tmp_path_factory, tmp_path) -> None:
    from tests.cli_support import demo_package

    iss = new_input(tmp_path / "input")
    shutil.copytree(demo_package(tmp_path_factory)[0], tmp_path / "target" / "out")
    before = fingerprint(tmp_path / "target" / "out")

    proc = run_cli("build", str(iss), "--out", str(tmp_path / "target" / "out"), "--quiet", cwd=tmp_path)

    assert proc.returncode in (0, 1), proc.stderr
    package = tmp_path / "target" / "out"
    assert fingerprint(package) != before and manifest_consistent(package)
    assert not (package / "demo-input").exists()
    manifest = json.loads((package / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["trialpack_package"] == 1 and manifest["created"].startswith(NEW_CREATED[:10])


def test_a_built_package_is_replaced_by_the_demo(previous, tmp_path) -> None:
    shutil.copytree(previous, tmp_path / "out")

    proc = run_cli("demo", "--out", str(tmp_path / "out"), "--subjects", "40", "--studies", "2", "--quiet",
                   cwd=tmp_path)

    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "demo-input").is_dir() and manifest_consistent(tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_build_with_error_findings_replaces_the_package(previous, tmp_path) -> None:
    """Exit 1 is not a failure of the build: the package is built, with error-level findings, and
    replaces the previous one so that the user can read them (README, exit codes). Here the study's
    EX export has its header only: nobody is treated, an error (TP0207)."""
    iss = new_input(tmp_path / "input")
    ex = tmp_path / "input" / "raw" / "ex.csv"
    ex.write_text(ex.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    shutil.copytree(previous, tmp_path / "target" / "out")
    before = fingerprint(tmp_path / "target" / "out")

    proc = run_cli("build", str(iss), "--out", str(tmp_path / "target" / "out"), cwd=tmp_path)

    assert proc.returncode == 1, proc.stderr
    assert all(line.startswith("[trialpack] ") for line in proc.stderr.splitlines()), proc.stderr  # progress only
    package = tmp_path / "target" / "out"
    assert fingerprint(package) != before and manifest_consistent(package)
    assert json.loads((package / "manifest.json").read_text(encoding="utf-8"))["created"].startswith(NEW_CREATED[:10])
    found = json.loads((package / "validation" / "findings.json").read_text(encoding="utf-8"))["findings"]
    assert "TP0207" in {f["rule"] for f in found if f["severity"] == "error"}
    assert f"Package written to {package}" in proc.stdout
    assert scratch_left(tmp_path / "target") == []
