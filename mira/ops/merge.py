"""Merging collections (`mira merge`, `SceneCollection.merge`): the scenes of every input in
the order given, categories unioned by name, keys kept unique, duplicate images reported.

- Categories: one per name, in order of first appearance (the first input's, then the
  names the next ones add). A scene whose categories are not the union gets them.
- Keys: a key that two scenes share is an error naming both inputs, unless prefixes keep
  them apart: `prefix_keys` is "none", "auto" (each input's file stem and '-':
  ``cam1.tar`` → ``cam1-000000``) or one prefix per input (see `mira.ops.scene_keys`).
- Exact duplicate images (the same bytes, see `mira.ops.image_duplicates`) are counted with
  examples; `duplicate_images="drop"` keeps only the first of each.

A file merge reads its inputs twice, like split: pass 1 (`MergePlanner`) reads every record
to learn the union, check the keys and find duplicate images before anything is written;
pass 2 (`MergeStage`) checks every scene, as any read does, and writes. A scene whose key and
categories stay as they are is copied as stored, record bytes and image untouched; one that
gets a prefix or the union's categories gets its record edited (key, image name,
categories: annotations and labels keep their names), its image still copied as is.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mira.errors import FormatError, ValidationError
from mira.formats.stream import StoredScene
from mira.formats.tar_native import RECORD_EXTENSION
from mira.ops.image_duplicates import DuplicateImages, Encoded, encoded_image
from mira.ops.scene_keys import check_key_prefix, prefixed_key, rekey
from mira.pipeline import moved_job
from mira.pipeline.stage import Stage, as_scene

if TYPE_CHECKING:
    from mira.core import Scene, SceneCollection

DUPLICATE_ACTIONS = ("keep", "drop")
MAX_EXAMPLES = 10


def input_prefixes(names: Sequence[str], prefix_keys: str | Sequence[str] | None) -> list[str]:
    """One key prefix per input: "" for each ("none" or None), each file's stem and '-'
    ("auto"; standard input is "stdin-"), or the prefixes given, one per input."""
    from mira.ops.split import file_stem

    if prefix_keys is None or prefix_keys == "none" or list(prefix_keys) == ["none"]:
        return [""] * len(names)
    if prefix_keys == "auto" or list(prefix_keys) == ["auto"]:
        stems = ["stdin" if name == "-" else file_stem(os.path.basename(name)) for name in names]
        try:
            return [check_key_prefix(f"{stem}-") for stem in stems]
        except ValidationError as exc:
            raise ValidationError(
                f"--prefix-keys auto: {exc}; give one prefix per input instead"
            ) from None
    prefixes = [prefix_keys] if isinstance(prefix_keys, str) else list(prefix_keys)
    if len(prefixes) != len(names):
        raise ValidationError(
            f"{len(prefixes)} key prefixes given for {len(names)} inputs; give one per input, "
            "'auto' or 'none'"
        )
    return [check_key_prefix(prefix) for prefix in prefixes]


def check_duplicate_action(action: str) -> str:
    if action not in DUPLICATE_ACTIONS:
        raise ValidationError(
            f"duplicate images must be one of {', '.join(DUPLICATE_ACTIONS)}; got {action!r}"
        )
    return action


@dataclass
class MergePlan:
    """What pass 1 learnt: the union of the categories, scenes per input, and the duplicate
    images (global scene indices to leave out, and examples)."""

    categories: dict[str, list[str]] = field(default_factory=dict)  # name → inputs having it
    scenes: list[int] = field(default_factory=list)
    duplicates: int = 0
    examples: list[dict[str, str]] = field(default_factory=list)
    drop: set[int] = field(default_factory=set)


class MergePlanner:
    """Pass 1 of a file merge: learns the union, checks the keys and finds duplicate
    images. Each input is read by its own pipeline through `reading(number)`, a stage
    that passes scenes on unchanged; `names` says how errors and the report name inputs."""

    def __init__(
        self, names: Sequence[str], prefixes: Sequence[str], duplicate_images: str = "keep"
    ) -> None:
        self.names, self.prefixes = list(names), list(prefixes)
        self.drop_duplicates = check_duplicate_action(duplicate_images) == "drop"
        self.plan = MergePlan(scenes=[0] * len(names))
        # output key → the input it came from, and the file (shard) in that input
        self.owner: dict[str, tuple[int, str | None]] = {}
        self.images = DuplicateImages(where=lambda name: f"{name[1]}: scene {name[0]}")
        self.index = 0  # of the next scene, over all inputs

    def reading(self, number: int) -> Stage:
        return _Reading(self, number)

    def note(self, number: int, position: int, item: Any) -> None:
        """Scene `position` of input `number`: its categories, key and image."""
        plan, name = self.plan, self.names[number]
        scene_key, categories, image = _fields(item)
        for category in categories:
            having = plan.categories.setdefault(category, [])
            if not having or having[-1] != name:
                having.append(name)
        key = prefixed_key(self.prefixes[number], scene_key, position)
        file = getattr(getattr(item, "group", None), "source", None)
        if key in self.owner:
            earlier, earlier_file = self.owner[key]
            files = (earlier_file, file) if earlier == number and earlier_file != file else None
            hint = "--prefix-keys auto, or one per input"
            raise ValidationError(_clash(key, self.names, earlier, number, hint, files))
        self.owner[key] = (number, file)
        first = self.images.add((key, name), image)
        if first is not None:
            plan.duplicates += 1
            if len(plan.examples) < MAX_EXAMPLES:
                plan.examples.append(
                    {"key": key, "input": name, "same_as": first[0], "same_as_input": first[1]}
                )
            if self.drop_duplicates:
                plan.drop.add(self.index)
        plan.scenes[number] += 1
        self.index += 1


class _Reading(Stage):
    """One input's scenes, noted by the planner and passed on."""

    def __init__(self, planner: MergePlanner, number: int) -> None:
        self.planner, self.number = planner, number

    def __call__(self, items: Iterable[Any], engine: Any) -> Iterator[Any]:
        for position, item in enumerate(items):
            self.planner.note(self.number, position, item)
            yield item


