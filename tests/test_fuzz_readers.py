"""Fuzzing the readers of untrusted input: whatever the bytes, the raw CSV and XLSX readers,
the study and ISS config loaders, the spec loader and the XPT reader either return a result
or raise :class:`specs.errors.InputError` (one line naming the file) — never anything else,
and never hang (each example has a deadline). A few generated files go through the CLI too:
exit 2, one line, no traceback.

The date parser is fuzzed in ``tests/test_dates.py``; XPT byte flips of v5 files and damaged
Dataset-JSON documents in ``tests/test_xpt_properties.py`` and ``tests/test_datasetjson.py``.
Here: raw exports, configs, specs, v8 XPT headers and random bytes of every kind.
"""
from __future__ import annotations

import io
import json
import random
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from specs.errors import InputError
from tests.cli_support import one_error_line, run_cli
from tests.minimal_study import CONFIG, ISS_CONFIG, write_minimal_study

FUZZ = settings(max_examples=200, deadline=timedelta(seconds=5), suppress_health_check=[HealthCheck.too_slow])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8)
CSV_ALPHABET = st.sampled_from(list('ab1 ,;\t"\n\r\x00\ufeff\u00e9') + ["0xFF"])


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def survives(call, *args, **kwargs):
    """Run a reader: its result, or None when it raised InputError (a message that names where)."""
    try:
        result = call(*args, **kwargs)
    except InputError as exc:
        event("refused")
        assert exc.message and (exc.file or "SOURCE_DATE_EPOCH" in exc.message), str(exc)
        return None
    event("accepted")
    return result


def survives_json(load, path: Path, document):
    """Write ``document`` as JSON to ``path`` and load it with :func:`survives`."""
    path.write_text(json.dumps(document), encoding="utf-8")
    return survives(load, path)


# -- raw CSV ------------------------------------------------------------------------------------


def read_csv_bytes(folder: Path, data: bytes, *, encoding: str = "utf-8", delimiter: str = ","):
    from fileformats.rawio import read_raw

    path = folder / "raw.csv"
    path.write_bytes(data)
    return survives(read_raw, path, {"A": "a", "B": "b"}, encoding=encoding, delimiter=delimiter)


@FUZZ
@given(st.binary(max_size=2048))
def test_csv_reader_any_bytes(folder, data):
    read_csv_bytes(folder, data)


@FUZZ
@given(st.lists(CSV_ALPHABET, max_size=120).map("".join), st.sampled_from(["utf-8", "latin-1", "cp1252", "utf-16"]),
       st.sampled_from([",", ";", "\t"]))
def test_csv_reader_csv_like_text(folder, body, encoding, delimiter):
    """A header the config maps, then text made of the characters that matter to CSV."""
    text = f"a{delimiter}b\n" + body.replace("0xFF", "\xff")
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    table = read_csv_bytes(folder, data, encoding=encoding, delimiter=delimiter)
    if table is not None:
        rows = table.frame["_RAWROW"].to_numpy()
        assert (rows >= 2).all() and (rows[1:] > rows[:-1]).all()
        assert list(table.frame.columns) == ["_RAWFILE", "_RAWROW", "A", "B"]


# -- raw XLSX -----------------------------------------------------------------------------------


def small_xlsx() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for row in (["a", "b"], ["1", "x"], [2, 3.5], [None, "z"]):
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


GOOD_XLSX = small_xlsx()
XLSX_PARTS = zipfile.ZipFile(io.BytesIO(GOOD_XLSX)).namelist()


@st.composite
def damaged_xlsx(draw) -> bytes:
    """A valid workbook with one part replaced, cut or given stray bytes; or its zip bytes flipped."""
    with zipfile.ZipFile(io.BytesIO(GOOD_XLSX)) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    how = draw(st.sampled_from(["part-bytes", "part-cut", "part-text", "drop", "zip-bytes"]))
    if how == "zip-bytes":
        data = bytearray(GOOD_XLSX)
        for position, value in draw(st.lists(st.tuples(st.integers(0, len(data) - 1), st.integers(0, 255)),
                                             min_size=1, max_size=6)):
            data[position] = value
        return bytes(data)
    name = draw(st.sampled_from(XLSX_PARTS))
    if how == "part-bytes":
        parts[name] = draw(st.binary(max_size=200))
    elif how == "part-cut":
        parts[name] = parts[name][: draw(st.integers(0, len(parts[name])))]
    elif how == "part-text":
        at = draw(st.integers(0, len(parts[name])))
        parts[name] = parts[name][:at] + draw(st.sampled_from(
            [b"<", b"&", b"]]>", b"<!DOCTYPE x [<!ENTITY e 'e'>]>", b'"', b"\x00", b"<c r='A1' t='s'><v>99</v></c>",
             b"<c r='ZZZZ9999999' t='n'><v>x</v></c>", b"<f>SUM(A1)</f>"])) + parts[name][at:]
    else:
        del parts[name]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for part, body in parts.items():
            z.writestr(part, body)
    return buffer.getvalue()


