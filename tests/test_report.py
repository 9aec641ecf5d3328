"""The evaluation report in a real headless Chromium: no console errors, every image rendered, printable,
self-contained, in Dutch and English, with small cells suppressed and the cut-off stated."""

from __future__ import annotations

import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import dagster as dg
import pytest
from pipeline_support import isolate, materialize, simulate
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[1]
#: Where the screenshot goes, for a person to look at (data/ is not in git).
ARTIFACTS = Path(os.environ.get("AD_PILOT_ARTIFACTS", ROOT / "data" / "test-artifacts"))
SECTIONS = (
    "design",
    "approaches",
    "balance",
    "trends",
    "effects",
    "estimates",
    "rtw",
    "event",
    "toc",
    "identification",
    "assumptions",
    "contribution",
    "quality",
    "business",
    "methods",
)


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    """One interim run of a simulated pilot, shared by the tests of this module."""
    tmp = tmp_path_factory.mktemp("report")
    monkeypatch = pytest.MonkeyPatch()
    data = isolate(monkeypatch, tmp)
    drop = tmp / "levering"
    simulate(drop, seed=17, survey_indicators=8)
    import datetime as dt

    _, _delivery, out = materialize(drop, data, dg.DagsterInstance.ephemeral(), cutoff=dt.date(2026, 12, 31))
    yield drop, out
    monkeypatch.undo()


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)
            if name == "id":
                self.ids.add(value)


def test_report_renders_in_chromium_without_errors(evaluated):
    _, out = evaluated
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        problems = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto((out / "report.html").as_uri())
        page.wait_for_load_state("load")
        images = page.evaluate(
            "Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete, "
            "w: i.naturalWidth, h: i.naturalHeight, shown: i.getBoundingClientRect().width}))"
        )
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        pdf = page.pdf(format="A4")
        browser.close()
    assert problems == []
    assert len(images) >= 10
    broken = [i["alt"] for i in images if not (i["complete"] and i["w"] > 0 and i["h"] > 0 and i["shown"] > 0)]
    assert broken == []
    assert (ARTIFACTS / "report.png").stat().st_size > 100_000
    assert pdf.startswith(b"%PDF") and len(pdf) > 50_000  # printable


def test_report_is_self_contained_and_complete(evaluated):
    _, out = evaluated
    html = (out / "report.html").read_text(encoding="utf-8")
    links = _Links()
    links.feed(html)
    assert not [u for u in links.urls if u.startswith(("http:", "https:", "//"))]
    assert all(u.startswith(("data:image/", "#")) for u in links.urls)
    assert set(SECTIONS) <= links.ids
    assert "Tussenrapportage: gegevens tot en met 2026-12-31" in html
    for words in (
        "Verschil-in-verschillen",
        "Arbeidsongeschiktheidspercentage",
        "Overlap van activiteiten",
        "Gezamenlijke toets op verschil in trend",
        "Wat geschat wordt: het gemiddelde effect op de behandelde werknemer-maanden",
        "Robuustheid: dezelfde effecten met andere schatters",
        "Beperkte gemiddelde tijd tot werkhervatting",
        "Netto opbrengst per werknemer",
        "Impact Centre Erasmus",
    ):
        assert words in html, words


def test_small_cells_are_suppressed_in_the_report(monkeypatch, tmp_path):
    data = isolate(monkeypatch, tmp_path)
    drop = tmp_path / "klein"
    simulate(drop, seed=4, employers=4, employees_per_employer=6, survey_indicators=2)  # 12 people per group
    _, _, out = materialize(drop, data, dg.DagsterInstance.ephemeral(), min_cell=13)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count(">onderdrukt<") >= 3  # employees per group, response rates, balance
    assert "suppressed: fewer than 13 employees in a group" in html  # the effects rows
    trends = (out / "trends.csv").read_text().splitlines()[1:]
    assert trends and all(line.endswith(",1") for line in trends)


def test_english_report_through_the_cli(evaluated, tmp_path):
    drop, _ = evaluated
    target = tmp_path / "report-en.html"
    pilot = Path(sys.executable).with_name("pilot")
    proc = subprocess.run(
        [str(pilot), "report", "--data", str(drop), "--out", str(target), "--lang", "en"],
        capture_output=True,
        text=True,
        timeout=600,
        env=os.environ | {"AD_PILOT_DATA": str(tmp_path / "d")},
    )
    assert proc.returncode == 0, proc.stderr[-1500:]
    html = target.read_text(encoding="utf-8")
    assert '<html lang="en">' in html and "Difference-in-differences" in html and "Intervention" in html
    assert "Verschil-in-verschillen" not in html
