"""specs: the metadata layer — model, loaders (JSON, xlsx), conform and check.

>>> import specs
>>> sdtm = specs.standard_spec("sdtmig-3.4")
>>> dm = specs.conform(raw_dm, sdtm.dataset("DM"))          # spec order and types
>>> found = specs.check(dm, sdtm.dataset("DM"), sdtm)        # findings as a DataFrame
"""
from specs.checks import check
from specs.errors import InputError, SpecError, TrialpackError
from specs.load import load_spec, save_spec, standard_spec, validate_spec
from specs.model import (
    Codelist, CodelistItem, Comment, DatasetSpec, Document, Method, RangeCheck, Spec,
    Standard, Study, ValueLevel, VariableSpec, WhereClause,
)
from specs.shape import conform

__all__ = [
    "Codelist", "CodelistItem", "Comment", "DatasetSpec", "Document", "InputError", "Method",
    "RangeCheck", "Spec", "SpecError", "Standard", "Study", "TrialpackError", "ValueLevel",
    "VariableSpec", "WhereClause", "check", "conform", "load_spec", "save_spec",
    "standard_spec", "validate_spec",
]
