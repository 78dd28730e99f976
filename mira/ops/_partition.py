"""The placement algorithms behind `mira.ops.split.split_indices`.

Items are grouped into *units* (a group, or one item); preserved units are already
placed, and the free ones must fill integer quotas per part. Three cases:

- no strata, single items: a seeded permutation cut at the quotas (uniformly random);
- one stratum per item, single items: controlled rounding, so every (stratum, part)
  cell gets the floor or the ceiling of its ideal count and parts still get their exact
  quotas; such a rounding always exists for a two-way table (Cox, 1987) and is found
  with augmenting paths;
- otherwise (groups, or several labels per item): iterative stratification (Sechidis
  et al., 2011) over units with a room check, then a repair pass that moves or swaps
  whole units while that brings part sizes closer to their quotas.
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from collections.abc import Hashable, Sequence
from fractions import Fraction
from numbers import Integral

import numpy as np

from mira.errors import ValidationError

_MULTI = (set, frozenset, list)


def largest_remainder(weights: Sequence, total: int) -> list[int]:
    """Integers summing to ``total`` proportional to ``weights`` (exact rational maths).

    Each part gets the floor of its share; the leftover units go to the largest
    remainders, ties to the lower index, so the result never depends on float noise.
    """
    exact = [Fraction(w) for w in weights]
    whole = sum(exact)
    shares = [w * total / whole for w in exact]
    counts = [math.floor(s) for s in shares]
    order = sorted(range(len(shares)), key=lambda i: (-(shares[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def partition(n: int, weights: list[float], rng, stratify, group, preserve) -> np.ndarray:
    """The checked arguments of `split_indices` → each item's part, as an int64 array."""
    k = len(weights)
    if stratify is None and group is None and preserve is None:
        # the general path below with one unit per item, in arrays: at a million items its
        # lists of units would take hundreds of MB
        part_of = np.empty(n, dtype=np.int64)
        part_of[rng.permutation(n)] = np.repeat(np.arange(k), largest_remainder(weights, n))
        return part_of
    members, unit_of = _units(group, n)
    fixed = _preserved_units(preserve, members, unit_of, group, k)
    item_labels, n_labels = _labels(stratify, n)

    unit_part = [-1] * len(members)
    filled = [0] * k
    for unit, part in fixed.items():
        unit_part[unit] = part
        filled[part] += len(members[unit])
    free = [u for u in range(len(members)) if u not in fixed]
    quotas = _quotas(largest_remainder(weights, n), filled, n - sum(filled))
    if free:
        multi = stratify is not None and any(isinstance(v, _MULTI) for v in stratify)
        place(free, members, item_labels, n_labels, multi, quotas, unit_part, rng)
    return np.asarray(unit_part, dtype=np.int64)[np.asarray(unit_of, dtype=np.int64)]


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


def place(free, members, item_labels, n_labels, multi, quotas, part_of, rng) -> None:
    """Set ``part_of[unit]`` for every free unit so that parts meet ``quotas``."""
    singles = all(len(members[u]) == 1 for u in free)
    if singles and n_labels == 0:
        order = rng.permutation(len(free))
        bounds = np.cumsum([0, *quotas])
        for part in range(len(quotas)):
            for position in order[bounds[part] : bounds[part + 1]]:
                part_of[free[position]] = part
    elif singles and not multi:
        _controlled_rounding(free, members, item_labels, n_labels, quotas, part_of, rng)
    else:
        order = [free[i] for i in rng.permutation(len(free))]
        deficit = _iterative(order, members, item_labels, n_labels, quotas, part_of, rng)
        _repair(order, members, part_of, deficit)


def _controlled_rounding(free, members, item_labels, n_labels, quotas, part_of, rng) -> None:
    """Exact per-stratum counts (floor or ceil of m·q/R per cell), then random items."""
    strata: list[list[int]] = [[] for _ in range(n_labels)]
    for unit in free:
        strata[item_labels[members[unit][0]][0]].append(unit)
    total, k = len(free), len(quotas)
    cells = np.array([[len(s) * q for q in quotas] for s in strata], dtype=object)
    counts = cells // total
    open_cell = (cells % total) != 0
    row_need = [len(s) - int(sum(row)) for s, row in zip(strata, counts, strict=True)]
    col_need = [q - int(sum(counts[:, p])) for p, q in enumerate(quotas)]
    extra = np.zeros((n_labels, k), dtype=bool)
    # A seeded first guess: each stratum's leftover items go to open cells drawn with
    # probability ∝ the cell's fractional part; augmenting paths then fix any shortfall.
    for row in rng.permutation(n_labels):
        choices = [p for p in range(k) if open_cell[row, p] and col_need[p] > 0]
        if not choices or not row_need[row]:
            continue
        fractions = np.array([(cells[row, p] % total) / total for p in choices])
        keys = rng.random(len(choices)) ** (1.0 / fractions)
        for p in [choices[i] for i in np.argsort(-keys, kind="stable")][: row_need[row]]:
            extra[row, p] = True
            row_need[row] -= 1
            col_need[p] -= 1
    for row in range(n_labels):
        while row_need[row] > 0:
            _augment(row, open_cell, extra, col_need)
            row_need[row] -= 1
    for row, units in enumerate(strata):
        shuffled = [units[i] for i in rng.permutation(len(units))]
        start = 0
        for part in range(k):
            stop = start + int(counts[row, part]) + int(extra[row, part])
            for unit in shuffled[start:stop]:
                part_of[unit] = part
            start = stop


