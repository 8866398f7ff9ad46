"""Variables from the study config beyond the mappers' fixed fields: any variable of the domain.

A domain mapper (``sdtm.dm``, ``ae``, ``ex``, ``ds``) reads the fields of its form
(``sdtm.forms``: AESTDAT, ARM, DSDECOD ...) and derives what SDTMIG says from them. The study
config can say more, for any variable of the domain in the study's spec (SDTMIG 3.4: Perm
variables, collection dates, visits):

1. **a mapping** (``raw.files.<DOMAIN>.map``, :mod:`sdtm.algorithms`) for a variable a form field
   supplies is evaluated into that field before the mapper runs (:func:`feed_form_fields`): the
   mapper then treats it as collected (SITEID and SUBJID from parts of a patient number, DSTERM
   from an "other, specify" field, DSDECOD by a condition);
2. after the mapper (:func:`add_variables`), each other variable of the domain gets its value
   from, in order: a mapping for it (which replaces what the mapper derived, e.g. DSCAT); a raw
   field named as the variable (``AESCAN``, ``VISITNUM``; it too replaces a derived value); for a
   ``--DTC`` variable the mapper does not derive, the CDASH
   collection date ``--DAT`` with its time ``--TIM`` (``AEDAT`` -> AEDTC, ``DSDAT`` + ``DSTIM`` ->
   DSDTC). Values are then shaped by the variable's spec: dates read with the study's date
   formats (an invalid one kept null with an error, TP0102), numbers read as numbers (TP0109),
   coded values through the study's value maps to the codelist's spelling, other text through
   its value map only.

A part of a mapping that produces nothing across the whole raw file (a regex that never matches,
a condition never true) is a warning (TP0117) with the counts.
"""
from __future__ import annotations

import pandas as pd

from sdtm import algorithms
from sdtm.common import Ledger, map_values, numbers, raw_dates
from sdtm.config import StudyConfig
from sdtm.forms import collection_fields, consuming_field, form_fields
from specs import findings
from specs.checks import is_date_variable
from specs.model import Spec
from fileformats.rawio import RAW_FILE


#: The DM column naming each subject as the other exports do (AE, EX and DS records are linked by
#: their SUBJID field): DM's SUBJID field as exported, kept when a mapping makes SUBJID of part of it.
LINK = "_LINK"


def mappings(config: StudyConfig, domain: str) -> dict[str, object]:
    raw = config.raw_file(domain) or {}
    return raw.get("map", {})


def fed_fields(config: StudyConfig, domain: str) -> set[str]:
    """The form fields a mapping fills (so that a required field may come from a mapping)."""
    return {f for var in mappings(config, domain) if (f := consuming_field(domain, var)) is not None}


def context(config: StudyConfig, spec: Spec | None, ledger: Ledger, domain: str, frame: pd.DataFrame
            ) -> algorithms.Context:
    """What evaluating a mapping needs: codelist terms by CDISC submission value, the date reader."""
    def terms(name: str):
        if spec is None:
            return None
        codelist = next((c for c in spec.codelists if c.oid == f"CL.{name}"), None)
        return codelist.values() if codelist is not None else None

    def datetime(date: pd.Series, time: pd.Series | None) -> pd.Series:
        return read_datetime(frame.assign(_D=date, _T=time if time is not None else None), config, ledger,
                             domain)

    return algorithms.Context(codelist_terms=terms, datetime=datetime)


def read_datetime(frame: pd.DataFrame, config: StudyConfig, ledger: Ledger, domain: str,
                  variable: str = "--DTC") -> pd.Series:
    """ISO 8601 from a date field ``_D`` and a time field ``_T`` (each read with the study's date
    formats and ``raw.time_formats``, default HH:MI and HH:MI:SS): the date and time joined and read
    by every date format followed by an optional time."""
    times = config.get("raw", {}).get("time_formats", ["HH:MI:SS", "HH:MI"])
    joined = frame["_D"].astype(object).where(frame["_T"].isna(),
                                              frame["_D"].astype(object) + " " + frame["_T"].astype(object))
    formats = [f"{d}[ {t}]" for d in config.date_formats for t in times]
    with_time = StudyConfig({**config.data, "raw": {**config.data.get("raw", {}), "date_formats": formats}},
                            config.file)
    return raw_dates(frame.assign(_DT=joined), "_DT", with_time, ledger=ledger, dataset=domain, variable=variable)


