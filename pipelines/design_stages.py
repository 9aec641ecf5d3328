"""The later stages of a design's evaluation (`pipelines.design_assets` builds the assets): its own figures, the
integrity checks, the results-annotated ToCs and the outputs folder.

- figures: the design's own result tables (milestones.csv on a timeline, survival.csv for times to an event,
  trajectories.csv for symptom courses), stored in the warehouse, and its charts in the UI (the timeline, the
  cohorts, the Kaplan-Meier curves, the levels against their standard, the symptom courses).
- integrity: the assumptions and preconditions of its ToCs held against the run (assumptions.csv), and the run
  held against the study's pre-registered plan.
- toc: its ToCs rendered with each node coloured by its primary indicator's result.
- outputs: effects.csv, estimates.csv, trends.csv, the design's tables, assumptions.csv, quarantine.csv,
  warnings.csv, ingest.json, deliveries.csv, effects_over_time.csv, run.json and report.html, in the run's folder.
"""

import json
from typing import Any

import dagster as dg
import pandas as pd

from measures.designs.model import StudyDesign
from measures.evaluation.assumptions import assumptions_table
from measures.evaluation.design.describe import milestone_table, survival_table, trajectories
from measures.evaluation.design.frames import design_data
from measures.evaluation.design.integrity import design_assumptions, design_node_results
from pipelines.defs.outputs import package_version, write_json, write_run_tables
from pipelines.deliveries import Delivery, as_of, files_of
from pipelines.delivery_assets import delivery_asset, delivery_of, out_dir
from pipelines.metadata import image, markdown_table
from pipelines.preregistration import git_commit, run_comparison
from pipelines.resources import RunOptions
from pipelines.studies import delivery_table, effects_over_time
from pipelines.warehouse import Warehouse
from toc.lang import checked_lang
from toc.load import resolve
from toc.render import DPI, render, render_formats


def not_evaluable(design: StudyDesign, tables: dict[str, pd.DataFrame]) -> str | None:
    """Why the study cannot be evaluated yet (deliveries still to come), or None."""
    u = design.units
    clusters, people = tables.get(u.clusters, pd.DataFrame()), tables.get(u.people, pd.DataFrame())
    if not len(clusters):
        return f"no {u.clusters} yet"
    if not len(people):
        return f"no {u.people} yet"
    if design.has_groups:
        group = people[u.cluster].map(clusters.set_index(u.cluster)[u.group or "group"])
        missing = [g for g in ("intervention", "comparison") if not (group == g).any()]
        if missing:
            return f"no {u.people} in the {missing[0]} group yet"
    return None


def _design_tables(design: StudyDesign) -> list[str]:
    """The design's own result tables."""
    names = ["milestones"] if design.milestones else []
    names += ["survival"] if any(m.kind == "time_to_event" for m in design.measures.values()) else []
    names += ["trajectories"] if design.design == "feasibility-monitoring" else []
    return names


def design_figures(design: StudyDesign, key, common: dict, panel: dict) -> Any:
    @delivery_asset(
        key=key("figures"),
        ins=panel,
        deps=[key("trends"), key("effects")],
        kinds={"pandas", "duckdb"},
        description="The design's own tables (milestones, survival, trajectories) and charts.",
        **common,
    )
    def figures(context: dg.AssetExecutionContext, panels: dict, warehouse: Warehouse, options: RunOptions):
        from report import design_figures as charts  # matplotlib where the asset runs, not in the code server
        from report import plots

        evaluation = delivery_of(context)
        data = design_data(design, panels, pd.Timestamp(evaluation.cutoff) if evaluation.cutoff else None)
        makers = {"milestones": milestone_table, "survival": survival_table, "trajectories": trajectories}
        tables = {name: makers[name](data, options.min_cell) for name in _design_tables(design)}
        warehouse.replace(evaluation.key, tables)
        shown = warehouse.read_many(["trends", "effects"], evaluation.key) | tables
        metadata: dict[str, Any] = {f"{n}_rows": len(t) for n, t in tables.items()}
        start = charts.start_year(data.table(design.units.clusters), design)
        for name, (figure, alt) in charts.design_charts(design, shown, "nl", start).items():
            metadata[name] = image(plots.png(figure), alt)
        for name, table in tables.items():
            metadata[f"{name}_table"] = markdown_table(table, max_rows=40)
        return dg.MaterializeResult(metadata=metadata)

    return figures


def design_integrity(design: StudyDesign, key, common: dict, deps: list) -> Any:
    @delivery_asset(
        key=key("integrity"),
        deps=deps,
        kinds={"pandas", "duckdb"},
        check_specs=[
            dg.AssetCheckSpec(
                "preregistration_intact", asset=key("integrity"), description="The run follows the study's plan."
            )
        ],
        description="Assumptions and preconditions of the design's ToCs held against the run; the run held against "
        "the study's pre-registered plan.",
        **common,
    )
    def integrity(context: dg.AssetExecutionContext, warehouse: Warehouse, options: RunOptions):
        evaluation = delivery_of(context)
        effects = warehouse.read("effects", evaluation.key)
        table = assumptions_table(design_assumptions(design, effects, options.min_cell))
        comparison = run_comparison(warehouse, evaluation, effects, git_commit())
        warehouse.replace(
            evaluation.key,
            {"assumptions": table, "preregistration": pd.DataFrame([{"comparison": json.dumps(comparison)}])},
        )
        missing = comparison["plan_sha256"] is None
        check = dg.AssetCheckResult(
            check_name="preregistration_intact",
            passed=comparison["intact"],
            severity=dg.AssetCheckSeverity.WARN if missing else dg.AssetCheckSeverity.ERROR,
            metadata={"study": comparison["study"], "changes": str(len(comparison["changes"]))},
        )
        return dg.MaterializeResult(
            metadata={"assumptions": markdown_table(table), "plan_sha256": comparison["plan_sha256"] or "none"},
            check_results=[check],
        )

    return integrity


