"""Findings: conformance problems as data.

A finding is one record — rule id, severity, dataset, variable, row (1-based, or null
for dataset-level findings), value, message, and the file the row is in (a raw file for
mapping findings, where ``row`` is that file's row; else null). A set of findings is a pandas DataFrame with
exactly :data:`COLUMNS`, so a million of them cost one frame, not a million objects.
The rule catalogue (:data:`RULES`) gives every rule id its severity and meaning; the
validation report lists it.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

COLUMNS = ["rule", "severity", "dataset", "variable", "row", "value", "message", "file"]
SEVERITIES = ("error", "warning", "notice")

#: rule id -> (severity, what the rule checks)
RULES: dict[str, tuple[str, str]] = {
    "TP0001": ("error", "Required (Req) variable is missing from the dataset"),
    "TP0002": ("warning", "Expected (Exp) variable is missing from the dataset"),
    "TP0003": ("error", "Variable is not in the spec for this dataset"),
    "TP0004": ("error", "Required (Req) variable has a null value"),
    "TP0005": ("error", "Value does not match the variable's data type"),
    "TP0006": ("error", "Character value is longer than 200 bytes (XPT v5 limit)"),
    "TP0007": ("error", "Character value is longer than the spec length"),
    "TP0008": ("error", "Value contains a non-ASCII character"),
    "TP0009": ("error", "Value is not in the non-extensible codelist"),
    "TP0010": ("warning", "Value is not in the extensible codelist (extended value)"),
    "TP0011": ("error", "Value is not a valid ISO 8601 date/time"),
    "TP0012": ("error", "Value is not a valid ISO 8601 duration"),
    "TP0013": ("error", "Key variables do not identify records uniquely"),
    "TP0014": ("error", "Numeric value is infinite (not storable in XPT)"),
    "TP0015": ("error", "Variable order differs from the spec"),
    "TP0016": ("notice", "Codelist membership not checked: codelist unknown"),
    # raw data -> SDTM mapping
    "TP0101": ("error", "Raw record rejected: it names no subject of the study's DM"),
    "TP0102": ("error", "Raw date is not a valid date: the record is kept with the SDTM date null"),
    "TP0103": ("warning", "Collected date is after the data cut-off (without one: after the build date)"),
    "TP0104": ("warning", "End date is before the start date (record kept)"),
    "TP0105": ("warning", "Seriousness (AESER) disagrees with the seriousness criteria"),
    "TP0106": ("notice", "Age cannot be derived from a partial birth date"),
    "TP0107": ("warning", "Raw value not in the codelist after value mapping"),
    "TP0108": ("warning", "Birth date after the informed-consent date: AGE left null"),
    "TP0109": ("warning", "Raw value is not a number where a number is collected: left null"),
    "TP0110": ("error", "Raw file does not reconcile: rows read differ from rows mapped + rows rejected"),
    "TP0111": ("warning", "Date of an event, exposure or disposition is before the subject's birth date"),
    "TP0112": ("notice", "Raw columns that no field of the study config maps (not read)"),
    "TP0113": ("warning", "Non-ASCII raw text transliterated to ASCII (study config text.non_ascii)"),
    "TP0114": ("error", "A value the record needs is empty: the record is kept with it null"),
    "TP0115": ("error", "Dose not a storable non-negative number: record kept, EXDOSE null"),
    "TP0116": ("warning", "Raw record rejected as an exact duplicate of an earlier row (nothing lost)"),
    "TP0117": ("warning", "A mapping of the study config produced nothing across a whole raw file"),
    # SDTM -> ADaM
    "TP0201": ("notice", "AE of a subject not in ADSL (not analysed)"),
    "TP0202": ("warning", "Exposure intervals of one subject and treatment overlap"),
    "TP0203": ("warning", "Exposure dated outside DM.RFXSTDTC..RFXENDTC"),
    "TP0204": ("warning", "Exposure record without a start date: treated, but in no date, duration or time at risk"),
    "TP0205": ("warning", "Exposure end date missing: imputed (one application, or the end-of-study date)"),
    "TP0206": ("warning", "Total dose of an exposure record cannot be computed: TDOSE/ADOSE null"),
    "TP0207": ("error", "Study without exposure records: none of its subjects is treated"),
    # a built package, across datasets (trialpack.consistency)
    "TP0301": ("error", "Subject is not in DM"),
    "TP0302": ("error", "--SEQ is not unique within the subject"),
    "TP0303": ("error", "DM reference exposure dates disagree with EX"),
    "TP0304": ("error", "ADSL subject is not in DM"),
    "TP0305": ("error", "Safety population (SAFFL) disagrees with exposure"),
    "TP0306": ("error", "ADAE and AE records differ"),
    "TP0307": ("error", "SRCSEQ points at no source record"),
    "TP0308": ("notice", "Source SDTM not in the package; checks against it skipped"),
    "TP0309": ("error", "Dataset file of the package cannot be read"),
    "TP0310": ("error", "Dataset folder has no define.xml"),
    "TP0316": ("error", "DM.RFPENDTC (end of participation) is before a date of the subject's records"),
    # DM end dates (trialpack.consistency.participation_dates); CG0529 under its CDISC id
    "CG0529": ("error", "DM.RFENDTC is null for a randomized (assigned) subject (SDTMIG 3.4 DM; CORE-000191)"),
    "TP0311": ("error", "File listed in manifest.json is missing from the package"),
    "TP0312": ("error", "Dataset-JSON file differs from the XPT file of the same dataset"),
    "TP0313": ("warning", "DM.RFSTDTC/RFENDTC do not span the exposure (sponsor-defined; usually first to last dose)"),
    "TP0314": ("error", "DM.RFENDTC is before DM.RFSTDTC"),
    "TP0315": ("error", "Study day (--DY, --STDY, --ENDY) disagrees with its date and DM.RFSTDTC"),
    # Trial Summary (sdtm.ts.check_trial_summary): FDA rules, by their FDA/CDISC ids where they have one
    "TP0401": ("warning", "FDA-expected Trial Summary parameter has no TS record (FDA sdTCG TS parameters)"),
    "CORE-000741": ("warning", "STYPE INTERVENTIONAL without INTMODEL, INTTYPE and PCLAS populated in TS (FDA FB1111)"),
    "TP0402": ("warning", "TS coded value (TSVALCD) without its code system (TSVCDREF)"),
    "TP0403": ("warning", "TS record with both or neither of TSVAL and TSVALNF (SDTMIG 3.4 TS assumption 10)"),
    # define.xml: file, schema and Define-XML 2.1 business rules (define.validate)
    "DD0001": ("error", "define.xml is not well-formed XML"),
    "DD0002": ("error", "define.xml declares a DOCTYPE/entities and is refused (never resolved)"),
    "DD0003": ("error", "Not a Define-XML document (ODM without a def namespace, other XML)"),
    "DD0004": ("error", "define.xml does not validate against the Define-XML schema of its version (2.1 or 2.0)"),
    "DD0010": ("error", "Reference (OID, leafID) resolves to no definition"),
    "DD0011": ("warning", "Definition is never referenced"),
    "DD0012": ("error", "OID or dataset name defined more than once"),
    "DD0013": ("error", "Attribute or element required in a submission (def:Context=Submission) is missing"),
    "DD0014": ("error", "Dataset key missing or KeySequence not 1..k"),
    "DD0015": ("error", "OrderNumber not on all ItemRefs of a dataset/value list, or repeated"),
    "DD0016": ("error", "Length/SignificantDigits missing for or not allowed by the DataType"),
    "DD0017": ("error", "Derived origin without a MethodOID"),
    "DD0018": ("error", "Variable has no def:Origin at variable or value level"),
    "DD0019": ("error", "def:HasNoData without a comment explaining why"),
    "DD0020": ("error", "Value-level Length greater than the variable's Length"),
    "DD0021": ("error", "CDISC codelist or term without its NCI C-code Alias"),
    "DD0022": ("warning", "Collected (Investigator/Subject) origin cites no aCRF page"),
    "DD0023": ("warning", "Variable with no data declared Collected without an aCRF page: not collected (SDTMIG 3.4 "
                          "§4.1.5) is origin Assigned (Sponsor) with a comment saying so"),
    # define.xml -> spec (define.read_define)
    "DD0201": ("warning", "Label not representable (over 40 bytes or non-ASCII): shortened in the spec"),
    "DD0202": ("warning", "Dataset or variable name not a valid SAS V5 name: left out of the spec"),
    "DD0203": ("warning", "Reference resolves to no definition: left out of the spec"),
    "DD0204": ("warning", "Value the model does not allow (type, origin, length, comparator...): mapped or dropped"),
    "DD0205": ("warning", "More than the model holds (several origins, document references...): first kept"),
    "DD0206": ("warning", "OID not valid in a spec: rewritten"),
    "DD0207": ("warning", "Defined twice (dataset, variable, codelist term): first kept"),
    "DD0208": ("warning", "Required text missing (label, name, description, title): filled in"),
    "DD0209": ("notice", "Define-XML 2.0 construct mapped to its Define-XML 2.1 equivalent"),
    "DD0210": ("notice", "Definitions not referenced by any dataset, variable or value list: not imported"),
    # define.xml <-> datasets (define.crosscheck)
    "DD0101": ("error", "Dataset described in define.xml has no data"),
    "DD0102": ("error", "Dataset is not described in define.xml"),
    "DD0103": ("error", "Variable in the data is not described in define.xml"),
    "DD0104": ("error", "Variable described in define.xml is not in the data"),
    "DD0105": ("error", "Variable order differs from define.xml OrderNumber"),
    "DD0106": ("error", "Variable type differs from define.xml DataType"),
    "DD0107": ("error", "define.xml Length is shorter than the longest value"),
    "DD0108": ("warning", "define.xml text Length is longer than the longest value (FDA: equal)"),
    "DD0109": ("error", "define.xml Length differs from the length stored in the dataset file"),
    "DD0110": ("error", "Dataset label differs from define.xml"),
    "DD0111": ("error", "Variable label differs from define.xml"),
    "DD0112": ("error", "Value is not in the define.xml codelist"),
    "DD0113": ("error", "Key variables (KeySequence) do not identify records uniquely"),
    "DD0114": ("error", "def:leaf file does not exist"),
    "DD0115": ("error", "Mandatory=\"Yes\" variable has a null value"),
    "DD0116": ("error", "def:HasNoData=\"Yes\" but the data have values"),
    "DD0117": ("warning", "Variable or dataset has no data but def:HasNoData is not set"),
}


def _prototype() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="Int64" if c == "row" else object) for c in COLUMNS})


_EMPTY = _prototype()


def empty() -> pd.DataFrame:
    """No findings (a copy of one prototype: building a frame per rule that found nothing
    costs more than the rule itself)."""
    return _EMPTY.copy(deep=False)


def make(
    rule: str,
    dataset: str,
    variable: str | None,
    *,
    rows: Sequence[int] | np.ndarray | None = None,
    values: Sequence | np.ndarray | pd.Series | None = None,
    message: str | Sequence[str] | pd.Series,
    severity: str | None = None,
    file: str | Sequence[str] | np.ndarray | None = None,
) -> pd.DataFrame:
    """Findings of one rule: one per row in ``rows`` (1-based), or one dataset-level finding."""
    severity = severity or RULES[rule][0]
    if rows is None:
        n = 1
        row_col = pd.array([pd.NA], dtype="Int64")
    else:
        row_col = pd.array(np.asarray(rows, dtype="int64"), dtype="Int64")
        n = len(row_col)
    if values is None:
        value_col = np.full(n, None, dtype=object)
    else:
        value_col = np.asarray(pd.Series(values).astype(object).to_numpy(), dtype=object)
    msg = message if isinstance(message, str) else np.asarray(message, dtype=object)
    return pd.DataFrame({
        "rule": np.full(n, rule, dtype=object),
        "severity": np.full(n, severity, dtype=object),
        "dataset": np.full(n, dataset, dtype=object),
        "variable": np.full(n, variable, dtype=object),
        "row": row_col,
        "value": value_col,
        "message": np.full(n, msg, dtype=object) if isinstance(msg, str) else msg,
        "file": np.full(n, file, dtype=object) if file is None or isinstance(file, str)
        else np.asarray(file, dtype=object),
    })


def concat(frames: Iterable[pd.DataFrame | None]) -> pd.DataFrame:
    """Stack findings; ``None`` and empty frames (rules that found nothing) are skipped."""
    found = gather(frames)
    return empty() if found is None else found


def gather(frames: Iterable[pd.DataFrame | None]) -> pd.DataFrame | None:
    """:func:`concat`, but None when nothing was found: for checks run many times over (per
    variable), where an empty frame per check would cost more than the check."""
    frames = [f for f in frames if f is not None and len(f)]
    return pd.concat(frames, ignore_index=True) if frames else None


def counts(findings: pd.DataFrame) -> dict[str, int]:
    """Number of findings per severity (every severity present, possibly 0)."""
    got = findings["severity"].value_counts()
    return {s: int(got.get(s, 0)) for s in SEVERITIES}
