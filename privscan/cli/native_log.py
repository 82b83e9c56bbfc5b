"""Keep the terminal clean of native libraries' log noise (mediapipe / TFLite / absl write to fd 2).

Those C++ logs bypass Python, so they cannot be silenced with `logging`; before absl is initialised they
ignore GLOG_minloglevel too. The CLI therefore moves file descriptor 2 onto a pipe whose reader drops
info/warning lines from native code and forwards everything else (errors included) to the real stderr,
while Python's own sys.stderr (rich progress bars, our error lines) writes to the real stderr directly, so
terminal detection and live progress keep working. Only the CLI installs this; the library never does.
"""

from __future__ import annotations

import io
import os
import re
import sys
import threading

_NOISE = re.compile(
    rb"^(?:[IW]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\]"  # glog/absl info and warning lines
    rb"|INFO: Created TensorFlow Lite"
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called)"
)
_installed = False


def install() -> None:
    """Filter native log noise from fd 2 for the rest of this process (idempotent; no-op where unsupported)."""
    global _installed
    if _installed:
        return
    try:
        sys.stderr.flush()
        real = os.dup(2)
        read_end, write_end = os.pipe()
        os.dup2(write_end, 2)
        os.close(write_end)
    except (OSError, AttributeError, ValueError):
        return
    sys.stderr = io.TextIOWrapper(
        os.fdopen(real, "wb", buffering=0),
        encoding=sys.stderr.encoding or "utf-8",
        errors="replace",
        line_buffering=True,
        write_through=True,
    )
    threading.Thread(target=_pump, args=(read_end, real), name="native-log-filter", daemon=True).start()
    _installed = True


def _pump(read_end: int, real: int) -> None:
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        pending = b""
        while chunk := pipe.read(65536):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if not _NOISE.match(line):
                    os.write(real, line + b"\n")
        if pending and not _NOISE.match(pending):
            os.write(real, pending)
