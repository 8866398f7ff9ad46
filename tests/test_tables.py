"""report.tables: ISS table frames checked against direct pandas counts on the same ADaM.

Two analyses are used:

* the minimal study (tests/minimal_study.py) through the real SDTM -> ADaM pipeline;
* a hand-built two-study ADaM (``synthetic_analysis``) with five groups — Low, Mid (nobody
  received it: a zero-subject group), High, Placebo (control) and All active (pools Low,
  Mid, High) — a placebo-then-High switcher, an open-label study without placebo, a death
  without a fatal AE, a fatal AE, a recurrent PT, a TEAE without a treatment group, an
  untreated subject with an AE, and a PT that looks like a spreadsheet formula.

Every expected count below is computed in the test with plain pandas from the ADaM frames
(group membership typed out here, not taken from the module), or typed by hand where noted.
"""
from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from adam.config import ISSConfig
from report import tables as T
from report.catalogue import build_tables
from specs.errors import InputError

# --------------------------------------------------------------------------------------
# the hand-built analysis
# --------------------------------------------------------------------------------------
SYN_CONFIG = {
    "id": "SYN-ISS",
    "title": "Synthetic integration",
    "studies": [],
    "creation_datetime": "2026-02-01T10:00:00",
    "groups": [
        {"label": "Low", "number": 1, "treatments": ["LOW"]},
        {"label": "Mid", "number": 2, "treatments": ["MID"]},
        {"label": "High", "number": 3, "treatments": ["HIGH"]},
        {"label": "Placebo", "number": 4, "treatments": ["PBO"], "control": True},
        {"label": "All active", "number": 5, "pools": ["Low", "Mid", "High"]},
    ],
    "events": [
        {"paramcd": "TTEANY", "name": "Any TEAE"},
        {"paramcd": "TTESER", "name": "Serious TEAE", "serious": True},
        {"paramcd": "TTEINF", "name": "Infections", "cq": 1, "soc": ["Infections and infestations"]},
        {"paramcd": "TTEMAL", "name": "Malignancies", "cq": 2, "pt": ["Basal cell carcinoma"]},
    ],
    "related_terms": ["RELATED"],
}
MEMBERS = {"Low": ["Low"], "Mid": ["Mid"], "High": ["High"], "Placebo": ["Placebo"],
           "All active": ["Low", "Mid", "High"]}
GROUPS = list(MEMBERS)
INF, NERV, GEN = "Infections and infestations", "Nervous system disorders", \
    "General disorders and administration site conditions"
NEO, SKIN = "Neoplasms benign, malignant and unspecified (incl cysts and polyps)", \
    "Skin and subcutaneous tissue disorders"

# subject: (study, SAFFL, DTHFL, death day, [(group, first day, days)])   day numbers from 2021-01-01
SUBJECTS = {
    "A01": ("ST-A", "Y", None, None, [("Low", 0, 56)]),
    "A02": ("ST-A", "Y", None, None, [("Low", 0, 84)]),
    "A03": ("ST-A", "Y", None, None, [("High", 0, 100)]),
    "A04": ("ST-A", "Y", None, None, [("Placebo", 0, 56), ("High", 56, 300)]),
    "A05": ("ST-A", "Y", None, None, [("Placebo", 0, 56)]),
    "A06": ("ST-A", "Y", "Y", 19, [("Placebo", 0, 20)]),
    "A07": ("ST-A", "N", None, None, []),
    "B01": ("ST-B", "Y", None, None, [("High", 0, 365)]),
    "B02": ("ST-B", "Y", "Y", 29, [("High", 0, 30)]),
    "B03": ("ST-B", "Y", None, None, [("High", 0, 200)]),
}
# AE records: subject, AESEQ, TRTA, TRTEMFL, SOC, PT, AESER, AREL, AESEV, AEACN, AEOUT, AESDTH
REC, KEPT = "RECOVERED/RESOLVED", "DOSE NOT CHANGED"
AES = [
    ("A01", 1, "Low", "Y", INF, "Nasopharyngitis", "N", "NOT RELATED", "MILD", KEPT, REC, "N"),
    ("A01", 2, "Low", "Y", NERV, "Headache", "N", "RELATED", "MODERATE", KEPT, REC, "N"),
    ("A01", 3, "Low", "Y", INF, "Nasopharyngitis", "N", "NOT RELATED", "MILD", KEPT, REC, "N"),
    ("A02", 1, "Low", "Y", GEN, "Application site pain", "N", "RELATED", "MILD", "DRUG WITHDRAWN", REC, "N"),
    ("A02", 2, None, None, NERV, "Headache", "N", "NOT RELATED", "MILD", "NOT APPLICABLE", REC, "N"),
    ("A03", 1, "High", "Y", INF, "Cellulitis", "Y", "NOT RELATED", "SEVERE", "DRUG INTERRUPTED", REC, "N"),
    ("A04", 1, "Placebo", "Y", NERV, "Headache", "N", "NOT RELATED", "MILD", KEPT, REC, "N"),
    ("A04", 2, "High", "Y", NERV, "Headache", "N", "RELATED", "MILD", KEPT, REC, "N"),
    ("A04", 3, "High", "Y", NEO, "Basal cell carcinoma", "Y", "NOT RELATED", "MODERATE", "DRUG WITHDRAWN",
     "NOT RECOVERED/NOT RESOLVED", "N"),
    ("A05", 1, "Placebo", "Y", INF, "Nasopharyngitis", "N", "NOT RELATED", "MILD", KEPT, REC, "N"),
    ("A05", 2, "Placebo", "Y", SKIN, "Pruritus", "N", "RELATED", "MILD", KEPT, REC, "N"),
    ("A06", 1, "Placebo", "Y", SKIN, "Pruritus", "N", "NOT RELATED", "SEVERE", KEPT, REC, "N"),
    ("A07", 1, None, None, NERV, "Headache", "N", "NOT RELATED", "MILD", "NOT APPLICABLE", REC, "N"),
    ("B01", 1, "High", "Y", SKIN, "=1+1", "N", "NOT RELATED", "MILD", KEPT, REC, "N"),
    ("B01", 2, "High", "Y", INF, "Nasopharyngitis", "N", "NOT RELATED", "MILD", KEPT, REC, "N"),
    ("B02", 1, "High", "Y", INF, "Pneumonia", "Y", "NOT RELATED", "SEVERE", "DRUG WITHDRAWN", "FATAL", "Y"),
    ("B03", 1, None, "Y", NERV, "Headache", "N", "NOT RELATED", "MILD", KEPT, REC, "N"),
]
# first event day within the subject's group, per event (absent = censored at the end of the group's days)
FIRST = {
    "TTEANY": {("A01", "Low"): 10, ("A02", "Low"): 5, ("A03", "High"): 20, ("A04", "Placebo"): 30,
               ("A04", "High"): 15, ("A05", "Placebo"): 3, ("A06", "Placebo"): 2, ("B01", "High"): 50,
               ("B02", "High"): 10},
    "TTESER": {("A03", "High"): 20, ("A04", "High"): 40, ("B02", "High"): 10},
    "TTEINF": {("A01", "Low"): 10, ("A03", "High"): 20, ("B01", "High"): 60, ("B02", "High"): 10,
               ("A05", "Placebo"): 3},
    "TTEMAL": {("A04", "High"): 40},
}
EPOCH = pd.Timestamp("2021-01-01")


