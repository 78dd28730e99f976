"""`mira stats`: counts, sizes and problems of a collection, without decoding any image."""

from typing import Annotated

import typer

from mira_cli import output
from mira_cli.options import InputArg, JsonOpt, key_option

ByOpt = Annotated[
    str | None,
    typer.Option(
        "--by",
        metavar="KEY",
        callback=key_option,
        help="Also give the statistics per group: metadata.PATH or categories.",
    ),
]


def run(inputs: InputArg, json_mode: JsonOpt = False, by: ByOpt = None) -> None:
    """Scenes, annotations and labels per category, image and annotation sizes, problems.

    Python: mira.ops.stats.collect_stats(scenes, by=None).
    """
    from mira.ops.stats import collect_stats, report_tables
    from mira.pipeline import TarSource

    scenes = output.progress(TarSource(inputs), "Reading scenes")
    report = collect_stats(scenes, by=by)
    tables = [output.Table(t["title"], t["columns"], t["rows"]) for t in report_tables(report)]
    output.emit(report, tables, json_mode)
