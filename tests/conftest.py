"""Shared fixtures: where the real reference data lives (../shared/data), skipping cleanly if absent."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

# Builds run inside the test process (the Python API, trialpack.cli.main) use one process: a
# pytest-xdist worker runs threads, and forking beside them can stop (README "Limitations"). The
# CLI tests run fresh processes without this setting (tests/cli_support.BASE_ENV), so the forked
# path is still the one they test.
os.environ["TRIALPACK_WORKERS"] = "1"

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
PILOT_SDTM = SHARED_DATA / "cdiscpilot01" / "sdtm"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture(scope="session")
def pilot_sdtm() -> Path:
    if not PILOT_SDTM.is_dir():
        pytest.skip("../shared/data/cdiscpilot01/sdtm is not present")
    return PILOT_SDTM


@pytest.fixture(scope="session")
def demo_package(tmp_path_factory) -> Path:
    """The demo integration's whole package (``trialpack demo --format xpt,json``), built once per
    test session by the CLI (read-only: copy it before changing anything); the same package as
    :func:`tests.cli_support.demo_package`."""
    from tests.cli_support import demo_package as built_demo

    return built_demo(tmp_path_factory)[0]
