"""Define-XML 2.1 from a spec and its datasets.

:func:`build_define` turns a :class:`specs.model.Spec` plus the DataFrames it describes
into an lxml tree (pure: no I/O); :func:`write_define` serialises it (pretty-printed
UTF-8 with the ``define2-1.xsl`` processing instruction), writes it atomically and puts
the stylesheet beside it. The same inputs give the same bytes (``created`` fixes
``CreationDateTime``; by default ``SOURCE_DATE_EPOCH``, else now).

What comes from the spec and what from the data (Define-XML 2.1 section 5; FDA sdTCG):

1. Datasets: the spec's, in SDTM-MSG class order for tabulations (TRIAL DESIGN, SPECIAL
   PURPOSE, INTERVENTIONS, EVENTS, FINDINGS, FINDINGS ABOUT, RELATIONSHIP, STUDY
   REFERENCE, alphabetical within a class) and ADSL first, then alphabetical, for
   analysis datasets. Every spec dataset needs a frame: a frame with no rows is written
   with ``def:HasNoData="Yes"`` (and a comment), no ``def:leaf``; a missing frame is an
   error (subset the spec instead). Frames hold exactly the spec's variables.
2. Lengths: the spec's if it fixes one (an error if the data are longer), else from the
   data by :mod:`specs.lengths` (text: longest value in bytes; integer: digits; float:
   digits plus SignificantDigits). Date/time ISO 8601 text has no Length.
   DataType: the spec's, except that an ISO 8601 date/time DataType (Define-XML 2.1 section
   4.3.1) is widened to the narrowest one that holds every value in the data — a planned
   ``partialDate`` whose data carry times (``2021-03-04T10:30``) is written ``partialDatetime``.
3. Codelists: non-extensible lists as the spec gives them; extensible CDISC lists
   trimmed to the terms the data use plus the spec's sponsor (extended) terms, with
   data values outside the list added as ``def:ExtendedValue="Yes"`` (an extensible
   list no value of which is used is left out with its references); external
   dictionaries as ``ExternalCodeList``.
4. Only what is referenced is written: standards, codelists, methods, comments, where
   clauses and documents (aCRF and supplemental documents always).
5. ``def:HasNoData="Yes"`` on variables (and value-level items) without a value, with
   the variable's comment or a generated one (Define-XML 2.1 section 5.3.9.2).

OIDs: ``IG.<DS>``, ``IT.<DS>.<VAR>``, ``IT.<DS>.<VAR>.<value>`` (value level),
``VL.<DS>.<VAR>``, ``LF.<DS>``; codelists, methods, comments, where clauses,
standards and document leaves keep the spec's OIDs.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from lxml import etree

from define import _xml as X
from define.facts import LENGTH_TYPES, Facts, facts, missing, range_mask, used_values
from define.whereclause import where_clause_element
from specs.errors import InputError
from specs.iso8601 import DTC_DATATYPES, dtc_column_datatype
from specs.model import Codelist, CodelistItem, DatasetSpec, Spec, ValueLevel, VariableSpec

DEFINE_VERSION = "2.1.0"
#: The writing tool's version (SourceSystemVersion), from its installed distribution: no import of the application.
TRIALPACK_VERSION = version("trialpack")
SDTM_CLASS_ORDER = ("TRIAL DESIGN", "SPECIAL PURPOSE", "INTERVENTIONS", "EVENTS", "FINDINGS",
                    "FINDINGS ABOUT", "RELATIONSHIP", "STUDY REFERENCE")
CONTEXTS = ("Submission", "Other")
NODATA_DATASET = "COM.NODATA.DATASET"
NODATA_VARIABLE = "COM.NODATA.VARIABLE"
NODATA_TEXT = {
    NODATA_DATASET: "No records: the dataset was planned but holds no data, so no dataset file is provided.",
    NODATA_VARIABLE: "No values: the variable was planned but no record holds a value for it.",
}


# -- the plan: what the spec and the data say, before any XML ---------------------------


@dataclass
class _Item:
    """One ItemDef (a variable, or a value-level slice of one) and its ItemRef facts."""

    oid: str
    dataset: DatasetSpec
    name: str
    meta: VariableSpec | ValueLevel
    data_type: str
    label: str | None
    facts: Facts
    length: int | None
    significant_digits: int | None
    codelist: str | None
    mandatory: bool
    comment: str | None
    where_clause: str | None = None
    value_list: str | None = None


@dataclass
class _Plan:
    spec: Spec
    context: str
    datasets: list[DatasetSpec]
    frames: dict[str, pd.DataFrame]
    items: dict[str, list[_Item]] = field(default_factory=dict)          # dataset -> variables
    value_lists: dict[str, list[_Item]] = field(default_factory=dict)    # VL OID -> items
    codelists: dict[str, list[CodelistItem]] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)               # generated comments


def _check_frames(spec: Spec, datasets: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    frames = {str(k).upper(): v for k, v in datasets.items()}
    for ds in spec.datasets:
        if ds.name not in frames:
            raise InputError(f"{ds.name} is in the spec but no data were given: pass an empty frame to "
                             "declare it planned without data (def:HasNoData), or subset the spec")
        df = frames[ds.name]
        if not isinstance(df, pd.DataFrame):
            raise InputError(f"{ds.name}: expected a pandas DataFrame, got {type(df).__name__}")
        extra = [str(c) for c in df.columns if c not in ds]
        if extra:
            raise InputError(f"{ds.name} has columns the spec does not list: {', '.join(extra)}",
                             column=extra[0])
        absent = [v.name for v in ds.variables if v.name not in df.columns]
        if absent:
            raise InputError(f"{ds.name} lacks the spec variables {', '.join(absent)} (specs.conform adds "
                             "them as nulls)", column=absent[0])
    return frames


def dataset_order(datasets: list[DatasetSpec]) -> list[DatasetSpec]:
    """SDTM-MSG class order (alphabetical within a class) for tabulations; ADSL first for analysis."""
    def key(ds: DatasetSpec):
        if ds.purpose == "Analysis":
            return (1, 0 if ds.name == "ADSL" else 1, 0, ds.name)
        cls = SDTM_CLASS_ORDER.index(ds.class_) if ds.class_ in SDTM_CLASS_ORDER else len(SDTM_CLASS_ORDER)
        return (0, 0, cls, ds.name)
    return sorted(datasets, key=key)


def _length(meta, observed: Facts, where: str) -> tuple[int | None, int | None]:
    """(Length, SignificantDigits): the spec's when it fixes them, else the data's."""
    if meta.data_type not in LENGTH_TYPES:
        return None, None
    length = observed.length
    if meta.length is not None:
        if observed.has_data and observed.length > meta.length:
            raise InputError(f"{where}: the data need Length {observed.length} but the spec fixes "
                             f"{meta.length}; values would not fit")
        length = meta.length
    digits = None
    if meta.data_type == "float":
        digits = meta.significant_digits if meta.significant_digits is not None else observed.significant_digits
    return length, digits


def _data_type(meta: VariableSpec | ValueLevel, values: pd.Series) -> str:
    """The spec's DataType, widened for ISO 8601 --DTC variables to hold every value in the data
    (:func:`specs.iso8601.dtc_column_datatype`: planned ``partialDate`` with times in the data
    is ``partialDatetime``)."""
    if meta.data_type not in DTC_DATATYPES:
        return meta.data_type
    return dtc_column_datatype(values[~missing(values)], meta.data_type)


def _variable_items(plan: _Plan, ds: DatasetSpec) -> list[_Item]:
    df = plan.frames[ds.name]
    out = []
    for var in ds.variables:
        where = f"{ds.name}.{var.name}"
        observed = facts(df[var.name], var.data_type, var.display_format)
        length, digits = _length(var, observed, where)
        out.append(_Item(f"IT.{ds.name}.{var.name}", ds, var.name, var, _data_type(var, df[var.name]), var.label,
                         observed, length, digits, var.codelist, var.mandatory, var.comment))
    return out


def _where_mask(plan: _Plan, vl: ValueLevel) -> np.ndarray:
    """Rows of ``vl.dataset`` where the value-level where clause holds (AND of its checks).

    A check on another dataset cannot be evaluated row by row and is taken as true.
    """
    df = plan.frames[vl.dataset]
    mask = np.ones(len(df), dtype=bool)
    for check in plan.spec.where_clause(vl.where_clause).checks:
        if check.dataset == vl.dataset and check.variable in df.columns:
            mask &= range_mask(df[check.variable], check.comparator, check.values)
    return mask


def _suffix(plan: _Plan, vl: ValueLevel) -> str:
    wc = plan.spec.where_clause(vl.where_clause)
    if len(wc.checks) == 1 and len(wc.checks[0].values) == 1 and wc.checks[0].comparator == "EQ":
        text = wc.checks[0].values[0]
    else:
        text = wc.oid.removeprefix("WC.")
    return re.sub(r"\s+", "_", text.strip())


def _value_items(plan: _Plan, ds: DatasetSpec, var: VariableSpec) -> list[_Item]:
    df = plan.frames[ds.name]
    out: list[_Item] = []
    seen: set[str] = set()
    for vl in plan.spec.value_levels(ds.name, var.name):
        oid = f"IT.{ds.name}.{var.name}.{_suffix(plan, vl)}"
        if oid in seen:
            raise InputError(f"two value-level rows of {ds.name}.{var.name} give the item OID {oid}; "
                             "give their where clauses distinct values")
        seen.add(oid)
        subset = df[var.name][_where_mask(plan, vl)]
        observed = facts(subset, vl.data_type, vl.display_format)
        length, digits = _length(vl, observed, f"{ds.name}.{var.name} where {vl.where_clause}")
        out.append(_Item(oid, ds, var.name, vl, _data_type(vl, subset), vl.label or var.label, observed, length,
                         digits, vl.codelist, vl.core == "Req", vl.comment, where_clause=vl.where_clause))
    return out


def _plan(spec: Spec, datasets: Mapping[str, pd.DataFrame], context: str) -> _Plan:
    if context not in CONTEXTS:
        raise InputError(f"def:Context must be one of {', '.join(CONTEXTS)}, not {context!r}")
    if spec.study is None:
        raise InputError("the spec has no study (OID, name): Define-XML needs Study/GlobalVariables")
    if not spec.datasets:
        raise InputError("the spec has no datasets to define")
    plan = _Plan(spec, context, dataset_order(spec.datasets), _check_frames(spec, datasets))
    for ds in plan.datasets:
        items = _variable_items(plan, ds)
        for item in items:
            vls = _value_items(plan, ds, item.meta)
            if vls:
                item.value_list = f"VL.{ds.name}.{item.name}"
                plan.value_lists[item.value_list] = vls
        plan.items[ds.name] = items
    _plan_codelists(plan)
    return plan


def _all_items(plan: _Plan) -> list[_Item]:
    out = []
    for ds in plan.datasets:
        for item in plan.items[ds.name]:
            out.append(item)
            out.extend(plan.value_lists.get(item.value_list, []) if item.value_list else [])
    return out


def _item_series(plan: _Plan, item: _Item) -> pd.Series:
    col = plan.frames[item.dataset.name][item.name]
    if item.where_clause is None:
        return col
    return col[_where_mask(plan, item.meta)]


def _plan_codelists(plan: _Plan) -> None:
    """Decide each referenced codelist's terms (extensible lists trimmed to the data)."""
    by_oid: dict[str, list[_Item]] = {}
    for item in _all_items(plan):
        if item.codelist:
            by_oid.setdefault(item.codelist, []).append(item)
    for oid, users in by_oid.items():
        cl = plan.spec.codelist(oid)
        if cl.is_external or not cl.extensible:
            plan.codelists[oid] = list(cl.items)
            continue
        used: set[str] = set()
        for item in users:
            used.update(used_values(_item_series(plan, item), cl.data_type))
        known = {t.value for t in cl.items}
        terms = [t for t in cl.items if t.value in used or t.extended]
        terms += [CodelistItem(value=v, extended=True) for v in sorted(used - known)]
        if terms:
            plan.codelists[oid] = terms
        else:
            for item in users:
                item.codelist = None


