"""Standardised queries from a query file: the terms of each query, and ADAE's SMQzz variables.

Sponsors define adverse events of special interest with standardised queries (MedDRA SMQs,
FDA Medical Queries) more often than with hand-made lists. Their content is licensed, so
trialpack ships none: the user gives a **query file** (the ISS config's ``query_file``, a CSV,
XLSX or SAS7BDAT file read like a raw export), one term per row:

=============  =========================================================================
query_name     the query's name (e.g. the SMQ name), the value of SMQzzNAM
query_code     the query's number code (integer), SMQzzCD
scope          NARROW or BROAD (any case): the term's scope in the query, SMQzzSC
term_level     PT or LLT (any case): a MedDRA preferred term (matched to AEDECOD) or lowest
               level term (matched to AELLT)
term_name      the term's name, compared in any case
term_code      the term's MedDRA code (integer)
=============  =========================================================================

An event of interest of the ISS config that names a query (``events[].query``, with its
``smq`` index zz and optionally ``scope``) matches the records whose term is in the query in
that scope: ``narrow`` only the narrow terms; ``broad`` (the default) narrow and broad terms,
since "by definition all narrow terms are also considered within the broad scope" (ADaM
OCCDS 1.1, SMQzzSC). ADAE then carries, per OCCDS 1.1: SMQzzNAM (the name) and SMQzzCD (the
code) on matching records, SMQzzSC the scope of the term that matched (NARROW or BROAD) and
SMQzzSCN its number (1 BROAD, 2 NARROW: the order of OCCDS's value list "BROAD; NARROW").
Treatment emergence is not part of the query: analyses add TRTEMFL = "Y".

Checks at load, in order, each refused naming file, row and column: every field present; no
empty cell; scope NARROW or BROAD; term level PT or LLT; codes integers; one name per query
code and one code per query name; no term (level and code) twice in a query.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fileformats.rawio import RAW_ROW, read_raw
from specs.columns import choose_text
from specs.errors import InputError

QUERY_FIELDS = ("query_name", "query_code", "scope", "term_level", "term_name", "term_code")
SCOPES = ("BROAD", "NARROW")          # SMQzzSC, in the order of their SMQzzSCN 1 and 2 (OCCDS's value list)
TERM_LEVELS = {"PT": "AEDECOD", "LLT": "AELLT"}


@dataclass(frozen=True)
class Queries:
    """A query file's terms: QUERY, QCODE, SCOPE, LEVEL, TERM (upper case), TERMCD, ROW (its row)."""

    file: str
    terms: pd.DataFrame

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys(self.terms["QUERY"]))

    def code(self, name: str) -> int:
        return int(self.terms.loc[self.terms["QUERY"] == name, "QCODE"].iloc[0])

    def terms_of(self, name: str, scope: str = "broad") -> dict[str, list[str]]:
        """The query's terms in ``scope`` by level: {"PT": [...], "LLT": [...]} (upper case);
        ``broad`` holds the narrow terms too."""
        part = self.terms[self.terms["QUERY"] == name]
        if scope.upper() == "NARROW":
            part = part[part["SCOPE"] == "NARROW"]
        return {level: part.loc[part["LEVEL"] == level, "TERM"].tolist() for level in TERM_LEVELS}

    def scopes_of(self, name: str) -> dict[tuple[str, str], str]:
        """(level, term) -> the term's scope in the query."""
        part = self.terms[self.terms["QUERY"] == name]
        return dict(zip(zip(part["LEVEL"], part["TERM"]), part["SCOPE"]))


def load_query_file(path: str | Path, *, name: str | None = None) -> Queries:
    """Read and check a query file (the module docstring's checks, in order)."""
    name = name or Path(path).name
    table = read_raw(Path(path), {f: f for f in QUERY_FIELDS}, name=name, required=QUERY_FIELDS)
    frame = table.frame
    rows = frame[RAW_ROW].to_numpy()

    def refuse(mask, column: str, message: str) -> None:
        if np.any(mask):
            first = int(np.flatnonzero(np.asarray(mask))[0])
            raise InputError(message.format(value=frame[column].iloc[first]), file=name, row=int(rows[first]),
                             column=column)

    for column in QUERY_FIELDS:
        refuse(frame[column].isna().to_numpy(), column, f"the query file's {column} is empty")
    scope = frame["scope"].str.strip().str.upper()
    refuse(~scope.isin(SCOPES).to_numpy(dtype=bool), "scope", "scope {value!r} is neither NARROW nor BROAD")
    level = frame["term_level"].str.strip().str.upper()
    refuse(~level.isin(list(TERM_LEVELS)).to_numpy(dtype=bool), "term_level",
           "term level {value!r} is neither PT nor LLT")
    codes = {}
    for column in ("query_code", "term_code"):
        text = frame[column].str.strip()
        refuse(~text.str.fullmatch(r"[0-9]{1,9}").fillna(False).to_numpy(dtype=bool), column,
               f"{column} {{value!r}} is not a whole number")
        codes[column] = text.astype("int64")
    terms = pd.DataFrame({"QUERY": frame["query_name"].str.strip().to_numpy(dtype=object),
                          "QCODE": codes["query_code"].to_numpy(), "SCOPE": scope.to_numpy(dtype=object),
                          "LEVEL": level.to_numpy(dtype=object),
                          "TERM": frame["term_name"].str.strip().str.upper().to_numpy(dtype=object),
                          "TERMCD": codes["term_code"].to_numpy(), "ROW": rows})
    names_per_code = terms.groupby("QCODE")["QUERY"].transform("nunique")
    refuse((names_per_code > 1).to_numpy(), "query_code", "query code {value!r} has more than one query name")
    codes_per_name = terms.groupby("QUERY")["QCODE"].transform("nunique")
    refuse((codes_per_name > 1).to_numpy(), "query_name", "query {value!r} has more than one query code")
    twice = terms.duplicated(["QCODE", "LEVEL", "TERMCD"]).to_numpy()
    refuse(twice, "term_code", "term code {value!r} is listed twice in its query")
    return Queries(name, terms)


