"""The file-level jobs behind the commands, each one pipeline: tarballs or a project in,
stages, tarballs or a folder out. `mira.ops` modules keep the names importable.

Every job checks its options and outputs before reading anything, reports in one
JSON-ready dict, and leaves nothing behind when it fails. `progress(items, description)`,
if given, wraps the source stream (the CLI draws a bar on a terminal).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from mira.formats.tario import PathLike
from mira.ops.keys import REQUIRED
from mira.pipeline.engine import Engine, local_engine
from mira.pipeline.run import Pipeline
from mira.pipeline.sinks import FolderSink, NullSink, PartsSink, Sink, TarSink
from mira.pipeline.sources import TarSource, source_inputs
from mira.pipeline.stage import MapStage, Stage

ProgressArg = Callable[[Iterable[Any], str], Iterable[Any]] | None

#: The jobs each op module still exports (see `mira.pipeline.moved_job`).
MOVED = {
    "mira.formats.qsl": ("import_qsl",),
    "mira.ops.dedupe": ("dedupe_file",),
    "mira.ops.merge": ("merge_files",),
    "mira.ops.filter": ("filter_file",),
    "mira.ops.remap": ("remap_file",),
    "mira.ops.tiling": ("tile_file",),
    "mira.ops.augment_stream": ("save_augmented",),
    "mira.ops.placeholder": ("save_placeholder",),
    "mira.ops.render": ("render_scenes",),
    "mira.ops.split": ("split_file",),
    "mira.ops.fingerprint": ("fingerprint_file",),
    "mira.ops.image_dedupe": ("dedupe_images_file",),
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


def _skipping(stage: MapStage, skip_undecodable: bool, report: dict[str, Any]) -> None:
    """`--skip-undecodable`: such scenes are left out and counted in ``report["undecodable"]``
    (``count``, first ``examples``) instead of failing the run."""
    if skip_undecodable:
        stage.skip_undecodable(report)


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


def dedupe_images_file(
    inputs: Any,
    output: Any,
    mode: str = "exact",
    distance: int = 10,
    jobs: int | None = None,
    force: bool = False,
    progress: ProgressArg = None,
    format: str = "native",
    shard_size: int | None = None,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """`mira dedupe --images`: tarball(s) → the first scene of every group of copies
    (`mira.ops.image_dedupe`), copied as stored. Pass 1 reads the fingerprints, computing
    the missing ones (by `engine`, default `jobs` local processes; they are stored in the
    output); pass 2 writes. Returns the report."""
    from mira.ops import image_dedupe
    from mira.ops.fingerprint import FingerprintStage
    from mira.ops.image_index import ImageIndex

    image_dedupe.check_mode(mode, distance)
    report: dict[str, Any] = {
        "output": os.fspath(output),
        "images": mode,
        "distance": distance if mode == "similar" else None,
    }
    source = _tar_sources(inputs)
    sink = TarSink(output, force=force, inputs=source.inputs, format=format, shard_size=shard_size)
    show = progress or (lambda items, _description: items)
    with source.rereadable() as readable:
        fingerprints = FingerprintStage(report, keep=True)
        index = ImageIndex()
        for scene in fingerprints(
            show(readable, "Reading fingerprints"), engine or local_engine(jobs)
        ):
            index.add(scene)
        labels = image_dedupe.duplicate_labels(index, mode, distance)
        report.update(scenes_in=len(index), groups=image_dedupe.group_report(index, labels))
        stage = image_dedupe.ImageDedupeStage(labels, fingerprints.computed, report)
        run_job(readable, [stage], sink, progress=progress, description="Writing")
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
    image_format: str = "keep",
    quality: int | None = None,
    skip_undecodable: bool = False,
) -> dict[str, Any]:
    """`mira tile`: tarball(s) → sub-crops or grid tiles → a tarball (every piece encoded
    once, as `Encoding(image_format, quality)` says, by `engine`, default `jobs` local
    processes). Returns the report of `TileStage`."""
    from mira.core.encoding import Encoding
    from mira.ops.tiling import TileStage

    report: dict[str, Any] = {"output": os.fspath(output)}
    encoding = Encoding(image_format, quality)
    stage = TileStage(max_size, mode, overlap, min_visibility, oversized, report, encoding)
    _skipping(stage, skip_undecodable, report)
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
    quality: int | None = None,
    force: bool = False,
    inputs: Iterable[PathLike] = (),
    format: str = "native",
    shard_size: int | None = None,
    engine: Engine | None = None,
    progress: ProgressArg = None,
    image_format: str = "keep",
    skip_undecodable: bool = False,
) -> dict[str, Any]:
    """`mira augment`: the augmented stream to a tarball atomically; the report.

    `pipeline` is an augmenter or a pipeline file (`load_pipeline`). Copies are encoded as
    `Encoding(image_format, quality)` says. The encoding and the output are checked first
    (exists without `force`, or is one of `inputs`), then the pipeline and options; any
    failure, then or later, leaves nothing behind.
    """
    from mira.core.encoding import Encoding
    from mira.ops.augment_pipeline import load_pipeline
    from mira.ops.augment_stream import AugmentStage, new_report

    encoding = Encoding(image_format, quality)
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
        encoding=encoding,
        report=report,
    )
    _skipping(stage, skip_undecodable, report)
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
    image_format: str = "png",
    quality: int | None = None,
    skip_undecodable: bool = False,
) -> dict[str, Any]:
    """`SceneCollection.save_placeholder(filename, colormap)`, streaming: the placeholder of
    every scene to a tarball (atomically), encoded as `Encoding(image_format, quality)`
    says (PNG by default); the report. `jobs` processes draw and encode (None: all cores);
    output bytes do not depend on it."""
    from mira.core.encoding import Encoding
    from mira.ops.placeholder import PlaceholderStage

    report: dict[str, Any] = {"output": os.fspath(filename)}
    stage = PlaceholderStage(colormap, background, report, Encoding(image_format, quality))
    _skipping(stage, skip_undecodable, report)
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
    image_format: str = "jpg",
    jobs: int | None = None,
    force: bool = False,
    inputs: Iterable[Any] = (),
    colormap: Any = None,
    sheet_size: int = 16,
    quality: int | None = None,
    engine: Engine | None = None,
    progress: ProgressArg = None,
    skip_undecodable: bool = False,
) -> dict[str, Any]:
    """`mira render`: `OUT_DIR/<key>.<ext>` per scene, encoded as `Encoding(image_format,
    quality)` says (JPEG by default), and `OUT_DIR/contact-sheet.jpg` of the
    first `sheet_size` scenes; drawn by `engine` (default `jobs` local processes), written
    in input order into a folder that appears only when complete."""
    from mira.core.encoding import Encoding
    from mira.ops.render import RenderStage

    report: dict[str, Any] = {"output": str(out_dir)}
    encoding = Encoding(image_format, quality)
    stage = RenderStage(limit, labels, opaque, encoding, colormap, sheet_size, report)
    _skipping(stage, skip_undecodable, report)
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
    fingerprint: bool = False,
    jobs: int | None = None,
    key_prefix: str | None = None,
) -> dict[str, Any]:
    """`mira import-qsl`: a QSL project → a tarball (atomic, byte-deterministic); image
    members are the image files' bytes, untouched; `key_prefix` goes in front of every
    key; with `fingerprint`, records carry each image's fingerprint (computed by `jobs`
    processes). Returns the report."""
    from mira.formats.qsl import iter_qsl
    from mira.ops.scene_keys import PrefixKeys

    stages = [PrefixKeys(key_prefix)] if key_prefix else []
    report: dict[str, Any] = {"project": os.fspath(project_path), "output": os.fspath(output)}
    scenes = iter_qsl(project_path, label_key, base_dir, skip_missing, report)
    sink = TarSink(
        output,
        force=force,
        inputs=[os.fspath(project_path)],
        format=format,
        shard_size=shard_size,
    )
    fingerprints, engine = _fingerprinting(fingerprint, jobs, report)
    stages += fingerprints
    run_job(scenes, stages, sink, engine=engine, progress=progress, description="Importing")
    return report


def _fingerprinting(fingerprint: bool, jobs: int | None, report: dict[str, Any]):
    """The stages and engine of an import: a `FingerprintStage` on `jobs` processes when
    asked for, else nothing (and nothing decoded)."""
    if not fingerprint:
        return [], local_engine(1)
    from mira.ops.fingerprint import FingerprintStage

    return [FingerprintStage(report)], local_engine(jobs)


def fingerprint_file(
    inputs: Any,
    output: Any,
    jobs: int | None = None,
    force: bool = False,
    progress: ProgressArg = None,
    format: str = "native",
    shard_size: int | None = None,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """`mira fingerprint`: tarball(s) → the same scenes, each record with its image's
    fingerprint (computed by `engine`, default `jobs` local processes; scenes that have
    one keep it undecoded), images copied byte for byte. Returns the report."""
    from mira.ops.fingerprint import FingerprintStage

    report: dict[str, Any] = {"output": os.fspath(output)}
    stage = FingerprintStage(report)
    source = _tar_sources(inputs)
    sink = TarSink(output, force=force, inputs=source.inputs, format=format, shard_size=shard_size)
    engine = engine or local_engine(jobs)
    run_job(source, [stage], sink, engine=engine, progress=progress, description="Fingerprinting")
    report["scenes"] = sum(report["fingerprints"].values())
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
    similar: int | None = None,
    allow_empty: bool = False,
) -> dict[str, Any]:
    """Split tarball(s) into one tarball per part, streaming, without decoding an image.

    Exact duplicate images stay in one part; with `similar` (a Hamming distance),
    near-duplicates too (this needs stored fingerprints, see `fingerprint_file`). A part
    left empty is an error unless `allow_empty` (see `mira.ops.split_safety`).

    Pass 1 reads the records to collect the KEY values and decides; pass 2 re-reads and
    writes every part in one sweep, copying scenes as stored. Standard input ("-") is
    spooled to a temporary file so it can be read twice. All parts are written atomically:
    after an error none is left. Outputs are ``{stem}-{name}.tar`` beside the input or in
    ``out_dir``. Returns the report of `mira.ops.split.split_report`.
    """
    from mira.ops import split
    from mira.ops.keys import parse_key
    from mira.ops.near_duplicates import check_distance

    weights = split.check_sizes(sizes)
    names = split.part_names(names, len(weights))
    for text in (stratify, group, preserve):
        if text is not None:
            parse_key(text)
    split.check_preserve_key(preserve)
    if similar is not None:
        check_distance(similar)
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
            similar=similar,
            allow_empty=allow_empty,
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
        "group_similar": similar,
    }
    return split.split_report(options, names, outputs, parts, values, tally)


def merge_files(
    inputs: Sequence[PathLike],
    output: PathLike,
    prefix_keys: str | Sequence[str] | None = None,
    duplicate_images: str = "keep",
    force: bool = False,
    progress: ProgressArg = None,
    format: str = "native",
    shard_size: int | None = None,
) -> dict[str, Any]:
    """`mira merge`: tarballs (each a file, shards or a glob) → one tarball, in the order
    given, categories unioned, keys kept unique (see `mira.ops.merge`). Reads the inputs
    twice (standard input is spooled); nothing is written when a key clashes. Returns the
    report of `mira.ops.merge.merge_report`."""
    from mira.formats.tario import expand_inputs
    from mira.ops import merge

    args = [os.fspath(path) for path in inputs]
    prefixes = merge.input_prefixes(args, prefix_keys)
    merge.check_duplicate_action(duplicate_images)
    names = ["<stdin>" if arg == "-" else arg for arg in args]
    counts = [len(expand_inputs(arg)) for arg in args]
    source = _tar_sources(args)
    sink = TarSink(output, force=force, inputs=source.inputs, format=format, shard_size=shard_size)
    with source.rereadable() as readable:
        planner = merge.MergePlanner(names, prefixes, duplicate_images)
        start = 0
        for number, count in enumerate(counts):
            files = readable.inputs[start : start + count]
            start += count
            reading = planner.reading(number)
            description = f"Reading {names[number]}"
            run_job(
                TarSource(files), [reading], NullSink(), progress=progress, description=description
            )
        stage = merge.MergeStage(planner.plan, prefixes)
        run_job(readable, [stage], sink, progress=progress, description="Merging")
    return merge.merge_report(names, prefixes, os.fspath(output), stage)


def filter_file(
    inputs: PathLike | Sequence[PathLike],
    output: PathLike,
    categories: str | Sequence[str] | None = None,
    drop_categories: str | Sequence[str] | None = None,
    where: Sequence[str] = (),
    min_annotations: int | None = None,
    min_area: float | None = None,
    with_labels: str | Sequence[str] | None = None,
    sample: int | None = None,
    seed: int = 42,
    force: bool = False,
    progress: ProgressArg = None,
    format: str = "native",
    shard_size: int | None = None,
) -> dict[str, Any]:
    """`mira filter`: tarball(s) → the annotations and scenes the criteria keep → a tarball
    (see `mira.ops.filter`); unchanged scenes are copied as stored. With `sample`, a first
    pass counts the scenes left (standard input is spooled). Returns the report."""
    from mira.ops import filter as filtering

    criteria = filtering.SceneFilter(
        categories, drop_categories, where, min_annotations, min_area, with_labels
    )
    sample = filtering.check_sample(sample)
    source = _tar_sources(inputs)
    sink = TarSink(output, force=force, inputs=source.inputs, format=format, shard_size=shard_size)
    reading = source.rereadable() if sample is not None else contextlib.nullcontext(source)
    with reading as readable:
        mask = None
        if sample is not None:
            counting = filtering.FilterStage(criteria)
            run_job(readable, [counting], NullSink(), progress=progress, description="Counting")
            mask = filtering.sample_mask(counting.left, sample, seed)
        stage = filtering.FilterStage(criteria, mask)
        run_job(readable, [stage], sink, progress=progress, description="Filtering")
    report = {"inputs": source.inputs, "output": os.fspath(output), **stage.report()}
    report["options"].update(sample=sample, seed=seed)
    return report


def remap_file(
    inputs: PathLike | Sequence[PathLike],
    output: PathLike,
    mapping: Any,
    unmapped: str = "keep",
    force: bool = False,
    progress: ProgressArg = None,
    format: str = "native",
    shard_size: int | None = None,
) -> dict[str, Any]:
    """`mira remap`: tarball(s) → categories renamed, merged or dropped by `mapping` (a map
    file or a dict, see `mira.ops.remap`) → a tarball; scenes the map leaves as they are
    are copied as stored. Returns the report."""
    from mira.ops import remap

    if isinstance(mapping, (str, os.PathLike)):
        mapping = remap.load_map(mapping)
    stage = remap.RemapStage(remap.Remapping(mapping, unmapped))
    source = _tar_sources(inputs)
    sink = TarSink(output, force=force, inputs=source.inputs, format=format, shard_size=shard_size)
    run_job(source, [stage], sink, progress=progress, description="Remapping")
    return {"inputs": source.inputs, "output": os.fspath(output), **stage.report()}


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
    fingerprint: bool = False,
    jobs: int | None = None,
    **options: Any,
) -> dict[str, Any]:
    """`mira import FORMAT`: a labelling tool's or trainer's files → a tarball (atomic;
    image bytes untouched; with `fingerprint`, as for `import_qsl`). `options` are the
    format's own (see `mira.formats.interchange.OPTIONS`). Returns the format reader's
    report."""
    from mira.formats import interchange
    from mira.ops.scene_keys import PrefixKeys

    options = interchange.check_options("import", source_format, options)
    read = interchange.importer(source_format)
    report: dict[str, Any] = {"format": source_format, "output": os.fspath(output)}
    stages, engine = _fingerprinting(fingerprint, jobs, report)
    stages = [PrefixKeys(key_prefix), *stages] if key_prefix else stages
    scenes = read(
        source, images_dir=images_dir, skip_missing=skip_missing, report=report, **options
    )
    sink = TarSink(
        output, force=force, inputs=[os.fspath(source)], format=format, shard_size=shard_size
    )
    run_job(scenes, stages, sink, engine=engine, progress=progress, description="Importing")
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

    sources = [TarSource([path]) for path in inputs]
    names = part_names_for([s.inputs[0] for s in sources], parts)
    return export_scenes(
        target_format,
        dict(zip(names, sources, strict=True)),
        out_dir,
        images=images,
        force=force,
        progress=progress,
        **options,
    )


def export_scenes(
    target_format: str,
    parts: Mapping[str, Iterable[Any]],
    out_dir: str | os.PathLike[str],
    *,
    images: str = "copy",
    force: bool = False,
    progress: ProgressArg = None,
    **options: Any,
) -> dict[str, Any]:
    """Streams of scenes, one per part name, → a folder laid out for the format (what
    `export_files` and the `SceneCollection.to_<format>` twins run). Returns the
    exporter's report."""
    from mira.formats import interchange

    options = interchange.check_options("export", target_format, options)
    names = part_names_for(list(parts), list(parts))
    inputs = [path for scenes in parts.values() for path in source_inputs(scenes)]
    folder = interchange.exporter(target_format)(
        out_dir, images=images, force=force, inputs=inputs, **options
    )
    with folder:
        for name in names:
            run_job(parts[name], [], folder.part(name), progress=progress, description=name)
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
