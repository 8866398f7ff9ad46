"""ISS disposition table (ICH E3 10.1, 14.1): participants who completed or discontinued the
study, with the reason for discontinuation, per group, from ADSL.

Rule (ADSL end-of-study variables, :func:`adam.adsl.derive_end_of_study`), per participant of
a group's population (the N of every table, :func:`report.tables._participants`):

1. EOSSTT = "COMPLETED" -> completed the study;
2. EOSSTT = "DISCONTINUED" -> discontinued, under its reason DCSREAS (the DS decode of the
   last disposition event; a missing reason shown as "Missing");
3. EOSSTT = "ONGOING" (no disposition event yet) -> ongoing.

A participant is counted in every group they received (a vehicle -> cream switcher in both),
with their one study-level disposition; % = 100 x n / N. Screen failures (DM subjects neither
randomised nor treated) are not in ADSL and not counted here; randomised participants who were
never treated (ADSL.SAFFL = "N") are outside every group's N and are given in a footnote.
ADSL carries no per-period disposition (ADaMIG EOPxxSTT/DCPxxRS), so the table is study-level.
"""
from __future__ import annotations

import pandas as pd

from report.tables import (MISSING, Context, Table, _bds_lineage, _common_footnotes, _concat_lineage,
                           _count_cells, _equals, _group_columns, _header_lineage, _participants,
                           _population_text, _rows, context)

STATUS_ROWS = (("COMPLETED", "Completed the study"), ("DISCONTINUED", "Discontinued the study"),
               ("ONGOING", "Ongoing in the study"))
"""EOSSTT values, in display order, with their row labels."""


def disposition_table(analysis, *, ctx: Context | None = None, number: int = 2) -> Table:
    """Disposition per group (see the module docstring): completed, discontinued with one row
    per reason (DCSREAS, alphabetically, Missing last), ongoing when any participant is."""
    ctx = ctx or context(analysis)
    name = "disposition"
    people = _participants(ctx, [v for v in ("EOSSTT", "DCSREAS") if v in ctx.adsl])
    # an ADSL variable nobody has may be dropped: no EOSSTT shows NA; no DCSREAS (nobody discontinued) no reason
    people = people.assign(**{v: None for v in ("EOSSTT", "DCSREAS") if v not in people})
    status = people["EOSSTT"].astype(object)
    row_records, counts, lineage = [], [], [_header_lineage(ctx)]

    def count(rid: str, label: str, indent: int, hit: pd.DataFrame) -> None:
        row_records.append((rid, label, indent, False))
        counts.append(hit.groupby("TRTA")["USUBJID"].nunique().rename("n").rename_axis("_GROUP").reset_index()
                      .assign(row_id=rid))
        lineage.append(_bds_lineage(hit, rid, hit["TRTA"], "ADSL"))

    for value, label in STATUS_ROWS:
        hit = people[(status == value).to_numpy()]
        if value == "ONGOING" and not len(hit):
            continue
        count(value, label, 0, hit)
        if value == "DISCONTINUED":
            reasons = hit["DCSREAS"].astype(object)
            for reason in sorted(set(reasons.dropna().astype(str))):
                count(f"DISCONTINUED|{reason}", reason.capitalize(), 1, hit[(reasons == reason).to_numpy()])
            if reasons.isna().any():
                count(f"DISCONTINUED|{MISSING}", MISSING, 1, hit[reasons.isna().to_numpy()])
    rows = _rows(row_records)
    collected = "EOSSTT" in ctx.adsl
    cells = _count_cells(rows, pd.concat(counts, ignore_index=True), ctx, name,
                         frozenset() if collected else set(rows["row_id"]))
    untreated = int((~_equals(ctx.adsl, "SAFFL", "Y")).sum())
    unknown = int(status.isna().sum()) if collected else 0
    footnotes = [*_common_footnotes(ctx),
                 "n (%) = participants; % = 100 x n / N. A participant who received more than one group's treatment "
                 "is counted in each, with their one end-of-study status.",
                 "Completed / discontinued: ADSL.EOSSTT (the participant's last disposition event in DS); reason for "
                 "discontinuation: ADSL.DCSREAS (the event's DSDECOD).",
                 "Screen failures (neither randomised nor treated) are not in ADSL and not counted. ADSL has no "
                 "per-period disposition: the table is study-level."]
    if not collected:
        footnotes.append("NA = not available: ADSL has no EOSSTT.")
    if untreated:
        footnotes.append(f"{untreated} participant(s) in ADSL were never treated (ADSL.SAFFL = \"N\") and are in no "
                         f"group's N.")
    if unknown:
        footnotes.append(f"{unknown} participant x group record(s) have no ADSL.EOSSTT and are in no row.")
    return Table(name, number, "Disposition of participants", _population_text(ctx), "Disposition",
                 _group_columns(ctx), rows, cells, footnotes, _concat_lineage(lineage), sources=ctx.datasets)