# -- XML construction -----------------------------------------------------------------------


def _el(parent, tag: str, attrs: list[tuple[str, object]] | None = None, text: str | None = None):
    """Append an element; attributes whose value is None are left out, in the order given."""
    el = etree.SubElement(parent, tag)
    for name, value in attrs or []:
        if value is not None:
            el.set(name, _attr_text(value))
    if text is not None:
        el.text = text
    return el


def _attr_text(value: object) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def _yes(flag: bool) -> str | None:
    return "Yes" if flag else None


def _translated(parent, text: str, tag: str = "Description"):
    el = _el(parent, X.odm(tag))
    _el(el, X.odm("TranslatedText"), [(f"{{{X.XML}}}lang", "en")], text)
    return el


def _document_ref(parent, leaf_id: str, pages: str | None):
    ref = _el(parent, X.d("DocumentRef"), [("leafID", leaf_id)])
    if pages:
        kind = "PhysicalRef" if re.fullmatch(r"[0-9 ]+", pages.strip()) else "NamedDestination"
        _el(ref, X.d("PDFPageRef"), [("PageRefs", " ".join(pages.split())), ("Type", kind)])
    return ref


def _model(plan: _Plan) -> str:
    purposes = {ds.purpose for ds in plan.datasets}
    return {frozenset({"Tabulation"}): "SDTM", frozenset({"Analysis"}): "ADaM"}.get(frozenset(purposes), "Data")


