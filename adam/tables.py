"""ISS table frames: exposure, TEAE overview, TEAEs by SOC/PT, serious TEAEs, EAIR of events of interest.

Each table is a :class:`Table`: its display columns, its rows, a tidy frame of cells (one
record per displayed cell: row id and label, column, group, statistic, number, formatted
text), its footnotes (the definitions belong in the table) and its lineage (one record per
cell x ADaM record the cell counts, keyed by the dataset's key variables), so every number
traces to the ADaM rows behind it (DESIGN.md principle 6; Tplyr-style cell metadata).

Counting rules (standards.md §7.3, §5), the same in every table:

* Groups are the ISS config's groups, in the order of their numbers. A subject is in a
  group's population (N) when in the safety population (ADSL.SAFFL = "Y") and exposed in
  the group (an ADEX record with that TRTA; ADEX has pooled groups).
* An ADAE record counts in group G when its TRTA (the group of treatment at onset) is G,
  or one of G's ``pools`` when G is a pooled group. Incidence rows count each subject once
  per row and group (n); percentages are 100 x n / N.
* The *all-active reference* orders SOC/PT rows by descending frequency: the config group
  whose ``pools`` are exactly the non-control non-pooled groups (e.g. "All cream"); when
  no group pools them, the union of the non-control non-pooled groups.
* Rates come from :mod:`adam.rates` on ADAETTE (time to first event): EAIR per
  ``rates.per`` patient-years with the config's CI method, and the study-stratified
  Mantel-Haenszel rate difference versus the control (:func:`adam.rates.compare_rates`).

Every function is pure (ADaM frames and the ISS config in, frames out); records are
counted with vectorised merges and group-bys, never row loops.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from adam.adae import matches_event
from adam.config import Group, ISSConfig
from adam.rates import CI_METHODS, compare_rates, eair
from adam.units import DAYS_PER_YEAR
from specs.columns import is_in
from specs.errors import InputError

DURATION_DAYS = "TRTDURD"
"""ADEX parameter: duration of exposure in days (one record per subject x group)."""
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

    @property
    def caption(self) -> str:
        return f"Table {self.number}. {self.title}"

    def grid(self) -> pd.DataFrame:
        """The table as shown: one record per row (``row_id``, ``row_label``, ``indent``,
        ``is_header``) with one text column per display column key (blank on header rows)."""
        wide = self.cells.pivot(index="row_id", columns="column", values="text") if len(self.cells) else \
            pd.DataFrame(index=pd.Index([], name="row_id"))
        keys = [c.key for c in self.columns]
        wide = wide.reindex(columns=keys)
        out = self.rows.merge(wide, left_on="row_id", right_index=True, how="left")
        out[keys] = out[keys].astype(object).where(out[keys].notna(), "")
        return out.sort_values("row", kind="mergesort").reset_index(drop=True)

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


def group_members(iss: ISSConfig) -> dict[str, tuple[str, ...]]:
    """Group label -> the non-pooled groups (ADAE.TRTA values) whose records it counts."""
    return {g.label: (g.pools if g.pooled else (g.label,)) for g in ordered_groups(iss)}


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
    adsl: pd.DataFrame
    adae: pd.DataFrame
    adex: pd.DataFrame
    adaette: pd.DataFrame
    groups: list[Group]
    membership: pd.DataFrame      # TRTA (non-pooled) -> _GROUP (every group it counts in, + reference)
    reference: tuple[str, tuple[str, ...], bool]
    exposed: pd.DataFrame         # ADEX duration records of safety subjects: one per subject x group
    N: pd.Series                  # group label -> subjects exposed (safety population)
    teae: pd.DataFrame            # the treatment-emergent ADAE records (TRTEMFL = "Y")
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


def context(analysis) -> Context:
    """The counting context of an analysis (``.iss`` and ``.datasets`` ADSL, ADAE, ADEX, ADAETTE)."""
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
    unknown = sorted(set(map(str, adex["TRTA"].dropna().unique())) - set(labels))
    if unknown:
        raise InputError(f"ADEX TRTA has value(s) that are not ISS config groups: {', '.join(unknown)}",
                         column="TRTA")
    base_labels = {g.label for g in groups if not g.pooled}
    strays = sorted(set(map(str, adae["TRTA"].dropna().unique())) - base_labels)
    if strays:
        raise InputError(f"ADAE TRTA has value(s) that are not non-pooled ISS config groups: {', '.join(strays)}; "
                         f"their records would not be counted", column="TRTA")
    reference = all_active_group(iss)
    pairs = [(base, label) for label, bases in group_members(iss).items() for base in bases]
    if not reference[2]:
        pairs += [(base, _SORT) for base in reference[1]]
    membership = pd.DataFrame(pairs, columns=["TRTA", "_GROUP"], dtype=object)
    adae = _counted_variables(adae)
    adae = adae[is_in(adae["USUBJID"], safety)]
    adaette = adaette[is_in(adaette["USUBJID"], safety)]
    exposed = adex[(adex["PARAMCD"] == DURATION_DAYS).to_numpy(dtype=bool) & is_in(adex["USUBJID"], safety)]
    dup = exposed.duplicated(["USUBJID", "TRTA"])
    if dup.any():
        row = exposed.loc[dup].iloc[0]
        raise InputError(f"ADEX has more than one {DURATION_DAYS} record for subject {row['USUBJID']} in group "
                         f"{row['TRTA']!r}", column="PARAMCD")
    N = exposed.groupby(exposed["TRTA"].astype(object))["USUBJID"].nunique().reindex(labels, fill_value=0)
    N = N.astype("int64").rename_axis("TRTA")
    teae = adae[(adae["TRTEMFL"] == "Y").fillna(False).to_numpy(dtype=bool)]
    return Context(iss, adsl, adae, adex, adaette, groups, membership, reference, exposed, N, teae)


ADAE_COUNTED = ("STUDYID", "USUBJID", "AESEQ", "TRTA", "TRTEMFL", "AEBODSYS", "AEDECOD", "AESER", "AESEV", "AEACN",
                "AEOUT", "AESDTH", "AREL")
"""The ADAE variables the tables count by (with the CQzzNAM of the events of interest)."""


def _counted_variables(adae: pd.DataFrame) -> pd.DataFrame:
    """ADAE narrowed to :data:`ADAE_COUNTED` and CQzzNAM: every table filters and stacks
    these records several times, the other variables would only be copied along."""
    keep = [c for c in adae.columns if c in ADAE_COUNTED or (c.startswith("CQ") and c.endswith("NAM"))]
    return adae[keep]


# --------------------------------------------------------------------------------------
# counting machinery
# --------------------------------------------------------------------------------------
_EXPANDED = ("row_id", "STUDYID", "USUBJID", "AESEQ", "TRTA", "PARAMCD")
"""What counting and lineage read of an expanded record."""


def _expand(records: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """Each record once per group it counts in (``_GROUP``), via the group membership:
    the records of each (TRTA, group) pair of ``ctx.membership``, pair after pair."""
    bases = ctx.membership["TRTA"].to_numpy(dtype=object)
    groups = ctx.membership["_GROUP"].to_numpy(dtype=object)
    unique = pd.Index(pd.unique(bases))
    codes = _positions_in(records["TRTA"], unique)
    picks = [np.flatnonzero(codes == unique.get_loc(base)) for base in bases]
    keep = [c for c in _EXPANDED if c in records]
    out = records[keep].take(np.concatenate(picks) if picks else np.array([], dtype=np.intp))
    return out.assign(_GROUP=np.repeat(groups, [len(p) for p in picks])).reset_index(drop=True)


def _subject_counts(expanded: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    if not len(expanded):
        return pd.DataFrame(columns=[*keys, "_GROUP", "n"])
    return (expanded.groupby([*keys, "_GROUP"], sort=False)["USUBJID"].nunique()
            .rename("n").reset_index())


def _adae_lineage(expanded: pd.DataFrame, table: str) -> pd.DataFrame:
    out = pd.DataFrame({  # .array: the columns as stored (Arrow text is not turned into Python strings)
        "table": table, "row_id": expanded["row_id"].array, "column": expanded["_GROUP"].array,
        "dataset": "ADAE", "STUDYID": expanded["STUDYID"].array, "USUBJID": expanded["USUBJID"].array,
        "TRTA": expanded["TRTA"].array, "PARAMCD": None,
        "AESEQ": pd.array(expanded["AESEQ"].to_numpy(dtype=float), dtype="Float64").astype("Int64")})
    return out[out["column"] != _SORT]


def _bds_lineage(records: pd.DataFrame, table: str, row_id, column, dataset: str) -> pd.DataFrame:
    return pd.DataFrame({
        "table": table, "row_id": np.asarray(row_id, dtype=object) if not isinstance(row_id, str) else row_id,
        "column": np.asarray(column, dtype=object) if not isinstance(column, str) else column,
        "dataset": dataset, "STUDYID": records["STUDYID"].array, "USUBJID": records["USUBJID"].array,
        "TRTA": records["TRTA"].array if "TRTA" in records else None,
        "PARAMCD": records["PARAMCD"].array if "PARAMCD" in records else None,
        "AESEQ": pd.array([pd.NA] * len(records), dtype="Int64")})


def _header_lineage(ctx: Context, table: str) -> pd.DataFrame:
    """The ADEX records behind each group column's N."""
    return _bds_lineage(ctx.exposed, table, HEADER_ROW, ctx.exposed["TRTA"].astype(object).to_numpy(), "ADEX")


