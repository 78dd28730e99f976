"""Keeping and dropping annotations and scenes (`mira filter`), without decoding an image.

Each scene goes through these steps, in this order:

1. Annotations and labels: `categories` keeps only those of the named categories (and the
   scene's category list becomes those, in its own order), `drop_categories` removes the
   named ones (from the list too); `min_area` drops annotations whose area (a polygon's own
   area, not its box's) is below it, in pixels².
2. Scenes, judged on what is left: every `where` condition holds, at least one image-level
   label is of a category in `with_labels` (when given), and at least `min_annotations`
   annotations are left. A scene failing several is counted under the first.
3. `sample`: exactly N of the scenes left, drawn without replacement by a local
   ``numpy.random.default_rng(seed)``, written in input order. Files are read twice for it
   (the first pass counts), so the draw depends only on the input, the options and the seed.

A scene that step 1 leaves unchanged and that is kept passes on as it came (a stored scene
is copied as stored). Categories named in an option must be in the input's categories
(those of its first scene): anything else is an `OptionError`.

A `where` condition is ``metadata.PATH=VALUE`` or ``metadata.PATH!=VALUE`` (PATH as in
`mira.ops.keys`). VALUE is read as JSON when it parses (``2020``, ``true``, ``"007"``),
else taken as text; a metadata value equals it when it is that value (a bool only equals a
bool) or when it is text spelled exactly as VALUE (``2020`` matches 2020 and "2020"). A scene
without the metadata value (or with null there, as for KEYs) never equals, so ``!=`` keeps
it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mira.errors import FormatError, OptionError, ValidationError
from mira.ops.keys import Key, parse_key
from mira.pipeline import moved_job
from mira.pipeline.stage import Stage, as_scene

if TYPE_CHECKING:
    from mira.core import Scene, SceneCollection

REASONS = ("where", "with_labels", "min_annotations", "sample")
_ABSENT = object()


@dataclass(frozen=True)
class Condition:
    """One ``--where``: a metadata KEY, "=" or "!=", and the VALUE as written and as read."""

    text: str
    key: Key
    equal: bool
    written: str
    value: Any

    def holds(self, scene: Scene) -> bool:
        found = self.key.value(scene, missing=_ABSENT)
        same = found is not _ABSENT and (
            _same(found, self.value) or (isinstance(found, str) and found == self.written)
        )
        return same == self.equal


def _same(a: Any, b: Any) -> bool:
    """JSON equality that keeps bools apart from numbers (True is not 1)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def parse_where(text: str | Condition) -> Condition:
    """``metadata.PATH=VALUE`` or ``metadata.PATH!=VALUE`` → a Condition (see the module)."""
    if isinstance(text, Condition):
        return text
    if not isinstance(text, str) or "=" not in text:
        raise ValidationError(
            f"--where {text!r} must be metadata.PATH=VALUE or metadata.PATH!=VALUE"
        )
    path, _, written = text.partition("=")
    equal = not path.endswith("!")
    path = path if equal else path[:-1]
    try:
        key = parse_key(path)
    except ValidationError:
        key = None
    if key is None or key.kind != "metadata":
        raise ValidationError(
            f"--where {text!r}: {path!r} is not metadata.PATH (e.g. metadata.source.camera=left)"
        )
    try:
        value = json.loads(written)
    except ValueError:
        value = written
    return Condition(text, key, equal, written, value)


def _names(value: str | Sequence[str] | None, option: str) -> list[str] | None:
    """A list of category names from "A,B" or ["A", "B"]; None when not given."""
    if value is None:
        return None
    names = value.split(",") if isinstance(value, str) else list(value)
    names = [name.strip() if isinstance(name, str) else name for name in names]
    if not names or not all(isinstance(name, str) and name for name in names):
        raise ValidationError(f"{option} must be category names, got {value!r}")
    return names


def _count(value: Any, name: str, kind: type = int) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int):
        raise ValidationError(f"{name} must be a number, got {value!r}")
    if value < 0:
        raise ValidationError(f"{name} must be at least 0, got {value!r}")
    return kind(value)