def design_toc(design: StudyDesign, key, common: dict, deps: list) -> Any:
    @delivery_asset(
        key=key("toc"),
        deps=deps,
        kinds={"graphviz"},
        description="The design's ToCs coloured by its results.",
        **common,
    )
    def toc(context: dg.AssetExecutionContext, warehouse: Warehouse, options: RunOptions):
        evaluation = delivery_of(context)
        effects = warehouse.read("effects", evaluation.key)
        checks = warehouse.read("assumptions", evaluation.key)
        folder, lang = out_dir(evaluation, options) / "toc", checked_lang(options.lang)
        metadata: dict[str, Any] = {}
        for toc_id in design.tocs:
            results = design_node_results(design, toc_id, effects)
            statuses = dict(zip(checks["item_id"], checks["status"], strict=True)) if len(checks) else {}
            toc = resolve(toc_id)
            render(toc, "svg", folder / f"{toc_id}.svg", lang=lang)
            annotated = {fmt: folder / f"{toc_id}-results.{fmt}" for fmt in ("svg", "png")}  # one layout for both
            render_formats(toc, annotated, lang=lang, results=results, dpi=DPI, statuses=statuses)
            metadata[f"{toc_id}_nodes_with_results"] = len(results)
            metadata[f"{toc_id}_results"] = image(
                (folder / f"{toc_id}-results.png").read_bytes(), f"{toc_id} with results"
            )
        return dg.MaterializeResult(metadata=metadata)

    return toc


def design_outputs(design: StudyDesign, key, common: dict, panel: dict, deps: list) -> Any:
    @delivery_asset(
        key=key("outputs"),
        ins=panel,
        deps=deps,
        kinds={"html", "csv"},
        description="effects.csv, estimates.csv, trends.csv, the design's tables, assumptions.csv, quarantine.csv, "
        "warnings.csv, ingest.json, deliveries.csv, effects_over_time.csv, run.json and report.html.",
        **common,
    )
    def outputs(context: dg.AssetExecutionContext, panels: dict, warehouse: Warehouse, options: RunOptions):
        from report.design_report import DesignReportInputs, build_design_report

        evaluation = delivery_of(context)
        folder = out_dir(evaluation, options)
        folder.mkdir(parents=True, exist_ok=True)
        names = ["effects", "estimates", "trends", "assumptions", "preregistration", *_design_tables(design)]
        tables = warehouse.read_many(names, evaluation.key)
        tables |= warehouse.read_many(["quarantine", "warnings", "ingest_summary"], evaluation.delivery_key)
        tables["deliveries"] = delivery_table(warehouse, as_of(evaluation))
        tables["effects_over_time"] = effects_over_time(warehouse, evaluation, (design.primary_indicator,))
        written = ("effects", "estimates", "trends", "assumptions", "deliveries", "effects_over_time")
        ingest, comparison = write_run_tables(tables, (*written, *_design_tables(design)), folder)
        write_json(_run_info(context, design, evaluation, options, comparison), folder / "run.json")
        inputs = DesignReportInputs(
            design=design,
            delivery=evaluation.key,
            cutoff=evaluation.cutoff,
            min_cell=options.min_cell,
            data=design_data(design, panels, pd.Timestamp(evaluation.cutoff) if evaluation.cutoff else None),
            tables=tables,
            ingest=ingest,
            preregistration=comparison,
            toc_svgs={
                t: (folder / "toc" / f"{t}-results.svg").read_text(encoding="utf-8")
                for t in design.tocs
                if (folder / "toc" / f"{t}-results.svg").exists()
            },
            study=evaluation.study,
        )
        (folder / "report.html").write_text(build_design_report(inputs, checked_lang(options.lang)), encoding="utf-8")
        return dg.MaterializeResult(
            metadata={
                "folder": dg.MetadataValue.path(str(folder)),
                "report": dg.MetadataValue.path(str(folder / "report.html")),
                "design": design.id,
                "study": evaluation.study,
                "deliveries": markdown_table(tables["deliveries"], max_rows=100),
            }
        )

    return outputs


def _run_info(
    context: dg.AssetExecutionContext, design: StudyDesign, evaluation: Delivery, options: RunOptions, comparison: dict
) -> dict:
    return {
        "package": "ad-pilot-toolkit",
        "version": package_version(),
        "git_commit": git_commit(),
        "design": design.id,
        "tocs": list(design.tocs),
        "contract_version": design.contract.version,
        "study": evaluation.study,
        "delivery": evaluation.key,
        "cutoff": evaluation.cutoff.isoformat() if evaluation.cutoff else None,
        "input_files": files_of(evaluation.delivery),
        "deliveries": [
            {"delivery": d.delivery_key, "delivery_date": d.date.isoformat(), "files": files_of(d)}
            for d in as_of(evaluation)
        ],
        "parameters": {"min_cell": options.min_cell, "lang": options.lang},
        "preregistration": comparison,
        "dagster_run_id": context.run.run_id,
    }