def _study_key(plan: _Plan) -> str:
    return plan.spec.study.oid.removeprefix("STDY.")


def _creation_time(created: datetime | None) -> str:
    if created is None:
        from specs.clock import default_created

        created = default_created(aware=True)
    return created.replace(microsecond=0).isoformat()


class _Refs:
    """Referenced definitions, collected in first-use order while the tree is built."""

    def __init__(self) -> None:
        self.standards: dict[str, None] = {}
        self.methods: dict[str, None] = {}
        self.comments: dict[str, None] = {}
        self.where_clauses: dict[str, None] = {}
        self.documents: dict[str, None] = {}

    @staticmethod
    def add(bucket: dict, oid: str | None) -> str | None:
        if oid:
            bucket[oid] = None
        return oid


def build_define(
    spec: Spec,
    datasets: Mapping[str, pd.DataFrame],
    *,
    context: str = "Submission",
    created: datetime | None = None,
    leaf_hrefs: Mapping[str, str] | None = None,
    originator: str = "trialpack",
    analysis_results: Sequence = (),
) -> etree._ElementTree:
    """The Define-XML 2.1 document of ``spec`` and ``datasets`` as an lxml tree (no I/O), with the
    Analysis Results Metadata of ``analysis_results`` (:class:`define.arm.ResultDisplay` objects) when given."""
    plan = _plan(spec, datasets, context)
    refs = _Refs()
    study = spec.study
    root = etree.Element(X.odm("ODM"), nsmap=X.NSMAP)
    model = _model(plan)
    for name, value in (("ODMVersion", "1.3.2"), ("FileType", "Snapshot"),
                        ("FileOID", f"DEFINE.{_study_key(plan)}.{model}"),
                        ("CreationDateTime", _creation_time(created)), ("Originator", originator),
                        ("SourceSystem", "trialpack"), ("SourceSystemVersion", TRIALPACK_VERSION),
                        (X.d("Context"), context)):
        root.set(name, value)
    root.addprevious(etree.PI("xml-stylesheet", 'type="text/xsl" href="define2-1.xsl"'))
    st = _el(root, X.odm("Study"), [("OID", study.oid)])
    gv = _el(st, X.odm("GlobalVariables"))
    _el(gv, X.odm("StudyName"), text=study.name)
    _el(gv, X.odm("StudyDescription"), text=study.description or study.name)
    _el(gv, X.odm("ProtocolName"), text=study.protocol_name or study.name)
    title = f"Study {study.name}, {model} Data Definitions"
    mdv = _el(st, X.odm("MetaDataVersion"), [("OID", f"MDV.{_study_key(plan)}.{model}"), ("Name", title),
                                            ("Description", title), (X.d("DefineVersion"), DEFINE_VERSION)])
    # Build in reference order (a definition is built after everything that may refer
    # to it), then insert the MetaDataVersion children in schema order.
    groups = [_item_group(plan, ds, refs, leaf_hrefs or {}) for ds in plan.datasets]
    item_defs = [_item_def(plan, item, refs) for item in _all_items(plan)]
    value_lists = [_value_list(plan, oid, items, refs) for oid, items in plan.value_lists.items()]
    where_defs = [_where_clause(plan, oid, refs) for oid in list(refs.where_clauses)]
    codelists = [_codelist(plan, oid, refs) for oid in _referenced_codelists(plan)]
    methods = [_method(plan, oid, refs) for oid in list(refs.methods)]
    standards = _standards(plan, refs)
    comments = [_comment(plan, oid, refs) for oid in list(refs.comments)]
    documents = _documents(plan, refs)
    for el in [standards, *documents["sections"], *value_lists, *where_defs, *groups, *item_defs,
               *codelists, *methods, *comments, *documents["leaves"]]:
        if el is not None:
            mdv.append(el)
    tree = root.getroottree()
    if analysis_results:
        from define.arm import add_analysis_results

        add_analysis_results(tree, list(analysis_results))
    return tree


