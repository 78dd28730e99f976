"""The encoding rule: which format and quality pixels derived from a source are written in."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from mira.core.encoding import Encoding, check_quality, source_traits
from mira.core.image import ImageSource, decode_image, encode_image
from mira.core.jpeg_quality import jpeg_quality
from mira.errors import OptionError, ValidationError

RNG = np.random.default_rng(0)
BGRA = RNG.integers(0, 255, (20, 30, 4), dtype=np.uint8)


def encoded(ext: str, image: np.ndarray, *params: int) -> ImageSource:
    ok, data = cv2.imencode(ext, image, list(params))
    assert ok
    return ImageSource.from_bytes(data.tobytes(), name=f"member{ext}")


def palette_png_with_transparency() -> bytes:
    """A PNG whose transparency is a tRNS chunk (colour type 3), built by hand."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 2, 1, 8, 3, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00\x01")
    return b"\x89PNG\r\n\x1a\n" + b"".join(
        [
            chunk(b"IHDR", header),
            chunk(b"PLTE", bytes([255, 0, 0, 0, 255, 0])),
            chunk(b"tRNS", b"\x00"),
            chunk(b"IDAT", pixels),
            chunk(b"IEND", b""),
        ]
    )


SOURCES = {
    "jpg90": lambda: encoded(".jpg", BGRA[..., :3], cv2.IMWRITE_JPEG_QUALITY, 90),
    "jpg98": lambda: encoded(".jpg", BGRA[..., :3], cv2.IMWRITE_JPEG_QUALITY, 98),
    "png": lambda: encoded(".png", BGRA[..., :3]),
    "png-alpha": lambda: encoded(".png", BGRA),
    "png-trns": lambda: ImageSource.from_bytes(palette_png_with_transparency(), name="p.png"),
    "webp": lambda: encoded(".webp", BGRA[..., :3], cv2.IMWRITE_WEBP_QUALITY, 80),
    "webp-lossless": lambda: encoded(".webp", BGRA[..., :3], cv2.IMWRITE_WEBP_QUALITY, 101),
    "webp-alpha": lambda: encoded(".webp", BGRA, cv2.IMWRITE_WEBP_QUALITY, 80),
    "bmp": lambda: encoded(".bmp", BGRA[..., :3]),
    "array-png": lambda: ImageSource.from_array(BGRA[..., :3]),
    "array-jpg70": lambda: ImageSource.from_array(BGRA[..., :3], format="jpg", quality=70),
}
ALPHA = "alpha"  # expected: an OptionError for the alpha channel

RULES = {
    # source:        keep,           keep q80,  jpg,       jpg q70,   png,   webp,            webp q60
    "jpg90": ("jpg q90", "jpg q80", "jpg q90", "jpg q70", "png", "webp q90", "webp q60"),
    "jpg98": ("jpg q95", "jpg q80", "jpg q95", "jpg q70", "png", "webp q95", "webp q60"),
    "png": ("png", "png", "jpg q95", "jpg q70", "png", "webp lossless", "webp q60"),
    "png-alpha": ("png", "png", ALPHA, ALPHA, "png", "webp lossless", "webp q60"),
    "png-trns": ("png", "png", ALPHA, ALPHA, "png", "webp lossless", "webp q60"),
    "webp": ("webp q95", "webp q80", "jpg q95", "jpg q70", "png", "webp q95", "webp q60"),
    "webp-lossless": (
        "webp lossless", "webp q80", "jpg q95", "jpg q70", "png", "webp lossless", "webp q60"
    ),
    "webp-alpha": ("webp q95", "webp q80", ALPHA, ALPHA, "png", "webp q95", "webp q60"),
    "bmp": ("png", "png", "jpg q95", "jpg q70", "png", "webp lossless", "webp q60"),
    "array-png": ("png", "png", "jpg q95", "jpg q70", "png", "webp lossless", "webp q60"),
    "array-jpg70": ("jpg q70", "jpg q80", "jpg q70", "jpg q70", "png", "webp q70", "webp q60"),
}  # fmt: skip
ENCODINGS = [
    Encoding(),
    Encoding("keep", 80),
    Encoding("jpg"),
    Encoding("jpg", 70),
    Encoding("png"),
    Encoding("webp"),
    Encoding("webp", 60),
]


