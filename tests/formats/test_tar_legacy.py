"""The original library's tarball layouts: reading fixtures it wrote, writing what it reads."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tarfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mira.core import Annotation, Categories, Label, Scene, SceneCollection
from mira.core.image import decode_image, encode_image
from mira.errors import FormatError, ImageError, ValidationError
from mira.formats import SceneWriter, iter_scenes
from mira.formats.legacy_proto import messages
from mira.formats.tar_legacy import (
    PLACEHOLDER_PNG,
    decode_legacy_scene,
    encode_legacy_proto,
    encode_legacy_scene,
)
from tests.conftest import make_image

ROOT = Path(__file__).resolve().parents[2]
LEGACY = ROOT / "tests" / "data" / "legacy"
EXPECTED = json.loads((LEGACY / "expected.json").read_text("utf-8"))
ORIGINAL_PYTHON = ROOT / ".venv-mira-0.9.36" / "bin" / "python"
PNG = encode_image(make_image(8, 6))
WHERE = "t.tar: member 0"


def sha256(pixels: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(pixels).tobytes()).hexdigest()


def members(path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}


def write_tar(path, entries) -> None:
    with tarfile.open(path, "w") as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def describe(scene: Scene) -> dict:
    """A scene in the vocabulary of expected.json."""
    annotations = []
    for a in scene.annotations:
        geometry = (
            {"box": [a.x1, a.y1, a.x2, a.y2]} if a.is_rect else {"polygon": a.points.tolist()}
        )
        annotations.append(
            {"category": a.category.name, **geometry, "score": a.score, "metadata": a.metadata}
        )
    return {
        "width": scene.dimensions.width,
        "height": scene.dimensions.height,
        "categories": scene.categories.names,
        "annotations": annotations,
        "labels": [
            {"category": lb.category.name, "score": lb.score, "metadata": lb.metadata}
            for lb in scene.labels
        ],
        "masks": [
            {"visible": m["visible"], "name": m["name"], "contour": m["contour"].tolist()}
            for m in scene.masks
        ],
        "metadata": scene.metadata,
        "unmasked_rgb_sha256": sha256(scene.unmasked_image),
        "masked_rgb_sha256": sha256(scene.image),
        "pixel_0_0": scene.unmasked_image[0, 0].tolist(),
    }


# ------------------------------------------------------------------------ schema and bytes
def test_worked_example_of_the_reference_is_reproduced_byte_for_byte():
    dog = Categories(["dog"])
    scene = Scene(dog, make_image(8, 6), [Annotation(dog["dog"], -1, 0, 3, 2, score=0.5)])
    minus_one = "ffffffffffffffffff01"  # the 10-byte varint of -1
    annotation = (
        f"10{minus_one}"  # x1 = -1 (y1 = 0 and category = 0 are omitted)
        "1803"  # x2 = 3
        "2802"  # y2 = 2
        "3001"  # is_rect
        f"3a0b08{minus_one}"  # (-1, 0)
        "3a020803"  # (3, 0)
        "3a0408031002"  # (3, 2)
        f"3a0d08{minus_one}1002"  # (-1, 2)
        "450000003f"  # score 0.5
        "4a027b7d"  # metadata "{}"
    )
    assert len(bytes.fromhex(annotation)) == 64
    expected = (
        "0a050a03646f67"  # categories ["dog"]
        f"1240{annotation}"
        f"2245{PLACEHOLDER_PNG.hex()}"
        "2a027b7d"  # scene metadata "{}"
    )
    assert encode_legacy_proto(scene).hex() == expected
    assert len(PLACEHOLDER_PNG) == 69
    assert PLACEHOLDER_PNG.hex() == (
        "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c494441"
        "54081d636064640400000a0004f552e2840000000049454e44ae426082"
    )
    assert decode_image(PLACEHOLDER_PNG, "placeholder").tolist() == [[[1, 1, 1]]]


def test_schema_field_numbers_follow_the_reference():
    m = messages()
    numbers = {
        name: {f.name: f.number for f in getattr(m, name).DESCRIPTOR.fields}
        for name in ("Point", "Annotation", "Label", "Categories", "Mask", "Scene")
    }
    assert numbers == {
        "Point": {"x": 1, "y": 2},
        "Annotation": {
            "category": 1,
            "x1": 2,
            "x2": 3,
            "y1": 4,
            "y2": 5,
            "is_rect": 6,
            "points": 7,
            "score": 8,
            "metadata": 9,
        },
        "Label": {"category": 1, "score": 2, "metadata": 3},
        "Categories": {"categories": 1},
        "Mask": {"visible": 1, "name": 2, "contour": 3},
        "Scene": {
            "categories": 1,
            "annotations": 2,
            "masks": 3,
            "image": 4,
            "metadata": 5,
            "labels": 6,
        },
    }


def test_coordinates_are_rounded_half_to_even_only_when_written():
    cats = Categories(["a"])
    scene = Scene(
        cats,
        make_image(8, 6),
        [
            Annotation(cats["a"], 0.5, 1.5, 2.5, 3.5),
            Annotation(cats["a"], points=[[-1.5, 0.4], [2.5, 0.6], [1.49, 3.51]]),
        ],
        masks=[{"visible": False, "name": "m", "contour": [[0.5, 0.5], [4.5, 0.5], [4.5, 2.5]]}],
    )
    message = messages().Scene.FromString(encode_legacy_proto(scene))
    box, polygon = message.annotations
    assert (box.x1, box.y1, box.x2, box.y2, box.is_rect) == (0, 2, 2, 4, True)
    assert [(p.x, p.y) for p in box.points] == [(0, 2), (2, 2), (2, 4), (0, 4)]
    # polygons are written as closed rings; bounds come from the rounded points
    assert [(p.x, p.y) for p in polygon.points] == [(-2, 0), (2, 1), (1, 4), (-2, 0)]
    assert (polygon.x1, polygon.y1, polygon.x2, polygon.y2, polygon.is_rect) == (-2, 0, 2, 4, False)
    assert [(p.x, p.y) for p in message.masks[0].contour] == [(0, 0), (4, 0), (4, 2)]
    # the model itself never rounded anything
    assert scene.annotations[0].x1 == 0.5


def test_scores_none_unset_and_metadata_written_like_the_original():
    cats = Categories(["a"])
    scene = Scene(
        cats,
        make_image(8, 6),
        [Annotation(cats["a"], 0, 0, 1, 1, metadata={"ü": [1, None]})],
        labels=[Label(cats["a"]), Label(cats["a"], score=0.337)],
        metadata={"日本": "語"},
    )
    message = messages().Scene.FromString(encode_legacy_proto(scene))
    assert message.annotations[0].score == 0.0
    assert message.annotations[0].metadata == '{"\\u00fc": [1, null]}'
    assert [lb.score for lb in message.labels] == [0.0, pytest.approx(0.337)]
    assert message.metadata == '{"\\u65e5\\u672c": "\\u8a9e"}'
    back = decode_legacy_scene(encode_legacy_proto(scene), encode_image(make_image(8, 6)))
    assert back.annotations[0].score is None
    assert [lb.score for lb in back.labels] == [None, float(np.float32(0.337))]
    assert back.metadata == {"日本": "語"}


# ------------------------------------------------------------- reading the original's files
FIXTURES = sorted(EXPECTED["fixtures"])


def test_the_fixtures_cover_both_layouts():
    assert {EXPECTED["fixtures"][f]["layout"] for f in FIXTURES} == {"png+protobuf", "embedded"}
    assert "mira-0.9.36.tar" in FIXTURES and "mira-0.9.26.tar" in FIXTURES


@pytest.mark.parametrize("fixture", FIXTURES)
def test_reads_fixture_written_by_the_original(fixture):
    expected = EXPECTED["fixtures"][fixture]["scenes"]
    scenes = list(iter_scenes(LEGACY / fixture))
    assert [s.key for s in scenes] == [f"{int(e['member']):06d}" for e in expected]
    for scene, want in zip(scenes, expected, strict=True):
        assert describe(scene) == {k: v for k, v in want.items() if k != "member"}


def test_new_layout_keeps_the_png_bytes_and_old_layout_gets_true_colours():
    new = next(iter_scenes(LEGACY / "mira-0.9.36.tar"))
    assert new.image_source.encoded() == members(LEGACY / "mira-0.9.36.tar")["0.png"]
    assert not new.image_source.changed
    old = next(iter_scenes(LEGACY / "mira-0.9.26.tar"))
    embedded = messages().Scene.FromString(members(LEGACY / "mira-0.9.26.tar")["0"]).image
    swapped = decode_image(embedded, "embedded")
    assert np.array_equal(old.unmasked_image, swapped[:, :, ::-1])
    # both layouts hold the same picture: 0.9.26 baked the mask in, 0.9.36 did not
    assert np.array_equal(old.image, new.image)


def test_collection_load_reads_a_legacy_tarball():
    collection = SceneCollection.load(LEGACY / "mira-0.9.36.tar")
    assert len(collection) == 3
    assert collection.categories.names == ["dog", "cat", "Vögel 鳥"]


def test_scene_load_and_fromString(tmp_path):
    files = members(LEGACY / "mira-0.9.36.tar")
    (tmp_path / "0").write_bytes(files["0"])
    (tmp_path / "0.png").write_bytes(files["0.png"])
    want = EXPECTED["fixtures"]["mira-0.9.36.tar"]["scenes"][0]
    for scene in (
        Scene.load(tmp_path / "0", image=str(tmp_path / "0.png")),
        Scene.load(str(tmp_path / "0"), image=files["0.png"]),
        Scene.fromString(files["0"], image=files["0.png"]),
    ):
        assert describe(scene) == {k: v for k, v in want.items() if k != "member"}
    old = members(LEGACY / "mira-0.9.26.tar")["0"]
    old_want = EXPECTED["fixtures"]["mira-0.9.26.tar"]["scenes"][0]
    assert sha256(Scene.fromString(old).unmasked_image) == old_want["unmasked_rgb_sha256"]


def test_scene_toString_gives_protobuf_then_png(scene):
    proto, png = scene.toString()
    assert proto == encode_legacy_proto(scene)
    assert np.array_equal(decode_image(png, "png"), scene.unmasked_image)
    back = Scene.fromString(proto, image=png)
    assert [a.category.name for a in back.annotations] == ["dog", "cat"]


# ----------------------------------------------------------------------- writing the layout
def test_writer_layout_png_true_colours_unmasked(tmp_path, scene):
    png_scene = scene.assign(key=None, image=encode_image(make_image(seed=3)))
    path = tmp_path / "legacy.tar"
    SceneCollection([scene, png_scene]).save(path, format="legacy")
    with tarfile.open(path) as tar:
        assert tar.getnames() == ["0.png", "0", "1.png", "1"]
    files = members(path)
    # JPEG source: decoded pixels encoded as PNG, masks not baked in, true colours
    assert files["0.png"].startswith(b"\x89PNG")
    assert np.array_equal(decode_image(files["0.png"], "0.png"), scene.unmasked_image)
    # PNG source: copied as it came
    assert files["1.png"] == png_scene.image_source.encoded()
    message = messages().Scene.FromString(files["0"])
    assert message.image == PLACEHOLDER_PNG
    assert message.metadata == json.dumps(scene.metadata)
    assert [m.name for m in message.masks] == ["m"]


def test_writer_is_deterministic(tmp_path, scene):
    a, b = tmp_path / "a.tar", tmp_path / "b.tar"
    SceneCollection([scene]).save(a, format="legacy")
    SceneCollection([scene]).save(b, format="legacy")
    assert a.read_bytes() == b.read_bytes()


def test_legacy_round_trip_through_tarball(tmp_path, scene):
    path = tmp_path / "legacy.tar"
    SceneCollection([scene]).save(path, format="legacy")
    (back,) = iter_scenes(path)
    assert back.key == "000000"
    assert back.categories == scene.categories
    # the format holds ints: 1.5 → 2, 2.25 → 2, 10.125 → 10, 5.5 → 6 (half to even)
    assert back.annotations[0].x1y1x2y2() == (2.0, 2.0, 10.0, 20.0)
    assert back.annotations[1].points.tolist() == [[0, 0], [6, 0], [5, 5]]
    assert back.annotations[1].score == 0.25 and back.annotations[1].metadata == {"é": 1}
    assert back.labels == [Label(scene.categories["cat"], score=float(np.float32(0.9)))]
    assert back.masks[0]["contour"].tolist() == [[0, 0], [10, 0], [10, 10]]
    assert back.metadata == scene.metadata
    assert np.array_equal(back.unmasked_image, scene.unmasked_image)
    assert np.array_equal(back.image, scene.image)


NAMES = st.sampled_from(["dog", "cat", "Vögel 鳥", "ünï"])
COORD = st.integers(-(2**31), 2**31 - 1)
SMALL = st.integers(-1000, 1000)
SCORE = st.one_of(
    st.none(),
    st.floats(min_value=2.0**-20, max_value=1.0, width=32),
    st.floats(min_value=-1.0, max_value=-(2.0**-20), width=32),
)
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
METADATA = st.dictionaries(st.text(max_size=6), JSON_VALUE, max_size=3)


@st.composite
def legacy_scenes(draw):
    names = draw(st.lists(NAMES, min_size=1, max_size=3, unique=True))
    cats = Categories(names)
    category = st.sampled_from(names).map(lambda n: cats[n])
    annotations = []
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.booleans()):
            x1, x2 = sorted(draw(st.lists(COORD, min_size=2, max_size=2)))
            y1, y2 = sorted(draw(st.lists(COORD, min_size=2, max_size=2)))
            geometry = {"x1": x1, "y1": y1, "x2": x2, "y2": y2}
        else:
            points = draw(st.lists(st.tuples(SMALL, SMALL), min_size=3, max_size=6))
            if points[0] == points[-1]:
                points.append((points[0][0] + 1, points[0][1]))
            geometry = {"points": points}
        annotations.append(
            Annotation(draw(category), **geometry, score=draw(SCORE), metadata=draw(METADATA))
        )
    labels = [
        Label(draw(category), score=draw(SCORE), metadata=draw(METADATA))
        for _ in range(draw(st.integers(0, 2)))
    ]
    masks = [
        {
            "visible": draw(st.booleans()),
            "name": draw(st.text(max_size=5)),
            "contour": draw(st.lists(st.tuples(SMALL, SMALL), min_size=3, max_size=5)),
        }
        for _ in range(draw(st.integers(0, 2)))
    ]
    image = encode_image(make_image(6, 4, seed=draw(st.integers(0, 3))))
    return Scene(cats, image, annotations, draw(METADATA), masks=masks, labels=labels)


@settings(max_examples=60, deadline=None)
@given(legacy_scenes())
def test_property_integer_scenes_survive_a_legacy_round_trip_exactly(scene):
    png, proto = encode_legacy_scene(scene)
    back = decode_legacy_scene(proto, png, "t.tar: member 0")
    assert back.categories == scene.categories
    assert back.annotations == scene.annotations  # kind, coordinates, category, score, metadata
    assert back.labels == scene.labels
    assert describe(back)["masks"] == describe(scene)["masks"]
    assert back.metadata == scene.metadata
    assert png == scene.image_source.encoded()
    assert encode_legacy_proto(back) == proto


FLOAT = st.floats(-1e6, 1e6, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(FLOAT, min_size=4, max_size=4),
    st.lists(st.tuples(FLOAT, FLOAT), min_size=3, max_size=6),
)
def test_property_float_coordinates_are_rounded_half_to_even(box, points):
    cats = Categories(["a"])
    x1, x2 = sorted(box[:2])
    y1, y2 = sorted(box[2:])
    if points[0] == points[-1]:
        points.append((points[0][0] + 1, points[0][1]))
    scene = Scene(
        cats,
        PNG,
        [Annotation(cats["a"], x1, y1, x2, y2), Annotation(cats["a"], points=points)],
    )
    back = decode_legacy_scene(encode_legacy_proto(scene), PNG, WHERE)
    assert back.annotations[0].x1y1x2y2() == tuple(float(round(v)) for v in (x1, y1, x2, y2))
    assert back.annotations[1].points.tolist() == [[round(x), round(y)] for x, y in points]


# -------------------------------------------------------- the original reads what we write
READ_WITH_ORIGINAL = r"""
import hashlib, json, sys
import numpy as np
from mira import core
out = []
for s in core.SceneCollection.load(sys.argv[1]):
    out.append({
        "categories": [c.name for c in s.categories],
        "annotations": [
            {"category": a.category.name, "is_rect": bool(a.is_rect),
             "box": [int(a.x1), int(a.y1), int(a.x2), int(a.y2)],
             "points": np.asarray(a.points).astype(int).tolist(),
             "score": float(a.score), "metadata": a.metadata}
            for a in s.annotations],
        "labels": [{"category": lb.category.name, "score": float(lb.score),
                    "metadata": lb.metadata} for lb in s.labels],
        "masks": [{"visible": bool(m["visible"]), "name": m["name"],
                   "contour": np.asarray(m["contour"]).astype(int).tolist()} for m in s.masks],
        "metadata": s.metadata,
        "shape": list(s.unmasked_image.shape),
        "unmasked_rgb_sha256": hashlib.sha256(s.unmasked_image.tobytes()).hexdigest(),
        "masked_rgb_sha256": hashlib.sha256(s.image.tobytes()).hexdigest(),
        "protobuf": s.toString()[0].hex(),
    })
