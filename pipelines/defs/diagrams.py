"""Stage 6: the four AKC Theories of Change, plain and annotated with the run's effects."""

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import dagster as dg

from measures.indicators.node_results import node_results
from pipelines.defs.analysis import effects
from pipelines.defs.integrity import assumptions
from pipelines.delivery_assets import delivery_asset, delivery_of, out_dir
from pipelines.metadata import image
from pipelines.preregistration import STUDY_TOCS
from pipelines.resources import RunOptions
from pipelines.warehouse import Warehouse
from toc.lang import checked_lang
from toc.load import resolve
from toc.render import DPI, render

AKC_TOCS = STUDY_TOCS
#: The ToC shown in the UI: the employee perspective early in absence, where the pilot intervenes.
FEATURED = "werknemer-vroegtijdig"
PREVIEW_DPI = 50


@delivery_asset(
    group_name="toc",
    deps=[effects, assumptions],
    kinds={"graphviz"},
    description="The AKC ToCs rendered with Graphviz, each node coloured by the effect of its primary indicator, "
    "each assumption and precondition marked by the outcome of its check.",
)
def toc_diagrams(context: dg.AssetExecutionContext, warehouse: Warehouse, options: RunOptions) -> dg.MaterializeResult:
    delivery = delivery_of(context)
    table = warehouse.read("effects", delivery.key)
    folder = out_dir(delivery, options) / "toc"
    results = {toc_id: node_results(toc_id, table) for toc_id in AKC_TOCS}
    checks = warehouse.read("assumptions", delivery.key)
    statuses = {t: dict(zip(f["item_id"], f["status"], strict=True)) for t, f in checks.groupby("toc_id")}
    jobs = []  # (toc, format, file name, results, statuses, dpi) of every diagram
    for toc_id in AKC_TOCS:
        toc, run = resolve(toc_id), (results[toc_id], statuses.get(toc_id, {}))
        jobs += [
            (toc, "svg", f"{toc_id}.svg", (None, None), DPI),
            (toc, "svg", f"{toc_id}-results.svg", run, DPI),
            (toc, "png", f"{toc_id}-results.png", run, DPI),
        ]
    # a preview that fits the UI's dialog; the file beside it is full size
    featured = (results[FEATURED], statuses.get(FEATURED, {}))
    jobs.append((resolve(FEATURED), "png", f"{FEATURED}-results-preview.png", featured, PREVIEW_DPI))

    def draw(job) -> Path:
        toc, fmt, name, (node_results_, statuses_), dpi = job
        lang = checked_lang(options.lang)
        return render(toc, fmt, folder / name, lang=lang, results=node_results_, dpi=dpi, statuses=statuses_)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:  # each render is a `dot` process
        paths = list(pool.map(draw, jobs))
    metadata: dict[str, Any] = {f"{toc_id}_nodes_with_results": len(results[toc_id]) for toc_id in AKC_TOCS}
    metadata["results_toc"] = image(paths[-1].read_bytes(), f"{FEATURED} with results")
    metadata["folder"] = dg.MetadataValue.path(str(folder))
    return dg.MaterializeResult(metadata=metadata)
