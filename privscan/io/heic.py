"""HEIC/HEIF (iPhone photos) for Pillow: registers a decoder when one is installed.

The default install has `pi-heif`: the decode-only build of pillow-heif (libheif + libde265, LGPL-3.0,
dynamically linked; its own code BSD-3-Clause). The full `pillow-heif` wheel also bundles the x265 encoder
and is GPL-2.0 as a binary, so privscan does not depend on it, but uses it when a user has it installed.
AVIF needs neither: Pillow (>= 11.2) decodes it itself.
"""

from __future__ import annotations

import importlib

#: decoder packages in the order they are tried
HEIF_MODULES = ("pi_heif", "pillow_heif")


def _register() -> str | None:
    for name in HEIF_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        module.register_heif_opener()
        return name
    return None


#: the package that decodes HEIC here, or None
HEIF_MODULE = _register()
HEIF_AVAILABLE = HEIF_MODULE is not None
