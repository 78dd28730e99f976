"""PASCAL VOC XML annotation files → a SceneCollection (the original's `load_voc`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any
from xml.etree import ElementTree

from mira.core.annotation import Annotation, Categories
from mira.core.collection import SceneCollection
from mira.core.scene import Scene
from mira.errors import FormatError, ValidationError


def _text(node: ElementTree.Element, path: str, where: str) -> str:
    found = node.find(path)
    if found is None or found.text is None or not found.text.strip():
        raise FormatError(f"{where}: <{path}> is missing")
    return found.text.strip()


def _number(node: ElementTree.Element, path: str, where: str) -> float:
    text = _text(node, path, where)
    try:
        return float(text)
    except ValueError:
        raise FormatError(f"{where}: <{path}> is not a number: {text!r}") from None


def load_voc_file(filepath: str, categories: Categories, image_dir: str | None = None) -> Scene:
    """One VOC file → a Scene: boxes of its <object>s (float coordinates, as written),
    the image `<filename>` in `image_dir`, or by default in the XML's folder joined with
    its `<folder>`."""
    where = os.fspath(filepath)
    try:
        root = ElementTree.parse(filepath).getroot()
    except FileNotFoundError:
        raise FormatError(f"{where}: file not found") from None
    except ElementTree.ParseError as exc:
        raise FormatError(f"{where}: not valid XML: {exc}") from None
    if image_dir is None:
        folder = root.findtext("folder")
        image_dir = os.path.dirname(where)
        if folder:
            image_dir = os.path.join(image_dir, folder)
    annotations = []
    for i, obj in enumerate(root.findall("object")):
        at = f"{where}: object {i}"
        name = _text(obj, "name", at)
        if name not in categories and name.casefold() not in map(str.casefold, categories.names):
            raise FormatError(f"{at}: category {name!r} is not one of {categories.names}")
        box = [_number(obj, f"bndbox/{k}", at) for k in ("xmin", "ymin", "xmax", "ymax")]
        try:
            annotations.append(Annotation(categories[name], *box))
        except ValidationError as exc:
            raise FormatError(f"{at}: {exc}") from None
    image = os.path.join(image_dir, _text(root, "filename", where))
    return Scene(categories, image, annotations)


def load_voc(
    filepaths: Sequence[str], categories: Any, image_dir: str | None = None
) -> SceneCollection:
    """One scene per VOC XML file, in the order given (see `load_voc_file`)."""
    cats = Categories.from_categories(categories)
    return SceneCollection([load_voc_file(f, cats, image_dir) for f in filepaths], cats)
