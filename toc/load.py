"""Reading ToC files: YAML text -> `TheoryOfChange`, with errors that name the file and the node."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from toc.errors import TocError
from toc.models import TheoryOfChange

# libyaml's safe loader when PyYAML was built with it (ten times faster), else the pure-Python one
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

DATA_DIR = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a ToC file; `str()` gives the one line the CLI prints."""

    file: str
    message: str
    node: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}: node '{self.node}'" if self.node else self.file
        return f"{where}: {self.message}"


class TocFileError(TocError):
    """A ToC file that cannot be loaded; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def shipped_paths() -> list[Path]:
    """The ToC files that ship with the package, sorted by file name."""
    return sorted(DATA_DIR.glob("*.yaml"))


def load_shipped() -> dict[str, TheoryOfChange]:
    """Every shipped ToC by id."""
    tocs = [load_toc(path) for path in shipped_paths()]
    return {toc.id: toc for toc in tocs}


def resolve(ref: str) -> TheoryOfChange:
    """A ToC by shipped id (`werkgever-vroegtijdig`) or by path to a YAML file."""
    path = Path(ref)
    if path.suffix in {".yaml", ".yml"} or path.is_file():
        return load_toc(path)
    candidate = DATA_DIR / f"{ref}.yaml"
    if candidate.is_file():
        return load_toc(candidate)
    known = ", ".join(p.stem for p in shipped_paths())
    raise TocFileError([Problem(ref, f"no such ToC (shipped: {known})")])


def load_toc(path: str | Path) -> TheoryOfChange:
    path = Path(path)
    try:
        stat = path.stat()
    except OSError as exc:
        raise TocFileError([Problem(str(path), f"cannot read file: {exc.strerror}")]) from exc
    return _load_unchanged(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _load_unchanged(path: str, mtime_ns: int, size: int) -> TheoryOfChange:
    """Parse a file once per version of it (ToCs are immutable models, so sharing them is safe)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise TocFileError([Problem(path, f"cannot read file: {exc.strerror}")]) from exc
    return parse_toc(text, path)


def parse_toc(text: str, name: str) -> TheoryOfChange:
    """Parse YAML text; `name` is used in messages (a path, or `REV:path` for a git version)."""
    try:
        raw = yaml.load(text, Loader=SafeLoader)
    except yaml.YAMLError as exc:
        raise TocFileError([Problem(name, f"not valid YAML: {exc}")]) from exc
    if not isinstance(raw, dict):
        raise TocFileError([Problem(name, "expected a mapping with id, title, nodes, links")])
    try:
        return TheoryOfChange.model_validate(raw)
    except ValidationError as exc:
        raise TocFileError([_problem_from_error(name, raw, err) for err in exc.errors()]) from exc


def _problem_from_error(name: str, raw: dict, err: ErrorDetails) -> Problem:
    """Turn one pydantic error into a Problem that names the node (or link) it is about."""
    loc = err["loc"]
    field = ".".join(str(part) for part in loc)
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "literal_error" and loc and loc[-1] == "layer":
        message = f"unknown layer {err['input']!r}; {err['msg'].lower()}"
    if len(loc) >= 2 and loc[0] == "nodes" and isinstance(loc[1], int):
        node = _get(raw, "nodes", loc[1], "id") or f"#{loc[1] + 1}"
        rest = ".".join(str(part) for part in loc[2:])
        return Problem(name, f"{rest}: {message}" if rest else message, node=str(node))
    if len(loc) >= 2 and loc[0] == "links" and isinstance(loc[1], int):
        source, target = _get(raw, "links", loc[1], "source"), _get(raw, "links", loc[1], "target")
        rest = ".".join(str(part) for part in loc[2:])
        return Problem(
            name, f"link {source} -> {target}: {rest}: {message}" if rest else f"link {source} -> {target}: {message}"
        )
    return Problem(name, f"{field}: {message}" if field else message)


def _get(raw, *path):
    for key in path:
        try:
            raw = raw[key]
        except (KeyError, IndexError, TypeError):
            return None
    return raw
