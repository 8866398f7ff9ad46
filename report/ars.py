"""The ISS as a CDISC Analysis Results Standard (ARS 1.0) reporting event.

``reporting_event(tables, iss, ard)`` gives a ``ReportingEvent`` (the root of the ARS logical
data model, ars_ldm.schema.json) in the shape of CDISC's example reporting events:

* ``mainListOfContents``: the outputs (tables, then listings) in report order, each with its analyses;
* ``analysisSets``: the safety population (ADSL.SAFFL = "Y");
* ``analysisGroupings``: the treatment groups, once per ADaM dataset the analyses read — a
  group's records differ by dataset (ADAE: the group's TRTA or, for a pooled group, those of
  TRTA of a group, TRTAGy of a pooled group: a pooled group's records are its members'
  records, which carry its label in TRTAGy), as :func:`report.ard.group_where` says;
* ``dataSubsets``: each distinct where clause of the analyses (a condition, or an AND/OR
  compound expression of where clauses);
* ``methods``: :data:`report.ard.METHODS`, their operations the statistics of the ARD (a
  percentage refers to its numerator, n, and its denominator, the table's header N, as
  ARS ReferencedOperationRelationships; each count analysis names the analyses they are in);
* ``analyses``: :func:`report.ard.analysis_catalogue`, each with its dataset, variable,
  analysis set, data subset, grouping and ``results`` — the ARD's statistics, one
  OperationResult per statistic and group (``rawValue`` the full-precision number, omitted
  where not estimable; ``formattedValue`` the displayed cell on the cell's first statistic);
* ``outputs``: the tables and listings, each a display with its title, row-label header and
  footnotes, and its RTF file. A listing (records, not statistics) is an output without
  analyses: it is in the list of contents with no analyses and has no results.

One source: the analyses, groupings, where clauses and results are the ARD's
(:mod:`report.ard`), so the reporting event and ``results/ard.csv`` cannot disagree.
File: ``report/results/reporting-event.json``.
"""
from __future__ import annotations

import math

import pandas as pd

from report import ard as A
from report import tables as T

ANALYSIS_SET_ID = "AS_SAF"
REASON = {"controlledTerm": "SPECIFIED IN SAP"}
PURPOSE = {"controlledTerm": "PRIMARY OUTCOME MEASURE"}


def where_clause(clause, *, level: int = 1, order: int = 1) -> dict:
    """An ARS where clause (``condition`` or ``compoundExpression``) at ``level`` and ``order``."""
    out: dict = {"level": level, "order": order}
    out.update(_expression(clause, level))
    return out


def _expression(clause, level: int) -> dict:
    if isinstance(clause, A.Condition):
        return {"condition": {"dataset": clause.dataset, "variable": clause.variable,
                              "comparator": clause.comparator, "value": list(clause.values)}}
    return {"compoundExpression": {"logicalOperator": clause.operator,
                                   "whereClauses": [where_clause(p, level=level + 1, order=i)
                                                    for i, p in enumerate(clause.parts, start=1)]}}


def grouping_id(dataset: str) -> str:
    return f"AG_TRT_{dataset}"


def group_id(dataset: str, number: int) -> str:
    return f"{grouping_id(dataset)}_{number}"


def groupings(iss, datasets: list[str]) -> list[dict]:
    """The treatment groups as one ARS grouping factor per dataset."""
    out = []
    for dataset in datasets:
        target = "ADEX" if dataset == "ADSL" else dataset
        groups = [{"id": group_id(dataset, g.number), "name": g.label, "level": 1, "order": i,
                   **_expression(A.group_where(dataset, g.label, iss), 1)}
                  for i, g in enumerate(T.ordered_groups(iss), start=1)]
        out.append({"id": grouping_id(dataset), "name": f"Treatment group ({target}.TRTA; a pooled group {target}.TRTAGy)", "dataDriven": False,
                    "groupingDataset": target, "groupingVariable": "TRTA", "groups": groups})
    return out


PERCENT_OF = {m.id: ("pct", "n", ("M_N", "N")) for m in A.METHODS.values()
              if [stat for stat, _ in m.operations] == ["n", "pct"]}
"""Percentages whose numerator and denominator are other operations' results (ARS
ReferencedOperationRelationship): method -> (percentage, numerator in the same analysis,
denominator (method, statistic) in the table's header-N analysis): every count of participants
with its percentage of the group's N (operations n and pct)."""


def relationship_id(method: str, role: str) -> str:
    return f"{A.operation_id(method, PERCENT_OF[method][0])}_{role[:3]}"


def _operation(method: A.Method, stat: str, label: str, order: int) -> dict:
    out = {"id": A.operation_id(method.id, stat), "name": label, "label": label, "order": order}
    if method.id in PERCENT_OF and PERCENT_OF[method.id][0] == stat:
        _, numerator, (den_method, den_stat) = PERCENT_OF[method.id]
        out["referencedOperationRelationships"] = [
            {"id": relationship_id(method.id, "NUMERATOR"), "referencedOperationRole": {"controlledTerm": "NUMERATOR"},
             "operationId": A.operation_id(method.id, numerator),
             "description": "The count of participants of the same analysis and group."},
            {"id": relationship_id(method.id, "DENOMINATOR"),
             "referencedOperationRole": {"controlledTerm": "DENOMINATOR"},
             "operationId": A.operation_id(den_method, den_stat),
             "description": "The group's N: the table's header analysis, same group."}]
    return out


