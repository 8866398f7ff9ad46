"""The ISS tables in report order: which table functions make the report (:func:`build_tables`).

Each table function is ``f(analysis, *, ctx, number) -> Table`` (:class:`report.tables.Table`);
they live in :mod:`report.tables` (demographics, exposure, TEAE overview, SOC/PT, serious,
EAIR), :mod:`report.adverse_events` (severity, related, discontinuation, AESIs by PT) and
:mod:`report.disposition` and :mod:`report.listings` (deaths, SAEs, AEs leading to discontinuation).
"""
from __future__ import annotations

from report import adverse_events as ae
from report import disposition as D
from report import listings as L
from report import tables as T

TABLES = (("demographics", T.demographics_table), ("disposition", D.disposition_table), ("exposure", T.exposure_table),
          ("teae-overview", T.overview_table), ("teae-soc-pt", T.soc_pt_table),
          ("teae-severity", ae.severity_table), ("related-teae-soc-pt", ae.related_teae_table),
          ("serious-teae-soc-pt", T.serious_teae_table), ("discontinuation-teae-soc-pt", ae.discontinuation_teae_table),
          ("aesi-pt", ae.aesi_pt_table), ("aesi-eair", T.aesi_eair_table))
"""(table id, function) in report order; a table's number is its position among the tables made."""
LISTINGS = (("listing-deaths", L.deaths_listing), ("listing-sae", L.sae_listing),
            ("listing-ae-discontinuation", L.discontinuation_listing))
"""(listing id, function) in report order, after the tables; listings are numbered apart."""


def table_ids() -> list[str]:
    """Every table and listing id, in report order (the ISS config's ``report.tables`` values)."""
    return [name for name, _ in (*TABLES, *LISTINGS)]


def chosen_tables(iss) -> set[str]:
    """The ids the ISS config's ``report.tables`` lists; left out, every id."""
    chosen = (iss.get("report") or {}).get("tables")
    return set(table_ids() if chosen is None else chosen)


def build_tables(analysis, *, ctx: T.Context | None = None) -> dict[str, T.Table]:
    """The ISS tables and listings the config asks for (:func:`chosen_tables`), by name, in
    report order; tables numbered from 1 and listings from 1 among those made."""
    ctx = ctx or T.context(analysis)
    chosen = chosen_tables(analysis.iss)
    made = []
    for outputs in (TABLES, LISTINGS):
        wanted = [build for name, build in outputs if name in chosen]
        made += [build(analysis, ctx=ctx, number=number) for number, build in enumerate(wanted, start=1)]
    return {t.name: t for t in made}
