"""The one vocabulary: 68 VISPR attributes, aliases, profiles and VISPR's privacy risk."""

from __future__ import annotations

import numpy as np
import pytest

from privscan import vocab
from privscan.errors import UsageError


def test_68_attributes_in_vector_order():
    attrs = vocab.attributes()
    assert len(attrs) == 68
    assert attrs[0].id == "a0_safe" and attrs[-1].id == "a104_license_plate_partial"
    assert [a.index for a in attrs] == list(range(68))


def test_every_alias_names_known_ids():
    known = set(vocab.attribute_ids())
    for name, ids in vocab.alias_table().items():
        assert ids and set(ids) <= known, name
    assert "a0_safe" not in vocab.alias_table()["all"]


def test_resolve_names_mixes_ids_aliases_and_short_names():
    assert vocab.resolve_names("Face, a90_email,credit_card") == [
        "a9_face_complete",
        "a10_face_partial",
        "a30_credit_card",
        "a90_email",
    ]


def test_unknown_name_suggests_closest():
    with pytest.raises(UsageError) as info:
        vocab.resolve_names("adress")
    assert "address" in info.value.one_line()


def test_profiles_shape_and_mean_default():
    prefs = vocab.user_profiles()
    assert prefs.shape == (68, 30)
    assert (prefs[0] == 0).all()  # a0_safe weighs nothing
    assert prefs[1:].min() >= 1 and prefs.max() <= 5
    np.testing.assert_allclose(vocab.profile_vector(), prefs.mean(axis=1))
    np.testing.assert_allclose(vocab.profile_vector(user=3), prefs[:, 3])


def test_profile_file_overrides(tmp_path):
    f = tmp_path / "me.csv"
    f.write_text("attribute_id,sensitivity\na9_face_complete,5\na73_landmark\t1\n")
    vec = vocab.profile_vector(path=f)
    idx = {a.id: a.index for a in vocab.attributes()}
    assert vec[idx["a9_face_complete"]] == 5 and vec[idx["a73_landmark"]] == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("a9_face_complete,seven\n")
    with pytest.raises(UsageError, match="not a number"):
        vocab.profile_vector(path=bad)


def test_privacy_score_max_pooling_by_hand():
    profile = np.zeros(68)
    profile[9], profile[30] = 4.0, 5.0
    labels = np.zeros(68)
    labels[9] = 1.0  # a face only
    assert vocab.privacy_score(labels, profile) == pytest.approx(4.0 / 5.0)
    labels[30] = 0.5  # half-confident card: 0.5 * 5 / 5 = 0.5 < 0.8
    assert vocab.privacy_score(labels, profile) == pytest.approx(0.8)
