"""UDP discovery probes, unicast to the named address only: SSDP/UPnP (1900) and mDNS (5353).

Multicast groups are never addressed: an M-SEARCH and a DNS-SD query go to the device's own address,
which most responders answer (UPnP Device Architecture 2.0 section 1.3.3; RFC 6762 section 5.5 for
unicast queries to port 5353). Answers are hostile input: parsed with bounds, never trusted.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
import struct
from urllib.parse import urlsplit

from cybersafe.evidence.network.model import UdpAnswer
from cybersafe.evidence.network.session import ProbeSession, printable

SSDP_PORT = 1900
MDNS_PORT = 5353

SSDP_SEARCH = (
    'M-SEARCH * HTTP/1.1\r\nHOST: {host}:{port}\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: ssdp:all\r\n'
    "USER-AGENT: cybersafe-probe\r\n\r\n"
)
MDNS_SERVICES = "_services._dns-sd._udp.local"

_TYPES = {1: "A", 12: "PTR", 16: "TXT", 28: "AAAA", 33: "SRV"}


class _Collector(asyncio.DatagramProtocol):
    def __init__(self, address: str) -> None:
        self.address = address
        self.replies: list[bytes] = []

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        if addr and str(addr[0]) == self.address and len(self.replies) < 16:
            self.replies.append(data[:9000])


async def udp_exchange(session: ProbeSession, port: int, payload: bytes, wait: float) -> list[bytes]:
    """Send one datagram to the session's address and gather the replies that come from it."""
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in session.address else socket.AF_INET
    local = ("::", 0) if family == socket.AF_INET6 else ("0.0.0.0", 0)  # noqa: S104 - ephemeral reply port
    async with session.slot():
        transport, protocol = await loop.create_datagram_endpoint(
            lambda: _Collector(session.address), local_addr=local, family=family
        )
        try:
            transport.sendto(payload, (session.address, port))
            session.udp_datagrams += 1
            await asyncio.sleep(wait)
        finally:
            transport.close()
    return list(protocol.replies)


def ssdp_answer(data: bytes) -> UdpAnswer | None:
    text = data.decode("latin-1")
    lines = text.split("\r\n")
    if not lines or not lines[0].upper().startswith(("HTTP/1.1 200", "HTTP/1.0 200", "NOTIFY")):
        return None
    fields: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep and name.strip():
            fields.append((name.strip().upper(), printable(value.strip().encode("latin-1"), 200)))
    summary = ", ".join(f"{k}: {v}" for k, v in fields if k in ("SERVER", "ST", "LOCATION")) or printable(data, 120)
    return UdpAnswer(SSDP_PORT, "ssdp", "M-SEARCH ssdp:all", summary, tuple(fields))


def ssdp_location(answer: UdpAnswer, address: str) -> tuple[int, str, bool] | None:
    """The description URL, only when it points back at the probed address: (port, path, tls)."""
    location = next((v for k, v in answer.fields if k == "LOCATION"), None)
    if not location:
        return None
    try:
        parts = urlsplit(location)
        explicit_port = parts.port  # ValueError when out of range or not a number
    except ValueError:  # a malformed URL (e.g. "http://[x/", port 70000): nothing to fetch
        return None
    if parts.hostname != address or parts.scheme not in ("http", "https"):
        return None
    port = explicit_port or (443 if parts.scheme == "https" else 80)
    return port, (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), parts.scheme == "https"


def mdns_query(name: str = MDNS_SERVICES, qtype: int = 12) -> bytes:
    header = struct.pack("!HHHHHH", 0, 0, 1, 0, 0, 0)
    question = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\x00"
    return header + question + struct.pack("!HH", qtype, 0x8001)  # QU bit: answer by unicast


def mdns_answer(data: bytes) -> UdpAnswer | None:
    """Records of a DNS response: (type name, value) pairs; None when it is not a response."""
    if len(data) < 12:
        return None
    _ident, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", data[:12])
    if not flags & 0x8000:
        return None
    offset = 12
    try:
        for _ in range(qd):
            _name, offset = _read_name(data, offset)
            offset += 4
        records: list[tuple[str, str]] = []
        for _ in range(min(an + ns + ar, 64)):
            name, offset = _read_name(data, offset)
            if offset + 10 > len(data):
                break
            rtype, _cls, _ttl, length = struct.unpack("!HHIH", data[offset : offset + 10])
            offset += 10
            rdata = data[offset : offset + length]
            records.append((_TYPES.get(rtype, str(rtype)), f"{name} {_rdata(rtype, data, offset, rdata)}"))
            offset += length
    except (IndexError, struct.error, ValueError):
        return None
    if not records:
        return None
    summary = "; ".join(v for _k, v in records[:6])
    return UdpAnswer(MDNS_PORT, "mdns", f"PTR {MDNS_SERVICES}", printable(summary.encode(), 240), tuple(records))


def _rdata(rtype: int, message: bytes, offset: int, rdata: bytes) -> str:
    if rtype == 12:
        return _read_name(message, offset)[0]
    if rtype == 16:
        parts = []
        i = 0
        while i < len(rdata):
            size = rdata[i]
            parts.append(printable(rdata[i + 1 : i + 1 + size], 120))
            i += 1 + size
        return " ".join(parts)
    if rtype == 1 and len(rdata) == 4:
        return socket.inet_ntop(socket.AF_INET, rdata)
    if rtype == 28 and len(rdata) == 16:
        return socket.inet_ntop(socket.AF_INET6, rdata)
    if rtype == 33 and len(rdata) >= 6:
        port = struct.unpack("!H", rdata[4:6])[0]
        return f"{_read_name(message, offset + 6)[0]}:{port}"
    return printable(rdata, 60)


def _read_name(message: bytes, offset: int) -> tuple[str, int]:
    labels: list[str] = []
    jumps = 0
    end: int | None = None
    while True:
        size = message[offset]
        if size & 0xC0 == 0xC0:
            if jumps > 16:
                raise ValueError("name compression loop")
            pointer = ((size & 0x3F) << 8) | message[offset + 1]
            if end is None:
                end = offset + 2
            offset = pointer
            jumps += 1
            continue
        if size == 0:
            offset += 1
            break
        labels.append(printable(message[offset + 1 : offset + 1 + size], 63))
        offset += 1 + size
        if len(labels) > 64:
            raise ValueError("name too long")
    return ".".join(labels), end if end is not None else offset


async def probe_udp(session: ProbeSession, wait: float = 1.0) -> list[UdpAnswer]:
    host = session.address if ":" not in session.address else f"[{session.address}]"
    ssdp_port, mdns_port = session.settings.ssdp_port, session.settings.mdns_port
    ssdp, mdns = await asyncio.gather(
        udp_exchange(session, ssdp_port, SSDP_SEARCH.format(host=host, port=ssdp_port).encode(), wait),
        udp_exchange(session, mdns_port, mdns_query(), wait),
        return_exceptions=True,
    )
    answers: list[UdpAnswer] = []
    for replies, parse, port in ((ssdp, ssdp_answer, ssdp_port), (mdns, mdns_answer, mdns_port)):
        if isinstance(replies, BaseException):
            session.note_incomplete(f"udp: {type(replies).__name__}: {replies}")
            continue
        for reply in replies:
            with contextlib.suppress(UnicodeError):
                answer = parse(reply)
                if answer is not None:
                    answers.append(dataclasses.replace(answer, port=port))
                    break  # one answer per protocol is enough evidence
    return answers
