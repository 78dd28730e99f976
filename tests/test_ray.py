"""Ray: `mira.ray` on Ray Data and the pixel commands' `--engine ray`, on a real Ray in local
mode (`ray.init(num_cpus=2)`, one for this module). The CLI joins that Ray with
`--ray-address`, so no command starts a Ray of its own. Reading from S3 goes to the test
S3 server (its address reaches the workers through the environment they inherit)."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import mira.pipeline.jobs as jobs
from mira.core import Annotation, Categories, Scene
from mira.core.image import encode_image
from mira.formats import SceneWriter, iter_scenes
from mira.pipeline import TarSource
from tests.cli import conftest as cli_conftest
from tests.conftest import make_image, require

CATS = Categories(["dog", "cat"])
ROOT = Path(__file__).resolve().parents[1]
LEGACY = ROOT / "tests" / "data" / "legacy" / "mira-0.9.36.tar"
AUGMENT = ROOT / "examples" / "augment.yaml"
mira = cli_conftest.mira  # the fixture that runs the real `mira`


@pytest.fixture(scope="module")
def ray_address(s3_server) -> Iterator[str]:
    require("ray")
    import ray
    import ray.data

    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six scenes in three shards of two (``data-00000N.tar``), JPEG and PNG, with a
    duplicated box; returns the unsharded name."""
    path = tmp_path_factory.mktemp("ray") / "data.tar"
    with SceneWriter(path, shard_size=2) as writer:
        for index in range(6):
            box = Annotation(CATS["dog"], 4.5 + index, 6, 60.25, 50)
            image = make_image(120 + 16 * index, 90, seed=index)
            writer.write(
                Scene(
                    CATS,
                    encode_image(image, "jpg" if index % 2 else "png", 90),
                    annotations=[box, box, Annotation(CATS["cat"], 70, 10, 110, 80)],
                    metadata={"index": index},
                    key=f"{index:06d}",
                )
            )
    return path


def shard_paths(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.stem}-*.tar"))


def files(folder: Path, pattern: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob(pattern))}


def test_read_then_write_gives_back_the_input_bytes(ray_address, shards, tmp_path):
    import mira.ray

    dataset = mira.ray.read_scenes(str(shards.parent / "data-*.tar"))
    assert mira.ray.write_scenes(dataset, tmp_path / "data.tar", shard_size=2) == 6
    assert files(tmp_path, "data-*.tar") == files(shards.parent, "data-*.tar")
    rows = mira.ray.read_scenes(str(shard_paths(shards)[1])).take_all()
    assert [row["key"] for row in rows] == ["000002", "000003"]
    assert json.loads(rows[1]["record"])["image"] == "000003.jpg"
    assert rows[1]["image"] == list(iter_scenes(shard_paths(shards)[1]))[1].image_source.encoded()


def test_read_from_s3_urls_in_the_workers(ray_address, s3_server, shards, tmp_path):
    import mira.ray

    bucket = s3_server.bucket()
    for path in shard_paths(shards):
        s3_server.put(bucket, path.name, path.read_bytes())
    dataset = mira.ray.read_scenes(f"s3://{bucket}/data-*.tar")
    mira.ray.write_scenes(dataset, f"s3://{bucket}/copy.tar")
    local = tmp_path / "copy.tar"
    mira.ray.write_scenes(mira.ray.read_scenes([str(p) for p in shard_paths(shards)]), local)
    assert s3_server.get(bucket, "copy.tar") == local.read_bytes()


def test_legacy_tarballs_become_native_rows(ray_address, tmp_path):
    import mira.ray

    mira.ray.write_scenes(mira.ray.read_scenes(str(LEGACY)), tmp_path / "ray.tar")
    with SceneWriter(tmp_path / "local.tar") as writer:
        for scene in iter_scenes(LEGACY):
            writer.write(scene)
    assert (tmp_path / "ray.tar").read_bytes() == (tmp_path / "local.tar").read_bytes()


def test_row_functions_give_the_commands_bytes(ray_address, shards, tmp_path):
    import mira.ray

    inputs = [str(p) for p in shard_paths(shards)]
    cases = {
        "tile": (
            lambda ds: ds.flat_map(mira.ray.tile(64, mode="grid", overlap=0.25)),
            lambda out: jobs.tile_file(inputs, out, 64, mode="grid", overlap=0.25, jobs=1),
        ),
        "placeholder": (
            lambda ds: ds.flat_map(mira.ray.placeholder(background="#102030")),
            lambda out: jobs.save_placeholder(TarSource(inputs), out, background="#102030"),
        ),
        "dedupe": (
            lambda ds: ds.map(mira.ray.dedupe(0.9)),
            lambda out: jobs.dedupe_file(inputs, out, threshold=0.9),
        ),
    }
    for name, (on_ray, local) in cases.items():
        mira.ray.write_scenes(on_ray(mira.ray.read_scenes(inputs)), tmp_path / f"ray-{name}.tar")
        local(tmp_path / f"local-{name}.tar")
        ray_bytes = (tmp_path / f"ray-{name}.tar").read_bytes()
        assert ray_bytes == (tmp_path / f"local-{name}.tar").read_bytes(), name
    deduped = list(iter_scenes(tmp_path / "ray-dedupe.tar"))
    assert [len(scene.annotations) for scene in deduped] == [2] * 6


