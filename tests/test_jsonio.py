"""The shipped JSON Schemas: valid against their metaschema (the build trusts them without
checking on every start), and their validators refuse what the schemas refuse."""
from __future__ import annotations

import json

import jsonschema
import pytest

from specs.jsonio import SCHEMA_DIR, schema_validator, validator

SHIPPED = sorted(p.name.removesuffix(".schema.json") for p in SCHEMA_DIR.glob("*.schema.json"))


def test_the_three_schemas_are_shipped():
    assert SHIPPED == ["iss-config", "spec", "study-config"]


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_schema_is_valid_against_its_metaschema(name):
    schema = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)                     # raises SchemaError on an invalid schema
    assert validator(name).schema == schema


def test_a_schema_from_elsewhere_is_still_checked_against_its_metaschema():
    with pytest.raises(jsonschema.exceptions.SchemaError):
        schema_validator({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "no-such-type"})


def test_a_trusted_validator_still_refuses_what_its_schema_refuses():
    spec = validator("spec")
    assert not spec.is_valid({"study": 1})
    assert not validator("iss-config").is_valid([])
