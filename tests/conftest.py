"""Shared fixtures. Tests use real models and real files; nothing here fakes a component."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "out" / "test-artifacts"

# Trained checkpoints registered by tests must never land in the repository's weights/ manifest.
os.environ.setdefault("PRIVSCAN_WEIGHTS_DIR", str(REPO / "out" / "test-weights"))
if os.environ.get("PYTEST_XDIST_WORKER"):
    # pytest-xdist runs one worker per core: one torch/OpenMP thread each, here and in the subprocesses
    # the tests start, or the workers' threads would wait on each other
    os.environ["OMP_NUM_THREADS"] = "1"
    torch.set_num_threads(1)
else:
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def skimage_photo():
    """Real photos shipped by scikit-image (astronaut has a face, coffee has none)."""
    from skimage import data

    def get(name: str) -> np.ndarray:
        return np.ascontiguousarray(getattr(data, name)()[..., :3])

    return get
