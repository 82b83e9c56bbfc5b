"""`audit`: discover files, decode in parallel, analyse in batches, stream records, write the reports.

Files are read and decoded in worker threads (Pillow releases the GIL) a few images ahead of the analysis.
The detectors run in the pipeline's lanes (several images side by side on a big enough run, see
privscan.engine.lanes; else one lane); the calling thread checks the cache, runs the classifiers in batches
and builds the records. Records come out in discovery order (deterministic), each one streamed
to records.jsonl and committed to the cache as it finishes, so an interrupted audit loses nothing and a
re-run decodes only what is new or changed.

Memory does not grow with the library: a record goes to records.jsonl, its thumbnail to the cache, and
only the summary counts and the report page's bounded rows (privscan.report.html.HtmlReportBuilder) stay
in memory; report.json is copied from records.jsonl line by line. The models are loaded on the first
image that needs them: when the cache answers every file (the cache key comes from the detector specs
and the weights manifest, privscan.engine.run_key), no model is loaded at all.
"""

from __future__ import annotations

import io
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any

from numpy.typing import NDArray
from PIL import Image

from privscan import __version__
from privscan.detectors.scale import downscaled, prepare
from privscan.engine import run_key
from privscan.engine.cache import AuditCache
from privscan.engine.fusion import build_record, error_record
from privscan.engine.lanes import auto_lanes
from privscan.engine.options import AuditOptions
from privscan.engine.pipeline import Analysis, Pipeline
from privscan.errors import ImageError
from privscan.io.decode import DecodedImage, StatKey, decode_bytes, max_file_bytes, read_file, sha256_bytes
from privscan.io.discover import IMAGE_EXTENSIONS, Discovery, discover_all
from privscan.io.names import display_name
from privscan.io.outdir import OutputFolder
from privscan.io.raw import RAW_EXTENSIONS
from privscan.io.video import VIDEO_EXTENSIONS, VideoError, read_video_metadata
from privscan.report.masking import masked_fields
from privscan.report.schema import ErrorModel, ImageRecord, MetadataFinding, Report, RunHeader, Summary
from privscan.report.thumbnails import redact_thumbnail

RECORDS_NAME = "records.jsonl"
JSON_NAME = "report.json"
HTML_NAME = "report.html"
CACHE_NAME = "cache.sqlite"


@dataclass
class AuditResult:
    """What a run produced. The records themselves are on disk (records.jsonl): `records()` streams them;
    `top` holds the riskiest few (the report page's detailed rows, in report order)."""

    header: RunHeader
    summary: Summary
    top: list[ImageRecord] = field(default_factory=list)
    outputs: dict[str, Path] = field(default_factory=dict)
    analysed: int = 0
    reused: int = 0
    failed: int = 0
    seconds: float = 0.0
    models_loaded: bool = True
    warnings: list[str] = field(default_factory=list)  # one line each: damaged cache, stale parts removed, ...

    def records(self) -> Iterator[ImageRecord]:
        """Every record of the run, in discovery order, read from records.jsonl as it goes."""
        from privscan.report.jsonl import iter_records

        return iter_records(self.outputs["jsonl"])

    @property
    def report(self) -> Report:
        """The whole report in memory (every record): for small runs and tests; big ones use `records()`."""
        return Report(header=self.header, summary=self.summary, images=list(self.records()))


@dataclass
class _Decoded:
    """What a worker thread hands back for one file."""

    path: Path
    sha256: str | None
    image: DecodedImage | None
    error: ImageError | None
    stat_before: StatKey | None = None  # the stat taken before the hashed bytes were read


def _read_and_decode(path: Path, max_pixels: int, sides: tuple[int, ...] = ()) -> _Decoded:
    """Runs in a decoding thread: read, hash, decode, and make the downscaled copies of `sides` that the
    detectors and the thumbnail will read (`scale.prepare`), so the analysis thread does not resize."""
    try:
        file = read_file(path, max_bytes=max_file_bytes(max_pixels))
    except ImageError as e:
        return _Decoded(path, None, None, e)
    decoded = decode_data(path, file.data, max_pixels, file.stat_key)
    if decoded.image is not None:
        prepare(decoded.image.rgb, sides)
    return decoded


def decode_data(
    path: Path, data: bytes, max_pixels: int, stat_key: tuple[int, int, int, int] | None = None
) -> _Decoded:
    """Hash and decode a file's bytes (read here, or handed over as a Ray binary block); the bytes are
    hashed once (a decoded image carries its hash)."""
    try:
        image = decode_bytes(path, data, max_pixels=max_pixels)
    except ImageError as e:
        return _Decoded(path, sha256_bytes(data), None, e, stat_key)
    return _Decoded(path, image.sha256, image, None, stat_key)


