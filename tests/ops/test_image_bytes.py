"""Duplicate images are found the same way whatever the bucket and chunk sizes."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from mira.ops import image_bytes


def _identity(data: bytes) -> SimpleNamespace:
    return SimpleNamespace(
        size=len(data), file=None, offset=0, digest=hashlib.sha256(data).digest()
    )


@given(
    st.lists(st.sampled_from([b"a", b"b", b"cc", b"dd", b"eee"]), max_size=40), st.integers(1, 5)
)
def test_duplicates_do_not_depend_on_buckets(images, bucket):
    def groups(size: int) -> list:
        original = image_bytes.BUCKET
        image_bytes.BUCKET = size
        try:
            table = image_bytes.ImageBytes()
            for index, data in enumerate(images):
                table.add(f"k{index}", _identity(data))
            return table.duplicates()
        finally:
            image_bytes.BUCKET = original

    expected = {}
    for index, data in enumerate(images):
        expected.setdefault(data, []).append(f"k{index}")
    wanted = sorted(
        (
            {"sha256": hashlib.sha256(d).hexdigest(), "keys": k}
            for d, k in expected.items()
            if len(k) > 1
        ),
        key=lambda group: group["keys"][0],
    )
    assert groups(bucket) == groups(1 << 17) == wanted
