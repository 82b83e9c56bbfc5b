"""Writes tests/data/astronaut_gps.heic: the fixture of the HEIC tests (run once; the file is committed).

It needs an HEIC *encoder*, which privscan's own decoder (pi-heif) does not have: run it in a scratch
environment with `pip install pillow-heif` (its wheel bundles x265, GPL-2.0; privscan does not depend on
it). The picture is scikit-image's astronaut (NASA, public domain) at 320 x 320 with an EXIF GPS position
and capture time, as an iPhone writes them.
"""

from pathlib import Path

import pillow_heif
from PIL import Image
from skimage import data

OUT = Path(__file__).parent / "astronaut_gps.heic"


def main() -> None:
    img = Image.fromarray(data.astronaut()).resize((320, 320))
    exif = Image.Exif()
    exif[0x010F] = "Apple"
    exif[0x0110] = "iPhone 15"
    exif.get_ifd(0x8769)[0x9003] = "2026:06:01 12:30:00"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (48.0, 51.0, 29.88), 3: "E", 4: (2.0, 17.0, 40.2)})
    pillow_heif.register_heif_opener()
    img.save(OUT, format="HEIF", quality=60, exif=exif.tobytes())
    print(OUT, OUT.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
