"""Study configs: what a study's raw exports hold and how they map to SDTM.

The JSON Schema ``specs/schema/study-config.schema.json`` describes every key; this module
loads a config, checks what a schema cannot (cross-references between arms, treatments,
periods and raw fields), and answers the questions the mappers ask of it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sdtm.forms import collection_fields, consuming_field, form_fields
from specs.errors import InputError, did_you_mean
from specs.jsonio import load_json

#: Fields each raw domain file must map (CDASH-like names).
REQUIRED_FIELDS = {
    "DM": ("SUBJID", "SITEID"),
    "AE": ("SUBJID", "AETERM"),
    "EX": ("SUBJID", "EXTRT", "EXSTDAT"),
    "DS": ("SUBJID", "DSDECOD", "DSSTDAT"),
}
DEFAULT_USUBJID = "{STUDYID}-{SITEID}-{SUBJID}"


@dataclass
class StudyConfig:
    """A loaded, checked study config; ``data`` is the JSON object, ``file`` where it came from."""

    data: dict[str, Any]
    file: Path

    # -- identity --------------------------------------------------------------------------
    @property
    def studyid(self) -> str:
        return self.data["studyid"]

    @property
    def source(self) -> str:
        return self.data.get("source", "raw")

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    @property
    def usubjid_template(self) -> str:
        return self.data.get("usubjid", DEFAULT_USUBJID)

    @property
    def usubjid_fields(self) -> list[str]:
        """The raw fields the USUBJID template is built from (STUDYID comes from the config)."""
        return [f for f in re.findall(r"\{(\w+)\}", self.usubjid_template) if f != "STUDYID"]

    # -- locations -------------------------------------------------------------------------
    def raw_dir(self, input_dir: Path | None = None) -> Path:
        """The raw folder: ``raw.dir`` relative to the config file; with ``input_dir``, the folder of
        the same name inside ``input_dir`` (so one ``--input-dir`` serves every study of an ISS)."""
        rel = Path(self.data.get("raw", {}).get("dir", "."))
        if input_dir is None:
            return self.file.parent / rel
        return Path(input_dir) / rel.name

    def sdtm_dir(self, input_dir: Path | None = None) -> Path:
        if input_dir is not None:
            return Path(input_dir)
        return self.file.parent / self.data.get("sdtm_dir", ".")

    def raw_file(self, domain: str) -> dict | None:
        return self.data.get("raw", {}).get("files", {}).get(domain)

    # -- design ----------------------------------------------------------------------------
    @property
    def treatments(self) -> dict[str, dict]:
        return self.data.get("treatments", {})

    @property
    def periods(self) -> list[dict]:
        return sorted(self.data.get("periods", []), key=lambda p: p["number"])

    @property
    def arms(self) -> list[dict]:
        return self.data.get("arms", [])

    @property
    def randomized(self) -> bool:
        """Whether the study assigns its arms by randomisation (config ``randomized``; left out:
        true, unless the config lists exactly one arm — a single-arm study randomises nobody):
        DS then holds a RANDOMIZED milestone per randomised subject (raw DM field RANDDAT) and
        ADSL.ITTFL is derived; in a study that does not randomise, ITTFL is null."""
        return bool(self.data.get("randomized", len(self.arms) != 1))

    @property
    def extension_of(self) -> list[str]:
        """The studies whose subjects roll over into this one (an extension), by STUDYID."""
        return self.data.get("extension_of", [])

    def value_map(self, fld: str) -> dict[str, str | None]:
        return self.data.get("value_maps", {}).get(fld, {})

    def supplemental(self, domain: str) -> list[dict]:
        return self.data.get("supplemental", {}).get(domain, [])

    @property
    def date_formats(self) -> list[str]:
        return self.data.get("raw", {}).get("date_formats", ["YYYY-MM-DD"])

    @property
    def unknown_date_tokens(self) -> list[str] | None:
        return self.data.get("raw", {}).get("unknown_date_tokens")

    @property
    def exposure(self) -> dict[str, str]:
        return self.data.get("exposure", {})

    def period_of(self, values: pd.Series) -> pd.Series:
        """Period number of raw period values, matched trimmed and in any case against each
        period's ``raw`` values, name, epoch and number (float; NaN where none matches)."""
        lookup = {}
        for p in self.periods:
            for key in (str(p["number"]), p.get("name"), p["epoch"], *p.get("raw", [])):
                if key:
                    lookup[" ".join(str(key).split()).upper()] = p["number"]
        norm = values.astype("string").str.strip().str.upper().str.replace(r"\s+", " ", regex=True)
        return norm.map(lookup).astype("float64")

    @property
    def epochs(self) -> dict[str, str]:
        return {"before_treatment": "SCREENING", "after_treatment": "FOLLOW-UP", **self.data.get("epochs", {})}


