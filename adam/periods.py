"""Treatment periods and groups of each subject — the timeline every ISS dataset uses.

ADaMIG 1.3 §3.2 (periods): a period is an interval of the study in which a subject's
treatment is the same; ``xx`` in TRTxxP/TRTxxA/TRxxSDT/APxxSDT is the period. For the
integrated analysis each subject-period also belongs to one treatment group of the ISS
config (the record-level TRTA), so that subjects who move from vehicle to cream in an
extension contribute time and events to each group they received.

``exposure_records`` dates every EX record (imputing partial dates) and assigns its period
and group. Two views of the timeline follow. ``treatment_pieces`` is the as-treated one: the
dated records in date order split wherever the treatment group or the period changes, so that
a period holding two treatments gives each its own piece (ADAE's TRTA, ADEX, ADAETTE), and
``emergence_windows`` gives each run of one treatment its treatment-emergent window — the one
definition ADAE.TRTEMFL and ADAETTE's time at risk share. ``subject_periods`` reduces the
records to one row per subject and period for ADSL (which holds one treatment per period):

=========  ==============================================================================
APERIOD    period number: the position of the record's EPOCH among the study config's
           ``periods`` (a study without periods has one, period 1), after the person's
           periods in the studies this one extends
SPERIOD    the period's number in its own study (APERIOD without that offset; the
           analysis pools name periods so, adam.pools)
TRTP(N)    planned group: the group of the treatment the subject's planned arm gives in
           that period (config ``assign_by: exposure``), or the group listing DM.ARM
           (``assign_by: arm``)
TRTA(N)    actual group: the group of the treatment received in the period (the one with
           most days if several: ADSL's TRTxxA; records are placed by piece), or TRTP
           (config ``actual_treatment: planned``)
TRSDT/F    first dose date of the period (and its imputation flag)
TREDT/F    last dose date of the period
APSDT      period start = TRSDT
APEDT      period end = the day before the next period's first dose; for the last
           period the end of study (EOSDT) when known and not before TREDT, else TREDT
=========  ==============================================================================
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from adam.config import ISSConfig
from adam.groups import arm_treatment_groups, group_of_arm, groups_of_treatments
from adam.imputation import impute_dates
from specs.errors import InputError
from specs.iso8601 import days_to_datetime, to_epoch_days

PERIOD_COLUMNS = ["STUDYID", "USUBJID", "APERIOD", "TRTP", "TRTPN", "TRTA", "TRTAN",
                  "TRSDT", "TRSDTF", "TREDT", "TREDTF", "APSDT", "APEDT"]
PIECE_COLUMNS = ["STUDYID", "USUBJID", "APERIOD", "SPERIOD", "TRTA", "TRTAN", "RUN", "PIECE", "TRSDT", "TREDT"]
WINDOW_COLUMNS = ["STUDYID", "USUBJID", "RUN", "TRTA", "TRTAN", "WSTART", "LAST", "WEND", "WHY"]
#: what can end a treatment-emergent window (ADAETTE.CNSDTDSC), in the order that breaks a tie
LIMITS = ("DEATH", "START OF ANOTHER TREATMENT", "END OF STUDY", "DATA CUT-OFF", "LAST EXPOSURE PLUS WINDOW")
#: the ``teae.bounded_by`` names of the ISS config -> the limit each stands for
#: what ends a piece whose run goes on in the next period (:func:`piece_windows`)
PERIOD_END = "END OF PERIOD"
BOUNDS = {"DTHDT": "DEATH", "EOSDT": "END OF STUDY", "CUTOFF": "DATA CUT-OFF"}


def period_of_epoch(iss: ISSConfig) -> pd.DataFrame:
    """(STUDYID, EPOCH) -> the period's number in its study config's periods."""
    rows = [(s.studyid, p["epoch"], p["number"]) for s in iss.studies for p in s.periods]
    return pd.DataFrame(rows, columns=["STUDYID", "EPOCH", "APERIOD"])


def enrolment_offsets(enrolments: pd.DataFrame, iss: ISSConfig) -> pd.Series:
    """Per (STUDYID, USUBJID) enrolment, how many analysis periods of the person come before the
    study's first. A person's studies follow one another (:meth:`adam.config.ISSConfig.study_rank`:
    parents before the extensions into which the person rolled over), so the periods of one
    person's studies are numbered on: parent period 1, extension period 1 -> APERIOD 2 (ADSL
    TRT02P/A). A person in one study, or enrolled straight into an extension, starts at 1."""
    pairs = enrolments[["STUDYID", "USUBJID"]].drop_duplicates()
    if not pairs["USUBJID"].duplicated().any():   # nobody rolled over
        return pd.Series(0, index=pd.MultiIndex.from_frame(pairs), dtype="int64")
    rank = {s.studyid: iss.study_rank(s.studyid) for s in iss.studies}
    pairs = pairs.assign(_R=pairs["STUDYID"].map(rank), _N=pairs["STUDYID"].map(iss.period_count))
    pairs = pairs.sort_values(["USUBJID", "_R"], kind="mergesort")
    offset = pairs.groupby("USUBJID", sort=False)["_N"].cumsum() - pairs["_N"]
    return pd.Series(offset.to_numpy(dtype="int64"), index=pd.MultiIndex.from_frame(pairs[["STUDYID", "USUBJID"]]))


def _offset_of(frame: pd.DataFrame, offsets: pd.Series | None) -> np.ndarray:
    """Each row's enrolment offset (0 where none is known)."""
    if offsets is None or not len(frame):
        return np.zeros(len(frame), dtype="int64")
    keys = pd.MultiIndex.from_arrays([frame["STUDYID"], frame["USUBJID"]])
    return offsets.reindex(keys).fillna(0).to_numpy(dtype="int64")