@pytest.mark.parametrize("source", sorted(SOURCES))
@pytest.mark.parametrize("index", range(len(ENCODINGS)), ids=[str(e) for e in ENCODINGS])
def test_the_rule(source: str, index: int) -> None:
    encoding, expected = ENCODINGS[index], RULES[source][index]
    image = SOURCES[source]()
    if expected == ALPHA:
        kind = "PNG" if source.startswith("png") else "WEBP"
        with pytest.raises(OptionError) as info:
            encoding.for_source(image, where="scene s1")
        assert str(info.value) == (
            f"scene s1: image format jpg cannot hold the alpha channel of this {kind} image; "
            "choose png, webp or keep"
        )
        return
    resolved = encoding.for_source(image)
    assert str(resolved) == expected
    assert resolved.for_source(image) == resolved  # resolving is idempotent


def test_resolved_encodings_write_what_they_say() -> None:
    pixels = cv2.cvtColor(BGRA[..., :3], cv2.COLOR_BGR2RGB)
    assert jpeg_quality(Encoding("jpg", 83).encode(pixels)) == 83
    assert Encoding("png").encode(pixels).startswith(b"\x89PNG")
    lossy, lossless = Encoding("webp", 50).encode(pixels), Encoding("webp").encode(pixels)
    assert lossy[12:16] == b"VP8 " and lossless[12:16] == b"VP8L"
    assert np.array_equal(decode_image(lossless, "lossless"), pixels)
    image = Encoding("jpg", 70).image(pixels, name="crop")
    assert image.planned_encoding == ("jpg", 70) and image.name == "crop"
    assert jpeg_quality(image.encoded()) == 70


def test_sources_are_read_only_as_far_as_the_rule_needs() -> None:
    missing = ImageSource.from_path("/nonexistent/image.jpg")
    assert Encoding("png").for_source(missing) == Encoding("png")
    assert Encoding("webp", 40).for_source(missing) == Encoding("webp", 40)
    with pytest.raises(Exception, match="image file not found"):
        Encoding().for_source(missing)


def test_a_jpeg_whose_tables_follow_a_large_exif_segment_is_read_whole() -> None:
    data = encode_image(BGRA[..., :3], "jpg", 77)
    exif = b"\xff\xe1" + (20008).to_bytes(2, "big") + b"Exif\x00\x00" + bytes(20000)
    source = ImageSource.from_bytes(data[:2] + exif + data[2:])
    assert source_traits(source).quality == 77
    assert str(Encoding().for_source(source)) == "jpg q77"


@pytest.mark.parametrize(
    ("format", "quality", "message"),
    [
        ("gif", None, "image format must be one of keep, jpg, png, webp; got 'gif'"),
        (None, None, "image format must be one of keep, jpg, png, webp; got None"),
        ("jpg", 0, "quality must be a whole number from 1 to 100, got 0"),
        ("jpg", 101, "quality must be a whole number from 1 to 100, got 101"),
        ("keep", 1.5, "quality must be a whole number from 1 to 100, got 1.5"),
        ("keep", True, "quality must be a whole number from 1 to 100, got True"),
        ("keep", "90", "quality must be a whole number from 1 to 100, got '90'"),
        ("keep", float("nan"), "quality must be a whole number from 1 to 100, got nan"),
        ("keep", float("inf"), "quality must be a whole number from 1 to 100, got inf"),
        (
            "png",
            80,
            "quality 80 has no meaning for png, which is lossless; "
            "leave the quality out or choose jpg or webp",
        ),
    ],
)
def test_bad_values_are_refused_when_built(format, quality, message) -> None:
    with pytest.raises(ValidationError) as info:
        Encoding(format, quality)
    assert str(info.value) == message


def test_values_are_normalised() -> None:
    assert Encoding("JPEG", np.int64(90)) == Encoding("jpg", 90)
    assert type(Encoding("jpg", np.int64(90)).quality) is int
    assert Encoding("webp", 60.0).quality == 60
    assert check_quality(None) is None and check_quality(100) == 100
    assert [str(e) for e in (Encoding(), Encoding("keep", 80), Encoding("png"))] == [
        "keep", "keep q80", "png"
    ]  # fmt: skip


def test_keep_must_be_resolved_before_encoding() -> None:
    with pytest.raises(ValidationError, match="must be resolved"):
        Encoding().encode(np.zeros((2, 2, 3), np.uint8))


@pytest.mark.parametrize(("format", "side"), [("webp", 16383), ("jpg", 65500)])
def test_images_too_large_for_the_format_are_option_errors(format: str, side: int) -> None:
    pixels = np.zeros((1, side + 1, 3), np.uint8)
    with pytest.raises(OptionError) as info:
        Encoding(format, 90).encode(pixels, where="scene big")
    assert str(info.value) == (
        f"scene big: a {side + 1}x1 image is too large for image format {format} "
        f"(at most {side} px a side); choose another image format"
    )
    assert len(Encoding("png").encode(pixels)) > 0
