"""Exposure-adjusted incidence rates, their confidence intervals and comparisons.

The statistics core of the ISS rate tables (standards.md §5 and §7.3 item 13):

* :func:`poisson_rate_ci` — confidence interval for one Poisson rate (exact/Garwood, Byar,
  normal, normal on the log scale), vectorised;
* :func:`crude_incidence` — crude incidence n/N with a Clopper-Pearson interval;
* :func:`eair` — exposure-adjusted *incidence* rate from ADAETTE (subjects with the event /
  time at risk to the first event), one row per event x group;
* :func:`event_rate` — exposure-adjusted *event* rate (all events / total exposure);
* :func:`compare_rates` — treatment vs control: crude pooled rate difference and rate ratio,
  and study-stratified Mantel-Haenszel rate difference, rate ratio and chi-square test.

All functions are pure (no I/O, no globals) and vectorised over records; the only Python
iteration is over a fixed, tiny set of methods. Rates are reported per ``per`` patient-years
(default 100); time is always in years (see :mod:`adam.units`).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from specs.errors import InputError


def _special():
    """scipy.special (the distribution functions, without scipy.stats' import cost), imported
    when an interval is first computed rather than whenever :mod:`report` is imported."""
    from scipy import special

    return special


CI_METHODS: dict[str, str] = {
    "exact": "exact Poisson (Garwood, chi-square)",
    "byar": "Byar (Breslow & Day 1987)",
    "normal": "normal approximation (Wald)",
    "normal_log": "normal approximation on the log scale (Wald)",
}
"""Confidence-interval methods of :func:`poisson_rate_ci` and the name each gets in outputs."""

_ALL = "__all__"  # constant key used when a grouping has no columns


# --------------------------------------------------------------------------------------
# argument checks
# --------------------------------------------------------------------------------------
def _chi2_ppf(q, df):
    """Quantile of the chi-square distribution: 2 x the inverse regularised lower gamma function."""
    return 2.0 * _special().gammaincinv(np.asarray(df, dtype=float) / 2.0, q)


def _alpha(conf_level: float) -> float:
    if isinstance(conf_level, bool) or not isinstance(conf_level, (int, float, np.floating)):
        raise InputError(f"conf_level must be a number strictly between 0 and 1, got {conf_level!r}")
    if not 0.0 < float(conf_level) < 1.0:
        raise InputError(f"conf_level must be strictly between 0 and 1, got {conf_level!r}")
    return 1.0 - float(conf_level)


def _z(conf_level: float) -> float:
    return float(_special().ndtri(1.0 - _alpha(conf_level) / 2.0))


def _check_method(method: str) -> str:
    if method not in CI_METHODS:
        raise InputError(f"unknown confidence-interval method {method!r}; use one of {sorted(CI_METHODS)}")
    return method


def _check_per(per: float) -> float:
    if isinstance(per, bool) or not isinstance(per, (int, float, np.integer, np.floating)) or not per > 0:
        raise InputError(f"per must be a positive number of patient-years, got {per!r}")
    return float(per)


def _as_nonnegative(values, name: str, *, whole: bool) -> np.ndarray:
    """Values as a float array; missing, infinite, negative (or, if ``whole``, fractional)
    values raise InputError naming the first offending position."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be numeric ({exc})") from None
    flat = arr.reshape(-1)
    checks = [
        (~np.isfinite(flat), "is missing or not finite"),
        (flat < 0, "is negative"),
    ]
    if whole:
        checks.append((flat != np.floor(flat), "is not a whole number of events"))
    for bad, what in checks:
        bad = np.asarray(bad)
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise InputError(f"{name} {what} at position {pos}: {flat[pos]!r}")
    return arr


def _scalar_or_array(arr: np.ndarray):
    return arr[()] if arr.ndim == 0 else arr


# --------------------------------------------------------------------------------------
# one rate
# --------------------------------------------------------------------------------------
def _count_limits(n: np.ndarray, method: str, conf_level: float) -> tuple[np.ndarray, np.ndarray]:
    """Confidence limits for the Poisson mean of an observed count ``n`` (not yet / time)."""
    alpha = _alpha(conf_level)
    z = _z(conf_level)
    positive = n > 0
    safe_n = np.where(positive, n, 1.0)  # keeps every formula finite where n == 0
    nan = np.full(n.shape, np.nan)
    if method == "exact":
        lower = np.where(positive, _chi2_ppf(alpha / 2.0, 2.0 * safe_n) / 2.0, 0.0)
        upper = _chi2_ppf(1.0 - alpha / 2.0, 2.0 * n + 2.0) / 2.0
    elif method == "byar":
        lower = np.where(positive, safe_n * (1.0 - 1.0 / (9.0 * safe_n) - z / (3.0 * np.sqrt(safe_n))) ** 3, 0.0)
        m = n + 1.0
        upper = m * (1.0 - 1.0 / (9.0 * m) + z / (3.0 * np.sqrt(m))) ** 3
    elif method == "normal":
        half = z * np.sqrt(n)
        lower = np.where(positive, n - half, nan)
        upper = np.where(positive, n + half, nan)
    else:  # normal_log
        factor = np.exp(z / np.sqrt(safe_n))
        lower = np.where(positive, n / factor, nan)
        upper = np.where(positive, n * factor, nan)
    return lower, upper


