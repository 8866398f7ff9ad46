"""report.rates: one-rate confidence intervals, crude incidence, EAIR and EAER.

Expected values come from three kinds of source, each named where it is used:
* published numbers (tern test snapshots, DescTools documentation, standards.md §5.4);
* closed forms derived here independently of the implementation (the gamma form of the
  exact interval instead of the chi-square form, -ln(α/2)/T at zero events, the Byar and
  Wald formulas written out, Clopper-Pearson from scipy.stats.binomtest);
* properties (bounds contain the estimate, widen with confidence, exact coverage).
"""
from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from adam.units import DAYS_PER_YEAR, days_to_years
from report.rates import CI_METHODS, crude_incidence, eair, event_rate, poisson_rate_ci
from specs.errors import InputError

METHODS = sorted(CI_METHODS)


def assert_printed(value: float, printed: str) -> None:
    """``value`` agrees with a published number to the precision it was printed with
    (half a unit in its last printed decimal place)."""
    decimals = max(0, -Decimal(printed).as_tuple().exponent)
    assert abs(value - float(printed)) <= 0.5 * 10.0**-decimals + 1e-12, (value, printed)


# --------------------------------------------------------------------------------------
# units
# --------------------------------------------------------------------------------------
def test_days_per_year_is_the_julian_year():
    assert DAYS_PER_YEAR == 365.25
    assert days_to_years(365.25) == 1.0
    assert days_to_years(1035) == pytest.approx(2.833675564681725, abs=1e-15)


def test_days_to_years_keeps_series_index_and_missing_values():
    days = pd.Series([365.25, np.nan, 730.5], index=["a", "b", "c"])
    years = days_to_years(days)
    assert list(years.index) == ["a", "b", "c"]
    assert years["a"] == 1.0 and np.isnan(years["b"]) and years["c"] == 2.0


def test_days_per_year_is_defined_in_one_place():
    """No module other than adam/units.py writes the number of days in a year."""
    root = Path(__file__).resolve().parents[1]
    offenders = [
        str(path.relative_to(root))
        for package in ("adam", "sdtm", "specs", "fileformats", "define", "report", "trialpack")
        for path in (root / package).rglob("*.py")
        if path.name != "units.py" and ("365.25" in path.read_text() or "365.24" in path.read_text())
    ]
    assert offenders == []


# --------------------------------------------------------------------------------------
# poisson_rate_ci: published values
# --------------------------------------------------------------------------------------
def test_standards_worked_example_a_exact_interval():
    """standards.md §5.4(a): 2 headaches in 1035 days -> 70.58 per 100 PY, 95 % exact CI
    (8.55, 254.96); to 1e-6 against the gamma form Gamma.ppf(α/2, n)/T,
    Gamma.ppf(1 − α/2, n + 1)/T (standards.md §5.2), independent of the chi-square form."""
    T = 1035 / 365.25
    lower, upper = poisson_rate_ci(2, T)
    assert_printed(100 * lower, "8.55")
    assert_printed(100 * upper, "254.96")
    assert_printed(100 * 2 / T, "70.58")
    assert 100 * lower == pytest.approx(100 * stats.gamma.ppf(0.025, 2) / T, abs=1e-6)
    assert 100 * upper == pytest.approx(100 * stats.gamma.ppf(0.975, 3) / T, abs=1e-6)
    assert 100 * lower == pytest.approx(8.547530337022, abs=1e-6)
    assert 100 * upper == pytest.approx(254.958180737795, abs=1e-6)


# tern (insightsengineering/tern), tests/testthat/test-estimate_incidence_rate.R calls
# h_incidence_rate_<type>(person_years = 200, n_events = 2, alpha = 0.1); the expected values
# are its snapshot tests/testthat/_snaps/estimate_incidence_rate.md (R prints 7 significant
# digits; the same numbers are on https://rdrr.io/cran/tern/f/tests/testthat/_snaps/estimate_incidence_rate.md).
TERN_200_PY_2_EVENTS_90 = {
    "normal": ("-0.001630872", "0.021630872"),
    "normal_log": ("0.003125199", "0.031997963"),
    "exact": ("0.001776808", "0.031478968"),
}


