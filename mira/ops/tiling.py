"""Splitting scenes into smaller ones: sub-crops that never cut an annotation
(`Scene.to_subcrops`), an overlapping grid (`Scene.tile`), and both over a stream of
scenes in parallel (the `mira tile` command).

Each piece keeps its source's metadata plus ``{"tile": {"source": key, "x": .., "y": ..}}``
(the window's offset in the source image), so tiles of one image can be grouped, and is
keyed ``<source key>-<x>-<y>`` (`tile_key`); a piece of a scene without a key has none.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from mira import geometry
from mira.core.encoding import Encoding, count_encoded
from mira.errors import ValidationError
from mira.ops.crop import Window, crop_pixels
from mira.ops.scene_keys import stream_key
from mira.pipeline import moved_job
from mira.pipeline.stage import MapStage

if TYPE_CHECKING:
    from mira.core import Scene

MODES = ("subcrops", "grid")
OVERSIZED = ("error", "crop")


def check_max_size(max_size: Any) -> int:
    if isinstance(max_size, bool) or not isinstance(max_size, (int, np.integer)) or max_size < 1:
        raise ValidationError(f"max size must be a positive number of pixels, got {max_size!r}")
    return int(max_size)


def check_fraction(value: Any, name: str, upper_open: bool = False) -> float:
    """A number in [0, 1] (or [0, 1) with `upper_open`)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{name} must be a number, got {value!r}") from None
    if not (0 <= number < 1 if upper_open else 0 <= number <= 1):
        raise ValidationError(
            f"{name} must be in [0, {'1)' if upper_open else '1]'}, got {value!r}"
        )
    return number


