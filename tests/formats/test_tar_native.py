import io
import json
import os
import tarfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mira.core import Annotation, Categories, Label, Scene, SceneCollection
from mira.core.image import ImageSource, encode_image
from mira.errors import FormatError, ImageError, OutputError, ValidationError
from mira.formats import SceneWriter, iter_scenes
from mira.formats.tar_native import scene_from_record
from tests.conftest import make_image

JPEG = encode_image(make_image(), "jpg", 90)


def members(path):
    with tarfile.open(path) as tar:
        return [(m.name, m.size, m.mtime, m.uid, m.mode) for m in tar.getmembers()]


def write_tar(path, entries):
    """A tarball with the given (name, bytes) members, written by hand."""
    with tarfile.open(path, "w") as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def record(key="000000", image="000000.jpg", **changes):
    base = {
        "format": "mira-scene",
        "version": 1,
        "key": key,
        "image": image,
        "width": 64,
        "height": 48,
        "categories": ["dog"],
        "annotations": [{"category": "dog", "box": [1, 2, 3, 4], "score": None, "metadata": {}}],
        "labels": [],
        "masks": [],
        "metadata": {},
    }
    base.update(changes)
    return json.dumps(base).encode()


def test_layout_is_webdataset_and_image_bytes_are_copied(tmp_path, scene):
    path = tmp_path / "a.tar"
    SceneCollection([scene, scene.assign(key="000001", image=make_image())]).save(path)
    assert [m[0] for m in members(path)] == [
        "000000.json",
        "000000.jpg",
        "000001.json",
        "000001.png",
    ]
    assert all(m[2] == 0 and m[3] == 0 and m[4] == 0o644 for m in members(path))
    with tarfile.open(path) as tar:
        assert tar.extractfile("000000.jpg").read() == scene.image_source.encoded()
        rec = json.loads(tar.extractfile("000000.json").read())
    assert rec["width"] == 64 and rec["height"] == 48 and rec["image"] == "000000.jpg"
    assert rec["annotations"][0] == {
        "category": "dog",
        "box": [1.5, 2.25, 10.125, 20.0],
        "score": None,
        "metadata": {},
    }


def test_round_trip_every_field_and_byte_identical_resave(tmp_path, scene):
    a, b = tmp_path / "a.tar", tmp_path / "b.tar"
    SceneCollection([scene]).save(a)
    loaded = SceneCollection.load(a)
    s = loaded[0]
    assert s.key == "000000" and s.annotations == scene.annotations
    assert s.labels == scene.labels and s.metadata == scene.metadata
    assert s.masks[0]["contour"].tolist() == [[0, 0], [10, 0], [10, 10]]
    assert s.categories == scene.categories
    np.testing.assert_array_equal(s.image, scene.image)
    loaded.save(b)
    assert a.read_bytes() == b.read_bytes()


def test_scenes_without_keys_are_numbered_and_duplicates_refused(tmp_path, categories):
    s = Scene(categories, make_image())
    path = tmp_path / "a.tar"
    SceneCollection([s, s, s.assign(key="zz")]).save(path)
    assert [x.key for x in iter_scenes(path)] == ["000000", "000001", "zz"]
    with pytest.raises(ValidationError, match="scene key 'zz' is written twice"):
        SceneCollection([s.assign(key="zz"), s.assign(key="zz")]).save(tmp_path / "b.tar")
    assert not (tmp_path / "b.tar").exists()
    assert os.listdir(tmp_path) == ["a.tar"]


def test_writer_refuses_existing_output_and_inputs(tmp_path, scene):
    path = tmp_path / "a.tar"
    path.write_bytes(b"precious")
    with pytest.raises(OutputError, match=r"a.tar: already exists \(use --force to overwrite\)$"):
        SceneWriter(path)
    with pytest.raises(OutputError, match="a.tar: is also an input; refusing to overwrite it"):
        SceneWriter(path, force=True, inputs=[str(path)])
    assert path.read_bytes() == b"precious"


def test_error_mid_write_leaves_nothing(tmp_path, scene):
    path = tmp_path / "a.tar"
    with pytest.raises(RuntimeError), SceneWriter(path) as writer:
        writer.write(scene)
        raise RuntimeError("boom")
    assert os.listdir(tmp_path) == []


