"""The synthetic drop: valid in every format, reproducible, with its planted truth, attrition and gaps."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from drops import make_drop
from typer.testing import CliRunner

from cli.pilot import app
from measures.contract.tables import TABLES
from measures.evaluation.simulate import SimulationSpec, write_drop
from measures.indicators.catalogue import indicators_by_id
from toc.load import resolve

runner = CliRunner()
SUFFIX = {"csv": ".csv", "csv-nl": ".csv", "xlsx": ".xlsx", "parquet": ".parquet"}


def _simulate(out: Path, fmt: str, seed: int = 5) -> None:
    done = runner.invoke(
        app,
        [
            "simulate",
            "--out",
            str(out),
            "--seed",
            str(seed),
            "--employers",
            "4",
            "--employees-per-employer",
            "5",
            "--effect-ao",
            "-8",
            "--format",
            fmt,
            "--survey-indicators",
            "6",
        ],
    )
    assert done.exit_code == 0, done.output


@pytest.mark.parametrize("fmt", list(SUFFIX))
def test_pilot_simulate_writes_a_drop_that_pilot_validate_accepts_whole(tmp_path, fmt):
    _simulate(tmp_path / "drop", fmt)
    files = sorted(p.name for p in (tmp_path / "drop").iterdir())
    assert files == sorted([f"{t}{SUFFIX[fmt]}" for t in TABLES] + ["truth.json"])
    done = runner.invoke(app, ["validate", str(tmp_path / "drop"), "--json", "--strict"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert report["bad_rows"] == []
    assert set(report["tables"]) == set(TABLES)
    for name, s in report["tables"].items():
        assert s["rows_in"] > 0 and s["quarantined"] == 0 and s["loaded"] == s["rows_in"], name
    assert report["tables"]["employers"]["rows_in"] == 4 and report["tables"]["cases"]["rows_in"] == 20


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_the_same_seed_gives_the_same_bytes(tmp_path, fmt):
    for name in ("a", "b"):
        make_drop(tmp_path / name, seed=3, fmt=fmt)
    make_drop(tmp_path / "other", seed=4, fmt=fmt)
    for path in sorted((tmp_path / "a").iterdir()):
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name
    assert (tmp_path / "a" / f"admin{SUFFIX[fmt]}").read_bytes() != (
        tmp_path / "other" / f"admin{SUFFIX[fmt]}"
    ).read_bytes()


@pytest.fixture(scope="module")
def sim(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("sim") / "drop"
    spec = SimulationSpec(seed=21, employers=6, employees_per_employer=15, effect_ao=-12.0, survey_indicators=4)
    truth = write_drop(spec, folder)
    return folder, truth


def test_truth_json_holds_the_planted_effect_and_the_sample_att(sim):
    folder, truth = sim
    assert json.loads((folder / "truth.json").read_text()) == json.loads(json.dumps(truth))
    assert truth["effect_ao"] == -12.0 and truth["spec"]["effect_ao"] == -12.0 and truth["spec"]["seed"] == 21
    survey = pd.read_csv(folder / "survey.csv")
    assert set(truth["att"]) == {"ao_pct", "absence_days", "loonwaarde_pct"} | set(survey["indicator_id"])
    # the sample ATT: near the planted effect (clipping at 0 and employer heterogeneity move it), not equal
    assert -18 < truth["att"]["ao_pct"] < -6 and truth["att"]["ao_pct"] != -12.0
    assert truth["att"]["absence_days"] < 0 < truth["att"]["loonwaarde_pct"]


def test_zero_planted_effect_gives_zero_att(tmp_path):
    truth = write_drop(
        SimulationSpec(
            seed=2, employers=4, employees_per_employer=5, effect_ao=0.0, effect_survey=0.0, survey_indicators=2
        ),
        tmp_path,
    )
    assert truth["att"]["ao_pct"] == 0 and truth["att"]["absence_days"] == 0
    assert all(v == 0 for v in truth["att"].values())


def test_there_is_attrition(sim):
    folder, truth = sim
    admin = pd.read_csv(folder / "admin.csv")
    cases = pd.read_csv(folder / "cases.csv")
    months = admin.groupby("employee_id").size()
    assert set(months.index) == set(cases["employee_id"])
    assert months.max() == truth["spec"]["months_followed"]
    assert (months < truth["spec"]["months_followed"]).sum() >= 10  # some leave early
    ended = cases.set_index("employee_id")["end_date"].notna()
    assert ended[months.index[months < months.max()]].all()  # who stops early has an end date
    assert not admin.duplicated(["employee_id", "month"]).any()


def test_there_are_missing_waves_and_answers(sim):
    folder, _ = sim
    survey = pd.read_csv(folder / "survey.csv")
    employees = pd.read_csv(folder / "cases.csv")["employee_id"].nunique()
    per_wave = survey.groupby("wave")["employee_id"].nunique()
    assert per_wave["t0"] > per_wave["t2"]  # response falls over the waves
    assert (per_wave < employees).all()
    answers = survey.groupby(["employee_id", "wave"]).size()
    assert answers.min() < answers.max()  # item non-response: not every answer of a wave is there
    assert survey["value"].notna().all()  # a missing answer is a missing row, never an empty value


def test_answers_are_on_each_indicator_scale_and_from_its_respondent(sim):
    folder, _ = sim
    survey = pd.read_csv(folder / "survey.csv")
    catalogue = indicators_by_id()
    for indicator, answers in survey.groupby("indicator_id"):
        assert set(answers["respondent"]) == {catalogue[indicator].respondent}
        if catalogue[indicator].scale == "likert5":
            assert answers["value"].between(1, 5).all() and (answers["value"] % 1 == 0).all()
            assert answers["value"].nunique() >= 3


def test_activities_are_real_toc_activities_of_intervention_employers(sim):
    folder, _ = sim
    activities = pd.read_csv(folder / "activities.csv")
    employers = pd.read_csv(folder / "employers.csv").set_index("employer_id")
    known = {n.id for n in resolve("werkgever-vroegtijdig").nodes_in("activity")}
    assert len(activities) > 0 and set(activities["activity_id"]) <= known
    assert set(employers.loc[activities["employer_id"], "group"]) == {"intervention"}
    assert employers["group"].value_counts().to_dict() == {"intervention": 3, "comparison": 3}


def test_an_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="format"):
        write_drop(SimulationSpec(employers=2, employees_per_employer=2, survey_indicators=1), tmp_path, "json")
