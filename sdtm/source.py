"""Studies that arrive as SDTM: read their XPT files instead of mapping raw data.

Users often already have SDTM (the CDISC pilot is one). A study config with
``"source": "sdtm"`` points at a folder of ``dm.xpt``, ``ae.xpt``, ``ex.xpt``, ``ds.xpt`` ...
(``sdtm_dir``, or the build's ``--input-dir``). Their SDTM is input, not output: it is read,
harmonised for pooling through the config's ``value_maps`` (e.g. a legacy ``ARMCD``
"Scrnfail" mapped to null, as SDTMIG 3.4 leaves ARMCD null for screen failures), and passed
to the ADaM derivations; it is not rewritten into the package.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from sdtm.common import map_values
from sdtm.config import StudyConfig
from specs.errors import InputError

DOMAINS = ("DM", "AE", "EX", "DS", "SUPPDM", "SUPPAE", "TS")
REQUIRED = ("DM", "AE", "EX")
#: Variables the ISS derivations read, per domain.
REQUIRED_VARIABLES = {"DM": ("STUDYID", "USUBJID", "SUBJID", "SITEID", "ARMCD", "ARM", "RFICDTC"),
                      "EX": ("STUDYID", "USUBJID", "EXSEQ", "EXTRT", "EXSTDTC", "EXENDTC"),
                      "AE": ("STUDYID", "USUBJID", "AESEQ", "AETERM", "AEDECOD", "AEBODSYS", "AESTDTC", "AEENDTC")}


def read_study_sdtm(config: StudyConfig, input_dir: Path | None = None) -> dict[str, pd.DataFrame]:
    """The study's SDTM datasets by name (DM, AE, EX required; DS, SUPPDM, SUPPAE, TS if present)."""
    from trialpack.xpt import read_xpt

    folder = config.sdtm_dir(input_dir)
    if not folder.is_dir():
        raise InputError("SDTM folder not found", file=folder)
    out = {}
    for name in DOMAINS:
        path = folder / f"{name.lower()}.xpt"
        if not path.is_file():
            if name in REQUIRED:
                raise InputError(f"SDTM {name} is required and {path.name} is missing", file=folder)
            continue
        df, _ = read_xpt(path)
        missing = [v for v in REQUIRED_VARIABLES.get(name, ()) if v not in df.columns]
        if missing:
            raise InputError(f"SDTM {name} lacks required variable(s) {', '.join(missing)}", file=path,
                             column=missing[0])
        out[name] = harmonise(df, config)
    studies = set(out["DM"]["STUDYID"].dropna().unique())
    if studies != {config.studyid}:
        raise InputError(f"DM holds STUDYID {', '.join(sorted(studies))}; the config says {config.studyid}",
                         file=folder / "dm.xpt", column="STUDYID")
    return out


def harmonise(df: pd.DataFrame, config: StudyConfig) -> pd.DataFrame:
    """Blank text -> null, then the config's value maps applied to the variables they name."""
    df = df.copy()
    for col in df.columns:
        if df[col].dtype == object or pd.api.types.is_string_dtype(df[col]):
            text = df[col].astype("string")
            df[col] = text.mask(text.str.strip() == "").astype(object).where(lambda s: s.notna(), None)
    for var, mapping in config.get("value_maps", {}).items():
        if var in df:
            mapped = map_values(df[var], mapping)
            keep = ~df[var].astype("string").str.strip().str.upper().isin(
                [" ".join(str(k).split()).upper() for k in mapping])
            df[var] = mapped.where(~keep, df[var])
    return df
