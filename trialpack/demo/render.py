"""Render the generated programme as raw EDC exports: vendor spellings, date formats and quirks.

Every column is built as text with Arrow kernels: a small vocabulary of every string the column
can hold (per vendor, per quirk) and one ``take`` by index, so 1.5 million AE rows render in well
under a second. The value maps of the study configs are collected while rendering, so they list
exactly the raw spellings each study's files use.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import design as d
from .cohort import (
    ALL_ARMS, NOT_TREATED, PARTICIPANT, SCREEN_FAILURE, Cohort, Diary, epoch_day, randomisation_day, site_countries,
)
from .data import DICTIONARY_FIELDS, Profile
from .events import Events, specify_texts

#: CDASH-like fields of each raw file, in the order a full export would list them.
FIELDS = {
    "DM": ("SUBJID", "SITEID", "BRTHDAT", "SEX", "RACE", "ETHNIC", "COUNTRY", "RFICDAT", "ARM", "RANDDAT",
           "FITZPAT", "IGABL", "BSABL"),
    "AE": ("SUBJID", "AESPID", "AETERM", *DICTIONARY_FIELDS, "AESTDAT", "AEENDAT", "AEONGO", "AESEV",
           "AESER", *d.SERIOUS_FLAGS, "AEREL", "AEOUT", "AEACN", "AESOSP"),
    "EX": ("SUBJID", "EXTRT", "PERIOD", "EXSTDAT", "EXENDAT", "EXDOSE", "EXDOSFRQ", "EXLOC"),
    "DS": ("SUBJID", "DSTERM", "DSDECOD", "DSSTDAT", "PERIOD"),
}
DATE_FIELDS = frozenset({"BRTHDAT", "RFICDAT", "RANDDAT", "AESTDAT", "AEENDAT", "EXSTDAT", "EXENDAT", "DSSTDAT"})
#: Fields only a randomised study's export has.
RANDOMIZED_FIELDS = frozenset({"RANDDAT"})


def export_fields(plan: d.StudyPlan, columns: dict[str, str]) -> dict[str, str]:
    """The fields (and headers) of a study's export: the vendor's, without the randomisation
    date in a study that does not randomise."""
    return {f: h for f, h in columns.items() if plan.randomized or f not in RANDOMIZED_FIELDS}
#: Fields written as numeric cells in XLSX exports.
NUMERIC_FIELDS = frozenset({"AESPID", "EXDOSE", "IGABL", "BSABL", "AELLTCD", "AEPTCD", "AEHLTCD",
                            "AEHLGTCD", "AEBDSYCD"})
NY = ("Y", "N")
NY_FIELDS = ("AESER", "AEONGO", *d.SERIOUS_FLAGS)
SINGLE_PERIOD = "single"


def countries(plans: tuple[d.StudyPlan, ...]) -> tuple[str, ...]:
    return tuple(sorted({c for p in plans for c in p.template.countries}))


@dataclass
class Rendered:
    """Raw tables of all studies (columns named by CDASH-like field), rows grouped by study."""

    tables: dict[str, pa.Table]
    row_study: dict[str, np.ndarray]
    subjid: pa.Array  # per cohort subject
    ae_subject: np.ndarray  # cohort index of each AE row
    ex_subject: np.ndarray


@dataclass(frozen=True)
class Widths:
    """Zero-padded widths of site and subject numbers, fixed for the whole programme."""

    site: int
    seq: int

    @classmethod
    def of(cls, cohort: Cohort) -> Widths:
        return cls(site=_digits(cohort.site_number, 2), seq=_digits(cohort.seq, 3))


@dataclass
class Renderer:
    """Renders rows of any subset of studies; value maps accumulate per study across calls."""

    plans: tuple[d.StudyPlan, ...]
    styles: dict
    rng: np.random.Generator
    widths: Widths
    value_maps: dict[int, dict[str, dict[str, str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # fields added to the exports later draw their date formats from a generator of their own,
        # so that every value rendered before (and the demo's numbers) stays as it was
        self.later_rng = np.random.default_rng(self.rng.bit_generator.seed_seq.spawn(1)[0])
        self.vendor_names = tuple(self.styles)
        self.vendor_of_study = np.array([self.vendor_names.index(p.vendor) for p in self.plans])
        self.dates = _DateVocabulary([self.styles[v] for v in self.vendor_names])

    def vendor(self, study: np.ndarray) -> np.ndarray:
        return self.vendor_of_study[study]

    # ---------------------------------------------------------------- coded values

    def coded(self, domain: str, name: str, values: tuple[str, ...], code: np.ndarray, study: np.ndarray,
              *, key: str | None = None, quirks=d.CODED_QUIRK_P) -> pa.Array:
        """Standard values ``values[code]`` (-1 = null) in each row's vendor spelling, with quirks.

        The value map of field ``name`` of each study whose export has the field gets every vendor
        spelling that is not the standard value, and (keyed by its trimmed text) every quirk variant
        in the data that is not literally the standard value, so only exact standard values rely on
        the mappers' "accepted as is" rule.
        """
        key = key or name
        spellings: list[tuple[int, int, str]] = []  # (vendor, value, text)
        offset = np.zeros((len(self.vendor_names), len(values)), dtype=np.int64)
        count = np.zeros_like(offset)
        for v, vendor in enumerate(self.vendor_names):  # vocabulary: vendors x values
            table = self.styles[vendor]["values"].get(key, {})
            for c, value in enumerate(values):
                alternatives = table.get(value, [value])
                offset[v, c], count[v, c] = len(spellings), len(alternatives)
                spellings += [(v, c, text) for text in alternatives]
        vocabulary = [variant for _, _, text in spellings for variant in _quirk_variants(text)]
        vendor = self.vendor(study)
        safe = np.maximum(code, 0)
        base = offset[vendor, safe] + np.floor(self.rng.random(len(code)) * count[vendor, safe]).astype(np.int64)
        quirk = np.searchsorted(np.cumsum(quirks), self.rng.random(len(code)), side="right").clip(0, 3)
        index = base * 4 + quirk
        self._collect(domain, name, values, spellings, study, index, code >= 0)
        return _take(vocabulary, index, code < 0)

    def _collect(self, domain, name, values, spellings, study, index, present) -> None:
        has_field = np.array([name in self.styles[p.vendor]["columns"][domain] for p in self.plans])
        studies = np.unique(study[has_field[study]])
        for s in studies:  # the vendor's whole codelist, in codelist order
            v = self.vendor_of_study[s]
            for sv, c, text in spellings:
                if sv == v and text != values[c]:
                    self._add_map(int(s), name, text, values[c])
        size = 4 * len(spellings)
        seen = np.flatnonzero(np.bincount(study[present] * size + index[present], minlength=len(self.plans) * size))
        for s, i in zip(*divmod(seen, size)):  # quirk variants seen in the data (few: studies x vocabulary)
            if s not in studies:
                continue
            _, c, text = spellings[i // 4]
            variant = _quirk_variants(text)[i % 4]
            if variant != values[c]:  # keyed by its trimmed text: " Y" -> {"Y": "Y"}, "f" -> {"f": "F"}
                self._add_map(int(s), name, variant.strip(), values[c])

    def _add_map(self, study: int, name: str, raw: str, value: str) -> None:
        mapping = self.value_maps.setdefault(study, {}).setdefault(name, {})
        if raw.strip().upper() not in {k.strip().upper() for k in mapping}:
            mapping[raw] = value

    # ---------------------------------------------------------------- other columns

    def labels(self, texts_per_vendor: list[list[str]], which: np.ndarray, study: np.ndarray,
               quirks=d.CASE_QUIRK_P) -> pa.Array:
        """``texts_per_vendor[vendor][which]`` (-1 = null), with case quirks (codes matched case-insensitively)."""
        width = max(len(t) for t in texts_per_vendor)
        vocabulary = [variant for texts in texts_per_vendor
                      for text in texts + [""] * (width - len(texts)) for variant in _quirk_variants(text)]
        quirk = np.searchsorted(np.cumsum(quirks), self.rng.random(len(which)), side="right").clip(0, 3)
        index = (self.vendor(study) * width + np.maximum(which, 0)) * 4 + quirk
        return _take(vocabulary, index, which < 0)

    def text(self, vocabulary: tuple[str, ...], which: np.ndarray, quirks=d.TEXT_QUIRK_P) -> pa.Array:
        quirk = np.searchsorted(np.cumsum(quirks), self.rng.random(len(which)), side="right").clip(0, 3)
        flat = [variant for text in vocabulary for variant in _quirk_variants(text)]
        return _take(flat, np.maximum(which, 0) * 4 + quirk, which < 0)

    def date(self, days: np.ndarray, study: np.ndarray, *, partial: np.ndarray | None = None,
             minutes: np.ndarray | None = None, rng: np.random.Generator | None = None) -> pa.Array:
        return self.dates.render(days, self.vendor(study), self.rng if rng is None else rng, partial=partial,
                                 minutes=minutes)


def _quirk_variants(text: str) -> tuple[str, str, str, str]:
    return text, text.lower(), text + " ", " " + text


def _take(vocabulary, index: np.ndarray, null: np.ndarray) -> pa.Array:
    values = pa.array(vocabulary, type=pa.string())
    null = np.asarray(null)
    if not null.any():
        return values.take(pa.array(index))
    return values.take(pa.array(np.where(null, 0, index), mask=null))


def numbers(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    text = pa.array(values).cast(pa.string())
    return text if null is None else pc.if_else(pa.array(null), pa.scalar(None, pa.string()), text)


def tenths(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """Integers in tenths as decimal text with one decimal: 15 -> "1.5", -20 -> "-2.0"."""
    sign = pa.array(np.where(values < 0, "-", ""))
    whole = numbers(np.abs(values) // 10)
    text = pc.binary_join_element_wise(sign, whole, ".", numbers(np.abs(values) % 10), "")
    return text if null is None else pc.if_else(pa.array(null), pa.scalar(None, pa.string()), text)


# ----------------------------------------------------------------------------- dates

_STRFTIME = {"YYYY": "%Y", "MON": "%b", "MM": "%m", "DD": "%d", "HH": "%H"}


def format_tokens(fmt: str) -> list[tuple[bool, str]]:
    """Split a raw date format into (is_token, text) pieces; MM after HH is minutes."""
    pieces: list[tuple[bool, str]] = []
    i, seen_hour = 0, False
    while i < len(fmt):
        token = next((t for t in ("YYYY", "MON", "MM", "DD", "HH") if fmt.startswith(t, i)), None)
        if token is None:
            pieces.append((False, fmt[i]))
            i += 1
            continue
        pieces.append((True, "MI" if token == "MM" and seen_hour else token))
        seen_hour = seen_hour or token == "HH"
        i += len(token)
    return pieces


def strftime_pattern(fmt: str, *, unknown_day: str | None = None, unknown_month: str | None = None) -> str:
    out = []
    for is_token, text in format_tokens(fmt):
        if not is_token:
            out.append(text.replace("%", "%%"))
        elif text == "DD" and unknown_day:
            out.append(unknown_day)
        elif text in ("MON", "MM") and unknown_month:
            out.append(unknown_month)
        else:
            out.append({"MI": "%M"}.get(text, _STRFTIME.get(text, "")))
    return "".join(out)


def date_only_formats(style: dict) -> list[str]:
    return [f for f in style["date_formats"] if "HH" not in f]


class _DateVocabulary:
    """Every date of DATE_RANGE in every vendor format, complete and partial, as one string array."""

    def __init__(self, styles: list[dict]) -> None:
        self.first_day, self.last_day = (epoch_day(x) for x in d.DATE_RANGE)
        days = np.arange(self.first_day, self.last_day + 1)
        self.n_days = len(days)
        first_year = dt.date.fromisoformat(d.DATE_RANGE[0]).year
        self.first_year = first_year
        self.n_years = dt.date.fromisoformat(d.DATE_RANGE[1]).year - first_year + 1
        self.n_months = 12 * self.n_years
        date_array = pa.array(days.astype("int32")).cast(pa.date32())
        month_days = np.array([epoch_day(f"{first_year + m // 12}-{m % 12 + 1:02d}-01")
                               for m in range(self.n_months)])
        year_days = month_days[::12]
        chunks: list[pa.Array] = []
        self.formats: list[list[str]] = []
        self.complete_offset: list[list[int]] = []
        self.month_offset: list[int] = []
        self.year_offset: list[int] = []
        self.time_format: list[int] = []  # index of the date part of the time format, -1 none
        size = 0

        def add(values: pa.Array) -> int:
            nonlocal size
            chunks.append(values)
            size += len(values)
            return size - len(values)

        for style in styles:  # a handful of vendors x formats: vectorised strftime per format
            upper = style.get("month_case", "upper") == "upper"
            render = lambda dates, pattern: _strftime(dates, pattern, upper)  # noqa: E731
            formats = date_only_formats(style)
            self.formats.append(formats)
            self.complete_offset.append([add(render(date_array, strftime_pattern(f))) for f in formats])
            tokens = style["unknown_date_tokens"]
            unknown_day, unknown_month = tokens[0], tokens[min(1, len(tokens) - 1)]
            partial = style["partial_format"]
            months = pa.array(month_days.astype("int32")).cast(pa.date32())
            years = pa.array(year_days.astype("int32")).cast(pa.date32())
            self.month_offset.append(add(render(months, strftime_pattern(partial, unknown_day=unknown_day))))
            self.year_offset.append(add(render(years, strftime_pattern(
                partial, unknown_day=unknown_day, unknown_month=unknown_month))))
            time_format = style.get("time_format")
            self.time_format.append(formats.index(time_format.split(" ")[0]) if time_format else -1)
        self.vocabulary = pa.concat_arrays(chunks)
        self.offsets = np.array([offs + [0] * (max(map(len, self.complete_offset)) - len(offs))
                                 for offs in self.complete_offset])
        self.n_formats = np.array([len(f) for f in self.formats])
        self.minutes = pa.array([f"{m // 60:02d}:{m % 60:02d}" for m in range(24 * 60)])

    def render(self, days, vendor, rng, *, partial=None, minutes=None) -> pa.Array:
        days = np.asarray(days, dtype=np.int64)
        null = days < 0
        present = days[~null]
        if len(present) and (present.min() < self.first_day or present.max() > self.last_day):
            raise RuntimeError("generated date outside design.DATE_RANGE")  # pragma: no cover
        n = len(days)
        u = rng.random(n)
        other = np.floor(rng.random(n) * np.maximum(self.n_formats[vendor] - 1, 1)).astype(np.int64)
        fmt = np.where((u < d.MAIN_DATE_FORMAT_P) | (self.n_formats[vendor] == 1), 0, 1 + other)
        timed = np.zeros(n, dtype=bool) if minutes is None else (minutes >= 0) & ~null
        fmt = np.where(timed, np.array(self.time_format)[vendor], fmt)
        safe = np.where(null, self.first_day, days)
        index = self.offsets[vendor, fmt] + (safe - self.first_day)
        if partial is not None:
            stamp = safe.astype("datetime64[D]")
            month = stamp.astype("datetime64[M]").astype(np.int64) - (self.first_year - 1970) * 12
            year = stamp.astype("datetime64[Y]").astype(np.int64) + 1970 - self.first_year
            index = np.select([partial == 1, partial == 2],
                              [np.array(self.month_offset)[vendor] + month, np.array(self.year_offset)[vendor] + year],
                              index)
        text = self.vocabulary.take(pa.array(index, mask=null))
        if timed.any():
            clock = self.minutes.take(pa.array(np.maximum(minutes, 0)))
            text = pc.if_else(pa.array(timed), pc.binary_join_element_wise(text, clock, " "), text)
        return text


def _strftime(dates: pa.Array, pattern: str, upper: bool) -> pa.Array:
    text = pc.strftime(dates, format=pattern, locale="C")
    return pc.utf8_upper(text) if upper else text


# ----------------------------------------------------------------------------- domains


def render_programme(r: Renderer, cohort: Cohort, diary: Diary, events: Events, profile: Profile) -> Rendered:
    """Raw tables of the subjects in ``cohort`` (whole studies), with their diaries and AEs."""
    subjid = _subject_ids(r, cohort)
    tables = {
        "DM": _dm(r, cohort, subjid),
        "AE": _ae(r, cohort, events, profile, subjid),
        "EX": _ex(r, cohort, diary, subjid),
    }
    tables["DS"], ds_study = _ds(r, cohort, subjid)
    row_study = {
        "DM": cohort.study, "AE": cohort.study[events.subject], "EX": cohort.study[diary.subject], "DS": ds_study,
    }
    return Rendered(tables, row_study, subjid, events.subject, diary.subject)


def _pad(values: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(numbers(values), width=width, padding="0")


def _digits(values: np.ndarray, minimum: int) -> int:
    return max(minimum, len(str(int(values.max())))) if len(values) else minimum


def site_labels(cohort: Cohort, widths: Widths) -> pa.Array:
    """Site number: country position in the study, then the site's number in that country (101, 102, 201)."""
    return pc.binary_join_element_wise(numbers(cohort.site_country + 1), _pad(cohort.site_number, widths.site), "")


