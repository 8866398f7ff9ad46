"""Deterministic demo data: raw EDC exports, study configs and the ISS config of a fictional programme.

``generate(out_dir)`` writes, for the integrated safety analysis of topazitinib cream (a fictional
topical JAK inhibitor) in children aged 2-17 with atopic dermatitis::

    out_dir/iss.json                        ISS config ("studies": ["studies/<studyid>.json", ...])
    out_dir/queries.csv                     its query file (fictional standardised queries, adam.queries)
    out_dir/studies/<studyid>.json          study config per study ("raw": {"dir": "../raw/<studyid>"})
    out_dir/raw/<studyid>/dm ae ex ds.csv   raw EDC exports (the smallest study exports .xlsx)

``<studyid>`` is the lower-cased STUDYID; paths inside configs are relative to the config file.
``out_dir/raw`` and ``out_dir/studies`` are replaced as a whole (built beside and swapped in), so
files of an earlier, larger run never linger. Same arguments -> byte-identical files.

The programme (``design.py``; defaults ``DEMO_DEFAULTS``)
----------------------------------------------------------
* 8 studies: TPZ-AD-101..103 (phase 1, open-label maximum use, cream 1.5% BID for 4 weeks; age
  cohorts 12-17, 6-11, 2-5), TPZ-AD-201 (phase 2, 0.75% : 1.5% : vehicle 1:1:1 for 8 weeks) and
  TPZ-AD-301..304 (phase 3, 2:2:1 for 8 weeks); phases 2 and 3 continue with a long-term extension
  on cream to week 52. Vehicle subjects get 0.75% or 1.5% (1:1) in the extension; the randomisation
  list assigns that at baseline, so the raw ARM holds the whole sequence ("Vehicle / TPZ 1.5%") and
  each study config lists 4 arms (TPZ075, TPZ15, VEH-TPZ075, VEH-TPZ15; phase 1: TPZ15).
* 767 participants (24, 29, 32, 78, 140, 149, 154, 161), aged 2-17 at consent. A participant is a
  subject with at least one valid EX record. Every study also has screen failures (8%, at least 2:
  DM row with blank ARM, DS row with blank PERIOD, no EX or AE) and phases 2/3 have randomised but
  never treated subjects (ARM filled, DS withdrawal in period 1, no EX or AE); neither is a
  participant. No subject is in two studies and nobody dies.
* Exposure: each participant's application diary (EX) has one row per visit interval; within a
  treatment the rows are contiguous (no gap, no overlap) with complete dates, and period 2 starts
  the day after period 1 ends. Days on a treatment = last EXENDAT - first EXSTDAT + 1; at the
  default size and studies (any seed) the total on cream is tuned to 186139 days = 509.62
  patient-years (days / DAYS_PER_YEAR) by moving the last application of subjects who stopped during the
  extension.
* Disposition (DS): one record per period and subject: period 1 "completed" on its last day for
  those who went on, then the final record (completion or reason) dated at the end of study (the
  safety follow-up visit 28-42 days after the last application; 0-4 days for lost to follow-up),
  so the last DS date is on or after every AE date. Dates 2021-2023, data cut-off 2023-12-31.
* Adverse events (``events.py``, ``trialpack/data/demo/ae_profile.csv`` and ``meddra_demo.csv``, a
  small MedDRA-like dictionary whose codes are illustrative): per-state rates per patient-year
  (before first application 0.5, vehicle 1.3, cream 1.6, after last application 1.0), so some AEs
  start before the first dose and some more than 30 days after the last; the pooled cream TEAE
  rate per patient-year ends up mildly above vehicle's (1.57 vs 1.53 at the defaults). Ongoing AEs
  (end after end of study) have a blank end date, AEONGO Y and outcome NOT RECOVERED/NOT RESOLVED;
  the others RECOVERED/RESOLVED (1% with sequelae). Every AE has all six seriousness flags (one vendor leaves
  them blank when the AE is not serious) and AESER is Y exactly when one of them is. The only
  serious AEs are scripted (``design.SERIOUS_EVENTS``, count per 767 participants): hospitalised
  cellulitis and pneumonia on cream 1.5% in subjects never exposed to anything else, both NOT
  RELATED (the two serious infections), and four others (atopic dermatitis flare on vehicle,
  asthma on 0.75%, forearm fracture on 1.5%, febrile convulsion on 0.75% with AESMIE and AESOSP).
  Subjects who stopped for an adverse event have an AE with action DRUG WITHDRAWN near their last
  application. No MACE, thromboembolic, neoplasm or fatal terms exist in the dictionary.

Raw exports and quirks (``render.py``, ``trialpack/data/demo/vendors.json``)
---------------------------------------------------------------------------
Four EDC export styles ("rave", "inform", "legacy", "vault") are assigned to the studies in turn;
each has its own headers ("Subject", "Subject ID", "SUBJECT_ID", "Subj"), date formats, spellings
and subject numbers (``<site>-<nnn>`` or ``<site><nnn>``; sites are ``<country position><nn>``).
* Dates mix the style's formats within each file (80% the first one); every format used is in the
  study's ``raw.date_formats``. AE start/end dates and 1.5% of birth dates have unknown parts,
  written in the style's ``partial_format`` with its ``unknown_date_tokens`` ("UN JAN 2021",
  "UN UNK 2021", "UK-UNK-2022"); birth dates only ever lack the day, and only when the birth month
  differs from the consent month, so AGE at consent is still exact. One style adds times
  ("2022-03-04 14:35") to some AE starts. EX dates are always complete.
* Coded values (SEX, RACE, ETHNIC, COUNTRY, AESEV, AESER, the six flags, AEONGO, AEREL, AEOUT, AEACN,
  DSDECOD, EXLOC) are written in the style's spelling ("Female", "Caucasian", "2" for female, "US",
  "1 - Mild", "Temporarily interrupted") and 6% of them in lower case or with a leading or trailing
  space. ``value_maps`` has, per field, every spelling of the style's codelist that is not literally
  the CDISC value, plus (keyed by its trimmed text) each variant found in the data that is not
  literally the CDISC value ("f" -> F, "mild" -> MILD, " Y" -> {"Y": "Y"}); only raw values that are
  exactly the CDISC value rely on the "accepted as is" rule.
* Stray spaces are only ever in those coded values and in the free text AETERM and DSTERM. EXTRT
  codes and ARM values are sometimes lower case (both are matched case-insensitively) but never
  padded; PERIOD, SUBJID, SITEID and dates are never padded (numbers keep their leading zeros).
  "N/A" (AEACN) and "None" (AEREL, AEACN) are real raw values: readers must not turn pandas'
  default NA strings into missing values.
* CSV files quote every text value; one style uses ";" as delimiter (given in the config). The
  XLSX study has one worksheet per file (named in the config's ``sheet``), text cells for text and
  numeric cells for AESPID, EXDOSE, IGABL, BSABL and the dictionary codes; document properties and
  zip timestamps are fixed.
* Supplemental fields: DM FITZPAT (Fitzpatrick skin type), IGABL (baseline IGA), BSABL (baseline %
  body surface area; IGABL and BSABL blank for screen failures); AE AESOSP.

Invalid records (``invalid.py``, manifest ``INVALID_RECORDS``)
-------------------------------------------------------------
Five extra rows, each right after the row it copies, in the phase 3 studies (kind j in the j-th
phase 3 study, cyclically; at the defaults):

* TPZ-AD-301 DM: an exact duplicate of a participant's DM row;
* TPZ-AD-302 AE: an AE of subject number 000 at a real site (``101000``), who is not in DM;
* TPZ-AD-303 AE: an AE row with an empty AETERM (and the next AESPID);
* TPZ-AD-304 EX: a diary row with a negative EXDOSE;
* TPZ-AD-301 EX: a diary row whose EXSTDAT is 30 February 2022.

Mappers must reject each with a reason; none changes a total. With ``ae_per_subject=0`` there are
no AE rows to copy, so the two AE records are not written.

Scaling
-------
``subjects=N, studies=K`` keeps the design: phases 3:1:4 of K (largest remainder; ties go to phase
3, then phase 1),
participants split in proportion to the template sizes (at least 5 per study), the same rates and
per-subject exposure distribution; the scripted serious AEs scale with N/767. Only the default
size is tuned to 509.62 patient-years. ``ae_per_subject`` replaces the Poisson AE count by a fixed
count per participant (its floor or ceiling, mean exactly the value), for benchmarks.
"""
from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from specs.errors import InputError
from trialpack.process.atomic import atomic_dir, atomic_path

