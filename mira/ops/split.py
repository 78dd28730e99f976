"""Exact, stratified, group-safe and reproducible splits.

`split_indices` works on plain lists (no images). The original library drew each
group's part at random, so proportions were right only on average; here parts get
exact quotas (largest-remainder rounding), groups (frames of one video) are placed
whole by a deficit-greedy pass plus a repair pass, and strata are balanced by
iterative stratification (Sechidis et al., 2011), which also covers multi-label
data such as "the categories present in a scene". Randomness is one local
``numpy.random.default_rng(seed)``: the result depends only on the items' order, the
arguments and the seed, never on ``hash()``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Hashable, Iterable, Iterator, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np

from mira.errors import ValidationError
from mira.ops._partition import largest_remainder, partition
from mira.ops.image_index import ImageIndex
from mira.ops.keys import REQUIRED, Key, hashable, parse_key
from mira.ops.split_safety import ImageGroups, check_parts, largest_group
from mira.pipeline import moved_job
from mira.pipeline.stage import Stage

__all__ = [
    "largest_remainder",
    "output_paths",
    "part_names",
    "split_assignments",
    "split_collection",
    "split_indices",
]


def split_indices(
    items: int | Sequence,
    sizes: Sequence[float],
    random_state: int | None = 42,
    stratify: Sequence | None = None,
    group: Sequence[Hashable] | None = None,
    preserve: Sequence[int | None] | None = None,
) -> list[list[int]]:
    """Split ``items`` (a count or a sequence) into ``len(sizes)`` lists of indices.

    - sizes: positive fractions summing to 1; parts get ``largest_remainder(sizes, n)``
      items exactly, or as close as whole groups allow (each part within the largest
      group size of its target).
    - stratify: one hashable per item, or a set/list of labels per item (multi-label).
    - group: one hashable per item; items sharing a value land in the same part.
    - preserve: a part index (negative counts from the end) or None per item; those items
      go to that part first, the others fill the remaining quotas.
    Indices inside each part are in input order. Inputs are never modified.
    """
    part_of = split_assignments(items, sizes, random_state, stratify, group, preserve)
    return [part.tolist() for part in members(part_of, len(sizes))]


def split_assignments(
    items: int | Sequence,
    sizes: Sequence[float],
    random_state: int | None = 42,
    stratify: Sequence | None = None,
    group: Sequence[Hashable] | None = None,
    preserve: Sequence[int | None] | None = None,
) -> np.ndarray:
    """`split_indices` as each item's part index, an int64 array: 8 bytes an item, where
    lists of indices take about 40."""
    n = _count(items)
    weights = check_sizes(sizes)
    group = _check_length("group", group, n)
    stratify = _check_length("stratify", stratify, n)
    preserve = _check_length("preserve", preserve, n)
    rng = _make_rng(random_state)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    return partition(n, weights, rng, stratify, group, preserve)


def members(part_of: np.ndarray, parts: int) -> list[np.ndarray]:
    """The indices in each part, in input order."""
    order = np.argsort(part_of, kind="stable")
    bounds = np.searchsorted(part_of[order], np.arange(parts + 1))
    return [order[bounds[p] : bounds[p + 1]] for p in range(parts)]


def split_collection(collection, sizes, random_state=42, stratify=None, group=None, preserve=None):
    """`SceneCollection.split`: one collection per size; stratify/group may be a KEY string."""
    scenes = list(collection)
    if isinstance(stratify, str):
        key = parse_key(stratify)
        stratify = [_stratum(key, s, REQUIRED, _name(s, i)) for i, s in enumerate(scenes)]
    if isinstance(group, str):
        key = parse_key(group)
        group = [hashable(key.value(s, name=_name(s, i))) for i, s in enumerate(scenes)]
    parts = split_indices(len(scenes), sizes, random_state, stratify, group, preserve)
    return [collection.assign(scenes=[scenes[i] for i in part]) for part in parts]


class SplitTally(Stage):
    """Pass 2 of a file split: counts annotations per part and category as scenes (stored,
    already checked by pass 1) go by to their parts, in order."""

    def __init__(self, part_of: Sequence[int], parts: int) -> None:
        self.part_of = part_of
        self.tallies: list[dict[str, int]] = [{} for _ in range(parts)]
        self.categories: dict[str, None] = {}

    def __call__(self, items: Iterable[Any], engine: Any) -> Iterator[Any]:
        for index, stored in enumerate(items):
            if index < len(self.part_of):
                self.categories.update(dict.fromkeys(stored.category_names()))
                tally = self.tallies[self.part_of[index]]
                for name in stored.annotation_categories():
                    tally[name] = tally.get(name, 0) + 1
            yield stored


def plan_split(
    scenes: Iterable[Any],
    sizes: Sequence[float],
    names: Sequence[str],
    random_state: int = 42,
    stratify: str | None = None,
    group: str | None = None,
    preserve: str | None = None,
    missing: Any = REQUIRED,
    where: str = "input",
    similar: int | None = None,
    allow_empty: bool = False,
) -> tuple[list[np.ndarray], dict[str, Any]]:
    """Pass 1 of a file split: read the KEY values and image identities of every scene and
    decide the parts, keeping duplicate images together (near-duplicates too, within
    `similar` bits; see `mira.ops.split_safety`). Returns the parts (indices) and the values
    collected per role (see `_collect`), with ``images`` and ``sanity``."""
    keys = {
        role: parse_key(text)
        for role, text in (("stratify", stratify), ("group", group), ("preserve", preserve))
        if text is not None
    }
    index = ImageIndex()
    values = _collect(index.watch(scenes), keys, list(names), missing)
    if not values["count"]:
        raise ValidationError(f"{where}: no scenes to split")
    images = ImageGroups(index, similar)
    units = images.joined(values.get("group"))

    def split(group_values: list | None) -> np.ndarray:
        strata, pinned = values.get("stratify"), values.get("preserve")
        count = values["count"]
        return split_assignments(count, sizes, random_state, strata, group_values, pinned)

    parts = members(split(units), len(names))
    images.count_crossing(lambda: split(values.get("group")))
    targets = largest_remainder(check_sizes(sizes), values["count"])
    values["sanity"] = check_parts(parts, targets, names, largest_group(units), allow_empty)
    values["images"] = images.report()
    return parts, values


def part_of(parts: Sequence[Sequence[int]]) -> list[int]:
    """The part index of every item (a list of small ints: 8 bytes an item, and quick to
    index one at a time)."""
    result = np.zeros(sum(len(part) for part in parts), dtype=np.int64)
    for index, part in enumerate(parts):
        result[np.asarray(part, dtype=np.int64)] = index
    return result.tolist()


def split_report(
    options: dict[str, Any],
    names: list[str],
    outputs: list[str],
    parts: Sequence[Sequence[int]],
    values: dict[str, Any],
    tally: SplitTally,
) -> dict[str, Any]:
    """The JSON-ready report of a file split: inputs, options, totals, and per part its path,
    target, actual scenes and their difference (``deviation``), preserved scenes,
    annotations, and per category the annotation count and its share (percent) of that
    category's total; ``groups`` checks that no group value occurs in two parts (``ok`` only
    when none does and ``sanity`` is ok too); ``images`` counts duplicate groups and the
    pairs kept together; ``sanity`` names empty and off-target parts."""
    weights, tallies, categories = options["sizes"], tally.tallies, list(tally.categories)
    report = {
        **options,
        "scenes": values["count"],
        "annotations": sum(sum(t.values()) for t in tallies),
        "categories": categories,
        "parts": [],
        "groups": _group_check(options["group"], values.get("group"), tally.part_of),
        "images": values["images"],
        "sanity": values["sanity"],
    }
    if report["groups"] is not None:
        report["groups"]["ok"] = not report["groups"]["crossing"] and values["sanity"]["ok"]
    targets = largest_remainder(weights, values["count"])
    preserved = values.get("preserve") or []
    for index, (name, path) in enumerate(zip(names, outputs, strict=True)):
        part_tally = tallies[index]
        report["parts"].append(
            {
                "name": name,
                "path": path,
                "size": weights[index],
                "target": targets[index],
                "scenes": len(parts[index]),
                "deviation": len(parts[index]) - targets[index],
                "preserved": sum(1 for p in preserved if p == index),
                "annotations": sum(part_tally.values()),
                "categories": {
                    c: {"annotations": part_tally.get(c, 0), "percent": _percent(c, index, tallies)}
                    for c in categories
                },
            }
        )
    return report


def check_preserve_key(preserve: str | None) -> None:
    """`preserve` takes part names from metadata, so it must be a metadata.PATH key."""
    if preserve is not None and parse_key(preserve).kind != "metadata":
        raise ValidationError(f"preserve needs a metadata.PATH key, got {preserve!r}")


def part_names(names: Sequence[str] | None, count: int) -> list[str]:
    """The given names, checked, or the defaults: train/test, train/val/test, else part0..."""
    if names is None or len(names) == 0:
        defaults = {2: ["train", "test"], 3: ["train", "val", "test"]}
        return defaults.get(count, [f"part{i}" for i in range(count)])
    names = list(names)
    if len(names) != count:
        raise ValidationError(f"{len(names)} names given for {count} sizes")
    for name in names:
        if not name or name in (".", "..") or "/" in name or os.sep in name:
            raise ValidationError(f"part name {name!r} cannot be used in a file name")
    if len(set(names)) != len(names):
        raise ValidationError(f"part names must be unique, got {' '.join(names)}")
    return names


def output_paths(paths: list[str], names: list[str], out_dir: str | None) -> list[str]:
    """``{stem}-{name}.tar``: the stem of a single input, shards' common stem, or "split"."""
    if paths == ["-"]:
        stem, folder = "split", "."
    else:
        stem = file_stem(os.path.basename(paths[0]))
        if len(paths) > 1:
            stem = re.sub(r"-\d+$", "", stem)
        folder = os.path.dirname(paths[0])
    folder = folder if out_dir is None else out_dir
    return [os.path.join(folder, f"{stem}-{name}.tar") for name in names]


