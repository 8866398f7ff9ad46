"""specs: the metadata layer — model, loaders (JSON, xlsx), conform and check.

>>> import specs
>>> sdtm = specs.standard_spec("sdtmig-3.4")
>>> dm = specs.conform(raw_dm, sdtm.dataset("DM"))          # spec order and types
>>> found = specs.check(dm, sdtm.dataset("DM"), sdtm)        # findings as a DataFrame

Holds: ``model`` (the typed spec), ``load`` (JSON spec files, the shipped standard specs),
``workbook`` (the spec as xlsx), ``rules`` (a spec's semantic rules), ``shape`` (``conform``),
``checks`` (``check``), ``findings``, ``errors``, ``iso8601``, ``formats`` (SAS display
formats), ``lengths``, ``columns`` (column operations on Arrow-backed text), ``jsonio`` (JSON
files and their schemas), ``dictionaries``, ``clock`` (the build's one clock), and the shipped
schemas, standard specs and dictionaries.

The ground floor: imports no other package of trialpack's (third-party libraries only); every
package above may import it (tests/test_layering.py).
"""
from specs.checks import check
from specs.errors import InputError, SpecError, TrialpackError
from specs.load import load_spec, save_spec, standard_spec
from specs.model import (
    Codelist, CodelistItem, Comment, DatasetSpec, Document, Method, RangeCheck, Spec,
    Standard, Study, ValueLevel, VariableSpec, WhereClause,
)
from specs.rules import validate_spec
from specs.shape import conform

__all__ = [
    "Codelist", "CodelistItem", "Comment", "DatasetSpec", "Document", "InputError", "Method",
    "RangeCheck", "Spec", "SpecError", "Standard", "Study", "TrialpackError", "ValueLevel",
    "VariableSpec", "WhereClause", "check", "conform", "load_spec", "save_spec",
    "standard_spec", "validate_spec",
]
