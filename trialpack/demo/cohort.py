"""Subjects of the demo programme: enrolment, demographics, randomisation, exposure, disposition.

One record per subject of every study (participants, screen failures, randomised-but-never-treated
subjects), generated for all studies at once with vectorised numpy. Days are integers counted from
1970-01-01; "relative" days count from the first application (day 1).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from . import design as d

PARTICIPANT, SCREEN_FAILURE, NOT_TREATED = 0, 1, 2
NO_TREATMENT = -1

#: All arms of all phases, in a fixed order; a subject's arm is an index into this tuple.
ALL_ARMS: tuple[tuple[int, d.Arm], ...] = tuple(
    (phase, arm) for phase in sorted(d.PHASE_ARMS) for arm in d.PHASE_ARMS[phase]
)
_ARM_OFFSET = {phase: [p for p, _ in ALL_ARMS].index(phase) for phase in d.PHASE_ARMS}
_ARM_TRT = np.array([[arm.treatments[0], arm.treatments[-1] if len(arm.treatments) > 1 else NO_TREATMENT]
                     for _, arm in ALL_ARMS], dtype=np.int8)


def epoch_day(iso: str) -> int:
    return (dt.date.fromisoformat(iso) - dt.date(1970, 1, 1)).days


@dataclass
class Cohort:
    """Per-subject arrays, sorted by study, site and subject number."""

    study: np.ndarray  # study index (plans order)
    kind: np.ndarray  # PARTICIPANT / SCREEN_FAILURE / NOT_TREATED
    site: np.ndarray  # site index within the study
    site_country: np.ndarray  # index into the study template's countries
    site_number: np.ndarray  # 1.. within the site's country
    seq: np.ndarray  # 1.. subject number within the site, in consent order
    consent: np.ndarray  # day
    sex: np.ndarray
    race: np.ndarray
    ethnic: np.ndarray
    birth: np.ndarray  # day
    birth_partial: np.ndarray  # bool: written with an unknown day
    fitzpatrick: np.ndarray
    iga: np.ndarray  # -1 when not assessed (screen failures)
    bsa_tenths: np.ndarray  # -1 when not assessed
    arm: np.ndarray  # index into ALL_ARMS, -1 for screen failures
    first_dose: np.ndarray  # day (participants)
    period1_days: np.ndarray  # planned length of period 1
    last_rel: np.ndarray  # relative day of the last application (participants)
    disc_period: np.ndarray  # 0 completed, 1 or 2 discontinued in that period
    reason: np.ndarray  # index into design.DS_DECODS of the final disposition
    end_day: np.ndarray  # day of the final disposition (end of study / screen failure)

    def __len__(self) -> int:
        return len(self.study)

    @property
    def treatment1(self) -> np.ndarray:
        return np.where(self.arm >= 0, _ARM_TRT[np.maximum(self.arm, 0), 0], NO_TREATMENT)

    @property
    def treatment2(self) -> np.ndarray:
        return np.where(self.arm >= 0, _ARM_TRT[np.maximum(self.arm, 0), 1], NO_TREATMENT)

    @property
    def last_dose(self) -> np.ndarray:
        return self.first_dose + self.last_rel - 1

    @property
    def participant(self) -> np.ndarray:
        return self.kind == PARTICIPANT


def slice_rows(obj, lo: int, hi: int, *, subject_offset: int = 0):
    """Rows lo..hi of a Cohort, Diary or Events; ``subject`` indices shifted by ``subject_offset``."""
    values = {name: getattr(obj, name)[lo:hi] for name in obj.__dataclass_fields__}
    if "subject" in values:
        values["subject"] = values["subject"] - subject_offset
    return type(obj)(**values)


def site_countries(plans, study: np.ndarray, site_country: np.ndarray) -> np.ndarray:
    """ISO 3166-1 alpha-3 country of each subject's site."""
    width = max(len(p.template.countries) for p in plans)
    table = np.array([p.template.countries + ("",) * (width - len(p.template.countries)) for p in plans])
    return table[study, site_country]


def _per_study(plans: tuple[d.StudyPlan, ...], values) -> np.ndarray:
    return np.array([values(plan) for plan in plans])


