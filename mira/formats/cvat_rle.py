"""CVAT's mask run-length encoding (CVAT for images 1.1 ``<mask>`` elements).

A mask covers the box ``left, top, width, height`` (pixels) of its image. ``rle`` lists
run lengths over that box in row-major order, alternating off and on runs and starting
with an *off* run (which may be 0), written as ``"3, 5, 7"``. The mask becomes polygons
along pixel edges (`mira.formats.qsl_rle.mask_to_polygons`), shifted to the box.
"""

from __future__ import annotations

import numpy as np

from mira.errors import FormatError

__all__ = ["decode_mask", "mask_polygons", "parse_counts"]


def parse_counts(text: str, where: str) -> list[int]:
    """The run lengths in CVAT's ``rle`` text."""
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        raise FormatError(f"{where}: rle must be integers separated by commas") from None
    if any(c < 0 for c in counts):
        raise FormatError(f"{where}: rle run lengths cannot be negative")
    return counts


def decode_mask(counts: list[int], width: int, height: int, where: str) -> np.ndarray:
    """The (height, width) bool mask of CVAT run lengths (off first)."""
    runs = np.asarray(counts, dtype=np.int64)
    total = int(runs.sum())
    if total != width * height:
        raise FormatError(
            f"{where}: rle covers {total} pixels, but a {width}x{height} mask has {width * height}"
        )
    values = np.arange(len(runs)) % 2 == 1
    return np.repeat(values, runs).reshape(height, width)


def mask_polygons(mask: np.ndarray, left: int, top: int) -> list[np.ndarray]:
    """One (K, 2) ring in image pixels per 4-connected part of a mask placed at left, top."""
    from mira.formats.qsl_rle import mask_to_polygons

    return [ring + np.array([left, top], dtype=np.float64) for ring in mask_to_polygons(mask)]
