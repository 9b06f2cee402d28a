"""The in-process SquashFS 4 reader (``squashfs.py``) against squashfs-tools itself: on images mksquashfs builds with
each compressor and layout option, it lists every path with the modes and owners ``unsquashfs -lln`` gives and
reads every file as ``unsquashfs`` extracts it; its locators are equal exactly where the contents are; and a
damaged image only ever raises ``SquashfsError``, so the scan falls back to ``unsquashfs``."""

from __future__ import annotations

import contextlib
import os
import random
import stat
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cybersafe.evidence.firmware.metadata import INODE_TABLE, read_metadata, squashfs_metadata
from cybersafe.evidence.firmware.squashfs import SquashfsError, SquashfsReader, modes, opened

TRUE = Path("/usr/bin/true")


def _tree(root: Path) -> Path:
    """Every kind of entry mksquashfs stores: nested directories, a hard link, absolute and relative symlinks, an
    empty file, empty directories, a file of exactly two blocks, a larger one with a tail, a sparse one, a FIFO, a
    device node when running as root, setuid and world-writable modes, owners other than root, and names with
    spaces and UTF-8."""
    rnd = random.Random(3)
    (root / "etc/app/deep/er").mkdir(parents=True)
    (root / "bin").mkdir()
    (root / "bin/true").write_bytes(TRUE.read_bytes())
    (root / "bin/true").chmod(0o4755)
    os.link(root / "bin/true", root / "bin/also-true")
    (root / "bin/sh").symlink_to("/bin/true")
    (root / "etc/app/link").symlink_to("../../bin/true")
    (root / "etc/empty").write_bytes(b"")
    (root / "etc/two-blocks").write_bytes(rnd.randbytes(2 * 131072))
    (root / "etc/app/large.bin").write_bytes(rnd.randbytes(300_000))
    with (root / "etc/sparse").open("wb") as fh:
        fh.seek(3 * 131072)
        fh.write(b"end of a sparse file\n")
    os.mkfifo(root / "etc/fifo")
    if os.geteuid() == 0:
        os.mknod(root / "etc/null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    (root / "etc/app/deep/er/world").write_text("writable\n")
    (root / "etc/app/deep/er/world").chmod(0o666)
    (root / "etc/app/deep/open").mkdir()
    (root / "etc/app/deep/open").chmod(0o777)
    (root / "zz-empty").mkdir()  # an empty directory, listed last: its listing has no bytes to read
    (root / "etc/app/file with spaces.conf").write_text("a = 1\n")
    (root / "etc/app/ünïcode.txt").write_text("naïve\n")
    for i in range(40):  # small files: fragment tails of several fragment blocks
        (root / f"etc/app/f{i:02}.txt").write_text(f"line {i}\n" * rnd.randint(1, 4000))
    if os.geteuid() == 0:
        os.chown(root / "etc/app/f00.txt", 1000, 1001)
    with contextlib.suppress(OSError):  # extended attributes give the image an xattr table, checked as unsquashfs does
        os.setxattr(root / "etc/app/f01.txt", "user.cybersafe", b"label")
    return root


def _mksquashfs(root: Path, out: Path, *options: str) -> Path:
    subprocess.run(["mksquashfs", str(root), str(out), "-noappend", "-quiet", "-no-progress", *options],
                   check=True, capture_output=True)  # fmt: skip
    return out


def _unsquashfs(image: Path, out: Path) -> Path:
    subprocess.run(["unsquashfs", "-n", "-d", str(out), str(image)], check=False, capture_output=True)
    return out


LAYOUTS = {
    "gzip": ("-comp", "gzip"),
    "xz": ("-comp", "xz"),
    "xz-bcj": ("-comp", "xz", "-Xbcj", "x86"),
    "zstd": ("-comp", "zstd"),
    "lzma": ("-comp", "lzma"),
    "uncompressed": ("-noI", "-noD", "-noF", "-noX"),
    "no-fragments": ("-no-fragments",),
    "always-fragments": ("-always-use-fragments",),
    "4k-blocks": ("-b", "4096"),
    "1m-blocks": ("-b", "1M"),
}


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _tree(tmp_path_factory.mktemp("sqfs") / "root")


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_the_reader_lists_and_reads_what_unsquashfs_does(layout: str, tree: Path, tmp_path: Path) -> None:
    image = _mksquashfs(tree, tmp_path / "fs.img", *LAYOUTS[layout])
    extracted = _unsquashfs(image, tmp_path / "out")
    with opened(image, max_entries=10_000) as reader:
        entries = reader.entries()
        # the modes and owners are unsquashfs's, path for path (the root is ""); a device node too, which the
        # parser of ``unsquashfs -lln`` skips (it prints "1, 3" where a file's size goes)
        table = modes(entries)
        devices = {p for p, (mode, _, _) in table.items() if stat.S_ISCHR(mode)}
        assert devices == ({"etc/null"} if os.geteuid() == 0 else set())
        assert {p: m for p, m in table.items() if p not in devices} == squashfs_metadata(image)
        # every file reads as unsquashfs writes it, every symlink points where it does
        for entry in entries:
            on_disk = extracted / entry.path
            if entry.is_file:
                assert reader.read(entry) == on_disk.read_bytes(), entry.path
            elif stat.S_ISLNK(entry.mode):
                assert entry.target == os.readlink(on_disk)
    # the scan takes the modes from the inode table, without starting unsquashfs
    assert read_metadata("squashfs_v4_le", image, extracted) == (INODE_TABLE, table)


def test_a_compressor_it_does_not_read_is_said_so(tree: Path, tmp_path: Path) -> None:
    # lzo and lz4 have no decompressor in the standard library: the scan then asks unsquashfs, as before
    for compressor in ("lzo", "lz4"):
        image = _mksquashfs(tree, tmp_path / f"{compressor}.img", "-comp", compressor)
        with pytest.raises(SquashfsError, match="not read here"), opened(image, max_entries=10_000):
            pass
        source, meta = read_metadata("squashfs_v4_le", image, tmp_path)
        assert source == "unsquashfs" and meta == squashfs_metadata(image)


def test_locators_are_equal_exactly_where_the_contents_are(tree: Path, tmp_path: Path) -> None:
    # Given a release and the next one: a file added in front moves every block, one file changed
    first = _mksquashfs(tree, tmp_path / "r1.img")
    (tree / "bin/aaa-new").write_bytes(random.Random(9).randbytes(200_000))
    (tree / "etc/app/f05.txt").write_text("changed\n")
    try:
        second = _mksquashfs(tree, tmp_path / "r2.img")
    finally:
        (tree / "bin/aaa-new").unlink()
        (tree / "etc/app/f05.txt").write_text("line 5\n")
    with opened(first, max_entries=10_000) as old, opened(second, max_entries=10_000) as new:
        before = {e.path: (old.locator(e), old.read(e)) for e in old.entries() if e.is_file}
        after = {e.path: (new.locator(e), new.read(e)) for e in new.entries() if e.is_file}
    common = before.keys() & after.keys()
    # an equal locator always means equal contents
    assert all(before[p][1] == after[p][1] for p in common if before[p][0] == after[p][0])
    assert before["etc/app/f05.txt"][0] != after["etc/app/f05.txt"][0]
    # files stored in blocks of their own keep their locator when everything around them moved
    for path in ("etc/two-blocks", "etc/app/large.bin"):
        assert before[path][0] == after[path][0], path


@pytest.fixture(scope="module")
def small_image(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    where = tmp_path_factory.mktemp("small")
    root = where / "root"
    (root / "etc").mkdir(parents=True)
    for i in range(30):
        (root / f"etc/f{i}").write_text(f"value {i}\n" * (i + 1))
    (root / "etc/link").symlink_to("f1")
    (root / "bin").mkdir()
    (root / "bin/true").write_bytes(TRUE.read_bytes())
    return _mksquashfs(root, where / "fs.img").read_bytes()


@given(data=st.data())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_damaged_image_only_ever_raises_squashfs_error(small_image: bytes, data: st.DataObject) -> None:
    # Given an image with a few bytes overwritten anywhere in it (tables, listings, blocks, the superblock)
    image = bytearray(small_image)
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(image) - 1))
        image[at] = data.draw(st.integers(0, 255))
    # When it is read, then it reads (each file at most its declared size) or it is refused as damaged
    try:
        reader = SquashfsReader(bytes(image), max_entries=200)
        for entry in reader.entries():
            if entry.is_file:
                reader.locator(entry)
                assert len(reader.read(entry)) == entry.size
    except SquashfsError:
        pass


