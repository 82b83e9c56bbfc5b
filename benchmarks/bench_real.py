"""Recall on real photos with known truth (real-dev): faces, plates, documents, receipts, and clean negatives.

    .venv/bin/python benchmarks/bench_real.py [DATA_DIR] [--device cpu] [--detectors text,faces,...]
                                              [--details FILE.json] [--misses]

DATA_DIR defaults to $PRIVSCAN_REAL_DEV, else the first `shared/data/real-dev` found beside the repository or
one of its parent folders. Where there is none the script says so and exits 0 (the photos are not shipped
with privscan: their licences allow benchmark use only, so they never enter the repository).

It runs the real audit in-process (empty cache, the default detectors unless --detectors) over the folder,
reads its truth.json (format `privscan-real-bench/1`, see the folder's README) and prints per category:
- image recall: the image's record carries one of its expected attribute ids (`accept_image` where given,
  else the image's `attributes` and the `accept` ids of items whose attribute is one of them);
- box recall per item kind: a truth box counts as *covered* when the regions of findings whose attribute is
  in the item's `accept` list (`*` = any attribute) cover >= 70% of its area together, and as *IoU* when
  one such region's box has IoU >= 0.5 with it (a region's bounding box is used for both);
- on negatives: regions reported, images with any region, and private verdicts (all should be 0);
- faces labelled partial: per face kind, the truth faces an a10_face_partial region matches (IoU >= 0.5);
  real-dev's masked faces (`face_masked`) should all be, an uncovered face only when cut or turned away;
- seconds per image: the detectors' own time per record (mean; in lanes, on a lane's one thread) and the
  run's wall time per image.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

PARTIAL = "a10_face_partial"
COVER_MIN = 0.7
IOU_MIN = 0.5
CATEGORIES = ("face", "plate", "document", "receipt", "negative")


def find_data_dir(explicit: str | None) -> Path | None:
    """The real-dev folder: the argument, $PRIVSCAN_REAL_DEV, or shared/data/real-dev above the repository."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("PRIVSCAN_REAL_DEV")
    if env:
        return Path(env)
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "data" / "real-dev"
        if (candidate / "truth.json").is_file():
            return candidate
    return None


def coverage(truth: list[float], boxes: list[list[float]]) -> float:
    """Fraction of the truth box's pixels inside the union of `boxes` (integer grid of the truth box)."""
    x0, y0, x1, y1 = (int(np.floor(truth[0])), int(np.floor(truth[1])), int(np.ceil(truth[2])), int(np.ceil(truth[3])))
    w, h = max(1, x1 - x0), max(1, y1 - y0)
    grid = np.zeros((h, w), dtype=bool)
    for b in boxes:
        bx0, by0 = max(0, int(np.floor(b[0])) - x0), max(0, int(np.floor(b[1])) - y0)
        bx1, by1 = min(w, int(np.ceil(b[2])) - x0), min(h, int(np.ceil(b[3])) - y0)
        if bx1 > bx0 and by1 > by0:
            grid[by0:by1, bx0:bx1] = True
    return float(grid.mean())


def iou(a: list[float], b: list[float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def image_accept(truth: dict) -> set[str]:
    if truth.get("accept_image"):
        return set(truth["accept_image"])
    wanted = set(truth.get("attributes", []))
    out = set(wanted)
    for item in truth.get("items", []):
        accept = set(item.get("accept", []))
        if accept & wanted:  # e.g. a masked face (a10) on an image whose expected attribute is a9
            out.update(accept - {"*"})
    return out


def observed(record: object) -> dict:
    """What the scoring reads from one ImageRecord (also the shape of --details entries)."""
    return {
        "attributes": sorted(a.id for a in record.attributes),  # type: ignore[attr-defined]
        "regions": [[a.id, r.box] for a in record.attributes for r in a.regions],  # type: ignore[attr-defined]
        "verdict": record.verdict.label if record.verdict else None,  # type: ignore[attr-defined]
        "errors": [e.message for e in record.errors],  # type: ignore[attr-defined]
        "seconds": round(sum(record.timings.values()), 4),  # type: ignore[attr-defined]
    }


@dataclass
class Tally:
    images: int = 0
    image_hits: int = 0
    seconds: list[float] = field(default_factory=list)
    items: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))  # n, cover, iou
    regions: int = 0  # negatives only
    images_with_regions: int = 0
    private: int = 0
    #: face items only: kind -> [items, items an a10_face_partial region matches with IoU >= 0.5]
    partial: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))


