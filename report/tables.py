"""ISS table frames: exposure, TEAE overview, TEAEs by SOC/PT, serious TEAEs, EAIR of events of interest.

Each table is a :class:`Table`: its display columns, its rows, a tidy frame of cells (one
record per displayed cell: row id and label, column, group, statistic, number, formatted
text), its footnotes (the definitions belong in the table) and its lineage (one record per
cell x ADaM record the cell counts: the record's dataset and row), so every number traces to
the ADaM rows behind it (DESIGN.md principle 6; Tplyr-style cell metadata). Lineage is kept
as row numbers (integers, cells as categories: 20 million records at 100,000 subjects) and
resolved to the records' keys only where it is written (:func:`lineage_table`).

Counting rules (standards.md §7.3, §5), the same in every table:

* Groups are the ISS config's groups, in the order of their numbers. A record counts in its
  group (TRTA) and in each pooled group it belongs to (ADaMIG 1.3 TRTAGy: :func:`in_groups`;
  a pooled group is never a record of its own). A subject is in a group's population (N) when
  in the safety population (ADSL.SAFFL = "Y") and exposed in the group (an ADEX record of it);
  a subject's exposure to a group is the sum over its ADEX records (treatment pieces) of it.
* An ADAE record counts in group G when its TRTA (the group of treatment at onset) is G,
  or its TRTAGy is G when G is a pooled group. Incidence rows count each subject once
  per row and group (n); percentages are 100 x n / N.
* The *all-active reference* orders SOC/PT rows by descending frequency: the config group
  whose ``pools`` are exactly the non-control non-pooled groups (e.g. "All cream"); when
  no group pools them, the union of the non-control non-pooled groups.
* Rates come from :mod:`report.rates` on ADAETTE (time to first event; a subject's records
  of a group, one per treatment piece, accumulated up to the first event:
  :func:`report.rates.time_to_first_event`): EAIR per
  ``rates.per`` patient-years with the config's CI method, and the study-stratified
  Mantel-Haenszel rate difference versus the control (:func:`report.rates.compare_rates`).

Every function is pure (ADaM frames and the ISS config in, frames out); records are
counted with vectorised merges and group-bys, never row loops.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from adam.adae import event_terms_text, matches_event
from adam.config import Group, ISSConfig
from adam.queries import aesi_value, aesi_variable
from adam.units import DAYS_PER_YEAR
from report.rates import CI_METHODS, compare_rates, counted_to_first_event, eair, time_to_first_event
from specs.columns import factorize_parts, index_in, is_in, ranks_of
from specs.errors import InputError

POOLED = re.compile(r"^TRTAG\d+$")
"""The record-level pooled actual treatments (ADaMIG 1.3 TRTAGy)."""
DURATION_DAYS = "TRTDURD"
"""ADEX parameter: duration of exposure in days (one record per subject x treatment piece)."""
DURATION_YEARS = "TRTDURY"
"""ADEX parameter: duration of exposure in years."""
DURATION_THRESHOLDS = ((1, "\u2265 1 day"), (28, "\u2265 4 weeks"), (84, "\u2265 12 weeks"),
                       (168, "\u2265 24 weeks"), (364, "\u2265 52 weeks"))
"""Cumulative exposure categories of the exposure table (ICH E1: 6 months, 1 year), in days."""

NE = "NE"
"""Text of a statistic that is not estimable (no subjects, no person-time, n = 1 for an SD)."""
NA = "NA"
"""Text of a row whose ADaM variable is absent (not collected)."""

CELL_COLUMNS = ["table", "row", "row_id", "row_label", "indent", "column", "group", "stat", "value", "lower",
                "upper", "denominator", "text"]
LINEAGE_COLUMNS = ["table", "row_id", "column", "dataset", "STUDYID", "USUBJID", "TRTA", "PARAMCD", "AESEQ"]
"""The lineage file's columns: the cell (table, row, column) and the ADaM record's keys."""
LINEAGE_REFERENCES = ["row_id", "column", "dataset", "record"]
"""A table's lineage in memory: the cell's row and column, the ADaM dataset and the record's
position in it (0-based; categories for the text)."""
LINEAGE_KEYS = ["STUDYID", "USUBJID", "TRTA", "PARAMCD", "AESEQ"]
"""The record keys the lineage file gives (null where the dataset has no such variable)."""
RECORD = "_REC"
"""Context column: each record's position in its ADaM dataset (what lineage refers to)."""
SUBJECT = "_SUBJ"
"""Context column: the subject's position in ADSL (what subject counts count)."""
HEADER_ROW = "header"
"""row_id of the lineage records behind the column headers' N (the ADEX records)."""

_SORT = "\x00all-active"  # membership key of the all-active reference when it is not a config group


# --------------------------------------------------------------------------------------
# the table object
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    """A display column: ``key`` in the cells' ``column``, ``header`` text, the ISS group
    it counts (None for statistics columns of the EAIR table) and an optional ``span``
    header shown above it."""

    key: str
    header: str
    group: str | None = None
    span: str | None = None


@dataclass
class Table:
    """One ISS table: rows, display columns, tidy cells, footnotes and lineage."""

    name: str
    number: int
    title: str
    population: str
    stub_header: str
    columns: list[Column]
    rows: pd.DataFrame
    cells: pd.DataFrame
    footnotes: list[str]
    lineage: pd.DataFrame
    notes: dict = field(default_factory=dict)
    sources: dict = field(default_factory=dict, repr=False)  # ADaM name -> frame the lineage's records index
    _grid: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    kind: str = "Table"           # or "Listing" (numbered apart: report.listings)

    @property
    def caption(self) -> str:
        return f"{self.kind} {self.number}. {self.title}"

    def grid(self) -> pd.DataFrame:
        """The table as shown: one record per row (``row_id``, ``row_label``, ``indent``,
        ``is_header``) with one text column per display column key (blank on header rows).
        Made once per table (RTF, XLSX and HTML each lay it out; do not modify it)."""
        if self._grid is None:
            self._grid = self._make_grid()
        return self._grid

    def _make_grid(self) -> pd.DataFrame:
        wide = self.cells.pivot(index="row_id", columns="column", values="text") if len(self.cells) else \
            pd.DataFrame(index=pd.Index([], name="row_id"))
        keys = [c.key for c in self.columns]
        wide = wide.reindex(columns=keys)
        out = self.rows.merge(wide, left_on="row_id", right_index=True, how="left")
        out[keys] = out[keys].astype(object).where(out[keys].notna(), "")
        return out.sort_values("row", kind="mergesort").reset_index(drop=True)

    def lineage_records(self) -> pd.DataFrame:
        """This table's lineage with each record's keys (:data:`LINEAGE_COLUMNS`), as in the
        package's lineage file."""
        return lineage_frame({self.name: self})

    def value(self, row_id: str, column: str, stat: str | None = None) -> float:
        """The number in one cell (a convenience for tests and the summary)."""
        hit = self.cells[(self.cells["row_id"] == row_id) & (self.cells["column"] == column)]
        if stat is not None:
            hit = hit[hit["stat"] == stat]
        if len(hit) != 1:
            raise KeyError(f"{self.name}: no single cell at row {row_id!r}, column {column!r}")
        return float(hit["value"].iloc[0])


# --------------------------------------------------------------------------------------
# formatting (half-up rounding of what is shown, as SAS and regulatory tables round)
# --------------------------------------------------------------------------------------
def round_half_up(value: float, digits: int) -> str:
    """``value`` rounded half away from zero to ``digits`` decimals, as text; NaN -> NE."""
    if value is None or not np.isfinite(value):
        return NE
    quantum = Decimal(1).scaleb(-digits)
    text = str(Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP))
    return text[1:] if text.startswith("-") and not any(ch in "123456789" for ch in text) else text


def format_n_pct(n, N) -> list[str]:
    """"n (x.x)" per cell; "0" for no subjects; "<0.1"/">99.9" where rounding would show 0.0
    or 100.0 for a count that is not 0 or N."""
    out = []
    for k, d in zip(np.asarray(n, dtype=float), np.asarray(N, dtype=float)):
        if not np.isfinite(k):
            out.append(NA)
        elif k == 0 or d == 0:
            out.append(f"{int(k)}")
        else:
            pct = round_half_up(100.0 * k / d, 1)
            if pct == "0.0":
                pct = "<0.1"
            elif pct == "100.0" and k < d:
                pct = ">99.9"
            out.append(f"{int(k)} ({pct})")
    return out


def format_estimate_ci(estimate, lower, upper, digits: int = 2) -> list[str]:
    """"x.xx (x.xx, x.xx)"; NE where the estimate is undefined, "(NE, NE)" where only the
    interval is."""
    out = []
    for e, lo, hi in zip(np.asarray(estimate, dtype=float), np.asarray(lower, dtype=float),
                         np.asarray(upper, dtype=float)):
        if not np.isfinite(e):
            out.append(NE)
        else:
            out.append(f"{round_half_up(e, digits)} ({round_half_up(lo, digits)}, {round_half_up(hi, digits)})")
    return out


def format_numbers(values, digits: int) -> list[str]:
    return [round_half_up(v, digits) for v in np.asarray(values, dtype=float)]


def confidence_text(conf_level: float) -> str:
    """0.95 -> "95" (for "95% CI")."""
    return f"{float(conf_level) * 100:g}"


# --------------------------------------------------------------------------------------
# groups, populations and the counting context
# --------------------------------------------------------------------------------------
def ordered_groups(iss: ISSConfig) -> list[Group]:
    """The config's groups in the order of their numbers (TRTAN)."""
    return sorted(iss.groups, key=lambda g: g.number)


def all_active_group(iss: ISSConfig) -> tuple[str, tuple[str, ...], bool]:
    """The all-active reference: ``(label, member groups, is a config group)``.

    1. the first pooled group (by number) whose ``pools`` are exactly the non-control
       non-pooled groups (every active treatment, no control) -> that group;
    2. otherwise the union of the non-control non-pooled groups, labelled by joining their
       labels with " + ".
    """
    controls = {g.label for g in iss.groups if g.control}
    active = tuple(g.label for g in ordered_groups(iss) if not g.pooled and g.label not in controls)
    for g in ordered_groups(iss):
        if g.pooled and set(g.pools) == set(active):
            return g.label, tuple(g.pools), True
    return " + ".join(active), active, False


