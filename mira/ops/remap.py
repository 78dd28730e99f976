"""Renaming, merging and dropping categories (`mira remap`), without decoding an image.

A map says what each input category becomes: a name (itself to keep it, another to rename
it, one name for several to merge them) or null (its annotations and labels are dropped).
The output's categories are the map's names, in the order they first appear in the map. A
category the map does not name is, by `unmapped`:

- "keep": kept under its own name (after the map's names, in the input's order, unless
  the map already has that name, when it merges into it);
- "drop": dropped, as if mapped to null;
- "error": an `OptionError` naming it.

With "drop", a map that names each kept category as itself does what
`SceneCollection.assign(categories=[...])` does. Map files are YAML (JSON is YAML too), a
mapping loaded safely, e.g.::

    car: vehicle
    truck: vehicle
    person: person
    dog: null

Every name the map has on its left must be one of the input's categories (those of its
first scene): anything else is an `OptionError`. A scene the map leaves as it is passes on
as it came (a stored scene is copied as stored).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mira.errors import OptionError, ValidationError
from mira.pipeline import moved_job
from mira.pipeline.stage import Stage, as_scene

if TYPE_CHECKING:
    from mira.core import Scene, SceneCollection

UNMAPPED = ("keep", "drop", "error")


def check_map(mapping: Any, where: str = "the map") -> dict[str, str | None]:
    """A mapping of category names to a name or None, as a plain dict in its order."""
    if not isinstance(mapping, Mapping):
        kind = "nothing" if mapping is None else f"a {type(mapping).__name__}"
        raise ValidationError(
            f"{where} must be a mapping of category names to a name or null, got {kind}"
        )
    if not mapping:
        raise ValidationError(f"{where} is empty: map at least one category")
    for old, new in mapping.items():
        if not isinstance(old, str) or not old:
            raise ValidationError(f"{where}: {old!r} is not a category name (quote it)")
        if new is not None and (not isinstance(new, str) or not new):
            raise ValidationError(
                f"{where}: {old!r} maps to {new!r}; give a category name (quoted) or null"
            )
    return dict(mapping)


def load_map(path: str | os.PathLike[str]) -> dict[str, str | None]:
    """A map file (YAML or JSON, loaded safely), checked."""
    import yaml

    where = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError:
        raise ValidationError(f"{where}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{where}: cannot read it ({exc})") from None
    except yaml.YAMLError as exc:
        reason = " ".join(str(exc).split())
        raise ValidationError(f"{where}: not valid YAML ({reason})") from None
    return check_map(data, where)


def check_unmapped(unmapped: str) -> str:
    if unmapped not in UNMAPPED:
        raise ValidationError(f"unmapped must be one of {', '.join(UNMAPPED)}; got {unmapped!r}")
    return unmapped


class Remapping:
    """A checked map and what to do with unmapped categories; `apply` remaps a scene."""

    def __init__(self, mapping: Mapping[str, str | None], unmapped: str = "keep") -> None:
        self.mapping = check_map(mapping)
        self.unmapped = check_unmapped(unmapped)
        self._plans: dict[tuple[str, ...], Plan] = {}
        self._checked = False

    def check_categories(self, names: Sequence[str]) -> None:
        """Every name on the map's left must be one of `names` (the input's categories)."""
        unknown = [name for name in self.mapping if name not in names]
        if unknown:
            raise OptionError(
                f"the map names {', '.join(map(repr, unknown))}, not in the input's "
                f"categories {list(names)}",
                "map",
            )

    def targets(self, names: Sequence[str]) -> dict[str, str | None]:
        """What each of `names` becomes."""
        unmapped = [name for name in names if name not in self.mapping]
        if unmapped and self.unmapped == "error":
            many = len(unmapped) > 1
            raise OptionError(
                f"{'categories' if many else 'category'} {', '.join(map(repr, unmapped))} "
                f"of the input {'are' if many else 'is'} not in the map; map "
                f"{'them' if many else 'it'}, or keep or drop unmapped categories",
                "map",
            )
        keep = self.unmapped == "keep"
        return {name: self.mapping.get(name, name if keep else None) for name in names}

    def categories(self, names: Sequence[str]) -> list[str]:
        """The output's categories for a scene whose categories are `names`."""
        targets = self.targets(names)
        mapped = [new for new in self.mapping.values() if new is not None]
        kept = [targets[name] for name in names if name not in self.mapping]
        return list(dict.fromkeys([*mapped, *(name for name in kept if name is not None)]))

    def plan(self, names: Sequence[str]) -> Plan:
        """What the map does to scenes whose categories are `names` (checking the map
        against the first categories asked about)."""
        key = tuple(names)
        if key not in self._plans:
            from mira.core import Categories

            if not self._checked:
                self.check_categories(names)
                self._checked = True
            categories = Categories(self.categories(names))
            convert = {
                old: None if new is None else categories[new]
                for old, new in self.targets(names).items()
            }
            self._plans[key] = Plan(categories, convert, names)
        return self._plans[key]

    def apply(self, scene: Scene) -> Scene:
        """The scene with its annotations and labels remapped (the same object when the
        map leaves it as it is)."""
        return self.plan(scene.categories.names).scene(scene)


