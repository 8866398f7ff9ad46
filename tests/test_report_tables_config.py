"""The ISS config's ``report.tables``: which tables and listings the report makes, from the
user's side (config in, package or exit code out) and in-process."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from report.catalogue import build_tables, table_ids
from tests.cli_support import one_error_line, run_cli
from tests.test_adverse_event_tables import INTEGRATION, integration_analysis

SCHEMA = Path(__file__).resolve().parents[1] / "specs" / "schema" / "iss-config.schema.json"


def integration_with_tables(tmp_path: Path, tables) -> Path:
    """A copy of death-discontinuation whose ISS config lists ``tables``."""
    folder = tmp_path / "dd"
    shutil.copytree(INTEGRATION, folder)
    config = json.loads((folder / "iss.json").read_text())
    config["report"] = {"tables": tables}
    (folder / "iss.json").write_text(json.dumps(config, indent=1))
    return folder


def test_the_schema_lists_every_table_id_in_report_order():
    schema = json.loads(SCHEMA.read_text())
    assert schema["properties"]["report"]["properties"]["tables"]["items"]["enum"] == table_ids()


def test_chosen_tables_are_made_in_report_order_and_numbered_among_themselves(tmp_path):
    folder = integration_with_tables(tmp_path, ["listing-sae", "teae-severity", "disposition"])
    tables = build_tables(integration_analysis(folder))
    assert [(name, t.caption.split(".")[0]) for name, t in tables.items()] == [
        ("disposition", "Table 1"), ("teae-severity", "Table 2"), ("listing-sae", "Listing 1")]


def test_left_out_every_table_is_made():
    assert list(build_tables(integration_analysis(INTEGRATION))) == table_ids()


def test_the_cli_writes_only_the_chosen_tables(tmp_path):
    folder = integration_with_tables(tmp_path, ["aesi-pt", "listing-deaths"])
    proc = run_cli("build", str(folder / "iss.json"), "--out", str(tmp_path / "out"), "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    written = sorted(p.name for p in (tmp_path / "out" / "report" / "tables").iterdir())
    assert written == ["aesi-pt.rtf", "aesi-pt.xlsx", "listing-deaths.rtf", "listing-deaths.xlsx"]


def test_an_unknown_table_id_is_refused_naming_its_json_path(tmp_path):
    folder = integration_with_tables(tmp_path, ["teae-soc-pt", "adverse-events-by-colour"])
    proc = run_cli("build", str(folder / "iss.json"), "--out", str(tmp_path / "out"), "--quiet", cwd=tmp_path)
    assert proc.returncode == 2
    line = one_error_line(proc.stderr)
    assert "iss.json" in line and "report.tables[1]" in line, line
    assert not (tmp_path / "out").exists()
