"""`mira render`: annotated images, one per scene, and a contact sheet of the first ones."""

from typing import Annotated

import typer

from mira_cli import output
from mira_cli.options import (
    EngineName,
    EngineOpt,
    ForceOpt,
    ImageFormat,
    InputArg,
    JobsOpt,
    JsonOpt,
    QualityOpt,
    RayAddressOpt,
    SkipUndecodableOpt,
    encoding_options,
    engine_option,
    image_format_option,
)


def _folder(value: str) -> str:
    if value == "-":
        raise typer.BadParameter("render writes a folder of images, not a stream: give a folder")
    return value


OutDirOpt = Annotated[
    str,
    typer.Option("--output", "-o", metavar="OUT_DIR", callback=_folder, help="Output folder."),
]
LimitOpt = Annotated[
    int | None, typer.Option("--limit", min=1, metavar="N", help="Render the first N scenes.")
]
LabelsOpt = Annotated[bool, typer.Option("--labels/--no-labels", help="Write category names.")]
OpaqueOpt = Annotated[bool, typer.Option("--opaque", help="Fill annotations instead of outlining.")]
#: render's --format always meant the renders' image format: it is another name for it.
FormatOpt = Annotated[ImageFormat, image_format_option("--format")]
ColormapOpt = Annotated[
    str | None,
    typer.Option("--colormap", metavar="FILE.yaml", help="Category colours (as for placeholder)."),
]


def run(
    inputs: InputArg,
    out_dir: OutDirOpt,
    limit: LimitOpt = None,
    labels: LabelsOpt = True,
    opaque: OpaqueOpt = False,
    image_format: FormatOpt = ImageFormat.jpg,
    quality: QualityOpt = None,
    colormap: ColormapOpt = None,
    jobs: JobsOpt = None,
    engine: EngineOpt = EngineName.local,
    ray_address: RayAddressOpt = None,
    skip_undecodable: SkipUndecodableOpt = False,
    force: ForceOpt = False,
    json_mode: JsonOpt = False,
) -> None:
    """Draw each scene's annotations to OUT_DIR/KEY.jpg, plus OUT_DIR/contact-sheet.jpg.

    --format is another name for --image-format. The contact sheet is JPEG (at --quality,
    else 90).
    Python: Scene.annotated() for one scene; mira.pipeline.jobs.render_scenes for a stream.
    """
    from functools import partial

    from mira.pipeline import TarSource
    from mira.pipeline.jobs import render_scenes

    encoding = encoding_options(image_format, quality)
    report = render_scenes(
        TarSource(inputs), out_dir, limit=limit, labels=labels, opaque=opaque,
        force=force, colormap=colormap, engine=engine_option(engine, jobs, ray_address),
        progress=partial(output.progress, total=limit), skip_undecodable=skip_undecodable,
        **encoding,
    )  # fmt: skip
    rows = [["scenes", report["scenes"]], ["contact sheet", report["contact_sheet"]]]
    tables = [output.Table(f"Rendered to {out_dir}", ["what", "value"], rows)]
    output.emit(report, tables + output.undecodable_tables(report), json_mode)
