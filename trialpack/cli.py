"""The ``trialpack`` command line.

Exit codes: 0 success; 1 the package was built (and, like 0, replaced the previous one) or
checked, and has error-level findings; 2 bad input or usage (one line on stderr, never a
traceback); 3 an internal error (a bug in trialpack: one line on stderr; ``TRIALPACK_DEBUG=1``
shows the traceback); 130/143 interrupted by Ctrl-C/SIGTERM. With 2, 3, 130 and 143 the output
is left as it was, unless the failure came after the new package was swapped in (while the
summary is printed). README "Command line" says it for the user.

Heavy libraries are imported inside the command functions so that ``--help`` and
``--version`` start fast.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
import warnings
from typing import Callable, Sequence

from trialpack import __version__
from trialpack.process.signals import Terminated

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"trialpack: error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(EXIT_BAD_INPUT)


def _cmd_demo(args: argparse.Namespace) -> int:
    from trialpack.commands import demo
    _check_package_target(args.out)
    _check_log_file(args.log_file, args.out)
    return demo(args)


def _cmd_build(args: argparse.Namespace) -> int:
    from trialpack.commands import build
    _check_package_target(args.out)
    _check_log_file(args.log_file, args.out)
    return build(args)


def _check_package_target(out: str) -> None:
    """A build replaces the whole ``--out`` folder: refuse one that holds anything but a package
    trialpack wrote (:func:`trialpack.layout.is_package`)."""
    from trialpack import layout
    from trialpack.process.atomic import check_replaceable

    check_replaceable(out, layout.is_package, layout.NOT_A_PACKAGE)


def _check_log_file(log_file: str | None, out: str) -> None:
    """Refuse, before any work, a ``--log-file`` inside ``--out`` (the build replaces that folder
    as a whole: the log would be written into the previous package, then lost with it) or one
    that is a folder."""
    from pathlib import Path

    from specs.errors import InputError

    if not log_file:
        return
    log, target = Path(log_file).resolve(), Path(out).resolve()
    if log.is_relative_to(target):
        raise InputError("--log-file is inside the --out folder, which the build replaces as a whole; "
                         "write the log outside it", file=log_file)
    if log.is_dir():
        raise InputError("--log-file is a folder; give the path of a file", file=log_file)


def _cmd_validate(args: argparse.Namespace) -> int:
    from trialpack.commands import validate
    return validate(args)


def _cmd_convert(args: argparse.Namespace) -> int:
    from trialpack.commands import convert
    return convert(args)


def _cmd_spec_export(args: argparse.Namespace) -> int:
    from trialpack.commands import spec_export
    return spec_export(args)


def _cmd_spec_import(args: argparse.Namespace) -> int:
    from trialpack.commands import spec_import
    from trialpack.process.atomic import check_replaceable

    check_replaceable(args.out_dir, _is_spec_folder, "a spec folder (files other than *.json)")
    return spec_import(args)


def _is_spec_folder(folder) -> bool:
    return all(p.is_file() and p.suffix.lower() == ".json" for p in folder.iterdir())


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    p.add_argument("--log-file", metavar="PATH", help="also write a detailed log to PATH")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="trialpack",
        description="Raw clinical-trial data to a regulatory submission package: SDTM, pooled "
        "ISS ADaM with exposure-adjusted incidence rates, XPT v5 and Dataset-JSON, Define-XML 2.1, "
        "validation reports, ISS tables and figures.",
        epilog="Exit codes: 0 success; 1 error-level findings; 2 bad input or usage; 3 internal error.",
    )
    parser.add_argument("--version", action="version", version=f"trialpack {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("demo", help="build the built-in 8-study demo integration end to end",
                       description="Generate the deterministic demo raw data (8 studies, 767 "
                       "participants) and build the whole submission package from it.")
    p.add_argument("--out", default="output", metavar="DIR", help="output folder (default: output)")
    p.add_argument("--subjects", type=int, default=None, metavar="N",
                   help="scale the same design to N participants (default: 767)")
    p.add_argument("--studies", type=int, default=None, metavar="K",
                   help="number of studies (default: 8)")
    p.add_argument("--seed", type=int, default=None, metavar="S", help="random seed (default: 20261125)")
    p.add_argument("--ae-per-subject", type=int, default=None, metavar="A",
                   help="adverse-event records per subject instead of the realistic rate (for benchmarks)")
    p.add_argument("--format", default="xpt", metavar="FMTS",
                   help="dataset formats, comma-separated: xpt, json (default: xpt)")
    _add_run_options(p)
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("build", help="build a submission package from an ISS config",
                       description="Build SDTM per study, pooled ADaM, rates, XPT/Dataset-JSON, "
                       "define.xml, validation and report from an ISS config.")
    p.add_argument("config", metavar="CONFIG.json", help="ISS config")
    p.add_argument("--input-dir", metavar="PATH", help="folder holding the raw or SDTM files "
                   "(default: as given in the config)")
    p.add_argument("--out", default="output", metavar="DIR", help="output folder (default: output)")
    p.add_argument("--format", default="xpt", metavar="FMTS",
                   help="dataset formats, comma-separated: xpt, json (default: xpt)")
    _add_run_options(p)
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("validate", help="validate a package folder, a dataset file or a define.xml",
                       description="Re-read and check a built package, one dataset file "
                       "(.xpt/.json/.ndjson) or any define.xml.")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--spec", metavar="SPEC", help="spec to check a single dataset file against")
    _add_run_options(p)
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("convert", help="convert between .xpt, .json, .ndjson and .csv",
                       description="Convert a dataset file; formats are chosen by extension "
                       "(.xpt, .json, .ndjson, .csv).")
    p.add_argument("src", metavar="IN")
    p.add_argument("dst", metavar="OUT")
    p.add_argument("--profile", choices=("fda", "utf8"), default="fda",
                   help="text rules of an XPT output: fda (ASCII only, the default) or utf8 "
                   "(UTF-8 within the same byte limits, where the agency accepts it)")
    p.add_argument("--lossy", action="store_true",
                   help="write XPT special missing values (.A-.Z, ._) that the output cannot keep "
                   "as plain missing values instead of refusing them")
    p.add_argument("--spec", metavar="SPEC", help="spec giving a CSV input's types and labels (its dataset: "
                   "the file name, dm.csv is DM; default: the shipped SDTMIG 3.4/ADaMIG 1.3 spec that has "
                   "it; columns no spec describes stay text)")
    p.set_defaults(func=_cmd_convert)

    p = sub.add_parser("spec", help="JSON spec <-> xlsx workbook",
                       description="Export a JSON spec to a Pinnacle 21-style workbook or import one.")
    spec_sub = p.add_subparsers(dest="spec_command", metavar="ACTION", parser_class=_Parser)
    pe = spec_sub.add_parser("export", help="JSON spec folder (or a study config) -> xlsx workbook",
                             description="Write the spec in SOURCE as an xlsx workbook; a study config's "
                                         "composed spec comes with a Mapping sheet of its mappings.")
    pe.add_argument("spec_dir", metavar="SOURCE")
    pe.add_argument("xlsx", metavar="OUT.xlsx")
    pe.set_defaults(func=_cmd_spec_export)
    pi = spec_sub.add_parser("import", help="xlsx workbook -> JSON spec folder",
                             description="Read a spec workbook and write it as JSON files in OUT_DIR.")
    pi.add_argument("xlsx", metavar="IN.xlsx")
    pi.add_argument("out_dir", metavar="OUT_DIR")
    pi.set_defaults(func=_cmd_spec_import)
    p.set_defaults(func=lambda a: _missing_subcommand(p))
    return parser


def _missing_subcommand(parser: argparse.ArgumentParser) -> int:
    parser.error("choose an action: export or import")
    return EXIT_BAD_INPUT


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    return run_guarded(func, args)


def entry() -> None:
    """The ``trialpack`` program (console script and ``python -m trialpack``): :func:`main`,
    then the process ends without tearing the interpreter down. When ``main`` returns every
    file is written and closed (a package is moved into place whole, the log is written line
    by line), so freeing the build's objects one by one would only delay the exit: 0.36 s of
    the demo's 5.8 s. For the same reason the program may keep long-lived objects out of the
    garbage collector's walks (:mod:`trialpack.process.collector`). Usage errors (argparse's
    SystemExit) exit as usual."""
    import os

    from trialpack.process import collector

    collector.program_mode()
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):   # a closed pipe: nothing more can be said on it
            pass
    os._exit(code)


def run_guarded(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a command; failures become one line on stderr and an exit code, never a traceback.

    Ctrl-C and SIGTERM are remembered when they arrive, not only raised: a library may catch
    the ``KeyboardInterrupt``/``Terminated`` its callback received and surface another exception
    instead (lxml reports it as an ``XMLSchemaParseError``), or swallow it. Whatever then ends
    the command, the exit code is 130/143 once either signal has arrived.
    """
    code: int | None = None  # stays None unless the command returns
    with _StopSignals() as stop, warnings.catch_warnings():
        # a library's notice of its own future changes (pandas 2.2's FutureWarnings) is for
        # developers, not for the user of a command: stderr carries findings and errors only
        warnings.simplefilter("ignore", FutureWarning)
        try:
            from specs.clock import check_environment

            check_environment()  # before any library import reads SOURCE_DATE_EPOCH
            code = func(args)
        except KeyboardInterrupt:
            stop.note(signal.SIGINT)
        except Terminated:
            stop.note(signal.SIGTERM)
        except Exception as exc:
            if stop.arrived is None:
                return _report_failure(exc)
    if stop.arrived is None:
        return code
    return _report_stop(stop.arrived, finished=code is not None)


