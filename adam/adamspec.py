"""The ISS ADaM spec: the shipped ADaMIG spec plus what the ISS config defines.

Treatment groups, age groups, events of interest and customised queries are metadata of
the ISS config; they become sponsor codelists (TRT, TRTN, AGEGR1, the ADAETTE PARAMCD,
each CQzzNAM) and value-level metadata (ADAETTE AVAL by PARAMCD) here, so nothing is typed
twice. A spec folder named in the ISS config (``spec``) is laid over the result.
"""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from adam.adae import event_terms_text
from adam.config import ISSConfig, related_terms
from adam.groups import pooled_levels
from adam.queries import SCOPES
from adam.pools import AnalysisPool
from specs.load import load_spec, standard_spec
from specs.model import (Codelist, CodelistItem, Method, RangeCheck, Spec, Study, ValueLevel, VariableSpec,
                         WhereClause)

STANDARD = "adamig-1.3"
TRT_TEXT = ("TRTA", "TRT01P", "TRT01A", "TRT02P", "TRT02A")
TRT_NUMBERS = ("TRTAN", "TRT01PN", "TRT01AN", "TRT02PN", "TRT02AN")
#: ADaMIG 1.3 pooled treatments: TRTPGy/TRTAGy (BDS, OCCDS), TRxxPGy/TRxxAGy (ADSL)
POOLED_TEXT = re.compile(r"^(TRT|TR\d\d)[PA]G(\d+)$")
POOLED_LEVEL = re.compile(r"^((?:TRT|TR\d\d)[PA]G)1(N?)$")


def _pooled_levels(spec: Spec, levels: int) -> None:
    """One set of pooled-treatment variables per pooled group (pooling level y = 1..``levels``):
    the shipped spec has level 1 (TRTAG1, TR01AG1, ...); each further level is a copy of it with
    y in its name and label ("Actual Pooled Treatment 2"), placed after the level-1 block."""
    if levels < 2:
        return
    for ds in spec.datasets:
        variables, pending = [], []
        for var in ds.variables:
            match = POOLED_LEVEL.match(var.name)
            if not match:
                variables += pending
                pending = []
            variables.append(var)
            for y in range(2, levels + 1) if match else ():
                pending.append(replace(var, name=f"{match.group(1)}{y}{match.group(2)}",
                                       label=re.sub(r"(Pooled (?:Treatment|Trt)) 1\b", rf"\g<1> {y}", var.label)))
        variables += pending
        if len(variables) != len(ds.variables):
            ds.variables = variables
            for order, v in enumerate(ds.variables, start=1):
                v.order = order


