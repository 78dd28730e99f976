"""Reading a COCO JSON file as a stream: memory stays flat whatever the image count.

A COCO instances file is one JSON object whose big members, ``images`` and
``annotations``, can be hundreds of megabytes, and whose ``categories`` usually come last.
It is read in passes, none of which holds the document (ijson's C parser, one item at a
time):

* the **head**: the small top-level members before the first big one (``info``,
  ``licenses``, and ``categories`` when a tool writes them first, as mira does);
* the **tail**: when ``categories`` is the last member (as COCO's own files have it), it
  is read from the end of the file alone; otherwise a pass looks for it;
* the **annotation index**: one pass over the annotations, each written in Python's
  `marshal` form to an anonymous temporary file, keeping in memory only its image id and
  where it ends (16 bytes an annotation);
* the **images**, one by one, each handed its annotations from the index; when they come
  before the annotations (COCO's order), the file is read only up to where the
  annotation pass found its first annotation.
"""

from __future__ import annotations

import json
import marshal
import os
import re
import tempfile
from array import array
from collections.abc import Iterator
from typing import Any

import numpy as np
from ijson.common import JSONError, ObjectBuilder

from mira.errors import FormatError
from mira.formats.json_depth import CHUNK, DepthGuard

#: Top-level members too big to build in memory; the head stops at the first of them.
BIG_MEMBERS = ("images", "annotations")
#: How much of the end of the file the tail read looks at, at most.
_TAIL_LIMIT = 16 << 20
_TRAILER = re.compile(rb"\s*}\s*\Z")


def _ijson() -> Any:
    import ijson

    try:
        return ijson.get_backend("yajl2_c")  # the C parser: the others are many times slower
    except ImportError:  # pragma: no cover - wheels ship it on every common platform
        return ijson


def _json_error(path: str, exc: Exception) -> FormatError:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return FormatError(f"{path}: invalid JSON: {message}")


def _open(path: str) -> Any:
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise FormatError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise FormatError(f"{path}: is a directory, not a COCO JSON file") from None
    except OSError as exc:
        raise FormatError(f"{path}: cannot read: {exc.strerror}") from None


def read_head(path: str) -> tuple[dict[str, Any], str | None]:
    """The top-level members before the first big one, and the name of that one (None
    when the document ended first: then every member was read). The top level must be an
    object."""
    ijson = _ijson()
    members: dict[str, Any] = {}
    with _open(path) as f:
        events = ijson.parse(DepthGuard(f, path), use_float=True, buf_size=CHUNK)
        try:
            first = next(events, None)
            if first is None or first[1] != "start_map":
                kind = "empty" if first is None else first[1].replace("start_", "")
                hint = " (a results list goes with --results)" if kind == "array" else ""
                raise FormatError(
                    f"{path}: not a COCO file: the top level must be an object, got {kind}{hint}"
                )
            builder: ObjectBuilder | None = None
            key = ""
            for prefix, event, value in events:
                if prefix == "" and event in ("map_key", "end_map"):
                    if builder is not None:
                        members[key] = builder.value
                        builder = None
                    if event == "end_map":
                        return members, None
                    key = value
                    if key in BIG_MEMBERS:
                        return members, key
                    builder = ObjectBuilder()
                elif builder is not None:
                    builder.event(event, value)
        except JSONError as exc:
            raise _json_error(path, exc) from None
    raise _json_error(path, ValueError("premature end of the document"))


def read_tail_member(path: str, name: str) -> Any:
    """The value of top-level member `name` when it is the document's last member, read
    from the end of the file alone; None when it is not found there.

    A match is ``"name"`` (its quote not escaped, so it opens a string: the key) followed
    by ``:``, one JSON value and the closing ``}`` of the document; that brace closes the
    object holding the key, which is therefore the top level. The passes over the rest of
    the file check that the whole document is valid JSON.
    """
    needle = json.dumps(name).encode()
    size = os.path.getsize(path)
    window = min(size, 1 << 16)
    with _open(path) as f:
        while True:
            f.seek(size - window)
            data = f.read(window)
            found = _match_tail(data, needle, window == size)
            if found is not _NOT_FOUND or window == min(size, _TAIL_LIMIT):
                return None if found is _NOT_FOUND else found
            window = min(size, window * 8, _TAIL_LIMIT)


_NOT_FOUND = object()
_DECODER = json.JSONDecoder()


def _match_tail(data: bytes, needle: bytes, whole: bool) -> Any:
    end = len(data)
    while True:
        at = data.rfind(needle, 0, end)
        if at < 0:
            return _NOT_FOUND
        end = at
        backslashes = 0
        while at - backslashes > 0 and data[at - backslashes - 1] == 0x5C:
            backslashes += 1
        if backslashes % 2 or (at - backslashes == 0 and not whole):
            continue  # an escaped quote, or the window may start inside a string
        try:
            text = data[at + len(needle) :].decode("utf-8")
        except UnicodeDecodeError:
            continue
        colon = len(text) - len(text.lstrip())
        if text[colon : colon + 1] != ":":
            continue
        start = colon + 1
        start += len(text[start:]) - len(text[start:].lstrip())
        try:
            value, stop = _DECODER.raw_decode(text, start)
        except (ValueError, RecursionError):
            continue
        if _TRAILER.fullmatch(text[stop:].encode()):
            return value


