"""A SquashFS 4 (little endian) reader: the listing, each file's place in the image, and bounded reads.

A delta run (``reuse.py``) must tell the files of a new release that it already knows from those it does not
without unpacking the image. A file's compressed blocks, and the compressed fragment block its tail sits in,
are in the image as they are: equal compressed bytes under the same compressor decompress to equal contents,
so a digest of them (``locator``) names the contents without decompressing anything. Only a file whose
locator is new is read (``read``), and only its own blocks and fragment.

The image is untrusted and read in the scanning process, so the reader checks everything it follows:
references must point inside their table, each block decompresses to at most the size the format allows, a
directory may not hold itself, names may not be empty, ``.``, ``..`` or hold a ``/`` or NUL, and the listing
stops at ``max_entries``. Anything else raises ``SquashfsError``; the caller then unpacks the image as usual.
Layout (Linux ``Documentation/filesystems/squashfs.rst``, squashfs-tools ``squashfs_fs.h``).
"""

from __future__ import annotations

import contextlib
import hashlib
import lzma
import mmap
import os
import stat
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

_SUPERBLOCK = struct.Struct("<IIIIIHHHHHHQQQQQQQQ")
_MAGIC = 0x73717368
_METADATA = 8192
_UNCOMPRESSED_META = 0x8000
_UNCOMPRESSED_DATA = 1 << 24
_NO_FRAGMENT = 0xFFFFFFFF
_HEADER = struct.Struct("<HHHHII")  # type, permissions, uid index, gid index, mtime, inode number
_KIND = {1: stat.S_IFDIR, 2: stat.S_IFREG, 3: stat.S_IFLNK, 4: stat.S_IFBLK, 5: stat.S_IFCHR, 6: stat.S_IFIFO,
         7: stat.S_IFSOCK}  # fmt: skip
_EXTENDED = 7  # extended inode types are the basic ones plus 7
_ABSENT = 0xFFFFFFFFFFFFFFFF  # a table the image does not have (SQUASHFS_INVALID_BLK)
_METADATA_OUTPUT = 256 * 1024 * 1024  # inode, directory and lookup tables, decompressed
_DEFAULT_OUTPUT = 64 * 1024 * 1024
_FRAGMENTS_KEPT = 16  # decompressed fragment blocks kept for the next files


class SquashfsError(ValueError):
    """The image is not a SquashFS 4 this reader follows: unpack it as usual."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One path of the image: ``path`` is relative to its root (the root itself is ``""``)."""

    path: str
    mode: int  # st_mode: type and permission bits
    uid: int
    gid: int
    mtime: int
    inode: int
    size: int = 0  # regular files
    start: int = 0  # offset of the first data block in the image
    blocks: tuple[int, ...] = ()  # size words of the data blocks (bit 24: stored uncompressed; 0: a hole)
    fragment: int = _NO_FRAGMENT  # index of the fragment block holding the file's tail
    fragment_offset: int = 0
    target: str | None = None  # symlinks

    @property
    def is_file(self) -> bool:
        return stat.S_ISREG(self.mode)


def _decompressor(compression: int) -> Callable[[bytes, int], bytes]:
    """``decompress(data, limit)`` for the image's compressor: raises SquashfsError past ``limit`` bytes."""
    if compression == 1:

        def inflate(data: bytes, limit: int) -> bytes:
            engine = zlib.decompressobj()
            try:
                out = engine.decompress(data, limit)
            except zlib.error as exc:
                raise SquashfsError(f"a gzip block is corrupt: {exc}") from exc
            if engine.unconsumed_tail or not engine.eof:
                raise SquashfsError("a gzip block is larger than the format allows, or truncated")
            return out

        return inflate
    if compression in (2, 4):  # lzma (legacy "alone" streams) and xz
        form = lzma.FORMAT_ALONE if compression == 2 else lzma.FORMAT_XZ

        def unxz(data: bytes, limit: int) -> bytes:
            engine = lzma.LZMADecompressor(form)
            try:
                out = engine.decompress(data, max_length=limit)
            except lzma.LZMAError as exc:
                raise SquashfsError(f"an {'lzma' if compression == 2 else 'xz'} block is corrupt: {exc}") from exc
            if not engine.eof:
                raise SquashfsError("an xz block is larger than the format allows, or truncated")
            return out

        return unxz
    if compression == 6:
        try:
            import zstandard
        except ImportError as exc:  # pragma: no cover - installed with unblob
            raise SquashfsError("zstd is not available") from exc
        engine = zstandard.ZstdDecompressor()

        def unzstd(data: bytes, limit: int) -> bytes:
            try:  # read as a stream, one byte past the limit: a frame never makes more than that in memory
                with engine.stream_reader(data) as stream:
                    out = stream.read(limit + 1)
            except zstandard.ZstdError as exc:
                raise SquashfsError(f"a zstd block is corrupt: {exc}") from exc
            if len(out) > limit:
                raise SquashfsError("a zstd block is larger than the format allows")
            return bytes(out)

        return unzstd
    raise SquashfsError(f"compressor {compression} is not read here (lzo, lz4)")


