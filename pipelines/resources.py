"""Resources of the code location: the options a run may set, and the store that hands panels to the analysis.

The warehouse resource is `pipelines.warehouse.Warehouse`; `pipelines/defs/resources.py` binds them all.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field

from measures.contract.arrow_text import TEXT
from measures.contract.limits import MAX_QUARANTINE_SHARE
from measures.evaluation.panels import Panels
from measures.evaluation.thresholds import MIN_CELL
from pipelines import settings


class RunOptions(dg.ConfigurableResource):
    """Per-run options. The delivery and its cut-off come from the partition key, not from here."""

    out_dir: str = Field(
        default="",
        description="Folder for effects.csv, trends.csv, report.html, ... (default: data/outputs/<delivery>).",
    )
    min_cell: int = Field(
        default=MIN_CELL, ge=MIN_CELL, description="Cells of fewer people are suppressed wherever numbers are shown."
    )
    lang: str = Field(default="nl", description="Language of the report: nl or en.")
    max_quarantine_share: float = Field(
        default=MAX_QUARANTINE_SHARE,
        gt=0,
        le=1,
        description="A delivery that loses more of a required table's rows to the quarantine is refused.",
    )
    max_rows: dict[str, int] = Field(
        default_factory=dict,
        description="Row limits per table (table -> rows) above the contract's defaults: a sector's data.",
    )


#: The frames of a `Panels`, each stored as `<name>.parquet`.
_FRAMES = ("employers", "activities", "cases", "admin", "survey", "rtw", "baseline", "survival")
_ARROW_TEXT = {pa.string(): TEXT, pa.large_string(): TEXT}.get
# The panels the current process built last, with the stamp of their files: the steps of an in-process run
# share one copy instead of reading it back; a step in another process (any other executor) reads the files.
_BUILT: dict[Path, tuple[int, Panels]] = {}


class PanelStore(dg.ConfigurableIOManager):
    """The analysis panels of a delivery, as Parquet files in the data folder (derived data: `pilot erase`
    and a new delivery remove them), handed to every analysis asset as an input."""

    folder: str = Field(default="", description="Where the panels are kept (default: <data folder>/panels).")

    def _path(self, context: dg.OutputContext | dg.InputContext) -> Path:
        base = Path(self.folder) if self.folder else settings.data_dir() / "panels"
        return base / context.asset_partition_key

    def handle_output(self, context: dg.OutputContext, obj: Panels) -> None:
        folder = self._path(context)
        folder.mkdir(parents=True, exist_ok=True)
        for name, frame in _frames(obj).items():
            frame.to_parquet(folder / f"{name}.parquet", index=False)
        _BUILT.clear()
        _BUILT[folder] = (_stamp(folder), obj)

    def load_input(self, context: dg.InputContext) -> Panels:
        folder = self._path(context)
        built = _BUILT.get(folder)
        if built and built[0] == _stamp(folder):
            return built[1]
        frames = {n: pq.read_table(folder / f"{n}.parquet").to_pandas(types_mapper=_ARROW_TEXT) for n in _FRAMES}
        small = {n: frames.pop(n) for n in ("employers", "activities", "cases")}
        return Panels(tables=small, **frames)


def _frames(panels: Panels) -> dict[str, pd.DataFrame]:
    return {
        **panels.tables,
        "admin": panels.admin,
        "survey": panels.survey,
        "rtw": panels.rtw,
        "baseline": panels.baseline,
        "survival": panels.survival,
    }


def _stamp(folder: Path) -> int:
    """Changes whenever the files are written again (by this or another process)."""
    return sum(p.stat().st_mtime_ns for p in sorted(folder.glob("*.parquet")))


class DesignStore(dg.ConfigurableIOManager):
    """A design's study rows as of a delivery (after the cut-off), one Parquet file per contract table in the data
    folder (derived data: `pilot erase` and a new delivery remove them), handed to its analysis assets."""

    folder: str = Field(default="", description="Where the rows are kept (default: <data folder>/panels).")

    def _path(self, context: dg.OutputContext | dg.InputContext) -> Path:
        base = Path(self.folder) if self.folder else settings.data_dir() / "panels"
        return base / context.asset_partition_key / "_".join(context.asset_key.path)

    def handle_output(self, context: dg.OutputContext, obj: dict[str, pd.DataFrame]) -> None:
        folder = self._path(context)
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.parquet"):
            old.unlink()
        for name, frame in obj.items():
            frame.to_parquet(folder / f"{name}.parquet", index=False)

    def load_input(self, context: dg.InputContext) -> dict[str, pd.DataFrame]:
        folder = self._path(context)
        return {p.stem: pq.read_table(p).to_pandas(types_mapper=_ARROW_TEXT) for p in sorted(folder.glob("*.parquet"))}
