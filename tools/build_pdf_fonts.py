"""Make the font subsets trialpack embeds in the PDFs it writes (the annotated CRF).

Run: python tools/build_pdf_fonts.py        (writes fileformats/data/fonts/*-cp1252.ttf)

Each is the Windows-1252 repertoire of a DejaVu font bundled with matplotlib, without
hinting; the DejaVu licence (Bitstream Vera) allows redistribution and is copied beside them.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fileformats.pdf import FONT_FILES, SUBSET_FOLDER, font_folder, make_subset, subset_file  # noqa: E402

USED = [("DejaVu Sans", False), ("DejaVu Sans", True), ("DejaVu Sans Mono", False)]


def main() -> None:
    SUBSET_FOLDER.mkdir(parents=True, exist_ok=True)
    for family, bold in USED:
        subset_file(family, bold).write_bytes(make_subset(family, bold))
        print(subset_file(family, bold))
    shutil.copyfile(font_folder() / "LICENSE_DEJAVU", SUBSET_FOLDER / "LICENSE_DEJAVU")
    assert set(USED) <= set(FONT_FILES)


if __name__ == "__main__":
    main()
