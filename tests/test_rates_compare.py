"""report.rates.compare_rates: crude pooled and Mantel-Haenszel stratified comparisons.

Expected values: the published two-study example of standards.md §5.4(b) (two decimals),
and a plain-Python transcription of the formulas of standards.md §5.3 written here, one
stratum at a time, independent of the vectorised implementation (to 1e-6).
"""
from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from report.rates import compare_rates, eair
from specs.errors import InputError

Z95 = stats.norm.ppf(0.975)


def assert_printed(value: float, printed: str) -> None:
    decimals = max(0, -Decimal(printed).as_tuple().exponent)
    assert abs(value - float(printed)) <= 0.5 * 10.0**-decimals + 1e-12, (value, printed)


# --------------------------------------------------------------------------------------
# reference formulas, one stratum at a time (standards.md §5.3)
# --------------------------------------------------------------------------------------
def reference_mh(strata, z=Z95):
    """strata: list of (a, T1, b, T0). Returns dict of MH RD (per PY), its CI, z, p;
    MH RR, CI; MH chi-square and p. Strata without person-time in an arm are skipped."""
    used = [(a, T1, b, T0) for a, T1, b, T0 in strata if T1 > 0 and T0 > 0]
    sw = sum(T1 * T0 / (T1 + T0) for a, T1, b, T0 in used)
    rd = sum(T1 * T0 / (T1 + T0) * (a / T1 - b / T0) for a, T1, b, T0 in used) / sw
    var = sum((T1 * T0 / (T1 + T0)) ** 2 * (a / T1**2 + b / T0**2) for a, T1, b, T0 in used) / sw**2
    se = math.sqrt(var)
    R = sum(a * T0 / (T1 + T0) for a, T1, b, T0 in used)
    S = sum(b * T1 / (T1 + T0) for a, T1, b, T0 in used)
    P = sum((a + b) * T1 * T0 / (T1 + T0) ** 2 for a, T1, b, T0 in used)
    O = sum(a for a, T1, b, T0 in used)
    E = sum((a + b) * T1 / (T1 + T0) for a, T1, b, T0 in used)
    out = {"rd": rd, "rd_se": se, "rd_lo": rd - z * se, "rd_hi": rd + z * se, "strata_used": len(used)}
    out["rd_z"] = rd / se if se > 0 else math.nan
    out["rd_p"] = 2 * stats.norm.sf(abs(out["rd_z"])) if se > 0 else math.nan
    out["rr"] = R / S if S > 0 else math.nan
    if R > 0 and S > 0:
        se_log = math.sqrt(P / (R * S))
        out["rr_lo"] = math.exp(math.log(R / S) - z * se_log)
        out["rr_hi"] = math.exp(math.log(R / S) + z * se_log)
    else:
        out["rr_lo"] = out["rr_hi"] = math.nan
    out["chi2"] = (O - E) ** 2 / P if P > 0 else math.nan
    out["chi2_p"] = stats.chi2.sf(out["chi2"], 1) if P > 0 else math.nan
    out["O"], out["E"], out["V"] = O, E, P
    return out


def reference_crude(n1, T1, n0, T0, z=Z95):
    rd = n1 / T1 - n0 / T0
    se = math.sqrt(n1 / T1**2 + n0 / T0**2)
    out = {"rd": rd, "rd_lo": rd - z * se, "rd_hi": rd + z * se, "rd_z": rd / se}
    rr = (n1 / T1) / (n0 / T0)
    se_log = math.sqrt(1 / n1 + 1 / n0)
    out.update(rr=rr, rr_lo=rr * math.exp(-z * se_log), rr_hi=rr * math.exp(z * se_log))
    # exact conditional: n1 | n1 + n0 ~ Binomial(n1 + n0, p); Clopper-Pearson from scipy
    ci = stats.binomtest(n1, n1 + n0).proportion_ci(confidence_level=0.95, method="exact")
    out["rr_exact_lo"] = ci.low * T0 / ((1 - ci.low) * T1)
    out["rr_exact_hi"] = ci.high * T0 / ((1 - ci.high) * T1)
    p0 = T1 / (T1 + T0)
    lower_tail = sum(stats.binom.pmf(k, n1 + n0, p0) for k in range(0, n1 + 1))
    upper_tail = sum(stats.binom.pmf(k, n1 + n0, p0) for k in range(n1, n1 + n0 + 1))
    out["exact_p"] = min(1.0, 2 * min(lower_tail, upper_tail))
    return out


