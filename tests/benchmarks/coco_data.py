"""A generated COCO instances file shaped like COCO's train2017, and its images.

    python tests/benchmarks/coco_data.py OUT_DIR [--images 118287] [--annotations 860001]

Writes OUT_DIR/annotations/instances_train.json and OUT_DIR/images/train/*.jpg. The JSON
has COCO's fields and proportions: 80 categories with ids 1-90 (COCO's gaps), 640x480
images, polygon annotations of 1-2 rings of 8-40 points (two decimals, ~24 points on
average), 1% crowd annotations as uncompressed RLE, annotations in an order unrelated to
the images. At the default size the file is about 470 MB, as train2017's 448 MB.

The images are tiny distinct JPEGs (64x48, ~1 KB) so that 118k of them take little disk:
the JSON says 640x480, which the import takes as given (it reads no image header), so the
benchmark measures the annotations, not the bytes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
from pathlib import Path

GAPS = {12, 26, 29, 30, 45, 66, 68, 69, 71, 83}
CATEGORY_IDS = [i for i in range(1, 91) if i not in GAPS]
WIDTH, HEIGHT = 640, 480


def _ring(rng: random.Random, cx: float, cy: float, radius: float) -> list[float]:
    count = rng.randrange(8, 41)
    values = []
    for j in range(count):
        angle = 2 * math.pi * j / count
        r = radius * rng.uniform(0.6, 1.0)
        x = min(max(cx + r * math.cos(angle), 0.0), WIDTH)
        y = min(max(cy + r * math.sin(angle), 0.0), HEIGHT)
        values += [round(x, 2), round(y, 2)]
    return values


def _crowd(rng: random.Random) -> list[int]:
    """Uncompressed column-major RLE of an axis-aligned rectangle (off run first)."""
    x1, y1 = rng.randrange(0, WIDTH - 100), rng.randrange(0, HEIGHT - 100)
    w, h = rng.randrange(20, 100), rng.randrange(20, 100)
    counts = [x1 * HEIGHT + y1]
    for _ in range(w - 1):
        counts += [h, HEIGHT - h]
    counts += [h, WIDTH * HEIGHT - counts[0] - w * h - (w - 1) * (HEIGHT - h)]
    return counts


def write_json(path: Path, images: int, annotations: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        f.write('{"info": {"description": "generated like COCO 2017", "version": "1.0", ')
        f.write('"year": 2017}, "licenses": [{"url": "http://creativecommons.org/licenses/')
        f.write('by/2.0/", "id": 4, "name": "Attribution License"}], "images": [')
        for i in range(images):
            entry = {
                "license": 4,
                "file_name": f"{i + 1:012d}.jpg",
                "coco_url": f"http://images.example/train2017/{i + 1:012d}.jpg",
                "height": HEIGHT,
                "width": WIDTH,
                "date_captured": "2013-11-14 17:02:52",
                "id": i + 1,
            }
            f.write((", " if i else "") + json.dumps(entry))
        f.write('], "annotations": [')
        for a in range(annotations):
            image_id = rng.randrange(images) + 1
            crowd = rng.random() < 0.01
            if crowd:
                segmentation: object = {"counts": _crowd(rng), "size": [HEIGHT, WIDTH]}
                bbox = [0.0, 0.0, 1.0, 1.0]
            else:
                cx, cy, r = rng.uniform(40, 600), rng.uniform(40, 440), rng.uniform(5, 60)
                rings = [_ring(rng, cx, cy, r) for _ in range(rng.choice((1, 1, 1, 1, 1, 1, 1, 2)))]
                xs = [v for ring in rings for v in ring[0::2]]
                ys = [v for ring in rings for v in ring[1::2]]
                segmentation = rings
                bbox = [min(xs), min(ys), round(max(xs) - min(xs), 2), round(max(ys) - min(ys), 2)]
            entry = {
                "segmentation": segmentation,
                "area": round(bbox[2] * bbox[3] * 0.7, 4),
                "iscrowd": int(crowd),
                "image_id": image_id,
                "bbox": bbox,
                "category_id": rng.choice(CATEGORY_IDS),
                "id": a + 1,
            }
            f.write((", " if a else "") + json.dumps(entry))
        categories = [
            {"supercategory": f"group{i % 12}", "id": i, "name": f"class{i}"} for i in CATEGORY_IDS
        ]
        f.write('], "categories": ' + json.dumps(categories) + "}")


def write_images(folder: Path, images: int, seed: int = 0) -> None:
    import cv2
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    base = (rng.random((48, 64, 3)) * 255).astype(np.uint8)
    for i in range(images):
        pixels = base.copy()
        pixels[i % 48, :, :] = i % 251  # distinct bytes for every image
        ok, data = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, 70])
        (folder / f"{i + 1:012d}.jpg").write_bytes(data.tobytes())


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--images", type=int, default=118287)
    parser.add_argument("--annotations", type=int, default=860001)
    args = parser.parse_args(argv)
    write_json(args.out / "annotations" / "instances_train.json", args.images, args.annotations)
    write_images(args.out / "images" / "train", args.images)
    size = os.path.getsize(args.out / "annotations" / "instances_train.json")
    print(f"{args.out}: {args.images} images, {args.annotations} annotations, {size >> 20} MB")


if __name__ == "__main__":
    main(sys.argv[1:])
