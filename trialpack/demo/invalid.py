"""The invalid raw records the demo plants for the mappers to reject (never counted in any total).

Each is an extra row placed right after the row it was copied from, in one phase 3 study (the
j-th kind goes to the (j mod n)-th phase 3 study), so rejecting it leaves every total unchanged.
The demo plants only what trialpack rejects without loss — exact duplicates of demographics
rows, a warning each — so that it builds with no error finding; a record whose loss would change
a safety count is never rejected but kept with an error finding (see ``sdtm.common``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from . import design as d


@dataclass(frozen=True)
class InvalidRecord:
    studyid: str
    domain: str
    kind: str
    reason: str  # why a mapper must reject it


#: One exact duplicate demographics row in each of the (default four) phase 3 studies.
KINDS = (("DM", "duplicate", "exact duplicate of the DM record before it (an export written twice: nothing lost)"),) * 4


def invalid_records(studies: int = d.DEFAULT_STUDIES) -> tuple[InvalidRecord, ...]:
    """Where the invalid records of a programme of ``studies`` studies are."""
    plans = d.plan_studies(d.MIN_PARTICIPANTS * studies, studies)
    phase3 = [p.studyid for p in plans if p.phase == 3]
    return tuple(InvalidRecord(phase3[j % len(phase3)], domain, kind, reason)
                 for j, (domain, kind, reason) in enumerate(KINDS))


def plant(tables: dict[str, pa.Table], records: list[InvalidRecord], *, style: dict, participant_rows: np.ndarray,
          seq_width: int, rng: np.random.Generator) -> dict[str, pa.Table]:
    """Add this study's invalid records to its raw tables (columns named by CDASH-like field)."""
    tables = dict(tables)
    for record in records:
        table = tables[record.domain]
        if record.kind != "duplicate":  # pragma: no cover
            raise ValueError(record.kind)
        row = int(rng.choice(participant_rows))
        tables["DM"] = _insert_after(table, row, table.slice(row, 1))
    return tables


def _insert_after(table: pa.Table, row: int, extra: pa.Table) -> pa.Table:
    return pa.concat_tables([table.slice(0, row + 1), extra, table.slice(row + 1)]).combine_chunks()
