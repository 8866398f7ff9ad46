"""Read a Define-XML 2.1 (or 2.0) file into trialpack's metadata model.

:func:`read_define` parses any define.xml safely (no entities, no DTD, no network; a
DOCTYPE is refused) and returns a :class:`DefineImport`: the :class:`specs.model.Spec`
the define describes, and findings (``rule``, ``severity``, ``dataset``, ``variable``,
``row`` = line in the file, ``value``, ``message``, ``file``) naming whatever the model
could not hold exactly. The spec always passes :func:`specs.validate_spec` and the spec
JSON Schema, so it can be saved (:func:`specs.save_spec`, the workbook) and used by
:func:`specs.check`.

What maps to what (Define-XML 2.1 section 5; the writer, :mod:`define.writer`, is the
inverse):

1. ``Study/GlobalVariables`` -> :class:`Study`; ``def:Standards`` -> standards;
   MetaDataVersion-level ``def:leaf`` -> documents, of kind AnnotatedCRF or
   SupplementalDoc when ``def:AnnotatedCRF``/``def:SupplementalDoc`` lists them.
2. ``ItemGroupDef`` -> dataset (Name, Description, ``def:Class``/``def:SubClass`` — an
   element in 2.1, an attribute in 2.0 —, ``def:Structure``, Purpose, Repeating,
   IsReferenceData, Domain, ``def:StandardOID``, ``def:CommentOID``); its ItemRefs give
   the variables in OrderNumber order, ``KeySequence`` the keys, ``Mandatory="Yes"``
   core ``Req`` (``No`` gives no core: Exp, Perm and Cond are not in Define-XML),
   ``MethodOID`` and ``Role``.
3. ``ItemDef`` -> variable: DataType, Length, SignificantDigits, ``def:DisplayFormat``,
   label, ``CodeListRef``, the first ``def:Origin`` (Type, Source, Description, aCRF
   pages from its ``def:PDFPageRef``), ``def:CommentOID``.
4. ``def:ValueListDef`` -> value-level rows of the variable whose ItemDef points to it,
   one row per ``def:WhereClauseRef`` (several refs mean OR, so one row each); a label
   equal to the variable's is left out (the row inherits it). ``def:WhereClauseDef``
   -> where clause, its RangeChecks (AND) naming ``dataset.variable`` through the
   ItemOID's ItemRef.
5. ``CodeList`` -> codelist: NCI C-codes from ``Alias Context="nci:ExtCodeID"``,
   ``EnumeratedItem``/``CodeListItem`` terms (Decode, ``def:ExtendedValue``,
   OrderNumber), ``ExternalCodeList`` (Dictionary, Version). Define-XML does not say
   whether a list is extensible: it is when a term is ``def:ExtendedValue="Yes"`` or
   when trialpack's shipped standard specs know its C-code as extensible.
6. ``MethodDef`` -> method (Type, Description, first ``FormalExpression``, first
   ``def:DocumentRef``); ``def:CommentDef`` -> comment. Codelists, where clauses,
   methods and comments are imported when something imported refers to them (the
   writer writes only those); the others are counted in one notice per kind.

Define-XML 2.0 (namespace ``http://www.cdisc.org/ns/def/v2.0``) maps the same way, with
Origin Type ``CRF`` -> ``Collected`` and ``eDT`` -> ``Collected``/``Vendor`` (the 2.1
origin types), and no ``def:Standards`` (2.0 names one standard on the MetaDataVersion).

What a define written by :func:`define.write_define` does not carry back (so reading it
gives the written spec except for these):

* core: ``Mandatory="Yes"`` comes back as ``Req``, ``No`` as no core (Exp/Perm/Cond);
* lengths and SignificantDigits as written (from the data where the spec left them
  None); no Length for date/time types; codelists as written (extensible lists trimmed
  to the values used, extensible lists no value of which is used dropped with their
  references; terms in a decoded list all have a decode; a list is extensible only as
  point 5 says); ``order`` of variables, value-level rows and terms as their
  OrderNumber (the writer numbers 1..n within each dataset, value list and codelist);
* only referenced standards, codelists, methods, comments and where clauses, and only
  documents that are aCRF, supplemental or referenced; the spec's lists in define order;
* a standard's status None comes back "Final"; a method's expression context None
  comes back "Python" when it has an expression; PDF page lists with single spaces;
  an empty study description or protocol name comes back as the study name;
* the dataset's Domain for analysis datasets and the Role of their variables (the
  writer writes neither); trialpack's generated no-data comments
  (``COM.NODATA.DATASET``/``COM.NODATA.VARIABLE``) are not imported.

Findings (``severity`` warning: the spec differs from the define; notice: a documented
mapping). With ``strict=True`` the first warning raises :class:`specs.errors.InputError`
naming the file and line instead.
"""
from __future__ import annotations

import functools
import json
import os
import re
import unicodedata
from dataclasses import dataclass, field
from typing import NamedTuple

import pandas as pd
from lxml import etree

