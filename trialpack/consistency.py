"""Cross-dataset checks of a built package (run by ``trialpack validate DIR``).

Each rule compares datasets that must agree; findings name the dataset, variable, row and
value. SDTM datasets are keyed by STUDYID (one folder per study); the ISS ADaM is pooled.
Rules, in order:

* TP0301 every AE, EX, DS and SUPP-- subject is in the study's DM;
* TP0302 --SEQ is unique within USUBJID in each domain;
* TP0303 DM.RFXSTDTC/RFXENDTC equal the first EXSTDTC / last EXENDTC (EXSTDTC when no end);
* TP0313 (warning) DM.RFSTDTC is the first exposure and RFSTDTC..RFENDTC covers the last one,
  RFSTDTC null for an untreated subject, RFENDTC null for one with no planned arm (SDTMIG
  3.4 DM: sponsor-defined, usually so);
* TP0314 DM.RFENDTC is not before DM.RFSTDTC;
* CG0529 DM.RFENDTC is given for every subject with a planned arm (SDTMIG 3.4 DM: "required
  for all randomized subjects"; CDISC CORE-000191);
* TP0316 DM.RFPENDTC, the end of participation, is not before any date of the subject's records;
* TP0315 every --DY, --STDY, --ENDY is the study day of its --DTC, --STDTC, --ENDTC from
  DM.RFSTDTC (SDTMIG 3.4 §4.4.4);
* TP0304 every ADSL subject is in DM;
* TP0305 SAFFL = "Y" exactly for the DM subjects with exposure (EX);
* TP0306 ADAE holds exactly the AE records of the ADSL subjects (STUDYID, USUBJID, AESEQ);
* TP0307 ADaM SRCDOM/SRCSEQ name an existing record (ADaMIG 1.3 traceability variables);
* the FDA Trial Summary rules of :func:`sdtm.ts.check_trial_summary` (TP0401-TP0403, CORE-000741).

Studies whose SDTM is not in the package (SDTM given as input) are skipped by the rules that
need it, with a notice (TP0308).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from sdtm.dm import contact_dates
from sdtm.ts import check_trial_summary
from specs import findings
from specs.columns import is_in
from specs.iso8601 import date_bounds, date_fields


def _rows(rule: str, dataset: str, variable: str, mask, frame: pd.DataFrame, values, message,
          file: str | None) -> pd.DataFrame | None:
    """Findings of ``rule`` for the rows where ``mask`` holds; ``values`` is a column name of
    ``frame`` or an array of the rows' values; ``message`` one text, one per row of ``frame``,
    or a function of the found rows' positions giving theirs."""
    idx = np.flatnonzero(np.asarray(mask, dtype=bool))
    if not len(idx):
        return None
    vals = pd.Series(values).iloc[idx] if not isinstance(values, str) else frame[values].iloc[idx]
    text = message if isinstance(message, str) else \
        np.asarray(message(idx) if callable(message) else np.asarray(message, dtype=object)[idx], dtype=object)
    return findings.make(rule, dataset, variable, rows=idx + 1, values=vals, message=text, file=file)


def _bounds(values) -> tuple[np.ndarray, np.ndarray]:
    """Earliest and latest day each ISO 8601 value can denote (NaN: null or no year)."""
    return date_bounds(date_fields(values))


def _given(values: pd.Series) -> np.ndarray:
    """Text that is neither null nor empty."""
    return (values.astype("string").fillna("") != "").to_numpy(dtype=bool)


