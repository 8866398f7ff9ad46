"""define.html: CDISC's ``define2-1.xsl`` (as shipped in ``defineutils``) applied with lxml.

The define is parsed safely (no entities, DTD or network; see :mod:`define._xml`) and the
transform may neither read nor write files nor reach the network.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

from lxml import etree

from define import _xml as X
from define._doc import read_define
from define.writer import write_atomically
from specs.errors import InputError


_COMPILED = threading.local()


def _transform() -> etree.XSLT:
    """The stylesheet compiled once per thread (lxml's XSLT objects are not shared between
    threads); a build renders one define.html per study and one for the ISS."""
    transform = getattr(_COMPILED, "transform", None)
    if transform is None:
        xsl = etree.parse(str(X.stylesheet_path()), X.safe_parser())
        access = etree.XSLTAccessControl(read_file=False, write_file=False, create_dir=False,
                                         read_network=False, write_network=False)
        transform = _COMPILED.transform = etree.XSLT(xsl, access_control=access)
    return transform


def render_define_html(define_path: str | os.PathLike) -> bytes:
    """The HTML view of a Define-XML 2.1 file, as bytes (deterministic)."""
    doc = read_define(define_path)
    if doc.ns != X.DEF:
        raise InputError("the define2-1.xsl stylesheet renders Define-XML 2.1 only; this define uses "
                         f"{doc.ns}", file=str(define_path))
    try:
        result = _transform()(doc.tree)
    except etree.XSLTApplyError as exc:
        raise InputError(f"the stylesheet failed on this define: {exc}", file=str(define_path)) from None
    return bytes(result)


def write_define_html(define_path: str | os.PathLike, html_path: str | os.PathLike) -> Path:
    """Write define.html for ``define_path`` (written atomically); return its path."""
    html_path = Path(html_path)
    data = render_define_html(define_path)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(html_path, data)
    return html_path
