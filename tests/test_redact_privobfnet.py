"""PrivObfNet masks in redaction, when its weights exist: the model's per-attribute masks are added to the
detectors' regions, refined by the text mask for Text-type attributes.

No trained PrivObfNet weights exist here (VISPR cannot be downloaded), so the checkpoint holds a freshly
initialised Model-Image (ImageNet backbone, untrained CAM head) in the real checkpoint format, and the
presence threshold is 0 so its masks are used whatever it predicts. This checks the plumbing (loading,
CAM -> mask -> refinement -> growth -> obscuring -> record), not the model's accuracy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from privobfnet_helpers import random_checkpoint
from support import synth

from privscan import vocab
from privscan.engine.redaction import RedactOptions, redact
from privscan.io.decode import load_image
from privscan.masks.mask_types import mask_type_vector
from privscan.models.privobfnet import PrivObfNet


def _random_checkpoint(path: Path, attribute: str, input_size: int = 224) -> None:
    """An untrained head whose map for `attribute` is positive everywhere (its bias set to 1): a model that
    "sees" the attribute all over the image, which the text-mask refinement must narrow to the text."""
    torch.manual_seed(0)
    model = PrivObfNet("mobilenet_v2", mask_types=mask_type_vector())
    with torch.no_grad():
        model.cam.bias[vocab.by_id()[attribute].index] = 1.0
    random_checkpoint(path, input_size=input_size, model=model)


def test_privobfnet_masks_join_the_detector_regions(tmp_path):
    ckpt = tmp_path / "privobfnet-random.pt"
    _random_checkpoint(ckpt, "a90_email")
    letter = synth.letter(5, size=(620, 877))
    src = tmp_path / "letter.png"
    letter.image.save(src)
    options = RedactOptions(
        hide=("a90_email",), privobfnet_weights=ckpt, model_threshold=0.0, out_dir=tmp_path / "out", device="cpu"
    )
    run = redact([src], options)
    assert run.privobfnet == "privobfnet-random" and run.detectors == ("text",)
    (result,) = run.results
    assert result.status == "redacted", result.error
    by_source = {h.source: h for h in result.hidden}
    assert "privobfnet" in by_source and any(s.startswith("ocr:") for s in by_source)
    model_box = by_source["privobfnet"].regions[0]["box"]
    # Text-type attribute: the all-over map was multiplied by the OCR text mask, so it ends where the text
    # ends (the body text's last line is above 40% of the page; below it is blank paper).
    assert model_box[3] <= 877 * 0.45, f"the model mask reaches y={model_box[3]}, below the text"
    copy = np.asarray(Image.open(tmp_path / "out" / "letter.png").convert("RGB"))
    original = load_image(src).rgb
    changed = np.any(copy != original, axis=2)
    x0, y0, x1, y1 = model_box
    assert changed[y0:y1, x0:x1].any() and not changed[int(877 * 0.5) :].any()
