"""`mira filter`: keep or drop annotations by category and area, scenes by metadata,
counts and labels, and exact reproducible samples; no image is decoded."""

from typing import Annotated, Any

import typer

from mira_cli import output
from mira_cli.options import (
    ForceOpt,
    InputArg,
    JsonOpt,
    OutputOpt,
    SeedOpt,
    ShardSizeOpt,
    TarFormat,
    TarFormatOpt,
    option_errors,
    usage_check,
    writer_options,
)


def _where(values: list[str] | None) -> list[str]:
    from mira.ops.filter import parse_where

    return [usage_check(lambda v=value: parse_where(v).text) for value in values or []]


CategoriesOpt = Annotated[
    str | None,
    typer.Option("--categories", metavar="A,B", help="Keep only annotations of these categories."),
]
DropCategoriesOpt = Annotated[
    str | None,
    typer.Option(
        "--drop-categories", metavar="A,B", help="Drop the annotations of these categories."
    ),
]
WhereOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--where",
        metavar="metadata.PATH=VALUE",
        callback=_where,
        help="Keep scenes whose metadata value equals (=) or differs from (!=) VALUE; "
        "repeat for several conditions, all of which must hold.",
    ),
]
MinAnnotationsOpt = Annotated[
    int | None,
    typer.Option(
        "--min-annotations", min=0, metavar="N", help="Keep scenes with at least N annotations."
    ),
]
MinAreaOpt = Annotated[
    float | None,
    typer.Option(
        "--min-area", min=0, metavar="PX", help="Drop annotations smaller than PX pixels²."
    ),
]
WithLabelsOpt = Annotated[
    str | None,
    typer.Option(
        "--with-labels", metavar="L", help="Keep scenes with an image-level label in L (A,B)."
    ),
]
SampleOpt = Annotated[
    int | None,
    typer.Option(
        "--sample", min=0, metavar="N", help="Keep exactly N of the scenes left, drawn by --seed."
    ),
]
FLAGS = {
    "categories": "--categories",
    "drop_categories": "--drop-categories",
    "with_labels": "--with-labels",
    "sample": "--sample",
}


def run(
    inputs: InputArg,
    out: OutputOpt,
    categories: CategoriesOpt = None,
    drop_categories: DropCategoriesOpt = None,
    where: WhereOpt = None,
    min_annotations: MinAnnotationsOpt = None,
    min_area: MinAreaOpt = None,
    with_labels: WithLabelsOpt = None,
    sample: SampleOpt = None,
    seed: SeedOpt = 42,
    force: ForceOpt = False,
    tar_format: TarFormatOpt = TarFormat.native,
    shard_size: ShardSizeOpt = None,
    json_mode: JsonOpt = False,
) -> None:
    """Keep or drop annotations by category and area, scenes by metadata, labels and counts.

    Annotations first (--categories or --drop-categories, --min-area), then
    scenes (--where, --with-labels, --min-annotations on what is left), then
    --sample: exactly N of those left. Unchanged scenes are copied as stored;
    no image is decoded.

    Example: mira filter data.tar -o cars.tar --categories car --sample 500

    Python: mira.ops.filter.filter_collection / mira.pipeline.jobs.filter_file.
    """
    from mira.ops.filter import SceneFilter
    from mira.pipeline.jobs import filter_file

    criteria = (categories, drop_categories, where or [], min_annotations, min_area, with_labels)
    usage_check(lambda: SceneFilter(*criteria))
    with option_errors(FLAGS):
        report = filter_file(
            inputs,
            out,
            *criteria,
            sample=sample,
            seed=seed,
            force=force,
            progress=output.progress,
            **writer_options(tar_format, shard_size),
        )
    output.emit(report, _tables(report), json_mode, output=out)


def _tables(report: dict[str, Any]) -> list[output.Table]:
    scenes = report["scenes"]
    dropped = ", ".join(
        f"{n} by {why.replace('_', '-')}" for why, n in report["dropped_scenes"].items() if n
    )
    title = f"Kept {scenes['kept']} of {scenes['before']} scenes" + (
        f" (dropped {dropped})" if dropped else ""
    )
    columns = ["category", "scenes", "kept", "annotations", "kept", "dropped", "labels", "kept"]
    rows = [
        [
            name,
            c["scenes"]["before"],
            c["scenes"]["kept"],
            c["annotations"]["before"],
            c["annotations"]["kept"],
            c["annotations"]["dropped"],
            c["labels"]["before"],
            c["labels"]["kept"],
        ]
        for name, c in report["categories"].items()
    ]
    a, lb = report["annotations"], report["labels"]
    rows.append(
        [
            "total",
            scenes["before"],
            scenes["kept"],
            a["before"],
            a["kept"],
            a["dropped"],
            lb["before"],
            lb["kept"],
        ]
    )
    return [output.Table(title, columns, rows)]
