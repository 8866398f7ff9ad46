"""Validate a built package from its files alone, and write the validation report.

``validate_package(DIR)`` finds the dataset folders of the package (one per study, one for
the ISS ADaM) and re-reads every dataset file in them, XPT and Dataset-JSON (a Dataset-JSON
twin must hold what its XPT file holds, TP0312). Per folder it runs the define checks
(schema, Define-XML business rules — ``define.validate_define``), define <-> data
(``define.cross_check``: presence, order, types, lengths, labels, codelists, keys, leaves),
the spec checks of each dataset against the spec read back from its define
(``specs.check``: required values, ISO 8601, ASCII, 200 bytes ...) — a folder without
define.xml is itself a finding (TP0310) — then the cross-dataset checks
(``trialpack.consistency``); with a manifest, every file it lists must be in the package
(TP0311). ``write_validation`` writes ``findings.json`` (every finding and the rule
catalogue) and ``validation-report.xlsx`` (Summary, Findings, Datasets and Rules sheets).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

import specs
from specs import findings
from specs.errors import InputError
from trialpack import layout
from trialpack.process.atomic import atomic_path

SEVERITY_ORDER = {"error": 0, "warning": 1, "notice": 2}
#: Findings made while building (raw-record rejections, mapping and derivation notes) cannot be
#: re-derived from the package; the build keeps them here and re-validation reports them again.
BUILD_FINDINGS = "build-findings.json"
#: What validation writes into OUT/validation (every time it runs).
VALIDATION_REPORTS = ("findings.json", "validation-report.xlsx")
EXCEL_MAX_ROWS = 1_048_575


@dataclass
class Folder:
    """The datasets of one package folder as read back from its files."""

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)  # XPT data; Dataset-JSON where no XPT
    metas: dict[str, object] = field(default_factory=dict)         # XPT file metadata by dataset
    files: dict[str, str] = field(default_factory=dict)            # the file each frame was read from
    details: list[list] = field(default_factory=list)              # every file read: path, name, rows, cols, bytes
    findings: list[pd.DataFrame] = field(default_factory=list)     # TP0309, TP0312


def read_folder(folder: Path) -> Folder:
    """Every dataset file of one package folder (``*.xpt`` and Dataset-JSON ``*.json``).

    1. a file that cannot be read is a TP0309 finding (the rest of the package is still checked);
    2. the XPT file is the dataset's data; its Dataset-JSON twin is compared with it (TP0312,
       :func:`twin_differences`); a Dataset-JSON file without XPT is the dataset's data."""
    from fileformats.datasetjson import read_dataset_json
    from fileformats.xpt import read_xpt

    out = Folder()
    paths = [*sorted(folder.glob("*.xpt")), *sorted(folder.glob("*.json"))]
    for path in paths:
        name = path.stem.upper()
        try:
            df, meta = read_xpt(path) if path.suffix == ".xpt" else read_dataset_json(path)
        except InputError as exc:
            out.findings.append(findings.make("TP0309", name, None, message=f"cannot read the dataset: {exc.message}",
                                              file=str(path)))
            continue
        out.details.append([str(path), name, len(df), df.shape[1], path.stat().st_size])
        if name in out.frames:
            out.findings.append(twin_differences(name, out.frames[name], out.metas.get(name), df, meta, str(path)))
            continue
        out.frames[name], out.files[name] = df, str(path)
        if path.suffix == ".xpt":
            out.metas[name] = meta
    return out


