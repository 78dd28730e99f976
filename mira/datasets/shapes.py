"""A synthetic dataset of coloured rectangles and circles (the original's `load_shapes`),
made from a local seeded generator so the same arguments give the same scenes."""

from __future__ import annotations

from typing import Any

import numpy as np

from mira.core.annotation import Annotation, Label
from mira.core.collection import SceneCollection
from mira.core.scene import Scene
from mira.datasets.categories import ShapeAnnotationConfig
from mira.ops.render import fill_polygon

COLORS = {"RED": (255, 0, 0), "BLUE": (0, 0, 255), "GREEN": (0, 255, 0)}
SHAPES = ("RECTANGLE", "CIRCLE")
#: Points of the polygon drawn (and annotated) for a circle.
CIRCLE_POINTS = 20


def _draw(rng: np.random.Generator, lo: int, hi: int, size: int | None = None) -> Any:
    """An integer in [lo, hi), or lo when the range is empty (as the original did)."""
    if hi <= lo:
        return lo if size is None else np.full(size, lo)
    return rng.integers(lo, hi, size=size)


def make_shape_scene(
    width: int = 256,
    height: int = 256,
    object_count_bounds: tuple[int, int] = (3, 8),
    object_width_bounds: tuple[int, int] = (20, 40),
    polygons: bool = False,
    random_state: int | np.random.Generator | None = None,
) -> Scene:
    """A white image with between object_count_bounds[0] and [1] - 1 shapes of widths in
    object_width_bounds (a shape that would overlap an earlier one is left out), each
    annotated by its box, or by its outline with `polygons`."""
    rng = np.random.default_rng(random_state)
    image = np.full((height, width, 3), 255, dtype=np.uint8)
    taken = np.zeros((height, width), dtype=bool)
    count = int(_draw(rng, *object_count_bounds))
    widths = _draw(rng, object_width_bounds[0], object_width_bounds[1], count)
    xs = _draw(rng, 0, width - object_width_bounds[-1], count)
    ys = _draw(rng, 0, height - object_width_bounds[-1], count)
    shapes = rng.choice(SHAPES, size=count)
    colors = rng.choice(list(COLORS), size=count)
    annotations = []
    rows = zip(xs.tolist(), ys.tolist(), widths.tolist(), shapes, colors, strict=True)
    for x, y, w, shape, color in rows:
        if shape == "CIRCLE":
            w = 2 * (w // 2)
            t = np.linspace(0, 2 * np.pi, CIRCLE_POINTS, endpoint=False)
            points = np.column_stack([x + w / 2 * (1 + np.cos(t)), y + w / 2 * (1 + np.sin(t))])
        else:
            points = np.array([[x, y], [x + w, y], [x + w, y + w], [x, y + w]], dtype=np.float64)
        if taken[y : y + w, x : x + w].any():
            continue  # shapes never overlap
        taken[y : y + w, x : x + w] = True
        fill_polygon(image, points, COLORS[color])
        category = ShapeAnnotationConfig[f"{color} {shape}"]
        if polygons:
            annotations.append(Annotation(category, points=points))
        else:
            annotations.append(Annotation(category, x, y, x + w, y + w))
    return Scene(ShapeAnnotationConfig, image, annotations)


def load_shapes(
    n_scenes: int = 100, classification: bool = False, random_state: int = 42, **kwargs: Any
) -> SceneCollection:
    """`n_scenes` scenes of `make_shape_scene(**kwargs)`; with `classification`, each holds
    one shape as large as the image and a label of its category."""
    rng = np.random.default_rng(random_state)
    if classification:
        width, height = kwargs.get("width", 256), kwargs.get("height", 256)
        side = min(width, height)
        scenes = [
            make_shape_scene(width, height, (1, 1), (side, side), random_state=rng)
            for _ in range(n_scenes)
        ]
        scenes = [s.assign(labels=[Label(s.annotations[0].category)]) for s in scenes]
    else:
        scenes = [make_shape_scene(**kwargs, random_state=rng) for _ in range(n_scenes)]
    return SceneCollection(scenes, ShapeAnnotationConfig)
