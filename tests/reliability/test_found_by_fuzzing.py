"""One regression test per bug the fuzzer found: each input once escaped as an exception
that is not mira's (a traceback instead of a one-line error)."""

from __future__ import annotations

import gzip
import io
import json
import math
import tarfile
from pathlib import Path

import pytest

from mira.datasets import load_coco, load_voc
from mira.errors import FormatError, ImageError, ValidationError
from mira.formats import iter_scenes
from mira.formats.qsl import load_qsl
from mira.formats.qsl_rle import decode_rle
from tests.reliability.seeds import coco_file, native_tarballs, qsl_project, voc_file


def write_project(folder: Path, change) -> Path:
    files = qsl_project()
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    project = json.loads(files["project.json"])
    change(project)
    path = folder / "project.json"
    path.write_text(json.dumps(project))
    return path


def test_a_gzip_tarball_cut_between_members(tmp_path):
    """EOFError (Compressed file ended before the end-of-stream marker was reached), from
    reading the next member's header."""
    tarball = native_tarballs()[0]
    first_scene = tarball.index(b"000001.json")
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as compressed:
        compressed.write(tarball[:first_scene])
        compressed.flush()  # everything so far can be decompressed on its own
        cut = len(buffer.getvalue())
        compressed.write(tarball[first_scene:])
    path = tmp_path / "data.tar.gz"
    path.write_bytes(buffer.getvalue()[:cut])
    with pytest.raises(FormatError) as info:
        list(iter_scenes(path))
    assert str(info.value).startswith(f"{path}: truncated or corrupt tarball after member ")
    assert "Compressed file ended before the end-of-stream marker was reached" in str(info.value)


def test_a_gzip_tarball_with_garbage_after_its_data(tmp_path):
    """gzip.BadGzipFile, an OSError: the CLI printed it without naming the file."""
    tarball = native_tarballs()[0]
    first_scene = tarball[: tarball.index(b"000001.json")]
    path = tmp_path / "data.tar.gz"
    path.write_bytes(gzip.compress(first_scene, mtime=0) + b"not gzip")
    with pytest.raises(FormatError) as info:
        list(iter_scenes(path))
    assert str(info.value).startswith(f"{path}: truncated or corrupt tarball after member ")
    assert "Not a gzipped file" in str(info.value)


def test_a_scene_record_nested_too_deeply(tmp_path):
    """RecursionError from the JSON decoder."""
    path = tmp_path / "data.tar"
    with tarfile.open(path, "w") as archive:
        for name, content in [("000000.json", b"[" * 100_000 + b"]" * 100_000),
                              ("000000.png", b"\x89PNG")]:  # fmt: skip
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    with pytest.raises(FormatError) as info:
        list(iter_scenes(path))
    assert str(info.value) == f"{path}: member 000000.json: invalid JSON (nested too deeply)"


