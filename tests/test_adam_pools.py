"""Analysis pools (ISS config ``analysis_pools``, adam.pools): the checks that refuse a pool or a
comparison the data cannot support, the ADSL and ADAE flags, their define metadata, and the demo's
vehicle-controlled pool against the figures a reviewer worked out (issue 17: 24.9% / 20.5% / 21.4%
of participants with a TEAE on cream 0.75%, cream 1.5% and vehicle in period 1 of the controlled
studies)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from adam.config import load_iss_config
from adam.pools import randomised_together
from specs.errors import InputError
from tests.test_integrations import CORPUS

ROLLOVER = CORPUS / "oral-rollover"
ADAM = Path("m5/datasets/iss/analysis/adam/datasets")


def rollover_config(tmp_path: Path, change=None) -> Path:
    case = tmp_path / "oral-rollover"
    shutil.copytree(ROLLOVER, case)
    data = json.loads((case / "iss.json").read_text())
    if change:
        change(data)
    (case / "iss.json").write_text(json.dumps(data, indent=1))
    return case / "iss.json"


def refusal(tmp_path: Path, change) -> InputError:
    with pytest.raises(InputError) as caught:
        load_iss_config(rollover_config(tmp_path, change))
    return caught.value


def pools(data: dict) -> list[dict]:
    return data["analysis_pools"]


@pytest.mark.parametrize("change, path, words", [
    (lambda d: pools(d)[0]["studies"].append("KLT-999"), "$.analysis_pools[0].studies[2]",
     "names study 'KLT-999', which the ISS config does not pool"),
    (lambda d: pools(d)[0].update(periods=[2]), "$.analysis_pools[0].periods[0]",
     "names period 2, but study KLT-301 has 1 period"),
    (lambda d: pools(d)[1].update(id="PC"), "$.analysis_pools[1].id", "analysis pool id 'PC' is used twice"),
    (lambda d: pools(d)[1].update(flag="PCPOOLFL"), "$.analysis_pools[1].flag", "is already the flag of analysis pool"),
    (lambda d: pools(d)[1].update(record_flag="ANL01FL"), "$.analysis_pools[1].record_flag",
     "is already the flag of analysis pool 'PC'"),
    (lambda d: pools(d)[0]["studies"].append("KLT-301"), "$.analysis_pools[0].studies[2]", "lists study 'KLT-301' twice"),
    (lambda d: pools(d)[0].update(label="Placebo-controlled pool of the parent studies"), "$.analysis_pools[0].label",
     "too long for the flags' labels"),
    (lambda d: d["comparisons"][0].update(pool="XX"), "$.comparisons[0].pool", "unknown analysis pool 'XX'"),
    (lambda d: d["comparisons"][1].update(pool="ALL"), "$.comparisons[1].pool",
     "no arm plans 'Placebo' in KLT-303 period 1"),
    (lambda d: d.update(analysis_pools=pools(d)[1:]), "$.comparisons[1]",
     "'Keltrapine 25 mg' and 'Placebo' are randomised together in no analysis pool (pools: ALL)"),
])
def test_a_pool_or_comparison_the_data_cannot_support_is_refused_with_its_json_path(tmp_path, change, path, words):
    error = refusal(tmp_path, change)
    assert error.path == path and words in error.message, (error.path, error.message)
    assert Path(error.file).name == "iss.json"


def test_the_schema_refuses_a_flag_that_is_not_an_adam_flag_name(tmp_path):
    error = refusal(tmp_path, lambda d: pools(d)[0].update(flag="PC_POOL_FLAG"))
    assert "analysis_pools" in error.path and "flag" in error.path, (error.path, error.message)


def test_comparisons_are_made_where_both_groups_were_randomised(tmp_path):
    """oral-rollover: 25 mg is given without placebo in the extension (KLT-303), so it is compared
    with placebo in the placebo-controlled pool only; 10 mg, given only beside placebo, is
    randomised against it in both pools."""
    iss = load_iss_config(rollover_config(tmp_path))
    pc, every = iss.analysis_pools
    assert randomised_together(iss, pc, "Keltrapine 25 mg", "Placebo") is None
    assert randomised_together(iss, pc, "All doses", "Placebo") is None
    assert "KLT-303 period 1" in randomised_together(iss, every, "Keltrapine 25 mg", "Placebo")
    assert "KLT-303 period 1" in randomised_together(iss, every, "All doses", "Placebo")
    assert randomised_together(iss, every, "Keltrapine 10 mg", "Placebo") is None
    assert "no arm of its studies plans 'Keltrapine 10 mg'" in randomised_together(
        iss, type(pc)("X", "X", "XFL", "ANL09FL", ("KLT-303",)), "Keltrapine 10 mg", "Placebo")


def test_a_config_without_pools_has_no_pool_flags(tmp_path):
    iss = load_iss_config(rollover_config(tmp_path, lambda d: d.pop("analysis_pools")))
    assert iss.analysis_pools == []


# ----------------------------------------------------------------------------- the demo's pools

@pytest.fixture(scope="module")
def demo_adam(demo_package):
    from fileformats.xpt import read_xpt

    return {name: read_xpt(demo_package / ADAM / f"{name}.xpt")[0] for name in ("adsl", "adae")}


def test_demo_vehicle_controlled_pool_teae_percentages(demo_adam):
    """Period 1 of studies 201 and 301-304 (VCPOOLFL, ANL01FL), by the period-1 treatment
    (TRT01A): 67/269 = 24.9%, 55/268 = 20.5%, 31/145 = 21.4% (issue 17's reviewer)."""
    adsl, adae = demo_adam["adsl"], demo_adam["adae"]
    pool = adsl[adsl["VCPOOLFL"] == "Y"]
    n = pool.groupby("TRT01A").size().to_dict()
    assert n == {"Cream 0.75%": 269, "Cream 1.5%": 268, "Vehicle": 145}
    teae = adae[(adae["ANL01FL"] == "Y") & (adae["TRTEMFL"] == "Y")].groupby("TRTA")["USUBJID"].nunique().to_dict()
    assert teae == {"Cream 0.75%": 67, "Cream 1.5%": 55, "Vehicle": 31}
    assert [round(100 * teae[g] / n[g], 1) for g in ("Cream 0.75%", "Cream 1.5%", "Vehicle")] == [24.9, 20.5, 21.4]


def test_demo_all_exposure_pool_is_every_treated_participant(demo_adam):
    adsl, adae = demo_adam["adsl"], demo_adam["adae"]
    assert int((adsl["ALLEXPFL"] == "Y").sum()) == 767 == int((adsl["SAFFL"] == "Y").sum())
    assert (adsl["ALLEXPFL"] == adsl["SAFFL"]).all()
    placed = adae["APERIOD"].notna()
    assert ((adae["ANL02FL"] == "Y") == placed).all()   # every AE with an analysis period
    # the controlled pool's records are those of period 1 in the phase 2 and 3 studies
    controlled = placed & (adae["APERIOD"] == 1) & ~adae["STUDYID"].str.startswith("TPZ-AD-1")
    assert ((adae["ANL01FL"] == "Y") == controlled).all()


def test_demo_define_describes_the_pool_flags(demo_package):
    from lxml import etree

    define = etree.parse(str(demo_package / "m5/datasets/iss/analysis/adam/datasets/define.xml"),
                         etree.XMLParser(resolve_entities=False, no_network=True))
    text = etree.tostring(define, encoding="unicode")
    for name, label in (("VCPOOLFL", "Vehicle-controlled pool Flag"), ("ALLEXPFL", "All-exposure pool Flag"),
                        ("ANL01FL", "Record in Vehicle-controlled pool"), ("ANL02FL", "Record in All-exposure pool")):
        assert f'Name="{name}"' in text and label in text, name
    assert "in period 1 of studies TPZ-AD-201, TPZ-AD-301" in text
