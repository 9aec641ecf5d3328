"""How results show in the Dagster UI: tables, images and the contract's column schemas."""

from __future__ import annotations

import base64

import dagster as dg
import pandas as pd

from measures.contract.tables import Table

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
                description=f"{c.description_nl} / {c.description_en}",
                constraints=dg.TableColumnConstraints(nullable=c.nullable, other=[c.rule("en")]),
            )
            for c in table.columns
        ]
    )


def markdown_table(frame: pd.DataFrame, max_rows: int = 60, floatfmt: str = ".3g") -> dg.MetadataValue:
    """A table for the Dagster UI (only ever called on tables that are already suppressed)."""
    shown = frame.head(max_rows)
    text = shown.to_markdown(index=False, floatfmt=floatfmt) if len(shown) else "_(empty)_"
    if len(frame) > max_rows:
        text += f"\n\n… {len(frame) - max_rows} more rows"
    return dg.MetadataValue.md(text)


def image(png: bytes, alt: str) -> dg.MetadataValue:
    """Dagster has no image metadata type: a base64 PNG inside markdown shows in the UI."""
    return dg.MetadataValue.md(f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})")
