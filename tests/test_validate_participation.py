"""DM end-of-participation dates and Expected variables the study did not collect, on the minimal
study's package (tests/minimal_study.py): the clean build declares them right and reports nothing;
each rule then fires on a copy broken by hand, at the row worked out here.

Minimal study (DM rows by USUBJID): 001 treated, completed 2021-06-30 (its last record);
002 treated, records to 2021-03-31; 003 screen failure (no arm); 004 randomised VEH-TPZ15, never
treated, withdrew 2021-03-03. Its AE export has no action-taken field: AEACN is not collected.
"""
from __future__ import annotations

import shutil

import pytest

from tests.cli_support import good_package, run_cli
from tests.test_validate_package import SDTM, edit_xpt, findings_of

STUDY = SDTM.format("mini-01")
RULES = ("CG0529", "TP0316", "DD0022", "DD0023")


def by_rule(found, *rules):
    return sorted((f["rule"], f["file"], f["dataset"], f["variable"], f["row"], f["value"]) for f in found
                  if f["rule"] in rules)


def test_the_clean_build_declares_aeacn_not_collected_and_reports_none_of_these_rules(tmp_path_factory):
    package = good_package(tmp_path_factory)
    define = (package / STUDY / "define.xml").read_text(encoding="utf-8")
    item = define[define.index('<ItemDef OID="IT.AE.AEACN"'):]
    item = item[:item.index("</ItemDef>")]
    assert 'def:CommentOID="COM.NOTCOLLECTED"' in item and 'def:Origin Type="Assigned" Source="Sponsor"' in item
    assert "Not collected" in item
    assert '<def:CommentDef OID="COM.NOTCOLLECTED">' in define
    ref = define[define.index('<ItemRef ItemOID="IT.AE.AEACN"'):]
    assert 'def:HasNoData="Yes"' in ref[:ref.index("/>")]
    # AEREL is collected (the "Related" column): it keeps its Collected origin and aCRF page
    rel = define[define.index('<ItemDef OID="IT.AE.AEREL"'):]
    assert 'def:Origin Type="Collected" Source="Investigator"' in rel[:rel.index("</ItemDef>")]
    assert by_rule(findings_of(package), *RULES) == []


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    """The minimal package with DM's end dates and AEACN's origin broken, re-validated by the CLI."""
    package = tmp_path_factory.mktemp("broken-participation") / "package"
    shutil.copytree(good_package(tmp_path_factory), package)

    def break_dm(df):
        rows = {u[-3:]: i for i, u in enumerate(df["USUBJID"])}
        df.loc[rows["004"], "RFENDTC"] = None          # randomised, never treated: RFENDTC required
        df.loc[rows["001"], "RFPENDTC"] = "2021-05"     # ends in May: before its 2021-06-30 records
        df.loc[rows["002"], "RFPENDTC"] = "2021-03"     # may be 03-31, its last record: not before
        df.loc[rows["003"], "RFENDTC"] = "2021-03-05"   # screen failure: RFENDTC should be null
        return df

    edit_xpt(package / STUDY / "dm.xpt", break_dm)
    define = package / STUDY / "define.xml"
    text = define.read_text(encoding="utf-8")
    start = text.index('<ItemDef OID="IT.AE.AEACN"')
    end = text.index("</ItemDef>", start)
    item = text[start:end].replace('def:CommentOID="COM.NOTCOLLECTED"', "").replace(
        '<def:Origin Type="Assigned" Source="Sponsor">', '<def:Origin Type="Collected" Source="Investigator">')
    define.write_text(text[:start] + item + text[end:], encoding="utf-8")
    proc = run_cli("validate", str(package), "--quiet", cwd=package.parent)
    return proc, findings_of(package)


def test_broken_package_exits_1(broken):
    proc, _ = broken
    assert proc.returncode == 1 and "Traceback" not in proc.stderr


def test_cg0529_rfendtc_null_for_a_randomised_subject(broken):
    _, found = broken
    hits = [f for f in found if f["rule"] == "CG0529"]
    assert [(f["file"], f["dataset"], f["variable"], f["row"], f["severity"]) for f in hits] == [
        (f"{STUDY}/dm.xpt", "DM", "RFENDTC", 4, "error")]
    assert "ARMCD VEH-TPZ15" in hits[0]["message"]


def test_tp0316_rfpendtc_before_a_date_of_the_subject(broken):
    """001's RFPENDTC "2021-05" ends on 05-31, before its 2021-06-30 records; 002's "2021-03" may be
    03-31, the day of its last record: not before."""
    _, found = broken
    hits = [f for f in found if f["rule"] == "TP0316"]
    assert [(f["file"], f["variable"], f["row"], f["value"], f["severity"]) for f in hits] == [
        (f"{STUDY}/dm.xpt", "RFPENDTC", 1, "2021-05", "error")]
    assert hits[0]["message"].endswith("2021-06-30 of the subject (end of participation)")


def test_tp0313_rfendtc_of_a_screen_failure(broken):
    _, found = broken
    hits = [(f["row"], f["value"], f["message"]) for f in found if f["rule"] == "TP0313" and f["variable"] == "RFENDTC"]
    assert hits == [  # 002 withdrew 03-20 but its last exposure record ends 03-31 (the clean build has it too)
        (2, "2021-03-20", "RFENDTC is before the subject's last exposure (latest EXENDTC)"),
        (3, "2021-03-05", "RFENDTC is given for a subject without exposure in EX and without a planned "
                          "arm (screen failure or not assigned)")]


def test_dd0023_an_uncollected_variable_declared_collected(broken):
    _, found = broken
    hits = [f for f in found if f["rule"] in ("DD0022", "DD0023")]
    assert [(f["rule"], f["file"], f["dataset"], f["variable"], f["severity"]) for f in hits] == [
        ("DD0023", f"{STUDY}/define.xml", "AE", "AEACN", "warning")]


def test_rules_are_in_the_catalogue_of_the_report(broken):
    from specs.findings import RULES as CATALOGUE

    _, found = broken
    assert {f["rule"] for f in found if f["rule"] in RULES + ("TP0313",)} == {"CG0529", "TP0316", "DD0023", "TP0313"}
    assert all(rule in CATALOGUE for rule in RULES)
