#!/usr/bin/env python3
"""Generate the standard specs shipped in ``specs/standard/`` from the CDISC source files.

Every label, data type, core, SDTM role, codelist C-code and CT term comes from the files in
``../shared/data`` (CDISC Library exports of SDTMIG 3.4, ADaMIG 1.3 and ADaM ADAE; NCI-EVS
SDTM, ADaM and Define-XML terminology). ``tools/standard_selection.json`` holds only the
curated choices: which permissible variables a dataset carries, origins, methods, keys,
lengths the standard fixes, codelist subsets, the CT codelists a package ships for study
specs although its own datasets do not use them (``library_codelists``, each with its
reason; ``library_comments`` likewise), and the method and comment texts.

Output: one directory per package (``sdtmig-3.4``, ``adamig-1.3``) of JSON files in the
form of :mod:`specs.model` (``to_dict()``), written with ``json.dumps(indent=1,
ensure_ascii=True)`` in a fixed order, so running the generator twice gives the same bytes.

Usage::

    python tools/build_standard_specs.py            # (re)write specs/standard/
    python tools/build_standard_specs.py --check    # exit 1 if the committed files differ
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from specs.errors import InputError  # noqa: E402
from specs.model import (  # noqa: E402
    ORIGIN_TYPES, Codelist, CodelistItem, Comment, DatasetSpec, Method, RangeCheck,
    Standard, ValueLevel, VariableSpec, WhereClause,
)

DEFAULT_SHARED = ROOT.parent / "shared" / "data"
DEFAULT_SELECTION = ROOT / "tools" / "standard_selection.json"
DEFAULT_OUT = ROOT / "specs" / "standard"

#: ADaM dates (ADaMIG 1.3 section 3.1.4: *DT numeric dates) are Define-XML integers shown DATE9.
ADAM_DATE_FORMAT = "DATE9."
#: ADaMIG 1.3 section 3.1.1 index placeholders: xx/zz two digits, y 1-99, w 1-9.
PLACEHOLDERS = {"xx": r"\d\d", "zz": r"\d\d", "y": r"[1-9]\d?", "w": r"[1-9]"}
#: SDTMIG "Described Value Domain(s)" of ISO 8601 character variables.
ISO8601_DATETIME = "ISO 8601 datetime or interval"


# --------------------------------------------------------------------------------------
# Reading the source tables
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    """One data row of a source table, remembering where it came from."""

    file: Path
    number: int
    values: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.values[column]

    def error(self, message: str, column: str | None = None) -> InputError:
        return InputError(message, file=self.file, row=self.number, column=column)


def read_table(path: Path, required: Iterable[str], *, delimiter: str = ",") -> list[Row]:
    """Rows of a CSV (or tab-delimited, unquoted) file with its header; values are stripped."""
    if not path.is_file():
        raise InputError("file not found", file=path)
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter, quoting=quoting)
        header = next(reader, None)
        if header is None:
            raise InputError("empty file", file=path)
        missing = [c for c in required if c not in header]
        if missing:
            raise InputError(f"missing column(s) {', '.join(missing)}", file=path, row=1)
        rows = []
        for number, fields in enumerate(reader, start=2):
            if len(fields) != len(header):
                raise InputError(f"{len(fields)} fields where the header has {len(header)}", file=path, row=number)
            rows.append(Row(path, number, {h: f.strip() for h, f in zip(header, fields)}))
    return rows


@dataclass(frozen=True)
class CtTerm:
    code: str
    value: str
    preferred_term: str
    synonyms: tuple[str, ...] = ()


@dataclass
class CtCodelist:
    """One NCI-EVS codelist: C-code, name, submission value, extensibility and terms in file order."""

    code: str
    name: str
    value: str
    extensible: bool
    terms: list[CtTerm] = field(default_factory=list)

    def term(self, value: str) -> CtTerm:
        for t in self.terms:
            if t.value == value:
                return t
        raise KeyError(value)


CT_COLUMNS = (
    "Code", "Codelist Code", "Codelist Extensible (Yes/No)", "Codelist Name",
    "CDISC Submission Value", "CDISC Synonym(s)", "NCI Preferred Term",
)


@dataclass
class Terminology:
    """An NCI-EVS terminology file indexed by codelist C-code and submission value."""

    name: str
    standard: str | None
    by_code: dict[str, CtCodelist]
    by_value: dict[str, CtCodelist]

    @classmethod
    def read(cls, name: str, path: Path, standard: str | None) -> "Terminology":
        rows = read_table(path, CT_COLUMNS, delimiter="\t" if path.suffix == ".txt" else ",")
        by_code: dict[str, CtCodelist] = {}
        for row in rows:
            if row["Codelist Code"]:
                continue
            if row["Code"] in by_code:
                raise row.error(f"codelist {row['Code']} defined twice", "Code")
            extensible = row["Codelist Extensible (Yes/No)"]
            if extensible not in ("Yes", "No"):
                raise row.error(f"extensibility {extensible!r} is neither Yes nor No", "Codelist Extensible (Yes/No)")
            by_code[row["Code"]] = CtCodelist(
                row["Code"], row["Codelist Name"], row["CDISC Submission Value"], extensible == "Yes")
        seen: set[tuple[str, str]] = set()
        for row in rows:
            parent = row["Codelist Code"]
            if not parent:
                continue
            if parent not in by_code:
                raise row.error(f"term of unknown codelist {parent}", "Codelist Code")
            codelist = by_code[parent]
            if (parent, row["CDISC Submission Value"]) in seen:
                raise row.error(f"term {row['CDISC Submission Value']!r} twice in {parent}", "CDISC Submission Value")
            seen.add((parent, row["CDISC Submission Value"]))
            synonyms = tuple(x.strip() for x in row["CDISC Synonym(s)"].split(";") if x.strip())
            codelist.terms.append(CtTerm(row["Code"], row["CDISC Submission Value"], row["NCI Preferred Term"], synonyms))
        by_value: dict[str, CtCodelist] = {}
        for codelist in by_code.values():
            if codelist.value in by_value:
                raise InputError(f"codelist submission value {codelist.value} used twice", file=path)
            by_value[codelist.value] = codelist
        return cls(name, standard, by_code, by_value)


SDTMIG_COLUMNS = (
    "Variable Order", "Dataset Name", "Variable Name", "Variable Label", "Type",
    "CDISC CT Codelist Code(s)", "Described Value Domain(s)", "Role", "Core",
)
SDTMIG_DATASET_COLUMNS = ("Class", "Dataset Name", "Dataset Label", "Structure")
ADAM_COLUMNS = (
    "Data Structure Name", "Variable Name", "Variable Label", "Type", "CDISC CT Codelist Code(s)", "Core",
)
ADAM_STRUCTURE_COLUMNS = ("Data Structure Name", "Class", "Subclass")


@dataclass
class Sources:
    """Everything read from ../shared/data."""

    sdtm_variables: dict[str, list[Row]]
    sdtm_datasets: dict[str, Row]
    adam_tables: dict[str, list[Row]]
    adam_structures: dict[str, Row]
    terminologies: dict[str, Terminology]
    define_ct: Terminology

    @classmethod
    def read(cls, shared: Path, selection: dict[str, Any]) -> "Sources":
        files = {key: shared / rel for key, rel in selection["sources"].items()}
        sdtm_variables: dict[str, list[Row]] = {}
        for row in read_table(files["sdtmig_variables"], SDTMIG_COLUMNS):
            sdtm_variables.setdefault(row["Dataset Name"], []).append(row)
        for rows in sdtm_variables.values():
            rows.sort(key=_variable_order)
        sdtm_datasets = {r["Dataset Name"]: r for r in read_table(files["sdtmig_datasets"], SDTMIG_DATASET_COLUMNS)}
        adam_tables: dict[str, list[Row]] = {}
        for source in ("adamig_variables", "occds_variables"):
            for row in read_table(files[source], ADAM_COLUMNS):
                adam_tables.setdefault(f"{source}:{row['Data Structure Name']}", []).append(row)
        adam_structures = {
            r["Data Structure Name"]: r for r in read_table(files["adamig_structures"], ADAM_STRUCTURE_COLUMNS)}
        terminologies = {
            name: Terminology.read(name, files[spec["source"]], spec["standard"])
            for name, spec in selection["terminologies"].items()
        }
        define_ct = Terminology.read("define", files["define_ct"], None)
        return cls(sdtm_variables, sdtm_datasets, adam_tables, adam_structures, terminologies, define_ct)


def _variable_order(row: Row) -> int:
    try:
        return int(row["Variable Order"])
    except ValueError:
        raise row.error(f"variable order {row['Variable Order']!r} is not an integer", "Variable Order") from None


# --------------------------------------------------------------------------------------
# Helpers shared by the SDTM and ADaM builders
# --------------------------------------------------------------------------------------
def parse_origin(text: str | None, where: str, define_ct: Terminology) -> tuple[str | None, str | None]:
    """``"Type/Source"`` -> (type, source), checked against Define-XML 2.1 origin terminology."""
    if text is None:
        return None, None
    origin_type, _, source = text.partition("/")
    if origin_type not in ORIGIN_TYPES:
        raise InputError(f"origin type {origin_type!r} is not a Define-XML origin type", path=where)
    if source and source not in {t.value for t in define_ct.by_value["ORIGINS"].terms}:
        raise InputError(f"origin source {source!r} is not a Define-XML origin source", path=where)
    return origin_type, source or None


def codes_of(row: Row) -> list[str]:
    """The NCI codelist C-codes a CDISC variable row names (``"C66742; C..."``)."""
    return [c.strip() for c in row["CDISC CT Codelist Code(s)"].split(";") if c.strip()]


def define_class(name: str, codelist: str, define_ct: Terminology, where: str) -> str:
    """A Define-XML class/subclass name: the Define-XML CT term whose value or synonym is ``name``."""
    wanted = name.strip().upper()
    for term in define_ct.by_value[codelist].terms:
        if wanted == term.value.upper() or wanted in (s.upper() for s in term.synonyms):
            return term.value
    raise InputError(f"{name!r} is not a term of Define-XML codelist {codelist}", path=where)


@dataclass
class PackageState:
    """What one package's datasets reference, to emit exactly those codelists/methods/comments."""

    terminologies: list[Terminology]
    codelists: set[str] = field(default_factory=set)
    methods: set[str] = field(default_factory=set)
    comments: set[str] = field(default_factory=set)

    def use(self, var: VariableSpec | ValueLevel) -> None:
        if var.codelist:
            self.codelists.add(var.codelist)
        if var.method:
            self.methods.add(var.method)
        if var.comment:
            self.comments.add(var.comment)

    def ct_codelist_oid(self, code: str, where: str) -> str:
        """``CL.<submission value>`` of the CT codelist with this C-code."""
        found = [t.by_code[code] for t in self.terminologies if code in t.by_code]
        if len(found) != 1:
            raise InputError(f"codelist {code} found in {len(found)} of the package's terminologies", path=where)
        return f"CL.{found[0].value}"


