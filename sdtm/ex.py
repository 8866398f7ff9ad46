"""EX — Exposure (SDTMIG v3.4 §6.1.3.1, standards.md §3.8): one record per protocol-specified
treatment per constant-dosing interval per subject, in protocol units.

For a topical cream the diary gives, per interval, the product applied, the grams applied
per application and the frequency. EXTRT is the product (config ``treatments``), EXDOSE the
grams of cream per application (vehicle included: the amount of vehicle cream applied is
the exposure), EXDOSU/EXDOSFRM/EXROUTE/EXDOSFRQ from the config's ``exposure`` defaults.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from fileformats.rawio import RAW_FILE, RAW_ROW
from fileformats.xpt._ibm import out_of_range
from sdtm.algorithms import apply_value_map
from sdtm.common import UNSTORABLE, Ledger, map_values, raw_dates, refuse_rows, text, to_numbers
from sdtm.config import StudyConfig
from specs.columns import is_in
from specs.iso8601 import to_epoch_days

DOMAIN = "EX"
#: The study config's ``exposure`` defaults and the EX variable each fills where the diary has
#: no value (or no column): protocol-specified values.
EXPOSURE_DEFAULTS = {"dose_unit": "EXDOSU", "dose_form": "EXDOSFRM", "route": "EXROUTE",
                     "frequency": "EXDOSFRQ", "location": "EXLOC"}


def map_exposure(raw: pd.DataFrame, config: StudyConfig, subjects: pd.DataFrame, ledger: Ledger,
                 codelists: dict[str, list[str]]) -> pd.DataFrame:
    """Raw diary -> EX records (without study days and EXSEQ, which need DM.RFSTDTC).

    A record is rejected (TP0101, an error) only when its subject is not in DM. A product that
    is not one of the config's treatments, or a period that is not one of its periods, is bad
    input (every such row listed; the config or the export must say where the record belongs).
    Every other record is kept, so that no exposure leaves a count: a dose that is not a
    number, is negative or lies outside what a SAS XPORT number holds (1e300) is left null
    (TP0115, an error; found here, at its raw row, not refused later by the XPT writer), a date
    that is not a valid date is left null (TP0102, an error: a record without a start date
    keeps its subject treated but adds no duration, TP0204). A dose of 0 is kept: it is how
    SDTMIG records placebo or vehicle (EXDOSE = 0, standards.md §3.8). An end before the start
    is a finding; the record is kept (SDTM practice).
    """
    raw = reject_unknown_subjects(raw, subjects, ledger, DOMAIN)
    dose = _doses(raw, ledger)
    codes = treatment_codes(raw, config, dose)
    refuse_unplaced(raw, codes, "EXTRT", "treatment", ", ".join(map(str, config.treatments)))
    raw = raw.assign(_PERIOD=_periods(raw, config))
    start = raw_dates(raw, "EXSTDAT", config, variable="EXSTDTC", ledger=ledger, dataset=DOMAIN)
    end = raw_dates(raw, "EXENDAT", config, variable="EXENDTC", ledger=ledger, dataset=DOMAIN)
    ex = pd.DataFrame(index=raw.index)
    ex["STUDYID"] = config.studyid
    ex["DOMAIN"] = DOMAIN
    ex["USUBJID"] = raw["SUBJID"].map(subjects.set_index("SUBJID")["USUBJID"])
    ex["EXTRT"] = text(codes.map({k: v["extrt"] for k, v in config.treatments.items()}), raw.index)
    ex["EXDOSE"] = dose
    defaults = config.exposure
    unit = map_values(raw["EXDOSU"], config.value_map("EXDOSU"), codelists.get("EXDOSU")) if "EXDOSU" in raw else None
    ex["EXDOSU"] = _or_default(unit, defaults.get("dose_unit"))
    ex["EXDOSFRM"] = defaults.get("dose_form")
    freq = map_values(raw["EXDOSFRQ"], config.value_map("EXDOSFRQ"), codelists.get("EXDOSFRQ")) \
        if "EXDOSFRQ" in raw else None
    ex["EXDOSFRQ"] = _or_default(freq, defaults.get("frequency"))
    ex["EXROUTE"] = defaults.get("route")
    loc = map_values(raw["EXLOC"], config.value_map("EXLOC"), codelists.get("EXLOC")) if "EXLOC" in raw else None
    ex["EXLOC"] = _or_default(loc, defaults.get("location"))
    ex["EPOCH"] = raw["_PERIOD"].map({p["number"]: p["epoch"] for p in config.periods})
    ex["EXSTDTC"] = start
    ex["EXENDTC"] = end
    ex["_PERIOD"] = raw["_PERIOD"]
    ex["_TRTCODE"] = codes
    ex[RAW_FILE] = raw[RAW_FILE]
    ex[RAW_ROW] = raw[RAW_ROW]
    note_end_before_start(ex, "EXSTDTC", "EXENDTC", ledger, DOMAIN)
    return ex


def _or_default(values: pd.Series | None, default):
    """The mapped values with nulls replaced by the config's default (which may be null)."""
    if values is None:
        return default
    return values.where(values.notna(), default) if default is not None else values


def reject_unknown_subjects(raw: pd.DataFrame, subjects: pd.DataFrame, ledger: Ledger, domain: str) -> pd.DataFrame:
    """Records of subjects missing from DM cannot be mapped (no USUBJID): rejected."""
    known = pd.Series(is_in(raw["SUBJID"], subjects["SUBJID"]), index=raw.index)
    reason = np.where(raw["SUBJID"].isna(), "subject identifier is empty", "subject is not in DM")
    return ledger.reject(raw, ~known, domain=domain, column="SUBJID", reason=pd.Series(reason, index=raw.index))


