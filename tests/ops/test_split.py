"""split_indices: exact sizes, whole groups, balanced strata, reproducible everywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mira.errors import ValidationError
from mira.ops.split import largest_remainder, split_indices

SETTINGS = settings(max_examples=60, deadline=None)


@st.composite
def size_lists(draw, max_parts=5):
    raw = draw(st.lists(st.integers(1, 100), min_size=1, max_size=max_parts))
    return [r / sum(raw) for r in raw]


def reference_sizes(sizes, n):
    """Independent largest-remainder rounding: floors, then largest remainders, low index."""
    shares = [Fraction(s) * n / sum(Fraction(x) for x in sizes) for s in sizes]
    counts = [int(s) for s in shares]
    for i in sorted(range(len(sizes)), key=lambda i: (counts[i] - shares[i], i)):
        if sum(counts) < n:
            counts[i] += 1
    return counts


def assert_partition(parts, n):
    flat = [i for part in parts for i in part]
    assert sorted(flat) == list(range(n))  # disjoint, and the union is the input
    for part in parts:
        assert part == sorted(part)  # input order kept inside a part


@SETTINGS
@given(n=st.integers(0, 300), sizes=size_lists(), seed=st.integers(0, 2**32))
def test_plain_split_is_an_exact_partition(n, sizes, seed):
    parts = split_indices(n, sizes, random_state=seed)
    assert_partition(parts, n)
    assert [len(p) for p in parts] == reference_sizes(sizes, n)


@SETTINGS
@given(
    labels=st.lists(st.integers(0, 6), min_size=1, max_size=300),
    sizes=size_lists(),
    seed=st.integers(0, 2**32),
)
def test_stratified_split_is_exact_and_rounds_every_stratum(labels, sizes, seed):
    n = len(labels)
    parts = split_indices(n, sizes, random_state=seed, stratify=labels)
    assert_partition(parts, n)
    targets = reference_sizes(sizes, n)
    assert [len(p) for p in parts] == targets
    # Each (stratum, part) cell is the floor or the ceiling of its ideal share.
    for label, total in Counter(labels).items():
        for part, target in zip(parts, targets, strict=True):
            count = sum(1 for i in part if labels[i] == label)
            assert abs(count - Fraction(total * target, n)) < 1


@SETTINGS
@given(
    groups=st.lists(st.integers(0, 40), min_size=1, max_size=300),
    sizes=size_lists(max_parts=4),
    seed=st.integers(0, 2**32),
    stratified=st.booleans(),
)
def test_groups_stay_whole_and_parts_are_near_their_targets(groups, sizes, seed, stratified):
    n = len(groups)
    stratify = [g % 3 for g in groups] if stratified else None
    parts = split_indices(n, sizes, random_state=seed, group=groups, stratify=stratify)
    assert_partition(parts, n)
    owner = {}
    for index, part in enumerate(parts):
        for i in part:
            assert owner.setdefault(groups[i], index) == index
    biggest = max(Counter(groups).values())
    for part, target in zip(parts, reference_sizes(sizes, n), strict=True):
        assert abs(len(part) - target) < biggest


@SETTINGS
@given(
    labels=st.lists(st.frozensets(st.sampled_from("abcdef"), max_size=3), min_size=1, max_size=200),
    sizes=size_lists(max_parts=4),
    seed=st.integers(0, 2**32),
)
def test_multilabel_split_is_exact(labels, sizes, seed):
    n = len(labels)
    parts = split_indices(n, sizes, random_state=seed, stratify=labels)
    assert_partition(parts, n)
    assert [len(p) for p in parts] == reference_sizes(sizes, n)


@pytest.mark.parametrize("seed", range(5))
def test_1000_scenes_in_200_groups_land_within_the_largest_group(seed):
    rng = np.random.default_rng(100 + seed)
    counts = rng.integers(1, 11, size=200)
    groups = [int(g) for g in np.repeat(np.arange(200), counts)]
    rng.shuffle(groups)
    sizes = [0.7, 0.15, 0.15]
    parts = split_indices(len(groups), sizes, random_state=seed, group=groups)
    for part, target in zip(parts, reference_sizes(sizes, len(groups)), strict=True):
        assert abs(len(part) - target) <= counts.max()


def test_known_groups_fill_their_quotas_exactly():
    groups = [int(g) for g in np.repeat(np.arange(200), np.arange(200) % 10 + 1)]
    parts = split_indices(len(groups), [0.7, 0.15, 0.15], group=groups)
    assert len(groups) == 1100
    assert [len(p) for p in parts] == [770, 165, 165]


@SETTINGS
@given(n=st.integers(0, 120), sizes=size_lists(), seed=st.integers(0, 2**32))
def test_same_seed_gives_identical_parts(n, sizes, seed):
    groups = [i // 3 for i in range(n)]
    labels = [i % 4 for i in range(n)]
    first = split_indices(n, sizes, random_state=seed, group=groups, stratify=labels)
    assert split_indices(n, sizes, random_state=seed, group=groups, stratify=labels) == first


@SETTINGS
@given(
    n=st.integers(30, 200),
    seeds=st.lists(st.integers(0, 2**32), min_size=2, max_size=2, unique=True),
)
def test_different_seeds_give_different_parts(n, seeds):
    first, second = (split_indices(n, [0.5, 0.5], random_state=s) for s in seeds)
    assert first != second


def test_examples_with_exact_values():
    assert split_indices(10, [0.7, 0.15, 0.15]) == [[0, 2, 3, 4, 5, 6, 7], [1, 9], [8]]
    assert [len(p) for p in split_indices(3, [0.5, 0.5])] == [2, 1]
    assert largest_remainder([0.7, 0.15, 0.15], 10) == [7, 2, 1]
    assert largest_remainder([1 / 3] * 3, 4) == [2, 1, 1]
    assert split_indices(0, [0.5, 0.5]) == [[], []]
    assert split_indices(["a", "b"], [1.0]) == [[0, 1]]


def test_preserved_items_go_first_and_the_rest_fill_the_quotas():
    preserve = [1, None, None, 1, None, None, None, None, None, None]
    parts = split_indices(10, [0.5, 0.5], random_state=3, preserve=preserve)
    assert_partition(parts, 10)
    assert {0, 3} <= set(parts[1])
    assert [len(p) for p in parts] == [5, 5]
    # Over-preserved part: the others share the rest in proportion to what they lack.
    parts = split_indices(6, [0.5, 0.5], preserve=[1, 1, 1, 1, None, None])
    assert parts == [[4, 5], [0, 1, 2, 3]]
    parts = split_indices(4, [0.5, 0.5], preserve=[-1, None, None, None])
    assert 0 in parts[1]


def test_a_preserved_item_brings_its_group_along():
    groups = ["a", "a", "b", "b", "c", "c"]
    parts = split_indices(6, [0.5, 0.5], group=groups, preserve=[None, 0, None, None, None, None])
    assert {0, 1} <= set(parts[0])
    with pytest.raises(ValidationError) as caught:
        split_indices(6, [0.5, 0.5], group=groups, preserve=[0, 1, None, None, None, None])
    assert str(caught.value) == "group 'a' has items preserved in parts 0 and 1"


def test_inputs_are_not_modified():
    labels = [{"a", "b"}, {"b"}, ["c"], {"a"}] * 5
    groups = [i // 2 for i in range(20)]
    preserve = [None] * 19 + [0]
    copies = (
        [set(x) if isinstance(x, set) else list(x) for x in labels],
        list(groups),
        list(preserve),
    )
    split_indices(20, [0.6, 0.4], stratify=labels, group=groups, preserve=preserve)
    assert (labels, groups, preserve) == copies


def test_multilabel_strata_follow_the_sizes():
    rng = np.random.default_rng(7)
    names = "abcdefgh"
    labels = [
        frozenset(rng.choice(list(names), size=rng.integers(0, 4), replace=False))
        for _ in range(1000)
    ]
    parts = split_indices(1000, [0.7, 0.15, 0.15], stratify=labels)
    assert [len(p) for p in parts] == [700, 150, 150]
    for name in names:
        total = sum(name in x for x in labels)
        for part, size in zip(parts, [0.7, 0.15, 0.15], strict=True):
            assert abs(sum(name in labels[i] for i in part) - size * total) < 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sizes": [0.5, 0.4]}, "sizes must sum to 1, got 0.9 (0.5 + 0.4)"),
        ({"sizes": [1.2, -0.2]}, "sizes must be positive, got -0.2"),
        ({"sizes": [1.0, 0.0]}, "sizes must be positive, got 0"),
        ({"sizes": []}, "sizes must not be empty"),
        ({"sizes": ["0.5", 0.5]}, "sizes must be numbers, got '0.5'"),
        ({"stratify": [1, 2]}, "stratify has 2 values but there are 4 items"),
        ({"group": [1]}, "group has 1 values but there are 4 items"),
        ({"preserve": [0, None, 2, None]}, "preserve[2] is 2, but there are 2 parts (valid: 0..1)"),
        ({"preserve": [0, None, "x", None]}, "preserve[2] must be a part index or None, got 'x'"),
        ({"group": [[1], 2, 3, 4]}, "group[0] is not hashable: list"),
        ({"random_state": -1}, "random_state must be a non-negative integer, got -1"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, message):
    arguments = {"sizes": [0.5, 0.5], **kwargs}
    with pytest.raises(ValidationError) as caught:
        split_indices(4, **arguments)
    assert str(caught.value) == message


SNIPPET = """
import json
from mira.ops.split import split_indices
n = 300
labels = [frozenset({"cat%d" % (i % 7), "dog%d" % (i % 5)}) for i in range(n)]
groups = ["video-%d" % (i // 4) for i in range(n)]
strata = ["s%d" % (i % 9) for i in range(n)]
print(json.dumps([
    split_indices(n, [0.6, 0.2, 0.2], random_state=5, stratify=labels, group=groups),
    split_indices(n, [0.6, 0.2, 0.2], random_state=5, stratify=strata),
    split_indices(n, [0.6, 0.2, 0.2], random_state=5, stratify=labels),
]))
"""


def test_identical_in_fresh_processes_with_different_hash_seeds():
    outputs = []
    for hash_seed in ("0", "1", "987654"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", SNIPPET], env=env, capture_output=True, text=True, check=True
        )
        outputs.append(json.loads(result.stdout))
    namespace: dict = {}
    exec(SNIPPET.replace("print(", "result = ("), namespace)  # the same code in this process
    assert outputs[0] == outputs[1] == outputs[2] == json.loads(namespace["result"])


# ---------------------------------------------------------------- collections and tarballs
CATEGORIES = ["dog", "cat", "bird"]


def make_scenes(n=20, video_size=4):
    """Scene i: video v{i // video_size}, i % 4 annotations cycling through the categories,
    an image of its own (duplicate images would be kept in one part)."""
    from mira.core import Annotation, Categories, Scene
    from mira.core.image import encode_image

    cats = Categories(CATEGORIES)
    images = [encode_image(np.full((6, 8, 3), 5 * v, np.uint8), "png") for v in range(n)]
    return [
        Scene(
            cats,
            images[i],
            annotations=[Annotation(cats[(i + j) % 3], j, j, j + 2.5, j + 3) for j in range(i % 4)],
            metadata={"video": f"v{i // video_size}", **({"fixed": "test"} if i == 5 else {})},
            key=f"{i:06d}",
        )
        for i in range(n)
    ]


def write_tarball(path, scenes):
    from mira.formats import SceneWriter

    with SceneWriter(path) as writer:
        for scene in scenes:
            writer.write(scene)
    return str(path)


def members(path):
    import tarfile

    with tarfile.open(path) as archive:
        return {m.name: archive.extractfile(m).read() for m in archive.getmembers()}


def test_collection_split_returns_one_collection_per_size():
    from mira.core import SceneCollection

    collection = SceneCollection(make_scenes(20))
    parts = collection.split([0.5, 0.3, 0.2], stratify="categories", group="metadata.video")
    assert [len(p) for p in parts] == [12, 4, 4]  # targets 10, 6, 4; videos of 4 scenes
    assert all(p.categories == collection.categories for p in parts)
    keys = sorted(s.key for p in parts for s in p)
    assert keys == [s.key for s in collection]
    for part in parts:
        assert len({s.metadata["video"] for s in part}) == len(part) // 4
    plain = collection.split([0.7, 0.3], random_state=1)
    assert [len(p) for p in plain] == [14, 6]
    empty = SceneCollection(make_scenes(1)).split([0.5, 0.5])
    assert [len(p) for p in empty] == [1, 0]
    assert empty[1].categories.names == CATEGORIES


def test_split_file_copies_every_member_and_reports_exact_counts(tmp_path, monkeypatch):
    from mira.core import image as image_module
    from mira.ops.split import split_file

    def no_decoding(*args, **kwargs):
        raise AssertionError("split must not decode images")

    monkeypatch.setattr(image_module.ImageSource, "decode", no_decoding)
    monkeypatch.setattr(image_module, "decode_image", no_decoding)
    source = write_tarball(tmp_path / "data.tar", make_scenes(20))
    report = split_file(source, [0.5, 0.5], random_state=3)
    paths = [str(tmp_path / "data-train.tar"), str(tmp_path / "data-test.tar")]
    assert [p["path"] for p in report["parts"]] == paths
    original = members(source)
    written = [members(p) for p in paths]
    assert sorted(written[0].keys() | written[1].keys()) == sorted(original)
    assert not written[0].keys() & written[1].keys()
    for part in written:
        assert list(part) == [name for name in original if name in part]  # input order
        assert all(part[name] == original[name] for name in part)  # bytes copied as they came
    assert report["scenes"] == 20
    assert report["annotations"] == 30
    assert report["categories"] == CATEGORIES
    assert [p["scenes"] for p in report["parts"]] == [10, 10]
    assert [p["target"] for p in report["parts"]] == [10, 10]
    assert report["groups"] is None
    for name in CATEGORIES:
        counts = [p["categories"][name]["annotations"] for p in report["parts"]]
        assert sum(counts) == 10
        shares = [p["categories"][name]["percent"] for p in report["parts"]]
        assert shares == [round(100 * c / 10, 2) for c in counts]
    assert sum(p["annotations"] for p in report["parts"]) == 30


def test_split_file_with_group_stratify_and_preserve(tmp_path):
    from mira.ops.split import split_file

    source = write_tarball(tmp_path / "data.tar", make_scenes(40))
    report = split_file(
        source,
        [0.7, 0.15, 0.15],
        stratify="categories",
        group="metadata.video",
        preserve="metadata.fixed",
    )
    assert report["groups"] == {"key": "metadata.video", "count": 10, "crossing": 0, "ok": True}
    assert [p["scenes"] for p in report["parts"]] == [28, 8, 4]  # targets 28, 6, 6
    # groups of 4 scenes may put a part 3 scenes off its target
    assert report["sanity"] == {"empty": [], "off_target": [], "tolerance": 3, "ok": True}
    assert [p["preserved"] for p in report["parts"]] == [0, 0, 1]
    test_keys = {name for name in members(str(tmp_path / "data-test.tar"))}
    assert {"000004.json", "000005.json", "000006.json", "000007.json"} <= test_keys


def test_split_file_leaves_nothing_when_writing_fails(tmp_path, monkeypatch):
    from mira.formats import SceneWriter
    from mira.ops.split import split_file

    source = write_tarball(tmp_path / "data.tar", make_scenes(20))
    original = SceneWriter.write_stored
    calls = []

    def failing_write(self, stored):
        calls.append(stored.record["key"])
        if len(calls) == 12:
            raise OSError("disk full")
        return original(self, stored)

    monkeypatch.setattr(SceneWriter, "write_stored", failing_write)
    with pytest.raises(OSError, match="disk full"):
        split_file(source, [0.5, 0.3, 0.2])
    assert sorted(os.listdir(tmp_path)) == ["data.tar"]


def test_split_file_removes_committed_parts_when_a_later_commit_fails(tmp_path, monkeypatch):
    from mira.formats import SceneWriter
    from mira.ops.split import split_file

    source = write_tarball(tmp_path / "data.tar", make_scenes(10))
    original = SceneWriter.close

    def close(self):
        if self.path.endswith("-test.tar"):
            raise OSError("no space left")
        original(self)

    monkeypatch.setattr(SceneWriter, "close", close)
    with pytest.raises(OSError, match="no space left"):
        split_file(source, [0.5, 0.3, 0.2])
    assert sorted(os.listdir(tmp_path)) == ["data.tar"]


def test_split_file_reads_standard_input_through_a_temporary_copy(tmp_path, monkeypatch):
    import io
    import tempfile

    from mira.ops.split import split_file

    source = write_tarball(tmp_path / "data.tar", make_scenes(10))
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    with open(source, "rb") as handle:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(handle.read())))
    out = tmp_path / "out"
    out.mkdir()
    report = split_file("-", [0.5, 0.5], out_dir=str(out))
    assert sorted(os.listdir(out)) == ["split-test.tar", "split-train.tar"]
    assert [p["scenes"] for p in report["parts"]] == [5, 5]
    assert os.listdir(spool) == []
    direct = split_file(source, [0.5, 0.5], out_dir=str(tmp_path), names=["a", "b"])
    assert members(str(out / "split-train.tar")) == members(direct["parts"][0]["path"])


def test_part_names_and_output_paths():
    from mira.ops.split import output_paths, part_names

    assert part_names(None, 2) == ["train", "test"]
    assert part_names([], 3) == ["train", "val", "test"]
    assert part_names(None, 4) == ["part0", "part1", "part2", "part3"]
    assert part_names(None, 1) == ["part0"]
    assert output_paths(["d/x.tar"], ["a", "b"], None) == ["d/x-a.tar", "d/x-b.tar"]
    assert output_paths(["x.tar.gz"], ["a"], None) == ["x-a.tar"]
    shards = ["d/big-000000.tar", "d/big-000001.tar"]
    assert output_paths(shards, ["a"], None) == ["d/big-a.tar"]
    assert output_paths(["-"], ["a"], None) == ["./split-a.tar"]
    for names, message in [
        (["a"], "1 names given for 2 sizes"),
        (["a", "a"], "part names must be unique, got a a"),
        (["a", "b/c"], "part name 'b/c' cannot be used in a file name"),
        (["", "b"], "part name '' cannot be used in a file name"),
    ]:
        with pytest.raises(ValidationError) as caught:
            part_names(names, 2)
        assert str(caught.value) == message
