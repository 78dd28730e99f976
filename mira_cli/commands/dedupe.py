"""`mira dedupe`: drop duplicate annotations of the same class within each scene."""

from enum import Enum
from typing import Annotated

import typer

from mira_cli import output
from mira_cli.options import (
    DEFAULT_DISTANCE,
    DistanceOpt,
    ForceOpt,
    InputArg,
    JobsOpt,
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


class Images(str, Enum):
    exact = "exact"
    similar = "similar"


ImagesOpt = Annotated[
    Images | None,
    typer.Option(
        "--images",
        help="Drop duplicate images instead, keeping the first: exact (same bytes or "
        "pixels), or similar (near-duplicates within --distance).",
    ),
]


def run(
    inputs: InputArg,
    out: OutputOpt,
    threshold: ThresholdOpt = 1.0,
    method: MethodOpt = Method.iou,
    images: ImagesOpt = None,
    distance: DistanceOpt = DEFAULT_DISTANCE,
    jobs: JobsOpt = None,
    force: ForceOpt = False,
    tar_format: TarFormatOpt = TarFormat.native,
    shard_size: ShardSizeOpt = None,
    json_mode: JsonOpt = False,
) -> None:
    """Drop annotations overlapped by a larger-or-equal one of their class; no image decoded.

    With --images, drop every later copy of an image instead (scenes without a stored
    fingerprint are decoded once, on --jobs processes, and get one).

    Example: mira dedupe data.tar -o clean.tar --threshold 0.9

    Python: Scene.drop_duplicates(threshold, method);
    mira.pipeline.jobs.dedupe_images_file(inputs, output, mode, distance).
    """
    from mira.pipeline.jobs import dedupe_file, dedupe_images_file

    if images is not None:
        report = dedupe_images_file(
            inputs, out, images.value, distance, jobs, force, output.progress,
            **writer_options(tar_format, shard_size),
        )  # fmt: skip
        output.emit(report, _image_tables(report), json_mode, output=out)
        return

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


def _image_tables(report: dict) -> list[output.Table]:
    mode = report["images"]
    if report["distance"] is not None:
        mode += f", distance {report['distance']}"
    title = (
        f"Kept {report['scenes_out']} of {report['scenes_in']} scenes: dropped "
        f"{report['dropped']} copies in {len(report['groups'])} groups ({mode})"
    )
    rows = [[g["kept"], len(g["dropped"]), " ".join(g["dropped"][:8])] for g in report["groups"]]
    counts = report["fingerprints"]
    return [
        output.Table(title, ["kept", "dropped", "dropped keys"], rows[:20]),
        output.Table(
            "Fingerprints",
            ["computed", "stored"],
            [[counts["computed"], counts["stored"]]],
        ),
    ]
