"""One file: read its bytes once, decode (EXIF orientation applied), find what to hide, paint one mask,
obscure the masked pixels, encode a clean copy in the same format and quality, check its bytes carry no
metadata, and write it atomically. Any failure ends this file only, as its one-line error."""

from __future__ import annotations

import time

from privscan.engine.redaction.options import RedactOptions
from privscan.engine.redaction.paint import build_mask
from privscan.engine.redaction.planning import Job
from privscan.engine.redaction.sources import RegionSource
from privscan.errors import ImageError, PrivscanError
from privscan.io.atomic import OutputExistsError
from privscan.io.clean_save import encode_clean, find_metadata, plan_output, write_clean
from privscan.io.decode import decode_bytes, read_bytes, sha256_bytes
from privscan.masks.obfuscate import obscure
from privscan.report.redaction import RedactedFile
from privscan.report.schema import ErrorModel


class _Stopwatch:
    """Seconds per stage into a dict (decode, detect, mask, obscure, encode, write)."""

    def __init__(self, into: dict[str, float]) -> None:
        self.into = into
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.into[name] = round(now - self.last, 4)
        self.last = now


def redact_file(job: Job, source: RegionSource, options: RedactOptions) -> RedactedFile:
    start = time.perf_counter()
    result = RedactedFile(input=str(job.path), output=str(job.output), status="error")
    clock = _Stopwatch(result.timings)
    try:
        data = read_bytes(job.path)
        result.input_sha256 = sha256_bytes(data)
        image = decode_bytes(job.path, data, max_pixels=options.max_pixels)
        result.width, result.height = image.width, image.height
        settings = plan_output(data, image)
        clock.lap("decode")
        found = source.find(image, result.input_sha256)
        clock.lap("detect")
        mask, hidden = build_mask(image, found, options.margin)
        result.hidden = hidden
        result.notes = list(found.notes) + list(settings.notes)
        result.masked_fraction = round(float(mask.mean()), 6)
        result.metadata_removed = find_metadata(data)
        result.written = settings.describe()
        clock.lap("mask")
        if options.dry_run:
            result.status = "dry-run"
            return result
        pixels = obscure(image.rgb, mask, options.style, color=options.color)
        clock.lap("obscure")
        encoded = encode_clean(pixels, settings, opaque=mask)
        leftover = find_metadata(encoded)
        if leftover:  # never expected: the encoder is given no metadata; refuse rather than leak
            raise ImageError(job.path, "metadata", f"the clean copy still holds {', '.join(leftover)}; not written")
        clock.lap("encode")
        write_clean(job.output, encoded, overwrite=options.overwrite)
        clock.lap("write")
        result.output_sha256 = sha256_bytes(encoded)
        result.status = "redacted" if mask.any() else "clean-copy"
        return result
    except ImageError as e:
        result.error = ErrorModel(kind=e.kind, message=e.reason)
        return result
    except OutputExistsError:
        message = f"{job.output} already exists (pass --overwrite to replace it)"
        result.error = ErrorModel(kind="exists", message=message)
        return result
    except PrivscanError as e:
        result.error = ErrorModel(kind=e.kind, message=e.one_line())
        return result
    except (OSError, ValueError, MemoryError) as e:  # an encoder or odd-image failure ends this file only
        result.error = ErrorModel(kind="internal", message=f"{type(e).__name__}: {e}")
        return result
    finally:
        result.seconds = round(time.perf_counter() - start, 3)
