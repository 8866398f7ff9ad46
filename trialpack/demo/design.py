"""The design of the demo integration: studies, arms, schedules and rates.

Everything the generator draws from is parameterised here (the MedDRA-like dictionary, the AE
profile and the EDC export styles are data files in ``trialpack/data/demo/``). The numbers are
fictional but chosen to look like a paediatric atopic-dermatitis programme of a topical JAK
inhibitor: maximum-use phase 1 studies, a dose-ranging phase 2 and four pivotal phase 3 studies,
each with an 8-week vehicle-controlled period followed by a long-term extension to week 52.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from adam.units import DAYS_PER_YEAR
from specs.errors import InputError

DEFAULT_SUBJECTS = 767
DEFAULT_STUDIES = 8
DEFAULT_SEED = 20261125

#: 509.62 patient-years x DAYS_PER_YEAR = 186139.7 days; 186138..186140 days all round to 509.62.
TARGET_CREAM_DAYS = 186139
TARGET_CREAM_YEARS = 509.62

# ----------------------------------------------------------------------------- treatments

#: Canonical treatment codes (the vendors spell them differently, see vendors.json).
TREATMENTS = ("TPZ075", "TPZ15", "VEH")
TPZ075, TPZ15, VEH = range(3)
EXTRT = {
    "TPZ075": "TOPAZITINIB CREAM 0.75%",
    "TPZ15": "TOPAZITINIB CREAM 1.5%",
    "VEH": "VEHICLE CREAM",
}
STRENGTH = {"TPZ075": 0.75, "TPZ15": 1.5, "VEH": 0.0}
GROUP_LABEL = {"TPZ075": "Cream 0.75%", "TPZ15": "Cream 1.5%", "VEH": "Vehicle"}


@dataclass(frozen=True)
class Arm:
    armcd: str
    arm: str
    treatments: tuple[int, ...]  # treatment index per period
    weight: int  # allocation weight within the study


_ARM_075 = Arm("TPZ075", "Topazitinib Cream 0.75%", (TPZ075, TPZ075), 0)
_ARM_15 = Arm("TPZ15", "Topazitinib Cream 1.5%", (TPZ15, TPZ15), 0)
_ARM_V075 = Arm("VEH-TPZ075", "Vehicle Cream, then Topazitinib Cream 0.75%", (VEH, TPZ075), 0)
_ARM_V15 = Arm("VEH-TPZ15", "Vehicle Cream, then Topazitinib Cream 1.5%", (VEH, TPZ15), 0)


def _weighted(arm: Arm, weight: int) -> Arm:
    return Arm(arm.armcd, arm.arm, arm.treatments, weight)


#: Arms per phase. Vehicle subjects learn their extension treatment at the week-8 switch, but the
#: randomisation list assigns it at baseline (blinded), so the raw ARM holds the whole sequence.
#: Phase 2 is 1:1:1 (0.75% : 1.5% : vehicle, vehicle split 1:1 for the extension); phase 3 is 2:2:1.
PHASE_ARMS: dict[int, tuple[Arm, ...]] = {
    1: (Arm("TPZ15", "Topazitinib Cream 1.5%", (TPZ15,), 1),),
    2: (_weighted(_ARM_075, 2), _weighted(_ARM_15, 2), _weighted(_ARM_V075, 1), _weighted(_ARM_V15, 1)),
    3: (_weighted(_ARM_075, 4), _weighted(_ARM_15, 4), _weighted(_ARM_V075, 1), _weighted(_ARM_V15, 1)),
}
TPHASE = {1: "PHASE I TRIAL", 2: "PHASE II TRIAL", 3: "PHASE III TRIAL"}
RANDOMIZED_PHASES = (2, 3)

# ----------------------------------------------------------------------------- studies


@dataclass(frozen=True)
class StudyTemplate:
    participants: int  # treated participants at the default size
    ages: tuple[int, int]  # age at consent, inclusive
    enrol_start: str  # ISO date of the first consent
    enrol_days: int
    countries: tuple[str, ...]


#: Study templates per phase, in study-number order; with more studies they are reused cyclically.
TEMPLATES: dict[int, tuple[StudyTemplate, ...]] = {
    1: (
        StudyTemplate(24, (12, 17), "2021-02-01", 120, ("USA",)),
        StudyTemplate(29, (6, 11), "2021-06-01", 150, ("USA",)),
        StudyTemplate(32, (2, 5), "2021-11-01", 180, ("USA",)),
    ),
    2: (StudyTemplate(78, (2, 17), "2021-03-01", 200, ("USA", "CAN")),),
    3: (
        StudyTemplate(140, (2, 17), "2021-04-01", 330, ("USA", "CAN", "DEU", "POL")),
        StudyTemplate(149, (2, 17), "2021-05-15", 340, ("USA", "GBR", "FRA", "ESP")),
        StudyTemplate(154, (2, 17), "2021-07-01", 350, ("USA", "CAN", "POL", "ITA")),
        StudyTemplate(161, (2, 17), "2021-08-15", 360, ("USA", "DEU", "JPN", "AUS")),
    ),
}
#: Phase mix of the programme (3 phase 1 : 1 phase 2 : 4 phase 3); listed largest share first so
#: rounding ties go to phase 3, and every programme has at least one phase 3 study.
PHASE_SHARES = ((3, 4), (1, 3), (2, 1))
PHASE_ORDER = (1, 2, 3)  # study order in the ISS
MIN_PARTICIPANTS = 5  # per study
SCREEN_FAILURE_RATE = 0.08  # per participant, at least 2 per study
NOT_TREATED_RATE = 0.006  # randomised but never treated, phase 2/3 only, at least 1 per study
SUBJECTS_PER_SITE = 15

VENDORS = ("rave", "inform", "legacy", "vault")  # EDC export styles, assigned cyclically

STUDY_TITLES = {
    1: "An Open-Label, Maximum-Use Study of Topazitinib Cream 1.5% Twice Daily in Children Aged "
       "{lo} to {hi} Years With Extensive Atopic Dermatitis",
    2: "A Randomized, Double-Blind, Vehicle-Controlled, Dose-Ranging Study of Topazitinib Cream in "
       "Children and Adolescents With Atopic Dermatitis, Followed by a Long-Term Extension",
    3: "A Randomized, Double-Blind, Vehicle-Controlled Study of Topazitinib Cream in Children Aged "
       "2 to 17 Years With Atopic Dermatitis, Followed by a Long-Term Extension to Week 52",
}


@dataclass(frozen=True)
class StudyPlan:
    """One study of the generated programme."""

    index: int
    studyid: str
    phase: int
    template: StudyTemplate
    participants: int
    screen_failures: int
    not_treated: int
    vendor: str
    file_format: str  # "csv" or "xlsx"

    @property
    def arms(self) -> tuple[Arm, ...]:
        return PHASE_ARMS[self.phase]

    @property
    def subjects(self) -> int:
        return self.participants + self.screen_failures + self.not_treated

    @property
    def randomized(self) -> bool:
        """Phase 2 and 3 studies randomise (a randomisation list at baseline); the phase 1 studies
        are open-label and single-arm."""
        return self.phase in RANDOMIZED_PHASES

    @property
    def title(self) -> str:
        lo, hi = self.template.ages
        return STUDY_TITLES[self.phase].format(lo=lo, hi=hi)


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into integers proportional to ``weights`` (ties to the first)."""
    weights = np.asarray(weights, dtype=float)
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    short = total - int(counts.sum())
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:short]] += 1
    return counts


