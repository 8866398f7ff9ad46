"""Specs and frames for the define tests: the minimal study's SDTM and a hand-made ISS ADaM package."""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from specs import Document, RangeCheck, Spec, Study, ValueLevel, WhereClause, conform, standard_spec

CREATED = datetime(2025, 1, 31, 10, 0, 0)
SAS_EPOCH = pd.Timestamp("1960-01-01")


def sdtm_package(tmp_path_factory):
    """(spec, frames) of the minimal study mapped to SDTM, with an aCRF and a reviewer's guide."""
    from sdtm.config import load_study_config
    from sdtm.mapping import map_study, read_study_raw
    from tests.minimal_study import write_minimal_study

    folder = tmp_path_factory.mktemp("mini-raw")
    path = write_minimal_study(folder)
    ae = folder / "raw" / "ae.csv"   # a good define: without the AE record with no term (kept with null Req values)
    ae.write_text(ae.read_text().replace("002,2,,,,,,2021-03-15,,N,N,N,N,MILD,No,Recovered\n", ""))
    config = load_study_config(path)
    study = map_study(config, read_study_raw(config), data_cutoff="2021-12-31")
    spec = study.spec
    spec.documents = [Document(id="LF.acrf", title="Annotated CRF", href="acrf.pdf", kind="AnnotatedCRF"),
                      Document(id="LF.csdrg", title="Clinical Study Data Reviewer's Guide", href="csdrg.pdf",
                               kind="SupplementalDoc")]
    spec.dataset("DM").variable("SEX").origin_pages = "3"
    spec.dataset("DM").variable("BRTHDTC").origin_pages = "3 4"
    return spec, dict(study.datasets)


def _dates(*values):
    return pd.to_datetime(pd.Series(values, dtype=object))


def adam_spec() -> Spec:
    """The shipped ADaMIG 1.3 spec for the ISS, plus ADAETTE value-level metadata and an ADRG."""
    spec = standard_spec("adamig-1.3")
    spec.study = Study(oid="STDY.ISS", name="ISS", description="Integrated summary of safety",
                       protocol_name="ISS")
    spec.documents = [Document(id="LF.adrg", title="Analysis Data Reviewer's Guide", href="adrg.pdf",
                               kind="SupplementalDoc")]
    for code, label in (("TEAE", "Years at risk to the first TEAE"),
                        ("SINF", "Years at risk to the first serious infection")):
        oid = f"WC.ADAETTE.PARAMCD.{code}"
        spec.where_clauses.append(WhereClause(oid=oid, checks=[RangeCheck("ADAETTE", "PARAMCD", "EQ", [code])]))
        spec.value_level.append(ValueLevel(dataset="ADAETTE", variable="AVAL", where_clause=oid, label=label,
                                           data_type="float", origin_type="Derived", origin_source="Sponsor",
                                           method="MT.ADAETTE.AVAL", order=len(spec.value_level) + 1))
    return spec