def _between(rng: np.random.Generator, lo, hi) -> np.ndarray:
    """Uniform integers in [lo, hi] (inclusive), element-wise."""
    lo = np.asarray(lo)
    hi = np.asarray(hi)
    return lo + np.floor(rng.random(np.broadcast(lo, hi).shape) * (hi - lo + 1)).astype(np.int64)


def cumcount(keys: np.ndarray) -> np.ndarray:
    """0-based position of each element within its run of equal (sorted) keys."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(keys[1:] != keys[:-1]) + 1]
    run_start = np.repeat(starts, np.diff(np.r_[starts, len(keys)]))
    return np.arange(len(keys)) - run_start


def build_cohort(plans: tuple[d.StudyPlan, ...], rng: np.random.Generator, *, tune: bool) -> Cohort:
    """Every subject of every study; ``tune`` adjusts exposure to the 509.62 patient-years."""
    study, kind, consent = _enrol(plans, rng)
    site, site_country, site_number = _sites(plans, study, rng)
    # subject numbers follow consent order within a site; files are sorted by subject
    seq = np.empty(len(study), dtype=np.int64)
    by_site = np.lexsort((consent, site, study))
    seq[by_site] = cumcount(study[by_site] * (int(site.max()) + 1) + site[by_site]) + 1
    order = np.lexsort((seq, site, study))
    study, kind, consent = study[order], kind[order], consent[order]
    site, site_country, site_number, seq = site[order], site_country[order], site_number[order], seq[order]

    phase = _per_study(plans, lambda p: p.phase)[study]
    demo = _demographics(plans, study, kind, consent, site_country, phase, rng)
    arm = _randomise(plans, study, kind, rng)
    timeline, planned_end = _exposure(study, kind, consent, arm, phase, rng)
    if tune:
        timeline["last_rel"] = _tuned_last_applications(timeline, planned_end, arm, kind)
    disposition = _disposition(kind, consent, arm, timeline, rng)
    return Cohort(
        study=study, kind=kind, site=site, site_country=site_country, site_number=site_number, seq=seq,
        consent=consent, arm=arm, **demo, **timeline, **disposition,
    )


# ----------------------------------------------------------------------------- enrolment


def _enrol(plans, rng):
    counts = np.array([[p.participants, p.screen_failures, p.not_treated] for p in plans])
    study = np.repeat(np.arange(len(plans)), counts.sum(axis=1))
    kind = np.repeat(np.tile(np.array([PARTICIPANT, SCREEN_FAILURE, NOT_TREATED]), len(plans)), counts.ravel())
    start = _per_study(plans, lambda p: epoch_day(p.template.enrol_start))[study]
    days = _per_study(plans, lambda p: p.template.enrol_days)[study]
    consent = start + np.floor(rng.random(len(study)) * days).astype(np.int64)
    return study, kind.astype(np.int8), consent


def _sites(plans, study, rng):
    n_sites = _per_study(plans, lambda p: d.sites_per_study(p.subjects))
    n_countries = _per_study(plans, lambda p: len(p.template.countries))
    site = np.floor(rng.random(len(study)) * n_sites[study]).astype(np.int64)
    site_country = site % n_countries[study]
    site_number = site // n_countries[study] + 1
    return site, site_country, site_number


# ----------------------------------------------------------------------------- demographics


def _demographics(plans, study, kind, consent, site_country, phase, rng):
    n = len(study)
    country = site_countries(plans, study, site_country)
    sex = (rng.random(n) < 0.52).astype(np.int8)  # 52% boys
    race = rng.choice(len(d.RACES), size=n, p=d.RACE_P).astype(np.int8)
    race = np.where(country == "JPN", d.RACES.index("ASIAN"), race).astype(np.int8)
    hispanic_p = np.where(country == "USA", d.HISPANIC_P["USA"], d.HISPANIC_P["other"])
    ethnic = np.where(rng.random(n) < hispanic_p, 0, 1).astype(np.int8)

    age_lo = _per_study(plans, lambda p: p.template.ages[0])[study]
    age_hi = _per_study(plans, lambda p: p.template.ages[1])[study]
    age = _between(rng, age_lo, age_hi)
    # birthday 5%..95% of a year before the age-th birthday: whole years at consent stay = age
    birth = consent - np.floor((age + 0.05 + 0.9 * rng.random(n)) * d.DAYS_PER_YEAR).astype(np.int64)
    birth_month = birth.astype("datetime64[D]").astype("datetime64[M]")
    consent_month = consent.astype("datetime64[D]").astype("datetime64[M]")
    month_differs = birth_month.astype(np.int64) % 12 != consent_month.astype(np.int64) % 12
    birth_partial = (rng.random(n) < d.PARTIAL_BIRTH_DATE_RATE) & month_differs

    fitzpatrick = rng.choice(len(d.FITZPATRICK), size=n, p=d.FITZPATRICK_P).astype(np.int8)
    iga_choices = np.array([d.BASELINE_IGA[p] for p in (1, 2, 3)])
    iga = iga_choices[phase - 1, (rng.random(n) < 0.55).astype(int)]
    bsa_range = np.array([d.BASELINE_BSA[p] for p in (1, 2, 3)])[phase - 1]
    bsa_tenths = np.round((bsa_range[:, 0] + rng.random(n) ** 1.6 * (bsa_range[:, 1] - bsa_range[:, 0])) * 10)
    assessed = kind != SCREEN_FAILURE
    return dict(
        sex=sex, race=race, ethnic=ethnic, birth=birth, birth_partial=birth_partial, fitzpatrick=fitzpatrick,
        iga=np.where(assessed, iga, -1), bsa_tenths=np.where(assessed, bsa_tenths, -1).astype(np.int64),
    )


def _randomise(plans, study, kind, rng):
    """Allocate arms to randomised subjects in each study's ratio, in random order."""
    randomised = kind != SCREEN_FAILURE
    arm_lists = []
    for plan in plans:  # one allocation list per study (exact ratio by largest remainder)
        arms = d.PHASE_ARMS[plan.phase]
        counts = d._largest_remainder(plan.participants + plan.not_treated, np.array([a.weight for a in arms]))
        arm_lists.append(np.repeat(_ARM_OFFSET[plan.phase] + np.arange(len(arms)), counts))
    allocation = np.concatenate(arm_lists)
    alloc_study = np.repeat(np.arange(len(plans)), [len(a) for a in arm_lists])
    allocation = allocation[np.lexsort((rng.random(len(allocation)), alloc_study))]
    arm = np.full(len(study), -1, dtype=np.int64)
    rand_index = np.flatnonzero(randomised)  # already grouped by study, so the lists line up
    arm[rand_index] = allocation
    return arm


