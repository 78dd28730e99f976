"""`mira augment`: N augmented copies of every scene of a stream, in parallel, reproducibly.

Each (scene, copy) draws from its own seed, ``SeedSequence([seed, scene index, copy])``, and
every task rebuilds the pipeline from the same pickled bytes, so the output does not depend
on ``jobs`` or on which process did the work. Workers decode, augment and encode; the main
process only reads and writes tarball members, with a bounded number of scenes in flight.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from mira.core.encoding import Encoding, count_encoded
from mira.errors import ValidationError
from mira.ops.augment import augment_scene, count_dropped, prepare
from mira.ops.augment_pipeline import albumentations, derive_seed
from mira.pipeline import moved_job
from mira.pipeline.stage import MapStage

if TYPE_CHECKING:
    from mira.pipeline.engine import Engine


class _Job(NamedTuple):
    """Everything a worker needs besides the scene (pickled with every task)."""

    pipeline: Any  # pickled bytes, or the augmenter itself when it cannot be pickled
    copies: int
    keep_original: bool
    min_visibility: float | None
    seed: int
    encoding: Encoding


class _Done(NamedTuple):
    scenes: list[Any]
    dropped: list[str]
    encoding: str  # how the copies were encoded (a resolved encoding's str)


_PIPELINES: dict[bytes, Any] = {}


def _pipeline(spec: Any) -> Any:
    """The pipeline for `spec` (pickled bytes), unpickled once per process."""
    if not isinstance(spec, bytes):
        return spec
    pipeline = _PIPELINES.get(spec)
    if pipeline is None:
        albumentations()  # before unpickling imports it, for its update check
        _PIPELINES.clear()
        pipeline = _PIPELINES[spec] = pickle.loads(spec)
    return pipeline


def copy_key(key: str, copy: int) -> str:
    """Key of augmented copy `copy` (1-based) of scene `key`: ``000012-aug01``."""
    return f"{key}-aug{copy:02d}"


def _augment_task(task: tuple[_Job, int, Any]) -> _Done:
    """Worker: the original (if kept) and every augmented copy of one scene, encoded."""
    from mira.core.image import ImageSource

    job, index, scene = task
    key = scene.key or f"{index:06d}"
    out = [scene.assign(key=key)] if job.keep_original else []
    dropped: list[str] = []
    encoding = job.encoding
    if job.copies:
        pipeline = _pipeline(job.pipeline)
        encoding = encoding.for_source(scene.image_source, f"scene {key}")
        # Decode (and bake the masks) once for all copies; the kept original stays encoded.
        scene = scene.assign(image=ImageSource.from_array(scene.image), masks=[])
        seedable = hasattr(pipeline, "set_random_state")  # a plain callable seeds itself
        for copy in range(1, job.copies + 1):
            seed = derive_seed(job.seed, index, copy) if seedable else None
            result = augment_scene(scene, pipeline, job.min_visibility, seed)
            pixels = result.scene.image_source.decode()
            name = f"{copy_key(key, copy)}.{encoding.format}"
            data = encoding.encode(pixels, where=name)
            image = ImageSource.from_bytes(data, name=name, dimensions=pixels.shape[1::-1])
            metadata = {**scene.metadata, "augment": {"source": key, "copy": copy}}
            out.append(
                result.scene.assign(
                    image=image, key=copy_key(key, copy), metadata=metadata, cache=False
                )
            )
            dropped.extend(result.dropped)
    return _Done(out, dropped, str(encoding))


def augment_scenes(
    scenes: Iterable[Any],
    pipeline: Any,
    *,
    copies: int = 1,
    keep_original: bool = False,
    min_visibility: float | None = None,
    seed: int = 0,
    jobs: int | None = None,
    encoding: Encoding | None = None,
    report: dict[str, Any] | None = None,
) -> Iterator[Any]:
    """Yield, per input scene in order, the original (if `keep_original`) then copies 1..N.

    Copies are keyed ``{key}-aug{copy:02d}`` and record ``{"augment": {"source", "copy"}}``
    in their metadata; a scene without a key is named by its position (``000003``). Copies
    are encoded by `encoding` (default `keep`: see `mira.core.encoding`). `report`, if
    given, is filled with the counts as scenes go by (see `new_report`).
    """
    from mira.pipeline.engine import local_engine

    stage = AugmentStage(
        pipeline,
        copies=copies,
        keep_original=keep_original,
        min_visibility=min_visibility,
        seed=seed,
        encoding=encoding,
        report=report,
    )
    return stage(scenes, local_engine(jobs))


class AugmentStage(MapStage):
    """Per scene: the original (if kept) and N augmented copies, drawn by the workers."""

    needs_pixels = True
    work = staticmethod(_augment_task)

    def __init__(
        self,
        pipeline: Any,
        *,
        copies: int = 1,
        keep_original: bool = False,
        min_visibility: float | None = None,
        seed: int = 0,
        encoding: Encoding | None = None,
        report: dict[str, Any] | None = None,
    ) -> None:
        if copies < 0 or (copies == 0 and not keep_original):
            raise ValidationError(
                f"copies must be at least 1 (or 0 with keep_original), got {copies}"
            )
        if min_visibility is not None and not 0.0 <= min_visibility <= 1.0:
            raise ValidationError(f"min_visibility must be between 0 and 1, got {min_visibility}")
        self.pipeline = prepare(pipeline)
        try:
            spec: Any = pickle.dumps(self.pipeline)
            self.picklable = True
        except (pickle.PicklingError, TypeError, AttributeError) as e:
            spec, self.picklable = self.pipeline, False  # usable in this process only
            self.pickle_error = e
        self.job = _Job(spec, copies, keep_original, min_visibility, seed, encoding or Encoding())
        self.report = new_report() if report is None else report

    def __call__(self, items: Iterable[Any], engine: Engine) -> Iterator[Any]:
        if not self.picklable and not engine.in_process:
            raise ValidationError(
                f"the augmenter cannot be sent to worker processes ({self.pickle_error}); "
                "use jobs=1"
            )
        return super().__call__(items, engine)

    def tasks(self, items: Iterable[Any]) -> Iterator[tuple[_Job, int, Any]]:
        for index, scene in enumerate(items):
            self.report["scenes_in"] += 1
            self.report["annotations_in"] += len(scene.annotations)
            yield self.job, index, scene

    def results(self, results: Iterable[_Done]) -> Iterator[Any]:
        for done in results:
            count_dropped(done.dropped, self.report["dropped_by_visibility"])
            if self.job.copies:
                count_encoded(self.report["encoded"], done.encoding, self.job.copies)
            for scene in done.scenes:
                self.report["scenes_out"] += 1
                self.report["annotations_out"] += len(scene.annotations)
                yield scene


def new_report() -> dict[str, Any]:
    """The report of an augment run; stable keys, JSON-ready. ``dropped_by_visibility``
    counts, per category, annotations left out of copies: below ``min_visibility``, outside
    the image, of zero area, or removed by the pipeline's own box filters. ``encoded``
    counts the copies by how they were encoded (``{"jpg q90": 12}``; originals kept with
    ``keep_original`` are copied as they are)."""
    return {
        "scenes_in": 0,
        "scenes_out": 0,
        "annotations_in": 0,
        "annotations_out": 0,
        "dropped_by_visibility": {},
        "encoded": {},
    }


def __getattr__(name: str) -> Any:
    """`save_augmented` moved to `mira.pipeline.jobs`; it stays importable from here."""
    return moved_job(__name__, name)
