"""Mapping algorithms: how a study config's ``raw.files.<DOMAIN>.map`` makes SDTM values from raw fields.

After sdtm.oak's reusable algorithms, each a column of its mapping spec (``assign_no_ct`` /
``assign_ct``: a field; ``hardcode_no_ct`` / ``hardcode_ct``: a constant; ``assign_datetime``:
date and time fields; ``condition_add``: a condition), in the study config's JSON. A mapping is:

``"FIELD"``                          the field's value;
``{"constant": V}``                  the same value on every record (null allowed);
``{"field": F, "extract": RE}``      the part of F the regex's one group captures (no match: null);
``{"template": "{F1}-{F2}"}``        text built from fields (null when one of them is empty);
``{"first_of": [F1, F2, ...]}``      the first non-empty of the fields;
``{"date": F, "time": G}``           an ISO 8601 date-time from a date and a time field;
``{"cases": [{"when": C, "then": M}, ...], "else": M}``
                                     the first case whose condition holds; ``C`` is
                                     ``{"field": F, "equals": V}``, ``{"field": F, "in": [..]}``,
                                     ``{"field": F, "empty": true|false}``, ``{"field": F,
                                     "in_codelist": "PROTMLST"}`` or a list of these (all hold);
                                     ``M`` a mapping, or a bare value (a constant).

Any mapping may add ``"value_map": {raw: value}`` (keys trimmed, any case; a value may be null),
applied to its result. :func:`check_mapping` refuses, at load, what cannot work (a regex that does
not compile or has not one group, a field the raw file does not map, an unknown form);
:func:`evaluate` computes a mapping over a raw frame, vectorised, and says which of its parts
could silently produce nothing across the whole file (a regex that never matches, a condition
never true): the caller reports those as warnings with counts.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

import pandas as pd

from specs.errors import InputError, did_you_mean

KINDS = ("field", "constant", "template", "first_of", "date", "cases")
CONDITIONS = ("equals", "in", "empty", "in_codelist")


@dataclass
class Evaluated:
    """A mapping's values over a raw frame, and what in it never applied across the frame."""

    values: pd.Series
    silent: list[str] = field(default_factory=list)


@dataclass
class Context:
    """What evaluating a mapping may need beyond the raw fields: the terms of a CDISC codelist by
    its submission value (``in_codelist``), and the study's date reader (``date`` + ``time``:
    raw date text and raw time text -> ISO 8601, with the date findings made on its rows)."""

    codelist_terms: Callable[[str], list[str] | None] = lambda name: None
    datetime: Callable[[pd.Series, pd.Series | None], pd.Series] | None = None


# -- checks at load ---------------------------------------------------------------------------


def kind_of(mapping: Any) -> str:
    """The algorithm a mapping names (a bare string is a field)."""
    if isinstance(mapping, str):
        return "field"
    if not isinstance(mapping, dict):
        return "constant"
    named = [k for k in KINDS if k in mapping]
    return named[0] if len(named) == 1 else ""


def check_mapping(mapping: Any, fields: list[str], fail: Callable[[str, str], None], path: str,
                  codelist_known: Callable[[str], bool] = lambda name: True) -> None:
    """Refuse (``fail(message, json_path)``) a mapping that cannot work, naming its JSON path."""
    kind = kind_of(mapping)
    if not kind:
        named = [k for k in KINDS if isinstance(mapping, dict) and k in mapping]
        fail(f"a mapping names exactly one of {', '.join(KINDS)}; this one names "
             f"{', '.join(named) or 'none'}", path)
    if kind == "field":
        name = mapping if isinstance(mapping, str) else mapping["field"]
        _check_field(name, fields, fail, path if isinstance(mapping, str) else f"{path}.field")
        if isinstance(mapping, dict) and "extract" in mapping:
            _check_regex(mapping["extract"], fail, f"{path}.extract")
    elif kind == "template":
        names = re.findall(r"\{([^{}]*)\}", mapping["template"])
        if not names:
            fail("a template names its fields in braces, e.g. \"{SITE}-{PATIENT}\"", f"{path}.template")
        for name in names:
            _check_field(name, fields, fail, f"{path}.template")
    elif kind == "first_of":
        for i, name in enumerate(mapping["first_of"]):
            _check_field(name, fields, fail, f"{path}.first_of[{i}]")
    elif kind == "date":
        _check_field(mapping["date"], fields, fail, f"{path}.date")
        if "time" in mapping:
            _check_field(mapping["time"], fields, fail, f"{path}.time")
    elif kind == "cases":
        for i, case in enumerate(mapping["cases"]):
            for j, cond in enumerate(_conditions(case["when"])):
                where = f"{path}.cases[{i}].when" + (f"[{j}]" if isinstance(case["when"], list) else "")
                _check_field(cond["field"], fields, fail, f"{where}.field")
                if "in_codelist" in cond and not codelist_known(cond["in_codelist"]):
                    fail(f"in_codelist names {cond['in_codelist']!r}, which is no codelist of the study's spec",
                         f"{where}.in_codelist")
            if not _is_value(case["then"]):
                check_mapping(case["then"], fields, fail, f"{path}.cases[{i}].then", codelist_known)
        if "else" in mapping and not _is_value(mapping["else"]):
            check_mapping(mapping["else"], fields, fail, f"{path}.else", codelist_known)


