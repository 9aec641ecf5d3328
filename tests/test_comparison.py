"""The comparison of the groups per indicator, the key findings and the trend grid, without Dagster: planted
means, suppressed cells, p-values at the edges, verdicts in both directions, the ToC layer order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from measures.evaluation.group_means import group_means
from measures.indicators.catalogue import indicators_by_id
from report import plots
from report.comparison import comparison_columns, comparison_table, p_text
from report.findings import key_findings


def _admin(n_per_group: int = 12) -> pd.DataFrame:
    """Employees with two months before and two from inclusion: AO% 80 before; after 40 (intervention) or 60."""
    rows = []
    for group, after in (("intervention", 40.0), ("comparison", 60.0)):
        for e in range(n_per_group):
            for rel in (-2, -1, 0, 1):
                rows.append(
                    {
                        "employee_id": f"{group}-{e}",
                        "group": group,
                        "post": int(rel >= 0),
                        "ao_pct": 80.0 if rel < 0 else after,
                        "absence_days": np.nan,
                        "loonwaarde_pct": 50.0 + rel,
                    }
                )
    return pd.DataFrame(rows)


def _survey(n_intervention: int, n_comparison: int) -> pd.DataFrame:
    rows = []
    for group, n in (("intervention", n_intervention), ("comparison", n_comparison)):
        for e in range(n):
            for wave, post, value in (("t0", 0, 3.0), ("t1", 1, 4.0), ("t2", 1, 5.0)):
                rows.append(
                    {"employee_id": f"{group}-{e}", "group": group, "post": post, "wave": wave}
                    | {"indicator_id": "regie_ervaren", "value": value}
                )
    return pd.DataFrame(rows)


def _rtw(n: int = 12) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "employee_id": [f"{g}-{e}" for g in ("intervention", "comparison") for e in range(n)],
            "group": ["intervention"] * n + ["comparison"] * n,
            "rtw_12m": [1] * n + [0] * (n // 2) + [1] * (n - n // 2),
        }
    )


def test_group_means_split_before_and_after_and_count_employees():
    means = group_means(_admin(), _survey(12, 12), _rtw(), min_n=10).set_index(["indicator_id", "group", "phase"])
    assert means.loc[("ao_pct", "intervention", "before"), "mean"] == 80
    assert means.loc[("ao_pct", "intervention", "after"), "mean"] == 40
    assert means.loc[("ao_pct", "comparison", "after"), "mean"] == 60
    assert means.loc[("ao_pct", "comparison", "after"), "n"] == 12  # employees, not their 24 months
    assert means.loc[("regie_ervaren", "intervention", "after"), "mean"] == 4.5  # t1 and t2 together
    assert means.loc[("rtw_12m", "comparison", "after"), "mean"] == 0.5
    assert ("rtw_12m", "comparison", "before") not in means.index  # one value per employee: no before
    assert "absence_days" not in means.index.get_level_values(0)  # no data, no row


def test_a_group_of_fewer_employees_than_the_minimum_is_suppressed():
    means = group_means(_admin(), _survey(12, 9), _rtw(), min_n=10).set_index(["indicator_id", "group", "phase"])
    hidden = means.loc[("regie_ervaren", "comparison", "after")]
    assert hidden["suppressed"] == 1 and pd.isna(hidden["mean"]) and pd.isna(hidden["n"])
    assert means.loc[("regie_ervaren", "intervention", "after"), "suppressed"] == 0


def _effect(indicator, estimate, low, high, p, method="TWFE DiD"):
    return {
        "indicator_id": indicator,
        "estimate": estimate,
        "ci_low": low,
        "ci_high": high,
        "p_value": p,
        "q_value": p,
        "method": method,
    }


EFFECTS = pd.DataFrame(
    [
        _effect("ao_pct", -20.0, -25.0, -15.0, 0.0),  # lower is better: an improvement; p exactly 0 from a bootstrap
        _effect("loonwaarde_pct", -5.0, -9.0, -1.0, 0.0004),  # higher is better: a worsening
        _effect("regie_ervaren", 0.2, -0.1, 0.5, 0.01234),
        _effect("rtw_12m", None, None, None, None, "suppressed: fewer than 10 employees in a group"),
        _effect("absence_days", None, None, None, None, "not estimable: singular matrix"),
    ]
)


def test_the_comparison_reads_like_the_report():
    means = group_means(_admin(), _survey(12, 9), _rtw(), min_n=10)
    table = comparison_table(EFFECTS, means, "nl")
    assert list(table.columns) == [name for name, _ in comparison_columns("nl").values()]
    rows = table.set_index("Indicator")
    labels = {i.id: i.label_nl for i in indicators_by_id().values()}
    ao, wage, regie = (rows.loc[labels[i]] for i in ("ao_pct", "loonwaarde_pct", "regie_ervaren"))
    assert (ao["p"], wage["p"], regie["p"]) == ("< 0,001", "< 0,001", "0,012")
    assert (ao["Oordeel"], wage["Oordeel"], regie["Oordeel"]) == ("verbetering", "verslechtering", "geen bewijs")
    assert (ao["DiD"], ao["95%-BI"]) == ("−20,00", "[−25,00; −15,00]")
    assert ao["Interventie vóór (n)"] == "80,00 (12)" and ao["Vergelijking na (n)"] == "60,00 (12)"
    assert ao["Beter als"] == "lager" and wage["Beter als"] == "hoger"
    assert regie["Vergelijking na (n)"] == "onderdrukt" and regie["Interventie na (n)"] == "4,50 (12)"
    assert rows.loc[labels["rtw_12m"], "Oordeel"] == "onderdrukt"
    assert rows.loc[labels["absence_days"], "Oordeel"] == "niet geschat"
    assert rows.loc[labels["rtw_12m"], "Interventie vóór (n)"] == "–"
    assert "werknemer-vroegtijdig/less_wia_inflow" in ao["ToC-knopen"]


def test_rows_follow_the_toc_layers_upwards():
    table = comparison_table(EFFECTS, group_means(_admin(), _survey(12, 12), _rtw(), min_n=10), "en")
    order = ["Outputs", "Short-term effects", "Long-term effects", "Expected negative effects"]
    ranks = [order.index(layer) for layer in table["ToC layer"]]
    assert ranks == sorted(ranks)


@pytest.mark.parametrize(
    ("value", "lang", "text"),
    [
        (0.0, "en", "< 0.001"),
        (0.000999, "nl", "< 0,001"),
        (0.001, "en", "0.001"),
        (0.5, "nl", "0,500"),
        (None, "en", "–"),
    ],
)
def test_p_values_never_read_zero(value, lang, text):
    assert p_text(value, lang) == text


def test_key_findings_explain_imbalance_and_count_what_was_suppressed():
    balance = pd.DataFrame(
        {
            "variable": ["months_absent_at_inclusion", "ao_pct", "regie_ervaren"],
            "std_diff": [0.1, -0.4, None],
            "suppressed": [0, 0, 1],
        }
    )
    trends = pd.DataFrame({"indicator_id": ["ao_pct"] * 3, "suppressed": [0, 1, 1]})
    means = group_means(_admin(), _survey(12, 12), _rtw(), min_n=10)
    findings = key_findings(EFFECTS, means, balance, trends, 10, "nl")
    assert findings.imbalanced == ["ao_pct"]
    assert "Arbeidsongeschiktheidspercentage (AO%) (−0,40)" in findings.balance and "0,25" in findings.balance
    assert findings.suppressed == {"trends": 2, "effects": 1, "balance": 1}
    assert "2 van 3 trendcellen, 1 van 5 effecten, 1 van 3 balansregels" in findings.suppression
    assert len(findings.main_effects) == 4  # AO%, absence days, wage value, return to work
    balanced = key_findings(EFFECTS, means, balance.iloc[:1], trends, 10, "en")
    assert balanced.balance.startswith("The groups are comparable at baseline") and balanced.imbalanced == []


def test_the_trend_grid_marks_suppressed_cells_instead_of_drawing_them():
    trends = pd.DataFrame(
        {
            "indicator_id": "ao_pct",
            "group": ["intervention"] * 3 + ["comparison"] * 3,
            "period": ["-1", "0", "1"] * 2,
            "mean": [80, 50, None, 80, 60, 55],
            "ci_low": [75, 45, None, 75, 55, 50],
            "ci_high": [85, 55, None, 85, 65, 60],
            "n": [20, 20, None, 20, 20, 20],
            "suppressed": [0, 0, 1, 0, 0, 0],
        }
    )
    fig = plots.trend_grid(trends, ["ao_pct"], {"ao_pct": "AO%"}, {"ao_pct": "%"}, "nl")
    [ax] = fig.axes
    crosses = [line for line in ax.get_lines() if line.get_marker() == "x"]
    assert len(crosses) == 1 and list(crosses[0].get_xdata()) == [1]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["Interventie", "Vergelijking", "onderdrukt"]
