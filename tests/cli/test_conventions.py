"""Rules every command follows: exit codes, error lines, stdin/stdout, outputs, Ctrl-C."""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from mira import __version__
from mira.core import Annotation, Categories, Scene, SceneCollection
from mira.core.image import encode_image
from tests.cli.conftest import MIRA
from tests.conftest import make_image


@pytest.fixture
def data_tar(tmp_path):
    cats = Categories(["dog", "cat"])
    scenes = [
        Scene(
            cats,
            encode_image(make_image(seed=i), "jpg", 90),
            annotations=[
                Annotation(cats["dog"], 1, 2, 30.5, 40),
                Annotation(cats["dog"], 1, 2, 30.5, 40),
            ],
            key=f"{i:06d}",
        )
        for i in range(3)
    ]
    path = tmp_path / "data.tar"
    SceneCollection(scenes).save(path)
    return path


def test_version_and_help(mira):
    result = mira("--version")
    assert (result.returncode, result.stdout) == (0, f"mira {__version__}\n")
    result = mira("--help")
    assert result.returncode == 0 and "Usage: mira" in result.stdout


def test_usage_errors_exit_2(mira, data_tar):
    result = mira("no-such-command")
    assert result.returncode == 2 and "No such command 'no-such-command'" in result.stderr
    result = mira("stats", data_tar, "--no-such-flag")
    assert result.returncode == 2 and "No such option: --no-such-flag" in result.stderr


def test_data_errors_are_one_line_and_exit_1(mira, tmp_path):
    missing = tmp_path / "missing.tar"
    result = mira("stats", missing)
    assert result.returncode == 1
    assert result.stderr == f"error: {missing}: no such file\n"
    assert result.stdout == ""
    verbose = mira("--verbose", "stats", missing)
    assert verbose.returncode == 1 and "Traceback (most recent call last)" in verbose.stderr
    assert verbose.stderr.endswith(f"error: {missing}: no such file\n")


def test_stdin_input_and_json(mira, data_tar):
    piped = mira("stats", "-", "--json", input=data_tar.read_bytes(), binary=True)
    direct = mira("stats", data_tar, "--json")
    assert piped.returncode == 0 and direct.returncode == 0
    assert json.loads(piped.stdout) == json.loads(direct.stdout)
    assert json.loads(direct.stdout)["scenes"] == 3


def test_pipe_between_commands(mira, data_tar):
    dedupe = subprocess.run(
        [MIRA, "dedupe", str(data_tar), "-o", "-"], capture_output=True, check=True
    )
    stats = mira("stats", "-", "--json", input=dedupe.stdout, binary=True)
    assert stats.returncode == 0
    assert json.loads(stats.stdout)["annotations"] == 3


def test_existing_output_and_input_as_output(mira, data_tar, tmp_path):
    out = tmp_path / "out.tar"
    out.write_bytes(b"keep me")
    result = mira("dedupe", data_tar, "-o", out)
    assert result.returncode == 1
    assert result.stderr == f"error: {out}: already exists (use --force to overwrite)\n"
    assert out.read_bytes() == b"keep me"
    result = mira("dedupe", data_tar, "-o", data_tar, "--force")
    assert result.returncode == 1
    assert result.stderr == f"error: {data_tar}: is also an input; refusing to overwrite it\n"
    assert mira("dedupe", data_tar, "-o", out, "--force").returncode == 0
    assert out.read_bytes().startswith(b"000000.json")


