"""ADAETTE — time to first adverse event of interest (ADaMIG 1.3 BDS TIME-TO-EVENT).

One record per treated subject, treatment group (pooled groups included) and event of
interest (the ISS config's ``events``: any TEAE, serious TEAE, each AESI). It is the input
of every exposure-adjusted incidence rate, so each rate traces to submitted data.

At-risk windows, per subject and non-pooled group:

* start: the first dose in the group (STARTDT);
* end: the earliest of the last dose in the group + the TEAE window (config
  ``teae.window_days``; none = no limit), the day before the subject's next group starts
  (a vehicle subject's vehicle time ends when cream starts), the end of study (EOSDT),
  death (DTHDT) and the data cut-off.

A pooled group's windows are those of its groups. For each event: the first
treatment-emergent AE meeting the event's definition (:func:`adam.adae.matches_event`),
assigned to one of the group's treatments (ADAE.TRTA), that starts inside a window (an AE
with a missing start counts at the first window's start). With an event, CNSR = 0, ADT =
its start, EVNTDESC "ADVERSE EVENT", SRCDOM/SRCSEQ = "AE"/its AESEQ (the SDTM AE record, which
ADAE keeps one to one); without, CNSR = 1, ADT = the end of the last window, EVNTDESC "NO
EVENT DURING TIME AT RISK" and CNSDTDSC the limit that ended that window (:data:`LIMITS`;
"LAST EXPOSURE" when there was none). AVAL = days at risk up to ADT (inclusive, summed over
windows) / DAYS_PER_YEAR, in YEARS.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from adam.adae import matches_event
from adam.config import ISSConfig
from adam.units import days_to_years

ADSL_COPIES = ["AGE", "SEX", "RACE", "SAFFL"]
EVENT_TEXT = "ADVERSE EVENT"
CENSOR_TEXT = "NO EVENT DURING TIME AT RISK"
#: what can end an at-risk window (CNSDTDSC), in the order that breaks a tie on the same day
LIMITS = ("DEATH", "START OF ANOTHER TREATMENT", "END OF STUDY", "DATA CUT-OFF", "LAST EXPOSURE PLUS WINDOW")
NO_LIMIT = "LAST EXPOSURE"


def risk_windows(periods: pd.DataFrame, adsl: pd.DataFrame, iss: ISSConfig) -> pd.DataFrame:
    """Per subject and group (pools as their groups' windows): WSTART, WEND (day numbers) and
    WHY, the limit that set WEND (:data:`LIMITS`)."""
    p = periods.dropna(subset=["TRTA"])
    win = (p.groupby(["STUDYID", "USUBJID", "TRTA", "TRTAN"], sort=False)
           .agg(WSTART=("TRSDT", "min"), LAST=("TREDT", "max")).reset_index()
           .sort_values(["USUBJID", "WSTART"], kind="mergesort"))
    next_start = win.groupby("USUBJID")["WSTART"].shift(-1)
    window = iss.teae["window_days"]
    subj = adsl.set_index("USUBJID")
    cutoff = pd.Series(np.nan, index=win.index)
    if iss.get("data_cutoff"):
        day = (np.datetime64(iss.get("data_cutoff"), "D") - np.datetime64("1970-01-01", "D")).astype(int)
        cutoff[:] = float(day)
    caps = {"DEATH": win["USUBJID"].map(subj["DTHDT"]),
            "START OF ANOTHER TREATMENT": next_start - 1,
            "END OF STUDY": win["USUBJID"].map(subj["EOSDT"]),
            "DATA CUT-OFF": cutoff,
            "LAST EXPOSURE PLUS WINDOW": (win["LAST"] + window if window is not None
                                          else pd.Series(np.nan, index=win.index))}
    stack = np.column_stack([caps[name].astype("float64").fillna(np.inf).to_numpy() for name in LIMITS])
    end = stack.min(axis=1)   # the earliest limit; argmin takes the first of LIMITS on a tie
    limited = np.isfinite(end)
    win["WEND"] = np.where(limited, np.maximum(end, win["WSTART"]), win["LAST"])
    win["WHY"] = np.where(limited, np.asarray(LIMITS, dtype=object)[stack.argmin(axis=1)], NO_LIMIT)
    win = win.rename(columns={"TRTA": "GROUP", "TRTAN": "GROUPN"})[["STUDYID", "USUBJID", "GROUP", "GROUPN",
                                                                     "WSTART", "WEND", "WHY"]]
    pools = []
    for g in iss.groups:
        if g.pooled:
            part = win[win["GROUP"].isin(g.pools)].assign(POOLOF=lambda d: d["GROUP"], GROUP=g.label,
                                                          GROUPN=float(g.number))
            pools.append(part)
    win = win.assign(POOLOF=win["GROUP"])
    return pd.concat([win, *pools], ignore_index=True)


def first_events(adae: pd.DataFrame, windows: pd.DataFrame, iss: ISSConfig) -> pd.DataFrame:
    """Per subject, group and event: the first qualifying AE inside a window (ADT, SRCSEQ)."""
    parts = []
    emergent = (adae["TRTEMFL"] == "Y").fillna(False).to_numpy(dtype=bool)
    for event in iss.events:
        hit = matches_event(adae, event).fillna(False).to_numpy(dtype=bool)
        if event.get("teae_only", True):
            hit = hit & emergent
        hits = adae[["USUBJID", "TRTA", "ASTDT", "AESEQ"]].iloc[np.flatnonzero(hit)]
        parts.append(hits.assign(PARAMCD=event["paramcd"]))
    if not parts:
        return pd.DataFrame(columns=["USUBJID", "GROUP", "PARAMCD", "ADT", "SRCSEQ"])
    hits = pd.concat(parts, ignore_index=True)
    joined = windows.merge(hits, left_on=["USUBJID", "POOLOF"], right_on=["USUBJID", "TRTA"], how="inner")
    first_start = windows.groupby(["USUBJID", "GROUP"], as_index=False)["WSTART"].min()
    joined = joined.merge(first_start.rename(columns={"WSTART": "_FIRST"}), on=["USUBJID", "GROUP"], how="left")
    missing = joined["ASTDT"].isna()
    joined["ADT"] = joined["ASTDT"].where(~missing, joined["_FIRST"])
    inside = missing | ((joined["ASTDT"] >= joined["WSTART"]) & (joined["ASTDT"] <= joined["WEND"]))
    joined = joined[inside].sort_values(["USUBJID", "GROUP", "PARAMCD", "ADT", "AESEQ"], kind="mergesort")
    first = joined.drop_duplicates(["USUBJID", "GROUP", "PARAMCD"])
    return first[["USUBJID", "GROUP", "PARAMCD", "ADT", "AESEQ"]].rename(columns={"AESEQ": "SRCSEQ"})


def derive_adaette(adae: pd.DataFrame, periods: pd.DataFrame, adsl: pd.DataFrame, iss: ISSConfig) -> pd.DataFrame:
    """ADAETTE (see the module docstring)."""
    windows = risk_windows(periods, adsl, iss)
    events = pd.DataFrame([(e["paramcd"], e["name"], i + 1) for i, e in enumerate(iss.events)],
                          columns=["PARAMCD", "PARAM", "PARAMN"])
    grid = windows.merge(events, how="cross")
    first = first_events(adae, windows, iss)
    grid = grid.merge(first, on=["USUBJID", "GROUP", "PARAMCD"], how="left")
    stop = grid["ADT"].fillna(np.inf)
    grid["_DAYS"] = np.clip(np.fmin(grid["WEND"], stop) - grid["WSTART"] + 1, 0, None)
    keys = ["STUDYID", "USUBJID", "GROUP", "GROUPN", "PARAMCD", "PARAM", "PARAMN"]
    grid = grid.sort_values([*keys, "WEND"], kind="mergesort")
    tte = grid.groupby(keys, sort=False).agg(STARTDT=("WSTART", "min"), LASTEND=("WEND", "last"),
                                            LASTWHY=("WHY", "last"), EVENTDT=("ADT", "first"),
                                            SRCSEQ=("SRCSEQ", "first"), DAYS=("_DAYS", "sum")).reset_index()
    event = tte["EVENTDT"].notna()
    tte["CNSR"] = np.where(event, 0.0, 1.0)
    tte["ADT"] = np.where(event, tte["EVENTDT"], tte["LASTEND"])
    tte["AVAL"] = days_to_years(tte["DAYS"])
    tte["AVALU"] = "YEARS"
    tte["EVNTDESC"] = np.where(event, EVENT_TEXT, CENSOR_TEXT)
    tte["CNSDTDSC"] = np.where(event, None, tte["LASTWHY"])
    tte["SRCDOM"] = np.where(event, "AE", None)
    tte = tte.rename(columns={"GROUP": "TRTA", "GROUPN": "TRTAN"})
    copies = adsl.set_index("USUBJID")
    for name in ADSL_COPIES:
        if name in copies:
            tte[name] = tte["USUBJID"].map(copies[name])
    out = tte.drop(columns=["LASTEND", "LASTWHY", "EVENTDT", "DAYS"])
    return out.sort_values(["STUDYID", "USUBJID", "TRTAN", "PARAMN"], kind="mergesort").reset_index(drop=True)