def _augment(row: int, open_cell, extra, col_need: list[int]) -> None:
    """Give ``row`` one more extra unit via a shortest alternating path (BFS)."""
    rows, k = extra.shape
    came_from: dict[tuple[str, int], tuple[str, int] | None] = {("r", row): None}
    queue = deque([("r", row)])
    while queue:
        kind, node = queue.popleft()
        if kind == "r":
            for p in range(k):
                if open_cell[node, p] and not extra[node, p] and ("c", p) not in came_from:
                    came_from[("c", p)] = (kind, node)
                    if col_need[p] > 0:
                        col_need[p] -= 1
                        _flip_path(came_from, ("c", p), extra)
                        return
                    queue.append(("c", p))
        else:
            for r in range(rows):
                if extra[r, node] and ("r", r) not in came_from:
                    came_from[("r", r)] = (kind, node)
                    queue.append(("r", r))
    raise AssertionError("controlled rounding found no augmenting path")  # pragma: no cover


def _flip_path(came_from, end, extra) -> None:
    node = end
    while came_from[node] is not None:
        previous = came_from[node]
        if node[0] == "c":
            extra[previous[1], node[1]] = True
        else:
            extra[node[1], previous[1]] = False
        node = previous


def _iterative(order, members, item_labels, n_labels, quotas, part_of, rng) -> list[int]:
    """Iterative stratification over units; returns the final deficit per part.

    Labels are taken rarest first. A unit goes to a part with room for all of it (else
    the part with the largest deficit), preferring parts that still want a whole item
    of the label (the most wanting wins), then parts wanting a fraction of one (the
    part lagging its overall share most wins, so rounding does not pile up), then the
    rest. Unlabelled units are placed last by deficit. Ties use the seeded generator.
    """
    k, free_total = len(quotas), sum(quotas)
    deficit = list(quotas)
    tally_of: dict[int, dict[int, int]] = {}
    by_label: list[list[int]] = [[] for _ in range(n_labels)]
    remaining = [0] * n_labels
    for unit in order:
        tally: dict[int, int] = {}
        for item in members[unit]:
            for label in item_labels[item]:
                tally[label] = tally.get(label, 0) + 1
        tally_of[unit] = tally
        for label, count in tally.items():
            by_label[label].append(unit)
            remaining[label] += count
    share = [q / free_total for q in quotas]
    desire = [[w * r for r in remaining] for w in share]
    placed = 0

    def put(unit: int, label: int | None) -> None:
        nonlocal placed
        size = len(members[unit])
        parts = [p for p in range(k) if deficit[p] >= size]
        if not parts:
            parts = [p for p in range(k) if deficit[p] == max(deficit)]
        if label is None:
            score = {p: (deficit[p],) for p in parts}
        else:
            score = {}
            for p in parts:
                want = desire[p][label]
                behind = share[p] * (placed + size) - (quotas[p] - deficit[p])
                tier = 2 if want >= 1 else 1 if want > 0 else 0
                score[p] = (tier, behind, want) if tier == 1 else (tier, want, behind)
        best = max(score.values())
        parts = [p for p in parts if score[p] == best]
        part = parts[0] if len(parts) == 1 else parts[int(rng.integers(len(parts)))]
        part_of[unit] = part
        deficit[part] -= size
        placed += size
        for other, count in tally_of[unit].items():
            desire[part][other] -= count
            remaining[other] -= count

    while any(remaining):
        label = min((r, i) for i, r in enumerate(remaining) if r > 0)[1]
        for unit in by_label[label]:
            if part_of[unit] == -1:
                put(unit, label)
    for unit in order:
        if part_of[unit] == -1:
            put(unit, None)
    return deficit


def _repair(movable: list[int], members, part_of, deficit: list[int]) -> None:
    """Move or swap whole units between parts while that brings sizes closer to quotas.

    Each step takes the move or swap that lowers the total |deficit| most, so the loop
    ends after at most that many steps. Units of equal size are interchangeable here;
    the earliest placed one moves.
    """
    k = len(deficit)
    if not any(deficit):
        return
    by_size: list[dict[int, list[int]]] = [{} for _ in range(k)]
    for unit in movable:
        by_size[part_of[unit]].setdefault(len(members[unit]), []).append(unit)
    while any(deficit):
        best: tuple[int, tuple[int, int, int, int] | None] = (0, None)
        for a in range(k):
            for b in range(k):
                if a == b or not by_size[a]:
                    continue
                ys = [0, *sorted(by_size[b])]
                middle = (deficit[b] - deficit[a]) / 2
                for x in sorted(by_size[a]):
                    at = bisect.bisect_left(ys, x - middle)
                    for y in ys[max(at - 1, 0) : at + 1]:
                        t = x - y
                        gain = abs(deficit[a] + t) + abs(deficit[b] - t)
                        gain -= abs(deficit[a]) + abs(deficit[b])
                        if gain < best[0]:
                            best = (gain, (a, b, x, y))
        if best[1] is None:
            return
        a, b, x, y = best[1]
        _move(by_size, part_of, a, b, x)
        if y:
            _move(by_size, part_of, b, a, y)
        deficit[a] += x - y
        deficit[b] -= x - y


def _move(by_size, part_of, source: int, target: int, size: int) -> None:
    unit = by_size[source][size].pop(0)
    if not by_size[source][size]:
        del by_size[source][size]
    by_size[target].setdefault(size, []).append(unit)
    part_of[unit] = target
