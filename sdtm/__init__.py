"""sdtm: raw EDC data to SDTM (DM, AE, EX, DS, TS, SUPPDM, SUPPAE), one module per domain.

>>> import sdtm
>>> config = sdtm.load_study_config("studies/tpz-ad-301.json")
>>> study = sdtm.map_study(config, sdtm.read_study_raw(config))
>>> study.datasets["DM"], study.rejections, study.reconciliation
"""
from sdtm.config import StudyConfig, load_study_config
from sdtm.dates import parse_raw_dates, study_day
from sdtm.mapping import StudySDTM, map_study, read_study_raw
from sdtm.source import read_study_sdtm

__all__ = ["StudyConfig", "StudySDTM", "load_study_config", "map_study", "parse_raw_dates", "read_study_raw",
           "read_study_sdtm", "study_day"]
