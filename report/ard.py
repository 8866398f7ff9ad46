"""Analysis Results Dataset (ARD): every statistic the ISS tables show, as data.

One record per statistic of every table cell (CDISC Analysis Results Standard 1.0, the ARD
"one row per result"): the analysis that produced it (``analysis_id``), the output (table)
it is shown in (``output_id``), the analysis pool (``pool``; empty while the tables are on
the whole ISS), the row and column it is shown in (ids and the displayed labels), the
treatment group and the records that group counts (``group_where``), the method and its
operation, the statistic (``stat``: ``N``, ``n``, ``pct``, ``mean``, ``eair``,
``eair_lower`` ...), its number (``value``, full precision), its denominator, the cell's
text as displayed, and the ADaM dataset, variable and where clause that select the records
it is computed on (``dataset``, ``variable``, ``where``; ``analysis_set`` the population).

The ARD is made from the tables themselves (their cells and their row ids) and from one
catalogue of the tables' analyses (:func:`analysis_catalogue`): every analysis' dataset,
variable, method and where clause, written as the data the tables count (ARS where clauses,
:class:`Condition`, :class:`Compound`). The ARS reporting event (:mod:`report.ars`) and the
define's Analysis Results Metadata are written from the same catalogue, so the three cannot
disagree.

Statistics of a cell, in display order (what :func:`cell_statistics` explodes a cell into):

1. the cell's statistic (``stat`` of the tidy cell) and its ``value``;
2. ``pct`` = 100 x n / denominator, where the cell is a count with a denominator (n (%));
3. ``<stat>_lower`` and ``<stat>_upper``, where the cell has a confidence interval;
4. the column headers' population count ``N`` (row id ``header``) of each group column.

The listings (:mod:`report.listings`) are not in the ARD: their cells are records' values,
not results of an analysis (their lineage names each listed record); the reporting event has
them as outputs without analyses.

File: ``report/results/ard.csv`` (UTF-8, comma-separated, one header line). CSV rather than
Parquet: the ARD has one record per displayed number — thousands, whatever the number of
subjects — so it stays small, and the reviewer opens it in Excel, SAS, R or a text editor;
numbers are written at full precision (shortest round-trip text), text is text. Programs
that want typed results read the same numbers from the reporting event's ``results``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from adam.groups import pooled_levels
from adam.queries import aesi_value, aesi_variable
from report import tables as T
from report.adverse_events import DRUG_WITHDRAWN, MISSING_SEVERITY, severity_variable

ARD_COLUMNS = ["analysis_id", "output_id", "pool", "row_id", "row_label", "column", "column_label", "group",
               "group_where",
               "method_id", "operation_id", "stat", "value", "denominator", "text", "dataset", "variable", "where",
               "analysis_set"]
"""The ARD's columns, in file order."""

ANALYSIS_SET = "ADSL.SAFFL = \"Y\""
"""Every table's population: the safety analysis set."""


# --------------------------------------------------------------------------------------
# where clauses (ARS WhereClause: a condition, or a compound expression of where clauses)
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Condition:
    """``dataset.variable comparator values`` (ARS WhereClauseCondition; comparators EQ, NE,
    IN, NOTIN, GE, ...). A missing value is the empty text (ADaM's missing character)."""

    dataset: str
    variable: str
    comparator: str
    values: tuple[str, ...]

    def text(self, home: str | None = None) -> str:
        name = self.variable if self.dataset == home else f"{self.dataset}.{self.variable}"
        shown = [f'"{v}"' if not _is_number(v) else v for v in self.values]
        if self.comparator in ("IN", "NOTIN"):
            return f"{name} {'in' if self.comparator == 'IN' else 'not in'} ({', '.join(shown)})"
        return f"{name} {_SYMBOLS[self.comparator]} {shown[0]}"

    def conditions(self) -> list["Condition"]:
        return [self]


@dataclass(frozen=True)
class Compound:
    """Where clauses joined by AND or OR (ARS WhereClauseCompoundExpression)."""

    operator: str
    parts: tuple = field(default_factory=tuple)

    def text(self, home: str | None = None) -> str:
        joined = f" {self.operator.lower()} ".join(
            f"({p.text(home)})" if isinstance(p, Compound) else p.text(home) for p in self.parts)
        return joined

    def conditions(self) -> list[Condition]:
        return [c for p in self.parts for c in p.conditions()]