from define import _xml as X
from define._doc import DefineDoc
from define._doc import read_define as parse_define
from define.arm import ARM
from define.writer import NODATA_TEXT
from specs import findings
from specs.errors import InputError, SpecError
from specs.load import STANDARD_DIR
from specs.model import (
    COMPARATORS, DATA_TYPES, METHOD_TYPES, ORIGIN_TYPES, Codelist, CodelistItem, Comment,
    DatasetSpec, Document, Method, RangeCheck, Spec, Standard, Study, ValueLevel, VariableSpec, WhereClause,
    is_sas_name,
)
from specs.rules import MAX_LABEL_BYTES, MAX_LENGTH, validate_spec

#: The reader's rule ids -> (severity, what it reports), defined once in specs.findings.RULES.
RULES = {k: v for k, v in findings.RULES.items() if k.startswith("DD02")}

OID = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
ORIGIN_SOURCES = ("Subject", "Investigator", "Vendor", "Sponsor")
#: Define-XML 2.0 origin types -> 2.1 (Type, Source)
ORIGIN_20 = {"CRF": ("Collected", None), "eDT": ("Collected", "Vendor")}
ODM_FLOAT_TYPES = frozenset({"double", "hexFloat", "base64Float"})
PURPOSES = ("Tabulation", "Analysis")
STANDARD_TYPES = ("IG", "CT")
STANDARD_STATUS = ("Final", "Provisional", "Draft")
CODELIST_TYPES = ("text", "integer", "float")
MAX_PAGE_SPAN = 1000


class DefineImport(NamedTuple):
    """What :func:`read_define` returns: the spec and what it could not hold exactly."""

    spec: Spec
    findings: pd.DataFrame


def read_define(path: str | os.PathLike | bytes, *, strict: bool = False) -> DefineImport:
    """Read a Define-XML 2.1 or 2.0 file into a :class:`Spec` (see the module docstring).

    Returns ``(spec, findings)``. Raises :class:`specs.errors.InputError` (with file, and
    line where the parser gives one) for a missing or unreadable file, text that is not
    XML, a DOCTYPE (refused, never resolved), an XML document that is not a define, and
    a define without ``Study/MetaDataVersion``; with ``strict`` also at the first
    warning-level finding.
    """
    doc = parse_define(path)
    return _Reader(doc, strict).read()


@functools.lru_cache(maxsize=1)
def extensible_codes() -> frozenset[str]:
    """NCI codelist C-codes that trialpack's shipped standard specs mark extensible.

    Only the ``codelists`` of the shipped JSON files are looked at (the files are validated
    where :func:`specs.standard_spec` loads them), so this costs milliseconds.
    """
    codes: set[str] = set()
    for file in sorted(STANDARD_DIR.glob("*/*.json")):
        for cl in json.loads(file.read_text(encoding="utf-8")).get("codelists", []):
            if cl.get("code") and cl.get("extensible"):
                codes.add(cl["code"])
    return frozenset(codes)


# -- the reader ------------------------------------------------------------------------------


@dataclass
class _Var:
    """A variable read from an ItemRef + ItemDef, with its KeySequence."""

    spec: VariableSpec
    key: int | None


@dataclass
class _Tally:
    """Notices of one kind, reported once with their count and first examples."""

    rule: str
    message: str          # with ``{n}`` for the count
    el: etree._Element    # the first occurrence (its line is the finding's row)
    examples: list[str] = field(default_factory=list)
    count: int = 0


