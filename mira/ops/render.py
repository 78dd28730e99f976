"""Drawing scenes with OpenCV: `Scene.annotated()`, `Scene.show()` and `mira render` share it.

Coordinates are pixel *edges*: a box (0, 0, 10, 10) covers pixels 0..9, the same convention
as `Annotation.area()`. So that fills agree with areas, a fill covers exactly the pixels
whose centre lies inside the shape (even-odd rule; a centre on a left/top edge is inside, on
a right/bottom edge outside). Outlines and text are antialiased and drawn by OpenCV at
1/16-pixel precision (``shift=4``) along the true edge, so float coordinates are never
rounded to whole pixels.

Masked-out areas are darkened rather than blacked out, so what is hidden stays visible.
Colours are RGB; by default each category gets its own colour (`mira.ops.colors`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from mira.core.encoding import Encoding, count_encoded
from mira.errors import MiraError, ValidationError
from mira.ops.colors import RGB, ColormapLike, ColorResolver
from mira.pipeline import moved_job
from mira.pipeline.stage import MapStage

#: matplotlib's relative font sizes (of a 10 pt base), so `fontsize="x-large"` means 14.4 pt.
FONT_SIZES = {
    "xx-small": 5.79,
    "x-small": 6.94,
    "small": 8.33,
    "medium": 10.0,
    "large": 12.0,
    "x-large": 14.4,
    "xx-large": 17.28,
}
_SHIFT = 4  # OpenCV sub-pixel bits: 1/16 pixel
_ROWS_PER_CHUNK = 256
_HIDDEN_BRIGHTNESS = 0.35


def fill_polygon(canvas: np.ndarray, points: np.ndarray, color: Any) -> None:
    """Set the pixels of `canvas` (H, W[, C]) whose centres lie inside polygon `points` (K, 2)."""
    height, width = canvas.shape[:2]
    pts = np.asarray(points, dtype=np.float64)
    xmin, ymin = pts.min(axis=0)
    xmax, ymax = pts.max(axis=0)
    # Pixel i's centre is i + 0.5; it is inside [lo, hi) when ceil(lo - 0.5) <= i < ceil(hi - 0.5).
    r0, r1 = (min(max(math.ceil(v - 0.5), 0), height) for v in (ymin, ymax))
    c0, c1 = (min(max(math.ceil(v - 0.5), 0), width) for v in (xmin, xmax))
    if r0 >= r1 or c0 >= c1:
        return
    start, end = pts, np.roll(pts, -1, axis=0)
    lo, hi = np.minimum(start[:, 1], end[:, 1]), np.maximum(start[:, 1], end[:, 1])
    dy = end[:, 1] - start[:, 1]
    slope = (end[:, 0] - start[:, 0]) / np.where(dy == 0, 1.0, dy)
    for first in range(r0, r1, _ROWS_PER_CHUNK):
        centres = np.arange(first, min(first + _ROWS_PER_CHUNK, r1)) + 0.5
        crosses = (lo <= centres[:, None]) & (centres[:, None] < hi)
        rows, edges = np.nonzero(crosses)
        x = start[edges, 0] + (centres[rows] - start[edges, 1]) * slope[edges]
        cols = np.clip(np.ceil(x - 0.5), c0, c1).astype(np.intp) - c0
        toggles = np.zeros((len(centres), c1 - c0 + 1), dtype=np.uint8)
        np.add.at(toggles, (rows, cols), 1)
        inside = (np.cumsum(toggles, axis=1, dtype=np.uint8)[:, :-1] & 1).astype(bool)
        canvas[first : first + len(centres), c0:c1][inside] = color


def polygon_mask(points: np.ndarray, height: int, width: int) -> np.ndarray:
    """Boolean (height, width) mask of the pixels `fill_polygon` would set."""
    mask = np.zeros((height, width), dtype=bool)
    fill_polygon(mask, points, True)
    return mask


def hidden_area(masks: Sequence[Any], height: int, width: int) -> np.ndarray | None:
    """Boolean (H, W) mask of the pixels the scene's masks hide (core semantics), or None."""
    if not masks:
        return None
    from mira.core.masks import apply_masks

    return apply_masks(np.ones((height, width), dtype=np.uint8), masks) == 0