def _subject_ids(r: Renderer, cohort: Cohort) -> pa.Array:
    separators = np.array([r.styles[v]["subjid_separator"] for v in r.vendor_names])
    return pc.binary_join_element_wise(site_labels(cohort, r.widths), _pad(cohort.seq, r.widths.seq),
                                       pa.array(separators[r.vendor(cohort.study)]))


def arm_texts(style: dict) -> list[str]:
    """Raw ARM value of every arm in ALL_ARMS order, in the vendor's spelling."""
    treatments = style["treatments"]
    texts = []
    for _, arm in ALL_ARMS:
        codes = [treatments[d.TREATMENTS[t]] for t in arm.treatments]
        texts.append(codes[0] if len(codes) == 1 or codes[0] == codes[1]
                     else style["arm_pattern"].format(p1=codes[0], p2=codes[1]))
    return texts


def _dm(r: Renderer, cohort: Cohort, subjid: pa.Array) -> pa.Table:
    study = cohort.study
    country_codes = countries(r.plans)
    country = site_countries(r.plans, study, cohort.site_country)
    unassessed = cohort.iga < 0
    columns = {
        "SUBJID": subjid,
        "SITEID": site_labels(cohort, r.widths),
        "BRTHDAT": r.date(cohort.birth, study, partial=cohort.birth_partial.astype(np.int8)),
        "SEX": r.coded("DM", "SEX", d.SEX_VALUES, cohort.sex, study),
        "RACE": r.coded("DM", "RACE", d.RACES, cohort.race, study),
        "ETHNIC": r.coded("DM", "ETHNIC", d.ETHNICS, cohort.ethnic, study),
        "COUNTRY": r.coded("DM", "COUNTRY", country_codes, np.searchsorted(country_codes, country), study),
        "RFICDAT": r.date(cohort.consent, study),
        "ARM": r.labels([arm_texts(r.styles[v]) for v in r.vendor_names], cohort.arm, study),
        "RANDDAT": r.date(randomisation_day(cohort, np.array([p.randomized for p in r.plans])), study,
                          rng=r.later_rng),
        "FITZPAT": pa.array(d.FITZPATRICK).take(pa.array(cohort.fitzpatrick)),
        "IGABL": numbers(cohort.iga, unassessed),
        "BSABL": tenths(cohort.bsa_tenths, unassessed),
    }
    return pa.table(columns)