class SceneFilter:
    """The criteria of steps 1 and 2, checked when built; `apply` judges one scene."""

    def __init__(
        self,
        categories: str | Sequence[str] | None = None,
        drop_categories: str | Sequence[str] | None = None,
        where: Iterable[str | Condition] = (),
        min_annotations: int | None = None,
        min_area: float | None = None,
        with_labels: str | Sequence[str] | None = None,
    ) -> None:
        self.keep = _names(categories, "categories")
        self.drop = _names(drop_categories, "drop categories")
        if self.keep is not None and self.drop is not None:
            raise ValidationError("give categories to keep or categories to drop, not both")
        self.where = [parse_where(condition) for condition in where]
        self.min_annotations = _count(min_annotations, "min annotations")
        self.min_area = _count(min_area, "min area", float)
        self.labels = _names(with_labels, "with labels")
        self._checked = False

    def options(self) -> dict[str, Any]:
        return {
            "categories": self.keep,
            "drop_categories": self.drop,
            "where": [condition.text for condition in self.where],
            "min_annotations": self.min_annotations,
            "min_area": self.min_area,
            "with_labels": self.labels,
        }

    def check_categories(self, names: Sequence[str]) -> None:
        """Every category an option names must be one of `names` (the input's)."""
        for option, given in (
            ("categories", self.keep),
            ("drop_categories", self.drop),
            ("with_labels", self.labels),
        ):
            unknown = [name for name in given or () if name not in names]
            if unknown:
                raise OptionError(
                    f"{'categories' if len(unknown) > 1 else 'category'} "
                    f"{', '.join(map(repr, unknown))} not in the input's categories {list(names)}",
                    option,
                )

    def kept_categories(self, names: Sequence[str]) -> list[str]:
        if self.keep is not None:
            return [name for name in names if name in self.keep]
        if self.drop is not None:
            return [name for name in names if name not in self.drop]
        return list(names)

    def select(self, scene: Scene) -> Selection:
        """What steps 1 and 2 keep of `scene` (checking the options' categories against
        those of the first scene asked about)."""
        names = scene.categories.names
        if not self._checked:
            self.check_categories(names)
            self._checked = True
        kept = self.kept_categories(names)
        annotations = [
            i
            for i, a in enumerate(scene.annotations)
            if a.category.name in kept and (self.min_area is None or a.area() >= self.min_area)
        ]
        labels = [i for i, label in enumerate(scene.labels) if label.category.name in kept]
        changed = (
            len(kept) != len(names)
            or len(annotations) != len(scene.annotations)
            or len(labels) != len(scene.labels)
        )
        reason = self._reason(scene, [scene.labels[i] for i in labels], len(annotations))
        return Selection(kept, annotations, labels, changed, reason)

    def apply(self, scene: Scene) -> tuple[Scene, str | None]:
        """The scene after step 1 (the same object when unchanged) and the reason step 2
        drops it (None: kept)."""
        selection = self.select(scene)
        return selection.scene(scene), selection.reason

    def _reason(self, scene: Scene, labels: Sequence[Any], annotations: int) -> str | None:
        if not all(condition.holds(scene) for condition in self.where):
            return "where"
        if self.labels is not None and not any(
            label.category.name in self.labels for label in labels
        ):
            return "with_labels"
        if self.min_annotations is not None and annotations < self.min_annotations:
            return "min_annotations"
        return None


@dataclass(frozen=True)
class Selection:
    """What steps 1 and 2 keep of one scene: its categories, the indices of its annotations
    and labels, whether that changes it, and why step 2 drops it (None: kept)."""

    categories: list[str]
    annotations: list[int]
    labels: list[int]
    changed: bool
    reason: str | None

    def scene(self, scene: Scene) -> Scene:
        """The scene with only what is kept (itself when nothing changes)."""
        if not self.changed:
            return scene
        # categories first (nothing to convert: categories compare by name), then the items
        bare = scene.assign(categories=self.categories, annotations=[], labels=[])
        return bare.assign(
            annotations=[scene.annotations[i] for i in self.annotations],
            labels=[scene.labels[i] for i in self.labels],
        )

    def record(self, record: dict[str, Any]) -> dict[str, Any]:
        """The same for the scene's native record (annotations and labels in its order)."""
        return {
            **record,
            "categories": self.categories,
            "annotations": [record["annotations"][i] for i in self.annotations],
            "labels": [record["labels"][i] for i in self.labels],
        }


def _tally() -> dict[str, int]:
    return {"before": 0, "kept": 0, "dropped": 0}


