"""Write small tarballs with the ORIGINAL mira library, as fixtures for our legacy reader.

Run with the original library's interpreter (see tools/make_original_venv.sh):

    .venv-mira-0.9.36/bin/python tools/make_legacy_fixtures.py
    .venv-mira-0.9.26/bin/python tools/make_legacy_fixtures.py

Each run writes the tarballs of the installed version into tests/data/legacy/ and
updates tests/data/legacy/expected.json, which describes what a correct reader must
find in them: categories, annotations (boxes as [x1, y1, x2, y2], polygons as open
rings), scores (float32 values; the format cannot tell "no score" from 0.0, so both
are null), labels, masks, metadata and a SHA-256 of the RGB pixels. The expected
values are taken from the original library reading its own file back, after checking
that it gives back what we gave it.

Pixels: 0.9.36 stores the unmasked image with true colours. 0.9.26 stores the
*masked* image with R and B swapped; the original reads that back consistently, so
its own view is the truth a reader must reproduce.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

# Never pick up the repository's own `mira` package.
ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() not in (ROOT, ROOT / "tools")]

import numpy as np  # noqa: E402

from mira import core  # noqa: E402

try:
    from importlib.metadata import version as _dist_version

    MIRA_VERSION = _dist_version("mira")
except Exception:  # pragma: no cover - only for odd installs
    MIRA_VERSION = "unknown"

OUT = ROOT / "tests" / "data" / "legacy"
# 0.9.27 moved the image out of the protobuf into its own N.png member.
EMBEDDED = tuple(int(p) for p in MIRA_VERSION.split(".")[:3] if p.isdigit()) < (0, 9, 27)
CATEGORIES = ["dog", "cat", "Vögel 鳥"]


def make_image(width: int, height: int, seed: int) -> np.ndarray:
    """A deterministic RGB image whose channels all differ, so an R/B swap shows."""
    y, x = np.mgrid[0:height, 0:width]
    image = np.empty((height, width, 3), dtype=np.uint8)
    image[..., 0] = (x * 4 + seed * 17) % 256
    image[..., 1] = (y * 5 + seed * 29) % 256
    image[..., 2] = (200 - x - y + seed * 7) % 256
    image[5:15, 40:55] = (250, 10, 120)
    return image


def make_scenes() -> list:
    """Three scenes: everything, nothing, and negative coordinates with masks."""
    cats = core.Categories(CATEGORIES)
    dog, cat, bird = cats["dog"], cats["cat"], cats["Vögel 鳥"]
    scene0 = core.Scene(
        categories=cats,
        image=make_image(64, 48, 0),
        annotations=[
            core.Annotation(category=dog, x1=2, y1=3, x2=20, y2=30, score=0.9),
            core.Annotation(category=cat, x1=10, y1=5, x2=40, y2=25),
            core.Annotation(
                category=bird,
                points=np.array([[5, 5], [30, 8], [20, 40]]),
                score=0.337,
                metadata={"note": "größe ✓", "n": 3},
            ),
        ],
        labels=[
            core.Label(category=dog, score=0.75, metadata={"src": "人"}),
            core.Label(category=cat),
        ],
        masks=[
            {
                "visible": False,
                "name": "blur",
                "contour": np.array([[40, 30], [60, 30], [60, 45], [40, 45]]),
            }
        ],
        metadata={
            "source": "camera-1",
            "ünïcode": "日本語 ✓",
            "nested": {"a": [1, 2.5, None, True]},
        },
    )
    scene1 = core.Scene(categories=cats, image=make_image(32, 24, 1))
    scene2 = core.Scene(
        categories=cats,
        image=make_image(64, 48, 2),
        annotations=[
            core.Annotation(
                category=cat,
                points=np.array([[-3, -2], [10, 0], [5, 12], [-3, -2]]),
                metadata={"tags": ["a", "b"], "depth": {"x": -1}},
            ),
            core.Annotation(category=dog, x1=0, y1=0, x2=63, y2=47, score=0.125),
        ],
        masks=[
            {
                "visible": True,
                "name": "roi",
                "contour": np.array([[0, 0], [50, 0], [50, 40], [0, 40]]),
            },
            {"visible": False, "name": "hole", "contour": np.array([[10, 10], [20, 10], [15, 20]])},
        ],
        metadata={"split": "train", "id": 7},
    )
    return [scene0, scene1, scene2]


def sha256(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array, dtype=np.uint8).tobytes()).hexdigest()


def score(value) -> float | None:
    """Unset and 0.0 are the same on the wire; the expectation is null for both."""
    return None if value is None or float(value) == 0.0 else float(np.float32(value))


def describe_annotation(ann) -> dict:
    record: dict = {"category": ann.category.name}
    if ann.is_rect:
        record["box"] = [int(ann.x1), int(ann.y1), int(ann.x2), int(ann.y2)]
    else:
        points = [[int(x), int(y)] for x, y in ann.points]
        if len(points) > 1 and points[0] == points[-1]:
            points = points[:-1]
        record["polygon"] = points
    record["score"] = score(ann.score)
    record["metadata"] = ann.metadata or {}
    return record


def describe(scene, member: str) -> dict:
    # 0.9.26 has no `unmasked_image`; its loaded image array is the stored (masked) one.
    unmasked = scene.unmasked_image if hasattr(scene, "unmasked_image") else scene._image
    masked = scene.image
    return {
        "member": member,
        "width": int(unmasked.shape[1]),
        "height": int(unmasked.shape[0]),
        "categories": [c.name for c in scene.categories],
        "annotations": [describe_annotation(a) for a in scene.annotations],
        "labels": [
            {"category": lb.category.name, "score": score(lb.score), "metadata": lb.metadata or {}}
            for lb in scene.labels
        ],
        "masks": [
            {
                "visible": bool(m["visible"]),
                "name": m["name"],
                "contour": [[int(x), int(y)] for x, y in m["contour"]],
            }
            for m in scene.masks
        ],
        "metadata": scene.metadata or {},
        "unmasked_rgb_sha256": sha256(unmasked),
        "masked_rgb_sha256": sha256(masked),
        "pixel_0_0": [int(v) for v in unmasked[0, 0]],
    }


def check_same(written, loaded, name: str) -> None:
    """The original must give back what we gave it (apart from the documented losses)."""
    assert written.categories == loaded.categories, name
    assert len(written.annotations) == len(loaded.annotations), name
    for a, b in zip(written.annotations, loaded.annotations, strict=True):
        assert a == b, (name, a, b)
        assert score(a.score) == score(b.score), (name, a.score, b.score)
    assert (written.metadata or {}) == (loaded.metadata or {}), name
    assert len(written.labels) == len(loaded.labels), name
    assert len(written.masks) == len(loaded.masks), name


def write(name: str, save_kwargs: dict) -> dict:
    scenes = make_scenes()
    path = OUT / name
    if path.exists():
        path.unlink()
    core.SceneCollection(scenes).save(str(path), **save_kwargs)
    loaded = core.SceneCollection.load(str(path))
    assert len(loaded) == len(scenes)
    for i, (written, back) in enumerate(zip(scenes, loaded, strict=True)):
        check_same(written, back, f"{name}[{i}]")
    return {
        "mira_version": MIRA_VERSION,
        "layout": "embedded" if EMBEDDED else "png+protobuf",
        "scenes": [describe(s, str(i)) for i, s in enumerate(loaded)],
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    expected_path = OUT / "expected.json"
    expected = json.loads(expected_path.read_text("utf-8")) if expected_path.exists() else {}
    expected["generator"] = "tools/make_legacy_fixtures.py"
    fixtures = expected.setdefault("fixtures", {})
    fixtures[f"mira-{MIRA_VERSION}.tar"] = write(f"mira-{MIRA_VERSION}.tar", {})
    if EMBEDDED:
        # 0.9.26 could also embed JPEG bytes (toString(extension=".jpg")).
        fixtures[f"mira-{MIRA_VERSION}-jpg.tar"] = write(
            f"mira-{MIRA_VERSION}-jpg.tar", {"extension": ".jpg"}
        )
    expected["fixtures"] = dict(sorted(fixtures.items()))
    text = json.dumps(expected, indent=1, ensure_ascii=False, sort_keys=False) + "\n"
    expected_path.write_text(text, "utf-8")
    for name in sorted(fixtures):
        print(f"{name}: {os.path.getsize(OUT / name)} bytes")


if __name__ == "__main__":
    main()
