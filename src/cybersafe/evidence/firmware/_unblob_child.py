"""Runs unblob's Python API in a separate process: ``python -m cybersafe.evidence.firmware._unblob_child``.

A separate process so the parent can bound it (wall time, bytes, file count, memory) and kill its whole
process group, including the extractor commands unblob starts. unblob's Landlock sandbox confines writes to
the extraction directory where the kernel supports it. The result (chunks and problems) is written as JSON
to ``<workdir>/result.json``.

Decompression limits hold *while* data streams out of every extractor (gzip, xz, bzip2, lzma, lz4, zstd,
lzo, zlib, archives, file systems), not after:

- each extraction may write at most ``max(ratio_floor, max_ratio x input size)`` bytes, and never more than
  ``max_file``. One file is bounded by the kernel: the soft ``RLIMIT_FSIZE`` is lowered to the allowance for
  the extraction (inherited by the extractor command, which is killed by SIGXFSZ at the limit; Python
  extractors get EFBIG). All files of one extraction together are bounded by a watchdog thread that sums
  the output every 50 ms and, past the allowance, drops the limit to zero and kills the extractor;
- an extraction that hit its allowance is reported as ``DecompressionLimitReached`` with the numbers.

unblob is also relieved of work nothing here reads (md5/sha1/sha256 of every extracted file) and its one
recursive directory walk is replaced by an iterative one, so a 1,500-deep tree is fixed up like any other.

An image that is one whole SquashFS 4 goes the direct route (``_native``): ``unsquashfs`` starts before
unblob is imported, and unblob then processes only the extracted files it could find a chunk in.

Argument: one JSON object ``{"image", "workdir", "depth", "max_file", "max_ratio", "ratio_floor"}`` and
optionally ``"workers"`` (unblob's process count; default: the cores but one, at least one) and
``"reference"`` (true: unblob as shipped, the reference the two shortcuts are tested against: no direct route,
and every extracted file searched, also those in which no chunk can be found).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import importlib
import json
import logging
import os
import resource
import signal
import subprocess
import sys
import threading
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cybersafe.evidence.firmware._native import CLASSIFY_MAX, SquashfsImage, needs_unblob, whole_squashfs
from cybersafe.evidence.firmware.walk import iter_tree, regular_files

# unblob's directory handlers (multi-sevenzip, multi-gzip, multi-par2) by the names they claim; a test keeps
# this in step with unblob.handlers.BUILTIN_DIR_HANDLERS, so the direct route can decide without unblob
DIR_HANDLER_GLOBS = ("*.7z.001", "*.gz.*", "*.par2")
_FILE_MODE_BITS, _DIR_MODE_BITS = 0o644, 0o775  # unblob.extractor's FILE/DIR_PERMISSION_MASK
_ADDRESS_SPACE = 6 * 1024**3  # bounded memory: a decompression bomb cannot take the machine
_WATCH_S = 0.05
LIMIT_KIND = "DecompressionLimitReached"


def _silence_logging() -> None:
    import structlog

    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL),
        cache_logger_on_first_use=True,
    )
    logging.disable(logging.CRITICAL)


class _LazyLief(types.ModuleType):
    """Stands in for ``lief`` until unblob's ELF handler first uses it: importing lief takes 0.3 s, a third of
    unblob's start-up, and most runs of the direct route hand unblob no ELF file at all. The handler's one
    import-time call (``lief.logging.disable()``) is remembered and made once lief is loaded."""

    def __init__(self) -> None:
        super().__init__("lief")
        self._quiet = False

    def __getattr__(self, name: str) -> Any:
        if name == "logging" and "lief" not in _LOADED:
            return types.SimpleNamespace(disable=self._remember_quiet)
        return getattr(self._load(), name)

    def _remember_quiet(self) -> None:
        self._quiet = True

    def _load(self) -> Any:
        if "lief" not in _LOADED:
            del sys.modules["lief"]
            real = importlib.import_module("lief")
            if self._quiet:
                real.logging.disable()
            _LOADED["lief"] = real
        return _LOADED["lief"]


_LOADED: dict[str, Any] = {}


def _defer_lief() -> None:
    if "lief" not in sys.modules:
        sys.modules["lief"] = _LazyLief()


def tree_bytes(root: Path) -> tuple[int, int]:
    """(total bytes, largest file) of the regular files under ``root``."""
    total = largest = 0
    for _, st in regular_files(root):
        total += st.st_size
        largest = max(largest, st.st_size)
    return total, largest


def descendants(pid: int) -> list[int]:
    """Child processes of ``pid`` and theirs (Linux /proc)."""
    out: list[int] = []
    stack = [pid]
    while stack:
        current = stack.pop()
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                children = [int(c) for c in (task / "children").read_text().split()]
                out.extend(children)
                stack.extend(children)
    return out


class _Watchdog:
    """Sums one extraction's output while it runs; past the allowance, stops every further write."""

    def __init__(self, outdir: Path, allowance: int) -> None:
        self.outdir = outdir
        self.allowance = allowance
        self.fired = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="decompression-watchdog", daemon=True)

    def __enter__(self) -> _Watchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        interval = _WATCH_S
        while not self._done.wait(interval):
            started = time.monotonic()
            if tree_bytes(self.outdir)[0] > self.allowance:
                self.fired = True
                _stop_writes()
                return
            # summing a tree of 100,000 files takes a while: never more than a twentieth of a core
            interval = max(_WATCH_S, 20 * (time.monotonic() - started))


