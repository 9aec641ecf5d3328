"""Deliveries: a drop folder identified by the checksums of its files, as a Dagster partition.

A partition key reads `<drop name>-<digest>` (or `...-cutoff-YYYY-MM-DD` for interim results), where the
digest is a SHA-256 over the names and SHA-256s of the drop's table files. The same files give the same
key, whenever and wherever they land; a changed file gives a new key. The key is the single source of a
run's delivery and cut-off; the registry only remembers where the files of a digest were seen.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from filelock import FileLock

from measures.contract.read import is_table_file, sha256_of
from pipelines import settings
from toc.errors import UserError

PARTITIONS_NAME = "delivery"
DELIVERY_PARTITIONS = dg.DynamicPartitionsDefinition(name=PARTITIONS_NAME)


class DeliveryError(UserError):
    """A drop folder or delivery key that cannot be evaluated (missing, empty, changed since registration)."""


_KEY = re.compile(r"^(?P<name>[a-z0-9][a-z0-9_]*)-(?P<digest>[0-9a-f]{12})(?:-cutoff-(?P<cutoff>\d{4}-\d{2}-\d{2}))?$")


@dataclass(frozen=True)
class Delivery:
    name: str
    digest: str
    cutoff: dt.date | None = None

    @property
    def key(self) -> str:
        suffix = f"-cutoff-{self.cutoff.isoformat()}" if self.cutoff else ""
        return f"{self.name}-{self.digest}{suffix}"

    @classmethod
    def parse(cls, key: str) -> Delivery:
        match = _KEY.match(key)
        if not match:
            raise DeliveryError(f"'{key}' is not a delivery partition key (<name>-<12 hex>[-cutoff-YYYY-MM-DD])")
        cutoff = dt.date.fromisoformat(match["cutoff"]) if match["cutoff"] else None
        return cls(match["name"], match["digest"], cutoff)


def file_checksums(drop: Path) -> dict[str, str]:
    """SHA-256 of every table file in the drop, by file name (other files do not count)."""
    return {p.name: sha256_of(p) for p in sorted(Path(drop).iterdir()) if is_table_file(p)}


def delivery_for(drop: Path, cutoff: dt.date | None = None, checksums: dict[str, str] | None = None) -> Delivery:
    drop = Path(drop)
    if not drop.is_dir():
        raise DeliveryError(f"{drop}: no such drop folder")
    checksums = file_checksums(drop) if checksums is None else checksums
    if not checksums:
        raise DeliveryError(f"{drop}: no table files (.csv, .xlsx, .parquet) in this drop")
    digest = hashlib.sha256("".join(f"{n}:{s}\n" for n, s in sorted(checksums.items())).encode()).hexdigest()[:12]
    name = re.sub(r"[^a-z0-9_]+", "_", drop.name.lower()).strip("_") or "drop"
    return Delivery(name[:40], digest, cutoff)


def register(delivery: Delivery, drop: Path) -> None:
    """Remember where the files of this delivery are (the ingest asset reads them from there)."""
    path = settings.registry_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(f"{path}.lock"):
        known = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        known[delivery.digest] = str(Path(drop).resolve())
        path.write_text(json.dumps(known, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def drop_of(delivery: Delivery) -> Path:
    """The drop folder of a registered delivery; checked to still hold the same files."""
    path = settings.registry_path()
    known = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    if delivery.digest not in known:
        raise DeliveryError(
            f"delivery {delivery.key} is not registered (run `pilot run` or drop it in {settings.landing_dir()})"
        )
    drop = Path(known[delivery.digest])
    if not drop.is_dir() or delivery_for(drop).digest != delivery.digest:
        raise DeliveryError(f"delivery {delivery.key}: the files in {drop} changed or moved since they were registered")
    return drop
