"""CDISC Dataset-JSON v1.1: write and read ``.json`` and ``.ndjson`` datasets.

Dataset-JSON v1.1 (CDISC, 2024-12-05) holds one dataset per file: top-level metadata,
``columns`` (itemOID, name, label, dataType, targetDataType, length, displayFormat,
keySequence) and ``rows`` (arrays of values; ``null`` is missing, ``""`` an empty string).
The NDJSON form puts the metadata object on line 1 and one row array per further line.

Types (the specification's "Supported Column Data Type Combinations"), as written here:

=================================  ===========  ============  ===========================
frame column / spec data_type      dataType     JSON value    targetDataType
=================================  ===========  ============  ===========================
text (and URI)                     string       string
integer (values integral)          integer      integer
float                              double       number        (``decimals="number"``)
float, Decimal objects             decimal      string        decimal (exact digits)
bool                               boolean      boolean
datetime64 / date with DATE fmt    date         ISO 8601      integer (a SAS numeric)
datetime64 (DATETIME fmt/default)  datetime     ISO 8601      integer
timedelta64, time (TIME fmt)       time         ISO 8601      integer
spec date/datetime/time (text)     same         string as-is
=================================  ===========  ============  ===========================

Doubles are written with the shortest representation that reads back to the same
double, so nothing is lost; decimals as strings keep every digit given (Decimal objects)
or the double's shortest exact digits, in plain notation (no exponent).

Every file written is validated against the official v1.1 JSON schema (shipped in
``fileformats/data/schemas/dataset-json-1.1``); every file read is validated too, and a
failure names the JSON path (``$.columns[3].dataType``). The NDJSON schema as published
refers to ``#/$defs/Column`` and ``#/$defs/SourceSystem`` without defining them; they are
taken from the JSON schema (same model). The schemas validate the metadata; the rows, which
the schema only requires to be arrays, are checked here column by column against their
dataType, with the path of the first bad value.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from dataclasses import dataclass, field as dc_field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from importlib.metadata import version
from operator import methodcaller
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from fileformats._variables import field, resolve_entries
from fileformats.xpt._text import check_spec_length
from specs.errors import InputError
from specs.formats import parse_format, temporal_kind
from specs.jsonio import JsonContentError, json_path, parse_json, schema_validator
from specs.model import NUMERIC_TYPES

VERSION = "1.1.0"
#: The writing tool's version (sourceSystem), from its installed distribution: no import of the application.
TRIALPACK_VERSION = version("trialpack")
_SCHEMA_DIR = "data/schemas/dataset-json-1.1"
_ISO_TYPES = {"date": "date", "partialDate": "date", "datetime": "datetime",
              "partialDatetime": "datetime", "incompleteDatetime": "datetime", "time": "time",
              "partialTime": "time"}
_DEFAULT_FORMAT = {"date": "DATE9.", "datetime": "DATETIME20.", "time": "TIME8."}
_ROWS_PER_CHUNK = 20_000
_INT64_MIN, _INT64_END = -2 ** 63, 2 ** 63
_FLOAT_MAX = int(np.finfo(np.float64).max)


# -- schemas ---------------------------------------------------------------------------


def _load_schema(name: str) -> dict:
    raw = resources.files("fileformats").joinpath(f"{_SCHEMA_DIR}/{name}").read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = raw.decode("utf-16")  # the published NDJSON schema is UTF-16 with a BOM
    else:
        text = raw.decode("utf-8-sig")
    return json.loads(text)


@lru_cache(maxsize=None)
def _validator(ndjson: bool):
    from jsonschema import Draft201909Validator

    schema = _load_schema("dataset.schema.json")
    if ndjson:
        metadata = _load_schema("dataset-ndjson-schema.json")
        defs = metadata.setdefault("$defs", {})
        for name, definition in schema["$defs"].items():
            defs.setdefault(name, definition)  # fill the published schema's dangling $refs
        schema = metadata
    return schema_validator(schema, Draft201909Validator)  # ``$`` as ECMA-262 reads it


def _validate(document: dict, ndjson: bool, file) -> None:
    errors = sorted(_validator(ndjson).iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        raise InputError(f"does not match the Dataset-JSON v1.1 schema: {first.message}",
                         file=file, path=first.json_path)


# -- metadata classes --------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetJsonColumn:
    """One entry of ``columns``; also reads as a spec entry for :func:`write_xpt`."""

    item_oid: str
    name: str
    label: str
    data_type: str                      # the Dataset-JSON dataType
    target_data_type: str | None = None
    length: int | None = None
    display_format: str | None = None
    key_sequence: int | None = None

    @property
    def spec_data_type(self) -> str:
        """The Define-XML data type: SAS numerics are integer/float, the rest text types."""
        if self.target_data_type == "integer":
            return "integer"
        if self.data_type in ("integer",):
            return "integer"
        if self.data_type in ("decimal", "float", "double"):
            return "float"
        if self.data_type in ("date", "datetime", "time"):
            return self.data_type
        return "text"

    def as_spec(self) -> dict[str, Any]:
        """A ``write_xpt``-ready variable: temporal numerics get their (default) format."""
        fmt = self.display_format
        if self.target_data_type == "integer" and self.data_type in _DEFAULT_FORMAT:
            fmt = fmt or _DEFAULT_FORMAT[self.data_type]
        numeric = self.spec_data_type in NUMERIC_TYPES
        return {"name": self.name, "label": self.label, "data_type": self.spec_data_type,
                "length": None if numeric else self.length, "display_format": fmt}

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"itemOID": self.item_oid, "name": self.name, "label": self.label,
                               "dataType": self.data_type}
        for key, value in (("targetDataType", self.target_data_type), ("length", self.length),
                           ("displayFormat", self.display_format), ("keySequence", self.key_sequence)):
            if value is not None:
                out[key] = value
        return out


@dataclass
class DatasetJsonMetadata:
    """Top-level attributes of a Dataset-JSON file and its columns."""

    name: str
    label: str
    item_group_oid: str
    columns: list[DatasetJsonColumn]
    records: int
    created: str
    version: str = VERSION
    file_oid: str | None = None
    db_last_modified: str | None = None
    originator: str | None = None
    source_system: dict[str, str] | None = None
    study_oid: str | None = None
    metadata_version_oid: str | None = None
    metadata_ref: str | None = None
    extra: dict[str, Any] = dc_field(default_factory=dict)

    @property
    def variables(self) -> list[dict[str, Any]]:
        """The columns as ``write_xpt`` variables."""
        return [c.as_spec() for c in self.columns]

    @property
    def keys(self) -> list[str]:
        keyed = sorted((c.key_sequence, c.name) for c in self.columns if c.key_sequence)
        return [name for _, name in keyed]

    def to_json(self) -> dict[str, Any]:
        """The metadata in the specification's attribute order (rows go last)."""
        out: dict[str, Any] = {"datasetJSONCreationDateTime": self.created,
                               "datasetJSONVersion": self.version}
        optional = (("fileOID", self.file_oid), ("dbLastModifiedDateTime", self.db_last_modified),
                    ("originator", self.originator), ("sourceSystem", self.source_system),
                    ("studyOID", self.study_oid), ("metaDataVersionOID", self.metadata_version_oid),
                    ("metaDataRef", self.metadata_ref))
        out.update({k: v for k, v in optional if v is not None})
        out.update({"itemGroupOID": self.item_group_oid, "records": self.records, "name": self.name,
                    "label": self.label, "columns": [c.to_json() for c in self.columns]})
        return out