def treatment_codes(raw: pd.DataFrame, config: StudyConfig, dose: pd.Series) -> pd.Series:
    """The study config's treatment (its key) of each record, null where none:

    1. the raw product name, after ``value_maps.EXTRT``, is one of the treatment's ``raw`` names
       (default: its key), compared trimmed, in any case, runs of spaces as one;
    2. a treatment that gives a ``dose`` (and ``dose_unit``) takes only records of that EXDOSE
       (and EXDOSU: the raw field, else the protocol's ``exposure.dose_unit``, any case) — so that
       XANOMELINE 54 mg and 81 mg are two treatments of one product;
    3. a treatment with a dose is matched before one without."""
    names = _normal(apply_value_map(raw["EXTRT"], config.value_map("EXTRT")))
    unit = _normal(raw["EXDOSU"] if "EXDOSU" in raw else
                   pd.Series(config.exposure.get("dose_unit"), index=raw.index, dtype=object))
    code = pd.Series(None, index=raw.index, dtype=object)
    for key, trt in sorted(config.treatments.items(), key=lambda item: "dose" not in item[1]):
        wanted = trt.get("raw", key)
        holds = names.isin(list(_normal(pd.Series([wanted] if isinstance(wanted, str) else wanted)))).fillna(False)
        if "dose" in trt:
            holds &= dose.notna() & np.isclose(dose.fillna(-1.0), trt["dose"])
        if "dose_unit" in trt:
            holds &= (unit == trt["dose_unit"].upper()).fillna(False)
        code = code.mask(holds.to_numpy(dtype=bool) & code.isna().to_numpy(), key)
    return code


def _normal(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip().str.upper().str.replace(r"\s+", " ", regex=True)


def _doses(raw: pd.DataFrame, ledger: Ledger) -> pd.Series:
    """EXDOSE: the collected dose; one that is not a number, is negative or cannot be stored in
    SAS XPORT is null with an error finding (TP0115) on its kept record."""
    if "EXDOSE" not in raw:
        return pd.Series(np.nan, index=raw.index)
    dose = to_numbers(raw["EXDOSE"]).astype("float64")
    not_number = dose.isna() | ~np.isfinite(dose)
    unstorable = ~not_number & out_of_range(dose.to_numpy(dtype="float64", na_value=np.nan))
    bad = raw["EXDOSE"].notna() & (not_number | unstorable | (dose < 0))
    why = np.select([not_number, unstorable], ["is not a number", f"is {UNSTORABLE}"], "is negative")
    ledger.note("TP0115", raw, bad, dataset=DOMAIN, variable="EXDOSE", values=raw["EXDOSE"],
                message=pd.Series("EXDOSE " + pd.Series(why, index=raw.index) + "; the record is kept with EXDOSE null",
                                  index=raw.index)[bad].to_numpy())
    return dose.mask(bad | not_number)


def refuse_unplaced(raw: pd.DataFrame, codes: pd.Series, fld: str, what: str, known: str) -> None:
    """Every record the config cannot place (``codes`` null) is bad input: the study config must
    say what each raw value is. All such rows are listed."""
    bad = codes.isna()
    if bad.any():
        refuse_rows(raw, bad, fld, np.where(raw[fld].isna(), f"{what} is empty",
                                            f"{what} is not one of the study's {what}s ({known})"))


def _periods(raw: pd.DataFrame, config: StudyConfig) -> pd.Series:
    """Period number of each record from the raw PERIOD value (see ``StudyConfig.period_of``);
    a one-period study needs no PERIOD. A record naming no known period (in a study with more
    than one) is bad input, every such row listed."""
    periods = config.periods or [{"number": 1, "epoch": "TREATMENT"}]
    if "PERIOD" not in raw:
        return pd.Series(periods[0]["number"], index=raw.index, dtype="int64")
    number = config.period_of(raw["PERIOD"])
    if len(periods) == 1:
        number = number.fillna(periods[0]["number"])
    if number.isna().any():
        names = ", ".join(str(p.get("name") or p["epoch"]) for p in periods)
        refuse_rows(raw, number.isna(), "PERIOD", np.where(raw["PERIOD"].isna(), "period is empty",
                                                           f"period is not one of the study's periods ({names})"))
    return number.astype("int64")


def note_end_before_start(frame: pd.DataFrame, start: str, end: str, ledger: Ledger, dataset: str) -> None:
    """Finding (record kept) where the end date is before the start date; date parts only."""
    s = to_epoch_days(frame[start])
    e = to_epoch_days(frame[end])
    bad = pd.Series(~np.isnan(s) & ~np.isnan(e) & (e < s), index=frame.index)
    ledger.note("TP0104", frame, bad, dataset=dataset, variable=end, values=frame[end],
                message=f"{end} is before {start}; record kept")


def derive_study_days(ex: pd.DataFrame, dm: pd.DataFrame) -> pd.DataFrame:
    """EXSTDY/EXENDY from DM.RFSTDTC (SDTMIG §4.4.4, no day 0) and EXSEQ 1..n per subject
    ordered by EXSTDTC, EXTRT and raw row."""
    from sdtm.common import derive_seq
    from sdtm.dates import study_day

    ex = ex.copy()
    ref = ex["USUBJID"].map(dm.set_index("USUBJID")["RFSTDTC"])
    ex["EXSTDY"] = study_day(ex["EXSTDTC"], ref).astype("float64")
    ex["EXENDY"] = study_day(ex["EXENDTC"], ref).astype("float64")
    ex["EXSEQ"] = derive_seq(ex.assign(_D=to_epoch_days(ex["EXSTDTC"])), ["_D", "EXSTDTC", "EXTRT", RAW_ROW])
    return ex
