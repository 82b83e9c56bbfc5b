"""The console script: version, help, one-line errors without tracebacks, --debug, device errors, weights listing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from privscan.device import resolve_device
from privscan.errors import DeviceError

PRIVSCAN = [sys.executable, "-m", "privscan"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PRIVSCAN, *args], capture_output=True, text=True, env={**os.environ, **(env or {})})


def test_version_and_help():
    assert run("--version").stdout.strip() == "privscan 0.1.0"
    out = run("--help").stdout
    for command in ("audit", "redact", "train", "evaluate", "attributes", "weights"):
        assert command in out
    train_help = run("train", "--help").stdout
    assert "drag" in train_help and "privobfnet" in train_help


def test_user_error_is_one_line_without_traceback():
    result = run("attributes", "--no-such-option")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_privscan_error_one_line_and_debug_traceback(tmp_path):
    """A PrivscanError raised inside a command prints one `error:` line (exit 2); --debug shows the traceback."""
    missing = tmp_path / "no-such-profile.tsv"
    script = tmp_path / "probe.py"
    script.write_text(
        "from privscan import vocab\n"
        "from privscan.cli.app import app, main\n\n\n"
        "@app.command('probe')\n"
        "def probe() -> None:\n"
        f"    vocab.profile_vector(path={str(missing)!r})\n\n\n"
        "main()\n"
    )
    plain = subprocess.run([sys.executable, str(script), "probe"], capture_output=True, text=True)
    assert plain.returncode == 2
    lines = [line for line in plain.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: cannot read profile"), plain.stderr
    debug = subprocess.run([sys.executable, str(script), "--debug", "probe"], capture_output=True, text=True)
    assert debug.returncode != 0
    assert "Traceback" in debug.stderr and "UsageError" in debug.stderr


def test_attributes_json_lists_68_and_aliases():
    payload = json.loads(run("attributes", "--json").stdout)
    assert len(payload["attributes"]) == 68
    assert payload["aliases"]["face"] == ["a9_face_complete", "a10_face_partial"]


def test_weights_lists_mobilenet_as_ok():
    result = run("weights", "--json")
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["mobilenet_v2_imagenet"]["status"] == "ok"
    assert rows["mobilenet_v2_imagenet"]["sha256"].startswith("b0353104")


def test_device_resolution():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(DeviceError, match="unknown device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="asked for CUDA"):
            resolve_device("cuda:0")


def test_repo_layout():
    root = Path(__file__).resolve().parent.parent
    for name in ("pyproject.toml", "README.md", "privscan", "weights", "tests", "examples", ".ci/run"):
        assert (root / name).exists(), name


def test_native_log_noise_filtered_but_errors_kept(tmp_path):
    """mediapipe/TFLite write info/warning lines straight to fd 2; the CLI drops them and keeps real errors."""
    script = tmp_path / "noise.py"
    script.write_text(
        "import os, sys, time\n"
        "from privscan.cli import native_log\n"
        "native_log.install()\n"
        "os.write(2, b'INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\\n')\n"
        "os.write(2, b'W0000 00:00:1795357301.791543   22021 inference_feedback_manager.cc:114] noise\\n')\n"
        "os.write(2, b'E0000 00:00:1795357301.791543   22021 graph.cc:10] a real native error\\n')\n"
        "print('python stderr line', file=sys.stderr)\n"
        "time.sleep(0.3)\n"
    )
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert "XNNPACK" not in result.stderr and "noise" not in result.stderr
    assert "a real native error" in result.stderr and "python stderr line" in result.stderr


def test_audit_with_mediapipe_prints_no_native_noise(tmp_path):
    root = Path(__file__).resolve().parent.parent
    result = run(
        "audit", str(root / "examples" / "astronaut.jpg"), "--out", str(tmp_path), "--detectors", "faces,people", "-q"
    )
    assert result.returncode == 0
    assert result.stderr == "", result.stderr


def test_audit_with_two_lanes_from_the_command_line(tmp_path):
    """--lanes reaches the engine: two lanes analyse the photos, the header records the choice."""
    root = Path(__file__).resolve().parent.parent
    photos = [str(root / "examples" / name) for name in ("astronaut.jpg", "coffee.jpg", "chelsea_gps.jpg")]
    result = run("audit", *photos, "--out", str(tmp_path), "--detectors", "faces,metadata", "--lanes", "2", "-q")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["header"]["options"]["lanes"] == 2
    assert [Path(r["path"]).name for r in report["images"]] == ["astronaut.jpg", "coffee.jpg", "chelsea_gps.jpg"]
    assert "a9_face_complete" in {a["id"] for a in report["images"][0]["attributes"]}