def check_ig_codelist(oid: str, ig_codes: list[str], selection: dict, state: PackageState, where: str) -> None:
    """A variable bound to IG CT must use that codelist (or a subset of it)."""
    if not ig_codes:
        return
    entry = selection["codelists"].get(oid, {})
    if "dictionary" in entry or "items" in entry:
        raise InputError(f"{oid} is not CDISC CT but the IG binds the variable to {'/'.join(ig_codes)}", path=where)
    value = entry.get("subset_of", oid.removeprefix("CL."))
    codes = {t.by_value[value].code for t in state.terminologies if value in t.by_value}
    if not codes & set(ig_codes):
        raise InputError(f"{oid} is not the IG's codelist {'/'.join(ig_codes)}", path=where)


SDTM_VARIABLE_KEYS = frozenset({
    "origin", "origin_reason", "origin_description", "method", "comment", "codelist", "length", "data_type"})
ADAM_VARIABLE_KEYS = frozenset({
    "name", "source", "origin", "origin_reason", "origin_description", "method", "comment", "codelist",
    "data_type", "label", "type", "sponsor_reason", "label_override", "core_override"})
VALUE_LEVEL_KEYS = frozenset({"variable", "where", "data_type", "origin", "method", "comment", "codelist"})


def check_entry_keys(entry: dict[str, Any], allowed: frozenset[str], where: str) -> None:
    """Reject unknown keys, so a misspelt choice (``metod``) is an error, not silently ignored."""
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise InputError(f"unknown key(s) {unknown}", path=where)


