"""``cybersafe probe HOST``: device tests over the network, on the one host the user names."""

from __future__ import annotations

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
    attempt_json,
    console,
    emit_json,
    fail_on_option,
    gate,
    handle_errors,
    parse_now,
)
from cybersafe.errors import InputError
from cybersafe.evidence.network.manual import MANUAL_TESTS
from cybersafe.evidence.network.session import DEFAULT_BUDGET_S

PROBE_SCHEMA = "cybersafe/probe/v1"

_STYLE = {
    "pass": "green",
    "fail": "bold red",
    "inconclusive": "yellow",
    "not_applicable": "dim",
    "error": "bold magenta",
}

_EPILOG = (
    "Only HOST is touched: a range or a name with several addresses is refused unless --allow-multiple is given. "
    "Default credentials and repeated failed logins are tried on telnet, SSH, FTP and HTTP basic auth (this can "
    "lock accounts on the device; --credentials-budget 0 turns it off, and with it the anonymous FTP login). "
    f"The whole probe stops after --budget seconds (default {DEFAULT_BUDGET_S:g} s = 5 minutes); what it did not "
    "finish is recorded, and no check passes on a probe that was cut or that did not see the declared ports. "
    "ETSI TS 103 701 tests that stay manual: "
    + ", ".join(t.test_case for t in MANUAL_TESTS)
    + " (listed with reasons in the JSON output, key manual_tests)."
)


def register(app: typer.Typer) -> None:
    app.command("probe", epilog=_EPILOG)(probe_command)


@handle_errors
def probe_command(
    host: Annotated[str, typer.Argument(help="The one device to probe: an IP address or a host name.")],
    ports: Annotated[
        str | None,
        typer.Option("--ports", "-p", help="Extra TCP ports, e.g. 22,80,8000-8010, added to the default list."),
    ] = None,
    only_ports: Annotated[
        bool, typer.Option("--only-ports", help="Scan only the --ports given, not the default list.")
    ] = False,
    allow_multiple: Annotated[
        bool,
        typer.Option("--allow-multiple", help="Accept a small range (<= /24) or a name with several addresses."),
    ] = False,
    dossier: Annotated[
        Path | None,
        typer.Option("--dossier", "-d", help="Dossier whose declared ports are compared with what is open."),
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="Connect and read timeout, seconds.")] = 3.0,
    rate: Annotated[float, typer.Option("--rate", min=0.1, help="New connections per second, at most.")] = 50.0,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=256, help="Connections open at once.")] = 16,
    credentials_budget: Annotated[
        int | None,
        typer.Option(
            "--credentials-budget",
            min=0,
            help="Default-credential attempts per login service (default: the whole list; fewer cannot pass).",
        ),
    ] = None,
    credentials_time: Annotated[
        float,
        typer.Option(
            "--credentials-time",
            min=0.1,
            help="Seconds the default-credential list may take per login service; a slower list stops (inconclusive).",
        ),
    ] = 60.0,
    throttle_attempts: Annotated[
        int, typer.Option("--throttle-attempts", min=0, help="Failed logins in a row to test lockout (5.1-5).")
    ] = 10,
    budget: Annotated[
        float,
        typer.Option(
            "--budget",
            min=1.0,
            help="Wall-clock budget of the whole probe, seconds; stages past it are not run and are recorded.",
        ),
    ] = DEFAULT_BUDGET_S,
    output_format: OutputFormat = FORMAT_OPTION,
    fail_on: Annotated[FailOn | None, fail_on_option("a check's failing finding is")] = None,
) -> None:
    """Probe one device: open ports, TLS, SSH, cleartext services, logins, brute-force protection.

    Logins are tried without credentials and with default ones. The whole probe keeps to a wall-clock budget
    (--budget, default 5 minutes).

    Exit code 0 when no check fails, 1 when one fails (with --fail-on: when a failing finding is at or above that
    severity), 2 on bad input or an unreachable device.
    """
    from cybersafe.assess import assess_dossier
    from cybersafe.evidence.collectors import device_collector
    from cybersafe.evidence.network.session import ProbeSettings

    settings = ProbeSettings(
        ports=_port_list(ports, only_ports=only_ports),
        connect_timeout=timeout,
        read_timeout=timeout,
        banner_timeout=min(timeout, 1.5),
        login_timeout=max(ProbeSettings().login_timeout, timeout),
        concurrency=concurrency,
        rate=rate,
        credentials_budget=credentials_budget,
        credentials_time_s=credentials_time,
        throttle_attempts=throttle_attempts,
        budget_s=budget,
    )
    product = _product_for(host, dossier, allow_multiple=allow_multiple)
    progress = RichProgress() if output_format is OutputFormat.TABLE else None
    try:
        # The same assessment path as `assess`: the device collector, then the network checks once each.
        run = assess_dossier(
            product,
            now=parse_now(None),
            base_dir=dossier.parent if dossier is not None else Path.cwd(),
            collectors=[device_collector(settings, add_declared_ports=not only_ports)],
            families={"network"},
            progress=progress,
            plans=False,
        )
    finally:
        if progress is not None:
            progress.close()
    observations = _observations_or_fail(run)
    attempts = list(run.attempts.values())
    _emit(observations, attempts, output_format)
    if fail_on is not None:
        failing = [f for a in attempts for f in a.findings if f.verdict == "fail"]
        raise typer.Exit(EXIT_NOT_MET if gate(failing, fail_on) else EXIT_OK)
    raise typer.Exit(EXIT_NOT_MET if any(a.verdict == "fail" for a in attempts) else EXIT_OK)


