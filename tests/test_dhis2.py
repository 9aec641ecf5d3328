"""`pilot export dhis2`: the catalogue as a DHIS2 metadata import payload, checked against the documented shape.

The shape is written down as a JSON Schema (tests/schemas/dhis2-metadata.schema.json, from the DHIS2 developer
manual's metadata import and CSV tables); what a schema cannot say (references resolve, names unique per type,
indicator expressions name data elements of the payload) is checked here.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import jsonschema
import pytest

from measures.indicators.catalogue import indicators_by_id, load_catalogue
from measures.indicators.dhis2 import dhis2_metadata, uid

PILOT = Path(sys.executable).with_name("pilot")
SCHEMA = json.loads((Path(__file__).parent / "schemas" / "dhis2-metadata.schema.json").read_text(encoding="utf-8"))
#: Which collection a reference property points into.
REFERENCES = {
    "categoryOptions": "categoryOptions",
    "categories": "categories",
    "categoryCombo": "categoryCombos",
    "indicatorType": "indicatorTypes",
}


@pytest.fixture(scope="module")
def payload(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("dhis2") / "metadata.json"
    proc = subprocess.run([str(PILOT), "export", "dhis2", "--out", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(out.read_text(encoding="utf-8"))


def test_the_payload_matches_the_documented_shape(payload):
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.validate(payload, SCHEMA, cls=jsonschema.Draft202012Validator)
    assert set(payload) == {
        "categoryOptions",
        "categories",
        "categoryCombos",
        "dataElements",
        "indicatorTypes",
        "indicators",
    }


@pytest.mark.parametrize(
    "broken",
    [
        lambda p: p["dataElements"][0].update(valueType="DECIMAL"),
        lambda p: p["dataElements"][0].update(shortName="x" * 51),
        lambda p: p["indicators"][0].pop("indicatorType"),
        lambda p: p["categoryCombos"][0].update(categories=[{"id": "1abc"}]),
        lambda p: p["dataElements"][0].update(valuetype="NUMBER"),
    ],
)
def test_the_schema_refuses_what_dhis2_would(payload, broken):
    copy = json.loads(json.dumps(payload))
    broken(copy)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(copy, SCHEMA, cls=jsonschema.Draft202012Validator)


def test_references_resolve_and_names_are_unique_per_type(payload):
    ids = {kind: {o["id"] for o in objects} for kind, objects in payload.items()}
    every = [o["id"] for objects in payload.values() for o in objects]
    assert len(every) == len(set(every))
    for kind, objects in payload.items():
        for field in ("code", "name", "shortName"):
            assert not [v for v, n in Counter(o[field] for o in objects).items() if n > 1], (kind, field)
        for obj in objects:
            for prop, target in REFERENCES.items():
                refs = obj.get(prop)
                for ref in refs if isinstance(refs, list) else [refs] if refs else []:
                    assert ref["id"] in ids[target], (kind, obj["code"], prop)
    elements = ids["dataElements"]
    for indicator in payload["indicators"]:
        for side in ("numerator", "denominator"):
            named = re.findall(r"#\{([A-Za-z0-9]{11})\}", indicator[side])
            assert named and set(named) <= elements, (indicator["code"], side)


def test_every_catalogue_indicator_with_its_scale_aggregation_and_disaggregation(payload):
    catalogue = indicators_by_id()
    elements = {e["code"]: e for e in payload["dataElements"]}
    assert len(payload["indicators"]) == len(catalogue) and len(elements) == 2 * len(catalogue)
    combos = {c["id"]: c["code"] for c in payload["categoryCombos"]}
    types = {t["id"]: t for t in payload["indicatorTypes"]}
    for ind in load_catalogue():
        total, count = elements[f"AD_{ind.id}_SUM".upper()], elements[f"AD_{ind.id}_COUNT".upper()]
        assert total["aggregationType"] == count["aggregationType"] == "SUM"
        assert count["valueType"] == "INTEGER_ZERO_OR_POSITIVE"
        fractional = ("percent", "days", "weeks", "proportion", "score10")  # the last three: the study designs'
        assert total["valueType"] == ("NUMBER" if ind.scale in fractional else "INTEGER_ZERO_OR_POSITIVE")
        expected = "AD_COMBO_GROUP_WAVE" if ind.respondent else "AD_COMBO_GROUP"
        assert combos[total["categoryCombo"]["id"]] == expected
        assert total["description"] == ind.text_nl
    indicators = {i["code"]: i for i in payload["indicators"]}
    rtw = indicators["AD_RTW_12M"]
    assert types[rtw["indicatorType"]["id"]]["factor"] == 100
    assert rtw["numerator"] == f"#{{{uid('AD_RTW_12M_SUM')}}}"
    assert types[indicators["AD_AO_PCT"]["indicatorType"]["id"]]["factor"] == 1
    group_wave = next(c for c in payload["categoryCombos"] if c["code"] == "AD_COMBO_GROUP_WAVE")
    assert len(group_wave["categories"]) == 2
    english = [t for t in indicators["AD_AO_PCT"]["translations"] if t["locale"] == "en"]
    assert english and english[0]["value"].startswith("Work-disability percentage")


def test_uids_are_stable_and_well_formed():
    assert dhis2_metadata() == dhis2_metadata()
    assert uid("AD_AO_PCT_SUM") == uid("AD_AO_PCT_SUM") != uid("AD_AO_PCT_COUNT")
    assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9]{10}", uid(f"code{i}")) for i in range(500))