def variable_fields(entry: dict[str, Any], where: str, sources: Sources) -> dict[str, Any]:
    """Origin, method and comment of a selection entry, checked for Define-XML consistency."""
    origin_type, origin_source = parse_origin(entry.get("origin"), where, sources.define_ct)
    method = entry.get("method")
    if (origin_type == "Derived") != (method is not None):
        raise InputError("a method is given exactly for Derived origins (Define-XML 2.1)", path=where)
    if origin_type is None and "origin_reason" not in entry:
        raise InputError("no origin and no origin_reason", path=where)
    return {
        "origin_type": origin_type, "origin_source": origin_source, "method": method,
        "comment": entry.get("comment"), "origin_description": entry.get("origin_description"),
    }


# --------------------------------------------------------------------------------------
# SDTM
# --------------------------------------------------------------------------------------
def sdtm_data_type(row: Row, entry: dict[str, Any], selection: dict[str, Any]) -> str:
    """Define-XML data type: ISO 8601 dates -> the selection's date type; Num -> integer/float; else text."""
    if "data_type" in entry:
        if row["Type"] != "Num" or entry["data_type"] not in ("integer", "float"):
            raise row.error(f"data type {entry['data_type']} does not fit IG type {row['Type']}", "Type")
        return entry["data_type"]
    if row["Type"] == "Num":
        return "integer"
    if row["Type"] != "Char":
        raise row.error(f"unknown IG type {row['Type']!r}", "Type")
    if row["Described Value Domain(s)"] == ISO8601_DATETIME:
        return selection["iso8601_date_type"]
    if row["Described Value Domain(s)"] == "ISO 8601 duration":
        return "durationDatetime"   # Define-XML 2.1 data type of an ISO 8601 duration (--DUR, --ELTM)
    if row["Described Value Domain(s)"].startswith("ISO 8601"):
        raise row.error(f"no data type chosen for {row['Described Value Domain(s)']}", "Described Value Domain(s)")
    return "text"


