"""Reading tarballs from an S3 server (moto's, on 127.0.0.1) against reading them from disk,
and against the floor of that server: what any client takes to get the same bytes from it.

    .venv/bin/python tests/benchmarks/object_storage.py [--scenes 1000] [--repeat 5]

The benchmark dataset of run.py (cached in tests/benchmarks/work/) is copied into 4 shards
of 250 scenes, uploaded to the server and read four ways, each from disk and from S3:
mira's library (every record and image byte: `iter_scenes` + `encoded()`), `mira stats
--json`, and, as floors with no tar parsing, every byte of the objects read whole (plain
`read()` of the files; boto3's `get_object` with its body streamed; s3fs with one streamed
GET, the client stack mira uses). Also: the start-up any s3fs reader pays (importing
s3fs, making its client). Whole processes, in rounds that run every variant once (so that
other work on the machine weighs on all alike); wall and CPU time are medians, the
server's CPU time comes from /proc in one more run. The same reads repeated inside one
process give the cost per byte, without start-up. `--before CHECKOUT` adds mira's reads
from S3 with another checkout's code (e.g. before a change). Writes the "object_storage" section of
docs/benchmarks.md (between its markers) and prints it.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import MIRA, PYTHON, ROOT  # noqa: E402
from measure import Measurement, measure_alike  # noqa: E402
from run import log, prepare  # noqa: E402
from sections import markers, with_section  # noqa: E402

sys.path.insert(0, str(ROOT))
from tests.s3server import S3Server  # noqa: E402

SHARD_SCENES = 250
#: Each reader prints the bytes it read; argv: the files or URLs.
READERS = {
    "mira": """
import sys
from mira.formats import iter_scenes
def read(paths):
    return sum(len(scene.image_source.encoded()) for scene in iter_scenes(paths))
""",
    "files": """
def read(paths):
    total = 0
    for path in paths:
        with open(path, "rb") as handle:
            total += len(handle.read())
    return total
""",
    "boto3": """
import boto3
client = boto3.client("s3")
def read(urls):
    total = 0
    for url in urls:
        bucket, key = url[len("s3://"):].split("/", 1)
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        while chunk := body.read(1 << 20):
            total += len(chunk)
    return total
""",
    "s3fs": """
import fsspec
from fsspec.asyn import sync
fs = fsspec.filesystem("s3")
async def whole(url):
    handle, total = await fs.open_async(url, "rb"), 0
    while chunk := await handle.read(1 << 20):
        total += len(chunk)
    return total
def read(urls):
    return sum(sync(fs.loop, whole, url) for url in urls)
""",
    "start-up": """
import fsspec
from fsspec.asyn import sync
fs = fsspec.filesystem("s3")
def read(urls):
    sync(fs.loop, fs.set_session)
    return 0
""",
}
ONCE = "\nimport sys\nprint(read(sys.argv[1:]))\n"
#: In one process: a first read (connections, caches), then `repeat` timed ones.
REPEATED = """
import sys, time
repeat, paths = int(sys.argv[1]), sys.argv[2:]
read(paths)
times = []
for _ in range(repeat):
    began = time.perf_counter()
    read(paths)
    times.append(time.perf_counter() - began)