def _date(day):
    return EPOCH + pd.Timedelta(days=int(day)) if day is not None else pd.NaT


def _text(values) -> pd.Series:
    return pd.Series(values, dtype=object)


def make_analysis(config: dict, adsl, adae, adex, adaette):
    iss = ISSConfig(config, Path("synthetic-iss.json"), [])
    return SimpleNamespace(iss=iss, datasets={"ADSL": adsl, "ADAE": adae, "ADEX": adex, "ADAETTE": adaette})


def _pooled(groups: pd.Series) -> pd.Series:
    """TRTAG1 of records of ``groups``: "All active" for the active groups, else null."""
    return pd.Series(np.where(groups.isin(MEMBERS["All active"]), "All active", None), index=groups.index,
                     dtype=object)


def _adex(rows) -> pd.DataFrame:
    """rows: (study, subject, group, first day, days) -> TRTDURD and TRTDURY records, the pooled
    group in TRTAG1 (never a record of its own)."""
    frame = pd.DataFrame(rows, columns=["STUDYID", "USUBJID", "TRTA", "START", "DAYS"])
    frame["TRTAG1"] = _pooled(frame["TRTA"])
    days = frame.assign(PARAMCD="TRTDURD", AVAL=frame["DAYS"].astype(float))
    years = frame.assign(PARAMCD="TRTDURY", AVAL=frame["DAYS"] / 365.25)
    out = pd.concat([days, years], ignore_index=True)
    out["ASTDT"] = [_date(d) for d in out["START"]]
    out["SAFFL"] = "Y"
    return out.drop(columns=["START", "DAYS"])


def synthetic_analysis(aeacn: bool = True):
    adsl = pd.DataFrame({
        "STUDYID": _text([s[0] for s in SUBJECTS.values()]), "USUBJID": _text(list(SUBJECTS)),
        "SAFFL": _text([s[1] for s in SUBJECTS.values()]), "DTHFL": _text([s[2] for s in SUBJECTS.values()]),
        "DTHDT": [_date(s[3]) for s in SUBJECTS.values()]})
    exposure = []
    for subj, (study, _, _, _, periods) in SUBJECTS.items():
        exposure += [(study, subj, g, start, days) for g, start, days in periods]
    adex = _adex(exposure)
    adae = pd.DataFrame(AES, columns=["USUBJID", "AESEQ", "TRTA", "TRTEMFL", "AEBODSYS", "AEDECOD", "AESER", "AREL",
                                      "AESEV", "AEACN", "AEOUT", "AESDTH"]).astype(object)
    adae.insert(0, "STUDYID", adae["USUBJID"].map({k: v[0] for k, v in SUBJECTS.items()}))
    adae["AESEQ"] = adae["AESEQ"].astype(float)
    adae["TRTAG1"] = _pooled(adae["TRTA"])
    adae["CQ01NAM"] = np.where(adae["AEBODSYS"] == INF, "Infections", None)
    adae["CQ02NAM"] = np.where(adae["AEDECOD"] == "Basal cell carcinoma", "Malignancies", None)
    if not aeacn:
        adae = adae.drop(columns="AEACN")
    tte = []
    for paramcd, firsts in FIRST.items():
        for study, subj, group, start, days in exposure:
            event = firsts.get((subj, group))
            tte.append((study, subj, group, paramcd, _date(start), (event if event is not None else days) / 365.25,
                        0.0 if event is not None else 1.0))
    adaette = pd.DataFrame(tte, columns=["STUDYID", "USUBJID", "TRTA", "PARAMCD", "STARTDT", "AVAL", "CNSR"])
    adaette["AVALU"] = "YEARS"
    adaette["TRTAG1"] = _pooled(adaette["TRTA"])
    return make_analysis(SYN_CONFIG, adsl, adae, adex, adaette)


def minimal_analysis(folder: Path):
    from adam.build import derive_adam, pool_sdtm
    from adam.config import load_iss_config
    from sdtm.mapping import map_study, read_study_raw
    from tests.minimal_study import write_minimal_iss

    iss = load_iss_config(write_minimal_iss(folder))
    studies = [map_study(c, read_study_raw(c)) for c in iss.studies]
    return derive_adam(pool_sdtm([s.datasets for s in studies]), iss)


