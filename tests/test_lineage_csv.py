"""The lineage CSV files are written by Arrow when nothing needs quoting and by pandas
otherwise; either way the bytes are those of pandas' ``to_csv`` (the reference)."""
from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from trialpack.lineage import write_csv

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