def exposure_records(ex: pd.DataFrame, iss: ISSConfig, *, eos: pd.Series | None = None,
                     death: pd.Series | None = None, arms: pd.Series | None = None,
                     offsets: pd.Series | None = None) -> pd.DataFrame:
    """EX records with ``EXSTDT``/``EXENDT`` (day numbers), flags, APERIOD and group.

    Dates: a partial EXSTDTC is imputed to its first possible day, a partial EXENDTC to its
    last (never after the end of study or death); an EXSTDTC that cannot be dated (null, or
    year unknown) leaves the record undated: it counts for SAFFL but not in dates, durations or
    time at risk. A missing EXENDTC (or one that cannot be dated) takes, with
    ``imputation.treatment_end.missing: disposition_date``, the subject's end-of-study date
    (the pilot's rule), else EXSTDTC (one application); either way flagged "Y": the whole date
    was imputed (ADaMIG DATEFL: year, month and day). Group: the group listing the record's
    EXTRT (``assign_by: exposure``), or the group listing the subject's arm (``assign_by: arm``;
    ``arms`` maps (STUDYID, USUBJID) to DM.ACTARM, or to DM.ARM when the config says the actual
    treatment is the planned one: a subject who rolled over has an arm in each study). A record whose treatment is in no group is an error: the ISS config
    must say where every treatment goes; so is a record of a study with periods whose EPOCH is
    none of them. APERIOD is the period's number after the person's periods in the studies this
    one extends (``offsets``, :func:`enrolment_offsets`). EXROW is the record's row in its study's
    EX (for findings).
    """
    out = ex[["STUDYID", "USUBJID", "EXSEQ", "EXTRT", "EXDOSE", "EXDOSU", "EXDOSFRQ", "EPOCH",
              "EXSTDTC", "EXENDTC"]].copy()
    out["EXROW"] = out.groupby("STUDYID", sort=False).cumcount() + 1   # as adam.build.study_rows
    eos_days = (pd.Series(to_epoch_days(out["USUBJID"].map(eos)), index=out.index)
                if eos is not None else pd.Series(np.nan, index=out.index))
    start, start_flag = impute_dates(out["EXSTDTC"], highest="M", fill="first")
    limits = [days_to_datetime(eos_days.to_numpy(), index=out.index)]
    if death is not None:
        limits.append(days_to_datetime(to_epoch_days(out["USUBJID"].map(death)), index=out.index))
    end, end_flag = impute_dates(out["EXENDTC"], highest="M", fill="last", max_dates=limits)
    out["EXSTDT"] = to_epoch_days(start)
    out["EXSTDTF"] = start_flag
    out["EXENDT"] = to_epoch_days(end)
    out["EXENDTF"] = end_flag
    out.loc[out["EXSTDT"].isna(), ["EXENDT", "EXENDTF"]] = [np.nan, None]   # undated: no dates at all
    undated_end = out["EXENDT"].isna() & out["EXSTDT"].notna()
    from_start = undated_end.copy()
    if iss.imputation("treatment_end").get("missing") == "disposition_date":
        fill = undated_end & (eos_days >= out["EXSTDT"])
        out.loc[fill, "EXENDT"] = eos_days[fill]
        from_start &= ~fill
    out.loc[from_start, "EXENDT"] = out.loc[from_start, "EXSTDT"]
    out.loc[undated_end, "EXENDTF"] = "Y"   # the whole date came from another source
    out = out.merge(period_of_epoch(iss), on=["STUDYID", "EPOCH"], how="left")
    _check_periods(out, iss)
    out["SPERIOD"] = out["APERIOD"].fillna(1).astype("int64")   # no periods: one
    out["APERIOD"] = out["SPERIOD"] + _offset_of(out, offsets)
    if iss.assign_by == "arm":
        groups = group_of_arm(iss)
        key = (pd.Series(arms.reindex(pd.MultiIndex.from_arrays([out["STUDYID"], out["USUBJID"]])).to_numpy(),
                         index=out.index) if arms is not None else pd.Series(None, index=out.index, dtype=object))
        key = key.astype("string").str.upper()
        out["GROUP"] = key.map({k: v[0] for k, v in groups.items()}).astype(object)
        out["GROUPN"] = key.map({k: v[1] for k, v in groups.items()}).astype("float64")
    else:
        out["GROUP"], out["GROUPN"] = groups_of_treatments(out["EXTRT"], out["EXDOSE"], out["EXDOSU"], iss)
    return out


