"""Where every file of a package goes (eCTD module 5 layout, DESIGN.md "Output package").

::

    OUT/m5/datasets/<studyid>/tabulations/sdtm/   dm.xpt ae.xpt ... define.xml define.html
    OUT/m5/datasets/iss/analysis/adam/datasets/    adsl.xpt adae.xpt ... define.xml define.html
    OUT/report/       iss-report.html, iss-summary.json, tables/, figures/
    OUT/validation/   findings.json, validation-report.xlsx
    OUT/lineage/      sdtm-raw.csv, adam-sdtm.csv  (OUT/report/lineage/table-cells.parquet)
    OUT/manifest.json

``<studyid>`` is the lower-cased STUDYID; file names are lower-case dataset names. Both come
from validated identifiers (STUDYID ``[A-Z0-9_-]``, dataset names ``[A-Z][A-Z0-9_]{0,7}``),
and :func:`inside` refuses any path that would leave the package folder.
"""
from __future__ import annotations

import json
from pathlib import Path

from specs.errors import InputError

MANIFEST = "manifest.json"
#: The manifest key that marks a folder as a package trialpack wrote, and the format of that
#: package: a key of trialpack's own, which no other tool's manifest.json (a browser extension's,
#: a web app's, a data export's) has.
PACKAGE_KEY = "trialpack_package"
PACKAGE_FORMAT = 1
#: What a folder that :func:`is_package` refuses is not (the CLI's refusals say it).
NOT_A_PACKAGE = "a trialpack package folder (no manifest.json written by trialpack)"
#: The dataset folders under OUT/m5/datasets: one per study (SDTM), one for the ISS (ADaM).
DATASET_FOLDERS = ("*/tabulations/sdtm", "*/analysis/adam/datasets")
DEFINE = "define.xml"


def inside(root: Path, *parts: str) -> Path:
    """``root / parts`` — refused if it would resolve outside ``root`` (path traversal)."""
    path = root.joinpath(*parts)
    if not path.resolve().is_relative_to(root.resolve()):
        raise InputError(f"output path {'/'.join(parts)!r} would leave the package folder", file=str(root))
    return path


def package_manifest(root: Path) -> dict | None:
    """The manifest of the package in ``root``: ``root/manifest.json`` when it is a JSON object
    carrying :data:`PACKAGE_KEY` with a format number, as trialpack's manifest writer makes it
    (:func:`trialpack.manifest.write_manifest`); None for no manifest, one that cannot be read
    as JSON, or another tool's."""
    try:
        body = json.loads((Path(root) / MANIFEST).read_bytes())
    except (OSError, ValueError, RecursionError):  # missing, a folder, not JSON, nested past the parser
        return None
    if isinstance(body, dict) and type(body.get(PACKAGE_KEY)) is int and body[PACKAGE_KEY] >= 1:
        return body
    return None


def is_package(root: Path) -> bool:
    """A folder trialpack built: it holds trialpack's package manifest (:func:`package_manifest`;
    written last, swapped in whole). Only such a folder may be replaced by a build or have
    validation reports written into it."""
    return package_manifest(root) is not None


def sdtm_dir(root: Path, studyid: str) -> Path:
    return inside(root, "m5", "datasets", studyid.lower(), "tabulations", "sdtm")


def adam_dir(root: Path) -> Path:
    return inside(root, "m5", "datasets", "iss", "analysis", "adam", "datasets")


def dataset_file(folder: Path, name: str, fmt: str) -> Path:
    return inside(folder, f"{name.lower()}.{fmt}")


def report_dir(root: Path) -> Path:
    return root / "report"


def validation_dir(root: Path) -> Path:
    return root / "validation"


def lineage_dir(root: Path) -> Path:
    return root / "lineage"
