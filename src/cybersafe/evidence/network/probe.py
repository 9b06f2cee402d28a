"""The probe of one named device: scan, identify, TLS, SSH, HTTP, UDP, logins; facts only, within a budget.

Order matters: everything that only looks runs first; access without credentials, default credentials and the
brute-force run go last, because a device that locks out after failed logins could hide the rest. Each stage
runs inside what is left of the probe's wall-clock budget (``ProbeSettings.budget_s``); a stage the budget
cuts keeps what it found, and the stop is recorded with the stages not run.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import functools
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from cybersafe.errors import ProbeTimeout
from cybersafe.evidence.interface import NullProgressReporter, ProgressReporter
from cybersafe.evidence.network.access import ANONYMOUS, ftp_access, ssh_access, telnet_access
from cybersafe.evidence.network.credentials import (
    Credential,
    LoginFunction,
    SshLogin,
    ftp_login,
    load_default_credentials,
    make_http_login,
    telnet_login,
    try_default_credentials,
)
from cybersafe.evidence.network.http import find_disclosures, http_get, probe_http
from cybersafe.evidence.network.model import (
    GRANTED,
    REFUSED,
    REJECTED,
    UNCONFIRMED,
    AccessWithoutCredentials,
    CleartextService,
    CredentialAttempt,
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
from cybersafe.evidence.network.scan import CLOSED, FILTERED, OPEN, PortState, connect_scan, identify
from cybersafe.evidence.network.session import ProbeSession, ProbeSettings
from cybersafe.evidence.network.ssh import audit_ssh
from cybersafe.evidence.network.target import resolve_target
from cybersafe.evidence.network.throttle import (
    BaselineFunction,
    ftp_baseline,
    http_baseline,
    measure_baseline,
    observe_throttling,
    ssh_baseline,
    telnet_baseline,
)
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
    deadline = time.monotonic() + settings.budget_s
    hosts = [
        await probe_address(named, address, settings, progress, creds, deadline=deadline)
        for address in target.addresses
    ]
    if not any(h.reachability.reachable for h in hosts):
        timeout = settings.connect_timeout
        stop = next((h.reachability.budget_stop for h in hosts if h.reachability.budget_stop), None)
        raise ProbeTimeout(
            f"device {named} is unreachable: none of {len(settings.ports)} TCP ports answered within "
            f"{timeout:g} s (no connection accepted or refused){f'; {stop}' if stop else ''}"
        )
    return NetworkObservations(
        target=named,
        hosts=tuple(hosts),
        probed_at=started.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        declared_ports=declared_ports,
        settings=settings.describe(),
    )


@dataclass
class _Found:
    """What the stages saw so far: a stage cut by the budget keeps what it appended."""

    ports: list[OpenPort] = field(default_factory=list)
    tls: list[TlsResult] = field(default_factory=list)
    ssh: list[SshResult] = field(default_factory=list)
    http: list[HttpObservation] = field(default_factory=list)
    disclosures: list[Disclosure] = field(default_factory=list)
    udp: list[UdpAnswer] = field(default_factory=list)
    access: list[AccessWithoutCredentials] = field(default_factory=list)
    credentials: list[CredentialTest] = field(default_factory=list)
    throttling: list[ThrottleObservation] = field(default_factory=list)


async def probe_address(
    named: str,
    address: str,
    settings: ProbeSettings,
    progress: ProgressReporter,
    credentials: tuple[Credential, ...],
    *,
    deadline: float | None = None,
) -> HostObservations:
    session = ProbeSession(address, settings, deadline=deadline)
    clock = time.monotonic()
    states: list[PortState] = []
    found = _Found()
    steps = _steps(session, found, progress, credentials)
    await session.stage("port scan", _scan(session, states, progress), later=tuple(name for name, _ in steps))
    open_numbers = [s.port for s in states if s.state == OPEN]
    if open_numbers or any(s.state == CLOSED for s in states):
        for index, (name, step) in enumerate(steps):
            later = tuple(n for n, _ in steps[index + 1 :])
            await session.stage(name, step(open_numbers), later=later)
    return _host(named, session, states, found, clock)


Step = Callable[[list[int]], Coroutine[Any, Any, None]]


def _steps(
    session: ProbeSession, found: _Found, progress: ProgressReporter, credentials: tuple[Credential, ...]
) -> list[tuple[str, Step]]:
    """The stages after the port scan, in order, as the settings enable them."""
    settings = session.settings

    async def services(open_numbers: list[int]) -> None:
        await _identify_all(session, open_numbers, found, progress)

    async def tls(_: list[int]) -> None:
        await _tls(session, [p for p in found.ports if p.tls], found.tls, progress)

    async def ssh(_: list[int]) -> None:
        await _ssh(session, [p for p in found.ports if p.service == "ssh"], found, progress)

    async def http(_: list[int]) -> None:
        await _http(session, found, progress)

    async def udp(_: list[int]) -> None:
        await _udp(session, found, progress)

    async def logins(_: list[int]) -> None:
        await _logins(session, found, credentials, progress)

    steps: list[tuple[str, Step]] = [("service identification", services)]
    steps += [("TLS scan", tls)] if settings.tls else []
    steps += [("SSH audit", ssh)] if settings.ssh else []
    steps.append(("HTTP", http))
    steps += [("UDP discovery", udp)] if settings.udp else []
    steps += [("logins", logins)] if settings.credentials else []
    return steps


async def _scan(session: ProbeSession, states: list[PortState], progress: ProgressReporter) -> None:
    ports = session.settings.ports
    progress.start("scan", total=len(ports))
    try:
        await connect_scan(session, ports, states)
    finally:
        progress.advance("scan", len(states), detail=f"{sum(s.state == OPEN for s in states)} open")
        progress.finish("scan")
    filtered = [s for s in states if s.state == FILTERED]
    if filtered:
        session.note_incomplete(
            f"{len(filtered)} of {len(states)} ports did not answer within {session.settings.connect_timeout:g} s"
        )


def _host(named: str, session: ProbeSession, states: list[PortState], found: _Found, clock: float) -> HostObservations:
    open_ports = sum(1 for s in states if s.state == OPEN)
    closed = sum(1 for s in states if s.state == CLOSED)
    reachability = Reachability(
        reachable=open_ports > 0 or closed > 0,
        ports_scanned=len(states),
        open_ports=open_ports,
        closed_ports=closed,
        filtered_ports=sum(1 for s in states if s.state == FILTERED),
        connections=session.connections,
        udp_datagrams=session.udp_datagrams,
        duration_s=round(time.monotonic() - clock, 3),
        incomplete=tuple(session.incomplete),
        budget_s=session.settings.budget_s,
        budget_stop=session.budget_stop,
    )
    cleartext = (_cleartext(p) for p in found.ports if p.protocol == "tcp")
    return HostObservations(
        host=named,
        address=session.address,
        reachability=reachability,
        open_ports=tuple(sorted(found.ports, key=lambda p: (p.protocol, p.port))),
        tls=tuple(found.tls),
        ssh=tuple(found.ssh),
        cleartext=tuple(c for c in cleartext if c is not None),
        http=tuple(found.http),
        credentials=tuple(found.credentials),
        throttling=tuple(found.throttling),
        udp=tuple(found.udp),
        disclosures=tuple(found.disclosures),
        ports_probed=session.settings.ports,
        access=tuple(found.access),
    )


async def _identify_all(
    session: ProbeSession, open_numbers: list[int], found: _Found, progress: ProgressReporter
) -> None:
    progress.start("services", total=len(open_numbers))

    async def identify_one(port: int) -> None:
        seen = await identify(session, port)
        if seen.tls_error:
            session.note_incomplete(f"tls://{session.address}:{port}: {seen.tls_error}")
        found.ports.append(seen)
        progress.advance("services", 1, detail=f"{port}/{seen.service}")

    try:
        await asyncio.gather(*(identify_one(p) for p in open_numbers))
    finally:
        identified = {p.port for p in found.ports}
        # a port the budget cut before it was identified is still open: it is listed by its number
        found.ports.extend(OpenPort(n, "tcp", "unknown", "port-number") for n in open_numbers if n not in identified)
        order = {n: i for i, n in enumerate(open_numbers)}
        found.ports.sort(key=lambda p: order.get(p.port, len(order)))  # scan order, whatever finished first
        progress.finish("services")


async def _http(session: ProbeSession, found: _Found, progress: ProgressReporter) -> None:
    http_ports = [p for p in found.ports if p.service in ("http", "https")]
    progress.start("http", total=len(http_ports))
    try:
        for port in http_ports:
            seen = await probe_http(session, port.port, tls=port.tls)
            found.http.extend(seen.observations)
            found.disclosures.extend(seen.disclosures)
            progress.advance("http", 1, detail=str(port.port))
    finally:
        progress.finish("http")


async def _udp(session: ProbeSession, found: _Found, progress: ProgressReporter) -> None:
    progress.start("udp", total=2)
    try:
        answers = await probe_udp(session, wait=min(session.settings.read_timeout, 1.0))
        progress.advance("udp", 2, detail=f"{len(answers)} answers")
    finally:
        progress.finish("udp")
    found.udp.extend(answers)
    found.ports.extend(OpenPort(a.port, "udp", a.protocol, "udp-answer", a.summary[:200]) for a in answers)
    found.disclosures.extend(await _upnp_description(session, answers))


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


class WorkAbandoned(Exception):
    """Blocking work that ``in_thread`` stopped waiting for."""


async def in_thread(work: Callable[[], T], timeout: float) -> T:
    """Run blocking ``work`` on a daemon thread and wait at most ``timeout``: a hung library call cannot hold
    the probe (or the interpreter's exit) past its budget; it is abandoned, and its sockets time out alone."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            result, error = work(), None
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting coroutine, which decides
            result, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=run, name="cybersafe-tls-scan", daemon=True).start()
    done, _ = await asyncio.wait({future}, timeout=timeout)
    if not done:
        future.cancel()
        raise WorkAbandoned(f"did not finish within {timeout:g} s")
    return future.result()