def finish_records(
    pipeline: Pipeline, options: AuditOptions, profile: NDArray[Any], images: list[DecodedImage]
) -> list[tuple[ImageRecord, bytes | None]]:
    """Analyse decoded images and turn each into its record and report thumbnail (local and Ray runs alike)."""
    return [record_of(analysis, options, profile) for analysis in pipeline.analyze_batch(images)]


def record_of(
    analysis: Analysis, options: AuditOptions, profile: NDArray[Any]
) -> tuple[ImageRecord, bytes | None]:
    """An analysed image's record and report thumbnail."""
    record = build_record(
        analysis,
        profile=profile,
        pooling=options.pooling,
        show_values=options.show_values,
        private_threshold=options.private_threshold,
    )
    thumb = thumbnail_jpeg(analysis.image, options.thumbnail_side)
    # the preview kept in the cache and the report: detected values painted over unless --show-values
    return record, thumb if options.show_values else redact_thumbnail(thumb, record)


def decoded_records(
    pipeline: Pipeline, options: AuditOptions, profile: NDArray[Any], decoded: list[_Decoded]
) -> list[tuple[ImageRecord, bytes | None]]:
    """Records (and thumbnails) of decoded files, in order: error records for those that did not decode."""
    images = [d.image for d in decoded if d.image is not None]
    finished = iter(finish_records(pipeline, options, profile, images)) if images else iter(())
    out: list[tuple[ImageRecord, bytes | None]] = []
    for d in decoded:
        if d.image is not None:
            out.append(next(finished))
        else:
            assert d.error is not None
            record = error_record(d.error)
            record.sha256 = d.sha256
            out.append((record, None))
    return out


def _done(analysis: Analysis) -> Future[Analysis]:
    """A finished future (the one-lane path analyses in the calling thread, when the slot is dispatched)."""
    future: Future[Analysis] = Future()
    future.set_result(analysis)
    return future


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_EXTENSIONS


def video_record(path: Path, show_values: bool) -> ImageRecord:
    """A video's record: its QuickTime metadata (GPS, creation time, device) and 'not analysed: video'."""
    try:
        size = path.stat().st_size
        meta = read_video_metadata(path)
    except OSError as e:
        return ImageRecord(path=str(path), errors=[ErrorModel(kind="unreadable", message=f"cannot read: {e}")])
    except VideoError as e:
        return ImageRecord(path=str(path), size_bytes=size, errors=[ErrorModel(kind="corrupt", message=f"video: {e}")])
    found: list[tuple[str, str | None, str, str]] = []
    if meta.gps is not None:
        value = f"{meta.gps[0]:.6f}, {meta.gps[1]:.6f}"
        found.append(("gps_position", "a74_address_current_complete", meta.tags["gps"], value))
    if meta.creation_time:
        found.append(("capture_time", "a82_date_time", meta.tags["creation_time"], meta.creation_time))
    for kind, fact in (("camera_make", "make"), ("camera_model", "model")):
        value = getattr(meta, fact)
        if value:
            found.append((kind, None, meta.tags[fact], value))
    metadata = [
        MetadataFinding(kind=kind, attribute=attr, tag=tag, **masked_fields(kind, value, show_values=show_values))
        for kind, attr, tag, value in found
    ]
    length = f", {meta.duration_s:g} s" if meta.duration_s is not None else ""
    note = f"video ({meta.format}{length}): frames not analysed, QuickTime metadata only"
    return ImageRecord(path=str(path), size_bytes=size, format=meta.format, metadata=metadata,
                       errors=[ErrorModel(kind="not-analysed", message=note)])


#: what an audit looks for in folders: images, camera RAW files (their embedded preview) and videos
#: (reported with their metadata)
AUDIT_EXTENSIONS = IMAGE_EXTENSIONS | RAW_EXTENSIONS | VIDEO_EXTENSIONS


def thumbnail_jpeg(image: DecodedImage, side: int) -> bytes:
    """A small JPEG for the HTML report (the report layer inlines it as a data URI).

    Made from a copy at 4x the thumbnail's side, which the detectors have usually made already (the OCR
    reads the photo at 1280 px): shrinking a 12 MP photo itself cost 0.02 s an image, 3% of an audit."""
    small, _ = downscaled(image.rgb, 4 * side)
    pil = Image.fromarray(small)
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
    analysis: Future[Analysis] | None = None  # its detectors, running in a lane
    sha256: str | None = None


