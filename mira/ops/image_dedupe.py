"""`mira dedupe --images`: drop every later copy of an image, keeping the first in input
order. ``exact`` copies have the same bytes or the same decoded pixels; ``similar`` ones
are in one near-duplicate cluster (`mira.ops.near_duplicates`, which includes exact
copies). Pass 1 reads (or computes) fingerprints and decides, pass 2 copies the kept
scenes as stored."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from mira.errors import ValidationError
from mira.ops.image_index import ImageIndex, groups
from mira.ops.near_duplicates import check_distance
from mira.pipeline import moved_job
from mira.pipeline.stage import Stage, as_scene

MODES = ("exact", "similar")


def check_mode(mode: str, distance: int) -> None:
    if mode not in MODES:
        raise ValidationError(f"images mode must be one of {list(MODES)}, got {mode!r}")
    check_distance(distance)


def duplicate_labels(index: ImageIndex, mode: str, distance: int) -> np.ndarray:
    """Each scene's group (its first scene) under `mode`."""
    return index.exact() if mode == "exact" else index.similar(distance)


def group_report(index: ImageIndex, labels: np.ndarray) -> list[dict[str, Any]]:
    """Every group of two or more: the key kept and the keys dropped, in input order."""
    return [
        {"kept": index.keys[group[0]], "dropped": [index.keys[i] for i in group[1:]]}
        for group in groups(labels)
    ]


class ImageDedupeStage(Stage):
    """Pass 2: leaves out every scene that is not the first of its group; a scene whose
    fingerprint pass 1 computed gets it in its record."""

    def __init__(
        self, labels: Sequence[int], computed: dict[int, Any], report: dict[str, Any]
    ) -> None:
        self.labels = np.asarray(labels).tolist()
        self.computed = computed
        self.report = report

    def __call__(self, items: Iterable[Any], engine: Any) -> Iterator[Any]:
        kept = 0
        for index, item in enumerate(items):
            if self.labels[index] != index:
                continue
            kept += 1
            fingerprint = self.computed.get(index)
            if fingerprint is None:
                yield item
            else:
                scene = as_scene(item)
                yield scene.assign(image=scene.image_source.with_fingerprint(fingerprint))
        self.report.update(scenes_out=kept, dropped=len(self.labels) - kept)


def __getattr__(name: str) -> Any:
    """`dedupe_images_file` lives in `mira.pipeline.jobs`; it is importable from here too."""
    return moved_job(__name__, name)