def font_pixels(fontsize: str | float | None, dpi: float, shape: tuple[int, ...]) -> float:
    """Text height in pixels: points × dpi / 72, or (None) about 1/45 of the longer side."""
    if fontsize is None:
        return max(12.0, max(shape[:2]) / 45)
    if isinstance(fontsize, str):
        if fontsize not in FONT_SIZES:
            raise MiraError(f"unknown fontsize {fontsize!r}; use one of {list(FONT_SIZES)}")
        points = FONT_SIZES[fontsize]
    else:
        points = float(fontsize)
    return max(4.0, points * dpi / 72)


def _edge_points(points: np.ndarray) -> np.ndarray:
    """Edge coordinates → OpenCV's fixed-point pixel-centre coordinates."""
    return np.round((np.asarray(points) - 0.5) * (1 << _SHIFT)).astype(np.int32)


def _text_color(color: RGB) -> RGB:
    luminance = 0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2]
    return (0, 0, 0) if luminance > 150 else (255, 255, 255)


def _put_label(image: np.ndarray, text: str, x: float, y: float, color: RGB, px: float) -> None:
    """Text on a filled box above (x, y), or just below it when there is no room above."""
    import cv2

    font = cv2.FONT_HERSHEY_SIMPLEX
    stroke = max(1, round(px / 12))
    scale = cv2.getFontScaleFromHeight(font, max(1, round(px)), stroke)
    (tw, th), baseline = cv2.getTextSize(text, font, scale, stroke)
    pad = max(1, round(px * 0.2))
    bw, bh = tw + 2 * pad, th + baseline + 2 * pad
    height, width = image.shape[:2]
    left = min(max(math.floor(x), 0), max(width - bw, 0))
    top = math.floor(y) - bh if math.floor(y) - bh >= 0 else math.floor(y)
    top = min(max(top, 0), max(height - bh, 0))
    cv2.rectangle(image, (left, top), (left + bw - 1, top + bh - 1), color, -1)
    cv2.putText(
        image, text, (left + pad, top + pad + th), font, scale, _text_color(color), stroke,
        cv2.LINE_AA,
    )  # fmt: skip


def draw_shape(
    image: np.ndarray, points: np.ndarray, color: Any, opaque: bool = False, thickness: int = 1
) -> None:
    """Draw one shape onto `image` (H, W[, C]) in place: filled (`fill_polygon`) or an
    antialiased outline `thickness` pixels wide along its true edges."""
    import cv2

    if opaque:
        fill_polygon(image, points, color)
    else:
        cv2.polylines(image, [_edge_points(points)], True, color, thickness, cv2.LINE_AA, _SHIFT)


def draw(
    image: np.ndarray,
    annotations: Iterable[Any],
    colors: Mapping[str, RGB] | RGB,
    labels: bool = True,
    opaque: bool = False,
    font_px: float | None = None,
    masks: Sequence[Any] = (),
    image_labels: Sequence[Any] = (),
) -> np.ndarray:
    """A copy of RGB `image` with annotations drawn (outline, or filled when `opaque`).

    `colors` maps category name → RGB, or is one RGB tuple for every annotation. With
    `labels`, each annotation gets its category (and score) on a filled box, and the scene's
    image-level labels are listed at the top left.
    """
    import cv2

    out = np.array(image, dtype=np.uint8, copy=True)
    height, width = out.shape[:2]
    px = font_px if font_px is not None else font_pixels(None, 72, out.shape)
    thickness = max(1, round(max(height, width) / 400))
    hidden = hidden_area(masks, height, width)
    if hidden is not None:
        out[hidden] = (out[hidden] * _HIDDEN_BRIGHTNESS).astype(np.uint8)
        for mask in masks:
            contour = [_edge_points(mask["contour"])]
            cv2.polylines(out, contour, True, (200, 200, 200), 1, cv2.LINE_AA, _SHIFT)
    annotations = list(annotations)

    def color_of(category: Any) -> RGB:
        if isinstance(colors, Mapping):
            return tuple(colors[category.name])  # type: ignore[return-value]
        return tuple(colors)  # type: ignore[return-value]

    for ann in annotations:
        draw_shape(out, ann.points, color_of(ann.category), opaque=opaque, thickness=thickness)
    if labels:
        for ann in annotations:
            text = (
                ann.category.name if ann.score is None else f"{ann.category.name} {ann.score:.2f}"
            )
            _put_label(out, text, ann.x1, ann.y1, color_of(ann.category), px)
        top = 0.0
        for label in image_labels:
            text = (
                label.category.name
                if label.score is None
                else f"{label.category.name} {label.score:.2f}"
            )
            _put_label(out, text, 0, top, (40, 40, 40), px)
            top += px * 1.8
    return out


