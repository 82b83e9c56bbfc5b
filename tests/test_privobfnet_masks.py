"""Mask types for the 68 attributes, CAM -> pixel masks, and the resumable person/text mask cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from privscan.io.decode import DecodedImage
from privscan.masks.cam_masks import attribute_masks, cam_peak, normalise, upsample
from privscan.masks.mask_types import MASK_TYPES, MaskType, mask_type, mask_type_vector
from privscan.train.mask_cache import MaskCache, MaskSource
from privscan.vocab import attribute_ids, by_id


def test_every_attribute_has_a_mask_type() -> None:
    assert set(MASK_TYPES) == set(attribute_ids())
    vec = mask_type_vector()
    assert len(vec) == 68 and set(vec) <= {0, 1, 2}
    # the paper's Table 1 kinds: faces and nudity on people, names / addresses / plates as text
    for a in ("a9_face_complete", "a10_face_partial", "a12_semi_nudity", "a11_tattoo"):
        assert mask_type(a) == MaskType.HUMAN
    for a in ("a19_name_full", "a74_address_current_complete", "a90_email", "a103_license_plate_complete"):
        assert mask_type(a) == MaskType.TEXT
    for a in ("a0_safe", "a30_credit_card", "a31_passport", "a102_vehicle_ownership", "a73_landmark"):
        assert mask_type(a) == MaskType.UNMASKED
    # reasons are written next to each entry
    source = Path(__file__).resolve().parents[1].joinpath("privscan", "masks", "mask_types.py").read_text()
    for a in ("a7_fingerprint", "a25_nationality", "a64_rel_personal"):
        line = next(ln for ln in source.splitlines() if f'"{a}"' in ln)
        assert "#" in line


def test_mask_types_follow_the_papers_table_1() -> None:
    """PrivObfNet's Table 1, as printed (by VISPR description); its "Nudity" is VISPR's complete nudity."""
    from privscan.masks.mask_types import PAPER_TABLE1

    table = {
        MaskType.UNMASKED: ("Safe", "Credit Card", "Student ID", "Tickets", "Legal involvement"),
        MaskType.HUMAN: ("Age Group", "Weight Group", "Eye Color", "Complete nudity", "Race"),
        MaskType.TEXT: ("Full Name", "Place of Birth", "Handwriting", "Marital status", "Date of Birth"),
    }
    by_description = {a.name: a.id for a in by_id().values()}
    expected = {by_description[d]: kind for kind, names in table.items() for d in names}
    assert len(expected) == 15
    assert {a: mask_type(a) for a in expected} == expected
    assert expected == PAPER_TABLE1


def _cams_with_peak(index: int, cell: tuple[int, int], size: int = 4) -> torch.Tensor:
    cams = torch.full((68, size, size), -1.0)
    cams[index, cell[0], cell[1]] = 5.0
    return cams


def test_normalise_and_upsample() -> None:
    m = normalise(torch.tensor([[-1.0, 2.0], [4.0, 0.0]]))
    assert torch.equal(m, torch.tensor([[0.0, 0.5], [1.0, 0.0]]))
    assert torch.equal(normalise(-torch.ones(3, 3)), torch.zeros(3, 3))
    up = upsample(torch.arange(4.0).reshape(2, 2), (8, 6))
    assert up.shape == (8, 6) and float(up.max()) == 3.0


def test_masks_at_the_images_resolution_around_the_peak() -> None:
    card = by_id()["a30_credit_card"].index
    cams = _cams_with_peak(card, (1, 2))
    masks = attribute_masks(cams, (100, 200), ["a30_credit_card"], threshold=0.5)
    m = masks["a30_credit_card"]
    assert m.shape == (100, 200) and m.dtype == bool
    ys, xs = np.nonzero(m)
    # cell (1, 2) of a 4x4 grid is y in [25, 50), x in [100, 150): the mask sits on it
    assert 25 <= ys.mean() < 50 and 100 <= xs.mean() < 150
    assert cam_peak(cams[card], (100, 200)) == (125.0, 37.5)


def test_human_and_text_refinement() -> None:
    face, name, card = (by_id()[a].index for a in ("a9_face_complete", "a19_name_full", "a30_credit_card"))
    cams = torch.full((68, 4, 4), -1.0)
    cams[face, 0:2, 0:2] = 5.0  # the face map covers the whole top-left quarter
    cams[name, 0:2, 0:2] = 5.0
    cams[card, 0:2, 0:2] = 5.0
    person = np.zeros((80, 80), dtype=np.float32)
    person[0:40, 0:20] = 1.0  # the person occupies a thin strip of that quarter
    text = np.zeros((40, 40), dtype=np.float32)  # given at a lower resolution: resized to the image
    text[5:8, 2:18] = 1.0
    out = attribute_masks(
        cams,
        (80, 80),
        ["a9_face_complete", "a19_name_full", "a30_credit_card"],
        person_mask=person,
        text_mask=text,
        threshold=0.4,
    )
    plain = attribute_masks(cams, (80, 80), ["a9_face_complete", "a30_credit_card"], threshold=0.4)
    assert out["a9_face_complete"].sum() < plain["a9_face_complete"].sum()
    assert not out["a9_face_complete"][:, 20:].any()  # Human: nothing outside the person
    assert not out["a19_name_full"][20:, :].any() and out["a19_name_full"][11:15, 6:30].all()  # Text: the line
    assert np.array_equal(out["a30_credit_card"], plain["a30_credit_card"])  # Un-masked: untouched
    empty = attribute_masks(cams, (80, 80), ["a9_face_complete"], person_mask=np.zeros((80, 80)), threshold=0.4)
    assert np.array_equal(empty["a9_face_complete"], plain["a9_face_complete"])  # empty guide = no guide
    with pytest.raises(KeyError):
        attribute_masks(cams, (80, 80), ["a1000_nothing"])


# ---- mask cache ------------------------------------------------------------------------------------------


def _images(tmp_path: Path, n: int) -> list[tuple[str, Path]]:
    items = []
    for i in range(n):
        rgb = np.zeros((60 + i, 90, 3), dtype=np.uint8)
        rgb[:, : 10 * (i + 1)] = 255  # a white band whose width says which image it is
        path = tmp_path / f"img{i}.png"
        Image.fromarray(rgb).save(path)
        items.append((f"2017_{i}", path))
    return items


def _white(image: DecodedImage) -> np.ndarray:
    return (image.rgb.mean(axis=2) > 128).astype(np.float32)


def _top_rows(image: DecodedImage) -> np.ndarray:
    m = np.zeros((image.height, image.width), dtype=np.float32)
    m[:10] = 1.0
    return m


def test_mask_cache_builds_resumes_and_reloads(tmp_path: Path) -> None:
    items = _images(tmp_path, 4)
    calls: list[str] = []

    def counting_white(image: DecodedImage) -> np.ndarray:
        calls.append(image.path.name)
        if len(calls) == 3 and not getattr(counting_white, "resumed", False):
            raise KeyboardInterrupt  # the user stops the stage part-way
        return _white(image)

    sources = {"person": MaskSource("white-v1", counting_white), "text": MaskSource("top-v1", _top_rows)}
    cache = MaskCache(tmp_path / "cache", sources)
    with pytest.raises(KeyboardInterrupt):
        cache.build(items, show_progress=False)
    assert sum(cache.has(i) for i, _ in items) == 2  # what finished is on disk
    counting_white.resumed = True  # type: ignore[attr-defined]
    stats = cache.build(items, show_progress=False)
    assert (stats.computed, stats.cached, stats.failed) == (2, 2, [])
    assert calls[3:] == ["img2.png", "img3.png"]  # only the missing images ran again
    again = cache.build(items, show_progress=False)
    assert (again.computed, again.cached) == (0, 4)
    masks = cache.load("2017_1")
    assert masks is not None and set(masks) == {"person", "text"}
    assert masks["person"].shape == (61, 90) and masks["person"].dtype == np.float32
    assert masks["person"][:, :20].min() == 1.0 and masks["person"][:, 20:].max() == 0.0
    assert masks["text"][:10].min() == 1.0 and masks["text"][10:].max() == 0.0
    # other sources (or versions) never read these entries
    other = MaskCache(tmp_path / "cache", {"person": MaskSource("white-v2", _white)})
    assert other.directory != cache.directory and other.load("2017_1") is None


def test_mask_cache_records_unreadable_images_and_shrinks(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image at all")
    big = tmp_path / "big.png"
    Image.new("RGB", (1200, 600), (255, 255, 255)).save(big)
    cache = MaskCache(tmp_path / "c", {"person": MaskSource("white", _white)})
    stats = cache.build([("bad", bad), ("big", big)], show_progress=False)
    assert stats.computed == 1 and [i for i, _ in stats.failed] == ["bad"]
    assert "not an image" in stats.failed[0][1]
    assert cache.load("big")["person"].shape == (256, 512)  # longest side capped at 512
    weird = cache.path("a/b c")
    assert weird.parent == cache.directory and "/" not in weird.name


def test_default_detectors_make_person_and_text_masks(tmp_path: Path) -> None:
    """The real offline detectors: a person in skimage's astronaut photo, text on a synthetic letter."""
    skimage_data = pytest.importorskip("skimage.data")
    from support import synth

    from privscan.train.mask_cache import default_mask_sources

    Image.fromarray(skimage_data.astronaut()).save(tmp_path / "astronaut.png")
    letter = synth.letter(seed=1, size=(620, 877))
    letter.image.save(tmp_path / "letter.png")
    cache = MaskCache(tmp_path / "cache", default_mask_sources())
    stats = cache.build([("astro", tmp_path / "astronaut.png"), ("letter", tmp_path / "letter.png")])
    assert stats.computed == 2 and not stats.failed
    astro, page = cache.load("astro"), cache.load("letter")
    assert astro is not None and page is not None
    assert astro["person"].mean() > 0.2  # the astronaut fills much of the frame
    assert page["text"].mean() > 0.01 and page["person"].max() == 0.0
