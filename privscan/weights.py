"""The weights manifest: every set of weights privscan loads is listed, located and sha256-checked here.

weights/manifest.json (top level of the repository, or $PRIVSCAN_WEIGHTS_DIR) lists each entry's file,
sha256, source, licence, what it was trained on and its metrics. Weights live either inside a registry
package (`package` names it; `file` is relative to the package folder) or as files in the weights folder.
Every load goes through `verified_path`, which refuses a file whose hash differs from the manifest and,
when a file is missing, says exactly what to run to get it. Nothing here touches the network.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from privscan.errors import WeightsError
from privscan.io.atomic import atomic_write_text

MANIFEST_NAME = "manifest.json"
SETUP_HINT = "run `make setup` in the privscan checkout"


@dataclass
class WeightEntry:
    name: str  # key used in code, e.g. "mobilenet_v2_imagenet"
    kind: str  # backbone | drag | privobfnet | ocr | face | nudity | ...
    file: str  # relative to the package folder (package entries) or to the weights folder
    sha256: str | None  # None only for entries whose file is not shipped (user-given or downloaded)
    source: str  # where the bytes come from (URL / package)
    licence: str
    trained_on: str
    metrics: dict[str, Any] = field(default_factory=dict)
    package: str | None = None  # import name of the registry package that ships the file
    install: str | None = None  # exact command that makes the file appear
    notes: str = ""
    config: dict[str, Any] = field(default_factory=dict)  # architecture description for checkpoints


def repo_weights_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "weights"


def weights_dir() -> Path:
    """$PRIVSCAN_WEIGHTS_DIR, else the checkout's weights/ folder."""
    env = os.environ.get("PRIVSCAN_WEIGHTS_DIR")
    return Path(env).expanduser() if env else repo_weights_dir()


def _manifest_files() -> list[Path]:
    """The checkout's manifest (package weights) and, if different, the user's weights folder manifest."""
    files = [repo_weights_dir() / MANIFEST_NAME]
    user = weights_dir() / MANIFEST_NAME
    if user.resolve() != files[0].resolve():
        files.append(user)
    return [f for f in files if f.exists()]


def load_manifest() -> dict[str, WeightEntry]:
    entries: dict[str, WeightEntry] = {}
    for path in _manifest_files():
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise WeightsError(f"cannot read weights manifest {path}: {e}") from e
        for item in raw.get("weights", []):
            entry = WeightEntry(**item)
            entries[entry.name] = entry
    return entries


def entry(name: str) -> WeightEntry:
    entries = load_manifest()
    if name not in entries:
        raise WeightsError(f"no weights named {name!r} in the manifest", hint="see `privscan weights`")
    return entries[name]


def package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def locate(item: WeightEntry) -> Path | None:
    """Where the entry's file is on this machine, or None if it is not there."""
    if item.package:
        base = package_dir(item.package)
        path = base / item.file if base else None
    else:
        path = weights_dir() / item.file
    return path if path is not None and path.is_file() else None


_HASH_CACHE: dict[tuple[str, int, int], str] = {}


def sha256_file(path: Path) -> str:
    """sha256 of a file, memoised per (path, size, mtime) so repeated loads in one process hash once."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _HASH_CACHE:
        digest = hashlib.sha256()
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        _HASH_CACHE[key] = digest.hexdigest()
    return _HASH_CACHE[key]


def missing_hint(item: WeightEntry) -> str:
    return f"run `{item.install}`" if item.install else SETUP_HINT


def verified_path(name: str) -> Path:
    """Path of a manifest entry's file after checking its sha256; a clear WeightsError otherwise."""
    item = entry(name)
    path = locate(item)
    if path is None:
        where = f"package {item.package!r}" if item.package else str(weights_dir())
        raise WeightsError(f"weights {name!r} ({item.file}) not found in {where}", hint=missing_hint(item))
    if item.sha256 is None:
        raise WeightsError(f"weights {name!r} have no sha256 in the manifest; refusing to load them")
    actual = sha256_file(path)
    if actual != item.sha256:
        raise WeightsError(
            f"weights {name!r} at {path} have sha256 {actual[:12]}…, the manifest says {item.sha256[:12]}…",
            hint="the file is damaged or replaced; reinstall it with " + missing_hint(item),
        )
    return path


def status() -> list[tuple[WeightEntry, str, Path | None]]:
    """(entry, state, path) for every manifest entry; state is ok | missing | sha256-mismatch | unchecked."""
    rows = []
    for item in load_manifest().values():
        path = locate(item)
        if path is None:
            state = "missing"
        elif item.sha256 is None:
            state = "unchecked"
        else:
            state = "ok" if sha256_file(path) == item.sha256 else "sha256-mismatch"
        rows.append((item, state, path))
    return rows


def register(item: WeightEntry, directory: Path | None = None) -> Path:
    """Add or replace an entry in a weights folder's manifest (written atomically); returns the manifest."""
    directory = directory or weights_dir()
    manifest = directory / MANIFEST_NAME
    raw: dict[str, Any] = {"schema": 1, "weights": []}
    if manifest.exists():
        raw = json.loads(manifest.read_text(encoding="utf-8"))
    raw["weights"] = [w for w in raw.get("weights", []) if w.get("name") != item.name] + [asdict(item)]
    atomic_write_text(manifest, json.dumps(raw, indent=2, ensure_ascii=False) + "\n")
    return manifest