def _detached(tag: str, attrs: list[tuple[str, object]] | None = None):
    holder = etree.Element("holder")
    return _el(holder, tag, attrs)


def _item_group(plan: _Plan, ds: DatasetSpec, refs: _Refs, leaf_hrefs: Mapping[str, str]):
    df = plan.frames[ds.name]
    no_data = len(df) == 0
    comment = ds.comment
    if no_data and not comment:
        comment = NODATA_DATASET
        plan.comments[NODATA_DATASET] = NODATA_TEXT[NODATA_DATASET]
    tabulation = ds.purpose == "Tabulation"
    if not ds.structure:
        raise InputError(f"{ds.name} has no structure (def:Structure is required), e.g. "
                         "'One record per subject'")
    el = _detached(X.odm("ItemGroupDef"), [
        ("OID", f"IG.{ds.name}"), ("Name", ds.name), ("SASDatasetName", ds.name),
        ("Domain", ds.domain if tabulation else None), ("Repeating", ds.repeating),
        ("IsReferenceData", ds.reference_data), ("Purpose", ds.purpose),
        (X.d("StandardOID"), refs.add(refs.standards, ds.standard)),
        (X.d("IsNonStandard"), None if ds.standard else "Yes"),
        (X.d("HasNoData"), _yes(no_data)), (X.d("Structure"), ds.structure),
        (X.d("ArchiveLocationID"), None if no_data else f"LF.{ds.name}"),
        (X.d("CommentOID"), refs.add(refs.comments, comment)),
    ])
    _translated(el, ds.label)
    keys = {k: i + 1 for i, k in enumerate(ds.keys)}
    for order, item in enumerate(plan.items[ds.name], start=1):
        var = item.meta
        no_values = not item.facts.has_data and not no_data
        _el(el, X.odm("ItemRef"), [
            ("ItemOID", item.oid), ("OrderNumber", order), ("Mandatory", item.mandatory),
            ("KeySequence", keys.get(item.name)), ("MethodOID", refs.add(refs.methods, var.method)),
            ("Role", var.role if tabulation else None), (X.d("HasNoData"), _yes(no_values)),
        ])
    if ds.domain and ds.domain != ds.name and tabulation:
        parent = next((p for p in plan.spec.datasets if p.name == ds.domain), None)
        if parent is not None:
            _el(el, X.odm("Alias"), [("Context", "DomainDescription"), ("Name", parent.label)])
    if ds.class_:
        cls = _el(el, X.d("Class"), [("Name", ds.class_)])
        if ds.subclass:
            _el(cls, X.d("SubClass"), [("Name", ds.subclass)])
    if not no_data:
        href = leaf_hrefs.get(ds.name, f"{ds.name.lower()}.xpt")
        leaf = _el(el, X.d("leaf"), [("ID", f"LF.{ds.name}"), (f"{{{X.XLINK}}}href", href)])
        _el(leaf, X.d("title"), text=href)
    return el


