"""Fleet commands: ``cybersafe diff`` (two assessments) and ``cybersafe batch`` (many products on Dask)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from cybersafe.cli._common import (
    EXIT_NOT_MET,
    EXIT_OK,
    FORMAT_OPTION,
    OutputFormat,
    console,
    emit_json,
    handle_errors,
)
from cybersafe.cli.core import styled

_LISTED = 20  # findings listed per kind in the table; --format json lists all


def register(app: typer.Typer) -> None:
    app.command("diff")(diff_command)


@handle_errors
def diff_command(
    old: Annotated[Path, typer.Argument(metavar="OLD.json", help="The earlier assessment.")],
    new: Annotated[Path, typer.Argument(metavar="NEW.json", help="The later assessment.")],
    output_format: OutputFormat = FORMAT_OPTION,
) -> None:
    """What changed between two assessments: scheme statuses and levels, requirement verdicts with their cause,
    findings added and removed (matched by check, location and facts, not by position).

    Exit codes: 0 nothing changed; 1 something did; 2 bad input (one line naming the file and field); 3 a bug.
    """
    from cybersafe.diff import diff_assessments
    from cybersafe.results import load_assessment

    result = diff_assessments(load_assessment(old), load_assessment(new))
    if output_format is OutputFormat.JSON:
        emit_json(result.wire())
    else:
        _print_diff(result)
    raise typer.Exit(EXIT_NOT_MET if result.changed else EXIT_OK)


def _side_text(side: Any) -> str:
    version = f" firmware {side.firmware_version}" if side.firmware_version else ""
    return f"{side.product}{version} ({side.digest[:12]}, {side.generated_at:%Y-%m-%d %H:%M})"


def _print_diff(result: Any) -> None:
    console.print(f"[bold]{escape(_side_text(result.old))}[/]\n  -> [bold]{escape(_side_text(result.new))}[/]")
    if not result.changed:
        console.print("nothing changed: same verdicts, findings and artefacts")
    for change in result.artefacts:
        console.print(
            f"artefact {change.kind} {escape(change.name)}: {(change.old_sha256 or 'none')[:12]} -> "
            f"{(change.new_sha256 or 'none')[:12]}",
            highlight=False,
        )
    if result.schemes or result.markets:
        table = Table(title="Schemes and markets")
        for column in ("scheme or market", "status", "level"):
            table.add_column(column)
        for s in result.schemes:
            status = f"{s.old_status or '-'} -> {s.new_status or '-'}"
            level = f"{s.old_level or '-'} -> {s.new_level or '-'}" if s.old_level != s.new_level else s.new_level or ""
            table.add_row(
                s.scheme, styled(status.split(" ", 1)[0]).append(status[len(status.split(" ", 1)[0]) :]), level
            )
        for m in result.markets:
            table.add_row(f"market {m.market}", f"{m.old_status or '-'} -> {m.new_status or '-'}", "")
        console.print(table)
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
        console.print(
            f"changed  {f.check}: {f.old['verdict']} -> {f.new['verdict']}: {escape(f.new['message'])}",
            highlight=False,
        )
    console.print(f"diff digest: {result.digest()}", highlight=False)


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
