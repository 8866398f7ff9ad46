"""The config reference: every key of the study and ISS config schemas described, the generated
docs/config-reference.md what tools/config_reference.py makes of the schemas now (so it cannot
drift), and the defaults the schemas document those the code applies (so it cannot lie)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import jsonschema
import pandas as pd
import pytest

from adam.adae import derive_arel
from adam.adsl import derive_age_groups
from adam.config import DEFAULT_DOSES_PER_DAY, DEFAULT_IMPUTATION, DEFAULT_RATES, DEFAULT_TEAE, ISSConfig
from sdtm.config import DEFAULT_USUBJID, StudyConfig
from sdtm.dates import DEFAULT_UNKNOWN_TOKENS
from specs.jsonio import SCHEMA_DIR

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "tools" / "config_reference.py"
REFERENCE = ROOT / "docs" / "config-reference.md"
CONFIGS = ("study-config", "iss-config")


def schema(name: str) -> dict:
    return json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))


def walk(node: dict, path: str = "$"):
    """(JSON path, schema) of every key, list item and map entry a config holds, at every level.
    The ``allOf`` if/then/else conditions are rules about keys, not keys: not walked."""
    for key, sub in node.get("properties", {}).items():
        yield f"{path}.{key}", sub
        yield from walk(sub, f"{path}.{key}")
    for pattern, sub in node.get("patternProperties", {}).items():
        yield f"{path}.<{pattern}>", sub
        yield from walk(sub, f"{path}.<{pattern}>")
    if isinstance(node.get("additionalProperties"), dict):
        yield f"{path}.*", node["additionalProperties"]
        yield from walk(node["additionalProperties"], f"{path}.*")
    if isinstance(node.get("items"), dict):
        yield f"{path}[]", node["items"]
        yield from walk(node["items"], f"{path}[]")
    for i, sub in enumerate(node.get("prefixItems", [])):
        yield f"{path}[{i}]", sub
        yield from walk(sub, f"{path}[{i}]")


def at(name: str, *keys: str) -> dict:
    """The schema of a key path, e.g. ``at("iss-config", "teae", "window_days")``."""
    node = schema(name)
    for key in keys:
        node = node["properties"][key]
    return node


def defaults(node: dict) -> dict:
    """The documented defaults of an object's keys (those that have one)."""
    return {k: v["default"] for k, v in node["properties"].items() if "default" in v}


