"""Metadata reading (EXIF, XMP, PNG text) and its findings, on JPEG/PNG files the tests write."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin
from skimage import data
from support import synth

from privscan.detectors.metadata import MetadataDetector, MetadataResult
from privscan.io.decode import load_image
from privscan.io.metadata import gps_to_decimal, read_metadata


@pytest.fixture(scope="module")
def detector() -> MetadataDetector:
    return MetadataDetector()


def write_jpeg(path: Path, exif: bytes | None = None, xmp: bytes | None = None, rgb=None) -> Path:
    img = Image.fromarray(data.chelsea() if rgb is None else rgb)
    kwargs: dict[str, object] = {"quality": 90}
    if exif is not None:
        kwargs["exif"] = exif
    if xmp is not None:
        kwargs["xmp"] = xmp
    img.save(path, **kwargs)
    return path


FULL_EXIF = dict(
    gps=(48.858370, 2.294481),
    make="Nowhere Optics",
    model="NX-100",
    serial="SN-4471-0932",
    artist="Johanna Whitfield",
    datetime_original="2024:05:17 14:32:09",
)


def by_kind(result: MetadataResult) -> dict[str, list]:
    out: dict[str, list] = {}
    for f in result.findings:
        out.setdefault(f.kind, []).append(f)
    return out


def test_gps_and_camera_facts_from_a_jpeg(tmp_path: Path, detector: MetadataDetector) -> None:
    path = write_jpeg(tmp_path / "cat.jpg", synth.exif_bytes(**FULL_EXIF))
    result = detector.detect(load_image(path))
    kinds = by_kind(result)
    gps = kinds["gps_position"][0]
    lat, lon = (float(v) for v in gps.value.split(","))
    assert lat == pytest.approx(48.858370, abs=1e-5) and lon == pytest.approx(2.294481, abs=1e-5)
    assert gps.attribute == "a74_address_current_complete" and gps.source == "exif:gps"
    assert gps.detail["tag"] == "EXIF GPSInfo"
    assert kinds["capture_time"][0].attribute == "a82_date_time"
    assert kinds["camera_serial"][0].value == "SN-4471-0932" and kinds["camera_serial"][0].attribute == ""
    assert kinds["camera_model"][0].value == "NX-100"
    owner = kinds["owner"][0]
    assert owner.value == "Johanna Whitfield" and owner.attribute == "a19_name_full"
    assert {f.kind for f in result.facts} >= {"gps_position", "capture_time", "camera_serial", "owner"}
    assert result.warnings == []


def test_southern_western_and_coarse_gps(tmp_path: Path, detector: MetadataDetector) -> None:
    path = write_jpeg(tmp_path / "sw.jpg", synth.exif_bytes(gps=(-33.856784, -151.215297)))
    gps = by_kind(detector.detect(load_image(path)))["gps_position"][0]
    assert gps.value.startswith("-33.85678") and ", -151.2152" in gps.value
    exif = Image.Exif()
    g = exif.get_ifd(0x8825)
    g[1], g[2], g[3], g[4] = "N", (48.0, 51.0, 0.0), "E", (2.0, 18.0, 0.0)  # whole minutes only
    coarse = write_jpeg(tmp_path / "coarse.jpg", exif.tobytes())
    gps = by_kind(detector.detect(load_image(coarse)))["gps_position"][0]
    assert gps.attribute == "a75_address_current_partial"


def test_gps_to_decimal() -> None:
    assert gps_to_decimal(((48, 1), (51, 1), (3015, 100)), "N") == pytest.approx(48.858375)
    assert gps_to_decimal((10.0, 30.0, 0.0), b"W") == pytest.approx(-10.5)
    with pytest.raises(ValueError):
        gps_to_decimal((400.0, 0.0, 0.0), "N")


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"Exif\x00\x00",
        b"Exif\x00\x00II*\x00\xff\xff\xff\xff",  # IFD offset past the end
        b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x05",  # entry count with no entries
        bytes(range(256)) * 4,
    ],
)
def test_broken_exif_blocks_do_not_crash(raw: bytes) -> None:
    read = read_metadata(raw, None)
    assert isinstance(read.facts, list)


def test_fuzzed_exif_never_raises(detector: MetadataDetector) -> None:
    good = synth.exif_bytes(**FULL_EXIF)
    rng = random.Random(5)
    for _ in range(300):
        raw = bytearray(good)
        for _ in range(rng.randint(1, 12)):
            raw[rng.randrange(6, len(raw))] = rng.randrange(256)
        if rng.random() < 0.3:
            raw = raw[: rng.randrange(8, len(raw))]
        read_metadata(bytes(raw), None)  # must not raise


def test_broken_exif_in_a_real_file(tmp_path: Path, detector: MetadataDetector) -> None:
    good = synth.exif_bytes(**FULL_EXIF)
    broken = good[:40] + b"\xff" * 24 + good[64:]
    path = write_jpeg(tmp_path / "broken.jpg", broken)
    result = detector.detect(load_image(path))  # whatever survives, no exception
    assert isinstance(result, MetadataResult)


def test_embedded_thumbnail_and_its_difference(tmp_path: Path, detector: MetadataDetector) -> None:
    def jpeg_bytes(rgb) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(rgb).resize((160, 120)).save(buf, "JPEG", quality=80)
        return buf.getvalue()

    same = write_jpeg(tmp_path / "same.jpg", synth.exif_with_thumbnail(jpeg_bytes(data.chelsea())))
    result = detector.detect(load_image(same))
    thumb = by_kind(result)["thumbnail"][0]
    assert result.thumbnail is not None and result.thumbnail.startswith(b"\xff\xd8")
    assert thumb.value.startswith("160x120 JPEG") and thumb.detail["differs_from_image"] is False
    other = write_jpeg(tmp_path / "other.jpg", synth.exif_with_thumbnail(jpeg_bytes(data.astronaut())))
    thumb = by_kind(detector.detect(load_image(other)))["thumbnail"][0]
    assert thumb.detail["differs_from_image"] is True and "differs" in thumb.value


XMP = b"""<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"
  xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
  xmlns:aux="http://ns.adobe.com/exif/1.0/aux/"
  exif:GPSLatitude="40,44.9290N" exif:GPSLongitude="73,59.1257W" photoshop:City="New York"
  xmp:CreateDate="2024-03-02T09:12:44" aux:SerialNumber="0042117">
 <dc:creator><rdf:Seq><rdf:li>Marcus Oyelaran</rdf:li></rdf:Seq></dc:creator>
 <dc:description><rdf:Alt><rdf:li xml:lang="x-default">Call me on +1 415 555 7061</rdf:li></rdf:Alt></dc:description>
 <Iptc4xmpExt:PersonInImage><rdf:Bag><rdf:li>Amelia Hartigan</rdf:li><rdf:li>Tobias Brennecke</rdf:li></rdf:Bag>
 </Iptc4xmpExt:PersonInImage>
</rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>"""


def test_xmp_facts(tmp_path: Path, detector: MetadataDetector) -> None:
    path = write_jpeg(tmp_path / "xmp.jpg", xmp=XMP)
    image = load_image(path)
    assert image.xmp is not None
    kinds = by_kind(detector.detect(image))
    gps = kinds["gps_position"][0]
    assert gps.source == "xmp:gps" and gps.value.startswith("40.74881") and "-73.98542" in gps.value
    assert kinds["owner"][0].value == "Marcus Oyelaran" and kinds["owner"][0].attribute == "a19_name_full"
    assert sorted(f.value for f in kinds["person_in_image"]) == ["Amelia Hartigan", "Tobias Brennecke"]
    assert kinds["location_name"][0].attribute == "a75_address_current_partial"
    assert kinds["capture_time"][0].value == "2024-03-02T09:12:44"
    assert kinds["camera_serial"][0].value == "0042117"
    phone = kinds["phone"][0]
    assert phone.attribute == "a49_phone" and phone.source == "xmp:dc:description+pii:phone"


def test_xmp_with_entities_is_refused() -> None:
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x:xmpmeta xmlns:x="adobe:ns:meta/"/>'
    read = read_metadata(None, evil)
    assert read.facts == [] and "DTD" in read.warnings[0]


def test_png_text_chunks(tmp_path: Path, detector: MetadataDetector) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Ingrid Castellanos")
    path = tmp_path / "a.png"
    Image.fromarray(data.coffee()).save(path, pnginfo=info)
    owner = by_kind(detector.detect(load_image(path)))["owner"][0]
    assert owner.value == "Ingrid Castellanos" and owner.source == "metadata:png:Author"


def test_photo_without_metadata(tmp_path: Path, detector: MetadataDetector) -> None:
    result = detector.detect(load_image(write_jpeg(tmp_path / "plain.jpg")))
    assert result.findings == [] and result.facts == []
