"""A COCO instances JSON file → a SceneCollection of boxes (the original's `load_coco`)."""

from __future__ import annotations

import json
import os
from typing import Any

from mira.core.annotation import Annotation, Categories
from mira.core.collection import SceneCollection
from mira.core.scene import Scene
from mira.errors import FormatError, ValidationError


def _read(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read().decode("utf-8-sig"))
    except FileNotFoundError:
        raise FormatError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise FormatError(f"{path}: is a directory, not a COCO file") from None
    except UnicodeDecodeError:
        raise FormatError(f"{path}: not a COCO file: the file is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise FormatError(f"{path}: invalid JSON: {exc.msg} (line {exc.lineno})") from None
    except RecursionError:
        raise FormatError(f"{path}: invalid JSON: nested too deeply") from None
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), list) for k in ("images", "annotations", "categories")
    ):
        raise FormatError(f"{path}: a COCO file needs 'images', 'annotations' and 'categories'")
    return data


def load_coco(
    annotations_file: str, image_dir: str | None, categories: Any = None
) -> SceneCollection:
    """One scene per image (in order of image id) with the boxes of its annotations.

    Without `categories` they are the file's, in order of id; given, they must hold
    exactly the file's names. Images are looked for in `image_dir` (default: the folder
    of the file). Coordinates are kept as written (floats).
    """
    path = os.fspath(annotations_file)
    data = _read(path)
    try:
        names = {int(c["id"]): str(c["name"]) for c in data["categories"]}
        by_image: dict[int, list[tuple[int, list[float]]]] = {}
        for ann in data["annotations"]:
            x, y, w, h = (float(v) for v in ann["bbox"])
            entry = (int(ann["category_id"]), [x, y, x + w, y + h])
            by_image.setdefault(int(ann["image_id"]), []).append(entry)
        images = sorted((int(im["id"]), str(im["file_name"])) for im in data["images"])
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise FormatError(f"{path}: malformed COCO entry ({type(exc).__name__}: {exc})") from None
    in_file = [names[k] for k in sorted(names)]
    try:
        cats = Categories(in_file)
    except ValidationError as exc:
        raise FormatError(f"{path}: {exc}") from None
    if categories is not None:
        cats = Categories.from_categories(categories)
    if sorted(cats.names) != sorted(in_file):
        raise FormatError(
            f"{path}: the file's categories {in_file} are not the categories given {cats.names}"
        )
    folder = os.path.dirname(path) if image_dir is None else image_dir
    scenes = []
    for image_id, file_name in images:
        annotations = []
        for category_id, box in by_image.get(image_id, []):
            if category_id not in names:
                raise FormatError(f"{path}: image {image_id}: unknown category id {category_id}")
            try:
                annotations.append(Annotation(cats[names[category_id]], *box))
            except ValidationError as exc:
                raise FormatError(f"{path}: image {image_id}: {exc}") from None
        scenes.append(Scene(cats, os.path.join(folder, file_name), annotations))
    return SceneCollection(scenes, cats)
