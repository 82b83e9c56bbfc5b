"""Train and evaluate PrivObfNet on VISPR.

Recipe (paper): Model-Image on 448 x 448 images and Model-Cropped on K = 6 random 320 x 320 crops, loss
10 L_img + L_cr + L_priv + L_att, SGD (momentum 0.9) lr 0.002, weight decay 5e-4, 10 epochs, lr x 0.1 from
epoch 6. Before training, a resumable stage caches person/text masks for every image (see mask_cache).

Evaluation (the paper's metrics, mask mIoU) lives in privobfnet_eval.

Run folder (privscan.train.run_folder): `last.pt` (both models + optimizer, rewritten every epoch, what
--resume reads), `best.pt` (Model-Image only, self-describing: architecture, profile, metrics),
`metrics.jsonl` (one line per epoch), `config.json`. The random stream of epoch e (order, flips, crops)
is seeded by (seed, e), so a resumed run continues exactly as an uninterrupted one would. Model selection
uses the validation split (macro mAP by default); without a validation list the last epoch is kept and the
report says so.

Guide dropout (our addition, default 0.5): the audit runs the detectors first and passes their person and
text masks to PrivObfNet, as in training, but a guide is empty wherever those detectors are switched off
(`audit --detectors`) or find nothing, and the maps then go unweighted. Training half of the images without
guides keeps those unguided probabilities calibrated while the other half still teaches Human/Text maps to
sit on people and text; `--guide-dropout 0` is the paper's setting (not measured against 0.5).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from torch.utils.data import DataLoader

from privscan import weights as weights_mod
from privscan.device import describe, resolve_device
from privscan.errors import UsageError
from privscan.io.checkpoint import load_checkpoint
from privscan.masks.cam_masks import DEFAULT_THRESHOLD
from privscan.masks.mask_types import mask_type_vector
from privscan.models.backbone import BACKBONE_CHANNELS, BACKBONE_STRIDE
from privscan.models.privobfnet import (
    CHECKPOINT_FORMAT,
    TRAIN_CHECKPOINT_FORMAT,
    PrivObfNet,
    PrivObfNetPair,
    random_crop_offsets,
)
from privscan.models.privobfnet_losses import LossWeights, total_loss
from privscan.train.common import grad_scaler, mixed_precision, progress, seed_everything, sgd
from privscan.train.mask_cache import MaskCache, MaskSource, default_mask_sources
from privscan.train.privobfnet_data import (
    VisprImages,
    VisprRecord,
    choose_profile,
    label_matrix,
    load_split,
    privacy_targets,
    split_list_path,
)
from privscan.train.run_folder import RunFolder, TrainResult, register
from privscan.train.vispr_metrics import (
    attribute_report,
    privacy_score_metrics,
)
from privscan.vocab import attribute_ids

SELECT_METRICS = {"map": ("macro_map", True), "l1": ("l1", False), "pearson": ("pearson", True)}


@dataclass
class TrainConfig:
    data: Path
    out: Path
    epochs: int = 10
    batch_size: int = 16
    backbone: str = "mobilenet_v2"
    image_size: int = 448
    crop_size: int = 320
    crops: int = 6
    lr: float = 0.002
    momentum: float = 0.9
    weight_decay: float = 5e-4
    decay_epochs: tuple[int, ...] = (6,)
    decay_factor: float = 0.1
    head_lr_mult: float = 1.0
    hidden: int = 128
    profile: Path | None = None
    user: int | None = None
    device: str = "auto"
    resume: bool = False
    seed: int = 0
    pretrained: bool = True
    backbone_weights: Path | None = None
    masks: str = "detectors"  # detectors | none
    mask_cache: Path | None = None
    workers: int = 0
    amp: bool = True
    train_split: str = "train"
    val_split: str | None = "val"
    select_on: str = "map"
    limit: int | None = None
    flip: bool = True
    guide_dropout: float = 0.5  # share of images trained without person/text guides (see module doc)
    mask_threshold: float = DEFAULT_THRESHOLD
    loss_weights: tuple[float, float, float, float] = (10.0, 1.0, 1.0, 1.0)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> TrainConfig:
        """A config from its JSON form (config_dict): paths and tuples restored, unknown keys ignored."""
        paths = ("data", "out", "profile", "backbone_weights", "mask_cache")
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known}
        for key in paths:
            if values.get(key) is not None:
                values[key] = Path(values[key])
        for key in ("decay_epochs", "loss_weights"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def config_dict(cfg: TrainConfig) -> dict[str, Any]:
    return {k: _jsonable(v) for k, v in asdict(cfg).items()}


def validate(cfg: TrainConfig) -> None:
    """User errors in options, said before anything is loaded."""
    if cfg.backbone not in BACKBONE_CHANNELS:
        raise UsageError(f"unknown backbone {cfg.backbone!r}", hint=f"choose from {', '.join(BACKBONE_CHANNELS)}")
    for name, size in (("--image-size", cfg.image_size), ("--crop-size", cfg.crop_size)):
        if size < BACKBONE_STRIDE or size % BACKBONE_STRIDE:
            raise UsageError(f"{name} must be a positive multiple of {BACKBONE_STRIDE}, got {size}")
    if cfg.crop_size > cfg.image_size:
        raise UsageError(f"--crop-size {cfg.crop_size} exceeds --image-size {cfg.image_size}")
    if cfg.crops < 1 or cfg.epochs < 1 or cfg.batch_size < 1:
        raise UsageError("--crops, --epochs and --batch-size must be at least 1")
    if cfg.masks not in ("detectors", "none"):
        raise UsageError(f"--masks must be detectors or none, got {cfg.masks!r}")
    if cfg.select_on not in SELECT_METRICS:
        raise UsageError(f"--select-on must be one of {', '.join(SELECT_METRICS)}")
    if not 0.0 <= cfg.guide_dropout <= 1.0:
        raise UsageError(f"--guide-dropout must be within 0..1, got {cfg.guide_dropout}")
    if cfg.lr <= 0 or cfg.weight_decay < 0:
        raise UsageError("--lr must be positive and --weight-decay not negative")


def lr_factor(cfg: TrainConfig, epoch: int) -> float:
    """Step decay: x decay_factor for every decay epoch reached (epochs count from 1)."""
    return cfg.decay_factor ** sum(1 for d in cfg.decay_epochs if epoch >= d)


def build_pair(cfg: TrainConfig) -> PrivObfNetPair:
    """Both models, backbones from verified ImageNet weights (or random when pretrained=False)."""
    from privscan.pretrained import imagenet_backbone

    backbones = [
        imagenet_backbone(cfg.backbone, weights_path=cfg.backbone_weights, pretrained=cfg.pretrained) for _ in range(2)
    ]
    return PrivObfNetPair(
        cfg.backbone,
        mask_types=mask_type_vector(),
        image_backbone=backbones[0],
        crop_backbone=backbones[1],
        hidden=cfg.hidden,
    )


def make_optimizer(pair: PrivObfNetPair, cfg: TrainConfig) -> torch.optim.SGD:
    backbone_params = [*pair.image.backbone.parameters(), *pair.cropped.backbone.parameters()]
    ids = {id(p) for p in backbone_params}
    head_params = [p for p in pair.parameters() if id(p) not in ids]
    return sgd(
        [
            {"params": backbone_params, "lr": cfg.lr, "base_lr": cfg.lr},
            {"params": head_params, "lr": cfg.lr * cfg.head_lr_mult, "base_lr": cfg.lr * cfg.head_lr_mult},
        ],
        lr=cfg.lr,
        momentum=cfg.momentum,
        weight_decay=cfg.weight_decay,
    )


def mask_cache_for(
    cfg_masks: str, directory: Path, sources: Mapping[str, MaskSource] | None = None
) -> MaskCache | None:
    """The person/text mask cache to use, or None with --masks none."""
    if sources is None:
        if cfg_masks == "none":
            return None
        sources = default_mask_sources()
    return MaskCache(directory, sources)


def prepare_masks(cache: MaskCache | None, records: list[VisprRecord], console: Console, what: str) -> None:
    if cache is None:
        return
    stats = cache.build([(r.id, r.image_path) for r in records])
    console.print(
        f"masks ({what}): {stats.computed} computed, {stats.cached} cached, {len(stats.failed)} failed "
        f"[dim]({cache.directory})[/]"
    )
    for image_id, reason in stats.failed[:5]:
        console.print(f"  [yellow]no masks for {image_id}[/]: {reason}")


def split_arrays(records: list[VisprRecord], profile: np.ndarray, console: Console) -> tuple[np.ndarray, np.ndarray]:
    labels, unknown = label_matrix(records)
    if unknown:
        console.print(f"[yellow]ignored {len(unknown)} unknown attribute ids[/]: {', '.join(unknown[:8])}")
    return labels, privacy_targets(labels, profile)


@torch.no_grad()
def run_inference(
    model: PrivObfNet, loader: DataLoader, device: torch.device, *, amp: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Model-Image over a loader -> (N, A) attribute probabilities and (N,) privacy scores, in order."""
    model.eval()
    probs, scores = [], []
    for batch in loader:
        with mixed_precision(device, amp):
            out = model(batch["image"].to(device), batch["guides"].to(device))
        probs.append(torch.sigmoid(out.logits.float()).cpu())
        assert out.privacy is not None
        scores.append(out.privacy.float().cpu())
    return torch.cat(probs).numpy(), torch.cat(scores).numpy()


