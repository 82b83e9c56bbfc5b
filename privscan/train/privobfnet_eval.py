"""Evaluate a PrivObfNet best checkpoint on a VISPR split: the paper's metrics, and mask mIoU when pixel
ground truth is given (VISPR's redaction set: COCO RLE or polygons, merged ids mapped onto ours).

Used by `privscan evaluate privobfnet` and, for the test split, at the end of `privscan train privobfnet`.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from torch.utils.data import DataLoader

from privscan import weights as weights_mod
from privscan.device import describe, resolve_device
from privscan.errors import UsageError, WeightsError
from privscan.io.checkpoint import load_checkpoint
from privscan.io.decode import load_image
from privscan.masks.cam_masks import DEFAULT_THRESHOLD, attribute_masks
from privscan.models.preprocess import model_input
from privscan.models.privobfnet import CHECKPOINT_FORMAT, PrivObfNet, model_from_payload
from privscan.train.mask_cache import MaskCache, MaskSource
from privscan.train.privobfnet_data import VisprImages, choose_profile, guides_from_masks, load_split
from privscan.train.privobfnet_trainer import mask_cache_for, prepare_masks, run_inference, split_arrays
from privscan.train.vispr_metrics import (
    REDACTION_ATTRIBUTES,
    MaskIoU,
    attribute_report,
    polygons_to_mask,
    privacy_score_metrics,
    rle_decode,
)
from privscan.vocab import attribute_ids


def load_model(checkpoint: Path, device: torch.device) -> tuple[PrivObfNet, dict[str, Any], str]:
    """Model-Image from a best checkpoint: (model in eval mode, its config, its sha256)."""
    payload = load_checkpoint(checkpoint, expected_format=CHECKPOINT_FORMAT)
    try:
        model = model_from_payload(payload, attribute_ids())
    except ValueError as e:
        raise WeightsError(f"{checkpoint} is not a usable PrivObfNet checkpoint: {e}") from e
    config = payload["config"]
    return model.to(device).eval(), config, weights_mod.sha256_file(Path(checkpoint))


def _gt_masks(entry: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """One image of VISPR's redaction ground truth -> {attr_id: bool mask} (instances merged)."""
    h, w = int(entry["image_height"]), int(entry["image_width"])
    out: dict[str, np.ndarray] = {}
    for inst in entry.get("attributes", []):
        if inst.get("segmentation") is not None:
            mask = rle_decode(inst["segmentation"])
        else:
            mask = polygons_to_mask(inst.get("polygons") or [], h, w)
        attr = str(inst["attr_id"])
        out[attr] = out[attr] | mask if attr in out else mask
    return out


