"""A SceneCollection: an ordered list of scenes that share one set of categories."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from mira.core.annotation import Annotation, Categories, Label
from mira.core.scene import Scene
from mira.errors import ValidationError

PathLike = str | os.PathLike[str]


class SceneCollection:
    """Scenes with consistent categories; behaves like a list of scenes."""

    def __init__(
        self,
        scenes: Iterable[Scene],
        categories: Categories | Iterable[str] | None = None,
    ) -> None:
        scenes = list(scenes)
        if categories is None:
            if not scenes:
                raise ValidationError("an empty SceneCollection needs explicit categories")
            categories = scenes[0].categories
        self._categories = Categories.from_categories(categories)
        for i, scene in enumerate(scenes):
            if not isinstance(scene, Scene):
                raise ValidationError(f"scene {i} of {len(scenes)} is not a Scene")
            if scene.categories != self._categories:
                raise ValidationError(
                    f"scene {i} of {len(scenes)} ({scene.key or 'no key'}) has categories "
                    f"{scene.categories.names}, expected {self._categories.names}"
                )
        self._scenes = scenes

    # ------------------------------------------------------------ container
    @property
    def scenes(self) -> list[Scene]:
        return self._scenes

    @property
    def categories(self) -> Categories:
        return self._categories

    def __len__(self) -> int:
        return len(self._scenes)

    def __iter__(self) -> Iterator[Scene]:
        return iter(self._scenes)

    def __getitem__(self, index: int | slice) -> Any:
        return self._scenes[index]

    def __setitem__(self, index: int, scene: Scene) -> None:
        if not isinstance(scene, Scene) or scene.categories != self._categories:
            raise ValidationError(f"scene for index {index} must share the collection's categories")
        self._scenes[index] = scene

    def __repr__(self) -> str:
        return f"SceneCollection({len(self)} scenes, categories={self._categories.names})"

    def assign(self, **kwargs: Any) -> SceneCollection:
        """A new collection; with `categories`, every scene is converted (see Scene.assign)."""
        unknown = kwargs.keys() - {"scenes", "categories"}
        if unknown:
            raise ValidationError(f"SceneCollection.assign got unknown fields: {sorted(unknown)}")
        scenes = kwargs.get("scenes", self._scenes)
        if "categories" in kwargs:
            categories = Categories.from_categories(kwargs["categories"])
            scenes = [s.assign(categories=categories) for s in scenes]
            return SceneCollection(scenes, categories)
        return SceneCollection(scenes, self._categories)

    def merge(
        self, *others: SceneCollection, prefix_keys: Sequence[str] | None = None
    ) -> SceneCollection:
        """This collection's scenes, then each other's, with the union of the categories (by
        name, in order of first appearance); `prefix_keys`: one key prefix per collection.
        A key two scenes share is an error (see mira/ops/merge.py)."""
        from mira.ops.merge import merge_collections

        return merge_collections([self, *others], prefix_keys)

    def filter(self, path: str | Sequence[str], value: Any) -> SceneCollection:
        """Scenes whose metadata at `path` (a key, a dotted path or a list of keys) equals value."""
        keys = path.split(".") if isinstance(path, str) else list(path)

        def matches(scene: Scene) -> bool:
            node: Any = scene.metadata
            for key in keys:
                if not isinstance(node, dict) or key not in node:
                    return False
                node = node[key]
            return bool(node == value)

        return self.assign(scenes=[s for s in self._scenes if matches(s)])

    # ------------------------------------------------------------ summaries
    def annotation_groups(self) -> list[list[Annotation]]:
        return [list(s.annotations) for s in self._scenes]

    def label_groups(self) -> list[list[Label]]:
        return [list(s.labels) for s in self._scenes]

    def annotation_sizes(self) -> list[np.ndarray]:
        """Per scene, an (n, 2) array of annotation widths and heights."""
        return [
            np.array([[a.x2 - a.x1, a.y2 - a.y1] for a in s.annotations], dtype=np.float64).reshape(
                -1, 2
            )
            for s in self._scenes
        ]

    def image_sizes(self) -> np.ndarray:
        """(N, 2) int array of [width, height], from headers when possible."""
        return np.array([tuple(s.dimensions) for s in self._scenes], dtype=np.int64).reshape(-1, 2)

    def uniform(self) -> bool:
        return len({tuple(s.dimensions) for s in self._scenes}) <= 1

    def consistent(self) -> bool:
        return all(s.categories == self._categories for s in self._scenes)

    def images(self) -> list[np.ndarray]:
        """Every scene's masked image: decodes them all, so prefer iterating for big data."""
        return [s.image for s in self._scenes]

    def deferred_images(self) -> list[Callable[[], np.ndarray]]:
        return [s.deferred_image() for s in self._scenes]

    def onehot(self, binary: bool = True) -> np.ndarray:
        """(N, C) float32 image-level label matrix; with binary=False, the max score (None → 1)."""
        from mira.core.annotation import labels2onehot

        rows = [labels2onehot(s.labels, self._categories, binary) for s in self._scenes]
        return np.array(rows, dtype=np.float32).reshape(-1, len(self._categories))

    def sample(self, n: int, replace: bool = True, random_state: int = 42) -> SceneCollection:
        """n scenes drawn with a local, seeded generator (the same draw in every process)."""
        if n < 0 or (not replace and n > len(self)):
            raise ValidationError(f"cannot sample {n} scenes from {len(self)} (replace={replace})")
        rng = np.random.default_rng(random_state)
        indices = rng.choice(len(self), size=n, replace=replace) if len(self) else []
        return self.assign(scenes=[self._scenes[int(i)] for i in indices])

    # augmentation: mira/ops/augment.py
    def augment(self, augmenter: Any, **kwargs: Any) -> tuple[SceneCollection, np.ndarray]:
        """Augment every scene once (kwargs: min_visibility, seed); matrices are (N, 3, 3)."""
        from mira.ops.augment import augment_collection

        return augment_collection(self, augmenter, **kwargs)

    # ------------------------------------------------------------ storage
    def save(
        self,
        filename: PathLike,
        format: str = "native",
        shard_size: int | None = None,
        force: bool = True,
    ) -> None:
        """Write a tarball atomically and deterministically (see mira.formats.SceneWriter)."""
        from mira.formats import SceneWriter

        with SceneWriter(filename, force=force, shard_size=shard_size, format=format) as writer:
            for scene in self._scenes:
                writer.write(scene)

    # drawing: mira/ops/placeholder.py
    def save_placeholder(
        self,
        filename: PathLike,
        colormap: Any = None,
        background: Any = 255,
        force: bool = True,
        image_format: str = "png",
        quality: int | None = None,
    ) -> dict[str, Any]:
        """Save blank same-size images (PNG by default) with annotations filled in category
        colours (a report)."""
        from mira.pipeline.jobs import save_placeholder

        return save_placeholder(
            self._scenes,
            filename,
            colormap,
            background,
            force=force,
            image_format=image_format,
            quality=quality,
        )

    # operations: mira/ops/split.py
    def split(
        self,
        sizes: Sequence[float],
        random_state: int = 42,
        stratify: Sequence[Any] | str | None = None,
        group: Sequence[Any] | str | None = None,
        preserve: Sequence[int | None] | None = None,
    ) -> list[SceneCollection]:
        """One collection per size: exact, group-safe, stratified, reproducible splits.

        `stratify`/`group` are per-scene values or a KEY (`categories`, `metadata.PATH`).
        """
        from mira.ops.split import split_collection

        return split_collection(self, sizes, random_state, stratify, group, preserve)

    @classmethod
    def load(
        cls,
        filename: PathLike | Sequence[PathLike],
        directory: PathLike | None = None,
        force: bool = False,
    ) -> SceneCollection:
        """Read a tarball (any layout), shards or a glob; images stay encoded until used.

        With `directory`, images are extracted there (safely) and scenes point at the files;
        an existing directory is reused only when it was extracted from this same tarball.
        """
        from mira.formats import extract_scenes, read_collection

        if directory is not None:
            return extract_scenes(filename, directory, force=force)
        return read_collection(filename)

    @classmethod
    def load_from_directory(cls, directory: PathLike) -> SceneCollection:
        """A collection previously extracted by `load(filename, directory=...)`."""
        from mira.formats import load_extracted

        return load_extracted(directory)

    # QSL: labelling projects (mira/formats/qsl.py)
    @classmethod
    def from_qsl(
        cls, jsonpath: PathLike, label_key: str | None = None, base_dir: PathLike | None = None
    ) -> SceneCollection:
        """A collection from a QSL project (label_key optional with one region config)."""
        from mira.formats.qsl import load_qsl

        return load_qsl(jsonpath, label_key, base_dir)[0]

    # Interchange formats, one module each in mira.formats (coco, yolo, voc, cvat,
    # labelstudio): `from_<format>` is `mira import`, `to_<format>` is `mira export` of
    # this collection as one part; each `to_` returns the export's report.
    @classmethod
    def from_coco(
        cls,
        jsonpath: PathLike,
        images_dir: PathLike | None = None,
        skip_missing: bool = False,
        results: PathLike | None = None,
    ) -> SceneCollection:
        """A collection from a COCO instances file (with `results`, its scored annotations)."""
        options = {"results": results}
        return _load("coco", jsonpath, images_dir, skip_missing, options)

    def to_coco(
        self, out_dir: PathLike, part: str = "train", images: str = "copy", force: bool = False
    ) -> dict[str, Any]:
        """Write annotations/instances_<part>.json and images/<part>/."""
        return self._export("coco", out_dir, part, images, force, {})

    @classmethod
    def from_yolo(
        cls,
        source: PathLike,
        part: str | None = None,
        images_dir: PathLike | None = None,
        skip_missing: bool = False,
    ) -> SceneCollection:
        """A collection from an Ultralytics data.yaml: every part, or only `part`."""
        return _load("yolo", source, images_dir, skip_missing, {"part": part})

    def to_yolo(
        self,
        out_dir: PathLike,
        part: str = "train",
        task: str = "detect",
        images: str = "copy",
        force: bool = False,
    ) -> dict[str, Any]:
        """Write an Ultralytics dataset (data.yaml, images/<part>/, labels/<part>/)."""
        return self._export("yolo", out_dir, part, images, force, {"task": task})

    @classmethod
    def from_voc(
        cls,
        source: PathLike,
        images_dir: PathLike | None = None,
        image_set: str | None = None,
        categories: Sequence[str] | None = None,
        skip_missing: bool = False,
    ) -> SceneCollection:
        """A collection from a Pascal VOC folder (Annotations/, JPEGImages/, ImageSets/)."""
        options = {"image_set": image_set, "categories": categories}
        return _load("voc", source, images_dir, skip_missing, options)

    def to_voc(
        self, out_dir: PathLike, part: str = "default", images: str = "copy", force: bool = False
    ) -> dict[str, Any]:
        """Write a Pascal VOC folder (one XML per image, ImageSets/Main/<part>.txt)."""
        return self._export("voc", out_dir, part, images, force, {})

    @classmethod
    def from_cvat(
        cls, source: PathLike, images_dir: PathLike | None = None, skip_missing: bool = False
    ) -> SceneCollection:
        """A collection from a CVAT for images 1.1 annotations.xml (or its folder)."""
        return _load("cvat", source, images_dir, skip_missing, {})

    def to_cvat(
        self, out_dir: PathLike, part: str = "default", images: str = "copy", force: bool = False
    ) -> dict[str, Any]:
        """Write a CVAT for images 1.1 folder (annotations.xml, images/)."""
        return self._export("cvat", out_dir, part, images, force, {})

    @classmethod
    def from_labelstudio(
        cls,
        source: PathLike,
        images_dir: PathLike | None = None,
        pre_annotations: str = "annotations",
        image_key: str | None = None,
        categories: Sequence[str] | None = None,
        skip_missing: bool = False,
    ) -> SceneCollection:
        """A collection from a Label Studio JSON export."""
        options = {
            "pre_annotations": pre_annotations,
            "image_key": image_key,
            "categories": categories,
        }
        return _load("labelstudio", source, images_dir, skip_missing, options)

    def to_labelstudio(
        self,
        out_dir: PathLike,
        part: str = "default",
        pre_annotations: str = "predictions",
        url_prefix: str = "",
        images: str = "copy",
        force: bool = False,
    ) -> dict[str, Any]:
        """Write Label Studio tasks (with pre-annotations), images and a labelling config."""
        options = {"pre_annotations": pre_annotations, "url_prefix": url_prefix}
        return self._export("labelstudio", out_dir, part, images, force, options)

    def _export(
        self,
        fmt: str,
        out_dir: PathLike,
        part: str,
        images: str,
        force: bool,
        options: dict[str, Any],
    ) -> dict[str, Any]:
        from mira.pipeline.jobs import export_scenes

        parts = {part: self._scenes}
        return export_scenes(fmt, parts, out_dir, images=images, force=force, **options)


def _load(
    fmt: str,
    source: PathLike,
    images_dir: PathLike | None,
    skip_missing: bool,
    options: dict[str, Any],
) -> SceneCollection:
    from mira.formats.interchange import load

    given = {k: v for k, v in options.items() if v is not None}
    return load(fmt, source, images_dir=images_dir, skip_missing=skip_missing, **given)[0]
