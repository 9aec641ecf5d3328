"""Draw a ToC with Graphviz the way the report does: coloured bands stacked bottom to top on one axis.

Activities sit in the blue band at the bottom, outputs in yellow above them, short-term effects in green and
long-term effects in orange at the top (`toc.layout` places them; `dot` only orders them). Each link's line
style says how strong the evidence behind it is (`GRADE_STYLES`, with a legend). Negative effects are white
with a dashed red border in a column of their own, their links red. Preconditions, assumptions and the
effects the report left out are notes above the chain. With `results`, each node is filled by what the data
say (see `toc.overlay`) and carries its estimate; activities keep their colour, negative effects keep their
dashed red border. With `statuses` (assumption or precondition id -> holds / fails / untested), each note
item carries the outcome of its check.
"""

from __future__ import annotations

import html
import itertools
import json
import textwrap
from collections.abc import Mapping
from pathlib import Path

import graphviz

from toc.errors import TocError
from toc.lang import Lang, checked_lang, translated
from toc.layout import Placement, stack_bands
from toc.models import CHECKED_LAYERS, GRADES, MAIN_LAYERS, Node, TheoryOfChange
from toc.overlay import CHECK_STYLES, RESULT_STYLES, CheckStatus, NodeResult, annotation, classify

FORMATS = ("svg", "png", "pdf", "json")
FONT = "DejaVu Sans"
WRAP = 26
DPI = 110  # png: legible when printed at full width in a report
ACTIVITY_WRAP = 18  # activities sit side by side in rows: narrower labels keep the diagram readable
POINTS_PER_INCH = 72

#: The report's colours per layer: (band, node). One source for the diagram and its legend.
LAYER_COLOURS: dict[str, tuple[str, str]] = {
    "activity": ("#DEEBF7", "#9DC3E6"),
    "output": ("#FFF7D6", "#FFD966"),
    "short_term": ("#E7F2E0", "#A9D18E"),
    "long_term": ("#FCE9DC", "#F4B183"),
}
NEGATIVE_COLOUR = "#C00000"
NOTE_COLOUR = "#F2F2F2"
LINK_COLOUR = "#555555"
#: A link's line by the grade of its evidence: (Graphviz style, pen width in points).
GRADE_STYLES: dict[str, tuple[str, float]] = {
    "strong": ("solid", 2.6),
    "moderate": ("solid", 1.2),
    "weak": ("dashed", 1.2),
    "none": ("dotted", 1.4),
}

LAYER_TITLES = {
    "nl": {
        "activity": "Activiteiten",
        "output": "Outputs",
        "short_term": "Korte termijn effecten",
        "long_term": "Lange termijn effecten",
        "negative_effect": "Verwachte negatieve effecten",
        "precondition": "Randvoorwaarden",
        "assumption": "Aannames",
        "excluded_effect": "Niet opgenomen effecten",
    },
    "en": {
        "activity": "Activities",
        "output": "Outputs",
        "short_term": "Short-term effects",
        "long_term": "Long-term effects",
        "negative_effect": "Expected negative effects",
        "precondition": "Preconditions",
        "assumption": "Assumptions",
        "excluded_effect": "Effects left out",
    },
}
LEGEND_TITLE = {"nl": "Wat de data zeggen", "en": "What the data say"}
CHECK_TITLE = {"nl": "Aannames getoetst", "en": "Assumptions tested"}
GRADE_TITLE = {"nl": "Bewijs voor de schakel", "en": "Evidence for the link"}
GRADE_LABELS = {
    "nl": {"strong": "sterk", "moderate": "matig", "weak": "zwak", "none": "geen bron"},
    "en": {"strong": "strong", "moderate": "moderate", "weak": "weak", "none": "no source"},
}