_SYMBOLS = {"EQ": "=", "NE": "^=", "GT": ">", "GE": ">=", "LT": "<", "LE": "<="}


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def eq(dataset: str, variable: str, value) -> Condition:
    return Condition(dataset, variable, "EQ", (str(value),))


def both(*parts) -> Condition | Compound:
    """The where clauses AND-ed (one clause stays itself; nested ANDs are flattened)."""
    flat = []
    for p in parts:
        flat += list(p.parts) if isinstance(p, Compound) and p.operator == "AND" else [p]
    return flat[0] if len(flat) == 1 else Compound("AND", tuple(flat))


# --------------------------------------------------------------------------------------
# the analyses of the tables
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Method:
    """An analysis method (ARS AnalysisMethod): its operations are statistics by name."""

    id: str
    name: str
    description: str
    operations: tuple[tuple[str, str], ...]   # (stat, label) in result order


def total_method(threshold: int) -> str:
    """The method counting participants whose total is at least ``threshold`` (``M_COUNT_TOTAL_GE<n>``)."""
    return f"M_COUNT_TOTAL_GE{threshold}"


def total_threshold(method: str) -> int | None:
    """The threshold of a :func:`total_method` (None for another method)."""
    prefix = total_method(0)[:-1]
    return int(method[len(prefix):]) if method.startswith(prefix) else None


METHODS = {m.id: m for m in (
    Method("M_N", "Count of participants",
           "Participants in the safety population exposed to the group's treatment (one ADEX duration record per "
           "participant and group)", (("N", "N"),)),
    Method("M_COUNT", "Count and percentage of participants",
           "Participants with at least one record meeting the where clause, each counted once per group; "
           "% = 100 x n / N", (("n", "n"), ("pct", "%"))),
    Method("M_COUNT_MAX", "Count and percentage of participants at their maximum severity",
           "Participants whose most severe record meeting the row's where clause (MILD < MODERATE < SEVERE) has "
           "the severity of the analysis' where clause (a missing severity only when every such record lacks one), "
           "each counted once per group; % = 100 x n / N", (("n", "n"), ("pct", "%"))),
    Method("M_SUMMARY", "Summary statistics of a continuous variable",
           "Number of participants with a value, mean, standard deviation (n - 1), median, minimum, maximum",
           (("n", "n"), ("mean", "Mean"), ("sd", "SD"), ("median", "Median"), ("min", "Min"), ("max", "Max"))),
    Method("M_SUMMARY_TOTAL", "Summary statistics of each participant's total",
           "Per participant and group, the sum of the analysis variable over their records (ADEX: one per "
           "treatment piece); of these totals: number of participants, mean, standard deviation (n - 1), median, "
           "minimum, maximum", (("n", "n"), ("mean", "Mean"), ("sd", "SD"), ("median", "Median"), ("min", "Min"),
                                ("max", "Max"))),
    *(Method(total_method(days), f"Count and percentage of participants with a total of at least {days}",
             f"Participants whose sum of the analysis variable over their records of the group (ADEX: one per "
             f"treatment piece) is at least {days}, each counted once per group; % = 100 x n / N",
             (("n", "n"), ("pct", "%"))) for days, _ in T.DURATION_THRESHOLDS),
    Method("M_SUM", "Sum", "Sum of the analysis variable over the records (patient-years of exposure)",
           (("py", "Patient-years"),)),
    Method("M_EAIR", "Exposure-adjusted incidence rate",
           "Participants at risk, participants with the event (n, % of N), patient-years at risk (time to the "
           "first event or to the end of the at-risk period), EAIR = per x n / patient-years with its confidence "
           "interval (the ISS config's rates.ci_method)",
           (("subjects_at_risk", "N at risk"), ("subjects_with_event", "n"), ("pct", "%"),
            ("patient_years_at_risk", "Patient-years at risk"), ("eair", "EAIR"), ("eair_lower", "Lower CL"),
            ("eair_upper", "Upper CL"))),
    Method("M_MH_RD", "Mantel-Haenszel rate difference",
           "Study-stratified Mantel-Haenszel difference of exposure-adjusted incidence rates (treatment - control) "
           "with its Wald confidence interval",
           (("rate_difference_mh", "Difference"), ("rate_difference_mh_lower", "Lower CL"),
            ("rate_difference_mh_upper", "Upper CL"))),
)}


