"""The layout of a submitted RTF table that rtflite does not do itself: pages, "(continued)" rows
and decimal-aligned numbers.

* **Pages.** A table's rows are split into pages here, each page rendered by rtflite as a
  table of its own (:func:`report.render.render_rtf`): a page holds :data:`LINES_PER_PAGE`
  lines (rtflite's ``nrow`` convention: column header lines, body lines, one line each for
  the footnotes and the source), a row as many lines as its widest-wrapping cell needs
  (rtflite's text width estimate, :func:`rtflite.strwidth.get_string_width`).
* **"(continued)".** A page that starts inside a section (its first row is indented: a PT of a
  SOC, a category of a characteristic) repeats the section's row labels above it, each with
  " (continued)" and no numbers (ICH E3 table conventions; a reviewer reading page 2 sees
  which SOC the PTs belong to).
* **Decimal alignment.** In each column, every number's integer part is padded on the left with
  figure spaces (U+2007, the width of a digit) to the longest integer part of the column, the
  first number in parentheses likewise: "3 (60.0)" and "12 (8.5)" become "\u20073 (60.0)" and
  "12 (\u20078.5)", so that units, decimal points and parentheses line up in a left-aligned
  cell, which is indented to centre the column's widest text. Texts without numbers (NE, NA)
  are padded to the same width as an integer part.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

FIGURE_SPACE = "\u2007"
CONTINUED = " (continued)"
LINES_PER_PAGE = 42
"""rtflite's ``nrow``: the lines of a page (column headers, body rows, footnotes and source)."""
FONT, FONT_SIZE = 1, 9   # rtflite's Times New Roman, the body's 9 pt

_LEAD = re.compile(r"^([<>]?-?)(\d+)")
_PAREN = re.compile(r"\(([<>]?-?)(\d+)")


@lru_cache(maxsize=1 << 16)
def _text_width(text: str) -> float:
    """Inches of ``text`` in the body font (cached: a table repeats its texts)."""
    from rtflite.strwidth import get_string_width

    return float(get_string_width(text, font=FONT, font_size=FONT_SIZE))


def decimal_aligned(texts: list[str]) -> list[str]:
    """One column's texts padded for decimal alignment (see the module docstring); "" stays ""."""
    def int_len(pattern, text):
        m = pattern.search(text)
        return len(m.group(1)) + len(m.group(2)) if m else None

    leads = [int_len(_LEAD, t) for t in texts]
    parens = [int_len(_PAREN, t) for t in texts]
    width = max([n for n in leads if n is not None] + [0])
    inner = max([n for n in parens if n is not None] + [0])
    out = []
    for text, lead, paren in zip(texts, leads, parens):
        if text == "":
            out.append(text)
            continue
        if lead is None:  # NE, NA: as wide as the integer parts
            lead = min(len(text.split(" ")[0]), width)
        text = FIGURE_SPACE * (width - lead) + text
        if paren is not None and paren < inner:
            at = text.index("(") + 1
            text = text[:at] + FIGURE_SPACE * (inner - paren) + text[at:]
        out.append(text)
    return out


def centring_indent(texts: list[str], width_inches: float) -> int:
    """The left indent (twips) that centres a column's widest text in a cell ``width_inches``
    wide (0 when the text fills it)."""
    widest = max([_text_width(line) for t in texts if t for line in str(t).split("\n") if line] + [0.0])
    return max(int((width_inches - widest) / 2 * 1440) - 108, 0)  # 108: the cell's own padding (trgaph)


def lines_of(texts: list[str], widths_inches: list[float]) -> int:
    """Lines one row takes: per cell its text lines, each wrapped at the cell's width; the most."""
    most = 1
    for text, width in zip(texts, widths_inches):
        lines = sum(int(_text_width(part) / width) + 1 if part else 1 for part in str(text).split("\n"))
        most = max(most, lines)
    return most


@dataclass
class Row:
    """A displayed row: label, indent, bold section row, texts (one per column)."""

    label: str
    indent: int
    is_header: bool
    texts: list[str]


def paginate(rows: list[Row], widths_inches: list[float], *, header_lines: int,
             lines_per_page: int = LINES_PER_PAGE) -> list[list[Row]]:
    """The rows split into pages of at most ``lines_per_page`` - ``header_lines`` - 2 lines
    (footnote and source lines, as rtflite counts them); a page that starts inside a section
    gets the section rows above it again, labelled " (continued)", without numbers."""
    budget = max(lines_per_page - header_lines - 2, 1)
    pages: list[list[Row]] = [[]]
    used = 0
    ancestors: list[Row] = []   # the rows above the current one with smaller indents, outermost first
    for row in rows:
        ancestors = [a for a in ancestors if a.indent < row.indent]
        need = lines_of([row.label, *row.texts], widths_inches)
        if used and used + need > budget:
            pages.append([])
            used = 0
            for a in ancestors:
                cont = Row(a.label + CONTINUED, a.indent, a.is_header, [""] * len(a.texts))
                pages[-1].append(cont)
                used += lines_of([cont.label], widths_inches)
        pages[-1].append(row)
        used += need
        ancestors.append(row)
    return pages