def _stop_writes() -> None:
    """No further byte may be written by this worker (EFBIG) and its extractor commands die."""
    _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, hard))
    for pid in descendants(os.getpid()):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


class Limits:
    """The decompression allowance of one extraction, from the size of its input."""

    def __init__(self, max_file: int, max_ratio: float, ratio_floor: int) -> None:
        self.max_file = max_file
        self.max_ratio = max_ratio
        self.ratio_floor = ratio_floor

    def allowance(self, input_size: int) -> int:
        return int(min(self.max_file, max(self.ratio_floor, self.max_ratio * input_size)))

    def run(self, extract: Callable[[], Any], input_size: int, outdir: Path) -> Any:
        """Run one extraction under its allowance; past it, raise unblob's ExtractError saying so."""
        from unblob.models import ExtractError

        allowance = self.allowance(input_size)
        _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (min(allowance, hard), hard))
        failure: Exception | None = None
        result = None
        try:
            with _Watchdog(outdir, allowance) as watchdog:
                try:
                    result = extract()
                except Exception as exc:  # noqa: BLE001 - re-raised below unless the limit explains it
                    failure = exc
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
        written, largest = tree_bytes(outdir)
        reports = failure.reports if isinstance(failure, ExtractError) else ()
        if watchdog.fired or written > allowance:
            # The partial output of a bomb is not recursed into: its quoted headers make unblob's chunk search
            # quadratic, and gigabytes of zeros scan slowly.
            _discard(outdir)
            raise ExtractError(*reports, _limit_report(input_size, written, allowance, self, discarded=True))
        if largest >= allowance or _file_too_large(failure, result):
            # A file was cut at the limit (a compressed stream's bomb, an oversized or sparse member): the cut
            # file is removed, as it is neither complete nor worth scanning; the rest of the output is kept.
            _remove_cut(outdir, allowance)
            limit = _limit_report(input_size, written, allowance, self, discarded=False)
            raise ExtractError(*reports, *_result_reports(result), limit)
        if failure is not None:
            raise failure
        return result


def _result_reports(result: Any) -> tuple[Any, ...]:
    return tuple(getattr(result, "reports", None) or ())


def _file_too_large(failure: Exception | None, result: Any) -> bool:
    """EFBIG seen by a Python extractor, raised or reported as a skipped member."""
    if isinstance(failure, OSError) and failure.errno == errno.EFBIG:
        return True
    texts = [str(failure or "")] + [str(getattr(r, "problem", "")) for r in _result_reports(result)]
    return any("[Errno 27]" in text or "File too large" in text for text in texts)


def _remove_cut(outdir: Path, allowance: int) -> None:
    for path, st in list(regular_files(outdir)):
        if st.st_size >= allowance:
            with contextlib.suppress(OSError):
                Path(path).unlink()


