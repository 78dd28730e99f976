"""What keeps a split honest: duplicate images never straddle parts, and a split that
leaves a part empty or far from its target says so instead of passing as fine.

- Exact duplicates (see `mira.ops.image_index`) are always groups; with a distance,
  near-duplicate clusters are too. Both are joined with the ``--group`` groups (connected
  components), and the report counts the duplicate pairs that the split without them
  (same options and seed) would have put in different parts.
- A part's size may miss its target only by what whole groups force: with groups of at
  most ``g`` scenes, a part more than ``g - 1`` scenes from its target is *off target*
  (without groups, and so with ``g = 1``, every part is exact). An empty part is an error
  unless allowed.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np

from mira.errors import ValidationError
from mira.ops.image_index import ImageIndex, crossing_pairs, groups, label_pairs
from mira.ops.near_duplicates import components


class EmptyPart(ValidationError):
    """A split would leave a part without scenes."""


class ImageGroups:
    """The duplicate groups of one split's scenes, and how they join the ``--group`` ones."""

    def __init__(self, index: ImageIndex, distance: int | None = None) -> None:
        self.index = index
        self.distance = distance
        self.exact = index.exact()
        self.similar = None if distance is None else index.similar(distance)
        self.crossing = {"exact": 0, "similar": 0}

    @property
    def labels(self) -> np.ndarray:
        return self.exact if self.similar is None else self.similar

    def joined(self, key_groups: Sequence[Hashable] | None) -> list[Hashable] | None:
        """Group values that keep both the ``--group`` groups and duplicates together
        (the ``--group`` values themselves when there are no duplicates)."""
        labels = self.labels
        if not groups(labels):
            return None if key_groups is None else list(key_groups)
        pairs = [label_pairs(labels)]
        if key_groups is not None:
            first: dict[Hashable, int] = {}
            firsts = [first.setdefault(value, i) for i, value in enumerate(key_groups)]
            pairs.append(label_pairs(np.asarray(firsts, dtype=np.int64)))
        roots = components(len(labels), np.concatenate(pairs)).tolist()
        return [f"scenes together with {self.index.keys[root]}" for root in roots]

    def count_crossing(self, baseline: Callable[[], list[int]]) -> None:
        """Count the pairs that the split `baseline` gives (each scene's part, made without
        image groups) would have cut; it is not called when there are no duplicates."""
        if not groups(self.labels):
            return
        part_of = baseline()
        self.crossing["exact"] = crossing_pairs(self.exact, part_of)
        if self.similar is not None:
            self.crossing["similar"] = crossing_pairs(self.similar, part_of)

    def report(self) -> dict[str, Any]:
        exact = groups(self.exact)
        similar = None if self.similar is None else groups(self.similar)
        return {
            "fingerprints": len(self.index) - self.index.missing,
            "exact": {
                "groups": len(exact),
                "scenes": sum(len(g) for g in exact),
                "pairs_kept_together": self.crossing["exact"],
            },
            "similar": None
            if similar is None
            else {
                "distance": self.distance,
                "groups": len(similar),
                "scenes": sum(len(g) for g in similar),
                "pairs_kept_together": self.crossing["similar"],
            },
        }


def largest_group(group_values: Sequence[Hashable] | None) -> int:
    """Scenes in the largest group (1 without groups)."""
    if not group_values:
        return 1
    counts: dict[Hashable, int] = {}
    for value in group_values:
        counts[value] = counts.get(value, 0) + 1
    return max(counts.values())


def check_parts(
    parts: Sequence[Sequence[int]],
    targets: list[int],
    names: Sequence[str],
    largest: int,
    allow_empty: bool = False,
) -> dict[str, Any]:
    """The sanity of a split: ``empty`` and ``off_target`` part names, the ``tolerance``
    (scenes a part may miss its target by) and ``ok``. An empty part raises `EmptyPart`
    unless `allow_empty`."""
    tolerance = largest - 1
    empty = [name for name, part in zip(names, parts, strict=True) if len(part) == 0]
    off = [
        name
        for name, part, target in zip(names, parts, targets, strict=True)
        if abs(len(part) - target) > tolerance
    ]
    if empty and not allow_empty:
        sizes = ", ".join(f"{n} {len(p)}" for n, p in zip(names, parts, strict=True))
        raise EmptyPart(
            f"part {', '.join(empty)} would be empty ({sizes} scenes; the largest group "
            f"has {largest}); change --sizes or --group, or pass --allow-empty"
        )
    return {"empty": empty, "off_target": off, "tolerance": tolerance, "ok": not (empty or off)}
