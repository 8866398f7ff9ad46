"""Loading specs from JSON: schema and semantic errors name the file and the JSON path."""
from __future__ import annotations

import json

import pytest

from specs import SpecError, load_spec, save_spec
from specs.model import (
    Codelist, CodelistItem, DatasetSpec, Method, RangeCheck, Spec, Study, ValueLevel,
    VariableSpec, WhereClause,
)


def small_spec() -> Spec:
    return Spec(
        study=Study("STDY.T1", "T1", "A test study", "T1-PROT"),
        datasets=[DatasetSpec(
            "DM", "Demographics", class_="SPECIAL PURPOSE", keys=["STUDYID", "USUBJID"], repeating=False,
            variables=[
                VariableSpec("STUDYID", "Study Identifier", core="Req", order=1),
                VariableSpec("USUBJID", "Unique Subject Identifier", core="Req", order=2),
                VariableSpec("AGE", "Age", data_type="integer", core="Exp", order=3,
                             origin_type="Derived", method="MT.AGE"),
                VariableSpec("SEX", "Sex", core="Req", codelist="CL.SEX", order=4),
            ])],
        codelists=[Codelist("CL.SEX", "Sex", code="C66731",
                            items=[CodelistItem("F", code="C16576"), CodelistItem("M", code="C20197")])],
        methods=[Method("MT.AGE", "Age", "floor of years from BRTHDTC to RFICDTC")],
        where_clauses=[WhereClause("WC.DM.SEX.F", [RangeCheck("DM", "SEX", "EQ", ["F"])])],
        value_level=[ValueLevel("DM", "AGE", "WC.DM.SEX.F", data_type="integer", order=1)],
    )


def write(tmp_path, name, body):
    path = tmp_path / name
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def test_json_round_trip_is_lossless(tmp_path):
    spec = small_spec()
    files = save_spec(spec, tmp_path)
    assert sorted(f.name for f in files) == ["codelists.json", "dm.json", "methods.json", "study.json",
                                             "valuelevel.json"]
    assert load_spec(tmp_path) == spec


def test_files_of_a_directory_merge(tmp_path):
    body = small_spec().to_dict()
    write(tmp_path, "a.json", {"datasets": body["datasets"], "study": body["study"]})
    write(tmp_path, "b.json", {k: body[k] for k in ("codelists", "methods", "where_clauses", "value_level")})
    assert load_spec(tmp_path) == small_spec()


def test_malformed_json_names_file_and_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"datasets": [\n  {"name": "DM",,}\n]}', encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_spec(path)
    assert "bad.json" in str(err.value) and "row 2" in str(err.value)


@pytest.mark.parametrize("mutate, path, words", [
    (lambda d: d["datasets"][0]["variables"][1].update(name="USUBJIDXX"), "$.datasets[0].variables[1].name",
     "not a valid SAS name"),
    (lambda d: d["datasets"][0]["variables"][1].update(name="1ABC"), "$.datasets[0].variables[1].name",
     "not a valid SAS name"),
    (lambda d: d["datasets"][0]["variables"][0].update(label="L" * 41), "$.datasets[0].variables[0].label",
     "longer than 40"),
    (lambda d: d["datasets"][0]["variables"][2].update(length=201), "$.datasets[0].variables[2].length",
     "200"),
    (lambda d: d["datasets"][0]["variables"][2].update(data_type="number"), "$.datasets[0].variables[2].data_type",
     "number"),
    (lambda d: d["datasets"][0].update(colour="red"), "$.datasets[0].colour", "unknown key 'colour'"),   # the path names the key itself
    # JSON Schema patterns are ECMA-262: "$" ends the string (Python's also matches before "\n")
    (lambda d: d["datasets"][0].update(name="DM\n"), "$.datasets[0].name", "not a valid SAS name"),
    (lambda d: d["datasets"][0]["variables"][3].update(name="SEX\n"), "$.datasets[0].variables[3].name",
     "not a valid SAS name"),
    (lambda d: d["codelists"][0].update(oid="CL.SEX\n"), "$.codelists[0].oid", "does not match"),
])
def test_schema_errors_name_the_json_path(tmp_path, mutate, path, words):
    body = small_spec().to_dict()
    mutate(body)
    file = write(tmp_path, "spec.json", body)
    with pytest.raises(SpecError) as err:
        load_spec(file)
    assert err.value.path == path
    assert err.value.file.endswith("spec.json")
    assert words in str(err.value)