def _discard(outdir: Path) -> None:
    with contextlib.suppress(OSError):
        entries = [str(p) for p in outdir.iterdir()]
        if entries:
            subprocess.run(["rm", "-rf", "--", *entries], check=False, capture_output=True)


def _limit_report(input_size: int, written: int, allowance: int, limits: Limits, *, discarded: bool) -> Any:
    from unblob.report import Severity

    report_class = globals()[LIMIT_KIND]
    return report_class(
        severity=Severity.ERROR,
        input_size=input_size,
        written=written,
        allowance=allowance,
        max_ratio=limits.max_ratio,
        ratio_floor=limits.ratio_floor,
        discarded=discarded,
    )


def _define_limit_report() -> None:
    """unblob's report for a reached limit; module-level so the pool can pickle it back to the parent."""
    from pydantic import create_model
    from unblob.report import ErrorReport

    report_class = create_model(
        LIMIT_KIND,
        __base__=ErrorReport,
        __module__=__name__,
        input_size=(int, ...),
        written=(int, ...),
        allowance=(int, ...),
        max_ratio=(float, ...),
        ratio_floor=(int, ...),
        discarded=(bool, ...),
    )
    globals()[LIMIT_KIND] = report_class


def _install_limits(limits: Limits) -> None:
    """Every chunk and multi-file extraction of unblob goes through ``limits``."""
    from unblob.models import MultiFile, ValidChunk

    chunk_extract = ValidChunk.extract
    multi_extract = MultiFile.extract

    def bounded_chunk(self: Any, inpath: Path, outdir: Path) -> Any:
        size = _size(inpath)
        return limits.run(lambda: chunk_extract(self, inpath, outdir), size, outdir)

    def bounded_multi(self: Any, outdir: Path) -> Any:
        size = sum(_size(p) for p in self.paths)
        return limits.run(lambda: multi_extract(self, outdir), size, outdir)

    ValidChunk.extract = bounded_chunk  # type: ignore[method-assign]
    MultiFile.extract = bounded_multi  # type: ignore[method-assign]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _lighten_unblob(*, skip_plain: bool = True) -> None:
    """Skip the three digests unblob computes of every file (unused here), walk directories iteratively, and
    (``skip_plain``) do not search the extracted files in which no chunk can be found (``_native.needs_unblob``:
    plain text, ELF files unblob takes whole and leaves alone, media it skips by type): the image itself is
    always searched."""
    from unblob import processing
    from unblob.report import HashReport, MaliciousSymlinkRemoved

    if skip_plain:
        _skip_plain_files(processing)

    def no_digests(cls: type[Any], path: Path) -> Any:
        del path
        return cls(md5="", sha1="", sha256="")

    HashReport.from_path = classmethod(no_digests)  # type: ignore[assignment, method-assign]

    # libmagic runs twice per file: the MIME type is only reported, and the first match is all the skip
    # list (JPEG, PNG, SQLite ...) compares against, so one plain lookup does; an ELF header cannot start any
    # entry of that list, so ELF files (most of a root file system) skip libmagic altogether.
    processor_init = processing.Processor.__init__

    def light_init(self: Any, config: Any) -> None:
        processor_init(self, config)
        import magic

        lookup = magic.Magic().from_file

        def file_magic(path: Path) -> str:
            try:
                with path.open("rb") as fh:
                    if fh.read(4) == b"\x7fELF":
                        return "ELF"
            except OSError:
                pass
            return str(lookup(path))

        self._get_magic = file_magic
        self._get_mime_type = lambda path: ""

    processing.Processor.__init__ = light_init  # type: ignore[method-assign]
    _share_struct_parsers()

    def fix_extracted_directory(outdir: Path, task_result: Any) -> None:
        for link, _, raw in fix_extracted(outdir):
            task_result.add_report(MaliciousSymlinkRemoved(link=link, target=raw))

    processing.fix_extracted_directory = fix_extracted_directory  # type: ignore[attr-defined]
    _queue_single_pool(processing)


def _skip_plain_files(processing: Any) -> None:
    search_file: Any = processing._FileTask.process

    def search_unless_plain(self: Any) -> Any:
        if self.task.depth > 0 and not _needs_unblob(Path(self.task.path)):
            return None
        return search_file(self)

    processing._FileTask.process = search_unless_plain