def file_stem(filename: str) -> str:
    for suffix in (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tar"):
        if filename.endswith(suffix) and len(filename) > len(suffix):
            return filename[: -len(suffix)]
    return os.path.splitext(filename)[0] or filename


def _collect(scenes: Iterable[Any], keys: dict[str, Key], names: list[str], missing: Any):
    """Pass 1: the number of scenes and, per role, one value per scene."""
    values: dict[str, Any] = {role: [] for role in keys}
    count = 0
    for count, scene in enumerate(scenes, start=1):
        name = _name(scene, count - 1)
        if "stratify" in keys:
            values["stratify"].append(_stratum(keys["stratify"], scene, missing, name))
        if "group" in keys:
            values["group"].append(hashable(keys["group"].value(scene, missing, name)))
        if "preserve" in keys:
            value = keys["preserve"].value(scene, None, name)
            if value is not None and value not in names:
                raise ValidationError(
                    f"scene {name}: {keys['preserve'].text} is {value!r}, which is not a "
                    f"part name ({', '.join(names)})"
                )
            values["preserve"].append(None if value is None else names.index(value))
    values["count"] = count
    return values


def _group_check(key: str | None, groups: list | None, part_of: list[int]) -> dict | None:
    """An independent check that no group value occurs in two parts."""
    if key is None or groups is None:
        return None
    seen: dict[Hashable, set[int]] = {}
    for value, part in zip(groups, part_of, strict=True):
        seen.setdefault(value, set()).add(part)
    crossing = sum(1 for parts in seen.values() if len(parts) > 1)
    return {"key": key, "count": len(seen), "crossing": crossing}


def _percent(category: str, index: int, tallies: list[dict[str, int]]) -> float:
    total = sum(t.get(category, 0) for t in tallies)
    return round(100 * tallies[index].get(category, 0) / total, 2) if total else 0.0


def _stratum(key: Key, scene: Any, missing: Any, name: str) -> Hashable:
    """A scene's stratum: a frozenset of labels for ``categories`` or a list value."""
    value = key.value(scene, missing=missing, name=name)
    if not key.is_multi and isinstance(value, list):
        return frozenset(hashable(v) for v in value)
    return hashable(value)


def _name(scene: Any, index: int) -> str:
    return scene.key if getattr(scene, "key", None) is not None else f"#{index}"


def _count(items: int | Sequence) -> int:
    if isinstance(items, Integral) and not isinstance(items, bool):
        if items < 0:
            raise ValidationError(f"the number of items must not be negative, got {items}")
        return int(items)
    try:
        return len(items)  # type: ignore[arg-type]
    except TypeError:
        raise ValidationError(
            f"items must be a count or a sequence, got {type(items).__name__}"
        ) from None


def check_sizes(sizes: Sequence[float]) -> list[float]:
    """Sizes as floats, or a ValidationError saying what is wrong with them."""
    try:
        values = list(sizes)
    except TypeError:
        raise ValidationError(f"sizes must be a list of numbers, got {sizes!r}") from None
    if not values:
        raise ValidationError("sizes must not be empty")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, Real):
            raise ValidationError(f"sizes must be numbers, got {value!r}")
        if not (math.isfinite(value) and value > 0):
            raise ValidationError(f"sizes must be positive, got {_fmt(value)}")
    total = math.fsum(float(v) for v in values)
    if abs(total - 1) > 1e-6:
        raise ValidationError(
            f"sizes must sum to 1, got {_fmt(total)} ({' + '.join(_fmt(v) for v in values)})"
        )
    return [float(v) for v in values]


def _fmt(value: float) -> str:
    return f"{float(value):.10g}"


def _check_length(name: str, values: Sequence | None, n: int) -> list | None:
    if values is None:
        return None
    values = list(values)
    if len(values) != n:
        raise ValidationError(f"{name} has {len(values)} values but there are {n} items")
    return values


def _make_rng(random_state: Any) -> np.random.Generator:
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is not None and (
        isinstance(random_state, bool) or not isinstance(random_state, Integral) or random_state < 0
    ):
        raise ValidationError(f"random_state must be a non-negative integer, got {random_state!r}")
    return np.random.default_rng(random_state)


def __getattr__(name: str) -> Any:
    """`split_file` moved to `mira.pipeline.jobs`; it stays importable from here."""
    return moved_job(__name__, name)