def poisson_rate_ci(events, time, *, method: str = "exact", conf_level: float = 0.95):
    r"""Confidence interval for a Poisson rate ``events / time``, element-wise.

    ``events`` (whole numbers >= 0) and ``time`` (person-time >= 0) broadcast against each
    other (numbers, numpy arrays or pandas Series, matched by position). Returns
    ``(lower, upper)`` per unit of ``time`` (per patient-year when ``time`` is in years);
    multiply by 100 for "per 100 PY". Scalars in give numpy scalars out.

    With n events in T person-years, α = 1 − conf_level, z = Φ⁻¹(1 − α/2) and χ²_p(ν) the
    p-quantile of the chi-square distribution with ν degrees of freedom:

    ``"exact"`` — Garwood (1936) exact Poisson interval (standards.md §5.2, tern ``exact``)::

        lower = χ²_{α/2}(2n) / (2T)          (0 when n = 0)
        upper = χ²_{1−α/2}(2n + 2) / (2T)    (n = 0, 95 %: −ln(0.025)/T = 3.689/T)

    ``"byar"`` — Byar's approximation to the exact interval (Rothman & Boice 1979; Breslow &
    Day 1987, vol. II; the form in the UK public-health technical guidance "Rates")::

        lower = n (1 − 1/(9n) − z/(3√n))³ / T                 (0 when n = 0)
        upper = (n+1) (1 − 1/(9(n+1)) + z/(3√(n+1)))³ / T

      Note: tern (``h_incidence_rate_byar``), epitools (``pois.byar``) and DescTools use a
      variant with n + 0.5 in both limits; it is narrower than the exact interval at small
      n, so their "Byar" limits differ from these (and from the exact ones) for small counts.
      For very small n at very high confidence the base of the cube in the lower limit can
      be negative, and the lower limit then is negative; it is not truncated (use "exact").

    ``"normal"`` — Wald interval on the rate scale (tern ``normal``)::

        n/T ± z √n / T

      The lower limit is not truncated at 0 and can be negative for small n.
      At n = 0 the standard error is 0 and the interval would collapse to [0, 0], which
      claims certainty the data do not give: both limits are returned as NaN.

    ``"normal_log"`` — Wald interval on the log-rate scale (tern ``normal_log``)::

        exp(ln(n/T) ± z/√n)

      Undefined at n = 0 (ln 0): both limits are NaN.

    Time 0 (no person-time, e.g. a group with no subjects): the rate is undefined and both
    limits are NaN for every method.

    Raises InputError for an unknown method, a conf_level outside (0, 1), and missing,
    infinite, negative or (for events) fractional values.
    """
    _check_method(method)
    _alpha(conf_level)
    n = _as_nonnegative(events, "events", whole=True)
    t = _as_nonnegative(time, "time", whole=False)
    n, t = np.broadcast_arrays(n, t)
    lower_count, upper_count = _count_limits(n, method, conf_level)
    has_time = t > 0
    safe_t = np.where(has_time, t, 1.0)
    with np.errstate(over="ignore"):  # a subnormal time gives an infinite limit, not a warning
        lower = np.where(has_time, lower_count / safe_t, np.nan)
        upper = np.where(has_time, upper_count / safe_t, np.nan)
    return _scalar_or_array(lower), _scalar_or_array(upper)


def crude_incidence(n, N, *, conf_level: float = 0.95, per: float = 100):
    r"""Crude incidence ``n / N`` with the Clopper-Pearson (exact binomial) interval.

    Element-wise over numbers/arrays (by position). Returns ``(estimate, lower, upper)``
    scaled by ``per`` (default 100: percent). With α = 1 − conf_level and Beta_p(a, b) the
    p-quantile of the beta distribution (Clopper & Pearson 1934)::

        lower = Beta_{α/2}(n, N − n + 1)        (0 when n = 0)
        upper = Beta_{1−α/2}(n + 1, N − n)      (1 when n = N)

    N = 0 (a group with no subjects): all three are NaN. Raises InputError when n or N is
    missing, negative or fractional, or when n > N.
    """
    _alpha(conf_level)
    per = _check_per(per)
    n = _as_nonnegative(n, "n", whole=True)
    N = _as_nonnegative(N, "N", whole=True)
    n, N = np.broadcast_arrays(n, N)
    over = n > N
    if over.any():
        pos = int(np.flatnonzero(over.reshape(-1))[0])
        raise InputError(
            f"more subjects with the event than subjects in the population at position {pos}: "
            f"n = {n.reshape(-1)[pos]:g} > N = {N.reshape(-1)[pos]:g}"
        )
    alpha = 1.0 - conf_level
    has_n = N > 0
    safe_a = np.where(n > 0, n, 1.0)
    safe_b = np.where(N - n > 0, N - n, 1.0)
    lower = np.where(n > 0, _special().betaincinv(safe_a, N - n + 1.0, alpha / 2.0), 0.0)
    upper = np.where(N - n > 0, _special().betaincinv(n + 1.0, safe_b, 1.0 - alpha / 2.0), 1.0)
    estimate = n / np.where(has_n, N, 1.0)
    out = [np.where(has_n, x * per, np.nan) for x in (estimate, lower, upper)]
    return tuple(_scalar_or_array(x) for x in out)


# --------------------------------------------------------------------------------------
# data checks for the frame-level functions
# --------------------------------------------------------------------------------------
def _row_of(label) -> int | None:
    return int(label) if isinstance(label, (int, np.integer)) and not isinstance(label, bool) else None


def _raise_at(frame: pd.DataFrame, bad: pd.Series, column: str, dataset: str, what: str):
    label = bad.index[np.flatnonzero(bad.to_numpy())[0]]
    count = int(bad.sum())
    raise InputError(
        f"{dataset}: {column} {what} (index {label!r}; {count} record(s) affected)",
        row=_row_of(label),
        column=column,
    )


