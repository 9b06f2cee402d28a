"""Scan one firmware image: unpack within a budget, analyse while unpacking, build the FirmwareInventory.

Work happens in a private temp dir (mode 0700) that is removed afterwards, whatever happens. Files are read
only when they are regular files (``lstat``), so a FIFO or a device node in a hostile image cannot block
the scan, and symlinks are never followed. Trees are walked without recursion. A collector that fails on
one hostile file records the failure as a problem and a gap and the scan goes on.

Paths are shown as a user reads them (``/etc/shadow``; inside nested archives ``/usr/a.tar.gz!/etc/x``).
When an image holds more than one root (a flash dump with two file systems both rooted at ``/``), every path
names its container chain, handler and offset of each level: ``uimage@0x0 > squashfs_v4_le@0x40:/etc/shadow``.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import gc
import mmap
import os
import queue
import re
import shutil
import stat
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from cybersafe import safeio
from cybersafe.errors import InputError
from cybersafe.evidence.firmware import accounts as acc
from cybersafe.evidence.firmware import components as comp
from cybersafe.evidence.firmware import configcreds, keys, services
from cybersafe.evidence.firmware._native import whole_squashfs
from cybersafe.evidence.firmware.budget import Budget
from cybersafe.evidence.firmware.digest import MAX_IMAGE_BYTES, image_digest, in_background, sha256_image
from cybersafe.evidence.firmware.memo import Decompressed, FileFacts, FileMemo, memo_key
from cybersafe.evidence.firmware.metadata import INODE_TABLE, is_traversal, read_metadata
from cybersafe.evidence.firmware.model import (
    Account,
    Area,
    Component,
    Confidence,
    Credential,
    ElfHardening,
    FileDigest,
    FileRisk,
    Filesystem,
    FirmwareInventory,
    KeyMaterial,
    NotExamined,
    Secret,
    Service,
    UnpackProblem,
)
from cybersafe.evidence.firmware.packagedb import PackageDatabases, is_database_path, next_to_sqlite
from cybersafe.evidence.firmware.reuse import Layout, Reused, read_layout, reuse_unpacked
from cybersafe.evidence.firmware.unpack import CARVED, FS_HANDLERS, Chunk, Extraction, UnpackResult, remove_tree
from cybersafe.evidence.firmware.walk import iter_tree
from cybersafe.evidence.interface import NullProgressReporter, ProgressReporter

if TYPE_CHECKING:
    from cybersafe.evidence.firmware.patterns import ByteScanner, Match

# Containers of volumes or partitions, and file systems without Unix modes: nothing to read, so no gap.
_NO_UNIX_MODES = (
    "ubi", "trx", "chk", "fpkg", "bdl", "airoha", "moxa", "shrs", "xalz", "sparse", "uzip", "deafbead", "hdr",
    "engenius", "instar", "qnap", "partclone", "dmg", "msi", "cab", "fat", "ntfs",
)  # fmt: skip
_EXAMPLE_MARKERS = ("EXAMPLE", "example", "xxxxxxxx", "XXXXXXXX", "0000000000000000")
_DOC_PARTS = ("/usr/share/doc/", "/usr/share/man/", "/usr/share/info/", "/usr/include/")
_SMALL_TEXT = 1024 * 1024
_CONTENT_AREAS = (Area.SECRETS, Area.KEYS, Area.ELF)
_REMOVE_IN_BACKGROUND = 10_000  # extracted entries past which the work dir is removed after returning
T = TypeVar("T")


@dataclass
class _FileFacts:
    meta: tuple[int, int]
    secrets: list[Secret] = field(default_factory=list)
    keys: list[KeyMaterial] = field(default_factory=list)
    banners: list[tuple[str, str | None]] = field(default_factory=list)
    elf: ElfHardening | None = None


def _harden(path: Path, rel: str) -> ElfHardening | None:
    """ELF hardening; lief is imported on first use, in the analysis thread, while unblob starts up."""
    from cybersafe.evidence.firmware.elf import harden

    with warnings.catch_warnings():
        # lief warns for each unknown enum value of a malformed header; the parse result says enough
        warnings.simplefilter("ignore", RuntimeWarning)
        return harden(path, rel)


class _Analyser:
    """Per-file analysis (byte scanner, ELF hardening), fed while unblob still extracts."""

    def __init__(self, root: Path, budget: Budget, now: dt.datetime) -> None:
        from cybersafe.evidence.firmware.patterns import ByteScanner

        self.root = root
        self.budget = budget
        self.now = now
        self.scanner: ByteScanner = ByteScanner()
        self.facts: dict[Path, _FileFacts] = {}
        self.queue: queue.SimpleQueue[Path | None] = queue.SimpleQueue()
        self.too_big: dict[Path, int] = {}
        self.failed: dict[Path, str] = {}  # files whose analysis raised: a gap, not a crash
        self.busy_s = 0.0
        self._stopping = False

    def offer(self, files: list[tuple[Path, int]], slice_s: float) -> None:
        del slice_s  # the background thread takes what it can; the final pass does the rest
        for path, _ in files:
            self.queue.put(path)

    def start(self) -> threading.Thread:
        """Analyse offered files in a background thread while unblob extracts.

        The thread runs at a lower CPU priority (Linux: per-thread nice) so that unblob, the critical path,
        keeps the cores; the analysis fills the gaps while its workers wait on I/O.
        """
        thread = threading.Thread(target=self._run, name="firmware-analysis", daemon=True)
        thread.start()
        return thread

    def stop(self, thread: threading.Thread) -> None:
        """Stop after the current file: the rest is analysed at normal priority by the final pass."""
        self._stopping = True
        self.queue.put(None)
        thread.join()

    def _run(self) -> None:
        # lief loads here, at normal priority: the direct route often has the files out before it is loaded, and
        # then the whole scan waits for this import
        _load_lief()
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        while (path := self.queue.get()) is not None and not self._stopping:
            started = time.monotonic()
            self.analyse(path)
            self.busy_s += time.monotonic() - started

    def _known_meta(self, path: Path) -> tuple[int, int] | None:
        known = self.facts.get(path)
        return None if known is None else known.meta

    def analyse(self, path: Path) -> None:
        try:
            st = path.lstat()
        except OSError:
            return
        meta = (st.st_size, st.st_mtime_ns)
        if not stat.S_ISREG(st.st_mode) or self._known_meta(path) == meta:
            return
        if st.st_size > self.budget.scan_file_bytes:
            self.too_big[path] = st.st_size
            return
        facts = _FileFacts(meta)
        try:
            self._scan(path, str(path.relative_to(self.root)), st.st_size, facts)
        except OSError:
            return
        except Exception as exc:  # noqa: BLE001 - hostile content must become a recorded gap, never a crash
            self.failed[path] = f"{type(exc).__name__}: {str(exc)[:120]}"
            return
        self.facts[path] = facts

    def _scan(self, path: Path, rel: str, size: int, facts: _FileFacts) -> None:
        with path.open("rb") as fh:
            head = fh.read(8192)
        binary = b"\x00" in head
        hits: list[comp.Hit] = []
        for match, data in self.scanner.scan_file(path, size):
            self._take(match, data, rel, binary, facts, hits)
        facts.banners = comp.identify(rel, head, hits)
        if head[:4] == b"\x7fELF":
            facts.elf = _harden(path, rel)
        elif keys.is_key_file(rel) and size <= _SMALL_TEXT:
            key = keys.parse_key_file(rel, rel, path.read_bytes(), self.now)
            if key is not None:
                facts.keys.append(key)

    def _take(
        self, match: Match, data: bytes | mmap.mmap, rel: str, binary: bool, facts: _FileFacts, hits: list[comp.Hit]
    ) -> None:
        if match.rule.kind == "secret":
            # the raw text stays out of the inventory; examples are dropped
            if any(marker.encode() in match.text for marker in _EXAMPLE_MARKERS):
                return
            line = None if binary else data[: match.start].count(b"\n") + 1
            facts.secrets.append(
                Secret(rel, match.start, match.rule.name, _redact(match.text), binary, match.rule.confidence, line)
            )
        elif match.rule.kind == "pem":
            key = keys.parse_pem(rel, data, match.start, match.rule.name, self.now)
            if key is not None:
                facts.keys.append(key)
        elif match.rule.signature is not None:
            hits.append(comp.Hit(match.rule.signature, match.groups))


def _load_lief() -> None:
    with contextlib.suppress(ImportError):
        import cybersafe.evidence.firmware.elf  # noqa: F401


def _redact(text: bytes) -> str:
    from cybersafe.evidence.firmware.patterns import redact

    return redact(text)


def scan_image(
    image: Path,
    budget: Budget,
    progress: ProgressReporter | None = None,
    *,
    now: dt.datetime | None = None,
    workdir_parent: Path | None = None,
    extraction: Extraction | None = None,
    memo: FileMemo | None = None,
    digesting: concurrent.futures.Future[tuple[str, int]] | None = None,
) -> FirmwareInventory:
    """Scan ``image``; raises InputError only when the file cannot be read at all.

    ``extraction``: the image's extraction, already started (the command line starts it while it loads);
    its work dir is used and removed like one made here. ``memo``: the per-file facts of an earlier scan
    (``assess --baseline``): files whose path and bytes it knows are not analysed again (``memo.py``).
    ``digesting``: the image's digest, already computed (``image_digest``: a delta run needs it first, to tell
    whether the image changed); it is not computed again.
    """
    with _older_objects_left_alone():
        return _scan_image(image, budget, progress, now, workdir_parent, extraction, memo, digesting)


_gc_lock = threading.Lock()
_gc_scans = 0  # scans running in this process (a batch worker runs several in threads)


@contextlib.contextmanager
def _older_objects_left_alone() -> Iterator[None]:
    """While scans run, the cycle collector walks only what they make: a scan makes tens of thousands of
    short-lived objects, and each collection they trigger had walked every object the process already held (a
    baseline assessment, the catalog): 50 ms of a 0.25 s delta run of a 2,400-file image. Those are frozen for
    the scan (``gc.freeze``) and given back afterwards; cycles the scan makes are still collected."""
    global _gc_scans  # noqa: PLW0603 - one switch per process
    with _gc_lock:
        if _gc_scans == 0:
            gc.freeze()
        _gc_scans += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_scans -= 1
            if _gc_scans == 0:
                gc.unfreeze()


def _scan_image(
    image: Path,
    budget: Budget,
    progress: ProgressReporter | None,
    now: dt.datetime | None,
    workdir_parent: Path | None,
    extraction: Extraction | None,
    memo: FileMemo | None,
    digesting: concurrent.futures.Future[tuple[str, int]] | None,
) -> FirmwareInventory:
    progress = progress or NullProgressReporter()
    started = time.monotonic()
    now = now or dt.datetime.now(dt.UTC)
    key = memo_key(budget.name, now.date().isoformat())
    if memo is not None and (memo.key != key or not memo.files):
        memo = None  # made under another budget, day or version: every file is analysed
    if memo is not None and memo.locators and extraction is None:
        _require_regular(image)
        # the image's digest on a second core meanwhile (hashlib lets go of the interpreter while it hashes); the
        # usual route takes it too if the image is unpacked after all
        digesting = digesting or image_digest(image, meanwhile=True)
        inventory = _scan_reused(image, budget, progress, now, key, memo, started, workdir_parent, digesting)
        if inventory is not None:
            return inventory
    if extraction is None:
        workdir = Path(tempfile.mkdtemp(prefix="cybersafe-fw-", dir=workdir_parent))
        workdir.chmod(0o700)
        extraction = Extraction(image, workdir, budget, known=memo.known_plain() if memo is not None else None)
    workdir = extraction.workdir
    try:
        try:
            _require_regular(image)
            # unblob starts first: its imports and set-up overlap the digest and the analysers' set-up
            if not extraction.started:
                extraction.start()
            digest, size = digesting.result() if digesting is not None else sha256_image(image)
            analyser = _Analyser(workdir / "out", budget, now)
            # the tables of an image that may go the direct route, read while it is unpacked (for the next memo)
            layout = in_background(read_layout, image, budget) if whole_squashfs(image) is not None else None
        except BaseException:
            extraction.abort()
            raise
        progress.start("extract", None)

        def sink(files: list[tuple[Path, int]], slice_s: float) -> None:
            analyser.offer(files, slice_s)
            progress.advance("extract", len(files), f"{len(analyser.facts)} files analysed")

        if memo is None:
            thread = analyser.start()
            try:
                unpacked = extraction.wait(sink)
            finally:
                analyser.stop(thread)
        else:  # most files are known: they are looked up once their display paths are known, after extraction
            # lief loads meanwhile (0.3 s), as the analysis thread would load it: a changed binary needs it
            threading.Thread(target=_load_lief, name="load-lief", daemon=True).start()
            unpacked = extraction.wait()
        progress.finish("extract")
        scan = _Scan(image, digest, size, budget, unpacked, analyser, progress, memo)
        if layout is not None and unpacked.direct and not unpacked.gaps:
            scan.layout = layout.result()
        return scan.inventory(started, key)
    finally:
        remove_tree(workdir, background=extraction.entries > _REMOVE_IN_BACKGROUND)


def _scan_reused(
    image: Path,
    budget: Budget,
    progress: ProgressReporter,
    now: dt.datetime,
    key: str,
    memo: FileMemo,
    started: float,
    workdir_parent: Path | None,
    digesting: concurrent.futures.Future[tuple[str, int]],
) -> FirmwareInventory | None:
    """The scan of a release told apart from its baseline without unpacking (``reuse.py``); None: unpack it."""
    progress.start("extract", None)
    reused = reuse_unpacked(image, budget, memo, _reads_bytes, workdir_parent)
    progress.finish("extract")
    if reused is None:
        return None
    try:
        digest, size = digesting.result()
        analyser = _Analyser(reused.result.extract_root, budget, now)
        scan = _Scan(image, digest, size, budget, reused.result, analyser, progress, memo, reused)
        return scan.inventory(started, key)
    finally:
        try:  # a few files: removed here, without starting ``rm``
            shutil.rmtree(reused.workdir)
        except (OSError, RecursionError):
            remove_tree(reused.workdir)


_ACCOUNT_FILES = ("passwd", "shadow", "passwd.default", "shadow.default")
_OS_RELEASE = ("etc/os-release", "usr/lib/os-release")


def _reads_bytes(rel: str, has_credentials: bool) -> bool:
    """Does the scan read this file's bytes beyond the per-file analysers, whose facts a memo holds
    (``_text_file``, the distribution from os-release, ``_enabled_links``)? ``has_credentials``: the memo
    holds the file's configuration credentials."""
    parent, _, name = rel.rpartition("/")
    return (
        (name in _ACCOUNT_FILES and "/doc/" not in rel)
        or services.is_boot_path(rel)
        or (configcreds.is_config_path(rel) and not has_credentials)
        or is_database_path(rel)
        or next_to_sqlite(rel)
        or rel in _OS_RELEASE
        or parent.endswith(".wants")
    )