# -- writing ------------------------------------------------------------------------------


def _iso_created(moment: dt.datetime | str | None) -> str:
    if isinstance(moment, str):
        return moment
    if moment is None:
        from specs.clock import default_created

        moment = default_created(aware=True)
    moment = moment.replace(microsecond=0)
    return moment.isoformat()


def _as_list(values: np.ndarray, missing: np.ndarray) -> list:
    out = np.asarray(values, dtype=object)
    if missing.any():
        out = out.copy()
        out[missing] = None
    return out.tolist()


def _as_entry(entry: Any) -> Any:
    """Dataset-JSON columns given back as variables keep their OID and exact dataType."""
    if isinstance(entry, DatasetJsonColumn):
        return {**entry.as_spec(), "length": entry.length, "item_oid": entry.item_oid,
                "json_type": entry.data_type}
    return entry


def _kind_of(series: pd.Series, entry: Any) -> tuple[str, str | None]:
    """(Dataset-JSON dataType, temporal kind of a numeric with a date/time format)."""
    if field(entry, "json_type") in ("decimal", "float", "URI", "boolean"):
        return field(entry, "json_type"), None
    spec_type = field(entry, "data_type")
    fmt = field(entry, "display_format")
    fmt_kind = temporal_kind(parse_format(fmt)[0]) if fmt else None
    dtype = series.dtype
    if spec_type is not None and spec_type not in NUMERIC_TYPES:
        if spec_type in _ISO_TYPES:
            return _ISO_TYPES[spec_type], None
        return ("string" if spec_type != "boolean" else "boolean"), None
    if fmt_kind and (spec_type in NUMERIC_TYPES or dtype.kind in "Mm" or dtype == object):
        return fmt_kind, fmt_kind  # a SAS date/datetime/time numeric, exchanged as ISO 8601
    if dtype.kind == "M" or isinstance(dtype, pd.DatetimeTZDtype):
        return "datetime", "datetime"
    if dtype.kind == "m":
        return "time", "time"
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean", None
    if spec_type == "integer":
        return "integer", None
    if spec_type == "float":
        return "double", None
    if pd.api.types.is_integer_dtype(dtype):
        return "integer", None
    if pd.api.types.is_float_dtype(dtype):
        return "double", None
    if dtype == object or isinstance(dtype, pd.CategoricalDtype):
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        if inferred == "decimal":
            return "decimal", None
        if inferred == "date":
            return "date", "date"
        if inferred in ("datetime", "datetime64"):
            return "datetime", "datetime"
        if inferred == "time":
            return "time", "time"
        if inferred in ("integer",):
            return "integer", None
        if inferred in ("floating", "mixed-integer-float"):
            return "double", None
        if inferred == "boolean":
            return "boolean", None
    return "string", None