def _concat_lineage(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=LINEAGE_COLUMNS)
    out = pd.concat(parts, ignore_index=True)[LINEAGE_COLUMNS]
    out["AESEQ"] = out["AESEQ"].astype("Int64")
    return out


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
    frame = pd.DataFrame(records, columns=["row_id", "row_label", "indent", "is_header"])
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
    qualifiers, e.g. 'TEAEs with SOC "Infections and infestations", serious (AESER = "Y")'."""
    if event.get("description"):
        return event["description"]
    terms = []
    if event.get("soc"):
        terms.append("SOC " + " or ".join(f'"{s}"' for s in event["soc"]))
    if event.get("pt"):
        terms.append("PT " + ", ".join(f'"{s}"' for s in event["pt"]))
    if event.get("pt_contains"):
        terms.append("PT containing " + " or ".join(f'"{s}"' for s in event["pt_contains"]))
    text = "TEAEs" if event.get("teae_only", True) else "adverse events"
    if terms:
        text += " with " + " or ".join(terms)
    if event.get("pt_exclude"):
        text += " except PT " + ", ".join(f'"{s}"' for s in event["pt_exclude"])
    for key, yes, no in (("serious", "serious (AESER = \"Y\")", "not serious"),
                         ("fatal", "fatal (AEOUT = \"FATAL\" or AESDTH = \"Y\")", "not fatal"),
                         ("related", "related (AREL = \"RELATED\")", "not related")):
        if key in event:
            text += f", {yes if event[key] else no}"
    return text if "," in text or terms else f"all {text}"


# --------------------------------------------------------------------------------------
# overview of TEAEs
# --------------------------------------------------------------------------------------
def _equals(frame: pd.DataFrame, column: str, value: str) -> pd.Series:
    return frame[column].astype(object).eq(value).fillna(False).astype(bool)


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
    the subject started. Columns STUDYID, USUBJID, TRTA."""
    adsl = ctx.adsl
    if "DTHFL" not in adsl:
        return pd.DataFrame(columns=["STUDYID", "USUBJID", "TRTA"])
    dead = adsl[_equals(adsl, "DTHFL", "Y") & _equals(adsl, "SAFFL", "Y")]
    base = {g.label for g in ctx.groups if not g.pooled}
    starts = ctx.exposed[ctx.exposed["TRTA"].isin(base)]
    start_col = "ASTDT" if "ASTDT" in starts else None
    joined = dead[["USUBJID", *(["DTHDT"] if "DTHDT" in dead else [])]].merge(
        starts[["STUDYID", "USUBJID", "TRTA", *([start_col] if start_col else [])]], on="USUBJID", how="inner")
    if start_col and "DTHDT" in joined:
        before = joined["DTHDT"].isna() | joined[start_col].isna() | (joined[start_col] <= joined["DTHDT"])
        joined = joined[before.to_numpy(dtype=bool)]
        joined = joined.sort_values(["USUBJID", start_col], kind="mergesort")
    return joined.drop_duplicates("USUBJID", keep="last")[["STUDYID", "USUBJID", "TRTA"]]


