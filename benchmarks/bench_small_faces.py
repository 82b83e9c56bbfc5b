"""Small faces in big photos: what the face detector's 1600 px detail pass finds, always run vs gated.

    .venv/bin/python benchmarks/bench_small_faces.py [DATA_DIR]

real-dev's face photos are all <= 640 px, so bench_real.py never exercises the pass the face detector runs
on photos over 2000 px. This script builds such photos in memory (nothing is written): each real-dev group
photo (>= 3 annotated faces) is shrunk so that its median face is 18, 25, 35 or 50 px tall and pasted into a
4000 x 2250 copy of one of real-dev's negatives (a scene with no people). It then runs FaceDetector with the
detail pass off, gated (the default: only where the 960 px pass saw a candidate) and always, and prints per
face height the share of truth faces covered >= 70% by a found face's box, how often the detail pass ran,
and seconds per photo. It also prints, for each negative scene at 4000 px alone, whether the gate opened.
DATA_DIR as in bench_real.py; without real-dev the script says so and exits 0.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from bench_real import coverage, find_data_dir  # benchmarks/ is on sys.path when run as a script
from PIL import Image

from privscan.detectors.faces import FaceDetector
from privscan.io.decode import DecodedImage

HEIGHTS = (18, 25, 35, 50)
CANVAS = (4000, 2250)
MODES: tuple[tuple[str, bool | str], ...] = (("off", False), ("gated", True), ("always", "always"))


def decoded(img: Image.Image) -> DecodedImage:
    rgb = np.ascontiguousarray(np.asarray(img.convert("RGB")))
    return DecodedImage(path=Path("pasted.png"), rgb=rgb, sha256="", file_size=0, format="PNG", mode="RGB")


def main() -> int:
    root = find_data_dir(sys.argv[1] if len(sys.argv) > 1 else None)
    if root is None:
        print("real-dev not found (set PRIVSCAN_REAL_DEV or pass DATA_DIR): nothing measured")
        return 0
    truth = json.loads((root / "truth.json").read_text())["images"]
    groups = [n for n, t in sorted(truth.items()) if t["category"] == "face" and len(t.get("items", [])) >= 3]
    scenes = [n for n, t in sorted(truth.items()) if t["category"] == "negative"]
    detectors = {label: FaceDetector(detail=mode) for label, mode in MODES}  # type: ignore[arg-type]
    hits = {(label, h): 0 for label, _ in MODES for h in HEIGHTS}
    ran = {(label, h): 0 for label, _ in MODES for h in HEIGHTS}
    seconds: dict[str, list[float]] = {label: [] for label, _ in MODES}
    totals = dict.fromkeys(HEIGHTS, 0)
    for k, name in enumerate(groups):
        group = Image.open(root / name).convert("RGB")
        boxes = [item["box"] for item in truth[name]["items"]]
        median_h = statistics.median(b[3] - b[1] for b in boxes)
        for h in HEIGHTS:
            s = h / median_h
            canvas = Image.open(root / scenes[k % len(scenes)]).convert("RGB").resize(CANVAS)
            small = group.resize((max(1, round(group.width * s)), max(1, round(group.height * s))))
            ox, oy = CANVAS[0] * 3 // 8, CANVAS[1] * 2 // 5
            canvas.paste(small, (ox, oy))
            image = decoded(canvas)
            placed = [[ox + b[0] * s, oy + b[1] * s, ox + b[2] * s, oy + b[3] * s] for b in boxes]
            totals[h] += len(placed)
            for label, det in detectors.items():
                start = time.perf_counter()
                faces, passes = det.passes(image)
                seconds[label].append(time.perf_counter() - start)
                found = [[f.box.x0, f.box.y0, f.box.x1, f.box.y1] for f in faces]
                hits[label, h] += sum(coverage(b, found) >= 0.7 for b in placed)
                ran[label, h] += "detail" in passes
    print(f"{len(groups)} group photos x {len(HEIGHTS)} face heights, pasted into 4000 x 2250 real-dev scenes")
    print("faces covered >= 70% (photos where the detail pass ran)")
    print(f"{'face height':>12} {'faces':>6} " + " ".join(f"{label:>16}" for label, _ in MODES))
    for h in HEIGHTS:
        cells = " ".join(f"{hits[label, h] / totals[h]:>9.1%} ({ran[label, h]:>2}/{len(groups)})" for label, _ in MODES)
        print(f"{h:>10}px {totals[h]:>6} {cells}")
    print("seconds per photo: " + ", ".join(f"{label} {statistics.mean(v):.3f}" for label, v in seconds.items()))
    gated = detectors["gated"]
    opened = 0
    for name in scenes:
        scene = decoded(Image.open(root / name).convert("RGB").resize(CANVAS))
        opened += "detail" in gated.passes(scene)[1]
    print(f"gate opened on {opened} of {len(scenes)} people-free scenes at 4000 px")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