@dataclass
class Context:
    """What every table needs, derived once from the analysis."""

    iss: ISSConfig
    datasets: dict               # the analysis' ADaM frames (what RECORD positions refer to)
    adsl: pd.DataFrame
    adae: pd.DataFrame
    adex: pd.DataFrame
    adaette: pd.DataFrame
    groups: list[Group]
    membership: pd.DataFrame      # TRTA (non-pooled) -> _GROUP (every group it counts in, + reference)
    reference: tuple[str, tuple[str, ...], bool]
    exposed: pd.DataFrame         # ADEX TRTDURD records of safety subjects, once per group they count in (TRTA)
    N: pd.Series                  # group label -> subjects exposed (safety population)
    teae: pd.DataFrame            # the treatment-emergent ADAE records (TRTEMFL = "Y")
    exposed_years: pd.DataFrame = None   # ADEX TRTDURY records, as ``exposed``
    tte_records: pd.DataFrame = None     # ADAETTE records counted to each group's first event (TRTA = group)
    pool: str | None = None              # the analysis pool counted (its id), None: every record
    computed: dict = field(default_factory=dict, repr=False)  # rates and comparisons, computed once

    @property
    def labels(self) -> list[str]:
        return [g.label for g in self.groups]

    @property
    def reference_key(self) -> str:
        return self.reference[0] if self.reference[2] else _SORT


def _require(frame: pd.DataFrame, columns, dataset: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{dataset} lacks variable(s) the ISS tables need: {', '.join(missing)}",
                         column=missing[0])


def context(analysis, *, pool: str | None = None) -> Context:
    """The counting context of an analysis (``.iss`` and ``.datasets`` ADSL, ADAE, ADEX, ADAETTE);
    with ``pool`` (an analysis pool's id), of the ADAE, ADEX and ADAETTE records in that pool
    (:func:`pool_records`): its participants, exposure, events and rates."""
    iss: ISSConfig = analysis.iss
    data = analysis.datasets
    for name in ("ADSL", "ADAE", "ADEX", "ADAETTE"):
        if name not in data:
            raise InputError(f"the ISS tables need ADaM {name}, which the analysis does not have")
    adsl, adae, adex, adaette = (data[n] for n in ("ADSL", "ADAE", "ADEX", "ADAETTE"))
    _require(adsl, ["STUDYID", "USUBJID", "SAFFL"], "ADSL")
    _require(adae, ["STUDYID", "USUBJID", "AESEQ", "TRTA", "TRTEMFL", "AEBODSYS", "AEDECOD"], "ADAE")
    _require(adex, ["STUDYID", "USUBJID", "TRTA", "PARAMCD", "AVAL"], "ADEX")
    _require(adaette, ["STUDYID", "USUBJID", "TRTA", "PARAMCD", "AVAL", "CNSR"], "ADAETTE")
    safety = adsl.loc[adsl["SAFFL"] == "Y", "USUBJID"]
    groups = ordered_groups(iss)
    labels = [g.label for g in groups]
    base_labels = {g.label for g in groups if not g.pooled}
    for name, frame in (("ADAE", adae), ("ADEX", adex), ("ADAETTE", adaette)):
        strays = sorted(set(map(str, frame.loc[_present(frame["TRTA"]), "TRTA"].unique())) - base_labels)
        if strays:
            raise InputError(f"{name} TRTA has value(s) that are not non-pooled ISS config groups: "
                             f"{', '.join(strays)}; a pooled group is a record's TRTAGy, never its TRTA",
                             column="TRTA")
    reference = all_active_group(iss)
    pooled = pooled_pairs(adae)
    unknown = sorted({g for _, g in pooled} - {g.label for g in groups if g.pooled})
    if unknown:
        raise InputError(f"ADAE TRTAGy has value(s) that are not pooled ISS config groups: {', '.join(unknown)}",
                         column=pooled_columns(adae)[0])
    pairs = [(label, label) for label in labels if label in base_labels] + pooled
    if not reference[2]:
        pairs += [(base, _SORT) for base in reference[1]]
    membership = pd.DataFrame(pairs, columns=["TRTA", "_GROUP"], dtype=object)
    adsl, adae, adex, adaette = (_numbered(frame) for frame in (adsl, adae, adex, adaette))
    if pool is not None:   # after numbering: RECORD stays the position in the whole dataset (lineage)
        adae, adex, adaette = (pool_records(frame, iss, pool, name)
                               for name, frame in (("ADAE", adae), ("ADEX", adex), ("ADAETTE", adaette)))
    adsl = adsl.assign(**{SUBJECT: adsl[RECORD]})
    adae = _counted_variables(adae)
    adae = adae.assign(**{SUBJECT: index_in(adae["USUBJID"], adsl["USUBJID"])})
    adae = _rows_where(adae, is_in(adae["USUBJID"], safety))
    adaette = _rows_where(adaette, is_in(adaette["USUBJID"], safety))
    durations = adex[(adex["PARAMCD"] == DURATION_DAYS).to_numpy(dtype=bool) & is_in(adex["USUBJID"], safety)]
    piece = [c for c in ("USUBJID", "APERIOD", "TRTA", "ASTDT") if c in durations]
    dup = durations.duplicated(piece)
    if dup.any():
        row = durations.loc[dup].iloc[0]
        raise InputError(f"ADEX has more than one {DURATION_DAYS} record for subject {row['USUBJID']} and "
                         f"treatment piece ({', '.join(piece[1:])}) in group {row['TRTA']!r}", column="PARAMCD")
    exposed = in_groups(durations)
    years = in_groups(adex[(adex["PARAMCD"] == DURATION_YEARS).to_numpy(dtype=bool) & is_in(adex["USUBJID"], safety)])
    N = exposed.groupby(exposed["TRTA"].astype(object))["USUBJID"].nunique().reindex(labels, fill_value=0)
    N = N.astype("int64").rename_axis("TRTA")
    teae = adae[(adae["TRTEMFL"] == "Y").fillna(False).to_numpy(dtype=bool)]
    pieces = in_groups(adaette)
    counted = pieces[counted_to_first_event(pieces, order=_tte_order(pieces))] if len(pieces) else pieces
    adaette = time_to_first_event(pieces, order=_tte_order(pieces)) if len(pieces) else adaette
    return Context(iss, data, adsl, adae, adex, adaette, groups, membership, reference, exposed, N, teae,
                   exposed_years=years, tte_records=counted, pool=pool)


def pool_records(frame: pd.DataFrame, iss: ISSConfig, pool: str, dataset: str) -> pd.DataFrame:
    """The records of analysis pool ``pool`` (its id in the ISS config's ``analysis_pools``): those
    whose pool record flag (ANLzzFL, adam.pools) is "Y" — selected, never derived again."""
    found = [p for p in iss.analysis_pools if p.id == pool]
    if not found:
        raise InputError(f"unknown analysis pool {pool!r} (pools: {', '.join(p.id for p in iss.analysis_pools) or 'none'})")
    flag = found[0].record_flag
    if flag not in frame:
        raise InputError(f"{dataset} lacks {flag}, the record flag of analysis pool {pool!r}", column=flag)
    return frame[(frame[flag] == "Y").to_numpy(dtype=bool)]


def pooled_columns(frame: pd.DataFrame) -> list[str]:
    """The record's pooled actual treatments present in ``frame`` (TRTAG1, TRTAG2, ...: ADaMIG 1.3
    BDS and OCCDS), in level order."""
    return sorted((c for c in frame.columns if POOLED.match(c)), key=lambda c: int(c[5:]))


def in_groups(records: pd.DataFrame, *, treatment: str = "TRTA") -> pd.DataFrame:
    """Each record once per group it counts in, ``treatment`` holding that group: its own group
    (TRTA), then each pooled group it belongs to (a non-null TRTAGy, :func:`pooled_columns`).
    A pooled group is never a record of its own: its records are its members' records."""
    columns = [treatment, *pooled_columns(records)]
    if len(columns) == 1:
        return records
    parts = []
    for column in columns:
        keep = _present(records[column])
        parts.append(records[keep].assign(**{treatment: records.loc[keep, column].astype(object)}))
    return pd.concat(parts).reset_index(drop=True) if parts else records


def pooled_pairs(adae: pd.DataFrame) -> list[tuple[str, str]]:
    """(TRTA, pooled group) for each pooled group a non-pooled group's ADAE records count in, read
    from the records' TRTAGy (:func:`pooled_columns`)."""
    pairs = []
    for column in pooled_columns(adae):
        found = adae.loc[_present(adae[column]) & _present(adae["TRTA"]), ["TRTA", column]]
        pairs += list(found.astype(object).drop_duplicates().itertuples(index=False, name=None))
    return pairs


def _present(values: pd.Series) -> np.ndarray:
    """Non-missing text: neither null nor empty (XPT stores a missing text as blanks)."""
    return (values.notna() & (values.astype(object) != "")).to_numpy(dtype=bool)


def _tte_order(records: pd.DataFrame) -> str:
    """The column that orders a subject's ADAETTE records in time: STARTDT (as day numbers)."""
    return "STARTDT" if "STARTDT" in records else "AVAL"


def subject_totals(records: pd.DataFrame) -> pd.DataFrame:
    """Per group (TRTA, as :func:`in_groups` gives it) and subject, the sum of AVAL over the
    subject's records (null when all are null): one treatment piece per record."""
    work = records[["TRTA", "USUBJID", "AVAL"]].astype({"TRTA": object, "USUBJID": object})
    return work.groupby(["TRTA", "USUBJID"], sort=False)["AVAL"].sum(min_count=1).reset_index()


