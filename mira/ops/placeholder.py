"""Placeholder scenes: blank images of the same size with each annotation filled in its colour.

Useful to share a dataset's geometry without its pictures, or to check labels at a glance.
The original image is never decoded: the size comes from the record (or the file header).

- Background: 255 (white) by default, or any grey level / RGB colour.
- Colours: the colormap's (category → ``[r, g, b]`` or ``"#rrggbb"``), else distinct
  defaults per category position (`mira.ops.colors`). A category drawn in a scene (one
  of its annotations') that the colormap lacks is a ConfigError naming it; image-level
  label categories, never drawn, need no colour.
- Fills cover the pixels whose centre lies inside the annotation (see `mira.ops.render`),
  in annotation order, later ones on top. Output images are PNG by default (flat colours
  compress best without loss); any `Encoding` may be asked for (`keep`: the source's).
- Masks: kept on the scene, as in the original library. The stored PNG is the plain
  placeholder; reading ``scene.image`` applies the masks (hidden areas turn black), exactly
  as for the source scene. Annotations, labels, metadata and keys are kept unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from mira.core.encoding import Encoding, count_encoded
from mira.errors import ConfigError, ValidationError
from mira.ops.colors import RGB, ColormapLike, ColorResolver, parse_color, to_hex
from mira.pipeline import moved_job
from mira.pipeline.stage import MapStage

PNG = Encoding("png")


def parse_background(value: Any) -> RGB:
    """A grey level 0..255 (int or digits), or an RGB colour (``[r, g, b]`` / ``"#rrggbb"``)."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if not 0 <= int(value) <= 255:
            raise ValidationError(f"background must be between 0 and 255, got {value}")
        return (int(value),) * 3  # type: ignore[return-value]
    try:
        return parse_color(value, where="background")
    except ConfigError as error:
        raise ValidationError(str(error)) from None


def placeholder_image(scene: Any, colors: Mapping[str, RGB], background: RGB) -> np.ndarray:
    """The placeholder pixels (H, W, 3 uint8 RGB) of `scene`, without decoding its image."""
    from mira.ops.render import fill_polygon

    width, height = scene.dimensions
    canvas = np.empty((height, width, 3), dtype=np.uint8)
    canvas[:] = background
    for ann in scene.annotations:
        fill_polygon(canvas, ann.points, colors[ann.category.name])
    return canvas


def to_placeholder(
    scene: Any, colormap: ColormapLike = None, background: Any = 255, encoding: Encoding = PNG
) -> Any:
    """`Scene.to_placeholder(colormap)`: the same scene on a blank image (see module
    docstring), to be encoded by `encoding` resolved for the scene's image."""
    colors = ColorResolver(colormap).for_scene(scene)
    pixels = placeholder_image(scene, colors, parse_background(background))
    return scene.assign(image=encoding.for_source(scene.image_source).image(pixels))


def _placeholder_task(task: tuple[Any, Mapping[str, RGB], RGB, Encoding]) -> tuple[Any, str]:
    """Worker: draw and encode one placeholder (encoding is the costly part)."""
    from mira.core.image import ImageSource

    scene, colors, background, encoding = task
    where = f"scene {scene.key}" if scene.key else scene.image_source.name
    encoding = encoding.for_source(scene.image_source, where)
    pixels = placeholder_image(scene, colors, background)
    data = encoding.encode(pixels, where=where)
    image = ImageSource.from_bytes(data, dimensions=(pixels.shape[1], pixels.shape[0]))
    return scene.assign(image=image), str(encoding)


class PlaceholderStage(MapStage):
    """Each scene to its placeholder, drawn and encoded (default PNG) by the engine's workers.

    Colours are resolved here, in order (a category the colormap lacks is an error before
    its scene is drawn); `report` gets the counts and the colours used as scenes go by.
    """

    needs_pixels = True
    work = staticmethod(_placeholder_task)

    def __init__(
        self,
        colormap: ColormapLike = None,
        background: Any = 255,
        report: dict[str, Any] | None = None,
        encoding: Encoding = PNG,
    ) -> None:
        self.resolver = ColorResolver(colormap)
        self.fill = parse_background(background)
        self.encoding = encoding
        self.colors: dict[str, str] = {}
        self.encoded: dict[str, int] = {}
        self.report = {} if report is None else report
        self.report.update(
            scenes=0,
            annotations=0,
            background=to_hex(self.fill),
            colors=self.colors,
            encoded=self.encoded,
        )

    def tasks(self, items: Iterable[Any]) -> Iterator[tuple[Any, Mapping[str, RGB], RGB, Encoding]]:
        for scene in items:
            colors = self.resolver.for_scene(scene)
            for name, color in colors.items():
                self.colors.setdefault(name, to_hex(color))
            yield scene, colors, self.fill, self.encoding

    def results(self, results: Iterable[tuple[Any, str]]) -> Iterator[Any]:
        for scene, encoding in results:
            self.report["scenes"] += 1
            self.report["annotations"] += len(scene.annotations)
            count_encoded(self.encoded, encoding)
            yield scene


def __getattr__(name: str) -> Any:
    """`save_placeholder` moved to `mira.pipeline.jobs`; it stays importable from here."""
    return moved_job(__name__, name)
