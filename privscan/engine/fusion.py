"""Fuse one image's model outputs and detector findings into its report record.

Per attribute the fused score is the max over sources, with every source kept as evidence. Findings from
metadata (EXIF/XMP) are also listed as metadata facts. The verdict is DRAG's p_private when DRAG weights
exist; otherwise it is an evidence-based decision with p_private left empty and the reason stated. The
privacy score is PrivObfNet's when its weights exist, else VISPR's max pooling of the fused attribute scores
weighted by the sensitivity profile. Secret values are masked here unless the user asked to see them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from privscan import vocab
from privscan.detectors.base import NO_ATTRIBUTE, Finding, Region
from privscan.engine.pipeline import Analysis
from privscan.errors import ImageError
from privscan.report.masking import masked_fields
from privscan.report.schema import (
    AttributeResult,
    ErrorModel,
    Evidence,
    ImageRecord,
    MetadataFinding,
    RegionModel,
    Verdict,
)

METADATA_SOURCES = ("exif", "xmp", "iptc", "metadata")
#: PrivObfNet attribute probabilities below this are not listed as evidence (they still shape its score)
MODEL_EVIDENCE_MIN = 0.1


def is_metadata(finding: Finding) -> bool:
    return finding.source.split(":", 1)[0].lower() in METADATA_SOURCES


def region_model(region: Region) -> RegionModel:
    polygon = [[round(x, 1), round(y, 1)] for x, y in region.polygon] if region.polygon else None
    return RegionModel(box=region.box.as_list(), shape=region.shape, polygon=polygon, mask=region.mask)


def _evidence(finding: Finding, show_values: bool) -> Evidence:
    return Evidence(
        source=finding.source,
        score=float(min(max(finding.score, 0.0), 1.0)),
        kind=finding.kind,
        **masked_fields(finding.kind, finding.value, show_values=show_values),
        regions=[region_model(r) for r in finding.regions],
    )


def _metadata(finding: Finding, show_values: bool) -> MetadataFinding:
    known = vocab.by_id()
    return MetadataFinding(
        kind=finding.kind or "metadata",
        attribute=finding.attribute if finding.attribute in known else None,
        tag=str(finding.detail.get("tag") or finding.source),
        **masked_fields(finding.kind, finding.value, show_values=show_values),
    )


#: a replacing finding's region and the replaced one's must overlap this much to be the same thing
REPLACES_IOU = 0.8


def without_replaced(findings: list[Finding]) -> list[Finding]:
    """The findings less those another finding replaces: one whose `detail["replaces"]` names their
    attribute and whose first region is the same place (IoU >= REPLACES_IOU). The scene detector's
    covered-face finding (a10) replaces the face detector's a9 for that face: a later detector knows more
    about the same box, and the record should not call one face both complete and partial."""
    replacing = [(f.detail["replaces"], f.regions[0].box) for f in findings if f.detail.get("replaces") and f.regions]
    if not replacing:
        return findings

    def replaced(f: Finding) -> bool:
        return bool(f.regions) and any(
            f.attribute == attribute and f.regions[0].box.iou(box) >= REPLACES_IOU for attribute, box in replacing
        )

    return [f for f in findings if not replaced(f)]


def fuse_attributes(analysis: Analysis, show_values: bool) -> list[AttributeResult]:
    """Per attribute, every source's evidence (best first), after `without_replaced`. A finding with an
    id VISPR does not know is a detector bug: it is warned about (an error in the tests), never dropped
    without a word."""
    known = vocab.by_id()
    evidence: dict[str, list[Evidence]] = {}
    for finding in without_replaced(analysis.findings):
        if finding.attribute in known and finding.attribute != vocab.SAFE_ID:
            evidence.setdefault(finding.attribute, []).append(_evidence(finding, show_values))
        elif finding.attribute not in known and finding.attribute != NO_ATTRIBUTE:
            vocab.check_ids([finding.attribute], where=f"finding from {finding.source}")
    if analysis.attribute_probs is not None:
        for attr, prob in zip(vocab.attributes(), analysis.attribute_probs, strict=True):
            if attr.id != vocab.SAFE_ID and prob >= MODEL_EVIDENCE_MIN:
                evidence.setdefault(attr.id, []).append(Evidence(source="privobfnet", score=float(prob)))
    results = []
    for attr in vocab.attributes():
        if attr.id in evidence:
            items = sorted(evidence[attr.id], key=lambda e: -e.score)
            results.append(
                AttributeResult(id=attr.id, name=attr.name, group=attr.group, score=items[0].score, evidence=items)
            )
    return results


def build_record(
    analysis: Analysis, *, profile: NDArray[Any], pooling: str, show_values: bool, private_threshold: float = 0.5
) -> ImageRecord:
    image = analysis.image
    attrs = fuse_attributes(analysis, show_values)
    scores = np.zeros(vocab.num_attributes())
    index = {a.id: a.index for a in vocab.attributes()}
    for a in attrs:
        scores[index[a.id]] = a.score

    if analysis.model_privacy_score is not None:
        privacy, privacy_source = float(np.clip(analysis.model_privacy_score, 0, 1)), "privobfnet"
    else:
        privacy = float(vocab.privacy_score(scores, profile, pooling))
        privacy_source = f"evidence ({pooling} pooling of attribute score x sensitivity)"

    if analysis.p_private is not None:
        p = float(analysis.p_private)
        verdict = Verdict(label="private" if p >= private_threshold else "public", p_private=p, source="drag")
    else:
        verdict = Verdict(
            label="private" if privacy >= private_threshold else "public",
            p_private=None,
            source="evidence",
            note="no DRAG weights: label from the detectors' evidence (privacy score >= "
            f"{private_threshold:g} means private); no probability is reported",
        )
    return ImageRecord(
        path=str(image.path),
        sha256=image.sha256,
        size_bytes=image.file_size,
        width=image.width,
        height=image.height,
        format=image.format,
        verdict=verdict,
        privacy_score=round(privacy, 4),
        privacy_score_source=privacy_source,
        attributes=attrs,
        metadata=[_metadata(f, show_values) for f in analysis.findings if is_metadata(f)],
        errors=[ErrorModel(kind=k, message=m) for k, m in analysis.errors],
        timings=analysis.timings,
    )


def error_record(error: ImageError) -> ImageRecord:
    """The record of a file that could not be decoded: its one-line error and nothing made up."""
    return ImageRecord(path=error.path, errors=[ErrorModel(kind=error.kind, message=error.reason)])
