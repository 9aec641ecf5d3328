"""Stage 5: indicator trends per group, and the effects (DiD, event study, baseline balance).

Each asset takes the delivery's panels, calls one function of `measures`, and stores the (already
suppressed) result in the warehouse, with the numbers the UI plots across runs as metadata.
"""

from typing import Any

import dagster as dg
import pandas as pd

from measures.evaluation.effects import baseline_balance, effects_tables
from measures.evaluation.event_studies import event_study_table, fragile
from measures.evaluation.group_means import group_means
from measures.evaluation.panels import Panels
from measures.evaluation.results import BALANCE, EFFECTS, EVENT_STUDY, RMST, TRENDS
from measures.evaluation.return_to_work import return_to_work as compute_return_to_work
from measures.evaluation.thresholds import BALANCE_THRESHOLD
from measures.evaluation.trends import indicator_trends as compute_trends
from measures.indicators.catalogue import ADMIN_MONTHLY, labels, units
from pipelines.delivery_assets import delivery_asset, delivery_of
from pipelines.metadata import image, markdown_table, result_schema, text_table
from pipelines.resources import RunOptions
from pipelines.studies import effects_over_time
from pipelines.warehouse import Warehouse
from report import plots
from report.build import flag_notes
from report.comparison import by_layer, comparison_columns, comparison_table
from report.text import TEXT
from toc.lang import checked_lang

#: The AO% trend at 200 dpi: 1240 px wide, legible when the UI shows it full width.
AO_DPI = 200

#: The effects followed from one evaluation to the next (the report's and the UI's estimate over time).
MAIN_EFFECTS = (*ADMIN_MONTHLY, "rtw_12m")


@delivery_asset(
    group_name="trends",
    kinds={"pandas", "duckdb"},
    metadata={"dagster/column_schema": result_schema(TRENDS), "dagster/table_name": "warehouse.trends"},
    description="Mean, 95% CI and n per indicator, group and period; cells of fewer people than the minimum are "
    "suppressed.",
)
def indicator_trends(
    context: dg.AssetExecutionContext, panels: Panels, warehouse: Warehouse, options: RunOptions
) -> dg.MaterializeResult:
    lang = checked_lang(options.lang)
    trends = compute_trends(panels.admin, panels.survey, panels.rtw, min_n=options.min_cell)
    warehouse.replace(delivery_of(context).key, {"trends": trends})
    names, unit, words = labels(lang), units(lang), TEXT[lang]
    shown = set(trends["indicator_id"])
    admin = [i for i in (*ADMIN_MONTHLY, "rtw_12m") if i in shown]
    survey = by_layer(sorted(shown - set(admin)), lang)
    ao = plots.trend_figure(trends, "ao_pct", names["ao_pct"], unit["ao_pct"], lang)
    return dg.MaterializeResult(
        metadata={
            # first on the page: both groups over time for every indicator, then AO% large
            "trends_administrative": image(
                plots.png(plots.trend_grid(trends, admin, names, unit, lang, 2)), words["trends"]
            ),
            "trends_questionnaires": image(
                plots.png(plots.trend_grid(trends, survey, names, unit, lang)), words["survey_trends"]
            ),
            "ao_pct_trend": image(plots.png(ao, dpi=AO_DPI), names["ao_pct"]),
            "dagster/row_count": len(trends),
            "suppressed_cells": int(trends["suppressed"].sum()),
        }
    )