# ----------------------------------------------------------------------------- exposure


def _exposure(study, kind, consent, arm, phase, rng):
    """First application, planned period 1, last application (relative day), where it stopped; planned end."""
    n = len(study)
    first_dose = consent + _between(rng, np.full(n, d.SCREENING_DAYS[0]), np.full(n, d.SCREENING_DAYS[1]))
    p1_base = np.array([d.PERIOD1_DAYS[p] for p in (1, 2, 3)])[phase - 1]
    jitter = np.array([d.PERIOD1_JITTER[p] for p in (1, 2, 3)])[phase - 1]
    period1_days = p1_base + _between(rng, jitter[:, 0], jitter[:, 1])
    planned_end = np.where(
        phase == 1, period1_days, d.STUDY_DAYS + _between(rng, np.full(n, d.STUDY_DAYS_JITTER[0]),
                                                          np.full(n, d.STUDY_DAYS_JITTER[1])))
    trt1 = np.where(arm >= 0, _ARM_TRT[np.maximum(arm, 0), 0], NO_TREATMENT)
    p1_risk = np.where(phase == 1, d.DISCONTINUE_P1["phase1"],
                       np.where(trt1 == d.VEH, d.DISCONTINUE_P1["vehicle"], d.DISCONTINUE_P1["cream"]))
    stop1 = rng.random(n) < p1_risk
    stop2 = ~stop1 & (phase > 1) & (rng.random(n) < d.DISCONTINUE_P2)
    day1 = _between(rng, np.ones(n, dtype=int), period1_days - 1)
    frac2 = rng.beta(*d.DISCONTINUE_P2_BETA, size=n)
    day2 = period1_days + 1 + np.floor(frac2 * (planned_end - period1_days - 1)).astype(np.int64)
    last_rel = np.where(stop1, day1, np.where(stop2, day2, planned_end))
    disc_period = np.where(stop1, 1, np.where(stop2, 2, 0)).astype(np.int8)
    treated = kind == PARTICIPANT
    timeline = dict(
        first_dose=np.where(treated, first_dose, -1),
        period1_days=period1_days,
        last_rel=np.where(treated, last_rel, 0),
        disc_period=np.where(treated, disc_period, 0).astype(np.int8),
    )
    return timeline, planned_end