class FilterStage(Stage):
    """Steps 1-3 over a stream, counting into a report as scenes go by. `sample` is the
    mask of the scenes left after step 2 that step 3 keeps (None: all of them). A kept
    scene that changed is a native stored scene with its record edited when it came as
    one, else a new `Scene`."""

    def __init__(self, criteria: SceneFilter, sample: Any = None) -> None:
        self.criteria = criteria
        self.sample = sample
        self.left = 0  # scenes left after step 2
        self.scenes = _tally()
        self.dropped = dict.fromkeys(REASONS, 0)
        self.annotations = _tally()
        self.labels = _tally()
        self.categories: dict[str, dict[str, dict[str, int]]] = {}

    def __call__(self, items: Iterable[Any], engine: Any) -> Iterator[Any]:
        for item in items:
            scene = as_scene(item)
            selection = self.criteria.select(scene)
            reason = selection.reason
            if reason is None:
                if self.sample is not None:
                    if self.left >= len(self.sample):
                        raise _changed()
                    if not self.sample[self.left]:
                        reason = "sample"
                self.left += 1
            self._count(scene, selection, reason)
            if reason is None:
                record = getattr(item, "record", None)
                if not selection.changed:
                    yield item
                elif record is not None:
                    yield item.with_record(selection.record(record))
                else:
                    yield selection.scene(scene)
        if self.sample is not None and self.left != len(self.sample):
            raise _changed()

    def _count(self, scene: Scene, selection: Selection, reason: str | None) -> None:
        for name in scene.categories.names:
            if name not in self.categories:
                self.categories[name] = {k: _tally() for k in ("scenes", "annotations", "labels")}
        self.scenes["before"] += 1
        self._per_category(scene.annotations, scene.labels, "before")
        if reason is not None:
            self.dropped[reason] += 1
            return
        self.scenes["kept"] += 1
        annotations = [scene.annotations[i] for i in selection.annotations]
        self._per_category(annotations, [scene.labels[i] for i in selection.labels], "kept")

    def _per_category(self, annotations: list[Any], labels: list[Any], column: str) -> None:
        present: set[str] = set()
        for kind, items, total in (
            ("annotations", annotations, self.annotations),
            ("labels", labels, self.labels),
        ):
            total[column] += len(items)
            for item in items:
                name = item.category.name
                self.categories[name][kind][column] += 1
                present.add(name)
        for name in present:
            self.categories[name]["scenes"][column] += 1

    def report(self) -> dict[str, Any]:
        tallies = [self.scenes, self.annotations, self.labels]
        tallies += [counts for entry in self.categories.values() for counts in entry.values()]
        for counts in tallies:
            counts["dropped"] = counts["before"] - counts["kept"]
        return {
            "options": self.criteria.options(),
            "scenes": self.scenes,
            "dropped_scenes": self.dropped,
            "annotations": self.annotations,
            "labels": self.labels,
            "categories": self.categories,
        }


def _changed() -> FormatError:
    return FormatError("the input changed between the two passes of the filter")


def check_sample(sample: Any) -> int | None:
    return _count(sample, "sample")


def sample_mask(left: int, sample: int, seed: int) -> Any:
    """Which of the `left` scenes step 3 keeps: exactly `sample` of them, drawn by a local
    generator seeded with `seed`. More than are left is an `OptionError`."""
    import numpy as np

    if sample > left:
        raise OptionError(
            f"cannot sample {sample} scenes: {left} {'is' if left == 1 else 'are'} left "
            "after filtering",
            "sample",
        )
    mask = np.zeros(left, dtype=bool)
    mask[np.random.default_rng(seed).choice(left, size=sample, replace=False)] = True
    return mask


def filter_collection(
    collection: SceneCollection,
    categories: str | Sequence[str] | None = None,
    drop_categories: str | Sequence[str] | None = None,
    where: Iterable[str] = (),
    min_annotations: int | None = None,
    min_area: float | None = None,
    with_labels: str | Sequence[str] | None = None,
    sample: int | None = None,
    seed: int = 42,
    report: dict[str, Any] | None = None,
) -> SceneCollection:
    """`mira filter` on a collection in memory: a new collection (see the module for the
    rules); `report`, if given, gets the counts."""
    from mira.core import SceneCollection

    criteria = SceneFilter(
        categories, drop_categories, where, min_annotations, min_area, with_labels
    )
    criteria.check_categories(collection.categories.names)
    mask = None
    if check_sample(sample) is not None:
        counting = FilterStage(criteria)
        for _ in counting(collection, None):
            pass
        mask = sample_mask(counting.left, sample, seed)  # type: ignore[arg-type]
    stage = FilterStage(criteria, mask)
    scenes = list(stage(collection, None))
    if report is not None:
        report.update(stage.report())
    return SceneCollection(scenes, criteria.kept_categories(collection.categories.names))


def __getattr__(name: str) -> Any:
    """`filter_file` lives in `mira.pipeline.jobs`; it is importable from here too."""
    return moved_job(__name__, name)
