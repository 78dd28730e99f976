"""Exact, stratified, group-safe and reproducible splits.

`split_indices` works on plain lists (no images). The original library drew each
group's part at random, so proportions were right only on average; here parts get
exact quotas (largest-remainder rounding), groups (frames of one video) are placed
whole by a deficit-greedy pass plus a repair pass, and strata are balanced by
iterative stratification (Sechidis et al., 2011), which also covers multi-label
data such as "the categories present in a scene". Randomness is one local
``numpy.random.default_rng(seed)``: the result depends only on the items' order, the
arguments and the seed, never on ``hash()``.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np

from mira.errors import ValidationError
from mira.ops._partition import largest_remainder, place

__all__ = ["largest_remainder", "split_collection", "split_indices"]

_MULTI = (set, frozenset, list)


def split_indices(
    items: int | Sequence,
    sizes: Sequence[float],
    random_state: int | None = 42,
    stratify: Sequence | None = None,
    group: Sequence[Hashable] | None = None,
    preserve: Sequence[int | None] | None = None,
) -> list[list[int]]:
    """Split ``items`` (a count or a sequence) into ``len(sizes)`` lists of indices.

    - sizes: positive fractions summing to 1; parts get ``largest_remainder(sizes, n)``
      items exactly, or as close as whole groups allow (each part within the largest
      group size of its target).
    - stratify: one hashable per item, or a set/list of labels per item (multi-label).
    - group: one hashable per item; items sharing a value land in the same part.
    - preserve: a part index (negative counts from the end) or None per item; those items
      go to that part first, the others fill the remaining quotas.
    Indices inside each part are in input order. Inputs are never modified.
    """
    n = _count(items)
    weights = _check_sizes(sizes)
    k = len(weights)
    group = _check_length("group", group, n)
    stratify = _check_length("stratify", stratify, n)
    preserve = _check_length("preserve", preserve, n)
    rng = _make_rng(random_state)
    if n == 0:
        return [[] for _ in range(k)]

    members, unit_of = _units(group, n)
    fixed = _preserved_units(preserve, members, unit_of, group, k)
    item_labels, n_labels = _labels(stratify, n)

    part_of = [-1] * len(members)
    filled = [0] * k
    for unit, part in fixed.items():
        part_of[unit] = part
        filled[part] += len(members[unit])
    free = [u for u in range(len(members)) if u not in fixed]
    quotas = _quotas(largest_remainder(weights, n), filled, n - sum(filled))
    if free:
        multi = stratify is not None and any(isinstance(v, _MULTI) for v in stratify)
        place(free, members, item_labels, n_labels, multi, quotas, part_of, rng)
    parts: list[list[int]] = [[] for _ in range(k)]
    for item in range(n):
        parts[part_of[unit_of[item]]].append(item)
    return parts


def split_collection(collection, sizes, random_state=42, stratify=None, group=None, preserve=None):
    """`SceneCollection.split`: one collection per size; stratify/group may be a KEY string."""
    from mira.ops.keys import hashable, parse_key

    scenes = list(collection)
    if isinstance(stratify, str):
        key = parse_key(stratify)
        stratify = [key.value(s, name=_name(s, i)) for i, s in enumerate(scenes)]
        stratify = [v if key.is_multi else hashable(v) for v in stratify]
    if isinstance(group, str):
        key = parse_key(group)
        group = [hashable(key.value(s, name=_name(s, i))) for i, s in enumerate(scenes)]
    parts = split_indices(len(scenes), sizes, random_state, stratify, group, preserve)
    return [
        collection.assign(scenes=[scenes[i] for i in part], categories=collection.categories)
        for part in parts
    ]


def _name(scene: Any, index: int) -> str:
    return scene.key if getattr(scene, "key", None) is not None else f"#{index}"


def _count(items: int | Sequence) -> int:
    if isinstance(items, Integral) and not isinstance(items, bool):
        if items < 0:
            raise ValidationError(f"the number of items must not be negative, got {items}")
        return int(items)
    try:
        return len(items)  # type: ignore[arg-type]
    except TypeError:
        raise ValidationError(
            f"items must be a count or a sequence, got {type(items).__name__}"
        ) from None


def _check_sizes(sizes: Sequence[float]) -> list[float]:
    try:
        values = list(sizes)
    except TypeError:
        raise ValidationError(f"sizes must be a list of numbers, got {sizes!r}") from None
    if not values:
        raise ValidationError("sizes must not be empty")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, Real):
            raise ValidationError(f"sizes must be numbers, got {value!r}")
        if not (math.isfinite(value) and value > 0):
            raise ValidationError(f"sizes must be positive, got {_fmt(value)}")
    total = math.fsum(float(v) for v in values)
    if abs(total - 1) > 1e-6:
        raise ValidationError(
            f"sizes must sum to 1, got {_fmt(total)} ({' + '.join(_fmt(v) for v in values)})"
        )
    return [float(v) for v in values]


def _fmt(value: float) -> str:
    return f"{float(value):.10g}"


def _check_length(name: str, values: Sequence | None, n: int) -> list | None:
    if values is None:
        return None
    values = list(values)
    if len(values) != n:
        raise ValidationError(f"{name} has {len(values)} values but there are {n} items")
    return values


def _make_rng(random_state: Any) -> np.random.Generator:
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is not None and (
        isinstance(random_state, bool) or not isinstance(random_state, Integral) or random_state < 0
    ):
        raise ValidationError(f"random_state must be a non-negative integer, got {random_state!r}")
    return np.random.default_rng(random_state)


def _units(group: list | None, n: int) -> tuple[list[list[int]], list[int]]:
    """Units of placement: groups in order of first appearance (each item alone if none)."""
    if group is None:
        return [[i] for i in range(n)], list(range(n))
    index: dict[Hashable, int] = {}
    members: list[list[int]] = []
    unit_of = []
    for item, value in enumerate(group):
        try:
            unit = index.setdefault(value, len(members))
        except TypeError:
            raise ValidationError(
                f"group[{item}] is not hashable: {type(value).__name__}"
            ) from None
        if unit == len(members):
            members.append([])
        members[unit].append(item)
        unit_of.append(unit)
    return members, unit_of


def _preserved_units(preserve, members, unit_of, group, k) -> dict[int, int]:
    """Unit → part for units with preserved items; a group preserved in two parts is an error."""
    fixed: dict[int, int] = {}
    if preserve is None:
        return fixed
    for item, value in enumerate(preserve):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, Integral):
            raise ValidationError(f"preserve[{item}] must be a part index or None, got {value!r}")
        if not -k <= value < k:
            raise ValidationError(
                f"preserve[{item}] is {value}, but there are {k} parts (valid: 0..{k - 1})"
            )
        part = int(value) % k
        unit = unit_of[item]
        if fixed.setdefault(unit, part) != part:
            raise ValidationError(
                f"group {group[item]!r} has items preserved in parts {fixed[unit]} and {part}"
            )
    return fixed


def _labels(stratify: list | None, n: int) -> tuple[list[tuple[int, ...]], int]:
    """Per item, a tuple of label ids; ids follow first appearance in a hash-free order."""
    if stratify is None:
        return [()] * n, 0
    multi = any(isinstance(v, _MULTI) for v in stratify)
    ids: dict[Hashable, int] = {}
    result = []
    for item, value in enumerate(stratify):
        values = _sorted_labels(value) if multi and isinstance(value, _MULTI) else [value]
        try:
            result.append(tuple(sorted({ids.setdefault(v, len(ids)) for v in values})))
        except TypeError:
            raise ValidationError(
                f"stratify[{item}] is not hashable: {type(value).__name__}"
            ) from None
    return result, len(ids)


def _sorted_labels(values) -> list:
    """A set's labels in an order that does not depend on PYTHONHASHSEED."""
    try:
        return sorted(values, key=lambda v: (type(v).__name__, v))
    except TypeError:
        return sorted(values, key=lambda v: (type(v).__name__, repr(v)))


def _quotas(targets: list[int], filled: list[int], remaining: int) -> list[int]:
    """Items still wanted per part; re-apportioned when preserved items overfill a part."""
    offsets = [max(t - f, 0) for t, f in zip(targets, filled, strict=True)]
    if remaining == 0:
        return [0] * len(targets)
    if sum(offsets) == remaining:
        return offsets
    return largest_remainder(offsets, remaining)
