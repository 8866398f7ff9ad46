"""Errors that carry where the bad input is.

Principle 4 of the design: bad input raises an error naming file, row and column (or
sheet, or JSON path, or byte offset); the CLI prints that one line and exits 2.
"""
from __future__ import annotations


def nearest(name: str, known) -> str | None:
    """The known name closest to ``name`` in any case (for "did you mean ...?"), or None."""
    import difflib

    upper = {str(k).upper(): k for k in known}
    match = difflib.get_close_matches(str(name).upper(), list(upper), n=1, cutoff=0.6)
    return upper[match[0]] if match else None


def did_you_mean(name: str, known) -> str:
    """``" (did you mean X?)"``, or ``""`` when nothing known is close to ``name``."""
    near = nearest(name, known)
    return f" (did you mean {near}?)" if near else ""


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
        self.study: str | None = None   # the study the input belongs to, when several are built
        super().__init__(self.__str__())

    def __reduce__(self):   # across processes with every field (a worker's error reaches the build whole)
        return (_rebuild, (type(self), self.message, self.file, self.sheet, self.row, self.column, self.path,
                           self.offset, self.study))

    def relocate(self, file: str) -> None:
        """Name ``file`` as where the bad input is (the same input under a path the user can open)."""
        self.file = str(file)
        self.args = (self.__str__(),)

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


class InputErrors(InputError):
    """Several problems of bad input found in one pass, reported together so that one run shows
    them all: sorted by study (``order``), file, row and column, the same in every run, at most
    :attr:`PER_FILE` per file with the count of the rest. Its first line says how many."""

    PER_FILE = 20

    def __init__(self, problems: list[InputError], *, order: dict[str, int] | None = None) -> None:
        flat = [p for e in problems for p in (e.problems if isinstance(e, InputErrors) else [e])]
        order = order or {}
        self.problems = sorted(flat, key=lambda p: (order.get(p.study or "", len(order)), p.file or "",
                                                    p.row if p.row is not None else -1, p.column or "", p.message))
        first = self.problems[0]
        super().__init__(first.message, file=first.file, sheet=first.sheet, row=first.row, column=first.column,
                         path=first.path, offset=first.offset)
        studies = {p.study for p in self.problems}
        self.study = studies.pop() if len(studies) == 1 else None

    @classmethod
    def of(cls, problems: list[InputError], **kwargs) -> InputError:
        """One problem as itself, several as one :class:`InputErrors`."""
        return problems[0] if len(problems) == 1 and not isinstance(problems[0], InputErrors) else cls(problems, **kwargs)

    def lines(self) -> list[str]:
        """A heading, then each problem on its own line (at most PER_FILE per file)."""
        out, shown, more = [f"{len(self.problems)} problems in the input; each is listed below"], {}, {}
        for p in self.problems:
            key = p.file or ""
            shown[key] = shown.get(key, 0) + 1
            if shown[key] <= self.PER_FILE:
                out.append(str(p))
            else:
                more[key] = more.get(key, 0) + 1
        out += [f"{key}: {n} more problem(s) like those above" for key, n in more.items()]
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines()) if hasattr(self, "problems") else super().__str__()

    def __reduce__(self):
        return (InputErrors, (self.problems,))


class SpecError(InputError):
    """A spec (JSON or workbook) that is malformed or inconsistent."""


def _rebuild(cls, message, file, sheet, row, column, path, offset, study) -> InputError:
    exc = cls(message, file=file, sheet=sheet, row=row, column=column, path=path, offset=offset)
    exc.study = study
    return exc


class NotYetAvailable(TrialpackError):
    """A command whose issue has not landed yet."""
