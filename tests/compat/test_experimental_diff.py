"""mira.core.experimental against the original's on random layouts, value by value."""

from __future__ import annotations

import numpy as np

from mira.core import experimental


def layouts(count: int = 40) -> list[list]:
    """Random images, include and exclude boxes and crop limits (integers, as the original's
    RandomCropBBoxSafe gives them)."""
    cases = []
    for seed in range(count):
        rng = np.random.default_rng(seed)
        width, height = int(rng.integers(40, 160)), int(rng.integers(40, 160))
        corners = rng.integers(0, [width - 5, height - 5], size=(int(rng.integers(0, 8)), 2))
        include = np.concatenate(
            [corners, np.minimum(corners + rng.integers(3, 30, corners.shape), [width, height])],
            axis=1,
        )
        corners = rng.integers(0, [width - 5, height - 5], size=(int(rng.integers(0, 3)), 2))
        exclude = np.concatenate(
            [corners, np.minimum(corners + rng.integers(3, 20, corners.shape), [width, height])],
            axis=1,
        )
        limits = [int(rng.integers(10, width + 1)), int(rng.integers(10, height + 1))]
        cases.append([include, width, height, exclude, *limits])
    return cases


def test_find_acceptable_crops_matches_the_original(original) -> None:
    cases = layouts()
    theirs = original(
        """
        from mira.core import experimental
        result = [
            np.array(experimental.find_acceptable_crops(
                include, width, height, exclude=exclude, max_width=mw, max_height=mh
            )).reshape(-1, 4)
            for include, width, height, exclude, mw, mh in cases
        ]
        """,
        cases=cases,
    )
    for case, crops in zip(cases, theirs, strict=True):
        include, width, height, exclude, mw, mh = case
        ours = experimental.find_acceptable_crops(
            include, width, height, exclude=exclude, max_width=mw, max_height=mh
        )
        assert ours.tolist() == crops.tolist(), case


# Groups that all share an area: the original's "smallest" fails (numpy 2 refuses its
# ragged array) when one group shares none and another does.
OVERLAPPING = np.array([[0, 0, 10, 10], [2, 2, 12, 12], [30, 30, 40, 40], [31, 29, 41, 41]])


def test_collapse_and_consensus_match_the_original(original) -> None:
    rng = np.random.default_rng(3)
    corners = rng.integers(0, 60, size=(15, 2))
    boxes = np.concatenate([corners, corners + rng.integers(5, 25, size=(15, 2))], axis=1)
    groups = [np.concatenate([boxes[i::3], rng.integers(0, 2, (5, 1))], axis=1) for i in range(3)]
    theirs = original(
        """
        from mira.core import experimental
        result = {
            "collapse": [experimental.collapse_boxes(boxes, t, "largest") for t in (0.1, 0.3)]
            + [experimental.collapse_boxes(overlapping, 0.1, "smallest")],
            "consensus": list(experimental.find_consensus_regions(groups, 0.2)),
        }
        """,
        boxes=boxes,
        groups=groups,
        overlapping=OVERLAPPING,
    )
    ours = [experimental.collapse_boxes(boxes, t, "largest") for t in (0.1, 0.3)]
    ours.append(experimental.collapse_boxes(OVERLAPPING, 0.1, "smallest"))
    assert [o.tolist() for o in ours] == [t.tolist() for t in theirs["collapse"]]
    include, exclude = experimental.find_consensus_regions(groups, 0.2)
    assert include.tolist() == theirs["consensus"][0].tolist()
    assert exclude.tolist() == theirs["consensus"][1].tolist()
