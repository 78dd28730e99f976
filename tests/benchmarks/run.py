"""Benchmark mira against the original library (mira==0.9.36) on generated datasets.

    make bench                                   # everything; writes docs/benchmarks.md
    .venv/bin/python tests/benchmarks/run.py --scenes 200 --cases stats split --repeat 1

Datasets (1024x768 JPEG scenes from tools/make_dataset.py), our native tarballs
(`mira import-qsl`) and the original's tarballs (its from_qsl + save) are cached in
tests/benchmarks/work/ (gitignored). Each command runs as a whole process, `--repeat`
times; the table shows the median wall time and the peak memory (see measure.py). The
original loads whole collections decoded into memory, so it runs only up to
`--original-scenes` scenes. Floors are measured in the same run: `tar cf` of the images
(for commands that need no pixels) and decoding every JPEG with OpenCV (for the others).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import CASES, HELPERS, MIRA, PYTHON, ROOT, Case, Paths, case_key  # noqa: E402
from measure import Measurement, measure, remover  # noqa: E402
from report import write_report  # noqa: E402

ORIGINAL_VENV = ROOT / ".venv-mira-0.9.36"
ORIGINAL_PYTHON = ORIGINAL_VENV / "bin" / "python"
ORIGINAL_SCRIPT = str(Path(__file__).resolve().parent / "original.py")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(argv: list[str], **kwargs: object) -> None:
    log("  $ " + " ".join(argv))
    subprocess.run(argv, check=True, **kwargs)  # type: ignore[call-overload]


def original_env() -> dict[str, str]:
    """The original must import its own `mira`, never ours: no PYTHONPATH, no user site."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, "PYTHONNOUSERSITE": "1", "TQDM_DISABLE": "1"}


def ensure_original() -> bool:
    """Create the original's venv if absent; add what its augmentations module imports."""
    if not ORIGINAL_PYTHON.exists():
        log("creating the original library's venv (tools/make_original_venv.sh)")
        try:
            run(["bash", str(ROOT / "tools" / "make_original_venv.sh")])
        except (subprocess.CalledProcessError, OSError) as exc:
            log(f"cannot create the original's venv ({exc}); benchmarking ours only")
            return False
    probe = [str(ORIGINAL_PYTHON), "-c", "import mira.core.augmentations"]
    if subprocess.run(probe, cwd="/", env=original_env(), capture_output=True).returncode:
        # The wheel vendors an old albumentations that needs scikit-image, undeclared.
        run([str(ORIGINAL_PYTHON), "-m", "pip", "install", "--quiet", "scikit-image"])
    return True


def fresh(target: Path, *sources: Path) -> bool:
    return target.exists() and all(target.stat().st_mtime >= s.stat().st_mtime for s in sources)


def prepare(n: int, work: Path, with_original: bool) -> tuple[Paths, Path | None]:
    """Generate (or reuse) the n-scene dataset, our tarball and the original's tarball."""
    dataset = work / f"ds-{n}"
    project = dataset / "project.json"
    if not project.exists():
        log(f"generating {n} scenes in {dataset}")
        run([PYTHON, str(ROOT / "tools" / "make_dataset.py"), "--n", str(n),
             "--out", str(dataset), "--seed", "0"])  # fmt: skip
    tarball = work / f"ours-{n}.tar"
    if not fresh(tarball, project):
        run([MIRA, "--quiet", "import-qsl", str(project), "-o", str(tarball), "--force"],
            stdout=subprocess.DEVNULL)  # fmt: skip
    halves = [tarball.with_name(f"{tarball.stem}-{half}.tar") for half in "ab"]
    if not all(fresh(half, tarball) for half in halves):  # merge's inputs
        run([MIRA, "--quiet", "split", str(tarball), "--sizes", "0.5", "0.5", "--names", "a",
             "b", "--out-dir", str(work), "--force"], stdout=subprocess.DEVNULL)  # fmt: skip
    legacy = work / f"original-{n}.tar" if with_original else None
    if legacy is not None and not fresh(legacy, project):
        log(f"saving {n} scenes with the original library")
        partial = work / f"original-{n}.partial.tar"
        run([str(ORIGINAL_PYTHON), ORIGINAL_SCRIPT, "import", str(project), str(partial)],
            cwd="/", env=original_env(), stderr=subprocess.DEVNULL)  # fmt: skip
        partial.replace(legacy)
    # One scratch output per process, so that two runs sharing the cache do not collide.
    return Paths(dataset, tarball, work / f"out-{os.getpid()}"), legacy


def available(command: str | None) -> bool:
    if command is None:
        return True
    probe = subprocess.run([MIRA, command, "--help"], capture_output=True)
    return probe.returncode == 0