def overview_table(analysis, *, ctx: Context | None = None, number: int = 2) -> Table:
    """Overview of TEAEs: participants with any TEAE, related, severe, serious, serious
    related, leading to discontinuation of study treatment, deaths, and each adverse event
    of special interest (ADAE.CQzzNAM), n (%) per group (standards.md §7.3 item 5).

    Row definitions (on TEAE records, ADAE.TRTEMFL = "Y"): related AREL = "RELATED";
    severe AESEV = "SEVERE"; serious AESER = "Y"; leading to discontinuation AEACN =
    "DRUG WITHDRAWN"; deaths = a fatal TEAE (AEOUT = "FATAL" or AESDTH = "Y") or ADSL.DTHFL =
    "Y" (a death without a fatal TEAE counts in the group of the last treatment started
    on or before the death date); AESI = CQzzNAM is the event's name. A row whose ADAE
    variable is absent shows NA, never 0.
    """
    ctx = ctx or context(analysis)
    name = "teae-overview"
    teae = ctx.teae
    defs = _overview_definitions(ctx)
    aesi = [e for e in ctx.iss.events if "cq" in e]
    row_records = [(rid, label, 0, False) for rid, label, _, _ in defs]
    row_records.append(("deaths", "Deaths", 0, False))
    if aesi:
        row_records.append(("aesi", "Adverse events of special interest", 0, True))
        row_records += [(f"aesi|{e['paramcd']}", e["name"], 1, False) for e in aesi]
    rows = _rows(row_records)

    keys = teae[["STUDYID", "USUBJID", "AESEQ", "TRTA"]]
    parts = [keys[mask.to_numpy(dtype=bool)].assign(row_id=rid) for rid, _, _, mask in defs if mask is not None]
    fatal = keys[_fatal(teae).to_numpy(dtype=bool)].assign(row_id="deaths")
    parts.append(fatal)
    missing_cq = []
    for e in aesi:
        var = f"CQ{e['cq']:02d}NAM"
        if var in teae:
            hit = _equals(teae, var, e["name"])
        else:  # an all-null CQzzNAM may be dropped from ADAE: apply the definition it is derived by
            missing_cq.append(var)
            hit = matches_event(teae, e)
        parts.append(keys[hit.to_numpy(dtype=bool)].assign(row_id=f"aesi|{e['paramcd']}"))
    records = pd.concat(parts, ignore_index=True) if parts else keys.assign(row_id=None).iloc[:0]
    expanded = _expand(records, ctx)
    deaths = _expand(_death_groups(ctx).assign(row_id="deaths"), ctx)
    counts = _subject_counts(pd.concat([expanded[["row_id", "_GROUP", "USUBJID"]],
                                        deaths[["row_id", "_GROUP", "USUBJID"]]], ignore_index=True), ["row_id"])
    unavailable = {rid for rid, _, _, mask in defs if mask is None}
    cells = _count_cells(rows, counts, ctx, name, unavailable)

    death_lineage = pd.DataFrame({
        "table": name, "row_id": "deaths", "column": deaths["_GROUP"].to_numpy(), "dataset": "ADSL",
        "STUDYID": deaths["STUDYID"].to_numpy(), "USUBJID": deaths["USUBJID"].to_numpy(), "TRTA": None,
        "PARAMCD": None, "AESEQ": pd.array([pd.NA] * len(deaths), dtype="Int64")})
    death_lineage = death_lineage[death_lineage["column"] != _SORT]
    lineage = _concat_lineage([_header_lineage(ctx, name), _adae_lineage(expanded, name), death_lineage])

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
    footnotes += [f"{e['name']}: ADAE.CQ{e['cq']:02d}NAM, {describe_event(e)}." for e in aesi]
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
                 notes={"unassigned_teae_records": lost})


