"""A seeded fuzzer for every reader of mira: mutated inputs must give mira's own errors.

Each `Reader` in `READERS` is one way mira reads outside data, with valid seed inputs to
start from, a mutator that damages them the way real files get damaged (and then some),
and `read`, which runs the reader end to end as a command does, writing its output. For
every case `run_case` checks the only outcomes allowed:

* success, or a `mira.errors.MiraError` of one line naming the input file (or, for an
  ImageError, the image); any other exception is a bug, reported with the reader, seed
  and case number that reproduce it;
* after a failure, no output file; after either, nothing written anywhere but the output
  folder (the input folder, the working folder and the temporary folder stay as they were).

Adding a reader is one entry in `READERS`: a name, its seeds (a function returning file
name → bytes dicts, written into the case's input folder; the first file is the one
mutated, the others, images, stay beside it), a mutator (`mutate_json` for JSON formats,
`mutate_xml` for XML, `mutate_text` for line-based ones, `mutate_bytes` for binary), and
the call that reads the input and writes the output. A `mira import FORMAT` reader is
`import_format(FORMAT)`, named "import FORMAT": tests/reliability/test_fuzz.py checks that
every format in `mira.formats.interchange.IMPORTS` has one, and runs every entry.
"""

from __future__ import annotations

import copy
import io
import json
import math
import os
import random
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mira.errors import ImageError, MiraError

Seed = dict[str, bytes]  # file name in the input folder → content; the first is the input


# ------------------------------------------------------------------------------ mutators
INTERESTING_BYTES = [0, 0xFF, 0x7F, 0x80, 0x20, ord("0"), ord("7"), ord("9"), ord('"'),
                     ord("{"), ord("["), ord("."), ord("/"), ord("\\"), ord("-")]  # fmt: skip


def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    """1 to 8 byte-level damages: flipped bits, odd bytes, cuts, holes, insertions, copies,
    zeroed tar blocks and scribbled octal fields."""
    out = bytearray(data)
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3, 8])):
        if not out:
            out += rng.randbytes(rng.randrange(1, 64))
            continue
        at = rng.randrange(len(out))
        kind = rng.randrange(9)
        if kind == 0:
            out[at] ^= 1 << rng.randrange(8)
        elif kind == 1:
            out[at] = rng.choice(INTERESTING_BYTES)
        elif kind == 2:
            del out[at:]
        elif kind == 3:
            del out[at : at + rng.randrange(1, 700)]
        elif kind == 4:
            out[at:at] = rng.randbytes(rng.randrange(1, 64))
        elif kind == 5:
            start = rng.randrange(len(out))
            out[at:at] = out[start : start + rng.randrange(1, 1024)]
        elif kind == 6:  # a zero block where a tar header may be
            block = at - at % 512
            out[block : block + 512] = bytes(512)
        elif kind == 7:  # octal digits over a header field (sizes, checksums, modes)
            out[at : at + 12] = bytes(rng.choice(b"01234567 \0") for _ in range(12))
        else:
            out[at : at + 4] = rng.choice([b"\xff\xff\xff\x7f", b"\0\0\0\x80", b"9999"])
    return bytes(out)


INTERESTING_VALUES: list[Any] = [
    None, True, False, 0, -1, 1, 2, 0.5, -0.0, 1e-300, 1e308, -1e308, 2**31, 2**63, 10**400,
    math.nan, math.inf, "", "x", "0.5", "..", "../../x", "/", "a/b.jpg", "\u00e9\u0000",
    [], {}, [0], [0.5, 0.5], [[0, 0], [1, 0]], {"x": 0.5}, {"x": 0.5, "y": 2},
    {"width": 2, "height": 2}, [1, 2, 3, 4],
]  # fmt: skip


def _interesting(rng: random.Random) -> Any:
    """A copy of one of INTERESTING_VALUES: later changes to the tree must not change the
    list (or put a list inside itself)."""
    return copy.deepcopy(rng.choice(INTERESTING_VALUES))


