"""A small, exact PDF writer for the documents trialpack generates (the annotated CRF).

Pages are drawn with rectangles (plain or rounded), rules and lines of text; fonts are the
DejaVu TrueType fonts bundled with matplotlib, **embedded** (FDA PDF specifications: embed
every font) as subsets of the Windows-1252 repertoire, so every document uses the same
subset bytes and a font is prepared once per process. Text is WinAnsi-encoded and stays
searchable; a character outside Windows-1252 prints as "?". Each page can carry a bookmark
(the FDA asks for bookmarks in submitted PDFs). The output is PDF 1.4, deterministic: the
same calls give the same bytes (no tool version, a creation date only when given with a time
zone).
"""
from __future__ import annotations

import importlib.util
import io
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

#: Font families and their files in matplotlib's mpl-data (regular, bold).
FONT_FILES = {("DejaVu Sans", False): "DejaVuSans.ttf", ("DejaVu Sans", True): "DejaVuSans-Bold.ttf",
              ("DejaVu Sans Mono", False): "DejaVuSansMono.ttf", ("DejaVu Sans Mono", True): "DejaVuSansMono-Bold.ttf"}
CODES = range(32, 256)
KAPPA = 0.5523  # Bezier control distance of a quarter circle, as a fraction of the radius


def _char(code: int) -> str | None:
    try:
        return bytes([code]).decode("cp1252")
    except UnicodeDecodeError:
        return None


@dataclass(frozen=True)
class EmbeddedFont:
    """A TrueType subset ready to embed: its bytes, PostScript name, metrics and widths."""

    name: str
    data: bytes
    widths: tuple[int, ...]  # per code 32..255, in 1/1000 em
    bbox: tuple[int, int, int, int]
    ascent: int
    descent: int
    cap_height: int

    def width(self, text: str, size: float) -> float:
        encoded = encode(text)
        return sum(self.widths[b - 32] if b >= 32 else 0 for b in encoded) * size / 1000.0


def font_folder() -> Path:
    """matplotlib's bundled TrueType fonts (the source of the shipped subsets)."""
    spec = importlib.util.find_spec("matplotlib")
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"


#: The Windows-1252 subsets, made by ``tools/build_pdf_fonts.py`` (DejaVu fonts, Bitstream Vera
#: licence: LICENSE_DEJAVU beside them) so that no document build subsets a font again.
SUBSET_FOLDER = Path(__file__).parent / "data" / "fonts"


def subset_file(family: str, bold: bool) -> Path:
    return SUBSET_FOLDER / FONT_FILES[(family, bold)].replace(".ttf", "-cp1252.ttf")


def make_subset(family: str, bold: bool = False) -> bytes:
    """The Windows-1252 subset of a bundled DejaVu font (no hinting, timestamps kept: the
    same input gives the same bytes)."""
    import logging

    from fontTools import subset
    from fontTools.ttLib import TTFont

    logging.getLogger("fontTools").setLevel(logging.ERROR)  # "FFTM NOT subset": a table we do not need
    font = TTFont(str(font_folder() / FONT_FILES[(family, bold)]), recalcTimestamp=False)
    options = subset.Options()
    options.recalc_timestamp = False
    options.hinting = False
    options.notdef_outline = True
    options.name_IDs = ["*"]
    options.layout_features = []
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in (_char(code) for code in CODES) if c])
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()


@lru_cache(maxsize=None)
def embedded_font(family: str, bold: bool = False) -> EmbeddedFont:
    """A shipped font subset with its metrics (read once per process)."""
    from fontTools.ttLib import TTFont

    shipped = subset_file(family, bold)
    data = shipped.read_bytes() if shipped.is_file() else make_subset(family, bold)
    font = TTFont(io.BytesIO(data))
    scale = 1000.0 / font["head"].unitsPerEm
    cmap = font.getBestCmap()
    hmtx = font["hmtx"]
    widths = []
    for code in CODES:
        char = _char(code)
        glyph = cmap.get(ord(char)) if char else None
        widths.append(round(hmtx[glyph][0] * scale) if glyph else round(hmtx[".notdef"][0] * scale))
    head, hhea = font["head"], font["hhea"]
    cap = getattr(font["OS/2"], "sCapHeight", 0) or hhea.ascent
    postscript = font["name"].getDebugName(6) or FONT_FILES[(family, bold)][:-4]
    tag = "TP" + ("M" if "Mono" in family else "S") + ("B" if bold else "R") + "AA"  # six letters: a subset
    return EmbeddedFont(name=f"{tag}+{postscript}", data=data, widths=tuple(widths),
                        bbox=tuple(round(v * scale) for v in (head.xMin, head.yMin, head.xMax, head.yMax)),
                        ascent=round(hhea.ascent * scale), descent=round(hhea.descent * scale),
                        cap_height=round(cap * scale))


