"""What the hostile-input tests share: running the real CLI (optionally as an unprivileged user) and a
private tmpfs mount. Each test builds its own hostile input; nothing here fakes a component."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PRIVSCAN = [sys.executable, "-m", "privscan"]


#: root reads and writes through any file mode; without these capabilities it obeys them like any user
#: (the interpreter lives under /root, 0700, so switching to `nobody` is not possible here)
DROP_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-dac_override,-dac_read_search"]


def cli(
    *args: str | os.PathLike[str],
    timeout: float = 300,
    unprivileged: bool = False,
    cwd: Path | None = None,
    columns: int = 200,
) -> subprocess.CompletedProcess[bytes]:
    """Run `privscan ARGS` as a user would (a fresh process); `unprivileged` makes file modes bind (see
    DROP_DAC), which is what a permission test needs when the tests run as root. A wide terminal keeps
    the summary table's cells on one line each."""
    prefix = DROP_DAC if unprivileged else []
    return subprocess.run(
        [*prefix, *PRIVSCAN, *[os.fspath(a) for a in args]],
        capture_output=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, "COLUMNS": str(columns)},
    )


def cli_here(*args: str | os.PathLike[str], columns: int = 200) -> subprocess.CompletedProcess[bytes]:
    """`privscan ARGS` through the same Typer app inside the test process, for a test's repeat runs.

    Why: a fresh `python -m privscan` spends ~2 s importing torch before it looks at a file, and several tests
    run the command three or four times. Each behaviour keeps its first run as a real process (`cli`); the
    repeats that check what the run wrote (a cached second pass, a dry run, an --overwrite) come here. Only for
    runs that are meant to succeed: errors would surface as exceptions, not main's one-line exit 2.
    """
    from typer.testing import CliRunner

    from privscan.cli.app import app

    argv = [os.fspath(a) for a in args]
    result = CliRunner().invoke(app, argv, env={"COLUMNS": str(columns)}, catch_exceptions=False)
    return subprocess.CompletedProcess(argv, result.exit_code, result.stdout_bytes, result.stderr_bytes)


def text(result: subprocess.CompletedProcess[bytes]) -> tuple[str, str]:
    return result.stdout.decode("utf-8", "replace"), result.stderr.decode("utf-8", "replace")


def report(result: subprocess.CompletedProcess[bytes]) -> dict:
    out, err = text(result)
    assert result.returncode == 0, err
    return json.loads(out)


def records_by_name(rep: dict) -> dict[str, dict]:
    return {Path(r["path"]).name: r for r in rep["images"]}


def copy_example(name: str, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(EXAMPLES / name, dst)
    return dst


def can_drop_privileges() -> bool:
    """True where a test can make file permissions bind: root with setpriv, or a plain user already."""
    if os.geteuid() != 0:
        return True
    if shutil.which("setpriv") is None:
        return False
    probe = subprocess.run([*DROP_DAC, "true"], capture_output=True)
    return probe.returncode == 0


def shared_tmp(prefix: str) -> Path:
    """A folder under /tmp that another user can enter (pytest's tmp_path is root-only, 0700)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)
    return path


@contextlib.contextmanager
def tmpfs(size: str, *, read_only: bool = False) -> Iterator[Path]:
    """A small tmpfs mounted for the test (so a full disk is real); skips when mounting is not allowed."""
    where = Path(tempfile.mkdtemp(prefix="privscan-tmpfs-", dir="/tmp"))
    options = f"size={size},mode=0755" + (",ro" if read_only else "")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True)
    if done.returncode != 0:
        where.rmdir()
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()})")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)
        with contextlib.suppress(OSError):
            where.rmdir()


def can_mount_tmpfs() -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    where = tempfile.mkdtemp(prefix="privscan-probe-", dir="/tmp")
    try:
        ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", where], capture_output=True)
        if ok.returncode == 0:
            subprocess.run(["umount", where], capture_output=True)
        return ok.returncode == 0
    finally:
        os.rmdir(where)
