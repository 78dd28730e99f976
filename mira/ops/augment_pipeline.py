"""Build, load and seed albumentations pipelines for `Scene.augment`.

mira feeds a pipeline its own boxes and points, so the pipeline must be told how they are
encoded: boxes as ``pascal_voc`` (x1, y1, x2, y2 in pixels) labelled by ``bbox_indices``,
points as ``xy`` labelled by ``keypoint_indices`` and never removed (a point that leaves the
image still shapes its polygon). `compose` and `load_pipeline` set exactly that, whatever a
pipeline file says; the file's other box options (``min_area``, ``min_visibility``, ...)
are kept. A transform that cannot move boxes and points (albumentations' 3D transforms,
``OverlayElements``) would leave annotations behind while the pixels move, so it is refused,
and so is a reflecting border (see `transform_problem`).

albumentations is imported lazily: the CLI imports this module at start-up.
"""

from __future__ import annotations

import difflib
import json
import os
import random
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mira.errors import ConfigError, ValidationError

BBOX_LABEL = "bbox_indices"
KEYPOINT_LABEL = "keypoint_indices"
#: Extra data given to albumentations pipelines: (P, 3) rows (annotation, first keypoint,
#: end) saying which keypoints make up each annotation part (see mira.core.augmentations).
PARTS_KEY = "mira_parts"
_COMPOSE_KEYS = {
    "transforms",
    "bbox_params",
    "keypoint_params",
    "additional_targets",
    "is_check_shapes",
    "p",
    "strict",
    "mask_interpolation",
    "seed",
    "save_applied_params",
}
_FORMAT_HINT = (
    "expected albumentations' serialised form (as written by albumentations.save): "
    "a mapping with a 'transform' entry whose '__class_fullname__' names a transform"
)


def albumentations() -> Any:
    """The albumentations module, imported without its update check.

    albumentations asks PyPI for a newer version when it is imported: a network call from a
    data job, made again by every worker process, and slow or failing offline. mira turns
    it off unless NO_ALBUMENTATIONS_UPDATE is already set; worker processes inherit that.
    """
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    import albumentations as A

    return A


def bbox_params(options: Mapping[str, Any] | None = None) -> Any:
    """BboxParams mira needs, keeping a pipeline's own filtering options (min_area, ...)."""
    A = albumentations()

    kept = dict(options or {})
    for name in ("format", "label_fields", "clip", "filter_invalid_bboxes"):
        kept.pop(name, None)
    # clip: annotations that stick out of the source image must not make albumentations fail.
    return A.BboxParams(
        format="pascal_voc",
        label_fields=[BBOX_LABEL],
        clip=True,
        filter_invalid_bboxes=True,
        **kept,
    )


def keypoint_params() -> Any:
    """KeypointParams mira needs: plain xy points, labelled, never removed."""
    A = albumentations()

    return A.KeypointParams(format="xy", label_fields=[KEYPOINT_LABEL], remove_invisible=False)


def compose(
    transforms: Sequence[Any],
    *,
    bbox_options: Mapping[str, Any] | None = None,
    p: float = 1.0,
    seed: int | None = None,
) -> Any:
    """An ``A.Compose`` of `transforms` ready for `Scene.augment` (right box/point params).

    `bbox_options` are extra BboxParams fields such as ``min_area``; `seed` seeds the
    pipeline (the CLI reseeds it for every scene and copy, see `reseed`).
    """
    A = albumentations()

    problem = transform_problem(transforms)
    if problem is not None:
        raise ValidationError(problem)
    with warnings.catch_warnings():
        # A pixel-only pipeline is fine: annotations then simply stay where they are.
        warnings.filterwarnings("ignore", message="Got processor for")
        pipeline = A.Compose(
            list(transforms),
            bbox_params=bbox_params(bbox_options),
            keypoint_params=keypoint_params(),
            p=p,
            seed=seed,
        )
    return continuous_keypoints(pipeline)


# albumentations 2.0 moves keypoints of these transforms as pixel indices (a flip maps x to
# W - 1 - x; rotations turn about ((W - 1) / 2, (H - 1) / 2)) while it moves boxes, and the
# keypoints of every other transform (resize, perspective, crops), as continuous coordinates
# (x to W - x). mira's points are continuous, so these get half a pixel shift around them.
PIXEL_INDEX_KEYPOINTS = frozenset(
    {
        "HorizontalFlip",
        "VerticalFlip",
        "Transpose",
        "RandomRotate90",
        "D4",
        "SquareSymmetry",
        "Affine",
        "ShiftScaleRotate",
        "Rotate",
    }
)


