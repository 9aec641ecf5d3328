"""Stage 7: the evaluation outputs of a run, written into one folder.

effects.csv, estimates.csv, trends.csv, event_study.csv, balance.csv, assumptions.csv, quarantine.csv,
warnings.csv, ingest.json, deliveries.csv, effects_over_time.csv, run.json, narrative.nl.md, narrative.en.md and
report.html (and the study's pre-registered plan, when there is one, as preregistration.nl.md and .en.md). Columns
come from the declared result tables (`measures.evaluation.results`). The CSVs hold no timestamps and have a fixed
row order and number format, so that the same deliveries give the same bytes; run.json says what produced them and
whether the run kept to the plan.

ingest.json, quarantine.csv and warnings.csv describe the evaluation's own delivery (the newest it assembles);
deliveries.csv lists every delivery of the study up to it, with what each added and revised;
effects_over_time.csv the main effects of every evaluation of the study up to this one.
"""

import json
from importlib import metadata
from pathlib import Path

import dagster as dg
import pandas as pd

from measures.contract.tables import CONTRACT_VERSION
from measures.contract.validate import IngestSummary
from measures.evaluation.assumptions import results_from_table
from measures.evaluation.calendar import run_calendar
from measures.evaluation.group_means import group_means
from measures.evaluation.panels import Panels
from measures.evaluation.preregistration import plan_markdown
from measures.evaluation.results import RESULTS, ResultTable
from pipelines.defs.analysis import MAIN_EFFECTS, balance, effects, event_study, indicator_trends, return_to_work
from pipelines.defs.diagrams import AKC_TOCS, toc_diagrams
from pipelines.defs.integrity import assumptions, preregistration
from pipelines.deliveries import Delivery, as_of, files_of
from pipelines.delivery_assets import delivery_asset, delivery_of, out_dir
from pipelines.metadata import markdown_table, text_table
from pipelines.preregistration import git_commit, registrations, study_of
from pipelines.resources import RunOptions
from pipelines.studies import delivery_table, effects_over_time
from pipelines.warehouse import Warehouse
from report.narrative import NarrativeInputs, narrative_markdown
from toc.lang import LANGS, checked_lang
from toc.load import resolve

FLOAT_FORMAT = "%.10g"
OUTPUT_FILES = (
    "effects.csv",
    "estimates.csv",
    "trends.csv",
    "event_study.csv",
    "balance.csv",
    "assumptions.csv",
    "quarantine.csv",
    "warnings.csv",
    "ingest.json",
    "deliveries.csv",
    "effects_over_time.csv",
    "run.json",
    "narrative.nl.md",
    "narrative.en.md",
    "report.html",
)


@delivery_asset(
    group_name="outputs",
    kinds={"html", "csv"},
    deps=[
        indicator_trends,
        effects,
        event_study,
        return_to_work,
        balance,
        assumptions,
        preregistration,
        toc_diagrams,
        "quarantine",
    ],
    description="effects.csv, estimates.csv, trends.csv, event_study.csv, balance.csv, assumptions.csv, "
    "quarantine.csv, warnings.csv, ingest.json, deliveries.csv, effects_over_time.csv, run.json, narrative.nl.md, "
    "narrative.en.md and report.html.",
)
def evaluation_outputs(
    context: dg.AssetExecutionContext, panels: Panels, warehouse: Warehouse, options: RunOptions
) -> dg.MaterializeResult:
    from report.build import ReportInputs, build_report  # the charts (matplotlib): where the report is built
    from report.findings import key_findings

    evaluation = delivery_of(context)
    folder = out_dir(evaluation, options)
    folder.mkdir(parents=True, exist_ok=True)
    results = ["effects", "estimates", "trends", "event_study", "balance", "assumptions", "preregistration"]
    tables = warehouse.read_many([*results, "survival_curves", "rmst"], evaluation.key)
    tables |= warehouse.read_many(["quarantine", "warnings", "ingest_summary"], evaluation.delivery_key)
    tables["deliveries"] = delivery_table(warehouse, as_of(evaluation))
    tables["effects_over_time"] = effects_over_time(warehouse, evaluation, MAIN_EFFECTS)
    written = ("effects", "estimates", "trends", "event_study", "balance", "assumptions", "deliveries")
    ingest, comparison = write_run_tables(tables, (*written, "effects_over_time"), folder)
    provenance = {"calendar": run_calendar(panels.admin), "tocs": list(AKC_TOCS), "preregistration": comparison}
    write_json(_run_info(context, evaluation, options) | provenance, folder / "run.json")
    _plan_files(warehouse, evaluation, folder)
    tocs = [resolve(t) for t in AKC_TOCS]
    checked = results_from_table(tables["assumptions"], {t.id: t for t in tocs})
    story = NarrativeInputs(tables["effects"], panels.tables["employers"], panels.tables["activities"], checked)
    for lang in LANGS:
        (folder / f"narrative.{lang}.md").write_text(narrative_markdown(tocs, story, lang), encoding="utf-8")
    inputs = ReportInputs(
        delivery=evaluation.key,
        cutoff=evaluation.cutoff,
        min_cell=options.min_cell,
        employers=panels.tables["employers"],
        activities=panels.tables["activities"],
        cases=panels.tables["cases"],
        survey=panels.survey,
        trends=tables["trends"],
        effects=tables["effects"],
        estimates=tables["estimates"],
        event_study=tables["event_study"],
        survival_curves=tables["survival_curves"],
        rmst=tables["rmst"],
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
        study=evaluation.study,
        deliveries=tables["deliveries"],
        over_time=tables["effects_over_time"],
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
            "cutoff": evaluation.cutoff.isoformat() if evaluation.cutoff else "–",  # "–": no cut-off, final results
            "study": evaluation.study,
            "n_deliveries": int(tables["deliveries"]["delivery"].nunique()),
            # the study's deliveries up to this evaluation, with what each added and revised (deliveries.csv)
            "deliveries": markdown_table(
                tables["deliveries"].assign(delivery_date=tables["deliveries"]["delivery_date"].dt.date), max_rows=100
            ),
        }
    )


