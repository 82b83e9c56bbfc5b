"""Find the image files under the paths a user gives, in a deterministic order, and say what was left out.

Folders are walked with an explicit stack (a 1200-level tree is no recursion problem), each folder once
(a (device, inode) set breaks loops). Hidden files and folders (name starting with '.') are skipped unless
asked for; extensions match case-insensitively. A file named explicitly is always included, whatever its
extension, so a wrong or missing extension still gets decoded (or reported) rather than silently ignored.

A hostile folder must not lead the walk elsewhere: a symbolic link whose target lies outside the roots
the user gave (`parent -> ..`, `photo.jpg -> /dev/zero`, a link into someone else's home) is reported,
not followed, unless `follow_links=True`. Links that stay inside the roots are followed. What is never
silent: a folder that cannot be listed (permission denied), a broken link, a link not followed, a media
file privscan cannot analyse (RAW, video, ...). Those come back as `Skipped` entries for the report.
privscan's own output folders met during a walk (the audit's --out, redaction output folders holding a
redaction record) are left out: they are results, not inputs. A root is always walked, even if it is one.

Discovery does not decide whether a file is readable: FIFOs and devices named `*.jpg` are listed, and
reading (privscan.io.decode.read_file) refuses anything that is not a regular file, in one place.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from privscan.errors import UsageError

IMAGE_EXTENSIONS = frozenset(
    {
        ".jpg",
        ".jpeg",
        ".jpe",
        ".jfif",
        ".png",
        ".webp",
        ".bmp",
        ".tif",
        ".tiff",
        ".gif",
        ".heic",
        ".heif",
        ".avif",
        ".ppm",
        ".pgm",
        ".pbm",
        ".pnm",
    }
)

#: media that can hold private information but that privscan does not decode: reported, never silent
UNSUPPORTED_EXTENSIONS: dict[str, str] = {
    **dict.fromkeys(
        (
            ".dng",
            ".cr2",
            ".cr3",
            ".crw",
            ".nef",
            ".nrw",
            ".arw",
            ".srf",
            ".sr2",
            ".orf",
            ".rw2",
            ".raf",
            ".pef",
            ".srw",
            ".3fr",
            ".erf",
            ".kdc",
            ".mrw",
            ".x3f",
            ".iiq",
            ".raw",
            ".rwl",
        ),
        "RAW camera file",
    ),
    **dict.fromkeys((".mov", ".mp4", ".m4v", ".3gp", ".avi", ".mkv", ".webm", ".mts", ".m2ts"), "video"),
    **dict.fromkeys((".psd", ".psb", ".xcf", ".svg", ".jxl", ".jp2", ".j2k", ".ico", ".icns"), "image format"),
}

#: the file `privscan audit` keeps in its --out folder while it runs (see privscan.io.outdir)
OUTPUT_MARKER = ".privscan-lock"
REDACT_SIDECAR_PREFIX = "privscan-redact-"


@dataclass(frozen=True)
class Skipped:
    """A path met during discovery that will not be analysed, and why (one line for the report)."""

    path: Path
    kind: str  # unreadable | unsupported | not-followed
    reason: str


@dataclass
class Discovery:
    files: list[Path] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    ignored: int = 0  # other files (not images by their extension) that were not looked at


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def _inside(target: Path, roots: list[Path]) -> bool:
    return any(target == r or target.is_relative_to(r) for r in roots)


def _is_own_output(folder: Path) -> bool:
    """A folder privscan wrote: an audit --out (its lock file) or a redact --out / redacted/ folder (the
    redaction record redact writes at its top)."""
    try:
        if (folder / OUTPUT_MARKER).exists():
            return True
        return any(n.startswith(REDACT_SIDECAR_PREFIX) and n.endswith(".json") for n in os.listdir(folder))
    except OSError:
        return False


def discover(
    paths: Iterable[str | os.PathLike[str]],
    *,
    recursive: bool = True,
    include_hidden: bool = False,
    extensions: frozenset[str] = IMAGE_EXTENSIONS,
) -> list[Path]:
    """Image files under `paths`, de-duplicated, sorted per given path by their relative path."""
    return discover_all(paths, recursive=recursive, include_hidden=include_hidden, extensions=extensions).files


def discover_all(
    paths: Iterable[str | os.PathLike[str]],
    *,
    recursive: bool = True,
    include_hidden: bool = False,
    extensions: frozenset[str] = IMAGE_EXTENSIONS,
    follow_links: bool = False,
    exclude: Iterable[str | os.PathLike[str]] = (),
    link_hint: str = "",
) -> Discovery:
    """Image files under `paths` plus what was skipped; `exclude` folders (e.g. the --out) are not walked.
    `link_hint` ends the line of a link not followed (how the caller's user allows it)."""
    result = Discovery()
    seen_files: set[Path] = set()
    given = [Path(p).expanduser() for p in paths]
    for root in given:
        if not root.exists() and not root.is_symlink():
            raise UsageError(f"no such file or folder: {root}")
    roots = [r.resolve() for r in given]
    excluded: set[tuple[int, int]] = set()
    for e in exclude:
        try:
            st = os.stat(e)
        except OSError:
            continue
        excluded.add((st.st_dev, st.st_ino))

    def add(p: Path) -> None:
        key = p.resolve()
        if key not in seen_files:
            seen_files.add(key)
            result.files.append(p)

    for root in given:
        if root.is_file() or (root.is_symlink() and not root.exists()):
            add(root)  # explicit files always count; a dangling link reports as unreadable when read
            continue
        if not root.is_dir():
            add(root)  # a FIFO or device named on the command line: reading refuses it with a clear line
            continue
        found: list[Path] = []
        _walk(root, roots, result, found, excluded, recursive, include_hidden, extensions, follow_links, link_hint)
        for p in sorted(found, key=lambda f: f.relative_to(root).as_posix()):
            add(p)
    result.skipped.sort(key=lambda s: str(s.path))
    return result


def _walk(
    root: Path,
    roots: list[Path],
    result: Discovery,
    found: list[Path],
    excluded: set[tuple[int, int]],
    recursive: bool,
    include_hidden: bool,
    extensions: frozenset[str],
    follow_links: bool,
    link_hint: str,
) -> None:
    """Iterative walk of one root (an explicit stack: deep trees never hit Python's recursion limit)."""
    visited: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            st = os.stat(folder)
            key = (st.st_dev, st.st_ino)
            if key in visited:  # a loop, or a second link to a folder already walked
                continue
            visited.add(key)
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except PermissionError:
            result.skipped.append(Skipped(folder, "unreadable", "folder cannot be read (permission denied)"))
            continue
        except OSError as e:
            result.skipped.append(Skipped(folder, "unreadable", f"folder cannot be read ({e.strerror or e})"))
            continue
        subfolders: list[Path] = []
        for entry in entries:
            if not include_hidden and _is_hidden(entry.name):
                continue
            path = Path(entry.path)
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir(follow_symlinks=True)
            except OSError:
                is_link, is_dir = False, False
            if is_link:
                try:
                    target = path.resolve(strict=True)
                except (OSError, RuntimeError):  # dangling, or a loop of links
                    if path.suffix.lower() in extensions:
                        result.skipped.append(Skipped(path, "unreadable", "broken symbolic link"))
                    continue
                if not follow_links and not _inside(target, roots):
                    if is_dir or path.suffix.lower() in extensions or path.suffix.lower() in UNSUPPORTED_EXTENSIONS:
                        what = "a folder" if is_dir else "a file"
                        result.skipped.append(
                            Skipped(
                                path,
                                "not-followed",
                                f"symbolic link to {what} outside the given folders ({target}); not followed"
                                + link_hint,
                            )
                        )
                    continue
            if is_dir:
                if not recursive:
                    continue
                try:
                    dst = os.stat(path)
                except OSError as e:
                    result.skipped.append(Skipped(path, "unreadable", f"folder cannot be read ({e.strerror or e})"))
                    continue
                if (dst.st_dev, dst.st_ino) in excluded or _is_own_output(path):
                    continue  # privscan's own output, not an input
                subfolders.append(path)
                continue
            suffix = path.suffix.lower()
            if suffix in extensions:
                found.append(path)
            elif suffix in UNSUPPORTED_EXTENSIONS:
                what = UNSUPPORTED_EXTENSIONS[suffix]
                result.skipped.append(Skipped(path, "unsupported", f"not analysed: {what} ({suffix}) is not supported"))
            elif _is_regular_or_unknown(entry):
                result.ignored += 1
        stack.extend(reversed(subfolders))


def _is_regular_or_unknown(entry: os.DirEntry[str]) -> bool:
    try:
        return stat.S_ISREG(entry.stat().st_mode)
    except OSError:
        return True
