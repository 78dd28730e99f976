"""`mira render`: annotated images, one per scene, and a contact sheet of the first ones."""

from enum import Enum
from typing import Annotated

import typer

from mira_cli import output
from mira_cli.options import ForceOpt, InputArg, JobsOpt, JsonOpt


class ImageFormat(str, Enum):
    jpg = "jpg"
    png = "png"


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
FormatOpt = Annotated[ImageFormat, typer.Option("--format", help="Image format of the renders.")]
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
    format: FormatOpt = ImageFormat.jpg,
    colormap: ColormapOpt = None,
    jobs: JobsOpt = None,
    force: ForceOpt = False,
    json_mode: JsonOpt = False,
) -> None:
    """Draw each scene's annotations to OUT_DIR/KEY.jpg, plus OUT_DIR/contact-sheet.jpg.

    Python: Scene.annotated() for one scene; mira.pipeline.jobs.render_scenes for a stream.
    """
    from functools import partial

    from mira.pipeline import TarSource
    from mira.pipeline.jobs import render_scenes

    report = render_scenes(
        TarSource(inputs), out_dir, limit=limit, labels=labels, opaque=opaque,
        format=format.value, jobs=jobs, force=force, colormap=colormap,
        progress=partial(output.progress, total=limit),
    )  # fmt: skip
    rows = [["scenes", report["scenes"]], ["contact sheet", report["contact_sheet"]]]
    output.emit(
        report, [output.Table(f"Rendered to {out_dir}", ["what", "value"], rows)], json_mode
    )
