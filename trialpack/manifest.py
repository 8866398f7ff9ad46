"""manifest.json: what went in, what came out, and how they reconcile.

Keys: ``trialpack_package`` (the package format, :data:`trialpack.layout.PACKAGE_FORMAT`: the
mark by which a later build or ``trialpack validate`` knows the folder as a trialpack package,
:func:`trialpack.layout.is_package`), ``trialpack`` (version), ``environment`` (Python and
dependency versions), ``created``, ``config`` (the ISS and study configs and the query file, each with sha256),
``inputs`` (every raw or SDTM input file: path, bytes, sha256, rows), ``outputs`` (every
package file: path, bytes, sha256, and rows/columns for datasets), ``reconciliation`` (per raw
file: rows read = rows mapped + rows rejected), ``findings`` (counts by severity), ``summary``
(the headline numbers) and ``lineage`` (the lineage files). Paths are relative (inputs to the
ISS config's folder, outputs to the package), so the manifest is the same wherever the build ran.
"""
from __future__ import annotations

import json
import os
import platform
from importlib import metadata
from pathlib import Path

from fileformats import pagecache
from trialpack import __version__, layout

DEPENDENCIES = ("numpy", "pandas", "pyarrow", "pyreadstat", "lxml", "jsonschema", "openpyxl", "defineutils",
                "scipy", "matplotlib", "rtflite", "rich")


def sha256(path: Path) -> str:
    """The file's sha256 (a large file read without filling the page cache: :mod:`fileformats.pagecache`)."""
    return pagecache.sha256(path)


def sha256_all(paths: list[Path], *, threads: int = 2) -> dict[Path, str]:
    """sha256 of each file, ``threads`` at a time (hashlib releases the GIL while it hashes:
    the gigabytes of a large package hash on both cores). A file whose digest is known and
    unchanged since (:func:`fileformats.pagecache.known_digest`: hashed by its writer as it wrote
    it, or here before) is not read again; what is hashed here is remembered, so the build can
    hash finished files ahead of the manifest while a core is free."""
    out, todo = {}, []
    for path in paths:
        digest = pagecache.known_digest(path)
        if digest is None:
            todo.append(path)
        else:
            out[path] = digest
    if todo:
        from concurrent.futures import ThreadPoolExecutor

        stamps = {path: pagecache.file_stamp(path) for path in todo}   # before the file is read
        with ThreadPoolExecutor(threads) as pool:
            hashed = dict(zip(todo, pool.map(sha256, todo)))
        for path, digest in hashed.items():
            pagecache.remember_digest(path, digest, stamps[path])
        out.update(hashed)
    return out


def environment() -> dict:
    versions = {}
    for name in DEPENDENCIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"python": platform.python_version(), "dependencies": versions}


def _relative(path: Path, base: Path) -> str:
    try:
        return Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()
    except ValueError:
        return path.name


def input_files(iss, input_dir: Path | None) -> list[tuple[Path, str, str]]:
    """Every raw or SDTM input file of the ISS, once each: (path, its name in the package's
    findings and reconciliation — ``sdtm.mapping.raw_file_name`` —, STUDYID)."""
    from sdtm.mapping import raw_file_name

    out = {}
    for config in iss.studies:
        if config.source == "sdtm":
            folder = config.sdtm_dir(input_dir)
            paths = sorted(folder.glob("*.xpt"))
        else:
            folder = config.raw_dir(input_dir)
            paths = [folder / spec["path"] for spec in config.get("raw", {}).get("files", {}).values()]
        for path in paths:
            out.setdefault(path, (path, raw_file_name(path, iss.file.parent), config.studyid))
    return list(out.values())


def _query_file(iss, base: Path) -> dict:
    """``{"query_file": {path, sha256}}`` when the ISS config gives a query file, else nothing."""
    if not iss.get("query_file"):
        return {}
    path = iss.file.parent / iss.get("query_file")
    return {"query_file": {"path": _relative(path, base), "sha256": sha256(path)}}


def inputs(result, base: Path, input_dir: Path | None) -> list[dict]:
    """Each input file: path (relative to ``base``), study, bytes, sha256 and, for a raw file, the
    records read from it by domain (a workbook may hold several forms) and their total."""
    read: dict[str, dict[str, int]] = {}
    for study in result.studies:
        for rec in study.reconciliation.to_dict(orient="records"):
            read.setdefault(rec["file"], {})[rec["domain"]] = rec["rows_read"]
    files = input_files(result.iss, input_dir)
    hashed = sha256_all([path for path, _, _ in files])
    return [{"path": _relative(path, base), "study": studyid, "bytes": path.stat().st_size, "sha256": hashed[path],
             "rows": sum(read[key].values()) if key in read else None, "records": read.get(key)}
            for path, key, studyid in files]


def package_files(root: Path) -> list[Path]:
    """Every file of the package under ``root`` but the manifest, sorted."""
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != layout.MANIFEST)


def outputs(root: Path, datasets: dict[str, tuple[int, int]]) -> list[dict]:
    out = []
    paths = package_files(root)
    hashed = sha256_all(paths)
    for path in paths:
        rel = path.relative_to(root).as_posix()
        entry = {"path": rel, "bytes": path.stat().st_size, "sha256": hashed[path]}
        if rel in datasets:
            entry["rows"], entry["columns"] = datasets[rel]
        out.append(entry)
    return out


def write_manifest(root: Path, result, *, input_dir: Path | None) -> Path:
    """Write manifest.json (see the module docstring); files whose digest is known and unchanged
    since are not hashed again (:func:`sha256_all`)."""
    from specs import findings

    base = result.iss.file.parent
    shapes = {}
    for study in result.studies:
        folder = layout.sdtm_dir(root, study.studyid)
        for name, df in study.datasets.items():
            for fmt in ("xpt", "json"):
                shapes[(folder / f"{name.lower()}.{fmt}").relative_to(root).as_posix()] = (len(df), df.shape[1])
    folder = layout.adam_dir(root)
    for name, df in result.analysis.datasets.items():
        for fmt in ("xpt", "json"):
            shapes[(folder / f"{name.lower()}.{fmt}").relative_to(root).as_posix()] = (len(df), df.shape[1])
    body = {
        layout.PACKAGE_KEY: layout.PACKAGE_FORMAT,
        "trialpack": __version__,
        "environment": environment(),
        "created": result.iss.created().isoformat(timespec="seconds"),
        "config": {"iss": {"path": result.iss.file.name, "sha256": sha256(result.iss.file)},
                   "studies": [{"studyid": c.studyid, "path": _relative(c.file, base), "sha256": sha256(c.file)}
                               for c in result.iss.studies],
                   **_query_file(result.iss, base)},
        "inputs": inputs(result, base, input_dir),
        "outputs": outputs(root, shapes),
        "reconciliation": [dict(rec, study=s.studyid) for s in result.studies
                           for rec in s.reconciliation.to_dict(orient="records")],
        "findings": findings.counts(result.findings),
        "summary": result.summary(),
        "lineage": sorted(p.relative_to(root).as_posix() for p in layout.lineage_dir(root).glob("*.csv")),
    }
    path = root / layout.MANIFEST
    path.write_text(json.dumps(body, indent=1, default=_plain) + "\n", encoding="utf-8")
    return path


def _plain(value):
    import numpy as np

    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return str(value)