def feed_form_fields(frame: pd.DataFrame, domain: str, config: StudyConfig, spec: Spec | None,
                     ledger: Ledger) -> pd.DataFrame:
    """Each mapping for a variable a form field supplies, evaluated into that field (step 1 of the
    module docstring); the field's raw column, if the file has one, is replaced. In DM the subject's
    link (:data:`LINK`) is the SUBJID field as exported, or the field the SUBJID mapping reads."""
    fed = {}
    if domain == "DM":
        sources = ["SUBJID"] if "SUBJID" in frame else algorithms.fields_of(mappings(config, "DM").get("SUBJID"))
        fed[LINK] = frame[sources[0]] if sources else None
    for variable, mapping in mappings(config, domain).items():
        field = consuming_field(domain, variable)
        if field is None:
            continue
        got = algorithms.evaluate(mapping, frame, context(config, spec, ledger, domain, frame))
        note_silent(got.silent, frame, domain, variable, ledger)
        fed[field] = got.values
        if algorithms.kind_of(mapping) == "date":
            frame.attrs.setdefault("iso_fields", set()).add(field)
    if len(fed) == (domain == "DM"):
        return frame.assign(**fed) if fed else frame
    out = frame.assign(**fed)
    out.attrs = {**frame.attrs, "headers": {**frame.attrs.get("headers", {}),
                                            **{f: f"map.{f}" for f in fed}}}
    return out


def add_variables(records: pd.DataFrame, frame: pd.DataFrame, domain: str, config: StudyConfig, spec: Spec,
                  ledger: Ledger, codelists: dict[str, list[str]]) -> pd.DataFrame:
    """The domain's other variables from the config (step 2 of the module docstring), on the
    mapper's ``records`` (indexed by raw record, as ``frame``)."""
    if domain not in [d.name for d in spec.datasets]:
        return records
    rows = frame.loc[records.index]
    maps = mappings(config, domain)
    out = {}
    for var in spec.dataset(domain).variables:
        name = var.name
        if name in maps and consuming_field(domain, name) is None:
            got = algorithms.evaluate(maps[name], rows, context(config, spec, ledger, domain, rows))
            note_silent(got.silent, rows, domain, name, ledger)
            dated = algorithms.kind_of(maps[name]) == "date"
            out[name] = shaped(got.values, var, rows, config, ledger, domain, codelists, iso=dated)
        elif name in rows and name not in form_fields(domain):   # collected: replaces a derived value (DSCAT)
            out[name] = shaped(rows[name], var, rows, config, ledger, domain, codelists)
        elif name in records:
            continue
        elif is_date_variable(var) and collection_fields(name) and collection_fields(name)[0] in rows:
            date, time = collection_fields(name)
            pair = rows.assign(_D=rows[date], _T=rows[time] if time in rows else None)
            out[name] = read_datetime(pair, config, ledger, domain, variable=name)
    return records.assign(**out) if out else records


def shaped(values: pd.Series, var, rows: pd.DataFrame, config: StudyConfig, ledger: Ledger, domain: str,
           codelists: dict[str, list[str]], *, iso: bool = False) -> pd.Series:
    """Values as the variable's spec wants them (see the module docstring)."""
    if is_date_variable(var):
        if iso:
            return values
        return raw_dates(rows.assign(_V=values), "_V", config, ledger=ledger, dataset=domain, variable=var.name)
    if var.data_type in ("integer", "float"):
        return numbers(rows.assign(**{var.name: values}), var.name, ledger, domain)
    if var.codelist is not None and var.name in codelists:
        return map_values(values, config.value_map(var.name), codelists.get(var.name))
    mapping = config.value_map(var.name)
    return algorithms.apply_value_map(values, mapping) if mapping else values


def note_silent(silent: list[str], frame: pd.DataFrame, domain: str, variable: str, ledger: Ledger) -> None:
    """A warning (TP0117) per part of a mapping that produced nothing across the raw file."""
    if not silent or not len(frame):
        return
    file = frame[RAW_FILE].iloc[0]
    ledger.found.append(findings.concat(
        findings.make("TP0117", domain, variable, values=[len(frame)], file=file,
                      message=f"the mapping of {variable}: {what}")
        for what in silent))