def cream_days(arm: np.ndarray, period1_days: np.ndarray, last_rel: np.ndarray) -> np.ndarray:
    """Days on topazitinib cream per subject: last minus first cream application + 1."""
    trt1 = np.where(arm >= 0, _ARM_TRT[np.maximum(arm, 0), 0], NO_TREATMENT)
    cream_from_start = (trt1 == d.TPZ075) | (trt1 == d.TPZ15)
    return np.where(arm < 0, 0, np.where(cream_from_start, last_rel, np.maximum(0, last_rel - period1_days)))


def _tuned_last_applications(timeline: dict, planned_end: np.ndarray, arm, kind) -> np.ndarray:
    """Last applications moved for period-2 dropouts so that total cream days hit the target.

    Deterministic: the difference to :data:`design.TARGET_CREAM_DAYS` is spread evenly over the
    subjects who stopped during the extension, the last subjects taking the remainder; each stays
    strictly inside its extension period.
    """
    last_rel = timeline["last_rel"].copy()
    period1 = timeline["period1_days"]
    adjustable = np.flatnonzero((kind == PARTICIPANT) & (timeline["disc_period"] == 2))[::-1]
    lo = period1[adjustable] + 1
    hi = planned_end[adjustable] - 1
    for _ in range(100):
        total = int(cream_days(arm, period1, last_rel)[kind == PARTICIPANT].sum())
        delta = d.TARGET_CREAM_DAYS - total
        if delta == 0:
            return last_rel
        current = last_rel[adjustable]
        room = hi - current if delta > 0 else current - lo
        movable = np.flatnonzero(room > 0)
        if len(movable) == 0:
            break
        share, extra = divmod(abs(delta), len(movable))
        step = np.minimum(room[movable], share + (np.arange(len(movable)) < extra))
        last_rel[adjustable[movable]] += np.sign(delta) * step
    raise RuntimeError("demo design cannot reach the target cream exposure")  # pragma: no cover


# ----------------------------------------------------------------------------- disposition


def _disposition(kind, consent, arm, timeline, rng):
    """Final disposition reason and date (end of study) per subject."""
    n = len(kind)
    trt1 = np.where(arm >= 0, _ARM_TRT[np.maximum(arm, 0), 0], NO_TREATMENT)
    disc = timeline["disc_period"]
    table = np.where(
        (disc == 2)[:, None], np.array(d.REASON_P["period2"])[None, :],
        np.where((trt1 == d.VEH)[:, None], np.array(d.REASON_P["vehicle"])[None, :],
                 np.array(d.REASON_P["cream"])[None, :]))
    pick = (rng.random(n)[:, None] > np.cumsum(table, axis=1)[:, :-1]).sum(axis=1)
    reason = np.where(disc > 0, d.DS_DECODS.index(d.REASONS[0]) + pick, d.DS_DECODS.index(d.COMPLETED))
    not_treated = np.array([d.DS_DECODS.index(r) for r in d.NOT_TREATED_REASONS])
    reason = np.select(
        [kind == SCREEN_FAILURE, kind == NOT_TREATED],
        [d.DS_DECODS.index(d.SCREEN_FAILURE), not_treated[(rng.random(n) < 0.5).astype(int)]],
        reason,
    )

    last_dose = timeline["first_dose"] + timeline["last_rel"] - 1
    lost = reason == d.DS_DECODS.index("LOST TO FOLLOW-UP")
    follow_up = np.where(lost, _between(rng, np.full(n, d.LOST_CONTACT_DAYS[0]), np.full(n, d.LOST_CONTACT_DAYS[1])),
                         _between(rng, np.full(n, d.FOLLOW_UP_DAYS[0]), np.full(n, d.FOLLOW_UP_DAYS[1])))
    end_day = np.select(
        [kind == SCREEN_FAILURE, kind == NOT_TREATED],
        [consent + _between(rng, np.full(n, d.SCREEN_FAILURE_DAYS[0]), np.full(n, d.SCREEN_FAILURE_DAYS[1])),
         consent + _between(rng, np.full(n, d.NOT_TREATED_DAYS[0]), np.full(n, d.NOT_TREATED_DAYS[1]))],
        last_dose + follow_up,
    )
    return dict(reason=reason.astype(np.int8), end_day=end_day)


