"""Cost as work grows: the pixel-free commands (stats, split, dedupe, merge of the two halves,
filter, remap) and import-qsl on 1k, 10k and 100k small scenes
(and 1M with --million), whole-process wall time and peak memory beside `tar cf` of the
same images, written into the "Growth" section of docs/benchmarks.md.

    .venv/bin/python tests/benchmarks/growth.py                   # 1k, 10k, 100k scenes
    .venv/bin/python tests/benchmarks/growth.py --million         # and 1M (~11 GB of JPEG)
    .venv/bin/python tests/benchmarks/growth.py --scenes 10000 --compare before=/path/to/checkout

Small scenes are 320x240 JPEGs (quality 70, up to 6 objects) from tools/make_dataset.py,
generated once into --work (as `small-N/`, with our tarball `small-N.tar`) and reused. Sets
larger than --base (10k) are the base set repeated under new names, every copy's JPEG given
a comment segment so that no two images have the same bytes: generating 10k scenes took 8
minutes on the shared machine, so 100k would take over an hour and 1M half a day. `--compare NAME=CHECKOUT`
also runs each command with another checkout's `mira` (on PYTHONPATH, with this venv), so
that before and after a change are measured in one run; the comparison is printed, and
the docs get this checkout's figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import CASES, MIRA, PYTHON, ROOT, Case, Paths, case_key, halves  # noqa: E402
from measure import Measurement, measure, measure_alike, remover  # noqa: E402
from report import write_growth  # noqa: E402

SIZES = [1_000, 10_000, 100_000]
MILLION = 1_000_000
COMMANDS = ("import-qsl", "stats", "split", "dedupe", "merge", "filter", "remap")
DATASET = ["--size", "320x240", "--quality", "70", "--max-objects", "6", "--seed", "0"]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def generate(n: int, dataset: Path) -> None:
    log(f"generating {n} small scenes in {dataset}")
    command = [PYTHON, str(ROOT / "tools" / "make_dataset.py"), "--n", str(n)]
    subprocess.run([*command, "--out", str(dataset), *DATASET], check=True)


def _with_comment(jpeg: bytes, text: bytes) -> bytes:
    """The JPEG with a comment segment after its start marker: other bytes, same pixels."""
    return jpeg[:2] + b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text + jpeg[2:]


def replicate(base: Path, dataset: Path, copies: int) -> None:
    """`copies` times the base set's scenes, copy j's images named rJJJ_NAME with the
    comment "mira copy j" and its groups renamed alike (groups keep their sizes)."""
    log(f"making {dataset} from {copies} copies of {base}")
    project = json.loads((base / "project.json").read_text())
    dataset.mkdir(parents=True, exist_ok=True)
    part = dataset / "project.json.part"
    with part.open("w") as f:
        f.write('{"config": ' + json.dumps(project["config"]) + ', "items": [')
        for j in range(copies):
            for i, item in enumerate(project["items"]):
                name = f"r{j:03d}_{item['target']}"
                data = (base / item["target"]).read_bytes()
                (dataset / name).write_bytes(_with_comment(data, b"mira copy %d" % j))
                metadata = {**item["metadata"], "origin": f"{item['metadata']['origin']}-r{j}"}
                copy = {**item, "target": name, "metadata": metadata}
                f.write(("," if i or j else "") + json.dumps(copy))
        f.write("]}")
    part.rename(dataset / "project.json")


def prepare(n: int, work: Path, base: int) -> Paths:
    """The n-scene small dataset and our tarball of it, made once and reused."""
    dataset = work / f"small-{n}"
    project = dataset / "project.json"
    if not project.exists() and n <= base:
        generate(n, dataset)
    elif not project.exists():
        if n % base:
            raise SystemExit(f"{n} scenes: not a multiple of --base {base}")
        source = prepare(base, work, base).dataset
        replicate(source, dataset, n // base)
    tarball = work / f"small-{n}.tar"
    if not tarball.exists() or tarball.stat().st_mtime < project.stat().st_mtime:
        log(f"importing {project}")
        argv = [MIRA, "--quiet", "import-qsl", str(project), "-o", str(tarball), "--force"]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    paths = Paths(dataset, tarball, work / f"growth-out-{os.getpid()}")
    parts = [Path(half) for half in halves(paths)]
    if any(not h.exists() or h.stat().st_mtime < tarball.stat().st_mtime for h in parts):
        log(f"splitting {tarball} in halves (merge's inputs)")
        argv = [MIRA, "--quiet", "split", str(tarball), "--sizes", "0.5", "0.5",
                "--names", "a", "b", "--out-dir", str(work), "--force"]  # fmt: skip
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return paths


def tar_floor(paths: Paths, repeat: int) -> Measurement:
    """`tar cf` of the dataset's JPEGs (names from a list, so no shell globbing)."""
    listing = paths.out.with_name(paths.out.name + "-images.txt")
    listing.write_text("\n".join(sorted(p.name for p in paths.dataset.glob("*.jpg"))) + "\n")
    argv = ["tar", "cf", str(paths.out), "-C", str(paths.dataset), "-T", str(listing)]
    try:
        return measure(argv, repeat, remover(paths.out))
    finally:
        listing.unlink()


