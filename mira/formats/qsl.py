"""QSL labelling projects → scenes, streamed, with image bytes kept exactly as on disk.

Semantics (compared with the original library's `from_qsl`):

* `label_key` names the region configuration whose options are the categories; it may be
  left out when the project has exactly one. Categories are that configuration's options in
  config order, followed by the options of the image-level configurations that are not
  already there (compared case-insensitively), so image-level labels become `Label`s of
  the same scene. A free-form image-level value that is not an option is kept as text in
  the scene's ``metadata["labels"][config_name]`` (QSL reserves that key, so it never
  clashes with item metadata).
* Boxes keep float coordinates (fractions × image size, never rounded); the two corners are
  ordered so x1 ≤ x2 and y1 ≤ y2; a box without ``pt2`` is an error naming it. Polygons
  are the points × image size. Masks become one polygon per connected part along pixel
  edges, holes kept (see `mira.formats.qsl_rle`). Annotations come in the original's order:
  boxes, then masks, then polygons; a region with several label values gives one
  annotation per value. Region metadata is copied; other region label keys are kept in the
  annotation's ``metadata["labels"]``. Regions without a value for `label_key` are skipped
  and counted; a value that is not an option is an error naming the item and value.
* Item metadata is kept, plus ``metadata["target"]``, the item's target as written in the
  project (QSL reserves that key too), so every scene can be traced back to its file.
  Item and region metadata must be JSON a tarball can hold (no NaN or infinity, which
  Python's parser accepts): otherwise an error naming the item.
* Items that are not images, are ignored, or have no labels are skipped and counted by
  reason; a missing image file is an error unless `skip_missing` (then counted).
* The image size comes from the file header (`mira.core.image_header`), falling back to
  decoding; relative targets are resolved against `base_dir`, by default the project
  file's folder (the original used the working directory).
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from mira.core import Categories, Category, ImageSource, Scene
from mira.errors import FormatError, ValidationError
from mira.formats.image_files import image_file
from mira.formats.json_stream import JsonStream, JsonStreamError
from mira.formats.qsl_regions import item_annotations, item_labels, json_metadata, label_values

__all__ = ["iter_qsl", "load_qsl", "scene_from_qsl"]

SKIP_REASONS = ("ignored", "unlabelled", "non_image", "missing")
_REMOTE = ("http://", "https://", "s3://", "gs://", "ftp://")


@dataclass
class _Context:
    """What converting one item needs: the categories and where to report problems."""

    label_key: str
    categories: Categories
    base_dir: str | None
    image_configs: dict[str, tuple[list[str], bool]] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    #: Names region labels may take (the label key's options); None: any category.
    region_names: list[str] | None = None

    def __post_init__(self) -> None:
        region = self.categories.names if self.region_names is None else self.region_names
        self._lookups: tuple[dict[str, Category], dict[str, Category]] = ({}, {})
        for lookup, names in zip(self._lookups, (self.categories.names, region), strict=True):
            for name in names:  # exact names first, then case-insensitive ones
                lookup.setdefault(name, self.categories[name])
            for name in names:
                lookup.setdefault(name.casefold(), self.categories[name])

    def category(self, value: Any, region: bool = False) -> Category | None:
        """The category named `value` (exactly, else case-insensitively), or None; with
        `region`, only among the options of the label key's configuration."""
        if not isinstance(value, str):
            return None
        lookup = self._lookups[region]
        return lookup.get(value) or lookup.get(value.casefold())


def _open_project(path: str) -> IO[str]:
    try:  # newline="": positions in error messages count every character of the file
        return open(path, encoding="utf-8-sig", newline="")  # tolerate a byte-order mark
    except FileNotFoundError:
        raise FormatError(f"{path}: project file not found") from None
    except IsADirectoryError:
        raise FormatError(f"{path}: is a directory, not a QSL project file") from None
    except OSError as exc:
        raise FormatError(f"{path}: cannot read project file: {exc.strerror}") from None