@pytest.mark.parametrize("method", sorted(TERN_200_PY_2_EVENTS_90))
def test_tern_published_intervals_2_events_in_200_py(method):
    lower, upper = poisson_rate_ci(2, 200, method=method, conf_level=0.90)
    assert_printed(lower, TERN_200_PY_2_EVENTS_90[method][0])
    assert_printed(upper, TERN_200_PY_2_EVENTS_90[method][1])


def test_tern_published_normal_interval_4_events_in_108_7_py():
    """tern a_incidence_rate with default control (95 %, normal, per 100 PY) on 4 events in
    108.7 patient-years: rate 3.6799, CI (0.0737, 7.2860) — tern
    tests/testthat/_snaps/incidence_rate.md as published on
    https://rdrr.io/cran/tern/f/tests/testthat/_snaps/incidence_rate.md (the current
    snapshot prints the same cell as 3.68 (0.07, 7.29)). To 1e-6 against n/T ± z√n/T."""
    lower, upper = poisson_rate_ci(4, 108.7, method="normal", conf_level=0.95)
    assert_printed(100 * 4 / 108.7, "3.6799")
    assert_printed(100 * lower, "0.0737")
    assert_printed(100 * upper, "7.2860")
    z = stats.norm.ppf(0.975)
    assert 100 * lower == pytest.approx(100 * (4 - z * 2) / 108.7, abs=1e-6)
    assert 100 * upper == pytest.approx(100 * (4 + z * 2) / 108.7, abs=1e-6)


def test_tern_published_normal_log_interval_4_events_in_9_058_py():
    """tern s_incidence_rate, 90 % normal_log, input in months: AVAL = 10.1, 20.4, 15.3,
    20.8, 18.7, 23.4 months (108.7 months = 9.058333 PY), 4 events -> rate 44.15823, CI
    (19.40154, 100.50487) per 100 PY (tern tests/testthat/_snaps/incidence_rate.md). To 1e-6
    against exp(ln r ± z/√n)."""
    T = 108.7 / 12
    assert_printed(T, "9.058333")
    lower, upper = poisson_rate_ci(4, T, method="normal_log", conf_level=0.90)
    assert_printed(100 * lower, "19.40154")
    assert_printed(100 * upper, "100.50487")
    z = stats.norm.ppf(0.95)
    rate = 4 / T
    assert 100 * lower == pytest.approx(100 * math.exp(math.log(rate) - z / 2), abs=1e-6)
    assert 100 * upper == pytest.approx(100 * math.exp(math.log(rate) + z / 2), abs=1e-6)


def test_desctools_published_horse_kick_intervals():
    """DescTools PoissonCI documentation example (Bortkiewicz horse kicks: 196 deaths in
    280 corps-years): exact (0.6054271, 0.8051570), wald (0.6020018, 0.7979982) —
    https://andrisignorell.github.io/DescTools/dev/reference/PoissonCI.html"""
    lower, upper = poisson_rate_ci(196, 280, method="exact")
    assert_printed(lower, "0.6054271")
    assert_printed(upper, "0.8051570")
    lower, upper = poisson_rate_ci(196, 280, method="normal")
    assert_printed(lower, "0.6020018")
    assert_printed(upper, "0.7979982")


def test_byar_is_the_breslow_day_form_not_the_half_event_variant():
    """Byar's limits as in Breslow & Day (1987) and the UK public-health technical guidance
    ("Rates", fingertips.phe.org.uk): lower with n, upper with n + 1. tern
    (h_incidence_rate_byar), epitools and DescTools use n + 0.5 in both limits; tern's
    published 90 % interval for 2 events in 200 PY is (0.002820411, 0.027609866)
    (_snaps/estimate_incidence_rate.md), far from the exact (0.001776808, 0.031478968).
    Ours is the textbook approximation to the exact interval."""
    lower, upper = poisson_rate_ci(2, 200, method="byar", conf_level=0.90)
    z = stats.norm.ppf(0.95)
    assert lower == pytest.approx(2 * (1 - 1 / 18 - z / (3 * math.sqrt(2))) ** 3 / 200, rel=1e-12)
    assert upper == pytest.approx(3 * (1 - 1 / 27 + z / (3 * math.sqrt(3))) ** 3 / 200, rel=1e-12)
    assert abs(lower - 0.001776808) < 0.1 * abs(0.002820411 - 0.001776808)
    assert abs(upper - 0.031478968) < 0.1 * abs(0.027609866 - 0.031478968)


