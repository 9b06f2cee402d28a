"""Which addresses a probe may touch: only the one the user named (DESIGN.md, safety rules).

A target that is not one explicit address is refused with ``TargetRefused``: a CIDR range, a hostname that
resolves to several addresses, a wildcard, a broadcast or multicast address. With ``allow_multiple`` a
small range or a multi-address name is accepted and every address in it is probed in turn.

An IPv6 address that carries an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``, RFC 4291 2.5.5.2; IPv4-translated
``::ffff:0:a.b.c.d``, RFC 2765; the NAT64 well-known prefix ``64:ff9b::/96``, RFC 6052; deprecated IPv4-compatible
``::a.b.c.d``) is judged like the IPv4 address it carries, so ``::ffff:0.0.0.0`` is refused as ``0.0.0.0`` is.
An IPv4-mapped address reaches the IPv4 host, so it is probed as that IPv4 address.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import TypeAlias

from cybersafe.errors import TargetRefused

MAX_ADDRESSES = 256  # even with the explicit flag a probe never walks more than a /24

Address: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address

_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # RFC 2765 IPv4-translated
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052 well-known prefix
_COMPATIBLE = ipaddress.IPv6Network("::/96")  # RFC 4291 2.5.5.1, deprecated


@dataclass(frozen=True, slots=True)
class Target:
    named: str  # what the user typed
    addresses: tuple[str, ...]


def resolve_target(named: str, *, allow_multiple: bool = False) -> Target:
    text = named.strip()
    if not text:
        raise TargetRefused("no target named: give one IP address or host name")
    if "/" in text:
        return _network(text, named, allow_multiple)
    if any(ch in text for ch in "*?,; "):
        raise TargetRefused(f"target {named!r} is not one host: give one IP address or host name")
    try:
        address = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return _hostname(text, named, allow_multiple)
    _refuse_special(address, named)
    return Target(named, (str(probed(address)),))


def _network(text: str, named: str, allow_multiple: bool) -> Target:
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise TargetRefused(f"target {named!r} is neither an address nor a network") from None
    if network.num_addresses == 1:
        address = network.network_address
        _refuse_special(address, named)
        return Target(named, (str(probed(address)),))
    if not allow_multiple:
        raise TargetRefused(
            f"target {named!r} is a range of {network.num_addresses} addresses; "
            "name one device, or pass --allow-multiple to probe each address in it"
        )
    if network.num_addresses > MAX_ADDRESSES:
        raise TargetRefused(f"target {named!r} has {network.num_addresses} addresses; at most {MAX_ADDRESSES}")
    hosts = [h for h in network.hosts() if not _special(h)]
    return Target(named, tuple(dict.fromkeys(str(probed(h)) for h in hosts)))


def _hostname(text: str, named: str, allow_multiple: bool) -> Target:
    try:
        infos = socket.getaddrinfo(text, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(f"target {named!r} does not resolve: {exc}") from None
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise TargetRefused(f"target {named!r} does not resolve to any address")
    if len(addresses) > 1 and not allow_multiple:
        raise TargetRefused(
            f"target {named!r} resolves to {len(addresses)} addresses ({', '.join(addresses)}); "
            "name one address, or pass --allow-multiple to probe each of them"
        )
    if len(addresses) > MAX_ADDRESSES:
        raise TargetRefused(f"target {named!r} resolves to {len(addresses)} addresses; at most {MAX_ADDRESSES}")
    for address in addresses:
        _refuse_special(ipaddress.ip_address(address), named)
    return Target(named, tuple(dict.fromkeys(str(probed(ipaddress.ip_address(a))) for a in addresses)))


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, translated, NAT64, compatible), else None."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _TRANSLATED or address in _NAT64 or (address in _COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def probed(address: Address) -> Address:
    """The address a connection really goes to: an IPv4-mapped address is its IPv4 host."""
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return mapped if mapped is not None else address


def _special(address: Address) -> str | None:
    """Why ``address`` (or the IPv4 address it carries) is not one device; None when it is one."""
    judged = embedded_ipv4(address) or address
    carried = f" (it carries {judged})" if judged is not address else ""
    if judged.is_unspecified or address.is_unspecified:
        return f"the unspecified address{carried}, not a device"
    if judged.is_multicast or address.is_multicast:
        return f"a multicast address{carried}, not one device"
    if isinstance(judged, ipaddress.IPv4Address) and judged == ipaddress.IPv4Address("255.255.255.255"):
        return f"the broadcast address{carried}, not one device"
    return None


def _refuse_special(address: Address, named: str) -> None:
    why = _special(address)
    if why is not None:
        raise TargetRefused(f"target {named!r} is {why}")