def _share_struct_parsers() -> None:
    """unblob's cpio handlers build a new StructParser, and so compile the same C definitions again, for every
    candidate header: random data holds a 2-byte cpio magic every 64 KiB, and each compile costs ~10 ms. The
    compiled parsers are immutable, so one per (definitions, byte order) is shared."""
    from dissect.cstruct import cstruct  # type: ignore[import-untyped]
    from unblob.file_utils import StructParser

    compiled: dict[tuple[str, str], Any] = {}

    def parser(definitions: str, endian: str) -> Any:
        key = (definitions, endian)
        if key not in compiled:
            compiled[key] = cstruct(endian=endian).load(definitions)
        return compiled[key]

    StructParser.cparser_le = property(lambda self: parser(self._definitions, "<"))  # type: ignore[method-assign, assignment]
    StructParser.cparser_be = property(lambda self: parser(self._definitions, ">"))  # type: ignore[method-assign, assignment]


def _queue_single_pool(processing: Any) -> None:
    """unblob's one-process pool runs each subtask inside the callback of its parent task: a directory 1,500
    deep nests 1,500 calls. A queue drained in a loop runs the same tasks in the same order, flat."""
    from collections import deque

    from unblob.pool import PoolBase

    class QueuedPool(PoolBase):
        def __init__(self, handler: Callable[[Any], Any], result_callback: Callable[[Any, Any], None]) -> None:
            self._handler = handler
            self._result_callback = result_callback
            self._pending: deque[Any] = deque()

        def submit(self, args: Any) -> None:
            self._pending.append(args)

        def process_until_done(self) -> None:
            while self._pending:
                self._result_callback(self, self._handler(self._pending.popleft()))

    make_pool = processing.make_pool

    def flat_make_pool(process_num: int, handler: Any, result_callback: Any) -> Any:
        if process_num == 1:
            return QueuedPool(handler, result_callback)
        return make_pool(process_num, handler, result_callback)

    processing.make_pool = flat_make_pool


def _report_dicts(result: Any, config: Any) -> dict[str, list[dict[str, Any]]]:
    from unblob.report import ChunkReport, ErrorReport, ExtractionProblem, StatReport

    chunks: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    for task_result in result.results:
        task_path = Path(task_result.task.path)
        carve_dir: str | None = None
        size = None
        for report in task_result.reports:
            if type(report).__name__ == "CarveDirectoryReport":
                carve_dir = str(report.carve_dir)
            if isinstance(report, StatReport):
                size = report.size
        for report in task_result.reports:
            if isinstance(report, ChunkReport):
                chunks.append(_chunk_dict(report, task_path, size, carve_dir, config))
                for sub in report.extraction_reports:
                    if isinstance(sub, ErrorReport | ExtractionProblem):
                        problems.append(_problem(sub, task_path, chunks[-1]["extract_dir"]))
            elif isinstance(report, ErrorReport | ExtractionProblem):
                problems.append(_problem(report, task_path, None))
    return {"chunks": chunks, "problems": problems}


def _chunk_dict(report: Any, task_path: Path, size: int | None, carve_dir: str | None, config: Any) -> dict[str, Any]:
    from unblob.report import ErrorReport

    whole = report.start_offset == 0 and size is not None and report.end_offset == size
    if whole:
        chunk_file = task_path
        extract_dir = config.get_extract_dir_for(task_path)
    else:
        base = Path(carve_dir) if carve_dir else config.get_carve_dir_for(task_path)
        chunk_file = base / f"{report.start_offset}-{report.end_offset}.{report.handler_name}"
        extract_dir = Path(str(chunk_file) + "_extract")
    return {
        "task": str(task_path),
        "handler": report.handler_name,
        "start": report.start_offset,
        "end": report.end_offset,
        "chunk_file": str(chunk_file),
        "extract_dir": str(extract_dir),
        "problems": len([r for r in report.extraction_reports if isinstance(r, ErrorReport)]),
    }


