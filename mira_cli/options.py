"""Option declarations shared by every command, so the commands look and behave alike."""

from collections.abc import Callable
from enum import Enum
from typing import Annotated, Any, TypeVar

import typer
from typer.core import TyperCommand

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


def not_an_option(token: str) -> bool:
    return not token.startswith("-")


def spread_values(args: list[str], accepts: dict[str, Callable[[str], bool]]) -> list[str]:
    """Rewrite `--flag A B C` as `--flag A --flag=B --flag=C` for each flag of `accepts`.

    After a flag's first value (whatever it looks like), following values are taken while
    `accepts[flag](token)` says they are values; "--" ends option parsing as usual.
    """
    result: list[str] = []
    flag: str | None = None
    index = 0
    while index < len(args):
        token = args[index]
        index += 1
        if token == "--":
            return result + args[index - 1 :]
        if flag is not None and accepts[flag](token):
            result.append(f"{flag}={token}")
            continue
        result.append(token)
        flag = token.split("=", 1)[0] if token.split("=", 1)[0] in accepts else None
        if flag is not None and "=" not in token and index < len(args):
            if not args[index].startswith("--"):  # the first value, whatever it looks like
                result.append(args[index])
                index += 1
    return result


def spreading_command(accepts: dict[str, Callable[[str], bool]]) -> type[TyperCommand]:
    """A command class whose flags in `accepts` take several values after one flag."""

    class SpreadingCommand(TyperCommand):
        def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
            return super().parse_args(ctx, spread_values(args, accepts))

    return SpreadingCommand