@torch.no_grad()
def evaluate_masks(
    model: PrivObfNet,
    gt_file: Path,
    data: Path,
    device: torch.device,
    *,
    cache: MaskCache | None,
    input_size: int,
    threshold: float,
    attr_threshold: float = 0.5,
    limit: int | None = None,
) -> dict[str, Any]:
    """mIoU of CAM masks against VISPR-style pixel ground truth (COCO RLE or polygons).

    Ground-truth ids are ours or VISPR's merged redaction ids (a105_face_all, ...); a merged id's prediction
    is the union of its members' masks over members predicted present. Ids with no counterpart are skipped.
    """
    try:
        raw = json.loads(Path(gt_file).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise UsageError(f"cannot read mask ground truth {gt_file}: {e}") from e
    annotations = raw.get("annotations", raw) if isinstance(raw, dict) else None
    if not isinstance(annotations, dict):
        raise UsageError(f"{gt_file}: expected {{'annotations': {{image_id: {{...}}}}}}")
    known = set(attribute_ids())
    index = {a: i for i, a in enumerate(attribute_ids())}
    present = sorted({str(i["attr_id"]) for e in annotations.values() for i in e.get("attributes", [])})
    members = {a: REDACTION_ATTRIBUTES.get(a, (a,) if a in known else ()) for a in present}
    skipped = [a for a, m in members.items() if not m]
    acc = MaskIoU()
    model.eval()
    items = list(annotations.items())[:limit] if limit else list(annotations.items())
    for image_id, entry in items:
        path = Path(entry["image_path"])
        path = path if path.is_absolute() else Path(data) / path
        image = load_image(path)
        guides = cache.load(image_id) if cache is not None else None
        if cache is not None and guides is None:
            guides = cache.compute(image_id, image)
        person = text = None
        if guides:
            person, text = guides.get("person"), guides.get("text")
        batch = model_input(image.rgb, input_size)[None].to(device)
        g = guides_from_masks(guides, input_size)[None]
        out = model(batch, g.to(device))
        probs = torch.sigmoid(out.logits.float())[0].cpu().numpy()
        cams = out.raw_maps[0].float().cpu()
        gts = _gt_masks(entry)
        size = (image.height, image.width)
        wanted = sorted({m for a in present for m in members[a] if probs[index[m]] >= attr_threshold})
        pred = attribute_masks(cams, size, wanted, person_mask=person, text_mask=text, threshold=threshold)
        for a in present:
            if not members[a]:
                continue
            gt = gts.get(a, np.zeros(size, dtype=bool))
            if gt.shape != size:
                raise UsageError(f"{gt_file}: {image_id} mask is {gt.shape}, the image is {size}")
            p = np.zeros(size, dtype=bool)
            for m in members[a]:
                if m in pred:
                    p |= pred[m]
            acc.add(a, gt, p)
    report = acc.report()
    report.update({"images": len(items), "skipped_attributes": skipped, "cam_threshold": threshold})
    return report


def default_eval_mask_cache(checkpoint: Path) -> Path:
    """A training run's own cache when the checkpoint is a run's best.pt, else the user's cache folder
    (never a weights folder: registered checkpoints live there)."""
    run_dir = checkpoint.resolve().parent
    if (run_dir / "last.pt").exists() or (run_dir / "config.json").exists():
        return run_dir / "mask_cache"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "privscan" / "mask_cache"


def evaluate(
    checkpoint: Path,
    data: Path,
    split: str = "test",
    *,
    device_spec: str = "auto",
    batch_size: int = 16,
    profile: Path | None = None,
    user: int | None = None,
    masks: str = "detectors",
    mask_cache: Path | None = None,
    mask_sources: Mapping[str, MaskSource] | None = None,
    masks_gt: Path | None = None,
    limit: int | None = None,
    workers: int = 0,
    console: Console | None = None,
) -> dict[str, Any]:
    """The paper's metrics for a best checkpoint on one split (and mask mIoU when ground truth is given)."""
    console = console or Console(stderr=True)
    if masks not in ("detectors", "none"):
        raise UsageError(f"--masks must be detectors or none, got {masks!r}")
    device = resolve_device(device_spec)
    model, config, digest = load_model(checkpoint, device)
    if profile is not None or user is not None:
        prof, prof_source = choose_profile(path=profile, user=user)
    else:
        prof, prof_source = np.asarray(config["profile"], dtype=np.float64), str(config["profile_source"])
    t0 = time.perf_counter()
    records = load_split(data, split, limit=limit)
    labels, targets = split_arrays(records, prof, console)
    cache = mask_cache_for(masks, Path(mask_cache or default_eval_mask_cache(Path(checkpoint))), mask_sources)
    prepare_masks(cache, records, console, split)
    size = int(config["input_size"])
    loader = DataLoader(
        VisprImages(records, labels, targets, size, cache.reader() if cache else None),
        batch_size=batch_size,
        shuffle=False,
        num_workers=workers,
    )
    probs, scores = run_inference(model, loader, device)
    ps = privacy_score_metrics(scores, targets)
    result: dict[str, Any] = {
        "checkpoint": str(checkpoint),
        "sha256": digest,
        "split": split,
        "images": len(records),
        "device": describe(device),
        "profile": prof_source,
        "privacy_score": ps,
        "attributes": attribute_report(probs, labels),
        "masks": None,
    }
    if masks_gt is not None:
        result["masks"] = evaluate_masks(
            model,
            masks_gt,
            data,
            device,
            cache=cache,
            input_size=size,
            threshold=float(config.get("mask_threshold", DEFAULT_THRESHOLD)),
            limit=limit,
        )
    result["seconds"] = round(time.perf_counter() - t0, 2)
    return result
