"""`mira augment` as a user runs it: outputs, exact geometry, reproducibility, bad configs."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np
import pytest

from mira.core import Annotation, Categories, Scene
from mira.core.image import encode_image
from mira.formats import SceneWriter, iter_scenes

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "augment.yaml"
CATS = Categories(["dog", "cat"])
W, H = 48, 40

FLIP = """transform:
  __class_fullname__: Compose
  bbox_params: null
  transforms:
  - {__class_fullname__: HorizontalFlip, p: 1.0}
"""
CROP = """{"__version__": "2.0.8", "transform": {"__class_fullname__": "Compose",
  "transforms": [{"__class_fullname__": "Crop", "x_min": 0, "y_min": 0, "x_max": 24,
  "y_max": 40, "p": 1.0}]}}
"""


@pytest.fixture
def data_tar(tmp_path: Path) -> Path:
    """Three small scenes (JPEG, PNG, JPEG), each with a box and a polygon crossing x = 24."""
    path = tmp_path / "data.tar"
    rng = np.random.default_rng(0)
    with SceneWriter(path) as writer:
        for i in range(3):
            pixels = rng.integers(0, 255, size=(H, W, 3), dtype=np.uint8)
            writer.write(
                Scene(
                    CATS,
                    encode_image(pixels, "png" if i == 1 else "jpg", 90),
                    [
                        Annotation(CATS["dog"], 4.25, 3.5, 30.125, 20, score=0.5),
                        Annotation(CATS["cat"], points=[[20, 22], [44.5, 24.75], [30, 38]]),
                    ],
                    metadata={"n": i},
                    key=f"{i:06d}",
                )
            )
    return path


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_copies_keys_metadata_report_and_exact_flips(mira, data_tar, tmp_path):
    out = tmp_path / "out.tar"
    config = write(tmp_path, "flip.yaml", FLIP)
    args = ("--config", config, "--copies", "2", "--keep-original", "--jobs", "1", "--json")
    result = mira("augment", data_tar, "-o", out, *args)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "scenes_in": 3,
        "scenes_out": 9,
        "annotations_in": 6,
        "annotations_out": 18,
        "dropped_by_visibility": {},
        "encoded": {"jpg q90": 4, "png": 2},
    }
    with tarfile.open(out) as tar:
        names = tar.getnames()
    stems = [f"{i:06d}{suffix}" for i in range(3) for suffix in ("", "-aug01", "-aug02")]
    extension = {0: "jpg", 1: "png", 2: "jpg"}  # JPEG stays JPEG, PNG stays PNG
    assert names == [
        f"{stem}.{kind}" for stem in stems for kind in ("json", extension[int(stem[:6])])
    ]
    scenes = list(iter_scenes(out))
    assert [s.key for s in scenes] == stems
    assert scenes[0].metadata == {"n": 0}
    assert scenes[5].metadata == {"n": 1, "augment": {"source": "000001", "copy": 2}}
    for scene in scenes:
        box, polygon = scene.annotations
        assert box.score == 0.5
        if scene.key.endswith(("-aug01", "-aug02")):
            assert box.x1y1x2y2() == (W - 30.125, 3.5, W - 4.25, 20)
            assert polygon.points.tolist() == [[W - 20, 22], [W - 44.5, 24.75], [W - 30, 38]]
        else:
            assert box.x1y1x2y2() == (4.25, 3.5, 30.125, 20)


def test_crop_drops_and_clips_by_visibility(mira, data_tar, tmp_path):
    config = write(tmp_path, "crop.json", CROP)
    # The box keeps 19.75/25.875 = 0.76 of its area, the triangle 0.065 of its area.
    out = tmp_path / "crop.tar"
    result = mira("augment", data_tar, "-o", out, "-c", config, "--min-visibility", "0.5", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["dropped_by_visibility"] == {"cat": 3}
    assert (report["annotations_in"], report["annotations_out"]) == (6, 3)
    for scene in iter_scenes(out):
        assert scene.dimensions == (24, 40)
        assert [a.x1y1x2y2() for a in scene.annotations] == [(4.25, 3.5, 24, 20)]


def test_same_seed_gives_identical_bytes_for_any_jobs_and_pipes(mira, data_tar, tmp_path):
    common = ("--config", SAMPLE, "--copies", "3")
    first = tmp_path / "first.tar"
    result = mira("augment", data_tar, "-o", first, *common, "--seed", "5", "--jobs", "1")
    assert result.returncode == 0, result.stderr
    piped = mira(
        "augment", "-", "-o", "-", *common, "--seed", "5", "--jobs", "2",
        input=data_tar.read_bytes(), binary=True,
    )  # fmt: skip
    assert piped.returncode == 0, piped.stderr
    assert piped.stdout == first.read_bytes()
    other = tmp_path / "other.tar"
    result = mira("augment", data_tar, "-o", other, *common, "--seed", "6", "--jobs", "2")
    assert result.returncode == 0, result.stderr
    assert other.read_bytes() != first.read_bytes()


BAD_CONFIGS = {
    "missing.yaml": (None, "pipeline file not found"),
    "broken.yaml": (
        "transform: [\n",
        "invalid YAML: expected the node content, but found '<stream end>' (line 2, column 1)",
    ),
    "other.yaml": (
        "steps: [flip]\n",
        "not an albumentations pipeline: expected albumentations' serialised form (as written "
        "by albumentations.save): a mapping with a 'transform' entry whose '__class_fullname__' "
        "names a transform",
    ),
    "unknown.yaml": (
        FLIP.replace("HorizontalFlip", "HorizontalFlipp"),
        "unknown transform 'HorizontalFlipp'; did you mean 'HorizontalFlip'?",
    ),
    "nobbox.yaml": (
        FLIP.replace("HorizontalFlip", "OverlayElements"),
        "transform 'OverlayElements' cannot move bounding boxes and keypoints; every transform "
        "in a mira pipeline must support both (image-only transforms are fine)",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_bad_configs_fail_cleanly(mira, data_tar, tmp_path, name):
    text, message = BAD_CONFIGS[name]
    config = tmp_path / name if text is None else write(tmp_path, name, text)
    out = tmp_path / "out.tar"
    result = mira("augment", data_tar, "-o", out, "--config", config)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"error: {config}: {message}\n"
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        {"data.tar", config.name} - {"missing.yaml"}
    )


def test_existing_output_and_bad_input_leave_things_alone(mira, data_tar, tmp_path):
    out = tmp_path / "out.tar"
    out.write_bytes(b"keep me")
    result = mira("augment", data_tar, "-o", out, "--config", SAMPLE)
    assert result.returncode == 1
    assert result.stderr == f"error: {out}: already exists (use --force to overwrite)\n"
    assert out.read_bytes() == b"keep me"

    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(data_tar.read_bytes()[:3000])
    fresh = tmp_path / "fresh.tar"
    result = mira("augment", truncated, "-o", fresh, "--config", SAMPLE)
    assert result.returncode == 1 and result.stderr.startswith("error: ")
    assert not fresh.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "data.tar", "out.tar", "truncated.tar"
    ]  # fmt: skip


@pytest.mark.parametrize(
    "args",
    [
        ("--copies", "-1"),
        ("--min-visibility", "1.5"),
        ("--quality", "0"),
    ],
)
def test_bad_option_values_are_usage_errors(mira, data_tar, tmp_path, args):
    out = tmp_path / "out.tar"
    result = mira("augment", data_tar, "-o", out, "--config", SAMPLE, *args)
    assert result.returncode == 2 and args[0] in result.stderr
    assert not out.exists()


def test_config_is_required(mira, data_tar, tmp_path):
    result = mira("augment", data_tar, "-o", tmp_path / "out.tar")
    assert result.returncode == 2 and "--config" in result.stderr
