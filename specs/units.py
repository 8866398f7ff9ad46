"""Time units shared by every floor: the number of days in a year is defined here and nowhere
else (adam.units re-exports it for exposure and time at risk; sdtm.ts converts ages with it).
standards.md §5.1: "Patient-years: PY = days / 365.25 (tern uses 365.24 — pick 365.25 and keep
it everywhere)". 365.25 is the Julian year, also used by admiral (``compute_duration(out_unit =
"years")``) and junco (``a_eair_j``); tern and metalite.ae divide by 365.24, so their
patient-years are larger by a factor 365.25 / 365.24 (about 2.7e-5 relative) and their rates
smaller.
"""
from __future__ import annotations

DAYS_PER_YEAR = 365.25
"""Days per year used for every year computation in trialpack (patient-years, ages in TS)."""
