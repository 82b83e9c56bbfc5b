"""How many analysis lanes an audit runs, and how many threads each lane's native sessions get.

A lane analyses one image at a time with its own detector instances (privscan.engine.pipeline). On a
2-core machine two lanes of one thread each audited the benchmark folder 10-20% faster than one lane over
both cores (`benchmarks/bench_audit.py --lanes 1` vs the default; README "Speed"): single-threaded
sessions waste nothing on splitting small tensors, and while one lane is in a part that cannot use a
second core (the barcode reader, MediaPipe's graphs), the other lane uses it.

Each lane past the first costs about 0.5 s to build and 390 MB of models, so an audit opens one more lane
per `IMAGES_PER_LANE` images it has to analyse, up to `MAX_LANES` and the cores it may use; a run of a few
photos keeps one lane on every core, which is also the faster way to analyse a single photo.
"""

from __future__ import annotations

import os

MAX_LANES = 4
IMAGES_PER_LANE = 8


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def auto_lanes(images: int, cores: int | None = None) -> int:
    """Lanes for a run with `images` images to analyse (see the module docstring)."""
    cores = usable_cores() if cores is None else cores
    return max(1, min(MAX_LANES, cores, images // IMAGES_PER_LANE))


def lane_threads(lanes: int, cores: int | None = None) -> int | None:
    """Threads for each lane's sessions: None (the libraries' default, every core) with one lane, else the
    lane's share of the cores."""
    if lanes <= 1:
        return None
    cores = usable_cores() if cores is None else cores
    return max(1, cores // lanes)
