"""drop_duplicates, compute_iou and the dedupe stream: exact survivors and counts."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mira import geometry
from mira.core import Annotation, Categories, Scene
from mira.errors import ValidationError
from mira.ops.dedupe import dedupe_scenes, duplicates

CATS = Categories(["foo", "bar"])
IMAGE = np.zeros((40, 50, 3), dtype=np.uint8)


def box(name: str, x1: float, y1: float, x2: float, y2: float, tag: str = "") -> Annotation:
    return Annotation(CATS[name], x1, y1, x2, y2, metadata={"tag": tag})


def poly(name: str, points: list, tag: str = "") -> Annotation:
    return Annotation(CATS[name], points=points, metadata={"tag": tag})


def tags(scene: Scene) -> list[str]:
    return [a.metadata["tag"] for a in scene.annotations]


@pytest.fixture
def reference_scene() -> Scene:
    """The reference's worked example: foo A, B, C (C equal to B) and bar D."""
    return Scene(
        CATS,
        IMAGE,
        [
            box("foo", 0, 0, 10, 10, "A"),
            box("foo", 0, 0, 20, 20, "B"),
            box("foo", 0, 0, 20, 20, "C"),
            box("bar", 0, 0, 10, 10, "D"),
        ],
    )


def test_reference_example_iou(reference_scene: Scene) -> None:
    assert tags(reference_scene.drop_duplicates()) == ["A", "C", "D"]
    assert tags(reference_scene.drop_duplicates(threshold=1, method="iou")) == ["A", "C", "D"]


def test_reference_example_coverage(reference_scene: Scene) -> None:
    assert tags(reference_scene.drop_duplicates(method="coverage")) == ["C", "D"]


def test_survivors_keep_original_order() -> None:
    scene = Scene(
        CATS,
        IMAGE,
        [
            box("foo", 0, 0, 30, 30, "big"),
            box("bar", 5, 5, 6, 6, "bar"),
            box("foo", 1, 1, 2, 2, "small"),
            box("foo", 20, 20, 25, 25, "mid"),
            box("foo", 35, 35, 40, 40, "outside"),
        ],
    )
    assert tags(scene.drop_duplicates(method="coverage")) == ["big", "bar", "outside"]
    assert tags(scene.drop_duplicates(threshold=0.5)) == tags(scene)


def test_ties_keep_the_last_of_equal_duplicates() -> None:
    scene = Scene(CATS, IMAGE, [box("foo", 0, 0, 5, 5, str(i)) for i in range(40)])
    assert tags(scene.drop_duplicates()) == ["39"]


def test_partial_overlap_thresholds() -> None:
    # IoU of these two is 50/150 = 1/3; coverage of the first in the second is 0.5.
    scene = Scene(CATS, IMAGE, [box("foo", 0, 0, 10, 10, "a"), box("foo", 5, 0, 15, 10, "b")])
    assert tags(scene.drop_duplicates(threshold=1 / 3)) == ["b"]
    assert tags(scene.drop_duplicates(threshold=0.34)) == ["a", "b"]
    assert tags(scene.drop_duplicates(threshold=0.5, method="coverage")) == ["b"]
    assert tags(scene.drop_duplicates(threshold=0.51, method="coverage")) == ["a", "b"]


def test_zero_area_annotations_are_never_dropped() -> None:
    scene = Scene(
        CATS,
        IMAGE,
        [box("foo", 3, 3, 3, 3, "p1"), box("foo", 3, 3, 3, 3, "p2"), box("foo", 0, 0, 9, 9, "big")],
    )
    assert tags(scene.drop_duplicates(method="coverage")) == ["p1", "p2", "big"]
    assert tags(scene.drop_duplicates(method="iou")) == ["p1", "p2", "big"]


def test_polygons_are_compared_exactly() -> None:
    triangle = [[0, 0], [10, 0], [0, 10]]
    scene = Scene(
        CATS,
        IMAGE,
        [
            poly("foo", triangle, "tri"),
            box("foo", 0, 0, 10, 10, "square"),
            poly("foo", [[20, 20], [30, 20], [20, 30]], "far"),
            box("bar", 0, 0, 10, 10, "other-category"),
        ],
    )
    assert tags(scene.drop_duplicates(method="coverage")) == ["square", "far", "other-category"]
    assert tags(scene.drop_duplicates(method="iou", threshold=0.5)) == [
        "square",
        "far",
        "other-category",
    ]
    assert tags(scene.drop_duplicates(method="iou", threshold=0.51)) == tags(scene)


def test_bad_arguments() -> None:
    scene = Scene(CATS, IMAGE, [])
    with pytest.raises(ValidationError, match="method must be 'iou' or 'coverage', got 'area'"):
        scene.drop_duplicates(method="area")
    with pytest.raises(ValidationError, match=r"threshold must be in \(0, 1\], got 1.5"):
        scene.drop_duplicates(threshold=1.5)
    with pytest.raises(ValidationError, match=r"threshold must be in \(0, 1\], got 0"):
        scene.drop_duplicates(threshold=0)


