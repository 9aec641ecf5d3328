"""Stage 6: the four AKC Theories of Change, plain and annotated with the run's effects."""

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import dagster as dg

from measures.indicators.node_results import node_results
from pipelines.defs.analysis import effects
from pipelines.delivery_assets import delivery_asset, delivery_of, out_dir
from pipelines.metadata import image
from pipelines.resources import RunOptions
from pipelines.warehouse import Warehouse
from toc.lang import checked_lang
from toc.load import resolve
from toc.render import DPI, render

AKC_TOCS = ("werkgever-preventief", "werkgever-vroegtijdig", "werknemer-preventief", "werknemer-vroegtijdig")
#: The ToC shown in the UI: the employee perspective early in absence, where the pilot intervenes.
FEATURED = "werknemer-vroegtijdig"
PREVIEW_DPI = 50


@delivery_asset(
    group_name="toc",
    deps=[effects],
    kinds={"graphviz"},
    description="The AKC ToCs rendered with Graphviz, each node coloured by the effect of its primary indicator.",
)
def toc_diagrams(context: dg.AssetExecutionContext, warehouse: Warehouse, options: RunOptions) -> dg.MaterializeResult:
    delivery = delivery_of(context)
    table = warehouse.read("effects", delivery.key)
    folder = out_dir(delivery, options) / "toc"
    results = {toc_id: node_results(toc_id, table) for toc_id in AKC_TOCS}
    jobs = []  # (toc, format, file name, results, dpi) of every diagram
    for toc_id in AKC_TOCS:
        toc = resolve(toc_id)
        jobs += [
            (toc, "svg", f"{toc_id}.svg", None, DPI),
            (toc, "svg", f"{toc_id}-results.svg", results[toc_id], DPI),
            (toc, "png", f"{toc_id}-results.png", results[toc_id], DPI),
        ]
    # a preview that fits the UI's dialog; the file beside it is full size
    jobs.append((resolve(FEATURED), "png", f"{FEATURED}-results-preview.png", results[FEATURED], PREVIEW_DPI))

    def draw(job) -> Path:
        toc, fmt, name, node_results_, dpi = job
        return render(toc, fmt, folder / name, lang=checked_lang(options.lang), results=node_results_, dpi=dpi)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:  # each render is a `dot` process
        paths = list(pool.map(draw, jobs))
    metadata: dict[str, Any] = {f"{toc_id}_nodes_with_results": len(results[toc_id]) for toc_id in AKC_TOCS}
    metadata["results_toc"] = image(paths[-1].read_bytes(), f"{FEATURED} with results")
    metadata["folder"] = dg.MetadataValue.path(str(folder))
    return dg.MaterializeResult(metadata=metadata)
