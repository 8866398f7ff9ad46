"""Benchmark: fileformats.xpt.write_xpt / read_xpt vs pyreadstat and a plain file write.

Usage:  python bench/bench_xpt.py [--rows 1000000] [--repeat 5] [--out bench/out] [--object-text]
        TRIALPACK_XPT_NUMPY=1 python bench/bench_xpt.py    # the numpy fill, without the C kernel

Builds an AE-like frame (8 columns: 4 text up to 40 bytes, 2 numerics with 10% missing,
an integer sequence and a datetime with 10% missing), then in one run times

* ``write_xpt``                                   (trialpack)
* ``pyreadstat.write_xport(..., file_format_version=5)``
* writing the same number of bytes with one plain ``file.write``
* both again with the default page-cache policy for large files (``fileformats.pagecache``:
  flushed and dropped from the cache every 32 MB behind the writer; the first pair keeps
  the cache, ``TRIALPACK_PAGE_CACHE=keep``, and gives the target's rate)
* ``read_xpt`` and ``pyreadstat.read_xport`` on the file written by ``write_xpt``

and the peak memory ``write_xpt`` allocates (tracemalloc for Python and numpy plus a
fresh Arrow memory pool, since tracemalloc does not see Arrow's allocator) against the
file size. Each timing is the best of ``--repeat`` runs after a warm-up run, each writer creating
a new file (the previous one is deleted, untimed), as the plain write does. Targets (issue 3): at least
10x faster than pyreadstat, at least 40% of the plain write rate, peak memory at most 3x
the file size.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import tracemalloc
from unittest import mock
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fileformats import pagecache  # noqa: E402
from fileformats.xpt import read_xpt, write_xpt  # noqa: E402

SOCS = [
    "Gastrointestinal disorders", "Nervous system disorders", "Infections and infestations",
    "Skin and subcutaneous tissue disorders", "Musculoskeletal disorders",
    "General disorders and admin site conds", "Respiratory thoracic and mediastinal",
    "Psychiatric disorders", "Cardiac disorders", "Vascular disorders", "Eye disorders",
    "Metabolism and nutrition disorders", "Renal and urinary disorders", "Investigations",
    "Ear and labyrinth disorders", "Blood and lymphatic system disorders",
]


def ae_like_frame(rows: int, seed: int = 20261125) -> pd.DataFrame:
    """A deterministic AE-like frame of ``rows`` rows and 8 mixed columns."""
    rng = np.random.default_rng(seed)
    subjects = rows // 4 + 1
    subject = np.sort(rng.integers(0, subjects, rows))
    ids = np.array([f"01-{701 + s % 17:03d}-{s:06d}" for s in range(subjects)], dtype=object)
    syllables = np.array(["ERY", "THEMA", "PRU", "RITUS", "HEAD", "ACHE", "NAUS", "EA", "DIZ",
                          "ZINESS", "RASH", " ", "APPLICATION", "SITE", "PAIN", " OF "], dtype=object)
    terms = np.array(["".join(rng.choice(syllables, rng.integers(2, 9)))[:40].strip() or "PAIN"
                      for _ in range(600)], dtype=object)
    first_in_subject = np.r_[True, subject[1:] != subject[:-1]]
    group_start = np.maximum.accumulate(np.where(first_in_subject, np.arange(rows), 0))
    days = rng.integers(1, 400, rows).astype(float)
    start_day = np.where(rng.random(rows) < 0.1, np.nan, days)
    end_day = np.where(rng.random(rows) < 0.1, np.nan, days + rng.integers(0, 30, rows))
    stamp = (np.datetime64("2013-01-01T00:00:00", "s")
             + rng.integers(0, 400 * 86400, rows).astype("timedelta64[s]"))
    stamp[rng.random(rows) < 0.1] = np.datetime64("NaT")
    return pd.DataFrame({
        "USUBJID": pd.Series(ids[subject], dtype="str"),
        "AESEQ": np.arange(rows) - group_start + 1,
        "AEDECOD": pd.Series(terms[rng.integers(0, len(terms), rows)], dtype="str"),
        "AEBODSYS": pd.Series(np.array(SOCS, dtype=object)[rng.integers(0, len(SOCS), rows)],
                              dtype="str"),
        "AESEV": pd.Series(np.array(["MILD", "MODERATE", "SEVERE"], dtype=object)[
            rng.integers(0, 3, rows)], dtype="str"),
        "AESTDY": start_day,
        "AEENDY": end_day,
        "ASTDTM": stamp,
    })


def best_of(repeat: int, func, target: Path | None = None) -> float:
    """Best wall time of ``repeat`` runs after one warm-up run; ``target`` is deleted
    before each run (untimed) so every writer creates a new file, as a plain write does."""
    times = []
    for attempt in range(repeat + 1):
        if target is not None and target.exists():
            target.unlink()
        start = time.perf_counter()
        func()
        if attempt:
            times.append(time.perf_counter() - start)
    return min(times)


def peak_memory(func) -> tuple[int, int, int]:
    """Peak extra memory of ``func``: tracemalloc (Python and numpy allocations) plus the
    peak of a fresh Arrow memory pool installed for the call (Arrow's allocator is not seen
    by tracemalloc). The sum is an upper bound: the two peaks need not coincide."""
    import pyarrow as pa

    previous = pa.default_memory_pool()
    pool = pa.proxy_memory_pool(previous)
    pa.set_memory_pool(pool)
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    try:
        func()
        traced = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
        pa.set_memory_pool(previous)
    arrow = pool.max_memory()
    return traced + arrow, traced, arrow


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import pyreadstat
    return (f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, numpy "
            f"{np.__version__}, pandas {pd.__version__}, pyreadstat {pyreadstat.__version__}")


def page_cache_kept():
    """Write through the page cache as a plain ``file.write`` does (TRIALPACK_PAGE_CACHE=keep),
    so that the rate compares the writers, not two cache policies."""
    return mock.patch.dict(os.environ, {"TRIALPACK_PAGE_CACHE": "keep"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "out"))
    parser.add_argument("--object-text", action="store_true",
                        help="hold text as Python objects (as pandas 2.x without pyarrow does)")
    args = parser.parse_args(argv)
    import pyreadstat

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    df = ae_like_frame(args.rows)
    if args.object_text:
        for column in df.columns[df.dtypes.astype(str) == "str"]:
            df[column] = pd.Series(df[column].to_numpy(dtype=object), dtype=object, index=df.index)
    ours, theirs, plain = out / "ae.xpt", out / "ae_pyreadstat.xpt", out / "plain.bin"
    print(f"machine: {machine()}")
    from fileformats.xpt import _native
    print("row fill: " + ("C kernel (_trialpack_xpt, built by pip install)" if _native.kernel else
                          "numpy (no C kernel, or TRIALPACK_XPT_NUMPY=1)"))
    storage = getattr(df["USUBJID"].dtype, "storage", "Python objects")
    print(f"frame: {len(df):,} rows x {df.shape[1]} columns, text stored as {storage} "
          f"({', '.join(f'{c}:{t}' for c, t in df.dtypes.astype(str).items())})")

    with page_cache_kept():
        t_ours = best_of(args.repeat, lambda: write_xpt(df, ours, label="Adverse Events"), ours)
    t_ours_dropped = best_of(args.repeat, lambda: write_xpt(df, ours, label="Adverse Events"), ours)
    size = ours.stat().st_size
    payload = np.full(size, 0x20, dtype=np.uint8)

    def plain_write() -> None:
        with open(plain, "wb") as handle:
            handle.write(payload.data)

    def plain_write_dropped() -> None:   # the same bytes in 2 MB writes, dropped behind as write_xpt does
        with open(plain, "wb") as handle:
            behind = pagecache.DropBehind(handle.fileno(), size)
            for start in range(0, size, 1 << 21):
                handle.write(payload.data[start:start + (1 << 21)])
                handle.flush()
                behind.written(handle.tell())
            behind.close()

    t_plain = best_of(args.repeat, plain_write, plain)
    t_plain_dropped = best_of(args.repeat, plain_write_dropped, plain)
    t_theirs = best_of(max(1, min(args.repeat, 2)), lambda: pyreadstat.write_xport(
        df, str(theirs), file_label="Adverse Events", table_name="AE", file_format_version=5),
        theirs)
    r_ours = best_of(args.repeat, lambda: read_xpt(ours))
    r_theirs = best_of(max(1, min(args.repeat, 2)), lambda: pyreadstat.read_xport(str(ours)))
    ours.unlink()
    peak, traced, arrow = peak_memory(lambda: write_xpt(df, ours, label="Adverse Events"))

    mb = size / 1e6
    print(f"file: {size:,} bytes ({mb:.1f} MB); pyreadstat's file: {theirs.stat().st_size:,} bytes")
    print(f"write_xpt                 {t_ours:7.3f} s  {mb / t_ours:8.1f} MB/s   (page cache kept)")
    print(f"pyreadstat.write_xport v5 {t_theirs:7.3f} s  {mb / t_theirs:8.1f} MB/s")
    print(f"plain file write          {t_plain:7.3f} s  {mb / t_plain:8.1f} MB/s")
    dropping = "dropping the page cache behind" if size >= pagecache.MIN_BYTES and pagecache.enabled() else \
        "(below MIN_BYTES or TRIALPACK_PAGE_CACHE=keep: cache kept)"
    print(f"write_xpt, default        {t_ours_dropped:7.3f} s  {mb / t_ours_dropped:8.1f} MB/s   {dropping}")
    print(f"plain write, same policy  {t_plain_dropped:7.3f} s  {mb / t_plain_dropped:8.1f} MB/s")
    print(f"read_xpt                  {r_ours:7.3f} s  {mb / r_ours:8.1f} MB/s")
    print(f"pyreadstat.read_xport     {r_theirs:7.3f} s  {mb / r_theirs:8.1f} MB/s")
    speedup, share, memory = t_theirs / t_ours, t_plain / t_ours, peak / size
    print(f"write speed-up vs pyreadstat: {speedup:.1f}x (target >= 10x) "
          f"{'PASS' if speedup >= 10 else 'FAIL'}")
    print(f"write rate vs plain write:    {share:.0%} (target >= 40%) {'PASS' if share >= 0.4 else 'FAIL'}"
          f"   [both through the page cache; with the default policy on both: {t_plain_dropped / t_ours_dropped:.0%}]")
    print(f"write peak memory:            {peak / 1e6:.1f} MB = {memory:.2f}x the file "
          f"(target <= 3x) {'PASS' if memory <= 3 else 'FAIL'} "
          f"[numpy/Python {traced / 1e6:.1f} MB + Arrow {arrow / 1e6:.1f} MB]")
    print(f"read speed-up vs pyreadstat:  {r_theirs / r_ours:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
