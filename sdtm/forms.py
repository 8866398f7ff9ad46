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
