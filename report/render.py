"""ISS report rendering: submission tables (RTF, XLSX), one self-contained HTML report, the
EAIR forest plot (PNG, SVG), ``iss-summary.json`` with the headline numbers and the
table-cell lineage file.

``write_report(analysis, out_dir)`` writes::

    out_dir/iss-report.html            every table and the figure; inline CSS and SVG, no
                                       scripts, no external resources
    out_dir/iss-summary.json           headline numbers, computed from the ADaM datasets
    out_dir/tables/<name>.rtf          one submission table per file (rtflite)
    out_dir/tables/<name>.xlsx         the same table, plus its tidy cells (openpyxl)
    out_dir/figures/eair-forest.png    EAIR with CIs by event of interest and group
    out_dir/figures/eair-forest.svg
    out_dir/lineage/table-cells.parquet  table cell -> the ADaM records it counts (Parquet:
                                       millions of records at 10,000 subjects, see
                                       :func:`lineage_parquet`)
    out_dir/results/ard.csv            the Analysis Results Dataset: every displayed
                                       statistic with its analysis, group, dataset and
                                       where clause (:mod:`report.ard`)
    out_dir/results/reporting-event.json  the same analyses, methods, where clauses, groups,
                                       outputs and results as a CDISC ARS 1.0 reporting
                                       event (:mod:`report.ars`)

The same analysis and ``created`` give the same bytes: the only timestamp is ``created``
(default: the ISS config's, see :meth:`adam.config.ISSConfig.created`), the XLSX zip
entries carry it too, and the figures are drawn with a fixed font and SVG hash salt and
without date metadata. matplotlib, rtflite and openpyxl are imported by the functions that
use them (start-up time of the CLI).
"""
from __future__ import annotations

import html
import io
import json
import math
import re
import warnings
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

from report import ard as ARD
from report import ars as ARS
from report import tables as T
from report.catalogue import build_tables
from specs.workbook import workbook_bytes

#: The writing tool's version, from its installed distribution: no import of the application.
TRIALPACK_VERSION = version("trialpack")
FIGURE_NAME = "eair-forest"
FONT = "DejaVu Sans"          # ships with matplotlib: the same glyphs on every machine
SVG_SALT = "trialpack"
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
"""Okabe-Ito colour-blind-safe palette, one colour per group in group order."""


