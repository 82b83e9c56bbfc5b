"""Analysis lanes (several images' detectors side by side, privscan.engine.lanes) and the shared downscaled
copies the decoding threads make ahead (privscan.detectors.scale): real detectors, real files."""

from __future__ import annotations

import gc
import shutil
from pathlib import Path

import numpy as np
import pytest

from privscan.detectors import scale
from privscan.detectors.faces import FaceDetector, omp_threads_setter
from privscan.engine.audit import run_audit
from privscan.engine.lanes import IMAGES_PER_LANE, MAX_LANES, auto_lanes, lane_threads
from privscan.engine.options import AuditOptions
from privscan.engine.pipeline import Pipeline
from privscan.io.decode import load_image
from privscan.report.jsonl import read_records

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DETECTORS = ("faces", "people", "metadata", "codes")


def test_lanes_grow_with_the_run_and_share_the_cores():
    assert auto_lanes(0, cores=2) == 1
    assert auto_lanes(IMAGES_PER_LANE - 1, cores=2) == 1  # a few photos: one lane on every core
    assert auto_lanes(2 * IMAGES_PER_LANE, cores=2) == 2
    assert auto_lanes(10_000, cores=2) == 2  # never more lanes than cores
    assert auto_lanes(10_000, cores=1) == 1
    assert auto_lanes(10_000, cores=64) == MAX_LANES
    assert lane_threads(1, cores=16) is None  # one lane: the libraries' own default
    assert lane_threads(2, cores=2) == 1
    assert lane_threads(4, cores=16) == 4
    assert lane_threads(4, cores=2) == 1


@pytest.fixture
def folder(tmp_path) -> Path:
    """Photos with faces, a GPS photo, a document and two files that do not decode."""
    root = tmp_path / "in"
    root.mkdir()
    for i, name in enumerate(("astronaut.jpg", "coffee.jpg", "chelsea_gps.jpg", "id_card.jpg", "astronaut.jpg")):
        shutil.copy(EXAMPLES / name, root / f"{i}_{name}")
    (root / "5_empty.jpg").write_bytes(b"")
    data = (EXAMPLES / "coffee.jpg").read_bytes()
    (root / "6_truncated.jpg").write_bytes(data[: len(data) // 3])
    return root


def _summary(records) -> list[tuple[str, list[str], list[str]]]:
    """Per record: name, attribute ids, error kinds (scores may differ in the last bits between thread counts)."""
    return [(Path(r.path).name, sorted(a.id for a in r.attributes), sorted(e.kind for e in r.errors)) for r in records]


def test_two_lanes_give_the_records_of_one_lane_in_the_same_order(folder, tmp_path):
    one = AuditOptions(detectors=DETECTORS, lanes=1)
    two = AuditOptions(detectors=DETECTORS, lanes=2)
    single = run_audit([str(folder)], one, tmp_path / "one", pipeline=Pipeline(one, lanes=1))
    pipeline = Pipeline(two, lanes=2)
    assert pipeline.threads == lane_threads(2)
    double = run_audit([str(folder)], two, tmp_path / "two", pipeline=pipeline)
    pipeline.close()
    assert _summary(double.report.images) == _summary(single.report.images)
    names = [Path(r.path).name for r in double.report.images]
    assert names == sorted(p.name for p in folder.iterdir())
    faces = {Path(r.path).name: r for r in double.report.images}
    assert "a9_face_complete" in {a.id for a in faces["0_astronaut.jpg"].attributes}
    # the second astronaut is reused by content when the first one's record is stored before it is handed to
    # a lane, else analysed: which of the two depends on timing, the record does not
    assert double.failed == 2 and double.analysed + double.reused == 5
    assert double.header.options["lanes"] == 2 and single.header.options["lanes"] == 1


def test_an_interrupted_two_lane_audit_resumes_without_losing_or_repeating(folder, tmp_path):
    options = AuditOptions(detectors=DETECTORS, lanes=2)
    pipeline = Pipeline(options, lanes=2)
    out = tmp_path / "out"
    seen = []

    def interrupt_after_two(record) -> None:
        seen.append(record.path)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_audit([str(folder)], options, out, on_record=interrupt_after_two, pipeline=pipeline)
    done = read_records(out / "records.jsonl")
    assert [Path(r.path).name for r in done] == ["0_astronaut.jpg", "1_coffee.jpg"]
    resumed = run_audit([str(folder)], options, out, pipeline=pipeline)
    pipeline.close()
    names = [Path(r.path).name for r in resumed.report.images]
    assert names == sorted(p.name for p in folder.iterdir())
    assert resumed.reused >= 2  # the two finished images came from the cache, not from the detectors again


def test_a_one_thread_face_detector_finds_what_the_default_finds():
    assert omp_threads_setter() is not None  # yuface's wheel ships its own OpenMP runtime
    image = load_image(EXAMPLES / "astronaut.jpg")
    default = FaceDetector().faces(image)
    single = FaceDetector(threads=1).faces(image)
    assert len(default) == len(single) >= 1
    for a, b in zip(default, single, strict=True):
        assert a.box.iou(b.box) > 0.95


def test_prepared_copies_are_the_ones_detectors_get_and_go_with_their_source():
    scale.clear()
    rgb = np.random.default_rng(0).integers(0, 256, (2400, 3200, 3), dtype=np.uint8)
    scale.prepare(rgb, (512, 1280, 960))
    made = {side: scale.downscaled(rgb, side) for side in (1280, 960, 512)}
    for side, (copy, factor) in made.items():
        assert max(copy.shape[:2]) == side
        assert copy is scale.downscaled(rgb, side)[0]  # the same array: nothing resized twice
        assert factor == pytest.approx(side / 3200, rel=1e-3)
    # each smaller copy comes from the next larger one (one resize from full size: the pyramid base)
    expected_512, _ = scale.resize_to(made[960][0], 512)
    assert np.array_equal(made[512][0], expected_512)
    assert len(scale._cache) == 1
    del rgb, made, expected_512
    gc.collect()
    assert len(scale._cache) == 0  # freed with the source image: no copy outlives it
