"""fileformats.xpt without Arrow: the numpy encoders and decoder (object-dtype text, as with
pandas 2.x without pyarrow) give the same bytes and the same refusals as the Arrow path."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fileformats.xpt import _reader, _text, read_xpt, write_xpt
from specs.errors import InputError


@pytest.fixture()
def no_arrow(monkeypatch):
    def missing(*args, **kwargs):
        raise ImportError("pyarrow hidden for this test")

    monkeypatch.setattr(_text, "_arrow", lambda: (None, None))
    monkeypatch.setattr(_reader, "_arrow_text", missing)


def frame(rows: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    terms = np.array(["HEADACHE", "NAUSEA", "APPLICATION SITE PRURITUS", "", None], dtype=object)
    return pd.DataFrame({
        "USUBJID": np.array([f"01-701-{i:04d}" for i in range(rows)], dtype=object),  # distinct
        "AETERM": terms[rng.integers(0, len(terms), rows)],                               # repeating
        "AESEV": pd.Categorical(rng.choice(["MILD", "SEVERE"], rows)),
        "AGE": rng.integers(18, 90, rows).astype(float),
    })


def test_numpy_path_writes_the_same_bytes_as_the_arrow_path(tmp_path, monkeypatch):
    df = frame()
    with_arrow = write_xpt(df, tmp_path / "ae.xpt", created=pd.Timestamp("2024-01-01").to_pydatetime()).read_bytes()
    monkeypatch.setattr(_text, "_arrow", lambda: (None, None))
    without = write_xpt(df, tmp_path / "ae.xpt", created=pd.Timestamp("2024-01-01").to_pydatetime()).read_bytes()
    assert without == with_arrow


def test_numpy_path_round_trip(tmp_path, no_arrow):
    df = frame()
    back, meta = read_xpt(write_xpt(df, tmp_path / "ae.xpt"))
    assert back["USUBJID"].tolist() == df["USUBJID"].tolist()
    assert back["AETERM"].tolist() == ["" if pd.isna(v) else v for v in df["AETERM"]]
    assert back["AESEV"].tolist() == df["AESEV"].astype(str).tolist()
    assert meta.variable("AETERM").length == len("APPLICATION SITE PRURITUS")


def test_numpy_path_reads_utf8_and_cp1252(tmp_path, no_arrow):
    df = pd.DataFrame({"A": np.array(["Ménière", "x"], dtype=object)})
    assert read_xpt(write_xpt(df, tmp_path / "u.xpt", profile="utf8"))[0]["A"].tolist() == ["Ménière", "x"]
    df = pd.DataFrame({"A": np.array(["Alzheimer’s", "x"], dtype=object)})
    back, meta = read_xpt(write_xpt(df, tmp_path / "c.xpt", profile="utf8", encoding="cp1252"))
    assert back["A"].tolist() == ["Alzheimer’s", "x"] and meta.encoding == "cp1252"


@pytest.mark.parametrize("values, message", [
    (["ok"] * 50 + ["Ménière"], r"row 51, column 'A'.*non-ASCII character 'é'"),   # distinct values
    (["ok", "Ménière"] * 40, r"row 2, column 'A'.*non-ASCII character 'é'"),      # repeating values
    (["ok"] * 50 + ["x" * 201], r"row 51, column 'A'.*201 bytes, over the XPT v5 limit of 200"),
    (["ok", "x" * 201] * 40, r"row 2, column 'A'.*201 bytes"),
    (["ok", 3] * 40, r"row 2, column 'A'.*value 3 \(int\) in a character column"),
])
def test_numpy_path_refusals_name_the_first_bad_row(tmp_path, no_arrow, values, message):
    with pytest.raises(InputError, match=message):
        write_xpt(pd.DataFrame({"A": pd.Series(values, dtype=object)}), tmp_path / "t.xpt",
                  variables=[{"name": "A", "data_type": "text"}])