def _check_field(name: str, fields: list[str], fail, path: str) -> None:
    if name not in fields:
        fail(f"field {name!r} is not mapped in this raw file's columns{did_you_mean(name, fields)}", path)


def _check_regex(pattern: str, fail, path: str) -> None:
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        fail(f"the regular expression {pattern!r} does not compile: {exc}", path)
        return
    if compiled.groups != 1:
        fail(f"the regular expression {pattern!r} has {compiled.groups} groups; it needs exactly one, "
             "around the part to take", path)


def _conditions(when: Any) -> list[dict]:
    return when if isinstance(when, list) else [when]


def _is_value(mapping: Any) -> bool:
    """A bare value in a case (``then``/``else``): a text, number or null, not a mapping."""
    return mapping is None or isinstance(mapping, (str, int, float))


def fields_of(mapping: Any) -> list[str]:
    """Every raw field a mapping reads (so that the fields it names count as used)."""
    kind = kind_of(mapping)
    if kind == "field":
        return [mapping if isinstance(mapping, str) else mapping["field"]]
    if kind == "template":
        return re.findall(r"\{([^{}]*)\}", mapping["template"])
    if kind == "first_of":
        return list(mapping["first_of"])
    if kind == "date":
        return [mapping["date"], *([mapping["time"]] if "time" in mapping else [])]
    if kind == "cases":
        out = [c["field"] for case in mapping["cases"] for c in _conditions(case["when"])]
        for then in [*(case["then"] for case in mapping["cases"]), mapping.get("else")]:
            if not _is_value(then):
                out += fields_of(then)
        return out
    return []


# -- evaluation -------------------------------------------------------------------------------------


def evaluate(mapping: Any, raw: pd.DataFrame, context: Context | None = None) -> Evaluated:
    """The values of ``mapping`` for every record of ``raw`` (fields as columns), its value map
    applied, and the parts of it that never applied across the frame."""
    context = context or Context()
    kind = kind_of(mapping)
    out = {"field": _take, "constant": _constant, "template": _template, "first_of": _first_of,
           "date": _datetime, "cases": _cases}[kind](mapping, raw, context)
    if isinstance(mapping, dict) and "value_map" in mapping:
        out.values = apply_value_map(out.values, mapping["value_map"])
    return out


def _take(mapping, raw: pd.DataFrame, context: Context) -> Evaluated:
    """A field's value; with ``extract``, the part its regex's one group captures."""
    name = mapping if isinstance(mapping, str) else mapping["field"]
    values = raw[name]
    if not isinstance(mapping, dict) or "extract" not in mapping:
        return Evaluated(values.copy())
    taken = values.astype("string").str.extract(mapping["extract"], expand=False)
    taken = taken.where(taken.notna() & (taken.str.len() > 0))
    silent = []
    present = int(values.notna().sum())
    if present and not taken.notna().any():
        silent.append(f"extract {mapping['extract']!r} matches none of the {present} values of {name}")
    return Evaluated(_text(taken, raw.index), silent)


def _constant(mapping, raw: pd.DataFrame, context: Context) -> Evaluated:
    value = mapping["constant"] if isinstance(mapping, dict) else mapping
    return Evaluated(pd.Series([value] * len(raw), index=raw.index, dtype=object))


def _template(mapping, raw: pd.DataFrame, context: Context) -> Evaluated:
    """The template's text with each ``{FIELD}`` replaced; null where a field named is empty."""
    out = pd.Series("", index=raw.index, dtype=object)
    missing = pd.Series(False, index=raw.index)
    for literal, name in re.findall(r"([^{]*)(?:\{([^{}]*)\})?", mapping["template"]):
        out = out + literal
        if name:
            missing |= raw[name].isna()
            out = out + raw[name].astype(object).fillna("").astype(str)
    return Evaluated(_text(out.where(~missing), raw.index))


def _first_of(mapping, raw: pd.DataFrame, context: Context) -> Evaluated:
    out = pd.Series(None, index=raw.index, dtype=object)
    for name in mapping["first_of"]:
        out = out.where(out.notna(), raw[name].astype(object))
    return Evaluated(_text(out, raw.index))


