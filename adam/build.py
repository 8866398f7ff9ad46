"""Pooled SDTM -> ISS ADaM: ADSL, ADAE, ADEX, ADAETTE, in dependency order.

``pool_sdtm`` stacks the studies' SDTM (USUBJID must be unique across studies: the same
person in two studies carries one USUBJID, but one USUBJID in two studies' DM is two
records for one key and an error). ``derive_adam`` then derives, in order: ADSL's base
(DM, DS), the exposure records and subject periods (EX), ADSL's treatment variables and
flags, ADAE, ADEX and ADAETTE; each through ``specs.conform`` and ``specs.check`` against
the ISS ADaM spec. Problems in the SDTM that the analysis meets (AEs of subjects outside
ADSL, overlapping exposure, exposure outside RFXSTDTC..RFXENDTC) are findings.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

import specs
from adam import adae as adae_mod
from adam import adaette as adaette_mod
from adam import adex as adex_mod
from adam import adsl as adsl_mod
from adam.adamspec import compose_adam_spec
from adam.config import ISSConfig
from adam.periods import exposure_records, planned_groups, subject_periods
from specs import findings
from specs.errors import InputError
from specs.formats import format_kind
from specs.iso8601 import days_to_datetime, to_epoch_days
from specs.model import Spec
from sdtm.source import REQUIRED_VARIABLES
from specs.shape import drop_unused_variables

ADAM_ORDER = ("ADSL", "ADAE", "ADEX", "ADAETTE")
REQUIRED_SDTM = REQUIRED_VARIABLES


@dataclass
class ISSAnalysis:
    """The integrated analysis datasets and what was found deriving them."""

    iss: ISSConfig
    spec: Spec
    datasets: dict[str, pd.DataFrame]
    findings: pd.DataFrame
    periods: pd.DataFrame
    exposure: pd.DataFrame
    records: pd.DataFrame = None  # EX records with their period and group (ADEX lineage)


def pool_sdtm(studies: list[dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """Stack each domain over the studies; a USUBJID in two studies' DM is an error."""
    pooled: dict[str, pd.DataFrame] = {}
    for domain in sorted({d for s in studies for d in s}):
        frames = [s[domain] for s in studies if domain in s and len(s[domain])]
        pooled[domain] = pd.concat(frames, ignore_index=True) if frames else next(
            s[domain] for s in studies if domain in s)
    dm = pooled.get("DM")
    if dm is not None:
        dup = dm.duplicated("USUBJID", keep=False)
        if dup.any():
            rows = dm.loc[dup, ["USUBJID", "STUDYID"]].sort_values(["USUBJID", "STUDYID"])
            first = rows["USUBJID"].iloc[0]
            where = ", ".join(rows.loc[rows["USUBJID"] == first, "STUDYID"])
            raise InputError(f"USUBJID {first} is in DM of more than one study ({where}): USUBJID must "
                             f"identify one person across the integration", column="USUBJID")
    return pooled


def check_required_sdtm(sdtm: dict[str, pd.DataFrame]) -> None:
    for domain, names in REQUIRED_SDTM.items():
        if domain not in sdtm:
            raise InputError(f"the integration needs SDTM {domain}, which no study provides")
        missing = [n for n in names if n not in sdtm[domain]]
        if missing:
            raise InputError(f"SDTM {domain} lacks required variable(s) {', '.join(missing)}", column=missing[0])


@dataclass
class SubjectLevel:
    """ADSL (dates as day numbers) and the timeline it was derived from."""

    adsl: pd.DataFrame
    periods: pd.DataFrame
    records: pd.DataFrame
    findings: list


def subject_level(sdtm: dict[str, pd.DataFrame], iss: ISSConfig) -> SubjectLevel:
    """ADSL's base (DM, DS), the exposure records and subject periods (EX), then ADSL's
    treatment variables and population flags."""
    check_required_sdtm(sdtm)
    dm, ex, ds = sdtm["DM"], sdtm["EX"], sdtm.get("DS")
    found = [exposure_findings(ex, dm)]
    base = adsl_mod.adsl_base(dm, ds, ex)
    base = adsl_mod.derive_age_groups(base, iss.get("age_groups", []))
    by_subject = base.set_index("USUBJID")
    as_treated = by_subject["ACTARM"].fillna(by_subject["ARM"]) if "ACTARM" in by_subject else by_subject["ARM"]
    records = exposure_records(ex, iss, eos=pd.Series(days_to_datetime(base["EOSDT"].to_numpy()).to_numpy(),
                                                      index=base["USUBJID"].to_numpy()),
                               death=pd.Series(days_to_datetime(base["DTHDT"].to_numpy()).to_numpy(),
                                               index=base["USUBJID"].to_numpy()),
                               arms=as_treated if iss.actual_treatment == "exposure" else by_subject["ARM"])
    found.append(ungrouped_findings(records))
    periods = subject_periods(records, base, iss)
    planned = planned_groups(base, iss)
    adsl = adsl_mod.derive_population_flags(adsl_mod.derive_treatment_variables(base, periods, planned))
    return SubjectLevel(adsl, periods, records, found)


def derive_adsl(sdtm: dict[str, pd.DataFrame], iss: ISSConfig, *, spec: Spec | None = None) -> pd.DataFrame:
    """ADSL of the pooled SDTM, shaped to the ISS ADaM spec (see ``adam.adsl``)."""
    spec = spec if spec is not None else compose_adam_spec(iss)
    datasets, _ = finalise({"ADSL": subject_level(sdtm, iss).adsl}, spec, keep={"DTHFL", "DTHDT"})
    return datasets["ADSL"]


