"""TRTEMFL: every case of ``adam.adae.derive_trtemfl`` in the order it applies, worked by hand.

The cases (docstring; admiral ``derive_var_trtemfl``, PHUSE WP-087):
  1. not treated (TRTSDT missing) -> not emergent
  2. ended before treatment (AENDT < TRTSDT) -> not emergent
  3. start missing -> "Y", or not emergent with teae.missing_start = "not_emergent"
  4. TRTSDT <= ASTDT <= TRTEDT + window -> "Y" (no upper limit with window None)
  5. otherwise -> not emergent
"Not emergent" is null, or teae.not_emergent_value ("N").

Subject 001 (cream 1.5%): EX 2021-03-01..2021-03-28, so TRTSDT 2021-03-01, TRTEDT 2021-03-28 and
TRTEDT + 30 = 2021-04-27 (3 days to 31 March, 27 more into April), + 31 = 2021-04-28.
Subject 002: randomised (TPZ15-TPZ15) but never treated.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adam.adae import derive_trtemfl
from tests.adam_frames import C15, P1, ae, by_seq, derive, dm, ex, text

SUBJECTS = dm({"subject": "001", "ARMCD": "TPZ15-TPZ15"}, {"subject": "002", "ARMCD": "TPZ15-TPZ15"})
EXPOSURE = ex(("001", C15, P1, "2021-03-01", "2021-03-28"))
# AESEQ: (subject, AESTDTC, AEENDTC)                 case that decides, default config
EVENTS = {
    1: ("002", "2021-03-05", "2021-03-06"),     # 1 not treated -> null
    2: ("001", "2021-02-20", "2021-02-27"),     # 2 ended 2021-02-27 < TRTSDT -> null
    3: ("001", None, "2021-02-27"),             # 2 before 3: start unknown but ended before -> null
    4: ("001", None, None),                     # 3 start unknown, end unknown -> Y
    5: ("001", None, "2021-03-10"),             # 3 start unknown, ended on treatment -> Y
    6: ("001", "2021-03-01", "2021-03-02"),     # 4 on the day of the first dose -> Y
    7: ("001", "2021-02-28", "2021-03-05"),     # 5 started the day before treatment, ongoing -> null
    8: ("001", "2021-04-27", None),             # 4 TRTEDT + 30: last day of the window -> Y
    9: ("001", "2021-04-28", None),             # 5 TRTEDT + 31 -> null
    10: ("001", "2022-01-01", None),            # 5 months after -> null (Y without a window)
}


def adverse_events() -> pd.DataFrame:
    return ae(*({"subject": s, "AESEQ": seq, "AESTDTC": start, "AEENDTC": end}
                for seq, (s, start, end) in EVENTS.items()))


def flags(tmp_path, **teae) -> dict[int, str | None]:
    analysis = derive(tmp_path, dm_rows=SUBJECTS, ex_rows=EXPOSURE, ae_rows=adverse_events(),
                      teae={"window_days": 30, "missing_start": "emergent", **teae})
    adae = analysis.datasets["ADAE"]
    out = {}
    for subject in ("001", "002"):
        recs = by_seq(adae, subject)
        out.update(dict(zip(recs.index, text(recs["TRTEMFL"]))))
    return dict(sorted(out.items()))


def test_default_rule_window_30_days(tmp_path):
    assert flags(tmp_path) == {1: None, 2: None, 3: None, 4: "Y", 5: "Y", 6: "Y", 7: None, 8: "Y", 9: None,
                               10: None}


def test_no_window_every_start_on_or_after_first_dose_is_emergent(tmp_path):
    # window None: case 4 has no upper limit, so 9 (TRTEDT + 31) and 10 (2022) become Y
    assert flags(tmp_path, window_days=None) == {1: None, 2: None, 3: None, 4: "Y", 5: "Y", 6: "Y", 7: None,
                                                 8: "Y", 9: "Y", 10: "Y"}


def test_window_zero_ends_on_the_last_dose(tmp_path):
    # window 0: the last emergent start is TRTEDT itself (2021-03-28); 8, 9, 10 are after it
    assert flags(tmp_path, window_days=0) == {1: None, 2: None, 3: None, 4: "Y", 5: "Y", 6: "Y", 7: None,
                                              8: None, 9: None, 10: None}


def test_missing_start_not_emergent(tmp_path):
    # case 3 with missing_start "not_emergent": 4 and 5 are no longer emergent
    assert flags(tmp_path, missing_start="not_emergent") == {1: None, 2: None, 3: None, 4: None, 5: None,
                                                             6: "Y", 7: None, 8: "Y", 9: None, 10: None}


def test_not_emergent_value_n(tmp_path):
    # the pilot's rule as config: no window, missing start not emergent, "N" instead of null
    got = flags(tmp_path, window_days=None, missing_start="not_emergent", not_emergent_value="N")
    assert got == {1: "N", 2: "N", 3: "N", 4: "N", 5: "N", 6: "Y", 7: "N", 8: "Y", 9: "Y", 10: "Y"}


def test_not_emergent_value_n_is_in_the_spec_codelist(tmp_path):
    analysis = derive(tmp_path, dm_rows=SUBJECTS, ex_rows=EXPOSURE, ae_rows=adverse_events(),
                      teae={"window_days": 30, "not_emergent_value": "N"})
    var = analysis.spec.dataset("ADAE").variable("TRTEMFL")
    terms = {i.value for i in analysis.spec.codelist(var.codelist).items}
    assert terms == {"Y", "N"}
    assert not (analysis.findings["severity"] == "error").any()


def test_the_function_on_day_numbers_case_by_case():
    # TRTSDT = day 100, TRTEDT = day 110; window 5 -> last emergent start day 115
    nan = np.nan
    frame = pd.DataFrame({
        #         1      2     2/3    3     4     4     5     5
        "ASTDT": [100.0, 90.0, nan, nan, 100.0, 115.0, 116.0, 99.0],
        "AENDT": [101.0, 99.0, 99.0, nan, nan, nan, nan, 120.0],
        "TRTSDT": [nan, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0],
        "TRTEDT": [nan, 110.0, 110.0, 110.0, 110.0, 110.0, 110.0, 110.0],
    })
    got = derive_trtemfl(frame, window_days=5)
    assert text(got) == [None, None, None, "Y", "Y", "Y", None, None]
    got = derive_trtemfl(frame, window_days=5, missing_start="not_emergent", not_emergent_value="N")
    assert text(got) == ["N", "N", "N", "N", "Y", "Y", "N", "N"]


@pytest.mark.parametrize("window, expected", [(30, None), (None, "Y")])
def test_event_after_the_last_period_follows_the_last_treatment(tmp_path, window, expected):
    # AE 10 (2022-01-01) is after the last dose; its TRTA is still the treatment of the last period
    analysis = derive(tmp_path, dm_rows=SUBJECTS, ex_rows=EXPOSURE, ae_rows=adverse_events(),
                      teae={"window_days": window})
    rec = by_seq(analysis.datasets["ADAE"], "001").loc[10]
    assert (rec["TRTA"], rec["APERIOD"], text(pd.Series([rec["TRTEMFL"]]))[0]) == ("Cream 1.5%", 1, expected)


def test_a_start_left_partial_counts_by_what_it_says(tmp_path):
    # With only a missing day imputed (the pilot's ae_start.highest "D"), "2020", "2021" and "2022" stay
    # without ASTDT, but they are not wholly unknown: case 3 applies only where the start could lie in
    # TRTSDT .. TRTEDT + 30 (2021-03-01 .. 2021-04-27). "2020" started before treatment; "2021" may be
    # on treatment -> Y (missing-start rule); "2022" is after the window; null may be anywhere -> Y.
    events = ae({"subject": "001", "AESEQ": 11, "AESTDTC": "2020"}, {"subject": "001", "AESEQ": 12, "AESTDTC": "2021"},
                {"subject": "001", "AESEQ": 13, "AESTDTC": "2022"}, {"subject": "001", "AESEQ": 14, "AESTDTC": None})
    day_only = {"ae_start": {"highest": "D", "fill": "first", "min": []},
                "ae_end": {"highest": "D", "fill": "last", "max": []}}
    got = derive(tmp_path / "w30", dm_rows=SUBJECTS, ex_rows=EXPOSURE, ae_rows=events, imputation=day_only)
    recs = by_seq(got.datasets["ADAE"], "001")
    assert "ASTDT" not in recs or recs["ASTDT"].isna().all()   # all null: dropped as unused
    assert text(recs["TRTEMFL"]) == [None, "Y", None, "Y"]
    # the period: "2020" is before the first dose (none); the others the subject's first period
    assert text(recs["APERIOD"]) == [None, 1, 1, 1]
    # no window: "2022" may be emergent too
    got = derive(tmp_path / "none", dm_rows=SUBJECTS, ex_rows=EXPOSURE, ae_rows=events, imputation=day_only,
                 teae={"window_days": None})
    assert text(by_seq(got.datasets["ADAE"], "001")["TRTEMFL"]) == [None, "Y", "Y", "Y"]


WINDOW = ("TRTEMFL = 'Y' if TRTSDT is not null, AENDT is not before TRTSDT and ASTDT lies in the "
          "treatment-emergent window of the treatment received at onset (TRTA): from its first dose to the earliest of ")
UNKNOWN = "An event without ASTDT (AESTDTC missing, or more partial than the start-date imputation completes)"


@pytest.mark.parametrize("teae, expected", [
    ({}, WINDOW + "its last dose + 30 days, the day before another treatment starts, death (DTHDT) and the end of "
     "study (EOSDT, unless before the last dose). " + UNKNOWN + " whose AESTDTC could lie between TRTSDT and the end "
     "of the subject's last window is treatment-emergent unless AENDT < TRTSDT. Null otherwise."),
    ({"window_days": None, "missing_start": "not_emergent", "not_emergent_value": "N"},
     WINDOW + "the day before another treatment starts, death (DTHDT) and the end of study (EOSDT, unless before the "
     "last dose) (no fixed window after the last dose). " + UNKNOWN + " is not treatment-emergent. 'N' otherwise."),
    ({"bounded_by": []}, WINDOW + "its last dose + 30 days and the day before another treatment starts. " + UNKNOWN
     + " whose AESTDTC could lie between TRTSDT and the end of the subject's last window is treatment-emergent "
     "unless AENDT < TRTSDT. Null otherwise."),
])
def test_the_define_method_states_the_configured_rule(tmp_path, teae, expected):
    analysis = derive(tmp_path, dm_rows=SUBJECTS, ex_rows=EXPOSURE, ae_rows=adverse_events(),
                      teae={"window_days": 30, "missing_start": "emergent", **teae})
    assert analysis.spec.method(analysis.spec.dataset("ADAE").variable("TRTEMFL").method).description == expected
