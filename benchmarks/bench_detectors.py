"""Per-detector seconds per image at 1024 and 4000 px (the long side), with every detector loaded once.

    .venv/bin/python benchmarks/bench_detectors.py [--ocr auto] [--repeats 3] [--sizes 1024,4000]

Images: scikit-image's astronaut (a face, a person), coffee and rocket (no people, little or no text), and
a generated ID card and letter (PII text), each resized to every size. Detectors run in the registry's
order on one image after the other, as the audit engine calls them; the shared downscale cache is cleared
before each image so the one full-size resize per photo is counted (it lands on the first detector that
asks, the text detector). Prints the mean over images of the best of --repeats runs, and peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from privscan import synth
from privscan.detectors.registry import build_detectors, detect_all
from privscan.detectors.scale import clear as clear_scale_cache
from privscan.io.decode import DecodedImage


def images(side: int) -> list[tuple[str, np.ndarray]]:
    from skimage import data

    sources = {
        "astronaut": data.astronaut(),
        "coffee": data.coffee(),
        "rocket": data.rocket(),
        "id_card": np.asarray(synth.id_card(seed=3).image),
        "letter": np.asarray(synth.letter(seed=4).image),
    }
    out = []
    for name, rgb in sources.items():
        h, w = rgb.shape[:2]
        s = side / max(h, w)
        out.append((name, cv2.resize(rgb, (round(w * s), round(h * s)), interpolation=cv2.INTER_CUBIC)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ocr", default="auto")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sizes", default="1024,4000")
    args = ap.parse_args()
    start = time.perf_counter()
    detectors = build_detectors(None, ocr_engine=args.ocr)
    print(f"built {', '.join(d.name for d in detectors)} in {time.perf_counter() - start:.1f} s")
    warm = DecodedImage(Path("warm.png"), images(1024)[0][1], "0" * 64, 0, "PNG", "RGB")
    detect_all(detectors, warm)
    names = [d.name for d in detectors]
    print(f"{'size':>5} {'image':<10} " + " ".join(f"{n:>8}" for n in names) + f" {'total':>7}")
    for side in (int(s) for s in args.sizes.split(",")):
        per: dict[str, list[float]] = {n: [] for n in names}
        for name, rgb in images(side):
            best = dict.fromkeys(names, float("inf"))
            for _ in range(max(1, args.repeats)):
                image = DecodedImage(Path(f"{name}.png"), np.ascontiguousarray(rgb), "0" * 64, 0, "PNG", "RGB")
                clear_scale_cache()
                seconds: dict[str, float] = {}
                detect_all(detectors, image, timings=seconds)
                for n in names:
                    best[n] = min(best[n], seconds[n])
            for n in names:
                per[n].append(best[n])
            print(f"{side:>5} {name:<10} " + " ".join(f"{best[n]:>8.3f}" for n in names)
                  + f" {sum(best.values()):>7.3f}", flush=True)
        means = {n: statistics.mean(v) for n, v in per.items()}
        print(f"{side:>5} {'MEAN':<10} " + " ".join(f"{means[n]:>8.3f}" for n in names)
              + f" {sum(means.values()):>7.3f}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {rss:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
