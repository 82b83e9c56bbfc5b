"""`--hide plate|code|face` redact what the audit finds: one real photo with a face, a plate and a QR code,
redacted per alias through the real redaction engine (the detectors it loads come from the SPECs)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data
from vision_helpers import CONTACT, plate, symbol

from privscan import vocab
from privscan.detectors.base import Box
from privscan.engine.redaction import RedactOptions, redact
from privscan.engine.redaction.policy import detectors_for

FACE = Box(170, 60, 290, 190)  # Eileen Collins' face in the astronaut photo (1:1 below)


@pytest.fixture(scope="module")
def scene_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Box]]:
    photo = np.zeros((900, 1300, 3), np.uint8)
    photo[:, :] = cv2.resize(data.coffee(), (1300, 900))
    photo[:512, :512] = data.astronaut()
    plate_img = plate("AB-123-CD")
    ph, pw = plate_img.shape[:2]
    photo[700 : 700 + ph, 700 : 700 + pw] = plate_img
    qr = symbol(CONTACT, "QRCode", 4)
    qh, qw = qr.shape
    photo[80 : 80 + qh, 900 : 900 + qw] = qr[..., None]
    path = tmp_path_factory.mktemp("vision") / "street.png"
    Image.fromarray(photo).save(path)
    return path, {"face": FACE, "plate": Box(700, 700, 700 + pw, 700 + ph), "code": Box(900, 80, 900 + qw, 80 + qh)}


def changed(before: np.ndarray, after: np.ndarray, box: Box) -> float:
    x0, y0, x1, y1 = (int(v) for v in (box.x0, box.y0, box.x1, box.y1))
    diff = np.abs(before[y0:y1, x0:x1].astype(int) - after[y0:y1, x0:x1].astype(int)).max(axis=2)
    return float((diff > 30).mean())


@pytest.mark.parametrize("alias", ["plate", "code", "face"])
def test_hide_alias_redacts_what_the_audit_finds(
    scene_file: tuple[Path, dict[str, Box]], tmp_path: Path, alias: str
) -> None:
    path, boxes = scene_file
    hide = tuple(vocab.resolve_names(alias))
    assert detectors_for(hide)  # some detector's SPEC locates it
    run = redact([path], RedactOptions(hide=hide, out_dir=tmp_path / "out"))
    [result] = run.results
    assert result.status == "redacted", result.error
    assert set(result.attributes) <= set(hide) and result.attributes
    before = np.asarray(Image.open(path).convert("RGB"))
    after = np.asarray(Image.open(result.output).convert("RGB"))
    assert changed(before, after, boxes[alias]) > 0.6  # the thing itself is hidden ...
    for other, box in boxes.items():
        if other != alias:
            assert changed(before, after, box) < 0.2  # ... and the others are left alone
