"""Benchmark: the whole pipeline (``trialpack demo``) at several sizes, in fresh processes.

Run:  python bench/bench_pipeline.py [--subjects 767 10000 100000] [--ae-per-subject 15]

For each size it runs ``python -m trialpack demo --subjects N --studies K --ae-per-subject A``
in a subprocess (so the wall time includes interpreter start and imports), reads the stage
timings from its log file and the child's peak resident memory from ``getrusage``, and
prints a table: wall time, peak RSS, seconds per 1,000 subjects, and the stage breakdown
(generate, map, ADaM, write = XPT + define.xml/html, report = rates + tables + figures,
validate, ...). The last line compares the cost per subject of the largest run with the
10,000-subject run.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(subjects: int, studies: int, ae_per_subject: int | None) -> dict:
    with tempfile.TemporaryDirectory(prefix="tp-bench-") as tmp:
        log = Path(tmp) / "build.log"
        cmd = [sys.executable, "-m", "trialpack", "demo", "--out", str(Path(tmp) / "out"), "--subjects",
               str(subjects), "--studies", str(studies), "--quiet", "--log-file", str(log)]
        if ae_per_subject is not None:
            cmd += ["--ae-per-subject", str(ae_per_subject)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=tmp, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                              text=True)
        wall = time.perf_counter() - start
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if proc.returncode not in (0, 1):
            raise SystemExit(f"demo failed ({proc.returncode}): {proc.stderr.strip()}")
        stages = {m.group(1): float(m.group(2)) for m in
                  re.finditer(r"stage (\w+): ([0-9.]+)s", log.read_text())}
        rows = re.search(r"TPZ-ISS/ADAE (\d+)", proc.stdout)
        return {"subjects": subjects, "wall": wall, "peak_mb": max(peak_kb, before) / 1024, "stages": stages}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, nargs="+", default=[767, 10_000, 100_000])
    parser.add_argument("--ae-per-subject", type=int, default=15)
    args = parser.parse_args()
    results = []
    for n in args.subjects:
        studies = 8 if n <= 767 else max(8, n // 5000)
        ae = None if n == 767 and args.ae_per_subject is None else args.ae_per_subject
        res = run(n, studies, ae)
        results.append(res)
        stages = "  ".join(f"{k} {v:.1f}" for k, v in res["stages"].items())
        print(f"{n:>7} subjects {studies:>3} studies  wall {res['wall']:7.1f} s  peak RSS {res['peak_mb']:7.0f} MB  "
              f"{1000 * res['wall'] / n:6.3f} s/1000 subj  | {stages}", flush=True)
    by_n = {r["subjects"]: r for r in results}
    if 10_000 in by_n and max(by_n) > 10_000:
        big = by_n[max(by_n)]
        ratio = (big["wall"] / big["subjects"]) / (by_n[10_000]["wall"] / 10_000)
        print(f"cost per subject {max(by_n):,} vs 10,000: {ratio:.2f}x")


if __name__ == "__main__":
    main()
