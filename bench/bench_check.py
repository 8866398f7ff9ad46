"""Benchmark: specs.check on a 1,000,000-row AE-like frame against the shipped-style AE spec.

Run:  python bench/bench_check.py [--rows N]
Prints the wall time of specs.conform and specs.check and the findings found (the frame
carries a known number of violations so the work is real).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import argparse
import time

import numpy as np
import pandas as pd

import specs
from specs.model import Codelist, CodelistItem, DatasetSpec, Spec, VariableSpec


def ae_spec() -> Spec:
    variables = [
        VariableSpec("STUDYID", "Study Identifier", core="Req"),
        VariableSpec("DOMAIN", "Domain Abbreviation", core="Req", length=2),
        VariableSpec("USUBJID", "Unique Subject Identifier", core="Req"),
        VariableSpec("AESEQ", "Sequence Number", data_type="integer", core="Req"),
        VariableSpec("AETERM", "Reported Term for the Adverse Event", core="Req"),
        VariableSpec("AEDECOD", "Dictionary-Derived Term", core="Req"),
        VariableSpec("AESEV", "Severity/Intensity", core="Perm", codelist="CL.AESEV"),
        VariableSpec("AESER", "Serious Event", core="Exp", codelist="CL.NY"),
        VariableSpec("AESTDTC", "Start Date/Time of Adverse Event", data_type="partialDate", core="Exp"),
        VariableSpec("AESTDY", "Study Day of Start of Adverse Event", data_type="integer", core="Perm"),
    ]
    for i, v in enumerate(variables, 1):
        v.order = i
    return Spec(
        datasets=[DatasetSpec("AE", "Adverse Events", keys=["STUDYID", "USUBJID", "AESEQ"], variables=variables)],
        codelists=[Codelist("CL.AESEV", "Severity", items=[CodelistItem(v) for v in ("MILD", "MODERATE", "SEVERE")]),
                   Codelist("CL.NY", "No Yes Response", items=[CodelistItem(v) for v in ("N", "Y")])])


def ae_frame(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    terms = np.array(["HEADACHE", "NASOPHARYNGITIS", "APPLICATION SITE PAIN", "PYREXIA", "COUGH"])
    days = rng.integers(0, 700, n)
    dtc = pd.Series(np.datetime64("2021-01-01") + days.astype("timedelta64[D]")).dt.strftime("%Y-%m-%d")
    df = pd.DataFrame({
        "STUDYID": "STUDY01", "DOMAIN": "AE",
        "USUBJID": np.char.add("STUDY01-", (np.arange(n) // 15).astype(str)),
        "AESEQ": (np.arange(n) % 15 + 1).astype(float),
        "AETERM": terms[rng.integers(0, 5, n)], "AEDECOD": terms[rng.integers(0, 5, n)],
        "AESEV": np.array(["MILD", "MODERATE", "SEVERE"])[rng.integers(0, 3, n)],
        "AESER": np.array(["N", "Y"])[(rng.random(n) < 0.02).astype(int)],
        "AESTDTC": dtc, "AESTDY": days + 1.0,
    })
    df.loc[::100_000, "AESEV"] = "mild"       # 10 codelist violations per million
    df.loc[5::100_000, "AESTDTC"] = "2021-02-30"  # 10 impossible dates per million
    return df


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    spec = ae_spec()
    ds = spec.dataset("AE")
    df = ae_frame(args.rows)
    t0 = time.perf_counter()
    df = specs.conform(df, ds)
    t1 = time.perf_counter()
    found = specs.check(df, ds, spec)
    t2 = time.perf_counter()
    print(f"rows: {args.rows:,}  columns: {df.shape[1]}  pandas {pd.__version__}")
    print(f"specs.conform: {t1 - t0:6.2f} s")
    print(f"specs.check:   {t2 - t1:6.2f} s   findings: {len(found)} {found.rule.value_counts().to_dict()}")


if __name__ == "__main__":
    main()
