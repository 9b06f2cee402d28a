"""Two simulated devices on 127.0.0.1, each probed once per session, plus a blackhole for the unreachable case.

weak device: openssl s_server (TLS 1.0-1.3, every cipher, expired 1024-bit certificate), sshd with weak
algorithms and password authentication, a telnet server and an HTTP basic-auth page that accept admin/admin
and never lock out, an FTP server that locks out after 3 failures, a configuration page that leaks a Wi-Fi
key, and SSDP + mDNS responders whose UPnP description carries a serial number.

strong device: Python ssl (TLS 1.2+, ECDHE AEAD only, valid P-256 certificate) serving HTTPS basic auth that
locks out after 3 failures, a plain-HTTP port that only redirects to HTTPS, and sshd with modern algorithms and
public-key authentication only.

open device: Debian's busybox telnetd giving a shell without any login (``-l /bin/sh``), vsftpd accepting
anonymous logins, vsftpd with local logins that answers each failed login after a fixed delay
(``delay_failed_login``), openssl s_server with a certificate chain far past 100 KiB, and a TLS port that
answers with a malformed handshake.

The repository-wide guard in tests/conftest.py refuses any packet outside 127.0.0.0/8.
"""

from __future__ import annotations

import dataclasses
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _network_servers import (
    HOST,
    Blackhole,
    HttpConfig,
    LoginPolicy,
    LoopThread,
    ftp_handler,
    malformed_tls_handler,
    mdns_reply,
    ssdp_reply,
    start_blackhole,
    start_busybox_telnetd,
    start_http,
    start_openssl_huge_chain,
    start_openssl_weak,
    start_sshd,
    start_tcp,
    start_udp,
    start_vsftpd,
    strong_tls_context,
    telnet_handler,
    tools_available,
)
from tests.support import ClosedPort, free_port

from cybersafe.evidence.network.model import DeclaredPort, NetworkObservations
from cybersafe.evidence.network.probe import run_probe
from cybersafe.evidence.network.session import ProbeSettings

LEAKED_CONFIG = b"# camera configuration\nwifi_ssid=home\nwifi_psk=hunter2-secret\n"
UPNP_DESCRIPTION = (
    b'<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device>'
    b"<friendlyName>Test Camera</friendlyName><modelName>TC-1</modelName>"
    b"<serialNumber>SN-00042-XYZ</serialNumber></device></root>"
)


@dataclass
class Device:
    name: str
    tcp: dict[str, int] = field(default_factory=dict)  # role -> port
    udp: dict[str, int] = field(default_factory=dict)
    declared: tuple[DeclaredPort, ...] = ()
    closed_port: int = 0
    policies: tuple[LoginPolicy, ...] = ()

    def reset(self) -> None:
        """Forget earlier failed logins: every probe starts on a device that has not locked anyone out."""
        for policy in self.policies:
            policy.failures = 0

    def settings(self, **overrides: object) -> ProbeSettings:
        base = ProbeSettings(
            ports=(*self.tcp.values(), self.closed_port),
            connect_timeout=2.0,
            read_timeout=2.0,
            banner_timeout=0.6,
            rate=200.0,
            concurrency=16,
            credentials_budget=5,
            throttle_attempts=6,
            ssdp_port=self.udp.get("ssdp", free_port(socket.SOCK_DGRAM)),
            mdns_port=self.udp.get("mdns", free_port(socket.SOCK_DGRAM)),
        )
        return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def network_tools() -> None:
    missing = tools_available()
    if missing:
        pytest.fail(f"network tests need {', '.join(missing)} (make install-test-deps)")


@pytest.fixture(scope="session")
def server_loop() -> Iterator[LoopThread]:
    loop = LoopThread()
    yield loop
    loop.stop()


def _udp_apart(server_loop: LoopThread, reply: Any, taken: set[int]) -> tuple[Any, int]:
    """A UDP responder on a port number no other role of the device has. TCP and UDP port numbers are apart in
    the kernel, so an ephemeral UDP port can equal a TCP one; the recordings name each port by its role, and a
    shared number would be read as the wrong role (a flaky undeclared-service finding)."""
    for _ in range(50):
        transport, port = server_loop.run(start_udp(reply))  # type: ignore[misc]
        if port not in taken:
            taken.add(port)
            return transport, port
        server_loop.loop.call_soon_threadsafe(transport.close)
    raise RuntimeError("no UDP port apart from the device's other ports")


def _port_apart(taken: set[int]) -> ClosedPort:
    """A closed TCP port whose number no role of the device has, held closed until the device stops."""
    for _ in range(50):
        closed = ClosedPort()
        if closed.port not in taken:
            taken.add(closed.port)
            return closed
        closed.close()
    raise RuntimeError("no closed port apart from the device's other ports")


