"""Fleet commands: ``cybersafe diff`` (two assessments) and ``cybersafe batch`` (many products on Dask)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from cybersafe.cli._common import (
    CATALOG_OPTION,
    EXIT_BAD_INPUT,
    EXIT_NOT_MET,
    EXIT_OK,
    FORMAT_OPTION,
    FailOn,
    OutputFormat,
    catalog_for,
    check_out_dir,
    check_output,
    console,
    emit_json,
    err_console,
    fail_on_option,
    gate,
    handle_errors,
    parse_now,
    write_document,
)
from cybersafe.cli.core import styled

_LISTED = 20
_OUTCOME_STYLE = {
    "assessed": "green",
    "reused": "dim",
    "failed": "bold red",
}  # findings listed per kind in the table; --format json lists all


def register(app: typer.Typer) -> None:
    app.command("batch")(batch_command)
    app.command("diff")(diff_command)


SCHEDULER_OPTION = typer.Option(
    "--scheduler",
    metavar="ADDRESS",
    help="A running Dask scheduler (tcp://host:8786, started with `dask scheduler`; workers with `dask worker "
    "ADDRESS`). Default: a local cluster of --workers processes on this machine.",
)
WORKERS_OPTION = typer.Option("--workers", "-w", min=1, help="Local worker processes (default: one per core).")


class Budget(StrEnum):
    QUICK = "quick"
    STANDARD = "standard"
    DEEP = "deep"


class ReportFormat(StrEnum):
    HTML = "html"
    PDF = "pdf"
    JSON = "json"
    OSCAL = "oscal"
    SARIF = "sarif"


_MANIFEST = typer.Option("--manifest", "-m", help="YAML list of products: products: [{dossier: PATH, id: NAME}, ...].")
_OUT = typer.Option("--out", metavar="DIR", help="Where each product's results and the summary go.")
_SCHEME = typer.Option("--scheme", "-s", help="Scheme to judge on, ID or ID@VERSION; repeatable. Default: markets.")
_REPORT = typer.Option("--report", "-r", help="Also write this report per product; repeatable.")
_BUDGET = typer.Option("--budget", help="Firmware scan budget per product (time, bytes, files).")
_NOW = typer.Option("--now", help="Assessment time for every product (ISO 8601); default: now.")
_FULL = typer.Option("--full", help="Assess changed products in full, not as a delta against their last run.")
_FORCE = typer.Option("--force", help="Assess every product, even one whose inputs are unchanged.")
_FAIL_ON = fail_on_option("a product has a failing finding that feeds a judged scheme")


@handle_errors
def batch_command(
    dossiers: Annotated[list[Path] | None, typer.Argument(metavar="DOSSIER...", help="Product dossiers.")] = None,
    manifest: Annotated[Path | None, _MANIFEST] = None,
    out: Annotated[Path, _OUT] = Path("out/batch"),
    scheduler: Annotated[str | None, SCHEDULER_OPTION] = None,
    workers: Annotated[int | None, WORKERS_OPTION] = None,
    scheme: Annotated[list[str] | None, _SCHEME] = None,
    catalog_dirs: Annotated[list[Path] | None, CATALOG_OPTION] = None,
    report: Annotated[list[ReportFormat] | None, _REPORT] = None,
    budget: Annotated[Budget, _BUDGET] = Budget.STANDARD,
    now: Annotated[str | None, _NOW] = None,
    full: Annotated[bool, _FULL] = False,
    force: Annotated[bool, _FORCE] = False,
    fail_on: Annotated[FailOn | None, _FAIL_ON] = None,
    output_format: OutputFormat = FORMAT_OPTION,
) -> None:
    """Assess many products on Dask: one assessment per product, summary.json and summary.csv.

    A product that cannot be assessed is recorded as failed with its one-line error; the rest go on. A re-run
    skips products whose inputs are unchanged (dossier, firmware, SBOM, VEX, vulnerability database, versions,
    date) and assesses changed ones as a delta against their previous assessment.

    Exit codes: 0 every product assessed and meeting its judged schemes; 1 a product does not (with --fail-on:
    has a failing finding at or above that severity); 2 bad input or a product that could not be assessed (the
    others are still done); 3 a bug in cybersafe.
    """
    from cybersafe.errors import FleetError
    from cybersafe.fleet.batch import BatchOptions, products_from_paths, read_manifest, resolve_path
    from cybersafe.fleet.cluster import ClusterSpec

    if bool(dossiers) == (manifest is not None):
        raise typer.BadParameter("give dossiers or --manifest FILE, not both and not neither")
    check_out_dir(out)
    products = read_manifest(manifest) if manifest is not None else products_from_paths(dossiers or [])
    options = BatchOptions(
        now=parse_now(now),
        scheme_refs=tuple(scheme or ()),
        catalog_dirs=tuple(resolve_path(p, FleetError) for p in catalog_dirs or ()),
        reports=tuple(str(r) for r in report or ()),
        budget=str(budget),
        full=full,
        force=force,
    )
    catalog_for(list(options.catalog_dirs) or None)  # a bad catalog is one line here, not one per product
    summary = _run_batch(products, options, out, ClusterSpec(scheduler, workers), output_format)
    if output_format is OutputFormat.JSON:
        emit_json(summary.as_dict())
    else:
        _print_batch(summary, out)
    raise typer.Exit(_batch_exit(summary, fail_on))


def _run_batch(products: Any, options: Any, out: Path, spec: Any, output_format: OutputFormat) -> Any:
    from cybersafe.fleet.batch import run_batch

    bar = _BatchBar() if output_format is OutputFormat.TABLE else None
    try:
        return run_batch(products, options, out, spec, on_result=bar.advance if bar else None)
    finally:
        if bar is not None:
            bar.close()


def _batch_exit(summary: Any, fail_on: FailOn | None) -> int:
    if summary.failed:
        return EXIT_BAD_INPUT
    if fail_on is not None:
        hit = gate([_Severity(s) for r in summary.results for s in r.failing], fail_on)
        return EXIT_NOT_MET if hit else EXIT_OK
    return EXIT_NOT_MET if any(r.meets is False for r in summary.results) else EXIT_OK


@dataclass(frozen=True)
class _Severity:
    severity: str


class _BatchBar:
    """Products done / total with the time left, on stderr; failures printed above it as they come."""

    def __init__(self) -> None:
        self._progress = Progress(
            TextColumn("products"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[last]}"),
            console=err_console,
            transient=True,
        )
        self._task: TaskID | None = None
        self._progress.start()

    def advance(self, result: Any, done: int, total: int) -> None:
        if self._task is None:
            self._task = self._progress.add_task("products", total=total, last="")
        if result.outcome == "failed":
            self._progress.console.print(f"[red]failed[/] {escape(result.product)}: {escape(result.error or '')}")
        self._progress.update(self._task, completed=done, last=f"{result.product}: {result.outcome}")

    def close(self) -> None:
        self._progress.stop()


def _print_batch(summary: Any, out: Path) -> None:
    table = Table(title=f"{len(summary.results)} products on {summary.cluster}, as of {summary.as_of}")
    for column in ("product", "outcome", "meets", "schemes (judged)", "s", "note"):
        table.add_column(column, overflow="fold", justify="right" if column == "s" else "left")
    for r in summary.results:
        judged = [s for s in r.schemes if s.judged]
        statuses = ", ".join(f"{s.scheme}: {s.status_in_words}" for s in judged)
        note = r.error or (f"delta: {r.delta['rerun']} checks run again" if r.delta else "")
        if r.outcome == "reused":
            note = "inputs unchanged"
        note = "; ".join([note, *r.notes]) if note and r.notes else note or "; ".join(r.notes)
        meets = "" if r.meets is None else ("yes" if r.meets else "no")
        table.add_row(
            r.product,
            Text(r.outcome, style=_OUTCOME_STYLE[r.outcome]),
            meets,
            statuses,
            f"{r.duration_s:.1f}",
            note,
        )
    console.print(table)
    data = summary.as_dict()
    console.print(
        f"{data['assessed']} assessed, {data['reused']} unchanged and skipped, {data['failed']} failed, "
        f"{data['not_met']} not meeting their judged schemes; {summary.wall_s:.1f} s",
        highlight=False,
    )
    console.print(f"written: {out / 'summary.json'}, {out / 'summary.csv'}", highlight=False)


_DIFF_OUTPUT = typer.Option("--output", "-o", help="Write the diff as JSON to this file ('-': stdout).")


@handle_errors
def diff_command(
    old: Annotated[Path, typer.Argument(metavar="OLD.json", help="The earlier assessment.")],
    new: Annotated[Path, typer.Argument(metavar="NEW.json", help="The later assessment.")],
    output_format: OutputFormat = FORMAT_OPTION,
    output: Annotated[Path | None, _DIFF_OUTPUT] = None,
) -> None:
    """What changed between two assessments: scheme statuses and levels, requirement verdicts with their cause,
    findings added and removed (matched by check, location and facts, not by position).

    Exit codes: 0 nothing changed; 1 something did; 2 bad input (one line naming the file and field); 3 a bug.
    """
    from cybersafe.diff import diff_assessments
    from cybersafe.results import load_assessment

    check_output(output)
    result = diff_assessments(load_assessment(old), load_assessment(new))
    if output is not None:
        text = json.dumps(result.wire(), indent=2, ensure_ascii=False) + "\n"
        summary = {"changed": result.changed, "digest": result.digest()}
        write_document(output, text, summary=summary, fmt=output_format)
    elif output_format is OutputFormat.JSON:
        emit_json(result.wire())
    else:
        _print_diff(result)
    raise typer.Exit(EXIT_NOT_MET if result.changed else EXIT_OK)


def _side_text(side: Any) -> str:
    version = f" firmware {side.firmware_version}" if side.firmware_version else ""
    return f"{side.product}{version} ({side.digest[:12]}, {side.generated_at:%Y-%m-%d %H:%M})"


def _print_diff(result: Any) -> None:
    console.print(f"[bold]{escape(_side_text(result.old))}[/]\n  -> [bold]{escape(_side_text(result.new))}[/]")
    if result.other_product:
        console.print(
            f"[yellow]note:[/] two different products, not two releases of one ({escape('; '.join(result.other_product))})",
            highlight=False,
        )
    if not result.changed:
        console.print("nothing changed: same verdicts, findings and artefacts")
    for change in result.artefacts:
        console.print(
            f"artefact {change.kind} {escape(change.name)}: {(change.old_sha256 or 'none')[:12]} -> "
            f"{(change.new_sha256 or 'none')[:12]}",
            highlight=False,
        )
    _print_schemes(result)
    if result.requirements:
        table = Table(title="Requirement verdicts that changed")
        for column in ("scheme", "requirement", "verdict", "because"):
            table.add_column(column, overflow="fold")
        for r in result.requirements:
            table.add_row(r.scheme, f"{r.requirement} {r.title}", f"{r.old_verdict} -> {r.new_verdict}", _because(r))
        console.print(table)
    for c in result.checks:
        console.print(f"check {c.check}: {c.old_verdict or '-'} -> {c.new_verdict or '-'}", highlight=False)
    _print_findings("added", result.findings_added)
    _print_findings("removed", result.findings_removed)
    for f in result.findings_changed[:_LISTED]:
        facts = "; ".join(f"{k} {a} -> {b}" for k, (a, b) in f.facts_changed.items())
        what = f"{f.old['verdict']} -> {f.new['verdict']}" if f.old != f.new else f"facts {facts}"
        console.print(f"changed  {f.check}: {what}: {escape(f.new['message'])}", highlight=False)
    console.print(f"diff digest: {result.digest()}", highlight=False)


def _print_schemes(result: Any) -> None:
    if not (result.schemes or result.markets):
        return
    table = Table(title="Schemes and markets")
    for column in ("scheme or market", "status", "level", "besides requirement verdicts"):
        table.add_column(column, overflow="fold")
    for s in result.schemes:
        status = f"{s.old_status or '-'} -> {s.new_status or '-'}"
        level = f"{s.old_level or '-'} -> {s.new_level or '-'}" if s.old_level != s.new_level else s.new_level or ""
        if s.old_status == s.new_status:
            status = s.new_status or "-"
        first = status.split(" ", 1)[0]
        steps = [
            f"{'from ' if step.kind == 'later' else 'level '}{step.at}: {step.old_status or '-'} -> {step.new_status or '-'}"
            for step in s.steps
        ]
        table.add_row(s.scheme, styled(first).append(status[len(first) :]), level, "\n".join([*steps, *s.why]))
    for m in result.markets:
        table.add_row(f"market {m.market}", f"{m.old_status or '-'} -> {m.new_status or '-'}", "", "")
    console.print(table)


def _because(change: Any) -> str:
    lines = []
    for cause in change.causes:
        text = f"{cause.ref}: {cause.old_verdict or '-'} -> {cause.new_verdict or '-'}"
        firsts = [*cause.findings_added[:2], *cause.findings_removed[:2]]
        if firsts:
            text += "; " + "; ".join(f.message for f in firsts)
        lines.append(text)
    return "\n".join(lines or change.other or ["(no evidence changed)"])


def _print_findings(kind: str, findings: list[Any]) -> None:
    if not findings:
        return
    console.print(f"{len(findings)} findings {kind}" + (f" (first {_LISTED})" if len(findings) > _LISTED else ""))
    for f in findings[:_LISTED]:
        where = ", ".join(str(v) for loc in f.locations for v in loc.values())
        console.print(
            f"  {'+' if kind == 'added' else '-'} {f.check} [{f.verdict}] {escape(f.message)}"
            + (f" ({escape(where)})" if where else ""),
            highlight=False,
        )
