"""Fingerprinting scenes: each image decoded once, by the engine's workers, and its
fingerprint (`mira.core.fingerprint`) carried by the scene's image so writers store it in
the record. Scenes that already have one keep it and are not decoded."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from mira.core.fingerprint import Fingerprint, compute_fingerprint
from mira.pipeline import moved_job
from mira.pipeline.stage import MapStage, as_scene


def _fingerprint_task(scene: Any) -> tuple[Any, bool]:
    """Worker: the scene with its image's fingerprint, and whether it was computed now."""
    source = scene.image_source
    if source.fingerprint is not None:
        return scene, False
    fingerprint = compute_fingerprint(source.encoded(), source.name)
    return scene.assign(image=source.with_fingerprint(fingerprint)), True


class FingerprintStage(MapStage):
    """Every scene with its image's fingerprint; `report["fingerprints"]` counts
    ``computed`` and ``stored`` (already in the record, kept as it is). With `keep`,
    `computed` maps each computed scene's position to its fingerprint."""

    needs_pixels = True
    work = staticmethod(_fingerprint_task)

    def __init__(self, report: dict[str, Any] | None = None, keep: bool = False) -> None:
        self.report = {} if report is None else report
        self.counts = {"computed": 0, "stored": 0}
        self.report["fingerprints"] = self.counts
        self.keep = keep
        self.computed: dict[int, Fingerprint] = {}

    def tasks(self, items: Iterable[Any]) -> Iterator[Any]:
        return (as_scene(item) for item in items)

    def results(self, results: Iterable[tuple[Any, bool]]) -> Iterator[Any]:
        for position, (scene, computed) in enumerate(results):
            self.counts["computed" if computed else "stored"] += 1
            if computed and self.keep:
                self.computed[position] = scene.image_source.fingerprint
            yield scene


def __getattr__(name: str) -> Any:
    """`fingerprint_file` lives in `mira.pipeline.jobs`; it is importable from here too."""
    return moved_job(__name__, name)
