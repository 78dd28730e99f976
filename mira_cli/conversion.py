"""Option values converted without pydantic, so a command starts ~0.1 s sooner.

Typer 0.29 converts every non-flag value with a pydantic TypeAdapter built when the
command runs: importing pydantic and building the adapters takes ~0.1 s on every run,
a lot next to `tar cf` of a small dataset. `Command` converts the plain values `mira`
takes (str, int, float, an Enum, a list of them) to exactly what typer would return,
and hands everything else -- every value it is not sure of, so every error message
too -- to typer's own conversion.

It hooks typer's private `_runtime_param` (a parameter's converter, built on first
use); typer versions without it keep their own conversion unchanged.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Any, get_args, get_origin

from typer.core import TyperCommand, TyperGroup

#: Strings that typer (pydantic, lax mode) and Python's int()/float() read the same way.
_NUMBER = {
    int: re.compile(r"[+-]?[0-9]+"),
    float: re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"),
}
_UNSURE = object()


class _WithPlainValues:
    """Gives each parameter, the help option included, a PlainValues converter."""

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "_runtime_param", False) is None and hasattr(
                param, "type_descriptor"
            ):
                param._runtime_param = PlainValues(param)
        return params


class Command(_WithPlainValues, TyperCommand):
    """A typer command whose plain option values skip typer's pydantic conversion."""


class Group(_WithPlainValues, TyperGroup):
    """The `mira` group, whose own options (--version, --help, ...) skip it too."""


class PlainValues:
    """The converter of one parameter: typer's result for plain values, else typer's own."""

    def __init__(self, param: Any) -> None:
        self.param = param

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        result = self.convert(value, ctx)
        if result is _UNSURE:
            param._runtime_param = None  # typer builds its own converter on next use
            return param.get_runtime_param().coerce(value, param=param, ctx=ctx)
        return result

    def convert(self, value: Any, ctx: Any) -> Any:
        """What typer would return for `value`, or _UNSURE."""
        multiple = self.param.multiple or self.param.nargs == -1
        if value is None:
            return () if multiple else None
        annotation = self.param.type_descriptor.annotation
        info = self.param.type_descriptor.parameter_info
        if info.parser is not None or info.clamp:
            return _UNSURE
        if get_origin(annotation) is list:
            if multiple and isinstance(value, str):
                return _UNSURE
            items = value if isinstance(value, (list, tuple)) else [value]
            converted = [self.leaf(get_args(annotation)[0], item, ctx) for item in items]
            return _UNSURE if any(item is _UNSURE for item in converted) else converted
        return _UNSURE if multiple else self.leaf(annotation, value, ctx)

    def leaf(self, annotation: Any, value: Any, ctx: Any) -> Any:
        info = self.param.type_descriptor.parameter_info
        if annotation is str:
            return value if type(value) is str else _UNSURE
        if annotation in _NUMBER:
            if type(value) is str and _NUMBER[annotation].fullmatch(value):
                value = annotation(value)
            if type(value) is not annotation:
                return _UNSURE
            below = info.min is not None and value < info.min
            above = info.max is not None and value > info.max
            return _UNSURE if below or above else value
        if (
            isinstance(annotation, type)
            and issubclass(annotation, Enum)
            and info.case_sensitive
            and ctx.token_normalize_func is None
        ):
            for member in annotation:
                if value is member or (type(value) is str and value == str(member.value)):
                    return member
        return _UNSURE


def not_an_option(token: str) -> bool:
    return not token.startswith("-")


def spread_values(args: list[str], accepts: dict[str, Any]) -> list[str]:
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


def spreading_command(accepts: dict[str, Any]) -> type[Command]:
    """A `Command` whose flags in `accepts` take several values after one flag."""

    class SpreadingCommand(Command):
        def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
            return super().parse_args(ctx, spread_values(args, accepts))

    return SpreadingCommand
