"""The Trial Summary parameters: which ones FDA expects (``sdtm/data/fda_trial_summary.json``),
the codelist of each (the spec's value-level metadata of TS.TSVAL), how a study config gives
their values, and the load-time check of those values (:func:`check_config_values`).

Kept apart from :mod:`sdtm.ts`, which builds TS from a loaded config, so that loading a config
(:mod:`sdtm.config`) can check its TS values without the two modules importing each other.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from specs.errors import InputError, did_you_mean
from specs.model import Codelist, Spec

FDA_FILE = Path(__file__).parent / "data" / "fda_trial_summary.json"
#: TS parameters a study config gives through its own keys (not ``trial_summary``).
DESIGN_KEYS = {"TITLE": "title", "TPHASE": "phase", "SPONSOR": "sponsor", "INDIC": "indication"}


@lru_cache(maxsize=1)
def fda_parameters() -> dict[str, Any]:
    """The FDA-expected TS parameter set (``sdtm/data/fda_trial_summary.json``)."""
    return json.loads(FDA_FILE.read_text(encoding="ascii"))


def parameter_codelists(spec: Spec) -> dict[str, str | None]:
    """TSPARMCD -> codelist OID (or None) of each value-level row of TS.TSVAL, in the spec's order."""
    out: dict[str, str | None] = {}
    for vl in spec.value_levels("TS", "TSVAL") if "TS" in [d.name for d in spec.datasets] else []:
        checks = spec.where_clause(vl.where_clause).checks
        if len(checks) == 1 and checks[0].variable == "TSPARMCD" and len(checks[0].values) == 1:
            out[checks[0].values[0]] = vl.codelist
    return out


def entries(entry) -> list[dict]:
    """A config TS value (text, number, object or list of them) as a list of objects."""
    items = entry if isinstance(entry, list) else [entry]
    return [i if isinstance(i, dict) else {"value": str(i)} for i in items]


def codelist_of(spec: Spec, oid: str | None) -> Codelist | None:
    if oid is None:
        return None
    try:
        return spec.codelist(oid)
    except KeyError:
        return None


def check_config_values(data: dict, file: Path, spec: Spec) -> None:
    """The TS values a study config (``data``, read from ``file``) gives, refused naming the JSON
    path, in order: a parameter the spec's TS does not describe; a ``trial_summary`` value for a
    parameter its own key gives (``indication`` ...: trial_summary may add the code only); a
    value of a CDISC CT parameter that is not a term of its codelist (``phase`` too), or one given
    a code (C-codes are looked up, never typed); a code without its code system, or a code system
    that is not a DICTNAM term."""
    codelists = parameter_codelists(spec)
    systems = codelist_of(spec, "CL.DICTNAM")
    places = [(f"$.{key}", code, data[key]) for code, key in DESIGN_KEYS.items() if data.get(key) is not None]
    places += [(f"$.trial_summary.{code}", code, entry) for code, entry in data.get("trial_summary", {}).items()]
    for path, code, entry in places:
        if code not in codelists:
            raise InputError(f"{code} is not a TS parameter of the spec{did_you_mean(code, list(codelists))}",
                             file=file, path=path)
        if path.startswith("$.trial_summary") and data.get(DESIGN_KEYS.get(code, "")) is not None \
                and any("value" in e for e in entries(entry)):
            raise InputError(f"TS {code} is given by {DESIGN_KEYS[code]!r}: trial_summary.{code} may give its "
                             "code only", file=file, path=path)
        many = isinstance(entry, list)
        for i, item in enumerate(entries(entry)):
            _check_entry(item, code, codelist_of(spec, codelists[code]), systems, file,
                         f"{path}[{i}]" if many else path)


def _check_entry(item: dict, code: str, cl: Codelist | None, systems: Codelist | None, file: Path,
                 where: str) -> None:
    def fail(message: str, path: str) -> None:
        raise InputError(message, file=file, path=path)

    if cl is not None and not cl.is_external:
        if "code" in item:
            fail(f"{code} takes a CDISC CT term, whose C-code is looked up in {cl.oid}: give no code", f"{where}.code")
        if "value" in item and str(item["value"]) not in cl.values():
            fail(f"{item['value']!r} is not a term of {cl.name} ({cl.oid}), the codelist of TS {code}"
                 f"{did_you_mean(str(item['value']), cl.values())}", where)
    if "code" in item and not item.get("code_system"):
        fail(f"the code {item['code']!r} of TS {code} has no code system (code_system: e.g. SNOMED, UNII, MED-RT)",
             where)
    known = systems.values() if systems is not None else []
    if item.get("code_system") and known and item["code_system"] not in known:
        fail(f"code system {item['code_system']!r} is not a Dictionary Name (DICTNAM) term"
             f"{did_you_mean(item['code_system'], known)}", f"{where}.code_system")