def compose_adam_spec(iss: ISSConfig, standard: Spec | None = None) -> Spec:
    """The ADaM spec of an integrated analysis (see the module docstring)."""
    spec = standard.copy() if standard is not None else standard_spec(STANDARD)
    spec.study = Study(oid=f"STDY.{iss.id}", name=iss.id, description=iss.get("title", iss.id),
                       protocol_name=iss.id)
    groups = sorted(iss.groups, key=lambda g: g.number)
    _pooled_levels(spec, len(pooled_levels(iss)))
    pooled = [v.name for ds in spec.datasets for v in ds.variables if POOLED_TEXT.match(v.name)]
    _codelist(spec, "CL.TRT", "Treatment Group", [(g.label, None) for g in groups], (*TRT_TEXT, *pooled))
    _codelist(spec, "CL.TRTN", "Treatment Group (N)", [(str(g.number), g.label) for g in groups],
              (*TRT_NUMBERS, *(f"{name}N" for name in pooled)), data_type="integer")
    ages = sorted(iss.get("age_groups", []), key=lambda a: a["number"])
    if ages:
        _codelist(spec, "CL.AGEGR1", "Pooled Age Group 1", [(a["label"], None) for a in ages], ("AGEGR1",))
        _codelist(spec, "CL.AGEGR1N", "Pooled Age Group 1 (N)", [(str(a["number"]), a["label"]) for a in ages],
                  ("AGEGR1N",), data_type="integer")
    events = iss.events
    if events:
        _codelist(spec, "CL.ADAETTE.PARAMCD", "ADAETTE Parameter Code", [(e["paramcd"], e["name"]) for e in events],
                  ("PARAMCD",), datasets=("ADAETTE",))
        _event_value_level(spec, events)
    for e in events:
        if "cq" in e:
            name = f"CQ{e['cq']:02d}NAM"
            _codelist(spec, f"CL.{name}", f"Customized Query {e['cq']:02d} Name", [(e["name"], None)], (name,))
        if "smq" in e:
            zz = f"{e['smq']:02d}"
            _codelist(spec, f"CL.SMQ{zz}NAM", f"SMQ {zz} Name", [(e["query"], None)], (f"SMQ{zz}NAM",))
            _codelist(spec, f"CL.SMQ{zz}SC", f"SMQ {zz} Scope", [(s, None) for s in SCOPES], (f"SMQ{zz}SC",))
            _codelist(spec, f"CL.SMQ{zz}SCN", f"SMQ {zz} Scope (N)", [(str(n), s) for n, s in enumerate(SCOPES, 1)],
                      (f"SMQ{zz}SCN",), data_type="integer")
    if iss.teae["not_emergent_value"] == "N":  # TRTEMFL takes Y and N (e.g. the CDISC pilot's SAP)
        for ds in spec.datasets:
            if "TRTEMFL" in ds:
                ds.variable("TRTEMFL").codelist = "CL.NY_YN"
    spec.methods = [replace(m, description=trtemfl_method_text(iss.teae, bool(iss.get("data_cutoff")))) if m.oid == "MT.TRTEMFL" else m
                    for m in spec.methods]
    written_out = configured_method_texts(iss)
    spec.methods = [replace(m, description=f"{m.description} {written_out[m.oid]}") if m.oid in written_out else m
                    for m in spec.methods]
    for previous, pool in zip([None, *iss.analysis_pools], iss.analysis_pools):
        _pool_variables(spec, pool, previous)
    if iss.get("spec"):
        spec = load_spec(Path(iss.file).parent / iss.get("spec"), base=spec)
    return spec


def configured_method_texts(iss: ISSConfig) -> dict[str, str]:
    """The value mappings of this ISS config, written out for the methods that apply them (a
    define reader needs the terms, not 'as the configuration says'): the causality categories
    counted as related (AREL), the age groups (AGEGR1/AGEGR1N), the treatment groups and what
    each holds (TRTxxP/TRTxxA/TRTA and their numbers), each customised and standardised query."""
    out = {"MT.AREL": "In this integration the categories counted as related are "
                      + (", ".join(f"'{t}'" for t in related_terms(iss.get("related_terms"))) or "none") + " (any case)."}
    ages = sorted(iss.get("age_groups", []), key=lambda a: a["number"])
    if ages:
        out["MT.AGEGR1"] = out["MT.AGEGR1N"] = "In this integration: " + "; ".join(
            f"'{a['label']}' (AGEGR1N {a['number']}): {_age_range(a)}" for a in ages) + "."
    groups = "In this integration: " + "; ".join(f"'{g.label}' ({g.number}): {_holds(g, iss)}" for g in iss.groups) + "."
    for oid in ("MT.TRTXXP", "MT.TRTXXPN", "MT.TRTXXA", "MT.TRTXXAN", "MT.TRTAN", "MT.TRTA_EXPOSED",
                "MT.TRTAN_EXPOSED"):
        out[oid] = groups
    queries = [e for e in iss.events if "cq" in e]
    if queries:
        out["MT.CQNAM"] = "In this integration: " + "; ".join(
            f"CQ{e['cq']:02d}NAM '{e['name']}': records{event_terms_text(e) or ' (every record)'}" for e in queries) + "."
    standard = [e for e in iss.events if "smq" in e]
    if standard:
        out["MT.SMQNAM"] = "In this integration: " + "; ".join(
            f"SMQ{e['smq']:02d}NAM '{e['query']}' (code {iss.queries.code(e['query'])}, query file "
            f"{iss.get('query_file')}): records{event_terms_text(e)}" for e in standard) + "."
    return out