def test_what_it_reads_is_bounded(small_image: bytes, tmp_path: Path) -> None:
    # more inodes than the entries allowed
    with pytest.raises(SquashfsError, match="past the limits"):
        SquashfsReader(small_image, max_entries=10).entries()
    # more paths than allowed: one file under many names (hard links)
    root = tmp_path / "root"
    root.mkdir()
    (root / "a").write_text("one inode\n")
    for i in range(20):
        os.link(root / "a", root / f"link{i}")
    with pytest.raises(SquashfsError, match="more than 5 entries"):
        SquashfsReader(_mksquashfs(root, tmp_path / "links.img").read_bytes(), max_entries=5).entries()
    # more decompressed file contents than allowed
    reader = SquashfsReader(small_image, max_entries=100, max_output=1000)
    with pytest.raises(SquashfsError, match="decompress to more than 1000 bytes"):
        for entry in reader.entries():
            if entry.is_file:
                reader.read(entry)


def test_what_is_not_a_squashfs_4_is_refused(small_image: bytes) -> None:
    for bad in (b"", b"hsqs" + bytes(40), b"\x7fELF" + small_image[4:], small_image[:200]):
        with pytest.raises(SquashfsError):
            SquashfsReader(bad, max_entries=100).entries()


def test_a_zstd_block_is_decompressed_only_up_to_its_limit() -> None:
    import resource

    from cybersafe.evidence.firmware.squashfs import _decompressor

    # a 32 KiB zstd frame of RLE blocks that would make 1 GiB: refused after one block's worth, in bounded memory
    frame = b"\x28\xb5\x2f\xfd" + bytes([0x00, 0x38])
    for i in range(8192):
        frame += ((1 if i == 8191 else 0) | (1 << 1) | (131072 << 3)).to_bytes(3, "little") + b"\x00"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(SquashfsError, match="larger than the format allows"):
        _decompressor(6)(frame, 131072)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 64 * 1024  # KiB: far from 1 GiB


def test_one_inode_number_for_two_inodes_is_refused(tree: Path, tmp_path: Path) -> None:
    # unsquashfs makes the second path to an inode number a hard link to the first, whatever inode it names; an
    # uncompressed inode table (-noI) lets the test give one file's inode the number of another
    plain = bytearray(_mksquashfs(tree, tmp_path / "plain.img", "-noI").read_bytes())
    with opened(tmp_path / "plain.img", max_entries=10_000) as reader:
        numbers = {e.path: e.inode for e in reader.entries()}
        start, end = reader.inode_table, reader.directory_table
    needle = numbers["etc/app/f02.txt"].to_bytes(4, "little")
    at = plain.find(needle, start, end)
    while at != -1 and int.from_bytes(plain[at - 12 : at - 10], "little") != 2:  # the number of a basic file inode
        at = plain.find(needle, at + 1, end)
    assert at != -1
    plain[at : at + 4] = numbers["etc/app/f01.txt"].to_bytes(4, "little")
    with pytest.raises(SquashfsError, match="names two inodes"):
        SquashfsReader(bytes(plain), max_entries=10_000).entries()
