"""Ray Data throughput per worker: `privscan audit --ray` on a local Ray with one analysing actor.

    .venv/bin/python benchmarks/bench_ray.py --images 40 [--detectors faces,metadata] [--actors 1]

Uses bench_library's generated photos (distinct 640 x 480 JPEGs), starts a local Ray with actors + 1 CPUs
(one for the read tasks), audits with no cache into a fresh folder and prints the wall time, the time to
the first record (actor start and model loading) and images/s per actor after it.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import ray
from bench_library import make_library

from privscan.engine.audit import run_audit
from privscan.engine.options import AuditOptions

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=40)
    ap.add_argument("--actors", type=int, default=1)
    ap.add_argument("--detectors", default=None, help="comma list (default: the default audit's detectors)")
    ap.add_argument("--work", type=Path, default=ROOT / "out" / "bench-ray")
    args = ap.parse_args()
    photos = args.work / f"photos-{args.images}"
    make_library(photos, args.images)
    kw = {} if args.detectors is None else {"detectors": tuple(d for d in args.detectors.split(",") if d)}
    options = AuditOptions(use_cache=False, **kw)
    out = args.work / "out"
    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    ray.init(num_cpus=args.actors + 1, include_dashboard=False, log_to_driver=False)
    print(f"ray.init: {time.perf_counter() - t:.1f} s")
    stamps: list[float] = []
    start = time.perf_counter()
    run_audit([str(photos)], options, out, formats=("json",), ray_address="auto", ray_actors=args.actors,
              on_record=lambda _: stamps.append(time.perf_counter()))
    wall = time.perf_counter() - start
    ray.shutdown()
    first = stamps[0] - start
    rate = (len(stamps) - 1) / max(stamps[-1] - stamps[0], 1e-9)
    print(f"{len(stamps)} images ({', '.join(options.detectors)}), {args.actors} actor(s): wall {wall:.1f} s, "
          f"first record after {first:.1f} s, then {rate:.2f} images/s = {rate / args.actors:.2f} per actor")


if __name__ == "__main__":
    main()