@contextmanager
def _reading(path: str) -> Iterator[JsonStream]:
    """The project file as a JSON stream; reading problems become errors naming the file."""
    handle = _open_project(path)
    try:
        with handle:
            yield JsonStream(handle)
    except UnicodeDecodeError:
        raise FormatError(f"{path}: not a QSL project: the file is not UTF-8 text") from None
    except JsonStreamError as exc:
        raise FormatError(
            f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise FormatError(f"{path}: invalid JSON: nested too deeply") from None
    except OSError as exc:
        raise FormatError(f"{path}: cannot read project file: {exc.strerror}") from None


def _keys(stream: JsonStream, path: str) -> Iterator[str]:
    """The keys of the project's members; "items" and "config" may appear only once."""
    seen: set[str] = set()
    while (key := stream.next_key()) is not None:
        if key in ("items", "config"):
            if key in seen:
                raise FormatError(f"{path}: not a QSL project: {key!r} appears twice")
            seen.add(key)
        yield key


def _read_config(path: str) -> dict[str, Any]:
    """The project's config, checked. Reading stops at the items when the config came
    before them; otherwise the items are read past (one at a time) to find it."""
    config: Any = None
    items = False
    with _reading(path) as stream:
        if not stream.start_object():
            stream.whole()  # bad JSON is reported as such
            raise FormatError(f"{path}: not a QSL project: the top level must be an object")
        for key in _keys(stream, path):
            if key == "config":
                config = stream.value()
            elif key != "items":
                stream.skip()
            elif stream.peek() != "[":
                stream.value()  # bad JSON is reported as such
                raise FormatError(f"{path}: not a QSL project: 'items' must be a list")
            else:
                items = True
                if config is not None:
                    break  # `_items` streams them
                stream.skip()
        else:
            stream.end()
    if not items:
        raise FormatError(f"{path}: not a QSL project: 'items' must be a list")
    if not isinstance(config, dict):
        raise FormatError(f"{path}: not a QSL project: 'config' must be an object")
    for kind in ("regions", "image"):
        configs = config.get(kind) or []
        if not isinstance(configs, list) or not all(
            isinstance(c, dict) and isinstance(c.get("name"), str) for c in configs
        ):
            raise FormatError(f"{path}: config.{kind} must be a list of objects with a name")
    return config


def _items(path: str) -> Iterator[Any]:
    """The project's items, one at a time, parsed as they are reached; the rest of the
    file is checked to be valid JSON once they are done."""
    with _reading(path) as stream:
        stream.start_object()
        for key in _keys(stream, path):
            if key == "items":
                yield from stream.elements()
            else:
                stream.skip()
        stream.end()


def _option_names(config: Mapping[str, Any], where: str) -> list[str]:
    options = config.get("options") or []
    if not isinstance(options, list):
        raise FormatError(f"{where}: options must be a list")
    names = []
    for option in options:
        name = option.get("name") if isinstance(option, dict) else None
        if not isinstance(name, str) or not name:
            raise FormatError(f"{where}: every option needs a non-empty name")
        names.append(name)
    return names


def _choose_label_key(regions: list[dict[str, Any]], label_key: str | None, path: str) -> str:
    names = [c["name"] for c in regions]
    if not names:
        raise ValidationError(f"{path}: the project has no region configuration (config.regions)")
    if label_key is None:
        if len(names) == 1:
            return names[0]
        raise ValidationError(
            f"{path}: the project has {len(names)} region configurations; choose one with "
            f"label_key (--label-key): {', '.join(names)}"
        )
    if label_key not in names:
        raise ValidationError(
            f"{path}: no region configuration named {label_key!r}; choose one of: "
            f"{', '.join(names)}"
        )
    return label_key


def _context(config: dict[str, Any], path: str, label_key: str | None, base_dir: Any) -> _Context:
    regions = config.get("regions") or []
    key = _choose_label_key(regions, label_key, path)
    region = next(c for c in regions if c["name"] == key)
    names = _option_names(region, f"{path}: region configuration {key!r}")
    if not names:
        raise ValidationError(
            f"{path}: region configuration {key!r} has no options to use as categories"
        )
    try:
        Categories(names)  # unique names (case-insensitively)
    except ValidationError as exc:
        raise FormatError(f"{path}: region configuration {key!r}: {exc}") from None
    image_configs: dict[str, tuple[list[str], bool]] = {}
    extra: list[str] = []
    folded = {n.casefold() for n in names}
    for image_config in config.get("image") or []:
        name = image_config["name"]
        options = _option_names(image_config, f"{path}: image configuration {name!r}")
        image_configs[name] = (options, bool(image_config.get("freeform")))
        for option in options:
            if option.casefold() not in folded:
                folded.add(option.casefold())
                extra.append(option)
    if base_dir is None:
        base_dir = os.path.dirname(os.path.abspath(path))
    elif not os.path.isdir(base_dir):
        raise ValidationError(f"{os.fspath(base_dir)}: base directory does not exist")
    categories = Categories(names + extra)
    return _Context(key, categories, os.fspath(base_dir), image_configs, region_names=names)


def _new_report(path: str, ctx: _Context) -> dict[str, Any]:
    return {
        "project": path,
        "label_key": ctx.label_key,
        "items": 0,
        "scenes": 0,
        "annotations": 0,
        "labels": 0,
        "categories": {name: {"annotations": 0, "labels": 0} for name in ctx.categories.names},
        "skipped": dict.fromkeys(SKIP_REASONS, 0),
        "regions_without_label": 0,
        "empty_masks": 0,
    }


def iter_qsl(
    project_path: str | os.PathLike[str],
    label_key: str | None = None,
    base_dir: str | os.PathLike[str] | None = None,
    skip_missing: bool = False,
    report: dict[str, Any] | None = None,
) -> Iterator[Scene]:
    """Scenes of a QSL project, one at a time, keyed 000000, 000001, ... in output order.

    The config is read and checked at once (unknown label key, ...). Items are read from
    the file one at a time as the iterator is consumed (bad JSON among them is raised then),
    so memory does not grow with the project; `report` (counts per category, skipped items
    per reason) fills as they go. A config written after the items costs one extra read of
    the file.
    """
    path = os.fspath(project_path)
    ctx = _context(_read_config(path), path, label_key, base_dir)
    if report is None:
        report = {}
    report.update(_new_report(path, ctx))
    ctx.report = report
    return _scenes(_items(path), path, ctx, skip_missing)


def read(
    source: str | os.PathLike[str],
    *,
    images_dir: str | os.PathLike[str] | None = None,
    skip_missing: bool = False,
    report: dict[str, Any] | None = None,
    label_key: str | None = None,
) -> Iterator[Scene]:
    """`mira import qsl`: `iter_qsl`, with the image folder as `images_dir` (see
    `mira.formats.interchange`)."""
    return iter_qsl(source, label_key, images_dir, skip_missing, report)


def _scenes(items: Iterable[Any], path: str, ctx: _Context, skip_missing: bool) -> Iterator[Scene]:
    report = ctx.report
    for index, item in enumerate(items):
        report["items"] += 1
        where = f"{path}: items[{index}]"
        if not isinstance(item, dict):
            raise FormatError(f"{where}: an item must be an object")
        reason = _skip_reason(item)
        if reason:
            report["skipped"][reason] += 1
            continue
        key = f"{report['scenes']:06d}"
        scene = _convert(item, ctx, f"{where} ({item.get('target')})", skip_missing, key)
        if scene is None:
            report["skipped"]["missing"] += 1
            continue
        report["scenes"] += 1
        for annotation in scene.annotations:
            report["categories"][annotation.category.name]["annotations"] += 1
        for label in scene.labels:
            report["categories"][label.category.name]["labels"] += 1
        report["annotations"] += len(scene.annotations)
        report["labels"] += len(scene.labels)
        yield scene


def _skip_reason(item: Mapping[str, Any]) -> str | None:
    if item.get("type", "image") != "image":
        return "non_image"
    if item.get("ignore"):
        return "ignored"
    if item.get("labels") is None:  # absent (never labelled) or null
        return "unlabelled"
    return None


def load_qsl(
    project_path: str | os.PathLike[str],
    label_key: str | None = None,
    base_dir: str | os.PathLike[str] | None = None,
    skip_missing: bool = False,
) -> tuple[Any, dict[str, Any]]:
    """(SceneCollection, report) for a QSL project; see `iter_qsl`."""
    from mira.core import SceneCollection

    report: dict[str, Any] = {}
    scenes = list(iter_qsl(project_path, label_key, base_dir, skip_missing, report))
    categories = Categories(list(report["categories"]))  # in category order
    return SceneCollection(scenes, categories=categories), report


def scene_from_qsl(
    item: Mapping[str, Any],
    label_key: str,
    categories: Categories | list[str] | None = None,
    base_dir: str | os.PathLike[str] | None = None,
) -> Scene:
    """One labelled image item → a Scene (`Scene.from_qsl`). Without categories they are
    the sorted values of `label_key` and of the image-level labels found in the item."""
    if categories is None or len(categories) == 0:
        labels = item.get("labels") if isinstance(item.get("labels"), dict) else {}
        values = [v for r in _regions(labels) for v in label_values(r.get("labels"), label_key)]
        image = labels.get("image") if isinstance(labels.get("image"), dict) else {}
        found = [v for key in image for v in label_values(image, key)]
        names: dict[str, str] = {}
        for group in (values, found):
            for value in sorted(v for v in set(group) if isinstance(v, str)):
                names.setdefault(value.casefold(), value)
        categories = Categories(list(names.values()))
    ctx = _Context(
        label_key,
        Categories.from_categories(categories),
        None if base_dir is None else os.fspath(base_dir),
    )
    ctx.report = {"regions_without_label": 0, "empty_masks": 0}
    scene = _convert(item, ctx, f"item ({item.get('target')})", skip_missing=False)
    assert scene is not None
    return scene


def _regions(labels: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(labels, dict):
        for kind in ("boxes", "masks", "polygons"):
            for region in labels.get(kind) or []:
                if isinstance(region, dict):
                    yield region


def _convert(
    item: Mapping[str, Any], ctx: _Context, where: str, skip_missing: bool, key: str | None = None
) -> Any:
    source = _image_source(item.get("target"), ctx.base_dir, where, skip_missing)
    if source is None:
        return None
    labels = item.get("labels")
    if labels is None:
        labels = {}
    if not isinstance(labels, dict):
        raise FormatError(f"{where}: labels must be an object for an image item")
    metadata = item.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise FormatError(f"{where}: metadata must be an object")
    metadata = {**metadata, "target": item["target"]}
    scene_labels, freeform = item_labels(labels.get("image"), ctx, where)
    if freeform:
        metadata["labels"] = freeform
    json_metadata(metadata, where)
    width, height = source.dimensions
    annotations = item_annotations(labels, ctx, (width, height), where)
    return Scene(
        ctx.categories, source, annotations, metadata=metadata, labels=scene_labels, key=key
    )


def _image_source(target: Any, base_dir: str | None, where: str, skip_missing: bool) -> Any:
    """The item's image, unread; its size from the header (decoding only as a fallback)."""
    from mira.core.image_header import read_dimensions

    if not isinstance(target, str) or not target or "\0" in target:
        raise FormatError(f"{where}: target must be a non-empty string without NUL characters")
    if target.startswith("data:"):
        data = _data_uri(target, where)
        return ImageSource.from_bytes(data, name=where, dimensions=read_dimensions(data))
    if target.lower().startswith(_REMOTE):
        raise FormatError(f"{where}: remote targets cannot be imported; download the images")
    path = target if base_dir is None or os.path.isabs(target) else os.path.join(base_dir, target)
    return image_file(path, where, skip_missing)


def _data_uri(target: str, where: str) -> bytes:
    header, _, payload = target.partition(",")
    if not header.endswith(";base64"):
        raise FormatError(f"{where}: only base64 data: URIs are supported")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise FormatError(f"{where}: the data: URI is not valid base64") from None


def __getattr__(name: str) -> Any:
    """`import_qsl` moved to `mira.pipeline.jobs`; it stays importable from here."""
    from mira.pipeline import moved_job

    return moved_job(__name__, name)
