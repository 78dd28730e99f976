"""mira.datasets against the original's: the same VOC and COCO files read the same way,
the same category lists (COCOCategories90 ends with toothbrush, which the original lost)."""

from __future__ import annotations

from pathlib import Path

from mira import datasets
from tests.datasets.conftest import write_coco, write_image, write_voc

THEIRS = """
from mira import datasets
from mira.core import Categories
def described(collection):
    return [
        [scene._image.split("/")[-1], [[a.category.name, *a.x1y1x2y2()] for a in scene.annotations]]
        for scene in collection
    ]
result = {
    "voc": described(datasets.load_voc(voc, Categories(["dog", "cat"]), image_dir=folder)),
    "coco": described(datasets.load_coco(coco, folder)),
    "coco_categories": [c.name for c in datasets.load_coco(coco, folder).categories],
    "COCOCategories": [c.name for c in datasets.COCOCategories],
    "COCOCategories90": [c.name for c in datasets.COCOCategories90],
    "VOCCategories": [c.name for c in datasets.VOCCategories],
    "shapes": [c.name for c in datasets.load_shapes(n_scenes=2).categories],
}
"""


def described(collection) -> list:
    return [
        [Path(s.image_source.path).name, [[a.category.name, *a.x1y1x2y2()] for a in s.annotations]]
        for s in collection
    ]


def test_readers_and_lists_match_the_original(original, tmp_path: Path) -> None:
    for name in ("a.png", "b.png", "c.png"):
        write_image(tmp_path / name)
    voc = [
        str(write_voc(tmp_path / "a.xml", "a.png", [("dog", 1, 2, 30, 40), ("cat", 3, 3, 9, 9)])),
        str(write_voc(tmp_path / "b.xml", "b.png", [])),
    ]
    coco = str(write_coco(tmp_path / "instances.json"))
    theirs = original(THEIRS, voc=voc, coco=coco, folder=str(tmp_path))
    assert (
        described(datasets.load_voc(voc, ["dog", "cat"], image_dir=str(tmp_path))) == theirs["voc"]
    )
    assert described(datasets.load_coco(coco, str(tmp_path))) == theirs["coco"]
    assert datasets.load_coco(coco, str(tmp_path)).categories.names == theirs["coco_categories"]
    assert datasets.COCOCategories.names == theirs["COCOCategories"]
    assert datasets.VOCCategories.names == theirs["VOCCategories"]
    assert datasets.load_shapes(n_scenes=2).categories.names == theirs["shapes"]
    assert datasets.COCOCategories90.names[:-1] == theirs["COCOCategories90"][:-1]
    assert (datasets.COCOCategories90.names[-1], theirs["COCOCategories90"][-1]) == (
        "toothbrush",
        "placeholder_84",
    )
