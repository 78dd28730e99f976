"""Drawing: exact pixel coverage of fills, colours, masks, labels, the render folder."""

from __future__ import annotations

import math
import os
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mira.core import Annotation, Categories, Label, Scene
from mira.core.image import decode_image, encode_image
from mira.errors import ConfigError, MiraError, OutputError, ValidationError
from mira.ops.colors import default_color
from mira.ops.render import (
    SHEET_NAME,
    annotate,
    contact_sheet,
    draw,
    font_pixels,
    polygon_mask,
    render_scenes,
    thumbnail,
)

CATS = Categories(["dog", "cat"])
GREY = 100


def grey(width: int = 40, height: int = 30) -> np.ndarray:
    return np.full((height, width, 3), GREY, dtype=np.uint8)


def corners(x1: float, y1: float, x2: float, y2: float) -> np.ndarray:
    return np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]], dtype=np.float64)


def centres_inside(lo: float, hi: float, size: int) -> range:
    """Pixels i whose centre i + 0.5 lies in [lo, hi)."""
    first = min(max(math.ceil(lo - 0.5), 0), size)
    last = min(max(math.ceil(hi - 0.5), 0), size)
    return range(first, max(first, last))


def test_box_fill_covers_exactly_its_area() -> None:
    mask = polygon_mask(corners(2, 3, 7, 5), 10, 10)
    assert mask.sum() == 10
    assert mask[3:5, 2:7].all()


@settings(max_examples=80, deadline=None)
@given(
    st.floats(-5, 25, allow_nan=False),
    st.floats(-5, 25, allow_nan=False),
    st.floats(0, 20, allow_nan=False),
    st.floats(0, 20, allow_nan=False),
)
def test_box_fill_is_the_pixel_centre_rule(x: float, y: float, w: float, h: float) -> None:
    mask = polygon_mask(corners(x, y, x + w, y + h), 20, 24)
    rows, cols = centres_inside(y, y + h, 20), centres_inside(x, x + w, 24)
    expected = np.zeros((20, 24), dtype=bool)
    expected[rows.start : rows.stop, cols.start : cols.stop] = True
    assert np.array_equal(mask, expected)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 3), st.booleans())
def test_polygon_fill_ignores_vertex_order(shift: int, reverse: bool) -> None:
    points = np.array([[1.0, 1.0], [15.5, 2.0], [12.0, 14.25], [3.0, 9.0]])
    other = np.roll(points, shift, axis=0)
    if reverse:
        other = other[::-1]
    assert np.array_equal(polygon_mask(points, 16, 16), polygon_mask(other, 16, 16))


def test_triangle_fill_matches_centre_rule() -> None:
    mask = polygon_mask(np.array([[0, 0], [10, 0], [0, 10]], dtype=float), 12, 12)
    rows, cols = np.indices((12, 12))
    assert np.array_equal(mask, (rows + 0.5) + (cols + 0.5) < 10)


def scene(**kw) -> Scene:
    fields = {
        "categories": CATS,
        "image": grey(),
        "annotations": [
            Annotation(CATS["dog"], 2, 4, 12, 14),
            Annotation(CATS["cat"], points=[[20, 5], [35, 5], [35, 25]], score=0.5),
        ],
        "key": "k1",
    }
    return Scene(**(fields | kw))


def test_annotated_is_image_sized_and_leaves_the_scene_alone() -> None:
    original = scene()
    out = original.annotated()
    assert out.shape == (30, 40, 3) and out.dtype == np.uint8
    assert (out != GREY).any()
    assert (original.image == GREY).all()


def test_opaque_fills_use_category_colours_by_default() -> None:
    out = scene().annotated(opaque=True, labels=False)
    assert tuple(out[8, 6]) == default_color(0)  # inside the dog box
    assert tuple(out[20, 33]) == default_color(1)  # inside the cat triangle
    assert tuple(out[28, 2]) == (GREY,) * 3