def written_folder(folder: Path, datasets: dict[str, pd.DataFrame]) -> Folder:
    """A package folder the build has just written, as :func:`read_folder` would read it back,
    from the frames the files were written from: the writers round-trip exactly (the XPT
    writer's byte-fidelity and round-trip tests), so the data are not read again; the XPT
    metadata comes from each file's header records (``read_xpt_metadata``). The dataset of a
    file is the frame it was written from (the XPT file when there is one, else the
    Dataset-JSON file); a dataset written to no file (an empty SUPP--) is not in the folder."""
    from fileformats.xpt import read_xpt_metadata

    out = Folder()
    files = {name: [p for p in (layout.dataset_file(folder, name, fmt) for fmt in ("xpt", "json")) if p.is_file()]
             for name in datasets}
    for name in sorted((n for n in files if files[n]), key=lambda n: files[n][0].name):  # as read_folder lists them
        path, frame = files[name][0], datasets[name]
        out.frames[name], out.files[name] = frame, str(path)
        if path.suffix == ".xpt":
            out.metas[name] = read_xpt_metadata(path)
    written = sorted((p for paths in files.values() for p in paths), key=lambda p: (p.suffix != ".xpt", p.name))
    out.details = [[str(p), p.stem.upper(), len(datasets[p.stem.upper()]), datasets[p.stem.upper()].shape[1],
                    p.stat().st_size] for p in written]
    return out


def twin_differences(name: str, xpt: pd.DataFrame, xpt_meta, twin: pd.DataFrame, twin_meta, file: str
                     ) -> pd.DataFrame:
    """TP0312: a Dataset-JSON file holds what the XPT file of its dataset holds — the same
    variables in the same order with the same labels, the same dataset label, the same number
    of rows and, column by column, the same values (:func:`comparable`: numbers as doubles,
    dates as dates, text without the trailing blanks XPT cannot keep, null text as "")."""
    def finding(variable, message, row=None, value=None):
        return findings.make("TP0312", name, variable, rows=None if row is None else [row],
                             values=None if row is None else [value], message=message, file=file)

    if list(twin.columns) != list(xpt.columns):
        return finding(None, f"variables differ from the XPT file: {list(twin.columns)} vs {list(xpt.columns)}")
    out = []
    if xpt_meta is not None and twin_meta.label != xpt_meta.label:
        out.append(finding(None, f"dataset label {twin_meta.label!r} differs from the XPT file's {xpt_meta.label!r}"))
    if xpt_meta is not None:
        xpt_labels = {v.name: v.label for v in xpt_meta.variables}
        out += [finding(c.name, f"label {c.label!r} differs from the XPT file's {xpt_labels.get(c.name)!r}")
                for c in twin_meta.columns if xpt_labels.get(c.name) != c.label]
    if len(twin) != len(xpt):
        out.append(finding(None, f"{len(twin)} rows where the XPT file has {len(xpt)}"))
        return findings.concat(out)
    for column in xpt.columns:
        a, b = comparable(xpt[column]), comparable(twin[column])
        if a.dtype != b.dtype:
            out.append(finding(column, f"{_kind(b)} values where the XPT file has {_kind(a)} values"))
            continue
        same = (a == b) | (pd.isna(a) & pd.isna(b)) if a.dtype.kind in "fMm" else a == b
        bad = np.flatnonzero(~same)
        if len(bad):
            i = int(bad[0])
            out.append(finding(column, f"{len(bad)} value(s) differ from the XPT file (first at this row, where "
                                       f"the XPT file has {_plain(a[i])!r})", row=i + 1, value=_plain(b[i])))
    return findings.concat(out)


