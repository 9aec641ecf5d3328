"""`toc`: read, check, query and draw Theories of Change. A thin layer over the `toc` package."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cli.common import console, err_console, friendly_errors, plain, print_json, run_and_exit, shown
from toc.diff import diff_tocs
from toc.errors import TocError
from toc.graph import pathway_record, pathways
from toc.lang import checked_lang
from toc.load import load_shipped, load_toc, parse_toc, resolve, shipped_paths
from toc.models import MAIN_LAYERS, TheoryOfChange
from toc.overlay import RESULT_STYLES
from toc.render import FORMATS, render
from toc.rules import validate_paths

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON (a stable contract for other tools).")]
SIDE_GROUPS = {
    "assumptions": "assumption",
    "preconditions": "precondition",
    "negative_effects": "negative_effect",
    "excluded_effects": "excluded_effect",
}


@app.command("list")
@friendly_errors
def list_tocs(as_json: JsonFlag = False) -> None:
    """Every shipped ToC with its node counts."""
    tocs = load_shipped().values()
    rows = [
        {"id": t.id, "title": t.title, "perspective": t.perspective, "timing": t.timing, "counts": t.counts()}
        for t in tocs
    ]
    if as_json:
        return print_json(rows)
    table = Table("id", "title", "perspective", "timing", *MAIN_LAYERS)
    for t in tocs:
        table.add_row(t.id, t.title, t.perspective, t.timing, *map(str, t.counts().values()))
    console.print(table)


@app.command()
@friendly_errors
def show(
    toc_id: Annotated[str, typer.Argument(help="ToC id or path to a ToC file.")], as_json: JsonFlag = False
) -> None:
    """Nodes, links, assumptions, preconditions, negative and excluded effects of one ToC."""
    toc = resolve(toc_id)
    data = _show_data(toc)
    if as_json:
        return print_json(data)
    console.print(f"[bold]{shown(toc.title)}[/bold] ({shown(toc.id)}) — {shown(toc.title_en)}")
    for layer in MAIN_LAYERS:
        _print_nodes(toc, layer)
    for layer in SIDE_GROUPS.values():
        _print_nodes(toc, layer)
    links = Table("source", "target", "origin", "rationale", title="links")
    for link in toc.links:
        links.add_row(*(shown(v) for v in (link.source, link.target, link.origin, link.rationale)))
    console.print(links)


def _show_data(toc: TheoryOfChange) -> dict:
    nodes = [n.model_dump(mode="json") for n in toc.nodes]
    data = toc.model_dump(mode="json", exclude={"nodes", "links"})
    data["counts"] = toc.counts()
    data["nodes"] = nodes
    data["links"] = [link.model_dump(mode="json") for link in toc.links]
    for group, layer in SIDE_GROUPS.items():
        data[group] = [n for n in nodes if n["layer"] == layer]
    return data


def _print_nodes(toc: TheoryOfChange, layer: str) -> None:
    nodes = toc.nodes_in(layer)
    if not nodes:
        return
    table = Table("nr", "id", "label (nl)", "label (en)", title=layer)
    for node in nodes:
        number = "" if node.number is None else str(node.number)
        table.add_row(number, *(shown(v) for v in (node.id, node.label_nl, node.label_en)))
    console.print(table)


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="ToC files; none: every shipped ToC and the indicator catalogue.")
    ] = None,
) -> None:
    """Exit 0 when valid; otherwise one line per problem and exit 1."""
    files = paths or shipped_paths()
    problems = [str(p) for p in validate_paths(files)]
    from measures.evaluation.assumptions import validate_checks  # checks name measures of the evaluation
    from measures.indicators.catalogue import validate_catalogue  # the catalogue points into the shipped ToCs

    loaded = {}
    for path in files:
        with contextlib.suppress(TocError):  # a file that does not load: its problems are listed above
            loaded[str(path)] = load_toc(path)
    problems += validate_checks(loaded)
    if not paths:
        with contextlib.suppress(TocError):
            problems += validate_catalogue()
    for line in problems:
        err_console.print(plain(line), markup=False, highlight=False)
    if problems:
        raise typer.Exit(1)
    console.print(
        f"valid: {len(paths or shipped_paths())} ToC file(s)" + ("" if paths else " and the indicator catalogue")
    )


@app.command("render")
@friendly_errors
def render_cmd(
    toc_id: Annotated[str, typer.Argument(help="ToC id or path to a ToC file.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help=f"One of {', '.join(FORMATS)}.")] = "svg",
    lang: Annotated[str, typer.Option(help="nl or en.")] = "nl",
    overlay: Annotated[
        Path | None, typer.Option(help="effects.csv of a run: colour nodes by what the data say.")
    ] = None,
) -> None:
    """Draw a ToC bottom to top in the report's colours, through Graphviz's dot."""
    toc = resolve(toc_id)
    path = render(toc, fmt, output, lang=checked_lang(lang), results=_overlay_results(toc, overlay))
    console.print(f"wrote {shown(path)}")


@app.command("paths")
@friendly_errors
def paths_cmd(
    toc_id: Annotated[str, typer.Argument(help="ToC id or path to a ToC file.")],
    start: Annotated[str, typer.Option("--from", help="Node id to start from.")],
    overlay: Annotated[
        Path | None, typer.Option(help="effects.csv of a run: say whether each node on a pathway improved.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Every pathway from a node up to the long-term effects, with its weakest link (and, with --overlay,
    what the run measured on each node)."""
    toc = resolve(toc_id)
    results = _overlay_results(toc, overlay)
    records = [pathway_record(toc, path, results) for path in pathways(toc, start)]
    if as_json:
        return print_json(records)
    labels = {n.id: n.label_nl for n in toc.nodes}
    for record in records:
        marks = {m["node"]: RESULT_STYLES[m["result"]].marker + " " for m in record.get("measured", [])}
        console.print(
            " → ".join(f"{marks.get(n, '')}{shown(labels[n])} [dim]({shown(n)})[/dim]" for n in record["nodes"])
        )
        if weakest := record["weakest_link"]:
            console.print(shown(f"   weakest link: {weakest['source']} → {weakest['target']} ({weakest['grade']})"))
    if not records:
        console.print(f"no pathway from {shown(start)} to a long-term effect")


