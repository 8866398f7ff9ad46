"""Validate a built package from its files alone, and write the validation report.

``validate_package(DIR)`` re-reads every dataset file and runs, per define.xml: the define
checks (schema, Define-XML business rules — ``define.validate_define``), define <-> data
(``define.cross_check``: presence, order, types, lengths, labels, codelists, keys, leaves),
the spec checks of each dataset against the spec read back from its define
(``specs.check``: required values, ISO 8601, ASCII, 200 bytes ...), then the cross-dataset
checks (``trialpack.consistency``). ``write_validation`` writes ``findings.json`` (every
finding) and ``validation-report.xlsx`` (Summary, Findings, Datasets, Rules sheets).
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

import specs
from specs import findings
from specs.errors import InputError
from trialpack import layout

SEVERITY_ORDER = {"error": 0, "warning": 1, "notice": 2}
#: Findings made while building (raw-record rejections, mapping and derivation notes) cannot be
#: re-derived from the package; the build keeps them here and re-validation reports them again.
BUILD_FINDINGS = "build-findings.json"
EXCEL_MAX_ROWS = 1_048_575


def read_folder(folder: Path) -> tuple[dict[str, pd.DataFrame], dict[str, object], dict[str, str], pd.DataFrame]:
    """Datasets of one package folder: frames, file metadata and file names by dataset name
    (XPT preferred; Dataset-JSON where there is no XPT), and a TP0309 finding for each file that
    cannot be read (the rest of the package is still checked)."""
    from trialpack.datasetjson import read_dataset_json
    from trialpack.xpt import read_xpt

    frames, metas, files, unreadable = {}, {}, {}, []
    for path in [*sorted(folder.glob("*.xpt")), *sorted(folder.glob("*.json"))]:
        name = path.stem.upper()
        if name in frames:
            continue
        try:
            if path.suffix == ".xpt":
                df, metas[name] = read_xpt(path)
            else:
                df, _ = read_dataset_json(path)
        except InputError as exc:
            unreadable.append(findings.make("TP0309", name, None, message=f"cannot read the dataset: {exc.message}",
                                            file=str(path)))
            continue
        frames[name], files[name] = df, str(path)
    return frames, metas, files, findings.concat(unreadable)


def validate_package(root: str | Path, *, spec_checks_done: pd.DataFrame | None = None
                     ) -> tuple[pd.DataFrame, list[list]]:
    """Every finding of the package in ``root`` (see the module docstring), and the dataset
    files it read (path, name, rows, columns, bytes) for the report's Datasets sheet.

    ``spec_checks_done``: the build's own ``specs.check`` findings on the data it has just
    written (identical bytes: the writers round-trip exactly), used instead of checking the
    re-read files again; ``trialpack validate`` always re-checks."""
    from define import cross_check, validate_define
    from trialpack import consistency

    root = Path(root)
    defines = layout.define_files(root)
    if not defines:
        raise InputError("no define.xml under m5/datasets: not a trialpack package folder", file=root)
    out = []
    sdtm_by_study: dict[str, dict[str, pd.DataFrame]] = {}
    adam: dict[str, pd.DataFrame] = {}
    adam_files: dict[str, str] = {}
    details: list[list] = []
    for define_path in defines:
        folder = define_path.parent
        frames, metas, files, unreadable = read_folder(folder)
        out.append(unreadable)
        details += [[str(Path(files[n]).relative_to(root)), n, len(df), df.shape[1], Path(files[n]).stat().st_size]
                    for n, df in frames.items()]
        out.append(validate_define(define_path))
        out.append(cross_check(define_path, frames, folder=folder, metadata=metas))
        if spec_checks_done is None:
            out.append(spec_checks(define_path, frames, files))
        if "DM" in frames:
            study = str(frames["DM"]["STUDYID"].iloc[0]) if len(frames["DM"]) else folder.parts[-3].upper()
            sdtm_by_study[study] = frames
            out.append(consistency.sdtm_checks(frames, files))
        else:
            adam.update(frames)
            adam_files.update(files)
    if adam:
        out.append(consistency.adam_checks(adam, sdtm_by_study, adam_files))
    out.append(read_build_findings(root))
    if spec_checks_done is not None:
        out.append(spec_checks_done)
    return relative_files(findings.concat(out), root), details


def write_build_findings(found: pd.DataFrame, root: Path) -> Path:
    folder = layout.validation_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / BUILD_FINDINGS
    path.write_text(json.dumps(findings_records(sort_findings(found)), indent=1, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    return path


def read_build_findings(root: Path) -> pd.DataFrame:
    path = layout.validation_dir(Path(root)) / BUILD_FINDINGS
    if not path.is_file():
        return findings.empty()
    records = json.loads(path.read_text(encoding="utf-8"))
    if not records:
        return findings.empty()
    frame = pd.DataFrame(records)
    frame["row"] = frame["row"].astype("Int64")
    return frame


def spec_checks(define_path: Path, frames: dict[str, pd.DataFrame], files: dict[str, str]) -> pd.DataFrame:
    """``specs.check`` of each dataset against the spec read back from its define.xml."""
    try:
        from define import read_define
    except ImportError:  # reader not available in this checkout
        return findings.empty()
    spec, read_findings = read_define(define_path)
    out = [read_findings[read_findings["severity"] != "notice"]]
    for name, df in frames.items():
        try:
            ds = spec.dataset(name)
        except KeyError:
            continue  # reported by the cross-check (DD0102)
        out.append(specs.check(df, ds, spec).assign(file=files.get(name)))
    return findings.concat(out)


def relative_files(found: pd.DataFrame, root: Path) -> pd.DataFrame:
    """File names relative to the package (no machine paths in the report)."""
    if not len(found):
        return found
    base = str(root.resolve())
    def rel(value):  # noqa: E306 - a handful of distinct file names, mapped once each
        if not isinstance(value, str) or not value:
            return value
        try:
            return str(Path(value).resolve().relative_to(base))
        except ValueError:
            return value
    distinct = {v: rel(v) for v in found["file"].dropna().unique()}
    return found.assign(file=found["file"].map(distinct))


def sort_findings(found: pd.DataFrame) -> pd.DataFrame:
    order = found["severity"].map(SEVERITY_ORDER).fillna(9)
    keyed = found.assign(_s=order, _r=found["row"].astype("Float64").fillna(-1))
    cols = ["_s", "rule", "file", "dataset", "variable", "_r"]
    for c in ("file", "dataset", "variable"):
        keyed[c] = keyed[c].astype(object).where(keyed[c].notna(), "")
    return found.loc[keyed.sort_values(cols, kind="mergesort").index].reset_index(drop=True)


def findings_records(found: pd.DataFrame) -> list[dict]:
    cols = [c for c in ["rule", "severity", "study", "file", "dataset", "variable", "row", "value", "message"]
            if c in found]
    df = found[cols].astype(object).where(found[cols].notna(), None)
    records = df.to_dict(orient="records")
    for r in records:
        if r.get("row") is not None:
            r["row"] = int(r["row"])
        if r.get("value") is not None and not isinstance(r["value"], (str, int, float, bool)):
            r["value"] = str(r["value"])
        if isinstance(r.get("value"), float) and not np.isfinite(r["value"]):
            r["value"] = str(r["value"])
    return records


def write_validation(found: pd.DataFrame, folder: Path, *, created: datetime, details: list[list]) -> list[Path]:
    """findings.json and validation-report.xlsx into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    found = sort_findings(found)
    counts = findings.counts(found)
    body = {"generated": created.isoformat(timespec="seconds"), "counts": counts,
            "rules": {k: {"severity": v[0], "description": v[1]} for k, v in findings.RULES.items()},
            "findings": findings_records(found)}
    json_path = folder / "findings.json"
    json_path.write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    xlsx_path = folder / "validation-report.xlsx"
    write_report_workbook(found, counts, xlsx_path, created=created, details=details)
    return [json_path, xlsx_path]


