"""The raw forms trialpack maps and the CDASH-like fields each can hold.

The fields are metadata, kept with their aCRF annotations in ``sdtm/data/crf_annotations.json``
(``forms.<DOMAIN>.fields``): a study config may map exactly those fields of a form (plus the
fields its ``supplemental`` qualifiers name), so a misspelt field is refused, never silently
left unread (:func:`sdtm.config.check_study_config`).
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

ANNOTATIONS_FILE = Path(__file__).parent / "data" / "crf_annotations.json"


@lru_cache(maxsize=None)
def read_annotation_table() -> dict[str, Any]:
    """The annotation table as shipped (read once; callers must not change it)."""
    return json.loads(ANNOTATIONS_FILE.read_text(encoding="utf-8"))


def form_fields(domain: str) -> tuple[str, ...]:
    """The fields a raw ``domain`` form can map, in the table's order (empty for an unknown form)."""
    form = read_annotation_table()["forms"].get(domain)
    return tuple(form["fields"]) if form else ()


def supplies(domain: str) -> dict[str, list[str]]:
    """Form field -> the variables of ``domain`` it supplies (the annotation table's ``supplies``)."""
    form = read_annotation_table()["forms"].get(domain, {"fields": {}})
    out = {}
    for name, fld in form["fields"].items():
        targets = fld.get("supplies") or [t for case in fld.get("cases", []) for t in case.get("supplies", [])]
        out[name] = [t.split(".", 1)[1] for t in targets if t.startswith(f"{domain}.")]
    return out


def consuming_field(domain: str, variable: str) -> str | None:
    """The form field through which the mapper derives ``variable``: the field of the same name,
    else the first field whose first supply it is (AESTDTC <- AESTDAT; ARMCD <- ARM)."""
    fields = supplies(domain)
    if variable in fields and variable in fields[variable]:
        return variable
    return next((name for name, targets in fields.items() if targets[:1] == [variable]), None)


def collection_fields(variable: str) -> tuple[str, str] | None:
    """The CDASH date and time fields of a ``--DTC`` variable (AEDTC -> AEDAT, AETIM)."""
    if not variable.endswith("DTC"):
        return None
    stem = variable[:-3]
    return f"{stem}DAT", f"{stem}TIM"
