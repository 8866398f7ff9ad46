"""Analysis Results Metadata (ARM 1.0 for Define-XML 2.1) in a define.xml.

``add_analysis_results(tree, displays)`` appends to the define's MetaDataVersion an
``arm:AnalysisResultDisplays`` element (namespace ``http://www.cdisc.org/ns/arm/v1.0``):

* one ``arm:ResultDisplay`` per display (OID, Name, Description), each with
* one ``arm:AnalysisResult`` per result: OID, ``ParameterOID`` (the PARAMCD item, for a
  BDS parameter), ``AnalysisReason``, ``AnalysisPurpose``, Description, ``arm:AnalysisDatasets``
  (per dataset its ItemGroupOID, a ``def:WhereClauseRef`` and its ``arm:AnalysisVariable``
  elements), ``arm:Documentation`` and ``arm:ProgrammingCode``;

(a result whose variables the define does not describe is left out), and the
``def:WhereClauseDef`` elements the results refer to (RangeChecks that must all hold), made
by :func:`define.whereclause.where_clause_element` as the value-level metadata's are. A where
clause ARM cannot express (an OR) is not given as RangeChecks: its dataset's conjunctive
part is, and the result's Documentation gives the whole clause.

``arm_schema()`` is the ARM 1.0 XSD for Define-XML 2.1 as ``odmlib`` ships it (it redefines
the Define-XML 2.1 schema to allow the ARM element), loaded without network access.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

from lxml import etree

from define import _xml as X
from define.whereclause import where_clause_element

ARM = "http://www.cdisc.org/ns/arm/v1.0"


def a(tag: str) -> str:
    return f"{{{ARM}}}{tag}"


@dataclass(frozen=True)
class AnalysisDataset:
    """A dataset an analysis result reads: its records (``checks``: (dataset, variable,
    comparator, values), all must hold) and analysis variables."""

    dataset: str
    variables: tuple[str, ...]
    checks: tuple = ()


@dataclass(frozen=True)
class AnalysisResult:
    oid: str
    description: str
    datasets: tuple[AnalysisDataset, ...]
    documentation: str
    code: str
    code_context: str = "Python 3 (trialpack)"
    parameter: str | None = None      # the ItemOID of PARAMCD, where the result is by parameter
    reason: str = "SPECIFIED IN SAP"
    purpose: str = "PRIMARY OUTCOME MEASURE"


@dataclass(frozen=True)
class ResultDisplay:
    oid: str
    name: str
    description: str
    results: tuple[AnalysisResult, ...] = field(default_factory=tuple)


def where_oid(result: AnalysisResult, dataset: AnalysisDataset) -> str:
    return f"WC.{result.oid.removeprefix('AR.')}.{dataset.dataset}"


def _text(parent, tag: str, text: str):
    description = etree.SubElement(parent, tag)
    translated = etree.SubElement(description, X.odm("TranslatedText"))
    translated.set(f"{{{X.XML}}}lang", "en")
    translated.text = text
    return description


def referenced_items(result: AnalysisResult) -> set[str]:
    """The ItemDef OIDs a result refers to: analysis variables, where-clause variables, parameter."""
    return {f"IT.{d.dataset}.{v}" for d in result.datasets for v in d.variables} | \
        {f"IT.{ds}.{var}" for d in result.datasets for ds, var, _, _ in d.checks} | \
        ({result.parameter} if result.parameter else set())


def described(tree: etree._ElementTree, displays: list[ResultDisplay]) -> list[ResultDisplay]:
    """``displays`` without the results that refer to a variable the define does not describe (an
    analysis of an ADaM variable that was not collected: its table row shows NA), and without
    displays left with no result."""
    defined = set(tree.getroot().xpath("//odm:ItemDef/@OID", namespaces={"odm": X.ODM}))
    kept = [ResultDisplay(d.oid, d.name, d.description, tuple(r for r in d.results if referenced_items(r) <= defined))
            for d in displays]
    return [d for d in kept if d.results]


def add_analysis_results(tree: etree._ElementTree, displays: list[ResultDisplay]) -> etree._ElementTree:
    """``tree`` (a Define-XML 2.1 document) with the ARM of ``displays`` (see the module docstring)
    that the define can describe (:func:`described`); the tree is changed in place and returned."""
    root = tree.getroot()
    mdv = root.find(f"{X.odm('Study')}/{X.odm('MetaDataVersion')}")
    if mdv is None:
        raise ValueError("the define has no Study/MetaDataVersion")
    displays = described(tree, displays)
    if not displays:
        return tree
    wheres = []
    container = etree.Element(a("AnalysisResultDisplays"), nsmap={"arm": ARM})
    for display in displays:
        rd = etree.SubElement(container, a("ResultDisplay"), OID=display.oid, Name=display.name)
        _text(rd, X.odm("Description"), display.description)
        for result in display.results:
            attrs = {"OID": result.oid}
            if result.parameter:
                attrs["ParameterOID"] = result.parameter
            attrs.update(AnalysisReason=result.reason, AnalysisPurpose=result.purpose)
            ar = etree.SubElement(rd, a("AnalysisResult"), **attrs)
            _text(ar, X.odm("Description"), result.description)
            ads = etree.SubElement(ar, a("AnalysisDatasets"))
            for dataset in result.datasets:
                ad = etree.SubElement(ads, a("AnalysisDataset"), ItemGroupOID=f"IG.{dataset.dataset}")
                if dataset.checks:
                    oid = where_oid(result, dataset)
                    wheres.append(where_clause_element(oid, dataset.checks))
                    etree.SubElement(ad, X.d("WhereClauseRef"), WhereClauseOID=oid)
                for variable in dataset.variables:
                    etree.SubElement(ad, a("AnalysisVariable"), ItemOID=f"IT.{dataset.dataset}.{variable}")
            doc = etree.SubElement(ar, a("Documentation"))
            _text(doc, X.odm("Description"), result.documentation)
            code = etree.SubElement(ar, a("ProgrammingCode"), Context=result.code_context)
            etree.SubElement(code, a("Code")).text = result.code
    # WhereClauseDefs after the last one there (schema order), the displays last in MetaDataVersion
    existing = mdv.findall(X.d("WhereClauseDef"))
    anchor = existing[-1] if existing else None
    for el in wheres:
        if anchor is None:
            first_group = mdv.find(X.odm("ItemGroupDef"))
            first_group.addprevious(el)
        else:
            anchor.addnext(el)
        anchor = el
    mdv.append(container)
    return tree


@functools.lru_cache(maxsize=1)
def arm_schema() -> etree.XMLSchema:
    """The ARM 1.0 schema for Define-XML 2.1 (``arm1-0-0.xsd`` as ``odmlib`` ships it), loaded once
    from the package's schema folder only."""
    root = X.define20_schema_folder()
    return X._load_schema(root, root / "arm" / "1.0-define2.1" / "arm1-0-0.xsd")


def arm_errors(tree: etree._ElementTree) -> list[str]:
    """The ARM 1.0 schema's errors of ``tree`` ("line: message"), none when valid."""
    schema = arm_schema()
    if schema.validate(tree):
        return []
    return [f"{e.line}: {X.pretty_message(e.message)}" for e in schema.error_log]