def test_byar_within_published_accuracy_of_exact_for_ten_or_more_events():
    """UK public-health technical guidance on confidence intervals: for 95 % intervals
    Byar's method is within 0.2 % of the exact value for numerators of 10 or more."""
    n = np.arange(10, 3001)
    byar_lo, byar_hi = poisson_rate_ci(n, 1.0, method="byar")
    exact_lo, exact_hi = poisson_rate_ci(n, 1.0, method="exact")
    assert np.max(np.abs(byar_lo / exact_lo - 1)) < 0.002
    assert np.max(np.abs(byar_hi / exact_hi - 1)) < 0.002


# --------------------------------------------------------------------------------------
# poisson_rate_ci: zero events, zero time, vectors, errors
# --------------------------------------------------------------------------------------
def test_zero_events_exact_has_lower_zero_and_finite_upper():
    """standards.md §5.2: n = 0, 95 %: upper = 3.689/T = −ln(0.025)/T."""
    lower, upper = poisson_rate_ci(0, 2.5)
    assert lower == 0.0
    assert upper == pytest.approx(-math.log(0.025) / 2.5, rel=1e-12)
    assert_printed(upper * 2.5, "3.689")


def test_zero_events_byar_lower_zero_upper_from_one_event_formula():
    z = stats.norm.ppf(0.975)
    lower, upper = poisson_rate_ci(0, 4.0, method="byar")
    assert lower == 0.0
    assert upper == pytest.approx((1 - 1 / 9 + z / 3) ** 3 / 4.0, rel=1e-12)


@pytest.mark.parametrize("method", ["normal", "normal_log"])
def test_zero_events_wald_intervals_are_not_defined(method):
    """normal: the SE is 0 at n = 0, so tern prints a [0, 0] interval
    (tern _snaps/incidence_rate.md, row "Y - 95% CI (0.00, 0.00)"); normal_log: ln 0.
    Both are reported as NaN rather than as a zero-width interval."""
    lower, upper = poisson_rate_ci(0, 35.7, method=method)
    assert np.isnan(lower) and np.isnan(upper)


@pytest.mark.parametrize("method", METHODS)
def test_zero_time_gives_undefined_interval(method):
    lower, upper = poisson_rate_ci([0, 3], [0.0, 0.0], method=method)
    assert np.isnan(lower).all() and np.isnan(upper).all()


def test_vectorised_inputs_match_scalar_calls_and_broadcast():
    events = np.array([0, 1, 2, 7, 40, 1000])
    time = pd.Series([1.5, 2.0, 9.058, 30.0, 108.7, 5000.0])
    for method in METHODS:
        lower, upper = poisson_rate_ci(events, time, method=method, conf_level=0.9)
        assert lower.shape == upper.shape == (6,)
        for i in range(6):
            lo_i, hi_i = poisson_rate_ci(int(events[i]), float(time.iloc[i]), method=method, conf_level=0.9)
            np.testing.assert_equal([lower[i], upper[i]], [lo_i, hi_i])
    lower, upper = poisson_rate_ci(events, 10.0)
    assert lower.shape == (6,)
    np.testing.assert_allclose(upper, stats.gamma.ppf(0.975, events + 1) / 10.0, rtol=1e-10)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(events=1, time=1, method="wald"), "unknown confidence-interval method"),
        (dict(events=1, time=1, conf_level=1.0), "conf_level"),
        (dict(events=1, time=1, conf_level=0), "conf_level"),
        (dict(events=1, time=1, conf_level=95), "conf_level"),
        (dict(events=1, time=1, conf_level=True), "conf_level"),
        (dict(events=-1, time=1), "events is negative"),
        (dict(events=1.5, time=1), "not a whole number"),
        (dict(events=[1, np.nan], time=1), "events is missing"),
        (dict(events=1, time=-0.5), "time is negative"),
        (dict(events=1, time=np.inf), "time is missing or not finite"),
        (dict(events="3", time=1), None),
    ],
)
def test_bad_arguments_raise_input_error(kwargs, message):
    if message is None:  # a numeric string converts; anything else is refused
        assert poisson_rate_ci(**kwargs)[1] > 0
        with pytest.raises(InputError, match="events must be numeric"):
            poisson_rate_ci(events="three", time=1)
        return
    with pytest.raises(InputError, match=message):
        poisson_rate_ci(**kwargs)