def _age_range(group: dict) -> str:
    lower = f"{group['lower']} <= AGE" if group.get("lower") is not None else "AGE"
    if group.get("upper") is None:
        return lower
    return f"{lower} {'<=' if group.get('upper_inclusive') else '<'} {group['upper']}"


def _holds(group, iss: ISSConfig) -> str:
    if group.pooled:
        return "pools " + ", ".join(f"'{p}'" for p in group.pools)
    if iss.assign_by == "arm":
        return "arm " + ", ".join(f"'{a}'" for a in group.arms)
    return ", ".join(f"EXTRT '{t.extrt}'" + (f" at EXDOSE {t.dose:g}" if t.dose is not None else "")
                     + (f" {t.dose_unit}" if t.dose_unit else "") for t in group.treatments)


def trtemfl_method_text(teae: dict, cutoff: bool = False) -> str:
    """The TRTEMFL method as the config's ``teae`` rule has it (see adam.adae.derive_trtemfl and
    adam.periods.emergence_windows), so that the define states the rule the data follow (the
    window, what bounds it, null or 'N'); ``cutoff``: the config sets a data cut-off."""
    window = teae["window_days"]
    limits = [f"its last dose + {window} days"] if window is not None else []
    limits.append("the day before another treatment starts")
    bounds = {"DTHDT": "death (DTHDT)", "EOSDT": "the end of study (EOSDT, unless before the last dose)",
              "CUTOFF": "the data cut-off"}
    limits += [text for name, text in bounds.items() if name in teae["bounded_by"] and (name != "CUTOFF" or cutoff)]
    earliest = f"{', '.join(limits[:-1])} and {limits[-1]}" if len(limits) > 1 else limits[0]
    unlimited = "" if window is not None else " (no fixed window after the last dose)"
    rule = (f"ASTDT lies in the treatment-emergent window of the treatment received at onset (TRTA): from its "
            f"first dose to the earliest of {earliest}{unlimited}")
    unknown = "An event without ASTDT (AESTDTC missing, or more partial than the start-date imputation completes)"
    missing = (f"{unknown} whose AESTDTC could lie between TRTSDT and the end of the subject's last window is "
               f"treatment-emergent unless AENDT < TRTSDT." if teae["missing_start"] == "emergent"
               else f"{unknown} is not treatment-emergent.")
    otherwise = "'N'" if teae["not_emergent_value"] == "N" else "Null"
    return (f"TRTEMFL = 'Y' if TRTSDT is not null, AENDT is not before TRTSDT and {rule}. {missing} "
            f"{otherwise} otherwise.")


def pool_method_texts(pool: AnalysisPool) -> tuple[str, str, str]:
    """The methods of an analysis pool's ADSL flag, ADAE record flag and ADEX/ADAETTE record flag
    (adam.pools), as the config defines the pool."""
    where = f"period{'s' if pool.periods and len(pool.periods) > 1 else ''} " + ", ".join(
        str(p) for p in pool.periods) + " of " if pool.periods else ""
    scope = f"{where}stud{'ies' if len(pool.studies) > 1 else 'y'} {', '.join(pool.studies)}"
    return (f"{pool.flag} = 'Y' if the subject has an exposure record (EX, dated or not) in {scope} "
            f"({pool.label}); 'N' otherwise.",
            f"{pool.record_flag} = 'Y' if the record's analysis period (the study and period of the treatment "
            f"received at onset: APERIOD, TRTA) is in {scope} ({pool.label}); null otherwise.",
            f"{pool.record_flag} = 'Y' if the record's treatment piece (a run of one treatment within a period: "
            f"APERIOD, TRTA) was given in {scope} ({pool.label}); null otherwise.")


