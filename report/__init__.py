"""report: the analysis results of the ISS and their rendering (the floor above define).

>>> import report
>>> tte = report.time_to_first_event(report.in_groups(analysis.datasets["ADAETTE"]))   # per subject x group
>>> rates = report.eair(tte, by=("PARAMCD", "TRTA"))                                 # EAIR with CIs
>>> diff = report.compare_rates(rates, control="Vehicle", treatments=["Cream 1.5%"])
>>> tables = report.build_tables(analysis)                                         # table frames
>>> files = report.write_report(analysis, "output/report", created=when)          # RTF, XLSX, HTML, figures

Holds:

* ``rates`` exposure-adjusted incidence and event rates, one-rate confidence intervals
  (``poisson_rate_ci``), crude incidence and treatment comparisons (``compare_rates``:
  crude and Mantel-Haenszel) — until this floor existed they were ``adam.eair`` etc.;
* ``tables`` the ISS table frames (demographics, exposure, TEAE overview, SOC/PT, serious
  TEAEs, EAIR of the events of interest): cells, rows, footnotes and each cell's ADaM records,
  and the counting context the other table modules share; ``adverse_events`` (by maximum
  severity, related, leading to discontinuation, AESIs by PT), ``disposition`` and
  ``listings`` (deaths, SAEs, AEs leading to discontinuation) build on it; ``catalogue`` is
  the report's order and the config's choice of tables (``build_tables``);
* ``render`` the tables as RTF (pages, "(continued)" and decimal alignment: ``rtf_pages``)
  and XLSX, one self-contained HTML report, the EAIR forest plot (PNG, SVG), ``iss-summary.json``
  and the table-cell lineage;
* ``ard`` the Analysis Results Dataset (every displayed statistic with its analysis, group,
  dataset and where clause) and the catalogue of the tables' analyses;
* ``ars`` the same analyses and results as a CDISC ARS 1.0 reporting event.

May import: ``specs``, ``fileformats``, ``sdtm``, ``adam`` and ``define``; never ``trialpack``
(tests/test_layering.py).
"""
from report.rates import compare_rates, crude_incidence, eair, event_rate, poisson_rate_ci, time_to_first_event
from report.render import write_report
from report.catalogue import build_tables
from report.tables import in_groups

__all__ = ["build_tables", "compare_rates", "crude_incidence", "eair", "event_rate", "in_groups", "poisson_rate_ci",
           "time_to_first_event", "write_report"]