def sdtm_variables(ds: dict[str, Any], sources: Sources, selection: dict, state: PackageState) -> list[VariableSpec]:
    """The IG's Req and Exp variables plus the chosen Perm ones (``"permissible": "all"``: every
    one, so that a study config can map any of them; unused ones are dropped per study) and the
    general-observation timing variables ``timing`` names (VISITNUM, VISIT: their IG rows are
    those of ``timing_from``), in IG order renumbered 1..n, the timing variables before the
    domain's first Timing variable."""
    rows = sources.sdtm_variables.get(ds["ig_dataset"])
    if not rows:
        raise InputError(f"SDTMIG has no dataset {ds['ig_dataset']}", path=f"{ds['name']}.ig_dataset")
    by_name = {r["Variable Name"]: r for r in rows}
    every = ds["permissible"] == "all"
    for name in [] if every else ds["permissible"]:
        if by_name.get(name) is None or by_name[name]["Core"] != "Perm":
            raise InputError(f"{name} is not a Perm variable of {ds['ig_dataset']}", path=f"{ds['name']}.permissible")
    chosen = [r for r in rows if r["Core"] in ("Req", "Exp") or every or r["Variable Name"] in ds["permissible"]]
    chosen = _with_timing(chosen, ds, sources)
    extra = set(ds["variables"]) - {r["Variable Name"] for r in chosen}
    if extra:
        raise InputError(f"variables {sorted(extra)} are not Req/Exp/chosen Perm", path=f"{ds['name']}.variables")
    out = []
    for order, row in enumerate(chosen, start=1):
        name = row["Variable Name"]
        where = f"{ds['name']}.variables.{name}"
        if name not in ds["variables"] and not (every and row["Core"] == "Perm"):
            raise InputError("no origin chosen", path=where)
        entry = ds["variables"].get(name) or default_permissible(row, selection)
        check_entry_keys(entry, SDTM_VARIABLE_KEYS, where)
        ig_codes = codes_of(row)
        codelist = entry["codelist"] if "codelist" in entry else (
            state.ct_codelist_oid(ig_codes[0], where) if len(ig_codes) == 1 else None)
        if codelist is None and ig_codes:
            raise InputError(f"the IG binds {name} to {ig_codes}: choose a codelist", path=where)
        if codelist:
            check_ig_codelist(codelist, ig_codes, selection, state, where)
        var = VariableSpec(
            name=name, label=row["Variable Label"], data_type=sdtm_data_type(row, entry, selection),
            length=entry.get("length"), core=row["Core"], codelist=codelist, order=order,
            role=row["Role"] or None, **variable_fields(entry, where, sources),
        )
        state.use(var)
        out.append(var)
    return out


def sdtm_dataset(ds: dict[str, Any], sources: Sources, selection: dict, state: PackageState) -> DatasetSpec:
    """DatasetSpec of one SDTM dataset: label, class and structure from the SDTMIG datasets table."""
    meta = sources.sdtm_datasets.get(ds["ig_dataset"])
    if meta is None:
        raise InputError(f"SDTMIG has no dataset {ds['ig_dataset']}", path=f"{ds['name']}.ig_dataset")
    label = meta["Dataset Label"].replace("[domain name]", ds["domain"])
    variables = sdtm_variables(ds, sources, selection, state)
    _check_keys(ds, variables)
    return DatasetSpec(
        name=ds["name"], label=label,
        class_=define_class(meta["Class"], "GNRLOBSC", sources.define_ct, f"{ds['name']}.class"),
        structure=meta["Structure"], keys=list(ds["keys"]), purpose="Tabulation",
        repeating=ds["repeating"], reference_data=ds.get("reference_data", False), domain=ds["domain"],
        standard=ds["standard"], variables=variables,
    )


def _with_timing(chosen: list[Row], ds: dict[str, Any], sources: Sources) -> list[Row]:
    """``chosen`` with the general-observation timing variables ``ds["timing"]``, Core Perm: a
    name (VISITNUM) is the row of that name in ``ds["timing_from"]``, placed before the first Timing
    variable; an object ``{"name", "from", "label", "before"}`` (AEDTC from VSDTC, labelled
    "Date/Time of Collection") is that row renamed and relabelled, placed before ``before``."""
    items = ds.get("timing", [])
    if not items:
        return chosen
    source = {r["Variable Name"]: r for r in sources.sdtm_variables.get(ds["timing_from"], [])}
    out = list(chosen)
    first_timing = next((i for i, r in enumerate(chosen) if r["Role"] == "Timing"), len(chosen))
    for count, item in enumerate(items):
        spec = item if isinstance(item, dict) else {"name": item, "from": item}
        if spec["from"] not in source:
            raise InputError(f"{ds['timing_from']} has no variable {spec['from']}", path=f"{ds['name']}.timing")
        row = source[spec["from"]]
        values = {**row.values, "Dataset Name": ds["ig_dataset"], "Core": "Perm", "Variable Name": spec["name"],
                  "Variable Label": spec.get("label", row["Variable Label"])}
        at = (next(i for i, r in enumerate(out) if r["Variable Name"] == spec["before"]) if "before" in spec
              else first_timing + count)
        out.insert(at, Row(row.file, row.number, values))
    return out


def default_permissible(row: Row, selection: dict[str, Any]) -> dict[str, Any]:
    """The selection's default entry for a Perm variable it does not list (``"permissible": "all"``):
    a study day (``--DY``, Timing, Num) is derived by the study-day method; any other is collected
    by the investigator (``permissible_defaults`` in the selection)."""
    defaults = selection["permissible_defaults"]
    if row["Role"] == "Timing" and row["Type"] == "Num" and row["Variable Name"].endswith("DY"):
        return defaults["study_day"]
    return defaults["collected"]


