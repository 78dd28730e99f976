"""`mira remap`: rename, merge and drop categories by a map file; no image is decoded."""

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
    option_errors,
    usage_check,
    writer_options,
)


class Unmapped(str, Enum):
    keep = "keep"
    drop = "drop"
    error = "error"


MapOpt = Annotated[
    str,
    typer.Option(
        "--map",
        metavar="MAP.yaml",
        help="YAML mapping of category → new name (rename or merge) or null (drop).",
    ),
]
UnmappedOpt = Annotated[
    Unmapped,
    typer.Option(
        "--unmapped",
        help="Categories the map does not name: keep them (after the map's), drop them, or fail.",
    ),
]


def run(
    inputs: InputArg,
    out: OutputOpt,
    map_file: MapOpt,
    unmapped: UnmappedOpt = Unmapped.keep,
    force: ForceOpt = False,
    tar_format: TarFormatOpt = TarFormat.native,
    shard_size: ShardSizeOpt = None,
    json_mode: JsonOpt = False,
) -> None:
    """Rename, merge and drop categories by a map file, in annotations and labels.

    The output's categories are the map's names, in its order. Scenes the map
    leaves as they are are copied as stored; no image is decoded.

    Example: mira remap data.tar -o vehicles.tar --map map.yaml --unmapped drop

    Python: mira.ops.remap.remap_collection / mira.pipeline.jobs.remap_file.
    """
    from mira.ops.remap import load_map
    from mira.pipeline.jobs import remap_file

    mapping = usage_check(lambda: load_map(map_file), "--map")
    with option_errors({"map": "--map"}):
        report = remap_file(
            inputs,
            out,
            mapping,
            unmapped.value,
            force,
            output.progress,
            **writer_options(tar_format, shard_size),
        )
    output.emit(report, _tables(report), json_mode, output=out)


def _tables(report: dict[str, Any]) -> list[output.Table]:
    scenes, a, lb = report["scenes"], report["annotations"], report["labels"]
    title = f"Remapped {scenes['in']} scenes ({scenes['rewritten']} with new records)"
    mapped = [
        [name, c["to"] or "(dropped)", c["annotations"], c["labels"]]
        for name, c in report["from"].items()
    ]
    result = [[name, c["annotations"], c["labels"]] for name, c in report["categories"].items()]
    result.append(["total", a["out"], lb["out"]])
    return [
        output.Table(title, ["category", "becomes", "annotations", "labels"], mapped),
        output.Table("Output categories", ["category", "annotations", "labels"], result),
    ]