def split_metrics(probs: np.ndarray, scores: np.ndarray, labels: np.ndarray, targets: np.ndarray) -> dict[str, Any]:
    ps = privacy_score_metrics(scores, targets)
    attrs = attribute_report(probs, labels)
    return {
        "l1": ps["l1"],
        "pearson": ps["pearson"],
        "spearman": ps["spearman"],
        "macro_map": attrs["macro_map"],
        "mean_accuracy": attrs["mean_accuracy"],
        "attributes_with_positives": attrs["attributes_with_positives"],
        "images": len(targets),
    }


def _better(metric: str, value: float | None, best: float | None) -> bool:
    higher = SELECT_METRICS[metric][1]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return best is None
    if best is None:
        return True
    return value > best if higher else value < best


def inference_config(cfg: TrainConfig, profile: np.ndarray, profile_source: str, n_train: int) -> dict[str, Any]:
    """What a best checkpoint says about itself (primitives only: loadable with weights_only)."""
    return {
        "model": "privobfnet",
        "backbone": cfg.backbone,
        "num_attributes": len(attribute_ids()),
        "attribute_ids": attribute_ids(),
        "mask_types": mask_type_vector(),
        "hidden": cfg.hidden,
        "input_size": cfg.image_size,
        "crop_size": cfg.crop_size,
        "crops": cfg.crops,
        "profile": [float(x) for x in profile],
        "profile_source": profile_source,
        "pooling": "max",
        "mask_threshold": cfg.mask_threshold,
        "masks": cfg.masks,
        "trained_on": f"VISPR {cfg.train_split} split at {cfg.data} ({n_train} images)",
        "train": config_dict(cfg),
    }


