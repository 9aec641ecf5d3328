"""Reading study designs (studies/*.yaml) and checking each against its ToCs, the catalogue and its contract.

Rules (each broken rule is one line naming the file, and where it helps the indicator, node or table):
- The ToCs exist; the indicators are in the catalogue; the primary indicator is one of them.
- Coverage: every output, short- and long-term effect and negative effect of the design's ToCs is measured by
  at least one of the design's indicators (`toc coverage` and a CI test fail otherwise).
- Every indicator can be computed from the contract: a questionnaire indicator needs the `survey` table, a
  process indicator the `process` table, a case-file or monitoring indicator a `measure` whose tables and
  columns the contract has; administrative indicators belong to the pilot-did design (monthly `admin` rows).
- Milestones are values of the milestones table and have a label (their own or a ToC reference date).
`akc-pilot` is the default design: a study without `--design` is evaluated as the AKC pilot.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from measures.contract.tables import STUDIES_DIR, Contract, ContractError, Table, contract_from_mapping
from measures.designs.model import Measure, StudyDesign
from measures.indicators.catalogue import Indicator, indicators_by_id, load_catalogue
from toc.errors import UserError
from toc.load import SafeLoader, load_shipped
from toc.models import EFFECT_LAYERS, TheoryOfChange

DEFAULT_DESIGN = "akc-pilot"
#: Indicator sources and the table that holds their values.
SOURCE_TABLES = {
    "questionnaire_employee": "survey",
    "questionnaire_employer": "survey",
    "questionnaire_professional": "survey",
    "questionnaire_manager": "survey",
    "process": "process",
}


class DesignError(UserError):
    """A study design that cannot be used; the message names the file and what is wrong."""


def design_paths() -> list[Path]:
    return sorted(STUDIES_DIR.glob("*.yaml"))


def design_ids() -> list[str]:
    return [p.stem for p in design_paths()]


@cache
def load_design(design_id: str = DEFAULT_DESIGN) -> StudyDesign:
    """A shipped design by id, checked (`DesignError` with every problem otherwise)."""
    path = STUDIES_DIR / f"{design_id}.yaml"
    if not path.is_file():
        raise DesignError(f"no study design '{design_id}' (designs: {', '.join(design_ids())})")
    design = parse_design(path)
    problems = check_design(design, path.name)
    if problems:
        raise DesignError("\n".join(problems))
    return design


def parse_design(path: Path) -> StudyDesign:
    """A design file as a model (its contract built from the declaration), without the cross-file checks."""
    where = path.name
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SafeLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise DesignError(f"{where}: cannot be read as YAML ({type(exc).__name__})") from None
    if not isinstance(raw, dict) or "id" not in raw:
        raise DesignError(f"{where}: expected a mapping with id, design, tocs, indicators, contract")
    if raw["id"] != path.stem:
        raise DesignError(f"{where}: id '{raw['id']}' differs from the file name")
    try:
        raw = {**raw, "contract": _contract(raw.get("contract"), raw["id"], where)}
        return StudyDesign.model_validate(raw)
    except ContractError as exc:
        raise DesignError(str(exc)) from None
    except ValidationError as exc:
        lines = [
            f"{where}: {'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()
        ]
        raise DesignError("\n".join(lines)) from None


def _contract(raw: object, design_id: str, where: str) -> Contract:
    if isinstance(raw, str):  # the contract of another design
        return load_design(raw).contract
    if not isinstance(raw, dict):
        raise DesignError(f"{where}: contract: a mapping of tables, or the id of another design")
    return contract_from_mapping(raw, design_id, where)


def all_designs() -> dict[str, StudyDesign]:
    return {design_id: load_design(design_id) for design_id in design_ids()}


def design_indicators(design: StudyDesign) -> list[Indicator]:
    """The design's indicators in catalogue order (all the catalogue's indicators of its ToCs when not listed)."""
    if design.indicators:
        chosen = set(design.indicators)
        return [i for i in load_catalogue() if i.id in chosen]
    tocs = set(design.tocs)
    return [i for i in load_catalogue() if any(ref.partition("/")[0] in tocs for ref in i.nodes)]


def uncovered(design: StudyDesign, tocs: dict[str, TheoryOfChange] | None = None) -> list[str]:
    """`TOC/NODE` of every output and effect of the design's ToCs that none of its indicators measures."""
    tocs = load_shipped() if tocs is None else tocs
    measured = {ref for ind in design_indicators(design) for ref in ind.nodes}
    return [
        f"{toc_id}/{node.id}"
        for toc_id in design.tocs
        if toc_id in tocs
        for node in tocs[toc_id].nodes_in(*EFFECT_LAYERS)
        if f"{toc_id}/{node.id}" not in measured
    ]


