"""Flowing text documents — headings, paragraphs and tables on US Letter pages — written with
:mod:`fileformats.pdf`: the reviewer's guides a package's define.xml cites as def:SupplementalDoc.

A document is a list of blocks (:class:`Heading`, :class:`Paragraph`, :class:`Table`) laid out
top to bottom: text wrapped to the measured width of the embedded DejaVu font, a table row
never split across pages (its header repeated on the next page), a heading never left alone
at the foot of a page, each top-level heading a PDF bookmark, and a footer with the
document's name and ``Page n of N``. Same blocks and ``created``, same bytes.

:class:`GeneratedDocument` is a spec :class:`specs.model.Document` that writes itself from
its blocks, so ``trialpack.writing`` puts it beside define.xml as it does the aCRF.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from specs import findings as F
from specs.model import Document, Spec

PAGE_W, PAGE_H = 612.0, 792.0   # US Letter, points
MARGIN = 54.0
FOOTER = 30.0                   # room kept at the bottom for the footer
LINE = 1.3                      # line height / font size
SANS = "DejaVu Sans"
INK, MUTED, RULE, HEAD = "#000000", "#555555", "#b0b0b0", "#e4e4e4"
CELL_PAD = 3.0
WIDTH = PAGE_W - 2 * MARGIN


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1          # 1: a numbered section (bookmarked); 2: a sub-heading


@dataclass(frozen=True)
class Paragraph:
    text: str
    size: float = 9.5


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]      # fractions of the text width, one per column
    size: float = 8.0
    empty: str = "None."           # printed instead of a table without rows


Block = Heading | Paragraph | Table


def wrap(text: str, width: float, size: float, *, bold: bool = False) -> list[str]:
    """Greedy word wrap of ``text`` to ``width`` points (a word longer than a line is cut)."""
    from fileformats.pdf import embedded_font

    font = embedded_font(SANS, bold)
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if font.width(candidate, size) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            while font.width(word, size) > width and len(word) > 1:
                cut = max(1, next(i for i in range(len(word), 0, -1) if font.width(word[:i], size) <= width))
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return lines


class _Layout:
    """Pages as lists of drawing calls, made before the page count is known."""

    def __init__(self) -> None:
        self.pages: list[dict] = []
        self.y = 0.0
        self.new_page()

    def new_page(self) -> None:
        self.pages.append({"ops": [], "bookmark": None})
        self.y = PAGE_H - MARGIN

    @property
    def ops(self) -> list:
        return self.pages[-1]["ops"]

    def room(self) -> float:
        return self.y - (MARGIN + FOOTER)

    def ensure(self, height: float) -> None:
        if height > self.room() and self.y < PAGE_H - MARGIN:
            self.new_page()

    def text(self, x: float, lines: list[str], size: float, *, bold: bool = False, color: str = INK) -> None:
        for line in lines:
            self.ops.append(("text", x, self.y - 0.8 * size, line, size, bold, color))
            self.y -= size * LINE


def _title(layout: _Layout, title: str, subtitle: list[str]) -> None:
    layout.text(MARGIN, wrap(title, WIDTH, 18, bold=True), 18, bold=True)
    layout.y -= 4
    for line in subtitle:
        layout.text(MARGIN, wrap(line, WIDTH, 10), 10, color=MUTED)
    layout.y -= 8
    layout.ops.append(("rule", MARGIN, PAGE_W - MARGIN, layout.y, 0.8))
    layout.y -= 12


def _heading(layout: _Layout, block: Heading) -> None:
    size = 13.0 if block.level == 1 else 10.5
    lines = wrap(block.text, WIDTH, size, bold=True)
    layout.y -= 6 if block.level == 1 else 2
    layout.ensure(len(lines) * size * LINE + 48)          # keep with what follows
    if block.level == 1 and layout.pages[-1]["bookmark"] is None:
        layout.pages[-1]["bookmark"] = block.text
    layout.text(MARGIN, lines, size, bold=True)
    layout.y -= 3


def _paragraph(layout: _Layout, block: Paragraph) -> None:
    for line in wrap(block.text, WIDTH, block.size):
        layout.ensure(block.size * LINE)
        layout.text(MARGIN, [line], block.size)
    layout.y -= 5


def _cells(values: tuple[str, ...], widths: list[float], size: float, bold: bool) -> list[list[str]]:
    return [wrap(str(v), w - 2 * CELL_PAD, size, bold=bold) for v, w in zip(values, widths)]


def _row(layout: _Layout, cells: list[list[str]], widths: list[float], size: float, *, header: bool) -> None:
    height = max(len(c) for c in cells) * size * LINE + 2 * CELL_PAD
    top = layout.y
    if header:
        layout.ops.append(("fill", MARGIN, top - height, WIDTH, height, HEAD))
    x = MARGIN
    for lines, width in zip(cells, widths):
        layout.y = top - CELL_PAD
        layout.text(x + CELL_PAD, lines, size, bold=header)
        x += width
    layout.y = top - height
    layout.ops.append(("rule", MARGIN, PAGE_W - MARGIN, layout.y, 0.4))


def _table(layout: _Layout, block: Table) -> None:
    if not block.rows:
        _paragraph(layout, Paragraph(block.empty))
        return
    widths = [f * WIDTH for f in block.widths]
    head = _cells(block.columns, widths, block.size, True)
    head_height = max(len(c) for c in head) * block.size * LINE + 2 * CELL_PAD
    for i, row in enumerate(block.rows):
        cells = _cells(row, widths, block.size, False)
        height = max(len(c) for c in cells) * block.size * LINE + 2 * CELL_PAD
        if i == 0 or height > layout.room():
            layout.ensure(head_height + height)
            _row(layout, head, widths, block.size, header=True)
        _row(layout, cells, widths, block.size, header=False)
    layout.y -= 8


def write_text_document(path: str | Path, *, title: str, subtitle: list[str], blocks: list[Block],
                        footer: str, created: datetime | None) -> Path:
    """Lay out ``blocks`` under ``title`` and write the PDF to ``path`` (see the module docstring).
    ``created`` is printed in the footer (and is the PDF CreationDate when it has a time zone)."""
    from fileformats.pdf import Document as PDF

    layout = _Layout()
    _title(layout, title, subtitle)
    draw = {Heading: _heading, Paragraph: _paragraph, Table: _table}
    for block in blocks:
        draw[type(block)](layout, block)
    pdf = PDF(title=title, subject=footer, created=created)
    total = len(layout.pages)
    for number, spec in enumerate(layout.pages, start=1):
        page = pdf.page(PAGE_W, PAGE_H, bookmark=spec["bookmark"] or (title if number == 1 else None))
        for op in spec["ops"]:
            if op[0] == "text":
                _, x, y, line, size, bold, color = op
                page.text(x, y, line, family=SANS, size=size, bold=bold, color=color)
            elif op[0] == "rule":
                _, x0, x1, y, width = op
                page.line(x0, y, x1, y, color=RULE, linewidth=width)
            else:
                _, x, y, w, h, fill = op
                page.rect(x, y, w, h, fill=fill)
        _footer(page, footer, number, total, created)
    return pdf.save(path)


def _footer(page, footer: str, number: int, total: int, created: datetime | None) -> None:
    y = MARGIN - 10
    page.line(MARGIN, y + 12, PAGE_W - MARGIN, y + 12, color=RULE, linewidth=0.6)
    page.text(MARGIN, y, footer, family=SANS, size=7, color=MUTED)
    if created is not None:
        page.text(PAGE_W / 2 + 60, y, f"created {created.isoformat(timespec='seconds')}", family=SANS, size=7,
                  color=MUTED, align="center")
    page.text(PAGE_W - MARGIN, y, f"Page {number} of {total}", family=SANS, size=7, color=MUTED, align="right")


# -- tables every guide has ---------------------------------------------------------------------


def standards_text(spec) -> str:
    """The spec's standards in one sentence (``Standards: SDTMIG 3.4, CDISC/NCI 2025-03-28 (SDTM).``)."""
    named = [f"{s.name} {s.version}" + (f" ({s.publishing_set})" if s.publishing_set else "") for s in spec.standards]
    return f"Standards: {', '.join(named)}." if named else ""


