"""Heterogeneity-robust estimators: the imputation estimator (Borusyak-Jaravel-Spiess) and Sun-Abraham, checked
against pyfixest and direct least-squares constructions to 1e-8, and against the published mpdta figures."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from measures.estimation.absorb import codes_of
from measures.estimation.errors import EstimationError
from measures.estimation.estimators import Inference, estimate_robust
from measures.estimation.imputation import imputation_estimator
from measures.estimation.linear import cluster_codes
from measures.estimation.sun_abraham import sun_abraham_estimator

pf = pytest.importorskip("pyfixest")
NO_RI = Inference(wild_reps=199, randomization=False)


def mpdta() -> pd.DataFrame:
    """Callaway and Sant'Anna's minimum-wage panel (500 counties, 2003-2007), as the moderndid package ships it."""
    md = pytest.importorskip("moderndid")
    data = md.load_mpdta().to_pandas()
    return data.assign(treat=((data["first.treat"] > 0) & (data["year"] >= data["first.treat"])).astype(int))


def staggered(seed: int, drop: float = 0.1, never: bool = True) -> pd.DataFrame:
    """Units in staggered cohorts, with an absence-duration-like third fixed effect and dynamic effects."""
    rng = np.random.default_rng(seed)
    n_units, periods = 60, 12
    unit = np.repeat(np.arange(n_units), periods)
    t = np.tile(np.arange(periods), n_units)
    start = rng.integers(0, 5, n_units)[unit]
    cohort = rng.choice([4, 6, 9], n_units)
    if never:
        cohort = np.where(np.arange(n_units) % 3 == 0, 99, cohort)
    cohort = cohort[unit]
    d = (t >= cohort).astype(int)
    y = (
        rng.normal(size=n_units)[unit]
        + 0.3 * t
        + np.sin(t - start)
        + d * (1 + 0.2 * (t - cohort))
        + rng.normal(size=len(unit))
    )
    frame = pd.DataFrame({"u": unit, "t": t, "dur": t - start + 3, "D": d, "y": y, "cl": unit // 6, "cohort": cohort})
    return frame[rng.random(len(frame)) >= drop].reset_index(drop=True)


def imputation(frame: pd.DataFrame, fe: list[str], treated: str = "D", cluster: str = "cl"):
    clusters, labels = cluster_codes(frame[cluster].to_numpy())
    return imputation_estimator([codes_of(frame[c]) for c in fe], frame[treated].to_numpy(), clusters, labels, fe)


def direct_imputation(frame: pd.DataFrame, fe: list[str], y: str = "y", treated: str = "D") -> tuple[float, np.ndarray]:
    """Dense least squares on the untreated rows' dummies, imputed for the treated rows: the estimate and the
    weights on every row (treated 1/N1, untreated minus their share of the imputations)."""
    untreated, treated_rows = frame[frame[treated] == 0], frame[frame[treated] == 1]
    X_u = pd.get_dummies(untreated[fe].astype(str)).astype(float)
    X_t = pd.get_dummies(treated_rows[fe].astype(str)).astype(float).reindex(columns=X_u.columns, fill_value=0)
    pinv = np.linalg.pinv(X_u.to_numpy())
    estimate = np.mean(treated_rows[y].to_numpy() - X_t.to_numpy() @ (pinv @ untreated[y].to_numpy()))
    weights = pd.Series(0.0, index=frame.index)
    weights[treated_rows.index] = 1 / len(treated_rows)
    weights[untreated.index] = -(X_t.to_numpy().sum(axis=0) @ pinv) / len(treated_rows)
    return float(estimate), weights.to_numpy()


def test_mpdta_imputation_equals_pyfixest_to_1e8():
    data = mpdta()
    untreated = data[data["treat"] == 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first_stage = pf.feols("lemp ~ 1 | countyreal + year", data=untreated, fixef_rm="none")
    treated = data[data["treat"] == 1]
    theirs = np.mean(treated["lemp"].to_numpy() - first_stage.predict(newdata=treated))
    est = imputation(data, ["countyreal", "year"], "treat", "countyreal")
    assert est.estimate(data["lemp"].to_numpy()) == pytest.approx(theirs, abs=1e-8)
    assert theirs == pytest.approx(-0.047710, abs=1e-6)  # the figure the README quotes


def test_three_fixed_effects_equal_a_dense_construction_and_did2s():
    frame = staggered(1)
    est = imputation(frame, ["u", "t", "dur"])
    estimate, weights = direct_imputation(frame, ["u", "t", "dur"])
    y = frame["y"].to_numpy()
    assert est.estimate(y) == pytest.approx(estimate, abs=1e-10)
    assert np.abs(est.weights - weights).max() < 1e-10
    # pyfixest's two-stage DiD (Gardner) is the same estimator; it recovers the fixed effects of an unbalanced
    # panel iteratively (to about 1e-6), those of a balanced one exactly
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        did2s = pf.did2s(
            frame, yname="y", first_stage="~ 0 | u + t + dur", second_stage="~ 0 + D", treatment="D", cluster="cl"
        )
    assert est.estimate(y) == pytest.approx(did2s.coef()["D"], abs=1e-5)
    balanced = staggered(1, drop=0.0)  # where pyfixest recovers two sets of fixed effects exactly
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        did2s = pf.did2s(
            balanced, yname="y", first_stage="~ 0 | u + t", second_stage="~ 0 + D", treatment="D", cluster="cl"
        )
    two = imputation(balanced, ["u", "t"])
    assert two.estimate(balanced["y"].to_numpy()) == pytest.approx(did2s.coef()["D"], abs=1e-8)


def test_variance_is_the_clustered_sum_of_weighted_residuals():
    frame = staggered(2)
    est = imputation(frame, ["u", "t"])
    y = frame["y"].to_numpy()
    untreated = frame["D"] == 0
    X = pd.get_dummies(frame[["u", "t"]].astype(str)).astype(float).to_numpy()
    fitted = X @ (np.linalg.pinv(X[untreated]) @ y[untreated])
    residual = y - fitted
    effects = residual[~untreated]
    residual[~untreated] = effects - effects.mean()  # BJS's conservative choice with one group of treated rows
    scores = pd.Series(est.weights * residual).groupby(frame["cl"]).sum().to_numpy()
    G = frame["cl"].nunique()
    assert est.se(y) == pytest.approx(np.sqrt(G / (G - 1) * np.sum(scores**2)), rel=1e-10)


def test_treated_rows_that_cannot_be_imputed_are_left_out_and_counted():
    frame = staggered(3)
    always = frame["u"] == frame.loc[frame["cohort"] < 99, "u"].iloc[0]
    frame.loc[always, "D"] = 1  # a unit treated in every period has no untreated row to impute from
    est = imputation(frame, ["u", "t"])
    kept = frame[~always]
    assert est.estimate(frame["y"].to_numpy()) == pytest.approx(direct_imputation(kept, ["u", "t"])[0], abs=1e-10)
    assert f"{int(always.sum())} treated rows" in est.description
    assert est.n_obs == len(kept)


def test_no_untreated_or_no_treated_rows_raise():
    frame = staggered(4)
    with pytest.raises(EstimationError):
        imputation(frame.assign(D=0), ["u", "t"])
    with pytest.raises(EstimationError):
        imputation(frame.assign(D=1), ["u", "t"])


@pytest.mark.parametrize("never", [True, False])
def test_sun_abraham_equals_the_interaction_regression(never):
    frame = staggered(5, drop=0.0, never=never)
    clusters, labels = cluster_codes(frame["cl"].to_numpy())
    est = sun_abraham_estimator(codes_of(frame["u"]), codes_of(frame["t"]), frame["D"].to_numpy(), clusters, labels)
    control = 99 if never else frame["cohort"].max()
    sample = frame[frame["t"] < control].assign(rel=lambda f: f["t"] - f["cohort"])
    in_cohort = (sample["cohort"] < 99) & (sample["cohort"] != control)
    cell = np.where(
        in_cohort & (sample["rel"] != -1), sample["cohort"].astype(str) + "_" + sample["rel"].astype(str), "none"
    )
    fit = pf.feols("y ~ C(cell, Treatment('none')) | u + t", data=sample.assign(cell=cell))
    shares = pd.Series(cell[in_cohort & (sample["rel"] >= 0)]).value_counts(normalize=True)
    theirs = sum(fit.coef()[f"C(cell, Treatment('none'))[T.{c}]"] * w for c, w in shares.items())
    assert est.estimate(frame["y"].to_numpy()) == pytest.approx(theirs, abs=1e-8)
    assert ("last-treated" in est.description) is not never


def test_sun_abraham_needs_an_absorbing_treatment_and_a_control():
    frame = staggered(6, drop=0.0)
    clusters, labels = cluster_codes(frame["cl"].to_numpy())
    unit, t = codes_of(frame["u"]), codes_of(frame["t"])
    later = frame.groupby("u")["D"].transform("cumsum").to_numpy() > 1  # on for one period, then off again
    with pytest.raises(EstimationError, match="stays on"):
        sun_abraham_estimator(unit, t, np.where(later, 0, frame["D"]), clusters, labels)
    one_cohort = frame.assign(D=(frame["t"] >= 5).astype(int))
    with pytest.raises(EstimationError, match="never-treated"):
        sun_abraham_estimator(unit, t, one_cohort["D"].to_numpy(), clusters, labels)


def test_mpdta_sun_abraham_reproduces_the_published_callaway_santanna_att():
    """Sun-Abraham with never-treated controls equals Callaway-Sant'Anna's never-treated ATT(g, t) on a balanced
    panel without covariates, and its share weights are the "simple" aggregation: the published -0.0400 (0.0118)."""
    est = estimate_robust(mpdta(), ["lemp"], "countyreal", "year", "treat", estimator="sun_abraham", inference=NO_RI)[
        "lemp"
    ]
    assert round(est.estimate, 4) == -0.0400
    assert round(est.se, 4) == 0.0118


def test_mpdta_imputation_is_within_one_published_se_of_the_callaway_santanna_att():
    """The imputation estimator compares with not-yet-treated counties too and uses every pre-period, so on mpdta
    it gives -0.0477 (SE 0.0135), 0.65 published SEs from Callaway-Sant'Anna's -0.0400 (0.0118)."""
    est = estimate_robust(mpdta(), ["lemp"], "countyreal", "year", "treat", estimator="imputation", inference=NO_RI)[
        "lemp"
    ]
    assert abs(est.estimate - -0.0400) < 0.0118
    assert est.se == pytest.approx(0.0118, rel=0.2)
    assert est.ci_low < -0.0400 < est.ci_high and est.p_value < 0.01
    assert (est.n_treated_clusters, est.n_comparison_clusters) == (191, 309)
