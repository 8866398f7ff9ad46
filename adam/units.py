"""Time units for exposure and time at risk.

The number of days in a year is defined here and nowhere else. standards.md §5.1:
"Patient-years: PY = days / 365.25 (tern uses 365.24 — pick 365.25 and keep it everywhere)".
365.25 is the Julian year, also used by admiral (``compute_duration(out_unit = "years")``)
and junco (``a_eair_j``); tern and metalite.ae divide by 365.24, so their patient-years are
larger by a factor 365.25 / 365.24 (about 2.7e-5 relative) and their rates smaller.
"""
from __future__ import annotations

DAYS_PER_YEAR = 365.25
"""Days per (patient-)year used for every patient-year computation in trialpack."""


def days_to_years(days):
    """Convert a duration in days to years (``days / DAYS_PER_YEAR``).

    Works element-wise on a number, a numpy array or a pandas Series (the Series keeps its
    index). Missing values stay missing; no rounding is applied.

    >>> days_to_years(1035)   # standards.md §5.4(a): 1035 days = 2.834 PY
    2.833675564681725
    """
    return days / DAYS_PER_YEAR
