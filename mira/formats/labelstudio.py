"""Label Studio JSON: exports read as a stream (`iter_labelstudio`), tasks written
(`Exporter`). Regions and their coordinates: `mira.formats.labelstudio_regions`.

Reading. SOURCE is the file of a Label Studio "JSON" export: a list of tasks, parsed one
task at a time (ijson), so memory holds one task whatever the file's size. A first pass
reads the whole file to check it and find the categories (the label names used, sorted),
unless `categories` names them. From each task mira reads the first annotation that was
not cancelled, or with ``pre_annotations="predictions"`` the first prediction; further
ones are counted under ``unsupported``, and a task with none is skipped and counted
(``unlabelled``, or ``cancelled`` when every annotation was).

The image is the task's ``data[image_key]`` (default ``image``; a task whose data holds
one value needs no key). A relative path is found under `images_dir`, by default the
export file's folder. A path Label Studio serves (``/data/upload/3/a.jpg``,
``/data/local-files/?d=dir/a.jpg``) or a URL (``s3://bucket/dir/a.jpg``) needs
`images_dir`, a local copy: the image is ``images_dir/<path>`` (``upload/3/a.jpg``,
``dir/a.jpg``), else ``images_dir/<file name>``. The task's id and image reference are
kept in ``metadata["labelstudio"]``. Percentages are taken of the image file's size.

Writing. ``<part>.json`` (the tasks of a part, as Label Studio imports them),
``images/<part>/<name>`` and ``labeling_config.xml`` (an Image with RectangleLabels,
PolygonLabels and, when scenes have labels, Choices). Each task's ``data.image`` is
`url_prefix` + ``images/<part>/<name>`` (e.g. ``/data/local-files/?d=ds/`` for a local
files storage); its regions are ``predictions`` (default) or ``annotations``
(`pre_annotations`), with annotation scores.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from xml.etree.ElementTree import Element, SubElement

from mira.core import Categories, Scene
from mira.errors import FormatError, ValidationError
from mira.formats.export_names import ExportNames, recorded_name
from mira.formats.image_files import image_file, image_path
from mira.formats.import_report import category_index, count, count_scene, new_report
from mira.formats.json_depth import CHUNK, DepthGuard
from mira.formats.labelstudio_regions import result_labels, results_to_scene_parts, scene_results
from mira.formats.layout import DatasetFolder
from mira.formats.xml_write import serialise

__all__ = ["PRE_ANNOTATIONS", "Exporter", "file_name", "iter_labelstudio", "read"]

PRE_ANNOTATIONS = ("annotations", "predictions")
SKIP_REASONS = ("unlabelled", "cancelled", "missing")
_SERVED = ("http", "https", "s3", "gs", "gcs", "azure-blob")


def read(
    source: str | os.PathLike[str],
    *,
    images_dir: str | os.PathLike[str] | None = None,
    skip_missing: bool = False,
    report: dict[str, Any] | None = None,
    pre_annotations: str = "annotations",
    image_key: str | None = None,
    categories: Sequence[str] | None = None,
) -> Iterator[Scene]:
    """`mira import labelstudio` (see `mira.formats.interchange`): `iter_labelstudio`."""
    return iter_labelstudio(
        source, images_dir, pre_annotations, image_key, categories, skip_missing, report
    )


def iter_labelstudio(
    source: str | os.PathLike[str],
    images_dir: str | os.PathLike[str] | None = None,
    pre_annotations: str = "annotations",
    image_key: str | None = None,
    categories: Sequence[str] | None = None,
    skip_missing: bool = False,
    report: dict[str, Any] | None = None,
) -> Iterator[Scene]:
    """Scenes of a Label Studio JSON export, keyed 000000, ... in task order (see the
    module docstring). The whole file is checked at once; scenes are built as the
    iterator is consumed, filling `report`."""
    path = os.fspath(source)
    if pre_annotations not in PRE_ANNOTATIONS:
        raise ValidationError(
            f"pre_annotations must be one of {', '.join(PRE_ANNOTATIONS)}; got {pre_annotations!r}"
        )
    if images_dir is not None and not os.path.isdir(images_dir):
        raise ValidationError(f"{os.fspath(images_dir)}: images folder does not exist")
    if categories is None:
        names: set[str] = set()
        for index, task in _tasks(path):
            results = _entry(task, pre_annotations, _where(path, index, task))[0]
            names.update(name for result in results for name in result_labels(result))
        index = category_index(sorted(names), path)
    else:
        index = category_index(categories, "categories")
    report = new_report(report, path, index.names, SKIP_REASONS)
    context = _Context(path, index, images_dir, pre_annotations, image_key, skip_missing, report)
    return _scenes(context)


class _Context:
    def __init__(
        self,
        path: str,
        categories: Categories,
        images_dir: Any,
        which: str,
        image_key: str | None,
        skip_missing: bool,
        report: dict[str, Any],
    ) -> None:
        self.path, self.categories, self.which = path, categories, which
        self.images_dir = None if images_dir is None else os.fspath(images_dir)
        self.base = self.images_dir or os.path.dirname(os.path.abspath(path))
        self.image_key, self.skip_missing, self.report = image_key, skip_missing, report


def _tasks(path: str) -> Iterator[tuple[int, Any]]:
    """(index, task) for every task of the export, parsed one at a time."""
    import ijson

    parsed = 0
    try:
        with open(path, "rb") as file:
            head = file.read(4096).lstrip()
            if head and not head.startswith(b"["):
                raise FormatError(
                    f"{path}: not a Label Studio JSON export: the top level must be a list of tasks"
                )
            file.seek(0)
            tasks = ijson.items(DepthGuard(file, path), "item", use_float=True, buf_size=CHUNK)
            for index, task in enumerate(tasks):
                if not isinstance(task, dict):
                    raise FormatError(f"{path}: task {index}: a task must be an object")
                parsed = index + 1
                yield index, task
    except FileNotFoundError:
        raise FormatError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise FormatError(f"{path}: is a directory, not a Label Studio JSON export") from None
    except ijson.JSONError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise FormatError(f"{path}: invalid JSON in task {parsed}: {reason}") from None


def _where(path: str, index: int, task: dict[str, Any]) -> str:
    return f"{path}: task {index}" + (f" (id {task['id']})" if "id" in task else "")


def _entry(task: dict[str, Any], which: str, where: str) -> tuple[list[Any], str | None, int]:
    """(the results to read, a skip reason or None, how many further usable entries) of
    a task's annotations (the first not cancelled) or predictions (the first)."""
    entries = task.get(which)
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise FormatError(f"{where}: {which!r} must be a list")
    usable = [e for e in entries if isinstance(e, dict) and not e.get("was_cancelled")]
    if not usable:
        return [], "cancelled" if entries else "unlabelled", 0
    results = usable[0].get("result")
    if results is None:
        results = []
    if not isinstance(results, list):
        raise FormatError(f"{where}: {which}[{entries.index(usable[0])}].result must be a list")
    return results, None, len(usable) - 1


