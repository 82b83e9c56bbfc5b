"""Text PII on generated documents and screenshots the tests never see: recall per type and background
changed, through the real `privscan redact --hide all`.

    .venv/bin/python benchmarks/bench_pii.py [--count 60] [--seed 9117] [--privscan PATH] [--keep DIR]

Documents: identity cards, passports, letters, banking pages, till receipts, chat and e-mail screenshots
(tests/support/synth_intl.py) in the formats of Germany, France, Spain, Italy, the UK, India, Brazil, the
Netherlands and the US, drawn with this script's own seed (the tests use other seeds and mostly the US-only
generators of synth.py); every third one is "photographed": shrunk to 85% and JPEG-compressed (quality 80).
Each image is redacted with `--hide all --style fill --color #FF00FF` by the privscan given (default: this
checkout's), and scored by pixels:
- a pixel changed when the copy shows the fill colour there (and the original did not);
- an item (a value drawn with a kind) is found when >= 70% of its box's pixels changed;
- background = the pixels outside every item's box grown by 20% of the box height on each side (so the
  redaction margin around a found value does not count); "background changed" = the share of them that
  changed.
Types: names, addresses (home and the shop address on receipts), ID numbers (MRZ lines included), IBANs,
dates, cards, e-mails, phones, usernames, nationalities, conversations (message lines), e-mail content.
`--privscan /work/main/.venv/bin/privscan` measures another build on the same images (before/after).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # tests/support: generated documents
from support import locales, synth_intl
from support.synth import SynthImage, TruthItem

TYPES = {
    "name": "names", "name_first": "names", "name_last": "names", "address": "addresses",
    "visited_address": "addresses", "id_number": "ids", "passport": "ids", "iban": "iban", "date": "dates",
    "birth_date": "dates", "card": "cards", "email": "emails", "phone": "phones", "username": "usernames",
    "nationality": "nationality", "conversation": "conversations", "email_content": "email_content",
}  # fmt: skip
COVERED = 0.7
PAD = 0.2
COLOR = "#FF00FF"
FILL = np.array([255, 0, 255], dtype=np.int16)


def generate(count: int, seed: int) -> list[tuple[str, SynthImage]]:
    """`count` documents: templates in turn, countries drawn from the seed."""
    rng = random.Random(seed)
    templates = list(synth_intl.GENERATORS)
    countries = list(locales.LOCALES)
    out = []
    for i in range(count):
        template = templates[i % len(templates)]
        country = rng.choice(countries)
        doc = synth_intl.GENERATORS[template](rng.randint(0, 10**9), country)
        name = f"{i:03d}-{template}-{country}"
        if i % 3 == 2:
            doc, name = _photographed(doc), name + "-photo"
        out.append((name, doc))
    return out


def _photographed(doc: SynthImage) -> SynthImage:
    w, h = doc.image.size
    small = doc.image.resize((int(w * 0.85), int(h * 0.85)), Image.Resampling.BICUBIC)
    items = [TruthItem(t.kind, t.text, t.box.scaled(0.85)) for t in doc.items]
    return SynthImage(small, items)


def score(original: np.ndarray, redacted: np.ndarray, items: list[TruthItem]) -> tuple[list[tuple[str, bool]], int,
                                                                                        int]:
    """([(type, found)] in item order, background pixels changed, background pixels)."""
    # changed = painted with the fill colour (a JPEG copy is re-encoded, so exact equality would not do)
    changed = np.all(np.abs(redacted.astype(np.int16) - FILL) <= 70, axis=2) & ~np.all(
        np.abs(original.astype(np.int16) - FILL) <= 70, axis=2)
    h, w = changed.shape
    background = np.ones_like(changed)
    found = []
    for it in items:
        b = it.box.clip(w, h)
        x0, y0, x1, y1 = int(b.x0), int(b.y0), int(np.ceil(b.x1)), int(np.ceil(b.y1))
        share = float(changed[y0:y1, x0:x1].mean()) if x1 > x0 and y1 > y0 else 0.0
        found.append((TYPES[it.kind], share >= COVERED))
        pad = PAD * (y1 - y0)
        background[max(0, int(y0 - pad)) : int(y1 + pad) + 1, max(0, int(x0 - pad)) : int(x1 + pad) + 1] = False
    return found, int((changed & background).sum()), int(background.sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=60)
    ap.add_argument("--seed", type=int, default=9117)
    ap.add_argument("--privscan", default=str(Path(sys.executable).with_name("privscan")))
    ap.add_argument("--keep", type=Path, help="keep the generated and redacted images here")
    ap.add_argument("--misses", action="store_true", help="list each item that was not hidden")
    ap.add_argument("--score-only", action="store_true", help="score the copies already in --keep (no redact run)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_pii_")) if args.keep is None else args.keep
    src, out = work / "in", work / "out"
    if not args.score_only:
        shutil.rmtree(src, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
    src.mkdir(parents=True, exist_ok=True)
    docs = generate(args.count, args.seed)
    for name, doc in docs:
        if name.endswith("-photo"):
            doc.image.save(src / f"{name}.jpg", quality=80)
        else:
            doc.image.save(src / f"{name}.png")
    start = time.perf_counter()
    command = [args.privscan, "redact", str(src), "--hide", "all", "--style", "fill", "--color", COLOR,
               "--out", str(out), "--device", "cpu", "--quiet"]
    run = subprocess.CompletedProcess(command, 0) if args.score_only else subprocess.run(
        command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if run.returncode not in (0, 1):
        sys.exit(f"privscan redact failed ({run.returncode}): {run.stderr.strip()[-2000:]}")
    per_type: dict[str, list[bool]] = {}
    per_template: dict[str, list[float]] = {}
    bg_changed = bg_total = 0
    for name, _doc in docs:
        path = next(src.glob(f"{name}.*"))
        original = np.asarray(Image.open(path).convert("RGB"))
        target = out / path.name
        redacted = np.asarray(Image.open(target).convert("RGB")) if target.is_file() else original
        found, changed, total = score(original, redacted, _doc.items)
        for (kind, ok), item in zip(found, _doc.items, strict=True):
            per_type.setdefault(kind, []).append(ok)
            if args.misses and not ok:
                print(f"missed {name}: {item.kind} {item.text!r}", file=sys.stderr)
        bg_changed += changed
        bg_total += total
        per_template.setdefault(name.split("-")[1], []).append(changed / max(total, 1))
    all_found = [ok for v in per_type.values() for ok in v]
    report = {
        "privscan": args.privscan, "images": len(docs), "seed": args.seed,
        "recall": round(sum(all_found) / max(len(all_found), 1), 3),
        "per_type": {k: {"recall": round(sum(v) / len(v), 3), "items": len(v)} for k, v in sorted(per_type.items())},
        "background_changed": round(bg_changed / max(bg_total, 1), 4),
        "background_changed_per_template": {k: round(float(np.mean(v)), 4) for k, v in sorted(per_template.items())},
        "seconds_per_image": round(seconds / len(docs), 2),
    }  # fmt: skip
    print(json.dumps(report, indent=2))
    print(f"recall {report['recall']:.3f}; background changed {100 * report['background_changed']:.1f}%; "
          f"{report['seconds_per_image']} s/image (whole redact run, model loading included)")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