class Auditor:
    """One audit run's state: pipeline, cache and config key. `run` yields records in discovery order.

    The pipeline (every model) is built on first use, so a run the cache answers completely loads nothing.
    """

    def __init__(self, options: AuditOptions, *, pipeline: Pipeline | None = None) -> None:
        self.options = options
        self._pipeline = pipeline
        self._owns_pipeline = pipeline is None
        planned = run_key.config_key(options)
        self.config_key = planned if planned is not None else self.pipeline.config_key()
        self.profile = options.profile()
        #: the copies each decoding thread makes: the detectors' (their specs' `sides`) and the thumbnail's
        self.copy_sides = (*run_key.copy_sides(options), 4 * options.thumbnail_side)
        self.analysed = self.reused = self.failed = 0
        self._images = 0  # files in the run: the upper bound of images to analyse, which sizes the lanes

    @property
    def pipeline(self) -> Pipeline:
        if self._pipeline is None:
            self._pipeline = Pipeline(self.options, lanes=self.options.lanes or auto_lanes(self._images))
        return self._pipeline

    def close(self) -> None:
        """Stop the lanes of a pipeline this auditor built (a caller's pipeline is the caller's to close)."""
        if self._owns_pipeline and self._pipeline is not None:
            self._pipeline.close()

    @property
    def models_loaded(self) -> bool:
        return self._pipeline is not None

    def header(self, inputs: Iterable[str]) -> RunHeader:
        """The run header; call it after the run so it names the models as they are (loaded or not needed)."""
        options = self.options.for_header()
        if self._pipeline is not None:
            device, models = self._pipeline.device_name, self._pipeline.models_info()
            options["lanes"] = self._pipeline.lanes  # what the run used (the option may have said "auto")
        else:
            device, models = run_key.device_name(self.options), run_key.planned_models(self.options)
        return RunHeader(
            privscan_version=__version__,
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            device=device,
            show_values=self.options.show_values,
            inputs=[display_name(p) for p in inputs],
            models=models,
            options=options,
        )

    def run(self, files: list[Path], cache: AuditCache | None) -> Iterator[ImageRecord]:
        for record, _ in self.run_with_thumbnails(files, cache):
            yield record

    def run_with_thumbnails(
        self, files: list[Path], cache: AuditCache | None
    ) -> Iterator[tuple[ImageRecord, bytes | None]]:
        """(record, report thumbnail) per file, in discovery order.

        The window holds the next files: decoding ahead in the pool, then (in order) checked against the
        cache and handed to a lane, at most `in_flight` at a time; the head's finished analyses are
        completed in model batches and emitted."""
        self._images = len(files)
        window: deque[_Slot] = deque()
        batch_size = self.options.model_batch(run_key.device_type(self.options))
        lanes = self._pipeline.lanes if self._pipeline is not None else self.options.lanes or auto_lanes(len(files))
        # lanes: two images each, so a lane never waits for this thread; one lane analyses here, a batch at a time
        in_flight = max(batch_size, 2 * lanes) if lanes > 1 else batch_size
        ahead = in_flight + 2 * max(1, self.options.workers)
        with ThreadPoolExecutor(max_workers=max(1, self.options.workers), thread_name_prefix="decode") as pool:
            pending = iter(files)
            exhausted = False
            try:
                while True:
                    while not exhausted and len(window) < ahead:
                        path = next(pending, None)
                        if path is None:
                            exhausted = True
                            break
                        window.append(self._slot(path, cache, pool))
                    if not window:
                        return
                    self._dispatch(window, cache, in_flight)
                    if window[0].record is not None:
                        yield self._emit(window.popleft())
                        continue
                    batch: list[_Slot] = []
                    while window and window[0].analysis is not None and len(batch) < batch_size:
                        batch.append(window.popleft())
                    self._finish(batch, cache)
                    for slot in batch:
                        yield self._emit(slot)
            finally:  # an interrupted run does not leave lanes analysing images nobody will read
                for slot in window:
                    if slot.analysis is not None:
                        slot.analysis.cancel()

    def _slot(self, path: Path, cache: AuditCache | None, pool: ThreadPoolExecutor) -> _Slot:
        if is_video(path):  # metadata only, read with a few seeks: no cache needed
            record = video_record(path, self.options.show_values)
            record.path = display_name(path)
            return _Slot(path, record=record)
        if cache is not None:
            sha = cache.known_sha(path)
            hit = cache.get(sha, self.config_key) if sha else None
            if hit is not None:
                return self._from_cache(path, hit)
        return _Slot(path, future=pool.submit(_read_and_decode, path, self.options.max_pixels, self.copy_sides))

    def _from_cache(self, path: Path, hit: tuple[str, bytes | None]) -> _Slot:
        record = ImageRecord.model_validate_json(hit[0]).model_copy(update={"path": display_name(path), "cached": True})
        return _Slot(path, record=record, thumbnail=hit[1])

    def _dispatch(self, window: deque[_Slot], cache: AuditCache | None, in_flight: int) -> None:
        """In window order, settle decoded files (cache hit by content, decoding error) or hand them to a
        lane, until `in_flight` analyses are running."""
        running = sum(1 for slot in window if slot.analysis is not None)
        for slot in window:
            if running >= in_flight:
                return
            if slot.record is not None or slot.analysis is not None:
                continue
            assert slot.future is not None
            decoded = slot.future.result()
            slot.future = None  # the decoded pixels now belong to the analysis alone
            if cache is not None and decoded.sha256 is not None and decoded.stat_before is not None:
                cache.remember_file(slot.path, decoded.sha256, decoded.stat_before)
                hit = cache.get(decoded.sha256, self.config_key)
                if hit is not None:  # same content seen under another name, or touched but unchanged
                    done = self._from_cache(slot.path, hit)
                    slot.record, slot.thumbnail = done.record, done.thumbnail
                    continue
            if decoded.error is not None:
                slot.record = error_record(decoded.error)
                slot.record.path = display_name(slot.path)
                slot.record.sha256 = decoded.sha256
                self._store(cache, decoded.sha256, slot.record, None)
                continue
            assert decoded.image is not None
            slot.sha256 = decoded.image.sha256
            pipeline = self.pipeline
            slot.analysis = (
                pipeline.detect_async(decoded.image) if pipeline.lanes > 1 else _done(pipeline.detect(decoded.image))
            )
            running += 1

    def _finish(self, batch: list[_Slot], cache: AuditCache | None) -> None:
        """The batch's classifiers, then each slot's record and thumbnail (stored in the cache)."""
        analyses = self.pipeline.finish([slot.analysis.result() for slot in batch if slot.analysis is not None])
        for slot, analysis in zip(batch, analyses, strict=True):
            record, thumbnail = record_of(analysis, self.options, self.profile)
            record.path = display_name(slot.path)
            slot.record, slot.thumbnail, slot.analysis = record, thumbnail, None
            if not record.errors:  # a detector that failed is retried next run, never cached as done
                self._store(cache, slot.sha256, record, thumbnail)

    def _store(self, cache: AuditCache | None, sha: str | None, record: ImageRecord, thumb: bytes | None) -> None:
        if cache is not None and sha is not None:
            cache.put(sha, self.config_key, record.model_dump_json(), thumb)

    def emit(self, records: Iterable[ImageRecord]) -> Iterator[tuple[ImageRecord, bytes | None]]:
        """Records made outside the pipeline (paths discovery left out), counted like the others."""
        for record in records:
            yield self._emit(_Slot(Path(record.path), record=record))

    def _emit(self, slot: _Slot) -> tuple[ImageRecord, bytes | None]:
        assert slot.record is not None
        self.count(slot.record)
        return slot.record, slot.thumbnail

    def count(self, record: ImageRecord) -> None:
        """Count a record as analysed, reused or failed (the Ray runner's records too)."""
        if record.cached:
            self.reused += 1
        elif record.failed:
            self.failed += 1
        else:
            self.analysed += 1