# --------------------------------------------------------------------------------------
# the summary
# --------------------------------------------------------------------------------------
def _num(value) -> float | None:
    """A finite float for JSON, else None (JSON has no NaN or infinity)."""
    if value is None or pd.isna(value):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def iss_summary(analysis, *, tables: dict[str, T.Table] | None = None, created: datetime | None = None,
                ctx: T.Context | None = None) -> dict:
    """The headline numbers of the integrated analysis, computed from its ADaM datasets.

    ``participants``: subjects in the safety population (ADSL.SAFFL = "Y");
    ``patient_years``: total exposure (sum of ADEX TRTDURY) of the all-active group
    (:func:`report.tables.all_active_group`, named in ``all_cream_group``) and of each group;
    ``events``: one entry per event of interest (the ISS config's ``events``) and group,
    groups without subjects included (their rate and CI null), with subjects with the
    event and patient-years at risk (ADAETTE), events (ADAE records meeting the
    definition, recurrences counted) and the EAIR per 100 patient-years with its CI;
    ``comparisons``: every rate comparison (crude pooled and study-stratified
    Mantel-Haenszel); ``overview``: participants per row of the TEAE overview and group.
    """
    ctx = ctx or T.context(analysis)
    tables = tables if tables is not None else build_tables(analysis, ctx=ctx)
    iss = analysis.iss
    adsl = ctx.adsl
    safety = adsl[adsl["SAFFL"] == "Y"]
    rates = T.event_rates(analysis, ctx=ctx)
    comp = T.rate_comparisons(analysis, ctx=ctx)
    years = ctx.exposed_years
    by_group = years.groupby(years["TRTA"].astype(object))["AVAL"].sum().reindex(ctx.labels, fill_value=0.0)
    ref_label, ref_members, ref_in_config = ctx.reference
    all_py = float(by_group[ref_label]) if ref_in_config else float(by_group.reindex(list(ref_members)).sum())
    scale = 100.0 / float(iss.rates["per"])
    events = [{
        "event": r["event"], "paramcd": r["PARAMCD"], "group": r["TRTA"],
        "subjects": int(r["subjects_with_event"]), "events": int(r["events"]),
        "subjects_at_risk": int(r["subjects_at_risk"]), "participants_in_group": int(r["subjects_in_population"]),
        "patient_years_at_risk": float(r["patient_years_at_risk"]),
        "eair_per_100py": _num(r["eair"] * scale), "ci_lower": _num(r["ci_lower"] * scale),
        "ci_upper": _num(r["ci_upper"] * scale), "ci_method": r["ci_method"], "conf_level": float(r["conf_level"]),
        "crude_incidence_pct": _num(r["crude_incidence_pct"]),
    } for r in rates.to_dict("records")]
    comparisons = [{
        "event": r["event"], "paramcd": r["PARAMCD"], "treatment": r["TRTA"], "control": r["control"],
        "comparison": r["comparison"], "method": r["method"], "estimate": _num(r["estimate"]),
        "ci_lower": _num(r["ci_lower"]), "ci_upper": _num(r["ci_upper"]), "p_value": _num(r["p_value"]),
        "per": _num(r["per"]) if r["comparison"] == "rate difference" else None,
        "strata_used": None if pd.isna(r["strata_used"]) else int(r["strata_used"]),
    } for r in comp.to_dict("records")]
    overview = tables.get("teae-overview")
    overview_counts = {}
    if overview is not None:
        for row_id, part in overview.cells.groupby("row_id", sort=False):
            overview_counts[row_id] = {
                "label": str(part["row_label"].iloc[0]),
                "subjects": {g: (None if pd.isna(v) else int(v)) for g, v in zip(part["column"], part["value"])}}
    studies = sorted(safety["STUDYID"].dropna().astype(str).unique())
    return {
        "iss": iss.id,
        "title": iss.get("title"),
        "created": created.isoformat() if created else None,
        "tool": {"name": "trialpack", "version": TRIALPACK_VERSION},
        "participants": int(safety["USUBJID"].nunique()),
        "subjects_in_adsl": int(adsl["USUBJID"].nunique()),
        "studies": len(studies),
        "study_ids": studies,
        "all_cream_group": {"label": ref_label, "in_config": ref_in_config, "pools": list(ref_members),
                            "rule": "the group whose pools are exactly the non-control non-pooled groups; "
                                    "else the union of the non-control non-pooled groups"},
        "groups": [{"label": g.label, "number": g.number, "control": g.control, "pools": list(g.pools),
                    "participants": int(ctx.N[g.label]), "patient_years": float(by_group[g.label])}
                   for g in ctx.groups],
        "patient_years": {"all_cream": all_py, "by_group": {k: float(v) for k, v in by_group.items()}},
        "rates": {"per": float(iss.rates["per"]), "ci_method": iss.rates["ci_method"],
                  "conf_level": float(iss.rates["conf_level"]), "strata": iss.rates["strata"]},
        "events": events,
        "comparisons": comparisons,
        "overview": overview_counts,
        "unassigned_teae_records": int(overview.notes.get("unassigned_teae_records", 0)) if overview else 0,
    }


# --------------------------------------------------------------------------------------
# the figure
# --------------------------------------------------------------------------------------
def forest_rows(rates: pd.DataFrame, iss) -> pd.DataFrame:
    """The rows of the forest plot: the adverse events of special interest (events with a
    query variable, report.tables.aesi_events; every event of interest when there are none) x group, in config order."""
    aesi = [e["paramcd"] for e in T.aesi_events(iss)] or [e["paramcd"] for e in iss.events]
    return rates[rates["PARAMCD"].isin(aesi)].reset_index(drop=True)