def operation_id(method: str, stat: str) -> str:
    return f"{method}_{stat}"


@dataclass(frozen=True)
class Analysis:
    """One analysis of one table (ARS Analysis): what it counts and how."""

    id: str
    output: str          # the table's name
    key: str             # the analysis' part of the table's row ids
    name: str
    dataset: str
    variable: str
    method: str
    where: Condition | Compound | None
    comparison: str | None = None   # the control group of a comparison

    def where_text(self) -> str:
        return self.where.text(self.dataset) if self.where is not None else ""


SAFETY = eq("ADSL", "SAFFL", "Y")
TEAE = eq("ADAE", "TRTEMFL", "Y")
EXPOSED = eq("ADEX", "PARAMCD", T.DURATION_DAYS)
MISSING_TEXT = ""


def analysis_id(output: str, key: str) -> str:
    """``A_<table>_<key>``, e.g. ``A_teae-overview_related`` (the row id's parts joined by ``_``)."""
    return f"A_{output}_{key.replace('|', '_')}"


def _row_key(table: str, row_id: str, column: str) -> str:
    """The analysis a cell belongs to, from its table, row id and column:

    * demographics: ``age`` for the age rows (one summary), else the row (a category);
    * exposure: ``duration`` for the duration summary rows, else the row (a duration category:
      participants whose total over their ADEX records of the group reaches it, one method per
      threshold, :func:`total_method`);
    * EAIR table: the event (``PARAMCD``), or ``PARAMCD|vs|control`` in a difference column;
    * by maximum severity: ``row|severity`` (the column ``group|severity``: one analysis per
      row and severity);
    * every other table: the row.
    """
    if table == "demographics" and row_id.startswith("age|"):
        return "age"
    if table == "exposure" and row_id in ("n", "mean", "sd", "median", "min", "max"):
        return "duration"
    if table == "aesi-eair":
        event = row_id.split("|", 1)[0]
        return f"{event}|vs|{column.split('|', 1)[1]}" if column.startswith("diff|") else event
    if table == "teae-severity":
        return f"{row_id}|{column.rsplit('|', 1)[1]}"
    return row_id


def _category(dataset: str, variable: str, value: str) -> Condition:
    return eq(dataset, variable, MISSING_TEXT if value in (T.MISSING, T.UNCODED) else value)


def overview_rows(iss) -> dict[str, tuple[str, Condition | Compound]]:
    """TEAE overview rows: row id -> (name, where clause), as :func:`report.tables.overview_table` counts."""
    related, serious = eq("ADAE", "AREL", "RELATED"), eq("ADAE", "AESER", "Y")
    rows = {"any": ("Any TEAE", TEAE),
            "related": ("Related TEAE", both(TEAE, related)),
            "severe": ("Severe TEAE", both(TEAE, eq("ADAE", "AESEV", "SEVERE"))),
            "serious": ("Serious TEAE", both(TEAE, serious)),
            "serious_related": ("Serious related TEAE", both(TEAE, serious, related)),
            "discontinued": ("TEAE leading to discontinuation of study treatment",
                             both(TEAE, eq("ADAE", "AEACN", "DRUG WITHDRAWN"))),
            "deaths": ("Deaths", Compound("OR", (both(TEAE, Compound("OR", (eq("ADAE", "AEOUT", "FATAL"),
                                                                              eq("ADAE", "AESDTH", "Y")))),
                                                 eq("ADSL", "DTHFL", "Y"))))}
    for e in T.aesi_events(iss):
        rows[f"aesi|{e['paramcd']}"] = (e["name"], aesi_where(e))
    return rows


