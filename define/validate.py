"""Validate a define.xml: safe parsing, the official Define-XML XSD, and the spec's business rules.

:func:`validate_define` works on any define, ours or not, Define-XML 2.1 or 2.0, and returns
findings (rule ids in :data:`specs.findings.RULES`, ``row`` = line in the file). In order:

1. The file is read and parsed without resolving entities, loading a DTD or using the
   network; text that is not XML is DD0001, a DOCTYPE is refused (DD0002), an XML
   document that is not a Define-XML ODM (an ODM without a def namespace, another root)
   is DD0003 — one finding each, nothing else is checked.
2. XSD validation against the official schema of the define's version: Define-XML 2.1
   (``define2-1-0.xsd``) or 2.0 (``define2-0-0.xsd``); a 2.1 define with Analysis Results
   Metadata (``arm:AnalysisResultDisplays``) against the ARM 1.0 schema, which includes 2.1's
   (:func:`define.arm.arm_schema`) — DD0004, one per error, ``row`` its line; namespace URIs
   shown as ``def:``/``xlink:`` prefixes.
3. Business rules of Define-XML 2.1 section 4.9 and 5 that the XSD cannot express (on a
   2.0 define, those 2.0 shares: the submission-context rules — DD0013, DD0018, DD0021,
   DD0022, DD0023 and a missing key — are keyed on 2.1's ``def:Context``, which 2.0 does not have):
   references resolve (DD0010) and definitions are used (DD0011); OIDs unique (DD0012);
   submission-context requirements (DD0013); dataset keys (DD0014); OrderNumber all or
   none (DD0015); Length/SignificantDigits by DataType (DD0016); Derived origin has a
   method (DD0017); every variable has an origin (DD0018); HasNoData has a comment
   (DD0019); value-level Length within the variable's (DD0020); CDISC codelists carry
   NCI C-codes (DD0021); collected CRF data cite aCRF pages (DD0022) — a variable with no
   data citing none is not collected, and is declared so (origin Assigned by the Sponsor and a
   comment, SDTMIG 3.4 §4.1.5: DD0023, instead of DD0022).
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from lxml import etree

from define import _xml as X
from define._doc import DefineDoc, _index, define_namespace, describe_root
from specs import findings
from specs.errors import InputError

LENGTH_TYPES = frozenset({"text", "integer", "float"})


def _finding(rule: str, message: str, *, file: str | None, el: etree._Element | None = None,
             line: int | None = None, dataset: str | None = None, variable: str | None = None,
             value: str | None = None) -> pd.DataFrame:
    line = line if line is not None else (el.sourceline if el is not None else None)
    rows = None if line is None else [line]
    return findings.make(rule, dataset, variable, rows=rows, values=None if value is None else [value],
                         message=message, file=file)


def validate_define(path: str | os.PathLike) -> pd.DataFrame:
    """Findings of a define.xml file: unreadable/unsafe/not 2.1, schema errors, business rules.

    A missing or unreadable file raises :class:`specs.errors.InputError`.
    """
    file = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", file=file) from None
    try:
        tree = X.parse_bytes(data)
    except etree.XMLSyntaxError as exc:
        return _finding("DD0001", f"not well-formed XML: {exc.msg}", file=file, line=exc.lineno)
    except X.UnsafeXML as exc:
        return _finding("DD0002", str(exc), file=file, line=1)
    ns = define_namespace(tree)
    if ns is None:
        return _finding("DD0003", describe_root(tree), file=file, el=tree.getroot())
    out = [schema_findings(tree, file, ns)]
    out.append(business_rules(_index(DefineDoc(tree, ns, file))))
    return findings.concat(out)


def schema_findings(tree: etree._ElementTree, file: str | None, ns: str = X.DEF) -> pd.DataFrame:
    """One DD0004 finding per XSD error of the Define-XML ``ns`` version's schema; the line is
    the finding's ``row`` (the message is libxml2's, with prefixes for namespace URIs)."""
    from define.arm import ARM, arm_schema

    schema = X.schema_for(ns)
    if ns == X.DEF and tree.getroot().find(f".//{{{ARM}}}AnalysisResultDisplays") is not None:
        schema = arm_schema()   # Define-XML 2.1 with Analysis Results Metadata: the ARM 1.0 schema
    if schema.validate(tree):
        return findings.empty()
    version = "2.0" if ns == X.DEF20 else "2.1"
    return findings.concat(
        _finding("DD0004", f"Define-XML {version} schema: {X.pretty_message(e.message)}", file=file, line=e.line)
        for e in schema.error_log
    )


# -- business rules ----------------------------------------------------------------------------


def business_rules(doc: DefineDoc) -> pd.DataFrame:
    """Define-XML 2.1 rules beyond the schema (see the module docstring)."""
    return findings.concat([
        _unique_oids(doc), _references(doc), _unused(doc), _submission(doc), _keys(doc),
        _order_numbers(doc), _lengths(doc), _origins(doc), _no_data_comments(doc),
        _value_level_lengths(doc), _codelist_codes(doc),
    ])


def _group_refs(doc: DefineDoc):
    """(ItemGroupDef, ItemRef) pairs in document order."""
    for group in doc.groups.values():
        for ref in group.findall(X.odm("ItemRef")):
            yield group, ref


def _value_refs(doc: DefineDoc):
    for vl in doc.value_lists.values():
        for ref in vl.findall(X.odm("ItemRef")):
            yield vl, ref


def _unique_oids(doc: DefineDoc) -> pd.DataFrame:
    out = [_finding("DD0012", f"{X.short(el.tag)} OID/ID {key!r} is defined more than once", file=doc.file,
                    el=el, value=key) for key, el in doc.duplicates]
    seen: dict[str, etree._Element] = {}
    for group in doc.groups.values():
        name = (group.get("Name") or "").upper()
        if name in seen:
            out.append(_finding("DD0012", f"two ItemGroupDefs are named {name}", file=doc.file, el=group,
                                dataset=name))
        seen[name] = group
    return findings.concat(out)


def _reference_sites(doc: DefineDoc):
    """Every reference in the document: (element, attribute shown, target OID, target index)."""
    root = doc.root
    idx = {"ItemDef": doc.items, "CodeList": doc.codelists, "MethodDef": doc.methods,
           "def:CommentDef": doc.comments, "def:ValueListDef": doc.value_lists,
           "def:WhereClauseDef": doc.where_clauses, "def:Standard": doc.standards, "def:leaf": doc.leaves}
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        tag = X.short(el.tag)
        if tag == "ItemRef":
            yield el, "ItemOID", el.get("ItemOID"), "ItemDef", idx["ItemDef"]
            if el.get("MethodOID"):
                yield el, "MethodOID", el.get("MethodOID"), "MethodDef", idx["MethodDef"]
        elif tag == "CodeListRef":
            yield el, "CodeListOID", el.get("CodeListOID"), "CodeList", idx["CodeList"]
        elif tag == "def:ValueListRef":
            yield el, "ValueListOID", el.get("ValueListOID"), "def:ValueListDef", idx["def:ValueListDef"]
        elif tag == "def:WhereClauseRef":
            yield el, "WhereClauseOID", el.get("WhereClauseOID"), "def:WhereClauseDef", idx["def:WhereClauseDef"]
        elif tag == "RangeCheck":
            yield el, "def:ItemOID", doc.attr(el, "def:ItemOID"), "ItemDef", idx["ItemDef"]
        elif tag == "def:DocumentRef":
            yield el, "leafID", el.get("leafID"), "def:leaf", idx["def:leaf"]
        if doc.attr(el, "def:CommentOID"):
            yield el, "def:CommentOID", doc.attr(el, "def:CommentOID"), "def:CommentDef", idx["def:CommentDef"]
        if doc.attr(el, "def:StandardOID"):
            yield el, "def:StandardOID", doc.attr(el, "def:StandardOID"), "def:Standard", idx["def:Standard"]
        if tag == "ItemGroupDef" and doc.attr(el, "def:ArchiveLocationID"):
            yield el, "def:ArchiveLocationID", doc.attr(el, "def:ArchiveLocationID"), "def:leaf", idx["def:leaf"]


def _where(doc: DefineDoc, el: etree._Element) -> tuple[str | None, str | None]:
    """(dataset, variable) an element belongs to, for findings."""
    node = el
    while node is not None:
        tag = X.short(node.tag) if isinstance(node.tag, str) else ""
        if tag == "ItemGroupDef":
            item = doc.items.get(el.get("ItemOID") or "")
            return node.get("Name"), None if item is None else item.get("Name")
        if tag == "ItemDef":
            return None, node.get("Name")
        node = node.getparent()
    return None, None


def _references(doc: DefineDoc) -> pd.DataFrame:
    out = []
    for el, attr, target, kind, index in _reference_sites(doc):
        if target is None or target in index:
            continue
        dataset, variable = _where(doc, el)
        out.append(_finding("DD0010", f"{X.short(el.tag)}/@{attr} {target!r} refers to no {kind}",
                            file=doc.file, el=el, dataset=dataset, variable=variable, value=target))
    return findings.concat(out)


def _unused(doc: DefineDoc) -> pd.DataFrame:
    used: set[tuple[str, str]] = set()
    for _el, _attr, target, kind, _index in _reference_sites(doc):
        used.add((kind, target))
    unused = []   # (kind, OID, element): one frame for all (a trimmed define can have thousands)
    for kind, index in (("ItemDef", doc.items), ("CodeList", doc.codelists), ("MethodDef", doc.methods),
                        ("def:CommentDef", doc.comments), ("def:ValueListDef", doc.value_lists),
                        ("def:WhereClauseDef", doc.where_clauses), ("def:Standard", doc.standards)):
        unused += [(kind, oid, el) for oid, el in index.items() if (kind, oid) not in used]
    for leaf_id, el in doc.leaves.items():
        parent = el.getparent()
        if parent is not None and parent.tag == X.odm("ItemGroupDef"):
            continue  # dataset leaves are located by their ItemGroupDef
        if ("def:leaf", leaf_id) not in used:
            unused.append(("def:leaf", leaf_id, el))
    if not unused:
        return findings.empty()
    return findings.make("DD0011", None, None, rows=[el.sourceline or 0 for _, _, el in unused],
                         values=[oid for _, oid, _ in unused], file=doc.file,
                         message=[f"{kind} {oid!r} is defined but never referenced" for kind, oid, _ in unused])


def _submission(doc: DefineDoc) -> pd.DataFrame:
    if doc.context() != "Submission":
        return findings.empty()
    out = []
    mdv = doc.root.find(f"{X.odm('Study')}/{X.odm('MetaDataVersion')}")
    if mdv is not None and mdv.find(doc.d("Standards")) is None:
        out.append(_finding("DD0013", "def:Standards is required when def:Context=\"Submission\"",
                            file=doc.file, el=mdv))
    for group in doc.groups.values():
        name = group.get("Name")
        missing = []
        if not group.get("SASDatasetName"):
            missing.append("SASDatasetName")
        if group.get("Purpose") == "Tabulation" and not group.get("Domain") and name not in ("RELREC", "POOLDEF"):
            missing.append("Domain")
        if doc.description(group) is None:
            missing.append("Description")
        if group.find(doc.d("Class")) is None:
            missing.append("def:Class")
        if doc.attr(group, "def:HasNoData") != "Yes" and not doc.attr(group, "def:ArchiveLocationID"):
            missing.append("def:ArchiveLocationID")
        if not doc.attr(group, "def:StandardOID") and doc.attr(group, "def:IsNonStandard") != "Yes":
            missing.append("def:StandardOID or def:IsNonStandard")
        if missing:
            out.append(_finding("DD0013", f"ItemGroupDef {name} lacks {', '.join(missing)} (required in a "
                                          "submission)", file=doc.file, el=group, dataset=name))
    for group, ref in _group_refs(doc):
        item = doc.items.get(ref.get("ItemOID") or "")
        if item is None:
            continue
        missing = [a for a, ok in (("SASFieldName", item.get("SASFieldName")),
                                   ("Description", doc.description(item) is not None)) if not ok]
        if missing:
            out.append(_finding("DD0013", f"ItemDef {item.get('OID')} lacks {', '.join(missing)} (required in "
                                          "a submission)", file=doc.file, el=item, dataset=group.get("Name"),
                                variable=item.get("Name")))
    return findings.concat(out)


def _keys(doc: DefineDoc) -> pd.DataFrame:
    out = []
    for group in doc.groups.values():
        name = group.get("Name")
        seqs = [ref.get("KeySequence") for ref in group.findall(X.odm("ItemRef")) if ref.get("KeySequence")]
        if not seqs:
            if doc.context() == "Submission":
                out.append(_finding("DD0014", f"{name} has no key variable (no ItemRef has KeySequence); a "
                                              "submission needs a key for every dataset", file=doc.file,
                                    el=group, dataset=name))
            continue
        numbers = sorted(int(s) for s in seqs)
        if numbers != list(range(1, len(numbers) + 1)):
            out.append(_finding("DD0014", f"{name}: KeySequence values {numbers} are not 1..{len(numbers)}, "
                                          "each once", file=doc.file, el=group, dataset=name))
    return findings.concat(out)


def _order_numbers(doc: DefineDoc) -> pd.DataFrame:
    out = []
    parents = list(doc.groups.values()) + list(doc.value_lists.values())
    for parent in parents:
        refs = parent.findall(X.odm("ItemRef"))
        numbers = [r.get("OrderNumber") for r in refs]
        given = [n for n in numbers if n is not None]
        label = parent.get("Name") or parent.get("OID")
        if given and len(given) != len(numbers):
            out.append(_finding("DD0015", f"{label}: OrderNumber is given on {len(given)} of {len(numbers)} "
                                          "ItemRefs; use it on all or none", file=doc.file, el=parent))
        elif len(set(given)) != len(given):
            out.append(_finding("DD0015", f"{label}: OrderNumber values repeat", file=doc.file, el=parent))
    return findings.concat(out)


def _lengths(doc: DefineDoc) -> pd.DataFrame:
    out = []
    for oid, item in doc.items.items():
        data_type, length = item.get("DataType"), item.get("Length")
        name = item.get("Name")
        if data_type in LENGTH_TYPES and length is None:
            out.append(_finding("DD0016", f"ItemDef {oid} is {data_type} and needs a Length", file=doc.file,
                                el=item, variable=name))
        elif data_type not in LENGTH_TYPES and length is not None:
            out.append(_finding("DD0016", f"ItemDef {oid} is {data_type}; Length is only for text, integer "
                                          "and float", file=doc.file, el=item, variable=name))
        if data_type == "float" and item.get("SignificantDigits") is None:
            out.append(_finding("DD0016", f"ItemDef {oid} is float and needs SignificantDigits", file=doc.file,
                                el=item, variable=name))
    return findings.concat(out)


def _origin(doc: DefineDoc, item: etree._Element) -> etree._Element | None:
    return item.find(doc.d("Origin"))


def _origins(doc: DefineDoc) -> pd.DataFrame:
    out = []
    acrf = doc.root.find(f".//{doc.d('AnnotatedCRF')}") is not None
    for parent, ref in list(_group_refs(doc)) + list(_value_refs(doc)):
        item = doc.items.get(ref.get("ItemOID") or "")
        if item is None:
            continue
        origin = _origin(doc, item)
        dataset = parent.get("Name") if parent.tag == X.odm("ItemGroupDef") else None
        if origin is None:
            vl = item.find(doc.d("ValueListRef"))
            no_data = "Yes" in (doc.attr(ref, "def:HasNoData"), doc.attr(parent, "def:HasNoData"))
            if (doc.context() == "Submission" and vl is None and not no_data
                    and parent.tag == X.odm("ItemGroupDef")):
                out.append(_finding("DD0018", f"ItemDef {item.get('OID')} has no def:Origin (at variable or "
                                              "value level)", file=doc.file, el=item, dataset=dataset,
                                    variable=item.get("Name")))
            continue
        kind, source = origin.get("Type"), origin.get("Source")
        if kind == "Derived" and not ref.get("MethodOID"):
            out.append(_finding("DD0017", f"{item.get('OID')} has a Derived origin but its ItemRef has no "
                                          "MethodOID", file=doc.file, el=ref, dataset=dataset,
                                variable=item.get("Name")))
        if (kind == "Collected" and source in ("Investigator", "Subject") and doc.context() == "Submission"
                and origin.find(f"{doc.d('DocumentRef')}/{doc.d('PDFPageRef')}") is None):
            if "Yes" in (doc.attr(ref, "def:HasNoData"), doc.attr(parent, "def:HasNoData")):
                out.append(_finding("DD0023", f"{item.get('OID')} has no data and cites no aCRF page, yet is declared "
                                              f"collected from the {source.lower()}: a variable the study did not "
                                              "collect is origin \"Assigned\" (Sponsor) with a comment saying so",
                                    file=doc.file, el=item, dataset=dataset, variable=item.get("Name")))
                continue
            why = "" if acrf else " (the define has no def:AnnotatedCRF)"
            out.append(_finding("DD0022", f"{item.get('OID')} is collected from the {source.lower()} but cites "
                                          f"no aCRF page{why}", file=doc.file, el=item, dataset=dataset,
                                variable=item.get("Name")))
    return findings.concat(out)


def _no_data_comments(doc: DefineDoc) -> pd.DataFrame:
    out = []
    for group in doc.groups.values():
        if doc.attr(group, "def:HasNoData") == "Yes" and not doc.attr(group, "def:CommentOID"):
            out.append(_finding("DD0019", f"{group.get('Name')} has def:HasNoData=\"Yes\" but no def:CommentOID "
                                          "explaining why", file=doc.file, el=group, dataset=group.get("Name")))
    for parent, ref in list(_group_refs(doc)) + list(_value_refs(doc)):
        item = doc.items.get(ref.get("ItemOID") or "")
        if doc.attr(ref, "def:HasNoData") == "Yes" and item is not None and not doc.attr(item, "def:CommentOID"):
            out.append(_finding("DD0019", f"{item.get('OID')} has def:HasNoData=\"Yes\" but its ItemDef has no "
                                          "def:CommentOID explaining why", file=doc.file, el=ref,
                                variable=item.get("Name")))
    return findings.concat(out)


def _value_level_lengths(doc: DefineDoc) -> pd.DataFrame:
    out = []
    for item in doc.items.values():
        vl_ref = item.find(doc.d("ValueListRef"))
        if vl_ref is None or item.get("Length") is None:
            continue
        vl = doc.value_lists.get(vl_ref.get("ValueListOID") or "")
        if vl is None:
            continue
        for ref in vl.findall(X.odm("ItemRef")):
            child = doc.items.get(ref.get("ItemOID") or "")
            if child is not None and child.get("Length") and int(child.get("Length")) > int(item.get("Length")):
                out.append(_finding("DD0020", f"value-level {child.get('OID')} has Length {child.get('Length')}, "
                                              f"more than its variable's {item.get('Length')}", file=doc.file,
                                    el=child, variable=item.get("Name")))
    return findings.concat(out)


def _codelist_codes(doc: DefineDoc) -> pd.DataFrame:
    if doc.context() != "Submission":
        return findings.empty()
    out = []
    ct = {oid for oid, s in doc.standards.items() if s.get("Type") == "CT"}
    for oid, cl in doc.codelists.items():
        if doc.attr(cl, "def:StandardOID") not in ct:
            continue
        aliases = [a for a in cl.findall(X.odm("Alias")) if a.get("Context") == "nci:ExtCodeID"]
        if not aliases:
            out.append(_finding("DD0021", f"CDISC codelist {oid} has no Alias Context=\"nci:ExtCodeID\" with its "
                                          "C-code", file=doc.file, el=cl))
        for term in list(cl.findall(X.odm("EnumeratedItem"))) + list(cl.findall(X.odm("CodeListItem"))):
            if doc.attr(term, "def:ExtendedValue") == "Yes":
                continue
            if not any(a.get("Context") == "nci:ExtCodeID" for a in term.findall(X.odm("Alias"))):
                out.append(_finding("DD0021", f"term {term.get('CodedValue')!r} of CDISC codelist {oid} has no "
                                              "C-code Alias and is not flagged def:ExtendedValue", file=doc.file,
                                    el=term, value=term.get("CodedValue")))
    return findings.concat(out)
