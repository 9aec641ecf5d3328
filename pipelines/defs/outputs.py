"""Stage 7: the evaluation outputs of a run, written into one folder.

effects.csv, trends.csv, event_study.csv, balance.csv, assumptions.csv, quarantine.csv, warnings.csv, ingest.json,
run.json, narrative.nl.md, narrative.en.md and report.html (and the study's pre-registered plan, when there is one,
as preregistration.nl.md and .en.md). The CSVs hold no timestamps and have a fixed row order and number format, so
that the same drop gives the same bytes; run.json says what produced them and whether the run kept to the plan.
"""

import json
from importlib import metadata
from pathlib import Path

import dagster as dg
import pandas as pd

from measures.contract.tables import CONTRACT_VERSION
from measures.contract.validate import QUARANTINE_COLUMNS, WARNING_COLUMNS, IngestSummary
from measures.evaluation.assumptions import ASSUMPTION_COLUMNS, results_from_table
from measures.evaluation.calendar import run_calendar
from measures.evaluation.effects import EFFECT_COLUMNS, EVENT_COLUMNS
from measures.evaluation.group_means import group_means
from measures.evaluation.panels import Panels
from measures.evaluation.preregistration import plan_markdown
from measures.evaluation.trends import TREND_COLUMNS
from pipelines.defs.analysis import balance, effects, event_study, indicator_trends
from pipelines.defs.diagrams import AKC_TOCS, toc_diagrams
from pipelines.defs.integrity import assumptions, preregistration
from pipelines.deliveries import drop_of, file_checksums
from pipelines.delivery_assets import delivery_asset, delivery_of, out_dir
from pipelines.metadata import text_table
from pipelines.preregistration import git_commit, registrations, study_of
from pipelines.resources import RunOptions
from pipelines.warehouse import Warehouse
from report.build import ReportInputs, build_report
from report.findings import key_findings
from report.narrative import NarrativeInputs, narrative_markdown
from toc.lang import LANGS, checked_lang
from toc.load import resolve

FLOAT_FORMAT = "%.10g"
OUTPUT_FILES = (
    "effects.csv",
    "trends.csv",
    "event_study.csv",
    "balance.csv",
    "assumptions.csv",
    "quarantine.csv",
    "warnings.csv",
    "ingest.json",
    "run.json",
    "narrative.nl.md",
    "narrative.en.md",
    "report.html",
)


