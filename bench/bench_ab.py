"""Benchmark: two (or more) commits of trialpack side by side, alternating, on the same machine.

Run (from the repository root; Linux only: it reads rusage of the child)::

    git worktree add /tmp/wt-OLD OLD_COMMIT && git worktree add /tmp/wt-NEW NEW_COMMIT
    python bench/bench_ab.py --pairs 3 /tmp/wt-OLD /tmp/wt-NEW
    python bench/bench_ab.py --pairs 1 /tmp/wt-OLD /tmp/wt-NEW -- --subjects 100000 --studies 20

Why: a shared virtual machine's speed drifts by 2-3x between days (BENCHMARKS.md, session
2026-12-08: a fixed Python loop 0.54 s one day, 1.42 s two days later), so a figure is only
comparable with one measured in the same minutes. Each round runs every checkout once, in
order, as a fresh interpreter with ``PYTHONPATH`` = the checkout, exactly the benchmark's
command (``python -m trialpack demo --out DIR --quiet --log-file LOG`` plus the arguments
after ``--``). Prints per run the wall time, the CPU time of the process tree (user + sys,
rusage) and the stages of the demo's log; then per checkout the median wall and CPU and
their ratio to the first checkout.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGE_RE = re.compile(r"stage (\w+): ([0-9.]+)s")
SHOWN = ("configs", "map", "write", "adam", "validate_sdtm", "validate", "report")


def run_once(checkout: Path, extra: list[str], scratch: Path) -> tuple[float, float, dict[str, float]]:
    out, log = scratch / "out", scratch / "build.log"
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ, PYTHONPATH=str(checkout))
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "trialpack", "demo", "--out", str(out), "--quiet",
                             "--log-file", str(log), *extra], cwd=scratch, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1) or not (out / "manifest.json").exists():
        raise SystemExit(f"{checkout}: the demo failed:\n{proc.stderr.read().decode(errors='replace')}")
    stages = {k: float(v) for k, v in STAGE_RE.findall(log.read_text())}
    return wall, usage.ru_utime + usage.ru_stime, stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=3, help="rounds; each runs every checkout once (default 3)")
    parser.add_argument("checkouts", nargs="+", type=Path, help="checkout folders; the first is the reference")
    args, extra = parser.parse_known_args()
    extra = [a for a in extra if a != "--"]
    results: dict[Path, list[tuple[float, float]]] = {c: [] for c in args.checkouts}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.pairs):
            for checkout in args.checkouts:
                wall, cpu, stages = run_once(checkout, extra, Path(tmp))
                results[checkout].append((wall, cpu))
                shown = " ".join(f"{k}={stages[k]:.2f}" for k in SHOWN if k in stages)
                print(f"{checkout.name:<16} wall {wall:7.2f} cpu {cpu:7.2f} {shown}", flush=True)
    first = args.checkouts[0]
    ref_wall = statistics.median(w for w, _ in results[first])
    ref_cpu = statistics.median(c for _, c in results[first])
    for checkout in args.checkouts:
        wall = statistics.median(w for w, _ in results[checkout])
        cpu = statistics.median(c for _, c in results[checkout])
        print(f"{checkout.name:<16} median wall {wall:7.2f} ({wall / ref_wall:.2f}x)  median cpu {cpu:7.2f} "
              f"({cpu / ref_cpu:.2f}x)")


if __name__ == "__main__":
    main()