def _require_columns(frame: pd.DataFrame, columns: Sequence[str], dataset: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"{dataset} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in dict.fromkeys(columns) if c not in frame.columns]
    if missing:
        raise InputError(f"{dataset}: required column(s) missing: {', '.join(missing)}", column=missing[0])


def _check_keys_present(frame: pd.DataFrame, columns: Sequence[str], dataset: str) -> None:
    """Grouping keys must not be missing: groupby would silently drop those records."""
    for column in columns:
        bad = frame[column].isna()
        if bad.any():
            _raise_at(frame, bad, column, dataset, "is missing; every record must belong to a group")


def _numeric_column(frame: pd.DataFrame, column: str, dataset: str, *, whole: bool) -> pd.Series:
    values = frame[column]
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        raise InputError(f"{dataset}: {column} must be numeric, has dtype {values.dtype}", column=column)
    values = values.astype(float)
    _raise_if(frame, ~np.isfinite(values), column, dataset, "is missing or not finite")
    _raise_if(frame, values < 0, column, dataset, "is negative")
    if whole:
        _raise_if(frame, values != np.floor(values), column, dataset, "is not a whole number")
    return values


def _raise_if(frame, bad, column, dataset, what):
    bad = pd.Series(np.asarray(bad, dtype=bool), index=frame.index)
    if bad.any():
        _raise_at(frame, bad, column, dataset, what)


def _check_one_record(frame: pd.DataFrame, keys: Sequence[str], dataset: str) -> None:
    duplicated = frame.duplicated(subset=list(keys), keep="first")
    if duplicated.any():
        _raise_at(
            frame, duplicated, keys[-1], dataset,
            f"repeats a record for the same {' x '.join(keys)}; time would be counted twice",
        )


def _check_group(by: Sequence[str], group: str | None, groups) -> None:
    if groups is not None and group not in by:
        raise InputError(f"groups were given but the group column {group!r} is not one of by={tuple(by)}")


# --------------------------------------------------------------------------------------
# summaries
# --------------------------------------------------------------------------------------
def _grouped_sum(frame: pd.DataFrame, by: Sequence[str], columns: Mapping[str, str]) -> pd.DataFrame:
    """Sum ``columns`` (output name -> input column) within ``by`` (observed combinations)."""
    keys = list(by) if by else [_ALL]
    data = frame.assign(**{_ALL: 0}) if not by else frame
    out = data.groupby(keys, sort=True, observed=True, dropna=False)[list(columns.values())].sum()
    out.columns = list(columns.keys())
    out = out.reset_index()
    return out.drop(columns=[_ALL]) if not by else out


def _complete_groups(summary: pd.DataFrame, by: Sequence[str], group: str, groups, zero_columns) -> pd.DataFrame:
    """One row per observed combination of the other ``by`` columns x every listed group,
    in the order of ``groups``; groups without records get zero counts and zero time."""
    if groups is None:
        return summary
    groups = list(groups)
    if len(set(groups)) != len(groups):
        raise InputError(f"groups lists a group more than once: {groups}")
    unknown = sorted(set(summary[group].astype(object)) - set(groups), key=str)
    if unknown:
        raise InputError(
            f"{group} has value(s) not in groups: {', '.join(map(repr, unknown))}; "
            "list every group, or filter the data first",
            column=group,
        )
    listed = pd.DataFrame({group: pd.Series(groups, dtype=object)})
    others = [c for c in by if c != group]
    grid = summary[others].drop_duplicates().merge(listed, how="cross") if others else listed
    keyed = summary.assign(**{group: summary[group].astype(object)})
    out = grid.merge(keyed, on=list(by), how="left", sort=False)
    for column in zero_columns:
        out[column] = out[column].fillna(0).astype(summary[column].dtype)
    return out[summary.columns]


def _attach_rate(out: pd.DataFrame, events: str, time: str, rate: str, *, per, method, conf_level) -> pd.DataFrame:
    n = out[events].to_numpy(dtype=float)
    t = out[time].to_numpy(dtype=float)
    lower, upper = poisson_rate_ci(n, t, method=method, conf_level=conf_level)
    with np.errstate(over="ignore"):  # a subnormal time gives an infinite rate, not a warning
        value = np.where(t > 0, n / np.where(t > 0, t, 1.0), np.nan)
        scaled = {rate: per * value, "ci_lower": per * np.atleast_1d(lower), "ci_upper": per * np.atleast_1d(upper)}
    return out.assign(**scaled, ci_method=CI_METHODS[method], conf_level=float(conf_level), per=per)


def _attach_population(out: pd.DataFrame, population, by: Sequence[str], group: str, conf_level: float) -> pd.DataFrame:
    name = "subjects_in_population"
    if population is None:
        return out.assign(**{name: pd.array([pd.NA] * len(out), dtype="Int64"), "crude_incidence_pct": np.nan})
    series = pd.Series(population) if isinstance(population, Mapping) else population
    if not isinstance(series, pd.Series):
        raise InputError("population must be a mapping or a pandas Series of subject counts per group")
    names = [n for n in series.index.names]
    if names == [None]:
        names = [group]
    if any(n not in by for n in names):
        raise InputError(
            f"population is indexed by {names}; name each index level after one of by={tuple(by)} "
            "(a plain mapping is read as group -> N)"
        )
    if series.index.duplicated().any():
        raise InputError(f"population lists a group more than once: {list(series.index[series.index.duplicated()])}")
    counts = _as_nonnegative(series.to_numpy(), "population", whole=True)
    table = pd.DataFrame(series.index.to_frame(index=False).to_numpy(), columns=names)
    table[name] = counts.astype("int64")
    keyed = out.assign(**{c: out[c].astype(object) for c in names})
    table = table.astype({c: object for c in names})
    merged = keyed.merge(table, on=names, how="left", sort=False, indicator=True)
    absent = merged["_merge"] != "both"
    if absent.any():
        missing = merged.loc[absent, names].drop_duplicates().to_dict("records")
        raise InputError(f"population has no subject count for {missing}")
    merged = merged.drop(columns="_merge")
    for column in names:  # keep the caller's dtypes for the key columns
        merged[column] = out[column].to_numpy()
    too_many = merged["subjects_at_risk"] > merged[name]
    if too_many.any():
        row = merged.loc[too_many].iloc[0]
        raise InputError(
            f"more subjects at risk ({row['subjects_at_risk']}) than in the population ({row[name]}) for "
            f"{ {c: row[c] for c in by} }; the population counts do not match the data"
        )
    estimate, _, _ = crude_incidence(
        merged["subjects_with_event"].to_numpy(), merged[name].to_numpy(), conf_level=conf_level, per=100
    )
    merged[name] = merged[name].astype("Int64")
    merged["crude_incidence_pct"] = np.atleast_1d(estimate)
    return merged


def counted_to_first_event(
    records: pd.DataFrame,
    *,
    by: Sequence[str] = ("PARAMCD", "TRTA"),
    subject: str = "USUBJID",
    order: str = "STARTDT",
    censor: str = "CNSR",
) -> np.ndarray:
    """Which time-to-event records count in a subject's time to the first event of a ``by`` cell
    (standards.md §5.1), when a subject has several records in it — one per treatment piece
    (ADAETTE: a run of one treatment within a period), each with its own time at risk to its
    own first event: the subject's records of the cell in the order of ``order`` (their start),
    up to and including the first with ``censor`` = 0. A subject switching from one member of a
    pooled group to another accumulates the time of both up to the first event, and has one
    event at most. Returns a boolean mask over ``records`` (in their order)."""
    by = list(by)
    _require_columns(records, [*by, subject, order, censor], "ADAETTE")
    if not len(records):
        return np.zeros(0, dtype=bool)
    keys = [*by, subject]
    event = (pd.to_numeric(records[censor], errors="coerce") == 0).to_numpy(dtype=np.int64)
    cell = records[keys].astype(object).groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    rank = np.lexsort((np.arange(len(records)), _sortable(records[order]), cell))
    sorted_cell, sorted_event = cell[rank], event[rank]
    before = pd.Series(sorted_event).groupby(sorted_cell).cumsum().to_numpy() - sorted_event
    counted = np.empty(len(records), dtype=bool)
    counted[rank] = before == 0
    return counted


def _sortable(values: pd.Series) -> np.ndarray:
    """Numbers or dates as float64 in their order (dates as seconds; missing as NaN, sorted last)."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        seconds = values.to_numpy(dtype="datetime64[s]")
        return np.where(np.isnat(seconds), np.nan, seconds.astype("int64").astype("float64"))
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")


def time_to_first_event(
    records: pd.DataFrame,
    *,
    by: Sequence[str] = ("PARAMCD", "TRTA"),
    subject: str = "USUBJID",
    order: str = "STARTDT",
    time: str = "AVAL",
    censor: str = "CNSR",
    carry: Sequence[str] = ("STUDYID", "AVALU"),
) -> pd.DataFrame:
    """One record per ``by`` cell and subject from time-to-event records of pieces
    (:func:`counted_to_first_event`): ``time`` = the sum over the counted records, ``censor`` = 0
    if one of them is an event, else 1; each ``carry`` column (where present) from the event
    record, else from the first. The input of :func:`eair` when a subject may have several
    records in a cell."""
    by = list(by)
    keys = [*by, subject]
    carry = [c for c in carry if c in records and c not in keys]
    counted = records[counted_to_first_event(records, by=by, subject=subject, order=order, censor=censor)]
    counted = counted.iloc[np.argsort(_sortable(counted[order]), kind="stable")]
    work = counted[[*keys, *carry]].astype({k: object for k in keys}).assign(
        _t=pd.to_numeric(counted[time], errors="coerce").to_numpy(dtype="float64"),
        _e=(pd.to_numeric(counted[censor], errors="coerce") == 0).to_numpy(dtype=np.int64))
    grouped = work.groupby(keys, sort=False, dropna=False)
    out = grouped.agg(**{time: ("_t", "sum"), "_e": ("_e", "max"),
                         **{f"_first_{c}": (c, "first") for c in carry},
                         **{f"_last_{c}": (c, "last") for c in carry}}).reset_index()
    for c in carry:
        out[c] = np.where(out["_e"] == 1, out[f"_last_{c}"], out[f"_first_{c}"])
    out[censor] = np.where(out["_e"] == 1, 0.0, 1.0)
    return out[[*keys, *carry, time, censor]]


def eair(
    adaette: pd.DataFrame,
    *,
    by: Sequence[str] = ("PARAMCD", "TRTA"),
    group: str = "TRTA",
    groups: Sequence | None = None,
    population: Mapping | pd.Series | None = None,
    per: float = 100,
    method: str = "exact",
    conf_level: float = 0.95,
    subject: str = "USUBJID",
    time: str = "AVAL",
    censor: str = "CNSR",
    time_unit: str | None = "AVALU",
) -> pd.DataFrame:
    r"""Exposure-adjusted incidence rate (EAIR) per event of interest x group, from ADAETTE.

    standards.md §5.1: "EAIR_E = n_E / T_E, usually reported per 100 patient-years", where
    n_E is the number of subjects with >= 1 qualifying event E (each subject counts once)
    and T_E the sum over all subjects of the time at risk — to the onset of the first E
    for subjects with E, the whole exposure/observation window for the others. In ADAETTE
    (BDS time-to-event, one record per subject x group x event, ``AVAL`` in years) that is,
    within each ``by`` cell:

    1. ``subjects_at_risk`` N = number of distinct ``subject`` values;
    2. ``subjects_with_event`` n = number of records with ``censor`` = 0 (event);
    3. ``patient_years_at_risk`` T = sum of ``time`` over all records (censored at the
       first event by construction of ADAETTE);
    4. ``eair`` = per x n / T, with ``ci_lower``/``ci_upper`` from :func:`poisson_rate_ci`
       (``method``, ``conf_level``) x per, and ``ci_method`` naming the method;
    5. with ``population`` (subjects per group, e.g. from ADSL:
       ``adsl.groupby("TRT01A")["USUBJID"].nunique()``; a Series whose index levels are
       ``by`` columns, or a mapping group -> N): ``subjects_in_population`` and
       ``crude_incidence_pct`` = 100 x n / N. Otherwise those two columns are missing.

    Zero events: eair is 0 with the interval the method defines (exact: lower 0 and a
    finite upper bound; see :func:`poisson_rate_ci`). ``groups`` lists the levels of the
    ``group`` column to report, in order; a listed group with no records gets a row with
    N = n = 0, T = 0 and eair/CI NaN (a rate over no person-time is undefined). Rows are
    the observed combinations of the other ``by`` columns x every listed group.

    Bad input raises InputError: a missing column; a missing key value; ``time`` not
    numeric, missing or negative; ``censor`` not 0/1; ``time_unit`` (when that column
    exists; None to skip) other than "YEARS" — convert days with
    :func:`adam.units.days_to_years`; a subject twice in one ``by`` cell; a group value not
    in ``groups``; population counts missing or smaller than the subjects at risk.
    """
    by = list(by)
    _check_method(method)
    _alpha(conf_level)
    per = _check_per(per)
    _check_group(by, group, groups)
    dataset = "ADAETTE"
    _require_columns(adaette, [*by, subject, time, censor], dataset)
    _check_keys_present(adaette, [*by, subject], dataset)
    years = _numeric_column(adaette, time, dataset, whole=False)
    flags = _numeric_column(adaette, censor, dataset, whole=True)
    _raise_if(adaette, ~flags.isin([0, 1]), censor, dataset, "must be 0 (event) or 1 (censored)")
    if time_unit is not None and time_unit in adaette.columns:
        _raise_if(
            adaette, adaette[time_unit].astype(object) != "YEARS", time_unit, dataset,
            f"must be 'YEARS' ({time} is time at risk in years; convert days with adam.units.days_to_years)",
        )
    _check_one_record(adaette, [*by, subject], dataset)

    work = adaette[by].assign(_event=(flags == 0).astype("int64"), _years=years, _one=1)
    summary = _grouped_sum(
        work, by, {"subjects_at_risk": "_one", "subjects_with_event": "_event", "patient_years_at_risk": "_years"}
    )
    summary = _complete_groups(
        summary, by, group, groups, ["subjects_at_risk", "subjects_with_event", "patient_years_at_risk"]
    )
    out = _attach_rate(
        summary, "subjects_with_event", "patient_years_at_risk", "eair", per=per, method=method, conf_level=conf_level
    )
    out = _attach_population(out, population, by, group, conf_level)
    return out.reset_index(drop=True)


def event_rate(
    exposure: pd.DataFrame,
    *,
    by: Sequence[str] = ("PARAMCD", "TRTA"),
    group: str = "TRTA",
    groups: Sequence | None = None,
    per: float = 100,
    method: str = "exact",
    conf_level: float = 0.95,
    subject: str = "USUBJID",
    events: str = "events",
    time: str = "exposure_years",
) -> pd.DataFrame:
    r"""Exposure-adjusted event rate (EAER) per event category x group.

    standards.md §5.1: "EAER_E = (total number of E events, recurrences included) / (total
    exposure time, not truncated) per 100 PY". Input: one record per subject x group x
    event category with ``events`` (number of events, >= 0) and ``time`` (that subject's
    total exposure in the group, in years, not truncated at any event). Within each ``by``
    cell:

    1. ``subjects_exposed`` = number of records (distinct subjects);
    2. ``subjects_with_event`` = records with ``events`` > 0;
    3. ``events`` = sum of ``events``;
    4. ``patient_years_exposure`` = sum of ``time``;
    5. ``eaer`` = per x events / PY with ``ci_lower``/``ci_upper`` from
       :func:`poisson_rate_ci` and ``ci_method`` naming the method.

    The Poisson interval assumes events independent within subjects; recurrent events
    cluster (over-dispersion), so it is too narrow then (standards.md §5.1). ``groups``
    behaves as in :func:`eair`. Bad input raises InputError (missing column or key,
    non-numeric, missing, negative or fractional counts, negative time, a subject twice in
    one cell, a group not in ``groups``).
    """
    by = list(by)
    _check_method(method)
    _alpha(conf_level)
    per = _check_per(per)
    _check_group(by, group, groups)
    dataset = "exposure"
    _require_columns(exposure, [*by, subject, events, time], dataset)
    _check_keys_present(exposure, [*by, subject], dataset)
    counts = _numeric_column(exposure, events, dataset, whole=True)
    years = _numeric_column(exposure, time, dataset, whole=False)
    _check_one_record(exposure, [*by, subject], dataset)

    work = exposure[by].assign(
        _events=counts.astype("int64"), _with=(counts > 0).astype("int64"), _years=years, _one=1
    )
    summary = _grouped_sum(
        work, by,
        {"subjects_exposed": "_one", "subjects_with_event": "_with", "events": "_events",
         "patient_years_exposure": "_years"},
    )
    summary = _complete_groups(
        summary, by, group, groups, ["subjects_exposed", "subjects_with_event", "events", "patient_years_exposure"]
    )
    out = _attach_rate(summary, "events", "patient_years_exposure", "eaer", per=per, method=method, conf_level=conf_level)
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------------------
# comparisons
# --------------------------------------------------------------------------------------
def _wald(estimate, se, z):
    """Wald limits and z statistic; NaN where the standard error is 0 or undefined."""
    ok = np.isfinite(se) & (se > 0)
    safe = np.where(ok, se, 1.0)
    lower = np.where(ok, estimate - z * safe, np.nan)
    upper = np.where(ok, estimate + z * safe, np.nan)
    stat = np.where(ok, estimate / safe, np.nan)
    return lower, upper, stat


def _two_sided_normal_p(stat):
    return np.where(np.isnan(stat), np.nan, 2.0 * _special().ndtr(-np.abs(np.nan_to_num(stat))))


def _crude_rows(e1, t1, e0, t0, *, z, alpha, per):
    """Crude (pooled) comparisons as column dicts: RD (Wald), RR (Wald, log), RR (exact)."""
    both_time = (t1 > 0) & (t0 > 0)
    st1, st0 = np.where(t1 > 0, t1, 1.0), np.where(t0 > 0, t0, 1.0)  # keep formulas finite
    return [
        _crude_difference(e1, st1, e0, st0, both_time, z=z, per=per),
        _crude_ratio_wald(e1, st1, e0, st0, both_time, z=z),
        _crude_ratio_exact(e1, st1, e0, st0, both_time, alpha=alpha),
    ]


def _crude_ratio(e1, t1, e0, t0, both_time):
    """(n1/T1)/(n0/T0); NaN without control events (division by 0) or person-time."""
    return np.where(both_time & (e0 > 0), (e1 / t1) / np.where(e0 > 0, e0 / t0, 1.0), np.nan)


def _crude_difference(e1, t1, e0, t0, both_time, *, z, per):
    rd = np.where(both_time, e1 / t1 - e0 / t0, np.nan)
    se = np.where(both_time, np.sqrt(e1 / t1**2 + e0 / t0**2), np.nan)
    lo, hi, zs = _wald(rd, se, z)
    return dict(comparison="rate difference", method="crude pooled, Wald", test="Wald z",
                estimate=rd * per, ci_lower=lo * per, ci_upper=hi * per, statistic=zs,
                p_value=_two_sided_normal_p(zs))


def _crude_ratio_wald(e1, t1, e0, t0, both_time, *, z):
    rr = _crude_ratio(e1, t1, e0, t0, both_time)
    logs = both_time & (e1 > 0) & (e0 > 0)
    log_rr = np.where(logs, np.log(np.where(logs, rr, 1.0)), np.nan)
    se_log = np.where(logs, np.sqrt(1.0 / np.where(e1 > 0, e1, 1.0) + 1.0 / np.where(e0 > 0, e0, 1.0)), np.nan)
    lo, hi, zs = _wald(log_rr, se_log, z)
    return dict(comparison="rate ratio", method="crude pooled, Wald on the log scale", test="Wald z (log scale)",
                estimate=rr, ci_lower=np.exp(lo), ci_upper=np.exp(hi), statistic=zs,
                p_value=_two_sided_normal_p(zs))


def _crude_ratio_exact(e1, t1, e0, t0, both_time, *, alpha):
    """Conditional on n1 + n0, n1 ~ Binomial(n1 + n0, p): Clopper-Pearson limits on p,
    mapped to RR = p T0 / ((1 − p) T1); doubled two-sided binomial test of p0 = T1/(T1+T0)."""
    p_lo = np.where(e1 > 0, _special().betaincinv(np.where(e1 > 0, e1, 1.0), e0 + 1.0, alpha / 2.0), 0.0)
    p_hi = np.where(e0 > 0, _special().betaincinv(e1 + 1.0, np.where(e0 > 0, e0, 1.0), 1.0 - alpha / 2.0), 1.0)
    open_top = p_hi >= 1.0  # no control events: the ratio has no finite upper bound
    safe_hi = np.where(open_top, 0.5, p_hi)
    lower = np.where(both_time, p_lo * t0 / ((1.0 - p_lo) * t1), np.nan)
    upper = np.where(both_time, np.where(open_top, np.inf, safe_hi * t0 / ((1.0 - safe_hi) * t1)), np.nan)
    p_null = np.where(both_time, t1 / (t1 + t0), 0.5)
    k = np.asarray(e1, dtype=np.int64)           # event counts are whole numbers
    total = k + np.asarray(e0, dtype=np.int64)
    tail = np.minimum(_special().bdtr(k, total, p_null), _special().bdtrc(k - 1, total, p_null))
    return dict(comparison="rate ratio",
                method="crude pooled, exact conditional (binomial, Clopper-Pearson)",
                test="exact conditional binomial, two-sided (doubled)",
                estimate=_crude_ratio(e1, t1, e0, t0, both_time), ci_lower=lower, ci_upper=upper,
                statistic=np.full(e1.shape, np.nan), p_value=np.where(both_time, np.minimum(1.0, 2.0 * tail), np.nan))


def _treatment_groups(groups: pd.Series, control, treatments, column: str) -> list:
    present = set(groups)
    if control not in present:
        raise InputError(f"control group {control!r} does not occur in {column}", column=column)
    if treatments is None:
        return [g for g in pd.unique(groups) if g != control]
    treatments = list(treatments)
    absent = [g for g in treatments if g not in present or g == control]
    if absent:
        raise InputError(f"treatment group(s) {absent} do not occur in {column} (or are the control)", column=column)
    return treatments


def _crude_arms(trt: pd.DataFrame, ctl: pd.DataFrame, keys: list) -> pd.DataFrame:
    """Events and time summed over all strata: one row per key x treatment, with the
    control's totals for the same key (0 where the control has no records)."""
    arm1 = trt.groupby([*keys, "_group"], sort=False, observed=True)[["_e", "_t"]].sum().reset_index()
    arm0 = ctl.groupby(keys, sort=False, observed=True)[["_e", "_t"]].sum().reset_index()
    return arm1.merge(arm0, on=keys, how="left", suffixes=("1", "0")).fillna({"_e0": 0.0, "_t0": 0.0})