def adam_frames(spec: Spec) -> dict[str, pd.DataFrame]:
    """Three subjects of two studies; values chosen so every length is known by hand."""
    usubjid = ["TPZ-201-01-001", "TPZ-201-01-002", "TPZ-301-02-0103"]      # 14, 14, 15 bytes
    adsl = pd.DataFrame({
        "STUDYID": ["TPZ-201", "TPZ-201", "TPZ-301"], "USUBJID": usubjid, "SUBJID": ["001", "002", "0103"],
        "SITEID": ["01", "01", "02"], "AGE": [8.0, 10.0, 15.0], "AGEU": ["YEARS"] * 3,
        "AGEGR1": ["2-11", "2-11", "12-17"], "AGEGR1N": [1.0, 1.0, 2.0], "SEX": ["F", "M", "F"],
        "RACE": ["WHITE", "ASIAN", "WHITE"], "ETHNIC": ["NOT HISPANIC OR LATINO"] * 3,
        "SAFFL": ["Y", "Y", "Y"], "ITTFL": ["Y", "Y", "N"],
        "ARM": ["Vehicle, then Topazitinib 1.5%", "Topazitinib 1.5%", "Topazitinib 0.75%"],
        "TRT01P": ["Vehicle", "Topazitinib 1.5%", "Topazitinib 0.75%"], "TRT01PN": [0.0, 2.0, 1.0],
        "TRT01A": ["Vehicle", "Topazitinib 1.5%", "Topazitinib 0.75%"], "TRT01AN": [0.0, 2.0, 1.0],
        "TRTSDT": _dates("2021-03-01", "2021-03-10", "2022-01-05"),   # SAS days 22340, 22349, 22650
        "TRTEDT": _dates("2021-06-30", "2021-03-20", "2022-04-05"),
        "TRTDURD": [122.0, 11.0, 91.0], "TRTDURY": [0.334, 0.0301, 0.2491],
        "DTHFL": [None, None, None],
    })
    adae = pd.DataFrame({
        "STUDYID": ["TPZ-201", "TPZ-201", "TPZ-301"], "USUBJID": [usubjid[0], usubjid[0], usubjid[2]],
        "AESEQ": [1.0, 2.0, 1.0], "TRTA": ["Vehicle", "Topazitinib 1.5%", "Topazitinib 0.75%"],
        "TRTAN": [0.0, 2.0, 1.0], "AETERM": ["runny nose", "headache", "cellulitis of leg"],
        "AEDECOD": ["Rhinorrhoea", "Headache", "Cellulitis"],
        "AEBODSYS": ["Respiratory, thoracic and mediastinal disorders", "Nervous system disorders",
                     "Infections and infestations"],
        "AESER": ["N", "N", "Y"], "AESEV": ["MILD", "MODERATE", "SEVERE"],
        "ASTDT": _dates("2021-02-25", "2021-04-02", "2022-02-01"), "TRTEMFL": [None, "Y", "Y"],
        "SRCDOM": ["AE", "AE", "AE"], "SRCSEQ": [1.0, 2.0, 1.0],
    })
    trt = {"TPZ-201-01-001": ("Topazitinib 1.5%", 2.0), "TPZ-201-01-002": ("Topazitinib 1.5%", 2.0),
           "TPZ-301-02-0103": ("Topazitinib 0.75%", 1.0)}
    params = [("TRTDURD", "Total Treatment Duration (days)", "DAYS"),
              ("TRTDURY", "Total Treatment Duration (years)", "YEARS"),
              ("TDOSE", "Total Amount Applied (g)", "g"), ("ADOSE", "Average Daily Amount Applied (g/day)", "g/day")]
    aval = {"TPZ-201-01-001": [94, 0.2574, 140.5, 1.49], "TPZ-201-01-002": [11, 0.0301, 33.0, 3.0],
            "TPZ-301-02-0103": [91, 0.2491, 182.0, 2.0]}
    rows = []
    for subject, (trta, trtan) in trt.items():
        for n, (code, param, unit) in enumerate(params, start=1):
            rows.append({"STUDYID": subject[:7], "USUBJID": subject, "SAFFL": "Y", "TRTA": trta, "TRTAN": trtan,
                         "PARAM": param, "PARAMCD": code, "PARAMN": float(n), "AVAL": float(aval[subject][n - 1]),
                         "AVALU": unit})
    adex = pd.DataFrame(rows)
    adaette = pd.DataFrame({
        "STUDYID": ["TPZ-201"] * 4, "USUBJID": [usubjid[0]] * 2 + [usubjid[1]] * 2,
        "TRTA": ["Topazitinib 1.5%"] * 4, "TRTAN": [2.0] * 4,
        "PARAM": ["Years at risk to the first TEAE", "Years at risk to the first serious infection"] * 2,
        "PARAMCD": ["TEAE", "SINF"] * 2, "AVAL": [0.0137, 0.2574, 0.0301, 0.0301],
        "AVALU": ["YEARS"] * 4, "CNSR": [0.0, 1.0, 1.0, 1.0],
        "EVNTDESC": ["ADVERSE EVENT", "NO EVENT DURING TIME AT RISK", "NO EVENT DURING TIME AT RISK",
                     "NO EVENT DURING TIME AT RISK"],
        "SRCDOM": ["AE", None, None, None], "SRCSEQ": [2.0, np.nan, np.nan, np.nan],
    })
    raw = {"ADSL": adsl, "ADAE": adae, "ADEX": adex, "ADAETTE": adaette}
    return {name: conform(df, spec.dataset(name)) for name, df in raw.items()}