def run_audit(
    paths: list[str],
    options: AuditOptions,
    out_dir: Path,
    *,
    formats: tuple[str, ...] = ("json", "html"),
    on_start: Callable[[int], None] | None = None,
    on_record: Callable[[ImageRecord], None] | None = None,
    pipeline: Pipeline | None = None,
    ray_address: str | None = None,
    ray_actors: int | None = None,
) -> AuditResult:
    """Audit `paths` into `out_dir` (records.jsonl always; report.json / report.html per `formats`).

    `pipeline` lets a caller that audits repeatedly (tests, a long-lived service) load the models once.
    The output folder is held (privscan.io.outdir) for the whole run: a second audit on it is refused.
    `ray_address` ("auto" or a cluster address) analyses the files on Ray Data instead of here
    (privscan.engine.ray_runner); records, cache keys and reports are the same. `ray_actors`: analysing
    actors (default: one per GPU, else one per CPU of the cluster less one).
    """
    with OutputFolder(out_dir, part_names=(JSON_NAME, HTML_NAME)) as folder:
        start = time.perf_counter()
        found = _discover(paths, options, out_dir)
        result = _run_audit_locked(
            paths,
            found,
            options,
            out_dir,
            formats=formats,
            on_start=on_start,
            on_record=on_record,
            pipeline=pipeline,
            ray=(ray_address, ray_actors),
        )
        result.seconds = time.perf_counter() - start
        result.warnings[:0] = [f"removed {p.name}, left by an interrupted run" for p in folder.removed_parts]
        return result