def _require_regular(image: Path) -> None:
    found = safeio.describe(image)
    if found != "a regular file":
        message = "file not found" if found == "not found" else f"is {found}, not a regular file; refusing to read it"
        raise InputError(message, file=image, field="firmware")


class _Displayer:
    """Paths as a user reads them: ``/etc/shadow``; inside nested archives ``/usr/a.tar.gz!/etc/x``; with more
    than one root in the image, prefixed by the root's container chain (``squashfs_v4_le@0x40:/etc/shadow``)."""

    def __init__(self, root: Path, chunks: list[Chunk]) -> None:
        self.root = root
        self._root_text = str(root)
        self._cache: dict[Path, str] = {}
        self._shown: dict[Path, str] = {}
        self._dirs: dict[str, tuple[str, str]] = {}
        self._by_extract_dir = {c.extract_dir: c for c in chunks}
        tops = [c for c in chunks if c.handler.startswith(FS_HANDLERS) and self._top_level(c)]
        # a root's chunk file -> its chain text; only when there is more than one root
        self.chains: dict[Path, str] = {}
        if len(tops) > 1:
            self.chains = {c.chunk_file: " > ".join(self._label(link) for link in self.chain(c)) for c in tops}

    def container_of(self, path: Path) -> tuple[Path | None, Path]:
        parts = path.relative_to(self.root).parts
        for i in range(len(parts) - 2, -1, -1):
            if parts[i].endswith("_extract"):
                extract_dir = self.root.joinpath(*parts[: i + 1])
                container = self.root.joinpath(*parts[:i], parts[i][: -len("_extract")]) if i > 0 else None
                return container, extract_dir
        return None, self.root

    def chain(self, chunk: Chunk) -> list[Chunk]:
        """The chunks from the image down to ``chunk``: each one was found in a file the previous produced."""
        out = [chunk]
        while chunk.task.is_relative_to(self.root) and chunk.task != self.root:
            _, extract_dir = self.container_of(chunk.task)
            parent = self._by_extract_dir.get(extract_dir)
            if parent is None or parent in out:
                break
            out.append(parent)
            chunk = parent
        return out[::-1]

    def _top_level(self, chunk: Chunk) -> bool:
        """A root: no file system or archive above it (a partition of a flash dump, not a nested archive)."""
        return not any(c.handler.startswith(FS_HANDLERS) for c in self.chain(chunk)[:-1])

    @staticmethod
    def _label(chunk: Chunk) -> str:
        return f"{chunk.handler}@0x{chunk.start:x}"

    def prefix(self, container: Path | None) -> str:
        if container is None:
            return ""
        if container in self._cache:
            return self._cache[container]
        if container in self.chains:
            value = self.chains[container] + ":"
        elif self._transparent(container):
            outer, _ = self.container_of(container)
            value = self.prefix(outer)
        else:
            value = self.display(container) + "!"
        self._cache[container] = value
        return value

    def _transparent(self, container: Path) -> bool:
        """A chunk carved out of a file, or the only thing in its directory, adds nothing a reader needs."""
        parent = container.parent
        if not parent.name.endswith("_extract"):
            return False
        if CARVED.match(container.name):
            return True
        siblings = [p for p in parent.iterdir() if p.name != container.name + "_extract"] if parent.is_dir() else []
        return len(siblings) <= 1

    def display(self, path: Path) -> str:
        shown = self._shown.get(path)
        if shown is None:  # asked for each file by every collector: computed once
            parent, _, name = str(path).rpartition("/")
            shown = self._shown[path] = self._dir(parent)[0] + "/" + name
        return shown

    def fs_rel(self, path: Path) -> str:
        """Path relative to the root of the file system it came from (``etc/passwd``)."""
        parent, _, name = str(path).rpartition("/")
        inner = self._dir(parent)[1]
        return f"{inner}/{name}" if inner else name

    def _dir(self, directory: str) -> tuple[str, str]:
        """(display, path inside its file system) of a directory, so a file's are these plus its name.

        Computed once per directory, without recursion (a tree may be thousands of levels deep): the output
        root and every ``X_extract`` directory start afresh, with the prefix of the container ``X``.
        """
        climbed: list[str] = []
        current = directory
        while current not in self._dirs:
            if current == self._root_text:
                self._dirs[current] = ("", "")
                break
            if current.endswith("_extract"):
                # the image's own extract dir sits in the root: its container is the image, shown as nothing
                top = current.rpartition("/")[0] == self._root_text
                self._dirs[current] = ("" if top else self.prefix(Path(current[: -len("_extract")])), "")
                break
            climbed.append(current)
            current = current.rpartition("/")[0]
        for below in reversed(climbed):
            above, _, name = below.rpartition("/")
            display, inner = self._dirs[above]
            self._dirs[below] = (f"{display}/{name}", f"{inner}/{name}" if inner else name)
        return self._dirs[directory]

    def problem_path(self, rel: str | None) -> str | None:
        """A problem's path relative to the output root, as a user reads it."""
        if rel is None or "/" not in rel:
            return rel
        path = self.root / rel
        return self.display(path) if path != self.root else "/"


