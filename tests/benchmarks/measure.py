"""Whole-process timing and peak memory of one command, repeated; median wall time.

Peak memory is the larger of two views, so that neither a single big process nor a pool of
workers is under-reported:
- the largest single process's maximum resident set (`/usr/bin/time -v`, or
  `resource.getrusage(RUSAGE_CHILDREN)` when GNU time is absent), which catches short peaks;
- the sum of proportional set sizes (PSS, shared pages split between processes) over the
  whole process tree, sampled every 50 ms from /proc, which counts worker pools fairly.

The sampling costs CPU (some 10% of a 2-core machine with a pool running), so it runs in one
extra, untimed run; the timed runs only have GNU time around them.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

GNU_TIME = "/usr/bin/time"
SAMPLE_SECONDS = 0.05


@dataclass
class Measurement:
    """Wall times of every run (seconds) and the peak memory over all runs (MB)."""

    times: list[float] = field(default_factory=list)
    peak_mb: float = 0.0
    loads: list[float] = field(default_factory=list)  # 1-minute load average before each run
    cpu: list[float] = field(default_factory=list)  # user + system seconds of each timed run

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def cpu_median(self) -> float:
        """CPU seconds (user + system, children included): steadier than wall time on a
        busy machine."""
        return statistics.median(self.cpu) if self.cpu else 0.0

    @property
    def load(self) -> float:
        """The busiest the machine was (1-minute load average) when a run started."""
        return max(self.loads, default=0.0)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # The command name may contain spaces and parentheses: the ppid follows the last ")".
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _memory_kb(pid: int) -> int:
    for name, key in (("smaps_rollup", b"Pss:"), ("status", b"VmRSS:")):
        try:
            with open(f"/proc/{pid}/{name}", "rb") as handle:
                for line in handle:
                    if line.startswith(key):
                        return int(line.split()[1])
        except OSError:
            continue
    return 0


def tree_memory_kb(root: int) -> int:
    """PSS (or RSS) summed over `root` and all its descendants, in kB."""
    tree = _children()
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += _memory_kb(pid)
        stack.extend(tree.get(pid, []))
    return total


class _Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(SAMPLE_SECONDS):
            self.peak_kb = max(self.peak_kb, tree_memory_kb(self.pid))


def run_once(
    argv: Sequence[str],
    stdout_path: str | None = None,
    env: dict[str, str] | None = None,
    sample: bool = True,
) -> tuple[float, float, float]:
    """Run `argv` once; returns (wall seconds, peak MB, CPU seconds). Raises on a non-zero
    exit. Without `sample`, the peak is the largest single process's only."""
    use_gnu_time = os.access(GNU_TIME, os.X_OK)
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        prefix = [GNU_TIME, "-v", "-o", report.name] if use_gnu_time else []
        stdout = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL  # noqa: SIM115
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        before, cpu_before = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
        try:
            start = time.perf_counter()
            process = subprocess.Popen(
                [*prefix, *argv], stdout=stdout, stderr=subprocess.PIPE, env=env
            )
            sampler = _Sampler(process.pid)
            if sample:
                sampler.start()
            _, stderr = process.communicate()
            wall = time.perf_counter() - start
            if sample:
                sampler.done.set()
                sampler.join()
        finally:
            if stdout_path:
                stdout.close()
        if process.returncode != 0:
            tail = stderr.decode(errors="replace").strip().splitlines()[-5:]
            raise RuntimeError(f"{' '.join(argv)} exited {process.returncode}: {tail}")
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = usage.ru_utime + usage.ru_stime - cpu_before  # GNU time's own is a few ms
        if use_gnu_time:
            found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report.read())
            largest_kb = int(found.group(1)) if found else 0
        else:
            # ru_maxrss of children is a running maximum: it only tells us about this run
            # when this run set a new maximum, which is the case that matters for a peak.
            largest_kb = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before)
    return wall, max(largest_kb, sampler.peak_kb) / 1024, cpu


def measure(
    argv: Sequence[str],
    repeat: int = 3,
    cleanup: Callable[[], None] | None = None,
    stdout_path: str | None = None,
    env: dict[str, str] | None = None,
) -> Measurement:
    """Run `argv` once for memory, then `repeat` times for time (calling `cleanup` before
    each run and after the last)."""
    return measure_alike({"": (argv, env)}, repeat, cleanup, stdout_path)[""]


def measure_alike(
    variants: dict[str, tuple[Sequence[str], dict[str, str] | None]],
    repeat: int = 3,
    cleanup: Callable[[], None] | None = None,
    stdout_path: str | None = None,
) -> dict[str, Measurement]:
    """`measure` for several (argv, env) variants, in rounds that run each variant once, so
    that other work on the machine weighs on all of them alike."""
    results = {name: Measurement() for name in variants}
    for run in range(repeat + 1):
        timed = run > 0
        for name, (argv, env) in variants.items():
            if cleanup:
                cleanup()
            if timed:
                results[name].loads.append(os.getloadavg()[0])
            wall, peak, cpu = run_once(argv, stdout_path, env, sample=not timed)
            if timed:
                results[name].times.append(wall)
                results[name].cpu.append(cpu)
            results[name].peak_mb = max(results[name].peak_mb, peak)
    if cleanup:
        cleanup()
    return results


def remover(path: str | Path, folder: bool = False) -> Callable[[], None]:
    """A cleanup that deletes a command's output (and recreates it as an empty folder when
    the command wants an existing output folder)."""

    def clean() -> None:
        target = Path(path)
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        if folder:
            target.mkdir()

    return clean