def test_ten_thousand_boxes_with_duplicates() -> None:
    rng = np.random.default_rng(3)
    xy = rng.integers(0, 4000, size=(5000, 2)).astype(float)
    boxes = np.column_stack([xy, xy + rng.integers(2, 40, size=(5000, 2))])
    anns = [box("foo", *b, tag=str(i)) for i, b in enumerate(np.repeat(boxes, 2, axis=0))]
    dropped = np.array(duplicates(anns, 1.0, "iou"))
    # of each identical pair the first goes; chance duplicates among the 5000 are possible
    assert dropped[0::2].all()
    unique_rows = len(np.unique(boxes, axis=0))
    assert int((~dropped).sum()) == unique_rows


def test_compute_iou_signs_and_values() -> None:
    a = Scene(CATS, IMAGE, [box("foo", 0, 0, 10, 10), poly("bar", [[0, 0], [10, 0], [0, 10]])])
    b = Scene(
        CATS,
        IMAGE,
        [box("foo", 5, 0, 15, 10), box("bar", 0, 0, 10, 10), box("bar", 30, 30, 31, 31)],
    )
    iou = a.compute_iou(b)
    assert iou.tolist() == [[1 / 3, -1.0, 0.0], [-1 / 11, 0.5, 0.0]]
    assert not np.signbit(iou[0, 2])


@st.composite
def scenes(draw: st.DrawFn) -> Scene:
    n = draw(st.integers(0, 12))
    anns = []
    for i in range(n):
        x, y = draw(st.integers(0, 8)), draw(st.integers(0, 8))
        w, h = draw(st.integers(0, 6)), draw(st.integers(0, 6))
        anns.append(box(draw(st.sampled_from(["foo", "bar"])), x, y, x + w, y + h, str(i)))
    return Scene(CATS, IMAGE, anns)


@settings(max_examples=60, deadline=None)
@given(scenes(), st.sampled_from([1.0, 0.5]), st.sampled_from(["iou", "coverage"]))
def test_dedupe_properties(scene: Scene, threshold: float, method: str) -> None:
    kept = scene.drop_duplicates(threshold=threshold, method=method)
    positions = [int(t) for t in tags(kept)]
    assert positions == sorted(positions)  # a subsequence, in order
    again = kept.drop_duplicates(threshold=threshold, method=method)
    # idempotent for exact duplicates: nothing left duplicates anything
    if threshold == 1.0 and method == "iou":
        assert tags(again) == tags(kept)
        boxes = {(a.category.name, a.x1y1x2y2()) for a in scene.annotations}
        assert len({(a.category.name, a.x1y1x2y2()) for a in kept.annotations}) == len(boxes)


def brute_duplicates(annotations: list[Annotation], t: float, method: str) -> list[bool]:
    """The rule spelled out: all pairs of a category, box maths when it holds only boxes,
    else shapely for every pair; the other must rank above by area, ties by position."""
    out = []
    for i, a in enumerate(annotations):
        same = [j for j, b in enumerate(annotations) if b.category.name == a.category.name]
        if all(annotations[j].is_rect for j in same):
            areas = {j: annotations[j].area() for j in same}
            boxes = geometry.box_intersections(
                [annotations[j].x1y1x2y2() for j in same], [a.x1y1x2y2()]
            )
            inters = dict(zip(same, boxes[:, 0], strict=True))
        else:
            geoms = {j: geometry.to_geometry(annotations[j].points) for j in same}
            areas = {j: g.area for j, g in geoms.items()}
            inters = {j: geoms[i].intersection(g).area for j, g in geoms.items()}
        hit = False
        for j in same:
            if areas[j] > areas[i] or (areas[j] == areas[i] and j > i):
                inter = inters[j]
                bound = t * (areas[i] + areas[j] - inter if method == "iou" else areas[i])
                hit = hit or (inter > 0 and inter >= bound)
        out.append(hit)
    return out


@st.composite
def mixed_annotations(draw: st.DrawFn) -> list[Annotation]:
    """Boxes, triangles and arbitrary rings, and moved or identical copies of them."""
    anns: list[Annotation] = []
    for _ in range(draw(st.integers(0, 8))):
        name = draw(st.sampled_from(["foo", "bar"]))
        x, y = draw(st.integers(0, 20)), draw(st.integers(0, 20))
        if anns and draw(st.booleans()):
            source = draw(st.sampled_from(anns))
            dx = draw(st.sampled_from([0.0, 0.5, 1.0, 1e-9]))
            if source.is_rect:
                anns.append(box(name, *(np.array(source.x1y1x2y2()) + dx)))
            else:
                anns.append(poly(name, (source.points + dx).tolist()))
        elif draw(st.booleans()):
            w, h = draw(st.integers(0, 10)), draw(st.integers(0, 10))
            anns.append(box(name, x, y, x + w, y + h))
        else:
            k = draw(st.integers(3, 5))
            points = draw(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), min_size=k))
            if len({p for p in points}) < 3 or points[0] == points[-1]:
                continue
            anns.append(poly(name, [[x + px, y + py] for px, py in points]))
    return anns


