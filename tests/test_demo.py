"""trialpack.demo: the generated raw exports, read back with pandas alone (no trialpack mapper).

Every total is recomputed from the raw files and the study configs exactly as the configs
describe them (headers, delimiters, sheets, value maps, date formats), and checked against the
numbers the programme is specified by: 767 participants in 8 studies, 509.62 patient-years on
cream, two serious infections on cream 1.5%, none related. The last tests take the same files
through ``sdtm.map_study``: no error-level finding, every raw file reconciled.
"""
from __future__ import annotations

import json
import re
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from specs.errors import InputError
from trialpack import demo
from trialpack.demo import design

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "specs" / "schema"
DATA = ROOT / "trialpack" / "data" / "demo"

# Hand-written known answers --------------------------------------------------------------------

PARTICIPANTS = {
    "TPZ-AD-101": 24, "TPZ-AD-102": 29, "TPZ-AD-103": 32, "TPZ-AD-201": 78,
    "TPZ-AD-301": 140, "TPZ-AD-302": 149, "TPZ-AD-303": 154, "TPZ-AD-304": 161,
}
PHASES = {"TPZ-AD-101": "PHASE I TRIAL", "TPZ-AD-102": "PHASE I TRIAL", "TPZ-AD-103": "PHASE I TRIAL",
          "TPZ-AD-201": "PHASE II TRIAL", "TPZ-AD-301": "PHASE III TRIAL", "TPZ-AD-302": "PHASE III TRIAL",
          "TPZ-AD-303": "PHASE III TRIAL", "TPZ-AD-304": "PHASE III TRIAL"}
PHASE1_AGES = {"TPZ-AD-101": (12, 17), "TPZ-AD-102": (6, 11), "TPZ-AD-103": (2, 5)}
CREAM = {"TOPAZITINIB CREAM 0.75%", "TOPAZITINIB CREAM 1.5%"}
# The 27 system organ classes of MedDRA, spelled as MedDRA spells them.
MEDDRA_SOCS = {
    "Blood and lymphatic system disorders", "Cardiac disorders", "Congenital, familial and genetic disorders",
    "Ear and labyrinth disorders", "Endocrine disorders", "Eye disorders", "Gastrointestinal disorders",
    "General disorders and administration site conditions", "Hepatobiliary disorders", "Immune system disorders",
    "Infections and infestations", "Injury, poisoning and procedural complications", "Investigations",
    "Metabolism and nutrition disorders", "Musculoskeletal and connective tissue disorders",
    "Neoplasms benign, malignant and unspecified (incl cysts and polyps)", "Nervous system disorders",
    "Pregnancy, puerperium and perinatal conditions", "Psychiatric disorders", "Renal and urinary disorders",
    "Reproductive system and breast disorders", "Respiratory, thoracic and mediastinal disorders",
    "Skin and subcutaneous tissue disorders", "Social circumstances", "Surgical and medical procedures",
    "Vascular disorders", "Product issues",
}
# Controlled terminology the mapped values must land in (CDISC CT; AEREL is the sponsor's list).
CT = {
    "SEX": {"F", "M", "U", "INTERSEX"},
    "RACE": {"AMERICAN INDIAN OR ALASKA NATIVE", "ASIAN", "BLACK OR AFRICAN AMERICAN",
             "NATIVE HAWAIIAN OR OTHER PACIFIC ISLANDER", "WHITE", "NOT REPORTED", "OTHER", "UNKNOWN"},
    "ETHNIC": {"HISPANIC OR LATINO", "NOT HISPANIC OR LATINO", "NOT REPORTED", "UNKNOWN"},
    "COUNTRY": {"USA", "CAN", "DEU", "POL", "GBR", "FRA", "ESP", "ITA", "JPN", "AUS"},
    "NY": {"Y", "N", "U", "NA"},
    "AESEV": {"MILD", "MODERATE", "SEVERE"},
    "AEREL": {"NOT RELATED", "UNLIKELY RELATED", "POSSIBLY RELATED", "RELATED"},
    "AEOUT": {"FATAL", "NOT RECOVERED/NOT RESOLVED", "RECOVERED/RESOLVED", "RECOVERED/RESOLVED WITH SEQUELAE",
              "RECOVERING/RESOLVING", "UNKNOWN"},
    "AEACN": {"DOSE INCREASED", "DOSE NOT CHANGED", "DOSE REDUCED", "DRUG INTERRUPTED", "DRUG WITHDRAWN",
              "NOT APPLICABLE", "UNKNOWN", "DOSE RATE REDUCED"},
    "DSDECOD": {"COMPLETED", "ADVERSE EVENT", "WITHDRAWAL BY SUBJECT", "WITHDRAWAL BY PARENT/GUARDIAN",
                "LOST TO FOLLOW-UP", "PHYSICIAN DECISION", "LACK OF EFFICACY", "SCREEN FAILURE", "DEATH"},
    "EXLOC": {"SKIN"},
}
NY_FIELDS = ("AESER", "AEONGO", "AESDTH", "AESLIFE", "AESHOSP", "AESDISAB", "AESCONG", "AESMIE")
CODED = {"DM": ("SEX", "RACE", "ETHNIC", "COUNTRY"),
         "AE": ("AESEV", *NY_FIELDS, "AEREL", "AEOUT", "AEACN"),
         "EX": ("EXLOC",), "DS": ("DSDECOD",)}
DATE_FIELDS = {"DM": ("BRTHDAT", "RFICDAT"), "AE": ("AESTDAT", "AEENDAT"), "EX": ("EXSTDAT", "EXENDAT"),
               "DS": ("DSSTDAT",)}
MONTHS = {m: i for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT",
                                      "NOV", "DEC"), start=1)}


# Reading a study the way its config describes it ----------------------------------------------


@dataclass
class Study:
    config: dict
    tables: dict[str, pd.DataFrame]  # columns renamed to the CDASH-like fields
    cache: dict = field(default_factory=dict)  # parsed dates and derived frames, computed once

    @property
    def id(self) -> str:
        return self.config["studyid"]

    def __getitem__(self, domain: str) -> pd.DataFrame:
        return self.tables[domain]


