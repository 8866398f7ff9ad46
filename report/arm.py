"""Analysis Results Metadata (ARM 1.0) of the key safety results, from the tables' analyses.

``arm_displays(iss)`` describes, as :mod:`define.arm` result displays, the key safety
results of the ISS (the analyses of :mod:`report.ard`, so the define, the ARD and the ARS
reporting event say the same):

* the TEAE overview: one analysis result per row (ADAE, USUBJID, the row's where clause);
* TEAEs by SOC and PT: one result (ADAE TRTEMFL = "Y"; AEBODSYS, AEDECOD by TRTA, a pooled
  group by its TRTAGy);
* the EAIR table: one result per event of interest (ADAETTE, ``ParameterOID`` PARAMCD, where
  PARAMCD is the event's; AVAL and CNSR by TRTA).

``add_arm(define_tree, iss)`` adds them to an ISS ADaM define (:func:`define.arm.add_analysis_results`).
"""
from __future__ import annotations

from define import arm as DA
from report import ard as A

CODE = "report.tables.{function}(analysis) -> report.ard.ard_frame(...); analysis id {analysis}"
OUTPUT_NAMES = {"teae-overview": ("Overview of treatment-emergent adverse events", "overview_table"),
                "teae-soc-pt": ("Participants with treatment-emergent adverse events by system organ class and "
                                "preferred term", "soc_pt_table"),
                "aesi-eair": ("Exposure-adjusted incidence rates of adverse events of interest", "aesi_eair_table")}


def checks_by_dataset(where) -> dict[str, tuple]:
    """The conditions of a where clause that must all hold, by dataset (RangeChecks): a single
    condition, or the conditions directly AND-ed; an OR (and what is under it) is left out."""
    parts = [where] if isinstance(where, A.Condition) else \
        list(where.parts) if isinstance(where, A.Compound) and where.operator == "AND" else []
    out: dict[str, list] = {}
    for p in parts:
        if isinstance(p, A.Condition):
            out.setdefault(p.dataset, []).append((p.dataset, p.variable, p.comparator, p.values))
    return {k: tuple(v) for k, v in out.items()}


def group_variables(iss) -> tuple[str, ...]:
    """The variables the treatment groups are in: TRTA, and TRTAGy of each pooled group
    (:func:`report.ard.group_variable`)."""
    return tuple(dict.fromkeys(A.group_variable(g.label, iss) for g in iss.groups)) or ("TRTA",)


def _result(analysis: A.Analysis, variables: tuple[str, ...], *, parameter: str | None = None) -> DA.AnalysisResult:
    checks = checks_by_dataset(analysis.where) if analysis.where is not None else {}
    datasets = [DA.AnalysisDataset(analysis.dataset, variables, checks.get(analysis.dataset, ()))]
    datasets += [DA.AnalysisDataset(ds, (), c) for ds, c in checks.items() if ds != analysis.dataset]
    method = A.METHODS[analysis.method]
    where = analysis.where_text() or "all records"
    documentation = (f"{method.name}: {method.description}. Records: {analysis.dataset} where {where}; "
                     f"population {A.ANALYSIS_SET}; by treatment group (TRTA; a pooled group TRTAGy). Results: report/results/ard.csv and "
                     f"reporting-event.json, analysis {analysis.id}.")
    code = CODE.format(function=OUTPUT_NAMES[analysis.output][1], analysis=analysis.id)
    return DA.AnalysisResult(f"AR.{analysis.id.removeprefix('A_')}", analysis.name, tuple(datasets), documentation,
                             code, parameter=parameter)


def arm_displays(iss) -> list[DA.ResultDisplay]:
    """The ARM result displays of the key safety tables (see the module docstring)."""
    overview = [A.define_analysis("teae-overview", key, iss) for key in A.overview_rows(iss)]
    soc_pt = A.define_analysis("teae-soc-pt", "any", iss)
    eair = [A.define_analysis("aesi-eair", e["paramcd"], iss) for e in iss.events]
    by = group_variables(iss)
    displays = [
        ("teae-overview", [_result(x, ("USUBJID", *by)) for x in overview]),
        ("teae-soc-pt", [_result(soc_pt, ("USUBJID", "AEBODSYS", "AEDECOD", *by))]),
        ("aesi-eair", [_result(x, ("AVAL", "CNSR", *by), parameter="IT.ADAETTE.PARAMCD") for x in eair]),
    ]
    return [DA.ResultDisplay(f"RD.{name}", name, OUTPUT_NAMES[name][0], tuple(results))
            for name, results in displays if results]


def add_arm(tree, iss):
    """``tree`` (the ISS ADaM define) with the ARM of :func:`arm_displays`."""
    return DA.add_analysis_results(tree, arm_displays(iss))
