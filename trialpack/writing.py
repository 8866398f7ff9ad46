"""Write one package folder: each dataset as XPT v5 (and/or Dataset-JSON), its define.xml and
define.html, all from the same spec, and the spec's documents that can write themselves.

Empty SUPP-- datasets are not written (SDTMIG §8.4: supplemental qualifiers exist only when
there are qualifiers); any other empty dataset is written and flagged ``def:HasNoData`` in the
define.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd

from sdtm.supp import submitted_datasets
from specs.model import Spec
from trialpack import layout


def write_package_datasets(spec: Spec, datasets: dict[str, pd.DataFrame], folder: Path, *,
                           formats: tuple[str, ...], created: datetime, study_oid: str,
                           analysis_results=()) -> list[Path]:
    """Datasets, documents, define.xml (+ define2-1.xsl) and define.html into ``folder``; the files
    written. A spec document with a ``write(path, *, created)`` method (e.g. the generated aCRF,
    ``sdtm.acrf.AnnotatedCRF``) is written at its href; any other document is the user's to put
    there (validation's DD0114 names a def:leaf whose file is missing). ``analysis_results``
    (``define.arm.ResultDisplay`` objects) go into the define as Analysis Results Metadata."""
    from define import write_define, write_define_html
    from fileformats.datasetjson import write_dataset_json
    from fileformats.xpt import write_xpt

    kept = submitted_datasets(datasets)
    spec = spec.subset(list(kept))
    folder.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    for name, df in kept.items():
        ds = spec.dataset(name)
        if "xpt" in formats:
            files.append(write_xpt(df, layout.dataset_file(folder, name, "xpt"), name=name, label=ds.label,
                                   variables=ds.variables, created=created, remember_sha256=True))  # manifest
        if "json" in formats:
            files.append(write_dataset_json(df, layout.dataset_file(folder, name, "json"), name=name, label=ds.label,
                                            variables=ds.variables, keys=ds.keys, study_oid=study_oid,
                                            metadata_version_oid=f"MDV.{study_oid}", created=created))
    for doc in spec.documents:
        if callable(getattr(doc, "write", None)):
            files.append(doc.write(folder / doc.href, created=created))
    leaf = "xpt" if "xpt" in formats else "json"
    hrefs = {name: f"{name.lower()}.{leaf}" for name in kept}
    define_xml = write_define(spec, kept, folder / "define.xml", created=created, leaf_hrefs=hrefs,
                              analysis_results=analysis_results)
    files += [define_xml, folder / "define2-1.xsl", write_define_html(define_xml, folder / "define.html")]
    return files
