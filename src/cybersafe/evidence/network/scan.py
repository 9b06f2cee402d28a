"""TCP connect scan and service identification (banner, TLS handshake, HTTP response)."""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
from dataclasses import dataclass

from cybersafe.evidence.network.model import OpenPort
from cybersafe.evidence.network.session import ProbeSession, lenient_tls_context, printable

OPEN = "open"
CLOSED = "closed"
FILTERED = "filtered"

IAC = 0xFF

# What a port number usually means, used only when the service says nothing that identifies it.
PORT_NAMES: dict[int, str] = {
    21: "ftp", 22: "ssh", 23: "telnet", 25: "smtp", 53: "dns", 80: "http", 81: "http", 102: "s7comm",
    110: "pop3", 139: "netbios", 143: "imap", 443: "https", 445: "smb", 502: "modbus", 513: "rlogin",
    514: "rsh", 515: "lpd", 554: "rtsp", 631: "ipp", 1883: "mqtt", 2222: "ssh", 2323: "telnet",
    3389: "rdp", 5000: "http", 5555: "adb", 5683: "coap", 5900: "vnc", 7547: "cwmp", 8000: "http",
    8008: "http", 8080: "http", 8081: "http", 8443: "https", 8883: "mqtts", 8888: "http", 9000: "http",
    9100: "jetdirect", 20000: "dnp3", 34567: "dvr", 37777: "dvr", 44818: "enip", 49152: "upnp",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class PortState:
    port: int
    state: str  # open / closed / filtered
    detail: str = ""


async def connect_scan(
    session: ProbeSession, ports: tuple[int, ...], found: list[PortState] | None = None
) -> list[PortState]:
    """Plain connect() to every port, limited by the session; no payload is sent.

    ``found`` collects the states as they come, so a scan cut short by the probe budget keeps what it saw.
    """
    states = found if found is not None else []

    async def one(port: int) -> None:
        try:
            async with session.connect(port):
                state = PortState(port, OPEN)
        except TimeoutError:
            state = PortState(port, FILTERED, "connect timed out")
        except ConnectionRefusedError:
            state = PortState(port, CLOSED)
        except OSError as exc:
            state = PortState(port, FILTERED, exc.strerror or type(exc).__name__)
        states.append(state)

    await asyncio.gather(*(one(port) for port in ports))
    order = {port: index for index, port in enumerate(ports)}
    states.sort(key=lambda s: order.get(s.port, len(order)))
    return states


async def read_some(reader: asyncio.StreamReader, timeout: float, limit: int = 4096) -> bytes:
    """Whatever arrives within ``timeout`` (stops early at ``limit`` bytes or when the peer closes)."""
    data = b""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(data) < limit:
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        try:
            chunk = await asyncio.wait_for(reader.read(limit - len(data)), remaining)
        except TimeoutError:
            break
        if not chunk:
            break
        data += chunk
        if data and remaining > 0.3 and not data.startswith(bytes([IAC])):
            # a text banner usually arrives in one go; allow a short tail for a second line
            deadline = min(deadline, loop.time() + 0.3)
    return data


async def grab_banner(session: ProbeSession, port: int) -> bytes:
    async with session.connect(port) as (reader, _writer):
        return await read_some(reader, session.settings.banner_timeout)


def classify_banner(port: int, banner: bytes) -> str:
    text = banner.decode("latin-1")
    lower = text.lower()
    if banner.startswith(b"SSH-"):
        return "ssh"
    if banner and banner[0] == IAC:
        return "telnet"
    if text.startswith("220") and ("ftp" in lower or port == 21):
        return "ftp"
    if text.startswith("220") and ("smtp" in lower or port in (25, 587)):
        return "smtp"
    if re.match(r"(220|421|530|120)[ -]", text):  # FTP greetings, also when it refuses us (421)
        return "smtp" if "smtp" in lower or "mail" in lower else "ftp"
    if text.startswith("+OK"):
        return "pop3"
    if text.startswith("* OK"):
        return "imap"
    if re.search(r"(login|username|user name|password)\s*:\s*$", lower.strip() + " ", re.MULTILINE) or re.search(
        r"(login|username|password)\s*:", lower
    ):
        return "telnet"
    return PORT_NAMES.get(port, "unknown")


HTTP_PROBE = b"GET / HTTP/1.0\r\nHost: %s\r\nUser-Agent: cybersafe-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n"


@dataclass(frozen=True, slots=True)
class TlsHandshake:
    speaks_tls: bool  # the service answered our ClientHello with a TLS record (handshake or alert)
    completed: bool
    detail: str = ""


MAX_HANDSHAKE_BYTES = 1 << 20  # a server flight past 1 MiB is refused (the chain is judged, not downloaded)


def _tls_record(first: bytes) -> bool:
    """A TLS record header: alert (21) or handshake (22), protocol version 3.0 to 3.4."""
    return len(first) >= 3 and first[0] in (0x15, 0x16) and first[1] == 3 and first[2] <= 4


class _BioTls:
    """A client TLS object over memory BIOs: we move the bytes, so every read and write has our timeout."""

    def __init__(self) -> None:
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.tls = lenient_tls_context().wrap_bio(self.incoming, self.outgoing, server_side=False)
        self.received = bytearray()

    async def handshake(
        self, session: ProbeSession, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + session.settings.read_timeout
        while True:
            try:
                self.tls.do_handshake()
                return
            except ssl.SSLWantReadError:
                pass
            pending = self.outgoing.read()
            if pending:
                await session.send(writer, pending)
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError("no complete handshake within the read timeout")
            chunk = await asyncio.wait_for(reader.read(65536), remaining)
            if not chunk:
                self.incoming.write_eof()
                continue
            self.received += chunk
            if len(self.received) > MAX_HANDSHAKE_BYTES:
                raise ValueError(f"server handshake larger than {MAX_HANDSHAKE_BYTES // 1024} KiB")
            self.incoming.write(chunk)


async def tls_handshake(session: ProbeSession, port: int) -> TlsHandshake:
    """One lenient TLS handshake: tells a TLS service whose handshake fails (a huge or malformed certificate
    chain, no shared protocol version) from a service that does not speak TLS at all."""
    client = _BioTls()
    try:
        async with session.connect(port) as (reader, writer):
            await client.handshake(session, reader, writer)
    except ssl.SSLError as exc:
        reason = exc.reason or type(exc).__name__
        return TlsHandshake(_tls_record(bytes(client.received[:5])), False, f"TLS handshake failed: {reason}")
    except (OSError, TimeoutError, EOFError, ValueError) as exc:
        detail = f"TLS handshake failed: {type(exc).__name__}{f': {exc}' if str(exc) else ''}"[:160]
        return TlsHandshake(_tls_record(bytes(client.received[:5])), False, detail)
    return TlsHandshake(True, True)


async def try_http(session: ProbeSession, port: int, *, tls: bool) -> bytes | None:
    try:
        async with session.connect(port, tls=lenient_tls_context() if tls else None) as (reader, writer):
            await session.send(writer, HTTP_PROBE % session.address.encode())
            data = await read_some(reader, session.settings.read_timeout, limit=1024)
    except (OSError, ssl.SSLError, TimeoutError, EOFError):
        return None
    return data if data.startswith(b"HTTP/") else None


async def identify(session: ProbeSession, port: int) -> OpenPort:
    """Say what listens on an open port, from what it sends first or how it answers."""
    banner = b""
    with contextlib.suppress(OSError, TimeoutError, asyncio.TimeoutError):
        banner = await grab_banner(session, port)
    if banner:
        return OpenPort(port, "tcp", classify_banner(port, banner), "banner", printable(banner))
    # Silent services: TLS first (so a TLS port is never fed cleartext HTTP), then plain HTTP.
    if session.settings.tls:
        handshake = await tls_handshake(session, port)
        if handshake.completed:
            response = await try_http(session, port, tls=True)
            if response is not None:
                head = printable(response.split(b"\r\n\r\n")[0])
                return OpenPort(port, "tcp", "https", "http-response", head, True)
            return OpenPort(port, "tcp", "tls", "tls-handshake", None, True)
        if handshake.speaks_tls:
            # it answered in TLS, so it is a TLS service: the failed handshake is a gap, never "not TLS"
            return OpenPort(port, "tcp", "tls", "tls-handshake", None, True, tls_error=handshake.detail)
    response = await try_http(session, port, tls=False)
    if response is not None:
        return OpenPort(port, "tcp", "http", "http-response", printable(response.split(b"\r\n\r\n")[0]))
    return OpenPort(port, "tcp", PORT_NAMES.get(port, "unknown"), "port-number")
