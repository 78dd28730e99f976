"""A Scene: one image with its annotations, image-level labels, mask regions and metadata.

Scenes are immutable in spirit: operations return new scenes through `assign`. The image
stays encoded (or on disk) until pixels are asked for.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mira.core.annotation import Annotation, Categories, Label, check_metadata
from mira.core.encoding import Encoding
from mira.core.image import Dimensions, ImageSource, encode_image
from mira.core.masks import MaskRegion, apply_masks, check_mask
from mira.errors import ValidationError

KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]*")


def check_key(key: Any) -> str | None:
    """Scene keys name tarball members, so they are plain: letters, digits, '_' and '-'."""
    if key is None:
        return None
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise ValidationError(
            f"scene key {key!r} is invalid: use letters, digits, '_' and '-' (no dots or slashes)"
        )
    return key


def as_image_source(image: Any) -> ImageSource:
    if isinstance(image, ImageSource):
        return image
    if isinstance(image, np.ndarray):
        return ImageSource.from_array(image)
    if isinstance(image, (str, os.PathLike)):
        return ImageSource.from_path(image)
    if isinstance(image, (bytes, bytearray, memoryview)):
        return ImageSource.from_bytes(bytes(image))
    raise ValidationError(
        f"scene image must be an array, a path, encoded bytes or an ImageSource, "
        f"got {type(image).__name__}"
    )


class Scene:
    """One image and everything known about it."""

    def __init__(
        self,
        categories: Categories | Iterable[str],
        image: Any,
        annotations: Iterable[Annotation] | None = None,
        metadata: Mapping[str, Any] | None = None,
        cache: bool = False,
        masks: Iterable[Mapping[str, Any]] | None = None,
        labels: Iterable[Label] | None = None,
        key: str | None = None,
    ) -> None:
        if not isinstance(cache, bool):
            raise ValidationError(f"cache must be True or False, got {cache!r}")
        self._key = check_key(key)
        self._categories = Categories.from_categories(categories)
        self._source = as_image_source(image)
        self._cache = cache
        self.annotations = annotations  # type: ignore[assignment]
        self.labels = labels  # type: ignore[assignment]
        self.masks = masks  # type: ignore[assignment]
        self.metadata = metadata  # type: ignore[assignment]
        self._tfile: str | None = None

    def _where(self) -> str:
        return f"scene {self._key}" if self._key else "scene"

    def _checked(self, kind: str, items: Iterable[Any] | None, cls: type) -> list[Any]:
        items = list(items or [])
        for i, item in enumerate(items):
            if not isinstance(item, cls):
                raise ValidationError(f"{self._where()}: {kind} {i} is not a {cls.__name__}")
            if item.category not in self._categories:
                raise ValidationError(
                    f"{self._where()}: {kind} {i}: category {item.category.name!r} is not in "
                    f"the scene's categories {self._categories.names}"
                )
        return items

    # ------------------------------------------------------------------ fields
    @property
    def key(self) -> str | None:
        """The scene's name inside a tarball (None until a writer numbers it)."""
        return self._key

    @property
    def categories(self) -> Categories:
        return self._categories

    # Fields can be assigned as in the original (`scene.annotations = [...]`); a new value
    # is checked as the constructor checks it.
    @property
    def annotations(self) -> list[Annotation]:
        return self._annotations

    @annotations.setter
    def annotations(self, annotations: Iterable[Annotation] | None) -> None:
        self._annotations = self._checked("annotation", annotations, Annotation)

    @property
    def labels(self) -> list[Label]:
        return self._labels

    @labels.setter
    def labels(self, labels: Iterable[Label] | None) -> None:
        self._labels = self._checked("label", labels, Label)

    @property
    def masks(self) -> list[MaskRegion]:
        return self._masks

    @masks.setter
    def masks(self, masks: Iterable[Mapping[str, Any]] | None) -> None:
        where = self._where()
        self._masks = [check_mask(m, f"{where}: mask {i}") for i, m in enumerate(masks or [])]
        self._tfile = None

    @property
    def metadata(self) -> dict[str, Any]:
        return self._metadata

    @metadata.setter
    def metadata(self, metadata: Mapping[str, Any] | None) -> None:
        self._metadata = check_metadata(metadata, self._where())

    @property
    def cache(self) -> bool:
        return self._cache

    @property
    def image_source(self) -> ImageSource:
        return self._source

    def assign(self, **kwargs: Any) -> Scene:
        """A new scene with the given fields replaced.

        With `categories`, annotations and labels are re-bound by name and those whose
        category is not in the new categories are dropped (with a warning).
        """
        fields: dict[str, Any] = {
            "categories": self._categories,
            "image": self._source,
            "annotations": self._annotations,
            "metadata": self._metadata,
            "cache": self._cache,
            "masks": self._masks,
            "labels": self._labels,
            "key": self._key,
        }
        unknown = kwargs.keys() - fields.keys()
        if unknown:
            raise ValidationError(f"Scene.assign got unknown fields: {sorted(unknown)}")
        fields.update(kwargs)
        if "categories" in kwargs:
            import warnings

            new = Categories.from_categories(kwargs["categories"])
            fields["categories"] = new
            for name in ("annotations", "labels"):
                items = list(fields[name])
                kept = [item.convert(new) for item in items if item.category.name in new]
                if len(kept) < len(items):
                    dropped = sorted({i.category.name for i in items if i.category.name not in new})
                    warnings.warn(
                        f"dropped {len(items) - len(kept)} {name} of categories {dropped}",
                        stacklevel=2,
                    )
                fields[name] = kept
        return Scene(**fields)

    # ------------------------------------------------------------------ pixels
    @property
    def unmasked_image(self) -> np.ndarray:
        """The stored pixels (RGB uint8), decoded now; a copy you may modify."""
        return self._source.decode(keep=self._cache).copy()

    @property
    def image(self) -> np.ndarray:
        """The pixels with the mask regions applied (RGB uint8); a copy you may modify."""
        pixels = self._source.decode(keep=self._cache)
        return apply_masks(pixels, self._masks) if self._masks else pixels.copy()

    @property
    def image_bytes(self) -> bytes:
        """PNG encoding of the masked image."""
        return encode_image(self.image, "png")

    def deferred_image(self) -> Callable[[], np.ndarray]:
        return lambda: self.image

    @property
    def dimensions(self) -> Dimensions:
        """Width and height, read from the image header when possible (no decoding)."""
        return self._source.dimensions

    def filepath(self, directory: str | os.PathLike[str] | None = None) -> str:
        """A file holding this scene's (masked) image: the source file when unmasked,
        otherwise a PNG written once to `directory` and deleted with the scene."""
        if self._source.path is not None and not self._masks:
            return self._source.path
        if self._tfile is None or (
            directory is not None and Path(self._tfile).parent != Path(directory)
        ):
            data = self.image_bytes
            digest = hashlib.sha256(data).hexdigest()[:16]
            fd, name = tempfile.mkstemp(prefix=f"mira-{digest}-", suffix=".png", dir=directory)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            weakref.finalize(self, _unlink_quietly, name)
            self._tfile = name
        return self._tfile

    # ------------------------------------------------------------- annotations
    def scores(self, level: str = "annotation") -> np.ndarray:
        """Scores of annotations or labels; an object array when some are None."""
        if level not in ("annotation", "label"):
            raise ValidationError(f"level must be 'annotation' or 'label', got {level!r}")
        items = self._annotations if level == "annotation" else self._labels
        scores = [item.score for item in items]
        dtype = object if any(s is None for s in scores) else np.float64
        return np.array(scores, dtype=dtype)

    def bboxes(self) -> np.ndarray:
        """(N, 5) float64 rows of x1, y1, x2, y2, class index."""
        return self._categories.bboxes_from_group(self._annotations)

    def segmentation_map(self, binary: bool, threshold: float = 0.5) -> np.ndarray:
        """(C, H, W) float64 map, one plane per category: each annotation whose score (None
        counts as 1) is at least `threshold` fills its pixels with 1, or with binary=False
        its score; later annotations overwrite earlier ones. No pixel is decoded."""
        from mira.ops.render import fill_polygon

        width, height = self.dimensions
        planes = np.zeros((len(self._categories), height, width), dtype=np.float64)
        for ann in self._annotations:
            score = 1.0 if ann.score is None else ann.score
            if score >= threshold:
                value = 1.0 if binary else score
                fill_polygon(planes[self._categories.index(ann.category)], ann.points, value)
        return planes

    def to_qsl(self, filename: str | os.PathLike[str], category_name: str = "category") -> dict:
        """One QSL item for this scene: every annotation as a polygon (boxes as their four
        corners) with coordinates as fractions of the image size; `target` is the file
        name of `filename`, and the metadata `from_qsl` added (`target`) is left out."""
        width, height = self.dimensions
        metadata = {k: v for k, v in self._metadata.items() if k != "target"}
        polygons = [
            {
                "points": [{"x": x / width, "y": y / height} for x, y in ann.point_pairs()],
                "metadata": ann.metadata,
                "labels": {category_name: [ann.category.name]},
            }
            for ann in self._annotations
        ]
        return {
            "target": Path(filename).name,
            "metadata": metadata,
            "labels": {"polygons": polygons},
        }

    # geometry operations: mira/ops/dedupe.py, crop.py, resize.py and tiling.py
    def compute_iou(self, other: Scene) -> np.ndarray:
        """(N, M) IoU of this scene's annotations with `other`'s; negative where classes differ."""
        from mira.ops.dedupe import compute_iou

        return compute_iou(self, other)

    def drop_duplicates(self, threshold: float = 1, method: str = "iou") -> Scene:
        """Drop annotations overlapped at >= threshold by a larger-or-equal one of their class."""
        from mira.ops.dedupe import drop_duplicates

        return drop_duplicates(self, threshold=threshold, method=method)

    def crop(self, x1: int, y1: int, x2: int, y2: int) -> Scene:
        """The pixels in [x1, x2) x [y1, y2), annotations clipped and masks moved along."""
        from mira.ops.crop import crop

        return crop(self, x1, y1, x2, y2)

    def resize(self, resize_config: Mapping[str, Any]) -> Scene:
        """Resize per a ResizeConfig dict; annotations and masks are scaled with the pixels."""
        from mira.ops.resize import resize_scene

        return resize_scene(self, resize_config)

    def to_subcrops(
        self, max_size: int, oversized: str = "error", encoding: Encoding | None = None
    ) -> list[Scene]:
        """Crops of at most max_size that never cut an annotation and hold all of them;
        `encoding` says how they are written (default `keep`, see mira.core.encoding)."""
        from mira.ops.tiling import to_subcrops

        return to_subcrops(self, max_size, oversized=oversized, encoding=encoding)

    def tile(
        self,
        size: int,
        overlap: float = 0.2,
        min_visibility: float = 0.0,
        encoding: Encoding | None = None,
    ) -> list[Scene]:
        """Overlapping size x size windows covering the image, annotations clipped to each."""
        from mira.ops.tiling import tile

        return tile(self, size, overlap, min_visibility, encoding=encoding)

    # augmentation: mira/ops/augment.py
    def augment(
        self, augmenter: Any = None, min_visibility: float | None = None
    ) -> tuple[Scene, np.ndarray]:
        """Augment (masks baked in, annotations following); returns the scene and 3x3 matrix."""
        from mira.ops.augment import augment_scene

        return augment_scene(self, augmenter, min_visibility=min_visibility)[:2]

    # drawing: mira/ops/render.py and mira/ops/placeholder.py
    def annotated(
        self,
        dpi: float = 72,
        fontsize: str | float | None = "x-large",
        labels: bool = True,
        opaque: bool = False,
        color: tuple[int, int, int] | None = None,
    ) -> np.ndarray:
        """The image (same size, RGB) with annotations drawn; `color`: one colour for all,
        None: a colour per category."""
        from mira.ops.render import annotate

        return annotate(self, dpi=dpi, fontsize=fontsize, labels=labels, opaque=opaque, color=color)

    def show(self, annotation_kwargs: Mapping[str, Any] | None = None, **imshow_kwargs: Any) -> Any:
        """Show `annotated(**annotation_kwargs)` with matplotlib (the optional `plot` extra)."""
        from mira.ops.render import show

        return show(self, annotation_kwargs, **imshow_kwargs)

    def show_annotations(self, **subplots_kwargs: Any) -> Any:
        """`(fig, axes)` with one matplotlib row per annotation's crop; None without any."""
        from mira.ops.render import show_annotations

        return show_annotations(self, **subplots_kwargs)

    def to_placeholder(
        self, colormap: Any = None, background: Any = 255, encoding: Encoding | None = None
    ) -> Scene:
        """The scene on a blank image of the same size (PNG unless `encoding` says
        otherwise), each annotation filled in its colour."""
        from mira.ops.placeholder import PNG, to_placeholder

        return to_placeholder(self, colormap, background, encoding or PNG)

    # legacy protobuf: the original library's serialisation (mira/formats/tar_legacy.py)
    def toString(self) -> tuple[bytes, bytes]:
        """`(protobuf_bytes, png_bytes)` as the original library's `toString` gives them."""
        from mira.formats.tar_legacy import scene_to_string

        return scene_to_string(self)

    @classmethod
    def fromString(cls, string: bytes, image: bytes | str | None = None) -> Scene:
        """A scene from the original's protobuf bytes and its image (bytes or a path)."""
        from mira.formats.tar_legacy import decode_legacy_scene

        return decode_legacy_scene(string, image)

    @classmethod
    def load(cls, filepath: str | os.PathLike[str], image: bytes | str | None = None) -> Scene:
        """A scene from a protobuf file written by the original library."""
        from mira.formats.tar_legacy import load_legacy_scene

        return load_legacy_scene(filepath, image)

    # QSL: labelling projects (mira/formats/qsl.py)
    @classmethod
    def from_qsl(
        cls, item: Mapping[str, Any], label_key: str, categories: Any = None, base_dir: Any = None
    ) -> Scene:
        """A scene from one QSL image item (categories inferred when not given)."""
        from mira.formats.qsl import scene_from_qsl

        return scene_from_qsl(item, label_key, categories, base_dir)

    def __repr__(self) -> str:
        return (
            f"Scene(key={self._key!r}, image={self._source!r}, "
            f"annotations={len(self._annotations)}, labels={len(self._labels)})"
        )


@contextlib.contextmanager
def scene_writer(filename: str | os.PathLike[str]) -> Iterator[Callable[[Scene], str]]:
    """`with scene_writer(path) as add_scene: add_scene(scene)`: the original's streaming
    writer, over `mira.formats.SceneWriter` (a native tarball, written atomically)."""
    from mira.formats import SceneWriter

    with SceneWriter(filename) as writer:
        yield writer.write


def __getattr__(name: str) -> Any:
    """`from mira.core.scene import SceneCollection` works, as in the original (the class
    lives in mira/core/collection.py, which imports this module)."""
    if name == "SceneCollection":
        from mira.core.collection import SceneCollection

        return SceneCollection
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
