"""``map_study``: one study's raw exports -> SDTM DM, AE, EX, DS, TS, SUPPDM, SUPPAE.

The order follows the dependencies of the derivations: subjects (DM) first, then the
records that hang off them (EX, DS, AE), then what DM derives from those records
(reference dates, death, actual arm, ARMNRS, age), then the study days and epochs of every
record, the supplemental qualifiers and the trial summary. Every dataset then goes through
``specs.conform`` and ``specs.check`` against the study's spec.

Every raw record is accounted for: each ends up in a dataset (``lineage`` gives its raw
file and row) or in ``rejections`` with a reason; ``reconciliation`` shows, per raw file,
rows read = rows mapped + rows rejected.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

import specs
from fileformats.rawio import RAW_FILE, RAW_ROW, RawTable, read_raw
from sdtm import ae as ae_mod
from sdtm import dm as dm_mod
from sdtm import ds as ds_mod
from sdtm import ex as ex_mod
from sdtm.common import Ledger, reconcile, reconciliation_findings, text, unmapped_findings
from sdtm.config import REQUIRED_FIELDS, StudyConfig
from sdtm.epoch import epoch_windows
from sdtm.rawtext import submission_text
from sdtm.studyspec import add_supplemental_metadata, compose_study_spec, declare_not_collected
from sdtm.supp import SUPP_PREFIX, build_supp, split_long_text
from sdtm.variables import LINK, add_variables, fed_fields, feed_form_fields
from sdtm.ts import build_trial_summary
from specs import findings
from specs.checks import is_date_variable
from specs.columns import is_in
from specs.clock import default_created
from specs.errors import InputError
from specs.model import Spec
from specs.shape import drop_unused_variables

OUTPUT_ORDER = ("DM", "AE", "EX", "DS", "TS", "SUPPDM", "SUPPAE")
SEQ_VARIABLE = {"AE": "AESEQ", "EX": "EXSEQ", "DS": "DSSEQ"}
#: Parent domains with a SUPP-- dataset, and the IDVAR linking to them (null for DM).
SUPP_IDVAR = {"DM": None, "AE": "AESEQ"}


@dataclass
class StudySDTM:
    """The SDTM of one study and the account of how it was made."""

    config: StudyConfig
    spec: Spec
    datasets: dict[str, pd.DataFrame]
    findings: pd.DataFrame
    rejections: pd.DataFrame
    reconciliation: pd.DataFrame
    lineage: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def studyid(self) -> str:
        return self.config.studyid


def read_study_raw(config: StudyConfig, input_dir: Path | None = None, *, base: Path | None = None
                   ) -> dict[str, RawTable]:
    """Read every raw file the config lists (I/O at the edge; ``map_study`` is pure).

    Each file is named (in findings, lineage and messages) by its path relative to ``base``:
    the study config's folder unless given (the build passes the ISS config's folder), so that
    the names do not depend on the folder the build ran in."""
    folder = config.raw_dir(input_dir)
    tables = {}
    for domain, spec in config.get("raw", {}).get("files", {}).items():
        path = folder / spec["path"]
        name = raw_file_name(path, base if base is not None else config.file.parent)
        tables[domain] = read_raw(path, spec["columns"], name=name, fmt=spec.get("format"),
                                  encoding=spec.get("encoding", "utf-8"), delimiter=spec.get("delimiter", ","),
                                  sheet=spec.get("sheet"),
                                  required=tuple(f for f in REQUIRED_FIELDS.get(domain, ()) if f not in fed_fields(config, domain)))
    return tables


def raw_file_name(path: Path, base: Path) -> str:
    """How a raw file is named in findings, lineage and the reconciliation: its path relative to
    ``base`` (the ISS config's folder in a build)."""
    return Path(os.path.relpath(path, base)).as_posix()


def map_study(config: StudyConfig, raw: dict[str, RawTable], *, spec: Spec | None = None,
              data_cutoff: str | None = None, created: datetime | None = None) -> StudySDTM:
    """Map one study's raw tables to SDTM (see the module docstring).

    Collected dates after ``data_cutoff`` (the ISS config's) are findings; without a cut-off,
    dates after the build's creation date are (``created``, else ``specs.clock``:
    SOURCE_DATE_EPOCH or today) — no date can have been collected after the data were built."""
    if "DM" not in raw or not raw["DM"].rows:
        raise InputError("the demographics export has no records: a study needs its subjects",
                         file=raw["DM"].name if "DM" in raw else config.file)
    raw, transliterated = submission_text(raw, config.get("text", {}).get("non_ascii", "refuse"))
    spec = spec.copy() if spec is not None else compose_study_spec(config)
    values = codelist_values(spec)
    ledger = Ledger()
    frames = {d: feed_form_fields(with_headers(t.frame, t.headers), d, config, spec, ledger) for d, t in raw.items()}
    subjects = collected(dm_mod.map_subjects(frames["DM"], config, ledger, values), frames, "DM", config, spec,
                         ledger, values)
    for q in config.supplemental("DM"):
        subjects[SUPP_PREFIX + q["qnam"]] = frames["DM"].loc[subjects.index, q["field"]]
    keys = subjects[[LINK, "USUBJID"]].rename(columns={LINK: "SUBJID"})   # how AE, EX, DS name the subject
    ex = (collected(ex_mod.map_exposure(frames["EX"], config, keys, ledger, values), frames, "EX", config, spec,
                    ledger, values) if "EX" in frames
          else _empty_records(("_PERIOD", "_TRTCODE", "EXSTDTC", "EXENDTC")))
    ds = ds_mod.add_milestones(
        collected(ds_mod.map_disposition(frames["DS"], config, keys, ledger, values), frames, "DS", config, spec,
                  ledger, values) if "DS" in frames else None, subjects, config)
    ae = (collected(ae_mod.map_adverse_events(frames["AE"], config, keys, ledger, values), frames, "AE", config,
                    spec, ledger, values) if "AE" in frames else None)
    dm = derive_dm(subjects, ex, ds, ae, config, ledger)
    windows = epoch_windows(dm, ex, config)
    out = {"DM": dm, "EX": ex_mod.derive_study_days(ex, dm)}
    if ae is not None:
        out["AE"] = ae_mod.derive_timing(ae, dm, windows)
    if ds is not None:
        out["DS"] = ds_mod.derive_timing(ds, dm, windows, config)
    for name in [d for d in ("DM", "AE", "EX", "DS") if d in out]:
        out[name], qualifiers = split_long_text(out[name], name, config.supplemental(name), spec)
        if name in SUPP_IDVAR:
            add_supplemental_metadata(spec, f"SUPP{name}", qualifiers)
            out[f"SUPP{name}"] = build_supp(out[name], name, qualifiers, idvar=SUPP_IDVAR[name])
    out["TS"] = build_trial_summary(config, dm, spec, data_cutoff=data_cutoff)
    note_future_dates(out, spec, future_reference(data_cutoff, created), ledger)
    note_dates_before_birth(out, spec, ledger)
    lineage = record_lineage(out)
    rejections = ledger.rejections()
    reconciliation = reconcile(raw, {d: out[d] for d in ("DM", "AE", "EX", "DS") if d in out}, rejections)
    datasets, spec = finalise(out, spec)
    found = findings.concat([transliterated, ledger.findings(), rejection_findings(rejections),
                             reconciliation_findings(reconciliation), unmapped_findings(raw),
                             *[specs.check(df, spec.dataset(name), spec) for name, df in datasets.items()]])
    spec.documents = [*spec.documents, *_reviewers_guide(config, spec, datasets, found, reconciliation, rejections)]
    return StudySDTM(config, spec, datasets, found, rejections, reconciliation, lineage)


def _reviewers_guide(config: StudyConfig, spec: Spec, datasets: dict, found: pd.DataFrame,
                     reconciliation: pd.DataFrame, rejections: pd.DataFrame) -> list:
    """The generated cSDRG (``sdtm.sdrg``) as the define's def:SupplementalDoc, unless the spec
    (an overlay) brings its own supplemental document."""
    if any(doc.kind == "SupplementalDoc" for doc in spec.documents):
        return []
    from sdtm.sdrg import reviewers_guide

    return [reviewers_guide(config, spec, datasets, found, reconciliation, rejections)]


def collected(records: pd.DataFrame, frames: dict[str, pd.DataFrame], domain: str, config: StudyConfig, spec: Spec,
              ledger: Ledger, values: dict[str, list[str]]) -> pd.DataFrame:
    """A mapper's records with the domain's other variables the config gives (``sdtm.variables``)."""
    return add_variables(records, frames[domain], domain, config, spec, ledger, values)


def with_headers(frame: pd.DataFrame, headers: dict[str, str]) -> pd.DataFrame:
    """The raw frame, knowing (in ``attrs``) the raw column each field was read from: messages
    about a record name the column as the export spells it."""
    frame = frame.copy(deep=False)
    frame.attrs["headers"] = dict(headers)
    return frame


def codelist_values(spec: Spec) -> dict[str, list[str]]:
    """Allowed values by variable name, for mapping raw codes, and by codelist OID (``CL.PROTMLST``:
    what a derivation needs of a codelist no variable is bound to)."""
    by_oid = {c.oid: c.values() for c in spec.codelists if not c.is_external}
    out: dict[str, list[str]] = dict(by_oid)
    for _, var in spec.iter_variables():
        if var.codelist in by_oid:
            out.setdefault(var.name, by_oid[var.codelist])
    return out


def _empty_records(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in ("USUBJID", *columns)})