def _problem(report: Any, task_path: Path, extract_dir: str | None) -> dict[str, Any]:
    kind = type(report).__name__
    if kind == LIMIT_KIND:
        rule = (
            f"one extraction may write the larger of {report.max_ratio:.0f}x its input and "
            f"{report.ratio_floor // (1024 * 1024)} MiB, here {report.allowance} bytes"
        )
        if report.discarded:
            ratio = f"{report.written / report.input_size:.0f}x" if report.input_size else "unbounded"
            message = (
                f"decompression stopped after {report.written} bytes from {report.input_size} bytes of input "
                f"(ratio {ratio}); {rule}; the partial output was discarded"
            )
        else:
            message = f"a file larger than the limit was cut or skipped and is not examined; {rule}"
        return {"kind": kind, "message": message, "path": extract_dir or str(task_path)}
    if hasattr(report, "problem"):
        message = f"{report.problem} {report.resolution}".strip()
        path = getattr(report, "path", None) or str(task_path)
    else:
        data = {name: getattr(report, name) for name in type(report).model_fields if name != "severity"}
        message = "; ".join(f"{k}={_one_line(v)}" for k, v in data.items() if v not in (None, "", b"", []))
        path = str(data.get("path") or task_path)
    return {"kind": kind, "message": message, "path": path}


def _one_line(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str) and "\n" in value.strip():  # an extractor's output or a traceback: the last line
        value = [line for line in value.splitlines() if line.strip()][-1]
    text = " ".join(str(value).split())
    return text if len(text) <= 200 else text[:197] + "..."


def _default_workers() -> int:
    """One core stays with the parent's analysis thread, which runs while unblob extracts."""
    return max(1, min(4, (os.cpu_count() or 1) - 1))


def preload() -> None:
    """What a warm start (``_warm``) imports once, before it forks children that run ``main``: unblob, its
    handlers and lief. Nothing here touches an image, sets a limit or patches unblob (``main`` does that, in
    each child)."""
    _silence_logging()
    import lief

    lief.logging.disable()
    importlib.import_module("unblob.processing")
    importlib.import_module("unblob.sandbox")
    importlib.import_module("unblob.models")
    importlib.import_module("unblob._rust.sandbox")
    importlib.import_module("magic")


def main(argv: list[str]) -> int:
    args = json.loads(argv[0])
    image, workdir = Path(args["image"]), Path(args["workdir"])
    max_file = int(args["max_file"])
    # Every file the extraction writes is bounded (Python ignores SIGXFSZ, so writes fail with EFBIG;
    # external extractors are killed by the signal and unblob records the failure).
    resource.setrlimit(resource.RLIMIT_FSIZE, (max_file, max_file))
    resource.setrlimit(resource.RLIMIT_AS, (_ADDRESS_SPACE, _ADDRESS_SPACE))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    limits = Limits(max_file, float(args["max_ratio"]), int(args["ratio_floor"]))
    extract_root = workdir / "out"
    # Landlock grants access to paths that exist when the sandbox starts: create the output root first.
    extract_root.mkdir(parents=True, exist_ok=True)
    # the direct route starts unsquashfs before unblob is imported: the analysers get the files meanwhile
    reference = bool(args.get("reference", False))
    plan = None if reference else whole_squashfs(image)
    prepared = args.get("prepared")
    direct = (
        _start_direct(plan, extract_root, limits)
        if prepared is None or plan is None
        else _Prepared(plan, extract_root, [str(rel) for rel in prepared])
    )
    candidates = direct.candidates(_known_plain(args.get("known"))) if direct is not None else None
    if direct is not None and candidates == []:
        # nothing left for unblob to search: it is not even imported (0.7 s of a cold start)
        _write_result(workdir, direct.finish_alone(extract_root))
        return 0
    _defer_lief()
    _silence_logging()
    from unblob.processing import ExtractionConfig, process_file
    from unblob.sandbox import Sandbox

    _lighten_unblob(skip_plain=not reference)
    _define_limit_report()
    _install_limits(limits)
    config = ExtractionConfig(
        extract_root=extract_root,
        randomness_depth=0,
        max_depth=int(args["depth"]),
        keep_extracted_chunks=True,
        process_num=int(args.get("workers") or _default_workers()),
        verbose=0,
    )
    log_path = workdir / "unblob.log"
    log_path.touch()
    sandbox = Sandbox(config, log_path, None)
    result = direct.finish(config, sandbox, candidates) if direct is not None and candidates is not None else None
    if result is None:
        result = sandbox.run(process_file, config, image)
    data: dict[str, Any] = dict(_report_dicts(result, config))
    if direct is not None and direct.taken:
        data["chunks"].insert(0, direct.image.chunk(extract_root))
        data["direct"] = True
        data["searched"] = direct.searched
        data["known_skipped"] = direct.known_skipped
    _write_result(workdir, data)
    return 0


