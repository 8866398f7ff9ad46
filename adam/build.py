"""Pooled SDTM -> ISS ADaM: ADSL, ADAE, ADEX, ADAETTE, in dependency order.

``pool_sdtm`` stacks the studies' SDTM (USUBJID must be unique across studies: the same
person in two studies carries one USUBJID, but one USUBJID in two studies' DM is two
records for one key and an error). ``derive_adam`` then derives, in order: ADSL's base
(DM, DS), the exposure records and subject periods (EX), ADSL's treatment variables and
flags, ADAE, ADEX and ADAETTE, each shaped by ``specs.conform`` to the ISS ADaM spec
(:func:`derive_analysis_datasets`), and checks them with ``specs.check``
(:func:`check_analysis`). Problems in the SDTM that the analysis meets (AEs of subjects
outside ADSL, overlapping exposure, exposure outside RFXSTDTC..RFXENDTC) are findings.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import specs
from adam import adae as adae_mod
from adam import adaette as adaette_mod
from adam import adex as adex_mod
from adam.adex import doses_per_day
from adam import adsl as adsl_mod
from adam.adamspec import compose_adam_spec
from adam.config import ISSConfig
from adam.pools import derive_pool_flags
from adam.queries import aesi_variable
from adam.periods import (emergence_windows, enrolment_offsets, exposure_records, piece_windows, planned_groups,
                          subject_periods, treatment_pieces)
from specs import findings
from specs.columns import is_in
from specs.errors import InputError
from specs.formats import format_kind
from specs.iso8601 import days_to_datetime, to_epoch_days
from specs.model import Spec
from sdtm.source import REQUIRED as REQUIRED_DOMAINS
from sdtm.source import REQUIRED_VARIABLES, missing_variables, with_optional_variables
from specs.shape import detached, drop_unused_variables

ADAM_ORDER = ("ADSL", "ADAE", "ADEX", "ADAETTE")


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
    pieces: pd.DataFrame = None   # as treated: each run of one treatment within a period
    windows: pd.DataFrame = None  # the treatment-emergent window of each run (TRTEMFL, ADAETTE)
    computed: dict = field(default_factory=dict, repr=False)  # results computed from it once (event rates)


def pool_sdtm(studies: list[dict[str, pd.DataFrame]], *, extensions: dict[str, list[str]] | None = None
              ) -> dict[str, pd.DataFrame]:
    """Stack each domain over the studies (each holding the variables the derivations read,
    :func:`check_required_sdtm`). One person has one USUBJID across every study of the
    integration (SDTMIG §4.2.3), so a USUBJID in two studies' DM is the same person: allowed where
    one study extends the other (``extensions``: STUDYID -> the studies it extends, the ISS
    config's ``extension_of``; the subject rolled over), an error otherwise — two unrelated
    studies would give one person two first periods."""
    for study in studies:   # before stacking: another study's column would hide the gap
        dm = study.get("DM")
        check_required_variables(study, ", ".join(map(str, dm["STUDYID"].dropna().unique()))
                                 if dm is not None and "STUDYID" in dm else None)
    pooled: dict[str, pd.DataFrame] = {}
    for domain in sorted({d for s in studies for d in s}):
        frames = [s[domain] for s in studies if domain in s and len(s[domain])]
        pooled[domain] = pd.concat(frames, ignore_index=True) if frames else next(
            s[domain] for s in studies if domain in s)
    dm = pooled.get("DM")
    if dm is not None:
        check_enrolments(dm, extensions or {})
    return pooled


def check_enrolments(dm: pd.DataFrame, extensions: dict[str, list[str]]) -> None:
    """A USUBJID in more than one study's DM is one person enrolled in each; every pair of those
    studies must be linked by ``extension_of`` (one extends the other, directly or through others).
    The error names the person, the studies and what to declare."""
    from adam.config import linked_studies

    dup = dm.duplicated("USUBJID", keep=False)
    if not dup.any():
        return
    groups = linked_studies(extensions)
    rows = dm.loc[dup, ["USUBJID", "STUDYID"]].astype(object)
    studies = rows.groupby("USUBJID", sort=True)["STUDYID"].agg(lambda s: tuple(dict.fromkeys(s)))
    for usubjid, where in studies.items():
        if len(where) != len(set(where)) or not any(set(where) <= g for g in groups):
            raise InputError(f"USUBJID {usubjid} is in DM of more than one study ({', '.join(where)}) that do not "
                             "extend one another: one USUBJID is one person; if the subject rolled over into an "
                             "extension, say so in the extension's study config (\"extension_of\": [...]), else give "
                             "each person their own USUBJID", column="USUBJID")


def check_required_sdtm(sdtm: dict[str, pd.DataFrame]) -> None:
    """DM, AE and EX present, each domain holding the variables the derivations read."""
    for domain in REQUIRED_DOMAINS:
        if domain not in sdtm:
            raise InputError(f"the integration needs SDTM {domain}, which no study provides")
    check_required_variables(sdtm)


def check_required_variables(sdtm: dict[str, pd.DataFrame], study: str | None = None) -> None:
    """Every domain present holds the variables the derivations read
    (:data:`sdtm.source.REQUIRED_VARIABLES`); ``study`` names the study in the message."""
    of = f" of study {study}" if study else ""
    for domain in [d for d in REQUIRED_VARIABLES if d in sdtm]:
        missing = missing_variables(domain, sdtm[domain])
        if missing:
            raise InputError(f"SDTM {domain}{of} lacks variable(s) {', '.join(missing)}, which the ISS derivations "
                             f"read (SDTMIG 3.4 Req/Exp)", column=missing[0])


def analysable_sdtm(sdtm: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The pooled SDTM checked (:func:`check_required_sdtm`), with the optional variables the
    derivations read added as null where absent (:data:`sdtm.source.OPTIONAL_VARIABLES`)."""
    check_required_sdtm(sdtm)
    return with_optional_variables(sdtm)


@dataclass
class SubjectLevel:
    """ADSL (dates as day numbers) and the timeline it was derived from."""

    adsl: pd.DataFrame
    periods: pd.DataFrame
    records: pd.DataFrame
    findings: list
    pieces: pd.DataFrame = None   # as treated: each run of one treatment within a period
    windows: pd.DataFrame = None  # the treatment-emergent window of each run


def subject_level(sdtm: dict[str, pd.DataFrame], iss: ISSConfig) -> SubjectLevel:
    """ADSL's base (DM, DS), the exposure records and subject periods (EX), then ADSL's
    treatment variables and population flags, and the as-treated timeline (pieces, windows)."""
    sdtm = analysable_sdtm(sdtm)
    dm, ex, ds = sdtm["DM"], sdtm["EX"], sdtm.get("DS")
    found = [exposure_findings(ex, dm)]
    base = adsl_mod.adsl_base(dm, ds, ex)
    base = adsl_mod.derive_age_groups(base, iss.get("age_groups", []))
    enrolled = dm.loc[is_in(dm["USUBJID"], base["USUBJID"])].set_index(["STUDYID", "USUBJID"])   # per study
    as_treated = enrolled["ACTARM"].fillna(enrolled["ARM"]) if "ACTARM" in enrolled else enrolled["ARM"]
    offsets = enrolment_offsets(enrolled.index.to_frame(index=False), iss)
    records = exposure_records(ex, iss, offsets=offsets, eos=pd.Series(days_to_datetime(base["EOSDT"].to_numpy()).to_numpy(),
                                                      index=base["USUBJID"].to_numpy()),
                               death=pd.Series(days_to_datetime(base["DTHDT"].to_numpy()).to_numpy(),
                                               index=base["USUBJID"].to_numpy()),
                               arms=as_treated if iss.actual_treatment == "exposure" else enrolled["ARM"])
    found.append(ungrouped_findings(records))
    planned = planned_groups(enrolled.reset_index()[["STUDYID", "USUBJID", "ARMCD", "ARM"]], iss, offsets)
    if iss.actual_treatment == "planned":
        records = as_planned(records, planned)
    found += [undated_findings(records, iss), dose_findings(records, iss), untreated_study_findings(records, iss)]
    periods = subject_periods(records, base, iss, planned)
    adsl = adsl_mod.derive_population_flags(adsl_mod.derive_treatment_variables(base, periods, planned), records,
                                            [s.studyid for s in iss.studies if s.randomized])
    adsl = derive_pool_flags(adsl_mod.derive_period_pooled_groups(adsl, iss), records, iss.analysis_pools)
    pieces = treatment_pieces(records)
    return SubjectLevel(adsl, periods, records, found, pieces, emergence_windows(pieces, adsl, iss))


def as_planned(records: pd.DataFrame, planned: pd.DataFrame) -> pd.DataFrame:
    """``actual_treatment: planned``: each record in the planned group of its subject and period
    (TRTP), so that exposure, ADAE's TRTA and time at risk follow the plan; a record of a
    subject and period without a planned group keeps the group of its treatment."""
    plan = planned.drop_duplicates(["USUBJID", "APERIOD"]).set_index(["USUBJID", "APERIOD"])
    keys = pd.MultiIndex.from_arrays([records["USUBJID"], records["APERIOD"]])
    label = pd.Series(plan["TRTP"].reindex(keys).to_numpy(), index=records.index)
    number = pd.Series(plan["TRTPN"].reindex(keys).to_numpy(dtype="float64"), index=records.index)
    return records.assign(GROUP=label.where(label.notna(), records["GROUP"]),
                          GROUPN=number.where(label.notna(), records["GROUPN"]))


def derive_adsl(sdtm: dict[str, pd.DataFrame], iss: ISSConfig, *, spec: Spec | None = None) -> pd.DataFrame:
    """ADSL of the pooled SDTM, shaped to the ISS ADaM spec (see ``adam.adsl``)."""
    spec = spec if spec is not None else compose_adam_spec(iss)
    datasets, _ = finalise({"ADSL": subject_level(sdtm, iss).adsl}, spec, keep={"DTHFL", "DTHDT"})
    return datasets["ADSL"]


def derive_adam(sdtm: dict[str, pd.DataFrame], iss: ISSConfig, *, spec: Spec | None = None) -> ISSAnalysis:
    """The ISS ADaM datasets from pooled SDTM, checked (see the module docstring):
    :func:`derive_analysis_datasets`, then :func:`check_analysis`."""
    return check_analysis(derive_analysis_datasets(sdtm, iss, spec=spec))


def derive_analysis_datasets(sdtm: dict[str, pd.DataFrame], iss: ISSConfig, *, spec: Spec | None = None
                             ) -> ISSAnalysis:
    """The ISS ADaM datasets from pooled SDTM, shaped to the spec, with the findings of their
    derivation; not yet checked against the spec (:func:`check_analysis`). The ISS tables
    need no more: the build starts them here, beside the checks."""
    spec = spec if spec is not None else compose_adam_spec(iss)
    sdtm = analysable_sdtm(sdtm)
    subjects = subject_level(sdtm, iss)
    adsl, records, windows, found = subjects.adsl, subjects.records, subjects.windows, subjects.findings
    adae, outside = adae_mod.derive_adae(sdtm["AE"], adsl, subjects.pieces, windows, iss)
    found.append(outside_findings(outside, sdtm["AE"], sdtm["DM"]))
    shares = piece_windows(subjects.pieces, windows)
    exposure = adex_mod.piece_exposure(records, shares, iss)
    adex = adex_mod.derive_adex(exposure, adsl, param_names(spec, "CL.ADEX.PARAMCD"), iss)
    adaette = adaette_mod.derive_adaette(adae, shares, adsl[adsl["SAFFL"] == "Y"], iss)
    raw = {"ADSL": adsl, "ADAE": adae, "ADEX": adex, "ADAETTE": adaette}
    planned_variables = ({aesi_variable(e) for e in iss.events if aesi_variable(e)}
                         | {"DTHFL", "DTHDT", "SRCDOM", "SRCSEQ"}   # traceability even when no event
                         | {"TRTA", "TRTAN", "TRTEMFL"})   # the analysis variables, even when nobody is treated
    datasets, spec = finalise(raw, spec, keep=planned_variables)
    return ISSAnalysis(iss, spec, datasets, findings.concat(found), subjects.periods, exposure, records,
                       subjects.pieces, windows)


def check_analysis(analysis: ISSAnalysis) -> ISSAnalysis:
    """``specs.check`` of each dataset against the ISS ADaM spec, its findings after those of
    the derivation; then the analysis reviewer's guide, which summarises them, among the spec's
    documents (unless the spec brings its own supplemental document)."""
    spec = analysis.spec
    checked = [specs.check(df, spec.dataset(name), spec) for name, df in analysis.datasets.items()]
    analysis.findings = findings.concat([analysis.findings, *checked])
    if not any(doc.kind == "SupplementalDoc" for doc in spec.documents):   # a spec may bring its own
        from adam.adrg import reviewers_guide

        spec.documents = [*spec.documents, reviewers_guide(analysis.iss, spec, analysis.datasets, analysis.findings)]
    return analysis


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
        df = detached(raw[name])
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
    rows = study_rows(ex)
    out = [findings.make("TP0202", "EX", "EXSTDTC", rows=rows.loc[overlap].to_numpy(),
                         values=ex.loc[overlap, "EXSTDTC"],
                         file=study_file(ex.loc[overlap, "STUDYID"], "EX"), message="exposure interval overlaps the "
                         "previous interval of the same subject and treatment")] if len(overlap) else []
    ref = dm.set_index(["STUDYID", "USUBJID"])   # each record against its own study's DM
    keys = pd.MultiIndex.from_arrays([ex["STUDYID"], ex["USUBJID"]])
    lo = pd.Series(to_epoch_days(ref["RFXSTDTC"].reindex(keys)), index=ex.index)
    hi = pd.Series(to_epoch_days(ref["RFXENDTC"].reindex(keys)), index=ex.index)
    outside = (s < lo) | (e > hi)
    if outside.any():
        idx = np.flatnonzero(outside.to_numpy())
        out.append(findings.make("TP0203", "EX", "EXSTDTC", rows=rows.iloc[idx].to_numpy(),
                                 values=ex["EXSTDTC"].iloc[idx], file=study_file(ex["STUDYID"].iloc[idx], "EX"),
                                 message="exposure outside DM.RFXSTDTC..RFXENDTC"))
    return findings.concat(out)


def ungrouped_findings(records: pd.DataFrame) -> pd.DataFrame:
    miss = records["GROUP"].isna()
    if not miss.any():
        return findings.empty()
    names = ", ".join(sorted(records.loc[miss, "EXTRT"].astype(str).unique()))
    raise InputError(f"exposure to {names} belongs to no group of the ISS config; list the treatment (or, with "
                     f"assign_by 'arm', the subject's arm) in a group", column="EXTRT")


def study_rows(frame: pd.DataFrame) -> pd.Series:
    """Each record's row (1-based) in its own study's dataset: the pooled SDTM keeps each study's
    records together and in order."""
    return frame.groupby("STUDYID", sort=False).cumcount() + 1


def study_file(studyid: pd.Series, domain: str) -> np.ndarray:
    """The file a finding's row is in: the study's dataset, "<studyid>/<domain>"."""
    return (studyid.astype(str).str.lower() + "/" + domain.lower()).to_numpy()


def undated_findings(records: pd.DataFrame, iss: ISSConfig) -> pd.DataFrame:
    """TP0204 for each EX record without a usable start date (the subject is treated, SAFFL "Y",
    but the record adds nothing to the dates, durations or time at risk); TP0205 for each EX
    record whose end date was imputed (EXENDTC missing or not a date: one application on
    EXSTDTC, or the end-of-study date with ``treatment_end.missing: disposition_date``)."""
    out = []
    undated = records[records["EXSTDT"].isna()]
    if len(undated):
        out.append(findings.make("TP0204", "EX", "EXSTDTC", rows=undated["EXROW"].to_numpy(),
                                 values=undated["EXSTDTC"], file=study_file(undated["STUDYID"], "EX"),
                                 message="EX record without a start date: the subject is treated (SAFFL Y), but "
                                 "this exposure is in no treatment date, duration or time at risk"))
    imputed = records[records["EXSTDT"].notna() & (records["EXENDTF"] == "Y")]
    if len(imputed):
        from_eos = (iss.imputation("treatment_end").get("missing") == "disposition_date") & (
            imputed["EXENDT"] != imputed["EXSTDT"]).to_numpy()
        message = np.where(from_eos, "EX end date missing or not a date: the end-of-study date taken "
                           "(imputation.treatment_end.missing disposition_date), flagged Y",
                           "EX end date missing or not a date: one application on EXSTDTC taken, flagged Y")
        out.append(findings.make("TP0205", "EX", "EXENDTC", rows=imputed["EXROW"].to_numpy(),
                                 values=imputed["EXENDTC"], file=study_file(imputed["STUDYID"], "EX"),
                                 message=message))
    return findings.concat(out)


def dose_findings(records: pd.DataFrame, iss: ISSConfig) -> pd.DataFrame:
    """TP0206 for each dated EX record whose total dose cannot be computed (ADEX TDOSE and ADOSE
    of its group are then null): EXDOSE missing, or EXDOSFRQ without a ``doses_per_day`` entry."""
    dated = records[records["EXSTDT"].notna()]
    no_dose = dated[dated["EXDOSE"].isna()]
    no_frequency = dated[dated["EXDOSE"].notna() & doses_per_day(dated, iss).isna().to_numpy()]
    out = []
    if len(no_dose):
        out.append(findings.make("TP0206", "EX", "EXDOSE", rows=no_dose["EXROW"].to_numpy(),
                                 file=study_file(no_dose["STUDYID"], "EX"),
                                 message="EXDOSE missing: total dose (ADEX TDOSE, ADOSE) of the group not computed"))
    if len(no_frequency):
        out.append(findings.make("TP0206", "EX", "EXDOSFRQ", rows=no_frequency["EXROW"].to_numpy(),
                                 values=no_frequency["EXDOSFRQ"], file=study_file(no_frequency["STUDYID"], "EX"),
                                 message="EXDOSFRQ has no administrations per day (ISS config doses_per_day): total "
                                 "dose (ADEX TDOSE, ADOSE) of the group not computed"))
    return findings.concat(out)


def untreated_study_findings(records: pd.DataFrame, iss: ISSConfig) -> pd.DataFrame:
    """TP0207 for each study of the integration without any EX record: none of its subjects is
    treated (SAFFL "N" for all), so it adds nothing to the safety analysis."""
    exposed = set(records["STUDYID"].unique())
    empty = [s.studyid for s in iss.studies if s.studyid not in exposed]
    if not empty:
        return findings.empty()
    return findings.concat([findings.make("TP0207", "EX", None, values=[sid], file=f"{sid.lower()}/ex",
                                          message=f"study {sid} has no exposure records (EX empty, or every raw "
                                          f"record rejected): none of its subjects is treated")
                            for sid in empty])


def outside_findings(outside: pd.DataFrame, ae: pd.DataFrame, dm: pd.DataFrame) -> pd.DataFrame:
    """TP0201 for each AE record of a subject outside ADSL; row = the record's row in its
    study's AE dataset (the pooled AE keeps each study's records in order). The message says
    why: in DM but neither randomised nor treated (a screen failure), or in no DM at all."""
    if not len(outside):
        return findings.empty()
    study_row = study_rows(ae)
    in_dm = is_in(outside["USUBJID"], dm["USUBJID"])
    message = np.where(in_dm, "AE of a subject not in ADSL (in DM, neither randomised nor treated: a screen "
                       "failure): not analysed", "AE of a subject in no DM: not analysed")
    return findings.make("TP0201", "AE", "USUBJID", rows=study_row.loc[outside.index].to_numpy(),
                         values=outside["USUBJID"], message=message, file=study_file(outside["STUDYID"], "AE"))
