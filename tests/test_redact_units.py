"""Redaction building blocks without detectors: region masks, obfuscation styles, clean metadata-free saving."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, PngImagePlugin
from redact_helpers import (
    SECRET_ARTIST,
    XMP_PACKET,
    assert_no_metadata,
    dirty_jpeg,
    exif_with_thumbnail,
    srgb_icc,
)
from support.synth import letter

from privscan.detectors.base import Box, Region
from privscan.io.clean_save import (
    encode_clean,
    estimate_jpeg_quality,
    find_metadata,
    plan_output,
    write_clean,
)
from privscan.io.decode import decode_bytes
from privscan.masks.obfuscate import obscure, parse_color
from privscan.masks.regions import grow_components, margin_pixels, paint_region, regions_mask

# ---- regions ---------------------------------------------------------------------------------------


def test_box_margin_is_relative_and_has_a_floor():
    assert margin_pixels(Box(0, 0, 300, 30), 0.1) == pytest.approx(3.0)
    assert margin_pixels(Box(0, 0, 400, 400), 0.1) == pytest.approx(40.0)
    assert margin_pixels(Box(0, 0, 10, 10), 0.1) == 2.0  # the 2 px floor for anti-aliased edges
    mask = np.zeros((100, 200), dtype=bool)
    done = paint_region(mask, Region(Box(50.5, 40, 150, 60)), margin=0.1)
    assert done is not None and done.bbox == (48, 38, 152, 62)  # floor/ceil of the grown box
    assert mask.sum() == (152 - 48) * (62 - 38) == done.pixels


def test_ellipse_inside_its_grown_box_and_covers_the_centre():
    mask = np.zeros((300, 300), dtype=bool)
    paint_region(mask, Region(Box(100, 80, 200, 220), shape="ellipse"), margin=0.0, min_margin_px=0)
    assert mask[150, 150] and mask[81, 150] and mask[150, 101]
    assert not mask[81, 101] and not mask[219, 199]  # corners of the box are outside the ellipse
    assert not mask[:, :100].any() and not mask[:80].any()
    area = mask.sum()
    assert abs(area - np.pi * 50 * 70) / (np.pi * 50 * 70) < 0.02


def test_polygon_rotated_quad_is_filled_and_grown():
    quad = ((50.0, 80.0), (150.0, 40.0), (160.0, 65.0), (60.0, 105.0))
    tight = np.zeros((200, 220), dtype=bool)
    paint_region(tight, Region(Box(50, 40, 160, 105), shape="polygon", polygon=quad), margin=0.0, min_margin_px=0)
    grown = np.zeros_like(tight)
    paint_region(grown, Region(Box(50, 40, 160, 105), shape="polygon", polygon=quad), margin=0.2)
    assert tight[72, 105]  # inside the quad
    assert not tight[45, 55]  # inside the box but outside the rotated quad
    assert grown.sum() > tight.sum() and (grown | tight).sum() == grown.sum()
    assert not grown[45, 55] or margin_pixels(Box(50, 40, 160, 105), 0.2) > 20


def test_named_mask_region_and_conservative_fallback():
    person = np.zeros((120, 120), dtype=np.float32)
    person[30:90, 40:70] = 0.9
    region = Region(Box(40, 30, 70, 90), shape="mask", mask="person")
    mask, painted = regions_mask([region], (120, 120), margin=0.1, named_masks={"person": person})
    assert painted[0].shape == "mask" and painted[0].fallback is None
    assert mask[30:90, 40:70].all() and not mask[0:20].any()
    missing, painted = regions_mask([region], (120, 120), margin=0.1, named_masks={})
    assert painted[0].shape == "box" and "not available" in (painted[0].fallback or "")
    assert missing[30:90, 40:70].all()


def test_grow_components_uses_each_blob_size():
    mask = np.zeros((200, 200), dtype=bool)
    mask[10:14, 10:14] = True  # small blob: grows by the 2 px floor
    mask[100:180, 100:180] = True  # big blob: grows by 0.1 * 80 = 8 px
    out = grow_components(mask, 0.1)
    assert out[10:14, 8].all() and not out[10:14, 7].any()
    assert out[100:180, 92].all() and not out[100:180, 91].any()


# ---- obfuscation -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def text_image() -> tuple[np.ndarray, np.ndarray]:
    synth = letter(1, size=(620, 877))
    rgb = np.asarray(synth.image, dtype=np.uint8)
    mask, _ = regions_mask([Region(i.box) for i in synth.items], rgb.shape[:2], margin=0.15)
    return rgb, mask


@pytest.mark.parametrize("style", ["fill", "pixelate", "blur"])
def test_styles_change_only_masked_pixels(text_image, style):
    rgb, mask = text_image
    out = obscure(rgb, mask, style)
    assert out.shape == rgb.shape and out.dtype == np.uint8
    assert np.array_equal(out[~mask], rgb[~mask])
    changed = np.any(out != rgb, axis=2)[mask].mean()
    assert changed > 0.5, f"{style} left {1 - changed:.0%} of masked pixels unchanged"


def test_fill_colour_is_exact():
    rgb = np.full((40, 40, 3), 200, dtype=np.uint8)
    mask = np.zeros((40, 40), dtype=bool)
    mask[5:20, 5:30] = True
    out = obscure(rgb, mask, "fill", color=parse_color("#102030"))
    assert (out[mask] == [16, 32, 48]).all() and (out[~mask] == 200).all()
    assert parse_color("1, 2, 3") == (1, 2, 3)
    with pytest.raises(ValueError):
        parse_color("#12345")


def test_pixelate_keeps_no_detail_and_adds_fresh_noise(text_image):
    rgb, mask = text_image
    a = obscure(rgb, mask, "pixelate", rng=np.random.default_rng(1))
    b = obscure(rgb, mask, "pixelate", rng=np.random.default_rng(2))
    assert not np.array_equal(a[mask], b[mask])  # noise differs run to run
    # Within a block the output is flat: count distinct colours vs distinct original colours in the mask.
    distinct_out = len(np.unique(a[mask].reshape(-1, 3), axis=0))
    distinct_in = len(np.unique(rgb[mask].reshape(-1, 3), axis=0))
    n_masked = int(mask.sum())
    assert distinct_out < n_masked / 60, "pixelation left fine detail"
    assert distinct_out < distinct_in * 5
    # The noise dominates: two noisy renderings of the same text differ by about as much as the block signal.
    diff = np.abs(a[mask].astype(int) - b[mask].astype(int)).mean()
    assert diff > 8


def test_obscure_rejects_mismatched_mask():
    with pytest.raises(ValueError):
        obscure(np.zeros((10, 10, 3), np.uint8), np.zeros((9, 10), bool))


# ---- clean saving ----------------------------------------------------------------------------------


@pytest.mark.parametrize("quality", [50, 75, 90, 95])
def test_jpeg_quality_estimate_matches_libjpeg_tables(quality):
    buf = io.BytesIO()
    letter(0, size=(320, 240)).image.save(buf, "JPEG", quality=quality)
    with Image.open(buf) as im:
        assert estimate_jpeg_quality(im.quantization) == quality


def _clean(data: bytes, name: str, tmp_path: Path, rgb: np.ndarray | None = None) -> tuple[Path, object]:
    decoded = decode_bytes(Path(name), data)
    settings = plan_output(data, decoded)
    out = tmp_path / name
    write_clean(out, encode_clean(decoded.rgb if rgb is None else rgb, settings))
    return out, settings


def test_jpeg_copy_drops_exif_gps_thumbnail_xmp_iptc_comment_keeps_icc_and_quality(tmp_path):
    image = letter(2, size=(620, 877)).image
    icc = srgb_icc()
    data, thumb = dirty_jpeg(image, quality=85, icc=icc)
    found = find_metadata(data)
    assert {"EXIF block", "XMP packet", "IPTC/Photoshop block", "comment"} <= set(found), found
    with Image.open(io.BytesIO(data)) as src:
        assert src.getexif().get_ifd(0x8825), "the test file must carry GPS"
        assert src.getexif()[0x013B] == SECRET_ARTIST
    dirty = tmp_path / "dirty.jpg"
    dirty.write_bytes(data)
    with pytest.raises(AssertionError):  # the independent checker does see the source's metadata
        assert_no_metadata(dirty, thumbnail=thumb, icc=icc)
    out, settings = _clean(data, "photo.jpg", tmp_path)
    assert find_metadata(out.read_bytes()) == []
    assert_no_metadata(out, thumbnail=thumb, icc=icc)
    assert settings.jpeg_quality == 85
    with Image.open(out) as im:
        assert im.format == "JPEG" and estimate_jpeg_quality(im.quantization) == 85
    # Same tables: re-encoding noise is small and the size similar.
    src_rgb = decode_bytes(Path("a"), data).rgb.astype(int)
    out_rgb = np.asarray(Image.open(out).convert("RGB"), dtype=int)
    assert np.abs(src_rgb - out_rgb).mean() < 1.0
    assert 0.5 < out.stat().st_size / len(data) < 1.5


def test_png_webp_tiff_gif_copies_are_clean(tmp_path):
    image = letter(3, size=(400, 560)).image
    icc = srgb_icc()
    exif = exif_with_thumbnail(b"\xff\xd8\xff\xd9")
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", SECRET_ARTIST)
    info.add_itxt("XML:com.adobe.xmp", XMP_PACKET.decode())
    sources = {}
    buf = io.BytesIO()
    image.save(buf, "PNG", exif=exif, icc_profile=icc, pnginfo=info)
    sources["a.png"] = buf.getvalue()
    buf = io.BytesIO()
    image.save(buf, "WEBP", quality=80, exif=exif, xmp=XMP_PACKET, icc_profile=icc)
    sources["b.webp"] = buf.getvalue()
    buf = io.BytesIO()
    image.save(buf, "WEBP", lossless=True, exif=exif, icc_profile=icc)
    sources["c.webp"] = buf.getvalue()
    buf = io.BytesIO()
    image.save(buf, "TIFF", compression="raw", exif=exif, icc_profile=icc)
    sources["d.tiff"] = buf.getvalue()
    buf = io.BytesIO()
    image.save(buf, "GIF", comment=b"secret comment")
    sources["e.gif"] = buf.getvalue()
    for name, data in sources.items():
        assert find_metadata(data), f"{name}: the source must carry metadata for this test to mean anything"
        out, _ = _clean(data, name, tmp_path)
        assert find_metadata(out.read_bytes()) == [], name
        assert_no_metadata(out, icc=icc if name != "e.gif" else None)
        original = decode_bytes(Path(name), data).rgb
        copy = np.asarray(Image.open(out).convert("RGB"))
        if name in ("a.png", "c.webp", "d.tiff"):
            assert np.array_equal(original, copy), f"{name}: a lossless source must round-trip exactly"
    assert _clean(sources["c.webp"], "c2.webp", tmp_path)[1].webp_lossless


def test_alpha_and_grayscale_are_kept(tmp_path):
    rgba = np.zeros((60, 80, 4), dtype=np.uint8)
    rgba[..., :3] = 120
    rgba[..., 3] = np.linspace(0, 255, 80, dtype=np.uint8)[None, :]
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG")
    decoded = decode_bytes(Path("t.png"), buf.getvalue())
    settings = plan_output(buf.getvalue(), decoded)
    mask = np.zeros((60, 80), dtype=bool)
    mask[10:20, 0:10] = True  # a transparent corner that gets redacted must become opaque
    out = encode_clean(decoded.rgb, settings, opaque=mask)
    with Image.open(io.BytesIO(out)) as im:
        assert im.mode == "RGBA"
        alpha = np.asarray(im.getchannel("A"))
    assert (alpha[mask] == 255).all() and np.array_equal(alpha[~mask], rgba[..., 3][~mask])
    gray = io.BytesIO()
    Image.fromarray(np.tile(np.arange(256, dtype=np.uint8), (40, 1)), "L").save(gray, "JPEG", quality=90)
    decoded = decode_bytes(Path("g.jpg"), gray.getvalue())
    settings = plan_output(gray.getvalue(), decoded)
    with Image.open(io.BytesIO(encode_clean(decoded.rgb, settings))) as im:
        assert im.mode == "L"


def test_cmyk_profile_is_dropped_not_misapplied(tmp_path):
    buf = io.BytesIO()
    fake_cmyk_profile = bytearray(srgb_icc())
    fake_cmyk_profile[16:20] = b"CMYK"
    Image.new("CMYK", (40, 30), (10, 20, 30, 0)).save(buf, "JPEG", icc_profile=bytes(fake_cmyk_profile))
    decoded = decode_bytes(Path("c.jpg"), buf.getvalue())
    settings = plan_output(buf.getvalue(), decoded)
    assert settings.icc_profile is None and any("CMYK colour profile dropped" in n for n in settings.notes)


def test_write_clean_refuses_existing_unless_overwrite(tmp_path):
    from privscan.io.atomic import OutputExistsError

    target = tmp_path / "x.png"
    target.write_bytes(b"old")
    with pytest.raises(OutputExistsError):
        write_clean(target, b"new")
    assert target.read_bytes() == b"old"
    write_clean(target, b"new", overwrite=True)
    assert target.read_bytes() == b"new"


def test_face_box_becomes_the_ellipse_through_its_corners():
    from privscan.masks.regions import ellipse_around

    face = Region(Box(100, 100, 200, 240))
    ring = ellipse_around(face)
    assert ring.shape == "ellipse"
    mask = np.zeros((400, 400), dtype=bool)
    paint_region(mask, ring, margin=0.0, min_margin_px=0)
    assert mask[100:240, 100:200].all()  # the whole detector box, corners included
    assert not mask[100, 80] and mask[170, 85]  # outside the box only where the ellipse bulges (mid-sides)


def test_only_the_needed_detectors_are_asked_for():
    from privscan import vocab
    from privscan.engine.redaction.policy import detectors_for

    assert detectors_for(vocab.resolve_names("face")) == ("faces",)  # no OCR for faces
    assert detectors_for(vocab.resolve_names("name,card")) == ("text",)
    assert detectors_for(["a74_address_current_complete"]) == ("text",)  # found as a home address
    assert detectors_for(["a4_gender"]) == ("people",)
    assert detectors_for(vocab.resolve_names("nudity")) == ("people", "nudity")
    assert detectors_for(vocab.resolve_names("plate,signature")) == ()  # nothing locates these: a warning


def test_nudity_finding_is_narrowed_to_the_person_mask():
    """open_nsfw reports the whole frame; redaction paints the person segmentation instead, or the whole
    frame when no person was segmented. (No nude test images are generated: the finding is built here.)"""
    from privscan.engine.redaction.paint import build_mask
    from privscan.engine.redaction.policy import narrow_to_person
    from privscan.engine.redaction.sources import ToHide, hidden_item
    from privscan.io.decode import DecodedImage

    image = DecodedImage(Path("x"), np.zeros((100, 80, 3), np.uint8), "", 0, "PNG", "RGB")
    frame = [Region(Box(0, 0, 80, 100))]
    person = np.zeros((100, 80), np.float32)
    person[20:90, 30:60] = 1.0
    narrowed = narrow_to_person("a13_full_nudity", frame)
    item = hidden_item("a13_full_nudity", "nudity:open_nsfw", 0.9)
    with_person, _ = build_mask(image, ToHide(items=[(item, narrowed)], named={"person": person}), 0.0)
    assert with_person[20:90, 30:60].all() and with_person.sum() < 0.5 * with_person.size
    alone, _ = build_mask(image, ToHide(items=[(item, narrowed)]), 0.0)
    assert alone.all()
    assert narrow_to_person("a9_face_complete", frame) == frame