def _proportional_sizes(total: int, weights: np.ndarray) -> np.ndarray:
    """``total`` split in proportion to ``weights``, none below MIN_PARTICIPANTS."""
    floor = np.zeros(len(weights), dtype=bool)
    while True:  # at most one round per study
        sizes = _largest_remainder(total - MIN_PARTICIPANTS * int(floor.sum()), np.where(floor, 0.0, weights))
        sizes[floor] = MIN_PARTICIPANTS
        short = (sizes < MIN_PARTICIPANTS) & ~floor
        if not short.any():
            return sizes
        floor |= short


def phase_counts(studies: int) -> dict[int, int]:
    """Number of studies per phase for ``studies`` in total (3:1:4 as in the default programme)."""
    phases = [phase for phase, _ in PHASE_SHARES]
    counts = _largest_remainder(studies, np.array([share for _, share in PHASE_SHARES]))
    return dict(zip(phases, (int(c) for c in counts)))


def _studyid(phase: int, number: int) -> str:
    return f"TPZ-AD-{phase}{number:02d}"


def plan_studies(subjects: int = DEFAULT_SUBJECTS, studies: int = DEFAULT_STUDIES) -> tuple[StudyPlan, ...]:
    """The studies of a programme of ``subjects`` participants in ``studies`` studies.

    Participants are split in proportion to the templates' default sizes (largest remainder), a
    study that would get fewer than :data:`MIN_PARTICIPANTS` getting that many instead; at the
    defaults the split is exactly the templates' sizes (24, 29, 32 phase 1; 78 phase 2; 140, 149,
    154, 161 phase 3 = 767).
    """
    _check_size(subjects, studies)
    per_phase = phase_counts(studies)
    chosen: list[tuple[int, int, StudyTemplate]] = []
    for phase in PHASE_ORDER:
        templates = TEMPLATES[phase]
        for number in range(1, per_phase[phase] + 1):
            chosen.append((phase, number, templates[(number - 1) % len(templates)]))
    sizes = _proportional_sizes(subjects, np.array([t.participants for _, _, t in chosen], dtype=float))
    smallest = int(np.argmin(sizes))  # first study of the smallest size exports .xlsx
    plans = []
    for index, ((phase, number, template), size) in enumerate(zip(chosen, sizes)):
        size = int(size)
        plans.append(StudyPlan(
            index=index,
            studyid=_studyid(phase, number),
            phase=phase,
            template=template,
            participants=size,
            screen_failures=max(2, round(SCREEN_FAILURE_RATE * size)),
            not_treated=0 if phase == 1 else max(1, round(NOT_TREATED_RATE * size)),
            vendor=VENDORS[index % len(VENDORS)],
            file_format="xlsx" if index == smallest else "csv",
        ))
    return tuple(plans)