def _product_for(host: str, dossier: Path | None, *, allow_multiple: bool) -> Any:
    """The dossier's product with HOST as its device, or an anonymous product known only by HOST."""
    from cybersafe.dossier.loader import load_dossier
    from cybersafe.dossier.model import DeviceArtefact, anonymous_dossier

    product = anonymous_dossier(host) if dossier is None else load_dossier(dossier)
    declared = product.artefacts.device
    device = DeviceArtefact(
        host=host,
        ports=declared.ports if declared is not None else [],
        allow_multiple_addresses=allow_multiple,
        credentials_budget=None,  # the command's --credentials-budget is in the settings
    )
    return product.model_copy(update={"artefacts": product.artefacts.model_copy(update={"device": device})})


def _observations_or_fail(run: Any) -> Any:
    """The probe's observations; a refused target or a device that answers nothing is one line, exit 2."""
    from cybersafe.errors import ProbeError
    from cybersafe.evidence.network.model import NetworkObservations

    failure = run.evidence.failure(NetworkObservations)
    if failure is not None:
        raise ProbeError(failure.detail)
    return run.evidence.require(NetworkObservations)


def _port_list(ports: str | None, *, only_ports: bool) -> tuple[int, ...]:
    from cybersafe.evidence.network.session import DEFAULT_PORTS, parse_ports

    extra: tuple[int, ...] = ()
    if ports:
        try:
            extra = parse_ports(ports)
        except ValueError as exc:
            raise InputError(str(exc), field="--ports") from None
    if only_ports and not extra:
        raise InputError("needs --ports", field="--only-ports")
    base = () if only_ports else DEFAULT_PORTS
    return tuple(dict.fromkeys((*base, *extra)))


def _emit(observations: Any, attempts: list[Any], output_format: OutputFormat) -> None:
    from cybersafe.verdict import AttemptStatus

    if output_format is OutputFormat.JSON:
        emit_json(
            {
                "schema": PROBE_SCHEMA,
                "target": observations.target,
                "probed_at": observations.probed_at,
                "checks": [attempt_json(a) for a in attempts],
                "observations": observations.as_dict(),
                "manual_tests": [t.as_dict() for t in MANUAL_TESTS],
            }
        )
        return
    _print(observations, attempts)
    if any(a.status is AttemptStatus.ERROR for a in attempts):
        console.print("[bold magenta]some checks errored; see the table[/]")


def _print(observations: Any, attempts: list[Any]) -> None:
    for host in observations.hosts:
        r = host.reachability
        console.print(
            f"[bold]{host.host}[/] ({host.address}): {r.ports_scanned} TCP ports, {r.open_ports} open, "
            f"{r.closed_ports} closed, {r.filtered_ports} silent; {r.connections} connections in {r.duration_s:.1f} s"
        )
        if host.open_ports:
            ports = Table(title=f"Services on {host.address}")
            for column in ("port", "proto", "service", "identified by", "banner"):
                ports.add_column(column)
            for port in host.open_ports:
                ports.add_row(str(port.port), port.protocol, port.service, port.basis, (port.banner or "")[:60])
            console.print(ports)
        for note in r.incomplete:
            console.print(f"[yellow]incomplete:[/] {note}", highlight=False)
    table = Table(title="Checks", show_lines=True)
    for column in ("check", "verdict", "finding"):
        table.add_column(column, overflow="fold")
    for attempt in attempts:
        verdict = str(attempt.verdict)
        style = _STYLE.get(verdict, "")
        if not attempt.findings:
            table.add_row(attempt.check_id, f"[{style}]{verdict}[/]", f"{attempt.reason}: {attempt.detail}")
            continue
        for finding in attempt.findings:
            shown = str(finding.verdict)
            table.add_row(attempt.check_id, f"[{_STYLE.get(shown, '')}]{shown}[/]", finding.message)
    console.print(table)
    console.print(f"[dim]{len(MANUAL_TESTS)} ETSI TS 103 701 tests stay manual; see `cybersafe probe --help`.[/]")