# --------------------------------------------------------------------------------------
# the published two-study example
# --------------------------------------------------------------------------------------
TWO_STUDIES = pd.DataFrame(
    {
        "STUDYID": ["Study 1", "Study 1", "Study 2", "Study 2"],
        "PARAMCD": "TTEANY",
        "TRTA": ["Drug", "Placebo", "Drug", "Placebo"],
        "subjects_with_event": [12, 5, 20, 4],
        "patient_years_at_risk": [150.0, 140.0, 400.0, 100.0],
    }
)


def pick(out, comparison, method_start):
    rows = out[(out["comparison"] == comparison) & out["method"].str.startswith(method_start)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_two_study_example_mantel_haenszel_rate_difference():
    """standards.md §5.4(b): MH RD 2.63 per 100 PY (−0.89, 6.15), z 1.46, p 0.143."""
    out = compare_rates(TWO_STUDIES, control="Placebo", strata="STUDYID")
    row = pick(out, "rate difference", "Mantel-Haenszel")
    ref = reference_mh([(12, 150.0, 5, 140.0), (20, 400.0, 4, 100.0)])
    assert_printed(row["estimate"], "2.63")
    assert_printed(row["ci_lower"], "-0.89")
    assert_printed(row["ci_upper"], "6.15")
    assert_printed(row["statistic"], "1.46")
    assert_printed(row["p_value"], "0.143")
    assert row["estimate"] == pytest.approx(100 * ref["rd"], abs=1e-6)
    assert row["ci_lower"] == pytest.approx(100 * ref["rd_lo"], abs=1e-6)
    assert row["ci_upper"] == pytest.approx(100 * ref["rd_hi"], abs=1e-6)
    assert row["statistic"] == pytest.approx(ref["rd_z"], abs=1e-6)
    assert row["p_value"] == pytest.approx(ref["rd_p"], abs=1e-6)
    # the printed intermediate values: w = 72.41 and 80.00, SE 1.80 per 100 PY
    assert_printed(150 * 140 / 290, "72.41")
    assert_printed(100 * ref["rd_se"], "1.80")
    assert row["strata_used"] == 2 and row["test"] == "Wald z"


def test_two_study_example_mantel_haenszel_rate_ratio_and_chi_square():
    """standards.md §5.4(b): MH RR 1.69 (0.81, 3.55); MH χ²: O = 32, E = 27.99,
    V = 8.08, χ² = 1.99, p = 0.159."""
    out = compare_rates(TWO_STUDIES, control="Placebo", strata="STUDYID")
    row = pick(out, "rate ratio", "Mantel-Haenszel")
    ref = reference_mh([(12, 150.0, 5, 140.0), (20, 400.0, 4, 100.0)])
    assert_printed(row["estimate"], "1.69")
    assert_printed(row["ci_lower"], "0.81")
    assert_printed(row["ci_upper"], "3.55")
    assert_printed(row["statistic"], "1.99")
    assert_printed(row["p_value"], "0.159")
    assert (ref["O"], round(ref["E"], 2), round(ref["V"], 2)) == (32, 27.99, 8.08)
    for column, key in [("estimate", "rr"), ("ci_lower", "rr_lo"), ("ci_upper", "rr_hi"),
                        ("statistic", "chi2"), ("p_value", "chi2_p")]:
        assert row[column] == pytest.approx(ref[key], abs=1e-6)
    assert row["test"] == "Mantel-Haenszel chi-square (1 df)"
    assert "Greenland-Robins" in row["method"]


def test_two_study_example_crude_pooled_differs_from_stratified():
    """standards.md §5.4(b): crude pooled 32/550 vs 9/240 -> RD 2.07 per 100 PY, biased
    towards 0 against the MH 2.63 because the drug arm is over-represented in Study 2."""
    out = compare_rates(TWO_STUDIES, control="Placebo", strata="STUDYID")
    crude = pick(out, "rate difference", "crude")
    mh = pick(out, "rate difference", "Mantel-Haenszel")
    assert_printed(crude["estimate"], "2.07")
    assert crude["estimate"] < mh["estimate"] - 0.5
    ref = reference_crude(32, 550.0, 9, 240.0)
    assert crude["estimate"] == pytest.approx(100 * ref["rd"], abs=1e-6)
    assert crude["ci_lower"] == pytest.approx(100 * ref["rd_lo"], abs=1e-6)
    assert crude["ci_upper"] == pytest.approx(100 * ref["rd_hi"], abs=1e-6)
    assert crude["statistic"] == pytest.approx(ref["rd_z"], abs=1e-6)
    assert (crude["events_treatment"], crude["time_treatment"]) == (32, 550.0)
    assert (crude["events_control"], crude["time_control"]) == (9, 240.0)


def test_two_study_example_crude_rate_ratios():
    out = compare_rates(TWO_STUDIES, control="Placebo", strata="STUDYID")
    ref = reference_crude(32, 550.0, 9, 240.0)
    wald = pick(out, "rate ratio", "crude pooled, Wald")
    assert (wald["estimate"], wald["ci_lower"], wald["ci_upper"]) == pytest.approx(
        (ref["rr"], ref["rr_lo"], ref["rr_hi"]), abs=1e-6
    )
    exact = pick(out, "rate ratio", "crude pooled, exact conditional")
    assert exact["estimate"] == pytest.approx(ref["rr"], abs=1e-6)
    assert exact["ci_lower"] == pytest.approx(ref["rr_exact_lo"], abs=1e-6)
    assert exact["ci_upper"] == pytest.approx(ref["rr_exact_hi"], abs=1e-6)
    assert exact["p_value"] == pytest.approx(ref["exact_p"], abs=1e-9)


def test_output_layout_names_methods_and_orders_rows():
    out = compare_rates(TWO_STUDIES, control="Placebo", strata="STUDYID")
    assert list(out.columns) == [
        "PARAMCD", "TRTA", "control", "comparison", "method", "estimate", "ci_lower", "ci_upper", "conf_level",
        "per", "test", "statistic", "p_value", "strata_used", "events_treatment", "time_treatment",
        "events_control", "time_control",
    ]
    assert list(out["comparison"]) == ["rate difference", "rate ratio", "rate ratio", "rate difference", "rate ratio"]
    assert out["method"].str.contains("STUDYID").sum() == 2
    assert (out["control"] == "Placebo").all() and (out["per"] == 100).all()
    assert out["strata_used"].isna().sum() == 3


def test_without_strata_only_crude_rows():
    out = compare_rates(TWO_STUDIES.groupby(["PARAMCD", "TRTA"], as_index=False)[
        ["subjects_with_event", "patient_years_at_risk"]].sum(), control="Placebo")
    assert len(out) == 3 and out["method"].str.startswith("crude").all()
    assert_printed(out["estimate"].iloc[0], "2.07")


# --------------------------------------------------------------------------------------
# Simpson's paradox, strata without control, zero events
# --------------------------------------------------------------------------------------
def test_simpsons_paradox_crude_reverses_the_stratified_direction():
    """Drug has the higher rate in both studies, but most drug time is in the low-risk
    study: the crude pooled difference is negative, the MH difference positive."""
    data = pd.DataFrame(
        {
            "STUDYID": ["A", "A", "B", "B"],
            "TRTA": ["Drug", "Placebo", "Drug", "Placebo"],
            "PARAMCD": "P",
            "subjects_with_event": [10, 45, 10, 2],
            "patient_years_at_risk": [20.0, 100.0, 200.0, 50.0],
        }
    )
    out = compare_rates(data, control="Placebo", strata="STUDYID")
    crude = pick(out, "rate difference", "crude")
    mh = pick(out, "rate difference", "Mantel-Haenszel")
    mh_rr = pick(out, "rate ratio", "Mantel-Haenszel")
    assert crude["estimate"] < 0 < mh["estimate"]
    assert pick(out, "rate ratio", "crude pooled, Wald")["estimate"] < 1 < mh_rr["estimate"]
    ref = reference_mh([(10, 20.0, 45, 100.0), (10, 200.0, 2, 50.0)])
    assert mh["estimate"] == pytest.approx(100 * ref["rd"], abs=1e-6)
    assert mh_rr["estimate"] == pytest.approx(ref["rr"], abs=1e-6)
    assert crude["estimate"] == pytest.approx(100 * (20 / 220 - 47 / 150), abs=1e-6)


def test_stratum_without_control_time_drops_out_of_mh_but_not_out_of_crude():
    extension = pd.DataFrame(
        {"STUDYID": ["Study 3"], "PARAMCD": "TTEANY", "TRTA": ["Drug"],
         "subjects_with_event": [30], "patient_years_at_risk": [300.0]}
    )
    vehicle_no_time = extension.assign(STUDYID="Study 4", TRTA="Placebo", subjects_with_event=0,
                                       patient_years_at_risk=0.0)
    drug_study_4 = extension.assign(STUDYID="Study 4", subjects_with_event=3, patient_years_at_risk=10.0)
    data = pd.concat([TWO_STUDIES, extension, vehicle_no_time, drug_study_4], ignore_index=True)
    out = compare_rates(data, control="Placebo", strata="STUDYID")
    base = compare_rates(TWO_STUDIES, control="Placebo", strata="STUDYID")
    for comparison in ("rate difference", "rate ratio"):
        got, want = pick(out, comparison, "Mantel-Haenszel"), pick(base, comparison, "Mantel-Haenszel")
        assert got["strata_used"] == 2
        assert (got["estimate"], got["ci_lower"], got["ci_upper"], got["p_value"]) == pytest.approx(
            (want["estimate"], want["ci_lower"], want["ci_upper"], want["p_value"]), abs=1e-12
        )
        assert (got["events_treatment"], got["time_treatment"]) == (32, 550.0)
    crude = pick(out, "rate difference", "crude")
    assert (crude["events_treatment"], crude["time_treatment"]) == (65, 860.0)
    assert crude["estimate"] == pytest.approx(100 * (65 / 860 - 9 / 240), abs=1e-9)


def two_arm(n1, T1, n0, T0):
    return pd.DataFrame(
        {"STUDYID": "S", "PARAMCD": "P", "TRTA": ["Drug", "Placebo"],
         "subjects_with_event": [n1, n0], "patient_years_at_risk": [T1, T0]}
    )


def test_zero_events_in_control():
    out = compare_rates(two_arm(3, 10.0, 0, 12.0), control="Placebo", strata="STUDYID")
    rd = pick(out, "rate difference", "crude")
    assert rd["estimate"] == pytest.approx(30.0)
    assert rd["ci_lower"] == pytest.approx(100 * (0.3 - Z95 * math.sqrt(3) / 10), abs=1e-9)
    wald = pick(out, "rate ratio", "crude pooled, Wald")
    assert np.isnan([wald["estimate"], wald["ci_lower"], wald["ci_upper"]]).all()
    exact = pick(out, "rate ratio", "crude pooled, exact conditional")
    assert np.isnan(exact["estimate"]) and exact["ci_upper"] == np.inf
    lo = stats.binomtest(3, 3).proportion_ci(method="exact").low
    assert exact["ci_lower"] == pytest.approx(lo * 12.0 / ((1 - lo) * 10.0), abs=1e-9)
    assert exact["p_value"] == pytest.approx(2 * (10 / 22) ** 3, abs=1e-12)
    mh_rr = pick(out, "rate ratio", "Mantel-Haenszel")
    assert np.isnan(mh_rr["estimate"]) and np.isnan(mh_rr["ci_upper"])
    assert mh_rr["statistic"] == pytest.approx(reference_mh([(3, 10.0, 0, 12.0)])["chi2"], abs=1e-9)


def test_zero_events_in_treatment():
    out = compare_rates(two_arm(0, 10.0, 4, 12.0), control="Placebo", strata="STUDYID")
    wald = pick(out, "rate ratio", "crude pooled, Wald")
    assert wald["estimate"] == 0.0 and np.isnan(wald["ci_lower"]) and np.isnan(wald["ci_upper"])
    exact = pick(out, "rate ratio", "crude pooled, exact conditional")
    assert exact["ci_lower"] == 0.0 and np.isfinite(exact["ci_upper"])
    hi = stats.binomtest(0, 4).proportion_ci(method="exact").high
    assert exact["ci_upper"] == pytest.approx(hi * 12.0 / ((1 - hi) * 10.0), abs=1e-9)
    assert pick(out, "rate ratio", "Mantel-Haenszel")["estimate"] == 0.0


def test_zero_events_in_both_arms():
    """Rate difference 0 with no interval (zero standard error); ratios undefined; exact
    conditional interval (0, inf) with p = 1; MH chi-square undefined (V = 0)."""
    out = compare_rates(two_arm(0, 10.0, 0, 12.0), control="Placebo", strata="STUDYID")
    for method in ("crude", "Mantel-Haenszel"):
        rd = pick(out, "rate difference", method)
        assert rd["estimate"] == 0.0
        assert np.isnan([rd["ci_lower"], rd["ci_upper"], rd["statistic"], rd["p_value"]]).all()
    exact = pick(out, "rate ratio", "crude pooled, exact conditional")
    assert (exact["ci_lower"], exact["ci_upper"], exact["p_value"]) == (0.0, np.inf, 1.0)
    mh = pick(out, "rate ratio", "Mantel-Haenszel")
    assert np.isnan([mh["estimate"], mh["statistic"], mh["p_value"]]).all()


def test_group_with_no_person_time_gives_undefined_comparisons():
    out = compare_rates(two_arm(0, 0.0, 4, 12.0), control="Placebo", strata="STUDYID")
    assert out["estimate"].isna().all() and out["ci_lower"].isna().all()
    assert pick(out, "rate difference", "Mantel-Haenszel")["strata_used"] == 0


# --------------------------------------------------------------------------------------
# several events and treatments at once; pipeline from ADAETTE
# --------------------------------------------------------------------------------------
def test_several_events_and_treatments_each_match_the_reference():
    rng = np.random.default_rng(20240611)
    rows = []
    for paramcd in ("TTEANY", "TTESER", "TTESINF"):
        for study in ("S1", "S2", "S3"):
            for arm in ("Cream 0.75%", "Cream 1.5%", "Vehicle"):
                rows.append((paramcd, study, arm, int(rng.integers(0, 30)), float(rng.uniform(5, 300))))
    data = pd.DataFrame(rows, columns=["PARAMCD", "STUDYID", "TRTA", "subjects_with_event", "patient_years_at_risk"])
    out = compare_rates(data, control="Vehicle", strata="STUDYID", treatments=["Cream 1.5%", "Cream 0.75%"])
    assert list(out[["PARAMCD", "TRTA"]].drop_duplicates().itertuples(index=False, name=None)) == [
        (p, t) for p in ("TTEANY", "TTESER", "TTESINF") for t in ("Cream 1.5%", "Cream 0.75%")
    ]
    for paramcd in ("TTEANY", "TTESER", "TTESINF"):
        for arm in ("Cream 1.5%", "Cream 0.75%"):
            cell = data[data["PARAMCD"] == paramcd].set_index(["STUDYID", "TRTA"])
            strata = [
                (cell.loc[(s, arm), "subjects_with_event"], cell.loc[(s, arm), "patient_years_at_risk"],
                 cell.loc[(s, "Vehicle"), "subjects_with_event"], cell.loc[(s, "Vehicle"), "patient_years_at_risk"])
                for s in ("S1", "S2", "S3")
            ]
            ref = reference_mh(strata)
            mine = out[(out["PARAMCD"] == paramcd) & (out["TRTA"] == arm)]
            rd, rr = pick(mine, "rate difference", "Mantel-Haenszel"), pick(mine, "rate ratio", "Mantel-Haenszel")
            assert rd["estimate"] == pytest.approx(100 * ref["rd"], abs=1e-6)
            assert rd["ci_upper"] == pytest.approx(100 * ref["rd_hi"], abs=1e-6)
            assert rr["estimate"] == pytest.approx(ref["rr"], abs=1e-6)
            assert rr["ci_lower"] == pytest.approx(ref["rr_lo"], abs=1e-6)
            assert rr["statistic"] == pytest.approx(ref["chi2"], abs=1e-6)


def test_pipeline_from_adaette_through_eair():
    """Per-study EAIR rows (eair by STUDYID) feed the stratified comparison; a treatment
    group listed in groups but absent from a study contributes no person-time there."""
    rows = []
    for study, arm, n_event, n_censor, t in [
        ("S1", "Drug", 3, 7, 0.5), ("S1", "Placebo", 1, 9, 0.5), ("S2", "Drug", 2, 18, 1.0),
    ]:
        rows += [(study, f"{study}-{arm}-{i}", "TTEANY", arm, t, 0) for i in range(n_event)]
        rows += [(study, f"{study}-{arm}-c{i}", "TTEANY", arm, t, 1) for i in range(n_censor)]
    data = pd.DataFrame(rows, columns=["STUDYID", "USUBJID", "PARAMCD", "TRTA", "AVAL", "CNSR"])
    rates = eair(data, by=("STUDYID", "PARAMCD", "TRTA"), groups=["Drug", "Placebo"])
    assert len(rates) == 4
    out = compare_rates(rates, control="Placebo", strata="STUDYID")
    mh = pick(out, "rate difference", "Mantel-Haenszel")
    assert mh["strata_used"] == 1
    assert mh["estimate"] == pytest.approx(100 * (3 / 5 - 1 / 5), abs=1e-9)
    crude = pick(out, "rate difference", "crude")
    assert crude["estimate"] == pytest.approx(100 * (5 / 25 - 1 / 5), abs=1e-9)


def test_event_rate_columns_can_be_compared():
    data = TWO_STUDIES.rename(columns={"subjects_with_event": "events", "patient_years_at_risk": "patient_years_exposure"})
    out = compare_rates(data, control="Placebo", strata="STUDYID", events="events", time="patient_years_exposure")
    assert_printed(pick(out, "rate difference", "Mantel-Haenszel")["estimate"], "2.63")


# --------------------------------------------------------------------------------------
# properties and errors
# --------------------------------------------------------------------------------------
stratum = st.tuples(
    st.integers(0, 60), st.floats(0.5, 500, allow_nan=False), st.integers(0, 60), st.floats(0.5, 500, allow_nan=False)
)


@settings(max_examples=80, deadline=None)
@given(strata=st.lists(stratum, min_size=1, max_size=6), conf=st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_mantel_haenszel_matches_reference_formulas(strata, conf):
    data = pd.DataFrame(
        [(f"S{k}", "Drug", a, T1) for k, (a, T1, b, T0) in enumerate(strata)]
        + [(f"S{k}", "Placebo", b, T0) for k, (a, T1, b, T0) in enumerate(strata)],
        columns=["STUDYID", "TRTA", "subjects_with_event", "patient_years_at_risk"],
    ).assign(PARAMCD="P")
    out = compare_rates(data, control="Placebo", strata="STUDYID", conf_level=conf)
    ref = reference_mh(strata, z=stats.norm.ppf(1 - (1 - conf) / 2))
    rd, rr = pick(out, "rate difference", "Mantel-Haenszel"), pick(out, "rate ratio", "Mantel-Haenszel")
    assert rd["estimate"] == pytest.approx(100 * ref["rd"], rel=1e-9, abs=1e-9)
    if ref["rd_se"] > 0:
        assert (rd["ci_lower"], rd["ci_upper"]) == pytest.approx((100 * ref["rd_lo"], 100 * ref["rd_hi"]), rel=1e-9, abs=1e-9)
        assert rd["ci_lower"] <= rd["estimate"] <= rd["ci_upper"]
    else:
        assert np.isnan(rd["ci_lower"])
    np.testing.assert_allclose(
        [rr["estimate"], rr["ci_lower"], rr["ci_upper"], rr["statistic"]],
        [ref["rr"], ref["rr_lo"], ref["rr_hi"], ref["chi2"]], rtol=1e-9, atol=1e-12,
    )


@settings(max_examples=60, deadline=None)
@given(s=stratum)
def test_single_stratum_mh_equals_crude(s):
    a, T1, b, T0 = s
    out = compare_rates(two_arm(a, T1, b, T0), control="Placebo", strata="STUDYID")
    crude, mh = pick(out, "rate difference", "crude"), pick(out, "rate difference", "Mantel-Haenszel")
    np.testing.assert_allclose([mh["estimate"], mh["ci_lower"], mh["ci_upper"]],
                               [crude["estimate"], crude["ci_lower"], crude["ci_upper"]], rtol=1e-9, atol=1e-9)
    crude_rr, mh_rr = pick(out, "rate ratio", "crude pooled, Wald"), pick(out, "rate ratio", "Mantel-Haenszel")
    np.testing.assert_allclose(mh_rr["estimate"], crude_rr["estimate"], rtol=1e-9)


@settings(max_examples=60, deadline=None)
@given(s=st.tuples(st.integers(0, 40), st.floats(0.5, 200), st.integers(0, 40), st.floats(0.5, 200)))
def test_exact_conditional_interval_contains_estimate_and_p_value_in_range(s):
    a, T1, b, T0 = s
    exact = pick(compare_rates(two_arm(a, T1, b, T0), control="Placebo"), "rate ratio", "crude pooled, exact")
    assert 0 <= exact["p_value"] <= 1
    assert 0 <= exact["ci_lower"] <= exact["ci_upper"]
    if b > 0:
        assert exact["ci_lower"] <= exact["estimate"] * (1 + 1e-9) and exact["estimate"] <= exact["ci_upper"] * (1 + 1e-9)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(control="Vehicle", strata="STUDYID"), "control group 'Vehicle' does not occur in TRTA"),
        (dict(control="Placebo", strata="STUDYID", treatments=["Cream"]), "treatment group\\(s\\) \\['Cream'\\] do not occur"),
        (dict(control="Placebo", strata="SITE"), "required column\\(s\\) missing: SITE"),
        (dict(control="Placebo", conf_level=1.2), "conf_level"),
        (dict(control="Placebo", per=0), "per must be a positive number"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(InputError, match=message):
        compare_rates(TWO_STUDIES, **kwargs)


def test_repeated_cell_and_bad_counts_are_refused():
    with pytest.raises(InputError, match="repeats a record"):
        compare_rates(TWO_STUDIES, control="Placebo")  # two studies, no strata: cells repeat
    bad = TWO_STUDIES.assign(subjects_with_event=[12, 5.5, 20, 4])
    with pytest.raises(InputError, match="subjects_with_event is not a whole number"):
        compare_rates(bad, control="Placebo", strata="STUDYID")


def test_overall_comparison_without_by_columns():
    data = TWO_STUDIES.drop(columns="PARAMCD")
    out = compare_rates(data, control="Placebo", strata="STUDYID", by=())
    assert "PARAMCD" not in out.columns and len(out) == 5
    assert_printed(pick(out, "rate difference", "Mantel-Haenszel")["estimate"], "2.63")
