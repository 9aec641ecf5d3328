"""What an evaluator sees in the Dagster UI after `pilot run`, read from a real webserver over GraphQL and
looked at in a real browser: the groups compared per indicator, trends of every indicator, every ToC legible,
the key findings beside the report, and a run that re-executes from the UI's own code location."""

from __future__ import annotations

import base64
import json
import os
import re
import struct
from pathlib import Path

import pandas as pd
import pytest
from pipeline_support import dagster_webserver, isolate, simulate
from playwright.sync_api import sync_playwright

from measures.contract.tables import TABLES
from measures.designs.load import DEFAULT_DESIGN, all_designs
from measures.evaluation.results import RESULTS
from measures.indicators.catalogue import indicators_by_id
from pipelines.defs.diagrams import AKC_TOCS
from pipelines.design_assets import prefix_of
from pipelines.run import run_drop
from report.comparison import LAYER_ORDER, comparison_columns, p_text
from toc.load import load_shipped
from toc.render import LAYER_TITLES

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
#: Where the screenshots go, for a person to look at (data/ is not in git).
SHOTS = Path(os.environ.get("AD_PILOT_ARTIFACTS", ROOT / "data" / "test-artifacts")) / "ui"

ENTRIES = """query($key: AssetKeyInput!, $partition: String!) { assetOrError(assetKey: $key) { ... on Asset {
  assetMaterializations(partitions: [$partition]) { metadataEntries { label __typename
    ... on MarkdownMetadataEntry { mdStr } ... on PathMetadataEntry { path } ... on TextMetadataEntry { text }
    ... on IntMetadataEntry { intValue } ... on FloatMetadataEntry { floatValue }
    ... on TableMetadataEntry { table { records schema { columns { name type description } } } } } } } } }"""
WORKSPACE = """{ workspaceOrError { ... on Workspace { locationEntries { name locationOrLoadError {
  ... on RepositoryLocation { repositories { name pipelines { name pipelineSnapshotId } } } } } } } }"""
SCHEMAS = """{ assetNodes { assetKey { path } metadataEntries { label
  ... on TableSchemaMetadataEntry { schema { columns { name description } } } } } }"""
#: The assets that write a result table, by the table they write.
RESULT_ASSETS = {
    "indicator_trends": "trends",
    "effects": "effects",
    "event_study": "event_study",
    "balance": "balance",
    "quarantine": "quarantine",
    "assumptions": "assumptions",
    "preregistration": "preregistration",
}
RUN = """query($id: ID!) { runOrError(runId: $id) { ... on Run {
  repositoryOrigin { repositoryLocationName repositoryName } pipelineSnapshotId } } }"""


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    """One `pilot run` of a simulated pilot (the route the CLI takes), then a webserver on its instance."""
    tmp = tmp_path_factory.mktemp("ui")
    monkeypatch = pytest.MonkeyPatch()
    data = isolate(monkeypatch, tmp)
    drop = tmp / "levering"
    simulate(drop, seed=21, survey_indicators=10)
    with dagster_webserver(data, tmp / "webserver.log") as gql:
        outcome = run_drop(drop, tmp / "out", log_level="WARNING")
        yield gql, outcome
    monkeypatch.undo()


def entries(gql, asset: str, partition: str) -> list[dict]:
    [materialization] = gql(ENTRIES, key={"path": [asset]}, partition=partition)["assetOrError"][
        "assetMaterializations"
    ]
    return materialization["metadataEntries"]


def by_label(gql, asset: str, partition: str) -> dict[str, dict]:
    return {e["label"]: e for e in entries(gql, asset, partition)}


def test_a_pilot_run_re_executes_from_the_workspace_code_location(evaluated):
    gql, outcome = evaluated
    [location] = gql(WORKSPACE)["workspaceOrError"]["locationEntries"]
    [repository] = location["locationOrLoadError"]["repositories"]
    job = next(p for p in repository["pipelines"] if p["name"] == "pilot_evaluation")
    run = gql(RUN, id=outcome.run_id)["runOrError"]
    # what the UI compares before it offers re-execution without a warning: origin and job snapshot
    assert run["repositoryOrigin"] == {"repositoryLocationName": location["name"], "repositoryName": repository["name"]}
    assert location["name"] == "ad-pilot-toolkit"
    assert run["pipelineSnapshotId"] == job["pipelineSnapshotId"]


