"""The problem checks `mira stats` adds to its counts, and `--fail-on` for CI gates.

- ``near_duplicate_images``: clusters of scenes whose stored perceptual hashes are within
  the distance (`mira.ops.near_duplicates`); not checked (``null``) unless every scene has
  a fingerprint, since finding them without one would mean decoding.
- ``undecodable_images`` (only with ``verify``): every image decoded on the engine's
  workers; one that cannot be decoded, a JPEG or PNG cut before its end marker
  (`mira.core.image_end`: OpenCV 4 fills the rest with grey), or pixels of another size than the
  record says.
- ``scenes_without_annotations``: their keys (the count is in the summary too).

`SceneChecks.watch` sees the stream on its way to `collect_stats`, which fills `index`
(``collect_stats(..., image_index=checks.index)``) with the image identities it makes anyway and
finds the duplicate images of its counts in that same table: one pass, one table, and an
image held in memory hashed once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from mira.errors import ImageError, MiraError, ValidationError
from mira.ops.image_index import DEFAULT_DISTANCE, ImageIndex, groups
from mira.pipeline.stage import MapStage

#: Every problem `--fail-on` accepts (besides ``any``), in report order.
PROBLEMS = (
    "zero_area",
    "inverted",
    "out_of_image",
    "duplicate_images",
    "near_duplicate_images",
    "undecodable_images",
    "scenes_without_annotations",
)
#: The small/medium/large buckets of annotation areas, as the report spells them.
SIZE_THRESHOLDS = {
    "small": "area < 32² = 1024 px²",
    "medium": "1024 px² <= area < 96² = 9216 px²",
    "large": "area >= 9216 px²",
}


class ProblemsFound(MiraError):
    """`--fail-on` named a problem the data has."""


def check_fail_on(names: Sequence[str]) -> list[str]:
    """The problems to fail on: names from `PROBLEMS`, or ``any`` for all of them."""
    wanted: list[str] = []
    for name in names:
        for part in name.split(","):
            part = part.strip()
            if part == "any":
                wanted.extend(PROBLEMS)
            elif part in PROBLEMS:
                wanted.append(part)
            else:
                raise ValidationError(
                    f"unknown problem {part!r}; use any or one of {', '.join(PROBLEMS)}"
                )
    return list(dict.fromkeys(wanted))


def _verify(task: tuple[Any, tuple[int, int]]) -> str | None:
    """Worker: why one image is unusable, or None."""
    from mira.core.image import decode_image
    from mira.core.image_end import cut_short

    source, (width, height) = task
    try:
        data = source.encoded()
        pixels = decode_image(data, source.name)
    except ImageError as exc:
        return str(exc)
    if cut_short(data):
        return f"{source.name}: truncated image (no end marker after {len(data)} bytes)"
    if (pixels.shape[1], pixels.shape[0]) != (width, height):
        return (
            f"{source.name}: decodes to {pixels.shape[1]}x{pixels.shape[0]} pixels, "
            f"but the record says {width}x{height}"
        )
    return None


class _VerifyStage(MapStage):
    """Scenes pass through unchanged while the engine's workers decode their images."""

    needs_pixels = True
    work = staticmethod(_verify)

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        self.problems = problems
        self.window: deque[Any] = deque()

    def tasks(self, items: Iterable[Any]) -> Iterator[Any]:
        for scene in items:
            self.window.append(scene)
            yield scene.image_source, tuple(scene.dimensions)

    def results(self, results: Iterable[str | None]) -> Iterator[Any]:
        for position, message in enumerate(results):
            scene = self.window.popleft()
            if message is not None:
                key = scene.key if scene.key is not None else f"{position:06d}"
                self.problems.append({"key": key, "error": message})
            yield scene


class SceneChecks:
    """The checks of one stats run: `watch` the stream, then `add_to` the report."""

    def __init__(
        self, verify: bool = False, distance: int = DEFAULT_DISTANCE, engine: Any = None
    ) -> None:
        self.verify, self.distance, self.engine = verify, distance, engine
        self.index = ImageIndex()
        self.undecodable: list[dict[str, Any]] = []
        self.without_annotations: list[str] = []

    def watch(self, scenes: Iterable[Any]) -> Iterator[Any]:
        if self.verify:
            from mira.pipeline.engine import local_engine

            scenes = _VerifyStage(self.undecodable)(scenes, self.engine or local_engine(None))
        for position, scene in enumerate(scenes):
            if not scene.annotations:
                key = scene.key if scene.key is not None else f"{position:06d}"
                self.without_annotations.append(key)
            yield scene

    def add_to(self, report: dict[str, Any]) -> dict[str, Any]:
        """`report` (of `collect_stats`) with these problems and the size thresholds."""
        problems = report["problems"]
        near = None
        if len(self.index) and not self.index.missing:
            clusters = groups(self.index.similar(self.distance))
            near = {
                "distance": self.distance,
                "count": sum(len(g) - 1 for g in clusters),
                "groups": [[self.index.keys[i] for i in g] for g in clusters],
            }
        problems["near_duplicate_images"] = near
        problems["undecodable_images"] = (
            {"count": len(self.undecodable), "examples": self.undecodable} if self.verify else None
        )
        problems["scenes_without_annotations"] = {
            "count": len(self.without_annotations),
            "keys": self.without_annotations,
        }
        report["fingerprints"] = len(self.index) - self.index.missing
        report["annotation_sizes"]["thresholds"] = SIZE_THRESHOLDS
        return report


def problem_rows(report: dict[str, Any]) -> list[list[Any]]:
    """Table rows (problem, count, examples) of the problems this module adds."""
    problems = report["problems"]
    near, undecodable = problems["near_duplicate_images"], problems["undecodable_images"]
    empty = problems["scenes_without_annotations"]
    return [
        ["near_duplicate_images", "-", "not checked: scenes without fingerprints"]
        if near is None
        else [
            f"near_duplicate_images (distance {near['distance']})",
            near["count"],
            "; ".join(" ~ ".join(g) for g in near["groups"][:5]),
        ],
        ["undecodable_images", "-", "not checked: use --verify"]
        if undecodable is None
        else [
            "undecodable_images",
            undecodable["count"],
            "; ".join(e["error"] for e in undecodable["examples"][:3]),
        ],
        ["scenes_without_annotations", empty["count"], ", ".join(empty["keys"][:10])],
    ]


def found(report: dict[str, Any], names: Sequence[str]) -> dict[str, int]:
    """The named problems present in `report`, with their counts (unchecked ones absent)."""
    counts = {}
    for name in names:
        entry = report["problems"].get(name)
        if entry is not None and entry["count"]:
            counts[name] = entry["count"]
    return counts


def fail_on(report: dict[str, Any], names: Sequence[str], where: str) -> None:
    """Raise `ProblemsFound` listing the named problems the report has."""
    counts = found(report, names)
    if counts:
        listed = ", ".join(f"{name} ({count})" for name, count in counts.items())
        raise ProblemsFound(f"{where}: problems found (--fail-on): {listed}")
