"""Output bytes and time of `mira tile` and `mira augment` against their source's bytes and
against SAHI's tiles of the same images (issue 19).

    make bench-sizes                      # 1000 scenes; writes its section of docs/benchmarks.md
    .venv/bin/python tests/benchmarks/sizes.py --scenes 200 --repeat 1

The data is run.py's (1024x768 JPEG, quality 90, cached in tests/benchmarks/work/). SAHI
(`sahi` on PyPI) is a peer, not a dependency: it is installed into a venv of its own,
tests/benchmarks/work/.venv-sahi (or give `--sahi-python`). SAHI has no quality option:
its JPEG slices are Pillow's default, quality 75, so "the same quality" is `--quality 75`.
Without SAHI, OpenCV's tiles of the same windows at quality 75 stand in for it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import HELPERS, MIRA, PIPELINE, PYTHON, ROOT, Paths  # noqa: E402
from measure import Measurement, measure, remover, run_once  # noqa: E402
from run import log, prepare  # noqa: E402
from sections import BEGIN, END, with_section  # noqa: E402

SAHI_SCRIPT = str(Path(__file__).resolve().parent / "sahi_tiles.py")
SIZE, OVERLAP, SAME_QUALITY = 512, 0.2, 75
GRID = ["--max-size", str(SIZE), "--mode", "grid", "--overlap", str(OVERLAP)]


@dataclass(frozen=True)
class Row:
    name: str
    argv: Callable[[Paths, str], list[str]]  # (paths, SAHI's python) -> argv
    folder: bool = False  # writes a folder of images, not a tarball
    sahi: bool = False


def _mira(*args: str) -> Callable[[Paths, str], list[str]]:
    return lambda p, _: [MIRA, args[0], str(p.tarball), "-o", str(p.out), *args[1:]]


ROWS = [
    Row("tile, grid (default: keep)", _mira("tile", *GRID)),
    Row(f"tile, grid --quality {SAME_QUALITY}", _mira("tile", *GRID, "--quality", "75")),
    Row(
        "tile, grid --image-format jpg --quality 95 (before #19)",
        _mira("tile", *GRID, "--image-format", "jpg", "--quality", "95"),
    ),
    Row("tile --max-size 512 (sub-crops, default)", _mira("tile", "--max-size", str(SIZE))),
    Row(
        "SAHI slice_image, out_ext .jpg (Pillow's quality 75)",
        lambda p, sahi: [
            sahi,
            SAHI_SCRIPT,
            str(p.dataset),
            str(p.out),
            str(SIZE),
            str(OVERLAP),
            ".jpg",
        ],  # fmt: skip
        folder=True,
        sahi=True,
    ),
    Row(
        f"OpenCV, the same windows at quality {SAME_QUALITY} (1 thread)",
        lambda p, _: [
            PYTHON,
            HELPERS,
            "opencv-tiles",
            str(p.dataset),
            str(p.out),
            str(SIZE),
            str(OVERLAP),
            str(SAME_QUALITY),
        ],  # fmt: skip
        folder=True,
    ),
    Row("augment (default: keep)", _mira("augment", "--config", PIPELINE)),
    Row(
        "augment --quality 95 (before #19)",
        _mira("augment", "--config", PIPELINE, "--quality", "95"),
    ),
]
OURS_GRID, OURS_SAME, OURS_SUBCROPS = ROWS[0].name, ROWS[1].name, ROWS[3].name
SAHI_JPEG, OPENCV = ROWS[4].name, ROWS[5].name


def ensure_sahi(python: Path) -> str | None:
    """SAHI's venv, made if absent; None when it cannot be, with the reason logged."""
    if not python.exists():
        venv = python.parent.parent
        log(f"installing SAHI into {venv} (a benchmark peer, not a dependency)")
        try:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run([str(python), "-m", "pip", "install", "--quiet", "sahi"], check=True)
        except (subprocess.CalledProcessError, OSError) as exc:
            log(f"cannot install SAHI: {exc}")
            return None
    probe = subprocess.run([str(python), "-c", "import sahi.slicing"], capture_output=True)
    if probe.returncode:
        log(f"SAHI does not import: {probe.stderr.decode(errors='replace').strip()[-300:]}")
        return None
    return str(python)


