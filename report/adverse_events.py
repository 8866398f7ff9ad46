"""ISS TEAE tables beyond the overview and SOC/PT table: by maximum severity, related, leading to
discontinuation of study treatment, and adverse events of special interest by preferred term.

They count as every table of :mod:`report.tables` does (its :class:`~report.tables.Context`:
N, groups, pooled groups, the all-active reference that orders rows) and keep each cell's
ADaM records as lineage:

* **by maximum severity** (ICH E3 14.3.1; FDA ISS guidance): SOC/PT rows, one column per
  group x severity; a participant counts once per row and group, at the most severe
  intensity of the row's TEAEs (ASEV where ADAE has it, else AESEV: MILD < MODERATE <
  SEVERE); a participant whose row TEAEs all lack a severity counts under "Missing". A cell's
  lineage is the row's records at the participant's maximum severity;
* **related**: TEAEs with ADAE.AREL = "RELATED" (the config's ``related_terms``), by SOC/PT;
* **leading to discontinuation of study treatment**: ADAE.AEACN = "DRUG WITHDRAWN", by SOC/PT;
* **AESIs by PT**: per adverse event of special interest (:func:`report.tables.aesi_events`:
  ADAE.CQzzNAM), participants with any of its TEAEs, then its PTs.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from adam.queries import aesi_variable
from report.tables import (CELL_COLUMNS, RECORD, SOC_PT_STUB, SUBJECT, Column, Context, Table, _common_footnotes,
                           _concat_lineage, _count_cells, _equals, _expand, _group_columns, _header_lineage, _lineage,
                           _adae_lineage, _pct_footnote, _population_text, _rows, _SORT, _soc_pt,
                           _sort_footnote, _stack, _subject_counts, _teae_footnote, _unassigned_note,
                           aesi_events, aesi_records, context, describe_event, format_n_pct, soc_pt_layout)

SEVERITIES = ("MILD", "MODERATE", "SEVERE")
"""AESEV/ASEV in increasing intensity (CDISC CT C66769)."""
MISSING_SEVERITY = "Missing"
DRUG_WITHDRAWN = "DRUG WITHDRAWN"
"""ADAE.AEACN of an AE that led to discontinuation of study treatment (CDISC CT C66767)."""


def severity_variable(adae: pd.DataFrame) -> str | None:
    """ASEV (the analysis severity) where ADAE has it, else AESEV; None without either."""
    return next((v for v in ("ASEV", "AESEV") if v in adae), None)


def severity_rank(values: pd.Series) -> np.ndarray:
    """1 MILD, 2 MODERATE, 3 SEVERE (any case); 0 missing or another value."""
    upper = values.astype("string").str.upper()
    rank = np.zeros(len(values), dtype=np.int64)
    for i, term in enumerate(SEVERITIES, start=1):
        rank[(upper == term).fillna(False).to_numpy(dtype=bool)] = i
    return rank


def severity_table(analysis, *, ctx: Context | None = None, number: int = 7) -> Table:
    """Participants with TEAEs by SOC, PT and maximum severity (see the module docstring).
    Rows as :func:`report.tables.soc_pt_table`; columns group x severity (MILD, MODERATE,
    SEVERE, and Missing where a TEAE has none); % = 100 x n / N of the group."""
    ctx = ctx or context(analysis)
    name = "teae-severity"
    adae = ctx.datasets["ADAE"]
    variable = severity_variable(adae)
    rank_of_record = severity_rank(adae[variable]) if variable else np.zeros(len(adae), dtype=np.int64)
    teae = ctx.teae if variable else ctx.teae.iloc[:0]
    expanded, _, rows = soc_pt_layout(ctx, teae, any_label="Participants with at least one TEAE")
    expanded = expanded[(expanded["_GROUP"] != _SORT).to_numpy(dtype=bool)]
    rank = rank_of_record[expanded[RECORD].to_numpy(dtype=np.int64)]
    keyed = pd.DataFrame({"row_id": expanded["row_id"].astype(object).to_numpy(),
                          "_GROUP": expanded["_GROUP"].astype(object).to_numpy(),
                          SUBJECT: expanded[SUBJECT].to_numpy(), RECORD: expanded[RECORD].to_numpy(), "_RANK": rank})
    worst = keyed.groupby(["row_id", "_GROUP", SUBJECT], sort=False)["_RANK"].transform("max")
    at_worst = keyed[(keyed["_RANK"] == worst).to_numpy()]
    per_subject = at_worst.drop_duplicates(["row_id", "_GROUP", SUBJECT])
    counts = per_subject.groupby(["row_id", "_GROUP", "_RANK"], sort=False).size().rename("n").reset_index()

    levels = [(i, term.capitalize()) for i, term in enumerate(SEVERITIES, start=1)]
    if variable and (rank_of_record[ctx.teae[RECORD].to_numpy(dtype=np.int64)] == 0).any():
        levels.append((0, MISSING_SEVERITY))
    columns, pieces = [], []
    value_rows = rows[~rows["is_header"]]
    for label in ctx.labels:
        N = int(ctx.N[label])
        for r, level in levels:
            key = f"{label}|{level}"
            columns.append(Column(key, level, group=label, span=f"{label} (N={N})"))
            got = counts[(counts["_GROUP"] == label).to_numpy() & (counts["_RANK"] == r).to_numpy()]
            n = value_rows["row_id"].map(got.set_index("row_id")["n"]).fillna(0).to_numpy(dtype=float)
            if not variable:
                n[:] = np.nan
            Ns = np.full(len(n), float(N))
            pieces.append(pd.DataFrame({
                "table": name, "row": value_rows["row"].to_numpy(), "row_id": value_rows["row_id"].to_numpy(),
                "row_label": value_rows["row_label"].to_numpy(), "indent": value_rows["indent"].to_numpy(),
                "column": key, "group": label, "stat": "n", "value": n, "lower": np.nan, "upper": np.nan,
                "denominator": Ns, "text": format_n_pct(n, Ns)}))
    cells = pd.concat(pieces, ignore_index=True)[CELL_COLUMNS].sort_values("row", kind="mergesort")
    level_name = dict(levels)
    column_keys = at_worst["_GROUP"] + "|" + at_worst["_RANK"].map(level_name)
    header = _header_lineage(ctx)  # every column of a group has the group's N
    headers = [header.assign(column=pd.Categorical(header["column"].astype(object) + f"|{level}"))
               for _, level in levels]
    lineage = _concat_lineage([*headers, _lineage(at_worst["row_id"], column_keys, "ADAE", at_worst[RECORD])])
    notes, lost = _unassigned_note(ctx)
    footnotes = [*_common_footnotes(ctx),
                 "n (%) = participants with at least one such event, each counted once per row and group at the "
                 f"maximum severity of the row's events (ADAE.{variable or 'AESEV'}: MILD < MODERATE < SEVERE); "
                 "% = 100 x n / N.",
                 _teae_footnote(ctx), _sort_footnote(ctx)]
    if not variable:
        footnotes.append("NA = not available: ADAE has no ASEV or AESEV.")
    if levels[-1][0] == 0:
        footnotes.append(f"{MISSING_SEVERITY}: participants whose events of the row all lack ADAE.{variable}.")
    footnotes += notes
    return Table(name, number, "Participants with treatment-emergent adverse events by system organ class, "
                 "preferred term and maximum severity", _population_text(ctx), SOC_PT_STUB, columns,
                 rows, cells.reset_index(drop=True), footnotes, lineage,
                 notes={"unassigned_teae_records": lost}, sources=ctx.datasets)


def related_teae_table(analysis, *, ctx: Context | None = None, number: int = 8) -> Table:
    """Participants with related TEAEs (ADAE.AREL = "RELATED") by SOC and PT, laid out and
    sorted as :func:`report.tables.soc_pt_table`."""
    ctx = ctx or context(analysis)
    terms = ctx.iss.get("related_terms")
    rule = ("investigator causality AEREL one of " + ", ".join(f'"{t}"' for t in terms) + ", or missing"
            if terms else "investigator causality AEREL missing" if terms is not None
            else "the default related terms, or AEREL missing")
    absent = None if "AREL" in ctx.teae else "AREL"
    records = ctx.teae if absent else ctx.teae[_equals(ctx.teae, "AREL", "RELATED").to_numpy(dtype=bool)]
    return _soc_pt(ctx, records, absent=absent,
                   name="related-teae-soc-pt", number=number,
                   title="Participants with treatment-related treatment-emergent adverse events by system organ "
                         "class and preferred term",
                   any_label="Participants with at least one related TEAE",
                   extra_footnotes=[f"Related: ADAE.AREL = \"RELATED\" ({rule})."])


def discontinuation_teae_table(analysis, *, ctx: Context | None = None, number: int = 9) -> Table:
    """Participants with TEAEs leading to discontinuation of study treatment (ADAE.AEACN =
    "DRUG WITHDRAWN") by SOC and PT, laid out and sorted as :func:`report.tables.soc_pt_table`."""
    ctx = ctx or context(analysis)
    absent = None if "AEACN" in ctx.teae else "AEACN"
    records = ctx.teae if absent else ctx.teae[_equals(ctx.teae, "AEACN", DRUG_WITHDRAWN).to_numpy(dtype=bool)]
    return _soc_pt(ctx, records, absent=absent,
                   name="discontinuation-teae-soc-pt", number=number,
                   title="Participants with treatment-emergent adverse events leading to discontinuation of study "
                         "treatment by system organ class and preferred term",
                   any_label="Participants with at least one TEAE leading to discontinuation",
                   extra_footnotes=[f"Leading to discontinuation of study treatment: ADAE.AEACN = "
                                    f"\"{DRUG_WITHDRAWN}\"."])


def aesi_pt_table(analysis, *, ctx: Context | None = None, number: int = 10) -> Table:
    """Participants with adverse events of special interest by PT: per AESI (config order), a
    row of participants with any of its TEAEs, then its PTs by descending frequency in the
    all-active reference, then alphabetically; n (%) per group."""
    ctx = ctx or context(analysis)
    name = "aesi-pt"
    events = aesi_events(ctx.iss)
    parts, row_meta = [], []
    keys = ctx.teae[["TRTA", RECORD, SUBJECT, "AEDECOD"]]
    for order, event in enumerate(events):
        records = keys[aesi_records(ctx.teae, event)]
        head = f"aesi|{event['paramcd']}"
        parts.append((head, records))
        row_meta.append((head, event["name"], 0, order, None))
        pts = records["AEDECOD"].astype(object).where(records["AEDECOD"].notna(), "Uncoded")
        for pt in sorted(set(pts)):
            rid = f"{head}|{pt}"
            parts.append((rid, records[(pts == pt).to_numpy()]))
            row_meta.append((rid, pt, 1, order, pt))
    if parts:
        expanded = _expand(_stack(parts), ctx)
        counts = _subject_counts(expanded, ["row_id"]).astype({"row_id": object, "_GROUP": object})
    else:
        expanded = pd.DataFrame(columns=["row_id", "_GROUP", RECORD, SUBJECT])
        counts = pd.DataFrame(columns=["row_id", "_GROUP", "n"])
    meta = pd.DataFrame(row_meta, columns=["row_id", "row_label", "indent", "_ORDER", "_PT"])
    ref = counts[counts["_GROUP"] == ctx.reference_key].set_index("row_id")["n"]
    meta["_REF"] = np.where(meta["indent"] == 0, np.inf, meta["row_id"].map(ref).fillna(0).astype(float))
    meta["_KEY"] = meta["_PT"].fillna("")
    meta = meta.sort_values(["_ORDER", "_REF", "_KEY"], ascending=[True, False, True], kind="mergesort")
    rows = _rows([(r, label, int(i), False) for r, label, i in zip(meta["row_id"], meta["row_label"], meta["indent"])])
    cells = _count_cells(rows, counts, ctx, name)
    lineage = _concat_lineage([_header_lineage(ctx), _adae_lineage(expanded) if len(expanded) else
                               _lineage([], [], "ADAE", [])])
    notes, lost = _unassigned_note(ctx)
    footnotes = [*_common_footnotes(ctx), _pct_footnote(), _teae_footnote(ctx),
                 *[f"{e['name']}: ADAE.{aesi_variable(e)}, {describe_event(e)}." for e in events],
                 "Preferred terms (ADAE.AEDECOD) within each event by descending frequency in the all-active "
                 "reference, then alphabetically.", *notes]
    if not events:
        footnotes.append("The ISS config defines no adverse events of special interest (events with \"cq\" or "
                         "\"smq\").")
    return Table(name, number, "Participants with adverse events of special interest by preferred term",
                 _population_text(ctx), "Adverse event of special interest\n  Preferred term", _group_columns(ctx),
                 rows, cells, footnotes, lineage, notes={"unassigned_teae_records": lost}, sources=ctx.datasets)

