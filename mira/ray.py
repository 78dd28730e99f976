"""Scenes on Ray Data, for pipelines of your own (the ``ray`` extra)::

    import mira.ray

    ds = mira.ray.read_scenes("s3://bucket/data-*.tar")        # one row per scene
    ds = ds.flat_map(mira.ray.tile(512, mode="grid"))          # runs on the cluster
    mira.ray.write_scenes(ds, "s3://bucket/tiles.tar", shard_size=10_000)

A row is ``{"key": str, "record": bytes, "image": bytes}``: a scene's native JSON record and
its image bytes, exactly the two members it has in a native tarball (see `row_of`). The operations
(`tile`, `augment`, `placeholder`, `render`, `dedupe`) are row functions for
`Dataset.flat_map`; each runs the same stage code as the command (`mira.ops`), so a
scene gives the same rows here as it gives scenes there. Only `augment` differs, since a
row has no position in the whole input: it seeds each copy from the scene's key instead
(`key_index`), so its draws do not depend on where or in which order rows run.

Reading runs one task per input file, in the workers (so URLs must be reachable from
them, with their credentials); `write_scenes` writes from this process, in dataset order,
so its output is deterministic.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from mira.core.encoding import Encoding
from mira.core.scene import Scene
from mira.errors import ValidationError
from mira.formats.stream import SceneWriter, StoredScene
from mira.formats.tar_native import RECORD_EXTENSION, decode_record, encode_record, parse_record
from mira.formats.tario import STDIO, MemberGroup, PathLike, expand_inputs, iter_member_groups
from mira.pipeline.stage import MapStage

if TYPE_CHECKING:
    import ray.data

__all__ = [
    "SceneRows",
    "augment",
    "dedupe",
    "key_index",
    "placeholder",
    "read_scenes",
    "render",
    "row_of",
    "scene_of",
    "tile",
    "write_scenes",
]

Row = dict[str, Any]


def _ray_data() -> Any:
    from mira.pipeline.ray_engine import INSTALL

    try:
        import ray.data
    except ImportError:
        raise ImportError(f"mira.ray needs the ray extra: {INSTALL}") from None
    return ray.data


def _group(row: Row) -> tuple[MemberGroup, dict[str, Any]]:
    key = row["key"] or _STAND_IN
    record = parse_record(row["record"], f"row {key}: record")
    image_name = record["image"]
    extension = image_name.partition(".")[2]
    members = {RECORD_EXTENSION: row["record"], extension: row["image"]}
    names = {RECORD_EXTENSION: f"{key}.{RECORD_EXTENSION}", extension: image_name}
    return MemberGroup("row", key, members, names), record


def scene_of(row: Row) -> Scene:
    """The scene of a row (its image still encoded)."""
    group, record = _group(row)
    scene = decode_record(group, record)
    return scene if row["key"] is not None else scene.assign(key=None)


#: The key in the record of a scene without one (its row's key is None).
_STAND_IN = "unkeyed"


def row_of(scene: Scene) -> Row:
    """The row of a scene: its record and image as a native writer stores them. A scene
    without a key has key None (`write_scenes` numbers it by its position, as mira does)."""
    key = scene.key or _STAND_IN
    image = scene.image_source
    name = f"{key}.{image.extension}"
    record = encode_record(scene, key, name)
    return {"key": scene.key, "record": record, "image": image.encoded()}


def _file_rows(item: Row) -> Iterator[Row]:
    """Worker: the rows of one input file, in order; native scenes as they are stored."""
    for group in iter_member_groups(item["path"], lazy=False):
        stored = StoredScene(group)
        members = stored.native_members()
        if members is None:  # legacy layout, or an image member named otherwise
            yield row_of(stored.scene())
        else:
            key, record, _, image = members
            yield {"key": key, "record": record, "image": image}


def read_scenes(paths: PathLike | Sequence[PathLike]) -> ray.data.Dataset:
    """A dataset of the scenes of tarballs (native or legacy; files, URLs, globs of either),
    one row per scene (see the module), in input order; one read task per file."""
    rd = _ray_data()
    inputs = expand_inputs(paths)
    if STDIO in inputs:
        raise ValidationError("read_scenes reads files or URLs, not standard input")
    items = [{"path": path} for path in inputs]
    dataset = rd.from_items(items, override_num_blocks=len(items)).flat_map(_file_rows)
    dataset.context.execution_options.preserve_order = True  # datasets made from it too
    return dataset


def write_scenes(
    dataset: ray.data.Dataset,
    path: PathLike,
    *,
    shard_size: int | None = None,
    force: bool = False,
    format: str = "native",
    inputs: Iterable[PathLike] = (),
) -> int:
    """Write a dataset's rows to a tarball (or shards of `shard_size` scenes, named
    ``name-000000.tar``), in dataset order, atomically, like every mira writer; `inputs`
    are never overwritten. Native scenes are copied as they are. Returns the scene count."""
    dataset.context.execution_options.preserve_order = True
    with SceneWriter(
        path, force=force, inputs=list(inputs), shard_size=shard_size, format=format
    ) as writer:
        for row in dataset.iter_rows():
            if row["key"] is not None:
                writer.write_stored(StoredScene(_group(row)[0]))
            else:
                writer.write(scene_of(row))
    return writer.count


def key_index(key: str) -> int:
    """A scene's number from its key (64 bits of its BLAKE2 hash), for seeding by key."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")


