"""Reading one object from storage front to back, as a tar reader does.

fsspec's file objects fetch an object in ranged requests, one at a time, each answered
only when asked for. Against moto's S3 server (tests/benchmarks/object_storage.py) reading
4 shards of 58 MB that way took 2.7 s and 0.58 s of the server's CPU; one GET per object,
its body read as the tar reader goes, takes 1.6 s and 0.17 s (load 3.4 on 2 cores;
docs/benchmarks.md has the latest figures). So a backend with streamed files (`open_async`:
s3fs, HTTP) is read with one GET; while the reader parses, the server keeps sending into
the connection's socket buffers, which is read-ahead enough (a task receiving chunks in the
background measured no faster). Any other backend (gcsfs, memory) falls back to its ranged
file object with a large read-ahead block.
"""

from __future__ import annotations

import io
from typing import Any

from fsspec.asyn import sync  # the cloud extra: imported only once a URL is opened

#: Bytes asked of the backend at a time (the caller's buffer).
CHUNK = 1 << 20
#: Request size of the ranged fallback: large, so that the request count stays low.
RANGE_BLOCK = 1 << 24


class _Streamed(io.RawIOBase):
    """The body of one streamed read, each chunk read on the backend's event loop."""

    def __init__(self, loop: Any, handle: Any, first: bytes) -> None:
        self._loop = loop
        self._handle = handle
        self._current = memoryview(first)
        self._ended = not first

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self._current:
            if self._ended:
                return 0
            chunk = sync(self._loop, self._handle.read, len(buffer))
            if not chunk:
                self._ended = True
                return 0
            self._current = memoryview(chunk)
        size = min(len(buffer), len(self._current))
        buffer[:size] = self._current[:size]
        self._current = self._current[size:]
        return size

    def close(self) -> None:
        if not self._ended and not self.closed:
            self._loop.call_soon_threadsafe(_release_response, self._handle)
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
        try:
            handle = sync(fs.loop, opener, path, "rb")
        except NotImplementedError:
            pass
        else:
            return _Streamed(fs.loop, handle, sync(fs.loop, handle.read, CHUNK))
    ranged: io.RawIOBase = fs.open(path, "rb", block_size=RANGE_BLOCK, cache_type="readahead")
    return ranged
