"""`cybersafe report` and `cybersafe paperwork`: an assessment JSON in, reports and scheme paperwork out."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cybersafe.cli._common import (
    EXIT_NOT_MET,
    FORMAT_OPTION,
    OutputFormat,
    check_out_dir,
    check_output,
    console,
    emit_json,
    fail,
    handle_errors,
)
from cybersafe.errors import InputError
from cybersafe.render.interface import OutputFormat as ReportFormat


def report_time() -> dt.datetime:
    """The injected report time: SOURCE_DATE_EPOCH when set (reproducible outputs), else the clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None or not epoch.strip():
        return dt.datetime.now(dt.UTC).replace(microsecond=0)
    try:
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
    except (ValueError, OverflowError, OSError):
        raise InputError("not a whole number of seconds since 1970", field="SOURCE_DATE_EPOCH") from None


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.command("paperwork")(paperwork)


@handle_errors
def report(
    assessment: Annotated[Path, typer.Argument(help="assessment JSON written by `cybersafe assess`")],
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="html, pdf, json, oscal (assessment-results) or sarif")
    ] = ReportFormat.HTML,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", metavar="FILE", help="file to write ('-' or none: stdout; a PDF never to a terminal)"
        ),
    ] = None,
) -> None:
    """Render an assessment as an HTML or PDF report, OSCAL assessment results, SARIF or JSON.

    Exit codes: 0 written; 2 bad input (one line naming the file and field); 3 a bug in cybersafe.
    """
    from cybersafe.render.interface import render
    from cybersafe.results import load_assessment

    check_output(output)
    loaded = load_assessment(assessment)
    if (output is None or str(output) == "-") and fmt is ReportFormat.PDF and sys.stdout.isatty():
        fail("a PDF is not written to a terminal: use -o FILE")
    data = render(loaded, fmt, now=report_time())
    if output is None or str(output) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    _write(output, data)
    console.print(f"wrote {output} ({fmt.value}, {len(data):,} bytes)", highlight=False)


@handle_errors
def paperwork(
    assessment: Annotated[Path, typer.Argument(help="assessment JSON written by `cybersafe assess`")],
    kind: Annotated[
        str,
        typer.Option("--kind", "-k", help="a document kind (an unknown one lists them), or all", show_default=True),
    ] = "all",
    out: Annotated[Path, typer.Option("--out", metavar="DIR", help="directory for the documents")] = Path("paperwork"),
    kinds_dir: Annotated[
        Path | None,
        typer.Option("--kinds", help="directory of extra document kinds (<kind>.yaml), added to the bundled ones"),
    ] = None,
    fmt: OutputFormat = FORMAT_OPTION,
) -> None:
    """Draft scheme paperwork from the dossier and the assessment, listing what input is still missing.

    Exit code 0 when every document is ready to sign (only by-hand items left), 1 when input is missing or
    the assessment does not meet the scheme, 2 on bad input.
    """
    from cybersafe.render.paperwork import document_kinds, paperwork_files
    from cybersafe.results import load_assessment

    known = document_kinds(kinds_dir)
    if kind == "all":
        kinds = list(known.values())
    elif kind in known:
        kinds = [known[kind]]
    else:
        choices = ", ".join([*known, "all"])
        raise InputError(f"unknown kind {kind!r}; choose one of {choices}", field="--kind")
    check_out_dir(out)
    loaded = load_assessment(assessment)
    now = report_time()
    summary: list[dict[str, Any]] = []
    for k in kinds:
        result = paperwork_files(k, loaded, now=now)
        written = []
        for name, data in result.files.items():
            _write(out / name, data)
            written.append(str(out / name))
        summary.append(
            {
                "kind": k.kind,
                "files": written,
                "ready": result.doc.ready,
                "missing": [f"{i.clause} {i.label}: {i.source}" for i in result.doc.missing],
                "by_hand": [f"{i.clause} {i.label}" for i in result.doc.by_hand],
                "blocking": list(result.doc.blocking),
            }
        )
    if fmt is OutputFormat.JSON:
        emit_json(summary)
    else:
        table = Table(title=f"Scheme paperwork in {out}")
        for column in ("kind", "ready", "missing input", "by hand", "blocking", "files"):
            table.add_column(column)
        for row in summary:
            table.add_row(
                str(row["kind"]),
                "yes" if row["ready"] else "no",
                str(len(row["missing"])),
                str(len(row["by_hand"])),
                str(len(row["blocking"])),
                ", ".join(Path(f).name for f in row["files"]),
            )
        console.print(table)
        for row in summary:
            for item in row["missing"]:
                console.print(f"  {row['kind']}: missing {item}", highlight=False, soft_wrap=True)
            if row["blocking"]:
                console.print(f"  {row['kind']}: not ready: {row['blocking'][0]}", highlight=False, soft_wrap=True)
    if not all(row["ready"] for row in summary):
        raise typer.Exit(EXIT_NOT_MET)


def _write(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror or exc}", file=path) from None
