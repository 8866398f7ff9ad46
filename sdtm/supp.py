"""SUPP-- — Supplemental Qualifiers (SDTMIG v3.4 §8.4, standards.md §3.9).

One SUPP dataset per parent domain. Keys STUDYID, RDOMAIN, USUBJID, IDVAR, IDVARVAL, QNAM;
for DM parents IDVAR and IDVARVAL are null, otherwise IDVAR is --SEQ and IDVARVAL its
value as text. QVAL is never null: qualifiers without a value make no record.

Text longer than 200 characters (SDTMIG v3.4 §4.5.3.2) is split here too: see
:func:`split_long_text`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fileformats.rawio import RAW_FILE, RAW_ROW
from sdtm.common import text
from sdtm.studyspec import qorig_of
from specs.columns import arrow_text
from specs.errors import InputError
from specs.model import Spec

SUPP_COLUMNS = ["STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QLABEL", "QVAL", "QORIG", "QEVAL"]
SUPP_PREFIX = "_SUPP_"
#: Longest text an SDTM variable holds (SAS V5 transport; SDTMIG §4.5.3.2).
MAX_TEXT = 200
#: Dataset classes whose text variables SDTMIG §4.5.3.2 lets continue in SUPP-- records.
GENERAL_OBSERVATION_CLASSES = ("EVENTS", "INTERVENTIONS", "FINDINGS")
#: QNAM suffixes are one digit (1..9): the parent and nine SUPP-- records hold 2,000 characters.
MAX_PIECES = 10


def submitted_datasets(datasets: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The datasets a package holds: all but the empty SUPP-- ones (SDTMIG §8.4)."""
    return {name: df for name, df in datasets.items() if not (name.startswith("SUPP") and not len(df))}


def build_supp(parent: pd.DataFrame, domain: str, qualifiers: list[dict], *, idvar: str | None) -> pd.DataFrame:
    """SUPP``domain`` records from the parent's ``_SUPP_<QNAM>`` helper columns.

    ``qualifiers`` are the config's ``supplemental.<domain>`` entries (qnam, qlabel, qorig,
    qeval). Records are ordered by USUBJID, IDVARVAL (numerically) and the config's QNAM order.
    """
    parts = []
    for order, q in enumerate(qualifiers):
        col = SUPP_PREFIX + q["qnam"]
        if col not in parent:
            continue
        has = parent[col].notna()
        rows = parent.loc[has]
        part = pd.DataFrame({
            "STUDYID": rows["STUDYID"].to_numpy(), "RDOMAIN": domain, "USUBJID": rows["USUBJID"].to_numpy(),
            "IDVAR": idvar, "IDVARVAL": (rows[idvar].astype("Int64").astype("string").to_numpy()
                                         if idvar else None),
            "QNAM": q["qnam"], "QLABEL": q["qlabel"], "QVAL": rows[col].to_numpy(),
            "QORIG": q.get("qorig", "CRF"), "QEVAL": q.get("qeval"),
            "_ORDER": order, "_SEQ": rows[idvar].to_numpy() if idvar else 0,
        })
        parts.append(part)
    if not parts:
        return pd.DataFrame({c: text([]) for c in SUPP_COLUMNS})
    supp = pd.concat(parts, ignore_index=True).sort_values(["USUBJID", "_SEQ", "_ORDER"], kind="mergesort")
    supp = supp[SUPP_COLUMNS].reset_index(drop=True)
    for col in SUPP_COLUMNS:
        supp[col] = text(supp[col].astype(object).where(supp[col].notna(), None))
    return supp


