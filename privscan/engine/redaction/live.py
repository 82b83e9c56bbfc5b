"""Regions from the detectors (and PrivObfNet's masks, when its weights exist), loaded once per run.

Only the detectors the hidden attributes need are loaded (`--hide face` loads no OCR), plus the ones
PrivObfNet's mask refinement needs when its weights exist. A caller that redacts repeatedly (tests, a
long-lived service) can pass one loaded `Pipeline` with more detectors; only the needed ones run. A file
whose needed detector fails gets no copy: a "redacted" file that silently kept a face
would be worse than none.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from privscan import vocab
from privscan.detectors import registry
from privscan.engine.options import AuditOptions
from privscan.engine.pipeline import Pipeline
from privscan.engine.redaction.options import RedactOptions
from privscan.engine.redaction.policy import (
    PERSON_MASK,
    TEXT_MASK,
    detectors_for,
    guide_detectors,
    matching_ids,
    narrow_to_person,
    person_level,
)
from privscan.engine.redaction.sources import ToHide, hidden_item, item_from_finding, person_items
from privscan.errors import ImageError, UsageError
from privscan.io.decode import DecodedImage


def privobfnet_available(options: RedactOptions) -> bool:
    """Whether PrivObfNet weights are at hand (a given checkpoint or a registered one), without loading them."""
    if options.privobfnet_weights is not None:
        return True
    from privscan import weights

    return any(e.kind == "privobfnet" for e in weights.load_manifest().values())


def needed_detectors(hide: Sequence[str], *, with_privobfnet: bool) -> tuple[str, ...]:
    """The detectors these attributes need (plus PrivObfNet's guides), in run order."""
    wanted = set(detectors_for(hide))
    if with_privobfnet:
        wanted.update(guide_detectors(hide))
    return tuple(n for n in registry.names() if n in wanted)


def redaction_pipeline(options: RedactOptions, detectors: Sequence[str] | None = None) -> Pipeline:
    """A pipeline as redaction uses it: the needed detectors (or `detectors`), PrivObfNet, no DRAG."""
    if detectors is None:
        detectors = needed_detectors(options.hide, with_privobfnet=privobfnet_available(options))
    return Pipeline(
        AuditOptions(
            device=options.device,
            detectors=tuple(detectors),
            ocr_engine=options.ocr_engine,
            max_pixels=options.max_pixels,
            privobfnet_weights=options.privobfnet_weights,
            batch_size=1,
            load_drag=False,  # DRAG's image-level verdict locates nothing
        )
    )


class LiveSource:
    """Regions from a loaded pipeline's detectors and PrivObfNet masks."""

    def __init__(self, options: RedactOptions, pipeline: Pipeline | None = None) -> None:
        self.options = options
        self.pipeline = pipeline or redaction_pipeline(options)
        loaded = [s.name for s in self.pipeline.specs]
        needed = registry.resolve(needed_detectors(options.hide, with_privobfnet=self.pipeline.privobfnet is not None))
        missing = [n for n in needed if n not in loaded]
        if missing:
            raise UsageError(f"the given pipeline lacks the detector(s) {', '.join(missing)} these attributes need")
        self.detectors = tuple(needed)  # with those they require; only these run (a shared pipeline has more)
        model = self.pipeline.privobfnet
        self.privobfnet = model.name if model is not None else None
        self.hide = matching_ids(options.hide)
        self.person_attrs = person_level(options.hide)

    def find(self, image: DecodedImage, sha256: str) -> ToHide:
        analysis = self.pipeline.analyze(image, only=self.detectors)
        if analysis.errors:
            kind, message = analysis.errors[0]
            raise ImageError(image.path, "detector", f"{kind} failed ({message}); no copy written")
        found = ToHide()
        for result in analysis.results:
            found.named.update(result.masks)
        for finding in analysis.findings:
            if finding.attribute in self.hide and finding.regions:
                regions = narrow_to_person(finding.attribute, list(finding.regions))
                found.items.append((item_from_finding(finding), regions))
        found.items += person_items(analysis.mask(PERSON_MASK), self.person_attrs, "people:segmentation")
        out = analysis.privobfnet_output
        model = self.pipeline.privobfnet
        if model is not None and out is not None:
            probs = np.asarray(out.attribute_probs)
            index = {a.id: a.index for a in vocab.attributes()}
            present = [a for a in self.options.hide if probs[index[a]] >= self.options.model_threshold]
            if present:
                masks = model.masks(
                    out,
                    (image.height, image.width),
                    present,
                    person_mask=analysis.mask(PERSON_MASK),
                    text_mask=analysis.mask(TEXT_MASK),
                )
                for attr, m in masks.items():
                    if m.any():
                        found.model_masks.append((hidden_item(attr, "privobfnet", float(probs[index[attr]])), m))
        return found
