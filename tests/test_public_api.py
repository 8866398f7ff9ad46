"""The names DESIGN.md promises users (and the README's examples) exist and agree."""
from __future__ import annotations

import pandas as pd


def test_design_names_exist():
    import adam
    import define
    import report
    import sdtm
    import specs
    from trialpack.xpt import read_xpt, write_xpt

    for obj in (sdtm.map_study, adam.derive_adsl, report.eair, define.write_define, specs.load_spec, specs.check,
                read_xpt, write_xpt):
        assert callable(obj)


def test_derive_adsl_is_the_adsl_of_derive_adam(tmp_path):
    import adam
    import sdtm
    from tests.minimal_study import write_minimal_iss

    iss = adam.load_iss_config(write_minimal_iss(tmp_path))
    studies = [sdtm.map_study(c, sdtm.read_study_raw(c)).datasets for c in iss.studies]
    pooled = adam.pool_sdtm(studies)
    pd.testing.assert_frame_equal(adam.derive_adsl(pooled, iss), adam.derive_adam(pooled, iss).datasets["ADSL"])