def _nodes(tree: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(tree, dict):
        for key, value in tree.items():
            found += _nodes(value, (*path, key))
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            found += _nodes(value, (*path, index))
    return found


def _get(tree: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        tree = tree[step]
    return tree


def _mutate_tree(rng: random.Random, tree: Any) -> Any:
    """One structural change at a random node: gone, replaced, retyped, doubled, renamed."""
    paths = _nodes(tree)
    path = rng.choice(paths)
    if not path:
        return _interesting(rng)
    parent, key = _get(tree, path[:-1]), path[-1]
    kind = rng.randrange(6)
    if kind == 0:  # remove it
        del parent[key]
    elif kind == 1:
        parent[key] = _interesting(rng)
    elif kind == 2:  # another node's value here (a list where a number was, ...)
        parent[key] = json.loads(json.dumps(_get(tree, rng.choice(paths)), allow_nan=True))
    elif kind == 3:  # a number or string of another type
        value = parent[key]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            parent[key] = rng.choice([str(value), value * rng.choice([-1, 10**6, 1e-9]), None])
        else:
            parent[key] = rng.choice([1, "1", [value], {"value": value}])
    elif kind == 4 and isinstance(parent, list):  # one item twice
        parent.insert(key, json.loads(json.dumps(parent[key], allow_nan=True)))
    elif isinstance(parent, dict):  # the key renamed
        parent[rng.choice(["x", "", str(key).upper(), f"{key}2"])] = parent.pop(key)
    return tree


def mutate_json(rng: random.Random, data: bytes) -> bytes:
    """Mostly structural changes to the JSON document (so they get past the parser); now
    and then deep nesting, or damaged bytes."""
    try:
        tree = json.loads(data)
    except ValueError:
        return mutate_bytes(rng, data)
    roll = rng.random()
    if roll < 0.03:  # a document nested deeper than any parser's stack
        text = json.dumps(tree).encode()
        at = rng.randrange(len(text))
        depth = rng.choice([2000, 100_000])
        return text[:at] + b"[" * depth + b"]" * depth + text[at:]
    if roll < 0.15:
        return mutate_bytes(rng, json.dumps(tree).encode())
    for _ in range(rng.choice([1, 1, 2, 3])):
        tree = _mutate_tree(rng, tree)
    return json.dumps(tree, allow_nan=True, ensure_ascii=rng.random() < 0.5).encode()


def mutate_text(rng: random.Random, data: bytes) -> bytes:
    """Line-based formats: lines dropped, doubled, swapped or cut, or damaged bytes."""
    lines = data.split(b"\n")
    if rng.random() < 0.3 or len(lines) < 2:
        return mutate_bytes(rng, data)
    at = rng.randrange(len(lines))
    kind = rng.randrange(4)
    if kind == 0:
        del lines[at]
    elif kind == 1:
        lines.insert(at, lines[at])
    elif kind == 2:
        words = lines[at].split()
        if words:
            words[rng.randrange(len(words))] = str(rng.choice(INTERESTING_VALUES)).encode()
        lines[at] = b" ".join(words)
    else:
        lines[at] = lines[at][: rng.randrange(len(lines[at]) + 1)]
    return b"\n".join(lines)


def mutate_xml(rng: random.Random, data: bytes) -> bytes:
    """One or two changes to the XML tree (an element gone, doubled, renamed, emptied, or
    its text replaced by an odd value); now and then deep nesting, or damaged bytes."""
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        return mutate_bytes(rng, data)
    roll = rng.random()
    if roll < 0.03:
        depth = rng.choice([2000, 100_000])
        at = data.rindex(b"</")
        return data[:at] + b"<a>" * depth + b"</a>" * depth + data[at:]
    if roll < 0.2:
        return mutate_text(rng, data)
    for _ in range(rng.choice([1, 1, 2])):
        pairs = [(parent, child) for parent in root.iter() for child in parent]
        if not pairs:
            break
        parent, child = rng.choice(pairs)
        kind = rng.randrange(5)
        if kind == 0:
            parent.remove(child)
        elif kind == 1:
            parent.insert(list(parent).index(child), copy.deepcopy(child))
        elif kind == 2:
            child.tag = rng.choice(["x", child.tag.upper(), f"{child.tag}2", "object"])
        elif kind == 3:
            child.text, child[:] = None, []
        else:
            child.text = str(rng.choice(INTERESTING_VALUES))
    return ElementTree.tostring(root)


def _members(data: bytes) -> list[tuple[str, bytes]]:
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        return [(m.name, archive.extractfile(m).read()) for m in archive if m.isfile()]


def _pack(members: list[tuple[str, bytes]], rng: random.Random) -> bytes:
    buffer = io.BytesIO()
    formats = [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT]
    with tarfile.open(fileobj=buffer, mode="w", format=rng.choice(formats)) as archive:
        for name, content in members:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def mutate_tarball(rng: random.Random, data: bytes) -> bytes:
    """Half the time damaged bytes anywhere; else a well-formed tarball whose members are
    damaged: a record's JSON, a protobuf, an image, or the members themselves (renamed,
    dropped, doubled, reordered)."""
    if rng.random() < 0.5:
        return mutate_bytes(rng, data)
    try:
        members = _members(data)
    except (tarfile.TarError, EOFError, OSError):
        return mutate_bytes(rng, data)
    if not members:
        return mutate_bytes(rng, data)
    at = rng.randrange(len(members))
    name, content = members[at]
    kind = rng.randrange(8)
    if kind < 4:
        mutate = mutate_json if name.endswith(".json") else mutate_bytes
        members[at] = (name, mutate(rng, content))
    elif kind == 4:
        stem, _, extension = name.partition(".")
        members[at] = (rng.choice([f"{stem}.png", f"{stem}x.{extension}", stem, f"../{name}",
                                   f"/{name}", f"a/{name}", f"{name}.json"]), content)  # fmt: skip
    elif kind == 5:
        del members[at]
    elif kind == 6:
        members.insert(at, members[at])
    else:
        rng.shuffle(members)
    return _pack(members, rng)


def mutate_members(
    chosen: Callable[[str], bool], mutate: Callable[[random.Random, bytes], bytes]
) -> Callable[[random.Random, bytes], bytes]:
    """A mutator of well-formed tarballs that damages only members whose name is `chosen`
    (scene records, protobufs, images), with `mutate`."""

    def mutator(rng: random.Random, data: bytes) -> bytes:
        members = _members(data)
        candidates = [i for i, (name, _) in enumerate(members) if chosen(name)]
        if candidates:
            at = rng.choice(candidates)
            members[at] = (members[at][0], mutate(rng, members[at][1]))
        return _pack(members, rng)

    return mutator


def _is_record(name: str) -> bool:
    return name.endswith(".json")


def _is_protobuf(name: str) -> bool:
    return "." not in name.rsplit("/", 1)[-1]


# ------------------------------------------------------------------------------- readers
@dataclass(frozen=True)
class Reader:
    """One reader under fuzz. `seeds()` returns valid inputs (file name → bytes; the first
    file is the one mutated and read, the others, e.g. images, stay as they are);
    `read(input, output)` reads it the way its command does and writes `output`."""

    name: str
    seeds: Callable[[], list[Seed]]
    mutate: Callable[[random.Random, bytes], bytes]
    read: Callable[[Path, Path], object]
    weight: int = 1  # share of the cases


def _tarball_seeds() -> list[Seed]:
    from tests.reliability.seeds import legacy_tarballs, native_tarballs

    return [{"data.tar": data} for data in [*native_tarballs(), *legacy_tarballs()]]


def _native_seeds() -> list[Seed]:
    from tests.reliability.seeds import native_tarballs

    return [{"data.tar": data} for data in native_tarballs()]


def _legacy_seeds() -> list[Seed]:
    from tests.reliability.seeds import legacy_tarballs

    return [{"data.tar": data} for data in legacy_tarballs()]


def _compressed_seeds() -> list[Seed]:
    import gzip

    from tests.reliability.seeds import native_tarballs

    return [{"data.tar.gz": gzip.compress(native_tarballs()[0], mtime=0)}]


def _qsl_seeds() -> list[Seed]:
    from tests.reliability.seeds import qsl_project

    return [qsl_project()]


def _coco_seeds() -> list[Seed]:
    from tests.reliability.seeds import coco_file

    return [coco_file()]


def _voc_seeds() -> list[Seed]:
    from tests.reliability.seeds import voc_file

    return [voc_file()]


def _data(folder: str, first: str) -> Callable[[], list[Seed]]:
    """The seeds of a hand-written file in tests/data, its images beside it."""

    def seeds() -> list[Seed]:
        from tests.reliability.seeds import data_folder

        return [data_folder(folder, first)]

    return seeds


def read_scenes(path: Path, output: Path) -> None:
    """What pixel commands do: every scene built, its pixels decoded, and written again;
    and what stats looks at."""
    from mira.formats import SceneWriter, iter_scenes
    from mira.ops.stats import collect_stats

    scenes = []
    with SceneWriter(output) as writer:
        for scene in iter_scenes(path):
            scene.bboxes()
            [annotation.area() for annotation in scene.annotations]
            scene.image  # noqa: B018 -- decoded, masks applied
            writer.write(scene)
            scenes.append(scene)
    json.dumps(collect_stats(scenes))


def read_stored(path: Path, output: Path) -> None:
    """What dedupe (and split's second pass) do: scenes copied as stored."""
    from mira.pipeline.jobs import dedupe_file

    dedupe_file([path], output, threshold=0.5)


def read_duplicates(path: Path, output: Path) -> None:
    """`mira dedupe --images similar`: stored fingerprints read, missing ones computed."""
    from mira.pipeline.jobs import dedupe_images_file

    dedupe_images_file([path], output, mode="similar", jobs=1)


def read_qsl(path: Path, output: Path) -> None:
    """`mira import-qsl`."""
    from mira.pipeline.jobs import import_qsl

    import_qsl(path, output)


def import_format(
    name: str,
    source: Callable[[Path], Path] = lambda path: path,
    **options: Any,
) -> Callable[[Path, Path], object]:
    """`mira import NAME SOURCE -o OUTPUT`, images looked for where the format puts them;
    SOURCE is `source(the mutated file)` (e.g. the dataset folder it lies in). `options`
    are the importer's own; an ``images_dir`` is taken relative to the mutated file."""

    def read(path: Path, output: Path) -> None:
        from mira.pipeline.jobs import import_file

        given = dict(options)
        if "images_dir" in given:
            given["images_dir"] = path.parent / given["images_dir"]
        import_file(name, source(path), output, **given)

    return read


def _saved(scenes: Any, output: Path) -> None:
    """A library reader's scenes, pixels decoded, written to `output`."""
    from mira.formats import SceneWriter

    with SceneWriter(output) as writer:
        for scene in scenes:
            scene.image  # noqa: B018 -- decoded
            writer.write(scene)


def read_coco_results(path: Path, output: Path) -> None:
    """`mira import coco instances.json --results RESULTS.json`."""
    from mira.pipeline.jobs import import_file

    import_file("coco", path.with_name("instances_val2017.json"), output, results=str(path))


def read_coco(path: Path, output: Path) -> None:
    """`mira.datasets.load_coco`, the original's COCO reader."""
    from mira.datasets import load_coco

    _saved(load_coco(str(path), None), output)


def read_voc(path: Path, output: Path) -> None:
    """`mira.datasets.load_voc`, the original's VOC reader."""
    from mira.datasets import load_voc

    _saved(load_voc([str(path)], ["dog", "cat"]), output)


#: Every reader under fuzz, each with its share of the cases (see the module docstring).
READERS: list[Reader] = [
    Reader("tarball scenes", _tarball_seeds, mutate_tarball, read_scenes, weight=2),
    Reader("tarball as stored", _tarball_seeds, mutate_tarball, read_stored, weight=2),
    Reader("scene records", _native_seeds, mutate_members(_is_record, mutate_json),
           read_scenes, weight=2),
    Reader("legacy protobufs", _legacy_seeds, mutate_members(_is_protobuf, mutate_bytes),
           read_scenes, weight=1),
    Reader("duplicate images", _native_seeds, mutate_members(_is_record, mutate_json),
           read_duplicates, weight=1),
    Reader("compressed tarball", _compressed_seeds, mutate_bytes, read_scenes, weight=1),
    Reader("QSL project", _qsl_seeds, mutate_json, read_qsl, weight=2),
    Reader("import qsl", _qsl_seeds, mutate_json, import_format("qsl"), weight=1),
    Reader("import coco", _data("coco", "annotations/instances_val2017.json"), mutate_json,
           import_format("coco"), weight=1),
    Reader("import coco --results", _data("coco", "annotations/results_val2017.json"),
           mutate_json, read_coco_results, weight=1),
    Reader("import yolo", _data("yolo/detect", "data.yaml"), mutate_text,
           import_format("yolo"), weight=1),
    Reader("import yolo labels", _data("yolo/segment", "labels/train/000000000009.txt"),
           mutate_text, import_format("yolo", lambda path: path.parents[2] / "data.yaml"),
           weight=1),
    Reader("import voc", _data("voc", "Annotations/2007_000032.xml"), mutate_xml,
           import_format("voc", lambda path: path.parents[1]), weight=1),
    Reader("import cvat", _data("cvat", "annotations.xml"), mutate_xml,
           import_format("cvat"), weight=1),
    Reader("import labelstudio", _data("labelstudio", "export.json"), mutate_json,
           import_format("labelstudio", images_dir="media"), weight=1),
    Reader("COCO (mira.datasets)", _coco_seeds, mutate_json, read_coco, weight=1),
    Reader("VOC (mira.datasets)", _voc_seeds, mutate_xml, read_voc, weight=1),
]  # fmt: skip


# ---------------------------------------------------------------------------------- cases
def _listing(folder: Path) -> dict[str, int]:
    """Every file (its size) and folder (-1) under `folder`, by relative path."""
    found: dict[str, int] = {}

    def visit(path: str, prefix: str) -> None:
        with os.scandir(path) as entries:
            for entry in entries:
                relative = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    found[relative] = -1
                    visit(entry.path, relative + "/")
                else:
                    found[relative] = entry.stat(follow_symlinks=False).st_size

    visit(str(folder), "")
    return found


class Mismatch(AssertionError):
    """A case broke a rule; the message says which and how to reproduce it."""


def run_case(reader: Reader, seed: Seed, data: bytes, case: Path, world: Path, label: str) -> bool:
    """Read `data` (the mutated first file of `seed`) with `reader` from `case`/in/ to
    `case`/out/out.tar; returns whether it was read. Raises Mismatch when a rule is broken:
    nothing in `world` (which holds `case`, and is the working and temporary folder) may
    change but the output."""
    inputs, outputs = case / "in", case / "out"
    name = next(iter(seed))
    (inputs / name).unlink(missing_ok=True)  # a new file: rewriting one waits for the disk
    (inputs / name).write_bytes(data)
    before = _listing(world)
    output = outputs / "out.tar"
    expected = output.relative_to(world).as_posix()
    try:
        reader.read(inputs / name, output)
        ok = True
    except MiraError as error:
        ok = False
        message = str(error)
        if "\n" in message or not message:
            raise Mismatch(f"{label}: error is not one line: {message!r}") from None
        if os.fspath(inputs) not in message and not isinstance(error, ImageError):
            raise Mismatch(f"{label}: error does not name the input: {message!r}") from None
    except Exception as error:  # the bug this test is for
        raise Mismatch(f"{label}: {type(error).__name__}: {error}") from error
    after = _listing(world)
    folder = outputs.relative_to(world).as_posix() + "/"
    written = {path for path in after if path.startswith(folder)}
    if not ok and written:
        raise Mismatch(f"{label}: failed, yet left {sorted(written)}")
    if ok and written != {expected}:
        raise Mismatch(f"{label}: wrote {sorted(written)}, not {expected}")
    rest = {path: size for path, size in after.items() if path not in written}
    if rest != before:
        changed = set(rest.items()) ^ set(before.items())
        raise Mismatch(f"{label}: wrote outside the output folder: {sorted(changed)}")
    if ok:
        output.unlink()
    return ok


def prepare(root: Path, seed: Seed) -> None:
    """The case folders, and the seed's files that are not mutated (e.g. images)."""
    for folder in ("in", "out"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for name, content in list(seed.items())[1:]:
        path = root / "in" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def fuzz(reader: Reader, cases: int, seed: int, root: Path) -> dict[str, int]:
    """Run `cases` mutated inputs through `reader` in folders under `root` (which should be
    the working and the temporary folder too); counts of inputs read and refused."""
    rng = random.Random(f"{seed}:{reader.name}")
    seeds = reader.seeds()
    counts = {"read": 0, "refused": 0}
    for number in range(cases):
        index = rng.randrange(len(seeds))
        chosen = seeds[index]
        case_root = root / f"seed{index}"
        if not case_root.exists():
            prepare(case_root, chosen)
        data = reader.mutate(rng, next(iter(chosen.values())))
        label = f"{reader.name}, MIRA_FUZZ_SEED={seed}, case {number} (seed input {index})"
        ok = run_case(reader, chosen, data, case_root, root, label)
        counts["read" if ok else "refused"] += 1
    return counts