def write_report_workbook(found: pd.DataFrame, counts: dict, path: Path, *, created: datetime,
                          details: list[list]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    from specs.workbook import write_rows
    from specs.workbook import workbook_bytes
    from trialpack.lineage import reconciliation_sheet

    wb = Workbook()
    ws = wb.active
    ws.title = "Summary"
    write_rows(ws, ["Severity", "Findings"], [[k, v] for k, v in counts.items()])
    ws.append([])
    by_rule = found.groupby(["rule", "severity"]).size().reset_index(name="n") if len(found) else \
        pd.DataFrame(columns=["rule", "severity", "n"])
    ws.append(["Rule", "Severity", "Findings", "What it checks"])
    for rule, severity, n in by_rule[["rule", "severity", "n"]].to_numpy().tolist():  # one line per rule
        ws.append([rule, severity, int(n), findings.RULES.get(rule, ("", ""))[1]])
    sheet = wb.create_sheet("Findings")
    cols = [c for c in ["severity", "rule", "study", "file", "dataset", "variable", "row", "value", "message"]
            if c in found]
    rows = found[cols].astype(object).where(found[cols].notna(), None).to_numpy().tolist()
    if len(rows) > EXCEL_MAX_ROWS - 2:
        rows = rows[: EXCEL_MAX_ROWS - 2] + [["notice", "", "", "", "", "", None, None,
                                               f"{len(found) - (EXCEL_MAX_ROWS - 2)} more findings: see findings.json"]]
    write_rows(sheet, [c.upper() for c in cols], rows)
    sheet = wb.create_sheet("Datasets")
    write_rows(sheet, ["FILE", "DATASET", "ROWS", "COLUMNS", "BYTES"], details)
    write_rows(wb.create_sheet("Reconciliation"), *reconciliation_sheet(path.parent.parent))
    for sheet in wb.worksheets:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDE5F0")
        sheet.freeze_panes = "A2"
    path.write_bytes(workbook_bytes(wb, created))


def package_created(root: Path) -> datetime:
    """The package's creation time (its manifest), so re-validation writes the same bytes."""
    manifest = Path(root) / layout.MANIFEST
    if manifest.is_file():
        try:
            return datetime.fromisoformat(json.loads(manifest.read_text(encoding="utf-8"))["created"])
        except (ValueError, KeyError):
            pass
    return datetime.now().replace(microsecond=0)


def validate_dataset_file(path: Path, *, spec_path: str | None = None) -> pd.DataFrame:
    """One dataset file: readable, then ``specs.check`` against ``--spec`` or the shipped
    standard spec that has its dataset (SDTMIG 3.4 or ADaMIG 1.3)."""
    from specs.load import load_spec, standard_spec
    from trialpack.datasetjson import read_dataset_json
    from trialpack.xpt import read_xpt

    if not path.is_file():
        raise InputError("file not found", file=path)
    df, _ = read_xpt(path) if path.suffix.lower() == ".xpt" else read_dataset_json(path)
    name = path.stem.upper()
    candidates = [load_spec(spec_path)] if spec_path else [standard_spec("sdtmig-3.4"), standard_spec("adamig-1.3")]
    for spec in candidates:
        if name in {d.name for d in spec.datasets}:
            return specs.check(df, spec.dataset(name), spec).assign(file=str(path))
    raise InputError(f"no spec describes dataset {name}; give one with --spec", file=path)