def _fields(item: StoredScene | Scene) -> tuple[str | None, list[str], Encoded]:
    """A stored scene's key, categories and encoded image, from its record; a record that
    lacks them (or a legacy scene) is built into a Scene, whose checks name any problem."""
    record = getattr(item, "record", None)
    if record is not None:
        key, names = record.get("key"), record.get("categories")
        extension = record["image"].partition(".")[2]
        image = item.group.members.get(extension) if extension != RECORD_EXTENSION else None
        if (
            isinstance(key, str)
            and isinstance(names, list)
            and all(isinstance(name, str) for name in names)
            and image is not None
        ):
            return key, names, image
    scene = as_scene(item)
    return scene.key, scene.categories.names, encoded_image(scene)


def _clash(
    key: str,
    names: Sequence[str],
    first: int,
    second: int,
    hint: str,
    files: tuple[str | None, str | None] | None = None,
) -> str:
    """The error for a key of input `second` that input `first` has already; `files`: the
    two files of one input (shards, a glob) that both have it."""
    if first == second and files is not None:
        where = f"in both {files[0]} and {files[1]} (of {names[first]})"
    elif first == second:
        where = f"twice in {names[first]}"
    elif names[first] == names[second]:
        where = f"in both {names[first]} (input {first + 1}) and input {second + 1}"
    else:
        where = f"in both {names[first]} and {names[second]}"
    return f"scene key {key!r} is {where}; keep keys apart with prefixes ({hint})"


