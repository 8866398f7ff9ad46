"""Cross-dataset checks of a built package (run by ``trialpack validate DIR``).

Each rule compares datasets that must agree; findings name the dataset, variable, row and
value. SDTM datasets are keyed by STUDYID (one folder per study); the ISS ADaM is pooled.
Rules, in order:

* TP0301 every AE, EX, DS and SUPP-- subject is in the study's DM;
* TP0302 --SEQ is unique within USUBJID in each domain;
* TP0303 DM.RFXSTDTC/RFXENDTC equal the first EXSTDTC / last EXENDTC (EXSTDTC when no end);
* TP0304 every ADSL subject is in DM;
* TP0305 SAFFL = "Y" exactly for the DM subjects with exposure (EX);
* TP0306 ADAE holds exactly the AE records of the ADSL subjects (STUDYID, USUBJID, AESEQ);
* TP0307 ADaM SRCSEQ points at an existing record (ADAE -> AE, ADAETTE -> ADAE).

Studies whose SDTM is not in the package (SDTM given as input) are skipped by the rules that
need it, with a notice (TP0308).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from specs import findings
from specs.columns import is_in
from specs.iso8601 import date_bounds, date_fields


def _rows(rule: str, dataset: str, variable: str, mask, frame: pd.DataFrame, values, message: str,
          file: str | None) -> pd.DataFrame | None:
    idx = np.flatnonzero(np.asarray(mask, dtype=bool))
    if not len(idx):
        return None
    vals = pd.Series(values).iloc[idx] if not isinstance(values, str) else frame[values].iloc[idx]
    return findings.make(rule, dataset, variable, rows=idx + 1, values=vals, message=message, file=file)


def sdtm_checks(sdtm: dict[str, pd.DataFrame], files: dict[str, str]) -> pd.DataFrame:
    """TP0301-TP0303 on one study's SDTM datasets."""
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
    if "EX" in sdtm and len(sdtm["EX"]):
        out += reference_dates(dm, sdtm["EX"], files.get("DM"))
    return findings.concat(out)


def reference_dates(dm: pd.DataFrame, ex: pd.DataFrame, file: str | None) -> list:
    low, _ = date_bounds(date_fields(ex["EXSTDTC"]))
    end = ex["EXENDTC"].where(ex["EXENDTC"].notna() & (ex["EXENDTC"].astype("string") != ""), ex["EXSTDTC"])
    _, high = date_bounds(date_fields(end))
    tmp = pd.DataFrame({"USUBJID": ex["USUBJID"].to_numpy(), "lo": low, "hi": high})
    first = tmp.groupby("USUBJID")["lo"].min()
    last = tmp.groupby("USUBJID")["hi"].max()
    out = []
    for var, expect in (("RFXSTDTC", first), ("RFXENDTC", last)):
        lo, hi = date_bounds(date_fields(dm[var]))
        got = lo if var == "RFXSTDTC" else hi
        want = dm["USUBJID"].map(expect).to_numpy(dtype=float)
        bad = ~(np.isnan(got) & np.isnan(want)) & ~(got == want)
        out.append(_rows("TP0303", "DM", var, bad, dm, var, f"{var} does not match the "
                         f"{'first EXSTDTC' if var == 'RFXSTDTC' else 'last EXENDTC'} of the subject", file))
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
    if adae is not None and "ADAETTE" in adam:
        tte = adam["ADAETTE"]
        known = adae[["USUBJID", "AESEQ"]].drop_duplicates().assign(_hit=True)
        hit = tte[["USUBJID", "SRCSEQ"]].merge(known, left_on=["USUBJID", "SRCSEQ"], right_on=["USUBJID", "AESEQ"],
                                               how="left")["_hit"].notna().to_numpy()
        bad = tte["SRCSEQ"].notna().to_numpy() & ~hit
        out.append(_rows("TP0307", "ADAETTE", "SRCSEQ", bad, tte, "SRCSEQ", "SRCSEQ points at no ADAE record",
                         files.get("ADAETTE")))
    return findings.concat(out)


def adae_matches_ae(adae, ae, adsl, present, file) -> list:
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
        out.append(findings.make("TP0307", "ADAE", "SRCSEQ", rows=extra["_row"].astype(int).to_numpy() + 1,
                                 values=extra["AESEQ"], message="SRCSEQ points at no AE record", file=file))
    if len(missing):
        first = missing.iloc[0]
        out.append(findings.make("TP0306", "ADAE", "AESEQ", values=[f"{first['USUBJID']} AESEQ {first['AESEQ']:g}"],
                                 message=f"{len(missing)} AE record(s) of ADSL subjects are missing from ADAE "
                                         f"(first shown)", file=file))
    return out


def _stack(by_study: dict[str, dict[str, pd.DataFrame]], name: str) -> pd.DataFrame | None:
    frames = [d[name] for d in by_study.values() if name in d]
    return pd.concat(frames, ignore_index=True) if frames else None