def dataset_table(spec: Spec, written: dict[str, pd.DataFrame]) -> Table:
    """Each dataset written: name, label, class, structure, keys and records."""
    rows = []
    for name, df in written.items():
        ds = spec.dataset(name)
        cls = ds.class_ + (f" / {ds.subclass}" if ds.subclass else "") if ds.class_ else ""
        rows.append((name, ds.label, cls, ds.structure or "", ", ".join(ds.keys), f"{len(df):,}"))
    return Table(("Dataset", "Label", "Class", "Structure", "Keys", "Records"), tuple(rows),
                 (0.1, 0.19, 0.17, 0.25, 0.19, 0.1))


def findings_table(found: pd.DataFrame) -> Table:
    """Findings counted by rule and severity, with the rule's description."""
    if found.empty:
        return Table(("Rule",), (), (1.0,), empty="No findings.")
    counts = found.groupby(["rule", "severity"], sort=True).size().reset_index(name="n")
    described = counts["rule"].map(lambda rule: F.RULES.get(rule, ("", ""))[1])   # one per distinct rule
    rows = tuple(zip(counts["rule"], counts["severity"], described, counts["n"].map("{:,}".format)))
    return Table(("Rule", "Severity", "Description", "Findings"), rows, (0.11, 0.12, 0.62, 0.15))


class GeneratedDocument(Document):
    """A spec document (def:leaf) whose PDF trialpack writes from blocks it was given: a
    :class:`specs.model.Document` in every other respect (JSON, workbook and define see only
    its fields, and it equals a plain Document with the same fields)."""

    def __init__(self, *, id: str, title: str, href: str, kind: str, heading: str, subtitle: list[str],
                 blocks: list[Block]):
        super().__init__(id=id, title=title, href=href, kind=kind)
        self._heading, self._subtitle, self._blocks = heading, list(subtitle), list(blocks)

    @property
    def blocks(self) -> list[Block]:
        return list(self._blocks)

    def write(self, path: str | Path, *, created: datetime | None) -> Path:
        return write_text_document(path, title=self._heading, subtitle=self._subtitle, blocks=self._blocks,
                                   footer=self._heading, created=created)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Document):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]
