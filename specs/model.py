"""The metadata model: one typed description of a submission's datasets.

A :class:`Spec` holds what Define-XML 2.1 and the Pinnacle 21-style spec workbook hold:
study, standards, documents, datasets with their variables, codelists, value-level
metadata with where clauses, methods and comments. Everything that shapes an output
dataset (column order, labels, types, lengths, codelists, keys) is read from here and
nowhere else.

The JSON form of every class is its fields by name (``class_`` is written ``class``);
``to_dict`` drops fields that hold their default so the files stay short, and
``from_dict`` is its inverse. JSON Schemas in ``specs/schema`` validate the files
before they reach these constructors.
"""
from __future__ import annotations

import re
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, ClassVar, Iterator

#: Define-XML 2.1 ItemDef/@DataType values.
DATA_TYPES = (
    "text", "integer", "float", "date", "datetime", "time",
    "partialDate", "partialTime", "partialDatetime", "incompleteDatetime",
    "durationDatetime", "intervalDatetime",
)
#: Data types stored as SAS numerics; every other type is character.
NUMERIC_TYPES = frozenset({"integer", "float"})
CORE_VALUES = ("Req", "Exp", "Perm", "Cond")
ORIGIN_TYPES = ("Collected", "Derived", "Assigned", "Protocol", "Predecessor", "Not Available", "Other")
COMPARATORS = ("LT", "LE", "GT", "GE", "EQ", "NE", "IN", "NOTIN")
METHOD_TYPES = ("Computation", "Imputation")
DOCUMENT_KINDS = ("AnnotatedCRF", "SupplementalDoc", "Other")
#: SAS v5 / FDA dataset and variable names: 1-8 characters, an upper-case letter first, then
#: A-Z, 0-9 or _ (the schemas' pattern). Match the whole text (:func:`is_sas_name`): ``$``
#: would also match before a final newline.
SAS_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,7}")


def is_sas_name(name: object) -> bool:
    """``name`` is a string that is, as a whole, a SAS v5 name."""
    return isinstance(name, str) and SAS_NAME.fullmatch(name) is not None


class _Record:
    """JSON (de)serialisation shared by every metadata class."""

    _json_names: ClassVar[dict[str, str]] = {}
    _children: ClassVar[dict[str, type]] = {}
    _always: ClassVar[frozenset[str]] = frozenset()

    def to_dict(self) -> dict[str, Any]:
        """Fields by JSON name; a field equal to its default is left out unless listed in ``_always``."""
        out: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if f.name not in self._always and _is_default(f, value):
                continue
            if isinstance(value, list):
                value = [v.to_dict() if isinstance(v, _Record) else v for v in value]
            elif isinstance(value, _Record):
                value = value.to_dict()
            out[self._json_names.get(f.name, f.name)] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        kwargs: dict[str, Any] = {}
        reverse = {v: k for k, v in cls._json_names.items()}
        for key, value in data.items():
            name = reverse.get(key, key)
            child = cls._children.get(name)
            if child is not None and isinstance(value, list):
                value = [child.from_dict(v) for v in value]
            kwargs[name] = value
        return cls(**kwargs)


def _is_default(f, value: Any) -> bool:
    if f.default is not MISSING:
        return value == f.default
    if f.default_factory is not MISSING:
        return value == f.default_factory()
    return False


@dataclass
class Study(_Record):
    """ODM Study/GlobalVariables: StudyName, StudyDescription, ProtocolName."""

    oid: str
    name: str
    description: str = ""
    protocol_name: str = ""
    _always = frozenset({"oid", "name"})


@dataclass
class Standard(_Record):
    """def:Standard: an implementation guide (Type IG) or a CT package (Type CT)."""

    oid: str
    name: str
    type: str
    version: str
    publishing_set: str | None = None
    status: str | None = None
    comment: str | None = None
    _always = frozenset({"oid", "name", "type", "version"})