def read_raw(config_path: Path, config: dict, domain: str) -> pd.DataFrame:
    entry = config["raw"]["files"][domain]
    path = (config_path.parent / config["raw"]["dir"] / entry["path"]).resolve()
    if entry.get("format", "csv") == "xlsx":
        frame = pd.read_excel(path, sheet_name=entry["sheet"], dtype=str, keep_default_na=False, na_values=[""],
                              engine="openpyxl")  # an independent reader: not the calamine path under test
    else:
        frame = pd.read_csv(path, sep=entry.get("delimiter", ","), encoding=entry.get("encoding", "utf-8"),
                            dtype=str, keep_default_na=False, na_values=[""])
    headers = entry["columns"]
    assert list(frame.columns) == list(headers.values()), f"{path}: headers differ from the config"
    return frame.rename(columns={header: name for name, header in headers.items()})


def load(iss_path: Path) -> tuple[dict, list[Study]]:
    iss = json.loads(iss_path.read_text())
    studies = []
    for relative in iss["studies"]:
        config_path = iss_path.parent / relative
        config = json.loads(config_path.read_text())
        studies.append(Study(config, {d: read_raw(config_path, config, d) for d in ("DM", "AE", "EX", "DS")}))
    return iss, studies


def standard(study: Study, domain: str, name: str) -> pd.Series:
    """Raw values -> standard values: value_maps (trimmed, any case), else exactly a CT value; else <UNMAPPED>."""
    raw = study[domain][name]
    mapping = {k.strip().upper(): v for k, v in study.config.get("value_maps", {}).get(name, {}).items()}
    mapped = raw.str.strip().str.upper().map(mapping).astype(object)
    codelist = CT["NY" if name in NY_FIELDS else name]
    as_is = raw.where(raw.isin(codelist)).astype(object)
    out = mapped.combine_first(as_is)
    return out.where(raw.isna() | out.notna(), "<UNMAPPED>")


# A tiny test-local raw-date parser (independent of sdtm.dates) ---------------------------------


def format_regex(fmt: str, unknown: list[str]) -> str:
    tokens = "|".join(re.escape(t) for t in sorted(unknown, key=len, reverse=True))
    out, i, hour = "", 0, False
    while i < len(fmt):
        token = next((t for t in ("YYYY", "MON", "MM", "DD", "HH") if fmt.startswith(t, i)), None)
        if token is None:
            out += re.escape(fmt[i])
            i += 1
            continue
        out += {
            "YYYY": r"(?P<year>\d{4})",
            "MON": rf"(?P<month>[A-Za-z]{{3}}|{tokens})",
            "MM": r"(?P<minute>\d{2})" if hour else rf"(?P<month>\d{{2}}|{tokens})",
            "DD": rf"(?P<day>\d{{2}}|{tokens})",
            "HH": r"(?P<hour>\d{2})",
        }[token]
        hour = hour or token == "HH"
        i += len(token)
    return out


def parse_dates(values: pd.Series, formats: list[str], unknown: list[str]) -> pd.DataFrame:
    """Per value: the format index used (-1 none), year, month, day (NaN unknown), date if complete."""
    out = pd.DataFrame({"format": -1, "year": np.nan, "month": np.nan, "day": np.nan}, index=values.index)
    text = values.astype(object)
    for k, fmt in enumerate(formats):
        todo = text.notna() & (out["format"] < 0)
        parts = text[todo].astype(str).str.extract(f"^{format_regex(fmt, unknown)}$")
        hit = parts.notna().any(axis=1) & parts["year"].notna()
        rows = parts.index[hit]
        out.loc[rows, "format"] = k
        out.loc[rows, "year"] = parts.loc[rows, "year"].astype(float)
        month = parts.loc[rows, "month"].str.upper()
        out.loc[rows, "month"] = pd.to_numeric(month, errors="coerce").fillna(month.map(MONTHS).astype(float))
        out.loc[rows, "day"] = pd.to_numeric(parts.loc[rows, "day"], errors="coerce")
    complete = out[["year", "month", "day"]].notna().all(axis=1)
    out["date"] = pd.to_datetime(
        out[["year", "month", "day"]].where(complete).astype("Float64"), errors="coerce")
    out["valid"] = (out["format"] >= 0) & (~complete | out["date"].notna()) & (
        out["month"].isna() | out["month"].between(1, 12))
    return out


def cached(function):
    def wrapper(study: Study, *args):
        key = (function.__name__, *args)
        if key not in study.cache:
            study.cache[key] = function(study, *args)
        return study.cache[key]
    return wrapper


@cached
def dates(study: Study, domain: str, name: str) -> pd.DataFrame:
    raw = study.config["raw"]
    return parse_dates(study[domain][name], raw["date_formats"], raw["unknown_date_tokens"])


# Derived facts, computed from the raw data only -------------------------------------------------


def treatments(study: Study) -> pd.Series:
    """EXTRT raw code (any case) -> standard EXTRT."""
    keys = {k.upper(): v["extrt"] for k, v in study.config["treatments"].items()}
    return study["EX"]["EXTRT"].str.upper().map(keys)


@cached
def valid_ex(study: Study) -> pd.DataFrame:
    ex = study["EX"]
    start, end = dates(study, "EX", "EXSTDAT")["date"], dates(study, "EX", "EXENDAT")["date"]
    frame = pd.DataFrame({"SUBJID": ex["SUBJID"], "EXTRT": treatments(study), "start": start, "end": end,
                          "dose": pd.to_numeric(ex["EXDOSE"], errors="coerce")})
    ok = (frame["dose"] > 0) & start.notna() & end.notna() & frame["EXTRT"].notna() & \
        frame["SUBJID"].isin(study["DM"]["SUBJID"])
    return frame[ok]


@cached
def exposure_days(study: Study) -> pd.DataFrame:
    """Per subject and treatment: last EXENDAT - first EXSTDAT + 1."""
    ex = valid_ex(study)
    span = ex.groupby(["SUBJID", "EXTRT"]).agg(first=("start", "min"), last=("end", "max"))
    span["days"] = (span["last"] - span["first"]).dt.days + 1
    return span.reset_index()


@cached
def participants(study: Study) -> set[str]:
    return set(valid_ex(study)["SUBJID"])


@cached
def valid_ae(study: Study) -> pd.DataFrame:
    ae = study["AE"]
    return ae[ae["SUBJID"].isin(study["DM"]["SUBJID"]) & ae["AETERM"].notna()]


