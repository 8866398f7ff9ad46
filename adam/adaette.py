"""ADAETTE — time to first adverse event of interest (ADaMIG 1.3 BDS TIME-TO-EVENT).

One record per treated subject, treatment piece (a run of one treatment within a period,
:func:`adam.periods.treatment_pieces`) and event of interest (the ISS config's ``events``: any
TEAE, serious TEAE, each AESI). It is the input of every exposure-adjusted incidence rate, so
each rate traces to submitted data. Pooled groups are not records: each record names the pooled
groups it belongs to in TRTAGy (ADaMIG 1.3), and carries each analysis pool's record flag
(ANLzzFL, by the piece's study and period), so no subject's time or event is counted twice.

Time at risk: the treatment-emergent window of the piece's run (:func:`adam.periods.emergence_windows`,
the same windows ADAE.TRTEMFL uses: from the run's first dose to the earliest of its last dose +
``teae.window_days``, the day before the subject's next treatment starts, and death, end of study
and the data cut-off as ``teae.bounded_by`` names them), split at the pieces:
:func:`adam.periods.piece_windows` — a piece from its first dose (STARTDT) to the day before the
next piece of the same run starts ("END OF PERIOD"), the run's last piece to the window's end.

Per piece and event: the first AE meeting the event's definition (:func:`adam.adae.matches_event`;
treatment-emergent unless the event says otherwise) whose treatment at onset (ADAE.TRTA) is the
piece's group and whose ASTDT is inside the piece's window (an AE with a missing start counts at
the first dose of the subject's first piece of its group, where ADAE places it). With an event,
CNSR = 0, ADT = its start, EVNTDESC "ADVERSE EVENT", SRCDOM/SRCSEQ = "AE"/its AESEQ (STUDYID
the study of its AE record); without, CNSR = 1, ADT = the end of the window, EVNTDESC "NO EVENT
DURING TIME AT RISK" and CNSDTDSC the limit that ended it (:data:`adam.periods.LIMITS` or "END OF
PERIOD"); a window nothing limits is censored at the run's last dose, "LAST EXPOSURE". AVAL =
(ADT - STARTDT + 1) / DAYS_PER_YEAR, in YEARS. A group's (or pooled group's) time to first event
accumulates the subject's records of it in time order up to the first event
(:func:`report.rates.time_to_first_event`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from adam.adae import event_masks
from adam.config import ISSConfig
from adam.groups import derive_pooled_groups, planned_of_periods
from adam.pools import derive_record_flags
from adam.units import days_to_years
from specs.columns import choose_text, index_in, is_in, text_ranks

ADSL_COPIES = ["AGE", "SEX", "RACE", "SAFFL"]
EVENT_TEXT = "ADVERSE EVENT"
CENSOR_TEXT = "NO EVENT DURING TIME AT RISK"
NO_LIMIT = "LAST EXPOSURE"


def first_events(adae: pd.DataFrame, pieces: pd.DataFrame, iss: ISSConfig) -> pd.DataFrame:
    """Per cell (piece x event: piece position x the number of events + the event's position)
    with an event, the first qualifying AE of the piece: one meeting the event's definition
    (:func:`adam.adae.event_masks`; treatment-emergent unless the event says otherwise), whose
    treatment at onset (ADAE.TRTA) is the piece's group and whose ASTDT lies in the piece's time
    at risk (TRSDT..WEND); an AE with a missing ASTDT counts at the first dose of the subject's
    first piece of its group (ADAE places it in the subject's first piece). Columns _CELL, ADT,
    SRCSEQ (its AESEQ) and SRCROW (its ADAE row: its STUDYID says which study's AE SRCSEQ counts
    in), the earliest by ADT then AESEQ. Joins and sorts run on integers."""
    n_events = len(iss.events)
    codes, subjects = pd.factorize(pieces["USUBJID"])
    labels = pd.Series([g.label for g in iss.groups], dtype=object)
    piece_key = codes.astype(np.int64) * len(labels) + index_in(pieces["TRTA"], labels)
    emergent = (adae["TRTEMFL"] == "Y").fillna(False).to_numpy(dtype=bool)
    subject = index_in(adae["USUBJID"], pd.Series(subjects))
    treatment = index_in(adae["TRTA"], labels)
    parts = []
    for number, (event, hit) in enumerate(zip(iss.events, event_masks(adae, iss.events))):
        if event.get("teae_only", True):
            hit = hit & emergent
        rows = np.flatnonzero(hit & (subject >= 0) & (treatment >= 0))
        parts.append(pd.DataFrame({"_K": subject[rows] * len(labels) + treatment[rows], "_A": rows, "_E": number}))
    if not parts:
        return pd.DataFrame({"_CELL": np.array([], dtype=np.int64), "ADT": [], "SRCSEQ": [],
                             "SRCROW": np.array([], dtype=np.int64)})
    hits = pd.concat(parts, ignore_index=True)
    pairs = pd.DataFrame({"_K": piece_key, "_W": np.arange(len(pieces))}).merge(hits, on="_K", how="inner")
    w, a = pairs["_W"].to_numpy(), pairs["_A"].to_numpy()
    start = pieces["TRSDT"].to_numpy(dtype="float64")
    first_of_group = start == pd.Series(start).groupby(piece_key).transform("min").to_numpy()
    onset = adae["ASTDT"].to_numpy(dtype="float64")[a]
    missing = np.isnan(onset)
    adt = np.where(missing, start[w], onset)
    inside = np.where(missing, first_of_group[w],
                      (onset >= start[w]) & (onset <= pieces["WEND"].to_numpy(dtype="float64")[w]))
    cell = (w * n_events + pairs["_E"].to_numpy())[inside]
    adt, seq, a = adt[inside], adae["AESEQ"].to_numpy(dtype="float64")[a][inside], a[inside]
    order = np.lexsort((seq, adt, cell))
    cell, adt, seq, a = cell[order], adt[order], seq[order], a[order]
    first = np.ones(len(cell), dtype=bool)
    first[1:] = cell[1:] != cell[:-1]
    return pd.DataFrame({"_CELL": cell[first], "ADT": adt[first], "SRCSEQ": seq[first], "SRCROW": a[first]})


def derive_adaette(adae: pd.DataFrame, pieces: pd.DataFrame, adsl: pd.DataFrame, iss: ISSConfig) -> pd.DataFrame:
    """ADAETTE (see the module docstring) from ADAE, the treatment pieces with their share of
    the treatment-emergent windows (:func:`adam.periods.piece_windows`) and the ADSL subjects
    analysed (safety population)."""
    pieces = pieces[is_in(pieces["USUBJID"], adsl["USUBJID"])].reset_index(drop=True)
    n_events = len(iss.events)
    w = np.repeat(np.arange(len(pieces)), n_events)   # the grid: every piece x event, piece by piece
    e = np.tile(np.arange(n_events), len(pieces))
    first = first_events(adae, pieces, iss)
    found = pd.Index(first["_CELL"]).get_indexer(w * n_events + e)
    adt = np.append(first["ADT"].to_numpy(dtype="float64"), np.nan)[found]            # -1 (no event) -> NaN
    srcseq = np.append(first["SRCSEQ"].to_numpy(dtype="float64"), np.nan)[found]
    srcrow = np.append(first["SRCROW"].to_numpy(dtype="float64"), np.nan)[found]
    start = pieces["TRSDT"].to_numpy(dtype="float64")[w]
    wend = pieces["WEND"].to_numpy(dtype="float64")[w]
    unlimited = ~np.isfinite(wend)
    end = np.where(unlimited, pieces["LAST"].to_numpy(dtype="float64")[w], wend)   # else censored at the last dose
    event = ~np.isnan(adt)
    tte = pd.DataFrame({
        "STUDYID": pieces["STUDYID"].array.take(w),   # as stored (Arrow text: no Python strings)
        "USUBJID": pieces["USUBJID"].array.take(w),
        "APERIOD": pieces["APERIOD"].to_numpy(dtype="float64")[w],
        "SPERIOD": pieces["SPERIOD"].to_numpy(dtype="float64")[w],
        "TRTA": pieces["TRTA"].array.take(w),
        "TRTAN": pieces["TRTAN"].to_numpy(dtype="float64")[w],
        "PARAMCD": choose_text([ev["paramcd"] for ev in iss.events], e),
        "PARAM": choose_text([ev["name"] for ev in iss.events], e),
        "PARAMN": (e + 1).astype("int64"),
        "STARTDT": start,
        "SRCSEQ": srcseq,
    })
    tte["CNSR"] = np.where(event, 0.0, 1.0)
    tte["ADT"] = np.where(event, adt, end)
    tte["AVAL"] = days_to_years(np.clip(tte["ADT"].to_numpy() - start + 1, 0, None))
    tte["AVALU"] = choose_text(["YEARS"], np.zeros(len(tte)))
    tte["EVNTDESC"] = choose_text([CENSOR_TEXT, EVENT_TEXT], event)
    why = np.where(unlimited, NO_LIMIT, pieces["WHY"].to_numpy(dtype=object)[w])
    tte["CNSDTDSC"] = np.where(event, None, why)
    tte["SRCDOM"] = choose_text([None, "AE"], event)
    tte = derive_record_flags(tte, iss.analysis_pools, study="STUDYID").drop(columns="SPERIOD")
    tte["STUDYID"] = _event_study(tte["STUDYID"], adae["STUDYID"], srcrow)
    subject = index_in(tte["USUBJID"], adsl["USUBJID"])
    for name in [c for c in ADSL_COPIES if c in adsl]:
        tte[name] = adsl[name].array.take(subject)   # every ADAETTE subject is in ADSL
    tte = derive_pooled_groups(tte, iss, planned=planned_of_periods(tte, adsl))
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


def _subject_order(tte: pd.DataFrame) -> np.ndarray:
    """Rows by STUDYID, USUBJID, PARAMN, STARTDT, TRTAN (text compared as text), on integer codes."""
    return np.lexsort((tte["TRTAN"].to_numpy(), tte["STARTDT"].to_numpy(), tte["PARAMN"].to_numpy(),
                       text_ranks(tte["USUBJID"])[2], text_ranks(tte["STUDYID"])[2]))
