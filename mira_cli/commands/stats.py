"""`mira stats`: counts, sizes and problems of a collection, without decoding any image
(unless --verify); --fail-on makes it a CI gate."""

from typing import Annotated

import typer

from mira_cli import output
from mira_cli.options import (
    DEFAULT_DISTANCE,
    DistanceOpt,
    InputArg,
    JobsOpt,
    JsonOpt,
    key_option,
    usage_check,
)

ByOpt = Annotated[
    str | None,
    typer.Option(
        "--by",
        metavar="KEY",
        callback=key_option,
        help="Also give the statistics per group: metadata.PATH or categories.",
    ),
]
VerifyOpt = Annotated[
    bool,
    typer.Option(
        "--verify",
        help="Decode every image (on --jobs processes): report undecodable or truncated "
        "ones, and pixel sizes that differ from the record.",
    ),
]


def _fail_on(values: list[str] | None) -> list[str] | None:
    from mira.ops.stats_checks import check_fail_on

    return None if values is None else usage_check(lambda: check_fail_on(values))


FailOnOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--fail-on",
        metavar="PROBLEM,...",
        callback=_fail_on,
        help="Exit 1 when any of these problems is found (after printing the report): any, "
        "or zero_area, inverted, out_of_image, duplicate_images, near_duplicate_images, "
        "undecodable_images, scenes_without_annotations.",
    ),
]


def run(
    inputs: InputArg,
    json_mode: JsonOpt = False,
    by: ByOpt = None,
    verify: VerifyOpt = False,
    distance: DistanceOpt = DEFAULT_DISTANCE,
    jobs: JobsOpt = None,
    fail_on: FailOnOpt = None,
) -> None:
    """Scenes, annotations and labels per category, image and annotation sizes, problems.

    Near-duplicates are found from stored fingerprints (mira fingerprint).

    Example: mira stats data.tar --verify --fail-on duplicate_images,undecodable_images

    Python: mira.ops.stats.collect_stats(scenes, by=None) with mira.ops.stats_checks.
    """
    from mira.ops import stats_checks
    from mira.ops.stats import collect_stats, report_tables
    from mira.pipeline import TarSource, local_engine

    source = TarSource(inputs)
    checks = stats_checks.SceneChecks(verify, distance, local_engine(jobs))
    scenes = checks.watch(output.progress(source, "Reading scenes"))
    report = collect_stats(scenes, by=by, image_index=checks.index)
    checks.add_to(report)
    tables = [output.Table(t["title"], t["columns"], t["rows"]) for t in report_tables(report)]
    output.emit(report, tables, json_mode)
    if fail_on:
        stats_checks.fail_on(report, fail_on, ", ".join(source.inputs))