def _ae(r: Renderer, cohort: Cohort, ev: Events, profile: Profile, subjid: pa.Array) -> pa.Table:
    study = cohort.study[ev.subject]
    serious = ev.serious.any(axis=1)
    timed_vendor = np.array([bool(r.styles[v].get("time_format")) for v in r.vendor_names])[r.vendor(study)]
    timed = timed_vendor & (ev.start_partial == 0) & (r.rng.random(len(ev)) < d.TIME_OF_DAY_P)
    minutes = np.where(timed, 7 * 60 + np.floor(r.rng.random(len(ev)) * 15 * 60), -1).astype(np.int64)
    llt = pa.array(ev.llt)
    columns = {
        "SUBJID": subjid.take(pa.array(ev.subject)),
        "AESPID": numbers(ev.spid),
        "AETERM": r.text(profile.verbatims, ev.verbatim),
    }
    for name, column in DICTIONARY_FIELDS.items():
        columns[name] = pa.array(profile.dictionary[column].tolist(), type=pa.string()).take(llt)
    blank_flags = np.array([bool(r.styles[v]["flags_blank_when_not_serious"]) for v in r.vendor_names])
    flag_null = blank_flags[r.vendor(study)] & ~serious
    columns |= {
        "AESTDAT": r.date(ev.start, study, partial=ev.start_partial, minutes=minutes),
        "AEENDAT": r.date(ev.end, study, partial=ev.end_partial),
        "AEONGO": r.coded("AE", "AEONGO", NY, np.where(ev.ongoing, 0, 1), study, key="NY"),
        "AESEV": r.coded("AE", "AESEV", d.SEVERITY, ev.severity, study),
        "AESER": r.coded("AE", "AESER", NY, np.where(serious, 0, 1), study, key="NY"),
    }
    for j, flag in enumerate(d.SERIOUS_FLAGS):
        columns[flag] = r.coded("AE", flag, NY, np.where(flag_null, -1, np.where(ev.serious[:, j], 0, 1)),
                                study, key="NY")
    columns |= {
        "AEREL": r.coded("AE", "AEREL", d.RELATIONS, ev.relation, study),
        "AEOUT": r.coded("AE", "AEOUT", d.OUTCOMES, ev.outcome, study),
        "AEACN": r.coded("AE", "AEACN", d.ACTIONS, ev.action, study),
        "AESOSP": r.text(specify_texts(), ev.specify.astype(np.int64), quirks=(1.0, 0, 0, 0)),
    }
    return pa.table(columns)


