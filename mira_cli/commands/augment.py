"""`mira augment`: N augmented copies of every scene from an albumentations pipeline file."""

from typing import Annotated

import typer

from mira_cli import output
from mira_cli.options import (
    EngineName,
    EngineOpt,
    ForceOpt,
    ImageFormat,
    ImageFormatOpt,
    InputArg,
    JobsOpt,
    JsonOpt,
    OutputOpt,
    QualityOpt,
    RayAddressOpt,
    SeedOpt,
    ShardSizeOpt,
    SkipUndecodableOpt,
    TarFormat,
    TarFormatOpt,
    encoding_options,
    engine_option,
    writer_options,
)

ConfigOpt = Annotated[
    str,
    typer.Option(
        "--config",
        "-c",
        metavar="PIPELINE.yaml",
        help="albumentations pipeline as written by albumentations.save (YAML or JSON).",
    ),
]
CopiesOpt = Annotated[
    int, typer.Option("--copies", "-n", min=0, metavar="N", help="Augmented copies of every scene.")
]
KeepOpt = Annotated[
    bool, typer.Option("--keep-original", help="Also write every original scene first.")
]
VisibilityOpt = Annotated[
    float | None,
    typer.Option(
        "--min-visibility",
        metavar="F",
        min=0.0,
        max=1.0,
        help="Drop annotations with a smaller share of their area left in the image "
        "(default: the pipeline's bbox min_visibility, else 0).",
    ),
]


def run(
    inputs: InputArg,
    out: OutputOpt,
    config: ConfigOpt,
    copies: CopiesOpt = 1,
    keep_original: KeepOpt = False,
    min_visibility: VisibilityOpt = None,
    seed: SeedOpt = 0,
    jobs: JobsOpt = None,
    image_format: ImageFormatOpt = ImageFormat.keep,
    quality: QualityOpt = None,
    engine: EngineOpt = EngineName.local,
    ray_address: RayAddressOpt = None,
    skip_undecodable: SkipUndecodableOpt = False,
    force: ForceOpt = False,
    tar_format: TarFormatOpt = TarFormat.native,
    shard_size: ShardSizeOpt = None,
    json_mode: JsonOpt = False,
) -> None:
    """Apply an albumentations pipeline to every scene; boxes and polygons follow the pixels.

    Copies are keyed KEY-aug01, KEY-aug02, ... and record their source in metadata.augment;
    copies of a JPEG are JPEG at the source's own quality by default (sized like it).
    Python: SceneCollection.augment(augmenter) / mira.pipeline.jobs.save_augmented.
    """
    from mira.pipeline import TarSource
    from mira.pipeline.jobs import save_augmented

    encoding = encoding_options(image_format, quality)
    report = save_augmented(
        TarSource(inputs),
        out,
        config,
        copies=copies,
        keep_original=keep_original,
        min_visibility=min_visibility,
        seed=seed,
        engine=engine_option(engine, jobs, ray_address),
        force=force,
        skip_undecodable=skip_undecodable,
        progress=output.progress,
        **writer_options(tar_format, shard_size),
        **encoding,
    )
    counts = [[name, report[name]] for name in ("scenes_in", "scenes_out")]
    counts += [[name, report[name]] for name in ("annotations_in", "annotations_out")]
    dropped = [[name, n] for name, n in report["dropped_by_visibility"].items()]
    tables = [output.Table(f"Wrote {out}", ["", "count"], counts)]
    if report["encoded"]:
        tables.append(output.encoded_table(report["encoded"]))
    if dropped:
        tables.append(output.Table("Dropped by visibility", ["category", "annotations"], dropped))
    tables += output.undecodable_tables(report)
    output.emit(report, tables, json_mode, output=out)