def _discover(paths: list[str], options: AuditOptions, out_dir: Path) -> Discovery:
    """The files to audit (never privscan's own --out) and the paths left out, each with its reason."""
    return discover_all(
        paths,
        recursive=options.recursive,
        include_hidden=options.include_hidden,
        extensions=AUDIT_EXTENSIONS,
        follow_links=options.follow_links,
        exclude=[out_dir],
        link_hint=" (--follow-links to allow)",
    )


def _skipped_records(found: Discovery) -> list[ImageRecord]:
    return [error_record(ImageError(display_name(s.path), s.kind, s.reason)) for s in found.skipped]


def _run_audit_locked(
    paths: list[str],
    found: Discovery,
    options: AuditOptions,
    out_dir: Path,
    *,
    formats: tuple[str, ...],
    on_start: Callable[[int], None] | None,
    on_record: Callable[[ImageRecord], None] | None,
    pipeline: Pipeline | None,
    ray: tuple[str | None, int | None],
) -> AuditResult:
    from privscan.report.html import HtmlReportBuilder
    from privscan.report.jsonl import RecordWriter, write_report_json_stream

    start = time.perf_counter()
    files = found.files
    skipped = _skipped_records(found)
    auditor = Auditor(options, pipeline=pipeline)
    setup_seconds = time.perf_counter() - start
    if on_start is not None:
        on_start(len(files) + len(skipped))
    page = HtmlReportBuilder(show_values=options.show_values)
    keep_thumbnails = "html" in formats
    cache = AuditCache(out_dir / CACHE_NAME) if options.use_cache else None
    ray_address, ray_actors = ray
    try:
        stream: Iterator[tuple[ImageRecord, bytes | None]]
        if ray_address is not None:
            from privscan.engine.ray_runner import run_on_ray

            stream = run_on_ray(auditor, files, cache, ray_address, actors=ray_actors)
        else:
            stream = auditor.run_with_thumbnails(files, cache)
        with RecordWriter(out_dir / RECORDS_NAME) as writer:
            for record, thumbnail in chain(stream, auditor.emit(skipped)):
                writer.write(record)
                page.add(record, thumbnail if keep_thumbnails else None)
                if on_record is not None:
                    on_record(record)
    finally:
        auditor.close()
        if cache is not None:
            cache.close()
    header = auditor.header(paths)
    total = time.perf_counter() - start
    header.started_at = datetime.fromtimestamp(time.time() - total, UTC).isoformat(timespec="seconds")
    header.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
    summary = page.summary()
    header.timings = {
        "total_s": round(total, 3),
        "setup_s": round(setup_seconds, 3),
        "images_per_s": round(summary.images / max(total - setup_seconds, 1e-9), 3),
    }
    outputs = {"jsonl": out_dir / RECORDS_NAME}
    if "json" in formats:
        write_report_json_stream(header, summary, out_dir / RECORDS_NAME, out_dir / JSON_NAME)
        outputs["json"] = out_dir / JSON_NAME
    if "html" in formats:
        page.write(out_dir / HTML_NAME, header, summary)
        outputs["html"] = out_dir / HTML_NAME
    return AuditResult(
        header=header,
        summary=summary,
        top=page.top_records(),
        outputs=outputs,
        analysed=auditor.analysed,
        reused=auditor.reused,
        failed=auditor.failed,
        seconds=total,
        models_loaded=auditor.models_loaded,
        warnings=(cache.warnings if cache is not None else []) + _ignored_note(found),
    )


def _ignored_note(found: Discovery) -> list[str]:
    if not found.ignored:
        return []
    return [f"{found.ignored} other file(s) are not images by their extension and were not looked at"]
