"""Reading one object from storage front to back, as a tar reader does.

fsspec's file objects fetch an object in ranged requests, one at a time: the reader waits
for each block, and the server idles while the reader parses it. Against moto's S3 server
(tests/benchmarks/scaling.py) that made reading 4 shards of 58 MB take 1.3-1.9 s, where one
GET per object whose body arrives in the background while earlier bytes are parsed takes
0.4-0.6 s. So a backend with streamed files (`open_async`: s3fs, HTTP) is read with one
GET, received on fsspec's event loop thread at most `AHEAD` chunks ahead of the reader;
any other falls back to its ranged file object with a large read-ahead block.
"""

from __future__ import annotations

import asyncio
import io
import queue
from typing import Any

#: Bytes asked of the backend at a time, and how many chunks may wait unread: the memory
#: a reader holds (8 MiB) and what lets the server send while the reader parses.
CHUNK = 1 << 20
AHEAD = 8
#: Request size of the ranged fallback: large, so that the request count stays low.
RANGE_BLOCK = 1 << 24


class _Streamed(io.RawIOBase):
    """The body of one streamed read, chunk by chunk, from a task on the backend's loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, handle: Any, first: bytes) -> None:
        self._loop = loop
        self._chunks: queue.SimpleQueue[bytes | BaseException] = queue.SimpleQueue()
        self._current = memoryview(first)
        self._ended = not first
        self._space: asyncio.Semaphore | None = None
        self._task: asyncio.Future[None] | None = None
        if not self._ended:
            self._task = asyncio.run_coroutine_threadsafe(self._receive(handle), loop)

    async def _receive(self, handle: Any) -> None:
        self._space = asyncio.Semaphore(AHEAD)
        try:
            while True:
                await self._space.acquire()
                chunk = await handle.read(CHUNK)
                self._chunks.put(chunk)
                if not chunk:
                    return
        except asyncio.CancelledError:
            _release_response(handle)
            raise
        except BaseException as exc:  # handed to the reader, which raises it
            self._chunks.put(exc)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self._current:
            if self._ended:
                return 0
            item = self._chunks.get()
            if isinstance(item, BaseException):
                self._ended = True
                raise item
            self._loop.call_soon_threadsafe(self._release)
            self._current = memoryview(item)
            if not item:
                self._ended = True
                return 0
        size = min(len(buffer), len(self._current))
        buffer[:size] = self._current[:size]
        self._current = self._current[size:]
        return size

    def _release(self) -> None:
        if self._space is not None:
            self._space.release()

    def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        super().close()


def _release_response(handle: Any) -> None:
    """Close the response of a read stopped early, which fsspec's streamed files keep as
    `r` (HTTP's own close() does this; s3fs's does not)."""
    response = getattr(handle, "r", None)
    if response is not None:
        response.close()


def open_stream(fs: Any, path: str) -> io.RawIOBase:
    """`path` of `fs` as a raw stream (to be buffered in `CHUNK`s by the caller). The
    request is made, and refused for a missing object or bad credentials, before this
    returns."""
    opener = getattr(fs, "open_async", None)
    if getattr(fs, "async_impl", False) and opener is not None:
        from fsspec.asyn import sync

        try:
            handle = sync(fs.loop, opener, path, "rb")
        except NotImplementedError:
            pass
        else:
            return _Streamed(fs.loop, handle, sync(fs.loop, handle.read, CHUNK))
    ranged: io.RawIOBase = fs.open(path, "rb", block_size=RANGE_BLOCK, cache_type="readahead")
    return ranged
