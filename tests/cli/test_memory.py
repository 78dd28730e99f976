"""Memory that does not grow with the data (issue #20), measured: the peak resident memory of
the real `mira` process, on a project and a collection of 2,000 and of 20,000 scenes.

Measured growth from 2,000 to 20,000 scenes, this code (main before issue #20):
import-qsl 1 MB (78 MB: the project was read whole), stats 4 MB (21 MB: an object per
image), split 4 MB (5 MB: split keeps a group value and a part per scene by design),
dedupe 0.3 MB (3.4 MB: the writer's key strings).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.cli.conftest import MIRA

SMALL, BIG = 2_000, 20_000
MB = 2**20
REGIONS = [{"name": "Type", "options": [{"name": "Dog"}, {"name": "Cat"}]}]


def _jpeg() -> bytes:
    image = np.zeros((24, 32, 3), np.uint8)
    image[:12, :16] = (10, 200, 30)
    ok, buffer = cv2.imencode(".jpg", image)
    assert ok
    return buffer.tobytes()


def _with_comment(jpeg: bytes, text: bytes) -> bytes:
    """The JPEG with a comment segment after its start marker: distinct bytes, same pixels."""
    return jpeg[:2] + b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text + jpeg[2:]


def _box(x1: float, y1: float, x2: float, y2: float, value: str) -> dict[str, object]:
    return {"pt1": {"x": x1, "y": y1}, "pt2": {"x": x2, "y": y2}, "labels": {"Type": [value]}}


def _make_project(folder: Path, n: int) -> Path:
    """`n` distinct 32x24 JPEGs, three boxes each (two overlapping: dedupe has work)."""
    jpeg = _jpeg()
    (folder / "img").mkdir(parents=True)
    project = folder / "project.json"
    with project.open("w") as f:
        f.write('{"config": ' + json.dumps({"regions": REGIONS, "image": []}) + ', "items": [')
        for i in range(n):
            name = f"img/{i:06d}.jpg"
            (folder / name).write_bytes(_with_comment(jpeg, b"scene %d" % i))
            a = (i % 7) / 20
            boxes = [_box(a, a, a + 0.4, a + 0.4, "Dog"), _box(a, a, a + 0.39, a + 0.4, "Dog")]
            boxes.append(_box(0.5, 0.5, 0.9, 0.6 + (i % 5) / 20, "Cat"))
            item = {"target": name, "metadata": {"group": str(i // 4)}, "labels": {"boxes": boxes}}
            f.write(("," if i else "") + json.dumps(item))
        f.write("]}")
    return project


# A process starts with its parent's peak as its own (the kernel copies it on fork), so
# `mira` is started by a small Python process whose peak is far below any of mira's.
_STARTER = (
    "import os, subprocess, sys\n"
    "process = subprocess.Popen(sys.argv[1:], stdout=open('stdout', 'wb'))\n"
    "_, status, usage = os.wait4(process.pid, 0)\n"
    "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)\n"
)


def peak_rss(*args: object, cwd: Path) -> int:
    """Run `mira ARGS...` (it must succeed, its stdout in CWD/stdout); the peak resident
    memory of that process in bytes."""
    argv = [sys.executable, "-c", _STARTER, MIRA, "--quiet", *map(str, args)]
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=True)
    status, kilobytes = map(int, done.stdout.split())
    assert status == 0, done.stderr
    return kilobytes * 1024  # Linux reports kilobytes


@pytest.fixture(scope="module")
def collections(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """n → a folder with project.json and data.tar (imported from it) of n scenes; the
    import's peak memory in "import.rss"."""
    folders = {}
    for n in (SMALL, BIG):
        folder = tmp_path_factory.mktemp(f"scenes{n}")
        project = _make_project(folder, n)
        rss = peak_rss("import-qsl", project, "-o", "data.tar", cwd=folder)
        (folder / "import.rss").write_text(str(rss))
        folders[n] = folder
    return folders


def growth(collections: dict[int, Path], *args: object) -> int:
    """How much more the peak memory of `mira ARGS` is on the big collection than on the
    small one."""
    small, big = (peak_rss(*args, cwd=collections[n]) for n in (SMALL, BIG))
    return big - small


def test_import_qsl_holds_one_item_at_a_time(collections: dict[int, Path]) -> None:
    small, big = (int((collections[n] / "import.rss").read_text()) for n in (SMALL, BIG))
    report = json.loads(
        subprocess.run(
            [MIRA, "stats", "--json", "data.tar"],
            cwd=collections[BIG],
            capture_output=True,
            check=True,
        ).stdout
    )
    assert (report["scenes"], report["annotations"]) == (BIG, 3 * BIG)
    assert big - small < 4 * MB, f"{small} -> {big} bytes"


def test_stats_keeps_compact_arrays(collections: dict[int, Path]) -> None:
    grown = growth(collections, "stats", "--json", "data.tar")
    assert json.loads((collections[BIG] / "stdout").read_bytes())["scenes"] == BIG
    assert grown < 8 * MB, f"grew by {grown} bytes"


@pytest.mark.parametrize(
    ("command", "limit"),
    [
        (("split", "data.tar", "--sizes", "0.5", "0.5", "--group", "metadata.group"), 8 * MB),
        (("dedupe", "data.tar", "-o", "deduped.tar", "--threshold", "0.9"), 2 * MB),
    ],
    ids=["split", "dedupe"],
)
def test_pixel_free_writers_do_not_grow(
    collections: dict[int, Path], command: tuple[str, ...], limit: int
) -> None:
    grown = growth(collections, *command, "--force")
    assert grown < limit, f"grew by {grown} bytes"
