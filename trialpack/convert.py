"""``trialpack convert IN OUT``: datasets between .xpt, .json, .ndjson and .csv by extension.

Metadata goes across where both formats hold it:

* XPT -> Dataset-JSON: labels, character lengths, display formats; dates, datetimes and
  times become ISO 8601 with targetDataType integer. XPT cannot tell integers from
  floats, so a numeric whose every value is whole is written as ``integer``, else
  ``double``. Informats and special missing codes (.A-.Z, ._) have no place in
  Dataset-JSON: they are refused rather than dropped (``lossy=True``, ``--lossy`` on the
  command line, writes them as plain missing values).
* Dataset-JSON -> XPT: labels, lengths, display formats, the dataset label; the XPT
  dataset name is the output file stem (FDA rule), checked like any XPT write.
* CSV -> any: a CSV has no types or labels, and none is guessed from the text. They come
  from the spec that describes the file's dataset — its stem, ``dm.csv`` is DM: ``spec``
  (``--spec``) when given, else the shipped SDTMIG 3.4 or ADaMIG 1.3 spec that has it
  (:func:`specs.load.describing_spec`). A column that spec describes takes its label, type,
  length and display format: Char stays text exactly as written (``001`` keeps its zeros);
  Num values are parsed as numbers — or, for a date, datetime or time display format
  (``DATE9.``), as ISO 8601 dates, datetimes or times, as convert writes them to CSV — and a
  value that is not one is refused naming file, row (the header is row 1) and column. Every
  other column (a dataset no spec describes, a column the spec lacks) stays text. The dataset
  label comes from the spec too. An empty cell is missing.
* any -> CSV: names and values only (dates as ISO 8601). A CSV has no place for labels,
  lengths, display formats or the dataset label, so they are not written; converting the CSV
  back takes them from the spec again.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from fileformats.datasetjson import read_dataset_json, write_dataset_json
from fileformats.xpt import read_xpt, write_xpt
from sdtm.common import to_numbers
from specs.errors import InputError
from specs.formats import format_kind
from specs.load import describing_spec
from specs.model import VariableSpec

FORMATS = (".xpt", ".json", ".ndjson", ".csv")
#: A time as convert writes it to CSV (``10:11:12``, pandas' ``0 days 10:11:12``).
_TIME = re.compile(r"(?:\d+ days )?\d{2}:\d{2}:\d{2}(?:\.\d+)?")


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"unknown format {suffix or '(no extension)'!r}: use one of "
                         f"{', '.join(FORMATS)}", file=path.name)
    return suffix


def _read_csv(path: Path, spec_path: str | os.PathLike | None) -> tuple[pd.DataFrame, list[VariableSpec], str]:
    """A CSV file's frame, its variables and its dataset label, typed by the spec that describes
    its dataset (see the module docstring); ``spec_path`` that does not describe it is refused."""
    frame = _csv_text(path)
    name = path.stem.upper()
    described = describing_spec(name, spec_path)
    if described is None and spec_path:
        raise InputError(f"the spec describes no dataset {name} (the name of the CSV file {path.name})",
                         file=spec_path)
    dataset = described[1] if described else None
    variables = [dataset.variable(c) if dataset and c in dataset else VariableSpec(name=c, label="")
                 for c in frame.columns]
    for var in variables:
        if var.is_numeric:
            frame[var.name] = _csv_values(frame[var.name], var, path.name)
    return frame, variables, dataset.label if dataset else ""


def _csv_text(path: Path) -> pd.DataFrame:
    """Every column of a CSV file as text, exactly as written; an empty cell is missing."""
    if not path.is_file():
        raise InputError("cannot read the file: no such file", file=path.name)
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read as CSV: {exc}", file=path.name) from None


#: How the text of a numeric variable is read, by its display format's kind, and what it must be.
_NUMERIC_TEXT = {
    None: (to_numbers, "a number"),
    "date": (lambda text: pd.to_datetime(text, format="%Y-%m-%d", errors="coerce"),
             "an ISO 8601 date (YYYY-MM-DD)"),
    "datetime": (lambda text: pd.to_datetime(text, format="ISO8601", errors="coerce"),
                 "an ISO 8601 datetime (YYYY-MM-DDThh:mm:ss)"),
    "time": (lambda text: pd.to_timedelta(text.where(text.str.fullmatch(_TIME).fillna(False)), errors="coerce"),
             "a time (hh:mm:ss)"),
}


def _csv_values(text: pd.Series, var: VariableSpec, file: str) -> pd.Series:
    """The values of numeric ``var`` read from its CSV text: numbers (``sdtm.common.to_numbers``,
    as raw data is read), or dates, datetimes or times when its display format makes it one.
    A value that is not one is refused, naming its row (the header is row 1) and column."""
    read, expected = _NUMERIC_TEXT[format_kind(var.display_format)]
    values = read(text)
    bad = np.flatnonzero((values.isna() & text.notna()).to_numpy())
    if len(bad):
        kind = var.data_type + (f", {var.display_format}" if var.display_format else "")
        raise InputError(f"{text.iloc[bad[0]]!r} is not {expected}, as {var.name} must be ({kind} in the spec)",
                         file=file, row=int(bad[0]) + 2, column=var.name)
    return values


def _xpt_to_columns(frame: pd.DataFrame, meta, lossy: bool, file) -> list[dict]:
    """Dataset-JSON variables of an XPT file (integer when every value is whole)."""
    if meta.special_missing and not lossy:
        column = next(iter(meta.special_missing))
        raise InputError("holds special missing values (.A-.Z, ._), which the output format cannot "
                         "keep; convert with lossy=True (trialpack convert --lossy) to write them as plain "
                         "missing values",
                         file=file, column=column)
    columns = []
    for var in meta.variables:
        entry = {"name": var.name, "label": var.label, "length": var.length,
                 "display_format": var.display_format}
        if not var.numeric:
            entry["data_type"] = "text"
        elif var.temporal:
            entry["data_type"] = "integer"
        else:
            values = frame[var.name].to_numpy(dtype=float)
            finite = values[~np.isnan(values)]
            whole = bool(np.all((finite == np.round(finite)) & (np.abs(finite) <= 2 ** 53)))
            entry["data_type"] = "integer" if whole else "float"
        columns.append(entry)
    return columns


def convert(src: str | os.PathLike, dst: str | os.PathLike, *, lossy: bool = False,
            created=None, profile: str = "fda", encoding: str | None = None,
            spec: str | os.PathLike | None = None) -> tuple[int, int]:
    """Convert ``src`` to ``dst`` by their extensions; returns (rows, columns) written.

    ``profile``/``encoding`` apply to an XPT output (see :func:`fileformats.xpt.write_xpt`);
    ``created`` sets the output's creation timestamp (default SOURCE_DATE_EPOCH, else now);
    ``spec`` (a spec folder, JSON file or workbook) gives a CSV input's types and labels
    instead of the shipped standard specs (see the module docstring).
    """
    source, target = Path(src), Path(dst)
    kind_in, kind_out = _kind(source), _kind(target)
    if spec and kind_in != ".csv":
        raise InputError("a spec (--spec) gives the types and labels of a CSV input only; an XPT or "
                         "Dataset-JSON file carries its own", file=source.name)
    name, label, variables, keys, special = None, "", None, None, None
    if kind_in == ".xpt":
        frame, meta = read_xpt(source)
        label = meta.label
        if kind_out == ".xpt":
            variables, special = meta.variables, meta.special_missing or None
        elif kind_out in (".json", ".ndjson"):
            variables = _xpt_to_columns(frame, meta, lossy, source.name)
            name = meta.name
        elif meta.special_missing and not lossy:
            _xpt_to_columns(frame, meta, lossy, source.name)
    elif kind_in in (".json", ".ndjson"):
        frame, meta = read_dataset_json(source)
        label, keys, name = meta.label, meta.keys, meta.name
        variables = meta.variables if kind_out == ".xpt" else meta.columns
    else:
        frame, variables, label = _read_csv(source, spec)
    if kind_out == ".xpt":
        write_xpt(frame, target, label=label, variables=variables, special_missing=special,
                  created=created, profile=profile, encoding=encoding)
    elif kind_out in (".json", ".ndjson"):
        write_dataset_json(frame, target, name=name if name and name == target.stem.upper() else None,
                           label=label, variables=variables, keys=keys, created=created)
    else:
        if not target.parent.is_dir():
            raise InputError(f"the output folder {str(target.parent)!r} does not exist",
                             file=target.name)
        frame.to_csv(target, index=False)
    return len(frame), frame.shape[1]