class PixelCentreShift:
    """A keypoint function for pixel indices, run on continuous coordinates."""

    def __init__(self, function: Any) -> None:
        self.function = function

    def __call__(self, keypoints: np.ndarray, *args: Any, **params: Any) -> np.ndarray:
        shifted = np.array(keypoints, dtype=np.float64)
        shifted[:, :2] -= 0.5
        moved = np.array(self.function(shifted, *args, **params), dtype=np.float64)
        moved[:, :2] += 0.5
        return moved


def continuous_keypoints(pipeline: Any) -> Any:
    """Make every transform of `pipeline` move keypoints as continuous coordinates, like boxes
    (in place, once; see PIXEL_INDEX_KEYPOINTS). Returns the pipeline."""
    for transform in getattr(pipeline, "transforms", ()):
        continuous_keypoints(transform)
    functions = getattr(pipeline, "_key2func", None)
    if (
        type(pipeline).__name__ in PIXEL_INDEX_KEYPOINTS
        and isinstance(functions, dict)
        and "keypoints" in functions
        and not isinstance(functions["keypoints"], PixelCentreShift)
    ):
        functions["keypoints"] = PixelCentreShift(functions["keypoints"])
    return pipeline


def transform_problem(transforms: Sequence[Any]) -> str | None:
    """Why mira cannot follow annotations through `transforms`, or None when it can.

    Refused: a transform that moves pixels but not boxes and points, and a reflecting
    border (albumentations then adds mirrored copies of the annotations into the padding).
    """
    from albumentations.core.composition import BaseCompose
    from albumentations.core.transforms_interface import ImageOnlyTransform
    from albumentations.core.type_definitions import REFLECT_BORDER_MODES, Targets

    for t in transforms:
        name = type(t).__name__
        if isinstance(t, BaseCompose):
            inner = transform_problem(t.transforms)
            if inner is not None:
                return inner
        elif not isinstance(t, ImageOnlyTransform):
            targets = getattr(type(t), "_targets", ())
            targets = targets if isinstance(targets, tuple) else (targets,)
            if Targets.BBOXES not in targets or Targets.KEYPOINTS not in targets:
                return (
                    f"transform '{name}' cannot move bounding boxes and keypoints; every "
                    "transform in a mira pipeline must support both (image-only transforms "
                    "are fine)"
                )
            pads = name in _REFLECTING or getattr(t, "pad_if_needed", False)
            if pads and getattr(t, "border_mode", None) in REFLECT_BORDER_MODES:
                return (
                    f"transform '{name}' uses a reflecting border_mode ({t.border_mode}), which "
                    "mirrors annotations into the padding; use border_mode 0 (constant) or 1 "
                    "(replicate)"
                )
    return None


# Transforms whose reflecting border makes albumentations add mirrored boxes and keypoints.
_REFLECTING = frozenset(
    {"Affine", "ShiftScaleRotate", "Rotate", "SafeRotate", "Pad", "PadIfNeeded"}
)


def load_pipeline(path: str | Path) -> Any:
    """Load a pipeline file written by ``albumentations.save`` (YAML or JSON) as `compose` would.

    ``.json`` files are parsed as JSON, anything else with ``yaml.safe_load``. A single
    transform (not wrapped in Compose) is accepted. Every problem is a ConfigError naming
    the file.
    """
    path = Path(path)
    data = _read(path)
    if not isinstance(data, Mapping) or not isinstance(data.get("transform"), Mapping):
        raise ConfigError(f"{path}: not an albumentations pipeline: {_FORMAT_HINT}")
    top = data["transform"]
    if top.get("__class_fullname__") == "Compose":
        args = {k: v for k, v in top.items() if k != "__class_fullname__"}
        unknown = sorted(set(args) - _COMPOSE_KEYS)
        if unknown:
            raise ConfigError(f"{path}: Compose: unknown argument(s) '{', '.join(unknown)}'")
        children = args.get("transforms")
        if not isinstance(children, list):
            raise ConfigError(f"{path}: Compose: 'transforms' must be a list of transforms")
        options = args.get("bbox_params")
        if options is not None and not isinstance(options, Mapping):
            raise ConfigError(f"{path}: Compose: 'bbox_params' must be a mapping or null")
        transforms = [_build(path, child) for child in children]
        p = args.get("p", 1.0)
    else:
        transforms, options, p = [_build(path, top)], None, 1.0
    problem = transform_problem(transforms)
    if problem is not None:
        raise ConfigError(f"{path}: {problem}")
    try:
        return compose(transforms, bbox_options=options, p=p)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{path}: Compose: {_one_line(e)}") from None


