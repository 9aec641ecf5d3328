"""Drawing every shipped ToC through the real Graphviz `dot`: formats, languages, colours, dashes, notes."""

from __future__ import annotations

import itertools
import json
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from toc.load import load_shipped
from toc.models import MAIN_LAYERS
from toc.overlay import CHECK_STYLES
from toc.render import GRADE_LABELS, GRADE_STYLES, LAYER_COLOURS, LINK_COLOUR, NEGATIVE_COLOUR, render

SVG = "{http://www.w3.org/2000/svg}"
TOCS = load_shipped()
TOC = Path(sys.executable).with_name("toc")
#: How Graphviz's SVG draws the line style of each grade.
DASHES = {"strong": "", "moderate": "", "weak": "5,2", "none": "1,5"}
MAGIC = {"svg": b"<svg", "png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-"}


def squash(text: str) -> str:
    """Text without whitespace: dot wraps labels over several <text> lines."""
    return "".join(text.split())


def colour(value: str | None) -> str | None:
    return {"white": "#ffffff", "black": "#000000"}.get(value, value.lower()) if value else value


def svg_groups(path: Path, kind: str) -> dict[str, ET.Element]:
    """`<g class="node|edge">` by their <title> (node id, or `a->b` for an edge)."""
    root = ET.parse(path).getroot()
    return {g.find(f"{SVG}title").text: g for g in root.iter(f"{SVG}g") if g.get("class") == kind}


def shape(group: ET.Element) -> ET.Element:
    return next(c for c in group if c.tag in (f"{SVG}path", f"{SVG}polygon", f"{SVG}ellipse"))


def text_of(element: ET.Element) -> str:
    return " ".join(t.text or "" for t in element.iter(f"{SVG}text"))


def label(node, lang: str) -> str:
    text = node.label_nl if lang == "nl" else node.label_en
    return f"{node.number}. {text}" if node.number is not None else text


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[tuple[str, str, str], Path]:
    out = tmp_path_factory.mktemp("render")
    return {
        (toc_id, fmt, lang): render(toc, fmt, out / f"{toc_id}.{lang}.{fmt}", lang=lang)
        for toc_id, toc in TOCS.items()
        for fmt in ("svg", "png", "pdf")
        for lang in ("nl", "en")
    }


@pytest.mark.parametrize("toc_id", sorted(TOCS))
@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_toc_renders_in_every_format(rendered, toc_id, fmt, lang):
    data = rendered[toc_id, fmt, lang].read_bytes()
    head = data[:400].lstrip()
    assert (MAGIC[fmt] in head) if fmt == "svg" else head.startswith(MAGIC[fmt])
    assert len(data) > 10_000
    if fmt == "png":
        width, height = struct.unpack(">II", data[16:24])
        assert width > 800 and height > 400


@pytest.mark.parametrize("toc_id", sorted(TOCS))
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_labels_in_the_right_language(rendered, toc_id, lang):
    toc = TOCS[toc_id]
    nodes = svg_groups(rendered[toc_id, "svg", lang], "node")
    assert set(nodes) == {n.id for n in toc.nodes_in(*MAIN_LAYERS, "negative_effect")}
    other = "en" if lang == "nl" else "nl"
    for node in toc.nodes_in(*MAIN_LAYERS, "negative_effect"):
        shown = squash(text_of(nodes[node.id]))
        assert shown == squash(label(node, lang)), node.id
        if squash(node.label_nl) != squash(node.label_en):
            assert shown != squash(label(node, other)), node.id
    title = toc.title if lang == "nl" else toc.title_en
    assert squash(title) in squash(text_of(ET.parse(rendered[toc_id, "svg", lang]).getroot()))