def test_every_asset_that_writes_a_table_describes_its_columns(evaluated):
    gql, _ = evaluated
    schemas = {
        "/".join(node["assetKey"]["path"]): e["schema"]["columns"]
        for node in gql(SCHEMAS)["assetNodes"]
        for e in node["metadataEntries"]
        if e["label"] == "dagster/column_schema"
    }
    # (name, description) from the one declared source of each table, in English (static text: one language)
    expected = {name: [(c.name, c.description_en) for c in TABLES[name].columns] for name in TABLES} | {
        asset: [(c.name, c.description("en")) for c in RESULTS[table].columns if c.csv]
        for asset, table in RESULT_ASSETS.items()
    }
    # every other study design's tables, under its key prefix, from its own contract (issue 18)
    for design in (d for d in all_designs().values() if d.id != DEFAULT_DESIGN):
        expected |= {
            f"{prefix_of(design.id)}/{t.name}": [(c.name, c.description_en) for c in t.columns]
            for t in design.contract.tables
        }
    for asset, columns in expected.items():
        assert [(c["name"], c["description"]) for c in schemas[asset]] == columns, asset
        assert all(len(description) > 5 for _, description in columns), asset


def test_the_effects_asset_compares_the_groups_per_indicator(evaluated):
    gql, outcome = evaluated
    found = by_label(gql, "effects", outcome.delivery.key)
    assert next(iter(found)) == "group_comparison"  # first on the page
    table = found["group_comparison"]["table"]
    columns = table["schema"]["columns"]
    assert [c["name"] for c in columns] == [name for name, _ in comparison_columns("nl").values()]
    assert all(len(c["description"]) > 20 for c in columns)
    rows = [json.loads(r) for r in table["records"]]
    written = pd.read_csv(outcome.out_dir / "effects.csv")
    assert len(rows) == len(written)
    catalogue = indicators_by_id()
    by_label_nl = {i.label_nl: i for i in catalogue.values()}
    layers = {title: rank for rank, title in enumerate(LAYER_TITLES["nl"][layer] for layer in LAYER_ORDER)}
    assert [layers[r["ToC-laag"]] for r in rows] == sorted(layers[r["ToC-laag"]] for r in rows)
    for row in rows:
        ind = by_label_nl[row["Indicator"]]  # the catalogue's Dutch label, never the raw id
        effect = written.loc[written["indicator_id"] == ind.id].iloc[0]
        assert row["Beter als"] == ("lager" if ind.lower_is_better else "hoger")
        assert all(ref in row["ToC-knopen"] for ref in ind.primary_for)
        if effect["p_value"] < 0.001:
            assert row["p"] == "< 0,001"
        else:
            assert row["p"] == f"{effect['p_value']:.3f}".replace(".", ",")
        clear = effect["ci_low"] > 0 or effect["ci_high"] < 0
        better = (effect["estimate"] < 0) == ind.lower_is_better
        assert row["Oordeel"] == ("geen bewijs" if not clear else "verbetering" if better else "verslechtering")
        for group in ("Interventie", "Vergelijking"):
            assert re.fullmatch(r"(−?\d+,\d\d \(\d+\)|onderdrukt)", row[f"{group} na (n)"]), row
    assert not {r["p"] for r in rows} & {"0", "0,000"}


