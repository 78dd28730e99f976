"""Benchmark the COCO import against pycocotools, and the COCO / YOLO exports against `cp -r`.

    .venv/bin/python tests/benchmarks/interchange.py [--work DIR] [--repeat N] [--python PY]
        [--images N] [--annotations N]

1. A COCO file shaped like train2017 (`coco_data.py`; 118,287 images, 860,001 annotations,
   about 450 MB) is generated once into WORK/coco/. Measured: `pycocotools.coco.COCO(path)`
   in a fresh process, `tar cf` of its images, and `mira import coco` of it. Targets: our
   peak memory at most a quarter of pycocotools', our time at most pycocotools' plus
   `tar cf`'s.
2. 5000 scenes of the project's benchmark data (`tools/make_dataset.py`, 1024x768 JPEGs) as
   a tarball, exported with `mira export coco` and `mira export yolo`, against `cp -r` of
   the same images (target: at most 2x); and with `--images none` (the label files alone).

Each command runs `--repeat` times after an untimed warm-up run; the tables give the median
and the minimum CPU time, and the verdicts compare medians with medians (`cp -r` varies
several-fold between runs here, with the page cache). mira runs as the code of this
checkout (`PYTHONPATH`), with the interpreter `--python` (default: this checkout's .venv).

The results go to WORK/interchange.json and into docs/benchmarks.md between the
``interchange`` markers (`run.py` keeps that section when it rewrites the file).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import remover  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
#: `mira` as this checkout's code (`PYTHONPATH` is set to ROOT for every run).
MIRA_CODE = "import sys; from mira_cli.app import main; sys.argv[0] = 'mira'; sys.exit(main())"
DOCS = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- interchange:start -->", "<!-- interchange:end -->"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def prepare_coco(work: Path, images: int, annotations: int) -> Path:
    folder = work / "coco"
    path = folder / "annotations" / "instances_train.json"
    if not path.exists():
        log(f"generating {images} images, {annotations} annotations in {folder}")
        subprocess.run(
            [PYTHON, str(Path(__file__).with_name("coco_data.py")), str(folder),
             "--images", str(images), "--annotations", str(annotations)],
            check=True,
        )  # fmt: skip
    return path


def prepare_export_input(work: Path, scenes: int) -> tuple[Path, Path]:
    dataset = work / f"ds-{scenes}"
    if not (dataset / "project.json").exists():
        log(f"generating {scenes} scenes in {dataset}")
        subprocess.run(
            [PYTHON, str(ROOT / "tools" / "make_dataset.py"), "--n", str(scenes),
             "--out", str(dataset), "--seed", "0"],
            check=True,
        )  # fmt: skip
    tarball = work / f"ours-{scenes}.tar"
    if not tarball.exists():
        subprocess.run(
            [*mira(), "-q", "import-qsl", str(dataset / "project.json"), "-o", str(tarball)],
            check=True,
        )
    return dataset, tarball


def mira() -> list[str]:
    return [PYTHON, "-c", MIRA_CODE]


def _environment() -> dict[str, str]:
    paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def measure(argv: list[str], repeat: int, cleanup=None) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Wall and CPU seconds (user + system) of `repeat` runs after one untimed warm-up run
    (which fills the page cache): the median and the minimum of each, the user and system
    parts of the median run, the largest maximum RSS, and the highest load. CPU time is what
    the verdicts use: this machine is shared, and waiting for a core is not work."""
    runs = []
    for _ in range(repeat + 1):
        if cleanup:
            cleanup()
        load = os.getloadavg()[0]
        with tempfile.NamedTemporaryFile("r") as report:
            subprocess.run(
                ["/usr/bin/time", "-f", "%e %U %S %M", "-o", report.name, *argv],
                check=True, stdout=subprocess.DEVNULL, env=_environment(),
            )  # fmt: skip
            wall, user, system, rss = report.read().split()[-4:]
        runs.append({"seconds": float(wall), "cpu": float(user) + float(system),
                     "user": float(user), "system": float(system),
                     "peak_mb": int(rss) / 1024, "load": load})  # fmt: skip
    if cleanup:
        cleanup()
    timed = sorted(runs[1:], key=lambda r: r["cpu"])
    middle = timed[(len(timed) - 1) // 2]  # the lower median: a run that happened
    return {
        "seconds": statistics.median(r["seconds"] for r in timed),
        "seconds_min": min(r["seconds"] for r in timed),
        "cpu": statistics.median(r["cpu"] for r in timed),
        "cpu_min": timed[0]["cpu"],
        "user": middle["user"],
        "system": middle["system"],
        "peak_mb": max(r["peak_mb"] for r in runs),
        "load": max(r["load"] for r in timed),
        "runs": len(timed),
    }


def _row(name: str, m: dict[str, float]) -> dict[str, float]:
    log(f"  {name}: {m['seconds']:.2f} s wall, {m['cpu']:.2f} s CPU median "
        f"(min {m['cpu_min']:.2f}; user {m['user']:.2f}, system {m['system']:.2f}), "
        f"{m['peak_mb']:.0f} MB (load {m['load']:.1f})")  # fmt: skip
    return m


def run_import(work: Path, path: Path, repeat: int) -> dict[str, dict[str, float]]:
    out = work / "imported.tar"
    images = path.parent.parent / "images"
    code = "import sys; from pycocotools.coco import COCO; COCO(sys.argv[1])"
    return {
        "pycocotools": _row("pycocotools", measure([PYTHON, "-c", code, str(path)], repeat)),
        "tar": _row("tar cf", measure(
            ["tar", "cf", str(work / "images.tar"), "-C", str(images), "."], repeat,
            cleanup=remover(work / "images.tar"))),
        "mira": _row("mira import coco", measure(
            [*mira(), "-q", "import", "coco", str(path), "-o", str(out)], repeat,
            cleanup=remover(out))),
    }  # fmt: skip


def run_export(
    work: Path, dataset: Path, tarball: Path, repeat: int
) -> dict[str, dict[str, float]]:
    out = work / "exported"
    images = work / "images-copy"
    rows = {
        "cp": _row(
            "cp -r",
            measure(["cp", "-r", str(dataset), str(images)], repeat, cleanup=remover(images)),
        )
    }
    for fmt, extra in (("coco", []), ("yolo", ["--task", "segment"])):
        for mode in ("copy", "none"):
            argv = [
                *mira(),
                "-q",
                "export",
                fmt,
                str(tarball),
                "-o",
                str(out),
                "--images",
                mode,
                *extra,
            ]
            rows[f"{fmt}-{mode}"] = _row(
                f"export {fmt} --images {mode}", measure(argv, repeat, cleanup=remover(out))
            )
    # --link needs images that are files of their own: the collection of the QSL project
    # (its JPEGs on this file system), exported from Python, against no images at all.
    code = (
        "import sys; from mira.core import SceneCollection; "
        "SceneCollection.from_qsl(sys.argv[1]).to_coco(sys.argv[2], images=sys.argv[3])"
    )
    for mode in ("link", "none"):
        argv = [PYTHON, "-c", code, str(dataset / "project.json"), str(out), mode]
        rows[f"files-{mode}"] = _row(
            f"from_qsl().to_coco(images={mode!r})", measure(argv, repeat, cleanup=remover(out))
        )
    return rows  # fmt: skip


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×"


def markdown(results: dict) -> str:
    imp, exp = results["import"], results["export"]
    budget = {k: imp["pycocotools"][k] + imp["tar"][k] for k in ("seconds", "cpu")}
    memory = imp["mira"]["peak_mb"] / imp["pycocotools"]["peak_mb"]
    time = imp["mira"]["cpu"] / budget["cpu"]
    floor = max(exp["cp"]["cpu"], 0.01)  # /usr/bin/time counts in hundredths
    copy = {fmt: exp[f"{fmt}-copy"]["cpu"] / floor for fmt in ("coco", "yolo")}
    link = exp["files-link"]["cpu"] / max(exp["files-none"]["cpu"], 0.01)

    def verdict(ok: bool) -> str:
        return "**pass**" if ok else "**fail**"

    def rows(table: dict, labels: dict[str, str], against: dict | None = None) -> list[str]:
        out = []
        for key, label in labels.items():
            r = table[key]
            times = (f"{r['seconds']:.1f} | {r['cpu']:.2f} | {r['cpu_min']:.2f} | "
                     f"{r['user']:.2f} + {r['system']:.2f}")  # fmt: skip
            ratio = f" | {r['cpu'] / max(against['cpu'], 0.01):.2f}×" if against else ""
            out.append(f"| {label} | {times}{ratio} | {r['peak_mb']:.0f} | {r['load']:.1f} |")
        return out

    head = "| run | wall s | CPU s (median) | CPU s (min) | user + system |"
    rule = "| --- | ---: | ---: | ---: | ---: |"
    lines = [
        START,
        "## Interchange formats (COCO import, COCO and YOLO export)",
        "",
        f"Measured by `tests/benchmarks/interchange.py` on {results['date']}: "
        f"{results['repeat']} timed runs of each command after an untimed warm-up run (so "
        "every input is in the page cache). This 2-core machine was shared with other work "
        "(*load*: the highest 1-minute load average as a run started), so the verdicts compare "
        "CPU time (user + system), which waiting for a core does not inflate, and they compare "
        "medians with medians (minimums are shown too; wall time is the median).",
        "",
        f"**COCO import** of a generated file shaped like train2017 (`tests/benchmarks/coco_data.py`: "
        f"{results['images']:,} images, {results['annotations']:,} annotations, "
        f"{results['json_mb']:.0f} MB of JSON). Its images are {results['image_kb']:.1f} KB "
        "JPEGs (the JSON says 640×480, which the import takes as given: it reads no image "
        "header), so the annotations, not the bytes, are what is measured.",
        "",
        f"{head} peak MB | load |",
        f"{rule} ---: | ---: |",
        *rows(imp, {"pycocotools": "`pycocotools.coco.COCO(path)`", "tar": "`tar cf` of the images",
                    "mira": "`mira import coco` → tarball"}),
        "",
        f"- peak memory: {imp['mira']['peak_mb']:.0f} MB, {memory:.3f} of pycocotools' "
        f"(target ≤ 0.25): {verdict(memory <= 0.25)}",
        f"- time: {imp['mira']['cpu']:.1f} s CPU = {time:.2f}× pycocotools + `tar cf` "
        f"({budget['cpu']:.1f} s; target ≤ 1×): {verdict(time <= 1)}",
        "",
        f"**Export** of {results['export_scenes']} scenes (`tools/make_dataset.py`, 1024×768 "
        f"JPEGs, {results['export_mb']:.0f} MB) from a native tarball, against `cp -r` of the "
        "same images:",
        "",
        f"{head} × cp -r (CPU median) | peak MB | load |",
        f"{rule} ---: | ---: | ---: |",
        *rows(exp, {"cp": "`cp -r` of the images"}, exp["cp"]),
        *rows(exp, {f"{f}-{m}": f"`mira export {f} --images {m}`" for f in ("coco", "yolo")
                    for m in ("copy", "none")}, exp["cp"]),
        "",
        f"- COCO with the images copied: {copy['coco']:.2f}× `cp -r` (target ≤ 2×): "
        f"{verdict(copy['coco'] <= 2)}",
        f"- YOLO with the images copied: {copy['yolo']:.2f}× `cp -r` (target ≤ 2×): "
        f"{verdict(copy['yolo'] <= 2)}",
        "- `--images none` is the cost of writing the label files alone. `--link` links only "
        "images that are files of their own (from a tarball it copies them, as `copy` does), "
        "so it is measured on the QSL project's files from Python:",
        "",
        f"{head} × labels alone (CPU median) | peak MB | load |",
        f"{rule} ---: | ---: | ---: |",
        *rows(exp, {"files-none": "`from_qsl(...).to_coco(images=\"none\")`",
                    "files-link": "`from_qsl(...).to_coco(images=\"link\")`"}, exp["files-none"]),
        "",
        f"- COCO with the images linked: {link:.2f}× writing the labels alone (target ≤ 2×): "
        f"{verdict(link <= 2)}",
        END,
    ]  # fmt: skip
    return "\n".join(lines)


def write_docs(section: str) -> None:
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    text = (
        pattern.sub(lambda _: section, text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + section + "\n"
    )
    DOCS.write_text(text)


def main(argv: list[str]) -> None:
    global PYTHON
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=ROOT / "tests" / "benchmarks" / "work")
    parser.add_argument("--images", type=int, default=118287)
    parser.add_argument("--annotations", type=int, default=860001)
    parser.add_argument("--export-scenes", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--python", default=PYTHON, help="the interpreter (with mira's deps)")
    args = parser.parse_args(argv)
    PYTHON = args.python
    args.work.mkdir(parents=True, exist_ok=True)
    path = prepare_coco(args.work, args.images, args.annotations)
    dataset, tarball = prepare_export_input(args.work, args.export_scenes)
    image_dir = path.parent.parent / "images" / "train"
    sample = next(image_dir.iterdir())
    results = {
        "date": datetime.date.today().isoformat(),
        "repeat": args.repeat,
        "images": args.images,
        "annotations": args.annotations,
        "json_mb": path.stat().st_size / 1e6,
        "image_kb": sample.stat().st_size / 1e3,
        "export_scenes": args.export_scenes,
        "export_mb": sum(p.stat().st_size for p in dataset.glob("*.jpg")) / 1e6,
        "import": run_import(args.work, path, args.repeat),
        "export": run_export(args.work, dataset, tarball, args.repeat),
    }
    (args.work / "interchange.json").write_text(json.dumps(results, indent=2))
    write_docs(markdown(results))
    shutil.rmtree(args.work / "exported", ignore_errors=True)
    log(f"wrote {DOCS}")


if __name__ == "__main__":
    main(sys.argv[1:])