def _item_comment(plan: _Plan, item: _Item, refs: _Refs) -> str | None:
    comment = item.comment
    if not item.facts.has_data and len(plan.frames[item.dataset.name]) and not comment:
        comment = NODATA_VARIABLE
        plan.comments[NODATA_VARIABLE] = NODATA_TEXT[NODATA_VARIABLE]
    return refs.add(refs.comments, comment)


def _acrf(plan: _Plan) -> str | None:
    return next((doc.id for doc in plan.spec.documents if doc.kind == "AnnotatedCRF"), None)


def _item_def(plan: _Plan, item: _Item, refs: _Refs):
    meta = item.meta
    el = _detached(X.odm("ItemDef"), [
        ("OID", item.oid), ("Name", item.name), ("DataType", item.data_type), ("Length", item.length),
        ("SignificantDigits", item.significant_digits), ("SASFieldName", item.name),
        (X.d("DisplayFormat"), meta.display_format), (X.d("CommentOID"), _item_comment(plan, item, refs)),
    ])
    if item.label:
        _translated(el, item.label)
    if item.codelist:
        _el(el, X.odm("CodeListRef"), [("CodeListOID", item.codelist)])
    if meta.origin_type:
        origin = _el(el, X.d("Origin"), [
            ("Type", meta.origin_type),
            ("Source", None if meta.origin_type == "Predecessor" else meta.origin_source),
        ])
        if meta.origin_description:
            _translated(origin, meta.origin_description)
        if meta.origin_pages:
            acrf = _acrf(plan)
            if acrf is None:
                raise InputError(f"{item.dataset.name}.{item.name} gives aCRF pages ({meta.origin_pages}) but the "
                                 "spec has no document of kind AnnotatedCRF")
            _document_ref(origin, refs.add(refs.documents, acrf), meta.origin_pages)
    if item.value_list:
        _el(el, X.d("ValueListRef"), [("ValueListOID", item.value_list)])
    return el


