"""Ordered, memory-bounded parallel map over worker processes.

Image work (tile, augment, render) decodes and encodes in workers while the main process
reads and writes tarballs in order; a fixed window of tasks in flight keeps memory flat and
results come back in input order, so output bytes do not depend on the number of jobs.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import select
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing.reduction import ForkingPickler
from typing import TypeVar

from mira.errors import ValidationError

T = TypeVar("T")
R = TypeVar("R")


def resolve_jobs(jobs: int | None) -> int:
    """`None` means every core this process may use."""
    if jobs is None:
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # not on Linux
            return max(1, os.cpu_count() or 1)
    if jobs < 1:
        raise ValidationError(f"jobs must be at least 1, got {jobs}")
    return jobs


def _set_opencv_threads(count: int | None) -> int | None:
    """OpenCV threads its own loops over every core; with our own workers that oversubscribes
    the machine, so `jobs` workers each get one thread (and `--jobs N` means N cores).
    Returns the previous setting; None leaves OpenCV alone (and not imported)."""
    if count is None:
        return None
    import cv2

    previous = cv2.getNumThreads()
    cv2.setNumThreads(count)
    return previous


def _pass_ranges_by_reference() -> None:
    """Between our processes, an image left in its tarball travels as (path, device,
    inode, offset, size) and the receiver reads it itself: the main process would
    otherwise read, pickle and pipe every image it hands out. (Plain pickling still sends
    the bytes, so a pickle kept on disk never depends on the tarball.)"""
    from mira.core.file_range import OpenFile, reopen
    from mira.core.image import ImageSource, restore_image_source

    ForkingPickler.register(OpenFile, lambda file: (reopen, file.reference()))
    ForkingPickler.register(
        ImageSource, lambda source: (restore_image_source, (source.state_by_reference(),))
    )


def _start_worker(parent: int) -> None:
    _set_opencv_threads(1)
    _pass_ranges_by_reference()
    # Ctrl-C, SIGTERM and SIGHUP sent to the whole process group are for the parent, which
    # ends the pool in order (after the tasks running now); a worker dying at once would
    # only print a traceback and break the pool.
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(parent,), name="mira-parent", daemon=True).start()


def _exit_with(parent: int) -> None:
    """End this worker when `parent` ends, even by SIGKILL: the pool's workers wait for
    tasks forever, and keep the forkserver and the resource tracker alive with them."""
    try:
        handle: int | None = os.pidfd_open(parent)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):  # no pidfd (not Linux, or before 5.3)
        handle = None
    if handle is not None:
        waiting = select.poll()
        waiting.register(handle, select.POLLIN)
        waiting.poll()
        os._exit(1)
    while True:  # look once a second
        time.sleep(1)
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # alive, though not ours to signal
            pass


def _call(func: Callable[[T], R], task: bytes) -> R:
    """A worker's task, unpickled here rather than by the pool: an error doing so (its
    tarball gone meanwhile, see `reopen`) is then this task's error, raised in the parent,
    instead of the end of the worker and of the whole pool."""
    return func(pickle.loads(task))


def ordered_map(
    func: Callable[[T], R],
    items: Iterable[T],
    jobs: int | None = None,
    in_flight: int | None = None,
) -> Iterator[R]:
    """`map(func, items)` over `jobs` processes, at most `in_flight` tasks pending at once.

    `func` must be a module-level function (it is pickled). With one job it runs inline.
    """
    workers = resolve_jobs(jobs)
    if workers == 1:
        previous = _set_opencv_threads(1)
        try:
            yield from map(func, items)
        finally:
            _set_opencv_threads(previous)
        return
    limit = in_flight or workers * 4
    # Not "fork": a child forked after OpenCV started its thread pool can deadlock.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    _pass_ranges_by_reference()
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(os.getpid(),),
    )
    owner = threading.current_thread()
    window: deque[Future[R]] = deque()
    try:
        for item in items:
            window.append(pool.submit(_call, func, bytes(ForkingPickler.dumps(item))))
            if len(window) >= limit:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()
    finally:
        # A generator left to the garbage collector may be closed in the pool's own
        # thread, which cannot wait for itself.
        pool.shutdown(wait=threading.current_thread() is owner, cancel_futures=True)
