"""Pre-trends as a sensitivity analysis: the wild bootstrap joint pre-trend test and Rambachan-Roth bounds."""

from __future__ import annotations

import numpy as np
import pytest

from measures.estimation.event_study import EventCoefficient, EventStudy, estimate_event_study
from measures.estimation.honest import _Frontier, folded_normal_quantile, honest_breakdown
from tests.test_event_study import simulate_events

moderndid = pytest.importorskip("moderndid.didhonest")


def study(beta: np.ndarray, sigma: np.ndarray, n_pre: int, df: float = 1e9) -> EventStudy:
    """An event study with reference -1, the pre-periods before it and the post-periods from 0."""
    ks = [*range(-n_pre - 1, -1), *range(len(beta) - n_pre)]
    coefficients = [EventCoefficient(k, b, 0.0, 0.0, 0.0) for k, b in zip(ks, beta, strict=True)]
    coefficients.append(EventCoefficient(-1, 0.0, 0.0, 0.0, 0.0, reference=True))
    return EventStudy(tuple(sorted(coefficients, key=lambda c: c.event_time)), None, -1, 1, 1, 1, df, "", vcov=sigma)


def example(n_pre: int = 3, n_post: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    beta = np.r_[rng.normal(0, 0.05, n_pre), -np.linspace(2, 4, n_post)]
    A = rng.normal(size=(n_pre + n_post, n_pre + n_post))
    return beta, A @ A.T / (n_pre + n_post) * 0.3


@pytest.mark.parametrize("m", [0.0, 0.02, 0.05, 0.2])
def test_flci_equals_moderndid(m):
    beta, sigma = example()
    l_post = np.full(6, 1 / 6)
    ours = _Frontier.solve(sigma, 3, 6, l_post).interval(beta, m, 0.05)
    theirs = moderndid.create_sensitivity_results_sm(
        beta, sigma, 3, 6, method="FLCI", m_vec=np.array([m]), l_vec=l_post
    )
    width = theirs["ub"][0] - theirs["lb"][0]
    assert ours[0] == pytest.approx(theirs["lb"][0], abs=2e-3 * width)
    assert ours[1] == pytest.approx(theirs["ub"][0], abs=2e-3 * width)


def test_the_breakdown_value_is_where_moderndids_interval_reaches_zero():
    beta, sigma = example()
    result = honest_breakdown(study(beta, sigma, 3))
    assert result.breakdown > 0 and result.n_pre == 3 and result.n_post == 6
    l_post = np.full(6, 1 / 6)
    for factor, covers in ((0.95, False), (1.05, True)):
        ci = moderndid.create_sensitivity_results_sm(
            beta, sigma, 3, 6, method="FLCI", m_vec=np.array([factor * result.breakdown]), l_vec=l_post
        )
        assert (ci["lb"][0] <= 0 <= ci["ub"][0]) is covers


def test_a_pre_trend_bending_as_much_as_the_breakdown_makes_the_conclusion_fragile():
    beta, sigma = example()
    steady = honest_breakdown(study(beta, sigma, 3))
    bent = beta.copy()
    bent[:3] = [1.2, 0.1, 0.4]  # the pre-period path changes slope by far more than the breakdown value
    result = honest_breakdown(study(bent, sigma, 3))
    assert not steady.fragile and result.fragile
    assert result.pre_curvature == pytest.approx(1.4)  # the path 1.2, 0.1, 0.4, 0: second differences 1.4, -0.7


def test_nothing_to_overturn_without_a_significant_effect_or_pre_periods():
    beta, sigma = example()
    assert honest_breakdown(study(beta * 0.01, sigma, 3)).breakdown is None
    assert honest_breakdown(study(beta[3:], sigma[3:, 3:], 0)) is None


def test_few_clusters_widen_the_intervals_by_the_t_quantile():
    beta, sigma = example()
    wide, narrow = honest_breakdown(study(beta, sigma, 3, df=4)), honest_breakdown(study(beta, sigma, 3))
    assert wide.ci_high_m0 - wide.ci_low_m0 > 1.3 * (narrow.ci_high_m0 - narrow.ci_low_m0)


def test_folded_normal_quantile():
    from scipy import stats

    for mu in (0.0, 0.7, 3.0):
        q = folded_normal_quantile(0.95, np.array([mu]))[0]
        assert stats.norm.cdf(q - mu) - stats.norm.cdf(-q - mu) == pytest.approx(0.95, abs=1e-12)


def test_the_wild_pretrend_p_is_deterministic_and_rejects_a_planted_pre_trend():
    args = ("y", "employee", "period", "event_time", "group", "employer")
    clean = simulate_events(4, employers=10, employees=20, effects={0: 0.5})
    first = estimate_event_study(clean, *args, window=(-4, 3), wild_reps=399, seed=1).pretrend
    again = estimate_event_study(clean, *args, window=(-4, 3), wild_reps=399, seed=1).pretrend
    assert first.p_value_wild == again.p_value_wild > 0.05
    trending = simulate_events(4, employers=10, employees=20, effects={0: 0.5}, pre_trend=0.5)
    assert estimate_event_study(trending, *args, window=(-4, 3), wild_reps=399, seed=1).pretrend.p_value_wild < 0.01
