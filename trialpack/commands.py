"""Command implementations behind ``trialpack.cli``; each returns an exit code."""
from __future__ import annotations

import argparse

from specs.errors import NotYetAvailable


def _not_yet(command: str, issue: str) -> int:
    raise NotYetAvailable(f"'trialpack {command}' is not available yet ({issue} has not landed)")


def demo(args: argparse.Namespace) -> int:
    return _not_yet("demo", "the pipeline issue")


def build(args: argparse.Namespace) -> int:
    return _not_yet("build", "the pipeline issue")


def validate(args: argparse.Namespace) -> int:
    """``trialpack validate PATH``: a define.xml now; package folders and dataset files later.

    For a ``.xml`` file: safe parsing, the Define-XML 2.1 schema (errors with line numbers),
    the Define-XML business rules and the ``def:leaf`` files beside it. Prints a summary
    and the findings; exit 1 if any is an error, 0 otherwise, 2 if the file cannot be read
    as XML (or declares a DOCTYPE, which is refused).
    """
    import sys
    from pathlib import Path

    path = Path(args.path)
    if path.suffix.lower() != ".xml":
        return _not_yet("validate", "the pipeline issue")
    from define.crosscheck import check_leaves
    from define.validate import validate_define
    from specs import findings

    found = validate_define(path)
    if not found["rule"].isin(["DD0001", "DD0002", "DD0003"]).any():
        found = findings.concat([found, check_leaves(path, path.parent)])
    counts = findings.counts(found)
    quiet = getattr(args, "quiet", False)
    shown = found[found["severity"] == "error"] if quiet else found
    limit = 200
    for rec in shown.head(limit).to_dict("records"):
        where = f"line {rec['row']}" if rec["row"] is not None and not _is_na(rec["row"]) else "-"
        print(f"  {rec['severity']:<7} {rec['rule']} {where}: {rec['message']}")
    if len(shown) > limit:
        print(f"  ... and {len(shown) - limit} more")
    summary = (f"{path}: {counts['error']} error(s), {counts['warning']} warning(s), "
               f"{counts['notice']} notice(s)")
    if found["rule"].isin(["DD0001", "DD0002"]).any():
        sys.stderr.write(f"trialpack: error: {summary}: the file was not read as a define\n")
        return 2
    if not quiet or counts["error"]:
        print(summary)
    return 1 if counts["error"] else 0


def _is_na(value) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def convert(args: argparse.Namespace) -> int:
    """``trialpack convert IN OUT``: .xpt, .json, .ndjson, .csv by extension."""
    from trialpack.convert import convert as run

    rows, columns = run(args.src, args.dst)
    print(f"wrote {args.dst}: {rows} rows, {columns} columns")
    return 0


def spec_export(args: argparse.Namespace) -> int:
    """``trialpack spec export SPEC_DIR OUT.xlsx``."""
    from specs.load import load_spec
    from specs.workbook import write_workbook
    from trialpack.atomic import atomic_path

    spec = load_spec(args.spec_dir)
    with atomic_path(args.xlsx) as tmp:
        write_workbook(spec, tmp)
    print(f"wrote {args.xlsx}: {len(spec.datasets)} datasets, "
          f"{sum(len(d.variables) for d in spec.datasets)} variables, {len(spec.codelists)} codelists")
    return 0


def spec_import(args: argparse.Namespace) -> int:
    """``trialpack spec import IN.xlsx OUT_DIR``."""
    from specs.load import save_spec
    from specs.workbook import read_workbook
    from trialpack.atomic import atomic_dir

    spec = read_workbook(args.xlsx)
    with atomic_dir(args.out_dir) as tmp:
        files = save_spec(spec, tmp)
    print(f"wrote {len(files)} spec files to {args.out_dir}")
    return 0