print(json.dumps(out))
"""


def as_the_original_holds_it(scene: Scene) -> dict:
    """What mira 0.9.36 should see after reading our legacy output of `scene`."""
    annotations = []
    for a in scene.annotations:
        if a.is_rect:
            box = [int(round(v)) for v in a.x1y1x2y2()]
            points = [[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]]]
        else:
            ring = np.rint(a.points).astype(int).tolist()
            points = ring + [ring[0]]
            box = [min(p[0] for p in ring), min(p[1] for p in ring)]
            box += [max(p[0] for p in ring), max(p[1] for p in ring)]
        annotations.append(
            {
                "category": a.category.name,
                "is_rect": a.is_rect,
                "box": box,
                "points": points,
                "score": float(np.float32(a.score or 0.0)),
                "metadata": a.metadata,
            }
        )
    unmasked = scene.unmasked_image
    return {
        "categories": scene.categories.names,
        "annotations": annotations,
        "labels": [
            {
                "category": lb.category.name,
                "score": float(np.float32(lb.score or 0.0)),
                "metadata": lb.metadata,
            }
            for lb in scene.labels
        ],
        "masks": [
            {
                "visible": m["visible"],
                "name": m["name"],
                "contour": np.rint(m["contour"]).astype(int).tolist(),
            }
            for m in scene.masks
        ],
        "metadata": scene.metadata,
        "shape": list(unmasked.shape),
        "unmasked_rgb_sha256": sha256(unmasked),
        "protobuf": encode_legacy_proto(scene).hex(),
    }


@pytest.mark.skipif(
    not ORIGINAL_PYTHON.exists(),
    reason="the original library's venv is absent (create it with tools/make_original_venv.sh)",
)
def test_the_original_library_reads_what_we_write(tmp_path, scene):
    # two collections (the original wants one set of categories per collection): ours, with
    # sub-pixel coordinates and a JPEG source, and the fixture's scenes written back by us
    fixture_scenes = list(iter_scenes(LEGACY / "mira-0.9.36.tar"))
    scenes = [scene, scene.assign(key="000001", image=make_image(40, 30, seed=5), masks=[])]
    path = tmp_path / "ours.tar"
    with SceneWriter(path, format="legacy") as writer:
        for s in scenes:
            writer.write(s)
    fixture_path = tmp_path / "fixture-roundtrip.tar"
    SceneCollection(fixture_scenes).save(fixture_path, format="legacy")
    script = tmp_path / "read.py"
    script.write_text(READ_WITH_ORIGINAL)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    for tar, written in ((path, scenes), (fixture_path, fixture_scenes)):
        result = subprocess.run(
            [str(ORIGINAL_PYTHON), str(script), str(tar)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        seen = json.loads(result.stdout)
        for got, ours in zip(seen, written, strict=True):
            want = as_the_original_holds_it(ours)
            masked = got.pop("masked_rgb_sha256")
            assert got == want
            if ours.masks:  # the original applies the masks we stored, the same way
                assert masked == sha256(ours.image)


# ------------------------------------------------------------------------------- bad input
def fixture_members(name="mira-0.9.36.tar") -> dict[str, bytes]:
    return members(LEGACY / name)


def proto(**changes) -> bytes:
    """A one-annotation scene protobuf with some fields replaced."""
    m = messages()
    fields = {"category": 0, "x1": 1, "y1": 1, "x2": 4, "y2": 3, "is_rect": True, "metadata": "{}"}
    fields.update(changes.pop("annotation", {}))
    scene = {
        "categories": m.Categories(categories=["dog"]),
        "annotations": [m.Annotation(**fields)],
        "image": PLACEHOLDER_PNG,
        "metadata": "{}",
    }
    scene.update(changes)
    return m.Scene(**scene).SerializeToString()


def test_truncated_protobuf_member_names_the_member(tmp_path):
    data = fixture_members()["0"]
    assert data.endswith(b"\x02{}")  # the last field is a 2-byte string (label metadata)
    path = tmp_path / "t.tar"
    write_tar(path, [("0.png", PNG), ("0", data[:-1])])  # cut inside that string
    with pytest.raises(FormatError) as err:
        list(iter_scenes(path))
    assert str(err.value) == f"{path}: member 0: not a legacy scene protobuf (corrupt or truncated)"


def test_garbage_member_names_the_member(tmp_path):
    path = tmp_path / "t.tar"
    write_tar(path, [("0.png", PNG), ("0", b"not a protobuf at all")])
    with pytest.raises(FormatError) as err:
        list(iter_scenes(path))
    assert str(err.value) == f"{path}: member 0: not a legacy scene protobuf (corrupt or truncated)"


def test_bytes_that_parse_but_carry_unknown_fields_are_refused():
    with pytest.raises(FormatError) as err:
        decode_legacy_scene(b"\x70\x01", PNG, WHERE)
    assert str(err.value) == f"{WHERE}: not a legacy scene protobuf (unknown fields)"
    bad = proto() + b"\x12\x02\x78\x05"  # one more annotation holding only field 15
    with pytest.raises(FormatError, match="unknown fields"):
        decode_legacy_scene(bad, PNG, WHERE)


def test_missing_png_in_the_new_layout_is_an_error_not_a_placeholder(tmp_path):
    path = tmp_path / "t.tar"
    write_tar(path, [("0", fixture_members()["0"])])
    with pytest.raises(FormatError) as err:
        list(iter_scenes(path))
    assert str(err.value) == (
        f"{path}: member 0: image missing (no .png member beside this protobuf, "
        "and it holds only the 1×1 placeholder)"
    )
    with pytest.raises(FormatError, match=r"^scene: image missing"):
        Scene.fromString(fixture_members()["0"])


def test_empty_protobuf_without_image_is_an_error():
    with pytest.raises(FormatError, match=f"^{WHERE}: image missing"):
        decode_legacy_scene(b"", None, WHERE)


def test_undecodable_embedded_image_names_the_member():
    data = proto(image=b"\x89PNG garbage")
    with pytest.raises(FormatError) as err:
        decode_legacy_scene(data, None, WHERE)
    assert str(err.value) == f"{WHERE}: embedded image: cannot decode image (12 bytes)"


def test_undecodable_png_member_fails_when_pixels_are_needed(tmp_path):
    path = tmp_path / "t.tar"
    write_tar(path, [("0.png", b"not a png"), ("0", proto())])
    (scene,) = iter_scenes(path)  # no pixels needed yet
    assert scene.annotations[0].x1y1x2y2() == (1.0, 1.0, 4.0, 3.0)
    with pytest.raises(ImageError) as err:
        scene.image
    assert str(err.value) == f"{path}: member 0.png: cannot decode image (9 bytes)"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"annotation": {"category": 5}},
            "annotation 0: category index 5 is out of range for 1 categories",
        ),
        (
            {"annotation": {"metadata": "{"}},
            "annotation 0: invalid JSON (Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1))",
        ),
        ({"annotation": {"metadata": "[1]"}}, "annotation 0: expected a JSON object, got list"),
        (
            {"annotation": {"is_rect": False}},
            "annotation 0: a polygon needs at least 3 points, got 0",
        ),
        ({"metadata": "NaN"}, "scene metadata: expected a JSON object, got float"),
        (
            {"labels": [messages().Label(category=-1, metadata="{}")]},
            "label 0: category index -1 is out of range for 1 categories",
        ),
        (
            {"masks": [messages().Mask(name="m", contour=[messages().Point(x=1)])]},
            "mask 0: contour needs at least 3 finite points",
        ),
        (
            {"categories": messages().Categories(categories=["dog", "DOG"])},
            "categories: category names must be unique (case-insensitive): 'dog' and 'DOG'",
        ),
    ],
)
def test_bad_fields_name_member_and_item(changes, message):
    with pytest.raises(FormatError) as err:
        decode_legacy_scene(proto(**changes), PNG, WHERE)
    assert str(err.value) == f"{WHERE}: {message}"


def test_what_the_original_accepted_but_we_refuse_is_kept_as_boxes_with_a_warning():
    """Inverted boxes and one- or two-point polygons (one-pixel QSL mask parts) are kept."""
    with pytest.warns(
        UserWarning, match=r"annotation 0: inverted box \(5, 1, 4, 3\) is read in order"
    ):
        inverted = decode_legacy_scene(proto(annotation={"x1": 5}), PNG, WHERE)
    assert inverted.annotations[0].x1y1x2y2() == (4.0, 1.0, 5.0, 3.0)
    one_point = {"is_rect": False, "points": [messages().Point(x=7, y=2)] * 2}
    with pytest.warns(UserWarning, match="annotation 0: a polygon of 2 points is read as a box"):
        dot = decode_legacy_scene(proto(annotation=one_point), PNG, WHERE)
    assert dot.annotations[0].is_rect and dot.annotations[0].x1y1x2y2() == (7.0, 2.0, 7.0, 2.0)


def test_empty_metadata_strings_from_other_writers_read_as_empty():
    scene = decode_legacy_scene(proto(metadata="", annotation={"metadata": ""}), PNG, WHERE)
    assert scene.metadata == {} and scene.annotations[0].metadata == {}


def test_coordinates_beyond_int32_are_refused_and_leave_no_output(tmp_path):
    cats = Categories(["a"])
    scene = Scene(cats, make_image(8, 6), [Annotation(cats["a"], 0, 0, 2.0**31, 1)], key="x7")
    path = tmp_path / "out.tar"
    with pytest.raises(ValidationError) as err:
        SceneCollection([scene]).save(path, format="legacy")
    assert str(err.value) == (
        "scene x7: annotation 0: coordinates beyond the legacy format's int32 range (0..2147483648)"
    )
    assert list(tmp_path.iterdir()) == []
