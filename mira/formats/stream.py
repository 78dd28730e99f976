"""Scene streams: read scenes one at a time from tarballs of any layout, write them one at a
time to a native or legacy tarball (optionally sharded), atomically and deterministically."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from mira.core.file_range import FileRange
from mira.core.image import sniff_extension
from mira.core.scene import Scene
from mira.errors import FormatError, ValidationError
from mira.formats import storage
from mira.formats.tar_native import (
    RECORD_EXTENSION,
    decode_record,
    dump_record,
    encode_record,
    parse_record,
)
from mira.formats.tar_writer import AtomicTar
from mira.formats.tario import (
    STDIO,
    MemberGroup,
    PathLike,
    check_output,
    expand_inputs,
    iter_member_groups,
)
from mira.formats.used_keys import KeySet

if TYPE_CHECKING:
    from mira.core.collection import SceneCollection

FORMATS = ("native", "legacy")


def _legacy_key(key: str) -> str:
    return f"{int(key):06d}" if key.isdigit() else key


def scene_from_group(group: MemberGroup) -> Scene:
    """Dispatch a member group to the layout it is written in."""
    extensions = set(group.members)
    if RECORD_EXTENSION in extensions:
        return decode_record(group)
    if "" in extensions:
        from mira.formats.tar_legacy import decode_legacy_scene

        extra = sorted(extensions - {"", "png"})
        if extra:
            raise FormatError(f"{group.where(extra[0])}: is not part of any scene")
        return decode_legacy_scene(
            group.data(""),
            group.data("png") if "png" in extensions else None,
            group.where(""),
            key=_legacy_key(group.key),
        )
    first = sorted(extensions)[0]
    raise FormatError(f"{group.where(first)}: image member has no record")


def iter_scenes(paths: PathLike | Sequence[PathLike], lazy: bool = True) -> Iterator[Scene]:
    """Scenes from one or more tarballs (paths, globs or "-"), in order, images still encoded.

    With `lazy`, an image in a regular file is read only when asked for (see
    `iter_member_groups`), so copying it to another tarball never passes through Python.
    """
    for path in expand_inputs(paths):
        for group in iter_member_groups(path, lazy=lazy):
            yield scene_from_group(group)


class StoredScene:
    """One scene as stored in a tarball, to copy it to another without rebuilding it.

    A native scene keeps its parsed record and its members, which a native writer copies
    as they are (record bytes unchanged, image copied file to file). Use it for scenes
    already checked once (e.g. by a first pass with `iter_scenes`): its annotations are
    not validated again. Anything else is built into a `Scene` when asked for.
    """

    __slots__ = ("group", "record", "_scene")

    def __init__(self, group: MemberGroup, record: dict[str, Any] | None = None) -> None:
        self.group = group
        self._scene: Scene | None = None
        self.record = record
        if record is None and RECORD_EXTENSION in group.members:
            self.record = parse_record(group.data(RECORD_EXTENSION), group.where(RECORD_EXTENSION))

    def with_record(self, record: dict[str, Any]) -> StoredScene:
        """The same image under another native record (a new key, categories, ...), for
        stages that edit records without building scenes. The record is written as given,
        not checked again: derive it from this scene's (checked) one, with "image" named
        ``{key}.{extension}`` as before."""
        group = self.group
        members = {**group.members, RECORD_EXTENSION: dump_record(record)}
        return StoredScene(MemberGroup(group.source, record["key"], members, group.names), record)

    def scene(self) -> Scene:
        if self._scene is None:
            self._scene = (
                scene_from_group(self.group)
                if self.record is None
                else decode_record(self.group, self.record)
            )
        return self._scene

    def native_members(self) -> tuple[str, bytes, str, bytes | FileRange] | None:
        """(key, record bytes, image name, image bytes or range) when a native writer may copy
        this scene as stored: a native record whose image member is named by its key and
        holds what its extension says. None otherwise (the scene is written anew)."""
        record, group = self.record, self.group
        if record is None:
            return None
        extension = record["image"].partition(".")[2]
        if (
            record["image"] != f"{record['key']}.{extension}"
            or extension not in group.members
            or _sniff(group, extension) != extension
        ):
            return None
        image = group.members[extension]
        return record["key"], group.data(RECORD_EXTENSION), record["image"], image

    def category_names(self) -> list[str]:
        """The scene's categories, in order."""
        if self.record is None:
            return list(self.scene().categories.names)
        return list(self.record["categories"])

    def annotation_categories(self) -> list[str]:
        """The category name of each annotation, in order."""
        if self.record is None:
            return [a.category.name for a in self.scene().annotations]
        return [a["category"] for a in self.record["annotations"]]


def _sniff(group: MemberGroup, extension: str) -> str:
    """The extension a writer would give the bytes of this member."""
    return sniff_extension(group.data(extension, 16)) or "img"


def iter_stored(paths: PathLike | Sequence[PathLike]) -> Iterator[StoredScene]:
    """Scenes as stored (see `StoredScene`), from tarballs as for `iter_scenes`."""
    for path in expand_inputs(paths):
        for group in iter_member_groups(path):
            yield StoredScene(group)


