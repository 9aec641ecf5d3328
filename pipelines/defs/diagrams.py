"""Stage 6: the Theories of Change, plain and annotated with the run's effects and assumption checks.

The four AKC ToCs of the study are always drawn; a sister ToC (Passend Werk, Eigen Regie, ...) is drawn too
when the run measured one of its nodes. In the UI each results-annotated ToC is one metadata entry named after
its id, as SVG (sharp at any zoom, a tenth of the PNG's size); the folder beside it holds SVG and PNG files.
"""

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import dagster as dg

from measures.indicators.node_results import node_results
from pipelines.defs.analysis import effects
from pipelines.defs.integrity import assumptions
from pipelines.delivery_assets import delivery_asset, delivery_of, out_dir
from pipelines.metadata import svg_image
from pipelines.preregistration import STUDY_TOCS
from pipelines.resources import RunOptions
from pipelines.warehouse import Warehouse
from toc.lang import checked_lang, translated
from toc.load import load_shipped
from toc.render import DPI, render_formats

AKC_TOCS = STUDY_TOCS


@delivery_asset(
    group_name="toc",
    deps=[effects, assumptions],
    kinds={"graphviz"},
    description="The ToCs rendered with Graphviz, each node coloured by the effect of its primary indicator, each "
    "assumption and precondition marked by the outcome of its check: the four AKC ToCs, and each sister ToC with "
    "a node the run measured.",
)
def toc_diagrams(context: dg.AssetExecutionContext, warehouse: Warehouse, options: RunOptions) -> dg.MaterializeResult:
    delivery = delivery_of(context)
    lang = checked_lang(options.lang)
    stored = warehouse.read_many(["effects", "assumptions"], delivery.key)
    table, checks = stored["effects"], stored["assumptions"]
    folder = out_dir(delivery, options) / "toc"
    tocs = load_shipped()
    results = {toc_id: node_results(toc_id, table) for toc_id in tocs}
    statuses = {t: dict(zip(f["item_id"], f["status"], strict=True)) for t, f in checks.groupby("toc_id")}
    shown = [*AKC_TOCS, *(t for t in tocs if t not in AKC_TOCS and results[t])]
    # (toc id, format -> file name, with results): the annotated SVG and PNG share one layout
    jobs = [(t, {"svg": f"{t}.svg"}, False) for t in AKC_TOCS]
    jobs += [(t, {fmt: f"{t}-results.{fmt}" for fmt in ("svg", "png")}, True) for t in shown]

    def draw(job) -> dict[str, Path]:
        toc_id, names, annotated = job
        run = (results[toc_id], statuses.get(toc_id, {})) if annotated else (None, None)
        outputs = {fmt: folder / name for fmt, name in names.items()}
        return render_formats(tocs[toc_id], outputs, lang=lang, results=run[0], dpi=DPI, statuses=run[1])

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:  # each render is a Graphviz process
        list(pool.map(draw, jobs))
    metadata: dict[str, Any] = {}
    for toc_id in shown:  # one entry per ToC: the AKC four, then the sister ToCs
        svg = (folder / f"{toc_id}-results.svg").read_text(encoding="utf-8")
        metadata[f"ToC {toc_id}"] = svg_image(svg, translated(tocs[toc_id], "title", lang))
    metadata |= {f"{toc_id}_nodes_with_results": len(results[toc_id]) for toc_id in shown}
    metadata["folder"] = dg.MetadataValue.path(str(folder))
    return dg.MaterializeResult(metadata=metadata)