def _methods() -> list[dict]:
    return [{"id": m.id, "name": m.name, "description": m.description,
             "operations": [_operation(m, stat, label, i) for i, (stat, label) in enumerate(m.operations, start=1)]}
            for m in A.METHODS.values()]


def _referenced(analysis: A.Analysis, headers: dict[str, str]) -> list[dict]:
    """The analyses whose results a percentage of ``analysis`` divides (this one's n, the header N)."""
    if analysis.method not in PERCENT_OF or analysis.output not in headers:
        return []
    return [{"referencedOperationRelationshipId": relationship_id(analysis.method, "NUMERATOR"),
             "analysisId": analysis.id},
            {"referencedOperationRelationshipId": relationship_id(analysis.method, "DENOMINATOR"),
             "analysisId": headers[analysis.output]}]


def _raw(value) -> str | None:
    return repr(float(value)) if value is not None and not pd.isna(value) and math.isfinite(value) else None


def _results(rows: pd.DataFrame, dataset: str, numbers: dict[str, int]) -> list[dict]:
    out = []
    first = ~rows.duplicated(["row_id", "column"])
    for operation, group, value, text, is_first in zip(rows["operation_id"], rows["group"], rows["value"],
                                                       rows["text"], first):
        result: dict = {"operationId": operation,
                        "resultGroups": [{"groupingId": grouping_id(dataset), "groupId": group_id(dataset,
                                                                                                  numbers[group])}]}
        raw = _raw(value)
        if raw is not None:
            result["rawValue"] = raw
        if is_first:
            result["formattedValue"] = text
        out.append(result)
    return out


def _display(table: T.Table) -> dict:
    def section(kind: str, short: str, texts: list[str]) -> dict:
        return {"sectionType": kind, "orderedSubSections": [
            {"order": i, "subSection": {"id": f"D_{table.name}_{short}_{i}", "text": t}}
            for i, t in enumerate(texts, start=1)]}

    return {"id": f"D_{table.name}", "name": f"{table.kind} {table.number}", "version": 1, "displayTitle": table.caption,
            "displaySections": [section("Title", "Title", [table.caption, table.population]),
                                section("Rowlabel Header", "RLbHd", [" ".join(table.stub_header.split())]),
                                section("Footnote", "Ftn", table.footnotes)]}


def output_id(table: T.Table) -> str:
    return f"O_{table.name}"


def reporting_event(tables: dict[str, T.Table], iss, ard: pd.DataFrame, *, name: str | None = None) -> dict:
    """The ARS ReportingEvent of ``tables`` (see the module docstring); ``ard`` is
    :func:`report.ard.ard_frame` of the same tables."""
    catalogue = A.analysis_catalogue(tables, iss)
    numbers = {g.label: g.number for g in iss.groups}
    subsets: dict[str, dict] = {}
    for a in catalogue:
        if a.where is not None and a.where_text() not in subsets:
            subsets[a.where_text()] = {"id": f"DS_{len(subsets) + 1}", "name": a.where.text(), **where_clause(a.where)}
    by_analysis = dict(tuple(ard.groupby("analysis_id", sort=False)))
    headers = {a.output: a.id for a in catalogue if a.method == "M_N"}
    analyses = []
    for a in catalogue:
        rows = by_analysis.get(a.id, ard.iloc[:0])
        item = {"id": a.id, "name": a.name, "version": 1, "reason": REASON, "purpose": PURPOSE, "methodId": a.method,
                "dataset": a.dataset, "variable": a.variable, "analysisSetId": ANALYSIS_SET_ID}
        if a.comparison:
            item["description"] = f"{a.name}: each treatment group compared with {a.comparison}"
        if a.where is not None:
            item["dataSubsetId"] = subsets[a.where_text()]["id"]
        item["orderedGroupings"] = [{"order": 1, "groupingId": grouping_id(a.dataset), "resultsByGroup": True}]
        if referenced := _referenced(a, headers):
            item["referencedAnalysisOperations"] = referenced
        item["results"] = _results(rows, a.dataset, numbers)
        analyses.append(item)
    contents = [{"name": t.caption, "level": 1, "order": i, "outputId": output_id(t),
                 "sublist": {"listItems": [{"name": a.name, "level": 2, "order": j, "analysisId": a.id}
                                           for j, a in enumerate((a for a in catalogue if a.output == t.name),
                                                                 start=1)]}}
                for i, t in enumerate(tables.values(), start=1)]
    outputs = [{"id": output_id(t), "name": t.caption, "version": 1,
                "displays": [{"order": 1, "display": _display(t)}],
                "fileSpecifications": [{"name": f"{t.name}.rtf", "fileType": {"controlledTerm": "rtf"},
                                        "location": f"../tables/{t.name}.rtf"}]}
               for t in tables.values()]
    datasets = list(dict.fromkeys(a.dataset for a in catalogue))
    return {
        "id": f"RE_{iss.id}", "name": name or f"Integrated summary of safety {iss.id}", "version": 1,
        "mainListOfContents": {"name": "List of outputs and analyses", "label": "LOPA",
                               "contentsList": {"listItems": contents}},
        "analysisSets": [{"id": ANALYSIS_SET_ID, "name": "Safety population", "level": 1, "order": 1,
                          **_expression(A.SAFETY, 1)}],
        "analysisGroupings": groupings(iss, datasets),
        "dataSubsets": [{"id": s["id"], "name": s["name"], "level": 1, "order": i,
                         **{k: v for k, v in s.items() if k in ("condition", "compoundExpression")}}
                        for i, s in enumerate(subsets.values(), start=1)],
        "methods": _methods(),
        "analyses": analyses,
        "outputs": outputs,
    }
