"""The study's reviewer's guide (cSDRG-style, ``csdrg.pdf``): the def:SupplementalDoc of its
SDTM define.xml, written from what the mapping knew.

Its sections follow the PHUSE Clinical Study Data Reviewer's Guide template, reduced to what a
generated package can state as fact: the study and the standards used; each dataset written
(class, structure, keys, records); how the raw EDC exports were mapped (per raw file: rows
read, mapped and rejected, and the rejection reasons); the non-standard variables kept in
SUPP-- (QNAM, label, raw field, origin, records); and the conformance findings of the build
(rule, severity, count). Every number comes from the datasets and findings of
:func:`sdtm.mapping.map_study`; the guide holds only this summary (a few small tables), not
the data.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from fileformats.textdoc import (GeneratedDocument, Heading, Paragraph, Table, dataset_table, findings_table,
                               standards_text)
from sdtm.config import StudyConfig
from specs.model import Spec

SDRG_ID = "LF.csdrg"
SDRG_HREF = "csdrg.pdf"
SDRG_TITLE = "Clinical Study Data Reviewer's Guide"


def reviewers_guide(config: StudyConfig, spec: Spec, datasets: dict[str, pd.DataFrame], found: pd.DataFrame,
                    reconciliation: pd.DataFrame, rejections: pd.DataFrame) -> GeneratedDocument:
    """The study's cSDRG as a spec document (``LF.csdrg``, kind SupplementalDoc)."""
    from sdtm.supp import submitted_datasets

    written = submitted_datasets(datasets)
    blocks = [
        Heading("1. Introduction"),
        Paragraph(f"This guide describes the SDTM datasets of study {config.studyid} in this folder, their "
                  "define.xml (Define-XML 2.1, with its HTML view define.html) and the annotated CRF "
                  f"(acrf.pdf). {standards_text(spec)}"),
        Paragraph(f"Study title: {config.get('title', config.studyid)}. Protocol: "
                  f"{config.get('protocol', config.studyid)}."),
        Heading("2. Datasets"),
        dataset_table(spec, written),
        Heading("3. Data mapping from the raw EDC exports"),
        Paragraph(_mapping_text(config)),
        Table(("Raw form", "File", "Rows read", "Mapped", "Rejected", "Blank rows"),
              tuple(_reconciliation_rows(reconciliation)), (0.12, 0.28, 0.15, 0.15, 0.15, 0.15)),
        Heading("Rejected raw records", level=2),
        Table(("Raw form", "Reason", "Records"), tuple(_rejection_rows(rejections)), (0.15, 0.7, 0.15),
              empty="No raw record was rejected."),
        Heading("4. Non-standard variables (SUPP--)"),
        Table(("Dataset", "QNAM", "QLABEL", "Raw field", "QORIG", "Records"), tuple(_supp_rows(config, written)),
              (0.13, 0.13, 0.36, 0.14, 0.12, 0.12), empty="The study has no supplemental qualifiers."),
        Heading("5. Conformance findings"),
        Paragraph("Findings of the build's checks of these datasets against the spec (TP00xx) and of the raw to "
                  "SDTM mapping (TP01xx), by rule. The package's validation report (validation/) lists every "
                  "finding with its dataset, variable, row and value, and adds the define.xml checks."),
        findings_table(found),
    ]
    return GeneratedDocument(id=SDRG_ID, title=SDRG_TITLE, href=SDRG_HREF, kind="SupplementalDoc",
                             heading=f"{config.studyid} {SDRG_TITLE}",
                             subtitle=[str(config.get("title", config.studyid)),
                                       f"Protocol {config.get('protocol', config.studyid)}"],
                             blocks=blocks)


def _mapping_text(config: StudyConfig) -> str:
    formats = ", ".join(config.date_formats)
    tokens = ", ".join(config.unknown_date_tokens or [])
    text = (f"Each raw form was read from the EDC export named in the study configuration "
            f"({Path(config.file).name}). Raw dates (formats {formats}")
    text += f"; unknown parts written {tokens}" if tokens else ""
    return text + (") were converted to ISO 8601, a date with unknown parts staying partial. Coded values "
                   "were mapped to CDISC controlled terminology; study days, EPOCH and the reference dates "
                   "were derived as the define.xml methods state. Every raw row is either mapped or rejected "
                   "with a reason (below), and the package's lineage files trace each SDTM record to its raw "
                   "file and row.")


def _reconciliation_rows(reconciliation: pd.DataFrame):
    """One row per raw file (the file by its name only: the package must not depend on where
    the raw data were)."""
    counts = [reconciliation[c].map("{:,}".format) for c in ("rows_read", "rows_mapped", "rows_rejected",
                                                              "blank_rows")]
    return zip(reconciliation["domain"], reconciliation["file"].map(lambda f: Path(str(f)).name), *counts)


def _rejection_rows(rejections: pd.DataFrame):
    if rejections.empty:
        return ()
    counts = rejections.groupby(["domain", "reason"], sort=True).size().reset_index(name="n")
    return zip(counts["domain"], counts["reason"], counts["n"].map("{:,}".format))


def _supp_rows(config: StudyConfig, written: dict[str, pd.DataFrame]):
    for domain in ("DM", "AE"):
        supp = written.get(f"SUPP{domain}")
        used = supp["QNAM"].value_counts() if supp is not None else pd.Series(dtype="int64")
        columns = config.get("raw", {}).get("files", {}).get(domain, {}).get("columns", {})
        for q in config.supplemental(domain):
            yield (f"SUPP{domain}", q["qnam"], q["qlabel"], columns.get(q["field"], q["field"]),
                   str(q.get("qorig", "CRF")), f"{int(used.get(q['qnam'], 0)):,}")
