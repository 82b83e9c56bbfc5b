"""Typed errors: each carries a one-line message meant for the user.

The CLI prints `PrivscanError` subclasses as a single rich line (no traceback unless --debug); anything
else is a bug and keeps its traceback. Per-image errors (ImageError) never stop a run: the engine records
them in the report and goes on.
"""

from __future__ import annotations


class PrivscanError(Exception):
    """Base class of every error that is the user's input or environment, not a bug."""

    #: short machine-readable kind, stored in reports next to the message
    kind: str = "error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UsageError(PrivscanError):
    """A bad option value, unknown attribute name, missing path, and similar."""

    kind = "usage"


class DeviceError(PrivscanError):
    """The requested compute device does not exist on this machine."""

    kind = "device"


class WeightsError(PrivscanError):
    """Weights are missing, unreadable, or do not match the sha256 in the manifest."""

    kind = "weights"


class OutputError(PrivscanError, OSError):
    """privscan cannot write an output (full disk, read-only folder, permission, another run's lock).

    One line saying what and where; the run stops with exit status 2 and nothing half-written stays behind.
    Also an OSError, so callers that already handle OS errors around a write keep working.
    """

    kind = "output"


class ImageError(PrivscanError):
    """One input file cannot be used as an image; the run records it and goes on.

    `kind` tells which: empty, truncated, corrupt, not-an-image, too-large, unreadable, unsupported.
    """

    def __init__(self, path: object, kind: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = str(path)
        self.kind = kind
        self.reason = message
