"""Pre-registration: the plan's hash is stable, and every kind of change after registration is caught and named."""

from __future__ import annotations

import json

import pytest

from measures.evaluation.preregistration import (
    build_plan,
    canonical_json,
    compare,
    describe,
    plan_markdown,
    plan_sha256,
)
from measures.indicators.catalogue import CATALOGUE_PATH
from toc.load import DATA_DIR

AKC = ("werkgever-preventief", "werkgever-vroegtijdig", "werknemer-preventief", "werknemer-vroegtijdig")
TOC_FILES = {f"toc/data/{t}.yaml": (DATA_DIR / f"{t}.yaml").read_bytes() for t in AKC}
CATALOGUE = CATALOGUE_PATH.read_bytes()
SETTINGS = {
    "primary_indicator": "ao_pct",
    "families": {"all": ["ao_pct", "absence_days", "regie_ervaren"]},
    "estimator": "twfe",
    "alpha": 0.05,
    "cutoffs": ["2026-12-31", "2026-06-30"],
    "registered_on": "2026-01-15",
    "git_commit": "0123abcd",
}


def plan(toc_files=None, catalogue=None, **changes) -> dict:
    return build_plan("akc-pilot", toc_files or TOC_FILES, catalogue or CATALOGUE, **(SETTINGS | changes))


def with_toc(toc_id: str, old: str, new: str) -> dict[str, bytes]:
    name = f"toc/data/{toc_id}.yaml"
    text = TOC_FILES[name].decode("utf-8")
    assert text.count(old) == 1, old
    return TOC_FILES | {name: text.replace(old, new).encode("utf-8")}


def test_the_plan_and_its_hash_are_stable():
    first, second = plan(), plan()
    assert canonical_json(first) == canonical_json(second) and plan_sha256(first) == plan_sha256(second)
    assert len(plan_sha256(first)) == 64
    assert set(first["tocs"]) == set(AKC) and first["cutoffs"] == ["2026-06-30", "2026-12-31"]
    assert first["catalogue"]["indicators"]["ao_pct"] and len(first["tocs"]["werkgever-vroegtijdig"]["nodes"]) > 30
    json.loads(canonical_json(first))  # plain JSON
    assert compare(first, second).as_dict() == {"plan_sha256": plan_sha256(first), "intact": True, "changes": []}
    assert plan_sha256(plan(registered_on="2026-02-01")) != plan_sha256(first)  # a re-registration is a new plan


def test_a_changed_catalogue_line_breaks_the_plan_and_is_named():
    """REQUIRED: one changed line of the indicator catalogue after registration."""
    text = CATALOGUE.decode("utf-8")
    old = "    label_nl: Arbeidsongeschiktheidspercentage (AO%)\n"
    assert text.count(old) == 1
    changed = text.replace(old, "    label_nl: Arbeidsongeschiktheid (AO%)\n").encode("utf-8")
    result = compare(plan(), plan(catalogue=changed))
    assert not result.intact
    assert result.changes == [{"kind": "indicator", "id": "ao_pct", "change": "changed"}]
    assert describe(result.changes[0], "en") == "indicator ao_pct changed"
    assert describe(result.changes[0], "nl") == "indicator ao_pct gewijzigd"


def test_a_comment_in_the_catalogue_is_a_change_of_the_file():
    changed = CATALOGUE + b"\n# a note added later\n"
    assert compare(plan(), plan(catalogue=changed)).changes == [
        {"kind": "catalogue", "id": "catalogue", "change": "changed"}
    ]


def test_indicators_added_and_removed_are_named():
    text = CATALOGUE.decode("utf-8")
    start = text.index("  - id: absence_days")
    end = text.index("  - id:", start + 5)
    removed = (text[:start] + text[end:]).encode("utf-8")
    assert compare(plan(), plan(catalogue=removed)).changes == [
        {"kind": "indicator", "id": "absence_days", "change": "removed"}
    ]
    assert compare(plan(catalogue=removed), plan()).changes == [
        {"kind": "indicator", "id": "absence_days", "change": "added"}
    ]