def aesi_where(event: dict) -> Condition | Compound:
    """The TEAEs of an adverse event of special interest: its query variable (CQzzNAM or
    SMQzzNAM) holds its value (adam.queries.aesi_value), as :func:`report.tables.aesi_records`."""
    return both(TEAE, eq("ADAE", aesi_variable(event), aesi_value(event)))


SOC_PT_BASES = {"teae-soc-pt": TEAE, "serious-teae-soc-pt": both(TEAE, eq("ADAE", "AESER", "Y")),
                "related-teae-soc-pt": both(TEAE, eq("ADAE", "AREL", "RELATED")),
                "discontinuation-teae-soc-pt": both(TEAE, eq("ADAE", "AEACN", DRUG_WITHDRAWN)),
                "teae-severity": TEAE}
"""The SOC/PT tables: table -> the records every row of it counts (before its SOC and PT)."""


def soc_pt_where(base, key: str) -> tuple[str, Condition | Compound]:
    """(name, where clause) of a SOC/PT row ``any``, ``soc|SOC`` or ``pt|SOC|PT`` on ``base``."""
    level, _, rest = key.partition("|")
    if level == "any":
        return "Any TEAE", base
    if level == "soc":
        return rest, both(base, _category("ADAE", "AEBODSYS", rest))
    soc, pt = rest.split("|", 1)
    return f"{soc} / {pt}", both(base, _category("ADAE", "AEBODSYS", soc), _category("ADAE", "AEDECOD", pt))


def disposition_where(key: str) -> tuple[str, Condition | Compound]:
    """(name, where clause) of a disposition row: ``EOSSTT`` or ``DISCONTINUED|DCSREAS``."""
    status, _, reason = key.partition("|")
    where = eq("ADSL", "EOSSTT", status)
    if not reason:
        return status, where
    return f"{status}: {reason}", both(where, _category("ADSL", "DCSREAS", reason))


def define_analysis(table: str, key: str, iss, *, severity: str = "AESEV") -> Analysis:
    """The analysis ``key`` of ``table`` (see :func:`_row_key`); ``severity`` the ADAE variable
    the table by maximum severity reads (:func:`report.adverse_events.severity_variable`)."""
    name, aid = table, analysis_id(table, key)
    if name == "demographics":
        if key == "age":
            return Analysis(aid, name, key, "Age (years)", "ADSL", "AGE", "M_SUMMARY",
                            Condition("ADSL", "AGE", "NE", (MISSING_TEXT,)))
        variable, value = key.split("|", 1)
        return Analysis(aid, name, key, f"{variable} = {value}", "ADSL", "USUBJID", "M_COUNT",
                        _category("ADSL", variable, value))
    if name == "disposition":
        label, where = disposition_where(key)
        return Analysis(aid, name, key, label, "ADSL", "USUBJID", "M_COUNT", where)
    if name == "exposure":
        if key == "duration":
            return Analysis(aid, name, key, "Duration of exposure (days)", "ADEX", "AVAL", "M_SUMMARY_TOTAL",
                            EXPOSED)
        if key == "py":
            return Analysis(aid, name, key, "Total exposure (patient-years)", "ADEX", "AVAL", "M_SUM",
                            eq("ADEX", "PARAMCD", T.DURATION_YEARS))
        days = int(key[2:])   # on each participant's total over their pieces (ADEX records) of the group
        return Analysis(aid, name, key, f"Participants exposed >= {days} days", "ADEX", "AVAL", total_method(days),
                        EXPOSED)
    if name == "teae-overview":
        label, where = overview_rows(iss)[key]
        return Analysis(aid, name, key, label, "ADAE", "USUBJID", "M_COUNT", where)
    if name == "teae-severity":
        row, level = key.rsplit("|", 1)
        label, where = soc_pt_where(SOC_PT_BASES[name], row)
        value = MISSING_TEXT if level == MISSING_SEVERITY else level.upper()
        return Analysis(aid, name, key, f"{label}: {level}", "ADAE", "USUBJID", "M_COUNT_MAX",
                        both(where, eq("ADAE", severity, value)))
    if name in SOC_PT_BASES:
        label, where = soc_pt_where(SOC_PT_BASES[name], key)
        return Analysis(aid, name, key, label, "ADAE", "USUBJID", "M_COUNT", where)
    if name == "aesi-pt":
        _, event, *pt = key.split("|", 2)
        found = next(e for e in T.aesi_events(iss) if e["paramcd"] == event)
        where = aesi_where(found)
        if pt:
            return Analysis(aid, name, key, f"{found['name']} / {pt[0]}", "ADAE", "USUBJID", "M_COUNT",
                            both(where, _category("ADAE", "AEDECOD", pt[0])))
        return Analysis(aid, name, key, found["name"], "ADAE", "USUBJID", "M_COUNT", where)
    if name == "aesi-eair":
        event, _, control = key.partition("|vs|")
        title = next(e["name"] for e in iss.events if e["paramcd"] == event)
        where = eq("ADAETTE", "PARAMCD", event)
        if control:
            return Analysis(aid, name, key, f"{title}: difference vs {control}", "ADAETTE", "AVAL", "M_MH_RD",
                            where, comparison=control)
        return Analysis(aid, name, key, title, "ADAETTE", "AVAL", "M_EAIR", where)
    raise KeyError(f"no analysis definition for table {name!r}")