def test_the_trends_asset_shows_every_indicator_first(evaluated):
    gql, outcome = evaluated
    listed = entries(gql, "indicator_trends", outcome.delivery.key)
    assert [e["label"] for e in listed[:3]] == ["trends_administrative", "trends_questionnaires", "ao_pct_trend"]
    sizes = {e["label"]: _png_size(e["mdStr"]) for e in listed[:3]}
    assert sizes["ao_pct_trend"][0] >= 1200
    survey = pd.read_csv(outcome.out_dir / "trends.csv").query("period in ['t0', 't1', 't2']")["indicator_id"]
    rows_of_panels = -(-survey.nunique() // 4)
    assert sizes["trends_questionnaires"][1] >= rows_of_panels * 200  # a panel per questionnaire indicator


def test_every_toc_has_its_own_legible_entry(evaluated):
    gql, outcome = evaluated
    found = by_label(gql, "toc_diagrams", outcome.delivery.key)
    tocs = load_shipped()
    shown = [label.removeprefix("ToC ") for label in found if label.startswith("ToC ")]
    assert shown[:4] == list(AKC_TOCS) and set(shown) <= set(tocs)
    for toc_id in shown:
        svg = _data(found[f"ToC {toc_id}"]["mdStr"], "image/svg+xml").decode()
        assert tocs[toc_id].title in svg.replace("&#45;", "-")
        width = float(re.search(r'<svg width="([\d.]+)pt"', svg).group(1))
        assert width * 4 / 3 >= 800  # points to CSS pixels: shown at its own size, scrolled in the dialog


def test_the_outputs_asset_leads_to_the_report_and_its_key_findings(evaluated):
    gql, outcome = evaluated
    found = by_label(gql, "evaluation_outputs", outcome.delivery.key)
    assert found["report"]["__typename"] == "PathMetadataEntry"
    assert Path(found["report"]["path"]) == outcome.out_dir / "report.html"
    main = [json.loads(r) for r in found["main_effects"]["table"]["records"]]
    labels = {i.id: i.label_nl for i in indicators_by_id().values()}
    assert {r["Indicator"] for r in main} == {
        labels[i] for i in ("ao_pct", "absence_days", "loonwaarde_pct", "rtw_12m")
    }
    trends = pd.read_csv(outcome.out_dir / "trends.csv")
    assert found["suppressed_trends"]["intValue"] == int(trends["suppressed"].sum())
    assert f"{int(trends['suppressed'].sum())} van {len(trends)} trendcellen" in found["suppressed"]["text"]
    balance = pd.read_csv(outcome.out_dir / "balance.csv")
    worse = balance.loc[balance["std_diff"].abs() > 0.25, "variable"].tolist()
    assert set(found["imbalanced_variables"]["text"].split(", ")) == (set(worse) or {"–"})
    text = found["balance"]["text"]
    assert text.startswith("Bij de start verschillen de groepen op" if worse else "De groepen zijn bij de start")
    assert all(labels.get(v, v) in text for v in worse) and ("pre-trends" in text) == bool(worse)  # what it means


def test_the_pages_read_like_the_report_in_a_browser(evaluated):
    """Screenshots of the effects, trends, ToC and outputs pages and of each image's dialog, for a person to
    look at; the images must have loaded at their own size."""
    gql, outcome = evaluated
    effects = pd.read_csv(outcome.out_dir / "effects.csv").set_index("indicator_id")
    ao_p = p_text(effects.loc["ao_pct", "p_value"])  # as the report writes it, decimal comma, never 0
    gql("mutation { setNuxSeen }")  # Dagster's invitation to its community would cover the page
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = f"http://127.0.0.1:{gql.port}/assets"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 2200, "height": 1200})
        page.set_viewport_size({"width": 2600, "height": 3000})  # the comparison table whole, as on a big screen
        _open(page, f"{base}/effects")
        assert page.get_by_text(ao_p, exact=True).count() > 0
        assert page.get_by_text("Arbeidsongeschiktheidspercentage").count()
        page.screenshot(path=str(SHOTS / "effects.png"), full_page=True)
        page.evaluate(SCROLL_RIGHT)  # the rest of the comparison, as a reader scrolls the table sideways
        page.screenshot(path=str(SHOTS / "effects-scrolled.png"), full_page=True)
        page.set_viewport_size({"width": 2200, "height": 1200})
        _open(page, f"{base}/indicator_trends")
        page.screenshot(path=str(SHOTS / "trends.png"), full_page=True)
        widths = {
            label: _dialog(page, label, SHOTS / f"trends-{label}.png")
            for label in ("trends_administrative", "trends_questionnaires", "ao_pct_trend")
        }
        assert widths["ao_pct_trend"] >= 1200 and min(widths.values()) > 0
        _open(page, f"{base}/toc_diagrams")
        page.screenshot(path=str(SHOTS / "tocs.png"), full_page=True)
        for toc_id in AKC_TOCS:
            assert _dialog(page, f"ToC {toc_id}", SHOTS / f"toc-{toc_id}.png") >= 800
        _open(page, f"{base}/evaluation_outputs")
        page.screenshot(path=str(SHOTS / "outputs.png"), full_page=True)
        browser.close()


#: Scroll the metadata table (whose value column holds the comparison) to its right end.
SCROLL_RIGHT = """() => { for (const el of document.querySelectorAll('div')) {
  if (getComputedStyle(el).overflowX === 'auto' && el.scrollWidth > el.clientWidth + 10) el.scrollLeft = el.scrollWidth;
} }"""


def _open(page, url: str) -> None:
    page.goto(url)
    page.get_by_text("Metadata").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)


def _dialog(page, label: str, shot: Path) -> int:
    """Open the markdown of the metadata entry `label`, screenshot its dialog, close it; the image's width."""
    page.locator("tr", has=page.get_by_text(label, exact=True)).get_by_text("[Show Markdown]").click()
    dialog = page.get_by_role("dialog").filter(has=page.get_by_text(label, exact=True))
    image = dialog.locator("img")
    image.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    width = image.evaluate("img => img.naturalWidth")
    dialog.screenshot(path=str(shot))
    dialog.get_by_role("button", name="Close").click()
    dialog.wait_for(state="detached")  # gone before the next one opens
    return width


def _data(md: str, mime: str) -> bytes:
    match = re.search(rf"data:{re.escape(mime)};base64,([A-Za-z0-9+/=]+)", md)
    assert match, md[:200]
    return base64.b64decode(match.group(1))


def _png_size(md: str) -> tuple[int, int]:
    return struct.unpack(">II", _data(md, "image/png")[16:24])