def test_shards(tmp_path, scene):
    scenes = [scene.assign(key=f"{i:06d}") for i in range(5)]
    with SceneWriter(tmp_path / "s.tar", shard_size=2) as writer:
        for s in scenes:
            writer.write(s)
    assert sorted(os.listdir(tmp_path)) == ["s-000000.tar", "s-000001.tar", "s-000002.tar"]
    keys = [s.key for s in iter_scenes(str(tmp_path / "s-*.tar"))]
    assert keys == [f"{i:06d}" for i in range(5)]
    both = iter_scenes([tmp_path / "s-000002.tar", tmp_path / "s-000000.tar"])
    assert [s.key for s in both] == ["000004", "000000", "000001"]
    with pytest.raises(FormatError, match=r"nothing-\*.tar: no file matches this pattern"):
        list(iter_scenes(str(tmp_path / "nothing-*.tar")))


def test_empty_collection_round_trip(tmp_path, categories):
    path = tmp_path / "e.tar"
    SceneCollection([], categories=categories).save(path)
    assert len(SceneCollection.load(path)) == 0


def test_reading_never_decodes(tmp_path, categories):
    """Undecodable bytes pass through a load/save; the error appears only for pixels."""
    path, out = tmp_path / "a.tar", tmp_path / "b.tar"
    write_tar(path, [("000000.json", record()), ("000000.jpg", b"\xff\xd8\xffnot really")])
    collection = SceneCollection.load(path)
    assert collection[0].dimensions == (64, 48)
    collection.save(out)
    assert path.read_bytes() != out.read_bytes()  # different tar writer, same content
    with tarfile.open(out) as tar:
        assert tar.extractfile("000000.jpg").read() == b"\xff\xd8\xffnot really"
    with pytest.raises(ImageError, match=r"a.tar: member 000000.jpg: cannot decode image"):
        collection[0].image


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (
            [("000000.json", record())],
            r"member 000000.json: record without its image member '000000.jpg'",
        ),
        ([("000000.jpg", JPEG)], r"member 000000.jpg: image member has no record"),
        (
            [("000000.json", b"{not json"), ("000000.jpg", JPEG)],
            r"member 000000.json: invalid JSON",
        ),
        ([("000000.json", record(version=9)), ("000000.jpg", JPEG)], r"unknown format version 9"),
        (
            [("000000.json", record(categories=["cat"])), ("000000.jpg", JPEG)],
            r"member 000000.json: annotation 0: category 'dog' is not in the scene's categories \['cat'\]",
        ),
        (
            [("../evil.json", record()), ("../evil.jpg", JPEG)],
            r"member '../evil.json' has an unsafe path",
        ),
        ([("/abs.json", record())], r"member '/abs.json' has an unsafe path"),
        (
            [("000000.json", record()), ("000000.jpg", JPEG), ("000000.txt", b"x")],
            r"member 000000.txt: is not part of any scene",
        ),
        (
            [
                (
                    "000000.json",
                    record(
                        annotations=[
                            {"category": "dog", "box": [3, 0, 1, 1], "score": None, "metadata": {}}
                        ]
                    ),
                ),
                ("000000.jpg", JPEG),
            ],
            r"annotation 0: box is inverted",
        ),
    ],
)
def test_bad_members(tmp_path, entries, message):
    path = tmp_path / "bad.tar"
    write_tar(path, entries)
    with pytest.raises(FormatError, match=message):
        list(iter_scenes(path))


def test_links_are_refused(tmp_path):
    path = tmp_path / "link.tar"
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("000000.jpg")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(info)
    with pytest.raises(FormatError, match=r"member '000000.jpg' is a link or special file"):
        list(iter_scenes(path))


def test_truncated_empty_and_directory_inputs(tmp_path, scene):
    good = tmp_path / "good.tar"
    SceneCollection([scene] * 1).save(good)
    with tarfile.open(good) as tar:
        image_offset = tar.getmember("000000.jpg").offset_data
    cut = tmp_path / "cut.tar"
    cut.write_bytes(good.read_bytes()[: image_offset + 100])
    with pytest.raises(
        FormatError, match=r"cut.tar: (truncated or corrupt tarball|member .* is truncated)"
    ):
        list(iter_scenes(cut))
    empty = tmp_path / "empty.tar"
    empty.write_bytes(b"")
    with pytest.raises(FormatError, match=r"empty.tar: empty file, not a tarball$"):
        list(iter_scenes(empty))
    with pytest.raises(FormatError, match=r": is a directory, not a tarball$"):
        list(iter_scenes(tmp_path))
    with pytest.raises(FormatError, match=r"missing.tar: no such file$"):
        list(iter_scenes(tmp_path / "missing.tar"))


