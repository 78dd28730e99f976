"""`mira dedupe`: drop duplicate annotations of the same class within each scene."""

from enum import Enum
from typing import Annotated

import typer

from mira_cli import output
from mira_cli.options import (
    ForceOpt,
    InputArg,
    JsonOpt,
    OutputOpt,
    ShardSizeOpt,
    TarFormat,
    TarFormatOpt,
    writer_options,
)


class Method(str, Enum):
    iou = "iou"
    coverage = "coverage"


def _threshold(value: float) -> float:
    if not 0 < value <= 1:
        raise typer.BadParameter(f"{value} is not in the range 0<x<=1.")
    return value


ThresholdOpt = Annotated[
    float,
    typer.Option(
        "--threshold",
        callback=_threshold,
        metavar="F",
        help="Overlap at or above which to drop, in (0, 1].",
    ),
]
MethodOpt = Annotated[
    Method,
    typer.Option(
        "--method", help="iou, or coverage: the share of an annotation inside a larger one."
    ),
]


def run(
    inputs: InputArg,
    out: OutputOpt,
    threshold: ThresholdOpt = 1.0,
    method: MethodOpt = Method.iou,
    force: ForceOpt = False,
    tar_format: TarFormatOpt = TarFormat.native,
    shard_size: ShardSizeOpt = None,
    json_mode: JsonOpt = False,
) -> None:
    """Drop annotations overlapped by a larger-or-equal one of their class; no image decoded.

    Example: mira dedupe data.tar -o clean.tar --threshold 0.9

    Python: Scene.drop_duplicates(threshold, method).
    """
    from mira.pipeline.jobs import dedupe_file

    report = dedupe_file(
        inputs,
        out,
        threshold,
        method.value,
        force,
        output.progress,
        **writer_options(tar_format, shard_size),
    )
    totals = report["annotations"]
    rows = [
        [name, c["before"], c["removed"], c["after"]] for name, c in report["categories"].items()
    ]
    rows.append(["total", totals["before"], totals["removed"], totals["after"]])
    title = (
        f"Removed {totals['removed']} of {totals['before']} annotations "
        f"in {report['scenes']} scenes"
    )
    table = output.Table(title, ["category", "before", "removed", "after"], rows)
    output.emit(report, [table], json_mode, output=out)