def _check_size(subjects: int, studies: int) -> None:
    if isinstance(studies, bool) or not isinstance(studies, (int, np.integer)) or studies < 1:
        raise InputError(f"studies must be a positive integer, got {studies!r}")
    if isinstance(subjects, bool) or not isinstance(subjects, (int, np.integer)):
        raise InputError(f"subjects must be an integer, got {subjects!r}")
    if subjects < MIN_PARTICIPANTS * studies:
        raise InputError(
            f"subjects must be at least {MIN_PARTICIPANTS} per study "
            f"({MIN_PARTICIPANTS * studies} for {studies} studies), got {subjects}"
        )


def sites_per_study(total_subjects: int) -> int:
    return max(2, math.ceil(total_subjects / SUBJECTS_PER_SITE))


# ----------------------------------------------------------------------------- schedule

SCREENING_DAYS = (7, 30)  # consent to first application, inclusive
PERIOD1_DAYS = {1: 28, 2: 56, 3: 56}  # planned days of period 1 (phase 1: the whole treatment)
PERIOD1_JITTER = {1: (-1, 2), 2: (-2, 3), 3: (-2, 3)}
STUDY_DAYS = 364  # planned treatment days to week 52 (phases 2 and 3)
STUDY_DAYS_JITTER = (-4, 6)
#: First day (relative, day 1 = first application) of each application-diary interval; None marks
#: the start of period 2 (the day after period 1 ends). Visit days are jittered by VISIT_JITTER.
DIARY_STARTS = {1: (1, 8, 15), 2: (1, 15, 29, None, 85, 113, 169, 253), 3: (1, 15, 29, None, 85, 113, 169, 253)}
VISIT_JITTER = 2
GRAMS_PER_M2 = 14.0  # cream per application per m2 of treated skin (fingertip-unit rule)
FOLLOW_UP_DAYS = (28, 42)  # last application to the safety follow-up visit (end of study)
LOST_CONTACT_DAYS = (0, 4)  # last application to last contact for subjects lost to follow-up
SCREEN_FAILURE_DAYS = (5, 25)  # consent to screen-failure disposition
NOT_TREATED_DAYS = (10, 30)  # consent to withdrawal of a randomised, never-treated subject

