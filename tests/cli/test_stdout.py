"""Standard output as scripts use it: a reader that stops early (`| head`) ends mira quietly
(exit 141, as SIGPIPE ends other Unix tools), and a tarball is never written to a terminal."""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

import pytest

from mira.core import Annotation, Categories, Scene, SceneCollection
from mira.core.image import encode_image
from tests.cli.conftest import MIRA
from tests.conftest import make_image

CATS = Categories(["dog"])


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Over 1 MB of tarball: far more than a pipe holds, so a writer surely meets the
    closed end."""
    scenes = [
        Scene(
            CATS,
            encode_image(make_image(160, 120, seed=i), "jpg", 95),
            [Annotation(CATS["dog"], 1, 2, 30.5, 40), Annotation(CATS["dog"], 1, 2, 30.5, 40)],
            key=f"{i:06d}",
        )
        for i in range(60)
    ]
    path = tmp_path_factory.mktemp("big") / "big.tar"
    SceneCollection(scenes).save(path)
    assert path.stat().st_size > 1 << 20
    return path


def shell(line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`line` in bash, printing the exit status of each command of its pipeline."""
    script = f'{line}; echo "${{PIPESTATUS[@]}}"'
    environment = {**os.environ, "PATH": f"{Path(MIRA).parent}:{os.environ['PATH']}"}
    return subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, cwd=cwd, env=environment
    )


@pytest.mark.parametrize(
    "line",
    [
        "mira dedupe big.tar -o - | head -c 1000 > /dev/null",  # the copying process writes
        "mira tile big.tar -o - --max-size 64 --mode grid | head -c 1000 > /dev/null",
        "mira tile big.tar -o - --max-size 64 --mode grid -j 2 | head -c 1000 > /dev/null",
        "mira placeholder big.tar -o - | head -c 1000 > /dev/null",
        "mira merge big.tar big.tar --prefix-keys a- b- -o - | head -c 1000 > /dev/null",
        "mira filter big.tar --min-area 4 -o - | head -c 1000 > /dev/null",
        "mira fingerprint big.tar -o - | head -c 1000 > /dev/null",
    ],
)
def test_a_closed_stdout_ends_quietly(big, line):
    result = shell(line, big.parent)
    assert (result.stdout, result.stderr) == ("141 0\n", "")


def test_a_closed_stdout_after_the_output_is_written(big, tmp_path):
    """The table goes to a reader that has gone: the output stays, the exit is quiet."""
    result = shell(f"mira dedupe {big} -o out.tar | true", tmp_path)
    assert result.stderr == ""
    assert result.stdout in ("0 0\n", "141 0\n")  # whether `true` ended before the table
    assert (tmp_path / "out.tar").stat().st_size > 0


def on_a_terminal(*args: object) -> tuple[subprocess.CompletedProcess[str], bytes]:
    """Run mira with its standard output a terminal (a pty); returns what reached it."""
    leader, follower = pty.openpty()
    result = subprocess.run(
        [MIRA, *map(str, args)], stdout=follower, stderr=subprocess.PIPE, text=True
    )
    os.close(follower)
    shown = b""
    try:
        while chunk := os.read(leader, 4096):
            shown += chunk
    except OSError:  # nothing more: the terminal is gone
        pass
    os.close(leader)
    return result, shown


@pytest.mark.parametrize(
    "argv",
    [
        ["dedupe", "{big}"],
        ["tile", "{big}", "--max-size", "64"],
        ["augment", "{big}", "--config", "x.yaml"],
        ["placeholder", "{big}"],
        ["import-qsl", "project.json"],
        ["import", "qsl", "project.json"],
        ["merge", "{big}", "{big}"],
        ["filter", "{big}"],
        ["remap", "{big}", "--map", "map.yaml"],
        ["fingerprint", "{big}"],
    ],
)
def test_a_tarball_is_not_written_to_a_terminal(big, argv):
    result, shown = on_a_terminal(*(a.format(big=big) for a in argv), "-o", "-")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--output' / '-o': standard output is a terminal; "
        "redirect it (> OUT.tar, | mira ...) or give a file"
    )
    assert shown == b""


def test_to_a_pipe_or_file_it_still_goes(big, tmp_path):
    with open(tmp_path / "copy.tar", "wb") as stdout:
        result = subprocess.run([MIRA, "dedupe", str(big), "-o", "-"], stdout=stdout)
    assert result.returncode == 0
    assert (tmp_path / "copy.tar").read_bytes()[:11] == b"000000.json"