def _mh_sums(trt: pd.DataFrame, ctl: pd.DataFrame, keys: list, strata: str, *, order: pd.DataFrame) -> pd.DataFrame:
    """Per key x treatment, the sums over strata of the Mantel-Haenszel terms
    (standards.md §5.3); strata where either arm has no person-time contribute 0."""
    cells = trt.merge(ctl.drop(columns="_group"), on=[*keys, strata], how="left", suffixes=("1", "0"))
    cells = cells.fillna({"_e0": 0.0, "_t0": 0.0})
    a, T1, b, T0 = (cells[c].to_numpy(dtype=float) for c in ("_e1", "_t1", "_e0", "_t0"))
    use = (T1 > 0) & (T0 > 0)
    sT1, sT0 = np.where(use, T1, 1.0), np.where(use, T0, 1.0)
    Tk, M = sT1 + sT0, a + b
    w = sT1 * sT0 / Tk
    terms = {
        "w": w,
        "w_diff": w * (a / sT1 - b / sT0),
        "w2_var": w**2 * (a / sT1**2 + b / sT0**2),
        "R": a * sT0 / Tk,
        "S": b * sT1 / Tk,
        "P": M * sT1 * sT0 / Tk**2,
        "O": a,
        "E": M * sT1 / Tk,
        "strata_used": np.ones_like(a),
        "events_treatment": a,
        "time_treatment": T1,
        "events_control": b,
        "time_control": T0,
    }
    frame = pd.DataFrame({name: np.where(use, values, 0.0) for name, values in terms.items()})
    frame[[*keys, "_group"]] = cells[[*keys, "_group"]].to_numpy()
    sums = frame.groupby([*keys, "_group"], sort=False).sum().reset_index()
    key_cols = [*keys, "_group"]
    return order.astype(object).merge(sums.astype({c: object for c in key_cols}), on=key_cols, how="left")


