"""`mira import-qsl`: a QSL labelling project → a native tarball, image bytes untouched."""

from typing import Annotated

import typer

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
    writer_options,
)

ProjectArg = Annotated[
    str, typer.Argument(help="The QSL project file (JSON).", metavar="PROJECT.json")
]
LabelKeyOpt = Annotated[
    str | None,
    typer.Option(
        "--label-key",
        metavar="KEY",
        help="Region configuration whose options are the categories "
        "(default: the only one in the project).",
    ),
]
BaseDirOpt = Annotated[
    str | None,
    typer.Option(
        "--base-dir",
        metavar="DIR",
        help="Folder that relative image paths start from (default: the project file's folder).",
    ),
]
SkipMissingOpt = Annotated[
    bool,
    typer.Option("--skip-missing", help="Skip (and count) items whose image file is missing."),
]


def run(
    project: ProjectArg,
    out: OutputOpt,
    label_key: LabelKeyOpt = None,
    base_dir: BaseDirOpt = None,
    skip_missing: SkipMissingOpt = False,
    fingerprint: FingerprintOpt = False,
    jobs: JobsOpt = None,
    key_prefix: KeyPrefixOpt = None,
    force: ForceOpt = False,
    tar_format: TarFormatOpt = TarFormat.native,
    shard_size: ShardSizeOpt = None,
    json_mode: JsonOpt = False,
) -> None:
    """Build a collection from a QSL project: boxes, polygons and masks, image-level labels.

    Ignored, unlabelled and non-image items are skipped and counted. Images are not decoded.

    Example: mira import-qsl labels/project.json -o data.tar --label-key category

    Python: mira.pipeline.jobs.import_qsl(project, output, ...) and SceneCollection.from_qsl.
    """
    from mira.pipeline.jobs import import_qsl

    report = import_qsl(
        project,
        out,
        label_key,
        base_dir,
        skip_missing,
        force,
        output.progress,
        **writer_options(tar_format, shard_size),
        fingerprint=fingerprint,
        jobs=jobs,
        key_prefix=key_prefix,
    )
    rows = [[name, c["annotations"], c["labels"]] for name, c in report["categories"].items()]
    rows.append(["total", report["annotations"], report["labels"]])
    title = f"Imported {report['scenes']} of {report['items']} items"
    title += f" (label key {report['label_key']!r})"
    skipped = [[reason.replace("_", "-"), n] for reason, n in report["skipped"].items()]
    skipped += [
        ["regions without a label", report["regions_without_label"]],
        ["empty masks", report["empty_masks"]],
    ]
    if "fingerprints" in report:
        rows.append(["fingerprinted", report["fingerprints"]["computed"], "-"])
    tables = [
        output.Table(title, ["category", "annotations", "labels"], rows),
        output.Table("Skipped", ["what", "count"], skipped),
    ]
    output.emit(report, tables, json_mode, output=out)