from . import design
from .cohort import PARTICIPANT, build_cohort, build_diary, site_countries, slice_rows
from .configs import iss_config, raw_file_name, study_config, study_file_name, study_sites
from .data import profile as _profile
from .data import query_file_text
from .data import vendors as _vendors
from .events import build_events
from .invalid import InvalidRecord, invalid_records, plant
from .render import NUMERIC_FIELDS, Renderer, Widths, export_fields, render_programme, site_labels
from .writers import write_csv, write_xlsx

__all__ = [
    "DEMO_DEFAULTS", "DEMO_HEADLINE", "INVALID_RECORDS", "InvalidRecord", "expected_headline", "generate",
    "invalid_records", "plan_studies",
]

plan_studies = design.plan_studies

DEMO_DEFAULTS = {
    "subjects": design.DEFAULT_SUBJECTS,
    "studies": design.DEFAULT_STUDIES,
    "seed": design.DEFAULT_SEED,
}

INVALID_RECORDS: tuple[InvalidRecord, ...] = invalid_records()


def expected_headline(subjects: int = design.DEFAULT_SUBJECTS, studies: int = design.DEFAULT_STUDIES) -> dict:
    """What the pooled analysis of ``generate(..., subjects=, studies=)`` must show.

    ``cream_patient_years`` is only fixed (509.62) at the default size; the serious-infection
    count assumes AEs are generated (not ``ae_per_subject=0``).
    """
    plans = design.plan_studies(subjects, studies)
    infections = sum(round(ev.count * subjects / design.DEFAULT_SUBJECTS) for ev in design.SERIOUS_EVENTS
                     if ev.llt in ("Cellulitis", "Pneumonia"))
    default = (subjects, studies) == (design.DEFAULT_SUBJECTS, design.DEFAULT_STUDIES)
    return {
        "studies": len(plans),
        "phases": {design.TPHASE[ph]: sum(p.phase == ph for p in plans) for ph in design.PHASE_ORDER},
        "participants": subjects,
        "participants_per_study": {p.studyid: p.participants for p in plans},
        "age_range": (2, 17),
        "cream_patient_years": design.TARGET_CREAM_YEARS if default else None,
        "serious_infections": infections,
        "serious_infections_group": design.GROUP_LABEL["TPZ15"],
        "serious_infections_related": 0,
        "mace": 0,
        "thromboembolic": 0,
        "malignancies": 0,
        "deaths": 0,
        "invalid_records": len(invalid_records(studies)),
    }


