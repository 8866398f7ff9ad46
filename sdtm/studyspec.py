"""A study's SDTM spec: the shipped SDTMIG spec plus what the study config defines.

The config is metadata too — arms, treatments, supplemental qualifiers — so the study spec
is composed from it rather than typed again: sponsor codelists for ARMCD/ARM and EXTRT, and
value-level metadata for each SUPP-- QVAL by QNAM. A study spec folder named in the config
(``spec``) is laid over the result (its datasets, codelists, methods and comments replace
those of the same name).
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sdtm.acrf import AnnotatedCRF, crf_pages
from sdtm.config import StudyConfig
from sdtm.ex import EXPOSURE_DEFAULTS
from specs.load import load_spec, standard_spec
from specs.model import (
    Codelist, CodelistItem, RangeCheck, Spec, Study, ValueLevel, VariableSpec, WhereClause,
)

STANDARD = "sdtmig-3.4"
#: SUPP-- QORIG text -> Define-XML origin type and source.
QORIG_ORIGINS = {"CRF": ("Collected", "Investigator"), "EDT": ("Collected", "Vendor"),
                 "ASSIGNED": ("Assigned", "Sponsor"), "DERIVED": ("Derived", "Sponsor"),
                 "PROTOCOL": ("Protocol", "Sponsor")}


def qorig_of(origin_type: str | None, origin_source: str | None) -> str:
    """QORIG of a value whose Define-XML origin is given (the inverse of QORIG_ORIGINS): CRF
    for values collected from the investigator or subject, EDT from a vendor, else the
    origin type (DERIVED, ASSIGNED, PROTOCOL)."""
    if origin_type == "Collected":
        return "EDT" if origin_source == "Vendor" else "CRF"
    return (origin_type or "CRF").upper()


def compose_study_spec(config: StudyConfig, standard: Spec | None = None) -> Spec:
    """The SDTM spec of one study (see the module docstring)."""
    spec = standard.copy() if standard is not None else standard_spec(STANDARD)
    spec.study = Study(oid=f"STDY.{config.studyid}", name=config.studyid,
                       description=config.get("title", config.studyid),
                       protocol_name=config.get("protocol", config.studyid))
    if config.arms:
        _sponsor_codelist(spec, "CL.ARMCD", "Planned Arm Code", [(a["armcd"], a["arm"]) for a in config.arms],
                          [("DM", "ARMCD"), ("DM", "ACTARMCD")])
        _sponsor_codelist(spec, "CL.ARM", "Description of Planned Arm", [(a["arm"], None) for a in config.arms],
                          [("DM", "ARM"), ("DM", "ACTARM")])
    if config.treatments:
        names = sorted({t["extrt"] for t in config.treatments.values()})
        _sponsor_codelist(spec, "CL.EXTRT", "Name of Treatment", [(n, None) for n in names], [("EX", "EXTRT")])
    for domain in ("DM", "AE"):
        add_supplemental_metadata(spec, f"SUPP{domain}", config.supplemental(domain))
    _protocol_defaults(spec, config)
    if config.get("spec"):
        spec = load_spec(Path(config.file).parent / config.get("spec"), base=spec)
    if config.source == "raw":
        _annotated_crf(spec, config)
    return spec


#: The comment of an Expected variable the study does not collect (specs/standard comments.json).
NOT_COLLECTED = "COM.NOTCOLLECTED"


def declare_not_collected(spec: Spec, datasets: dict) -> Spec:
    """SDTMIG 3.4 §4.1.5: an Expected variable the study did not collect stays in the dataset,
    empty, and define.xml says so. A variable of the spec is not collected when, in order:

    1. its core is Exp and its origin says collected from the investigator or subject;
    2. no field of the raw exports supplies it (it cites no aCRF page: :func:`_annotated_crf`);
    3. its dataset has records, and none holds a value for it.

    It gets origin Type "Assigned", Source "Sponsor", with the description "Not collected" and
    the comment :data:`NOT_COLLECTED`: the sponsor keeps the variable, empty, to complete the
    dataset (not Collected: no CRF page could be cited, DD0022; not "Not Available", which
    Define-XML 2.1 does not allow for SDTM). The spec's
    datasets and variables are replaced by new ones, so a spec sharing them is not changed."""
    if not any(c.oid == NOT_COLLECTED for c in spec.comments):
        return spec
    out = []
    for ds in spec.datasets:
        df = datasets.get(ds.name)
        if df is None or not len(df):
            out.append(ds)
            continue
        variables = [replace(v, origin_type="Assigned", origin_source="Sponsor",
                                 origin_description="Not collected", comment=v.comment or NOT_COLLECTED)
                     if _not_collected(v, df) else v for v in ds.variables]
        out.append(replace(ds, variables=variables))
    spec.datasets = out
    return spec


def _not_collected(var: VariableSpec, df) -> bool:
    return (var.core == "Exp" and _cites_crf(var) and not var.origin_pages
            and (var.name not in df or df[var.name].isna().all()))


def _protocol_defaults(spec: Spec, config: StudyConfig) -> None:
    """An EX variable the study's diary does not collect (no raw column) but the config's
    ``exposure`` block fills (EXLOC = "SKIN" for a cream applied to the affected skin) is
    protocol-specified: origin Protocol (Sponsor), not the standard spec's Collected."""
    collected = (config.raw_file("EX") or {}).get("columns", {})
    ex = spec.dataset("EX")
    for key, name in EXPOSURE_DEFAULTS.items():
        if key in config.exposure and name not in collected and name in ex:
            var = ex.variable(name)
            var.origin_type, var.origin_source, var.origin_pages = "Protocol", "Sponsor", None