def _overlay_results(toc: TheoryOfChange, overlay: Path | None):
    if overlay is None:
        return None
    from measures.indicators.node_results import node_results_from_effects_csv

    return node_results_from_effects_csv(toc.id, overlay)


@app.command("diff")
@friendly_errors
def diff_cmd(
    old: Annotated[str, typer.Argument(help="ToC id, file, or git version REV:path.")],
    new: Annotated[str, typer.Argument(help="ToC id, file, or git version REV:path.")],
    as_json: JsonFlag = False,
) -> None:
    """Nodes and links added, removed and changed between two ToC files or versions."""
    result = diff_tocs(_load_version(old), _load_version(new))
    if as_json:
        return print_json(result.as_dict())
    if result.empty:
        console.print("no differences")
    for title, items in (
        ("node added", result.nodes_added),
        ("node removed", result.nodes_removed),
        ("link added", result.links_added),
        ("link removed", result.links_removed),
    ):
        for item in items:
            console.print(plain(f"{title}: {item}"), markup=False)
    for title, changes in (("node changed", result.nodes_changed), ("link changed", result.links_changed)):
        for change in changes:
            for field, (was, now) in change.fields.items():
                console.print(plain(f"{title}: {change.key}.{field}: {was!r} -> {now!r}"), markup=False)


def _load_version(ref: str) -> TheoryOfChange:
    """A ToC from an id or a file, or from git (`HEAD~1:toc/data/x.yaml`) when the ref names a version."""
    if ":" in ref and not Path(ref).exists():
        rev, _, path = ref.partition(":")
        proc = subprocess.run(["git", "show", f"{rev}:{path}"], capture_output=True, text=True)
        if proc.returncode != 0:
            raise TocError(f"{ref}: {proc.stderr.strip() or 'not found in git'}")
        return parse_toc(proc.stdout, ref)
    return resolve(ref)


@app.command()
@friendly_errors
def coverage(
    toc_id: Annotated[str | None, typer.Argument(help="ToC id (default: every study's ToCs).")] = None,
    study: Annotated[
        str | None, typer.Option(help="A study design: its id (studies/ID.yaml) or the path to its file.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Each node of a ToC with its indicators, and the nodes without one; without a ToC, every study's ToCs
    against the study's own indicators. Exits with 1 when a ToC that a study evaluates has an output or effect
    without an indicator."""
    if toc_id is None:
        return _study_coverage(study, as_json)
    from measures.designs.load import all_designs
    from measures.indicators.catalogue import coverage as compute_coverage

    toc = resolve(toc_id)
    result = compute_coverage(toc)
    evaluated = any(toc.id in d.tocs for d in all_designs().values())
    if as_json:
        print_json(result)
    else:
        table = Table("layer", "node", "indicators", title=f"coverage of {toc.id}")
        for node in result["nodes"]:
            table.add_row(node["layer"], node["id"], ", ".join(node["indicators"]) or "[red]none[/red]")
        console.print(table)
        console.print(f"uncovered: {', '.join(result['uncovered']) or 'none'}")
    if evaluated and result["uncovered"]:
        raise typer.Exit(1)


def _study_coverage(study: str | None, as_json: bool) -> None:
    """Every study's (or one study's) ToCs against its indicators; exit 1 when a node is uncovered."""
    from measures.designs.load import all_designs, load_design, parse_design, uncovered

    if study is None:
        designs = list(all_designs().values())
    elif study.endswith((".yaml", ".yml")):
        designs = [parse_design(Path(study))]
    else:
        designs = [load_design(study)]
    rows = [{"study": d.id, "tocs": list(d.tocs), "uncovered": uncovered(d)} for d in designs]
    missing = [ref for row in rows for ref in row["uncovered"]]
    if as_json:
        print_json({"studies": rows, "uncovered": missing})
    else:
        for row in rows:
            shown = ", ".join(row["uncovered"]) or "none"
            console.print(f"{row['study']} ({', '.join(row['tocs'])}): uncovered: {shown}", markup=False)
    if missing:
        raise typer.Exit(1)


export_app = typer.Typer(no_args_is_help=True, help="A ToC as a causal DAG for other tools, on stdout.")
app.add_typer(export_app, name="export")


@export_app.command("dagitty")
@friendly_errors
def export_dagitty(toc_id: Annotated[str, typer.Argument(help="ToC id or path to a ToC file.")]) -> None:
    """dagitty syntax (dagitty.net, R dagitty): intervention as exposure, long-term effects as outcomes."""
    from measures.indicators.identification import pilot_dag
    from toc.export import to_dagitty

    sys.stdout.write(to_dagitty(pilot_dag(resolve(toc_id))))


@export_app.command("gml")
@friendly_errors
def export_gml(toc_id: Annotated[str, typer.Argument(help="ToC id or path to a ToC file.")]) -> None:
    """GML (DoWhy, networkx, Gephi): the same DAG, with roles, layers, labels and `observed` per node."""
    from measures.indicators.identification import pilot_dag
    from toc.export import to_gml

    sys.stdout.write(to_gml(pilot_dag(resolve(toc_id))))


def main() -> None:
    """The console script."""
    run_and_exit(app)


if __name__ == "__main__":
    main()