# --------------------------------------------------------------------------------------
# TEAEs by SOC and PT
# --------------------------------------------------------------------------------------
UNCODED = "Uncoded"


def _soc_pt(ctx: Context, records: pd.DataFrame, *, name: str, number: int, title: str, any_label: str,
            extra_footnotes: list[str]) -> Table:
    records = records[["STUDYID", "USUBJID", "AESEQ", "TRTA", "AEBODSYS", "AEDECOD"]]
    records = records.assign(
        _SOC=records["AEBODSYS"].astype(object).where(records["AEBODSYS"].notna(), UNCODED),
        _PT=records["AEDECOD"].astype(object).where(records["AEDECOD"].notna(), UNCODED))
    any_rows = records.assign(row_id="any", _LEVEL=0)
    soc_rows = records.assign(row_id="soc|" + records["_SOC"], _LEVEL=1)
    pt_rows = records.assign(row_id="pt|" + records["_SOC"] + "|" + records["_PT"], _LEVEL=2)
    stacked = pd.concat([any_rows, soc_rows, pt_rows], ignore_index=True)
    expanded = _expand(stacked, ctx)
    counts = _subject_counts(expanded, ["row_id"])

    # row order: any first; SOC by descending reference frequency then name; PTs likewise within SOC
    keys = stacked.drop_duplicates("row_id")[["row_id", "_SOC", "_PT", "_LEVEL"]]
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
    rows = _rows(row_records)
    cells = _count_cells(rows, counts, ctx, name)
    lineage = _concat_lineage([_header_lineage(ctx, name), _adae_lineage(expanded, name)])
    notes, lost = _unassigned_note(ctx)
    footnotes = [*_common_footnotes(ctx), _pct_footnote(), _teae_footnote(ctx), *extra_footnotes,
                 _sort_footnote(ctx), f"{UNCODED} = AEBODSYS or AEDECOD missing.", *notes]
    return Table(name, number, title, _population_text(ctx), "System organ class\n  Preferred term",
                 _group_columns(ctx), rows, cells, footnotes, lineage, notes={"unassigned_teae_records": lost})


