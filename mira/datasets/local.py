"""The original's downloadable datasets, read from a local folder: mira downloads nothing.

Each loader takes `directory`; by default it looks where the original put its downloads
(`$MIRA_CACHE/datasets/...`, else `~/.mira/datasets/...`), so data the original fetched
is found as it is. A folder that is not there, or lacks the expected files, is a
`MissingDataError` saying what to download and where to put it. Folder names are matched
case-insensitively (VOCdevkit or vocdevkit).
"""

from __future__ import annotations

import os
from pathlib import Path

from mira.core.annotation import Categories
from mira.core.collection import SceneCollection
from mira.core.scene import Scene
from mira.datasets.categories import VOCCategories
from mira.datasets.voc import load_voc
from mira.errors import MissingDataError, ValidationError

VOC2012_URL = "http://host.robots.ox.ac.uk/pascal/VOC/voc2012/VOCtrainval_11-May-2012.tar"
PETS_URLS = (
    "https://www.robots.ox.ac.uk/~vgg/data/pets/data/images.tar.gz",
    "https://www.robots.ox.ac.uk/~vgg/data/pets/data/annotations.tar.gz",
)
RANDOM_IMAGE_URLS = (
    "https://upload.wikimedia.org/wikipedia/commons/8/8d/President_Barack_Obama.jpg",
    "https://upload.wikimedia.org/wikipedia/commons/b/b7/Atlantic_Puffin.jpg",
    "https://upload.wikimedia.org/wikipedia/commons/1/11/Freightliner_M2_106_6x4_2014_%2814240376744%29.jpg",
    "https://upload.wikimedia.org/wikipedia/commons/2/2c/1996_Porsche_911_993_GT2_-_Flickr_-_The_Car_Spy_%284%29.jpg",
    "https://upload.wikimedia.org/wikipedia/commons/1/1e/Handheld_blowdryer.jpg",
)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def cache_dir(*parts: str) -> Path:
    """Where the original kept downloads: $MIRA_CACHE, else ~/.mira."""
    base = os.environ.get("MIRA_CACHE") or os.path.join(os.path.expanduser("~"), ".mira")
    return Path(base).expanduser().absolute().joinpath(*parts)


def _child(folder: Path, name: str) -> Path | None:
    """`folder/name`, the name matched case-insensitively."""
    exact = folder / name
    if exact.exists():
        return exact
    if folder.is_dir():
        for entry in sorted(folder.iterdir()):
            if entry.name.casefold() == name.casefold():
                return entry
    return None


def _find(folder: Path, *parts: str) -> Path | None:
    found: Path | None = folder
    for part in parts:
        found = _child(found, part) if found is not None else None
    return found


def _folder(directory: str | os.PathLike[str] | None, *default: str) -> Path:
    return cache_dir(*default) if directory is None else Path(directory)


def load_voc2012(
    subset: str = "train", directory: str | os.PathLike[str] | None = None
) -> SceneCollection:
    """PASCAL VOC 2012 detection, `subset` "train", "val" or "trainval", from `directory`
    holding VOCdevkit/VOC2012 (the extracted VOCtrainval_11-May-2012.tar)."""
    if subset not in ("train", "val", "trainval"):
        raise ValidationError(f"subset must be 'train', 'val' or 'trainval', got {subset!r}")
    folder = _folder(directory, "datasets", "voc2012", "VOCtrainval_11-May-2012")
    root = _find(folder, "VOCdevkit", "VOC2012")
    lists = root and _find(root, "ImageSets", "Main")
    images, xmls = root and _find(root, "JPEGImages"), root and _find(root, "Annotations")
    if root is None or lists is None or images is None or xmls is None:
        raise MissingDataError(
            f"PASCAL VOC 2012 not found in {folder} (expected VOCdevkit/VOC2012 with "
            f"JPEGImages, Annotations and ImageSets/Main): download {VOC2012_URL} and extract "
            "it there, or pass directory="
        )
    ids: list[str] = []
    for part in ("train", "val"):
        if subset in (part, "trainval"):
            listing = _find(lists, f"{part}.txt")
            if listing is None:
                raise MissingDataError(f"{lists}: {part}.txt is missing")
            ids.extend(line.strip() for line in listing.read_text().splitlines() if line.strip())
    return load_voc([str(xmls / f"{i}.xml") for i in ids], VOCCategories, str(images))


def load_oxfordiiitpets(
    breed: bool = True, directory: str | os.PathLike[str] | None = None
) -> SceneCollection:
    """The Oxford-IIIT Pet head boxes from `directory` holding images/ (images.tar.gz) and
    annotations/xmls/ (annotations.tar.gz). Categories are the breeds (from the file
    names, sorted), or with breed=False "dog" and "cat"."""
    folder = _folder(directory, "datasets", "oxfordiiitpets")
    # The original extracted each archive into a folder of its own name: images/images/...
    images = _find(folder, "images", "images") or _find(folder, "images")
    xmls = _find(folder, "annotations", "annotations", "xmls") or _find(
        folder, "annotations", "xmls"
    )
    if images is None or xmls is None:
        raise MissingDataError(
            f"Oxford-IIIT Pet not found in {folder} (expected images/ and annotations/xmls/): "
            f"download {PETS_URLS[0]} and {PETS_URLS[1]} and extract both there, "
            "or pass directory="
        )
    files = sorted(str(p) for p in xmls.glob("*.xml"))
    if not files:
        raise MissingDataError(f"{xmls}: no .xml annotation files")
    collection = load_voc(files, Categories(["dog", "cat"]), str(images))
    if not breed:
        return collection
    breeds = [Path(f).stem.rsplit("_", 1)[0] for f in files]
    categories = Categories(sorted(set(breeds)))
    scenes = [
        scene.assign(
            categories=categories,
            annotations=[a.assign(category=categories[name]) for a in scene.annotations],
        )
        for scene, name in zip(collection, breeds, strict=True)
    ]
    return SceneCollection(scenes, categories)


def load_random_images(directory: str | os.PathLike[str] | None = None) -> SceneCollection:
    """Scenes without annotations: every image file in `directory` (sorted by name), or
    without it the original's five Wikimedia photographs, downloaded (10 s timeout each)."""
    from mira.core.utils import read

    categories = Categories([])
    if directory is None:
        return SceneCollection([Scene(categories, read(u)) for u in RANDOM_IMAGE_URLS], categories)
    folder = Path(directory)
    if not folder.is_dir():
        raise MissingDataError(f"{folder}: no such folder of images")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise MissingDataError(f"{folder}: no image files ({', '.join(IMAGE_SUFFIXES)})")
    return SceneCollection([Scene(categories, str(p)) for p in files], categories)