def load_study_config(path: str | Path) -> StudyConfig:
    """Read and check a study config; errors name the file and the JSON path."""
    path = Path(path)
    data = load_json(path, "study-config")
    config = StudyConfig(with_sheet_mappings(data, path), path)
    check_study_config(config)
    return config


def with_sheet_mappings(data: dict, path: Path) -> dict:
    """The config with the mappings of the Mapping sheet of its ``spec`` workbook
    (:mod:`sdtm.mappingsheet`) added to ``raw.files.<DOMAIN>.map``; a variable mapped in both the
    sheet and the JSON, or a form the config's raw files lack, is refused."""
    from sdtm.mappingsheet import SHEET, read_mapping_sheet

    spec = data.get("spec")
    if not spec or not str(spec).lower().endswith(".xlsx") or data.get("source", "raw") != "raw":
        return data
    sheet = read_mapping_sheet(path.parent / spec)
    if not sheet:
        return data
    files = data.get("raw", {}).get("files", {})
    for domain, variables in sheet.items():
        if domain not in files:
            raise InputError(f"the Mapping sheet maps form {domain}, which raw.files does not list",
                             file=path.parent / spec, sheet=SHEET)
        given = files[domain].setdefault("map", {})
        for variable, mapping in variables.items():
            if variable in given:
                raise InputError(f"{domain}.{variable} is mapped both here and in the {SHEET} sheet of {spec}",
                                 file=path, path=f"$.raw.files.{domain}.map.{variable}")
            given[variable] = mapping
    return data


def check_study_config(config: StudyConfig) -> None:
    """Cross-reference rules, in order: raw files map their required fields; the USUBJID
    template uses known fields; arms name known treatments, one per period; period numbers
    run 1..n; a randomisation date (RANDDAT) only in a randomised study; supplemental fields
    are mapped in the raw file."""
    data, file = config.data, config.file

    def fail(message: str, path: str) -> None:
        raise InputError(message, file=file, path=path)

    check_ascii_values(data, file, exclude=NOT_SDTM_VALUES)
    check_value_map_names(config)
    check_trial_summary_values(config)
    if config.source == "raw":
        if "raw" not in data:
            fail("a raw-data study needs a 'raw' section", "$")
        for domain, spec in data["raw"]["files"].items():
            if not is_inside_name(spec["path"]):
                fail(f"raw file path {spec['path']!r} leaves the raw folder (absolute, '..' or a drive); name "
                     "the file relative to raw.dir", f"$.raw.files.{domain}.path")
            fed = {consuming_field(domain, v) for v in spec.get("map", {})}
            for fld in REQUIRED_FIELDS.get(domain, ()):
                if fld not in spec["columns"] and fld not in fed:
                    fail(f"{domain} raw file must map field {fld}", f"$.raw.files.{domain}.columns")
        for domain, spec in data["raw"]["files"].items():
            check_field_names(config, domain, spec["columns"])
            check_mappings(config, domain, spec)
        dm_raw = config.raw_file("DM") or {"columns": {}}
        dm_fields = ["STUDYID", *dm_raw["columns"], *(consuming_field("DM", v) for v in dm_raw.get("map", {}))]
        for fld in re.findall(r"\{(\w+)\}", config.get("usubjid", "")):
            if fld not in dm_fields:
                fail(f"USUBJID template uses field {{{fld}}}, which raw.files.DM.columns does not map"
                     f"{did_you_mean(fld, dm_fields)} (use STUDYID or a mapped DM field)", "$.usubjid")
        numbers = [p["number"] for p in config.periods]
        if numbers != list(range(1, len(numbers) + 1)):
            fail(f"period numbers must run 1..n; got {numbers}", "$.periods")
        for i, arm in enumerate(config.arms):
            for j, code in enumerate(arm["treatments"]):
                if code not in config.treatments:
                    fail(f"arm {arm['armcd']} names treatment {code!r}, which 'treatments' does not define",
                         f"$.arms[{i}].treatments[{j}]")
            if len(arm["treatments"]) > max(len(numbers), 1):
                fail(f"arm {arm['armcd']} has {len(arm['treatments'])} treatments for {len(numbers)} periods",
                     f"$.arms[{i}].treatments")
        if "RANDDAT" in dm_raw["columns"] and not config.randomized:
            fail("raw.files.DM.columns maps the randomisation date RANDDAT, but the study config says "
                 "randomized: false", "$.raw.files.DM.columns.RANDDAT")
        for domain in ("DM", "AE"):
            raw = config.raw_file(domain) or {"columns": {}}
            for i, supp in enumerate(config.supplemental(domain)):
                if supp["field"] not in raw["columns"]:
                    fail(f"supplemental field {supp['field']} is not mapped in raw.files.{domain}.columns",
                         f"$.supplemental.{domain}[{i}].field")