def soc_pt_table(analysis, *, ctx: Context | None = None, number: int = 3) -> Table:
    """Participants with TEAEs by system organ class and preferred term, n (%) per group
    (standards.md §7.3 item 6): a participant counts once per SOC and once per PT in each
    group; SOCs, and PTs within SOC, by descending frequency in the all-active reference
    (:func:`all_active_group`), then alphabetically."""
    ctx = ctx or context(analysis)
    return _soc_pt(ctx, ctx.teae, name="teae-soc-pt", number=number,
                   title="Participants with treatment-emergent adverse events by system organ class and preferred term",
                   any_label="Participants with at least one TEAE", extra_footnotes=[])


def serious_teae_table(analysis, *, ctx: Context | None = None, number: int = 4) -> Table:
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
def exposure_table(analysis, *, ctx: Context | None = None, number: int = 1) -> Table:
    """Extent of exposure (standards.md §7.3 item 4) per group, from ADEX: participants;
    duration of exposure in days (PARAMCD TRTDURD: mean, SD, median, min, max); total
    patient-years (sum of PARAMCD TRTDURY); participants by cumulative duration
    (>= 1 day, 4, 12, 24, 52 weeks), n (%)."""
    ctx = ctx or context(analysis)
    name = "exposure"
    days = ctx.exposed.assign(TRTA=ctx.exposed["TRTA"].astype(object))
    years = ctx.adex[(ctx.adex["PARAMCD"] == DURATION_YEARS).to_numpy(dtype=bool) & is_in(ctx.adex["USUBJID"], days["USUBJID"])]
    years = years.assign(TRTA=years["TRTA"].astype(object))
    labels = ctx.labels
    by = days.groupby("TRTA")["AVAL"]
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
        n = days[days["AVAL"] >= d].groupby("TRTA")["USUBJID"].nunique().reindex(labels, fill_value=0)
        N = ctx.N.reindex(labels).to_numpy(dtype=float)
        pieces.append(pd.DataFrame({"row_id": f"ge{d}", "column": labels, "stat": "n",
                                    "value": n.to_numpy(dtype=float), "denominator": N,
                                    "text": format_n_pct(n.to_numpy(dtype=float), N)}))
    cells = pd.concat(pieces, ignore_index=True).merge(rows[["row", "row_id", "row_label", "indent"]], on="row_id")
    cells = cells.assign(table=name, group=cells["column"], lower=np.nan, upper=np.nan)[CELL_COLUMNS]
    cells = cells.sort_values(["row"], kind="mergesort").reset_index(drop=True)

    duration_rows = ["n", "mean", "sd", "median", "min", "max"]
    lineage = [_header_lineage(ctx, name)]
    for rid in duration_rows:
        lineage.append(_bds_lineage(days, name, rid, days["TRTA"].to_numpy(), "ADEX"))
    lineage.append(_bds_lineage(years, name, "py", years["TRTA"].to_numpy(), "ADEX"))
    for d, _ in DURATION_THRESHOLDS:
        part = days[days["AVAL"] >= d]
        lineage.append(_bds_lineage(part, name, f"ge{d}", part["TRTA"].to_numpy(), "ADEX"))
    footnotes = [*_common_footnotes(ctx),
                 f"Duration of exposure (days) = last dose date - first dose date + 1 in the group (ADEX PARAMCD = "
                 f"\"{DURATION_DAYS}\"); for a pooled group the sum over its groups. Patient-years = sum of "
                 f"durations / {DAYS_PER_YEAR:g} (ADEX PARAMCD = \"{DURATION_YEARS}\").",
                 "Duration categories are cumulative (1 week = 7 days). SD = standard deviation. NE = not estimable."]
    return Table(name, number, "Extent of exposure to study treatment", _population_text(ctx), "Statistic",
                 _group_columns(ctx), rows, cells, footnotes, _concat_lineage(lineage))


