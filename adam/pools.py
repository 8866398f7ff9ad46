"""Analysis pools of an integrated summary of safety: which studies, and which of their periods,
an analysis reads.

FDA guidance on the ISS and ICH M4E(R2) 2.7.4: an integrated safety analysis compares treatments
in a pool of studies in which they were randomised against each other (the controlled pool:
for instance the vehicle-controlled period 1 of the phase 2 and 3 studies), and gives long-term
rates in a pool of all exposure. A pool in the ISS config (``analysis_pools``) has an ``id``, a
``label``, the ADSL ``flag`` that marks its subjects, its ``studies`` (STUDYIDs) and, optionally,
the ``periods`` (the study configs' period numbers) it is limited to in each of them.

Variables (ADaMIG 1.3):

* ADSL ``flag`` (e.g. VCPOOLFL), a subject-level population flag: "Y" for a person with an
  exposure record (dated or not: as SAFFL) in one of the pool's study periods, else "N";
* the record-level analysis flag ``record_flag`` (default ANLzzFL, zz the pool's position in the
  config) in ADAE: "Y" for a record whose analysis period (the treatment at onset, APERIOD) is one
  of the pool's study periods, else null — so that a pool's records are selected by one flag and
  never derived again.

A comparison of a treatment with the control is made within a pool (``comparisons[].pool``)
only where both were randomised there: :func:`randomised_together`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from adam.groups import planned_groups_of_arms
from specs.errors import InputError

FLAG_NAME = re.compile(r"^[A-Z][A-Z0-9]{0,5}FL$")
MAX_LABEL = 40


@dataclass(frozen=True)
class AnalysisPool:
    """One analysis pool of the ISS config (see the module docstring)."""

    id: str
    label: str
    flag: str
    record_flag: str
    studies: tuple[str, ...]
    periods: tuple[int, ...] | None = None   # None: every period of its studies

    @classmethod
    def of(cls, item: dict, position: int) -> "AnalysisPool":
        periods = item.get("periods")
        return cls(item["id"], item["label"], item["flag"], item.get("record_flag", f"ANL{position:02d}FL"),
                   tuple(item["studies"]), tuple(periods) if periods else None)

    @property
    def flag_label(self) -> str:
        """The ADSL flag's label: '<label> Flag' (at most 40 characters, checked at load)."""
        return f"{self.label} Flag"

    @property
    def record_label(self) -> str:
        """The record flag's label: 'Record in <label>'."""
        return f"Record in {self.label}"

    def study_periods(self) -> pd.DataFrame:
        """(STUDYID, SPERIOD) pairs of the pool; SPERIOD null stands for every period of the study."""
        periods = self.periods or (None,)
        return pd.DataFrame([(s, p) for s in self.studies for p in periods], columns=["STUDYID", "SPERIOD"])

    def holds(self, studyid: pd.Series, speriod: pd.Series) -> np.ndarray:
        """Whether each (study, the study's own period number) is in the pool."""
        inside = studyid.isin(self.studies).to_numpy(dtype=bool)
        if self.periods is None:
            return inside
        return inside & pd.to_numeric(speriod, errors="coerce").isin(self.periods).to_numpy(dtype=bool)


def analysis_pools(data: dict) -> list[AnalysisPool]:
    """The ISS config's ``analysis_pools``, in order (none when it lists none)."""
    return [AnalysisPool.of(item, i) for i, item in enumerate(data.get("analysis_pools", []), start=1)]


def check_pools(config) -> None:
    """Cross-references of ``analysis_pools`` and ``comparisons[].pool``, in order: unique ids,
    flags and record flags; labels short enough for the flags' labels; known studies, each having
    the pool's periods; a comparison names a known pool and a pair randomised in it
    (:func:`randomised_together`); a comparison without a pool, in a config with pools, is
    randomised in at least one of them."""
    pools = config.analysis_pools
    file = config.file

    def fail(message: str, path: str) -> None:
        raise InputError(message, file=file, path=path)

    names: dict[str, str] = {}
    for i, pool in enumerate(pools):
        path = f"$.analysis_pools[{i}]"
        if pool.id in [p.id for p in pools[:i]]:
            fail(f"analysis pool id {pool.id!r} is used twice", f"{path}.id")
        for key, name in (("flag", pool.flag), ("record_flag", pool.record_flag)):
            if not FLAG_NAME.match(name):
                fail(f"{key} {name!r} is not an ADaM flag name (upper-case letters and digits ending in FL, "
                     f"at most 8 characters)", f"{path}.{key}")
            if name in names:
                fail(f"{key} {name!r} is already the {names[name]}", f"{path}.{key}")
            names[name] = f"flag of analysis pool {pool.id!r}"
        for text in (pool.flag_label, pool.record_label):
            if len(text) > MAX_LABEL:
                fail(f"label {pool.label!r} is too long for the flags' labels ({text!r} has {len(text)} "
                     f"characters; at most {MAX_LABEL})", f"{path}.label")
        _check_pool_studies(config, pool, path, fail)
    _check_comparisons(config, pools, fail)


