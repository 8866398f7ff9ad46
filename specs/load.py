"""Load and save specs: JSON files (validated by ``specs/schema``) and their semantic rules
(:mod:`specs.rules`).

A spec is a directory of JSON files (or one file). Each file holds any of the top-level
keys of :class:`specs.model.Spec`; the files of a directory are merged in name order.
Every error names the file and the JSON path of the offending value (or, for specs read
from a workbook, the sheet, row and column).
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from specs.errors import SpecError
from specs.jsonio import check_schema, json_path, read_json
from specs.model import Codelist, DatasetSpec, Spec
from specs.rules import validate_spec

STANDARD_DIR = Path(__file__).parent / "standard"
LIST_KEYS = ("standards", "documents", "datasets", "codelists", "value_level",
             "where_clauses", "methods", "comments")
MAX_NAME = 8


#: The shipped standard specs that name a dataset file's metadata when no spec is given
#: (``trialpack validate FILE``, ``trialpack convert FILE.csv``), searched in this order.
STANDARD_SPECS = ("sdtmig-3.4", "adamig-1.3")


def describing_spec(name: str, spec_path: str | Path | None = None) -> tuple[Spec, DatasetSpec] | None:
    """The spec that describes dataset ``name`` (e.g. ``"DM"``) and its dataset: the spec at
    ``spec_path`` when one is given, else the first shipped standard spec that has it
    (:data:`STANDARD_SPECS`); None when none does."""
    candidates = (load_spec(spec_path),) if spec_path else (standard_spec(s) for s in STANDARD_SPECS)
    for spec in candidates:
        if any(d.name == name for d in spec.datasets):
            return spec, spec.dataset(name)
    return None


def standard_spec(name: str) -> Spec:
    """A spec shipped with trialpack, e.g. ``standard_spec("sdtmig-3.4")`` (a fresh copy each
    call; the files are read and validated once per process)."""
    return _standard_spec(name).copy()


def shipped_standard(name: str) -> Spec:
    """The shipped spec ``name`` itself, shared by every caller in the process: to look things up
    in (a config check asks it hundreds of times), never to change — :func:`standard_spec` gives a
    copy to build on."""
    return _standard_spec(name)


@lru_cache(maxsize=None)
def _standard_spec(name: str) -> Spec:
    path = STANDARD_DIR / name
    if not path.is_dir():
        known = ", ".join(sorted(p.name for p in STANDARD_DIR.iterdir() if p.is_dir()))
        raise SpecError(f"no shipped standard spec {name!r} (known: {known})")
    # shipped files are schema-valid (tests/test_standard_specs.py): only the semantic rules run here
    return load_spec_files(sorted(path.glob("*.json")), schema=False)


def load_spec(path: str | Path, *, base: Spec | None = None) -> Spec:
    """Read a spec from a directory of JSON files, one JSON file, or an xlsx workbook.

    With ``base``, the files are an overlay: their entries replace the base's entries of the
    same name or OID (:func:`overlay`), and the rules are checked on the result, so an overlay
    may use the base's codelists, methods and standards."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        from specs.workbook import read_workbook

        return read_workbook(path) if base is None else overlay(base, read_workbook(path))
    if path.is_dir():
        files = sorted(p for p in path.glob("*.json") if p.is_file())
        if not files:
            raise SpecError("no *.json spec files in this folder", file=path)
    elif path.is_file():
        files = [path]
    else:
        raise SpecError("spec not found", file=path)
    return load_spec_files(files, base=base)


def load_spec_files(files: Iterable[Path], *, base: Spec | None = None, schema: bool = True) -> Spec:
    merged: dict[str, Any] = {key: [] for key in LIST_KEYS}
    origins: dict[str, list[tuple[Path, str]]] = {key: [] for key in LIST_KEYS}
    study_origin: tuple[Path, str] | None = None
    for file in files:
        data = _read_json(file)
        if schema:
            _check_schema(data, file)
        if "study" in data:
            if merged.get("study") is not None:
                raise SpecError(f"study is also defined in {study_origin[0]}", file=file, path="$.study")
            merged["study"] = data["study"]
            study_origin = (file, "$.study")
        for key in LIST_KEYS:
            for i, _ in enumerate(data.get(key, [])):
                origins[key].append((file, f"$.{key}[{i}]"))
            merged[key].extend(data.get(key, []))
    spec = Spec.from_dict(merged)
    locations: dict[int, tuple[Path, str]] = {}
    for key in LIST_KEYS:
        for obj, (file, jpath) in zip(getattr(spec, key), origins[key]):
            locations[id(obj)] = (file, jpath)
            if isinstance(obj, DatasetSpec):
                raw = next(d for d in merged["datasets"] if d["name"] == obj.name)
                by_name = {v["name"]: j for j, v in enumerate(raw["variables"])}
                for var in obj.variables:
                    locations[id(var)] = (file, f"{jpath}.variables[{by_name[var.name]}]")
            if isinstance(obj, Codelist):
                for k, item in enumerate(obj.items):
                    locations[id(item)] = (file, f"{jpath}.items[{k}]")
    if spec.study is not None and study_origin is not None:
        locations[id(spec.study)] = study_origin

    def where(obj: object, field: str | None) -> dict:
        file, jpath = locations.get(id(obj), (None, "$"))
        if field:
            jpath = f"{jpath}.{'class' if field == 'class_' else field}"
        return {"file": file, "path": jpath}

    if base is not None:
        spec = overlay(base, spec)
    validate_spec(spec, where)
    return spec


