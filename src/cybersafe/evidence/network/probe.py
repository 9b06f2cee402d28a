"""The probe of one named device: scan, identify, TLS, SSH, HTTP, UDP, credentials; facts only.

Order matters: everything that only looks runs first; default credentials and the brute-force run go last,
because a device that locks out after failed logins could hide the rest.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import ssl
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from cybersafe.errors import ProbeTimeout
from cybersafe.evidence.interface import NullProgressReporter, ProgressReporter
from cybersafe.evidence.network.credentials import (
    Credential,
    LoginFunction,
    SshLogin,
    ftp_login,
    load_default_credentials,
    make_http_login,
    observe_throttling,
    telnet_login,
    try_default_credentials,
)
from cybersafe.evidence.network.http import find_disclosures, http_get, probe_http
from cybersafe.evidence.network.model import (
    CleartextService,
    CredentialTest,
    DeclaredPort,
    Disclosure,
    HostObservations,
    HttpObservation,
    NetworkObservations,
    OpenPort,
    Reachability,
    SshResult,
    ThrottleObservation,
    TlsResult,
    UdpAnswer,
)
from cybersafe.evidence.network.scan import CLOSED, FILTERED, OPEN, connect_scan, identify
from cybersafe.evidence.network.session import ProbeSession, ProbeSettings
from cybersafe.evidence.network.ssh import audit_ssh
from cybersafe.evidence.network.target import resolve_target
from cybersafe.evidence.network.tls import scan_tls
from cybersafe.evidence.network.udp import probe_udp, ssdp_location

T = TypeVar("T")

CLEARTEXT_LOGIN = frozenset({"telnet", "ftp", "rlogin", "rsh", "rexec", "pop3", "imap"})
_RSERVICES = {512: "rexec", 513: "rlogin", 514: "rsh"}


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def run_probe(
    named: str,
    settings: ProbeSettings | None = None,
    *,
    allow_multiple: bool = False,
    declared_ports: tuple[DeclaredPort, ...] | None = None,
    progress: ProgressReporter | None = None,
    now: Callable[[], dt.datetime] = utc_now,
    credentials: tuple[Credential, ...] | None = None,
) -> NetworkObservations:
    """Probe the device the user named; raises TargetRefused, or ProbeTimeout when nothing answered."""
    return run_sync(
        probe(
            named,
            settings or ProbeSettings(),
            allow_multiple=allow_multiple,
            declared_ports=declared_ports,
            progress=progress or NullProgressReporter(),
            now=now,
            credentials=credentials,
        )
    )


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """asyncio.run, also from code that already runs inside an event loop (a worker thread then)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def probe(
    named: str,
    settings: ProbeSettings,
    *,
    allow_multiple: bool,
    declared_ports: tuple[DeclaredPort, ...] | None,
    progress: ProgressReporter,
    now: Callable[[], dt.datetime],
    credentials: tuple[Credential, ...] | None,
) -> NetworkObservations:
    target = resolve_target(named, allow_multiple=allow_multiple)
    started = now()
    creds = credentials if credentials is not None else load_default_credentials()
    hosts = [await probe_address(named, address, settings, progress, creds) for address in target.addresses]
    if not any(h.reachability.reachable for h in hosts):
        timeout = settings.connect_timeout
        raise ProbeTimeout(
            f"device {named} is unreachable: none of {len(settings.ports)} TCP ports answered within "
            f"{timeout:g} s (no connection accepted or refused)"
        )
    return NetworkObservations(
        target=named,
        hosts=tuple(hosts),
        probed_at=started.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        declared_ports=declared_ports,
        settings=settings.describe(),
    )


