"""Fingerprints: exact hashes, the perceptual hash under edits, the record field."""

from __future__ import annotations

import hashlib
import json

import cv2
import numpy as np
import pytest

from mira.core import Categories, Scene
from mira.core.fingerprint import Fingerprint, compute_fingerprint, hamming, pixel_digest
from mira.core.image import ImageSource, encode_image
from mira.errors import FormatError, ImageError
from mira.formats.tar_native import encode_record, parse_record, scene_from_record


def photo(seed: int, width: int = 320, height: int = 240) -> np.ndarray:
    """Smooth colour fields with a few shapes: structured like a photograph."""
    rng = np.random.default_rng(seed)
    field = cv2.resize(
        rng.integers(0, 255, (6, 8, 3), dtype=np.uint8), (width, height), cv2.INTER_CUBIC
    )
    for _ in range(6):
        x, y = (int(v) for v in rng.integers(0, [width, height]))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        cv2.circle(field, (x, y), int(rng.integers(10, 60)), colour, -1)
    return field


def test_exact_parts_hash_bytes_and_pixels() -> None:
    image = photo(1)
    png = encode_image(image, "png")
    fingerprint = compute_fingerprint(png, "a.png")
    assert fingerprint.sha256 == hashlib.sha256(png).hexdigest()
    assert fingerprint.pixels == pixel_digest(image)
    other_png = cv2.imencode(".png", image[:, :, ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 9])[1]
    other = compute_fingerprint(other_png.tobytes(), "b.png")
    assert other.sha256 != fingerprint.sha256  # other bytes ...
    assert other.pixels == fingerprint.pixels  # ... the same picture
    assert other.phash == fingerprint.phash


def test_perceptual_hash_survives_edits_and_tells_photos_apart() -> None:
    image = photo(2)
    base = compute_fingerprint(encode_image(image, "jpg", 95), "x").phash
    resized = cv2.resize(image, (160, 120), interpolation=cv2.INTER_AREA)
    brighter = np.clip(image.astype(np.float32) * 1.2, 0, 255).astype(np.uint8)
    cropped = image[6:-6, 8:-8]
    for edited in (resized, brighter, cropped):
        assert hamming(base, compute_fingerprint(encode_image(edited, "jpg", 60), "y").phash) <= 10
    others = [compute_fingerprint(encode_image(photo(s), "jpg", 95), "z").phash for s in (3, 4)]
    assert min(hamming(base, h) for h in others) > 10


def test_undecodable_bytes_name_the_image() -> None:
    with pytest.raises(ImageError) as error:
        compute_fingerprint(b"not an image", "data.tar: member 000001.jpg")
    assert str(error.value) == "data.tar: member 000001.jpg: cannot decode image (12 bytes)"


def test_record_field_round_trip_and_absence() -> None:
    data = encode_image(photo(5), "jpg", 90)
    plain = Scene(Categories(["a"]), ImageSource.from_bytes(data), key="s1")
    record = encode_record(plain, "s1", "s1.jpg")
    assert b"fingerprint" not in record
    fingerprint = compute_fingerprint(data, "s1.jpg")
    marked = plain.assign(image=plain.image_source.with_fingerprint(fingerprint))
    marked_record = encode_record(marked, "s1", "s1.jpg")
    assert json.loads(marked_record)["fingerprint"] == {
        "sha256": fingerprint.sha256,
        "pixels": fingerprint.pixels,
        "phash": f"{fingerprint.phash:016x}",
    }
    assert marked_record.startswith(record[:-1])  # the field is added last
    parsed = parse_record(marked_record, "r")
    scene = scene_from_record(
        parsed, lambda size: ImageSource.from_bytes(data, "s1.jpg", size), "r"
    )
    assert scene.image_source.fingerprint == fingerprint
    assert encode_record(scene, "s1", "s1.jpg") == marked_record


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "r: field 'fingerprint' must have exactly sha256, pixels and phash"),
        (
            {"sha256": "0" * 64, "pixels": "0" * 64, "phash": "XYZ"},
            "r: fingerprint phash must be 16 lowercase hex digits, got 'XYZ'",
        ),
        (
            {"sha256": "0" * 63, "pixels": "0" * 64, "phash": "0" * 16},
            f"r: fingerprint sha256 must be 64 lowercase hex digits, got '{'0' * 63}'",
        ),
    ],
)
def test_bad_record_fields(value: object, message: str) -> None:
    with pytest.raises(FormatError) as error:
        Fingerprint.from_record(value, "r")
    assert str(error.value) == message
