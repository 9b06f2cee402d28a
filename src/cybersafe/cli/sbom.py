"""``cybersafe sbom check|vulns|vex|compare``, ``cybersafe vulndb import|info`` and ``cybersafe watch``."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cybersafe.cli._common import (
    EXIT_NOT_MET,
    EXIT_OK,
    FORMAT_OPTION,
    FailOn,
    OutputFormat,
    RichProgress,
    check_output,
    console,
    emit_json,
    fail_on_option,
    handle_errors,
    parse_now,
    trips,
    write_document,
)

DB_OPTION = typer.Option(
    "--db", help="vulnerability database file (default: $CYBERSAFE_VULNDB, else the user data dir)"
)
VEX_OPTION = typer.Option("--vex", help="VEX document (OpenVEX, CycloneDX VEX, CSAF VEX); repeatable")
STORE_OPTION = typer.Option("--store", help="product store (default: $CYBERSAFE_PRODUCTS, else the user data dir)")

vulndb_app = typer.Typer(
    name="vulndb", help="The local vulnerability database (OSV, CISA KEV, EPSS).", no_args_is_help=True
)
watch_app = typer.Typer(
    name="watch",
    help="Re-match the SBOMs of assessed products against a fresh database; CRA Art. 14 deadlines.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    sbom_app = typer.Typer(name="sbom")  # its help and order: cli/sbom_group.py
    app.add_typer(sbom_app)
    sbom_app.command("check")(check_command)
    sbom_app.command("vulns")(vulns_command)
    sbom_app.command("vex")(vex_command)
    sbom_app.command("compare")(compare_command)
    vulndb_app.command("import")(import_command)
    vulndb_app.command("info")(info_command)
    app.add_typer(vulndb_app)
    watch_app.command("add")(watch_add_command)
    watch_app.command("list")(watch_list_command)
    watch_app.command("run")(watch_run_command)
    app.add_typer(watch_app)


# --- sbom ------------------------------------------------------------------------------------------------


@handle_errors
def check_command(
    sbom: Annotated[Path, typer.Argument(help="CycloneDX 1.0-1.7 (JSON/XML) or SPDX 2.1-2.3 (JSON/tag-value)")],
    bsi: Annotated[bool, typer.Option("--bsi", help="also require BSI TR-03183-2 (German market)")] = False,
    output_format: OutputFormat = FORMAT_OPTION,
) -> None:
    """Rate an SBOM against the NTIA minimum elements, CRA Annex I Part II (1) and BSI TR-03183-2."""
    from cybersafe.evidence.sbom import load_sbom, rate_minimum_elements
    from cybersafe.evidence.sbom.minimum import BSI

    doc = load_sbom(sbom)
    rating = rate_minimum_elements(doc)
    required = [r for r in rating.ratings if r.baseline != BSI or bsi]
    ok = all(r.met for r in required)
    if output_format is OutputFormat.JSON:
        emit_json(
            {"sbom": str(sbom), "format": doc.label, **rating.as_dict(), "met": ok, "problems": list(doc.problems)}
        )
    else:
        console.print(f"{sbom}: {doc.label}, {rating.component_count} components (including the primary)")
        for problem in doc.problems:
            console.print(f"  [yellow]left out:[/] {problem}", highlight=False)
        for r in rating.ratings:
            status = "[green]met[/]" if r.met else ("[red]not met[/]" if r in required else "[yellow]not met[/]")
            note = "" if r in required else " (informational; --bsi to require)"
            console.print(f"  {r.baseline}: {status}{note}")
            for m in r.missing:
                console.print(f"    - {m.element}: {m.message}", highlight=False)
    if not ok:
        raise typer.Exit(EXIT_NOT_MET)


def _match(sbom: Path, db_path: Path | None, vex: list[Path]) -> Any:
    from cybersafe.evidence.sbom import load_sbom
    from cybersafe.evidence.vulndb import VulnDb, load_vex, match_components

    doc = load_sbom(sbom)
    statements = [st for path in vex for st in load_vex(path)]
    with VulnDb(db_path, create=False) as db:
        return match_components(
            db, doc.components, source=str(sbom), vex=statements, vex_sources=tuple(str(p) for p in vex)
        )


@handle_errors
def vulns_command(
    sbom: Annotated[Path, typer.Argument(help="the SBOM to match")],
    db: Annotated[Path | None, DB_OPTION] = None,
    vex: Annotated[list[Path] | None, VEX_OPTION] = None,
    output_format: OutputFormat = FORMAT_OPTION,
    fail_on: Annotated[
        FailOn | None, fail_on_option("a vulnerability not ruled out by VEX is (unknown severity: high)")
    ] = None,
) -> None:
    """List every known vulnerability of the SBOM's components, with its basis and confidence.

    Exit code 1 when a vulnerability is not ruled out by a VEX statement (with --fail-on: one at or above that
    severity, an unknown severity counted as the severity policy says, high by default), 0 otherwise.
    """
    report = _match(sbom, db, vex or [])
    if output_format is OutputFormat.JSON:
        emit_json(report.as_dict())
    else:
        _print_vulns(sbom, report)
    if fail_on is not None:
        raise typer.Exit(EXIT_NOT_MET if trips(_gate_severities(report.active), fail_on) else EXIT_OK)
    if report.active:
        raise typer.Exit(EXIT_NOT_MET)


def _gate_severities(matches: Iterable[Any]) -> list[str]:
    """Each match's severity as the gate weighs it: unknown as the severity policy says; none as info."""
    from cybersafe.evidence.vulndb.policy import load_policy

    policy = load_policy()
    return [{"none": "info"}.get(s, s) for s in (policy.effective(m.severity) for m in matches)]


