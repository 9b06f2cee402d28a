"""The direct route for the most common image: one standard SquashFS 4 file system and nothing else.

unblob would find that one chunk and run ``unsquashfs`` on it, then search every extracted file for further
chunks. Run in the extraction child before unblob is even imported, ``unsquashfs`` gives the analysers the
root file system at once; unblob then sees only the files where it could find something: not the plain
text, not the ELF files it would take whole and leave alone, not the media types it skips by their magic.
What it is handed, it processes exactly as in a full run (same depth, same limits, same layout), so the
result is the same; anything unusual (padding that is not zeros, an unsquashfs error, an output at its
limit, files of a multi-volume archive) falls back to the full unblob run of the image.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

SQUASHFS_HANDLER = "squashfs_v4_le"
_SUPERBLOCK = struct.Struct("<4sIIIIHHHHHHQQ")  # magic ... s_major, s_minor, root_inode, bytes_used
_PAD_SIZES = (4096, 1024)  # what mksquashfs pads an image to; unblob's squashfs handler accepts the same
_ELF_HEAD = 64
CLASSIFY_MAX = 64 * 1024 * 1024  # larger files go to unblob unread here (it streams them)
_ET_EXEC = 2
_SHT_NOBITS = 8
# bytes no text file holds: controls other than tab, newlines, form feed and escape (0x1a ends ARC headers)
_BINARY_BYTE = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
# unblob skips these by their libmagic type (its DEFAULT_SKIP_MAGIC); each prefix is unambiguous
_SKIPPED_MAGIC = (
    b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"SQLite format 3\x00", b"bFLT",
    b"\xde\x12\x04\x95", b"\x95\x04\x12\xde", b"wOFF", b"wOF2",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SquashfsImage:
    """An image that is one SquashFS 4 (little endian) from its first byte to its end, padding included."""

    path: Path
    size: int

    def extract_dir(self, extract_root: Path) -> Path:
        return extract_root / f"{self.path.name}_extract"

    def chunk(self, extract_root: Path) -> dict[str, object]:
        """The chunk as the child reports unblob's (``_unblob_child._chunk_dict``): the whole file."""
        return {
            "task": str(self.path),
            "handler": SQUASHFS_HANDLER,
            "start": 0,
            "end": self.size,
            "chunk_file": str(self.path),
            "extract_dir": str(self.extract_dir(extract_root)),
            "problems": 0,
        }


def whole_squashfs(image: Path) -> SquashfsImage | None:
    """``image`` when all of it is one SquashFS 4 LE file system (unblob would take it as one whole chunk)."""
    try:
        with image.open("rb") as fh:
            head = fh.read(_SUPERBLOCK.size)
            size = fh.seek(0, 2)
            if len(head) < _SUPERBLOCK.size:
                return None
            magic, *_, major, _minor, _root, used = _SUPERBLOCK.unpack(head)
            if magic != b"hsqs" or major != 4 or not 0 < used <= size:
                return None
            fh.seek(used)
            tail = fh.read(size - used) if size - used <= max(_PAD_SIZES) else None
    except OSError:
        return None
    if size == used:
        return SquashfsImage(image, size)
    padded = any(size == -(-used // pad) * pad for pad in _PAD_SIZES)
    return SquashfsImage(image, size) if padded and tail is not None and not tail.strip(b"\0") else None


def needs_unblob(data: bytes) -> bool:
    """Could unblob find a chunk in this file? False only where it certainly finds none worth extracting."""
    if not data:
        return False
    if data.startswith(b"\x7fELF"):
        return not _plain_elf(data)
    if data.startswith(_SKIPPED_MAGIC):
        return False
    # text: no binary container fits in it (cpio and tar headers hold NULs); an ar archive of text files would
    return _BINARY_BYTE.search(data) is not None or b"!<arch>\n" in data


def _plain_elf(data: bytes) -> bool:
    """An ELF file unblob takes whole and leaves alone: its headers and contents end exactly at the end of the
    file (nothing appended), it is no kernel with an initramfs (``.init.data``) and not UPX-packed."""
    if len(data) < _ELF_HEAD or data[4] not in (1, 2) or data[5] not in (1, 2) or data[6] != 1:
        return False
    if b"UPX!" in data:
        return False
    end = "<" if data[5] == 1 else ">"
    e_type = struct.unpack_from(end + "H", data, 16)[0]
    if e_type not in (1, 2, 3, 4) or (e_type == _ET_EXEC and b".init.data\0" in data):
        return False
    try:
        return _elf_extent(data, end, wide=data[4] == 2) == len(data)
    except struct.error:  # headers pointing past the end: unblob would not take it as an ELF chunk
        return False


def _elf_extent(data: bytes, end: str, *, wide: bool) -> int:
    """Where the ELF file ends: the furthest of its header tables, section contents and segments."""
    if wide:
        phoff, shoff = struct.unpack_from(end + "QQ", data, 32)
        phentsize, phnum, shentsize, shnum = struct.unpack_from(end + "HHHH", data, 54)
        section, segment = (end + "I16xQQ", 4), (end + "Q16xQ", 8)
    else:
        phoff, shoff = struct.unpack_from(end + "II", data, 28)
        phentsize, phnum, shentsize, shnum = struct.unpack_from(end + "HHHH", data, 42)
        section, segment = (end + "I8xII", 4), (end + "I8xI", 4)
    extent: int = max(shoff + shnum * shentsize, phoff + phnum * phentsize)
    for i in range(shnum):
        sh_type, offset, size = struct.unpack_from(section[0], data, shoff + i * shentsize + section[1])
        if sh_type != _SHT_NOBITS:
            extent = max(extent, offset + size)
    for i in range(phnum):
        offset, size = struct.unpack_from(segment[0], data, phoff + i * phentsize + segment[1])
        extent = max(extent, offset + size)
    return extent
