"""One way to run every job: a source yields scenes, stages transform them, a sink writes
them atomically, and an engine decides where the per-scene work runs.

    Pipeline(TarSource("in.tar"), [DedupeStage(0.9)], TarSink("out.tar")).run()

The file-level functions the commands call (`mira.pipeline.jobs`) are built this way.
Names are imported on first use, so an op module can import its `Stage` base cheaply.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Engine": "engine",
    "ProcessEngine": "engine",
    "SerialEngine": "engine",
    "local_engine": "engine",
    "make_engine": "engine",
    "RayEngine": "ray_engine",
    "Pipeline": "run",
    "FolderSink": "sinks",
    "NullSink": "sinks",
    "PartsSink": "sinks",
    "Sink": "sinks",
    "TarSink": "sinks",
    "TarSource": "sources",
    "MapStage": "stage",
    "Stage": "stage",
    "as_scene": "stage",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'mira.pipeline' has no attribute {name!r}")
    return getattr(importlib.import_module(f"mira.pipeline.{_EXPORTS[name]}"), name)


def moved_job(module: str, name: str) -> Any:
    """For an op module's `__getattr__`: its file-level function, now in `mira.pipeline.jobs`."""
    jobs = importlib.import_module("mira.pipeline.jobs")
    if name.startswith("_") or name not in jobs.MOVED.get(module, ()):
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    return getattr(jobs, name)
