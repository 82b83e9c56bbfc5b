"""The DRAG training schedule, resumable stage by stage and epoch by epoch.

1. finetune: the backbone plus a linear head on its pooled features, as a 2-class classifier
   (class-weighted cross-entropy), so its channels respond to privacy cues.
2. kmeans:   peak responses of every backbone channel over the training set, clustered into N groups
   (privscan.train.channel_grouping); the result is saved as channel_groups.json.
3. cgl:      the channel grouping layer pretrained (backbone frozen) to output that one-hot grouping,
   with per-entry weighted binary cross-entropy.
4. joint:    the whole model; per batch an Lcls step (class-weighted CE over backbone, CGL, GCN and head,
   each with its own learning rate) alternates with a Dis+Div step on the CGL; the backbone stays frozen
   for the first `freeze_epochs`. Adam, weight decay 1e-7. The best epoch on the validation split is kept.

The run folder holds config.json, data.json (splits, counts, skipped images), channel_groups.json,
history.jsonl, last.pt (everything needed to resume, written after every epoch of every stage) and
best.pt (the self-describing model checkpoint). `resume=True` continues from last.pt.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader

from privscan import __version__, weights
from privscan.device import describe, resolve_device
from privscan.errors import UsageError
from privscan.io.checkpoint import load_checkpoint
from privscan.models.drag import CHECKPOINT_FORMAT, CLASSES, Drag, DragConfig, region_maps
from privscan.models.drag_losses import dis_div_loss, grouping_bce, peak_normalised
from privscan.models.uninitialised import uninitialised
from privscan.pretrained import imagenet_backbone, resolve_backbone_file
from privscan.train.channel_grouping import ChannelGroups, cluster_channels, collect_peaks
from privscan.train.classification_metrics import ClassificationMetrics, classification_metrics
from privscan.train.common import adam, grad_scaler, mixed_precision, progress, seed_everything
from privscan.train.drag_data import (
    LABEL_NAMES,
    PRIVATE,
    PUBLIC,
    Batch,
    PrivacyData,
    PrivacyImages,
    Problem,
    Sample,
    collate,
    load_privacy_data,
)
from privscan.train.run_folder import RunFolder, TrainResult, register

TRAIN_FORMAT = "privscan-drag-train"
STAGES = ("finetune", "kmeans", "cgl", "joint", "done")
# Options that may change when a run is resumed; everything else must stay as the run started.
RESUMABLE_OVERRIDES = ("epochs", "workers", "device", "amp")


@dataclass
class DragTrainConfig:
    data: str
    out: str
    format: str = "auto"
    fold: str = "0"
    private_label: int | None = None
    val_fraction: float = 0.1
    test_fraction: float = 0.2
    backbone: str = "mobilenet_v2"
    backbone_weights: str | None = None
    pretrained: bool = True
    regions: int = 8
    image_size: int = 448
    batch_size: int = 16
    workers: int = 2
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    finetune_epochs: int = 10
    cgl_epochs: int = 5
    epochs: int = 30  # joint epochs
    freeze_epochs: int = 5
    lr_finetune: float = 1e-4  # backbone lr while fine-tuning as a plain classifier
    lr_finetune_head: float = 1e-3
    lr_backbone: float = 1e-5
    lr_cgl: float = 1e-3
    lr_gcn: float = 1e-3
    weight_decay: float = 1e-7
    div_weight: float = 1.0
    grouping_norm: str = "peak"  # "peak": Dis/Div on peak-normalised maps; "none": literal eq. 3 on raw Fw
    adjacency: str = "authors"  # DragConfig.adjacency: "authors" (their code) or "paper" (eq. 5 alone)
    kmeans_images: int | None = None  # None: every training image
    hflip: bool = True

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise UsageError("--batch-size must be at least 1")
        for name in ("finetune_epochs", "cgl_epochs", "epochs", "freeze_epochs"):
            if getattr(self, name) < 0:
                raise UsageError(f"--{name.replace('_', '-')} must not be negative")
        if self.grouping_norm not in ("peak", "none"):
            raise UsageError("--grouping-norm must be peak or none")
        if self.epochs < 1:
            raise UsageError("--epochs (joint training) must be at least 1")
        fractions = (self.val_fraction, self.test_fraction)
        if not (all(0 <= f < 1 for f in fractions) and sum(fractions) < 1):
            raise UsageError("--val-fraction and --test-fraction must be in [0, 1) and sum to less than 1")

    def model_config(self) -> DragConfig:
        try:
            return DragConfig(
                backbone=self.backbone, regions=self.regions, input_size=self.image_size, adjacency=self.adjacency
            )
        except ValueError as e:
            raise UsageError(str(e)) from e

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> DragTrainConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in names})


@dataclass
class TrainState:
    stage: str = "finetune"
    stage_epoch: int = 0  # completed epochs of the current stage
    history: list[dict[str, Any]] = field(default_factory=list)
    best: dict[str, Any] | None = None
    groups: dict[str, Any] | None = None
    skipped: dict[str, str] = field(default_factory=dict)  # path -> reason (unreadable images)


class FinetuneHead(nn.Module):
    """Stage 1 classifier on top of the backbone: global average pool + Linear(C -> 2)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.fc = nn.Linear(channels, len(CLASSES))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.fc(features.mean(dim=(2, 3)))


