"""Read JSON files and validate them against trialpack's JSON Schemas, with exact locations.

Every error names the file and either the line (malformed JSON) or the JSON path of the
offending value (schema violation).
"""
from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from specs.errors import InputError, SpecError, did_you_mean

SCHEMA_DIR = Path(__file__).parent / "schema"


@lru_cache(maxsize=None)
def validator(schema_name: str):
    """A jsonschema validator for ``specs/schema/<schema_name>.schema.json``. The shipped
    schemas are not checked against their metaschema here, on every start (0.06-0.09 s each,
    on the way to the first config): tests/test_jsonio.py checks each one."""
    schema = json.loads((SCHEMA_DIR / f"{schema_name}.schema.json").read_text(encoding="utf-8"))
    return schema_validator(schema, checked=True)


def schema_validator(schema: dict, cls=None, *, checked: bool = False):
    """A jsonschema validator (of ``cls``, else the schema's draft) whose ``pattern`` keyword
    reads regular expressions as JSON Schema defines them (ECMA-262): ``$`` ends the string.
    jsonschema hands the pattern to Python's ``re``, where ``$`` also matches before a final
    newline, so ``"DM\n"`` would pass ``^[A-Z][A-Z0-9_]{0,7}$``. The schema itself is checked
    against its draft's metaschema unless it is ``checked`` already."""
    import jsonschema

    cls = cls or jsonschema.validators.validator_for(schema)
    if not checked:
        cls.check_schema(schema)
    strict = jsonschema.validators.extend(cls, {"pattern": _ecma_pattern_keyword})
    return strict(schema)


def _ecma_pattern_keyword(validator, pattern: str, instance, schema):
    from jsonschema.exceptions import ValidationError

    if validator.is_type(instance, "string") and not ecma_regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@lru_cache(maxsize=None)
def ecma_regex(pattern: str) -> re.Pattern:
    """An ECMA-262 regular expression in Python: every ``$`` outside a character class (and
    not escaped) becomes ``\\Z``, the end of the string, as it is in JavaScript."""
    out, escaped, in_class = [], False, False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "$":
            ch = r"\Z"
        out.append(ch)
    return re.compile("".join(out))


def read_json(file: Path, *, error: type[InputError] = InputError) -> Any:
    """Parse a UTF-8 JSON file (a byte-order mark is accepted) with :func:`parse_json`."""
    try:
        text = Path(file).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=file, offset=exc.start) from None
    except FileNotFoundError:
        raise error("file not found", file=file) from None
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror}", file=file) from None
    try:
        return parse_json(text)
    except json.JSONDecodeError as exc:
        raise error(f"malformed JSON: {exc.msg}", file=file, row=exc.lineno,
                    column=f"character {exc.colno}") from None
    except JsonContentError as exc:
        line, column = _position(text, exc.literal) if exc.literal else (None, None)
        raise error(exc.message, file=file, row=line, column=column and f"character {column}",
                    path=json_path(exc.parts)) from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise error(f"malformed JSON: {str(exc).split(';')[0]}", file=file) from None
    except RecursionError:
        raise error("malformed JSON: nested too deeply", file=file) from None


class JsonContentError(ValueError):
    """JSON text that parses but is refused: a ``NaN``/``Infinity`` literal (Python's json
    accepts them, JSON does not), a number that overflows a double, or a key given twice in
    one object (the last would silently win). ``parts`` locate it (:func:`json_path`);
    ``literal`` is the offending number as written, if it is one."""

    def __init__(self, message: str, parts: list, literal: str | None = None) -> None:
        super().__init__(message)
        self.message, self.parts, self.literal = message, parts, literal


class _NonFinite:
    """Stands in for a ``NaN``/``Infinity`` literal or an overflowing number while parsing."""

    __slots__ = ("literal",)

    def __init__(self, literal: str) -> None:
        self.literal = literal


class _DuplicateKeys(dict):
    """An object that held ``duplicate`` twice."""

    duplicate: str = ""


