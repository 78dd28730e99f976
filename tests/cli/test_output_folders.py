"""One rule for output folders, in every command: missing parent folders are created (as
`mkdir -p` would); a parent that is a file is a one-line error, and nothing is left."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mira.core import Annotation, Categories, Scene, SceneCollection
from mira.core.image import encode_image
from tests.conftest import make_image

PROJECT = Path(__file__).resolve().parents[2] / "sample" / "project.json"
CATS = Categories(["dog"])


@pytest.fixture
def data(tmp_path: Path) -> Path:
    scenes = [
        Scene(
            CATS,
            encode_image(make_image(64, 48, seed=i), "jpg", 90),
            [Annotation(CATS["dog"], 1, 2, 30.5, 40)],
            key=f"{i:06d}",
        )
        for i in range(4)
    ]
    SceneCollection(scenes).save(tmp_path / "data.tar")
    (tmp_path / "flip.yaml").write_text(
        "__version__: 2.0.8\ntransform:\n  __class_fullname__: Compose\n  p: 1.0\n"
        "  transforms:\n  - __class_fullname__: HorizontalFlip\n    p: 1.0\n"
    )
    (tmp_path / "map.yaml").write_text("dog: animal\n")
    return tmp_path


#: command → (argv with {out} for the output's place, files it writes there)
COMMANDS = {
    "import-qsl": (["import-qsl", PROJECT, "-o", "{out}/data.tar"], ["data.tar"]),
    "dedupe": (["dedupe", "data.tar", "-o", "{out}/data.tar"], ["data.tar"]),
    "dedupe shards": (["dedupe", "data.tar", "-o", "{out}/d.tar", "--shard-size", "2"],
                      ["d-000000.tar", "d-000001.tar"]),
    "tile": (["tile", "data.tar", "-o", "{out}/data.tar", "--max-size", "32", "--mode", "grid"],
             ["data.tar"]),
    "augment": (["augment", "data.tar", "-o", "{out}/data.tar", "--config", "flip.yaml"],
                ["data.tar"]),
    "placeholder": (["placeholder", "data.tar", "-o", "{out}/data.tar"], ["data.tar"]),
    "split": (["split", "data.tar", "--sizes", "0.5", "0.5", "--out-dir", "{out}"],
              ["data-test.tar", "data-train.tar"]),
    "render": (["render", "data.tar", "-o", "{out}/rendered"], ["rendered"]),
    "import": (["import", "qsl", PROJECT, "-o", "{out}/data.tar"], ["data.tar"]),
    "merge": (["merge", "data.tar", "data.tar", "-o", "{out}/data.tar", "--prefix-keys", "a-",
               "b-"], ["data.tar"]),
    "filter": (["filter", "data.tar", "-o", "{out}/data.tar", "--min-area", "4"], ["data.tar"]),
    "remap": (["remap", "data.tar", "-o", "{out}/data.tar", "--map", "map.yaml"], ["data.tar"]),
    "fingerprint": (["fingerprint", "data.tar", "-o", "{out}/data.tar"], ["data.tar"]),
}  # fmt: skip


@pytest.mark.parametrize("name", COMMANDS)
def test_missing_parent_folders_are_created(mira, data, name):
    argv, written = COMMANDS[name]
    result = mira(*(str(a).format(out="new/deeper") for a in argv), cwd=data)
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(data / "new" / "deeper")) == written


@pytest.mark.parametrize("name", COMMANDS)
def test_a_file_in_the_way_is_a_one_line_error(mira, data, name):
    argv, written = COMMANDS[name]
    (data / "taken").write_text("a file")
    before = sorted(os.listdir(data))
    result = mira(*(str(a).format(out="taken/deeper") for a in argv), cwd=data)
    first = written[0] if name != "split" else "data-train.tar"
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        f"error: taken/deeper/{first}: cannot create folder taken/deeper: taken is not a folder\n"
    )
    assert sorted(os.listdir(data)) == before
