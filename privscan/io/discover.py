"""Find the image files under the paths a user gives, in a deterministic order.

Folders are walked recursively (symlinked folders followed once: a (device, inode) set breaks loops);
hidden files and folders (name starting with '.') are skipped unless asked for; extensions match
case-insensitively. A file named explicitly is always included, whatever its extension, so a wrong or
missing extension still gets decoded (or reported) rather than silently ignored.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
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


def _is_hidden(name: str) -> bool:
    return name.startswith(".")


def discover(
    paths: Iterable[str | os.PathLike[str]],
    *,
    recursive: bool = True,
    include_hidden: bool = False,
    extensions: frozenset[str] = IMAGE_EXTENSIONS,
) -> list[Path]:
    """Image files under `paths`, de-duplicated, sorted per given path by their relative path."""
    out: list[Path] = []
    seen_files: set[Path] = set()

    def add(p: Path) -> None:
        key = p.resolve()
        if key not in seen_files:
            seen_files.add(key)
            out.append(p)

    for raw in paths:
        root = Path(raw).expanduser()
        if not root.exists() and not root.is_symlink():
            raise UsageError(f"no such file or folder: {root}")
        if root.is_file() or (root.is_symlink() and not root.exists()):
            add(root)  # explicit files always count; a dangling link reports as unreadable later
            continue
        found: list[Path] = []
        visited_dirs: set[tuple[int, int]] = set()
        for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
            st = os.stat(dirpath)
            key = (st.st_dev, st.st_ino)
            if key in visited_dirs:  # a symlink loop or a second link to a folder already walked
                dirnames[:] = []
                continue
            visited_dirs.add(key)
            dirnames[:] = sorted(d for d in dirnames if include_hidden or not _is_hidden(d)) if recursive else []
            for name in filenames:
                if not include_hidden and _is_hidden(name):
                    continue
                if Path(name).suffix.lower() in extensions:
                    found.append(Path(dirpath) / name)
        for p in sorted(found, key=lambda f: f.relative_to(root).as_posix()):
            add(p)
    return out
