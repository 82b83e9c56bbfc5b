"""`privscan train privobfnet` and `privscan evaluate privobfnet`: option parsing and rendering only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from privscan.cli.common import (
    AmpOpt,
    BackboneOpt,
    BackboneWeightsOpt,
    BatchSizeOpt,
    DeviceOpt,
    PretrainedOpt,
    RegisterOpt,
    ResumeOpt,
    SeedOpt,
    WeightsDirOpt,
    console,
    err_console,
)
from privscan.errors import UsageError

ProfileOpt = Annotated[
    Path | None,
    typer.Option("--profile", help="Privacy profile: a TSV/CSV of attribute_id,sensitivity (1-5).", dir_okay=False),
]
UserOpt = Annotated[int | None, typer.Option("--user", help="Use VISPR user K's profile (0-29) instead of the mean.")]
MasksOpt = Annotated[
    str,
    typer.Option("--masks", help="Person/text masks for Human/Text attributes: detectors (offline models) or none."),
]
MaskCacheOpt = Annotated[
    Path | None, typer.Option("--mask-cache", help="Where the person/text masks are cached (resumable).")
]


def _fmt(value: Any, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _metrics_table(title: str, rows: list[tuple[str, dict[str, Any]]]) -> Table:
    """Privacy score (L1 / Pearson / Spearman, the paper's Table 2) and attributes (mAP, accuracy)."""
    table = Table(title=title)
    for col in ("split", "images", "score L1", "Pearson", "Spearman", "attribute mAP", "mean accuracy"):
        table.add_column(col, justify="left" if col == "split" else "right")
    for name, m in rows:
        table.add_row(
            name,
            str(m.get("images", "")),
            _fmt(m.get("l1")),
            _fmt(m.get("pearson")),
            _fmt(m.get("spearman")),
            _fmt(m.get("macro_map")),
            _fmt(m.get("mean_accuracy")),
        )
    return table


def _flat(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "images": result["images"],
        **result["privacy_score"],
        "macro_map": result["attributes"]["macro_map"],
        "mean_accuracy": result["attributes"]["mean_accuracy"],
    }


def _masks_line(masks: dict[str, Any]) -> str:
    per = ", ".join(f"{a} {v:.3f}" for a, v in masks["per_attribute"].items())
    return f"mask mIoU {_fmt(masks['miou'])} over {masks['images']} images ({per or 'no pairs'})"


def train(
    data: Annotated[Path, typer.Option("--data", help="VISPR folder (train2017.txt, val2017.txt, ... + JSONs).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder: checkpoints, metrics, mask cache.")] = Path(
        "runs/privobfnet"
    ),
    epochs: Annotated[int, typer.Option("--epochs", help="Training epochs (paper: 10).")] = 10,
    batch_size: BatchSizeOpt = 16,
    backbone: BackboneOpt = "mobilenet_v2",
    backbone_weights: BackboneWeightsOpt = None,
    pretrained: PretrainedOpt = True,
    image_size: Annotated[int, typer.Option("--image-size", help="Model-Image input (paper: 448).")] = 448,
    crop_size: Annotated[int, typer.Option("--crop-size", help="Model-Cropped input (paper: 320).")] = 320,
    crops: Annotated[int, typer.Option("--crops", help="Random crops per image, K (paper: 6).")] = 6,
    lr: Annotated[float, typer.Option("--lr", help="SGD learning rate (paper: 0.002).")] = 0.002,
    head_lr_mult: Annotated[
        float, typer.Option("--head-lr-mult", help="Learning-rate multiplier of the CAM and privacy heads.")
    ] = 1.0,
    momentum: Annotated[float, typer.Option("--momentum")] = 0.9,
    weight_decay: Annotated[float, typer.Option("--weight-decay", help="Paper: 5e-4.")] = 5e-4,
    decay_epoch: Annotated[
        list[int] | None, typer.Option("--decay-epoch", help="Epoch(s) where lr drops x0.1 (paper: 6).")
    ] = None,
    guide_dropout: Annotated[
        float,
        typer.Option("--guide-dropout", help="Share of images trained without person/text guides (0 = paper)."),
    ] = 0.5,
    profile: ProfileOpt = None,
    user: UserOpt = None,
    masks: MasksOpt = "detectors",
    mask_cache: MaskCacheOpt = None,
    val_split: Annotated[str, typer.Option("--val-split", help="Split for model selection ('' for none).")] = "val",
    test_split: Annotated[
        str, typer.Option("--test-split", help="Split evaluated with the best checkpoint at the end ('' for none).")
    ] = "test",
    select_on: Annotated[str, typer.Option("--select-on", help="Validation metric: map, l1 or pearson.")] = "map",
    limit: Annotated[int | None, typer.Option("--limit", help="Use only the first N images of each split.")] = None,
    workers: Annotated[int, typer.Option("--workers", help="Image-decoding worker processes.")] = 2,
    seed: SeedOpt = 0,
    device: DeviceOpt = "auto",
    amp: AmpOpt = True,
    resume: ResumeOpt = False,
    register: RegisterOpt = True,
    register_name: Annotated[str, typer.Option("--register-name", help="Manifest entry name.")] = "privobfnet",
    weights_dir: WeightsDirOpt = None,
) -> None:
    """Reproduce PrivObfNet (WACV 2024) on VISPR: privacy score, 68 attributes and attention maps."""
    from privscan import weights
    from privscan.train.privobfnet_data import split_list_path
    from privscan.train.privobfnet_eval import evaluate
    from privscan.train.privobfnet_trainer import TrainConfig, register_best
    from privscan.train.privobfnet_trainer import train as run_training

    cfg = TrainConfig(
        data=data,
        out=out,
        epochs=epochs,
        batch_size=batch_size,
        backbone=backbone,
        image_size=image_size,
        crop_size=crop_size,
        crops=crops,
        lr=lr,
        momentum=momentum,
        weight_decay=weight_decay,
        decay_epochs=tuple(decay_epoch) if decay_epoch else (6,),
        head_lr_mult=head_lr_mult,
        profile=profile,
        user=user,
        device=device,
        resume=resume,
        seed=seed,
        pretrained=pretrained,
        backbone_weights=backbone_weights,
        masks=masks,
        mask_cache=mask_cache,
        workers=workers,
        amp=amp,
        val_split=val_split or None,
        select_on=select_on,
        limit=limit,
        guide_dropout=guide_dropout,
    )
    result = run_training(cfg, err_console)
    best_val = result.metrics.get("val", {}) if result.selected_on_validation else {}
    rows = [("val", best_val)] if best_val else []
    test_result = None
    if test_split:
        try:
            split_list_path(Path(data), test_split)
        except UsageError:
            err_console.print(f"[dim]no {test_split} split list: skipping the final test evaluation[/]")
        else:
            test_result = evaluate(
                result.best_path,
                data,
                test_split,
                device_spec=device,
                batch_size=batch_size,
                masks=masks,
                mask_cache=mask_cache or result.run_dir / "mask_cache",
                limit=limit,
                workers=workers,
                console=err_console,
            )
            from privscan.io.atomic import atomic_write_text

            atomic_write_text(result.run_dir / "test_metrics.json", json.dumps(test_result, indent=2) + "\n")
            rows.append((test_split, _flat(test_result)))
    title = f"PrivObfNet best epoch {result.best_epoch} ({result.best_path})"
    if not result.selected_on_validation:
        title += " - last epoch, no validation split"
    console.print(_metrics_table(title, rows))
    if register:
        directory = weights_dir or weights.weights_dir()
        manifest = register_best(result.best_path, directory, name=register_name)
        console.print(f"registered as [bold]{register_name}[/] in {manifest}")


def evaluate(
    data: Annotated[Path, typer.Option("--data", help="VISPR folder (split lists + annotation JSONs).")],
    checkpoint: Annotated[
        Path | None,
        typer.Option("--checkpoint", "-c", help="A PrivObfNet best.pt (default: the registered weights)."),
    ] = None,
    split: Annotated[str, typer.Option("--split", help="train, val, test, or a list file.")] = "test",
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the metrics to this JSON file.")] = None,
    masks_gt: Annotated[
        Path | None,
        typer.Option("--masks-gt", help="Pixel ground truth (VISPR redaction JSON, COCO RLE) for mask mIoU."),
    ] = None,
    profile: ProfileOpt = None,
    user: UserOpt = None,
    masks: MasksOpt = "detectors",
    mask_cache: MaskCacheOpt = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Evaluate only the first N images.")] = None,
    batch_size: BatchSizeOpt = 16,
    workers: Annotated[int, typer.Option("--workers")] = 2,
    device: DeviceOpt = "auto",
) -> None:
    """PrivObfNet metrics (privacy-score L1/Pearson/Spearman, attribute mAP/accuracy, mask mIoU) on a split."""
    from privscan import weights
    from privscan.io.atomic import atomic_write_text
    from privscan.train.privobfnet_eval import evaluate as run_evaluation

    if checkpoint is None:
        entries = [e for e in weights.load_manifest().values() if e.kind == "privobfnet"]
        if not entries:
            raise UsageError(
                "no --checkpoint given and no PrivObfNet weights are registered",
                hint="train with `privscan train privobfnet` or pass --checkpoint FILE",
            )
        named = [e for e in entries if e.name == "privobfnet"]
        checkpoint = weights.verified_path((named or entries)[-1].name)
    result = run_evaluation(
        checkpoint,
        data,
        split,
        device_spec=device,
        batch_size=batch_size,
        profile=profile,
        user=user,
        masks=masks,
        mask_cache=mask_cache,
        masks_gt=masks_gt,
        limit=limit,
        workers=workers,
        console=err_console,
    )
    console.print(_metrics_table(f"PrivObfNet on {data} ({checkpoint.name})", [(split, _flat(result))]))
    if result.get("masks"):
        console.print(_masks_line(result["masks"]))
    if json_out is not None:
        atomic_write_text(json_out, json.dumps(result, indent=2) + "\n")
        console.print(f"metrics written to {json_out}")


def register(*, app: typer.Typer, train_app: typer.Typer, evaluate_app: typer.Typer) -> None:
    train_app.command("privobfnet")(train)
    evaluate_app.command("privobfnet")(evaluate)
