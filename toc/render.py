"""Draw a ToC with Graphviz the way the report does: bottom to top, in coloured bands.

Activities sit in the blue band, outputs in yellow, short-term effects in green and long-term effects
in orange; links run upwards, so an earlier short-term effect lands below the effects it leads to.
Negative effects are white with a dashed red border and dashed red links. Preconditions, assumptions
and the effects the report left out are notes. With `results`, each node is filled by what the data
say (see `toc.overlay`) and carries its estimate; activities keep their colour, negative effects keep
their dashed red border.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Mapping
from pathlib import Path

import graphviz

from toc.errors import TocError
from toc.lang import Lang, checked_lang, translated
from toc.models import MAIN_LAYERS, Node, TheoryOfChange
from toc.overlay import RESULT_STYLES, NodeResult, annotation, classify

FORMATS = ("svg", "png", "pdf")
FONT = "DejaVu Sans"
WRAP = 26
DPI = 110  # png: legible when printed at full width in a report
ACTIVITY_WRAP = 18  # activities sit side by side in one row: narrower labels keep the diagram readable

#: The report's colours per layer: (band, node). One source for the diagram and its legend.
LAYER_COLOURS: dict[str, tuple[str, str]] = {
    "activity": ("#DEEBF7", "#9DC3E6"),
    "output": ("#FFF7D6", "#FFD966"),
    "short_term": ("#E7F2E0", "#A9D18E"),
    "long_term": ("#FCE9DC", "#F4B183"),
}
NEGATIVE_COLOUR = "#C00000"
NOTE_COLOUR = "#F2F2F2"

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


def diagram(
    toc: TheoryOfChange, lang: Lang = "nl", results: Mapping[str, NodeResult] | None = None
) -> graphviz.Digraph:
    """The Graphviz graph of `toc`; `results` (node id -> result) turns it into the results overlay."""
    title = translated(toc, "title", checked_lang(lang))
    graph = graphviz.Digraph(
        toc.id,
        graph_attr={
            "rankdir": "BT",
            "newrank": "true",
            "nodesep": "0.18",
            "ranksep": "0.42",
            "splines": "spline",
            "labelloc": "t",
            "fontname": FONT,
            "pad": "0.3",
        },
    )
    graph.attr("node", shape="box", style="rounded,filled", fontname=FONT, fontsize="11", margin="0.10,0.06")
    graph.attr("edge", color="#555555", arrowsize="0.6")
    for layer in MAIN_LAYERS:
        _band(graph, toc, layer, lang, results)
    for node in toc.nodes_in("negative_effect"):
        label, fill = _label(node, lang), "white"
        if results is not None:  # a measured negative effect is coloured by its indicator like any other effect
            result = results.get(node.id)
            fill = RESULT_STYLES[classify(result)].fill
            label = f"{label}\n{annotation(result, lang)}"
        # red text stays readable on white only; on a result colour the dashed red border carries the cue
        graph.node(
            node.id,
            label,
            fillcolor=fill,
            color=NEGATIVE_COLOUR,
            fontcolor=NEGATIVE_COLOUR if results is None else "black",
            style="rounded,filled,dashed",
            penwidth="1.5",
        )
    negative = {n.id for n in toc.nodes_in("negative_effect")}
    for link in toc.links:
        if link.target in negative:
            graph.edge(link.source, link.target, color=NEGATIVE_COLOUR, style="dashed")
        else:
            graph.edge(link.source, link.target)
    # notes and legend live in the graph's label: above the chain, without pulling the layout about
    cells = _notes(toc, lang) + (_legend(lang) if results is not None else [])
    graph.attr(
        label=f'<<TABLE BORDER="0" CELLSPACING="8"><TR><TD COLSPAN="{max(len(cells), 1)}"><FONT POINT-SIZE="20">'
        f"{html.escape(title)}</FONT></TD></TR><TR>{''.join(cells)}</TR></TABLE>>"
    )
    return graph


def render(
    toc: TheoryOfChange,
    fmt: str,
    output: str | Path,
    lang: Lang = "nl",
    results: Mapping[str, NodeResult] | None = None,
    dpi: int = DPI,
) -> Path:
    """Render through the system's `dot` into `output` (svg, png or pdf); `dpi` applies to png."""
    if fmt not in FORMATS:
        raise TocError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    graph = diagram(toc, lang, results)
    if fmt == "png":
        graph.attr(dpi=str(dpi))
    data = graph.pipe(format=fmt, engine="dot")
    output.write_bytes(data)
    return output


def _band(
    graph: graphviz.Digraph, toc: TheoryOfChange, layer: str, lang: Lang, results: Mapping[str, NodeResult] | None
) -> None:
    band, fill = LAYER_COLOURS[layer]
    with graph.subgraph(name=f"cluster_{layer}") as sub:
        sub.attr(
            label=LAYER_TITLES[lang][layer],
            style="filled,rounded",
            fillcolor=band,
            color=band,
            fontname=FONT,
            fontsize="14",
            labeljust="l",
        )
        for node in toc.nodes_in(layer):
            label, colour = _label(node, lang), fill
            if results is not None and layer != "activity":
                result = results.get(node.id)
                colour = RESULT_STYLES[classify(result)].fill
                label = f"{label}\n{annotation(result, lang)}"
            sub.node(node.id, label, fillcolor=colour, color="#7F7F7F")


def _label(node: Node, lang: Lang) -> str:
    text = translated(node, "label", lang)
    if node.number is not None:
        text = f"{node.number}. {text}"
    return textwrap.fill(text, ACTIVITY_WRAP if node.layer == "activity" else WRAP)


def _notes(toc: TheoryOfChange, lang: Lang) -> list[str]:
    """One note (an HTML table cell) per side layer, listing its items."""
    cells = []
    for layer in ("precondition", "assumption", "excluded_effect"):
        items = toc.nodes_in(layer)
        if not items:
            continue
        lines = []
        for node in items:
            text = translated(node, "label", lang)
            lines.extend(textwrap.wrap(f"• {text}", 46, subsequent_indent="   "))
        body = '<BR ALIGN="LEFT"/>'.join(html.escape(line) for line in lines)
        cells.append(
            f'<TD BGCOLOR="{NOTE_COLOUR}" BORDER="1" COLOR="#A6A6A6" ALIGN="LEFT" VALIGN="TOP" CELLPADDING="6">'
            f'<FONT POINT-SIZE="10"><B>{LAYER_TITLES[lang][layer]}</B><BR ALIGN="LEFT"/>{body}<BR ALIGN="LEFT"/></FONT></TD>'
        )
    return cells


def _legend(lang: Lang) -> list[str]:
    rows = "".join(
        f'<TR><TD BGCOLOR="{style.fill}" BORDER="1">{style.marker}</TD>'
        f'<TD ALIGN="LEFT">{translated(style, "label", lang)}</TD></TR>'
        for style in RESULT_STYLES.values()
    )
    heading = LEGEND_TITLE[lang]
    return [
        f'<TD VALIGN="TOP"><TABLE BORDER="1" COLOR="#A6A6A6" CELLBORDER="0" CELLSPACING="3"><TR><TD COLSPAN="2">'
        f'<FONT POINT-SIZE="11"><B>{heading}</B></FONT></TD></TR>{rows}</TABLE></TD>'
    ]