def _fail(message: str, file, name: str, row: int | None = None) -> InputError:
    return InputError(message, file=file, column=name, row=row)


def _temporal_strings(series: pd.Series, kind: str, name: str, file) -> list:
    """ISO 8601 text of datetime64/date/time values (None where missing)."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        raise _fail("has timezone-aware datetimes; convert to local clock time first", file, name)
    if series.dtype == object:
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        if inferred == "time":
            series = pd.to_timedelta(series.astype(str).where(series.notna()))
        else:
            series = pd.Series(_datetime64_us(series), index=series.index)
    values = series.to_numpy()
    missing = pd.isna(values)
    if values.dtype.kind == "m":
        us = values.astype("timedelta64[us]").astype(np.int64)
        bad = ~missing & ((us < 0) | (us >= 86_400_000_000))
        if bad.any():
            raise _fail("holds a duration outside 00:00:00-24:00:00, which is not an ISO 8601 "
                        "time of day", file, name, int(np.argmax(bad)) + 1)
        values = np.datetime64("1970-01-01T00:00:00", "us") + values.astype("timedelta64[us]")
        kind = "time"
    whole = values.astype("datetime64[s]")
    fine = not bool(((whole != values) & ~missing).any())
    if kind == "date":
        day = values.astype("datetime64[D]")
        timed = (day != values) & ~missing
        if timed.any():
            raise _fail("has a time of day but is written as a date; nothing is truncated",
                        file, name, int(np.argmax(timed)) + 1)
        text = np.datetime_as_string(day, unit="D")
    else:
        text = np.datetime_as_string(values, unit="s" if fine else "us")
        if kind == "time":
            text = _time_part(text)
    return _as_list(text, missing)


def _time_part(text: np.ndarray) -> np.ndarray:
    """``hh:mm:ss[.ffffff]`` of ISO datetimes ``YYYY-MM-DDThh:mm:ss[.ffffff]`` (all one width)."""
    width = text.dtype.itemsize // 4
    if not len(text) or width <= 11:
        return text
    chars = np.ascontiguousarray(text.astype(f"U{width}")).view("U1").reshape(len(text), width)
    return np.ascontiguousarray(chars[:, 11:]).view(f"U{width - 11}").ravel()


def _plain_decimal(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    return np.format_float_positional(value, unique=True, trim="-")


def _column_values(series: pd.Series, data_type: str, temporal: str | None, name: str,
                   file, decimals: str) -> tuple[list, str]:
    """JSON values of a column and its final dataType."""
    if temporal:
        return _temporal_strings(series, temporal, name, file), data_type
    if data_type in ("string", "date", "datetime", "time"):
        values = series.to_numpy(dtype=object, na_value=None)
        kinds = set(map(type, values)) - {type(None)}
        if kinds - {str}:
            odd = next(i for i, v in enumerate(values) if v is not None and not isinstance(v, str))
            raise _fail(f"value {values[odd]!r} is not text but the column is {data_type}",
                        file, name, odd + 1)
        return values.tolist(), data_type
    if data_type == "boolean":
        return series.astype(object).where(series.notna(), None).tolist(), data_type
    if data_type == "decimal":
        values = series.to_numpy(dtype=object)
        missing = pd.isna(values)
        present = np.where(missing, Decimal(0), values)
        return _as_list(np.fromiter(map(_plain_decimal, present), dtype=object, count=len(values)),
                        missing), data_type
    try:
        numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise _fail(f"holds values that are not numbers but the column is {data_type}", file,
                    name) from None
    missing = np.isnan(numbers)
    infinite = np.isinf(numbers)
    if infinite.any():
        raise _fail("holds an infinite value, which JSON cannot represent", file, name,
                    int(np.argmax(infinite)) + 1)
    if data_type == "integer":
        fraction = ~missing & (numbers != np.round(numbers))
        if fraction.any():
            raise _fail(f"value {numbers[np.argmax(fraction)].item()!r} is not an integer but the "
                        "column is integer", file, name, int(np.argmax(fraction)) + 1)
        if pd.api.types.is_integer_dtype(series.dtype):
            return _as_list(series.to_numpy(dtype=object, na_value=None), missing), data_type
        return _as_list(np.where(missing, 0, numbers).astype(np.int64), missing), data_type
    if decimals == "string":
        text = np.fromiter(map(_plain_decimal, np.where(missing, 0.0, numbers).tolist()),
                           dtype=object, count=len(numbers))
        return _as_list(text, missing), "decimal"
    return _as_list(numbers, missing), data_type


def _text_length(values: list, spec_length: int | None, name: str, file) -> int:
    """The column's ``length``: the spec length, which no value may exceed (the check
    write_xpt makes), else the longest value; in UTF-8 bytes, as define.xml and XPT count."""
    lengths = _utf8_lengths(values)
    if spec_length is None:
        return max(int(lengths.max(initial=0)), 1)
    check_spec_length(lengths, int(spec_length), lambda i: i + 1, name, file, values)
    return int(spec_length)


def _utf8_lengths(values: list) -> np.ndarray:
    """Bytes of each text value (None: 0), without encoding the ASCII ones."""
    text = np.array(values, dtype=object)
    text[pd.isna(text)] = ""
    if not "".join(text).isascii():
        text = np.fromiter(map(methodcaller("encode", "utf-8"), text), dtype=object, count=len(text))
    return np.fromiter(map(len, text), dtype=np.int64, count=len(text))


def write_dataset_json(
    df: pd.DataFrame,
    path: str | os.PathLike,
    *,
    name: str | None = None,
    label: str = "",
    variables: Iterable | None = None,
    keys: Iterable[str] | None = None,
    study_oid: str | None = None,
    metadata_version_oid: str | None = None,
    metadata_ref: str | None = None,
    item_group_oid: str | None = None,
    file_oid: str | None = None,
    originator: str | None = None,
    source_system: dict[str, str] | None = None,
    created: dt.datetime | str | None = None,
    db_last_modified: str | None = None,
    decimals: str = "number",
) -> Path:
    """Write ``df`` as Dataset-JSON v1.1: NDJSON when ``path`` ends in ``.ndjson``, else JSON.

    Column metadata comes from ``variables`` (as for :func:`fileformats.xpt.write_xpt`:
    VariableSpec, XptVariable, DatasetJsonColumn or dicts) or is inferred from the dtypes;
    ``keys`` lists the key variables in order (keySequence 1, 2, ...). ``itemOID`` is
    ``IT.<NAME>.<VAR>`` and ``itemGroupOID`` ``IG.<NAME>`` unless given. ``decimals="string"``
    writes float columns as the ``decimal`` dataType (strings, plain notation, exact).
    ``created`` defaults to ``SOURCE_DATE_EPOCH``, else now. The file is validated against
    the official schema before it is moved into place (written beside it, then renamed).
    """
    target = Path(path)
    file = target.name
    ndjson = _is_ndjson(target)
    name = (name or target.stem).upper()
    if decimals not in ("number", "string"):
        raise InputError(f"decimals={decimals!r}: use 'number' or 'string'", file=file)
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"expected a pandas DataFrame, got {type(df).__name__}", file=file)
    entries = [_as_entry(e) for e in resolve_entries(df, variables, file)]
    key_order = {k: i for i, k in enumerate(keys or [], start=1)}
    unknown = [k for k in key_order if k not in df.columns]
    if unknown:
        raise InputError(f"key variable {unknown[0]!r} is not a column", file=file)
    columns, values = [], []
    for entry in entries:
        var = field(entry, "name")
        series = df[var]
        data_type, temporal = _kind_of(series, entry)
        column_values, data_type = _column_values(series, data_type, temporal, var, file, decimals)
        values.append(column_values)
        spec_length = field(entry, "length")
        textual = data_type in ("string", "date", "datetime", "time") and not temporal
        length = _text_length(column_values, spec_length, var, file) if textual else \
            (spec_length if data_type == "decimal" else None)
        fmt = field(entry, "display_format") or (_DEFAULT_FORMAT.get(temporal) if temporal else None)
        columns.append(DatasetJsonColumn(
            item_oid=field(entry, "item_oid") or f"IT.{name}.{var}", name=var,
            label=field(entry, "label") or "", data_type=data_type,
            target_data_type="integer" if temporal else ("decimal" if data_type == "decimal" else None),
            length=length, display_format=fmt, key_sequence=key_order.get(var)))
    meta = DatasetJsonMetadata(
        name=name, label=label or "", item_group_oid=item_group_oid or f"IG.{name}",
        columns=columns, records=len(df), created=_iso_created(created), file_oid=file_oid,
        db_last_modified=db_last_modified, originator=originator,
        source_system=source_system or {"name": "trialpack", "version": TRIALPACK_VERSION},
        study_oid=study_oid, metadata_version_oid=metadata_version_oid, metadata_ref=metadata_ref)
    header = meta.to_json()
    _validate(header, ndjson, file)
    rows = list(zip(*values)) if values else []
    _write_text_atomically(target, _render(header, rows, ndjson))
    return target


def _render(header: dict, rows: list, ndjson: bool):
    """The file's text in pieces: NDJSON lines, or JSON with one row per line.

    Rows are encoded by the json module's C encoder, one call per row (a row is a flat
    array of scalars), joined a chunk at a time.
    """
    encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
    if ndjson:
        yield encode(header) + "\n"
        for start in range(0, len(rows), _ROWS_PER_CHUNK):
            yield "\n".join(map(encode, rows[start:start + _ROWS_PER_CHUNK])) + "\n"
        return
    yield encode(header)[:-1] + ', "rows": ['
    for start in range(0, len(rows), _ROWS_PER_CHUNK):
        yield ("," if start else "") + "\n" + ",\n".join(map(encode, rows[start:start + _ROWS_PER_CHUNK]))
    yield "\n]}\n"


def _write_text_atomically(target: Path, pieces) -> None:
    if not target.parent.is_dir():
        raise InputError(f"the output folder {str(target.parent)!r} does not exist", file=target.name)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as out:
            for piece in pieces:
                out.write(piece)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _is_ndjson(path: Path) -> bool:
    suffix = path.suffix.lower()
    if suffix not in (".json", ".ndjson"):
        raise InputError("a Dataset-JSON file name ends in .json or .ndjson", file=path.name)
    return suffix == ".ndjson"


# -- reading ------------------------------------------------------------------------------


def _parse(text: str, file, line: int | None = None, located=None):
    """JSON text (the document, or NDJSON line ``line``); ``located(parts)`` turns the parts of
    a refused item's JSON path into the path to report (default: ``$...``)."""
    try:
        return parse_json(text, check_floats=False)  # numbers: checked per column, vectorised
    except json.JSONDecodeError as exc:
        where = f"line {line}" if line else f"line {exc.lineno}, column {exc.colno}"
        raise InputError(f"is not valid JSON ({exc.msg} at {where})", file=file) from None
    except JsonContentError as exc:
        raise InputError(exc.message, file=file,
                         path=(located or json_path)(exc.parts)) from None
    except ValueError as exc:  # an integer of more digits than Python converts
        raise InputError(f"is not valid JSON ({str(exc).split(';')[0]})", file=file) from None
    except RecursionError:
        raise InputError("is not valid JSON (nested too deeply)", file=file) from None


