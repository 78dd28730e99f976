"""`mira merge`: several collections → one; categories unioned, keys kept unique."""

from enum import Enum
from typing import Annotated, Any

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
from mira_cli.spread import SpreadCommand


def _prefix_value(token: str, taken: list[str]) -> bool:
    """Values after the first are prefixes (never auto/none, never a file name with '.')."""
    from mira.errors import ValidationError
    from mira.ops.scene_keys import check_key_prefix

    if taken[:1] in (["auto"], ["none"]) or token in ("auto", "none"):
        return False
    try:
        return bool(check_key_prefix(token))
    except ValidationError:
        return False


class MergeCommand(SpreadCommand):
    """Lets `--prefix-keys` take one prefix per input after one flag."""

    accepts = {"--prefix-keys": _prefix_value}


COMMAND_CLASS = MergeCommand


class DuplicateImages(str, Enum):
    keep = "keep"
    drop = "drop"


PrefixKeysOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--prefix-keys",
        metavar="auto|none|P ...",
        help="Key prefixes: none (default), auto (each input's file stem and '-'), "
        "or one prefix per input.",
    ),
]
DuplicateImagesOpt = Annotated[
    DuplicateImages,
    typer.Option(
        "--duplicate-images",
        help="Exact duplicate images after the first: keep them (counted) or drop them.",
    ),
]


def run(
    inputs: InputArg,
    out: OutputOpt,
    prefix_keys: PrefixKeysOpt = None,
    duplicate_images: DuplicateImagesOpt = DuplicateImages.keep,
    force: ForceOpt = False,
    tar_format: TarFormatOpt = TarFormat.native,
    shard_size: ShardSizeOpt = None,
    json_mode: JsonOpt = False,
) -> None:
    """Concatenate collections: categories unioned by name, keys kept unique by prefixes.

    Inputs are taken in the order given, categories in order of first
    appearance. A key two inputs share is an error unless --prefix-keys keeps
    them apart; exact duplicate images are counted (or dropped). No image is
    decoded.

    Example: mira merge cam1.tar cam2.tar -o all.tar --prefix-keys auto

    Python: SceneCollection.merge(*others, prefix_keys), mira.pipeline.jobs.merge_files.
    """
    from mira.ops.merge import input_prefixes
    from mira.pipeline.jobs import merge_files
    from mira_cli.options import usage_check

    usage_check(lambda: input_prefixes(inputs, prefix_keys), "--prefix-keys")
    report = merge_files(
        inputs,
        out,
        prefix_keys,
        duplicate_images.value,
        force,
        output.progress,
        **writer_options(tar_format, shard_size),
    )
    output.emit(report, _tables(report), json_mode, output=out)


def _tables(report: dict[str, Any]) -> list[output.Table]:
    records, duplicates = report["records"], report["duplicate_images"]
    inputs = [[i["path"], i["prefix"] or "-", i["scenes"]] for i in report["inputs"]]
    categories = [
        [name, c["annotations"], ", ".join(c["inputs"])] for name, c in report["categories"].items()
    ]
    counts = [
        ["copied as stored", records["copied"]],
        ["with new records", records["rewritten"]],
        ["duplicate images", duplicates["count"]],
        ["duplicates dropped", duplicates["dropped"]],
    ]
    tables = [
        output.Table(
            f"Merged {len(inputs)} inputs into {report['scenes']} scenes",
            ["input", "key prefix", "scenes"],
            inputs,
        ),
        output.Table("Categories (union)", ["category", "annotations", "in inputs"], categories),
        output.Table("Scenes", ["what", "count"], counts),
    ]
    if duplicates["examples"]:
        examples = [
            [e["key"], e["input"], e["same_as"], e["same_as_input"]] for e in duplicates["examples"]
        ]
        tables.append(
            output.Table(
                "Duplicate images (first examples)",
                ["key", "input", "same image as", "in"],
                examples,
            )
        )
    return tables
