"""Redaction time for one 12-megapixel photo on CPU, without OCR (--hide face) and with OCR (--hide face,name,...).

The photo is built once: scikit-image's astronaut (a real face) and a generated letter (names, address,
e-mail, phone, date) pasted on a 4000 x 3000 scene, saved as a quality-90 JPEG with EXIF GPS. Each
configuration loads its detectors once (timed apart), then redacts the photo `--repeat` times into a
temporary folder (overwriting); the median per-photo time is printed, split into decode, detection,
mask building, obscuring, clean encoding and writing (the engine's own stage timings).

    .venv/bin/python benchmarks/bench_redact.py [--repeat 3] [--style fill]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from privscan import vocab
from privscan.engine.redaction import RedactOptions
from privscan.engine.redaction.live import LiveSource
from privscan.engine.redaction.per_file import redact_file
from privscan.engine.redaction.planning import plan_jobs

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # tests/support: generated documents
from support import synth

WIDTH, HEIGHT = 4000, 3000


def make_photo(path: Path) -> None:
    from skimage import data

    rng = np.random.default_rng(0)
    scene = Image.fromarray(data.coffee()).resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC)
    noise = rng.normal(0, 6, (HEIGHT, WIDTH, 3))  # sensor-like grain, so the JPEG has realistic entropy
    scene = Image.fromarray(np.clip(np.asarray(scene, dtype=np.float64) + noise, 0, 255).astype(np.uint8))
    face = Image.fromarray(data.astronaut()).resize((1400, 1400), Image.Resampling.BICUBIC)
    scene.paste(face, (200, 800))
    letter = synth.letter(4, size=(1240, 1754)).image
    scene.paste(letter, (2500, 600))
    buf = io.BytesIO()
    scene.save(buf, "JPEG", quality=90, exif=synth.exif_bytes(gps=(47.37, 8.54), make="Bench", model="Cam"))
    path.write_bytes(buf.getvalue())


def bench(photo: Path, hide: str, style: str, repeat: int, out: Path) -> None:
    ids = vocab.resolve_names(hide)
    options = RedactOptions(hide=tuple(ids), style=style, out_dir=out, overwrite=True, device="cpu")
    start = time.perf_counter()
    source = LiveSource(options)  # what `redact` builds once per run
    load = time.perf_counter() - start
    results = []
    for _ in range(repeat):
        jobs, _ = plan_jobs([photo], options.out_dir)
        result = redact_file(jobs[0], source, options)
        if result.error is not None:
            raise SystemExit(f"redaction failed: {result.error.message}")
        results.append(result)
    median = {k: statistics.median(r.timings.get(k, 0.0) for r in results) for k in results[0].timings}
    total = statistics.median(r.seconds for r in results)
    stages = ", ".join(f"{k} {v:.2f}" for k, v in median.items())
    last = results[-1]
    print(
        f"--hide {hide}\n  detectors: {','.join(source.detectors) or '-'}; load {load:.2f} s\n"
        f"  per photo: {total:.2f} s ({stages} s)\n"
        f"  hid {len(last.hidden)} item(s) over {last.masked_fraction:.1%} of the pixels"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--style", default="fill", choices=["fill", "pixelate", "blur"])
    args = parser.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    with tempfile.TemporaryDirectory() as tmp:
        photo = Path(tmp) / "photo12mp.jpg"
        make_photo(photo)
        print(
            f"photo: {WIDTH}x{HEIGHT} = {WIDTH * HEIGHT / 1e6:.0f} MP JPEG, {photo.stat().st_size / 1e6:.1f} MB; "
            f"CPU threads: {torch.get_num_threads()}; style {args.style}; median of {args.repeat}"
        )
        out = Path(tmp) / "out"
        bench(photo, "face", args.style, args.repeat, out)
        bench(photo, "face,name,address,email,phone,date", args.style, args.repeat, out)


if __name__ == "__main__":
    main()