def derive_dm(subjects: pd.DataFrame, ex: pd.DataFrame, ds: pd.DataFrame | None, ae: pd.DataFrame | None,
              config: StudyConfig, ledger: Ledger) -> pd.DataFrame:
    """DM's derived variables, each by its own rule in ``sdtm.dm``; RFPENDTC first (the end of
    participation of a randomised subject never treated is RFENDTC's last resort)."""
    subjects = subjects.assign(RFPENDTC=dm_mod.derive_rfpendtc(subjects, [ex, ds, ae]))
    dm = dm_mod.derive_reference_dates(subjects, ex, ds, config)
    dm = dm_mod.derive_death(dm, ds, ae)
    dm = dm_mod.derive_actual_arm(dm, ex, config)
    failed = (pd.Series(is_in(dm["USUBJID"], ds.loc[ds["DSDECOD"] == "SCREEN FAILURE", "USUBJID"]), index=dm.index)
              if ds is not None
              else pd.Series(False, index=dm.index))
    dm["ARMNRS"] = dm_mod.derive_armnrs(dm, failed)
    if config.get("age", "derived") == "derived" or "AGE" not in dm:
        age, ambiguous = dm_mod.derive_age(dm)
        unborn = age < 0
        ledger.note("TP0108", dm, unborn, dataset="DM", variable="AGE", values=dm["BRTHDTC"],
                    message="BRTHDTC is after RFICDTC; AGE left null")
        dm["AGE"] = age.mask(unborn)
        ledger.note("TP0106", dm, ambiguous, dataset="DM", variable="AGE", values=dm["BRTHDTC"],
                    message="birth date too partial to give completed years at consent; AGE left null")
    dm["AGEU"] = text(np.where(dm["AGE"].notna(), "YEARS", None), dm.index)
    return dm


