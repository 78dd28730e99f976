"""QSL's mask run-length encoding, and masks turned into polygons along pixel edges.

QSL's RLE is not COCO's: pixels are taken in row-major order (index ``y * width + x``),
and ``counts`` alternates run lengths starting with an *on* run (which may be 0).

`mask_to_polygons` outlines every connected part of a mask with one polygon that runs
along the pixel **edges** (the original library traced pixel centres, so each shape shrank
by a pixel). The rules, chosen so each polygon is a faithful region of the plane:

* Parts are 4-connected: pixels that touch only at a corner are separate parts (two
  squares meeting at a point do not form one region). The background is 8-connected, so
  a hole is background that no 8-connected path links to the mask's border.
* Holes are kept. A polygon is a single ring, so each hole is joined to the ring around it
  by a zero-width cut (a "keyhole"): the ring walks down the cut, around the hole in the
  opposite direction, and back up. The shoelace area is exactly the part's pixel area,
  even-odd filling gives back exactly the part's pixels, and shapely's ``make_valid``
  turns the ring into a polygon with proper interiors. Pass ``fill_holes=True`` for
  outer rings only.
* Rings run clockwise on screen (x right, y down), i.e. positive shoelace area, starting
  at the top-left corner of the part's first pixel in row-major order; straight runs are
  merged so only corners remain. Parts are listed in row-major order of that pixel.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from mira.errors import ValidationError

__all__ = ["decode_rle", "encode_rle", "mask_to_polygons", "rle_to_polygons"]

#: Where each directed edge of pixel (x, y) starts, as an offset from (x, y): 0 the top
#: edge (moving right), 1 the right edge (down), 2 the bottom edge (left), 3 the left (up).
_START = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=np.int64)


#: OpenCV's limit on the pixels of an image it reads (CV_IO_MAX_IMAGE_PIXELS).
MAX_PIXELS = 1 << 30


def decode_rle(counts: Sequence[int], width: int, height: int) -> np.ndarray:
    """A (height, width) bool mask from QSL run lengths (even positions are on runs)."""
    for name, value in (("width", width), ("height", height)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValidationError(f"mask {name} must be a positive integer, got {value!r}")
    if width * height > MAX_PIXELS:
        raise ValidationError(
            f"a {width}x{height} mask is larger than any image mira reads ({MAX_PIXELS} pixels)"
        )
    if isinstance(counts, (str, bytes)) or not isinstance(counts, Sequence | np.ndarray):
        raise ValidationError(f"mask counts must be a list of integers, got {counts!r:.60}")
    if len(counts) == 0:
        raise ValidationError("mask counts are empty")
    if not all(
        isinstance(c, (int, np.integer)) and not isinstance(c, bool) and c >= 0 for c in counts
    ):
        raise ValidationError("mask counts must be non-negative integers")
    total = sum(int(c) for c in counts)  # Python's ints: no overflow, however large
    if total != width * height:
        raise ValidationError(
            f"mask counts add up to {total} pixels, but a {width}x{height} mask has "
            f"{width * height}"
        )
    runs = np.asarray(counts, dtype=np.int64)
    values = np.arange(len(runs)) % 2 == 0
    return np.repeat(values, runs).reshape(height, width)


def encode_rle(mask: np.ndarray) -> list[int]:
    """QSL run lengths of a 2-D mask (any non-zero value is on), row-major, on run first.

    An all-off mask gives ``[0, w*h]`` and an all-on mask ``[w*h, 0]``, as QSL writes them.
    """
    array = np.asarray(mask)
    if array.ndim != 2 or array.size == 0:
        raise ValidationError(f"a mask must be a non-empty 2-D array, got shape {array.shape}")
    flat = array.reshape(-1) != 0
    size = flat.size
    if not flat.any():
        return [0, size]
    if flat.all():
        return [size, 0]
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate(([0], changes, [size]))
    runs = np.diff(bounds).tolist()
    return runs if flat[0] else [0, *runs]


def rle_to_polygons(
    counts: Sequence[int],
    mask_size: tuple[int, int],
    image_size: tuple[float, float],
    fill_holes: bool = False,
) -> list[np.ndarray]:
    """Polygons in image pixels for a QSL mask drawn on a (width, height) canvas."""
    width, height = mask_size
    mask = decode_rle(counts, width, height)
    scale = (image_size[0] / width, image_size[1] / height)
    return mask_to_polygons(mask, scale=scale, fill_holes=fill_holes)


def mask_to_polygons(
    mask: np.ndarray, scale: tuple[float, float] = (1.0, 1.0), fill_holes: bool = False
) -> list[np.ndarray]:
    """One (K, 2) float64 ring per 4-connected part of `mask`, along pixel edges.

    Vertices are pixel corners times `scale` (sx, sy), so a mask on a smaller canvas than
    the image lands on the image. See the module docstring for holes and ordering.
    """
    array = np.asarray(mask)
    if array.ndim != 2:
        raise ValidationError(f"a mask must be a 2-D array, got shape {array.shape}")
    fg = np.pad(array != 0, 1)
    if not fg.any():
        return []
    rings, ring_pixels = _trace(fg)
    parts = _group_by_part(fg, rings, ring_pixels)
    sx, sy = float(scale[0]), float(scale[1])
    polygons = []
    for outer, holes in parts:
        ring = outer if fill_holes or not holes else _keyhole(fg, outer, holes)
        corners = _corners(ring) - 1  # undo the padding
        polygons.append(corners.astype(np.float64) * np.array([sx, sy]))
    return polygons


def _trace(fg: np.ndarray) -> tuple[list[np.ndarray], list[tuple[int, int]]]:
    """Every boundary ring of a padded bool mask, as (K, 2) int vertex arrays.

    Each directed boundary edge keeps the mask on its right on screen. At a vertex where
    two mask pixels touch only diagonally, the walk turns to stay on the same pixel, which
    keeps diagonal neighbours apart (4-connected parts).
    """
    h, w = fg.shape
    inner = fg[1:-1, 1:-1] & fg[:-2, 1:-1] & fg[2:, 1:-1] & fg[1:-1, :-2] & fg[1:-1, 2:]
    border = fg.copy()
    border[1:-1, 1:-1] &= ~inner  # only pixels with a background neighbour have edges
    ys, xs = np.nonzero(border)  # row-major; the padding keeps every neighbour in range

    def at(dx: int, dy: int) -> np.ndarray:
        return fg[ys + dy, xs + dx]

    # The four edges of each mask pixel that exist (a background neighbour across them).
    exists = np.stack([~at(0, -1), ~at(1, 0), ~at(0, 1), ~at(-1, 0)], axis=1)
    # Successor of each edge: the same pixel's next edge when the pixel ahead is background
    # (turn), else straight on when the pixel diagonally ahead is background, else turn
    # onto that diagonal pixel. Entries are (ahead, straight, diagonal) as (dx, dy, edge).
    rules = [
        ((1, 0), (1, -1), (0, 0, 1), (1, 0, 0), (1, -1, 3)),  # top edge, moving right
        ((0, 1), (1, 1), (0, 0, 2), (0, 1, 1), (1, 1, 0)),  # right edge, moving down
        ((-1, 0), (-1, 1), (0, 0, 3), (-1, 0, 2), (-1, 1, 1)),  # bottom edge, moving left
        ((0, -1), (-1, -1), (0, 0, 0), (0, -1, 3), (-1, -1, 2)),  # left edge, moving up
    ]
    targets = np.empty((len(ys), 4), dtype=np.int64)
    for d, (ahead, diagonal, turn, straight, onto) in enumerate(rules):
        turning = ~at(*ahead)
        going_straight = ~turning & ~at(*diagonal)
        pick = np.where(turning, 0, np.where(going_straight, 1, 2))
        options = np.array([turn, straight, onto], dtype=np.int64)[pick]
        targets[:, d] = ((ys + options[:, 1]) * w + xs + options[:, 0]) * 4 + options[:, 2]
    pixel_ids = (ys * w + xs).astype(np.int64)
    edge_ids = (pixel_ids[:, None] * 4 + np.arange(4))[exists]  # sorted: row-major, then edge
    nxt = np.searchsorted(edge_ids, targets[exists]).tolist()

    visited = bytearray(len(edge_ids))
    rings: list[np.ndarray] = []
    first_pixels: list[tuple[int, int]] = []
    for start in range(len(edge_ids)):
        if visited[start]:
            continue
        loop = []
        edge = start
        while not visited[edge]:
            visited[edge] = 1
            loop.append(edge)
            edge = nxt[edge]
        ids = edge_ids[loop]
        pixel, direction = ids // 4, ids % 4
        vertices = np.stack([pixel % w, pixel // w], axis=1) + _START[direction]
        rings.append(vertices)
        first_pixels.append((int(pixel[0] % w), int(pixel[0] // w)))
    return rings, first_pixels


def _signed_area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)) / 2


def _group_by_part(
    fg: np.ndarray, rings: list[np.ndarray], pixels: list[tuple[int, int]]
) -> list[tuple[np.ndarray, list[np.ndarray]]]:
    """Pair each part's outer ring (positive area) with its holes (negative area)."""
    import cv2

    _, labels = cv2.connectedComponents(fg.astype(np.uint8), connectivity=4, ltype=cv2.CV_32S)
    outer: dict[int, np.ndarray] = {}
    holes: dict[int, list[np.ndarray]] = {}
    order: list[int] = []
    for ring, (x, y) in zip(rings, pixels, strict=True):
        part = int(labels[y, x])
        if _signed_area(ring) > 0:
            outer[part] = ring
            order.append(part)  # rings come in row-major order of their first pixel
        else:
            holes.setdefault(part, []).append(ring)
    return [(outer[p], holes.get(p, [])) for p in order]