def period_texts(style: dict) -> tuple[list[str], np.ndarray, np.ndarray]:
    """All raw period values of a vendor, and per period key (1, 2, single) their offset and count."""
    texts, offset, count = [], [], []
    for key in ("1", "2", SINGLE_PERIOD):
        offset.append(len(texts))
        count.append(len(style["periods"][key]))
        texts += style["periods"][key]
    return texts, np.array(offset), np.array(count)


def _periods(r: Renderer, key: np.ndarray, study: np.ndarray) -> pa.Array:
    """Raw period values; key 0 = period 1, 1 = period 2, 2 = the single period, -1 = none."""
    per_vendor = [period_texts(r.styles[v]) for v in r.vendor_names]
    width = max(len(t) for t, _, _ in per_vendor)
    offsets = np.array([o for _, o, _ in per_vendor])
    counts = np.array([c for _, _, c in per_vendor])
    vendor = r.vendor(study)
    safe = np.maximum(key, 0)
    which = offsets[vendor, safe] + np.floor(r.rng.random(len(key)) * counts[vendor, safe]).astype(np.int64)
    vocabulary = [t for texts, _, _ in per_vendor for t in texts + [""] * (width - len(texts))]
    return _take(vocabulary, vendor * width + which, key < 0)


def _ex(r: Renderer, cohort: Cohort, diary: Diary, subjid: pa.Array) -> pa.Table:
    study = cohort.study[diary.subject]
    single = np.array([p.phase == 1 for p in r.plans])[study]
    treatment_codes = [[r.styles[v]["treatments"][t] for t in d.TREATMENTS] for v in r.vendor_names]
    columns = {
        "SUBJID": subjid.take(pa.array(diary.subject)),
        "EXTRT": r.labels(treatment_codes, diary.treatment.astype(np.int64), study),
        "PERIOD": _periods(r, np.where(single, 2, diary.period - 1), study),
        "EXSTDAT": r.date(diary.start, study),
        "EXENDAT": r.date(diary.end, study),
        "EXDOSE": tenths(diary.dose_tenths),
        "EXDOSFRQ": pa.array(np.full(len(diary), "BID")),
        "EXLOC": r.coded("EX", "EXLOC", ("SKIN",), np.zeros(len(diary), dtype=np.int64), study),
    }
    return pa.table(columns)