async def probe_address(
    named: str,
    address: str,
    settings: ProbeSettings,
    progress: ProgressReporter,
    credentials: tuple[Credential, ...],
) -> HostObservations:
    session = ProbeSession(address, settings)
    clock = time.monotonic()

    progress.start("scan", total=len(settings.ports))
    states = await connect_scan(session, settings.ports)
    progress.advance("scan", len(states), detail=f"{sum(s.state == OPEN for s in states)} open")
    progress.finish("scan")
    open_numbers = [s.port for s in states if s.state == OPEN]
    closed = sum(1 for s in states if s.state == CLOSED)
    filtered = [s for s in states if s.state == FILTERED]
    if filtered:
        session.note_incomplete(
            f"{len(filtered)} of {len(states)} ports did not answer within {settings.connect_timeout:g} s"
        )
    reachable = bool(open_numbers) or closed > 0

    def reachability() -> Reachability:
        return Reachability(
            reachable=reachable,
            ports_scanned=len(states),
            open_ports=len(open_numbers),
            closed_ports=closed,
            filtered_ports=len(filtered),
            connections=session.connections,
            udp_datagrams=session.udp_datagrams,
            duration_s=round(time.monotonic() - clock, 3),
            incomplete=tuple(session.incomplete),
        )

    if not reachable:
        return HostObservations(named, address, reachability(), ports_probed=settings.ports)

    progress.start("services", total=len(open_numbers))
    ports: list[OpenPort] = []

    async def identify_one(port: int) -> OpenPort:
        found = await identify(session, port)
        progress.advance("services", 1, detail=f"{port}/{found.service}")
        return found

    ports = list(await asyncio.gather(*(identify_one(p) for p in open_numbers)))
    progress.finish("services")

    cleartext = [_cleartext(p) for p in ports]
    tls_ports = [p for p in ports if p.tls]
    ssh_ports = [p for p in ports if p.service == "ssh"]
    http_ports = [p for p in ports if p.service in ("http", "https")]

    tls_results = await _tls(session, tls_ports, progress) if settings.tls else []
    ssh_results = await _ssh(session, ssh_ports, progress) if settings.ssh else []

    progress.start("http", total=len(http_ports))
    http: list[HttpObservation] = []
    disclosures: list[Disclosure] = []
    for port in http_ports:
        found = await probe_http(session, port.port, tls=port.tls)
        http.extend(found.observations)
        disclosures.extend(found.disclosures)
        progress.advance("http", 1, detail=str(port.port))
    progress.finish("http")

    udp: list[UdpAnswer] = []
    if settings.udp:
        progress.start("udp", total=2)
        udp = await probe_udp(session, wait=min(settings.read_timeout, 1.0))
        progress.advance("udp", 2, detail=f"{len(udp)} answers")
        progress.finish("udp")
        disclosures.extend(await _upnp_description(session, udp))
        ports.extend(OpenPort(a.port, "udp", a.protocol, "udp-answer", a.summary[:200]) for a in udp)

    tests: list[CredentialTest] = []
    throttling: list[ThrottleObservation] = []
    if settings.credentials and settings.credentials_budget > 0:
        tests, throttling = await _credentials(
            session, ports=ports, ssh_results=ssh_results, http=http, credentials=credentials, progress=progress
        )
    elif settings.credentials:
        session.note_incomplete("default credentials not tried: attempt budget is 0")

    return HostObservations(
        host=named,
        address=address,
        reachability=reachability(),
        open_ports=tuple(sorted(ports, key=lambda p: (p.protocol, p.port))),
        tls=tuple(tls_results),
        ssh=tuple(ssh_results),
        cleartext=tuple(c for c in cleartext if c is not None),
        http=tuple(http),
        credentials=tuple(tests),
        throttling=tuple(throttling),
        udp=tuple(udp),
        disclosures=tuple(disclosures),
        ports_probed=settings.ports,
    )


def _cleartext(port: OpenPort) -> CleartextService | None:
    service = (
        _RSERVICES.get(port.port, port.service)
        if port.service in ("rlogin", "rsh", "rexec", "unknown")
        else port.service
    )
    if port.tls:
        return None
    if service in CLEARTEXT_LOGIN or service == "http":
        evidence = port.banner or f"port {port.port} open ({port.basis})"
        return CleartextService(port.port, service, evidence)
    return None


