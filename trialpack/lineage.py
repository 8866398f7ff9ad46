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

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from specs.columns import text_ranks
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
    aeseq = pa.array(adae["AESEQ"].astype("Int64"), type=pa.int64(), from_pandas=True)
    parts = [pd.DataFrame({"DATASET": "ADAE", "STUDYID": adae["STUDYID"], "USUBJID": adae["USUBJID"],
                           "KEY": pd.Series(pc.cast(aeseq, pa.string()).to_pandas(), index=adae.index),
                           "SOURCE": "AE", "SOURCESEQ": adae["AESEQ"]})]
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
    return sorted_by(out, ["DATASET", "STUDYID", "USUBJID", "KEY", "SOURCESEQ"])


def sorted_by(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame`` sorted by ``columns`` (text by code point, numbers by value, missing last;
    ties in their order), as ``sort_values(kind="mergesort")`` sorts it, with its text
    columns as categories: each text column is encoded once and its integer codes are
    sorted and gathered, never millions of strings."""
    encoded, keys = {}, {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values):
            encoded[column] = values.to_numpy()
            keys[column] = values.astype("float64").fillna(np.inf).to_numpy()
            continue
        codes, uniques, keys[column] = text_ranks(values)
        encoded[column] = (codes, uniques)
    order = np.lexsort([keys[c] for c in columns][::-1])
    return pd.DataFrame({c: pd.Categorical.from_codes(v[0][order], categories=pd.Index(v[1], dtype=object))
                         if isinstance(v, tuple) else v[order] for c, v in encoded.items()})


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
    texts = [_text_values(table.column(i)) for i in range(table.num_columns)]
    plain = all(text is None or not pc.any(pc.match_substring_regex(text, '[,"\\r\\n]')).as_py() for text in texts)
    numbers = all(text is not None or pa.types.is_integer(f.type) for text, f in zip(texts, table.schema))
    if not (plain and numbers and all(_csv_field(str(c)) == str(c) for c in frame.columns)):
        frame.to_csv(path, index=False, lineterminator="\n")
        return path
    with open(path, "wb") as f:
        f.write(",".join(map(str, frame.columns)).encode("utf-8") + b"\n")
        pacsv.write_csv(table, f, write_options=pacsv.WriteOptions(include_header=False, quoting_style="none"))
    return path


def _text_values(column):
    """The text a column writes (a dictionary column: its dictionary), or None if not text."""
    import pyarrow as pa

    kind = column.type
    if pa.types.is_dictionary(kind) and (pa.types.is_string(kind.value_type) or pa.types.is_large_string(kind.value_type)):
        return pa.concat_arrays([chunk.dictionary for chunk in column.chunks]) if column.num_chunks else \
            pa.array([], type=pa.string())
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return column
    return None


def _csv_field(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(ch in text for ch in ',"\n\r') else text
