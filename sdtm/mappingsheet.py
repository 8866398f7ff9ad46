"""The study config's mappings as a sheet of a spec workbook, as sdtm.oak's spec-driven users keep them.

A study config's ``raw.files.<DOMAIN>.map`` (:mod:`sdtm.algorithms`) can live in a **Mapping**
sheet of the workbook its ``spec`` key names; ``trialpack spec export STUDY.json OUT.xlsx`` writes
it. One row per mapping, columns:

============  ====================================================================================
Form          the raw form (DM, AE, EX, DS)
Variable      the SDTM variable the mapping gives
Algorithm     field, extract, constant, template, first_of, datetime
Field         the field (extract, field), or the fields, comma-separated (first_of; datetime: date, time)
Argument      the regex (extract), the constant (constant: an empty cell is null), the template
Condition     empty for a mapping; for ``cases``, one row per case with its condition, then a row
              ``else``: ``F equals "x"``, ``F in ("a", "b")``, ``F is empty``, ``F is not empty``,
              ``F in codelist PROTMLST``, joined by `` and ``
Value map     the mapping's value map as JSON (``{"Screen Failure": null}``)
============  ====================================================================================

Rows of one variable are consecutive; a variable's rows with conditions make its ``cases``.
:func:`sheet_rows` and :func:`mappings_from_rows` are inverse (JSON -> sheet -> JSON gives the
same mappings; tests/test_mappingsheet.py); a cell that cannot be read is refused naming the
sheet, row and column.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from specs.errors import InputError

SHEET = "Mapping"
HEADER = ("Form", "Variable", "Algorithm", "Field", "Argument", "Condition", "Value map")
ALGORITHMS = ("field", "extract", "constant", "template", "first_of", "datetime")
_QUOTED = r'"((?:[^"\\]|\\.)*)"'


# -- JSON -> rows --------------------------------------------------------------------------------


def sheet_rows(maps: dict[str, dict[str, Any]]) -> list[list[Any]]:
    """Rows (:data:`HEADER`) of ``{DOMAIN: {VARIABLE: mapping}}``."""
    rows = []
    for domain, variables in maps.items():
        for variable, mapping in variables.items():
            if isinstance(mapping, dict) and "cases" in mapping:
                for case in mapping["cases"]:
                    rows.append([domain, variable, *_cells(case["then"]), condition_text(case["when"]),
                                 _value_map_cell(case["then"])])
                if "else" in mapping:
                    rows.append([domain, variable, *_cells(mapping["else"]), "else", _value_map_cell(mapping["else"])])
                if "value_map" in mapping:   # the value map of the whole cases mapping: on a row of its own
                    rows.append([domain, variable, None, None, None, "all", _value_map_cell(mapping)])
            else:
                rows.append([domain, variable, *_cells(mapping), None, _value_map_cell(mapping)])
    return rows


def _cells(mapping: Any) -> list[Any]:
    """Algorithm, Field, Argument of a mapping (a bare value in a case is a constant)."""
    if not isinstance(mapping, dict):   # a bare value of a case: a constant
        return ["constant", None, mapping]
    if "extract" in mapping:
        return ["extract", mapping["field"], mapping["extract"]]
    if "field" in mapping:
        return ["field", mapping["field"], None]
    if "constant" in mapping:
        return ["constant", None, mapping["constant"]]
    if "template" in mapping:
        return ["template", None, mapping["template"]]
    if "first_of" in mapping:
        return ["first_of", ", ".join(mapping["first_of"]), None]
    if "date" in mapping:
        return ["datetime", ", ".join([mapping["date"], *([mapping["time"]] if "time" in mapping else [])]), None]
    raise ValueError(f"a mapping inside cases cannot be written as one row: {mapping!r}")


def _value_map_cell(mapping: Any) -> str | None:
    if isinstance(mapping, dict) and "value_map" in mapping:
        return json.dumps(mapping["value_map"], ensure_ascii=False)
    return None


def condition_text(when: Any) -> str:
    """A condition in the sheet's words (see the module docstring)."""
    parts = []
    for cond in when if isinstance(when, list) else [when]:
        name = cond["field"]
        if "equals" in cond:
            parts.append(f"{name} equals {_quote(cond['equals'])}")
        elif "in" in cond:
            parts.append(f"{name} in (" + ", ".join(_quote(v) for v in cond["in"]) + ")")
        elif "empty" in cond:
            parts.append(f"{name} is {'' if cond['empty'] else 'not '}empty")
        else:
            parts.append(f"{name} in codelist {cond['in_codelist']}")
    return " and ".join(parts)


