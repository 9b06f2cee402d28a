"""File modes and owners from the image's own metadata.

unblob does not keep modes (it makes everything readable; cpio output even loses exec bits), so permission
and owner facts come from the file system itself: ``unsquashfs -lln`` for SquashFS, ``debugfs`` for
ext2/3/4, the archive headers for cpio and tar. Each reader returns ``{relative path: (mode, uid, gid)}``
for one chunk, or None when the metadata cannot be read (the inventory then records that gap).
"""

from __future__ import annotations

import contextlib
import os
import stat
import struct
import subprocess
import tarfile
import zipfile
from pathlib import Path

Meta = dict[str, tuple[int, int, int]]

_TIMEOUT_S = 120
_TYPE = {"-": 0o100000, "d": 0o040000, "l": 0o120000, "c": 0o020000, "b": 0o060000, "p": 0o010000, "s": 0o140000}


def parse_mode_string(text: str) -> int:
    """``-rwsr-xr-x`` -> 0o104755."""
    mode = _TYPE.get(text[0], 0)
    bits = text[1:10]
    for i, (flag, value) in enumerate(zip(bits, (0o400, 0o200, 0o100, 0o40, 0o20, 0o10, 0o4, 0o2, 0o1), strict=True)):
        if flag in "rwxst":
            mode |= value
        if i == 2 and flag in "sS":
            mode |= 0o4000
        if i == 5 and flag in "sS":
            mode |= 0o2000
        if i == 8 and flag in "tT":
            mode |= 0o1000
    # 's'/'t' include the x bit, 'S'/'T' do not
    for i, xbit in ((2, 0o100), (5, 0o010), (8, 0o001)):
        if bits[i] in "ST":
            mode &= ~xbit
    return mode


INODE_TABLE = "squashfs inode table"
_MAX_ENTRIES = 1_000_000  # past the deepest budget's file count: such a table is left to unsquashfs


def squashfs_inode_table(chunk_file: Path) -> Meta | None:
    """The modes of a SquashFS 4 (little endian) read from its inode table in this process (``squashfs.py``),
    without starting ``unsquashfs``; None for anything that reader does not follow (unsquashfs reads it)."""
    from cybersafe.evidence.firmware.squashfs import SquashfsError, modes, opened

    try:
        with opened(chunk_file, max_entries=_MAX_ENTRIES) as reader:
            return modes(reader.entries())
    except (SquashfsError, struct.error, OSError, ValueError, MemoryError):
        return None


