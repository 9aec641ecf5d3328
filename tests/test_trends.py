"""Trends per indicator, group and period: columns, hand-computed means, numeric period order, suppression."""

from __future__ import annotations

import csv
import io
import math
import statistics

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from measures.evaluation.trends import TREND_COLUMNS, indicator_trends, sort_trends

EMPTY_SURVEY = pd.DataFrame(columns=["indicator_id", "group", "wave", "value"])
EMPTY_RTW = pd.DataFrame(columns=["group", "rtw_12m"])


def _admin(rels, per_cell: int = 12, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [
        {
            "group": g,
            "rel": rel,
            "ao_pct": float(rng.integers(0, 101)),
            "absence_days": float(rng.integers(0, 31)),
            "loonwaarde_pct": float(rng.integers(0, 101)),
        }
        for g in ("intervention", "comparison")
        for rel in rels
        for _ in range(per_cell)
    ]
    return pd.DataFrame(rows).sample(frac=1, random_state=seed).reset_index(drop=True)  # any row order


def _csv(trends: pd.DataFrame) -> list[dict]:
    """trends as the CSV a user opens (the pipeline writes it with to_csv)."""
    return list(csv.DictReader(io.StringIO(trends.to_csv(index=False, float_format="%.10g"))))


def test_columns_are_exactly_the_contract():
    trends = indicator_trends(_admin(range(-2, 3)), EMPTY_SURVEY, EMPTY_RTW)
    assert list(trends.columns) == ["indicator_id", "group", "period", "mean", "ci_low", "ci_high", "n", "suppressed"]
    assert list(trends.columns) == TREND_COLUMNS
    assert list(indicator_trends(_admin([]).iloc[:0], EMPTY_SURVEY, EMPTY_RTW).columns) == TREND_COLUMNS


def test_admin_periods_sort_numerically():
    trends = indicator_trends(_admin([12, -1, 3, -10, 0, 2, -4, 1, 10, -2, 11, -3]), EMPTY_SURVEY, EMPTY_RTW)
    expected = [str(r) for r in (-10, -4, -3, -2, -1, 0, 1, 2, 3, 10, 11, 12)]
    for (indicator, group), cells in trends.groupby(["indicator_id", "group"], sort=False):
        assert cells["period"].tolist() == expected, (indicator, group)
    assert [r["period"] for r in _csv(trends)][: len(expected)] == expected
    assert trends["indicator_id"].tolist() == sorted(trends["indicator_id"])


def test_trends_read_back_in_text_order_get_their_time_order_back():
    survey = pd.DataFrame(
        {"indicator_id": "regie_ervaren", "group": "comparison", "wave": ["t0", "t1", "t2"] * 10, "value": 3.0}
    )
    rtw = pd.DataFrame({"group": "comparison", "rtw_12m": [0, 1] * 6})
    trends = indicator_trends(_admin([-4, -1, 0, 2, 10]), survey, rtw)
    as_text = trends.sort_values(["indicator_id", "group", "period"]).reset_index(drop=True)  # as a SQL ORDER BY does
    assert as_text["period"].tolist()[:5] == ["-1", "-4", "0", "10", "2"]
    pd.testing.assert_frame_equal(sort_trends(as_text), trends)
    pd.testing.assert_frame_equal(sort_trends(trends.sample(frac=1, random_state=3)), trends)


def test_means_and_intervals_equal_a_hand_computation():
    values = {
        "intervention": [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 15],
        "comparison": [5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 50],
    }
    admin = pd.DataFrame([{"group": g, "rel": 0, "ao_pct": float(v)} for g, vs in values.items() for v in vs])
    trends = indicator_trends(admin, EMPTY_SURVEY, EMPTY_RTW).set_index("group")
    assert trends["indicator_id"].unique().tolist() == ["ao_pct"]
    for group, vs in values.items():
        n, mean, sd = len(vs), sum(vs) / len(vs), statistics.stdev(vs)
        half = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
        row = trends.loc[group]
        assert (row["period"], row["n"], row["suppressed"]) == ("0", n, 0)
        assert row["mean"] == pytest.approx(mean)
        assert (row["ci_low"], row["ci_high"]) == (pytest.approx(mean - half), pytest.approx(mean + half))


def test_missing_values_are_not_counted():
    admin = pd.DataFrame({"group": "comparison", "rel": 1, "loonwaarde_pct": [40.0] * 11 + [np.nan] * 5 + [60.0]})
    row = indicator_trends(admin, EMPTY_SURVEY, EMPTY_RTW).iloc[0]
    assert (row["n"], row["mean"]) == (12, pytest.approx((40 * 11 + 60) / 12))


def test_a_small_cell_is_suppressed_and_empty_in_the_csv():
    admin = pd.concat([_admin([0], per_cell=10), _admin([1], per_cell=9, seed=1)], ignore_index=True)
    trends = indicator_trends(admin, EMPTY_SURVEY, EMPTY_RTW)
    shown, hidden = trends.loc[trends["period"] == "0"], trends.loc[trends["period"] == "1"]
    assert (shown["suppressed"] == 0).all() and (shown["n"] == 10).all() and shown["mean"].notna().all()
    assert (hidden["suppressed"] == 1).all()
    assert hidden[["mean", "ci_low", "ci_high", "n"]].isna().all().all()
    for record in _csv(trends):
        if record["period"] == "1":
            assert [record[c] for c in ("mean", "ci_low", "ci_high", "n", "suppressed")] == ["", "", "", "", "1"]
        else:
            assert record["n"] == "10" and record["suppressed"] == "0" and float(record["mean"]) >= 0


def test_n_is_an_integer_or_empty_never_text():
    admin = pd.concat([_admin([-1, 0], per_cell=11), _admin([1], per_cell=3, seed=2)], ignore_index=True)
    trends = indicator_trends(admin, EMPTY_SURVEY, EMPTY_RTW)
    assert str(trends["n"].dtype) == "Int64"
    assert pd.api.types.is_float_dtype(trends["mean"]) and pd.api.types.is_float_dtype(trends["ci_low"])
    assert all(r["n"] == "" or r["n"].isdigit() for r in _csv(trends))
    assert {r["n"] for r in _csv(trends)} == {"11", ""}


def test_the_minimum_cell_size_is_a_parameter():
    admin = _admin([0], per_cell=4)
    assert indicator_trends(admin, EMPTY_SURVEY, EMPTY_RTW)["suppressed"].all()
    loose = indicator_trends(admin, EMPTY_SURVEY, EMPTY_RTW, min_n=3)
    assert (loose["suppressed"] == 0).all() and (loose["n"] == 4).all()


def test_questionnaire_waves_and_return_to_work():
    survey = pd.DataFrame(
        {
            "indicator_id": "regie_ervaren",
            "group": "intervention",
            "wave": ["t2"] * 10 + ["t0"] * 10 + ["t1"] * 12,
            "value": [5.0] * 10 + [2.0] * 10 + [3.0, 4.0] * 6,
        }
    )
    rtw = pd.DataFrame(
        {"group": ["comparison"] * 12 + ["intervention"] * 10, "rtw_12m": [1] * 3 + [0] * 9 + [1] * 5 + [0] * 5}
    )
    trends = indicator_trends(_admin([]).iloc[:0], survey, rtw)
    regie = trends.loc[trends["indicator_id"] == "regie_ervaren"]
    assert regie["period"].tolist() == ["t0", "t1", "t2"]
    assert regie["mean"].tolist() == pytest.approx([2.0, 3.5, 5.0])
    assert regie["n"].tolist() == [10, 12, 10]
    back = trends.loc[trends["indicator_id"] == "rtw_12m"].set_index("group")
    assert back["period"].unique().tolist() == ["12m"]
    assert back.loc["comparison", "mean"] == pytest.approx(0.25) and back.loc["intervention", "mean"] == pytest.approx(
        0.5
    )