def _load(path: Path, ndjson: bool) -> tuple[dict, list]:
    file = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", file=file) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"is not UTF-8 text (byte offset {exc.start})", file=file,
                         offset=exc.start) from None
    if not ndjson:
        document = _parse(text, file)
        if not isinstance(document, dict):
            raise InputError("does not match the Dataset-JSON v1.1 schema: the top level is not an "
                             "object", file=file, path="$")
        rows = document.pop("rows", None)
        _validate(document, False, file)
        if rows is None:
            rows = []
        elif not isinstance(rows, list):
            raise InputError("does not match the Dataset-JSON v1.1 schema: rows is not an array",
                             file=file, path="$.rows")
        return document, rows
    lines = text.split("\n")
    document = _parse(lines[0], file, 1)
    if not isinstance(document, dict):
        raise InputError("line 1 of an NDJSON Dataset-JSON file must be the metadata object",
                         file=file, path="$")
    _validate(document, True, file)
    body = [line for line in lines[1:] if line.strip()]
    try:
        rows = parse_json("[" + ",".join(body) + "]", check_floats=False)
    except (ValueError, RecursionError):
        for number, line in enumerate(lines[1:], start=2):  # error path: find the bad line
            if line.strip():
                _parse(line, file, number, lambda parts, n=number: _line_path(n, parts))
        raise
    return document, rows


