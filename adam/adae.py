"""ADAE — Adverse Event Analysis Dataset (ADaM OCCDS v1.1, standards.md §4.3), pooled.

One record per SDTM AE record of an ADSL subject (traceable by STUDYID/USUBJID/AESEQ and
SRCDOM/SRCSEQ). Each analysis variable is one verb below; the rule is in its docstring
with its cases in the order they apply. Dates are day numbers while deriving.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from adam.config import ISSConfig, related_terms
from adam.groups import derive_pooled_groups, planned_of_periods
from adam.pools import derive_record_flags
from adam.queries import derive_standardised_queries
from adam.imputation import impute_start_end
from specs.columns import choose_text, is_in
from specs.errors import InputError
from specs.shape import detached
from specs.iso8601 import date_bounds, date_fields, days_to_datetime, to_epoch_days

ADSL_COPIES = ["SUBJID", "SITEID", "AGE", "SEX", "RACE", "SAFFL", "TRT01A", "TRT02A", "TRTSDT", "TRTEDT",
               "DTHDT", "EOSDT"]


def adae_base(ae: pd.DataFrame, adsl: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """AE records joined to their ADSL subject; returns (ADAE base, AE records of subjects not
    in ADSL — reported, never silently dropped)."""
    known = is_in(ae["USUBJID"], adsl["USUBJID"])
    copies = [c for c in ADSL_COPIES if c in adsl]
    base = ae.loc[known].merge(adsl[["USUBJID", *copies]], on="USUBJID", how="left")
    return base, ae.loc[~known]


def _bounds(adae: pd.DataFrame, names: list[str], cutoff: str | None) -> list:
    """Imputation bounds by name: an ADSL date copied to ADAE, or CUTOFF (the data cut-off; the
    config check refuses CUTOFF without one, the schema any other name)."""
    out = []
    for name in names:
        if name == "CUTOFF":
            if cutoff:
                out.append(pd.Timestamp(cutoff))
        else:
            out.append(days_to_datetime(adae[name].to_numpy(dtype="float64"), index=adae.index))
    return out


IMPUTATION_SLICE = 250_000
"""AE records imputed at a time (each record's dates depend on its own values only)."""


def derive_analysis_dates(adae: pd.DataFrame, iss: ISSConfig) -> pd.DataFrame:
    """ASTDT/ASTDTF and AENDT/AENDTF from AESTDTC/AEENDTC, imputed jointly (start <= end) per
    the config (``imputation.ae_start``/``ae_end``: highest level imputed, first/last fill,
    start never before the ``min`` dates when they fall in the partial date's range, end
    never after the ``max`` dates — e.g. TRTSDT; DTHDT, EOSDT, CUTOFF). See
    :func:`adam.imputation.impute_start_end` for the joint rule."""
    adae = detached(adae)
    start, end = iss.imputation("ae_start"), iss.imputation("ae_end")
    cutoff = iss.get("data_cutoff")

    def imputed(part: pd.DataFrame) -> pd.DataFrame:
        dates = impute_start_end(
            part["AESTDTC"], part["AEENDTC"], start_highest=start["highest"], end_highest=end["highest"],
            start_fill=start["fill"], end_fill=end["fill"],
            start_min=_bounds(part, start.get("min", []), cutoff) or None,
            end_max=_bounds(part, end.get("max", []), cutoff) or None)
        return pd.DataFrame({"ASTDT": to_epoch_days(dates["ASTDT"]), "ASTDTF": dates["ASTDTF"],
                             "AENDT": to_epoch_days(dates["AENDT"]), "AENDTF": dates["AENDTF"]}, index=part.index)

    try:   # record by record: in slices, whose arrays the next slice reuses
        dates = pd.concat([imputed(adae.iloc[lo:lo + IMPUTATION_SLICE])
                           for lo in range(0, max(len(adae), 1), IMPUTATION_SLICE)])
    except InputError:
        imputed(adae)   # the error as the whole column gives it (its count of invalid values)
        raise
    for name in ("ASTDT", "ASTDTF", "AENDT", "AENDTF"):
        adae[name] = dates[name]
    return adae


def start_range(adae: pd.DataFrame, *, dtc: str = "AESTDTC") -> tuple[np.ndarray, np.ndarray]:
    """Earliest and latest day (day numbers) an event can have started by its --STDTC, however
    partial: "2020" -> 2020-01-01 .. 2020-12-31; unknown year or null -> -inf .. +inf. Used where
    ASTDT stays null (a date more partial than the configured imputation allows)."""
    if dtc not in adae:
        return np.full(len(adae), -np.inf), np.full(len(adae), np.inf)
    low, high = date_bounds(date_fields(adae[dtc]))
    return np.nan_to_num(low, nan=-np.inf), np.nan_to_num(high, nan=np.inf)


def relative_day(dates: pd.Series, anchor: pd.Series) -> pd.Series:
    """ADaM *DY against an anchor date, no day 0: date - anchor + 1 on or after the anchor,
    date - anchor before it; null when either is missing."""
    delta = dates - anchor
    return pd.Series(np.where(delta >= 0, delta + 1, delta), index=dates.index)


def derive_relative_days(adae: pd.DataFrame) -> pd.DataFrame:
    """ASTDY/AENDY relative to TRTSDT."""
    adae = detached(adae)
    adae["ASTDY"] = relative_day(adae["ASTDT"], adae["TRTSDT"])
    adae["AENDY"] = relative_day(adae["AENDT"], adae["TRTSDT"])
    return adae


def derive_period(adae: pd.DataFrame, pieces: pd.DataFrame) -> pd.DataFrame:
    """APERIOD/APERIODC and TRTA/TRTAN: the period and the treatment group at the AE's onset, as
    treated — by the subject's pieces (:func:`adam.periods.treatment_pieces`: each run of one
    treatment within a period, so that a period in which the subject had two treatments places
    an AE in the one being received). Cases in order:

    1. ASTDT on or after a piece's first dose and before the next piece's first dose (the last
       piece open-ended: an AE after the last dose still follows the last treatment received;
       TRTEMFL decides whether it counts) -> that piece's period and group;
    2. ASTDT missing, the subject treated and AESTDTC not wholly before the first dose (its
       latest possible day, :func:`start_range`, on or after it; always so for a null
       AESTDTC) -> the subject's first piece (the event cannot be placed later; it is
       treatment-emergent by the missing-start rule and counted in the first group the subject
       received — period 2 for a subject first treated in period 2);
    3. otherwise (before the first dose, no dated treatment) -> null.

    APERIODC = "Period " and APERIOD in two digits ("Period 01"), one-to-one with APERIOD. RUN
    (the piece's run, for the treatment-emergent window) is kept for :func:`derive_trtemfl`, and
    the piece's study and own period number (PSTUDYID, SPERIOD) for the pool flags
    (:func:`adam.pools.derive_record_flags`).
    """
    adae = detached(adae)
    columns = ["APERIOD", "TRTA", "TRTAN", "RUN", "PSTUDYID", "SPERIOD"]
    p = (pieces.rename(columns={"STUDYID": "PSTUDYID"})[["USUBJID", *columns, "TRSDT"]]
         .sort_values(["TRSDT", "RUN"], kind="mergesort"))
    starts = p[["USUBJID", "TRSDT"]].assign(_p=np.arange(len(p)), TRSDT=p["TRSDT"].astype("float64"))
    first = (p.assign(_p=np.arange(len(p))).sort_values(["USUBJID", "TRSDT", "RUN"], kind="mergesort")
             .drop_duplicates("USUBJID").set_index("USUBJID"))
    # each record's piece (position in ``p``; -1 none), a slice of records at a time
    piece = np.concatenate([_piece_of(adae.iloc[lo:lo + PERIOD_SLICE], starts, first)
                            for lo in range(0, len(adae), PERIOD_SLICE)] or [np.zeros(0, dtype=np.int64)])
    placed = piece >= 0
    for name in columns:
        values = p[name].to_numpy(dtype=object)[np.where(placed, piece, 0)] if len(p) else np.full(len(adae), None)
        adae[name] = pd.Series(np.where(placed, values, None), index=adae.index, dtype=object)
    for name in ("APERIOD", "TRTAN", "RUN", "SPERIOD"):
        adae[name] = adae[name].astype("float64")
    aperiod = adae["APERIOD"]
    adae["APERIODC"] = np.where(aperiod.notna(), "Period " + aperiod.fillna(0).astype(int).astype(str).str.zfill(2),
                                None)
    return adae


PERIOD_SLICE = 250_000
"""AE records placed in their treatment piece at a time (:func:`derive_period`)."""


def _piece_of(adae: pd.DataFrame, starts: pd.DataFrame, first: pd.DataFrame) -> np.ndarray:
    """:func:`derive_period`'s cases 1 and 2 for some records: each one's piece, as a position
    in the pieces by first dose (``starts``: USUBJID, TRSDT, _p), -1 where none; ``first``:
    each subject's first piece (_p, TRSDT)."""
    piece = np.full(len(adae), -1, dtype=np.int64)
    known = adae[["USUBJID", "ASTDT"]].assign(_i=np.arange(len(adae))).dropna(subset=["ASTDT"])
    if len(known) and len(starts):
        hit = pd.merge_asof(known.sort_values("ASTDT", kind="mergesort").astype({"ASTDT": "float64"}), starts,
                            left_on="ASTDT", right_on="TRSDT", by="USUBJID", direction="backward")
        hit = hit[hit["_p"].notna()]
        piece[hit["_i"].to_numpy()] = hit["_p"].to_numpy(dtype="int64")
    _, latest = start_range(adae)
    first_piece = adae["USUBJID"].map(first["_p"]).astype("float64").to_numpy()
    first_dose = adae["USUBJID"].map(first["TRSDT"]).astype("float64").to_numpy()
    missing = adae["ASTDT"].isna().to_numpy() & ~np.isnan(first_piece) & ~(latest < first_dose)
    piece[missing] = first_piece[missing].astype("int64")
    return piece


def derive_emergence_window(adae: pd.DataFrame, windows: pd.DataFrame) -> pd.Series:
    """The last day of the treatment-emergent window that applies to each AE (day numbers): the
    window of the run its onset is placed in (:func:`derive_period`,
    :func:`adam.periods.emergence_windows`); for an AE without ASTDT, the end of the subject's
    last window (its start could lie in any); null for a subject without a dated treatment."""
    keys = adae[["USUBJID", "RUN"]].astype({"USUBJID": object, "RUN": "float64"})
    ends = windows[["USUBJID", "RUN", "WEND"]].astype({"USUBJID": object, "RUN": "float64"})
    run_end = pd.Series(keys.merge(ends, on=["USUBJID", "RUN"], how="left")["WEND"].to_numpy(dtype="float64"),
                        index=adae.index)
    last_end = adae["USUBJID"].map(windows.groupby("USUBJID")["WEND"].max()).astype("float64")
    return run_end.where(adae["ASTDT"].notna(), last_end)


def derive_trtemfl(adae: pd.DataFrame, *, window_days: int | None = 30, window_end: str | None = None,
                   missing_start: str = "emergent", not_emergent_value: str | None = None, start: str = "ASTDT",
                   end: str = "AENDT", trt_start: str = "TRTSDT", trt_end: str = "TRTEDT",
                   start_dtc: str = "AESTDTC") -> pd.Series:
    """TRTEMFL, the cases in the order they apply (admiral ``derive_var_trtemfl``; PHUSE WP-087).
    The treatment-emergent window runs from TRTSDT to its end: the column ``window_end`` when
    given (ADAE passes :func:`derive_emergence_window`: the window of the treatment received at
    onset, as ADAETTE's time at risk uses it), else TRTEDT + ``window_days`` (no upper limit
    when ``window_days`` is None).

    1. not treated (TRTSDT missing) -> not emergent;
    2. ended before treatment (AENDT < TRTSDT) -> not emergent;
    3. start missing, and the start could lie in the window by what ``start_dtc`` says (a null
       or year-unknown AESTDTC always could; "2020" left unimputed cannot for treatment started
       in 2021: ICH E9, emergence needs onset on treatment) -> "Y" (conservative), or not
       emergent with ``missing_start="not_emergent"``;
    4. TRTSDT <= ASTDT <= the window's end -> "Y";
    5. otherwise (started before treatment or after the window, dated or known to be by its
       partial date) -> not emergent.

    "Not emergent" is null (OCCDS) or ``not_emergent_value`` (e.g. "N" where an SAP says so).
    """
    s, e = adae[start], adae[end]
    ts = adae[trt_start]
    if window_end is not None:
        upper = adae[window_end].astype("float64")
    elif window_days is not None:
        upper = adae[trt_end] + window_days
    else:
        upper = pd.Series(np.inf, index=adae.index)
    earliest, latest = start_range(adae, dtc=start_dtc)
    could_be_on_treatment = (latest >= ts.to_numpy(dtype=float)) & (earliest <= upper.to_numpy(dtype=float))
    cases = [
        ts.isna(),
        e.notna() & (e < ts),
        s.isna() & could_be_on_treatment,
        (s >= ts) & (s <= upper),
    ]
    emergent_missing = "Y" if missing_start == "emergent" else not_emergent_value
    flag = np.select(cases, [not_emergent_value, not_emergent_value, emergent_missing, "Y"],
                     default=not_emergent_value)
    return pd.Series(flag, index=adae.index, dtype=object).where(lambda x: x.notna(), None)


#: OCCDS 1.1 first-occurrence flags: (within subject, within subject x treatment) for any TEAE,
#: per SOC and per SOC x PT
OCCURRENCE_FLAGS = (("AOCCFL", "AOCC01FL", ()), ("AOCCSFL", "AOCC02FL", ("AEBODSYS",)),
                    ("AOCCPFL", "AOCC03FL", ("AEBODSYS", "AEDECOD")))


def derive_occurrence_flags(adae: pd.DataFrame, *, subject: str = "USUBJID", treatment: str = "TRTA"
                            ) -> pd.DataFrame:
    """First-occurrence flags (ADaM OCCDS 1.1): "Y" on the first treatment-emergent record
    (TRTEMFL "Y"), other records null; "first" after sorting by ASTDT then AESEQ (missing ASTDT
    last). Cases, per :data:`OCCURRENCE_FLAGS`:

    1. AOCCFL, AOCCSFL, AOCCPFL: the first within the subject ("1st Occurrence within Subject
       Flag"), within subject x AEBODSYS, within subject x AEBODSYS x AEDECOD — one per person,
       whichever treatments they received;
    2. AOCC01FL, AOCC02FL, AOCC03FL: the same within subject x actual treatment (TRTA), so that a
       subject who received vehicle, then cream, has a first occurrence in each group (the
       per-group counts of the tables)."""
    emergent = np.flatnonzero((adae["TRTEMFL"] == "Y").fillna(False).to_numpy(dtype=bool))
    teae = adae[[subject, treatment, "AEBODSYS", "AEDECOD", "AESEQ"]].iloc[emergent].assign(
        _S=adae["ASTDT"].iloc[emergent].astype("float64").fillna(np.inf).to_numpy(), _P=emergent)
    teae = teae.sort_values([subject, "_S", "AESEQ"], kind="mergesort")
    flags = {}
    for within_subject, within_treatment, keys in OCCURRENCE_FLAGS:
        for flag, by in ((within_subject, [subject]), (within_treatment, [subject, treatment])):
            first = teae["_P"].to_numpy()[~teae.duplicated([*by, *keys]).to_numpy()]
            values = np.full(len(adae), None, dtype=object)
            values[first] = "Y"
            flags[flag] = values
    return adae.assign(**flags)


def matches_event(adae: pd.DataFrame, event: dict) -> pd.Series:
    """Records meeting an event-of-interest definition of the ISS config: (AEBODSYS in
    ``soc`` or AEDECOD in ``pt`` or AEDECOD containing any of ``pt_contains``; all records
    when none of the three is given) and AEDECOD not in ``pt_exclude``, and where given
    AESER = "Y" (``serious``), a fatal outcome (``fatal``: AEOUT "FATAL" or AESDTH "Y"),
    AREL = "RELATED" (``related``). Text compares in any case."""
    return pd.Series(event_masks(adae, [event])[0], index=adae.index)


def event_terms_text(event: dict) -> str:
    """An event of interest's terms and qualifiers in words, as :func:`matches_event` applies
    them: ' with SOC "..." or PT "...", ... except PT "...", serious (AESER = "Y")'; empty for
    an event that takes every record. The define's methods and the tables' footnotes say it."""
    terms = []
    if event.get("soc"):
        terms.append("SOC " + " or ".join(f'"{s}"' for s in event["soc"]))
    if event.get("pt"):
        terms.append("PT " + ", ".join(f'"{s}"' for s in event["pt"]))
    if event.get("pt_contains"):
        terms.append("PT containing " + " or ".join(f'"{s}"' for s in event["pt_contains"]))
    if event.get("query"):
        terms.append(f'PT or LLT of query "{event["query"]}" ({event.get("scope", "broad")} scope)')
    text = " with " + " or ".join(terms) if terms else ""
    if event.get("pt_exclude"):
        text += " except PT " + ", ".join(f'"{s}"' for s in event["pt_exclude"])
    for key, yes, no in (("serious", "serious (AESER = \"Y\")", "not serious"),
                         ("fatal", "fatal (AEOUT = \"FATAL\" or AESDTH = \"Y\")", "not fatal"),
                         ("related", "related (AREL = \"RELATED\")", "not related")):
        if key in event:
            text += f", {yes if event[key] else no}"
    return text


def event_masks(adae: pd.DataFrame, events: list[dict]) -> list[np.ndarray]:
    """:func:`matches_event` of each event, as boolean arrays; the terms are compared once
    per distinct AEBODSYS and AEDECOD, not once per record."""
    soc, pt = _UpperTerms(adae["AEBODSYS"]), _UpperTerms(adae["AEDECOD"])
    qualifiers = {"serious": adae["AESER"] == "Y",
                  "fatal": (adae.get("AEOUT") == "FATAL") | (adae.get("AESDTH") == "Y"),
                  "related": adae.get("AREL") == "RELATED"}
    out = []
    for event in events:
        terms = []
        if event.get("soc"):
            terms.append(soc.isin(event["soc"]))
        if event.get("pt"):
            terms.append(pt.isin(event["pt"]))
        if event.get("pt_contains"):
            terms.append(pt.contains(event["pt_contains"]))
        if "query_terms" in event:   # a standardised query's terms in its scope (adam.queries)
            terms.append(pt.isin(event["query_terms"]["PT"]))
            if event["query_terms"]["LLT"] and "AELLT" in adae:
                terms.append(_UpperTerms(adae["AELLT"]).isin(event["query_terms"]["LLT"]))
        hit = np.logical_or.reduce(terms) if terms else np.ones(len(adae), dtype=bool)
        if event.get("pt_exclude"):
            hit = hit & ~pt.isin(event["pt_exclude"])
        for key, cond in qualifiers.items():
            if key in event:
                c = pd.Series(cond, index=adae.index).fillna(False).to_numpy(dtype=bool)
                hit = hit & (c if event[key] else ~c)
        out.append(hit)
    return out


class _UpperTerms:
    """A coded-term column compared in upper case, once per distinct term (a missing term
    matches nothing)."""

    def __init__(self, column: pd.Series) -> None:
        self.codes, uniques = pd.factorize(column)
        self.terms = pd.Series(np.asarray(uniques, dtype=object), dtype="string").str.upper()

    def _spread(self, per_term) -> np.ndarray:
        return np.append(np.asarray(per_term, dtype=bool), False)[self.codes]   # code -1 -> the False

    def isin(self, wanted: list[str]) -> np.ndarray:
        return self._spread(self.terms.isin([w.upper() for w in wanted]).fillna(False))

    def contains(self, parts: list[str]) -> np.ndarray:
        pattern = "|".join(re.escape(p.upper()) for p in parts)
        return self._spread(self.terms.str.contains(pattern, regex=True).fillna(False))


def derive_query_variables(adae: pd.DataFrame, events: list[dict], queries=None) -> pd.DataFrame:
    """The query variables of the events of interest: CQzzNAM of each event with a ``cq`` index
    (:func:`derive_custom_queries`), then SMQzzNAM/CD/SC/SCN of each naming a standardised
    query (adam.queries.derive_standardised_queries)."""
    adae = derive_custom_queries(adae, events)
    standard = sorted((e for e in events if "smq" in e), key=lambda e: e["smq"])
    return derive_standardised_queries(adae, standard, queries, event_masks(adae, standard))


def derive_custom_queries(adae: pd.DataFrame, events: list[dict]) -> pd.DataFrame:
    """CQzzNAM = the event's name on records meeting an adverse event of special interest
    definition (``events[]`` with a ``cq`` index), else null. Treatment emergence is not part
    of the query: analyses add TRTEMFL = "Y"."""
    adae = detached(adae)
    queries = sorted((e for e in events if "cq" in e), key=lambda e: e["cq"])
    for event, hit in zip(queries, event_masks(adae, queries)):
        adae[f"CQ{event['cq']:02d}NAM"] = choose_text([None, event["name"]], hit, index=adae.index)
    return adae


def derive_arel(adae: pd.DataFrame, related: list[str] | None = None) -> pd.Series:
    """AREL, the cases in order (the define's MT.AREL):

    1. AEREL missing -> "RELATED" (the conservative SAP convention: a causality the
       investigator did not give counts as related);
    2. AEREL one of ``related`` (the config's ``related_terms``, any case; left out, the default
       categories of adam.config.related_terms) -> "RELATED";
    3. any other AEREL -> "NOT RELATED".
    """
    rel = adae["AEREL"].astype("string").str.upper()
    hit = (rel.isna() | rel.isin(related_terms(related))).fillna(True).to_numpy(dtype=bool)
    return choose_text(["NOT RELATED", "RELATED"], hit, index=adae.index)


def derive_adae(ae: pd.DataFrame, adsl: pd.DataFrame, pieces: pd.DataFrame, windows: pd.DataFrame,
                iss: ISSConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The whole ADAE, in derivation order; returns (ADAE, AE records of non-ADSL subjects).
    ``pieces`` and ``windows`` are the as-treated timeline (:mod:`adam.periods`)."""
    adae, outside = adae_base(ae, adsl)
    adae = derive_analysis_dates(adae, iss)
    adae = derive_relative_days(adae)
    adae = derive_period(adae, pieces)
    teae = iss.teae
    adae["TRTEMFL"] = derive_trtemfl(adae.assign(_WEND=derive_emergence_window(adae, windows)), window_end="_WEND",
                                     missing_start=teae["missing_start"],
                                     not_emergent_value=teae["not_emergent_value"])
    adae = derive_record_flags(adae, iss.analysis_pools).drop(columns=["RUN", "PSTUDYID", "SPERIOD"])
    adae = derive_pooled_groups(adae, iss, planned=planned_of_periods(adae, adsl))
    adae = derive_occurrence_flags(adae)
    adae["AREL"] = derive_arel(adae, iss.get("related_terms"))
    adae = derive_query_variables(adae, iss.events, iss.queries)
    adae["SRCDOM"] = "AE"
    adae["SRCSEQ"] = adae["AESEQ"]
    return adae, outside
