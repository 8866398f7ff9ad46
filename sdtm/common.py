"""Derivations shared by the SDTM domain mappers: controlled values, --SEQ, raw dates,
record rejection and the bookkeeping that accounts for every raw record.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa

from fileformats.rawio import RAW_FILE, RAW_ROW
from specs import findings
from specs.columns import TEXT_DTYPE, utf8_bytes

REJECTION_COLUMNS = ["domain", "file", "row", "column", "value", "reason", "rule"]


def text(values, index: pd.Index | None = None) -> pd.Series:
    """A Series in pandas' default text dtype (``str`` on pandas 3, ``object`` before);
    a scalar (or None) is repeated over ``index``; nulls stay null."""
    if index is not None and (values is None or np.isscalar(values)):
        values = [values] * len(index)
    if isinstance(values, pd.Series):
        values = values.to_numpy(dtype=object)
    out = pd.Series(values, dtype=object)
    out = out.where(out.notna(), None).astype(TEXT_DTYPE)
    return out if index is None else out.set_axis(index)


def _normalise(value) -> str:
    return " ".join(str(value).split()).upper()


def map_values(values: pd.Series, mapping: dict[str, str | None] | None = None,
               allowed: Iterable[str] | None = None) -> pd.Series:
    """Raw coded values to standard values.

    In order: a value found in ``mapping`` (keys compared trimmed, case-insensitive, runs of
    spaces as one) takes the mapped value (a mapping to null makes it null); a value equal to
    an ``allowed`` value in any case takes that value's spelling; any other value is kept
    trimmed and upper-cased, so the codelist check reports it rather than it being guessed.
    Coded data have few distinct values: each distinct value is looked up once.
    """
    canon = {str(v).upper(): v for v in allowed} if allowed is not None else {}
    keys = {_normalise(k): v for k, v in (mapping or {}).items()}
    codes, distinct = pd.factorize(values)
    looked_up = []
    for value in distinct:
        norm = _normalise(value)
        looked_up.append(keys[norm] if norm in keys else canon.get(norm, norm))
    out = np.array([*looked_up, None], dtype=object)[codes]  # code -1 (null) -> the trailing None
    return text(out, values.index)


def derive_seq(df: pd.DataFrame, sort_by: list[str], *, by: str = "USUBJID") -> pd.Series:
    """--SEQ: 1..n within ``by`` after a stable sort on ``sort_by`` (SDTMIG §4.1.4: unique
    within subject and domain; deterministic, so reruns give the same numbers)."""
    order = df.sort_values([by, *sort_by], kind="mergesort", na_position="last").index
    seq = pd.Series(np.zeros(len(df), dtype="float64"), index=df.index)
    seq.loc[order] = df.loc[order].groupby(by, sort=False).cumcount().to_numpy() + 1.0
    return seq


@dataclass
class Ledger:
    """Rejected raw records and mapping findings of one study, as they accumulate."""

    rejected: list[pd.DataFrame] = field(default_factory=list)
    found: list[pd.DataFrame] = field(default_factory=list)

    def reject(self, frame: pd.DataFrame, mask: pd.Series, *, domain: str, column: str | None,
               reason: str | pd.Series, values: pd.Series | None = None, rule: str = "TP0101") -> pd.DataFrame:
        """Move the rows of ``frame`` where ``mask`` holds into the rejection list; return the rest.

        Rejection is for a record that cannot be placed in any dataset (it names no subject:
        TP0101, an error) or repeats an earlier row exactly (TP0116, a warning: nothing is lost);
        a record with a bad value is kept with the value null and an error finding instead."""
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return frame
        bad = frame[mask]
        shown = values[mask] if values is not None else (bad[column] if column in bad else None)
        reasons = reason[mask].to_numpy() if isinstance(reason, pd.Series) else reason
        self.rejected.append(pd.DataFrame({
            "domain": domain, "file": bad[RAW_FILE].to_numpy(), "row": bad[RAW_ROW].to_numpy(),
            "column": column, "value": None if shown is None else shown.astype(object).to_numpy(),
            "reason": reasons, "rule": rule,
        }, columns=REJECTION_COLUMNS))
        return frame[~mask]

    def note(self, rule: str, frame: pd.DataFrame, mask: pd.Series, *, dataset: str, variable: str,
             values: pd.Series, message: str, severity: str | None = None) -> None:
        """A mapping finding on raw rows (kept records): row is the raw file row."""
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        f = findings.make(rule, dataset, variable, rows=frame.loc[mask, RAW_ROW].to_numpy(),
                          values=values[mask], message=message, severity=severity,
                          file=frame.loc[mask, RAW_FILE].to_numpy())
        self.found.append(f)

    def rejections(self) -> pd.DataFrame:
        if not self.rejected:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in REJECTION_COLUMNS})
        out = pd.concat(self.rejected, ignore_index=True)
        out["row"] = out["row"].astype("int64")
        return out.sort_values(["file", "row"], kind="mergesort").reset_index(drop=True)

    def findings(self) -> pd.DataFrame:
        return findings.concat(self.found)


#: Why a number is refused although it is one: SAS XPORT stores IBM doubles.
UNSTORABLE = "outside the range a SAS XPORT number holds (5.4e-79 <= |x| < 7.2e75)"


def to_numbers(column: pd.Series) -> pd.Series:
    """``pd.to_numeric(column, errors="coerce")``, the same values and dtype, converted once per
    distinct value: coded columns (MedDRA codes, doses) hold a few hundred distinct texts in
    hundreds of thousands of rows."""
    codes, distinct = pd.factorize(column)
    converted = pd.to_numeric(pd.Series(distinct, dtype=column.dtype), errors="coerce")
    return pd.Series(pd.api.extensions.take(converted.array, codes, allow_fill=True), index=column.index,
                     name=column.name)


def numbers(raw: pd.DataFrame, fld: str, ledger: "Ledger", dataset: str) -> pd.Series:
    """A collected number; text that is not one, or a number no SAS XPORT file can hold
    (1e300, infinity), becomes null with a TP0109 finding on its raw row (the record is kept)."""
    from fileformats.xpt._ibm import out_of_range

    value = to_numbers(raw[fld])
    unstorable = pd.Series(out_of_range(value.to_numpy(dtype="float64", na_value=np.nan)), index=raw.index)
    ledger.note("TP0109", raw, value.isna() & raw[fld].notna(), dataset=dataset, variable=fld, values=raw[fld],
                message=f"{fld} is not a number; left null")
    ledger.note("TP0109", raw, unstorable, dataset=dataset, variable=fld, values=raw[fld],
                message=f"{fld} is {UNSTORABLE}; left null")
    return value.mask(unstorable)


def raw_dates(frame: pd.DataFrame, fld: str, config, *, ledger: Ledger, dataset: str, variable: str) -> pd.Series:
    """Raw date field ``fld`` as ISO 8601 ``variable`` values (aligned to ``frame``), read with the
    study config's ``raw.date_formats``, ``unknown_date_tokens`` and ``year_cutoff``.

    One rule in every domain: a value that is not a valid date (``30 FEB 2022``, ``2021-13-01``)
    is never guessed and never drops its record — the record is kept with the ISO value null and
    an error finding (TP0102) names the raw file, row, field and the raw text."""
    from sdtm.dates import DEFAULT_UNKNOWN_TOKENS, parse_raw_dates

    if fld not in frame:
        return text([None] * len(frame), frame.index)
    if fld in frame.attrs.get("iso_fields", ()):   # made ISO 8601 by a date + time mapping (sdtm.variables)
        return text(frame[fld], frame.index)
    tokens = DEFAULT_UNKNOWN_TOKENS if config.unknown_date_tokens is None else tuple(config.unknown_date_tokens)
    iso, problems = parse_raw_dates(frame[fld], config.date_formats, unknown_tokens=tokens,
                                    yearcutoff=config.get("raw", {}).get("year_cutoff"))
    if len(problems):
        bad = pd.Series(frame.index.isin(problems["row"]), index=frame.index)
        ledger.note("TP0102", frame, bad, dataset=dataset, variable=variable, values=frame[fld],
                    message=f"{fld} is not a valid date; the record is kept with {variable} null")
    return iso


def empty_required(frame: pd.DataFrame, fld: str, ledger: Ledger, dataset: str, why: str) -> None:
    """An error finding (TP0114) on each kept record whose ``fld`` is empty although the record
    needs it (``why``): the record stays, so that nothing it counts in is lost."""
    ledger.note("TP0114", frame, frame[fld].isna(), dataset=dataset, variable=fld, values=frame[fld],
                message=f"{fld} is empty ({why}); the record is kept with {fld} null")


def reconcile(tables: dict[str, "object"], mapped: dict[str, pd.DataFrame], rejections: pd.DataFrame) -> pd.DataFrame:
    """Per raw file: rows read = rows mapped + rows rejected (blank rows listed apart).

    ``tables`` maps domain -> RawTable; ``mapped`` maps domain -> frame of the kept raw rows
    (with ``_RAWFILE``/``_RAWROW``); only the rows of the domain's own file count.
    """
    rows = []
    for domain, table in tables.items():
        kept = mapped.get(domain)   # a domain's records may come from another file too (DS milestones: DM)
        n_mapped = 0 if kept is None else int(kept.loc[kept[RAW_FILE] == table.name, RAW_ROW].nunique())
        n_rejected = int(((rejections["file"] == table.name) & (rejections["domain"] == domain)).sum())
        rows.append({"domain": domain, "file": table.name, "rows_read": table.rows, "rows_mapped": n_mapped,
                     "rows_rejected": n_rejected, "blank_rows": table.blank_rows,
                     "balanced": table.rows == n_mapped + n_rejected,
                     "unmapped_columns": "; ".join(table.unmapped)})
    return pd.DataFrame(rows)


def unmapped_findings(tables: dict[str, "object"]) -> pd.DataFrame:
    """A notice (TP0112) per raw file with columns no field of the study config maps: they are
    not read, which may be intended (an export's audit columns) or a field the config forgot."""
    return findings.concat(
        findings.make("TP0112", domain, None, values=["; ".join(table.unmapped)], file=table.name,
                      message=f"{len(table.unmapped)} raw column(s) not mapped by the study config (not read): "
                              + "; ".join(table.unmapped))
        for domain, table in tables.items() if table.unmapped)


def reconciliation_findings(reconciliation: pd.DataFrame) -> pd.DataFrame:
    """An error (TP0110) for each raw file whose rows read differ from rows mapped + rows
    rejected: records were lost or counted twice, which DESIGN principle 3 forbids."""
    bad = reconciliation[~reconciliation["balanced"].astype(bool)] if len(reconciliation) else reconciliation
    return findings.concat(  # one finding per raw file (a handful), each about the whole file
        findings.make("TP0110", rec["domain"], None, values=[rec["rows_read"]], file=rec["file"],
                      message=f"{rec['rows_read']} rows read but {rec['rows_mapped']} mapped + "
                              f"{rec['rows_rejected']} rejected = {rec['rows_mapped'] + rec['rows_rejected']}: "
                              "the difference is in no dataset and no rejection")
        for rec in bad.to_dict(orient="records"))




def printable_ascii_bytes(values: pd.Series) -> bool:
    """True when every byte of a text column's data is printable ASCII (0x20-0x7E), judged in
    one pass over its Arrow data buffers; False when some byte is not, or when the column is not
    held as Arrow text (the caller then looks value by value). Bytes under a null slot count
    too, so False may be a false alarm, never True a miss."""
    try:
        arr = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return False
    for chunk in arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]:
        if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
            return False
        used = utf8_bytes(chunk)
        if ((used < 0x20) | (used > 0x7E)).any():
            return False
    return True


def refuse_rows(raw: pd.DataFrame, bad: pd.Series, fld: str, why) -> None:
    """Raise one error listing every raw row where ``bad`` holds (file, row, the raw column of
    ``fld``, the value and ``why``, a text or one per row)."""
    from specs.errors import InputError, InputErrors

    rows = np.flatnonzero(bad.to_numpy())
    why = np.broadcast_to(np.asarray(why, dtype=object), (len(raw),))
    column = raw.attrs.get("headers", {}).get(fld, fld)
    raise InputErrors.of([InputError(f"{raw[fld].iloc[i]!r}: {why[i]}" if pd.notna(raw[fld].iloc[i]) else str(why[i]),
                                     file=raw[RAW_FILE].iloc[i], row=int(raw[RAW_ROW].iloc[i]), column=column)
                          for i in rows])