def read_collection(paths: PathLike | Sequence[PathLike]) -> SceneCollection:
    """A whole collection in memory (encoded images only); an empty tarball gives no categories."""
    from mira.core.collection import SceneCollection

    scenes = list(iter_scenes(paths, lazy=False))
    categories = scenes[0].categories if scenes else []
    for scene in scenes:
        if scene.categories != categories:
            raise FormatError(
                f"scene {scene.key} has categories {scene.categories.names}, but the first "
                f"scene has {list(categories.names)}; a collection needs one set of categories"
            )
    return SceneCollection(scenes, categories)


def shard_name(path: str, index: int) -> str:
    root, extension = os.path.splitext(path)
    return f"{root}-{index:06d}{extension or '.tar'}"


class SceneWriter:
    """Write scenes one at a time; nothing appears at `path` unless every scene was written.

    `shard_size` caps scenes per file (files named `name-000000.tar`, ...). `inputs` are
    paths that must not be overwritten, even with `force`.
    """

    def __init__(
        self,
        path: PathLike,
        force: bool = False,
        inputs: Sequence[PathLike] = (),
        shard_size: int | None = None,
        format: str = "native",
    ) -> None:
        if format not in FORMATS:
            raise ValidationError(f"unknown tarball format {format!r}; use one of {FORMATS}")
        if shard_size is not None and shard_size < 1:
            raise ValidationError(f"shard size must be at least 1 scene, got {shard_size}")
        self.path = storage.local_path(os.fspath(path))
        if shard_size is not None and self.path == STDIO:
            raise ValidationError("cannot write shards to standard output")
        self.format = format
        self.shard_size = shard_size
        self.force = force
        self.inputs = list(inputs)
        check_output(self.path if shard_size is None else shard_name(self.path, 0), inputs, force)
        self.count = 0
        self._keys = KeySet()
        self._tars: list[AtomicTar] = []

    def __enter__(self) -> SceneWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def _current(self) -> AtomicTar:
        if self.shard_size is None:
            if not self._tars:
                self._tars.append(AtomicTar(self.path))
        elif self.count % self.shard_size == 0 or not self._tars:
            if self._tars:
                self._tars[-1].finish()  # renamed at close, with the others
            name = shard_name(self.path, len(self._tars))
            check_output(name, self.inputs, self.force)
            self._tars.append(AtomicTar(name))
        return self._tars[-1]

    def write(self, scene: Scene) -> str:
        """Append one scene; returns the key it was stored under."""
        key = self._claim(scene.key or f"{self.count:06d}")
        tar = self._current()
        if self.format == "native":
            image = scene.image_source
            image_name = f"{key}.{image.extension}"
            record = encode_record(scene, key, image_name)
            tar.add(f"{key}.{RECORD_EXTENSION}", record)
            if image.file_range is None:
                tar.add(image_name, image.encoded())
            else:
                tar.add_range(image_name, image.file_range)
        else:
            from mira.formats.tar_legacy import encode_legacy_scene

            png, proto = encode_legacy_scene(scene)
            index = self.count % self.shard_size if self.shard_size else self.count
            tar.add(f"{index}.png", png)  # the original numbers each file from 0
            tar.add(f"{index}", proto)
        self.count += 1
        return key

    def _claim(self, key: str) -> str:
        if not self._keys.add(key):
            raise ValidationError(f"scene key {key!r} is written twice; keys must be unique")
        return key

    def write_stored(self, stored: StoredScene) -> str:
        """Append a stored scene: a native one to a native tarball is copied as stored,
        anything else is written as its `Scene`. Returns the key it was stored under."""
        members = stored.native_members() if self.format == "native" else None
        if members is None:
            return self.write(stored.scene())
        key, record, image_name, image = members
        key = self._claim(key)
        tar = self._current()
        tar.add(f"{key}.{RECORD_EXTENSION}", record)
        if isinstance(image, bytes):
            tar.add(image_name, image)
        else:
            tar.add_range(image_name, image)
        self.count += 1
        return key

    def close(self) -> None:
        """Commit every file (an empty tarball when no scene was written)."""
        first = self.path if self.shard_size is None else shard_name(self.path, 0)
        if not self._tars:
            self._tars.append(AtomicTar(first))
        tars = self._tars
        try:
            for tar in tars:
                tar.commit()
        except BaseException:
            self.abort()
            raise
        if self.shard_size is not None:
            self._remove_stale_shards(len(tars))

    def abort(self) -> None:
        for tar in self._tars:
            tar.abort()

    def remove(self) -> None:
        """Remove the files this writer committed (a later step of the same job failed)."""
        for tar in self._tars:
            if storage.is_url(tar.path):
                storage.remove(tar.path)
            elif tar.path != STDIO and os.path.isfile(tar.path):
                os.unlink(tar.path)

    def _remove_stale_shards(self, count: int) -> None:
        """With force, shards left by an earlier, longer run would mix into globs: remove them."""
        index = count
        remote = storage.is_url(self.path)
        exists = storage.exists if remote else os.path.exists
        while self.force and exists(shard_name(self.path, index)):
            (storage.remove if remote else os.unlink)(shard_name(self.path, index))
            index += 1
