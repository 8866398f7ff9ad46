"""The command line: help for every command, version, one-line errors with exit code 2."""
from __future__ import annotations

import argparse
import signal
import subprocess
import sys

import pytest

from trialpack import __version__
from trialpack.cli import main, run_guarded

COMMANDS = [["demo"], ["build"], ["validate"], ["convert"], ["spec"], ["spec", "export"], ["spec", "import"]]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "trialpack", *args], capture_output=True, text=True)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    assert "usage: trialpack " + " ".join(command) in capsys.readouterr().out


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"trialpack {__version__}"


def test_usage_error_is_one_line_exit_2():
    proc = run("build")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "CONFIG.json" in proc.stderr


def test_no_command_prints_help_and_exits_2():
    proc = run()
    assert proc.returncode == 2 and "usage:" in proc.stderr


@pytest.mark.parametrize("path", ["nothere", "nothere.xpt", "nothere.json", "nothere.xml", "nothere.csv",
                                  "nothere/define.xml"])
def test_validate_a_path_that_does_not_exist(tmp_path, path):
    """Whatever its name suggests (a folder, a dataset, a define, an unknown kind), a missing path is
    said to be missing: one line, exit 2."""
    from tests.cli_support import one_error_line, run_cli

    proc = run_cli("validate", path, cwd=tmp_path)
    assert proc.returncode == 2
    assert one_error_line(proc.stderr) == f"trialpack: error: {path}: no such path"
    assert proc.stdout == "" and list(tmp_path.iterdir()) == []


def test_bad_spec_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "spec"
    bad.mkdir()
    (bad / "x.json").write_text('{"datasets": [{"name": "toolongname1", "label": "x", "variables": []}]}')
    proc = run("spec", "export", str(bad), str(tmp_path / "out.xlsx"))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "x.json" in proc.stderr and "$.datasets[0].name" in proc.stderr
    assert not (tmp_path / "out.xlsx").exists()


def test_spec_export_then_import_round_trip(tmp_path):
    from specs import load_spec, save_spec
    from tests.test_spec_load import small_spec

    save_spec(small_spec(), tmp_path / "spec")
    assert run("spec", "export", str(tmp_path / "spec"), str(tmp_path / "spec.xlsx")).returncode == 0
    proc = run("spec", "import", str(tmp_path / "spec.xlsx"), str(tmp_path / "back"))
    assert proc.returncode == 0, proc.stderr
    assert load_spec(tmp_path / "back") == small_spec()


def test_demo_summary_shows_the_headline_numbers(tmp_path_factory):
    """The end-of-build summary of the real demo carries DESIGN.md's headline numbers, computed
    from the ADaM datasets: 767 participants, 509.62 patient-years on cream, no MACE,
    thromboembolic event, malignancy or death, two serious infections, both on cream 1.5%."""
    from tests.cli_support import demo_package

    package, printed = demo_package(tmp_path_factory)
    lines = printed.splitlines()
    assert lines[0] == f"Package written to {package}"
    assert "participants (safety population): 767" in lines[1]
    assert "All cream 509.62" in lines[2]
    head = next(i for i, line in enumerate(lines) if "adverse events of special interest" in line)
    assert lines[head] == "  subjects with adverse events of special interest (Cream 0.75% / Cream 1.5% / " \
                          "Vehicle / All cream):"
    events = {name.strip(): [int(n) for n in counts.split(" / ")] for name, counts in
              (line.rsplit(":", 1) for line in lines[head + 1:head + 5])}
    assert events == {"Serious infections": [0, 2, 0, 2],
                      **{name: [0, 0, 0, 0] for name in ("Major adverse cardiovascular events", "Thromboembolic events",
                                                         "Malignancies")}}
    assert lines[head - 1] == "    Deaths:       0 / 0 / 0 / 0"   # an event of interest, not a query (AESI)
    assert lines[head + 5] == "  SDTM rows:"
    studies = [line.split()[0] for line in lines[head + 6:head + 14]]
    assert studies == [f"TPZ-AD-{n}:" for n in (101, 102, 103, 201, 301, 302, 303, 304)]
    assert lines[head + 6].split(": ", 1)[1].startswith("DM 26, AE 5, EX 72")  # TPZ-AD-101: 24 participants
    assert lines[head + 14].startswith("  ADaM rows: ADSL 772, ADAE ")