@cached
def ages(study: Study) -> pd.DataFrame:
    dm = study["DM"].drop_duplicates()
    birth = dates(study, "DM", "BRTHDAT").loc[dm.index]
    consent = dates(study, "DM", "RFICDAT").loc[dm.index]["date"]
    earliest = pd.to_datetime(birth[["year", "month"]].assign(day=birth["day"].fillna(1)).astype(int))
    latest = earliest + pd.offsets.MonthEnd(0)
    latest = latest.where(birth["day"].isna(), earliest)

    def age(born: pd.Series) -> pd.Series:
        before_birthday = (consent.dt.month < born.dt.month) | (
            (consent.dt.month == born.dt.month) & (consent.dt.day < born.dt.day))
        return consent.dt.year - born.dt.year - before_birthday.astype(int)

    return pd.DataFrame({"SUBJID": dm["SUBJID"], "young": age(latest), "old": age(earliest),
                         "partial": birth["day"].isna()})


# Fixtures -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def default_iss(tmp_path_factory) -> Path:
    return demo.generate(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def programme(default_iss):
    return load(default_iss)


@pytest.fixture(scope="module")
def studies(programme) -> list[Study]:
    return programme[1]


@pytest.fixture(scope="module")
def mapped(default_iss):
    """The demo's SDTM, mapped as the build maps it (with the ISS config's data cut-off)."""
    from adam.config import load_iss_config
    from sdtm.mapping import map_study, read_study_raw

    iss = load_iss_config(default_iss)
    return [map_study(c, read_study_raw(c), data_cutoff=iss.get("data_cutoff")) for c in iss.studies]


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# Tests --------------------------------------------------------------------------------------------


def test_layout_matches_the_contract(default_iss):
    root = default_iss.parent
    assert default_iss == root / "iss.json"
    names = sorted(files(root))
    assert "studies/tpz-ad-301.json" in names
    assert {n for n in names if n.startswith("raw/tpz-ad-301/")} == {
        f"raw/tpz-ad-301/{d}.csv" for d in ("dm", "ae", "ex", "ds")}
    xlsx = [n for n in names if n.endswith(".xlsx")]
    assert sorted(xlsx) == [f"raw/tpz-ad-101/{d}.xlsx" for d in ("ae", "dm", "ds", "ex")]
    assert "queries.csv" in names   # the demo's fictional standardised queries (the ISS config's query_file)
    assert len(names) == 2 + 8 + 8 * 4


def test_same_seed_gives_identical_bytes(default_iss, tmp_path):
    again = demo.generate(tmp_path / "again")
    first, second = files(default_iss.parent), files(again.parent)
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []


def test_other_seed_other_data_same_headline(tmp_path, studies):
    iss = demo.generate(tmp_path / "seed7", seed=7)
    _, other = load(iss)
    assert other[4]["AE"].shape != studies[4]["AE"].shape or not other[4]["AE"].equals(studies[4]["AE"])
    assert {s.id: len(participants(s)) for s in other} == PARTICIPANTS
    cream = sum(e.loc[e["EXTRT"].isin(CREAM), "days"].sum() for e in map(exposure_days, other))
    assert round(cream / 365.25, 2) == 509.62


def test_xlsx_document_properties_are_fixed(default_iss):
    with zipfile.ZipFile(default_iss.parent / "raw" / "tpz-ad-101" / "ae.xlsx") as archive:
        assert {info.date_time for info in archive.infolist()} == {(2026, 1, 15, 9, 0, 0)}
        core = archive.read("docProps/core.xml").decode()
    assert "<dcterms:created xsi:type=\"dcterms:W3CDTF\">2026-01-15T09:00:00Z</dcterms:created>" in core


def test_configs_validate_against_the_schemas(programme, default_iss):
    iss, studies = programme
    jsonschema.Draft202012Validator(json.loads((SCHEMAS / "iss-config.schema.json").read_text())).validate(iss)
    study_schema = jsonschema.Draft202012Validator(json.loads((SCHEMAS / "study-config.schema.json").read_text()))
    for study in studies:
        study_schema.validate(study.config)
    assert iss["studies"] == [f"studies/{s.lower()}.json" for s in PARTICIPANTS]
    for study in studies:
        assert study.config["raw"]["dir"] == f"../raw/{study.id.lower()}"


def test_iss_config_groups_events_and_rates(programme):
    iss, _ = programme
    assert iss["id"] == "TPZ-ISS" and iss["assign_by"] == "exposure"
    assert [(g["label"], g["number"]) for g in iss["groups"]] == [
        ("Cream 0.75%", 1), ("Cream 1.5%", 2), ("Vehicle", 3), ("All cream", 4)]
    assert iss["groups"][2] == {"label": "Vehicle", "number": 3, "treatments": ["VEHICLE CREAM"], "control": True}
    assert iss["groups"][3]["pools"] == ["Cream 0.75%", "Cream 1.5%"]
    assert iss["comparisons"] == [{"treatment": t, "control": "Vehicle"}
                                  for t in ("Cream 0.75%", "Cream 1.5%", "All cream")]
    assert iss["teae"] == {"window_days": 30, "missing_start": "emergent"}
    events = {e["paramcd"]: e for e in iss["events"]}
    assert events["TTEANY"]["name"] == "Any TEAE" and events["TTESER"]["serious"] is True
    assert [events[p]["cq"] for p in ("TTESINF", "TTEMACE")] == [1, 2]
    assert [(events[p]["smq"], events[p]["query"]) for p in ("TTETHRM", "TTEMALIG")] == [
        (1, "Embolic and thrombotic events (demo query)"), (2, "Malignancies (demo query)")]
    assert iss["query_file"] == "queries.csv" and "cq" not in events["TTEDTH"]   # deaths are not a query
    assert events["TTESINF"]["soc"] == ["Infections and infestations"] and events["TTESINF"]["serious"]
    assert events["TTEDTH"]["fatal"] is True
    assert iss["rates"] == {"per": 100, "ci_method": "exact", "conf_level": 0.95, "strata": "STUDYID"}


def test_eight_studies_one_phase_2_four_phase_3_three_phase_1(studies):
    assert {s.id: s.config["phase"] for s in studies} == PHASES
    by_phase = pd.Series([s.config["phase"] for s in studies]).value_counts().to_dict()
    assert by_phase == {"PHASE III TRIAL": 4, "PHASE I TRIAL": 3, "PHASE II TRIAL": 1}
    for study in studies:
        arms = {a["armcd"]: a["treatments"] for a in study.config["arms"]}
        if study.config["phase"] == "PHASE I TRIAL":
            assert list(arms) == ["TPZ15"] and len(study.config["periods"]) == 1
        else:
            assert list(arms) == ["TPZ075", "TPZ15", "VEH-TPZ075", "VEH-TPZ15"]
            assert [p["epoch"] for p in study.config["periods"]] == ["BLINDED TREATMENT", "OPEN LABEL TREATMENT"]


def test_participants_per_study_and_total(studies):
    counts = {s.id: len(participants(s)) for s in studies}
    assert counts == PARTICIPANTS
    assert sum(counts.values()) == 767 == demo.DEMO_HEADLINE["participants"]
    assert demo.DEMO_HEADLINE["participants_per_study"] == PARTICIPANTS


def test_screen_failures_and_untreated_subjects_are_not_participants(studies):
    for study in studies:
        dm = study["DM"].drop_duplicates()
        treated = participants(study)
        no_arm = set(dm.loc[dm["ARM"].isna(), "SUBJID"])
        reasons = standard(study, "DS", "DSDECOD")
        screen_failed = set(study["DS"].loc[reasons == "SCREEN FAILURE", "SUBJID"])
        assert no_arm == screen_failed and len(no_arm) >= 2
        assert study["DS"].loc[reasons == "SCREEN FAILURE", "PERIOD"].isna().all()
        assert not (no_arm & treated) and not (no_arm & set(study["AE"]["SUBJID"]))
        untreated = set(dm["SUBJID"]) - treated - no_arm
        assert len(untreated) == (0 if study.config["phase"] == "PHASE I TRIAL" else 1)
        assert not untreated & set(study["AE"]["SUBJID"])
        assert len(dm) == len(treated) + len(no_arm) + len(untreated)


def test_randomisation_dates_only_in_the_randomised_studies(studies):
    """Phase 2/3 studies randomise (config randomized: true) and their DM exports carry the
    randomisation date: the first application for a treated subject, consent + 7 days (the
    shortest screening) for the one randomised but never treated, none for screen failures. The
    open-label phase 1 studies neither randomise nor have the field."""
    for study in studies:
        dm = study["DM"].drop_duplicates()
        randomised = study.config["phase"] != "PHASE I TRIAL"
        assert study.config["randomized"] is randomised
        assert ("RANDDAT" in dm) is randomised and ("RANDDAT" in study.config["raw"]["files"]["DM"]["columns"]) \
            is randomised
        if not randomised:
            continue
        when = dm.assign(rand=dates(study, "DM", "RANDDAT").loc[dm.index, "date"],
                         consent=dates(study, "DM", "RFICDAT").loc[dm.index, "date"]).set_index("SUBJID")
        assert when["rand"].isna().equals(when["ARM"].isna())          # exactly the subjects with an arm
        ex = study["EX"].assign(start=dates(study, "EX", "EXSTDAT")["date"])
        first = ex.groupby("SUBJID")["start"].min()
        treated = [s for s in participants(study) if s in when.index]
        assert (when.loc[treated, "rand"] == first[treated]).all()
        untreated = when.index[when["ARM"].notna() & ~when.index.isin(treated)]
        assert len(untreated) == 1
        assert (when.loc[untreated, "rand"] - when.loc[untreated, "consent"]).dt.days.tolist() == [7]


def test_ages_2_to_17_at_consent(studies):
    for study in studies:
        age = ages(study)
        age = age[age["SUBJID"].isin(participants(study))]
        assert (age["young"] == age["old"]).all(), "a partial birth date leaves the age open"
        lo, hi = PHASE1_AGES.get(study.id, (2, 17))
        assert age["young"].between(lo, hi).all()
        assert age["young"].min() <= lo + 1 and age["young"].max() >= hi - 1
    assert sum(ages(s)["partial"].sum() for s in studies) >= 3


def test_cream_patient_years_round_to_509_62(studies):
    spans = pd.concat([exposure_days(s).assign(STUDYID=s.id) for s in studies])
    cream_days = spans.loc[spans["EXTRT"].isin(CREAM), "days"].sum()
    assert 186138 <= cream_days <= 186140
    assert round(cream_days / 365.25, 2) == 509.62 == demo.DEMO_HEADLINE["cream_patient_years"]
    assert spans["days"].gt(0).all()
    phase1 = spans[spans["STUDYID"].isin(PHASE1_AGES)]
    assert phase1["days"].between(1, 30).all() and phase1["EXTRT"].eq("TOPAZITINIB CREAM 1.5%").all()
    assert spans["days"].max() <= 364 + 6


def test_diary_is_contiguous_within_each_treatment(studies):
    for study in studies:
        ex = valid_ex(study).sort_values(["SUBJID", "EXTRT", "start"])
        previous_end = ex.groupby(["SUBJID", "EXTRT"])["end"].shift()
        gaps = (ex["start"] - previous_end).dt.days[previous_end.notna()]
        assert (gaps == 1).all(), study.id
        assert (ex["end"] >= ex["start"]).all()


def test_diary_follows_the_randomised_arm(studies):
    for study in studies:
        arms = {}
        for arm in study.config["arms"]:
            extrts = [study.config["treatments"][code]["extrt"] for code in arm["treatments"]]
            arms.update({raw.upper(): extrts for raw in arm["raw"]})
        periods = {raw: p["number"] for p in study.config["periods"] for raw in p["raw"]}
        ex = study["EX"].assign(EXTRT_STD=treatments(study), PERIOD_N=study["EX"]["PERIOD"].map(periods))
        assert ex["PERIOD_N"].notna().all() and ex["EXTRT_STD"].notna().all()
        dm = study["DM"].drop_duplicates().set_index("SUBJID")
        planned = dm["ARM"].str.upper().map(arms)
        assert planned[dm["ARM"].notna()].notna().all(), "every ARM matches an arms[].raw"
        expected = [planned[s][p - 1] for s, p in zip(ex["SUBJID"], ex["PERIOD_N"]) if s in planned.index]
        assert list(ex.loc[ex["SUBJID"].isin(dm.index), "EXTRT_STD"]) == expected


def test_two_serious_infections_on_cream_1_5_not_related(studies):
    found = []
    for study in studies:
        ae = valid_ae(study)
        serious = standard(study, "AE", "AESER").loc[ae.index] == "Y"
        infections = ae[serious & (ae["AEBODSYS"] == "Infections and infestations")]
        rows = infections.assign(
            start=dates(study, "AE", "AESTDAT").loc[infections.index, "date"],
            AEREL_STD=standard(study, "AE", "AEREL").loc[infections.index])
        spans = exposure_days(study)
        merged = rows.reset_index().merge(spans, on="SUBJID")
        on = merged[(merged["first"] <= merged["start"]) & (merged["start"] <= merged["last"])]
        every = merged.groupby("index")["EXTRT"].agg(lambda t: sorted(set(t)))
        found += list(zip(on["AEDECOD"], on["EXTRT"], on["index"].map(every).map(tuple), on["AEREL_STD"]))
        assert len(on) == len(infections)
    assert sorted(found) == [
        ("Cellulitis", "TOPAZITINIB CREAM 1.5%", ("TOPAZITINIB CREAM 1.5%",), "NOT RELATED"),
        ("Pneumonia", "TOPAZITINIB CREAM 1.5%", ("TOPAZITINIB CREAM 1.5%",), "NOT RELATED"),
    ]
    assert demo.DEMO_HEADLINE["serious_infections"] == 2


def test_no_mace_thromboembolic_malignancy_or_death(programme):
    iss, studies = programme
    listed = {pt for e in iss["events"] for pt in e.get("pt", [])}
    for study in studies:
        ae = valid_ae(study)
        assert not set(ae["AEDECOD"]) & listed
        assert not ae["AEBODSYS"].str.startswith("Neoplasms").any()
        assert "FATAL" not in set(standard(study, "AE", "AEOUT"))
        assert "Y" not in set(standard(study, "AE", "AESDTH"))
        assert "DEATH" not in set(standard(study, "DS", "DSDECOD"))


def test_seriousness_ongoing_and_outcome_are_consistent(studies):
    serious_terms = []
    for study in studies:
        ae = valid_ae(study)
        flags = pd.concat([standard(study, "AE", f).loc[ae.index] for f in NY_FIELDS[2:]], axis=1)
        assert (standard(study, "AE", "AESER").loc[ae.index].eq("Y") == flags.eq("Y").any(axis=1)).all()
        ongoing = standard(study, "AE", "AEONGO").loc[ae.index] == "Y"
        outcome = standard(study, "AE", "AEOUT").loc[ae.index]
        assert ae.loc[ongoing, "AEENDAT"].isna().all() and ae.loc[~ongoing, "AEENDAT"].notna().all()
        assert outcome[ongoing].eq("NOT RECOVERED/NOT RESOLVED").all()
        assert outcome[~ongoing].isin({"RECOVERED/RESOLVED", "RECOVERED/RESOLVED WITH SEQUELAE"}).all()
        serious_terms += list(ae.loc[flags.eq("Y").any(axis=1), "AEDECOD"])
        sosp = ae["AESOSP"].notna()
        assert (standard(study, "AE", "AESMIE").loc[ae.index][sosp] == "Y").all()
    assert sorted(serious_terms) == sorted(["Cellulitis", "Pneumonia", "Dermatitis atopic", "Asthma",
                                            "Upper limb fracture", "Febrile convulsion"])


def test_ae_lines_and_discontinuations_agree(studies):
    for study in studies:
        ae = study["AE"][study["AE"]["SUBJID"].isin(study["DM"]["SUBJID"])]  # the empty-term row included
        spid = pd.to_numeric(ae["AESPID"])
        assert (spid.groupby(ae["SUBJID"]).agg(lambda x: list(x)) ==
                spid.groupby(ae["SUBJID"]).size().map(lambda n: list(range(1, n + 1)))).all()
        valid = valid_ae(study)
        withdrawn = set(valid.loc[standard(study, "AE", "AEACN").loc[valid.index] == "DRUG WITHDRAWN", "SUBJID"])
        stopped = set(study["DS"].loc[standard(study, "DS", "DSDECOD") == "ADVERSE EVENT", "SUBJID"])
        assert withdrawn == stopped


def test_ae_timing_profile(studies):
    """Some AEs start before the first application, some over 30 days after the last; rates look real."""
    before = after = total = 0
    terms = pd.Series(dtype=int)
    for study in studies:
        ae = valid_ae(study)
        start = dates(study, "AE", "AESTDAT").loc[ae.index, "date"]
        spans = exposure_days(study).groupby("SUBJID").agg(first=("first", "min"), last=("last", "max"))
        first = ae["SUBJID"].map(spans["first"])
        last = ae["SUBJID"].map(spans["last"])
        before += int((start < first).sum())
        after += int(((start - last).dt.days > 30).sum())
        total += len(ae)
        terms = terms.add(ae["AEDECOD"].value_counts(), fill_value=0)
        consent = dates(study, "DM", "RFICDAT")["date"].groupby(study["DM"]["SUBJID"]).first()
        assert (start.dropna() >= ae["SUBJID"].map(consent)[start.notna()]).all()
    assert before >= 5 and after >= 3
    assert 600 <= total <= 1500
    top = set(terms.sort_values(ascending=False).index[:4])
    assert {"Nasopharyngitis", "Upper respiratory tract infection"} <= top
    assert {"Application site pain", "Pyrexia", "Headache", "Impetigo", "Molluscum contagiosum"} <= set(terms.index)


def test_teae_rate_on_cream_is_mildly_above_vehicle(studies):
    """Treatment-emergent AEs per patient-year (start on a treatment, or within 30 days after the last)."""
    events = {extrt: 0 for extrt in (*CREAM, "VEHICLE CREAM")}
    for study in studies:
        ae = valid_ae(study)
        start = dates(study, "AE", "AESTDAT").loc[ae.index, "date"]
        spans = exposure_days(study)
        merged = pd.DataFrame({"SUBJID": ae["SUBJID"], "start": start}).dropna().reset_index().merge(spans, on="SUBJID")
        during = merged[(merged["first"] <= merged["start"]) & (merged["start"] <= merged["last"])]
        last = spans.sort_values("last").groupby("SUBJID").tail(1)
        after = pd.DataFrame({"SUBJID": ae["SUBJID"], "start": start}).dropna().reset_index().merge(last, on="SUBJID")
        after = after[((after["start"] - after["last"]).dt.days.between(1, 30))]
        for extrt, n in pd.concat([during, after])["EXTRT"].value_counts().items():
            events[extrt] += n
    years = pd.concat([exposure_days(s) for s in studies]).groupby("EXTRT")["days"].sum() / 365.25
    cream = (events["TOPAZITINIB CREAM 0.75%"] + events["TOPAZITINIB CREAM 1.5%"]) / years[list(CREAM)].sum()
    vehicle = events["VEHICLE CREAM"] / years["VEHICLE CREAM"]
    assert 1.0 < cream / vehicle < 1.3
    assert 1.2 < cream < 2.2  # events per patient-year


def test_dates_are_plausible_and_end_of_study_is_last(studies):
    for study in studies:
        all_dates = pd.concat([dates(study, d, f)["date"] for d, fs in DATE_FIELDS.items() for f in fs
                               if f != "BRTHDAT"]).dropna()
        assert all_dates.min() >= pd.Timestamp("2021-01-01") and all_dates.max() <= pd.Timestamp("2023-12-31")
        ds = study["DS"].assign(date=dates(study, "DS", "DSSTDAT")["date"])
        end_of_study = ds.groupby("SUBJID")["date"].max()
        ae = valid_ae(study)
        for name in ("AESTDAT", "AEENDAT"):
            when = dates(study, "AE", name).loc[ae.index, "date"]
            assert (when.dropna() <= ae["SUBJID"].map(end_of_study)[when.notna()]).all()
        ex = valid_ex(study)
        assert (ex["end"] <= ex["SUBJID"].map(end_of_study)).all()


def test_every_raw_date_parses_with_the_study_formats(studies):
    used_formats = {}
    for study in studies:
        for domain, names in DATE_FIELDS.items():
            for name in names:
                parsed = dates(study, domain, name)
                present = study[domain][name].notna()
                bad = present & ~parsed["valid"]
                assert not bad.any(), (study.id, name, list(study[domain].loc[bad, name][:5]))
                if domain == "EX":
                    assert (parsed.loc[present, ["day", "month"]].notna().all(axis=None))
                if domain in ("DS", "EX") or name == "RFICDAT":
                    assert parsed.loc[present, "day"].notna().all(), "only AE and birth dates are partial"
                used_formats.setdefault(study.id, set()).update(parsed.loc[present, "format"])
    assert all(len(f) >= 2 for f in used_formats.values()), "formats are mixed within each study"


def test_raw_quirks_are_present(studies):
    ae_dates = pd.concat([s["AE"][f] for s in studies for f in ("AESTDAT", "AEENDAT")]).dropna()
    assert ae_dates.str.fullmatch(r"UN [A-Z]{3} \d{4}").sum() >= 5  # UN JAN 2021
    assert ae_dates.str.fullmatch(r"UN UNK \d{4}").sum() >= 1  # UN UNK 2021
    end_dates = pd.concat([s["AE"]["AEENDAT"] for s in studies]).dropna()
    assert end_dates.str.contains(r"^U[NK][ -]").sum() >= 5 and end_dates.str.contains(r"UNK").sum() >= 1
    assert ae_dates.str.fullmatch(r"UK-UNK-\d{4}|UN UNK \d{4}").sum() >= 3
    assert ae_dates.str.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}").sum() >= 5  # with a time
    births = pd.concat([s["DM"]["BRTHDAT"] for s in studies])
    assert births.str.contains(r"^U[NK][ -]").sum() >= 3
    coded = pd.concat([s[d][f] for s in studies for d, fs in CODED.items() for f in fs if f in s[d]]).dropna()
    assert (coded != coded.str.strip()).sum() >= 20, "stray spaces"
    assert coded.str.startswith(" ").any() and coded.str.endswith(" ").any()
    sexes = set(pd.concat([s["DM"]["SEX"] for s in studies]).dropna())
    assert {"f", "m"} & sexes and {"Female", "Male", "F", "M", "1", "2"} <= sexes
    races = pd.concat([s["DM"]["RACE"] for s in studies]).dropna()
    assert races.str.islower().any() and (races != races.str.strip()).any()  # "white", "White "
    severities = set(pd.concat([s["AE"]["AESEV"] for s in studies]).dropna())
    assert "mild" in severities and "1 - Mild" in severities
    maps = {}
    for s in studies:
        for name, mapping in s.config["value_maps"].items():
            maps.setdefault(name, {}).update(mapping)
    assert maps["RACE"]["Caucasian"] == "WHITE" and maps["SEX"]["Female"] == "F"
    assert maps["COUNTRY"]["United States"] == "USA" and maps["COUNTRY"]["US"] == "USA"
    extrt = pd.concat([s["EX"]["EXTRT"] for s in studies])
    assert extrt.str.islower().any(), "lower-case treatment codes"
    assert {s.config["raw"]["files"]["DM"].get("delimiter") for s in studies} >= {",", ";"}
    subjids = pd.concat([s["DM"]["SUBJID"] for s in studies])
    assert subjids.str.contains("-").any() and subjids.str.fullmatch(r"\d+").any()