def forest_figure(rates: pd.DataFrame, *, groups: list[str], per: float, conf_level: float, ci_method: str):
    """EAIR (point) and CI (line) per event (a labelled block) and group (colour);
    the numbers are printed at the right. Returns a matplotlib Figure (no pyplot state)."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    events = list(dict.fromkeys(rates["event"]))
    n_rows = max(len(rates) + len(events), 1)
    row_h, top, bottom = 0.28, 0.45, 0.9  # inches: per row, above the plot, below it (axis, label, legend)
    height = top + bottom + row_h * (n_rows + 0.6)
    fig = Figure(figsize=(10.0, height), dpi=100)
    longest = max([len(str(x)) for x in [*events, *groups]] or [10])
    left = min(max(0.05 + 0.0078 * longest, 0.16), 0.42)  # room for the labels (bold 9 pt: ~0.078 in a character)
    ax = fig.add_axes((left, bottom / height, 0.70 - left, row_h * (n_rows + 0.6) / height))
    color = {g: COLORS[i % len(COLORS)] for i, g in enumerate(groups)}
    y, ticks, labels, bold = 0.0, [], [], []
    positions = []
    for event in events:
        ticks.append(y), labels.append(event), bold.append(True)
        y -= 1
        for g in rates.loc[rates["event"] == event, "TRTA"]:
            ticks.append(y), labels.append(g), bold.append(False)
            positions.append(y)
            y -= 1
    part = rates.assign(_y=positions)
    finite_hi = part["ci_upper"].replace([np.inf], np.nan)
    xmax = float(np.nanmax(np.r_[finite_hi.to_numpy(dtype=float), part["eair"].to_numpy(dtype=float), 1.0]))
    for g, rows in part.groupby("TRTA", sort=False):
        ok = rows["eair"].notna().to_numpy()
        rows = rows[ok]
        lo = rows["ci_lower"].fillna(rows["eair"]).to_numpy(dtype=float)
        hi = rows["ci_upper"].replace([np.inf], np.nan).fillna(rows["eair"]).to_numpy(dtype=float)
        ax.hlines(rows["_y"], lo, hi, color=color[g], linewidth=1.6)
        ax.plot(rows["eair"], rows["_y"], linestyle="none", marker="s", markersize=5.5, color=color[g])
    texts = T.format_estimate_ci(part["eair"], part["ci_lower"], part["ci_upper"])
    for yy, n, py, text in zip(part["_y"], part["subjects_with_event"], part["patient_years_at_risk"], texts):
        ax.annotate(f"{int(n)} / {T.round_half_up(py, 1)}", xy=(0.72, yy), xycoords=("figure fraction", "data"),
                    va="center", ha="left", fontsize=8)
        ax.annotate(text, xy=(0.82, yy), xycoords=("figure fraction", "data"), va="center", ha="left", fontsize=8)
    head_y = 0.9
    ax.annotate("n / PY at risk", xy=(0.72, head_y), xycoords=("figure fraction", "data"), va="center", ha="left",
                fontsize=8, fontweight="bold")
    ax.annotate(f"EAIR ({T.confidence_text(conf_level)}% CI)", xy=(0.82, head_y), xycoords=("figure fraction", "data"),
                va="center", ha="left", fontsize=8, fontweight="bold")
    ax.set_yticks(ticks, labels)
    for tick, is_bold in zip(ax.get_yticklabels(), bold):
        tick.set_fontweight("bold" if is_bold else "normal")
        tick.set_fontsize(9 if is_bold else 8.5)
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(y + 0.5, head_y + 0.3)
    ax.set_xlim(0, xmax * 1.05)
    ax.set_xlabel(f"EAIR per {per:g} patient-years ({T.confidence_text(conf_level)}% CI: {ci_method})", fontsize=8.5)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    handles = [Line2D([], [], color=color[g], marker="s", linewidth=1.6, markersize=5.5, label=g) for g in groups]
    fig.legend(handles=handles, loc="lower center", ncol=min(len(groups), 6), frameon=False, fontsize=8.5,
               bbox_to_anchor=(0.5, 0.02 / height))
    return fig


def render_figure(rates: pd.DataFrame, iss, groups: list[str]) -> tuple[bytes, bytes]:
    """The forest plot as (PNG bytes, SVG bytes), byte-reproducible."""
    import matplotlib

    rows = forest_rows(rates, iss)
    settings = iss.rates
    from report.rates import CI_METHODS

    with matplotlib.rc_context({"font.family": FONT, "svg.hashsalt": SVG_SALT, "svg.fonttype": "path",
                                "path.simplify": False}):
        fig = forest_figure(rows, groups=groups, per=float(settings["per"]), conf_level=float(settings["conf_level"]),
                            ci_method=CI_METHODS[settings["ci_method"]])
        png, svg = io.BytesIO(), io.BytesIO()
        fig.savefig(png, format="png", dpi=150, metadata={"Software": None})
        fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
    return png.getvalue(), svg.getvalue()


# --------------------------------------------------------------------------------------
# RTF
# --------------------------------------------------------------------------------------
def rtf_escape(text: str) -> str:
    """Text as RTF: backslash and braces escaped, line breaks as \\line (non-ASCII is
    written as \\uN by rtflite)."""
    text = str(text).replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}")
    return text.replace("\n", "\\line ")


def _source_line(table: T.Table, iss, created: datetime | None) -> str:
    when = f" on {created.isoformat()}" if created else ""
    return (f"Source: ISS ADaM ADSL, ADAE, ADEX, ADAETTE ({iss.id}); cell lineage in lineage/table-cells.parquet. "
            f"trialpack {TRIALPACK_VERSION}{when}.")


def _report_footnotes(iss) -> list[str]:
    return list((iss.get("report") or {}).get("footnotes", []))


def _report_title(iss) -> str:
    return (iss.get("report") or {}).get("title") or iss.get("title") or iss.id


def _col_widths(table: T.Table) -> list[float]:
    stub = 3.2 if len(table.columns) <= 4 else 2.6
    return [stub] + [1.6 if c.key.startswith(("eair", "diff")) else 1.0 for c in table.columns]


def render_rtf(table: T.Table, iss, *, created: datetime | None = None) -> bytes:
    """One table as an RTF document laid out as a submitted table: landscape US letter,
    1-inch margins, "Page x of y" at the top right, three centred title lines (the ISS
    title, table number and title, population), bordered column headers, the body with
    indented row labels and bold section rows, numbers decimal-aligned, footnotes and a
    source line on the last page.

    Pages are made by :func:`report.rtf_pages.paginate` (a section split over pages is
    repeated with "(continued)") and each rendered by rtflite as a table of its own; the pages
    are joined with rtflite's page break into one document."""
    from report import rtf_pages as P

    grid = table.grid()
    keys = [c.key for c in table.columns]
    widths = _col_widths(table)
    inches = [w * RTF_TABLE_WIDTH / sum(widths) for w in widths]
    columns = [P.decimal_aligned(list(grid[key])) for key in keys]
    indents = [P.centring_indent(col, width) for col, width in zip(columns, inches[1:])]
    rows = [P.Row(label, int(level), bool(is_header), [col[i] for col in columns])
            for i, (label, level, is_header) in enumerate(zip(grid["row_label"], grid["indent"], grid["is_header"]))]
    headers = _rtf_headers(table, widths)
    header_lines = sum(P.lines_of(h.text, inches) for h in headers)
    pages = P.paginate(rows, inches, header_lines=header_lines) if rows else [[]]
    texts = [_rtf_page(table, iss, page, widths, indents, headers, last=(i == len(pages) - 1), created=created)
             for i, page in enumerate(pages)]
    return _join_rtf_pages(texts).encode("ascii", errors="strict")


