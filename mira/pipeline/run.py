"""A pipeline: one source, stages in order, one sink, run by an engine."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mira.pipeline.engine import Engine, SerialEngine
from mira.pipeline.sinks import Sink
from mira.pipeline.stage import Stage

#: Wraps the source's stream, e.g. in a progress bar; must yield the same items.
Progress = Callable[[Iterable[Any]], Iterable[Any]]


@dataclass
class Pipeline:
    """source → stages → sink. Build it, then `run` it once.

    When no stage needs pixels and the sink copies scenes as stored, a source that can
    (`TarSource`) hands out stored scenes: records are parsed once, images and unchanged
    records are copied as they are.
    """

    source: Iterable[Any]
    stages: Sequence[Stage]
    sink: Sink
    progress: Progress | None = None
    engine: Engine = field(default_factory=SerialEngine)

    def passes_stored(self) -> bool:
        return (
            self.sink.accepts_stored
            and hasattr(self.source, "stored")
            and not any(stage.needs_pixels for stage in self.stages)
        )

    def run(self) -> None:
        """Stream every item through; the sink commits on success and removes all on error."""
        with self.sink as sink:
            items: Iterable[Any] = (
                self.source.stored() if self.passes_stored() else self.source  # type: ignore[attr-defined]
            )
            if self.progress is not None:
                items = self.progress(items)
            for stage in self.stages:
                items = stage(items, self.engine)
            for item in items:
                sink.write(item)