def check_trial_summary_values(config: StudyConfig) -> None:
    """The TS values the config gives (``trial_summary``, ``phase`` ...) against the shipped
    SDTMIG spec's TS parameters and codelists (:func:`sdtm.tsparams.check_config_values`)."""
    from sdtm.tsparams import check_config_values
    from specs.load import shipped_standard

    check_config_values(config.data, config.file, shipped_standard("sdtmig-3.4"))


def check_field_names(config: StudyConfig, domain: str, columns: dict[str, str]) -> None:
    """Every field a raw file maps is read by something (``sdtm.variables``): a field its form can
    hold (:func:`sdtm.forms.form_fields`), one named as a variable of the domain (SDTMIG 3.4:
    AESCAN, VISITNUM ...), the CDASH collection date or time of one of its --DTC variables
    (AEDAT, DSTIM), a field a mapping (``map``) or a supplemental qualifier of the domain reads, or
    (DM) one the USUBJID template uses. A misspelt field (``AESTDT`` for ``AESTDAT``) would
    otherwise be read by nothing and its values silently lost: the error names the JSON path and
    the nearest known field."""
    from sdtm.algorithms import fields_of

    variables = domain_variables(domain)
    known = [*form_fields(domain), *(q["field"] for q in config.supplemental(domain)), *variables,
             *(f for v in variables if collection_fields(v) for f in collection_fields(v)),
             *(f for mapping in (config.raw_file(domain) or {}).get("map", {}).values() for f in fields_of(mapping))]
    if domain == "DM":
        known += re.findall(r"\{(\w+)\}", config.get("usubjid", ""))
    for fld in columns:
        if fld not in known:   # the form's own fields suggested first: AESTDT is AESTDAT, not AESTDTC
            hint = did_you_mean(fld, form_fields(domain)) or did_you_mean(fld, known)
            raise InputError(f"unknown field {fld!r}{hint}: the {domain} export can map "
                             f"{', '.join(form_fields(domain))}, a variable of {domain}, a collection date "
                             f"(--DAT, --TIM), or a field a mapping or supplemental.{domain} reads",
                             file=config.file, path=f"$.raw.files.{domain}.columns.{fld}")


def domain_variables(domain: str) -> list[str]:
    """The variables of ``domain`` in the shipped SDTMIG 3.4 spec (none for a domain it lacks)."""
    from specs.load import shipped_standard

    spec = shipped_standard("sdtmig-3.4")
    return spec.dataset(domain).names if domain in [d.name for d in spec.datasets] else []


def check_mappings(config: StudyConfig, domain: str, raw: dict) -> None:
    """Each ``map`` entry names a variable of the domain and is a mapping that can work
    (:func:`sdtm.algorithms.check_mapping`: fields the raw file maps, a regex with one group,
    a codelist the spec knows); a variable may not be both mapped and named by a field."""
    from sdtm.algorithms import check_mapping
    from specs.load import shipped_standard

    variables = domain_variables(domain)
    codelists = {c.oid.removeprefix("CL.") for c in shipped_standard("sdtmig-3.4").codelists}

    def fail(message: str, path: str) -> None:
        raise InputError(message, file=config.file, path=path)

    for variable, mapping in raw.get("map", {}).items():
        path = f"$.raw.files.{domain}.map.{variable}"
        if variable not in variables:
            fail(f"{variable!r} is not a variable of {domain}{did_you_mean(variable, variables)}", path)
        if variable in raw["columns"] and variable not in form_fields(domain):
            fail(f"{variable} is given twice: by a mapping and by the field of its name in columns", path)
        check_mapping(mapping, list(raw["columns"]), fail, path, codelist_known=lambda name: name in codelists)
        for where, value in mapped_terms(mapping, path):
            check_term(variable, value, config, where)