class MergeStage(Stage):
    """Pass 2 of a file merge: every input's scenes in order (stored), each with its
    input's prefix and the union's categories; unchanged ones pass on as they came."""

    def __init__(self, plan: MergePlan, prefixes: Sequence[str]) -> None:
        self.plan = plan
        self.prefixes = list(prefixes)
        self.union = list(plan.categories)
        self.records = {"copied": 0, "rewritten": 0}
        self.annotations = dict.fromkeys(self.union, 0)

    def __call__(self, items: Iterable[Any], engine: Any) -> Iterator[Any]:
        counts = self.plan.scenes
        number, position = 0, 0
        for index, item in enumerate(items):
            while number < len(counts) and position == counts[number]:
                number, position = number + 1, 0
            if number == len(counts):
                raise _changed()
            if index not in self.plan.drop:
                yield self.rebuild(item, self.prefixes[number], position)
            position += 1
        while number < len(counts) and position == counts[number]:
            number, position = number + 1, 0
        if number != len(counts):
            raise _changed()

    def rebuild(self, item: Any, prefix: str, position: int) -> Any:
        """The scene with its prefix and the union's categories: the item itself when both
        leave it unchanged, a native stored scene with its record edited (annotations and
        labels keep their category names), else a new `Scene`."""
        scene = as_scene(item)  # checks the record
        for annotation in scene.annotations:
            self.annotations[annotation.category.name] += 1
        key = prefixed_key(prefix, scene.key, position)
        if key == scene.key and scene.categories.names == self.union:
            self.records["copied"] += 1
            return item
        self.records["rewritten"] += 1
        return rekey(item, key, self.union)


def _changed() -> FormatError:
    return FormatError("the inputs changed between the two passes of the merge")


def merge_report(
    names: Sequence[str], prefixes: Sequence[str], output: str, stage: MergeStage
) -> dict[str, Any]:
    """The report of a file merge: per input, per category (annotations written, inputs
    having it), records copied or rewritten, duplicate images."""
    plan = stage.plan
    return {
        "inputs": [
            {"path": name, "prefix": prefix, "scenes": n}
            for name, prefix, n in zip(names, prefixes, plan.scenes, strict=True)
        ],
        "output": output,
        "scenes": stage.records["copied"] + stage.records["rewritten"],
        "categories": {
            name: {"annotations": stage.annotations[name], "inputs": having}
            for name, having in plan.categories.items()
        },
        "records": stage.records,
        "duplicate_images": {
            "count": plan.duplicates,
            "dropped": len(plan.drop),
            "examples": plan.examples,
        },
    }


def merge_collections(
    collections: Sequence[SceneCollection], prefix_keys: Sequence[str] | None = None
) -> SceneCollection:
    """`SceneCollection.merge`: the scenes of every collection in order, in one collection
    with the union of their categories; `prefix_keys` gives one key prefix per collection
    (a scene without a key is named by its position). Shared keys are an error."""
    from mira.core import SceneCollection

    if isinstance(prefix_keys, str) or list(prefix_keys or ()) in (["auto"], ["none"]):
        raise ValidationError("prefix_keys must be one prefix per collection (or None)")
    labels = [f"collection {i}" for i in range(len(collections))]
    prefixes = input_prefixes(labels, prefix_keys)
    union: dict[str, None] = {}
    for collection in collections:
        union.update(dict.fromkeys(collection.categories.names))
    categories = list(union)
    scenes, owner = [], {}
    for number, (collection, prefix) in enumerate(zip(collections, prefixes, strict=True)):
        for position, scene in enumerate(collection):
            key = prefixed_key(prefix, scene.key, position) if prefix else scene.key
            if key is not None:
                if key in owner:
                    hint = "prefix_keys=[...]"
                    raise ValidationError(_clash(key, labels, owner[key], number, hint))
                owner[key] = number
            if key != scene.key or scene.categories.names != categories:
                scene = scene.assign(categories=categories, key=key)
            scenes.append(scene)
    return SceneCollection(scenes, categories)


def __getattr__(name: str) -> Any:
    """`merge_files` lives in `mira.pipeline.jobs`; it is importable from here too."""
    return moved_job(__name__, name)