def header_analysis(table: T.Table) -> Analysis:
    """The analysis behind a table's column headers' N."""
    return Analysis(analysis_id(table.name, "N"), table.name, "N", "Participants exposed (N)", "ADEX", "USUBJID",
                    "M_N", EXPOSED)


def statistical(tables: dict[str, T.Table]) -> list[T.Table]:
    """The tables whose cells are statistics: every table but the listings (kind "Listing"),
    whose cells are records' values, not results of an analysis (they are ARS outputs without
    analyses, :mod:`report.ars`, and have no ARD records)."""
    return [t for t in tables.values() if t.kind != "Listing"]


def analysis_catalogue(tables: dict[str, T.Table], iss) -> list[Analysis]:
    """Every analysis of the tables (not the listings, :func:`statistical`), table by table, in
    row order (each once): the header N of a table with group columns, then one per
    :func:`_row_key` of its cells."""
    out: list[Analysis] = []
    for table in statistical(tables):
        if any(c.group for c in table.columns):
            out.append(header_analysis(table))
        keys = dict.fromkeys(_row_key(table.name, r, c) for r, c in
                             zip(table.cells["row_id"].astype(str), table.cells["column"].astype(str)))
        severity = severity_variable(table.sources.get("ADAE", pd.DataFrame())) or "AESEV"
        out += [define_analysis(table.name, key, iss, severity=severity) for key in keys]
    return out


# --------------------------------------------------------------------------------------
# groups
# --------------------------------------------------------------------------------------
def group_variable(group: str, iss) -> str:
    """The variable a treatment group is in: a pooled group its pooled treatment TRTAGy (y its
    pooling level, adam.groups.pooled_levels), any other group TRTA."""
    levels = {g.label: y for y, g in enumerate(pooled_levels(iss), start=1)}
    return f"TRTAG{levels[group]}" if group in levels else "TRTA"


def group_where(dataset: str, group: str, iss) -> Condition:
    """The records a treatment group counts in ``dataset`` (as :func:`report.tables.in_groups`
    counts them): those whose TRTA is the group or, for a pooled group, whose TRTAGy is
    (:func:`group_variable`; a pooled group has no records of its own). ADAE, ADEX and ADAETTE
    select their own records; ADSL's participants are those of the group's ADEX records."""
    return eq("ADEX" if dataset == "ADSL" else dataset, group_variable(group, iss), group)


# --------------------------------------------------------------------------------------
# the ARD
# --------------------------------------------------------------------------------------
def cell_statistics(cells: pd.DataFrame) -> pd.DataFrame:
    """The tidy cells exploded into one record per statistic (see the module docstring, items
    1-3), each with ``order`` (its place in the cell's displayed text)."""
    base = cells.assign(order=0)
    counted = cells[cells["denominator"].notna()]
    pct = counted.assign(stat="pct", order=1, value=np.where(counted["denominator"] > 0,
                                                            100.0 * counted["value"] / counted["denominator"].where(
                                                                counted["denominator"] > 0, 1), np.nan))
    ci = cells[cells["lower"].notna() | cells["upper"].notna() | cells["stat"].isin(["eair", "rate_difference_mh"])]
    lower = ci.assign(stat=ci["stat"] + "_lower", order=2, value=ci["lower"], denominator=np.nan)
    upper = ci.assign(stat=ci["stat"] + "_upper", order=3, value=ci["upper"], denominator=np.nan)
    return pd.concat([base, pct, lower, upper], ignore_index=True)


