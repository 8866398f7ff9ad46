"""ISS configs: which studies are pooled, into which treatment groups, and by which rules.

The JSON Schema ``specs/schema/iss-config.schema.json`` describes every key. This module
loads an ISS config and its study configs, checks the cross-references a schema cannot
(group pools, the control group, comparisons, event codes), and gives the derivations the
rules with their defaults filled in — so that a rule the pilot documents differently from
ADaMIG (TRTEMFL "N", no TEAE window, day-only imputation) is a config value, never a code
branch.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from datetime import date, datetime
from pathlib import Path
from typing import Any

from adam.imputation import check_imputation_options
from adam.pools import AnalysisPool, analysis_pools, check_pools
from adam.queries import Queries, check_query_events, load_query_file, with_query_terms
from sdtm.config import StudyConfig, check_ascii_values, load_study_config
from specs.clock import default_created
from specs.errors import InputError
from specs.jsonio import load_json

DEFAULT_TEAE = {"window_days": 30, "missing_start": "emergent", "not_emergent_value": None,
                "bounded_by": ["DTHDT", "EOSDT", "CUTOFF"]}
DEFAULT_IMPUTATION = {
    "ae_start": {"highest": "M", "fill": "first", "min": ["TRTSDT"]},
    "ae_end": {"highest": "M", "fill": "last", "max": ["DTHDT", "EOSDT"]},
    "treatment_end": {"missing": "none"},
}
DEFAULT_RATES = {"per": 100, "ci_method": "exact", "conf_level": 0.95, "strata": "STUDYID"}
#: Administrations per day of the CDISC FREQ terms whose rate is fixed (the ISS config's
#: ``doses_per_day`` adds or overrides; adam.adex.administrations counts a record's doses).
DEFAULT_DOSES_PER_DAY = {"QD": 1, "BID": 2, "TID": 3, "QID": 4, "EVERY WEEK": 1 / 7, "EVERY 2 WEEKS": 1 / 14,
                         "EVERY 3 WEEKS": 1 / 21, "EVERY 4 WEEKS": 1 / 28, "EVERY 8 WEEKS": 1 / 56}
#: Causality categories (AEREL, any case) counted as related when the config gives no ``related_terms``.
DEFAULT_RELATED_TERMS = ("RELATED", "POSSIBLY RELATED", "PROBABLY RELATED")
#: ISS config keys whose text becomes ADaM values (TRTA, PARAM, AGEGR1...): ASCII, as in XPT.
ASCII_KEYS = ("groups", "analysis_pools", "events", "age_groups", "related_terms")


@dataclass(frozen=True)
class TreatmentRef:
    """A treatment a group holds: an EXTRT, optionally one dose level of it (EXDOSE, EXDOSU)."""

    extrt: str
    dose: float | None = None
    dose_unit: str | None = None

    @classmethod
    def of(cls, item) -> "TreatmentRef":
        """From the ISS config: an EXTRT text, or ``{"extrt", "dose", "dose_unit"}``."""
        if isinstance(item, str):
            return cls(item)
        return cls(item["extrt"], float(item["dose"]), item.get("dose_unit"))

    def __str__(self) -> str:
        if self.dose is None:
            return self.extrt
        return " ".join(p for p in (self.extrt, f"{self.dose:g}", self.dose_unit) if p)


@dataclass
class Group:
    """A treatment group of the integrated analysis (``TRTA``/``TRTAN`` values)."""

    label: str
    number: int
    treatments: tuple[TreatmentRef, ...] = ()
    arms: tuple[str, ...] = ()
    pools: tuple[str, ...] = ()
    control: bool = False

    @property
    def pooled(self) -> bool:
        return bool(self.pools)


@dataclass
class ISSConfig:
    data: dict[str, Any]
    file: Path
    studies: list[StudyConfig]
    queries: Queries | None = None   # the query file's terms (``query_file``), adam.queries

    @property
    def id(self) -> str:
        return self.data["id"]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    @property
    def groups(self) -> list[Group]:
        return [Group(g["label"], g["number"], tuple(TreatmentRef.of(t) for t in g.get("treatments", ())),
                      tuple(g.get("arms", ())),
                      tuple(g.get("pools", ())), bool(g.get("control", False))) for g in self.data["groups"]]

    @property
    def base_groups(self) -> list[Group]:
        """Groups a record can belong to directly (not pools)."""
        return [g for g in self.groups if not g.pooled]

    @property
    def analysis_pools(self) -> list[AnalysisPool]:
        """The analysis pools (``analysis_pools``, adam.pools), none when the config lists none."""
        return analysis_pools(self.data)

    @property
    def control(self) -> Group | None:
        return next((g for g in self.groups if g.control), None)

    @property
    def teae(self) -> dict:
        return {**DEFAULT_TEAE, **self.data.get("teae", {})}

    def imputation(self, key: str) -> dict:
        return {**DEFAULT_IMPUTATION[key], **self.data.get("imputation", {}).get(key, {})}

    @property
    def rates(self) -> dict:
        return {**DEFAULT_RATES, **self.data.get("rates", {})}

    @property
    def doses_per_day(self) -> dict[str, float]:
        return {**DEFAULT_DOSES_PER_DAY, **self.data.get("doses_per_day", {})}

    @cached_property
    def events(self) -> list[dict]:
        """The events of interest, each naming a query with its terms (adam.queries.with_query_terms)."""
        return [with_query_terms(e, self.queries) for e in self.data.get("events", [])]

    @property
    def extensions(self) -> dict[str, list[str]]:
        """STUDYID -> the studies it extends (its subjects roll over from them), for those that do."""
        return {s.studyid: list(s.extension_of) for s in self.studies if s.extension_of}

    def study_rank(self, studyid: str) -> tuple[int, int]:
        """Where a study comes in a person's timeline: after every study it extends (its depth in
        the extension_of chain), then in the ISS config's order."""
        by_id = {s.studyid: s for s in self.studies}

        def depth(sid: str) -> int:
            return max((depth(p) + 1 for p in by_id[sid].extension_of), default=0)

        return depth(studyid), [s.studyid for s in self.studies].index(studyid)

    def period_count(self, studyid: str) -> int:
        """The study's treatment periods (a study whose config lists none has one)."""
        return max(len(next(s for s in self.studies if s.studyid == studyid).periods), 1)

    @property
    def assign_by(self) -> str:
        return self.data.get("assign_by", "exposure")

    @property
    def actual_treatment(self) -> str:
        return self.data.get("actual_treatment", "exposure")

    def created(self) -> datetime:
        """Timestamp of the package: the config's creation_datetime, else SOURCE_DATE_EPOCH, else now."""
        if self.data.get("creation_datetime"):
            return parse_creation_datetime(self.data["creation_datetime"], self.file)
        return default_created()