def _read_json(file: Path) -> dict:
    data = read_json(file, error=SpecError)
    if not isinstance(data, dict):
        raise SpecError("a spec file must hold a JSON object", file=file, path="$")
    return data


def _check_schema(data: dict, file: Path) -> None:
    check_schema(data, "spec", file, error=SpecError)
    _check_text(data, file)


#: Control characters that XML (so xlsx and define.xml) cannot hold; tab, LF and CR can.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _check_text(data: Any, file: Path, parts: tuple = ()) -> None:
    """Every text of a spec file as the workbook and define.xml carry it: no leading or
    trailing whitespace (a workbook import trims cells, so `` Age`` would come back as
    ``Age``), not empty (an empty cell is an absent value; where-clause values excepted, where
    ``""`` is a value), no control character. JSON -> xlsx -> JSON is then lossless."""
    if isinstance(data, str):
        problem = _text_problem(data, empty_ok=parts[-2:-1] == ("values",))
        if problem:
            raise SpecError(f"text {data!r} {problem}", file=file, path=json_path(parts))
    elif isinstance(data, dict):
        for key, value in data.items():
            _check_text(value, file, (*parts, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            _check_text(value, file, (*parts, i))


def _text_problem(text: str, *, empty_ok: bool) -> str | None:
    if not text:
        return None if empty_ok else "is empty: leave the key out instead"
    if text != text.strip():
        return "has leading or trailing whitespace, which a spec does not carry: remove it"
    bad = _CONTROL.search(text)
    if bad:
        return f"holds the control character U+{ord(bad.group()):04X}, which XML cannot carry"
    return None


def overlay(base: Spec, top: Spec) -> Spec:
    """``top`` laid over ``base``: entries of ``top`` replace those with the same name/OID."""
    out = base.copy()
    if top.study is not None:
        out.study = top.study
    for attr, key in (("standards", "oid"), ("documents", "id"), ("datasets", "name"), ("codelists", "oid"),
                      ("where_clauses", "oid"), ("methods", "oid"), ("comments", "oid")):
        mine = getattr(top, attr)
        names = {getattr(x, key) for x in mine}
        setattr(out, attr, [x for x in getattr(out, attr) if getattr(x, key) not in names] + list(mine))
    replaced = {(v.dataset, v.variable, v.where_clause) for v in top.value_level}
    out.value_level = [v for v in out.value_level if (v.dataset, v.variable, v.where_clause) not in replaced]
    out.value_level += top.value_level
    return out


# -- saving -------------------------------------------------------------------------------


def spec_files(spec: Spec) -> dict[str, dict]:
    """The JSON files of a spec directory: study, one per dataset, codelists, value level, methods, comments."""
    files: dict[str, dict] = {}
    head: dict[str, Any] = {}
    if spec.study is not None:
        head["study"] = spec.study.to_dict()
    for key in ("standards", "documents"):
        if getattr(spec, key):
            head[key] = [x.to_dict() for x in getattr(spec, key)]
    if head:
        files["study.json"] = head
    for ds in spec.datasets:
        files[f"{ds.name.lower()}.json"] = {"datasets": [ds.to_dict()]}
    for name, keys in (("codelists.json", ("codelists",)),
                       ("valuelevel.json", ("value_level", "where_clauses")),
                       ("methods.json", ("methods",)), ("comments.json", ("comments",))):
        body = {k: [x.to_dict() for x in getattr(spec, k)] for k in keys if getattr(spec, k)}
        if body:
            files[name] = body
    return files


def save_spec(spec: Spec, out_dir: str | Path) -> list[Path]:
    """Write ``spec`` as a directory of JSON files; returns the files written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, body in spec_files(spec).items():
        target = out / name
        target.write_text(dump_json(body), encoding="utf-8")
        written.append(target)
    return written


def dump_json(body: Any) -> str:
    return json.dumps(body, indent=1, ensure_ascii=True) + "\n"


__all__ = ["load_spec", "load_spec_files", "save_spec", "spec_files", "standard_spec",
           "validate_spec", "dump_json"]
