"""On-disk formats: tarballs (native and legacy), labelling projects and the layouts other
tools read. Names are imported on first use, so importing one format module (or the list
of formats, `interchange`) does not load the others."""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "SceneWriter": "stream",
    "iter_scenes": "stream",
    "read_collection": "stream",
    "extract_scenes": "extract",
    "load_extracted": "extract",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'mira.formats' has no attribute {name!r}")
    return getattr(importlib.import_module(f"mira.formats.{_EXPORTS[name]}"), name)
