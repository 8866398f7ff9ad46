"""Time units for exposure and time at risk. The number of days in a year is
:data:`specs.units.DAYS_PER_YEAR` (defined once for every floor; see its module)."""
from __future__ import annotations

from specs.units import DAYS_PER_YEAR

__all__ = ["DAYS_PER_YEAR", "days_to_years"]


def days_to_years(days):
    """Convert a duration in days to years (``days / DAYS_PER_YEAR``).

    Works element-wise on a number, a numpy array or a pandas Series (the Series keeps its
    index). Missing values stay missing; no rounding is applied.

    >>> days_to_years(1035)   # standards.md §5.4(a): 1035 days = 2.834 PY
    2.833675564681725
    """
    return days / DAYS_PER_YEAR
