"""What an XPT file says about its dataset and variables, as :func:`read_xpt` returns it."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from specs.formats import format_text, temporal_kind


@dataclass(frozen=True)
class XptVariable:
    """One NAMESTR record. ``number`` is 1-based, ``position`` the byte offset in a row.

    It also reads as a spec entry (``name``, ``label``, ``data_type``, ``length``,
    ``display_format``, ``informat``, ``justification``), so ``meta.variables`` can be
    passed back to :func:`write_xpt` to reproduce the file.
    """

    name: str
    label: str
    type: str                 # "numeric" or "character"
    length: int
    number: int
    position: int
    format_name: str = ""
    format_length: int = 0
    format_decimals: int = 0
    informat_name: str = ""
    informat_length: int = 0
    informat_decimals: int = 0
    justification: int = 0

    @property
    def numeric(self) -> bool:
        return self.type == "numeric"

    @property
    def data_type(self) -> str:
        """Define-XML data type: ``float`` for numerics (XPT cannot tell integers), ``text``."""
        return "float" if self.numeric else "text"

    @property
    def display_format(self) -> str | None:
        return format_text(self.format_name, self.format_length, self.format_decimals)

    @property
    def informat(self) -> str | None:
        return format_text(self.informat_name, self.informat_length, self.informat_decimals)

    @property
    def temporal(self) -> str | None:
        """``date``, ``datetime``, ``time`` for numerics with such a format, else None."""
        return temporal_kind(self.format_name) if self.numeric else None


@dataclass
class XptMetadata:
    """Dataset-level facts of an XPT file plus its variables.

    ``special_missing`` maps a column to a Series of codes (``"A"``-``"Z"``, ``"_"``)
    indexed by 0-based row position, for the rows whose value is a special missing value
    (they are NaN in the frame). ``encoding`` is the text encoding the reader used.
    """

    name: str
    label: str
    variables: list[XptVariable]
    created: datetime | None
    modified: datetime | None
    sas_version: str
    os_name: str
    dataset_type: str = ""
    version: int = 5
    encoding: str = "ascii"
    nobs: int = 0
    special_missing: dict[str, pd.Series] = field(default_factory=dict)

    def variable(self, name: str) -> XptVariable:
        for var in self.variables:
            if var.name == name:
                return var
        raise KeyError(f"{self.name} has no variable {name}")

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.variables]

    def write_options(self) -> dict[str, Any]:
        """Keyword arguments for :func:`write_xpt` that reproduce this file's metadata."""
        return {
            "name": self.name, "label": self.label, "variables": self.variables,
            "special_missing": self.special_missing or None, "created": self.created,
            "modified": self.modified, "sas_version": self.sas_version, "os_name": self.os_name,
            "dataset_type": self.dataset_type,
        }
