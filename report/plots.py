"""Charts for the report and the Dagster UI (matplotlib, Okabe-Ito colours, a marker as second cue).

Each function takes a tidy, already-suppressed table and returns a Figure; `png` and `svg` turn it into
bytes for the UI or inline markup for the report. The two groups look the same everywhere.
"""

from __future__ import annotations

import io
import textwrap
from typing import Any

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D  # figures without pyplot: no global figure registry, nothing to close
from matplotlib.ticker import MaxNLocator

from report.text import TEXT
from toc.lang import Lang

#: One look per group, everywhere: colour (Okabe-Ito), marker and line style.
GROUP_STYLE: dict[str, dict[str, Any]] = {
    "intervention": {"color": "#0072B2", "marker": "o", "linestyle": "-"},
    "comparison": {"color": "#E69F00", "marker": "s", "linestyle": "--"},
}
#: A study without a comparison group shows its breakdown instead (the physicians' professions), in looks of
#: their own (`report.design_plots`).
BREAKDOWN_STYLE: dict[str, dict[str, Any]] = {
    "bedrijfsarts": {"color": "#009E73", "marker": "^", "linestyle": "-"},
    "verzekeringsarts": {"color": "#CC79A7", "marker": "D", "linestyle": "-."},
}
matplotlib.rcParams.update(
    {
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "figure.dpi": 100,
        "svg.fonttype": "none",
        "svg.hashsalt": "ad-pilot-toolkit",  # element ids from a fixed salt: the same chart gives the same bytes
    }
)


def _figure(*grid: int, figsize: tuple[float, float], **kwargs) -> tuple[Figure, Any]:
    """A figure and its axes, as `pyplot.subplots` gives them (rendered by savefig through Agg or SVG)."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(*grid, **kwargs)


#: Figure sizes in inches: a full-width chart, and one of the small multiples in a grid.
SIZES = {"wide": (6.2, 2.9), "small": (3.6, 2.3)}


def trend_figure(
    trends: pd.DataFrame, indicator: str, title: str, unit: str, lang: Lang = "nl", size: str = "wide"
) -> Figure:
    """Mean per period for both groups with a 95% band; suppressed cells are gaps, not zeros."""
    fig, ax = _figure(figsize=SIZES[size])
    _draw_trend(ax, trends.loc[trends["indicator_id"] == indicator], title, unit, lang, size)
    fig.tight_layout()
    return fig


def trend_grid(
    trends: pd.DataFrame,
    indicators: list[str],
    labels: dict[str, str],
    units: dict[str, str],
    lang: Lang = "nl",
    columns: int = 4,
) -> Figure:
    """Small multiples: one trend panel per indicator (both groups, bands, suppressed cells marked), in the
    order given, `columns` panels a row."""
    shown = [i for i in indicators if (trends["indicator_id"] == i).any()] or [""]
    columns = min(columns, len(shown))
    rows = -(-len(shown) // columns)
    width, height = SIZES["small"]
    fig, axes = _figure(rows, columns, figsize=(width * columns, height * rows), squeeze=False)
    for ax, indicator in zip(axes.flat, shown, strict=False):
        rows_ = trends.loc[trends["indicator_id"] == indicator]
        _draw_trend(ax, rows_, labels.get(indicator, indicator), units.get(indicator, ""), lang, "small", False)
    for ax in list(axes.flat)[len(shown) :]:
        ax.axis("off")
    hidden = trends.loc[trends["indicator_id"].isin(shown), "suppressed"]
    handles = _legend_handles(lang, suppressed=bool((pd.to_numeric(hidden, errors="coerce") == 1).any()))
    top = 0.35 / fig.get_figheight()  # the legend's strip above the panels, in figure fractions
    fig.legend(handles=handles, loc="upper center", ncols=len(handles), frameon=False, fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 1 - top))
    return fig


def _legend_handles(lang: Lang, suppressed: bool) -> list[Line2D]:
    """The groups' looks (and the suppressed-cell cross) once for a grid of panels."""
    handles = [Line2D([], [], markersize=4, label=TEXT[lang][g], **style) for g, style in GROUP_STYLE.items()]
    if suppressed:
        label = TEXT[lang]["suppressed"]
        handles.append(Line2D([], [], marker="x", linestyle="none", color="#555555", label=label))
    return handles


