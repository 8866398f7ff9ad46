"""specs: the metadata layer — model, loaders (JSON, xlsx), conform and check."""
from specs.errors import InputError, SpecError, TrialpackError
from specs.model import (
    Codelist, CodelistItem, Comment, DatasetSpec, Document, Method, RangeCheck, Spec,
    Standard, Study, ValueLevel, VariableSpec, WhereClause,
)

__all__ = [
    "Codelist", "CodelistItem", "Comment", "DatasetSpec", "Document", "InputError", "Method",
    "RangeCheck", "Spec", "SpecError", "Standard", "Study", "TrialpackError", "ValueLevel",
    "VariableSpec", "WhereClause",
]
