"""The integration corpus (tests/integrations/): each user-shaped integration built end to end
with the CLI, as a user runs it, its package held to the reviewer's numbers worked out by hand
beside it (expected.json, README.md), then re-validated by ``trialpack validate``.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.cli_support import run_cli

CORPUS = Path(__file__).resolve().parent / "integrations"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "expected.json").is_file()) if CORPUS.is_dir() else []


def teae_subjects(package: Path, iss: dict) -> dict[str, int]:
    """Participants with a treatment-emergent AE per group label: ADAE TRTEMFL "Y" by TRTA;
    a pooled group counts the participants of its member groups, each once."""
    from fileformats.xpt import read_xpt

    adae, _ = read_xpt(package / "m5/datasets/iss/analysis/adam/datasets/adae.xpt")
    return teae_subjects_of(adae, iss)


def teae_subjects_of(adae, iss: dict) -> dict[str, int]:
    """:func:`teae_subjects` of some ADAE records."""
    emergent = adae[adae["TRTEMFL"] == "Y"] if "TRTEMFL" in adae else adae.iloc[0:0]
    out = {}
    for group in iss["groups"]:
        members = group.get("pools") or [group["label"]]
        out[group["label"]] = int(emergent.loc[emergent["TRTA"].isin(members), "USUBJID"].nunique())
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Each case built once: (case folder, package folder, the build's completed process)."""
    cache: dict[str, tuple] = {}

    def build(name: str):
        if name not in cache:
            work = tmp_path_factory.mktemp(name)
            case = work / name
            shutil.copytree(CORPUS / name, case)
            proc = run_cli("build", "iss.json", "--out", str(work / "package"), "--quiet", cwd=case)
            cache[name] = (case, work / "package", proc)
        return cache[name]

    return build


@pytest.mark.parametrize("name", CASES)
def test_integration_numbers(name, built):
    case, package, proc = built(name)
    expected = json.loads((case / "expected.json").read_text())
    assert proc.returncode == expected.get("exit_code", 0), proc.stderr
    assert "Traceback" not in proc.stderr
    summary = json.loads((package / "report/iss-summary.json").read_text())
    iss = json.loads((case / "iss.json").read_text())
    assert summary["participants"] == expected["participants"]
    by_label = {g["label"]: g for g in summary["groups"]}
    teae = teae_subjects(package, iss)
    for label, numbers in expected["groups"].items():
        assert by_label[label]["participants"] == numbers["participants"], label
        assert round(by_label[label]["patient_years"], 2) == pytest.approx(numbers["patient_years"], abs=0.0051), label
        assert teae[label] == numbers["teae_subjects"], label
    counts = json.loads((package / "validation/findings.json").read_text())["counts"]
    for severity, n in expected.get("findings", {}).items():
        assert counts[severity] == n, (severity, counts)


@pytest.mark.parametrize("name", CASES)
def test_integration_revalidates(name, built, tmp_path):
    case, package, proc = built(name)
    expected = json.loads((case / "expected.json").read_text())
    if proc.returncode not in (0, 1):
        pytest.fail(proc.stderr)
    copy = tmp_path / "package"   # validate rewrites validation/: the built package stays as built
    shutil.copytree(package, copy)
    check = run_cli("validate", str(copy), cwd=case)
    assert check.returncode == expected.get("exit_code", 0), check.stdout + check.stderr


@pytest.mark.parametrize("name", CASES)
def test_integration_manifest_lists_each_input_once_with_its_records(name, built):
    """Each input file once (a workbook holding several forms too), with the records read from it
    by domain, which sum to the reconciliation's rows read."""
    case, package, proc = built(name)
    manifest = json.loads((package / "manifest.json").read_text())
    paths = [entry["path"] for entry in manifest["inputs"]]
    assert len(paths) == len(set(paths))
    read: dict = {}
    for rec in manifest["reconciliation"]:
        read[rec["file"]] = read.get(rec["file"], 0) + rec["rows_read"]
    for entry in manifest["inputs"]:
        if entry["records"] is not None:
            assert entry["rows"] == sum(entry["records"].values()) == read[entry["path"]], entry


