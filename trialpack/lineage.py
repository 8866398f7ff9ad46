"""Lineage files (DESIGN principle 6): every SDTM record to its raw file and row, every ADaM
record to its SDTM (or ADaM) source records. Kept beside the datasets, not as extra columns
in them.

``lineage/sdtm-raw.csv``   STUDYID, DATASET, USUBJID, SEQ, RAWFILE, RAWROW
``lineage/adam-sdtm.csv``  DATASET, STUDYID, USUBJID, KEY (the ADaM record: AESEQ, or
                           TRTA/PARAMCD), SOURCE (dataset), SOURCESEQ (its --SEQ/AESEQ)
``lineage/raw-reconciliation.csv``  per raw file: STUDYID, DOMAIN, RAWFILE, ROWS_READ,
                           ROWS_MAPPED, ROWS_REJECTED, BLANK_ROWS, BALANCED (rows read =
                           mapped + rejected); the validation report shows it as a sheet
The report adds ``report/lineage/table-cells.parquet`` (each table cell -> the ADaM rows it
counts; Parquet because it has millions of records at scale).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from trialpack import layout

SDTM_RAW = "sdtm-raw.csv"
ADAM_SDTM = "adam-sdtm.csv"
RAW_RECONCILIATION = "raw-reconciliation.csv"
RECONCILIATION_COLUMNS = ["STUDYID", "DOMAIN", "RAWFILE", "ROWS_READ", "ROWS_MAPPED", "ROWS_REJECTED", "BLANK_ROWS",
                          "BALANCED"]


def sdtm_raw(studies) -> pd.DataFrame:
    parts = [s.lineage.assign(STUDYID=s.studyid) for s in studies if len(s.lineage)]
    if not parts:
        return pd.DataFrame(columns=["STUDYID", "DATASET", "USUBJID", "SEQ", "RAWFILE", "RAWROW"])
    df = pd.concat(parts, ignore_index=True)
    df = df.rename(columns={"dataset": "DATASET", "seq": "SEQ", "file": "RAWFILE", "row": "RAWROW"})
    df["SEQ"] = df["SEQ"].astype("Int64")   # --SEQ is an integer; DM records have none
    return df[["STUDYID", "DATASET", "USUBJID", "SEQ", "RAWFILE", "RAWROW"]]


def adam_sdtm(analysis) -> pd.DataFrame:
    adae = analysis.datasets["ADAE"]
    parts = [pd.DataFrame({"DATASET": "ADAE", "STUDYID": adae["STUDYID"], "USUBJID": adae["USUBJID"],
                           "KEY": adae["AESEQ"].astype("Int64").astype(str), "SOURCE": "AE",
                           "SOURCESEQ": adae["AESEQ"]})]
    tte = analysis.datasets["ADAETTE"]
    ev = tte[tte["SRCSEQ"].notna()] if "SRCSEQ" in tte else tte.iloc[0:0].assign(SRCSEQ=None)
    parts.append(pd.DataFrame({"DATASET": "ADAETTE", "STUDYID": ev["STUDYID"], "USUBJID": ev["USUBJID"],
                               "KEY": ev["TRTA"] + "/" + ev["PARAMCD"], "SOURCE": "ADAE", "SOURCESEQ": ev["SRCSEQ"]}))
    rec = analysis.records
    if rec is not None and len(rec):
        pools = {p: g.label for g in analysis.iss.groups for p in g.pools}
        rows = rec.dropna(subset=["GROUP"])
        pooled = rows[rows["GROUP"].isin(pools)].assign(GROUP=lambda d: d["GROUP"].map(pools))
        both = pd.concat([rows, pooled], ignore_index=True)
        parts.append(pd.DataFrame({"DATASET": "ADEX", "STUDYID": both["STUDYID"], "USUBJID": both["USUBJID"],
                                   "KEY": both["GROUP"], "SOURCE": "EX", "SOURCESEQ": both["EXSEQ"]}))
    out = pd.concat(parts, ignore_index=True)
    out["SOURCESEQ"] = out["SOURCESEQ"].astype("Int64")
    return out.sort_values(["DATASET", "STUDYID", "USUBJID", "KEY", "SOURCESEQ"], kind="mergesort")


def raw_reconciliation(studies) -> pd.DataFrame:
    """Each raw file of each study: rows read, mapped, rejected and blank, and whether read =
    mapped + rejected (``sdtm.common.reconcile``)."""
    parts = [s.reconciliation.assign(STUDYID=s.studyid) for s in studies if len(s.reconciliation)]
    if not parts:
        return pd.DataFrame(columns=RECONCILIATION_COLUMNS)
    df = pd.concat(parts, ignore_index=True).rename(columns={"file": "RAWFILE"})
    df.columns = [c.upper() for c in df.columns]
    return df[RECONCILIATION_COLUMNS].assign(BALANCED=lambda d: d["BALANCED"].map({True: "Y", False: "N"}))


def reconciliation_sheet(root: Path) -> tuple[list[str], list[list]]:
    """Header and rows of the validation report's Reconciliation sheet, from the package's
    ``lineage/raw-reconciliation.csv`` (no rows for a package without raw-data studies)."""
    path = layout.lineage_dir(Path(root)) / RAW_RECONCILIATION
    if not path.is_file():
        return RECONCILIATION_COLUMNS, []
    frame = pd.read_csv(path, dtype=object, keep_default_na=False)
    counts = RECONCILIATION_COLUMNS[3:7]
    frame[counts] = frame[counts].astype("int64")
    return list(frame.columns), frame.astype(object).to_numpy().tolist()


def write_lineage(root: Path, studies, analysis) -> list[Path]:
    folder = layout.lineage_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, frame in ((SDTM_RAW, sdtm_raw(studies)), (ADAM_SDTM, adam_sdtm(analysis)),
                        (RAW_RECONCILIATION, raw_reconciliation(studies))):
        out.append(write_csv(frame, folder / name))
    return out


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """``frame`` as CSV (header row, ``\\n`` line ends, missing values empty), the bytes
    pandas' ``to_csv`` writes. When no text holds a comma, quote or line end (lineage keys
    and file names, as a rule) Arrow's CSV writer writes it unquoted: millions of records in
    a fraction of a second; otherwise pandas quotes what needs it."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    table = pa.Table.from_pandas(frame, preserve_index=False)
    plain = all(not pc.any(pc.match_substring_regex(table.column(i), '[,"\\r\\n]')).as_py()
                for i, field in enumerate(table.schema) if pa.types.is_string(field.type) or
                pa.types.is_large_string(field.type))
    numbers = all(pa.types.is_integer(f.type) or pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
                  for f in table.schema)
    if not (plain and numbers and all(_csv_field(str(c)) == str(c) for c in frame.columns)):
        frame.to_csv(path, index=False, lineterminator="\n")
        return path
    with open(path, "wb") as f:
        f.write(",".join(map(str, frame.columns)).encode("utf-8") + b"\n")
        pacsv.write_csv(table, f, write_options=pacsv.WriteOptions(include_header=False, quoting_style="none"))
    return path


def _csv_field(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(ch in text for ch in ',"\n\r') else text