def comparable(values: pd.Series) -> np.ndarray:
    """A column as both file formats can hold it: numbers (integers, booleans) as float64 with
    NaN, dates and times as datetime64/timedelta64 with NaT, anything else as text with null ->
    "" and trailing blanks removed (XPT v5 pads text with blanks and has no null text)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from specs.columns import arrow_text

    if pd.api.types.is_datetime64_any_dtype(values) or pd.api.types.is_timedelta64_dtype(values):
        return values.to_numpy()
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=float, na_value=np.nan)
    try:
        text = arrow_text(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        text = arrow_text(values.astype(str))
    return pc.utf8_rtrim(text, characters=" ").fill_null("").to_numpy(zero_copy_only=False)


def _plain(value):
    """A numpy scalar as the Python value it holds (for messages and findings.json)."""
    return value.item() if isinstance(value, np.generic) else value


def _kind(values: np.ndarray) -> str:
    return {"f": "numeric", "M": "date/datetime", "m": "time"}.get(values.dtype.kind, "text")


def dataset_folders(root: Path) -> list[Path]:
    """Every folder of the package that holds datasets or a define.xml, SDTM studies first."""
    m5 = root / "m5" / "datasets"
    found = []
    for pattern in layout.DATASET_FOLDERS:
        found += sorted({p.parent for p in m5.glob(f"{pattern}/*") if p.suffix in (".xpt", ".json")
                         or p.name == layout.DEFINE})
    return found


def manifest_gaps(root: Path) -> pd.DataFrame:
    """TP0311: the files ``manifest.json`` lists as the package's outputs that are not there
    (the validation reports, which validation writes, excepted). No manifest, no check; a
    manifest that cannot be read is a finding itself."""
    path = root / layout.MANIFEST
    if not path.is_file():
        return findings.empty()
    try:
        listed = [o["path"] for o in json.loads(path.read_text(encoding="utf-8"))["outputs"]]
    except (ValueError, KeyError, TypeError) as exc:
        return findings.make("TP0311", None, None, message=f"manifest.json cannot be read: {exc}", file=str(path))
    reports = {f"{layout.validation_dir(Path('.')).as_posix()}/{name}" for name in VALIDATION_REPORTS}
    missing = [p for p in listed if isinstance(p, str) and p not in reports and not (root / p).is_file()]
    return findings.concat(findings.make("TP0311", None, None, message="listed in manifest.json but missing from "
                                         "the package", file=str(root / p)) for p in missing)


def validate_package(root: str | Path, *, spec_checks_done: pd.DataFrame | None = None,
                     written: dict[Path, Folder] | None = None,
                     checked: dict[Path, pd.DataFrame] | None = None) -> tuple[pd.DataFrame, list[list]]:
    """Every finding of the package in ``root`` (see the module docstring), and the dataset
    files it read (path, name, rows, columns, bytes) for the report's Datasets sheet.

    The dataset folders are found by their files, not by their define.xml: a folder of
    datasets without define.xml is a TP0310 finding and its datasets are still checked
    (all but the define checks); with a manifest, every file it lists must be there (TP0311).

    ``spec_checks_done``: the build's own ``specs.check`` findings on the data it has just
    written (identical bytes: the writers round-trip exactly), used instead of checking the
    re-read files again; ``trialpack validate`` always re-checks.

    ``written``: the folders the build has just written (:func:`written_folder`), by path,
    used instead of reading their dataset files back; ``checked``: the findings of
    :func:`check_folder` for some of them, already made (the build checks the SDTM folders
    while it derives the ADaM). ``trialpack validate`` always reads and checks everything."""
    from trialpack import consistency

    root = Path(root)
    folders = dataset_folders(root)
    if not folders:
        raise InputError("no dataset folder or define.xml under m5/datasets: not a trialpack package folder",
                         file=root)
    out = [manifest_gaps(root)]
    sdtm_by_study: dict[str, dict[str, pd.DataFrame]] = {}
    adam: dict[str, pd.DataFrame] = {}
    adam_files: dict[str, str] = {}
    details: list[list] = []
    for folder in folders:
        data = (written or {}).get(folder) or read_folder(folder)
        details += [[str(Path(path).relative_to(root)), *rest] for path, *rest in data.details]
        found = (checked or {}).get(folder)
        out.append(found if found is not None else check_folder(folder, data, with_spec_checks=spec_checks_done is None))
        if "DM" in data.frames:
            frames = data.frames
            study = str(frames["DM"]["STUDYID"].iloc[0]) if len(frames["DM"]) else folder.parts[-3].upper()
            sdtm_by_study[study] = frames
        else:
            adam.update(data.frames)
            adam_files.update(data.files)
    if adam:
        out.append(consistency.adam_checks(adam, sdtm_by_study, adam_files))
    out.append(read_build_findings(root))
    if spec_checks_done is not None:
        out.append(spec_checks_done)
    return relative_files(findings.concat(out), root), details


def check_folder(folder: Path, data: Folder, *, with_spec_checks: bool = True) -> pd.DataFrame:
    """The findings of one dataset folder on its own: files that cannot be read or disagree
    (TP0309, TP0312), its define.xml (``define.validate_define``), define <-> data
    (``define.cross_check``), the spec checks against the spec read back from the define
    (unless ``with_spec_checks`` is false: the build made them), a folder without define.xml
    (TP0310), and for an SDTM folder (one with DM) the SDTM cross-dataset checks."""
    from define import cross_check, validate_define
    from trialpack import consistency

    frames, files = data.frames, data.files
    out = list(data.findings)
    define_path = folder / layout.DEFINE
    if define_path.is_file():
        out.append(validate_define(define_path))
        out.append(cross_check(define_path, frames, folder=folder, metadata=data.metas))
        if with_spec_checks:
            out.append(spec_checks(define_path, frames, files))
    else:
        out.append(findings.make("TP0310", None, None, message=f"{len(frames)} dataset(s) but no define.xml: "
                                 "the define checks of this folder were skipped", file=str(folder)))
    if "DM" in frames:
        out.append(consistency.sdtm_checks(frames, files))
    return findings.concat(out)


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
    """findings.json and validation-report.xlsx into ``folder``, each written beside its target
    and moved into place whole (a failed or interrupted run leaves the previous report)."""
    folder.mkdir(parents=True, exist_ok=True)
    found = sort_findings(found)
    counts = findings.counts(found)
    body = {"generated": created.isoformat(timespec="seconds"), "counts": counts,
            "rules": {k: {"severity": v[0], "description": v[1]} for k, v in findings.RULES.items()},
            "findings": findings_records(found)}
    json_path, xlsx_path = (folder / name for name in VALIDATION_REPORTS)
    with atomic_path(json_path) as tmp:
        tmp.write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    with atomic_path(xlsx_path) as tmp:
        write_report_workbook(found, counts, tmp, created=created, details=details)
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
    sheet = wb.create_sheet("Rules")
    fired = by_rule.groupby("rule")["n"].sum()
    write_rows(sheet, ["RULE", "SEVERITY", "DESCRIPTION", "FINDINGS"],
               [[rule, severity, text, int(fired.get(rule, 0))] for rule, (severity, text) in findings.RULES.items()])
    for sheet in wb.worksheets:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDE5F0")
        sheet.freeze_panes = "A2"
    path.write_bytes(workbook_bytes(wb, created))


def package_created(root: Path) -> datetime:
    """The package's creation time (its manifest), so re-validation writes the same bytes."""
    manifest = layout.package_manifest(root) or {}
    try:
        return datetime.fromisoformat(manifest["created"])
    except (ValueError, KeyError, TypeError):
        return datetime.now().replace(microsecond=0)


def validate_dataset_file(path: Path, *, spec_path: str | None = None) -> pd.DataFrame:
    """One dataset file: readable, then ``specs.check`` against ``--spec`` or the shipped
    standard spec that has its dataset (SDTMIG 3.4 or ADaMIG 1.3)."""
    from fileformats.datasetjson import read_dataset_json
    from fileformats.xpt import read_xpt
    from specs.load import describing_spec

    if not path.is_file():
        raise InputError("file not found", file=path)
    df, _ = read_xpt(path) if path.suffix.lower() == ".xpt" else read_dataset_json(path)
    name = path.stem.upper()
    described = describing_spec(name, spec_path)
    if described is None:
        raise InputError(f"no spec describes dataset {name}; give one with --spec", file=path)
    spec, dataset = described
    return specs.check(df, dataset, spec).assign(file=str(path))