def class_weights(samples: list[Sample]) -> torch.Tensor:
    """Inverse-frequency weights n / (2 n_c) in CLASSES order; both classes must be present."""
    counts = np.bincount([s.label for s in samples], minlength=len(CLASSES)).astype(np.float64)
    if (counts == 0).any():
        missing = [LABEL_NAMES[i] for i in (PUBLIC, PRIVATE) if counts[i] == 0]
        raise UsageError(f"the training split has no {' or '.join(missing)} images")
    return torch.tensor(counts.sum() / (len(CLASSES) * counts), dtype=torch.float32)


def _cpu_state(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu() for k, v in module.state_dict().items()}


def _set_trainable(module: nn.Module, trainable: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(trainable)


class DragTrainer:
    """Runs (or resumes) the staged schedule in a run folder."""

    def __init__(
        self,
        cfg: DragTrainConfig,
        *,
        console: Console | None = None,
        resume: bool = False,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.console = console or Console(stderr=True)
        self.log = log or self.console.print
        self.folder = RunFolder(cfg.out, train_format=TRAIN_FORMAT, history_name="history.jsonl", resume=resume,
                                log=self.log)
        self.out = self.folder.path
        self.state = TrainState()
        self._resume_payload = self.folder.resumed
        if self._resume_payload is not None:
            stored = self._resume_payload["train_config"]
            cfg = DragTrainConfig.from_dict(self.folder.resume_options(stored, asdict(cfg), RESUMABLE_OVERRIDES))
            self.state = TrainState(**self._resume_payload["state"])
        self.cfg = cfg
        self.model_cfg = cfg.model_config()
        self.device = resolve_device(cfg.device)
        self.out.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------------------------------ set-up

    def _load_data(self) -> PrivacyData:
        cfg = self.cfg
        data = load_privacy_data(
            cfg.data,
            cfg.format,
            fold=cfg.fold,
            private_label=cfg.private_label,
            seed=cfg.seed,
            val_fraction=cfg.val_fraction,
            test_fraction=cfg.test_fraction,
            fallback_dir=self.out,
        )
        for note in data.notes:
            self.log(f"[yellow]note:[/] {note}")
        if data.problems:
            self.log(f"[yellow]{len(data.problems)} listed image(s) are missing and left out[/] (see data.json)")
            for p in data.problems[:5]:
                self.log(f"  [dim]{p.path}: {p.reason}[/]")
        data.split("train")
        data.split("val")
        counts = data.counts()
        self.log(
            "data: "
            + ", ".join(f"{s} {c['private']} private / {c['public']} public" for s, c in counts.items())
            + f" ({data.format} layout)"
        )
        return data

    def _build_model(self) -> tuple[Drag, dict[str, Any]]:
        cfg = self.cfg
        weights_path = Path(cfg.backbone_weights).expanduser() if cfg.backbone_weights else None
        init: dict[str, Any] = {"name": cfg.backbone, "pretrained": cfg.pretrained}
        if cfg.pretrained and self._resume_payload is None:
            path, sha = resolve_backbone_file(cfg.backbone, weights_path)
            init.update(file=str(path), sha256=sha)
        backbone = imagenet_backbone(
            cfg.backbone, weights_path=weights_path, pretrained=cfg.pretrained and self._resume_payload is None
        )
        model = Drag(self.model_cfg, backbone=backbone)
        if self._resume_payload is not None:
            model.load_state_dict(self._resume_payload["state_dict"])
            init = self._resume_payload.get("backbone_init", init)
        return model.to(self.device), init

    def _loader(self, samples: list[Sample], *, train: bool, epoch_seed: int) -> DataLoader:
        cfg = self.cfg
        return make_loader(
            samples,
            cfg.image_size,
            cfg.batch_size,
            cfg.workers,
            train=train,
            hflip=cfg.hflip,
            seed=epoch_seed,
            pin_memory=self.device.type == "cuda",
        )

    def _batches(self, loader: DataLoader, samples: list[Sample]) -> Iterator[Batch]:
        return readable_batches(loader, samples, self.state.skipped, self.log)

    # ------------------------------------------------------------------------------------ checkpoints

    def _save_last(
        self,
        model: Drag,
        head: FinetuneHead,
        init: dict[str, Any],
        optimizers: dict[str, torch.optim.Optimizer] | None = None,
    ) -> None:
        payload = {
            "train_config": asdict(self.cfg),
            "config": self.model_cfg.to_dict(),
            "state": asdict(self.state),
            "state_dict": _cpu_state(model),
            "finetune_head": _cpu_state(head),
            "optimizers": {k: v.state_dict() for k, v in (optimizers or {}).items()},
            "backbone_init": init,
        }
        self.folder.save_last(payload)

    def _restore_optimizers(self, optimizers: dict[str, torch.optim.Optimizer]) -> None:
        saved = (self._resume_payload or {}).get("optimizers") or {}
        for name, opt in optimizers.items():
            if name in saved:
                opt.load_state_dict(saved[name])
        self._resume_payload = None if self._resume_payload is None else {**self._resume_payload, "optimizers": {}}

    def _model_payload(self, model: Drag, data: PrivacyData, init: dict[str, Any], epoch: int) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "config": self.model_cfg.to_dict(),
            "classes": list(CLASSES),
            "state_dict": _cpu_state(model),
            "epoch": epoch,
            "metrics": {},
            "training_data": data.describe(),
            "train_config": asdict(self.cfg),
            "backbone_init": init,
            "privscan_version": __version__,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }

    def _history(self, row: dict[str, Any]) -> None:
        self.state.history.append(row)
        self.folder.write_history(self.state.history)

    # ----------------------------------------------------------------------------------------- stages

    def _epoch_seed(self, stage: str, epoch: int) -> int:
        return self.cfg.seed * 1000 + STAGES.index(stage) * 100 + epoch

    def _finetune(self, model: Drag, head: FinetuneHead, data: PrivacyData, init: dict[str, Any]) -> None:
        cfg, train = self.cfg, data.split("train")
        weight = class_weights(train).to(self.device)
        _set_trainable(model.backbone, True)
        opt = adam(
            [
                {"params": list(model.backbone.parameters()), "lr": cfg.lr_finetune},
                {"params": list(head.parameters()), "lr": cfg.lr_finetune_head},
            ],
            weight_decay=cfg.weight_decay,
        )
        self._restore_optimizers({"finetune": opt})
        scaler = grad_scaler(self.device, cfg.amp)
        while self.state.stage_epoch < cfg.finetune_epochs:
            epoch = self.state.stage_epoch
            seed_everything(self._epoch_seed("finetune", epoch))
            model.backbone.train()
            head.train()
            started, total, correct, loss_sum = time.perf_counter(), 0, 0, 0.0
            loader = self._loader(train, train=True, epoch_seed=self._epoch_seed("finetune", epoch))
            with progress() as bar:
                task = bar.add_task(f"finetune {epoch + 1}/{cfg.finetune_epochs}", total=len(loader), status="")
                for batch in self._batches(loader, train):
                    x, y = batch.images.to(self.device), batch.labels.to(self.device)
                    with mixed_precision(self.device, cfg.amp):
                        logits = head(model.backbone(x))
                    loss = F.cross_entropy(logits.float(), y, weight=weight)
                    opt.zero_grad(set_to_none=True)
                    scaler.scale(loss).backward()
                    scaler.step(opt)
                    scaler.update()
                    total += y.numel()
                    correct += int((logits.argmax(1) == y).sum())
                    loss_sum += loss.item() * y.numel()
                    bar.update(task, advance=1, status=f"loss {loss_sum / total:.4f} acc {correct / total:.3f}")
            val = self._evaluate_head(model, head, data.split("val"))
            row = {
                "stage": "finetune",
                "epoch": epoch + 1,
                "train_loss": loss_sum / max(total, 1),
                "train_acc": correct / max(total, 1),
                "val_acc": val.accuracy,
                "val_macro_f1": val.macro_f1,
                "seconds": round(time.perf_counter() - started, 2),
            }
            self._history(row)
            self.log(f"finetune epoch {epoch + 1}: loss {row['train_loss']:.4f}, val acc {val.accuracy:.4f}")
            self.state.stage_epoch += 1
            self._save_last(model, head, init, {"finetune": opt})
        self.state.stage, self.state.stage_epoch = "kmeans", 0

    def _kmeans(self, model: Drag, head: FinetuneHead, data: PrivacyData, init: dict[str, Any]) -> ChannelGroups:
        cfg, train = self.cfg, data.split("train")
        model.backbone.eval()
        # shuffled (no flips), so that --kmeans-images takes a sample of both classes, not the first files listed
        loader = make_loader(
            train, cfg.image_size, cfg.batch_size, cfg.workers, train=True, hflip=False,
            seed=self._epoch_seed("kmeans", 0), pin_memory=self.device.type == "cuda",
        )  # fmt: skip
        limit = cfg.kmeans_images or len(train)
        started = time.perf_counter()
        with progress() as bar:
            task = bar.add_task("channel peaks", total=min(limit, len(train)), status="")

            def extract(images: torch.Tensor) -> torch.Tensor:
                with mixed_precision(self.device, cfg.amp):
                    return model.backbone(images.to(self.device)).float()

            peaks = collect_peaks(
                extract,
                (b.images for b in self._batches(loader, train)),
                max_images=limit,
                on_batch=lambda n: bar.update(task, advance=n),
            )
        groups = cluster_channels(peaks, cfg.regions, seed=cfg.seed)
        groups.meta = {"backbone": cfg.backbone, "input_size": cfg.image_size, "data": str(cfg.data)}
        groups.save(self.out / "channel_groups.json")
        self.log(
            f"k-means over {peaks.shape[0]} channels x {groups.images} images: group sizes {groups.sizes} "
            f"({time.perf_counter() - started:.1f} s)"
        )
        self.state.groups = asdict(groups)
        self.state.stage, self.state.stage_epoch = "cgl", 0
        self._save_last(model, head, init)
        return groups

    def _pretrain_cgl(self, model: Drag, head: FinetuneHead, data: PrivacyData, init: dict[str, Any]) -> None:
        cfg, train = self.cfg, data.split("train")
        assert self.state.groups is not None
        target = ChannelGroups(**self.state.groups).one_hot().to(self.device)
        opt = adam([{"params": list(model.cgl.parameters()), "lr": cfg.lr_cgl}], weight_decay=cfg.weight_decay)
        self._restore_optimizers({"cgl": opt})
        model.backbone.eval()
        while self.state.stage_epoch < cfg.cgl_epochs:
            epoch = self.state.stage_epoch
            seed_everything(self._epoch_seed("cgl", epoch))
            model.cgl.train()
            started, total, loss_sum, agree = time.perf_counter(), 0, 0.0, 0.0
            loader = self._loader(train, train=True, epoch_seed=self._epoch_seed("cgl", epoch))
            with progress() as bar:
                task = bar.add_task(f"cgl {epoch + 1}/{cfg.cgl_epochs}", total=len(loader), status="")
                for batch in self._batches(loader, train):
                    x = batch.images.to(self.device)
                    with torch.no_grad(), mixed_precision(self.device, cfg.amp):
                        features = model.backbone(x)
                    logits = model.cgl.logits(features.float())
                    loss = grouping_bce(logits, target)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    n = x.shape[0]
                    total += n
                    loss_sum += loss.item() * n
                    # share of channels whose strongest region is their K-means group
                    agree += float((logits.argmax(1) == target.argmax(0)).float().mean()) * n
                    bar.update(task, advance=1, status=f"bce {loss_sum / total:.4f} agree {agree / total:.3f}")
            row = {
                "stage": "cgl",
                "epoch": epoch + 1,
                "train_loss": loss_sum / max(total, 1),
                "group_agreement": agree / max(total, 1),
                "seconds": round(time.perf_counter() - started, 2),
            }
            self._history(row)
            self.log(f"cgl epoch {epoch + 1}: bce {row['train_loss']:.4f}, agreement {row['group_agreement']:.3f}")
            self.state.stage_epoch += 1
            self._save_last(model, head, init, {"cgl": opt})
        self.state.stage, self.state.stage_epoch = "joint", 0

    def _joint(self, model: Drag, head: FinetuneHead, data: PrivacyData, init: dict[str, Any]) -> None:
        cfg, train = self.cfg, data.split("train")
        weight = class_weights(train).to(self.device)
        opt, opt_group = joint_optimizers(model, cfg)
        self._restore_optimizers({"joint": opt, "grouping": opt_group})
        scaler = grad_scaler(self.device, cfg.amp)
        while self.state.stage_epoch < cfg.epochs:
            epoch = self.state.stage_epoch
            seed_everything(self._epoch_seed("joint", epoch))
            frozen = epoch < cfg.freeze_epochs
            model.train()
            _set_trainable(model.backbone, not frozen)
            if frozen:
                model.backbone.eval()  # frozen means frozen BatchNorm statistics too
            started, total, correct, loss_sum, group_sum = time.perf_counter(), 0, 0, 0.0, 0.0
            loader = self._loader(train, train=True, epoch_seed=self._epoch_seed("joint", epoch))
            with progress() as bar:
                task = bar.add_task(
                    f"joint {epoch + 1}/{cfg.epochs}{' (backbone frozen)' if frozen else ''}",
                    total=len(loader),
                    status="",
                )
                for batch in self._batches(loader, train):
                    x, y = batch.images.to(self.device), batch.labels.to(self.device)
                    step = joint_step(model, x, y, opt, opt_group, scaler, weight=weight, cfg=cfg, device=self.device)
                    n = y.numel()
                    total += n
                    correct += int((step.logits.argmax(1) == y).sum())
                    loss_sum += step.cls_loss * n
                    group_sum += step.group_loss * n
                    bar.update(
                        task,
                        advance=1,
                        status=f"cls {loss_sum / total:.4f} dis+div {group_sum / total:.3g} acc {correct / total:.3f}",
                    )
            val, val_loss = self.evaluate(model, data.split("val"), weight=weight)
            row = {
                "stage": "joint",
                "epoch": epoch + 1,
                "backbone_frozen": frozen,
                "train_loss": loss_sum / max(total, 1),
                "train_dis_div": group_sum / max(total, 1),
                "train_acc": correct / max(total, 1),
                "val_loss": val_loss,
                "val_acc": val.accuracy,
                "val_macro_f1": val.macro_f1,
                "seconds": round(time.perf_counter() - started, 2),
            }
            self._history(row)
            best = self.state.best
            improved = best is None or (val.accuracy, -val_loss) > (best["val_acc"], -best["val_loss"])
            self.log(
                f"joint epoch {epoch + 1}: cls {row['train_loss']:.4f}, dis+div {row['train_dis_div']:.4g}, "
                f"val acc {val.accuracy:.4f}, val loss {val_loss:.4f}{'  [green]best[/]' if improved else ''}"
            )
            if improved:
                self.state.best = {
                    "epoch": epoch + 1,
                    "val_acc": val.accuracy,
                    "val_loss": val_loss,
                    "val": val.to_dict(),
                }
                payload = self._model_payload(model, data, init, epoch + 1)
                payload["metrics"] = {"val": val.to_dict()}
                self.folder.save_best(payload)
            self.state.stage_epoch += 1
            self._save_last(model, head, init, {"joint": opt, "grouping": opt_group})
        self.state.stage = "done"  # stage_epoch keeps the number of joint epochs, so --epochs can extend the run
        self._save_last(model, head, init, {"joint": opt, "grouping": opt_group})  # kept for a later --epochs

    # --------------------------------------------------------------------------------------- evaluation

    @torch.no_grad()
    def _evaluate_head(self, model: Drag, head: FinetuneHead, samples: list[Sample]) -> ClassificationMetrics:
        model.backbone.eval()
        head.eval()
        y_true, y_pred = [], []
        for batch in self._batches(self._loader(samples, train=False, epoch_seed=0), samples):
            with mixed_precision(self.device, self.cfg.amp):
                logits = head(model.backbone(batch.images.to(self.device)))
            y_true += batch.labels.tolist()
            y_pred += logits.argmax(1).cpu().tolist()
        return classification_metrics(y_true, y_pred, CLASSES)

    def evaluate(
        self, model: Drag, samples: list[Sample], *, weight: torch.Tensor | None = None
    ) -> tuple[ClassificationMetrics, float]:
        loader = self._loader(samples, train=False, epoch_seed=0)
        probs, labels, _ = predict_batches(model, self._batches(loader, samples), self.device, self.cfg.amp)
        logp = torch.log(torch.from_numpy(np.stack([1 - probs, probs], axis=1)).clamp_min(1e-12))
        loss = float(F.nll_loss(logp, torch.from_numpy(labels), weight=None if weight is None else weight.cpu()))
        return classification_metrics(labels, (probs >= 0.5).astype(np.int64), CLASSES), loss

    # --------------------------------------------------------------------------------------------- run

    def run(self) -> TrainResult:
        cfg = self.cfg
        seed_everything(cfg.seed)  # torch's own start-up seed is random: seed before any weight is initialised
        model, init = self._build_model()  # first, so missing backbone weights fail before any file is written
        head = FinetuneHead(self.model_cfg.channels).to(self.device)
        data = self._load_data()
        self.folder.create(asdict(cfg))
        self._write_data_report(data)
        if self._resume_payload is not None:
            head.load_state_dict(self._resume_payload["finetune_head"])
            if self.state.stage == "done" and self.state.stage_epoch < cfg.epochs:
                self.state.stage = "joint"  # a finished run resumed with more --epochs trains on
            self.log(f"resuming at stage {self.state.stage}, {self.state.stage_epoch} epoch(s) done")
        self.log(f"device: {describe(self.device)}; run folder: {self.out}")
        if self.state.stage == "finetune":
            self._finetune(model, head, data, init)
        if self.state.stage == "kmeans":
            self._kmeans(model, head, data, init)
        if self.state.stage == "cgl":
            self._pretrain_cgl(model, head, data, init)
        if self.state.stage == "joint":
            self._joint(model, head, data, init)
        self._write_data_report(data)
        return self._finish(data)

    def _write_data_report(self, data: PrivacyData) -> None:
        report = {
            **data.describe(),
            "notes": data.notes,
            "missing": [asdict(p) for p in data.problems],
            "unreadable": [asdict(Problem(k, v)) for k, v in self.state.skipped.items()],
            "splits": {k: [[str(s.path), LABEL_NAMES[s.label]] for s in v] for k, v in data.splits.items()},
        }
        self.folder.write_json("data.json", report, indent=1)

    def _finish(self, data: PrivacyData) -> TrainResult:
        best_path = self.folder.best_path
        payload = load_checkpoint(best_path, expected_format=CHECKPOINT_FORMAT)
        with uninitialised():  # the best checkpoint's weights replace every tensor (strict load)
            model = Drag(self.model_cfg)
        model.load_state_dict(payload["state_dict"])
        model.to(self.device).eval()
        if data.splits.get("test"):
            test, _ = self.evaluate(model, data.splits["test"])
            payload["metrics"]["test"] = test.to_dict()
        payload["training_data"] = {**data.describe(), "unreadable": len(self.state.skipped)}
        self.folder.save_best(payload)
        return TrainResult(self.out, best_path, int(payload["epoch"]), dict(payload["metrics"]),
                           list(self.state.history), skipped=dict(self.state.skipped))


@dataclass
class StepResult:
    logits: torch.Tensor
    cls_loss: float
    group_loss: float


def joint_step(
    model: Drag,
    x: torch.Tensor,
    y: torch.Tensor,
    opt: torch.optim.Optimizer,
    opt_group: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler,
    *,
    weight: torch.Tensor | None,
    cfg: DragTrainConfig,
    device: torch.device,
) -> StepResult:
    """One joint-training batch: an Lcls step over every trainable part, then a Dis+Div step on the CGL only."""
    with mixed_precision(device, cfg.amp):
        out = model(x)
    loss = F.cross_entropy(out.logits.float(), y, weight=weight)
    opt.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    # the grouping step reuses this batch's backbone features (no gradient to the backbone) with the updated CGL
    features = out.features.detach().float()
    maps = region_maps(features, model.cgl(features))
    if cfg.grouping_norm == "peak":
        maps = peak_normalised(maps)
    group_loss, _, _ = dis_div_loss(maps, cfg.div_weight)
    opt_group.zero_grad(set_to_none=True)
    group_loss.backward()
    opt_group.step()
    return StepResult(out.logits.detach(), loss.item(), group_loss.item())


def joint_optimizers(model: Drag, cfg: DragTrainConfig) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    """Adam with per-part learning rates for Lcls, and a CGL-only Adam for Dis+Div."""
    opt = adam(
        [
            {"params": model.part_parameters("backbone"), "lr": cfg.lr_backbone},
            {"params": model.part_parameters("cgl"), "lr": cfg.lr_cgl},
            {"params": model.part_parameters("gcn") + model.part_parameters("head"), "lr": cfg.lr_gcn},
        ],
        weight_decay=cfg.weight_decay,
    )
    return opt, adam([{"params": list(model.cgl.parameters()), "lr": cfg.lr_cgl}], weight_decay=cfg.weight_decay)


def make_loader(
    samples: list[Sample],
    size: int,
    batch_size: int,
    workers: int,
    *,
    train: bool = False,
    hflip: bool = False,
    seed: int = 0,
    pin_memory: bool = False,
) -> DataLoader:
    """A DataLoader of PrivacyImages whose shuffling (and flips) follow `seed`."""
    gen = torch.Generator()
    gen.manual_seed(seed)
    return DataLoader(
        PrivacyImages(samples, size, hflip=train and hflip),
        batch_size=batch_size,
        shuffle=train,
        num_workers=workers,
        collate_fn=collate,
        generator=gen,
        pin_memory=pin_memory,
    )


def readable_batches(
    loader: DataLoader, samples: list[Sample], skipped: dict[str, str], log: Callable[[str], None] | None = None
) -> Iterator[Batch]:
    """Batches with at least one image; unreadable files are recorded once in `skipped` and left out."""
    for batch in loader:
        for index, reason in batch.failed:
            path = str(samples[index].path)
            if path not in skipped:
                skipped[path] = reason
                if log is not None:
                    log(f"[yellow]skipped unreadable image[/] {path}: {reason}")
        if batch.images.numel():
            yield batch


@torch.no_grad()
def predict_batches(
    model: Drag, batches: Iterator[Batch], device: torch.device, amp: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(p_private, labels, dataset indices) over batches, model in eval mode."""
    model.eval()
    probs, labels, indices = [], [], []
    for batch in batches:
        with mixed_precision(device, amp):
            logits = model(batch.images.to(device)).logits
        probs.append(logits.float().softmax(1)[:, PRIVATE].cpu().numpy())
        labels.append(batch.labels.numpy())
        indices.append(batch.indices.numpy())
    if not probs:
        raise UsageError("no readable images to evaluate")
    return np.concatenate(probs), np.concatenate(labels), np.concatenate(indices)


def register_checkpoint(
    checkpoint: Path, *, name: str = "drag", weights_dir: Path | None = None, run_dir: Path | None = None
) -> Path:
    """Copy a best.pt into the weights folder and add it (with sha256, metrics, config) to its manifest."""
    import json

    payload = load_checkpoint(checkpoint, expected_format=CHECKPOINT_FORMAT)
    data = payload.get("training_data", {})
    metrics = payload.get("metrics", {})
    summary = {
        split: {
            "accuracy": m["accuracy"],
            "macro_f1": m["macro_f1"],
            **{f"{c}_{k}": m["per_class"][c][k] for c in ("private", "public") for k in ("precision", "recall", "f1")},
            "count": m["count"],
        }
        for split, m in metrics.items()
    }
    entry = weights.WeightEntry(
        name=name,
        kind="drag",
        file=f"drag/{name}.pt",
        sha256=None,  # the copy's, set by `register`
        source=f"trained with `privscan train drag` (run folder {run_dir or checkpoint.parent})",
        licence="weights inherit the terms of their training images (PicAlert / IPD: research use)",
        trained_on=f"{data.get('format', '?')} data at {data.get('root', '?')}: {json.dumps(data.get('counts', {}))}",
        metrics=summary,
        notes=f"best epoch {payload.get('epoch')} on validation; classes {payload.get('classes')}",
        config={**payload["config"], "classes": payload.get("classes", list(CLASSES))},
    )
    return register(checkpoint, entry, weights_dir)