def sahi_version(python: str | None) -> str:
    if python is None:
        return "absent"
    code = "import importlib.metadata as m; print(m.version('sahi'), m.version('pillow'))"
    out = subprocess.run([python, "-c", code], capture_output=True, text=True).stdout.split()
    return f"SAHI {out[0]}, Pillow {out[1]}" if len(out) == 2 else "unknown"


def image_sizes(path: Path, folder: bool) -> tuple[int, int, int]:
    """(images, bytes, pixels) of the images a row wrote (tar members, or a folder's files)."""
    from mira.core.image_header import read_dimensions

    count = size = pixels = 0

    def add(data: bytes) -> None:
        nonlocal count, size, pixels
        width, height = read_dimensions(data) or (0, 0)
        count, size, pixels = count + 1, size + len(data), pixels + width * height

    if folder:
        for file in sorted(path.iterdir()):
            add(file.read_bytes())
    else:
        with tarfile.open(path) as tar:
            for member in tar:
                if member.isfile() and not member.name.endswith(".json"):
                    add(tar.extractfile(member).read())  # type: ignore[union-attr]
    return count, size, pixels


def source_sizes(paths: Paths) -> tuple[int, int, int]:
    """(images, bytes, pixels) of the dataset's JPEGs."""
    from mira.core.image_header import read_file_dimensions

    files = sorted(paths.dataset.glob("*.jpg"))
    pixels = 0
    for file in files:
        width, height = read_file_dimensions(file) or (0, 0)
        pixels += width * height
    return len(files), sum(f.stat().st_size for f in files), pixels


def run_rows(paths: Paths, sahi: str | None, repeat: int) -> dict[str, Any]:
    """Time every row (`repeat` runs), then run it once more to count what it wrote."""
    rows: dict[str, Any] = {}
    clean = remover(paths.out)
    for row in ROWS:
        if row.sahi and sahi is None:
            continue
        log(f"== {row.name}")
        argv = row.argv(paths, sahi or "")
        timing = measure(argv, repeat, clean)
        run_once(argv, sample=False)
        images, size, pixels = image_sizes(paths.out, row.folder)
        clean()
        rows[row.name] = {"time": timing, "images": images, "bytes": size, "pixels": pixels}
        log(f"   {timing.median:.2f} s, {images} images, {size / 1e6:.1f} MB")
    return rows


def _x(value: float) -> str:
    return f"{value:.2f}×"


def targets(results: dict[str, Any]) -> list[str]:
    rows, source = results["rows"], results["source"]
    source_bpp = source["bytes"] / source["pixels"]

    def bpp(name: str) -> float:
        return rows[name]["bytes"] / rows[name]["pixels"]

    lines = ["| issue | target | measured | result |", "| --- | --- | --- | --- |"]
    peer = SAHI_JPEG if SAHI_JPEG in rows else OPENCV
    if peer in rows and OURS_SAME in rows:
        ratio = rows[OURS_SAME]["bytes"] / rows[peer]["bytes"]
        who = "SAHI's" if peer == SAHI_JPEG else "OpenCV's (SAHI absent)"
        lines.append(
            f"| #19 | tile within 1.1× of {who} bytes at the same quality ({SAME_QUALITY}) "
            f"| {_x(ratio)} ({rows[OURS_SAME]['bytes'] / 1e6:.1f} MB vs "
            f"{rows[peer]['bytes'] / 1e6:.1f} MB) | {'pass' if ratio <= 1.1 else '**FAIL**'} |"
        )
    for name in (OURS_GRID, OURS_SUBCROPS):
        ratio = bpp(name) / source_bpp
        lines.append(
            f"| #19 | {name}: within 1.2× of the source's bytes per pixel | {_x(ratio)} "
            f"({bpp(name):.3f} vs {source_bpp:.3f} B/px) | {'pass' if ratio <= 1.2 else '**FAIL**'} |"
        )
    return lines