def _annotated_crf(spec: Spec, config: StudyConfig) -> None:
    """The generated aCRF (``sdtm.acrf``) as the define's def:AnnotatedCRF, and its page(s) on
    each variable and SUPP-- value collected from the investigator or subject (Define-XML 2.1:
    a PDFPageRef is required for those origins). Derived, assigned and protocol origins keep
    their methods and get no page. A spec overlay that brings its own AnnotatedCRF keeps it
    and its pages."""
    if any(doc.kind == "AnnotatedCRF" for doc in spec.documents):
        return
    pages = crf_pages(config)
    spec.documents.append(AnnotatedCRF(config))
    for ds, var in spec.iter_variables():
        if _cites_crf(var) and (ds.name, var.name) in pages:
            var.origin_pages = pages[(ds.name, var.name)]
    qnams = {wc.oid: wc.checks[0].values[0] for wc in spec.where_clauses
             if len(wc.checks) == 1 and wc.checks[0].variable == "QNAM" and len(wc.checks[0].values) == 1}
    spec.value_level = [_with_pages(v, pages, qnams) for v in spec.value_level]


def _with_pages(row: ValueLevel, pages: dict[tuple[str, str], str], qnams: dict[str, str]) -> ValueLevel:
    """A SUPP-- QVAL row (``QNAM EQ x``) with the aCRF page(s) of ``(SUPPxx, "QVAL.x")``."""
    key = (row.dataset, f"{row.variable}.{qnams.get(row.where_clause)}")
    return replace(row, origin_pages=pages[key]) if _cites_crf(row) and key in pages else row


def _cites_crf(meta: VariableSpec | ValueLevel) -> bool:
    return meta.origin_type == "Collected" and meta.origin_source in ("Investigator", "Subject")


def _sponsor_codelist(spec: Spec, oid: str, name: str, terms: list[tuple[str, str | None]],
                      uses: list[tuple[str, str]]) -> None:
    spec.codelists = [c for c in spec.codelists if c.oid != oid]
    spec.codelists.append(Codelist(oid, name, items=[CodelistItem(v, decode=d, order=i + 1)
                                                     for i, (v, d) in enumerate(terms)]))
    for ds_name, var in uses:
        try:
            spec.dataset(ds_name).variable(var).codelist = oid
        except KeyError:
            continue


def add_supplemental_metadata(spec: Spec, dataset: str, qualifiers: list[dict]) -> None:
    """QNAM codelist terms and a ValueListDef on QVAL with one where clause per QNAM. QNAMs the
    spec describes already are kept as they are, so the QNAMs a study's data add after
    mapping (long text continued in SUPP--, SDTMIG §4.5.3.2) join those of its config."""
    if not qualifiers or not any(d.name == dataset for d in spec.datasets):
        return
    oid = f"CL.{dataset}.QNAM"
    known = {wc.oid for wc in spec.where_clauses}
    new = [q for q in qualifiers if f"WC.{dataset}.QNAM.{q['qnam']}" not in known]
    if not new:
        return
    terms = [(t.value, t.decode) for c in spec.codelists if c.oid == oid for t in c.items]
    _sponsor_codelist(spec, oid, f"{dataset} Qualifier Names",
                      terms + [(q["qnam"], q["qlabel"]) for q in new], [(dataset, "QNAM")])
    first = len(spec.value_levels(dataset, "QVAL")) + 1
    for order, q in enumerate(new, start=first):
        wc = f"WC.{dataset}.QNAM.{q['qnam']}"
        spec.where_clauses.append(WhereClause(wc, [RangeCheck(dataset, "QNAM", "EQ", [q["qnam"]])]))
        origin, source = QORIG_ORIGINS.get(str(q.get("qorig") or "CRF").upper(), ("Collected", "Investigator"))
        spec.value_level.append(ValueLevel(
            dataset=dataset, variable="QVAL", where_clause=wc, label=q["qlabel"], data_type="text",
            core="Exp", codelist=q.get("codelist"), origin_type=origin, origin_source=source, order=order,
            origin_pages=q.get("pages")))
