"""The semantic rules of a spec: what its JSON Schema cannot express (:func:`validate_spec`).

Every spec is held to them, whatever its source: JSON files (:mod:`specs.load`), a workbook
(:mod:`specs.workbook`, which locates a broken rule by sheet, row and column), a define.xml read
back (:mod:`define.reader`) or a spec built in code. They live apart from the loaders so that
both loaders can use them without importing each other.
"""
from __future__ import annotations

from typing import Callable

from specs.errors import SpecError
from specs.model import DatasetSpec, Spec, ValueLevel, VariableSpec, is_sas_name

MAX_LABEL_BYTES = 40
MAX_LENGTH = 200

#: ``where(obj, field)`` -> keyword arguments locating ``obj.field`` for :class:`SpecError`.
Locator = Callable[[object, "str | None"], dict]


def validate_spec(spec: Spec, where: Locator | None = None) -> None:
    """Rules a schema cannot express; raise :class:`SpecError` at the first one broken.

    In order: unique OIDs and dataset names; dataset and variable names that are SAS v5 names
    as a whole (a schema ``$`` also matches before a final newline, and specs built in code or
    from a workbook skip the schema); per dataset unique variable names, labels of at most 40
    ASCII bytes, lengths of at most 200, keys that are variables; every codelist,
    method, comment, where-clause and document reference resolves; value-level rows name a
    variable of a dataset of the spec.
    """
    where = where or (lambda obj, field: {})
    _unique(spec.datasets, "name", "dataset", where)
    for attr, what in (("codelists", "codelist"), ("methods", "method"), ("comments", "comment"),
                       ("where_clauses", "where clause"), ("standards", "standard")):
        _unique(getattr(spec, attr), "oid", what, where)
    _unique(spec.documents, "id", "document", where)
    refs = _References(spec, where)
    for ds in spec.datasets:
        _check_name(ds, "dataset", where)
        _check_label(ds, ds.label, where)
        for var in ds.variables:
            _check_name(var, f"{ds.name} variable", where)
        _unique(ds.variables, "name", f"variable of {ds.name}", where)
        names = set(ds.names)
        for key in ds.keys:
            if key not in names:
                raise SpecError(f"key variable {key} is not a variable of {ds.name}", **where(ds, "keys"))
        refs.check(ds, comment=ds.comment, standard=ds.standard)
        for var in ds.variables:
            _check_label(var, var.label, where)
            _check_length(var, where)
            refs.check(var, codelist=var.codelist, method=var.method, comment=var.comment)
    for cl in spec.codelists:
        refs.check(cl, comment=cl.comment, standard=cl.standard)
        _unique(cl.items, "value", f"term of codelist {cl.oid}", where)
    for vl in spec.value_level:
        try:
            spec.dataset(vl.dataset).variable(vl.variable)
        except KeyError as exc:
            raise SpecError(f"value-level metadata for an unknown variable: {exc.args[0]}",
                            **where(vl, "variable")) from None
        if vl.label is not None:
            _check_label(vl, vl.label, where)
        _check_length(vl, where)
        refs.check(vl, codelist=vl.codelist, method=vl.method, comment=vl.comment,
                   where_clause=vl.where_clause)
    for wc in spec.where_clauses:
        refs.check(wc, comment=wc.comment)
    for item in (*spec.methods, *spec.comments):
        refs.check(item, document=item.document)


def _unique(items: list, attr: str, what: str, where: Locator) -> None:
    seen: set = set()
    for item in items:
        key = getattr(item, attr)
        if key in seen:
            raise SpecError(f"duplicate {what} {key!r}", **where(item, attr))
        seen.add(key)


def _check_name(obj: DatasetSpec | VariableSpec, what: str, where: Locator) -> None:
    if not is_sas_name(obj.name):
        raise SpecError(f"{what} name {obj.name!r} is not a valid SAS name (1-8 characters, "
                        "upper-case letter first, then A-Z, 0-9 or _)", **where(obj, "name"))


def _check_label(obj: object, label: str, where: Locator) -> None:
    try:
        size = len(label.encode("ascii"))
    except UnicodeEncodeError as exc:
        raise SpecError(f"label {label!r} has a non-ASCII character {label[exc.start]!r}",
                        **where(obj, "label")) from None
    if size > MAX_LABEL_BYTES:
        raise SpecError(f"label {label!r} is {size} bytes; the limit is {MAX_LABEL_BYTES}",
                        **where(obj, "label"))


def _check_length(var: VariableSpec | ValueLevel, where: Locator) -> None:
    if var.length is not None and not 1 <= var.length <= MAX_LENGTH:
        raise SpecError(f"length {var.length} is outside 1..{MAX_LENGTH}", **where(var, "length"))


class _References:
    """Resolve OID references of a spec against its definitions."""

    def __init__(self, spec: Spec, where: Locator) -> None:
        self.where = where
        self.known = {
            "codelist": {c.oid for c in spec.codelists},
            "method": {m.oid for m in spec.methods},
            "comment": {c.oid for c in spec.comments},
            "where_clause": {w.oid for w in spec.where_clauses},
            "standard": {s.oid for s in spec.standards},
            "document": {d.id for d in spec.documents},
        }

    def check(self, obj: object, **refs: str | None) -> None:
        for kind, oid in refs.items():
            if oid is not None and oid not in self.known[kind]:
                raise SpecError(f"unknown {kind.replace('_', ' ')} {oid!r}", **self.where(obj, kind))