#: Probability of discontinuing during period 1 (by period-1 treatment) and period 2.
DISCONTINUE_P1 = {"phase1": 0.04, "cream": 0.05, "vehicle": 0.09}
DISCONTINUE_P2 = 0.34
#: Discontinuations in period 2 happen at Beta(a, b) of the way through it (early-heavy).
DISCONTINUE_P2_BETA = (1.0, 1.8)

#: NCOMPLT reasons (DS.DSDECOD) and their probabilities among discontinuations.
COMPLETED = "COMPLETED"
SCREEN_FAILURE = "SCREEN FAILURE"
REASONS = (
    "ADVERSE EVENT", "WITHDRAWAL BY SUBJECT", "WITHDRAWAL BY PARENT/GUARDIAN",
    "LOST TO FOLLOW-UP", "PHYSICIAN DECISION", "LACK OF EFFICACY",
)
REASON_P = {
    "cream": (0.20, 0.22, 0.24, 0.16, 0.10, 0.08),
    "vehicle": (0.15, 0.18, 0.18, 0.12, 0.07, 0.30),
    "period2": (0.14, 0.27, 0.27, 0.18, 0.09, 0.05),
}
NOT_TREATED_REASONS = ("WITHDRAWAL BY SUBJECT", "WITHDRAWAL BY PARENT/GUARDIAN")
DS_DECODS = (COMPLETED, *REASONS, SCREEN_FAILURE)
#: Verbatim disposition terms (DS.DSTERM) per reason, as sites write them.
DS_TERMS = {
    COMPLETED: ("Completed", "Completed study period", "Subject completed treatment period"),
    "ADVERSE EVENT": ("Adverse event", "Discontinued due to AE", "AE - see AE log"),
    "WITHDRAWAL BY SUBJECT": ("Subject withdrew", "Patient no longer wishes to participate", "Withdrew from study"),
    "WITHDRAWAL BY PARENT/GUARDIAN": ("Parent withdrew consent", "Parent/guardian decision", "Family relocated"),
    "LOST TO FOLLOW-UP": ("Lost to follow-up", "Unable to contact family", "LTFU"),
    "PHYSICIAN DECISION": ("Investigator decision", "PI decision to withdraw"),
    "LACK OF EFFICACY": ("Lack of efficacy", "No improvement", "Eczema not improving"),
    SCREEN_FAILURE: ("Screen failure", "Did not meet inclusion criteria", "IGA outside range at screening"),
}

# ----------------------------------------------------------------------------- subjects

SEX_VALUES = ("F", "M")
RACES = ("WHITE", "BLACK OR AFRICAN AMERICAN", "ASIAN", "AMERICAN INDIAN OR ALASKA NATIVE",
         "NATIVE HAWAIIAN OR OTHER PACIFIC ISLANDER", "OTHER")
RACE_P = (0.68, 0.16, 0.09, 0.02, 0.01, 0.04)
ETHNICS = ("HISPANIC OR LATINO", "NOT HISPANIC OR LATINO")
HISPANIC_P = {"USA": 0.18, "other": 0.03}
FITZPATRICK = ("I", "II", "III", "IV", "V", "VI")
FITZPATRICK_P = (0.06, 0.28, 0.30, 0.18, 0.11, 0.07)
#: Baseline disease: IGA score choices and % body surface area range, by phase.
BASELINE_IGA = {1: (3, 4), 2: (2, 3), 3: (2, 3)}
BASELINE_BSA = {1: (35.0, 90.0), 2: (3.0, 20.0), 3: (3.0, 20.0)}
PARTIAL_BIRTH_DATE_RATE = 0.015  # DM birth dates written with an unknown day

# ----------------------------------------------------------------------------- raw quirks

