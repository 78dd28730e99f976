"""The Ray engine: a stage's work runs on a Ray cluster, or on a Ray started for the job.

Like `ProcessEngine`, it keeps a bounded window of work in flight and takes the results
back in input order, so sinks write the serial engine's bytes. Two things differ:

- Workers on a cluster may not see the driver's files, so a task travels with its image
  bytes (the plain pickling of `ImageSource`), never as a reference into a tarball.
- Ray's cost per task (scheduling, the object store) is larger than a process pool's, so
  consecutive tasks travel in chunks of `chunk`, one Ray task each.

`ray` is the optional ``ray`` extra, imported when the engine first runs work.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pickle
import socket
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any, NamedTuple

from mira.errors import EngineError
from mira.parallel import _set_opencv_threads, resolve_jobs
from mira.pipeline.engine import Engine

INSTALL = "pip install 'mira-cli[ray]'"
_READY = False  # in a worker: set once its OpenCV threads are limited


class RemoteTraceback(Exception):
    """Where a task failed in its worker: the `__cause__` of the error raised here."""

    def __str__(self) -> str:
        return f"\n{self.args[0]}"


class _Failed(NamedTuple):
    """A chunk that stopped at an error: the results before it, then the error."""

    results: list[Any]
    error: BaseException
    where: str


def _run_chunk(work: Callable[[Any], Any], chunk: list[Any]) -> list[Any] | _Failed:
    """Worker: `work` over one chunk of tasks (OpenCV on this worker's one core only). An
    error ends the chunk; the results before it still count, as with one task per job."""
    global _READY
    if not _READY:
        _set_opencv_threads(1)
        _READY = True
    results = []
    for task in chunk:
        try:
            results.append(work(task))
        except Exception as error:
            where = traceback.format_exc()
            try:
                pickle.dumps(error)
            except Exception:  # sent as its text instead
                error = EngineError(f"{type(error).__name__}: {error}")
            return _Failed(results, error, where)
    return results


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise EngineError(f"the ray engine needs the ray extra: {INSTALL}") from None
    return ray


class RayEngine(Engine):
    """Work on Ray: the cluster at `address` (as `ray.init` takes it: "auto", "ray://host:10001",
    ...), else a local Ray of `jobs` CPUs (None: every core), started on first use and left
    running for later work in this process. A Ray already initialised here is used as it is.
    """

    name = "ray"
    in_process = False

    def __init__(self, address: str | None = None, jobs: int | None = None, chunk: int = 4):
        if importlib.util.find_spec("ray") is None:  # said before anything is read
            raise EngineError(f"the ray engine needs the ray extra: {INSTALL}")
        if chunk < 1:
            raise EngineError(f"chunk must be at least 1 task, got {chunk}")
        self.address = address
        self.jobs = resolve_jobs(jobs) if address is None else None
        self.chunk = chunk
        #: Seconds spent starting or joining Ray (0 when it was running already).
        self.startup_seconds = 0.0
        self._remote: Any = None

    def start(self) -> Any:
        """Join (or start) Ray once; the `ray` module."""
        if self._remote is not None:
            return _ray()
        began = time.perf_counter()
        if self.address is None and "ray" not in sys.modules:
            # A private local Ray: on the loopback address only, and reporting nothing to
            # Ray's usage statistics service. (Read when ray is imported.)
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        ray = _ray()
        if not ray.is_initialized():
            options: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.ERROR}
            if self.address is None:
                options["num_cpus"] = self.jobs
            else:
                _check_reachable(self.address)
            try:
                ray.init(address=self.address, **options)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = f"the Ray cluster at {self.address}" if self.address else "a local Ray"
                raise EngineError(f"cannot start or join {where}: {_summary(exc)}") from None
        self._remote = ray.remote(num_cpus=1)(_run_chunk)
        self.startup_seconds = time.perf_counter() - began
        return ray

    def window(self, ray: Any) -> int:
        """Chunks in flight: two per CPU of the cluster, so no worker waits for the next."""
        return max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))

    def map(self, work: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        ray = self.start()
        limit = self.window(ray)
        pending: deque[Any] = deque()
        iterator = iter(tasks)
        try:
            while chunk := list(islice(iterator, self.chunk)):
                pending.append(self._remote.remote(work, chunk))
                if len(pending) >= limit:
                    yield from self._results(ray, pending.popleft())
            while pending:
                yield from self._results(ray, pending.popleft())
        finally:
            for ref in pending:  # an error or an early stop: the rest is not wanted
                ray.cancel(ref)

    @staticmethod
    def _results(ray: Any, ref: Any) -> Iterator[Any]:
        """A chunk's results; a task's own error is raised as it was raised in the worker,
        after the results of the tasks before it."""
        try:
            done = ray.get(ref)
        except ray.exceptions.RayError as error:
            raise EngineError(f"Ray failed: {_summary(error)}") from None
        if isinstance(done, _Failed):
            yield from done.results
            raise done.error from RemoteTraceback(done.where)
        yield from done


def _check_reachable(address: str, timeout: float = 10.0) -> None:
    """A HOST:PORT address must accept a connection: Ray itself retries for minutes."""
    host, _, port = address.rpartition(":")
    if "://" in address or not host or not port.isdigit():
        return  # "auto", "ray://...": left to Ray
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout).close()
    except OSError as exc:
        raise EngineError(
            f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}"
        ) from None


def _summary(error: BaseException) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[-1].strip() if lines else type(error).__name__