def test_gzip_and_repacked_archives_are_read(tmp_path, scene):
    plain = tmp_path / "a.tar"
    SceneCollection([scene]).save(plain)
    with tarfile.open(plain) as src, tarfile.open(tmp_path / "a.tar.gz", "w:gz") as dst:
        dst.addfile(tarfile.TarInfo("./"), None) if False else None
        for m in src.getmembers():
            m.name = "./" + m.name
            dst.addfile(m, src.extractfile(m))
    (loaded,) = iter_scenes(tmp_path / "a.tar.gz")
    assert loaded.annotations == scene.annotations


def test_load_into_directory_reuses_only_a_matching_extraction(tmp_path, scene):
    tar, other = tmp_path / "a.tar", tmp_path / "b.tar"
    SceneCollection([scene]).save(tar)
    SceneCollection([scene, scene.assign(key="x")]).save(other)
    folder = tmp_path / "cache"
    first = SceneCollection.load(tar, directory=folder)
    assert sorted(os.listdir(folder)) == [".mira-extract.json", "000000.jpg", "scenes.jsonl"]
    assert first[0].image_source.path == str(folder / "000000.jpg")
    assert (folder / "000000.jpg").read_bytes() == scene.image_source.encoded()
    assert SceneCollection.load(tar, directory=folder)[0].annotations == scene.annotations
    with pytest.raises(OutputError, match="holds other files or an extraction of other tarballs"):
        SceneCollection.load(other, directory=folder)
    assert len(SceneCollection.load(other, directory=folder, force=True)) == 2
    assert len(SceneCollection.load_from_directory(folder)) == 2


# ------------------------------------------------------------------ property test
finite = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_subnormal=False)
names = st.sampled_from(["dog", "cat", "émeu"])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**9), 10**9) | finite | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
metadata = st.dictionaries(st.text(max_size=6), json_values, max_size=3)


@st.composite
def annotations(draw):
    cats = Categories(["dog", "cat", "émeu"])
    category = cats[draw(names)]
    score = draw(st.none() | st.floats(0, 1))
    meta = draw(metadata)
    if draw(st.booleans()):
        x1, x2 = sorted(draw(st.tuples(finite, finite)))
        y1, y2 = sorted(draw(st.tuples(finite, finite)))
        return Annotation(category, x1, y1, x2, y2, score=score, metadata=meta)
    points = draw(st.lists(st.tuples(finite, finite), min_size=3, max_size=6, unique=True))
    return Annotation(category, points=points, score=score, metadata=meta)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    anns=st.lists(annotations(), max_size=4),
    labels=st.lists(st.tuples(names, st.none() | st.floats(0, 1)), max_size=2),
    meta=metadata,
    masks=st.lists(st.tuples(st.booleans(), st.text(max_size=4)), max_size=2),
)
def test_round_trip_property(tmp_path, anns, labels, meta, masks):
    cats = Categories(["dog", "cat", "émeu"])
    scene = Scene(
        cats,
        encode_image(make_image(8, 6), "png"),
        annotations=anns,
        labels=[Label(cats[n], score=s) for n, s in labels],
        metadata=meta,
        masks=[
            {"visible": v, "name": n, "contour": [[0, 0], [3.5, 0], [3, 2.25]]} for v, n in masks
        ],
    )
    path = tmp_path / "p.tar"
    SceneCollection([scene]).save(path, force=True)
    (back,) = iter_scenes(path)
    assert back.annotations == scene.annotations and back.labels == scene.labels
    assert back.metadata == scene.metadata
    assert [(m["visible"], m["name"], m["contour"].tolist()) for m in back.masks] == [
        (m["visible"], m["name"], m["contour"].tolist()) for m in scene.masks
    ]
    assert all(
        type(a.score) is type(b.score)
        for a, b in zip(back.annotations, scene.annotations, strict=True)
    )


def test_a_tarball_cut_between_members_is_an_error(tmp_path, scene):
    good = tmp_path / "good.tar"
    SceneCollection([scene, scene.assign(key="000001")]).save(good)
    with tarfile.open(good) as tar:
        second = tar.getmember("000001.json").offset
    for cut, name in ((second, "cut-at-header"), (second + 100, "cut-in-header")):
        path = tmp_path / f"{name}.tar"
        path.write_bytes(good.read_bytes()[:cut])
        with pytest.raises(
            FormatError, match=rf"{name}.tar: truncated tarball: it ends after member '000000.jpg'$"
        ):
            list(iter_scenes(path))