def _rows_where(frame: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """``frame[keep]``, without copying when every row is kept (the safety population is
    usually every ADAE and ADAETTE subject)."""
    return frame if keep.all() else frame[keep]


def _numbered(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with :data:`RECORD`, each record's position in it."""
    return frame.assign(**{RECORD: np.arange(len(frame), dtype=np.int64)})


ADAE_COUNTED = ("STUDYID", "USUBJID", "AESEQ", "TRTA", "TRTEMFL", "AEBODSYS", "AEDECOD", "AESER", "AESEV", "AEACN",
                "AEOUT", "AESDTH", "AREL")
"""The ADAE variables the tables count by (with the CQzzNAM of the events of interest)."""


def _counted_variables(adae: pd.DataFrame) -> pd.DataFrame:
    """ADAE narrowed to :data:`ADAE_COUNTED` and CQzzNAM: every table filters and stacks
    these records several times, the other variables would only be copied along."""
    keep = [c for c in adae.columns if c in ADAE_COUNTED or c == RECORD
            or (c.startswith("CQ") and c.endswith("NAM"))]
    return adae[keep]


# --------------------------------------------------------------------------------------
# counting machinery
# --------------------------------------------------------------------------------------
_EXPANDED = ("row_id", "PARAMCD", RECORD, SUBJECT)
"""What counting and lineage read of an expanded record."""


def _expand(records: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """Each record once per group it counts in (``_GROUP``, a category), via the group
    membership: the records of each (TRTA, group) pair of ``ctx.membership``, pair after pair."""
    bases = ctx.membership["TRTA"].to_numpy(dtype=object)
    groups = ctx.membership["_GROUP"].to_numpy(dtype=object)
    unique = pd.Index(pd.unique(bases))
    codes = _positions_in(records["TRTA"], unique)
    picks = [np.flatnonzero(codes == unique.get_loc(base)) for base in bases]
    keep = [c for c in _EXPANDED if c in records]
    out = records[keep].take(np.concatenate(picks) if picks else np.array([], dtype=np.intp))
    names = pd.Index(pd.unique(groups), dtype=object)
    group_codes = np.repeat(names.get_indexer(groups), [len(p) for p in picks])
    return out.assign(_GROUP=pd.Categorical.from_codes(group_codes, categories=names)).reset_index(drop=True)


def _positions_in(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Each value's position in ``index`` (-1 if absent or null), looked up once per
    distinct value."""
    codes, distinct = pd.factorize(values)
    found = np.append(index.get_indexer(pd.Index(np.asarray(distinct, dtype=object))), -1)
    return found[codes]  # code -1 (null) -> the appended -1


def _stack(parts: list[tuple[str, pd.DataFrame]]) -> pd.DataFrame:
    """The frames one after the other, each record with its part's name as ``row_id`` (a
    category: one code per record, not one string)."""
    frames = [frame for _, frame in parts]
    out = pd.concat(frames, ignore_index=True)
    codes = np.repeat(np.arange(len(parts)), [len(f) for f in frames])
    names = pd.Index([rid for rid, _ in parts], dtype=object)
    return out.assign(row_id=pd.Categorical.from_codes(codes, categories=names))


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """``pd.concat`` that keeps category columns categories (their categories united)
    instead of turning them into Python objects."""
    frames = [f for f in frames if len(f.columns)]
    out = pd.concat(frames, ignore_index=True)
    for column in out.columns:
        parts = [f[column] for f in frames]
        if any(isinstance(p.dtype, pd.CategoricalDtype) for p in parts):
            out[column] = union_categoricals([_object_categories(p) for p in parts], ignore_order=True)
    return out


def _object_categories(values) -> pd.Categorical:
    """Categories whose category values are Python objects (categories of text may come as
    pandas' string dtype or as objects; unions need one kind)."""
    cat = pd.Categorical(values) if not isinstance(getattr(values, "dtype", None), pd.CategoricalDtype) else \
        pd.Categorical(values)
    if cat.categories.dtype != object:
        cat = pd.Categorical.from_codes(cat.codes, categories=pd.Index(list(cat.categories), dtype=object))
    return cat


def _subject_counts(expanded: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Subjects (``SUBJECT``) per ``keys`` x group: each subject counted once. The key and
    group columns are categories; counting runs on one integer per record."""
    if not len(expanded):
        return pd.DataFrame(columns=[*keys, "_GROUP", "n"])
    cells = pd.MultiIndex.from_arrays([expanded[k] for k in [*keys, "_GROUP"]])
    codes = [np.asarray(c, dtype=np.int64) for c in cells.codes]
    sizes = [len(level) + 1 for level in cells.levels]
    cell = np.zeros(len(expanded), dtype=np.int64)
    for code, size in zip(codes, sizes):
        cell = cell * size + code + 1
    subjects = expanded[SUBJECT].to_numpy(dtype=np.int64)
    pairs = pd.unique(cell * (int(subjects.max()) + 2) + subjects + 1)
    cell_of_pair = pairs // (int(subjects.max()) + 2)
    cells_found, n = np.unique(cell_of_pair, return_counts=True)
    out = {}
    for name, level, size in zip([*keys, "_GROUP"][::-1], cells.levels[::-1], sizes[::-1]):
        code = cells_found % size - 1
        cells_found = cells_found // size
        out[name] = np.asarray(level, dtype=object)[code]
    return pd.DataFrame({**{k: out[k] for k in [*keys, "_GROUP"]}, "n": n})


def _categories(values, n: int) -> pd.Categorical:
    """``values`` (one text for all ``n`` records, text per record, or categories) as categories."""
    if isinstance(values, str) or values is None:
        return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=pd.Index([values], dtype=object))
    return _object_categories(values if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype)
                              else np.asarray(values, dtype=object))


def _lineage(row_id, column, dataset: str, records) -> pd.DataFrame:
    """Lineage references (:data:`LINEAGE_REFERENCES`): cell ``row_id`` x ``column`` (one
    text, or one per record) counts the ``dataset`` records at positions ``records``."""
    records = np.asarray(records, dtype=np.int64)
    n = len(records)
    return pd.DataFrame({"row_id": _categories(row_id, n), "column": _categories(column, n),
                         "dataset": _categories(dataset, n), "record": records})


def _adae_lineage(expanded: pd.DataFrame) -> pd.DataFrame:
    kept = expanded[(expanded["_GROUP"] != _SORT).to_numpy(dtype=bool)]
    return _lineage(kept["row_id"], kept["_GROUP"], "ADAE", kept[RECORD])


def _bds_lineage(records: pd.DataFrame, row_id, column, dataset: str) -> pd.DataFrame:
    return _lineage(row_id, column, dataset, records[RECORD])


def _header_lineage(ctx: Context) -> pd.DataFrame:
    """The ADEX records behind each group column's N."""
    return _bds_lineage(ctx.exposed, HEADER_ROW, ctx.exposed["TRTA"], "ADEX")


def _concat_lineage(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The parts one after the other; each category column's codes recoded into the union
    of the parts' categories (integers only: no text per record)."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return _lineage([], [], "ADAE", []).iloc[:0]
    out = {}
    for column in ("row_id", "column", "dataset"):
        names: dict = {}
        codes = []
        for part in parts:
            cat = part[column].cat
            to_union = np.array([names.setdefault(c, len(names)) for c in cat.categories] + [-1], dtype=np.int32)
            codes.append(to_union[cat.codes.to_numpy()])
        out[column] = pd.Categorical.from_codes(np.concatenate(codes), categories=pd.Index(list(names), dtype=object))
    out["record"] = np.concatenate([p["record"].to_numpy(dtype=np.int64) for p in parts])
    return pd.DataFrame(out)[LINEAGE_REFERENCES]


def _group_columns(ctx: Context) -> list[Column]:
    return [Column(label, f"{label}\n(N={int(ctx.N[label])})", group=label) for label in ctx.labels]


def _count_cells(rows: pd.DataFrame, counts: pd.DataFrame, ctx: Context, table: str,
                 unavailable: set[str] = frozenset()) -> pd.DataFrame:
    """n (%) cells for every value row x group (zero where nothing was counted)."""
    value_rows = rows[~rows["is_header"]]
    grid = value_rows[["row", "row_id", "row_label", "indent"]].merge(
        pd.DataFrame({"_GROUP": ctx.labels}), how="cross")
    counts = counts[counts["_GROUP"] != _SORT].astype({"_GROUP": object, "row_id": object})
    grid = grid.merge(counts, on=["row_id", "_GROUP"], how="left")
    n = grid["n"].astype(float).fillna(0.0)
    n[grid["row_id"].isin(unavailable).to_numpy()] = np.nan
    N = grid["_GROUP"].map(ctx.N).astype(float)
    return pd.DataFrame({
        "table": table, "row": grid["row"].to_numpy(), "row_id": grid["row_id"].to_numpy(),
        "row_label": grid["row_label"].to_numpy(), "indent": grid["indent"].to_numpy(),
        "column": grid["_GROUP"].to_numpy(), "group": grid["_GROUP"].to_numpy(), "stat": "n",
        "value": n.to_numpy(), "lower": np.nan, "upper": np.nan, "denominator": N.to_numpy(),
        "text": format_n_pct(n, N)})[CELL_COLUMNS]


def _rows(records: list[tuple[str, str, int, bool]]) -> pd.DataFrame:
    """The rows of a table (typed even when there are none: an empty table's masks stay boolean)."""
    frame = pd.DataFrame(records, columns=["row_id", "row_label", "indent", "is_header"]).astype(
        {"row_id": object, "row_label": object, "indent": "int64", "is_header": bool})
    frame.insert(0, "row", np.arange(len(frame)))
    return frame


def _population_text(ctx: Context) -> str:
    studies = sorted(ctx.adsl["STUDYID"].dropna().astype(str).unique())
    return f"Safety population (ADSL.SAFFL = \"Y\"); {len(studies)} pooled stud{'y' if len(studies) == 1 else 'ies'}"


def _common_footnotes(ctx: Context) -> list[str]:
    return [f"N = participants in the safety population (ADSL.SAFFL = \"Y\") exposed to the group's treatment "
            f"(ADEX records of the group); a participant who received more than one treatment is counted in each "
            f"group received.{_pool_text(ctx)}"]


def _pool_text(ctx: Context) -> str:
    pooled = [g for g in ctx.groups if g.pooled]
    if not pooled:
        return ""
    return " " + "; ".join(f"{g.label} = {' + '.join(g.pools)}" for g in pooled) + "."


def _teae_footnote(ctx: Context) -> str:
    teae = ctx.iss.teae
    window = teae["window_days"]
    end = (f"no later than {window} days after the last dose" if window is not None
           else "at any time after the first dose")
    missing = ("; a missing onset date counts as treatment-emergent" if teae["missing_start"] == "emergent"
               else "; a missing onset date does not count as treatment-emergent")
    return (f"TEAE = treatment-emergent adverse event (ADAE.TRTEMFL = \"Y\"): onset on or after the first dose and "
            f"{end}{missing}. Events count in the group of treatment at onset (ADAE.TRTA); a pooled group counts "
            f"the events of its groups.")


def _unassigned_note(ctx: Context) -> tuple[list[str], int]:
    """TEAE records without a treatment group are not counted: say so, never silently."""
    lost = int(ctx.teae["TRTA"].isna().sum())
    if not lost:
        return [], 0
    return [f"{lost} TEAE record(s) have no treatment group at onset (ADAE.TRTA missing) and are not counted."], lost


def _pct_footnote() -> str:
    return "n (%) = participants with at least one such event (each counted once per row and group); % = 100 x n / N."


def _sort_footnote(ctx: Context) -> str:
    label, members, in_config = ctx.reference
    where = f"the {label} column" if in_config else f"all non-control groups together ({label})"
    return (f"System organ class (ADAE.AEBODSYS) and preferred term (ADAE.AEDECOD) as coded in ADAE, sorted by "
            f"descending frequency in {where}, then alphabetically.")


def describe_event(event: dict) -> str:
    """The definition of an event of interest in words: its ``description`` when given,
    else the records it takes (TEAEs unless ``teae_only`` is false), its terms and its
    qualifiers, e.g. 'TEAEs with SOC "Infections and infestations", serious (AESER = "Y")'
    (:func:`adam.adae.event_terms_text`)."""
    if event.get("description"):
        return event["description"]
    text = "TEAEs" if event.get("teae_only", True) else "adverse events"
    terms = event_terms_text(event)
    return f"{text}{terms}" if terms.startswith(" with") or "," in terms else f"all {text}{terms}"


# --------------------------------------------------------------------------------------
# overview of TEAEs
# --------------------------------------------------------------------------------------
def _equals(frame: pd.DataFrame, column: str, value: str) -> pd.Series:
    """``frame[column] == value`` as booleans (missing is not equal)."""
    return pd.Series(is_in(frame[column], [value]) & frame[column].notna().to_numpy(), index=frame.index)


def _overview_definitions(ctx: Context) -> list[tuple[str, str, str | None, object]]:
    """(row_id, label, required ADAE variable, mask over TEAE records); mask None = absent variable."""
    teae = ctx.teae
    has = lambda v: v in teae.columns  # noqa: E731
    rel = _equals(teae, "AREL", "RELATED") if has("AREL") else None
    ser = _equals(teae, "AESER", "Y") if has("AESER") else None
    rows = [("any", "Any TEAE", None, pd.Series(True, index=teae.index)),
            ("related", "Related TEAE", "AREL", rel),
            ("severe", "Severe TEAE", "AESEV", _equals(teae, "AESEV", "SEVERE") if has("AESEV") else None),
            ("serious", "Serious TEAE", "AESER", ser),
            ("serious_related", "Serious related TEAE", "AESER, AREL",
             (ser & rel) if ser is not None and rel is not None else None),
            ("discontinued", "TEAE leading to discontinuation of study treatment", "AEACN",
             _equals(teae, "AEACN", "DRUG WITHDRAWN") if has("AEACN") else None)]
    return rows


def _fatal(frame: pd.DataFrame) -> pd.Series:
    fatal = pd.Series(False, index=frame.index)
    if "AEOUT" in frame:
        fatal |= _equals(frame, "AEOUT", "FATAL")
    if "AESDTH" in frame:
        fatal |= _equals(frame, "AESDTH", "Y")
    return fatal


def _death_groups(ctx: Context) -> pd.DataFrame:
    """Safety subjects with ADSL.DTHFL = "Y", each with the non-pooled group of the last
    treatment started on or before the death date (DTHDT); without DTHDT, the last group
    the subject started. Columns STUDYID, USUBJID, TRTA, RECORD and SUBJECT (the ADSL record)."""
    adsl = ctx.adsl
    columns = ["STUDYID", "USUBJID", "TRTA", RECORD, SUBJECT]
    if "DTHFL" not in adsl:
        return pd.DataFrame({c: pd.Series(dtype=np.int64 if c in (RECORD, SUBJECT) else object) for c in columns})
    dead = adsl[_equals(adsl, "DTHFL", "Y") & _equals(adsl, "SAFFL", "Y")]
    base = {g.label for g in ctx.groups if not g.pooled}
    starts = ctx.exposed[ctx.exposed["TRTA"].isin(base)]
    start_col = "ASTDT" if "ASTDT" in starts else None
    joined = dead[["USUBJID", RECORD, SUBJECT, *(["DTHDT"] if "DTHDT" in dead else [])]].merge(
        starts[["STUDYID", "USUBJID", "TRTA", *([start_col] if start_col else [])]], on="USUBJID", how="inner")
    if start_col and "DTHDT" in joined:
        before = joined["DTHDT"].isna() | joined[start_col].isna() | (joined[start_col] <= joined["DTHDT"])
        joined = joined[before.to_numpy(dtype=bool)]
        joined = joined.sort_values(["USUBJID", start_col], kind="mergesort")
    return joined.drop_duplicates("USUBJID", keep="last")[columns]


TERM_CRITERIA = ("soc", "pt", "pt_contains")
"""The keys of an event of interest that select terms (AEBODSYS, AEDECOD)."""


def is_death_event(event: dict) -> bool:
    """An event of interest that is fatal TEAEs and nothing else (``fatal: true``, no SOC, PT
    or other qualifier): it is the overview's "Deaths" row (fatal TEAEs and ADSL.DTHFL), not
    an adverse event of special interest of its own."""
    return bool(event.get("fatal")) and not any(event.get(k) for k in TERM_CRITERIA) and \
        not any(k in event for k in ("serious", "related"))


def aesi_events(iss: ISSConfig) -> list[dict]:
    """The adverse events of special interest: the config's events with a customised or
    standardised query (``cq``/``smq``: ADAE.CQzzNAM/SMQzzNAM, adam.queries.aesi_variable), in
    config order, except a death event (:func:`is_death_event`), which the tables count as deaths."""
    return [e for e in iss.events if aesi_variable(e) and not is_death_event(e)]


def aesi_records(teae: pd.DataFrame, event: dict) -> np.ndarray:
    """The records of ``teae`` in an adverse event of special interest: its query variable holds
    its value (adam.queries.aesi_variable/aesi_value); where ADAE lacks the variable (an
    all-null one may be dropped), the event's definition it is derived by, applied to ADAE."""
    var = aesi_variable(event)
    hit = _equals(teae, var, aesi_value(event)) if var in teae else matches_event(teae, event)
    return hit.to_numpy(dtype=bool)


def overview_table(analysis, *, ctx: Context | None = None, number: int = 3) -> Table:
    """Overview of TEAEs: participants with any TEAE, related, severe, serious, serious
    related, leading to discontinuation of study treatment, deaths, and each adverse event
    of special interest (ADAE.CQzzNAM or SMQzzNAM), n (%) per group (standards.md §7.3 item 5).

    Row definitions (on TEAE records, ADAE.TRTEMFL = "Y"): related AREL = "RELATED";
    severe AESEV = "SEVERE"; serious AESER = "Y"; leading to discontinuation AEACN =
    "DRUG WITHDRAWN"; deaths = a fatal TEAE (AEOUT = "FATAL" or AESDTH = "Y") or ADSL.DTHFL =
    "Y" (a death without a fatal TEAE counts in the group of the last treatment started
    on or before the death date); AESI = its query variable (CQzzNAM the event's name, or
    SMQzzNAM the name of the query it names). A row whose ADAE
    variable is absent shows NA, never 0.
    """
    ctx = ctx or context(analysis)
    name = "teae-overview"
    teae = ctx.teae
    defs = _overview_definitions(ctx)
    aesi = aesi_events(ctx.iss)
    row_records = [(rid, label, 0, False) for rid, label, _, _ in defs]
    row_records.append(("deaths", "Deaths", 0, False))
    if aesi:
        row_records.append(("aesi", "Adverse events of special interest", 0, True))
        row_records += [(f"aesi|{e['paramcd']}", e["name"], 1, False) for e in aesi]
    rows = _rows(row_records)

    keys = teae[[RECORD, SUBJECT, "TRTA"]]
    parts = [(rid, keys[mask.to_numpy(dtype=bool)]) for rid, _, _, mask in defs if mask is not None]
    parts.append(("deaths", keys[_fatal(teae).to_numpy(dtype=bool)]))
    missing_cq = [aesi_variable(e) for e in aesi if aesi_variable(e) not in teae]
    parts += [(f"aesi|{e['paramcd']}", keys[aesi_records(teae, e)]) for e in aesi]
    expanded = _expand(_stack(parts), ctx)
    deaths = _expand(_stack([("deaths", _death_groups(ctx))]), ctx)
    counts = _subject_counts(_concat([expanded[["row_id", "_GROUP", SUBJECT]],
                                      deaths[["row_id", "_GROUP", SUBJECT]]]), ["row_id"])
    unavailable = {rid for rid, _, _, mask in defs if mask is None}
    cells = _count_cells(rows, counts, ctx, name, unavailable)

    died = deaths[(deaths["_GROUP"] != _SORT).to_numpy(dtype=bool)]
    death_lineage = _lineage("deaths", died["_GROUP"], "ADSL", died[RECORD])
    lineage = _concat_lineage([_header_lineage(ctx), _adae_lineage(expanded), death_lineage])

    related_terms = ctx.iss.get("related_terms")
    related = (" (investigator causality AEREL one of " + ", ".join(f'"{t}"' for t in related_terms) + ")"
               if related_terms else "")
    notes, lost = _unassigned_note(ctx)
    footnotes = [*_common_footnotes(ctx), _pct_footnote(), _teae_footnote(ctx),
                 f"Related: ADAE.AREL = \"RELATED\"{related}. Severe: ADAE.AESEV = \"SEVERE\". "
                 "Serious: ADAE.AESER = \"Y\".",
                 "Leading to discontinuation of study treatment: ADAE.AEACN = \"DRUG WITHDRAWN\".",
                 "Deaths: participants with a fatal TEAE (ADAE.AEOUT = \"FATAL\" or ADAE.AESDTH = \"Y\") or who died "
                 "(ADSL.DTHFL = \"Y\"); a death without a fatal TEAE counts in the group of the last treatment "
                 "started on or before the death date."]
    footnotes += [f"{e['name']}: ADAE.{aesi_variable(e)}, {describe_event(e)}." for e in aesi]
    footnotes += [f"The event of interest {e['name']!r} (ADAE.{aesi_variable(e)}: fatal TEAEs) is the Deaths row."
                  for e in ctx.iss.events if aesi_variable(e) and is_death_event(e)]
    absent = sorted({var for rid, _, var, mask in defs if mask is None})
    if missing_cq:
        footnotes.append(f"ADAE has no {', '.join(missing_cq)}: those rows apply the ISS config's event "
                         f"definitions to ADAE directly.")
    if "DTHFL" not in ctx.adsl:
        footnotes.append("ADSL has no DTHFL variable: deaths are counted from fatal TEAEs only.")
    if absent:
        footnotes.append(f"NA = not available: ADAE has no {', '.join(absent)}.")
    footnotes += notes
    return Table(name, number, "Overview of treatment-emergent adverse events", _population_text(ctx),
                 "Participants with", _group_columns(ctx), rows, cells, footnotes, lineage,
                 notes={"unassigned_teae_records": lost}, sources=ctx.datasets)


# --------------------------------------------------------------------------------------
# TEAEs by SOC and PT
# --------------------------------------------------------------------------------------
UNCODED = "Uncoded"


def _soc_pt(ctx: Context, records: pd.DataFrame, *, name: str, number: int, title: str, any_label: str,
            extra_footnotes: list[str], absent: str | None = None) -> Table:
    """A SOC/PT table of ADAE ``records``; ``absent``: the ADAE variable that selects them is
    missing (the table is its "any" row, NA: not available, never 0)."""
    if absent:
        records = records.iloc[:0]
        extra_footnotes = [*extra_footnotes, f"NA = not available: ADAE has no {absent}."]
    expanded, counts, rows = soc_pt_layout(ctx, records, any_label=any_label)
    cells = _count_cells(rows, counts, ctx, name, {"any"} if absent else frozenset())
    lineage = _concat_lineage([_header_lineage(ctx), _adae_lineage(expanded)])
    notes, lost = _unassigned_note(ctx)
    footnotes = [*_common_footnotes(ctx), _pct_footnote(), _teae_footnote(ctx), *extra_footnotes,
                 _sort_footnote(ctx), f"{UNCODED} = AEBODSYS or AEDECOD missing.", *notes]
    return Table(name, number, title, _population_text(ctx), SOC_PT_STUB,
                 _group_columns(ctx), rows, cells, footnotes, lineage, notes={"unassigned_teae_records": lost},
                 sources=ctx.datasets)


SOC_PT_STUB = "System organ class\n  Preferred term"


def soc_pt_layout(ctx: Context, records: pd.DataFrame, *, any_label: str
                  ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The SOC/PT rows of ADAE ``records``: (the records expanded to their rows and groups,
    subjects per row x group, the rows in display order). Rows: "any" first; SOCs by
    descending frequency in the all-active reference, then by name; PTs likewise within
    their SOC (indent 1)."""
    stacked, keys = _soc_pt_rows(records)
    expanded = _expand(stacked, ctx)
    counts = _subject_counts(expanded, ["row_id"])

    # row order: any first; SOC by descending reference frequency then name; PTs likewise within SOC
    ref = counts[counts["_GROUP"] == ctx.reference_key][["row_id", "n"]].rename(columns={"n": "_REF"})
    keys = keys.merge(ref, on="row_id", how="left").fillna({"_REF": 0})
    soc_ref = keys[keys["_LEVEL"] == 1][["_SOC", "_REF"]].rename(columns={"_REF": "_SOCREF"})
    keys = keys[keys["_LEVEL"] > 0].merge(soc_ref, on="_SOC", how="left")
    keys["_PTKEY"] = np.where(keys["_LEVEL"] == 1, "", keys["_PT"])
    keys["_PTREF"] = np.where(keys["_LEVEL"] == 1, np.inf, keys["_REF"])
    keys = keys.sort_values(["_SOCREF", "_SOC", "_PTREF", "_PTKEY"], ascending=[False, True, False, True],
                            kind="mergesort")
    labels = np.where(keys["_LEVEL"] == 1, keys["_SOC"], keys["_PT"])
    row_records = [("any", any_label, 0, False)] + list(zip(keys["row_id"], labels, keys["_LEVEL"] - 1,
                                                            [False] * len(keys)))
    return expanded, counts, _rows(row_records)


def _soc_pt_rows(records: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each record three times: under "any", its SOC row ("soc|SOC") and its PT row
    ("pt|SOC|PT"; a missing SOC or PT is :data:`UNCODED`), ``row_id`` a category; and one
    record per row with its ``_SOC``, ``_PT`` and ``_LEVEL`` (0 any, 1 SOC, 2 PT). Rows are
    named once per distinct SOC and (SOC, PT), not once per record."""
    soc = _coded(records["AEBODSYS"])
    pt = _coded(records["AEDECOD"])
    pair_codes, pairs = pd.factorize(soc.codes.astype(np.int64) * (len(pt.categories) + 1) + pt.codes)
    pair_soc = np.asarray(soc.categories, dtype=object)[pairs // (len(pt.categories) + 1)]
    pair_pt = np.asarray(pt.categories, dtype=object)[pairs % (len(pt.categories) + 1)]
    n_soc = len(soc.categories)
    names = pd.Index(["any", *("soc|" + soc.categories.astype(object)), *("pt|" + pair_soc + "|" + pair_pt)],
                     dtype=object)
    keys = pd.DataFrame({"row_id": names, "_SOC": [None, *soc.categories, *pair_soc],
                         "_PT": [None, *([None] * n_soc), *pair_pt],
                         "_LEVEL": [0, *([1] * n_soc), *([2] * len(pairs))]})
    base = records[["TRTA", RECORD, SUBJECT]]
    codes = np.concatenate([np.zeros(len(base), dtype=np.int64), 1 + soc.codes, 1 + n_soc + pair_codes])
    stacked = pd.concat([base, base, base], ignore_index=True)
    return stacked.assign(row_id=pd.Categorical.from_codes(codes, categories=names)), keys


def _coded(values: pd.Series) -> pd.Categorical:
    """Coded text as categories, a missing value as :data:`UNCODED`."""
    codes, uniques = pd.factorize(values)
    names = pd.Index(np.asarray(uniques, dtype=object))
    if (codes < 0).any():
        if UNCODED not in names:
            names = names.append(pd.Index([UNCODED], dtype=object))
        codes = np.where(codes < 0, names.get_loc(UNCODED), codes)
    return pd.Categorical.from_codes(codes, categories=names)


def soc_pt_table(analysis, *, ctx: Context | None = None, number: int = 4) -> Table:
    """Participants with TEAEs by system organ class and preferred term, n (%) per group
    (standards.md §7.3 item 6): a participant counts once per SOC and once per PT in each
    group; SOCs, and PTs within SOC, by descending frequency in the all-active reference
    (:func:`all_active_group`), then alphabetically."""
    ctx = ctx or context(analysis)
    return _soc_pt(ctx, ctx.teae, name="teae-soc-pt", number=number,
                   title="Participants with treatment-emergent adverse events by system organ class and preferred term",
                   any_label="Participants with at least one TEAE", extra_footnotes=[])


def serious_teae_table(analysis, *, ctx: Context | None = None, number: int = 5) -> Table:
    """Participants with serious TEAEs (ADAE.AESER = "Y") by SOC and PT (standards.md §7.3
    item 10), laid out and sorted as :func:`soc_pt_table`."""
    ctx = ctx or context(analysis)
    _require(ctx.adae, ["AESER"], "ADAE")
    teae = ctx.teae
    return _soc_pt(ctx, teae[_equals(teae, "AESER", "Y").to_numpy(dtype=bool)], name="serious-teae-soc-pt",
                   number=number,
                   title="Participants with serious treatment-emergent adverse events by system organ class and "
                         "preferred term",
                   any_label="Participants with at least one serious TEAE",
                   extra_footnotes=["Serious: ADAE.AESER = \"Y\"."])


# --------------------------------------------------------------------------------------
# exposure
# --------------------------------------------------------------------------------------
def exposure_table(analysis, *, ctx: Context | None = None, number: int = 2) -> Table:
    """Extent of exposure (standards.md §7.3 item 4) per group, from ADEX: participants;
    duration of exposure in days (PARAMCD TRTDURD: mean, SD, median, min, max); total
    patient-years (sum of PARAMCD TRTDURY); participants by cumulative duration
    (>= 1 day, 4, 12, 24, 52 weeks), n (%)."""
    ctx = ctx or context(analysis)
    name = "exposure"
    days = ctx.exposed.assign(TRTA=ctx.exposed["TRTA"].astype(object))
    years = ctx.exposed_years.assign(TRTA=ctx.exposed_years["TRTA"].astype(object))
    labels = ctx.labels
    totals = subject_totals(days)   # a subject's days in a group: the sum over its pieces
    by = totals.groupby("TRTA")["AVAL"]
    stats = pd.DataFrame({
        "n": ctx.N.astype(float),
        "mean": by.mean().reindex(labels), "sd": by.std(ddof=1).reindex(labels),
        "median": by.median().reindex(labels), "min": by.min().reindex(labels), "max": by.max().reindex(labels),
        "py": years.groupby("TRTA")["AVAL"].sum().reindex(labels).fillna(0.0)})
    specs_ = [("n", "Participants exposed", 0, "n", 0), ("days", "Duration of exposure (days)", 0, None, None),
              ("mean", "Mean", 1, "mean", 1), ("sd", "SD", 1, "sd", 2), ("median", "Median", 1, "median", 1),
              ("min", "Min", 1, "min", 0), ("max", "Max", 1, "max", 0),
              ("py", "Total exposure (patient-years)", 0, "py", 2),
              ("duration", "Participants by duration of exposure, n (%)", 0, None, None)]
    row_records = [(rid, label, indent, stat is None) for rid, label, indent, stat, _ in specs_]
    row_records += [(f"ge{d}", label, 1, False) for d, label in DURATION_THRESHOLDS]
    rows = _rows(row_records)
    pieces = []
    for rid, _, _, stat, digits in specs_:
        if stat is None:
            continue
        values = stats[stat].to_numpy(dtype=float)
        pieces.append(pd.DataFrame({"row_id": rid, "column": labels, "stat": stat, "value": values,
                                    "denominator": np.nan, "text": format_numbers(values, digits)}))
    for d, _ in DURATION_THRESHOLDS:
        n = totals[totals["AVAL"] >= d].groupby("TRTA")["USUBJID"].nunique().reindex(labels, fill_value=0)
        N = ctx.N.reindex(labels).to_numpy(dtype=float)
        pieces.append(pd.DataFrame({"row_id": f"ge{d}", "column": labels, "stat": "n",
                                    "value": n.to_numpy(dtype=float), "denominator": N,
                                    "text": format_n_pct(n.to_numpy(dtype=float), N)}))
    cells = pd.concat(pieces, ignore_index=True).merge(rows[["row", "row_id", "row_label", "indent"]], on="row_id")
    cells = cells.assign(table=name, group=cells["column"], lower=np.nan, upper=np.nan)[CELL_COLUMNS]
    cells = cells.sort_values(["row"], kind="mergesort").reset_index(drop=True)

    duration_rows = ["n", "mean", "sd", "median", "min", "max"]
    lineage = [_header_lineage(ctx)]
    for rid in duration_rows:
        lineage.append(_bds_lineage(days, rid, days["TRTA"], "ADEX"))
    lineage.append(_bds_lineage(years, "py", years["TRTA"], "ADEX"))
    for d, _ in DURATION_THRESHOLDS:
        part = days[is_in(days["USUBJID"] + "|" + days["TRTA"],
                          (totals["USUBJID"] + "|" + totals["TRTA"])[totals["AVAL"] >= d])]
        lineage.append(_bds_lineage(part, f"ge{d}", part["TRTA"], "ADEX"))
    footnotes = [*_common_footnotes(ctx),
                 f"Duration of exposure (days) = last dose date - first dose date + 1 in the group (ADEX PARAMCD = "
                 f"\"{DURATION_DAYS}\", summed over the participant's records of the group: TRTA, or TRTAGy for a "
                 f"pooled group). Patient-years = sum of "
                 f"durations / {DAYS_PER_YEAR:g} (ADEX PARAMCD = \"{DURATION_YEARS}\").",
                 "Duration categories are cumulative (1 week = 7 days). SD = standard deviation. NE = not estimable."]
    return Table(name, number, "Extent of exposure to study treatment", _population_text(ctx), "Statistic",
                 _group_columns(ctx), rows, cells, footnotes, _concat_lineage(lineage), sources=ctx.datasets)


# --------------------------------------------------------------------------------------
# demographic and baseline characteristics
# --------------------------------------------------------------------------------------
#: ADSL variables summarised as n (%) in the demographics table, in order, with their row label
DEMOGRAPHIC_CATEGORIES = (("AGEGR1", "Age group"), ("SEX", "Sex"), ("RACE", "Race"), ("ETHNIC", "Ethnicity"))
#: the continuous summary of a variable: (row id suffix, label, statistic, digits)
CONTINUOUS_STATS = (("n", "n", "n", 0), ("mean", "Mean", "mean", 1), ("sd", "SD", "sd", 2),
                    ("median", "Median", "median", 1), ("min", "Min", "min", 0), ("max", "Max", "max", 0))
MISSING = "Missing"


def _participants(ctx: Context, variables: list[str]) -> pd.DataFrame:
    """One row per participant and group they count in (the N of every table: the ADEX duration
    records of the group), with the participant's ADSL ``variables`` and ADSL record (RECORD)."""
    members = pd.DataFrame({"USUBJID": ctx.exposed["USUBJID"].to_numpy(dtype=object),
                            "TRTA": ctx.exposed["TRTA"].to_numpy(dtype=object)}).drop_duplicates()
    adsl = ctx.adsl[[RECORD, "USUBJID", *variables]].astype({"USUBJID": object})
    return members.merge(adsl, on="USUBJID", how="inner")


def _category_order(present: list[str], missing: bool, codelist) -> list[tuple[str, str]]:
    """(value, label) of the values ``present``: the codelist's terms in its order, shown by their
    decode where it has one; then other values alphabetically; missing last (:data:`MISSING`)."""
    left = set(present)
    out = []
    for item in (codelist.items if codelist is not None else []):
        if item.value in left:
            out.append((item.value, item.decode or item.value))
            left.discard(item.value)
    out += [(v, v) for v in sorted(left)]
    if missing:
        out.append((None, MISSING))
    return out


def _category_rows(values: pd.Series, codelist) -> list[tuple[str, str, np.ndarray]]:
    """(value, label, rows holding it) of each category of ``values`` in :func:`_category_order`
    (each value's text compared once: the column is factorised, not compared per category)."""
    codes, uniques = pd.factorize(values.astype("string"), use_na_sentinel=True)
    position = {str(u): i for i, u in enumerate(uniques)}
    return [(value, label, codes == (-1 if value is None else position[value]))
            for value, label in _category_order(list(position), bool((codes == -1).any()), codelist)]


def _codelist_of(analysis, variable: str):
    """The ADaM spec's codelist of ADSL ``variable`` (None where there is none)."""
    spec = getattr(analysis, "spec", None)
    try:
        return spec.codelist(spec.dataset("ADSL").variable(variable).codelist)
    except (AttributeError, KeyError, TypeError):
        return None


def demographics_table(analysis, *, ctx: Context | None = None, number: int = 1) -> Table:
    """Demographic and baseline characteristics per group (ICH E3 14.1; FDA ISS guidance), from
    ADSL: age in years (n, mean, SD, median, min, max), then n (%) of participants by
    :data:`DEMOGRAPHIC_CATEGORIES` — each variable's values in its codelist's order and shown by
    their decode where the ADaM spec has one, other values alphabetically, missing last. A
    participant counts in each group received (N as in every table); % = 100 x n / N."""
    ctx = ctx or context(analysis)
    name = "demographics"
    labels = ctx.labels
    categories = [(v, label) for v, label in DEMOGRAPHIC_CATEGORIES if v in ctx.adsl]
    people = _participants(ctx, [v for v in ("AGE", *[v for v, _ in categories]) if v in ctx.adsl])
    row_records: list[tuple[str, str, int, bool]] = []
    pieces, lineage = [], [_header_lineage(ctx)]
    if "AGE" in people:
        row_records.append(("age", "Age (years)", 0, True))
        aged = people[people["AGE"].notna()].assign(AGE=lambda d: d["AGE"].astype(float))
        by = aged.groupby("TRTA")["AGE"]
        stats = {"n": by.size(), "mean": by.mean(), "sd": by.std(ddof=1), "median": by.median(),
                 "min": by.min(), "max": by.max()}
        for suffix, label, stat, digits in CONTINUOUS_STATS:
            rid = f"age|{suffix}"
            row_records.append((rid, label, 1, False))
            values = stats[stat].reindex(labels).to_numpy(dtype=float)
            if stat == "n":
                values = np.nan_to_num(values)
            pieces.append(pd.DataFrame({"row_id": rid, "column": labels, "stat": stat, "value": values,
                                        "denominator": np.nan, "text": format_numbers(values, digits)}))
            lineage.append(_bds_lineage(aged, rid, aged["TRTA"], "ADSL"))
    counts = []
    for variable, title in categories:
        row_records.append((variable, f"{title}, n (%)", 0, True))
        for value, label, holds in _category_rows(people[variable], _codelist_of(analysis, variable)):
            rid = f"{variable}|{MISSING if value is None else value}"
            row_records.append((rid, label, 1, False))
            hit = people[holds]
            counts.append(hit.groupby("TRTA")["USUBJID"].nunique().rename("n").rename_axis("_GROUP").reset_index()
                          .assign(row_id=rid))
            lineage.append(_bds_lineage(hit, rid, hit["TRTA"], "ADSL"))
    rows = _rows(row_records)
    parts = []
    if pieces:
        stat_cells = pd.concat(pieces, ignore_index=True).merge(rows[["row", "row_id", "row_label", "indent"]],
                                                                 on="row_id")
        parts.append(stat_cells.assign(table=name, group=stat_cells["column"], lower=np.nan, upper=np.nan)[CELL_COLUMNS])
    if counts:
        category_rows = rows[~rows["row_id"].str.startswith("age")]
        parts.append(_count_cells(category_rows, pd.concat(counts, ignore_index=True), ctx, name))
    cells = (pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=CELL_COLUMNS))
    cells = cells.sort_values(["row"], kind="mergesort").reset_index(drop=True)
    footnotes = [*_common_footnotes(ctx),
                 "Age in years as in DM (ADSL.AGE); age group as the ISS config defines it (ADSL.AGEGR1). "
                 "SD = standard deviation. n (%) = participants in the category; % = 100 x n / N.",
                 f"Sex, race and ethnicity as collected (ADSL.SEX, RACE, ETHNIC), shown by their CDISC decode; "
                 f"{MISSING} = not collected."]
    return Table(name, number, "Demographic and baseline characteristics", _population_text(ctx), "Characteristic",
                 _group_columns(ctx), rows, cells, footnotes, _concat_lineage(lineage), sources=ctx.datasets)


# --------------------------------------------------------------------------------------
# exposure-adjusted incidence rates
# --------------------------------------------------------------------------------------
def _rates_settings(iss: ISSConfig) -> dict:
    rates = iss.rates
    return {"per": rates["per"], "method": rates["ci_method"], "conf_level": rates["conf_level"]}


def _events_frame(iss: ISSConfig) -> pd.DataFrame:
    """The ISS config's events in order (text columns stay text when there are none)."""
    return pd.DataFrame({"PARAMCD": pd.Series([e["paramcd"] for e in iss.events], dtype=object),
                         "event": pd.Series([e["name"] for e in iss.events], dtype=object),
                         "event_order": np.arange(len(iss.events))})


def _event_record_counts(ctx: Context) -> pd.DataFrame:
    """Per event x group: AE records meeting the event's definition (recurrences counted),
    treatment-emergent unless the event says ``teae_only: false``."""
    parts = []
    for event in ctx.iss.events:
        pool = ctx.teae if event.get("teae_only", True) else ctx.adae
        parts.append((event["paramcd"], pool.loc[matches_event(pool, event).to_numpy(dtype=bool), ["TRTA"]]))
    if not parts:
        return pd.DataFrame(columns=["PARAMCD", "TRTA", "events"])
    expanded = _expand(_stack(parts), ctx)
    counts = expanded.groupby(["row_id", "_GROUP"], sort=False, observed=True).size().rename("events").reset_index()
    return counts.rename(columns={"row_id": "PARAMCD", "_GROUP": "TRTA"}).astype({"PARAMCD": object, "TRTA": object})


def event_rates(analysis, *, ctx: Context | None = None) -> pd.DataFrame:
    """EAIR per event of interest (config order) x group (number order), every group
    listed even without subjects: :func:`report.rates.eair` on ADAETTE with N from ADEX,
    plus ``events`` (ADAE records meeting the event's definition, recurrences counted).

    Columns: PARAMCD, event, TRTA, TRTAN, subjects_in_population, subjects_at_risk,
    subjects_with_event, events, patient_years_at_risk, eair, ci_lower, ci_upper, ci_method,
    conf_level, per, crude_incidence_pct. Computed once per context, and kept with the
    analysis (``analysis.computed``) for later callers without a context (the frame is
    shared: do not modify it)."""
    computed = getattr(analysis, "computed", None)
    if ctx is None and isinstance(computed, dict) and "event_rates" in computed:
        return computed["event_rates"]
    rates = _once(ctx or context(analysis), _event_rates)
    if isinstance(computed, dict):
        computed["event_rates"] = rates
    return rates


def _once(ctx: Context, compute):
    """``compute(ctx)``, computed the first time and kept in the context."""
    if compute.__name__ not in ctx.computed:
        ctx.computed[compute.__name__] = compute(ctx)
    return ctx.computed[compute.__name__]


def _event_rates(ctx: Context) -> pd.DataFrame:
    settings = _rates_settings(ctx.iss)
    events = _events_frame(ctx.iss)
    tte = ctx.adaette[ctx.adaette["PARAMCD"].isin(events["PARAMCD"])]
    if len(tte):
        rates = eair(tte, by=("PARAMCD", "TRTA"), groups=ctx.labels, population=ctx.N, **settings)
    else:
        rates = eair(pd.DataFrame({"PARAMCD": pd.Series(dtype=object), "TRTA": pd.Series(dtype=object),
                                   "USUBJID": pd.Series(dtype=object), "AVAL": pd.Series(dtype=float),
                                   "CNSR": pd.Series(dtype=float)}), by=("PARAMCD", "TRTA"), **settings)
    grid = events.merge(pd.DataFrame({"TRTA": ctx.labels, "TRTAN": [float(g.number) for g in ctx.groups],
                                      "_go": np.arange(len(ctx.labels))}), how="cross")
    rates = rates.assign(PARAMCD=rates["PARAMCD"].astype(object), TRTA=rates["TRTA"].astype(object))
    out = grid.merge(rates, on=["PARAMCD", "TRTA"], how="left")
    out = out.merge(_event_record_counts(ctx), on=["PARAMCD", "TRTA"], how="left")
    for column in ("subjects_at_risk", "subjects_with_event", "events"):
        out[column] = out[column].fillna(0).astype("int64")
    out["patient_years_at_risk"] = out["patient_years_at_risk"].fillna(0.0)
    out["subjects_in_population"] = out["TRTA"].map(ctx.N).astype("int64")
    out["crude_incidence_pct"] = np.where(out["subjects_in_population"] > 0,
                                          100.0 * out["subjects_with_event"] / out["subjects_in_population"].where(
                                              out["subjects_in_population"] > 0, 1), np.nan)
    out["ci_method"] = CI_METHODS[settings["method"]]
    out["conf_level"], out["per"] = float(settings["conf_level"]), float(settings["per"])
    out = out.sort_values(["event_order", "_go"], kind="mergesort").reset_index(drop=True)
    return out[["PARAMCD", "event", "TRTA", "TRTAN", "subjects_in_population", "subjects_at_risk",
                "subjects_with_event", "events", "patient_years_at_risk", "eair", "ci_lower", "ci_upper",
                "ci_method", "conf_level", "per", "crude_incidence_pct"]]


def comparisons(iss: ISSConfig) -> list[tuple[str, str]]:
    """(treatment, control) pairs: the config's ``comparisons`` (``[]``: none), else every
    non-control group versus the control group (none without a control)."""
    given = iss.get("comparisons")
    if given is not None:   # an empty list: no comparison
        return [(c["treatment"], c["control"]) for c in given]
    control = iss.control
    if control is None:
        return []
    return [(g.label, control.label) for g in ordered_groups(iss) if not g.control]


def _strata_column(ctx: Context, strata: str) -> pd.DataFrame:
    tte = ctx.adaette
    if strata in tte:
        return tte
    if strata not in ctx.adsl:
        raise InputError(f"the rates' strata variable {strata} is in neither ADAETTE nor ADSL", column=strata)
    return tte.merge(ctx.adsl[["USUBJID", strata]], on="USUBJID", how="left")


def rate_comparisons(analysis, *, ctx: Context | None = None) -> pd.DataFrame:
    """Each comparison of :func:`comparisons` per event: :func:`report.rates.compare_rates`
    on per-stratum EAIRs (strata = the config's ``rates.strata``, default STUDYID), crude
    pooled and Mantel-Haenszel rows. Comparisons whose groups have no subjects are absent
    (the table shows NE). Adds ``event`` (the event's name)."""
    return _once(ctx or context(analysis), _rate_comparisons)


def _rate_comparisons(ctx: Context) -> pd.DataFrame:
    settings = _rates_settings(ctx.iss)
    strata = ctx.iss.rates["strata"]
    events = _events_frame(ctx.iss)
    tte = _strata_column(ctx, strata)
    tte = tte[tte["PARAMCD"].isin(events["PARAMCD"])]
    out = []
    if len(tte):
        rates = eair(tte, by=(strata, "PARAMCD", "TRTA"), per=settings["per"], method=settings["method"],
                     conf_level=settings["conf_level"])
        present = set(rates["TRTA"].astype(object))
        pairs = comparisons(ctx.iss)
        for control in dict.fromkeys(c for _, c in pairs):
            treatments = [t for t, c in pairs if c == control and t in present]
            if control not in present or not treatments:
                continue
            out.append(compare_rates(rates, control=control, group="TRTA", by=("PARAMCD",), strata=strata,
                                     treatments=treatments, per=settings["per"],
                                     conf_level=settings["conf_level"]))
    if not out:
        return pd.DataFrame(columns=["PARAMCD", "event", "TRTA", "control", "comparison", "method", "estimate",
                                     "ci_lower", "ci_upper", "p_value", "strata_used"])
    frame = pd.concat(out, ignore_index=True)
    frame = frame.assign(PARAMCD=frame["PARAMCD"].astype(object)).merge(events, on="PARAMCD", how="left")
    columns = [c for c in frame.columns if c not in ("event", "event_order")]
    columns.insert(1, "event")
    return frame.sort_values("event_order", kind="mergesort").reset_index(drop=True)[columns]


def mantel_haenszel_difference(comparison_rows: pd.DataFrame) -> pd.DataFrame:
    """The stratified (Mantel-Haenszel) rate-difference rows of :func:`rate_comparisons`."""
    rows = comparison_rows
    keep = (rows["comparison"] == "rate difference") & rows["method"].astype(str).str.startswith("Mantel-Haenszel")
    return rows[keep.to_numpy(dtype=bool)]


def aesi_eair_table(analysis, *, ctx: Context | None = None, number: int = 6) -> Table:
    """Exposure-adjusted incidence rates of the events of interest (any TEAE, serious TEAE,
    each AESI; the ISS config's ``events``), standards.md §5 and §7.3 items 12-13.

    Per event (a header row) and group (a row): N at risk, n (%) with the event, patient-
    years at risk (ADAETTE.AVAL summed), EAIR per ``rates.per`` PY with its CI (config
    method), and per control the study-stratified Mantel-Haenszel rate difference versus
    the control with its Wald CI, on the treatment group's rows."""
    ctx = ctx or context(analysis)
    name = "aesi-eair"
    rates = event_rates(analysis, ctx=ctx)
    diffs = mantel_haenszel_difference(rate_comparisons(analysis, ctx=ctx))
    settings = _rates_settings(ctx.iss)
    per = settings["per"]
    per_text = f"{per:g}"
    pct = confidence_text(settings["conf_level"])
    pairs = comparisons(ctx.iss)
    controls = list(dict.fromkeys(c for _, c in pairs))
    columns = [Column("N", "Participants at risk (N)"), Column("n", "Participants with event, n (%)"),
               Column("py", "Patient-years at risk"),
               Column("eair", f"EAIR per {per_text} PY ({pct}% CI)")]
    columns += [Column(f"diff|{c}", f"Difference vs {c} per {per_text} PY ({pct}% CI)") for c in controls]

    row_records = []
    for e in ctx.iss.events:
        row_records.append((e["paramcd"], e["name"], 0, True))
        row_records += [(f"{e['paramcd']}|{label}", label, 1, False) for label in ctx.labels]
    rows = _rows(row_records)
    rates = rates.assign(row_id=rates["PARAMCD"] + "|" + rates["TRTA"])
    base = rates[["row_id", "TRTA"]].rename(columns={"TRTA": "group"})
    N = rates["subjects_at_risk"].to_numpy(dtype=float)
    pieces = [
        base.assign(column="N", stat="subjects_at_risk", value=N, lower=np.nan, upper=np.nan, denominator=np.nan,
                    text=format_numbers(N, 0)),
        base.assign(column="n", stat="subjects_with_event", value=rates["subjects_with_event"].to_numpy(dtype=float),
                    lower=np.nan, upper=np.nan, denominator=rates["subjects_in_population"].to_numpy(dtype=float),
                    text=format_n_pct(rates["subjects_with_event"], rates["subjects_in_population"])),
        base.assign(column="py", stat="patient_years_at_risk", value=rates["patient_years_at_risk"].to_numpy(),
                    lower=np.nan, upper=np.nan, denominator=np.nan,
                    text=format_numbers(rates["patient_years_at_risk"], 2)),
        base.assign(column="eair", stat="eair", value=rates["eair"].to_numpy(dtype=float),
                    lower=rates["ci_lower"].to_numpy(dtype=float), upper=rates["ci_upper"].to_numpy(dtype=float),
                    denominator=np.nan,
                    text=format_estimate_ci(rates["eair"], rates["ci_lower"], rates["ci_upper"])),
    ]
    lineage_parts = [_header_lineage(ctx)]
    tte = ctx.tte_records[is_in(ctx.tte_records["PARAMCD"], [e["paramcd"] for e in ctx.iss.events])]
    tte_rid = _row_ids(tte["PARAMCD"], tte["TRTA"])
    for column in ("N", "py", "eair"):
        lineage_parts.append(_bds_lineage(tte, tte_rid, column, "ADAETTE"))
    with_event = (tte["CNSR"] == 0).to_numpy()
    lineage_parts.append(_bds_lineage(tte[with_event], tte_rid[with_event], "n", "ADAETTE"))

    for control in controls:
        treated = [t for t, c in pairs if c == control]
        rows_c = rates[rates["TRTA"].isin(treated)][["row_id", "PARAMCD", "TRTA"]]
        d = diffs[diffs["control"].astype(object) == control][["PARAMCD", "TRTA", "estimate", "ci_lower",
                                                                "ci_upper"]]
        d = d.assign(PARAMCD=d["PARAMCD"].astype(object), TRTA=d["TRTA"].astype(object))
        rows_c = rows_c.merge(d, on=["PARAMCD", "TRTA"], how="left")
        pieces.append(pd.DataFrame({
            "row_id": rows_c["row_id"].to_numpy(), "group": rows_c["TRTA"].to_numpy(), "column": f"diff|{control}",
            "stat": "rate_difference_mh", "value": rows_c["estimate"].to_numpy(dtype=float),
            "lower": rows_c["ci_lower"].to_numpy(dtype=float), "upper": rows_c["ci_upper"].to_numpy(dtype=float),
            "denominator": np.nan,
            "text": format_estimate_ci(rows_c["estimate"], rows_c["ci_lower"], rows_c["ci_upper"])}))
        # each treatment row's difference uses the treatment's and the control's records
        for t in treated:
            sub = tte[is_in(tte["TRTA"], [t, control])]
            lineage_parts.append(_bds_lineage(sub, _row_ids(sub["PARAMCD"], t), f"diff|{control}", "ADAETTE"))
    cells = pd.concat(pieces, ignore_index=True).merge(rows[["row", "row_id", "row_label", "indent"]], on="row_id")
    cells = cells.assign(table=name)[CELL_COLUMNS].sort_values("row", kind="mergesort").reset_index(drop=True)

    window = ctx.iss.teae["window_days"]
    window_text = f"the last dose + {window} days" if window is not None else "the end of follow-up"
    strata = ctx.iss.rates["strata"]
    footnotes = [
        *_common_footnotes(ctx),
        "Participants at risk: ADAETTE records of the group; n: records with an event (ADAETTE.CNSR = 0); "
        "% = 100 x n / participants in the safety population exposed to the group (ADEX; the N of the other "
        "tables).",
        f"Patient-years at risk: from the first dose in the group to the first event (participants with the event) "
        f"or to the end of the at-risk period (others): the earliest of {window_text}, the start of the next "
        f"treatment group, end of study, death and data cut-off; ADAETTE.AVAL (years = days / {DAYS_PER_YEAR:g}) "
        f"summed.",
        f"EAIR = {per_text} x n / patient-years at risk; {pct}% CI: {CI_METHODS[settings['method']]}.",
    ]
    if controls:
        footnotes.append(
            f"Difference: Mantel-Haenszel rate difference per {per_text} patient-years stratified by study "
            f"({strata}), weights T1k x T0k / (T1k + T0k), Wald {pct}% CI; strata without both groups do not "
            f"contribute. Shown on the rows of the group compared.")
    footnotes += [f"{e['name']}: {describe_event(e)}." for e in ctx.iss.events]
    footnotes.append("NE = not estimable (no patient-years at risk, or no events in either group).")
    return Table(name, number, "Exposure-adjusted incidence rates of adverse events of interest",
                 _population_text(ctx), "Event\n  Group", columns, rows, cells, footnotes,
                 _concat_lineage(lineage_parts), sources=ctx.datasets)


def _row_ids(paramcd: pd.Series, group) -> pd.Categorical:
    """"PARAMCD|group" per record (``group``: a TRTA column or one label), named once per
    distinct pair."""
    p_codes, params = pd.factorize(paramcd)
    if isinstance(group, str):
        g_codes, groups = np.zeros(len(paramcd), dtype=np.int64), np.array([group], dtype=object)
    else:
        g_codes, groups = pd.factorize(group)
    pair = np.where((p_codes < 0) | (g_codes < 0), -1, p_codes.astype(np.int64) * (len(groups) + 1) + g_codes)
    codes, pairs = pd.factorize(pair, use_na_sentinel=False)
    if (pair < 0).any():  # a missing PARAMCD or group names no row
        codes = np.where(pair < 0, -1, codes)
    params, groups = np.asarray(params, dtype=object), np.asarray(groups, dtype=object)
    names = pd.Index([f"{params[p // (len(groups) + 1)]}|{groups[p % (len(groups) + 1)]}" if p >= 0 else
                      f"\x00missing{i}" for i, p in enumerate(pairs)], dtype=object)
    return pd.Categorical.from_codes(codes, categories=names)


# --------------------------------------------------------------------------------------
# all tables
# --------------------------------------------------------------------------------------
def lineage_table(tables: dict[str, Table]):
    """All tables' lineage as one Arrow table (:data:`LINEAGE_COLUMNS`; the package's
    ``report/lineage/table-cells.parquet``), one chunk per table (:func:`lineage_parts`)."""
    import pyarrow as pa

    parts = list(lineage_parts(tables))
    if not parts:  # no cell traces to a record (an empty listing)
        text = pa.dictionary(pa.int32(), pa.string())
        return pa.table({c: pa.array([], type=pa.int64() if c == "AESEQ" else text) for c in LINEAGE_COLUMNS})
    return pa.concat_tables(parts)


LINEAGE_SLICE = 1 << 20
"""Lineage records gathered and encoded at a time (one Parquet row group each): a table's
lineage of millions of records is sorted once, then written slice by slice, so its columns
are never all in memory and each slice reuses the memory the previous one freed."""


def lineage_parts(tables: dict[str, Table], *, slice_records: int = LINEAGE_SLICE):
    """The tables' lineage, table after table, as Arrow tables of at most ``slice_records``
    records: per cell x ADaM record the cell counts, the record's keys, in row and column
    order, then by dataset and key, missing keys first.

    Text columns are dictionary-encoded, a part's dictionaries the sorted distinct values it
    uses (a few hundred distinct values over millions of records); AESEQ is int64 with nulls.
    Everything is computed on integer codes: each dataset's key columns are encoded once for
    all tables, each record's keys gathered by its position; a table's records are sorted
    once (by cell, dataset and the rank of their keys) and gathered slice by slice."""
    import pyarrow as pa

    datasets = sorted({str(d) for t in tables.values() for d in t.lineage["dataset"].cat.categories})
    sources = {d: frame for t in tables.values() for d, frame in t.sources.items()}
    keys = _DatasetKeys(sources, datasets)
    for name, table in tables.items():
        cells = _cell_positions(table, datasets)
        order = _lineage_order(cells, keys.rank_of(cells["_d"], cells["record"]), len(datasets))
        for start in range(0, len(order), max(slice_records, 1)):
            rows = order[start:start + slice_records]
            dataset = cells["_d"][rows]
            record = keys.of(dataset, cells["record"][rows])

            def dictionary(codes: np.ndarray, values: list) -> pa.DictionaryArray:
                return pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0, type=pa.int32()),
                                                      pa.array(values, type=pa.string()))

            columns = {"table": dictionary(np.zeros(len(rows), dtype=np.int32), [name]),
                       "row_id": dictionary(*_sorted_dictionary(cells["row_id"][0][rows], cells["row_id"][1])),
                       "column": dictionary(*_sorted_dictionary(cells["column"][0][rows], cells["column"][1])),
                       "dataset": dictionary(*_sorted_dictionary(dataset, datasets))}
            for key in LINEAGE_KEYS[:-1]:
                columns[key] = dictionary(*record[key])
            columns["AESEQ"] = pa.array(record["AESEQ"], mask=record["AESEQ"] == _NO_SEQ, type=pa.int64())
            yield pa.table({c: columns[c] for c in LINEAGE_COLUMNS})


_NO_SEQ = np.iinfo(np.int64).min
"""AESEQ of a record without one (sorts first, as a missing key)."""


def _cell_positions(table: Table, datasets: list[str]) -> dict:
    """One table's lineage as integers: row (position in the table's rows; -1 for the column
    headers' N), column (position in its columns), dataset (position in ``datasets``),
    record; plus the codes and texts of its row and column categories, for the file."""
    lin = table.lineage
    rows = pd.Index(table.rows["row_id"].astype(object))
    cols = pd.Index([c.key for c in table.columns], dtype=object)
    return {"_r": _category_positions(lin["row_id"], rows), "_c": _category_positions(lin["column"], cols),
            "_d": _category_positions(lin["dataset"], pd.Index(datasets, dtype=object)),
            "record": lin["record"].to_numpy(dtype=np.int32),
            "row_id": (lin["row_id"].cat.codes.to_numpy(), list(lin["row_id"].cat.categories)),
            "column": (lin["column"].cat.codes.to_numpy(), list(lin["column"].cat.categories))}


def _category_positions(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Each category value's position in ``index`` (-1 where absent), per record."""
    found = np.append(index.get_indexer(pd.Index(list(values.cat.categories), dtype=object)), -1)
    return found.astype(np.int32)[values.cat.codes.to_numpy()]


def _sorted_dictionary(codes: np.ndarray, values: list) -> tuple[np.ndarray, list]:
    """Codes into ``values`` recoded into the sorted distinct values the codes use (-1 stays
    missing)."""
    used = np.zeros(len(values) + 1, dtype=bool)
    used[codes] = True  # -1 marks the extra slot
    present = np.flatnonzero(used[:-1])
    texts = np.asarray(values, dtype=object)[present]
    order = np.argsort(texts, kind="stable")
    rank = np.full(len(values) + 1, -1, dtype=np.int32)
    rank[present[order]] = np.arange(len(present))
    return rank[codes], list(texts[order])


class _DatasetKeys:
    """The ADaM datasets' record keys, encoded once: per text key, every record's code into
    the sorted distinct values of all datasets (-1 missing); AESEQ; and each record's rank in
    its dataset ordered by all keys (missing first; records with equal keys share a rank)."""

    def __init__(self, sources: dict, datasets: list[str]) -> None:
        frames = [sources.get(name) for name in datasets]
        self.text = {key: _key_codes(frames, key) for key in LINEAGE_KEYS[:-1]}
        self.seq = [_aeseq(frame) for frame in frames]
        self.rank = [None if frame is None else _dense_rank(
            [codes[d] if codes[d] is not None else np.zeros(len(frame), dtype=np.int32)
             for codes, _ in self.text.values()] + [self.seq[d]]) for d, frame in enumerate(frames)]

    def of(self, dataset: np.ndarray, record: np.ndarray) -> dict:
        """The keys of the records at positions ``record`` of datasets ``dataset``: each text
        key as (codes, sorted values used), AESEQ (:data:`_NO_SEQ` where missing)."""
        mine = [np.flatnonzero(dataset == d) for d in range(len(self.seq))]
        out = {}
        for key, (per_dataset, values) in self.text.items():
            codes = np.full(len(record), -1, dtype=np.int32)
            for d, rows in enumerate(mine):
                if per_dataset[d] is not None:
                    codes[rows] = per_dataset[d][record[rows]]
            out[key] = _sorted_dictionary(codes, values)
        out["AESEQ"] = self._gather(self.seq, mine, record, np.full(len(record), _NO_SEQ, dtype=np.int64))
        return out

    def rank_of(self, dataset: np.ndarray, record: np.ndarray) -> np.ndarray:
        """The rank of each record (at ``record`` of dataset ``dataset``) in its dataset."""
        mine = [np.flatnonzero(dataset == d) for d in range(len(self.seq))]
        return self._gather(self.rank, mine, record, np.zeros(len(record), dtype=np.int32))

    @staticmethod
    def _gather(per_dataset: list, mine: list, record: np.ndarray, out: np.ndarray) -> np.ndarray:
        for values, rows in zip(per_dataset, mine):
            if values is not None and len(rows):
                out[rows] = values[record[rows]]
        return out


def _key_codes(frames: list, key: str) -> tuple[list, list]:
    """``key`` of every record of every dataset as a code into the sorted distinct values of
    all datasets (-1 missing; None for a dataset without the variable)."""
    having = [i for i, frame in enumerate(frames) if frame is not None and key in frame]
    codes, uniques = factorize_parts([frames[i][key] for i in having])
    ranks = ranks_of(codes, uniques).astype(np.int32)
    ranks[codes < 0] = -1
    out = [None] * len(frames)
    for i, part in zip(having, np.split(ranks, np.cumsum([len(frames[i]) for i in having])[:-1])):
        out[i] = part
    return out, sorted(uniques)


def _aeseq(frame) -> np.ndarray | None:
    if frame is None:
        return None
    if "AESEQ" not in frame:
        return np.full(len(frame), _NO_SEQ, dtype=np.int64)
    values = pd.to_numeric(frame["AESEQ"]).to_numpy(dtype=float)
    return np.where(np.isnan(values), _NO_SEQ, np.nan_to_num(values)).astype(np.int64)


def _dense_rank(columns: list[np.ndarray]) -> np.ndarray:
    """Each record's rank by ``columns`` (first most significant); equal records share one."""
    order = np.lexsort(columns[::-1])
    step = np.zeros(len(order), dtype=bool)
    for column in columns:
        ordered = column[order]
        step[1:] |= ordered[1:] != ordered[:-1]
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.cumsum(step)
    return rank


def _lineage_order(cells: dict, rank: np.ndarray, n_datasets: int) -> np.ndarray:
    """Order of one table's lineage records: row (headers first), column, dataset, then the
    record's keys (its ``rank``); records alike keep their order. One stable sort on one
    integer when the cell and rank fit in 63 bits, else a lexsort."""
    sizes = [int(cells[k].max(initial=-1)) + 2 for k in ("_r", "_c")]
    cell = cells["_r"].astype(np.int64)
    cell += 1
    cell *= sizes[1]
    cell += cells["_c"] + 1
    cell *= n_datasets
    cell += cells["_d"]
    ranks = int(rank.max(initial=0)) + 1
    if sizes[0] * sizes[1] * max(n_datasets, 1) * ranks < 2**62:
        cell *= ranks
        cell += rank
        return np.argsort(cell, kind="stable")
    return np.lexsort((rank, cell))


def lineage_frame(tables: dict[str, Table]) -> pd.DataFrame:
    """:func:`lineage_table` as a DataFrame (text as str, AESEQ as Int64)."""
    frame = lineage_table(tables).to_pandas()
    return frame.astype({**{c: "str" for c in LINEAGE_COLUMNS if c != "AESEQ"}, "AESEQ": "Int64"})
