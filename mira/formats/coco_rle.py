"""COCO's run-length encoded masks, and polygons filled back into masks exactly.

COCO's RLE is not QSL's (`mira.formats.qsl_rle`): pixels are taken in **column-major**
order (index ``x * height + y``) and ``counts`` alternate starting with an *off* run (which
may be 0). A segmentation holds either the counts as a list ("uncompressed", what COCO's
crowd annotations use) or COCO's compressed string: each count, after the third taken as
the difference from the count two places before, in little-endian groups of 5 bits, 6 bits
a character (bit 0x20: more groups follow; bit 0x10 of the last group: the sign), plus 48.

`rasterize` fills polygons the way `mask_to_polygons` traces them: a pixel is inside when
its centre is, by the even-odd rule within each polygon and the union across polygons. For
polygons along pixel edges (every mask read from COCO) this gives back exactly the mask, so
an RLE read, turned into polygons and written again keeps its counts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mira.errors import ValidationError

__all__ = ["decode_counts", "encode_counts", "mask_to_rle", "rasterize", "rle_to_mask"]


def decode_counts(text: str) -> list[int]:
    """The run lengths of a compressed COCO RLE string."""
    counts: list[int] = []
    value = shift = 0
    for char in text:
        group = ord(char) - 48
        if not 0 <= group < 64:
            raise ValidationError(f"RLE string has a character outside COCO's alphabet: {char!r}")
        value |= (group & 0x1F) << shift
        shift += 5
        if group & 0x20:
            continue
        if group & 0x10:
            value -= 1 << shift  # the last group's 0x10 bit is the sign
        if len(counts) > 2:
            value += counts[-2]
        counts.append(value)
        value = shift = 0
    if shift:
        raise ValidationError("RLE string ends in the middle of a count")
    return counts


def encode_counts(counts: Sequence[int]) -> str:
    """The compressed COCO RLE string of `counts`."""
    out: list[str] = []
    for index, count in enumerate(counts):
        value = int(count) - (int(counts[index - 2]) if index > 2 else 0)
        while True:
            group = value & 0x1F
            value >>= 5
            more = value != -1 if group & 0x10 else value != 0
            out.append(chr(group + (0x20 if more else 0) + 48))
            if not more:
                break
    return "".join(out)


def rle_to_mask(counts: Sequence[int], height: int, width: int) -> np.ndarray:
    """A (height, width) bool mask from COCO run lengths (column-major, off run first)."""
    if any(isinstance(c, bool) or not isinstance(c, (int, np.integer)) or c < 0 for c in counts):
        raise ValidationError("RLE counts must be non-negative integers")
    if any(c > width * height for c in counts):  # (and too big for int64, maybe)
        raise ValidationError(f"an RLE count is larger than the {width}x{height} mask")
    runs = np.asarray(counts, dtype=np.int64)
    total = int(runs.sum())
    if total != width * height:
        raise ValidationError(
            f"RLE counts add up to {total} pixels, but a {width}x{height} mask has {width * height}"
        )
    values = np.arange(len(runs)) % 2 == 1
    return np.repeat(values, runs).reshape(width, height).T


def mask_to_rle(mask: np.ndarray) -> list[int]:
    """COCO run lengths of a 2-D mask: column-major, starting with an off run."""
    flat = np.asarray(mask, dtype=bool).T.reshape(-1)
    if flat.size == 0:
        return []
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    runs = np.diff(np.concatenate(([0], changes, [flat.size]))).tolist()
    return [0, *runs] if flat[0] else runs


def rasterize(polygons: Sequence[np.ndarray], height: int, width: int) -> np.ndarray:
    """A (height, width) bool mask of the pixels whose centres lie inside `polygons`
    ((K, 2) float x, y rings): even-odd within a polygon, union across polygons."""
    mask = np.zeros((height, width), dtype=bool)
    for ring in polygons:
        mask |= _fill(np.asarray(ring, dtype=np.float64).reshape(-1, 2), height, width)
    return mask


def _fill(ring: np.ndarray, height: int, width: int) -> np.ndarray:
    """Even-odd fill of one ring: every edge toggles the pixels right of where it crosses
    each row's centre line (edges cover rows half-open, so each crossing counts once)."""
    x0, y0 = ring[:, 0], ring[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    slanted = y0 != y1
    x0, y0, x1, y1 = x0[slanted], y0[slanted], x1[slanted], y1[slanted]
    low, high = np.minimum(y0, y1), np.maximum(y0, y1)
    first = np.clip(np.ceil(low - 0.5), 0, height).astype(np.int64)
    stop = np.clip(np.ceil(high - 0.5), 0, height).astype(np.int64)
    spans = stop - first
    toggles = np.zeros((height, width + 1), dtype=np.int32)
    if spans.sum() > 0:
        edge = np.repeat(np.arange(len(spans)), spans)
        row = first[edge] + (np.arange(len(edge)) - np.repeat(np.cumsum(spans) - spans, spans))
        centre = row + 0.5
        x = x0[edge] + (centre - y0[edge]) * (x1[edge] - x0[edge]) / (y1[edge] - y0[edge])
        column = np.clip(np.ceil(x - 0.5), 0, width).astype(np.int64)
        np.add.at(toggles, (row, column), 1)
    return (np.cumsum(toggles, axis=1)[:, :width] % 2).astype(bool)
