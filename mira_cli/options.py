"""Option declarations shared by every command, so the commands look and behave alike."""

import contextlib
import sys
from collections.abc import Callable, Iterator
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


def output_target(value: str) -> str:
    """Callback for -o: '-' is refused when standard output is a terminal (binary there
    would only garble it)."""
    if value == "-" and sys.stdout.isatty():
        raise typer.BadParameter(
            "standard output is a terminal; redirect it (> OUT.tar, | mira ...) or give a file"
        )
    return value


OutputOpt = Annotated[
    str,
    typer.Option(
        "--output",
        "-o",
        callback=output_target,
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


@contextlib.contextmanager
def option_errors(flags: dict[str, str]) -> Iterator[None]:
    """Inside, an `OptionError` (an option's value that does not fit the data, found while
    reading it) becomes a usage error (exit 2) naming its flag: `flags` maps the library
    argument to the flag, e.g. {"categories": "--categories"}."""
    from mira.errors import OptionError

    try:
        yield
    except OptionError as error:
        flag = flags.get(error.option)
        raise typer.BadParameter(str(error), param_hint=flag and f"'{flag}'") from None


def key_option(value: str | None) -> str | None:
    """Callback for KEY options: metadata.PATH or categories, checked before any reading."""
    from mira.ops.keys import parse_key

    return None if value is None else usage_check(lambda: parse_key(value).text)


def _key_prefix(value: str | None) -> str | None:
    from mira.ops.scene_keys import check_key_prefix

    return usage_check(lambda: check_key_prefix(value), "--key-prefix") or None


KeyPrefixOpt = Annotated[
    str | None,
    typer.Option(
        "--key-prefix",
        metavar="P",
        callback=_key_prefix,
        help="Put P in front of every scene key (000000 → P000000).",
    ),
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite an existing output.")]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print one JSON document on stdout instead of tables.")
]
SeedOpt = Annotated[
    int,
    typer.Option("--seed", metavar="N", help="Random seed; the same seed gives the same output."),
]
JobsOpt = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        "-j",
        min=1,
        metavar="N",
        help="Worker processes for image work [default: all cores].",
    ),
]


class EngineName(str, Enum):
    local = "local"
    ray = "ray"


EngineOpt = Annotated[
    EngineName,
    typer.Option(
        "--engine",
        help="Where image work runs: local worker processes (--jobs), or Ray: a local Ray of "
        "--jobs CPUs, or the cluster at --ray-address (needs the ray extra).",
    ),
]
RayAddressOpt = Annotated[
    str | None,
    typer.Option(
        "--ray-address",
        metavar="ADDR",
        help="The Ray cluster for --engine ray, as ray.init takes it (ray://HOST:10001, auto); "
        "without it a local Ray is started.",
    ),
]


def engine_option(engine: EngineName, jobs: int | None, ray_address: str | None) -> object:
    """The one place --engine, --jobs and --ray-address become the library's engine."""
    from mira.pipeline.engine import make_engine

    return usage_check(lambda: make_engine(engine.value, jobs, ray_address), "--ray-address")


ShardSizeOpt = Annotated[
    int | None,
    typer.Option(
        "--shard-size",
        min=1,
        metavar="N",
        help="Write shards of at most N scenes, named OUT-000000.tar, ...",
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


#: The measured default (mira.ops.image_index.DEFAULT_DISTANCE; docs/near-duplicates.md).
DEFAULT_DISTANCE = 10
DistanceOpt = Annotated[
    int,
    typer.Option(
        "--distance",
        min=0,
        max=16,
        help="Near-duplicates: perceptual hashes at most this many bits apart (0-16). "
        "The default, 10, found 99% of resized, re-encoded, brightened and up to 5% "
        "cropped copies with no false match, 4 bits below the first one, in the "
        "benchmark (docs/near-duplicates.md).",
    ),
]
FingerprintOpt = Annotated[
    bool,
    typer.Option(
        "--fingerprint",
        help="Store each image's fingerprint in its record (decodes every image, --jobs "
        "processes) for split, stats and dedupe --images.",
    ),
]
SkipUndecodableOpt = Annotated[
    bool,
    typer.Option(
        "--skip-undecodable",
        help="Leave out (and count) scenes whose image cannot be read or decoded, "
        "instead of failing.",
    ),
]