#: options a resumed run may change; every other option stays as the run started (a difference is reported)
RESUMABLE_OVERRIDES = ("epochs", "device", "workers", "resume", "out")


@dataclass
class _Splits:
    """The loaded training data: records, label matrices and privacy-score targets."""

    profile: np.ndarray
    profile_source: str
    train_records: list[VisprRecord]
    train_arrays: tuple[np.ndarray, np.ndarray]  # (labels, targets)
    val_records: list[VisprRecord]
    val_arrays: tuple[np.ndarray, np.ndarray] | None


class PrivObfNetTrainer:
    """Runs (or resumes) a PrivObfNet training in a run folder (privscan.train.run_folder)."""

    def __init__(
        self,
        cfg: TrainConfig,
        *,
        console: Console | None = None,
        resume: bool | None = None,
        mask_sources: Mapping[str, MaskSource] | None = None,
        on_epoch: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.console = console or Console(stderr=True)
        validate(cfg)
        self.folder = RunFolder(
            cfg.out, train_format=TRAIN_CHECKPOINT_FORMAT, history_name="metrics.jsonl",
            resume=cfg.resume if resume is None else resume, missing_resume="new", holds="a run",
            log=self.console.print,
        )  # fmt: skip
        self.state = self.folder.resumed
        if self.state is not None:
            stored = self.state["config"]["train"]
            cfg = TrainConfig.from_dict(self.folder.resume_options(stored, config_dict(cfg), RESUMABLE_OVERRIDES))
            cfg.out, cfg.resume = self.folder.path, True
        self.cfg = cfg
        self.mask_sources = mask_sources
        self.on_epoch = on_epoch

    # ------------------------------------------------------------------------------------------ set-up

    def _load_data(self) -> _Splits:
        cfg, console = self.cfg, self.console
        profile, profile_source = choose_profile(path=cfg.profile, user=cfg.user)
        train_records = load_split(cfg.data, cfg.train_split, limit=cfg.limit)
        train_arrays = split_arrays(train_records, profile, console)
        val_records: list[VisprRecord] = []
        if cfg.val_split:
            try:
                split_list_path(Path(cfg.data), cfg.val_split)
                val_records = load_split(cfg.data, cfg.val_split, limit=cfg.limit)
            except UsageError:
                val_records = []
        if not val_records:
            console.print("[yellow]no validation split: the last epoch becomes best.pt (no model selection)[/]")
        return _Splits(profile, profile_source, train_records, train_arrays, val_records, None)

    def _datasets(self, data: _Splits) -> tuple[VisprImages, VisprImages | None]:
        cfg = self.cfg
        cache = mask_cache_for(cfg.masks, Path(cfg.mask_cache or self.folder.path / "mask_cache"), self.mask_sources)
        prepare_masks(cache, data.train_records + data.val_records, self.console, "train+val")
        mask_reader = cache.reader() if cache is not None else None
        del cache  # the detectors are not needed any more: free their memory before training
        train_set = VisprImages(data.train_records, *data.train_arrays, cfg.image_size, mask_reader)
        if data.val_records:
            data.val_arrays = split_arrays(data.val_records, data.profile, self.console)
            return train_set, VisprImages(data.val_records, *data.val_arrays, cfg.image_size, mask_reader)
        return train_set, None

    # ---------------------------------------------------------------------------------------- epochs

    def _train_epoch(
        self, pair: PrivObfNetPair, optimizer: torch.optim.SGD, scaler: torch.amp.GradScaler,
        train_set: VisprImages, epoch: int, device: torch.device,
    ) -> dict[str, Any]:  # fmt: skip
        cfg = self.cfg
        factor = lr_factor(cfg, epoch)
        for group in optimizer.param_groups:
            group["lr"] = group["base_lr"] * factor
        gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + epoch)
        loader = DataLoader(
            train_set,
            batch_size=cfg.batch_size,
            shuffle=True,
            generator=gen,
            num_workers=cfg.workers,
            drop_last=len(train_set) > cfg.batch_size,
        )
        weights = LossWeights(*cfg.loss_weights)
        pair.train()
        sums: dict[str, float] = {"loss": 0.0, "img": 0.0, "cr": 0.0, "priv": 0.0, "att": 0.0}
        seen, t0 = 0, time.perf_counter()
        with progress(transient=True) as bar:
            task = bar.add_task(f"epoch {epoch}/{cfg.epochs}", total=len(loader), status="")
            for batch in loader:
                images, guides = batch["image"], batch["guides"]
                if cfg.flip:
                    flip = torch.rand(images.shape[0], generator=gen) < 0.5
                    images = torch.where(flip[:, None, None, None], images.flip(-1), images)
                    guides = torch.where(flip[:, None, None, None], guides.flip(-1), guides)
                if cfg.guide_dropout > 0:
                    keep = torch.rand(images.shape[0], generator=gen) >= cfg.guide_dropout
                    guides = guides * keep[:, None, None, None].to(guides.dtype)
                offsets = random_crop_offsets(images.shape[0], cfg.crops, cfg.image_size, cfg.crop_size, generator=gen)
                images, guides = images.to(device, non_blocking=True), guides.to(device, non_blocking=True)
                labels, scores = batch["labels"].to(device), batch["score"].to(device)
                with mixed_precision(device, cfg.amp):
                    out = pair(images, offsets, cfg.crop_size, guides)
                    loss, terms = total_loss(out, labels, scores, cfg.crops, weights)
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
                n = images.shape[0]
                seen += n
                sums["loss"] += float(loss.detach()) * n
                for k, v in terms.items():
                    sums[k] += v * n
                bar.update(task, advance=1, status=f"loss {sums['loss'] / seen:.4f}")
        train_seconds = time.perf_counter() - t0
        return {
            "epoch": epoch,
            "lr": cfg.lr * factor,
            "train": {k: v / max(seen, 1) for k, v in sums.items()},
            "train_seconds": round(train_seconds, 2),
            "images_per_second": round(seen / max(train_seconds, 1e-9), 2),
        }

    def _validate(self, pair: PrivObfNetPair, val_set: VisprImages, data: _Splits,
                  device: torch.device) -> dict[str, Any]:
        assert data.val_arrays is not None
        val_loader = DataLoader(val_set, batch_size=self.cfg.batch_size, shuffle=False, num_workers=self.cfg.workers)
        probs, scores_pred = run_inference(pair.image, val_loader, device, amp=self.cfg.amp)
        return split_metrics(probs, scores_pred, *data.val_arrays)

    # ------------------------------------------------------------------------------------------- run

    def run(self) -> TrainResult:
        """Run (or resume) the training; returns where the best checkpoint is and its metrics."""
        cfg, folder = self.cfg, self.folder
        device = resolve_device(cfg.device)
        seed_everything(cfg.seed)
        data = self._load_data()
        selected_on_validation = bool(data.val_records)
        folder.create(config_dict(cfg))
        train_set, val_set = self._datasets(data)

        pair = build_pair(cfg).to(device)
        optimizer = make_optimizer(pair, cfg)
        scaler = grad_scaler(device, cfg.amp)
        start_epoch, best_value, best_epoch = 1, None, 0
        history: list[dict[str, Any]] = []
        best_metrics: dict[str, Any] = {}
        if self.state is not None:
            pair.load_state_dict(self.state["state_dict"])
            optimizer.load_state_dict(self.state["optimizer"])
            start_epoch = int(self.state["epoch"]) + 1
            best_value, best_epoch = self.state.get("best_value"), int(self.state.get("best_epoch", 0))
            history = json.loads(self.state.get("history_json", "[]"))
            best_metrics = json.loads(self.state.get("best_metrics_json", "{}"))
            self.console.print(f"resuming {folder.path} after epoch {start_epoch - 1}")
        info = inference_config(cfg, data.profile, data.profile_source, len(data.train_records))
        self.console.print(
            f"PrivObfNet: {len(data.train_records)} train / {len(data.val_records)} val images, {cfg.backbone}, "
            f"{cfg.image_size}px + {cfg.crops}x{cfg.crop_size}px crops, {describe(device)}, "
            f"profile {data.profile_source}"
        )

        for epoch in range(start_epoch, cfg.epochs + 1):
            record = self._train_epoch(pair, optimizer, scaler, train_set, epoch, device)
            if val_set is not None:
                record["val"] = self._validate(pair, val_set, data, device)
                value = record["val"][SELECT_METRICS[cfg.select_on][0]]
                improved = _better(cfg.select_on, value, best_value)
            else:
                value, improved = None, True
            if improved:
                best_value, best_epoch = value, epoch
                best_metrics = {"epoch": epoch, **(record.get("val") or {}), "selected_on": cfg.select_on}
                folder.save_best({
                    "format": CHECKPOINT_FORMAT,
                    "config": info,
                    "state_dict": pair.image.state_dict(),
                    "epoch": epoch,
                    "metrics": {"validation": record.get("val"), "selected_on_validation": selected_on_validation},
                })
            record["best"] = improved
            history.append(record)
            folder.save_last({
                "config": info,
                "state_dict": pair.state_dict(),
                "optimizer": optimizer.state_dict(),
                "epoch": epoch,
                "best_value": best_value,
                "best_epoch": best_epoch,
                "history_json": json.dumps(history),
                "best_metrics_json": json.dumps(best_metrics),
            })
            folder.write_history(history)
            _print_epoch(self.console, record, cfg.epochs)
            if self.on_epoch is not None:
                self.on_epoch(record)

        if not folder.best_path.exists():
            raise UsageError(f"{folder.path}: training finished no epoch (epochs={cfg.epochs}, already done?)")
        return TrainResult(folder.path, folder.best_path, best_epoch, {"val": best_metrics}, history,
                           selected_on_validation)


