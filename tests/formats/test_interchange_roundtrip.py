"""import → export → import gives equal scenes, for VOC, CVAT and Label Studio (hypothesis).

Each example is exported once to make a file in the format, imported (the first import),
exported again and imported again; both imports must be equal: categories, keys, every
coordinate to the bit, scores, labels and metadata.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mira.core import Annotation, Categories, Label, Scene, SceneCollection
from mira.core.image import encode_image
from tests.conftest import make_image

WIDTH, HEIGHT = 40, 30
PNG = encode_image(make_image(WIDTH, HEIGHT), "png")
NAMES = ["cat", "dog", "traffic light", "person"]
TEXT = (
    st.text(alphabet="abcdefghij XYZ-_0123456789", min_size=1, max_size=8)
    .map(str.strip)
    .filter(bool)
)


def coordinate(limit: float):
    return st.floats(0, limit, allow_nan=False, allow_infinity=False)


@st.composite
def boxes(draw, category, metadata):
    x1, x2 = sorted([draw(coordinate(WIDTH)), draw(coordinate(WIDTH))])
    y1, y2 = sorted([draw(coordinate(HEIGHT)), draw(coordinate(HEIGHT))])
    return Annotation(category, x1, y1, x2, y2, metadata=draw(metadata))


@st.composite
def polygons(draw, category, metadata):
    points = draw(
        st.lists(
            st.tuples(coordinate(WIDTH), coordinate(HEIGHT)), min_size=3, max_size=6, unique=True
        )
    )
    return Annotation(category, points=[list(p) for p in points], metadata=draw(metadata))


@st.composite
def collections(draw, shapes, metadata, labels: bool, scores: bool = False):
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    categories = Categories(names)
    scenes = []
    for index in range(draw(st.integers(1, 3))):
        annotations = []
        for _ in range(draw(st.integers(0, 4))):
            category = categories[draw(st.sampled_from(names))]
            annotation = draw(st.one_of(*(shape(category, metadata) for shape in shapes)))
            if scores:
                annotation = annotation.assign(score=draw(st.floats(0, 1)))
            annotations.append(annotation)
        chosen = draw(st.lists(st.sampled_from(names), max_size=2)) if labels else []
        scene_labels = [Label(categories[name]) for name in chosen]
        scenes.append(Scene(categories, PNG, annotations, labels=scene_labels, key=f"{index:06d}"))
    return SceneCollection(scenes)


def round_trip(collection, write, read):
    """Write `collection` in a format, import it, write and import that again; the two
    imports must be equal. Returns the first import's annotations."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write(collection, root / "one")
        first = read(root / "one")
        write(first, root / "two")
        assert_equal(first, read(root / "two"))
        return [list(scene.annotations) for scene in first]


def assert_equal(first, second):
    assert second.categories == first.categories
    assert [s.key for s in second] == [s.key for s in first]
    for a, b in zip(first, second, strict=True):
        assert b.annotations == a.annotations
        assert b.labels == a.labels
        assert b.metadata == a.metadata
        assert b.dimensions == a.dimensions
        assert b.image_source.encoded() == a.image_source.encoded() == PNG


VOC_METADATA = st.fixed_dictionaries(
    {}, optional={"pose": TEXT, "difficult": st.integers(0, 1), "truncated": st.integers(0, 1)}
)
CVAT_METADATA = st.fixed_dictionaries(
    {},
    optional={
        "occluded": st.integers(0, 1),
        "z_order": st.integers(-3, 3),
        "attributes": st.dictionaries(st.sampled_from(["color", "kind"]), TEXT, max_size=2),
    },
)
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(collections([boxes, polygons], VOC_METADATA, labels=False))
def test_voc(collection):
    first = round_trip(
        collection, lambda c, out: c.to_voc(out, part="train"), SceneCollection.from_voc
    )
    assert all(a.is_rect for scene in first for a in scene)


@SETTINGS
@given(collections([boxes, polygons], CVAT_METADATA, labels=True))
def test_cvat(collection):
    round_trip(collection, lambda c, out: c.to_cvat(out, part="val"), SceneCollection.from_cvat)


@SETTINGS
@given(collections([boxes, polygons], st.just({}), labels=True, scores=True))
def test_labelstudio(collection):
    def read(out):
        return SceneCollection.from_labelstudio(out / "default.json", pre_annotations="predictions")

    first = round_trip(collection, lambda c, out: c.to_labelstudio(out), read)
    originals = [a.score for scene in collection for a in scene.annotations]
    assert [a.score for scene in first for a in scene] == originals
