"""Pascal VOC: one XML file per image in ``Annotations/``, the images in ``JPEGImages/``,
part lists in ``ImageSets/Main/<part>.txt``. Read (`iter_voc`) and written (`Exporter`).

Coordinates. VOC numbers pixels from 1 and a box includes its last pixel: a box over a
whole W×H image is xmin=1, ymin=1, xmax=W, ymax=H. mira reads the four numbers as they
stand, x1=xmin, y1=ymin, x2=xmax, y2=ymax, as the original library's
`mira.datasets.load_voc` did (and as globox does), and writes them back the same way, so
VOC → mira → VOC gives the same numbers. In mira's continuous coordinates (0 at the
image's left edge) the pixels of a VOC box span [xmin - 1, xmax] × [ymin - 1, ymax], so
the box as read is one pixel short at its left and top; a trainer that wants edges (as
Detectron2 does) subtracts 1 from xmin and ymin itself. Decimals are kept (the original
truncated with int(); on VOC's own integer files the two agree).

Reading. SOURCE is the dataset folder: ``Annotations/`` (or the XML files in SOURCE itself,
as some exporters lay them out beside the images) and ``JPEGImages/`` (else the XML
files' folder), unless `images_dir` says where the images are. All XML files are read in
sorted order, or the ids of ``ImageSets/Main/<image_set>.txt`` in its order. The
categories are the object names of all the folder's XML files, sorted (a first pass reads
and checks them all, so the parts of one dataset share their categories and a bad file
fails before anything is written), unless `categories` names them (then any other name
is an error).

Each file becomes one scene, whose image is ``<filename>`` (a ``<size>`` that disagrees
with the image file is an error). An object's ``difficult``, ``truncated`` and
``occluded`` (integers), ``pose`` and any other child elements (``part``, ...) are kept
in the annotation's metadata, by name (so a file and its export give the same record);
the file's other elements (``source``, ``owner``, ``segmented``, ...) and ``filename``
go into ``metadata["voc"]``. Only ``folder`` and ``size`` are not kept: the layout and
the image say them.

Writing. ``JPEGImages/<name>`` and ``Annotations/<stem>.xml`` for every scene (named as
recorded in ``metadata["voc"]["filename"]`` when free, else by key; see
`mira.formats.export_names`), one ``ImageSets/Main/<part>.txt`` per part. Everything the
reader keeps is written back where it came from. A polygon is written as its bounding box
(counted); image-level labels, scores, mask regions and metadata that cannot be XML
elements are not written (counted).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from pathlib import PurePosixPath
from typing import Any
from xml.etree.ElementTree import Element, SubElement

from mira.core import Annotation, Categories, Scene
from mira.errors import FormatError, ValidationError
from mira.formats.export_names import ExportNames, recorded_name
from mira.formats.image_files import image_file, image_path, relative_name
from mira.formats.import_report import category_index, count, count_scene, new_report
from mira.formats.layout import DatasetFolder
from mira.formats.xml_stream import element_value, iter_items, line_of
from mira.formats.xml_write import add_value, is_element_name, number_text, serialise, writable

__all__ = ["Exporter", "iter_voc", "read", "scene_from_voc_file"]

_CORNERS = ("xmin", "ymin", "xmax", "ymax")
_FLAGS = ("difficult", "truncated", "occluded")
_NOT_KEPT = frozenset({"folder", "size", "object"})
_INTEGER = re.compile(r"[+-]?\d+")


def read(
    source: str | os.PathLike[str],
    *,
    images_dir: str | os.PathLike[str] | None = None,
    skip_missing: bool = False,
    report: dict[str, Any] | None = None,
    image_set: str | None = None,
    categories: Sequence[str] | None = None,
) -> Iterator[Scene]:
    """`mira import voc` (see `mira.formats.interchange`): `iter_voc`."""
    return iter_voc(source, images_dir, image_set, categories, skip_missing, report)


def iter_voc(
    source: str | os.PathLike[str],
    images_dir: str | os.PathLike[str] | None = None,
    image_set: str | None = None,
    categories: Sequence[str] | None = None,
    skip_missing: bool = False,
    report: dict[str, Any] | None = None,
) -> Iterator[Scene]:
    """Scenes of a VOC dataset folder, keyed 000000, 000001, ... (see the module docstring).

    The folder and the image set are checked at once, and every XML file too unless
    `categories` is given (the first pass that finds them); scenes are built as the
    iterator is consumed, filling `report`.
    """
    root = os.fspath(source)
    files, images = _layout(root, images_dir, image_set)
    if categories is None:
        every = files if image_set is None else _layout(root, images_dir, None)[0]
        index = category_index(_category_names(every), root)
    else:
        index = category_index(categories, "categories")
    report = new_report(report, root, index.names)
    return _scenes(files, index, images, skip_missing, report)


def _scenes(
    files: list[str], categories: Categories, images: str, skip_missing: bool, report: Any
) -> Iterator[Scene]:
    for path in files:
        key = f"{report['scenes']:06d}"
        scene = scene_from_voc_file(path, categories, images, skip_missing, key)
        if scene is None:
            count(report, "skipped", "missing")
            continue
        yield count_scene(report, scene)


def _layout(root: str, images_dir: Any, image_set: str | None) -> tuple[list[str], str]:
    """(annotation file paths in reading order, images folder) of the dataset at `root`."""
    if not os.path.isdir(root):
        raise FormatError(
            f"{root}: not a folder; a Pascal VOC dataset is a folder with Annotations/ "
            "and JPEGImages/"
        )
    annotations = os.path.join(root, "Annotations")
    if not os.path.isdir(annotations):
        annotations = root
    if images_dir is not None:
        images = os.fspath(images_dir)
        if not os.path.isdir(images):
            raise ValidationError(f"{images}: images folder does not exist")
    else:
        images = os.path.join(root, "JPEGImages")
        images = images if os.path.isdir(images) else annotations
    if image_set is not None:
        files = _image_set_files(root, image_set, annotations)
    else:
        names = sorted(
            e.name for e in os.scandir(annotations) if e.is_file() and e.name.endswith(".xml")
        )
        files = [os.path.join(annotations, name) for name in names]
    if not files:
        raise FormatError(f"{annotations}: no VOC annotation files (*.xml)")
    return files, images


def _image_set_files(root: str, name: str, annotations: str) -> list[str]:
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name[0] == ".":
        raise ValidationError(f"image set {name!r} is not a file name")
    folder = os.path.join(root, "ImageSets", "Main")
    path = os.path.join(folder, f"{name}.txt")
    if not os.path.isfile(path):
        known = (
            sorted(n[:-4] for n in os.listdir(folder) if n.endswith(".txt"))
            if (os.path.isdir(folder))
            else []
        )
        raise ValidationError(
            f"{path}: image set {name!r} not found; sets: {', '.join(known) or 'none'}"
        )
    files = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            fields = line.split()
            if not fields:
                continue
            stem = relative_name(fields[0], f"{path}: line {number}")
            xml = os.path.join(annotations, f"{stem}.xml")
            if not os.path.isfile(xml):
                raise FormatError(f"{path}: line {number}: {stem!r} has no annotation file {xml}")
            files.append(xml)
    return files


def _root(path: str) -> Element:
    return next(iter_items(path, "annotation", depth=0))


def _category_names(files: list[str]) -> list[str]:
    """The object names of every file, sorted; every object and <size> is checked too."""
    names: set[str] = set()
    for path in files:
        root = _root(path)
        _size(root, path)
        for index, element in enumerate(root.findall("object"), 1):
            names.add(_object(element, _where(path, index, element))[0])
    return sorted(names)


def _where(path: str, index: int, element: Element) -> str:
    return f"{path}: object {index} (line {line_of(element)})"


def _object_name(element: Element, where: str) -> str:
    name = (element.findtext("name") or "").strip()
    if not name:
        raise FormatError(f"{where}: <name> is missing or empty")
    return name


def scene_from_voc_file(
    path: str | os.PathLike[str],
    categories: Categories | Sequence[str],
    images_dir: str | os.PathLike[str] | None = None,
    skip_missing: bool = False,
    key: str | None = None,
) -> Scene | None:
    """One VOC XML file → a Scene (None when its image is missing and `skip_missing`).

    The image is ``images_dir/<filename>``; by default ``JPEGImages/`` beside the file's
    folder when there is one, else the file's own folder.
    """
    path = os.fspath(path)
    categories = Categories.from_categories(categories)
    root = _root(path)
    filename = relative_name((root.findtext("filename") or "").strip(), f"{path}: <filename>")
    if images_dir is None:
        here = os.path.dirname(os.path.abspath(path))
        images_dir = os.path.join(os.path.dirname(here), "JPEGImages")
        images_dir = images_dir if os.path.isdir(images_dir) else here
    image = image_path(os.fspath(images_dir), filename, f"{path}: <filename>")
    source = image_file(image, path, skip_missing, _size(root, path))
    if source is None:
        return None
    annotations = [
        _annotation(element, categories, _where(path, index, element))
        for index, element in enumerate(root.findall("object"), 1)
    ]
    recorded = element_value(root, skip=_NOT_KEPT)
    recorded = {"filename": filename, **{k: v for k, v in recorded.items() if k != "filename"}}
    return Scene(categories, source, annotations, metadata={"voc": recorded}, key=key)


def _size(root: Element, path: str) -> tuple[int, int] | None:
    """The (width, height) the file states, or None when it states none (or zeros)."""
    size = root.find("size")
    if size is None:
        return None
    values = []
    for tag in ("width", "height"):
        text = (size.findtext(tag) or "").strip()
        if not _INTEGER.fullmatch(text):
            raise FormatError(f"{path}: <size> <{tag}> is not an integer: {text!r}")
        values.append(int(text))
    return None if 0 in values else (values[0], values[1])


def _annotation(element: Element, categories: Categories, where: str) -> Annotation:
    name, corners, metadata = _object(element, where)
    if name not in categories:
        raise FormatError(f"{where}: category {name!r} is not one of {categories.names}")
    try:
        return Annotation(categories[name], *corners, metadata=metadata)
    except ValidationError as exc:
        raise FormatError(f"{where}: {exc}") from None


def _object(element: Element, where: str) -> tuple[str, list[float], dict[str, Any]]:
    """An <object>'s name, box corners and metadata, checked."""
    name = _object_name(element, where)
    box = element.find("bndbox")
    if box is None:
        raise FormatError(f"{where}: <bndbox> is missing")
    corners = [_coordinate(box, tag, where) for tag in _CORNERS]
    xmin, ymin, xmax, ymax = corners
    if xmin > xmax or ymin > ymax:
        raise FormatError(f"{where}: the box is inverted (xmin > xmax or ymin > ymax): {corners}")
    metadata = element_value(element, skip=frozenset({"name", "bndbox"}))
    for flag in _FLAGS:
        value = metadata.get(flag)
        if isinstance(value, str) and _INTEGER.fullmatch(value):
            metadata[flag] = int(value)
    return name, corners, dict(sorted(metadata.items()))