def _report_failure(exc: Exception) -> int:
    """One line on stderr for a failed command, and its exit code."""
    import os

    from specs.errors import TrialpackError

    if isinstance(exc, TrialpackError):
        lines = exc.lines() if hasattr(exc, "lines") else [str(exc)]   # several problems: one line each
        sys.stderr.write("".join(f"trialpack: error: {' '.join(line.split())}\n" for line in lines))
        return exc.exit_code
    if isinstance(exc, (OSError, MemoryError)):  # the environment: disk full, permissions, memory
        sys.stderr.write(f"trialpack: error: {type(exc).__name__}: {_one_line(exc)}\n")
        return EXIT_BAD_INPUT
    if os.environ.get("TRIALPACK_DEBUG"):  # a bug: still one line, never a traceback (unless asked for)
        raise exc
    sys.stderr.write(f"trialpack: internal error (a bug in trialpack, please report it): "
                     f"{type(exc).__name__}: {_one_line(exc)} (TRIALPACK_DEBUG=1 shows the traceback)\n")
    return EXIT_INTERNAL


def _report_stop(signum: int, *, finished: bool) -> int:
    """The line and exit code of a command stopped by Ctrl-C (130) or SIGTERM (143)."""
    what = "interrupted" if signum == signal.SIGINT else "terminated"
    if finished:  # the exception the handler raised was swallowed and the command ran to its end
        sys.stderr.write(f"trialpack: {what} while the command was finishing\n")
    else:
        sys.stderr.write(f"trialpack: {what}; the output folder is left as it was\n")
    return EXIT_INTERRUPTED if signum == signal.SIGINT else EXIT_TERMINATED


class _StopSignals:
    """While a command runs (main thread only): SIGTERM raises ``Terminated`` and Ctrl-C
    ``KeyboardInterrupt`` (unless the caller had chosen another SIGINT handler), and the first
    of them to arrive is remembered in ``arrived`` whatever becomes of the exception."""

    def __init__(self) -> None:
        self.arrived: int | None = None
        self._previous: dict[int, object] = {}

    def note(self, signum: int) -> None:
        if self.arrived is None:
            self.arrived = signum

    def _handle(self, signum: int, frame) -> None:
        self.note(signum)
        raise KeyboardInterrupt() if signum == signal.SIGINT else Terminated()

    def __enter__(self) -> "_StopSignals":
        if threading.current_thread() is threading.main_thread():
            self._previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, self._handle)
            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                self._previous[signal.SIGINT] = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc_info) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
