"""trialpack.pdf: embedded fonts, searchable WinAnsi text, bookmarks, same bytes every time."""
from __future__ import annotations

import re
import zlib
from datetime import datetime, timezone

import pytest

from trialpack import pdf


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