RTF_TABLE_WIDTH = 8.5
"""rtflite's table width on a landscape page (inches), over which the relative widths spread."""
RTF_PAGE_BREAK = "{\\pard\\fs2\\par}\\page{\\pard\\fs2\\par}\n"
"""What rtflite writes between two pages of one table."""


def _rtf_headers(table: T.Table, widths: list[float]) -> list:
    import rtflite as rtf

    keys = [c.key for c in table.columns]
    headers = []
    if any(c.span for c in table.columns):
        texts, rel = [""], [widths[0]]
        for c, w in zip(table.columns, widths[1:]):
            if texts[-1] == rtf_escape(c.span or "") and len(texts) > 1:
                rel[-1] += w
            else:
                texts.append(rtf_escape(c.span or "")), rel.append(w)
        headers.append(rtf.RTFColumnHeader(text=texts, col_rel_width=rel, text_convert=False,
                                           text_font_size=[9] * len(texts)))
    headers.append(rtf.RTFColumnHeader(
        text=[rtf_escape(table.stub_header)] + [rtf_escape(c.header) for c in table.columns],
        col_rel_width=widths, text_convert=False, text_justification=["l"] + ["c"] * len(keys),
        text_font_size=[9] * (len(keys) + 1)))
    return headers


def _rtf_page(table: T.Table, iss, rows: list, widths: list[float], indents: list[int], headers: list, *,
              last: bool, created: datetime | None) -> str:
    """One page of a table as an rtflite document (footnotes and source on the last page)."""
    import polars as pl
    import rtflite as rtf

    n_cols = len(widths)
    body = {"__stub__": [rtf_escape(r.label) for r in rows]}
    for i in range(n_cols - 1):
        body[f"c{i}"] = [rtf_escape(r.texts[i]) for r in rows]
    n_rows = max(len(rows), 1)
    indent = [[r.indent * 240] + indents for r in rows] or [[0] * n_cols]
    fmt = [["b" if r.is_header else ""] + [""] * (n_cols - 1) for r in rows] or [[""] * n_cols]
    just = [["l"] * n_cols] * n_rows
    extra = {}
    if last:
        footnotes = [rtf_escape(f) for f in [*table.footnotes, *_report_footnotes(iss)]]
        extra = {"rtf_footnote": rtf.RTFFootnote(text=footnotes, text_convert=False,
                                                 text_font_size=[8] * len(footnotes)),
                 "rtf_source": rtf.RTFSource(text=[rtf_escape(_source_line(table, iss, created))],
                                             text_convert=False, text_font_size=[8])}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydantic serialiser chatter inside rtflite
        doc = rtf.RTFDocument(
            df=pl.DataFrame(body),
            rtf_page=rtf.RTFPage(orientation="landscape", margin=[1.0, 1.0, 1.0, 1.0, 0.5, 0.5],
                                 nrow=10 * (len(rows) + 50)),  # the page is made here: rtflite never splits it
            rtf_page_header=rtf.RTFPageHeader(text_font_size=[9]),
            rtf_title=rtf.RTFTitle(text=[rtf_escape(_report_title(iss)), rtf_escape(table.caption),
                                         rtf_escape(table.population)], text_convert=False,
                                   text_font_size=[10, 10, 10]),
            rtf_column_header=headers,
            rtf_body=rtf.RTFBody(col_rel_width=widths, text_justification=just, text_indent_left=indent,
                                 text_format=fmt, text_convert=False, text_font_size=[[9] * n_cols]),
            **extra)
        return doc.rtf_encode()