def derive_adam(sdtm: dict[str, pd.DataFrame], iss: ISSConfig, *, spec: Spec | None = None) -> ISSAnalysis:
    """The ISS ADaM datasets from pooled SDTM (see the module docstring)."""
    spec = spec if spec is not None else compose_adam_spec(iss)
    subjects = subject_level(sdtm, iss)
    adsl, periods, records, found = subjects.adsl, subjects.periods, subjects.records, subjects.findings
    adae, outside = adae_mod.derive_adae(sdtm["AE"], adsl, periods, iss)
    found.append(outside_findings(outside, sdtm["AE"]))
    exposure = adex_mod.group_exposure(records, iss)
    adex = adex_mod.derive_adex(exposure, adsl, param_names(spec, "CL.ADEX.PARAMCD"))
    adaette = adaette_mod.derive_adaette(adae, periods, adsl[adsl["SAFFL"] == "Y"], iss)
    raw = {"ADSL": adsl, "ADAE": adae, "ADEX": adex, "ADAETTE": adaette}
    planned_variables = ({f"CQ{e['cq']:02d}NAM" for e in iss.events if "cq" in e}
                         | {"DTHFL", "DTHDT", "SRCDOM", "SRCSEQ"})  # traceability even when no event
    datasets, spec = finalise(raw, spec, keep=planned_variables)
    found += [specs.check(df, spec.dataset(name), spec) for name, df in datasets.items()]
    return ISSAnalysis(iss, spec, datasets, findings.concat(found), periods, exposure, records)


def param_names(spec: Spec, oid: str) -> dict[str, str]:
    try:
        return {i.value: i.decode for i in spec.codelist(oid).items if i.decode}
    except KeyError:
        return {}


def finalise(raw: dict[str, pd.DataFrame], spec: Spec, keep: set[str] = frozenset()
             ) -> tuple[dict[str, pd.DataFrame], Spec]:
    """Dates to datetime64, unused optional variables dropped (but ``keep``), spec order and types."""
    shaped = {}
    for name in [n for n in ADAM_ORDER if n in raw]:
        ds = spec.dataset(name)
        df = raw[name].copy()
        for var in ds.variables:
            if var.name in df and format_kind(var.display_format) == "date" and not \
                    pd.api.types.is_datetime64_any_dtype(df[var.name]):
                df[var.name] = days_to_datetime(df[var.name].to_numpy(dtype="float64"), index=df.index)
        shaped[name] = df
    spec = drop_unused_variables(spec.subset(list(shaped)), shaped, keep)
    return {name: specs.conform(df, spec.dataset(name), extra="drop") for name, df in shaped.items()}, spec


def exposure_findings(ex: pd.DataFrame, dm: pd.DataFrame) -> pd.DataFrame:
    """Overlapping exposure intervals of one subject and treatment (TP0202); exposure dated
    outside DM.RFXSTDTC..RFXENDTC (TP0203)."""
    s = pd.Series(to_epoch_days(ex["EXSTDTC"]), index=ex.index)
    e = pd.Series(to_epoch_days(ex["EXENDTC"]), index=ex.index).fillna(s)
    order = ex.assign(_S=s, _E=e).sort_values(["USUBJID", "EXTRT", "_S"], kind="mergesort")
    prev_end = order.groupby(["USUBJID", "EXTRT"])["_E"].shift(1)
    overlap = order.index[(order["_S"] <= prev_end).to_numpy()]
    out = [findings.make("TP0202", "EX", "EXSTDTC", rows=overlap.to_numpy() + 1,
                         values=ex.loc[overlap, "EXSTDTC"], message="exposure interval overlaps the previous "
                         "interval of the same subject and treatment")] if len(overlap) else []
    ref = dm.set_index("USUBJID")
    lo = pd.Series(to_epoch_days(ex["USUBJID"].map(ref["RFXSTDTC"])), index=ex.index)
    hi = pd.Series(to_epoch_days(ex["USUBJID"].map(ref["RFXENDTC"])), index=ex.index)
    outside = (s < lo) | (e > hi)
    if outside.any():
        idx = np.flatnonzero(outside.to_numpy())
        out.append(findings.make("TP0203", "EX", "EXSTDTC", rows=idx + 1, values=ex["EXSTDTC"].iloc[idx],
                                 message="exposure outside DM.RFXSTDTC..RFXENDTC"))
    return findings.concat(out)


def ungrouped_findings(records: pd.DataFrame) -> pd.DataFrame:
    miss = records["GROUP"].isna()
    if not miss.any():
        return findings.empty()
    names = ", ".join(sorted(records.loc[miss, "EXTRT"].astype(str).unique()))
    raise InputError(f"exposure to {names} belongs to no group of the ISS config; list the treatment (or, with "
                     f"assign_by 'arm', the subject's arm) in a group", column="EXTRT")


def outside_findings(outside: pd.DataFrame, ae: pd.DataFrame) -> pd.DataFrame:
    """TP0201 for each AE record of a subject outside ADSL; row = the record's row in its
    study's AE dataset (the pooled AE keeps each study's records in order)."""
    if not len(outside):
        return findings.empty()
    study_row = ae.groupby("STUDYID", sort=False).cumcount() + 1
    return findings.make("TP0201", "AE", "USUBJID", rows=study_row.loc[outside.index].to_numpy(),
                         values=outside["USUBJID"], message="AE of a subject not in ADSL (screen failure): not "
                         "analysed", file=(outside["STUDYID"].str.lower() + "/ae").to_numpy())
