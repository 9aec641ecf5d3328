"""Where each node of a ToC diagram goes: the layers as bands stacked on one vertical axis, as the report draws.

`dot` alone puts the layer clusters wherever its edge-length optimisation likes them: side by side on a
diagonal, each band drifting sideways as it rises. So the diagram is laid out in two passes. `dot` first
orders the nodes (which row of its band a node sits in, and its left-to-right order, with few crossings),
then `stack_bands` places them: the bands of the causal chain one above the other (activities at the bottom,
then outputs, short-term and long-term effects), all as wide as the widest, every row centred on the same
vertical axis, a row of more than `MAX_PER_ROW` nodes split into staggered rows; the expected negative effects
in a column to the right of the stack, level with the outputs. The renderer then draws that placement with
`neato -n2`, which keeps every position and routes the links around the nodes.

Coordinates are Graphviz points (1/72 inch), y pointing up, the axis at x = 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from toc.models import MAIN_LAYERS

MAX_PER_ROW = 7  # a row of more nodes (the 13 early activities) is split into staggered rows
NODE_GAP = 20.0  # between neighbours in a row
ROW_GAP = 30.0  # between the rows of one band
BAND_GAP = 22.0  # between two bands
BAND_PAD = 12.0  # inside a band, around its rows
LABEL_SPACE = 24.0  # below the rows of a band: its title, bottom left
SIDE_GAP = 36.0  # between the stack and the column of negative effects


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def centre_x(self) -> float:
        return (self.x0 + self.x1) / 2

    def bb(self) -> str:
        """As Graphviz writes a bounding box."""
        return f"{self.x0:.1f},{self.y0:.1f},{self.x1:.1f},{self.y1:.1f}"


@dataclass(frozen=True)
class Placement:
    positions: dict[str, tuple[float, float]]  # node id -> centre
    bands: dict[str, Box]  # layer -> its band (the four main layers, and `negative_effect` when there are any)
    drawing: Box  # everything placed, without the graph's label


def stack_bands(layout: dict, layer_of: Mapping[str, str], links: list[tuple[str, str]]) -> Placement:
    """Place the nodes of `layer_of` (node id -> layer) from a `dot -Tjson` layout of the same graph.

    Nodes of other layers (helpers of the first pass) are ignored. Rows come from `layout`; the order within
    each row is the first pass's, or one refined by barycentre sweeps when that crosses fewer `links`."""
    sizes, centres = _nodes(layout, layer_of)
    rows = {layer: _rows([n for n in centres if layer_of[n] == layer], centres) for layer in MAIN_LAYERS}
    rows = _fewest_crossings(rows, sizes, links)
    content = max((_row_width(row, sizes) for layer_rows in rows.values() for row in layer_rows), default=0.0)
    half = content / 2 + BAND_PAD
    positions: dict[str, tuple[float, float]] = {}
    bands: dict[str, Box] = {}
    y = 0.0
    for layer in MAIN_LAYERS:
        if not rows[layer]:
            continue
        top = _place_rows(rows[layer], sizes, y + LABEL_SPACE, positions)
        bands[layer] = Box(-half, y, half, top + BAND_PAD)
        y = bands[layer].y1 + BAND_GAP
    negative = [n for n in centres if layer_of[n] == "negative_effect"]
    if negative:
        title = _title_width(layout, "negative_effect")
        bands["negative_effect"] = _side_column(negative, centres, sizes, bands, positions, title)
    drawing = Box(
        min(b.x0 for b in bands.values()),
        min(b.y0 for b in bands.values()),
        max(b.x1 for b in bands.values()),
        max(b.y1 for b in bands.values()),
    )
    return Placement(positions, bands, drawing)


def _nodes(layout: dict, layer_of: Mapping[str, str]) -> tuple[dict[str, tuple[float, float]], dict]:
    """Sizes (points) and first-pass centres of the nodes we place."""
    sizes, centres = {}, {}
    for obj in layout.get("objects", []):
        name = obj.get("name")
        if name in layer_of and "pos" in obj:
            sizes[name] = (float(obj["width"]) * 72, float(obj["height"]) * 72)
            x, y = (float(v) for v in obj["pos"].split(","))
            centres[name] = (x, y)
    return sizes, dict(sorted(centres.items()))


def _title_width(layout: dict, layer: str) -> float:
    """The width of a band's title as the first pass measured it (0 when it drew none)."""
    for obj in layout.get("objects", []):
        if obj.get("name") == f"cluster_{layer}":
            return float(obj.get("lwidth", 0)) * 72
    return 0.0


def _rows(nodes: list[str], centres: dict[str, tuple[float, float]]) -> list[list[str]]:
    """The band's rows bottom to top, each left to right as the first pass ordered them; long rows split."""
    by_y: dict[float, list[str]] = {}
    for node in nodes:
        by_y.setdefault(round(centres[node][1]), []).append(node)
    rows = []
    for y in sorted(by_y):
        row = sorted(by_y[y], key=lambda n: (centres[n][0], n))
        parts = math.ceil(len(row) / MAX_PER_ROW)
        # every k-th node in each part: the parts interleave, so each node keeps its place left to right
        rows += [row[i::parts] for i in range(parts)]
    return rows


