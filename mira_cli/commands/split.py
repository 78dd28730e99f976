"""`mira split`: one tarball per part; exact, stratified, group-safe and reproducible."""

from typing import Annotated, Any

import typer
from typer.core import TyperCommand

from mira_cli import output
from mira_cli.options import (
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


class SplitCommand(TyperCommand):
    """Lets `--sizes` and `--names` take several values after one flag (`--sizes 0.7 0.3`)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, spread_values(args))


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def spread_values(args: list[str]) -> list[str]:
    """Rewrite `--sizes A B C` as `--sizes A --sizes=B --sizes=C` (the same for --names).

    Following values are taken while they look like numbers (sizes) or do not start with
    "-" (names); "--" ends option parsing as usual.
    """
    accepts = {"--sizes": _is_number, "--names": lambda t: not t.startswith("-")}
    result: list[str] = []
    flag: str | None = None
    index = 0
    while index < len(args):
        token = args[index]
        index += 1
        if token == "--":
            return result + args[index - 1 :]
        if flag is not None and accepts[flag](token):
            result.append(f"{flag}={token}")
            continue
        result.append(token)
        flag = token.split("=", 1)[0] if token.split("=", 1)[0] in accepts else None
        if flag is not None and "=" not in token and index < len(args):
            if not args[index].startswith("--"):  # the first value, whatever it looks like
                result.append(args[index])
                index += 1
    return result


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
    force: ForceOpt = False,
    tar_format: TarFormatOpt = TarFormat.native,
    shard_size: ShardSizeOpt = None,
    json_mode: JsonOpt = False,
) -> None:
    """Split IN.tar into IN-train.tar, IN-val.tar, ...: exact sizes, whole groups, no decoding.

    Example: mira split data.tar --sizes 0.7 0.15 0.15 --group metadata.video

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
    )
    output.emit(report, _tables(report), json_mode)


def _tables(report: dict[str, Any]) -> list[output.Table]:
    parts = report["parts"]
    tables = [
        output.Table(
            f"Split {report['scenes']} scenes (seed {report['seed']})",
            ["part", "file", "size", "target", "scenes", "annotations"],
            [[p["name"], p["path"], p["size"], p["target"], p["scenes"], p["annotations"]]
             for p in parts],
        ),
        output.Table(
            "Annotations per category (share of the category's total)",
            ["category", *(p["name"] for p in parts)],
            [[c, *(_share(p["categories"][c]) for p in parts)] for c in report["categories"]],
        ),
    ]  # fmt: skip
    check = report["groups"]
    if check is not None:
        verdict = "ok: no group crosses parts" if not check["crossing"] else "FAILED"
        row = [check["key"], check["count"], check["crossing"], verdict]
        tables.append(output.Table("Group check", ["key", "groups", "crossing", "result"], [row]))
    return tables


def _share(entry: dict[str, Any]) -> str:
    return f"{entry['annotations']} ({entry['percent']:.1f}%)"