async def _tls(
    session: ProbeSession, ports: list[OpenPort], results: list[TlsResult], progress: ProgressReporter
) -> None:
    settings = session.settings
    progress.start("tls", total=len(ports))
    try:
        for port in ports:
            async with session.slot():
                try:
                    work = functools.partial(
                        scan_tls,
                        session.address,
                        port.port,
                        concurrency=settings.concurrency,
                        timeout=settings.read_timeout,
                    )
                    result = await in_thread(work, settings.subprocess_timeout)
                except WorkAbandoned as exc:
                    result = TlsResult(port.port, False, f"sslyze {exc}")
                except Exception as exc:  # noqa: BLE001 - a foreign library's failure is a recorded gap, not a crash
                    result = TlsResult(port.port, False, f"sslyze failed: {type(exc).__name__}: {exc}"[:200])
            if not result.completed:
                session.note_incomplete(f"tls://{session.address}:{port.port}: {result.error}")
            results.append(result)
            progress.advance("tls", 1, detail=str(port.port))
    finally:
        progress.finish("tls")


async def _ssh(session: ProbeSession, ports: list[OpenPort], found: _Found, progress: ProgressReporter) -> None:
    progress.start("ssh", total=len(ports))
    try:
        for port in ports:
            result = await audit_ssh(session, port.port)
            if not result.completed:
                session.note_incomplete(f"ssh://{session.address}:{port.port}: {result.error}")
            found.ssh.append(result)
            found.access.append(ssh_access(result))
            progress.advance("ssh", 1, detail=str(port.port))
    finally:
        progress.finish("ssh")


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


