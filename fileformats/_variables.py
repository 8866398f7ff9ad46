"""Variable metadata given to the dataset writers, whatever its form.

``variables`` may hold ``specs.model.VariableSpec`` objects, ``XptVariable`` objects (from
``read_xpt``), Dataset-JSON columns (from ``read_dataset_json``) or plain dicts with the
keys ``name``, ``label``, ``data_type``, ``length``, ``display_format`` (and for XPT
``informat``, ``justification``). Its order is the column order written; a variable
missing from the frame, or a column missing from ``variables``, is an InputError.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import pandas as pd

from specs.errors import InputError


def field(entry: Any, key: str, default: Any = None) -> Any:
    """``entry[key]`` for mappings, ``entry.key`` for objects, else ``default``."""
    if isinstance(entry, Mapping):
        return entry.get(key, default)
    return getattr(entry, key, default)


def resolve_entries(df: pd.DataFrame, variables: Iterable | None, file) -> list[Any]:
    """The entries in output order; every spec variable is a column and vice versa."""
    if variables is None:
        for column in df.columns:
            if not isinstance(column, str):
                raise InputError(f"column name {column!r} is not text", file=file)
        return [{"name": column} for column in df.columns]
    entries = list(variables)
    names = [field(e, "name") for e in entries]
    missing = [n for n in names if n not in df.columns]
    if missing:
        raise InputError(f"the spec lists {missing[0]!r} but the data have no such column",
                         file=file, column=missing[0])
    listed = set(names)
    extra = [c for c in df.columns if c not in listed]
    if extra:
        raise InputError(f"column {extra[0]!r} is not in the spec's variables", file=file,
                         column=str(extra[0]))
    if len(listed) != len(names):
        duplicate = next(n for n in names if names.count(n) > 1)
        raise InputError("the variable occurs more than once in the spec", file=file,
                         column=duplicate)
    return entries
