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

from dataclasses import dataclass

import numpy as np
import pandas as pd

from adam.adae import event_masks
from adam.config import ISSConfig
from adam.units import days_to_years
from specs.columns import choose_text, index_in, is_in, text_ranks

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


@dataclass
class _Keys:
    """The risk windows keyed by integers: ``subject`` (position in ``subjects``, the
    windows' USUBJIDs), ``group`` and ``poolof`` (positions in ``labels``, the config's
    groups); a cell (subject, group, event) is one number, :meth:`cell`."""

    subjects: pd.Series
    labels: pd.Series
    subject: np.ndarray
    group: np.ndarray
    poolof: np.ndarray
    n_events: int

    @classmethod
    def of(cls, windows: pd.DataFrame, iss: ISSConfig) -> "_Keys":
        codes, subjects = pd.factorize(windows["USUBJID"])
        labels = pd.Series([g.label for g in iss.groups], dtype=object)
        return cls(pd.Series(subjects), labels, codes.astype(np.int64), index_in(windows["GROUP"], labels),
                   index_in(windows["POOLOF"], labels), len(iss.events))

    def cell(self, subject, group, event) -> np.ndarray:
        return (np.asarray(subject, dtype=np.int64) * len(self.labels) + group) * self.n_events + event


def first_events(adae: pd.DataFrame, windows: pd.DataFrame, keys: _Keys, iss: ISSConfig) -> pd.DataFrame:
    """Per cell (subject, group, event: :meth:`_Keys.cell`) with an event, the first
    qualifying AE inside one of the group's windows: ADT (its start; a missing start counts at
    the group's first window start), SRCSEQ (its AESEQ) and SRCROW (its ADAE row: its STUDYID
    says which study's AE SRCSEQ counts in), the earliest by ADT then AESEQ. Joins and sorts run
    on integers."""
    emergent = (adae["TRTEMFL"] == "Y").fillna(False).to_numpy(dtype=bool)
    subject = index_in(adae["USUBJID"], keys.subjects)
    treatment = index_in(adae["TRTA"], keys.labels)
    parts = []
    for number, (event, hit) in enumerate(zip(iss.events, event_masks(adae, iss.events))):
        if event.get("teae_only", True):
            hit = hit & emergent
        rows = np.flatnonzero(hit & (subject >= 0) & (treatment >= 0))
        parts.append(pd.DataFrame({"_K": subject[rows] * len(keys.labels) + treatment[rows], "_A": rows,
                                   "_E": number}))
    if not parts:
        return pd.DataFrame({"_CELL": np.array([], dtype=np.int64), "ADT": [], "SRCSEQ": [],
                             "SRCROW": np.array([], dtype=np.int64)})
    hits = pd.concat(parts, ignore_index=True)
    n = len(keys.labels)
    in_group = keys.subject * n + keys.group
    by_window = pd.DataFrame({"_K": keys.subject * n + keys.poolof, "_W": np.arange(len(windows))})
    pairs = by_window.merge(hits, on="_K", how="inner")
    w, a = pairs["_W"].to_numpy(), pairs["_A"].to_numpy()
    start = windows["WSTART"].to_numpy(dtype="float64")
    first_start = pd.Series(start).groupby(in_group).transform("min").to_numpy()
    onset = adae["ASTDT"].to_numpy(dtype="float64")[a]
    missing = np.isnan(onset)
    adt = np.where(missing, first_start[w], onset)
    inside = missing | ((onset >= start[w]) & (onset <= windows["WEND"].to_numpy(dtype="float64")[w]))
    cell = keys.cell(keys.subject[w], keys.group[w], pairs["_E"].to_numpy())[inside]
    adt, seq, a = adt[inside], adae["AESEQ"].to_numpy(dtype="float64")[a][inside], a[inside]
    order = np.lexsort((seq, adt, cell))
    cell, adt, seq, a = cell[order], adt[order], seq[order], a[order]
    first = np.ones(len(cell), dtype=bool)
    first[1:] = cell[1:] != cell[:-1]
    return pd.DataFrame({"_CELL": cell[first], "ADT": adt[first], "SRCSEQ": seq[first], "SRCROW": a[first]})