@pytest.mark.parametrize("mutate, path, words", [
    (lambda d: d["datasets"][0]["variables"][3].update(codelist="CL.GENDER"),
     "$.datasets[0].variables[3].codelist", "unknown codelist 'CL.GENDER'"),
    (lambda d: d["datasets"][0]["variables"][3].update(name="AGE"), "$.datasets[0].variables[3].name",
     "duplicate variable of DM 'AGE'"),
    (lambda d: d["datasets"][0]["variables"][0].update(label="Étude"), "$.datasets[0].variables[0].label",
     "non-ASCII"),
    (lambda d: d["datasets"][0]["variables"][0].update(label="Identifiant d'étude très long " + "x" * 9),
     "$.datasets[0].variables[0].label", "non-ASCII"),
    (lambda d: d["datasets"][0]["keys"].append("SUBJID"), "$.datasets[0].keys", "SUBJID"),
    (lambda d: d["datasets"][0]["variables"][2].update(method="MT.NOPE"), "$.datasets[0].variables[2].method",
     "unknown method"),
    (lambda d: d["value_level"][0].update(where_clause="WC.NOPE"), "$.value_level[0].where_clause",
     "unknown where clause"),
    (lambda d: d["codelists"].append(dict(d["codelists"][0])), "$.codelists[1].oid", "duplicate codelist"),
])
def test_semantic_errors_name_the_json_path(tmp_path, mutate, path, words):
    body = small_spec().to_dict()
    mutate(body)
    file = write(tmp_path, "spec.json", body)
    with pytest.raises(SpecError) as err:
        load_spec(file)
    assert err.value.path == path, str(err.value)
    assert words in str(err.value)


def test_a_key_given_twice_is_refused_with_its_path(tmp_path):
    file = write(tmp_path, "spec.json", small_spec().to_dict())
    file.write_text(file.read_text().replace('"label": "Sex"', '"label": "Sex", "label": "Gender"', 1))
    with pytest.raises(SpecError, match=r"spec\.json, at \$\.datasets\[0\]\.variables\[3\]\.label: "
                                        r"the key 'label' appears twice"):
        load_spec(file)


@pytest.mark.parametrize("mutate, path, words", [
    (lambda d: d["datasets"][0]["variables"][0].update(label="Study Identifier  "),
     "$.datasets[0].variables[0].label", "leading or trailing whitespace"),
    (lambda d: d["datasets"][0].update(label=" Demographics"), "$.datasets[0].label", "leading or trailing"),
    (lambda d: d["datasets"][0].update(**{"class": ""}), "$.datasets[0].class", "is empty"),
    (lambda d: d["codelists"][0]["items"][1].update(value="M "), "$.codelists[0].items[1].value", "trailing"),
    (lambda d: d["methods"][0].update(description="floor\x01"), "$.methods[0].description", r"U\+0001"),
    (lambda d: d["where_clauses"][0]["checks"][0].update(values=["F "]),
     "$.where_clauses[0].checks[0].values[0]", "trailing"),
])
def test_text_a_workbook_cannot_carry_is_refused(tmp_path, mutate, path, words):
    """A workbook import trims cells and reads an empty cell as absent: JSON text that would
    not survive JSON -> xlsx -> JSON is refused where it is written."""
    body = small_spec().to_dict()
    mutate(body)
    with pytest.raises(SpecError, match=words) as err:
        load_spec(write(tmp_path, "spec.json", body))
    assert err.value.path == path


def test_an_empty_where_clause_value_is_a_value(tmp_path):
    body = small_spec().to_dict()
    body["where_clauses"][0]["checks"][0]["values"] = [""]
    assert load_spec(write(tmp_path, "spec.json", body)).where_clauses[0].checks[0].values == [""]