def _print_vulns(sbom: Path, report: Any) -> None:
    table = Table(title=f"{sbom}: {len(report.active)} vulnerabilities in {report.components_examined} components")
    for col in ("component", "vulnerability", "severity", "KEV", "fixed in", "confidence", "basis", "VEX"):
        table.add_column(col, overflow="fold", no_wrap=col in ("vulnerability", "severity", "confidence"))
    for m in report.matches:
        table.add_row(
            m.component,
            m.vulnerability + (f"\n{', '.join(m.aliases)}" if m.aliases else ""),
            m.severity,
            f"yes ({m.kev_date_added})" if m.known_exploited else "",
            ", ".join(m.fixed_versions),
            str(m.confidence),
            m.basis,
            f"{m.vex_status}: {m.vex_justification or ''}" if m.vex_status else "",
        )
    console.print(table)
    for u in report.unmatched:
        console.print(f"not matched: {u.component}: {u.reason}", highlight=False)
    for note in report.notes:
        console.print(f"[yellow]note:[/] {note}")


@handle_errors
def vex_command(
    sbom: Annotated[Path, typer.Argument(help="the SBOM to match")],
    db: Annotated[Path | None, DB_OPTION] = None,
    vex: Annotated[list[Path] | None, VEX_OPTION] = None,
    author: Annotated[str, typer.Option("--author", help="author of the VEX document")] = "cybersafe",
    product: Annotated[
        str | None,
        typer.Option(
            "--product", help="product purl or IRI (e.g. pkg:generic/acme/cam@1.4); components become subcomponents"
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE", help="write here ('-' or none: stdout)")
    ] = None,
    now: Annotated[str | None, typer.Option("--timestamp", help="document timestamp (ISO); default now")] = None,
    output_format: OutputFormat = FORMAT_OPTION,
) -> None:
    """Export OpenVEX 0.2.0: one statement per vulnerability and component, checked against the schema first.

    Each statement is "affected" (with the fix to apply) or the status a VEX document given with --vex states."""
    from cybersafe.evidence.vulndb import export_openvex
    from cybersafe.evidence.vulndb.vex import check_product

    check_product(product)  # before any work: a name that is no IRI is refused at once
    check_output(output)
    timestamp = parse_now(now, "--timestamp")
    report = _match(sbom, db, vex or [])
    doc = export_openvex(report, author=author, timestamp=timestamp, product=product)
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    write_document(output, text, summary={"statements": len(doc["statements"])}, fmt=output_format)


@handle_errors
def compare_command(
    declared: Annotated[Path, typer.Argument(help="the manufacturer's SBOM")],
    observed: Annotated[Path, typer.Argument(help="an SBOM of what was found (e.g. from `cybersafe sbom generate`)")],
    output_format: OutputFormat = FORMAT_OPTION,
) -> None:
    """Declared versus observed: components missing from the SBOM and versions that disagree."""
    from cybersafe.evidence.sbom import compare_declared_observed, load_sbom

    want, have = load_sbom(declared), load_sbom(observed)
    # the observed document's primary component is the scanned image itself, not one of its components
    result = compare_declared_observed(
        [c.purl for c in want.all_components() if c.purl], [c.purl for c in have.components if c.purl]
    )
    if output_format is OutputFormat.JSON:
        emit_json(result.as_dict())
    else:
        console.print(f"{result.matched} packages agree")
        for purl in result.undeclared:
            console.print(f"[red]undeclared:[/] {purl}", highlight=False)
        for m in result.version_mismatches:
            console.print(
                f"[red]version differs:[/] {m.package}: declared {', '.join(m.declared)}, "
                f"observed {', '.join(m.observed)}",
                highlight=False,
            )
        for purl in result.not_observed:
            console.print(f"declared, not observed: {purl}", highlight=False)
    if not result.consistent:
        raise typer.Exit(EXIT_NOT_MET)


# --- vulndb ----------------------------------------------------------------------------------------------


@handle_errors
def import_command(
    paths: Annotated[
        list[Path], typer.Argument(help="OSV all.zip / directory / JSON / YAML, KEV JSON or CSV, EPSS CSV")
    ],
    db: Annotated[Path | None, DB_OPTION] = None,
    output_format: OutputFormat = FORMAT_OPTION,
) -> None:
    """Import vulnerability data; re-import is incremental and idempotent, broken records are skipped."""
    from cybersafe.evidence.vulndb import VulnDb

    reports = []
    progress = RichProgress() if output_format is OutputFormat.TABLE else None
    try:
        with VulnDb(db) as store:
            for path in paths:
                reports.extend(store.import_path(path, progress))
            where = store.path
    finally:
        if progress is not None:
            progress.close()
    if output_format is OutputFormat.JSON:
        emit_json({"database": str(where), "imports": [r.as_dict() for r in reports]})
        return
    for r in reports:
        console.print(
            f"{r.source}: {r.kind}: {r.added} added, {r.updated} updated, {r.unchanged} unchanged, {r.skipped} skipped",
            highlight=False,
        )
        for p in r.problems[:20]:
            console.print(f"  [yellow]skipped[/] {p.path}: {p.message}", highlight=False)
        if len(r.problems) > 20:
            console.print(f"  ... and {len(r.problems) - 20} more problems (--format json lists all)")
    console.print(f"database: {where}", highlight=False)


@handle_errors
def info_command(db: Annotated[Path | None, DB_OPTION] = None, output_format: OutputFormat = FORMAT_OPTION) -> None:
    """What the database holds and when each source was imported."""
    from cybersafe.evidence.vulndb import VulnDb

    with VulnDb(db, create=False) as store:
        info = store.info()
    if output_format is OutputFormat.JSON:
        emit_json(info.as_dict())
        return
    console.print(f"database: {info.path}", highlight=False)
    console.print(f"advisories: {info.advisories} ({info.affected_packages} affected-package entries)")
    console.print(f"CISA KEV entries: {info.kev_entries}; EPSS scores: {info.epss_entries}")
    if info.ecosystems:
        console.print("by package type: " + ", ".join(f"{k} {v}" for k, v in sorted(info.ecosystems.items())))
    table = Table(title="imports")
    for col in ("imported at", "kind", "source", "added", "updated", "unchanged", "skipped"):
        table.add_column(col, overflow="fold")
    for i in info.imports:
        table.add_row(
            *(str(i[k]) for k in ("imported_at", "kind", "source", "added", "updated", "unchanged", "skipped"))
        )
    console.print(table)


# --- watch -----------------------------------------------------------------------------------------------


@handle_errors
def watch_add_command(
    sbom: Annotated[Path, typer.Argument(help="the assessed product's SBOM (a copy is stored)")],
    product: Annotated[str, typer.Option("--product", "-p", help="product name, e.g. 'Acme Cam 2 fw 1.4'")],
    store: Annotated[Path | None, STORE_OPTION] = None,
    output_format: OutputFormat = FORMAT_OPTION,
) -> None:
    """Store a copy of an assessed product's SBOM for `cybersafe watch run`."""
    from cybersafe.evidence.vulndb.watch import ProductStore

    with ProductStore(store, create=True) as products:
        label = products.add(product, sbom, parse_now(None))
        if output_format is OutputFormat.JSON:
            emit_json({"product": product, "sbom": str(sbom), "format": label, "store": str(products.path)})
        else:
            console.print(f"watching {product!r}: {sbom} ({label}) in {products.path}", highlight=False)


@handle_errors
def watch_list_command(
    store: Annotated[Path | None, STORE_OPTION] = None, output_format: OutputFormat = FORMAT_OPTION
) -> None:
    """The products being watched and when they were last checked."""
    from cybersafe.evidence.vulndb.watch import ProductStore

    with ProductStore(store) as products:
        rows = products.list()
    if output_format is OutputFormat.JSON:
        emit_json(rows)
        return
    table = Table(title="watched products")
    for col in ("product", "sbom", "added", "last checked", "known matches"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["name"], r["sbom"], r["added_at"], r["checked_at"] or "never", str(r["known_matches"] or "-"))
    console.print(table)


_SCHEDULER_OPTION = typer.Option(
    "--scheduler",
    metavar="ADDRESS",
    help="Spread the SBOMs over a running Dask scheduler's workers (tcp://host:8786); the store and the "
    "database must be readable at the same paths on every worker.",
)
_WORKERS_OPTION = typer.Option(
    "--workers", "-w", min=1, help="Spread the SBOMs over this many local worker processes (Dask)."
)


def _watch_on_cluster(
    db: Path | None, store: Path | None, aware_at: Any, scheduler: str | None, workers: int | None, *, update: bool
) -> tuple[Any, str]:
    from cybersafe.evidence.vulndb.store import default_db_path
    from cybersafe.evidence.vulndb.watch import default_store_path
    from cybersafe.fleet.cluster import ClusterSpec
    from cybersafe.fleet.watch import run_watch

    spec = ClusterSpec(scheduler, workers)
    run = run_watch(store or default_store_path(), db or default_db_path(), aware_at, spec, update=update)
    return run.result, f" on {run.cluster} ({run.components} components, {run.wall_s:.1f} s)"


@handle_errors
def watch_run_command(
    db: Annotated[Path | None, DB_OPTION] = None,
    store: Annotated[Path | None, STORE_OPTION] = None,
    aware_at: Annotated[
        str | None, typer.Option("--aware-at", help="time of awareness for CRA Art. 14 deadlines (ISO); default now")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="report changes without updating the baseline")] = False,
    scheduler: Annotated[str | None, _SCHEDULER_OPTION] = None,
    workers: Annotated[int | None, _WORKERS_OPTION] = None,
    output_format: OutputFormat = FORMAT_OPTION,
) -> None:
    """Re-match every watched SBOM; report new, resolved and newly known-exploited vulnerabilities.

    Exit codes: 0 nothing new; 1 a new or newly known-exploited vulnerability, or a product whose SBOM could not
    be read; 2 bad input (no database, no store, no scheduler at the address); 3 a bug in cybersafe.
    """
    from cybersafe.evidence.vulndb import VulnDb
    from cybersafe.evidence.vulndb.watch import ProductStore

    where = ""
    aware = parse_now(aware_at, "--aware-at")  # a mistyped option is named before any store or database is opened
    if scheduler is not None or workers is not None:
        result, where = _watch_on_cluster(db, store, aware, scheduler, workers, update=not dry_run)
    else:
        with VulnDb(db, create=False) as vulndb, ProductStore(store) as products:
            result = products.run(vulndb, aware, update=not dry_run)
    if output_format is OutputFormat.JSON:
        emit_json(result.as_dict())
    else:
        _print_watch(result, where)
    if any(c.kind != "resolved" for c in result.changes) or result.errors:
        raise typer.Exit(EXIT_NOT_MET)


def _print_watch(result: Any, where: str) -> None:
    console.print(f"{result.products} products re-matched against {result.database}{where}", highlight=False)
    for c in result.changes:
        m = c.match
        console.print(
            f"[bold]{c.product}[/]: {c.kind}: {m['component']} {m['vulnerability']} ({m['severity']})",
            highlight=False,
        )
        if c.deadlines is not None:
            d = c.deadlines
            console.print(
                f"  CRA Art. 14: early warning by {d.early_warning_due.isoformat()}, notification by "
                f"{d.notification_due.isoformat()}, final report by "
                f"{d.final_report_due.isoformat() if d.final_report_due else '14 days after a fix is available'}",
                highlight=False,
            )
            console.print("  notification draft: --format json", highlight=False)
        elif c.art14_not_applicable is not None:
            console.print(f"  {c.art14_not_applicable}", highlight=False)
    for e in result.errors:
        console.print(f"[red]error:[/] {e}", highlight=False)
