"""``cybersafe firmware scan IMAGE`` and ``cybersafe sbom generate IMAGE -o FILE``."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cybersafe.cli import _prestart
from cybersafe.cli._common import (
    EXIT_NOT_MET,
    EXIT_OK,
    FORMAT_OPTION,
    FailOn,
    OutputFormat,
    RichProgress,
    attempt_json,
    console,
    emit_json,
    fail_on_option,
    gate,
    handle_errors,
    parse_now,
)
from cybersafe.evidence.firmware.budget import BudgetName

firmware_app = typer.Typer(
    name="firmware", help="Unpack a firmware image safely and find what the schemes forbid.", no_args_is_help=True
)

IMAGE_ARGUMENT = typer.Argument(..., help="firmware image (squashfs, ext4, jffs2, cpio, uImage, vendor blob ...)")
BUDGET_OPTION = typer.Option(
    BudgetName.STANDARD, "--budget", "-b", help="limits on time, bytes, files, depth and password-cracking time"
)
OUTPUT_OPTION = typer.Option(
    None, "--output", "-o", metavar="FILE", help="where to write the CycloneDX 1.6 JSON SBOM ('-' or none: stdout)"
)
_VERDICT_STYLE = {
    "pass": "green",
    "fail": "bold red",
    "inconclusive": "yellow",
    "not_applicable": "dim",
    "error": "red",
}


def register(app: typer.Typer) -> None:
    firmware_app.command("scan")(scan_command)
    app.add_typer(firmware_app)
    sbom_app = typer.Typer(name="sbom")  # its help and order: cli/sbom_group.py
    sbom_app.command("generate")(generate_command)
    app.add_typer(sbom_app)


def _scan(image: Path, budget: BudgetName) -> Any:
    """The inventory of ``image`` (``sbom generate``: no checks), adopting the early-started extraction."""
    from cybersafe.evidence.firmware.budget import budget_for
    from cybersafe.evidence.firmware.scan import scan_image

    _require_image(image)
    early = _prestart.take(image, budget.value)
    progress = RichProgress()
    try:
        return scan_image(image, budget_for(budget), progress, extraction=early)
    finally:
        progress.close()


@handle_errors
def scan_command(
    image: Path = IMAGE_ARGUMENT,
    output_format: OutputFormat = FORMAT_OPTION,
    budget: BudgetName = BUDGET_OPTION,
    fail_on: Annotated[FailOn | None, fail_on_option("a check's failing finding is")] = None,
) -> None:
    """Scan IMAGE: unpack it within a budget, inventory it, run every firmware check.

    The checks run through the same assessment as `cybersafe assess`, for an anonymous product that has only
    this image (no declarations, no markets); the output shows the firmware part.

    Input limits: IMAGE must be a regular file (a FIFO, a device or a link to one is refused) of at most 64 GiB;
    what unpacking may write is the --budget.

    Exit codes: 0 no failing check (with --fail-on: no failing finding at or above that severity); 1 a check
    fails (with --fail-on: a failing finding at or above it); 2 bad input or usage: a missing, empty,
    special or unrecognisable image (one line naming the file); 3 a bug in cybersafe.
    """
    from cybersafe.evidence.firmware.model import FirmwareInventory

    run = _assess_image(image, budget)
    inventory = run.evidence.require(FirmwareInventory)
    _refuse_unrecognised(image, inventory)
    attempts = list(run.attempts.values())
    if output_format is OutputFormat.JSON:
        emit_json(
            {
                "schema": "cybersafe/firmware-scan/v1",
                "inventory": inventory.as_dict(),
                "checks": [attempt_json(a) for a in attempts],
            }
        )
    else:
        _print_table(inventory, attempts)
    raise typer.Exit(EXIT_NOT_MET if _gated(attempts, fail_on) else EXIT_OK)


def _assess_image(image: Path, budget: BudgetName) -> Any:
    """The assessment of an anonymous product that has only ``image``: the firmware collector (adopting the
    extraction the command line started early), then the firmware checks, as ``assess`` runs them."""
    from cybersafe.assess import assess_dossier
    from cybersafe.dossier.model import anonymous_dossier
    from cybersafe.errors import UnpackError
    from cybersafe.evidence.firmware.budget import budget_for
    from cybersafe.evidence.firmware.collector import FirmwareCollector
    from cybersafe.evidence.firmware.model import FirmwareInventory
    from cybersafe.schemes.catalog import default_catalog

    _require_image(image)
    collector = FirmwareCollector(budget_for(budget), extraction=_prestart.take(image, budget.value))
    # the scheme catalog (needed only once the checks have run) loads while the image unpacks
    threading.Thread(target=default_catalog, daemon=True).start()
    progress = RichProgress()
    try:
        run = assess_dossier(
            anonymous_dossier(image.name, firmware=image.name),
            now=parse_now(None),
            base_dir=image.parent,
            collectors=[collector],
            families={"firmware"},
            progress=progress,
            plans=False,
        )
    finally:
        progress.close()
    failure = run.evidence.failure(FirmwareInventory)
    if failure is not None:
        raise UnpackError(failure.detail)
    return run


def _require_image(image: Path) -> None:
    """A missing, special or empty IMAGE is one line naming it, before anything is unpacked."""
    from cybersafe import safeio
    from cybersafe.errors import InputError

    if safeio.describe(image) == "not found":
        raise InputError("file not found", file=image, field="IMAGE")
    safeio.refuse_special(image, field="IMAGE")
    if image.stat().st_size == 0:
        raise InputError("is empty (0 bytes); not a firmware image", file=image, field="IMAGE")


def _refuse_unrecognised(image: Path, inventory: Any) -> None:
    """An image in which nothing was found to unpack (and no limit cut the search short: the extraction
    records "unknown-format" only then) is not firmware this scan can read: one line naming it, exit 2."""
    from cybersafe.errors import InputError

    if inventory.filesystems:
        return
    unknown = next((p for p in inventory.problems if p.kind == "unknown-format"), None)
    if unknown is not None:
        raise InputError(f"not a firmware image cybersafe can unpack: {unknown.message}", file=image, field="IMAGE")


def _gated(attempts: list[Any], fail_on: FailOn | None) -> bool:
    """Exit 1? Without a gate: any failing check; with one: a failing finding at or above its severity."""
    from cybersafe.verdict import Verdict

    if fail_on is None:
        return any(a.verdict is Verdict.FAIL for a in attempts)
    return gate((f for a in attempts for f in a.findings if f.verdict is Verdict.FAIL), fail_on)


def _print_table(inventory: Any, attempts: list[Any]) -> None:
    fs = ", ".join(
        f"{f.handler}{' (modes: ' + f.metadata_source + ')' if f.metadata_source else ''}"
        for f in inventory.filesystems
    )
    console.print(
        f"[bold]{inventory.image}[/] sha256 {inventory.sha256[:16]}…  {inventory.size} bytes  budget {inventory.budget}",
        highlight=False,
    )
    console.print(
        f"file systems: {fs or 'none'}; {inventory.files_examined} files analysed in {inventory.duration_s:.1f} s "
        f"(extraction {inventory.extraction_s:.1f} s); {len(inventory.elf)} ELF, {len(inventory.accounts)} accounts, "
        f"{len(inventory.components)} components",
        highlight=False,
    )
    table = Table(show_lines=False)
    table.add_column("check", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("where", overflow="fold")
    table.add_column("finding", overflow="fold")
    for attempt in attempts:
        if not attempt.findings:
            table.add_row(attempt.key, f"[red]{attempt.verdict}[/]", "", "", attempt.detail or "")
        for finding in attempt.findings:
            style = _VERDICT_STYLE.get(str(finding.verdict), "")
            where = "; ".join(str(loc) for loc in finding.locations[:3])
            table.add_row(
                attempt.key,
                f"[{style}]{finding.verdict}[/]",
                str(finding.severity),
                where,
                finding.message,
            )
    console.print(table)
    if inventory.not_examined:
        console.print("[yellow]not examined:[/]")
        for gap in inventory.not_examined[:20]:
            console.print(f"  {gap.area}: {gap.reason}{' (' + gap.path + ')' if gap.path else ''}", highlight=False)
    if inventory.problems:
        console.print(f"[yellow]{len(inventory.problems)} unpacking problem(s):[/]")
        for problem in inventory.problems[:20]:
            console.print(f"  {problem.kind}: {problem.message[:160]}", highlight=False)


@handle_errors
def generate_command(
    image: Path = IMAGE_ARGUMENT,
    output: Path | None = OUTPUT_OPTION,
    budget: BudgetName = BUDGET_OPTION,
    supplier: Annotated[
        str | None,
        typer.Option("--supplier", help="the firmware's manufacturer (NTIA's supplier name of the primary component)"),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="product name of the image; default: its file name")
    ] = None,
    version: Annotated[
        str | None, typer.Option("--version", help="firmware version; default: sha256:<digest of the image>")
    ] = None,
    output_format: OutputFormat = FORMAT_OPTION,
) -> None:
    """Generate a CycloneDX 1.6 SBOM of what firmware IMAGE contains (package databases and version banners).

    Each component is listed once with every file that showed it, its purl, CPE and supplier. Without
    --supplier the image itself has no supplier and the SBOM does not meet the NTIA minimum elements.
    The SBOM is checked against the CycloneDX 1.6 schema before it is written (-o FILE, or stdout).
    An empty or unrecognisable image is refused (exit 2, one line naming it): an SBOM of nothing read would
    look like a product without components.
    """
    from cybersafe.cli._common import check_output, write_document
    from cybersafe.evidence.firmware.sbom import ImageIdentity, to_cyclonedx_json
    from cybersafe.outputs import Document, check_document

    check_output(output)
    inventory = _scan(image, budget)
    _refuse_unrecognised(image, inventory)
    text = to_cyclonedx_json(inventory, identity=ImageIdentity(name, version, supplier))
    check_document(Document.CYCLONEDX_1_6, text)
    write_document(output, text, summary={"components": len(inventory.components)}, fmt=output_format)
