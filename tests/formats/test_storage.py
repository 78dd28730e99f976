"""Object storage through the library: URL rules, and reading and writing tarballs against a
real S3 API server on 127.0.0.1 (moto's server mode, tests/s3server.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mira.core import Annotation, Categories, Scene
from mira.core.image import encode_image
from mira.errors import FormatError, OutputError, StorageError
from mira.formats import SceneWriter, iter_scenes, storage
from mira.formats.staged_folder import StagedDirectory
from mira.formats.tario import expand_inputs
from tests.conftest import make_image

CATS = Categories(["a", "b"])


def scenes(count: int, size: int = 48) -> list[Scene]:
    return [
        Scene(
            CATS,
            encode_image(make_image(size + i, size, seed=i), "jpg" if i % 2 else "png", 90),
            [Annotation(CATS["a"], 1.5 + i, 2, 20.25, 30)],
            key=f"s{i:03d}",
        )
        for i in range(count)
    ]


def written(path: Path, items: list[Scene], shard_size: int | None = None) -> Path:
    with SceneWriter(path, shard_size=shard_size) as writer:
        for scene in items:
            writer.write(scene)
    return path


# ---------------------------------------------------------------- URL rules, no server


@pytest.mark.parametrize(
    ("path", "url"),
    [
        ("s3://bucket/a.tar", True),
        ("gs://bucket/a.tar", True),
        ("S3://bucket/a.tar", True),
        ("file:///tmp/a.tar", False),
        ("/tmp/a.tar", False),
        ("a.tar", False),
        ("-", False),
        ("weird:name.tar", False),
    ],
)
def test_what_is_a_url(path, url):
    assert storage.is_url(path) is url


def test_file_urls_are_local_paths(tmp_path):
    path = written(tmp_path / "a.tar", scenes(2))
    written(tmp_path / "b.tar", scenes(1))
    assert storage.local_path(f"file://{path}") == str(path)
    assert expand_inputs([f"file://{path}"]) == [str(path)]
    assert expand_inputs(f"file://{tmp_path}/*.tar") == [str(path), str(tmp_path / "b.tar")]
    assert [s.key for s in iter_scenes(f"file://{path}")] == ["s000", "s001"]


def test_same_object():
    assert storage.same("s3://b/x/../a.tar", "s3://b/a.tar")
    assert storage.same("s3a://b/a.tar", "s3://b/a.tar")
    assert not storage.same("s3://b/a.tar", "gs://b/a.tar")
    assert not storage.same("s3://b/a.tar", "/b/a.tar")


def test_credentials_never_appear_in_messages(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t-value-123")
    with pytest.raises(StorageError) as caught, storage.translated("s3://b/k"):
        raise PermissionError("signature for s3cr3t-value-123 does not match")
    assert str(caught.value) == (
        "s3://b/k: access denied (signature for *** does not match); check the credentials "
        "(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or ~/.aws/credentials)"
    )


def test_a_backend_without_streamed_files_is_read_in_ranges(tmp_path):
    """fsspec's memory filesystem has no `open_async`: its ranged file objects are read."""
    items = scenes(3)
    written("memory://fallback/a.tar", items)  # type: ignore[arg-type]
    local = written(tmp_path / "a.tar", items)
    with storage.open_input("memory://fallback/a.tar") as stream:
        assert stream.read() == local.read_bytes()
    assert [s.image_source.encoded() for s in iter_scenes("memory://fallback/a.tar")] == [
        s.image_source.encoded() for s in items
    ]
    with pytest.raises(FormatError, match=r"^memory://fallback/b\.tar: no such object$"):
        list(iter_scenes("memory://fallback/b.tar"))
    with pytest.raises(FormatError, match=r"^memory://fallback: is a folder \(prefix\), not a"):
        list(iter_scenes("memory://fallback"))


def test_an_unknown_protocol_is_one_error():
    with pytest.raises(StorageError, match=r"^nope://b/a\.tar: no storage backend for nope://"):
        expand_inputs(["nope://b/a.tar"])


# ---------------------------------------------------------------- against the server


@pytest.fixture
def bucket(s3_server) -> str:
    return s3_server.bucket()


def test_write_and_read_a_url_gives_the_local_bytes(s3_server, bucket, tmp_path):
    items = scenes(3)
    local = written(tmp_path / "a.tar", items)
    written(f"s3://{bucket}/data/a.tar", items)  # type: ignore[arg-type]
    assert s3_server.keys(bucket) == ["data/a.tar"]
    assert s3_server.get(bucket, "data/a.tar") == local.read_bytes()
    back = list(iter_scenes(f"s3://{bucket}/data/a.tar"))
    assert [s.key for s in back] == ["s000", "s001", "s002"]
    assert [s.image_source.encoded() for s in back] == [s.image_source.encoded() for s in items]
    assert [s.annotations[0].x1 for s in back] == [1.5, 2.5, 3.5]


def test_shards_are_staged_under_temporary_keys_until_the_writer_closes(s3_server, bucket):
    url = f"s3://{bucket}/out.tar"
    writer = SceneWriter(url, shard_size=2)
    for scene in scenes(5):
        writer.write(scene)
    staged = s3_server.keys(bucket)  # two shards finished, the third still being written
    assert [key.rsplit(".", 2)[0] for key in staged] == [".out-000000.tar", ".out-000001.tar"]
    assert all(key.endswith(".part") for key in staged)
    writer.close()
    assert s3_server.keys(bucket) == ["out-000000.tar", "out-000001.tar", "out-000002.tar"]
    assert expand_inputs(f"s3://{bucket}/out-*.tar") == [
        f"s3://{bucket}/out-00000{i}.tar" for i in range(3)
    ]
    assert [s.key for s in iter_scenes(f"s3://{bucket}/out-*.tar")] == [
        f"s{i:03d}" for i in range(5)
    ]


