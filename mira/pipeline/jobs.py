"""The file-level jobs behind the commands, each one pipeline: tarballs or a project in,
stages, tarballs or a folder out. `mira.ops` modules keep the names importable.

Every job checks its options and outputs before reading anything, reports in one
JSON-ready dict, and leaves nothing behind when it fails. `progress(items, description)`,
if given, wraps the source stream (the CLI draws a bar on a terminal).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from mira.formats.tario import PathLike
from mira.ops.keys import REQUIRED
from mira.pipeline.engine import Engine, local_engine
from mira.pipeline.run import Pipeline
from mira.pipeline.sinks import FolderSink, PartsSink, Sink, TarSink
from mira.pipeline.sources import TarSource, source_inputs
from mira.pipeline.stage import Stage

ProgressArg = Callable[[Iterable[Any], str], Iterable[Any]] | None

#: The jobs each op module still exports (see `mira.pipeline.moved_job`).
MOVED = {
    "mira.formats.qsl": ("import_qsl",),
    "mira.ops.dedupe": ("dedupe_file",),
    "mira.ops.tiling": ("tile_file",),
    "mira.ops.augment_stream": ("save_augmented",),
    "mira.ops.placeholder": ("save_placeholder",),
    "mira.ops.render": ("render_scenes",),
    "mira.ops.split": ("split_file",),
}


def _tar_sources(inputs: Any) -> TarSource:
    return TarSource(inputs if isinstance(inputs, (list, tuple)) else [inputs])


def run_job(
    source: Iterable[Any],
    stages: Sequence[Stage],
    sink: Sink,
    *,
    engine: Engine | None = None,
    progress: ProgressArg = None,
    description: str = "",
) -> None:
    """source → stages → sink, by `engine` (default: this process)."""
    Pipeline(
        source,
        stages,
        sink,
        progress=None if progress is None else (lambda items: progress(items, description)),
        engine=engine or local_engine(1),
    ).run()


def dedupe_file(
    inputs: Any,
    output: Any,
    threshold: float = 1.0,
    method: str = "iou",
    force: bool = False,
    progress: ProgressArg = None,
    format: str = "native",
    shard_size: int | None = None,
) -> dict[str, Any]:
    """`mira dedupe`: tarball(s) → drop_duplicates → a tarball; images and scenes that lose
    nothing are copied as stored. Returns the report of `DedupeStage`."""
    from mira.ops.dedupe import DedupeStage

    report: dict[str, Any] = {"output": os.fspath(output)}
    stage = DedupeStage(threshold, method, report)
    source = _tar_sources(inputs)
    sink = TarSink(output, force=force, inputs=source.inputs, format=format, shard_size=shard_size)
    run_job(source, [stage], sink, progress=progress, description="Dropping duplicates")
    return report


def tile_file(
    inputs: Any,
    output: Any,
    max_size: int,
    mode: str = "subcrops",
    overlap: float = 0.2,
    min_visibility: float = 0.0,
    oversized: str = "error",
    jobs: int | None = None,
    force: bool = False,
    progress: ProgressArg = None,
    format: str = "native",
    shard_size: int | None = None,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """`mira tile`: tarball(s) → sub-crops or grid tiles → a tarball (every piece encoded
    once, by `engine`, default `jobs` local processes). Returns the report of `TileStage`."""
    from mira.ops.tiling import TileStage

    report: dict[str, Any] = {"output": os.fspath(output)}
    stage = TileStage(max_size, mode, overlap, min_visibility, oversized, report)
    engine = engine or local_engine(jobs)
    source = _tar_sources(inputs)
    sink = TarSink(output, force=force, inputs=source.inputs, format=format, shard_size=shard_size)
    run_job(source, [stage], sink, engine=engine, progress=progress, description="Tiling")
    return report


def save_augmented(
    scenes: Iterable[Any],
    output: str | os.PathLike[str],
    pipeline: Any,
    *,
    copies: int = 1,
    keep_original: bool = False,
    min_visibility: float | None = None,
    seed: int = 0,
    jobs: int | None = None,
    quality: int = 95,
    force: bool = False,
    inputs: Iterable[PathLike] = (),
    format: str = "native",
    shard_size: int | None = None,
    engine: Engine | None = None,
    progress: ProgressArg = None,
) -> dict[str, Any]:
    """`mira augment`: the augmented stream to a tarball atomically; the report.

    `pipeline` is an augmenter or a pipeline file (`load_pipeline`). The output is checked
    first (exists without `force`, or is one of `inputs`), then the pipeline and options; any
    failure, then or later, leaves nothing behind.
    """
    from mira.ops.augment_pipeline import load_pipeline
    from mira.ops.augment_stream import AugmentStage, new_report

    report = new_report()
    sink = TarSink(
        output,
        force=force,
        inputs=[*source_inputs(scenes), *inputs],
        format=format,
        shard_size=shard_size,
    )
    if isinstance(pipeline, (str, os.PathLike)):
        pipeline = load_pipeline(pipeline)
    stage = AugmentStage(
        pipeline,
        copies=copies,
        keep_original=keep_original,
        min_visibility=min_visibility,
        seed=seed,
        quality=quality,
        report=report,
    )
    engine = engine or local_engine(jobs)
    run_job(scenes, [stage], sink, engine=engine, progress=progress, description="Augmenting")
    report["dropped_by_visibility"] = dict(sorted(report["dropped_by_visibility"].items()))
    return report


def save_placeholder(
    scenes: Iterable[Any],
    filename: str | os.PathLike[str],
    colormap: Any = None,
    background: Any = 255,
    force: bool = False,
    inputs: Iterable[Any] = (),
    jobs: int | None = 1,
    format: str = "native",
    shard_size: int | None = None,
    engine: Engine | None = None,
    progress: ProgressArg = None,
) -> dict[str, Any]:
    """`SceneCollection.save_placeholder(filename, colormap)`, streaming: the placeholder of
    every scene to a tarball (atomically); the report. `jobs` processes draw and encode
    (None: all cores); output bytes do not depend on it."""
    from mira.ops.placeholder import PlaceholderStage

    report: dict[str, Any] = {"output": os.fspath(filename)}
    stage = PlaceholderStage(colormap, background, report)
    sink = TarSink(
        filename,
        force=force,
        inputs=[*source_inputs(scenes), *inputs],
        format=format,
        shard_size=shard_size,
    )
    engine = engine or local_engine(jobs)
    run_job(
        scenes, [stage], sink, engine=engine, progress=progress, description="Drawing placeholders"
    )
    return report


def render_scenes(
    scenes: Iterable[Any],
    out_dir: str | os.PathLike[str],
    limit: int | None = None,
    labels: bool = True,
    opaque: bool = False,
    format: str = "jpg",
    jobs: int | None = None,
    force: bool = False,
    inputs: Iterable[Any] = (),
    colormap: Any = None,
    sheet_size: int = 16,
    quality: int = 90,
    engine: Engine | None = None,
    progress: ProgressArg = None,
) -> dict[str, Any]:
    """`mira render`: `OUT_DIR/<key>.<format>` per scene and `OUT_DIR/contact-sheet.jpg` of
    the first `sheet_size` scenes; drawn by `engine` (default `jobs` local processes),
    written in input order into a folder that appears only when complete."""
    from mira.ops.render import RenderStage

    report: dict[str, Any] = {"output": str(out_dir)}
    stage = RenderStage(limit, labels, opaque, format, colormap, sheet_size, quality, report)
    sink = FolderSink(out_dir, force=force, inputs=[*source_inputs(scenes), *inputs])
    engine = engine or local_engine(jobs)
    run_job(scenes, [stage], sink, engine=engine, progress=progress, description="Rendering")
    return report


def import_qsl(
    project_path: str | os.PathLike[str],
    output: str | os.PathLike[str],
    label_key: str | None = None,
    base_dir: str | os.PathLike[str] | None = None,
    skip_missing: bool = False,
    force: bool = False,
    progress: ProgressArg = None,
    format: str = "native",
    shard_size: int | None = None,
) -> dict[str, Any]:
    """`mira import-qsl`: a QSL project → a tarball (atomic, byte-deterministic); image
    members are the image files' bytes, untouched. Returns the report."""
    from mira.formats.qsl import iter_qsl

    report: dict[str, Any] = {"project": os.fspath(project_path), "output": os.fspath(output)}
    scenes = iter_qsl(project_path, label_key, base_dir, skip_missing, report)
    sink = TarSink(
        output,
        force=force,
        inputs=[os.fspath(project_path)],
        format=format,
        shard_size=shard_size,
    )
    run_job(scenes, [], sink, progress=progress, description="Importing")
    return report