def _check_periods(records: pd.DataFrame, iss: ISSConfig) -> None:
    """An EX record of a study with periods must be in one of them (its EPOCH the epoch of a
    period); only a study whose config lists no periods has the single period 1."""
    epochs = {s.studyid: [p["epoch"] for p in s.periods] for s in iss.studies if s.periods}
    unplaced = records["STUDYID"].isin(list(epochs)).to_numpy() & records["APERIOD"].isna().to_numpy()
    if unplaced.any():
        i = int(np.flatnonzero(unplaced)[0])
        sid, epoch = records["STUDYID"].iloc[i], records["EPOCH"].iloc[i]
        what = (f"EX EPOCH {epoch!r} is not a treatment period of study {sid}" if pd.notna(epoch) else
                f"EX record without EPOCH (null, or no EPOCH variable) in study {sid}, whose config places EX "
                f"records in periods by EPOCH")
        raise InputError(f"{what} (periods: {', '.join(epochs[sid])}); {int(unplaced.sum())} EX record(s) cannot "
                         f"be given a period", row=i + 1, column="EPOCH")


def treatment_pieces(records: pd.DataFrame) -> pd.DataFrame:
    """As treated: one row per subject, period and run (columns :data:`PIECE_COLUMNS`).

    The subject's dated EX records (EXSTDT known) in date order (EXSTDT, EXENDT, EXSEQ) form
    runs: a run is a stretch of consecutive records of one group, numbered RUN 1, 2, ... per
    subject (vehicle, then cream 1.5%, then vehicle again are three runs; cream 1.5% continued
    from one period into the next is one run). A piece is a run within a period: a period in
    which the subject had two treatments is two pieces. PIECE numbers them per subject in date
    order (:func:`piece_of_records` gives each record its piece); TRSDT/TREDT are the piece's
    first and last dose; TRTA/TRTAN its group."""
    dated = piece_of_records(records)
    if not len(dated):
        return _empty(PIECE_COLUMNS, text=("STUDYID", "USUBJID", "TRTA"))
    pieces = (dated.assign(_PIECE=_ordinal(dated))
              .groupby("_PIECE", sort=False)
              .agg(STUDYID=("STUDYID", "first"), USUBJID=("USUBJID", "first"), APERIOD=("APERIOD", "first"),
                   SPERIOD=("SPERIOD", "first"), TRTA=("GROUP", "first"), TRTAN=("GROUPN", "first"),
                   RUN=("RUN", "first"), PIECE=("PIECE", "first"), TRSDT=("EXSTDT", "min"),
                   TREDT=("EXENDT", "max"))
              .reset_index(drop=True))
    return pieces[PIECE_COLUMNS]


