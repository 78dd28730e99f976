"""One big JSON object read as a stream: its members one after another, and a member that is
an array element by element, so that memory holds one element, never the whole document.

Values are parsed by the standard library (`json.JSONDecoder.raw_decode` on a window of the
text that slides along the file), so they, and the messages of bad JSON, are exactly those
of `json.loads`; positions are counted from the start of the file. Only the top-level
object and the array being streamed are walked here, with the messages `json` gives for
them (Python 3.10-3.12 wording).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import IO, Any

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_TAIL = 16  # an error this close to the end of the window may come from cutting a value
_DECODER = json.JSONDecoder()


class JsonStreamError(ValueError):
    """Bad JSON: `json`'s message, and the 1-based line and column in the file."""

    def __init__(self, msg: str, lineno: int, colno: int) -> None:
        super().__init__(f"{msg}: line {lineno} column {colno}")
        self.msg, self.lineno, self.colno = msg, lineno, colno


class JsonStream:
    """A cursor over the text of `handle` (opened as text with ``newline=""``).

    Call `start_object`, then `next_key` until it gives None, reading each member with
    `value`, `elements` or `skip`; then `end`. Reading may raise `JsonStreamError`, and
    whatever `handle.read` raises (e.g. UnicodeDecodeError).
    """

    def __init__(self, handle: IO[str], chunk: int = 1 << 16) -> None:
        self._handle = handle
        self._chunk = chunk  # characters read at a time (more while a value is bigger)
        self._text = ""  # the window: characters from absolute position `_base` on
        self._base = 0
        self._at = 0  # the cursor, an index into `_text`
        self._line = 1  # the line at `_base`, and where that line starts (absolute)
        self._line_start = 0
        self._eof = False
        self._first = True  # before the first member of the object

    # -------------------------------------------------------------------- the window

    def _more(self) -> bool:
        """Read on (at least as much as is left after the cursor); False at the end."""
        if self._eof:
            return False
        chunk = self._handle.read(max(self._chunk, len(self._text) - self._at))
        if not chunk:
            self._eof = True
            return False
        if self._at > self._chunk:  # forget what the cursor has passed
            newlines = self._text.count("\n", 0, self._at)
            if newlines:
                self._line += newlines
                self._line_start = self._base + self._text.rindex("\n", 0, self._at) + 1
            self._base += self._at
            self._text = self._text[self._at :]
            self._at = 0
        self._text += chunk
        return True

    def _error(self, msg: str, index: int) -> JsonStreamError:
        text = self._text
        newlines = text.count("\n", 0, index)
        if newlines:
            return JsonStreamError(msg, self._line + newlines, index - text.rindex("\n", 0, index))
        return JsonStreamError(msg, self._line, self._base + index - self._line_start + 1)

    def _peek(self) -> str:
        """The next character after whitespace ("" at the end of the file), not consumed."""
        while True:
            self._at = _WHITESPACE.match(self._text, self._at).end()  # type: ignore[union-attr]
            if self._at < len(self._text):
                return self._text[self._at]
            if not self._more():
                return ""

    def _parse(self, parse: Any) -> Any:
        """`parse(text, index)` → (value, end) at the cursor, reading on while the value
        may have been cut off by the end of the window."""
        while True:
            try:
                value, end = parse(self._text, self._at)
            except json.JSONDecodeError as exc:
                cut = exc.pos >= len(self._text) - _TAIL or exc.msg.startswith("Unterminated")
                if cut and self._more():
                    continue
                raise self._error(exc.msg, exc.pos) from None
            if end + _TAIL > len(self._text) and self._more():  # a number may go on ("1." + "5")
                continue
            self._at = end
            return value

    # -------------------------------------------------------------------- the walk

    def start_object(self) -> bool:
        """Enter the top-level value: True if it is an object (then read its members)."""
        if self._peek() != "{":
            return False
        self._at += 1
        return True

    def next_key(self) -> str | None:
        """The key of the next member (its ":" read), or None after the object's "}"."""
        char = self._peek()
        if self._first:
            self._first = False
            if char == "}":
                self._at += 1
                return None
        else:
            if char == "}":
                self._at += 1
                return None
            if char != ",":
                raise self._error("Expecting ',' delimiter", self._at)
            self._at += 1
            char = self._peek()
        if char != '"':
            raise self._error("Expecting property name enclosed in double quotes", self._at)
        self._at += 1
        key = self._parse(json.decoder.scanstring)  # type: ignore[attr-defined]
        if self._peek() != ":":
            raise self._error("Expecting ':' delimiter", self._at)
        self._at += 1
        return key

    def peek(self) -> str:
        """The first character of the member's value ("[" for an array, ...)."""
        return self._peek()

    def value(self) -> Any:
        """The member's value, whole."""
        self._peek()
        return self._parse(_DECODER.raw_decode)

    def elements(self) -> Iterator[Any]:
        """The elements of the member's value, an array (check `peek` first), one by one."""
        if self._peek() != "[":
            raise self._error("Expecting value", self._at)
        self._at += 1
        if self._peek() == "]":
            self._at += 1
            return
        while True:
            yield self.value()
            char = self._peek()
            if char != "]" and char != ",":
                raise self._error("Expecting ',' delimiter", self._at)
            self._at += 1
            if char == "]":
                return

    def skip(self) -> None:
        """Read past the member's value; an array is read one element at a time."""
        if self._peek() == "[":
            for _ in self.elements():
                pass
        else:
            self.value()

    def end(self) -> None:
        """Check that only whitespace follows the top-level value."""
        if self._peek():
            raise self._error("Extra data", self._at)

    def whole(self) -> Any:
        """The top-level value when it is not an object, parsed as `json.loads` would."""
        value = self.value()
        self.end()
        return value
