"""`privscan train drag` and `privscan evaluate drag`: option parsing and rendering only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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

if TYPE_CHECKING:
    from privscan.train.classification_metrics import ClassificationMetrics

FormatOpt = Annotated[
    str, typer.Option("--format", help="Data layout: auto, csv (img_name,label per split), ipd, or folders.")
]
FoldOpt = Annotated[str, typer.Option("--fold", help="IPD only: which 'Fold k' column (0, 1, 2) or 'final'.")]
PrivateLabelOpt = Annotated[
    int | None,
    typer.Option(
        "--private-label",
        help="Which numeric label means private: csv default 1 (PicAlert), ipd default 0 (IPD's convention).",
    ),
]


def _metrics_table(title: str, rows: list[tuple[str, ClassificationMetrics | None]]) -> Table:
    """The paper's Table 1 layout: accuracy, then precision / recall / F1 of private and public (all in %)."""
    table = Table(title=title)
    for col in ("split", "n", "acc %", "priv P", "priv R", "priv F1", "pub P", "pub R", "pub F1", "macro F1"):
        table.add_column(col, justify="right" if col != "split" else "left")
    for name, m in rows:
        if m is None:
            continue
        pc = m.per_class
        table.add_row(
            name,
            str(m.count),
            f"{100 * m.accuracy:.2f}",
            *(f"{100 * getattr(pc[c], k):.2f}" for c in ("private", "public") for k in ("precision", "recall", "f1")),
            f"{100 * m.macro_f1:.2f}",
        )
    return table


def _confusion_table(m: ClassificationMetrics) -> Table:
    table = Table(title="confusion matrix (rows: true class, columns: predicted)")
    classes = m.classes
    table.add_column("true \\ predicted")
    for c in classes:
        table.add_column(c, justify="right")
    for i, c in enumerate(classes):
        table.add_row(c, *(str(v) for v in m.confusion[i]))
    return table


def train(
    data: Annotated[Path, typer.Option("--data", help="Dataset folder (PicAlert/IPD CSVs or private/ + public/).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder: checkpoints, history, cluster result.")] = Path(
        "runs/drag"
    ),
    fmt: FormatOpt = "auto",
    epochs: Annotated[int, typer.Option("--epochs", help="Joint-training epochs (stage 4).")] = 30,
    finetune_epochs: Annotated[
        int, typer.Option("--finetune-epochs", help="Stage 1: backbone fine-tuned as a 2-class classifier.")
    ] = 10,
    cgl_epochs: Annotated[int, typer.Option("--cgl-epochs", help="Stage 3: CGL pretrained on the K-means groups.")] = 5,
    freeze_epochs: Annotated[
        int, typer.Option("--freeze-epochs", help="Joint epochs with the backbone frozen at the start.")
    ] = 5,
    batch_size: BatchSizeOpt = 16,
    regions: Annotated[int, typer.Option("--regions", "-n", help="N region nodes (4..12; paper's best 8).")] = 8,
    backbone: BackboneOpt = "mobilenet_v2",
    backbone_weights: BackboneWeightsOpt = None,
    pretrained: PretrainedOpt = True,
    image_size: Annotated[int, typer.Option("--image-size", help="Square input size (paper: 448).")] = 448,
    workers: Annotated[int, typer.Option("--workers", help="Image-decoding worker processes.")] = 2,
    seed: SeedOpt = 0,
    device: DeviceOpt = "auto",
    amp: AmpOpt = True,
    lr_backbone: Annotated[float, typer.Option("--lr-backbone", help="Joint stage backbone lr.")] = 1e-5,
    lr_cgl: Annotated[float, typer.Option("--lr-cgl")] = 1e-3,
    lr_gcn: Annotated[float, typer.Option("--lr-gcn", help="Adjacency, GCN and classifier lr.")] = 1e-3,
    lr_finetune: Annotated[float, typer.Option("--lr-finetune", help="Stage 1 backbone lr.")] = 1e-4,
    weight_decay: Annotated[float, typer.Option("--weight-decay")] = 1e-7,
    grouping_norm: Annotated[
        str,
        typer.Option(
            "--grouping-norm",
            help="Dis/Div on peak-normalised region maps (peak) or on raw maps, literally as eq. 3 (none).",
        ),
    ] = "peak",
    adjacency: Annotated[
        str,
        typer.Option(
            "--adjacency",
            help="authors: eq. 5 then their Linear(N, N) on the transposed result (their code); paper: eq. 5 alone.",
        ),
    ] = "authors",
    kmeans_images: Annotated[
        int | None, typer.Option("--kmeans-images", help="Use at most this many training images for K-means.")
    ] = None,
    fold: FoldOpt = "0",
    private_label: PrivateLabelOpt = None,
    val_fraction: Annotated[
        float, typer.Option("--val-fraction", help="folders only: share of each class drawn for validation.")
    ] = 0.1,
    test_fraction: Annotated[
        float, typer.Option("--test-fraction", help="folders only: share of each class drawn for testing.")
    ] = 0.2,
    resume: ResumeOpt = False,
    register: RegisterOpt = True,
    register_name: Annotated[str, typer.Option("--register-name", help="Manifest entry name.")] = "drag",
    weights_dir: WeightsDirOpt = None,
) -> None:
    """Reproduce DRAG (AAAI 2022) on PicAlert / Image Privacy: fine-tune, K-means, CGL, joint training."""
    from privscan import weights
    from privscan.train.classification_metrics import ClassificationMetrics
    from privscan.train.drag_trainer import DragTrainConfig, DragTrainer, register_checkpoint

    cfg = DragTrainConfig(
        data=str(data),
        out=str(out),
        format=fmt,
        fold=fold,
        private_label=private_label,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        backbone=backbone,
        backbone_weights=str(backbone_weights) if backbone_weights else None,
        pretrained=pretrained,
        regions=regions,
        image_size=image_size,
        batch_size=batch_size,
        workers=workers,
        seed=seed,
        device=device,
        amp=amp,
        finetune_epochs=finetune_epochs,
        cgl_epochs=cgl_epochs,
        epochs=epochs,
        freeze_epochs=freeze_epochs,
        lr_finetune=lr_finetune,
        lr_backbone=lr_backbone,
        lr_cgl=lr_cgl,
        lr_gcn=lr_gcn,
        weight_decay=weight_decay,
        grouping_norm=grouping_norm,
        adjacency=adjacency,
        kmeans_images=kmeans_images,
    )
    result = DragTrainer(cfg, console=err_console, resume=resume).run()
    val, test = (ClassificationMetrics.from_dict(result.metrics[k]) if k in result.metrics else None
                 for k in ("val", "test"))
    console.print(_metrics_table(f"DRAG best epoch {result.best_epoch} ({result.best_path})",
                                 [("val", val), ("test", test)]))
    if test is not None:
        console.print(_confusion_table(test))
    if result.skipped:
        console.print(f"[yellow]{len(result.skipped)} unreadable image(s) were skipped[/] (listed in data.json)")
    if register:
        directory = weights_dir or weights.weights_dir()
        manifest = register_checkpoint(
            result.best_path, name=register_name, weights_dir=directory, run_dir=result.run_dir
        )
        console.print(f"registered as [bold]{register_name}[/] in {manifest}")


