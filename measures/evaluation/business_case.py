"""The business case of report section 4.2, reproduced to the euro, and the same
case driven by measured effects with their uncertainty.

How the report computes and rounds (worked out from its published figures):

* Working days per month are 260 / 12 = 21.667 (52 weeks x 5 days / 12),
  printed as "21,7". With 21.7 itself month 4 would be 10 % x 176 x 21.7 =
  EUR 381.92 -> 382, not the published 381.
* The AO% reduction builds up in equal steps over the ramp months: 10 % in
  month 4 and 20 % in month 5 (30 % x 1/3 and x 2/3), the full 30 % from
  month 6 to month 12 (7 months).
* Every published figure is its full-precision value rounded half up to whole
  euros: 381.33 -> 381, 762.67 -> 763, 8008, total 9152.00 -> 9152,
  0.56 x 9152 = 5125.12 -> 5125; wage 120: 6240 and 3494.4 -> 3494;
  wage 90: 4680 and 2620.8 -> 2621. The total is rounded from the unrounded
  months, never summed from rounded ones.
* Cost per person: one study (EUR 1000) plus a repeat study for the 44 % whose
  AO% cannot be adjusted directly: 1000 + 0.44 x 1000 = 1440.
* Replacement costs: 30 % x EUR 200 x 21.667 days = 1300 a month, from month 6
  (none during the ramp), 7 months = 9100.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from measures.estimation.inference import t_inference

WORKING_DAYS_PER_MONTH = 260 / 12
#: The report's assumptions (§4.2.2): the daily wage of its main case and of its table, the cost of the
#: labour expert, and the share of cases where the AO% can be adjusted directly.
DAILY_WAGE = 176
DAILY_WAGES = (DAILY_WAGE, 120, 90)
AD_COST = 1000
DIRECT_ADJUSTMENT = 0.56
LAST_MONTH = 12  # savings are counted up to one year of absence


def euros(amount: float) -> int:
    """Round half up to whole euros, as the report prints (not banker's rounding)."""
    return int(Decimal(repr(amount)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def savings_by_month(
    daily_wage: float,
    ao_reduction: float,
    ramp_months: tuple[int, ...],
    working_days_per_month: float,
) -> dict[int, float]:
    """Savings per month of absence, full precision, months ramp[0]..12.

    During ramp month i (1-based) of r the AO% has fallen by ao_reduction x
    i / (r + 1); from the month after the ramp the full reduction applies.
    Linear in ``ao_reduction``.
    """
    monthly_wage = daily_wage * working_days_per_month
    steps = len(ramp_months) + 1
    savings = {m: ao_reduction * (i + 1) / steps * monthly_wage for i, m in enumerate(ramp_months)}
    for month in range(max(ramp_months) + 1, LAST_MONTH + 1):
        savings[month] = ao_reduction * monthly_wage
    return savings


@dataclass(frozen=True)
class WageScenario:
    """Savings per person for one daily wage (full precision)."""

    daily_wage: float
    savings_total: float  # where the AO% can be adjusted directly
    savings_average: float  # over all workers (direct_adjustment x total)


@dataclass(frozen=True)
class BusinessCase:
    """Costs and savings per person of deploying an arbeidsdeskundige early."""

    daily_wage: float
    cost_per_person: float
    savings_by_month: tuple[tuple[int, float], ...]
    ramp_months: tuple[int, ...]
    savings_total: float
    savings_average: float
    replacement_per_month: float
    replacement_savings: float
    scenarios: tuple[WageScenario, ...]

    def as_dict(self) -> dict[str, Any]:
        """Whole-euro figures as the report prints them; months after the ramp
        are summed into one period, e.g. "6-12"."""
        by_month = dict(self.savings_by_month)
        full = [m for m in by_month if m not in self.ramp_months]
        periods = {str(m): euros(by_month[m]) for m in self.ramp_months}
        periods[f"{min(full)}-{max(full)}"] = euros(sum(by_month[m] for m in full))
        return {
            "daily_wage": self.daily_wage,
            "cost_per_person": euros(self.cost_per_person),
            "savings_by_month": periods,
            "savings_total": euros(self.savings_total),
            "savings_average": euros(self.savings_average),
            "replacement_per_month": euros(self.replacement_per_month),
            "replacement_savings": euros(self.replacement_savings),
            "by_daily_wage": [
                {
                    "daily_wage": s.daily_wage,
                    "savings_total": euros(s.savings_total),
                    "savings_average": euros(s.savings_average),
                }
                for s in self.scenarios
            ],
        }


def cost_per_person(ad_cost: float, direct_adjustment: float) -> float:
    """One study plus a repeat study where the AO% cannot be adjusted directly."""
    return ad_cost + (1.0 - direct_adjustment) * ad_cost


def business_case(
    daily_wage: float = DAILY_WAGE,
    ad_cost: float = AD_COST,
    direct_adjustment: float = DIRECT_ADJUSTMENT,
    ao_reduction: float = 0.30,
    ramp_months: tuple[int, ...] = (4, 5),
    working_days_per_month: float = WORKING_DAYS_PER_MONTH,
    replacement_cost_per_day: float = 200,
    replacement_share: float = 0.30,
    daily_wages: tuple[float, ...] = DAILY_WAGES,
) -> BusinessCase:
    """The report's business case (section 4.2.2) per absent worker.

    Inputs: the report's assumptions (shares as fractions). Output:
    :class:`BusinessCase` in full precision plus the table for ``daily_wages``.
    """

    def scenario(wage: float) -> WageScenario:
        total = sum(savings_by_month(wage, ao_reduction, ramp_months, working_days_per_month).values())
        return WageScenario(wage, total, direct_adjustment * total)

    months = savings_by_month(daily_wage, ao_reduction, ramp_months, working_days_per_month)
    main = scenario(daily_wage)
    replacement = replacement_share * replacement_cost_per_day * working_days_per_month
    full_months = LAST_MONTH - max(ramp_months)  # no replacement saving during the ramp
    return BusinessCase(
        daily_wage=daily_wage,
        cost_per_person=cost_per_person(ad_cost, direct_adjustment),
        savings_by_month=tuple(months.items()),
        ramp_months=tuple(ramp_months),
        savings_total=main.savings_total,
        savings_average=main.savings_average,
        replacement_per_month=replacement,
        replacement_savings=replacement * full_months,
        scenarios=tuple(scenario(w) for w in daily_wages),
    )


class EstimateLike(Protocol):
    """Anything with an estimate, its standard error and t degrees of freedom
    (e.g. :class:`measures.estimation.inference.Estimate`); an interval of its own (``ci_low``, ``ci_high``,
    at the level asked for) is used when it has one."""

    estimate: float
    se: float
    df: float


@dataclass(frozen=True)
class Interval:
    """A point value with its confidence interval."""

    estimate: float
    ci_low: float
    ci_high: float

    def scaled(self, factor: float, shift: float = 0.0) -> Interval:
        """The interval of factor * x + shift (endpoints swap when factor < 0)."""
        ends = sorted((factor * self.ci_low + shift, factor * self.ci_high + shift))
        return Interval(factor * self.estimate + shift, ends[0], ends[1])

    def rounded(self) -> dict[str, int]:
        return {"estimate": euros(self.estimate), "ci_low": euros(self.ci_low), "ci_high": euros(self.ci_high)}


def _interval(effect: EstimateLike, level: float) -> Interval:
    """The effect's own interval when it carries one (``ci_low``, ``ci_high``: the robust interval of
    effects.csv), else the t(df) interval from its standard error."""
    low, high = getattr(effect, "ci_low", None), getattr(effect, "ci_high", None)
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        low, high, _ = t_inference(effect.estimate, effect.se, effect.df, level)
    return Interval(float(effect.estimate), float(low), float(high))


@dataclass(frozen=True)
class MeasuredBusinessCase:
    """Business case per worker from measured effects, with confidence intervals.

    ao_reduction_pp: measured AO% reduction (percentage points).
    savings_ao: savings per worker from that reduction (x ``applies_to_share``).
    months_saved / savings_months: months of absence saved and their value.
    net_benefit: savings - cost_per_person.
    """

    ao_reduction_pp: Interval
    savings_ao: Interval
    months_saved: Interval | None
    savings_months: Interval | None
    cost_per_person: float
    net_benefit: Interval
    level: float

    def as_dict(self) -> dict[str, Any]:
        """Whole euros; the AO% reduction stays in percentage points."""
        pp = self.ao_reduction_pp
        return {
            "ao_reduction_pp": {"estimate": pp.estimate, "ci_low": pp.ci_low, "ci_high": pp.ci_high},
            "savings_ao": self.savings_ao.rounded(),
            "months_saved": None
            if self.months_saved is None
            else {
                "estimate": self.months_saved.estimate,
                "ci_low": self.months_saved.ci_low,
                "ci_high": self.months_saved.ci_high,
            },
            "savings_months": None if self.savings_months is None else self.savings_months.rounded(),
            "cost_per_person": euros(self.cost_per_person),
            "net_benefit": self.net_benefit.rounded(),
            "level": self.level,
        }


def measured_business_case(
    ao_reduction: EstimateLike,
    months_saved: EstimateLike | None = None,
    daily_wage: float = DAILY_WAGE,
    ad_cost: float = AD_COST,
    direct_adjustment: float = DIRECT_ADJUSTMENT,
    ramp_months: tuple[int, ...] = (4, 5),
    working_days_per_month: float = WORKING_DAYS_PER_MONTH,
    applies_to_share: float = 1.0,
    level: float = 0.95,
) -> MeasuredBusinessCase:
    """The section 4.2 case with the literature's 30 % replaced by measured effects.

    ``ao_reduction``: AO% reduction in percentage points (e.g. a DiD estimate)
    with se and df. Savings are linear in it (same ramp as the report), so the
    interval of the savings is the interval of the effect with its endpoints
    transformed; no delta method or simulation is needed.
    ``applies_to_share``: share of workers the reduction applies to: 1.0 when
    the estimate is an average over all treated workers (a DiD ATT), 0.56 to
    mimic the report, where the 30 % only holds where the AO% is adjusted.
    ``months_saved``: optional months of absence saved, valued at the full
    monthly wage (daily wage x working days), again linear. With both effects
    the net-benefit interval combines their standard errors assuming the two
    estimates are independent, with t(min df).
    Output: :class:`MeasuredBusinessCase`; net benefit = savings - cost per person.
    """
    per_point = applies_to_share * sum(savings_by_month(daily_wage, 0.01, ramp_months, working_days_per_month).values())
    cost = cost_per_person(ad_cost, direct_adjustment)
    ao = _interval(ao_reduction, level)
    savings_ao = ao.scaled(per_point)
    if months_saved is None:
        return MeasuredBusinessCase(ao, savings_ao, None, None, cost, ao.scaled(per_point, -cost), level)
    per_month = daily_wage * working_days_per_month
    months = _interval(months_saved, level)
    net = per_point * ao_reduction.estimate + per_month * months_saved.estimate - cost
    se = ((per_point * ao_reduction.se) ** 2 + (per_month * months_saved.se) ** 2) ** 0.5
    low, high, _ = t_inference(net, se, min(ao_reduction.df, months_saved.df), level)
    return MeasuredBusinessCase(
        ao, savings_ao, months, months.scaled(per_month), cost, Interval(net, float(low), float(high)), level
    )