def diagram(
    toc: TheoryOfChange,
    lang: Lang = "nl",
    results: Mapping[str, NodeResult] | None = None,
    statuses: Mapping[str, CheckStatus] | None = None,
) -> graphviz.Digraph:
    """The graph of `toc`, every node pinned where the stacked bands put it: render it with `neato -n2`.

    `results` (node id -> result) turns it into the results overlay; `statuses` marks the notes."""
    lang = checked_lang(lang)
    first = _graph(toc, lang, results, statuses)
    layout = json.loads(first.pipe(format="json", engine="dot"))
    layers = {n.id: n.layer for n in toc.nodes_in(*MAIN_LAYERS, "negative_effect")}
    placement = stack_bands(layout, layers, [(link.source, link.target) for link in toc.links])
    return _graph(toc, lang, results, statuses, placement, label_height=float(layout.get("lheight", 0)))


def render(
    toc: TheoryOfChange,
    fmt: str,
    output: str | Path,
    lang: Lang = "nl",
    results: Mapping[str, NodeResult] | None = None,
    dpi: int = DPI,
    statuses: Mapping[str, CheckStatus] | None = None,
) -> Path:
    """Render through the system's Graphviz into `output` (svg, png, pdf, or json: the placed geometry)."""
    return render_formats(toc, {fmt: output}, lang, results, dpi, statuses)[fmt]


def render_formats(
    toc: TheoryOfChange,
    outputs: Mapping[str, str | Path],
    lang: Lang = "nl",
    results: Mapping[str, NodeResult] | None = None,
    dpi: int = DPI,
    statuses: Mapping[str, CheckStatus] | None = None,
) -> dict[str, Path]:
    """`render` into several formats (format -> output file) from one layout: `dot` and the bands once."""
    for fmt in outputs:
        if fmt not in FORMATS:
            raise TocError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    graph = diagram(toc, lang, results, statuses)
    written = {}
    for fmt, output in outputs.items():
        path = Path(output)
        path.parent.mkdir(parents=True, exist_ok=True)
        placed = graph.copy()
        if fmt == "png":
            placed.attr(dpi=str(dpi))
        path.write_bytes(placed.pipe(format=fmt, engine="neato", neato_no_op=2))
        written[fmt] = path
    return written


def _graph(
    toc: TheoryOfChange,
    lang: Lang,
    results: Mapping[str, NodeResult] | None,
    statuses: Mapping[str, CheckStatus] | None,
    placement: Placement | None = None,
    label_height: float = 0.0,
) -> graphviz.Digraph:
    """The first pass (`placement` None: for `dot`, ranks constrained) or the placed graph (for `neato -n2`)."""
    graph = graphviz.Digraph(toc.id, graph_attr=_graph_attrs(placement, label_height))
    graph.attr("node", shape="box", style="rounded,filled", fontname=FONT, fontsize="11", margin="0.10,0.06")
    graph.attr("edge", color=LINK_COLOUR, arrowsize="0.6")
    for layer in MAIN_LAYERS:
        _band(graph, toc, layer, lang, results, placement)
    _negative_band(graph, toc, lang, results, placement)
    negative = {n.id for n in toc.nodes_in("negative_effect")}
    for link in toc.links:
        style, width = GRADE_STYLES[link.grade]
        colour = NEGATIVE_COLOUR if link.target in negative else LINK_COLOUR
        graph.edge(link.source, link.target, color=colour, style=style, penwidth=str(width))
    if placement is None:
        _rank_constraints(graph, toc)
    # notes and legends live in the graph's label: above the chain, without pulling the layout about
    cells = _notes(toc, lang, statuses) + _grade_legend(lang)
    cells += (_legend(lang) if results is not None else []) + (_check_legend(lang) if statuses is not None else [])
    title = html.escape(translated(toc, "title", lang))
    graph.attr(
        label=f'<<TABLE BORDER="0" CELLSPACING="8"><TR><TD COLSPAN="{len(cells)}"><FONT POINT-SIZE="20">'
        f"{title}</FONT></TD></TR><TR>{''.join(cells)}</TR></TABLE>>"
    )
    return graph


def _graph_attrs(placement: Placement | None, label_height: float) -> dict[str, str]:
    attrs = {"fontname": FONT, "labelloc": "t", "pad": "0.3"}
    if placement is None:
        return attrs | {"rankdir": "BT", "newrank": "true", "nodesep": "0.24", "ranksep": "0.42"}
    box = placement.drawing
    top = box.y1 + label_height * POINTS_PER_INCH + 12
    return attrs | {"splines": "spline", "bb": f"{box.x0:.1f},{box.y0:.1f},{box.x1:.1f},{top:.1f}"}


