"""``trialpack build``: an ISS config in, a complete submission package out.

Stages, in order: read the ISS and study configs; per study, map raw data to SDTM (or read
existing SDTM) and write its datasets and define.xml; pool the studies and derive the ISS
ADaM; write its datasets and define.xml; compute rates and write the report; write the
lineage files; validate the written package (the define checks against each file's header
records and the frames it was written from, the cross-dataset checks); write the validation
report and the manifest. ``trialpack validate`` re-reads every file. The package is built in a hidden folder beside the target and swapped in
only when complete (``trialpack.process.atomic``), so an interrupted build leaves the previous
package untouched. Timestamps come from the config (``creation_datetime``) or
``SOURCE_DATE_EPOCH``: the same inputs give the same bytes.
"""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd

from adam.build import ISSAnalysis, check_analysis, derive_analysis_datasets, pool_sdtm
from adam.config import ISSConfig, load_iss_config
from fileformats import pagecache
from sdtm.mapping import StudySDTM, map_study, read_study_raw
from sdtm.source import read_study_sdtm
from specs import findings
from specs.clock import check_environment
from specs.errors import InputError, InputErrors
from trialpack import layout, manifest
from trialpack.process import handover, parallel
from trialpack.process.atomic import atomic_dir

FORMATS = ("xpt", "json")
Progress = Callable[[str], None]


@dataclass
class BuildResult:
    """What a build made: where, from what, with which findings, and how long each stage took."""

    out: Path
    iss: ISSConfig
    studies: list[StudySDTM]
    analysis: ISSAnalysis
    findings: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    _summary: dict | None = field(default=None, repr=False)

    def summary(self) -> dict:
        """The end-of-build numbers the CLI prints and the manifest records (computed once)."""
        from trialpack.summary import build_summary

        if self._summary is None:
            self._summary = build_summary(self)
        return self._summary


def parse_formats(text: str) -> tuple[str, ...]:
    from specs.errors import InputError

    wanted = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    bad = [f for f in wanted if f not in FORMATS]
    if bad or not wanted:
        raise InputError(f"unknown dataset format(s) {', '.join(bad) or text!r}; use xpt, json or xpt,json")
    return wanted


class Stages:
    """Times each stage and reports it to a progress callback."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress or (lambda message: None)
        self.timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str, message: str) -> Iterator[None]:
        self.progress(message)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start


def build(iss_path: str | Path, out: str | Path, *, input_dir: str | Path | None = None,
          formats: tuple[str, ...] = ("xpt",), progress: Progress | None = None) -> BuildResult:
    """Build the package of ``iss_path`` into ``out`` (see the module docstring)."""
    check_environment()
    stages = Stages(progress)
    with stages.stage("configs", "reading configs"):
        iss = load_iss_config(iss_path)
    out = Path(out)
    with atomic_dir(out) as tmp, named_from(iss.file.parent):
        result = build_into(tmp, iss, input_dir=Path(input_dir) if input_dir else None, formats=formats,
                            stages=stages)
    result.out = out
    result.files = [out / f.relative_to(tmp) for f in result.files]
    return result


def demo(out: str | Path, *, subjects: int | None = None, studies: int | None = None, seed: int | None = None,
         ae_per_subject: int | None = None, formats: tuple[str, ...] = ("xpt",),
         progress: Progress | None = None) -> BuildResult:
    """Generate the demo integration's raw data into ``OUT/demo-input`` and build its package."""
    from trialpack.demo import DEMO_DEFAULTS, generate

    check_environment()
    stages = Stages(progress)
    out = Path(out)
    options = {k: v if v is not None else DEMO_DEFAULTS[k] for k, v in
               (("subjects", subjects), ("studies", studies), ("seed", seed))}
    with atomic_dir(out) as tmp:
        with stages.stage("generate", "generating the demo raw data"):
            iss_path = generate(tmp / "demo-input", ae_per_subject=ae_per_subject, **options)
        with stages.stage("configs", "reading configs"):
            iss = load_iss_config(iss_path)
        with named_from(iss.file.parent):
            result = build_into(tmp, iss, input_dir=None, formats=formats, stages=stages)
    result.out = out
    result.files = [out / f.relative_to(tmp) for f in result.files]
    return result


