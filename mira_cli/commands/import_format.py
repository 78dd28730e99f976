"""`mira import FORMAT`: another tool's dataset files → a tarball, image bytes untouched."""

from enum import Enum
from typing import Annotated, Any

import typer

from mira.formats.interchange import IMPORTS
from mira_cli import output
from mira_cli.options import (
    FingerprintOpt,
    ForceOpt,
    JobsOpt,
    JsonOpt,
    KeyPrefixOpt,
    OutputOpt,
    ShardSizeOpt,
    TarFormat,
    TarFormatOpt,
    usage_check,
    writer_options,
)

ImportFormat = Enum("ImportFormat", {name: name for name in IMPORTS}, type=str)  # type: ignore[misc]

FormatArg = Annotated[
    ImportFormat, typer.Argument(help="The format SOURCE is in.", metavar="FORMAT")
]
SourceArg = Annotated[
    str,
    typer.Argument(
        help="The dataset: its annotation file, or its folder where the format has one.",
        metavar="SOURCE",
    ),
]
ImagesDirOpt = Annotated[
    str | None,
    typer.Option(
        "--images-dir",
        metavar="DIR",
        help="Folder that image paths start from (default: where the format puts them).",
    ),
]
SkipMissingOpt = Annotated[
    bool, typer.Option("--skip-missing", help="Skip (and count) scenes whose image is missing.")
]
LabelKeyOpt = Annotated[
    str | None,
    typer.Option(
        "--label-key", metavar="KEY", help="qsl: the region configuration holding the categories."
    ),
]
ImageSetOpt = Annotated[
    str | None,
    typer.Option(
        "--image-set",
        metavar="NAME",
        help="voc: import the ids of ImageSets/Main/NAME.txt (default: every XML file).",
    ),
]


class PreAnnotations(str, Enum):
    annotations = "annotations"
    predictions = "predictions"


PreAnnotationsOpt = Annotated[
    PreAnnotations | None,
    typer.Option(
        "--pre-annotations",
        help="labelstudio: read each task's annotations (default) or its predictions.",
    ),
]
ImageKeyOpt = Annotated[
    str | None,
    typer.Option(
        "--image-key",
        metavar="KEY",
        help="labelstudio: the task data field naming the image (default: image).",
    ),
]

ResultsOpt = Annotated[
    str | None,
    typer.Option(
        "--results",
        metavar="FILE.json",
        help="coco: take the annotations (scored) from this results file; images and "
        "categories stay those of SOURCE.",
    ),
]
PartOpt = Annotated[
    str | None,
    typer.Option(
        "--part", metavar="NAME", help="yolo: import only this part of data.yaml (e.g. val)."
    ),
]


def run(
    source_format: FormatArg,
    source: SourceArg,
    out: OutputOpt,
    images_dir: ImagesDirOpt = None,
    skip_missing: SkipMissingOpt = False,
    key_prefix: KeyPrefixOpt = None,
    label_key: LabelKeyOpt = None,
    results: ResultsOpt = None,
    part: PartOpt = None,
    image_set: ImageSetOpt = None,
    pre_annotations: PreAnnotationsOpt = None,
    image_key: ImageKeyOpt = None,
    fingerprint: FingerprintOpt = False,
    jobs: JobsOpt = None,
    force: ForceOpt = False,
    tar_format: TarFormatOpt = TarFormat.native,
    shard_size: ShardSizeOpt = None,
    json_mode: JsonOpt = False,
) -> None:
    """Import a dataset written by a labelling tool or for a trainer; scenes are keyed
    000000, 000001, ... in the format's order, and whatever cannot be represented is
    counted in the report. `mira import qsl` is `mira import-qsl`.

    Example: mira import coco annotations/instances_val2017.json -o val.tar

    Example: mira import yolo dataset/data.yaml -o data.tar

    More: mira import voc VOCdevkit/VOC2012 -o voc.tar --image-set train;
    mira import cvat task/annotations.xml -o cvat.tar;
    mira import labelstudio export.json -o ls.tar --images-dir media

    Python: mira.pipeline.jobs.import_file(format, source, output, ...).
    """
    from mira.formats.interchange import check_options
    from mira.pipeline.jobs import import_file

    fmt = source_format.value
    given = {
        "label_key": label_key,
        "results": results,
        "part": part,
        "image_set": image_set,
        "pre_annotations": pre_annotations and pre_annotations.value,
        "image_key": image_key,
    }
    options = usage_check(lambda: check_options("import", fmt, given))
    report = import_file(
        fmt,
        source,
        out,
        images_dir=images_dir,
        skip_missing=skip_missing,
        key_prefix=key_prefix,
        fingerprint=fingerprint,
        jobs=jobs,
        force=force,
        progress=output.progress,
        **writer_options(tar_format, shard_size),
        **options,
    )
    output.emit(report, report_tables(report), json_mode, output=out)


def report_tables(report: dict[str, Any]) -> list[output.Table]:
    """Categories, then one table per group of counts (skipped, unsupported, ...)."""
    title = f"Imported {report.get('scenes', 0)} scenes ({report['format']}) to {report['output']}"
    categories = report.get("categories") or {}
    rows = [[name, c.get("annotations", 0), c.get("labels", 0)] for name, c in categories.items()]
    rows.append(["total", report.get("annotations", 0), report.get("labels", 0)])
    tables = [output.Table(title, ["category", "annotations", "labels"], rows)]
    for name, value in report.items():
        if isinstance(value, dict) and value and all(isinstance(v, int) for v in value.values()):
            counts = [[what.replace("_", " "), n] for what, n in value.items()]
            tables.append(
                output.Table(name.replace("_", " ").capitalize(), ["what", "count"], counts)
            )
    return tables