def test_ctrl_c_exits_130_and_leaves_no_output(tmp_path, data_tar):
    """Interrupt a command that is still reading its (never-ending) standard input."""
    out = tmp_path / "out.tar"
    process = subprocess.Popen(
        [MIRA, "dedupe", "-", "-o", str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdin.write(data_tar.read_bytes()[:1024])  # a partial tarball, then silence
    process.stdin.flush()
    time.sleep(1.5)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert sorted(os.listdir(tmp_path)) == ["data.tar"]


def writer_commands(data_tar, tmp_path):
    """Every command that writes one tarball, as (argv before -o, output path)."""
    pipeline = tmp_path / "flip.yaml"
    pipeline.write_text(
        "__version__: 2.0.8\ntransform:\n  __class_fullname__: Compose\n  p: 1.0\n"
        "  transforms:\n  - __class_fullname__: HorizontalFlip\n    p: 1.0\n"
    )
    return {
        "dedupe": ["dedupe", data_tar],
        "tile": ["tile", data_tar, "--max-size", "32", "--mode", "grid"],
        "augment": ["augment", data_tar, "--config", pipeline],
        "placeholder": ["placeholder", data_tar],
    }


@pytest.mark.parametrize("command", ["dedupe", "tile", "augment", "placeholder"])
def test_writers_offer_legacy_format_and_shards(mira, data_tar, tmp_path, command):
    argv = writer_commands(data_tar, tmp_path)[command]
    legacy = tmp_path / "legacy.tar"
    result = mira(*argv, "-o", legacy, "--format", "legacy")
    assert result.returncode == 0, result.stderr
    with tarfile.open(legacy) as tar:
        assert tar.getnames()[:2] == ["0.png", "0"]
    assert len(SceneCollection.load(legacy)) >= 3
    sharded = tmp_path / "sharded.tar"
    result = mira(*argv, "-o", sharded, "--shard-size", "2")
    assert result.returncode == 0, result.stderr
    shards = sorted(p.name for p in tmp_path.glob("sharded-*.tar"))
    assert shards[:2] == ["sharded-000000.tar", "sharded-000001.tar"]
    assert not sharded.exists()
    assert len(SceneCollection.load(str(tmp_path / "sharded-*.tar"))) >= 3


@pytest.mark.parametrize("command", ["dedupe", "tile", "augment", "placeholder"])
def test_a_full_disk_is_a_one_line_error(data_tar, tmp_path, command):
    """dedupe copies its images in the copying process, the others write from a thread."""
    argv = writer_commands(data_tar, tmp_path)[command]
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [MIRA, *map(str, argv), "-o", "-"], stdout=full, stderr=subprocess.PIPE, text=True
        )
    assert (result.returncode, result.stderr) == (1, "error: No space left on device\n")


def test_import_and_split_offer_them_too(mira, data_tar, tmp_path):
    result = mira(
        "split",
        data_tar,
        "--sizes",
        "0.5",
        "0.5",
        "--out-dir",
        tmp_path / "parts",
        "--format",
        "legacy",
    )
    assert result.returncode == 0, result.stderr  # the folder is created
    with tarfile.open(tmp_path / "parts" / "data-train.tar") as tar:
        assert tar.getnames()[:2] == ["0.png", "0"]
    result = mira(
        "split",
        data_tar,
        "--sizes",
        "0.5",
        "0.5",
        "--out-dir",
        tmp_path / "shards",
        "--shard-size",
        "1",
    )
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(tmp_path / "shards")) == [
        "data-test-000000.tar",
        "data-train-000000.tar",
        "data-train-000001.tar",
    ]
    project = Path(__file__).resolve().parents[2] / "sample" / "project.json"
    result = mira(
        "import-qsl", project, "-o", tmp_path / "q.tar", "--format", "legacy", "--shard-size", "10"
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.glob("q-*.tar")) == ["q-000000.tar", "q-000001.tar"]
    with tarfile.open(tmp_path / "q-000001.tar") as tar:
        assert tar.getnames() == ["0.png", "0", "1.png", "1", "2.png", "2", "3.png", "3"]
    result = mira("dedupe", data_tar, "-o", "-", "--shard-size", "1")
    assert (result.returncode, result.stderr) == (
        1,
        "error: cannot write shards to standard output\n",
    )


def test_tables_are_drawn_on_a_terminal_and_plain_text_elsewhere(mira, data_tar, tmp_path):
    import pty

    plain = mira("dedupe", data_tar, "-o", tmp_path / "plain.tar").stdout
    assert plain.splitlines() == [
        "Removed 3 of 6 annotations in 3 scenes",
        "category  before  removed  after",
        "dog            6        3      3",
        "cat            0        0      0",
        "total          6        3      3",
    ]
    leader, follower = pty.openpty()
    environment = {**os.environ, "NO_COLOR": "1", "COLUMNS": "80"}
    command = [MIRA, "dedupe", str(data_tar), "-o", str(tmp_path / "tty.tar")]
    result = subprocess.run(command, stdout=follower, stderr=subprocess.PIPE, env=environment)
    os.close(follower)
    drawn = b""
    try:
        while chunk := os.read(leader, 4096):
            drawn += chunk
    except OSError:  # the terminal is gone once everything is read
        pass
    os.close(leader)
    assert result.returncode == 0, result.stderr
    lines = drawn.decode().splitlines()
    assert "│ total    │      6 │       3 │     3 │" in lines
    assert lines[1].startswith("┏━━━━━━━━━━┳")


