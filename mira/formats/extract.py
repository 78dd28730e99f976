"""Extracting a tarball into a folder of image files, and loading such a folder again.

The folder holds `scenes.jsonl` (one native record per line, in order), the image files
named by scene key, and `.mira-extract.json`, which records which tarballs it came from
(path, size, modification time) so a stale folder is never returned as if it were current.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mira.core.image import ImageSource
from mira.errors import FormatError, OutputError
from mira.formats.tar_native import encode_record, parse_record, scene_from_record
from mira.formats.tario import STDIO, PathLike, expand_inputs
from mira.formats.temporaries import temporary_folder

if TYPE_CHECKING:
    from mira.core.collection import SceneCollection

MANIFEST = ".mira-extract.json"
RECORDS = "scenes.jsonl"


def _identity(paths: list[str]) -> list[dict[str, Any]]:
    sources = []
    for path in paths:
        if path == STDIO:
            raise FormatError("cannot extract standard input into a folder; give a file")
        stat = os.stat(path)
        sources.append(
            {"path": os.path.abspath(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
        )
    return sources


def extract_scenes(
    paths: PathLike | Sequence[PathLike], directory: PathLike, force: bool = False
) -> SceneCollection:
    """Extract once, then reuse the folder while the tarballs are unchanged.

    A folder that was extracted from other (or changed) tarballs, or that holds files of its
    own, is refused unless `force`; with `force` it is replaced.
    """
    from mira.formats.stream import iter_scenes

    inputs = expand_inputs(paths)
    sources = _identity(inputs)
    folder = Path(directory)
    manifest = folder / MANIFEST
    if folder.exists():
        if not folder.is_dir():
            raise OutputError(f"{folder}: exists and is not a folder")
        if manifest.exists() and json.loads(manifest.read_text()).get("sources") == sources:
            return load_extracted(folder)
        if any(folder.iterdir()) and not force:
            raise OutputError(
                f"{folder}: holds other files or an extraction of other tarballs "
                "(use force=True to replace it)"
            )
    staging = temporary_folder(folder)
    try:
        with open(staging / RECORDS, "wb") as records:
            for index, scene in enumerate(iter_scenes(inputs)):
                key = scene.key or f"{index:06d}"
                image_name = f"{key}.{scene.image_source.extension}"
                (staging / image_name).write_bytes(scene.image_source.encoded())
                records.write(encode_record(scene, key, image_name) + b"\n")
        (staging / MANIFEST).write_text(json.dumps({"sources": sources}))
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return load_extracted(folder)


def load_extracted(directory: PathLike) -> SceneCollection:
    """A collection whose images are the extracted files (read lazily)."""
    from mira.core.collection import SceneCollection

    folder = Path(directory)
    records = folder / RECORDS
    if not records.is_file():
        raise FormatError(f"{folder}: not an extracted mira collection (no {RECORDS})")
    scenes = []
    with open(records, "rb") as lines:
        for number, line in enumerate(lines, start=1):
            where = f"{records}: line {number}"
            record = parse_record(line, where)
            image_path = folder / Path(record["image"]).name

            def source(size: tuple[int, int], path: Path = image_path) -> ImageSource:
                return ImageSource(path=path, dimensions=size)

            scenes.append(scene_from_record(record, source, where))
    categories = scenes[0].categories if scenes else []
    return SceneCollection(scenes, categories)