@contextmanager
def named_from(base: Path) -> Iterator[None]:
    """Input errors raised inside name raw files relative to ``base`` (the ISS config's folder,
    as the package names them); the error leaving the build names them so that the user can
    open them: ``base``/name as the user's own path to ``base`` reads (relative to the current
    folder when the user gave a relative path)."""
    try:
        yield
    except InputError as exc:
        for problem in [exc, *getattr(exc, "problems", [])]:
            if problem.file and not os.path.isabs(problem.file) and (base / problem.file).exists():
                problem.relocate(os.path.normpath(base / problem.file))
        raise


def return_freed_memory() -> None:
    """Allocate Arrow buffers (pandas' text columns) with the C library's allocator, which
    gives large freed blocks back to the system, instead of Arrow's default mimalloc pool,
    which keeps them for reuse: a build makes and drops many large intermediate frames, and
    with the pool their memory stays resident until the end (measured at 10,000 subjects:
    ADaM grows the process by 610 MB with the pool, 310 MB without; see BENCHMARKS.md).
    Only the default pool of this process changes; ``ARROW_DEFAULT_MEMORY_POOL`` set by the
    user wins."""
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())


def trim_freed_memory() -> None:
    """Hand memory freed inside the C library's heap back to the system (glibc
    ``malloc_trim``; nothing elsewhere). Freed small blocks (the many Python strings and
    buffers of finished derivations) otherwise stay resident: at 100,000 subjects the build
    holds 450 MB less after the ADaM derivation, and the report worker forked then starts
    from a smaller parent."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        ctypes.CDLL(name).malloc_trim(0)
    except (OSError, AttributeError, TypeError):
        pass


def build_into(root: Path, iss: ISSConfig, *, input_dir: Path | None, formats: tuple[str, ...],
               stages: Stages) -> BuildResult:
    """Write the whole package into ``root`` (an empty folder)."""
    return_freed_memory()
    from trialpack import lineage, validation
    from trialpack.process import collector
    from trialpack.writing import write_package_datasets

    collector.settle()   # the modules imported so far live as long as the program

    created = iss.created()
    raw_configs = [c for c in iss.studies if c.source != "sdtm"]
    studies, pooled_input, files = [], [], []
    processes = parallel.workers(len(raw_configs))
    # each worker's result comes back through memory shared with it (trialpack.process.handover), the
    # files made before the workers fork
    with handover.channels([c.studyid for c in raw_configs] if processes else []) as channels, \
            parallel.pool(processes) as workers:
        jobs = [StudyJob(c, root, input_dir, formats, created, iss.get("data_cutoff"), channel, iss.file.parent)
                for c, channel in zip(raw_configs, channels or [None] * len(raw_configs))]
        if workers:  # largest study first, results as they come: the workers finish at about the same time
            jobs.sort(key=_raw_bytes, reverse=True)
            pending = [job.config.studyid for job in jobs]
            stages.progress(f"mapping raw data to SDTM: {len(jobs)} studies in {processes} worker processes: "
                            f"{study_list(pending)}")
        results = (map(received_study, workers.imap_unordered(build_study_in_worker, jobs))
                   if workers else (build_study_or_problem(job, stages) for job in jobs))
        by_study, problems = {}, []
        if workers:  # while the workers map: what the parent has to wait for anyway is cheaper now
            parallel.warm_imports()
        for outcome in results:
            if isinstance(outcome, InputError):   # every study is mapped, and every study's problems reported
                problems.append(outcome)
                if workers:
                    pending.remove(outcome.study)
                continue
            study, written, timings = outcome
            if workers:
                pending.remove(study.studyid)
                stages.progress(mapped_message(study.studyid, len(jobs) - len(pending), len(jobs),
                                               pending[:processes]))
                for name, seconds in timings.items():
                    stages.timings[name] = stages.timings.get(name, 0.0) + seconds
            by_study[study.studyid] = (study, written)
    if problems:
        raise InputErrors.of(problems, order={c.studyid: i for i, c in enumerate(iss.studies)})
    for config in iss.studies:
        if config.source == "sdtm":
            with stages.stage("read", f"{config.studyid}: reading SDTM"):
                pooled_input.append(read_study_sdtm(config, input_dir))
            continue
        study, written = by_study[config.studyid]
        studies.append(study)
        files += written
        pooled_input.append(study.datasets)
    sdtm_folders = {layout.sdtm_dir(root, s.studyid): validation.written_folder(layout.sdtm_dir(root, s.studyid),
                                                                                s.datasets) for s in studies}
    # the SDTM folders are checked, the SDTM lineage written and the finished files hashed for the
    # manifest on the other core while this one derives the ADaM
    finished = [path for path, _, _ in manifest.input_files(iss, input_dir)] + \
        [path for s in studies for path in manifest.package_files(layout.sdtm_dir(root, s.studyid))]
    with parallel.forked(timed_check, sdtm_folders, root, studies, finished,
                         enabled=parallel.workers(2) > 1) as sdtm_check:
        with stages.stage("adam", "deriving the pooled ISS ADaM"):
            analysis = derive_analysis_datasets(pool_sdtm(pooled_input, extensions=iss.extensions), iss)
            trim_freed_memory()
        # the report needs the datasets only: it starts on the other core beside their checks
        with parallel.forked(timed_report, analysis, layout.report_dir(root), created,
                             enabled=parallel.workers(2) > 1) as report:
            if report is None:
                with stages.stage("report", "computing rates, tables and figures"):
                    files += write_report(analysis, layout.report_dir(root), created)
            else:
                stages.progress("computing rates, tables and figures")
            with stages.stage("adam_check", "checking the ISS ADaM against its spec"):
                check_analysis(analysis)
            with stages.stage("write", "writing ADaM and define.xml"):
                files += write_package_datasets(analysis.spec, analysis.datasets, layout.adam_dir(root),
                                                formats=formats, created=created, study_oid=analysis.spec.study.oid,
                                                analysis_results=analysis_results_metadata(iss))
                trim_freed_memory()
            with stages.stage("lineage", "writing lineage"):
                files += (lineage.write_lineage(root, studies, analysis) if sdtm_check is None
                          else lineage.write_adam_lineage(root, analysis))
            build_findings = findings.concat([*(s.findings.assign(study=s.studyid) for s in studies),
                                              analysis.findings.assign(study=iss.id)])
            # spec checks (TP00xx) can be made again from the files: not kept with the build findings
            spec_checked = build_findings["rule"].str.startswith("TP00")
            with stages.stage("validate", "validating the package"):
                files.append(validation.write_build_findings(build_findings[~spec_checked], root))
                checked = None
                if sdtm_check is not None:
                    checked, seconds, sdtm_lineage, hashed = sdtm_check.get()
                    pagecache.adopt_digests(hashed)
                    stages.timings.update(seconds)   # the worker's time
                    files += sdtm_lineage
                written = {**sdtm_folders,
                           layout.adam_dir(root): validation.written_folder(layout.adam_dir(root), analysis.datasets)}
                all_findings, details = validation.validate_package(
                    root, spec_checks_done=with_dataset_files(build_findings[spec_checked], root, studies, formats),
                    written=written, checked=checked)
                files += validation.write_validation(all_findings, layout.validation_dir(root), created=created,
                                                     details=details)
            if report is not None:
                # while the report worker runs, the files the manifest will hash that are final (all but
                # the report's) are hashed here, one at a time
                pending = [p for p in manifest.package_files(root)
                           if layout.report_dir(root) not in p.parents and pagecache.known_digest(p) is None]
                while pending and report.running():
                    manifest.sha256_all([pending.pop()], threads=1)
                report_files, seconds, computed = report.get()
                analysis.computed.update(computed)
                files += report_files
                stages.timings["report"] = seconds  # the worker's time, run beside the validation
    result = BuildResult(root, iss, studies, analysis, all_findings, stages.timings, files)
    with stages.stage("manifest", "writing the manifest"):
        files.append(manifest.write_manifest(root, result, input_dir=input_dir))
    return result


def with_dataset_files(found: pd.DataFrame, root: Path, studies: list[StudySDTM],
                       formats: tuple[str, ...] = ("xpt",)) -> pd.DataFrame:
    """Spec-check findings made in memory, named by the package file of their dataset as the
    validation of the re-read files names them (the XPT file when one is written, else the
    Dataset-JSON file); one name per distinct study and dataset."""
    folders = {s.studyid: layout.sdtm_dir(root, s.studyid) for s in studies}
    adam = layout.adam_dir(root)
    fmt = "xpt" if "xpt" in formats else formats[0]
    if not len(found):   # (pandas 2.2 cannot factorize an empty MultiIndex; an empty concat has no "study")
        return found.assign(file=pd.Series(dtype=object)).drop(columns="study", errors="ignore")
    pairs = found[["study", "dataset"]].astype(object)
    codes, distinct = pd.factorize(pd.MultiIndex.from_frame(pairs))
    names = [layout.dataset_file(folders.get(study, adam), str(name), fmt).relative_to(root).as_posix()
             for study, name in distinct]
    return found.assign(file=np.asarray(names, dtype=object)[codes]).drop(columns="study")


@dataclass
class StudyJob:
    """One raw-data study to map and write (picklable: it crosses to a worker process)."""

    config: object
    root: Path
    input_dir: Path | None
    formats: tuple[str, ...]
    created: datetime
    cutoff: str | None
    channel: int | None = None   # the memory file the result is handed over in (trialpack.process.handover)
    base: Path | None = None     # raw files are named relative to it: the ISS config's folder


#: How much more mapping work a byte of a raw file is, by format, than a byte of CSV: an xlsx is
#: zip-compressed XML (about a tenth of its CSV) read cell by cell; a sas7bdat is about as big.
_WORK_PER_BYTE = {".xlsx": 12, ".sas7bdat": 1}


def _raw_bytes(job: StudyJob) -> int:
    """The size of a study's raw files, weighted by format (:data:`_WORK_PER_BYTE`): roughly
    how long mapping it takes, to map the largest first."""
    folder = job.config.raw_dir(job.input_dir)
    paths = [folder / f["path"] for f in job.config.get("raw", {}).get("files", {}).values()]
    return sum(p.stat().st_size * _WORK_PER_BYTE.get(p.suffix.lower(), 1) for p in paths if p.is_file())


def study_list(studyids: list[str], shown: int = 6) -> str:
    """``A, B, C`` for a progress line: the first ``shown`` studies, then how many more."""
    more = len(studyids) - shown
    return ", ".join(studyids[:shown]) + (f" and {more} more" if more > 0 else "")


def mapped_message(studyid: str, done: int, total: int, mapping: list[str]) -> str:
    """The progress line of a study a worker has mapped: ``done`` of ``total`` studies mapped, and
    which are being mapped now (``mapping``: the next unfinished studies, one per worker, as the
    pool hands the jobs out in order, one at a time)."""
    line = f"{studyid}: mapped to SDTM, datasets and define.xml written ({done} of {total})"
    return line + (f"; mapping {study_list(mapping)}" if mapping else "")


def build_study(job: StudyJob, stages: Stages | None = None) -> tuple[StudySDTM, list[Path], dict[str, float]]:
    """Raw data -> SDTM of one study, and its package folder (datasets, define.xml, aCRF)."""
    from trialpack.writing import write_package_datasets

    stages = stages or Stages(None)
    config = job.config
    with stages.stage("map", f"{config.studyid}: mapping raw data to SDTM"):
        study = map_study(config, read_study_raw(config, job.input_dir, base=job.base), data_cutoff=job.cutoff,
                          created=job.created)
    with stages.stage("write", f"{config.studyid}: writing SDTM and define.xml"):
        files = write_package_datasets(study.spec, study.datasets, layout.sdtm_dir(job.root, config.studyid),
                                       formats=job.formats, created=job.created, study_oid=study.spec.study.oid)
    return study, files, dict(stages.timings)


def build_study_or_problem(job: StudyJob, stages: Stages | None = None):
    """:func:`build_study`, or the bad input it met, marked with the study (so that the build can
    report every study's problems together, sorted by study)."""
    try:
        return build_study(job, stages)
    except InputError as exc:
        for problem in [exc, *getattr(exc, "problems", [])]:
            problem.study = job.config.studyid
        return exc


def build_study_in_worker(job: StudyJob):
    """:func:`build_study` in a pool worker, its result handed over in ``job.channel`` with the
    digests its writers made of the files (:func:`fileformats.pagecache.known_digests`)."""
    outcome = build_study_or_problem(job)
    if isinstance(outcome, InputError):   # small: back through the pool's pipe
        return outcome
    study, files, timings = outcome
    return handover.send(job.channel, (study, files, timings, pagecache.known_digests(files)))


def received_study(parcel) -> tuple[StudySDTM, list[Path], dict[str, float]]:
    """In the parent: a worker's :func:`build_study_in_worker` result, its files' digests
    remembered here (the manifest and the SDTM checks' worker, forked later, take them)."""
    if isinstance(parcel, InputError):
        return parcel
    study, files, timings, digests = handover.receive(parcel)
    pagecache.adopt_digests(digests)
    return study, files, timings


def timed_check(folders: dict, root: Path, studies: list[StudySDTM], finished: list[Path]
                ) -> tuple[dict, dict, list[Path], dict]:
    """:func:`trialpack.validation.check_folder` of each written folder (spec checks excepted:
    the build made them), the SDTM side of the lineage (:func:`trialpack.lineage.write_sdtm_lineage`)
    and the manifest's digests of the ``finished`` files and of that lineage
    (:func:`trialpack.manifest.sha256_all`, :func:`fileformats.pagecache.known_digests`), with the
    time each took (stages validate_sdtm, lineage_sdtm, hash_sdtm), to be handed back from a
    worker."""
    from trialpack.lineage import write_sdtm_lineage
    from trialpack.validation import check_folder

    start = time.perf_counter()
    found = {folder: check_folder(folder, data, with_spec_checks=False) for folder, data in folders.items()}
    checked = time.perf_counter()
    written = write_sdtm_lineage(root, studies)
    traced = time.perf_counter()
    manifest.sha256_all(finished + written, threads=1)
    seconds = {"validate_sdtm": checked - start, "lineage_sdtm": traced - checked,
               "hash_sdtm": time.perf_counter() - traced}
    return found, seconds, written, pagecache.known_digests(finished + written)


def timed_report(analysis: ISSAnalysis, folder: Path, created: datetime) -> tuple[list[Path], float, dict]:
    """The report, its time, and what it computed that the build's summary needs too
    (``analysis.computed``: the event rates), to be handed back from a worker."""
    trim_freed_memory()   # a forked worker: what the parent freed before the fork is not needed here
    start = time.perf_counter()
    files = write_report(analysis, folder, created)
    return files, time.perf_counter() - start, analysis.computed


def analysis_results_metadata(iss: ISSConfig) -> list:
    """The ISS define's Analysis Results Metadata: the key safety results (``report.arm``)."""
    from report.arm import arm_displays

    return arm_displays(iss)


def write_report(analysis: ISSAnalysis, folder: Path, created: datetime) -> list[Path]:
    """The ISS report (tables, figures, summary) — see ``report.render``."""
    from report.render import write_report as render   # a broken import fails the build, never hides the report

    return list(render(analysis, folder, created=created).values())