def _write_result(workdir: Path, data: dict[str, Any]) -> None:
    tmp = workdir / "result.json.tmp"
    tmp.write_text(json.dumps(data))
    tmp.replace(workdir / "result.json")


def _known_plain(path: str | None) -> dict[str, str]:
    """The files of the image's root file system (path inside it -> sha256) in which unblob found nothing in the
    baseline of a delta run: unblob is deterministic, so the same bytes need not be searched again."""
    if not path:
        return {}
    try:
        known = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # a damaged hint costs time, never a finding: everything is searched
    return {str(k): str(v) for k, v in known.items()} if isinstance(known, dict) else {}


def _start_direct(plan: SquashfsImage | None, extract_root: Path, limits: Limits) -> _DirectSquashfs | None:
    """The direct route, if the image qualifies and it starts; it never makes a scan fail: the full run remains."""
    if plan is None:
        return None
    try:
        return _DirectSquashfs(plan, extract_root, limits)
    except (OSError, subprocess.SubprocessError):
        _rm_tree(plan.extract_dir(extract_root))
        return None


class _DirectSquashfs:
    """``unsquashfs`` on a whole-SquashFS image, under the same allowance as any extraction, started at once;
    ``finish`` then has unblob process only the extracted files it could find something in."""

    def __init__(self, image: SquashfsImage, extract_root: Path, limits: Limits) -> None:
        self.image = image
        self.outdir = image.extract_dir(extract_root)
        self.allowance = limits.allowance(image.size)
        self.taken = False
        self.searched: list[str] = []  # files of the root file system handed to unblob
        self.known_skipped: list[str] = []  # files not searched again: unchanged since the baseline found nothing
        _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        # the command inherits the allowance as its file-size limit (SIGXFSZ past it), as under ``Limits.run``
        resource.setrlimit(resource.RLIMIT_FSIZE, (min(self.allowance, hard), hard))
        try:
            # unblob's squashfs extractor runs the same command (with -no-exit-code; the code matters here)
            with open(os.devnull, "r+b") as null:  # noqa: PTH123 - opened here: the confined thread may not
                self._proc = _confined(
                    extract_root,
                    lambda: subprocess.Popen(
                        ["unsquashfs", "-n", "-f", "-d", str(self.outdir), str(image.path)],
                        stdin=null,
                        stdout=null,
                        stderr=null,
                    ),
                )
        finally:
            resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
        self._watchdog = _Watchdog(self.outdir, self.allowance).__enter__()

    def candidates(self, known: dict[str, str]) -> list[Path] | None:
        """Wait for ``unsquashfs``; the extracted files unblob must search, or None when the image goes the full
        way (output removed). A file ``known`` lists with the same sha256 is not searched again."""
        try:
            code = self._proc.wait()
        finally:
            self._watchdog.__exit__()
        # 2: non-fatal errors (a device node when not root): unblob ignores every exit code of this command
        if code not in (0, 2) or self._watchdog.fired or tree_bytes(self.outdir)[1] >= self.allowance:
            _rm_tree(self.outdir)
            return None
        candidates, multi_volume = _nested_candidates(self.outdir)
        if multi_volume:  # unblob's directory handlers join these across files: the full run does that
            _rm_tree(self.outdir)
            _needs_unblob.cache_clear()  # the full run writes these paths again
            return None
        left = []
        for path in candidates:
            rel = path.relative_to(self.outdir).as_posix()
            if rel in known and _sha256(path) == known[rel]:
                self.known_skipped.append(rel)
            else:
                left.append(path)
        self.searched = [path.relative_to(self.outdir).as_posix() for path in left]
        return left

    def finish(self, config: Any, sandbox: Any, candidates: list[Path]) -> Any:
        """unblob's result for the nested files."""
        from unblob.models import ProcessResult

        result = ProcessResult()
        _fix_extracted(self.outdir, self.image.path, result)
        result.results.extend(sandbox.run(_process_files, config, candidates).results)
        self.taken = True
        return result

    def finish_alone(self, extract_root: Path) -> dict[str, Any]:
        """The result when no extracted file needs unblob: its fix-up of the output, done here
        (``fix_extracted_directory``), and the one chunk, the image."""
        self.taken = True
        problems = [
            {
                "kind": "MaliciousSymlinkRemoved",
                "message": f"link={link}; target={target}",
                "path": str(self.image.path),
            }
            for link, _, target in fix_extracted(self.outdir)
        ]
        return {
            "chunks": [self.image.chunk(extract_root)],
            "problems": problems,
            "direct": True,
            "searched": [],
            "known_skipped": self.known_skipped,
        }