def piece_of_records(records: pd.DataFrame) -> pd.DataFrame:
    """The dated EX records (EXSTDT known) in date order (USUBJID, EXSTDT, EXENDT, EXSEQ), each
    with its RUN and PIECE (:func:`treatment_pieces`), numbered 1, 2, ... per subject."""
    dated = records[records["EXSTDT"].notna()].sort_values(["USUBJID", "EXSTDT", "EXENDT", "EXSEQ"],
                                                            kind="mergesort")
    subject = dated["USUBJID"].to_numpy(dtype=object)
    group = dated["GROUPN"].to_numpy(dtype="float64")
    period = dated["APERIOD"].to_numpy()
    new_subject = np.r_[True, subject[1:] != subject[:-1]] if len(dated) else np.zeros(0, dtype=bool)
    new_run = new_subject | np.r_[True, group[1:] != group[:-1]] if len(dated) else new_subject
    new_piece = new_run | np.r_[True, period[1:] != period[:-1]] if len(dated) else new_subject
    return dated.assign(RUN=_number_within(new_run, new_subject), PIECE=_number_within(new_piece, new_subject))


def _ordinal(dated: pd.DataFrame) -> np.ndarray:
    """Each record's piece as one number over all subjects (records in :func:`piece_of_records`
    order): a new one wherever PIECE changes."""
    piece = dated["PIECE"].to_numpy()
    subject = dated["USUBJID"].to_numpy(dtype=object)
    return np.cumsum(np.r_[True, (piece[1:] != piece[:-1]) | (subject[1:] != subject[:-1])])


def _number_within(new: np.ndarray, new_subject: np.ndarray) -> np.ndarray:
    """1, 2, ... at each ``new`` row, restarting at each subject's first row."""
    count = np.cumsum(new)
    return count - np.maximum.accumulate(np.where(new_subject, count, 0)) + 1


def piece_windows(pieces: pd.DataFrame, windows: pd.DataFrame) -> pd.DataFrame:
    """The pieces (:func:`treatment_pieces`) with the part of their run's exposure and
    treatment-emergent window (:func:`emergence_windows`) each holds, so that the pieces of a run
    add up to the run (day numbers):

    * PEND, the end of the piece's exposure: the day before the next piece of the same run starts
      (the run goes on in the next period), else the run's last dose (LAST);
    * WEND, the end of its time at risk: the day before the next piece of the same run starts,
      else the run's window end (infinite when nothing limits it);
    * WHY, what ended it: "END OF PERIOD" where the run goes on, else the run's limit
      (:data:`LIMITS`; null when none did); LAST, the run's last dose.

    A run in one period is one piece with the run's LAST and window."""
    runs = windows[["USUBJID", "RUN", "LAST", "WEND", "WHY"]].astype({"USUBJID": object, "RUN": "float64"})
    out = pieces.astype({"RUN": "float64"}).merge(runs, on=["USUBJID", "RUN"], how="left", sort=False)
    out.index = pieces.index
    following = out.groupby(["USUBJID", "RUN"], sort=False)["TRSDT"].shift(-1)
    goes_on = following.notna()
    out["PEND"] = np.where(goes_on, following - 1, out["LAST"])
    out["WEND"] = np.where(goes_on, following - 1, out["WEND"])
    out["WHY"] = np.where(goes_on, PERIOD_END, out["WHY"])
    return out


