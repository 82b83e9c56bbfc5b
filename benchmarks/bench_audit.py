"""Audit throughput and memory on a folder of 50 mixed photos (1024-4000 px), with the default detectors.

    .venv/bin/python benchmarks/bench_audit.py [--images 50] [--device auto] [--ocr auto] [--keep DIR]

Builds the folder (real scikit-image photos resized to 1024-4000 px on the long side, generated documents
with fake PII, some with GPS EXIF), runs the real audit (cold: empty cache), then a second time (warm: every
record from the cache), and prints images/s, per-detector seconds per image and the peak RSS of this process.
Target on a 2-core CPU with the default OCR engine: >= 2 images/s and peak RSS <= 3 GB.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _timing import cpu_seconds, peak_rss_mib  # benchmarks/_timing.py (script folder is on sys.path)
from PIL import Image

from privscan.engine.audit import run_audit
from privscan.engine.lanes import auto_lanes
from privscan.engine.options import AuditOptions
from privscan.engine.pipeline import Pipeline

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # tests/support: generated documents
from support import synth

# photos bundled inside scikit-image (no download): people, objects, scenes, textures, a scanned page
PHOTOS = (
    "astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry", "retina", "camera",
    "page", "gravel",
)  # fmt: skip


def build_folder(root: Path, count: int, seed: int = 0) -> list[tuple[int, int]]:
    from skimage import data

    rng = random.Random(seed)
    sizes = []
    docs = [synth.id_card, synth.credit_card, synth.letter]
    for i in range(count):
        side = rng.randint(1024, 4000)
        if i % 5 == 4:  # one in five is a document photo
            img = docs[i % 3](seed=i).image
        else:
            arr = getattr(data, PHOTOS[i % len(PHOTOS)])()
            img = Image.fromarray(arr[..., :3] if arr.ndim == 3 else arr).convert("RGB")
        scale = side / max(img.size)
        img = img.resize(
            (max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.Resampling.BICUBIC
        )
        exif = (
            synth.exif_bytes(gps=(45.0 + i / 100, 7.0), datetime_original="2024:01:01 10:00:00") if i % 10 == 3 else b""
        )
        img.save(root / f"img_{i:03d}.jpg", quality=90, exif=exif)
        sizes.append(img.size)
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=50)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--ocr", default="auto")
    parser.add_argument("--batch-size", type=int, default=None, help="default: 16 on CUDA, 1 on CPU")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--lanes", type=int, default=None, help="analysis lanes (default: as an audit of the folder)")
    parser.add_argument("--keep", type=Path, help="build the folder here and keep it")
    args = parser.parse_args()

    root = args.keep or Path(tempfile.mkdtemp(prefix="privscan-bench-"))
    photos = root / "photos"
    photos.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    sizes = build_folder(photos, args.images)
    mp = [w * h / 1e6 for w, h in sizes]
    print(
        f"folder: {args.images} JPEGs, {min(max(s) for s in sizes)}-{max(max(s) for s in sizes)} px long side, "
        f"{statistics.mean(mp):.1f} MP mean (built in {time.perf_counter() - start:.1f} s)"
    )
    rss_before = peak_rss_mib()

    options = AuditOptions(
        device=args.device, ocr_engine=args.ocr, batch_size=args.batch_size, workers=args.workers, lanes=args.lanes
    )
    t0 = time.perf_counter()
    pipeline = Pipeline(options, lanes=args.lanes or auto_lanes(args.images))
    load_s = time.perf_counter() - t0
    out = root / "out"
    t1, cpu1 = time.perf_counter(), cpu_seconds()
    cold = run_audit([str(photos)], options, out, pipeline=pipeline, formats=("json", "html"))
    cold_s, cold_cpu = time.perf_counter() - t1, cpu_seconds() - cpu1
    t2 = time.perf_counter()
    warm = run_audit([str(photos)], options, out, pipeline=pipeline, formats=("json", "html"))
    warm_s = time.perf_counter() - t2

    per_detector: dict[str, list[float]] = {}
    for record in cold.report.images:
        for name, seconds in record.timings.items():
            per_detector.setdefault(name, []).append(seconds)
    print(
        f"device: {pipeline.device_name}; OCR engine: "
        f"{next((m.note for m in cold.report.header.models if m.name == 'text'), 'off')}"
    )
    lanes = f"{pipeline.lanes} lane(s) of {pipeline.threads or 'all'} thread(s)"
    print(f"model loading: {load_s:.2f} s (once per run; {lanes})")
    print(
        f"cold audit: {cold_s:.1f} s for {len(cold.report.images)} images -> "
        f"{len(cold.report.images) / cold_s:.2f} images/s (report writing included; {cold.analysed} analysed, "
        f"{cold.failed} failed)"
    )
    print(f"cold incl. model loading: {len(cold.report.images) / (cold_s + load_s):.2f} images/s")
    # CPU time is steadier than wall time on a shared machine (another VM's load steals wall time, not CPU)
    print(f"cold audit CPU time: {cold_cpu / len(cold.report.images):.3f} s per image (all threads)")
    print(
        f"warm re-run (cache): {warm_s:.2f} s -> {len(warm.report.images) / warm_s:.1f} images/s ({warm.reused} reused)"
    )
    print("per-detector seconds per image (mean / max):")
    for name, values in per_detector.items():
        print(f"  {name:<10} {statistics.mean(values):.3f} / {max(values):.3f}")
    print(f"peak RSS: {peak_rss_mib():.0f} MB (after building the folder: {rss_before:.0f} MB)")
    if not args.keep:
        import shutil

        shutil.rmtree(root, ignore_errors=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
