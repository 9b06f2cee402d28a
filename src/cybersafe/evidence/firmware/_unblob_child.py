"""Runs unblob's Python API in a separate process: ``python -m cybersafe.evidence.firmware._unblob_child``.

A separate process so the parent can bound it (wall time, bytes, file count) and kill its whole process
group, including the extractor commands unblob starts. Limits on file size and address space are set here
with ``setrlimit``; unblob's Landlock sandbox confines writes to the extraction directory where the kernel
supports it. The result (chunks and problems) is written as JSON to ``<workdir>/result.json``.

Arguments: IMAGE WORKDIR DEPTH MAX_FILE_BYTES
"""

from __future__ import annotations

import json
import logging
import os
import resource
import sys
from pathlib import Path
from typing import Any

_ADDRESS_SPACE = 6 * 1024**3  # bounded memory: a decompression bomb cannot take the machine


def _silence_logging() -> None:
    import structlog

    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL),
        cache_logger_on_first_use=True,
    )
    logging.disable(logging.CRITICAL)


def _report_dicts(result: Any, config: Any) -> dict[str, list[dict[str, Any]]]:
    from unblob.report import (
        ChunkReport,
        ErrorReport,
        ExtractionProblem,
        StatReport,
    )

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
                whole = report.start_offset == 0 and size is not None and report.end_offset == size
                if whole:
                    chunk_file = task_path
                    extract_dir = config.get_extract_dir_for(task_path)
                else:
                    base = Path(carve_dir) if carve_dir else config.get_carve_dir_for(task_path)
                    chunk_file = base / f"{report.start_offset}-{report.end_offset}.{report.handler_name}"
                    extract_dir = Path(str(chunk_file) + "_extract")
                chunks.append(
                    {
                        "task": str(task_path),
                        "handler": report.handler_name,
                        "start": report.start_offset,
                        "end": report.end_offset,
                        "chunk_file": str(chunk_file),
                        "extract_dir": str(extract_dir),
                        "problems": len([r for r in report.extraction_reports if isinstance(r, ErrorReport)]),
                    }
                )
                for sub in report.extraction_reports:
                    if isinstance(sub, ErrorReport | ExtractionProblem):
                        problems.append(_problem(sub, task_path))
            elif isinstance(report, ErrorReport | ExtractionProblem):
                problems.append(_problem(report, task_path))
    return {"chunks": chunks, "problems": problems}


def _problem(report: Any, task_path: Path) -> dict[str, Any]:
    kind = type(report).__name__
    if hasattr(report, "problem"):
        message = f"{report.problem} {report.resolution}".strip()
        path = getattr(report, "path", None) or str(task_path)
    else:
        data = report.model_dump(mode="json")
        data.pop("severity", None)
        message = "; ".join(f"{k}={str(v)[:200]}" for k, v in data.items() if v not in (None, "", []))
        path = str(data.get("path") or task_path)
    return {"kind": kind, "message": message, "path": path}


def main(argv: list[str]) -> int:
    image, workdir, depth, max_file = Path(argv[0]), Path(argv[1]), int(argv[2]), int(argv[3])
    # Every file the extraction writes is bounded (Python ignores SIGXFSZ, so writes fail with EFBIG;
    # external extractors are killed by the signal and unblob records the failure).
    resource.setrlimit(resource.RLIMIT_FSIZE, (max_file, max_file))
    resource.setrlimit(resource.RLIMIT_AS, (_ADDRESS_SPACE, _ADDRESS_SPACE))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _silence_logging()
    from unblob.processing import ExtractionConfig, process_file
    from unblob.sandbox import Sandbox

    extract_root = workdir / "out"
    # Landlock grants access to paths that exist when the sandbox starts: create the output root first.
    extract_root.mkdir(parents=True, exist_ok=True)
    config = ExtractionConfig(
        extract_root=extract_root,
        randomness_depth=0,
        max_depth=depth,
        keep_extracted_chunks=True,
        process_num=max(1, min(2, os.cpu_count() or 1)),
        verbose=0,
    )
    log_path = workdir / "unblob.log"
    log_path.touch()
    sandbox = Sandbox(config, log_path, None)
    result = sandbox.run(process_file, config, image)
    data = _report_dicts(result, config)
    tmp = workdir / "result.json.tmp"
    tmp.write_text(json.dumps(data))
    tmp.replace(workdir / "result.json")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