def _read(path: Path) -> Any:
    """Parse the file; JSON by suffix, YAML (safe) otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: pipeline file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a pipeline file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file (expected YAML or JSON)") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read pipeline file: {e.strerror}") from None
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError(
                f"{path}: invalid JSON: {e.msg} (line {e.lineno}, column {e.colno})"
            ) from None
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise ConfigError(f"{path}: invalid YAML: {problem}{where}") from None


def _build(path: Path, spec: Any) -> Any:
    """Instantiate one serialised transform (recursively), with errors naming it."""
    from albumentations.core.serialization import (
        NON_SERIALIZABLE_REGISTRY,
        SERIALIZABLE_REGISTRY,
        shorten_class_name,
    )

    if not isinstance(spec, Mapping) or not isinstance(spec.get("__class_fullname__"), str):
        raise ConfigError(f"{path}: not an albumentations pipeline: {_FORMAT_HINT}")
    name = shorten_class_name(spec["__class_fullname__"])
    cls = SERIALIZABLE_REGISTRY.get(name)
    if cls is None:
        if name in NON_SERIALIZABLE_REGISTRY:
            raise ConfigError(f"{path}: transform '{name}' cannot be loaded from a file")
        close = difflib.get_close_matches(name, sorted(SERIALIZABLE_REGISTRY), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ConfigError(f"{path}: unknown transform '{name}'{hint}")
    args = {k: v for k, v in spec.items() if k != "__class_fullname__"}
    if "transforms" in args:
        if not isinstance(args["transforms"], list):
            raise ConfigError(f"{path}: {name}: 'transforms' must be a list of transforms")
        args["transforms"] = [_build(path, child) for child in args["transforms"]]
    if name in ("Compose", "Sequential"):
        # A nested Compose must not carry its own box/point processors: the outer one does.
        args.pop("bbox_params", None)
        args.pop("keypoint_params", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            transform = cls(**args)
        except (TypeError, ValueError) as e:
            raise ConfigError(f"{path}: transform '{name}': {_one_line(e)}") from None
    for w in caught:
        text = str(w.message)
        if text.startswith("Argument(s)"):
            bad = text.split("'")[1] if "'" in text else text
            raise ConfigError(f"{path}: transform '{name}': unknown argument(s) '{bad}'")
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return transform


def _one_line(error: Exception) -> str:
    """pydantic's multi-line validation message folded into 'field: problem; ...'."""
    lines = [ln.strip() for ln in str(error).splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith("For further information")]
    if lines and "validation error" in lines[0]:
        body = lines[1:]
        pairs = [f"{body[i]}: {body[i + 1]}" for i in range(0, len(body) - 1, 2)]
        if pairs:
            return "invalid arguments: " + "; ".join(p.split(" [type=")[0] for p in pairs)
    return " ".join(lines) or type(error).__name__


def derive_seed(seed: int, index: int, copy: int) -> np.random.SeedSequence:
    """The seed of one (scene, copy): independent of order, process and job count."""
    return np.random.SeedSequence([int(seed), int(index), int(copy)])


def reseed(pipeline: Any, seed: int | np.random.SeedSequence) -> None:
    """Give an albumentations pipeline fresh random state from `seed`.

    One generator pair is shared by all transforms (``set_random_state``), so the draws of
    different transforms are independent; ``Compose.set_random_seed`` would seed every
    transform identically and make e.g. two ``p=0.5`` transforms fire together.
    """
    sequence = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    numpy_state, python_state = sequence.spawn(2)
    py_seed = int.from_bytes(python_state.generate_state(4, dtype=np.uint32).tobytes(), "little")
    pipeline.set_random_state(np.random.default_rng(numpy_state), random.Random(py_seed))