def _mh_rows(s: pd.DataFrame, *, z, per, strata):
    """Mantel-Haenszel rate difference and rate ratio from per-(cell) sums of stratum terms."""
    sw = s["w"].to_numpy()
    has = sw > 0
    safe_sw = np.where(has, sw, 1.0)
    rd = np.where(has, s["w_diff"].to_numpy() / safe_sw, np.nan)
    se = np.where(has, np.sqrt(s["w2_var"].to_numpy()) / safe_sw, np.nan)
    lo, hi, zs = _wald(rd, se, z)
    rows = [dict(comparison="rate difference",
                 method=f"Mantel-Haenszel, stratified by {strata} (weights T1k·T0k/(T1k+T0k))",
                 test="Wald z", estimate=rd * per, ci_lower=lo * per, ci_upper=hi * per, statistic=zs,
                 p_value=_two_sided_normal_p(zs))]

    R, S, P = s["R"].to_numpy(), s["S"].to_numpy(), s["P"].to_numpy()
    rr = np.where(has & (S > 0), R / np.where(S > 0, S, 1.0), np.nan)
    logs = has & (R > 0) & (S > 0)
    log_rr = np.where(logs, np.log(np.where(logs, rr, 1.0)), np.nan)
    se_log = np.where(logs, np.sqrt(P / np.where(logs, R * S, 1.0)), np.nan)
    lo, hi, _ = _wald(log_rr, se_log, z)
    V = s["P"].to_numpy()  # Σ M_k T1k T0k / T_k² is also the MH test variance
    ok = has & (V > 0)
    chi2 = np.where(ok, (s["O"].to_numpy() - s["E"].to_numpy()) ** 2 / np.where(ok, V, 1.0), np.nan)
    p = np.where(ok, _special().gammaincc(0.5, np.nan_to_num(chi2) / 2.0), np.nan)
    rows.append(dict(comparison="rate ratio",
                     method=f"Mantel-Haenszel, stratified by {strata} (Greenland-Robins variance)",
                     test="Mantel-Haenszel chi-square (1 df)", estimate=rr, ci_lower=np.exp(lo), ci_upper=np.exp(hi),
                     statistic=chi2, p_value=p))
    return rows


