"""Raw text to submission text: printable ASCII, as SAS V5 transport files and the FDA's
Study Data Technical Conformance Guide ask ("ASCII (printable < 128)"; standards.md §2).

A study config chooses what happens to raw text that is not (``text.non_ascii``):

* ``"refuse"`` (the default): every such value of a mapped raw field is bad input, reported
  together — file, row, raw column, the character and the value — before anything is mapped;
* ``"transliterate"``: each non-ASCII character is written in ASCII by ``anyascii`` (``é`` →
  ``e``, ``ß`` → ``ss``, ``µ`` → ``u``), and every value changed is a finding (TP0113) naming
  file, row, column, the original and the result — nothing changes silently.

A control character (tab, line break, escape ...) is refused in either case: no
transliteration makes it text.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from fileformats.rawio import RAW_FILE, RAW_ROW
from sdtm.common import printable_ascii_bytes
from specs import findings
from specs.columns import arrow_text
from specs.errors import InputError

#: Anything but printable ASCII (space to tilde).
NOT_PRINTABLE_ASCII = r"[^\x20-\x7e]"
MODES = ("refuse", "transliterate")


def submission_text(tables: dict, mode: str = "refuse") -> tuple[dict, pd.DataFrame]:
    """The raw tables with their text made printable ASCII per ``mode`` (see the module
    docstring), and the findings of what was transliterated. Raises one
    :class:`specs.errors.InputErrors` listing every value refused, sorted by file, row, column."""
    problems, found, out = [], [], {}
    for domain, table in tables.items():
        frame = table.frame
        for fld in text_fields(frame):
            bad = _not_printable(frame[fld])
            if not bad.any():
                continue
            values = frame[fld].to_numpy(dtype=object)
            column = table.headers.get(fld, fld)
            if mode == "transliterate":
                frame, changed = _transliterate(frame, fld, bad)
                found.append(findings.make(
                    "TP0113", domain, fld, rows=frame.loc[bad, RAW_ROW].to_numpy(), values=values[bad],
                    file=frame.loc[bad, RAW_FILE].to_numpy(),
                    message=[f"{column!r}: {old!r} transliterated to {new!r}" for old, new in zip(values[bad], changed)]))
            problems += [_refusal(value, table.name, int(row), column, mode)
                         for value, row in zip(values[bad], frame.loc[bad, RAW_ROW]) if _refused(value, mode)]
        out[domain] = table if frame is table.frame else _with_frame(table, frame)
    if problems:
        from specs.errors import InputErrors

        raise InputErrors.of(problems)
    return out, findings.concat(found)


def text_fields(frame: pd.DataFrame) -> list[str]:
    """The text columns of a raw frame (not its lineage columns)."""
    return [c for c in frame.columns if c not in (RAW_FILE, RAW_ROW)
            and (pd.api.types.is_string_dtype(frame[c]) or frame[c].dtype == object)]


def _not_printable(values: pd.Series) -> np.ndarray:
    """Rows whose value holds a character outside printable ASCII (one byte pass when all pass)."""
    if printable_ascii_bytes(values):
        return np.zeros(len(values), dtype=bool)
    return np.asarray(pc.match_substring_regex(arrow_text(values), NOT_PRINTABLE_ASCII).fill_null(False))


def _refused(value: str, mode: str) -> bool:
    """Refused: any non-printable character when refusing, a control character always."""
    return mode == "refuse" or any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in value)


def _refusal(value: str, file: str, row: int, column: str, mode: str) -> InputError:
    char = next(ch for ch in value if (not " " <= ch <= "~") and (mode == "refuse" or ord(ch) < 0xA0))
    what = "non-ASCII character" if ord(char) > 127 else "control character"
    advice = ("; submission text must be printable ASCII (or set text.non_ascii to \"transliterate\" in the "
              "study config)" if what.startswith("non") else "; submission text must be printable ASCII")
    return InputError(f"{what} {char!r} (U+{ord(char):04X}) in {value!r}{advice}", file=file, row=row, column=column)


def _transliterate(frame: pd.DataFrame, fld: str, bad: np.ndarray) -> tuple[pd.DataFrame, list[str]]:
    """``frame`` with ``fld``'s non-ASCII characters written in ASCII where ``bad``; the new values."""
    from anyascii import anyascii

    values = frame[fld].to_numpy(dtype=object).copy()
    changed = ["".join(ch if ord(ch) < 0x80 else anyascii(ch) for ch in value) for value in values[bad]]
    values[bad] = changed
    frame = frame.copy()
    frame[fld] = pd.Series(values, index=frame.index, dtype=frame[fld].dtype)
    return frame, changed


def _with_frame(table, frame: pd.DataFrame):
    from dataclasses import replace

    return replace(table, frame=frame)
