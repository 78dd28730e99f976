"""Stages: the steps between a source and a sink.

A stage turns a stream of items into another, in order. Most stages work scene by scene:
`MapStage` splits that work into `tasks` (main process, in order: counting, checks,
anything stateful), `work` (a pure module-level function of one task, which an engine may
run in another process or on another machine) and `results` (main process, in input order:
counting, flattening). The engine decides where `work` runs; since everything stateful
happens in `tasks` and `results`, the output does not depend on the engine.

`needs_pixels` tells the pipeline whether scenes must arrive as `Scene`s (images readable);
a pipeline of pixel-free stages may feed them scenes as stored (`StoredScene`), and a stage
that leaves such an item unchanged passes the item itself on, so the sink can copy it as
stored.

`MapStage.skip_undecodable` makes a stage leave out (and count) the scenes whose image
cannot be read or decoded in `work`, instead of failing the run: one mechanism for every
pixel command's `--skip-undecodable`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from mira.core.scene import Scene
from mira.errors import ImageError

if TYPE_CHECKING:
    from mira.pipeline.engine import Engine


def as_scene(item: Any) -> Scene:
    """The `Scene` of a stream item: itself, or a stored scene built when first asked."""
    return item if isinstance(item, Scene) else item.scene()


class Stage:
    """A stream transform; subclasses override `__call__` (or use `MapStage`)."""

    needs_pixels: ClassVar[bool] = False

    def __call__(self, items: Iterable[Any], engine: Engine) -> Iterator[Any]:
        raise NotImplementedError


#: How many messages of skipped images a report keeps (the count is always exact).
MAX_EXAMPLES = 20


class Undecodable:
    """The result of a task whose image could not be read or decoded (see `Skipping`)."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


class Skipping:
    """`work` with an `ImageError` turned into an `Undecodable` result (picklable whenever
    `work` is a module-level function)."""

    def __init__(self, work: Callable[[Any], Any]) -> None:
        self.work = work

    def __call__(self, task: Any) -> Any:
        try:
            return self.work(task)
        except ImageError as exc:
            return Undecodable(str(exc))


class MapStage(Stage):
    """A stage whose per-scene work (`work`) the engine may run anywhere.

    `work` must be a module-level function (it is pickled with its task); `tasks` and
    `results` run in the main process, in order. A result carries what `results` needs of
    its task, since skipped tasks (see `skip_undecodable`) yield no result.
    """

    work: ClassVar[Callable[[Any], Any]]
    undecodable: dict[str, Any] | None = None

    def skip_undecodable(self, report: dict[str, Any]) -> None:
        """From now on, a scene whose image cannot be read or decoded is left out and
        counted in ``report["undecodable"]`` (``count`` and the first error ``examples``)."""
        self.undecodable = report["undecodable"] = {"count": 0, "examples": []}

    def tasks(self, items: Iterable[Any]) -> Iterator[Any]:
        return iter(items)

    def results(self, results: Iterable[Any]) -> Iterator[Any]:
        return iter(results)

    def __call__(self, items: Iterable[Any], engine: Engine) -> Iterator[Any]:
        if self.undecodable is None:
            return self.results(engine.map(type(self).work, self.tasks(items)))
        done = engine.map(Skipping(type(self).work), self.tasks(items))
        return self.results(self._decoded(done))

    def _decoded(self, results: Iterable[Any]) -> Iterator[Any]:
        assert self.undecodable is not None
        for result in results:
            if isinstance(result, Undecodable):
                self.undecodable["count"] += 1
                if len(self.undecodable["examples"]) < MAX_EXAMPLES:
                    self.undecodable["examples"].append(result.message)
            else:
                yield result
