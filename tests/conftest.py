"""Shared fixtures: tiny deterministic images and scenes for fast tests."""

from __future__ import annotations

import numpy as np
import pytest

from mira.core import Annotation, Categories, Label, Scene
from mira.core.image import encode_image


def make_image(width: int = 64, height: int = 48, seed: int = 0) -> np.ndarray:
    """A small RGB image with structure (so JPEG/PNG encodings are non-trivial)."""
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 255, size=(height, width, 3), dtype=np.uint8)
    image[: height // 2, : width // 2] = (200, 30, 30)
    return image


@pytest.fixture
def categories() -> Categories:
    return Categories(["dog", "cat"])


@pytest.fixture
def scene(categories: Categories) -> Scene:
    """A JPEG scene with a box, a polygon, a label, a mask and unicode metadata."""
    return Scene(
        categories,
        encode_image(make_image(), "jpg", 90),
        annotations=[
            Annotation(categories["dog"], 1.5, 2.25, 10.125, 20.0),
            Annotation(
                categories["cat"], points=[[0, 0], [5.5, 0], [5, 5]], score=0.25, metadata={"é": 1}
            ),
        ],
        labels=[Label(categories["cat"], score=0.9)],
        masks=[{"visible": False, "name": "m", "contour": [[0, 0], [10, 0], [10, 10]]}],
        metadata={"source": "camera-1", "nested": {"a": [1, 2]}},
        key="000000",
    )