def test_explicit_color_paints_everything_in_it() -> None:
    out = scene().annotated(opaque=True, labels=False, color=(0, 255, 0))
    assert tuple(out[8, 6]) == (0, 255, 0)
    assert tuple(out[20, 33]) == (0, 255, 0)
    drawn = out[(out != GREY).any(axis=2)]
    assert (drawn == (0, 255, 0)).all()


def test_outline_leaves_the_inside_untouched() -> None:
    image = grey(100, 100)
    ann = Annotation(CATS["dog"], 20.5, 20.5, 80.25, 70.75)
    out = draw(image, [ann], {"dog": (255, 0, 0)}, labels=False)
    assert tuple(out[45, 50]) == (GREY,) * 3
    assert out[20, 50, 0] > GREY and out[70, 50, 0] > GREY  # top and bottom edges


def test_labels_draw_a_coloured_box_above_the_annotation() -> None:
    image = grey(200, 100)
    ann = Annotation(CATS["dog"], 50, 60, 150, 90)
    with_labels = draw(image, [ann], {"dog": (255, 0, 0)}, labels=True, font_px=14)
    without = draw(image, [ann], {"dog": (255, 0, 0)}, labels=False, font_px=14)
    changed = (with_labels != without).any(axis=2)
    rows, cols = np.nonzero(changed)
    assert rows.max() < 61 and rows.min() >= 60 - 30
    assert cols.min() >= 50
    assert tuple(with_labels[52, 51]) == (255, 0, 0)  # the label background


def test_image_labels_are_listed_top_left() -> None:
    plain = scene().annotated(labels=True)
    labelled = scene(labels=[Label(CATS["cat"])]).annotated(labels=True)
    assert (plain[:5, :5] != labelled[:5, :5]).any()


def test_hidden_mask_area_is_darkened_not_blackened() -> None:
    mask = {"visible": False, "name": "m", "contour": [[0, 20], [10, 20], [10, 29], [0, 29]]}
    out = scene(masks=[mask], annotations=[]).annotated()
    assert tuple(out[25, 5]) == (35, 35, 35)
    assert tuple(out[5, 30]) == (GREY,) * 3


def test_fontsize_follows_points_and_dpi() -> None:
    assert font_pixels("x-large", 72, (10, 10)) == pytest.approx(14.4)
    assert font_pixels(20, 144, (10, 10)) == 40
    assert font_pixels(None, 72, (900, 450)) == 20
    with pytest.raises(MiraError, match="unknown fontsize 'huge'"):
        font_pixels("huge", 72, (10, 10))


def test_show_needs_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(MiraError, match=r"pip install 'mira-cli\[plot\]'"):
        scene().show()


def test_show_and_show_annotations() -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = scene().show(annotation_kwargs={"labels": False})
    assert shown.get_array().shape == (30, 40, 3)
    fig, axes = scene().show_annotations()
    assert axes.shape == (2, 1)
    assert [ax.get_title() for ax in axes[:, 0]] == ["dog", "cat"]
    assert axes[0, 0].images[0].get_array().shape == (10, 10, 3)
    assert scene(annotations=[]).show_annotations() is None
    plt.close("all")


def test_thumbnail_and_contact_sheet_sizes() -> None:
    assert thumbnail(grey(400, 100), cell=64).shape == (16, 64, 3)
    assert thumbnail(grey(10, 20), cell=64).shape == (64, 32, 3)
    sheet = contact_sheet([(f"k{i}", grey(64, 64)) for i in range(5)], columns=4, cell=64)
    assert sheet.shape[0] > sheet.shape[1] / 4  # two rows
    assert sheet.shape[1] == 4 * (64 + 6) + 6


def encoded_scenes(n: int = 5) -> list[Scene]:
    out = []
    for i in range(n):
        image = grey(32 + 4 * i, 24)
        image[:, : 4 + i] = 200
        out.append(scene(image=encode_image(image, "png"), key=f"s{i}"))
    return out


