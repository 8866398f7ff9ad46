"""The ISS tables in report order: which table functions make the report (:func:`build_tables`).

Each table function is ``f(analysis, *, ctx, number) -> Table`` (:class:`report.tables.Table`);
they live in :mod:`report.tables` (demographics, exposure, TEAE overview, SOC/PT, serious,
EAIR) and :mod:`report.adverse_events` (severity, related, discontinuation, AESIs by PT).
"""
from __future__ import annotations

from report import adverse_events as ae
from report import tables as T

TABLES = (("demographics", T.demographics_table), ("exposure", T.exposure_table),
          ("teae-overview", T.overview_table), ("teae-soc-pt", T.soc_pt_table),
          ("teae-severity", ae.severity_table), ("related-teae-soc-pt", ae.related_teae_table),
          ("serious-teae-soc-pt", T.serious_teae_table), ("discontinuation-teae-soc-pt", ae.discontinuation_teae_table),
          ("aesi-pt", ae.aesi_pt_table), ("aesi-eair", T.aesi_eair_table))
"""(table id, function) in report order; a table's number is its position among the tables made."""


def build_tables(analysis, *, ctx: T.Context | None = None) -> dict[str, T.Table]:
    """Every ISS table of the analysis, by name, in report order, numbered from 1."""
    ctx = ctx or T.context(analysis)
    tables = [build(analysis, ctx=ctx, number=number) for number, (_, build) in enumerate(TABLES, start=1)]
    return {t.name: t for t in tables}