def test_a_qsl_project_nested_too_deeply(tmp_path):
    path = tmp_path / "project.json"
    path.write_text('{"items": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(FormatError) as info:
        load_qsl(path)
    assert str(info.value) == f"{path}: invalid JSON: nested too deeply"


def test_a_qsl_coordinate_with_hundreds_of_digits(tmp_path):
    """OverflowError: int too large to convert to float."""

    def change(project):
        project["items"][0]["labels"]["polygons"][0]["points"][1]["y"] = 10**400

    path = write_project(tmp_path, change)
    with pytest.raises(FormatError) as info:
        load_qsl(path)
    assert str(info.value) == (
        f"{path}: items[0] (img/a.png): polygons[0].points[1].y: expected a number, got "
        "1000000000000000000000000000000000000..."
    )


def test_qsl_mask_counts_beyond_64_bits(tmp_path):
    """OverflowError: Python int too large to convert to C long."""

    def change(project):
        project["items"][0]["labels"]["masks"][0]["map"]["counts"] = [2**63, 1]

    path = write_project(tmp_path, change)
    with pytest.raises(FormatError) as info:
        load_qsl(path)
    assert str(info.value) == (
        f"{path}: items[0] (img/a.png): masks[0]: mask counts add up to "
        "9223372036854775809 pixels, but a 4x2 mask has 8"
    )


def test_a_qsl_mask_too_large_to_hold():
    """A canvas whose counts add up: it would have been allocated (MemoryError, or all of
    the machine's memory)."""
    with pytest.raises(ValidationError) as info:
        decode_rle([1 << 40], 1 << 20, 1 << 20)
    assert str(info.value) == (
        "a 1048576x1048576 mask is larger than any image mira reads (1073741824 pixels)"
    )


def test_a_qsl_target_with_a_nul_character(tmp_path):
    """ValueError: embedded null byte (from the file system call)."""

    def change(project):
        project["items"][0]["target"] = "img/a\u0000.png"

    path = write_project(tmp_path, change)
    with pytest.raises(FormatError) as info:
        load_qsl(path)
    assert str(info.value) == (
        f"{path}: items[0] (img/a\x00.png): target must be a non-empty string without NUL "
        "characters"
    )


def _record_tarball(path: Path, change) -> Path:
    """The first native seed with its first record changed."""
    with tarfile.open(fileobj=io.BytesIO(native_tarballs()[0])) as archive:
        members = [(m.name, archive.extractfile(m).read()) for m in archive]
    record = json.loads(members[0][1])
    change(record)
    members[0] = (members[0][0], json.dumps(record).encode())
    with tarfile.open(path, "w") as archive:
        for name, content in members:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return path


def test_a_record_with_coordinates_too_large_to_compute_with(tmp_path):
    """The box's area overflowed: stats reported NaN (invalid JSON) after a numpy warning."""

    def change(record):
        record["annotations"][0]["box"] = [-1e308, 0, 1e308, 1]

    path = _record_tarball(tmp_path / "data.tar", change)
    with pytest.raises(FormatError) as info:
        list(iter_scenes(path))
    assert str(info.value) == (
        f"{path}: member 000000.json: annotation 0: box must lie within ±2**53, got "
        "[-1e+308, 0.0, 1e+308, 1.0]"
    )


def test_a_mask_contour_beyond_opencv_coordinates(tmp_path):
    """Cast to OpenCV's 32-bit pixels, it wrapped around (a numpy warning, a wrong mask)."""

    def change(record):
        record["masks"][0]["contour"] = [[0, 0], [1e12, 0], [0, 6]]

    path = _record_tarball(tmp_path / "data.tar", change)
    with pytest.raises(FormatError) as info:
        list(iter_scenes(path))
    assert str(info.value) == (
        f"{path}: member 000000.json: scene 000000: mask 0: contour points must lie within "
        "±2**31 (OpenCV's pixels)"
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [("12", "'12'"), (1.5, "1.5"), (0, "0"), (2**31, "2147483648"), (True, "True")],
)
def test_a_record_size_that_is_not_a_number_of_pixels(tmp_path, value, shown):
    """int() took "12" and 1.5 and True; 0 divided by zero in the pixel commands."""
    path = _record_tarball(tmp_path / "data.tar", lambda record: record.update(width=value))
    with pytest.raises(FormatError) as info:
        list(iter_scenes(path))
    assert str(info.value) == (
        f"{path}: member 000000.json: field 'width' must be a whole number of pixels, got {shown}"
    )


def test_qsl_metadata_holding_nan(tmp_path):
    """Python's parser takes NaN; the tarball writer refused it later, naming no item."""

    def change(project):
        project["items"][0]["metadata"]["score"] = math.nan

    path = write_project(tmp_path, change)
    with pytest.raises(FormatError) as info:
        load_qsl(path)
    assert str(info.value) == (
        f"{path}: items[0] (img/a.png): metadata cannot be written as JSON: Out of range "
        "float values are not JSON compliant"
    )


def write_coco(folder: Path, change) -> Path:
    """The COCO seed and its images in `folder`, its JSON changed by `change` (which may
    return the file's bytes instead)."""
    files = coco_file()
    for name, content in files.items():
        (folder / name).write_bytes(content)
    data = json.loads(files["instances.json"])
    content = change(data)
    path = folder / "instances.json"
    path.write_bytes(content if isinstance(content, bytes) else json.dumps(data).encode())
    return path


def load_coco_scenes(path: Path) -> list:
    scenes = load_coco(str(path), None)
    return [scene.image.shape for scene in scenes]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda data: b'{"images": "\xff"}', "not a COCO file: the file is not UTF-8 text"),
        (lambda data: b"[" * 100_000 + b"]" * 100_000, "invalid JSON: nested too deeply"),
        (
            lambda data: data["annotations"][0].update(bbox=[10**400, 0, 1, 1]),
            "malformed COCO entry (OverflowError: int too large to convert to float)",
        ),
        (
            lambda data: data["categories"][1].update(name="cat"),
            "category names must be unique (case-insensitive): 'cat' and 'cat'",
        ),
        (
            lambda data: data["annotations"][0].update(bbox=[5, 5, -3, 1]),
            "image 3: annotation cat: box is inverted (x1 > x2 or y1 > y2): [5.0, 5.0, 2.0, 6.0]",
        ),
    ],
    ids=["not-utf8", "nested", "huge-int", "same-name", "inverted-box"],
)
def test_coco_files_the_fuzzer_broke(tmp_path, change, reason):
    """UnicodeDecodeError, RecursionError, OverflowError and ValidationErrors that did not
    name the file."""
    path = write_coco(tmp_path, change)
    with pytest.raises(FormatError) as info:
        load_coco_scenes(path)
    assert str(info.value) == f"{path}: {reason}"


