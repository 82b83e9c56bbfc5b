"""`audit`: discover files, decode in parallel, analyse in batches, stream records, write the reports.

Files are read and decoded in worker threads (Pillow releases the GIL) a few images ahead of the analysis,
which runs in the calling thread. Records come out in discovery order (deterministic), each one streamed
to records.jsonl and committed to the cache as it finishes, so an interrupted audit loses nothing and a
re-run decodes only what is new or changed.
"""

from __future__ import annotations

import io
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

from privscan import __version__
from privscan.engine.cache import AuditCache
from privscan.engine.fusion import build_record, error_record
from privscan.engine.options import AuditOptions
from privscan.engine.pipeline import Pipeline
from privscan.errors import ImageError
from privscan.io.decode import DecodedImage, decode_bytes, read_bytes, sha256_bytes
from privscan.io.discover import discover
from privscan.report.schema import ImageRecord, Report, RunHeader

RECORDS_NAME = "records.jsonl"
JSON_NAME = "report.json"
HTML_NAME = "report.html"
CACHE_NAME = "cache.sqlite"


@dataclass
class AuditResult:
    report: Report
    outputs: dict[str, Path] = field(default_factory=dict)
    analysed: int = 0
    reused: int = 0
    failed: int = 0
    seconds: float = 0.0


@dataclass
class _Decoded:
    """What a worker thread hands back for one file."""

    path: Path
    sha256: str | None
    image: DecodedImage | None
    error: ImageError | None


def _read_and_decode(path: Path, max_pixels: int) -> _Decoded:
    try:
        data = read_bytes(path)
    except ImageError as e:
        return _Decoded(path, None, None, e)
    sha = sha256_bytes(data)
    try:
        return _Decoded(path, sha, decode_bytes(path, data, max_pixels=max_pixels), None)
    except ImageError as e:
        return _Decoded(path, sha, None, e)


