"""A photo library's worth of images: peak memory per 1k images, cached re-run, report size and open time.

    .venv/bin/python benchmarks/bench_library.py --images 20000 --detectors metadata
    .venv/bin/python benchmarks/bench_library.py --images 2000             # all default detectors

Generates N distinct JPEGs (seeded shapes, noise and text on a 640 x 480 canvas, every third with an EXIF
GPS position and capture time, so no two files share a hash and the cache cannot shortcut), audits them
into a fresh folder and prints the process's RSS and peak RSS after every `--every` images (flat means
memory does not grow with the library). Then a fully cached re-run (wall time, and whether any model was
built), report.html's size and, when Chromium is there, the seconds to its load event.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from pathlib import Path

import psutil
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the DevTools client of the browser tests

from privscan.engine.audit import run_audit  # noqa: E402
from privscan.engine.options import AuditOptions  # noqa: E402


def make_library(folder: Path, n: int) -> None:
    """N distinct photos in month folders (reused when the folder already holds them)."""
    done = folder / f".complete-{n}"
    if done.exists():
        return
    for i in range(n):
        rng = random.Random(i)
        img = Image.effect_noise((640, 480), 24 + rng.random() * 40).convert("RGB")
        draw = ImageDraw.Draw(img)
        for _ in range(4):
            x, y = rng.randrange(560), rng.randrange(400)
            draw.ellipse((x, y, x + rng.randrange(20, 160), y + rng.randrange(20, 160)),
                         fill=tuple(rng.randrange(256) for _ in range(3)))
        draw.text((20, 440), f"IMG {i:06d}", fill=(255, 255, 255))
        exif = Image.Exif()
        if i % 3 == 0:
            exif.get_ifd(0x8769)[0x9003] = f"2025:{1 + i % 12:02d}:{1 + i % 28:02d} 12:00:00"
            exif.get_ifd(0x8825).update({1: "N", 2: (48.0, 51.0, float(i % 60)), 3: "E", 4: (2.0, 17.0, 40.2)})
        out = folder / f"{2020 + i % 5}" / f"{1 + i % 12:02d}" / f"IMG_{i:06d}.jpg"
        out.parent.mkdir(parents=True, exist_ok=True)
        img.save(out, "JPEG", quality=85, exif=exif.tobytes())
    done.touch()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def audit(photos: Path, out: Path, options: AuditOptions, every: int) -> tuple[float, object]:
    proc = psutil.Process()
    seen = 0
    start = time.perf_counter()

    def on_record(_: object) -> None:
        nonlocal seen
        seen += 1
        if seen % every == 0:
            rss = proc.memory_info().rss / 2**20
            rate = seen / (time.perf_counter() - start)
            print(f"  {seen:6d} images  rss {rss:7.0f} MB  peak {peak_mb():7.0f} MB  {rate:6.1f} img/s", flush=True)

    result = run_audit([str(photos)], options, out, on_record=on_record)
    return time.perf_counter() - start, result


def open_seconds(html: Path) -> float | None:
    from report_cdp import Browser, find_chromium

    chromium = find_chromium()
    if chromium is None:
        return None
    with Browser(chromium) as b:
        b.goto(html.as_uri(), settle=0.0)  # warm the browser's caches once
        start = time.perf_counter()
        b.goto(html.as_uri(), settle=0.0)
        return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--every", type=int, default=1000, help="print memory after every N images")
    ap.add_argument("--detectors", default=None, help="comma list (default: the default audit's detectors)")
    ap.add_argument("--work", type=Path, default=ROOT / "out" / "bench-library")
    args = ap.parse_args()
    photos = args.work / f"photos-{args.images}"
    out = args.work / f"out-{args.images}-{args.detectors or 'default'}"
    t = time.perf_counter()
    make_library(photos, args.images)
    print(f"library: {args.images} distinct 640x480 JPEGs ready in {time.perf_counter() - t:.0f} s ({photos})")
    kw = {} if args.detectors is None else {"detectors": tuple(d for d in args.detectors.split(",") if d)}
    options = AuditOptions(**kw)
    if out.exists():
        import shutil

        shutil.rmtree(out)
    print(f"audit ({', '.join(options.detectors)}), fresh output folder:")
    wall, result = audit(photos, out, options, args.every)
    print(f"  done: {wall:.1f} s, {args.images / wall:.1f} img/s, peak RSS {peak_mb():.0f} MB")
    for name, path in result.outputs.items():
        print(f"  {name}: {path.stat().st_size / 1e6:.2f} MB")
    print("cached re-run:")
    wall, again = audit(photos, out, options, 10**9)
    print(f"  {wall:.1f} s for {again.reused} cached of {again.summary.images}; models loaded: {again.models_loaded}")
    seconds = open_seconds(result.outputs["html"])
    if seconds is not None:
        size = result.outputs["html"].stat().st_size / 1e6
        print(f"report.html: {size:.2f} MB, load event in Chromium {seconds:.2f} s")


if __name__ == "__main__":
    main()