def derive_adaette(adae: pd.DataFrame, windows: pd.DataFrame, adsl: pd.DataFrame, iss: ISSConfig) -> pd.DataFrame:
    """ADAETTE (see the module docstring) from ADAE, the treatment-emergent windows
    (:func:`adam.periods.emergence_windows`) and the ADSL subjects analysed (safety population)."""
    windows = risk_windows(windows[is_in(windows["USUBJID"], adsl["USUBJID"])], iss).reset_index(drop=True)
    keys = _Keys.of(windows, iss)
    n_events, n_windows = len(iss.events), len(windows)
    # the grid: every window x event, window by window
    w = np.repeat(np.arange(n_windows), n_events)
    e = np.tile(np.arange(n_events), n_windows)
    cell = keys.cell(keys.subject[w], keys.group[w], e)
    first = first_events(adae, windows, keys, iss)
    found = pd.Index(first["_CELL"]).get_indexer(cell)
    adt = np.append(first["ADT"].to_numpy(dtype="float64"), np.nan)[found]            # -1 (no event) -> NaN
    srcseq = np.append(first["SRCSEQ"].to_numpy(dtype="float64"), np.nan)[found]
    srcrow = np.append(first["SRCROW"].to_numpy(dtype="float64"), np.nan)[found]
    wstart, last = windows["WSTART"].to_numpy(dtype="float64")[w], windows["LAST"].to_numpy(dtype="float64")[w]
    wend = windows["WEND"].to_numpy(dtype="float64")[w]
    unlimited = ~np.isfinite(wend)
    why = np.where(unlimited, NO_LIMIT, windows["WHY"].to_numpy(dtype=object)[w])
    stop = np.fmin(wend, np.where(np.isnan(adt), np.inf, adt))   # an event in an unlimited window stops it
    wend = np.where(unlimited, last, wend)                       # else censored at the last dose
    days = np.clip(np.where(np.isfinite(stop), stop, wend) - wstart + 1, 0, None)
    # one record per cell: its windows in order of their end (stable: window order on ties)
    order = np.lexsort((wend, cell))
    cell, w, e = cell[order], w[order], e[order]
    starts = np.flatnonzero(np.concatenate(([True], cell[1:] != cell[:-1]))) if len(cell) else np.zeros(0, int)
    ends = np.append(starts[1:], len(cell)) - 1
    tte = pd.DataFrame({
        "STUDYID": windows["STUDYID"].array.take(w[starts]),   # as stored (Arrow text: no Python strings)
        "USUBJID": windows["USUBJID"].array.take(w[starts]),
        "TRTA": windows["GROUP"].array.take(w[starts]),
        "TRTAN": windows["GROUPN"].to_numpy(dtype="float64")[w[starts]],
        "PARAMCD": choose_text([ev["paramcd"] for ev in iss.events], e[starts]),
        "PARAM": choose_text([ev["name"] for ev in iss.events], e[starts]),
        "PARAMN": (e[starts] + 1).astype("int64"),
        "STARTDT": np.minimum.reduceat(wstart[order], starts) if len(starts) else np.array([]),
        "SRCSEQ": _last_present(srcseq[order], starts, ends, first=True),
    })
    event_dt = _last_present(adt[order], starts, ends, first=True)
    event = ~np.isnan(event_dt)
    tte["CNSR"] = np.where(event, 0.0, 1.0)
    tte["ADT"] = np.where(event, event_dt, _last_present(wend[order], starts, ends))
    tte["AVAL"] = days_to_years(np.add.reduceat(days[order], starts) if len(starts) else np.array([]))
    tte["AVALU"] = choose_text(["YEARS"], np.zeros(len(tte)))
    tte["EVNTDESC"] = choose_text([CENSOR_TEXT, EVENT_TEXT], event)
    tte["CNSDTDSC"] = np.where(event, None, _last_present(why[order], starts, ends))
    tte["SRCDOM"] = choose_text([None, "AE"], event)
    tte["STUDYID"] = _event_study(tte["STUDYID"], adae["STUDYID"], _last_present(srcrow[order], starts, ends, first=True))
    subject = index_in(tte["USUBJID"], adsl["USUBJID"])
    for name in [c for c in ADSL_COPIES if c in adsl]:
        tte[name] = adsl[name].array.take(subject)   # every ADAETTE subject is in ADSL
    return tte.iloc[_subject_order(tte)].reset_index(drop=True)


def _event_study(studies: pd.Series, ae_studies: pd.Series, ae_rows: np.ndarray) -> pd.Series:
    """STUDYID of each ADAETTE record: the study of its event's AE record (SRCDOM/SRCSEQ name a
    record of that study's AE; a subject who rolled over may have the event in the extension),
    else the study of its first window (``studies``). Compared as stored; rewritten only where
    they differ (never, unless subjects rolled over)."""
    events = np.flatnonzero(~np.isnan(ae_rows))
    source = ae_studies.array.take(ae_rows[events].astype(np.int64))
    differ = events[np.asarray(source != studies.array.take(events), dtype=bool)]
    if not len(differ):
        return studies
    out = studies.to_numpy(dtype=object).copy()
    out[differ] = ae_studies.to_numpy(dtype=object)[ae_rows[differ].astype(np.int64)]
    return pd.Series(out, index=studies.index).astype(studies.dtype)


def _last_present(values: np.ndarray, starts: np.ndarray, ends: np.ndarray, *, first: bool = False) -> np.ndarray:
    """Per run ``starts[i]..ends[i]`` of ``values``, its last (``first``: first) non-missing
    value, missing when it has none (pandas' groupby ``last``/``first``)."""
    present = ~pd.isna(values)
    index = np.arange(len(values))
    if first:
        pick = np.where(present, index, len(values))
        best = np.minimum.reduceat(pick, starts) if len(starts) else pick[:0]
        ok = best <= ends
    else:
        pick = np.where(present, index, -1)
        best = np.maximum.reduceat(pick, starts) if len(starts) else pick[:0]
        ok = best >= starts
    out = values[np.where(ok, best, 0)] if len(values) else values[:0]
    if values.dtype.kind == "f":
        return np.where(ok, out, np.nan)
    return np.where(ok, out, None)


def _subject_order(tte: pd.DataFrame) -> np.ndarray:
    """Rows by STUDYID, USUBJID, TRTAN, PARAMN (text compared as text), on integer codes."""
    return np.lexsort((tte["PARAMN"].to_numpy(), tte["TRTAN"].to_numpy(), text_ranks(tte["USUBJID"])[2],
                       text_ranks(tte["STUDYID"])[2]))