@pytest.fixture(scope="module")
def syn():
    return synthetic_analysis()


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    return minimal_analysis(tmp_path_factory.mktemp("mini"))


@pytest.fixture(scope="module", params=["synthetic", "minimal"])
def analysis(request, syn, mini):
    return syn if request.param == "synthetic" else mini


# --------------------------------------------------------------------------------------
# independent counts
# --------------------------------------------------------------------------------------
def members_of(analysis) -> dict[str, list[str]]:
    """Group membership written out from the config (independent of report.tables)."""
    return {g["label"]: list(g.get("pools") or [g["label"]]) for g in analysis.iss.data["groups"]}


def safety(analysis) -> set:
    adsl = analysis.datasets["ADSL"]
    return set(adsl.loc[adsl["SAFFL"] == "Y", "USUBJID"])


def of_group(frame: pd.DataFrame, group: str) -> pd.DataFrame:
    """The records of ``group``: TRTA, or for a pooled group TRTAG1 (written out, independent of
    report.tables)."""
    pooled = frame["TRTAG1"] == group if "TRTAG1" in frame else False
    return frame[((frame["TRTA"] == group) | pooled).to_numpy(dtype=bool)]


def group_N(analysis) -> dict[str, int]:
    adex = analysis.datasets["ADEX"]
    days = adex[(adex["PARAMCD"] == "TRTDURD") & adex["USUBJID"].isin(safety(analysis))]
    return {g: int(of_group(days, g)["USUBJID"].nunique()) for g in members_of(analysis)}


def to_first_event(part: pd.DataFrame) -> pd.DataFrame:
    """Per subject, its records (one per treatment piece) in STARTDT order up to and including
    the first event: AVAL summed, CNSR 0 if one is an event (written out, independent of
    report.rates)."""
    rows = []
    for usubjid, records in part.sort_values("STARTDT", kind="mergesort").groupby("USUBJID", sort=True):
        years, event = 0.0, False
        for aval, cnsr in zip(records["AVAL"], records["CNSR"]):
            years += aval
            if cnsr == 0:
                event = True
                break
        rows.append((usubjid, years, 0.0 if event else 1.0))
    return pd.DataFrame(rows, columns=["USUBJID", "AVAL", "CNSR"])


def teae_in(analysis, group: str) -> pd.DataFrame:
    adae = analysis.datasets["ADAE"]
    keep = (adae["TRTEMFL"] == "Y") & adae["TRTA"].isin(members_of(analysis)[group]) & \
        adae["USUBJID"].isin(safety(analysis))
    return adae[keep.fillna(False).astype(bool)]


def cell(table: T.Table, row_id: str, column: str) -> pd.Series:
    hit = table.cells[(table.cells["row_id"] == row_id) & (table.cells["column"] == column)]
    assert len(hit) == 1, (row_id, column)
    return hit.iloc[0]


# --------------------------------------------------------------------------------------
# overview
# --------------------------------------------------------------------------------------
def test_overview_counts_equal_direct_pandas_counts(analysis):
    table = T.overview_table(analysis)
    N = group_N(analysis)
    adsl = analysis.datasets["ADSL"]
    for group in members_of(analysis):
        teae = teae_in(analysis, group)
        expected = {
            "any": teae["USUBJID"].nunique(),
            "related": teae.loc[teae["AREL"] == "RELATED", "USUBJID"].nunique(),
            "severe": teae.loc[teae["AESEV"] == "SEVERE", "USUBJID"].nunique(),
            "serious": teae.loc[teae["AESER"] == "Y", "USUBJID"].nunique(),
            "serious_related": teae.loc[(teae["AESER"] == "Y") & (teae["AREL"] == "RELATED"), "USUBJID"].nunique(),
        }
        if "AEACN" in teae:
            expected["discontinued"] = teae.loc[teae["AEACN"] == "DRUG WITHDRAWN", "USUBJID"].nunique()
        for event in analysis.iss.events:
            if "cq" in event:
                var = f"CQ{event['cq']:02d}NAM"
                expected[f"aesi|{event['paramcd']}"] = teae.loc[teae[var] == event["name"], "USUBJID"].nunique()
        for row_id, n in expected.items():
            c = cell(table, row_id, group)
            assert c["value"] == n, (row_id, group)
            assert c["denominator"] == N[group]
        assert "DTHFL" in adsl or cell(table, "deaths", group)["value"] == teae.loc[
            teae["AEOUT"] == "FATAL", "USUBJID"].nunique()


def test_overview_deaths_hand_counted(syn):
    """A06 died on placebo without a fatal AE (ADSL.DTHFL); B02 had a fatal AE on High and
    DTHFL = "Y" (counted once)."""
    table = T.overview_table(syn)
    got = {g: cell(table, "deaths", g)["value"] for g in GROUPS}
    assert got == {"Low": 0, "Mid": 0, "High": 1, "Placebo": 1, "All active": 1}
    lineage = table.lineage_records()
    lineage = lineage[lineage["row_id"] == "deaths"]
    assert set(lineage.loc[lineage["dataset"] == "ADSL", "USUBJID"]) == {"A06", "B02"}
    assert set(lineage.loc[lineage["dataset"] == "ADAE", "USUBJID"]) == {"B02"}


def test_overview_hand_counted_values(syn):
    """Typed by hand from AES above (B03's TEAE has no group; A02's second AE and A07's are not TEAEs)."""
    table = T.overview_table(syn)
    by_hand = {"any": {"Low": 2, "Mid": 0, "High": 4, "Placebo": 3, "All active": 6},
               "related": {"Low": 2, "Mid": 0, "High": 1, "Placebo": 1, "All active": 3},
               "discontinued": {"Low": 1, "Mid": 0, "High": 2, "Placebo": 0, "All active": 3},
               "aesi|TTEINF": {"Low": 1, "Mid": 0, "High": 3, "Placebo": 1, "All active": 4}}
    for row_id, expected in by_hand.items():
        assert {g: cell(table, row_id, g)["value"] for g in GROUPS} == expected, row_id
    assert cell(table, "any", "High")["text"] == "4 (80.0)"      # N(High) = A03, A04, B01, B02, B03
    assert cell(table, "any", "Mid")["text"] == "0"
    assert any("1 TEAE record(s) have no treatment group" in f for f in table.footnotes)
    assert table.notes["unassigned_teae_records"] == 1