def generator():
    spec = importlib.util.spec_from_file_location("config_reference", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- (a) every key described ------------------------------------------------------------------------

@pytest.mark.parametrize("name", CONFIGS)
def test_every_key_has_a_description(name):
    nodes = list(walk(schema(name)))
    assert len(nodes) > 50   # the walk reaches the nested levels (a broken walk would pass vacuously)
    missing = [path for path, node in nodes
               if not isinstance(node.get("description"), str) or not node["description"].strip()]
    assert not missing, f"{name}: no description for {', '.join(missing)}"


@pytest.mark.parametrize("name", CONFIGS)
def test_every_documented_default_is_a_valid_value(name):
    """A default is a value the key could be given: the schema accepts it."""
    invalid = [path for path, node in walk(schema(name))
               if "default" in node and not jsonschema.Draft202012Validator(node).is_valid(node["default"])]
    assert not invalid, f"{name}: a default the schema refuses at {', '.join(invalid)}"


# -- (b) the reference is what the schemas give now -------------------------------------------------

def test_reference_is_generated_from_the_schemas_as_they_are():
    expected = generator().render()
    assert REFERENCE.read_text(encoding="utf-8") == expected, \
        "docs/config-reference.md is out of date: run python tools/config_reference.py"


def test_generator_check_mode_agrees():
    assert generator().main(["--check"]) == 0


def test_reference_lists_every_key_with_its_default():
    """Each key's row is there, with the schema's default in the Default column."""
    text = REFERENCE.read_text(encoding="utf-8")
    rows = {line.split(" | ")[0].strip("| `"): line for line in text.splitlines() if line.startswith("| `")}
    assert rows["raw.date_formats"].split(" | ")[3] == '`["YYYY-MM-DD"]`'
    assert rows["raw"].split(" | ")[1] == "yes for raw-data studies"
    assert rows["raw.files.<DOMAIN>.columns"].split(" | ")[1] == "yes"
    assert rows["teae.window_days"].split(" | ")[3] == "`30`"
    for key in ("studyid", "supplemental.<DOMAIN>[].qorig", "sites.<SITEID>.country", "doses_per_day.<EXDOSFRQ>",
                "imputation.ae_end.max[]", "events[].teae_only", "value_maps.<VARIABLE>.<RAW VALUE>"):
        assert key in rows, key


def test_a_key_without_description_stops_the_generator(monkeypatch):
    module = generator()
    broken = schema("iss-config")
    del broken["properties"]["rates"]["properties"]["per"]["description"]
    monkeypatch.setattr(module, "load_schema", lambda name: broken if name == "iss-config" else schema(name))
    with pytest.raises(ValueError, match="rates.per has no description"):
        module.render()


# -- (c) the documented defaults are the code's -----------------------------------------------------

ISS = ISSConfig({"id": "X", "title": "x", "studies": ["s.json"], "groups": []}, Path("iss.json"), [])
STUDY = StudyConfig({"studyid": "X", "title": "x", "raw": {"files": {}}}, Path("study.json"))


def test_teae_defaults():
    assert defaults(at("iss-config", "teae")) == DEFAULT_TEAE == ISS.teae


def test_rates_defaults():
    assert defaults(at("iss-config", "rates")) == DEFAULT_RATES == ISS.rates


def test_imputation_defaults():
    node = at("iss-config", "imputation")
    documented = {key: defaults(sub) for key, sub in node["properties"].items()}
    assert documented == DEFAULT_IMPUTATION
    assert {key: ISS.imputation(key) for key in DEFAULT_IMPUTATION} == DEFAULT_IMPUTATION


def test_doses_per_day_defaults():
    documented = at("iss-config", "doses_per_day")["default"]
    assert list(documented) == list(DEFAULT_DOSES_PER_DAY)
    assert documented == DEFAULT_DOSES_PER_DAY == ISS.doses_per_day


def test_unknown_date_tokens_default():
    assert at("study-config", "raw", "unknown_date_tokens")["default"] == list(DEFAULT_UNKNOWN_TOKENS)
    assert STUDY.unknown_date_tokens is None   # None: the parser takes DEFAULT_UNKNOWN_TOKENS


def test_study_config_defaults():
    assert at("study-config", "raw", "date_formats")["default"] == STUDY.date_formats == ["YYYY-MM-DD"]
    assert at("study-config", "usubjid")["default"] == DEFAULT_USUBJID == STUDY.usubjid_template
    assert at("study-config", "source")["default"] == STUDY.source
    assert defaults(at("study-config", "epochs")) == STUDY.epochs
    assert STUDY.raw_dir() == Path(".") / at("study-config", "raw", "dir")["default"]
    assert STUDY.sdtm_dir() == Path(".") / at("study-config", "sdtm_dir")["default"]


def test_group_assignment_defaults():
    assert at("iss-config", "assign_by")["default"] == ISS.assign_by
    assert at("iss-config", "actual_treatment")["default"] == ISS.actual_treatment


def test_related_terms_default():
    terms = at("iss-config", "related_terms")["default"]
    arel = derive_arel(pd.DataFrame({"AEREL": [*terms, "NOT RELATED", "UNLIKELY RELATED"]}), None)
    assert list(arel) == ["RELATED"] * len(terms) + ["NOT RELATED"] * 2


def test_age_group_bound_defaults():
    node = at("iss-config", "age_groups")["items"]
    assert defaults(node) == {"lower_inclusive": True, "upper_inclusive": False}
    adsl = derive_age_groups(pd.DataFrame({"AGE": [64.0, 65.0, 79.0, 80.0]}),
                             [{"label": "65-<80", "number": 1, "lower": 65, "upper": 80}])
    assert list(adsl["AGEGR1N"].fillna(0)) == [0, 1, 1, 0]