def parse_json(text: str, *, check_floats: bool = True) -> Any:
    """``json.loads`` that refuses (:class:`JsonContentError`, with the JSON path) what JSON
    does not allow or cannot mean: ``NaN``/``Infinity``/``-Infinity``, duplicate keys and,
    with ``check_floats``, numbers such as ``1e400`` that overflow to infinity (a caller
    with millions of numbers can leave that off and check its arrays itself). Malformed
    text raises ``json.JSONDecodeError`` as ``json.loads`` does."""
    found = False

    def constant(literal: str) -> _NonFinite:
        nonlocal found
        found = True
        return _NonFinite(literal)

    def number(literal: str):
        value = float(literal)
        return value if math.isfinite(value) else constant(literal)

    def pairs(items: list) -> dict:
        nonlocal found
        obj = dict(items)
        if len(obj) < len(items):
            found = True
            seen: set = set()
            obj = _DuplicateKeys(obj)
            obj.duplicate = next(k for k, _ in items if k in seen or seen.add(k))
        return obj

    value = json.loads(text, parse_constant=constant, object_pairs_hook=pairs,
                       parse_float=number if check_floats else None)
    if found:
        raise _first_problem(value, [])
    return value


def _first_problem(value: Any, parts: list) -> JsonContentError | None:
    """The first refused item in document order (walked only when there is one)."""
    if isinstance(value, _NonFinite):
        return JsonContentError(f"malformed JSON: {value.literal} is not a finite number (JSON has no "
                                "NaN or infinity)", parts, value.literal)
    if isinstance(value, _DuplicateKeys):
        return JsonContentError(f"the key {value.duplicate!r} appears twice in one object (JSON keys "
                                "must be unique; nothing is overwritten silently)",
                                [*parts, value.duplicate])
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        problem = _first_problem(item, [*parts, key])
        if problem is not None:
            return problem
    return None


_STRING_OR_CONSTANT = re.compile(r'"(?:[^"\\]|\\.)*"|(-?Infinity|NaN|-?[0-9][0-9.eE+-]*)')


def _position(text: str, constant: str) -> tuple[int, int]:
    """Line and column (1-based) of the first ``constant`` outside a JSON string."""
    for match in _STRING_OR_CONSTANT.finditer(text):
        if match.group(1) == constant:
            before = text[: match.start()]
            return before.count("\n") + 1, match.start() - before.rfind("\n")
    return 1, 1  # pragma: no cover - the decoder only calls us for a constant in the text


def json_path(parts: Iterable[Any]) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def first_schema_error(data: Any, schema_name: str):
    errors = sorted(validator(schema_name).iter_errors(data), key=lambda e: list(e.absolute_path))
    return errors[0] if errors else None


def schema_message(err) -> str:
    """A readable message for a jsonschema error."""
    field = err.absolute_path[-1] if err.absolute_path else None
    if err.validator == "pattern" and str(err.validator_value).startswith("^[A-Z][A-Z0-9_]"):
        return (f"{err.instance!r} is not a valid SAS name (1-8 characters, upper-case letter "
                f"first, then A-Z, 0-9 or _)")
    if err.validator == "maxLength" and field == "label":
        return f"label {err.instance!r} is longer than {err.validator_value} characters"
    if err.validator == "maximum" and field == "length":
        return f"length {err.instance} is over the XPT v5 limit of 200 bytes"
    if err.validator == "additionalProperties" and err.validator_value is False and unknown_keys(err):
        key, known = unknown_keys(err)[0], list(err.schema.get("properties", {}))
        return f"unknown key {key!r}{did_you_mean(key, known)}; known keys here: {', '.join(known)}"
    if err.validator == "additionalProperties":
        return f"unknown key: {err.message}"
    if err.validator == "required":
        return f"missing key: {err.message}"
    return err.message


def unknown_keys(err) -> list[str]:
    """The keys an ``additionalProperties: false`` error is about, in the object's order."""
    schema = err.schema
    patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
    return [k for k in err.instance if k not in schema.get("properties", {})
            and not any(p.search(k) for p in patterns)]


def schema_error_path(err) -> str:
    """Where the error is: the object's path, and for an unknown key the key itself."""
    parts = list(err.absolute_path)
    if err.validator == "additionalProperties" and err.validator_value is False:
        extra = unknown_keys(err)
        if extra:
            parts.append(extra[0])
    return json_path(parts)


def check_schema(data: Any, schema_name: str, file: Path | None, *, error: type[InputError] = InputError) -> None:
    err = first_schema_error(data, schema_name)
    if err is not None:
        raise error(schema_message(err), file=file, path=schema_error_path(err))


def load_json(file: Path, schema_name: str, *, error: type[InputError] = InputError) -> Any:
    """Read ``file`` and validate it against the named schema."""
    data = read_json(file, error=error)
    check_schema(data, schema_name, file, error=error)
    return data


__all__ = ["JsonContentError", "SpecError", "check_schema", "ecma_regex", "json_path", "load_json",
           "parse_json", "read_json", "schema_message", "schema_validator", "validator"]