def score(truth: dict, seen: dict[str, dict]) -> tuple[dict[str, Tally], list[dict]]:
    """Per-category tallies and per-image details (what was found for each truth item)."""
    tallies = {c: Tally() for c in CATEGORIES}
    details = []
    for name, t in sorted(truth["images"].items()):
        obs = seen.get(name)
        cat = t["category"]
        tally = tallies.setdefault(cat, Tally())
        tally.images += 1
        if obs is None:
            details.append({"file": name, "category": cat, "error": "no record"})
            continue
        tally.seconds.append(obs["seconds"])
        expected = image_accept(t)
        hit = bool(expected & set(obs["attributes"]))
        if expected:
            tally.image_hits += hit
        regions = obs["regions"]
        if cat == "negative":
            tally.regions += len(regions)
            tally.images_with_regions += bool(regions)
        tally.private += obs["verdict"] == "private"
        item_rows = []
        for item in t.get("items", []):
            accept = set(item.get("accept", []))
            boxes = [box for aid, box in regions if "*" in accept or aid in accept]
            cov = coverage(item["box"], boxes) if boxes else 0.0
            best = max((iou(item["box"], b) for b in boxes), default=0.0)
            for kind in (item["kind"], "all") if cat == "face" else (item["kind"],):
                row = tally.items[kind]
                row[0] += 1
                row[1] += cov >= COVER_MIN
                row[2] += best >= IOU_MIN
            if cat == "face":
                a10 = max((iou(item["box"], box) for aid, box in regions if aid == PARTIAL), default=0.0)
                tally.partial[item["kind"]][0] += 1
                tally.partial[item["kind"]][1] += a10 >= IOU_MIN
            item_rows.append({"kind": item["kind"], "box": item["box"], "cover": round(cov, 3), "iou": round(best, 3)})
        details.append({"file": name, "category": cat, "image_hit": hit if expected else None, **obs,
                        "items": item_rows})
    return tallies, details


def pct(hits: int, n: int) -> str:
    return f"{100 * hits / n:5.1f}% ({hits}/{n})" if n else "    -"


def print_table(tallies: dict[str, Tally], wall_per_image: float) -> None:
    print(f"{'category':<10} {'images':>6}  {'image recall':<16} {'item kind':<12} {'covered >=70%':<16} "
          f"{'IoU >= 0.5':<16} {'s/image':>7}")
    for cat, t in tallies.items():
        if not t.images:
            continue
        mean_s = statistics.mean(t.seconds) if t.seconds else 0.0
        first = True
        kinds = sorted(t.items.items()) or [("", [0, 0, 0])]
        for kind, (n, cov, iou_hits) in kinds:
            head = (f"{cat:<10} {t.images:>6}  {pct(t.image_hits, t.images) if cat != 'negative' else '-':<16}"
                    if first else f"{'':<10} {'':>6}  {'':<16}")
            tail = f"{mean_s:7.2f}" if first else ""
            print(f"{head} {kind:<12} {pct(cov, n) if n else '-':<16} {pct(iou_hits, n) if n else '-':<16} {tail}")
            first = False
    faces = tallies.get("face")
    if faces and faces.partial:
        print("faces labelled a10_face_partial: " + ", ".join(
            f"{kind} {hits}/{n}" for kind, (n, hits) in sorted(faces.partial.items())
        ) + " (a face may also be partial by the frame or its pose)")
    neg = tallies.get("negative")
    if neg and neg.images:
        print(f"negatives: {neg.regions} regions on {neg.images_with_regions}/{neg.images} images, "
              f"{neg.private}/{neg.images} private verdicts")
    if wall_per_image == wall_per_image:  # not NaN (a rescore has no run time)
        print(f"wall time per image (whole run, {sum(t.images for t in tallies.values())} images): "
              f"{wall_per_image:.2f} s")


