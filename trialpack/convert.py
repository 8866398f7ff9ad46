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
* CSV has no metadata: every column is text unless all its non-empty values are plain
  numbers (``12``, ``-3.5``, ``1e-3``; not ``007``, which stays text); an empty cell is
  missing. Writing CSV keeps names and values only (dates as ISO 8601).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from specs.errors import InputError
from trialpack.datasetjson import read_dataset_json, write_dataset_json
from trialpack.xpt import read_xpt, write_xpt

FORMATS = (".xpt", ".json", ".ndjson", ".csv")
_PLAIN_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"unknown format {suffix or '(no extension)'!r}: use one of "
                         f"{', '.join(FORMATS)}", file=path.name)
    return suffix


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read as CSV: {exc}", file=path.name) from None
    for column in frame.columns:
        text = frame[column]
        present = text.dropna()
        if len(present) and present.str.fullmatch(_PLAIN_NUMBER).all():
            frame[column] = pd.to_numeric(text)
    return frame


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
            created=None, profile: str = "fda", encoding: str | None = None) -> tuple[int, int]:
    """Convert ``src`` to ``dst`` by their extensions; returns (rows, columns) written.

    ``profile``/``encoding`` apply to an XPT output (see :func:`trialpack.xpt.write_xpt`);
    ``created`` sets the output's creation timestamp (default SOURCE_DATE_EPOCH, else now).
    """
    source, target = Path(src), Path(dst)
    kind_in, kind_out = _kind(source), _kind(target)
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
        if not source.is_file():
            raise InputError("cannot read the file: no such file", file=source.name)
        frame = _read_csv(source)
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