def test_a_coco_file_with_a_byte_order_mark_is_read(tmp_path):
    path = write_coco(tmp_path, lambda data: b"\xef\xbb\xbf" + json.dumps(data).encode())
    assert load_coco_scenes(path) == [(10, 20, 3), (12, 16, 3), (10, 20, 3)]


def test_a_folder_given_as_a_coco_file(tmp_path):
    """IsADirectoryError."""
    with pytest.raises(FormatError) as info:
        load_coco(str(tmp_path), None)
    assert str(info.value) == f"{tmp_path}: is a directory, not a COCO file"


def test_a_coco_image_name_with_a_nul_character(tmp_path):
    """ValueError: embedded null byte, from open()."""
    write_coco(tmp_path, lambda data: data["images"][0].update(file_name="b\u0000.jpg"))
    with pytest.raises(ImageError) as info:
        load_coco_scenes(tmp_path / "instances.json")
    assert str(info.value) == f"'{tmp_path}/b\\x00.jpg': an image path cannot hold a NUL character"


def test_a_voc_box_inverted(tmp_path):
    """A ValidationError that named neither the file nor the object."""
    files = voc_file()
    (tmp_path / "JPEGImages").mkdir()
    (tmp_path / "JPEGImages/a.jpg").write_bytes(files["JPEGImages/a.jpg"])
    path = tmp_path / "a.xml"
    path.write_bytes(files["a.xml"].replace(b"<xmax>10</xmax>", b"<xmax>0.5</xmax>"))
    with pytest.raises(FormatError) as info:
        load_voc([str(path)], ["dog", "cat"])
    assert str(info.value) == (
        f"{path}: object 0: annotation dog: box is inverted (x1 > x2 or y1 > y2): "
        "[1.0, 2.5, 0.5, 11.0]"
    )


# ------------------------------------------------------------ mira import FORMAT (issue #14)
def _data(tmp_path: Path, folder: str) -> Path:
    """A copy of tests/data/`folder`: the files in the shape each tool writes."""
    import shutil

    copy = tmp_path / folder.replace("/", "-")
    shutil.copytree(Path(__file__).resolve().parents[1] / "data" / folder, copy)
    return copy


def _import(fmt: str, source: Path, **options) -> str:
    from mira.pipeline.jobs import import_file

    output = source.parent / "out.tar"
    with pytest.raises(FormatError) as info:
        import_file(fmt, source, output, **options)
    assert not output.exists()
    return str(info.value)