DEMO_HEADLINE = expected_headline()


def generate(out_dir: str | Path, *, subjects: int = design.DEFAULT_SUBJECTS, studies: int = design.DEFAULT_STUDIES,
             seed: int = design.DEFAULT_SEED, ae_per_subject: float | None = None) -> Path:
    """Write the demo programme's raw exports and configs under ``out_dir``; return the ISS config path."""
    _check_arguments(seed, ae_per_subject)
    plans = design.plan_studies(subjects, studies)
    rng = np.random.default_rng(seed)
    tune = (subjects, studies) == (design.DEFAULT_SUBJECTS, design.DEFAULT_STUDIES)
    cohort = build_cohort(plans, rng, tune=tune)
    diary = build_diary(plans, cohort, rng)
    events = build_events(cohort, _profile(), rng, ae_per_subject)
    styles = _vendors()
    renderer = Renderer(plans, styles, rng, Widths.of(cohort))
    records = invalid_records(studies)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_dir(out_dir / "raw") as raw_dir, atomic_dir(out_dir / "studies") as study_dir:
        for chunk in _chunks(plans):  # whole studies, a bounded number of subjects at a time
            _write_chunk(renderer, chunk, cohort, diary, events, records, raw_dir, study_dir)
    with atomic_path(out_dir / "queries.csv") as tmp:
        tmp.write_text(query_file_text(), encoding="utf-8")
    iss_path = out_dir / "iss.json"
    with atomic_path(iss_path) as tmp:
        _write_json(tmp, iss_config(plans))
    return iss_path


