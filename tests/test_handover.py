"""A mapping worker's result reaches the build through shared memory (trialpack.process.handover):
the same frames as sent, their arrays views of the memory file the worker wrote, writable
by the build without changing what another reader maps."""
from __future__ import annotations

import multiprocessing
import os

import numpy as np
import pandas as pd
import pytest

from trialpack.process import handover

needs_memfd = pytest.mark.skipif(not hasattr(os, "memfd_create") or
                                 "fork" not in multiprocessing.get_all_start_methods(),
                                 reason="no memory files or no fork here")


def study_like(n: int) -> dict:
    rng = np.random.default_rng(5)
    return {"AE": pd.DataFrame({
        "USUBJID": pd.array([f"S-{i // 15:05d}" for i in range(n)], dtype="str"),
        "AESEQ": np.arange(n, dtype="float64") % 15 + 1,
        "AESTDY": np.where(rng.random(n) < 0.1, np.nan, rng.integers(-5, 400, n)).astype("float64"),
        "AESEV": pd.Categorical(rng.choice(["MILD", "MODERATE", "SEVERE"], n)),
        "AESTDT": pd.to_datetime(rng.integers(18000, 19000, n), unit="D"),
        "AETERM": pd.array(np.where(rng.random(n) < 0.05, None, "Pruritus"), dtype="str"),
        "NOTE": np.array(["x", None] * (n // 2), dtype=object)}),
        "DM": pd.DataFrame({"USUBJID": pd.array(["S-00000"], dtype="str"), "AGE": [7.0]})}


def _send_from_child(fd):
    return handover.send(fd, (study_like(30_000), ["dm.xpt"], {"map": 1.5}))


@needs_memfd
def test_a_result_comes_back_through_shared_memory_unchanged():
    with handover.channels(["TPZ-1"]) as (fd,):
        with multiprocessing.get_context("fork").Pool(1) as pool:
            parcel = pool.apply(_send_from_child, (fd,))
        assert isinstance(parcel, handover.Parcel)
        # the arrays went through the memory file; the pipe carried the pickle's skeleton and the
        # object column's Python strings
        assert parcel.size > 1_500_000 and len(parcel.pickled) < parcel.size / 5
        assert all(start % handover.ALIGN == 0 for start, _ in parcel.spans)
        datasets, files, timings = handover.receive(parcel)
    expected = study_like(30_000)
    assert files == ["dm.xpt"] and timings == {"map": 1.5}
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(datasets[name], frame)
    ae = datasets["AE"]
    assert not ae["AESEQ"].to_numpy().flags.owndata       # a view of the mapped memory, not a copy
    ae.loc[0, "AESEQ"] = 99.0                              # writable (a private copy of that page)
    assert ae.loc[0, "AESEQ"] == 99.0


@needs_memfd
def test_a_result_without_arrays_and_a_plain_value_pass():
    with handover.channels(["a"]) as (fd,):
        parcel = handover.send(fd, {"findings": []})
        assert handover.receive(parcel) == {"findings": []}
    assert handover.send(None, [1, 2]) == [1, 2] and handover.receive([1, 2]) == [1, 2]


def test_without_memory_files_each_job_gets_none(monkeypatch):
    monkeypatch.delattr(os, "memfd_create", raising=False)
    with handover.channels(["a", "b"]) as fds:
        assert fds == [None, None]