class Plan:
    """The map applied to one list of categories: the new `categories` and, per old name,
    the new `Category` or None (dropped)."""

    def __init__(self, categories: Any, convert: dict[str, Any], names: Sequence[str]) -> None:
        self.categories = categories
        self.convert = convert
        self.unchanged = categories.names == list(names) and all(
            new is not None and new.name == old for old, new in convert.items()
        )

    def scene(self, scene: Scene) -> Scene:
        if self.unchanged:
            return scene
        annotations = _moved(scene.annotations, self.convert)
        labels = _moved(scene.labels, self.convert)
        # categories first (nothing to convert), then the items already bound to them
        bare = scene.assign(categories=self.categories, annotations=[], labels=[])
        return bare.assign(annotations=annotations, labels=labels)

    def record(self, record: dict[str, Any]) -> dict[str, Any]:
        """The same for the scene's (checked) native record."""

        def moved(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            out = []
            for item in items:
                new = self.convert[item["category"]]
                if new is not None:
                    out.append(
                        item if new.name == item["category"] else {**item, "category": new.name}
                    )
            return out

        return {
            **record,
            "categories": self.categories.names,
            "annotations": moved(record["annotations"]),
            "labels": moved(record["labels"]),
        }


def _moved(items: Sequence[Any], convert: Mapping[str, Any]) -> list[Any]:
    """Annotations or labels under their new categories; those whose name stays are kept
    as they are (categories compare by name), those mapped to None are left out."""
    out = []
    for item in items:
        new = convert[item.category.name]
        if new is not None:
            out.append(item if new.name == item.category.name else item.assign(category=new))
    return out


class RemapStage(Stage):
    """The map over a stream, counting per category as scenes go by. A scene it changes is
    a native stored scene with its record edited when it came as one, else a new `Scene`."""

    def __init__(self, remapping: Remapping) -> None:
        self.remapping = remapping
        self.scenes = {"in": 0, "copied": 0, "rewritten": 0}
        self.inputs: dict[str, dict[str, Any]] = {}
        self.outputs: dict[str, dict[str, int]] = {}

    def __call__(self, items: Iterable[Any], engine: Any) -> Iterator[Any]:
        for item in items:
            scene = as_scene(item)  # checks the record
            plan = self.remapping.plan(scene.categories.names)
            self._count(scene, plan)
            record = getattr(item, "record", None)
            if plan.unchanged:
                yield item
            elif record is not None:
                yield item.with_record(plan.record(record))
            else:
                yield plan.scene(scene)

    def _count(self, scene: Scene, plan: Plan) -> None:
        self.scenes["in"] += 1
        self.scenes["copied" if plan.unchanged else "rewritten"] += 1
        for old, new in plan.convert.items():
            if old not in self.inputs:
                self.inputs[old] = {"to": new and new.name, "annotations": 0, "labels": 0}
        for name in plan.categories.names:
            self.outputs.setdefault(name, {"annotations": 0, "labels": 0})
        for kind in ("annotations", "labels"):
            for item in getattr(scene, kind):
                self.inputs[item.category.name][kind] += 1
                new = plan.convert[item.category.name]
                if new is not None:
                    self.outputs[new.name][kind] += 1

    def report(self) -> dict[str, Any]:
        totals = {
            kind: {
                "in": sum(c[kind] for c in self.inputs.values()),
                "out": sum(c[kind] for c in self.outputs.values()),
            }
            for kind in ("annotations", "labels")
        }
        for counts in totals.values():
            counts["dropped"] = counts["in"] - counts["out"]
        return {
            "unmapped": self.remapping.unmapped,
            "scenes": self.scenes,
            **totals,
            "from": self.inputs,
            "categories": self.outputs,
        }


def remap_scene(scene: Scene, mapping: Mapping[str, str | None], unmapped: str = "keep") -> Scene:
    """One scene remapped (see the module for the rules)."""
    return Remapping(mapping, unmapped).apply(scene)


def remap_collection(
    collection: SceneCollection, mapping: Mapping[str, str | None], unmapped: str = "keep"
) -> SceneCollection:
    """`mira remap` on a collection in memory: a new collection whose categories are what
    the map says (see the module for the rules)."""
    from mira.core import SceneCollection

    remapping = Remapping(mapping, unmapped)
    names = collection.categories.names
    remapping.check_categories(names)
    scenes = [remapping.apply(scene) for scene in collection]
    return SceneCollection(scenes, remapping.categories(names))


def __getattr__(name: str) -> Any:
    """`remap_file` lives in `mira.pipeline.jobs`; it is importable from here too."""
    return moved_job(__name__, name)
