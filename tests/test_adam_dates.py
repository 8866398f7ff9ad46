"""ADAE applies the ISS config's imputation options (``imputation.ae_start`` / ``ae_end``) and derives
ASTDY/AENDY. The imputation rules themselves are tested in tests/test_imputation.py; here each case
checks that ADAE passes the right options and bounds (TRTSDT; DTHDT, EOSDT, the data cut-off).

001: cream 1.5% 2021-03-15..04-30 (TRTSDT 2021-03-15); DS COMPLETED 2021-06-10 (EOSDT).
002: cream 1.5% 2021-03-15..04-30; died 2021-05-20 (DTHDT; DS DEATH the same day).
"""
from __future__ import annotations

import pytest

from tests.adam_frames import C15, ISS, P1, ae, by_seq, day, derive, dm, ds, ex, text

SUBJECTS = dm({"subject": "001", "ARMCD": "TPZ15-TPZ15"},
              {"subject": "002", "ARMCD": "TPZ15-TPZ15", "DTHDTC": "2021-05-20", "DTHFL": "Y"})
EXPOSURE = ex(("001", C15, P1, "2021-03-15", "2021-04-30"), ("002", C15, P1, "2021-03-15", "2021-04-30"))
DISPOSITION = ds(("001", "COMPLETED", "2021-06-10"), ("002", "DEATH", "2021-05-20"))
RECORDS = {  # (subject, AESEQ): (AESTDTC, AEENDTC)
    ("001", 1): ("2021-03", None),             # TRTSDT's month
    ("001", 2): ("2021-02", None),             # a month before TRTSDT
    ("001", 3): ("2021", None),                # TRTSDT's year
    ("001", 4): ("2020", None),
    ("001", 5): ("2021-03", "2021-03-10"),     # TRTSDT's month, but ended before TRTSDT
    ("001", 6): ("2021-04-02", "2021-06"),     # end in EOSDT's month
    ("001", 7): ("2021-04-02", "2021"),
    ("001", 8): (None, None),
    ("001", 9): ("2021-04", "2021-04"),
    ("002", 1): ("2021-05-01", "2021-05"),     # end in the month of death
}
EVENTS = ae(*({"subject": s, "AESEQ": seq, "AESTDTC": start, "AEENDTC": end}
              for (s, seq), (start, end) in RECORDS.items()))


def dates(analysis) -> dict:
    adae = analysis.datasets["ADAE"]
    out = {}
    for subject in ("001", "002"):
        recs = by_seq(adae, subject)
        for seq in recs.index:
            r = recs.loc[seq]
            out[(subject, seq)] = (day(r["ASTDT"]), text(r[["ASTDTF"]])[0] if "ASTDTF" in r else None,
                                   day(r["AENDT"]), text(r[["AENDTF"]])[0] if "AENDTF" in r else None)
    return out


@pytest.fixture(scope="module")
def default(tmp_path_factory):
    return derive(tmp_path_factory.mktemp("dates"), dm_rows=SUBJECTS, ex_rows=EXPOSURE, ae_rows=EVENTS,
                  ds_rows=DISPOSITION)


DEFAULT = {
    # start: highest M, first, not before TRTSDT when TRTSDT is in the partial date's range
    ("001", 1): ("2021-03-15", "D", None, None),            # 1st of March -> TRTSDT 03-15
    ("001", 2): ("2021-02-01", "D", None, None),            # TRTSDT outside February
    ("001", 3): ("2021-03-15", "M", None, None),            # 1 January -> TRTSDT
    ("001", 4): ("2020-01-01", "M", None, None),
    ("001", 5): ("2021-03-01", "D", "2021-03-10", None),    # start <= end kept jointly: not TRTSDT
    # end: highest M, last, not after DTHDT or EOSDT
    ("001", 6): ("2021-04-02", None, "2021-06-10", "D"),    # 30 June -> EOSDT 06-10
    ("001", 7): ("2021-04-02", None, "2021-06-10", "M"),    # 31 December -> EOSDT 06-10
    ("001", 8): (None, None, None, None),
    ("001", 9): ("2021-04-01", "D", "2021-04-30", "D"),
    ("002", 1): ("2021-05-01", None, "2021-05-20", "D"),    # 31 May -> death 05-20
}