# --------------------------------------------------------------------------------------
# poisson_rate_ci: properties
# --------------------------------------------------------------------------------------
counts = st.integers(min_value=0, max_value=100_000)
times = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)
levels = st.floats(min_value=0.5, max_value=0.999)


@given(n=counts, t=times, conf=levels, method=st.sampled_from(METHODS))
def test_interval_contains_the_estimate(n, t, conf, method):
    lower, upper = poisson_rate_ci(n, t, method=method, conf_level=conf)
    if n == 0 and method in ("normal", "normal_log"):
        assert np.isnan(lower) and np.isnan(upper)
        return
    rate = n / t
    assert lower <= rate * (1 + 1e-12) and rate <= upper * (1 + 1e-12)
    assert upper > 0


@given(n=st.integers(min_value=1, max_value=10_000), t=times, c1=levels, c2=levels, method=st.sampled_from(METHODS))
def test_interval_widens_with_confidence(n, t, c1, c2, method):
    lo_c, hi_c = sorted((c1, c2))
    l1, u1 = poisson_rate_ci(n, t, method=method, conf_level=lo_c)
    l2, u2 = poisson_rate_ci(n, t, method=method, conf_level=hi_c)
    assert l2 <= l1 + 1e-12 * abs(l1) and u2 >= u1 - 1e-12 * abs(u1)


@given(n=st.integers(min_value=0, max_value=5_000), t=times, conf=levels, scale=st.floats(0.01, 100))
def test_exact_limits_increase_with_events_and_scale_with_time(n, t, conf, scale):
    l0, u0 = poisson_rate_ci(n, t, conf_level=conf)
    l1, u1 = poisson_rate_ci(n + 1, t, conf_level=conf)
    assert l1 > l0 and u1 > u0
    ls, us = poisson_rate_ci(n, t * scale, conf_level=conf)
    assert ls == pytest.approx(l0 / scale, rel=1e-9, abs=1e-300)
    assert us == pytest.approx(u0 / scale, rel=1e-9)


@settings(max_examples=60)
@given(mu=st.floats(min_value=0.01, max_value=60.0), conf=st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_exact_interval_coverage_is_at_least_nominal(mu, conf):
    """Garwood's interval is conservative: for any true mean μ (events expected in T = 1),
    P(lower(N) <= μ <= upper(N)) >= conf_level, N ~ Poisson(μ), summed exactly."""
    n = np.arange(0, int(mu + 12 * math.sqrt(mu) + 40))
    lower, upper = poisson_rate_ci(n, 1.0, conf_level=conf)
    covered = (lower <= mu) & (mu <= upper)
    assert stats.poisson.pmf(n[covered], mu).sum() >= conf - 1e-9


# --------------------------------------------------------------------------------------
# crude incidence
# --------------------------------------------------------------------------------------
def test_crude_incidence_matches_standards_example_and_clopper_pearson():
    """standards.md §5.4(a): crude incidence 2/5 = 40 %; interval against
    scipy.stats.binomtest(...).proportion_ci(method="exact") (Clopper-Pearson)."""
    estimate, lower, upper = crude_incidence(2, 5)
    assert estimate == 40.0
    ci = stats.binomtest(2, 5).proportion_ci(confidence_level=0.95, method="exact")
    assert lower == pytest.approx(100 * ci.low, abs=1e-9)
    assert upper == pytest.approx(100 * ci.high, abs=1e-9)


def test_crude_incidence_edges_and_vectors():
    estimate, lower, upper = crude_incidence([0, 5, 0, 3], [5, 5, 0, 10], conf_level=0.9)
    assert estimate[0] == 0 and lower[0] == 0 and upper[0] == pytest.approx(100 * (1 - 0.05 ** (1 / 5)))
    assert estimate[1] == 100 and upper[1] == 100 and lower[1] == pytest.approx(100 * 0.05 ** (1 / 5))
    assert np.isnan([estimate[2], lower[2], upper[2]]).all()
    ci = stats.binomtest(3, 10).proportion_ci(confidence_level=0.9, method="exact")
    assert (lower[3], upper[3]) == pytest.approx((100 * ci.low, 100 * ci.high), abs=1e-9)
    with pytest.raises(InputError, match="more subjects with the event than subjects"):
        crude_incidence(6, 5)


# --------------------------------------------------------------------------------------
# EAIR from ADAETTE
# --------------------------------------------------------------------------------------
def adaette(rows, **extra) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["STUDYID", "USUBJID", "PARAMCD", "TRTA", "AVAL", "CNSR"])
    return frame.assign(AVALU="YEARS", **extra)