def squashfs_metadata(chunk_file: Path) -> Meta | None:
    try:
        out = subprocess.run(
            ["unsquashfs", "-lln", str(chunk_file)],
            capture_output=True,
            timeout=_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    meta: Meta = {}
    for raw in out.stdout.decode("utf-8", "replace").splitlines():
        parts = raw.split(None, 5)
        if len(parts) < 6 or len(parts[0]) != 10 or "/" not in parts[1]:
            continue
        owner = parts[1].split("/")
        name = parts[5]  # after size, date and time; may contain spaces
        if parts[0][0] == "l" and " -> " in name:
            name = name.split(" -> ", 1)[0]
        if not name.startswith("squashfs-root"):
            continue
        rel = name[len("squashfs-root") :].lstrip("/")
        with contextlib.suppress(ValueError):
            meta[rel] = (parse_mode_string(parts[0]), int(owner[0]), int(owner[1]))
    return meta if out.returncode == 0 or meta else None


def ext_metadata(chunk_file: Path, extract_dir: Path) -> Meta | None:
    """List every directory of the extracted tree with one ``debugfs -f`` run."""
    dirs = [""]
    stack = [""]  # without recursion: a hostile image may nest thousands of directories
    while stack:
        parent = stack.pop()
        try:
            with os.scandir(extract_dir / parent) as entries:
                found = [e.name for e in entries if e.is_dir(follow_symlinks=False)]
        except OSError:
            continue
        for name in found:
            rel = f"{parent}/{name}" if parent else name
            dirs.append(rel)
            stack.append(rel)
    commands = "".join(f'ls -p "/{d}"\n' for d in dirs if '"' not in d and "\n" not in d)
    try:
        out = subprocess.run(
            ["debugfs", "-f", "-", str(chunk_file)],
            input=commands.encode(),
            capture_output=True,
            timeout=_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    meta: Meta = {}
    current = ""
    for raw in out.stdout.decode("utf-8", "replace").splitlines():
        if raw.startswith("debugfs: ls -p "):
            current = raw[len("debugfs: ls -p ") :].strip().strip('"').strip("/")
            continue
        if not raw.startswith("/"):
            continue
        fields = raw.split("/")
        # /inode/mode/uid/gid/name/size/ ; names with '/' cannot occur
        if len(fields) < 7 or fields[5] in (".", ".."):
            continue
        with contextlib.suppress(ValueError):
            rel = f"{current}/{fields[5]}" if current else fields[5]
            meta[rel] = (int(fields[2], 8), int(fields[3]), int(fields[4]))
    return meta or None


def cpio_metadata(chunk_file: Path, start: int = 0, end: int | None = None) -> Meta | None:
    """Parse newc / crc ("070701"/"070702") and odc ("070707") headers."""
    meta: Meta = {}
    try:
        with chunk_file.open("rb") as fh:
            fh.seek(start)
            data = fh.read((end - start) if end is not None else -1)
    except OSError:
        return None
    pos = 0
    while pos + 6 <= len(data):
        magic = data[pos : pos + 6]
        try:
            if magic in (b"070701", b"070702"):
                head = data[pos : pos + 110]
                mode, uid, gid = _field(head[14:22], 16), _field(head[22:30], 16), _field(head[30:38], 16)
                filesize, namesize = _field(head[54:62], 16), _field(head[94:102], 16)
                name = data[pos + 110 : pos + 110 + namesize - 1].decode("utf-8", "replace")
                nxt = _align4(_align4(pos + 110 + namesize) + filesize)
            elif magic == b"070707":
                head = data[pos : pos + 76]
                mode, uid, gid = _field(head[18:24], 8), _field(head[24:30], 8), _field(head[30:36], 8)
                namesize, filesize = _field(head[59:65], 8), _field(head[65:76], 8)
                name = data[pos + 76 : pos + 76 + namesize - 1].decode("utf-8", "replace")
                nxt = pos + 76 + namesize + filesize
            else:
                break
        except ValueError:
            break
        if nxt <= pos:  # a hostile header must not move the cursor backwards (endless loop)
            break
        pos = nxt
        if name == "TRAILER!!!":
            break
        rel = archive_name(name)
        if rel:
            meta[rel] = (mode, uid, gid)
    return meta or None


def archive_name(name: str) -> str:
    """``./etc/x`` and ``/etc/x`` -> ``etc/x``; ``..`` segments are kept so a traversal stays visible."""
    while name.startswith(("./", "/")):
        name = name[2:] if name.startswith("./") else name[1:]
    return "" if name == "." else name.rstrip("/")


def is_traversal(rel: str) -> bool:
    return ".." in rel.split("/")


def zip_metadata(chunk_file: Path) -> Meta | None:
    """Unix modes from the central directory (``external_attr >> 16`` when made on Unix)."""
    meta: Meta = {}
    try:
        with zipfile.ZipFile(chunk_file) as archive:
            for info in archive.infolist():
                mode = info.external_attr >> 16
                if info.create_system != 3 or not mode:
                    return None  # not made on Unix: no modes to read
                meta[archive_name(info.filename)] = (mode, 0, 0)
    except (OSError, zipfile.BadZipFile, ValueError, EOFError):
        return None
    return meta or None


def _field(text: bytes, base: int) -> int:
    """An unsigned header field: signs, spaces and other junk are a malformed header (ValueError)."""
    allowed = "01234567" if base == 8 else "0123456789abcdefABCDEF"
    if not text or not all(chr(c) in allowed for c in text):
        raise ValueError(f"bad cpio header field {text!r}")
    return int(text, base)


def _align4(value: int) -> int:
    return (value + 3) & ~3


def tar_metadata(chunk_file: Path) -> Meta | None:
    meta: Meta = {}
    try:
        with tarfile.open(chunk_file, "r:") as tar:
            for member in tar:
                meta[archive_name(member.name)] = (_tar_kind(member) | member.mode, member.uid, member.gid)
    except (OSError, tarfile.TarError, EOFError):
        return meta or None
    return meta or None


def _tar_kind(member: tarfile.TarInfo) -> int:
    """The file type bits of a tar member (a hard link is a regular file)."""
    for test, kind in (
        (member.isdir, stat.S_IFDIR),
        (member.issym, stat.S_IFLNK),
        (member.ischr, stat.S_IFCHR),
        (member.isblk, stat.S_IFBLK),
        (member.isfifo, stat.S_IFIFO),
    ):
        if test():
            return kind
    return stat.S_IFREG


_JFFS2_DIRENT = 0xE001
_JFFS2_INODE = 0xE002
_JFFS2_MAX_NODE = 1 << 20


def jffs2_metadata(chunk_file: Path, max_bytes: int = 1 << 30) -> Meta | None:
    """Walk the JFFS2 node log: the newest dirent per (parent, name) and the newest inode per ino."""
    try:
        with chunk_file.open("rb") as fh:
            data = fh.read(max_bytes)
    except OSError:
        return None
    order = {b"\x85\x19": "<", b"\x19\x85": ">"}.get(data[:2])
    if order is None:
        return None
    dirents, inodes = _jffs2_nodes(data, order)
    return _jffs2_tree(dirents, inodes) or None


_Dirents = dict[tuple[int, str], tuple[int, int]]  # (parent ino, name) -> (version, ino)
_Inodes = dict[int, tuple[int, int, int, int]]  # ino -> (version, mode, uid, gid)


def _jffs2_nodes(data: bytes, order: str) -> tuple[_Dirents, _Inodes]:
    """The newest version of every directory entry and inode in the node log."""
    magic = data[:2]
    dirents: _Dirents = {}
    inodes: _Inodes = {}
    pos, end = 0, len(data)
    while pos + 12 <= end:
        if data[pos : pos + 2] != magic:
            pos += 4
            continue
        nodetype, totlen = struct.unpack_from(order + "HI", data, pos + 2)
        if totlen < 12 or totlen > _JFFS2_MAX_NODE:
            pos += 4
            continue
        if nodetype == _JFFS2_DIRENT and pos + 40 <= end:
            pino, version, ino, _mctime, nsize = struct.unpack_from(order + "IIIIB", data, pos + 12)
            name = data[pos + 40 : pos + 40 + nsize].decode("utf-8", "replace")
            key = (pino, name)
            if name and "/" not in name and (key not in dirents or dirents[key][0] < version):
                dirents[key] = (version, ino)
        elif nodetype == _JFFS2_INODE and pos + 28 <= end:
            ino, version, mode, uid, gid = struct.unpack_from(order + "IIIHH", data, pos + 12)
            if ino not in inodes or inodes[ino][0] < version:
                inodes[ino] = (version, mode, uid, gid)
        pos += (totlen + 3) & ~3
    return dirents, inodes


def _jffs2_tree(dirents: _Dirents, inodes: _Inodes) -> Meta:
    """Paths from the root inode (1) down, without recursion; a directory loop is visited once."""
    children: dict[int, list[tuple[str, int]]] = {}
    for (pino, name), (_, ino) in dirents.items():
        if ino:  # ino 0: the name was deleted
            children.setdefault(pino, []).append((name, ino))
    meta: Meta = {}
    stack: list[tuple[int, str]] = [(1, "")]
    seen: set[int] = set()
    while stack:
        parent, prefix = stack.pop()
        if parent in seen:
            continue
        seen.add(parent)
        for name, ino in children.get(parent, []):
            rel = f"{prefix}{name}"
            if ino in inodes:
                _, mode, uid, gid = inodes[ino]
                meta[rel] = (mode, uid, gid)
                if stat.S_ISDIR(mode):
                    stack.append((ino, rel + "/"))
    return meta


def read_metadata(handler: str, chunk_file: Path, extract_dir: Path) -> tuple[str | None, Meta | None]:
    """The metadata source name and its table for one chunk handler."""
    if handler.startswith("squashfs"):
        meta = squashfs_inode_table(chunk_file)
        if meta is not None:
            return INODE_TABLE, meta
        return "unsquashfs", squashfs_metadata(chunk_file)
    if handler == "extfs":
        return "debugfs", ext_metadata(chunk_file, extract_dir)
    if handler.startswith("cpio"):
        return "cpio", cpio_metadata(chunk_file)
    if handler == "tar":
        return "tar", tar_metadata(chunk_file)
    if handler == "zip":
        return "zip", zip_metadata(chunk_file)
    if handler.startswith("jffs2"):
        return "jffs2", jffs2_metadata(chunk_file)
    return None, None
