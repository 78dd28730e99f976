"""The category lists the original ships: COCO (80 names, and the 90 ids of the original
annotation files, unused ids as placeholders), PASCAL VOC, and the synthetic shapes."""

from __future__ import annotations

from itertools import product

from mira.core.annotation import Categories

#: The 80 COCO category names, in the order of their ids.
COCO_NAMES = (
    "person, bicycle, car, motorcycle, airplane, bus, train, truck, boat, traffic light, "
    "fire hydrant, stop sign, parking meter, bench, bird, cat, dog, horse, sheep, cow, "
    "elephant, bear, zebra, giraffe, backpack, umbrella, handbag, tie, suitcase, frisbee, "
    "skis, snowboard, sports ball, kite, baseball bat, baseball glove, skateboard, "
    "surfboard, tennis racket, bottle, wine glass, cup, fork, knife, spoon, bowl, banana, "
    "apple, sandwich, orange, broccoli, carrot, hot dog, pizza, donut, cake, chair, couch, "
    "potted plant, bed, dining table, toilet, tv, laptop, mouse, remote, keyboard, "
    "cell phone, microwave, oven, toaster, sink, refrigerator, book, clock, vase, scissors, "
    "teddy bear, hair drier, toothbrush"
).split(", ")
#: COCO's category ids that no category uses (the 2014/2017 files skip them).
COCO_UNUSED_IDS = (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)


def _coco90() -> list[str]:
    names = iter(COCO_NAMES)
    return [f"placeholder_{i}" if i in COCO_UNUSED_IDS else next(names) for i in range(1, 91)]


COCOCategories = Categories(COCO_NAMES)
#: Index i is COCO category id i + 1 (as detectors trained on the 90 ids number them).
COCOCategories90 = Categories(_coco90())
VOCCategories = Categories(
    "aeroplane bicycle bird boat bottle bus car cat chair cow diningtable dog horse "
    "motorbike person pottedplant sheep sofa train tvmonitor".split()
)
ShapeAnnotationConfig = Categories(
    [
        f"{color} {shape}"
        for color, shape in product(["RED", "BLUE", "GREEN"], ["RECTANGLE", "CIRCLE"])
    ]
)