def test_coded_values_all_map_to_controlled_terms(studies):
    for study in studies:
        for domain, names in CODED.items():
            for name in names:
                if name not in study[domain]:
                    continue
                values = standard(study, domain, name)
                unmapped = study[domain].loc[values == "<UNMAPPED>", name]
                assert unmapped.empty, (study.id, name, sorted(set(unmapped))[:5])
                assert set(values.dropna()) <= CT["NY" if name in NY_FIELDS else name]
        assert set(study["EX"]["EXDOSFRQ"].dropna()) <= {"BID"} if "EXDOSFRQ" in study["EX"] else True


def test_country_from_sites_or_value_map(studies):
    for study in studies:
        dm = study["DM"].drop_duplicates()
        sites = {k: v["country"] for k, v in study.config["sites"].items()}
        assert dm["SITEID"].isin(sites).all()
        if "COUNTRY" in dm:
            assert (standard(study, "DM", "COUNTRY").loc[dm.index] == dm["SITEID"].map(sites)).all()


def test_every_invalid_record_is_present_where_the_manifest_says(studies):
    """The demo plants one exact duplicate demographics row in each phase 3 study (and nothing whose
    loss would change a count: those are error findings, tested in the bad-input catalogue)."""
    assert [(r.studyid, r.domain, r.kind) for r in demo.INVALID_RECORDS] == [
        ("TPZ-AD-301", "DM", "duplicate"), ("TPZ-AD-302", "DM", "duplicate"),
        ("TPZ-AD-303", "DM", "duplicate"), ("TPZ-AD-304", "DM", "duplicate")]
    found = set()
    for study in studies:
        dm, ae, ex = study["DM"], study["AE"], study["EX"]
        assert ae["SUBJID"].isin(dm["SUBJID"]).all() and ae["AETERM"].notna().all()
        assert (pd.to_numeric(ex["EXDOSE"]) >= 0).all() and dates(study, "EX", "EXSTDAT")["valid"].all()
        assert dm.duplicated().sum() <= 1, study.id
        if dm.duplicated().any():
            found.add((study.id, "DM", "duplicate"))
            duplicate = dm[dm.duplicated(keep=False)]
            assert duplicate["SUBJID"].iloc[0] in participants(study)
    assert found == {(r.studyid, r.domain, r.kind) for r in demo.INVALID_RECORDS}


