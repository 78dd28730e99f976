"""Categories, image-level labels and annotations: small value objects that check themselves.

Coordinates are floats and are never rounded here; rounding happens only when a format
that needs integers is written.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from mira.errors import ValidationError


class Category:
    """A named class. Equal to another Category with exactly the same name."""

    __slots__ = ("_name",)

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise ValidationError(f"category name must be a non-empty string, got {name!r}")
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def convert(self, categories: Categories) -> Category:
        """Re-bind to the category of the same name in `categories`."""
        if self._name not in categories:
            raise ValidationError(
                f"category {self._name!r} is not in the new categories {categories.names}"
            )
        return categories[self._name]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Category):
            return NotImplemented
        return self._name == other._name

    def __hash__(self) -> int:
        return hash(self._name)

    def __str__(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return repr(self._name)


class Categories:
    """An ordered list of unique categories; an index is a position in the list."""

    def __init__(self, names: Iterable[str | Category]) -> None:
        items = [c if isinstance(c, Category) else Category(c) for c in names]
        seen: dict[str, str] = {}
        for item in items:
            folded = item.name.casefold()
            if folded in seen:
                raise ValidationError(
                    f"category names must be unique (case-insensitive): "
                    f"{seen[folded]!r} and {item.name!r}"
                )
            seen[folded] = item.name
        self._types = items
        self._by_name = {c.name: c for c in items}
        self._names = [c.name for c in items]  # `names` copies it: asked for once a record

    @classmethod
    def from_categories(cls, categories: Categories | Iterable[str | Category]) -> Categories:
        return categories if isinstance(categories, Categories) else cls(categories)

    @property
    def types(self) -> list[Category]:
        return list(self._types)

    @property
    def names(self) -> list[str]:
        return list(self._names)

    def __getitem__(self, key: int | str | np.integer) -> Category:
        if isinstance(key, (bool, np.bool_)):
            raise ValidationError(f"category key must be an int or str, got {key!r}")
        if isinstance(key, (int, np.integer)):
            index = int(key)
            if not 0 <= index < len(self._types):
                raise ValidationError(
                    f"category index {index} is out of range for {len(self._types)} categories"
                )
            return self._types[index]
        if isinstance(key, str):
            if key in self._by_name:
                return self._by_name[key]
            matches = [c for c in self._types if c.name.casefold() == key.casefold()]
            if matches:
                warnings.warn(
                    f"category {key!r} not found, using {matches[0].name!r} instead",
                    stacklevel=2,
                )
                return matches[0]
            raise ValidationError(f"category {key!r} is not one of {self.names}")
        raise ValidationError(f"category key must be an int or str, got {key!r}")

    def __contains__(self, key: object) -> bool:
        if isinstance(key, Category):
            return key.name in self._by_name
        if isinstance(key, str):
            return key in self._by_name
        return False

    def index(self, category: Category | str) -> int:
        name = category.name if isinstance(category, Category) else category
        for i, c in enumerate(self._types):
            if c.name == name:
                return i
        raise ValidationError(f"category {name!r} is not one of {self.names}")

    def bboxes_from_group(self, annotations: Iterable[Annotation]) -> np.ndarray:
        """(N, 5) float64 rows of x1, y1, x2, y2, class index; polygons give their bounds."""
        rows = [[a.x1, a.y1, a.x2, a.y2, self.index(a.category)] for a in annotations]
        return np.array(rows, dtype=np.float64).reshape(-1, 5)

    def __iter__(self) -> Iterator[Category]:
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Categories):
            return NotImplemented
        return self.names == other.names

    def __hash__(self) -> int:
        return hash(tuple(self.names))

    def __repr__(self) -> str:
        return repr(self.names)


def check_score(score: Any, where: str) -> float | None:
    if score is None:
        return None
    try:
        value = float(score)
    except (TypeError, ValueError, OverflowError):  # e.g. 10**400
        raise ValidationError(f"{where}: score must be a number or None, got {score!r}") from None
    if not math.isfinite(value):
        raise ValidationError(f"{where}: score must be finite, got {score!r}")
    return value


def check_metadata(metadata: Mapping[str, Any] | None, where: str) -> dict[str, Any]:
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise ValidationError(f"{where}: metadata must be a dict, got {type(metadata).__name__}")
    return dict(metadata)


def check_category(category: Any, where: str) -> Category:
    if not isinstance(category, Category):
        raise ValidationError(f"{where}: category must be a Category, got {category!r}")
    return category


class Label:
    """An image-level label with an optional score."""

    __slots__ = ("category", "score", "metadata")

    def __init__(
        self,
        category: Category,
        score: float | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        # The common valid values are taken as they are; anything else goes through the full
        # checks, so the error message (and its `where`) is formatted only when it is needed.
        self.category = (
            category
            if isinstance(category, Category)
            else check_category(category, self._where(category))
        )
        self.score = (
            score
            if score is None or (type(score) is float and math.isfinite(score))
            else check_score(score, self._where(category))
        )
        self.metadata = (
            {}
            if metadata is None
            else dict(metadata)
            if type(metadata) is dict
            else check_metadata(metadata, self._where(category))
        )

    def _where(self, category: Any) -> str:
        return f"{type(self).__name__.lower()} {category}"

    def assign(self, **kwargs: Any) -> Label:
        fields = {"category": self.category, "score": self.score, "metadata": self.metadata}
        fields.update(kwargs)
        return Label(**fields)

    def convert(self, categories: Categories) -> Label:
        return self.assign(category=self.category.convert(categories))

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return (self.category, self.score, self.metadata) == (
            other.category,
            other.score,
            other.metadata,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Label(category={self.category!r}, score={self.score!r})"


def _invalid(category: Any, problem: str) -> ValidationError:
    return ValidationError(f"annotation {category}: {problem}")


#: The largest coordinate magnitude: beyond 2**53 floats skip whole pixels, and areas of
#: larger coordinates overflow (a record with 1e308 made stats report NaN).
LIMIT = 2.0**53


def _out_of_range(lower: Sequence[float], upper: Sequence[float]) -> bool:
    return min(lower) < -LIMIT or max(upper) > LIMIT


def _as_polygon(points: Any, category: Any) -> tuple[np.ndarray, list[float], list[float]]:
    """The open, read-only ring of `points` and its lower and upper corners.

    Finiteness is read off the corners: min and max propagate NaN and reach any infinity, so
    no separate pass over the points is needed.
    """
    try:
        array = np.array(points, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):  # e.g. 10**400
        raise _invalid(category, "polygon points must be numbers") from None
    if array.ndim != 2 or array.shape[1] != 2:
        raise _invalid(category, f"polygon points must have shape (K, 2), got {array.shape}")
    if len(array) > 1 and array[-1, 0] == array[0, 0] and array[-1, 1] == array[0, 1]:
        array = array[:-1]
    if len(array) < 3:
        raise _invalid(category, f"a polygon needs at least 3 points, got {len(array)}")
    lower = array.min(axis=0).tolist()
    upper = array.max(axis=0).tolist()
    if not all(map(math.isfinite, lower + upper)):
        raise _invalid(category, "polygon points must be finite")
    if _out_of_range(lower, upper):
        raise _invalid(category, f"polygon points must lie within ±2**53, got {lower}..{upper}")
    array.setflags(write=False)
    return array, lower, upper


_PLAIN_NUMBERS = (float, int)
Pairs = list[tuple[float, float]]


def _plain_polygon(points: Any) -> tuple[Pairs, list[float], list[float]] | None:
    """`_as_polygon` for the common case, without numpy: a list of [x, y] pairs of ints and
    floats, finite, at least 3 once closed, as an open ring of float pairs and its corners.
    None for anything else, which `_as_polygon` then accepts or rejects with its message."""
    if type(points) is not list and type(points) is not tuple:
        return None
    ring = []
    try:
        for point in points:
            if (type(point) is not list and type(point) is not tuple) or len(point) != 2:
                return None
            x, y = point
            if type(x) not in _PLAIN_NUMBERS or type(y) not in _PLAIN_NUMBERS:
                return None
            ring.append((float(x), float(y)))
    except OverflowError:  # e.g. 10**400
        return None
    if len(ring) > 1 and ring[-1] == ring[0]:  # == on floats: -0.0 closes a ring at 0.0
        ring.pop()
    if len(ring) < 3:
        return None
    xs = [x for x, _ in ring]
    ys = [y for _, y in ring]
    if not math.isfinite(sum(xs) + sum(ys)):  # NaN or infinity (or a sum too big: rare)
        return None
    lower, upper = [min(xs), min(ys)], [max(xs), max(ys)]
    if _out_of_range(lower, upper):
        return None
    return ring, lower, upper


class Annotation(Label):
    """A box (x1, y1, x2, y2) or a polygon (points) with a category, score and metadata.

    A polygon given as a list of pairs is kept as one (see `point_pairs`); its numpy ring is
    made when `points` is first read, as for boxes.
    """

    __slots__ = ("is_rect", "x1", "y1", "x2", "y2", "_points", "_pairs")

    def __init__(
        self,
        category: Category,
        x1: float | None = None,
        y1: float | None = None,
        x2: float | None = None,
        y2: float | None = None,
        points: Any = None,
        score: float | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(category=category, score=score, metadata=metadata)
        if points is None:
            if x1 is None or y1 is None or x2 is None or y2 is None:
                raise _invalid(category, "a box needs all of x1, y1, x2, y2")
            try:
                x1, y1, x2, y2 = float(x1), float(y1), float(x2), float(y2)
            except (TypeError, ValueError, OverflowError):  # e.g. 10**400
                raise _invalid(category, "box coordinates must be numbers") from None
            if not (
                math.isfinite(x1) and math.isfinite(y1) and math.isfinite(x2) and math.isfinite(y2)
            ):
                raise _invalid(category, f"box coordinates must be finite, got {[x1, y1, x2, y2]}")
            if x1 > x2 or y1 > y2:
                raise _invalid(
                    category, f"box is inverted (x1 > x2 or y1 > y2): {[x1, y1, x2, y2]}"
                )
            if _out_of_range((x1, y1), (x2, y2)):
                raise _invalid(category, f"box must lie within ±2**53, got {[x1, y1, x2, y2]}")
            self.is_rect = True
            self.x1, self.y1, self.x2, self.y2 = x1, y1, x2, y2
            self._points: np.ndarray | None = None
            self._pairs: Pairs | None = None
        elif x1 is not None or y1 is not None or x2 is not None or y2 is not None:
            raise _invalid(category, "give either x1, y1, x2, y2 or points, not both")
        else:
            self.is_rect = False
            plain = _plain_polygon(points)
            if plain is None:
                self._points, lower, upper = _as_polygon(points, category)
                self._pairs = None
            else:
                self._pairs, lower, upper = plain
                self._points = None
            (self.x1, self.y1), (self.x2, self.y2) = lower, upper

    @property
    def points(self) -> np.ndarray:
        """The polygon, or the box's 4-corner ring; read-only. Made on first use when the
        annotation was given as numbers, since many readers never look at it."""
        if self._points is None:
            ring = np.array(self.point_pairs(), dtype=np.float64)
            ring.setflags(write=False)
            self._points = ring
        return self._points

    def point_pairs(self) -> Pairs:
        """The points of `points` as (x, y) float pairs, for code that goes point by point
        (cheaper than iterating the array). Do not modify the list."""
        if self._pairs is None:
            if self.is_rect:
                x1, y1, x2, y2 = self.x1, self.y1, self.x2, self.y2
                self._pairs = [(x1, y1), (x2, y1), (x2, y2), (x1, y2)]
            else:
                assert self._points is not None
                self._pairs = [(x, y) for x, y in self._points.tolist()]
        return self._pairs

    def area(self) -> float:
        """Box: width × height. Polygon: absolute shoelace area."""
        if self.is_rect:
            return (self.x2 - self.x1) * (self.y2 - self.y1)
        x, y = self.points[:, 0], self.points[:, 1]
        # The same shifted copies np.roll makes, without its overhead: the sums are bit for bit
        # those of np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)).
        x_next = np.concatenate((x[1:], x[:1]))
        y_next = np.concatenate((y[1:], y[:1]))
        return float(abs(np.dot(x, y_next) - np.dot(y, x_next)) / 2)

    def x1y1x2y2(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2, self.y2)

    def xywh(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2 - self.x1, self.y2 - self.y1)

    def assign(self, **kwargs: Any) -> Annotation:
        """A new annotation with some fields replaced; give `points` to turn a box into a polygon
        or x1..y2 to turn a polygon into a box."""
        fields: dict[str, Any] = {
            "category": self.category,
            "score": self.score,
            "metadata": self.metadata,
        }
        box_keys = ("x1", "y1", "x2", "y2")
        if kwargs.get("points") is not None:
            fields["points"] = kwargs["points"]
        elif self.is_rect or any(kwargs.get(k) is not None for k in box_keys):
            fields.update(zip(box_keys, self.x1y1x2y2(), strict=True))
        else:
            fields["points"] = self.points
        geometry = {"points", *box_keys}
        fields.update({k: v for k, v in kwargs.items() if k not in geometry})
        fields.update({k: kwargs[k] for k in box_keys if kwargs.get(k) is not None})
        return Annotation(**fields)

    # The original's editing helpers; coordinates stay floats (see "Moving from the
    # original mira" in the README for what differs).
    def crop(
        self, width: float, height: float, xoffset: float = 0, yoffset: float = 0
    ) -> list[Annotation]:
        """The pieces inside the window (xoffset, yoffset, +width, +height), in the window's
        frame; [] when nothing of it is inside. A polygon may give several pieces."""
        from mira.ops.crop import clip_annotation

        window = (xoffset, yoffset, xoffset + width, yoffset + height)
        return clip_annotation(self, window)[0]  # type: ignore[arg-type]

    def draw(self, image: np.ndarray, color: Any, opaque: bool = False, thickness: int = 5) -> None:
        """Draw onto `image` in place: filled (the pixels whose centres are inside) when
        `opaque`, otherwise an outline `thickness` pixels wide along the true edges."""
        from mira.ops.render import draw_shape

        draw_shape(image, self.points, color, opaque=opaque, thickness=thickness)

    def extract(self, image: np.ndarray, pad: float = 0) -> np.ndarray:
        """The part of `image` under the bounds grown by `pad` (whole pixels covering them,
        clipped to the image)."""
        height, width = image.shape[:2]
        x1, y1 = (max(math.floor(v - pad), 0) for v in (self.x1, self.y1))
        x2 = min(max(math.ceil(self.x2 + pad), 0), width)
        y2 = min(max(math.ceil(self.y2 + pad), 0), height)
        return image[y1 : max(y1, y2), x1 : max(x1, x2)]

    def expand(self, pad: float, dimensions: tuple[int, int]) -> Annotation:
        """A box grown by `pad` on every side, clamped to `dimensions` (width, height); a
        polygon becomes its grown bounding box (with a warning, as in the original)."""
        if not self.is_rect:
            warnings.warn("expanding a polygon gives its bounding box, not a polygon", stacklevel=2)
        width, height = dimensions
        return Annotation(
            self.category,
            x1=min(max(self.x1 - pad, 0), width),
            y1=min(max(self.y1 - pad, 0), height),
            x2=min(max(self.x2 + pad, 0), width),
            y2=min(max(self.y2 + pad, 0), height),
            score=self.score,
            metadata=self.metadata,
        )

    def resize(self, scale: float | Any) -> Annotation:
        """Scaled by `scale`: one factor, or [sx, sy]; no rounding."""
        factors = np.broadcast_to(np.asarray(scale, dtype=np.float64).reshape(-1), (2,))
        sx, sy = float(factors[0]), float(factors[1])
        if self.is_rect:
            return self.assign(x1=self.x1 * sx, y1=self.y1 * sy, x2=self.x2 * sx, y2=self.y2 * sy)
        return self.assign(points=self.points * np.array([sx, sy]))

    def convert(self, categories: Categories) -> Annotation:
        return self.assign(category=self.category.convert(categories))

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return (
            self.is_rect == other.is_rect
            and self.points.shape == other.points.shape
            and bool(np.array_equal(self.points, other.points))
            and super().__eq__(other)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        if self.is_rect:
            where = f"box=({self.x1}, {self.y1}, {self.x2}, {self.y2})"
        else:
            where = f"polygon={self.points.tolist()}"
        return f"Annotation(category={self.category!r}, {where}, score={self.score!r})"


def checked_polygon(
    category: Category,
    pairs: Pairs,
    lower: list[float],
    upper: list[float],
    score: float | None,
    metadata: dict[str, Any],
) -> Annotation:
    """A polygon annotation made without the constructor's checks, for a reader that has
    made the checks `_plain_polygon` makes (an open ring of at least 3 finite float pairs
    within ±2**53, `lower`/`upper` its corners) and holds a Category, a finite float score
    or None, and a metadata dict (copied here, as the constructor does). Per ring it costs
    a fraction of the constructor, which a COCO import of 860k annotations calls the most.
    User input goes through `Annotation(...)`."""
    annotation = _new_annotation(Annotation)
    annotation.category, annotation.score, annotation.metadata = category, score, dict(metadata)
    annotation.is_rect, annotation._points, annotation._pairs = False, None, pairs
    (annotation.x1, annotation.y1), (annotation.x2, annotation.y2) = lower, upper
    return annotation


_new_annotation = object.__new__


def labels2onehot(labels: Iterable[Label], categories: Categories, binary: bool) -> np.ndarray:
    """(C,) float32 vector of `labels`: 1 per present category, or with binary=False its
    highest score (a label without a score counts as 1)."""
    y = np.zeros(len(categories), dtype=np.float32)
    for label in labels:
        i = categories.index(label.category)
        value = 1.0 if binary or label.score is None else label.score
        y[i] = max(y[i], value)
    return y