def _check_keys(ds: dict[str, Any], variables: list[VariableSpec]) -> None:
    names = {v.name for v in variables}
    missing = [k for k in ds["keys"] if k not in names]
    if missing:
        raise InputError(f"key variable(s) {missing} not in the dataset", path=f"{ds['name']}.keys")


# --------------------------------------------------------------------------------------
# ADaM
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IgMatch:
    """An ADaM IG row matched to a concrete name, with its label's placeholders filled in."""

    row: Row
    label: str


def placeholder_regex(ig_name: str) -> re.Pattern[str] | None:
    """Regex of an ADaMIG name with lower-case index placeholders (``TRTxxP``), else None."""
    if ig_name.startswith("*") or ig_name == ig_name.upper():
        return None
    parts = re.split(r"(xx|zz|y|w)", ig_name)
    return re.compile("".join(
        f"(?P<{p}{i}>{PLACEHOLDERS[p]})" if p in PLACEHOLDERS else re.escape(p) for i, p in enumerate(parts)))


def instantiate_label(label: str, match: re.Match[str]) -> str:
    """Fill a label's whole-word placeholders (``Period xx``) with the matched index."""
    for group, value in match.groupdict().items():
        token = group.rstrip("0123456789")
        label = re.sub(rf"\b{token}\b", value, label)
    return label


def find_ig_row(name: str, rows: list[Row], where: str) -> IgMatch | None:
    """The row of an ADaM table defining ``name``: exact name first, then a single placeholder match."""
    exact = [r for r in rows if r["Variable Name"] == name]
    if exact:
        return IgMatch(exact[0], exact[0]["Variable Label"])
    matches = []
    for row in rows:
        regex = placeholder_regex(row["Variable Name"])
        m = regex.fullmatch(name) if regex else None
        if m:
            matches.append(IgMatch(row, instantiate_label(row["Variable Label"], m)))
    if len(matches) > 1:
        raise InputError(f"{name} matches several IG names: {[m.row['Variable Name'] for m in matches]}", path=where)
    return matches[0] if matches else None


def adam_data_type(name: str, ig_type: str, entry: dict[str, Any], where: str) -> tuple[str, str | None]:
    """(data type, display format): Char -> text; Num -> integer (dates DATE9.) or the chosen float."""
    if ig_type == "Char":
        if "data_type" in entry:
            raise InputError("a data type is chosen only for numeric variables", path=where)
        return "text", None
    if ig_type != "Num":
        raise InputError(f"unknown type {ig_type!r}", path=where)
    if name.endswith("DT"):
        return "integer", ADAM_DATE_FORMAT
    data_type = entry.get("data_type", "integer")
    if data_type not in ("integer", "float"):
        raise InputError(f"numeric data type {data_type!r}", path=where)
    return data_type, None