def _value_list(plan: _Plan, oid: str, items: list[_Item], refs: _Refs):
    el = _detached(X.d("ValueListDef"), [("OID", oid)])
    for order, item in enumerate(items, start=1):
        ref = _el(el, X.odm("ItemRef"), [
            ("ItemOID", item.oid), ("OrderNumber", order), ("Mandatory", item.mandatory),
            ("MethodOID", refs.add(refs.methods, item.meta.method)),
            (X.d("HasNoData"), _yes(not item.facts.has_data and len(plan.frames[item.dataset.name]) > 0)),
        ])
        _el(ref, X.d("WhereClauseRef"), [("WhereClauseOID", refs.add(refs.where_clauses, item.where_clause))])
    return el


def _where_clause(plan: _Plan, oid: str, refs: _Refs):
    wc = plan.spec.where_clause(oid)
    written = {ds.name for ds in plan.datasets}
    for check in wc.checks:
        if check.dataset not in written or check.variable not in plan.spec.dataset(check.dataset):
            raise InputError(f"where clause {oid} tests {check.dataset}.{check.variable}, a dataset this "
                             "define does not describe")
    return where_clause_element(oid, [(c.dataset, c.variable, c.comparator, c.values) for c in wc.checks],
                                comment=refs.add(refs.comments, wc.comment))


def _referenced_codelists(plan: _Plan) -> list[str]:
    seen: dict[str, None] = {}
    for item in _all_items(plan):
        if item.codelist:
            seen[item.codelist] = None
    return list(seen)


def _codelist(plan: _Plan, oid: str, refs: _Refs):
    cl: Codelist = plan.spec.codelist(oid)
    standard = None if cl.is_external else cl.standard
    el = _detached(X.odm("CodeList"), [
        ("OID", cl.oid), ("Name", cl.name), ("DataType", cl.data_type),
        (X.d("StandardOID"), refs.add(refs.standards, standard)),
        (X.d("IsNonStandard"), None if standard or cl.is_external else "Yes"),
        (X.d("CommentOID"), refs.add(refs.comments, cl.comment)),
    ])
    if cl.is_external:
        _el(el, X.odm("ExternalCodeList"), [("Dictionary", cl.dictionary), ("Version", cl.version)])
        return el
    terms = plan.codelists[oid]
    decoded = any(t.decode for t in terms)
    for order, term in enumerate(terms, start=1):
        tag = "CodeListItem" if decoded else "EnumeratedItem"
        item = _el(el, X.odm(tag), [("CodedValue", term.value), ("OrderNumber", order),
                                    (X.d("ExtendedValue"), _yes(term.extended))])
        if decoded:
            _translated(item, term.decode or term.value, tag="Decode")
        if term.code and not term.extended:
            _el(item, X.odm("Alias"), [("Context", "nci:ExtCodeID"), ("Name", term.code)])
    if cl.code:
        _el(el, X.odm("Alias"), [("Context", "nci:ExtCodeID"), ("Name", cl.code)])
    return el


def _method(plan: _Plan, oid: str, refs: _Refs):
    mt = plan.spec.method(oid)
    el = _detached(X.odm("MethodDef"), [("OID", mt.oid), ("Name", mt.name), ("Type", mt.type)])
    _translated(el, mt.description)
    if mt.expression:
        _el(el, X.odm("FormalExpression"), [("Context", mt.expression_context or "Python")], mt.expression)
    if mt.document:
        _document_ref(el, refs.add(refs.documents, mt.document), mt.pages)
    return el


