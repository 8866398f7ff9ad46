"""The lineage CSV files are written by Arrow when nothing needs quoting and by pandas
otherwise; either way the bytes are those of pandas' ``to_csv`` (the reference)."""
from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from trialpack.lineage import sorted_by, write_csv

TEXT = st.one_of(st.none(), st.text(alphabet=st.sampled_from(list('AZ09-_ /.,"\n')), max_size=6))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(TEXT, st.one_of(st.none(), st.integers(-10**12, 10**12))), max_size=12))
def test_bytes_equal_pandas_to_csv(tmp_path_factory, rows):
    frame = pd.DataFrame({"KEY": pd.Series([r[0] for r in rows], dtype=object),
                          "SEQ": pd.array([r[1] for r in rows], dtype="Int64")})
    path = tmp_path_factory.mktemp("csv") / "lineage.csv"
    write_csv(frame, path)
    assert path.read_bytes() == frame.to_csv(index=False, lineterminator="\n").encode()


def test_plain_records(tmp_path):
    frame = pd.DataFrame({"DATASET": ["ADAE", "ADEX"], "USUBJID": ["S-1", "S-2"],
                          "SOURCESEQ": pd.array([3, None], dtype="Int64")})
    write_csv(frame, tmp_path / "a.csv")
    assert (tmp_path / "a.csv").read_text() == "DATASET,USUBJID,SOURCESEQ\nADAE,S-1,3\nADEX,S-2,\n"


KEYS = st.one_of(st.none(), st.text(alphabet=st.sampled_from(list("AZaz09-/")), max_size=4))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.tuples(KEYS, KEYS, st.one_of(st.none(), st.integers(-5, 5))), max_size=8),
                min_size=1, max_size=4))
def test_parts_sorted_as_their_stack(parts):
    """sorted_by over parts = the parts stacked, then sorted stably (text by code point,
    missing last), whatever the text dtype of each part."""
    frames = [pd.DataFrame({"A": pd.Series([r[0] for r in rows], dtype="str" if i % 2 else object),
                            "B": pd.Categorical([r[1] for r in rows]),
                            "N": pd.array([r[2] for r in rows], dtype="Int64")}) for i, rows in enumerate(parts)]
    got = sorted_by(frames, ["A", "B", "N"])
    stacked = pd.concat([f.astype({"A": object, "B": object}) for f in frames], ignore_index=True)
    expected = stacked.sort_values(["A", "B", "N"], kind="mergesort", na_position="last").reset_index(drop=True)
    assert got.astype(object).where(got.notna(), None).values.tolist() == \
        expected.astype(object).where(expected.notna(), None).values.tolist()


def test_frames_written_one_after_the_other(tmp_path):
    first = pd.DataFrame({"K": pd.Categorical(["A", "B"]), "N": pd.array([1, None], dtype="Int64")})
    second = pd.DataFrame({"K": pd.Series(["C"], dtype="str"), "N": pd.array([3], dtype="Int64")})
    write_csv([first, second], tmp_path / "plain.csv")
    assert (tmp_path / "plain.csv").read_text() == "K,N\nA,1\nB,\nC,3\n"
    quoted = pd.DataFrame({"K": pd.Series(["x,y"], dtype="str"), "N": pd.array([4], dtype="Int64")})
    write_csv([first, quoted], tmp_path / "quoted.csv")   # a comma: pandas quotes, all parts alike
    assert (tmp_path / "quoted.csv").read_text() == 'K,N\nA,1\nB,\n"x,y",4\n'