class AdamBuilder:
    """Builds the ADaM datasets of one package in selection order (ADSL first, then its users)."""

    def __init__(self, package: dict, sources: Sources, selection: dict, state: PackageState,
                 sdtm: dict[str, DatasetSpec]):
        self.package = package
        self.sources = sources
        self.selection = selection
        self.state = state
        self.built: dict[str, DatasetSpec] = dict(sdtm)

    def table(self, key: str) -> list[Row]:
        spec = self.package["tables"][key]
        rows = self.sources.adam_tables.get(f"{spec['source']}:{spec['structure']}")
        if not rows:
            raise InputError(f"no ADaM table {spec['structure']} in {spec['source']}", path=f"tables.{key}")
        return rows

    def source_variable(self, source: str, where: str) -> VariableSpec:
        dataset, _, name = source.partition(".")
        if dataset not in self.built or name not in self.built[dataset]:
            raise InputError(f"source {source} is not a variable built before this one", path=where)
        return self.built[dataset].variable(name)

    def variable(self, ds: dict[str, Any], entry: dict[str, Any], order: int) -> VariableSpec:
        name = entry["name"]
        where = f"{ds['name']}.variables.{name}"
        check_entry_keys(entry, ADAM_VARIABLE_KEYS, where)
        match = None
        for key in ds["tables"]:
            match = find_ig_row(name, self.table(key), where)
            if match:
                break
        src = self.source_variable(entry["source"], where) if "source" in entry else None
        label, data_type, display_format, codelist = self._metadata(name, entry, match, src, where)
        fields = self._origin(entry, where)
        var = VariableSpec(
            name=name, label=label, data_type=data_type, length=src.length if src else None,
            display_format=display_format, core=self._core(entry, match, where),
            codelist=codelist, order=order, **fields,
        )
        self.state.use(var)
        return var

    def _metadata(self, name, entry, match, src, where):
        """Label, data type, display format and codelist: IG row, else the copied variable, else sponsor."""
        if match is None and src is None:
            if "label" not in entry or "sponsor_reason" not in entry:
                raise InputError("not in the IG tables and not a copy: give label, type and sponsor_reason", path=where)
            label, ig_type = entry["label"], entry["type"]
        elif match is not None:
            label, ig_type = match.label, match.row["Type"]
            if src is not None and src.name == name and src.label != label:
                raise InputError(f"IG label {label!r} differs from the copied {src.name}'s {src.label!r}", path=where)
        else:
            label, ig_type = src.label, ("Num" if src.is_numeric else "Char")
        if "label_override" in entry:
            override = entry["label_override"]
            if override["label"] == label or not override.get("reason"):
                raise InputError("a label override must change the label and give a reason", path=where)
            label = override["label"]
        if src is not None:
            if "data_type" in entry:
                raise InputError("a copied variable keeps its source's data type", path=where)
            data_type, display_format = src.data_type, src.display_format
            if (ig_type == "Num") != src.is_numeric:
                raise InputError(f"IG type {ig_type} differs from the copied variable's {src.data_type}", path=where)
        else:
            data_type, display_format = adam_data_type(name, ig_type, entry, where)
        return label, data_type, display_format, self._codelist(entry, match, src, where)

    def _codelist(self, entry, match, src, where) -> str | None:
        """The chosen codelist, else the copied variable's, else the IG row's CT codelist."""
        ig_codes = codes_of(match.row) if match else []
        if "codelist" in entry:
            codelist = entry["codelist"]
        elif src is not None:
            codelist = src.codelist
        else:
            codelist = self.state.ct_codelist_oid(ig_codes[0], where) if len(ig_codes) == 1 else None
        if codelist:
            check_ig_codelist(codelist, ig_codes, self.selection, self.state, where)
        return codelist

    def _origin(self, entry: dict[str, Any], where: str) -> dict[str, Any]:
        if "source" in entry:
            if "origin" in entry or "method" in entry:
                raise InputError("a copy (source) is a Predecessor without method", path=where)
            return {"origin_type": "Predecessor", "origin_source": None, "method": None,
                    "comment": entry.get("comment"), "origin_description": entry["source"]}
        return variable_fields(entry, where, self.sources)

    @staticmethod
    def _core(entry: dict[str, Any], match: IgMatch | None, where: str) -> str | None:
        core = match.row["Core"] if match else None
        if "core_override" in entry:
            override = entry["core_override"]
            if match is None or override["core"] == core or not override.get("reason"):
                raise InputError("a core override must change an IG core and give a reason", path=where)
            core = override["core"]
        return core

    def dataset(self, ds: dict[str, Any]) -> DatasetSpec:
        variables = [self.variable(ds, entry, order) for order, entry in enumerate(ds["variables"], start=1)]
        _check_keys(ds, variables)
        class_, subclass = self._class(ds)
        spec = DatasetSpec(
            name=ds["name"], label=self._label(ds), class_=class_, subclass=subclass,
            structure=ds["structure"], keys=list(ds["keys"]), purpose="Analysis",
            repeating=ds["repeating"], standard=ds["standard"], variables=variables,
        )
        self.built[spec.name] = spec
        return spec

    def _label(self, ds: dict[str, Any]) -> str:
        if "label_from_table" in ds:
            return self.table(ds["label_from_table"])[0]["Data Structure Name"]
        return ds["label"]

    def _class(self, ds: dict[str, Any]) -> tuple[str, str | None]:
        where = f"{ds['name']}.class"
        define_ct = self.sources.define_ct
        if "structure_row" in ds:
            row = self.sources.adam_structures[ds["structure_row"]]
            class_name, subclass = row["Class"], row["Subclass"] or None
        else:
            class_name, subclass = ds["class"], ds.get("subclass")
        class_name = define_class(class_name, "GNRLOBSC", define_ct, where)
        if subclass is not None:
            subclass_list = {"BASIC DATA STRUCTURE": "BDSSC", "OCCURRENCE DATA STRUCTURE": "OCCSC"}[class_name]
            subclass = define_class(subclass, subclass_list, define_ct, where)
        return class_name, subclass


def value_level(ds: dict[str, Any], dataset: DatasetSpec, sources: Sources, selection: dict[str, Any],
                state: PackageState) -> tuple[list[ValueLevel], list[WhereClause]]:
    """Value-level rows of one dataset and their where clauses (``{"PARAMCD": "X"}`` -> PARAMCD EQ X).

    A row's label is the decode of its where value in the where variable's codelist (PARAM for
    PARAMCD, TSPARM for TSPARMCD), so it is typed once.
    """
    rows, clauses = [], []
    for order, entry in enumerate(ds.get("value_level", []), start=1):
        where = f"{ds['name']}.value_level[{order}]"
        check_entry_keys(entry, VALUE_LEVEL_KEYS, where)
        (variable, value), = entry["where"].items()
        if entry["variable"] not in dataset or variable not in dataset:
            raise InputError(f"{entry['variable']} or {variable} is not a variable of {ds['name']}", path=where)
        oid = f"WC.{ds['name']}.{variable}." + re.sub(r"[^A-Za-z0-9_.-]", "_", value)   # a valid OID
        clauses.append(WhereClause(oid, [RangeCheck(ds["name"], variable, "EQ", [value])]))
        row = ValueLevel(
            dataset=ds["name"], variable=entry["variable"], where_clause=oid,
            label=where_value_decode(dataset.variable(variable), value, selection, state, where),
            data_type=entry["data_type"], codelist=entry.get("codelist"), order=order,
            **variable_fields(entry, where, sources),
        )
        state.use(row)
        rows.append(row)
    return rows, clauses


