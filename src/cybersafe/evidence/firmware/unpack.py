"""Unpack a firmware image with unblob into a private work dir, within a budget.

unblob runs in a child process (its own session, so the whole group including extractor commands can be
killed); the child itself bounds every decompression while it streams (``_unblob_child``). The parent polls
the output tree and the child's processes: it enforces the byte, file-count, memory and wall-time budgets,
and it hands files that have stopped changing to the analysers while extraction goes on, so analysis
overlaps extraction on a second core. After the child ends, symlinks that escape the output tree are removed
and recorded, and every chunk unblob found is listed with its handler and location. Trees are walked
without recursion: a hostile image may nest directories thousands deep.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cybersafe.evidence.firmware import _warm
from cybersafe.evidence.firmware._sasquatch import install_shim
from cybersafe.evidence.firmware._unblob_child import LIMIT_KIND, descendants
from cybersafe.evidence.firmware.budget import Budget
from cybersafe.evidence.firmware.model import Area, NotExamined, UnpackProblem
from cybersafe.evidence.firmware.walk import iter_tree

_Child = subprocess.Popen[bytes] | _warm.WarmChild  # a cold start, or a child the warm zygote forked

# handlers whose output is a file tree (as opposed to one decompressed stream or a carved binary)
FS_HANDLERS = (
    "squashfs", "extfs", "cpio", "tar", "zip", "jffs2", "ubi", "ubifs", "romfs", "cramfs", "yaffs", "fat",
    "iso9660", "sevenzip", "rar", "erofs", "ntfs", "arj", "arc", "cab", "ar", "dmg", "partclone", "minix_fs",
    "solaris_ufs", "ufs", "btrfs", "ipkg", "lzh", "msi", "stuffit", "qnap", "qnx", "instar", "engenius", "chk",
    "trx", "fpkg", "bdl", "airoha", "moxa", "shrs", "xalz", "sparse", "uzip", "deafbead", "hdr1", "hdr2",
)  # fmt: skip
# the name unblob gives a chunk it carved out of a file (``<start>-<end>.<handler>``)
CARVED = re.compile(r"^\d+-\d+\.\w+$")
_POLL_S = 0.1
MiB = 1024 * 1024
_PAGE = os.sysconf("SC_PAGE_SIZE")
# When is an extracted file complete, so analysis can start while unblob goes on? Extractors restore the
# archive's timestamps after writing a file (unsquashfs, tar, debugfs), so an mtime from before the run means
# "done"; otherwise the file must be unchanged across two polls and untouched for a while. Parallel unsquashfs
# creates every file empty first, so size and a fresh mtime alone prove nothing. The final pass re-analyses
# any file whose size or mtime changed afterwards, so this only decides how much work overlaps.
_RESTORED_MARGIN_NS = 2_000_000_000
_STABLE_AGE_NS = 2_000_000_000

# Called with the files that are complete so far and the time the analysers may spend before the next poll.
FileSink = Callable[[list[tuple[Path, int]], float], None]


@dataclass(frozen=True, slots=True)
class Chunk:
    handler: str
    task: Path
    start: int
    end: int
    chunk_file: Path
    extract_dir: Path


@dataclass
class UnpackResult:
    extract_root: Path
    chunks: list[Chunk] = field(default_factory=list)
    problems: list[UnpackProblem] = field(default_factory=list)
    gaps: list[NotExamined] = field(default_factory=list)
    files: int = 0
    bytes_written: int = 0
    duration_s: float = 0.0
    tree: dict[str, tuple[int, int]] = field(default_factory=dict)  # regular files after extraction: size, mtime
    direct: bool = False  # the image went the direct route (``_native``), unblob saw only the nested files
    # direct route: files of the root file system (paths inside it) unblob searched, and those it did not search
    # again because the baseline's search of the same bytes found nothing
    searched: tuple[str, ...] = ()
    known_skipped: tuple[str, ...] = ()


@dataclass
class _Snapshot:
    # path -> (size, mtime_ns); str keys: the tree is walked every poll, Path objects would cost more than the walk
    files: dict[str, tuple[int, int]] = field(default_factory=dict)
    entries: int = 0
    bytes_total: int = 0


def walk_tree(root: Path) -> _Snapshot:
    snap = _Snapshot()
    for _, entry in iter_tree(root):
        snap.entries += 1
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            snap.bytes_total += st.st_size
            snap.files[entry.path] = (st.st_size, st.st_mtime_ns)
    return snap


class Extraction:
    """One unblob run in a child process: ``start`` returns at once, ``wait`` supervises it to the end.

    Starting early lets the child's imports and unblob's set-up run while the caller prepares its analysers.
    """

    def __init__(
        self,
        image: Path,
        workdir: Path,
        budget: Budget,
        *,
        reference: bool = False,
        known: dict[str, str] | None = None,
        prepared: list[str] | None = None,
    ) -> None:
        """``known``: files of the root file system (path inside it -> sha256) in which unblob found nothing
        before (a delta run's baseline); the direct route does not search them again when their bytes match.
        ``prepared``: the root file system is written out already, as far as a delta run needs it (``reuse.py``);
        unblob searches only these files of it (paths inside it)."""
        self.image = image
        self.known = known or {}
        self.prepared = prepared
        # unblob as shipped, without the direct route or the skipping of plain files (``_unblob_child``)
        self.reference = reference
        self.workdir = workdir
        self.budget = budget
        self.extract_root = workdir / "out"
        self._proc: _Child | None = None
        self._started = 0.0
        self.entries = 0  # extracted entries, once waited for

    @property
    def started(self) -> bool:
        return self._proc is not None

    def start(self) -> None:
        self._started = time.monotonic()
        self.extract_root.mkdir(parents=True, exist_ok=True)
        bin_dir = install_shim(self.workdir / "bin")
        env = dict(os.environ)
        # the shim, then this interpreter's scripts dir (jefferson, ubireader_* are pip entry points of unblob)
        env["PATH"] = os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), env.get("PATH", "")])
        env["PYTHONWARNINGS"] = "ignore"
        args = {
            "image": str(self.image.resolve()),
            "workdir": str(self.workdir.resolve()),
            "depth": self.budget.depth,
            "max_file": self.budget.bytes_written,
            "max_ratio": self.budget.max_ratio,
            "ratio_floor": self.budget.ratio_floor,
            "reference": self.reference,
        }
        if self.prepared is not None:
            args["prepared"] = self.prepared
        if self.known:  # a file, not the argument: a large image may list thousands
            known_file = self.workdir / "known.json"
            known_file.write_text(json.dumps(self.known), encoding="utf-8")
            args["known"] = str(known_file.resolve())
        warm = _warm.zygote()
        if warm is not None:
            workdir = self.workdir.resolve()
            with contextlib.suppress(OSError):  # no child from it: a cold start, as without one
                self._proc = warm.spawn(json.dumps(args), workdir, env, workdir / "child.stderr")
                return
        with (self.workdir / "child.stderr").open("wb") as stderr:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "cybersafe.evidence.firmware._unblob_child", json.dumps(args)],
                cwd=self.workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )

    def abort(self) -> None:
        """Kill the child and everything it started (the caller gave up before waiting)."""
        if self._proc is not None:
            _kill_group(self._proc)

    def wait(self, sink: FileSink | None = None) -> UnpackResult:
        """Supervise the child within the budget; never raises for hostile content, records problems instead."""
        if self._proc is None:
            self.start()
        proc = self._proc
        assert proc is not None
        result = UnpackResult(extract_root=self.extract_root)
        try:
            exceeded = _supervise(proc, self.extract_root, self.budget, self._started, sink)
        finally:
            _kill_group(proc)
        result.duration_s = time.monotonic() - self._started
        neutralise_links(self.extract_root, result)
        final = walk_tree(self.extract_root)
        # the budgets hold for what was written, also when the child finished between two polls
        exceeded = exceeded or _over_budget(final, self.budget)
        if exceeded is not None:
            result.problems.append(UnpackProblem("budget-exceeded", exceeded))
            result.gaps.append(NotExamined(Area.UNPACK, f"extraction stopped: {exceeded}"))
        result.files, result.bytes_written, result.tree = final.entries, final.bytes_total, final.files
        self.entries = final.entries
        result_file = self.workdir / "result.json"
        # past a budget the child is stopped, or ends before a poll notices: what it found is not taken either way,
        # so the result does not depend on which came first (a delta run's child skips known files and ends sooner)
        if result_file.is_file() and exceeded is None:
            read_child_result(json.loads(result_file.read_text()), self.workdir, result)
        elif exceeded is None:
            stderr_path = self.workdir / "child.stderr"
            tail = stderr_path.read_text(errors="replace").strip().splitlines()[-1:] if stderr_path.exists() else []
            reason = f"unblob stopped with exit code {proc.returncode}" + (f": {tail[0][:200]}" if tail else "")
            result.problems.append(UnpackProblem("extractor-failed", reason))
            result.gaps.append(NotExamined(Area.UNPACK, reason))
        if not any(c.handler.startswith(FS_HANDLERS) for c in result.chunks) and not result.gaps:
            found = sorted({c.handler for c in result.chunks})
            reason = "no file system or archive was found in the image" + (
                f" (only {', '.join(found)})" if found else ""
            )
            result.problems.append(UnpackProblem("unknown-format", reason))
            result.gaps.append(NotExamined(Area.UNPACK, reason))
        return result


def unpack(
    image: Path, workdir: Path, budget: Budget, sink: FileSink | None = None, *, reference: bool = False
) -> UnpackResult:
    """Extract ``image`` under ``workdir/out``; never raises for hostile content, records problems instead."""
    extraction = Extraction(image, workdir, budget, reference=reference)
    extraction.start()
    return extraction.wait(sink)


def read_child_result(data: dict[str, Any], workdir: Path, result: UnpackResult) -> None:
    extract_root = workdir / "out"
    result.direct = bool(data.get("direct"))
    result.searched = tuple(str(p) for p in data.get("searched", ()))
    result.known_skipped = tuple(str(p) for p in data.get("known_skipped", ()))
    for chunk in data["chunks"]:
        result.chunks.append(
            Chunk(
                handler=chunk["handler"],
                task=Path(chunk["task"]),
                start=int(chunk["start"]),
                end=int(chunk["end"]),
                chunk_file=Path(chunk["chunk_file"]),
                extract_dir=Path(chunk["extract_dir"]),
            )
        )
    # where the work dir is says nothing about the image: messages name paths inside the output tree
    roots = sorted({f"{extract_root}/", f"{extract_root.resolve()}/"}, key=len, reverse=True)
    for problem in data["problems"]:
        where = _relative(problem.get("path"), workdir)
        kind = problem["kind"]
        for root in roots:
            problem["message"] = str(problem["message"]).replace(root, "")
        if kind == LIMIT_KIND:
            # a bomb, wherever it sits, leaves part of the image unexamined
            result.problems.append(UnpackProblem("decompression-limit", problem["message"], where))
            result.gaps.append(
                NotExamined(Area.UNPACK, f"decompression stopped at its limit: {problem['message']}", where)
            )
            continue
        result.problems.append(UnpackProblem(kind, problem["message"], where))
        if kind in _FAILED_EXTRACTION and not _inside_rootfs(problem.get("path"), extract_root):
            result.gaps.append(NotExamined(Area.UNPACK, f"a part of the image could not be extracted ({kind})", where))


def _supervise(proc: _Child, root: Path, budget: Budget, started: float, sink: FileSink | None) -> str | None:
    previous: dict[str, tuple[int, int]] = {}
    offered: set[str] = set()
    restored_before = time.time_ns() - _RESTORED_MARGIN_NS
    walk_every = _POLL_S
    last_walk = 0.0
    last_rss = 0.0
    while proc.poll() is None:
        now = time.monotonic()
        if now - started > budget.wall_s:
            return f"wall-time budget of {budget.wall_s:.0f} s ({budget.name}) reached"
        if now - last_rss >= _POLL_S / 4:
            last_rss = now
            if (rss := largest_rss(proc.pid)) > budget.memory_bytes:
                return (
                    f"memory budget of {budget.memory_bytes // MiB} MiB ({budget.name}) reached: an extraction "
                    f"process held {rss // MiB} MiB"
                )
        if now - last_walk < walk_every:
            time.sleep(_POLL_S / 20)  # short: a small image is out in 0.1 s, and the scan waits for the child's end
            continue
        walk_started = time.monotonic()
        snap = walk_tree(root)
        last_walk = time.monotonic()
        # Walking a huge tree often would steal the core the analysis needs: back off with its cost, and
        # further while nothing changes (unblob scanning extracted files for chunks writes nothing).
        idle = snap.files.keys() == previous.keys() and snap.bytes_total == sum(m[0] for m in previous.values())
        walk_every = min(1.0, walk_every * 1.5) if idle else _POLL_S
        walk_every = max(walk_every, 10 * (last_walk - walk_started))  # at most a tenth of a core
        if (over := _over_budget(snap, budget)) is not None:
            return over
        if sink is not None:
            _offer_ready(snap, previous, offered, restored_before, walk_every, sink)
        previous = snap.files
    return None


def _over_budget(snap: _Snapshot, budget: Budget) -> str | None:
    if snap.bytes_total > budget.bytes_written:
        return f"byte budget of {budget.bytes_written // MiB} MiB ({budget.name}) reached"
    if snap.entries > budget.files:
        return f"file-count budget of {budget.files} ({budget.name}) reached"
    return None


def _offer_ready(
    snap: _Snapshot,
    previous: dict[str, tuple[int, int]],
    offered: set[str],
    restored_before: int,
    walk_every: float,
    sink: FileSink,
) -> None:
    cutoff = time.time_ns() - _STABLE_AGE_NS
    ready = [
        path
        for path, meta in snap.files.items()
        if path not in offered
        and meta[0] > 0
        and previous.get(path) == meta
        and (meta[1] < restored_before or meta[1] < cutoff)
    ]
    offered.update(ready)
    sink([(Path(path), snap.files[path][0]) for path in ready], walk_every)


def largest_rss(pid: int) -> int:
    """Resident bytes of the largest process among ``pid`` and its descendants (0 when gone)."""
    largest = 0
    for current in (pid, *descendants(pid)):
        try:
            with open(f"/proc/{current}/statm", "rb") as fh:  # noqa: PTH123 - /proc, not a user file
                largest = max(largest, int(fh.read().split()[1]) * _PAGE)
        except (OSError, ValueError, IndexError):
            continue
    return largest


def _kill_group(proc: _Child) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(proc.pid, signal.SIGKILL)  # the child itself, should its group not be there
        proc.wait()
    else:
        # unblob's workers or an extractor may outlive the child; the group goes with it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


def remove_tree(workdir: Path, *, background: bool = False) -> None:
    """Remove a work dir: ``rm -rf`` first (fast, and it does not recurse on the stack, so a tree thousands
    of levels deep goes too); if something is left (a read-only directory when not root), directories are made
    writable and it is removed again.

    ``background``: a detached ``rm`` removes it after the caller has returned. Freeing tens of thousands of
    small files can take minutes where the file system discards every freed block (ext4 ``discard``); the
    scan's result should not wait for that."""
    if background:
        with contextlib.suppress(OSError):
            subprocess.run(
                ["sh", "-c", 'setsid rm -rf -- "$1" </dev/null >/dev/null 2>&1 &', "sh", str(workdir)], check=False
            )
            return
    _rm_rf(workdir)
    if not workdir.exists():
        return
    for _, entry in iter_tree(workdir):
        with contextlib.suppress(OSError):
            if entry.is_dir(follow_symlinks=False):
                Path(entry.path).chmod(0o700)
    _rm_rf(workdir)


def _rm_rf(path: Path) -> None:
    with contextlib.suppress(OSError):
        subprocess.run(["rm", "-rf", "--", str(path)], check=False, capture_output=True)


def neutralise_links(root: Path, result: UnpackResult) -> None:
    """Remove symlinks that point outside the output tree (unblob rewrites most; this is the last guard)."""
    real_root = root.resolve()
    for _, entry in iter_tree(root):
        if not entry.is_symlink():
            continue
        path = Path(entry.path)
        try:
            target = str(path.readlink())
            resolved = (path.parent / target).resolve()
            escapes = not resolved.is_relative_to(real_root)
        except (OSError, RuntimeError):
            escapes, target = True, "<unresolvable>"
        if escapes:
            path.unlink(missing_ok=True)
            result.problems.append(
                UnpackProblem(
                    "symlink-escape",
                    f"symlink to {target!r} points outside the image and was removed",
                    str(path.relative_to(root)),
                )
            )


_FAILED_EXTRACTION = frozenset(
    {
        "ExtractorDependencyNotFoundReport",
        "ExtractCommandFailedReport",
        "ExtractorTimedOut",
        "UnknownError",
        "CalculateChunkExceptionReport",
        "CalculateMultiFileExceptionReport",
        "OutputDirectoryExistsReport",
    }
)
ROOTFS_MARKERS = ("etc", "bin", "sbin", "usr")


def _inside_rootfs(path: str | None, extract_root: Path) -> bool:
    """A failure on a file inside an unpacked root file system (a misdetected chunk in some binary) leaves
    the file system itself examined; a failure on the image or its top-level chunks does not."""
    if not path:
        return False
    current = Path(path).parent
    while current.is_relative_to(extract_root) and current != extract_root:
        if current.name.endswith("_extract") and any((current / m).is_dir() for m in ROOTFS_MARKERS):
            return True
        current = current.parent
    return False


def _relative(path: str | None, workdir: Path) -> str | None:
    if not path:
        return None
    try:
        return str(Path(path).relative_to(workdir / "out"))
    except ValueError:
        return Path(path).name
