"""A run's fixed cost cut without changing a bit: each shortcut gives exactly what the long way gave."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from measures.estimation.estimators import Inference, estimate_difference_robust
from measures.estimation.linear import cluster_sums
from measures.estimation.wild_bootstrap import ols_estimator
from measures.evaluation.effects import _guarded
from toc.load import load_shipped
from toc.render import render, render_formats


def test_cluster_sums_equal_the_sparse_indicators_product_to_the_bit():
    rng = np.random.default_rng(7)
    for _ in range(200):
        n, G = int(rng.integers(1, 2000)), int(rng.integers(1, 50))
        codes = rng.permutation(np.r_[np.arange(min(n, G)), rng.integers(0, G, n - min(n, G))])
        values = rng.normal(size=(n, 3)) * 10.0 ** rng.uniform(-8, 8, size=(n, 1))
        weights = rng.normal(size=n)
        indicator = sparse.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(G, n))
        expected = np.column_stack([indicator @ (column * weights) for column in values.T])
        assert np.array_equal(cluster_sums(values, codes, G, weights=weights), expected)
        assert np.array_equal(cluster_sums(values[:, 0], codes, G), indicator @ values[:, 0])


def test_an_ols_estimator_given_its_cluster_codes_is_the_one_that_codes_them():
    rng = np.random.default_rng(3)
    labels = np.array([f"WG{i:02d}" for i in rng.integers(0, 12, 300)], dtype=object)
    X = np.column_stack([np.ones(300), rng.integers(0, 2, 300).astype(float)])
    y = rng.normal(size=300)
    plain = ols_estimator(X, 1, labels)
    coded = ols_estimator(X, 1, labels, coded=(plain.clusters, plain.cluster_labels))
    assert np.array_equal(plain.weights, coded.weights)
    assert np.array_equal(plain.scores(y), coded.scores(y))
    both = np.column_stack([y, X[:, 1]])
    assert np.array_equal(plain.residuals(both), coded.residuals(both))
    assert np.array_equal(plain.null_residuals(both), coded.null_residuals(both))


def test_a_guarded_fit_is_made_once_for_both_rows_and_keeps_its_reason():
    calls = []

    def fit():
        calls.append(1)
        raise ValueError("too few clusters\nmore detail")

    guarded = _guarded(fit)
    assert guarded() == guarded() == "not estimable: too few clusters"
    assert len(calls) == 1


def test_the_difference_in_means_repeats_to_the_bit():
    rng = np.random.default_rng(11)
    employer = np.repeat([f"WG{i:02d}" for i in range(12)], 15)
    group = np.repeat(np.arange(12) % 2, 15)
    frame = pd.DataFrame({"y": (rng.random(180) < 0.4 + 0.2 * group).astype(float), "g": group, "e": employer})
    first, second = (estimate_difference_robust(frame, "y", "g", "e", Inference(wild_reps=99)) for _ in range(2))
    assert (first.estimate, first.p_value, first.p_value_ri, first.ci_low, first.ci_high) == (
        second.estimate,
        second.p_value,
        second.p_value_ri,
        second.ci_low,
        second.ci_high,
    )


def test_honest_bounds_load_moderndids_flci_without_the_whole_package():
    code = textwrap.dedent(
        """
        import sys
        from measures.estimation.honest import _fixed_length_ci
        module = _fixed_length_ci()
        assert module is _fixed_length_ci()
        assert callable(module.maximize_bias) and callable(module.minimize_variance)
        assert not [m for m in sys.modules if m == "moderndid" or m.startswith("moderndid.")], "moderndid imported"
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("annotated", [False, True])
def test_one_layout_for_svg_and_png_gives_the_bytes_of_two_renders(tmp_path, annotated):
    toc = next(iter(load_shipped().values()))
    results = {} if annotated else None
    both = render_formats(toc, {"svg": tmp_path / "a.svg", "png": tmp_path / "a.png"}, results=results)
    for fmt, path in both.items():
        alone = render(toc, fmt, tmp_path / f"b.{fmt}", results=results)
        assert path.read_bytes() == alone.read_bytes()
