"""On-disk formats: tarballs (native and legacy) and labelling projects."""

from mira.formats.extract import extract_scenes, load_extracted
from mira.formats.stream import SceneWriter, iter_scenes, read_collection

__all__ = ["SceneWriter", "extract_scenes", "iter_scenes", "load_extracted", "read_collection"]