def box(coords, **item):
    return {"category": "dog", "box": coords, "score": None, "metadata": {}, **item}


def polygon(points, **item):
    return {"category": "dog", "polygon": points, "score": None, "metadata": {}, **item}


@pytest.mark.parametrize(
    ("annotation", "reason"),
    [
        (box([1, 2, True, 4]), "expected a number, got True"),
        (box([1, 2, "3", 4]), "expected a number, got '3'"),
        (box([1, 2, None, 4]), "expected a number, got None"),
        (box([1, 2, 1e400, 4]), "expected a number, got inf"),
        (box([1, 2, 10**400, 4]), "number too large to be a coordinate"),
        (box([1, 2, 3]), "not enough values to unpack (expected 4, got 3)"),
        (box([1, 2, 3, 4, 5]), "too many values to unpack (expected 4)"),
        (box([1, 2, 3, 4, "x"]), "expected a number, got 'x'"),
        (box(5), "'int' object is not iterable"),
        (box([3, 0, 1, 1]), "box is inverted (x1 > x2 or y1 > y2): [3.0, 0.0, 1.0, 1.0]"),
        (box([0, 0, 1, 1], score="x"), "score must be a number or None, got 'x'"),
        (box([0, 0, 1, 1], metadata=[]), "metadata must be a dict, got list"),
        (box([0, 0, 1, 1], category=3), "category 3 is not in the scene's categories ['dog']"),
        ({"category": "dog", "box": [0, 0, 1, 1], "metadata": {}}, "missing field 'score'"),
        ({"category": "dog", "score": None, "metadata": {}}, "missing field 'polygon'"),
        (polygon([[0, 0], [1, False], [1, 1]]), "expected a number, got False"),
        (polygon([[0, 0], [1, 0, 0], [1, 1]]), "too many values to unpack (expected 2)"),
        (polygon([[0, 0], [1, 0]]), "a polygon needs at least 3 points, got 2"),
        (polygon([]), "polygon points must have shape (K, 2), got (0,)"),
        (["dog"], "list indices must be integers or slices, not str"),
    ],
)
def test_bad_annotations_name_the_reason(annotation, reason):
    data = json.loads(record(annotations=[box([0, 0, 1, 1]), annotation]))
    with pytest.raises(FormatError) as info:
        scene_from_record(data, lambda size: ImageSource.from_bytes(JPEG, "x", size), "w")
    assert str(info.value) == f"w: annotation 1: {reason}"


def test_bad_labels_name_the_reason():
    data = json.loads(record(labels=[{"category": "dog", "score": float("nan"), "metadata": {}}]))
    with pytest.raises(FormatError) as info:
        scene_from_record(data, lambda size: ImageSource.from_bytes(JPEG, "x", size), "w")
    assert str(info.value) == "w: label 0: label dog: score must be finite, got nan"


def test_record_numbers_keep_their_values():
    annotations = [box([1, 2.5, 3, 4.25]), polygon([[0, 0.5], [2, 0], [2, 2], [0, 0.5]])]
    data = json.loads(record(annotations=annotations, labels=[]))
    scene = scene_from_record(data, lambda size: ImageSource.from_bytes(JPEG, "x", size), "w")
    rect, poly = scene.annotations
    assert rect.x1y1x2y2() == (1.0, 2.5, 3.0, 4.25) and rect.points.dtype == np.float64
    assert poly.points.tolist() == [[0.0, 0.5], [2.0, 0.0], [2.0, 2.0]] and poly.area() == 2.0
    assert all(type(v) is float for a in scene.annotations for v in a.x1y1x2y2())


@pytest.mark.parametrize(
    ("value", "text"),
    [
        *[(v, 'é \u2028 \x00 "q"') for v in (0.0, -0.0, 1.5, 0.0001, 123.25, 2**70, -7)],
        *[(v, "") for v in (1e-05, 1.5e-07, 1e16, 1.2345678901234568e17, 5e-324, -1e300)],
        *[(1.5, t) for t in ("a1e5", "0.00001", "1E7")],  # like numbers in another notation
    ],
)
def test_edited_records_are_written_as_json_writes_them(value, text):
    from mira.formats.tar_native import dump_record

    edited = {"key": "k", "text": text, "values": [value, [value], {"v": value}, True, None]}
    expected = json.dumps(edited, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    assert dump_record(edited) == expected.encode("utf-8")