@dataclass
class Document(_Record):
    """def:leaf for a supporting document; ``kind`` places it under def:AnnotatedCRF or def:SupplementalDoc."""

    id: str
    title: str
    href: str
    kind: str = "Other"
    _always = frozenset({"id", "title", "href"})


@dataclass
class Method(_Record):
    """MethodDef: the algorithm behind a Derived variable."""

    oid: str
    name: str
    description: str
    type: str = "Computation"
    expression_context: str | None = None
    expression: str | None = None
    document: str | None = None
    pages: str | None = None
    _always = frozenset({"oid", "name", "description", "type"})


@dataclass
class Comment(_Record):
    """def:CommentDef."""

    oid: str
    description: str
    document: str | None = None
    pages: str | None = None
    _always = frozenset({"oid", "description"})


@dataclass
class CodelistItem(_Record):
    """One term: EnumeratedItem (no decode) or CodeListItem (with decode)."""

    value: str
    decode: str | None = None
    code: str | None = None
    extended: bool = False
    order: int | None = None
    _always = frozenset({"value"})


@dataclass
class Codelist(_Record):
    """CodeList: CDISC CT (``code`` = NCI codelist C-code), sponsor list, or external dictionary."""

    oid: str
    name: str
    data_type: str = "text"
    code: str | None = None
    extensible: bool = False
    standard: str | None = None
    dictionary: str | None = None
    version: str | None = None
    comment: str | None = None
    items: list[CodelistItem] = field(default_factory=list)
    _children = {"items": CodelistItem}
    _always = frozenset({"oid", "name", "data_type", "items"})

    def values(self) -> list[str]:
        return [item.value for item in self.items]

    @property
    def is_external(self) -> bool:
        return self.dictionary is not None


@dataclass
class VariableSpec(_Record):
    """ItemDef + ItemRef of one dataset variable.

    ``length`` None means "from data": the writer sets it to the longest value in bytes.
    ``core`` follows the IG (Req/Exp/Perm/Cond) and gives define's Mandatory (Req -> Yes).
    """

    name: str
    label: str
    data_type: str = "text"
    length: int | None = None
    significant_digits: int | None = None
    display_format: str | None = None
    core: str | None = None
    codelist: str | None = None
    origin_type: str | None = None
    origin_source: str | None = None
    origin_pages: str | None = None
    origin_description: str | None = None
    method: str | None = None
    comment: str | None = None
    order: int | None = None
    role: str | None = None
    _always = frozenset({"name", "label", "data_type"})

    @property
    def is_numeric(self) -> bool:
        return self.data_type in NUMERIC_TYPES

    @property
    def mandatory(self) -> bool:
        return self.core == "Req"


@dataclass
class DatasetSpec(_Record):
    """ItemGroupDef: one dataset and its variables in output order."""

    name: str
    label: str
    class_: str | None = None
    subclass: str | None = None
    structure: str | None = None
    keys: list[str] = field(default_factory=list)
    purpose: str = "Tabulation"
    repeating: bool = True
    reference_data: bool = False
    domain: str | None = None
    standard: str | None = None
    comment: str | None = None
    variables: list[VariableSpec] = field(default_factory=list)
    _json_names = {"class_": "class"}
    _children = {"variables": VariableSpec}
    _always = frozenset({"name", "label", "purpose", "repeating", "variables"})

    def __post_init__(self) -> None:
        self.variables = sorted(
            self.variables, key=lambda v: (v.order is None, v.order if v.order is not None else 0)
        )

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.variables]

    def variable(self, name: str) -> VariableSpec:
        for v in self.variables:
            if v.name == name:
                return v
        raise KeyError(f"{self.name} has no variable {name}")

    def __contains__(self, name: object) -> bool:
        return any(v.name == name for v in self.variables)


@dataclass
class RangeCheck(_Record):
    """One condition of a where clause: ``dataset.variable comparator values``."""

    dataset: str
    variable: str
    comparator: str
    values: list[str]
    _always = frozenset({"dataset", "variable", "comparator", "values"})