@dataclass(frozen=True, slots=True)
class _LoginService:
    port: int
    protocol: str  # telnet / ftp / ssh / http-basic
    login: LoginFunction
    baseline: BaselineFunction | None = None
    access: Callable[[ProbeSession, int], Awaitable[AccessWithoutCredentials]] | None = None


def _login_services(found: _Found, ssh_login: Callable[[], SshLogin]) -> list[_LoginService]:
    services: list[_LoginService] = []
    for port in found.ports:
        if port.protocol != "tcp":
            continue
        if port.service == "telnet":
            services.append(_LoginService(port.port, "telnet", telnet_login, telnet_baseline, telnet_access))
        elif port.service == "ftp":
            services.append(_LoginService(port.port, "ftp", ftp_login, ftp_baseline, ftp_access))
        elif port.service == "ssh":
            result = next((r for r in found.ssh if r.port == port.port), None)
            methods = result.auth_methods if result is not None else None
            if methods is None or {"password", "keyboard-interactive"} & set(methods):
                services.append(_LoginService(port.port, "ssh", ssh_login(), ssh_baseline))
    seen_http: set[int] = set()
    for page in found.http:
        if page.auth_scheme == "Basic" and page.port not in seen_http:
            seen_http.add(page.port)
            login = make_http_login(page.path, tls=page.tls)
            services.append(_LoginService(page.port, "http-basic", login, http_baseline(page.path, tls=page.tls)))
    return services