def _check_rows(rows: list, width: int, file, ndjson: bool) -> None:
    shapes = [isinstance(r, list) and len(r) == width for r in rows]
    if not all(shapes):
        i = shapes.index(False)
        path = f"$ (line {i + 2})" if ndjson else f"$.rows[{i}]"
        raise InputError(f"row {i + 1} is not an array of {width} values (one per column)",
                         file=file, path=path)


def _line_path(line: int, parts: list) -> str:
    return f"{json_path(parts)} (line {line})"


def _value_path(ndjson: bool, row: int, column: int) -> str:
    return f"$[{column}] (line {row + 2})" if ndjson else f"$.rows[{row}][{column}]"


def _typed(values: list, allowed: tuple, what: str, j: int, name: str, file, ndjson: bool) -> None:
    kinds = set(map(type, values)) - {type(None)}
    if kinds - set(allowed):
        i = next(i for i, v in enumerate(values) if v is not None and type(v) not in allowed)
        raise InputError(f"value {values[i]!r} is not {what}", file=file, column=name,
                         path=_value_path(ndjson, i, j))


def _datetime64_us(values: pd.Series, *, iso: bool = False) -> np.ndarray:
    """Dates/datetimes (objects, or ISO 8601 text with ``iso``) as datetime64[us]. pandas 2
    converts through nanoseconds, which end in 2262: for dates beyond that range numpy
    converts directly (years 1-9999, as in SAS and Dataset-JSON)."""
    try:
        converted = pd.to_datetime(values, format="ISO8601") if iso else pd.to_datetime(values)
        return converted.to_numpy().astype("datetime64[us]")
    except pd.errors.OutOfBoundsDatetime:
        return np.array(values.where(values.notna(), None).tolist(), dtype="datetime64[us]")


