"""The results overlay: the classification on its own, and the colours `toc render --overlay` really draws."""

from __future__ import annotations

import math
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from toc.overlay import RESULT_STYLES, NodeResult, annotation, classify

SVG = "{http://www.w3.org/2000/svg}"
TOC = Path(sys.executable).with_name("toc")


def result(estimate, low, high, lower_is_better=False, indicator="x") -> NodeResult:
    return NodeResult(indicator=indicator, estimate=estimate, ci_low=low, ci_high=high, lower_is_better=lower_is_better)


@pytest.mark.parametrize(
    "estimate,low,high,lower_is_better,expected",
    [
        (0.5, 0.2, 0.8, False, "improvement"),  # higher is better, CI above 0
        (-0.5, -0.8, -0.2, False, "worsening"),  # higher is better, CI below 0
        (-1.2, -2.0, -0.4, True, "improvement"),  # lower is better (absence_days), CI below 0
        (1.2, 0.4, 2.0, True, "worsening"),  # lower is better, CI above 0
        (0.1, -0.2, 0.4, False, "no_evidence"),  # CI spans 0
        (-0.1, -0.4, 0.2, True, "no_evidence"),
        (0.3, 0.0, 0.6, False, "no_evidence"),  # a CI that touches 0 does not exclude it
        (-0.3, -0.6, 0.0, True, "no_evidence"),
    ],
)
def test_classify_by_ci_and_direction(estimate, low, high, lower_is_better, expected):
    assert classify(result(estimate, low, high, lower_is_better)) == expected


@pytest.mark.parametrize(
    "values",
    [
        (None, None, None),
        (math.nan, math.nan, math.nan),
        (0.5, math.nan, 0.8),
        (0.5, 0.2, None),
        (math.inf, 0.2, 0.8),
    ],
)
def test_missing_values_are_not_measured(values):
    assert classify(result(*values)) == "not_measured"
    assert classify(result(*values, lower_is_better=True)) == "not_measured"


def test_no_result_is_not_measured_and_styles_are_distinct():
    assert classify(None) == "not_measured"
    assert set(RESULT_STYLES) == {"improvement", "worsening", "no_evidence", "not_measured"}
    assert RESULT_STYLES["not_measured"].fill.lower() == "#ffffff"
    assert len({s.fill.lower() for s in RESULT_STYLES.values()}) == 4
    assert len({s.marker for s in RESULT_STYLES.values()}) == 4  # a second cue besides colour


def test_annotation_marks_class_and_estimate():
    text = annotation(result(-1.25, -2.0, -0.5, True, "absence_days"), "nl")
    assert text.startswith(RESULT_STYLES["improvement"].marker) and "absence_days" in text and "1,25" in text
    assert "1.25" in annotation(result(-1.25, -2.0, -0.5, True, "absence_days"), "en")
    assert annotation(None, "en").startswith(RESULT_STYLES["not_measured"].marker)


def fills(svg: Path) -> dict[str, str]:
    """Node id -> fill of its shape in Graphviz SVG (named colours normalised to hex)."""
    out = {}
    for g in ET.parse(svg).getroot().iter(f"{SVG}g"):
        if g.get("class") == "node":
            shape = next(c for c in g if c.tag in (f"{SVG}path", f"{SVG}polygon"))
            fill = shape.get("fill").lower()
            out[g.find(f"{SVG}title").text] = {"white": "#ffffff"}.get(fill, fill)
    return out


def expected(cls: str) -> str:
    return RESULT_STYLES[cls].fill.lower()


def test_rendered_overlay_colours_planted_effects(tmp_path):
    """REQUIRED: a planted improvement, worsening and null effect come out in their colours."""
    effects = tmp_path / "effects.csv"
    effects.write_text(
        "indicator_id,estimate,ci_low,ci_high,p_value\n"
        "absence_days,-1.2,-2.0,-0.4,0.004\n"  # lower is better, CI below 0 -> improvement
        "regie_ervaren,-0.3,-0.5,-0.1,0.01\n"  # higher is better, CI below 0 -> worsening
        "welbevinden,0.1,-0.2,0.4,0.5\n"  # CI spans 0 -> no evidence
        "regie_uit_handen,0.5,0.2,0.8,0.002\n"  # negative effect, lower is better, CI above 0 -> worsening
        "stress_ervaren,,,,\n",  # a row without numbers -> not measured
        encoding="utf-8",
    )
    svg = tmp_path / "overlay.svg"
    proc = subprocess.run(
        [
            str(TOC),
            "render",
            "werknemer-vroegtijdig",
            "--format",
            "svg",
            "--output",
            str(svg),
            "--overlay",
            str(effects),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    drawn = fills(svg)
    assert drawn["absence_reduced"] == expected("improvement")
    assert drawn["employee_takes_control"] == expected("worsening")
    assert drawn["wellbeing_increases"] == expected("no_evidence")
    assert drawn["employee_loses_control"] == expected("worsening")
    for unmeasured in (
        "sustainable_employability",
        "less_wia_inflow",
        "employee_less_stress",
        "ad_finds_return_options",
    ):
        assert drawn[unmeasured] == "#ffffff", unmeasured
    assert drawn["dossier_check"] != "#ffffff"  # activities keep their layer colour
    text = "".join("".join(t.itertext()) for t in ET.parse(svg).getroot().iter(f"{SVG}text"))
    text = "".join(text.split())
    assert "absence_days:−1,20[−2,00;−0,40]" in text  # the estimate is written on the node
    assert "regie_ervaren" in text
    for style in RESULT_STYLES.values():  # the legend names every class
        assert "".join(style.label_nl.split()) in text


def test_overlay_in_png_and_english(tmp_path):
    effects = tmp_path / "effects.csv"
    effects.write_text("indicator_id,estimate,ci_low,ci_high\nabsence_days,-1.2,-2.0,-0.4\n", encoding="utf-8")
    png = tmp_path / "overlay.png"
    proc = subprocess.run(
        [
            str(TOC),
            "render",
            "werknemer-vroegtijdig",
            "--format",
            "png",
            "--output",
            str(png),
            "--lang",
            "en",
            "--overlay",
            str(effects),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 10_000


def test_overlay_file_problems_are_one_line(tmp_path):
    bad = tmp_path / "effects.csv"
    bad.write_text("indicator,estimate\nabsence_days,1\n", encoding="utf-8")
    for overlay in (bad, tmp_path / "missing.csv"):
        proc = subprocess.run(
            [
                str(TOC),
                "render",
                "werknemer-vroegtijdig",
                "--output",
                str(tmp_path / "o.svg"),
                "--overlay",
                str(overlay),
            ],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and proc.stderr.startswith("error:")
    assert not (tmp_path / "o.svg").exists()