def _keyhole(fg: np.ndarray, outer: np.ndarray, holes: list[np.ndarray]) -> np.ndarray:
    """One ring: each hole joined by a vertical zero-width cut to the ring above it.

    A cut starts at the hole's top-left corner and goes up between two mask pixels until it
    meets a vertex that is not surrounded by the mask: a vertex of this part's outer ring or
    of another of its holes, always higher up, so the joins form a tree rooted at the outer
    ring. That vertex is never a pinch point (the two pixels below it are both in the mask),
    so it occurs once in its ring.
    """
    rings = [outer, *holes]
    position: dict[tuple[int, int], tuple[int, int]] = {}
    for r, ring in enumerate(rings):
        for i, (x, y) in enumerate(ring.tolist()):
            position.setdefault((x, y), (r, i))
    attached: dict[tuple[int, int], list[int]] = {}  # (ring, vertex index) -> holes
    starts: dict[int, int] = {0: 0}
    for r, ring in enumerate(holes, start=1):
        top = ring[:, 1].min()
        x = int(ring[ring[:, 1] == top, 0].min())
        y = int(top)
        starts[r] = position[(x, y)][1]
        cy = y - 1
        while fg[cy - 1 : cy + 1, x - 1 : x + 1].all():
            cy -= 1
        attached.setdefault(position[(x, cy)], []).append(r)

    def walk(r: int) -> Iterator[tuple[int, int] | int]:
        """The ring's vertices from its start; an int asks for that hole to be walked,
        after which the hole is closed and the cut climbed back to this vertex."""
        ring = rings[r].tolist()
        n = len(ring)
        for k in range(n):
            i = (starts[r] + k) % n
            yield ring[i]
            for child in attached.get((r, i), ()):
                yield child
                yield rings[child][starts[child]].tolist()
                yield ring[i]

    out: list[tuple[int, int]] = []
    stack = [walk(0)]  # explicit stack: holes can nest deeply (a hole joined to a hole)
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
        elif isinstance(item, int):
            stack.append(walk(item))
        else:
            out.append(item)
    return np.asarray(out, dtype=np.int64)


def _corners(ring: np.ndarray) -> np.ndarray:
    """Drop vertices in the middle of straight runs (the cuts' U-turns are kept)."""
    before = ring - np.roll(ring, 1, axis=0)
    after = np.roll(ring, -1, axis=0) - ring
    cross = before[:, 0] * after[:, 1] - before[:, 1] * after[:, 0]
    dot = (before * after).sum(axis=1)
    return ring[(cross != 0) | (dot <= 0)]
