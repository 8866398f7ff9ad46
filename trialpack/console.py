"""What the CLI prints: progress while a build runs, and the end summary.

Progress goes to stderr through rich (a spinner on a terminal, plain lines otherwise);
``--quiet`` prints nothing but errors; ``--log-file`` also writes every message, the stage
timings, the findings counts and the error or interruption that stopped the run to a file.
The summary gives the headline numbers: participants, patient-years, subjects with each
adverse event of special interest per group, SDTM rows per study and ADaM rows.
"""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd


class Console:
    def __init__(self, *, quiet: bool = False, log_file: str | None = None) -> None:
        self.quiet = quiet
        self.log_path = Path(log_file) if log_file else None
        self.log_lines: list[str] = []
        self.started = time.perf_counter()

    def log(self, message: str) -> None:
        stamp = f"{time.perf_counter() - self.started:7.2f}s"
        self.log_lines.append(f"{stamp} {message}")
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self.log_path.write_text("\n".join(self.log_lines) + "\n", encoding="utf-8")

    @contextmanager
    def progress(self) -> Iterator[Callable[[str], None]]:
        """Report progress while the command runs; an error or interruption that stops it is
        logged before it goes on to the CLI (which prints it and exits)."""
        try:
            with self._reporter() as report:
                yield report
        except BaseException as exc:
            self.log(f"stopped: {stop_reason(exc)}")
            raise

    @contextmanager
    def _reporter(self) -> Iterator[Callable[[str], None]]:
        if self.quiet:
            yield self.log
            return
        from rich.console import Console as RichConsole

        err = RichConsole(stderr=True, highlight=False)
        if err.is_terminal:
            with err.status("starting") as status:
                def report(message: str) -> None:
                    self.log(message)
                    status.update(message)
                yield report
        else:
            def report(message: str) -> None:  # one line each, however long (a log or a pipe is read by line)
                self.log(message)
                err.print(f"[trialpack] {message}", markup=False, soft_wrap=True)
            yield report

    def out(self, line: str = "") -> None:
        if not self.quiet:
            print(line)

    def summary(self, result) -> None:
        s = result.summary()
        f = s["findings"]
        for stage, seconds in result.timings.items():
            self.log(f"stage {stage}: {seconds:.2f}s")
        self.log(f"findings: {f}")
        self.out(f"Package written to {result.out}")
        self.out(f"  studies: {s['studies']}    participants (safety population): {s['participants']}"
                 f"    subjects in ADSL: {s['subjects_in_adsl']}")
        py = "  ".join(f"{g} {v:.2f}" for g, v in s["patient_years"].items())
        self.out(f"  patient-years of exposure: {py}")
        for line in [*event_lines(s.get("other_events", {}), "treatment-emergent events"),
                     *event_lines(s["events_of_interest"], "adverse events of special interest")]:
            self.out(line)
        sdtm, adam = split_rows(s["rows"], result.iss.id)
        for line in sdtm_row_lines(sdtm):
            self.out(line)
        self.out("  ADaM rows: " + ", ".join(f"{k} {v}" for k, v in adam.items()))
        self.out(f"  raw records rejected (with reasons): {s['rejected_raw_records']}")
        self.out(f"  findings: {f['error']} error(s), {f['warning']} warning(s), {f['notice']} notice(s)"
                 f" -> {result.out / 'validation' / 'validation-report.xlsx'}")
        report = result.out / "report" / "iss-report.html"
        if report.exists():
            self.out(f"  report: {report}")
        self.out(f"  done in {time.perf_counter() - self.started:.1f}s")

    def validation_summary(self, path: Path, found: pd.DataFrame) -> int:
        from specs import findings

        counts = findings.counts(found)
        errors = found[found["severity"] == "error"]
        shown = errors if self.quiet else found[found["severity"] != "notice"]
        for rec in shown.head(50).to_dict("records"):
            where = ", ".join(str(x) for x in (rec.get("file"), rec.get("dataset"), rec.get("variable"))
                              if isinstance(x, str) and x)
            row = f" row {int(rec['row'])}" if rec.get("row") is not None and not pd.isna(rec["row"]) else ""
            line = f"  {rec['severity']:<7} {rec['rule']} {where}{row}: {rec['message']}"
            (sys.stdout.write(line + "\n") if not self.quiet or rec["severity"] == "error" else None)
        if len(shown) > 50:
            self.out(f"  ... {len(shown) - 50} more (see validation/findings.json)")
        self.out(f"{path}: {counts['error']} error(s), {counts['warning']} warning(s), {counts['notice']} notice(s)")
        self.log(f"validation {path}: {counts}")
        return 1 if counts["error"] else 0


def stop_reason(exc: BaseException) -> str:
    """What stopped a command, in one line (as the CLI reports it)."""
    from specs.errors import TrialpackError
    from trialpack.process.signals import Terminated

    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, Terminated):
        return "terminated"
    text = " ".join(str(exc).split())
    return f"error: {text}" if isinstance(exc, TrialpackError) else f"error: {type(exc).__name__}: {text}"


#: Above this many studies the summary gives SDTM row totals per domain (per study: manifest.json).
STUDIES_LISTED = 12


def event_lines(events: dict[str, dict[str, int]], what: str) -> list[str]:
    """Subjects with each event (``what`` they are), one line per event, the groups as columns
    named once in the heading."""
    if not events:
        return []
    groups = list(next(iter(events.values())))
    width = max(len(name) for name in events)
    return [f"  subjects with {what} ({' / '.join(groups)}):",
            *(f"    {name + ':':<{width + 1}} {' / '.join(str(counts.get(g, 0)) for g in groups)}"
              for name, counts in events.items())]


def split_rows(rows: dict[str, int], iss_id: str) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """The summary's ``STUDY/DATASET`` row counts as SDTM rows by study and ADaM rows by dataset."""
    sdtm: dict[str, dict[str, int]] = {}
    adam: dict[str, int] = {}
    for key, n in rows.items():
        study, name = key.rsplit("/", 1)
        if study == iss_id:
            adam[name] = n
        else:
            sdtm.setdefault(study, {})[name] = n
    return sdtm, adam


def sdtm_row_lines(sdtm: dict[str, dict[str, int]]) -> list[str]:
    """SDTM rows, one line per study; totals per domain when there are many studies."""
    if len(sdtm) > STUDIES_LISTED:
        totals: dict[str, int] = {}
        for counts in sdtm.values():
            for name, n in counts.items():
                totals[name] = totals.get(name, 0) + n
        return [f"  SDTM rows ({len(sdtm)} studies, per study in manifest.json): "
                + ", ".join(f"{k} {v}" for k, v in totals.items())]
    width = max((len(study) for study in sdtm), default=0)
    return ["  SDTM rows:", *(f"    {study + ':':<{width + 1}} " + ", ".join(f"{k} {v}" for k, v in counts.items())
                              for study, counts in sdtm.items())]