class SceneRows:
    """A `Dataset.flat_map` function: a row's scene through one stage, its result rows out."""

    def __init__(self, stage: MapStage) -> None:
        self.stage = stage

    def scenes(self, scene: Scene) -> Iterable[Any]:
        stage = self.stage
        return stage.results(map(type(stage).work, stage.tasks([scene])))

    def __call__(self, row: Row) -> Iterator[Row]:
        for scene in self.scenes(scene_of(row)):
            yield row_of(scene)


class _AugmentRows(SceneRows):
    def scenes(self, scene: Scene) -> Iterable[Any]:
        stage = self.stage
        task = (stage.job, key_index(scene.key), scene)  # type: ignore[attr-defined]
        return stage.results([type(stage).work(task)])


class _RenderRows(SceneRows):
    def __call__(self, row: Row) -> Iterator[Row]:
        stage = self.stage
        task = next(iter(stage.tasks([scene_of(row)])))
        render = type(stage).work(task)
        name = f"{render.stem}.{render.extension}"
        yield {"key": row["key"], "name": name, "image": render.data}


class _DedupeRows:
    def __init__(self, stage: Any) -> None:
        self.stage = stage

    def __call__(self, row: Row) -> Row:
        scene = scene_of(row)
        kept = self.stage.drop(scene)
        return row if kept is scene else row_of(kept)


def tile(
    max_size: int,
    mode: str = "subcrops",
    overlap: float = 0.2,
    min_visibility: float = 0.0,
    oversized: str = "error",
    image_format: str = "keep",
    quality: int | None = None,
) -> SceneRows:
    """`mira tile` per row: the rows of a scene's sub-crops or grid tiles."""
    from mira.ops.tiling import TileStage

    encoding = Encoding(image_format, quality)
    return SceneRows(
        TileStage(max_size, mode, overlap, min_visibility, oversized, encoding=encoding)
    )


def augment(
    pipeline: Any,
    *,
    copies: int = 1,
    keep_original: bool = False,
    min_visibility: float | None = None,
    seed: int = 0,
    image_format: str = "keep",
    quality: int | None = None,
) -> SceneRows:
    """`mira augment` per row (a pipeline file or an albumentations augmenter): the original
    (if kept), then `copies` copies, each seeded from (seed, `key_index(key)`, copy)."""
    from mira.ops.augment_pipeline import load_pipeline
    from mira.ops.augment_stream import AugmentStage

    if isinstance(pipeline, (str, os.PathLike)):
        pipeline = load_pipeline(pipeline)
    stage = AugmentStage(
        pipeline,
        copies=copies,
        keep_original=keep_original,
        min_visibility=min_visibility,
        seed=seed,
        encoding=Encoding(image_format, quality),
    )
    if not stage.picklable:
        raise ValidationError(f"the augmenter cannot be sent to Ray workers ({stage.pickle_error})")
    return _AugmentRows(stage)


def placeholder(
    colormap: Any = None,
    background: Any = 255,
    image_format: str = "png",
    quality: int | None = None,
) -> SceneRows:
    """`mira placeholder` per row: the scene on a blank canvas (PNG by default),
    annotations filled."""
    from mira.ops.placeholder import PlaceholderStage

    encoding = Encoding(image_format, quality)
    return SceneRows(PlaceholderStage(colormap, background, encoding=encoding))


def render(
    labels: bool = True,
    opaque: bool = False,
    image_format: str = "jpg",
    colormap: Any = None,
    quality: int | None = None,
) -> SceneRows:
    """`mira render` per row: ``{"key", "name": KEY.FORMAT, "image": the drawing}`` (no
    contact sheet: that is a whole-folder thing)."""
    from mira.ops.render import RenderStage

    encoding = Encoding(image_format, quality)
    return _RenderRows(RenderStage(None, labels, opaque, encoding, colormap, 0))


def dedupe(threshold: float = 1.0, method: str = "iou") -> _DedupeRows:
    """`mira dedupe` per row, for `Dataset.map`: the row without duplicate annotations (the
    same row, bytes untouched, when it has none)."""
    from mira.ops.dedupe import DedupeStage

    return _DedupeRows(DedupeStage(threshold, method))