print(" ".join(f"{t:.4f}" for t in times))
"""
#: (label, reader, where it reads from)
ROWS = [
    ("every byte of the files, plain `read()`", "files", "disk"),
    ("every record and image byte, mira's library", "mira", "disk"),
    ("`mira stats --json`", "stats", "disk"),
    ("floor: s3fs start-up alone (import, client)", "start-up", "s3"),
    ("floor: every byte, boto3 `get_object` streamed", "boto3", "s3"),
    ("floor: every byte, s3fs one streamed GET each", "s3fs", "s3"),
    ("every record and image byte, mira's library", "mira", "s3"),
    ("`mira stats --json`", "stats", "s3"),
]
IN_PROCESS = [("files", "disk"), ("mira", "disk"), ("boto3", "s3"), ("s3fs", "s3"), ("mira", "s3")]


def argv_of(reader: str, paths: list[str]) -> list[str]:
    if reader == "stats":
        return [MIRA, "stats", *paths, "--json"]
    return [PYTHON, "-c", READERS[reader] + ONCE, *paths]


def shards_of(tarball: Path, folder: Path) -> list[Path]:
    """The tarball copied into shards of SHARD_SCENES scenes, scenes as stored."""
    code = (
        "import sys\nfrom mira.formats import SceneWriter\nfrom mira.formats.stream import "
        "iter_stored\nwith SceneWriter(sys.argv[2], shard_size=int(sys.argv[3])) as w:\n"
        "    for s in iter_stored(sys.argv[1]):\n        w.write_stored(s)\n"
    )
    subprocess.run([PYTHON, "-c", code, str(tarball), str(folder / "shard.tar"),
                    str(SHARD_SCENES)], check=True)  # fmt: skip
    return sorted(folder.glob("shard-*.tar"))


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu(server: S3Server, argv: list[str], env: dict[str, str]) -> float:
    before = cpu_seconds(server.process.pid)
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return cpu_seconds(server.process.pid) - before


def in_process(reader: str, paths: list[str], repeat: int, env: dict[str, str]) -> float:
    """Median seconds of one read of every path, repeated inside one process."""
    code = READERS[reader] + REPEATED
    out = subprocess.run([PYTHON, "-c", code, str(repeat), *paths], env=env,
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return statistics.median(float(t) for t in out.split())


def measured(tarball: Path, repeat: int, before: Path | None) -> dict[str, object]:
    server, cwd = S3Server(), os.getcwd()
    try:
        # This checkout's code (or --before's), whatever the venv has installed; and run
        # from a folder without a `mira` of its own, as `python -c` looks in its folder first.
        env = {**os.environ, **server.env(), "PYTHONPATH": str(ROOT)}
        bucket = server.bucket()
        with tempfile.TemporaryDirectory(dir=tarball.parent) as folder:
            shards = shards_of(tarball, Path(folder))
            os.chdir(folder)
            for shard in shards:
                server.client().upload_file(str(shard), bucket, shard.name)
            sources = {"disk": [str(p) for p in shards],
                       "s3": [f"s3://{bucket}/{p.name}" for p in shards]}  # fmt: skip
            variants = {
                f"{reader} {where}": (argv_of(reader, sources[where]), env)
                for _, reader, where in ROWS
            }
            if before is not None:
                old = {**env, "PYTHONPATH": str(before)}
                for reader in ("mira", "stats"):
                    variants[f"{reader} before"] = (argv_of(reader, sources["s3"]), old)
            log(f"== {len(variants)} variants, {repeat} rounds")
            whole = measure_alike(variants, repeat, stdout_path=os.devnull)
            served = {
                name: server_cpu(server, argv, env)
                for name, (argv, env) in variants.items()
                if not name.endswith(" disk")
            }
            log("== in one process")
            steady = {
                f"{reader} {where}": in_process(reader, sources[where], repeat, env)
                for reader, where in IN_PROCESS
            }
            size = sum(p.stat().st_size for p in shards)
    finally:
        os.chdir(cwd)
        server.stop()
    return {"whole": whole, "served": served, "steady": steady, "size": size,
            "shards": len(shards)}  # fmt: skip


def section(n: int, repeat: int, figures: dict, before: str | None) -> str:
    whole: dict[str, Measurement] = figures["whole"]
    served, steady = figures["served"], figures["steady"]
    disk = whole["mira disk"].median
    stats_disk = whole["stats disk"].median
    floor = whole["s3fs s3"].median
    load = max(m.load for m in whole.values())
    begin, end = markers("object_storage")
    lines = [
        f"{begin} (generated by tests/benchmarks/object_storage.py) -->",
        "## Reading from object storage",
        "",
        f"Measured by `tests/benchmarks/object_storage.py` on "
        f"{datetime.date.today().isoformat()}: the {n} scenes above as {figures['shards']} "
        f"shards ({figures['size'] / 1e6:.0f} MB), read from disk (the page cache) and from "
        f"moto's S3 server on 127.0.0.1 (a Python server: it stands in for S3 in the tests, "
        f"it is not a model of S3's speed). Whole processes, medians of {repeat} rounds; CPU "
        f"is the reading process's user + system time, the server's is its own; highest "
        f"1-minute load average at the start of a run: {load:.1f} on 2 cores (other work "
        f"shared them).",
        "",
        "| from | what | wall s | CPU s | server CPU s | wall / mira from disk | load |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, reader, where in ROWS:
        m = whole[f"{reader} {where}"]
        base = stats_disk if reader == "stats" else disk
        server = f"{served[f'{reader} {where}']:.2f}" if where == "s3" else "—"
        lines.append(
            f"| {'disk' if where == 'disk' else 'S3'} | {label} | {m.median:.2f} "
            f"| {m.cpu_median:.2f} | {server} | {m.median / base:.2f}× | {m.load:.1f} |"
        )
    if before is not None:
        for label, reader in (("mira's library", "mira"), ("`mira stats --json`", "stats")):
            m = whole[f"{reader} before"]
            base = stats_disk if reader == "stats" else disk
            lines.append(
                f"| S3 | {label}, before (commit {before}) | {m.median:.2f} | {m.cpu_median:.2f} "
                f"| {served[f'{reader} before']:.2f} | {m.median / base:.2f}× | {m.load:.1f} |"
            )
    mira_s3, stats_s3 = whole["mira s3"].median, whole["stats s3"].median
    startup = whole["start-up s3"].median
    lines += [
        "",
        f"The goal of issue 18, reading from the S3 server within 2× of reading the same "
        f"shards from disk: **{mira_s3 / disk:.2f}×** for the library and "
        f"**{stats_s3 / stats_disk:.2f}×** for `mira stats` — "
        f"{'met' if max(mira_s3 / disk, stats_s3 / stats_disk) <= 2 else '**not met**'}. "
        f"The server's own floor is above 2× already: boto3 reading the bytes alone takes "
        f"{whole['boto3 s3'].median / disk:.2f}× and s3fs {floor / disk:.2f}× mira's read "
        f"from disk, and the s3fs start-up alone {startup:.2f} s "
        f"({startup / disk:.2f}× it). Against the floor of its own client stack (s3fs), "
        f"mira takes {mira_s3 / floor:.2f}× (library) and {stats_s3 / floor:.2f}× (stats). "
        f"`mira stats` from S3 also hashes every image (sha256) as it streams by, for its "
        f"duplicate images, since the bytes cannot be read again later; from disk it reads "
        f"only the images whose length another one has.",
        "",
        f"In one process, after a first read (imports, connections), one read of the "
        f"{figures['shards']} shards (median of {repeat}):",
        "",
        "| from | what | s | MB/s | / mira from disk |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    labels = {"files": "every byte, plain `read()`", "mira": "mira's library",
              "boto3": "boto3 `get_object` streamed", "s3fs": "s3fs, one streamed GET"}  # fmt: skip
    for reader, where in IN_PROCESS:
        seconds = steady[f"{reader} {where}"]
        lines.append(
            f"| {'disk' if where == 'disk' else 'S3'} | {labels[reader]} | {seconds:.3f} "
            f"| {figures['size'] / 1e6 / seconds:.0f} | {seconds / steady['mira disk']:.1f}× |"
        )
    lines.append(end)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenes", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--work", type=Path, default=ROOT / "tests" / "benchmarks" / "work")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument(
        "--before",
        type=Path,
        help="another checkout (or `git archive` of a commit, in a folder named after it) to compare with",
    )
    args = parser.parse_args()
    before = None
    if args.before is not None:
        rev = ["git", "-C", str(args.before), "rev-parse", "--short", "HEAD"]
        found = subprocess.run(rev, capture_output=True, text=True)
        before = found.stdout.strip() if found.returncode == 0 else args.before.name
    args.work.mkdir(parents=True, exist_ok=True)
    paths, _ = prepare(args.scenes, args.work, with_original=False)
    figures = measured(paths.tarball, args.repeat, args.before)
    text = section(args.scenes, args.repeat, figures, before)
    print(text)
    current = args.output.read_text() if args.output.exists() else "# Benchmarks\n"
    args.output.write_text(with_section(current, text, "object_storage"))
    log(f"wrote the object storage section of {args.output}")


if __name__ == "__main__":
    main()