class SquashfsReader:
    """One image held in memory (``data``: the bytes or an mmap of a file that is one whole SquashFS 4)."""

    def __init__(
        self, data: bytes | memoryview | mmap.mmap, *, max_entries: int, max_output: int = _DEFAULT_OUTPUT
    ) -> None:
        """``max_entries``: paths listed at most; ``max_output``: bytes decompressed at most, file contents
        included (metadata has its own bound, ``_METADATA_OUTPUT``). Past either, ``SquashfsError``."""
        self.data = memoryview(data)
        if len(self.data) < _SUPERBLOCK.size:
            raise SquashfsError("shorter than a superblock")
        fields = _SUPERBLOCK.unpack_from(self.data, 0)
        (magic, self.inode_count, _mtime, self.block_size, self.fragment_count, self.compression, block_log, _flags,
         self.id_count, major, _minor, self.root_inode, self.bytes_used, id_table, xattr_table, self.inode_table,
         self.directory_table, fragment_table, export_table) = fields  # fmt: skip
        if magic != _MAGIC or major != 4:
            raise SquashfsError("not a SquashFS 4 superblock")
        if not 4096 <= self.block_size <= 1 << 20 or 1 << block_log != self.block_size:
            raise SquashfsError(f"block size {self.block_size} is not one SquashFS allows")
        if not self.inode_table < self.directory_table <= self.bytes_used <= len(self.data):
            raise SquashfsError("the tables are not where a SquashFS 4 keeps them")
        # every inode is listed at least once, and every fragment block holds the tail of at least one file
        if self.inode_count > max_entries or self.fragment_count > self.inode_count:
            raise SquashfsError(f"{self.inode_count} inodes, {self.fragment_count} fragment blocks: past the limits")
        self.max_entries = max_entries
        self.max_output = max_output
        self.output = 0  # bytes decompressed so far
        self.metadata_output = 0
        self._decompress = _decompressor(self.compression)
        self._meta: dict[int, tuple[bytes, int]] = {}  # metadata block offset -> (contents, next block offset)
        self._tables(id_table, xattr_table, export_table, fragment_table)
        self._fragment_digests: dict[int, bytes] = {}
        self._fragment_blocks: dict[int, bytes] = {}

    # --- metadata --------------------------------------------------------------------------------------

    def _block(self, offset: int) -> tuple[bytes, int]:
        """The metadata block at ``offset`` (absolute) and where the next one starts."""
        cached = self._meta.get(offset)
        if cached is not None:
            return cached
        if not 0 <= offset <= self.bytes_used - 2:
            raise SquashfsError(f"a metadata reference points outside the image (0x{offset:x})")
        (word,) = struct.unpack_from("<H", self.data, offset)
        size = word & ~_UNCOMPRESSED_META
        end = offset + 2 + size
        if size == 0 or size > _METADATA or end > self.bytes_used:
            raise SquashfsError(f"a metadata block at 0x{offset:x} is damaged")
        raw = bytes(self.data[offset + 2 : end])
        contents = raw if word & _UNCOMPRESSED_META else self._decompress(raw, _METADATA)
        self.metadata_output += len(contents)
        if self.metadata_output > _METADATA_OUTPUT:  # legitimate tables of the largest budget hold a few MiB
            raise SquashfsError(f"metadata decompresses to more than {_METADATA_OUTPUT} bytes")
        self._meta[offset] = (contents, end)
        return contents, end

    def _read(self, offset: int, within: int, length: int, end: int) -> bytes:
        """``length`` bytes of the metadata that starts ``within`` the block at ``offset``, as far as ``end``."""
        if length > 0 and offset < end:  # most records lie within one block: a slice of it (nothing is read for none)
            contents, _ = self._block(offset)
            if within + length <= len(contents):
                return contents[within : within + length]
        out = bytearray()
        while len(out) < length:
            if offset >= end:
                raise SquashfsError("metadata runs past the end of its table")
            contents, following = self._block(offset)
            if within >= len(contents):  # a position counted on past the end of its block: the next one
                within -= len(contents)
                offset = following
                continue
            out += contents[within : within + length - len(out)]
            offset, within = following, 0
        return bytes(out)

    def _tables(self, id_table: int, xattr_table: int, export_table: int, fragment_table: int) -> None:
        """The lookup tables, checked as ``unsquashfs`` checks them before it extracts anything
        (squashfs-tools ``unsquash-4.c``, ``read_filesystem_tables``): each lies below the one after it (xattr ids,
        ids, exports, fragments, then the directory table), and each reads. An image unsquashfs would refuse is
        refused here too, so the scan's usual route meets it and records what unsquashfs says."""
        below = self.bytes_used
        if xattr_table != _ABSENT:
            if xattr_table + 16 > self.bytes_used:
                raise SquashfsError("the xattr id table lies outside the image")
            start, count = struct.unpack_from("<QI", self.data, xattr_table)
            if start >= xattr_table:
                raise SquashfsError("the xattr table is not below its index")
            self._table(xattr_table + 16, count, 16, "<QII", below)
            below = start
        if id_table >= below or not 1 <= self.id_count <= 2 * self.inode_count:
            raise SquashfsError("the id table is damaged")
        self.ids, below = self._table(id_table, self.id_count, 4, "<I", below)
        if export_table != _ABSENT:
            if export_table >= below:
                raise SquashfsError("the export table is not below the id table")
            _, below = self._table(export_table, self.inode_count, 8, "<Q", below)
        self.fragments: list[tuple[int, ...]] = []
        if self.fragment_count:
            if fragment_table >= below:
                raise SquashfsError("the fragment table is not below the tables after it")
            self.fragments, below = self._table(fragment_table, self.fragment_count, 16, "<QI4x", below)
        elif fragment_table != below:
            raise SquashfsError("an image without fragments has a fragment table")
        if self.directory_table > below:
            raise SquashfsError("the directory table runs into the lookup tables")

    def _table(self, start: int, count: int, size: int, layout: str, below: int) -> tuple[list[tuple[int, ...]], int]:
        """A lookup table: an index at ``start`` (ending by ``below``) of metadata blocks, which lie under it, of
        fixed-size records. Returns the records and where the table's first block starts."""
        per_block = _METADATA // size
        blocks = -(-count // per_block)
        if not 0 <= start <= start + 8 * blocks <= below:
            raise SquashfsError("a lookup table lies outside the image")
        record = struct.Struct(layout)
        out: list[tuple[int, ...]] = []
        first = start
        for i in range(blocks):
            (pointer,) = struct.unpack_from("<Q", self.data, start + 8 * i)
            if pointer >= start:
                raise SquashfsError("a lookup table's block is not below its index")
            first = min(first, pointer)
            contents, _ = self._block(pointer)
            wanted = min(per_block, count - i * per_block)
            if len(contents) < wanted * size:
                raise SquashfsError("a lookup table is short")
            out.extend(record.unpack_from(contents, j * size) for j in range(wanted))
        return out, first

    # --- the listing -------------------------------------------------------------------------------------

    def entries(self) -> list[Entry]:
        """Every path of the image, parents before children, in directory order."""
        try:
            return self._entries()
        except struct.error as exc:  # a record cut short
            raise SquashfsError(f"a table is truncated: {exc}") from exc

    def _entries(self) -> list[Entry]:
        root = self._inode(self.root_inode, "")
        if not stat.S_ISDIR(root[0].mode):
            raise SquashfsError("the root is not a directory")
        out = [root[0]]
        # unsquashfs makes a second path to an inode number a hard link to the first: a number must name one inode
        numbers = {root[0].inode: self.root_inode}
        stack = [(root, frozenset({root[0].inode}))]
        while stack:
            (directory, listing), ancestors = stack.pop()
            children = []
            for name, reference in self._listing(*listing):
                path = f"{directory.path}/{name}" if directory.path else name
                entry, inner = self._inode(reference, path)
                if not 1 <= entry.inode <= self.inode_count or numbers.setdefault(entry.inode, reference) != reference:
                    raise SquashfsError(f"inode number {entry.inode} of {path} is out of range or names two inodes")
                out.append(entry)
                if len(out) > self.max_entries:
                    raise SquashfsError(f"more than {self.max_entries} entries")
                if stat.S_ISDIR(entry.mode):
                    if entry.inode in ancestors:
                        raise SquashfsError(f"directory {path} holds itself")
                    children.append(((entry, inner), ancestors | {entry.inode}))
            stack.extend(reversed(children))
        return out

    def _inode(self, reference: int, path: str) -> tuple[Entry, tuple[int, int, int]]:
        """The entry of the inode at ``reference``; for a directory also where its listing is."""
        block, within = reference >> 16, reference & 0xFFFF
        offset = self.inode_table + block
        end = self.directory_table
        kind, perms, uid, gid, mtime, number = _HEADER.unpack(self._read(offset, within, _HEADER.size, end))
        base = kind - _EXTENDED if kind > _EXTENDED else kind
        if base not in _KIND or kind > 14 or max(uid, gid) >= len(self.ids):
            raise SquashfsError(f"inode of {path or '/'} is damaged")
        common = (path, _KIND[base] | (perms & 0o7777), self.ids[uid][0], self.ids[gid][0], mtime, number)
        within += _HEADER.size
        listing = (0, 0, 0)
        if kind == 1:
            start, _, size, at, _ = struct.unpack("<IIHHI", self._read(offset, within, 16, end))
            listing = (start, at, size)
            entry = Entry(*common)
        elif kind == 8:
            _, size, start, _, _, at, _ = struct.unpack("<IIIIHHI", self._read(offset, within, 24, end))
            listing = (start, at, size)
            entry = Entry(*common)
        elif base == 2:
            if kind == 2:
                start, fragment, frag_offset, size = struct.unpack("<IIII", self._read(offset, within, 16, end))
                within += 16
            else:
                start, size, _, _, fragment, frag_offset, _ = struct.unpack(
                    "<QQQIIII", self._read(offset, within, 40, end)
                )
                within += 40
            whole = size // self.block_size
            count = -(-size // self.block_size) if fragment == _NO_FRAGMENT else whole
            if count > (self.bytes_used // 4) or (fragment != _NO_FRAGMENT and fragment >= len(self.fragments)):
                raise SquashfsError(f"inode of {path} is damaged")
            words = struct.unpack(f"<{count}I", self._read(offset, within, 4 * count, end)) if count else ()
            entry = Entry(*common, size, start, words, fragment, frag_offset)
        elif base == 3:
            _, length = struct.unpack("<II", self._read(offset, within, 8, end))
            if length > 4096:
                raise SquashfsError(f"symlink {path} is damaged")
            raw = self._read(offset, within + 8, length, end)
            entry = Entry(*common, target=raw.decode("utf-8", "surrogateescape"))
        else:  # devices, FIFOs, sockets: nothing to read
            entry = Entry(*common)
        return entry, listing

    def _listing(self, start: int, within: int, size: int) -> Iterator[tuple[str, int]]:
        """(name, inode reference) of each entry of a directory whose listing is ``size`` + 3 bytes."""
        if size < 3:
            raise SquashfsError("a directory listing is damaged")
        data = self._read(self.directory_table + start, within, size - 3, self.bytes_used)
        at, seen = 0, set()
        while at < len(data):
            if at + 12 > len(data):
                raise SquashfsError("a directory header is truncated")
            count, inode_block, _ = struct.unpack_from("<III", data, at)
            at += 12
            if count >= 256:
                raise SquashfsError("a directory header is damaged")
            for _ in range(count + 1):
                if at + 8 > len(data):
                    raise SquashfsError("a directory entry is truncated")
                within_block, _, _, name_size = struct.unpack_from("<HhHH", data, at)
                raw = data[at + 8 : at + 9 + name_size]
                at += 9 + name_size
                if len(raw) != name_size + 1 or b"/" in raw or b"\0" in raw or raw in (b".", b".."):
                    raise SquashfsError(f"directory entry {raw!r} is not a file name")
                name = raw.decode("utf-8", "surrogateescape")
                if name in seen:
                    raise SquashfsError(f"directory lists {name!r} twice")
                seen.add(name)
                yield name, (inode_block << 16) | within_block

    # --- file contents -------------------------------------------------------------------------------

    def _span(self, offset: int, word: int) -> memoryview:
        size = word & ~_UNCOMPRESSED_DATA
        if size > self.block_size or not 0 <= offset <= offset + size <= self.bytes_used:
            raise SquashfsError(f"a data block at 0x{offset:x} lies outside the image")
        return self.data[offset : offset + size]

    def _locator(self, entry: Entry) -> str:
        digest = hashlib.sha256(struct.pack("<HIQ", self.compression, self.block_size, entry.size))
        offset = entry.start
        for word in entry.blocks:
            digest.update(struct.pack("<I", word))
            digest.update(self._span(offset, word))
            offset += word & ~_UNCOMPRESSED_DATA
        if entry.fragment != _NO_FRAGMENT:
            tail = entry.size - len(entry.blocks) * self.block_size
            digest.update(struct.pack("<II", entry.fragment_offset, tail))
            digest.update(self._fragment_digest(entry.fragment))
        return digest.hexdigest()

    def _fragment_digest(self, index: int) -> bytes:
        found = self._fragment_digests.get(index)
        if found is None:
            start, word = self.fragments[index]
            found = hashlib.sha256(struct.pack("<I", word)).digest() + hashlib.sha256(self._span(start, word)).digest()
            self._fragment_digests[index] = found
        return found

    def read(self, entry: Entry) -> bytes:
        """The contents of a regular file (at most its size; holes read as zeros)."""
        try:
            return self._contents(entry)
        except struct.error as exc:
            raise SquashfsError(f"{entry.path}: {exc}") from exc

    def locator(self, entry: Entry) -> str:
        """A digest of the compressed bytes that hold ``entry``'s contents: equal locators, equal contents."""
        try:
            return self._locator(entry)
        except struct.error as exc:
            raise SquashfsError(f"{entry.path}: {exc}") from exc

    def _contents(self, entry: Entry) -> bytes:
        out = bytearray()
        offset = entry.start
        for word in entry.blocks:
            want = min(self.block_size, entry.size - len(out))
            if word == 0:
                out += bytes(want)
                continue
            block = self._data(offset, word)
            if len(block) != want:
                raise SquashfsError(f"{entry.path}: a data block does not hold what its size says")
            out += block
            offset += word & ~_UNCOMPRESSED_DATA
        if entry.fragment != _NO_FRAGMENT:
            tail = entry.size - len(out)
            block = self._fragment(entry.fragment)
            if entry.fragment_offset + tail > len(block):
                raise SquashfsError(f"the tail of {entry.path} lies outside its fragment block")
            out += block[entry.fragment_offset : entry.fragment_offset + tail]
        if len(out) != entry.size:
            raise SquashfsError(f"{entry.path}: its blocks do not add up to its size")
        return bytes(out)

    def _data(self, offset: int, word: int) -> bytes:
        raw = self._span(offset, word)
        if word & _UNCOMPRESSED_DATA:
            return bytes(raw)
        out = self._decompress(bytes(raw), self.block_size)
        self.output += len(out)
        if self.output > self.max_output:
            raise SquashfsError(f"the files read decompress to more than {self.max_output} bytes")
        return out

    def _fragment(self, index: int) -> bytes:
        block = self._fragment_blocks.get(index)
        if block is None:
            start, word = self.fragments[index]
            if len(self._fragment_blocks) >= _FRAGMENTS_KEPT:  # files come in the order their tails were packed
                del self._fragment_blocks[next(iter(self._fragment_blocks))]
            block = self._fragment_blocks[index] = self._data(start, word)
        return block


@contextlib.contextmanager
def opened(image: Path, *, max_entries: int, max_output: int = _DEFAULT_OUTPUT) -> Iterator[SquashfsReader]:
    """A reader of the file, mapped read-only (an image may be larger than memory) and unmapped afterwards."""
    with image.open("rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            raise SquashfsError("empty file")
        view = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    reader = None
    try:
        reader = SquashfsReader(view, max_entries=max_entries, max_output=max_output)
        yield reader
    finally:
        with contextlib.suppress(BufferError):  # a slice still held elsewhere: the map goes when it does
            if reader is not None:
                reader.data.release()
            view.close()


def modes(entries: list[Entry]) -> dict[str, tuple[int, int, int]]:
    """``{path: (mode, uid, gid)}`` as ``metadata.py`` gives every file system's (the root is ``""``)."""
    return {e.path: (e.mode, e.uid, e.gid) for e in entries}


__all__ = ["Entry", "SquashfsError", "SquashfsReader", "modes", "opened"]
