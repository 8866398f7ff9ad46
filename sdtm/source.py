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
#: Variables the ISS derivations cannot do without, per domain (DS only when a study has DS).
#: Each is Req or Exp in SDTMIG 3.4 (an Exp variable is in the dataset even when all null), so a
#: conformant dataset is never refused for lacking one; a test holds the list to the IG.
REQUIRED_VARIABLES = {
    "DM": ("STUDYID", "USUBJID", "SUBJID", "SITEID", "AGE", "AGEU", "SEX", "RACE", "ARMCD", "ARM", "RFICDTC",
           "RFXSTDTC", "RFXENDTC"),
    "EX": ("STUDYID", "USUBJID", "EXSEQ", "EXTRT", "EXDOSE", "EXDOSU", "EXSTDTC", "EXENDTC"),
    "AE": ("STUDYID", "USUBJID", "AESEQ", "AETERM", "AEDECOD", "AEBODSYS", "AESER", "AEREL", "AESTDTC", "AEENDTC"),
    "DS": ("STUDYID", "USUBJID", "DSSEQ", "DSDECOD", "DSCAT", "DSSTDTC"),
}
#: Variables the derivations read when a study has them and take as null when it has not: the
#: Permissible ones (EX.EPOCH, EX.EXDOSFRQ, AE.AEOUT, AE.AESDTH, DM.ETHNIC) and Expected ones the
#: derivations can do without (DM.ACTARM, DM.DTHFL, DM.DTHDTC). Without EPOCH, a study whose
#: config has no periods is one period; a study with periods needs EPOCH to place each record.
OPTIONAL_VARIABLES = {
    "DM": ("ETHNIC", "ACTARM", "DTHFL", "DTHDTC"),
    "EX": ("EPOCH", "EXDOSFRQ"),
    "AE": ("AEOUT", "AESDTH"),
}


def missing_variables(domain: str, frame: pd.DataFrame) -> list[str]:
    """The required variables (:data:`REQUIRED_VARIABLES`) of ``domain`` that ``frame`` lacks."""
    return [v for v in REQUIRED_VARIABLES.get(domain, ()) if v not in frame.columns]


def with_optional_variables(sdtm: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """``sdtm`` with each absent :data:`OPTIONAL_VARIABLES` variable added, all null."""
    out = dict(sdtm)
    for domain, names in OPTIONAL_VARIABLES.items():
        if domain in out:
            absent = [n for n in names if n not in out[domain].columns]
            if absent:
                out[domain] = out[domain].assign(**{n: None for n in absent})
    return out


def read_study_sdtm(config: StudyConfig, input_dir: Path | None = None) -> dict[str, pd.DataFrame]:
    """The study's SDTM datasets by name (DM, AE, EX required; DS, SUPPDM, SUPPAE, TS if present)."""
    from fileformats.xpt import read_xpt

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
        missing = missing_variables(name, df)
        if missing:
            raise InputError(f"SDTM {name} lacks variable(s) {', '.join(missing)}, which the ISS derivations read "
                             f"(SDTMIG 3.4 Req/Exp)", file=path, column=missing[0])
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
