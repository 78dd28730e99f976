"""The fast tar header walker and writer agree with tarfile, byte for byte and entry for entry."""

import io
import os
import tarfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mira.formats.tar_headers import CorruptTar, TruncatedTar, _block_sum, iter_entries
from mira.formats.tar_writer import AtomicTar, tar_header
from mira.formats.tario import iter_member_groups

NAME_CHARS = st.characters(
    min_codepoint=32, max_codepoint=0x2FF, blacklist_characters="/\\", blacklist_categories=["Cs"]
)
PART = st.text(NAME_CHARS, min_size=1, max_size=60).filter(lambda p: p not in (".", ".."))
NAMES = st.lists(PART, min_size=1, max_size=4).map("/".join)


def walk(path):
    """(name, kind, offset, size) of each entry, after checking its head against the data."""
    with open(path, "rb") as handle:
        entries = list(iter_entries(handle.fileno()))
        for entry in entries:
            data = os.pread(handle.fileno(), entry.size, entry.offset)
            assert data.startswith(entry.head)
    return [tuple(e)[:4] for e in entries]


def tarfile_entries(path):
    with tarfile.open(path) as archive:
        return [
            (
                m.name,
                "file" if m.isfile() else "directory" if m.isdir() else "other",
                m.offset_data,
                m.size,
            )
            for m in archive.getmembers()
        ]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from([tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT]),
    st.lists(
        st.tuples(NAMES, st.sampled_from(["file", "directory", "link"]), st.binary(max_size=1500)),
        max_size=6,
        unique_by=lambda item: item[0],
    ),
)
def test_walker_reads_what_tarfile_reads(tmp_path, fmt, items):
    path = tmp_path / "a.tar"
    with tarfile.open(path, "w", format=fmt) as archive:
        for name, kind, data in items:
            info = tarfile.TarInfo(name)
            if kind == "directory":
                info.type = tarfile.DIRTYPE
            elif kind == "link":
                info.type, info.linkname = tarfile.SYMTYPE, "elsewhere"
            else:
                info.size = len(data)
            try:
                archive.addfile(info, io.BytesIO(data) if kind == "file" else None)
            except ValueError:  # the format cannot store this name
                return
    assert walk(path) == tarfile_entries(path)
    with open(path, "rb") as handle:
        for name, kind, offset, size in walk(path):
            if kind == "file":
                wanted = next(d for n, _, d in items if n == name)
                assert os.pread(handle.fileno(), size, offset) == wanted


def test_walker_reads_sizes_in_base_256_and_old_folder_names(tmp_path):
    header = bytearray(tar_header("big.bin", 0))
    header[124:136] = b"\x80" + (5).to_bytes(11, "big")
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    folder = bytearray(tar_header("old/", 0))
    folder[156:157] = b"\0"
    folder[148:156] = b" " * 8
    folder[148:156] = b"%06o\0 " % sum(folder)
    path = tmp_path / "a.tar"
    path.write_bytes(bytes(header) + b"hello".ljust(512, b"\0") + bytes(folder) + b"\0" * 1024)
    assert walk(path) == [("big.bin", "file", 512, 5), ("old", "directory", 1536, 0)]


def test_walker_tells_a_cut_archive_from_a_bad_header(tmp_path):
    path = tmp_path / "a.tar"
    path.write_bytes(tar_header("a.txt", 3) + b"abc".ljust(512, b"\0"))
    with pytest.raises(TruncatedTar):
        walk(path)
    damaged = bytearray(tar_header("a.txt", 3))
    damaged[0:1] = b"b"
    path.write_bytes(bytes(damaged) + b"abc".ljust(512, b"\0") + b"\0" * 1024)
    with pytest.raises(CorruptTar, match="bad header checksum at byte 0"):
        walk(path)


def test_header_bytes_are_fixed():
    header = tar_header("000001.jpg", 1234)
    assert len(header) == 512
    assert header[:16] == b"000001.jpg\0\0\0\0\0\0"
    assert header[100:156] == (
        b"0000644\0" + b"0000000\0" + b"0000000\0" + b"00000002322\0" + b"00000000000\0"
        + b"%06o\0 " % (sum(header[:148]) + 256 + sum(header[156:]))
    )  # fmt: skip
    assert header[156:157] == b"0" and header[257:265] == b"ustar\x0000"
    assert header[265:512] == b"\0" * 247  # no owner names, device numbers or prefix


@settings(max_examples=100)
@given(NAMES, st.integers(min_value=0, max_value=2**40))
def test_header_is_what_tarfile_writes_and_reads(name, size):
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode, info.uid, info.gid = size, 0, 0o644, 0, 0
    info.uname = info.gname = ""
    expected = info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
    assert tar_header(name, size) == expected
    archive = tarfile.open(fileobj=io.BytesIO(expected + b"\0" * 1024), mode="r|")
    read = archive.next()
    assert (read.name, read.size, read.mode, read.mtime) == (name, size, 0o644, 0)


def test_atomic_tar_is_read_back_by_tarfile_and_by_the_walker(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(bytes(range(256)) * 40)
    path = tmp_path / "out.tar"
    writer = AtomicTar(str(path))
    writer.add("a.json", b"{}")
    (group,) = list(iter_member_groups(str(_one_member_tar(tmp_path, source))))
    writer.add_range("a.bin", group.members["bin"])
    writer.commit()
    with tarfile.open(path) as archive:
        assert archive.getnames() == ["a.json", "a.bin"]
        assert archive.extractfile("a.bin").read() == source.read_bytes()
    assert path.stat().st_size % tarfile.RECORDSIZE == 0
    assert walk(path) == tarfile_entries(path)


def _one_member_tar(tmp_path, source):
    path = tmp_path / "one.tar"
    with tarfile.open(path, "w") as archive:
        archive.add(source, "x.bin")
    return path


@given(st.binary(min_size=512, max_size=512) | st.sampled_from([b"\xff" * 512, b"\0" * 512]))
def test_block_sums_are_exact(block):
    assert _block_sum(block) == sum(block)


def test_small_members_come_whole_with_their_header(tmp_path):
    """A record, its image's header and the image's first bytes: one read."""
    path = tmp_path / "a.tar"
    members = [("a.json", b"{}" * 300), ("a.jpg", b"\xff\xd8" + bytes(20000)), ("b.json", b"[]")]
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    with open(path, "rb") as handle:
        entries = list(iter_entries(handle.fileno()))
    assert [e.head for e in entries[::2]] == [b"{}" * 300, b"[]"]
    assert entries[1].head == members[1][1][: 8192 - 3 * 512 - 512]  # the rest of the window
