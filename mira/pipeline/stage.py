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
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from mira.core.scene import Scene

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


class MapStage(Stage):
    """A stage whose per-scene work (`work`) the engine may run anywhere.

    `work` must be a module-level function (it is pickled with its task); `tasks` and
    `results` run in the main process, in order.
    """

    work: ClassVar[Callable[[Any], Any]]

    def tasks(self, items: Iterable[Any]) -> Iterator[Any]:
        return iter(items)

    def results(self, results: Iterable[Any]) -> Iterator[Any]:
        return iter(results)

    def __call__(self, items: Iterable[Any], engine: Engine) -> Iterator[Any]:
        return self.results(engine.map(type(self).work, self.tasks(items)))