def test_overview_row_of_an_absent_variable_is_na_not_zero():
    table = T.overview_table(synthetic_analysis(aeacn=False))
    c = cell(table, "discontinued", "Low")
    assert math.isnan(c["value"]) and c["text"] == T.NA
    assert any("ADAE has no AEACN" in f for f in table.footnotes)


def test_overview_definitions_are_in_the_footnotes(syn):
    notes = " ".join(T.overview_table(syn).footnotes)
    for text in ('TRTEMFL = "Y"', 'AEACN = "DRUG WITHDRAWN"', 'AEOUT = "FATAL"', 'DTHFL = "Y"',
                 "All active = Low + Mid + High", 'CQ01NAM', 'PT "Basal cell carcinoma"'):
        assert text in notes


# --------------------------------------------------------------------------------------
# SOC / PT
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("serious", [False, True])
def test_soc_pt_counts_equal_direct_pandas_counts(analysis, serious):
    table = (T.serious_teae_table if serious else T.soc_pt_table)(analysis)
    for group in members_of(analysis):
        teae = teae_in(analysis, group)
        if serious:
            teae = teae[teae["AESER"] == "Y"]
        assert cell(table, "any", group)["value"] == teae["USUBJID"].nunique()
        for soc, part in teae.groupby("AEBODSYS"):
            assert cell(table, f"soc|{soc}", group)["value"] == part["USUBJID"].nunique(), (soc, group)
            for pt, sub in part.groupby("AEDECOD"):
                assert cell(table, f"pt|{soc}|{pt}", group)["value"] == sub["USUBJID"].nunique(), (pt, group)
    # every SOC/PT row shown has at least one participant in some group
    values = table.cells.groupby("row_id")["value"].max()
    assert (values > 0).all() or table.cells["row_id"].nunique() == 1


def test_soc_pt_counts_match_the_first_occurrence_flags(mini):
    """ADAE's AOCC02FL/AOCC03FL flag the first TEAE per subject x TRTA x SOC (PT): for the
    non-pooled groups, the count of flags is the table's n (an independent derivation)."""
    table = T.soc_pt_table(mini)
    adae = mini.datasets["ADAE"]
    for group in [g.label for g in mini.iss.base_groups]:
        mine = adae[(adae["TRTA"] == group)]
        for soc, part in mine[mine["AOCC02FL"] == "Y"].groupby("AEBODSYS"):
            assert cell(table, f"soc|{soc}", group)["value"] == len(part)
        for (soc, pt), part in mine[mine["AOCC03FL"] == "Y"].groupby(["AEBODSYS", "AEDECOD"]):
            assert cell(table, f"pt|{soc}|{pt}", group)["value"] == len(part)
        assert cell(table, "any", group)["value"] == int((mine["AOCC01FL"] == "Y").sum())


def test_soc_pt_sorted_by_descending_all_active_frequency(syn):
    table = T.soc_pt_table(syn)
    rows = table.rows
    socs = rows.loc[rows["row_id"].str.startswith("soc|"), "row_label"].tolist()
    # All active: Infections 4 (A01, A03, B01, B02), Nervous 2 (A01, A04), then three SOCs with 1, A-Z
    assert socs == [INF, NERV, GEN, NEO, SKIN]
    # Placebo's own order would put Skin first (A05, A06): the reference column decides
    assert cell(table, f"soc|{SKIN}", "Placebo")["value"] == 2
    pts = rows.loc[rows["row_id"].str.startswith(f"pt|{INF}|"), "row_label"].tolist()
    assert pts == ["Nasopharyngitis", "Cellulitis", "Pneumonia"]   # 2 (A01, B01), then 1 each A-Z
    # general property: within the table, SOC reference counts never increase
    ref = [cell(table, f"soc|{s}", "All active")["value"] for s in socs]
    assert ref == sorted(ref, reverse=True)
    # each PT row follows its own SOC row
    order = rows["row_id"].tolist()
    for i, rid in enumerate(order):
        if rid.startswith("pt|"):
            soc = rid.split("|")[1]
            assert order.index(f"soc|{soc}") < i


def test_soc_pt_sorting_without_a_pooled_group_uses_the_union_of_active_groups():
    config = {**SYN_CONFIG, "groups": [g for g in SYN_CONFIG["groups"] if not g.get("pools")]}
    base = synthetic_analysis()
    data = {k: v.drop(columns=[c for c in v if c.startswith("TRTAG")]) for k, v in base.datasets.items()}
    analysis = make_analysis(config, data["ADSL"], data["ADAE"], data["ADEX"], data["ADAETTE"])
    label, members, in_config = T.all_active_group(analysis.iss)
    assert (label, members, in_config) == ("Low + Mid + High", ("Low", "Mid", "High"), False)
    table = T.soc_pt_table(analysis)
    socs = table.rows.loc[table.rows["row_id"].str.startswith("soc|"), "row_label"].tolist()
    assert socs == [INF, NERV, GEN, NEO, SKIN]
    assert [c.key for c in table.columns] == ["Low", "Mid", "High", "Placebo"]
    assert "all non-control groups together (Low + Mid + High)" in " ".join(table.footnotes)


