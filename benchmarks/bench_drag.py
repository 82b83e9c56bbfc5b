"""DRAG figures: parameters per part, forward ms/image (batch 1 and 16), one joint training step, Dis+Div
vectorised vs a per-element Python loop, peak memory. CPU always; CUDA too when torch sees a GPU.

    .venv/bin/python benchmarks/bench_drag.py [--backbone mobilenet_v2] [--regions 8] [--size 448]

Exits non-zero when the vectorised Dis+Div is not at least 50x faster than the loop on 16 x 8 x 14 x 14.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from _timing import peak_rss_mib, timed  # benchmarks/_timing.py (script folder is on sys.path)
from drag_helpers import dis_loop, div_loop

from privscan.device import describe
from privscan.models.drag import Drag, DragConfig, parameter_counts
from privscan.models.drag_losses import dis_loss, div_loss
from privscan.pretrained import imagenet_backbone
from privscan.train.common import grad_scaler
from privscan.train.drag_trainer import DragTrainConfig, joint_optimizers, joint_step

REQUIRED_SPEEDUP = 50.0


def build(backbone: str, regions: int, size: int) -> Drag:
    pretrained = backbone == "mobilenet_v2"  # the only backbone with offline ImageNet weights
    torch.manual_seed(0)
    return Drag(DragConfig(backbone=backbone, regions=regions, input_size=size),
                backbone=imagenet_backbone(backbone, pretrained=pretrained))  # fmt: skip


def bench_model(model: Drag, device: torch.device, size: int, repeats: int) -> None:
    model = model.to(device).eval()
    amp = device.type == "cuda"
    for batch in (1, 16):
        x = torch.rand(batch, 3, size, size, device=device)

        def forward(x: torch.Tensor = x) -> None:
            with torch.inference_mode(), torch.autocast(device.type, enabled=amp and device.type == "cuda"):
                model(x)

        sec = timed(forward, device, repeats if batch == 1 else max(2, repeats // 3))
        mode = " (autocast)" if amp else ""
        print(f"  forward batch {batch:2d}{mode}: {1000 * sec / batch:8.1f} ms/image   ({1000 * sec:.0f} ms/batch)")
    # one joint training step (Lcls step + Dis+Div step), the trainer's own code
    cfg = DragTrainConfig(data="-", out="-", amp=amp)
    model.train()
    opt, opt_group = joint_optimizers(model, cfg)
    scaler = grad_scaler(device, amp)
    x = torch.rand(16, 3, size, size, device=device)
    y = torch.randint(0, 2, (16,), device=device)

    def step() -> None:
        joint_step(model, x, y, opt, opt_group, scaler, weight=None, cfg=cfg, device=device)

    sec = timed(step, device, max(2, repeats // 3))
    print(f"  joint training step, batch 16: {sec:.3f} s ({1000 * sec / 16:.1f} ms/image)")
    model.eval()


def bench_losses(device: torch.device) -> float:
    gen = torch.Generator().manual_seed(0)
    maps = torch.rand(16, 8, 14, 14, generator=gen).to(device)

    def vectorised() -> None:
        dis_loss(maps).item()
        div_loss(maps).item()

    vec = timed(vectorised, device, 50, warmup=3)
    loop = timed(lambda: (dis_loop(maps.cpu()), div_loop(maps.cpu())), device, 3)
    speedup = loop / vec
    print(f"  Dis+Div on 16 x 8 x 14 x 14: vectorised {1000 * vec:.3f} ms, per-element loop {1000 * loop:.1f} ms, "
          f"{speedup:.0f}x faster")  # fmt: skip
    return speedup


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="mobilenet_v2")
    parser.add_argument("--regions", type=int, default=8)
    parser.add_argument("--size", type=int, default=448)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(max(1, min(torch.get_num_threads(), os.cpu_count() or 1)))

    model = build(args.backbone, args.regions, args.size)
    print(f"DRAG {args.backbone}, N = {args.regions}, input {args.size}: parameters per part")
    for part, count in parameter_counts(model).items():
        print(f"  {part:9s} {count:>12,d}  ({4 * count / 2**20:7.1f} MiB fp32)")

    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    ok = True
    for device in devices:
        print(f"\n[{describe(device)}]")
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        bench_model(model, device, args.size, args.repeats)
        speedup = bench_losses(device)
        ok &= speedup >= REQUIRED_SPEEDUP
        if device.type == "cuda":
            print(f"  peak CUDA memory: {torch.cuda.max_memory_allocated(device) / 2**20:.0f} MiB")
        model = model.cpu()
    print(f"\npeak process memory (RSS): {peak_rss_mib():.0f} MiB")
    verdict = "ok" if ok else "FAILED"
    print(f"vectorised Dis+Div >= {REQUIRED_SPEEDUP:.0f}x faster than the loop: {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
