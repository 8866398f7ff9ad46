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
* ``tables`` the ISS table frames (exposure, TEAE overview, SOC/PT, serious TEAEs, EAIR of
  the events of interest): cells, rows, footnotes and each cell's ADaM records;
* ``render`` the tables as RTF and XLSX, one self-contained HTML report, the EAIR forest plot
  (PNG, SVG), ``iss-summary.json`` and the table-cell lineage. Later: ARD/ARS.

May import: ``specs``, ``fileformats``, ``sdtm``, ``adam`` and ``define``; never ``trialpack``
(tests/test_layering.py).
"""
from report.rates import compare_rates, crude_incidence, eair, event_rate, poisson_rate_ci, time_to_first_event
from report.render import write_report
from report.tables import build_tables, in_groups

__all__ = ["build_tables", "compare_rates", "crude_incidence", "eair", "event_rate", "in_groups", "poisson_rate_ci",
           "time_to_first_event", "write_report"]
