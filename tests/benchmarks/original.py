"""The original library's equivalent of each mira command, run with the original's venv.

    .venv-mira-0.9.36/bin/python tests/benchmarks/original.py OP INPUT OUTPUT

OP is one of the names in OPERATIONS. INPUT is a tarball written by the original (or, for
`import`, a QSL project.json with its images beside it); OUTPUT a tarball or folder.
The original holds a whole collection in memory, decoded, so every operation loads first.
This file must run on the original's Python (3.8+) and never import our `mira`.
"""

import os
import sys
import types


def load(path):
    from mira import core

    return core.SceneCollection.load(path)


def op_import(project, output):
    # Scene.from_qsl imports qsl (and with it ipywidgets) only for RLE masks, which the
    # generated data has none of; a stub module spares the original that import time.
    sys.modules.setdefault("qsl", types.ModuleType("qsl"))
    from mira import core

    base = os.path.dirname(os.path.abspath(project))
    core.SceneCollection.from_qsl(project, "category", base_dir=base).save(output)


def op_roundtrip(path, output):
    load(path).save(output)


def op_split(path, output):
    os.makedirs(output, exist_ok=True)
    parts = load(path).split([0.7, 0.15, 0.15], random_state=42)
    for name, part in zip(["train", "val", "test"], parts, strict=True):
        part.save(os.path.join(output, name + ".tar"))


def op_dedupe(path, output):
    collection = load(path)
    scenes = [scene.drop_duplicates(threshold=0.9, method="iou") for scene in collection]
    collection.assign(scenes=scenes).save(output)


def op_tile(path, output):
    collection = load(path)
    crops = [crop for scene in collection for crop in scene.to_subcrops(512)]
    collection.assign(scenes=crops).save(output)


def op_augment(path, output):
    from mira.core import augmentations

    A = augmentations.A
    # The same transforms and probabilities as tests/benchmarks/augment.yaml.
    pipeline = augmentations.compose(
        [
            A.HorizontalFlip(p=0.5),
            A.RandomBrightnessContrast(brightness_limit=0.2, contrast_limit=0.2, p=0.5),
            A.Affine(scale=(0.9, 1.1), rotate=(-10, 10), translate_percent=(-0.05, 0.05), p=0.7),
        ]
    )
    augmented, _ = load(path).augment(pipeline)
    augmented.save(output)


def op_placeholder(path, output):
    colormap = {"rect": (230, 25, 75), "ellipse": (60, 180, 75), "triangle": (0, 130, 200)}
    load(path).save_placeholder(output, colormap)


def op_stats(path, output):
    """The counts `mira stats` reports, computed by looping over the loaded collection."""
    import json

    import numpy as np

    collection = load(path)
    names = [category.name for category in collection.categories]
    annotations = dict.fromkeys(names, 0)
    scenes_with = dict.fromkeys(names, 0)
    kinds = {"boxes": 0, "polygons": 0}
    sizes = {name: [] for name in names}
    empty = 0
    for scene in collection:
        present = set()
        for annotation in scene.annotations:
            annotations[annotation.category.name] += 1
            present.add(annotation.category.name)
            kinds["boxes" if annotation.is_rect else "polygons"] += 1
            sizes[annotation.category.name].append(
                (annotation.x2 - annotation.x1, annotation.y2 - annotation.y1)
            )
        for name in present:
            scenes_with[name] += 1
        empty += not scene.annotations
    image_sizes = collection.image_sizes()
    report = {
        "scenes": len(collection),
        "annotations": annotations,
        "scenes_with": scenes_with,
        "empty": empty,
        "kinds": kinds,
        "image_sizes": sorted({(int(w), int(h)) for w, h in image_sizes}),
        "quantiles": {
            name: np.quantile(np.array(values), [0.25, 0.5, 0.75], axis=0).tolist()
            for name, values in sizes.items()
            if values
        },
    }
    with open(output, "w") as handle:
        json.dump(report, handle)


def op_render(path, output):
    import cv2

    os.makedirs(output, exist_ok=True)
    for index, scene in enumerate(load(path)):
        cv2.imwrite(os.path.join(output, f"{index:06d}.jpg"), scene.annotated()[..., ::-1])


OPERATIONS = {name[3:]: func for name, func in globals().items() if name.startswith("op_")}

if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in OPERATIONS:
        sys.exit("usage: original.py {" + ",".join(OPERATIONS) + "} INPUT OUTPUT")
    OPERATIONS[sys.argv[1]](sys.argv[2], sys.argv[3])