def test_default_imputation(default):
    assert dates(default) == DEFAULT


def test_relative_days_against_trtsdt(default):
    recs = by_seq(default.datasets["ADAE"], "001")
    # no day 0: 03-15 is day 1; 02-01 is 42 days before 03-15 (28 February days + 14) -> -42;
    # 06-10 is 87 days after 03-15 -> day 88
    assert text(recs.loc[[1, 2, 6], "ASTDY"]) == [1, -42, 19]
    assert text(recs.loc[[1, 6], "AENDY"]) == [None, 88]


def test_emergence_uses_the_imputed_dates(default):
    recs = by_seq(default.datasets["ADAE"], "001")
    # 1 (imputed to TRTSDT) and 3 emergent; 2, 4 before treatment; 5 ended before treatment; 8 unknown start
    assert text(recs.loc[[1, 2, 3, 4, 5, 8], "TRTEMFL"]) == ["Y", None, "Y", None, None, "Y"]


def test_day_only_imputation_without_bounds(tmp_path):
    # the pilot's options: only a missing day is imputed (start to the 1st, end to the month's last day),
    # no bound dates; a year-only date stays missing
    got = derive(tmp_path, dm_rows=SUBJECTS, ex_rows=EXPOSURE, ae_rows=EVENTS, ds_rows=DISPOSITION,
                 imputation={"ae_start": {"highest": "D", "fill": "first", "min": []},
                             "ae_end": {"highest": "D", "fill": "last", "max": []}})
    assert dates(got) == {
        ("001", 1): ("2021-03-01", "D", None, None),
        ("001", 2): ("2021-02-01", "D", None, None),
        ("001", 3): (None, None, None, None),
        ("001", 4): (None, None, None, None),
        ("001", 5): ("2021-03-01", "D", "2021-03-10", None),
        ("001", 6): ("2021-04-02", None, "2021-06-30", "D"),
        ("001", 7): ("2021-04-02", None, None, None),
        ("001", 8): (None, None, None, None),
        ("001", 9): ("2021-04-01", "D", "2021-04-30", "D"),
        ("002", 1): ("2021-05-01", None, "2021-05-31", "D"),
    }


def test_data_cutoff_as_an_end_bound(tmp_path):
    # ae_end.max ["CUTOFF"] with data_cutoff 2021-06-05: "2021-06" -> 06-05 (not EOSDT: not listed)
    got = derive(tmp_path, dm_rows=SUBJECTS, ex_rows=EXPOSURE, ae_rows=EVENTS, ds_rows=DISPOSITION,
                 data_cutoff="2021-06-05",
                 imputation={**ISS["imputation"], "ae_end": {"highest": "M", "fill": "last", "max": ["CUTOFF"]}})
    got = dates(got)
    assert got[("001", 6)] == ("2021-04-02", None, "2021-06-05", "D")
    assert got[("002", 1)] == ("2021-05-01", None, "2021-05-31", "D")   # death is not a bound here


def test_year_imputation_of_a_missing_start(tmp_path):
    # ae_start highest Y, fill first, min TRTSDT: a missing AESTDTC becomes TRTSDT, flagged Y
    got = derive(tmp_path, dm_rows=SUBJECTS, ex_rows=EXPOSURE, ae_rows=EVENTS, ds_rows=DISPOSITION,
                 imputation={**ISS["imputation"], "ae_start": {"highest": "Y", "fill": "first", "min": ["TRTSDT"]}})
    assert dates(got)[("001", 8)] == ("2021-03-15", "Y", None, None)


def test_no_end_imputation(tmp_path):
    # ae_end.highest null: AEENDTC converted as collected, a partial end stays without AENDT (the pilot's
    # "AE.AEENDTC, converted to a numeric SAS date"); the start is imputed as by default
    got = derive(tmp_path, dm_rows=SUBJECTS, ex_rows=EXPOSURE, ae_rows=EVENTS, ds_rows=DISPOSITION,
                 imputation={**ISS["imputation"], "ae_end": {"highest": None, "fill": "last", "max": []}})
    got = dates(got)
    assert [got[k] for k in (("001", 5), ("001", 6), ("001", 7), ("001", 9), ("002", 1))] == [
        ("2021-03-01", "D", "2021-03-10", None), ("2021-04-02", None, None, None), ("2021-04-02", None, None, None),
        ("2021-04-01", "D", None, None), ("2021-05-01", None, None, None)]