def _datetime(mapping, raw: pd.DataFrame, context: Context) -> Evaluated:
    if context.datetime is None:   # pragma: no cover - the mapper always gives the study's date reader
        raise InputError("a date + time mapping needs the study's date formats")
    time = raw[mapping["time"]] if "time" in mapping else None
    return Evaluated(context.datetime(raw[mapping["date"]], time))


def _cases(mapping, raw: pd.DataFrame, context: Context) -> Evaluated:
    """The first case whose condition holds gives the value; ``else`` (null without one) the rest."""
    out = pd.Series(None, index=raw.index, dtype=object)
    decided = pd.Series(False, index=raw.index)
    silent: list[str] = []
    for i, case in enumerate(mapping["cases"]):
        holds = condition(case["when"], raw, context)
        if len(raw) and not holds.any():
            silent.append(f"case {i + 1}'s condition ({describe(case['when'])}) holds for none of the "
                          f"{len(raw)} records")
        take = holds & ~decided
        if take.any():
            then = _branch(case["then"], raw, context, silent)
            out = out.mask(take, then)
        decided |= holds
    if "else" in mapping and (~decided).any():
        out = out.mask(~decided, _branch(mapping["else"], raw, context, silent))
    return Evaluated(_text(out, raw.index), silent)


def _branch(mapping, raw: pd.DataFrame, context: Context, silent: list[str]) -> pd.Series:
    if _is_value(mapping):
        return pd.Series([mapping] * len(raw), index=raw.index, dtype=object)
    got = evaluate(mapping, raw, context)
    silent += got.silent
    return got.values.astype(object)


def condition(when: Any, raw: pd.DataFrame, context: Context) -> pd.Series:
    """Where a condition (or every condition of a list) holds; values compared trimmed, any case."""
    holds = pd.Series(True, index=raw.index)
    for cond in _conditions(when):
        values = raw[cond["field"]].astype("string").str.strip().str.upper()
        if "equals" in cond:
            test = values == _norm(cond["equals"])
        elif "in" in cond:
            test = values.isin([_norm(v) for v in cond["in"]])
        elif "empty" in cond:
            test = values.isna() if cond["empty"] else values.notna()
        else:
            terms = context.codelist_terms(cond["in_codelist"]) or []
            test = values.isin([_norm(t) for t in terms])
        holds &= test.fillna(False).astype(bool)
    return holds


def describe_mapping(mapping: Any) -> str:
    """A mapping in words, for the aCRF and the define's comments."""
    kind = kind_of(mapping)
    if kind == "field":
        name = mapping if isinstance(mapping, str) else mapping["field"]
        text = f"part of {name} by {mapping['extract']}" if isinstance(mapping, dict) and "extract" in mapping else name
    elif kind == "constant":
        text = f"always {mapping['constant']!r}"
    elif kind == "template":
        text = f"{mapping['template']!r}"
    elif kind == "first_of":
        text = "the first of " + ", ".join(mapping["first_of"]) + " given"
    elif kind == "date":
        text = f"{mapping['date']} with time {mapping['time']}" if "time" in mapping else mapping["date"]
    else:
        cases = [f"{_branch_text(c['then'])} if {describe(c['when'])}" for c in mapping["cases"]]
        text = "; ".join(cases) + (f"; else {_branch_text(mapping['else'])}" if "else" in mapping else "")
    if isinstance(mapping, dict) and "value_map" in mapping:
        text += ", value-mapped"
    return text


def _branch_text(mapping: Any) -> str:
    return repr(mapping) if _is_value(mapping) else describe_mapping(mapping)


def describe(when: Any) -> str:
    """A condition as text, for messages."""
    parts = []
    for cond in _conditions(when):
        what = next(k for k in CONDITIONS if k in cond)
        parts.append(f"{cond['field']} {what.replace('_', ' ')} {cond[what]!r}")
    return " and ".join(parts)


def apply_value_map(values: pd.Series, value_map: dict[str, Any]) -> pd.Series:
    """Raw values found in ``value_map`` (keys trimmed, any case, runs of spaces as one) take the
    mapped value (which may be null); every other value is kept as it is."""
    keys = {_norm(k): v for k, v in value_map.items()}
    norm = values.astype("string").str.strip().str.upper().str.replace(r"\s+", " ", regex=True)
    found = norm.isin(list(keys)).fillna(False).to_numpy(dtype=bool)
    out = values.astype(object).copy()
    out[found] = norm[found].map(keys).to_numpy(dtype=object)
    return _text(out, values.index)


def _norm(value: Any) -> str:
    return " ".join(str(value).split()).upper()


def _text(values: pd.Series, index: pd.Index) -> pd.Series:
    from sdtm.common import text

    values = values.astype(object)
    return text(values.where(values.notna(), None).to_numpy(dtype=object), index)
