"""Which pixels stand for a hidden attribute, and so which detectors a redaction needs.

Driven by what detectors declare (their SPEC's `locates` and `masks`), plus four rules about attributes:
- faces are painted as the ellipse through the corners of the face box (covers forehead, jaw and ears);
- nudity is reported for the whole frame (open_nsfw does not localise): it is narrowed to the person
  segmentation, so it needs the detector that produces the "person" mask;
- attributes read off a whole person (age, gender, clothing, ...) hide that person: the detector that
  produces the "person" mask declares them in `locates`;
- the address recogniser cannot tell a current address from a home address (VISPR's a74/a75 vs a78/a79):
  it reports home addresses, so hiding either kind hides every address it finds.
Attributes no detector locates (signatures, plates, landmarks, ...) only PrivObfNet's masks can place.
"""

from __future__ import annotations

from collections.abc import Iterable

from privscan import vocab
from privscan.detectors import registry
from privscan.detectors.base import Region
from privscan.masks.mask_types import MaskType, mask_type

PERSON_MASK = "person"
TEXT_MASK = "text"
_SAME_PIXELS: dict[str, tuple[str, ...]] = {
    "a74_address_current_complete": ("a78_address_home_complete",),
    "a75_address_current_partial": ("a79_address_home_partial",),
    "a78_address_home_complete": ("a74_address_current_complete",),
    "a79_address_home_partial": ("a75_address_current_partial",),
}


def face_ids() -> frozenset[str]:
    """Ids whose regions are face boxes (painted as the ellipse through their corners)."""
    return frozenset(vocab.ALIASES["face"])


def whole_frame_ids() -> frozenset[str]:
    """Ids reported for the whole frame and narrowed to the person segmentation (nudity)."""
    return frozenset(vocab.ALIASES["nudity"])


def matching_ids(hide: Iterable[str]) -> set[str]:
    """The finding attributes that count as the hidden ones (the ids plus their same-pixel equivalents)."""
    out = set(hide)
    for attr in list(out):
        out.update(_SAME_PIXELS.get(attr, ()))
    return out


def person_level(hide: Iterable[str]) -> list[str]:
    """Hidden attributes that hide the whole person: those the person-mask detectors locate."""
    located = frozenset().union(*(registry.specs()[n].locates for n in registry.producing([PERSON_MASK])))
    return [a for a in hide if a in located]


def narrow_to_person(attribute: str, regions: list[Region]) -> list[Region]:
    """Whole-frame findings become the person mask inside their box (`paint_region` falls back to the box,
    i.e. the whole frame, when no person mask exists)."""
    if attribute not in whole_frame_ids():
        return regions
    return [Region(box=r.box, shape="mask", mask=PERSON_MASK) if r.shape == "box" else r for r in regions]


def detectors_for(hide: Iterable[str]) -> tuple[str, ...]:
    """The detectors whose findings or masks locate these attributes, in run order (metadata needs none:
    it is always dropped). Those they require are added when they are built."""
    needed: set[str] = set()
    for attr in hide:
        found = registry.locating(matching_ids([attr]))
        needed.update(found)
        if found and attr in whole_frame_ids():
            needed.update(registry.producing([PERSON_MASK]))
    return tuple(n for n in registry.names() if n in needed)


def guide_detectors(hide: Iterable[str]) -> tuple[str, ...]:
    """Detectors PrivObfNet's mask refinement needs for these attributes (person mask, text mask)."""
    kinds = {mask_type(a) for a in hide}
    masks = [m for m, k in ((TEXT_MASK, MaskType.TEXT), (PERSON_MASK, MaskType.HUMAN)) if k in kinds]
    return registry.producing(masks)


def unlocatable(hide: Iterable[str]) -> list[str]:
    """Hidden attributes no detector locates (only PrivObfNet's masks could)."""
    return [a for a in hide if not detectors_for([a])]