@FUZZ
@given(damaged_xlsx())
def test_xlsx_readers_damaged_workbooks(folder, data):
    """The raw reader and the spec workbook reader (it finds no spec sheets: an empty spec)."""
    from fileformats.rawio import read_raw
    from specs.workbook import read_workbook

    path = folder / "raw.xlsx"
    path.write_bytes(data)
    survives(read_raw, path, {"A": "a", "B": "b"})
    survives(read_workbook, path)


# -- JSON configs -------------------------------------------------------------------------------


def json_paths(value, prefix=()):
    """Every path into a JSON value (the value itself included)."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from json_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from json_paths(item, (*prefix, i))


def replaced(document, path, value):
    """A copy of ``document`` with the value at ``path`` replaced (``DELETE``: removed)."""
    if not path:
        return value
    copy = json.loads(json.dumps(document))
    target = copy
    for key in path[:-1]:
        target = target[key]
    if value is DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return copy


DELETE = object()
#: Strings that mean something to a config: codes it cross-references, templates, paths, dates.
TEXTS = st.sampled_from(["", " ", "VEH", "TPZ15", "A", "DB", "OLE", "Vehicle", "Cream 1.5%", "{SUBJID}", "{FOO}",
                         "..", "../x.csv", "/etc/passwd", "C:\\x", "2021-02-30", "2026-01-15T09:00:00+02:00",
                         "\u00e9", "x" * 300, "dm.csv", "csv", "xlsx", "utf-16", "TTEANY", "STUDYID"])


def same_kind(value):
    """A value of the same JSON type: schema-valid more often, so the checks after the schema run."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.integers(-3, 100)
    if isinstance(value, float):
        return st.floats(-1e6, 1e6)
    if isinstance(value, str):
        return TEXTS | st.text(max_size=8)
    if isinstance(value, list):
        return st.just(value[:1] * 2) | st.just(value[::-1]) | st.just([])
    if isinstance(value, dict):
        return st.just({k: v for k, v in list(value.items())[1:]})
    return JSON_VALUES


@st.composite
def mutated(draw, document) -> object:
    """``document`` with up to three changes: a value of the same kind, any JSON value, or a key
    or list item removed."""
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(json_paths(document))))
        current = document
        for key in path:
            current = current[key]
        how = draw(st.sampled_from(["same-kind", "same-kind", "any", "delete"]))
        if how == "delete" and path:
            value = DELETE
        elif how == "any":
            value = draw(JSON_VALUES)
        else:
            value = draw(same_kind(current))
        document = replaced(document, path, value)
    return document


@pytest.fixture(scope="module")
def study_folder(folder) -> Path:
    write_minimal_study(folder / "study")
    return folder / "study"


@FUZZ
@given(mutated(CONFIG))
def test_study_config_loader_mutated_configs(study_folder, document):
    from sdtm.config import load_study_config

    survives_json(load_study_config, study_folder / "fuzz-study.json", document)


@FUZZ
@given(mutated(ISS_CONFIG))
def test_iss_config_loader_mutated_configs(study_folder, document):
    from adam.config import load_iss_config

    config = survives_json(load_iss_config, study_folder / "fuzz-iss.json", document)
    if config is not None:
        survives(config.created)


@FUZZ
@given(st.one_of(st.binary(max_size=400), st.text(alphabet=st.sampled_from(list('{}[]":,0123456789eE.-+ \n'
                                                                              'aNIfinty\\ut')), max_size=80)
                 .map(lambda s: s.encode("utf-8"))))
def test_json_reader_any_bytes(folder, data):
    from sdtm.config import load_study_config
    from specs.load import load_spec

    path = folder / "any.json"
    path.write_bytes(data)
    survives(load_study_config, path)
    survives(load_spec, path)


# -- spec JSON ----------------------------------------------------------------------------------

SPEC = {
    "datasets": [{"name": "XX", "label": "Test domain", "keys": ["STUDYID"], "variables": [
        {"name": "STUDYID", "label": "Study Identifier", "data_type": "text", "length": 10, "order": 1},
        {"name": "XXSEV", "label": "Severity", "data_type": "text", "length": 8, "order": 2, "codelist": "CL.SEV",
         "method": "MT.SEV"}]}],
    "codelists": [{"oid": "CL.SEV", "name": "Severity", "data_type": "text", "items": [{"value": "MILD"}]}],
    "methods": [{"oid": "MT.SEV", "name": "Severity", "description": "as collected", "type": "Imputation"}],
    "value_level": [{"dataset": "XX", "variable": "XXSEV", "where_clause": "WC.1", "data_type": "text", "order": 1}],
    "where_clauses": [{"oid": "WC.1", "checks": [{"dataset": "XX", "variable": "STUDYID", "comparator": "EQ",
                                                  "values": ["A"]}]}],
}