def split_file(
    inputs: PathLike | Sequence[PathLike],
    sizes: Sequence[float],
    names: Sequence[str] | None = None,
    out_dir: str | None = None,
    random_state: int = 42,
    stratify: str | None = None,
    group: str | None = None,
    preserve: str | None = None,
    missing: Any = REQUIRED,
    force: bool = False,
    progress: ProgressArg = None,
    format: str = "native",
    shard_size: int | None = None,
) -> dict[str, Any]:
    """Split tarball(s) into one tarball per part, streaming, without decoding an image.

    Pass 1 reads the records to collect the KEY values and decides; pass 2 re-reads and
    writes every part in one sweep, copying scenes as stored. Standard input ("-") is
    spooled to a temporary file so it can be read twice. All parts are written atomically:
    after an error none is left. Outputs are ``{stem}-{name}.tar`` beside the input or in
    ``out_dir``. Returns the report of `mira.ops.split.split_report`.
    """
    from mira.ops import split
    from mira.ops.keys import parse_key

    weights = split.check_sizes(sizes)
    names = split.part_names(names, len(weights))
    for text in (stratify, group, preserve):
        if text is not None:
            parse_key(text)
    split.check_preserve_key(preserve)
    source = _tar_sources(inputs)
    outputs = split.output_paths(source.inputs, names, out_dir)
    sinks = [
        TarSink(path, force=force, inputs=source.inputs, format=format, shard_size=shard_size)
        for path in outputs
    ]
    show = progress or (lambda items, _description: items)
    with source.rereadable() as readable:
        parts, values = split.plan_split(
            show(readable, "Reading keys"),
            weights,
            names,
            random_state,
            stratify,
            group,
            preserve,
            missing,
            where=", ".join(source.inputs),
        )
        part_of = split.part_of(parts)
        tally = split.SplitTally(part_of, len(names))
        sink = PartsSink(sinks, part_of)
        run_job(readable, [tally], sink, progress=progress, description="Writing parts")
    options = {
        "inputs": source.inputs,
        "seed": random_state,
        "sizes": weights,
        "stratify": stratify,
        "group": group,
        "preserve": preserve,
    }
    return split.split_report(options, names, outputs, parts, values, tally)


