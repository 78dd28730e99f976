"""The copying process: the same bytes as the writer's thread, errors that name what failed,
and no process left behind, whatever happens to the writer."""

import os
import signal
import sys

import pytest

from mira.core import Annotation, Categories, Scene, SceneCollection
from mira.core.image import ImageSource, encode_image
from mira.errors import FormatError, OutputError
from mira.formats import SceneWriter, iter_scenes, tar_copier, tar_writer
from tests.conftest import make_image

CATS = Categories(["dog", "cat"])


def make_scenes(prefix, n, width=64, height=48):
    scenes = []
    for i in range(n):
        data = encode_image(make_image(width, height, seed=i), "jpg" if i % 2 else "png")
        boxes = [Annotation(CATS["dog"], i, 1, i + 5.5, 9.25)]
        source = ImageSource.from_bytes(data)
        scenes.append(Scene(CATS, source, annotations=boxes, key=f"{prefix}{i}"))
    return scenes


@pytest.fixture
def sources(tmp_path):
    paths = [tmp_path / "a.tar", tmp_path / "b.tar"]
    for prefix, path in zip("ab", paths, strict=True):
        SceneCollection(make_scenes(prefix, 3), CATS).save(path)
    return paths


@pytest.fixture
def started(monkeypatch):
    """The copiers started during a test."""
    copiers = []
    start = tar_writer._CopyProcess.start

    def spy(fd):
        copier = start(fd)
        copiers.append(copier)
        return copier

    monkeypatch.setattr(tar_writer._CopyProcess, "start", staticmethod(spy))
    return copiers


def write(path, scenes):
    with SceneWriter(path) as writer:
        for scene in scenes:
            writer.write(scene)
    return path.read_bytes()


def mixed_scenes(sources):
    """Members copied from two files, small bytes and bytes bigger than a batch."""
    big = make_scenes("big", 1, 400, 300)  # a PNG of noise: over 256 KiB
    assert len(big[0].image_source.encoded()) > tar_writer._CopyProcess._BATCH
    return [*iter_scenes(sources[0]), *make_scenes("m", 2), *big, *iter_scenes(sources[1])]


def test_the_copier_writes_what_the_thread_writes(sources, tmp_path, monkeypatch, started):
    copied = write(tmp_path / "copied.tar", mixed_scenes(sources))
    assert len(started) == 1 and started[0] is not None
    assert started[0]._process.returncode == 0
    monkeypatch.setattr(tar_writer._CopyProcess, "start", staticmethod(lambda fd: None))
    assert write(tmp_path / "thread.tar", mixed_scenes(sources)) == copied
    assert [s.key for s in iter_scenes(tmp_path / "copied.tar")] == [
        *(f"a{i}" for i in range(3)),
        "m0",
        "m1",
        "big0",
        *(f"b{i}" for i in range(3)),
    ]


def test_a_tarball_of_bytes_is_written_by_the_thread(sources, tmp_path, started):
    write(tmp_path / "out.tar", make_scenes("m", 2))
    assert started == []


def test_the_copier_is_out_of_reach_of_ctrl_c(sources, tmp_path, started):
    tar = tar_writer.AtomicTar(str(tmp_path / "out.tar"))
    tar.add_range("a0.png", next(iter_scenes(sources[0])).image_source.file_range)
    process = started[0]._process
    assert os.getsid(process.pid) != os.getsid(0)  # the terminal's SIGINT goes to the writer
    tar.abort()
    assert process.returncode is not None
    assert os.listdir(tmp_path) == ["a.tar", "b.tar"]


def test_a_failing_writer_ends_its_copier_and_leaves_nothing(sources, tmp_path, started):
    with pytest.raises(RuntimeError, match="stop here"):
        with SceneWriter(tmp_path / "out.tar") as writer:
            for scene in iter_scenes(sources):
                writer.write(scene)
            raise RuntimeError("stop here")
    assert started[0]._process.returncode == -signal.SIGKILL
    assert sorted(os.listdir(tmp_path)) == ["a.tar", "b.tar"]


def test_a_copier_that_dies_is_a_clear_error(sources, tmp_path, started):
    with pytest.raises(OutputError) as caught:
        with SceneWriter(tmp_path / "out.tar") as writer:
            for scene in iter_scenes(sources):
                writer.write(scene)
                if started and started[0]._process.returncode is None:
                    started[0]._settle(wait=True)  # it has started...
                    started[0]._process.kill()  # ...and dies
                    started[0]._process.wait()
    assert str(caught.value) == (
        f"the copying process stopped unexpectedly (exit status {-signal.SIGKILL})"
    )
    assert sorted(os.listdir(tmp_path)) == ["a.tar", "b.tar"]