def table(results: dict[str, Any]) -> list[str]:
    rows, source = results["rows"], results["source"]
    source_bpp = source["bytes"] / source["pixels"]
    lines = [
        "| run | s | peak MB | load | images | MB | bytes/pixel | × source B/px | × source MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| the source JPEGs (quality 90) | — | — | — | {source['images']} "
        f"| {source['bytes'] / 1e6:.0f} | {source_bpp:.3f} | 1.00× | 1.00× |",
    ]
    for name, row in rows.items():
        timing: Measurement = row["time"]
        bpp = row["bytes"] / row["pixels"]
        lines.append(
            f"| {name} | {timing.median:.2f} | {timing.peak_mb:.0f} | {timing.load:.1f} "
            f"| {row['images']} "
            f"| {row['bytes'] / 1e6:.0f} | {bpp:.3f} | {_x(bpp / source_bpp)} "
            f"| {_x(row['bytes'] / source['bytes'])} |"
        )
    return lines


def section(results: dict[str, Any]) -> str:
    n, sahi = results["scenes"], results["sahi"]
    repeat = results["repeat"]
    runs = (
        "Times are one whole-process run each"
        if repeat == 1
        else f"Times are medians of {repeat} whole-process runs"
    )
    peer = (
        f"SAHI ({sahi}) ran from its own venv, outside the project's dependencies."
        if sahi != "absent"
        else "SAHI could not be installed here (see the log), so OpenCV's tiles of the same "
        "windows stand in for it."
    )
    lines = [
        BEGIN,
        "",
        "## Output sizes: tile and augment against their source and SAHI (issue 19)",
        "",
        f"{n} scenes of the same data (1024×768 JPEG, quality 90). Grid rows cut {SIZE} px "
        f"windows with overlap {OVERLAP} (SAHI's windows of the same size and overlap are the "
        f"same six per image, shifted by at most 1 px); *bytes/pixel* is the images' bytes over "
        f"their pixels, so overlapping tiles are compared fairly with their source. {peer} SAHI "
        "has no quality option: its JPEG slices are Pillow's default quality, 75, so our row at "
        f"the same quality is `--quality {SAME_QUALITY}` (by default SAHI writes lossless PNG "
        "slices of JPEG sources, many times their size, and slowly: not measured here). WebP "
        "(`--image-format webp`) is not measured either: libwebp encodes several times slower "
        f"than libjpeg. {runs} (SAHI slices in threads, OpenCV's row in one "
        "thread; ours in 2 worker processes); *load* is the machine's 1-minute load average "
        "when the runs started: above 2, other work was sharing these 2 cores and the times are "
        "longer than on an idle machine. Byte counts do not depend on it.",
        "",
        *targets(results),
        "",
        *table(results),
        "",
        "Commands: `mira tile ours-N.tar -o OUT --max-size 512 --mode grid --overlap 0.2 "
        "[--quality Q | --image-format F]`; `mira augment ours-N.tar -o OUT --config "
        "augment.yaml`; SAHI: `slice_image(path, output_file_name, output_dir, 512, 512, 0.2, "
        "0.2, out_ext)` for each image (tests/benchmarks/sahi_tiles.py).",
        "",
        END,
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenes", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, default=ROOT / "tests" / "benchmarks" / "work")
    parser.add_argument("--sahi-python", type=Path, help="python of a venv with sahi installed")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()

    args.work.mkdir(parents=True, exist_ok=True)
    sahi = ensure_sahi(args.sahi_python or args.work / ".venv-sahi" / "bin" / "python")
    paths, _ = prepare(args.scenes, args.work, with_original=False)
    remover(paths.out)()
    count, size, pixels = source_sizes(paths)
    results = {
        "scenes": args.scenes,
        "repeat": args.repeat,
        "sahi": sahi_version(sahi),
        "source": {"images": count, "bytes": size, "pixels": pixels},
        "rows": run_rows(paths, sahi, args.repeat),
    }
    raw = args.work / "sizes.json"
    raw.write_text(json.dumps(results, default=lambda m: vars(m), indent=1))
    text = args.output.read_text() if args.output.exists() else "# Benchmarks\n"
    args.output.write_text(with_section(text, section(results)))
    print("\n".join(targets(results)))
    log(f"wrote its section of {args.output} (raw figures in {raw})")


if __name__ == "__main__":
    main()
