"""Redaction: write redacted, metadata-free copies of photos; originals are only ever read.

The parts, in the order a run uses them:
- `policy`: which pixels stand for a hidden attribute, so which detectors a redaction needs (from what
  the detectors declare they locate);
- `planning`: inputs -> output paths (`redacted/` beside each input, or under `--out`);
- `sources`: the `RegionSource` interface and what to hide in one image; `live` (the detectors and
  PrivObfNet's masks) and `from_report` (an earlier audit's regions, matched by content hash) implement it;
- `paint`: one pixel mask from the regions; `per_file`: decode, mask, obscure, encode clean, write;
- `run`: `redact(paths, options, pipeline=None)` and the sidecar (privscan.report.redaction).
"""

from privscan.engine.redaction.options import RedactOptions
from privscan.engine.redaction.run import RedactRun, record_json, redact

__all__ = ["RedactOptions", "RedactRun", "record_json", "redact"]