@dataclass
class _TextFacts:
    # per file-system root: accounts of two partitions never mix (root in one must not hide root in the other)
    passwd: dict[Path, list[acc.PasswdFile]] = field(default_factory=dict)
    shadow: dict[Path, list[acc.PasswdFile]] = field(default_factory=dict)
    boot: list[services.BootFile] = field(default_factory=list)
    credentials: list[Credential] = field(default_factory=list)
    databases: PackageDatabases = field(default_factory=PackageDatabases)
    config_files: int = 0


@dataclass
class _ContentFacts:
    secrets: list[Secret] = field(default_factory=list)
    keys: list[KeyMaterial] = field(default_factory=list)
    elfs: list[ElfHardening] = field(default_factory=list)
    banners: list[Component] = field(default_factory=list)
    text_files: dict[str, list[Path]] = field(default_factory=dict)


class _Scan:
    """Everything after extraction: the final analysis pass, the text-level collectors, the inventory."""

    def __init__(
        self,
        image: Path,
        digest: str,
        size: int,
        budget: Budget,
        unpacked: UnpackResult,
        analyser: _Analyser,
        progress: ProgressReporter,
        memo: FileMemo | None = None,
        reused: Reused | None = None,
    ) -> None:
        self.image = image
        self.memo = memo
        # files hashed to look them up in the memo (a reused image's are known: ``reuse.py``)
        self.digests: dict[Path, tuple[str, int]] = dict(reused.digests) if reused is not None else {}
        self.virtual = reused.virtual if reused is not None else frozenset()  # known files not written out
        # a delta run's decompressed files are virtual: their output dirs are known, not written (``reuse.py``)
        self.reused_extracted: dict[Path, Path] = reused.extracted if reused is not None else {}
        # the image's own SquashFS tables (direct route, no gaps): locators for the next memo, and the modes
        self.layout: Layout | None = reused.layout if reused is not None else None
        self.credentials: dict[Path, tuple[Credential, ...]] = {}  # per configuration file, for the next memo
        self.reused = 0  # files whose facts the memo gave
        self.digest = digest
        self.size = size
        self.budget = budget
        self.unpacked = unpacked
        self.analyser = analyser
        self.progress = progress
        self.root = unpacked.extract_root
        self.shown = _Displayer(self.root, unpacked.chunks)
        self.gaps: list[NotExamined] = [replace(g, path=self.shown.problem_path(g.path)) for g in unpacked.gaps]
        self.problems: list[UnpackProblem] = [
            replace(p, path=self.shown.problem_path(p.path)) for p in unpacked.problems
        ]
        containers = {
            c.chunk_file
            for c in unpacked.chunks
            if c.extract_dir in self.reused_extracted or _has_content(c.extract_dir)
        }
        known = {str(path): path for path in self.digests}  # a reused image's files have their Path already
        self.metas = {known.get(p) or Path(p): meta for p, meta in unpacked.tree.items()}
        self.containers = containers
        # by parts, as paths compare (a key each, not a comparison in Python per pair)
        self.files = sorted((p for p in self.metas if p not in containers and not _raw_carve(p)), key=_parts)

    def inventory(self, started: float, key: str) -> FirmwareInventory:
        pending = self._final_pass()
        self._skipped_gaps()
        content = self._content_facts()
        text = self._text_facts(content.text_files)
        # a token both rules see is one hard-coded secret, not also a credential
        secret_lines = {(s.path, s.line) for s in content.secrets if s.line is not None}
        credentials = [c for c in text.credentials if (c.path, c.line) not in secret_lines]
        accounts = self._accounts(text)
        service_items = self._guarded(Area.SERVICES, "boot services", lambda: self._services(text))
        self.gaps.extend(text.databases.gaps)
        components = comp.merge(text.databases, content.banners)
        elfs = comp.attribute_packages(content.elfs, text.databases, components)
        known_modes = {self.image.resolve(): self.layout.modes} if self.layout is not None else {}
        filesystems, risks = _filesystems_and_risks(
            self.unpacked, self.shown, self.gaps, self.problems, self.virtual, known_modes
        )
        # the files of the final tree: the background thread may also have read a container before its contents
        # appeared, depending on timing
        examined = [facts for path in self.files if (facts := self.analyser.facts.get(path)) is not None]
        return FirmwareInventory(
            image=self.image.name,
            sha256=self.digest,
            size=self.size,
            budget=self.budget.name,
            filesystems=tuple(filesystems),
            files_examined=len(examined),
            bytes_examined=sum(facts.meta[0] for facts in examined),
            accounts=tuple(accounts),
            credentials=tuple(credentials),
            secrets=tuple(_dedupe_secrets(content.secrets)),
            keys=tuple(content.keys),
            services=tuple(service_items),
            elf=tuple(elfs),
            file_risks=tuple(risks),
            components=tuple(components),
            not_examined=tuple(_unique(self.gaps)),
            problems=tuple(self.problems),
            files=(digests := _file_digests(self.files, self.shown, self.digests)),
            file_facts=self._next_memo(key, digests),
            duration_s=round(time.monotonic() - started, 3),
            extraction_s=round(self.unpacked.duration_s, 3),
            stats={
                "extracted_entries": self.unpacked.files,
                "extracted_bytes": self.unpacked.bytes_written,
                "files": len(self.files),
                "elf_files": len(content.elfs),
                "overlapped_files": len(self.analyser.facts) - pending,
                "reused_files": self.reused,
                # files written out to be read: every one when the image was unpacked, only new and changed ones
                # and those the text collectors read when a delta run read it in place (``reuse.py``)
                "written_files": sum(1 for path in self.files if path not in self.virtual),
                "config_files": text.config_files,
                "account_files": sum(len(f) for f in [*text.passwd.values(), *text.shadow.values()]),
                "boot_files": len(text.boot),
            },
        )

    def _final_pass(self) -> int:
        """Analyse what the background thread did not reach, within the analysis time budget; with a memo, the
        files it knows (same display path, same sha256) take its facts instead."""
        facts = self.analyser.facts
        pending = [p for p in self.files if (known := facts.get(p)) is None or known.meta != self.metas[p]]
        deadline = time.monotonic() + self.budget.analysis_s
        self.progress.start("analyse", len(pending))
        for path in pending:
            if time.monotonic() > deadline:
                reason = f"analysis time budget of {self.budget.analysis_s:.0f} s ({self.budget.name}) reached"
                self.gaps.append(NotExamined(Area.UNPACK, reason))
                self.problems.append(UnpackProblem("budget-exceeded", "analysis stopped at the time budget"))
                break
            if not self._reuse(path):
                if path in self.virtual:  # cannot happen (``reuse.py`` keeps only known files virtual); never a pass
                    self._unread(path, "its facts from the baseline could not be used")
                else:
                    self.analyser.analyse(path)
            self.progress.advance("analyse", 1)
        self.progress.finish("analyse")
        return len(pending)

    def _reuse(self, path: Path) -> bool:
        """Take the memo's facts for ``path`` when it knows the same bytes at the same place."""
        if self.memo is None or self.metas[path][0] > self.budget.scan_file_bytes:
            return False
        digest = self._digest(path)
        if digest is None:
            return False
        known = self.memo.get(self.shown.display(path), digest[0])
        if known is None:
            return False
        self.analyser.facts[path] = _FileFacts(
            self.metas[path], list(known.secrets), list(known.keys), list(known.banners), known.elf
        )
        if known.credentials is not None:
            self.credentials[path] = known.credentials
        self.reused += 1
        return True

    def _unread(self, path: Path, reason: str) -> None:
        where = self.shown.display(path)
        self.problems.append(UnpackProblem("analysis-failed", reason, where))
        self.gaps.extend(NotExamined(area, f"the file was not analysed: {reason}", where) for area in _CONTENT_AREAS)

    def _next_memo(self, key: str, digests: tuple[FileDigest, ...]) -> FileMemo:
        """The facts of every file analysed in full, for the next release's delta run."""
        by_display = {d.path: d.sha256 for d in digests}
        plain = self._unblob_found_nothing()
        memo = FileMemo(key)
        for path in self.files:
            facts = self.analyser.facts.get(path)
            display = self.shown.display(path)
            sha256 = by_display.get(display)
            if facts is None or sha256 is None or facts.meta != self.metas[path]:
                continue
            memo.files[display] = (
                sha256,
                FileFacts.of(
                    tuple(facts.secrets),
                    tuple(facts.keys),
                    tuple(facts.banners),
                    facts.elf,
                    self.credentials.get(path),
                    display in plain,
                ),
            )
        if self.layout is not None and self.unpacked.direct and not self.unpacked.gaps:
            # a locator also says that unblob needs nothing from the file: plain, or searched and found empty, or
            # decompressed into a file whose facts the memo holds
            outdir = self.unpacked.chunks[0].extract_dir
            handed = {self.shown.display(outdir / r) for r in (*self.unpacked.searched, *self.unpacked.known_skipped)}
            memo.decompressed = self._decompressed_whole(memo)
            memo.locators = {
                p: q for p, q in self.layout.locators.items() if p not in handed or p in plain or p in memo.decompressed
            }
        return memo

    def _decompressed_whole(self, memo: FileMemo) -> dict[str, Decompressed]:
        """Files of the root file system unblob decompressed as a whole into one plain file (``memo.py``, ``x``),
        by display path: a compressed changelog. ``memo``: the facts of the files analysed in full, filled already.
        Direct route without gaps only (the caller's). Left out: a file right in the file system's root (whether its
        display path names it depends on its neighbours, ``_Displayer._transparent``), and one with more than one
        chunk, a problem, or an output that is more than one plain file or in which unblob found anything."""
        root_fs = str(self.unpacked.chunks[0].extract_dir) + "/"
        by_task: dict[Path, list[Chunk]] = {}
        for chunk in self.unpacked.chunks[1:]:
            by_task.setdefault(chunk.task, []).append(chunk)
        problems = {str(self.root / p.path) for p in self.unpacked.problems if p.path}
        busy: set[str] = set()  # output directories with a chunk or a problem somewhere below them
        for found in (*map(str, by_task), *problems):
            at = found.find("_extract/")
            while at != -1:
                busy.add(found[: at + len("_extract")])
                at = found.find("_extract/", at + 1)
        out: dict[str, Decompressed] = {}
        for task, chunks in by_task.items():
            chunk, text = chunks[0], str(task)
            inner = text[len(root_fs) :]
            meta = self.metas.get(task)
            if (
                len(chunks) != 1
                or chunk.handler.startswith(FS_HANDLERS)
                or not text.startswith(root_fs)
                or "/" not in inner
                or "_extract/" in inner
                or meta is None
                or (chunk.start, chunk.end, chunk.chunk_file) != (0, meta[0], task)
                or text in problems
                or str(chunk.extract_dir) in busy
            ):
                continue
            output = self._only_output(chunk.extract_dir)
            if output is None or CARVED.match(output.name) or (digest := self._digest(task)) is None:
                continue
            if self.shown.display(output) in memo.files:  # analysed in full: its facts are there
                out[self.shown.display(task)] = Decompressed(
                    digest[0], chunk.handler, output.name, self.metas[output][0]
                )
        return out

    def _only_output(self, extract_dir: Path) -> Path | None:
        """The one regular file in ``extract_dir`` when it holds nothing else (a delta run's virtual one)."""
        if extract_dir in self.reused_extracted:
            return self.reused_extracted[extract_dir]
        try:
            with os.scandir(extract_dir) as entries:
                found = list(entries)
        except OSError:
            return None
        if len(found) != 1 or not found[0].is_file(follow_symlinks=False):
            return None
        path = extract_dir / found[0].name
        return path if path in self.metas else None

    def _digest(self, path: Path) -> tuple[str, int] | None:
        digest = self.digests.get(path)
        if digest is None:
            try:
                self.digests[path] = digest = safeio.sha256_file(path)
            except (OSError, InputError):
                return None
        return digest

    def _unblob_found_nothing(self) -> set[str]:
        """Display paths of the root file system's files unblob searched (or skipped as known) and found nothing
        in: no chunk was found in them and no problem recorded on them (direct route only)."""
        if not self.unpacked.direct or not self.unpacked.chunks or self.unpacked.gaps:
            return set()  # an extraction that left gaps (a budget, a failure) vouches for nothing
        outdir = self.unpacked.chunks[0].extract_dir
        marked = [str(c.task) for c in self.unpacked.chunks] + [
            str(self.root / p.path) for p in self.unpacked.problems if p.path
        ]
        out = set()
        for rel in (*self.unpacked.searched, *self.unpacked.known_skipped):
            path = outdir / rel
            text = str(path)
            if path in self.metas and not any(
                m == text or m.startswith((text + "/", text + "_extract")) for m in marked
            ):
                out.add(self.shown.display(path))
        return out

    def _skipped_gaps(self) -> None:
        # only files of the final tree: an extraction redone from the start leaves facts on paths now gone
        for path, big in self.analyser.too_big.items():
            if path in self.metas and path not in self.containers:
                reason = f"file of {big} bytes exceeds the per-file scan budget ({self.budget.name})"
                self.gaps.extend(NotExamined(area, reason, self.shown.display(path)) for area in _CONTENT_AREAS)
        for path, error in self.analyser.failed.items():
            if path not in self.metas:
                continue
            where = self.shown.display(path)
            self.problems.append(UnpackProblem("analysis-failed", error, where))
            reason = f"the file could not be analysed ({error})"
            self.gaps.extend(NotExamined(area, reason, where) for area in _CONTENT_AREAS)

    def _content_facts(self) -> _ContentFacts:
        out = _ContentFacts()
        for path in self.files:
            display = self.shown.display(path)
            out.text_files.setdefault(self.shown.fs_rel(path), []).append(path)
            facts = self.analyser.facts.get(path)
            if facts is None:
                continue
            # most files hold none of these: nothing is made for them
            if facts.secrets and not any(part in display for part in _DOC_PARTS):
                out.secrets.extend(_shown_at(s, display) for s in facts.secrets)
            if facts.keys:
                out.keys.extend(_shown_at(k, display) for k in facts.keys)
            if facts.elf is not None:
                out.elfs.append(_shown_at(facts.elf, display))
            if facts.banners:
                out.banners.extend(comp.from_banner(name, version, display) for name, version in facts.banners)
        return out

    def _text_facts(self, text_files: dict[str, list[Path]]) -> _TextFacts:
        """Accounts, config credentials, boot services and package databases, file by file."""
        distro = None
        for rel in ("etc/os-release", "usr/lib/os-release"):
            if rel in text_files:
                distro = comp.distro_from_os_release(_read_text(text_files[rel][0]) or "")
        out = _TextFacts(databases=PackageDatabases(distro))
        for rel, paths in sorted(text_files.items()):
            for path in paths:
                self._text_file(rel, path, out)
        return out

    def _text_file(self, rel: str, path: Path, out: _TextFacts) -> None:
        name = rel.rsplit("/", 1)[-1]
        display = self.shown.display(path)
        if name in _ACCOUNT_FILES and "/doc/" not in rel:
            text = _read_text(path)
            if text is not None:
                files = out.passwd if name.startswith("passwd") else out.shadow
                files.setdefault(self.shown.container_of(path)[1], []).append(acc.PasswdFile(display, text))
        if services.is_boot_path(rel):
            text = _read_text(path)
            if text is not None and "\x00" not in text[:4096]:
                out.boot.append(services.BootFile(rel, display, text))
        if configcreds.is_config_path(rel):
            out.config_files += 1
            known = self.credentials.get(path)
            if known is not None:
                out.credentials.extend(replace(c, path=display) for c in known)
            else:
                data = _read_bytes(path, configcreds.MAX_CONFIG_BYTES) or b""
                problems = len(self.problems)
                found = self._guarded(
                    Area.CREDENTIALS, display, lambda: configcreds.find_credentials(rel, display, data)
                )
                if len(self.problems) == problems:  # a failure is no fact to remember
                    self.credentials[path] = tuple(found)
                out.credentials.extend(found)
        if is_database_path(rel):
            self._guarded(Area.COMPONENTS, display, lambda: _add_database(out.databases, rel, display, path))

    def _accounts(self, text: _TextFacts) -> list[Account]:
        def crack() -> list[Account]:
            parsed = [
                account
                for root in sorted({*text.passwd, *text.shadow})
                for account in acc.parse_accounts(text.passwd.get(root, []), text.shadow.get(root, []))
            ]
            accounts, cracked_all = acc.crack(parsed, self.budget.crack_s)
            if not cracked_all:
                self.gaps.append(
                    NotExamined(
                        Area.PASSWORDS,
                        f"password-verification budget of {self.budget.crack_s:.0f} s ({self.budget.name}) ran out "
                        "before every hash was tried against the default list",
                    )
                )
            return accounts

        return self._guarded(Area.ACCOUNTS, "passwd and shadow files", crack)

    def _services(self, text: _TextFacts) -> list[Service]:
        return services.find_services(text.boot, _enabled_links(self.root))

    def _guarded(self, area: Area, where: str, step: Callable[[], list[T]]) -> list[T]:
        """Run one collector step; a failure on hostile content is a problem and a gap, never a crash."""
        try:
            return step()
        except Exception as exc:  # noqa: BLE001 - recorded, and the area reads not examined
            error = f"{type(exc).__name__}: {str(exc)[:120]}"
            self.problems.append(UnpackProblem("analysis-failed", error, where))
            self.gaps.append(NotExamined(area, f"could not be analysed ({error})", where))
            return []


