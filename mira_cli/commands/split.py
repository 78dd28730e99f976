"""`mira split`: one tarball per part; exact, stratified, group-safe and reproducible."""

from typing import Annotated, Any

import typer

from mira_cli import output
from mira_cli.options import (
    DEFAULT_DISTANCE,
    DistanceOpt,
    ForceOpt,
    InputArg,
    JsonOpt,
    SeedOpt,
    ShardSizeOpt,
    TarFormat,
    TarFormatOpt,
    key_option,
    usage_check,
    writer_options,
)
from mira_cli.spread import SpreadCommand


def _sizes(values: list[float]) -> list[float]:
    from mira.ops.split import check_sizes

    return usage_check(lambda: check_sizes(values))


KeyHelp = "metadata.PATH (a dotted path into scene metadata) or categories"
SizesOpt = Annotated[
    list[float],
    typer.Option(
        "--sizes", metavar="F F ...", callback=_sizes, help="Part fractions, summing to 1."
    ),
]
NamesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--names",
        metavar="NAME ...",
        help="Part names (default: train test; train val test; else part0 ...).",
    ),
]
OutDirOpt = Annotated[
    str | None,
    typer.Option(
        "--out-dir", metavar="DIR", help="Folder for the parts (default: the input's folder)."
    ),
]
StratifyOpt = Annotated[
    str | None,
    typer.Option(
        "--stratify", metavar="KEY", callback=key_option, help=f"Balance parts by {KeyHelp}."
    ),
]
GroupOpt = Annotated[
    str | None,
    typer.Option(
        "--group",
        metavar="KEY",
        callback=key_option,
        help=f"Keep scenes sharing {KeyHelp} together.",
    ),
]
PreserveOpt = Annotated[
    str | None,
    typer.Option(
        "--preserve",
        metavar="KEY",
        help="metadata.PATH holding a part name: such scenes go to that part first.",
    ),
]
MissingOpt = Annotated[
    str | None,
    typer.Option(
        "--missing",
        metavar="VALUE",
        help="Value for scenes without the --stratify/--group metadata (default: an error).",
    ),
]


GroupSimilarOpt = Annotated[
    bool,
    typer.Option(
        "--group-similar",
        help="Also keep near-duplicate images (within --distance) in one part; needs "
        "fingerprints (mira fingerprint). Exact duplicates always stay together.",
    ),
]
AllowEmptyOpt = Annotated[
    bool,
    typer.Option("--allow-empty", help="Write the parts even when one of them is empty."),
]


def _is_number(token: str, _taken: list[str]) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


class SplitCommand(SpreadCommand):
    """Lets `--sizes` and `--names` take several values after one flag (`--sizes 0.7 0.3`):
    values are taken while they look like numbers (sizes) or do not start with "-" (names)."""

    accepts = {"--sizes": _is_number, "--names": lambda token, _taken: not token.startswith("-")}


COMMAND_CLASS = SplitCommand


def run(
    inputs: InputArg,
    sizes: SizesOpt,
    names: NamesOpt = None,
    out_dir: OutDirOpt = None,
    seed: SeedOpt = 42,
    stratify: StratifyOpt = None,
    group: GroupOpt = None,
    preserve: PreserveOpt = None,
    missing: MissingOpt = None,
    group_similar: GroupSimilarOpt = False,
    distance: DistanceOpt = DEFAULT_DISTANCE,
    allow_empty: AllowEmptyOpt = False,
    force: ForceOpt = False,
    tar_format: TarFormatOpt = TarFormat.native,
    shard_size: ShardSizeOpt = None,
    json_mode: JsonOpt = False,
) -> None:
    """Split IN.tar into IN-train.tar, IN-val.tar, ...: exact sizes, whole groups, no decoding.

    Duplicate images never straddle parts. An empty part is an error (exit 1, nothing
    written) unless --allow-empty; parts off their target are reported.

    Example: mira split data.tar --sizes 0.7 0.15 0.15 --group metadata.video --group-similar

    Python: SceneCollection.split(sizes, random_state, stratify, group, preserve).
    """
    from mira.ops.keys import REQUIRED
    from mira.ops.split import check_preserve_key, part_names
    from mira.pipeline.jobs import split_file

    usage_check(lambda: part_names(names, len(sizes)), "--names")
    usage_check(lambda: check_preserve_key(preserve), "--preserve")

    report = split_file(
        inputs,
        sizes,
        names,
        out_dir,
        seed,
        stratify,
        group,
        preserve,
        missing=REQUIRED if missing is None else missing,
        force=force,
        progress=output.progress,
        **writer_options(tar_format, shard_size),
        similar=distance if group_similar else None,
        allow_empty=allow_empty,
    )
    output.emit(report, _tables(report), json_mode)


def _tables(report: dict[str, Any]) -> list[output.Table]:
    parts = report["parts"]
    tables = [
        output.Table(
            f"Split {report['scenes']} scenes (seed {report['seed']})",
            ["part", "file", "size", "target", "scenes", "annotations", "sanity"],
            [[p["name"], p["path"], p["size"], p["target"], p["scenes"], p["annotations"],
              _sanity(p, report["sanity"])] for p in parts],
        ),
        output.Table(
            "Annotations per category (share of the category's total)",
            ["category", *(p["name"] for p in parts)],
            [[c, *(_share(p["categories"][c]) for p in parts)] for c in report["categories"]],
        ),
    ]  # fmt: skip
    images = report["images"]
    rows = [
        [
            "exact",
            images["exact"]["groups"],
            images["exact"]["scenes"],
            images["exact"]["pairs_kept_together"],
        ]
    ]
    if images["similar"] is not None:
        similar = images["similar"]
        rows.append(
            [
                f"similar (distance {similar['distance']})",
                similar["groups"],
                similar["scenes"],
                similar["pairs_kept_together"],
            ]
        )
    tables.append(output.Table(
        "Duplicate images, each group in one part (pairs the split would otherwise have cut)",
        ["duplicates", "groups", "scenes", "pairs kept together"], rows,
    ))  # fmt: skip
    check = report["groups"]
    if check is not None:
        row = [check["key"], check["count"], check["crossing"], _verdict(check, report["sanity"])]
        tables.append(output.Table("Group check", ["key", "groups", "crossing", "result"], [row]))
    return tables


def _sanity(part: dict[str, Any], sanity: dict[str, Any]) -> str:
    if part["name"] in sanity["empty"]:
        return "EMPTY"
    if part["name"] in sanity["off_target"]:
        return f"OFF TARGET by {part['deviation']:+d} (groups force at most {sanity['tolerance']})"
    return "ok"


def _verdict(check: dict[str, Any], sanity: dict[str, Any]) -> str:
    if check["crossing"]:
        return "FAILED: groups cross parts"
    if not check["ok"]:
        problems = [f"{name} empty" for name in sanity["empty"]]
        problems += [f"{name} off target" for name in sanity["off_target"]]
        return f"FAILED: {', '.join(problems)}"
    return "ok: no group crosses parts"


def _share(entry: dict[str, Any]) -> str:
    return f"{entry['annotations']} ({entry['percent']:.1f}%)"