def test_render_rows_are_the_render_commands_images(ray_address, shards, tmp_path):
    import mira.ray

    inputs = [str(p) for p in shard_paths(shards)]
    rows = mira.ray.read_scenes(inputs).flat_map(mira.ray.render(image_format="png")).take_all()
    jobs.render_scenes(TarSource(inputs), tmp_path / "render", image_format="png", jobs=1)
    expected = files(tmp_path / "render", "0*.png")
    assert [row["name"] for row in rows] == list(expected)
    assert {row["name"]: row["image"] for row in rows} == expected


def test_augment_rows_are_seeded_by_key_wherever_they_run(ray_address, shards, tmp_path):
    import mira.ray

    inputs = [str(p) for p in shard_paths(shards)]
    augment = mira.ray.augment(str(AUGMENT), copies=2, seed=3)
    on_ray = mira.ray.read_scenes(inputs).flat_map(augment).take_all()
    here = [row for scene in iter_scenes(inputs) for row in augment(mira.ray.row_of(scene))]
    assert on_ray == here
    assert [row["key"] for row in on_ray[:3]] == ["000000-aug01", "000000-aug02", "000001-aug01"]
    assert on_ray[0]["image"] != on_ray[1]["image"]
    record = json.loads(on_ray[3]["record"])
    assert record["metadata"] == {"index": 1, "augment": {"source": "000001", "copy": 2}}


def test_ray_datas_own_webdataset_reader_reads_native_shards(ray_address, shards):
    import ray.data

    paths = [str(p) for p in shard_paths(shards)]
    rows = ray.data.read_webdataset(paths, decoder=None).take_all()
    scenes = list(iter_scenes(paths))
    assert [row["__key__"] for row in rows] == [scene.key for scene in scenes]
    for row, scene in zip(rows, scenes, strict=True):
        extension = scene.image_source.extension
        present = {name for name, value in row.items() if value is not None}
        assert present == {"__key__", "__url__", "json", extension}  # one schema: jpg and png
        assert row[extension] == scene.image_source.encoded()
        record = json.loads(row["json"])
        assert (record["key"], record["image"]) == (scene.key, f"{scene.key}.{extension}")


def test_a_failing_row_function_leaves_no_output(ray_address, shards, tmp_path):
    import mira.ray

    broken = broken_copy(shards, tmp_path)
    out = tmp_path / "out.tar"
    with pytest.raises(Exception, match=r"member 000003\.jpg: cannot decode image \(33 bytes\)"):
        mira.ray.write_scenes(
            mira.ray.read_scenes(str(broken)).flat_map(mira.ray.tile(64, mode="grid")), out
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.tar"]


def broken_copy(shards: Path, folder: Path) -> Path:
    """All six scenes in one tarball, the image of scene 3 replaced by bytes no decoder reads."""
    broken = folder / "broken.tar"
    with tarfile.open(broken, "w", format=tarfile.USTAR_FORMAT) as dst:
        for path in shard_paths(shards):
            with tarfile.open(path) as src:
                for member in src.getmembers():
                    payload = src.extractfile(member).read()  # type: ignore[union-attr]
                    if member.name == "000003.jpg":
                        payload = b"\xff\xd8\xff" + b"broken" * 5
                    member.size = len(payload)
                    dst.addfile(member, io.BytesIO(payload))
    return broken


COMMANDS = {
    "tile": ["--max-size", "64", "--mode", "grid"],
    "augment": ["--config", str(AUGMENT), "--copies", "2", "--seed", "5"],
    "placeholder": ["--shard-size", "4"],
    "render": ["--limit", "4"],
}


def test_every_pixel_command_writes_the_same_bytes_on_ray(mira, ray_address, shards, tmp_path):
    inputs = [str(p) for p in shard_paths(shards)]
    for command, options in COMMANDS.items():
        outputs = {}
        for engine in ("local", "ray"):
            folder = tmp_path / command / engine
            folder.mkdir(parents=True)
            out = folder / ("out" if command == "render" else "out.tar")
            extra = ["--engine", "ray", "--ray-address", ray_address] if engine == "ray" else []
            result = mira(command, *inputs, "-o", out, *options, *extra)
            assert result.returncode == 0, (command, engine, result.stderr)
            outputs[engine] = {
                str(p.relative_to(folder)): p.read_bytes()
                for p in sorted(folder.rglob("*"))
                if p.is_file()
            }
        assert outputs["ray"] == outputs["local"], command
        assert outputs["local"], command


def test_a_worker_that_raises_is_one_error_and_no_output(mira, ray_address, shards, tmp_path):
    broken = broken_copy(shards, tmp_path)
    out = tmp_path / "out.tar"
    result = mira("tile", broken, "-o", out, "--max-size", "64", "--mode", "grid",
                  "--engine", "ray", "--ray-address", ray_address)  # fmt: skip
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"error: {broken}: member 000003.jpg: cannot decode image (33 bytes)\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.tar"]


def test_engine_options_are_checked_before_anything_runs(mira, shards, tmp_path):
    out = tmp_path / "out.tar"
    wrong = mira("tile", shards.parent / "data-*.tar", "-o", out, "--max-size", "64",
                 "--ray-address", "127.0.0.1:1")  # fmt: skip
    assert wrong.returncode == 2
    assert "a Ray address needs the ray engine (--engine ray)" in wrong.stderr
    unreachable = mira("tile", shards.parent / "data-*.tar", "-o", out, "--max-size", "64",
                       "--engine", "ray", "--ray-address", "127.0.0.1:1")  # fmt: skip
    assert (unreachable.returncode, unreachable.stderr) == (
        1,
        "error: cannot reach the Ray cluster at 127.0.0.1:1: Connection refused\n",
    )
    assert not out.exists()