def check_design(design: StudyDesign, where: str) -> list[str]:
    """Every problem of a parsed design against the ToCs, the catalogue and its contract."""
    tocs, catalogue = load_shipped(), indicators_by_id()
    problems = [f"{where}: ToC '{t}' does not exist" for t in design.tocs if t not in tocs]
    problems += [f"{where}: indicator '{i}' is not in the catalogue" for i in design.indicators if i not in catalogue]
    listed = set(design.indicators) or {i.id for i in design_indicators(design)}
    if design.primary_indicator not in listed:
        problems.append(f"{where}: the primary indicator '{design.primary_indicator}' is not one of its indicators")
    problems += [f"{where}: node {ref} has no indicator among the design's" for ref in uncovered(design, tocs)]
    problems += [f"{where}: measures: '{i}' is not one of its indicators" for i in design.measures if i not in listed]
    if design.design != "pilot-did":
        problems += [f"{where}: {p}" for p in _computable(design, [catalogue[i] for i in listed if i in catalogue])]
        problems += [f"{where}: {p}" for p in _units(design)]
        problems += [f"{where}: {p}" for p in _milestones(design, tocs)]
    return problems


def _computable(design: StudyDesign, indicators: list[Indicator]) -> Iterator[str]:
    tables = design.contract.by_name
    for ind in indicators:
        measure = design.measure(ind.id)
        if ind.source in SOURCE_TABLES:
            if SOURCE_TABLES[ind.source] not in tables:
                yield f"indicator '{ind.id}' ({ind.source}) needs a '{SOURCE_TABLES[ind.source]}' table"
        elif ind.source == "admin":
            yield f"indicator '{ind.id}' needs monthly administrative rows (the pilot-did design)"
        elif measure is None:
            yield f"indicator '{ind.id}' ({ind.source}) needs a measure (measures: {ind.id}: ...)"
        else:
            yield from (f"measures: {ind.id}: {p}" for p in _measure_problems(design, measure))


def _measure_problems(design: StudyDesign, measure: Measure) -> Iterator[str]:
    u, tables = design.units, design.contract.by_name
    needs: list[tuple[str, str]] = [(u.people, u.person), (u.people, u.start)]
    event = measure.event
    if event is not None and event.end_reason:
        needs += [(u.people, u.end), (u.people, u.end_reason)]
    if event is not None and event.milestone:
        needs += [(u.milestones, "milestone"), (u.milestones, "date")]
    if event is not None and event.column:
        needs.append((u.people, event.column))
    if measure.kind in ("adherence", "measurements", "symptom_change"):
        needs += [(u.measurements, "date"), (u.people, u.frequency)]
    if measure.kind == "symptom_change":
        needs += [(u.measurements, design.symptoms_column), (u.measurements, "score")]
    if measure.kind == "feedback":
        needs.append((u.feedback, "date"))
    for table, column in needs:
        if table not in tables or column not in tables[table].column_names:
            yield f"the contract has no column {table}.{column}"
    if event is not None and event.milestone and u.milestones in tables:
        yield from _milestone_value(tables[u.milestones], event.milestone)


def _milestone_value(table: Table, milestone: str) -> Iterator[str]:
    if "milestone" in table.column_names and milestone not in table.column("milestone").values:
        yield f"'{milestone}' is not a value of {table.name}.milestone"


def _units(design: StudyDesign) -> Iterator[str]:
    u, tables = design.units, design.contract.by_name
    needs = [(u.clusters, u.cluster), (u.people, u.person), (u.people, u.cluster), (u.people, u.start)]
    needs += [(u.clusters, c) for c in (u.group, u.breakdown) if c]
    for table, column in needs:
        if table not in tables or column not in tables[table].column_names:
            yield f"units: the contract has no column {table}.{column}"


def _milestones(design: StudyDesign, tocs: dict[str, TheoryOfChange]) -> Iterator[str]:
    tables = design.contract.by_name
    weeks = {d.week for t in design.tocs if t in tocs for d in tocs[t].reference_dates}
    for milestone in design.milestones:
        if design.units.milestones in tables:
            yield from _milestone_value(tables[design.units.milestones], milestone.id)
        toc_week = milestone.toc_week if milestone.toc_week is not None else int(milestone.due_from)
        if not (milestone.label_nl and milestone.label_en) and toc_week not in weeks:
            yield f"milestone '{milestone.id}': no label and no ToC reference date in week {toc_week}"