def headache_example() -> pd.DataFrame:
    """standards.md §5.4(a): time at risk 30, 365, 90, 150, 400 days; events for 001, 004."""
    days = [30, 365, 90, 150, 400]
    events = [0, 1, 1, 0, 1]
    return adaette(
        [("S1", f"00{i + 1}", "TTEHEAD", "Drug", days_to_years(d), c) for i, (d, c) in enumerate(zip(days, events))]
    )


def test_eair_worked_example_a():
    out = eair(headache_example(), population={"Drug": 5})
    assert len(out) == 1
    row = out.iloc[0]
    assert (row["PARAMCD"], row["TRTA"]) == ("TTEHEAD", "Drug")
    assert row["subjects_at_risk"] == 5 and row["subjects_with_event"] == 2
    assert row["patient_years_at_risk"] == pytest.approx(1035 / 365.25, abs=1e-12)
    assert_printed(row["patient_years_at_risk"], "2.834")
    assert_printed(row["eair"], "70.58")
    assert_printed(row["ci_lower"], "8.55")
    assert_printed(row["ci_upper"], "254.96")
    assert row["ci_upper"] == pytest.approx(100 * stats.gamma.ppf(0.975, 3) / (1035 / 365.25), abs=1e-6)
    assert row["ci_method"] == "exact Poisson (Garwood, chi-square)"
    assert row["conf_level"] == 0.95 and row["per"] == 100
    assert row["subjects_in_population"] == 5 and row["crude_incidence_pct"] == 40.0


def tern_example(unit_divisor: float) -> pd.DataFrame:
    """The data of tern tests/testthat/test-estimate_incidence_rate.R / test-incidence_rate.R."""
    aval = [10.1, 20.4, 15.3, 20.8, 18.7, 23.4]
    cnsr = [0, 1, 1, 0, 0, 0]
    arm = ["A", "A", "A", "B", "B", "B"]
    return adaette([("T", str(i + 1), "AETTE", a, v / unit_divisor, c) for i, (v, c, a) in enumerate(zip(aval, cnsr, arm))])


def test_eair_reproduces_tern_published_table_months_normal_log_90():
    """tern estimate_incidence_rate, input_time_unit = "month", 90 % normal_log, per 100 PY
    (tests/testthat/_snaps/estimate_incidence_rate.md): A 1 event, 26.20 (5.06, 135.73);
    B 3 events, 57.23 (22.14, 147.94); patient-years printed as 3.8 and 5.2."""
    out = eair(tern_example(12.0), method="normal_log", conf_level=0.90).set_index("TRTA")
    assert list(out.index) == ["A", "B"]
    assert list(out["subjects_with_event"]) == [1, 3]
    assert_printed(out.loc["A", "patient_years_at_risk"], "3.8")
    assert_printed(out.loc["B", "patient_years_at_risk"], "5.2")
    for arm, expected in {"A": ("26.20", "5.06", "135.73"), "B": ("57.23", "22.14", "147.94")}.items():
        for column, printed in zip(("eair", "ci_lower", "ci_upper"), expected):
            assert_printed(out.loc[arm, column], printed)
    assert set(out["ci_method"]) == {"normal approximation on the log scale (Wald)"}