def test_fuzz_spec_is_valid(folder):
    from specs.load import load_spec

    (folder / "spec.json").write_text(json.dumps(SPEC), encoding="utf-8")
    assert load_spec(folder / "spec.json").dataset("XX").variable("XXSEV").codelist == "CL.SEV"


@FUZZ
@given(mutated(SPEC))
def test_spec_loader_mutated_specs(folder, document):
    from specs.load import load_spec

    survives_json(load_spec, folder / "spec.json", document)


# -- XPT ----------------------------------------------------------------------------------------


def v8_xpt(folder: Path) -> bytes:
    """A version 8 transport file (long names and labels: the LABELV8/V9 section) by pyreadstat."""
    import pandas as pd
    import pyreadstat

    frame = pd.DataFrame({"SUBJECT_IDENTIFIER": ["01-001", "01-002"], "AGE": [63.0, None]})
    path = folder / "v8.xpt"
    pyreadstat.write_xport(frame, str(path), file_format_version=8, table_name="DM",
                           column_labels=["A subject identifier label longer than forty bytes", "Age"])
    return path.read_bytes()


@st.composite
def damaged_xpt(draw, good: bytes) -> bytes:
    """Header bytes overwritten (where the structure lives), bytes inserted or deleted, or cut."""
    data = bytearray(good)
    header_end = min(len(data), 1200)
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        how = draw(st.sampled_from(["set", "digits", "insert", "delete", "cut"]))
        at = draw(st.integers(0, max(0, min(len(data), header_end) - 1)))
        if how == "set":
            data[at] = draw(st.integers(0, 255))
        elif how == "digits":  # counts and lengths are text digits in the headers
            data[at:at + 5] = draw(st.text(alphabet="0123456789 -", min_size=5, max_size=5)).encode()
        elif how == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=80))
        elif how == "delete":
            del data[at:at + draw(st.integers(1, 80))]
        else:
            del data[at:]
    return bytes(data)


@pytest.fixture(scope="module")
def good_v8(folder) -> bytes:
    from fileformats.xpt import read_xpt

    data = v8_xpt(folder)
    frame, meta = read_xpt(folder / "v8.xpt")
    assert meta.version == 8 and list(frame.columns) == ["SUBJECT_IDENTIFIER", "AGE"]
    return data


@settings(max_examples=200, deadline=timedelta(seconds=5),
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data())
def test_xpt_reader_damaged_v8_headers(folder, good_v8, data):
    from fileformats.xpt import read_xpt

    path = folder / "damaged.xpt"
    path.write_bytes(data.draw(damaged_xpt(good_v8)))
    result = survives(read_xpt, path)
    if result is not None:
        frame, meta = result
        assert len(frame.columns) == len(meta.variables)


@FUZZ
@given(st.binary(max_size=1600).map(lambda b: b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!" + b))
def test_xpt_reader_random_bytes_after_a_library_header(folder, data):
    from fileformats.xpt import read_xpt

    path = folder / "random.xpt"
    path.write_bytes(data)
    survives(read_xpt, path)


# -- the CLI on generated files -------------------------------------------------------------------


def random_bytes(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


CLI_CASES = [
    ("build", "iss.json", lambda: random_bytes(1, 300)),
    ("build", "iss.json", lambda: b'{"id": "X", "studies": [' + random_bytes(2, 40)),
    ("validate", "dm.xpt", lambda: random_bytes(3, 800)),
    ("validate", "dm.xpt", lambda: b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!" + random_bytes(4, 752)),
    ("convert", "dm.json", lambda: b"\xef\xbb\xbf" + random_bytes(5, 200)),
    ("spec-import", "spec.xlsx", lambda: b"PK\x03\x04" + random_bytes(6, 500)),
]


@pytest.mark.parametrize("command, name, content", CLI_CASES, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(CLI_CASES)])
def test_cli_on_random_files_exits_2_with_one_line(tmp_path, command, name, content):
    (tmp_path / name).write_bytes(content())
    args = {"build": ["build", name, "--out", "out", "--quiet"], "validate": ["validate", name, "--quiet"],
            "convert": ["convert", name, "out.csv"], "spec-import": ["spec", "import", name, "out"]}[command]
    proc = run_cli(*args, cwd=tmp_path)
    line = one_error_line(proc.stderr)
    assert proc.returncode == 2 and name in line
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_iss_config_with_an_overlong_study_path_is_refused(study_folder):
    """Found by the fuzzer: a study path longer than the file system allows was an OSError."""
    from adam.config import load_iss_config

    path = study_folder / "long.json"
    path.write_text(json.dumps({**ISS_CONFIG, "studies": ["x" * 300]}), encoding="utf-8")
    with pytest.raises(InputError, match="cannot be opened: File name too long") as err:
        load_iss_config(path)
    assert err.value.path == "$.studies[0]" and err.value.file
