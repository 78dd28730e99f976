"""mira.core.utils, the original's helper module: exact values on small inputs."""

from __future__ import annotations

import http.server
import io
import threading
from pathlib import Path

import numpy as np
import pytest

from mira.core import utils
from mira.core.image import encode_image
from mira.errors import ImageError, ValidationError


def test_box_maths() -> None:
    a = np.array([[0, 0, 1, 1]])
    b = np.array([[0, 0, 0.5, 0.5], [1, 1, 2, 2]])
    assert utils.compute_iou(a, b).tolist() == [[0.25, 0.0]]
    assert utils.compute_coverage(a, b).tolist() == [[0.25, 0.0]]
    assert utils.compute_coverage(b, a).tolist() == [[1.0], [0.0]]
    # No area: 0, where the original gave NaN.
    flat = np.array([[3, 3, 3, 3]])
    assert utils.compute_iou(flat, flat).tolist() == [[0.0]]
    assert utils.compute_coverage(flat, flat).tolist() == [[0.0]]
    overlap = utils.has_overlap(np.array([[0, 0, 2, 2], [5, 5, 7, 7]]),
                                np.array([[1, 1, 3, 3], [2, 0, 4, 2]]))  # fmt: skip
    assert overlap.tolist() == [[True, False], [False, False]]  # touching is no overlap
    assert utils.box2pts(1, 2, 3, 4).tolist() == [[1, 2], [3, 2], [3, 4], [1, 4]]


def test_contour_maths() -> None:
    square = np.array([[0, 0], [2, 0], [2, 2], [0, 2]])
    right = np.array([[1, 0], [3, 0], [3, 2], [1, 2]])
    far = square + 10
    assert utils.compute_iou_for_contour_pair(square, right) == pytest.approx(1 / 3)
    assert utils.compute_coverage_for_contour_pair(square, right) == pytest.approx(0.5)
    iou = utils.compute_contour_iou([square, right], [right, far])
    np.testing.assert_allclose(iou, [[1 / 3, 0], [1, 0]])
    assert utils.compute_contour_coverage([square], [right, far]).tolist() == [[0.5, 0.0]]
    assert utils.contour_to_box(right).tolist() == [1, 0, 3, 2]
    assert utils.contours_to_boxes([square, far]).tolist() == [[0, 0, 2, 2], [10, 10, 12, 12]]
    calls = []

    def callback(a, b):
        calls.append((a.tolist(), b.tolist()))
        return 7.0

    out = utils.compute_filtered_pairwise_contour_operation([square], [right, far], callback)
    assert out.dtype == np.float32 and out.tolist() == [[7.0, 0.0]] and len(calls) == 1
    one, two = utils.compute_contour_binary_masks(square, right)
    assert one.shape == (2, 3) and one.sum() == 4 and two[:, 1:].all() and not two[:, 0].any()


def test_crop_polygon() -> None:
    triangle = np.array([[0, 0], [10, 0], [0, 10]])
    (piece,) = utils.crop_polygon(triangle, 0, 0, 5, 5)
    assert sorted(map(tuple, piece.tolist())) == [(0, 0), (0, 5), (5, 0), (5, 5)]
    assert utils.crop_polygon(triangle, 20, 20, 30, 30) == []
    assert utils.crop_polygon(triangle[:2], 0, 0, 5, 5) == []


def test_largest_unique() -> None:
    # The original's own example: foo A (0,0,10,10), B = C (0,0,20,20).
    boxes = np.array([[0, 0, 10, 10], [0, 0, 20, 20], [0, 0, 20, 20]])
    assert utils.find_largest_unique_boxes(boxes).tolist() == [0, 2]
    assert utils.find_largest_unique_boxes(boxes, method="coverage").tolist() == [2]
    assert utils.find_largest_unique_boxes(boxes[:1]).tolist() == [0]
    assert utils.find_largest_unique_boxes(np.zeros((0, 4))).tolist() == []
    contours = [utils.box2pts(*b) for b in boxes]
    assert utils.find_largest_unique_contours(contours).tolist() == [0, 2]
    assert utils.find_largest_unique_contours(contours, method="coverage").tolist() == [2]
    with pytest.raises(ValidationError, match="method must be 'iou' or 'coverage'"):
        utils.find_largest_unique_boxes(boxes, method="area")