def _write_chunk(renderer: Renderer, chunk, cohort, diary, events, records, raw_dir: Path, study_dir: Path) -> None:
    """Render some studies, plant their invalid records, write their raw files and configs."""
    part, rendered = _render_chunk(renderer, chunk, cohort, diary, events)
    labels = np.asarray(site_labels(part, renderer.widths).to_numpy(zero_copy_only=False))
    country = site_countries(renderer.plans, part.study, part.site_country)
    jobs = []
    for plan in chunk:
        style = renderer.styles[plan.vendor]
        in_study = part.study == plan.index
        tables = plant(
            _study_tables(rendered, plan.index), [r for r in records if r.studyid == plan.studyid],
            style=style, participant_rows=np.flatnonzero(part.kind[in_study] == PARTICIPANT),
            seq_width=renderer.widths.seq, rng=renderer.rng)
        folder = raw_dir / plan.studyid.lower()
        folder.mkdir()
        jobs += [(table, folder / raw_file_name(plan, domain), plan, style, domain)
                 for domain, table in tables.items()]
        config = study_config(plan, style, study_sites(labels[in_study], country[in_study]),
                              renderer.value_maps.get(plan.index, {}))
        _write_json(study_dir / study_file_name(plan), config)
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:  # Arrow writes without the GIL
        for done in [pool.submit(_write_raw, *job) for job in jobs]:
            done.result()


CHUNK_SUBJECTS = 15_000


def _chunks(plans: tuple[design.StudyPlan, ...]) -> list[tuple[design.StudyPlan, ...]]:
    """Consecutive studies grouped to at most CHUNK_SUBJECTS subjects (a bigger study goes alone)."""
    chunks: list[tuple[design.StudyPlan, ...]] = []
    current: list[design.StudyPlan] = []
    size = 0
    for plan in plans:
        if current and size + plan.subjects > CHUNK_SUBJECTS:
            chunks.append(tuple(current))
            current, size = [], 0
        current.append(plan)
        size += plan.subjects
    if current:
        chunks.append(tuple(current))
    return chunks


def _render_chunk(renderer: Renderer, chunk, cohort, diary, events):
    lo, hi = (int(x) for x in np.searchsorted(cohort.study, [chunk[0].index, chunk[-1].index + 1]))
    part = slice_rows(cohort, lo, hi)
    ev_lo, ev_hi = np.searchsorted(events.subject, [lo, hi])
    ex_lo, ex_hi = np.searchsorted(diary.subject, [lo, hi])
    rendered = render_programme(
        renderer, part, slice_rows(diary, int(ex_lo), int(ex_hi), subject_offset=lo),
        slice_rows(events, int(ev_lo), int(ev_hi), subject_offset=lo), _profile())
    return part, rendered


def _check_arguments(seed, ae_per_subject) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    if ae_per_subject is not None and (isinstance(ae_per_subject, bool)
                                       or not isinstance(ae_per_subject, (int, float, np.number))
                                       or not np.isfinite(ae_per_subject) or ae_per_subject < 0):
        raise InputError(f"ae_per_subject must be a non-negative number, got {ae_per_subject!r}")


def _study_tables(rendered, study: int) -> dict:
    tables = {}
    for domain, table in rendered.tables.items():
        rows = rendered.row_study[domain]
        lo, hi = np.searchsorted(rows, [study, study + 1])
        tables[domain] = table.slice(int(lo), int(hi - lo))
    return tables


def _write_raw(table, path: Path, plan: design.StudyPlan, style: dict, domain: str) -> None:
    headers = export_fields(plan, style["columns"][domain])
    table = table.select(list(headers)).rename_columns(list(headers.values()))
    if plan.file_format == "xlsx":
        numeric = frozenset(headers[f] for f in NUMERIC_FIELDS if f in headers)
        write_xlsx(table, path, sheet=style["sheets"][domain], numeric=numeric)
    else:
        write_csv(table, path, delimiter=style["delimiter"])


def _write_json(path: Path, value: dict) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=True) + "\n", encoding="utf-8")