def test_injections_every_four_weeks_total_the_doses_given(built):
    """injection-extension: one EX record per injection, EXDOSFRQ Q4W at 1/28 a day. Each one-day
    record is one administration, so a participant's TDOSE in the active group is 300 mg x the
    number of active injections in the raw exports of both studies (it was 1/28 of that), summed
    over its ADEX records of the group (one per treatment piece: parent study, extension)."""
    import csv

    from trialpack.xpt import read_xpt

    case, package, proc = built("injection-extension")
    injections: dict[str, int] = {}
    for path in sorted((case / "raw").glob("*/ex.csv")):
        with open(path, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                if row["Product"].upper().startswith("OSTRALIMAB"):
                    injections[row["Subject"]] = injections.get(row["Subject"], 0) + 1
    adex, _ = read_xpt(package / "m5/datasets/iss/analysis/adam/datasets/adex.xpt")
    tdose = adex[(adex["PARAMCD"] == "TDOSE") & (adex["TRTA"] == "Ostralimab 300 mg Q4W")]
    tdose = tdose.groupby("USUBJID")["AVAL"].sum()   # one record per treatment piece (parent, extension)
    got = {u.rsplit("-", 1)[-1]: v for u, v in tdose.items()}
    assert got == {subject: 300.0 * n for subject, n in injections.items()}
    assert len(got) == 8   # expected.json: 8 participants on ostralimab


SDTM_CASES = [name for name in CASES if (CORPUS / name / "expected-sdtm").is_dir()]


@pytest.mark.parametrize("name", SDTM_CASES)
def test_integration_sdtm_is_the_hand_written_one(name, built):
    """The SDTM of the case equals the SDTM written by hand beside it (expected-sdtm/<dataset>.csv),
    value for value, on the columns and subjects the hand-written file holds; records of a subject in
    --SEQ order (an empty cell is a null)."""
    import pandas as pd

    from trialpack.xpt import read_xpt

    case, package, proc = built(name)
    iss = json.loads((case / "iss.json").read_text())
    studies = [json.loads((case / s).read_text())["studyid"].lower() for s in iss["studies"]]
    for path in sorted((case / "expected-sdtm").glob("*.csv")):
        want = pd.read_csv(path, dtype=str, keep_default_na=False)
        frames = [read_xpt(package / "m5/datasets" / sid / "tabulations/sdtm" / f"{path.stem}.xpt")[0] for sid in studies
                  if (package / "m5/datasets" / sid / "tabulations/sdtm" / f"{path.stem}.xpt").is_file()]
        got = pd.concat(frames, ignore_index=True)
        seq = f"{path.stem.upper()}SEQ"
        if seq in got:
            got = got.sort_values(["USUBJID", seq], kind="mergesort")
        got = got[got["USUBJID"].isin(want["USUBJID"])][list(want.columns)]
        got = got.apply(lambda col: col.map(_cell)).reset_index(drop=True)
        assert got.to_dict(orient="records") == want.to_dict(orient="records"), path.name


def _cell(value) -> str:
    """An XPT value as the hand-written CSV writes it: text as is, whole numbers without .0, null empty."""
    import math

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@pytest.mark.parametrize("name", CASES)
def test_revalidation_reports_what_the_build_reported(name, built, tmp_path):
    """One set of findings: `trialpack validate` on a copy of the package reports exactly the
    findings the build reported (rule, file, row, value), extended codelist values included."""
    case, package, proc = built(name)
    copy = tmp_path / "package"
    shutil.copytree(package, copy)

    def found(folder):
        data = json.loads((folder / "validation/findings.json").read_text())["findings"]
        return sorted((f["rule"], f.get("file") or "", f.get("row") or 0, str(f.get("value"))) for f in data)

    before = found(copy)
    check = run_cli("validate", str(copy), "--quiet", cwd=tmp_path)
    assert check.returncode in (0, 1), check.stderr
    assert found(copy) == before


@pytest.mark.parametrize("name", [n for n in CASES if "pools" in json.loads((CORPUS / n / "expected.json").read_text())])
def test_integration_analysis_pools(name, built):
    """Each analysis pool: its ADSL flag's participants, and per group the participants with a
    treatment-emergent AE among the pool's ADAE records (its record flag), worked out by hand."""
    from fileformats.xpt import read_xpt

    case, package, proc = built(name)
    assert proc.returncode in (0, 1), proc.stderr
    iss = json.loads((case / "iss.json").read_text())
    adam = package / "m5/datasets/iss/analysis/adam/datasets"
    adsl, _ = read_xpt(adam / "adsl.xpt")
    adae, _ = read_xpt(adam / "adae.xpt")
    expected = json.loads((case / "expected.json").read_text())["pools"]
    for position, pool in enumerate(iss["analysis_pools"], start=1):
        numbers = expected[pool["id"]]
        assert int((adsl[pool["flag"]] == "Y").sum()) == numbers["participants"], pool["id"]
        assert set(adsl[pool["flag"]]) <= {"Y", "N"}
        record_flag = pool.get("record_flag", f"ANL{position:02d}FL")
        inside = adae[adae[record_flag] == "Y"]
        assert teae_subjects_of(inside, iss) == numbers["teae_subjects"], pool["id"]


def test_oral_rollover_demographics_table(built):
    """Report Table 1 of oral-rollover as its README works it out from the raw DM exports: ages at
    consent in the first study, a rolled-over person once per group received."""
    from openpyxl import load_workbook

    case, package, proc = built("oral-rollover")
    assert proc.returncode == 0, proc.stderr
    sheet = load_workbook(package / "report/tables/demographics.xlsx").worksheets[0]
    shown = {row[0]: row[1:] for row in sheet.iter_rows(values_only=True) if row[0] and any(row[1:])}
    assert shown["Characteristic"] == ("Placebo\n(N=4)", "Keltrapine 10 mg\n(N=4)", "Keltrapine 25 mg\n(N=10)",
                                       "All doses\n(N=12)")
    assert shown["Mean"] == ("54.3", "52.3", "52.4", "53.8")
    assert shown["SD"][0] == "10.69"
    assert shown["Median"] == ("54.5", "52.5", "52.5", "54.5")
    assert (shown["Min"], shown["Max"]) == (("41", "42", "38", "38"), ("67", "62", "65", "65"))
    assert shown[">=65 years"] == ("1 (25.0)", "0", "1 (10.0)", "1 (8.3)")
    assert shown["Female"] == ("2 (50.0)", "2 (50.0)", "5 (50.0)", "6 (50.0)")
    assert shown["BLACK OR AFRICAN AMERICAN"] == ("0", "1 (25.0)", "2 (20.0)", "2 (16.7)")
    assert shown["ASIAN"] == ("0", "0", "1 (10.0)", "1 (8.3)")
    assert shown["HISPANIC OR LATINO"] == ("0", "1 (25.0)", "0", "1 (8.3)")


POOLED_CASES = [n for n in CASES if any(g.get("pools") for g in json.loads((CORPUS / n / "iss.json").read_text())["groups"])]


@pytest.mark.parametrize("name", POOLED_CASES)
def test_integration_exposure_is_counted_once(name, built):
    """A pooled group is the records' TRTAGy, never records of its own: ADEX TRTDURY summed over
    the whole dataset is the exposure (the sum of the non-pooled groups' hand-worked patient-years),
    a pooled group's records (TRTAGy) sum to its own, and no subject's treatment piece appears twice
    in ADEX or ADAETTE."""
    from fileformats.xpt import read_xpt

    case, package, proc = built(name)
    expected = json.loads((case / "expected.json").read_text())["groups"]
    groups = json.loads((case / "iss.json").read_text())["groups"]
    adam = package / "m5/datasets/iss/analysis/adam/datasets"
    adex, _ = read_xpt(adam / "adex.xpt")
    tte, _ = read_xpt(adam / "adaette.xpt")
    years = adex[adex["PARAMCD"] == "TRTDURY"]
    base = [g["label"] for g in groups if not g.get("pools")]
    assert set(years["TRTA"]) <= set(base)
    assert years["AVAL"].sum() == pytest.approx(sum(expected[g]["patient_years"] for g in base if g in expected),
                                                abs=0.0051 * len(base))
    for level, group in enumerate((g for g in sorted(groups, key=lambda g: g["number"]) if g.get("pools")), start=1):
        if group["label"] in expected:
            pooled = years.loc[years[f"TRTAG{level}"] == group["label"], "AVAL"].sum()
            assert pooled == pytest.approx(expected[group["label"]]["patient_years"], abs=0.0051), group["label"]
    assert not adex.duplicated(["USUBJID", "PARAMCD", "APERIOD", "TRTA", "ASTDT"]).any()
    assert not tte.duplicated(["USUBJID", "PARAMCD", "APERIOD", "TRTA", "STARTDT"]).any()


def test_oral_rollover_pooled_treatment_variables(built):
    """ADaMIG 1.3 pooled treatments of oral-rollover ("All doses", group 3, pools 10 mg and 25 mg;
    level 1), by hand from its README: per period the pooled group of TRTxxA; 1202's 25 mg run goes
    on from KLT-301 into KLT-303: two ADEX pieces of 84 days (04-11..07-03: the day before the first
    extension dose; 07-04..09-25), each in All doses, only the first in the placebo-controlled pool
    (ANL01FL), both in the all-exposure pool (ANL02FL). All doses: 1204 days = 3.2964 PY through
    TRTAG1; the PC pool's 25 mg exposure 1202 84 + 1203 84 + 2202 84 + 2203 28 = 280 days."""
    from fileformats.xpt import read_xpt

    case, package, proc = built("oral-rollover")
    adam = package / "m5/datasets/iss/analysis/adam/datasets"
    adsl = read_xpt(adam / "adsl.xpt")[0].set_index("USUBJID")
    adex = read_xpt(adam / "adex.xpt")[0]
    pooled = adsl[["TR01AG1", "TR01AG1N", "TR02AG1", "TR02AG1N"]].astype(object).where(lambda f: f != "", None)
    assert pooled.loc["KLT-1101"].tolist()[2:] == ["All doses", 3] and pooled.loc["KLT-1101", "TR01AG1"] is None
    assert pooled.loc["KLT-1103"].tolist() == ["All doses", 3, "All doses", 3]
    assert pooled.loc["KLT-1102"].isna().all()
    assert pooled.loc["KLT-3101"].tolist()[:2] == ["All doses", 3]
    assert (adsl.loc[["KLT-1101", "KLT-1103"], "TR01PG1"].tolist()) == ["", "All doses"]
    days = adex[adex["PARAMCD"] == "TRTDURD"]
    rolled = days[days["USUBJID"] == "KLT-1202"].sort_values("ASTDT")
    assert rolled[["STUDYID", "APERIOD", "TRTA", "TRTAG1", "TRTAG1N", "AVAL", "ANL01FL", "ANL02FL"]].astype(
        object).values.tolist() == [["KLT-301", 1, "Keltrapine 25 mg", "All doses", 3, 84, "Y", "Y"],
                                    ["KLT-303", 2, "Keltrapine 25 mg", "All doses", 3, 84, "", "Y"]]
    assert days.loc[days["TRTAG1"] == "All doses", "AVAL"].sum() == 1204
    assert days.loc[(days["TRTA"] == "Keltrapine 25 mg") & (days["ANL01FL"] == "Y"), "AVAL"].sum() == 280
    assert (days.loc[days["TRTA"] == "Placebo", "TRTAG1"] == "").all()