def emergence_windows(pieces: pd.DataFrame, adsl: pd.DataFrame, iss: ISSConfig) -> pd.DataFrame:
    """The treatment-emergent window of each run (columns :data:`WINDOW_COLUMNS`; day numbers):
    the one definition ADAE.TRTEMFL and ADAETTE's time at risk share.

    WSTART is the run's first dose, LAST its last; WEND the earliest of

    * LAST + ``teae.window_days`` (no limit when the window is null): LAST EXPOSURE PLUS WINDOW;
    * the day before the subject's next run starts: START OF ANOTHER TREATMENT;
    * those the config's ``teae.bounded_by`` names (default all three): death (DTHDT), the end
      of study (EOSDT, unless it falls before LAST: exposure the DS date contradicts is not cut
      off) and the data cut-off (CUTOFF);

    never before WSTART, and infinite when nothing limits it (a null window and no bound known).
    WHY names the limit that set WEND (:data:`LIMITS`; the first of them on a tie), null when
    none did."""
    runs = (pieces.groupby(["USUBJID", "RUN"], sort=False)   # a run may go on in an extension: one run
            .agg(STUDYID=("STUDYID", "first"), TRTA=("TRTA", "first"), TRTAN=("TRTAN", "first"),
                 WSTART=("TRSDT", "min"), LAST=("TREDT", "max"))
            .reset_index().sort_values(["USUBJID", "RUN"], kind="mergesort").reset_index(drop=True))
    teae = iss.teae
    subject = adsl.set_index("USUBJID")
    nothing = pd.Series(np.nan, index=runs.index)
    eos = runs["USUBJID"].map(subject["EOSDT"]).astype("float64")
    cutoff = pd.Series(float(to_epoch_days(pd.Series([iss.get("data_cutoff")]))[0]) if iss.get("data_cutoff")
                       else np.nan, index=runs.index)
    caps = {"DEATH": runs["USUBJID"].map(subject["DTHDT"]).astype("float64"),
            "START OF ANOTHER TREATMENT": runs.groupby("USUBJID")["WSTART"].shift(-1) - 1,
            "END OF STUDY": eos.where(eos >= runs["LAST"]),
            "DATA CUT-OFF": cutoff,
            "LAST EXPOSURE PLUS WINDOW": runs["LAST"] + teae["window_days"] if teae["window_days"] is not None
            else nothing}
    for name, limit in BOUNDS.items():
        if name not in teae["bounded_by"]:
            caps[limit] = nothing
    stack = np.column_stack([caps[name].astype("float64").fillna(np.inf).to_numpy() for name in LIMITS])
    end = stack.min(axis=1)   # the earliest limit; argmin takes the first of LIMITS on a tie
    limited = np.isfinite(end)
    runs["WEND"] = np.where(limited, np.maximum(end, runs["WSTART"]), np.inf)
    runs["WHY"] = np.where(limited, np.asarray(LIMITS, dtype=object)[stack.argmin(axis=1)], None)
    return runs[WINDOW_COLUMNS]


def _empty(columns: list[str], text: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object if c in text else "float64") for c in columns})


