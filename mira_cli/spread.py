"""Options that take several values after one flag (`--sizes 0.7 0.15 0.15`).

Click gives an option one value per flag; a command whose class is a `SpreadCommand`
rewrites `--flag A B C` as `--flag A --flag=B --flag=C` before parsing, taking values after
the first while its `accepts[flag](token, taken)` says yes (`taken`: the values so far);
"--" ends option parsing as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from typer.core import TyperCommand

Accepts = Callable[[str, list[str]], bool]


def spread_values(args: list[str], accepts: Mapping[str, Accepts]) -> list[str]:
    """`args` with the values following each flag of `accepts` given one flag each."""
    result: list[str] = []
    flag: str | None = None
    taken: list[str] = []
    index = 0
    while index < len(args):
        token = args[index]
        index += 1
        if token == "--":
            return result + args[index - 1 :]
        if flag is not None and accepts[flag](token, taken):
            result.append(f"{flag}={token}")
            taken.append(token)
            continue
        result.append(token)
        name = token.split("=", 1)[0]
        flag = name if name in accepts else None
        taken = [token.split("=", 1)[1]] if flag is not None and "=" in token else []
        if flag is not None and "=" not in token and index < len(args):
            if not args[index].startswith("--"):  # the first value, whatever it looks like
                result.append(args[index])
                taken.append(args[index])
                index += 1
    return result


class SpreadCommand(TyperCommand):
    """A command whose flags in `accepts` take several values after one flag."""

    accepts: ClassVar[Mapping[str, Accepts]] = {}

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, spread_values(args, self.accepts))
