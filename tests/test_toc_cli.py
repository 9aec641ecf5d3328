"""The `toc` console script as users run it: JSON contracts, exit codes, one-line errors."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from toc.load import DATA_DIR, load_shipped

TOC = Path(sys.executable).with_name("toc")
AKC_COUNTS = {
    "werkgever-preventief": (2, 6, 5),
    "werkgever-vroegtijdig": (4, 5, 7),
    "werknemer-preventief": (3, 5, 4),
    "werknemer-vroegtijdig": (3, 9, 5),
}
TOCS = load_shipped()


def toc(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(TOC), *args], capture_output=True, text=True, cwd=cwd)


def toc_json(*args: str, cwd: Path | None = None):
    proc = toc(*args, "--json", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_list_json():
    rows = toc_json("list")
    assert len(rows) == 9  # the four AKC ToCs, four sister interventions and the symptom monitor (issue 18)
    for row in rows:
        assert set(row) == {"id", "title", "perspective", "timing", "counts"}
        assert set(row["counts"]) == {"activity", "output", "short_term", "long_term"}
        assert row["counts"] == TOCS[row["id"]].counts()
    by_id = {r["id"]: r for r in rows}
    for toc_id, (out, short, long) in AKC_COUNTS.items():
        counts = by_id[toc_id]["counts"]
        assert (counts["output"], counts["short_term"], counts["long_term"]) == (out, short, long)
        assert counts["activity"] == (3 if "preventief" in toc_id else 13)
        assert by_id[toc_id]["timing"] == ("preventive" if "preventief" in toc_id else "early")
        assert by_id[toc_id]["perspective"] == ("employer" if toc_id.startswith("werkgever") else "employee")


def test_show_json():
    data = toc_json("show", "werknemer-vroegtijdig")
    node_keys = {"id", "layer", "number", "label_nl", "label_en", "description_nl"}
    assert all(node_keys <= set(n) for n in data["nodes"])
    assert all({"source", "target", "origin", "rationale", "evidence"} <= set(lk) for lk in data["links"])
    ids = {n["id"] for n in data["nodes"]}
    assert all(lk["source"] in ids and lk["target"] in ids for lk in data["links"])
    for group, layer, n in (
        ("assumptions", "assumption", None),
        ("preconditions", "precondition", 2),
        ("negative_effects", "negative_effect", None),
        ("excluded_effects", "excluded_effect", 5),
    ):
        assert all(item["layer"] == layer for item in data[group])
        assert len(data[group]) == (n if n is not None else len([x for x in data["nodes"] if x["layer"] == layer]))
    assert data["negative_effects"]
    first = next(n for n in data["nodes"] if n["layer"] == "output" and n["number"] == 1)
    assert first["label_nl"] == TOCS["werknemer-vroegtijdig"].node(first["id"]).label_nl
    # a path to a file works like an id
    assert toc_json("show", str(DATA_DIR / "werknemer-vroegtijdig.yaml"))["nodes"] == data["nodes"]


@pytest.mark.parametrize("toc_id", sorted(AKC_COUNTS))
def test_coverage_json(toc_id):
    data = toc_json("coverage", toc_id)
    assert data["toc"] == toc_id
    assert data["uncovered"] == []
    assert [n["id"] for n in data["nodes"]] == [n.id for n in TOCS[toc_id].nodes]
    for node in data["nodes"]:
        assert set(node) == {"id", "layer", "indicators"}
        if node["layer"] in ("output", "short_term", "long_term", "negative_effect"):
            assert node["indicators"], node["id"]


def test_paths_json_from_an_activity():
    tocobj = TOCS["werknemer-vroegtijdig"]
    layer = {n.id: n.layer for n in tocobj.nodes}
    grade = {(lk.source, lk.target): lk.grade for lk in tocobj.links}
    data = toc_json("paths", "werknemer-vroegtijdig", "--from", "dossier_check")
    assert isinstance(data, list) and len(data) >= 3
    order = ["strong", "moderate", "weak", "none"]
    for pathway in data:
        path = pathway["nodes"]
        assert path[0] == "dossier_check" and layer[path[-1]] == "long_term"
        pairs = list(itertools.pairwise(path))
        assert [(lk["source"], lk["target"]) for lk in pathway["links"]] == pairs
        assert all(lk["grade"] == grade[a, b] for lk, (a, b) in zip(pathway["links"], pairs, strict=True))
        weakest = pathway["weakest_link"]
        assert set(weakest) == {"source", "target", "grade"}
        assert (weakest["source"], weakest["target"]) in pairs
        assert order.index(weakest["grade"]) == max(order.index(grade[p]) for p in pairs)
        assert "measured" not in pathway  # only after a run
    ends = {p["nodes"][-1] for p in data}
    assert {"absence_reduced", "less_wia_inflow"} <= ends


def test_paths_with_overlay_say_which_nodes_improved(tmp_path):
    effects = tmp_path / "effects.csv"
    effects.write_text(
        "indicator_id,estimate,ci_low,ci_high\n"
        "mogelijkheden_terugkeer,0.4,0.1,0.7\n"  # higher is better, CI above 0: improved
        "ao_pct,2.0,0.5,3.5\n",  # lower is better, CI above 0: worsened
        encoding="utf-8",
    )
    data = toc_json("paths", "werknemer-vroegtijdig", "--from", "ad_finds_return_options", "--overlay", str(effects))
    assert data
    for pathway in data:
        assert [m["node"] for m in pathway["measured"]] == pathway["nodes"]
    measured = {m["node"]: m for p in data for m in p["measured"]}
    assert measured["ad_finds_return_options"] == {
        "node": "ad_finds_return_options",
        "indicator": "mogelijkheden_terugkeer",
        "result": "improvement",
        "improved": True,
    }
    assert measured["less_wia_inflow"]["result"] == "worsening" and measured["less_wia_inflow"]["improved"] is False
    unmeasured = [m for m in measured.values() if m["indicator"] is None or m["result"] == "not_measured"]
    assert unmeasured and all(m["improved"] is None and m["result"] == "not_measured" for m in unmeasured)


def write_modified_copy(path: Path) -> None:
    data = yaml.safe_load((DATA_DIR / "werknemer-vroegtijdig.yaml").read_text(encoding="utf-8"))
    data["nodes"] = [n for n in data["nodes"] if n["id"] != "task_delegation"]
    data["links"] = [lk for lk in data["links"] if lk["source"] != "task_delegation"]
    next(n for n in data["nodes"] if n["id"] == "absence_reduced")["label_en"] = "Less absence"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_diff_between_files(tmp_path):
    new = tmp_path / "new.yaml"
    write_modified_copy(new)
    data = toc_json("diff", "werknemer-vroegtijdig", str(new))
    assert data["nodes"]["removed"] == ["task_delegation"] and data["nodes"]["added"] == []
    assert data["nodes"]["changed"] == [
        {"key": "absence_reduced", "fields": {"label_en": {"old": "Absence decreases", "new": "Less absence"}}}
    ]
    assert data["links"]["removed"] == ["task_delegation -> return_to_work_plan_drawn_up"]
    same = toc_json("diff", "werknemer-vroegtijdig", str(DATA_DIR / "werknemer-vroegtijdig.yaml"))
    assert same["nodes"] == {"added": [], "removed": [], "changed": []}
    assert same["links"] == {"added": [], "removed": [], "changed": []}
    assert "no differences" in toc("diff", "werknemer-vroegtijdig", "werknemer-vroegtijdig").stdout


def test_diff_between_git_versions(tmp_path):
    git = shutil.which("git")
    assert git, "git is required for REV:path diffs"
    repo = tmp_path / "repo"
    repo.mkdir()
    env = ["-c", "user.name=test", "-c", "user.email=test@example.org", "-c", "commit.gpgsign=false"]

    def run_git(*args):
        subprocess.run([git, *env, *args], cwd=repo, check=True, capture_output=True)

    run_git("init", "-q")
    target = repo / "toc.yaml"
    shutil.copy(DATA_DIR / "werknemer-vroegtijdig.yaml", target)
    run_git("add", "toc.yaml")
    run_git("commit", "-q", "-m", "v1")
    write_modified_copy(target)
    run_git("commit", "-q", "-am", "v2")
    data = toc_json("diff", "HEAD~1:toc.yaml", "HEAD:toc.yaml", cwd=repo)
    assert data["old"] == data["new"] == "werknemer-vroegtijdig"
    assert data["nodes"]["removed"] == ["task_delegation"]
    assert data["links"]["removed"] == ["task_delegation -> return_to_work_plan_drawn_up"]
    assert toc_json("diff", "HEAD:toc.yaml", "toc.yaml", cwd=repo)["nodes"]["removed"] == []
    missing = toc("diff", "HEAD:nope.yaml", "toc.yaml", cwd=repo)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr and "nope.yaml" in missing.stderr


def test_validate_passes_on_shipped_files():
    proc = toc("validate", *map(str, sorted(DATA_DIR.glob("*.yaml"))))
    assert proc.returncode == 0, proc.stderr
    assert "valid: 9 ToC file(s)" in proc.stdout


@pytest.mark.parametrize(
    "breakage,node,words",
    [
        ("downward", "absence_reduced", "runs downwards"),
        ("unknown", "no_such_node", "unknown node"),
    ],
)
def test_validate_reports_a_broken_copy(tmp_path, breakage, node, words):
    data = yaml.safe_load((DATA_DIR / "werknemer-vroegtijdig.yaml").read_text(encoding="utf-8"))
    if breakage == "downward":
        data["links"].append(
            {
                "source": "absence_reduced",
                "target": "employee_feels_supported",
                "origin": "derived",
                "rationale": "wrong way round",
                "grade": "none",
                "grade_reason": "Derived, no source.",
            }
        )
    else:
        data["links"].append(
            {
                "source": "dossier_check",
                "target": "no_such_node",
                "origin": "derived",
                "rationale": "to nowhere",
                "grade": "none",
                "grade_reason": "Derived, no source.",
            }
        )
    path = tmp_path / f"a-rather-long-directory-name-for-{breakage}" / "broken.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    proc = toc("validate", str(path))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert lines and all(line.startswith(str(path)) for line in lines), proc.stderr  # one line per problem
    assert any(f"'{node}'" in line and words in line for line in lines), proc.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("show", "no-such-toc"),
        ("show", "no-such-toc", "--json"),
        ("coverage", "no-such-toc"),
        ("paths", "no-such-toc", "--from", "x"),
        ("render", "no-such-toc", "--output", "x.svg"),
        ("diff", "no-such-toc", "werknemer-vroegtijdig"),
    ],
)
def test_unknown_toc_is_one_line_and_exit_1(tmp_path, args):
    proc = toc(*args, cwd=tmp_path)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: no-such-toc") and "werknemer-vroegtijdig" in lines[0]
    assert not list(tmp_path.iterdir())  # nothing written


def test_unknown_node_for_paths_is_one_line():
    proc = toc("paths", "werknemer-vroegtijdig", "--from", "nope")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == ["error: ToC werknemer-vroegtijdig has no node 'nope'"]


def test_validate_names_the_file_of_a_check_with_an_unknown_measure(tmp_path):
    text = (DATA_DIR / "werkgever-vroegtijdig.yaml").read_text(encoding="utf-8")
    path = tmp_path / "checked.yaml"
    path.write_text(text.replace("measure: max_abs_std_diff", "measure: largest_gap"), encoding="utf-8")
    proc = toc("validate", str(path))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == (
        f"{path}: node 'equal_variation_in_comparison_groups': check: unknown measure 'largest_gap'"
        " (neither derived nor an indicator)"
    )
