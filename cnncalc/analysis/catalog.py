"""What ``cnncalc zoo`` lists: every built-in network and study, read from its file."""

from __future__ import annotations

from dataclasses import dataclass

from cnncalc.analysis.pipeline import load
from cnncalc.model.zoo import zoo_names


@dataclass(frozen=True)
class ZooEntry:
    name: str
    title: str
    kind: str  # "network" or "study"
    input: tuple
    source: str
    variants: tuple[str, ...]


def catalog() -> list[ZooEntry]:
    entries = []
    for name in zoo_names():
        spec = load(name)
        entries.append(
            ZooEntry(
                name,
                spec.name,
                "study" if spec.variants else "network",
                spec.input,
                spec.source,
                tuple(spec.variants or ()),
            )
        )
    return entries