def split_long_text(parent: pd.DataFrame, domain: str, qualifiers: list[dict],
                    spec: Spec) -> tuple[pd.DataFrame, list[dict]]:
    """Text longer than 200 characters, as SDTMIG v3.4 §4.5.3.2 stores it.

    1. A variable of a general observation-class domain (the spec's dataset class EVENTS,
       INTERVENTIONS or FINDINGS) that is free text (no codelist; not an identifier or timing
       variable) keeps its first 200 characters, split between words (:func:`split_between_words`);
       each further piece of up to 200 characters becomes a SUPP-- qualifier QNAM = the
       variable name + 1, 2 ... (an 8-character name has its last character replaced:
       AEACNOTH -> AEACNOT1), QLABEL = the variable's label, QORIG from its origin.
    2. A supplemental qualifier's own value (``_SUPP_<QNAM>``) keeps its first piece under its
       QNAM; the further pieces get QNAM1, QNAM2 ... with the same QLABEL.
    3. Any other value longer than 200 characters (an identifier, a coded value, a DM
       variable, a domain without SUPP-- dataset in the spec) is bad input, named by raw file,
       row and variable — never truncated.

    Returns the parent with the pieces in ``_SUPP_<QNAM>`` helper columns and the qualifiers
    to build SUPP-- from (``qualifiers`` with the new ones, each after its source).
    """
    dataset = spec.dataset(domain)
    has_supp = any(d.name == f"SUPP{domain}" for d in spec.datasets)
    splittable = has_supp and dataset.class_ in GENERAL_OBSERVATION_CLASSES
    long_variables = [v for v in dataset.variables
                      if v.name in parent and not v.is_numeric and _too_long(parent[v.name]).any()]
    long_qualifiers = [q for q in qualifiers
                       if SUPP_PREFIX + q["qnam"] in parent and _too_long(parent[SUPP_PREFIX + q["qnam"]]).any()]
    if not long_variables and not long_qualifiers:  # the rule as a rule: nothing to split
        return parent, list(qualifiers)
    parent = parent.copy()
    out: list[dict] = []
    for var in long_variables:
        if not splittable or var.codelist or var.role in ("Identifier", "Timing"):
            _refuse(parent, var.name, f"{var.name} holds at most {MAX_TEXT} characters and SDTMIG has no "
                                      f"continuation in SUPP{domain} for it here")
        meta = {"qlabel": var.label, "qorig": qorig_of(var.origin_type, var.origin_source),
                "pages": var.origin_pages}
        out += _continue_in_supp(parent, var.name, var.name, meta)
    for q in qualifiers:
        out.append(q)
        if any(q is long for long in long_qualifiers):
            out += _continue_in_supp(parent, SUPP_PREFIX + q["qnam"], q["qnam"], q)
    return parent, out


def _too_long(values: pd.Series) -> pd.Series:
    """Values of more than MAX_TEXT characters (Arrow counts them: no Python string per value)."""
    try:
        lengths = pc.utf8_length(arrow_text(values)).fill_null(0)
    except (pa.ArrowInvalid, pa.ArrowTypeError):   # not text: as text
        lengths = pc.utf8_length(arrow_text(values.astype("string"))).fill_null(0)
    return pd.Series(np.asarray(lengths) > MAX_TEXT, index=values.index)


def _continue_in_supp(parent: pd.DataFrame, column: str, name: str, meta: dict) -> list[dict]:
    """Cut the long values of ``column`` into pieces: the first stays, the others go to
    ``_SUPP_<name>1`` .. helper columns; returns their qualifiers."""
    long = _too_long(parent[column])
    pieces = split_between_words(parent.loc[long, column])
    if len(pieces) > MAX_PIECES:
        _refuse(parent.loc[pieces[MAX_PIECES].dropna().index], column,
                f"{name} needs more than {MAX_PIECES} pieces of {MAX_TEXT} characters; SDTMIG's one-digit "
                "QNAM suffixes allow no more")
    parent.loc[long, column] = pieces[0]
    added = []
    for k, piece in enumerate(pieces[1:], start=1):
        qnam = suffixed_qnam(name, k)
        parent[SUPP_PREFIX + qnam] = piece.reindex(parent.index)
        added.append({**{key: meta.get(key) for key in ("qlabel", "qorig", "qeval", "pages")}, "qnam": qnam})
    return added


def suffixed_qnam(name: str, k: int) -> str:
    """QNAM of the k-th continuation of ``name`` (SDTMIG §4.5.3.2): AETERM -> AETERM1;
    an 8-character name has its last character replaced: AEACNOTH -> AEACNOT1."""
    return (name if len(name) < 8 else name[:7]) + str(k)


def split_between_words(values: pd.Series, limit: int = MAX_TEXT) -> list[pd.Series]:
    """Pieces of at most ``limit`` characters, cut between words where a space lies in reach
    (the spaces at the cut are dropped: such pieces join with one space), else inside the word
    after ``limit`` characters (such pieces join with none). Vectorised over values; one pass
    per piece."""
    head_tail = rf"(?s)^(.{{0,{limit - 1}}}\S)\s+(\S.*)$"
    pieces, rest = [], values.astype("string")
    while rest.notna().any():
        long = rest.str.len() > limit
        cut = rest[long].str.extract(head_tail)
        hard = cut[0].isna()
        cut.loc[hard, 0] = rest[long][hard].str[:limit]
        cut.loc[hard, 1] = rest[long][hard].str[limit:].str.lstrip()
        pieces.append(rest.where(~long, cut[0].reindex(rest.index)).astype(object))
        rest = cut[1].reindex(rest.index).replace("", pd.NA)
    return [text(p.where(p.notna(), None), values.index) for p in pieces] or [text(values, values.index)]


def _refuse(frame: pd.DataFrame, column: str, message: str) -> None:
    long = np.flatnonzero(_too_long(frame[column]).to_numpy())
    pos = int(long[0]) if len(long) else 0
    length = len(str(frame[column].iloc[pos]))
    raise InputError(f"a value of {length} characters: {message}", file=frame[RAW_FILE].iloc[pos],
                     row=int(frame[RAW_ROW].iloc[pos]), column=column.removeprefix(SUPP_PREFIX))
