"""Scan one firmware image: unpack within a budget, analyse while unpacking, build the FirmwareInventory.

Work happens in a private temp dir (mode 0700) that is removed afterwards, whatever happens. Files are read
only when they are regular files (``lstat``), so a FIFO or a device node in a hostile image cannot block
the scan, and symlinks are never followed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import queue
import re
import shutil
import stat
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from cybersafe import safeio
from cybersafe.evidence.firmware import accounts as acc
from cybersafe.evidence.firmware import components as comp
from cybersafe.evidence.firmware import configcreds, keys, services
from cybersafe.evidence.firmware.budget import Budget
from cybersafe.evidence.firmware.elf import harden, is_elf
from cybersafe.evidence.firmware.metadata import is_traversal, read_metadata
from cybersafe.evidence.firmware.model import (
    Area,
    Component,
    Confidence,
    ElfHardening,
    FileRisk,
    Filesystem,
    FirmwareInventory,
    KeyMaterial,
    NotExamined,
    Secret,
    UnpackProblem,
)
from cybersafe.evidence.firmware.packagedb import PackageDatabases, is_database_path
from cybersafe.evidence.firmware.patterns import ByteScanner, redact
from cybersafe.evidence.firmware.unpack import FS_HANDLERS, UnpackResult, unpack, walk_tree
from cybersafe.evidence.interface import NullProgressReporter, ProgressReporter

_ROOTFS_MARKERS = ("etc", "bin", "sbin", "usr", "lib", "www")
# Containers of volumes or partitions, and file systems without Unix modes: nothing to read, so no gap.
_NO_UNIX_MODES = (
    "ubi", "trx", "chk", "fpkg", "bdl", "airoha", "moxa", "shrs", "xalz", "sparse", "uzip", "deafbead", "hdr",
    "engenius", "instar", "qnap", "partclone", "dmg", "msi", "cab", "fat", "ntfs",
)  # fmt: skip
_CARVED = re.compile(r"^\d+-\d+\.\w+$")
_EXAMPLE_MARKERS = ("EXAMPLE", "example", "xxxxxxxx", "XXXXXXXX", "0000000000000000")
_DOC_PARTS = ("/usr/share/doc/", "/usr/share/man/", "/usr/share/info/", "/usr/include/")
_SMALL_TEXT = 1024 * 1024
MAX_IMAGE_BYTES = 64 * safeio.GiB  # the image itself; what unpacking may write is the budget


@dataclass
class _FileFacts:
    meta: tuple[int, int]
    secrets: list[Secret] = field(default_factory=list)
    keys: list[KeyMaterial] = field(default_factory=list)
    banners: list[tuple[str, str | None]] = field(default_factory=list)
    elf: ElfHardening | None = None


class _Analyser:
    """Per-file analysis (byte scanner, ELF hardening), fed while unblob still extracts."""

    def __init__(self, root: Path, budget: Budget, now: dt.datetime) -> None:
        self.root = root
        self.budget = budget
        self.now = now
        self.scanner = ByteScanner()
        self.facts: dict[Path, _FileFacts] = {}
        self.queue: queue.SimpleQueue[Path | None] = queue.SimpleQueue()
        self.too_big: dict[Path, int] = {}
        self.failed: dict[Path, str] = {}  # files whose analysis raised: a gap, not a crash
        self.bytes_scanned = 0
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
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        while (path := self.queue.get()) is not None and not self._stopping:
            started = time.monotonic()
            self.analyse(path)
            self.busy_s += time.monotonic() - started

    def analyse(self, path: Path) -> None:
        try:
            st = path.lstat()
        except OSError:
            return
        if not stat.S_ISREG(st.st_mode):
            return
        meta = (st.st_size, st.st_mtime_ns)
        if self.facts.get(path, _FileFacts((-1, -1))).meta == meta:
            return
        if st.st_size > self.budget.scan_file_bytes:
            self.too_big[path] = st.st_size
            return
        rel = str(path.relative_to(self.root))
        facts = _FileFacts(meta)
        try:
            with path.open("rb") as fh:
                head = fh.read(8192)
            binary = b"\x00" in head
            hits: list[comp.Hit] = []
            for match, data in self.scanner.scan_file(path, st.st_size):
                if match.rule.kind == "secret":
                    line = None if binary else data[: match.start].count(b"\n") + 1
                    facts.secrets.append(
                        Secret(
                            rel,
                            match.start,
                            match.rule.name,
                            redact(match.text),
                            binary,
                            match.rule.confidence,
                            line,
                            # the raw text stays out of the inventory; examples are filtered below
                        )
                    )
                    if any(marker.encode() in match.text for marker in _EXAMPLE_MARKERS):
                        facts.secrets.pop()
                elif match.rule.kind == "pem":
                    key = keys.parse_pem(rel, data, match.start, match.rule.name, self.now)
                    if key is not None:
                        facts.keys.append(key)
                elif match.rule.signature is not None:
                    hits.append(comp.Hit(match.rule.signature, match.groups))
            facts.banners = comp.identify(rel, head, hits)
            if is_elf(head):
                facts.elf = harden(path, rel)
            elif keys.is_key_file(rel) and st.st_size <= _SMALL_TEXT:
                key = keys.parse_key_file(rel, rel, path.read_bytes(), self.now)
                if key is not None:
                    facts.keys.append(key)
        except OSError:
            return
        except Exception as exc:  # noqa: BLE001 - hostile content must become a recorded gap, never a crash
            self.failed[path] = f"{type(exc).__name__}: {str(exc)[:120]}"
            return
        self.bytes_scanned += st.st_size
        self.facts[path] = facts


def scan_image(
    image: Path,
    budget: Budget,
    progress: ProgressReporter | None = None,
    *,
    now: dt.datetime | None = None,
    workdir_parent: Path | None = None,
) -> FirmwareInventory:
    """Scan ``image``; raises InputError only when the file cannot be read at all."""
    progress = progress or NullProgressReporter()
    started = time.monotonic()
    digest, size = safeio.sha256_file(image, MAX_IMAGE_BYTES, what="a firmware image", field="firmware")
    now = now or dt.datetime.now(dt.UTC)
    workdir = Path(tempfile.mkdtemp(prefix="cybersafe-fw-", dir=workdir_parent))
    workdir.chmod(0o700)
    try:
        analyser = _Analyser(workdir / "out", budget, now)
        progress.start("extract", None)

        def sink(files: list[tuple[Path, int]], slice_s: float) -> None:
            analyser.offer(files, slice_s)
            progress.advance("extract", len(files), f"{len(analyser.facts)} files analysed")

        thread = analyser.start()
        try:
            unpacked = unpack(image, workdir, budget, sink)
        finally:
            analyser.stop(thread)
        progress.finish("extract")
        return _finish(image, digest, size, budget, unpacked, analyser, progress, started)
    finally:
        _remove(workdir)


def _remove(workdir: Path) -> None:
    # Extracted trees may contain read-only directories; make them writable so rmtree succeeds.
    for dirpath, dirnames, _ in os.walk(workdir):
        for name in dirnames:
            p = Path(dirpath) / name
            if not p.is_symlink():
                try:
                    p.chmod(0o700)
                except OSError:
                    continue
    shutil.rmtree(workdir, ignore_errors=True)


class _Displayer:
    """Paths as a user reads them: ``/etc/shadow``; inside nested archives ``/usr/a.tar.gz!/etc/x``."""

    def __init__(self, root: Path, image: Path) -> None:
        self.root = root
        self.image = image
        self._cache: dict[Path, str] = {}

    def container_of(self, path: Path) -> tuple[Path | None, Path]:
        parts = path.relative_to(self.root).parts
        for i in range(len(parts) - 2, -1, -1):
            if parts[i].endswith("_extract"):
                extract_dir = self.root.joinpath(*parts[: i + 1])
                container = self.root.joinpath(*parts[:i], parts[i][: -len("_extract")]) if i > 0 else None
                return container, extract_dir
        return None, self.root

    def prefix(self, container: Path | None) -> str:
        if container is None:
            return ""
        if container in self._cache:
            return self._cache[container]
        parent = container.parent
        siblings = [p for p in parent.iterdir() if p.name != container.name + "_extract"] if parent.is_dir() else []
        transparent = parent.name.endswith("_extract") and (_CARVED.match(container.name) or len(siblings) <= 1)
        if transparent:
            outer, _ = self.container_of(container)
            value = self.prefix(outer)
        else:
            value = self.display(container) + "!"
        self._cache[container] = value
        return value

    def display(self, path: Path) -> str:
        container, extract_dir = self.container_of(path)
        inner = "/" + str(path.relative_to(extract_dir)) if path != extract_dir else "/"
        return self.prefix(container) + inner

    def fs_rel(self, path: Path) -> str:
        """Path relative to the root of the file system it came from (``etc/passwd``)."""
        _, extract_dir = self.container_of(path)
        return str(path.relative_to(extract_dir))


def _finish(
    image: Path,
    digest: str,
    size: int,
    budget: Budget,
    unpacked: UnpackResult,
    analyser: _Analyser,
    progress: ProgressReporter,
    started: float,
) -> FirmwareInventory:
    root = unpacked.extract_root
    gaps: list[NotExamined] = list(unpacked.gaps)
    problems: list[UnpackProblem] = list(unpacked.problems)
    snapshot = walk_tree(root)
    containers = {c.chunk_file for c in unpacked.chunks if c.extract_dir.is_dir() and any(c.extract_dir.iterdir())}
    metas = {Path(p): meta for p, meta in snapshot.files.items()}
    files = sorted(p for p in metas if p not in containers and not _raw_carve(p))
    deadline = time.monotonic() + budget.analysis_s
    pending = [p for p in files if analyser.facts.get(p, _FileFacts((-1, -1))).meta != metas[p]]
    progress.start("analyse", len(pending))
    for path in pending:
        if time.monotonic() > deadline:
            gaps.append(
                NotExamined(Area.UNPACK, f"analysis time budget of {budget.analysis_s:.0f} s ({budget.name}) reached")
            )
            problems.append(UnpackProblem("budget-exceeded", "analysis stopped at the time budget"))
            break
        analyser.analyse(path)
        progress.advance("analyse", 1)
    progress.finish("analyse")
    shown = _Displayer(root, image)
    for path, big in analyser.too_big.items():
        if path not in containers:
            reason = f"file of {big} bytes exceeds the per-file scan budget ({budget.name})"
            for area in (Area.SECRETS, Area.KEYS, Area.ELF):
                gaps.append(NotExamined(area, reason, shown.display(path)))

    for path, error in analyser.failed.items():
        problems.append(UnpackProblem("analysis-failed", error, shown.display(path)))
        for area in (Area.SECRETS, Area.KEYS, Area.ELF):
            gaps.append(NotExamined(area, f"the file could not be analysed ({error})", shown.display(path)))
    secrets: list[Secret] = []
    key_items: list[KeyMaterial] = []
    elfs: list[ElfHardening] = []
    banners: list[Component] = []
    text_files: dict[str, list[Path]] = {}
    for path in files:
        display = shown.display(path)
        rel = shown.fs_rel(path)
        text_files.setdefault(rel, []).append(path)
        facts = analyser.facts.get(path)
        if facts is None:
            continue
        doc = any(part in display for part in _DOC_PARTS)
        if not doc:
            secrets.extend(replace(s, path=display) for s in facts.secrets)
        key_items.extend(replace(k, path=display) for k in facts.keys)
        if facts.elf is not None:
            elfs.append(replace(facts.elf, path=display))
        banners.extend(comp.from_banner(name, version, display) for name, version in facts.banners)

    # text-level collectors: accounts, config credentials, boot services, package databases
    def read(path: Path, limit: int = _SMALL_TEXT) -> str | None:
        try:
            st = path.lstat()
            if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
                return None
            return path.read_bytes().decode("utf-8", "replace")
        except OSError:
            return None

    passwd: list[acc.PasswdFile] = []
    shadow: list[acc.PasswdFile] = []
    boot: list[services.BootFile] = []
    credentials = []
    config_files = 0
    distro = None
    for rel, paths in text_files.items():
        if rel in ("etc/os-release", "usr/lib/os-release"):
            distro = comp.distro_from_os_release(read(paths[0]) or "")
    databases = PackageDatabases(distro)
    for rel, paths in sorted(text_files.items()):
        name = rel.rsplit("/", 1)[-1]
        for path in paths:
            display = shown.display(path)
            if name in ("passwd", "shadow", "passwd.default", "shadow.default") and "/doc/" not in rel:
                text = read(path)
                if text is not None:
                    (passwd if name.startswith("passwd") else shadow).append(acc.PasswdFile(display, text))
            if services.is_boot_path(rel):
                text = read(path)
                if text is not None and "\x00" not in text[:4096]:
                    boot.append(services.BootFile(rel, display, text))
            if configcreds.is_config_path(rel):
                try:
                    data = path.read_bytes() if path.lstat().st_size <= configcreds.MAX_CONFIG_BYTES else b""
                except OSError:
                    data = b""
                config_files += 1
                credentials.extend(configcreds.find_credentials(rel, display, data))
            if is_database_path(rel):
                databases.add(rel, display, path)

    # a token both rules see is one hard-coded secret, not also a credential
    secret_lines = {(s.path, s.line) for s in secrets if s.line is not None}
    credentials = [c for c in credentials if (c.path, c.line) not in secret_lines]
    parsed = acc.parse_accounts(passwd, shadow)
    accounts, cracked_all = acc.crack(parsed, budget.crack_s)
    if not cracked_all:
        gaps.append(
            NotExamined(
                Area.PASSWORDS,
                f"password-verification budget of {budget.crack_s:.0f} s ({budget.name}) ran out before every hash "
                "was tried against the default list",
            )
        )
    enabled = _enabled_links(root)
    service_items = services.find_services(boot, enabled)

    gaps.extend(databases.gaps)
    components = comp.merge(databases, banners)
    elfs = comp.attribute_packages(elfs, databases, components)
    filesystems, risks = _filesystems_and_risks(unpacked, shown, gaps, problems)
    return FirmwareInventory(
        image=image.name,
        sha256=digest,
        size=size,
        budget=budget.name,
        filesystems=tuple(filesystems),
        files_examined=len(analyser.facts),
        bytes_examined=analyser.bytes_scanned,
        accounts=tuple(accounts),
        credentials=tuple(credentials),
        secrets=tuple(_dedupe_secrets(secrets)),
        keys=tuple(key_items),
        services=tuple(service_items),
        elf=tuple(elfs),
        file_risks=tuple(risks),
        components=tuple(components),
        not_examined=tuple(_unique(gaps)),
        problems=tuple(problems),
        duration_s=round(time.monotonic() - started, 3),
        extraction_s=round(unpacked.duration_s, 3),
        stats={
            "extracted_entries": unpacked.files,
            "extracted_bytes": unpacked.bytes_written,
            "files": len(files),
            "elf_files": len(elfs),
            "overlapped_files": len(analyser.facts) - len(pending),
            "config_files": config_files,
            "account_files": len(passwd) + len(shadow),
            "boot_files": len(boot),
        },
    )


def _raw_carve(path: Path) -> bool:
    """A chunk unblob carved out of a file that is itself analysed: its bytes are a slice of that file, so
    scanning it again would report the same secret twice (its decompressed contents are still analysed)."""
    parent = path.parent
    return (
        bool(_CARVED.match(path.name))
        and parent.name.endswith("_extract")
        and (parent.parent / parent.name[: -len("_extract")]).is_file()
    )


def _enabled_links(root: Path) -> set[str]:
    """Names linked from rc?.d/S* (SysV, OpenWrt rc.d) or systemd *.wants/ directories."""
    out: set[str] = set()
    for dirpath, _, filenames in os.walk(root):
        base = Path(dirpath).name
        if not (re.match(r"rc[\dS]?\.d$", base) or base.endswith(".wants")):
            continue
        for name in filenames:
            path = Path(dirpath) / name
            if path.is_symlink():
                target = path.readlink().name
                if base.endswith(".wants") or name.startswith("S"):
                    out.add(target)
            elif base.endswith(".wants"):
                out.add(name)
    return out


def _filesystems_and_risks(
    unpacked: UnpackResult, shown: _Displayer, gaps: list[NotExamined], problems: list[UnpackProblem]
) -> tuple[list[Filesystem], list[FileRisk]]:
    filesystems: list[Filesystem] = []
    risks: list[FileRisk] = []
    for chunk in unpacked.chunks:
        if not chunk.handler.startswith(FS_HANDLERS):
            continue
        inside = chunk.task.is_relative_to(unpacked.extract_root)
        location = shown.display(chunk.task) if inside else ""
        source, meta = read_metadata(chunk.handler, chunk.chunk_file, chunk.extract_dir)
        root_display = shown.display(chunk.extract_dir / "x")[:-2] or "/"
        filesystems.append(
            Filesystem(
                chunk.handler, location, chunk.start, chunk.end - chunk.start, root_display, source if meta else None
            )
        )
        if meta is None and source is not None:
            gaps.append(
                NotExamined(
                    Area.UNPACK,
                    f"the {chunk.handler} file system's own metadata could not be read: truncated or corrupt",
                    root_display,
                )
            )
        elif meta is not None:
            for rel in sorted(r for r in meta if is_traversal(r)):
                problems.append(
                    UnpackProblem(
                        "path-traversal", f"entry {rel!r} points outside the image; not extracted", root_display
                    )
                )
            meta = {rel: value for rel, value in meta.items() if not is_traversal(rel)}
            missing = [
                rel
                for rel, (mode, _, _) in meta.items()
                if stat.S_ISREG(mode) and not (chunk.extract_dir / rel).is_file()
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
        if meta is None:
            if chunk.handler == "ubifs" or not chunk.handler.startswith(_NO_UNIX_MODES):
                gaps.append(
                    NotExamined(
                        Area.PERMISSIONS,
                        f"file modes and owners of the {chunk.handler} file system are not available "
                        "(unblob does not keep them and no metadata reader exists for it)",
                        root_display,
                    )
                )
            continue
        for rel, (mode, uid, gid) in sorted(meta.items()):
            kind = None
            if stat.S_ISREG(mode) and mode & stat.S_ISUID:
                kind = "setuid"
            elif stat.S_ISREG(mode) and mode & stat.S_ISGID:
                kind = "setgid"
            elif stat.S_ISREG(mode) and mode & stat.S_IWOTH:
                kind = "world-writable-file"
            elif stat.S_ISDIR(mode) and mode & stat.S_IWOTH and not mode & stat.S_ISVTX:
                kind = "world-writable-dir"
            if kind:
                display = shown.display(chunk.extract_dir / rel) if rel else root_display
                risks.append(FileRisk(display, kind, f"{stat.S_IMODE(mode):04o}", uid, gid))
    return filesystems, risks


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
