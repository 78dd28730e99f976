"""The keys a writer has used, so that a second scene under one key is refused, in memory that
does not grow with the stream: a million keys in a Python set take about 80 MB.

A key ending in ASCII digits (the writers' own numbering 000000, 000001, ..., or a prefixed
one, cam1-000123) takes one bit, in a bit array per prefix and digit count ("7" and "007"
are different keys); other keys, and numbers too big for the arrays, are kept as strings.
"""

from __future__ import annotations

_DIGITS = "0123456789"
_MAX_NUMBER = 1 << 27  # a bit array holds at most 16 MiB


class KeySet:
    """A set of scene keys that can only grow."""

    def __init__(self) -> None:
        self._bits: dict[tuple[str, int], bytearray] = {}  # bit i set: number i was added
        self._others: set[str] = set()

    def add(self, key: str) -> bool:
        """Add `key`; False when it was there already."""
        prefix = key.rstrip(_DIGITS)
        digits = len(key) - len(prefix)
        number = int(key[len(prefix) :]) if 0 < digits < 10 else _MAX_NUMBER
        if number < _MAX_NUMBER:
            bits = self._bits.setdefault((prefix, digits), bytearray())
            byte, mask = number >> 3, 1 << (number & 7)
            if byte >= len(bits):
                bits.extend(bytes(max(byte + 1, 2 * len(bits)) - len(bits)))
            if bits[byte] & mask:
                return False
            bits[byte] |= mask
            return True
        if key in self._others:
            return False
        self._others.add(key)
        return True