def _comment(plan: _Plan, oid: str, refs: _Refs):
    if oid in plan.comments:
        if any(c.oid == oid for c in plan.spec.comments):
            raise InputError(f"comment OID {oid} is reserved for trialpack's generated no-data comment")
        text, document, pages = plan.comments[oid], None, None
    else:
        com = plan.spec.comment(oid)
        text, document, pages = com.description, com.document, com.pages
    el = _detached(X.d("CommentDef"), [("OID", oid)])
    _translated(el, text)
    if document:
        _document_ref(el, refs.add(refs.documents, document), pages)
    return el


def _standards(plan: _Plan, refs: _Refs):
    wanted = refs.standards
    chosen = [s for s in plan.spec.standards if s.oid in wanted]
    unknown = sorted(set(wanted) - {s.oid for s in chosen})
    if unknown:
        raise InputError(f"standard {unknown[0]} is referenced but not defined in the spec's standards")
    if not chosen:
        return None
    el = _detached(X.d("Standards"))
    for s in chosen:
        comment = refs.add(refs.comments, s.comment)
        _el(el, X.d("Standard"), [("OID", s.oid), ("Name", s.name), ("Type", s.type),
                                  ("PublishingSet", s.publishing_set), ("Version", s.version),
                                  ("Status", s.status or "Final"), (X.d("CommentOID"), comment)])
    return el


def _documents(plan: _Plan, refs: _Refs) -> dict[str, list]:
    docs = plan.spec.documents
    sections = []
    for kind in ("AnnotatedCRF", "SupplementalDoc"):
        chosen = [doc for doc in docs if doc.kind == kind]
        if chosen:
            section = _detached(X.d(kind))
            for doc in chosen:
                _el(section, X.d("DocumentRef"), [("leafID", refs.add(refs.documents, doc.id))])
            sections.append(section)
    leaves = []
    known = {doc.id: doc for doc in docs}
    for leaf_id in [doc.id for doc in docs if doc.id in refs.documents]:
        doc = known[leaf_id]
        leaf = _detached(X.d("leaf"), [("ID", doc.id), (f"{{{X.XLINK}}}href", doc.href)])
        _el(leaf, X.d("title"), text=doc.title)
        leaves.append(leaf)
    unknown = sorted(set(refs.documents) - set(known))
    if unknown:
        raise InputError(f"document {unknown[0]} is referenced but not in the spec's documents")
    return {"sections": sections, "leaves": leaves}


# -- output ----------------------------------------------------------------------------------


def serialize(tree: etree._ElementTree) -> bytes:
    """Pretty-printed UTF-8 bytes with the XML declaration (deterministic)."""
    etree.indent(tree, space="  ")
    body = etree.tostring(tree, pretty_print=True, xml_declaration=False, encoding="UTF-8")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def write_atomically(path: Path, data: bytes) -> None:
    """``data`` written beside ``path`` and renamed into place: never a partial file under the
    target name."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_define(
    spec: Spec,
    datasets: Mapping[str, pd.DataFrame],
    path: str | os.PathLike,
    *,
    context: str = "Submission",
    created: datetime | None = None,
    leaf_hrefs: Mapping[str, str] | None = None,
    originator: str = "trialpack",
    stylesheet: bool = True,
    analysis_results: Sequence = (),
) -> Path:
    """Write the Define-XML 2.1 file of ``spec`` and ``datasets`` to ``path``; return the path.

    ``datasets`` maps dataset names to the frames written beside the define (only the
    spec's datasets are described; see the module docstring for the rules). ``leaf_hrefs``
    maps a dataset name to its file's relative path (default ``<name>.xpt``, lower case).
    ``created`` fixes CreationDateTime (default ``SOURCE_DATE_EPOCH``, else now).
    With ``stylesheet`` (default), CDISC's ``define2-1.xsl`` is written beside it.
    ``analysis_results`` adds Analysis Results Metadata (ARM 1.0, :mod:`define.arm`).
    """
    path = Path(path)
    tree = build_define(spec, datasets, context=context, created=created, leaf_hrefs=leaf_hrefs,
                        originator=originator, analysis_results=analysis_results)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, serialize(tree))
    if stylesheet:
        write_atomically(path.parent / "define2-1.xsl", X.stylesheet_path().read_bytes())
    return path


__all__ = ["build_define", "dataset_order", "serialize", "write_define"]