class _Prepared(_DirectSquashfs):
    """The direct route's second half on a tree a delta run wrote out itself (``reuse.py``): the image's files
    are there as far as the scan needs them, and unblob searches only ``files`` (paths inside the root file
    system: new or changed ones it could find something in). The tree was fixed up as unblob would
    (``fix_extracted``) before, with nothing removed."""

    def __init__(self, image: SquashfsImage, extract_root: Path, files: list[str]) -> None:
        # not the parent's: there is no unsquashfs to start
        self.image = image
        self.outdir = image.extract_dir(extract_root)
        self.taken = False
        self.files = files
        self.searched = []
        self.known_skipped = []

    def candidates(self, known: dict[str, str]) -> list[Path] | None:
        del known  # the delta run sorted the known files out
        self.searched = [rel for rel in self.files if (self.outdir / rel).is_file()]
        return [self.outdir / rel for rel in self.searched]

    def finish(self, config: Any, sandbox: Any, candidates: list[Path]) -> Any:
        self.taken = True
        return sandbox.run(_process_files, config, candidates)


def _confined(extract_root: Path, start: Callable[[], subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    """``start()`` in a thread confined as unblob's ``Sandbox`` confines its extractors (Landlock: read
    everywhere, write only under the output root), so the command it starts is confined too; unconfined, as
    under unblob, where the kernel has no Landlock."""
    from unblob._rust.sandbox import AccessFS, SandboxError, restrict_access

    started: list[subprocess.Popen[bytes]] = []
    failure: list[BaseException] = []

    def run() -> None:
        with contextlib.suppress(SandboxError):
            restrict_access(
                AccessFS.read("/"),
                AccessFS.read_write("/dev/shm"),  # noqa: S108 - what unblob's sandbox grants
                AccessFS.read_write(extract_root),
                AccessFS.remove_dir(extract_root),
                AccessFS.remove_file(extract_root),
                AccessFS.make_dir(extract_root.parent),
            )
        try:
            started.append(start())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the calling thread
            failure.append(exc)

    thread = threading.Thread(target=run, name="confined-unsquashfs")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return started[0]


def _nested_candidates(root: Path) -> tuple[list[Path], bool]:
    """The extracted files unblob could find a chunk in, and whether a directory handler would claim any."""
    if _multi_volume(root):
        return [], True
    candidates: list[Path] = []
    for _, entry in iter_tree(root):
        path = Path(entry.path)
        try:
            is_dir, is_file = entry.is_dir(follow_symlinks=False), entry.is_file(follow_symlinks=False)
        except OSError:
            continue
        if is_dir and _multi_volume(path):
            return [], True
        if is_file and _needs_unblob(path):
            candidates.append(path)
    return sorted(candidates), False


def _multi_volume(directory: Path) -> bool:
    """unblob's directory handlers (split 7z, split gzip, par2) would join files of this directory."""
    return any(any(True for _ in directory.glob(pattern)) for pattern in DIR_HANDLER_GLOBS)


def _sha256(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return ""  # unreadable: never equal to a recorded digest, so unblob tries it


def fix_extracted(outdir: Path) -> list[tuple[str, str, str]]:
    """What unblob's ``fix_extracted_directory`` does to an extracted tree, without importing unblob: read and
    write permission for the owner on every file (0o644 added) and directory (0o775 added); symlinks made
    relative when they stay inside ``outdir``, removed when they leave it or loop. Walked iteratively. Returns
    the (link, target) of each symlink removed, as unblob reports them (``MaliciousSymlinkRemoved``), and the
    link's own text: unblob's target of a relative link is where it resolves on this machine, which depends on
    where the work dir is, so the scan reports the text the image holds."""
    removed: list[tuple[str, str, str]] = []
    _fix_mode(outdir)
    # a directory's mode is fixed when its entry comes up, before iter_tree lists it
    for _, entry in iter_tree(outdir):
        path = Path(entry.path)
        try:
            _fix_mode(path)
            if path.is_symlink():
                _fix_link(path, outdir, removed)
        except OSError as exc:
            if exc.errno != errno.ENAMETOOLONG:
                raise
    return removed


def _fix_mode(path: Path) -> None:
    if path.is_symlink() or not path.exists():
        return
    mode = path.stat().st_mode
    if path.is_file():
        mode |= _FILE_MODE_BITS
    elif path.is_dir():
        mode |= _DIR_MODE_BITS
    path.chmod(mode)


def _fix_link(path: Path, outdir: Path, removed: list[tuple[str, str, str]]) -> None:
    try:
        path.resolve()
    except RuntimeError:  # a loop
        text = path.readlink().as_posix()
        removed.append((path.as_posix(), text, text))
        path.unlink()
        return
    raw = os.readlink(path)  # noqa: PTH115 - the raw text, as unblob reads it (an empty one is removed)
    if not raw:
        path.unlink()
        return
    target = Path(raw)
    target = Path(target.as_posix().lstrip("/")) if target.is_absolute() else path.resolve()
    try:
        outdir.joinpath(target).resolve().relative_to(outdir.resolve())
    except ValueError:
        removed.append((path.as_posix(), target.as_posix(), raw))
        path.unlink()
        return
    relative = os.path.relpath(outdir.joinpath(target), start=path.parent)
    path.unlink()
    path.symlink_to(relative)


@functools.cache
def _needs_unblob(path: Path) -> bool:
    """Memoised: the direct route classifies every extracted file, and unblob asks again for each one it is
    handed; an extracted file does not change afterwards."""
    try:
        with path.open("rb") as fh:
            if os.fstat(fh.fileno()).st_size > CLASSIFY_MAX:
                return True
            return needs_unblob(fh.read())
    except OSError:
        return True  # unreadable here: unblob tries and records what it finds


def _fix_extracted(outdir: Path, image: Path, result: Any) -> None:
    """What unblob does after each extraction (permissions, symlinks rewritten or removed), reported alike."""
    from unblob import processing
    from unblob.models import Task, TaskResult

    task_result = TaskResult(task=Task(path=image, depth=0, blob_id=""))
    processing.fix_extracted_directory(outdir, task_result)  # type: ignore[attr-defined]
    result.register(task_result)


def _process_files(config: Any, paths: list[Path]) -> Any:
    """unblob's ``process_file`` for many files at once: one processor and pool, each file a task at the depth
    of the files of an extracted file system (1)."""
    from unblob.models import Task
    from unblob.processing import Processor, ProcessResult, make_pool  # type: ignore[attr-defined]

    processor = Processor(config)
    aggregated = ProcessResult()

    def collect(pool: Any, task_result: Any) -> None:
        for subtask in task_result.subtasks:
            pool.submit(subtask)
        aggregated.register(task_result)

    pool: Any = make_pool(process_num=config.process_num, handler=processor.process_task, result_callback=collect)
    with pool:
        for path in paths:
            pool.submit(Task(blob_id="", path=path, depth=1))
        pool.process_until_done()
    return aggregated


def _rm_tree(path: Path) -> None:
    subprocess.run(["rm", "-rf", "--", str(path)], check=False, capture_output=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