def evaluate(
    data: Annotated[Path, typer.Option("--data", help="Dataset folder, same layouts as training.")],
    checkpoint: Annotated[Path, typer.Option("--checkpoint", "-c", help="A DRAG checkpoint (best.pt).")],
    split: Annotated[str, typer.Option("--split", help="train, val or test.")] = "test",
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the metrics to this JSON file.")] = None,
    fmt: FormatOpt = "auto",
    fold: FoldOpt = "0",
    private_label: PrivateLabelOpt = None,
    batch_size: BatchSizeOpt = 16,
    workers: Annotated[int, typer.Option("--workers")] = 2,
    seed: Annotated[int, typer.Option("--seed", help="Only for folders without a split file yet.")] = 0,
    device: DeviceOpt = "auto",
) -> None:
    """DRAG metrics (accuracy, per-class P/R/F1, confusion matrix) on a split."""
    from privscan.io.atomic import atomic_write_text
    from privscan.train.drag_eval import evaluate_checkpoint

    if split not in ("train", "val", "test"):
        raise UsageError(f"unknown split {split!r}", hint="use train, val or test")
    result = evaluate_checkpoint(
        checkpoint,
        data,
        fmt=fmt,
        split=split,
        fold=fold,
        private_label=private_label,
        batch_size=batch_size,
        workers=workers,
        device=device,
        seed=seed,
        log=err_console.print,
    )
    console.print(_metrics_table(f"DRAG on {data} ({checkpoint.name})", [(split, result.metrics)]))
    console.print(_confusion_table(result.metrics))
    if result.skipped:
        console.print(f"[yellow]{len(result.skipped)} unreadable image(s) were skipped[/]")
    if json_out is not None:
        atomic_write_text(json_out, json.dumps(result.to_dict(), indent=2) + "\n")
        console.print(f"metrics written to {json_out}")


def register(*, app: typer.Typer, train_app: typer.Typer, evaluate_app: typer.Typer) -> None:
    train_app.command("drag")(train)
    evaluate_app.command("drag")(evaluate)
