"""Helpers shared by the reliability tests (bad inputs, atomic builds, determinism, fuzzing):
run the CLI in a subprocess, fingerprint a folder, and a previous good package built once.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from trialpack.process.atomic import SCRATCH_MARK

ROOT = Path(__file__).resolve().parents[1]
#: What a user sees of the environment: the checkout importable, no debug, epoch or worker
#: settings leaking in from the machine or the test process (tests/conftest.py); a test that
#: wants one passes it in ``env``.
BASE_ENV = {k: v for k, v in os.environ.items()
            if k not in ("SOURCE_DATE_EPOCH", "TRIALPACK_DEBUG", "TRIALPACK_WORKERS")}
BASE_ENV["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "trialpack", *args]


def run_cli(*args: str, cwd: Path, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m trialpack ARGS`` in ``cwd`` (a fresh process, as a user runs it)."""
    return subprocess.run(cli_command(*args), cwd=cwd, env={**BASE_ENV, **(env or {})}, capture_output=True,
                          text=True, timeout=timeout)


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file (sha256) and folder under ``folder``, by relative path: equal fingerprints mean
    byte-for-byte equal trees."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        base = Path(dirpath)
        for name in dirnames:
            out[(base / name).relative_to(folder).as_posix() + "/"] = "dir"
        for name in filenames:
            out[(base / name).relative_to(folder).as_posix()] = hashlib.sha256((base / name).read_bytes()).hexdigest()
    return out


def scratch_left(parent: Path) -> list[str]:
    """Hidden scratch folders/files of interrupted or failed runs beside a target in ``parent``."""
    return sorted(p.name for p in parent.iterdir() if SCRATCH_MARK in p.name)


def one_error_line(stderr: str) -> str:
    """The single line a failed command prints; fails if there is anything else or a traceback."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, f"expected exactly one line on stderr, got {len(lines)}:\n{stderr}"
    assert lines[0].startswith("trialpack: error: "), lines[0]
    return lines[0]


_GOOD: dict[str, Path] = {}


def good_package(tmp_path_factory) -> Path:
    """The minimal study's package, built once per test session by the CLI (read-only: copy it)."""
    if "package" not in _GOOD:
        from tests.minimal_study import write_minimal_iss

        base = tmp_path_factory.mktemp("good-package")
        iss = write_minimal_iss(base / "input")
        proc = run_cli("build", str(iss), "--out", str(base / "package"), "--quiet", cwd=base)
        assert proc.returncode in (0, 1), proc.stderr
        _GOOD["package"] = base / "package"
    return _GOOD["package"]


def demo_package(tmp_path_factory) -> tuple[Path, str]:
    """The demo integration's package (XPT and Dataset-JSON), built once per test session by the
    CLI, and the summary the build printed (read-only: copy it)."""
    if "demo" not in _GOOD:
        base = tmp_path_factory.mktemp("demo-package")
        proc = run_cli("demo", "--out", str(base / "package"), "--format", "xpt,json", cwd=base, timeout=900)
        assert proc.returncode == 0, proc.stderr
        (base / "summary.txt").write_text(proc.stdout, encoding="utf-8")
        _GOOD["demo"] = base / "package"
    package = _GOOD["demo"]
    return package, (package.parent / "summary.txt").read_text(encoding="utf-8")


def copy_package(package: Path, target: Path) -> dict[str, str]:
    """Copy a package to ``target`` and return its fingerprint."""
    shutil.copytree(package, target)
    return fingerprint(target)
