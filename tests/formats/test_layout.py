"""DatasetFolder: the shared mechanics of every exporter."""

from __future__ import annotations

import os

import pytest

from mira.core import Categories, Scene
from mira.core.image import ImageSource, encode_image
from mira.errors import OutputError, ValidationError
from mira.formats import SceneWriter
from mira.formats.layout import DatasetFolder
from mira.pipeline import Pipeline, TarSource
from mira.pipeline.jobs import part_names_for
from tests.conftest import make_image


class ListExporter(DatasetFolder):
    """Writes images/<part>/<key>.<ext> and an index of keys per part at the end."""

    def __init__(self, out_dir, **kwargs) -> None:
        super().__init__(out_dir, **kwargs)
        self.keys: dict[str, list[str]] = {}

    def start_part(self, part: str) -> None:
        self.keys[part] = []

    def add(self, scene, part: str) -> None:
        self.keys[part].append(scene.key)
        self.write_image(f"images/{part}/{scene.key}.{scene.image_source.extension}", scene)

    def finish(self) -> None:
        lines = [f"{p} {' '.join(k)}" for p, k in self.keys.items()]
        self.write_file("index.txt", "\n".join(lines).encode())


@pytest.fixture
def tarball(tmp_path):
    path = tmp_path / "in.tar"
    with SceneWriter(path) as writer:
        for index in range(3):
            data = encode_image(make_image(seed=index), "jpg", 90)
            writer.write(Scene(Categories(["a"]), data, key=f"k{index}"))
    return path


def export(tmp_path, tarball, **kwargs):
    folder = ListExporter(tmp_path / "out", inputs=[tarball], **kwargs)
    with folder:
        for part in ("train", "val"):
            Pipeline(TarSource(tarball), [], folder.part(part)).run()
    return folder


def test_parts_images_and_index_are_written_byte_for_byte(tmp_path, tarball):
    folder = export(tmp_path, tarball)
    out = tmp_path / "out"
    assert (out / "index.txt").read_text() == "train k0 k1 k2\nval k0 k1 k2"
    originals = [s.image_source.encoded() for s in TarSource(tarball)]
    assert [(out / f"images/val/k{i}.jpg").read_bytes() for i in range(3)] == originals
    assert folder.report["parts"] == {"train": 3, "val": 3}
    assert folder.report["images"]["written"] == 6


def test_link_links_files_of_their_own_and_counts_the_rest(tmp_path):
    image = tmp_path / "photo.png"
    image.write_bytes(encode_image(make_image(), "png"))
    folder = ListExporter(tmp_path / "out", images="link")
    scenes = [
        Scene(Categories(["a"]), ImageSource.from_path(image), key="file"),
        Scene(Categories(["a"]), encode_image(make_image(), "png"), key="memory"),
    ]
    with folder:
        Pipeline(scenes, [], folder.part("train")).run()
    linked = tmp_path / "out" / "images" / "train" / "file.png"
    assert os.stat(linked).st_ino == os.stat(image).st_ino
    assert folder.report["images"] == {
        "written": 1,
        "linked": 1,
        "copied_not_linkable": 1,
        "skipped": 0,
        "renamed": 0,
    }


def test_none_writes_labels_only(tmp_path, tarball):
    folder = export(tmp_path, tarball, images="none")
    assert sorted(os.listdir(tmp_path / "out")) == ["index.txt"]
    assert folder.report["images"]["skipped"] == 6


def test_an_error_leaves_no_folder(tmp_path, tarball):
    class Failing(ListExporter):
        def finish(self) -> None:
            raise ValidationError("index refused")

    with pytest.raises(ValidationError, match="index refused"):
        with Failing(tmp_path / "out") as folder:
            Pipeline(TarSource(tarball), [], folder.part("train")).run()
    assert sorted(os.listdir(tmp_path)) == ["in.tar"]


@pytest.mark.parametrize("name", ["../x", "/etc/x", "a/../../x", "a\\..\\x", ""])
def test_names_outside_the_folder_are_refused(tmp_path, name):
    with pytest.raises(OutputError, match="refusing to write"):
        with ListExporter(tmp_path / "out") as folder:
            folder.write_file(name, b"x")
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_image_mode_is_refused():
    with pytest.raises(ValidationError, match="images must be one of copy, link, none"):
        ListExporter("out", images="symlink")


@pytest.mark.parametrize(
    ("paths", "parts", "expected"),
    [
        (["d/data-train.tar", "d/data-val.tar"], None, ["train", "val"]),
        (["a.tar", "b.tar"], None, ["a", "b"]),
        (["x-train.tar", "y-val.tar"], None, ["x-train", "y-val"]),
        (["data.tar"], None, ["data"]),
        (["a.tar", "b.tar"], ["train", "test"], ["train", "test"]),
    ],
)
def test_part_names(paths, parts, expected):
    assert part_names_for(paths, parts) == expected


@pytest.mark.parametrize(
    ("paths", "parts", "message"),
    [
        (
            ["a/x.tar", "b/x.tar"],
            None,
            "part names must be unique, got x x; name them with --parts",
        ),
        (["a.tar"], ["a", "b"], "2 part names given for 1 inputs"),
        (["a.tar"], [".."], "part name '..' cannot be used in a file name"),
    ],
)
def test_bad_part_names(paths, parts, message):
    with pytest.raises(ValidationError, match=f"^{message}$"):
        part_names_for(paths, parts)