def where_value_decode(var: VariableSpec, value: str, selection: dict[str, Any], state: PackageState,
                       where: str) -> str:
    """The decode of ``value`` in the codelist of the where-clause variable ``var``; the value itself
    where that codelist has no decodes (DSCAT: the term is its own name)."""
    if var.codelist is None:
        raise InputError(f"{var.name} has no codelist to give the value-level label of {value}", path=where)
    codelist = build_codelist(var.codelist, selection, state)
    for item in codelist.items:
        if item.value == value:
            if item.decode:
                return item.decode
            if not any(i.decode for i in codelist.items):
                return value
    raise InputError(f"{value} has no decode in {var.codelist}", path=where)


# --------------------------------------------------------------------------------------
# Codelists, methods, comments
# --------------------------------------------------------------------------------------
def build_codelist(oid: str, selection: dict[str, Any], state: PackageState) -> Codelist:
    """A referenced codelist: external dictionary, sponsor list, CT subset, or whole CT codelist."""
    entry = selection["codelists"].get(oid)
    if entry and "dictionary" in entry:
        return Codelist(oid=oid, name=entry["name"], data_type=entry["data_type"],
                        dictionary=entry["dictionary"], version=entry["version"])
    if entry and "items" in entry:
        return Codelist(oid=oid, name=entry["name"], items=[CodelistItem(**item) for item in entry["items"]])
    if entry:
        terminology = next(t for t in state.terminologies if t.name == entry["terminology"])
        ct = terminology.by_value[entry["subset_of"]]
        unknown = [v for v in entry["terms"] if v not in {t.value for t in ct.terms}]
        if unknown or not entry.get("reason") or not entry["name"].startswith(ct.name):
            raise InputError(f"subset of {ct.value}: unknown terms {unknown}, or no reason, "
                             "or a name not starting with the codelist name", path=f"codelists.{oid}")
        terms = [t for t in ct.terms if t.value in entry["terms"]]
        return ct_codelist(oid, entry["name"], ct, terms, terminology, selection)
    value = oid.removeprefix("CL.")
    found = [t for t in state.terminologies if value in t.by_value]
    if len(found) != 1:
        raise InputError(f"{oid}: codelist {value} found in {len(found)} terminologies", path="codelists")
    ct = found[0].by_value[value]
    return ct_codelist(oid, ct.name, ct, ct.terms, found[0], selection)


def ct_codelist(oid: str, name: str, ct: CtCodelist, terms: list[CtTerm], terminology: Terminology,
                selection: dict[str, Any]) -> Codelist:
    """CDISC CT codelist in CT file order. Decodes only for the chosen lists: the NCI preferred
    term, or for a code list paired with a name list (TSPARMCD/TSPARM) the name of the same C-code."""
    paired = selection["paired_decodes"].get(ct.value)
    if paired:
        names = {t.code: t.value for t in terminology.by_value[paired].terms}
        missing = [t.value for t in terms if t.code not in names]
        if missing:
            raise InputError(f"{ct.value} terms {missing} have no {paired} term of the same C-code", path="paired_decodes")
        decodes = [names[t.code] for t in terms]
    elif ct.value in selection["decoded_codelists"]:
        decodes = [t.preferred_term for t in terms]
    else:
        decodes = [None] * len(terms)
    items = [CodelistItem(value=t.value, code=t.code, decode=d) for t, d in zip(terms, decodes)]
    return Codelist(oid=oid, name=name, code=ct.code, extensible=ct.extensible, standard=terminology.standard,
                    items=items)


def library_codelists(package: dict[str, Any], state: PackageState) -> set[str]:
    """CT codelists a package ships for the study specs built on it although none of its own
    variables uses them (``library_codelists``: OID -> reason; :func:`build_codelist` finds
    them in the package's terminologies)."""
    chosen = package.get("library_codelists", {})
    for oid, reason in chosen.items():
        if oid in state.codelists or not reason:
            raise InputError("a library codelist needs a reason and must not be one the package's "
                             "variables already use", path=f"{package['directory']}.library_codelists.{oid}")
    return set(chosen)


def build_methods(package: dict[str, Any], used: set[str]) -> list[Method]:
    defined = package["methods"]
    _check_used("method", defined, used, package["directory"])
    return [Method(oid=oid, name=defined[oid]["name"], description=defined[oid]["description"],
                   type=defined[oid].get("type", "Computation")) for oid in sorted(used)]


