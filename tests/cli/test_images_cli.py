"""Duplicate images end to end: fingerprint, dedupe --images, split, stats --fail-on,
--skip-undecodable."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from mira.core import Annotation, Categories, Scene
from mira.core.image import ImageSource, encode_image
from mira.formats import SceneWriter, iter_scenes

CATS = Categories(["thing"])


def photo(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = cv2.resize(rng.integers(0, 255, (5, 7, 3), dtype=np.uint8), (140, 100))
    for _ in range(4):
        centre = tuple(int(v) for v in rng.integers(0, [140, 100]))
        cv2.circle(
            image, centre, int(rng.integers(8, 30)), tuple(map(int, rng.integers(0, 255, 3))), -1
        )
    return image


def scene(key: str, data: bytes, annotated: bool = True) -> Scene:
    boxes = [Annotation(CATS["thing"], 1, 2, 30, 40)] if annotated else []
    return Scene(CATS, ImageSource.from_bytes(data), annotations=boxes, key=key)


@pytest.fixture
def copies(tmp_path: Path) -> Path:
    """s0..s5 distinct; c-bytes = s0's bytes, c-pixels = s1 as another PNG, c-resized = s2
    at half size and JPEG quality 70 (and without annotations)."""
    images = [photo(seed) for seed in range(6)]
    encoded = [encode_image(image, "png") for image in images]
    other_png = cv2.imencode(".png", images[1][:, :, ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 9])[1]
    half = cv2.resize(images[2], (70, 50), interpolation=cv2.INTER_AREA)
    path = tmp_path / "data.tar"
    with SceneWriter(path) as writer:
        for index, data in enumerate(encoded):
            writer.write(scene(f"s{index}", data))
        writer.write(scene("c-bytes", encoded[0]))
        writer.write(scene("c-pixels", other_png.tobytes()))
        writer.write(scene("c-resized", encode_image(half, "jpg", 70), annotated=False))
    return path


def keys(path: Path) -> list[str]:
    return [s.key for s in iter_scenes(path)]


def test_fingerprint_adds_the_field_and_keeps_images(mira, copies: Path, tmp_path: Path) -> None:
    out = tmp_path / "fp.tar"
    result = mira("fingerprint", copies, "-o", out, "--json", "-j", "2")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["fingerprints"] == {"computed": 9, "stored": 0}
    stored = list(iter_scenes(out))
    assert all(s.image_source.fingerprint is not None for s in stored)
    before = [s.image_source.encoded() for s in iter_scenes(copies)]
    assert [s.image_source.encoded() for s in stored] == before
    again = tmp_path / "fp2.tar"
    result = mira("fingerprint", out, "-o", again, "--json", "-j", "1")
    assert json.loads(result.stdout)["fingerprints"] == {"computed": 0, "stored": 9}
    assert again.read_bytes() == out.read_bytes()


def test_import_with_fingerprint_equals_fingerprinting_after(mira, tmp_path: Path) -> None:
    project = Path(__file__).parents[2] / "sample" / "project.json"
    plain, marked, later = tmp_path / "plain.tar", tmp_path / "marked.tar", tmp_path / "later.tar"
    assert mira("import-qsl", project, "-o", plain).returncode == 0
    result = mira("import-qsl", project, "-o", marked, "--fingerprint", "-j", "2")
    assert result.returncode == 0, result.stderr
    assert mira("fingerprint", plain, "-o", later).returncode == 0
    assert marked.read_bytes() == later.read_bytes() != plain.read_bytes()


@pytest.mark.parametrize(
    ("mode", "dropped"),
    [("exact", ["c-bytes", "c-pixels"]), ("similar", ["c-bytes", "c-pixels", "c-resized"])],
)
def test_dedupe_images_keeps_the_first_copy(mira, copies, tmp_path, mode, dropped) -> None:
    out = tmp_path / "out.tar"
    result = mira("dedupe", copies, "-o", out, "--images", mode, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    kept = [k for k in keys(copies) if k not in dropped]
    assert keys(out) == kept
    assert (report["scenes_in"], report["scenes_out"], report["dropped"]) == (
        9,
        len(kept),
        len(dropped),
    )
    expected = [{"kept": "s0", "dropped": ["c-bytes"]}, {"kept": "s1", "dropped": ["c-pixels"]}]
    if mode == "similar":
        expected.append({"kept": "s2", "dropped": ["c-resized"]})
    assert report["groups"] == expected
    assert all(s.image_source.fingerprint is not None for s in iter_scenes(out))


def test_dedupe_images_on_stored_fingerprints_decodes_nothing(mira, copies, tmp_path) -> None:
    fingerprinted, direct, reused = (tmp_path / n for n in ("fp.tar", "a.tar", "b.tar"))
    assert mira("fingerprint", copies, "-o", fingerprinted).returncode == 0
    assert mira("dedupe", copies, "-o", direct, "--images", "similar").returncode == 0
    result = mira("dedupe", fingerprinted, "-o", reused, "--images", "similar", "--json")
    assert json.loads(result.stdout)["fingerprints"] == {"computed": 0, "stored": 9}
    assert reused.read_bytes() == direct.read_bytes()


def test_split_keeps_copies_together_and_needs_fingerprints_for_similar(
    mira, copies, tmp_path
) -> None:
    result = mira("split", copies, "--sizes", "0.5", "0.5", "--group-similar", "--json")
    assert result.returncode == 1
    assert result.stderr == (
        "error: 9 of 9 scenes have no fingerprint (the first is scene s0); "
        "add them with: mira fingerprint IN.tar -o OUT.tar\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.tar"]
    fingerprinted = tmp_path / "fp.tar"
    assert mira("fingerprint", copies, "-o", fingerprinted).returncode == 0
    for seed in range(4):
        result = mira(
            "split", fingerprinted, "--sizes", "0.5", "0.5", "--group-similar",
            "--seed", seed, "--json", "--force",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["images"]["similar"]["groups"] == 3
        parts = [set(keys(tmp_path / f"fp-{name}.tar")) for name in ("train", "test")]
        for first, copy in (("s0", "c-bytes"), ("s1", "c-pixels"), ("s2", "c-resized")):
            assert (first in parts[0]) == (copy in parts[0])


def test_split_empty_part_is_an_error_unless_allowed(mira, tmp_path) -> None:
    project = Path(__file__).parents[2] / "sample" / "project.json"
    data = tmp_path / "data.tar"
    assert mira("import-qsl", project, "-o", data).returncode == 0
    args = ("split", data, "--sizes", "0.7", "0.15", "0.15", "--group", "metadata.origin")
    result = mira(*args)
    assert result.returncode == 1
    assert result.stderr == (
        "error: part val would be empty (train 12, val 0, test 2 scenes; the largest group "
        "has 7); change --sizes or --group, or pass --allow-empty\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.tar"]
    result = mira(*args, "--allow-empty")
    assert result.returncode == 0, result.stderr
    assert "FAILED: val empty" in result.stdout
    assert "ok: no group crosses parts" not in result.stdout
    result = mira(*args, "--allow-empty", "--force", "--json")
    report = json.loads(result.stdout)
    assert report["groups"]["ok"] is False
    assert report["sanity"] == {"empty": ["val"], "off_target": [], "tolerance": 6, "ok": False}
    assert [p["deviation"] for p in report["parts"]] == [2, -2, 0]


def test_stats_fail_on(mira, copies, tmp_path) -> None:
    result = mira("stats", copies, "--fail-on", "duplicate_images,undecodable_images", "--json")
    assert result.returncode == 1
    assert (
        result.stderr
        == "error: " + str(copies) + ": problems found (--fail-on): duplicate_images (1)\n"
    )
    report = json.loads(result.stdout)  # the report is printed first
    assert report["problems"]["near_duplicate_images"] is None
    assert report["problems"]["scenes_without_annotations"] == {"count": 1, "keys": ["c-resized"]}
    assert mira("stats", copies, "--fail-on", "zero_area,out_of_image").returncode == 0
    fingerprinted = tmp_path / "fp.tar"
    assert mira("fingerprint", copies, "-o", fingerprinted).returncode == 0
    result = mira("stats", fingerprinted, "--fail-on", "any", "--json")
    assert result.returncode == 1
    assert result.stderr == (
        f"error: {fingerprinted}: problems found (--fail-on): duplicate_images (1), "
        "near_duplicate_images (3), scenes_without_annotations (1)\n"
    )
    near = json.loads(result.stdout)["problems"]["near_duplicate_images"]
    assert near == {
        "distance": 10,
        "count": 3,
        "groups": [["s0", "c-bytes"], ["s1", "c-pixels"], ["s2", "c-resized"]],
    }
    result = mira("stats", copies, "--fail-on", "nothing")
    assert result.returncode == 2
    assert "unknown problem 'nothing'" in result.stderr


def write_broken(path: Path, cut: bool) -> Path:
    """b0, b1 fine; b2 cut after 300 bytes (undecodable); b3 whose record says 50x50 for a
    140x100 image; with `cut`, b4 missing its last 200 bytes."""
    data = [encode_image(photo(seed), "jpg", 90) for seed in range(5)]
    data[2] = data[2][:300]
    data[4] = data[4][:-200]
    with SceneWriter(path) as writer:
        for index, blob in enumerate(data[: 5 if cut else 4]):
            size = (50, 50) if index == 3 else (140, 100)
            writer.write(
                scene(f"b{index}", blob).assign(image=ImageSource.from_bytes(blob, dimensions=size))
            )
    return path


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    return write_broken(tmp_path / "broken.tar", cut=False)


def test_stats_verify_finds_undecodable_truncated_and_mis_sized(mira, tmp_path) -> None:
    path = write_broken(tmp_path / "broken.tar", cut=True)
    args = ("stats", path, "--json", "--fail-on", "undecodable_images")
    unverified = mira(*args)
    assert unverified.returncode == 0, unverified.stderr
    assert json.loads(unverified.stdout)["problems"]["undecodable_images"] is None
    result = mira(*args, "--verify", "-j", "2")
    assert result.returncode == 1
    assert result.stderr == (f"error: {path}: problems found (--fail-on): undecodable_images (3)\n")
    found = json.loads(result.stdout)["problems"]["undecodable_images"]
    assert found["count"] == 3
    assert [e["key"] for e in found["examples"]] == ["b2", "b3", "b4"]
    member = f"{path}: member "
    assert found["examples"][0]["error"] == f"{member}b2.jpg: cannot decode image (300 bytes)"
    assert found["examples"][1]["error"] == (
        f"{member}b3.jpg: decodes to 140x100 pixels, but the record says 50x50"
    )
    size = len(encode_image(photo(4), "jpg", 90)) - 200
    # OpenCV 5 refuses a cut JPEG; OpenCV 4 decodes it with grey rows, which the
    # structure walk then catches
    assert found["examples"][2]["error"] in (
        f"{member}b4.jpg: cannot decode image ({size} bytes)",
        f"{member}b4.jpg: truncated image (no end marker after {size} bytes)",
    )


@pytest.mark.parametrize(
    "command",
    [("tile", "--max-size", "64"), ("render",), ("augment", "--config", "AUGMENT")],
)
def test_skip_undecodable_counts_instead_of_failing(mira, broken, tmp_path, command) -> None:
    args = [
        str(Path(__file__).parents[2] / "examples" / "augment.yaml") if a == "AUGMENT" else a
        for a in command
    ]
    out = tmp_path / ("out" if command[0] == "render" else "out.tar")
    failed = mira(args[0], broken, "-o", out, *args[1:])
    assert failed.returncode == 1
    assert "cannot decode image (300 bytes)" in failed.stderr
    assert not out.exists()
    result = mira(args[0], broken, "-o", out, *args[1:], "--skip-undecodable", "--json", "-j", "2")
    assert result.returncode == 0, result.stderr
    skipped = json.loads(result.stdout)["undecodable"]
    assert skipped["count"] == 1
    assert "cannot decode image (300 bytes)" in skipped["examples"][0]
    assert out.exists()
