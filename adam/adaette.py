"""ADAETTE — time to first adverse event of interest (ADaMIG 1.3 BDS TIME-TO-EVENT).

One record per treated subject, treatment group (pooled groups included) and event of
interest (the ISS config's ``events``: any TEAE, serious TEAE, each AESI). It is the input
of every exposure-adjusted incidence rate, so each rate traces to submitted data.

At-risk windows: the treatment-emergent windows of :func:`adam.periods.emergence_windows`,
the same windows ADAE.TRTEMFL uses — one per run of one treatment:

* start: the first dose of the run (STARTDT: the first start in the group);
* end: the earliest of the run's last dose + the TEAE window (config ``teae.window_days``;
  none = no limit), the day before the subject's next treatment starts (a vehicle subject's
  vehicle time ends when cream starts), and those of death (DTHDT), end of study (EOSDT) and
  the data cut-off that ``teae.bounded_by`` names.

A group's windows are its runs (a subject can return to a treatment); a pooled group's windows
are those of its groups. For each event: the first treatment-emergent AE meeting the event's
definition (:func:`adam.adae.matches_event`), assigned to one of the group's treatments
(ADAE.TRTA), that starts inside a window (an AE with a missing start counts at the first
window's start) — so every treatment-emergent AE of the group is inside a window, and the
first of them per subject is the event. With an event, CNSR = 0, ADT = its start, EVNTDESC
"ADVERSE EVENT", SRCDOM/SRCSEQ = "AE"/its AESEQ (the SDTM AE record, which ADAE keeps one to
one); without, CNSR = 1, ADT = the end of the last window, EVNTDESC "NO EVENT DURING TIME AT
RISK" and CNSDTDSC the limit that ended that window (:data:`adam.periods.LIMITS`); a window
nothing limits (no TEAE window and no bound known) is censored at the last dose, "LAST
EXPOSURE". AVAL = days at risk up to ADT (inclusive, summed over windows) / DAYS_PER_YEAR, in
YEARS.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from adam.adae import matches_event
from adam.config import ISSConfig
from adam.units import days_to_years
from specs.columns import is_in

ADSL_COPIES = ["AGE", "SEX", "RACE", "SAFFL"]
EVENT_TEXT = "ADVERSE EVENT"
CENSOR_TEXT = "NO EVENT DURING TIME AT RISK"
NO_LIMIT = "LAST EXPOSURE"


def risk_windows(windows: pd.DataFrame, iss: ISSConfig) -> pd.DataFrame:
    """Per subject and group, its treatment-emergent windows (pools: their groups' windows):
    GROUP/GROUPN, POOLOF (the non-pooled group the window belongs to), WSTART, LAST, WEND
    (day numbers; infinite when unlimited) and WHY (:data:`adam.periods.LIMITS`)."""
    win = windows.rename(columns={"TRTA": "GROUP", "TRTAN": "GROUPN"})[
        ["STUDYID", "USUBJID", "GROUP", "GROUPN", "WSTART", "LAST", "WEND", "WHY"]]
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


def derive_adaette(adae: pd.DataFrame, windows: pd.DataFrame, adsl: pd.DataFrame, iss: ISSConfig) -> pd.DataFrame:
    """ADAETTE (see the module docstring) from ADAE, the treatment-emergent windows
    (:func:`adam.periods.emergence_windows`) and the ADSL subjects analysed (safety population)."""
    windows = risk_windows(windows[is_in(windows["USUBJID"], adsl["USUBJID"])], iss)
    events = pd.DataFrame([(e["paramcd"], e["name"], i + 1) for i, e in enumerate(iss.events)],
                          columns=["PARAMCD", "PARAM", "PARAMN"])
    grid = windows.merge(events, how="cross")
    first = first_events(adae, windows, iss)
    grid = grid.merge(first, on=["USUBJID", "GROUP", "PARAMCD"], how="left")
    unlimited = ~np.isfinite(grid["WEND"])
    grid["WHY"] = grid["WHY"].where(~unlimited, NO_LIMIT)
    stop = np.fmin(grid["WEND"], grid["ADT"].fillna(np.inf))   # an event in an unlimited window stops it
    grid["WEND"] = grid["WEND"].where(~unlimited, grid["LAST"])  # else censored at the last dose
    grid["_DAYS"] = np.clip(np.where(np.isfinite(stop), stop, grid["WEND"]) - grid["WSTART"] + 1, 0, None)
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