def annotate(
    scene: Any,
    dpi: float = 72,
    fontsize: str | float | None = "x-large",
    labels: bool = True,
    opaque: bool = False,
    color: RGB | None = None,
    colormap: ColormapLike = None,
) -> np.ndarray:
    """`Scene.annotated()`: an RGB array the size of the image, annotations drawn on it.

    `color` given: every annotation in that one colour (the original's meaning).
    `color=None` (default): a colour per category, from `colormap` or the default palette.
    Text height is `fontsize` points at `dpi` (matplotlib's names; None: scaled to the image).
    """
    image = scene.unmasked_image
    colors = color if color is not None else ColorResolver(colormap).for_scene(scene)
    return draw(
        image,
        scene.annotations,
        colors,
        labels=labels,
        opaque=opaque,
        font_px=font_pixels(fontsize, dpi, image.shape),
        masks=scene.masks,
        image_labels=scene.labels,
    )


def pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise MiraError(
            "Scene.show() needs matplotlib, an optional extra: pip install 'mira-cli[plot]'"
        ) from None
    return plt


def show(
    scene: Any, annotation_kwargs: Mapping[str, Any] | None = None, **imshow_kwargs: Any
) -> Any:
    """`Scene.show()`: imshow of `annotate(scene, **annotation_kwargs)` (matplotlib extra)."""
    plt = pyplot()
    return plt.imshow(annotate(scene, **(annotation_kwargs or {})), **imshow_kwargs)


def show_annotations(scene: Any, **subplots_kwargs: Any) -> Any:
    """`Scene.show_annotations()`: (fig, axes) with one row per annotation's crop, or None."""
    if not scene.annotations:
        return None
    plt = pyplot()
    image = scene.image
    height, width = image.shape[:2]
    fig, axes = plt.subplots(nrows=len(scene.annotations), squeeze=False, **subplots_kwargs)
    for ax, ann in zip(axes[:, 0], scene.annotations, strict=True):
        x1, y1 = (max(math.floor(v), 0) for v in (ann.x1, ann.y1))
        x2, y2 = min(math.ceil(ann.x2), width), min(math.ceil(ann.y2), height)
        ax.imshow(image[y1 : max(y2, y1), x1 : max(x2, x1)])
        ax.set_title(ann.category.name)
    return fig, axes