def train(
    cfg: TrainConfig,
    console: Console | None = None,
    *,
    mask_sources: Mapping[str, MaskSource] | None = None,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
) -> TrainResult:
    """`PrivObfNetTrainer(cfg, ...).run()`."""
    return PrivObfNetTrainer(cfg, console=console, mask_sources=mask_sources, on_epoch=on_epoch).run()


def _fmt(value: Any) -> str:
    return "n/a" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)


def _print_epoch(console: Console, record: dict[str, Any], epochs: int) -> None:
    t = record["train"]
    line = (
        f"epoch {record['epoch']}/{epochs}  loss {t['loss']:.4f} (img {t['img']:.4f} cr {t['cr']:.4f} "
        f"priv {t['priv']:.4f} att {t['att']:.4f})  {record['images_per_second']} img/s"
    )
    if "val" in record:
        v = record["val"]
        line += (
            f"  val mAP {_fmt(v['macro_map'])} acc {_fmt(v['mean_accuracy'])} L1 {_fmt(v['l1'])} "
            f"pearson {_fmt(v['pearson'])} spearman {_fmt(v['spearman'])}"
        )
    if record.get("best"):
        line += "  [green]best[/]"
    console.print(line)


# ---- registration ----------------------------------------------------------------------------------------


def register_best(best_path: Path, weights_dir: Path, *, name: str = "privobfnet") -> Path:
    """Copy best.pt into a weights folder under a content-addressed name and list it in its manifest."""
    payload = load_checkpoint(best_path, expected_format=CHECKPOINT_FORMAT)
    config = payload["config"]
    digest = weights_mod.sha256_file(best_path)
    validation = (payload.get("metrics") or {}).get("validation") or {}
    entry = weights_mod.WeightEntry(
        name=name,
        kind="privobfnet",
        file=f"{name}-{config['backbone']}-{digest[:8]}.pt",
        sha256=digest,
        source=f"trained with `privscan train privobfnet` (run {best_path.parent})",
        licence=(
            "trained locally; derived from VISPR (annotations Apache-2.0, images under their Flickr owners' "
            "licences) and the backbone's ImageNet weights"
        ),
        trained_on=str(config.get("trained_on", "VISPR")),
        metrics={"epoch": payload.get("epoch"), "validation": validation},
        notes=f"profile {config.get('profile_source')}; input {config.get('input_size')} px",
        config={k: v for k, v in config.items() if k not in ("profile", "attribute_ids", "mask_types", "train")},
    )
    return register(best_path, entry, weights_dir)
