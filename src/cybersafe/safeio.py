"""Open the files a user names, without being fooled: regular files only, never more than a stated size.

A path given on the command line can be a FIFO (reading it blocks until someone writes), a device
(``/dev/zero`` never ends, ``/dev/watchdog`` acts when opened) or a symlink to either. Every reader of a
user-named file (dossier, catalogs, SBOM, VEX, vulnerability feeds, label envelopes, keys, assessment JSON,
firmware images) opens it here:

- ``stat`` first: anything but a regular file is refused without being opened;
- then ``open(O_RDONLY | O_NONBLOCK | O_NOCTTY)`` and ``fstat`` on the descriptor: still the same regular
  file (a path swapped between the two calls is refused too);
- at most ``limit`` bytes are read, whatever the file claims (files in ``/proc`` report size 0 and grow).

Each refusal is one ``InputError`` line naming the file, the reason and the limit. This module imports
nothing of cybersafe but ``errors``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import mmap
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from cybersafe.errors import InputError

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
_BLOCK = 1 * MiB
HASH_BLOCK = 256 * KiB  # hashed from one buffer (``blocks``): fastest measured from 64 KiB to 4 MiB

_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a directory"),
)


def size_text(size: int) -> str:
    """``268435456`` -> ``256 MiB``; exact units when they fit, else one decimal."""
    for unit, name in ((GiB, "GiB"), (MiB, "MiB"), (KiB, "KiB")):
        if size >= unit:
            value = size / unit
            return f"{value:.0f} {name}" if size % unit == 0 else f"{value:.1f} {name}"
    return f"{size} bytes"


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def _refuse_special(path: Path, st: os.stat_result, error: type[InputError], field: str | None) -> None:
    if stat.S_ISREG(st.st_mode):
        return
    kind = _kind(st.st_mode)
    target = ""
    with contextlib.suppress(OSError):
        if path.is_symlink():
            target = f" (a link to {path.resolve()})"
    raise error(f"is {kind}{target}, not a regular file; refusing to read it", file=path, field=field)


def _too_big(
    path: Path, size: int | None, limit: int, what: str, error: type[InputError], field: str | None
) -> InputError:
    actual = f" (it has {size_text(size)})" if size is not None else ""
    return error(
        f"larger than the {size_text(limit)} limit for {what}{actual}; refusing to read it", file=path, field=field
    )


def _os_error(path: Path, exc: OSError, error: type[InputError], field: str | None) -> InputError:
    if isinstance(exc, FileNotFoundError):
        return error("file not found", file=path, field=field)
    if isinstance(exc, IsADirectoryError):
        return error("is a directory, not a regular file", file=path, field=field)
    return error(f"cannot read: {exc.strerror or exc}", file=path, field=field)


@contextlib.contextmanager
def open_regular(
    path: str | Path,
    limit: int | None = None,
    *,
    what: str = "this input",
    error: type[InputError] = InputError,
    field: str | None = None,
) -> Iterator[BinaryIO]:
    """A binary file object on ``path`` if it is a regular file of at most ``limit`` bytes (None: any size).

    The size is checked once, from ``fstat``; a caller that streams a file which may grow while read must
    bound its own reads (``read_bytes`` does).
    """
    path = Path(path)
    try:
        before = Path(path).stat()
        _refuse_special(path, before, error, field)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise _os_error(path, exc, error, field) from None
    try:
        after = os.fstat(fd)
        if (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino):
            raise error("changed while being opened; refusing to read it", file=path, field=field)
        _refuse_special(path, after, error, field)
        if limit is not None and after.st_size > limit:
            raise _too_big(path, after.st_size, limit, what, error, field)
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~os.O_NONBLOCK)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        yield handle


def read_bytes(
    path: str | Path,
    limit: int,
    *,
    what: str = "this input",
    error: type[InputError] = InputError,
    field: str | None = None,
) -> bytes:
    """The whole content of a regular file of at most ``limit`` bytes, else one ``error`` line."""
    path = Path(path)
    with open_regular(path, limit, what=what, error=error, field=field) as handle:
        chunks: list[bytes] = []
        total = 0
        try:
            while block := handle.read(min(_BLOCK, limit + 1 - total)):
                chunks.append(block)
                total += len(block)
                if total > limit:
                    raise _too_big(path, None, limit, what, error, field)
        except OSError as exc:
            raise _os_error(path, exc, error, field) from None
    return b"".join(chunks)


def read_text(
    path: str | Path,
    limit: int,
    *,
    what: str = "this input",
    error: type[InputError] = InputError,
    field: str | None = None,
    encoding: str = "utf-8",
) -> str:
    """``read_bytes`` decoded; text that is not ``encoding`` is one ``error`` line with the byte offset."""
    return decoded(read_bytes(path, limit, what=what, error=error, field=field), path, error, field, encoding)


def decoded(
    raw: bytes,
    path: str | Path,
    error: type[InputError] = InputError,
    field: str | None = None,
    encoding: str = "utf-8",
) -> str:
    """``raw`` (read from ``path``) decoded, or one ``error`` line with the byte offset."""
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise error(f"not {encoding.upper()} text (byte {exc.start})", file=Path(path), field=field) from None


def is_regular_file(path: str | Path) -> bool:
    """True for a regular file or a link to one; never opens anything."""
    try:
        return stat.S_ISREG(Path(path).stat().st_mode)
    except (OSError, ValueError):
        return False


def describe(path: str | Path) -> str:
    """What is at ``path``, for a refusal: "not found", "a FIFO (named pipe)", "a regular file" ..."""
    try:
        mode = Path(path).stat().st_mode
    except FileNotFoundError:
        return "not found"
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    return "a regular file" if stat.S_ISREG(mode) else _kind(mode)


def sha256_file(
    path: str | Path,
    limit: int | None = None,
    *,
    what: str = "this input",
    error: type[InputError] = InputError,
    field: str | None = None,
    block: int = HASH_BLOCK,
) -> tuple[str, int]:
    """(hex sha256, size) of a regular file, read as a stream; at most ``limit`` bytes when given. ``block``:
    the size of each read (a thread hashing while another works needs the interpreter back after each read and
    each hash, and waits a switch interval for it: such a thread reads larger blocks)."""
    path = Path(path)
    digest = hashlib.sha256()
    size = 0
    with open_regular(path, limit, what=what, error=error, field=field) as handle:
        try:
            for data in blocks(handle, block):
                digest.update(data)
                size += len(data)
                if limit is not None and size > limit:
                    raise _too_big(path, None, limit, what, error, field)
        except OSError as exc:
            raise _os_error(path, exc, error, field) from None
    return digest.hexdigest(), size


def map_regular(
    path: str | Path,
    limit: int | None = None,
    *,
    what: str = "this input",
    error: type[InputError] = InputError,
    field: str | None = None,
) -> tuple[mmap.mmap | None, int]:
    """A regular file of at most ``limit`` bytes mapped read-only, and its size (None for an empty file, which
    cannot be mapped): the caller closes the map. Hashing a map is one call that lets go of the interpreter
    throughout, where a stream needs it back after each read and each hash. Raises ``error`` as ``open_regular``
    does, and OSError or ValueError where the file system maps nothing (read it as a stream then)."""
    with open_regular(path, limit, what=what, error=error, field=field) as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return None, 0
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        return mapped, len(mapped)  # the size mapped, should the file have grown since it was opened


def blocks(handle: BinaryIO, size: int = HASH_BLOCK) -> Iterator[memoryview]:
    """The rest of a binary file, block by block, read into one buffer: each block is valid until the next is
    read (a new buffer per block costs a third more than hashing it, in page faults). The buffer is no larger
    than ``size`` or the file (64 KiB at least); the file is read to its end even if it grows."""
    buffer = bytearray(max(64 * KiB, min(size, os.fstat(handle.fileno()).st_size + 1)))
    view = memoryview(buffer)
    while count := handle.readinto(buffer):  # type: ignore[attr-defined]
        yield view[:count]


def refuse_special(path: str | Path, *, error: type[InputError] = InputError, field: str | None = None) -> None:
    """For files opened by other libraries (SQLite): absent or a regular file is fine, anything else is refused."""
    found = describe(path)
    if found not in ("not found", "a regular file"):
        raise error(f"is {found}, not a regular file; refusing to open it", file=Path(path), field=field)
