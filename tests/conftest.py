"""Shared fixtures: tiny deterministic images and scenes for fast tests."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator

import numpy as np
import pytest

# Ray, where the tests start it: on the loopback address only (read when ray is imported),
# and no usage statistics sent out.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

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


def require(*modules: str) -> None:
    """Skip the calling test module unless `modules` are installed, saying which are not and
    how to get them; in CI (`CI` set) a missing one fails instead, so nothing is skipped
    there unseen."""
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if not missing:
        return
    reason = f"{', '.join(missing)} not installed (pip install -e '.[test,cloud,ray]')"
    if os.environ.get("CI"):
        pytest.fail(f"in CI every test must run: {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[object]:
    """A real S3 API server on 127.0.0.1 (see tests/s3server.py), with this process's
    environment pointed at it for the whole session (Ray workers started later inherit it)."""
    require("moto", "s3fs", "boto3")
    from tests.s3server import S3Server

    server = S3Server()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in server.env().items():
            patch.setenv(name, value)
        try:
            yield server
        finally:
            server.stop()
