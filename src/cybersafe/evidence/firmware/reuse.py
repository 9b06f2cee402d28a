"""A delta run's extraction: a release that is one whole SquashFS, told apart from its baseline without unpacking.

The usual route unpacks the whole image to learn which of its files changed (``unsquashfs`` in the extraction
child, most of a delta run's time). Here the image is read in place (``squashfs.py``): a file whose locator (a
digest of the compressed bytes that hold it) is the one the baseline's memo recorded for that path holds the
bytes the baseline analysed, so it is neither decompressed nor written out; the scan takes its facts from the
memo (a *virtual* file). A file whose locator moved (its fragment block was repacked) is read and hashed, and
is known when its sha256 is. A known file the baseline's unblob decompressed as a whole into one plain file (a
``.gz`` changelog: the memo's ``x``) stays virtual too, with its output and the chunk unblob found: the same
bytes give the same output. Every other file is written out and analysed as in a full run, and so is every
file the scan's text collectors read (accounts, boot scripts, package databases, configuration files the memo
has no credentials for), and every symlink, with the directories they need. A new or changed file unblob could
find something in is written out and searched alone: unblob runs on those files only, as the direct route's
child runs it on what ``unsquashfs`` wrote (``_unblob_child._Prepared``), and its chunks, files and problems
join the rest.

The result is the direct route's (``_unblob_child._DirectSquashfs``): the same chunks, the same files known to
unblob. Whenever that cannot be vouched for, ``reuse_unpacked`` returns None and the image is unpacked as usual,
with nothing lost but time: the image is no single SquashFS 4; the reader meets anything it does not follow or that
``unsquashfs`` would refuse (``squashfs.py``); a file unblob must search sits right in the root of the file system
(how its output is shown depends on the files next to it, not all written out); unblob's search left a gap (a
limit, a failed extraction); a name a multi-volume handler would claim or that ends in ``_extract``; a symlink
unblob's fix-up would remove (which one of a loop goes depends on the order the file system lists them); more to
write out than ``_READ_MAX``; or a budget the direct route would stop at.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import stat
import struct
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cybersafe.evidence.firmware._native import SquashfsImage, needs_unblob, whole_squashfs
from cybersafe.evidence.firmware._unblob_child import DIR_HANDLER_GLOBS, Limits, fix_extracted
from cybersafe.evidence.firmware.budget import Budget
from cybersafe.evidence.firmware.memo import Decompressed, FileMemo
from cybersafe.evidence.firmware.metadata import Meta
from cybersafe.evidence.firmware.squashfs import Entry, SquashfsError, SquashfsReader, modes, opened
from cybersafe.evidence.firmware.unpack import (
    CARVED,
    FS_HANDLERS,
    ROOTFS_MARKERS,
    Chunk,
    Extraction,
    UnpackResult,
    neutralise_links,
    read_child_result,
    remove_tree,
    walk_tree,
)

# Does the scan read this file's bytes (path inside its file system; whether the memo has its credentials)?
ReadsBytes = Callable[[str, bool], bool]


@dataclass
class Layout:
    """What the image's own tables say: each regular file's locator (by display path) and every path's modes."""

    locators: dict[str, str] = field(default_factory=dict)
    modes: Meta = field(default_factory=dict)


@dataclass
class Reused:
    """The unpacked image as the scan sees it: real files under ``result.extract_root`` plus virtual ones."""

    result: UnpackResult
    layout: Layout
    workdir: Path  # made here: the caller removes it
    digests: dict[Path, tuple[str, int]] = field(default_factory=dict)  # every regular file: sha256, size
    virtual: frozenset[Path] = frozenset()  # known files not written out: their facts come from the memo
    # the virtual files decompressed (memo ``x``): each one's output dir -> the one virtual file in it
    extracted: dict[Path, Path] = field(default_factory=dict)


def read_layout(image: Path, budget: Budget) -> Layout | None:
    """The layout of an image that is one whole SquashFS 4 (a full scan records the locators for the next
    release's delta run, and takes the modes from it); None when the image is not one this reader follows."""
    try:
        with opened(image, max_entries=budget.files) as reader:
            entries = reader.entries()
            return Layout({f"/{e.path}": reader.locator(e) for e in entries if e.is_file}, modes(entries))
    except (SquashfsError, struct.error, OSError, ValueError, MemoryError):
        return None