def test_a_coco_file_nested_a_hundred_thousand_levels_deep(tmp_path):
    """MemoryError (24 GB, then the machine's OOM killer): ijson keeps a prefix string per
    level, so memory grew with the square of the depth."""
    path = _data(tmp_path, "coco") / "annotations" / "instances_val2017.json"
    text = path.read_text()
    at = text.index('"annotations": [') + len('"annotations": [')
    path.write_text(text[:at] + "[" * 100_000 + "]" * 100_000 + "," + text[at:])
    assert _import("coco", path) == f"{path}: invalid JSON: nested deeper than 512 levels"


def test_a_label_studio_export_nested_too_deeply(tmp_path):
    path = _data(tmp_path, "labelstudio") / "export.json"
    path.write_text("[" + '{"a": [' * 600 + "]}" * 600 + "]")
    assert _import("labelstudio", path) == f"{path}: invalid JSON: nested deeper than 512 levels"


def test_a_coco_category_id_that_is_an_object(tmp_path):
    """TypeError (unhashable type: 'dict'), from the set of category ids."""
    path = _data(tmp_path, "coco") / "annotations" / "results_val2017.json"
    results = json.loads(path.read_text())
    results[0]["category_id"] = {"id": 1}
    path.write_text(json.dumps(results))
    message = _import("coco", path.with_name("instances_val2017.json"), results=str(path))
    assert message.startswith(f"{path}: ") and "category_id" in message


def test_coco_rle_counts_beyond_64_bits(tmp_path):
    """OverflowError (Python int too large to convert to C long), from numpy: the
    compressed string decodes to a count of 2**81."""
    path = _data(tmp_path, "coco") / "annotations" / "instances_val2017.json"
    coco = json.loads(path.read_text())
    rle = next(a for a in coco["annotations"] if isinstance(a["segmentation"], dict))
    rle["segmentation"]["counts"] = "o" * 16 + "1"
    path.write_text(json.dumps(coco))
    assert "an RLE count is larger than the" in _import("coco", path)


def test_a_label_studio_result_type_that_is_a_list(tmp_path):
    """TypeError (unhashable type: 'list'), looking the type up."""
    path = _data(tmp_path, "labelstudio") / "export.json"
    tasks = json.loads(path.read_text())
    tasks[0]["annotations"][0]["result"][0]["type"] = ["rectanglelabels"]
    path.write_text(json.dumps(tasks))
    from mira.pipeline.jobs import import_file

    report = import_file(
        "labelstudio", path, tmp_path / "out.tar", images_dir=path.parent / "media"
    )
    assert report["unsupported"]["['rectanglelabels']"] == 1


def test_a_voc_file_nested_too_deeply(tmp_path):
    """RecursionError, walking the object's elements into metadata."""
    path = _data(tmp_path, "voc") / "Annotations" / "2007_000032.xml"
    text = path.read_text()
    at = text.index("<object>") + len("<object>")
    path.write_text(text[:at] + "<a>" * 5000 + "</a>" * 5000 + text[at:])
    line = text[:at].count("\n") + 1
    assert _import("voc", path.parents[1]) == (
        f"{path}: line {line}: elements nested deeper than 256 levels"
    )


def test_a_voc_box_beyond_what_mira_computes_with(tmp_path):
    """A ValidationError that did not name the file."""
    path = _data(tmp_path, "voc") / "Annotations" / "2007_000032.xml"
    text = path.read_text()
    start = text.index("<xmax>") + len("<xmax>")
    path.write_text(text[:start] + "1e308" + text[text.index("</xmax>", start) :])
    message = _import("voc", path.parents[1])
    assert message.startswith(f"{path}: object 1") and "±2**53" in message


@pytest.mark.parametrize("name", ["data.yaml", "labels/train/000000000009.txt"])
def test_yolo_files_that_are_not_utf_8(tmp_path, name):
    """UnicodeDecodeError, from reading data.yaml or a label file as text."""
    folder = _data(tmp_path, "yolo/detect")
    path = folder / name
    path.write_bytes(path.read_bytes() + b"\xb0\n")
    message = _import("yolo", folder / "data.yaml")
    assert message.startswith(f"{path}: not a YOLO ") and message.endswith("not UTF-8 text")