def encode(text: str) -> bytes:
    return text.encode("cp1252", errors="replace")


def _literal(data: bytes) -> bytes:
    return b"(" + data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)").replace(
        b"\r", b"\\r").replace(b"\n", b"\\n") + b")"


def _text_string(text: str) -> bytes:
    """A document-information or bookmark string: PDFDocEncoding where it fits, else UTF-16BE."""
    try:
        return _literal(text.encode("latin-1"))
    except UnicodeEncodeError:
        return _literal(b"\xfe\xff" + text.encode("utf-16-be"))


def _rgb(color: str) -> tuple[float, float, float]:
    color = color.lstrip("#")
    return tuple(int(color[i:i + 2], 16) / 255.0 for i in (0, 2, 4))  # type: ignore[return-value]


def _num(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass
class Page:
    """One page's drawing operations (PDF user space: points, origin bottom left)."""

    width: float
    height: float
    bookmark: str | None = None
    ops: list[str] = field(default_factory=list)
    fonts: set[tuple[str, bool]] = field(default_factory=set)

    def rect(self, x: float, y: float, w: float, h: float, *, fill: str | None = None, edge: str | None = None,
             linewidth: float = 0.0, radius: float = 0.0) -> None:
        if fill is None and edge is None:
            return
        self.ops.append("q")
        if fill:
            self.ops.append("{} {} {} rg".format(*map(_num, _rgb(fill))))
        if edge:
            self.ops.append("{} {} {} RG {} w".format(*map(_num, _rgb(edge)), _num(linewidth)))
        self.ops.append(self._rounded(x, y, w, h, radius) if radius else f"{_num(x)} {_num(y)} {_num(w)} {_num(h)} re")
        self.ops.append("B" if fill and edge else ("f" if fill else "S"))
        self.ops.append("Q")

    @staticmethod
    def _rounded(x: float, y: float, w: float, h: float, r: float) -> str:
        r = min(r, w / 2, h / 2)
        k = r * KAPPA
        pts = [f"{_num(x + r)} {_num(y)} m", f"{_num(x + w - r)} {_num(y)} l",
               f"{_num(x + w - r + k)} {_num(y)} {_num(x + w)} {_num(y + r - k)} {_num(x + w)} {_num(y + r)} c",
               f"{_num(x + w)} {_num(y + h - r)} l",
               f"{_num(x + w)} {_num(y + h - r + k)} {_num(x + w - r + k)} {_num(y + h)} {_num(x + w - r)} {_num(y + h)} c",
               f"{_num(x + r)} {_num(y + h)} l",
               f"{_num(x + r - k)} {_num(y + h)} {_num(x)} {_num(y + h - r + k)} {_num(x)} {_num(y + h - r)} c",
               f"{_num(x)} {_num(y + r)} l",
               f"{_num(x)} {_num(y + r - k)} {_num(x + r - k)} {_num(y)} {_num(x + r)} {_num(y)} c", "h"]
        return " ".join(pts)

    def line(self, x0: float, y0: float, x1: float, y1: float, *, color: str, linewidth: float) -> None:
        self.ops.append("q {} {} {} RG {} w {} {} m {} {} l S Q".format(
            *map(_num, _rgb(color)), _num(linewidth), _num(x0), _num(y0), _num(x1), _num(y1)))

    def text(self, x: float, y: float, text: str, *, family: str, size: float, bold: bool = False,
             color: str = "#000000", align: str = "left") -> None:
        """One line of text with its baseline at ``y``; ``align`` left, right or center at ``x``."""
        font = embedded_font(family, bold)
        if align != "left":
            width = font.width(text, size)
            x -= width if align == "right" else width / 2
        self.fonts.add((family, bold))
        resource = _resource_name(family, bold)
        self.ops.append("BT {} {} {} rg /{} {} Tf {} {} Td {} Tj ET".format(
            *map(_num, _rgb(color)), resource, _num(size), _num(x), _num(y),
            _literal(encode(text)).decode("latin-1")))


def _resource_name(family: str, bold: bool) -> str:
    return ("FM" if "Mono" in family else "FS") + ("B" if bold else "R")


class _Objects:
    """Numbered PDF objects: added in order, or reserved first and filled in later."""

    def __init__(self) -> None:
        self.bodies: list[bytes | None] = []

    def reserve(self) -> int:
        self.bodies.append(None)
        return len(self.bodies)

    def add(self, body: bytes) -> int:
        number = self.reserve()
        self.set(number, body)
        return number

    def set(self, number: int, body: bytes) -> None:
        self.bodies[number - 1] = body

    def stream(self, data: bytes, extra: str = "") -> int:
        packed = zlib.compress(data, 6)
        return self.add(f"<< /Length {len(packed)} /Filter /FlateDecode{extra} >>\nstream\n".encode()
                        + packed + b"\nendstream")


class Document:
    """Pages in order, saved as one PDF."""

    def __init__(self, *, title: str, subject: str = "", creator: str = "trialpack",
                 created: datetime | None = None) -> None:
        self.title, self.subject, self.creator, self.created = title, subject, creator, created
        self.pages: list[Page] = []

    def page(self, width: float, height: float, *, bookmark: str | None = None) -> Page:
        page = Page(width, height, bookmark)
        self.pages.append(page)
        return page

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_bytes(self.to_bytes())
        return path

    def to_bytes(self) -> bytes:
        objs = _Objects()
        used = sorted({f for p in self.pages for f in p.fonts})
        font_refs = {f: self._font(f, objs) for f in used}
        pages_id = objs.reserve()
        page_ids = []
        for page in self.pages:
            content = objs.stream("\n".join(page.ops).encode("latin-1"))
            resources = " ".join(f"/{_resource_name(*f)} {font_refs[f]} 0 R" for f in sorted(page.fonts))
            page_ids.append(objs.add(f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [0 0 {_num(page.width)} "
                                     f"{_num(page.height)}] /Resources << /Font << {resources} >> >> "
                                     f"/Contents {content} 0 R >>".encode()))
        objs.set(pages_id, f"<< /Type /Pages /Kids [{' '.join(f'{i} 0 R' for i in page_ids)}] "
                           f"/Count {len(page_ids)} >>".encode())
        outlines = self._outlines(page_ids, objs)
        catalog = objs.add(f"<< /Type /Catalog /Pages {pages_id} 0 R".encode()
                           + (f" /Outlines {outlines} 0 R /PageMode /UseOutlines".encode() if outlines else b"")
                           + b" >>")
        info = objs.add(self._info())
        out = io.BytesIO()
        out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(objs.bodies, start=1):
            offsets.append(out.tell())
            out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
        xref = out.tell()
        out.write(f"xref\n0 {len(offsets) + 1}\n0000000000 65535 f \n".encode())
        out.write(b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets))
        out.write(f"trailer\n<< /Size {len(offsets) + 1} /Root {catalog} 0 R /Info {info} 0 R >>\n"
                  f"startxref\n{xref}\n%%EOF\n".encode())
        return out.getvalue()

    @staticmethod
    def _font(key: tuple[str, bool], objs: _Objects) -> int:
        font = embedded_font(*key)
        file_id = objs.stream(font.data, f" /Length1 {len(font.data)}")
        descriptor = objs.add((f"<< /Type /FontDescriptor /FontName /{font.name} /Flags 32 /FontBBox "
                               f"[{' '.join(map(str, font.bbox))}] /ItalicAngle 0 /Ascent {font.ascent} "
                               f"/Descent {font.descent} /CapHeight {font.cap_height} /StemV {120 if key[1] else 80} "
                               f"/FontFile2 {file_id} 0 R >>").encode())
        return objs.add((f"<< /Type /Font /Subtype /TrueType /BaseFont /{font.name} /FirstChar 32 /LastChar 255 "
                         f"/Widths [{' '.join(map(str, font.widths))}] /Encoding /WinAnsiEncoding "
                         f"/FontDescriptor {descriptor} 0 R >>").encode())

    def _outlines(self, page_ids: list[int], objs: _Objects) -> int | None:
        """One bookmark per page that has one, each opening its page."""
        marks = [(p.bookmark, pid) for p, pid in zip(self.pages, page_ids) if p.bookmark]
        if not marks:
            return None
        root = objs.reserve()
        items = [objs.reserve() for _ in marks]
        for i, ((title, pid), item) in enumerate(zip(marks, items)):
            links = f"/Parent {root} 0 R"
            if i > 0:
                links += f" /Prev {items[i - 1]} 0 R"
            if i < len(items) - 1:
                links += f" /Next {items[i + 1]} 0 R"
            objs.set(item, b"<< /Title " + _text_string(title) + f" {links} /Dest [{pid} 0 R /Fit] >>".encode())
        objs.set(root, f"<< /Type /Outlines /First {items[0]} 0 R /Last {items[-1]} 0 R /Count {len(items)} >>"
                 .encode())
        return root

    def _info(self) -> bytes:
        parts = [b"/Title " + _text_string(self.title), b"/Creator " + _text_string(self.creator)]
        if self.subject:
            parts.append(b"/Subject " + _text_string(self.subject))
        if self.created is not None and self.created.tzinfo is not None:
            stamp = self.created.astimezone(timezone.utc).strftime("D:%Y%m%d%H%M%SZ")
            parts.append(f"/CreationDate ({stamp})".encode())
        return b"<< " + b" ".join(parts) + b" >>"
