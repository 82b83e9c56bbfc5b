"""What a recogniser may be told besides the text: the phone region numbers without a country code default to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PiiSettings:
    phone_region: str = "US"
