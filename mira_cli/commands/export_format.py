"""`mira export FORMAT`: tarballs → a folder laid out for a trainer or labelling tool."""

from enum import Enum
from typing import Annotated, Any

import typer

from mira.formats.interchange import EXPORTS
from mira_cli import output
from mira_cli.options import (
    ForceOpt,
    InputArg,
    JsonOpt,
    usage_check,
)
from mira_cli.spread import SpreadCommand

ExportFormat = Enum("ExportFormat", {name: name for name in EXPORTS}, type=str)  # type: ignore[misc]


class Images(str, Enum):
    copy = "copy"
    link = "link"
    none = "none"


FormatArg = Annotated[ExportFormat, typer.Argument(help="The layout to write.", metavar="FORMAT")]
OutDirOpt = Annotated[
    str, typer.Option("--output", "-o", metavar="OUT_DIR", help="The folder to write.")
]
PartsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--parts",
        metavar="NAME ...",
        help="Part names, one per input, after one flag (default: from the file names, "
        "data-train.tar → train).",
    ),
]


class ExportCommand(SpreadCommand):
    """Lets `--parts train val test` take its names after one flag."""

    accepts = {"--parts": lambda token, _taken: not token.startswith("-")}


COMMAND_CLASS = ExportCommand


class PreAnnotations(str, Enum):
    predictions = "predictions"
    annotations = "annotations"


PreAnnotationsOpt = Annotated[
    PreAnnotations | None,
    typer.Option(
        "--pre-annotations",
        help="labelstudio: write regions as predictions (default) or as annotations.",
    ),
]
UrlPrefixOpt = Annotated[
    str | None,
    typer.Option(
        "--url-prefix",
        metavar="PREFIX",
        help="labelstudio: put PREFIX before each image path (e.g. /data/local-files/?d=ds/).",
    ),
]
ImagesOpt = Annotated[
    Images | None,
    typer.Option(
        "--images",
        help="copy: byte for byte (the default); link: hard links where possible; "
        "none: labels only.",
    ),
]
CopyOpt = Annotated[bool, typer.Option("--copy", help="Same as --images copy.")]
LinkOpt = Annotated[bool, typer.Option("--link", help="Same as --images link.")]
NoImagesOpt = Annotated[bool, typer.Option("--no-images", help="Same as --images none.")]


class Task(str, Enum):
    detect = "detect"
    segment = "segment"


TaskOpt = Annotated[
    Task | None,
    typer.Option("--task", help="yolo: detect (the default) writes boxes, segment polygons."),
]


def _image_mode(images: Images | None, copy: bool, link: bool, no_images: bool) -> str:
    """The one image mode asked for, by --images or by one of its three short forms."""
    asked = [m for m, flag in (("copy", copy), ("link", link), ("none", no_images)) if flag]
    if images is not None:
        asked.append(images.value)
    if len(set(asked)) > 1:
        raise typer.BadParameter(
            f"give one image mode, not {' and '.join(asked)}", param_hint="'--images'"
        )
    return asked[0] if asked else "copy"


def run(
    target_format: FormatArg,
    inputs: InputArg,
    out_dir: OutDirOpt,
    parts: PartsOpt = None,
    images: ImagesOpt = None,
    copy: CopyOpt = False,
    link: LinkOpt = False,
    no_images: NoImagesOpt = False,
    task: TaskOpt = None,
    pre_annotations: PreAnnotationsOpt = None,
    url_prefix: UrlPrefixOpt = None,
    force: ForceOpt = False,
    json_mode: JsonOpt = False,
) -> None:
    """Export tarballs, one part each, to a folder laid out as FORMAT expects; the folder
    appears only when complete.

    Example: mira export yolo data-train.tar data-val.tar data-test.tar -o yolo/

    Example: mira export coco data-train.tar data-val.tar -o coco/ --link

    More: mira export voc data-train.tar data-val.tar -o voc/;
    mira export cvat data.tar -o cvat/;
    mira export labelstudio data.tar -o ls/ --url-prefix /data/local-files/?d=ls/

    Python: mira.pipeline.jobs.export_files(format, inputs, out_dir, ...).
    """
    from mira.formats.interchange import check_options
    from mira.pipeline.jobs import export_files

    fmt = target_format.value
    given = {
        "task": task and task.value,
        "pre_annotations": pre_annotations and pre_annotations.value,
        "url_prefix": url_prefix,
    }
    options = usage_check(lambda: check_options("export", fmt, given))
    report = export_files(
        fmt,
        inputs,
        out_dir,
        parts=parts,
        images=_image_mode(images, copy, link, no_images),
        force=force,
        progress=output.progress,
        **options,
    )
    output.emit(report, report_tables(report), json_mode)


def report_tables(report: dict[str, Any]) -> list[output.Table]:
    rows = [[name, count] for name, count in report["parts"].items()]
    tables = [output.Table(f"Exported to {report['output']}", ["part", "scenes"], rows)]
    for name, value in report.items():
        if name != "parts" and isinstance(value, dict) and value:
            if all(isinstance(v, int) for v in value.values()):
                counts = [[what.replace("_", " "), n] for what, n in value.items()]
                title = name.replace("_", " ").capitalize()
                tables.append(output.Table(title, ["what", "count"], counts))
    return tables