def future_reference(data_cutoff: str | None, created: datetime | None) -> tuple[str, str]:
    """The date after which a collected date is in the future, and what it is: the data cut-off
    when the ISS config gives one, else the build's creation date (``specs.clock``)."""
    if data_cutoff:
        return str(data_cutoff), "the data cut-off"
    moment = created if created is not None else default_created()
    return moment.date().isoformat(), "the build date (no data cut-off given)"


def note_future_dates(datasets: dict[str, pd.DataFrame], spec: Spec, reference: tuple[str, str],
                      ledger: Ledger) -> None:
    """Collected dates after the reference date are findings (records kept), one per raw value:
    only variables whose spec origin is Collected are checked, so a date derived from a
    collected one (RFXENDTC, RFPENDTC, DTHDTC ...) does not report it again."""
    from sdtm.dates import is_future

    day, what = reference
    for name, df in datasets.items():
        if RAW_ROW not in df:
            continue
        for var in collected_dates(spec, name, df):
            ledger.note("TP0103", df, is_future(df[var], day), dataset=name, variable=var, values=df[var],
                        message=f"{var} is after {what} {day}")


def note_dates_before_birth(datasets: dict[str, pd.DataFrame], spec: Spec, ledger: Ledger) -> None:
    """A collected date of an AE, EX or DS record that can only lie before the subject's birth
    (its latest possible day before the earliest day BRTHDTC can denote; partial dates count
    by their bounds) is a finding (TP0111); the record is kept."""
    from specs.iso8601 import date_bounds, date_fields

    dm = datasets["DM"]
    born, _ = date_bounds(date_fields(dm["BRTHDTC"]))
    earliest_birth = pd.Series(born, index=dm["USUBJID"].to_numpy())
    for name, df in datasets.items():
        if name == "DM" or RAW_ROW not in df:
            continue
        birth = df["USUBJID"].map(earliest_birth).to_numpy(dtype="float64", na_value=np.nan)
        for var in collected_dates(spec, name, df):
            _, latest = date_bounds(date_fields(df[var]))
            before = pd.Series(latest < birth, index=df.index)   # NaN on either side: False
            ledger.note("TP0111", df, before, dataset=name, variable=var, values=df[var],
                        message=f"{var} is before the subject's birth date (DM.BRTHDTC)")


