"""PrivObfNet figures: parameters, Model-Image forward ms/image (batch 1 and 16), one training step of both
models (Model-Image + K crops of Model-Cropped, all four losses, SGD), attribute-mask extraction time at
photo resolutions, peak memory. CPU always; CUDA too when torch sees a GPU.

    .venv/bin/python benchmarks/bench_privobfnet.py [--backbone mobilenet_v2] [--size 448] [--crop 320]
        [--crops 6] [--train-batch 4]

The weights are the backbone's ImageNet weights plus untrained heads: speed and memory do not depend on
training, and no figure here is a prediction.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch
from _timing import peak_rss_mib, timed  # benchmarks/_timing.py (script folder is on sys.path)

from privscan.device import describe
from privscan.engine.privobfnet_predictor import PrivObfNetPredictor
from privscan.masks.mask_types import mask_type_vector
from privscan.models.privobfnet import PrivObfNet, PrivObfNetPair, random_crop_offsets
from privscan.models.privobfnet_losses import total_loss
from privscan.pretrained import imagenet_backbone
from privscan.train.common import grad_scaler, mixed_precision
from privscan.train.privobfnet_trainer import TrainConfig, make_optimizer


def backbone(name: str):
    return imagenet_backbone(name, pretrained=name == "mobilenet_v2")  # the only offline ImageNet weights


def bench_forward(model: PrivObfNet, device: torch.device, size: int, repeats: int) -> None:
    model = model.to(device).eval()
    for batch in (1, 16):
        x = torch.rand(batch, 3, size, size, device=device)

        def forward(x: torch.Tensor = x) -> None:
            with torch.inference_mode(), mixed_precision(device):
                model(x)

        sec = timed(forward, device, repeats if batch == 1 else max(2, repeats // 3))
        mode = " (autocast)" if device.type == "cuda" else ""
        print(f"  forward batch {batch:2d}{mode}: {1000 * sec / batch:8.1f} ms/image   ({1000 * sec:.0f} ms/batch)")


def bench_train_step(args: argparse.Namespace, device: torch.device, repeats: int) -> None:
    cfg = TrainConfig(data=".", out=".", backbone=args.backbone, image_size=args.size, crop_size=args.crop)  # type: ignore[arg-type]
    torch.manual_seed(0)
    pair = PrivObfNetPair(
        args.backbone,
        mask_types=mask_type_vector(),
        image_backbone=backbone(args.backbone),
        crop_backbone=backbone(args.backbone),
    ).to(device)
    pair.train()
    opt = make_optimizer(pair, cfg)
    scaler = grad_scaler(device)
    b = args.train_batch
    images = torch.rand(b, 3, args.size, args.size, device=device)
    guides = (torch.rand(b, 2, args.size, args.size, device=device) > 0.7).float()
    labels = (torch.rand(b, 68, device=device) > 0.9).float()
    scores = torch.rand(b, device=device)
    gen = torch.Generator().manual_seed(0)

    def step() -> None:
        offsets = random_crop_offsets(b, args.crops, args.size, args.crop, generator=gen)
        with mixed_precision(device):
            out = pair(images, offsets, args.crop, guides)
            loss, _ = total_loss(out, labels, scores, args.crops)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()

    sec = timed(step, device, max(2, repeats // 2))
    print(
        f"  training step, batch {b} + {b * args.crops} crops of {args.crop}: {sec:.3f} s "
        f"({1000 * sec / b:.0f} ms/image, {b / sec:.2f} images/s)"
    )


def bench_masks(model: PrivObfNet, device: torch.device, size: int) -> None:
    predictor = PrivObfNetPredictor(model.eval(), device, "bench", "-", size, {"mask_threshold": 0.4})
    out = predictor.predict(torch.rand(1, 3, size, size))[0]
    attrs = ["a9_face_complete", "a19_name_full", "a30_credit_card"]  # one Human, one Text, one Un-masked
    for h, w in ((768, 1024), (3000, 4000)):
        person = np.zeros((h, w), dtype=np.float32)
        person[:, : w // 2] = 1.0
        text = np.zeros((h, w), dtype=np.float32)
        text[h // 3 : h // 3 + h // 20, w // 4 : w // 2] = 1.0
        sec = timed(lambda h=h, w=w, p=person, t=text: predictor.masks(out, (h, w), attrs, p, t), device, 3)
        each = 1000 * sec / len(attrs)
        print(f"  masks for {len(attrs)} attributes at {w}x{h}: {1000 * sec:.0f} ms ({each:.0f} ms each)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="mobilenet_v2")
    parser.add_argument("--size", type=int, default=448)
    parser.add_argument("--crop", type=int, default=320)
    parser.add_argument("--crops", type=int, default=6)
    parser.add_argument("--train-batch", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(max(1, min(torch.get_num_threads(), os.cpu_count() or 1)))

    torch.manual_seed(0)
    model = PrivObfNet(backbone(args.backbone), mask_types=mask_type_vector())
    parts = {
        "backbone": sum(p.numel() for p in model.backbone.parameters()),
        "cam": sum(p.numel() for p in model.cam.parameters()),
        "privacy": sum(p.numel() for p in model.privacy_head.parameters()) if model.privacy_head else 0,
    }
    print(f"PrivObfNet {args.backbone}, Model-Image {args.size} px, Model-Cropped {args.crops} x {args.crop} px")
    for part, count in parts.items():
        print(f"  {part:9s} {count:>12,d}  ({4 * count / 2**20:7.1f} MiB fp32)")

    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    for device in devices:
        print(f"\n[{describe(device)}]")
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        bench_forward(model, device, args.size, args.repeats)
        bench_train_step(args, device, args.repeats)
        bench_masks(model, device, args.size)
        if device.type == "cuda":
            print(f"  peak CUDA memory: {torch.cuda.max_memory_allocated(device) / 2**20:.0f} MiB")
        model = model.cpu()
    print(f"\npeak process memory (RSS): {peak_rss_mib():.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
