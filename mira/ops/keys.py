"""Per-scene values named by a KEY, shared by `split` and `stats`.

A KEY is either ``categories`` (the set of category names present in the scene's
annotations and labels: a multi-label value) or ``metadata.PATH``, a dotted path into
the scene's metadata (``metadata.source.camera``; a numeric step indexes a list).
Keys are parsed once, before any scene is read, so a typo fails fast.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from mira.errors import ValidationError

__all__ = ["REQUIRED", "Key", "hashable", "parse_key", "resolve_key"]


class _Required:
    """Sentinel: a missing value is an error (``None`` is a legitimate default)."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
_MISSING = object()


@dataclass(frozen=True)
class Key:
    """A parsed KEY: ``kind`` is "categories" or "metadata"; ``path`` the metadata steps."""

    text: str
    kind: str
    path: tuple[str, ...] = ()

    @property
    def is_multi(self) -> bool:
        """True when the value is a set of labels (one scene counts in several strata)."""
        return self.kind == "categories"

    def value(self, scene: Any, missing: Any = REQUIRED, name: str | None = None) -> Any:
        """The scene's value; ``missing`` replaces an absent or null one.

        ``categories`` gives a frozenset of names; metadata values come back as stored
        (use `hashable` before grouping by them). ``name`` identifies the scene in errors.
        """
        if self.kind == "categories":
            found = [a.category.name for a in scene.annotations]
            found += [label.category.name for label in scene.labels]
            return frozenset(found)
        value = _walk(scene.metadata, self.path)
        if value is _MISSING or value is None:
            if missing is REQUIRED:
                who = name if name is not None else (scene.key or "?")
                raise ValidationError(
                    f"scene {who}: no value for {self.text} (give a default with --missing VALUE)"
                )
            return missing
        return value

    def labels(self, scene: Any, missing: Any = REQUIRED, name: str | None = None) -> list:
        """The value as a list of labels: sorted names for ``categories``, else ``[value]``."""
        value = self.value(scene, missing=missing, name=name)
        if self.is_multi:
            return sorted(value)
        return [hashable(value)]


def parse_key(text: str | Key) -> Key:
    """Parse and check a KEY string; the error lists what is accepted."""
    if isinstance(text, Key):
        return text
    if not isinstance(text, str):
        raise ValidationError(f"a key must be a string, got {type(text).__name__}")
    if text == "categories":
        return Key(text, "categories")
    if text.startswith("metadata."):
        path = tuple(text[len("metadata.") :].split("."))
        if all(path):
            return Key(text, "metadata", path)
    raise ValidationError(
        f"unknown key {text!r}: use 'categories' or 'metadata.PATH' (e.g. metadata.source.camera)"
    )


def resolve_key(scene: Any, key: str | Key, missing: Any = REQUIRED, name: str | None = None):
    """Shortcut for ``parse_key(key).value(scene, missing, name)``."""
    return parse_key(key).value(scene, missing=missing, name=name)


def hashable(value: Any) -> Hashable:
    """A hashable stand-in for a JSON value: lists become tuples, dicts sorted item tuples."""
    if isinstance(value, (list, tuple)):
        return tuple(hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), hashable(v)) for k, v in value.items()))
    if isinstance(value, (set, frozenset)):
        return frozenset(hashable(v) for v in value)
    return value


def _walk(value: Any, path: tuple[str, ...]) -> Any:
    """Follow ``path`` through dicts (and lists, for numeric steps); _MISSING if it breaks."""
    for step in path:
        if isinstance(value, dict) and step in value:
            value = value[step]
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return _MISSING
    return value