def collected_dates(spec: Spec, name: str, df: pd.DataFrame) -> list[str]:
    """The ISO 8601 date variables of dataset ``name`` in ``df`` whose spec origin is Collected:
    each holds a raw value; derived dates (RFXENDTC, RFPENDTC ...) repeat one."""
    return [v.name for v in spec.dataset(name).variables
            if v.name in df and is_date_variable(v) and v.origin_type == "Collected"]


def record_lineage(datasets: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Each SDTM record's raw file and row (DESIGN principle 6), keyed by dataset, USUBJID, --SEQ.
    Dataset and file names are categories and USUBJID stays Arrow text: millions of records at
    scale, handed from a worker process to the build as a few buffers, not Python strings."""
    parts, names = [], []
    for name, df in datasets.items():
        if RAW_ROW not in df:
            continue
        seq = df[SEQ_VARIABLE[name]] if name in SEQ_VARIABLE else pd.Series(np.nan, index=df.index)
        parts.append(pd.DataFrame({"dataset": np.full(len(df), len(names), dtype=np.int8), "USUBJID": df["USUBJID"].array,
                                   "seq": seq.to_numpy(), "file": df[RAW_FILE].array,
                                   "row": df[RAW_ROW].to_numpy()}))
        names.append(name)
    if not parts:
        return pd.DataFrame()
    lineage = pd.concat(parts, ignore_index=True)
    lineage["dataset"] = pd.Categorical.from_codes(lineage["dataset"].to_numpy(), categories=names)
    lineage["file"] = lineage["file"].astype("category")
    return lineage


def rejection_findings(rejections: pd.DataFrame) -> pd.DataFrame:
    """One finding per rejected raw record, under the rule it was rejected by (TP0101 names no
    subject, an error; TP0116 an exact duplicate, a warning)."""
    if not len(rejections):
        return findings.empty()
    return findings.concat(
        findings.make(rule, "RAW", None, rows=part["row"].to_numpy(), values=part["value"],
                      message="record rejected: " + part["reason"].astype(str), file=part["file"].to_numpy())
        .assign(variable=part["column"].to_numpy(), dataset=part["domain"].to_numpy())
        for rule, part in rejections.groupby("rule", sort=True))


def finalise(datasets: dict[str, pd.DataFrame], spec: Spec) -> tuple[dict[str, pd.DataFrame], Spec]:
    """Sort, drop helper columns, drop unused Perm variables from data and spec, declare the
    Expected variables not collected (``sdtm.studyspec.declare_not_collected``), conform."""
    sort_keys = {"DM": ["USUBJID"], "AE": ["USUBJID", "AESEQ"], "EX": ["USUBJID", "EXSEQ"],
                 "DS": ["USUBJID", "DSSEQ"], "TS": ["TSPARMCD", "TSSEQ"]}
    out = {}
    for name in OUTPUT_ORDER:
        if name not in datasets:
            continue
        df = datasets[name]
        if name in sort_keys:
            df = df.sort_values(sort_keys[name], kind="mergesort")
        df = df[[c for c in df.columns if not c.startswith("_")]].reset_index(drop=True)
        out[name] = df
    spec = declare_not_collected(drop_unused_variables(spec, out), out)
    return {name: specs.conform(df, spec.dataset(name), extra="drop") for name, df in out.items()}, spec
