"""Ultralytics YOLO datasets ↔ scenes: `read` (import, streamed) and `Exporter` (export).

The layout is Ultralytics': a ``data.yaml`` with ``names`` (a list, or a dict from 0 to
n-1; or only ``nc``: ``class_0``, ...), the parts ``train``, ``val`` (or ``validation``)
and ``test`` (each a folder, a ``.txt`` list of images, or a list of those) below the root
``path``; each image ``.../images/.../a.jpg`` has its labels in
``.../labels/.../a.txt`` (the last ``images`` folder of the path becomes ``labels``, the
extension ``.txt``). A label row is ``class cx cy w h`` (a box) or ``class x1 y1 x2 y2 ...``
(a polygon of at least 3 points), all normalised to the image size.

Reading: `source` is the data.yaml (or a folder with one). A relative ``path`` is taken
from the data.yaml's folder (Ultralytics also tries its own datasets folder); without one
the root is that folder; `images_dir` replaces the root. Parts are read in the order
train, val, test (or only `part`), images in sorted order, folder by folder; each scene
records ``metadata["yolo"] = {"part": ..., "file": ...}`` (its path within the part). An
empty label file is a scene without annotations; a missing one too, counted under
``label_files.missing``. A pose dataset (``kpt_shape``) gives its boxes, and its keypoints
are counted under ``unsupported``. Image sizes come from the image headers.

Writing (`Exporter`, ``--task detect|segment``): ``images/<part>/``, ``labels/<part>/`` and
a ``data.yaml`` that ``yolo train data=OUT_DIR/data.yaml`` accepts when the parts include
``train`` and ``val``. It has no ``path``, so Ultralytics takes the folder of the
data.yaml: the dataset can be moved. ``detect`` writes every annotation's box, ``segment``
every annotation as a polygon (a box as its 4 corners). Coordinates are written with every
digit (shortest round-trip floats). Classes are the categories in the order first met,
without those used only by image-level labels; ``names`` lists them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mira.core import Annotation, Categories, ImageSource, Scene
from mira.errors import FormatError, ValidationError
from mira.formats.export_names import ExportNames, recorded_name, stem_of
from mira.formats.image_files import image_file, image_path
from mira.formats.import_report import count, count_scene, new_report
from mira.formats.layout import DatasetFolder

__all__ = ["Exporter", "iter_yolo", "read"]

#: Ultralytics' image suffixes (its IMG_FORMATS).
IMAGE_SUFFIXES = frozenset(
    ("bmp", "dng", "jpeg", "jpg", "mpo", "png", "tif", "tiff", "webp", "pfm", "heic")
)
PARTS = ("train", "val", "test")
TASKS = ("detect", "segment")


@dataclass
class _Dataset:
    yaml_path: str
    root: str
    categories: Categories
    parts: list[tuple[str, list[str]]]
    keypoints: tuple[int, int] | None


def _yaml_path(source: str) -> str:
    if os.path.isdir(source):
        candidates = sorted(p for p in os.listdir(source) if p.endswith((".yaml", ".yml")))
        if "data.yaml" in candidates:
            return os.path.join(source, "data.yaml")
        if len(candidates) != 1:
            raise FormatError(
                f"{source}: expected a data.yaml (or one .yaml file), found {len(candidates)}"
            )
        return os.path.join(source, candidates[0])
    return source


def _load_yaml(path: str) -> dict[str, Any]:
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except FileNotFoundError:
        raise FormatError(f"{path}: file not found") from None
    except OSError as exc:
        raise FormatError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise FormatError(f"{path}: not a YOLO data.yaml: the file is not UTF-8 text") from None
    except RecursionError:
        raise FormatError(f"{path}: invalid YAML: nested too deeply") from None
    except yaml.YAMLError as exc:
        raise FormatError(f"{path}: invalid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise FormatError(f"{path}: not a YOLO data.yaml: the top level must be a mapping")
    return data


def _names(data: dict[str, Any], path: str) -> list[str]:
    names, count = data.get("names"), data.get("nc")
    if names is None:
        if type(count) is not int or count < 1:
            raise FormatError(f"{path}: needs 'names' (or 'nc', the number of classes)")
        return [f"class_{i}" for i in range(count)]
    if isinstance(names, dict):
        if sorted(names) != list(range(len(names))):
            raise FormatError(
                f"{path}: names must be numbered 0 to {len(names) - 1}, got {sorted(names)!r:.80}"
            )
        names = [names[i] for i in range(len(names))]
    if not isinstance(names, list) or not names:
        raise FormatError(f"{path}: names must be a non-empty list or a mapping from 0")
    if count is not None and count != len(names):
        raise FormatError(f"{path}: nc is {count!r} but names has {len(names)} entries")
    for index, name in enumerate(names):
        if not isinstance(name, (str, int, float)) or isinstance(name, bool) or name == "":
            raise FormatError(f"{path}: names[{index}] must be a non-empty string, got {name!r}")
    return [str(n) for n in names]


def _dataset(source: str, images_dir: Any, part: str | None) -> _Dataset:
    yaml_path = _yaml_path(source)
    data = _load_yaml(yaml_path)
    names = _names(data, yaml_path)
    try:
        categories = Categories(names)
    except ValidationError as exc:
        raise FormatError(f"{yaml_path}: names: {exc}") from None
    folder = os.path.dirname(os.path.abspath(yaml_path))
    if images_dir is not None:
        root = os.fspath(images_dir)
    elif data.get("path"):
        root = os.path.join(folder, os.path.expanduser(str(data["path"])))
    else:
        root = folder
    root = os.path.normpath(root)
    if not os.path.isdir(root):
        raise FormatError(f"{yaml_path}: the dataset folder {root} does not exist")
    if "val" not in data and "validation" in data:
        data["val"] = data["validation"]
    wanted = PARTS if part is None else (part,)
    parts = []
    for name in wanted:
        spec = data.get(name)
        if not spec:
            if part is not None:
                raise ValidationError(f"{yaml_path}: has no part {part!r}")
            continue
        specs = spec if isinstance(spec, list) else [spec]
        if not all(isinstance(s, str) and s for s in specs):
            raise FormatError(f"{yaml_path}: {name} must be a path or a list of paths")
        paths = [os.path.normpath(os.path.join(root, os.path.expanduser(s))) for s in specs]
        for given, resolved in zip(specs, paths, strict=True):
            if not os.path.exists(resolved):
                raise FormatError(f"{yaml_path}: {name}: {given} not found ({resolved})")
        parts.append((name, paths))
    if not parts:
        raise FormatError(f"{yaml_path}: names no part (train, val or test)")
    shape = data.get("kpt_shape")
    keypoints = None
    if shape is not None:
        if not (isinstance(shape, list) and len(shape) == 2 and all(type(v) is int for v in shape)):
            raise FormatError(f"{yaml_path}: kpt_shape must be [keypoints, dimensions]")
        keypoints = (shape[0], shape[1])
    return _Dataset(yaml_path, root, categories, parts, keypoints)


def read(
    source: str | os.PathLike[str],
    *,
    images_dir: str | os.PathLike[str] | None = None,
    skip_missing: bool = False,
    report: dict[str, Any] | None = None,
    part: str | None = None,
) -> Iterator[Scene]:
    """`mira import yolo`: the scenes of a YOLO dataset (every part, or only `part`),
    keyed 000000, ...; data.yaml and the part folders are checked at once."""
    dataset = _dataset(os.fspath(source), images_dir, part)
    report = new_report(report, dataset.yaml_path, dataset.categories.names)
    report.update(
        root=dataset.root,
        parts={name: 0 for name, _ in dataset.parts},
        label_files={"missing": 0, "empty": 0},
        unsupported={"keypoints": 0},
    )
    return _scenes(dataset, report, skip_missing)


def _scenes(dataset: _Dataset, report: dict[str, Any], skip_missing: bool) -> Iterator[Scene]:
    for part, specs in dataset.parts:
        for image, file in _images(specs, skip_missing, report):
            scene = _scene(dataset, image, report)
            scene.metadata["yolo"] = {"part": part, "file": file}
            report["parts"][part] += 1
            yield count_scene(report, scene)


def _images(
    specs: list[str], skip_missing: bool, report: dict[str, Any]
) -> Iterator[tuple[ImageSource, str]]:
    """(image, name within the part) of every image of one part, in order."""
    for spec in specs:
        if os.path.isdir(spec):
            for path in _walk(spec):
                name = os.path.relpath(path, spec).replace(os.sep, "/")
                where = f"{spec}: {name}"
                image = image_file(image_path(spec, name, where), where, skip_missing=False)
                assert image is not None
                yield image, name
            continue
        with open(spec, encoding="utf-8") as listing:
            parent = os.path.dirname(spec)
            for number, line in enumerate(listing, start=1):
                entry = line.strip()
                if not entry:
                    continue
                if entry.startswith("./"):
                    entry = entry[2:]
                where = f"{spec}: line {number}"
                found = image_file(image_path(parent, entry, where), where, skip_missing)
                if found is None:
                    count(report, "skipped", "missing")
                    continue
                yield found, os.path.basename(entry)


def _walk(folder: str) -> Iterator[str]:
    """Image files below `folder`, sorted by name within each folder, folders after files."""
    with os.scandir(folder) as entries:
        items = sorted(entries, key=lambda e: e.name)
    for entry in items:
        if entry.is_file() and entry.name.rpartition(".")[2].lower() in IMAGE_SUFFIXES:
            yield entry.path
    for entry in items:
        if entry.is_dir():
            yield from _walk(entry.path)


def label_path(image_path: str) -> str:
    """Ultralytics' rule: the last ``/images/`` of the path becomes ``/labels/``, the
    extension ``.txt``."""
    images, labels = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
    head, found, tail = image_path.rpartition(images)
    path = f"{head}{labels}{tail}" if found else image_path
    return path.rpartition(".")[0] + ".txt"


def _scene(dataset: _Dataset, source: ImageSource, report: dict[str, Any]) -> Scene:
    width, height = source.dimensions
    assert source.path is not None
    labels = label_path(source.path)
    try:
        with open(labels, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        report["label_files"]["missing"] += 1
        text = ""
    except UnicodeDecodeError:
        raise FormatError(f"{labels}: not a YOLO label file: it is not UTF-8 text") from None
    except OSError as exc:
        raise FormatError(f"{labels}: cannot read: {exc.strerror}") from None
    else:
        if not text.strip():
            report["label_files"]["empty"] += 1
    annotations = [
        _row(line, number, labels, dataset, (width, height), report)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip()
    ]
    return Scene(dataset.categories, source, annotations, key=f"{report['scenes']:06d}")


def _row(
    line: str,
    number: int,
    labels: str,
    dataset: _Dataset,
    size: tuple[int, int],
    report: dict[str, Any],
) -> Annotation:
    where = f"{labels}: line {number}"
    fields = line.split()
    try:
        index = int(fields[0])
    except ValueError:
        raise FormatError(f"{where}: the class must be an integer, got {fields[0]!r}") from None
    if not 0 <= index < len(dataset.categories):
        raise FormatError(
            f"{where}: class {index} is not one of the {len(dataset.categories)} classes"
        )
    try:
        values = [float(v) for v in fields[1:]]
    except ValueError:
        raise FormatError(f"{where}: coordinates must be numbers: {line.strip()!r:.80}") from None
    if not all(map(math.isfinite, values)):
        raise FormatError(f"{where}: coordinates must be finite numbers")
    category = dataset.categories[index]
    width, height = size
    if dataset.keypoints is not None:
        expected = 4 + dataset.keypoints[0] * dataset.keypoints[1]
        if len(values) != expected:
            raise FormatError(f"{where}: a pose row needs {expected + 1} values, got {len(fields)}")
        report["unsupported"]["keypoints"] += dataset.keypoints[0]
        values = values[:4]
    if len(values) == 4:
        cx, cy, w, h = values
        if w < 0 or h < 0:
            raise FormatError(f"{where}: box width and height must not be negative")
        return Annotation(
            category,
            (cx - w / 2) * width,
            (cy - h / 2) * height,
            (cx + w / 2) * width,
            (cy + h / 2) * height,
        )
    if len(values) < 6 or len(values) % 2:
        raise FormatError(
            f"{where}: expected 'class cx cy w h' or a class and at least 3 x y pairs, "
            f"got {len(fields)} values"
        )
    points = [(x * width, y * height) for x, y in zip(values[0::2], values[1::2], strict=True)]
    try:
        return Annotation(category, points=points)
    except ValidationError as exc:
        raise FormatError(f"{where}: {exc}") from None


def iter_yolo(
    source: str | os.PathLike[str],
    part: str | None = None,
    images_dir: str | os.PathLike[str] | None = None,
    skip_missing: bool = False,
    report: dict[str, Any] | None = None,
) -> Iterator[Scene]:
    """Scenes of a YOLO dataset, streamed (see `read`)."""
    return read(source, images_dir=images_dir, skip_missing=skip_missing, report=report, part=part)


def _number(value: float) -> str:
    return repr(float(value))


class Exporter(DatasetFolder):
    """`mira export yolo`: images, labels and data.yaml (see the module)."""

    def __init__(
        self,
        out_dir: Any,
        *,
        images: str = "copy",
        force: bool = False,
        inputs: Any = (),
        task: str = "detect",
    ) -> None:
        if task not in TASKS:
            raise ValidationError(f"task must be one of {', '.join(TASKS)}; got {task!r}")
        super().__init__(out_dir, images=images, force=force, inputs=inputs)
        self.task = task
        self.report["task"] = task
        self.report["not_written"] = {"labels": 0, "masks": 0}
        self._classes: dict[str, int] = {}
        self._used: dict[str, set[str]] = {"annotations": set(), "labels": set()}
        self._names: dict[str, ExportNames] = {}

    def start_part(self, part: str) -> None:
        self._names[part] = ExportNames(f"{self.target}: images/{part}", self.report["images"])

    def add(self, scene: Any, part: str) -> None:
        for name in scene.categories.names:
            self._classes.setdefault(name, len(self._classes))
        name = self._names[part].pick(scene, recorded_name(scene, "yolo", flat=True))
        self.write_image(f"images/{part}/{name}", scene)
        width, height = scene.dimensions
        rows = [self._row(a, width, height) for a in scene.annotations]
        self.write_file(f"labels/{part}/{stem_of(name)}.txt", "".join(rows).encode())
        for label in scene.labels:
            self._used["labels"].add(label.category.name)
        self.report["not_written"]["labels"] += len(scene.labels)
        self.report["not_written"]["masks"] += len(scene.masks)

    def _row(self, annotation: Annotation, width: int, height: int) -> str:
        self._used["annotations"].add(annotation.category.name)
        index = self._classes[annotation.category.name]
        if self.task == "detect":
            x1, y1, x2, y2 = annotation.x1y1x2y2()
            values = [(x1 + x2) / 2 / width, (y1 + y2) / 2 / height]
            values += [(x2 - x1) / width, (y2 - y1) / height]
        else:
            values = [v for x, y in annotation.point_pairs() for v in (x / width, y / height)]
        return f"{index} {' '.join(map(_number, values))}\n"

    def finish(self) -> None:
        labels_only = self._used["labels"] - self._used["annotations"]
        names = [n for n in self._classes if n not in labels_only]
        renumber = {self._classes[n]: i for i, n in enumerate(names)}
        if any(old != new for old, new in renumber.items()):
            self._renumber(renumber)
        self.report["classes"] = names
        self.write_file("data.yaml", _data_yaml(list(self.report["parts"]), names))

    def _renumber(self, renumber: dict[int, int]) -> None:
        """Rewrite every label file with the final class numbers (needed only when a
        category used by labels alone came before a class)."""
        assert self.folder is not None
        for path in sorted(Path(self.folder, "labels").rglob("*.txt")):
            rows = []
            for line in path.read_text(encoding="utf-8").splitlines():
                index, _, rest = line.partition(" ")
                rows.append(f"{renumber[int(index)]} {rest}\n")
            path.write_text("".join(rows), encoding="utf-8")


def _data_yaml(parts: list[str], names: list[str]) -> bytes:
    import yaml

    lines = [
        "# Written by mira. Without 'path', Ultralytics finds the parts beside this file.",
        *(yaml.safe_dump({part: f"images/{part}"}).strip() for part in parts),
        f"nc: {len(names)}",
        yaml.safe_dump({"names": dict(enumerate(names))}, sort_keys=False, allow_unicode=True),
    ]
    return "\n".join(lines).encode("utf-8")
