"""QSL run lengths and mask outlines: exact examples and properties over random masks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mira.errors import ValidationError
from mira.formats.qsl_rle import decode_rle, encode_rle, mask_to_polygons, rle_to_polygons

ON, OFF = True, False


def masks(max_side: int = 12) -> st.SearchStrategy[np.ndarray]:
    shapes = st.tuples(st.integers(1, max_side), st.integers(1, max_side))
    return shapes.flatmap(lambda s: arrays(np.bool_, s))


def shoelace(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)) / 2


def even_odd_fill(ring: np.ndarray, width: int, height: int, scale=(1.0, 1.0)) -> np.ndarray:
    """Pixels whose centre is inside `ring` by the even-odd rule (independent of cv2)."""
    ys, xs = np.mgrid[0:height, 0:width]
    px = ((xs + 0.5) * scale[0]).reshape(-1, 1)
    py = ((ys + 0.5) * scale[1]).reshape(-1, 1)
    a, b = ring, np.roll(ring, -1, axis=0)
    ax, ay, bx, by = a[:, 0], a[:, 1], b[:, 0], b[:, 1]
    spans = (ay > py) != (by > py)
    with np.errstate(divide="ignore", invalid="ignore"):
        cross_x = ax + (py - ay) * (bx - ax) / (by - ay)
    inside = (spans & (px < cross_x)).sum(axis=1) % 2 == 1
    return inside.reshape(height, width)


def components(mask: np.ndarray) -> list[np.ndarray]:
    """4-connected parts in row-major order of their first pixel."""
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=4)
    parts = [labels == k for k in range(1, count)]
    return sorted(parts, key=lambda p: np.flatnonzero(p.reshape(-1))[0])


def filled(part: np.ndarray) -> np.ndarray:
    """The part with its holes (background not 8-connected to the border) filled."""
    padded = np.pad(part, 1).astype(np.uint8)
    outside = padded.copy()
    flood = np.zeros((padded.shape[0] + 2, padded.shape[1] + 2), np.uint8)
    cv2.floodFill(outside, flood, (0, 0), 2, flags=8)
    return (outside != 2)[1:-1, 1:-1]


# --------------------------------------------------------------------------- RLE


def test_reference_examples() -> None:
    assert decode_rle([1, 2, 1], 2, 2).tolist() == [[ON, OFF], [OFF, ON]]
    assert decode_rle([0, 2, 2], 2, 2).tolist() == [[OFF, OFF], [ON, ON]]
    assert decode_rle([0, 1, 2, 2, 2, 1], 4, 2).tolist() == [[OFF, ON, ON, OFF]] * 2


def test_encode_reference_rules() -> None:
    assert encode_rle(np.zeros((2, 3), bool)) == [0, 6]
    assert encode_rle(np.ones((2, 3), bool)) == [6, 0]
    assert encode_rle(np.array([[255, 0], [0, 255]], np.uint8)) == [1, 2, 1]
    assert encode_rle(np.array([[0, 0], [1, 1]])) == [0, 2, 2]  # no trailing zero run
    assert encode_rle(np.array([[0, 1, 1, 0], [0, 1, 1, 0]])) == [0, 1, 2, 2, 2, 1]


def test_decoding_all_on_and_all_off() -> None:
    assert decode_rle([0, 6], 3, 2).sum() == 0
    assert decode_rle([6, 0], 3, 2).all()
    assert decode_rle([6], 3, 2).all()


@pytest.mark.parametrize(
    "counts,width,height,message",
    [
        ([], 2, 2, "mask counts are empty"),
        ([1, 2], 2, 2, "mask counts add up to 3 pixels, but a 2x2 mask has 4"),
        ([5], 2, 2, "mask counts add up to 5 pixels, but a 2x2 mask has 4"),
        ([2, -1, 3], 2, 2, "mask counts must be non-negative integers"),
        ([2, 1.5, 0.5], 2, 2, "mask counts must be non-negative integers"),
        ([True, 3], 2, 2, "mask counts must be non-negative integers"),
        ("1234", 2, 2, "mask counts must be a list of integers, got '1234'"),
        ([4], 0, 2, "mask width must be a positive integer, got 0"),
        ([4], 2, "2", "mask height must be a positive integer, got '2'"),
    ],
)
def test_bad_counts(counts, width, height, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        decode_rle(counts, width, height)
    assert str(info.value) == message


def test_encode_refuses_empty_or_3d() -> None:
    with pytest.raises(ValidationError, match="non-empty 2-D"):
        encode_rle(np.zeros((0, 3), bool))
    with pytest.raises(ValidationError, match="non-empty 2-D"):
        encode_rle(np.zeros((2, 2, 2), bool))


@settings(max_examples=100, deadline=None)
@given(masks(20))
def test_encode_decode_round_trip(mask: np.ndarray) -> None:
    counts = encode_rle(mask)
    assert sum(counts) == mask.size
    assert all(c > 0 for c in counts[1:-1])  # maximal runs: only the ends may be 0
    h, w = mask.shape
    assert np.array_equal(decode_rle(counts, w, h), mask)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=12), st.integers(1, 5))
def test_decode_encode_is_canonical(counts: list[int], width: int) -> None:
    total = sum(counts)
    if total == 0 or total % width:
        return
    mask = decode_rle(counts, width, total // width)
    again = encode_rle(mask)
    assert np.array_equal(decode_rle(again, width, total // width), mask)


# --------------------------------------------------------------------------- outlines


def test_reference_mask_follows_pixel_edges() -> None:
    # Columns 1-2 of a 4x2 canvas on a 200x100 image: x 50..150 (the original gave 50..100).
    polygons = rle_to_polygons([0, 1, 2, 2, 2, 1], (4, 2), (200, 100))
    assert len(polygons) == 1
    assert polygons[0].tolist() == [[50, 0], [150, 0], [150, 100], [50, 100]]
    assert polygons[0].dtype == np.float64


def test_single_pixel_is_a_square_not_a_point() -> None:
    mask = np.zeros((3, 4), bool)
    mask[1, 2] = True
    (ring,) = mask_to_polygons(mask, scale=(2.5, 0.5))
    assert ring.tolist() == [[5.0, 0.5], [7.5, 0.5], [7.5, 1.0], [5.0, 1.0]]


def test_empty_mask_has_no_polygons() -> None:
    assert mask_to_polygons(np.zeros((4, 4), bool)) == []


def test_diagonal_neighbours_are_separate_parts() -> None:
    mask = np.array([[1, 0], [0, 1]], bool)
    rings = mask_to_polygons(mask)
    assert [r.tolist() for r in rings] == [
        [[0, 0], [1, 0], [1, 1], [0, 1]],
        [[1, 1], [2, 1], [2, 2], [1, 2]],
    ]


def test_l_shape_keeps_only_corners() -> None:
    mask = np.array([[1, 0, 0], [1, 0, 0], [1, 1, 1]], bool)
    (ring,) = mask_to_polygons(mask)
    assert ring.tolist() == [[0, 0], [1, 0], [1, 2], [3, 2], [3, 3], [0, 3]]


def test_hole_is_kept_with_a_keyhole_cut() -> None:
    mask = np.ones((5, 5), bool)
    mask[2, 2] = False
    (ring,) = mask_to_polygons(mask)
    assert ring.tolist() == [
        [0, 0], [2, 0], [2, 3], [3, 3], [3, 2], [2, 2], [2, 0], [5, 0], [5, 5], [0, 5],
    ]  # fmt: skip
    assert shoelace(ring) == 24
    # Repaired the way mira.geometry repairs rings: a polygon with one interior (plus the
    # cut as a line, which has no area).
    geometry = shapely.make_valid(shapely.Polygon(ring))
    polygons = [g for g in getattr(geometry, "geoms", [geometry]) if g.geom_type == "Polygon"]
    assert len(polygons) == 1 and len(polygons[0].interiors) == 1
    assert geometry.area == 24
    assert np.array_equal(even_odd_fill(ring, 5, 5), mask)


def test_fill_holes_gives_the_outer_ring() -> None:
    mask = np.ones((5, 5), bool)
    mask[1:4, 1:4] = False
    (ring,) = mask_to_polygons(mask, fill_holes=True)
    assert ring.tolist() == [[0, 0], [5, 0], [5, 5], [0, 5]]


def test_island_in_a_hole_is_its_own_polygon() -> None:
    mask = np.ones((7, 7), bool)
    mask[1:6, 1:6] = False
    mask[3, 3] = True
    frame, island = mask_to_polygons(mask, scale=(10, 10))
    assert shoelace(frame) == (49 - 25) * 100
    assert island.tolist() == [[30, 30], [40, 30], [40, 40], [30, 40]]


def test_nested_holes_stacked_vertically() -> None:
    mask = np.ones((9, 3), bool)
    mask[1, 1] = mask[3, 1] = mask[5, 1] = mask[7, 1] = False
    (ring,) = mask_to_polygons(mask)
    assert shoelace(ring) == 27 - 4
    assert np.array_equal(even_odd_fill(ring, 3, 9), mask)


def test_diagonal_gap_is_not_a_hole() -> None:
    # A ring of pixels whose corner pixel is missing: the inside touches the outside
    # diagonally, so with an 8-connected background it is not a hole.
    mask = np.ones((3, 3), bool)
    mask[1, 1] = False
    mask[0, 0] = False
    (ring,) = mask_to_polygons(mask)
    assert shoelace(ring) == 7
    assert np.array_equal(even_odd_fill(ring, 3, 3), mask)


def test_mask_smaller_than_image_is_scaled() -> None:
    counts = encode_rle(np.array([[0, 0, 0], [0, 1, 1]]))
    (ring,) = rle_to_polygons(counts, (3, 2), (301, 100))
    assert ring.tolist() == [[301 / 3, 50], [301, 50], [301, 100], [301 / 3, 100]]


def test_mask_bigger_than_image_is_scaled_down() -> None:
    (ring,) = rle_to_polygons([4, 0], (2, 2), (1, 1))
    assert ring.tolist() == [[0, 0], [1, 0], [1, 1], [0, 1]]


@settings(max_examples=100, deadline=None)
@given(masks(12), st.sampled_from([(1.0, 1.0), (2.0, 0.5), (25.0, 12.5)]))
def test_outlines_reproduce_every_part_exactly(mask: np.ndarray, scale) -> None:
    rings = mask_to_polygons(mask, scale=scale)
    parts = components(mask)
    assert len(rings) == len(parts)
    h, w = mask.shape
    for ring, part in zip(rings, parts, strict=True):
        assert ring.dtype == np.float64 and ring.ndim == 2 and ring.shape[1] == 2
        assert not np.array_equal(ring[0], ring[-1])
        assert shoelace(ring) == pytest.approx(part.sum() * scale[0] * scale[1])
        assert np.array_equal(even_odd_fill(ring, w, h, scale), part)
        valid = shapely.make_valid(shapely.Polygon(ring))
        assert valid.area == pytest.approx(part.sum() * scale[0] * scale[1])
        ys, xs = np.nonzero(part)
        assert (
            ring[:, 0].min() == xs.min() * scale[0]
            and ring[:, 0].max() == (xs.max() + 1) * scale[0]
        )
        assert (
            ring[:, 1].min() == ys.min() * scale[1]
            and ring[:, 1].max() == (ys.max() + 1) * scale[1]
        )
        # The ring starts at the top-left corner of the part's first pixel.
        assert ring[0].tolist() == [xs[0] * scale[0], ys[0] * scale[1]]


@settings(max_examples=60, deadline=None)
@given(masks(12))
def test_fill_holes_covers_each_part_and_its_holes(mask: np.ndarray) -> None:
    rings = mask_to_polygons(mask, fill_holes=True)
    parts = components(mask)
    h, w = mask.shape
    for ring, part in zip(rings, parts, strict=True):
        expected = filled(part)
        assert shoelace(ring) == expected.sum()
        assert np.array_equal(even_odd_fill(ring, w, h), expected)


def test_large_annulus_is_exact() -> None:
    yy, xx = np.mgrid[0:512, 0:512]
    disc = (xx - 256) ** 2 + (yy - 256) ** 2 < 200**2
    disc &= (xx - 256) ** 2 + (yy - 256) ** 2 > 50**2  # an annulus: one part with a hole
    (ring,) = mask_to_polygons(disc)
    assert shoelace(ring) == disc.sum()
