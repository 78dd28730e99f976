"""The engine contract: every engine gives the serial engine's items, in its order, so every
sink writes the same bytes. Add an engine to ENGINES and every test here covers it.

The Ray engine runs a local Ray of two CPUs (`ray.init(num_cpus=2)`), one for this module,
started by its first test and shut down after the last."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import mira.pipeline.jobs as jobs
from mira.core import Annotation, Categories, Scene
from mira.core.image import encode_image
from mira.errors import ValidationError
from mira.formats import SceneWriter
from mira.pipeline import MapStage, Pipeline, ProcessEngine, SerialEngine, TarSink, TarSource
from tests.conftest import make_image, require


def ray_engine():
    """A `RayEngine` on a local Ray of 2 CPUs (skipped, with the reason, without the extra)."""
    require("ray")
    from mira.pipeline import RayEngine

    return RayEngine(jobs=2, chunk=3)


ENGINES = {
    "serial": SerialEngine,
    "processes": lambda: ProcessEngine(2),
    "ray": ray_engine,
}


@pytest.fixture(scope="module", autouse=True)
def ray_session_ends() -> Iterator[None]:
    """The Ray a test here started goes with the module."""
    yield
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        ray.shutdown()


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight scenes, JPEG and PNG, with boxes and polygons (some duplicated)."""
    categories = Categories(["dog", "cat"])
    path = tmp_path_factory.mktemp("engines") / "in.tar"
    with SceneWriter(path) as writer:
        for index in range(8):
            image = make_image(96 + 8 * index, 72, seed=index)
            box = Annotation(categories["dog"], 4.5 + index, 6, 40.25, 50)
            writer.write(
                Scene(
                    categories,
                    encode_image(image, "jpg" if index % 2 else "png", 90),
                    annotations=[
                        box,
                        box,
                        Annotation(categories["cat"], points=[[50, 10], [90, 12], [70, 60]]),
                    ],
                    key=f"s{index:02d}",
                )
            )
    return path


AUGMENT = """\
__version__: 2.0.8
transform:
  __class_fullname__: Compose
  p: 1.0
  bbox_params: null
  keypoint_params: null
  additional_targets: {}
  is_check_shapes: true
  strict: false
  seed: null
  transforms:
  - __class_fullname__: HorizontalFlip
    p: 0.5
  - __class_fullname__: RandomBrightnessContrast
    p: 1.0
    brightness_limit: [-0.2, 0.2]
    contrast_limit: [-0.2, 0.2]
    brightness_by_max: true
    ensure_safe_range: false
"""


def run_tile(source: Path, out: Path, engine) -> None:
    jobs.tile_file(source, out, 48, mode="grid", overlap=0.25, engine=engine)


def run_augment(source: Path, out: Path, engine) -> None:
    config = out.parent / "augment.yaml"
    config.write_text(AUGMENT)
    jobs.save_augmented(TarSource(source), out, config, copies=2, seed=7, engine=engine)


def run_placeholder(source: Path, out: Path, engine) -> None:
    jobs.save_placeholder(TarSource(source), out, engine=engine, shard_size=3)


def run_render(source: Path, out: Path, engine) -> None:
    jobs.render_scenes(TarSource(source), out, sheet_size=5, image_format="png", engine=engine)


def run_dedupe(source: Path, out: Path, engine) -> None:
    stage_source = TarSource(source)
    from mira.ops.dedupe import DedupeStage

    sink = TarSink(out, inputs=stage_source.inputs)
    Pipeline(stage_source, [DedupeStage(0.9)], sink, engine=engine).run()


def run_tile_webp(source: Path, out: Path, engine) -> None:
    jobs.tile_file(source, out, 40, "grid", engine=engine, image_format="webp")  # lossy, lossless


def run_augment_jpg(source: Path, out: Path, engine) -> None:
    config = out.parent / "augment.yaml"
    config.write_text(AUGMENT)
    jobs.save_augmented(TarSource(source), out, config, seed=3, engine=engine, image_format="jpg")


