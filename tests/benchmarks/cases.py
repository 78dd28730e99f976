"""What is benchmarked: each of our commands, its original-library equivalent, and its floor.

A case's `ours` builds the argv of our command from a `Paths` (the dataset, its native
tarball and a scratch output); `original` names the operation in original.py (None: no
equivalent); `floor` is "tar" (copying the image bytes) for commands that need no pixels
and "decode" (decoding every JPEG) for commands that do.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BIN = Path(sys.executable).parent
MIRA = str(BIN / "mira")
PYTHON = str(BIN / "python")
HELPERS = str(HERE / "helpers.py")
PIPELINE = str(HERE / "augment.yaml")
REMAP = str(HERE / "remap.yaml")


@dataclass(frozen=True)
class Paths:
    dataset: Path  # folder with project.json and the JPEGs
    tarball: Path  # our native tarball of the dataset
    out: Path  # scratch output (file or folder), removed before and after each run


def halves(paths: Paths) -> list[str]:
    """The two halves of the native tarball that run.py prepares for merging."""
    return [str(paths.tarball.with_name(f"{paths.tarball.stem}-{h}.tar")) for h in "ab"]


@dataclass(frozen=True)
class Case:
    name: str  # shown in the table
    command: str | None  # the mira subcommand it needs (None: library only)
    ours: Callable[[Paths], list[str]]
    original: str | None
    floor: str
    pixel_free: bool = False  # checked to decode no image
    stdout: bool = False  # the command's stdout is data (e.g. --json): send it to a file
    big: bool = True  # also run at the larger sizes (the original never is)
    out_dir: bool = False  # the output is an existing folder (created empty before each run)


CASES = [
    Case(
        "load + save, streamed (library)",
        None,
        lambda p: [PYTHON, HELPERS, "stream", str(p.tarball), str(p.out)],
        "roundtrip",
        "tar",
    ),
    Case(
        "load + save, in memory (library)",
        None,
        lambda p: [PYTHON, HELPERS, "memory", str(p.tarball), str(p.out)],
        "roundtrip",
        "tar",
    ),
    Case(
        "import-qsl",
        "import-qsl",
        lambda p: [MIRA, "import-qsl", str(p.dataset / "project.json"), "-o", str(p.out)],
        "import",
        "tar",
    ),
    Case(
        "stats --json",
        "stats",
        lambda p: [MIRA, "stats", str(p.tarball), "--json"],
        "stats",
        "tar",
        pixel_free=True,
        stdout=True,
    ),
    Case(
        "split --sizes 0.7 0.15 0.15",
        "split",
        lambda p: [
            MIRA,
            "split",
            str(p.tarball),
            "--sizes",
            "0.7",
            "0.15",
            "0.15",
            "--out-dir",
            str(p.out),
        ],  # fmt: skip
        "split",
        "tar",
        pixel_free=True,
        out_dir=True,
    ),
    Case(
        "dedupe --threshold 0.9",
        "dedupe",
        lambda p: [MIRA, "dedupe", str(p.tarball), "-o", str(p.out), "--threshold", "0.9"],
        "dedupe",
        "tar",
        pixel_free=True,
    ),
    Case(
        "merge two halves --prefix-keys auto",
        "merge",
        lambda p: [MIRA, "merge", *halves(p), "-o", str(p.out), "--prefix-keys", "auto"],
        None,
        "tar",
        pixel_free=True,
    ),
    Case(
        "filter --drop-categories triangle --min-area 100",
        "filter",
        lambda p: [
            *[MIRA, "filter", str(p.tarball), "-o", str(p.out)],
            *["--drop-categories", "triangle", "--min-area", "100"],
        ],
        None,
        "tar",
        pixel_free=True,
    ),
    Case(
        "remap --map remap.yaml",
        "remap",
        lambda p: [MIRA, "remap", str(p.tarball), "-o", str(p.out), "--map", REMAP],
        None,
        "tar",
        pixel_free=True,
    ),
    Case(
        "tile --max-size 512",
        "tile",
        lambda p: [MIRA, "tile", str(p.tarball), "-o", str(p.out), "--max-size", "512"],
        "tile",
        "decode",
    ),
    Case(
        "augment (all cores)",
        "augment",
        lambda p: [MIRA, "augment", str(p.tarball), "-o", str(p.out), "--config", PIPELINE],
        "augment",
        "decode",
    ),
    Case(
        "augment --jobs 1",
        "augment",
        lambda p: [
            MIRA,
            "augment",
            str(p.tarball),
            "-o",
            str(p.out),
            "--config",
            PIPELINE,
            "--jobs",
            "1",
        ],  # fmt: skip
        None,
        "decode",
        big=False,
    ),
    Case(
        "placeholder",
        "placeholder",
        lambda p: [MIRA, "placeholder", str(p.tarball), "-o", str(p.out)],
        "placeholder",
        "decode",
    ),
    Case(
        "render",
        "render",
        lambda p: [MIRA, "render", str(p.tarball), "-o", str(p.out)],
        "render",
        "decode",
    ),
]


def case_key(case: Case) -> str:
    """A short identifier for --cases: the subcommand, or the helper's mode."""
    if case.command is None:
        return "stream" if "streamed" in case.name else "memory"
    return "augment-jobs1" if "--jobs 1" in case.name else case.command