def import_file(
    source_format: str,
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    images_dir: str | os.PathLike[str] | None = None,
    skip_missing: bool = False,
    key_prefix: str | None = None,
    force: bool = False,
    progress: ProgressArg = None,
    format: str = "native",
    shard_size: int | None = None,
    **options: Any,
) -> dict[str, Any]:
    """`mira import FORMAT`: a labelling tool's or trainer's files → a tarball (atomic;
    image bytes untouched). `options` are the format's own (see
    `mira.formats.interchange.OPTIONS`). Returns the format reader's report."""
    from mira.formats import interchange
    from mira.ops.scene_keys import PrefixKeys

    options = interchange.check_options("import", source_format, options)
    read = interchange.importer(source_format)
    stages = [PrefixKeys(key_prefix)] if key_prefix else []
    report: dict[str, Any] = {"format": source_format, "output": os.fspath(output)}
    scenes = read(
        source, images_dir=images_dir, skip_missing=skip_missing, report=report, **options
    )
    sink = TarSink(
        output, force=force, inputs=[os.fspath(source)], format=format, shard_size=shard_size
    )
    run_job(scenes, stages, sink, progress=progress, description="Importing")
    return report


def export_files(
    target_format: str,
    inputs: Sequence[PathLike],
    out_dir: str | os.PathLike[str],
    *,
    parts: Sequence[str] | None = None,
    images: str = "copy",
    force: bool = False,
    progress: ProgressArg = None,
    **options: Any,
) -> dict[str, Any]:
    """`mira export FORMAT`: one part per input tarball (named by `parts`, else from the
    file names, see `part_names_for`) → a folder laid out for the format, which appears
    only when complete. Returns the exporter's report."""
    from mira.formats import interchange

    options = interchange.check_options("export", target_format, options)
    sources = [TarSource([path]) for path in inputs]
    names = part_names_for([s.inputs[0] for s in sources], parts)
    folder = interchange.exporter(target_format)(
        out_dir,
        images=images,
        force=force,
        inputs=[path for source in sources for path in source.inputs],
        **options,
    )
    with folder:
        for name, source in zip(names, sources, strict=True):
            run_job(source, [], folder.part(name), progress=progress, description=name)
    return folder.report


def part_names_for(paths: Sequence[str], parts: Sequence[str] | None = None) -> list[str]:
    """Part names for export inputs: `parts` if given (one per input), else what `mira
    split` put after the last '-' of each file name (``data-train.tar`` → ``train``) when
    the inputs share what comes before it, else each file's stem."""
    from mira.errors import ValidationError
    from mira.ops.split import file_stem

    if parts:
        if len(parts) != len(paths):
            raise ValidationError(f"{len(parts)} part names given for {len(paths)} inputs")
        names = list(parts)
    else:
        stems = [file_stem(os.path.basename(path)) if path != "-" else "data" for path in paths]
        heads = {stem.rpartition("-")[0] for stem in stems}
        names = stems
        if len(heads) == 1 and "" not in heads:
            names = [stem.rpartition("-")[2] for stem in stems]
    for name in names:
        if not name or name in (".", "..") or "/" in name or "\\" in name:
            raise ValidationError(f"part name {name!r} cannot be used in a file name")
    if len(set(names)) != len(names):
        raise ValidationError(
            f"part names must be unique, got {' '.join(names)}; name them with --parts"
        )
    return names