def test_label_limit_counts_bytes_not_characters(tmp_path):
    body = small_spec().to_dict()
    body["datasets"][0]["label"] = "x" * 40
    load_spec(write(tmp_path, "ok.json", body))  # exactly 40 bytes is fine


def test_duplicate_dataset_across_files_names_second_file(tmp_path):
    body = small_spec().to_dict()
    write(tmp_path, "a.json", body)
    write(tmp_path, "b.json", {"datasets": body["datasets"]})
    with pytest.raises(SpecError) as err:
        load_spec(tmp_path)
    assert err.value.file.endswith("b.json") and "duplicate dataset 'DM'" in str(err.value)


def test_missing_spec_and_empty_folder(tmp_path):
    with pytest.raises(SpecError, match="spec not found"):
        load_spec(tmp_path / "nope")
    with pytest.raises(SpecError, match="no \\*.json"):
        load_spec(tmp_path)


def test_overlay_may_use_the_base_definitions(tmp_path):
    """A study spec overlay replaces DM and refers to a codelist only the base defines."""
    base = small_spec()
    body = {"datasets": [small_spec().to_dict()["datasets"][0]]}
    body["datasets"][0]["label"] = "Demographics (sponsor)"
    write(tmp_path, "dm.json", body)
    merged = load_spec(tmp_path, base=base)
    assert merged.dataset("DM").label == "Demographics (sponsor)"
    assert merged.codelist("CL.SEX").code == "C66731"
    with pytest.raises(SpecError, match="unknown (method|codelist)"):
        load_spec(tmp_path)   # alone, MT.AGE and CL.SEX are unknown


def test_schema_patterns_end_at_the_end_of_the_string():
    from specs.jsonio import ecma_regex

    pattern = ecma_regex(r"^[A-Z$]\$?$")  # "$" in a class and escaped stays a dollar sign
    assert [bool(pattern.search(t)) for t in ("A", "$", "A$", "A\n", "$\n", "A$\n")] == \
        [True, True, True, False, False, False]


@pytest.mark.parametrize(("dataset", "variable", "path"), [
    ("DM\n", "SEX", "$.datasets[0].name"), ("DM", "SEX\n", "$.datasets[0].variables[3].name"),
    ("dm", "SEX", "$.datasets[0].name"), ("DM", "SEX_TOO_LONG", "$.datasets[0].variables[3].name"),
])
def test_names_are_checked_without_the_schema(tmp_path, dataset, variable, path):
    """Specs built in code, from a workbook or from the shipped files skip the JSON Schema:
    validate_spec checks the names itself, as a whole (no newline after the name)."""
    from specs.load import load_spec_files

    body = small_spec().to_dict()
    body["datasets"][0]["name"] = dataset
    body["datasets"][0]["variables"][3]["name"] = variable
    body["value_level"] = body["where_clauses"] = []
    with pytest.raises(SpecError, match="not a valid SAS name") as err:
        load_spec_files([write(tmp_path, "spec.json", body)], schema=False)
    assert err.value.path == path


@pytest.mark.parametrize("name", ["sdtmig-3.4", "adamig-1.3"])
def test_shipped_specs_pass_the_schema(name):
    """standard_spec() skips the JSON Schema for speed; this is where the shipped files meet it."""
    from specs.load import STANDARD_DIR, standard_spec

    assert load_spec(STANDARD_DIR / name) == standard_spec(name)


def test_editing_a_standard_spec_copy_reaches_no_other_copy():
    from specs.load import standard_spec

    first = standard_spec("sdtmig-3.4")
    first.codelist("CL.SEX").items.clear()
    first.codelist("CL.AESEV").extensible = True
    first.methods[0].description = "edited"
    first.where_clauses[0].checks[0].values.append("EDITED")
    first.value_level[0].label = "edited"
    first.standards[0].version = "9.9"
    second = standard_spec("sdtmig-3.4")
    assert [i.value for i in second.codelist("CL.SEX").items] == ["F", "INTERSEX", "M", "U"]
    assert second.codelist("CL.AESEV").extensible is False
    assert second.methods[0].description != "edited" and second.value_level[0].label != "edited"
    assert "EDITED" not in second.where_clauses[0].checks[0].values
    assert second.standards[0].version == "3.4"
