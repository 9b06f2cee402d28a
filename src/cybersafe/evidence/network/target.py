"""Which addresses a probe may touch: only the one the user named (DESIGN.md, safety rules).

A target that is not one explicit address is refused with ``TargetRefused``: a CIDR range, a hostname that
resolves to several addresses, a wildcard, a broadcast or multicast address. With ``allow_multiple`` a
small range or a multi-address name is accepted and every address in it is probed in turn.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

from cybersafe.errors import TargetRefused

MAX_ADDRESSES = 256  # even with the explicit flag a probe never walks more than a /24


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
    return Target(named, (str(address),))


def _network(text: str, named: str, allow_multiple: bool) -> Target:
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise TargetRefused(f"target {named!r} is neither an address nor a network") from None
    if network.num_addresses == 1:
        address = network.network_address
        _refuse_special(address, named)
        return Target(named, (str(address),))
    if not allow_multiple:
        raise TargetRefused(
            f"target {named!r} is a range of {network.num_addresses} addresses; "
            "name one device, or pass --allow-multiple to probe each address in it"
        )
    if network.num_addresses > MAX_ADDRESSES:
        raise TargetRefused(f"target {named!r} has {network.num_addresses} addresses; at most {MAX_ADDRESSES}")
    hosts = [h for h in network.hosts() if not (h.is_multicast or h.is_unspecified)]
    return Target(named, tuple(str(h) for h in hosts))


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
    return Target(named, tuple(addresses))


def _refuse_special(address: ipaddress.IPv4Address | ipaddress.IPv6Address, named: str) -> None:
    if address.is_unspecified:
        raise TargetRefused(f"target {named!r} is the unspecified address, not a device")
    if address.is_multicast:
        raise TargetRefused(f"target {named!r} is a multicast address, not one device")
    if isinstance(address, ipaddress.IPv4Address) and address == ipaddress.IPv4Address("255.255.255.255"):
        raise TargetRefused(f"target {named!r} is the broadcast address, not one device")
