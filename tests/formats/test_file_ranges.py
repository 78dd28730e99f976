"""Images left in their tarball: read on demand, copied file to file, safe to keep and to
send to another process; scenes copied as stored give the same bytes as rebuilt ones."""

import errno
import os
import pickle
import re
import tarfile

import pytest

from mira.core import Annotation, Categories, Scene, SceneCollection
from mira.core.image import ImageSource, encode_image
from mira.errors import FormatError, ImageError
from mira.formats import SceneWriter, iter_scenes, read_collection, tar_writer
from mira.formats.stream import iter_stored
from tests.conftest import make_image

CATS = Categories(["dog", "cat"])


def make_scenes(n=4):
    scenes = []
    for i in range(n):
        data = encode_image(make_image(seed=i), "jpg" if i % 2 else "png")
        boxes = [Annotation(CATS["dog" if i % 2 else "cat"], i, 1, i + 5.5, 9.25)]
        scenes.append(Scene(CATS, ImageSource.from_bytes(data), annotations=boxes, key=f"s{i}"))
    return scenes


@pytest.fixture
def tarball(tmp_path):
    path = tmp_path / "in.tar"
    SceneCollection(make_scenes(), CATS).save(path)
    return path


def image_bytes(path):
    with tarfile.open(path) as archive:
        return {
            m.name: archive.extractfile(m).read()
            for m in archive.getmembers()
            if not m.name.endswith(".json")
        }


def test_streamed_images_stay_in_the_file_until_asked_for(tarball):
    scenes = list(iter_scenes(tarball))
    assert all(s.image_source.file_range is not None for s in scenes)
    expected = image_bytes(tarball)
    assert [s.image_source.encoded() for s in scenes] == list(expected.values())
    assert scenes[0].image_source.decode().shape == (48, 64, 3)


def test_loaded_collections_hold_their_bytes(tarball):
    collection = read_collection(tarball)
    assert all(s.image_source.file_range is None for s in collection.scenes)


def test_a_kept_scene_still_reads_after_the_tarball_is_replaced(tarball, tmp_path):
    scenes = list(iter_scenes(tarball))
    expected = scenes[1].image_source.encoded()
    replacement = tmp_path / "other.tar"
    SceneCollection(make_scenes(1), CATS).save(replacement)
    os.replace(replacement, tarball)
    assert scenes[1].image_source.encoded() == expected


def test_pickling_sends_the_bytes_not_the_file(tarball):
    scene = next(iter_scenes(tarball))
    copy = pickle.loads(pickle.dumps(scene.image_source))
    assert copy.file_range is None
    assert copy.encoded() == scene.image_source.encoded()
    with pytest.raises(TypeError, match="cannot be sent to another process"):
        pickle.dumps(scene.image_source.file_range.file)


def test_compressed_and_piped_inputs_are_read_into_memory(tarball, tmp_path):
    packed = tmp_path / "in.tar.gz"
    with tarfile.open(tarball) as src, tarfile.open(packed, "w:gz") as dst:
        for member in src.getmembers():
            dst.addfile(member, src.extractfile(member))
    scenes = list(iter_scenes(packed))
    assert all(s.image_source.file_range is None for s in scenes)
    assert [s.image_source.encoded() for s in scenes] == list(image_bytes(tarball).values())


def rewrite(source, target, **options):
    with SceneWriter(target, **options) as writer:
        for scene in iter_scenes(source):
            writer.write(scene)
    return target.read_bytes()


@pytest.fixture
def in_thread(monkeypatch):
    """Copy in the writer's thread, where this process's `os` can be patched."""
    monkeypatch.setattr(tar_writer._CopyProcess, "start", staticmethod(lambda fd: None))


@pytest.mark.parametrize(
    ("broken", "used"),
    [(["copy_file_range"], "sendfile"), (["copy_file_range", "sendfile"], "pread")],
)
def test_every_copy_method_writes_the_same_bytes(
    tarball, tmp_path, monkeypatch, in_thread, broken, used
):
    assert rewrite(tarball, tmp_path / "kernel.tar") == tarball.read_bytes()

    def unsupported(*args):
        raise OSError(errno.EXDEV, "not between these files")

    calls = []
    original = getattr(os, used)

    def counted(*args):
        calls.append(args)
        return original(*args)

    for name in broken:
        monkeypatch.setattr(os, name, unsupported)
    monkeypatch.setattr(os, used, counted)
    assert rewrite(tarball, tmp_path / "fallback.tar") == tarball.read_bytes()
    assert len(calls) >= 4  # one image member per scene at least


def test_a_real_copy_error_is_reported_with_the_member(tarball, tmp_path, monkeypatch, in_thread):
    def failing(*args):
        raise OSError(errno.EIO, "input/output error")

    monkeypatch.setattr(os, "copy_file_range", failing)
    with pytest.raises(
        FormatError, match=r"in.tar: cannot copy member 's0.png' \(input/output error\)$"
    ):
        rewrite(tarball, tmp_path / "out.tar")
    assert sorted(os.listdir(tmp_path)) == ["in.tar"]