def test_eair_reproduces_tern_published_table_years_normal_95():
    """tern estimate_incidence_rate with default control (years, 95 %, normal)
    (tests/testthat/_snaps/incidence_rate.md): A 45.8 PY, 1 event, 2.18 (-2.10, 6.46);
    B 62.9 PY, 3 events, 4.77 (-0.63, 10.17)."""
    out = eair(tern_example(1.0), method="normal").set_index("TRTA")
    for arm, expected in {"A": ("45.8", "2.18", "-2.10", "6.46"), "B": ("62.9", "4.77", "-0.63", "10.17")}.items():
        for column, printed in zip(("patient_years_at_risk", "eair", "ci_lower", "ci_upper"), expected):
            assert_printed(out.loc[arm, column], printed)


def test_eair_lists_groups_without_subjects_and_keeps_their_order():
    data = headache_example()
    out = eair(data, groups=["Vehicle", "Drug", "All cream"], population={"Drug": 5, "Vehicle": 0, "All cream": 0})
    assert list(out["TRTA"]) == ["Vehicle", "Drug", "All cream"]
    empty = out.set_index("TRTA").loc["Vehicle"]
    assert empty["subjects_at_risk"] == 0 and empty["subjects_with_event"] == 0
    assert empty["patient_years_at_risk"] == 0.0
    assert np.isnan([empty["eair"], empty["ci_lower"], empty["ci_upper"], empty["crude_incidence_pct"]]).all()
    assert out["subjects_at_risk"].dtype == np.int64


def test_eair_zero_events_group_has_rate_zero_and_finite_exact_upper_bound():
    data = adaette([("S1", "1", "TTESER", "Vehicle", 0.5, 1), ("S1", "2", "TTESER", "Vehicle", 1.5, 1)])
    row = eair(data).iloc[0]
    assert row["subjects_with_event"] == 0 and row["eair"] == 0.0 and row["ci_lower"] == 0.0
    assert row["ci_upper"] == pytest.approx(100 * -math.log(0.025) / 2.0, rel=1e-12)


def test_eair_time_at_risk_differs_per_event_and_subjects_count_in_each_group():
    """A subject on vehicle then on cream (extension) contributes to both groups; the
    denominator of each event category is its own time to first event."""
    data = adaette(
        [
            ("S1", "1", "TTEANY", "Vehicle", 0.25, 1),
            ("S1", "1", "TTEANY", "Cream 1.5%", 0.10, 0),
            ("S1", "1", "TTESER", "Vehicle", 0.25, 1),
            ("S1", "1", "TTESER", "Cream 1.5%", 0.75, 1),
            ("S1", "2", "TTEANY", "Cream 1.5%", 0.50, 1),
            ("S1", "2", "TTESER", "Cream 1.5%", 0.50, 1),
        ]
    )
    out = eair(data, groups=["Cream 1.5%", "Vehicle"]).set_index(["PARAMCD", "TRTA"])
    assert out.loc[("TTEANY", "Cream 1.5%"), "patient_years_at_risk"] == pytest.approx(0.60)
    assert out.loc[("TTESER", "Cream 1.5%"), "patient_years_at_risk"] == pytest.approx(1.25)
    assert out.loc[("TTEANY", "Cream 1.5%"), "subjects_with_event"] == 1
    assert out.loc[("TTEANY", "Vehicle"), "subjects_at_risk"] == 1
    assert list(out.index) == [
        ("TTEANY", "Cream 1.5%"), ("TTEANY", "Vehicle"), ("TTESER", "Cream 1.5%"), ("TTESER", "Vehicle")
    ]


def test_eair_by_study_with_population_indexed_by_study_and_group():
    data = pd.concat([headache_example(), headache_example().assign(STUDYID="S2", TRTA="Vehicle", CNSR=1)])
    population = pd.Series(
        [6, 5, 0, 0],
        index=pd.MultiIndex.from_tuples(
            [("S1", "Drug"), ("S2", "Vehicle"), ("S1", "Vehicle"), ("S2", "Drug")], names=["STUDYID", "TRTA"]
        ),
    )
    out = eair(data, by=("STUDYID", "PARAMCD", "TRTA"), groups=["Drug", "Vehicle"], population=population)
    got = out.set_index(["STUDYID", "TRTA"])
    assert got.loc[("S1", "Drug"), "crude_incidence_pct"] == pytest.approx(100 * 2 / 6)
    assert got.loc[("S2", "Vehicle"), "eair"] == 0.0
    assert got.loc[("S2", "Drug"), "subjects_at_risk"] == 0
    assert got.loc[("S2", "Drug"), "subjects_in_population"] == 0
    with pytest.raises(InputError, match="population has no subject count for \\[\\{'STUDYID': 'S2', 'TRTA': 'Drug'"):
        eair(data, by=("STUDYID", "PARAMCD", "TRTA"), groups=["Drug", "Vehicle"], population=population.iloc[:3])