def _join_rtf_pages(texts: list[str]) -> str:
    """rtflite documents of one page each as one document: the first whole, each next one's
    page (from its page setup, ``\\paperw``) after a page break."""
    out = texts[0]
    for text in texts[1:]:
        out = out.rstrip()[:-1] + RTF_PAGE_BREAK + text[text.index("\\paperw"):]
    return out


# --------------------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------------------
def render_xlsx(table: T.Table, iss, *, created: datetime | None = None) -> bytes:
    """One table as a workbook: sheet "Table N" laid out as the submitted table (titles,
    header rows, indented row labels, footnotes, source), sheet "cells" with the tidy cell
    frame (numbers and texts). Text is always a text cell (``=`` ``+`` ``-`` ``@`` never
    start a formula: specs.workbook.write_cell)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    from specs.workbook import write_cell

    wb = Workbook()
    ws = wb.active
    ws.title = f"{table.kind} {table.number}"
    grid = table.grid()
    keys = [c.key for c in table.columns]
    bold, thin = Font(bold=True), Side(style="thin")
    lines = [_report_title(iss), table.caption, table.population]
    for r, text in enumerate(lines, start=1):
        write_cell(ws.cell(r, 1), text)
        ws.cell(r, 1).font = bold if r == 2 else Font()
    row = len(lines) + 2
    if any(c.span for c in table.columns):
        for j, c in enumerate(table.columns, start=2):
            if c.span:
                write_cell(ws.cell(row, j), c.span)
                ws.cell(row, j).alignment = Alignment(horizontal="center")
        row += 1
    header_row = row
    write_cell(ws.cell(row, 1), table.stub_header)
    for j, c in enumerate(table.columns, start=2):
        write_cell(ws.cell(row, j), c.header)
    for j in range(1, len(keys) + 2):
        cell = ws.cell(row, j)
        cell.font = bold
        cell.alignment = Alignment(horizontal="left" if j == 1 else "center", vertical="bottom", wrap_text=True)
        cell.border = Border(top=thin, bottom=thin)
    for label, level, is_header, texts in zip(grid["row_label"], grid["indent"], grid["is_header"],
                                              grid[keys].to_numpy().tolist()):
        row += 1
        write_cell(ws.cell(row, 1), label)
        ws.cell(row, 1).alignment = Alignment(indent=int(level) * 2)
        if is_header:
            ws.cell(row, 1).font = bold
        for j, text in enumerate(texts, start=2):
            if text != "":
                write_cell(ws.cell(row, j), text)
            ws.cell(row, j).alignment = Alignment(horizontal="center")
    for j in range(1, len(keys) + 2):
        ws.cell(row, j).border = Border(bottom=thin)
    row += 1
    for note in [*table.footnotes, *_report_footnotes(iss), _source_line(table, iss, created)]:
        row += 1
        write_cell(ws.cell(row, 1), note)
    ws.column_dimensions["A"].width = 58
    for j, key in enumerate(keys, start=2):
        ws.column_dimensions[get_column_letter(j)].width = 24 if key.startswith(("eair", "diff")) else 16
    ws.row_dimensions[header_row].height = 30
    ws.freeze_panes = ws.cell(header_row + 1, 2)

    cells = wb.create_sheet("cells")
    columns = T.CELL_COLUMNS
    for j, name in enumerate(columns, start=1):
        write_cell(cells.cell(1, j), name)
        cells.cell(1, j).font = bold
    values = table.cells[columns].astype(object).where(table.cells[columns].notna(), None)
    for i, record in enumerate(values.to_numpy().tolist(), start=2):
        for j, value in enumerate(record, start=1):
            if isinstance(value, (np.integer, np.floating)):
                value = value.item()
            write_cell(cells.cell(i, j), value)
    return workbook_bytes(wb, created)


# --------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------
CSS = """
:root { --ink: #1d2330; --muted: #5b6472; --rule: #1d2330; --faint: #e4e7ec; --accent: #0b4f8a; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #f6f7f9;
       font: 14px/1.45 "Segoe UI", "Helvetica Neue", Arial, "Liberation Sans", sans-serif; }
