"""`--ray`: a real local Ray (2 CPUs, no dashboard) audits a few images; records equal a local run's.

Ray writes its session under /tmp/ray and needs the loopback interface. The cluster is started once for
the module (about 10 s) and shut down after it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from privscan.engine.audit import run_audit
from privscan.engine.options import AuditOptions

ray = pytest.importorskip("ray", reason="Ray Data is the optional extra privscan[ray] (the dev install has it)")

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
OPTIONS = AuditOptions(detectors=("faces", "metadata"))
STRIP = {"cached", "timings"}


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture
def photos(tmp_path) -> Path:
    root = tmp_path / "photos"
    (root / "trip").mkdir(parents=True)
    for name in ("astronaut.jpg", "chelsea_gps.jpg"):
        shutil.copy(EXAMPLES / name, root / name)
    shutil.copy(EXAMPLES / "coffee.jpg", root / "trip" / "coffee.jpg")
    shutil.copy(REPO / "tests" / "data" / "astronaut_gps.heic", root / "trip" / "phone.heic")
    (root / "trip" / "empty.jpg").write_bytes(b"")
    return root


def test_ray_records_equal_a_local_run(local_ray, photos, tmp_path):
    local = run_audit([str(photos)], OPTIONS, tmp_path / "local")
    remote = run_audit([str(photos)], OPTIONS, tmp_path / "ray", ray_address="auto")
    expected = [r.model_dump(exclude=STRIP) for r in local.records()]
    assert [r.model_dump(exclude=STRIP) for r in remote.records()] == expected
    assert (remote.analysed, remote.failed, remote.reused) == (4, 1, 0)
    assert not remote.models_loaded  # the driver loaded nothing: the actors did
    assert remote.summary == local.summary
    assert (tmp_path / "ray" / "report.html").stat().st_size > 0
    # the same cache keys: a local re-run on the Ray run's folder reuses every record
    again = run_audit([str(photos)], OPTIONS, tmp_path / "ray")
    assert again.reused == 5 and not again.models_loaded
    assert [r.model_dump(exclude=STRIP) for r in again.records()] == expected


def test_ray_rerun_skips_finished_files(local_ray, photos, tmp_path):
    out = tmp_path / "out"
    run_audit([str(photos / "trip")], OPTIONS, out)  # three of the five files, audited locally
    remote = run_audit([str(photos)], OPTIONS, out, ray_address="auto")
    assert remote.reused == 3 and remote.analysed == 2