def thumbnail_jpeg(image: DecodedImage, side: int) -> bytes:
    """A small JPEG for the HTML report (the report layer inlines it as a data URI)."""
    pil = Image.fromarray(image.rgb)
    pil.thumbnail((side, side), Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    pil.save(buf, "JPEG", quality=80, optimize=True)
    return buf.getvalue()


@dataclass
class _Slot:
    """One file in the ordered window: either already answered from the cache, or being decoded."""

    path: Path
    record: ImageRecord | None = None
    thumbnail: bytes | None = None
    future: Future[_Decoded] | None = None


class Auditor:
    """One audit run's state: pipeline, cache and config key. `run` yields records in discovery order."""

    def __init__(self, options: AuditOptions, *, pipeline: Pipeline | None = None) -> None:
        self.options = options
        self.pipeline = pipeline or Pipeline(options)
        self.config_key = self.pipeline.config_key()
        self.profile = options.profile()
        self.thumbnails: dict[str, bytes] = {}
        self.analysed = self.reused = self.failed = 0

    def header(self, inputs: Iterable[str]) -> RunHeader:
        return RunHeader(
            privscan_version=__version__,
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            device=self.pipeline.device_name,
            show_values=self.options.show_values,
            inputs=[str(p) for p in inputs],
            models=self.pipeline.models_info(),
            options=self.options.for_header(),
        )

    def run(self, files: list[Path], cache: AuditCache | None) -> Iterator[ImageRecord]:
        window: deque[_Slot] = deque()
        batch_size = self.options.model_batch(self.pipeline.device.type)
        ahead = batch_size + 2 * max(1, self.options.workers)
        with ThreadPoolExecutor(max_workers=max(1, self.options.workers), thread_name_prefix="decode") as pool:
            pending = iter(files)
            exhausted = False
            while True:
                while not exhausted and len(window) < ahead:
                    path = next(pending, None)
                    if path is None:
                        exhausted = True
                        break
                    window.append(self._slot(path, cache, pool))
                if not window:
                    return
                if window[0].record is not None:
                    yield self._emit(window.popleft())
                    continue
                batch: list[_Slot] = []
                while window and window[0].record is None and len(batch) < batch_size:
                    batch.append(window.popleft())
                self._analyse(batch, cache)
                for slot in batch:
                    yield self._emit(slot)

    def _slot(self, path: Path, cache: AuditCache | None, pool: ThreadPoolExecutor) -> _Slot:
        if cache is not None:
            sha = cache.known_sha(path)
            hit = cache.get(sha, self.config_key) if sha else None
            if hit is not None:
                return self._from_cache(path, hit)
        return _Slot(path, future=pool.submit(_read_and_decode, path, self.options.max_pixels))

    def _from_cache(self, path: Path, hit: tuple[str, bytes | None]) -> _Slot:
        record = ImageRecord.model_validate_json(hit[0]).model_copy(update={"path": str(path), "cached": True})
        return _Slot(path, record=record, thumbnail=hit[1])

    def _analyse(self, batch: list[_Slot], cache: AuditCache | None) -> None:
        todo: list[tuple[_Slot, DecodedImage]] = []
        for slot in batch:
            assert slot.future is not None
            decoded = slot.future.result()
            if cache is not None and decoded.sha256 is not None:
                cache.remember_file(slot.path, decoded.sha256)
                hit = cache.get(decoded.sha256, self.config_key)
                if hit is not None:  # same content seen under another name, or touched but unchanged
                    done = self._from_cache(slot.path, hit)
                    slot.record, slot.thumbnail = done.record, done.thumbnail
                    continue
            if decoded.error is not None:
                slot.record = error_record(decoded.error)
                slot.record.sha256 = decoded.sha256
                self._store(cache, decoded.sha256, slot.record, None)
            else:
                assert decoded.image is not None
                todo.append((slot, decoded.image))
        if not todo:
            return
        analyses = self.pipeline.analyze_batch([image for _, image in todo])
        for (slot, image), analysis in zip(todo, analyses, strict=True):
            slot.record = build_record(
                analysis,
                profile=self.profile,
                pooling=self.options.pooling,
                show_values=self.options.show_values,
                private_threshold=self.options.private_threshold,
            )
            slot.thumbnail = thumbnail_jpeg(image, self.options.thumbnail_side)
            self._store(cache, image.sha256, slot.record, slot.thumbnail)

    def _store(self, cache: AuditCache | None, sha: str | None, record: ImageRecord, thumb: bytes | None) -> None:
        if cache is not None and sha is not None:
            cache.put(sha, self.config_key, record.model_dump_json(), thumb)

    def _emit(self, slot: _Slot) -> ImageRecord:
        record = slot.record
        assert record is not None
        if record.cached:
            self.reused += 1
        elif record.failed:
            self.failed += 1
        else:
            self.analysed += 1
        if slot.thumbnail is not None:
            self.thumbnails[record.path] = slot.thumbnail
        return record


def run_audit(
    paths: list[str],
    options: AuditOptions,
    out_dir: Path,
    *,
    formats: tuple[str, ...] = ("json", "html"),
    on_start: Callable[[int], None] | None = None,
    on_record: Callable[[ImageRecord], None] | None = None,
    pipeline: Pipeline | None = None,
) -> AuditResult:
    """Audit `paths` into `out_dir` (records.jsonl always; report.json / report.html per `formats`).

    `pipeline` lets a caller that audits repeatedly (tests, a long-lived service) load the models once.
    """
    from privscan.report.html import write_report_html
    from privscan.report.jsonl import RecordWriter, write_report_json

    start = time.perf_counter()
    files = discover(paths, recursive=options.recursive, include_hidden=options.include_hidden)
    out_dir.mkdir(parents=True, exist_ok=True)
    auditor = Auditor(options, pipeline=pipeline)
    header = auditor.header(paths)
    setup_seconds = time.perf_counter() - start
    if on_start is not None:
        on_start(len(files))
    records: list[ImageRecord] = []
    cache = AuditCache(out_dir / CACHE_NAME) if options.use_cache else None
    try:
        with RecordWriter(out_dir / RECORDS_NAME) as writer:
            for record in auditor.run(files, cache):
                writer.write(record)
                records.append(record)
                if on_record is not None:
                    on_record(record)
    finally:
        if cache is not None:
            cache.close()
    total = time.perf_counter() - start
    header.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
    header.timings = {
        "total_s": round(total, 3),
        "setup_s": round(setup_seconds, 3),
        "images_per_s": round(len(records) / max(total - setup_seconds, 1e-9), 3),
    }
    report = Report(header=header, images=records)
    outputs = {"jsonl": out_dir / RECORDS_NAME}
    if "json" in formats:
        write_report_json(report, out_dir / JSON_NAME)
        outputs["json"] = out_dir / JSON_NAME
    if "html" in formats:
        write_report_html(report, out_dir / HTML_NAME, thumbnails=auditor.thumbnails)
        outputs["html"] = out_dir / HTML_NAME
    return AuditResult(
        report=report,
        outputs=outputs,
        analysed=auditor.analysed,
        reused=auditor.reused,
        failed=auditor.failed,
        seconds=total,
    )