def _check_pool_studies(config, pool: AnalysisPool, path: str, fail) -> None:
    by_id = {s.studyid: s for s in config.studies}
    for j, sid in enumerate(pool.studies):
        if sid not in by_id:
            fail(f"analysis pool {pool.id!r} names study {sid!r}, which the ISS config does not pool "
                 f"(studies: {', '.join(by_id)})", f"{path}.studies[{j}]")
        if pool.studies.index(sid) != j:
            fail(f"analysis pool {pool.id!r} lists study {sid!r} twice", f"{path}.studies[{j}]")
        count = config.period_count(sid)
        for k, number in enumerate(pool.periods or ()):
            if number > count:
                fail(f"analysis pool {pool.id!r} names period {number}, but study {sid} has "
                     f"{count} period{'s' if count > 1 else ''}", f"{path}.periods[{k}]")


def _check_comparisons(config, pools: list[AnalysisPool], fail) -> None:
    ids = [p.id for p in pools]
    planned = planned_groups_of_arms(config.studies, config)
    for i, comp in enumerate(config.get("comparisons", [])):
        path = f"$.comparisons[{i}]"
        if "pool" in comp:
            if comp["pool"] not in ids:
                fail(f"comparison names unknown analysis pool {comp['pool']!r} (pools: {', '.join(ids) or 'none'})",
                     f"{path}.pool")
            why = randomised_together(config, pools[ids.index(comp["pool"])], comp["treatment"], comp["control"],
                                      planned)
            if why:
                fail(f"{comp['treatment']!r} cannot be compared with {comp['control']!r} in analysis pool "
                     f"{comp['pool']!r}: {why}", f"{path}.pool")
        elif pools and all(randomised_together(config, p, comp["treatment"], comp["control"], planned) for p in pools):
            fail(f"{comp['treatment']!r} and {comp['control']!r} are randomised together in no analysis pool "
                 f"(pools: {', '.join(ids)}); name the pool a comparison is made in", path)


def randomised_together(config, pool: AnalysisPool, treatment: str, control: str,
                        planned: dict[tuple[str, int], set[str]] | None = None) -> str | None:
    """Why ``treatment`` cannot be compared with ``control`` in ``pool`` (None: it can).

    A comparison is made within a pool only when both groups were randomised there, against each
    other: every study period of the pool in which an arm plans the treatment (or, for a pooled
    group, one of its groups) also has an arm that plans the control, and there is at least one
    such study period. The extension period of a study whose subjects all receive the treatment
    is what this keeps out: its time and events have no concurrent control. ``planned``: the
    groups the study configs' arms plan per study and period (:func:`adam.groups.planned_groups_of_arms`,
    worked out here when not given)."""
    planned = planned_groups_of_arms(config.studies, config) if planned is None else planned
    members = {treatment, *next((g.pools for g in config.groups if g.label == treatment), ())}
    compared, uncontrolled = [], []
    for study in (s for s in config.studies if s.studyid in pool.studies):
        for (sid, number), groups in sorted(planned.items()):
            if sid != study.studyid or (pool.periods is not None and number not in pool.periods):
                continue
            if groups & members:
                (compared if control in groups else uncontrolled).append(f"{study.studyid} period {number}")
    if uncontrolled:
        return f"no arm plans {control!r} in {', '.join(uncontrolled)}"
    if not compared:
        return f"no arm of its studies plans {treatment!r} beside {control!r}"
    return None


def comparison_pools(config, treatment: str, control: str, pool: str | None = None) -> list[str]:
    """The ids of the pools a comparison is made in: the one it names, else every pool in which
    the two groups were randomised together (:func:`randomised_together`)."""
    if pool is not None:
        return [pool]
    planned = planned_groups_of_arms(config.studies, config)
    return [p.id for p in config.analysis_pools if not randomised_together(config, p, treatment, control, planned)]


def derive_pool_flags(adsl: pd.DataFrame, records: pd.DataFrame, pools: list[AnalysisPool]) -> pd.DataFrame:
    """ADSL's pool flags: "Y" where the person has an exposure record (``records``: STUDYID,
    USUBJID and SPERIOD, the period's number in its study) in one of the pool's study periods,
    else "N" (a population flag is never null, ADaMIG 1.3 §3.1.4)."""
    adsl = adsl.copy()
    person = pd.Index(adsl["USUBJID"]).get_indexer(records["USUBJID"])   # the ADSL row of each record
    for pool in pools:
        rows = person[pool.holds(records["STUDYID"], records["SPERIOD"]) & (person >= 0)]
        inside = np.zeros(len(adsl), dtype=bool)
        inside[rows] = True
        adsl[pool.flag] = np.where(inside, "Y", "N")
    return adsl


def derive_record_flags(frame: pd.DataFrame, pools: list[AnalysisPool], *, study: str = "PSTUDYID",
                        period: str = "SPERIOD") -> pd.DataFrame:
    """Each pool's record flag: "Y" where the record's analysis period — the study (``study``) and
    the study's own period number (``period``) of the treatment it is analysed under — is one of the
    pool's study periods, else null (a record without an analysis period is in no pool)."""
    frame = frame.copy()
    for pool in pools:
        frame[pool.record_flag] = np.where(pool.holds(frame[study], frame[period]), "Y", None)
    return frame