def _scenes(ctx: _Context) -> Iterator[Scene]:
    report = ctx.report
    for index, task in _tasks(ctx.path):
        where = _where(ctx.path, index, task)
        results, reason, further = _entry(task, ctx.which, where)
        if reason is not None:
            count(report, "skipped", reason)
            continue
        if further:
            count(report, "unsupported", f"further {ctx.which} of a task", further)
        reference = _reference(task, ctx.image_key, where)
        source = image_file(_image_path(reference, ctx, where), where, ctx.skip_missing)
        if source is None:
            count(report, "skipped", "missing")
            continue
        annotations, labels = results_to_scene_parts(
            results, source.dimensions, ctx.categories, where, report
        )
        recorded: dict[str, Any] = {"image": reference}
        if "id" in task:
            recorded = {"task": task["id"], **recorded}
        key = f"{report['scenes']:06d}"
        scene = Scene(
            ctx.categories, source, annotations, {"labelstudio": recorded}, labels=labels, key=key
        )
        yield count_scene(report, scene)


def _reference(task: dict[str, Any], key: str | None, where: str) -> str:
    data = task.get("data")
    if not isinstance(data, dict):
        raise FormatError(f"{where}: 'data' must be an object")
    if key is None:
        key = "image" if "image" in data or len(data) != 1 else next(iter(data))
    value = data.get(key)
    if not isinstance(value, str) or not value:
        keys = ", ".join(map(str, data)) or "none"
        raise FormatError(
            f"{where}: data has no image {key!r} (keys: {keys}); name it with image_key"
        )
    return value


