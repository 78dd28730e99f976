"""`mira placeholder`: the same scenes on blank images, annotations filled in their colours."""

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

ColormapOpt = Annotated[
    str | None,
    typer.Option(
        "--colormap",
        metavar="FILE.yaml",
        help="YAML/JSON map of category → [r, g, b] or '#rrggbb' [default: distinct colours].",
    ),
]


def _background(value: str) -> str:
    from mira.errors import ValidationError
    from mira.ops.placeholder import parse_background

    try:
        parse_background(value)
    except ValidationError as error:
        raise typer.BadParameter(str(error)) from None
    return value


BackgroundOpt = Annotated[
    str,
    typer.Option(
        "--background",
        callback=_background,
        metavar="COLOUR",
        help="Background: a grey level 0-255 or '#rrggbb'.",
    ),
]


def run(
    inputs: InputArg,
    out: OutputOpt,
    colormap: ColormapOpt = None,
    background: BackgroundOpt = "255",
    image_format: ImageFormatOpt = ImageFormat.png,
    quality: QualityOpt = None,
    force: ForceOpt = False,
    tar_format: TarFormatOpt = TarFormat.native,
    shard_size: ShardSizeOpt = None,
    jobs: JobsOpt = None,
    engine: EngineOpt = EngineName.local,
    ray_address: RayAddressOpt = None,
    skip_undecodable: SkipUndecodableOpt = False,
    json_mode: JsonOpt = False,
) -> None:
    """Write placeholder scenes: same-size PNGs with each annotation filled in its colour.

    Python: SceneCollection.save_placeholder(filename, colormap).
    """
    from mira.pipeline import TarSource
    from mira.pipeline.jobs import save_placeholder

    encoding = encoding_options(image_format, quality)
    report = save_placeholder(
        TarSource(inputs),
        out,
        colormap=colormap,
        background=background,
        force=force,
        progress=output.progress,
        engine=engine_option(engine, jobs, ray_address),
        skip_undecodable=skip_undecodable,
        **writer_options(tar_format, shard_size),
        **encoding,
    )
    rows = [[name, color] for name, color in report["colors"].items()]
    table = output.Table(
        f"Wrote {report['scenes']} scenes, {report['annotations']} annotations to {out}",
        ["category", "colour"],
        rows,
    )
    tables = [table, output.encoded_table(report["encoded"]), *output.undecodable_tables(report)]
    output.emit(report, tables, json_mode, output=out)
