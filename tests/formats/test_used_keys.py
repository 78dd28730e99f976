"""The writer's key set behaves as a set of strings, in bits for (prefixed) numbered keys."""

from hypothesis import given
from hypothesis import strategies as st

from mira.formats.used_keys import KeySet

numbered = st.integers(0, 10**12).flatmap(
    lambda n: st.integers(0, 4).map(lambda pad: str(n).zfill(len(str(n)) + pad))
)
keys = (
    numbered
    | st.sampled_from(["a", "007", "7", "٣", "0x1", "1_0", "+1", " 1", "a7", "a07", "a٣7"])
    | st.tuples(st.sampled_from(["", "cam1-", "x"]), numbered).map("".join)
    | st.text(max_size=6)
)


@given(st.lists(keys, max_size=60))
def test_add_tells_new_keys_from_repeated_ones(items: list[str]) -> None:
    seen: set[str] = set()
    key_set = KeySet()
    for key in items:
        assert key_set.add(key) == (key not in seen)
        seen.add(key)


def test_numbered_keys_take_bits_not_strings() -> None:
    import tracemalloc

    tracemalloc.start()
    try:
        key_set = KeySet()
        assert all(key_set.add(f"{i:06d}") for i in range(200_000))
        assert not key_set.add("199999") and key_set.add("0199999") and key_set.add("200000")
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held < 100_000  # a set of these strings holds about 16 MB


def test_prefixed_numbered_keys_take_bits_too() -> None:
    import tracemalloc

    tracemalloc.start()
    try:
        key_set = KeySet()
        for prefix in ("cam1-", "cam2-"):
            assert all(key_set.add(f"{prefix}{i:06d}") for i in range(100_000))
        assert not key_set.add("cam2-099999") and key_set.add("cam3-099999")
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held < 100_000