def _served_path(parts: Any) -> str:
    """The path inside a Label Studio or storage URL (``upload/3/a.jpg``, ``dir/a.jpg``)."""
    if parts.path.startswith("/data/local-files"):
        return parse_qs(parts.query).get("d", [""])[0]
    if parts.path.startswith("/data/"):
        return unquote(parts.path[len("/data/") :])
    return unquote(parts.path).lstrip("/")


def _is_served(reference: str, parts: Any) -> bool:
    return parts.scheme.lower() in _SERVED or reference.startswith("/data/")


def file_name(reference: str) -> str:
    """The file name an image reference ends with ("" when it has none)."""
    parts = urlsplit(reference)
    path = _served_path(parts) if _is_served(reference, parts) else reference
    return PurePosixPath(path).name


def _image_path(reference: str, ctx: _Context, where: str) -> str:
    """Where the image a task names is on this machine (see the module docstring)."""
    if reference.startswith("data:"):
        raise FormatError(f"{where}: images in data: URIs are not supported")
    parts = urlsplit(reference)
    if not _is_served(reference, parts):
        return image_path(ctx.base, reference, where)
    relative = _served_path(parts)
    if ctx.images_dir is None:
        raise FormatError(
            f"{where}: image {reference!r} is served by Label Studio or a storage; put a copy "
            "of the images in a folder and give it as images_dir (--images-dir)"
        )
    nested = image_path(ctx.images_dir, relative, where)
    if os.path.exists(nested):
        return nested
    return image_path(ctx.images_dir, PurePosixPath(relative).name, where)


class Exporter(DatasetFolder):
    """`mira export labelstudio`: the layout of the module docstring, written atomically."""

    def __init__(
        self,
        out_dir: str | os.PathLike[str],
        *,
        pre_annotations: str = "predictions",
        url_prefix: str = "",
        **options: Any,
    ) -> None:
        if pre_annotations not in PRE_ANNOTATIONS:
            raise ValidationError(
                f"pre_annotations must be one of {', '.join(PRE_ANNOTATIONS)}; "
                f"got {pre_annotations!r}"
            )
        super().__init__(out_dir, **options)
        self.which, self.url_prefix = pre_annotations, url_prefix
        self.names = ExportNames(self.target, self.report["images"])
        self.report["not_written"] = dict.fromkeys(("scores", "masks", "metadata"), 0)
        #: every category in first-seen order, and those annotations and labels use.
        self.order: dict[str, None] = {}
        self.annotated: set[str] = set()
        self.labelled: set[str] = set()
        self.started: dict[str, bool] = {}

    def start_part(self, part: str) -> None:
        self.write_file(f"{part}.json", b"[")
        self.started[part] = False

    def add(self, scene: Scene, part: str) -> None:
        self.order.update(dict.fromkeys(scene.categories.names))
        self.annotated.update(a.category.name for a in scene.annotations)
        self.labelled.update(label.category.name for label in scene.labels)
        name = self.names.pick(scene, recorded_name(scene, "labelstudio", flat=True))
        location = f"images/{part}/{name}"
        self.write_image(location, scene)
        results = scene_results(scene, self.report)
        self.report["not_written"]["masks"] += len(scene.masks)
        task = {"data": {"image": self.url_prefix + location}, self.which: [{"result": results}]}
        text = json.dumps(task, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        with open(self.path(f"{part}.json"), "a", encoding="utf-8") as tasks:
            tasks.write(("," if self.started[part] else "") + "\n" + text)
        self.started[part] = True

    def finish(self) -> None:
        for part in self.started:
            with open(self.path(f"{part}.json"), "a", encoding="utf-8") as tasks:
                tasks.write("\n]\n")
        self.write_file("labeling_config.xml", serialise(self._config()))

    def _config(self) -> Element:
        """A labelling configuration the tasks fit: region controls for the categories
        annotations use (and unused ones), Choices for those only labels use."""
        regions = [n for n in self.order if n in self.annotated or n not in self.labelled]
        choices = [n for n in self.order if n in self.labelled]
        view = Element("View")
        SubElement(view, "Image", {"name": "image", "value": "$image"})
        controls = [("RectangleLabels", "label", "Label", regions)]
        controls.append(("PolygonLabels", "polygon", "Label", regions))
        if choices:
            controls.append(("Choices", "choice", "Choice", choices))
        for tag, control, item, names in controls:
            element = SubElement(view, tag, {"name": control, "toName": "image"})
            if tag == "Choices":
                element.set("choice", "multiple")
            for name in names:
                SubElement(element, item, {"value": name})
        return view
