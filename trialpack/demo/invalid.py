"""The invalid raw records the demo plants for the mappers to reject (never counted in any total).

Each is an extra row placed right after the row it was copied from, in one phase 3 study (the
j-th kind goes to the (j mod n)-th phase 3 study), so rejecting it leaves every total unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from . import design as d
from .render import date_only_formats, format_tokens

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
IMPOSSIBLE_DATE = (2022, 2, 30)  # 30 February 2022
UNKNOWN_SUBJECT_SEQ = 0  # subject numbers start at 1, so "<site>-000" is in no DM


@dataclass(frozen=True)
class InvalidRecord:
    studyid: str
    domain: str
    kind: str
    reason: str  # why a mapper must reject it


KINDS = (
    ("DM", "duplicate", "exact duplicate of the DM record before it"),
    ("AE", "unknown-subject", "SUBJID is not in the study's DM (a test subject numbered 000)"),
    ("AE", "empty-term", "AETERM (reported term) is empty"),
    ("EX", "negative-dose", "EXDOSE is negative (grams applied cannot be below 0)"),
    ("EX", "impossible-date", "EXSTDAT is 30 February 2022, not a calendar date"),
)


def invalid_records(studies: int = d.DEFAULT_STUDIES) -> tuple[InvalidRecord, ...]:
    """Where the invalid records of a programme of ``studies`` studies are."""
    plans = d.plan_studies(d.MIN_PARTICIPANTS * studies, studies)
    phase3 = [p.studyid for p in plans if p.phase == 3]
    return tuple(InvalidRecord(phase3[j % len(phase3)], domain, kind, reason)
                 for j, (domain, kind, reason) in enumerate(KINDS))


def format_date(fmt: str, year: int, month: int, day: int, *, month_case: str = "upper") -> str:
    """Write a (possibly impossible) date in a raw date format, without calendar checks."""
    mon = _MONTHS[month - 1] if month_case == "upper" else _MONTHS[month - 1].title()
    values = {"YYYY": f"{year:04d}", "MM": f"{month:02d}", "DD": f"{day:02d}", "MON": mon}
    return "".join(values[text] if is_token else text for is_token, text in format_tokens(fmt))


def plant(tables: dict[str, pa.Table], records: list[InvalidRecord], *, style: dict, participant_rows: np.ndarray,
          seq_width: int, rng: np.random.Generator) -> dict[str, pa.Table]:
    """Add this study's invalid records to its raw tables (columns named by CDASH-like field)."""
    tables = dict(tables)
    for record in records:
        table = tables[record.domain]
        if table.num_rows == 0:
            continue  # no AE rows at all (ae_per_subject=0): nothing to copy
        if record.kind == "duplicate":
            row = int(rng.choice(participant_rows))
            tables["DM"] = _insert_after(table, row, table.slice(row, 1))
        elif record.kind == "unknown-subject":
            row = int(rng.integers(table.num_rows))
            subjid = table.column("SUBJID")[row].as_py()
            fake = subjid[:-seq_width] + f"{UNKNOWN_SUBJECT_SEQ:0{seq_width}d}"
            tables["AE"] = _insert_after(table, row, _with(table.slice(row, 1), "SUBJID", fake))
        elif record.kind == "empty-term":
            row = _last_row_of_random_subject(table, rng)
            copy = _with(table.slice(row, 1), "AETERM", None)
            copy = _with(copy, "AESPID", str(int(table.column("AESPID")[row].as_py()) + 1))
            tables["AE"] = _insert_after(table, row, copy)
        elif record.kind == "negative-dose":
            row = int(rng.integers(table.num_rows))
            dose = table.column("EXDOSE")[row].as_py()
            tables["EX"] = _insert_after(table, row, _with(table.slice(row, 1), "EXDOSE", f"-{dose}"))
        elif record.kind == "impossible-date":
            row = int(rng.integers(table.num_rows))
            text = format_date(date_only_formats(style)[0], *IMPOSSIBLE_DATE,
                               month_case=style.get("month_case", "upper"))
            tables["EX"] = _insert_after(table, row, _with(table.slice(row, 1), "EXSTDAT", text))
        else:  # pragma: no cover
            raise ValueError(record.kind)
    return tables


def _last_row_of_random_subject(table: pa.Table, rng) -> int:
    subjects = np.asarray(table.column("SUBJID").to_numpy(zero_copy_only=False))
    last = np.r_[np.flatnonzero(subjects[1:] != subjects[:-1]), len(subjects) - 1]
    return int(rng.choice(last))


def _with(row: pa.Table, name: str, value: str | None) -> pa.Table:
    return row.set_column(row.schema.get_field_index(name), name, pa.array([value], type=pa.string()))


def _insert_after(table: pa.Table, row: int, extra: pa.Table) -> pa.Table:
    return pa.concat_tables([table.slice(0, row + 1), extra, table.slice(row + 1)]).combine_chunks()
