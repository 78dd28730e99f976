"""CVAT for images 1.1 XML: read as a stream (`iter_cvat`) and written (`Exporter`).

Reading. SOURCE is the ``annotations.xml`` of a CVAT export (or the folder holding it);
images are ``images/<name>`` beside it (``images/<subset>/<name>`` in a project export),
unless `images_dir` says where. The file is read one ``<image>`` at a time, so memory
holds one image's annotations whatever the task's size. Categories are the labels of
``<meta>`` (its task, job or project), in their order; a skeleton's point labels (which
have a ``<parent>``) are not categories.

In each image: a ``box`` is a box (a rotated box, turned about its centre, becomes a
polygon); a ``polygon`` is a polygon; a ``mask`` becomes one polygon per connected part,
along pixel edges (CVAT's RLE, `mira.formats.cvat_rle`; an empty mask is skipped and
counted); a ``tag`` is an image-level label. ``polyline``, ``points``, ``ellipse``,
``cuboid`` and ``skeleton`` cannot be represented: they are skipped and counted under
``unsupported`` by element name. ``occluded`` and ``z_order`` (integers), ``source``,
``group_id`` and the ``<attribute>`` values (text, under ``attributes``) go into the
annotation's (or label's) metadata; the image's name into ``metadata["cvat"]["name"]``.
An image file of another size than its ``<image>`` element states is an error, and so is
a ``<track>``: tracks are CVAT for video (export the task as CVAT for images 1.1).

Writing. ``annotations.xml`` and ``images/<part>/<name>``, CVAT's project layout: each
``<image>`` has ``subset`` = its part (names as recorded when free, else keys; see
`mira.formats.export_names`). Boxes, polygons and labels (as tags) come with the metadata
the reader keeps; other scalar metadata becomes ``<attribute>`` elements, declared in
``<meta>`` as text attributes of their label. Scores, mask regions and metadata that is
not a scalar are not written (counted). Coordinates read back as the same floats.
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Iterator
from itertools import chain
from typing import Any
from xml.etree.ElementTree import Element, SubElement

from mira.core import Annotation, Categories, Label, Scene
from mira.errors import FormatError
from mira.formats.export_names import ExportNames, recorded_name
from mira.formats.image_files import image_file, image_path, relative_name
from mira.formats.import_report import category_index, count, count_scene, new_report
from mira.formats.layout import DatasetFolder
from mira.formats.xml_stream import iter_items, line_of
from mira.formats.xml_write import is_scalar, number_text, scalar_text, serialise

__all__ = ["Exporter", "iter_cvat", "read"]

UNSUPPORTED = ("polyline", "points", "ellipse", "cuboid", "skeleton")
#: Shape attributes kept in metadata, with how their text is read.
_BUILT_IN = {"occluded": int, "z_order": int, "source": str, "group_id": int}
_BODY = ".images.xml.part"


def read(
    source: str | os.PathLike[str],
    *,
    images_dir: str | os.PathLike[str] | None = None,
    skip_missing: bool = False,
    report: dict[str, Any] | None = None,
) -> Iterator[Scene]:
    """`mira import cvat` (see `mira.formats.interchange`): `iter_cvat`."""
    return iter_cvat(source, images_dir, skip_missing, report)


def iter_cvat(
    source: str | os.PathLike[str],
    images_dir: str | os.PathLike[str] | None = None,
    skip_missing: bool = False,
    report: dict[str, Any] | None = None,
) -> Iterator[Scene]:
    """Scenes of a CVAT for images 1.1 file, keyed 000000, ... in file order.

    The file's head (version and ``<meta>``) is read and checked at once; images are
    converted as the iterator is consumed, filling `report`.
    """
    path = os.fspath(source)
    if os.path.isdir(path):
        path = os.path.join(path, "annotations.xml")
    items = iter_items(path, "annotations")
    meta, first = _head(items, path)
    categories = category_index(_label_names(meta, path), path)
    folder = os.path.dirname(os.path.abspath(path))
    if images_dir is None:
        images = os.path.join(folder, "images")
        images = images if os.path.isdir(images) else folder
    else:
        images = os.fspath(images_dir)
    report = new_report(report, path, categories.names, ("missing", "empty_mask"))
    stream = items if first is None else chain([first], items)
    return _scenes(stream, _Reader(path, categories, images, skip_missing, report))


def _head(items: Iterator[Element], path: str) -> tuple[Element, Element | None]:
    """The ``<meta>`` element (after ``<version>``) and the item after it, if any."""
    for element in items:
        if element.tag == "version":
            version = (element.text or "").strip()
            if not version.startswith("1."):
                raise FormatError(f"{path}: version {version!r}; mira reads CVAT for images 1.1")
        elif element.tag == "meta":
            return element, next(items, None)
        else:
            raise FormatError(
                f"{path}: line {line_of(element)}: <{element.tag}> comes before <meta>; "
                "not a CVAT for images 1.1 file"
            )
    raise FormatError(f"{path}: no <meta>; not a CVAT for images 1.1 file")


def _label_names(meta: Element, path: str) -> list[str]:
    for container in meta:  # <task>, <job> or <project>
        labels = container.find("labels")
        if labels is None:
            continue
        names = []
        for label in labels.findall("label"):
            name = (label.findtext("name") or "").strip()
            if not name:
                raise FormatError(f"{path}: line {line_of(label)}: a <label> has no <name>")
            if not (label.findtext("parent") or "").strip():
                names.append(name)
        if names:
            return names
    raise FormatError(f"{path}: <meta> lists no labels")


class _Reader:
    """What converting one ``<image>`` needs."""

    def __init__(
        self, path: str, categories: Categories, images: str, skip_missing: bool, report: Any
    ) -> None:
        self.path, self.categories, self.images = path, categories, images
        self.skip_missing, self.report = skip_missing, report

    def where(self, element: Element) -> str:
        return f"{self.path}: line {line_of(element)}: <{element.tag}>"

    def scene(self, element: Element, key: str) -> Scene | None:
        where = self.where(element)
        name = element.get("name") or ""
        size = None
        if element.get("width") is not None or element.get("height") is not None:
            size = (_integer(element, "width", where), _integer(element, "height", where))
        subset = element.get("subset")
        path = image_path(self.images, name, where)
        if subset:
            nested = image_path(self.images, f"{relative_name(subset, where)}/{name}", where)
            path = nested if os.path.exists(nested) else path
        source = image_file(path, f"{where} {name!r}", self.skip_missing, size)
        if source is None:
            return None
        annotations: list[Annotation] = []
        labels: list[Label] = []
        for child in element:
            at = self.where(child)
            if child.tag == "box":
                annotations.append(self.box(child, at))
            elif child.tag == "polygon":
                category, points = self.category(child, at), _points(child, at)
                annotations.append(Annotation(category, points=points, metadata=_kept(child, at)))
            elif child.tag == "mask":
                annotations.extend(self.mask(child, at))
            elif child.tag == "tag":
                labels.append(Label(self.category(child, at), metadata=_kept(child, at)))
            else:
                count(self.report, "unsupported", child.tag)
        metadata = {"cvat": {"name": name}}
        return Scene(self.categories, source, annotations, metadata, labels=labels, key=key)

    def category(self, element: Element, at: str) -> Any:
        label = element.get("label")
        if label is None or label not in self.categories:
            raise FormatError(
                f"{at}: label {label!r} is not one of the <meta> labels {self.categories.names}"
            )
        return self.categories[label]

    def box(self, element: Element, at: str) -> Annotation:
        from mira.geometry import box_to_polygon, rotate_points

        x1, y1, x2, y2 = (_number(element, name, at) for name in ("xtl", "ytl", "xbr", "ybr"))
        if x1 > x2 or y1 > y2:
            raise FormatError(f"{at}: the box is inverted (xtl > xbr or ytl > ybr)")
        category, kept = self.category(element, at), _kept(element, at)
        rotation = _number(element, "rotation", at) if element.get("rotation") else 0.0
        if rotation % 360 == 0:
            return Annotation(category, x1, y1, x2, y2, metadata=kept)
        centre = ((x1 + x2) / 2, (y1 + y2) / 2)
        points = rotate_points(box_to_polygon((x1, y1, x2, y2)), rotation, centre)
        return Annotation(category, points=points, metadata=kept)

    def mask(self, element: Element, at: str) -> list[Annotation]:
        from mira.formats.cvat_rle import decode_mask, mask_polygons, parse_counts

        category, kept = self.category(element, at), _kept(element, at)
        left, top, width, height = (
            _integer(element, name, at) for name in ("left", "top", "width", "height")
        )
        counts = parse_counts(element.get("rle") or "", at)
        rings = mask_polygons(decode_mask(counts, width, height, at), left, top)
        if not rings:
            count(self.report, "skipped", "empty_mask")
        return [Annotation(category, points=ring, metadata=kept) for ring in rings]


def _scenes(stream: Iterator[Element], reader: _Reader) -> Iterator[Scene]:
    report = reader.report
    for element in stream:
        if element.tag == "track":
            raise FormatError(
                f"{reader.where(element)}: tracks are CVAT for video; export the task as "
                "CVAT for images 1.1"
            )
        if element.tag != "image":
            count(report, "unsupported", element.tag)
            continue
        scene = reader.scene(element, f"{report['scenes']:06d}")
        if scene is None:
            count(report, "skipped", "missing")
            continue
        yield count_scene(report, scene)


def _kept(element: Element, at: str) -> dict[str, Any]:
    """The metadata that keeps a shape's (or tag's) attributes and <attribute> values."""
    metadata: dict[str, Any] = {}
    for name, kind in _BUILT_IN.items():
        text = element.get(name)
        if text is not None:
            metadata[name] = _integer(element, name, at) if kind is int else text
    attributes = {}
    for attribute in element.findall("attribute"):
        name = attribute.get("name")
        if not name:
            raise FormatError(f"{at}: an <attribute> has no name")
        attributes[name] = attribute.text or ""
    if attributes:
        metadata["attributes"] = attributes
    return metadata


def _number(element: Element, name: str, at: str) -> float:
    text = element.get(name)
    if text is None:
        raise FormatError(f"{at}: attribute {name!r} is missing")
    try:
        value = float(text)
    except ValueError:
        raise FormatError(f"{at}: {name}={text!r} is not a number") from None
    if not math.isfinite(value):
        raise FormatError(f"{at}: {name}={text!r} is not finite")
    return value


def _integer(element: Element, name: str, at: str) -> int:
    value = _number(element, name, at)
    if not value.is_integer():
        raise FormatError(f"{at}: {name}={element.get(name)!r} is not an integer")
    return int(value)


def _points(element: Element, at: str) -> list[tuple[float, float]]:
    text = element.get("points")
    if text is None:
        raise FormatError(f"{at}: attribute 'points' is missing")
    points = []
    for pair in text.split(";"):
        try:
            x, y = (float(v) for v in pair.split(","))
        except ValueError:
            raise FormatError(f"{at}: points={text[:60]!r} is not 'x,y;x,y;...'") from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise FormatError(f"{at}: points must be finite")
        points.append((x, y))
    if len(points) > 1 and points[0] == points[-1]:
        points.pop()
    if len(points) < 3:
        raise FormatError(f"{at}: a polygon needs at least 3 points, got {len(points)}")
    return points


class Exporter(DatasetFolder):
    """`mira export cvat`: the layout of the module docstring, written atomically."""

    def __init__(self, out_dir: str | os.PathLike[str], **options: Any) -> None:
        super().__init__(out_dir, **options)
        self.names = ExportNames(self.target, self.report["images"])
        self.report["not_written"] = dict.fromkeys(("scores", "masks", "metadata"), 0)
        #: label → the attribute names written with it, in first-use order.
        self.labels: dict[str, dict[str, None]] = {}
        self.subsets: list[str] = []
        self.count = 0

    def start_part(self, part: str) -> None:
        self.subsets.append(part)

    def add(self, scene: Scene, part: str) -> None:
        for name in scene.categories.names:
            self.labels.setdefault(name, {})
        name = self.names.pick(scene, recorded_name(scene, "cvat"))
        self.write_image(f"images/{part}/{name}", scene)
        width, height = scene.dimensions
        attributes = {"id": str(self.count), "name": name, "subset": part}
        image = Element("image", {**attributes, "width": str(width), "height": str(height)})
        self.count += 1
        for annotation in scene.annotations:
            attributes = {"label": annotation.category.name}
            if annotation.is_rect:
                tag = "box"
                corners = ("xtl", "ytl", "xbr", "ybr")
                attributes.update(
                    zip(corners, map(number_text, annotation.x1y1x2y2()), strict=True)
                )
            else:
                tag = "polygon"
                attributes["points"] = ";".join(
                    f"{number_text(x)},{number_text(y)}" for x, y in annotation.point_pairs()
                )
            self._shape(image, tag, attributes, annotation.metadata)
            self.report["not_written"]["scores"] += annotation.score is not None
        for label in scene.labels:
            self._shape(image, "tag", {"label": label.category.name}, label.metadata)
            self.report["not_written"]["scores"] += label.score is not None
        self.report["not_written"]["masks"] += len(scene.masks)
        with open(self.path(_BODY), "ab") as body:
            body.write(serialise(image, level=1))

    def _shape(
        self, image: Element, tag: str, attributes: dict[str, str], metadata: dict[str, Any]
    ) -> None:
        """One shape or tag with its built-in attributes and <attribute> children."""
        declared = self.labels.setdefault(attributes["label"], {})
        values: dict[str, Any] = {}
        for key, value in metadata.items():
            if key in _BUILT_IN and _fits(value, _BUILT_IN[key]):
                attributes[key] = scalar_text(int(value) if _BUILT_IN[key] is int else value)
            elif (
                key == "attributes"
                and isinstance(value, dict)
                and all(isinstance(k, str) and k and is_scalar(v) for k, v in value.items())
            ):
                values.update(value)
            elif key not in _BUILT_IN and key != "attributes" and is_scalar(value):
                values[key] = value
            else:
                self.report["not_written"]["metadata"] += 1
        shape = SubElement(image, tag, _cvat_order(attributes))
        for key, value in values.items():
            declared.setdefault(key, None)
            SubElement(shape, "attribute", {"name": key}).text = scalar_text(value)

    def finish(self) -> None:
        target = self.path("annotations.xml")
        body = self.path(_BODY)
        with open(target, "wb") as out:
            out.write(b'<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n')
            out.write(b"  <version>1.1</version>\n")
            out.write(serialise(self._meta(), level=1))
            if body.exists():
                with open(body, "rb") as images:
                    shutil.copyfileobj(images, out)
            out.write(b"</annotations>\n")
        body.unlink(missing_ok=True)

    def _meta(self) -> Element:
        meta = Element("meta")
        project = SubElement(meta, "project")
        SubElement(project, "name").text = os.path.basename(os.path.normpath(self.target))
        labels = SubElement(project, "labels")
        for name, attribute_names in self.labels.items():
            label = SubElement(labels, "label")
            SubElement(label, "name").text = name
            SubElement(label, "type").text = "any"
            attributes = SubElement(label, "attributes")
            for attribute_name in attribute_names:
                attribute = SubElement(attributes, "attribute")
                for field, text in (
                    ("name", attribute_name),
                    ("mutable", "False"),
                    ("input_type", "text"),
                    ("default_value", ""),
                    ("values", ""),
                ):
                    SubElement(attribute, field).text = text
        SubElement(project, "subsets").text = "\n".join(self.subsets)
        return meta


def _fits(value: Any, kind: type) -> bool:
    if kind is int:
        return isinstance(value, (int, bool)) or (isinstance(value, float) and value.is_integer())
    return isinstance(value, str)


def _cvat_order(attributes: dict[str, str]) -> dict[str, str]:
    """Attributes in the order CVAT writes them: label, source, occluded, geometry, z_order,
    group_id."""
    first = ("label", "source", "occluded")
    last = ("z_order", "group_id")
    head = {k: attributes[k] for k in first if k in attributes}
    tail = {k: attributes[k] for k in last if k in attributes}
    middle = {k: v for k, v in attributes.items() if k not in head and k not in tail}
    return {**head, **middle, **tail}
