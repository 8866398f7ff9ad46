"""Benchmark: the whole pipeline (``trialpack demo``) at several sizes, in fresh processes.

Run (from the repository root; Linux only, it reads ``/proc``)::

    python bench/bench_pipeline.py                        # 767, 10,000 and 100,000 subjects
    python bench/bench_pipeline.py --subjects 767 2000 --repeat 3 --markdown

Options: ``--subjects N [N ...]`` (default 767 10000 100000), ``--ae-per-subject A``
(default 15), ``--repeat R`` (default 1: R timed runs, the best wall time kept) and
``--markdown`` (also print a Markdown table for BENCHMARKS.md).

Every size runs R times for time and once more for memory. The timed runs are left alone;
the memory run is watched by a sampler thread in this process, which reads ``/proc`` every
20 ms and each process's page tables (``smaps_rollup``) every 100 ms. On 2 cores that both
carry the build, the sampler's own CPU (0.4-0.6 s in a 5 s demo, measured) and its holding
of the build's memory-map lock would lengthen the wall time it is meant to leave alone: on
the demo, sampled runs took 0.2-0.4 s longer than unsampled ones in alternation.

What is run. For 767 subjects, the real default demo exactly as a user runs it::

    python -m trialpack demo --out DIR --quiet --log-file LOG

(767 subjects, 8 studies, the realistic adverse-event rate). For any other N::

    python -m trialpack demo --out DIR --quiet --log-file LOG --subjects N --studies K --ae-per-subject A

with K = max(8, N // 5000). Each run is a fresh interpreter in a fresh temporary folder,
with ``PYTHONPATH`` set to the repository root, so the wall time includes interpreter start
and imports (the checkout is byte-compiled first, as ``pip install`` compiles an installed
package). A demo exit code of 1 (validation findings) counts as success when the package
was built (its ``manifest.json`` exists); any other outcome stops the benchmark with the
demo's stderr.

Columns:

* subjects, studies -- the size run.
* AE records -- rows in ADAE, shown only when the demo's log or stdout reports them
  (the ``--quiet`` demo currently does not, so the column is usually absent).
* wall s -- wall time of the whole subprocess in a timed (unsampled) run; with ``--repeat``
  the best of R runs. The stage columns, user s and sys s are from that run.
* peak PSS MB -- the memory target's measure: the largest sum of proportional set sizes
  (``Pss`` of ``/proc/PID/smaps_rollup``) over the demo process and all its descendants,
  sampled every 100 ms. A page shared by N processes counts 1/N in each, so the sum is the
  physical memory the run holds: forked workers (the map stage, the report) share the
  parent's pages copy-on-write until one of them writes to a page. From the memory run.
* peak tree MB -- the largest sum of VmRSS over the same processes, sampled every 20 ms.
  Pages shared between the parent and its forked workers are counted once per process, so
  this overstates physical memory by up to the size of the parent for every fork.
* max proc MB -- (plain table only) the largest RSS of any single process of the run, from
  the kernel's rusage (``os.wait4``, the per-run form of ``getrusage(RUSAGE_CHILDREN)``),
  for comparison: it understates a process tree.
* user s, sys s -- CPU time of the demo and all its descendants (rusage), in user code and in
  the kernel. Before the table the benchmark prints what touching memory costs on the machine
  at the time (``fresh_memory_cost``): where the kernel hands freed memory back to a
  hypervisor, every page the run touches afresh (its heap, the page cache of the files it
  writes) costs a fault through the host, and ``sys s`` shows it.
* s/1k subj -- wall seconds per 1,000 subjects.
* one column per stage (seconds, from the ``stage NAME: Xs`` lines of the demo's log):
  generate (raw data), configs, map (SDTM mapping per study, run in 2 worker processes; its
  figure is the SUM over the workers, so it can exceed the wall time it occupies), write
  (datasets and define.xml), adam, report (rates, tables, figures), lineage, validate,
  manifest.

Before and after the runs it prints the machine's state: the time of a fixed Python loop
(a shared vCPU's speed drifts with the host's load) and what touching freed memory costs
(``fresh_memory_cost``), so that figures from different days can be compared.

After the table come the targets whose sizes were run, each with PASS/FAIL: the default
demo (767) wall <= 5 s; 100,000 subjects wall <= 90 s, peak PSS <= 6144 MB and the
largest single process <= 6144 MB; the
cost per subject at 100,000 vs 10,000 <= 1.3x, and the same ratio per stage (a stage above
1.3x is flagged as superlinear).
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DEMO_SUBJECTS = 767
DEFAULT_DEMO_STUDIES = 8
STAGES = ("generate", "configs", "map", "write", "adam", "adam_check", "report", "lineage", "validate", "manifest")
SAMPLE_SECONDS = 0.02
PSS_EVERY = 5  # PSS sampled every 5th tick (100 ms)
TREE_EVERY = 5  # the process tree re-read from /proc every 5th tick (100 ms); known processes in between
SCALING_LIMIT = 1.3
KEEP_LOGS: Path | None = None
STAGE_RE = re.compile(r"stage (\w+): ([0-9.]+)s")
ADAE_RE = re.compile(r"TPZ-ISS/ADAE (\d+)")
LEGEND = ("map = SDTM mapping in 2 worker processes; its figure is the sum over the workers, "
          "so it can exceed the wall time it occupies. peak PSS = largest sum of proportional set "
          "sizes over the demo and its descendants (sampled every 100 ms; pages shared by forked "
          "workers counted once: the physical memory the run holds); peak tree = largest sum of "
          "VmRSS (every 20 ms; shared pages counted once per process); max proc = largest single "
          "process (rusage); user/sys = CPU seconds of the whole process tree in user code and in the kernel.")


# ---------------------------------------------------------------- memory of a process tree

def require_linux() -> None:
    if not sys.platform.startswith("linux") or not Path("/proc/self/status").exists():
        raise SystemExit("bench_pipeline.py needs Linux: it measures memory from /proc")


def parent_map() -> dict[int, list[int]]:
    """Children of every live process, from the ppid field of /proc/*/stat."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"{entry.path}/stat", "rb") as f:
                stat = f.read()
        except OSError:  # the process ended meanwhile
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split(maxsplit=2)[1])  # after "(comm)": state, ppid
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def tree_pids(root: int) -> list[int]:
    children, pids = parent_map(), [root]
    for pid in pids:  # grows while iterating: breadth-first walk
        pids.extend(children.get(pid, ()))
    return pids


def rss_kb(pid: int) -> int:
    """Resident memory of one process (VmRSS), kB; 0 if it ended."""
    return _status_kb(f"/proc/{pid}/status", "VmRSS:")


def pss_kb(pid: int) -> int:
    """Proportional set size of one process (Pss, kB; 0 if it ended): its private pages plus
    its share of pages it shares with others. Summed over a process tree it counts a page
    that forked workers share copy-on-write once, as the machine's memory holds it."""
    return _status_kb(f"/proc/{pid}/smaps_rollup", "Pss:")


def _status_kb(path: str, key: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0  # ended, or a zombie (no such line)


class TreeRssSampler(threading.Thread):
    """Records the largest sums of VmRSS and of Pss over a process and its descendants."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.peak_pss_kb, self._done = pid, 0, 0, threading.Event()
        self.started, self.peak_pss_at = time.perf_counter(), 0.0

    def run(self) -> None:
        """Every tick the tree's VmRSS; every PSS_EVERY ticks its Pss, unless the tree's RSS is
        no larger than the largest Pss seen (a process's Pss never exceeds its RSS, so the sum
        cannot be a new peak then): reading smaps_rollup walks a process's page tables under its
        memory-map lock, the costliest part of sampling, paid on the 2 cores the run uses."""
        tick, pids = 0, []
        while not self._done.is_set():
            if tick % TREE_EVERY == 0:
                pids = tree_pids(self.pid)
            rss = sum(rss_kb(p) for p in pids)
            self.peak_kb = max(self.peak_kb, rss)
            if tick % PSS_EVERY == 0 and rss > self.peak_pss_kb:
                pss = sum(pss_kb(p) for p in pids)
                if pss > self.peak_pss_kb:
                    self.peak_pss_kb, self.peak_pss_at = pss, time.perf_counter() - self.started
            tick += 1
            self._done.wait(SAMPLE_SECONDS)

    def stop(self) -> tuple[int, int]:
        self._done.set()
        self.join()
        return self.peak_kb, self.peak_pss_kb


# ---------------------------------------------------------------- one demo run

def demo_command(out: Path, log: Path, subjects: int, studies: int, ae_per_subject: int) -> list[str]:
    cmd = [sys.executable, "-m", "trialpack", "demo", "--out", str(out), "--quiet", "--log-file", str(log)]
    if subjects != DEFAULT_DEMO_SUBJECTS:
        cmd += ["--subjects", str(subjects), "--studies", str(studies), "--ae-per-subject", str(ae_per_subject)]
    return cmd


def studies_for(subjects: int) -> int:
    return DEFAULT_DEMO_STUDIES if subjects == DEFAULT_DEMO_SUBJECTS else max(8, subjects // 5000)


def run_measured(cmd: list[str], cwd: Path, *, sampled: bool) -> dict:
    """Run cmd; return exit code, wall time, max single-process RSS, CPU times, stdout, stderr,
    and if ``sampled`` the peak tree RSS and PSS (0 otherwise)."""
    out_path, err_path = cwd / "stdout.txt", cwd / "stderr.txt"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:  # files, not pipes: no deadlock
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        sampler = TreeRssSampler(proc.pid)
        if sampled:
            sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)  # reap ourselves to get this run's rusage
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    tree_kb, pss_kb_ = sampler.stop() if sampled else (0, 0)
    return {"code": proc.returncode, "wall": wall, "tree_mb": tree_kb / 1024, "pss_mb": pss_kb_ / 1024,
            "proc_mb": usage.ru_maxrss / 1024, "user": usage.ru_utime, "sys": usage.ru_stime,
            "pss_at": sampler.peak_pss_at,
            "stdout": out_path.read_text(errors="replace"), "stderr": err_path.read_text(errors="replace")}


def compile_checkout() -> None:
    """Byte-compile the checkout's packages once, as ``pip install`` does for an installed
    trialpack: the runs then measure the program, not Python compiling its source (which it
    does on every start where bytecode is not written, e.g. with PYTHONDONTWRITEBYTECODE)."""
    import compileall

    for package in ("specs", "fileformats", "sdtm", "adam", "define", "report", "trialpack"):
        compileall.compile_dir(str(ROOT / package), quiet=1)


def run_demo(subjects: int, ae_per_subject: int, *, sampled: bool) -> dict:
    studies = studies_for(subjects)
    with tempfile.TemporaryDirectory(prefix="tp-bench-") as tmp:
        log = Path(tmp) / "build.log"
        res = run_measured(demo_command(Path(tmp) / "out", log, subjects, studies, ae_per_subject), Path(tmp),
                           sampled=sampled)
        built = (Path(tmp) / "out" / "manifest.json").is_file()
        if res["code"] not in (0, 1) or not built:  # 1 = findings, but only with a built package
            raise SystemExit(f"demo with {subjects} subjects failed (exit {res['code']}):\n{res['stderr'].strip()}")
        text = (log.read_text() if log.exists() else "") + res["stdout"]
    if KEEP_LOGS:   # the build's log (each stage's start, in seconds from the start), to read the peak against
        KEEP_LOGS.mkdir(parents=True, exist_ok=True)
        if sampled:
            (KEEP_LOGS / f"build-{subjects}-memory.log").write_text(text + f"peak PSS at {res['pss_at']:.1f}s\n")
        else:
            (KEEP_LOGS / f"build-{subjects}-{time.strftime('%H%M%S')}.log").write_text(text)
    adae = ADAE_RE.search(text)
    return {"subjects": subjects, "studies": studies, "wall": res["wall"], "tree_mb": res["tree_mb"],
            "pss_mb": res["pss_mb"], "user": res["user"], "sys": res["sys"],
            "proc_mb": res["proc_mb"], "adae": int(adae.group(1)) if adae else None,
            "stages": {m.group(1): float(m.group(2)) for m in STAGE_RE.finditer(text)}}


def best_of(subjects: int, ae_per_subject: int, repeat: int) -> dict:
    """The timed run with the best wall time (and its stages and CPU times), the peak tree RSS
    and PSS of the memory run, the largest single process of all runs."""
    timed = [run_demo(subjects, ae_per_subject, sampled=False) for _ in range(repeat)]
    memory = run_demo(subjects, ae_per_subject, sampled=True)
    best = min(timed, key=lambda r: r["wall"])
    return {**best, "tree_mb": memory["tree_mb"], "pss_mb": memory["pss_mb"],
            "proc_mb": max(r["proc_mb"] for r in [*timed, memory]), "memory_wall": memory["wall"]}


# ---------------------------------------------------------------- the machine

PROBE_MB = 512


def fresh_memory_cost(huge_pages: bool = True) -> tuple[float, float]:
    """Seconds per GB to touch memory (a) just freed and (b) freed 5 s before, measured in a
    separate process (so the benchmark's own memory stays small). On some virtual machines the
    kernel hands free memory back to the host after about 2 s (virtio-balloon free page
    reporting), and touching it again faults every page through the host: (b) can cost ten to
    a hundred times (a). A run's ``sys`` CPU time is mostly that; the figure tells how
    expensive the machine's memory was when the benchmark ran. numpy asks for huge pages
    (``madvise``) for large arrays; with ``huge_pages`` false the probe runs with
    ``NUMPY_MADVISE_HUGEPAGE=0`` (4 KB pages), which on a lightly loaded machine are taken
    from memory not yet handed back and cost far less — a run that needs gigabytes runs out
    of such memory, so the huge-page figure is the closer one to a large run."""
    code = (
        "import time, numpy as np\n"
        "def touch():\n"
        "    t = time.perf_counter(); b = np.ones(%d * 2**20 // 8); t = time.perf_counter() - t; del b; return t\n"
        "touch(); a = touch(); time.sleep(5); print(a, touch())\n" % PROBE_MB)
    env = {**os.environ, "NUMPY_MADVISE_HUGEPAGE": "1" if huge_pages else "0"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    reused, returned = (float(x) * 1024 / PROBE_MB for x in out.split())
    return reused, returned


def cpu_speed() -> float:
    """Seconds for a fixed pure-Python loop (20 million additions): on a shared virtual machine
    the speed of a vCPU drifts with the host's load (measured here: 1.07 s and 1.33 s within
    half an hour), and every figure of a run drifts with it."""
    start = time.perf_counter()
    total = 0
    for i in range(20_000_000):
        total += i
    return time.perf_counter() - start


def print_machine_state(when: str) -> None:
    reused, returned = fresh_memory_cost()
    small = fresh_memory_cost(huge_pages=False)[1]
    print(f"machine {when}: Python loop {cpu_speed():.2f} s; fresh memory {reused:.2f} s/GB to touch pages "
          f"just freed, {returned:.2f} s/GB after 5 s idle ({small:.2f} s/GB in 4 KB pages) "
          f"(see cpu_speed, fresh_memory_cost)", flush=True)


# ---------------------------------------------------------------- output

def stage_names(results: list[dict]) -> list[str]:
    seen = [s for r in results for s in r["stages"]]
    return list(STAGES) + sorted(set(seen) - set(STAGES))


def table(results: list[dict], markdown: bool) -> list[list[str]]:
    """Header row then one row per result; AE column only if every run reported it."""
    stages, with_ae = stage_names(results), all(r["adae"] is not None for r in results)
    header = ["subjects", "studies"] + (["AE records"] if with_ae else []) + ["wall s", "user s", "sys s",
                                                                              "peak PSS MB", "peak tree MB"]
    header += ([] if markdown else ["max proc MB"]) + ["s/1k subj"] + stages
    rows = [header]
    for r in results:
        row = [f"{r['subjects']:,}", str(r["studies"])] + ([f"{r['adae']:,}"] if with_ae else [])
        row += [f"{r['wall']:.1f}", f"{r['user']:.1f}", f"{r['sys']:.1f}", f"{r['pss_mb']:.0f}", f"{r['tree_mb']:.0f}"] + ([] if markdown else [f"{r['proc_mb']:.0f}"])
        row += [f"{1000 * r['wall'] / r['subjects']:.3f}"]
        row += [f"{r['stages'][s]:.2f}" if s in r["stages"] else "-" for s in stages]
        rows.append(row)
    return rows


def format_plain(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in rows)


def format_markdown(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(row) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("---:" for _ in rows[0]) + "|")
    return "\n".join(lines)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def per_subject_ratio(big: float, big_n: int, small: float, small_n: int) -> float:
    return (big / big_n) / (small / small_n) if small > 0 else float("inf")


def targets(results: list[dict]) -> list[str]:
    by_n = {r["subjects"]: r for r in results}
    lines = []
    if DEFAULT_DEMO_SUBJECTS in by_n:
        wall = by_n[DEFAULT_DEMO_SUBJECTS]["wall"]
        lines.append(f"default demo (767) wall:          {wall:6.1f} s   (target <= 5 s)       {verdict(wall <= 5)}")
    if 100_000 in by_n:
        big = by_n[100_000]
        lines.append(f"100,000 wall:                     {big['wall']:6.1f} s   (target <= 90 s)      "
                     f"{verdict(big['wall'] <= 90)}")
        lines.append(f"100,000 peak memory (tree PSS):   {big['pss_mb']:6.0f} MB  (target <= 6144 MB)   "
                     f"{verdict(big['pss_mb'] <= 6144)}")
        lines.append(f"100,000 largest process (RSS):    {big['proc_mb']:6.0f} MB  (target <= 6144 MB)   "
                     f"{verdict(big['proc_mb'] <= 6144)}")
    if 100_000 in by_n and 10_000 in by_n:
        big, small = by_n[100_000], by_n[10_000]
        ratio = per_subject_ratio(big["wall"], 100_000, small["wall"], 10_000)
        lines.append(f"cost per subject 100,000 vs 10,000: {ratio:4.2f}x (target <= {SCALING_LIMIT}x)  "
                     f"{verdict(ratio <= SCALING_LIMIT)}")
        for stage in stage_names([big, small]):
            if stage in big["stages"] and stage in small["stages"]:
                r = per_subject_ratio(big["stages"][stage], 100_000, small["stages"][stage], 10_000)
                flag = "  SUPERLINEAR" if r > SCALING_LIMIT else ""
                lines.append(f"  stage {stage:<9} per subject 100,000 vs 10,000: {r:5.2f}x{flag}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, nargs="+", default=[767, 10_000, 100_000],
                        help="sizes to run (767 = the default demo, run without size flags)")
    parser.add_argument("--ae-per-subject", type=int, default=15,
                        help="AE records per subject for sizes other than 767 (default 15)")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per size (the best wall time "
                        "is kept), besides the one memory run")
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    parser.add_argument("--keep-logs", metavar="DIR", help="keep each run's build log (stage starts, and "
                        "when the peak PSS was seen) in DIR")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    global KEEP_LOGS
    KEEP_LOGS = Path(args.keep_logs) if args.keep_logs else None
    require_linux()
    compile_checkout()
    print_machine_state("before the runs")
    sys.path.insert(0, str(ROOT))
    from fileformats.xpt import _native   # what the runs' XPT writer uses (the demo imports it alike)
    print("XPT row fill: " + ("C kernel (_trialpack_xpt)" if _native.kernel else "numpy (no C kernel built)"))
    results = []
    for n in args.subjects:
        results.append(best_of(n, args.ae_per_subject, args.repeat))
        done = results[-1]
        print(f"  done: {n:,} subjects, wall {done['wall']:.1f} s (the memory run: {done['memory_wall']:.1f} s)",
              file=sys.stderr, flush=True)
    print_machine_state("after the runs")
    print(format_plain(table(results, markdown=False)))
    print(LEGEND)
    if args.markdown:
        print()
        print(format_markdown(table(results, markdown=True)))
    target_lines = targets(results)
    if target_lines:
        print()
        print("\n".join(target_lines))


if __name__ == "__main__":
    main()