main { max-width: 1280px; margin: 0 auto; padding: 28px 36px 48px; background: #fff; }
header.report { border-bottom: 3px solid var(--accent); padding-bottom: 14px; margin-bottom: 20px; }
header.report h1 { font-size: 24px; margin: 0 0 4px; line-height: 1.25; }
header.report p { margin: 2px 0; color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; margin: 18px 0 8px; }
.card { border: 1px solid var(--faint); border-left: 4px solid var(--accent); padding: 10px 14px; border-radius: 3px; }
.card .value { font-size: 22px; font-weight: 600; }
.card .label { color: var(--muted); font-size: 12.5px; }
nav.toc ol { margin: 6px 0 0 18px; padding: 0; columns: 2; }
nav.toc a { color: var(--accent); text-decoration: none; }
section.output { margin: 34px 0 0; page-break-inside: avoid; }
section.output h2 { font-size: 16px; margin: 0 0 2px; }
section.output p.population { margin: 0 0 8px; color: var(--muted); }
table.iss { border-collapse: collapse; width: 100%; font-size: 13px; font-variant-numeric: tabular-nums; }
table.iss thead th { border-top: 2px solid var(--rule); border-bottom: 1px solid var(--rule); padding: 6px 8px;
                     vertical-align: bottom; font-weight: 600; text-align: center; }
table.iss thead th.stub { text-align: left; }
table.iss thead tr.span th { border-bottom: 1px solid var(--faint); border-top: 2px solid var(--rule); }
table.iss td { padding: 3px 8px; text-align: center; white-space: nowrap; }
table.iss td.stub { text-align: left; white-space: normal; }
table.iss tbody tr:last-child td { border-bottom: 2px solid var(--rule); }
table.iss tbody tr.section td { font-weight: 600; padding-top: 9px; }
table.iss tbody tr:hover td { background: #f1f5fa; }
ol.footnotes { margin: 8px 0 0; padding-left: 20px; color: var(--muted); font-size: 12px; }
ol.footnotes li { margin: 2px 0; }
p.source { color: var(--muted); font-size: 12px; margin: 6px 0 0; }
figure { margin: 8px 0 0; }
figure svg { width: 100%; height: auto; max-width: 1000px; display: block; }
figcaption { color: var(--muted); font-size: 12px; margin-top: 6px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--faint);
         padding-top: 10px; }
@media print { body { background: #fff; } main { padding: 0; } section.output { page-break-before: always; } }
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _html_text(text: str) -> str:
    return "<br>".join(_e(part) for part in str(text).split("\n"))


def html_table(table: T.Table) -> str:
    """One table as an HTML ``<table>`` with its caption, population, footnotes."""
    grid = table.grid()
    keys = [c.key for c in table.columns]
    head = []
    spans = any(c.span for c in table.columns)
    if spans:
        cells, last = [], None
        for c in table.columns:
            if cells and c.span == last:
                cells[-1][1] += 1
            else:
                cells.append([c.span or "", 1])
            last = c.span
        head.append('<tr class="span"><th class="stub" rowspan="2">' + _html_text(table.stub_header) + "</th>"
                    + "".join(f'<th colspan="{n}">{_e(s)}</th>' for s, n in cells) + "</tr>")
        head.append("<tr>" + "".join(f'<th scope="col">{_html_text(c.header)}</th>' for c in table.columns) + "</tr>")
    else:
        head.append('<tr><th class="stub" scope="col">' + _html_text(table.stub_header) + "</th>"
                    + "".join(f'<th scope="col">{_html_text(c.header)}</th>' for c in table.columns) + "</tr>")
    body = []
    for rid, label, level, is_header, texts in zip(grid["row_id"], grid["row_label"], grid["indent"],
                                                   grid["is_header"], grid[keys].to_numpy().tolist()):
        pad = f' style="padding-left:{8 + 18 * int(level)}px"' if int(level) else ""
        cls = ' class="section"' if is_header else ""
        tds = "".join(f'<td data-column="{_e(k)}">{_e(t)}</td>' for k, t in zip(keys, texts))
        body.append(f'<tr{cls} data-row-id="{_e(rid)}"><td class="stub"{pad}>{_e(label)}</td>{tds}</tr>')
    notes = "".join(f"<li>{_e(n)}</li>" for n in table.footnotes)
    return (f'<section class="output" id="table-{_e(table.name)}">\n'
            f"<h2>{_e(table.caption)}</h2>\n<p class=\"population\">{_e(table.population)}</p>\n"
            f'<table class="iss" data-table="{_e(table.name)}">\n<thead>\n' + "\n".join(head)
            + "\n</thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>\n"
            f'<ol class="footnotes">{notes}</ol>\n</section>')


def inline_svg(svg: bytes) -> str:
    """matplotlib's SVG as inline markup: no XML prolog, DOCTYPE or metadata element."""
    text = svg.decode("utf-8")
    text = text[text.index("<svg"):]
    return re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)


def _fmt_py(value: float) -> str:
    return T.round_half_up(value, 2)


def render_html(tables: dict[str, T.Table], summary: dict, svg: bytes, iss, *, created: datetime | None) -> str:
    """The self-contained report: header and key figures, contents, every table, the figure."""
    title = _report_title(iss)
    groups = summary["groups"]
    ref = summary["all_cream_group"]["label"]
    cards = [(f"{summary['participants']:,}", "participants (safety population)"),
             (str(summary["studies"]), "studies pooled"),
             (_fmt_py(summary["patient_years"]["all_cream"]), f"patient-years on {ref}")]
    cards += [(_fmt_py(g["patient_years"]), f"patient-years, {g['label']} (N={g['participants']})")
              for g in groups if g["label"] != ref]
    card_html = "".join(f'<div class="card"><div class="value">{_e(v)}</div><div class="label">{_e(k)}</div></div>'
                        for v, k in cards)
    toc = [f'<li><a href="#table-{_e(t.name)}">{_e(t.caption)}</a></li>' for t in tables.values()]
    figure_title = "Figure 1. Exposure-adjusted incidence rates of adverse events of special interest"
    toc.append(f'<li><a href="#figure-{FIGURE_NAME}">{_e(figure_title)}</a></li>')
    meta = [f"{iss.id} \u00b7 integrated summary of safety \u00b7 studies: {', '.join(summary['study_ids'])}"]
    if iss.get("sponsor"):
        meta.insert(0, iss.get("sponsor"))
    if created:
        meta.append(f"Created {created.isoformat()} with trialpack {TRIALPACK_VERSION}")
    fig = (f'<section class="output" id="figure-{FIGURE_NAME}">\n<h2>{_e(figure_title)}</h2>\n'
           f'<p class="population">{_e(next(iter(tables.values())).population) if tables else ""}</p>\n'
           f'<figure>{inline_svg(svg)}<figcaption>Points: EAIR per {summary["rates"]["per"]:g} patient-years; '
           f"lines: {T.confidence_text(summary['rates']['conf_level'])}% CI "
           f"({_e(summary['events'][0]['ci_method'] if summary['events'] else '')}). Definitions as in Table "
           f"{tables['aesi-eair'].number if 'aesi-eair' in tables else ''}."
           "</figcaption></figure>\n</section>")
    footer = ("Every number is computed from the ISS ADaM datasets (ADSL, ADAE, ADEX, ADAETTE); the ADaM records "
              "behind each table cell are listed in lineage/table-cells.parquet. Submission versions of the tables: "
              "tables/*.rtf and tables/*.xlsx.")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
            f'<header class="report"><h1>{_e(title)}</h1>'
            + "".join(f"<p>{_e(m)}</p>" for m in meta) + "</header>\n"
            f'<div class="cards">{card_html}</div>\n'
            f'<nav class="toc"><strong>Contents</strong><ol>{"".join(toc)}</ol></nav>\n'
            + "\n".join(html_table(t) for t in tables.values()) + "\n" + fig + "\n"
            f"<footer>{_e(footer)}</footer>\n</main>\n</body>\n</html>\n")


# --------------------------------------------------------------------------------------
# everything
# --------------------------------------------------------------------------------------
def _json_bytes(data: dict) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def lineage_parquet(tables: dict[str, T.Table]) -> bytes:
    """The tables' cell lineage (:func:`report.tables.lineage_table`) as Parquet bytes, zstd.

    Parquet rather than CSV: one record per table cell x ADaM record is 2 million records
    (240 MB of CSV) at 10,000 subjects and ten times that at 100,000; as Parquet it is a few
    MB, typed (AESEQ an integer) and read by pandas, R (arrow), SAS Viya and DuckDB. The
    same tables give the same bytes (no timestamps in the file)."""
    import pyarrow.parquet as pq

    sink, writer = io.BytesIO(), None
    for part in T.lineage_parts(tables):  # one table's records at a time, each its own row group(s)
        writer = writer or pq.ParquetWriter(sink, part.schema, compression="zstd")
        writer.write_table(part)
    if writer is None:
        return b""
    writer.close()
    return sink.getvalue()


def write_report(analysis, out_dir, *, created: datetime | None = None) -> dict[str, Path]:
    """Write the report folder (see the module docstring); returns relative name -> path."""
    out = Path(out_dir)
    created = created if created is not None else analysis.iss.created()
    ctx = T.context(analysis)
    tables = build_tables(analysis, ctx=ctx)
    summary = iss_summary(analysis, tables=tables, created=created, ctx=ctx)
    rates = T.event_rates(analysis, ctx=ctx)
    png, svg = render_figure(rates, analysis.iss, ctx.labels)
    files: dict[str, bytes] = {
        "iss-summary.json": _json_bytes(summary),
        f"figures/{FIGURE_NAME}.png": png,
        f"figures/{FIGURE_NAME}.svg": svg,
    }
    for table in tables.values():
        files[f"tables/{table.name}.rtf"] = render_rtf(table, analysis.iss, created=created)
        files[f"tables/{table.name}.xlsx"] = render_xlsx(table, analysis.iss, created=created)
    files["lineage/table-cells.parquet"] = lineage_parquet(tables)
    ard = ARD.ard_frame(tables, analysis.iss, ctx.N)
    files["results/ard.csv"] = ARD.ard_csv(ard)
    files["results/reporting-event.json"] = _json_bytes(ARS.reporting_event(tables, analysis.iss, ard,
                                                                            name=_report_title(analysis.iss)))
    files["iss-report.html"] = render_html(tables, summary, svg, analysis.iss, created=created).encode("utf-8")
    written = {}
    for name, data in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written[name] = path
    return dict(sorted(written.items()))
