"""numpy, imported when first used rather than at start-up.

Commands that never look at pixels (dedupe, split, stats) do their work on scenes of a
few shapes in plain Python, and importing numpy takes a third of their time on a thousand
scenes. The modules on their path bind `np = lazy_numpy(globals())`: a stand-in that
imports numpy when one of its attributes is first read and then puts the real module in
that module's namespace, so later uses cost nothing extra. Code that only needs to know
whether a value is a numpy one asks `loaded_numpy()`, which never imports it.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any


class _NumpyOnFirstUse:
    __slots__ = ("_namespace",)

    def __init__(self, namespace: dict[str, Any]) -> None:
        self._namespace = namespace

    def __getattr__(self, name: str) -> Any:
        numpy = importlib.import_module("numpy")
        self._namespace["np"] = numpy
        return getattr(numpy, name)


def lazy_numpy(namespace: dict[str, Any]) -> Any:
    """What a module binds as `np`: numpy itself once it is imported, else the stand-in."""
    return loaded_numpy() or _NumpyOnFirstUse(namespace)


def loaded_numpy() -> Any:
    """numpy if anything has imported it, else None (and then no value is a numpy one)."""
    return sys.modules.get("numpy")