@pytest.fixture(scope="session")
def weak_device(
    network_tools: None, server_loop: LoopThread, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Device]:
    directory = tmp_path_factory.mktemp("weak-device")
    tls = start_openssl_weak(directory)
    sshd = start_sshd(directory, weak=True)
    telnet_policy, ftp_policy, http_policy = (
        LoginPolicy({("admin", "admin")}),
        LoginPolicy(set(), lockout_after=3),
        LoginPolicy({("admin", "admin")}),
    )
    telnet_server, telnet_port = server_loop.run(start_tcp(telnet_handler(telnet_policy)))  # type: ignore[misc]
    ftp_server, ftp_port = server_loop.run(start_tcp(ftp_handler(ftp_policy)))  # type: ignore[misc]
    http = start_http(
        HttpConfig(
            basic_auth=http_policy,
            pages={
                "/config": (200, "text/plain", LEAKED_CONFIG),
                "/desc.xml": (200, "text/xml", UPNP_DESCRIPTION),
            },
        )
    )
    tcp = {"tls": tls.port, "ssh": sshd.port, "telnet": telnet_port, "ftp": ftp_port, "http": http.port}
    taken = set(tcp.values())
    ssdp, ssdp_port = _udp_apart(server_loop, ssdp_reply(f"http://{HOST}:{http.port}/desc.xml"), taken)
    mdns, mdns_port = _udp_apart(server_loop, mdns_reply, taken)
    closed = _port_apart(taken)
    server_loop.closers.extend([telnet_server.close, ftp_server.close, ssdp.close, mdns.close])
    device = Device(
        "weak",
        tcp=tcp,
        udp={"ssdp": ssdp_port, "mdns": mdns_port},
        declared=(DeclaredPort(http.port, "tcp", "http"), DeclaredPort(tls.port, "tcp", "https")),
        closed_port=closed.port,
        policies=(telnet_policy, ftp_policy, http_policy),
    )
    try:
        yield device
    finally:
        http.stop()
        tls.stop()
        sshd.stop()
        closed.close()


@pytest.fixture(scope="session")
def strong_device(network_tools: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Device]:
    directory = tmp_path_factory.mktemp("strong-device")
    https_policy = LoginPolicy({("owner", "a-unique-per-device-secret")}, lockout_after=3)
    https = start_http(
        HttpConfig(
            basic_auth=https_policy,
            landing=b"<html><head><title>Camera</title></head><body>status ok</body></html>",
        ),
        tls=strong_tls_context(directory),
    )
    redirect = start_http(HttpConfig(redirect_to=f"https://{HOST}:{https.port}/"))
    sshd = start_sshd(directory, weak=False)
    closed = ClosedPort()
    device = Device(
        "strong",
        tcp={"https": https.port, "http": redirect.port, "ssh": sshd.port},
        declared=(
            DeclaredPort(https.port, "tcp", "https"),
            DeclaredPort(redirect.port, "tcp", "http"),
            DeclaredPort(sshd.port, "tcp", "ssh"),
        ),
        closed_port=closed.port,
        policies=(https_policy,),
    )
    try:
        yield device
    finally:
        https.stop()
        redirect.stop()
        sshd.stop()
        closed.close()


@pytest.fixture(scope="session")
def open_device(
    network_tools: None, server_loop: LoopThread, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Device]:
    directory = tmp_path_factory.mktemp("open-device")
    shell = start_busybox_telnetd("/bin/sh")
    anonymous = start_vsftpd(directory, anonymous=True)
    delayed = start_vsftpd(directory, anonymous=False, delay_failed_login=1)
    huge = start_openssl_huge_chain(directory)
    malformed, malformed_port = server_loop.run(start_tcp(malformed_tls_handler()))  # type: ignore[misc]
    server_loop.closers.append(malformed.close)
    tcp = {
        "telnet-shell": shell.port,
        "ftp-anonymous": anonymous.port,
        "ftp-delay": delayed.port,
        "tls-huge-chain": huge.port,
        "tls-malformed": malformed_port,
    }
    closed = ClosedPort()
    device = Device(
        "open",
        tcp=tcp,
        declared=tuple(DeclaredPort(port, "tcp", role) for role, port in tcp.items()),
        closed_port=closed.port,
    )
    try:
        yield device
    finally:
        for process in (shell, anonymous, delayed, huge):
            process.stop()
        closed.close()


@pytest.fixture(scope="session")
def open_observations(open_device: Device) -> NetworkObservations:
    settings = open_device.settings(credentials_budget=2, throttle_attempts=3)
    return run_probe(HOST, settings, declared_ports=open_device.declared)


@pytest.fixture(scope="session")
def weak_observations(weak_device: Device) -> NetworkObservations:
    weak_device.reset()
    return run_probe(HOST, weak_device.settings(), declared_ports=weak_device.declared)


@pytest.fixture(scope="session")
def strong_observations(strong_device: Device) -> NetworkObservations:
    strong_device.reset()
    return run_probe(HOST, strong_device.settings(), declared_ports=strong_device.declared)


@pytest.fixture
def blackhole() -> Iterator[Blackhole]:
    hole = start_blackhole()
    yield hole
    hole.stop()