#: Coded values (mapped by value_maps, matched trimmed and case-insensitively): probability of being
#: written as is, in lower case, with a trailing space, with a leading space.
CODED_QUIRK_P = (0.94, 0.03, 0.02, 0.01)
#: Verbatim text (AETERM, DSTERM): as is, -, trailing space, leading space.
TEXT_QUIRK_P = (0.97, 0.0, 0.02, 0.01)
#: Treatment codes and arms (matched case-insensitively, not trimmed): as is or lower case.
CASE_QUIRK_P = (0.97, 0.03, 0.0, 0.0)
#: Share of dates written in the vendor's first (main) format; the rest use its other date formats.
MAIN_DATE_FORMAT_P = 0.8
#: Date range every generated date must fall in (the vocabulary of rendered dates).
DATE_RANGE = ("2000-01-01", "2025-12-31")

# ----------------------------------------------------------------------------- adverse events

#: AE rate per patient-year by exposure state: before the first application, on vehicle, on cream,
#: after the last application. Terms per state come from ae_profile.csv.
STATES = ("pre", "vehicle", "cream", "post")
AE_RATE = {"pre": 0.5, "vehicle": 1.3, "cream": 1.6, "post": 1.0}
SEVERITY = ("MILD", "MODERATE", "SEVERE")
SEVERITY_P = (0.64, 0.31, 0.05)
RELATIONS = ("NOT RELATED", "UNLIKELY RELATED", "POSSIBLY RELATED", "RELATED")
UNLIKELY_SHARE = 0.2  # of unrelated AEs judged "unlikely related"
RELATED_SHARE = 0.4  # of related AEs judged "related" (rest "possibly related")
OUTCOMES = ("RECOVERED/RESOLVED", "RECOVERED/RESOLVED WITH SEQUELAE", "NOT RECOVERED/NOT RESOLVED",
            "RECOVERING/RESOLVING")
SEQUELAE_RATE = 0.01
ACTIONS = ("DOSE NOT CHANGED", "DRUG INTERRUPTED", "DRUG WITHDRAWN", "NOT APPLICABLE")
INTERRUPT_P = {"site": 0.15, "other": 0.03}  # application-site reactions vs other AEs, on treatment
DURATION_SIGMA = 0.6  # lognormal spread of AE durations
PARTIAL_START_P = (0.035, 0.01)  # unknown day; unknown day and month
PARTIAL_END_P = (0.03, 0.005)  # unknown day; unknown day and month
TIME_OF_DAY_P = 0.15  # AE start times, where the vendor records them
#: Terms given to the AE that made a subject stop treatment (DS reason ADVERSE EVENT).
WITHDRAWAL_TERMS = ("Application site pain", "Application site pruritus", "Dermatitis atopic",
                    "Application site erythema", "Urticaria")
SERIOUS_FLAGS = ("AESDTH", "AESLIFE", "AESHOSP", "AESDISAB", "AESCONG", "AESMIE")


@dataclass(frozen=True)
class SeriousEvent:
    """A scripted serious AE: ``count`` per 767 participants, placed on an AE of ``on``."""

    llt: str
    on: int  # treatment index the AE starts on
    flag: str  # the seriousness criterion
    severity: str
    relation: str
    action: str
    days: int
    specify: str | None = None
    only_on: bool = False  # subject never received another treatment
    count: int = 1


#: The only serious AEs: two serious infections on cream 1.5% (not related) and four others.
SERIOUS_EVENTS = (
    SeriousEvent("Cellulitis", TPZ15, "AESHOSP", "SEVERE", "NOT RELATED", "DRUG INTERRUPTED", 12, only_on=True),
    SeriousEvent("Pneumonia", TPZ15, "AESHOSP", "MODERATE", "NOT RELATED", "DOSE NOT CHANGED", 9, only_on=True),
    SeriousEvent("Dermatitis atopic", VEH, "AESHOSP", "SEVERE", "UNLIKELY RELATED", "DRUG INTERRUPTED", 16),
    SeriousEvent("Asthma", TPZ075, "AESHOSP", "SEVERE", "NOT RELATED", "DOSE NOT CHANGED", 5),
    SeriousEvent("Forearm fracture", TPZ15, "AESHOSP", "MODERATE", "NOT RELATED", "DOSE NOT CHANGED", 42),
    SeriousEvent("Febrile convulsion", TPZ075, "AESMIE", "MODERATE", "NOT RELATED", "DOSE NOT CHANGED", 1,
                 specify="Emergency department visit for febrile seizure"),
)