def reuse_unpacked(
    image: Path, budget: Budget, memo: FileMemo, reads: ReadsBytes, workdir_parent: Path | None = None
) -> Reused | None:
    """The image unpacked as far as a delta run needs it, in a new work dir (``Reused.workdir``, the caller's to
    remove); None: unpack it as usual (nothing is left behind)."""
    started = time.monotonic()
    plan = whole_squashfs(image)
    if plan is None or not memo.locators:
        return None
    limits = Limits(budget.bytes_written, budget.max_ratio, budget.ratio_floor)
    allowance = limits.allowance(plan.size)
    try:
        with opened(image, max_entries=budget.files, max_output=allowance) as reader:
            entries = reader.entries()
            total = sum(e.size for e in entries if e.is_file)
            if total >= allowance or _unusual_names(entries):
                return None
            found = _Sorter(reader, memo, reads, limits).sort(entries)
    except (SquashfsError, struct.error, OSError, ValueError, MemoryError):
        return None
    if found is None:
        return None
    if found.decompressed and (
        # what unblob would write from them counts against the budgets as in a full run
        total + sum(packed.size for _, packed in found.decompressed) >= allowance
        or len(entries) + 2 * len(found.decompressed) > budget.files
    ):
        return None
    # unblob's output has no bound known here: the usual temp dir then
    small = _small_dir(found.written) if not found.searched else None
    workdir = Path(tempfile.mkdtemp(prefix="cybersafe-fw-", dir=workdir_parent or small))
    try:
        workdir.chmod(0o700)
        reused = _unpacked(workdir, plan, found, entries, started, budget)
    except OSError:
        reused = None
    except BaseException:
        remove_tree(workdir)
        raise
    if reused is None:
        remove_tree(workdir)
    return reused


def _small_dir(size: int) -> Path | None:
    """Where a work dir of ``size`` bytes goes: a RAM-backed directory when there is one and the files are few
    and small (a file system that discards every freed block makes each mkdir and unlink cost a fraction of a
    millisecond); the usual temp dir otherwise. The usual route cannot know in advance what it will write."""
    shm = Path("/dev/shm")  # noqa: S108 - a private mkdtemp inside it, mode 0700
    return shm if size <= _READ_MAX and os.access(shm, os.W_OK | os.X_OK) and shm.is_dir() else None


# what is written out is held in memory first: past this, the usual route (which streams) is taken; it is also
# the size a RAM-backed work dir is used up to
_READ_MAX = 64 * 1024 * 1024


def _unpacked(
    workdir: Path, plan: SquashfsImage, found: _Sorted, entries: list[Entry], started: float, budget: Budget
) -> Reused | None:
    extract_root = workdir / "out"
    outdir = plan.extract_dir(extract_root)
    outdir.mkdir(parents=True)
    made = {""}
    if found.searched:  # where unblob's failures count as inside a root file system (``unpack._inside_rootfs``)
        for marker in {e.path for e in entries if stat.S_ISDIR(e.mode)} & set(ROOTFS_MARKERS):
            (outdir / marker).mkdir()
            made.add(marker)
    for rel, target in found.links:
        _parent(outdir, rel, made)
        (outdir / rel).symlink_to(target)
    for rel, (data, mtime) in found.files.items():
        _parent(outdir, rel, made)
        path = outdir / rel
        with path.open("xb") as fh:
            fh.write(data)
        os.utime(path, (mtime, mtime))
    if fix_extracted(outdir):
        # unblob's fix-up removed a link that leaves the tree or loops: which one of a chain or loop goes depends on
        # the order the directory is walked in, which differs between file systems; the usual route decides
        return None
    if found.searched:
        searched = _searched(workdir, plan, found.searched, budget)
        if searched is None:
            return None
        result = searched
    else:
        result = UnpackResult(extract_root=extract_root)
        read_child_result({"chunks": [plan.chunk(extract_root)], "problems": [], "direct": True}, workdir, result)
        neutralise_links(extract_root, result)
        final = walk_tree(extract_root)
        result.files, result.bytes_written, result.tree = final.entries, final.bytes_total, dict(final.files)
    result.known_skipped = tuple(found.known_skipped)
    result.chunks[1:1] = [  # the chunks unblob finds in the virtual decompressed files and those inflated here
        Chunk(handler, outdir / rel, 0, found.digests[rel][1], outdir / rel, outdir / f"{rel}_extract")
        for rel, handler in [*((rel, packed.handler) for rel, packed in found.decompressed), *found.inflated]
    ]
    paths = {rel: outdir / rel for rel in found.digests}  # one Path per file, shared with the scan
    virtual = {paths[rel]: meta for rel, meta in found.virtual.items()}
    result.tree.update({str(path): meta for path, meta in virtual.items()})
    # what a full extraction writes: the directories not made here (an output dir each decompressed file), and the
    # virtual files, count too; of the directories made, each inflated file's output dir is none of the image's
    image_dirs_made = len(made) - 1 - len(found.inflated)
    result.files += len(virtual) + found.directories + len(found.decompressed) - image_dirs_made
    result.bytes_written += sum(size for size, _ in virtual.values())
    if result.bytes_written > budget.bytes_written or result.files > budget.files:
        return None  # a full run stops at the budget (``unpack._over_budget``): the usual route records where
    result.duration_s = time.monotonic() - started
    return Reused(
        result,
        Layout(found.locators, modes(entries)),
        workdir,
        {paths[rel]: digest for rel, digest in found.digests.items()},
        frozenset(virtual),
        {outdir / f"{rel}_extract": paths[f"{rel}_extract/{packed.name}"] for rel, packed in found.decompressed},
    )


