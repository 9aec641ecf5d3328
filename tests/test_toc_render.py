"""Drawing every shipped ToC through the real Graphviz `dot`: formats, languages, colours, dashes, notes."""

from __future__ import annotations

import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from toc.load import load_shipped
from toc.models import MAIN_LAYERS
from toc.render import LAYER_COLOURS, NEGATIVE_COLOUR, render

SVG = "{http://www.w3.org/2000/svg}"
TOCS = load_shipped()
TOC = Path(sys.executable).with_name("toc")
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
def test_layer_colours_and_dashed_negative_effects(rendered, toc_id):
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
        assert bool(edge.get("stroke-dasharray")) == (link.target in negative), f"{link.source}->{link.target}"


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