def _differ(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """Day numbers that differ, a null against a value included."""
    return ~(np.isnan(got) & np.isnan(want)) & ~(got == want)


def sdtm_checks(sdtm: dict[str, pd.DataFrame], files: dict[str, str]) -> pd.DataFrame:
    """TP0301-TP0303 and TP0313-TP0315 on one study's SDTM datasets."""
    out = []
    dm = sdtm.get("DM")
    if dm is None:
        return findings.empty()
    subjects = dm["USUBJID"]
    for name, df in sdtm.items():
        if name == "DM" or "USUBJID" not in df:
            continue
        missing = ~is_in(df["USUBJID"], subjects)
        out.append(_rows("TP0301", name, "USUBJID", missing, df, "USUBJID", f"{name} subject is not in DM",
                         files.get(name)))
        seq = f"{name}SEQ" if f"{name}SEQ" in df else None
        if seq:
            dup = df.duplicated(["USUBJID", seq], keep="first")
            out.append(_rows("TP0302", name, seq, dup, df, seq, f"{seq} repeats within the subject",
                             files.get(name)))
    if "EX" in sdtm:
        out += reference_dates(dm, sdtm["EX"], files.get("DM"))
    out += participation_dates(sdtm, files.get("DM"))
    out += study_days(sdtm, files)
    if "TS" in sdtm:
        out.append(check_trial_summary(sdtm["TS"], file=files.get("TS")))
    return findings.concat(out)


def exposure_span(dm: pd.DataFrame, ex: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per DM row: the first day of exposure (earliest EXSTDTC) and the last (latest EXENDTC,
    EXSTDTC where the end is null); NaN for a subject without exposure."""
    low, _ = _bounds(ex["EXSTDTC"])
    end = ex["EXENDTC"].where(_given(ex["EXENDTC"]), ex["EXSTDTC"])
    _, high = _bounds(end)
    tmp = pd.DataFrame({"USUBJID": ex["USUBJID"].to_numpy(), "lo": low, "hi": high})
    first = tmp.groupby("USUBJID")["lo"].min()
    last = tmp.groupby("USUBJID")["hi"].max()
    return (dm["USUBJID"].map(first).to_numpy(dtype=float), dm["USUBJID"].map(last).to_numpy(dtype=float))


def reference_dates(dm: pd.DataFrame, ex: pd.DataFrame, file: str | None) -> list:
    """The DM reference dates against EX (SDTMIG 3.4 DM; standards.md §3.4).

    1. TP0303: RFXSTDTC is the earliest EXSTDTC, RFXENDTC the latest EXENDTC (EXSTDTC when
       the end is null) — not customisable;
    2. TP0313 (warning): RFSTDTC is sponsor-defined, usually the first exposure: it differs
       from the earliest EXSTDTC (or is given for a subject without exposure); RFENDTC is
       given for a subject without exposure and without a planned arm (SDTMIG 3.4: "null for
       screen failures or unassigned subjects"), or ends before the last exposure;
    3. TP0314: RFENDTC is before RFSTDTC (whatever the sponsor's definitions).
    Partial dates compare by the earliest (starts) or latest (ends) day they can denote."""
    first, last = exposure_span(dm, ex)
    untreated = np.isnan(first) & np.isnan(last)
    rfx_start, _ = _bounds(dm["RFXSTDTC"])
    _, rfx_end = _bounds(dm["RFXENDTC"])
    rf_start, rf_start_hi = _bounds(dm["RFSTDTC"])
    _, rf_end = _bounds(dm["RFENDTC"])
    unassigned = untreated & ~(_given(dm["ARMCD"]) if "ARMCD" in dm else False)
    return [
        _rows("TP0303", "DM", "RFXSTDTC", _differ(rfx_start, first), dm, "RFXSTDTC",
              "RFXSTDTC does not match the first EXSTDTC of the subject", file),
        _rows("TP0303", "DM", "RFXENDTC", _differ(rfx_end, last), dm, "RFXENDTC",
              "RFXENDTC does not match the last EXENDTC of the subject", file),
        _rows("TP0313", "DM", "RFSTDTC", _differ(rf_start, first), dm, "RFSTDTC",
              np.where(untreated, "RFSTDTC is given for a subject without exposure in EX",
                       "RFSTDTC is not the subject's first exposure (earliest EXSTDTC)"), file),
        _rows("TP0313", "DM", "RFENDTC", (unassigned & _given(dm["RFENDTC"])) | (rf_end < last), dm, "RFENDTC",
              np.where(unassigned, "RFENDTC is given for a subject without exposure in EX and without a planned "
                                   "arm (screen failure or not assigned)",
                       "RFENDTC is before the subject's last exposure (latest EXENDTC)"), file),
        _rows("TP0314", "DM", "RFENDTC", rf_end < rf_start_hi, dm, "RFENDTC", "RFENDTC is before RFSTDTC", file),
    ]


def participation_dates(sdtm: dict[str, pd.DataFrame], file: str | None) -> list:
    """DM's end dates against the subject's arm and records (SDTMIG 3.4 DM).

    1. CG0529 (CORE-000191): RFENDTC is null for a subject with a planned arm (ARMCD given:
       randomised, or assigned in a study that does not randomise) — SDTMIG 3.4: "required for
       all randomized subjects; null for screen failures or unassigned subjects";
    2. TP0316: RFPENDTC ("Date/Time of End of Participation", the last date of any record of
       the subject) is before a date of one of the subject's records — the record's
       earliest possible day is after RFPENDTC's latest one (partial dates by their bounds:
       "2023" is not after 2023-09-04). Every --DTC variable of every dataset counts, but
       BRTHDTC (start, end and collection dates: each dates a contact). One finding per
       subject, naming the latest such date."""
    dm = sdtm["DM"]
    out = []
    if {"ARMCD", "RFENDTC"} <= set(dm.columns):
        out.append(_rows("CG0529", "DM", "RFENDTC", _given(dm["ARMCD"]) & ~_given(dm["RFENDTC"]), dm, "RFENDTC",
                         "RFENDTC is null for a subject with a planned arm (ARMCD "
                         + dm["ARMCD"].astype(str) + "): required for all randomized subjects", file))
    if "RFPENDTC" in dm:
        latest = latest_record_dates(sdtm)
        _, end = _bounds(dm["RFPENDTC"])
        later = dm[["USUBJID"]].merge(latest, on="USUBJID", how="left")
        after = (later["low"].to_numpy(dtype=float) > end)
        out.append(_rows("TP0316", "DM", "RFPENDTC", after, dm, "RFPENDTC",
                         lambda idx: ("RFPENDTC is before " + later["what"].iloc[idx] + " "
                                      + later["value"].iloc[idx].astype(str)
                                      + " of the subject (end of participation)").to_numpy(), file))
    return out


def latest_record_dates(sdtm: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per USUBJID, the date of any record (:func:`sdtm.dm.contact_dates`: every --DTC but
    BRTHDTC and RFPENDTC, the dates RFPENDTC is derived from) whose earliest possible day is the
    latest: columns USUBJID, low (that day), what ("AE.AEENDTC"), value."""
    parts = []
    for name, df in sdtm.items():
        if "USUBJID" not in df or not len(df):
            continue
        for var in contact_dates(df):
            low, _ = _bounds(df[var])
            part = pd.DataFrame({"USUBJID": df["USUBJID"].to_numpy(), "low": low, "value": df[var].to_numpy()})
            part = part.dropna(subset=["low"]).sort_values("low", kind="mergesort")
            parts.append(part.drop_duplicates("USUBJID", keep="last").assign(what=f"{name}.{var}"))
    if not parts:
        return pd.DataFrame(columns=["USUBJID", "low", "what", "value"])
    stacked = pd.concat(parts, ignore_index=True).sort_values("low", kind="mergesort")
    return stacked.drop_duplicates("USUBJID", keep="last")[["USUBJID", "low", "what", "value"]]


#: study-day variable suffix -> the suffix of the date it counts (SDTMIG 3.4 §4.4.4)
STUDY_DAY_DATES = {"STDY": "STDTC", "ENDY": "ENDTC", "DY": "DTC"}


def study_days(sdtm: dict[str, pd.DataFrame], files: dict[str, str]) -> list:
    """TP0315: each --DY, --STDY and --ENDY equals :func:`sdtm.dates.study_day` of its date
    and the subject's DM.RFSTDTC (day 1 is RFSTDTC, no day 0; null when either date is
    not complete)."""
    from sdtm.dates import study_day

    reference = sdtm["DM"].drop_duplicates("USUBJID").set_index("USUBJID")["RFSTDTC"]
    out = []
    for name, df in sdtm.items():
        if "USUBJID" not in df or not len(df):
            continue
        pairs = [(var, var[:len(name)] + STUDY_DAY_DATES[var[len(name):]]) for var in df.columns
                 if var.startswith(name) and var[len(name):] in STUDY_DAY_DATES]
        if not pairs:
            continue
        ref = df["USUBJID"].map(reference)
        for day, dtc in pairs:
            if dtc not in df:
                continue
            want = study_day(df[dtc], ref).to_numpy(dtype=float, na_value=np.nan)
            got = pd.to_numeric(df[day], errors="coerce").to_numpy(dtype=float)
            out.append(_rows("TP0315", name, day, _differ(got, want), df, day,
                             lambda idx: [f"{day} is not the study day of {dtc} from DM.RFSTDTC (expected "
                                          f"{'null' if np.isnan(w) else int(w)})" for w in want[idx]],
                             files.get(name)))
    return out


def adam_checks(adam: dict[str, pd.DataFrame], sdtm_by_study: dict[str, dict[str, pd.DataFrame]],
                files: dict[str, str]) -> pd.DataFrame:
    """TP0304-TP0308 on the pooled ADaM against the studies' SDTM."""
    out = []
    adsl, adae = adam.get("ADSL"), adam.get("ADAE")
    if adsl is None:
        return findings.empty()
    present = set(sdtm_by_study)
    absent = sorted(set(adsl["STUDYID"]) - present)
    if absent:
        out.append(findings.make("TP0308", "ADSL", "STUDYID", message=f"SDTM of {', '.join(absent)} is not in the "
                                 "package (given as input); checks against it skipped", file=files.get("ADSL")))
    dm = _stack(sdtm_by_study, "DM")
    ex = _stack(sdtm_by_study, "EX")
    ae = _stack(sdtm_by_study, "AE")
    checked = adsl["STUDYID"].isin(present)
    if dm is not None:
        out.append(_rows("TP0304", "ADSL", "USUBJID", checked & ~is_in(adsl["USUBJID"], dm["USUBJID"]), adsl,
                         "USUBJID", "ADSL subject is not in DM", files.get("ADSL")))
        treated = is_in(adsl["USUBJID"], ex["USUBJID"]) if ex is not None else pd.Series(False, index=adsl.index)
        out.append(_rows("TP0305", "ADSL", "SAFFL", checked & ((adsl["SAFFL"] == "Y") != treated), adsl, "SAFFL",
                         "SAFFL disagrees with the subject's exposure in EX", files.get("ADSL")))
        treated_dm = dm[is_in(dm["USUBJID"], ex["USUBJID"])] if ex is not None else dm.iloc[0:0]
        lost = ~is_in(treated_dm["USUBJID"], adsl["USUBJID"])
        out.append(_rows("TP0305", "DM", "USUBJID", lost, treated_dm, "USUBJID", "treated DM subject is not in ADSL",
                         files.get("ADSL")))
    if adae is not None and ae is not None:
        out += adae_matches_ae(adae, ae, adsl, present, files.get("ADAE"))
    for name, frame in adam.items():
        if {"SRCDOM", "SRCSEQ"} <= set(frame.columns):
            out += source_records(name, frame, adam, sdtm_by_study, files.get(name))
    return findings.concat(out)


def adae_matches_ae(adae, ae, adsl, present, file) -> list:
    """TP0306: the ADAE records are the AE records of the ADSL subjects, by (STUDYID, USUBJID, AESEQ)."""
    key = ["STUDYID", "USUBJID", "AESEQ"]
    sdtm = ae[is_in(ae["USUBJID"], adsl["USUBJID"])][key].assign(_in_ae=True)
    merged = adae[key].assign(_row=np.arange(len(adae))).merge(sdtm, on=key, how="outer")
    in_present = merged["STUDYID"].isin(present)
    extra = merged[merged["_in_ae"].isna() & in_present]
    missing = merged[merged["_row"].isna() & in_present]
    out = []
    if len(extra):
        out.append(findings.make("TP0306", "ADAE", "AESEQ", rows=extra["_row"].astype(int).to_numpy() + 1,
                                 values=extra["AESEQ"], message="ADAE record has no AE record", file=file))
    if len(missing):
        first = missing.iloc[0]
        out.append(findings.make("TP0306", "ADAE", "AESEQ", values=[f"{first['USUBJID']} AESEQ {first['AESEQ']:g}"],
                                 message=f"{len(missing)} AE record(s) of ADSL subjects are missing from ADAE "
                                         f"(first shown)", file=file))
    return out


def source_records(name: str, frame: pd.DataFrame, adam: dict[str, pd.DataFrame],
                   sdtm_by_study: dict[str, dict[str, pd.DataFrame]], file: str | None) -> list:
    """TP0307: SRCDOM and SRCSEQ of an ADaM dataset name the record it was derived from
    (ADaMIG 1.3: SRCSEQ is the --SEQ, or ASEQ, of the record in the dataset SRCDOM names).

    1. SRCDOM and SRCSEQ are both given or both null;
    2. (STUDYID, USUBJID, SRCSEQ) is a record of SRCDOM: the study's SDTM domain (its --SEQ),
       skipped for studies whose SDTM is not in the package (TP0308), or an ADaM dataset of
       the package (its ASEQ);
    3. where the dataset also carries the source domain's sequence variable (ADAE.AESEQ for
       SRCDOM "AE"), SRCSEQ equals it: the record points at its own source, not another one.
    """
    dom = frame["SRCDOM"].astype(object).where(frame["SRCDOM"].notna(), "").to_numpy(dtype=object)
    seq = pd.to_numeric(frame["SRCSEQ"], errors="coerce").to_numpy(dtype=float)
    has_dom, has_seq = dom != "", ~np.isnan(seq)
    out = [_rows("TP0307", name, "SRCSEQ", has_dom & ~has_seq, frame, "SRCDOM", "SRCDOM is given but SRCSEQ is null",
                 file),
           _rows("TP0307", name, "SRCDOM", has_seq & ~has_dom, frame, "SRCSEQ", "SRCSEQ is given but SRCDOM is null",
                 file)]
    both = has_dom & has_seq
    domains = sorted(set(dom[both]))
    checkable = both & (np.isin(dom, [d for d in domains if d in adam]) | is_in(frame["STUDYID"], set(sdtm_by_study)))
    keys = source_keys(domains, adam, sdtm_by_study)
    pointing = np.flatnonzero(both)  # e.g. in ADAETTE only the event records point at a source
    probe = pd.DataFrame({"STUDYID": frame["STUDYID"].to_numpy(dtype=object)[pointing],
                          "USUBJID": frame["USUBJID"].to_numpy(dtype=object)[pointing], "SRCDOM": dom[pointing],
                          "SRCSEQ": seq[pointing]})
    hit = np.zeros(len(frame), dtype=bool)
    hit[pointing] = probe.merge(keys, on=["STUDYID", "USUBJID", "SRCDOM", "SRCSEQ"], how="left")["_hit"].notna()
    out.append(_rows("TP0307", name, "SRCSEQ", checkable & ~hit, frame, "SRCSEQ",
                     lambda idx: [f"SRCSEQ points at no {d} record of the subject" for d in dom[idx]], file))
    for domain in domains:
        own = f"{domain}SEQ"
        if own in frame and domain not in adam:
            other = hit & (dom == domain) & ~(pd.to_numeric(frame[own], errors="coerce").to_numpy(dtype=float) == seq)
            out.append(_rows("TP0307", name, "SRCSEQ", other, frame, "SRCSEQ",
                             f"SRCSEQ is not the record's own {own} (it points at another {domain} record)", file))
    return out


def source_keys(domains: list[str], adam: dict[str, pd.DataFrame],
                sdtm_by_study: dict[str, dict[str, pd.DataFrame]]) -> pd.DataFrame:
    """(STUDYID, USUBJID, SRCDOM, SRCSEQ) of every record the given source datasets hold:
    --SEQ of the SDTM domains of every study in the package, ASEQ of the ADaM datasets."""
    parts = []
    for domain in domains:
        sources = [(adam[domain], "ASEQ")] if domain in adam else \
            [(study[domain], f"{domain}SEQ") for study in sdtm_by_study.values() if domain in study]
        parts += [pd.DataFrame({"STUDYID": df["STUDYID"].astype(object).to_numpy(),
                                "USUBJID": df["USUBJID"].astype(object).to_numpy(), "SRCDOM": domain,
                                "SRCSEQ": pd.to_numeric(df[seq], errors="coerce").to_numpy(dtype=float)})
                  for df, seq in sources if {"STUDYID", "USUBJID", seq} <= set(df.columns)]
    if not parts:
        return pd.DataFrame({"STUDYID": [], "USUBJID": [], "SRCDOM": [], "SRCSEQ": [], "_hit": []}).astype(
            {"STUDYID": object, "USUBJID": object, "SRCDOM": object, "SRCSEQ": float, "_hit": bool})
    return pd.concat(parts, ignore_index=True).drop_duplicates().assign(_hit=True)


def _stack(by_study: dict[str, dict[str, pd.DataFrame]], name: str) -> pd.DataFrame | None:
    frames = [d[name] for d in by_study.values() if name in d]
    return pd.concat(frames, ignore_index=True) if frames else None
