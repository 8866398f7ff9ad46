"""``def:WhereClauseDef`` elements (Define-XML 2.1 section 5.3.7): the records a value-level item
or an analysis result applies to, as ``RangeCheck`` elements that must all hold. Used by the define's
value-level metadata (:mod:`define.writer`) and its Analysis Results Metadata (:mod:`define.arm`)."""
from __future__ import annotations

from lxml import etree

from define import _xml as X


def where_clause_element(oid: str, checks, *, comment: str | None = None) -> etree._Element:
    """A ``def:WhereClauseDef``: one ``RangeCheck`` (``SoftHard="Soft"``, ``def:ItemOID``
    ``IT.<dataset>.<variable>``, one ``CheckValue`` per value) per ``(dataset, variable,
    comparator, values)`` of ``checks``, with ``def:CommentOID`` when ``comment`` is given."""
    el = etree.Element(X.d("WhereClauseDef"), OID=oid)
    if comment:
        el.set(X.d("CommentOID"), comment)
    for dataset, variable, comparator, values in checks:
        rc = etree.SubElement(el, X.odm("RangeCheck"), Comparator=comparator, SoftHard="Soft")
        rc.set(X.d("ItemOID"), f"IT.{dataset}.{variable}")
        for value in values:
            etree.SubElement(rc, X.odm("CheckValue")).text = value
    return el
