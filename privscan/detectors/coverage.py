"""Which sources can find each of the 68 VISPR attributes: every detector's declared `finds` / `locates`
(privscan.detectors.spec), whether it works here (its packages import, its weights are in place), and
PrivObfNet, which scores all 68 once trained weights are registered.

`privscan attributes --sources` prints it; "out of the box" counts the attributes that a default
detector which works here can report.
"""

from __future__ import annotations

from dataclasses import dataclass

from privscan import vocab, weights
from privscan.detectors import registry


@dataclass(frozen=True)
class Source:
    name: str  # detector name, or "privobfnet"
    locates: bool  # places regions (redaction can hide what it finds)
    available: bool  # works on this installation
    default: bool  # part of the default audit


@dataclass(frozen=True)
class AttributeSources:
    attribute: vocab.Attribute
    sources: tuple[Source, ...]

    @property
    def out_of_the_box(self) -> bool:
        return any(s.available and s.default and s.name != "privobfnet" for s in self.sources)


def _privobfnet_registered() -> bool:
    return any(e.kind == "privobfnet" for e in weights.load_manifest().values())


def attribute_sources() -> list[AttributeSources]:
    """For each attribute (VISPR order, a0_safe left out), the sources that can report it."""
    status = {row["name"]: row["status"] == "loaded" for row in registry.detector_status()}
    specs = registry.specs()
    model = Source("privobfnet", True, _privobfnet_registered(), True)
    out = []
    for attr in vocab.attributes():
        if attr.id == vocab.SAFE_ID:
            continue
        found = tuple(Source(name, attr.id in spec.locates, status.get(name, False), spec.default)
                      for name, spec in specs.items() if attr.id in spec.finds)
        out.append(AttributeSources(attr, (*found, model)))
    return out