def decoded_images(case: Case, paths: Paths, clean: Callable[[], None]) -> int:
    """How many images cv2 decoded while our command ran (in-process, untimed)."""
    argv = case.ours(paths)[1:]
    clean()
    result = subprocess.run(
        [PYTHON, HELPERS, "count-decodes", *argv], capture_output=True, text=True, check=True
    )
    remover(paths.out)()
    line = [x for x in result.stderr.splitlines() if x.startswith("decoded-images:")][-1]
    return int(line.split(":")[1])


def floors(paths: Paths, repeat: int, needed: set[str]) -> dict[str, Measurement]:
    """The floors the cases compare with (`tar cf` always; decoding 5000 JPEGs takes a
    minute, so only when a case needs it)."""
    images = sorted(p.name for p in paths.dataset.glob("*.jpg"))
    listing = paths.out.with_name(paths.out.name + "-images.txt")
    listing.write_text("\n".join(images) + "\n")
    tar = ["tar", "cf", str(paths.out), "-C", str(paths.dataset), "-T", str(listing)]
    result = {"tar": measure(tar, repeat, remover(paths.out))}
    if "decode" in needed:
        result["decode"] = measure([PYTHON, HELPERS, "decode", str(paths.dataset)], repeat)
    listing.unlink()
    return result


def main() -> None:
    keys = [case_key(c) for c in CASES]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--original-scenes", type=int, default=1000,
                        help="run the original only on datasets up to this size")  # fmt: skip
    parser.add_argument("--no-original", action="store_true", help="benchmark ours only")
    parser.add_argument("--original-from", type=Path, metavar="RESULTS.json",
                        help="reuse the original's figures from an earlier run's results.json "
                        "(they do not depend on our code; it takes ~45 min to measure)")  # fmt: skip
    parser.add_argument("--cases", nargs="+", choices=keys, default=keys)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=ROOT / "tests" / "benchmarks" / "work")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()

    args.work.mkdir(parents=True, exist_ok=True)
    # As a regular install does: without cached bytecode every run would compile our modules
    # (~30 ms), e.g. where PYTHONDONTWRITEBYTECODE is set.
    run([PYTHON, "-m", "compileall", "-q", str(ROOT / "mira"), str(ROOT / "mira_cli")])
    earlier = json.loads(args.original_from.read_text())["scenes"] if args.original_from else None
    use_original = earlier is None and not args.no_original and ensure_original()
    cases = [c for c in CASES if case_key(c) in args.cases]
    missing = sorted({c.command for c in cases if not available(c.command)} - {None})
    cases = [c for c in cases if c.command not in missing]
    results: dict[str, Any] = {"scenes": {}, "missing": missing, "repeat": args.repeat}
    if args.original_from:
        source = args.original_from.resolve()
        results["original_from"] = str(
            source.relative_to(ROOT) if source.is_relative_to(ROOT) else source
        )
    for n in sorted(args.scenes):
        with_original = use_original and n <= args.original_scenes
        paths, legacy = prepare(n, args.work, with_original)
        remover(paths.out)()
        log(f"== {n} scenes: floors")
        size = {"images": sum(p.stat().st_size for p in paths.dataset.glob("*.jpg"))}
        entry = {
            "size": size,
            "floors": floors(paths, args.repeat, {c.floor for c in cases}),
            "cases": {},
        }
        for case in cases:
            if n != min(args.scenes) and not case.big:
                continue
            log(f"== {n} scenes: {case.name}")
            stdout = str(paths.out) if case.stdout else None
            clean = remover(paths.out, case.out_dir)
            row = {"ours": measure(case.ours(paths), args.repeat, clean, stdout)}
            if case.pixel_free:
                row["decoded"] = decoded_images(case, paths, clean)
            if earlier is not None:
                previous = earlier.get(str(n), {}).get("cases", {}).get(case.name, {})
                if "original" in previous:
                    row["original"] = Measurement(**previous["original"])
            elif with_original and case.original and legacy is not None:
                source = paths.dataset / "project.json" if case.original == "import" else legacy
                argv = [str(ORIGINAL_PYTHON), ORIGINAL_SCRIPT, case.original, str(source),
                        str(paths.out)]  # fmt: skip
                row["original"] = measure(argv, args.repeat, clean, env=original_env())
            entry["cases"][case.name] = row
            log("   " + ", ".join(f"{k} {v.median:.2f}s {v.peak_mb:.0f}MB"
                                  for k, v in row.items() if isinstance(v, Measurement)))  # fmt: skip
        results["scenes"][n] = entry
    raw = args.work / "results.json"
    raw.write_text(json.dumps(results, default=lambda m: vars(m), indent=1))
    write_report(results, cases, args.output)
    log(f"wrote {args.output} (raw figures in {raw})")


if __name__ == "__main__":
    main()