# ------------------------------------------------------------------ contact sheet
def contact_sheet(
    tiles: Sequence[tuple[str, np.ndarray]], columns: int = 4, cell: int = 256
) -> np.ndarray:
    """A grid of (caption, RGB thumbnail) tiles, each fitted into a `cell`-pixel square."""
    import cv2

    if not tiles:
        raise MiraError("a contact sheet needs at least one image")
    columns = min(columns, len(tiles))
    rows = math.ceil(len(tiles) / columns)
    caption_px, gap = 14, 6
    pitch_x, pitch_y = cell + gap, cell + gap + caption_px + 2 * gap
    sheet = np.full((rows * pitch_y + gap, columns * pitch_x + gap, 3), 32, dtype=np.uint8)
    font = cv2.FONT_HERSHEY_SIMPLEX
    scale = cv2.getFontScaleFromHeight(font, caption_px, 1)
    for i, (caption, thumb) in enumerate(tiles):
        top, left = gap + (i // columns) * pitch_y, gap + (i % columns) * pitch_x
        h, w = thumb.shape[:2]
        oy, ox = top + (cell - h) // 2, left + (cell - w) // 2
        sheet[oy : oy + h, ox : ox + w] = thumb
        while len(caption) > 1 and cv2.getTextSize(caption, font, scale, 1)[0][0] > cell:
            caption = caption[:-1]
        baseline = top + cell + gap + caption_px
        cv2.putText(sheet, caption, (left, baseline), font, scale, (230, 230, 230), 1, cv2.LINE_AA)
    return sheet


def thumbnail(image: np.ndarray, cell: int = 256) -> np.ndarray:
    """`image` scaled to fit a `cell` square, keeping its aspect (small images grow)."""
    import cv2

    h, w = image.shape[:2]
    scale = min(cell / w, cell / h)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if size == (w, h):
        return np.ascontiguousarray(image)
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(image, size, interpolation=interpolation)


# ------------------------------------------------------------------ render command
SHEET_NAME = "contact-sheet.jpg"
#: The contact sheet is always JPEG: at the renders' quality when one is given, else this.
SHEET_QUALITY = 90
JPEG = Encoding("jpg")


class _Render(NamedTuple):
    stem: str  # the file name without its extension
    data: bytes
    encoding: str  # a resolved encoding's str, for the report
    extension: str
    thumb: np.ndarray | None


def _render_task(task: tuple[str, Any, dict[str, Any], bool, bool, Encoding, bool]) -> _Render:
    """Worker: decode, draw, encode one scene; also a thumbnail when it goes on the sheet."""
    stem, scene, colors, labels, opaque, encoding, want_thumb = task
    where = f"scene {scene.key}" if scene.key is not None else scene.image_source.name
    encoding = encoding.for_source(scene.image_source, where)
    image = draw(
        scene.unmasked_image,
        scene.annotations,
        colors,
        labels=labels,
        opaque=opaque,
        masks=scene.masks,
        image_labels=scene.labels,
    )
    thumb = thumbnail(image) if want_thumb else None
    return _Render(stem, encoding.encode(image, where), str(encoding), encoding.format, thumb)


class RenderStage(MapStage):
    """Each scene to ``(KEY.EXT, encoded drawing)``, drawn and encoded (`encoding`, default
    JPEG; `keep`: like the source; see `mira.core.encoding`) by the engine's workers, then
    ``(contact-sheet.jpg, ...)`` of the first `sheet_size` scenes; for a `FolderSink`."""

    needs_pixels = True
    work = staticmethod(_render_task)

    def __init__(
        self,
        limit: int | None = None,
        labels: bool = True,
        opaque: bool = False,
        encoding: Encoding = JPEG,
        colormap: ColormapLike = None,
        sheet_size: int = 16,
        report: dict[str, Any] | None = None,
    ) -> None:
        if limit is not None and limit < 1:
            raise ValidationError(f"limit must be at least 1, got {limit}")
        self.limit, self.labels, self.opaque, self.encoding = limit, labels, opaque, encoding
        self.sheet_size = sheet_size
        self.resolver = ColorResolver(colormap)
        self.report = {} if report is None else report

    def tasks(self, items: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
        for index, scene in enumerate(itertools.islice(items, self.limit)):
            stem = scene.key if scene.key is not None else f"{index:06d}"
            colors = self.resolver.for_scene(scene)
            wanted = index < self.sheet_size
            yield stem, scene, colors, self.labels, self.opaque, self.encoding, wanted

    def results(self, results: Iterable[_Render]) -> Iterator[tuple[str, bytes]]:
        from mira.core.image import encode_image

        tiles: list[tuple[str, np.ndarray]] = []
        seen: set[str] = {SHEET_NAME}
        encoded: dict[str, int] = {}
        rendered = 0
        for render in results:
            rendered += 1
            name = f"{render.stem}.{render.extension}"
            if name in seen:
                raise ValidationError(
                    f"two scenes would both be rendered to {name}; keys must be unique"
                )
            seen.add(name)
            count_encoded(encoded, render.encoding)
            yield name, render.data
            if render.thumb is not None:
                tiles.append((render.stem, render.thumb))
        if not rendered:
            raise ValidationError("no scenes to render")
        sheet_quality = self.encoding.quality or SHEET_QUALITY
        yield SHEET_NAME, encode_image(contact_sheet(tiles), "jpg", sheet_quality)
        self.report.update(
            scenes=rendered,
            format=self.encoding.format,
            quality=self.encoding.quality,
            encoded=encoded,
            contact_sheet=SHEET_NAME,
            contact_sheet_scenes=len(tiles),
        )


def __getattr__(name: str) -> Any:
    """`render_scenes` moved to `mira.pipeline.jobs`; it stays importable from here."""
    return moved_job(__name__, name)