def _band(
    graph: graphviz.Digraph,
    toc: TheoryOfChange,
    layer: str,
    lang: Lang,
    results: Mapping[str, NodeResult] | None,
    placement: Placement | None,
) -> None:
    band, fill = LAYER_COLOURS[layer]
    nodes = toc.nodes_in(layer)
    if not nodes:
        return
    with graph.subgraph(name=f"cluster_{layer}") as sub:
        sub.attr(
            label=LAYER_TITLES[lang][layer],
            style="filled,rounded",
            fillcolor=band,
            color=band,
            fontname=FONT,
            fontsize="14",
            labeljust="l",
            labelloc="b",
            **_bb(placement, layer),
        )
        for node in nodes:
            label, colour = _label(node, lang), fill
            if results is not None and layer != "activity":
                result = results.get(node.id)
                colour = RESULT_STYLES[classify(result)].fill
                label = f"{label}\n{annotation(result, lang)}"
            sub.node(node.id, label, fillcolor=colour, color="#7F7F7F", **_pos(placement, node.id))


def _negative_band(
    graph: graphviz.Digraph,
    toc: TheoryOfChange,
    lang: Lang,
    results: Mapping[str, NodeResult] | None,
    placement: Placement | None,
) -> None:
    nodes = toc.nodes_in("negative_effect")
    if not nodes:
        return
    with graph.subgraph(name="cluster_negative_effect") as sub:
        sub.attr(
            label=LAYER_TITLES[lang]["negative_effect"],
            style="rounded,dashed",
            color=NEGATIVE_COLOUR,
            fontcolor=NEGATIVE_COLOUR,
            fontname=FONT,
            fontsize="12",
            labeljust="l",
            labelloc="b",
            **_bb(placement, "negative_effect"),
        )
        for node in nodes:
            label, fill = _label(node, lang), "white"
            if results is not None:  # a measured negative effect is coloured by its indicator like any other effect
                result = results.get(node.id)
                fill = RESULT_STYLES[classify(result)].fill
                label = f"{label}\n{annotation(result, lang)}"
            # red text stays readable on white only; on a result colour the dashed red border carries the cue
            sub.node(
                node.id,
                label,
                fillcolor=fill,
                color=NEGATIVE_COLOUR,
                fontcolor=NEGATIVE_COLOUR if results is None else "black",
                style="rounded,filled,dashed",
                penwidth="1.5",
                **_pos(placement, node.id),
            )


def _rank_constraints(graph: graphviz.Digraph, toc: TheoryOfChange) -> None:
    """First pass only: each layer above the one below it, activities (and outputs) on one rank each.

    An invisible separator between two layers sits at or above every node of the lower layer and below every
    node of the upper one; weight 0 keeps it from pulling nodes about."""
    layers = [layer for layer in MAIN_LAYERS if toc.nodes_in(layer)]
    inside = {(link.source, link.target) for link in toc.links}
    for layer in layers[:2]:
        ids = [n.id for n in toc.nodes_in(layer)]
        if not any((a, b) in inside for a in ids for b in ids):
            with graph.subgraph() as same:
                same.attr(rank="same")
                for node_id in ids:
                    same.node(node_id)
    for lower, upper in itertools.pairwise(layers):
        separator = f"_above_{lower}"
        graph.node(separator, "", style="invis", width="0", height="0")
        for node in toc.nodes_in(lower):
            graph.edge(node.id, separator, style="invis", weight="0", minlen="0")
        for node in toc.nodes_in(upper):
            graph.edge(separator, node.id, style="invis", weight="0")


def _bb(placement: Placement | None, layer: str) -> dict[str, str]:
    return {} if placement is None or layer not in placement.bands else {"bb": placement.bands[layer].bb()}


def _pos(placement: Placement | None, node_id: str) -> dict[str, str]:
    if placement is None:
        return {}
    x, y = placement.positions[node_id]
    return {"pos": f"{x:.1f},{y:.1f}!"}


