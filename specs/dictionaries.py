"""Terms of the external dictionaries trialpack ships, so that their codes can be checked.

An external codelist (``Codelist.dictionary``, Define-XML ``ExternalCodeList``) names a
dictionary instead of listing terms. For MedDRA the terms are licensed and come coded in the
raw data; ISO 3166-1 alpha-3 country codes (DM.COUNTRY, SDTMIG 3.4) are public and short,
so they ship here as data (``specs/dictionaries/*.json``: dictionary name, version, the
source the list was taken from, and its terms) and the codelist check tests membership in
them like any other non-extensible codelist.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from specs.model import Codelist

DICTIONARY_DIR = Path(__file__).parent / "dictionaries"


@lru_cache(maxsize=None)
def _shipped() -> dict[str, tuple[str, ...]]:
    """Dictionary name (as in ``Codelist.dictionary``) -> its terms, read once per process."""
    out = {}
    for path in sorted(DICTIONARY_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="ascii"))
        out[data["dictionary"]] = tuple(t["value"] for t in data["terms"])
    return out


def dictionary_terms(name: str | None) -> tuple[str, ...]:
    """The terms of a shipped dictionary; empty for a dictionary trialpack does not ship (MedDRA)."""
    return _shipped().get(name, ()) if name else ()


def codelist_terms(codelist: Codelist) -> list[str]:
    """The values a variable with this codelist may take: the codelist's own terms, or for an
    external codelist the shipped dictionary's terms (empty: nothing to check against)."""
    if codelist.is_external:
        return list(dictionary_terms(codelist.dictionary))
    return codelist.values()
