"""Category colours: a fixed distinct palette, and colormap files (category → colour).

Colours are RGB tuples of ints in 0..255. Default colours depend only on a category's
position in the collection's categories, so every scene, every run and both `render` and
`placeholder` give the same category the same colour.

A colormap is a mapping of category name → ``[r, g, b]`` or ``"#rrggbb"``; in a file it is
YAML (or JSON, which YAML reads too). Names not used by the data are ignored; a category that
is drawn (has an annotation) but that the map does not name is a ConfigError naming it.
"""

from __future__ import annotations

import colorsys
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from mira.errors import ConfigError

RGB = tuple[int, int, int]
#: What the library accepts as a colormap: a mapping, a YAML/JSON file, or None (defaults).
ColormapLike = Mapping[str, Any] | str | Path | None

# Hand-picked, well separated on screen and in print; no white (the placeholder
# background) and no black (masked-out pixels).
_PALETTE: tuple[RGB, ...] = (
    (230, 25, 75),
    (60, 180, 75),
    (0, 130, 200),
    (245, 130, 48),
    (145, 30, 180),
    (70, 240, 240),
    (240, 50, 230),
    (210, 245, 60),
    (250, 190, 190),
    (0, 128, 128),
    (170, 110, 40),
    (128, 0, 0),
    (170, 255, 195),
    (128, 128, 0),
    (0, 0, 128),
    (255, 225, 25),
    (128, 128, 128),
    (220, 190, 255),
    (255, 215, 180),
    (0, 80, 40),
)

_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")


def default_color(index: int) -> RGB:
    """Default colour of the category at `index`: 20 distinct ones, then spread hues."""
    if index < 0:
        raise ValueError(f"category index must be >= 0, got {index}")
    if index < len(_PALETTE):
        return _PALETTE[index]
    # Golden-angle hue steps never repeat; alternate brightness to separate neighbours.
    k = index - len(_PALETTE)
    hue = (k * 0.618033988749895) % 1.0
    value = (0.95, 0.7, 0.5)[k % 3]
    r, g, b = colorsys.hsv_to_rgb(hue, 0.85, value)
    return (round(r * 255), round(g * 255), round(b * 255))


def default_colors(names: Iterable[str]) -> dict[str, RGB]:
    """Default colour per category name, by position."""
    return {name: default_color(i) for i, name in enumerate(names)}


def to_hex(color: RGB) -> str:
    """``(255, 0, 16)`` → ``"#ff0010"`` (how reports show colours)."""
    return "#{:02x}{:02x}{:02x}".format(*color)


def parse_color(value: Any, where: str = "colour") -> RGB:
    """``[r, g, b]`` (ints 0..255) or ``"#rrggbb"`` → an RGB tuple; ConfigError otherwise."""
    if isinstance(value, str):
        match = _HEX.match(value.strip())
        if not match:
            raise ConfigError(f"{where}: expected '#rrggbb' or [r, g, b], got {value!r}")
        digits = match.group(1)
        return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))
    if isinstance(value, (list, tuple)) and len(value) == 3:
        channels = []
        for channel in value:
            if isinstance(channel, bool) or not isinstance(channel, int) or not 0 <= channel <= 255:
                raise ConfigError(
                    f"{where}: colour channels must be integers 0..255, got {list(value)!r}"
                )
            channels.append(int(channel))
        return (channels[0], channels[1], channels[2])
    raise ConfigError(f"{where}: expected '#rrggbb' or [r, g, b], got {value!r}")


def parse_colormap(mapping: Any, source: str = "colormap") -> dict[str, RGB]:
    """Validate a category → colour mapping; `source` (a file name) prefixes every error."""
    if not isinstance(mapping, Mapping):
        kind = "empty" if mapping is None else type(mapping).__name__
        raise ConfigError(f"{source}: expected a mapping of category → colour, got {kind}")
    colors: dict[str, RGB] = {}
    for name, value in mapping.items():
        colors[str(name)] = parse_color(value, where=f"{source}: category {str(name)!r}")
    return colors


def load_colormap(path: str | Path) -> dict[str, RGB]:
    """Read a YAML/JSON colormap file (loaded safely); every problem is a ConfigError naming it."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise ConfigError(f"{path}: cannot read colormap: {reason}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"{path}: invalid YAML{at}") from None
    return parse_colormap(data, source=str(path))


class ColorResolver:
    """Colour per category name, from a colormap (strict) or the default palette.

    Built once per stream; `color(name, categories)` checks each new category list once.
    """

    def __init__(self, colormap: ColormapLike = None):
        self.source = "colormap"
        self.colormap: dict[str, RGB] | None
        if colormap is None:
            self.colormap = None
        elif isinstance(colormap, (str, Path)):
            self.source = str(colormap)
            self.colormap = load_colormap(colormap)
        else:
            self.colormap = parse_colormap(colormap)
        self._checked: dict[tuple[str, ...], dict[str, RGB]] = {}

    def colors_for(
        self, names: Iterable[str], drawn: Iterable[str] | None = None
    ) -> dict[str, RGB]:
        """Colours for a scene's category names. With a colormap, only the categories in
        `drawn` (by default all of `names`) must be in it (else a ConfigError naming them),
        and only categories in the map get a colour; defaults give every name one."""
        key = tuple(names)
        colors = self._checked.get(key)
        if colors is None:
            if self.colormap is None:
                colors = default_colors(key)
            else:
                colors = {name: self.colormap[name] for name in key if name in self.colormap}
            self._checked[key] = colors
        if self.colormap is not None:
            needed = key if drawn is None else dict.fromkeys(drawn)
            missing = [name for name in needed if name not in colors]
            if missing:
                listed = ", ".join(repr(name) for name in missing)
                noun = "category" if len(missing) == 1 else "categories"
                raise ConfigError(f"{self.source}: {noun} {listed} not in the colormap")
        return colors

    def for_scene(self, scene: Any) -> dict[str, RGB]:
        """`colors_for` a scene, whose drawn categories are those of its annotations (its
        image-level labels are not drawn in a category's colour)."""
        drawn = [annotation.category.name for annotation in scene.annotations]
        return self.colors_for(scene.categories.names, drawn)
