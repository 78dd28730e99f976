"""SAHI's slicing of every JPEG of a dataset folder, as SAHI's users call it. Runs with the
Python of SAHI's own venv (sizes.py makes it), never with ours.

    python sahi_tiles.py DATASET_DIR OUT_DIR SIZE OVERLAP [EXT]

EXT ".jpg" writes JPEG slices (Pillow's default quality, 75); without it SAHI picks the
format itself (PNG for JPEG sources).
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(folder: str, out: str, size: str, overlap: str, ext: str | None = None) -> None:
    from sahi.slicing import slice_image

    for path in sorted(Path(folder).glob("*.jpg")):
        slice_image(
            image=str(path),
            output_file_name=path.stem,
            output_dir=out,
            slice_height=int(size),
            slice_width=int(size),
            overlap_height_ratio=float(overlap),
            overlap_width_ratio=float(overlap),
            out_ext=ext,
            verbose=False,
        )


if __name__ == "__main__":
    main(*sys.argv[1:])
