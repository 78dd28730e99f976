"""`mira tile`: cut scenes into sub-crops that never cut an annotation, or a grid of tiles."""

from enum import Enum
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
    ShardSizeOpt,
    SkipUndecodableOpt,
    TarFormat,
    TarFormatOpt,
    encoding_options,
    engine_option,
    writer_options,
)


class Mode(str, Enum):
    subcrops = "subcrops"
    grid = "grid"


class Oversized(str, Enum):
    error = "error"
    crop = "crop"


def _max_size(value: int) -> int:
    if value < 1:
        raise typer.BadParameter(f"{value} is not a positive number of pixels.")
    return value


MaxSizeOpt = Annotated[
    int,
    typer.Option("--max-size", callback=_max_size, metavar="PX", help="Largest crop side."),
]
ModeOpt = Annotated[
    Mode, typer.Option("--mode", help="subcrops: never cut an annotation; grid: sliding window.")
]


def _overlap(value: float) -> float:
    if not 0 <= value < 1:
        raise typer.BadParameter(f"{value} is not in the range 0<=x<1.")
    return value


OverlapOpt = Annotated[
    float,
    typer.Option(
        "--overlap", callback=_overlap, metavar="F", help="Grid: overlap of neighbours, in [0, 1)."
    ),
]
VisibilityOpt = Annotated[
    float,
    typer.Option(
        "--min-visibility",
        min=0,
        max=1,
        metavar="F",
        help="Grid: drop clipped annotations showing less.",
    ),
]
OversizedOpt = Annotated[
    Oversized,
    typer.Option(
        "--oversized", help="Subcrops: an annotation that cannot fit is an error, or gets a crop."
    ),
]


def run(
    inputs: InputArg,
    out: OutputOpt,
    max_size: MaxSizeOpt,
    mode: ModeOpt = Mode.subcrops,
    overlap: OverlapOpt = 0.2,
    min_visibility: VisibilityOpt = 0.0,
    oversized: OversizedOpt = Oversized.error,
    image_format: ImageFormatOpt = ImageFormat.keep,
    quality: QualityOpt = None,
    jobs: JobsOpt = None,
    engine: EngineOpt = EngineName.local,
    ray_address: RayAddressOpt = None,
    skip_undecodable: SkipUndecodableOpt = False,
    force: ForceOpt = False,
    tar_format: TarFormatOpt = TarFormat.native,
    shard_size: ShardSizeOpt = None,
    json_mode: JsonOpt = False,
) -> None:
    """Cut every scene into crops of at most --max-size pixels; each records its source.

    Pieces of a JPEG are JPEG at the source's own quality by default (sized like it).
    Example: mira tile data.tar -o tiles.tar --max-size 512 --mode grid --overlap 0.2

    Python: Scene.to_subcrops(max_size) and Scene.tile(size, overlap, min_visibility).
    """
    from mira.pipeline.jobs import tile_file

    encoding = encoding_options(image_format, quality)
    report = tile_file(
        inputs, out, max_size, mode.value, overlap, min_visibility, oversized.value, jobs,
        force, output.progress, **writer_options(tar_format, shard_size), **encoding,
        engine=engine_option(engine, jobs, ray_address),
        skip_undecodable=skip_undecodable,
    )  # fmt: skip
    scenes, annotations = report["scenes"], report["annotations"]
    rows = [
        ["scenes", scenes["in"], scenes["out"], "-"],
        ["annotations", annotations["in"], annotations["out"], annotations["dropped_visibility"]],
    ]
    title = f"Tiled {scenes['in']} scenes into {scenes['out']} ({mode.value}, max {max_size} px)"
    table = output.Table(title, ["", "in", "out", "dropped (visibility)"], rows)
    tables = [table, output.encoded_table(report["encoded"]), *output.undecodable_tables(report)]
    output.emit(report, tables, json_mode, output=out)
