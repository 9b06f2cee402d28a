"""Suite-wide fixtures: the fixed clock, the example dossier, the loopback guard. Plain helpers are in support.py."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import EXAMPLE_DOSSIER, NOW


@pytest.fixture
def now() -> dt.datetime:
    return NOW


@pytest.fixture(scope="session")
def example_dossier_path() -> Path:
    return EXAMPLE_DOSSIER


@pytest.fixture(autouse=True, scope="session")
def _loopback_only() -> Iterator[None]:
    """The suite never sends a packet outside 127.0.0.0/8 (and ::1)."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_sendto = socket.socket.sendto

    def _allowed(address: object) -> bool:
        if isinstance(address, tuple) and address:
            host = str(address[0])
            return host.startswith(("127.", "::ffff:127.")) or host in ("::1", "localhost")
        return True  # unix sockets

    def connect(self: socket.socket, address: object) -> None:
        if not _allowed(address):
            raise PermissionError(f"test suite refused a connection to {address!r}: loopback only")
        real_connect(self, address)  # type: ignore[arg-type]

    def connect_ex(self: socket.socket, address: object) -> int:
        if not _allowed(address):
            raise PermissionError(f"test suite refused a connection to {address!r}: loopback only")
        return real_connect_ex(self, address)  # type: ignore[arg-type]

    def sendto(self: socket.socket, data: bytes, *args: object) -> int:
        address = args[-1]
        if not _allowed(address):
            raise PermissionError(f"test suite refused a datagram to {address!r}: loopback only")
        return real_sendto(self, data, *args)  # type: ignore[arg-type]

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = sendto  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]
        socket.socket.sendto = real_sendto  # type: ignore[method-assign]