def audit_and_score(data: Path, truth: dict, device: str, detectors: str | None) -> tuple[dict[str, Tally], list]:
    """Run the audit in-process over the truth's files (empty cache) and score its records."""
    from privscan.engine.audit import run_audit
    from privscan.engine.lanes import auto_lanes
    from privscan.engine.options import AuditOptions
    from privscan.engine.pipeline import Pipeline

    kwargs: dict[str, object] = {"device": device, "use_cache": False}
    if detectors:
        kwargs["detectors"] = tuple(d.strip() for d in detectors.split(",") if d.strip())
    options = AuditOptions(**kwargs)  # type: ignore[arg-type]
    files = [str(data / name) for name in sorted(truth["images"]) if (data / name).is_file()]
    t0 = time.perf_counter()
    pipeline = Pipeline(options, lanes=auto_lanes(len(files)))  # as an audit of the folder would
    load_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="privscan-real-") as out:
        t1 = time.perf_counter()
        result = run_audit(files, options, Path(out), pipeline=pipeline, formats=())
        wall = time.perf_counter() - t1
        # records stream to records.jsonl in `out` (issue 13): read them before the folder goes
        seen = {Path(r.path).name: observed(r) for r in result.records()}
    tallies, details = score(truth, seen)
    print(
        f"real-dev: {data} ({len(files)} images); device {pipeline.device_name}; "
        f"detectors {', '.join(d.name for d in pipeline.detectors)}; model loading {load_s:.1f} s"
    )
    print_table(tallies, wall / max(1, len(files)))
    return tallies, details


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", nargs="?", help="real-dev folder (default: $PRIVSCAN_REAL_DEV or shared/data/real-dev)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--detectors", default=None, help="comma list (default: the audit's default detectors)")
    parser.add_argument("--details", type=Path, help="write per-image findings and item scores to this JSON file")
    parser.add_argument("--misses", action="store_true", help="list truth items not covered and dirty negatives")
    parser.add_argument("--rescore", type=Path, help="score a --details file of an earlier run instead of auditing")
    args = parser.parse_args()

    data = find_data_dir(args.data)
    if data is None or not (data / "truth.json").is_file():
        print(f"real-dev not found ({data or 'set PRIVSCAN_REAL_DEV or pass the folder'}): nothing to measure")
        return 0
    truth = json.loads((data / "truth.json").read_text())

    if args.rescore:
        details_in = json.loads(args.rescore.read_text())
        tallies, details = score(truth, {d["file"]: d for d in details_in if "attributes" in d})
        print(f"real-dev: {data}; rescored from {args.rescore}")
        print_table(tallies, float("nan"))
    else:
        tallies, details = audit_and_score(data, truth, args.device, args.detectors)
    if args.misses:
        for d in details:
            missed = [i for i in d.get("items", []) if i["cover"] < COVER_MIN or i["iou"] < IOU_MIN]
            dirty = d.get("category") == "negative" and (d["regions"] or d["verdict"] == "private")
            if missed or dirty or d.get("image_hit") is False:
                print(f"  {d['file']}: image_hit={d.get('image_hit')} verdict={d.get('verdict')} "
                      f"attrs={d.get('attributes')} missed={[(i['kind'], i['cover'], i['iou']) for i in missed]}")
    if args.details:
        args.details.write_text(json.dumps(details, indent=1))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
