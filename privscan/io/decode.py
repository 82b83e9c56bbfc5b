"""Decode an image file once, safely, into 8-bit RGB with EXIF orientation applied.

Every kind of bad input becomes an ImageError with a one-line reason, so a run records it and goes on:
empty, truncated, corrupt, not-an-image (whatever the extension says), too-large (decompression bombs,
checked from the header before any pixel is decoded), unreadable, unsupported (HEIC without pi-heif).
Odd modes all end as RGB: palette and alpha images are composited on white (so transparent areas do not
turn black), CMYK is converted, 16-bit and float images are rescaled, animations give their first frame.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import stat
import struct
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from privscan.errors import ImageError
from privscan.io.heic import HEIF_AVAILABLE  # registers the HEIC/HEIF opener with Pillow
from privscan.io.raw import is_raw, raw_preview

DEFAULT_MAX_PIXELS = 120_000_000  # a 12000 x 10000 photo; larger files are refused as possible bombs

_HEIF_BRANDS = (b"ftypheic", b"ftypheix", b"ftyphevc", b"ftypmif1", b"ftypmsf1", b"ftypheim", b"ftypavif")


@dataclass
class DecodedImage:
    """Pixels plus what later stages need from the file (hash, format, metadata blocks, ICC profile)."""

    path: Path
    rgb: NDArray[Any]  # H x W x 3 uint8, EXIF orientation applied
    sha256: str
    file_size: int
    format: str  # Pillow format name, e.g. "JPEG"
    mode: str  # the file's own mode before conversion, e.g. "P", "CMYK", "I;16"
    n_frames: int = 1
    orientation: int = 1  # EXIF orientation tag that was applied (1 = none)
    icc_profile: bytes | None = None
    exif: bytes | None = None  # raw EXIF block as stored in the file (pre-orientation)
    xmp: bytes | None = None
    info: dict[str, object] = field(default_factory=dict)

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])

    def pil(self) -> Image.Image:
        return Image.fromarray(self.rgb, "RGB")


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def max_file_bytes(max_pixels: int = DEFAULT_MAX_PIXELS) -> int:
    """The largest file read for a pixel limit: 8 bytes a pixel (16-bit RGBA, uncompressed) plus 64 MiB of
    metadata. Tied to --max-pixels so that raising one raises the other."""
    return max_pixels * 8 + 64 * 1024 * 1024


#: what identifies one version of a file without reading it: size, mtime_ns, ctime_ns, inode (ctime cannot
#: be set back by a user, so a swap that restores size and mtime is still seen)
StatKey = tuple[int, int, int, int]


def stat_key(st: os.stat_result) -> StatKey:
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino


@dataclass(frozen=True)
class FileBytes:
    """A file's bytes and the stat taken *before* reading them: the cache ties exactly these bytes' hash
    to exactly this stat, so a file swapped while (or after) it was read never inherits the old verdict."""

    data: bytes
    stat_key: StatKey


_FILE_KINDS = (
    (stat.S_ISDIR, "is a folder, not a file"),
    (stat.S_ISFIFO, "not a regular file (a FIFO / named pipe)"),
    (stat.S_ISCHR, "not a regular file (a character device)"),
    (stat.S_ISBLK, "not a regular file (a block device)"),
    (stat.S_ISSOCK, "not a regular file (a socket)"),
)


def _not_regular(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    return next((why for test, why in _FILE_KINDS if test(mode)), "not a regular file")


def read_file(path: Path, *, max_bytes: int | None = None) -> FileBytes:
    """Read a regular file of at most `max_bytes` (default: max_file_bytes()); anything else is an ImageError.

    Never blocks and never reads without limit: the kind of file is checked before it is opened (a FIFO,
    a device such as /dev/zero, a socket is refused), it is opened non-blocking, checked again on the open
    descriptor (a file swapped in between is caught), its size is checked before reading, and reading stops
    one byte past the limit (a file that grows while read is refused too).
    """
    limit = max_file_bytes() if max_bytes is None else max_bytes
    try:
        before = os.stat(path)
        why = _not_regular(before.st_mode)
        if why:
            raise ImageError(path, "unreadable", why)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
        try:
            st = os.fstat(fd)
            why = _not_regular(st.st_mode)
            if why:
                raise ImageError(path, "unreadable", why)
            if st.st_size > limit:
                raise ImageError(path, "too-large", _too_big(st.st_size, limit))
            chunks: list[bytes] = []
            total = 0
            while True:
                chunk = os.read(fd, min(1 << 20, limit + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
                if total > limit:
                    raise ImageError(path, "too-large", _too_big(total, limit, growing=True))
        finally:
            os.close(fd)
    except ImageError:
        raise
    except PermissionError as e:
        raise ImageError(path, "unreadable", "permission denied") from e
    except FileNotFoundError as e:
        raise ImageError(path, "unreadable", "file not found") from e
    except OSError as e:
        raise ImageError(path, "unreadable", e.strerror or str(e)) from e
    return FileBytes(b"".join(chunks), stat_key(st))


def _too_big(size: int, limit: int, *, growing: bool = False) -> str:
    what = "grew past" if growing else f"is {size / 2**20:.0f} MiB, over"
    return f"file {what} the {limit / 2**20:.0f} MiB limit for --max-pixels (raise --max-pixels to allow it)"


def read_bytes(path: Path, *, max_bytes: int | None = None) -> bytes:
    """The bytes of a regular file (see read_file), OS errors turned into ImageError."""
    return read_file(path, max_bytes=max_bytes).data


def _to_rgb(img: Image.Image) -> Image.Image:
    mode = img.mode
    if mode == "RGB":
        return img
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        if mode.startswith("I;16"):
            arr = arr / 257.0
        else:  # 32-bit int or float: stretch the used range (no fixed white point exists)
            lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
            arr = (arr - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(arr)
        gray = np.clip(np.nan_to_num(arr), 0, 255).astype(np.uint8)
        return Image.fromarray(gray, "L").convert("RGB")
    if mode == "P" or mode == "PA":
        img = img.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode == "CMYK" and img.info.get("icc_profile"):
        # Adobe CMYK JPEGs are commonly inverted; Pillow's plain convert handles the common case.
        return img.convert("RGB")
    return img.convert("RGB")


def decode_bytes(path: Path, data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> DecodedImage:
    """Decode in-memory file bytes; raises ImageError (see the module docstring for the kinds), never another
    exception: any other decoder failure is still a bad file, not a crashed run."""
    try:
        return _decode(path, data, max_pixels)
    except ImageError:
        raise
    except Exception as e:
        raise ImageError(path, "corrupt", f"cannot decode ({type(e).__name__}: {e})") from e


_PILLOW_LIMIT_LOCK = threading.Lock()


def allow_pixels(max_pixels: int) -> None:
    """Make --max-pixels the limit, not Pillow's own (89 MP warning, 179 MP error): raise Pillow's global
    bomb threshold to at least `max_pixels`. Never lowered, so concurrent decodes with different limits
    cannot undercut each other; each decode still enforces its own `max_pixels` from the header."""
    with _PILLOW_LIMIT_LOCK:
        current = Image.MAX_IMAGE_PIXELS
        if current is not None and current < max_pixels:
            Image.MAX_IMAGE_PIXELS = max_pixels


def _decode(path: Path, data: bytes, max_pixels: int) -> DecodedImage:
    allow_pixels(max_pixels)
    if len(data) == 0:
        raise ImageError(path, "empty", "empty file (0 bytes)")
    if is_raw(path, data):
        return _decode_raw(path, data, max_pixels)
    if any(brand in data[:32] for brand in _HEIF_BRANDS) and not HEIF_AVAILABLE:
        raise ImageError(
            path, "unsupported", "HEIC/HEIF image, but no HEIF decoder is installed (pip install pi-heif)"
        )
    previous_truncated = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            try:
                img = Image.open(io.BytesIO(data))
            except UnidentifiedImageError as e:
                if _has_image_signature(data):
                    raise ImageError(
                        path, "corrupt", "corrupt image: the header says image but it cannot be parsed"
                    ) from e
                raise ImageError(path, "not-an-image", _not_image_reason(data)) from e
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
                raise ImageError(path, "too-large", f"declared size is a possible decompression bomb ({e})") from e
            except (OSError, SyntaxError, ValueError, EOFError, struct.error) as e:  # header cut or damaged
                kind = "truncated" if "truncated" in str(e).lower() or isinstance(e, EOFError) else "corrupt"
                raise ImageError(path, kind, f"{kind} image header ({e})") from e
            with img:
                width, height = img.size
                if width <= 0 or height <= 0:
                    raise ImageError(path, "corrupt", f"invalid dimensions {width}x{height}")
                if width * height > max_pixels:
                    raise ImageError(
                        path,
                        "too-large",
                        f"{width}x{height} = {width * height / 1e6:.0f} MP exceeds the limit of "
                        f"{max_pixels / 1e6:.0f} MP (raise --max-pixels to allow it)",
                    )
                fmt = img.format or "unknown"
                source_mode = img.mode
                n_frames = int(getattr(img, "n_frames", 1) or 1)
                info: dict[str, object] = {
                    k: v for k, v in img.info.items() if isinstance(k, str) and isinstance(v, (str, int, float))
                }
                icc = img.info.get("icc_profile")
                exif_raw = img.info.get("exif")
                xmp = img.info.get("xmp") or img.info.get("XML:com.adobe.xmp")
                if isinstance(xmp, str):
                    xmp = xmp.encode("utf-8", "replace")
                orientation = 1
                with contextlib.suppress(Exception):
                    orientation = int(img.getexif().get(0x0112, 1) or 1)
                if n_frames > 1:
                    img.seek(0)
                try:
                    img.load()
                except OSError as e:
                    kind = "truncated" if "truncated" in str(e) or "broken data" in str(e) else "corrupt"
                    raise ImageError(path, kind, f"{kind} {fmt} data ({e})") from e
                except (SyntaxError, ValueError, EOFError, struct.error) as e:
                    raise ImageError(path, "corrupt", f"corrupt {fmt} data ({e})") from e
                try:
                    oriented = ImageOps.exif_transpose(img) or img
                except Exception:  # a broken orientation tag must not lose the image
                    oriented, orientation = img, 1
                rgb = np.asarray(_to_rgb(oriented), dtype=np.uint8)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageError(path, "too-large", f"possible decompression bomb ({e})") from e
    except MemoryError as e:
        raise ImageError(path, "too-large", "not enough memory to decode") from e
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous_truncated
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ImageError(path, "corrupt", f"decoded to an unexpected shape {rgb.shape}")
    return DecodedImage(
        path=path,
        rgb=np.ascontiguousarray(rgb),
        sha256=sha256_bytes(data),
        file_size=len(data),
        format=fmt,
        mode=source_mode,
        n_frames=n_frames,
        orientation=orientation,
        icc_profile=icc if isinstance(icc, bytes) else None,
        exif=exif_raw if isinstance(exif_raw, bytes) else None,
        xmp=xmp if isinstance(xmp, bytes) else None,
        info=info,
    )


def _decode_raw(path: Path, data: bytes, max_pixels: int) -> DecodedImage:
    """A camera RAW file as its largest embedded JPEG preview, with the container's EXIF (privscan.io.raw)."""
    preview = raw_preview(path, data)
    if preview is None:
        raise ImageError(path, "unsupported", "RAW file without an embedded JPEG preview (sensor data not decoded)")
    image = _decode(path, preview.jpeg, max_pixels)
    image.sha256, image.file_size = sha256_bytes(data), len(data)
    image.format = f"{preview.kind} (embedded preview)"
    image.exif = preview.exif
    return image


_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*")


def _has_image_signature(data: bytes) -> bool:
    """True when the first bytes are a known image format's magic number."""
    bmp = data[:2] == b"BM" and data[6:10] == b"\x00\x00\x00\x00"  # BMP: two reserved zero words
    return data.startswith(_SIGNATURES) or bmp or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def _not_image_reason(data: bytes) -> str:
    head = data[:8]
    if head.startswith(b"%PDF"):
        return "not an image (PDF document)"
    if head.startswith(b"PK\x03\x04"):
        return "not an image (ZIP archive)"
    if all(32 <= b < 127 or b in (9, 10, 13) for b in data[:512]):
        return "not an image (text file)"
    return "not an image, or an image format Pillow cannot read"


def load_image(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> DecodedImage:
    """Read and decode one file; raises ImageError for any bad input (never another exception kind)."""
    p = Path(path)
    return decode_bytes(p, read_bytes(p, max_bytes=max_file_bytes(max_pixels)), max_pixels=max_pixels)
