"""The report every interchange importer fills (see `mira.formats.interchange`).

``scenes``, ``annotations`` and ``labels`` count what was imported, ``categories`` counts
both per category (in category order), ``skipped`` counts items left out by reason and
``unsupported`` counts what the format holds that mira cannot represent, by what it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mira.core import Categories, Scene
from mira.errors import FormatError, ValidationError

__all__ = ["category_index", "count", "count_scene", "new_report"]


def new_report(
    report: dict[str, Any] | None,
    source: str,
    categories: Iterable[str],
    skip_reasons: Iterable[str] = ("missing",),
) -> dict[str, Any]:
    """`report` (a new dict if None) with every count at zero."""
    report = {} if report is None else report
    report.update(
        {
            "source": source,
            "scenes": 0,
            "annotations": 0,
            "labels": 0,
            "categories": {name: {"annotations": 0, "labels": 0} for name in categories},
            "skipped": dict.fromkeys(skip_reasons, 0),
            "unsupported": {},
        }
    )
    return report


def count(report: dict[str, Any], group: str, what: str, n: int = 1) -> None:
    """Add `n` to ``report[group][what]`` (e.g. ``unsupported``, ``polyline``)."""
    counts = report[group]
    counts[what] = counts.get(what, 0) + n


def count_scene(report: dict[str, Any], scene: Scene) -> Scene:
    """Count an imported scene, its annotations and labels; returns the scene."""
    report["scenes"] += 1
    report["annotations"] += len(scene.annotations)
    report["labels"] += len(scene.labels)
    categories = report["categories"]
    for annotation in scene.annotations:
        categories[annotation.category.name]["annotations"] += 1
    for label in scene.labels:
        categories[label.category.name]["labels"] += 1
    return scene


def category_index(names: Iterable[str], where: str) -> Categories:
    """The categories named `names`, or a FormatError naming `where` when two differ only
    in case (mira's category names are unique case-insensitively)."""
    try:
        return Categories(list(names))
    except ValidationError as exc:
        raise FormatError(f"{where}: {exc}") from None