def randomisation_day(cohort: Cohort, randomized: np.ndarray) -> np.ndarray:
    """Day of each subject's randomisation (-1: none): in a randomised study (``randomized``, by
    study index), the baseline visit — a participant's first application; for a subject randomised
    but never treated, the earliest baseline the protocol allows (consent + the shortest screening,
    before their withdrawal). Screen failures and the subjects of open-label studies: none. Drawn
    from the cohort, no random numbers."""
    in_randomised = randomized[cohort.study] & (cohort.arm >= 0)
    baseline = np.where(cohort.kind == PARTICIPANT, cohort.first_dose, cohort.consent + d.SCREENING_DAYS[0])
    return np.where(in_randomised, baseline, -1)


# ----------------------------------------------------------------------------- application diary


@dataclass
class Diary:
    """One record per constant-dosing interval of each participant (the EX source)."""

    subject: np.ndarray  # cohort index
    period: np.ndarray  # 1 or 2
    treatment: np.ndarray
    start: np.ndarray  # day
    end: np.ndarray  # day
    dose_tenths: np.ndarray  # grams per application x 10

    def __len__(self) -> int:
        return len(self.subject)


def build_diary(plans: tuple[d.StudyPlan, ...], cohort: Cohort, rng: np.random.Generator) -> Diary:
    """Diary intervals between visits, contiguous within each treatment and ending at the last application.

    Interval k runs from its visit day to the day before the next visit (or the last application);
    period 2 starts the day after period 1 ends, so no interval spans two treatments.
    """
    idx = np.flatnonzero(cohort.participant)
    phase = _per_study(plans, lambda p: p.phase)[cohort.study[idx]]
    width = max(len(s) for s in d.DIARY_STARTS.values())
    p1 = cohort.period1_days[idx]
    last_rel = cohort.last_rel[idx]
    far = np.iinfo(np.int64).max // 4
    starts = np.full((len(idx), width), far, dtype=np.int64)
    for ph, schedule in d.DIARY_STARTS.items():  # a loop over the three phases' visit schedules
        rows = np.flatnonzero(phase == ph)
        for k, day in enumerate(schedule):
            if day is None:
                starts[rows, k] = p1[rows] + 1
            elif k == 0:
                starts[rows, k] = day
            else:
                starts[rows, k] = day + _between(rng, np.full(len(rows), -d.VISIT_JITTER),
                                                 np.full(len(rows), d.VISIT_JITTER))
    next_start = np.concatenate([starts[:, 1:], np.full((len(idx), 1), far)], axis=1)
    end_rel = np.minimum(next_start - 1, last_rel[:, None])
    valid = starts <= last_rel[:, None]
    row, k = np.nonzero(valid)
    start_rel = starts[row, k]
    period = np.where(start_rel > p1[row], 2, 1).astype(np.int8)
    subject = idx[row]
    treatment = np.where(period == 2, cohort.treatment2[subject], cohort.treatment1[subject])
    first = cohort.first_dose[subject]

    age = (cohort.consent[idx] - cohort.birth[idx]) / d.DAYS_PER_YEAR
    body_m2 = 0.45 + 0.075 * age
    grams = cohort.bsa_tenths[idx] / 1000 * body_m2 * d.GRAMS_PER_M2
    dose = grams[row] * (1 - 0.04 * k) * np.exp(0.12 * rng.standard_normal(len(row)))
    return Diary(
        subject=subject, period=period, treatment=treatment.astype(np.int8),
        start=first + start_rel - 1, end=first + end_rel[row, k] - 1,
        dose_tenths=np.maximum(1, np.round(dose * 10)).astype(np.int64),
    )
