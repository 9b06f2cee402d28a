"""One probe session against one address: every connection goes through here, so limits hold everywhere.

The session owns the only address the probe may touch, a concurrency limit (open connections at once),
a rate limit (new connections per second) and the counters the report quotes. Nothing in the network
package opens a socket any other way (ssh-audit and the ssh client run as subprocesses against the same
address, counted here too).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

DEFAULT_BUDGET_S = 300.0  # the whole probe's wall-clock budget: 5 minutes

DEFAULT_PORTS: tuple[int, ...] = (
    # remote login and file transfer
    21, 22, 23, 2222, 2323, 513, 514,
    # web interfaces and APIs
    80, 81, 443, 5000, 8000, 8008, 8080, 8081, 8443, 8888, 9000, 49152,
    # IoT messaging, camera and device management
    554, 1883, 8883, 5683, 7547, 37777, 34567, 5555, 6668,
    # mail, name service, printing, file sharing, remote desktop, industrial
    25, 53, 110, 143, 139, 445, 515, 631, 9100, 3389, 5900, 502, 102, 20000, 44818,
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ProbeSettings:
    ports: tuple[int, ...] = DEFAULT_PORTS
    connect_timeout: float = 3.0
    read_timeout: float = 3.0
    banner_timeout: float = 1.5
    login_timeout: float = 15.0  # the verdict on a credential: a throttling device answers late on purpose
    concurrency: int = 16  # connections open at once
    rate: float = 50.0  # new connections per second
    credentials_budget: int | None = None  # default-credential attempts per login service; None: the whole list
    credentials_time_s: float = 60.0  # per login service: a list that would take longer (throttling, SSH) stops
    throttle_attempts: int = 10  # failed logins in a row for the 5.1-5 observation
    udp: bool = True
    tls: bool = True
    ssh: bool = True
    credentials: bool = True
    subprocess_timeout: float = 60.0  # one ssh-audit run, one sslyze scan of one port
    budget_s: float = DEFAULT_BUDGET_S  # the whole probe, every address: stages past it are not run
    ssdp_port: int = 1900  # the standard ports; tests point them at their own responders
    mdns_port: int = 5353

    def describe(self) -> tuple[tuple[str, str], ...]:
        return (
            ("ports", str(len(self.ports))),
            ("connect_timeout_s", f"{self.connect_timeout:g}"),
            ("login_timeout_s", f"{self.login_timeout:g}"),
            ("concurrency", str(self.concurrency)),
            ("rate_per_s", f"{self.rate:g}"),
            ("credentials_budget", "all" if self.credentials_budget is None else str(self.credentials_budget)),
            ("credentials_time_s", f"{self.credentials_time_s:g}"),
            ("throttle_attempts", str(self.throttle_attempts)),
            ("budget_s", f"{self.budget_s:g}"),
        )


class RateLimiter:
    """At most ``rate`` starts per second, spaced evenly (no bursts towards a small device)."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = time.monotonic()
            if self._next > now:
                await asyncio.sleep(self._next - now)
                now = self._next
            self._next = now + self._interval


