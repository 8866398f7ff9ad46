"""ISS listings (ICH E3 14.3.2): deaths, serious adverse events and adverse events leading to
discontinuation of study treatment, one row per ADAE record of the safety population.

Each listing is a :class:`report.tables.Table` of kind "Listing": the stub is the subject
(USUBJID), the columns study, treatment group at onset (TRTA; "Not treated" before the first
dose), study day of onset (ASTDY), preferred term / verbatim term (AEDECOD / AETERM),
severity (ASEV, else AESEV), relationship (the investigator's AEREL; AREL where ADAE has no
AEREL), outcome (AEOUT), sorted by study, subject, onset day and AESEQ. Every cell's
lineage is its ADAE record; a death without a fatal AE is listed from ADSL (DTHFL = "Y"),
its study day that of DTHDT, and traces to its ADSL record.

Records listed (all AEs of safety subjects, treatment-emergent or not: a listing shows what
happened; the TEAE column says which were emergent):

* deaths: AEOUT = "FATAL" or AESDTH = "Y"; and ADSL.DTHFL = "Y" without such a record;
* serious adverse events: AESER = "Y";
* adverse events leading to discontinuation: AEACN = "DRUG WITHDRAWN".
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from report.adverse_events import DRUG_WITHDRAWN, severity_variable
from report.tables import (CELL_COLUMNS, RECORD, Column, Context, Table, _concat_lineage, _equals, _fatal,
                           _lineage, _population_text, _rows, context)

NOT_TREATED = "Not treated"
LISTING_COLUMNS = (("study", "Study", "STUDYID"), ("group", "Treatment group\nat onset", "TRTA"),
                   ("day", "Study day\nof onset", "ASTDY"), ("term", "Preferred term /\nverbatim term", None),
                   ("teae", "TEAE", "TRTEMFL"), ("severity", "Severity", None),
                   ("relation", "Relationship", None), ("outcome", "Outcome", "AEOUT"))
"""(column key, header, ADAE variable shown; None: composed, see the module docstring)."""


def _text(values: pd.Series) -> np.ndarray:
    return values.astype(object).where(values.notna(), "").astype(str).to_numpy()


def _day(values: pd.Series) -> np.ndarray:
    days = pd.to_numeric(values, errors="coerce")
    return np.where(days.notna(), days.fillna(0).round().astype("int64").astype(str), "")


def _listing_frame(adae: pd.DataFrame) -> pd.DataFrame:
    """The displayed texts of ADAE records (one per record, keeping RECORD)."""
    severity = severity_variable(adae)
    relation = "AEREL" if "AEREL" in adae else "AREL" if "AREL" in adae else None
    out = pd.DataFrame({"USUBJID": _text(adae["USUBJID"]), RECORD: adae[RECORD].to_numpy()})
    out["study"] = _text(adae["STUDYID"])
    group = _text(adae["TRTA"])
    out["group"] = np.where(group == "", NOT_TREATED, group)
    out["day"] = _day(adae["ASTDY"]) if "ASTDY" in adae else ""
    out["_DAY"] = pd.to_numeric(adae["ASTDY"], errors="coerce").to_numpy() if "ASTDY" in adae else np.nan
    verbatim = _text(adae["AETERM"]) if "AETERM" in adae else np.full(len(adae), "")
    pt = _text(adae["AEDECOD"])
    differs = (verbatim != "") & (np.char.upper(verbatim.astype(str)) != np.char.upper(pt.astype(str)))
    out["term"] = np.where(differs, pt + " /\n" + verbatim, pt).astype(object)
    out["teae"] = np.where(_text(adae["TRTEMFL"]) == "Y", "Y", "N")
    out["severity"] = _text(adae[severity]) if severity else ""
    out["relation"] = _text(adae[relation]) if relation else ""
    out["outcome"] = _text(adae["AEOUT"]) if "AEOUT" in adae else ""
    out["_SEQ"] = pd.to_numeric(adae["AESEQ"], errors="coerce").to_numpy()
    out["_DATASET"] = "ADAE"
    return out


def _listing(ctx: Context, listed: pd.DataFrame, *, name: str, number: int, title: str,
             footnotes: list[str]) -> Table:
    """A listing of the records ``listed`` (:func:`_listing_frame` texts, ``_DATASET`` and
    ``RECORD`` naming each row's ADaM record)."""
    listed = listed.sort_values(["study", "USUBJID", "_DAY", "_SEQ"], kind="mergesort", na_position="last")
    listed = listed.reset_index(drop=True)
    row_ids = [f"{d}|{r}" for d, r in zip(listed["_DATASET"], listed[RECORD])]
    rows = _rows([(rid, subject, 0, False) for rid, subject in zip(row_ids, listed["USUBJID"])])
    columns = [Column(key, header) for key, header, _ in LISTING_COLUMNS]
    pieces, lineage = [], []
    for key, _, _ in LISTING_COLUMNS:
        value = listed["_DAY"].to_numpy(dtype=float) if key == "day" else np.nan
        pieces.append(pd.DataFrame({
            "table": name, "row": rows["row"].to_numpy(), "row_id": row_ids, "row_label": listed["USUBJID"].to_numpy(),
            "indent": 0, "column": key, "group": listed["group"].to_numpy(), "stat": "listing", "value": value,
            "lower": np.nan, "upper": np.nan, "denominator": np.nan, "text": listed[key].to_numpy()}))
        for dataset, part in listed.groupby("_DATASET", sort=True):
            lineage.append(_lineage([f"{dataset}|{r}" for r in part[RECORD]], key, dataset, part[RECORD]))
    cells = (pd.concat(pieces, ignore_index=True)[CELL_COLUMNS].sort_values("row", kind="mergesort")
             .reset_index(drop=True)) if len(listed) else pd.DataFrame(columns=CELL_COLUMNS)
    notes = [
        "All adverse events of participants in the safety population (ADSL.SAFFL = \"Y\"), treatment-emergent or "
        "not (TEAE: ADAE.TRTEMFL); sorted by study, participant, study day of onset and AESEQ.",
        f"Treatment group at onset: ADAE.TRTA ({NOT_TREATED}: onset before the first dose). Study day of onset: "
        "ADAE.ASTDY (day 1 = first dose). Preferred term / verbatim term: ADAE.AEDECOD / AETERM (the verbatim term "
        "where it differs). Severity: ADAE.ASEV, else AESEV. Relationship: the investigator's causality (ADAE.AEREL). "
        "Outcome: ADAE.AEOUT.", *footnotes]
    if not len(listed):
        notes.append("No records.")
    return Table(name, number, title, _population_text(ctx), "Participant", columns, rows, cells, notes,
                 _concat_lineage(lineage), sources=ctx.datasets, kind="Listing")


SHOWN = ("STUDYID", "USUBJID", "AESEQ", "TRTA", "TRTEMFL", "ASTDY", "AETERM", "AEDECOD", "ASEV", "AESEV", "AEREL",
         "AREL", "AEOUT")
"""The ADAE variables a listing shows or sorts by."""


def _safety_adae(ctx: Context, keep) -> pd.DataFrame:
    """The ADAE records of the safety population where ``keep(ctx.adae)`` (a mask over the
    counted records), with the variables listings show, taken from the full ADAE only for
    those records."""
    records = ctx.adae[RECORD].to_numpy()[keep(ctx.adae).to_numpy(dtype=bool)]
    source = ctx.datasets["ADAE"]
    return source[[c for c in SHOWN if c in source]].iloc[records].assign(**{RECORD: records})


def deaths_listing(analysis, *, ctx: Context | None = None, number: int = 1) -> Table:
    """Listing of deaths: fatal adverse events (AEOUT = "FATAL" or AESDTH = "Y"), and each death
    of ADSL (DTHFL = "Y") without one, listed from ADSL with the day of death (DTHDT - TRTSDT
    + 1, day 1 the first dose; DTHDT - TRTSDT where death precedes it) and the term "Death"."""
    ctx = ctx or context(analysis)
    fatal = _listing_frame(_safety_adae(ctx, _fatal))
    adsl = ctx.adsl
    parts = [fatal]
    if "DTHFL" in adsl:
        dead = adsl[(_equals(adsl, "DTHFL", "Y") & _equals(adsl, "SAFFL", "Y")).to_numpy(dtype=bool)]
        dead = dead[~dead["USUBJID"].isin(fatal["USUBJID"]).to_numpy()]
        if len(dead):
            day = pd.Series(np.nan, index=dead.index)
            if "DTHDT" in dead and "TRTSDT" in dead:
                diff = (pd.to_datetime(dead["DTHDT"]) - pd.to_datetime(dead["TRTSDT"])).dt.days
                day = diff + (diff >= 0).astype(float)
            parts.append(pd.DataFrame({
                "USUBJID": _text(dead["USUBJID"]), RECORD: dead[RECORD].to_numpy(), "study": _text(dead["STUDYID"]),
                "group": "", "day": _day(day), "_DAY": day.to_numpy(dtype=float), "term": "Death", "teae": "",
                "severity": "", "relation": "", "outcome": "FATAL", "_SEQ": np.nan, "_DATASET": "ADSL"}))
    listed = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else fatal
    return _listing(ctx, listed, name="listing-deaths", number=number, title="Deaths",
                    footnotes=["Deaths: adverse events with ADAE.AEOUT = \"FATAL\" or AESDTH = \"Y\"; a participant "
                               "who died (ADSL.DTHFL = \"Y\") without such a record is listed from ADSL, with the "
                               "study day of death (ADSL.DTHDT) and the term \"Death\"."])


def sae_listing(analysis, *, ctx: Context | None = None, number: int = 2) -> Table:
    """Listing of serious adverse events (ADAE.AESER = "Y")."""
    ctx = ctx or context(analysis)
    adae = _safety_adae(ctx, lambda a: _equals(a, "AESER", "Y") if "AESER" in a else pd.Series(False, index=a.index))
    return _listing(ctx, _listing_frame(adae), name="listing-sae", number=number,
                    title="Serious adverse events", footnotes=["Serious: ADAE.AESER = \"Y\"."])


def discontinuation_listing(analysis, *, ctx: Context | None = None, number: int = 3) -> Table:
    """Listing of adverse events leading to discontinuation of study treatment (ADAE.AEACN =
    "DRUG WITHDRAWN")."""
    ctx = ctx or context(analysis)
    adae = _safety_adae(ctx, lambda a: _equals(a, "AEACN", DRUG_WITHDRAWN) if "AEACN" in a else
                        pd.Series(False, index=a.index))
    return _listing(ctx, _listing_frame(adae), name="listing-ae-discontinuation",
                    number=number, title="Adverse events leading to discontinuation of study treatment",
                    footnotes=[f"Leading to discontinuation of study treatment: ADAE.AEACN = \"{DRUG_WITHDRAWN}\"."])