def test_a_member_cut_short_is_reported_by_the_copier(sources, tmp_path, started):
    scenes = list(iter_scenes(sources[0]))
    member = scenes[-1].image_source.file_range
    os.truncate(sources[0], member.offset + 20)
    end = member.offset + member.size
    message = f"{sources[0]}: cannot copy member 'a2.png' (the file ends before byte {end})"
    with pytest.raises(FormatError) as caught:
        write(tmp_path / "out.tar", scenes)
    assert str(caught.value) == message
    assert started[0]._process.returncode == 0
    assert sorted(os.listdir(tmp_path)) == ["a.tar", "b.tar"]


def frames(pieces):
    """The frames a writer sends for `pieces`: bytes, or (file, offset, size, name)."""
    out = b""
    for piece in pieces:
        if isinstance(piece, bytes):
            out += tar_copier.write_frame(piece) + piece
        else:
            out += tar_copier.copy_frame(*piece)
    return out


def test_frames_cut_anywhere_are_carried_out_once_complete(tmp_path):
    source = tmp_path / "source"
    source.write_bytes(bytes(range(256)) * 4)
    fd = os.open(source, os.O_RDONLY)
    pieces = [b"head", (0, 5, 300, "x.jpg"), b"", (0, 1000, 24, "y.png"), b"tail" * 9]
    stream = frames(pieces) + tar_copier.END
    expected = b"head" + source.read_bytes()[5:305] + source.read_bytes()[1000:] + b"tail" * 9
    try:
        for cut in range(len(stream) + 1):
            target = tmp_path / f"out{cut}"
            out = os.open(target, os.O_WRONLY | os.O_CREAT)
            buffer = bytearray(stream[:cut])
            done = tar_copier._run_frames(buffer, {0: (fd, str(source))}, [], out)
            del buffer[: max(done, 0)]
            if done >= 0:
                buffer += stream[cut:]
                done = tar_copier._run_frames(buffer, {0: (fd, str(source))}, [], out)
            os.close(out)
            assert done == -1
            assert target.read_bytes() == expected, cut
    finally:
        os.close(fd)


def test_each_shard_is_finished_before_the_next_begins(sources, tmp_path, started):
    """One copier and one open temporary file at a time, however many shards."""
    with SceneWriter(tmp_path / "out.tar", shard_size=1) as writer:
        for scene in iter_scenes(sources):
            writer.write(scene)
            assert [c._process.returncode for c in started[:-1]] == [0] * (len(started) - 1)
            assert started[-1]._process.returncode is None
            assert len(os.listdir(tmp_path)) == 2 + len(started)  # the sources and .part files
    assert len(started) == 6
    assert sorted(os.listdir(tmp_path)) == ["a.tar", "b.tar"] + [
        f"out-{i:06d}.tar" for i in range(6)
    ]
    assert [s.key for s in iter_scenes(str(tmp_path / "out-*.tar"))] == [
        "a0", "a1", "a2", "b0", "b1", "b2"
    ]  # fmt: skip


def test_a_failure_after_finished_shards_leaves_none_of_them(sources, tmp_path):
    with pytest.raises(RuntimeError, match="late"):
        with SceneWriter(tmp_path / "out.tar", shard_size=2) as writer:
            for scene in iter_scenes(sources):
                writer.write(scene)
            raise RuntimeError("late")
    assert sorted(os.listdir(tmp_path)) == ["a.tar", "b.tar"]


def test_a_failing_output_stops_the_writer_before_its_end():
    """The copier's error reaches the writer at its next batch, not only at the end."""
    import errno
    import time

    full = os.open("/dev/full", os.O_WRONLY)
    copier = tar_writer._CopyProcess.start(full)
    try:
        with pytest.raises(OSError) as caught:
            for _ in range(200):
                for _ in range(tar_writer._CopyProcess._COUNT):
                    copier.put(b"x" * 512)
                time.sleep(0.01)
        assert caught.value.errno == errno.ENOSPC
        assert copier._process.returncode == 0
    finally:
        os.close(full)


@pytest.mark.parametrize("script", ["raise SystemExit(3)", "import time; time.sleep(60)"])
def test_a_copier_that_does_not_start_leaves_the_work_to_a_thread(
    sources, tmp_path, monkeypatch, started, script
):
    """A Python that will not run the copier (or not soon enough) costs speed, not data."""
    expected = write(tmp_path / "copied.tar", mixed_scenes(sources))
    broken = tmp_path / "broken.py"
    broken.write_text(script)
    monkeypatch.setattr(tar_writer, "_COPIER", [sys.executable, str(broken)])
    monkeypatch.setattr(tar_writer._CopyProcess, "_START_MS", 300)
    assert write(tmp_path / "thread.tar", mixed_scenes(sources)) == expected
    assert started[1]._fallback is not None
    assert started[1]._process.returncode is not None  # ended, or killed for being late