def compare_rates(
    rates: pd.DataFrame,
    *,
    control,
    group: str = "TRTA",
    by: Sequence[str] = ("PARAMCD",),
    strata: str | None = None,
    treatments: Sequence | None = None,
    events: str = "subjects_with_event",
    time: str = "patient_years_at_risk",
    per: float = 100,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    r"""Compare each treatment group's rate with the control group's (standards.md §5.3).

    ``rates`` holds event counts and person-years per ``by`` x ``group`` (x ``strata``)
    cell — typically the output of :func:`eair` (defaults) or :func:`event_rate`
    (``events="events", time="patient_years_exposure"``) computed with
    ``by=(strata, *by, group)``. One output row per ``by`` x treatment x method, in
    the long layout: ``comparison`` (rate difference | rate ratio), ``method``,
    ``estimate``, ``ci_lower``, ``ci_upper`` (rate differences per ``per`` PY; ratios
    unscaled), ``test``, ``statistic``, ``p_value``, ``strata_used``, and the arm totals
    the row is based on (``events_treatment``, ``time_treatment``, ``events_control``,
    ``time_control``).

    With drug arm 1 (n1 events in T1 PY) and control arm 0, z = Φ⁻¹(1 − α/2):

    (a) crude pooled — events and PY summed over all strata of each arm:

    * rate difference, Wald: ``RD = n1/T1 − n0/T0``, ``SE = √(n1/T1² + n0/T0²)``;
    * rate ratio, Wald on the log scale: ``RR = (n1/T1)/(n0/T0)``, ``SE(ln RR) = √(1/n1 + 1/n0)``;
    * rate ratio, exact conditional: given n1 + n0, n1 ~ Binomial(n1 + n0, p) with
      ``p = T1·RR/(T1·RR + T0)``; Clopper-Pearson limits on p mapped to
      ``RR = p·T0/((1 − p)·T1)``; the test of RR = 1 is the two-sided binomial test
      with p0 = T1/(T1 + T0), p-value = min(1, 2·min(P(X ≤ n1), P(X ≥ n1))).

    (b) stratified by ``strata`` (when given), per stratum k: a_k, T1k (drug), b_k, T0k
    (control), T_k = T1k + T0k, M_k = a_k + b_k:

    * MH rate difference: ``w_k = T1k·T0k/T_k``, ``RD_MH = Σ w_k (a_k/T1k − b_k/T0k) / Σ w_k``,
      ``Var = Σ w_k² (a_k/T1k² + b_k/T0k²) / (Σ w_k)²`` (SAS PROC STDRATE), Wald CI and z test;
    * MH rate ratio: ``RR_MH = Σ (a_k T0k/T_k) / Σ (b_k T1k/T_k)``, Greenland-Robins
      ``Var(ln RR_MH) = Σ (M_k T1k T0k/T_k²) / [(Σ a_k T0k/T_k)(Σ b_k T1k/T_k)]``, CI on the log
      scale; test: ``χ²_MH = (Σ a_k − Σ E_k)² / Σ V_k`` on 1 df with ``E_k = M_k T1k/T_k``,
      ``V_k = M_k T1k T0k/T_k²``.

    A stratum in which either arm has no person-time (e.g. an open-label extension with no
    control arm) has weight 0 and drops out of the stratified estimates; ``strata_used``
    counts the strata that contribute, and the arm totals on MH rows are over those strata.
    It still counts in the crude pooled rows.

    Zero events, by definition of each formula (NaN = not defined):

    * RD: defined whenever both arms have person-time; its Wald interval is NaN when the
      standard error is 0 (no events in either arm / any contributing stratum);
    * RR: estimate NaN when the control has no events (division by 0) and 0 when only the
      treatment has none; Wald (log-scale) limits NaN when either has none; the exact
      conditional interval stays defined: lower 0 when n1 = 0, upper +inf when n0 = 0;
    * MH χ²: NaN when Σ V_k = 0.

    These Wald variances treat the arms as independent; a subject counted in both arms
    (vehicle, then cream in an extension) makes them dependent.

    Raises InputError: missing columns or key values, control not among the groups, a
    treatment not in the data, a repeated cell, negative/fractional events or negative time.
    """
    by = list(by)
    alpha = _alpha(conf_level)
    z = _z(conf_level)
    per = _check_per(per)
    strata_cols = [strata] if strata is not None else []
    dataset = "rates"
    _require_columns(rates, [*by, *strata_cols, group, events, time], dataset)
    _check_keys_present(rates, [*by, *strata_cols, group], dataset)
    e = _numeric_column(rates, events, dataset, whole=True)
    t = _numeric_column(rates, time, dataset, whole=False)
    _check_one_record(rates, [*by, *strata_cols, group], dataset)

    keys = by if by else [_ALL]
    work = rates[[*by, *strata_cols]].assign(_group=rates[group].astype(object), _e=e, _t=t)
    if not by:
        work[_ALL] = 0
    treatments = _treatment_groups(work["_group"], control, treatments, group)
    trt = work[work["_group"].isin(treatments)]
    ctl = work[work["_group"] == control]

    crude = _crude_arms(trt, ctl, keys)
    e1, t1, e0, t0 = (crude[c].to_numpy(dtype=float) for c in ("_e1", "_t1", "_e0", "_t0"))
    totals = dict(strata_used=np.nan, events_treatment=e1, time_treatment=t1, events_control=e0, time_control=t0)
    pieces = [
        crude[[*keys, "_group"]].assign(**row, **totals)
        for row in _crude_rows(e1, t1, e0, t0, z=z, alpha=alpha, per=per)
    ]
    if strata is not None:
        sums = _mh_sums(trt, ctl, keys, strata, order=crude[[*keys, "_group"]])
        kept = [*keys, "_group", "strata_used", "events_treatment", "time_treatment", "events_control", "time_control"]
        pieces += [sums[kept].assign(**row) for row in _mh_rows(sums, z=z, per=per, strata=strata)]

    out = pd.concat(pieces, ignore_index=True)
    order = {g: i for i, g in enumerate(treatments)}
    method_order = {m: i for i, m in enumerate(pd.unique(out["method"]))}
    out = out.assign(_go=out["_group"].map(order), _mo=out["method"].map(method_order))
    out = out.sort_values([*keys, "_go", "_mo"], kind="stable").drop(columns=["_go", "_mo"])
    out = out.rename(columns={"_group": group}).assign(control=control, conf_level=float(conf_level), per=per)
    if not by:
        out = out.drop(columns=[_ALL])
    columns = [*by, group, "control", "comparison", "method", "estimate", "ci_lower", "ci_upper", "conf_level",
               "per", "test", "statistic", "p_value", "strata_used", "events_treatment", "time_treatment",
               "events_control", "time_control"]
    out = out[columns].reset_index(drop=True)
    out["strata_used"] = out["strata_used"].astype("Int64")
    for column in ("events_treatment", "events_control"):  # sums of whole numbers
        out[column] = out[column].round().astype("int64")
    return out
