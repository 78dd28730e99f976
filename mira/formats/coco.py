"""COCO instances JSON ↔ scenes: `read` (import, streamed) and `Exporter` (export).

Reading (see `mira.formats.coco_stream` for how the file is streamed):

* Categories are COCO's in file order; their ids need not be contiguous. Every annotation
  must name a known ``category_id`` and ``image_id``; anything else is an error naming the
  file and the annotation.
* A polygon segmentation gives one polygon annotation per ring; an RLE one (compressed
  string or uncompressed counts, usually ``iscrowd``) gives one polygon per connected part
  of the mask along pixel edges, holes kept (`mira.formats.qsl_rle.mask_to_polygons`); an
  annotation without a segmentation is its ``bbox`` (``[x, y, w, h]``, floats). ``score``
  (a results file) becomes the annotation's score.
* What an export needs to give the same file back is kept in metadata, under ``coco``:
  the scene's ``image`` entry (all fields but ``width``/``height``, which the scene has),
  its ``license`` entry, the file's ``info``, and the ``categories`` entries (id,
  ``supercategory``, other fields) of the categories the scene uses (and of those no
  annotation of the file uses, so that their ids survive too); each annotation's
  fields but its geometry, ``area`` and ``bbox`` (``id``, ``iscrowd``, anything else), and
  for an RLE its form (``"rle": "compressed"`` or ``"counts"``). ``bbox`` and ``area`` are
  derived from the geometry again on export (``area``: the polygon's exact area, or the
  mask's pixel count for an RLE).
* Image sizes are the file's ``width``/``height`` (not read from the images); file names
  must stay inside the images folder. A missing image is an error, or with
  `skip_missing` a skipped scene, counted.
* Skipped and counted: rings of fewer than 3 points (``short_ring``), masks with no pixel
  (``empty_mask``), annotations with neither segmentation nor box (``no_geometry``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mira.core import Annotation, Categories, Category, ImageSource, Scene
from mira.errors import FormatError, MiraError, ValidationError
from mira.formats.coco_export import Exporter
from mira.formats.image_files import image_file, image_path, relative_name
from mira.formats.import_report import count, count_scene, new_report

__all__ = ["Exporter", "iter_coco", "read"]

SKIP_REASONS = ("missing", "short_ring", "empty_mask", "no_geometry")
#: Annotation fields that are its geometry, or derived from it, or where it belongs.
_GEOMETRY_FIELDS = frozenset(("segmentation", "bbox", "area", "category_id", "image_id", "score"))


@dataclass
class _Context:
    path: str
    images_dir: str
    categories: Categories
    by_id: dict[int, tuple[Category, dict[str, Any]]]
    info: Any
    licenses: dict[Any, Any]
    report: dict[str, Any] = field(default_factory=dict)


def default_images_dir(path: str) -> str:
    """Where the images of ``.../annotations/instances_<part>.json`` are: ``images/<part>/``
    beside ``annotations/`` (what mira exports), else ``<part>/`` there (COCO's own
    ``train2017/``), else the JSON file's folder."""
    folder = os.path.dirname(os.path.abspath(path))
    stem = os.path.splitext(os.path.basename(path))[0]
    part = stem[len("instances_") :] if stem.startswith("instances_") else stem
    if os.path.basename(folder) == "annotations" and part:
        root = os.path.dirname(folder)
        for candidate in (os.path.join(root, "images", part), os.path.join(root, part)):
            if os.path.isdir(candidate):
                return candidate
    return folder


def read(
    source: str | os.PathLike[str],
    *,
    images_dir: str | os.PathLike[str] | None = None,
    skip_missing: bool = False,
    report: dict[str, Any] | None = None,
    results: str | os.PathLike[str] | None = None,
) -> Iterator[Scene]:
    """`mira import coco`: the scenes of a COCO instances file, keyed 000000, ... in the
    order of its images. With `results` (a COCO results file: a list of scored
    annotations), the annotations come from there instead (images and categories stay
    those of `source`). The file is checked and its categories read at once."""
    from mira.formats import coco_stream

    path = os.fspath(source)
    head, first_big = coco_stream.read_head(path)
    categories = head.get("categories")
    if categories is None and first_big is not None:
        categories = coco_stream.read_tail_member(path, "categories")
        if categories is None:
            categories = coco_stream.find_member(path, "categories")
    if images_dir is None:
        images_dir = default_images_dir(path)
    elif not os.path.isdir(images_dir):
        raise ValidationError(f"{os.fspath(images_dir)}: images folder does not exist")
    if results is not None and not os.path.isfile(results):
        raise FormatError(f"{os.fspath(results)}: results file not found")
    ctx = _context(path, os.fspath(images_dir), categories, head)
    report = new_report(report, path, ctx.categories.names, SKIP_REASONS)
    report.update(images_dir=ctx.images_dir, objects=0)
    ctx.report = report
    if results is None:
        annotations = (path, "annotations.item", "annotations")
    else:
        annotations = (os.fspath(results), "item", "results")
    images_first = first_big == "images" and results is None
    return _scenes(ctx, annotations, skip_missing, images_first)