def parse_creation_datetime(text: str, file: Path | None = None) -> datetime:
    """``creation_datetime``: an ISO 8601 date-time, local clock time (an offset is refused: the
    package's timestamps carry none, and silently dropping it would shift them)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"creation_datetime {text!r} is not an ISO 8601 date-time (e.g. 2026-01-15T09:00:00)",
                         file=file, path="$.creation_datetime") from None
    if moment.tzinfo is not None:
        raise InputError(f"creation_datetime {text!r} has a UTC offset; give the local clock time without one",
                         file=file, path="$.creation_datetime")
    return moment.replace(microsecond=0)


def load_iss_config(path: str | Path) -> ISSConfig:
    """Read an ISS config and every study config it lists; errors name file and JSON path."""
    path = Path(path)
    data = load_json(path, "iss-config")
    studies = []
    for i, rel in enumerate(data["studies"]):
        study_path = path.parent / rel
        try:
            found = study_path.is_file()
        except OSError as exc:  # e.g. a name longer than the file system allows
            raise InputError(f"study config {rel!r} cannot be opened: {exc.strerror}", file=path,
                             path=f"$.studies[{i}]") from None
        if not found:
            raise InputError(f"study config {rel!r} not found", file=path, path=f"$.studies[{i}]")
        studies.append(load_study_config(study_path))
    queries = None
    if data.get("query_file"):
        query_path = path.parent / data["query_file"]
        if not query_path.is_file():
            raise InputError(f"query file {data['query_file']!r} not found", file=path, path="$.query_file")
        queries = load_query_file(query_path, name=data["query_file"])
    config = ISSConfig(data, path, studies, queries)
    check_iss_config(config)
    return config


def check_iss_config(config: ISSConfig) -> None:
    """Cross-references, in order: unique study ids, group labels and numbers; pools name
    base groups; at most one control group; comparisons name groups; unique event codes and
    CQ indexes; events naming a query (adam.queries.check_query_events); age groups with unique numbers; the imputation rules; the analysis pools and the
    pool of each comparison (adam.pools.check_pools)."""
    file = config.file

    def fail(message: str, path: str) -> None:
        raise InputError(message, file=file, path=path)

    check_ascii_values({k: config.data.get(k) for k in ASCII_KEYS}, file)
    if config.get("creation_datetime"):
        parse_creation_datetime(config.get("creation_datetime"), file)
    if config.get("data_cutoff"):
        try:
            date.fromisoformat(config.get("data_cutoff"))
        except ValueError:
            fail(f"data_cutoff {config.get('data_cutoff')!r} is not a calendar date", "$.data_cutoff")
    ids = [s.studyid for s in config.studies]
    for i, sid in enumerate(ids):
        if ids.index(sid) != i:
            fail(f"study {sid} is listed twice", f"$.studies[{i}]")
    check_extensions(config)
    labels = [g.label for g in config.groups]
    numbers = [g.number for g in config.groups]
    for i, g in enumerate(config.groups):
        if labels.index(g.label) != i:
            fail(f"group label {g.label!r} is used twice", f"$.groups[{i}].label")
        if numbers.index(g.number) != i:
            fail(f"group number {g.number} is used twice", f"$.groups[{i}].number")
        if not (g.treatments or g.arms or g.pools):
            fail(f"group {g.label!r} needs treatments, arms or pools", f"$.groups[{i}]")
        for j, name in enumerate(g.pools):
            if name not in labels or next(x for x in config.groups if x.label == name).pooled:
                fail(f"group {g.label!r} pools {name!r}, which is not a non-pooled group", f"$.groups[{i}].pools[{j}]")
    if sum(g.control for g in config.groups) > 1:
        fail("more than one control group", "$.groups")
    for i, comp in enumerate(config.get("comparisons", [])):
        for key in ("treatment", "control"):
            if comp[key] not in labels:
                fail(f"comparison names unknown group {comp[key]!r}", f"$.comparisons[{i}].{key}")
    codes = [e["paramcd"] for e in config.events]
    cqs = [e["cq"] for e in config.events if "cq" in e]
    for i, e in enumerate(config.events):
        if codes.index(e["paramcd"]) != i:
            fail(f"event code {e['paramcd']} is used twice", f"$.events[{i}].paramcd")
        if "cq" in e and cqs.count(e["cq"]) > 1:
            fail(f"CQ index {e['cq']} is used twice", f"$.events[{i}].cq")
    check_query_events(config.events, config.queries, file, lambda i, key: f"$.events[{i}].{key}")
    ages = [a["number"] for a in config.get("age_groups", [])]
    if len(set(ages)) != len(ages):
        fail("age group numbers must be unique", "$.age_groups")
    check_imputation(config)
    check_pools(config)
    bounded_by = config.get("teae", {}).get("bounded_by", [])
    if "CUTOFF" in bounded_by and not config.get("data_cutoff"):
        fail("teae.bounded_by names CUTOFF but the config sets no data_cutoff",
             f"$.teae.bounded_by[{bounded_by.index('CUTOFF')}]")


def check_extensions(config: ISSConfig) -> None:
    """Each study an extension names is pooled in the integration, and no study extends itself,
    directly or through others (its periods would have no place to start)."""
    ids = [s.studyid for s in config.studies]
    for study in config.studies:
        for j, parent in enumerate(study.extension_of):
            if parent not in ids:
                raise InputError(f"extension_of names study {parent!r}, which the ISS config does not pool "
                                 f"(studies: {', '.join(ids)})", file=study.file, path=f"$.extension_of[{j}]")
    for study in config.studies:
        seen, todo = set(), list(study.extension_of)
        while todo:
            parent = todo.pop()
            if parent == study.studyid:
                raise InputError(f"study {study.studyid} extends itself through extension_of", file=study.file,
                                 path="$.extension_of")
            if parent not in seen:
                seen.add(parent)
                todo += next(s for s in config.studies if s.studyid == parent).extension_of


def linked_studies(extensions: dict[str, list[str]]) -> list[set[str]]:
    """The groups of studies one person may be enrolled in together: a study and the studies it
    extends, joined transitively (parent, extension, extension of the extension ...)."""
    groups: list[set[str]] = []
    for child, parents in extensions.items():
        joined = {child, *parents}
        for g in [g for g in groups if g & joined]:
            joined |= g
            groups.remove(g)
        groups.append(joined)
    return groups


def check_imputation(config: ISSConfig) -> None:
    """The AE date imputation rules (``imputation.ae_start`` / ``ae_end``) as the derivation will
    apply them, defaults included: a ``fill`` imputation knows, imputing the year with the bound it
    needs, and ``CUTOFF`` among the bounds only with a ``data_cutoff`` (the schema allows only
    known bound names)."""
    for key, bounds in (("ae_start", "min"), ("ae_end", "max")):
        rule = config.imputation(key)
        names = rule.get(bounds, [])
        path = f"$.imputation.{key}"
        if "CUTOFF" in names and not config.get("data_cutoff"):
            raise InputError(f"{key}.{bounds} names CUTOFF but the config sets no data_cutoff", file=config.file,
                             path=f"{path}.{bounds}[{names.index('CUTOFF')}]")
        try:
            check_imputation_options(rule["highest"], rule["fill"], names if bounds == "min" else [],
                                     names if bounds == "max" else [], key)
        except InputError as exc:
            raise InputError(exc.message, file=config.file, path=path) from None


def related_terms(given: list[str] | None = None) -> list[str]:
    """The causality categories (upper case) counted as related: the config's ``related_terms``
    (``given``), else :data:`DEFAULT_RELATED_TERMS` (an empty list: none)."""
    return [t.upper() for t in (given if given is not None else DEFAULT_RELATED_TERMS)]