_Fact = TypeVar("_Fact", Secret, KeyMaterial, ElfHardening)


def _shown_at(fact: _Fact, display: str) -> _Fact:
    """The fact with its display path (a memo's facts have it already; an analysed file's have the path inside
    the extraction)."""
    return fact if fact.path == display else replace(fact, path=display)


def _add_database(databases: PackageDatabases, rel: str, display: str, path: Path) -> list[None]:
    databases.add(rel, display, path)
    return []


def _has_content(path: Path) -> bool:
    try:
        with os.scandir(path) as entries:
            return any(True for _ in entries)
    except OSError:
        return False


def _read_bytes(path: Path, limit: int) -> bytes | None:
    """An extracted file's bytes when it is a regular file of at most ``limit`` bytes (never follows links)."""
    try:
        st = path.lstat()
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None
        return path.read_bytes()
    except OSError:
        return None


def _read_text(path: Path, limit: int = _SMALL_TEXT) -> str | None:
    data = _read_bytes(path, limit)
    return None if data is None else data.decode("utf-8", "replace")


def _file_digests(files: list[Path], shown: _Displayer, known: dict[Path, tuple[str, int]]) -> tuple[FileDigest, ...]:
    """sha256 of every file examined, by display path (unreadable files are left out: they are gaps already);
    ``known``: those hashed already."""
    out = []
    for path in files:
        try:
            digest, size = known[path] if path in known else safeio.sha256_file(path)
        except (OSError, InputError):
            continue
        out.append(FileDigest(shown.display(path), digest, size))
    return tuple(sorted(out, key=lambda f: f.path))