def _coordinate(box: Element, tag: str, where: str) -> float:
    import math

    text = box.findtext(tag)
    if text is None:
        raise FormatError(f"{where}: <bndbox> has no <{tag}>")
    try:
        value = float(text)
    except ValueError:
        raise FormatError(f"{where}: <{tag}> is not a number: {text.strip()!r}") from None
    if not math.isfinite(value):
        raise FormatError(f"{where}: <{tag}> is not finite: {text.strip()!r}")
    return value


class Exporter(DatasetFolder):
    """`mira export voc`: the layout of the module docstring, written atomically."""

    def __init__(self, out_dir: str | os.PathLike[str], **options: Any) -> None:
        super().__init__(out_dir, **options)
        self.names = ExportNames(self.target, self.report["images"])
        self.report["converted"] = {"polygons_to_boxes": 0}
        self.report["not_written"] = dict.fromkeys(("labels", "scores", "masks", "metadata"), 0)

    def start_part(self, part: str) -> None:
        self.write_file(f"ImageSets/Main/{part}.txt", b"")

    def add(self, scene: Scene, part: str) -> None:
        recorded = scene.metadata.get("voc")
        recorded = recorded if isinstance(recorded, dict) else {}
        name = self.names.pick(scene, recorded_name(scene, "voc", flat=True))
        stem = PurePosixPath(name).stem
        self.write_image(f"JPEGImages/{name}", scene)
        self.write_file(f"Annotations/{stem}.xml", self._xml(scene, name, recorded))
        with open(self.path(f"ImageSets/Main/{part}.txt"), "a", encoding="utf-8") as lines:
            lines.write(f"{stem}\n")

    def _xml(self, scene: Scene, name: str, recorded: dict[str, Any]) -> bytes:
        not_written = self.report["not_written"]
        root = Element("annotation")
        SubElement(root, "folder").text = "JPEGImages"
        SubElement(root, "filename").text = name
        for key, value in recorded.items():
            if key in _NOT_KEPT or key == "filename":
                continue
            if is_element_name(key) and writable(value):
                add_value(root, key, value)
        size = SubElement(root, "size")
        width, height = scene.dimensions
        for tag, value in (("width", width), ("height", height), ("depth", 3)):
            SubElement(size, tag).text = str(value)
        for annotation in scene.annotations:
            item = SubElement(root, "object")
            SubElement(item, "name").text = annotation.category.name
            nested = {}
            for key, value in annotation.metadata.items():
                if key in ("name", "bndbox") or not (is_element_name(key) and writable(value)):
                    not_written["metadata"] += 1
                elif isinstance(value, (dict, list)):
                    nested[key] = value  # after the box, as VOC puts <part>
                else:
                    add_value(item, key, value)
            box = SubElement(item, "bndbox")
            for tag, value in zip(_CORNERS, annotation.x1y1x2y2(), strict=True):
                SubElement(box, tag).text = number_text(value)
            for key, value in nested.items():
                add_value(item, key, value)
            self.report["converted"]["polygons_to_boxes"] += not annotation.is_rect
            not_written["scores"] += annotation.score is not None
        not_written["labels"] += len(scene.labels)
        not_written["masks"] += len(scene.masks)
        return serialise(root)