def test_progress_names_the_studies_the_workers_map(tmp_path):
    """With worker processes, the progress says which studies are being mapped when they start and,
    as each finishes, how many are done and which are still being mapped (one line each)."""
    from tests.cli_support import run_cli

    proc = run_cli("demo", "--out", str(tmp_path / "out"), "--subjects", "30", "--studies", "3", cwd=tmp_path,
                   env={"TRIALPACK_WORKERS": "2"})
    assert proc.returncode == 0, proc.stderr
    lines = [line.removeprefix("[trialpack] ") for line in proc.stderr.splitlines()]
    start = next(line for line in lines if line.startswith("mapping raw data to SDTM"))
    head, listed = start.split(": ", 1)[1].split(": ")
    assert head == "3 studies in 2 worker processes"
    studies = listed.split(", ")
    assert len(set(studies)) == 3 and all(s.startswith("TPZ-AD-") for s in studies)
    done = [line for line in lines if "mapped to SDTM" in line]
    finished = [line.split(": ")[0] for line in done]
    assert sorted(finished) == sorted(studies)
    assert [line.split(" written ")[1][:8] for line in done] == ["(1 of 3)", "(2 of 3)", "(3 of 3)"]
    # the jobs go out in the order listed: after the first result, the other two are being mapped
    assert done[0].split("; mapping ")[1].split(", ") == [s for s in studies if s != finished[0]]
    assert "; mapping" not in done[-1]


def test_progress_lists_of_studies_stay_short():
    from trialpack.pipeline import mapped_message, study_list

    names = [f"S-{n}" for n in range(1, 10)]
    assert study_list(names[:6]) == "S-1, S-2, S-3, S-4, S-5, S-6"
    assert study_list(names) == "S-1, S-2, S-3, S-4, S-5, S-6 and 3 more"
    assert mapped_message("S-9", 7, 9, ["S-1", "S-2"]) == \
        "S-9: mapped to SDTM, datasets and define.xml written (7 of 9); mapping S-1, S-2"


class _LibraryError(Exception):
    """What a C library (lxml parsing a schema) surfaces after catching its callback's exception."""


def _signal_swallowed_by_a_library(signum: int):
    """A command during which ``signum`` arrives and the exception its handler raises comes back as
    another one, as lxml does with a SIGTERM that lands inside schema parsing."""
    def command(args) -> int:
        try:
            signal.raise_signal(signum)  # the handler runs before raise_signal returns
        except BaseException as exc:
            raise _LibraryError("failed to parse the schema") from exc
        raise AssertionError("the signal handler did not raise")
    return command


@pytest.mark.parametrize(("signum", "code", "word"), [(signal.SIGTERM, 143, "terminated"),
                                                      (signal.SIGINT, 130, "interrupted")])
def test_a_signal_turned_into_another_exception_still_exits_as_interrupted(signum, code, word, capsys):
    before = signal.getsignal(signum)
    assert run_guarded(_signal_swallowed_by_a_library(signum), argparse.Namespace()) == code
    assert capsys.readouterr().err == f"trialpack: {word}; the output folder is left as it was\n"
    assert signal.getsignal(signum) is before


def test_a_signal_swallowed_entirely_still_exits_143(capsys):
    def command(args) -> int:
        try:
            signal.raise_signal(signal.SIGTERM)
        except BaseException:
            pass
        return 0
    assert run_guarded(command, argparse.Namespace()) == 143
    assert "terminated" in capsys.readouterr().err


def test_a_failure_without_a_signal_is_an_internal_error(capsys):
    def command(args) -> int:
        raise _LibraryError("failed to parse the schema")
    assert run_guarded(command, argparse.Namespace()) == 3
    assert "internal error" in capsys.readouterr().err
