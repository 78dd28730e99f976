"""Option declarations shared by every command, so the commands look and behave alike."""

import contextlib
from collections.abc import Callable, Iterator
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