def _draw_trend(ax, rows: pd.DataFrame, title: str, unit: str, lang: Lang, size: str, legend: bool = True) -> None:
    """One indicator's trend on `ax`. A suppressed cell leaves a gap in its group's line and a cross on the
    axis below it, so that a reader sees that a value is withheld, not that it is missing or zero."""
    waves = not rows["period"].astype(str).str.lstrip("-").str.isdigit().all()
    for group, style in GROUP_STYLE.items():
        part = rows.loc[rows["group"] == group]
        if part.empty:
            continue
        if not waves:  # months in numeric order, whatever order the table has
            part = part.assign(_x=part["period"].astype(int)).sort_values("_x")
        x = (part["period"].astype(str) if waves else part["_x"]).to_numpy()
        mean, low, high = (
            pd.to_numeric(part[c], errors="coerce").to_numpy(float) for c in ("mean", "ci_low", "ci_high")
        )
        label = TEXT[lang][group]
        if len(x) == 1:  # one period (a share at 12 months): intervals side by side, not a band
            shift = -0.06 if group == "intervention" else 0.06
            ax.errorbar(
                [shift],
                mean,
                yerr=[mean - low, high - mean],
                label=label,
                capsize=3,
                markersize=5,
                color=style["color"],
                marker=style["marker"],
                linestyle="none",
            )
            ax.set_xticks([0], [str(x[0])])
            ax.set_xlim(-0.5, 0.5)
            x = np.array([shift])
        else:
            ax.fill_between(x, low, high, color=style["color"], alpha=0.15, linewidth=0)
            ax.plot(x, mean, label=label, markersize=4 if size == "wide" else 3, **style)
        hidden = (pd.to_numeric(part["suppressed"], errors="coerce").fillna(0) == 1).to_numpy()
        if hidden.any():  # at the foot of the axes, in the group's colour, one group above the other
            ax.plot(
                x[hidden],
                np.full(int(hidden.sum()), 0.03 if group == "intervention" else 0.08),
                transform=ax.get_xaxis_transform(),
                marker="x",
                markersize=5 if size == "wide" else 4,
                linestyle="none",
                color=style["color"],
                label=f"{label}: {TEXT[lang]['suppressed']}",
            )
    if not waves:
        ax.axvline(-0.5, color="#777777", linewidth=0.8, linestyle=":")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # whole months
    ax.set_xlabel(TEXT[lang]["axis_wave" if waves else "axis_rel"], fontsize=None if size == "wide" else 7.5)
    ax.set_ylabel(unit, fontsize=None if size == "wide" else 7.5)
    ax.set_title(
        title if size == "wide" else textwrap.fill(title, 48), loc="left", fontsize=10 if size == "wide" else 8
    )
    if legend:
        ax.legend(frameon=False, fontsize=8 if size == "wide" else 6.5, ncols=2, loc="best")


def forest_figure(effects: pd.DataFrame, labels: dict[str, str], units: dict[str, str], lang: Lang = "nl") -> Figure:
    """Effects with 95% CIs, one panel per unit (percentage points, days, scale points, share)."""
    rows = effects.dropna(subset=["estimate"]).copy()
    rows["unit"] = rows["indicator_id"].map(units).fillna("")
    groups = [(u, g) for u, g in rows.groupby("unit", sort=True)]
    if not groups:
        fig, ax = _figure(figsize=(6.2, 1.0))
        ax.axis("off")
        ax.text(0.5, 0.5, "—", ha="center")
        return fig
    heights = [max(len(g), 1) * 0.28 + 0.6 for _, g in groups]
    fig, axes = _figure(
        len(groups), 1, figsize=(7.2, sum(heights)), gridspec_kw={"height_ratios": heights}, squeeze=False
    )
    for ax, (unit, group) in zip(axes[:, 0], groups, strict=True):
        group = group.iloc[::-1]
        y = np.arange(len(group))
        est, low, high = (group[c].to_numpy(float) for c in ("estimate", "ci_low", "ci_high"))
        ax.errorbar(
            est,
            y,
            xerr=[est - low, high - est],
            fmt="D",
            color="#333333",
            ecolor="#333333",
            markersize=4,
            capsize=2,
            linewidth=1,
        )
        ax.axvline(0, color="#999999", linewidth=0.8)
        ax.set_yticks(y, [labels.get(i, i) for i in group["indicator_id"]], fontsize=8)
        ax.set_xlabel(f"{TEXT[lang]['axis_estimate']} — {unit}", fontsize=8)
    fig.tight_layout()
    return fig