@dataclass
class ProbeSession:
    address: str
    settings: ProbeSettings
    deadline: float | None = None  # time.monotonic() past which no stage starts or goes on (the probe budget)
    connections: int = 0
    udp_datagrams: int = 0
    incomplete: list[str] = field(default_factory=list)
    budget_stop: str | None = None
    _semaphore: asyncio.Semaphore | None = None
    _rate: RateLimiter | None = None

    def _limits(self) -> tuple[asyncio.Semaphore, RateLimiter]:
        if self._semaphore is None or self._rate is None:
            self._semaphore = asyncio.Semaphore(max(1, self.settings.concurrency))
            self._rate = RateLimiter(self.settings.rate)
        return self._semaphore, self._rate

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """A connection slot: concurrency and rate limits for work done outside asyncio streams."""
        semaphore, rate = self._limits()
        async with semaphore:
            await rate.wait()
            self.connections += 1
            yield

    @contextlib.asynccontextmanager
    async def connect(
        self, port: int, *, tls: ssl.SSLContext | None = None, timeout: float | None = None
    ) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
        """Open one TCP (or TLS) connection to the session's address; raises OSError / TimeoutError."""
        async with self.slot():
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.address, port, ssl=tls, server_hostname="" if tls else None),
                timeout or self.settings.connect_timeout,
            )
            try:
                yield reader, writer
            finally:
                await _close(writer)

    def note_incomplete(self, what: str) -> None:
        if what not in self.incomplete:
            self.incomplete.append(what)

    async def send(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        """Write and wait until the peer takes it, at most ``read_timeout``: a peer that never reads cannot hang
        the probe (raises TimeoutError)."""
        writer.write(data)
        await asyncio.wait_for(writer.drain(), self.settings.read_timeout)

    def remaining(self) -> float:
        return float("inf") if self.deadline is None else self.deadline - time.monotonic()

    async def stage(self, name: str, work: Coroutine[Any, Any, T], *, later: tuple[str, ...] = ()) -> T | None:
        """Run one probe stage inside what is left of the budget; None when the budget ran out before or during it.

        A stage keeps what it found so far in the accumulators it was given; the stop is recorded once, with
        the stages that were not run, so every check can tell a finished probe from a cut one.
        """
        remaining = self.remaining()
        if remaining <= 0 or self.budget_stop is not None:
            work.close()
            self._stopped(name, later, during=False)
            return None
        timer = asyncio.timeout(remaining if remaining != float("inf") else None)
        try:
            async with timer:
                return await work
        except TimeoutError:
            if not timer.expired():
                raise
            self._stopped(name, later, during=True)
            return None

    def _stopped(self, name: str, later: tuple[str, ...], *, during: bool) -> None:
        if self.budget_stop is not None:
            return
        where = f"during {name}" if during else f"before {name}"
        not_run = later if during else (name, *later)
        skipped = f"; not run: {', '.join(not_run)}" if not_run else ""
        self.budget_stop = f"probe budget of {self.settings.budget_s:g} s used up {where}{skipped}"
        self.note_incomplete(self.budget_stop)


async def _close(writer: asyncio.StreamWriter) -> None:
    """Close politely for a second, then drop the connection: data a peer never read cannot keep it open."""
    writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), 1.0)
    except (OSError, TimeoutError, ssl.SSLError):
        writer.transport.abort()
    except BaseException:  # cancelled by the probe budget while closing
        writer.transport.abort()
        raise


def lenient_tls_context() -> ssl.SSLContext:
    """A client context that talks to any device: identification only, never trust decisions."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with contextlib.suppress(ssl.SSLError):
        context.set_ciphers("ALL:@SECLEVEL=0")
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    return context


def printable(data: bytes, limit: int = 200) -> str:
    """Bytes a device sent, as one safe line: printable ASCII kept, the rest escaped, truncated."""
    out: list[str] = []
    for byte in data[:limit]:
        if byte in (0x0A, 0x0D):
            out.append("\\n" if byte == 0x0A else "\\r")
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\x{byte:02x}")
    text = "".join(out)
    return text + ("..." if len(data) > limit else "")


def parse_ports(text: str) -> tuple[int, ...]:
    """``"22,80,8000-8010"`` -> ports; raises ValueError naming the bad part."""
    ports: list[int] = []
    for raw in text.split(","):
        part = raw.strip()
        if not part:
            continue
        if "-" in part:
            low_text, _, high_text = part.partition("-")
            low, high = int(low_text), int(high_text)
            if not 1 <= low <= high <= 65535:
                raise ValueError(f"bad port range {part!r}")
            ports.extend(range(low, high + 1))
        else:
            port = int(part)
            if not 1 <= port <= 65535:
                raise ValueError(f"bad port {part!r}")
            ports.append(port)
    return tuple(dict.fromkeys(ports))