def run_render_keep(source: Path, out: Path, engine) -> None:
    jobs.render_scenes(TarSource(source), out, sheet_size=2, image_format="keep", engine=engine)


JOBS = {
    "tile": run_tile,
    "tile webp": run_tile_webp,
    "augment": run_augment,
    "augment jpg": run_augment_jpg,
    "placeholder": run_placeholder,
    "render": run_render,
    "render keep": run_render_keep,
    "dedupe": run_dedupe,
}


def snapshot(out: Path) -> dict[str, bytes]:
    """Every file a job wrote (a tarball, its shards, or a folder), by name."""
    if out.is_dir():
        return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))}
    return {p.name: p.read_bytes() for p in sorted(out.parent.glob(f"{out.stem}*.tar"))}


@pytest.mark.parametrize("job", sorted(JOBS))
@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_every_engine_writes_the_serial_engines_bytes(job, engine, source, tmp_path):
    reference, candidate = tmp_path / "reference" / "out", tmp_path / engine / "out"
    reference.parent.mkdir()
    candidate.parent.mkdir()
    if not job.startswith("render"):
        reference, candidate = reference.with_suffix(".tar"), candidate.with_suffix(".tar")
    JOBS[job](source, reference, SerialEngine())
    JOBS[job](source, candidate, ENGINES[engine]())
    expected, got = snapshot(reference), snapshot(candidate)
    assert expected, "the job wrote nothing"
    assert got == expected


def tagged(task: tuple[int, str]) -> list[str]:
    """Work that varies its output count, to show results keep input order."""
    index, key = task
    return [f"{key}/{copy}" for copy in range(index % 3)]


def fails_on_the_fifth(task: tuple[int, str]) -> list[str]:
    index, key = task
    if index == 5:
        raise ValidationError(f"scene {key}: refused by the test")
    return [key]


class KeysStage(MapStage):
    """Scene keys through `work`, flattened; fails when `work` does."""

    work = staticmethod(tagged)

    def tasks(self, items):
        return ((index, scene.key) for index, scene in enumerate(items))

    def results(self, results):
        for keys in results:
            yield from keys


class FailingStage(KeysStage):
    work = staticmethod(fails_on_the_fifth)


def scene_unless_fifth(task: tuple[int, Scene]) -> Scene:
    index, scene = task
    if index == 5:
        raise ValidationError(f"scene {scene.key}: refused by the test")
    return scene


class FailingSceneStage(MapStage):
    """Passes scenes on through `work` (in a worker, for a process engine) until the sixth."""

    needs_pixels = True
    work = staticmethod(scene_unless_fifth)

    def tasks(self, items):
        return enumerate(items)


class ListSink:
    """Collects items (a sink needs only write/close/abort and the context protocol)."""

    accepts_stored = False

    def __init__(self) -> None:
        self.items: list[str] = []
        self.state = "open"

    def write(self, item: str) -> None:
        self.items.append(item)

    def __enter__(self) -> ListSink:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.state = "aborted" if exc_type else "closed"


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_results_come_back_in_input_order(engine, source):
    sink = ListSink()
    Pipeline(TarSource(source), [KeysStage()], sink, engine=ENGINES[engine]()).run()
    expected = [f"s{i:02d}/{c}" for i in range(8) for c in range(i % 3)]
    assert sink.items == expected
    assert sink.state == "closed"


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_an_error_in_work_is_raised_once_and_the_sink_aborts(engine, source):
    sink = ListSink()
    with pytest.raises(ValidationError, match=r"^scene s05: refused by the test$"):
        Pipeline(TarSource(source), [FailingStage()], sink, engine=ENGINES[engine]()).run()
    assert sink.state == "aborted"
    assert sink.items == [f"s{i:02d}" for i in range(5)]


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_a_failing_job_leaves_no_output(engine, source, tmp_path):
    out = tmp_path / "out.tar"
    sink = TarSink(out)
    with pytest.raises(ValidationError, match="^scene s05: refused by the test$"):
        Pipeline(TarSource(source), [FailingSceneStage()], sink, engine=ENGINES[engine]()).run()
    assert os.listdir(tmp_path) == []