def _parse_iso(values: list, kind: str, j: int, name: str, file, ndjson: bool) -> np.ndarray:
    texts = pd.Series(values, dtype=object)
    try:
        if kind == "time":
            return pd.to_timedelta(texts).to_numpy().astype("timedelta64[us]")
        return _datetime64_us(texts, iso=True)
    except (ValueError, TypeError):
        for i, text in enumerate(values):  # error path: name the first value that fails
            if text is None:
                continue
            try:
                (pd.to_timedelta if kind == "time" else pd.to_datetime)(text)
            except (ValueError, TypeError):
                raise InputError(f"value {text!r} is not an ISO 8601 {kind}", file=file,
                                 column=name, path=_value_path(ndjson, i, j)) from None
        raise


def _read_column(values: list, column: DatasetJsonColumn, j: int, file, ndjson: bool,
                 decimals: str):
    name, data_type = column.name, column.data_type
    if data_type in ("string", "URI") or (data_type in ("date", "datetime", "time")
                                           and column.target_data_type != "integer"):
        _typed(values, (str,), "text", j, name, file, ndjson)
        return pd.Series(values) if values else pd.Series([], dtype=object)  # null -> missing
    if data_type in ("date", "datetime", "time"):
        _typed(values, (str,), f"an ISO 8601 {data_type} string", j, name, file, ndjson)
        return _parse_iso(values, data_type, j, name, file, ndjson)
    if data_type == "boolean":
        _typed(values, (bool,), "true or false", j, name, file, ndjson)
        return pd.array(values, dtype="boolean")
    if data_type == "integer":
        _typed(values, (int, float), "an integer", j, name, file, ndjson)
        if float not in set(map(type, values)):
            try:
                return pd.array(values, dtype="Int64")
            except (OverflowError, TypeError):  # pandas raises either beyond 64 bits
                i = next(i for i, v in enumerate(values) if v is not None and not _INT64_MIN <= v < _INT64_END)
                raise _outside_int64(values[i], name, file, _value_path(ndjson, i, j)) from None
        numbers = _numbers(values, j, name, file, ndjson)
        outside = ~np.isnan(numbers) & ((numbers < _INT64_MIN) | (numbers >= _INT64_END))
        if outside.any():
            i = int(np.argmax(outside))
            raise _outside_int64(values[i], name, file, _value_path(ndjson, i, j))
        fractional = ~np.isnan(numbers) & (numbers != np.round(numbers))
        if fractional.any():
            i = int(np.argmax(fractional))
            raise InputError(f"value {values[i]!r} is not an integer", file=file, column=name,
                             path=_value_path(ndjson, i, j))
        return pd.array(numbers, dtype="Float64").astype("Int64")
    if data_type == "decimal":
        _typed(values, (str, int, float), "a decimal", j, name, file, ndjson)
        present = np.array(values, dtype=object)
        missing = pd.isna(present)
        if decimals == "decimal":
            try:
                exact = np.fromiter(map(Decimal, map(str, np.where(missing, "0", present))),
                                    dtype=object, count=len(values))
            except InvalidOperation:
                exact = None
            finite = exact is not None and all(map(Decimal.is_finite, exact))
            if not finite:
                bad = next(i for i, v in enumerate(values) if v is not None and not _is_decimal(v))
                raise InputError(f"value {values[bad]!r} is not a decimal number", file=file,
                                 column=name, path=_value_path(ndjson, bad, j))
            return pd.Series(np.where(missing, None, exact), dtype=object)
        try:  # str -> float goes through Python's float(): correctly rounded
            numbers = np.where(missing, "nan", present.astype(str)).astype(np.float64)
        except ValueError:
            numbers = np.full(len(values), np.inf)  # located below
        if np.isinf(numbers).any() or np.isnan(numbers[~missing]).any():
            bad = next(i for i, v in enumerate(values) if v is not None and not _is_decimal(v))
            raise InputError(f"value {values[bad]!r} is not a decimal number", file=file,
                             column=name, path=_value_path(ndjson, bad, j))
        return numbers
    _typed(values, (int, float), "a number", j, name, file, ndjson)
    numbers = _numbers(values, j, name, file, ndjson)
    infinite = np.isinf(numbers)
    if infinite.any():
        i = int(np.argmax(infinite))
        raise InputError("holds a number beyond the range of a double (it would read as infinity)",
                         file=file, column=name, path=_value_path(ndjson, i, j))
    return numbers