def _quote(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- rows -> JSON --------------------------------------------------------------------------------


def mappings_from_rows(rows: list[tuple[int, dict[str, Any]]], *, file: Path | None = None) -> dict[str, dict]:
    """``{DOMAIN: {VARIABLE: mapping}}`` of the sheet's rows (row number, cells by header)."""
    out: dict[str, dict[str, Any]] = {}
    for number, cells in rows:
        def fail(message: str, column: str) -> None:
            raise InputError(message, file=file, sheet=SHEET, row=number, column=column)

        domain, variable = _required(cells, "Form", fail), _required(cells, "Variable", fail)
        condition = cells.get("Condition")
        if condition in (None, ""):
            if variable in out.get(domain, {}):
                fail(f"{domain}.{variable} already has a mapping (rows of one variable with conditions make "
                     "its cases; without, there is one row)", "Variable")
            out.setdefault(domain, {})[variable] = _mapping(cells, fail)
            continue
        current = out.setdefault(domain, {}).setdefault(variable, {"cases": []})
        if not isinstance(current, dict) or "cases" not in current:
            fail(f"{domain}.{variable} has a plain mapping above; a variable's rows are all cases or one mapping",
                 "Condition")
        if str(condition).strip().lower() == "else":
            current["else"] = _branch(cells, fail)
        elif str(condition).strip().lower() == "all":
            current["value_map"] = _value_map(cells, fail)
        else:
            current["cases"].append({"when": parse_condition(str(condition), fail), "then": _branch(cells, fail)})
    return out


def _required(cells: dict, column: str, fail) -> str:
    value = cells.get(column)
    if value in (None, ""):
        fail(f"{column} is empty", column)
    return str(value).strip()


def _mapping(cells: dict, fail) -> dict:
    algorithm = str(cells.get("Algorithm") or "").strip().lower()
    fields = [f.strip() for f in str(cells.get("Field") or "").split(",") if f.strip()]
    argument = cells.get("Argument")
    if algorithm not in ALGORITHMS:
        fail(f"algorithm {algorithm or '(empty)'!r} is none of {', '.join(ALGORITHMS)}", "Algorithm")
    if algorithm in ("field", "extract") and len(fields) != 1:
        fail(f"{algorithm} reads one field", "Field")
    if algorithm == "first_of" and not fields:
        fail("first_of names its fields, comma-separated", "Field")
    if algorithm == "datetime" and len(fields) not in (1, 2):
        fail("datetime names a date field and, optionally, a time field", "Field")
    mapping = {"field": {"field": fields[0] if fields else None},
               "extract": {"field": fields[0] if fields else None, "extract": argument},
               "constant": {"constant": argument if argument != "" else None},
               "template": {"template": argument},
               "first_of": {"first_of": fields},
               "datetime": dict(zip(("date", "time"), fields))}[algorithm]
    if cells.get("Value map") not in (None, ""):
        mapping["value_map"] = _value_map(cells, fail)
    return mapping


def _branch(cells: dict, fail) -> Any:
    """A case's then (or else): a constant without a value map is a bare value, as in JSON."""
    mapping = _mapping(cells, fail)
    return mapping["constant"] if set(mapping) == {"constant"} else mapping


def _value_map(cells: dict, fail) -> dict:
    try:
        value = json.loads(cells["Value map"])
    except (ValueError, TypeError) as exc:
        fail(f"the value map is not JSON ({exc})", "Value map")
    if not isinstance(value, dict) or not all(v is None or isinstance(v, str) for v in value.values()):
        fail('the value map is a JSON object of texts or null, e.g. {"Screen Failure": null}', "Value map")
    return value


_CONDITION = re.compile(
    rf"^\s*(?P<field>[A-Za-z_][\w]*)\s+(?:"
    rf"equals\s+(?P<equals>{_QUOTED}|-?\d+(?:\.\d+)?)"
    rf"|in\s+codelist\s+(?P<codelist>[A-Za-z0-9_]+)"
    rf"|in\s+\((?P<in>.*)\)"
    rf"|is\s+(?P<not>not\s+)?empty)\s*$", re.I)


def parse_condition(text: str, fail) -> Any:
    """A condition of the sheet (see the module docstring) as JSON: one, or a list joined by ``and``."""
    parts = []
    for part in re.split(r"\s+and\s+(?=[A-Za-z_]\w*\s+(?:equals|in|is)\b)", text.strip(), flags=re.I):
        m = _CONDITION.match(part)
        if m is None:
            fail(f"condition {part!r} is none of: F equals \"x\", F in (\"a\", \"b\"), F is empty, F is not empty, "
                 "F in codelist NAME", "Condition")
        name = m["field"]
        if m["equals"] is not None:
            parts.append({"field": name, "equals": _literal(m["equals"])})
        elif m["codelist"] is not None:
            parts.append({"field": name, "in_codelist": m["codelist"]})
        elif m["in"] is not None:
            values = re.findall(rf"{_QUOTED}|(-?\d+(?:\.\d+)?)", m["in"])
            parts.append({"field": name, "in": [_literal(f'"{q}"' if q or not n else n) for q, n in values]})
        else:
            parts.append({"field": name, "empty": m["not"] is None})
    return parts[0] if len(parts) == 1 else parts


def _literal(text: str) -> Any:
    if text.startswith('"'):
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return float(text) if "." in text else int(text)


# -- workbook I/O ----------------------------------------------------------------------------------


def write_mapping_sheet(wb, maps: dict[str, dict[str, Any]]) -> None:
    """Add the Mapping sheet of ``maps`` to an openpyxl workbook."""
    from specs.workbook import write_rows

    ws = wb.create_sheet(SHEET)
    write_rows(ws, list(HEADER), sheet_rows(maps))


def read_mapping_sheet(path: Path) -> dict[str, dict] | None:
    """The mappings of a workbook's Mapping sheet (None when it has none); cells are read as they
    are (a formula is refused, naming its cell)."""
    from openpyxl import load_workbook

    from specs.workbook import check_xlsx_package

    check_xlsx_package(path, error=InputError)
    wb = load_workbook(path, read_only=True, data_only=False)
    try:
        ws = next((w for w in wb.worksheets if w.title.strip().lower() == SHEET.lower()), None)
        if ws is None:
            return None
        rows = list(ws.iter_rows(values_only=True))
    finally:
        wb.close()
    if not rows:
        return {}
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    missing = [h for h in HEADER if h.lower() not in [x.lower() for x in header]]
    if missing:
        raise InputError(f"the Mapping sheet lacks column(s) {', '.join(missing)}", file=path, sheet=SHEET, row=1)
    index = {h.lower(): i for i, h in enumerate(header)}
    out = []
    for number, values in enumerate(rows[1:], start=2):
        if all(v in (None, "") for v in values):
            continue
        cells = {h: values[index[h.lower()]] if index[h.lower()] < len(values) else None for h in HEADER}
        for column, value in cells.items():
            if isinstance(value, str) and value.startswith("="):
                raise InputError("a formula cell; the Mapping sheet holds values", file=path, sheet=SHEET, row=number,
                                 column=column)
        out.append((number, cells))
    return mappings_from_rows(out, file=path)
