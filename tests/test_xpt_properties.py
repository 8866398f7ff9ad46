"""Properties of fileformats.xpt (hypothesis).

* Round trip: any frame within the v5 limits (names, labels, 200-byte text, IBM range,
  special missing codes, dates) reads back exactly as written, with its metadata.
* The reader never crashes or hangs on damaged files: it returns a frame or raises
  InputError.
"""
from __future__ import annotations

import datetime as dt
import string

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fileformats.xpt import read_xpt, write_xpt
from specs.errors import InputError

NAMES = st.from_regex(r"[A-Z][A-Z0-9_]{0,7}", fullmatch=True)
ASCII = "".join(chr(c) for c in range(1, 128))
LABELS = st.text(alphabet=string.ascii_letters + string.digits + " ()/-'.,", max_size=40).map(
    lambda s: s.rstrip(" "))  # labels are blank-padded: trailing blanks are not kept (as in SAS)
CODES = st.sampled_from(list("_ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
FLOATS = st.floats(min_value=-7e75, max_value=7e75, allow_nan=False).filter(
    lambda x: x == 0 or abs(x) >= 1e-78)
CREATED = dt.datetime(2024, 1, 2, 3, 4, 5)


def _text(alphabet: str, max_bytes: int, encoding: str):
    return st.text(alphabet=alphabet, max_size=max_bytes).map(lambda s: s.rstrip(" ")).filter(
        lambda s: len(s.encode(encoding)) <= max_bytes)


@st.composite
def columns(draw, rows: int, utf8: bool):
    kind = draw(st.sampled_from(["text", "number", "date"]))
    label = draw(LABELS)
    if kind == "text":
        alphabet = ASCII if not utf8 else ASCII + "éèüßµ’€中"
        values = draw(st.lists(st.one_of(st.none(), _text(alphabet, 200, "utf-8" if utf8 else "ascii")),
                               min_size=rows, max_size=rows))
        longest = max([len(v.encode()) for v in values if v] + [1])
        length = draw(st.one_of(st.none(), st.integers(longest, 200)))
        spec = {"label": label, "data_type": "text", "length": length}
        return spec, pd.Series(values, dtype=object), {}
    if kind == "number":
        values = draw(st.lists(st.one_of(FLOATS, st.just(np.nan)), min_size=rows, max_size=rows))
        series = pd.Series(values, dtype=float)
        missing = [i for i, v in enumerate(values) if np.isnan(v)]
        special = draw(st.dictionaries(st.sampled_from(missing), CODES)) if missing else {}
        fmt = draw(st.sampled_from([None, "8.", "8.2", "BEST12."]))
        return {"label": label, "data_type": "float", "display_format": fmt}, series, special
    days = draw(st.lists(st.one_of(st.none(), st.integers(-100_000, 100_000)), min_size=rows,
                         max_size=rows))
    series = pd.Series([None if d is None else np.datetime64("1960-01-01", "D") + d for d in days],
                       dtype="datetime64[us]")
    return {"label": label, "data_type": "integer", "display_format": "DATE9."}, series, {}


@st.composite
def datasets(draw):
    rows = draw(st.integers(0, 12))
    utf8 = draw(st.booleans())
    names = draw(st.lists(NAMES, min_size=1, max_size=6, unique=True))
    spec, data, special = [], {}, {}
    for name in names:
        entry, series, codes = draw(columns(rows, utf8))
        spec.append({"name": name, **entry})
        data[name] = series
        if codes:
            special[name] = codes
    return pd.DataFrame(data), spec, special, utf8, draw(LABELS)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(datasets())
def test_round_trip_is_exact(tmp_path, dataset):
    frame, spec, special, utf8, label = dataset
    path = tmp_path / "rt.xpt"
    profile = "utf8" if utf8 else "fda"
    try:
        write_xpt(frame, path, label=label, variables=spec, special_missing=special, profile=profile,
                  created=CREATED)
    except InputError as exc:  # the one legitimate refusal: a blank last row v5 cannot keep
        assert "last row is entirely blank" in str(exc)
        return
    back, meta = read_xpt(path)
    assert list(back.columns) == [e["name"] for e in spec]
    assert meta.label == label and meta.created == CREATED
    for entry in spec:
        name = entry["name"]
        var = meta.variable(name)
        assert var.label == entry["label"]
        assert var.display_format == entry.get("display_format")
        if entry["data_type"] == "text":
            expected = ["" if v is None else v for v in frame[name]]
            assert back[name].tolist() == expected
            longest = max([len(v.encode()) for v in expected] + [1])
            assert var.length == (entry["length"] or longest)
        elif entry["data_type"] == "integer":
            pd.testing.assert_series_equal(back[name], frame[name], check_names=False)
        else:
            np.testing.assert_array_equal(back[name].to_numpy(), frame[name].to_numpy())
    assert {k: v.to_dict() for k, v in meta.special_missing.items()} == special
    first = path.read_bytes()
    write_xpt(back, path, **meta.write_options(), profile=profile)
    assert path.read_bytes() == first  # read -> write reproduces the file


@st.composite
def damaged(draw):
    frame = pd.DataFrame({"USUBJID": ["01-701-1015", "01-701-1023", ""], "AGE": [63.0, np.nan, 1e-5],
                          "TERM": ["HEADACHE", "", "APPLICATION SITE PRURITUS"]})
    return frame, draw(st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8)), \
        draw(st.one_of(st.none(), st.integers(0, 2_000)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(damaged())
def test_reader_survives_damaged_files(tmp_path, case):
    frame, flips, cut = case
    path = write_xpt(frame, tmp_path / "dm.xpt", created=CREATED)
    data = bytearray(path.read_bytes())
    for position, value in flips:
        data[position % len(data)] = value
    if cut is not None:
        data = data[:cut]
    path.write_bytes(bytes(data))
    try:
        back, meta = read_xpt(path)
    except InputError as exc:
        assert exc.file == "dm.xpt"
        return
    assert len(back.columns) == len(meta.variables)
