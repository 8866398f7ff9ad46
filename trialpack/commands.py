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
    return _not_yet("spec export", "the spec workbook")


def spec_import(args: argparse.Namespace) -> int:
    return _not_yet("spec import", "the spec workbook")