def test_dictionary_is_meddra_like(studies):
    text = (DATA / "meddra_demo.csv").read_text()
    assert "illustrative" in text.splitlines()[1].lower()
    table = pd.read_csv(DATA / "meddra_demo.csv", comment="#", dtype=str)
    assert set(table["soc"]) <= MEDDRA_SOCS
    for level in ("llt", "pt", "hlt", "hlgt", "soc"):
        codes = table[f"{level}_code"]
        assert codes.str.fullmatch(r"1\d{7}").all()
        assert table.groupby(f"{level}_code")[level].nunique().eq(1).all()
        assert table.groupby(level)[f"{level}_code"].nunique().eq(1).all()
    named_as_pt = table[table["llt"] == table["pt"]]
    assert (named_as_pt["llt_code"] == named_as_pt["pt_code"]).all()
    hierarchy = ["llt", "llt_code", "pt", "pt_code", "hlt", "hlt_code", "hlgt", "hlgt_code", "soc", "soc_code"]
    for study in studies:  # every coded AE row is a dictionary row
        coded = valid_ae(study)[["AELLT", "AELLTCD", "AEDECOD", "AEPTCD", "AEHLT", "AEHLTCD", "AEHLGT",
                                 "AEHLGTCD", "AEBODSYS", "AEBDSYCD"]]
        coded.columns = hierarchy
        assert len(coded.merge(table, on=hierarchy)) == len(coded)


