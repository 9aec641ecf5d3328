"""Pre-registration: the analysis plan frozen before the effect data are in, and what has moved since.

A plan holds what an evaluator could otherwise change after seeing the results (outcome switching): the SHA-256
of each ToC file, of the indicator catalogue and of the study design (when there is one), with a hash per node,
link and indicator so that a change can be named; the primary indicator, the families of the multiple-testing
correction, the estimator, alpha and the planned cut-off dates; and the date and git commit of registration.
Its canonical JSON (sorted keys, no spaces, UTF-8) has a SHA-256 of its own, the plan's identity.

`compare` checks a run against the registered plan: every ToC, node, link, indicator, the design, the primary
indicator, the families, the estimator, alpha, the planned cut-offs, and the run's cut-off (an interim look at a
date that was not planned is a change too). The plan is intact when nothing moved. Everything here is a pure function of the
bytes and values it is given; the pipeline stores plans and writes them out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

import yaml

from toc.lang import Lang, checked_lang, number
from toc.load import SafeLoader, parse_toc

SCALARS = ("primary_indicator", "estimator", "alpha", "families", "cutoffs")


@dataclass(frozen=True)
class Comparison:
    plan_sha256: str
    intact: bool
    changes: list[dict]

    def as_dict(self) -> dict:
        """`run.json`'s `preregistration`."""
        return {"plan_sha256": self.plan_sha256, "intact": self.intact, "changes": self.changes}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_json(value: object) -> bytes:
    """One byte string per value: sorted keys, no insignificant whitespace, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def build_plan(
    study: str,
    toc_files: Mapping[str, bytes],
    catalogue: bytes,
    *,
    design: tuple[str, bytes] | None = None,
    primary_indicator: str,
    families: Mapping[str, list[str]],
    estimator: str,
    alpha: float,
    cutoffs: list[str],
    registered_on: str,
    git_commit: str | None,
) -> dict:
    """The plan of `study`. `toc_files`: file name -> bytes of each ToC the study evaluates; `design`:
    (file name, bytes) of the study design; `cutoffs`: planned interim cut-off dates (ISO), sorted."""
    return {
        "study": study,
        "registered_on": registered_on,
        "git_commit": git_commit,
        "tocs": dict(sorted(_toc_entry(name, data) for name, data in toc_files.items())),
        "catalogue": _catalogue_entry(catalogue),
        "design": None if design is None else {"file": design[0], "sha256": sha256(design[1])},
        "primary_indicator": primary_indicator,
        "families": {name: sorted(ids) for name, ids in sorted(families.items())},
        "estimator": estimator,
        "alpha": alpha,
        "cutoffs": sorted(cutoffs),
    }


def plan_sha256(plan: dict) -> str:
    return sha256(canonical_json(plan))


def _toc_entry(name: str, data: bytes) -> tuple[str, dict]:
    toc = parse_toc(data.decode("utf-8"), name)
    return toc.id, {
        "file": name,
        "sha256": sha256(data),
        "nodes": {n.id: sha256(canonical_json(n.model_dump(mode="json"))) for n in toc.nodes},
        "links": {f"{k.source} -> {k.target}": sha256(canonical_json(k.model_dump(mode="json"))) for k in toc.links},
    }


def _catalogue_entry(data: bytes) -> dict:
    raw = yaml.load(data.decode("utf-8"), Loader=SafeLoader)
    indicators = {item["id"]: sha256(canonical_json(item)) for item in raw["indicators"]}
    return {"sha256": sha256(data), "indicators": dict(sorted(indicators.items()))}


def compare(registered: dict, current: dict, cutoff: str | None = None) -> Comparison:
    """What moved between the registered plan and the plan as it stands for this run (cut-off ISO or None)."""
    changes = [c for c in _keyed("toc", registered["tocs"], current["tocs"]) if c["change"] != "changed"]
    for toc_id in sorted(set(registered["tocs"]) & set(current["tocs"])):
        was, now = registered["tocs"][toc_id], current["tocs"][toc_id]
        parts = _keyed("node", was["nodes"], now["nodes"], toc_id) + _keyed("link", was["links"], now["links"], toc_id)
        if was["sha256"] != now["sha256"] and not parts:  # the file moved, but no node or link: its header or text
            parts = [{"kind": "toc", "id": toc_id, "change": "changed"}]
        changes += parts
    indicators = _keyed("indicator", registered["catalogue"]["indicators"], current["catalogue"]["indicators"])
    if registered["catalogue"]["sha256"] != current["catalogue"]["sha256"] and not indicators:
        indicators = [{"kind": "catalogue", "id": "catalogue", "change": "changed"}]
    changes += indicators
    if (registered["design"] or {}).get("sha256") != (current["design"] or {}).get("sha256"):
        changes.append(
            {"kind": "design", "id": (current["design"] or registered["design"])["file"], "change": "changed"}
        )
    for key in SCALARS:
        if registered[key] != current[key]:
            changes.append(
                {"kind": key, "id": key, "change": "changed", "registered": registered[key], "current": current[key]}
            )
    if cutoff is not None and cutoff not in registered["cutoffs"]:
        changes.append({"kind": "cutoff", "id": cutoff, "change": "unplanned", "registered": registered["cutoffs"]})
    return Comparison(plan_sha256=plan_sha256(registered), intact=not changes, changes=changes)


def _keyed(kind: str, was: Mapping[str, object], now: Mapping[str, object], toc_id: str | None = None) -> list[dict]:
    """Items added, removed or changed between two mappings of id -> hash (or entry), in id order."""
    prefix = f"{toc_id}/" if toc_id else ""
    changes = []
    for key in sorted(set(was) | set(now)):
        if key not in now:
            change = "removed"
        elif key not in was:
            change = "added"
        elif _digest(was[key]) != _digest(now[key]):
            change = "changed"
        else:
            continue
        changes.append({"kind": kind, "id": f"{prefix}{key}", "change": change})
    return changes


def _digest(entry: object) -> str:
    return entry["sha256"] if isinstance(entry, dict) else str(entry)


def describe(change: dict, lang: Lang = "en") -> str:
    """One line: what moved ('node werkgever-vroegtijdig/absence_reduced changed')."""
    words = WORDS[checked_lang(lang)]
    named = "" if change["id"] == change["kind"] else f" {change['id']}"
    line = f"{words['kind_' + change['kind']]}{named} {words[change['change']]}"
    if "current" in change:
        line += f": {_value(change['registered'])} → {_value(change['current'])}"
    elif change["kind"] == "cutoff":
        line += f" ({words['planned']}: {', '.join(change['registered']) or words['none']})"
    return line


def _value(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True) if isinstance(value, dict | list) else str(value)


def plan_markdown(plan: dict, lang: Lang, history: list[dict] | None = None) -> str:
    """The plan as a reader checks it: what is fixed, the files and their hashes, earlier registrations."""
    w = WORDS[checked_lang(lang)]
    lines = [
        f"# {w['title']}: {plan['study']}",
        "",
        w["registered"].format(date=plan["registered_on"], commit=plan["git_commit"] or w["none"]),
        f"{w['plan_sha']}: `{plan_sha256(plan)}`",
        "",
        f"## {w['fixed']}",
        "",
        f"- {w['primary_indicator']}: `{plan['primary_indicator']}`",
        f"- {w['estimator']}: `{plan['estimator']}`, alpha {number(plan['alpha'], 2, lang)}",
        *(f"- {w['family']} `{name}`: {', '.join(ids)}" for name, ids in plan["families"].items()),
        f"- {w['cutoffs']}: {', '.join(plan['cutoffs']) or w['none']} ({w['final']})",
        "",
        f"## {w['files']}",
        "",
        f"| {w['file']} | SHA-256 |",
        "|---|---|",
        *(f"| {entry['file']} | `{entry['sha256']}` |" for entry in plan["tocs"].values()),
        f"| {w['catalogue']} ({len(plan['catalogue']['indicators'])} {w['indicators']}) | `{plan['catalogue']['sha256']}` |",
    ]
    if plan["design"]:
        lines.append(f"| {plan['design']['file']} | `{plan['design']['sha256']}` |")
    if history:
        lines += ["", f"## {w['history']}", ""]
        lines += [f"- {h['registered_on']}: `{h['plan_sha256']}`" for h in history]
    return "\n".join(lines) + "\n"


WORDS: dict[str, dict[str, str]] = {
    "nl": {
        "title": "Analyseplan (pre-registratie)",
        "registered": "Vastgelegd op {date}, git-commit `{commit}`.",
        "plan_sha": "SHA-256 van het plan",
        "fixed": "Wat vastligt",
        "primary_indicator": "Primaire indicator",
        "estimator": "Schatter",
        "family": "Familie voor de correctie voor meervoudig toetsen (Romano–Wolf)",
        "cutoffs": "Geplande peildata voor tussenresultaten",
        "final": "en de eindanalyse op alle gegevens",
        "files": "Bestanden",
        "file": "Bestand",
        "catalogue": "indicatorcatalogus",
        "indicators": "indicatoren",
        "history": "Eerdere registraties",
        "none": "geen",
        "planned": "gepland",
        "kind_toc": "ToC",
        "kind_node": "knoop",
        "kind_link": "schakel",
        "kind_indicator": "indicator",
        "kind_catalogue": "indicatorcatalogus",
        "kind_design": "studieopzet",
        "kind_primary_indicator": "primaire indicator",
        "kind_estimator": "schatter",
        "kind_alpha": "alfa",
        "kind_families": "families voor meervoudig toetsen",
        "kind_cutoff": "peildatum",
        "kind_cutoffs": "geplande peildata",
        "kind_plan": "analyseplan van studie",
        "missing": "niet geregistreerd",
        "added": "toegevoegd",
        "removed": "verwijderd",
        "changed": "gewijzigd",
        "unplanned": "niet gepland",
    },
    "en": {
        "title": "Analysis plan (pre-registration)",
        "registered": "Registered on {date}, git commit `{commit}`.",
        "plan_sha": "SHA-256 of the plan",
        "fixed": "What is fixed",
        "primary_indicator": "Primary indicator",
        "estimator": "Estimator",
        "family": "Family of the multiple-testing correction (Romano–Wolf)",
        "cutoffs": "Planned cut-off dates for interim results",
        "final": "and the final analysis of all data",
        "files": "Files",
        "file": "File",
        "catalogue": "indicator catalogue",
        "indicators": "indicators",
        "history": "Earlier registrations",
        "none": "none",
        "planned": "planned",
        "kind_toc": "ToC",
        "kind_node": "node",
        "kind_link": "link",
        "kind_indicator": "indicator",
        "kind_catalogue": "indicator catalogue",
        "kind_design": "study design",
        "kind_primary_indicator": "primary indicator",
        "kind_estimator": "estimator",
        "kind_alpha": "alpha",
        "kind_families": "multiple-testing families",
        "kind_cutoff": "cut-off",
        "kind_cutoffs": "planned cut-offs",
        "kind_plan": "analysis plan of study",
        "missing": "not registered",
        "added": "added",
        "removed": "removed",
        "changed": "changed",
        "unplanned": "not planned",
    },
}
