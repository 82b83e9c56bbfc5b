"""Where each redacted copy goes: inputs -> output paths, before any pixel is read.

Without `--out` a copy goes to `redacted/` beside its input; with it, folders keep their layout under the
output folder. Nothing maps onto an input or onto another input's output, and earlier copies found while
walking a folder are not inputs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from privscan.io.discover import discover_all
from privscan.report.redaction import RedactedFile
from privscan.report.schema import ErrorModel

REDACTED_DIRNAME = "redacted"


@dataclass(frozen=True)
class Job:
    path: Path
    output: Path
    sidecar_dir: Path  # the folder whose sidecar lists this file


def failed_file(path: Path, output: Path | None, kind: str, message: str) -> RedactedFile:
    """The record of a file that gets no copy, with its one-line reason."""
    return RedactedFile(input=str(path), output=str(output) if output else None, status="error",
                        error=ErrorModel(kind=kind, message=message))


def plan_jobs(
    paths: Sequence[str | os.PathLike[str]], out_dir: Path | None, *, recursive: bool = True,
    include_hidden: bool = False,
) -> tuple[list[Job], list[RedactedFile]]:
    """Inputs -> (jobs, files refused before reading them)."""
    out_root = out_dir.expanduser().resolve() if out_dir else None
    jobs: list[Job] = []
    problems: list[RedactedFile] = []
    seen: set[Path] = set()
    targets: dict[Path, Path] = {}
    for raw in paths:
        root = Path(raw).expanduser()
        found = discover_all([root], recursive=recursive, include_hidden=include_hidden)
        problems.extend(failed_file(s.path, None, s.kind, s.reason) for s in found.skipped)  # never silent
        files = found.files
        walked = root.is_dir()
        for f in files:
            key = f.resolve()
            if key in seen:
                continue
            seen.add(key)
            if walked and _is_output(key, out_root):
                continue  # earlier copies are not inputs
            if out_root is None:
                output = f.parent / REDACTED_DIRNAME / f.name
                sidecar_dir = output.parent
            else:
                rel = f.relative_to(root) if walked else Path(f.name)
                output = out_root / rel
                sidecar_dir = out_root
            out_key = output.resolve()
            if out_key == key or (output.exists() and output.samefile(f)):
                problems.append(
                    failed_file(f, output, "usage", "the output would replace the original; pick another --out")
                )
                continue
            if out_key in targets:
                problems.append(
                    failed_file(f, output, "usage", f"{output} is already the output of {targets[out_key]}; use --out")
                )
                continue
            targets[out_key] = f
            jobs.append(Job(f, output, sidecar_dir))
    return jobs, problems


def _is_output(path: Path, out_root: Path | None) -> bool:
    if out_root is not None:
        return path.is_relative_to(out_root)
    return REDACTED_DIRNAME in path.parent.parts[-1:]


def existing_outputs(jobs: Iterable[Job]) -> list[Path]:
    return [j.output for j in jobs if j.output.exists()]