def _outside_int64(value, name: str, file, path: str) -> InputError:
    return InputError(f"value {_number_text(value)} is outside the 64-bit integer range of an "
                      "integer column",
                      file=file, column=name, path=path)


def _number_text(value) -> str:
    """A number for a one-line message: very long integers by their first digits and size."""
    text = repr(value)
    return text if len(text) <= 24 else f"{text[:12]}... ({len(text.lstrip('-'))} digits)"


def _numbers(values: list, j: int, name: str, file, ndjson: bool) -> np.ndarray:
    """float64 of JSON numbers (None -> NaN); an integer too large even for a double is refused."""
    try:
        return np.array(values, dtype=np.float64)
    except OverflowError:
        i = next(i for i, v in enumerate(values) if isinstance(v, int) and abs(v) > _FLOAT_MAX)
        raise InputError(f"value {_number_text(values[i])} is too large for any number type", file=file,
                         column=name, path=_value_path(ndjson, i, j)) from None


def _is_decimal(value: Any) -> bool:
    """A finite decimal number (``"NaN"`` and ``"Infinity"`` are not)."""
    try:
        return Decimal(str(value)).is_finite() and np.isfinite(float(str(value)))
    except (InvalidOperation, ValueError):
        return False


def read_dataset_json(path: str | os.PathLike, *, decimals: str = "float"
                      ) -> tuple[pd.DataFrame, DatasetJsonMetadata]:
    """Read a Dataset-JSON v1.1 ``.json`` or ``.ndjson`` file into a frame and its metadata.

    The file is validated against the official schema (errors name the JSON path), then
    each column's values against its dataType. ``string`` (and date/datetime/time without
    targetDataType) columns are text, ``null`` -> missing; ``integer`` -> Int64; ``float``/
    ``double`` -> float64; ``decimal`` -> float64 (``decimals="decimal"``: Decimal objects,
    every digit kept); ``boolean`` -> boolean; date/datetime/time with targetDataType
    ``integer`` -> datetime64[us] / timedelta64[us].
    """
    source = Path(path)
    file = source.name
    ndjson = _is_ndjson(source)
    document, rows = _load(source, ndjson)
    columns = [DatasetJsonColumn(
        item_oid=c["itemOID"], name=c["name"], label=c["label"], data_type=c["dataType"],
        target_data_type=c.get("targetDataType"), length=c.get("length"),
        display_format=c.get("displayFormat"), key_sequence=c.get("keySequence"))
        for c in document["columns"]]
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        duplicate = next(n for n in names if names.count(n) > 1)
        raise InputError(f"column {duplicate!r} appears twice", file=file, path="$.columns")
    _check_rows(rows, len(columns), file, ndjson)
    if document["records"] != len(rows):
        raise InputError(f"records says {document['records']} but the file holds {len(rows)} rows",
                         file=file, path="$.records")
    by_column = list(zip(*rows)) if rows else [[] for _ in columns]
    frame = pd.DataFrame({c.name: _read_column(list(values), c, j, file, ndjson, decimals)
                          for j, (c, values) in enumerate(zip(columns, by_column))})
    if not columns:
        frame = pd.DataFrame(index=range(len(rows)))
    known = {"datasetJSONCreationDateTime", "datasetJSONVersion", "fileOID", "dbLastModifiedDateTime",
             "originator", "sourceSystem", "studyOID", "metaDataVersionOID", "metaDataRef",
             "itemGroupOID", "records", "name", "label", "columns"}
    meta = DatasetJsonMetadata(
        name=document["name"], label=document["label"], item_group_oid=document["itemGroupOID"],
        columns=columns, records=document["records"], created=document["datasetJSONCreationDateTime"],
        version=document["datasetJSONVersion"], file_oid=document.get("fileOID"),
        db_last_modified=document.get("dbLastModifiedDateTime"), originator=document.get("originator"),
        source_system=document.get("sourceSystem"), study_oid=document.get("studyOID"),
        metadata_version_oid=document.get("metaDataVersionOID"),
        metadata_ref=document.get("metaDataRef"),
        extra={k: v for k, v in document.items() if k not in known})
    return frame, meta


__all__ = ["DatasetJsonColumn", "DatasetJsonMetadata", "read_dataset_json", "write_dataset_json"]
