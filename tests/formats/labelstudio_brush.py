"""A Label Studio brush encoder for tests, written from the format's description (the
library only decodes): the stream `mira.formats.labelstudio_rle` documents."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _fields(*pairs: tuple[int, int]) -> str:
    return "".join(format(value, f"0{width}b") for value, width in pairs)


def encode(
    values: Sequence[int], word: int = 8, sizes=(3, 4, 8, 16), group: bool = False
) -> list[int]:
    """Bytes packing `values`: a repeat block for every run longer than one and, for
    single values, one literal block each (Label Studio's own encoder) or, with `group`,
    one literal block for each stretch of them."""
    values = [int(v) for v in values]
    bits = [_fields((len(values), 32), (word - 1, 5), *((s - 1, 4) for s in sizes))]
    runs = []
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[i]:
            j += 1
        runs.append((values[i], j - i + 1))
        i = j + 1
    singles: list[int] = []

    def flush() -> None:
        while singles:
            chunk, singles[:] = singles[: 1 << sizes[-1]], singles[1 << sizes[-1] :]
            index = next(k for k, s in enumerate(sizes) if len(chunk) - 1 < 1 << s)
            bits.append(_fields((0, 1), (index, 2), (len(chunk) - 1, sizes[index])))
            bits.append("".join(format(v, f"0{word}b") for v in chunk))

    for value, length in runs:
        if length == 1:
            singles.append(value)
            if not group:
                flush()
            continue
        flush()
        while length:
            part = min(length, 1 << sizes[-1])
            index = next(k for k, s in enumerate(sizes) if part - 1 < 1 << s)
            bits.append(_fields((1, 1), (index, 2), (part - 1, sizes[index]), (value, word)))
            length -= part
    flush()
    stream = "".join(bits)
    stream += "0" * (-len(stream) % 8)
    return [int(stream[k : k + 8], 2) for k in range(0, len(stream), 8)]


def brush(mask: np.ndarray, group: bool = False) -> list[int]:
    """The RLE of a bool mask drawn as Label Studio does: RGBA, every channel 255 where on."""
    rgba = np.repeat(np.asarray(mask, dtype=np.uint8) * 255, 4)
    return encode(rgba.tolist(), group=group)
