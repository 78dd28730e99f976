"""Option declarations shared by every command, so the commands look and behave alike."""

from collections.abc import Callable
from enum import Enum
from typing import Annotated, Any, TypeVar

import typer

T = TypeVar("T")

InputArg = Annotated[
    list[str],
    typer.Argument(
        help="Input tarball(s): files, shards or a glob; '-' reads a tarball from standard input.",
        metavar="IN.tar...",
    ),
]
OutputOpt = Annotated[
    str,
    typer.Option(
        "--output",
        "-o",
        help="Output tarball; '-' writes it to standard output.",
        metavar="OUT.tar",
    ),
]


def usage_check(check: Callable[[], T], option: str | None = None) -> T:
    """Run a library check on option values; a ValidationError becomes a usage error (exit 2)."""
    from mira.errors import ValidationError

    try:
        return check()
    except ValidationError as error:
        raise typer.BadParameter(str(error), param_hint=option and f"'{option}'") from None


def key_option(value: str | None) -> str | None:
    """Callback for KEY options: metadata.PATH or categories, checked before any reading."""
    from mira.ops.keys import parse_key

    return None if value is None else usage_check(lambda: parse_key(value).text)


ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite an existing output.")]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print one JSON document on stdout instead of tables.")
]
SeedOpt = Annotated[
    int, typer.Option("--seed", help="Random seed; the same seed gives the same output.")
]
JobsOpt = Annotated[
    int | None,
    typer.Option(
        "--jobs", "-j", min=1, help="Worker processes for image work [default: all cores]."
    ),
]
ShardSizeOpt = Annotated[
    int | None,
    typer.Option(
        "--shard-size", min=1, help="Write shards of at most N scenes, named OUT-000000.tar, ..."
    ),
]


class TarFormat(str, Enum):
    native = "native"
    legacy = "legacy"


TarFormatOpt = Annotated[
    TarFormat,
    typer.Option(
        "--format", help="Tarball layout to write: native, or legacy (the original mira's)."
    ),
]


def writer_options(tar_format: TarFormat, shard_size: int | None) -> dict[str, object]:
    """The library's keyword arguments for how an output tarball is written."""
    return {"format": tar_format.value, "shard_size": shard_size}


class ImageFormat(str, Enum):
    keep = "keep"
    jpg = "jpg"
    png = "png"
    webp = "webp"


IMAGE_FORMAT_HELP = (
    "How to write the images made: keep (JPEG stays JPEG, PNG stays PNG, WebP stays WebP, "
    "others become PNG), jpg, png or webp."
)


def image_format_option(*aliases: str) -> Any:
    """The --image-format option (plus `aliases`, for render's older --format)."""
    return typer.Option("--image-format", *aliases, help=IMAGE_FORMAT_HELP)


def _quality(text: str) -> int:
    """--quality's parser: the library's check, with the value named even when not a number."""
    from mira.core.encoding import check_quality

    try:
        value: object = int(text)
    except ValueError:
        value = text
    return usage_check(lambda: check_quality(value))  # type: ignore[return-value]


ImageFormatOpt = Annotated[ImageFormat, image_format_option()]
QualityOpt = Annotated[
    int | None,
    typer.Option(
        "--quality",
        parser=_quality,
        metavar="Q",
        help="JPEG/WebP quality, 1-100. Without it: a JPEG source's own quality, read from "
        "its quantisation tables (at most 95), else 95; WebP of a lossless source is lossless.",
    ),
]


def encoding_options(image_format: ImageFormat, quality: int | None) -> dict[str, Any]:
    """The library's keyword arguments for how images are encoded, checked together (a
    quality for png is a usage error)."""
    from mira.core.encoding import Encoding

    usage_check(lambda: Encoding(image_format.value, quality), "--quality")
    return {"image_format": image_format.value, "quality": quality}
