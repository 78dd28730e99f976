"""The ordered, bounded process-pool map behind every image-heavy command."""

import os

import cv2
import numpy as np
import pytest

from mira.errors import ValidationError
from mira.parallel import ordered_map, resolve_jobs


def _opencv_threads(_: int) -> int:
    return cv2.getNumThreads()


def _fail_on_three(value: int) -> int:
    if value == 3:
        raise RuntimeError("three")
    return value * 10


def test_results_keep_input_order_for_any_jobs():
    items = list(range(40))
    expected = [abs(i - 20) for i in items]
    for jobs in (1, 2):
        assert list(ordered_map(abs, (i - 20 for i in items), jobs=jobs, in_flight=3)) == expected


def test_each_worker_uses_one_opencv_thread_and_the_caller_is_restored():
    before = cv2.getNumThreads()
    assert set(ordered_map(_opencv_threads, range(4), jobs=1)) == {1}
    assert set(ordered_map(_opencv_threads, range(4), jobs=2)) == {1}
    assert cv2.getNumThreads() == before


def test_worker_errors_reach_the_caller():
    with pytest.raises(RuntimeError, match="three"):
        list(ordered_map(_fail_on_three, range(6), jobs=2))


def test_resolve_jobs():
    assert resolve_jobs(None) == len(os.sched_getaffinity(0))
    assert resolve_jobs(3) == 3
    with pytest.raises(ValidationError, match="jobs must be at least 1, got 0"):
        resolve_jobs(0)


def _image_bytes(scene) -> bytes:
    return scene.image_source.encoded()


def test_a_tarball_removed_meanwhile_is_an_error_naming_it_not_a_broken_pool(tmp_path):
    """Workers open the images' tarball themselves; when it is gone by then, that task
    fails with mira's error (the pool used to lose the worker: BrokenProcessPool)."""
    from mira.core import Categories, Scene, SceneCollection
    from mira.core.image import encode_image
    from mira.errors import FormatError
    from mira.formats import iter_scenes

    path = tmp_path / "data.tar"
    image = encode_image(np.full((8, 8, 3), 7, dtype=np.uint8), "png")
    SceneCollection([Scene(Categories(["a"]), image, key="k")]).save(path)
    scenes = list(iter_scenes(path))
    assert scenes[0].image_source.file_range is not None  # left in the tarball
    path.unlink()
    with pytest.raises(FormatError, match=f"^{path}: replaced or removed while its images"):
        list(ordered_map(_image_bytes, scenes, jobs=2))
    assert list(ordered_map(_image_bytes, scenes, jobs=1)) == [image]  # its own descriptor
