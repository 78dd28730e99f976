"""Engines run a pipeline's per-scene work: here (serial), in local worker processes, or on
Ray (`mira.pipeline.ray_engine`, the ``ray`` extra).

An engine only maps `MapStage.work` over tasks and gives the results back in input order;
everything with state runs in the main process. That is the whole contract: for the same
pipeline, every engine yields the same items in the same order, so sinks write the same
bytes (tested for every engine against `SerialEngine`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from mira.errors import ValidationError
from mira.parallel import ordered_map, resolve_jobs

#: What `--engine` takes.
ENGINE_NAMES = ("local", "ray")


class Engine:
    """Maps a stage's work over its tasks, results in input order."""

    name = "engine"
    #: Whether `work` runs in this process (so it may use objects that cannot be pickled).
    in_process = True

    def map(self, work: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        raise NotImplementedError


class SerialEngine(Engine):
    """Everything in this process, one task at a time."""

    name = "serial"

    def map(self, work: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        return ordered_map(work, tasks, jobs=1)


class ProcessEngine(Engine):
    """`jobs` local worker processes (None: every core), a bounded window of tasks in flight."""

    name = "processes"
    in_process = False

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = resolve_jobs(jobs)

    def map(self, work: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        return ordered_map(work, tasks, jobs=self.jobs)


def local_engine(jobs: int | None = None) -> Engine:
    """The engine for `--jobs N`: serial for one job, worker processes for more."""
    count = resolve_jobs(jobs)
    return SerialEngine() if count == 1 else ProcessEngine(count)


def make_engine(name: str = "local", jobs: int | None = None, address: str | None = None) -> Engine:
    """The engine of a command's ``--engine NAME --jobs N --ray-address ADDR``: "local" is
    `local_engine(jobs)`; "ray" is a `RayEngine` on the cluster at `address`, else on a
    local Ray of `jobs` CPUs."""
    if name == "local":
        if address is not None:
            raise ValidationError("a Ray address needs the ray engine (--engine ray)")
        return local_engine(jobs)
    if name == "ray":
        from mira.pipeline.ray_engine import RayEngine

        return RayEngine(address, jobs)
    raise ValidationError(f"unknown engine {name!r}; use one of {', '.join(ENGINE_NAMES)}")
