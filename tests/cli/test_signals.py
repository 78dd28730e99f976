"""Cancelled jobs leave nothing behind: SIGTERM and SIGHUP end a command like Ctrl-C (outputs
and temporaries removed, worker pools and helper processes stopped, exit 128 + signal), and
after SIGKILL the previous output is intact and the next run removes what is left.

Each command is caught mid-way deterministically: it reads a tarball from a standard input
that is fed some scenes and then kept open, so it waits there with its output half-written.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import pytest

from mira.core import Annotation, Categories, Scene, SceneCollection
from mira.core.image import encode_image
from tests.cli.conftest import MIRA
from tests.conftest import make_image

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc")

CATS = Categories(["dog", "cat"])
SCENES = 24
FED = 16  # scenes given before standard input stalls: more than the pool keeps in flight


def write_dataset(path: Path, first_key: int) -> Path:
    scenes = [
        Scene(
            CATS,
            encode_image(make_image(64, 48, seed=i), "jpg", 90),
            [Annotation(CATS["dog"], 1, 2, 30.5, 40), Annotation(CATS["cat"], 20, 10, 60, 44)],
            key=f"{first_key + i:06d}",
        )
        for i in range(SCENES)
    ]
    SceneCollection(scenes).save(path)
    return path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """`first.tar`, given as a file, and `stream.tar`, fed to standard input (other keys)."""
    folder = tmp_path_factory.mktemp("input")
    return {
        "first": write_dataset(folder / "first.tar", 0),
        "stream": write_dataset(folder / "stream.tar", 100000),
    }


def stalled(inputs: dict[str, Path]) -> bytes:
    """The stream's first FED scenes: standard input stops there (but stays open)."""
    data = inputs["stream"].read_bytes()
    return data[: data.index(f"{100000 + FED:06d}.json".encode())]


def processes() -> dict[int, tuple[int, str]]:
    """pid → (parent pid, state) of every process (Linux /proc)."""
    found = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:  # it ended meanwhile
            continue
        found[int(entry)] = (int(fields[1]), fields[0])
    return found


def descendants(pid: int) -> set[int]:
    table = processes()
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, (parent, _) in table.items() if parent in frontier}
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    table = processes()
    return {pid for pid in pids if pid in table and table[pid][1] != "Z"}


def wait_for(condition: Callable[[], object], what: str, process: subprocess.Popen) -> None:
    """Wait until `condition()` holds (not a timing assertion: it only has to happen)."""
    for _ in range(1200):
        if condition():
            return
        if process.poll() is not None:
            raise AssertionError(f"mira ended ({process.returncode}) before {what}")
        time.sleep(0.05)
    raise AssertionError(f"still waiting for {what}")


def cmdlines(pids: set[int]) -> str:
    text = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                text.append(handle.read().replace(b"\0", b" ").decode())
        except OSError:
            pass
    return "\n".join(text)


def temporaries(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.startswith("."))


COMMANDS = {
    # command line after `mira` ("-" reads the stream), output, helpers seen while it runs
    "tile": (["tile", "-", "--max-size", "32", "--mode", "grid", "-j", "2"], "out.tar",
             ["forkserver", "resource_tracker"]),
    "augment": (["augment", "-", "--config", "{pipeline}", "-j", "2"], "out.tar",
                ["forkserver", "resource_tracker"]),
    "render": (["render", "-", "-j", "2"], "rendered", ["forkserver", "resource_tracker"]),
    "dedupe": (["dedupe", "{first}", "-"], "out.tar", ["tar_copier.py"]),
}  # fmt: skip


def command(name: str, inputs: dict[str, Path], out: Path) -> list[str]:
    pipeline = inputs["first"].parent / "flip.yaml"
    pipeline.write_text(
        "__version__: 2.0.8\ntransform:\n  __class_fullname__: Compose\n  p: 1.0\n"
        "  transforms:\n  - __class_fullname__: HorizontalFlip\n    p: 1.0\n"
    )
    argv = [a.format(pipeline=pipeline, first=inputs["first"]) for a in COMMANDS[name][0]]
    return [MIRA, *argv, "-o", str(out), "--force"]