def variant_env(checkout: Path | None) -> dict[str, str] | None:
    """The environment that runs `checkout`'s mira with this venv (None: this checkout)."""
    if checkout is None:
        return None
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(checkout / "mira"),
                    str(checkout / "mira_cli")], check=True)  # fmt: skip
    return {**os.environ, "PYTHONPATH": str(checkout)}


def run_case(
    case: Case, paths: Paths, repeat: int, variants: dict[str, dict[str, str] | None]
) -> dict[str, Measurement]:
    stdout = str(paths.out) if case.stdout else None
    runs = {name: (case.ours(paths), env) for name, env in variants.items()}
    return measure_alike(runs, repeat, remover(paths.out, case.out_dir), stdout)


def comparison(results: dict[str, Any], names: list[str]) -> str:
    """A markdown table of every variant's figures, for commit messages."""
    lines = ["| scenes | command | " + " | ".join(names) + " |",
             "| --- | --- |" + " ---: |" * len(names)]  # fmt: skip
    for n, entry in results["scenes"].items():
        tar = entry["tar"]
        lines.append(
            f"| {n} | tar cf | {tar.median:.2f} s, {tar.cpu_median:.2f} s CPU |"
            + " |" * (len(names) - 1)
        )
        for command, row in entry["cases"].items():
            cells = [
                f"{row[name].median:.2f} s ({row[name].median / tar.median:.2f}×), "
                f"CPU {row[name].cpu_median:.2f} s (least {min(row[name].cpu):.2f} s), "
                f"{row[name].peak_mb:.0f} MB"
                for name in names
            ]
            lines.append(f"| {n} | {command} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def rewrite_docs(raw: Path, output: Path) -> None:
    """The growth section from figures saved by an earlier run."""
    results = json.loads(raw.read_text())
    for entry in results["scenes"].values():
        entry["tar"] = Measurement(**entry["tar"])
        for row in entry["cases"].values():
            row.update({name: Measurement(**m) for name, m in row.items()})
    names = {name for e in results["scenes"].values() for name in e["cases"]}
    write_growth(results, [c for c in CASES if c.name in names], output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenes", type=int, nargs="+", default=SIZES)
    parser.add_argument("--million", action="store_true", help="also 1,000,000 scenes")
    parser.add_argument("--cases", nargs="+", choices=COMMANDS, default=list(COMMANDS))
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per command")
    parser.add_argument("--compare", action="append", default=[], metavar="NAME=CHECKOUT",
                        help="also run another checkout's mira, e.g. before=/tmp/main")  # fmt: skip
    parser.add_argument("--base", type=int, default=10_000, help="larger sets repeat this one")
    parser.add_argument("--work", type=Path, default=ROOT / "tests" / "benchmarks" / "work")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite the docs from the last run's WORK/growth.json")  # fmt: skip
    args = parser.parse_args()
    if args.report_only:
        rewrite_docs(args.work / "growth.json", args.output)
        return

    args.work.mkdir(parents=True, exist_ok=True)
    variants: dict[str, dict[str, str] | None] = {"ours": variant_env(None)}
    for item in args.compare:
        name, _, checkout = item.partition("=")
        variants[name] = variant_env(Path(checkout).resolve())
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(ROOT / "mira"),
                    str(ROOT / "mira_cli")], check=True)  # fmt: skip
    cases = [c for c in CASES if case_key(c) in args.cases]
    sizes = sorted(set(args.scenes) | ({MILLION} if args.million else set()))
    results: dict[str, Any] = {"scenes": {}, "repeat": args.repeat}
    for n in sizes:
        paths = prepare(n, args.work, args.base)
        remover(paths.out)()
        images = sum(p.stat().st_size for p in paths.dataset.glob("*.jpg"))
        log(f"== {n} scenes: tar cf")
        entry: dict[str, Any] = {"images": images, "tar": tar_floor(paths, args.repeat)}
        entry["cases"] = {}
        for case in cases:
            log(f"== {n} scenes: {case.name}")
            row = entry["cases"][case.name] = run_case(case, paths, args.repeat, variants)
            for name, m in row.items():
                log(f"   {name}: {m.median:.2f}s ({m.cpu_median:.2f}s CPU) {m.peak_mb:.0f}MB")
        results["scenes"][n] = entry
    raw = args.work / "growth.json"
    raw.write_text(json.dumps(results, default=lambda m: vars(m), indent=1))
    if len(variants) > 1:
        print(comparison(results, list(variants)))
    if set(sizes) >= set(SIZES):  # the docs show the whole table only
        write_growth(results, cases, args.output)
        log(f"wrote the growth section of {args.output} (raw figures in {raw})")


if __name__ == "__main__":
    main()