def test_the_pilot_config_converts_aeendtc_without_imputation():
    from adam.config import load_iss_config
    from tests.conftest import ROOT

    iss = load_iss_config(ROOT / "examples" / "cdiscpilot01" / "iss.json")
    assert iss.imputation("ae_end")["highest"] is None
    assert iss.imputation("ae_start")["highest"] == "D"


@pytest.mark.parametrize("imputation, cutoff, path, message", [
    ({"ae_start": {"highest": "M", "fill": "first", "min": ["TRTSTDT"]}}, None,
     "$.imputation.ae_start.min[0]", "'TRTSTDT' is not one of"),
    ({"ae_end": {"highest": "M", "fill": "last", "max": ["DTHDT", "DTHDTX"]}}, None,
     "$.imputation.ae_end.max[1]", "'DTHDTX' is not one of"),
    ({"ae_end": {"highest": "M", "fill": "last", "max": ["DTHDT", "CUTOFF"]}}, None,
     "$.imputation.ae_end.max[1]", "names CUTOFF but the config sets no data_cutoff"),
    ({"ae_start": {"highest": "M", "fill": "frist"}}, "2021-12-31",
     "$.imputation.ae_start", "fill must be 'first', 'last' or a month-day"),
    ({"ae_start": {"highest": "Y", "fill": "first", "min": []}}, "2021-12-31",
     "$.imputation.ae_start", "imputing the year with fill 'first' needs min_dates"),
])
def test_imputation_options_the_derivation_cannot_apply_are_refused(tmp_path, imputation, cutoff, path, message):
    from adam.config import load_iss_config
    from specs.errors import InputError
    from tests.adam_frames import iss_config

    with pytest.raises(InputError) as err:
        iss_config(tmp_path, imputation=imputation, data_cutoff=cutoff)
    assert (err.value.file, err.value.path) == (str(tmp_path / "iss.json"), path)
    assert message in err.value.message
    # the same names are accepted where they are right: every bound name of the schema is usable
    iss_config(tmp_path, data_cutoff="2021-12-31", imputation={
        "ae_start": {"highest": "M", "fill": "first", "min": ["TRTSDT", "TRTEDT", "DTHDT", "EOSDT", "CUTOFF"]},
        "ae_end": {"highest": None, "fill": "last", "max": ["TRTSDT", "TRTEDT", "DTHDT", "EOSDT", "CUTOFF"]}})
    assert load_iss_config(tmp_path / "iss.json").imputation("ae_end")["highest"] is None


@pytest.mark.parametrize("records", [1, 3])
def test_imputed_in_slices_of_records_as_in_one(default, tmp_path, monkeypatch, records):
    """ADAE's dates are imputed a slice of records at a time (each record's dates depend on
    its own values and bounds only): the same dates and flags as in one slice; an invalid
    date reports the whole column's count and first row, as in one slice."""
    from adam import adae as adae_module
    from specs.errors import InputError

    monkeypatch.setattr(adae_module, "IMPUTATION_SLICE", records)
    sliced = derive(tmp_path / "sliced", dm_rows=SUBJECTS, ex_rows=EXPOSURE, ae_rows=EVENTS, ds_rows=DISPOSITION)
    assert dates(sliced) == dates(default) == DEFAULT
    bad = EVENTS.copy()
    bad.loc[bad.index[[1, 5]], "AESTDTC"] = ["2021-13-40", "not a date"]
    errors = []
    for size in (records, 10**6):
        monkeypatch.setattr(adae_module, "IMPUTATION_SLICE", size)
        with pytest.raises(InputError) as err:
            derive(tmp_path / f"bad{size}", dm_rows=SUBJECTS, ex_rows=EXPOSURE, ae_rows=bad, ds_rows=DISPOSITION)
        errors.append(str(err.value))
    assert errors[0] == errors[1] and "2 value(s) are not valid ISO 8601 dates" in errors[0]