def test_all_active_group_is_the_pool_of_exactly_the_active_groups(syn):
    assert T.all_active_group(syn.iss) == ("All active", ("Low", "Mid", "High"), True)
    partial = {**SYN_CONFIG, "groups": [*SYN_CONFIG["groups"][:4],
                                        {"label": "Low+High", "number": 5, "pools": ["Low", "High"]}]}
    assert T.all_active_group(ISSConfig(partial, Path("x.json"), []))[2] is False


# --------------------------------------------------------------------------------------
# zero-subject groups
# --------------------------------------------------------------------------------------
def test_zero_subject_group_appears_in_every_table(syn):
    for table in build_tables(syn).values():
        if table.kind == "Listing":         # records, not groups
            continue
        if table.name == "demographics":   # the synthetic ADSL has no demographic variables
            assert table.cells.empty
            continue
        if table.name == "aesi-eair":
            rows = table.cells[table.cells["group"] == "Mid"]
            assert len(rows) == 5 * len(syn.iss.events)            # N, n, PY, EAIR, difference per event
            assert set(rows.loc[rows["column"].isin(["eair", "diff|Placebo"]), "text"]) == {T.NE}
            assert set(rows.loc[rows["column"] == "N", "value"]) == {0}
        else:
            mids = [c for c in table.columns if c.group == "Mid"]
            assert mids
            assert all(c.header == "Mid\n(N=0)" or c.span == "Mid (N=0)" for c in mids)
            mid = table.cells[table.cells["group"] == "Mid"]
            assert len(mid) > 0
            assert set(mid.loc[mid["stat"] == "n", "text"]) <= {"0", T.NA}


# --------------------------------------------------------------------------------------
# exposure
# --------------------------------------------------------------------------------------
def test_exposure_statistics_equal_direct_computations(analysis):
    table = T.exposure_table(analysis)
    adex = analysis.datasets["ADEX"]
    ids = safety(analysis)
    for group in members_of(analysis):
        mine = of_group(adex[adex["USUBJID"].isin(ids)], group)
        days = mine[mine["PARAMCD"] == "TRTDURD"].groupby("USUBJID")["AVAL"].sum(min_count=1)   # per subject
        years = mine.loc[mine["PARAMCD"] == "TRTDURY", "AVAL"]
        assert table.value("n", group) == len(days)
        assert table.value("py", group) == pytest.approx(years.sum(), abs=1e-12)
        if len(days):
            assert table.value("mean", group) == pytest.approx(days.mean())
            assert table.value("median", group) == pytest.approx(np.median(days))
            assert table.value("min", group) == days.min() and table.value("max", group) == days.max()
        if len(days) > 1:
            assert table.value("sd", group) == pytest.approx(np.std(days.to_numpy(), ddof=1))
        for threshold in (1, 28, 84, 168, 364):
            assert table.value(f"ge{threshold}", group) == int((days >= threshold).sum())


def test_exposure_hand_values(syn):
    table = T.exposure_table(syn)
    # All active: 56 + 84 + 100 + 300 + 365 + 30 + 200 = 1135 days
    assert table.value("py", "All active") == pytest.approx(1135 / 365.25)
    assert cell(table, "py", "All active")["text"] == "3.11"
    assert cell(table, "mean", "Low")["text"] == "70.0" and cell(table, "sd", "Low")["text"] == "19.80"
    assert cell(table, "ge84", "High")["text"] == "4 (80.0)"       # A03 100, A04 300, B01 365, B03 200; not B02 30
    assert cell(table, "mean", "Mid")["text"] == T.NE


# --------------------------------------------------------------------------------------
# EAIR table
# --------------------------------------------------------------------------------------
def test_eair_cells_equal_hand_formulas(analysis):
    table = T.aesi_eair_table(analysis)
    tte = analysis.datasets["ADAETTE"]
    tte = tte[tte["USUBJID"].isin(safety(analysis))]
    for event in analysis.iss.events:
        for group in members_of(analysis):
            part = to_first_event(of_group(tte[tte["PARAMCD"] == event["paramcd"]], group))
            n, T_ = int((part["CNSR"] == 0).sum()), float(part["AVAL"].sum())
            rid = f"{event['paramcd']}|{group}"
            assert cell(table, rid, "N")["value"] == len(part)
            assert cell(table, rid, "n")["value"] == n
            assert cell(table, rid, "py")["value"] == pytest.approx(T_)
            c = cell(table, rid, "eair")
            if T_ == 0:
                assert math.isnan(c["value"]) and c["text"] == T.NE
                continue
            # Garwood exact interval in its gamma form (standards.md §5.2), independent of chi-square
            lower = stats.gamma.ppf(0.025, n) / T_ * 100 if n else 0.0
            upper = stats.gamma.ppf(0.975, n + 1) / T_ * 100
            assert c["value"] == pytest.approx(100 * n / T_)
            assert c["lower"] == pytest.approx(lower) and c["upper"] == pytest.approx(upper)


def test_eair_hand_values(syn):
    table = T.aesi_eair_table(syn)
    # Infections on High: A03 day 20, B01 day 60, B02 day 10 (events); A04 300 days, B03 200 days (censored)
    T_ = (20 + 60 + 10 + 300 + 200) / 365.25
    c = cell(table, "TTEINF|High", "eair")
    assert c["value"] == pytest.approx(300 / T_)
    assert cell(table, "TTEINF|High", "py")["text"] == "1.62"
    assert cell(table, "TTEINF|High", "n")["text"] == "3 (60.0)"
    # 3 x 36525 / 590 = 185.72; chi2(0.025; 6)/2 = 0.6186, chi2(0.975; 8)/2 = 8.7673 over 1.6153 PY
    assert c["text"] == "185.72 (38.30, 542.75)"


