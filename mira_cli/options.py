"""Option declarations shared by every command, so the commands look and behave alike."""

import sys
from collections.abc import Callable
from enum import Enum
from typing import Annotated, TypeVar

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


def key_option(value: str | None) -> str | None:
    """Callback for KEY options: metadata.PATH or categories, checked before any reading."""
    from mira.ops.keys import parse_key

    return None if value is None else usage_check(lambda: parse_key(value).text)


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
