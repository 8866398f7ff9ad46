"""Errors that carry where the bad input is.

Principle 4 of the design: bad input raises an error naming file, row and column (or
sheet, or JSON path, or byte offset); the CLI prints that one line and exits 2.
"""
from __future__ import annotations


class TrialpackError(Exception):
    """Base of every error trialpack raises on purpose."""

    exit_code = 2


class InputError(TrialpackError):
    """Bad input: a file, spec, config or data value that cannot be used.

    Every keyword is optional; the message names whatever is known, in the order
    file, sheet, row, column, JSON path, byte offset.
    """

    def __init__(
        self,
        message: str,
        *,
        file: object | None = None,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
        path: str | None = None,
        offset: int | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.sheet = sheet
        self.row = row
        self.column = column
        self.path = path
        self.offset = offset
        super().__init__(self.__str__())

    def where(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.sheet:
            parts.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column!r}")
        if self.path:
            parts.append(f"at {self.path}")
        if self.offset is not None:
            parts.append(f"byte offset {self.offset}")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        return f"{where}: {self.message}" if where else self.message


class SpecError(InputError):
    """A spec (JSON or workbook) that is malformed or inconsistent."""


class NotYetAvailable(TrialpackError):
    """A command whose issue has not landed yet."""
