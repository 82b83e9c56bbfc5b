"""The one vocabulary: VISPR's 68 privacy attributes, friendly aliases and privacy profiles.

Every finding, model output, report row and `--hide` name maps onto these ids. The attribute list and the
30 users' 1-5 sensitivities come from VISPR (Orekondy et al., ICCV 2017; Apache-2.0, see data/VISPR-LICENSE).
"""

from __future__ import annotations

import csv
import difflib
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from privscan.errors import UsageError

SAFE_ID = "a0_safe"


@dataclass(frozen=True)
class Attribute:
    index: int  # position in a VISPR prediction vector
    id: str  # e.g. "a9_face_complete"
    group: str  # e.g. "Personal Description"
    name: str  # e.g. "Face (Complete)"


def _data_text(name: str) -> str:
    return resources.files("privscan").joinpath("data", name).read_text(encoding="utf-8")


@cache
def attributes() -> tuple[Attribute, ...]:
    """The 68 attributes in VISPR vector order."""
    rows = csv.DictReader(_data_text("attributes.tsv").splitlines(), delimiter="\t")
    out = tuple(Attribute(int(r["idx"]), r["attribute_id"], r["group"], r["description"]) for r in rows)
    assert [a.index for a in out] == list(range(len(out))), "attributes.tsv must be in index order"
    return out


@cache
def by_id() -> dict[str, Attribute]:
    return {a.id: a for a in attributes()}


class UnknownAttributeWarning(UserWarning):
    """An attribute id VISPR does not know: a typo that would otherwise lose findings without a word.

    A warning at run time (the run goes on); the test suite turns it into an error (pyproject filterwarnings).
    """


def check_ids(ids: Iterable[str], *, where: str) -> frozenset[str]:
    """`ids` as a frozenset, after warning (UnknownAttributeWarning) about any that is not a VISPR id."""
    out = frozenset(ids)
    unknown = sorted(out - by_id().keys())
    if unknown:
        warnings.warn(f"{where}: unknown VISPR attribute id(s) {', '.join(unknown)}", UnknownAttributeWarning,
                      stacklevel=2)
    return out


def attribute_ids() -> list[str]:
    return [a.id for a in attributes()]


def num_attributes() -> int:
    return len(attributes())


def groups() -> list[str]:
    seen: dict[str, None] = {}
    for a in attributes():
        seen.setdefault(a.group)
    return list(seen)


# Friendly names for groups of ids; what `--hide` accepts besides the ids themselves.
ALIASES: dict[str, tuple[str, ...]] = {
    "face": ("a9_face_complete", "a10_face_partial"),
    "name": ("a19_name_full", "a20_name_first", "a21_name_last"),
    "address": (
        "a74_address_current_complete",
        "a75_address_current_partial",
        "a78_address_home_complete",
        "a79_address_home_partial",
    ),
    "card": ("a30_credit_card",),
    "email": ("a90_email",),
    "phone": ("a49_phone",),
    "date": ("a24_birth_date", "a82_date_time"),
    "birthdate": ("a24_birth_date",),
    "username": ("a85_username",),
    "document": (
        "a29_ausweis",
        "a30_credit_card",
        "a31_passport",
        "a32_drivers_license",
        "a33_student_id",
        "a35_mail",
        "a37_receipt",
        "a38_ticket",
    ),
    "id": ("a29_ausweis", "a31_passport", "a32_drivers_license", "a33_student_id"),
    "plate": ("a103_license_plate_complete", "a104_license_plate_partial"),
    # barcodes and QR codes: the code detector reports every code as a machine-readable ticket/pass
    "code": ("a38_ticket",),
    "vehicle": ("a102_vehicle_ownership", "a103_license_plate_complete", "a104_license_plate_partial"),
    "nudity": ("a12_semi_nudity", "a13_full_nudity"),
    "signature": ("a8_signature",),
    "handwriting": ("a26_handwriting",),
    "fingerprint": ("a7_fingerprint",),
    "tattoo": ("a11_tattoo",),
    "location": ("a73_landmark", "a74_address_current_complete", "a75_address_current_partial"),
    "internet": ("a85_username", "a90_email", "a92_email_content", "a97_online_conversation"),
    "health": ("a39_disability_physical", "a41_injury", "a43_medicine"),
    "person": (
        "a1_age_approx",
        "a2_weight_approx",
        "a3_height_approx",
        "a4_gender",
        "a5_eye_color",
        "a6_hair_color",
        "a9_face_complete",
        "a10_face_partial",
        "a11_tattoo",
        "a12_semi_nudity",
        "a13_full_nudity",
        "a16_race",
        "a17_color",
        "a18_ethnic_clothing",
    ),
    "text": (
        "a8_signature",
        "a19_name_full",
        "a20_name_first",
        "a21_name_last",
        "a23_birth_city",
        "a24_birth_date",
        "a26_handwriting",
        "a29_ausweis",
        "a30_credit_card",
        "a31_passport",
        "a32_drivers_license",
        "a33_student_id",
        "a35_mail",
        "a37_receipt",
        "a38_ticket",
        "a49_phone",
        "a74_address_current_complete",
        "a75_address_current_partial",
        "a78_address_home_complete",
        "a79_address_home_partial",
        "a82_date_time",
        "a85_username",
        "a90_email",
        "a92_email_content",
        "a97_online_conversation",
        "a103_license_plate_complete",
        "a104_license_plate_partial",
    ),
}


