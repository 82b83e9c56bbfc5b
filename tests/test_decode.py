"""Safe decoding: odd modes become RGB, each bad file becomes one typed ImageError, and the next file loads."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from support.synth import exif_bytes

from privscan.errors import ImageError
from privscan.io.decode import load_image


def _save(img: Image.Image, path: Path, fmt: str, **kw) -> Path:
    img.save(path, format=fmt, **kw)
    return path


@pytest.fixture
def photo(skimage_photo) -> Image.Image:
    return Image.fromarray(skimage_photo("coffee"))


@pytest.mark.parametrize(
    ("mode", "fmt"),
    [
        ("P", "PNG"),
        ("LA", "PNG"),
        ("RGBA", "PNG"),
        ("CMYK", "JPEG"),
        ("I;16", "PNG"),
        ("L", "JPEG"),
        ("1", "BMP"),
        ("RGBA", "WEBP"),
        ("P", "GIF"),
        ("RGB", "TIFF"),
        ("I", "TIFF"),
        ("F", "TIFF"),
    ],
)
def test_odd_modes_become_rgb(tmp_path, photo, mode, fmt):
    if mode == "I;16":
        arr = (np.asarray(photo.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
        img = Image.fromarray(arr)  # uint16 -> I;16
    elif mode in ("I", "F"):
        img = photo.convert("L").convert(mode)
    else:
        img = photo.convert(mode)
    path = _save(img, tmp_path / f"x.{fmt.lower()}", fmt)
    decoded = load_image(path)
    assert decoded.rgb.dtype == np.uint8 and decoded.rgb.shape == (photo.height, photo.width, 3)
    assert decoded.rgb.std() > 10  # real content survived, not a flat frame


def test_sixteen_bit_keeps_brightness(tmp_path):
    arr = np.full((8, 8), 0x8080, dtype=np.uint16)
    path = _save(Image.fromarray(arr), tmp_path / "g16.png", "PNG")
    assert abs(int(load_image(path).rgb[0, 0, 0]) - 128) <= 1


def test_transparent_pixels_become_white_not_black(tmp_path):
    img = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    path = _save(img, tmp_path / "clear.png", "PNG")
    assert (load_image(path).rgb == 255).all()


def test_animated_gif_gives_first_frame(tmp_path):
    frames = [Image.new("RGB", (16, 16), c) for c in ((255, 0, 0), (0, 0, 255))]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    decoded = load_image(path)
    assert decoded.n_frames == 2
    r, _, b = decoded.rgb[8, 8]
    assert r > 200 and b < 50


def test_exif_orientation_is_applied(tmp_path):
    arr = np.zeros((20, 40, 3), np.uint8)
    arr[:, :20] = 255  # left half white
    path = tmp_path / "rot.jpg"
    Image.fromarray(arr).save(path, quality=95, exif=exif_bytes(orientation=6))  # 6: rotate 90 clockwise to view
    decoded = load_image(path)
    assert decoded.orientation == 6
    assert decoded.rgb.shape[:2] == (40, 20)  # portrait after transposition
    assert decoded.rgb[:20].mean() > 200 and decoded.rgb[20:].mean() < 50  # white half moved to the top


def _truncated_jpeg(photo: Image.Image) -> bytes:
    buf = io.BytesIO()
    photo.save(buf, "JPEG", quality=90)
    return buf.getvalue()[: len(buf.getvalue()) // 2]


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("empty.jpg", b"", "empty"),
        ("text.jpg", b"hello, this is not an image\n" * 5, "not-an-image"),
        ("doc.png", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "not-an-image"),
        ("garbage.jpg", b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4, "corrupt"),
    ],
)
def test_bad_files_raise_one_typed_error(tmp_path, name, content, kind):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImageError) as info:
        load_image(path)
    assert info.value.kind == kind, info.value.message
    assert name in info.value.message and "\n" not in info.value.message


def test_truncated_jpeg_and_next_file_still_loads(tmp_path, photo):
    bad = tmp_path / "a_truncated.jpg"
    bad.write_bytes(_truncated_jpeg(photo))
    good = _save(photo, tmp_path / "b_good.jpg", "JPEG")
    with pytest.raises(ImageError) as info:
        load_image(bad)
    assert info.value.kind == "truncated"
    assert load_image(good).rgb.shape == (photo.height, photo.width, 3)


def test_wrong_extension_still_decodes(tmp_path, photo):
    path = _save(photo, tmp_path / "actually_png.jpg", "PNG")
    decoded = load_image(path)
    assert decoded.format == "PNG"


def test_pixel_limit_refuses_before_decoding(tmp_path):
    path = _save(Image.new("L", (3000, 3000)), tmp_path / "big.png", "PNG")
    with pytest.raises(ImageError) as info:
        load_image(path, max_pixels=1_000_000)
    assert info.value.kind == "too-large" and "--max-pixels" in info.value.message


def test_decompression_bomb_header_is_refused(tmp_path):
    """A tiny PNG that declares 60000 x 60000 pixels is refused from its header alone.

    Written by hand (signature, IHDR, one IDAT, IEND, each chunk with its CRC) rather than encoded: encoding
    3.6 gigapixels took 18 s. The IDAT holds only the first rows, so a decoder that ignored the header check
    would fail differently (truncated), not with "too-large"."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    side = 60000
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale, deflate, no interlace
    rows = zlib.compress(b"\x00" * (1 + side // 8) * 16)  # 16 all-black rows, filter type 0
    path = tmp_path / "bomb.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b""))
    with pytest.raises(Image.DecompressionBombError):  # a well-formed header: Pillow reads the declared size
        Image.open(path)
    assert path.stat().st_size < 1_000_000
    with pytest.raises(ImageError) as info:
        load_image(path)
    assert info.value.kind == "too-large"


def test_missing_and_folder_are_unreadable(tmp_path):
    with pytest.raises(ImageError) as missing:
        load_image(tmp_path / "nope.jpg")
    with pytest.raises(ImageError) as folder:
        load_image(tmp_path)
    assert missing.value.kind == folder.value.kind == "unreadable"


def test_heic_without_plugin_or_with_it(tmp_path):
    """HEIC decodes with the default install's pi-heif; without a decoder the error says what to install."""
    from privscan.io import decode

    if decode.HEIF_AVAILABLE:  # pi-heif decodes only: the fixture was encoded once (tests/data/make_phone_fixtures.py)
        image = load_image(Path(__file__).parent / "data" / "astronaut_gps.heic")
        assert image.rgb.shape == (320, 320, 3) and image.format == "HEIF"
    else:
        path = tmp_path / "x.heic"
        path.write_bytes(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64)
        with pytest.raises(ImageError, match="pi-heif"):
            load_image(path)


def test_decoded_keeps_metadata_blocks(tmp_path, photo):
    path = tmp_path / "gps.jpg"
    photo.save(path, quality=90, exif=exif_bytes(gps=(10.5, -20.25), make="Cam"))
    decoded = load_image(path)
    assert decoded.exif is not None and b"Cam" in decoded.exif
    assert len(decoded.sha256) == 64 and decoded.file_size == path.stat().st_size


@pytest.mark.parametrize("keep", [10, 200, 600])
def test_jpeg_cut_inside_its_header_is_truncated(tmp_path, photo, keep):
    buf = io.BytesIO()
    photo.save(buf, "JPEG", quality=90)
    path = tmp_path / "cut.jpg"
    path.write_bytes(buf.getvalue()[:keep])
    with pytest.raises(ImageError) as info:
        load_image(path)
    assert info.value.kind == "truncated", info.value.message
