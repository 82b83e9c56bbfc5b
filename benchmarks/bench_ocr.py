"""OCR engines and the OCR max side, measured on PII documents with exact truth (how the defaults were chosen).

    .venv/bin/python benchmarks/bench_ocr.py [--engines rapidocr,easyocr] [--sides 960,1280,1600]
                                             [--det-sides 736,960,same] [--easyocr-side 1600] [--repeats 2]
                                             [--rounds 5]

Images: the bundled examples with examples/truth.json; generated documents (support.synth: ID card,
payment card, letter, passport, banking page) at their own size; the same documents photographed small
inside a 4000 x 3000 scene (document 40% and 25% of the frame width) where the OCR max side matters
(RapidOCR's text detector can see a smaller copy than the one its recogniser crops lines from: --det-sides); and two
4000 x 3000 photos without text (false positives, detection-only cost). For each engine / max side it
prints seconds per image of what TextDetector does (downscale, OCR, PII, box tightening; best of
--repeats, after one warm-up), PII recall (truth items found with the
right VISPR id and box IoU >= 0.5), exact values (the found value equals the truth text, spaces and case
ignored) and findings on the text-free photos.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from privscan.detectors import ocr
from privscan.detectors.base import Box
from privscan.detectors.pii import PiiRecogniser
from privscan.detectors.scale import clear as clear_scale_cache
from privscan.detectors.text import tighten_regions

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # tests/support: generated documents
from support import synth

ROOT = Path(__file__).resolve().parent.parent


def _norm(text: str) -> str:
    return re.sub(r"[\s\-()+]", "", text).lower()


def cases() -> list[tuple[str, np.ndarray, list[synth.TruthItem]]]:
    from skimage import data

    out = []
    truth = json.loads((ROOT / "examples" / "truth.json").read_text())
    for name, items in truth.items():
        rgb = np.asarray(Image.open(ROOT / "examples" / name).convert("RGB"))
        out.append((f"example:{name}", rgb, [synth.TruthItem(i["kind"], i["text"], Box(*i["box"])) for i in items]))
    docs = {
        "id_card": synth.id_card(seed=11),
        "credit_card": synth.credit_card(seed=12),
        "letter": synth.letter(seed=13),
        "passport": synth.passport(seed=14),
        "account_page": synth.account_page(seed=15),
    }
    for name, doc in docs.items():
        out.append((f"doc:{name}", np.asarray(doc.image), doc.items))
    backgrounds = [data.coffee(), data.rocket(), data.chelsea()]
    for i, (group, w, (name, doc)) in enumerate(
        [("scene4000", 1600, d) for d in docs.items()] + [("small4000", 1000, d) for d in docs.items()]
    ):
        scene = cv2.resize(backgrounds[i % 3], (4000, 3000), interpolation=cv2.INTER_CUBIC)
        s = w / doc.image.width
        h = round(doc.image.height * s)
        page = np.asarray(doc.image.resize((w, h), Image.Resampling.LANCZOS))
        x0, y0 = 1200, (3000 - h) // 2  # 1600 px pages: 4000 x 3000 holds them (letter: 2263 px high)
        scene[y0 : y0 + h, x0 : x0 + w] = page
        items = [
            synth.TruthItem(it.kind, it.text, Box(it.box.x0 * s + x0, it.box.y0 * s + y0, it.box.x1 * s + x0,
                                                  it.box.y1 * s + y0))
            for it in doc.items
        ]
        out.append((f"{group}:{name}", scene, items))
    for name in ("coffee", "rocket"):
        out.append((f"notext4000:{name}", cv2.resize(getattr(data, name)(), (4000, 3000)), []))
    return out


def evaluate(engine: ocr.OcrEngine, max_side: int, all_cases, repeats: int) -> dict[str, object]:
    pii = PiiRecogniser()
    times, found, exact, total, false_pos = [], 0, 0, 0, 0
    per_group: dict[str, list[float]] = {}
    group_recall: dict[str, list[int]] = {}
    for name, rgb, items in all_cases:
        best = float("inf")
        words = []
        for _ in range(max(1, repeats)):
            clear_scale_cache()  # count the downscale as part of OCR, as for a new photo
            start = time.perf_counter()
            words = ocr.read_words(engine, rgb, max_side=max_side)
            findings = pii.find(words)
            tighten_regions(findings, rgb)
            best = min(best, time.perf_counter() - start)
        times.append(best)
        per_group.setdefault(name.split(":")[0], []).append(best)
        if not items:
            false_pos += len(findings)
        for item in items:
            total += 1
            hits = [f for f in findings if f.attribute in item.attributes
                    and any(r.box.iou(item.box) >= 0.5 for r in f.regions)]
            group_recall.setdefault(name.split(":")[0], []).append(int(bool(hits)))
            if hits:
                found += 1
                if any(_norm(f.value or "") in (_norm(item.text),) or _norm(item.text) in _norm(f.value or "")
                       for f in hits):
                    exact += 1
    return {
        "s_per_image": statistics.mean(times),
        "groups": {g: statistics.mean(v) for g, v in per_group.items()},
        "recall": found / max(total, 1),
        "group_recall": {g: sum(v) / len(v) for g, v in group_recall.items()},
        "exact": exact / max(total, 1),
        "items": total,
        "false_pos": false_pos,
    }


Config = tuple[str, int | None, int]  # (engine, text-detector side or None = the OCR side, OCR max side)


def interleaved_timing(engines: dict[Config, ocr.OcrEngine], all_cases, rounds: int) -> dict[Config, list[float]]:
    """Best-of-`rounds` seconds per configuration for a text-free 4000 px photo and a 4000 px document scene,
    the configurations interleaved within each round so that a busy machine slows them alike."""
    pii = PiiRecogniser()
    picks = [next(c for c in all_cases if c[0].startswith(g)) for g in ("notext4000", "scene4000")]
    best = {cfg: [float("inf")] * len(picks) for cfg in engines}
    for _ in range(rounds):
        for i, (_, rgb, _items) in enumerate(picks):
            for cfg, engine in engines.items():
                clear_scale_cache()
                start = time.perf_counter()
                findings = pii.find(ocr.read_words(engine, rgb, max_side=cfg[2]))
                tighten_regions(findings, rgb)
                best[cfg][i] = min(best[cfg][i], time.perf_counter() - start)
    return best


def _label(cfg: Config) -> str:
    return f"{cfg[0]} det {cfg[1] or cfg[2]} / ocr {cfg[2]}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--engines", default="rapidocr,easyocr")
    ap.add_argument("--sides", default="960,1280,1600", help="OCR max sides (the image OCR reads) for RapidOCR")
    ap.add_argument("--det-sides", default="736,960,same",
                    help="RapidOCR text-detector sides ('same' = the OCR side); detector sides above the OCR "
                         "side are skipped")
    ap.add_argument("--easyocr-side", type=int, default=1600)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds (0: skip)")
    args = ap.parse_args()
    all_cases = cases()
    print(f"{len(all_cases)} images, {sum(len(c[2]) for c in all_cases)} PII truth items")
    engines: dict[Config, ocr.OcrEngine] = {}
    for name in args.engines.split(","):
        if name == "easyocr":
            start = time.perf_counter()
            engines[("easyocr", None, args.easyocr_side)] = ocr.build_engine("easyocr")
            print(f"easyocr load {time.perf_counter() - start:.1f} s")
            continue
        for det in args.det_sides.split(","):
            det_side = None if det == "same" else int(det)
            engine = ocr.RapidOcrEngine(det_side=det_side)
            for side in (int(s) for s in args.sides.split(",")):
                if det_side is None or det_side < side:
                    engines[("rapidocr", det_side, side)] = engine
    header = f"{'configuration':<28} {'s/img':>6} {'docs':>5} {'scenes':>6} {'no-text':>7} {'recall':>7} " \
             f"{'exact':>6} {'FP':>3}  recall by group"
    print(header)
    print("-" * len(header))
    for cfg, engine in engines.items():
        ocr.read_words(engine, all_cases[0][1], max_side=cfg[2])  # warm-up
        r = evaluate(engine, cfg[2], all_cases, args.repeats if cfg[0] == "rapidocr" else 1)
        g = r["groups"]
        docs = statistics.mean([g.get("example", 0), g.get("doc", 0)])
        print(f"{_label(cfg):<28} {r['s_per_image']:>6.2f} {docs:>5.2f} {g.get('scene4000', 0):>6.2f} "
              f"{g.get('notext4000', 0):>7.2f} {r['recall']:>7.1%} {r['exact']:>6.1%} {r['false_pos']:>3}  "
              + " ".join(f"{k} {v:.0%}" for k, v in r["group_recall"].items()), flush=True)
    timed = {cfg: e for cfg, e in engines.items() if cfg[0] == "rapidocr"}
    if args.rounds > 0 and timed:
        print(f"best of {args.rounds} interleaved rounds (seconds): 4000 px photo without text | 4000 px scene with a "
              "document")
        for cfg, (notext, scene) in interleaved_timing(timed, all_cases, args.rounds).items():
            print(f"  {_label(cfg):<28} {notext:>6.2f} | {scene:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