@dataclass
class WhereClause(_Record):
    """def:WhereClauseDef: its range checks all hold (logical AND)."""

    oid: str
    checks: list[RangeCheck]
    comment: str | None = None
    _children = {"checks": RangeCheck}
    _always = frozenset({"oid", "checks"})


@dataclass
class ValueLevel(_Record):
    """One value-level row: metadata of ``dataset.variable`` where ``where_clause`` holds.

    Rows sharing dataset and variable form one def:ValueListDef.
    """

    dataset: str
    variable: str
    where_clause: str
    label: str | None = None
    data_type: str = "text"
    length: int | None = None
    significant_digits: int | None = None
    display_format: str | None = None
    core: str | None = None
    codelist: str | None = None
    origin_type: str | None = None
    origin_source: str | None = None
    origin_pages: str | None = None
    origin_description: str | None = None
    method: str | None = None
    comment: str | None = None
    order: int | None = None
    _always = frozenset({"dataset", "variable", "where_clause", "data_type"})


@dataclass
class Spec(_Record):
    """The whole metadata of one package (one define.xml)."""

    study: Study | None = None
    standards: list[Standard] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    datasets: list[DatasetSpec] = field(default_factory=list)
    codelists: list[Codelist] = field(default_factory=list)
    value_level: list[ValueLevel] = field(default_factory=list)
    where_clauses: list[WhereClause] = field(default_factory=list)
    methods: list[Method] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    _children = {
        "standards": Standard, "documents": Document, "datasets": DatasetSpec,
        "codelists": Codelist, "value_level": ValueLevel, "where_clauses": WhereClause,
        "methods": Method, "comments": Comment,
    }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Spec":
        data = dict(data)
        study = data.pop("study", None)
        spec = super().from_dict(data)
        spec.study = Study.from_dict(study) if study else None
        return spec

    def copy(self) -> "Spec":
        """A copy safe to edit: nothing in it is shared with this spec (codelists, methods,
        value-level rows and the rest are copied deeply too), so editing the result of
        :func:`specs.standard_spec` never reaches the next call's. (A pickle round trip: the
        same deep copy as ``copy.deepcopy``, several times faster on a whole standard.)"""
        import pickle

        return pickle.loads(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL))

    # -- lookups -------------------------------------------------------------------
    def dataset(self, name: str) -> DatasetSpec:
        for ds in self.datasets:
            if ds.name == name.upper():
                return ds
        raise KeyError(f"the spec has no dataset {name.upper()}")

    def codelist(self, oid: str) -> Codelist:
        for cl in self.codelists:
            if cl.oid == oid:
                return cl
        raise KeyError(f"the spec has no codelist {oid}")

    def method(self, oid: str) -> Method:
        return _find(self.methods, "oid", oid, "method")

    def comment(self, oid: str) -> Comment:
        return _find(self.comments, "oid", oid, "comment")

    def where_clause(self, oid: str) -> WhereClause:
        return _find(self.where_clauses, "oid", oid, "where clause")

    def value_levels(self, dataset: str, variable: str) -> list[ValueLevel]:
        rows = [v for v in self.value_level if v.dataset == dataset and v.variable == variable]
        return sorted(rows, key=lambda v: (v.order is None, v.order or 0))

    def subset(self, names: list[str] | tuple[str, ...]) -> "Spec":
        """The same spec restricted to some datasets (codelists etc. are kept whole)."""
        wanted = {n.upper() for n in names}
        return Spec(
            study=self.study, standards=self.standards, documents=self.documents,
            datasets=[d for d in self.datasets if d.name in wanted],
            codelists=self.codelists,
            value_level=[v for v in self.value_level if v.dataset in wanted],
            where_clauses=self.where_clauses, methods=self.methods, comments=self.comments,
        )

    def iter_variables(self) -> Iterator[tuple[DatasetSpec, VariableSpec]]:
        for ds in self.datasets:
            for var in ds.variables:
                yield ds, var


def _find(items: list, attr: str, key: str, what: str):
    for item in items:
        if getattr(item, attr) == key:
            return item
    raise KeyError(f"the spec has no {what} {key}")
