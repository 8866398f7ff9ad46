"""Namespaces, the safe XML parser and the official Define-XML schemas: 2.1 as shipped in
``defineutils``, 2.0 as shipped in ``odmlib``.

Every define is parsed with ``resolve_entities=False, no_network=True, load_dtd=False``
and a file that declares a DOCTYPE is refused before anything in it is used: a define
needs no DTD, and an entity (``<!ENTITY x SYSTEM "file:///etc/passwd">``) must never be
read. The XSDs are the official CDISC schemas: Define-XML 2.1 as ``defineutils`` ships them,
Define-XML 2.0 (``define2-0-0.xsd``, with its ODM 1.3.2 foundation) as ``odmlib`` ships them
(neither package is imported: only its schema files are read). Their imports (ODM 1.3.2
foundation, xml.xsd, xlink.xsd, xmldsig) are relative paths inside the package's schema
folder, and a resolver refuses any other location, so validation never touches the network.
"""
from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

from lxml import etree

ODM = "http://www.cdisc.org/ns/odm/v1.3"
DEF = "http://www.cdisc.org/ns/def/v2.1"
DEF20 = "http://www.cdisc.org/ns/def/v2.0"
XLINK = "http://www.w3.org/1999/xlink"
XML = "http://www.w3.org/XML/1998/namespace"
NSMAP = {None: ODM, "def": DEF, "xlink": XLINK}
PREFIXES = {ODM: "", DEF: "def:", DEF20: "def:", XLINK: "xlink:", XML: "xml:"}


def odm(tag: str) -> str:
    return f"{{{ODM}}}{tag}"


def d(tag: str, ns: str = DEF) -> str:
    return f"{{{ns}}}{tag}"


def short(name: str) -> str:
    """``{ns}Tag`` -> ``def:Tag`` / ``Tag`` (for messages)."""
    if name.startswith("{"):
        ns, local = name[1:].split("}", 1)
        return PREFIXES.get(ns, f"{{{ns}}}") + local
    return name


def pretty_message(message: str) -> str:
    """A libxml2 message with namespace URIs replaced by the usual prefixes."""
    for ns, prefix in PREFIXES.items():
        message = message.replace(f"{{{ns}}}", prefix)
    return message


def safe_parser() -> etree.XMLParser:
    """An lxml parser that never resolves entities, loads a DTD or reaches the network."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                           dtd_validation=False, huge_tree=False, remove_blank_text=False)


class UnsafeXML(Exception):
    """The document declares a DOCTYPE (and possibly entities); it is not used."""


def parse_bytes(data: bytes, base_url: str | None = None) -> etree._ElementTree:
    """Parse ``data`` safely; raise :class:`UnsafeXML` if it declares a DOCTYPE.

    ``etree.XMLSyntaxError`` propagates for text that is not well-formed XML.
    """
    tree = etree.fromstring(data, safe_parser(), base_url=base_url).getroottree()
    info = tree.docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        entities = _declared_entities(info)
        detail = f" declaring entities {', '.join(entities)}" if entities else ""
        raise UnsafeXML(f"the document has a DOCTYPE{detail}; Define-XML uses no DTD or entities, "
                        "so the file is refused (no entity was resolved and nothing it references was read)")
    return tree


def _declared_entities(info) -> list[str]:
    dtd = info.internalDTD
    if dtd is None:
        return []
    return sorted(str(e.name) for e in dtd.iterentities())


def schema_folder() -> Path:
    """The folder of the official schemas inside the installed ``defineutils`` package."""
    return defineutils_folder() / "validate" / "schema"


class _LocalOnly(etree.Resolver):
    """Resolve schema imports inside the schema folder only."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root.resolve()

    def resolve(self, system_url, public_id, context):
        if system_url and "://" in system_url and not system_url.startswith("file:"):
            raise etree.XMLSchemaParseError(f"schema import {system_url} is not local; refused")
        path = Path(system_url.removeprefix("file://")).resolve() if system_url else None
        if path is not None and self.root not in path.parents:
            raise etree.XMLSchemaParseError(f"schema import {system_url} is outside {self.root}; refused")
        return None  # local file inside the folder: let libxml2 read it


def define20_schema_folder() -> Path:
    """The folder of the official schemas inside the installed ``odmlib`` package."""
    return package_folder("odmlib") / "schemas"


def _load_schema(root: Path, path: Path) -> etree.XMLSchema:
    parser = safe_parser()
    parser.resolvers.add(_LocalOnly(root))
    return etree.XMLSchema(etree.parse(str(path), parser))


@functools.lru_cache(maxsize=1)
def define_schema() -> etree.XMLSchema:
    """The Define-XML 2.1 schema (``define2-1-0.xsd``), loaded once."""
    root = schema_folder()
    return _load_schema(root, root / "cdisc-define-2.1" / "define2-1-0.xsd")


@functools.lru_cache(maxsize=1)
def define20_schema() -> etree.XMLSchema:
    """The Define-XML 2.0 schema (``define2-0-0.xsd``, redefining ODM 1.3.2), loaded once."""
    root = define20_schema_folder()
    return _load_schema(root, root / "define" / "2.0" / "define2-0-0.xsd")


def schema_for(ns: str) -> etree.XMLSchema:
    """The official schema of a define in the def namespace ``ns`` (2.1 or 2.0)."""
    return define20_schema() if ns == DEF20 else define_schema()


def stylesheet_path() -> Path:
    """CDISC's ``define2-1.xsl`` as shipped in ``defineutils`` (MIT, Lex Jansen)."""
    return defineutils_folder() / "definehtml" / "define2-1.xsl"


def defineutils_folder() -> Path:
    """The installed ``defineutils`` package folder, found without importing it (its
    ``__init__`` imports xmlschema, which trialpack does not need)."""
    return package_folder("defineutils")


@functools.lru_cache(maxsize=None)
def package_folder(name: str) -> Path:
    """An installed package's folder, found without importing the package."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"{name} is not installed (pip install {name})")
    return Path(next(iter(spec.submodule_search_locations)))