def _context(path: str, images_dir: str, entries: Any, head: dict[str, Any]) -> _Context:
    if not isinstance(entries, list):
        problem = "has no 'categories'" if entries is None else "'categories' must be a list"
        raise FormatError(f"{path}: not a COCO instances file: {problem}")
    by_id: dict[int, tuple[Category, dict[str, Any]]] = {}
    names = []
    for index, entry in enumerate(entries):
        where = f"{path}: categories[{index}]"
        if not isinstance(entry, dict):
            raise FormatError(f"{where}: a category must be an object")
        cid, name = entry.get("id"), entry.get("name")
        if type(cid) is not int:
            raise FormatError(f"{where}: id must be an integer, got {cid!r}")
        if not isinstance(name, str) or not name:
            raise FormatError(f"{where}: name must be a non-empty string, got {name!r}")
        if cid in by_id:
            raise FormatError(f"{where}: id {cid} is given twice")
        names.append(name)
        by_id[cid] = (Category(name), {k: v for k, v in entry.items() if k != "name"})
    try:
        categories = Categories([c for c, _ in by_id.values()])
    except ValidationError as exc:
        raise FormatError(f"{path}: categories: {exc}") from None
    by_id = {cid: (categories[c.name], extra) for cid, (c, extra) in by_id.items()}
    licenses: dict[Any, Any] = {}
    if isinstance(head.get("licenses"), list):
        for entry in head["licenses"]:
            if isinstance(entry, dict) and "id" in entry:
                licenses.setdefault(_hashable(entry["id"]), entry)
    return _Context(path, images_dir, categories, by_id, head.get("info"), licenses)


def _hashable(value: Any) -> Any:
    return value if isinstance(value, (int, str, float, type(None))) else repr(value)


def _scenes(
    ctx: _Context, annotations: tuple[str, str, str], skip_missing: bool, images_first: bool
) -> Iterator[Scene]:
    from mira.formats import coco_stream

    report = ctx.report
    index = coco_stream.AnnotationIndex(*annotations)
    stop_at = index.first_read if images_first else None
    unused = {
        category.name: entry
        for category_id, (category, entry) in ctx.by_id.items()
        if category_id not in index.category_ids
    }
    seen: set[int] = set()
    try:
        images = coco_stream.iter_items(ctx.path, "images.item", stop_at)
        for position, entry in enumerate(images):
            where = f"{ctx.path}: images[{position}]"
            image_id, file_name, size = _image_entry(entry, where, seen)
            found = index.take(image_id)
            path = image_path(ctx.images_dir, file_name, where)
            image = image_file(path, f"{where} ({file_name})", skip_missing, size, trust_size=True)
            if image is None:
                count(report, "skipped", "missing")
                continue
            scene = _scene(ctx, entry, image, found, annotations, unused)
            report["objects"] += len(found)
            yield count_scene(report, scene)
        left = index.first_left_over()
        if left is not None:
            source, _, name = annotations
            raise FormatError(
                f"{source}: {name}[{left[0]}]: image_id {left[1]} is not an image of {ctx.path}"
            )
    finally:
        index.close()


def _image_entry(entry: Any, where: str, seen: set[int]) -> tuple[int, str, tuple[int, int]]:
    if not isinstance(entry, dict):
        raise FormatError(f"{where}: an image must be an object")
    image_id, file_name = entry.get("id"), entry.get("file_name")
    if type(image_id) is not int:
        raise FormatError(f"{where}: id must be an integer, got {image_id!r}")
    if image_id in seen:
        raise FormatError(f"{where}: image id {image_id} is given twice")
    seen.add(image_id)
    if not isinstance(file_name, str) or not file_name:
        raise FormatError(f"{where}: file_name must be a non-empty string, got {file_name!r}")
    relative_name(file_name, where)
    size = entry.get("width"), entry.get("height")
    if any(type(v) is not int or v <= 0 for v in size):
        raise FormatError(f"{where}: width and height must be positive integers, got {size}")
    return image_id, file_name, (size[0], size[1])


def _scene(
    ctx: _Context,
    entry: dict[str, Any],
    image: ImageSource,
    found: list[tuple[int, dict[str, Any]]],
    annotations: tuple[str, str, str],
    unused: dict[str, dict[str, Any]],
) -> Scene:
    """One image's scene. Its ``coco.categories`` are those its annotations use, and those
    that no annotation of the file uses (so that an export can still give their ids)."""
    from mira.formats.coco_geometry import convert

    size = image.dimensions
    source, _, name = annotations
    items: list[Annotation] = []
    used: dict[str, dict[str, Any]] = {}
    by_id, skipped = ctx.by_id, ctx.report["skipped"]
    for index, raw in found:
        category_id = raw.get("category_id")
        known = by_id.get(category_id) if type(category_id) is int else None
        if known is None:
            raise FormatError(
                f"{source}: {name}[{index}]: category_id {category_id!r} is not a category"
            )
        category, category_entry = known
        if category.name not in used:
            used[category.name] = category_entry
        metadata = {k: v for k, v in raw.items() if k not in _GEOMETRY_FIELDS}
        try:
            items += convert(raw, category, metadata, size, skipped)
        except MiraError as exc:
            raise FormatError(f"{source}: {name}[{index}]: {exc}") from None
    coco: dict[str, Any] = {"image": {k: v for k, v in entry.items() if k not in _SIZE}}
    license_id = entry.get("license")
    if license_id is not None and _hashable(license_id) in ctx.licenses:
        coco["license"] = ctx.licenses[_hashable(license_id)]
    if ctx.info is not None:
        coco["info"] = ctx.info
    if used or unused:
        coco["categories"] = {**used, **unused}
    key = f"{ctx.report['scenes']:06d}"
    return Scene(ctx.categories, image, items, metadata={"coco": coco}, key=key)


_SIZE = ("width", "height")


def iter_coco(
    path: str | os.PathLike[str],
    images_dir: str | os.PathLike[str] | None = None,
    skip_missing: bool = False,
    results: str | os.PathLike[str] | None = None,
    report: dict[str, Any] | None = None,
) -> Iterator[Scene]:
    """Scenes of a COCO file, streamed (see `read`)."""
    return read(
        path, images_dir=images_dir, skip_missing=skip_missing, report=report, results=results
    )