# --------------------------------------------------------------------------------------
# exposure-adjusted incidence rates
# --------------------------------------------------------------------------------------
def _rates_settings(iss: ISSConfig) -> dict:
    rates = iss.rates
    return {"per": rates["per"], "method": rates["ci_method"], "conf_level": rates["conf_level"]}


def _events_frame(iss: ISSConfig) -> pd.DataFrame:
    return pd.DataFrame({"PARAMCD": [e["paramcd"] for e in iss.events], "event": [e["name"] for e in iss.events],
                         "event_order": np.arange(len(iss.events))})


def _event_record_counts(ctx: Context) -> pd.DataFrame:
    """Per event x group: AE records meeting the event's definition (recurrences counted),
    treatment-emergent unless the event says ``teae_only: false``."""
    parts = []
    for event in ctx.iss.events:
        pool = ctx.teae if event.get("teae_only", True) else ctx.adae
        hit = pool[matches_event(pool, event).to_numpy(dtype=bool)]
        parts.append(hit[["USUBJID", "TRTA"]].assign(PARAMCD=event["paramcd"]))
    if not parts:
        return pd.DataFrame(columns=["PARAMCD", "TRTA", "events"])
    expanded = _expand(pd.concat(parts, ignore_index=True), ctx)
    counts = expanded.groupby(["PARAMCD", "_GROUP"], sort=False).size().rename("events").reset_index()
    return counts.rename(columns={"_GROUP": "TRTA"})