def test_controlled_terms_exist_in_the_nci_package(shared_data, programme):
    ct = pd.read_csv(shared_data / "ct" / "sdtm-ct-2025-03.txt", sep="\t", dtype=str, keep_default_na=False)
    terms = lambda code: set(ct.loc[ct["Codelist Code"] == code, "CDISC Submission Value"])  # noqa: E731
    iss, studies = programme
    for study in studies:
        assert {p["epoch"] for p in study.config["periods"]} | set(study.config["epochs"].values()) <= \
            terms("C99079")
        assert study.config["phase"] in terms("C66737")
        exposure = study.config["exposure"]
        assert exposure["dose_form"] in terms("C66726") and exposure["route"] in terms("C66729")
        assert exposure["dose_unit"] in terms("C71620") and exposure["frequency"] in terms("C71113")
        for name, codelist in (("AEOUT", "C66768"), ("AEACN", "C66767"), ("AESEV", "C66769")):
            assert set(standard(study, "AE", name).dropna()) <= terms(codelist)
        assert set(standard(study, "DS", "DSDECOD").dropna()) <= terms("C66727")
        for name, codelist in (("SEX", "C66731"), ("RACE", "C74457"), ("ETHNIC", "C66790")):
            assert set(standard(study, "DM", name).dropna()) <= terms(codelist)
        if "EXLOC" in study["EX"]:
            assert set(standard(study, "EX", "EXLOC").dropna()) <= terms("C74456")


