"""Charts of the study designs other than the AKC pilot: cohorts, the timeline, levels and symptom courses.

Each takes an already-suppressed table and returns a Figure (`report.plots.png`/`svg` turn it into bytes). Groups
keep one look everywhere (`report.plots.GROUP_STYLE` and `BREAKDOWN_STYLE`: colour, marker, line style, and a legend); a suppressed
cell is a gap, never a zero.

- `cohort_figure`: an indicator's mean per cohort year and group, with its 95% interval, a dotted line where
  the intervention started.
- `timeline_figure`: the timeline in weeks since the sick report; per milestone its window (grey band) and
  deadline (tick), per group the median week the step was taken with its interquartile range, and the share
  taken in time as text; the ToC's reference dates as faint lines with their week on top.
- `levels_figure`: the levels a feasibility study estimates, with their interval and the target held against.
- `trajectory_figure`: per symptom (small multiples) the mean score per two weeks since inclusion and group.
"""

from __future__ import annotations

import textwrap

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from report.design_text import DESIGN_TEXT
from report.plots import BREAKDOWN_STYLE, GROUP_STYLE, SIZES, _figure
from report.text import TEXT
from toc.lang import Lang, number

#: Vertical offset of each group's marker within a milestone's row of the timeline.
_OFFSET = {"comparison": 0.18, "intervention": -0.18}


def group_label(group: str, lang: Lang) -> str:
    return TEXT[lang].get(group) or DESIGN_TEXT[lang].get(group, group)


def _style(group: str) -> dict:
    return (GROUP_STYLE | BREAKDOWN_STYLE).get(group, {"color": "#333333", "marker": "o", "linestyle": "-"})


def cohort_figure(trends: pd.DataFrame, indicator: str, title: str, unit: str, start_year: int, lang: Lang) -> Figure:
    rows = trends.loc[trends["indicator_id"] == indicator]
    fig, ax = _figure(figsize=SIZES["wide"])
    for group in sorted(rows["group"].unique()):
        part = rows.loc[rows["group"] == group].assign(_x=lambda f: pd.to_numeric(f["period"], errors="coerce"))
        part = part.dropna(subset=["_x"]).sort_values("_x")
        x, mean, low, high = (
            pd.to_numeric(part[c], errors="coerce").to_numpy(float) for c in ("_x", "mean", "ci_low", "ci_high")
        )
        style = _style(group)
        shift = 0.06 if group == "comparison" else -0.06
        ax.errorbar(x + shift, mean, yerr=[mean - low, high - mean], capsize=3, label=group_label(group, lang), **style)
    ax.axvline(start_year - 0.5, color="#777777", linewidth=0.8, linestyle=":")
    ax.text(
        start_year - 0.45,
        1.0,
        DESIGN_TEXT[lang]["introduced"],
        transform=ax.get_xaxis_transform(),
        fontsize=7,
        va="top",
    )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(DESIGN_TEXT[lang]["axis_cohort"])
    ax.set_ylabel(unit)
    ax.set_title(title, loc="left", fontsize=10)
    ax.legend(frameon=False, fontsize=8, ncols=2, loc="best")
    fig.tight_layout()
    return fig


def timeline_figure(
    milestones: pd.DataFrame,
    labels: dict[str, str],
    reference_weeks: list[int],
    lang: Lang,
) -> Figure:
    steps = list(dict.fromkeys(milestones["milestone"]))
    groups = sorted(milestones["group"].unique())
    fig, ax = _figure(figsize=(7.6, 0.5 * len(steps) + 1.5))
    right = max(float(milestones["due_week"].max()) + 8, max(reference_weeks, default=0) + 4)
    for week in reference_weeks:
        ax.axvline(week, color="#dddddd", linewidth=0.8, zorder=0)
    for row, step in enumerate(steps):
        y = len(steps) - 1 - row
        part = milestones.loc[milestones["milestone"] == step]
        first = part.iloc[0]
        start, due = float(first["due_from_week"]), float(first["due_week"])
        ax.fill_between([min(start, due - 1), due], y - 0.38, y + 0.38, color="#e6e6e6", zorder=0)
        ax.plot([due, due], [y - 0.38, y + 0.38], color="#555555", linewidth=1.2)
        for column, r in enumerate(part.itertuples()):
            style = _style(r.group)
            share = DESIGN_TEXT[lang]["hidden"] if r.suppressed else f"{number(100 * r.on_time, 0, lang)}%"
            ax.text(
                1.02 + 0.1 * column,
                y,
                share,
                transform=ax.get_yaxis_transform(),
                va="center",
                fontsize=7.5,
                color=style["color"],
            )
            if not r.suppressed and pd.notna(r.median_week):
                offset = _OFFSET.get(r.group, 0.0)
                ax.plot([r.q1_week, r.q3_week], [y + offset] * 2, color=style["color"], linewidth=2, alpha=0.6)
                ax.plot(
                    [r.median_week],
                    [y + offset],
                    marker=style["marker"],
                    color=style["color"],
                    markersize=5,
                    linestyle="none",
                )
    ax.text(1.02, len(steps) - 0.45, DESIGN_TEXT[lang]["on_time"], transform=ax.get_yaxis_transform(), fontsize=7.5)
    for group in groups:
        style = _style(group)
        ax.plot([], [], marker=style["marker"], color=style["color"], linestyle="-", label=group_label(group, lang))
    wrapped = [textwrap.fill(labels.get(s, s), 34) for s in reversed(steps)]
    ax.set_yticks(range(len(steps)), wrapped, fontsize=7)
    ax.set_xlim(0, right)
    ax.set_ylim(-0.6, len(steps) - 0.4)
    top = ax.secondary_xaxis("top")
    top.set_xticks(reference_weeks, [str(w) for w in reference_weeks], fontsize=6.5, rotation=90)
    ax.set_xlabel(DESIGN_TEXT[lang]["axis_weeks_since_report"])
    fig.legend(frameon=False, fontsize=7.5, ncols=len(groups), loc="lower center")
    fig.tight_layout(rect=(0, 0.05, 0.93, 1))
    return fig