def alias_table() -> dict[str, tuple[str, ...]]:
    """Aliases plus one per group (lower-case, spaces to '-') and 'all'."""
    table = dict(ALIASES)
    for g in groups():
        if g == "Safe":
            continue
        table.setdefault(g.lower().replace(" ", "-"), tuple(a.id for a in attributes() if a.group == g))
    table["all"] = tuple(a.id for a in attributes() if a.id != SAFE_ID)
    return table


def resolve_names(names: str | list[str]) -> list[str]:
    """Turn a comma list of ids / aliases (case-insensitive) into attribute ids, in VISPR order.

    Unknown names raise UsageError suggesting the closest known ones.
    """
    items = names.split(",") if isinstance(names, str) else [n for part in names for n in part.split(",")]
    items = [i.strip().lower() for i in items if i.strip()]
    if not items:
        raise UsageError("no attribute names given", hint="see `privscan attributes`")
    table = alias_table()
    known_ids = by_id()
    short = {a.split("_", 1)[1]: a for a in known_ids}  # "face_complete" -> "a9_face_complete"
    chosen: set[str] = set()
    for item in items:
        if item in known_ids:
            chosen.add(item)
        elif item in table:
            chosen.update(table[item])
        elif item in short:
            chosen.add(short[item])
        else:
            vocabulary = [*table, *known_ids, *short]
            close = difflib.get_close_matches(item, vocabulary, n=3, cutoff=0.5)
            hint = f"did you mean {', '.join(close)}?" if close else "see `privscan attributes`"
            raise UsageError(f"unknown attribute or alias {item!r}", hint=hint)
    return [a.id for a in attributes() if a.id in chosen]


# ---- privacy preference profiles -------------------------------------------------------------------


@cache
def user_profiles() -> np.ndarray:
    """Sensitivities as a (68, 30) array in attribute order; a0_safe weighs 0 for every user."""
    rows = list(csv.reader(_data_text("user_profiles.tsv").splitlines(), delimiter="\t"))
    index = {a.id: a.index for a in attributes()}
    n_users = len(rows[0]) - 2
    prefs = np.zeros((num_attributes(), n_users), dtype=np.float64)
    for r in rows:
        prefs[index[r[0]]] = [float(x) for x in r[2:]]
    return prefs


def profile_vector(*, user: int | None = None, path: Path | None = None) -> np.ndarray:
    """A (68,) sensitivity vector on VISPR's 1-5 scale, a0_safe = 0.

    Default: the mean over VISPR's 30 user profiles. `user` picks one profile (0-based); `path` reads a
    two-column TSV/CSV `attribute_id,sensitivity` (missing attributes take the mean profile's value).
    """
    prefs = user_profiles()
    if user is not None:
        if not 0 <= user < prefs.shape[1]:
            raise UsageError(f"--user must be between 0 and {prefs.shape[1] - 1}, got {user}")
        return prefs[:, user].copy()
    vec = prefs.mean(axis=1)
    if path is not None:
        vec = vec.copy()
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as e:
            raise UsageError(f"cannot read profile {path}: {e.strerror}") from e
        index = {a.id: a.index for a in attributes()}
        for n, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#") or line.lower().startswith("attribute"):
                continue
            parts = [p.strip() for p in line.replace("\t", ",").split(",")]
            if len(parts) < 2 or parts[0] not in index:
                raise UsageError(f"{path}:{n}: expected `attribute_id,sensitivity`, got {line!r}")
            try:
                value = float(parts[-1])
            except ValueError as e:
                raise UsageError(f"{path}:{n}: sensitivity {parts[-1]!r} is not a number") from e
            if not 0 <= value <= 5:
                raise UsageError(f"{path}:{n}: sensitivity must be within 0..5, got {value}")
            vec[index[parts[0]]] = value
        vec[index[SAFE_ID]] = 0.0
    return vec


def privacy_score(attribute_scores: np.ndarray, profile: np.ndarray, pooling: str = "max") -> np.ndarray:
    """VISPR's privacy risk: pool over attributes of score x sensitivity, scaled to 0..1 (divide by 5).

    `attribute_scores` is (..., 68) with values in 0..1 (labels or probabilities).
    """
    weighted = np.asarray(attribute_scores, dtype=np.float64) * profile / 5.0
    if pooling == "max":
        return weighted.max(axis=-1)
    if pooling == "sum":
        return np.minimum(weighted.sum(axis=-1), 1.0)
    if pooling == "mean":
        return weighted.sum(axis=-1) / max(int((profile > 0).sum()), 1)
    raise UsageError(f"unknown pooling {pooling!r}", hint="use max, sum or mean")
