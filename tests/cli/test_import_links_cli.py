"""Every importer refuses an image that is a link to outside its image folder (a file
name must not lead the import out of the dataset), with one line, exit 1, no output."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"

#: format → (data folder, SOURCE inside the copy, more arguments, the image to replace)
CASES = {
    "coco": ("coco", "annotations/instances_val2017.json", [], "val2017/000000000285.jpg"),
    "yolo": ("yolo/detect", "data.yaml", [], "images/train/000000000025.jpg"),
    "voc": ("voc", ".", [], "JPEGImages/2008_000008.jpg"),
    "cvat": ("cvat", "annotations.xml", [], "images/street_001.jpg"),
    "labelstudio": (
        "labelstudio",
        "export.json",
        ["--images-dir", "media"],
        "media/upload/1/6b1f1c2e-kitchen.jpg",
    ),
}


@pytest.mark.parametrize("fmt", sorted(CASES))
def test_an_image_linked_to_outside_its_folder_is_refused(mira, tmp_path, fmt):
    folder, source, more, image = CASES[fmt]
    dataset = tmp_path / "dataset"
    shutil.copytree(DATA / folder, dataset)
    outside = tmp_path / "outside.jpg"
    (dataset / image).rename(outside)
    os.symlink(outside, dataset / image)
    out = tmp_path / "out.tar"
    arguments = [a if not a.startswith("media") else dataset / a for a in more]
    result = mira("import", fmt, dataset / source, "-o", out, *arguments)
    assert result.returncode == 1, result.stdout
    (line,) = result.stderr.splitlines()
    name = os.path.basename(image)
    assert line.startswith("error: ") and "is a link to outside the image folder" in line
    assert name in line
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset", "outside.jpg"]


def test_a_linked_image_inside_its_folder_is_read(mira, tmp_path):
    dataset = tmp_path / "dataset"
    shutil.copytree(DATA / "voc", dataset)
    image = dataset / "JPEGImages" / "2008_000008.jpg"
    image.rename(dataset / "JPEGImages" / "kept.jpg")
    os.symlink("kept.jpg", image)
    result = mira("import", "voc", dataset, "-o", tmp_path / "out.tar")
    assert result.returncode == 0, result.stderr