def event_rates(analysis, *, ctx: Context | None = None) -> pd.DataFrame:
    """EAIR per event of interest (config order) x group (number order), every group
    listed even without subjects: :func:`adam.rates.eair` on ADAETTE with N from ADEX,
    plus ``events`` (ADAE records meeting the event's definition, recurrences counted).

    Columns: PARAMCD, event, TRTA, TRTAN, subjects_in_population, subjects_at_risk,
    subjects_with_event, events, patient_years_at_risk, eair, ci_lower, ci_upper, ci_method,
    conf_level, per, crude_incidence_pct. Computed once per context (the frame is shared: do
    not modify it)."""
    return _once(ctx or context(analysis), _event_rates)


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
    """(treatment, control) pairs: the config's ``comparisons``, else every non-control
    group versus the control group (none without a control)."""
    given = iss.get("comparisons")
    if given:
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
    """Each comparison of :func:`comparisons` per event: :func:`adam.rates.compare_rates`
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


def aesi_eair_table(analysis, *, ctx: Context | None = None, number: int = 5) -> Table:
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
    lineage_parts = [_header_lineage(ctx, name)]
    tte = ctx.adaette.assign(TRTA=ctx.adaette["TRTA"].astype(object), PARAMCD=ctx.adaette["PARAMCD"].astype(object))
    tte = tte[tte["PARAMCD"].isin([e["paramcd"] for e in ctx.iss.events])]
    tte_rid = (tte["PARAMCD"] + "|" + tte["TRTA"]).to_numpy()
    for column in ("N", "py", "eair"):
        lineage_parts.append(_bds_lineage(tte, name, tte_rid, column, "ADAETTE"))
    with_event = (tte["CNSR"] == 0).to_numpy()
    lineage_parts.append(_bds_lineage(tte[with_event], name, tte_rid[with_event], "n", "ADAETTE"))

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
        both = tte["TRTA"].isin([*treated, control]).to_numpy()
        part = tte[both]
        # each treatment row's difference uses the treatment's and the control's records
        for t in treated:
            sel = part["TRTA"].isin([t, control]).to_numpy()
            sub = part[sel]
            lineage_parts.append(_bds_lineage(sub, name, (sub["PARAMCD"] + "|" + t).to_numpy(),
                                              f"diff|{control}", "ADAETTE"))
    cells = pd.concat(pieces, ignore_index=True).merge(rows[["row", "row_id", "row_label", "indent"]], on="row_id")
    cells = cells.assign(table=name)[CELL_COLUMNS].sort_values("row", kind="mergesort").reset_index(drop=True)

    window = ctx.iss.teae["window_days"]
    window_text = f"the last dose + {window} days" if window is not None else "the end of follow-up"
    strata = ctx.iss.rates["strata"]
    footnotes = [
        *_common_footnotes(ctx),
        "Participants at risk (N): ADAETTE records of the group; n: records with an event (ADAETTE.CNSR = 0); "
        "% = 100 x n / N.",
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
                 _concat_lineage(lineage_parts))


# --------------------------------------------------------------------------------------
# all tables
# --------------------------------------------------------------------------------------
def build_tables(analysis, *, ctx: Context | None = None) -> dict[str, Table]:
    """Every ISS table of the analysis, by name, in report order."""
    ctx = ctx or context(analysis)
    tables = [exposure_table(analysis, ctx=ctx, number=1), overview_table(analysis, ctx=ctx, number=2),
              soc_pt_table(analysis, ctx=ctx, number=3), serious_teae_table(analysis, ctx=ctx, number=4),
              aesi_eair_table(analysis, ctx=ctx, number=5)]
    return {t.name: t for t in tables}


def lineage_table(tables: dict[str, Table]):
    """All tables' lineage as one Arrow table, in table, row and column order, then by
    dataset and key, missing keys first (the package's ``report/lineage/table-cells.parquet``).

    Text columns are dictionary-encoded (a few hundred distinct values over millions of
    records); AESEQ is int64 with nulls."""
    import pyarrow as pa

    parts = []
    for t_index, table in enumerate(tables.values()):
        lin = table.lineage
        rows = pd.Index(table.rows["row_id"].astype(object))
        cols = pd.Index([c.key for c in table.columns], dtype=object)
        parts.append(lin.assign(_t=t_index, _r=_positions_in(lin["row_id"], rows),
                                _c=_positions_in(lin["column"], cols)))
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[*LINEAGE_COLUMNS, "_t", "_r", "_c"])
    text = {c: _sorted_codes(frame[c]) for c in LINEAGE_COLUMNS if c != "AESEQ"}
    aeseq = pd.array(frame["AESEQ"], dtype="Int64")
    keys = [frame[c].to_numpy(dtype=np.int64) for c in ("_t", "_r", "_c")]
    keys += [text[c][0] for c in ("dataset", "STUDYID", "USUBJID", "TRTA", "PARAMCD")]
    keys.append(aeseq.fillna(-1).to_numpy(dtype=np.int64))
    order = np.lexsort(keys[::-1])
    columns = {c: pa.DictionaryArray.from_arrays(pa.array(codes[order], mask=codes[order] < 0, type=pa.int32()),
                                                 pa.array(uniques, type=pa.string()))
               for c, (codes, uniques) in text.items()}
    columns["AESEQ"] = pa.array(aeseq[order], type=pa.int64())
    return pa.table({c: columns[c] for c in LINEAGE_COLUMNS})


def _positions_in(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Each value's position in ``index`` (-1 if absent or null), looked up once per
    distinct value."""
    codes, distinct = pd.factorize(values)
    found = np.append(index.get_indexer(pd.Index(np.asarray(distinct, dtype=object))), -1)
    return found[codes]  # code -1 (null) -> the appended -1


def _sorted_codes(values: pd.Series) -> tuple[np.ndarray, list]:
    """Integer codes of a text column whose order is the values' order (missing = -1), and
    the sorted distinct values."""
    codes, uniques = pd.factorize(values)
    uniques = np.asarray(uniques, dtype=object)
    order = np.argsort(uniques, kind="stable")
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    return np.where(codes >= 0, rank[np.maximum(codes, 0)], -1).astype(np.int32), list(uniques[order])


def lineage_frame(tables: dict[str, Table]) -> pd.DataFrame:
    """:func:`lineage_table` as a DataFrame (text as str, AESEQ as Int64)."""
    frame = lineage_table(tables).to_pandas()
    return frame.astype({**{c: "str" for c in LINEAGE_COLUMNS if c != "AESEQ"}, "AESEQ": "Int64"})