def test_eair_without_population_leaves_crude_columns_missing():
    out = eair(headache_example())
    assert out["subjects_in_population"].isna().all() and out["crude_incidence_pct"].isna().all()


def test_eair_accepts_categorical_and_object_group_columns():
    data = headache_example()
    data["TRTA"] = pd.Categorical(data["TRTA"], categories=["Drug", "Vehicle"])
    out = eair(data, groups=["Drug", "Vehicle"])
    assert list(out["TRTA"]) == ["Drug", "Vehicle"]
    assert out["eair"].iloc[0] == pytest.approx(100 * 2 / (1035 / 365.25))
    obj = headache_example().astype({"TRTA": object, "USUBJID": object})
    assert eair(obj)["eair"].iloc[0] == pytest.approx(out["eair"].iloc[0])


@pytest.mark.parametrize("method", METHODS)
def test_eair_names_every_method(method):
    out = eair(headache_example(), method=method, conf_level=0.9)
    assert out["ci_method"].iloc[0] == CI_METHODS[method]
    lower, upper = poisson_rate_ci(2, 1035 / 365.25, method=method, conf_level=0.9)
    assert (out["ci_lower"].iloc[0], out["ci_upper"].iloc[0]) == pytest.approx((100 * lower, 100 * upper))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.drop(columns="CNSR"), "required column\\(s\\) missing: CNSR"),
        (lambda d: d.assign(AVALU="DAYS"), "AVALU must be 'YEARS'"),
        (lambda d: d.assign(CNSR=[0, 1, 2, 0, 1]), "CNSR must be 0 \\(event\\) or 1"),
        (lambda d: d.assign(AVAL=[0.1, -0.2, 0.3, 0.4, 0.5]), "AVAL is negative"),
        (lambda d: d.assign(AVAL=[0.1, np.nan, 0.3, 0.4, 0.5]), "AVAL is missing"),
        (lambda d: d.assign(AVAL="1.0"), "AVAL must be numeric"),
        (lambda d: d.assign(TRTA=["Drug", None, "Drug", "Drug", "Drug"]), "TRTA is missing"),
        (lambda d: d.assign(USUBJID=["001", "001", "003", "004", "005"]), "repeats a record"),
    ],
)
def test_eair_bad_input_raises_input_error(change, message):
    with pytest.raises(InputError, match=message):
        eair(change(headache_example()))


def test_eair_error_names_the_record():
    data = headache_example().assign(CNSR=[0, 1, 1, 7, 1])
    with pytest.raises(InputError) as info:
        eair(data)
    assert info.value.row == 3 and info.value.column == "CNSR"


def test_eair_group_checks():
    with pytest.raises(InputError, match="value\\(s\\) not in groups: 'Drug'"):
        eair(headache_example(), groups=["Vehicle"])
    with pytest.raises(InputError, match="more than once"):
        eair(headache_example(), groups=["Drug", "Drug"])
    with pytest.raises(InputError, match="is not one of by"):
        eair(headache_example(), by=("PARAMCD",), groups=["Drug"])
    with pytest.raises(InputError, match="more subjects at risk \\(5\\) than in the population \\(4\\)"):
        eair(headache_example(), population={"Drug": 4})


