"""AE — Adverse Events (SDTMIG v3.4 §6.2.1, standards.md §3.7): one record per adverse event
per subject, MedDRA-coded, with seriousness, severity, causality, outcome and action.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from fileformats.rawio import RAW_FILE, RAW_ROW
from sdtm.common import Ledger, empty_required, map_values, numbers, raw_dates, text
from sdtm.config import StudyConfig
from sdtm.ex import note_end_before_start, reject_unknown_subjects

DOMAIN = "AE"
MEDDRA_TEXT = ("AELLT", "AEDECOD", "AEHLT", "AEHLGT", "AEBODSYS")
MEDDRA_CODES = ("AELLTCD", "AEPTCD", "AEHLTCD", "AEHLGTCD", "AEBDSYCD")
#: ICH E2A seriousness criteria collected on the CRF (SDTMIG §6.2.1).
SERIOUSNESS_FLAGS = ("AESCONG", "AESDISAB", "AESDTH", "AESHOSP", "AESLIFE", "AESMIE")
CODED = ("AESEV", "AEREL", "AEOUT", "AEACN")


def map_adverse_events(raw: pd.DataFrame, config: StudyConfig, subjects: pd.DataFrame, ledger: Ledger,
                       codelists: dict[str, list[str]]) -> pd.DataFrame:
    """Raw AE export -> AE records (without study days, EPOCH and AESEQ).

    Rejected (TP0101, an error): a record of a subject not in DM — it cannot be placed. Every
    other record is kept, whatever is wrong with it, so that no adverse event leaves a count:
    an empty verbatim term (AETERM is required; TP0114, an error) and a date that is not a valid
    date (left null; TP0102, an error) are findings on the kept record, as are an end before the
    start and AESER disagreeing with the seriousness criteria (warnings).
    """
    raw = reject_unknown_subjects(raw, subjects, ledger, DOMAIN)
    empty_required(raw, "AETERM", ledger, DOMAIN, "the reported term is required")
    start = raw_dates(raw, "AESTDAT", config, variable="AESTDTC", ledger=ledger, dataset=DOMAIN)
    end = raw_dates(raw, "AEENDAT", config, variable="AEENDTC", ledger=ledger, dataset=DOMAIN)
    ae = pd.DataFrame(index=raw.index)
    ae["STUDYID"] = config.studyid
    ae["DOMAIN"] = DOMAIN
    ae["USUBJID"] = raw["SUBJID"].map(subjects.set_index("SUBJID")["USUBJID"])
    ae["AESPID"] = raw["AESPID"] if "AESPID" in raw else None
    ae["AETERM"] = raw["AETERM"]
    copy_meddra(ae, raw, ledger)
    for var in ("AESER", *SERIOUSNESS_FLAGS):
        ae[var] = (map_values(raw[var], config.value_map(var) or config.value_map("NY"), codelists.get(var))
                   if var in raw else None)
    for var in CODED:
        ae[var] = map_values(raw[var], config.value_map(var), codelists.get(var)) if var in raw else None
    ae["AESTDTC"] = start
    ae["AEENDTC"] = end
    ongoing = (map_values(raw["AEONGO"], config.value_map("AEONGO") or config.value_map("NY"), ("Y", "N"))
               if "AEONGO" in raw else pd.Series(None, index=raw.index, dtype=object))
    ae["AEENRTPT"], ae["AEENTPT"] = derive_ongoing(ae["AEENDTC"], ongoing)
    for supp in config.supplemental(DOMAIN):
        ae["_SUPP_" + supp["qnam"]] = raw[supp["field"]]
    ae[RAW_FILE] = raw[RAW_FILE]
    ae[RAW_ROW] = raw[RAW_ROW]
    note_end_before_start(ae, "AESTDTC", "AEENDTC", ledger, DOMAIN)
    note_seriousness(ae, ledger)
    return ae


def copy_meddra(ae: pd.DataFrame, raw: pd.DataFrame, ledger: Ledger) -> None:
    """MedDRA path as coded: LLT, PT (AEDECOD), HLT, HLGT and SOC texts and codes; AESOC and
    AESOCCD = the primary SOC, which is AEBODSYS/AEBDSYCD when the primary path is used. A code
    that is not a number is left null with a finding (TP0109), never dropped silently."""
    for var in MEDDRA_TEXT:
        ae[var] = raw[var] if var in raw else None
    for var in (*MEDDRA_CODES, "AESOCCD"):
        if var in raw:
            ae[var] = numbers(raw, var, ledger, DOMAIN)
        elif var != "AESOCCD":
            ae[var] = np.nan
    ae["AESOC"] = raw["AESOC"] if "AESOC" in raw else ae["AEBODSYS"]
    if "AESOCCD" not in raw:
        ae["AESOCCD"] = ae["AEBDSYCD"]



def derive_ongoing(end: pd.Series, ongoing: pd.Series) -> tuple[pd.Series, pd.Series]:
    """AEENRTPT = "ONGOING" and AEENTPT = "END OF STUDY" for an event marked ongoing with no
    end date (SDTMIG §4.4.7: end relative to the end-of-study reference time point)."""
    is_ongoing = (ongoing == "Y") & end.isna()
    return (text(np.where(is_ongoing, "ONGOING", None), end.index),
            text(np.where(is_ongoing, "END OF STUDY", None), end.index))


def note_seriousness(ae: pd.DataFrame, ledger: Ledger) -> None:
    """SDTMIG §6.2.1: a serious AE has at least one criterion "Y"; a criterion "Y" makes the
    AE serious. Disagreements are findings (the collected AESER is kept)."""
    flags = [ae[f] for f in SERIOUSNESS_FLAGS if ae[f].notna().any()]
    if not flags:
        return
    any_yes = np.logical_or.reduce([(f == "Y").to_numpy() for f in flags])
    serious = (ae["AESER"] == "Y").to_numpy()
    bad = pd.Series((serious & ~any_yes) | (~serious & any_yes & ae["AESER"].notna().to_numpy()), index=ae.index)
    ledger.note("TP0105", ae, bad, dataset=DOMAIN, variable="AESER", values=ae["AESER"],
                message="AESER disagrees with the seriousness criteria (AESCONG, AESDISAB, AESDTH, AESHOSP, "
                        "AESLIFE, AESMIE)")


def derive_timing(ae: pd.DataFrame, dm: pd.DataFrame, windows: pd.DataFrame) -> pd.DataFrame:
    """AESTDY/AEENDY from DM.RFSTDTC (date parts, no day 0), EPOCH of the AE start (a partial
    start bounded by AEENDTC, ``sdtm.epoch``), and AESEQ
    1..n per subject ordered by start date, decoded term and sponsor line number."""
    from sdtm.common import derive_seq
    from sdtm.dates import study_day
    from sdtm.epoch import assign_epoch
    from specs.iso8601 import to_epoch_days

    ae = ae.copy()
    ref = ae["USUBJID"].map(dm.set_index("USUBJID")["RFSTDTC"])
    ae["AESTDY"] = study_day(ae["AESTDTC"], ref).astype("float64")
    ae["AEENDY"] = study_day(ae["AEENDTC"], ref).astype("float64")
    ae["EPOCH"] = assign_epoch(ae["USUBJID"], ae["AESTDTC"], windows, ended=ae["AEENDTC"])
    order = ae.assign(_D=to_epoch_days(ae["AESTDTC"]), _S=pd.to_numeric(ae["AESPID"], errors="coerce"))
    ae["AESEQ"] = derive_seq(order, ["_D", "AESTDTC", "AEDECOD", "_S", RAW_ROW])
    return ae