def mapped_terms(mapping, path: str):
    """(JSON path, value) of every value a mapping sets outright: constants, bare case values and
    value-map targets (what a codelist check can judge at load)."""
    if not isinstance(mapping, dict):
        return
    if "constant" in mapping:
        yield f"{path}.constant", mapping["constant"]
    for raw_value, value in mapping.get("value_map", {}).items():
        yield f"{path}.value_map.{raw_value}", value
    branches = [(f"{path}.cases[{i}].then", c["then"]) for i, c in enumerate(mapping.get("cases", []))]
    if "else" in mapping:
        branches.append((f"{path}.else", mapping["else"]))
    for where, branch in branches:
        if isinstance(branch, dict):
            yield from mapped_terms(branch, where)
        else:
            yield where, branch


def check_value_map_names(config: StudyConfig) -> None:
    """``value_maps`` are keyed by an SDTM variable, a raw field or ``NY`` (the yes/no default):
    a map under any other name would apply to nothing."""
    from specs.load import shipped_standard

    maps = config.get("value_maps", {})
    if not maps:
        return
    known = {"NY", *(v.name for _, v in shipped_standard("sdtmig-3.4").iter_variables())}
    for domain in ("DM", "AE", "EX", "DS"):
        known.update(form_fields(domain))
    for name, mapping in maps.items():
        if name not in known:
            raise InputError(f"value_maps names {name!r}, which is no SDTM variable or raw field"
                             f"{did_you_mean(name, known)}", file=config.file, path=f"$.value_maps.{name}")
        for raw_value, value in mapping.items():
            check_term(name, value, config, f"$.value_maps.{name}.{raw_value}")


def check_term(variable: str, value, config: StudyConfig, path: str) -> None:
    """A value the config gives a variable bound to a non-extensible codelist (a value map's
    target, a constant) is one of its terms, spelt as CT spells it (null is always allowed)."""
    from specs.load import shipped_standard

    if value is None:
        return
    spec = shipped_standard("sdtmig-3.4")
    oid = next((v.codelist for _, v in spec.iter_variables() if v.name == variable and v.codelist), None)
    codelist = next((c for c in spec.codelists if c.oid == oid), None) if oid else None
    if codelist is None or codelist.extensible or codelist.is_external:
        return
    terms = codelist.values()
    if str(value) not in terms:
        raise InputError(f"{value!r} is not a term of {codelist.name} ({oid}), which is not extensible"
                         f"{did_you_mean(str(value), terms)}", file=config.file, path=path)


#: JSON paths of config strings that never become SDTM values (file locations, raw spellings
#: matched against the export): everything else ends up in an XPT file, where FDA requires ASCII.
NOT_SDTM_VALUES = re.compile(r"^\$\.(raw(?!\.files\.\w+\.map\b)|spec|sdtm_dir|source)\b"
                             r"|^\$\.(arms|periods)\[\d+\]\.raw\b")


def check_ascii_values(data: Any, file: Path, *, exclude: re.Pattern | None = None, path: str = "$") -> None:
    """Every string value of a config (not its keys) outside ``exclude`` is ASCII; the error
    names the JSON path, so a non-ASCII arm or label is fixed where it was typed."""
    if exclude is not None and exclude.match(path):
        return
    if isinstance(data, str):
        bad = re.search(r"[^\x00-\x7F]", data)
        if bad:
            raise InputError(f"{data!r} has a non-ASCII character {bad.group()!r} (U+{ord(bad.group()):04X}); "
                             "SDTM and ADaM values must be ASCII (FDA)", file=file, path=path)
    elif isinstance(data, dict):
        for key, value in data.items():
            check_ascii_values(value, file, exclude=exclude, path=f"{path}.{key}")
    elif isinstance(data, list):
        for i, value in enumerate(data):
            check_ascii_values(value, file, exclude=exclude, path=f"{path}[{i}]")


def is_inside_name(name: str) -> bool:
    """True for a relative path that stays below its folder (no '..', not absolute, no drive)."""
    from pathlib import PurePosixPath, PureWindowsPath

    posix, windows = PurePosixPath(name), PureWindowsPath(name)
    return not (posix.is_absolute() or windows.is_absolute() or windows.drive or windows.root
                or ".." in posix.parts or ".." in windows.parts)