def check_query_events(events: list[dict], queries: Queries | None, file, path_of) -> None:
    """Each event naming a query: the config gives a query file, the file has the query, and the
    event has an ``smq`` index no other event uses (``path_of(i, key)``: the JSON path)."""
    smqs = [e["smq"] for e in events if "smq" in e]
    for i, event in enumerate(events):
        if ("query" in event) != ("smq" in event):
            raise InputError("an event names a query and its smq index together (one without the other)",
                             file=file, path=path_of(i, "query" if "query" in event else "smq"))
        if "query" not in event:
            continue
        if queries is None:
            raise InputError(f"event {event['paramcd']} names query {event['query']!r} but the config gives no "
                             "query_file", file=file, path=path_of(i, "query"))
        if event["query"] not in queries.names:
            raise InputError(f"query {event['query']!r} is not in the query file {queries.file} (its queries: "
                             f"{', '.join(queries.names)})", file=file, path=path_of(i, "query"))
        if smqs.count(event["smq"]) > 1:
            raise InputError(f"SMQ index {event['smq']} is used twice", file=file, path=path_of(i, "smq"))


def aesi_variable(event: dict) -> str | None:
    """The ADAE variable naming an adverse event of special interest's records: CQzzNAM for an
    event with a ``cq`` index, else SMQzzNAM for one naming a query (``smq``); None for an event
    that is not an AESI."""
    if "cq" in event:
        return f"CQ{event['cq']:02d}NAM"
    if "smq" in event:
        return f"SMQ{event['smq']:02d}NAM"
    return None


def aesi_value(event: dict) -> str:
    """The value :func:`aesi_variable` holds on the event's records: the event's name in
    CQzzNAM, the query's name in SMQzzNAM."""
    return event["name"] if "cq" in event else event["query"]


def with_query_terms(event: dict, queries: Queries | None) -> dict:
    """The event with its query's terms in its scope as ``query_terms`` ({"PT": [...], "LLT":
    [...]}), which adam.adae.event_masks matches; an event without a query unchanged."""
    if "query" not in event or queries is None:
        return event
    return {**event, "query_terms": queries.terms_of(event["query"], event.get("scope", "broad"))}


def derive_standardised_queries(adae: pd.DataFrame, events: list[dict], queries: Queries | None,
                                hits: list[np.ndarray]) -> pd.DataFrame:
    """SMQzzNAM, SMQzzCD, SMQzzSC and SMQzzSCN (the module docstring) of each event naming a
    query, ``hits`` its records (adam.adae.event_masks, same order as ``events``)."""
    out = {}
    for event, hit in zip(events, hits):
        zz = f"{event['smq']:02d}"
        name = event["query"]
        scope_of = queries.scopes_of(name)
        by_pt = _scope_by(adae, "AEDECOD", scope_of, "PT")
        by_llt = _scope_by(adae, "AELLT", scope_of, "LLT")
        narrow = (by_pt == "NARROW") | (by_llt == "NARROW")
        out[f"SMQ{zz}NAM"] = choose_text([None, name], hit, index=adae.index)
        out[f"SMQ{zz}CD"] = np.where(hit, float(queries.code(name)), np.nan)
        scope_number = np.where(hit, 1 + narrow, 0)   # SCOPES' position + 1; 0 not in the query
        out[f"SMQ{zz}SC"] = choose_text([None, *SCOPES], scope_number, index=adae.index)
        out[f"SMQ{zz}SCN"] = np.where(hit, scope_number.astype("float64"), np.nan)
    return adae.assign(**out)


def _scope_by(adae: pd.DataFrame, column: str, scope_of: dict, level: str) -> np.ndarray:
    """Each record's scope through its ``column`` term at ``level`` (None where not in the query)."""
    if column not in adae:
        return np.full(len(adae), None, dtype=object)
    terms = {term: scope for (lvl, term), scope in scope_of.items() if lvl == level}
    upper = adae[column].astype("string").str.upper()
    return upper.map(terms).to_numpy(dtype=object, na_value=None)
