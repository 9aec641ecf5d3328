"""What changed between two versions of a ToC: nodes and links added, removed and changed."""

from __future__ import annotations

from dataclasses import dataclass, field

from toc.models import TheoryOfChange


@dataclass(frozen=True)
class Change:
    key: str
    fields: dict[str, tuple[object, object]]  # field -> (old, new)


@dataclass(frozen=True)
class TocDiff:
    old: str
    new: str
    nodes_added: list[str] = field(default_factory=list)
    nodes_removed: list[str] = field(default_factory=list)
    nodes_changed: list[Change] = field(default_factory=list)
    links_added: list[str] = field(default_factory=list)
    links_removed: list[str] = field(default_factory=list)
    links_changed: list[Change] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(
            (
                self.nodes_added,
                self.nodes_removed,
                self.nodes_changed,
                self.links_added,
                self.links_removed,
                self.links_changed,
            )
        )

    def as_dict(self) -> dict:
        def changes(items: list[Change]) -> list[dict]:
            return [
                {"key": c.key, "fields": {k: {"old": o, "new": n} for k, (o, n) in c.fields.items()}} for c in items
            ]

        return {
            "old": self.old,
            "new": self.new,
            "nodes": {"added": self.nodes_added, "removed": self.nodes_removed, "changed": changes(self.nodes_changed)},
            "links": {"added": self.links_added, "removed": self.links_removed, "changed": changes(self.links_changed)},
        }


def diff_tocs(old: TheoryOfChange, new: TheoryOfChange) -> TocDiff:
    old_nodes = {n.id: n.model_dump(mode="json") for n in old.nodes}
    new_nodes = {n.id: n.model_dump(mode="json") for n in new.nodes}
    old_links = {_link_key(lk.source, lk.target): lk.model_dump(mode="json") for lk in old.links}
    new_links = {_link_key(lk.source, lk.target): lk.model_dump(mode="json") for lk in new.links}
    return TocDiff(
        old=old.id,
        new=new.id,
        nodes_added=sorted(new_nodes.keys() - old_nodes.keys()),
        nodes_removed=sorted(old_nodes.keys() - new_nodes.keys()),
        nodes_changed=_changed(old_nodes, new_nodes),
        links_added=sorted(new_links.keys() - old_links.keys()),
        links_removed=sorted(old_links.keys() - new_links.keys()),
        links_changed=_changed(old_links, new_links),
    )


def _link_key(source: str, target: str) -> str:
    return f"{source} -> {target}"


def _changed(old: dict[str, dict], new: dict[str, dict]) -> list[Change]:
    changes = []
    for key in sorted(old.keys() & new.keys()):
        fields = {
            f: (old[key].get(f), new[key].get(f))
            for f in sorted(old[key].keys() | new[key].keys())
            if old[key].get(f) != new[key].get(f)
        }
        if fields:
            changes.append(Change(key, fields))
    return changes