def reference_mh(strata):
    """MH rate difference per 100 PY and its Wald CI, strata = [(a, T1, b, T0)], written out
    (standards.md §5.3); strata without time in an arm are skipped."""
    used = [s for s in strata if s[1] > 0 and s[3] > 0]
    w = [t1 * t0 / (t1 + t0) for _, t1, _, t0 in used]
    rd = sum(wk * (a / t1 - b / t0) for wk, (a, t1, b, t0) in zip(w, used)) / sum(w)
    var = sum(wk ** 2 * (a / t1 ** 2 + b / t0 ** 2) for wk, (a, t1, b, t0) in zip(w, used)) / sum(w) ** 2
    z = stats.norm.ppf(0.975)
    return 100 * rd, 100 * (rd - z * math.sqrt(var)), 100 * (rd + z * math.sqrt(var))


def test_eair_difference_is_the_study_stratified_mantel_haenszel_difference(syn):
    table = T.aesi_eair_table(syn)
    tte = syn.datasets["ADAETTE"]
    for event in syn.iss.events:
        for group in ["Low", "High", "All active"]:
            strata = []
            for study in ("ST-A", "ST-B"):
                part = tte[(tte["PARAMCD"] == event["paramcd"]) & (tte["STUDYID"] == study)]
                trt, ctl = of_group(part, group), part[part["TRTA"] == "Placebo"]
                strata.append(((trt["CNSR"] == 0).sum(), trt["AVAL"].sum(), (ctl["CNSR"] == 0).sum(),
                               ctl["AVAL"].sum()))
            rd, lo, hi = reference_mh(strata)
            c = cell(table, f"{event['paramcd']}|{group}", "diff|Placebo")
            assert c["value"] == pytest.approx(rd), (event["paramcd"], group)
            if not math.isnan(c["lower"]):
                assert (c["lower"], c["upper"]) == (pytest.approx(lo), pytest.approx(hi))
    # no difference on the control's rows; Mid (no subjects) is not estimable
    assert cell(table, "TTEANY|Mid", "diff|Placebo")["text"] == T.NE
    assert not ((table.cells["group"] == "Placebo") & (table.cells["column"] == "diff|Placebo")).any()


def two_study_analysis():
    """standards.md §5.4(b): study 1 drug 12 events / 150 PY, placebo 5 / 140; study 2 drug
    20 / 400, placebo 4 / 100 (every subject at risk 10 years)."""
    design = [("S1", "Drug", 15, 12), ("S1", "Placebo", 14, 5), ("S2", "Drug", 40, 20), ("S2", "Placebo", 10, 4)]
    rows = [(study, f"{study}-{group[0]}{i:02d}", group, 10.0, 0.0 if i < events else 1.0)
            for study, group, n, events in design for i in range(n)]
    tte = pd.DataFrame(rows, columns=["STUDYID", "USUBJID", "TRTA", "AVAL", "CNSR"]).assign(PARAMCD="TTEANY")
    adsl = tte[["STUDYID", "USUBJID"]].assign(SAFFL="Y")
    adex = _adex([(s, u, g, 0, 3652.5) for s, u, g in tte[["STUDYID", "USUBJID", "TRTA"]].to_numpy()])
    adae = pd.DataFrame(columns=["STUDYID", "USUBJID", "AESEQ", "TRTA", "TRTEMFL", "AEBODSYS", "AEDECOD", "AESER"])
    config = {"id": "MH", "title": "Two studies", "studies": [],
              "groups": [{"label": "Drug", "number": 1, "treatments": ["D"]},
                         {"label": "Placebo", "number": 2, "treatments": ["P"], "control": True}],
              "events": [{"paramcd": "TTEANY", "name": "Any TEAE"}]}
    return make_analysis(config, adsl, adae, adex, tte)


def test_stratified_difference_differs_from_the_crude_one():
    analysis = two_study_analysis()
    table = T.aesi_eair_table(analysis)
    diff = cell(table, "TTEANY|Drug", "diff|Placebo")
    assert round(diff["value"], 2) == 2.63                       # published MH rate difference
    assert diff["text"] == "2.63 (-0.89, 6.15)"
    comp = T.rate_comparisons(analysis)
    crude = comp[(comp["comparison"] == "rate difference") & comp["method"].str.startswith("crude")]
    assert round(float(crude["estimate"].iloc[0]), 2) == 2.07     # published crude pooled difference
    assert cell(table, "TTEANY|Drug", "eair")["text"] == "5.82 (3.98, 8.21)"
    assert cell(table, "TTEANY|Placebo", "eair")["text"] == "3.75 (1.71, 7.12)"


def test_event_rates_event_counts_include_recurrences(syn):
    rates = T.event_rates(syn)
    row = rates[(rates["PARAMCD"] == "TTEINF") & (rates["TRTA"] == "Low")].iloc[0]
    assert row["subjects_with_event"] == 1 and row["events"] == 2   # A01's two nasopharyngitis records
    assert rates.groupby("PARAMCD").size().tolist() == [5, 5, 5, 5]  # every group, Mid included


# --------------------------------------------------------------------------------------
# lineage
# --------------------------------------------------------------------------------------
def test_lineage_subjects_reproduce_every_count(analysis):
    for table in build_tables(analysis).values():
        assert list(table.lineage.columns) == T.LINEAGE_REFERENCES
        lin = table.lineage_records()
        assert list(lin.columns) == T.LINEAGE_COLUMNS
        header = lin[lin["row_id"] == T.HEADER_ROW].groupby("column")["USUBJID"].nunique()
        for c in table.columns:
            if c.group is not None:
                assert header.get(c.key, 0) == group_N(analysis)[c.group]
        counted = table.cells[table.cells["stat"].isin(["n", "subjects_with_event"])]
        counted = counted[counted["value"].notna()]
        subjects = lin.groupby(["row_id", "column"])["USUBJID"].nunique()
        for rid, col, value in counted[["row_id", "column", "value"]].to_numpy():
            if rid == "n" and table.name == "exposure":
                continue
            assert subjects.get((rid, col), 0) == value, (table.name, rid, col)


