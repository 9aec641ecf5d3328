"""Business case of report section 4.2: every published figure, to the euro,
and the measured case with its uncertainty."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from scipy import stats

from measures.evaluation.business_case import business_case, euros, measured_business_case


def test_published_figures_for_a_daily_wage_of_176():
    case = business_case().as_dict()
    assert case["cost_per_person"] == 1440
    assert case["savings_by_month"] == {"4": 381, "5": 763, "6-12": 8008}
    assert case["savings_total"] == 9152
    assert case["savings_average"] == 5125
    assert case["replacement_per_month"] == 1300
    assert case["replacement_savings"] == 9100


def test_published_figures_for_other_daily_wages():
    table = {
        row["daily_wage"]: (row["savings_total"], row["savings_average"])
        for row in business_case().as_dict()["by_daily_wage"]
    }
    assert table == {176: (9152, 5125), 120: (6240, 3494), 90: (4680, 2621)}
    alone = business_case(daily_wage=120).as_dict()
    assert (alone["savings_total"], alone["savings_average"]) == (6240, 3494)


def test_full_precision_is_kept_internally():
    case = business_case()
    months = dict(case.savings_by_month)
    assert months[4] == pytest.approx(0.10 * 176 * 260 / 12)  # 381.33, printed 381
    assert case.savings_average == pytest.approx(0.56 * 9152)  # 5125.12, printed 5125
    assert euros(2.5) == 3 and euros(3494.4) == 3494  # half up, not banker's


def test_as_dict_keys():
    keys = set(business_case().as_dict())
    assert {
        "cost_per_person",
        "savings_total",
        "savings_average",
        "savings_by_month",
        "replacement_savings",
        "by_daily_wage",
    } <= keys


@dataclass(frozen=True)
class Effect:
    estimate: float
    se: float
    df: float


def test_measured_case_reproduces_the_report_at_30_points():
    measured = measured_business_case(Effect(30.0, 1e-12, 9), applies_to_share=0.56)
    d = measured.as_dict()
    assert d["savings_ao"]["estimate"] == 5125 and d["cost_per_person"] == 1440
    assert d["net_benefit"]["estimate"] == euros(0.56 * 9152 - 1440)


def test_measured_case_transforms_the_interval_endpoints():
    effect = Effect(12.0, 4.0, 9)
    measured = measured_business_case(effect)
    per_point = 9152 / 30  # the report: EUR 9152 for 30 points
    crit = stats.t.ppf(0.975, 9)
    assert measured.savings_ao.ci_low == pytest.approx(per_point * (12 - crit * 4))
    assert measured.savings_ao.ci_high == pytest.approx(per_point * (12 + crit * 4))
    assert measured.net_benefit.estimate == pytest.approx(per_point * 12 - 1440)
    assert measured.net_benefit.ci_low == pytest.approx(per_point * (12 - crit * 4) - 1440)
    assert measured.months_saved is None


def test_measured_case_with_months_saved():
    measured = measured_business_case(Effect(12.0, 4.0, 9), Effect(0.5, 0.2, 15))
    per_point, per_month = 9152 / 30, 176 * 260 / 12
    assert measured.savings_months.estimate == pytest.approx(0.5 * per_month)
    net = per_point * 12 + per_month * 0.5 - 1440
    se = ((per_point * 4) ** 2 + (per_month * 0.2) ** 2) ** 0.5
    assert measured.net_benefit.estimate == pytest.approx(net)
    assert measured.net_benefit.ci_high == pytest.approx(net + stats.t.ppf(0.975, 9) * se)