async def _logins(
    session: ProbeSession, found: _Found, credentials: tuple[Credential, ...], progress: ProgressReporter
) -> None:
    """Access without credentials, then default credentials and the brute-force run, per login service."""
    shared: list[SshLogin] = []

    def ssh_login() -> SshLogin:
        if not shared:
            shared.append(SshLogin())
        return shared[0]

    services = _login_services(found, ssh_login)
    if session.settings.credentials_budget == 0:
        session.note_incomplete("default credentials not tried: attempt budget is 0")
    progress.start("credentials", total=len(services))

    async def one(service: _LoginService) -> None:
        await _login_service(session, service, found, credentials)
        progress.advance("credentials", 1, detail=f"{service.protocol}:{service.port}")

    try:
        await asyncio.gather(*(one(service) for service in services))
    finally:
        for login in shared:
            login.close()
        progress.finish("credentials")


async def _login_service(
    session: ProbeSession, service: _LoginService, found: _Found, credentials: tuple[Credential, ...]
) -> None:
    settings = session.settings
    trying = settings.credentials_budget != 0
    failed_access: tuple[CredentialAttempt, ...] = ()
    if service.access is not None and (trying or service.protocol == "telnet"):  # telnet sends no credential
        started = time.monotonic()
        access = await service.access(session, service.port)
        found.access.append(access)
        if service.protocol == "telnet" and access.outcome in (GRANTED, UNCONFIRMED):
            return  # no login to try credentials on
        if service.protocol == "ftp" and access.outcome == REFUSED:  # a failed login the device counted too
            elapsed = round(time.monotonic() - started, 3)
            failed_access = (
                CredentialAttempt(ANONYMOUS.username, ANONYMOUS.password, REJECTED, elapsed, access.evidence),
            )
    if not trying:
        return
    baseline = None
    if settings.throttle_attempts > 0:
        baseline = await measure_baseline(session, service.baseline, service.port)
    test = await try_default_credentials(session, service.login, service.port, service.protocol, credentials)
    found.credentials.append(test)
    if settings.throttle_attempts > 0:
        username = next((a.username for a in test.attempts if a.outcome != "accepted"), "admin")
        found.throttling.append(
            await observe_throttling(
                session,
                service.login,
                service.port,
                service.protocol,
                username,
                failed_access + test.attempts,
                baseline,
            )
        )