def start(name: str, inputs: dict[str, Path], out: Path, *wrapper: str) -> subprocess.Popen:
    process = subprocess.Popen(
        [*wrapper, *command(name, inputs, out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a CI job or `make` runs it
    )
    threading.Thread(target=feed, args=(process.stdin, stalled(inputs)), daemon=True).start()
    return process


def feed(stdin: IO[bytes], data: bytes) -> None:
    """Write `data`, and then nothing: mira waits for more (unless it ended first)."""
    with contextlib.suppress(BrokenPipeError):
        stdin.write(data)
        stdin.flush()


def complete(name: str, inputs: dict[str, Path], out: Path) -> None:
    """The same command, given the whole stream."""
    argv = command(name, inputs, out)
    result = subprocess.run(argv, input=inputs["stream"].read_bytes(), capture_output=True)
    assert result.returncode == 0, result.stderr


def mid_way(name: str, process: subprocess.Popen, folder: Path, mira_pid: int) -> set[int]:
    """Wait until the output is half-written and the helpers run; returns every process
    mira started."""
    helpers = COMMANDS[name][2]
    wait_for(lambda: temporaries(folder), "a temporary output", process)
    wait_for(
        lambda: all(h in cmdlines(descendants(mira_pid)) for h in helpers),
        f"helpers {helpers}",
        process,
    )
    if "forkserver" in helpers:  # the workers are the forkserver's children
        wait_for(lambda: len(descendants(mira_pid)) >= 4, "two workers", process)
    started = descendants(mira_pid)
    assert started
    return started


def assert_all_gone(started: set[int]) -> None:
    for _ in range(600):  # orphans end on their own once mira is gone
        if not alive(started):
            return
        time.sleep(0.05)
    raise AssertionError(f"left running:\n{cmdlines(alive(started))}")


@pytest.mark.parametrize(
    ("name", "number", "code"),
    [
        ("tile", signal.SIGTERM, 143),
        ("augment", signal.SIGTERM, 143),
        ("render", signal.SIGTERM, 143),
        ("dedupe", signal.SIGTERM, 143),
        ("tile", signal.SIGHUP, 129),
        ("dedupe", signal.SIGHUP, 129),
    ],
)
def test_a_terminating_signal_cleans_up(inputs, tmp_path, name, number, code):
    folder = tmp_path / "out"
    folder.mkdir()
    process = start(name, inputs, folder / COMMANDS[name][1])
    started = mid_way(name, process, folder, process.pid)
    process.send_signal(number)
    stdout, stderr = process.communicate(timeout=120)
    assert (process.returncode, stderr.decode()) == (code, "")  # no leaked-semaphore warning
    assert os.listdir(folder) == []
    assert_all_gone(started)


def test_sigterm_to_the_whole_group_cleans_up_too(inputs, tmp_path):
    """What `timeout` and CI runners do: the signal reaches the workers as well."""
    folder = tmp_path / "out"
    folder.mkdir()
    process = start("tile", inputs, folder / "out.tar")
    started = mid_way("tile", process, folder, process.pid)
    os.killpg(process.pid, signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert (process.returncode, stderr.decode()) == (143, "")
    assert os.listdir(folder) == []
    assert_all_gone(started)


def test_timeout_2_mira_leaves_nothing(inputs, tmp_path):
    """`timeout 2 mira tile ...`, as the issue ran it: exit 124 (timeout's own), no
    temporary, no orphaned forkserver or resource tracker, no warning."""
    for seconds in ("2", "5", "20"):  # until mira was caught mid-way (a busy machine)
        folder = tmp_path / f"out-{seconds}"
        folder.mkdir()
        process = start("tile", inputs, folder / "out.tar", "timeout", seconds)
        seen: set[int] = set()
        caught = False
        while process.poll() is None:
            seen |= descendants(process.pid)
            caught = caught or bool(temporaries(folder))
            time.sleep(0.02)
        _, stderr = process.communicate(timeout=120)
        assert (process.returncode, stderr.decode()) == (124, "")
        assert os.listdir(folder) == []
        assert_all_gone(seen)
        if caught:
            return
    raise AssertionError("mira never got to write within 20 s")


@pytest.mark.parametrize("name", ["tile", "dedupe"])
def test_after_kill_9_the_previous_output_stays_and_the_next_run_tidies_up(inputs, tmp_path, name):
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "out.tar"
    complete(name, inputs, out)
    previous = out.read_bytes()

    process = start(name, inputs, out)
    started = mid_way(name, process, folder, process.pid)
    process.kill()
    process.communicate(timeout=120)  # its stderr closes when the last helper is gone
    assert process.returncode == -signal.SIGKILL
    assert out.read_bytes() == previous
    [left] = temporaries(folder)
    assert re.fullmatch(rf"\.out\.tar\.mira-{process.pid}-\w+\.part", left)
    assert_all_gone(started)

    complete(name, inputs, out)
    assert os.listdir(folder) == ["out.tar"]
    assert out.read_bytes() == previous


def test_after_kill_9_of_render_the_next_run_removes_its_folder(inputs, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    process = start("render", inputs, folder / "rendered")
    started = mid_way("render", process, folder, process.pid)
    process.kill()
    process.communicate(timeout=120)
    [left] = temporaries(folder)
    assert re.fullmatch(rf"\.rendered\.mira-{process.pid}-\w+\.part", left)
    assert_all_gone(started)
    complete("render", inputs, folder / "rendered")
    assert os.listdir(folder) == ["rendered"]


def start_to_url(argv: list[str], inputs: dict[str, Path], spool: Path) -> subprocess.Popen:
    """`mira ARGV` reading the stalled stream, its local temporaries in `spool`."""
    process = subprocess.Popen(
        [MIRA, *argv],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env={**os.environ, "TMPDIR": str(spool)},
    )
    threading.Thread(target=feed, args=(process.stdin, stalled(inputs)), daemon=True).start()
    return process


@pytest.mark.parametrize(("number", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_deletes_what_was_sent_to_a_url(inputs, tmp_path, s3_server, number, code):
    """Shards finished before the signal wait under hidden keys beside their target; the
    shard being written is spooled locally: the signal deletes both."""
    bucket = s3_server.bucket()
    spool = tmp_path / "spool"
    spool.mkdir()
    argv = ["dedupe", "-", "-o", f"s3://{bucket}/t/out.tar", "--shard-size", "4"]
    process = start_to_url(argv, inputs, spool)
    # FED = 16 scenes: three shards sent, the fourth waits for a 17th scene
    wait_for(lambda: len(s3_server.keys(bucket)) == 3 and os.listdir(spool), "shards", process)
    assert all(
        re.fullmatch(r"t/\.out-00000[0-2]\.tar\.\w+\.part", k) for k in s3_server.keys(bucket)
    )
    [spooled] = os.listdir(spool)
    assert re.fullmatch(rf"\.mira-upload\.mira-{process.pid}-\w+\.part", spooled)
    process.send_signal(number)
    _, stderr = process.communicate(timeout=120)
    assert (process.returncode, stderr.decode()) == (code, "")
    assert s3_server.keys(bucket) == []
    assert s3_server.unfinished_uploads(bucket) == []
    assert os.listdir(spool) == []


def test_a_signal_deletes_a_folder_spooled_for_a_url(inputs, tmp_path, s3_server):
    bucket = s3_server.bucket()
    spool = tmp_path / "spool"
    spool.mkdir()
    process = start_to_url(["render", "-", "-o", f"s3://{bucket}/rendered"], inputs, spool)
    wait_for(lambda: any(spool.glob(".mira-folder.mira-*.part/*")), "renders", process)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert (process.returncode, stderr.decode()) == (143, "")
    assert s3_server.keys(bucket) == []
    assert os.listdir(spool) == []


def test_after_kill_9_the_next_upload_removes_the_spool(inputs, tmp_path, s3_server):
    """The object is untouched; the spool file, named for the killed process, goes on the
    next run that uploads."""
    bucket = s3_server.bucket()
    s3_server.put(bucket, "out.tar", b"previous")
    spool = tmp_path / "spool"
    spool.mkdir()
    argv = ["dedupe", "-", "-o", f"s3://{bucket}/out.tar", "--force"]
    process = start_to_url(argv, inputs, spool)
    wait_for(lambda: os.listdir(spool), "a spool", process)
    process.kill()
    process.communicate(timeout=120)
    [left] = os.listdir(spool)
    assert re.fullmatch(rf"\.mira-upload\.mira-{process.pid}-\w+\.part", left)
    assert s3_server.get(bucket, "out.tar") == b"previous"

    again = subprocess.run(
        [MIRA, *argv],
        input=inputs["stream"].read_bytes(),
        capture_output=True,
        env={**os.environ, "TMPDIR": str(spool)},
    )
    assert again.returncode == 0, again.stderr
    assert os.listdir(spool) == []
    assert s3_server.get(bucket, "out.tar").startswith(b"100000.json")
