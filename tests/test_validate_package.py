"""``trialpack validate DIR`` on a built package: re-read findings, build findings kept, damage found."""
from __future__ import annotations

import json
import shutil

import pytest

from tests.cli_support import demo_package, good_package, run_cli


def findings_of(package):
    return json.loads((package / "validation" / "findings.json").read_text())["findings"]


def test_revalidation_reports_the_build_findings_again(tmp_path_factory, tmp_path):
    package = tmp_path / "package"
    shutil.copytree(good_package(tmp_path_factory), package)
    before = {(f["rule"], f.get("file"), f.get("row")) for f in findings_of(package)}
    proc = run_cli("validate", str(package), "--quiet", cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    after = {(f["rule"], f.get("file"), f.get("row")) for f in findings_of(package)}
    assert after == before
    # the minimal study's rejected raw records (TP0101, TP0116) and the values it kept null (TP0102,
    # TP0114, TP0115) can only come from the build
    assert {r for r in after if r[0] in ("TP0101", "TP0102", "TP0114", "TP0115", "TP0116")} == {
        ("TP0116", "raw/dm.csv", 9), ("TP0101", "raw/ae.csv", 8), ("TP0101", "raw/ex.csv", 7),
        ("TP0114", "raw/ae.csv", 7), ("TP0115", "raw/ex.csv", 6), ("TP0102", "raw/ex.csv", 10)}


def test_a_damaged_dataset_is_an_error_finding(tmp_path_factory, tmp_path):
    package = tmp_path / "package"
    shutil.copytree(good_package(tmp_path_factory), package)
    adae = package / "m5" / "datasets" / "iss" / "analysis" / "adam" / "datasets" / "adae.xpt"
    adae.write_bytes(adae.read_bytes()[:5000])
    proc = run_cli("validate", str(package), "--quiet", cwd=tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    hits = [f for f in findings_of(package) if f["rule"] == "TP0309"]
    assert [h["file"] for h in hits] == ["m5/datasets/iss/analysis/adam/datasets/adae.xpt"]
    assert "80-byte records" in hits[0]["message"]


def test_in_memory_findings_name_the_file_the_package_holds(tmp_path):
    """A spec-check finding made during the build names the dataset file that was written:
    the .xpt when XPT is among the formats, else the Dataset-JSON file."""
    from types import SimpleNamespace

    from specs import findings
    from trialpack.pipeline import with_dataset_files

    found = findings.concat([findings.make("TP0004", "AE", "AETERM", rows=[3], message="m").assign(study="S-1"),
                             findings.make("TP0004", "ADSL", "AGE", rows=[1], message="m").assign(study="ISS")])
    studies = [SimpleNamespace(studyid="S-1")]
    xpt = with_dataset_files(found, tmp_path, studies, ("xpt", "json"))
    assert xpt["file"].tolist() == ["m5/datasets/s-1/tabulations/sdtm/ae.xpt",
                                    "m5/datasets/iss/analysis/adam/datasets/adsl.xpt"]
    json_only = with_dataset_files(found, tmp_path, studies, ("json",))
    assert json_only["file"].tolist() == ["m5/datasets/s-1/tabulations/sdtm/ae.json",
                                          "m5/datasets/iss/analysis/adam/datasets/adsl.json"]
    assert "study" not in json_only
    assert with_dataset_files(found.iloc[:0], tmp_path, studies)["file"].tolist() == []


def reconciliation_rows(package):
    from openpyxl import load_workbook

    ws = load_workbook(package / "validation" / "validation-report.xlsx", read_only=True)["Reconciliation"]
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_the_report_shows_each_raw_files_reconciliation(tmp_path_factory, tmp_path):
    """The validation report's Reconciliation sheet: per raw file, rows read = mapped + rejected (the
    minimal study's counts worked out in tests/test_sdtm_mapping.py), the same after re-validation."""
    package = tmp_path / "package"
    shutil.copytree(good_package(tmp_path_factory), package)
    expected = [
        ["STUDYID", "DOMAIN", "RAWFILE", "ROWS_READ", "ROWS_MAPPED", "ROWS_REJECTED", "BLANK_ROWS", "BALANCED",
         "UNMAPPED_COLUMNS"],
        ["MINI-01", "DM", "raw/dm.csv", 8, 7, 1, 0, "Y", None], ["MINI-01", "AE", "raw/ae.csv", 7, 6, 1, 0, "Y", None],
        ["MINI-01", "EX", "raw/ex.csv", 9, 8, 1, 0, "Y", None], ["MINI-01", "DS", "raw/ds.csv", 5, 5, 0, 0, "Y", None]]
    assert reconciliation_rows(package) == expected
    proc = run_cli("validate", str(package), "--quiet", cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    assert reconciliation_rows(package) == expected


# -- the cross-dataset rules on the demo package: each defect planted where nothing else is -------

SDTM = "m5/datasets/{}/tabulations/sdtm"
ADAM = "m5/datasets/iss/analysis/adam/datasets"


def edit_xpt(path, change):
    """Rewrite an XPT file with ``change(frame)`` applied, its metadata kept."""
    from fileformats.xpt import read_xpt, write_xpt

    frame, meta = read_xpt(path)
    write_xpt(change(frame.copy()), path, **meta.write_options())


def edit_json(path, change):
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(json.dumps(document), encoding="utf-8")


def unknown_id(usubjid: str) -> str:
    """A subject id of the same length that no dataset holds."""
    return usubjid[:-3] + "999"


def first(mask) -> int:
    """Position of the first True."""
    import numpy as np

    return int(np.flatnonzero(np.asarray(mask, dtype=bool))[0])


def plant_defects(package) -> dict[str, list[dict]]:
    """One defect per rule, each in a study or dataset no other defect touches; returns the
    findings each must give (keys of findings.json), by rule."""
    from fileformats.xpt import read_xpt

    expected: dict[str, list[dict]] = {}

    def expect(rule, file, dataset, variable, row, **more):
        expected.setdefault(rule, []).append({"file": file, "dataset": dataset, "variable": variable, "row": row,
                                              **more})

    def sdtm(study, name):
        return f"{SDTM.format(study)}/{name}"

    # TP0301: a SUPPDM record of a subject that is not in DM
    edit_xpt(package / sdtm("tpz-ad-101", "suppdm.xpt"),
             lambda df: df.assign(USUBJID=[unknown_id(df["USUBJID"].iloc[0]), *df["USUBJID"].iloc[1:]]))
    expect("TP0301", sdtm("tpz-ad-101", "suppdm.xpt"), "SUPPDM", "USUBJID", 1)

    # TP0302: an EXSEQ repeated within its subject
    ex, _ = read_xpt(package / sdtm("tpz-ad-102", "ex.xpt"))
    twice = first(ex["USUBJID"].duplicated())
    def repeat_seq(df):
        df.loc[twice, "EXSEQ"] = df.loc[df.index[df["USUBJID"] == df.loc[twice, "USUBJID"]][0], "EXSEQ"]
        return df
    edit_xpt(package / sdtm("tpz-ad-102", "ex.xpt"), repeat_seq)
    expect("TP0302", sdtm("tpz-ad-102", "ex.xpt"), "EX", "EXSEQ", twice + 1)

    # TP0303, TP0313 + TP0315, TP0314: DM reference dates of a treated subject, one study each
    for study, variable, rule in (("tpz-ad-103", "RFXSTDTC", "TP0303"), ("tpz-ad-201", "RFSTDTC", "TP0313"),
                                  ("tpz-ad-302", "RFENDTC", "TP0314")):
        dm, _ = read_xpt(package / sdtm(study, "dm.xpt"))
        row = first(dm["RFXSTDTC"].notna())
        def set_date(df, row=row, variable=variable):
            df.loc[row, variable] = "2001-01-01"
            return df
        edit_xpt(package / sdtm(study, "dm.xpt"), set_date)
        expect(rule, sdtm(study, "dm.xpt"), "DM", variable, row + 1)
        if rule == "TP0313":  # every study day of the subject now counts from 2001-01-01
            ex, _ = read_xpt(package / sdtm(study, "ex.xpt"))
            for r in [int(i) + 1 for i in ex.index[ex["USUBJID"] == dm.loc[row, "USUBJID"]]]:
                expect("TP0315", sdtm(study, "ex.xpt"), "EX", "EXSTDY", r)

    # TP0304, TP0305: ADSL subjects of TPZ-AD-303 with exposure and without adverse events
    adsl, _ = read_xpt(package / ADAM / "adsl.xpt")
    adae, _ = read_xpt(package / ADAM / "adae.xpt")
    quiet = adsl.index[(adsl["SAFFL"] == "Y") & (adsl["STUDYID"] == "TPZ-AD-303")
                       & ~adsl["USUBJID"].isin(adae["USUBJID"])]
    renamed, unsafe = int(quiet[0]), int(quiet[1])
    def break_adsl(df):
        df.loc[renamed, "USUBJID"] = unknown_id(df.loc[renamed, "USUBJID"])
        df.loc[unsafe, "SAFFL"] = "N"
        return df
    edit_xpt(package / ADAM / "adsl.xpt", break_adsl)
    expect("TP0304", f"{ADAM}/adsl.xpt", "ADSL", "USUBJID", renamed + 1)
    expect("TP0305", f"{ADAM}/adsl.xpt", "ADSL", "SAFFL", unsafe + 1)

    # TP0306: the last ADAE record dropped; TP0307: SRCSEQ of three other records broken
    last = adae.iloc[-1]
    several = adae.index[adae["USUBJID"].duplicated(keep=False) & (adae["USUBJID"] != last["USUBJID"])]
    own, other = int(several[0]), int(several[1])  # the same subject's first two records
    assert adae.loc[own, "USUBJID"] == adae.loc[other, "USUBJID"] and own > 1
    def break_adae(df):
        df.loc[0, "SRCSEQ"] = 99.0
        df.loc[1, "SRCSEQ"] = float("nan")
        df.loc[own, "SRCSEQ"] = df.loc[other, "AESEQ"]
        return df.iloc[:-1]
    edit_xpt(package / ADAM / "adae.xpt", break_adae)
    expect("TP0306", f"{ADAM}/adae.xpt", "ADAE", "AESEQ", None, value=f"{last['USUBJID']} AESEQ {last['AESEQ']:g}")
    expect("TP0307", f"{ADAM}/adae.xpt", "ADAE", "SRCSEQ", 1, message="SRCSEQ points at no AE record of the subject")
    expect("TP0307", f"{ADAM}/adae.xpt", "ADAE", "SRCSEQ", 2, message="SRCDOM is given but SRCSEQ is null")
    expect("TP0307", f"{ADAM}/adae.xpt", "ADAE", "SRCSEQ", own + 1,
           message="SRCSEQ is not the record's own AESEQ (it points at another AE record)")
    tte, _ = read_xpt(package / ADAM / "adaette.xpt")
    pointing = first(tte["SRCSEQ"].notna())
    def break_tte(df):
        df.loc[pointing, "SRCSEQ"] = 99.0
        return df
    edit_xpt(package / ADAM / "adaette.xpt", break_tte)
    expect("TP0307", f"{ADAM}/adaette.xpt", "ADAETTE", "SRCSEQ", pointing + 1)

    # TP0309, TP0312: Dataset-JSON twins that are unreadable or differ from their XPT file
    (package / sdtm("tpz-ad-101", "dm.json")).write_text("garbage", encoding="utf-8")
    expect("TP0309", sdtm("tpz-ad-101", "dm.json"), "DM", None, None)
    def change_term(document):
        names = [c["name"] for c in document["columns"]]
        document["rows"][1][names.index("AETERM")] = "CHANGED"
    edit_json(package / sdtm("tpz-ad-101", "ae.json"), change_term)
    expect("TP0312", sdtm("tpz-ad-101", "ae.json"), "AE", "AETERM", 2, value="CHANGED")
    expect("TP0312", f"{ADAM}/adae.json", "ADAE", None, None, message=f"{len(adae)} rows where the XPT file has "
                                                                     f"{len(adae) - 1}")

    # TP0310, TP0311: a study's define.xml deleted
    (package / sdtm("tpz-ad-304", "define.xml")).unlink()
    expect("TP0310", SDTM.format("tpz-ad-304"), None, None, None)
    expect("TP0311", sdtm("tpz-ad-304", "define.xml"), None, None, None)
    return expected


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """The demo package with every defect of :func:`plant_defects`, validated by the CLI."""
    package = tmp_path_factory.mktemp("planted") / "package"
    shutil.copytree(demo_package(tmp_path_factory)[0], package)
    expected = plant_defects(package)
    proc = run_cli("validate", str(package), "--quiet", cwd=package.parent)
    return proc, findings_of(package), expected


def test_planted_defects_exit_1(planted):
    proc, _, _ = planted
    assert proc.returncode == 1, proc.stderr
    # more than 50 errors (the planted study-day shift alone gives 26 TP0315: the subject's EX and DS
    # records, its protocol milestones too): --quiet prints the first 50 error lines, no more
    assert proc.stderr == "" and "  error   TP03" in proc.stdout
    assert proc.stdout.count("  error   ") == 50


@pytest.mark.parametrize("rule", ["TP0301", "TP0302", "TP0303", "TP0304", "TP0305", "TP0306", "TP0307", "TP0309",
                                  "TP0310", "TP0311", "TP0312", "TP0313", "TP0314", "TP0315"])
def test_planted_defect_is_found(planted, rule):
    from specs.findings import RULES

    _, found, expected = planted
    mine = [f for f in found if f["rule"] == rule]
    for want in expected[rule]:
        hits = [f for f in mine if all(f.get(k) == v for k, v in want.items())]
        assert hits, f"{rule}: no finding {want}; {rule} gave {mine[:5]}"
        assert {f["severity"] for f in hits} == {RULES[rule][0]}


def test_untouched_demo_package_validates_with_exit_0(tmp_path_factory, tmp_path):
    """The demo package as built (XPT and Dataset-JSON twins): no error-level finding, exit 0,
    the same reports the build wrote, and a Rules sheet naming every rule."""
    from openpyxl import load_workbook

    from specs.findings import RULES

    package = tmp_path / "package"
    shutil.copytree(demo_package(tmp_path_factory)[0], package)
    built = {name: (package / "validation" / name).read_bytes() for name in ("findings.json",
                                                                            "validation-report.xlsx")}
    proc = run_cli("validate", str(package), "--quiet", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stderr == "" and proc.stdout == "", proc.stdout + proc.stderr
    assert {f["rule"] for f in findings_of(package)} == {"TP0116"}  # the demo's four duplicate DM rows
    assert {name: (package / "validation" / name).read_bytes() for name in built} == built
    sheet = load_workbook(package / "validation" / "validation-report.xlsx")["Rules"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("RULE", "SEVERITY", "DESCRIPTION", "FINDINGS")
    assert [r[:3] for r in rows[1:]] == [(k, *v) for k, v in RULES.items()]
    assert dict((r[0], r[3]) for r in rows[1:])["TP0116"] == 4
