"""Data files of the demo generator (``trialpack/data/demo/``): dictionary, AE profile, EDC styles."""
from __future__ import annotations

import io
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

_PACKAGE = "trialpack"
_FOLDER = ("data", "demo")

DICTIONARY_FILE = "meddra_demo.csv"
PROFILE_FILE = "ae_profile.csv"
#: The demo's standardised-query file (fictional queries and codes: trialpack ships no MedDRA content).
QUERY_FILE = "queries_demo.csv"
VENDORS_FILE = "vendors.json"

#: Dictionary columns (CDASH-like AE field -> dictionary column).
DICTIONARY_FIELDS = {
    "AELLT": "llt", "AELLTCD": "llt_code", "AEDECOD": "pt", "AEPTCD": "pt_code",
    "AEHLT": "hlt", "AEHLTCD": "hlt_code", "AEHLGT": "hlgt", "AEHLGTCD": "hlgt_code",
    "AEBODSYS": "soc", "AEBDSYCD": "soc_code",
}
APPLICATION_SITE_HLT = "Application and instillation site reactions"


def _text(name: str) -> str:
    return resources.files(_PACKAGE).joinpath(*_FOLDER, name).read_text(encoding="utf-8")


def _read_csv(name: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(_text(name)), comment="#", dtype=str, keep_default_na=False)


@dataclass(frozen=True)
class Profile:
    """The dictionary rows (one per LLT) with their AE-profile parameters, aligned by index."""

    dictionary: pd.DataFrame  # columns of DICTIONARY_FIELDS values, all text
    weights: np.ndarray  # (4, n): w_pre, w_vehicle, w_cream, w_post
    median_days: np.ndarray
    p_related: np.ndarray
    application_site: np.ndarray  # bool
    verbatims: tuple[str, ...]  # every verbatim term
    verbatim_offset: np.ndarray  # first verbatim of each LLT
    verbatim_count: np.ndarray

    def llt_index(self, llt: str) -> int:
        matches = np.flatnonzero(self.dictionary["llt"].to_numpy() == llt)
        if len(matches) != 1:
            raise KeyError(f"LLT {llt!r} is not in {DICTIONARY_FILE}")
        return int(matches[0])


@lru_cache(maxsize=1)
def profile() -> Profile:
    dictionary = _read_csv(DICTIONARY_FILE)
    table = _read_csv(PROFILE_FILE)
    if set(table["llt"]) != set(dictionary["llt"]):
        raise ValueError(f"{PROFILE_FILE} and {DICTIONARY_FILE} must list the same LLTs: "
                         f"{sorted(set(table['llt']) ^ set(dictionary['llt']))}")
    merged = dictionary.merge(table, on="llt", how="inner", validate="one_to_one")
    parts = merged["verbatims"].str.split("|")
    counts = parts.str.len().to_numpy()
    return Profile(
        dictionary=merged[list(DICTIONARY_FIELDS.values())].reset_index(drop=True),
        weights=merged[["w_pre", "w_vehicle", "w_cream", "w_post"]].astype(float).to_numpy().T,
        median_days=merged["median_days"].astype(float).to_numpy(),
        p_related=merged["p_related"].astype(float).to_numpy(),
        application_site=(merged["hlt"] == APPLICATION_SITE_HLT).to_numpy(),
        verbatims=tuple(parts.explode().tolist()),
        verbatim_offset=np.r_[0, np.cumsum(counts)[:-1]],
        verbatim_count=counts,
    )


@lru_cache(maxsize=1)
def vendors() -> dict:
    styles = json.loads(_text(VENDORS_FILE))
    styles.pop("_comment", None)
    return styles


def query_file_text() -> str:
    """The demo's query file (:data:`QUERY_FILE`), written beside its ISS config as ``queries.csv``."""
    return _text(QUERY_FILE)