def levels_figure(
    levels: pd.DataFrame, labels: dict[str, str], units: dict[str, str], targets: dict[str, float], lang: Lang
) -> Figure:
    """One panel per indicator: the level overall (black) and per group, each with its 95% interval."""
    shown = list(dict.fromkeys(levels["indicator_id"]))
    columns = min(max(len(shown), 1), 2)
    rows_ = max(-(-len(shown) // columns), 1)
    fig, axes = _figure(rows_, columns, figsize=(3.6 * columns, 1.6 * rows_ + 0.4), squeeze=False)
    for ax, indicator in zip(axes.flat, shown, strict=False):
        part = levels.loc[levels["indicator_id"] == indicator].reset_index(drop=True)
        for y, r in enumerate(part.itertuples()):
            style = _style(r.group) if r.group != "all" else {"color": "#111111", "marker": "D"}
            if pd.notna(r.mean):
                ax.errorbar(
                    [r.mean],
                    [y],
                    xerr=[[r.mean - r.ci_low], [r.ci_high - r.mean]],
                    fmt=style["marker"],
                    color=style["color"],
                    capsize=2,
                    markersize=4,
                )
        if indicator in targets:
            ax.axvline(targets[indicator], color="#D55E00", linewidth=1, linestyle="--")
            ax.text(
                targets[indicator],
                len(part) - 0.4,
                DESIGN_TEXT[lang]["target"],
                color="#D55E00",
                fontsize=7,
                ha="center",
            )
        ax.set_yticks(range(len(part)), [group_label(g, lang) for g in part["group"]], fontsize=7.5)
        ax.set_ylim(-0.6, len(part) - 0.2)
        ax.set_title(labels.get(indicator, indicator), loc="left", fontsize=8.5)
        ax.set_xlabel(units.get(indicator, ""), fontsize=7.5)
    for ax in list(axes.flat)[len(shown) :]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def trajectory_figure(trajectories: pd.DataFrame, symptom_labels: dict[str, str], lang: Lang) -> Figure:
    symptoms = list(dict.fromkeys(trajectories["symptom"]))
    columns = min(max(len(symptoms), 1), 3)
    rows_ = max(-(-len(symptoms) // columns), 1)
    fig, axes = _figure(rows_, columns, figsize=(3.0 * columns, 2.2 * rows_ + 0.3), squeeze=False, sharey=True)
    for ax, symptom in zip(axes.flat, symptoms, strict=False):
        part = trajectories.loc[trajectories["symptom"] == symptom]
        for group in sorted(part["group"].unique()):
            mine = part.loc[part["group"] == group].sort_values("week")
            x, mean, low, high = (
                pd.to_numeric(mine[c], errors="coerce").to_numpy(float) for c in ("week", "mean", "ci_low", "ci_high")
            )
            style = _style(group)
            ax.fill_between(x, low, high, color=style["color"], alpha=0.15, linewidth=0)
            ax.plot(x, mean, label=group_label(group, lang), markersize=3, **style)
        ax.set_ylim(0, 10)
        ax.set_title(symptom_labels.get(symptom, symptom), loc="left", fontsize=8.5)
        ax.set_xlabel(DESIGN_TEXT[lang]["axis_weeks_since_inclusion"], fontsize=7.5)
    axes.flat[0].set_ylabel(DESIGN_TEXT[lang]["axis_score"], fontsize=7.5)
    axes.flat[0].legend(frameon=False, fontsize=7, loc="lower left")
    for ax in list(axes.flat)[len(symptoms) :]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def empty_figure() -> Figure:
    fig, ax = _figure(figsize=(6.2, 1.0))
    ax.axis("off")
    ax.text(0.5, 0.5, "—", ha="center")
    return fig


def survival_figure(curves: pd.DataFrame, lang: Lang, axis: str = "axis_weeks_since_report") -> Figure:
    """Kaplan-Meier "not yet back" steps per group, and per period in a cohort design (before: thin and
    faded, after: full), ending where too few people are left at risk to show."""
    fig, ax = _figure(figsize=SIZES["wide"])
    for (group, period), part in curves.groupby(["group", "period"], sort=True):
        style = _style(str(group))
        part = part.sort_values("week")
        before = period == "before"
        label = group_label(str(group), lang) + ("" if period == "all" else f" ({DESIGN_TEXT[lang][str(period)]})")
        weeks = [0.0, *part["week"].to_numpy(float)]
        still = [1.0, *part["survival"].to_numpy(float)]
        ax.step(
            weeks,
            still,
            where="post",
            color=style["color"],
            linestyle=":" if before else style["linestyle"],
            alpha=0.55 if before else 1.0,
            linewidth=1.0 if before else 1.6,
            label=label,
        )
        ax.plot(weeks[-1:], still[-1:], style["marker"], color=style["color"], alpha=0.55 if before else 1.0)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(DESIGN_TEXT[lang][axis])
    ax.set_ylabel(DESIGN_TEXT[lang]["axis_not_back"])
    ax.legend(frameon=False, fontsize=7.5, ncols=2, loc="best")
    fig.tight_layout()
    return fig