@delivery_asset(
    group_name="effects",
    kinds={"pandas", "duckdb"},
    metadata={"dagster/column_schema": result_schema(EFFECTS), "dagster/table_name": "warehouse.effects"},
    check_specs=[
        dg.AssetCheckSpec(
            "ao_pct_estimated", asset="effects", description="The main administrative effect (AO%) could be estimated."
        )
    ],
    description="The primary effect per indicator (administrative: imputation with employee, calendar-month and "
    "absence-duration fixed effects) with few-cluster-robust inference (wild cluster bootstrap, randomisation "
    "inference over employers with one employer in an arm), Romano-Wolf q-values within families, flags; and "
    "every estimator's estimate (TWFE as published, imputation, Sun-Abraham).",
)
def effects(
    context: dg.AssetExecutionContext, panels: Panels, warehouse: Warehouse, options: RunOptions
) -> dg.MaterializeResult:
    lang = checked_lang(options.lang)
    evaluation = delivery_of(context)
    tables = effects_tables(panels.admin, panels.survey, panels.rtw, min_n=options.min_cell)
    table = tables.effects
    warehouse.replace(evaluation.key, {"effects": table, "estimates": tables.estimates})
    over_time = effects_over_time(warehouse, evaluation, MAIN_EFFECTS)
    means = group_means(panels.admin, panels.survey, panels.rtw, min_n=options.min_cell)
    ao = table.loc[table["indicator_id"] == "ao_pct"]
    estimated = bool(len(ao)) and pd.notna(ao["estimate"].iloc[0])
    metadata: dict[str, Any] = {
        # the comparison first: it is what the UI shows at the top of the asset
        "group_comparison": text_table(comparison_table(table, means, lang), list(comparison_columns(lang).values())),
        "estimand": TEXT[lang]["estimand"],
        "warnings": " ".join(flag_notes(table, lang)) or "none",
        "forest_plot": image(
            plots.png(plots.forest_figure(table, labels(lang), units(lang), lang)), TEXT[lang]["forest"]
        ),
        "n_indicators": len(table),
        "n_significant_q05": int((table["q_value"] < 0.05).sum()),
        # the interim results of the study so far: one point per delivery or cut-off, dated
        "effects_over_time": image(
            plots.png(plots.over_time_figure(over_time, MAIN_EFFECTS, labels(lang), units(lang), lang)),
            TEXT[lang]["over_time"],
        ),
        "evaluations": markdown_table(
            over_time.loc[over_time["indicator_id"] == "ao_pct"].assign(date=over_time["date"].dt.date),
            floatfmt=".4g",
        ),
    }
    if estimated:
        row = ao.iloc[0]
        metadata |= {
            "ao_pct_estimate": float(row["estimate"]),
            "ao_pct_ci_low": float(row["ci_low"]),
            "ao_pct_ci_high": float(row["ci_high"]),
            "ao_pct_p_value": float(row["p_value"]),
            "n_employers": int(row["n_employers"]),
            "n_employees": int(row["n_employees"]),
            "ao_pct_flags": str(row["flags"]) if pd.notna(row["flags"]) and row["flags"] else "none",
        }
    check = dg.AssetCheckResult(
        check_name="ao_pct_estimated",
        passed=estimated,
        metadata={"method": str(ao["method"].iloc[0]) if len(ao) else "no ao_pct data"},
    )
    return dg.MaterializeResult(metadata=metadata, check_results=[check])


