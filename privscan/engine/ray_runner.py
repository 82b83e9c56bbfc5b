"""The audit on Ray Data: for platforms whose photos do not fit one machine's hours.

The driver (the machine running `privscan audit --ray ...`) discovers the files and asks the audit cache
first, exactly as a local run does; only files the cache cannot answer go to Ray. There they are read as
binary blocks (`ray.data.read_binary_files`), decoded and analysed by actors that each build one pipeline
(every model loaded once per actor, `map_batches` with an actor class, one GPU per actor when the cluster
has them). Records come back in discovery order (`preserve_order`) and the driver writes them: the same
JSON lines, the same cache entries under the same config key, so a re-run, local or on Ray, skips every
finished file.

Ray is an optional extra (`pip install 'privscan[ray]'`); nothing here is imported by a local run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from numpy.typing import NDArray

from privscan.engine.audit import is_video, video_record
from privscan.engine.cache import AuditCache, current_stat
from privscan.errors import UsageError
from privscan.io.decode import StatKey
from privscan.io.names import display_name
from privscan.report.schema import ErrorModel, ImageRecord

if TYPE_CHECKING:
    from privscan.engine.audit import Auditor
    from privscan.engine.options import AuditOptions

#: files per map_batches call (each actor analyses them one model batch at a time)
BATCH_FILES = 8


def _ray() -> Any:
    try:
        import ray
        import ray.data  # the data library: the part of the extra that a bare `ray` lacks
    except ImportError as e:
        raise UsageError(
            "--ray needs Ray Data, which is not installed", hint="pip install 'privscan[ray]'"
        ) from e
    return ray


def connect(address: str) -> bool:
    """Join the Ray cluster at `address` ('auto': the one this machine knows, else a new local one).

    Returns True when this call started Ray (the caller shuts it down again); an already initialised Ray
    (a test's `ray.init(...)`, a notebook) is used as it is.
    """
    ray = _ray()
    if ray.is_initialized():
        return False
    if address == "auto":
        ray.init(include_dashboard=False, log_to_driver=False)
    else:
        ray.init(address=address, log_to_driver=False)
    return True


class _Analyser:
    """A Ray actor: one loaded pipeline, then batches of file bytes in, record JSON lines out."""

    def __init__(self, options: AuditOptions, threads: int) -> None:
        import torch

        from privscan.engine.pipeline import Pipeline

        torch.set_num_threads(max(1, threads))
        self.options = options
        self.pipeline = Pipeline(options)
        self.profile = options.profile()

    def __call__(self, batch: dict[str, NDArray[Any]]) -> dict[str, list[Any]]:
        from privscan.engine.audit import decode_data, decoded_records

        decoded = [
            decode_data(Path(str(p)), bytes(b), self.options.max_pixels)
            for p, b in zip(batch["path"], batch["bytes"], strict=True)
        ]
        size = self.options.model_batch(self.pipeline.device_type)
        done = []
        for i in range(0, len(decoded), size):
            done.extend(decoded_records(self.pipeline, self.options, self.profile, decoded[i : i + size]))
        return {
            "path": [str(p) for p in batch["path"]],
            "sha256": [d.sha256 or "" for d in decoded],
            "record": [r.model_dump_json() for r, _ in done],
            "thumbnail": [t or b"" for _, t in done],
        }


def _cluster_plan(ray: Any, actors: int | None) -> tuple[int, float, float]:
    """(actors, CPUs per actor, GPUs per actor): one actor per GPU when there are GPUs; else one per CPU
    left after one for the read tasks."""
    resources = ray.cluster_resources()
    gpus = int(resources.get("GPU", 0))
    cpus = int(resources.get("CPU", 1))
    if gpus:
        n = actors or gpus
        return n, 1.0, 1.0
    n = actors or max(1, cpus - 1)
    return n, 1.0, 0.0


def _key(path: str) -> str:
    return os.path.normpath(os.path.abspath(path))


def run_on_ray(
    auditor: Auditor,
    files: list[Path],
    cache: AuditCache | None,
    address: str,
    *,
    actors: int | None = None,
) -> Iterator[tuple[ImageRecord, bytes | None]]:
    """(record, thumbnail) per file in discovery order; cached files from the cache, the rest from Ray."""
    hits: list[bool] = []
    todo: list[Path] = []
    stats: dict[Path, StatKey | None] = {}  # taken before Ray reads the bytes, as a local read does
    for path in files:
        hit = is_video(path) or _cached(auditor, cache, path) is not None
        hits.append(hit)
        if not hit:
            todo.append(path)
            stats[path] = current_stat(path)
    results = _remote(auditor, todo, address, actors) if todo else iter(())
    waiting: dict[str, tuple[str, str, bytes]] = {}  # Ray results that came before the one needed next
    for path, hit in zip(files, hits, strict=True):
        if hit:
            found: tuple[ImageRecord, bytes | None] | None = None
            if is_video(path):
                video = video_record(path, auditor.options.show_values)
                video.path = display_name(path)
                found = (video, None)
            found = found or _cached(auditor, cache, path)
            assert found is not None
            auditor.count(found[0])
            yield found
            continue
        key = _key(str(path))
        while key not in waiting:
            row = next(results, None)
            if row is None:
                break
            waiting[_key(row["path"])] = (row["sha256"], row["record"], row["thumbnail"])
        if key not in waiting:  # Ray could not read it (gone, no permission): said, not skipped
            record = ImageRecord(
                path=display_name(path), errors=[ErrorModel(kind="unreadable", message="not read by Ray")]
            )
            auditor.count(record)
            yield record, None
            continue
        sha, line, thumb = waiting.pop(key)
        record = ImageRecord.model_validate_json(line).model_copy(update={"path": display_name(path)})
        thumbnail = bytes(thumb) or None
        stat = stats.pop(path, None)
        if cache is not None and sha and stat is not None:
            cache.remember_file(path, sha, stat)
            if not record.errors or record.failed:  # as a local run: a failed detector is retried next run
                cache.put(sha, auditor.config_key, record.model_dump_json(), thumbnail)
        auditor.count(record)
        yield record, thumbnail


def _cached(auditor: Auditor, cache: AuditCache | None, path: Path) -> tuple[ImageRecord, bytes | None] | None:
    if cache is None:
        return None
    sha = cache.known_sha(path)
    hit = cache.get(sha, auditor.config_key) if sha else None
    if hit is None:
        return None
    record = ImageRecord.model_validate_json(hit[0]).model_copy(update={"path": display_name(path), "cached": True})
    return record, hit[1]


def _remote(auditor: Auditor, todo: list[Path], address: str, actors: int | None) -> Iterator[dict[str, Any]]:
    ray = _ray()
    started = connect(address)
    try:
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False
        n, cpus, gpus = _cluster_plan(ray, actors)
        dataset = ray.data.read_binary_files([str(p) for p in todo], include_paths=True, ignore_missing_paths=True)
        analysed = dataset.map_batches(
            _Analyser,
            fn_constructor_kwargs={"options": auditor.options, "threads": int(cpus)},
            batch_size=BATCH_FILES,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=n),
            num_cpus=cpus,
            num_gpus=gpus,
        )
        yield from analysed.iter_rows()
    finally:
        if started:
            ray.shutdown()