def test_transforms() -> None:
    flip = np.array([[-1.0, 0, 100], [0, 1, 0]])
    assert utils.transform_contour(np.array([[10, 5], [30, 5]]), flip).tolist() == [
        [90, 5],
        [70, 5],
    ]
    boxes = np.array([[10, 10, 30, 20], [90, 0, 120, 10]])
    out = utils.transform_bboxes(boxes, flip, width=100, height=50)
    assert out.tolist() == [[70, 10, 90, 20], [0, 0, 10, 10]]
    perspective = np.array([[2.0, 0, 0], [0, 2, 0], [0, 0, 2]])  # divides back: identity
    assert utils.transform_bboxes(boxes, perspective, clip=False).tolist() == boxes.tolist()
    with pytest.raises(ValidationError, match="needs width and height to clip"):
        utils.transform_bboxes(boxes, flip)
    with pytest.raises(ValidationError, match=r"must be 2x3 or 3x3, got shape \(2, 2\)"):
        utils.transform_contour(boxes[:, :2], np.eye(2))


def test_lists_and_split() -> None:
    assert utils.flatten([[1, 2], [], [3]]) == [1, 2, 3]
    groups = [(k, list(v)) for k, v in utils.groupby_unsorted([3, 1, 4, 1, 5], key=lambda v: v % 2)]
    assert groups == [(1, [3, 1, 1, 5]), (0, [4])]
    result = utils.split_apply_combine(
        ["b1", "a1", "b2", "a2"], key=lambda s: s[0], func=lambda items: [i.upper() for i in items]
    )
    assert result == ["B1", "A1", "B2", "A2"]
    with pytest.raises(ValidationError, match="func returned 1 results for the 2 items of key 'a'"):
        utils.split_apply_combine(["a1", "a2"], key=lambda s: s[0], func=lambda items: [0])
    parts = utils.split(list(range(10)), [0.7, 0.3])
    assert [len(p) for p in parts] == [7, 3] and sorted(sum(parts, [])) == list(range(10))
    assert utils.split(list(range(10)), [0.7, 0.3]) == parts  # reproducible
    grouped = utils.split(list("abcdef"), [0.5, 0.5], group=[0, 0, 0, 1, 1, 1])
    assert sorted(map(sorted, grouped)) == [["a", "b", "c"], ["d", "e", "f"]]


def test_images_read_save_blank(tmp_path: Path) -> None:
    blank = utils.get_blank_image(4, 3, 3, cval=7)
    assert blank.shape == (3, 4, 3) and blank.dtype == np.uint8 and (blank == 7).all()
    assert utils.get_blank_image(4, 3, 0, cval=9).tolist() == [[9] * 4] * 3
    image = np.zeros((3, 4, 3), np.uint8)
    image[0, 0] = (255, 0, 0)
    path = tmp_path / "a.png"
    utils.save(image, path)
    assert np.array_equal(utils.read(str(path)), image) and list(tmp_path.iterdir()) == [path]
    buffer = io.BytesIO()
    utils.save(image, buffer, extension=".png")
    assert np.array_equal(utils.read(io.BytesIO(buffer.getvalue())), image)
    assert utils.read(image) is image
    assert np.array_equal(utils.read(io.BytesIO(utils.image2bytes(image, ".bmp"))), image)
    with pytest.raises(ImageError, match=r"nope\.png: image file not found$"):
        utils.read(str(tmp_path / "nope.png"))
    with pytest.raises(ImageError, match=r"cannot encode a \(3, 4, 3\) uint8 image as '\.nope'"):
        utils.save(image, tmp_path / "b.nope")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]  # nothing left behind


def test_apply_mask_in_place() -> None:
    image = np.full((4, 4, 3), 9, np.uint8)
    utils.apply_mask(
        image, [{"visible": False, "name": "m", "contour": [[0, 0], [2, 0], [2, 2], [0, 2]]}]
    )
    # Mask fills include their edges, as the original's (and Scene.image's) do.
    assert image[:, :, 0].tolist() == [[0, 0, 0, 9], [0, 0, 0, 9], [0, 0, 0, 9], [9] * 4]


def test_read_from_a_url(tmp_path: Path) -> None:
    image = np.full((2, 3, 3), 40, np.uint8)
    (tmp_path / "a.png").write_bytes(encode_image(image, "png"))

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        assert np.array_equal(utils.read(f"{url}/a.png"), image)
        with pytest.raises(
            ImageError, match=r"/b\.png: cannot download image: HTTP 404 File not found$"
        ):
            utils.read(f"{url}/b.png")
    finally:
        server.shutdown()
        server.server_close()