@settings(max_examples=200, deadline=None)
@given(
    mixed_annotations(),
    st.sampled_from([1.0, 0.9, 0.5, 0.25]),
    st.sampled_from(["iou", "coverage"]),
)
def test_duplicates_match_brute_force(anns: list[Annotation], t: float, method: str) -> None:
    assert duplicates(anns, t, method) == brute_duplicates(anns, t, method)


def test_no_shapely_when_the_bounds_settle_every_pair() -> None:
    # Overlapping boxes and polygons of one category, none near the threshold: plain float
    # maths settles every pair, matches included, so shapely (a tenth of a second to
    # import) stays unloaded.
    code = """
import sys
import numpy as np
from mira.core import Annotation, Categories, Scene
cats = Categories(["foo", "bar"])
foo, bar = cats["foo"], cats["bar"]
anns = [
    Annotation(foo, 0, 0, 10, 10),
    Annotation(foo, points=[[5, 0], [15, 0], [5, 10]]),  # half inside the box
    Annotation(foo, points=[[5, 1], [15, 1], [5, 11]]),  # the triangle moved by 1
    Annotation(foo, points=[[30, 30], [36, 30], [36, 36], [33, 33], [30, 36]]),  # concave
    Annotation(foo, points=[[31, 31], [35, 31], [35, 35], [31, 35]]),
    Annotation(bar, 0, 0, 10, 10),
    Annotation(bar, 1, 1, 10, 10),
]
scene = Scene(cats, np.zeros((40, 50, 3), dtype=np.uint8), anns)
assert len(scene.drop_duplicates(threshold=0.95).annotations) == 7
assert len(scene.drop_duplicates(threshold=0.65).annotations) == 5  # IoUs 0.68 and 0.81
assert len(scene.drop_duplicates(threshold=0.6, method="coverage").annotations) == 3
assert "shapely" not in sys.modules, "shapely was imported"
"""
    subprocess.run([sys.executable, "-c", code], check=True)


def test_dedupe_scenes_report_and_stream(reference_scene: Scene) -> None:
    report: dict = {}
    other = reference_scene.assign(annotations=[box("bar", 1, 1, 2, 2, "x")], key="k2")
    out = list(dedupe_scenes([reference_scene, other], 1.0, "coverage", report))
    assert [tags(s) for s in out] == [["C", "D"], ["x"]]
    assert out[1] is other  # untouched scenes pass through as they are
    assert out[0].image_source is reference_scene.image_source  # no pixels touched
    assert report == {
        "scenes": 2,
        "threshold": 1.0,
        "method": "coverage",
        "annotations": {"before": 5, "removed": 2, "after": 3},
        "categories": {
            "foo": {"before": 3, "removed": 2, "after": 1},
            "bar": {"before": 2, "removed": 0, "after": 2},
        },
    }


def test_dedupe_file_copies_scenes_that_lose_nothing_as_stored(reference_scene, tmp_path):
    """A record another writer spelled differently (integers, spaces) is kept byte for byte
    when its scene loses nothing; a scene that loses annotations is written anew."""
    import io
    import json
    import tarfile

    from mira.core import SceneCollection
    from mira.formats import iter_scenes
    from mira.formats.tar_native import encode_record
    from mira.ops.dedupe import dedupe_file

    source = tmp_path / "in.tar"
    SceneCollection([reference_scene.assign(key="a")], CATS).save(source)
    with tarfile.open(source) as archive:
        members = [(m, archive.extractfile(m).read()) for m in archive.getmembers()]
    record = json.loads(members[0][1])
    record.update(key="b", image="b.png", annotations=record["annotations"][3:])
    record["annotations"][0]["box"] = [1, 2, 30, 35]  # integers: still a valid record
    foreign = json.dumps(record, indent=1).encode()
    with tarfile.open(source, "a") as archive:
        for name, payload in (("b.json", foreign), ("b.png", members[1][1])):
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
    report = dedupe_file(source, tmp_path / "out.tar")
    assert report["annotations"] == {"before": 5, "removed": 1, "after": 4}
    with tarfile.open(tmp_path / "out.tar") as archive:
        records = {m.name: archive.extractfile(m).read() for m in archive if ".json" in m.name}
    assert records["b.json"] == foreign
    changed = next(iter_scenes(tmp_path / "out.tar"))
    assert records["a.json"] == encode_record(changed, "a", "a.png")
    assert [a.metadata["tag"] for a in changed.annotations] == ["A", "C", "D"]
