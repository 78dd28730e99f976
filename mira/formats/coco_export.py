"""Scenes → a COCO dataset folder: ``annotations/instances_<part>.json`` and
``images/<part>/``, one part per input, read by pycocotools, Detectron2, MMDetection.

What an import kept in ``coco`` metadata comes back (see `mira.formats.coco`): image,
annotation and category ids, file names, ``supercategory``, licences, ``info`` and every
extra field. Anything else gets new values: ids count up from 1 past those taken, a
category's id is its place in the class list (from 1) when free, an image is named after
its scene key. A taken id or name is never reused within a file; each one changed is
counted under ``ids_changed``. Metadata outside ``coco`` is not written (it would mix
with COCO's own fields). Categories used only by image-level labels are not
written (COCO has no image labels: labels and mask regions are counted under
``not_written``). Every part's file has the same categories, in category order.

Each part's images and annotations are written to temporary files as scenes come, and the
JSON is put together at the end, when every category id is known.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from typing import IO, Any

from mira.errors import ValidationError
from mira.formats.export_names import ExportNames, recorded_name
from mira.formats.layout import DatasetFolder
from mira.formats.tar_native import json_default

_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=json_default
)


def dumps(value: Any, where: str) -> str:
    try:
        return _ENCODER.encode(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{where}: cannot be written as JSON: {exc}") from None


class Ids:
    """Unique ids within one file: a wanted id when free, else the next free one."""

    def __init__(self) -> None:
        self.used: set[int] = set()
        self.next = 1
        self.changed = 0

    def claim(self, wanted: Any) -> int:
        if type(wanted) is int and wanted not in self.used:
            self.used.add(wanted)
            return wanted
        if wanted is not None:
            self.changed += 1
        while self.next in self.used:
            self.next += 1
        self.used.add(self.next)
        return self.next


@dataclass
class _PartFiles:
    images: IO[str]
    annotations: IO[str]
    names: ExportNames
    image_ids: Ids = field(default_factory=Ids)
    annotation_ids: Ids = field(default_factory=Ids)
    info: Any = None
    licenses: dict[str, Any] = field(default_factory=dict)
    count: int = 0


def _metadata(item: Any) -> dict[str, Any]:
    coco = item.metadata.get("coco")
    return coco if isinstance(coco, dict) else {}


class Exporter(DatasetFolder):
    """`mira export coco`: one ``instances_<part>.json`` per part (see the module)."""

    def __init__(
        self, out_dir: Any, *, images: str = "copy", force: bool = False, inputs: Any = ()
    ):
        super().__init__(out_dir, images=images, force=force, inputs=inputs)
        self.report["not_written"] = {"labels": 0, "masks": 0}
        self.report["ids_changed"] = {"images": 0, "annotations": 0, "categories": 0}
        self._category_index: dict[str, int] = {}
        self._category_entries: dict[str, dict[str, Any]] = {}
        self._used: dict[str, set[str]] = {"annotations": set(), "labels": set()}
        self._parts: dict[str, _PartFiles] = {}

    def start_part(self, part: str) -> None:
        self._parts[part] = _PartFiles(
            tempfile.TemporaryFile("w+", encoding="utf-8", prefix="mira-coco-"),
            tempfile.TemporaryFile("w+", encoding="utf-8", prefix="mira-coco-"),
            ExportNames(f"{self.target}: images/{part}", self.report["images"]),
        )

    def add(self, scene: Any, part: str) -> None:
        files = self._parts[part]
        coco = _metadata(scene)
        for name in scene.categories.names:
            self._category_index.setdefault(name, len(self._category_index))
        entries = coco.get("categories")
        if isinstance(entries, dict):
            for name, entry in entries.items():
                if isinstance(entry, dict):
                    self._category_entries.setdefault(name, entry)
        image = coco.get("image") if isinstance(coco.get("image"), dict) else {}
        name = files.names.pick(scene, recorded_name(scene, "coco"))
        self.write_image(f"images/{part}/{name}", scene)
        image_id = files.image_ids.claim(image.get("id"))
        width, height = scene.dimensions
        where = f"scene {scene.key}"
        entry = {**image, "id": image_id, "file_name": name, "width": width, "height": height}
        files.images.write(("" if files.count == 0 else ",\n") + dumps(entry, where))
        files.count += 1
        if files.info is None and coco.get("info") is not None:
            files.info = coco["info"]
        license_entry = coco.get("license")
        if isinstance(license_entry, dict):
            files.licenses.setdefault(repr(license_entry.get("id")), license_entry)
        for group in _objects(scene.annotations):
            self._write_object(group, files, image_id, (width, height), where)
        for label in scene.labels:
            self._used["labels"].add(label.category.name)
        self.report["not_written"]["labels"] += len(scene.labels)
        self.report["not_written"]["masks"] += len(scene.masks)

    def _write_object(
        self, group: list[Any], files: _PartFiles, image_id: int, size: tuple[int, int], where: str
    ) -> None:
        from mira.formats.coco_geometry import to_coco

        meta = _metadata(group[0])
        category = group[0].category.name
        self._used["annotations"].add(category)
        head = {"id": files.annotation_ids.claim(meta.get("id")), "image_id": image_id}
        tail: dict[str, Any] = to_coco(group, *size)
        tail["iscrowd"] = meta.get("iscrowd", 0)
        tail.update((k, v) for k, v in meta.items() if k not in ("id", "rle", "iscrowd"))
        if group[0].score is not None:
            tail["score"] = group[0].score
        index = self._category_index[category]
        files.annotations.write(f"{index}\t{dumps(head, where)[:-1]}\t{dumps(tail, where)[1:]}\n")

    def finish(self) -> None:
        ids = self._category_ids()
        categories = []
        for name, category_id in ids.items():
            extra = {k: v for k, v in self._category_entries.get(name, {}).items() if k != "id"}
            categories.append({"id": category_id, "name": name, **extra})
        names_by_index = {index: name for name, index in self._category_index.items()}
        for part, files in self._parts.items():
            self.report["ids_changed"]["images"] += files.image_ids.changed
            self.report["ids_changed"]["annotations"] += files.annotation_ids.changed
            self._write_part(part, files, categories, ids, names_by_index)

    def _category_ids(self) -> dict[str, int]:
        """Category name → id for every category that is not used by labels alone."""
        labels_only = self._used["labels"] - self._used["annotations"]
        names = [n for n in self._category_index if n not in labels_only]
        claimed = Ids()
        ids: dict[str, int] = {}
        for name in names:  # ids kept from the source first, then the others
            wanted = self._category_entries.get(name, {}).get("id")
            if type(wanted) is int and wanted not in claimed.used:
                ids[name] = claimed.claim(wanted)
            elif wanted is not None:
                self.report["ids_changed"]["categories"] += 1
        for place, name in enumerate(names, start=1):
            if name not in ids:
                ids[name] = claimed.claim(place)
        return {name: ids[name] for name in names}

    def _write_part(
        self,
        part: str,
        files: _PartFiles,
        categories: list[dict[str, Any]],
        ids: dict[str, int],
        names_by_index: dict[int, str],
    ) -> None:
        where = f"part {part}"
        with open(self.path(f"annotations/instances_{part}.json"), "w", encoding="utf-8") as out:
            out.write("{")
            if files.info is not None:
                out.write(f'"info":{dumps(files.info, where)},\n')
            out.write(f'"licenses":{dumps(list(files.licenses.values()), where)},\n')
            out.write(f'"categories":{dumps(categories, where)},\n"images":[\n')
            files.images.seek(0)
            _copy(files.images, out)
            out.write('\n],\n"annotations":[\n')
            files.annotations.seek(0)
            first = True
            for line in files.annotations:
                index, head, tail = line.rstrip("\n").split("\t")
                category_id = ids[names_by_index[int(index)]]
                out.write(("" if first else ",\n") + f'{head},"category_id":{category_id},{tail}')
                first = False
            out.write("\n]}\n")
        files.images.close()
        files.annotations.close()


def _copy(source: IO[str], out: IO[str]) -> None:
    while chunk := source.read(1 << 20):
        out.write(chunk)


def _objects(annotations: list[Any]) -> list[list[Any]]:
    """Annotations grouped into COCO objects: consecutive ones of one category with the
    same ``coco.id`` are the rings (or mask parts) of one object."""
    groups: list[list[Any]] = []
    previous: Any = None
    for annotation in annotations:
        key = _metadata(annotation).get("id")
        if (
            groups
            and key is not None
            and key == previous
            and annotation.category == groups[-1][0].category
        ):
            groups[-1].append(annotation)
        else:
            groups.append([annotation])
        previous = key
    return groups
