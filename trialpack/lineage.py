"""Lineage files (DESIGN principle 6): every SDTM record to its raw file and row, every ADaM
record to its SDTM (or ADaM) source records. Kept beside the datasets, not as extra columns
in them.

``lineage/sdtm-raw.csv``   STUDYID, DATASET, USUBJID, SEQ, RAWFILE, RAWROW
``lineage/adam-sdtm.csv``  DATASET, STUDYID, USUBJID, KEY (the ADaM record: AESEQ, or
                           TRTA/PARAMCD), SOURCE (dataset), SOURCESEQ (its --SEQ/AESEQ)
``lineage/raw-reconciliation.csv``  per raw file: STUDYID, DOMAIN, RAWFILE, ROWS_READ,
                           ROWS_MAPPED, ROWS_REJECTED, BLANK_ROWS, BALANCED (rows read =
                           mapped + rejected), UNMAPPED_COLUMNS (the raw columns no field
                           of the study config maps, "; "-separated); the validation
                           report shows it as a sheet
The report adds ``report/lineage/table-cells.parquet`` (each table cell -> the ADaM rows it
counts; Parquet because it has millions of records at scale).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from specs.columns import factorize_parts, ranks_of
from trialpack import layout

SDTM_RAW = "sdtm-raw.csv"
ADAM_SDTM = "adam-sdtm.csv"
RAW_RECONCILIATION = "raw-reconciliation.csv"
SDTM_RAW_COLUMNS = ["STUDYID", "DATASET", "USUBJID", "SEQ", "RAWFILE", "RAWROW"]
RECONCILIATION_COLUMNS = ["STUDYID", "DOMAIN", "RAWFILE", "ROWS_READ", "ROWS_MAPPED", "ROWS_REJECTED", "BLANK_ROWS",
                          "BALANCED", "UNMAPPED_COLUMNS"]


def sdtm_raw(studies) -> list[pd.DataFrame]:
    """The SDTM -> raw lineage, one frame per study (in config order: written one after the
    other, never concatenated — millions of records at scale)."""
    out = []
    for s in studies:
        lin = s.lineage
        if not len(lin):
            continue
        out.append(pd.DataFrame({
            "STUDYID": _constant(s.studyid, len(lin)),
            "DATASET": lin["dataset"], "USUBJID": lin["USUBJID"],
            "SEQ": lin["seq"].astype("Int64"),   # --SEQ is an integer; DM records have none
            "RAWFILE": lin["file"], "RAWROW": lin["row"]}))
    return out or [pd.DataFrame(columns=SDTM_RAW_COLUMNS)]


def adam_sdtm(analysis) -> pd.DataFrame:
    """The ADaM -> SDTM lineage, sorted by DATASET, STUDYID, USUBJID, KEY, SOURCESEQ; built from
    one part per ADaM dataset whose text is never concatenated (:func:`sorted_by`)."""
    adae = analysis.datasets["ADAE"]
    seq_codes, seqs = pd.factorize(adae["AESEQ"].astype("Int64"))   # KEY is AESEQ as text: one string per number
    parts = [_part("ADAE", adae, pd.Categorical.from_codes(seq_codes, categories=[str(v) for v in seqs]), "AE",
                   "AESEQ")]
    tte = analysis.datasets["ADAETTE"]
    ev = tte[tte["SRCSEQ"].notna()] if "SRCSEQ" in tte else tte.iloc[0:0].assign(SRCSEQ=None)
    parts.append(_part("ADAETTE", ev, (ev["TRTA"] + "/" + ev["PARAMCD"]).array, "ADAE", "SRCSEQ"))
    rec = analysis.records
    if rec is not None and len(rec):
        pools = {p: g.label for g in analysis.iss.groups for p in g.pools}
        rows = rec.dropna(subset=["GROUP"])
        pooled = rows[rows["GROUP"].isin(pools)].assign(GROUP=lambda d: d["GROUP"].map(pools))
        parts += [_part("ADEX", part, part["GROUP"].array, "EX", "EXSEQ") for part in (rows, pooled)]
    return sorted_by(parts, ["DATASET", "STUDYID", "USUBJID", "KEY", "SOURCESEQ"])


def _part(dataset: str, frame: pd.DataFrame, key, source: str, seq: str) -> pd.DataFrame:
    """The records of one ADaM dataset (or pool) in the layout of ``adam-sdtm.csv``."""
    return pd.DataFrame({"DATASET": _constant(dataset, len(frame)), "STUDYID": frame["STUDYID"].array,
                         "USUBJID": frame["USUBJID"].array, "KEY": key, "SOURCE": _constant(source, len(frame)),
                         "SOURCESEQ": frame[seq].astype("Int64").array})


def _constant(text: str, n: int) -> pd.Categorical:
    """``text`` on each of ``n`` records, as a category (one string, not ``n``)."""
    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[text])


def sorted_by(frames: pd.DataFrame | list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    """The frames stacked and sorted by ``columns`` (text by code point, numbers by value,
    missing last; ties in their order), as ``pd.concat(frames).sort_values(columns,
    kind="mergesort")`` sorts them, with the text columns as categories: each part's text is
    encoded once (:func:`specs.columns.factorize_parts`) and integer codes are sorted and
    gathered, never millions of strings."""
    parts = [frames] if isinstance(frames, pd.DataFrame) else list(frames)
    encoded, keys = {}, {}
    for column in parts[0].columns:
        pieces = [part[column] for part in parts]
        if all(pd.api.types.is_numeric_dtype(piece) for piece in pieces):
            values = pd.concat(pieces, ignore_index=True) if len(pieces) > 1 else pieces[0]
            encoded[column] = values.to_numpy()
            keys[column] = values.astype("float64").fillna(np.inf).to_numpy()
            continue
        codes, uniques = factorize_parts(pieces)
        encoded[column], keys[column] = (codes, uniques), ranks_of(codes, uniques)
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
    """All three lineage files (:func:`write_sdtm_lineage` and :func:`write_adam_lineage`)."""
    return write_sdtm_lineage(root, studies) + write_adam_lineage(root, analysis)


def write_sdtm_lineage(root: Path, studies) -> list[Path]:
    """``sdtm-raw.csv`` and ``raw-reconciliation.csv``: they need the mapped studies only, so
    the build writes them on the core the ADaM derivation leaves free."""
    folder = layout.lineage_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    return [write_csv(sdtm_raw(studies), folder / SDTM_RAW),
            write_csv(raw_reconciliation(studies), folder / RAW_RECONCILIATION)]


def write_adam_lineage(root: Path, analysis) -> list[Path]:
    """``adam-sdtm.csv``."""
    folder = layout.lineage_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    return [write_csv(adam_sdtm(analysis), folder / ADAM_SDTM)]


def write_csv(frame: pd.DataFrame | list[pd.DataFrame], path: Path) -> Path:
    """``frame`` (or frames with the same columns, one after the other) as CSV (header row,
    ``\\n`` line ends, missing values empty), the bytes pandas' ``to_csv`` writes for them
    stacked. When no text holds a comma, quote or line end (lineage keys and file names, as a
    rule) Arrow's CSV writer writes it unquoted: millions of records in a fraction of a
    second, part by part; otherwise pandas quotes what needs it."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    frames = [frame] if isinstance(frame, pd.DataFrame) else list(frame)
    tables = [pa.Table.from_pandas(f, preserve_index=False) for f in frames]
    columns = [str(c) for c in frames[0].columns]
    if not (all(_arrow_writes_as_pandas(t) for t in tables) and all(_csv_field(c) == c for c in columns)):
        stacked = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        stacked.to_csv(path, index=False, lineterminator="\n")
        return path
    with open(path, "wb") as f:
        f.write(",".join(columns).encode("utf-8") + b"\n")
        for table in tables:
            pacsv.write_csv(table, f, write_options=pacsv.WriteOptions(include_header=False, quoting_style="none"))
    return path


def _arrow_writes_as_pandas(table) -> bool:
    """True when Arrow's unquoted CSV of ``table`` equals pandas' ``to_csv``: no text needs
    quoting and every other column is integer."""
    import pyarrow as pa
    import pyarrow.compute as pc

    texts = [_text_values(table.column(i)) for i in range(table.num_columns)]
    plain = all(text is None or not pc.any(pc.match_substring_regex(text, '[,"\r\n]')).as_py() for text in texts)
    return plain and all(text is not None or pa.types.is_integer(f.type) for text, f in zip(texts, table.schema))


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
