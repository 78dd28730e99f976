"""Commands on s3:// URLs, against a real S3 API server on 127.0.0.1 (tests/s3server.py):
the same bytes as on disk, shards, --force and overwrite refusal, nothing left after a
failure, and one clear line for wrong credentials."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from mira.core import Annotation, Categories, Scene, SceneCollection
from mira.core.image import encode_image
from tests.conftest import make_image

CATS = Categories(["a", "b"])


@pytest.fixture
def data(tmp_path: Path) -> Path:
    scenes = [
        Scene(
            CATS,
            encode_image(make_image(90 + 10 * i, 60, seed=i), "jpg" if i % 2 else "png", 90),
            [Annotation(CATS["a"], 5, 5, 40, 30.5), Annotation(CATS["a"], 5, 5, 40, 30.5)],
            key=f"{i:06d}",
        )
        for i in range(5)
    ]
    path = tmp_path / "data.tar"
    SceneCollection(scenes).save(path)
    return path


@pytest.fixture
def bucket(s3_server, data: Path) -> str:
    """A new bucket holding data.tar."""
    name = s3_server.bucket()
    s3_server.put(name, "data.tar", data.read_bytes())
    return name


def test_a_command_reads_and_writes_urls_as_it_does_files(mira, s3_server, bucket, data, tmp_path):
    local = tmp_path / "local.tar"
    assert mira("dedupe", data, "-o", local, "--json").returncode == 0
    result = mira("dedupe", f"s3://{bucket}/data.tar", "-o", f"s3://{bucket}/out.tar", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["annotations"] == {"before": 10, "removed": 5, "after": 5}
    assert s3_server.keys(bucket) == ["data.tar", "out.tar"]
    assert s3_server.get(bucket, "out.tar") == local.read_bytes()
    stats = mira("stats", f"s3://{bucket}/out.tar", "--json")
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout) == json.loads(mira("stats", local, "--json").stdout)


def test_shards_written_to_and_read_from_a_url(mira, s3_server, bucket, data, tmp_path):
    args = ["--max-size", "64", "--mode", "grid", "--shard-size", "4", "--json"]
    assert mira("tile", data, "-o", tmp_path / "tiles.tar", *args).returncode == 0
    result = mira("tile", f"s3://{bucket}/data.tar", "-o", f"s3://{bucket}/t/tiles.tar", *args)
    assert result.returncode == 0, result.stderr
    shards = sorted(p.name for p in tmp_path.glob("tiles-*.tar"))
    assert len(shards) == 3
    assert s3_server.keys(bucket) == ["data.tar", *(f"t/{name}" for name in shards)]
    for name in shards:
        assert s3_server.get(bucket, f"t/{name}") == (tmp_path / name).read_bytes()
    stats = mira("stats", f"s3://{bucket}/t/tiles-*.tar", "--json")
    assert json.loads(stats.stdout)["scenes"] == json.loads(result.stdout)["scenes"]["out"]


def test_split_writes_its_parts_beside_a_url_input(mira, s3_server, bucket):
    result = mira("split", f"s3://{bucket}/data.tar", "--sizes", "0.6", "0.4", "--json")
    assert result.returncode == 0, result.stderr
    assert s3_server.keys(bucket) == ["data-test.tar", "data-train.tar", "data.tar"]


def test_existing_objects_need_force_and_inputs_are_never_replaced(mira, s3_server, bucket, data):
    s3_server.put(bucket, "out.tar", b"old")
    url = f"s3://{bucket}/out.tar"
    result = mira("placeholder", data, "-o", url)
    assert (result.returncode, result.stderr) == (
        1,
        f"error: {url}: already exists (use --force to overwrite)\n",
    )
    assert s3_server.get(bucket, "out.tar") == b"old"
    assert mira("placeholder", data, "-o", url, "--force").returncode == 0
    assert s3_server.get(bucket, "out.tar").startswith(b"000000.json")
    source = f"s3://{bucket}/data.tar"
    result = mira("dedupe", source, "-o", source, "--force")
    assert (result.returncode, result.stderr) == (
        1,
        f"error: {source}: is also an input; refusing to overwrite it\n",
    )
    assert s3_server.keys(bucket) == ["data.tar", "out.tar"]


def test_a_job_that_fails_leaves_no_object_behind(mira, s3_server, bucket, data, tmp_path):
    """Scene 3 cannot be decoded: by then two shards were sent under temporary keys."""
    broken = tmp_path / "broken.tar"
    with tarfile.open(data) as src, tarfile.open(broken, "w", format=tarfile.USTAR_FORMAT) as dst:
        for member in src.getmembers():
            payload = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "000003.jpg":
                payload = b"\xff\xd8\xff" + b"broken" * 5
            member.size = len(payload)
            dst.addfile(member, io.BytesIO(payload))
    s3_server.put(bucket, "broken.tar", broken.read_bytes())
    source = f"s3://{bucket}/broken.tar"
    result = mira("tile", source, "-o", f"s3://{bucket}/out.tar", "--max-size", "64",
                  "--shard-size", "1", "--jobs", "1")  # fmt: skip
    assert (result.returncode, result.stderr) == (
        1,
        f"error: {source}: member 000003.jpg: cannot decode image (33 bytes)\n",
    )
    assert s3_server.keys(bucket) == ["broken.tar", "data.tar"]
    assert s3_server.unfinished_uploads(bucket) == []


@pytest.mark.parametrize("direction", ["read", "write"])
def test_wrong_credentials_are_one_clear_error(mira, s3_server, bucket, data, direction):
    wrong = "wrong-secret-0123456789"
    url = f"s3://{bucket}/{'data' if direction == 'read' else 'new'}.tar"
    args = ("stats", url) if direction == "read" else ("dedupe", data, "-o", url)
    result = mira(*args, env=s3_server.env(secret=wrong))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"error: {url}: access denied (The request signature we calculated does not match the "
        "signature you provided. Check your key and signing method.); check the credentials "
        "(AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or ~/.aws/credentials)\n"
    )
    assert wrong not in result.stderr and s3_server.secret not in result.stderr
    assert s3_server.keys(bucket) == ["data.tar"]


def test_render_uploads_its_folder_when_complete(mira, s3_server, bucket):
    url = f"s3://{bucket}/render"
    result = mira("render", f"s3://{bucket}/data.tar", "-o", url, "--limit", "2")
    assert result.returncode == 0, result.stderr
    expected = ["render/000000.jpg", "render/000001.jpg", "render/contact-sheet.jpg"]
    assert s3_server.keys(bucket) == ["data.tar", *expected]
    again = mira("render", f"s3://{bucket}/data.tar", "-o", url, "--limit", "1")
    assert (again.returncode, again.stderr) == (
        1,
        f"error: {url}: already exists (use --force to replace it)\n",
    )
    forced = mira("render", f"s3://{bucket}/data.tar", "-o", url, "--limit", "1", "--force")
    assert forced.returncode == 0, forced.stderr
    assert s3_server.keys(bucket) == ["data.tar", "render/000000.jpg", "render/contact-sheet.jpg"]