@delivery_asset(
    group_name="outputs",
    kinds={"html", "csv"},
    deps=[indicator_trends, effects, event_study, balance, assumptions, preregistration, toc_diagrams, "quarantine"],
    description="effects.csv, trends.csv, event_study.csv, balance.csv, assumptions.csv, quarantine.csv, warnings.csv, "
    "ingest.json, run.json, narrative.nl.md, narrative.en.md and report.html.",
)
def evaluation_outputs(
    context: dg.AssetExecutionContext, panels: Panels, warehouse: Warehouse, options: RunOptions
) -> dg.MaterializeResult:
    delivery = delivery_of(context)
    folder = out_dir(delivery, options)
    folder.mkdir(parents=True, exist_ok=True)
    tables = warehouse.read_many(
        [
            "effects",
            "trends",
            "event_study",
            "balance",
            "assumptions",
            "preregistration",
            "quarantine",
            "warnings",
            "ingest_summary",
        ],
        delivery.key,
    )
    _csv(tables["effects"], EFFECT_COLUMNS, folder / "effects.csv")
    _csv(tables["trends"], TREND_COLUMNS, folder / "trends.csv")
    _csv(tables["event_study"], EVENT_COLUMNS, folder / "event_study.csv")
    _csv(tables["balance"], list(tables["balance"].columns), folder / "balance.csv")
    _csv(tables["assumptions"], ASSUMPTION_COLUMNS, folder / "assumptions.csv")
    _csv(
        tables["quarantine"].sort_values(["table", "row"], kind="stable"), QUARANTINE_COLUMNS, folder / "quarantine.csv"
    )
    _csv(tables["warnings"].sort_values(["table", "row"], kind="stable"), WARNING_COLUMNS, folder / "warnings.csv")
    ingest = _ingest(tables["ingest_summary"])
    _json(ingest, folder / "ingest.json")
    comparison = json.loads(tables["preregistration"]["comparison"].iloc[0])
    provenance = {"calendar": run_calendar(panels.admin), "preregistration": comparison}
    _json(_run_info(context, delivery, options) | provenance, folder / "run.json")
    _plan_files(warehouse, delivery, folder)
    tocs = [resolve(t) for t in AKC_TOCS]
    checked = results_from_table(tables["assumptions"], {t.id: t for t in tocs})
    story = NarrativeInputs(tables["effects"], panels.tables["employers"], panels.tables["activities"], checked)
    for lang in LANGS:
        (folder / f"narrative.{lang}.md").write_text(narrative_markdown(tocs, story, lang), encoding="utf-8")
    inputs = ReportInputs(
        delivery=delivery.key,
        cutoff=delivery.cutoff,
        min_cell=options.min_cell,
        employers=panels.tables["employers"],
        activities=panels.tables["activities"],
        cases=panels.tables["cases"],
        survey=panels.survey,
        trends=tables["trends"],
        effects=tables["effects"],
        event_study=tables["event_study"],
        balance=tables["balance"],
        ingest=ingest,
        quarantine=tables["quarantine"],
        assumptions=checked,
        preregistration=comparison,
        toc_svgs={
            t: (folder / "toc" / f"{t}-results.svg").read_text(encoding="utf-8")
            for t in AKC_TOCS
            if (folder / "toc" / f"{t}-results.svg").exists()
        },
    )
    lang = checked_lang(options.lang)
    (folder / "report.html").write_text(build_report(inputs, lang), encoding="utf-8")
    means = group_means(panels.admin, panels.survey, panels.rtw, min_n=options.min_cell)
    findings = key_findings(tables["effects"], means, tables["balance"], tables["trends"], options.min_cell, lang)
    return dg.MaterializeResult(
        metadata={
            "report": dg.MetadataValue.path(str(folder / "report.html")),
            "main_effects": text_table(findings.main_effects, findings.main_effect_columns),
            "balance": dg.MetadataValue.text(findings.balance),
            "imbalanced_variables": ", ".join(findings.imbalanced) or "–",
            "suppressed": dg.MetadataValue.text(findings.suppression),
            **{f"suppressed_{table}": n for table, n in findings.suppressed.items()},
            "folder": dg.MetadataValue.path(str(folder)),
            "rows_in": sum(t["rows_in"] for t in ingest.values()),
            "rows_quarantined": sum(t["quarantined"] for t in ingest.values()),
            "cutoff": delivery.cutoff.isoformat() if delivery.cutoff else "–",  # "–": no cut-off, final results
        }
    )


def _csv(frame: pd.DataFrame, columns: list[str], path: Path) -> None:
    frame.reindex(columns=columns).to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def _json(data: dict, path: Path) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def _ingest(summary: pd.DataFrame) -> dict[str, dict]:
    """ingest.json: per table what became of its rows (names of dropped columns only, never values)."""
    records = [IngestSummary.from_row(r) for r in summary.sort_values("table").to_dict("records")]
    return {r.table: r.as_json() for r in records}


def _plan_files(warehouse: Warehouse, delivery, folder: Path) -> None:
    """The study's registered plan, readable, beside the results it governs (none: no files)."""
    history = registrations(warehouse, study_of(delivery))
    if not history:
        return
    earlier = [{"registered_on": r.registered_on, "plan_sha256": r.plan_sha256} for r in history[:-1]]
    for lang in LANGS:
        text = plan_markdown(history[-1].plan, lang, earlier)
        (folder / f"preregistration.{lang}.md").write_text(text, encoding="utf-8")


def _run_info(context: dg.AssetExecutionContext, delivery, options: RunOptions) -> dict:
    drop = drop_of(delivery)
    return {
        "package": "ad-pilot-toolkit",
        "version": _version(),
        "git_commit": git_commit(),
        "contract_version": CONTRACT_VERSION,
        "delivery": delivery.key,
        "cutoff": delivery.cutoff.isoformat() if delivery.cutoff else None,
        "input_files": file_checksums(drop),
        "parameters": {"min_cell": options.min_cell, "lang": options.lang},
        "dagster_run_id": context.run.run_id,
    }


def _version() -> str:
    try:
        return metadata.version("ad-pilot-toolkit")
    except metadata.PackageNotFoundError:
        return "unknown"
