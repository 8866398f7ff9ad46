"""Adverse events of the demo programme, generated for all participants at once.

Each participant's time from consent to end of study is cut into four segments: before the first
application ("pre"), period 1, period 2, and after the last application ("post"). AEs arrive at a
per-state rate (``design.AE_RATE``: pre, vehicle, cream, post), so their count per participant is
Poisson with mean sum(rate x segment length) / DAYS_PER_YEAR, and each AE's start is uniform over the
rate-weighted timeline. ``ae_per_subject`` replaces the Poisson count by a fixed count (floor or
ceiling of the value, mean exactly the value) for benchmarks.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import design as d
from .cohort import NO_TREATMENT, Cohort, cumcount
from .data import Profile

PRE, VEHICLE, CREAM, POST = range(4)
#: Reference count of participants for the scripted serious events (their count scales with size).
REFERENCE_PARTICIPANTS = d.DEFAULT_SUBJECTS


@dataclass
class Events:
    """Per-AE arrays, sorted by subject and line number (AESPID)."""

    subject: np.ndarray  # cohort index
    llt: np.ndarray  # profile/dictionary row
    verbatim: np.ndarray  # index into Profile.verbatims
    state: np.ndarray  # PRE / VEHICLE / CREAM / POST at start
    treatment: np.ndarray  # treatment index at start, -1 off treatment
    start: np.ndarray  # day
    end: np.ndarray  # day, -1 when ongoing at end of study
    start_partial: np.ndarray  # 0 complete, 1 unknown day, 2 unknown day and month
    end_partial: np.ndarray  # 0 complete, 1 unknown day, 2 unknown day and month
    severity: np.ndarray  # index into design.SEVERITY
    relation: np.ndarray  # index into design.RELATIONS
    outcome: np.ndarray  # index into design.OUTCOMES
    action: np.ndarray  # index into design.ACTIONS
    serious: np.ndarray  # (n, 6) bool, design.SERIOUS_FLAGS
    specify: np.ndarray  # index into the scripted events' specify texts, -1 none
    scripted: np.ndarray  # bool: a scripted serious AE or the AE that stopped treatment
    spid: np.ndarray  # 1.. per subject

    def __len__(self) -> int:
        return len(self.subject)

    @property
    def ongoing(self) -> np.ndarray:
        return self.end < 0


def specify_texts() -> tuple[str, ...]:
    return tuple(ev.specify for ev in d.SERIOUS_EVENTS if ev.specify)


def build_events(cohort: Cohort, profile: Profile, rng: np.random.Generator,
                 ae_per_subject: float | None) -> Events:
    segments = _segments(cohort)
    subject, state, treatment, start = _routine_starts(segments, rng, ae_per_subject)
    llt = _pick_terms(profile, state, rng)
    ev = _describe(cohort, profile, subject, state, treatment, start, llt, rng)
    ev = _concat(ev, _withdrawal_events(cohort, profile, rng))
    _place_serious_events(ev, cohort, profile, rng)
    _partial_dates(ev, rng)
    return _in_line_order(ev)


# ----------------------------------------------------------------------------- timeline


@dataclass
class _Segments:
    subject: np.ndarray  # participant cohort indices
    start: np.ndarray  # (n, 4) first day
    length: np.ndarray  # (n, 4) days
    state: np.ndarray  # (n, 4)
    treatment: np.ndarray  # (n, 4)


def _segments(cohort: Cohort) -> _Segments:
    idx = np.flatnonzero(cohort.participant)
    first = cohort.first_dose[idx]
    last_rel = cohort.last_rel[idx]
    p1 = cohort.period1_days[idx]
    trt1 = cohort.treatment1[idx]
    trt2 = cohort.treatment2[idx]
    last_dose = first + last_rel - 1
    start = np.stack([cohort.consent[idx], first, first + p1, last_dose + 1], axis=1)
    length = np.stack([
        first - cohort.consent[idx],
        np.minimum(last_rel, p1),
        np.where(trt2 >= 0, np.maximum(0, last_rel - p1), 0),
        cohort.end_day[idx] - last_dose,
    ], axis=1)
    on_state = lambda trt: np.where(trt == d.VEH, VEHICLE, CREAM)  # noqa: E731
    state = np.stack([np.full(len(idx), PRE), on_state(trt1), on_state(trt2), np.full(len(idx), POST)], axis=1)
    treatment = np.stack([np.full(len(idx), NO_TREATMENT), trt1, trt2, np.full(len(idx), NO_TREATMENT)], axis=1)
    return _Segments(idx, start, length, state, treatment)


def _routine_starts(seg: _Segments, rng, ae_per_subject):
    rates = np.array([d.AE_RATE[s] for s in d.STATES])[seg.state]  # per patient-year
    weight = rates * seg.length / d.DAYS_PER_YEAR
    total = weight.sum(axis=1)
    if ae_per_subject is None:
        counts = rng.poisson(total)
    else:
        whole = int(np.floor(ae_per_subject))
        counts = whole + (rng.random(len(total)) < ae_per_subject - whole)
    local = np.repeat(np.arange(len(total)), counts)
    u = rng.random(len(local)) * total[local]
    cum = np.cumsum(weight, axis=1)
    which = np.zeros(len(local), dtype=np.int64)
    for k in range(weight.shape[1] - 1):  # segment boundaries, one column at a time (bounded memory)
        which += u >= cum[local, k]
    before = np.where(which > 0, cum[local, np.maximum(which - 1, 0)], 0.0)
    w = weight[local, which]
    length = seg.length[local, which]
    offset = np.minimum(np.floor((u - before) / np.where(w > 0, w, 1) * length), length - 1).astype(np.int64)
    start = seg.start[local, which] + np.maximum(offset, 0)
    return seg.subject[local], seg.state[local, which], seg.treatment[local, which], start


def _pick_terms(profile: Profile, state: np.ndarray, rng) -> np.ndarray:
    llt = np.empty(len(state), dtype=np.int64)
    u = rng.random(len(state))
    for s in range(len(d.STATES)):
        rows = np.flatnonzero(state == s)
        cdf = np.cumsum(profile.weights[s])
        llt[rows] = np.minimum(np.searchsorted(cdf, u[rows] * cdf[-1], side="right"), len(cdf) - 1)
    return llt


# ----------------------------------------------------------------------------- attributes


def _describe(cohort, profile, subject, state, treatment, start, llt, rng, *, action=None, severity=None):
    n = len(subject)
    verbatim = profile.verbatim_offset[llt] + np.floor(
        rng.random(n) * profile.verbatim_count[llt]).astype(np.int64)
    days = np.maximum(1, np.round(profile.median_days[llt] * np.exp(d.DURATION_SIGMA * rng.standard_normal(n))))
    end = start + days.astype(np.int64) - 1
    ongoing = end > cohort.end_day[subject]
    p_related = profile.p_related[llt] * np.select([state == PRE, state == POST], [0.0, 0.5], 1.0)
    related = rng.random(n) < p_related
    strong = rng.random(n) < np.where(related, d.RELATED_SHARE, d.UNLIKELY_SHARE)
    relation = np.where(related, np.where(strong, 3, 2), np.where(strong & (state != PRE), 1, 0))
    if severity is None:
        severity = np.searchsorted(np.cumsum(d.SEVERITY_P), rng.random(n), side="right")
    if action is None:
        interrupt = rng.random(n) < np.where(profile.application_site[llt], d.INTERRUPT_P["site"],
                                             d.INTERRUPT_P["other"])
        action = np.where((state == PRE) | (state == POST), d.ACTIONS.index("NOT APPLICABLE"),
                          np.where(interrupt, d.ACTIONS.index("DRUG INTERRUPTED"),
                                   d.ACTIONS.index("DOSE NOT CHANGED")))
    outcome = np.where(ongoing, d.OUTCOMES.index("NOT RECOVERED/NOT RESOLVED"),
                       np.where(rng.random(n) < d.SEQUELAE_RATE,
                                d.OUTCOMES.index("RECOVERED/RESOLVED WITH SEQUELAE"),
                                d.OUTCOMES.index("RECOVERED/RESOLVED")))
    return Events(
        subject=subject.astype(np.int32), llt=llt.astype(np.int16), verbatim=verbatim.astype(np.int32),
        state=state.astype(np.int8), treatment=treatment.astype(np.int8), start=start.astype(np.int32),
        end=np.where(ongoing, -1, end).astype(np.int32),
        start_partial=np.zeros(n, dtype=np.int8), end_partial=np.zeros(n, dtype=np.int8),
        severity=np.asarray(severity, dtype=np.int8), relation=relation.astype(np.int8),
        outcome=outcome.astype(np.int8), action=np.asarray(action, dtype=np.int8),
        serious=np.zeros((n, len(d.SERIOUS_FLAGS)), dtype=bool), specify=np.full(n, -1, dtype=np.int8),
        scripted=np.zeros(n, dtype=bool), spid=np.zeros(n, dtype=np.int32),
    )


def _concat(a: Events, b: Events) -> Events:
    return Events(**{name: np.concatenate([getattr(a, name), getattr(b, name)])
                     for name in Events.__dataclass_fields__})


def _withdrawal_events(cohort: Cohort, profile: Profile, rng) -> Events:
    """The AE that made each subject with disposition ADVERSE EVENT stop treatment."""
    subject = np.flatnonzero(cohort.participant & (cohort.reason == d.DS_DECODS.index("ADVERSE EVENT")))
    n = len(subject)
    first = cohort.first_dose[subject]
    start = np.maximum(first, cohort.last_dose[subject] - np.floor(rng.random(n) * 11).astype(np.int64))
    in_period2 = (cohort.treatment2[subject] >= 0) & (start >= first + cohort.period1_days[subject])
    treatment = np.where(in_period2, cohort.treatment2[subject], cohort.treatment1[subject])
    state = np.where(treatment == d.VEH, VEHICLE, CREAM)
    terms = np.array([profile.llt_index(t) for t in d.WITHDRAWAL_TERMS])
    llt = terms[np.floor(rng.random(n) * len(terms)).astype(np.int64)]
    severity = np.where(rng.random(n) < 0.7, d.SEVERITY.index("MODERATE"), d.SEVERITY.index("SEVERE"))
    action = np.full(n, d.ACTIONS.index("DRUG WITHDRAWN"))
    ev = _describe(cohort, profile, subject, state, treatment, start, llt, rng, action=action, severity=severity)
    ev.scripted[:] = True
    return ev


def _place_serious_events(ev: Events, cohort: Cohort, profile: Profile, rng) -> None:
    """Turn chosen on-treatment AEs into the scripted serious AEs (one per subject)."""
    participants = int(cohort.participant.sum())
    used = np.zeros(len(cohort), dtype=bool)
    texts = specify_texts()
    trt1, trt2 = cohort.treatment1[ev.subject], cohort.treatment2[ev.subject]
    for spec in d.SERIOUS_EVENTS:  # a handful of scripted kinds
        wanted = round(spec.count * participants / REFERENCE_PARTICIPANTS)
        eligible = ~ev.scripted & (ev.treatment == spec.on) & ~used[ev.subject]
        if spec.only_on:
            eligible &= (trt1 == spec.on) & ((trt2 == spec.on) | (trt2 == NO_TREATMENT))
        chosen = _one_per_subject(np.flatnonzero(eligible), ev.subject, wanted, rng)
        llt = profile.llt_index(spec.llt)
        ev.llt[chosen] = llt
        ev.verbatim[chosen] = profile.verbatim_offset[llt]
        ev.severity[chosen] = d.SEVERITY.index(spec.severity)
        ev.relation[chosen] = d.RELATIONS.index(spec.relation)
        ev.action[chosen] = d.ACTIONS.index(spec.action)
        ev.outcome[chosen] = d.OUTCOMES.index("RECOVERED/RESOLVED")
        ev.end[chosen] = np.minimum(ev.start[chosen] + spec.days - 1, cohort.end_day[ev.subject[chosen]])
        ev.serious[chosen, d.SERIOUS_FLAGS.index(spec.flag)] = True
        ev.specify[chosen] = texts.index(spec.specify) if spec.specify else -1
        ev.scripted[chosen] = True
        used[ev.subject[chosen]] = True


def _one_per_subject(candidates: np.ndarray, subject: np.ndarray, wanted: int, rng) -> np.ndarray:
    """``wanted`` random candidates, no two of the same subject (fewer if there are not enough)."""
    draw = min(len(candidates), 4 * wanted + 16)
    while True:
        picked = rng.choice(candidates, size=draw, replace=False)
        _, first = np.unique(subject[picked], return_index=True)
        if len(first) >= wanted or draw == len(candidates):
            return picked[np.sort(first)][:wanted]
        draw = len(candidates)  # pragma: no cover - only with very few eligible AEs


def _partial_dates(ev: Events, rng) -> None:
    """Unknown day (or day and month) in some start and end dates of routine AEs."""
    n = len(ev)
    u = rng.random(n)
    routine = ~ev.scripted
    ev.start_partial[:] = np.where(routine & (u < d.PARTIAL_START_P[0]), 1,
                                   np.where(routine & (u < sum(d.PARTIAL_START_P)), 2, 0))
    v = rng.random(n)
    ended = routine & (ev.end >= 0)
    ev.end_partial[:] = np.where(ended & (v < d.PARTIAL_END_P[0]), 1,
                                 np.where(ended & (v < sum(d.PARTIAL_END_P)), 2, 0))


def _in_line_order(ev: Events) -> Events:
    day = ev.start.astype(np.int64) - (ev.start.min() if len(ev) else 0)
    order = np.argsort((ev.subject.astype(np.int64) * (1 << 20) + day) * 256 + ev.llt, kind="stable")
    for name in Events.__dataclass_fields__:  # one field at a time keeps the peak low
        setattr(ev, name, getattr(ev, name)[order])
    ev.spid = (cumcount(ev.subject) + 1).astype(np.int32)
    return ev
