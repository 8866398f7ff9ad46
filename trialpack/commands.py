"""Command implementations behind ``trialpack.cli``; each returns an exit code."""
from __future__ import annotations

import argparse

from specs.errors import NotYetAvailable


def _not_yet(command: str, issue: str) -> int:
    raise NotYetAvailable(f"'trialpack {command}' is not available yet ({issue} has not landed)")


def demo(args: argparse.Namespace) -> int:
    """``trialpack demo``: generate the demo integration's raw data and build its package."""
    from trialpack.console import Console
    from trialpack.pipeline import demo as run, parse_formats

    console = Console(quiet=args.quiet, log_file=args.log_file)
    with console.progress() as progress:
        result = run(args.out, subjects=args.subjects, studies=args.studies, seed=args.seed,
                     ae_per_subject=args.ae_per_subject, formats=parse_formats(args.format), progress=progress)
    console.summary(result)
    return 1 if result.summary()["findings"]["error"] else 0


def build(args: argparse.Namespace) -> int:
    """``trialpack build CONFIG.json``: the whole package from an ISS config."""
    from trialpack.console import Console
    from trialpack.pipeline import build as run, parse_formats

    console = Console(quiet=args.quiet, log_file=args.log_file)
    with console.progress() as progress:
        result = run(args.config, args.out, input_dir=args.input_dir, formats=parse_formats(args.format),
                     progress=progress)
    console.summary(result)
    return 1 if result.summary()["findings"]["error"] else 0


def validate(args: argparse.Namespace) -> int:
    """``trialpack validate PATH``: a package folder, a dataset file or any define.xml.

    For a ``.xml`` file: safe parsing, the official schema of its version (Define-XML 2.1 or
    2.0; errors with line numbers), the Define-XML business rules, the ``def:leaf`` files
    beside it and — when dataset files are beside it — the define <-> data cross-check
    (:func:`define_findings`). Prints a summary and the findings; exit 1 if any is an error,
    0 otherwise, 2 if the file cannot be read as XML (or declares a DOCTYPE, which is refused).
    A path that does not exist is refused first ("no such path", exit 2), whatever its extension.
    """
    import sys
    from pathlib import Path

    path = Path(args.path)
    if not path.exists():
        from specs.errors import InputError

        raise InputError("no such path", file=path)
    if path.is_dir():
        return validate_folder(args)
    if path.suffix.lower() in (".xpt", ".json", ".ndjson"):
        return validate_dataset(args)
    if path.suffix.lower() != ".xml":
        from specs.errors import InputError

        raise InputError("validate takes a package folder, a dataset file (.xpt, .json, .ndjson) or a define.xml",
                         file=path)
    from specs import findings

    found = define_findings(path)
    counts = findings.counts(found)
    quiet = getattr(args, "quiet", False)
    shown = found[found["severity"] == "error"] if quiet else found
    limit = 200
    for rec in shown.head(limit).to_dict("records"):
        print(f"  {rec['severity']:<7} {rec['rule']} {_where(rec)}: {rec['message']}")
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


def define_findings(path):
    """Findings of one define.xml and what lies beside it: ``define.validate_define``, then the
    ``def:leaf`` files (DD0114) and, when any dataset file (.xpt, .json) is in the folder, the
    define <-> data cross-check of those files (``define.cross_check``; a described dataset whose
    leaf file is missing is reported once, as DD0114, not again as DD0101)."""
    from define import check_leaves, cross_check, validate_define
    from specs import findings
    from trialpack.validation import read_folder

    found = validate_define(path)
    if found["rule"].isin(["DD0001", "DD0002", "DD0003"]).any():
        return found
    folder = read_folder(path.parent)
    unreadable = findings.concat(folder.findings)
    if not folder.frames and unreadable.empty:
        return findings.concat([found, check_leaves(path, path.parent)])
    data = cross_check(path, folder.frames, folder=path.parent, metadata=folder.metas)
    missing = set(data.loc[data["rule"] == "DD0114", "dataset"].dropna())
    data = data[~((data["rule"] == "DD0101") & data["dataset"].isin(missing))]
    return findings.concat([found, unreadable, data])