def test_lineage_keys_resolve_to_adam_records(analysis):
    data = analysis.datasets
    lin = T.lineage_frame(build_tables(analysis))
    adae = lin[lin["dataset"] == "ADAE"].merge(data["ADAE"][["STUDYID", "USUBJID", "AESEQ"]].astype(
        {"AESEQ": "Int64"}), on=["STUDYID", "USUBJID", "AESEQ"], how="left", indicator=True)
    assert (adae["_merge"] == "both").all()
    for name in ("ADEX", "ADAETTE"):
        part = lin[lin["dataset"] == name]
        keys = data[name][["STUDYID", "USUBJID", "TRTA", "PARAMCD"]].astype(object)
        merged = part.astype({"TRTA": object, "PARAMCD": object}).merge(keys, how="left", indicator=True,
                                                                        on=["STUDYID", "USUBJID", "TRTA", "PARAMCD"])
        assert (merged["_merge"] == "both").all(), name
    assert set(lin["dataset"]) <= {"ADSL", "ADAE", "ADEX", "ADAETTE"}


@pytest.mark.parametrize("slice_records", [1, 7, 1000])
def test_lineage_written_in_slices_is_the_same_records_in_the_same_order(analysis, slice_records):
    """A table's sorted lineage is gathered slice by slice (each slice its own Parquet row
    group, with the dictionaries it uses): the same records in the same order as in one."""
    import pyarrow as pa

    tables = build_tables(analysis)
    whole = pa.concat_tables(list(T.lineage_parts(tables, slice_records=10**9)))
    parts = list(T.lineage_parts(tables, slice_records=slice_records))
    assert max(p.num_rows for p in parts) <= slice_records
    sliced = pa.concat_tables(parts)
    assert sliced.num_rows == whole.num_rows and len(parts) >= -(-whole.num_rows // slice_records)
    pd.testing.assert_frame_equal(sliced.to_pandas().astype(object), whole.to_pandas().astype(object))


def test_lineage_of_an_eair_event_cell_is_its_event_records(syn):
    lin = T.aesi_eair_table(syn).lineage_records()
    n = lin[(lin["row_id"] == "TTEMAL|High") & (lin["column"] == "n")]
    assert n["USUBJID"].tolist() == ["A04"] and n["PARAMCD"].tolist() == ["TTEMAL"]
    py = lin[(lin["row_id"] == "TTEMAL|High") & (lin["column"] == "py")]
    assert sorted(py["USUBJID"]) == ["A03", "A04", "B01", "B02", "B03"]


# --------------------------------------------------------------------------------------
# formatting, layout, errors
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, digits, text", [
    (6.25, 1, "6.3"), (0.05, 1, "0.1"), (2.675, 2, "2.68"), (-0.004, 2, "0.00"), (-1.5, 0, "-2"),
    (float("nan"), 2, "NE"), (509.6194, 2, "509.62")])
def test_round_half_up(value, digits, text):
    assert T.round_half_up(value, digits) == text


def test_n_pct_formats():
    assert T.format_n_pct([0, 1, 3, 1, 1, 2999, 5], [10, 8, 3, 2000, 3000, 3000, 0]) == \
        ["0", "1 (12.5)", "3 (100.0)", "1 (0.1)", "1 (<0.1)", "2999 (>99.9)", "5"]
    assert T.format_estimate_ci([1.234, float("nan")], [0.5, 1], [2.0, 2]) == ["1.23 (0.50, 2.00)", "NE"]


def test_grid_layout_has_every_row_and_column(syn):
    table = T.overview_table(syn)
    grid = table.grid()
    assert grid["row_id"].tolist() == table.rows["row_id"].tolist()
    assert list(grid.columns[-len(table.columns):]) == [c.key for c in table.columns]
    section = grid[grid["row_id"] == "aesi"].iloc[0]
    assert section["is_header"] and all(section[c.key] == "" for c in table.columns)


def test_build_tables_order_and_names(syn):
    tables = build_tables(syn)
    assert list(tables) == ["demographics", "disposition", "exposure", "teae-overview", "teae-soc-pt",
                            "teae-severity", "related-teae-soc-pt", "serious-teae-soc-pt", "discontinuation-teae-soc-pt", "aesi-pt",
                            "aesi-eair", "listing-deaths", "listing-sae", "listing-ae-discontinuation"]
    assert [(t.kind, t.number) for t in tables.values()] == [("Table", n) for n in range(1, 12)] + \
        [("Listing", n) for n in range(1, 4)]
    for t in tables.values():
        assert set(T.CELL_COLUMNS) == set(t.cells.columns)
        assert t.cells["text"].map(lambda x: isinstance(x, str)).all()


def test_missing_variable_is_a_clear_error(syn):
    data = dict(syn.datasets)
    data["ADAE"] = data["ADAE"].drop(columns="TRTEMFL")
    with pytest.raises(InputError, match="ADAE lacks variable.*TRTEMFL"):
        build_tables(SimpleNamespace(iss=syn.iss, datasets=data))


def test_exposure_in_an_unknown_group_is_a_clear_error(syn):
    data = dict(syn.datasets)
    data["ADEX"] = data["ADEX"].assign(TRTA=data["ADEX"]["TRTA"].replace({"Low": "Lo"}))
    with pytest.raises(InputError, match="ADEX TRTA has value.*not non-pooled ISS config groups: Lo"):
        build_tables(SimpleNamespace(iss=syn.iss, datasets=data))


def test_aesi_row_without_its_cq_variable_applies_the_event_definition():
    """An all-null CQzzNAM can be dropped from ADAE as unused; the row then applies the
    config's definition (PT "Basal cell carcinoma") rather than showing NA."""
    analysis = synthetic_analysis()
    analysis.datasets["ADAE"] = analysis.datasets["ADAE"].drop(columns="CQ02NAM")
    table = T.overview_table(analysis)
    assert {g: cell(table, "aesi|TTEMAL", g)["text"] for g in GROUPS} == \
        {"Low": "0", "Mid": "0", "High": "1 (20.0)", "Placebo": "0", "All active": "1 (14.3)"}
    assert any("ADAE has no CQ02NAM" in f for f in table.footnotes)


