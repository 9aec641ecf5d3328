"""Studies and deliveries: what a partition key means, and the registry that remembers every delivery.

A *study* is a series of deliveries (ids: lower case, digits and `-`). A *delivery* is one drop folder added to
a study, identified by the SHA-256 of its table files (names and contents). A *partition* of the evaluation job
is the study as assembled from its deliveries up to and including one of them, optionally with a cut-off date
for interim results. Its key reads

    <delivery date>-<study>-<digest>[-cutoff-YYYY-MM-DD]      e.g. 2026-03-01-akc-pilot-1a75bd898931

so that keys sort by time. A drop evaluated without a study is a study of its own, `drop-<digest>`, and its
key reads `<delivery date>-drop-<digest>`.

- **Delivery date** = the calendar day (Europe/Amsterdam) on which the delivery was first registered in its
  study, or the date the evaluator gives (`pilot run --delivered`) when adding older deliveries after the fact.
  It is remembered in the registry: registering the same files in the same study again returns the same key,
  whenever that happens. Deliveries of a study are ordered as they were registered; a delivery date may not
  lie before the study's latest one, so that the order by date and the order of registration agree. The newest
  delivery wins for a contract key.
- **Never the folder's name.** A drop folder may be named after a person (`verzuim Jan de Vries 123456782`):
  its name and path reach no key, registry, log or output. The registry keeps the study, date, digest and the
  table files' names and checksums only. Where the files are is known to the process that registered them
  (`pilot run`) or found again by their digest in the landing folder (`landing/<study>/<delivery>/`, or
  `landing/<drop>/` for a drop on its own). A delivery is loaded once; after that its files are not needed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
from filelock import FileLock

from measures.contract.read import is_table_file, sha256_of
from measures.designs.load import DEFAULT_DESIGN, design_ids, load_design
from pipelines import settings
from toc.errors import UserError

PARTITIONS_NAME = "delivery"
DELIVERY_PARTITIONS = dg.DynamicPartitionsDefinition(name=PARTITIONS_NAME)
TIMEZONE = ZoneInfo("Europe/Amsterdam")
#: The key segment of a drop that is a study of its own (so `drop` is not a study id anyone can choose).
OWN_STUDY = "drop"
_STUDY = r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?"
_KEY = re.compile(
    rf"^(?P<date>\d{{4}}-\d{{2}}-\d{{2}})-(?P<study>{_STUDY})-(?P<digest>[0-9a-f]{{12}})"
    r"(?:-cutoff-(?P<cutoff>\d{4}-\d{2}-\d{2}))?$"
)
# The folders `pilot run` registered in this process (never written anywhere): digest -> folder.
_FOLDERS: dict[str, Path] = {}
#: How a process hands its registered folders to the run it launches (`pipelines.launch`): in the environment
#: of the processes that run it, as JSON digest -> folder; never in a file, a run's config or a log.
FOLDERS_ENV = "AD_PILOT_FOLDERS"


class DeliveryError(UserError):
    """A drop folder, study or partition key that cannot be evaluated."""


@dataclass(frozen=True)
class Delivery:
    """A partition: the study as assembled up to and including one delivery, with an optional cut-off."""

    date: dt.date
    study: str
    digest: str
    cutoff: dt.date | None = None

    @property
    def key(self) -> str:
        suffix = f"-cutoff-{self.cutoff.isoformat()}" if self.cutoff else ""
        return f"{self.delivery_key}{suffix}"

    @property
    def delivery_key(self) -> str:
        """The key of the delivery itself (without a cut-off): what its rows in the warehouse carry."""
        segment = OWN_STUDY if self.standalone else self.study
        return f"{self.date.isoformat()}-{segment}-{self.digest}"

    @property
    def delivery(self) -> Delivery:
        return Delivery(self.date, self.study, self.digest)

    @property
    def standalone(self) -> bool:
        """A drop evaluated on its own (no `--study`)."""
        return self.study == own_study(self.digest)

    @property
    def as_of(self) -> dt.date:
        """The date an evaluation speaks for: its cut-off, else the delivery date."""
        return self.cutoff or self.date

    def with_cutoff(self, cutoff: dt.date | None) -> Delivery:
        return Delivery(self.date, self.study, self.digest, cutoff)

    @classmethod
    def parse(cls, key: str) -> Delivery:
        match = _KEY.match(key)
        if not match:
            raise DeliveryError(
                f"'{key}' is not a delivery partition key (YYYY-MM-DD-<study>-<12 hex>[-cutoff-YYYY-MM-DD]); "
                "add deliveries with `pilot run --data DROP --study ID` or the landing folder"
            )
        study = own_study(match["digest"]) if match["study"] == OWN_STUDY else match["study"]
        cutoff = dt.date.fromisoformat(match["cutoff"]) if match["cutoff"] else None
        return cls(dt.date.fromisoformat(match["date"]), study, match["digest"], cutoff)


def own_study(digest: str) -> str:
    """The study of a drop evaluated on its own."""
    return f"{OWN_STUDY}-{digest}"


def check_study_id(study: str) -> str:
    if not re.fullmatch(_STUDY, study or ""):
        raise DeliveryError("a study id is 1-40 characters: lower case letters, digits and '-' (not at either end)")
    if study == OWN_STUDY:
        raise DeliveryError(f"'{OWN_STUDY}' is reserved for drops evaluated on their own; choose another study id")
    return study


def today() -> dt.date:
    return dt.datetime.now(TIMEZONE).date()


def file_checksums(drop: Path) -> dict[str, str]:
    """SHA-256 of every table file in the drop, by file name (other files do not count)."""
    return {p.name: sha256_of(p) for p in sorted(Path(drop).iterdir()) if is_table_file(p)}


def digest_of(checksums: dict[str, str]) -> str:
    return hashlib.sha256("".join(f"{n}:{s}\n" for n, s in sorted(checksums.items())).encode()).hexdigest()[:12]


def register(
    drop: Path, study: str | None = None, delivered: dt.date | None = None, design: str | None = None
) -> Delivery:
    """Add the drop to `study` (None: a study of its own) and return its delivery; the same files in the same
    study give the delivery registered before (with its date). `design` picks the study's design on its first
    delivery (default: the design named like the study, else the AKC pilot's); later deliveries reuse it."""
    drop = Path(drop)
    if design is not None:
        load_design(design)  # an unknown or broken design stops here, before anything is registered
    if not drop.is_dir():
        raise DeliveryError("--data: no such drop folder")
    checksums = file_checksums(drop)
    if not checksums:
        raise DeliveryError("--data: no table files (.csv, .xlsx, .parquet) in this drop")
    digest = digest_of(checksums)
    if study is not None and study.startswith(f"{OWN_STUDY}-"):
        raise DeliveryError(f"study ids starting with '{OWN_STUDY}-' are those of drops evaluated on their own")
    study = own_study(digest) if study is None else check_study_id(study)
    with _Registry() as registry:
        chosen = (registry.designs.get(study) or DEFAULT_DESIGN) if registry.studies.get(study) else None
        if chosen is not None and design is not None and design != chosen:
            raise DeliveryError(
                f"study {study} has design {chosen}; --design {design} applies to a first delivery only"
            )
        registry.designs[study] = chosen or design or default_design(study)
        entries = registry.studies.setdefault(study, [])
        known = next((e for e in entries if digest in (e["digest"], *e.get("aliases", []))), None)
        if known is None:
            date = delivered or today()
            if date > today():
                raise DeliveryError(f"--delivered {date.isoformat()} lies in the future")
            if entries and date.isoformat() < entries[-1]["date"]:
                raise DeliveryError(
                    f"study {study} already has a delivery of {entries[-1]['date']}; deliveries are added in "
                    f"order, so --delivered may not be earlier"
                )
            known = {"date": date.isoformat(), "digest": digest, "files": checksums}
            entries.append(known)
    _FOLDERS[digest] = drop.resolve()
    return Delivery(dt.date.fromisoformat(known["date"]), study, known["digest"])


def default_design(study: str) -> str:
    """The design of a new study when none is chosen: the one named like the study, else the AKC pilot's."""
    return study if study in design_ids() else DEFAULT_DESIGN


def design_of(study: str) -> str:
    """The design a study was registered with (a study registered before designs existed: the AKC pilot's)."""
    return _Registry.load_designs().get(study) or DEFAULT_DESIGN


def deliveries(study: str, refused: bool = False) -> list[Delivery]:
    """The study's deliveries in the order they were registered (oldest first); those refused at loading only
    when asked for."""
    entries = _Registry.load().get(study, [])
    return [
        Delivery(dt.date.fromisoformat(e["date"]), study, e["digest"])
        for e in entries
        if refused or not e.get("refused")
    ]


def studies() -> list[str]:
    return sorted(_Registry.load())


def latest(study: str) -> Delivery:
    found = deliveries(study)
    if not found:
        raise DeliveryError(
            f"study {study} has no deliveries yet: add one with `pilot run --data DROP --study {study}`"
        )
    return found[-1]


def as_of(delivery: Delivery) -> list[Delivery]:
    """The deliveries a partition assembles: its study's, up to and including its own, oldest first (without
    the deliveries refused at loading, unless it is its own)."""
    found = deliveries(delivery.study, refused=True)
    keys = [d.delivery_key for d in found]
    if delivery.delivery_key not in keys:
        raise DeliveryError(
            f"delivery {delivery.delivery_key} is not registered in study {delivery.study} "
            "(add it with `pilot run --data DROP --study ...` or the landing folder)"
        )
    kept = {d.delivery_key for d in deliveries(delivery.study)} | {delivery.delivery_key}
    return [d for d in found[: keys.index(delivery.delivery_key) + 1] if d.delivery_key in kept]


def refuse(delivery: Delivery) -> None:
    """Mark a delivery that could not be loaded (nothing usable, a file error): it stays on record, but the
    study's evaluations leave it out and its newest delivery is the one before."""
    with _Registry() as registry:
        for entry in registry.studies.get(delivery.study, []):
            if entry["digest"] == delivery.digest:
                entry["refused"] = True


def files_of(delivery: Delivery) -> dict[str, str]:
    """The table files of a registered delivery: name -> SHA-256 (as registered)."""
    for entry in _Registry.load().get(delivery.study, []):
        if entry["digest"] == delivery.digest:
            return dict(entry["files"])
    raise DeliveryError(f"delivery {delivery.delivery_key} is not registered in study {delivery.study}")


def add_alias(delivery: Delivery, digest: str) -> None:
    """The delivery's folder now has other contents (files removed by `pilot erase`): the same delivery."""
    with _Registry() as registry:
        for entry in registry.studies.get(delivery.study, []):
            if entry["digest"] == delivery.digest and digest not in entry.setdefault("aliases", []):
                entry["aliases"].append(digest)


def registered_folders() -> dict[str, str]:
    """The folders this process registered (or was handed), by digest: for the run it launches."""
    return _handed_down() | {digest: str(folder) for digest, folder in _FOLDERS.items()}


def _handed_down() -> dict[str, str]:
    return json.loads(os.environ.get(FOLDERS_ENV) or "{}")


def drop_of(delivery: Delivery) -> Path:
    """The folder of a delivery that is still to be loaded: where this process (or the one that launched its
    run) registered it, or found in the landing folder by its digest."""
    handed = _handed_down().get(delivery.digest)
    folder = _FOLDERS.get(delivery.digest) or (Path(handed) if handed else None)
    if folder is not None and folder.is_dir() and digest_of(file_checksums(folder)) == delivery.digest:
        return folder
    for _, candidate in landed(delivery.study):
        if digest_of(file_checksums(candidate)) == delivery.digest:
            return candidate
    raise DeliveryError(
        f"delivery {delivery.delivery_key} is not loaded yet and its files are not at hand: add the drop again with "
        f"`pilot run --data DROP{'' if delivery.standalone else ' --study ' + delivery.study}`"
    )


def landed(study: str | None = None) -> Iterator[tuple[str | None, Path]]:
    """(study, folder) of the drops in the landing folder: `landing/<study>/<delivery>/` of a study, or
    `landing/<drop>/` (study None: a drop on its own). With `study`, only that study's folders (a drop's own
    study: the drops on their own)."""
    landing = settings.landing_dir()
    if not landing.is_dir():
        return
    for top in _folders(landing):
        if any(is_table_file(p) for p in top.iterdir()):
            if study is None or study.startswith(f"{OWN_STUDY}-"):
                yield None, top
        elif study is None or top.name == study:
            yield from ((top.name, folder) for folder in _folders(top))


def _folders(parent: Path) -> list[Path]:
    return sorted(p for p in parent.iterdir() if p.is_dir() and not p.name.startswith("."))


class _Registry:
    """deliveries.json in the data folder, read and written under a file lock:
    `{"version": 2, "studies": {study: [{"date", "digest", "files", "aliases", "refused"}, ...]},
    "designs": {study: design}}`."""

    def __init__(self):
        self.path = settings.registry_path()
        self.lock = FileLock(f"{self.path}.lock")
        self.studies: dict[str, list[dict]] = {}
        self.designs: dict[str, str] = {}

    @staticmethod
    def _data() -> dict:
        path = settings.registry_path()
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}

    @classmethod
    def load(cls) -> dict[str, list[dict]]:
        return cls._data().get("studies", {})  # an older registry (digest -> folder) knew no studies: nothing to keep

    @classmethod
    def load_designs(cls) -> dict[str, str]:
        return cls._data().get("designs", {})

    def __enter__(self) -> _Registry:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.lock.acquire()
        self.studies, self.designs = self.load(), self.load_designs()
        return self

    def __exit__(self, kind, *_) -> None:
        try:
            if kind is None:
                data = {"version": 2, "studies": self.studies, "designs": self.designs}
                text = json.dumps(data, indent=2, sort_keys=True) + "\n"
                temporary = self.path.with_name(self.path.name + ".tmp")
                temporary.write_text(text, encoding="utf-8")
                temporary.replace(self.path)
        finally:
            self.lock.release()