def write_run_tables(tables: dict[str, pd.DataFrame], names: tuple[str, ...], folder: Path) -> tuple[dict, dict]:
    """The run's result tables `names` as their CSV files, quarantine.csv and warnings.csv, and ingest.json (every
    design writes them alike); returns what ingest.json holds and the run held against its plan."""
    for name in names:
        _csv(tables[name], RESULTS[name], folder)
    for name in ("quarantine", "warnings"):
        _csv(tables[name].sort_values(["table", "row"], kind="stable"), RESULTS[name], folder)
    ingest = _ingest(tables["ingest_summary"])
    write_json(ingest, folder / "ingest.json")
    return ingest, json.loads(tables["preregistration"]["comparison"].iloc[0])


def _csv(frame: pd.DataFrame, table: ResultTable, folder: Path) -> None:
    """A result table as its declared CSV file: the declared columns in their order, a fixed number format."""
    assert table.file is not None, table.name
    frame.reindex(columns=table.csv_columns).to_csv(
        folder / table.file, index=False, float_format=FLOAT_FORMAT, lineterminator="\n", date_format="%Y-%m-%d"
    )


def write_json(data: dict, path: Path) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def _ingest(summary: pd.DataFrame) -> dict[str, dict]:
    """ingest.json: per table what became of its rows (names of dropped columns only, never values)."""
    records = [IngestSummary.from_row(r) for r in summary.sort_values("table").to_dict("records")]
    return {r.table: r.as_json() for r in records}


def _plan_files(warehouse: Warehouse, delivery: Delivery, folder: Path) -> None:
    """The study's registered plan, readable, beside the results it governs (none: no files)."""
    history = registrations(warehouse, study_of(delivery))
    if not history:
        return
    earlier = [{"registered_on": r.registered_on, "plan_sha256": r.plan_sha256} for r in history[:-1]]
    for lang in LANGS:
        text = plan_markdown(history[-1].plan, lang, earlier)
        (folder / f"preregistration.{lang}.md").write_text(text, encoding="utf-8")


def _run_info(context: dg.AssetExecutionContext, evaluation: Delivery, options: RunOptions) -> dict:
    return {
        "package": "ad-pilot-toolkit",
        "version": package_version(),
        "git_commit": git_commit(),
        "contract_version": CONTRACT_VERSION,
        "study": evaluation.study,
        "delivery": evaluation.key,
        "cutoff": evaluation.cutoff.isoformat() if evaluation.cutoff else None,
        "input_files": files_of(evaluation.delivery),  # the evaluation's own delivery
        "deliveries": [  # every delivery the evaluation assembles, oldest first
            {"delivery": d.delivery_key, "delivery_date": d.date.isoformat(), "files": files_of(d)}
            for d in as_of(evaluation)
        ],
        "parameters": {"min_cell": options.min_cell, "lang": options.lang},
        "dagster_run_id": context.run.run_id,
    }


def package_version() -> str:
    try:
        return metadata.version("ad-pilot-toolkit")
    except metadata.PackageNotFoundError:
        return "unknown"
