"""fileformats.pdf: embedded fonts, searchable WinAnsi text, bookmarks, same bytes every time."""
from __future__ import annotations

import re
import zlib
from datetime import datetime, timezone

import pytest

from fileformats import pdf


def sample(created=None) -> bytes:
    doc = pdf.Document(title="Study (A) Annotated CRF", subject="test", created=created)
    one = doc.page(612, 792, bookmark="DM: Demographics")
    one.rect(50, 50, 100, 40, fill="#dce9f8", edge="#1f5fa8", linewidth=0.6, radius=2)
    one.line(50, 100, 500, 100, color="#b0b0b0", linewidth=0.4)
    one.text(60, 60, "Sex (M/F) \\ é", family="DejaVu Sans", size=10)
    two = doc.page(612, 792, bookmark="AE: Adverse Events")
    two.text(300, 700, "Page 2 of 2", family="DejaVu Sans Mono", size=9, align="right")
    return doc.to_bytes()


def test_structure_fonts_and_bookmarks():
    data = sample()
    assert data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/FontFile2 ", data)) == 2                      # only the fonts used, embedded
    assert sorted(set(re.findall(rb"/BaseFont /(\w{6})\+", data))) == [b"TPMRAA", b"TPSRAA"]  # subset tags
    assert b"/Encoding /WinAnsiEncoding" in data and b"/PageMode /UseOutlines" in data
    titles = re.findall(rb"/Title \(([^)]*)\) /Parent", data)
    assert titles == [b"DM: Demographics", b"AE: Adverse Events"]
    # the xref offsets point at the objects
    xref = int(re.search(rb"startxref\n(\d+)", data).group(1))
    first = re.search(rb"xref\n0 \d+\n0000000000 65535 f \n(\d{10})", data[xref:]).group(1)
    assert data[int(first):].startswith(b"1 0 obj")


def test_text_is_searchable_windows_1252():
    streams = [zlib.decompress(m) for m in re.findall(rb"stream\n(.*?)\nendstream", sample(), re.S)]
    contents = b"".join(s for s in streams if b" Tj " in s)
    assert rb"(Sex \(M/F\) \\ " + "é".encode("cp1252") + b") Tj" in contents
    assert b"(Page 2 of 2) Tj" in contents


def test_same_calls_same_bytes_and_creation_date_only_with_a_zone():
    assert sample() == sample()
    assert b"/CreationDate" not in sample(datetime(2026, 1, 15, 9))
    assert b"/CreationDate (D:20260115090000Z)" in sample(datetime(2026, 1, 15, 9, tzinfo=timezone.utc))


def test_text_width_from_the_font_metrics():
    font = pdf.embedded_font("DejaVu Sans Mono")
    assert font.width("abcd", 10) == 4 * font.width("a", 10) > 0     # monospaced
    assert font.width("a", 10) == pytest.approx(6.02)  # DejaVu Sans Mono: 602/1000 em per glyph
    assert set(font.widths) != {0}
    sans = pdf.embedded_font("DejaVu Sans")
    assert sans.width("i", 10) < sans.width("m", 10)  # proportional: the glyph lookup works


# -- fileformats.textdoc: flowing documents (the reviewer's guides) ---------------------------------


def test_wrap_fits_the_measured_width_and_keeps_every_word():
    from fileformats.textdoc import SANS, wrap

    font = pdf.embedded_font(SANS)
    text = "Each raw form was read from the EDC export named in the study configuration " * 3
    lines = wrap(text.strip(), 200, 9)
    assert len(lines) > 3 and all(font.width(line, 9) <= 200 for line in lines)
    assert " ".join(lines).split() == text.split()
    # a line is as full as it can be: the next word would not have fitted
    assert all(font.width(f"{a} {b.split()[0]}", 9) > 200 for a, b in zip(lines, lines[1:]))
    long = wrap("x" * 80, 60, 9)                        # a word longer than the line is cut
    assert "".join(long) == "x" * 80 and all(font.width(line, 9) <= 60 for line in long)


def test_long_table_breaks_pages_with_its_header_repeated(tmp_path):
    from fileformats.textdoc import Heading, Table, write_text_document
    from tests.test_acrf import pdf_pages

    rows = tuple((f"R{i:03d}", f"value {i}") for i in range(120))
    path = write_text_document(tmp_path / "guide.pdf", title="Guide", subtitle=["sub"], footer="Guide",
                               blocks=[Heading("1. Rows"), Table(("Key", "Value"), rows, (0.3, 0.7))],
                               created=datetime(2026, 1, 15, 9))
    pages = pdf_pages(path.read_bytes())
    assert len(pages) >= 3
    body = [line for page in pages for line in page[:-3]]             # without the footers
    assert [line for line in body if line.startswith("R")] == [r[0] for r in rows]   # each row once, in order
    for n, page in enumerate(pages, start=1):
        assert page[-3:] == ["Guide", "created 2026-01-15T09:00:00", f"Page {n} of {len(pages)}"]
        start = 3 if n == 1 else 0                                     # title, subtitle, heading first
        assert page[start:start + 2] == ["Key", "Value"]
    assert path.read_bytes() == write_text_document(
        tmp_path / "again.pdf", title="Guide", subtitle=["sub"], footer="Guide",
        blocks=[Heading("1. Rows"), Table(("Key", "Value"), rows, (0.3, 0.7))],
        created=datetime(2026, 1, 15, 9)).read_bytes()