def _choice(value: str, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise ValidationError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    return value


# --- windows ----------------------------------------------------------------------------


def axis_starts(length: int, size: int, step: int) -> list[int]:
    """Window starts along one axis: every `step`, the last one flush with the end."""
    if length <= size:
        return [0]
    return list(range(0, length - size, step)) + [length - size]


def grid_windows(width: int, height: int, size: int, overlap: float) -> list[Window]:
    """Row-major size x size windows (smaller when the image is) covering every pixel;
    neighbours overlap by at least `overlap` of `size` (the last row and column are
    aligned to the image edge, so they may overlap more)."""
    step = max(1, math.floor(size * (1 - overlap) + 1e-9))
    tw, th = min(size, width), min(size, height)
    return [
        (x, y, x + tw, y + th)
        for y in axis_starts(height, th, step)
        for x in axis_starts(width, tw, step)
    ]


def _contained(b: np.ndarray, w: Window) -> np.ndarray:
    return (b[:, 0] >= w[0]) & (b[:, 1] >= w[1]) & (b[:, 2] <= w[2]) & (b[:, 3] <= w[3])


def _touches(b: np.ndarray, w: Window) -> np.ndarray:
    """Reaches into the window's interior."""
    return (b[:, 0] < w[2]) & (b[:, 2] > w[0]) & (b[:, 1] < w[3]) & (b[:, 3] > w[1])


def _cuts(b: np.ndarray, w: Window) -> np.ndarray:
    return _touches(b, w) & ~_contained(b, w)


def _candidates(lo: int, hi: int, centre: int) -> list[int]:
    return list(dict.fromkeys([min(max(centre, lo), hi), lo, hi]))


class _Placer:
    """Finds, for one annotation, a window of cw x ch pixels that holds it and as many of
    its nearest neighbours as possible without cutting any annotation."""

    def __init__(self, boxes: np.ndarray, width: int, height: int, cw: int, ch: int) -> None:
        self.b, self.width, self.height, self.cw, self.ch = boxes, width, height, cw, ch
        self.ext = np.column_stack([np.floor(boxes[:, :2]), np.ceil(boxes[:, 2:])]).astype(np.int64)
        self.centres = (boxes[:, :2] + boxes[:, 2:]) / 2

    def too_big(self) -> np.ndarray:
        e = self.ext
        return (e[:, 2] - e[:, 0] > self.cw) | (e[:, 3] - e[:, 1] > self.ch)

    def place(self, i: int) -> Window | None:
        cw, ch, e = self.cw, self.ch, self.ext
        reach = (e[i, 2] - cw, e[i, 3] - ch, e[i, 0] + cw, e[i, 1] + ch)
        near = np.flatnonzero(_touches(self.b, reach))
        others = near[near != i]
        distance = ((self.centres[others] - self.centres[i]) ** 2).sum(axis=1)
        sequence = np.concatenate([[i], others[np.argsort(distance, kind="stable")]])
        ux1 = np.minimum.accumulate(e[sequence, 0])
        uy1 = np.minimum.accumulate(e[sequence, 1])
        ux2 = np.maximum.accumulate(e[sequence, 2])
        uy2 = np.maximum.accumulate(e[sequence, 3])
        fits = (ux2 - ux1 <= cw) & (uy2 - uy1 <= ch)
        last = len(sequence) - 1 if fits.all() else int(np.argmin(fits)) - 1
        boxes = self.b[near]
        for r in range(last, -1, -1):
            xs = _candidates(
                max(0, ux2[r] - cw), min(ux1[r], self.width - cw), (ux1[r] + ux2[r] - cw) // 2
            )
            ys = _candidates(
                max(0, uy2[r] - ch), min(uy1[r], self.height - ch), (uy1[r] + uy2[r] - ch) // 2
            )
            for y in ys:
                for x in xs:
                    window = (int(x), int(y), int(x) + cw, int(y) + ch)
                    if not _cuts(boxes, window).any():
                        return window
        return None

    def grow(self, i: int) -> Window:
        """The smallest window around annotation i that cuts nothing (may exceed cw x ch)."""
        x1, y1, x2, y2 = (int(v) for v in self.ext[i])
        if x1 == x2:  # a zero-width annotation still needs a pixel around it
            x1, x2 = (x1 - 1, x2) if x2 == self.width else (x1, x2 + 1)
        if y1 == y2:
            y1, y2 = (y1 - 1, y2) if y2 == self.height else (y1, y2 + 1)
        window = (x1, y1, x2, y2)
        while True:
            cut = _cuts(self.b, window)  # type: ignore[arg-type]
            if not cut.any():
                return window  # type: ignore[return-value]
            e = self.ext[cut]
            window = (
                min(window[0], int(e[:, 0].min())),
                min(window[1], int(e[:, 1].min())),
                max(window[2], int(e[:, 2].max())),
                max(window[3], int(e[:, 3].max())),
            )


def subcrop_windows(
    boxes: Any,
    width: int,
    height: int,
    max_size: int,
    oversized: str = "error",
    describe: Callable[[int], str] = lambda i: f"annotation {i}",
) -> list[Window]:
    """Windows of at most max_size that never cut a box and together hold every box
    (boxes are first clipped to the image).

    An image no larger than max_size is one window; no boxes gives the grid without
    overlap. A box that is too big, or that cannot be framed without cutting a
    neighbour, is an error naming it (`describe(i)`), or with oversized="crop" gets the
    smallest window around it that cuts nothing.
    """
    _choice(oversized, OVERSIZED, "oversized")
    b = geometry.clip_boxes(boxes, 0, 0, width, height)
    if width <= max_size and height <= max_size:
        return [(0, 0, width, height)]
    if len(b) == 0:
        return grid_windows(width, height, max_size, 0.0)
    placer = _Placer(b, width, height, min(max_size, width), min(max_size, height))
    big = placer.too_big()
    hint = "; use oversized='crop' (--oversized crop) to give it a larger crop of its own"
    if oversized == "error" and big.any():
        i = int(np.argmax(big))
        e = placer.ext[i]
        raise ValidationError(
            f"{describe(i)} spans {e[2] - e[0]}x{e[3] - e[1]} px, more than the max size "
            f"{max_size}{hint}"
        )
    captured = np.zeros(len(b), dtype=bool)
    windows: list[Window] = []
    for i in range(len(b)):
        if captured[i]:
            continue
        window = None if big[i] else placer.place(i)
        if window is None:
            if oversized == "error":
                raise ValidationError(
                    f"{describe(i)} cannot be framed in {max_size} px without cutting "
                    f"another annotation{hint}"
                )
            window = placer.grow(i)
        windows.append(window)
        captured |= _contained(b, window)
    return windows


# --- scenes -----------------------------------------------------------------------------


def tile_key(key: str, x: int, y: int) -> str:
    """Key of the piece of scene `key` whose window starts at (x, y): ``000012-00512-00000``.

    Offsets are zero-padded to five digits, so the pieces of images up to 99999 px sort by
    source key, then x, then y; the key stays a safe member name."""
    return f"{key}-{x:05d}-{y:05d}"


def _describe(scene: Scene) -> Callable[[int], str]:
    prefix = f"scene {scene.key}: " if scene.key else ""

    def describe(i: int) -> str:
        a = scene.annotations[i]
        return (
            f"{prefix}annotation {i} ({a.category.name!r} at "
            f"({a.x1:g}, {a.y1:g}, {a.x2:g}, {a.y2:g}))"
        )

    return describe


def split_scene(
    scene: Scene,
    max_size: int,
    mode: str = "subcrops",
    overlap: float = 0.2,
    min_visibility: float = 0.0,
    oversized: str = "error",
    encoding: Encoding | None = None,
) -> tuple[list[Scene], dict[str, Any]]:
    """Decode once and cut the scene into sub-crops or grid tiles, to be encoded by
    `encoding` (default `keep`) resolved for the scene's image; returns the pieces and
    counts (tiles, annotations in and out, dropped for visibility, the encoding used)."""
    max_size = check_max_size(max_size)
    _choice(mode, MODES, "mode")
    where = f"scene {scene.key}" if scene.key else None
    encoding = (encoding or Encoding()).for_source(scene.image_source, where)
    pixels = scene.image_source.decode(keep=scene.cache)
    height, width = pixels.shape[:2]
    if mode == "grid":
        windows = grid_windows(width, height, max_size, check_fraction(overlap, "overlap", True))
        threshold = check_fraction(min_visibility, "min visibility")
    else:
        boxes = np.array([a.x1y1x2y2() for a in scene.annotations], dtype=np.float64)
        windows = subcrop_windows(
            boxes.reshape(-1, 4), width, height, max_size, oversized, _describe(scene)
        )
        threshold = 0.0
    pieces, dropped = [], 0
    for x1, y1, x2, y2 in windows:
        metadata = {**scene.metadata, "tile": {"source": scene.key, "x": x1, "y": y1}}
        key = None if scene.key is None else tile_key(scene.key, x1, y1)
        window = (x1, y1, x2, y2)
        piece, lost = crop_pixels(scene, pixels, window, threshold, metadata, encoding, key)
        pieces.append(piece)
        dropped += lost
    counts = {
        "tiles": len(pieces),
        "annotations_in": len(scene.annotations),
        "annotations_out": sum(len(p.annotations) for p in pieces),
        "dropped_visibility": dropped,
        "encoding": str(encoding),
    }
    return pieces, counts


def to_subcrops(
    scene: Scene, max_size: int, oversized: str = "error", encoding: Encoding | None = None
) -> list[Scene]:
    """`Scene.to_subcrops`: see `subcrop_windows` for the rules."""
    return split_scene(scene, max_size, "subcrops", oversized=oversized, encoding=encoding)[0]


def tile(
    scene: Scene,
    size: int,
    overlap: float = 0.2,
    min_visibility: float = 0.0,
    encoding: Encoding | None = None,
) -> list[Scene]:
    """`Scene.tile`: grid windows (see `grid_windows`), annotations clipped to each and
    dropped when less than `min_visibility` of their area is inside."""
    return split_scene(scene, size, "grid", overlap, min_visibility, encoding=encoding)[0]


def _split_encoded(task: tuple[Scene, dict[str, Any]]) -> tuple[list[Scene], dict[str, Any]]:
    """Worker: split one scene and encode every piece, so only bytes travel back."""
    from mira.core.image import ImageSource

    scene, options = task
    pieces, counts = split_scene(scene, **options)
    encoded = []
    for piece in pieces:
        source = piece.image_source
        data = ImageSource.from_bytes(source.encoded(), dimensions=tuple(source.dimensions))
        encoded.append(piece.assign(image=data))
    return encoded, counts


def tile_scenes(
    scenes: Iterable[Scene],
    max_size: int,
    mode: str = "subcrops",
    overlap: float = 0.2,
    min_visibility: float = 0.0,
    oversized: str = "error",
    jobs: int | None = None,
    report: dict[str, Any] | None = None,
    encoding: Encoding | None = None,
) -> Iterator[Scene]:
    """Split a stream of scenes over `jobs` processes (default: all cores), a bounded
    number at a time, yielding the pieces in input order, encoded by `encoding`; `report`
    gets the options and the totals as they accumulate. Options are checked before
    anything runs."""
    from mira.pipeline.engine import local_engine

    stage = TileStage(max_size, mode, overlap, min_visibility, oversized, report, encoding)
    return stage(scenes, local_engine(jobs))


class TileStage(MapStage):
    """Each scene to its sub-crops or grid tiles, cut and encoded (by `encoding`, default
    `keep`: see `mira.core.encoding`) by the engine's workers."""

    needs_pixels = True
    work = staticmethod(_split_encoded)

    def __init__(
        self,
        max_size: int,
        mode: str = "subcrops",
        overlap: float = 0.2,
        min_visibility: float = 0.0,
        oversized: str = "error",
        report: dict[str, Any] | None = None,
        encoding: Encoding | None = None,
    ) -> None:
        encoding = encoding or Encoding()
        self.options = {
            "max_size": check_max_size(max_size),
            "mode": _choice(mode, MODES, "mode"),
            "overlap": check_fraction(overlap, "overlap", upper_open=True),
            "min_visibility": check_fraction(min_visibility, "min visibility"),
            "oversized": _choice(oversized, OVERSIZED, "oversized"),
        }
        self.report = {} if report is None else report
        self.report.update(self.options, image_format=encoding.format, quality=encoding.quality)
        self.work_options = {**self.options, "encoding": encoding}
        self.scenes = {"in": 0, "out": 0}
        self.annotations = {"in": 0, "out": 0, "dropped_visibility": 0}
        self.encoded: dict[str, int] = {}
        self.report.update(scenes=self.scenes, annotations=self.annotations, encoded=self.encoded)

    def tasks(self, items: Iterable[Scene]) -> Iterator[tuple[Scene, dict[str, Any]]]:
        """A scene without a key is keyed by its position first, so its tiles get keys."""
        for index, scene in enumerate(items):
            if scene.key is None:
                scene = scene.assign(key=stream_key(None, index))
            yield scene, self.work_options

    def results(self, results: Iterable[tuple[list[Scene], dict[str, Any]]]) -> Iterator[Scene]:
        for pieces, counts in results:
            self.scenes["in"] += 1
            self.scenes["out"] += counts["tiles"]
            self.annotations["in"] += counts["annotations_in"]
            self.annotations["out"] += counts["annotations_out"]
            self.annotations["dropped_visibility"] += counts["dropped_visibility"]
            count_encoded(self.encoded, counts["encoding"], counts["tiles"])
            yield from pieces


def __getattr__(name: str) -> Any:
    """`tile_file` moved to `mira.pipeline.jobs`; it stays importable from here."""
    return moved_job(__name__, name)