def _parts(path: Path) -> tuple[str, ...]:
    return path.parts


def _raw_carve(path: Path) -> bool:
    """A chunk unblob carved out of a file that is itself analysed: its bytes are a slice of that file, so
    scanning it again would report the same secret twice (its decompressed contents are still analysed)."""
    if not CARVED.match(path.name):  # first: most files are no carve, and their parent is not made
        return False
    parent = path.parent
    return parent.name.endswith("_extract") and (parent.parent / parent.name[: -len("_extract")]).is_file()


def _enabled_links(root: Path) -> set[str]:
    """Names linked from rc?.d/S* (SysV, OpenWrt rc.d) or systemd *.wants/ directories."""
    out: set[str] = set()
    for dirpath, entry in iter_tree(root):
        base = Path(dirpath).name
        if not (re.match(r"rc[\dS]?\.d$", base) or base.endswith(".wants")):
            continue
        if entry.is_symlink():
            with contextlib.suppress(OSError):
                target = Path(entry.path).readlink().name
                if base.endswith(".wants") or entry.name.startswith("S"):
                    out.add(target)
        elif base.endswith(".wants") and not entry.is_dir(follow_symlinks=False):
            out.add(entry.name)
    return out


def _filesystems_and_risks(
    unpacked: UnpackResult,
    shown: _Displayer,
    gaps: list[NotExamined],
    problems: list[UnpackProblem],
    virtual: frozenset[Path] = frozenset(),
    known_modes: dict[Path, dict[str, tuple[int, int, int]]] | None = None,
) -> tuple[list[Filesystem], list[FileRisk]]:
    """``known_modes``: the modes of a chunk file read already (``reuse.Layout``), by its resolved path."""
    filesystems: list[Filesystem] = []
    risks: list[FileRisk] = []
    for chunk in unpacked.chunks:
        if not chunk.handler.startswith(FS_HANDLERS):
            continue
        inside = chunk.task.is_relative_to(unpacked.extract_root)
        location = shown.display(chunk.task) if inside else ""
        root_display = _root_display(shown, chunk)
        try:
            known = (known_modes or {}).get(chunk.chunk_file.resolve()) if chunk.start == 0 else None
            source, meta = (
                (INODE_TABLE, known)
                if known is not None
                else read_metadata(chunk.handler, chunk.chunk_file, chunk.extract_dir)
            )
        except Exception as exc:  # noqa: BLE001 - hostile headers: the modes read as unknown, never a crash
            problems.append(UnpackProblem("analysis-failed", f"{type(exc).__name__}: {str(exc)[:120]}", root_display))
            source, meta = chunk.handler, None
        filesystems.append(
            Filesystem(
                chunk.handler, location, chunk.start, chunk.end - chunk.start, root_display, source if meta else None
            )
        )
        if meta is None:
            _no_metadata_gaps(chunk, source, root_display, gaps)
            continue
        meta = _drop_traversals(meta, root_display, problems)
        _missing_files_gap(chunk, meta, root_display, gaps, virtual)
        risks.extend(_risks(chunk, meta, shown, root_display))
    return filesystems, risks