def test_expected_headline_and_defaults():
    assert demo.DEMO_DEFAULTS == {"subjects": 767, "studies": 8, "seed": 20261125}
    headline = demo.DEMO_HEADLINE
    assert headline["participants"] == 767 and headline["cream_patient_years"] == 509.62
    assert headline["serious_infections"] == 2 and headline["serious_infections_group"] == "Cream 1.5%"
    assert headline["serious_infections_related"] == 0
    assert (headline["mace"], headline["thromboembolic"], headline["malignancies"], headline["deaths"]) == (0, 0, 0, 0)
    assert headline["phases"] == {"PHASE I TRIAL": 3, "PHASE II TRIAL": 1, "PHASE III TRIAL": 4}
    assert demo.expected_headline(10000, 8)["cream_patient_years"] is None


def test_phase_mix_for_other_study_counts():
    assert design.phase_counts(8) == {3: 4, 1: 3, 2: 1}
    assert design.phase_counts(1) == {3: 1, 1: 0, 2: 0}
    assert design.phase_counts(12) == {3: 6, 1: 5, 2: 1}  # 6 + 4.5 + 1.5: the tie goes to phase 1
    assert design.phase_counts(16) == {3: 8, 1: 6, 2: 2}
    plans = design.plan_studies(1534, 16)
    assert sum(p.participants for p in plans) == 1534
    # twice the programme: every template used twice, at its default size
    assert [p.participants for p in plans] == [24, 29, 32, 24, 29, 32, 78, 78, 140, 149, 154, 161,
                                                140, 149, 154, 161]
    # 45 in proportion: 1.4, 1.7, 1.9 -> 5 each; then 78/682 x 30 = 3.4 -> 5; then 25 over 604:
    # 5.79, 6.17, 6.37, 6.66 -> 5, 6, 6, 6 plus the two largest remainders (140 and 161)
    assert [p.participants for p in design.plan_studies(45, 8)] == [5, 5, 5, 5, 6, 6, 6, 7]
    assert len({p.studyid for p in plans}) == 16 and plans[-1].studyid == "TPZ-AD-308"


