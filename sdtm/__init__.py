"""sdtm: raw EDC data to SDTM (DM, AE, EX, DS, TS, SUPPDM, SUPPAE), one module per domain.

>>> import sdtm
>>> config = sdtm.load_study_config("studies/tpz-ad-301.json")
>>> study = sdtm.map_study(config, sdtm.read_study_raw(config))
>>> study.datasets["DM"], study.rejections, study.reconciliation

Holds: ``mapping`` (``map_study``, ``read_study_raw``), one module per domain (``dm``, ``ae``,
``ex``, ``ds``, ``ts``, ``supp``), ``dates``, ``epoch``, ``common``, ``forms`` (the fields each
raw form can map), ``rawtext`` (raw text to printable ASCII), ``config`` (the study config),
``studyspec`` (the study's SDTM spec), ``source`` (studies that arrive as SDTM), ``acrf`` (the
annotated CRF) and ``sdrg`` (the cSDRG).

May import: ``specs`` and ``fileformats`` (raw readers, XPT, PDF and text documents); never
``adam``, ``define``, ``report`` or ``trialpack`` (tests/test_layering.py).
"""
from sdtm.config import StudyConfig, load_study_config
from sdtm.dates import parse_raw_dates, study_day
from sdtm.mapping import StudySDTM, map_study, read_study_raw
from sdtm.source import read_study_sdtm

__all__ = ["StudyConfig", "StudySDTM", "load_study_config", "map_study", "parse_raw_dates", "read_study_raw",
           "read_study_sdtm", "study_day"]
