"""The options several `pilot` commands share, declared once."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON (a stable contract for other tools).")]
QuietFlag = Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr while it works.")]
LangOption = Annotated[str, typer.Option(help="Language of the report: nl or en.")]
CutoffOption = Annotated[
    dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Interim results: leave out data after YYYY-MM-DD.")
]
DesignOption = Annotated[
    str | None,
    typer.Option(help="Study design (a file under studies/): akc-pilot (default), passend-werk, eigen-regie, ..."),
]

MaxRows = Annotated[
    list[str] | None,
    typer.Option("--max-rows", help="Row limit of one table, TABLE=N (repeatable); defaults in the contract."),
]
Earliest = Annotated[
    dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Earliest plausible date (default 1990-01-01).")
]
Latest = Annotated[
    dt.datetime | None,
    typer.Option(formats=["%Y-%m-%d"], help="Latest plausible date (default one year after today)."),
]


def limits_of(max_rows: list[str] | None, earliest: dt.datetime | None, latest: dt.datetime | None):
    """The read limits a command was given (the contract's defaults otherwise)."""
    from measures.contract.limits import EARLIEST_DATE, Limits, parse_max_rows

    return Limits(
        max_rows=parse_max_rows(max_rows or []),
        earliest_date=earliest.date() if earliest else EARLIEST_DATE,
        latest_date=latest.date() if latest else None,
    )