def test_render_writes_one_image_per_key_and_a_sheet(tmp_path) -> None:
    out = tmp_path / "renders"
    report = render_scenes(encoded_scenes(), out, jobs=1, image_format="png")
    assert sorted(os.listdir(out)) == [SHEET_NAME] + [f"s{i}.png" for i in range(5)]
    assert report == {
        "output": str(out),
        "scenes": 5,
        "format": "png",
        "quality": None,
        "encoded": {"png": 5},
        "contact_sheet": SHEET_NAME,
        "contact_sheet_scenes": 5,
    }
    drawn = decode_image((out / "s2.png").read_bytes(), "s2")
    assert np.array_equal(drawn, encoded_scenes()[2].annotated(fontsize=None))
    assert [p for p in os.listdir(tmp_path) if p != "renders"] == []


def test_render_is_identical_with_any_number_of_jobs(tmp_path) -> None:
    render_scenes(encoded_scenes(), tmp_path / "one", jobs=1, sheet_size=3)
    render_scenes(encoded_scenes(), tmp_path / "two", jobs=2, sheet_size=3)
    names = sorted(os.listdir(tmp_path / "one"))
    assert names == sorted(os.listdir(tmp_path / "two"))
    for name in names:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_render_limit_and_unnamed_scenes(tmp_path) -> None:
    data = [s.assign(key=None) for s in encoded_scenes()]
    report = render_scenes(iter(data), tmp_path / "out", limit=2, jobs=1)
    assert report["scenes"] == 2
    assert sorted(os.listdir(tmp_path / "out")) == ["000000.jpg", "000001.jpg", SHEET_NAME]


def test_render_output_folder_rules(tmp_path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    render_scenes(encoded_scenes(1), out, jobs=1)  # an empty folder is fine
    with pytest.raises(OutputError, match="already exists"):
        render_scenes(encoded_scenes(2), out, jobs=1)
    render_scenes(encoded_scenes(2), out, jobs=1, force=True)
    assert len(os.listdir(out)) == 3
    data = tmp_path / "in" / "data.tar"
    data.parent.mkdir()
    data.write_bytes(b"")
    for target in (data.parent, data):
        with pytest.raises(OutputError, match="input"):
            render_scenes(encoded_scenes(1), target, force=True, inputs=[str(data)])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"colormap": {"dog": "#ff0000"}}, ConfigError, "category 'cat' not in the colormap"),
        ({"image_format": "gif"}, ValidationError, "image format must be one of keep, jpg, png"),
        ({"quality": 101}, ValidationError, "quality must be a whole number from 1 to 100"),
        ({"limit": 0}, ValidationError, "limit must be at least 1"),
    ],
)
def test_render_failures_leave_nothing(tmp_path, kwargs, error, message) -> None:
    with pytest.raises(error, match=message):
        render_scenes(encoded_scenes(), tmp_path / "out", jobs=1, **kwargs)
    assert os.listdir(tmp_path) == []


def test_render_refuses_duplicate_keys_and_empty_input(tmp_path) -> None:
    twice = encoded_scenes(1) * 2
    with pytest.raises(ValidationError, match="s0.jpg; keys must be unique"):
        render_scenes(twice, tmp_path / "out", jobs=1)
    with pytest.raises(ValidationError, match="no scenes to render"):
        render_scenes([], tmp_path / "out", jobs=1)
    assert os.listdir(tmp_path) == []


def test_annotate_uses_colormap() -> None:
    out = annotate(
        scene(), opaque=True, labels=False, colormap={"dog": [1, 2, 3], "cat": "#0a0b0c"}
    )
    assert tuple(out[8, 6]) == (1, 2, 3)
    assert tuple(out[20, 33]) == (10, 11, 12)


def test_interrupted_render_leaves_nothing(tmp_path) -> None:
    def stream():
        yield from encoded_scenes(2)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        render_scenes(stream(), tmp_path / "out", jobs=1)
    assert os.listdir(tmp_path) == []


def test_render_folder_gets_the_usual_permissions(tmp_path) -> None:
    umask = os.umask(0o022)
    try:
        render_scenes(encoded_scenes(1), tmp_path / "out", jobs=1)
    finally:
        os.umask(umask)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755
