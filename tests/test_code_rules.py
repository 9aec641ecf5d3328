"""The rules of the house, checked like any other behaviour: lint, format, types, layers, one home per value.

Each tool runs bare from the repository root, configured in pyproject.toml, exactly as a developer runs it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PACKAGES = ("toc", "measures", "pipelines", "report", "cli")


@pytest.mark.parametrize(
    "command",
    [["ruff", "check", "."], ["ruff", "format", "--check", "."], ["mypy"], ["lint-imports"]],
    ids=["ruff check", "ruff format", "mypy", "lint-imports"],
)
def test_the_code_passes(command):
    proc = subprocess.run([str(BIN / command[0]), *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{' '.join(command)}:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}"


#: Values that must be written once, in their home module; everywhere else they are imported.
HOMES = {
    r"\b20200501\b": "measures/estimation/inference.py",  # the seed
    r"\b176\b": "measures/evaluation/business_case.py",  # the report's daily wage
    r"(?<![\d.])0\.25\b(?!\))": "measures/evaluation/thresholds.py",  # the balance threshold (not a tuple's end)
}


@pytest.mark.parametrize("pattern", HOMES)
def test_each_value_has_one_home(pattern):
    home = HOMES[pattern]
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if re.search(pattern, line) and relative != home:
                    found.append(f"{relative}:{number}: {line.strip()}")
    assert not found, f"{pattern} belongs in {home} only:\n" + "\n".join(found)
    assert re.search(pattern, (ROOT / home).read_text(encoding="utf-8")), f"{home} no longer holds {pattern}"
