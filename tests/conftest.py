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
def _no_user_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The suite neither reads nor writes the user's own stores and settings: the default vulnerability database,
    product store, registry and config file live in empty directories of its own (a test that passed only because
    a store happened to exist under ~/.local/share would fail on a clean machine)."""
    home = tmp_path_factory.mktemp("user-dirs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_DATA_HOME", str(home / "data"))
        patch.setenv("XDG_CONFIG_HOME", str(home / "config"))
        for name in ("CYBERSAFE_VULNDB", "CYBERSAFE_PRODUCTS", "CYBERSAFE_DATABASE_URL"):
            patch.delenv(name, raising=False)
        yield


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