def test_plain_tables_align_wide_characters():
    from mira_cli.output import Table, _plain_table

    table = Table("Counts", ["category", "n"], [["犬", 12], ["cat", 3.14159], ["none", None]])
    assert _plain_table(table).splitlines() == [
        "Counts",
        "category      n",
        "犬           12",  # 犬 takes two columns
        "cat       3.142",
        "none          -",
    ]


def children(pid):
    """Process ids whose parent is `pid` (Linux /proc)."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):  # it ended meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to see child processes")
def test_ctrl_c_while_copying_ends_the_copier_too(tmp_path, data_tar):
    """The first input is copied by the copying process; the second (stdin) never ends."""
    out = tmp_path / "out.tar"
    process = subprocess.Popen(
        [MIRA, "dedupe", str(data_tar), "-", "-o", str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    copiers = []
    for _ in range(100):  # the copier starts with the first member copied
        time.sleep(0.1)
        copiers = children(process.pid)
        if copiers:
            break
    assert len(copiers) == 1
    with open(f"/proc/{copiers[0]}/cmdline", "rb") as cmdline:
        assert b"tar_copier.py" in cmdline.read()
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert not os.path.exists(f"/proc/{copiers[0]}")  # killed and reaped
    assert sorted(os.listdir(tmp_path)) == ["data.tar"]


@pytest.mark.parametrize(
    "argv",
    [
        ["stats", "x.tar"],
        ["dedupe", "x.tar", "-o", "out.tar"],
        ["split", "x.tar", "--sizes", "0.5", "0.5"],
        ["tile", "x.tar", "-o", "out.tar", "--max-size", "32"],
        ["render", "x.tar", "-o", "rendered"],
    ],
)
def test_undecipherable_input_is_one_line(mira, tmp_path, argv):
    (tmp_path / "x.tar").write_bytes(random.Random(0).randbytes(5000))
    result = mira(*argv, cwd=tmp_path)
    assert (result.returncode, result.stdout) == (1, "")
    assert (
        result.stderr == "error: x.tar: not a tar archive (gzip, bzip2, xz or plain tar expected)\n"
    )
    assert os.listdir(tmp_path) == ["x.tar"]
    piped = mira("stats", "-", input=(tmp_path / "x.tar").read_bytes(), binary=True)
    assert piped.stderr == (
        b"error: <stdin>: not a tar archive (gzip, bzip2, xz or plain tar expected)\n"
    )


def test_compressed_data_that_is_no_tarball_says_so(mira, tmp_path):
    import gzip

    (tmp_path / "x.tar.gz").write_bytes(gzip.compress(b"{}" * 600, mtime=0))
    result = mira("stats", "x.tar.gz", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (
        1,
        "error: x.tar.gz: gzip data, but not a tar archive inside (invalid header)\n",
    )


@pytest.mark.parametrize("command", ["dedupe", "tile", "placeholder"])
def test_a_device_output_is_written_to_not_replaced(data_tar, tmp_path, command):
    """`-o /dev/null` (with or without --force) writes into the device; it never renames a
    temporary file over it, which would turn /dev/null into a regular file."""
    argv = writer_commands(data_tar, tmp_path)[command]
    for extra in ([], ["--force"]):
        result = subprocess.run(
            [MIRA, *map(str, argv), "-o", "/dev/null", *extra], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert [p for p in os.listdir("/dev") if p.startswith(".null.")] == []


def test_a_fifo_output_gets_the_same_bytes_as_a_file(data_tar, tmp_path):
    fifo, file = tmp_path / "pipe", tmp_path / "file.tar"
    os.mkfifo(fifo)
    assert subprocess.run([MIRA, "dedupe", str(data_tar), "-o", str(file)]).returncode == 0
    with subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE) as reader:
        result = subprocess.run([MIRA, "dedupe", str(data_tar), "-o", str(fifo)])
        streamed = reader.stdout.read()
    assert result.returncode == 0
    assert streamed == file.read_bytes()