@delivery_asset(
    group_name="effects",
    kinds={"pandas", "duckdb"},
    metadata={"dagster/column_schema": result_schema(EVENT_STUDY), "dagster/table_name": "warehouse.event_study"},
    check_specs=[
        dg.AssetCheckSpec(
            "parallel_pre_trends",
            asset="event_study",
            description="Honest-DiD sensitivity (Rambachan-Roth): no administrative effect is overturned by a "
            "violation of parallel trends no larger than the pre-period's own (breakdown value above the "
            "pre-period curvature).",
        )
    ],
    description="Effects per month relative to inclusion (reference month −1) and per wave; the joint pre-trend "
    "test (F and wild bootstrap) and the honest-DiD breakdown values as a sensitivity analysis.",
)
def event_study(
    context: dg.AssetExecutionContext, panels: Panels, warehouse: Warehouse, options: RunOptions
) -> dg.MaterializeResult:
    table = event_study_table(panels.admin, panels.survey, min_n=options.min_cell)
    warehouse.replace(delivery_of(context).key, {"event_study": table})
    sensitivity = fragile(table)
    first = table.loc[table["indicator_id"].isin(ADMIN_MONTHLY)].groupby("indicator_id")[
        ["pretrend_p", "pretrend_p_wild"]
    ]
    tests = first.first().dropna(how="all")
    pretrend = {f"{k}_pretrend_p_wild": float(v) for k, v in tests["pretrend_p_wild"].dropna().items()}
    honest = {f"{k}_{name}": value for k, values in sensitivity.items() for name, value in values.items()}
    check = dg.AssetCheckResult(
        check_name="parallel_pre_trends",
        passed=not any(v["fragile"] for v in sensitivity.values()),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={**honest, **pretrend} or {"note": "no significant administrative effect to overturn"},
    )
    lang = checked_lang(options.lang)
    fig = plots.event_figure(table, "ao_pct", labels(lang)["ao_pct"], units(lang)["ao_pct"], lang)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(table),
            "ao_pct_event_study": image(plots.png(fig), TEXT[lang]["event"]),
            **pretrend,
            **honest,
        },
        check_results=[check],
    )


@delivery_asset(
    group_name="effects",
    kinds={"pandas", "duckdb"},
    metadata={"dagster/column_schema": result_schema(RMST), "dagster/table_name": "warehouse.rmst"},
    description="Time to return to work: Kaplan-Meier curves per group and the restricted mean time to return "
    "within 12 months, with a bootstrap of employers (returns are events; other endings censor).",
)
def return_to_work(
    context: dg.AssetExecutionContext, panels: Panels, warehouse: Warehouse, options: RunOptions
) -> dg.MaterializeResult:
    result = compute_return_to_work(panels.survival, min_n=options.min_cell)
    warehouse.replace(delivery_of(context).key, {"survival_curves": result.curves, "rmst": result.rmst})
    row = result.rmst.iloc[0]
    metadata: dict[str, Any] = {"dagster/row_count": len(result.curves), "rmst_method": str(row["method"])}
    if pd.notna(row.get("difference")):
        metadata |= {k: float(row[k]) for k in ("difference", "ci_low", "ci_high")}
    return dg.MaterializeResult(metadata=metadata)


@delivery_asset(
    group_name="effects",
    kinds={"pandas", "duckdb"},
    metadata={"dagster/column_schema": result_schema(BALANCE), "dagster/table_name": "warehouse.balance"},
    check_specs=[
        dg.AssetCheckSpec(
            "baseline_balance",
            asset="balance",
            description=f"Standardised baseline differences below {BALANCE_THRESHOLD}.",
        )
    ],
    description="Baseline means per group (month before inclusion, t0 answers, months of absence at inclusion) and "
    "standardised differences.",
)
def balance(
    context: dg.AssetExecutionContext, panels: Panels, warehouse: Warehouse, options: RunOptions
) -> dg.MaterializeResult:
    variables = ["months_absent_at_inclusion", *ADMIN_MONTHLY, *sorted(panels.survey["indicator_id"].unique())]
    table = baseline_balance(panels.baseline, variables, min_n=options.min_cell)
    warehouse.replace(delivery_of(context).key, {"balance": table})
    worst = table["std_diff"].abs().max()
    worst = float(worst) if pd.notna(worst) else 0.0
    imbalanced = table.loc[table["std_diff"].abs() > BALANCE_THRESHOLD, "variable"].tolist()
    check = dg.AssetCheckResult(
        check_name="baseline_balance",
        passed=not imbalanced,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"imbalanced": ", ".join(imbalanced) or "none", "max_abs_std_diff": worst},
    )
    return dg.MaterializeResult(
        metadata={"dagster/row_count": len(table), "balance": markdown_table(table), "max_abs_std_diff": worst},
        check_results=[check],
    )