def _label(node: Node, lang: Lang) -> str:
    text = translated(node, "label", lang)
    if node.number is not None:
        text = f"{node.number}. {text}"
    return textwrap.fill(text, ACTIVITY_WRAP if node.layer == "activity" else WRAP)


def _notes(toc: TheoryOfChange, lang: Lang, statuses: Mapping[str, CheckStatus] | None) -> list[str]:
    """One note (an HTML table cell) per side layer, listing its items; checked items carry their outcome."""
    cells = []
    for layer in ("precondition", "assumption", "excluded_effect"):
        items = toc.nodes_in(layer)
        if not items:
            continue
        body = '<BR ALIGN="LEFT"/>'.join(_note_item(node, lang, statuses) for node in items)
        cells.append(
            f'<TD BGCOLOR="{NOTE_COLOUR}" BORDER="1" COLOR="#A6A6A6" ALIGN="LEFT" VALIGN="TOP" CELLPADDING="6">'
            f'<FONT POINT-SIZE="10"><B>{LAYER_TITLES[lang][layer]}</B><BR ALIGN="LEFT"/>{body}<BR ALIGN="LEFT"/></FONT></TD>'
        )
    return cells


def _note_item(node: Node, lang: Lang, statuses: Mapping[str, CheckStatus] | None) -> str:
    """The item's lines; with `statuses` its bullet is the check's marker in the check's colour."""
    status = statuses.get(node.id, "untested") if statuses is not None and node.layer in CHECKED_LAYERS else None
    lines = [
        html.escape(line) for line in textwrap.wrap(f"• {translated(node, 'label', lang)}", 46, subsequent_indent="   ")
    ]
    if status is not None:
        style = CHECK_STYLES[status]
        lines[0] = f'<FONT COLOR="{_marker_colour(status)}"><B>{style.marker}</B></FONT>{lines[0][1:]}'
    return '<BR ALIGN="LEFT"/>'.join(lines)


def _marker_colour(status: CheckStatus) -> str:
    """The check's colour, dark enough for a glyph on the grey note (white `untested` drawn grey)."""
    return "#6E6E6E" if status == "untested" else CHECK_STYLES[status].fill


def _grade_legend(lang: Lang) -> list[str]:
    """The line styles of `GRADE_STYLES` as samples: a cell drawing only its bottom border in that style."""
    rows = "".join(
        f'<TR><TD WIDTH="36" HEIGHT="10" BORDER="{max(1, round(width - 0.4))}" SIDES="B" STYLE="{style}"'
        f' COLOR="{LINK_COLOUR}"></TD><TD ALIGN="LEFT"><FONT POINT-SIZE="10">{GRADE_LABELS[lang][grade]}</FONT></TD></TR>'
        for grade, (style, width) in ((g, GRADE_STYLES[g]) for g in GRADES)
    )
    return [_legend_cell(GRADE_TITLE[lang], rows)]


def _legend(lang: Lang) -> list[str]:
    rows = "".join(
        f'<TR><TD BGCOLOR="{style.fill}" BORDER="1">{style.marker}</TD>'
        f'<TD ALIGN="LEFT"><FONT POINT-SIZE="10">{translated(style, "label", lang)}</FONT></TD></TR>'
        for style in RESULT_STYLES.values()
    )
    return [_legend_cell(LEGEND_TITLE[lang], rows)]


def _check_legend(lang: Lang) -> list[str]:
    rows = "".join(
        f'<TR><TD><FONT COLOR="{_marker_colour(status)}"><B>{style.marker}</B></FONT></TD>'
        f'<TD ALIGN="LEFT"><FONT POINT-SIZE="10">{translated(style, "label", lang)}</FONT></TD></TR>'
        for status, style in CHECK_STYLES.items()
    )
    return [_legend_cell(CHECK_TITLE[lang], rows)]


def _legend_cell(heading: str, rows: str) -> str:
    return (
        f'<TD VALIGN="TOP"><TABLE BORDER="1" COLOR="#A6A6A6" CELLBORDER="0" CELLSPACING="3"><TR><TD COLSPAN="2">'
        f'<FONT POINT-SIZE="11"><B>{heading}</B></FONT></TD></TR>{rows}</TABLE></TD>'
    )