def _pool_variables(spec: Spec, pool: AnalysisPool, previous: AnalysisPool | None) -> None:
    """An analysis pool's ADSL flag (after ITTFL) and its record flag in ADAE (after TRTEMFL),
    ADEX and ADAETTE (after the last pooled treatment, TRTAGyN, else TRTAN), each with its
    method; a later pool's after the ``previous`` one's."""
    subject_text, record_text, piece_text = pool_method_texts(pool)
    for dataset, name, label, codelist, after, text in (
            ("ADSL", pool.flag, pool.flag_label, "CL.NY_YN", previous.flag if previous else "ITTFL", subject_text),
            ("ADAE", pool.record_flag, pool.record_label, "CL.NY_Y",
             previous.record_flag if previous else "TRTEMFL", record_text),
            ("ADEX", pool.record_flag, pool.record_label, "CL.NY_Y", previous.record_flag if previous else None,
             piece_text),
            ("ADAETTE", pool.record_flag, pool.record_label, "CL.NY_Y", previous.record_flag if previous else None,
             piece_text)):
        try:
            ds = spec.dataset(dataset)
        except KeyError:
            continue
        oid = f"MT.{dataset}.{name}"
        spec.methods = [m for m in spec.methods if m.oid != oid] + [Method(oid, f"Algorithm to derive {name}", text)]
        variables = [v for v in ds.variables if v.name != name]
        if after is None:   # after the treatment variables
            after = [v.name for v in variables if v.name == "TRTAN" or POOLED_TEXT.match(v.name.rstrip("N"))][-1]
        at = next((i + 1 for i, v in enumerate(variables) if v.name == after), len(variables))
        variables.insert(at, VariableSpec(name=name, label=label, data_type="text", core="Cond", codelist=codelist,
                                          origin_type="Derived", origin_source="Sponsor", method=oid))
        for order, v in enumerate(variables, start=1):
            v.order = order
        ds.variables = variables


def _codelist(spec: Spec, oid: str, name: str, terms: list[tuple[str, str | None]], variables: tuple[str, ...],
              *, data_type: str = "text", datasets: tuple[str, ...] | None = None) -> None:
    spec.codelists = [c for c in spec.codelists if c.oid != oid]
    spec.codelists.append(Codelist(oid, name, data_type=data_type,
                                   items=[CodelistItem(v, decode=d, order=i + 1) for i, (v, d) in enumerate(terms)]))
    for ds in spec.datasets:
        if datasets is not None and ds.name not in datasets:
            continue
        for var in ds.variables:
            if var.name in variables:
                var.codelist = oid


def _event_value_level(spec: Spec, events: list[dict]) -> None:
    """ADAETTE.AVAL by PARAMCD: years at risk for each event of interest.

    Each value-level row takes the origin and method the shipped spec gives ADAETTE.AVAL, and
    the variable then keeps none — as ADEX.AVAL, whose origin and methods are per parameter:
    where a variable has value-level metadata, its origin is stated there (Define-XML 2.1
    section 4.3.2: at variable or value level), once.
    """
    try:
        aval = spec.dataset("ADAETTE").variable("AVAL")
    except KeyError:
        return
    for order, e in enumerate(events, start=1):
        wc = f"WC.ADAETTE.PARAMCD.{e['paramcd']}"
        spec.where_clauses.append(WhereClause(wc, [RangeCheck("ADAETTE", "PARAMCD", "EQ", [e["paramcd"]])]))
        spec.value_level.append(ValueLevel(
            dataset="ADAETTE", variable="AVAL", where_clause=wc, label=f"Years at risk: {e['name']}"[:40],
            data_type="float", core="Req", origin_type=aval.origin_type, origin_source=aval.origin_source,
            method=aval.method, order=order))
    aval.origin_type = aval.origin_source = aval.method = None