def test_adae_in_an_unknown_or_pooled_group_is_a_clear_error(syn):
    for bad in ("Lo", "All active"):
        data = dict(syn.datasets)
        data["ADAE"] = data["ADAE"].assign(TRTA=data["ADAE"]["TRTA"].replace({"Low": bad}))
        with pytest.raises(InputError, match=f"not non-pooled ISS config groups: {bad}"):
            T.context(SimpleNamespace(iss=syn.iss, datasets=data))


def test_comparisons_empty_list_means_none_and_absent_means_each_group_versus_the_control():
    groups = [{"label": "A", "number": 1, "treatments": ["A"]}, {"label": "B", "number": 2, "treatments": ["B"]},
              {"label": "P", "number": 3, "treatments": ["P"], "control": True}]
    base = {"id": "X", "title": "t", "studies": [], "groups": groups}
    assert T.comparisons(ISSConfig(base, Path("x.json"), [])) == [("A", "P"), ("B", "P")]
    assert T.comparisons(ISSConfig({**base, "comparisons": []}, Path("x.json"), [])) == []
    assert T.comparisons(ISSConfig({**base, "comparisons": [{"treatment": "B", "control": "P"}]},
                                   Path("x.json"), [])) == [("B", "P")]


def test_related_terms_empty_list_counts_only_a_missing_causality_as_related():
    from adam.adae import derive_arel

    adae = pd.DataFrame({"AEREL": ["RELATED", "POSSIBLY RELATED", "NOT RELATED", None]})
    assert derive_arel(adae, []).tolist() == ["NOT RELATED", "NOT RELATED", "NOT RELATED", "RELATED"]
    assert derive_arel(adae, None).tolist() == ["RELATED", "RELATED", "NOT RELATED", "RELATED"]


def test_doses_per_day_match_the_frequency_in_any_case():
    from adam.adex import dose_per_record

    iss = ISSConfig({"id": "X", "title": "t", "studies": [], "groups": [], "doses_per_day": {"Q2D": 0.5}},
                    Path("x.json"), [])
    records = pd.DataFrame({"EXDOSE": [2.0, 2.0, 300.0, 1.0], "EXDOSFRQ": ["bid", "q2d", "EVERY 4 WEEKS", "PRN"],
                            "EXSTDT": [0.0, 0.0, 10.0, 0.0], "EXENDT": [9.0, 2.0, 10.0, 0.0]})
    # BID 10 days: 20 x 2; every other day over 3 days: days 1 and 3; one injection; PRN has no rate
    assert dose_per_record(records, iss).tolist()[:3] == [40.0, 4.0, 300.0]
    assert np.isnan(dose_per_record(records, iss).iloc[3])


def test_demographics_categories_add_up_to_n_and_trace_to_adsl(mini):
    """Each participant of a group has one value (or Missing) of each characteristic, so every
    characteristic's n add up to the group's N; every counted cell traces to ADSL records."""
    table = T.demographics_table(mini)
    counts = table.cells[table.cells["stat"] == "n"]
    N = {c.key: int(c.header.split("N=")[1].rstrip(")")) for c in table.columns}
    for variable in ("SEX", "RACE", "ETHNIC"):
        part = counts[counts["row_id"].str.startswith(f"{variable}|")]
        assert part.groupby("column")["value"].sum().to_dict() == {k: float(v) for k, v in N.items()}, variable
    ages = counts[counts["row_id"] == "age|n"]
    assert ages.set_index("column")["value"].to_dict() == {k: float(v) for k, v in N.items()}
    lineage = table.lineage
    counted = lineage[lineage["row_id"].astype(str) != T.HEADER_ROW]
    assert set(counted["dataset"].astype(str)) == {"ADSL"}
    sex = counts[counts["row_id"].str.startswith("SEX|")]
    per_cell = counted[counted["row_id"].astype(str).str.startswith("SEX|")].groupby(
        [counted["row_id"].astype(str), counted["column"].astype(str)]).size()
    for _, cell in sex.iterrows():
        assert per_cell.get((cell["row_id"], cell["column"]), 0) == cell["value"]


def test_demographics_without_demographic_variables_is_an_empty_table(syn):
    table = T.demographics_table(syn)   # the synthetic ADSL has no AGE, SEX, RACE or ETHNIC
    assert table.cells.empty and list(table.rows["row_id"]) == []


def test_counting_in_an_unknown_pool_or_without_its_record_flag_is_a_clear_error(syn):
    with pytest.raises(InputError, match="unknown analysis pool 'XX' \\(pools: none\\)"):
        T.context(syn, pool="XX")
    pooled = SimpleNamespace(iss=ISSConfig({**SYN_CONFIG, "analysis_pools": [
        {"id": "A", "label": "Study A", "flag": "APOOLFL", "studies": ["ST-A"]}]}, Path("x.json"), []),
        datasets=syn.datasets)
    with pytest.raises(InputError, match="ADAE lacks ANL01FL, the record flag of analysis pool 'A'"):
        T.context(pooled, pool="A")


def test_a_pooled_treatment_the_config_does_not_pool_is_a_clear_error(syn):
    data = dict(syn.datasets)
    data["ADAE"] = data["ADAE"].assign(TRTAG1=data["ADAE"]["TRTAG1"].replace({"All active": "All doses"}))
    with pytest.raises(InputError, match="ADAE TRTAGy has value.*not pooled ISS config groups: All doses"):
        T.context(SimpleNamespace(iss=syn.iss, datasets=data))