@pytest.mark.parametrize("toc_id", sorted(TOCS))
def test_layer_colours_grade_lines_and_dashed_negative_effects(rendered, toc_id):
    toc = TOCS[toc_id]
    path = rendered[toc_id, "svg", "nl"]
    nodes, edges = svg_groups(path, "node"), svg_groups(path, "edge")
    for node in toc.nodes_in(*MAIN_LAYERS):
        drawn = shape(nodes[node.id])
        assert colour(drawn.get("fill")) == LAYER_COLOURS[node.layer][1].lower(), node.id
        assert not drawn.get("stroke-dasharray"), node.id
    clusters = {colour(shape(g).get("fill")) for g in svg_groups(path, "cluster").values()}
    assert {band.lower() for band, _ in LAYER_COLOURS.values()} <= clusters
    negative = {n.id for n in toc.nodes_in("negative_effect")}
    for node_id in negative:
        drawn = shape(nodes[node_id])
        assert drawn.get("stroke-dasharray"), node_id
        assert colour(drawn.get("stroke")) == NEGATIVE_COLOUR.lower()
        assert colour(drawn.get("fill")) == "#ffffff"
    assert len(edges) == len(toc.links)
    for link in toc.links:
        edge = shape(edges[f"{link.source}->{link.target}"])
        where = f"{link.source}->{link.target}"
        assert edge.get("stroke-dasharray", "") == DASHES[link.grade], where  # the line says the evidence grade
        assert float(edge.get("stroke-width", 1)) == GRADE_STYLES[link.grade][1], where
        assert colour(edge.get("stroke")) == (NEGATIVE_COLOUR if link.target in negative else LINK_COLOUR).lower()


@pytest.mark.parametrize("toc_id", sorted(TOCS))
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_notes_list_preconditions_assumptions_and_excluded_effects(rendered, toc_id, lang):
    toc = TOCS[toc_id]
    root = ET.parse(rendered[toc_id, "svg", lang]).getroot()
    # the notes sit in the graph's own label, not in any node
    graph_text = " ".join(t.text or "" for t in root.find(f"{SVG}g") if t.tag == f"{SVG}text")
    blob = squash(graph_text)
    headings = {
        "nl": {
            "precondition": "Randvoorwaarden",
            "assumption": "Aannames",
            "excluded_effect": "Niet opgenomen effecten",
        },
        "en": {"precondition": "Preconditions", "assumption": "Assumptions", "excluded_effect": "Effects left out"},
    }[lang]
    for layer, heading in headings.items():
        items = toc.nodes_in(layer)
        assert (squash(heading) in blob) == bool(items), f"{layer} heading"
        for item in items:
            assert squash(item.label_nl if lang == "nl" else item.label_en) in blob, item.id