def test_scaling_keeps_proportions_and_runs_quickly(tmp_path, studies):
    began = time.perf_counter()
    iss = demo.generate(tmp_path / "big", subjects=10000, studies=8)
    elapsed = time.perf_counter() - began
    assert elapsed < 30  # about a second on an idle machine
    _, big = load(iss)
    counts = {s.id: len(participants(s)) for s in big}
    assert counts == {p.studyid: p.participants for p in design.plan_studies(10000, 8)}
    assert sum(counts.values()) == 10000
    for study_id, n in counts.items():
        assert abs(n / 10000 - PARTICIPANTS[study_id] / 767) < 0.002
    per_subject = lambda ss: sum(  # noqa: E731
        e.loc[e["EXTRT"].isin(CREAM), "days"].sum() for e in map(exposure_days, ss)) / sum(
        len(participants(s)) for s in ss)
    assert per_subject(big) == pytest.approx(per_subject(studies), rel=0.05)
    ae_rate = lambda ss: sum(len(valid_ae(s)) for s in ss) / sum(len(participants(s)) for s in ss)  # noqa: E731
    assert ae_rate(big) == pytest.approx(ae_rate(studies), rel=0.12)
    infections = sum(
        ((standard(s, "AE", "AESER") == "Y") & (s["AE"]["AEBODSYS"] == "Infections and infestations")).sum()
        for s in big)
    assert infections == demo.expected_headline(10000, 8)["serious_infections"] == 26


def test_ae_per_subject_fixes_the_count(tmp_path):
    iss = demo.generate(tmp_path / "bench", subjects=120, studies=3, ae_per_subject=4)
    _, small = load(iss)
    for study in small:
        ae = valid_ae(study)
        withdrawn = standard(study, "AE", "AEACN").loc[ae.index] == "DRUG WITHDRAWN"
        stopped_for_ae = set(study["DS"].loc[standard(study, "DS", "DSDECOD") == "ADVERSE EVENT", "SUBJID"])
        routine = ae[~withdrawn]
        assert routine.groupby("SUBJID").size().eq(4).all()
        assert set(routine["SUBJID"]) == participants(study)
        assert set(ae.loc[withdrawn, "SUBJID"]) == stopped_for_ae & participants(study)


def test_no_aes_when_ae_per_subject_is_zero(tmp_path):
    iss = demo.generate(tmp_path / "none", subjects=40, studies=2, ae_per_subject=0)
    _, small = load(iss)
    for study in small:
        assert len(participants(study)) > 0
        withdrawn = standard(study, "AE", "AEACN") == "DRUG WITHDRAWN"
        assert withdrawn.all(), "only the AEs that stopped treatment remain"


@pytest.mark.parametrize("kwargs, message", [
    ({"subjects": 30, "studies": 8}, "at least 5 per study"),
    ({"studies": 0}, "positive integer"),
    ({"subjects": 767.0}, "integer"),
    ({"seed": -1}, "non-negative integer"),
    ({"ae_per_subject": -2}, "non-negative number"),
    ({"ae_per_subject": float("nan")}, "non-negative number"),
])
def test_bad_arguments_raise_input_error(tmp_path, kwargs, message):
    with pytest.raises(InputError, match=message):
        demo.generate(tmp_path / "x", **kwargs)
    assert not (tmp_path / "x").exists()


def test_rerun_replaces_files_of_a_larger_run(tmp_path):
    demo.generate(tmp_path / "out", subjects=200, studies=10)
    demo.generate(tmp_path / "out", subjects=100, studies=3)
    assert len(list((tmp_path / "out" / "studies").iterdir())) == 3
    assert len(list((tmp_path / "out" / "raw").iterdir())) == 3
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


@given(studies=st.integers(1, 60), extra=st.integers(0, 5000))
@settings(max_examples=60, deadline=None)
def test_study_plans_add_up_for_any_size(studies, extra):
    subjects = design.MIN_PARTICIPANTS * studies + extra
    plans = design.plan_studies(subjects, studies)
    assert sum(p.participants for p in plans) == subjects
    assert min(p.participants for p in plans) >= design.MIN_PARTICIPANTS
    counts = design.phase_counts(studies)
    assert sum(counts.values()) == studies and counts[3] >= 1
    assert counts[3] >= counts[1] >= counts[2] - 1
    assert [p.phase for p in plans] == sorted(p.phase for p in plans)
    assert len({p.studyid for p in plans}) == studies
    assert all(re.fullmatch(r"TPZ-AD-[123]\d{2,}", p.studyid) for p in plans)
    assert sum(p.file_format == "xlsx" for p in plans) == 1


# The demo through the mapper ----------------------------------------------------------------------


def test_mapped_sdtm_has_no_error_findings_and_every_raw_file_reconciles(mapped):
    """Issue 4's definition of done: no error-level finding; per raw file, rows read = rows mapped +
    rows rejected, the rejections being exactly the planted invalid records (one each)."""
    found = pd.concat([s.findings.assign(study=s.studyid) for s in mapped])
    assert found[found["severity"] == "error"].empty, found[found["severity"] == "error"].head().to_string()
    rec = pd.concat([s.reconciliation.assign(study=s.studyid) for s in mapped])
    assert len(rec) == 8 * 4 and rec["balanced"].all()
    assert (rec["rows_read"] == rec["rows_mapped"] + rec["rows_rejected"]).all()
    assert rec["rows_rejected"].sum() == len(demo.INVALID_RECORDS) == 4
    assert sorted(found.loc[found["rule"] == "TP0116", "study"]) == sorted(r.studyid for r in demo.INVALID_RECORDS)


def test_every_exposure_record_has_its_location(mapped):
    """EXLOC: collected by two EDC styles, the protocol's "SKIN" (config exposure.location, origin
    Protocol) in the four studies whose diary has no location column."""
    for study in mapped:
        ex = study.datasets["EX"]
        assert ex["EXLOC"].notna().all() and set(ex["EXLOC"]) == {"SKIN"}, study.studyid
        collected = "EXLOC" in study.config.raw_file("EX")["columns"]
        assert study.spec.dataset("EX").variable("EXLOC").origin_type == ("Collected" if collected else "Protocol")
    assert sorted(s.studyid for s in mapped if "EXLOC" not in s.config.raw_file("EX")["columns"]) == [
        "TPZ-AD-101", "TPZ-AD-103", "TPZ-AD-301", "TPZ-AD-303"]