def _ds(r: Renderer, cohort: Cohort, subjid: pa.Array) -> tuple[pa.Table, np.ndarray]:
    """Disposition per period: period 1 COMPLETED at its end for subjects who went on, then the final one."""
    phase = np.array([p.phase for p in r.plans])[cohort.study]
    two = (cohort.kind == PARTICIPANT) & (phase > 1) & (cohort.disc_period != 1)
    subject = np.repeat(np.arange(len(cohort)), np.where(two, 2, 1))
    first_of_two = np.zeros(len(subject), dtype=bool)
    first_of_two[np.flatnonzero(two[subject])[::2]] = True
    kind = cohort.kind[subject]
    final_key = np.select(
        [kind == SCREEN_FAILURE, kind == NOT_TREATED, phase[subject] == 1, cohort.disc_period[subject] == 1],
        [-1, 0, 2, 0], 1)
    period_key = np.where(first_of_two, 0, final_key)
    reason = np.where(first_of_two, d.DS_DECODS.index(d.COMPLETED), cohort.reason[subject])
    period1_end = cohort.first_dose[subject] + cohort.period1_days[subject] - 1
    date = np.where(first_of_two, period1_end, cohort.end_day[subject])
    terms = [d.DS_TERMS[name] for name in d.DS_DECODS]
    term_offset = np.r_[0, np.cumsum([len(t) for t in terms])[:-1]]
    term_count = np.array([len(t) for t in terms])
    term = term_offset[reason] + np.floor(r.rng.random(len(subject)) * term_count[reason]).astype(np.int64)
    study = cohort.study[subject]
    columns = {
        "SUBJID": subjid.take(pa.array(subject)),
        "DSTERM": r.text(tuple(t for group in terms for t in group), term),
        "DSDECOD": r.coded("DS", "DSDECOD", d.DS_DECODS, reason.astype(np.int64), study),
        "DSSTDAT": r.date(date, study),
        "PERIOD": _periods(r, period_key, study),
    }
    return pa.table(columns), study