def test_cli_render_writes_the_file_and_rejects_bad_options(tmp_path):
    out = tmp_path / "sub" / "akc.png"
    proc = subprocess.run(
        [str(TOC), "render", "werkgever-vroegtijdig", "--format", "png", "--output", str(out), "--lang", "en"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes().startswith(MAGIC["png"])
    svg = tmp_path / "akc.svg"
    proc = subprocess.run(
        [str(TOC), "render", "werkgever-vroegtijdig", "--output", str(svg), "--lang", "en"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0 and svg.read_bytes().lstrip().startswith((b"<?xml", b"<svg"))
    shown = squash(text_of(ET.parse(svg).getroot()))
    assert (
        squash(TOCS["werkgever-vroegtijdig"].title_en) in shown
        and squash(TOCS["werkgever-vroegtijdig"].title) not in shown
    )
    for bad in (["--format", "gif"], ["--lang", "de"]):
        target = tmp_path / "bad.out"
        proc = subprocess.run(
            [str(TOC), "render", "werkgever-vroegtijdig", "--output", str(target), *bad], capture_output=True, text=True
        )
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("error:")
        assert not target.exists()


@pytest.mark.parametrize("toc_id", sorted(TOCS))
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_grade_legend_names_every_grade(rendered, toc_id, lang):
    root = ET.parse(rendered[toc_id, "svg", lang]).getroot()
    blob = squash(" ".join(t.text or "" for t in root.find(f"{SVG}g") if t.tag == f"{SVG}text"))
    assert all(squash(label) in blob for label in GRADE_LABELS[lang].values())
    assert {"nl": "Bewijsvoordeschakel", "en": "Evidenceforthelink"}[lang] in blob


def geometry(path: Path) -> tuple[dict[str, list[float]], dict[str, list[float]], list[list[tuple[float, float]]]]:
    """From Graphviz's JSON: band name -> bounding box, node -> box, and the points of every edge."""
    data = json.loads(path.read_text(encoding="utf-8"))
    bands, nodes = {}, {}
    for obj in data["objects"]:
        if obj["name"].startswith("cluster_"):
            bands[obj["name"].removeprefix("cluster_")] = [float(v) for v in obj["bb"].split(",")]
        elif "pos" in obj:
            x, y = (float(v) for v in obj["pos"].split(","))
            w, h = float(obj["width"]) * 36, float(obj["height"]) * 36  # half sizes in points
            nodes[obj["name"]] = [x - w, y - h, x + w, y + h]
    edges = []
    for edge in data.get("edges", []):
        points = [p for p in edge["pos"].split() if not p.startswith(("e,", "s,"))]
        edges.append([tuple(float(v) for v in p.split(",")) for p in points])
    return bands, nodes, edges


@pytest.fixture(scope="module")
def placed(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("json")
    return {toc_id: render(toc, "json", out / f"{toc_id}.json") for toc_id, toc in TOCS.items()}


@pytest.mark.parametrize("toc_id", sorted(TOCS))
def test_bands_are_stacked_bottom_to_top_on_one_axis(placed, toc_id):
    """REQUIRED (#21): activities at the bottom, then outputs, short-term, long-term; centred on one axis."""
    toc = TOCS[toc_id]
    bands, nodes, edges = geometry(placed[toc_id])
    stack = [bands[layer] for layer in MAIN_LAYERS]  # every shipped ToC has all four layers
    for lower, upper in itertools.pairwise(stack):
        assert upper[1] > lower[3], f"{toc_id}: a band starts below the top of the band under it"
    centres = [(b[0] + b[2]) / 2 for b in stack]
    assert max(centres) - min(centres) <= 1.0, centres
    for node in toc.nodes_in(*MAIN_LAYERS, "negative_effect"):
        x0, y0, x1, y1 = nodes[node.id]
        bx0, by0, bx1, by1 = bands[node.layer]
        assert bx0 <= x0 and x1 <= bx1 and by0 <= y0 and y1 <= by1, f"{node.id} lies outside its band"
    for a, b in itertools.combinations(nodes.values(), 2):
        assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], "two nodes overlap"
    if "negative_effect" in bands:  # the column of negative effects stands beside the stack, not in it
        assert bands["negative_effect"][0] > max(b[2] for b in stack)
    # no link loops around the stack: every point of every line stays within the drawing's width
    left, right = min(b[0] for b in bands.values()), max(b[2] for b in bands.values())
    assert all(left - 1 <= x <= right + 1 for line in edges for x, _ in line)


@pytest.mark.parametrize("toc_id", ["werkgever-vroegtijdig", "werknemer-vroegtijdig"])
def test_a_long_row_of_activities_is_split_into_rows(placed, toc_id):
    _, nodes, _ = geometry(placed[toc_id])
    rows = {round((box[1] + box[3]) / 2) for n, box in nodes.items() if TOCS[toc_id].node(n).layer == "activity"}
    assert len(rows) == 2  # 13 activities: no band 13 nodes wide


def test_statuses_mark_the_notes(tmp_path):
    toc = TOCS["werkgever-vroegtijdig"]
    statuses = {"employer_willingness": "holds", "relationship_with_employer": "fails"}
    path = render(toc, "svg", tmp_path / "notes.svg", statuses=statuses)
    root = ET.parse(path).getroot()
    texts = [t for t in root.find(f"{SVG}g") if t.tag == f"{SVG}text"]
    marked = {t.text: colour(t.get("fill")) for t in texts if t.text in ("✓", "✗", "?")}
    assert marked["✓"] == CHECK_STYLES["holds"].fill.lower() and marked["✗"] == CHECK_STYLES["fails"].fill.lower()
    n_checked = len(toc.nodes_in("assumption", "precondition"))
    assert sum(t.text == "?" for t in texts) == n_checked - 2 + 1  # no status: untested; and the legend
    plain = ET.parse(render(toc, "svg", tmp_path / "plain.svg")).getroot()
    assert not [t for t in plain.find(f"{SVG}g") if t.tag == f"{SVG}text" and t.text in ("✓", "✗", "?")]