def test_a_failed_write_leaves_no_object_and_no_upload(s3_server, bucket):
    url = f"s3://{bucket}/out.tar"
    with pytest.raises(RuntimeError, match="^stop$"), SceneWriter(url, shard_size=2) as writer:
        for scene in scenes(5):
            writer.write(scene)
        assert len(s3_server.keys(bucket)) == 2  # staged shards
        raise RuntimeError("stop")
    assert s3_server.keys(bucket) == []
    assert s3_server.unfinished_uploads(bucket) == []


def test_output_checks(s3_server, bucket):
    s3_server.put(bucket, "taken.tar", b"old")
    with pytest.raises(OutputError, match=rf"^s3://{bucket}/taken\.tar: already exists \(use"):
        SceneWriter(f"s3://{bucket}/taken.tar")
    with pytest.raises(OutputError, match=r"^s3://nowhere/a\.tar: bucket nowhere does not exist$"):
        SceneWriter("s3://nowhere/a.tar")
    with pytest.raises(OutputError, match=r"is also an input; refusing to overwrite it$"):
        SceneWriter(f"s3://{bucket}/taken.tar", force=True, inputs=[f"s3://{bucket}/taken.tar"])
    with pytest.raises(OutputError, match=r"is a folder \(prefix\); give a tarball name$"):
        s3_server.put(bucket, "dir/x", b"")
        SceneWriter(f"s3://{bucket}/dir")
    with SceneWriter(f"s3://{bucket}/taken.tar", force=True) as writer:
        writer.write(scenes(1)[0])
    assert s3_server.get(bucket, "taken.tar").startswith(b"s000.json")


def test_force_removes_shards_left_by_a_longer_run(s3_server, bucket):
    for count in (5, 2):
        with SceneWriter(f"s3://{bucket}/o.tar", shard_size=2, force=True) as writer:
            for scene in scenes(count):
                writer.write(scene)
    assert s3_server.keys(bucket) == ["o-000000.tar"]


def test_missing_objects_and_patterns(s3_server, bucket):
    with pytest.raises(FormatError, match=rf"^s3://{bucket}/none\.tar: no such object$"):
        list(iter_scenes(f"s3://{bucket}/none.tar"))
    s3_server.put(bucket, "dir/x.tar", b"")
    with pytest.raises(FormatError, match=rf"^s3://{bucket}/dir: is a folder \(prefix\), not a"):
        list(iter_scenes(f"s3://{bucket}/dir"))
    with pytest.raises(FormatError, match=rf"^s3://{bucket}/: is a bucket, not a tarball$"):
        list(iter_scenes(f"s3://{bucket}/"))
    with pytest.raises(FormatError, match=rf"^s3://{bucket}/x-\*\.tar: no object matches"):
        expand_inputs(f"s3://{bucket}/x-*.tar")


def test_reading_streams_the_object(tmp_path, monkeypatch):
    """One GET per object, read as the reader goes: a server that goes away after the first
    of five ~10 MiB scenes fails the read later, as one error naming the URL (an object
    downloaded before reading would read whole; the socket buffers hold far less than the
    40 MiB left). Its own server, so that stopping it leaves the session's alone."""
    from s3fs import S3FileSystem

    from tests.s3server import S3Server

    rng = np.random.default_rng(0)
    big = [
        Scene(CATS, encode_image(rng.integers(0, 255, (1800, 1900, 3), np.uint8), "png"), key=k)
        for k in "abcde"
    ]
    server = S3Server()
    try:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        S3FileSystem.clear_instance_cache()  # s3fs keeps a client per set of options
        path = f"s3://{server.bucket()}/big.tar"
        written(path, big)  # type: ignore[arg-type]
        assert [s.key for s in iter_scenes(path)] == list("abcde")
        stream = iter_scenes(path)
        assert next(stream).image_source.encoded() == big[0].image_source.encoded()
        server.stop()
        with pytest.raises(StorageError, match=rf"^{path}: "):
            list(stream)
    finally:
        server.stop()
        S3FileSystem.clear_instance_cache()


def test_a_folder_url_is_uploaded_when_complete(s3_server, bucket, tmp_path):
    url = f"s3://{bucket}/render"
    with StagedDirectory(url) as folder:
        (folder / "a.jpg").write_bytes(b"a")
        (folder / "sub").mkdir()
        (folder / "sub" / "b.jpg").write_bytes(b"b")
        assert s3_server.keys(bucket) == []
    assert s3_server.keys(bucket) == ["render/a.jpg", "render/sub/b.jpg"]
    with pytest.raises(OutputError, match=rf"^{url}: already exists \(use --force to replace"):
        StagedDirectory(url)
    with pytest.raises(OutputError, match=r"holds or is an input"):
        StagedDirectory(url, force=True, inputs=[f"{url}/a.jpg"])
    with pytest.raises(RuntimeError), StagedDirectory(url, force=True) as folder:
        (folder / "c.jpg").write_bytes(b"c")
        raise RuntimeError("stop")
    assert s3_server.keys(bucket) == ["render/a.jpg", "render/sub/b.jpg"]
    with StagedDirectory(url, force=True) as folder:
        (folder / "c.jpg").write_bytes(b"c")
    assert s3_server.keys(bucket) == ["render/c.jpg"]