def subject_periods(records: pd.DataFrame, adsl_base: pd.DataFrame, iss: ISSConfig,
                    planned: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per subject and period (columns :data:`PERIOD_COLUMNS`; dates as day numbers);
    ``planned``: :func:`planned_groups` of ``adsl_base`` when the caller has it."""
    if not len(records):
        return _empty(PERIOD_COLUMNS, text=("STUDYID", "USUBJID", "TRTP", "TRTA", "TRSDTF", "TREDTF"))
    span = records.assign(_DAYS=records["EXENDT"] - records["EXSTDT"] + 1)
    keys = ["STUDYID", "USUBJID", "APERIOD"]
    agg = span.groupby(keys, sort=True).agg(TRSDT=("EXSTDT", "min"), TREDT=("EXENDT", "max")).reset_index()
    agg = _attach_flags(agg, span, keys)
    actual = (span.groupby([*keys, "GROUP", "GROUPN"], dropna=False)["_DAYS"].sum().reset_index()
              .sort_values([*keys, "_DAYS", "GROUPN"], ascending=[True, True, True, False, True], kind="mergesort")
              .drop_duplicates(keys))
    agg = agg.merge(actual[[*keys, "GROUP", "GROUPN"]].rename(columns={"GROUP": "TRTA", "GROUPN": "TRTAN"}),
                    on=keys, how="left")
    planned = planned if planned is not None else planned_groups(adsl_base, iss)
    agg = agg.merge(planned, on=["USUBJID", "APERIOD"], how="left")
    if iss.actual_treatment == "planned":
        agg["TRTA"], agg["TRTAN"] = agg["TRTP"], agg["TRTPN"]
    agg = agg.sort_values(["USUBJID", "APERIOD"], kind="mergesort").reset_index(drop=True)
    agg["APSDT"] = agg["TRSDT"]
    next_start = agg.groupby("USUBJID")["TRSDT"].shift(-1)
    eos = pd.Series(_day_numbers(agg["USUBJID"].map(adsl_base.set_index("USUBJID")["EOSDT"])), index=agg.index)
    last_end = np.where(eos.notna() & (eos >= agg["TREDT"]), eos, agg["TREDT"])
    agg["APEDT"] = np.where(next_start.notna(), next_start - 1, last_end)
    return agg[PERIOD_COLUMNS]


def _day_numbers(dates: pd.Series) -> np.ndarray:
    """Dates held as day numbers (float) or as datetime64 -> day numbers."""
    if pd.api.types.is_datetime64_any_dtype(dates.dtype):
        return to_epoch_days(dates)
    return dates.to_numpy(dtype="float64")


def _attach_flags(agg: pd.DataFrame, span: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Imputation flags of the record that gave each period's first and last dose."""
    first = span.sort_values([*keys, "EXSTDT"], kind="mergesort").drop_duplicates(keys)[[*keys, "EXSTDTF"]]
    last = span.sort_values([*keys, "EXENDT"], kind="mergesort").drop_duplicates(keys, keep="last")[[*keys, "EXENDTF"]]
    agg = agg.merge(first.rename(columns={"EXSTDTF": "TRSDTF"}), on=keys, how="left")
    return agg.merge(last.rename(columns={"EXENDTF": "TREDTF"}), on=keys, how="left")


def planned_groups(enrolments: pd.DataFrame, iss: ISSConfig, offsets: pd.Series | None = None) -> pd.DataFrame:
    """Per subject and analysis period, the planned group (TRTP/TRTPN) from the planned arm of
    each study the subject is enrolled in (``enrolments``: DM records, STUDYID, USUBJID, ARMCD,
    ARM; a subject who rolled over has one per study), its periods numbered after those of the
    studies it extends (``offsets``, :func:`enrolment_offsets`)."""
    enrolments = enrolments.assign(_OFFSET=_offset_of(enrolments, offsets))
    if iss.assign_by == "arm":
        groups = group_of_arm(iss)
        arm = enrolments["ARM"].astype("string").str.upper()
        out = pd.DataFrame({"USUBJID": enrolments["USUBJID"].to_numpy(),
                            "APERIOD": enrolments["_OFFSET"].to_numpy(dtype="int64") + 1,
                            "TRTP": arm.map({k: v[0] for k, v in groups.items()}).to_numpy(dtype=object),
                            "TRTPN": arm.map({k: v[1] for k, v in groups.items()}).to_numpy(dtype=float)})
    else:
        plan = enrolments[["STUDYID", "USUBJID", "ARMCD", "_OFFSET"]].merge(
            arm_treatment_groups(iss.studies, iss), on=["STUDYID", "ARMCD"])
        out = pd.DataFrame({"USUBJID": plan["USUBJID"].to_numpy(),
                            "APERIOD": plan["_OFFSET"].to_numpy(dtype="int64") + plan["PERIOD"].to_numpy(),
                            "TRTP": plan["TRTP"].to_numpy(dtype=object), "TRTPN": plan["TRTPN"].to_numpy()})
    out["TRTPN"] = out["TRTPN"].astype("float64")
    return out