@pytest.mark.parametrize("where", ["process", "thread"])
def test_an_image_cut_after_reading_is_an_error_not_a_short_member(
    tarball, tmp_path, monkeypatch, where
):
    if where == "thread":
        monkeypatch.setattr(tar_writer._CopyProcess, "start", staticmethod(lambda fd: None))
    scenes = list(iter_scenes(tarball))
    size = tarball.stat().st_size
    member = scenes[-1].image_source.file_range
    os.truncate(tarball, member.offset + 20)
    end = member.offset + member.size
    expected = rf"in.tar: cannot copy member 's3.jpg' \(the file ends before byte {end}\)$"
    try:
        with pytest.raises(FormatError, match=expected):
            with SceneWriter(tmp_path / "out.tar") as writer:
                for scene in scenes:
                    writer.write(scene)
    finally:
        os.truncate(tarball, size)
    assert not (tmp_path / "out.tar").exists()


def test_stored_scenes_copy_to_the_same_bytes_as_rebuilt_ones(tarball, tmp_path):
    rebuilt = rewrite(tarball, tmp_path / "rebuilt.tar")
    with SceneWriter(tmp_path / "stored.tar") as writer:
        for stored in iter_stored(tarball):
            assert stored.record is not None
            writer.write_stored(stored)
    assert (tmp_path / "stored.tar").read_bytes() == rebuilt == tarball.read_bytes()


def test_stored_scenes_tell_their_categories_without_being_built(tarball):
    stored = list(iter_stored(tarball))
    assert [s.category_names() for s in stored] == [["dog", "cat"]] * 4
    assert [s.annotation_categories() for s in stored] == [["cat"], ["dog"], ["cat"], ["dog"]]
    assert all(s._scene is None for s in stored)


def test_stored_scenes_to_a_legacy_tarball_are_rebuilt(tarball, tmp_path):
    with SceneWriter(tmp_path / "legacy.tar", format="legacy") as writer:
        for stored in iter_stored(tarball):
            writer.write_stored(stored)
    rebuilt = rewrite(tarball, tmp_path / "rebuilt.tar", format="legacy")
    assert (tmp_path / "legacy.tar").read_bytes() == rebuilt
    assert [len(s.annotations) for s in iter_scenes(tmp_path / "legacy.tar")] == [1, 1, 1, 1]


def test_a_stored_scene_with_a_foreign_image_name_is_rewritten(tmp_path):
    import io
    import json

    data = encode_image(make_image(), "png")
    record = {
        "format": "mira-scene",
        "version": 1,
        "key": "a",
        "image": "a.jpg",  # a PNG named .jpg: a writer names it by its content
        "width": 64,
        "height": 48,
        "categories": ["dog"],
        "annotations": [],
        "labels": [],
        "masks": [],
        "metadata": {},
    }
    source = tmp_path / "in.tar"
    with tarfile.open(source, "w") as archive:
        for name, payload in (("a.json", json.dumps(record).encode()), ("a.jpg", data)):
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
    with SceneWriter(tmp_path / "out.tar") as writer:
        for stored in iter_stored(source):
            writer.write_stored(stored)
    with tarfile.open(tmp_path / "out.tar") as archive:
        assert archive.getnames() == ["a.json", "a.png"]


def test_an_image_type_is_told_from_the_bytes_read_with_its_header(tarball):
    scenes = list(iter_scenes(tarball))
    os.truncate(tarball, 0)  # nothing more can be read from the file
    assert [s.image_source.extension for s in scenes] == ["png", "jpg", "png", "jpg"]
    with pytest.raises(ImageError, match="cannot read image"):
        scenes[0].image_source.encoded()


def test_worker_processes_get_a_reference_not_the_bytes(tarball):
    """Between our processes (multiprocessing's pickler), an image left in its tarball
    travels as a reference the receiver opens itself; plain pickles still hold the bytes."""
    from multiprocessing.reduction import ForkingPickler

    from mira.parallel import _pass_ranges_by_reference

    _pass_ranges_by_reference()
    source = list(iter_scenes(tarball))[1].image_source
    sent = bytes(ForkingPickler.dumps(source))
    assert len(sent) < 1500 < len(source.encoded())
    received = pickle.loads(sent)
    assert received.file_range is not None and received.encoded() == source.encoded()
    assert pickle.loads(bytes(ForkingPickler.dumps(source))).file_range.file is (
        received.file_range.file
    )  # one descriptor per file and process
    assert pickle.loads(pickle.dumps(source)).file_range is None


def test_a_reference_to_a_replaced_tarball_is_an_error(tarball, tmp_path):
    from mira.core.file_range import reopen

    file = list(iter_scenes(tarball))[0].image_source.file_range.file
    path, device, inode = file.reference()
    replacement = tmp_path / "new.tar"
    replacement.write_bytes(tarball.read_bytes())
    os.replace(replacement, tarball)
    message = f"{tarball}: replaced or removed while its images were being read"
    with pytest.raises(FormatError, match=re.escape(message)):
        reopen(path, device, inode)
    os.unlink(tarball)
    with pytest.raises(FormatError, match=re.escape(message)):
        reopen(path, device, inode)
