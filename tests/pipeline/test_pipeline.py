"""Pipelines: stored scenes for pixel-free stages, and what the sinks guarantee."""

from __future__ import annotations

from pathlib import Path

import pytest

from mira.core import Annotation, Categories, Scene
from mira.core.image import encode_image
from mira.errors import FormatError, OutputError
from mira.formats import SceneWriter
from mira.formats.stream import StoredScene
from mira.ops.dedupe import DedupeStage
from mira.ops.tiling import TileStage
from mira.pipeline import FolderSink, PartsSink, Pipeline, TarSink, TarSource
from tests.conftest import make_image


@pytest.fixture
def source(tmp_path: Path) -> Path:
    categories = Categories(["dog"])
    path = tmp_path / "in.tar"
    with SceneWriter(path) as writer:
        for index in range(4):
            box = Annotation(categories["dog"], 1, 1, 20, 20)
            writer.write(
                Scene(
                    categories,
                    encode_image(make_image(seed=index), "jpg", 90),
                    annotations=[box] * (1 + index % 2),
                    key=f"k{index}",
                )
            )
    return path


class RecordingSink(TarSink):
    """A tarball sink that remembers the type of every item it was given."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kinds: list[str] = []

    def write(self, item) -> None:
        self.kinds.append(type(item).__name__)
        super().write(item)


def test_pixel_free_stages_get_stored_scenes_and_pass_unchanged_ones_on(source, tmp_path):
    sink = RecordingSink(tmp_path / "out.tar")
    Pipeline(TarSource(source), [DedupeStage(1.0)], sink).run()
    # scenes 1 and 3 lose a duplicate box and are rebuilt; 0 and 2 are copied as stored
    assert sink.kinds == ["StoredScene", "Scene", "StoredScene", "Scene"]


def test_a_stage_that_needs_pixels_gets_scenes(source, tmp_path):
    seen: list[str] = []

    class Spy(TileStage):
        def tasks(self, items):
            for scene in items:
                seen.append(type(scene).__name__)
                yield scene, self.options

    Pipeline(TarSource(source), [Spy(32, mode="grid")], TarSink(tmp_path / "out.tar")).run()
    assert seen == ["Scene"] * 4


def test_a_plain_iterable_is_a_source(tmp_path):
    categories = Categories(["dog"])
    scenes = [Scene(categories, encode_image(make_image(), "png"), key="only")]
    sink = RecordingSink(tmp_path / "out.tar")
    Pipeline(scenes, [DedupeStage()], sink).run()
    assert sink.kinds == ["Scene"]
    assert [s.key for s in TarSource(tmp_path / "out.tar")] == ["only"]


def test_parts_sink_routes_by_position_and_commits_all(source, tmp_path):
    parts = [TarSink(tmp_path / "a.tar"), TarSink(tmp_path / "b.tar")]
    Pipeline(TarSource(source), [], PartsSink(parts, [1, 0, 0, 1])).run()
    assert [s.key for s in TarSource(tmp_path / "a.tar")] == ["k1", "k2"]
    assert [s.key for s in TarSource(tmp_path / "b.tar")] == ["k0", "k3"]


@pytest.mark.parametrize("part_of", [[0, 1, 0], [0, 1, 0, 1, 0]])
def test_parts_sink_refuses_a_count_that_changed_and_keeps_nothing(source, tmp_path, part_of):
    parts = [TarSink(tmp_path / "a.tar"), TarSink(tmp_path / "b.tar")]
    with pytest.raises(FormatError, match="^the input changed between the two passes"):
        Pipeline(TarSource(source), [], PartsSink(parts, part_of)).run()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.tar"]


@pytest.mark.parametrize("name", ["../escape.txt", "/abs.txt", "a/../../b.txt", ""])
def test_folder_sink_refuses_names_outside_its_folder(tmp_path, name):
    target = tmp_path / "out"
    with pytest.raises(OutputError, match="refusing to write .* outside the folder"):
        Pipeline([(name, b"x")], [], FolderSink(target)).run()
    assert list(tmp_path.iterdir()) == []


def test_folder_sink_writes_nested_names_and_appears_whole(tmp_path):
    target = tmp_path / "out"
    Pipeline([("a.txt", b"1"), ("sub/b.txt", b"2")], [], FolderSink(target)).run()
    assert (target / "a.txt").read_bytes() == b"1"
    assert (target / "sub" / "b.txt").read_bytes() == b"2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_sinks_check_outputs_before_anything_is_read(source, tmp_path):
    with pytest.raises(OutputError, match="is also an input"):
        TarSink(source, force=True, inputs=TarSource(source).inputs)
    (tmp_path / "taken.tar").write_bytes(b"keep")
    with pytest.raises(OutputError, match=r"already exists \(use --force"):
        TarSink(tmp_path / "taken.tar")
    assert (tmp_path / "taken.tar").read_bytes() == b"keep"


def test_stored_scene_is_what_pixel_free_sources_give(source):
    assert all(isinstance(item, StoredScene) for item in TarSource(source).stored())


def test_prefixed_keys_edit_stored_records_and_copy_images_as_stored(source, tmp_path):
    from mira.ops.scene_keys import PrefixKeys

    sink = RecordingSink(tmp_path / "out.tar")
    Pipeline(TarSource(source), [PrefixKeys("cam1-")], sink).run()
    assert sink.kinds == ["StoredScene"] * 4
    before, after = list(TarSource(source)), list(TarSource(tmp_path / "out.tar"))
    assert [s.key for s in after] == ["cam1-k0", "cam1-k1", "cam1-k2", "cam1-k3"]
    for old, new in zip(before, after, strict=True):
        assert new.image_source.encoded() == old.image_source.encoded()
        assert len(new.annotations) == len(old.annotations)


def test_a_null_sink_writes_nothing_and_the_stages_still_see_every_scene(source):
    from mira.pipeline import NullSink

    seen: list[str] = []

    class Spy(DedupeStage):
        def __call__(self, items, engine):
            for item in items:
                seen.append(type(item).__name__)
                yield item

    Pipeline(TarSource(source), [Spy(1.0)], NullSink()).run()
    assert seen == ["StoredScene"] * 4
