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
    return _not_yet("validate", "the pipeline issue")


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