def build_comments(package: dict[str, Any], used: set[str]) -> list[Comment]:
    """The comments the package's variables use, and those it ships for study specs although
    none of its variables uses them (``library_comments``: OID -> reason; e.g. the comment of an
    Expected variable a study does not collect, which the mapping gives such a variable)."""
    defined = package["comments"]
    used = used | set(package.get("library_comments", {}))
    _check_used("comment", defined, used, package["directory"])
    return [Comment(oid=oid, description=defined[oid]) for oid in sorted(used)]


def _check_used(what: str, defined: dict, used: set[str], where: str) -> None:
    missing, unused = sorted(used - set(defined)), sorted(set(defined) - used)
    if missing or unused:
        raise InputError(f"{what}s referenced but not defined {missing}, defined but unused {unused}", path=where)


# --------------------------------------------------------------------------------------
# Packages and files
# --------------------------------------------------------------------------------------
def dump(obj: dict[str, Any]) -> str:
    """The one JSON text form of every shipped file."""
    return json.dumps(obj, indent=1, ensure_ascii=True) + "\n"


def build_package(package: dict[str, Any], sources: Sources, selection: dict[str, Any],
                  built: dict[str, dict[str, DatasetSpec]]) -> dict[str, str]:
    """File name -> JSON text of one package directory."""
    state = PackageState([sources.terminologies[name] for name in package["terminologies"]])
    files: dict[str, dict[str, Any]] = {
        "standards.json": {"standards": [Standard(**s).to_dict() for s in package["standards"]]}}
    datasets: dict[str, DatasetSpec] = {}
    builder = (AdamBuilder(package, sources, selection, state, built[package["sdtm_package"]])
               if package["model"] == "ADaM" else None)
    for ds in package["datasets"]:
        spec = builder.dataset(ds) if builder else sdtm_dataset(ds, sources, selection, state)
        datasets[ds["name"]] = spec
        content: dict[str, Any] = {"datasets": [spec.to_dict()]}
        rows, clauses = value_level(ds, spec, sources, selection, state)
        if rows:
            content["value_level"] = [r.to_dict() for r in rows]
            content["where_clauses"] = [c.to_dict() for c in clauses]
        files[ds["file"]] = content
    built[package["directory"]] = datasets
    codelists = state.codelists | library_codelists(package, state)
    files["codelists.json"] = {
        "codelists": [build_codelist(oid, selection, state).to_dict() for oid in sorted(codelists)]}
    files["methods.json"] = {"methods": [m.to_dict() for m in build_methods(package, state.methods)]}
    files["comments.json"] = {"comments": [c.to_dict() for c in build_comments(package, state.comments)]}
    return {f"{package['directory']}/{name}": dump(content) for name, content in files.items()}


def load_selection(path: Path = DEFAULT_SELECTION) -> dict[str, Any]:
    """The curated selection (tools/standard_selection.json)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read the selection: {exc}", file=path) from None


def build_all(shared: Path = DEFAULT_SHARED, selection_path: Path = DEFAULT_SELECTION) -> dict[str, str]:
    """Relative path (``sdtmig-3.4/dm.json``) -> file text of every shipped standard spec file."""
    selection = load_selection(selection_path)
    return build_files(selection, Sources.read(shared, selection))


def build_files(selection: dict[str, Any], sources: Sources) -> dict[str, str]:
    """:func:`build_all` on an already loaded selection and sources."""
    out: dict[str, str] = {}
    built: dict[str, dict[str, DatasetSpec]] = {}
    for package in selection["packages"]:
        out.update(build_package(package, sources, selection, built))
    return out


def write_all(files: dict[str, str], out: Path) -> None:
    """Write the files and delete other ``*.json`` files of the package directories."""
    directories = {rel.split("/")[0] for rel in files}
    for directory in sorted(directories):
        target = out / directory
        target.mkdir(parents=True, exist_ok=True)
        for stale in sorted(target.glob("*.json")):
            if f"{directory}/{stale.name}" not in files:
                stale.unlink()
    for rel, text in sorted(files.items()):
        path = out / rel
        tmp = path.with_suffix(".json.tmp")
        tmp.write_bytes(text.encode("ascii"))
        tmp.replace(path)


def differences(files: dict[str, str], out: Path) -> list[str]:
    """Relative paths whose committed bytes differ from ``files`` (missing and extra included)."""
    directories = {rel.split("/")[0] for rel in files}
    present = {f"{d}/{p.name}" for d in directories for p in (out / d).glob("*.json")}
    changed = [rel for rel, text in files.items()
               if not (out / rel).is_file() or (out / rel).read_bytes() != text.encode("ascii")]
    return sorted(set(changed) | (present - set(files)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared data folder (../shared/data)")
    parser.add_argument("--selection", type=Path, default=DEFAULT_SELECTION)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="compare with the files in --out instead of writing")
    args = parser.parse_args(argv)
    try:
        files = build_all(args.shared, args.selection)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        stale = differences(files, args.out)
        for rel in stale:
            print(f"differs: {rel}", file=sys.stderr)
        return 1 if stale else 0
    write_all(files, args.out)
    print(f"wrote {len(files)} files under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
