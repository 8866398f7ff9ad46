"""A parsed define.xml with its definitions indexed by OID (any Define-XML 2.x namespace).

Used by the business rules (:mod:`define.validate`) and the cross-checks
(:mod:`define.crosscheck`), so a define written by anyone is read the same way.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from define import _xml as X
from specs.errors import InputError


@dataclass
class DefineDoc:
    """Definitions of one MetaDataVersion, by OID, in document order."""

    tree: etree._ElementTree
    ns: str                      # the def: namespace (2.1 or 2.0)
    file: str | None = None
    groups: dict[str, etree._Element] = field(default_factory=dict)       # ItemGroupDef by OID
    items: dict[str, etree._Element] = field(default_factory=dict)        # ItemDef by OID
    codelists: dict[str, etree._Element] = field(default_factory=dict)
    methods: dict[str, etree._Element] = field(default_factory=dict)
    comments: dict[str, etree._Element] = field(default_factory=dict)
    value_lists: dict[str, etree._Element] = field(default_factory=dict)
    where_clauses: dict[str, etree._Element] = field(default_factory=dict)
    standards: dict[str, etree._Element] = field(default_factory=dict)
    leaves: dict[str, etree._Element] = field(default_factory=dict)
    duplicates: list[tuple[str, etree._Element]] = field(default_factory=list)

    @property
    def root(self) -> etree._Element:
        return self.tree.getroot()

    def d(self, tag: str) -> str:
        return X.d(tag, self.ns)

    def attr(self, el: etree._Element, name: str) -> str | None:
        """An attribute: plain names as they are, ``def:X`` in this document's def namespace."""
        if name.startswith("def:"):
            return el.get(self.d(name[4:]))
        if name.startswith("xlink:"):
            return el.get(f"{{{X.XLINK}}}{name[6:]}")
        return el.get(name)

    def context(self) -> str | None:
        return self.attr(self.root, "def:Context")

    def description(self, el: etree._Element) -> str | None:
        text = el.find(f"{X.odm('Description')}/{X.odm('TranslatedText')}")
        return None if text is None else (text.text or "")

    def group_by_name(self) -> dict[str, etree._Element]:
        return {(g.get("Name") or "").upper(): g for g in self.groups.values()}


def read_define(source: str | os.PathLike | bytes | etree._ElementTree | DefineDoc) -> DefineDoc:
    """Parse (safely) and index a Define-XML 2.0 or 2.1 document.

    Raises :class:`specs.errors.InputError` for a missing or unreadable file, text that is
    not XML, a DOCTYPE (refused, never resolved), or an XML document that is not an ODM
    with a Define-XML namespace.
    """
    if isinstance(source, DefineDoc):
        return source
    file = None
    if isinstance(source, etree._ElementTree):
        tree = source
    else:
        if isinstance(source, bytes):
            data = source
        else:
            file = str(source)
            try:
                data = Path(source).read_bytes()
            except OSError as exc:
                raise InputError(f"cannot read the file: {exc.strerror or exc}", file=file) from None
        try:
            tree = X.parse_bytes(data)
        except etree.XMLSyntaxError as exc:
            raise InputError(f"not well-formed XML: {exc.msg}", file=file, row=exc.lineno) from None
        except X.UnsafeXML as exc:
            raise InputError(str(exc), file=file) from None
    ns = define_namespace(tree)
    if ns is None:
        raise InputError(describe_root(tree), file=file)
    return _index(DefineDoc(tree, ns, file))


def define_namespace(tree: etree._ElementTree) -> str | None:
    """The def: namespace of an ODM root (2.1 or 2.0), or None if not a define."""
    root = tree.getroot()
    if root.tag != X.odm("ODM"):
        return None
    spaces = set(root.nsmap.values())
    for ns in (X.DEF, X.DEF20):
        if ns in spaces or any(ns in (el.tag if isinstance(el.tag, str) else "") for el in root.iter()):
            return ns
    return None


def describe_root(tree: etree._ElementTree) -> str:
    """Why a document is not a Define-XML document (one sentence)."""
    root = tree.getroot()
    if root.tag != X.odm("ODM"):
        return (f"not a Define-XML document: the root element is {X.short(root.tag)}, "
                f"not ODM in the namespace {X.ODM}")
    return ("an ODM document without the Define-XML namespace (http://www.cdisc.org/ns/def/v2.1): "
            "this is ODM, not a define.xml")


_KINDS = {
    "ItemGroupDef": "groups", "ItemDef": "items", "CodeList": "codelists", "MethodDef": "methods",
}
_DEF_KINDS = {
    "CommentDef": "comments", "ValueListDef": "value_lists", "WhereClauseDef": "where_clauses",
    "Standard": "standards",
}


def _index(doc: DefineDoc) -> DefineDoc:
    mdv = doc.root.find(f"{X.odm('Study')}/{X.odm('MetaDataVersion')}")
    if mdv is None:
        return doc
    for el in mdv.iter():
        if not isinstance(el.tag, str):
            continue
        bucket = None
        for local, name in _KINDS.items():
            if el.tag == X.odm(local):
                bucket = name
        for local, name in _DEF_KINDS.items():
            if el.tag == doc.d(local):
                bucket = name
        if el.tag == doc.d("leaf"):
            key = el.get("ID")
            store = doc.leaves
        elif bucket is not None:
            key = el.get("OID")
            store = getattr(doc, bucket)
        else:
            continue
        if key is None:
            continue
        if key in store:
            doc.duplicates.append((key, el))
        else:
            store[key] = el
    return doc