def _searched(workdir: Path, plan: SquashfsImage, files: list[str], budget: Budget) -> UnpackResult | None:
    """unblob's search of ``files`` (new or changed files it could find something in) in the tree written out,
    as the direct route's child makes it (``_unblob_child._Prepared``); None when it left a gap (a budget, a
    failed extraction: the usual route records it as a full run does)."""
    extraction = Extraction(plan.path, workdir, budget, prepared=files)
    extraction.start()
    result = extraction.wait()
    return result if result.direct and not result.gaps and tuple(files) == result.searched else None


# the name unblob's gzip handler gives its output when the header names none (``GZIPExtractor``)
GUNZIPPED = "gzip.uncompressed"
_GZIP_OS = frozenset((*range(14), 255))  # the operating system bytes unblob's gzip pattern accepts


def _gunzipped(data: bytes, allowance: int) -> bytes | None:
    """The contents of a file that is one gzip member and nothing else, as unblob would extract them, or None for
    anything else, which unblob then handles itself: a header naming the file or with optional fields, more than
    one member, bytes after it, a damaged stream (checked against its CRC and length), nothing in it, or contents
    that reach the decompression allowance (``Limits``), where unblob would record a limit."""
    if len(data) < 18 or data[:4] != b"\x1f\x8b\x08\x00" or data[9] not in _GZIP_OS:
        return None
    stream = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        out = stream.decompress(data[10:], allowance)
    except zlib.error:
        return None
    footer = stream.unused_data
    if not stream.eof or not out or len(out) >= allowance or len(footer) != 8:
        return None
    crc, size = struct.unpack("<II", footer)
    return out if crc == zlib.crc32(out) and size == len(out) & 0xFFFFFFFF else None


def _parent(outdir: Path, rel: str, made: set[str]) -> None:
    """Make the directory ``rel`` is in (a directory is made when something is written into it: nothing reads
    an empty one, its modes come from the image's tables)."""
    parent = rel.rpartition("/")[0]
    if parent not in made:
        (outdir / parent).mkdir(parents=True, exist_ok=True)
        while parent not in made:
            made.add(parent)
            parent = parent.rpartition("/")[0]


_MULTI_VOLUME = re.compile("|".join(fnmatch.translate(pattern) for pattern in DIR_HANDLER_GLOBS))


def _unusual_names(entries: list[Entry]) -> bool:
    """A name unblob's directory handlers would join with its neighbours (``_unblob_child._multi_volume``), or one
    ending in ``_extract``, which the scan reads as the output of an extraction (whether it is depends on the
    files next to it, which are not all written out here)."""
    return any(_MULTI_VOLUME.match(name := e.path.rpartition("/")[2]) or name.endswith("_extract") for e in entries[1:])


@dataclass
class _Sorted:
    """The image's entries sorted into what is written out and what stays virtual, by path inside it."""

    files: dict[str, tuple[bytes, int]] = field(default_factory=dict)  # written out: contents, mtime
    links: list[tuple[str, str]] = field(default_factory=list)  # symlinks: path, target
    virtual: dict[str, tuple[int, int]] = field(default_factory=dict)  # known, not written: size, mtime (ns)
    digests: dict[str, tuple[str, int]] = field(default_factory=dict)  # every regular file: sha256, size
    locators: dict[str, str] = field(default_factory=dict)  # display path -> locator, for the next memo
    known_skipped: list[str] = field(default_factory=list)  # known files unblob found nothing in
    searched: list[str] = field(default_factory=list)  # written out for unblob to search: new or changed
    inflated: list[tuple[str, str]] = field(default_factory=list)  # new or changed plain gzip files inflated here
    # known files decompressed as a whole, kept virtual with their output: path, the memo's record (``x``)
    decompressed: list[tuple[str, Decompressed]] = field(default_factory=list)
    directories: int = 0
    written: int = 0  # bytes of the files written out