def validate_folder(args: argparse.Namespace) -> int:
    """``trialpack validate DIR``: re-read and check a built package; write its validation report.

    The reports are written into the folder, so it must be a package trialpack wrote
    (:func:`trialpack.layout.is_package`); any other folder is refused before anything is read
    or written (its define.xml or dataset files can be validated one by one)."""
    from pathlib import Path

    from specs.errors import InputError
    from trialpack import layout
    from trialpack.console import Console
    from trialpack.validation import package_created, validate_package, write_validation

    root = Path(args.path)
    if not layout.is_package(root):
        raise InputError(f"not {layout.NOT_A_PACKAGE}; validate a define.xml or a dataset file in it on its "
                         "own instead", file=root)
    console = Console(quiet=args.quiet, log_file=args.log_file)
    with console.progress() as progress:
        progress("re-reading datasets and define.xml files")
        found, details = validate_package(root)
        progress("writing validation/findings.json and validation/validation-report.xlsx")
        write_validation(found, layout.validation_dir(root), created=package_created(root), details=details)
    return console.validation_summary(root, found)


def validate_dataset(args: argparse.Namespace) -> int:
    """``trialpack validate FILE.xpt``: read the file and run the spec checks of its dataset."""
    from pathlib import Path

    from trialpack.console import Console
    from trialpack.validation import validate_dataset_file

    console = Console(quiet=args.quiet, log_file=args.log_file)
    found = validate_dataset_file(Path(args.path), spec_path=args.spec)
    return console.validation_summary(Path(args.path), found)


def _where(rec: dict) -> str:
    """``line N`` of the define for its own findings (DD00xx, and DD0114 at a def:leaf),
    ``DATASET row N`` for a define <-> data finding about a record, else ``-``."""
    row = None if rec["row"] is None or _is_na(rec["row"]) else int(rec["row"])
    if row is None:
        return "-"
    if rec["rule"].startswith("DD00") or rec["rule"] == "DD0114":
        return f"line {row}"
    return f"{rec['dataset']} row {row}"


def _is_na(value) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def convert(args: argparse.Namespace) -> int:
    """``trialpack convert IN OUT``: .xpt, .json, .ndjson, .csv by extension."""
    from trialpack.convert import convert as run

    rows, columns = run(args.src, args.dst, profile=args.profile, lossy=args.lossy, spec=args.spec)
    print(f"wrote {args.dst}: {rows} rows, {columns} columns")
    return 0


def spec_export(args: argparse.Namespace) -> int:
    """``trialpack spec export SOURCE OUT.xlsx``: SOURCE a spec (folder, JSON file, workbook), or a
    study config, whose composed spec is written with a Mapping sheet of its mappings
    (``sdtm.mappingsheet``) — the workbook a study config's ``spec`` may name."""
    from specs.clock import default_created
    from specs.workbook import write_workbook
    from trialpack.process.atomic import atomic_path

    spec, maps = _export_source(args.spec_dir)
    more = None
    if maps is not None:
        from sdtm.mappingsheet import write_mapping_sheet

        more = lambda wb: write_mapping_sheet(wb, maps)   # noqa: E731
    with atomic_path(args.xlsx) as tmp:
        write_workbook(spec, tmp, created=default_created(), more=more)
    mapped = f", {sum(len(v) for v in maps.values())} mappings" if maps is not None else ""
    print(f"wrote {args.xlsx}: {len(spec.datasets)} datasets, "
          f"{sum(len(d.variables) for d in spec.datasets)} variables, {len(spec.codelists)} codelists{mapped}")
    return 0


def _export_source(source: str):
    """(spec, mappings or None) of ``spec export``'s SOURCE: a study config JSON (it has a
    ``studyid``) gives its composed spec (without the documents each build makes) and its ``map``
    entries; anything else is a spec."""
    from pathlib import Path

    from specs.jsonio import read_json
    from specs.load import load_spec

    path = Path(source)
    if path.is_file() and path.suffix.lower() == ".json" and isinstance(data := read_json(path), dict) \
            and "studyid" in data:
        from sdtm.config import load_study_config
        from sdtm.studyspec import compose_study_spec

        config = load_study_config(path)
        maps = {d: f["map"] for d, f in config.get("raw", {}).get("files", {}).items() if f.get("map")}
        spec = compose_study_spec(config)
        spec.documents = []   # the aCRF and reviewer's guide are made by each build, not kept in a workbook
        return spec, maps
    return load_spec(source), None


def spec_import(args: argparse.Namespace) -> int:
    """``trialpack spec import IN.xlsx OUT_DIR``."""
    from specs.load import save_spec
    from specs.workbook import read_workbook
    from trialpack.process.atomic import atomic_dir

    spec = read_workbook(args.xlsx)
    with atomic_dir(args.out_dir) as tmp:
        files = save_spec(spec, tmp)
    print(f"wrote {len(files)} spec files to {args.out_dir}")
    return 0