def _estimates(ax: Any, x: np.ndarray, rows: pd.DataFrame, fmt: str) -> None:
    """Effects with their 95% CIs as points (and lines), in the intervention's colour."""
    est, low, high = (rows[c].to_numpy(float) for c in ("estimate", "ci_low", "ci_high"))
    ax.errorbar(
        x,
        est,
        yerr=[est - low, high - est],
        fmt=fmt,
        color=GROUP_STYLE["intervention"]["color"],
        markersize=4,
        capsize=2,
        linewidth=1,
    )


def event_figure(events: pd.DataFrame, indicator: str, title: str, unit: str, lang: Lang = "nl") -> Figure:
    """Effect per relative month (or wave) with 95% CIs; the reference period sits at zero."""
    rows = events.loc[(events["indicator_id"] == indicator) & events["estimate"].notna()]
    fig, ax = _figure(figsize=(6.2, 2.7))
    _estimates(ax, rows["event_time"].to_numpy(float), rows, "o")
    ax.axhline(0, color="#999999", linewidth=0.8)
    ax.axvline(-0.5, color="#777777", linewidth=0.8, linestyle=":")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(TEXT[lang]["axis_rel"])
    ax.set_ylabel(f"{unit}")
    ax.set_title(title, loc="left", fontsize=10)
    fig.tight_layout()
    return fig


def over_time_figure(
    over_time: pd.DataFrame,
    indicators: tuple[str, ...],
    labels: dict[str, str],
    units: dict[str, str],
    lang: Lang = "nl",
) -> Figure:
    """The main effects with 95% CIs from one evaluation of a study to the next, dated (a delivery's date, or
    the cut-off of interim results): one small panel per indicator."""
    shown = [i for i in indicators if (over_time["indicator_id"] == i).any()]
    if not shown:
        fig, ax = _figure(figsize=(6.2, 1.0))
        ax.axis("off")
        ax.text(0.5, 0.5, "—", ha="center")
        return fig
    columns = min(len(shown), 2)
    rows_ = -(-len(shown) // columns)
    fig, axes = _figure(rows_, columns, figsize=(3.6 * columns, 2.4 * rows_), squeeze=False)
    for ax, indicator in zip(axes.flat, shown, strict=False):
        rows = over_time.loc[(over_time["indicator_id"] == indicator) & over_time["estimate"].notna()]
        _estimates(ax, rows["date"].to_numpy(), rows, "o-")
        ax.axhline(0, color="#999999", linewidth=0.8)
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=2, maxticks=5))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
        ax.tick_params(axis="x", labelsize=7, labelrotation=20)
        ax.set_ylabel(units.get(indicator, ""), fontsize=8)
        ax.set_title(labels.get(indicator, indicator), loc="left", fontsize=9)
    for ax in list(axes.flat)[len(shown) :]:
        ax.axis("off")
    fig.supxlabel(TEXT[lang]["axis_date"], fontsize=8)
    fig.tight_layout()
    return fig


def survival_figure(curves: pd.DataFrame, lang: Lang = "nl") -> Figure:
    """Kaplan-Meier "still absent" curves per group, as steps (each group its colour, line style and marker);
    a curve ends where too few employees are left at risk to show."""
    fig, ax = _figure(figsize=SIZES["wide"])
    for group, style in GROUP_STYLE.items():
        part = curves.loc[curves["group"] == group].sort_values("time")
        if part.empty:
            continue
        ax.step(
            part["time"].to_numpy(float),
            part["survival"].to_numpy(float),
            where="post",
            color=style["color"],
            linestyle=style["linestyle"],
            label=TEXT[lang][group],
        )
        ax.plot(
            part["time"].to_numpy(float)[-1:],
            part["survival"].to_numpy(float)[-1:],
            style["marker"],
            color=style["color"],
        )
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(TEXT[lang]["axis_months_since_start"])
    ax.set_ylabel(TEXT[lang]["axis_still_absent"])
    ax.legend(frameon=False, fontsize=8, ncols=2, loc="best")
    fig.tight_layout()
    return fig


def png(fig: Figure, dpi: int = 110) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def svg(fig: Figure) -> str:
    """Inline SVG markup (no XML prolog, no creation date: the report repeats to the byte)."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]
