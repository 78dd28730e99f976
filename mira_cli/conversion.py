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

from typer import BadParameter
from typer.core import TyperCommand, TyperGroup

#: Strings that typer (pydantic, lax mode) and Python's int()/float() read the same way.
_NUMBER = {
    int: re.compile(r"[+-]?[0-9]+"),
    float: re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"),
}
_UNSURE = object()


def _offending(error: Exception, value: Any) -> Any:
    """The value typer refused: pydantic's messages do not say it ("Input should be a valid
    number"); its error details do, down to the item of a list."""
    details = getattr(error.__cause__, "errors", None)
    try:
        return details()[0]["input"] if details else value
    except (IndexError, KeyError, TypeError):
        return value


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
            try:
                return param.get_runtime_param().coerce(value, param=param, ctx=ctx)
            except BadParameter as error:
                offending = repr(_offending(error, value))
                if offending in error.message:
                    raise
                raise BadParameter(
                    f"{error.message} (got {offending})", ctx=ctx, param=param
                ) from None
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