def test_eair_skips_unit_check_when_told():
    data = headache_example().assign(AVALU="years")
    with pytest.raises(InputError, match="AVALU"):
        eair(data)
    assert eair(data, time_unit=None)["subjects_with_event"].iloc[0] == 2


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(["A", "B", "C"]), st.floats(0, 5, allow_nan=False), st.integers(0, 1)),
        min_size=1, max_size=40,
    )
)
def test_eair_totals_match_a_direct_count(rows):
    """Each group's N, n and PY equal the direct count over its records; every rate lies in
    its interval."""
    data = adaette([("S", str(i), "P", g, t, c) for i, (g, t, c) in enumerate(rows)])
    out = eair(data, groups=["A", "B", "C"]).set_index("TRTA")
    for g in "ABC":
        mine = [(t, c) for (gg, t, c) in rows if gg == g]
        assert out.loc[g, "subjects_at_risk"] == len(mine)
        assert out.loc[g, "subjects_with_event"] == sum(1 for _, c in mine if c == 0)
        assert out.loc[g, "patient_years_at_risk"] == pytest.approx(math.fsum(t for t, _ in mine), abs=1e-9)
        if out.loc[g, "patient_years_at_risk"] > 0:
            assert out.loc[g, "ci_lower"] <= out.loc[g, "eair"] <= out.loc[g, "ci_upper"]


# --------------------------------------------------------------------------------------
# EAER
# --------------------------------------------------------------------------------------
def test_event_rate_worked_example():
    """standards.md §5.4(b) EAER variant: 45 events over 560 PY -> 8.04 per 100 PY, exact
    Poisson CI (5.86, 10.75); to 1e-6 against the gamma form."""
    exposure = pd.DataFrame(
        {
            "USUBJID": ["1", "2", "3", "4"],
            "PARAMCD": "AEANY",
            "TRTA": "Drug",
            "events": [20, 25, 0, 0],
            "exposure_years": [100.0, 200.0, 60.0, 200.0],
        }
    )
    row = event_rate(exposure).iloc[0]
    assert row["events"] == 45 and row["patient_years_exposure"] == 560.0
    assert row["subjects_exposed"] == 4 and row["subjects_with_event"] == 2
    assert_printed(row["eaer"], "8.04")
    assert_printed(row["ci_lower"], "5.86")
    assert_printed(row["ci_upper"], "10.75")
    assert row["ci_lower"] == pytest.approx(100 * stats.gamma.ppf(0.025, 45) / 560, abs=1e-6)
    assert row["ci_upper"] == pytest.approx(100 * stats.gamma.ppf(0.975, 46) / 560, abs=1e-6)


def test_event_rate_uses_untruncated_exposure_unlike_eair():
    """standards.md §5.4(a): EAIR uses 1035 days at risk, exposure tables 1235 days."""
    exposure = pd.DataFrame(
        {
            "USUBJID": ["001", "002", "003", "004", "005"],
            "PARAMCD": "HEAD",
            "TRTA": "Drug",
            "events": [1, 0, 0, 1, 0],
            "exposure_years": days_to_years(np.array([180.0, 365, 90, 200, 400])),
        }
    )
    out = event_rate(exposure, groups=["Drug", "Vehicle"])
    assert out["patient_years_exposure"].iloc[0] == pytest.approx(1235 / 365.25)
    assert out["eaer"].iloc[0] == pytest.approx(100 * 2 / (1235 / 365.25))
    assert np.isnan(out["eaer"].iloc[1]) and out["events"].iloc[1] == 0


def test_event_rate_bad_counts():
    exposure = pd.DataFrame({"USUBJID": ["1"], "PARAMCD": "P", "TRTA": "D", "events": [1.5], "exposure_years": [1.0]})
    with pytest.raises(InputError, match="events is not a whole number"):
        event_rate(exposure)
    with pytest.raises(InputError, match="exposure_years"):
        event_rate(exposure.drop(columns="exposure_years").assign(events=1))


def test_eair_by_group_only():
    data = pd.concat([headache_example(), headache_example().assign(PARAMCD="TTEANY", CNSR=0)])
    with pytest.raises(InputError, match="repeats a record"):
        eair(data, by=("TRTA",))  # two event categories in one cell would count time twice
    out = eair(headache_example(), by=("TRTA",), groups=["Drug", "Vehicle"])
    assert list(out.columns[:2]) == ["TRTA", "subjects_at_risk"] and list(out["TRTA"]) == ["Drug", "Vehicle"]