def _fewest_crossings(rows: dict[str, list[list[str]]], sizes: dict, links: list[tuple[str, str]]) -> dict:
    """The first pass's order, or that order after a barycentre sweep up and one down, whichever crosses less.

    Centring every row moves nodes away from where `dot` aligned them; a sweep re-sorts each row by the mean x
    of its neighbours in the rows already placed (Sugiyama's heuristic)."""
    stack = [row for layer in MAIN_LAYERS for row in rows[layer]]
    candidates = [stack]
    for direction in ("up", "down"):
        candidates.append(_sweep(candidates[-1], sizes, links, direction))
    best = min(candidates, key=lambda c: (_crossings(_centred_x(c, sizes), _row_index(c), links), candidates.index(c)))
    out, i = {}, 0
    for layer in MAIN_LAYERS:  # rows keep their band and their nodes; only the order within a row changes
        out[layer] = best[i : i + len(rows[layer])]
        i += len(rows[layer])
    return out


def _sweep(stack: list[list[str]], sizes: dict, links: list[tuple[str, str]], direction: str) -> list[list[str]]:
    stack = [list(row) for row in stack]
    order = range(1, len(stack)) if direction == "up" else range(len(stack) - 2, -1, -1)
    for i in order:
        x, index = _centred_x(stack, sizes), _row_index(stack)
        neighbours: dict[str, list[float]] = {}
        for a, b in links:
            for here, there in ((a, b), (b, a)):
                placed = there in index and (index[there] < i if direction == "up" else index[there] > i)
                if index.get(here) == i and placed:
                    neighbours.setdefault(here, []).append(x[there])
        current = {n: k for k, n in enumerate(stack[i])}
        stack[i].sort(key=lambda n: (sum(neighbours[n]) / len(neighbours[n]) if n in neighbours else x[n], current[n]))
    return stack


def _centred_x(stack: list[list[str]], sizes: dict) -> dict[str, float]:
    x = {}
    for row in stack:
        left = -_row_width(row, sizes) / 2
        for node in row:
            x[node] = left + sizes[node][0] / 2
            left += sizes[node][0] + NODE_GAP
    return x


def _row_index(stack: list[list[str]]) -> dict[str, int]:
    return {node: i for i, row in enumerate(stack) for node in row}


def _crossings(x: dict[str, float], index: dict[str, int], links: list[tuple[str, str]]) -> int:
    """Pairs of links that cross, each drawn straight from node centre to node centre (rows at unit height)."""
    segments = [((x[a], index[a]), (x[b], index[b])) for a, b in links if a in index and b in index]
    return sum(_intersect(*s, *t) for k, s in enumerate(segments) for t in segments[k + 1 :])


def _intersect(p1, p2, q1, q2) -> bool:
    """Proper crossing of segments p and q (sharing an end point is not a crossing)."""
    if {p1, p2} & {q1, q2}:
        return False

    def side(a, b, c) -> float:
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])

    d1, d2, d3, d4 = side(q1, q2, p1), side(q1, q2, p2), side(p1, p2, q1), side(p1, p2, q2)
    return (d1 * d2 < 0) and (d3 * d4 < 0)


def _row_width(row: list[str], sizes: dict) -> float:
    return sum(sizes[n][0] for n in row) + NODE_GAP * (len(row) - 1)


def _place_rows(rows: list[list[str]], sizes: dict, bottom: float, positions: dict) -> float:
    """Centre each row on the axis, rows stacked upwards from `bottom`; returns the top of the last row."""
    y = bottom
    for row in rows:
        height = max(sizes[n][1] for n in row)
        x = -_row_width(row, sizes) / 2
        for node in row:
            width = sizes[node][0]
            positions[node] = (x + width / 2, y + height / 2)
            x += width + NODE_GAP
        y += height + ROW_GAP
    return y - ROW_GAP


def _side_column(
    nodes: list[str], centres: dict, sizes: dict, bands: dict[str, Box], positions: dict, title_width: float
) -> Box:
    """The negative effects one above the other, right of the stack, centred on the outputs band."""
    nodes = sorted(nodes, key=lambda n: (centres[n][1], n))
    width = max(max(sizes[n][0] for n in nodes), title_width)
    height = sum(sizes[n][1] for n in nodes) + ROW_GAP * (len(nodes) - 1)
    anchor = bands.get("output") or next(iter(bands.values()))
    middle = (anchor.y0 + anchor.y1) / 2
    x0 = max(b.x1 for b in bands.values()) + SIDE_GAP
    y = max(middle - height / 2 - LABEL_SPACE, 0.0)
    bottom = y
    y += LABEL_SPACE
    for node in nodes:
        positions[node] = (x0 + BAND_PAD + width / 2, y + sizes[node][1] / 2)
        y += sizes[node][1] + ROW_GAP
    return Box(x0, bottom, x0 + width + 2 * BAND_PAD, y - ROW_GAP + BAND_PAD)
