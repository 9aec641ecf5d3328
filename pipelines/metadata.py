"""How results show in the Dagster UI: tables, images and the contract's column schemas."""

from __future__ import annotations

import base64

import dagster as dg
import pandas as pd

from measures.contract.tables import Table
from measures.evaluation.results import ResultTable

_TYPES = {
    "id": "string",
    "enum": "string",
    "text": "string",
    "date": "date",
    "month": "date (month)",
    "number": "double",
}


def table_schema(table: Table) -> dg.TableSchema:
    """The contract as the column schema the Dagster UI shows."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                c.name,
                _TYPES[c.kind],
                description=c.description_en,  # static text: English, as every description of the code location
                constraints=dg.TableColumnConstraints(nullable=c.nullable, other=[c.rule("en")]),
            )
            for c in table.columns
        ]
    )


def result_schema(table: ResultTable) -> dg.TableSchema:
    """A declared result table as the column schema the Dagster UI shows (the CSV's columns, described)."""
    return dg.TableSchema(
        columns=[dg.TableColumn(c.name, c.type, description=c.description_en) for c in table.columns if c.csv]
    )


def markdown_table(frame: pd.DataFrame, max_rows: int = 60, floatfmt: str = ".3g") -> dg.MetadataValue:
    """A table for the Dagster UI (only ever called on tables that are already suppressed)."""
    shown = frame.head(max_rows)
    text = shown.to_markdown(index=False, floatfmt=floatfmt) if len(shown) else "_(empty)_"
    if len(frame) > max_rows:
        text += f"\n\n… {len(frame) - max_rows} more rows"
    return dg.MetadataValue.md(text)


def text_table(frame: pd.DataFrame, columns: list[tuple[str, str]]) -> dg.MetadataValue:
    """A table of text cells that the UI shows in full on the asset page, each column described in its schema
    (`columns`: header and description, in the frame's column order)."""
    schema = dg.TableSchema(columns=[dg.TableColumn(name, "string", description=text) for name, text in columns])
    records = [dg.TableRecord({str(k): str(v) for k, v in row.items()}) for row in frame.to_dict("records")]
    return dg.MetadataValue.table(records, schema=schema)


def image(png: bytes, alt: str) -> dg.MetadataValue:
    """Dagster has no image metadata type: a base64 PNG inside markdown shows in the UI (at its own size,
    in a dialog that scrolls)."""
    return dg.MetadataValue.md(f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})")


def svg_image(svg: str, alt: str) -> dg.MetadataValue:
    """An SVG drawing as `image` shows a PNG: sharp at any zoom, and far smaller for diagrams."""
    return dg.MetadataValue.md(f"![{alt}](data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()})")
