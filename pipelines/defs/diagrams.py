"""Stage 6: the four AKC Theories of Change, plain and annotated with the run's effects."""

import dagster as dg

from measures.overlay import node_results
from pipelines.deliveries import DELIVERY_PARTITIONS
from pipelines.defs.analysis import effects
from pipelines.defs.common import OWNERS, delivery_of, image, out_dir
from pipelines.resources import RunOptions
from pipelines.warehouse import Warehouse
from toc.load import resolve
from toc.render import render

AKC_TOCS = ("werkgever-preventief", "werkgever-vroegtijdig", "werknemer-preventief", "werknemer-vroegtijdig")
#: The ToC shown in the UI: the employee perspective early in absence, where the pilot intervenes.
FEATURED = "werknemer-vroegtijdig"
PREVIEW_DPI = 50


@dg.asset(group_name="toc", partitions_def=DELIVERY_PARTITIONS, deps=[effects], owners=OWNERS, kinds={"graphviz"},
          description="The AKC ToCs rendered with Graphviz, each node coloured by the effect of its primary indicator.")
def toc_diagrams(context: dg.AssetExecutionContext, warehouse: Warehouse, options: RunOptions) -> dg.MaterializeResult:
    delivery = delivery_of(context)
    table = warehouse.read("effects", delivery.key)
    folder = out_dir(delivery, options) / "toc"
    metadata = {}
    for toc_id in AKC_TOCS:
        toc = resolve(toc_id)
        results = node_results(toc_id, table)
        render(toc, "svg", folder / f"{toc_id}.svg", lang=options.lang)
        render(toc, "svg", folder / f"{toc_id}-results.svg", lang=options.lang, results=results)
        render(toc, "png", folder / f"{toc_id}-results.png", lang=options.lang, results=results)
        metadata[f"{toc_id}_nodes_with_results"] = len(results)
        if toc_id == FEATURED:  # a preview that fits the UI's dialog; the file beside it is full size
            preview = render(toc, "png", folder / f"{toc_id}-results-preview.png", lang=options.lang,
                             results=results, dpi=PREVIEW_DPI)
            metadata["results_toc"] = image(preview.read_bytes(), f"{toc_id} with results")
    metadata["folder"] = dg.MetadataValue.path(str(folder))
    return dg.MaterializeResult(metadata=metadata)
