"""Which pixels may hold each of the 68 VISPR attributes: Un-masked, Human or Text (PrivObfNet's mask types).

PrivObfNet (Tay et al., WACV 2024) gives attributes a mask type. A Human attribute can only be seen on a
person, so its attention map is weighted by a person mask; a Text attribute is only ever written, so its
map is weighted by a text mask (OCR word boxes); an Un-masked attribute is a whole object or a whole scene
and keeps its map as it is. The three kinds are the paper's. The paper's Table 1 names the type of 15
attributes (PAPER_TABLE1 below, followed exactly: Safe, Credit Card, Student ID, Ticket, Legal Involvement
Un-masked; Age, Weight, Eye Color, Nudity, Race Human; Full Name, Birth City, Handwriting, Marital Status,
Birth Date Text). The other 53 are privscan's choice, with the reason for each next to it. When in doubt
such an attribute is Un-masked: a wrong Human/Text type would cut away pixels that give the information away.
"""

from __future__ import annotations

from enum import IntEnum

from privscan.vocab import attribute_ids


class MaskType(IntEnum):
    """Stored as small integers in model configs and checkpoints (0 = Un-masked)."""

    UNMASKED = 0
    HUMAN = 1
    TEXT = 2


U, H, T = MaskType.UNMASKED, MaskType.HUMAN, MaskType.TEXT

MASK_TYPES: dict[str, MaskType] = {
    "a0_safe": U,  # "nothing private" is a property of the whole image, not of a region
    # --- Personal description: read off a person's body ------------------------------------------
    "a1_age_approx": H,  # age is read from the face and body
    "a2_weight_approx": H,  # body shape
    "a3_height_approx": H,  # body extent
    "a4_gender": H,  # face, hair and body
    "a5_eye_color": H,  # eyes are part of the person
    "a6_hair_color": H,  # hair is part of the person
    "a7_fingerprint": H,  # fingertips are on the person's hand (close-ups are still segmented as skin/person)
    "a8_signature": T,  # a signature is handwritten text; OCR detectors box it as a word
    "a9_face_complete": H,  # faces lie inside the person mask
    "a10_face_partial": H,  # idem
    "a11_tattoo": H,  # ink on skin
    "a12_semi_nudity": H,  # exposed skin belongs to the person
    "a13_full_nudity": H,  # idem
    "a16_race": H,  # read from face and skin
    "a17_color": H,  # skin colour
    "a18_ethnic_clothing": H,  # clothing is worn: the person mask covers it
    # --- Personal description: written facts ----------------------------------------------------
    "a19_name_full": T,  # names are text (name tags, documents, screens)
    "a20_name_first": T,  # idem
    "a21_name_last": T,  # idem
    "a23_birth_city": T,  # appears as text on documents
    "a24_birth_date": T,  # appears as text on documents and cards
    "a25_nationality": U,  # shown by flags, passports' covers and emblems as much as by text: keep the whole map
    "a26_handwriting": T,  # handwriting is text; OCR boxes it
    "a27_marital_status": T,  # the paper's Table 1 (privscan had Un-masked: rings and ceremonies are scene cues)
    # --- Documents: the whole object leaks (photo, layout, chip, barcode), not only its text ------------
    "a29_ausweis": U,
    "a30_credit_card": U,
    "a31_passport": U,
    "a32_drivers_license": U,
    "a33_student_id": U,
    "a35_mail": U,
    "a37_receipt": U,
    "a38_ticket": U,
    # --- Health: shown by a person's body or by objects around them ------------------------------
    "a39_disability_physical": U,  # wheelchairs, crutches and prostheses are outside the person mask
    "a41_injury": U,  # bandages, hospital beds, casts
    "a43_medicine": U,  # pill boxes, prescriptions, medical devices
    # --- Employment, personal life, relationships: scene-level context ----------------------------
    "a46_occupation": U,  # uniforms plus tools and workplaces
    "a48_occassion_work": U,  # offices, meetings: the scene
    "a49_phone": T,  # a phone number is digits: text
    "a55_religion": U,  # symbols, buildings, garments
    "a56_sexual_orientation": U,  # context (flags, parades, couples)
    "a57_culture": U,
    "a58_hobbies": U,  # equipment and places
    "a59_sports": U,  # fields, balls, gear
    "a60_occassion_personal": U,  # parties, weddings: the scene
    "a61_opinion_general": U,  # signs and banners are often pictures, not only words
    "a62_opinion_political": U,  # idem (posters, rallies)
    "a70_education_history": U,  # certificates, gowns, campus: objects and scenes
    "a99_legal_involvement": U,  # police, court rooms
    "a64_rel_personal": H,  # the relationship is shown by the people themselves (hugging, posing together)
    "a65_rel_social": H,  # groups of friends: the people
    "a66_rel_professional": H,  # colleagues: the people
    "a67_rel_competitors": H,  # opponents in a match: the people
    "a68_rel_spectators": H,  # a crowd of spectators: the people
    "a69_rel_views": U,  # shared views (rallies, events): the scene
    # --- Whereabouts ---------------------------------------------------------------------------------
    "a73_landmark": U,  # a landmark or street sign is a building/object; signs are more than their words
    "a74_address_current_complete": T,  # addresses are written text
    "a75_address_current_partial": T,
    "a78_address_home_complete": T,
    "a79_address_home_partial": T,
    "a82_date_time": T,  # dates and times are text (timestamps, clocks' digits, tickets)
    # --- Internet: on screens, the text is what leaks -------------------------------------------------
    "a85_username": T,
    "a90_email": T,
    "a92_email_content": T,
    "a97_online_conversation": T,
    # --- Automobile ---------------------------------------------------------------------------------
    "a102_vehicle_ownership": U,  # the vehicle itself
    "a103_license_plate_complete": T,  # a plate is a short text string; OCR boxes it
    "a104_license_plate_partial": T,
}


# The 15 attributes whose mask type the paper's Table 1 gives (its "Nudity" is VISPR's complete nudity; semi-nudity
# follows it by privscan's choice). MASK_TYPES agrees with every one of them (tests/test_privobfnet_masks.py).
PAPER_TABLE1: dict[str, MaskType] = {
    "a0_safe": U,
    "a30_credit_card": U,
    "a33_student_id": U,
    "a38_ticket": U,
    "a99_legal_involvement": U,
    "a1_age_approx": H,
    "a2_weight_approx": H,
    "a5_eye_color": H,
    "a13_full_nudity": H,
    "a16_race": H,
    "a19_name_full": T,
    "a23_birth_city": T,
    "a26_handwriting": T,
    "a27_marital_status": T,
    "a24_birth_date": T,
}


def mask_type(attribute_id: str) -> MaskType:
    """The mask type of one attribute id (KeyError for an unknown id)."""
    return MASK_TYPES[attribute_id]


def mask_type_vector() -> list[int]:
    """Mask types as integers in VISPR vector order (68 entries), as models and checkpoints store them."""
    return [int(MASK_TYPES[a]) for a in attribute_ids()]