def _pool(iss) -> str:
    """The analysis pool of the tables: empty (the whole ISS) until tables are made per pool."""
    return ""


def column_label(column: T.Column) -> str:
    """A column's displayed header on one line, under its spanning header if it has one
    (``Cream 1.5% (N=240) Mild``; the header N of such a group is labelled by the span alone)."""
    return " ".join(f"{column.span or ''} {column.header}".split())


def ard_frame(tables: dict[str, T.Table], iss, N: pd.Series) -> pd.DataFrame:
    """The Analysis Results Dataset of ``tables`` (:data:`ARD_COLUMNS`): table by table, the
    header N of each group column, then each cell's statistics in row, column and display order.
    ``N`` is the population count per group (:attr:`report.tables.Context.N`). Each analysis'
    and group's attributes are made once and joined to the statistics (no work per record)."""
    catalogue = analysis_catalogue(tables, iss)
    attributes = pd.DataFrame({"output_id": [a.output for a in catalogue], "_key": [a.key for a in catalogue],
                               "analysis_id": [a.id for a in catalogue], "method_id": [a.method for a in catalogue],
                               "dataset": [a.dataset for a in catalogue], "variable": [a.variable for a in catalogue],
                               "where": [a.where_text() for a in catalogue]})
    parts = []
    for table in statistical(tables):
        groups = list(dict.fromkeys(c.group for c in table.columns if c.group))
        header = pd.DataFrame({"row_id": T.HEADER_ROW, "row": -1, "row_label": "", "column": groups, "group": groups,
                               "stat": "N", "value": [float(N[g]) for g in groups], "denominator": np.nan,
                               "order": 0, "_key": "N"})
        header["text"] = [f"N={int(v)}" for v in header["value"]]
        stats = cell_statistics(table.cells).astype({"row_id": object, "column": object})
        cells = stats[["row_id", "column"]].drop_duplicates()
        cells["_key"] = [_row_key(table.name, r, c) for r, c in zip(cells["row_id"], cells["column"])]
        stats = stats.merge(cells, on=["row_id", "column"], how="left")
        frame = pd.concat([header, stats], ignore_index=True)
        frame["_col"] = frame["column"].map({c.key: i for i, c in enumerate(table.columns)}).fillna(-1)
        labels = {c.group: " ".join(c.span.split()) for c in table.columns if c.group and c.span}  # header N
        labels.update({c.key: column_label(c) for c in table.columns})
        frame["column_label"] = frame["column"].map(labels)
        frame = frame.sort_values(["row", "_col", "order"], kind="mergesort").assign(output_id=table.name)
        parts.append(frame.merge(attributes, on=["output_id", "_key"], how="left", validate="many_to_one"))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[*ARD_COLUMNS, "group"])
    out["operation_id"] = out["method_id"] + "_" + out["stat"]
    pairs = out[["dataset", "group"]].drop_duplicates()
    pairs = pairs[pairs["group"].notna() & (pairs["group"] != "")]
    pairs = pairs.assign(group_where=[group_where(d, g, iss).text(d) for d, g in zip(pairs["dataset"], pairs["group"])])
    out = out.merge(pairs, on=["dataset", "group"], how="left")
    out["group_where"] = out["group_where"].fillna("")
    out["pool"] = _pool(iss)
    out["analysis_set"] = ANALYSIS_SET
    return out[ARD_COLUMNS].reset_index(drop=True)


def ard_csv(ard: pd.DataFrame) -> bytes:
    """The ARD as CSV bytes (UTF-8, ``\\n`` line ends, numbers at full precision, missing empty)."""
    return ard.to_csv(index=False, lineterminator="\n", float_format=None).encode("utf-8")