def find_member(path: str, name: str) -> Any:
    """Top-level member `name` wherever it is (a full pass when it comes late); None if
    the document has none."""
    ijson = _ijson()
    with _open(path) as f:
        try:
            for value in ijson.items(DepthGuard(f, path), name, use_float=True, buf_size=CHUNK):
                return value
        except JSONError as exc:
            raise _json_error(path, exc) from None
    return None


class Reader:
    """A binary file read through: counts the bytes read, and can end early at `limit`."""

    def __init__(self, file: Any, limit: int | None = None) -> None:
        self.file, self.limit, self.position = file, limit, 0

    @property
    def stopped(self) -> bool:
        return self.limit is not None and self.position >= self.limit

    def read(self, size: int = -1) -> bytes:
        if self.limit is not None:
            left = self.limit - self.position
            size = left if size < 0 else min(size, left)
            if size <= 0:
                return b""
        data = self.file.read(size)
        self.position += len(data)
        return data


def iter_items(path: str, prefix: str, stop_at: int | None = None) -> Iterator[Any]:
    """The items of the array at `prefix` (``images.item``, ``item``...), one at a time.

    With `stop_at`, the file is read only up to that offset, which must lie past the
    array's end in a document already known to be valid (its items are all yielded before
    the parser notices the document was cut)."""
    ijson = _ijson()
    with _open(path) as f:
        reader = Reader(DepthGuard(f, path), stop_at)
        try:
            yield from ijson.items(reader, prefix, use_float=True, buf_size=CHUNK)
        except JSONError as exc:
            if not reader.stopped:
                raise _json_error(path, exc) from None


class AnnotationIndex:
    """Every annotation of a file, spilled to an anonymous temporary file, found by image.

    Memory: the image id and end offset of each annotation (two int64), plus one bool each
    to tell which annotations an image took, so that those left over can be reported.
    """

    def __init__(self, path: str, prefix: str, where: str) -> None:
        self.path, self.where = path, where
        self._spill = tempfile.TemporaryFile(prefix="mira-coco-")
        #: The category ids the annotations name (so that unused categories are known).
        self.category_ids: set[Any] = set()
        #: Bytes of the file read when the first annotation came: the annotations start
        #: before, so an array that comes before them ends before it too.
        self.first_read: int | None = None
        ijson = _ijson()
        with _open(path) as f:
            reader = Reader(DepthGuard(f, path))
            try:
                items = ijson.items(reader, prefix, use_float=True, buf_size=CHUNK)
                self._spill_all(items, reader)
            except JSONError as exc:
                raise _json_error(path, exc) from None

    def _spill_all(self, annotations: Iterator[Any], reader: Reader) -> None:
        path, where = self.path, self.where
        image_ids, ends = array("q"), array("q")
        categories = self.category_ids
        position = 0
        write = self._spill.write
        for index, annotation in enumerate(annotations):
            if index == 0:
                self.first_read = reader.position
            if type(annotation) is not dict:
                raise FormatError(f"{path}: {where}[{index}]: an annotation must be an object")
            image_id = annotation.get("image_id")
            if type(image_id) is not int:
                raise FormatError(
                    f"{path}: {where}[{index}]: image_id must be an integer, got {image_id!r}"
                )
            category_id = annotation.get("category_id")
            if type(category_id) is int and category_id not in categories:
                categories.add(category_id)
            data = marshal.dumps(annotation)
            write(data)
            position += len(data)
            try:
                image_ids.append(image_id)
            except OverflowError:
                raise FormatError(
                    f"{path}: {where}[{index}]: image_id {image_id} is out of range"
                ) from None
            ends.append(position)
        self._spill.flush()
        self.count = len(ends)
        self._ends = np.frombuffer(ends, dtype=np.int64) if ends else np.zeros(0, np.int64)
        ids = np.frombuffer(image_ids, dtype=np.int64) if ends else np.zeros(0, np.int64)
        self._order = np.argsort(ids, kind="stable")
        self._sorted_ids = ids[self._order]
        self._taken = np.zeros(self.count, dtype=bool)

    def take(self, image_id: int) -> list[tuple[int, dict[str, Any]]]:
        """(index in the file, annotation) of every annotation of `image_id`, in file order."""
        low = int(np.searchsorted(self._sorted_ids, image_id, "left"))
        high = int(np.searchsorted(self._sorted_ids, image_id, "right"))
        if low == high:
            return []
        found = []
        fd = self._spill.fileno()
        for index in self._order[low:high].tolist():
            start = int(self._ends[index - 1]) if index else 0
            data = os.pread(fd, int(self._ends[index]) - start, start)
            found.append((index, marshal.loads(data)))
        self._taken[self._order[low:high]] = True
        return found

    def first_left_over(self) -> tuple[int, int] | None:
        """(index, image id) of the first annotation no image took, if any."""
        left = np.flatnonzero(~self._taken)
        if not len(left):
            return None
        index = int(left[0])
        return index, int(self._sorted_ids[np.flatnonzero(self._order == index)[0]])

    def close(self) -> None:
        self._spill.close()