def test_a_moved_node_link_or_toc_is_named():
    node = with_toc("werkgever-vroegtijdig", "label_nl: Verzuim vermindert\n", "label_nl: Verzuim neemt sterk af\n")
    assert compare(plan(), plan(node)).changes == [
        {"kind": "node", "id": "werkgever-vroegtijdig/absence_reduced", "change": "changed"}
    ]
    link = with_toc(
        "werkgever-vroegtijdig",
        "  grade_reason: 'Stated in Bijlage 6 (item 9); Abma (a)",
        "  grade_reason: 'Stated in Bijlage 6, item 9; Abma (a)",
    )
    assert compare(plan(), plan(link)).changes == [
        {
            "kind": "link",
            "id": "werkgever-vroegtijdig/risk_files_discussed_earlier -> underlying_causes_known_earlier",
            "change": "changed",
        }
    ]
    header = with_toc("werknemer-preventief", "perspective: employee\n", "perspective: employee\n# reviewed\n")
    assert compare(plan(), plan(header)).changes == [{"kind": "toc", "id": "werknemer-preventief", "change": "changed"}]
    fewer = {k: v for k, v in TOC_FILES.items() if "preventief" not in k}
    assert [c["id"] for c in compare(plan(), plan(fewer)).changes] == ["werkgever-preventief", "werknemer-preventief"]


@pytest.mark.parametrize(
    "setting,value,line",
    [
        ("primary_indicator", "absence_days", "primary indicator changed: ao_pct → absence_days"),
        ("estimator", "imputation", "estimator changed: twfe → imputation"),
        ("alpha", 0.1, "alpha changed: 0.05 → 0.1"),
    ],
)
def test_the_primary_indicator_estimator_and_alpha_are_fixed(setting, value, line):
    result = compare(plan(), plan(**{setting: value}))
    assert not result.intact and len(result.changes) == 1
    assert result.changes[0] | {} == {
        "kind": setting,
        "id": setting,
        "change": "changed",
        "registered": SETTINGS[setting],
        "current": value,
    }
    assert describe(result.changes[0]) == line


def test_planned_cutoffs_are_fixed():
    assert compare(plan(), plan(cutoffs=["2026-06-30"])).changes == [
        {
            "kind": "cutoffs",
            "id": "cutoffs",
            "change": "changed",
            "registered": ["2026-06-30", "2026-12-31"],
            "current": ["2026-06-30"],
        }
    ]


def test_families_and_design_are_fixed():
    moved = compare(plan(), plan(families={"all": ["ao_pct", "absence_days"]}))
    assert [c["kind"] for c in moved.changes] == ["families"]
    designed = plan(design=("studies/akc-pilot.yaml", b"design: pilot-did\n"))
    redesigned = plan(design=("studies/akc-pilot.yaml", b"design: cohort-did\n"))
    assert compare(designed, redesigned).changes == [
        {"kind": "design", "id": "studies/akc-pilot.yaml", "change": "changed"}
    ]
    assert compare(designed, designed).intact


def test_an_unplanned_cutoff_is_a_change_and_a_planned_one_is_not():
    registered = plan()
    assert compare(registered, plan(), cutoff="2026-06-30").intact
    assert compare(registered, plan(), cutoff=None).intact  # the final analysis is always planned
    result = compare(registered, plan(), cutoff="2026-03-31")
    assert result.changes == [
        {"kind": "cutoff", "id": "2026-03-31", "change": "unplanned", "registered": ["2026-06-30", "2026-12-31"]}
    ]
    assert describe(result.changes[0]) == "cut-off 2026-03-31 not planned (planned: 2026-06-30, 2026-12-31)"


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_readable_plan(lang):
    text = plan_markdown(plan(), lang, history=[{"registered_on": "2025-12-01", "plan_sha256": "ab" * 32}])
    assert plan_sha256(plan()) in text and "`ao_pct`" in text and "`twfe`" in text
    assert all(entry in text for entry in TOC_FILES) and "2026-06-30, 2026-12-31" in text
    assert ("alpha 0,05" if lang == "nl" else "alpha 0.05") in text
    assert "ab" * 32 in text and ("Eerdere registraties" if lang == "nl" else "Earlier registrations") in text
