"""EPOCH (SDTMIG v3.4 §4.1.3.1, standards.md §3.6) from each subject's own timeline.

A subject's epochs are windows of days built from DM and EX, as SE elements would be:

1. before-treatment epoch (config ``epochs.before_treatment``, default SCREENING):
   informed consent to the day before the first dose (to the end, if never treated);
2. one epoch per treatment period (config ``periods[].epoch``): the first dose of the
   period to the day before the next period's first dose; the last period ends with the
   last dose;
3. after-treatment epoch (default FOLLOW-UP): the day after the last dose onwards.

A date gets the epoch of the window holding it. Events and findings before informed
consent get no epoch. Dates are never imputed: a partial date gets an epoch only when
every day it can denote lies in the same window (``2021-05`` wholly inside period 1),
otherwise EPOCH is null. An event cannot start after it ended: the days a partial start
can denote end at the latest day its end date can denote (FDA FB2201, CORE-000701: AESTDTC
``2022-07`` with AEENDTC 2022-07-04 can only be 1..4 July, wholly in the treatment period
when the last dose was 29 July).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from sdtm.common import text
from sdtm.config import StudyConfig
from specs.iso8601 import date_bounds, date_fields, to_epoch_days

WINDOW_COLUMNS = ["USUBJID", "EPOCH", "START", "END", "WINDOW"]


def epoch_windows(dm: pd.DataFrame, ex: pd.DataFrame, config: StudyConfig) -> pd.DataFrame:
    """The epoch windows of every subject (days since 1970-01-01, END inclusive)."""
    epochs = config.epochs
    consent = pd.Series(to_epoch_days(dm["RFICDTC"]), index=dm["USUBJID"].to_numpy())
    ex_days = pd.DataFrame({"USUBJID": ex["USUBJID"].to_numpy(), "P": ex["_PERIOD"].to_numpy(),
                            "S": to_epoch_days(ex["EXSTDTC"]),
                            "E": to_epoch_days(ex["EXENDTC"].where(ex["EXENDTC"].notna(), ex["EXSTDTC"]))})
    period_start = ex_days.groupby(["USUBJID", "P"])["S"].min().rename("START").reset_index()
    last_dose = ex_days.groupby("USUBJID")["E"].max()
    first_dose = ex_days.groupby("USUBJID")["S"].min()
    period_start = period_start.sort_values(["USUBJID", "START"], kind="mergesort")
    next_start = period_start.groupby("USUBJID")["START"].shift(-1)
    period_start["END"] = (next_start - 1).fillna(period_start["USUBJID"].map(last_dose))
    period_epoch = {p["number"]: p["epoch"] for p in config.periods} or {1: "TREATMENT"}
    period_start["EPOCH"] = period_start["P"].map(period_epoch)
    subjects = dm["USUBJID"].to_numpy()
    first = pd.Series(subjects).map(first_dose).to_numpy()
    before = pd.DataFrame({"USUBJID": subjects, "EPOCH": epochs["before_treatment"],
                           "START": consent.to_numpy(), "END": np.where(np.isnan(first), np.inf, first - 1)})
    treated = last_dose.dropna()
    after = pd.DataFrame({"USUBJID": treated.index, "EPOCH": epochs["after_treatment"],
                          "START": treated.to_numpy() + 1, "END": np.inf})
    windows = pd.concat([before, period_start[["USUBJID", "EPOCH", "START", "END"]], after], ignore_index=True)
    windows = windows.dropna(subset=["START"]).sort_values(["START"], kind="mergesort").reset_index(drop=True)
    windows["WINDOW"] = np.arange(len(windows))
    return windows[WINDOW_COLUMNS]


def assign_epoch(usubjid: pd.Series, dtc: pd.Series, windows: pd.DataFrame, *,
                 ended: pd.Series | None = None) -> pd.Series:
    """EPOCH of each (subject, --DTC) pair; null outside every window or when a partial date
    spans windows (see the module docstring). ``ended`` (an event's --ENDTC): the start's
    possible days end at the latest day the end can denote; an end before every day the start
    can denote (inconsistent dates) bounds nothing."""
    low, high = date_bounds(date_fields(dtc))
    if ended is not None:
        high = latest_start(low, high, ended)
    first = _window_of(usubjid, low, windows)
    last = _window_of(usubjid, high, windows)
    same = (first >= 0) & (first == last)
    epoch_of = windows.set_index("WINDOW")["EPOCH"]
    epochs = pd.Series(np.where(same, first, -1)).map(epoch_of).to_numpy(dtype=object)
    return text(epochs, dtc.index)


def latest_start(low: np.ndarray, high: np.ndarray, ended: pd.Series) -> np.ndarray:
    """The latest day a start can denote, given the start's bounds ``low``..``high`` and its
    event's end: the earlier of ``high`` and the end's latest possible day, where that is not
    before ``low``."""
    _, end_high = date_bounds(date_fields(ended))
    bounded = ~np.isnan(end_high) & (end_high >= low)
    return np.where(bounded, np.fmin(high, end_high), high)


def _window_of(usubjid: pd.Series, days: np.ndarray, windows: pd.DataFrame) -> np.ndarray:
    """Window id holding each day (-1 where none)."""
    left = pd.DataFrame({"USUBJID": usubjid.to_numpy(), "DAY": days, "_i": np.arange(len(days))})
    known = left.dropna(subset=["DAY"]).sort_values("DAY", kind="mergesort")
    out = np.full(len(days), -1, dtype="int64")
    if not len(known) or not len(windows):
        return out
    # one key type on both sides (a study without exposure builds its windows from an empty frame)
    right = windows.sort_values("START", kind="mergesort").astype({"USUBJID": known["USUBJID"].dtype})
    hit = pd.merge_asof(known, right, left_on="DAY", right_on="START", by="USUBJID", direction="backward")
    inside = hit["WINDOW"].notna() & (hit["DAY"] <= hit["END"])
    out[hit.loc[inside, "_i"].to_numpy()] = hit.loc[inside, "WINDOW"].to_numpy(dtype="int64")
    return out