def _root_display(shown: _Displayer, chunk: Chunk) -> str:
    text = shown.display(chunk.extract_dir / "x")[:-2]
    return text + "/" if text.endswith(":") else text or "/"


def _no_metadata_gaps(chunk: Chunk, source: str | None, root_display: str, gaps: list[NotExamined]) -> None:
    if source is not None:
        gaps.append(
            NotExamined(
                Area.UNPACK,
                f"the {chunk.handler} file system's own metadata could not be read: truncated or corrupt",
                root_display,
            )
        )
    if chunk.handler == "ubifs" or not chunk.handler.startswith(_NO_UNIX_MODES):
        gaps.append(
            NotExamined(
                Area.PERMISSIONS,
                f"file modes and owners of the {chunk.handler} file system are not available "
                "(unblob does not keep them and no metadata reader exists for it)",
                root_display,
            )
        )


def _drop_traversals(
    meta: dict[str, tuple[int, int, int]], root_display: str, problems: list[UnpackProblem]
) -> dict[str, tuple[int, int, int]]:
    for rel in sorted(r for r in meta if is_traversal(r)):
        problems.append(
            UnpackProblem("path-traversal", f"entry {rel!r} points outside the image; not extracted", root_display)
        )
    return {rel: value for rel, value in meta.items() if not is_traversal(rel)}


