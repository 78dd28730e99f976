"""`mira export FORMAT`: tarballs → a folder laid out for a trainer or labelling tool."""

from enum import Enum
from typing import Annotated, Any

import typer

from mira.formats.interchange import EXPORTS
from mira_cli import output
from mira_cli.options import ForceOpt, InputArg, JsonOpt, usage_check

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
        help="Part names, one per input (default: from the file names, data-train.tar → train).",
    ),
]
ImagesOpt = Annotated[
    Images,
    typer.Option(
        "--images",
        help="copy: byte for byte; link: hard links where possible; none: labels only.",
    ),
]


def run(
    target_format: FormatArg,
    inputs: InputArg,
    out_dir: OutDirOpt,
    parts: PartsOpt = None,
    images: ImagesOpt = Images.copy,
    force: ForceOpt = False,
    json_mode: JsonOpt = False,
) -> None:
    """Export tarballs, one part each, to a folder laid out as FORMAT expects; the folder
    appears only when complete.

    Example: mira export yolo data-train.tar data-val.tar data-test.tar -o yolo/

    Python: mira.pipeline.jobs.export_files(format, inputs, out_dir, ...).
    """
    from mira.formats.interchange import check_options
    from mira.pipeline.jobs import export_files

    fmt = target_format.value
    options = usage_check(lambda: check_options("export", fmt, {}))
    report = export_files(
        fmt,
        inputs,
        out_dir,
        parts=parts,
        images=images.value,
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
                tables.append(output.Table(name.capitalize(), ["what", "count"], counts))
    return tables