async def _tls(session: ProbeSession, ports: list[OpenPort], progress: ProgressReporter) -> list[TlsResult]:
    progress.start("tls", total=len(ports))
    results: list[TlsResult] = []
    for port in ports:
        async with session.slot():
            try:
                result = await asyncio.to_thread(
                    scan_tls, session.address, port.port, concurrency=session.settings.concurrency,
                    timeout=session.settings.read_timeout,
                )  # fmt: skip
            except Exception as exc:  # noqa: BLE001 - a foreign library's failure is a recorded gap, not a crash
                result = TlsResult(port.port, False, f"sslyze failed: {type(exc).__name__}: {exc}"[:200])
        if not result.completed:
            session.note_incomplete(f"tls://{session.address}:{port.port}: {result.error}")
        results.append(result)
        progress.advance("tls", 1, detail=str(port.port))
    progress.finish("tls")
    return results


async def _ssh(session: ProbeSession, ports: list[OpenPort], progress: ProgressReporter) -> list[SshResult]:
    progress.start("ssh", total=len(ports))
    results: list[SshResult] = []
    for port in ports:
        result = await audit_ssh(session, port.port)
        if not result.completed:
            session.note_incomplete(f"ssh://{session.address}:{port.port}: {result.error}")
        results.append(result)
        progress.advance("ssh", 1, detail=str(port.port))
    progress.finish("ssh")
    return results


async def _upnp_description(session: ProbeSession, answers: list[UdpAnswer]) -> list[Disclosure]:
    out: list[Disclosure] = []
    for answer in answers:
        if answer.protocol != "ssdp":
            continue
        where = ssdp_location(answer, session.address)
        if where is None:
            continue
        port, path, tls = where
        try:
            response = await http_get(session, port, path, tls=tls)
        except (OSError, ssl.SSLError, TimeoutError, ValueError) as exc:
            session.note_incomplete(f"upnp description {path}: {type(exc).__name__}")
            continue
        if 200 <= response.status < 300:
            out.extend(find_disclosures(port, "upnp", path, response.body))
    return out


async def _credentials(
    session: ProbeSession,
    *,
    ports: list[OpenPort],
    ssh_results: list[SshResult],
    http: list[HttpObservation],
    credentials: tuple[Credential, ...],
    progress: ProgressReporter,
) -> tuple[list[CredentialTest], list[ThrottleObservation]]:
    targets: list[tuple[int, str, LoginFunction]] = []
    ssh_login: SshLogin | None = None
    for port in ports:
        if port.protocol != "tcp":
            continue
        if port.service == "telnet":
            targets.append((port.port, "telnet", telnet_login))
        elif port.service == "ftp":
            targets.append((port.port, "ftp", ftp_login))
        elif port.service == "ssh":
            result = next((r for r in ssh_results if r.port == port.port), None)
            methods = result.auth_methods if result is not None else None
            if methods is None or {"password", "keyboard-interactive"} & set(methods):
                ssh_login = ssh_login or SshLogin()
                targets.append((port.port, "ssh", ssh_login))
    seen_http: set[int] = set()
    for page in http:
        if page.auth_scheme == "Basic" and page.port not in seen_http:
            seen_http.add(page.port)
            targets.append((page.port, "http-basic", make_http_login(page.path, tls=page.tls)))

    progress.start("credentials", total=len(targets))

    async def one(port: int, protocol: str, login: LoginFunction) -> tuple[CredentialTest, ThrottleObservation | None]:
        test = await try_default_credentials(session, login, port, protocol, credentials)
        throttle = None
        if session.settings.throttle_attempts > 0:
            username = next((a.username for a in test.attempts if a.outcome != "accepted"), "admin")
            throttle = await observe_throttling(session, login, port, protocol, username, test.attempts)
        progress.advance("credentials", 1, detail=f"{protocol}:{port}")
        return test, throttle

    try:
        pairs = await asyncio.gather(*(one(port, protocol, login) for port, protocol, login in targets))
    finally:
        if ssh_login is not None:
            ssh_login.close()
    progress.finish("credentials")
    return [t for t, _ in pairs], [o for _, o in pairs if o is not None]