@dataclass
class _Reader:
    """One pass over an indexed define, collecting findings as it maps each definition."""

    doc: DefineDoc
    strict: bool
    found: list[pd.DataFrame] = field(default_factory=list)
    notices: dict[str, _Tally] = field(default_factory=dict)        # aggregated notices by key
    oids: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, raw OID) -> spec OID
    used_oids: dict[str, set[str]] = field(default_factory=dict)
    # what the datasets and value lists reference (raw OIDs, in first-use order)
    wanted: dict[str, dict[str, str | None]] = field(default_factory=dict)
    # ItemDef OID -> [(dataset, variable)] of the ItemRefs that use it
    item_sites: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    documents: dict[str, Document] = field(default_factory=dict)       # by leaf ID
    kinds: dict[str, str] = field(default_factory=dict)                # document id -> kind
    standard_oids: set[str] = field(default_factory=set)              # imported def:Standard OIDs

    # -- findings -----------------------------------------------------------------------

    def note(self, rule: str, message: str, el: etree._Element | None = None, *, dataset: str | None = None,
             variable: str | None = None, value: object = None) -> None:
        """A finding; with ``strict`` a warning raises instead."""
        severity = RULES[rule][0]
        line = el.sourceline if el is not None else None
        if self.strict and severity == "warning":
            raise InputError(message, file=self.doc.file, row=line)
        self.found.append(findings.make(
            rule, dataset, variable, rows=None if line is None else [line],
            values=None if value is None else [value], message=message, severity=severity, file=self.doc.file))

    def tally(self, key: str, rule: str, message: str, el: etree._Element, example: str) -> None:
        """Aggregate notices: one finding per ``key`` with a count and the first example."""
        entry = self.notices.setdefault(key, _Tally(rule, message, el))
        if len(entry.examples) < 3:
            entry.examples.append(example)
        entry.count += 1

    def _flush_tallies(self) -> None:
        for t in self.notices.values():
            shown = ", ".join(t.examples) + (", ..." if t.count > len(t.examples) else "")
            self.note(t.rule, t.message.format(n=t.count) + f" ({shown})", t.el)

    # -- small readers -------------------------------------------------------------------

    def attr(self, el: etree._Element, name: str) -> str | None:
        return self.doc.attr(el, name)

    def text(self, el: etree._Element, tag: str = "Description") -> str | None:
        """The TranslatedText of ``el``'s child ``tag``: English (or without a language) first."""
        parent = el.find(X.odm(tag))
        if parent is None:
            return None
        texts = parent.findall(X.odm("TranslatedText"))
        if not texts:
            return None
        lang = f"{{{X.XML}}}lang"
        best = next((t for t in texts if (t.get(lang) or "").lower().startswith("en")),
                    next((t for t in texts if t.get(lang) is None), texts[0]))
        return best.text or ""

    def oid(self, kind: str, raw: str, el: etree._Element) -> str:
        """``raw`` if it is a valid spec OID, else a rewritten one (the same everywhere)."""
        key = (kind, raw)
        if key in self.oids:
            return self.oids[key]
        new = raw
        if not OID.fullmatch(raw):
            used = self.used_oids.setdefault(kind, set(self._index(kind)))
            base = re.sub(r"[^A-Za-z0-9_.\-]", "_", raw)
            base = base if re.match(r"[A-Za-z_]", base) else f"_{base}"
            new, n = base, 1
            while new in used:
                n += 1
                new = f"{base}_{n}"
            used.add(new)
            self.note("DD0206", f"{X.short(el.tag)} OID {raw!r} is not a valid spec OID (letters, digits, "
                                f"'_', '.', '-'); it is {new!r} in the spec", el, value=raw)
        self.oids[key] = new
        return new

    def _index(self, kind: str) -> dict:
        return {"study": {}, "standard": self.doc.standards, "document": self.doc.leaves,
                "codelist": self.doc.codelists, "method": self.doc.methods, "comment": self.doc.comments,
                "where_clause": self.doc.where_clauses}[kind]

    def want(self, kind: str, raw: str | None, el: etree._Element, *, dataset: str | None = None,
             variable: str | None = None, context: str | None = None) -> str | None:
        """A reference to a definition: its spec OID, or None (with a finding) if it resolves to nothing."""
        if raw is None:
            return None
        if kind == "comment" and self.generated(raw):
            return None
        defined = raw in self._index(kind)
        known = raw in self.documents if kind == "document" else \
            raw in self.standard_oids if kind == "standard" else defined
        if not known:
            what = kind.replace("_", " ")
            why = "was not imported (see its own finding)" if defined else "the define does not define"
            self.note("DD0203", f"{X.short(el.tag)} refers to {what} {raw!r}, which {why}; the spec has no {what} "
                                "there", el, dataset=dataset, variable=variable, value=raw)
            return None
        self.wanted.setdefault(kind, {}).setdefault(raw, context)
        if kind == "document":
            return self.documents[raw].id
        return self.oid(kind, raw, self._index(kind)[raw])

    def generated(self, comment: str) -> bool:
        """A comment trialpack's writer generates for data-less datasets and variables."""
        target = self.doc.comments.get(comment)
        return comment in NODATA_TEXT and target is not None and self.text(target) == NODATA_TEXT[comment]

    def integer(self, el: etree._Element, name: str, *, low: int, high: int | None = None,
                dataset: str | None = None, variable: str | None = None) -> int | None:
        raw = el.get(name)
        if raw is None:
            return None
        try:
            value = int(raw.strip())
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            bound = f"{low}..{high}" if high is not None else f"at least {low}"
            self.note("DD0204", f"{X.short(el.tag)} {name}={raw!r} is not a whole number {bound}; the spec "
                                "leaves it empty", el, dataset=dataset, variable=variable, value=raw)
            return None
        return value

    def choice(self, el: etree._Element, name: str, raw: str | None, allowed: tuple, default, *,
               dataset: str | None = None, variable: str | None = None):
        if raw is None or raw in allowed:
            return raw if raw is not None else default
        self.note("DD0204", f"{X.short(el.tag)} {name}={raw!r} is not one of {', '.join(allowed)}; the spec "
                            f"has {default!r}", el, dataset=dataset, variable=variable, value=raw)
        return default

    def label(self, el: etree._Element, text: str | None, what: str, *, dataset: str | None = None,
              variable: str | None = None) -> str | None:
        """A label the model can hold: ASCII, at most 40 bytes (else shortened, with a warning)."""
        if text is None:
            return None
        fixed = "".join(c if c.isascii() else "?" for c in _ascii_fold(text))
        if len(fixed) > MAX_LABEL_BYTES:
            fixed = fixed[:MAX_LABEL_BYTES].rstrip()
        if fixed != text:
            self.note("DD0201", f"the label of {what} {text!r} is not ASCII of at most {MAX_LABEL_BYTES} bytes "
                                f"(SAS V5); the spec has {fixed!r}", el, dataset=dataset, variable=variable,
                      value=text)
        return fixed

    def pages(self, ref: etree._Element, where: str) -> str | None:
        """PDF pages of a def:DocumentRef as one space-separated string (FirstPage..LastPage expanded)."""
        out = []
        for page in ref.findall(self.doc.d("PDFPageRef")):
            if page.get("PageRefs"):
                out.extend(page.get("PageRefs").split())
                continue
            first, last = page.get("FirstPage"), page.get("LastPage")
            if first and last and first.isdigit() and last.isdigit() and \
                    0 <= int(last) - int(first) < MAX_PAGE_SPAN:
                out.extend(str(p) for p in range(int(first), int(last) + 1))
            elif first:
                out.append(first if not last else f"{first}-{last}")
                if last:
                    self.note("DD0204", f"{where}: pages {first}..{last} cannot be listed; the spec has "
                                        f"'{first}-{last}'", page, value=f"{first}-{last}")
        return " ".join(out) or None

    def document_ref(self, el: etree._Element, where: str) -> tuple[str | None, str | None]:
        """(document id, pages) of the first def:DocumentRef under ``el``."""
        refs = el.findall(self.doc.d("DocumentRef"))
        if not refs:
            return None, None
        if len(refs) > 1:
            self.note("DD0205", f"{where} cites {len(refs)} documents; the spec keeps the first "
                                f"({refs[0].get('leafID')})", refs[1])
        doc = self.want("document", refs[0].get("leafID"), refs[0])
        return doc, (self.pages(refs[0], where) if doc else None)

    # -- the whole document -----------------------------------------------------------------

    def read(self) -> DefineImport:
        mdv = self.doc.root.find(f"{X.odm('Study')}/{X.odm('MetaDataVersion')}")
        if mdv is None:
            raise InputError("the define has no Study/MetaDataVersion, so it describes no datasets",
                             file=self.doc.file, row=self.doc.root.sourceline)
        study = self.study()
        standards = self.standards(mdv)
        self.standard_oids = {el.get("OID") for _, el in standards}
        self.documents = self.read_documents(mdv)
        self.kinds = {d.id: d.kind for d in self.documents.values()}
        datasets = self.datasets()
        value_level = self.value_level(datasets)
        where_clauses, value_level = self.where_clauses(value_level)
        codelists = self.codelists()
        methods = self.definitions("method", self.method)
        standards = self.standard_comments(standards)
        comments = self.definitions("comment", self.comment)
        documents = [d for d in self.documents.values()
                     if d.kind != "Other" or d.id in self.wanted.get("document", {})]
        self.unreferenced()
        self._flush_tallies()
        spec = Spec(study=study, standards=standards, documents=documents, datasets=datasets,
                    codelists=codelists, value_level=value_level, where_clauses=where_clauses,
                    methods=methods, comments=comments)
        try:
            validate_spec(spec)
        except SpecError as exc:   # a reader defect: say so with the file
            raise InputError(f"the define reads into a spec the model refuses: {exc.message}",
                             file=self.doc.file) from None
        return DefineImport(spec, findings.concat(self.found))

    def study(self) -> Study:
        el = self.doc.root.find(X.odm("Study"))
        gv = el.find(X.odm("GlobalVariables"))

        def part(tag: str) -> str:
            node = gv.find(X.odm(tag)) if gv is not None else None
            return (node.text or "") if node is not None else ""

        name = part("StudyName")
        if not name:
            name = el.get("OID") or "STUDY"
            self.note("DD0208", f"the define gives no StudyName; the spec uses {name!r}", el)
        oid = self.oid("study", el.get("OID") or "STUDY", el)
        return Study(oid=oid, name=name, description=part("StudyDescription"), protocol_name=part("ProtocolName"))

    def standards(self, mdv: etree._Element) -> list[tuple[Standard, etree._Element]]:
        out = []
        if self.doc.ns == X.DEF20:
            name, version = self.attr(mdv, "def:StandardName"), self.attr(mdv, "def:StandardVersion")
            if name or version:
                self.note("DD0209", f"Define-XML 2.0 names its standard on the MetaDataVersion "
                                    f"(def:StandardName {name!r}, def:StandardVersion {version!r}); Define-XML 2.1 "
                                    "def:Standards lists the IG and CT versions, so the spec has no standards",
                          mdv)
        for el in mdv.findall(f"{self.doc.d('Standards')}/{self.doc.d('Standard')}"):
            raw = el.get("OID") or ""
            where = f"def:Standard {raw}"
            missing = [a for a in ("OID", "Name", "Type", "Version") if not el.get(a)]
            if missing:
                self.note("DD0208", f"{where} lacks {', '.join(missing)}; it is not imported", el, value=raw)
                continue
            out.append((Standard(
                oid=self.oid("standard", raw, el), name=el.get("Name"),
                type=self.choice(el, "Type", el.get("Type"), STANDARD_TYPES, "IG"),
                version=el.get("Version"), publishing_set=el.get("PublishingSet"),
                status=self.choice(el, "Status", el.get("Status"), STANDARD_STATUS, None)), el))
        return out   # comments are resolved once the datasets have been read

    def standard_comments(self, standards: list[tuple[Standard, etree._Element]]) -> list[Standard]:
        out = []
        for std, el in standards:
            std.comment = self.want("comment", self.attr(el, "def:CommentOID"), el)
            out.append(std)
        return out

    def read_documents(self, mdv: etree._Element) -> dict[str, Document]:
        kinds: dict[str, str] = {}
        for kind in ("AnnotatedCRF", "SupplementalDoc"):
            for ref in mdv.findall(f"{self.doc.d(kind)}/{self.doc.d('DocumentRef')}"):
                kinds.setdefault(ref.get("leafID") or "", kind)
        out: dict[str, Document] = {}
        for leaf in mdv.findall(self.doc.d("leaf")):
            raw = leaf.get("ID")
            href = self.attr(leaf, "xlink:href")
            if not raw or not href:
                self.note("DD0208", f"def:leaf {raw or '(no ID)'} has no {'ID' if not raw else 'xlink:href'}; "
                                    "it is not imported", leaf, value=raw)
                continue
            node = leaf.find(self.doc.d("title"))
            title = (node.text or "") if node is not None else ""
            if not title.strip():
                title = href
                self.note("DD0208", f"def:leaf {raw} has no def:title; the spec uses its href {href!r}", leaf)
            out[raw] = Document(id=self.oid("document", raw, leaf), title=title, href=href,
                                kind=kinds.get(raw, "Other"))
        for raw, kind in kinds.items():
            if raw not in out:
                self.note("DD0203", f"def:{kind} refers to the leaf {raw!r}, which the define does not define",
                          self.doc.root, value=raw)
        return out

    # -- datasets and variables ------------------------------------------------------------

    def datasets(self) -> list[DatasetSpec]:
        out: dict[str, DatasetSpec] = {}
        for group in self.doc.groups.values():
            ds = self.dataset(group)
            if ds is None:
                continue
            if ds.name in out:
                self.note("DD0207", f"two ItemGroupDefs are named {ds.name}; the spec keeps the first", group,
                          dataset=ds.name)
                continue
            out[ds.name] = ds
        return list(out.values())

    def name(self, el: etree._Element, what: str, sas_attr: str, *, dataset: str | None = None) -> str | None:
        """A SAS V5 name from Name (else the SAS name attribute), or None with a finding."""
        raw = el.get("Name")
        for candidate in (raw, el.get(sas_attr)):
            if candidate and is_sas_name(candidate):
                if candidate != raw:
                    self.note("DD0202", f"{what} Name {raw!r} is not a SAS V5 name; the spec uses its "
                                        f"{sas_attr} {candidate!r}", el, dataset=dataset, value=raw)
                return candidate
        self.note("DD0202", f"{what} Name {raw!r} is not a SAS V5 name (upper-case letter, then up to 7 upper-case "
                            "letters, digits or '_'); it is left out of the spec", el, dataset=dataset, value=raw)
        return None

    def dataset(self, group: etree._Element) -> DatasetSpec | None:
        name = self.name(group, f"ItemGroupDef {group.get('OID')}", "SASDatasetName")
        if name is None:
            return None
        label = self.text(group)
        if label is None:
            self.note("DD0208", f"{name} has no Description (dataset label); the spec label is empty", group,
                      dataset=name)
        class_, subclass = self.dataset_class(group)
        purpose = group.get("Purpose")
        if purpose is None:
            self.note("DD0208", f"{name} has no Purpose; the spec assumes Tabulation", group, dataset=name)
        variables = self.variables(group, name)
        keys = [v.spec.name for v in sorted((v for v in variables if v.key is not None), key=lambda v: v.key)]
        return DatasetSpec(
            name=name, label=self.label(group, label or "", f"dataset {name}", dataset=name),
            class_=class_, subclass=subclass, structure=self.attr(group, "def:Structure"), keys=keys,
            purpose=self.choice(group, "Purpose", purpose, PURPOSES, "Tabulation", dataset=name),
            repeating=group.get("Repeating") != "No", reference_data=group.get("IsReferenceData") == "Yes",
            domain=group.get("Domain"),
            standard=self.want("standard", self.attr(group, "def:StandardOID"), group, dataset=name),
            comment=self.want("comment", self.attr(group, "def:CommentOID"), group, dataset=name),
            variables=[v.spec for v in variables],
        )

    def dataset_class(self, group: etree._Element) -> tuple[str | None, str | None]:
        """def:Class: an element with an optional def:SubClass (2.1) or an attribute (2.0)."""
        el = group.find(self.doc.d("Class"))
        if el is not None:
            sub = el.find(self.doc.d("SubClass"))
            return el.get("Name"), None if sub is None else sub.get("Name")
        return self.attr(group, "def:Class"), None

    def variables(self, group: etree._Element, dataset: str) -> list[_Var]:
        out: dict[str, _Var] = {}
        for position, ref in enumerate(group.findall(X.odm("ItemRef")), start=1):
            var = self.variable(ref, dataset, position)
            if var is None:
                continue
            name = var.spec.name
            if name in out:
                self.note("DD0207", f"{dataset} lists {name} twice; the spec keeps the first", ref,
                          dataset=dataset, variable=name)
                continue
            out[name] = var
            self.item_sites.setdefault(ref.get("ItemOID"), []).append((dataset, name))
        return list(out.values())

    def variable(self, ref: etree._Element, dataset: str, position: int) -> _Var | None:
        oid = ref.get("ItemOID")
        item = self.doc.items.get(oid or "")
        if item is None:
            self.note("DD0203", f"{dataset}: ItemRef ItemOID {oid!r} refers to no ItemDef; the variable is left "
                                "out of the spec", ref, dataset=dataset, value=oid)
            return None
        name = self.name(item, f"ItemDef {oid}", "SASFieldName", dataset=dataset)
        if name is None:
            return None
        label = self.text(item)
        if label is None:
            self.note("DD0208", f"{dataset}.{name} has no Description (label); the spec label is empty", item,
                      dataset=dataset, variable=name)
        fields = self.item_fields(item, dataset, name)
        spec = VariableSpec(
            name=name, label=self.label(item, label or "", f"{dataset}.{name}", dataset=dataset, variable=name),
            core="Req" if ref.get("Mandatory") == "Yes" else None,
            method=self.want("method", ref.get("MethodOID"), ref, dataset=dataset, variable=name),
            order=self.integer(ref, "OrderNumber", low=1, dataset=dataset, variable=name) or position,
            role=ref.get("Role"), **fields)
        key = self.integer(ref, "KeySequence", low=1, dataset=dataset, variable=name)
        return _Var(spec, key)

    def item_fields(self, item: etree._Element, dataset: str, name: str) -> dict:
        """ItemDef fields shared by variables and value-level rows."""
        where = dict(dataset=dataset, variable=name)
        raw_type = item.get("DataType")
        data_type = raw_type
        if raw_type not in DATA_TYPES:
            data_type = "float" if raw_type in ODM_FLOAT_TYPES else "text"
            self.note("DD0204", f"{dataset}.{name}: DataType {raw_type!r} is not a Define-XML data type; the spec "
                                f"has {data_type!r}", item, value=raw_type, **where)
        cl_ref = item.find(X.odm("CodeListRef"))
        return dict(
            data_type=data_type,
            length=self.integer(item, "Length", low=1, high=MAX_LENGTH, **where),
            significant_digits=self.integer(item, "SignificantDigits", low=0, **where),
            display_format=self.attr(item, "def:DisplayFormat"),
            codelist=None if cl_ref is None else self.want("codelist", cl_ref.get("CodeListOID"), cl_ref, **where),
            comment=self.want("comment", self.attr(item, "def:CommentOID"), item, **where),
            **self.origin(item, dataset, name),
        )

    def origin(self, item: etree._Element, dataset: str, name: str) -> dict:
        """origin_type/source/description/pages from the first def:Origin (2.0 types mapped to 2.1)."""
        origins = item.findall(self.doc.d("Origin"))
        if not origins:
            return {}
        where = dict(dataset=dataset, variable=name)
        if len(origins) > 1:
            self.note("DD0205", f"{dataset}.{name} has {len(origins)} def:Origin elements; the spec keeps the "
                                "first", origins[1], **where)
        el = origins[0]
        kind, source = el.get("Type"), el.get("Source")
        if kind in ORIGIN_20 and self.doc.ns == X.DEF20:
            new_kind, new_source = ORIGIN_20[kind]
            shown = new_kind + (f" with Source {new_source}" if new_source else "")
            self.tally(f"origin {kind}", "DD0209", f"{{n}} Define-XML 2.0 def:Origin Type=\"{kind}\" mapped to "
                                                   f"the 2.1 Type {shown}", el, f"{dataset}.{name}")
            kind, source = new_kind, source or new_source
        kind = self.choice(el, "Type", kind, ORIGIN_TYPES, None, **where)
        source = self.choice(el, "Source", source, ORIGIN_SOURCES, None, **where)
        pages = None
        doc, found = self.document_ref(el, f"the origin of {dataset}.{name}")
        if doc is not None:
            if self.kinds.get(doc) == "AnnotatedCRF":
                pages = found
            else:
                self.note("DD0205", f"the origin of {dataset}.{name} cites {doc}, not an annotated CRF; the spec "
                                    "keeps aCRF pages only, so the reference is left out", el, **where)
        return dict(origin_type=kind, origin_source=source if kind != "Predecessor" else None,
                    origin_description=self.text(el), origin_pages=pages)

    # -- value-level metadata ----------------------------------------------------------------

    def value_level(self, datasets: list[DatasetSpec]) -> list[tuple[ValueLevel, etree._Element]]:
        out = []
        labels = {(ds.name, v.name): v.label for ds in datasets for v in ds.variables}
        known = set(labels)
        for item_oid, sites in self.item_sites.items():
            item = self.doc.items[item_oid]
            vl_ref = item.find(self.doc.d("ValueListRef"))
            if vl_ref is None:
                continue
            vl_oid = vl_ref.get("ValueListOID")
            vl = self.doc.value_lists.get(vl_oid or "")
            for dataset, variable in sites:
                if (dataset, variable) not in known:
                    continue
                if vl is None:
                    self.note("DD0203", f"{dataset}.{variable} refers to value list {vl_oid!r}, which the define "
                                        "does not define; the spec has no value-level rows for it", vl_ref,
                              dataset=dataset, variable=variable, value=vl_oid)
                    continue
                out += self.value_rows(vl, dataset, variable, labels[(dataset, variable)])
        return out

    def value_rows(self, vl: etree._Element, dataset: str, variable: str,
                   parent_label: str) -> list[tuple[ValueLevel, etree._Element]]:
        out = []
        where = dict(dataset=dataset, variable=variable)
        for position, ref in enumerate(vl.findall(X.odm("ItemRef")), start=1):
            oid = ref.get("ItemOID")
            item = self.doc.items.get(oid or "")
            if item is None:
                self.note("DD0203", f"value list {vl.get('OID')}: ItemOID {oid!r} refers to no ItemDef; the row is "
                                    "left out", ref, value=oid, **where)
                continue
            clauses = ref.findall(self.doc.d("WhereClauseRef"))
            if not clauses:
                self.note("DD0203", f"value list {vl.get('OID')}: ItemRef {oid} has no def:WhereClauseRef; the row "
                                    "is left out", ref, value=oid, **where)
                continue
            label = self.text(item)
            label = None if label is None or label == parent_label else \
                self.label(item, label, f"{dataset}.{variable} ({oid})", **where)
            common = dict(
                dataset=dataset, variable=variable, label=label,
                core="Req" if ref.get("Mandatory") == "Yes" else None,
                method=self.want("method", ref.get("MethodOID"), ref, **where),
                order=self.integer(ref, "OrderNumber", low=1, **where) or position,
                **self.item_fields(item, dataset, variable))
            for clause in clauses:
                raw = clause.get("WhereClauseOID")
                wc = self.want("where_clause", raw, clause, context=dataset, **where)
                if wc is not None:
                    out.append((ValueLevel(where_clause=wc, **common), clause))
            if len(clauses) > 1:
                self.tally("or", "DD0209", "{n} value-level ItemRefs with several def:WhereClauseRefs (OR) "
                                           "became one value-level row per where clause", ref, oid)
        return out

    def where_clauses(self, rows: list) -> tuple[list[WhereClause], list[ValueLevel]]:
        """The referenced where clauses; value-level rows whose clause cannot be read are left out."""
        clauses: dict[str, WhereClause | None] = {}
        for raw, context in self.wanted.get("where_clause", {}).items():
            clauses[raw] = self.where_clause(self.doc.where_clauses[raw], context)
        good = {wc.oid for wc in clauses.values() if wc is not None}
        kept = []
        for row, el in rows:
            if row.where_clause in good:
                kept.append(row)
            else:
                self.note("DD0203", f"the value-level row of {row.dataset}.{row.variable} where "
                                    f"{row.where_clause} is left out: its where clause cannot be read", el,
                          dataset=row.dataset, variable=row.variable, value=row.where_clause)
        ordered = [wc for raw, wc in self._in_document_order("where_clause", clauses)]
        return [wc for wc in ordered if wc is not None], kept

    def where_clause(self, el: etree._Element, context: str | None) -> WhereClause | None:
        oid = self.oid("where_clause", el.get("OID"), el)
        checks = []
        for rc in el.findall(X.odm("RangeCheck")):
            check = self.range_check(rc, oid, context)
            if check is None:
                return None
            checks.append(check)
        if not checks:
            self.note("DD0204", f"where clause {oid} has no RangeCheck", el, value=oid)
            return None
        return WhereClause(oid=oid, checks=checks,
                           comment=self.want("comment", self.attr(el, "def:CommentOID"), el))

    def range_check(self, rc: etree._Element, oid: str, context: str | None) -> RangeCheck | None:
        item_oid = self.attr(rc, "def:ItemOID")
        sites = self.item_sites.get(item_oid or "", [])
        if not sites:
            self.note("DD0203", f"where clause {oid} tests ItemOID {item_oid!r}, which is no variable of a dataset "
                                "in the spec", rc, value=item_oid)
            return None
        dataset, variable = next((s for s in sites if s[0] == context), sites[0])
        comparator = rc.get("Comparator")
        if comparator not in COMPARATORS:
            self.note("DD0204", f"where clause {oid}: Comparator {comparator!r} is not one of "
                                f"{', '.join(COMPARATORS)}", rc, dataset=dataset, variable=variable, value=comparator)
            return None
        values = [cv.text or "" for cv in rc.findall(X.odm("CheckValue"))]
        if not values:
            self.note("DD0204", f"where clause {oid}: RangeCheck on {dataset}.{variable} has no CheckValue", rc,
                      dataset=dataset, variable=variable)
            return None
        return RangeCheck(dataset=dataset, variable=variable, comparator=comparator, values=values)

    # -- codelists, methods, comments --------------------------------------------------------

    def _in_document_order(self, kind: str, chosen: dict) -> list:
        index = self._index(kind)
        return [(raw, chosen[raw]) for raw in index if raw in chosen]

    def definitions(self, kind: str, build) -> list:
        wanted = self.wanted.get(kind, {})
        return [build(self._index(kind)[raw]) for raw in self._index(kind) if raw in wanted]

    def codelists(self) -> list[Codelist]:
        return self.definitions("codelist", self.codelist)

    def codelist(self, el: etree._Element) -> Codelist:
        oid = self.oid("codelist", el.get("OID"), el)
        name = el.get("Name")
        if not name:
            name = oid
            self.note("DD0208", f"CodeList {oid} has no Name; the spec uses its OID", el, value=oid)
        data_type = self.choice(el, "DataType", el.get("DataType"), CODELIST_TYPES, "text")
        code = _alias(el)
        external = el.find(X.odm("ExternalCodeList"))
        items = self.terms(el, oid)
        extensible = any(t.extended for t in items) or (code is not None and code in extensible_codes())
        cl = Codelist(oid=oid, name=name, data_type=data_type, code=code, extensible=extensible,
                      standard=self.want("standard", self.attr(el, "def:StandardOID"), el),
                      comment=self.want("comment", self.attr(el, "def:CommentOID"), el), items=items)
        if external is not None:
            cl.dictionary = external.get("Dictionary") or name
            cl.version = external.get("Version")
            if items:
                self.note("DD0205", f"CodeList {oid} has both terms and an ExternalCodeList; the spec keeps the "
                                    "dictionary and drops the terms", external, value=oid)
                cl.items = []
        return cl

    def terms(self, el: etree._Element, oid: str) -> list[CodelistItem]:
        out: dict[str, CodelistItem] = {}
        for position, term in enumerate(el.iter(X.odm("EnumeratedItem"), X.odm("CodeListItem")), start=1):
            if term.getparent() is not el:
                continue
            value = term.get("CodedValue")
            if not value:
                self.note("DD0204", f"CodeList {oid} has a term with an empty CodedValue; it is left out", term,
                          value=value)
                continue
            if value in out:
                self.note("DD0207", f"CodeList {oid} lists the term {value!r} twice; the spec keeps the first", term,
                          value=value)
                continue
            decode = self.text(term, "Decode") if term.tag == X.odm("CodeListItem") else None
            out[value] = CodelistItem(
                value=value, decode=decode, code=_alias(term),
                extended=self.attr(term, "def:ExtendedValue") == "Yes",
                order=self.integer(term, "OrderNumber", low=1) or position)
        return list(out.values())

    def method(self, el: etree._Element) -> Method:
        oid = self.oid("method", el.get("OID"), el)
        name = el.get("Name") or oid
        description = self.text(el)
        if not description:
            description = name
            self.note("DD0208", f"MethodDef {oid} has no Description; the spec uses its name {name!r}", el,
                      value=oid)
        expression = el.find(X.odm("FormalExpression"))
        document, pages = self.document_ref(el, f"MethodDef {oid}")
        return Method(oid=oid, name=name, description=description,
                      type=self.choice(el, "Type", el.get("Type"), METHOD_TYPES, "Computation"),
                      expression_context=None if expression is None else expression.get("Context"),
                      expression=None if expression is None else (expression.text or ""),
                      document=document, pages=pages)

    def comment(self, el: etree._Element) -> Comment:
        oid = self.oid("comment", el.get("OID"), el)
        description = self.text(el)
        document, pages = self.document_ref(el, f"def:CommentDef {oid}")
        if not description:
            description = f"(see {document})" if document else "(no text)"
            self.note("DD0208", f"def:CommentDef {oid} has no Description; the spec has {description!r}", el,
                      value=oid)
        return Comment(oid=oid, description=description, document=document, pages=pages)

    def unreferenced(self) -> None:
        """One notice per kind of definition that nothing imported refers to; where clauses of
        Analysis Results Metadata (ARM), which a spec does not hold, are one notice of their own."""
        displays = self.doc.root.findall(f".//{{{ARM}}}ResultDisplay")
        analysis_wheres = {ref.get("WhereClauseOID") for ref in
                           self.doc.root.iterfind(f".//{{{ARM}}}AnalysisDataset/{self.doc.d('WhereClauseRef')}")}
        if displays:
            self.note("DD0210", f"{len(displays)} Analysis Results Metadata display(s) (arm:ResultDisplay) and their "
                                f"{len(analysis_wheres)} where clause(s) were not imported: a spec has no analysis "
                                "results (trialpack writes them from the ISS tables)", displays[0])
        for kind, tag in (("codelist", "CodeList"), ("method", "MethodDef"), ("comment", "def:CommentDef"),
                          ("where_clause", "def:WhereClauseDef")):
            wanted = self.wanted.get(kind, {})
            for raw, el in self._index(kind).items():
                if kind == "where_clause" and raw in analysis_wheres:
                    continue
                if raw not in wanted and not (kind == "comment" and self.generated(raw)):
                    self.tally(f"unused {kind}", "DD0210", f"{{n}} {tag} definitions are referenced by no dataset, "
                                                           "variable or value list and were not imported", el, raw)


def _alias(el: etree._Element) -> str | None:
    """The NCI C-code of a codelist or term (``Alias Context="nci:ExtCodeID"``)."""
    for alias in el.findall(X.odm("Alias")):
        if alias.get("Context") == "nci:ExtCodeID" and alias.get("Name"):
            return alias.get("Name")
    return None


def _ascii_fold(text: str) -> str:
    """Letters with accents as their base letter (é -> e); other characters unchanged."""
    out = []
    for char in text:
        if char.isascii():
            out.append(char)
            continue
        base = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode("ascii")
        out.append(base or char)
    return "".join(out)


__all__ = ["DefineImport", "RULES", "extensible_codes", "read_define"]