class _Sorter:
    def __init__(self, reader: SquashfsReader, memo: FileMemo, reads: ReadsBytes, limits: Limits) -> None:
        self.reader = reader
        self.memo = memo
        self.reads = reads
        self.limits = limits
        self.out = _Sorted()

    def sort(self, entries: list[Entry]) -> _Sorted | None:
        """None when a new or changed file is one unblob must search (the usual route does)."""
        for entry in entries[1:]:  # the root is the output dir itself
            if stat.S_ISDIR(entry.mode):
                self.out.directories += 1
            elif stat.S_ISLNK(entry.mode):
                self.out.links.append((entry.path, entry.target or ""))
            elif entry.is_file and not self._file(entry):
                return None
        return self.out

    def _file(self, entry: Entry) -> bool:
        display = "/" + entry.path
        locator = self.out.locators[display] = self.reader.locator(entry)
        packed = self.memo.decompressed.get(display)
        if packed is not None and self._decompressed(entry, display, locator, packed):
            return True
        known = self.memo.files.get(display)
        recorded = self.memo.locators.get(display)
        data = None
        if known is not None and recorded == locator:
            sha256 = known[0]
        elif entry.size > _READ_MAX:  # not held in memory here: the usual route streams it
            return False
        else:  # new, changed, or moved to another fragment block: the contents tell
            data = self.reader.read(entry)
            sha256 = hashlib.sha256(data).hexdigest()
        self.out.digests[entry.path] = (sha256, entry.size)
        # a recorded locator also says that unblob needs nothing from the file (``memo.py``)
        hit = known is not None and recorded is not None and known[0] == sha256
        if hit and known is not None:
            if known[1].unblob_found_nothing:
                self.out.known_skipped.append(entry.path)
            if not self.reads(entry.path, known[1].credentials is not None):
                self.out.virtual[entry.path] = (entry.size, entry.mtime * 1_000_000_000)
                return True
        if data is None:
            data = self.reader.read(entry)
        if not hit and needs_unblob(data):
            if "/" not in entry.path:  # right in the root: how its output is shown depends on its neighbours
                return False
            inflated = _gunzipped(data, self.limits.allowance(len(data)))
            if inflated is not None and not needs_unblob(inflated):
                # what unblob's gzip handler writes from it, and then finds nothing in
                self.out.files[f"{entry.path}_extract/{GUNZIPPED}"] = (inflated, entry.mtime)
                self.out.written += len(inflated)
                self.out.inflated.append((entry.path, "gzip"))
            else:
                self.out.searched.append(entry.path)
        self.out.files[entry.path] = (data, entry.mtime)
        self.out.written += len(data)
        return self.out.written <= _READ_MAX  # a release that changed this much is unpacked as usual

    def _decompressed(self, entry: Entry, display: str, locator: str, packed: Decompressed) -> bool:
        """A file the baseline's unblob decompressed as a whole into one plain file: when its bytes are the same,
        it and that output stay virtual (the output's facts are the memo's), with the chunk unblob found. False: the
        file is taken as any other (changed, or its output is read by the collectors: unblob searches it)."""
        output = f"{display}!/{packed.name}"
        known = self.memo.files.get(output)
        if (
            known is None
            # what the scan reads on disk: the output's bytes, or the file itself (a unit in a ``*.wants`` dir)
            or self.reads(packed.name, known[1].credentials is not None)
            or self.reads(entry.path, False)
            # a record a full scan does not write (``scan._Scan._decompressed_whole``) is not followed
            or packed.handler.startswith(FS_HANDLERS)
            or CARVED.match(packed.name)
        ):
            return False
        if self.memo.locators.get(display) != locator:
            if entry.size > _READ_MAX:
                return False
            if hashlib.sha256(self.reader.read(entry)).hexdigest() != packed.sha256:
                return False
        mtime = entry.mtime * 1_000_000_000
        inside = f"{entry.path}_extract/{packed.name}"
        self.out.digests[entry.path] = (packed.sha256, entry.size)
        self.out.digests[inside] = (known[0], packed.size)
        self.out.virtual[entry.path] = (entry.size, mtime)
        self.out.virtual[inside] = (packed.size, mtime)
        self.out.decompressed.append((entry.path, packed))
        return True


__all__ = ["Layout", "Reused", "read_layout", "reuse_unpacked"]
