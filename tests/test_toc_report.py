"""The four AKC ToCs against the report text itself (seed 003): Bijlage 6, §3.5, §4.1.2, §4.1.3, literature a-k.

Everything expected here is parsed from the seed at test time; nothing is copied from our YAML.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from toc.load import load_shipped, shipped_paths

SEEDS = Path("/work/shared/seeds")
REPORT = (SEEDS / "003_cc419794b89a8451.txt").read_text(encoding="utf-8")
AKC = ("werkgever-preventief", "werkgever-vroegtijdig", "werknemer-preventief", "werknemer-vroegtijdig")
SECTION_TO_TOC = {
    "werkgeversperspectief op preventief vlak": "werkgever-preventief",
    "werkgeversperspectief vroegtijdig": "werkgever-vroegtijdig",
    "werknemersperspectief op preventief vlak": "werknemer-preventief",
    "werknemersperspectief vroegtijdig": "werknemer-vroegtijdig",
}
SUBHEADING = re.compile(r"^(?:#+\s*|<b>|\*\*)?(Output|Korte termijn|Lange termijn)\b")
LAYER_OF = {"Output": "output", "Korte termijn": "short_term", "Lange termijn": "long_term"}
ITEM = re.compile(r"^(\d+)\. ([^\t]+)\t(.*)$")
COUNTS = {
    "werkgever-preventief": (2, 6, 5),
    "werkgever-vroegtijdig": (4, 5, 7),
    "werknemer-preventief": (3, 5, 4),
    "werknemer-vroegtijdig": (3, 9, 5),
}


def between(text: str, start: str, end: str) -> str:
    i = text.index(start)
    return text[i : text.index(end, i + len(start))]


def parse_bijlage6() -> dict[str, list[dict]]:
    """ToC id -> items {number, layer, label, description, split} in report order."""
    parsed: dict[str, list[dict]] = {}
    toc = layer = item = None
    for line in between(REPORT, "## Bijlage 6", "# Impact Centre Erasmus").splitlines():
        if m := re.match(r"^#+ Theory of Change vanuit (.*)$", line):
            toc = next(v for k, v in SECTION_TO_TOC.items() if m.group(1).startswith(k))
            parsed[toc], layer, item = [], None, None
        elif toc is None or not line.strip():
            continue
        elif m := SUBHEADING.match(line):
            layer, item = LAYER_OF[m.group(1)], None
        elif m := ITEM.match(line):
            item = {
                "number": int(m.group(1)),
                "layer": layer,
                "label": m.group(2),
                "description": m.group(3),
                "split": False,
            }
            parsed[toc].append(item)
        else:  # the rest of a description that a page break cut off
            assert item is not None, f"unparsed line in Bijlage 6: {line!r}"
            item["description"] += " " + line.strip()
            item["split"] = True
    return parsed


BIJLAGE6 = parse_bijlage6()
TOCS = load_shipped()


def bold_titles(section: str) -> list[str]:
    return re.findall(r"^\*\*(.+?)\*\*", section, flags=re.M)


def test_the_parser_finds_the_four_tocs_and_the_page_break():
    assert list(BIJLAGE6) == list(AKC)
    split = [(toc, i["number"]) for toc, items in BIJLAGE6.items() for i in items if i["split"]]
    assert split == [("werknemer-vroegtijdig", 12)]


@pytest.mark.parametrize("toc_id", AKC)
def test_outputs_and_effects_are_exactly_bijlage_6(toc_id):
    items = BIJLAGE6[toc_id]
    toc = TOCS[toc_id]
    layers = [sum(1 for i in items if i["layer"] == layer) for layer in ("output", "short_term", "long_term")]
    assert tuple(layers) == COUNTS[toc_id]
    ours = {n.number: n for n in toc.nodes_in("output", "short_term", "long_term")}
    assert len(ours) == len(toc.nodes_in("output", "short_term", "long_term")), "numbers must be unique"
    assert sorted(ours) == [i["number"] for i in items] == list(range(1, len(items) + 1))
    for item in items:
        node = ours[item["number"]]
        where = f"{toc_id} #{item['number']}"
        assert node.layer == item["layer"], where
        assert node.label_nl == item["label"], where
        assert node.label_en.strip() and node.label_en != node.label_nl, f"{where}: no English translation"
        if item["split"]:
            assert " ".join(node.description_nl.split()) == " ".join(item["description"].split()), where
        else:
            assert node.description_nl == item["description"], where
        assert node.description_en.strip(), where


@pytest.mark.parametrize(
    "toc_id,section",
    [
        ("werkgever-preventief", "3.5.1"),
        ("werknemer-preventief", "3.5.1"),
        ("werkgever-vroegtijdig", "3.5.2"),
        ("werknemer-vroegtijdig", "3.5.2"),
    ],
)
def test_activities_are_those_of_section_3_5(toc_id, section):
    nxt = {"3.5.1": "### 3.5.2", "3.5.2": "### 3.5.3"}[section]
    titles = bold_titles(between(REPORT, f"{section} Bestaande aanpakken", nxt))
    assert len(titles) == {"3.5.1": 3, "3.5.2": 13}[section]
    toc = TOCS[toc_id]
    labels = {n.label_nl.rstrip(".") for n in toc.nodes_in("activity")}
    assert labels == {t.strip().rstrip(".") for t in titles}
    outputs = {n.id for n in toc.nodes_in("output")}
    for activity in toc.nodes_in("activity"):
        assert any(lk.source == activity.id and lk.target in outputs for lk in toc.links), activity.id


def test_excluded_effects_preconditions_and_negative_effects():
    excluded = [
        t.rstrip(".")
        for t in re.findall(r"^- \*\*(.+?)\*\*", between(REPORT, "#### 4.1.2", "In de ToC zijn alleen"), re.M)
    ]
    preconditions = [
        t.rstrip(".") for t in re.findall(r"^- \*\*(.+?)\*\*", between(REPORT, "#### 4.1.3", "## 4.2"), re.M)
    ]
    assert len(excluded) == 5 and len(preconditions) == 2
    for toc_id in AKC:
        toc = TOCS[toc_id]
        assert [n.label_nl.rstrip(".") for n in toc.nodes_in("excluded_effect")] == excluded, toc_id
        assert [n.label_nl.rstrip(".") for n in toc.nodes_in("precondition")] == preconditions, toc_id
        negatives = toc.nodes_in("negative_effect")
        assert negatives, toc_id
        layer = {n.id: n.layer for n in toc.nodes}
        for neg in negatives:
            causes = [lk.source for lk in toc.links if lk.target == neg.id]
            assert causes and all(layer[c] in ("activity", "output") for c in causes), f"{toc_id}/{neg.id}"
            assert neg.source == "§4.1.2", f"{toc_id}/{neg.id}"


def test_references_a_to_k_are_present_and_used_as_evidence():
    refs = dict(re.findall(r"^- <sup>([a-k])</sup> (\S+)", REPORT, flags=re.M))
    assert sorted(refs) == list("abcdefghijk")
    used: set[str] = set()
    for toc_id in AKC:
        toc = TOCS[toc_id]
        assert sorted(toc.references) == list("abcdefghijk"), toc_id
        for key, first_author in refs.items():  # each key cites the same first author as the report
            assert toc.references[key].startswith(first_author.rstrip(",")), f"{toc_id} ref {key}"
        used |= {e.ref for n in toc.nodes for e in n.evidence} | {e.ref for lk in toc.links for e in lk.evidence}
    assert used == set("abcdefghijk")


@pytest.mark.parametrize("toc_id", sorted(TOCS))
def test_every_link_has_an_origin_and_a_rationale(toc_id):
    toc = TOCS[toc_id]
    assert toc.links
    for link in toc.links:
        assert link.origin in {"report", "derived"}
        assert link.rationale.strip(), f"{link.source} -> {link.target}"


def test_nine_tocs_ship_and_validate():
    """The four AKC ToCs, the four sister interventions and the symptom monitor (issue 18, seed 000 project I)."""
    assert len(shipped_paths()) == 9
    sisters = {"eigen-regie", "passend-werk", "tweede-spoor", "richtlijn-reintegratie", "symptoommonitor"}
    assert set(TOCS) == set(AKC) | sisters
    assert all(TOCS[t].source.seed == "003_cc419794b89a8451.txt" for t in AKC)
    toc = Path(sys.executable).with_name("toc")
    proc = subprocess.run([str(toc), "validate"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "9 ToC file(s)" in proc.stdout


def test_tweede_spoor_has_the_reference_weeks_of_its_seed():
    toc = TOCS["tweede-spoor"]
    seed = (SEEDS / toc.sources[0].seed).read_text(encoding="utf-8")
    weeks = {int(w) for w in re.findall(r"\bWeek (\d+)", seed)}
    assert 104 in weeks and len(weeks) >= 8
    ours = {d.week for d in toc.reference_dates}
    assert weeks <= ours, f"missing weeks {sorted(weeks - ours)}"
    assert all(d.label_nl.strip() and d.label_en.strip() for d in toc.reference_dates)