def _missing_files_gap(
    chunk: Chunk,
    meta: dict[str, tuple[int, int, int]],
    root_display: str,
    gaps: list[NotExamined],
    virtual: frozenset[Path],
) -> None:
    """``virtual``: files a delta run knows without writing them out (``reuse.py``): present."""
    root = str(chunk.extract_dir)
    known = {str(path) for path in virtual}
    missing = [
        rel
        for rel, (mode, _, _) in meta.items()
        if stat.S_ISREG(mode) and (path := f"{root}/{rel}") not in known and not os.path.isfile(path)  # noqa: PTH113 - one str per file, no Path
    ]
    if missing:
        gaps.append(
            NotExamined(
                Area.UNPACK,
                f"{len(missing)} of the files the {chunk.handler} file system lists were not extracted "
                f"(first: {sorted(missing)[0]})",
                root_display,
            )
        )


def _risks(chunk: Chunk, meta: dict[str, tuple[int, int, int]], shown: _Displayer, root_display: str) -> list[FileRisk]:
    out = []
    for rel, (mode, uid, gid) in sorted(meta.items()):
        kind = _risk_kind(mode)
        if kind:
            display = shown.display(chunk.extract_dir / rel) if rel else root_display
            out.append(FileRisk(display, kind, f"{stat.S_IMODE(mode):04o}", uid, gid))
    return out


def _risk_kind(mode: int) -> str | None:
    if stat.S_ISREG(mode) and mode & stat.S_ISUID:
        return "setuid"
    if stat.S_ISREG(mode) and mode & stat.S_ISGID:
        return "setgid"
    if stat.S_ISREG(mode) and mode & stat.S_IWOTH:
        return "world-writable-file"
    if stat.S_ISDIR(mode) and mode & stat.S_IWOTH and not mode & stat.S_ISVTX:
        return "world-writable-dir"
    return None


def _dedupe_secrets(secrets: list[Secret]) -> list[Secret]:
    seen: set[tuple[str, int, str]] = set()
    out = []
    for secret in secrets:
        key = (secret.path, secret.offset, secret.rule)
        if key not in seen:
            seen.add(key)
            out.append(secret)
    return out


def _unique(gaps: list[NotExamined]) -> list[NotExamined]:
    return list(dict.fromkeys(gaps))


__all__ = ["MAX_IMAGE_BYTES", "Confidence", "scan_image"]
