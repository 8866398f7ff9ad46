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

from pathlib import Path

from specs.errors import InputError

MANIFEST = "manifest.json"
#: The dataset folders under OUT/m5/datasets: one per study (SDTM), one for the ISS (ADaM).
DATASET_FOLDERS = ("*/tabulations/sdtm", "*/analysis/adam/datasets")
DEFINE = "define.xml"


def inside(root: Path, *parts: str) -> Path:
    """``root / parts`` — refused if it would resolve outside ``root`` (path traversal)."""
    path = root.joinpath(*parts)
    if not path.resolve().is_relative_to(root.resolve()):
        raise InputError(f"output path {'/'.join(parts)!r} would leave the package folder", file=str(root))
    return path


def is_package(root: Path) -> bool:
    """A folder trialpack built: it holds the package manifest (written last, swapped in whole)."""
    return (Path(root) / MANIFEST).is_file()


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
