"""The ISS analysis data reviewer's guide (ADRG-style, ``adrg.pdf``): the def:SupplementalDoc of
the pooled ADaM define.xml, written from the integrated analysis.

Its sections follow the PHUSE Analysis Data Reviewer's Guide template, reduced to what a
generated package states as fact: the integration and the standards used; the studies pooled
(source, subjects in ADSL, safety population); the treatment groups; each analysis dataset
(class, structure, keys, records) and the parameters of ADEX and ADAETTE; the derivations
(each method and the variables it derives; the algorithms are in define.xml); and the
conformance findings of the derivation (rule, severity, count). Every number comes from
:func:`adam.build.derive_adam`'s datasets and findings; the guide holds only this summary.
"""
from __future__ import annotations

import pandas as pd

from adam.config import ISSConfig
from fileformats.textdoc import (GeneratedDocument, Heading, Paragraph, Table, dataset_table, findings_table,
                               standards_text)
from specs.model import Spec

ADRG_ID = "LF.adrg"
ADRG_HREF = "adrg.pdf"
ADRG_TITLE = "Analysis Data Reviewer's Guide"


def reviewers_guide(iss: ISSConfig, spec: Spec, datasets: dict[str, pd.DataFrame],
                    found: pd.DataFrame) -> GeneratedDocument:
    """The ISS ADRG as a spec document (``LF.adrg``, kind SupplementalDoc)."""
    blocks = [
        Heading("1. Introduction"),
        Paragraph(f"This guide describes the pooled analysis datasets of the integrated summary of safety "
                  f"{iss.id} in this folder and their define.xml (Define-XML 2.1, with its HTML view "
                  f"define.html). {standards_text(spec)} The tabulation datasets of each study pooled are in "
                  "that study's own folder, with its define.xml."),
        Heading("2. Studies pooled"),
        Table(("Study", "Source", "Subjects in ADSL", "Safety population"), tuple(_study_rows(iss, datasets)),
              (0.3, 0.3, 0.2, 0.2)),
        Heading("3. Treatment groups"),
        Table(("TRTAN", "Group (TRTA)", "Treatments or groups pooled", "Control"), tuple(_group_rows(iss)),
              (0.1, 0.3, 0.45, 0.15)),
        Heading("4. Datasets"),
        dataset_table(spec, datasets),
        Heading("Parameters", level=2),
        Table(("Dataset", "PARAMCD", "PARAM", "Records"), tuple(_parameter_rows(datasets)), (0.14, 0.14, 0.58, 0.14)),
        Heading("5. Derivations"),
        Paragraph("Each derived variable's algorithm is the MethodDef that define.xml cites for it; the methods "
                  "and the variables they derive:"),
        Table(("Method", "Derives"), tuple(_method_rows(spec)), (0.45, 0.55)),
        Heading("6. Conformance findings"),
        Paragraph("Findings of the derivation (TP02xx) and of the checks of these datasets against the spec "
                  "(TP00xx), by rule. The package's validation report (validation/) lists every finding with "
                  "its dataset, variable, row and value, and adds the cross-dataset and define.xml checks."),
        findings_table(found),
    ]
    return GeneratedDocument(id=ADRG_ID, title=ADRG_TITLE, href=ADRG_HREF, kind="SupplementalDoc",
                             heading=f"{iss.id} {ADRG_TITLE}",
                             subtitle=[f"Integrated summary of safety of {len(iss.studies)} "
                                       f"stud{'y' if len(iss.studies) == 1 else 'ies'}"],
                             blocks=blocks)


def _study_rows(iss: ISSConfig, datasets: dict[str, pd.DataFrame]):
    adsl = datasets["ADSL"]
    subjects = adsl.groupby("STUDYID").size()
    safety = adsl[adsl["SAFFL"] == "Y"].groupby("STUDYID").size()
    sources = {"raw": "raw EDC exports", "sdtm": "SDTM datasets"}
    return [(c.studyid, sources.get(c.source, c.source), f"{int(subjects.get(c.studyid, 0)):,}",
             f"{int(safety.get(c.studyid, 0)):,}") for c in iss.studies]


def _group_rows(iss: ISSConfig):
    return [(str(g.number), g.label, ", ".join(g.pools or tuple(map(str, g.treatments)) or g.arms), "Yes" if g.control else "")
            for g in iss.groups]


def _parameter_rows(datasets: dict[str, pd.DataFrame]):
    rows = []
    for name in ("ADEX", "ADAETTE"):
        if name not in datasets:
            continue
        counts = datasets[name].groupby(["PARAMCD", "PARAM"], sort=True).size().reset_index(name="n")
        rows += list(zip([name] * len(counts), counts["PARAMCD"], counts["PARAM"], counts["n"].map("{:,}".format)))
    return rows


def _method_rows(spec: Spec):
    users: dict[str, list[str]] = {}
    for ds, var in spec.iter_variables():
        if var.method:
            users.setdefault(var.method, []).append(f"{ds.name}.{var.name}")
    for vl in spec.value_level:
        if vl.method:
            users.setdefault(vl.method, []).append(f"{vl.dataset}.{vl.variable} ({vl.where_clause})")
    names = {m.oid: m.name for m in spec.methods}
    return [(names.get(oid, oid), ", ".join(dict.fromkeys(used))) for oid, used in users.items()]
