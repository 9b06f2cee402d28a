"""Network probe benchmark: a full probe of one loopback host running 5 services, figures from the same run.

Services (real servers on 127.0.0.1, the same ones the tests use): openssl s_server with every protocol and
cipher, sshd with weak algorithms and passwords, a telnet server, an FTP server that locks out after 3
failures, an HTTP basic-auth server. The probe scans the default port list plus the 5 service ports, then
identifies services, scans TLS (sslyze), audits SSH (ssh-audit), reads the web pages, asks SSDP and mDNS,
tries default credentials and the brute-force run.

Figures: wall time of the full probe (target <= 30 s), TCP connections it made, and as baseline a plain
sequential blocking connect() scan of the same port list, timed in the same run; also the probe's own
asyncio connect-scan step on its own. Connections are counted exactly for everything that runs inside
this process (asyncio streams and sslyze's sockets, by wrapping socket.connect); ssh and ssh-audit run as
subprocesses and are counted per run (ssh-audit opens a few connections per run).

    .venv/bin/python bench/probe.py [--out bench/results/probe.md]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import platform
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests" / "evidence" / "network"))

from _network_servers import (  # noqa: E402
    HOST,
    HttpConfig,
    LoginPolicy,
    LoopThread,
    ftp_handler,
    start_http,
    start_openssl_weak,
    start_sshd,
    start_tcp,
    telnet_handler,
)

from cybersafe.evidence.network.probe import run_probe  # noqa: E402
from cybersafe.evidence.network.scan import connect_scan  # noqa: E402
from cybersafe.evidence.network.session import DEFAULT_PORTS, ProbeSession, ProbeSettings  # noqa: E402
from cybersafe.evidence.network.throttle import BASELINE_ROUNDS  # noqa: E402


class ConnectCounter:
    """Counts connect() calls made by this process (asyncio and sslyze both go through socket.connect)."""

    def __init__(self) -> None:
        self.count = 0
        self._real = socket.socket.connect

    def __enter__(self) -> ConnectCounter:
        real = self._real
        counter = self

        def connect(sock: socket.socket, address: Any) -> None:
            counter.count += 1
            real(sock, address)

        socket.socket.connect = connect  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        socket.socket.connect = self._real  # type: ignore[method-assign]


def sequential_scan(ports: tuple[int, ...], timeout: float) -> tuple[float, int]:
    began = time.perf_counter()
    open_ports = 0
    for port in ports:
        with socket.socket() as sock:
            sock.settimeout(timeout)
            if sock.connect_ex((HOST, port)) == 0:
                open_ports += 1
    return time.perf_counter() - began, open_ports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "probe.md")
    args = parser.parse_args()

    loop = LoopThread()
    with tempfile.TemporaryDirectory(prefix="cybersafe-bench-probe-") as tmp:
        directory = Path(tmp)
        tls = start_openssl_weak(directory)
        sshd = start_sshd(directory, weak=True)
        telnet_server, telnet_port = loop.run(start_tcp(telnet_handler(LoginPolicy({("admin", "admin")}))))  # type: ignore[misc]
        ftp_server, ftp_port = loop.run(start_tcp(ftp_handler(LoginPolicy(set(), lockout_after=3))))  # type: ignore[misc]
        http = start_http(HttpConfig(basic_auth=LoginPolicy({("admin", "admin")})))
        loop.closers.extend([telnet_server.close, ftp_server.close])
        service_ports = (tls.port, sshd.port, telnet_port, ftp_port, http.port)
        ports = tuple(dict.fromkeys((*DEFAULT_PORTS, *service_ports)))
        settings = ProbeSettings(ports=ports)
        try:
            baseline_s, baseline_open = sequential_scan(ports, settings.connect_timeout)

            async def scan_only() -> float:
                session = ProbeSession(HOST, settings)
                began = time.perf_counter()
                await connect_scan(session, ports)
                return time.perf_counter() - began

            asyncio_scan_s = asyncio.run(scan_only())

            with ConnectCounter() as counter:
                began = time.perf_counter()
                observations = run_probe(HOST, settings)
                probe_s = time.perf_counter() - began
        finally:
            http.stop()
            tls.stop()
            sshd.stop()
            loop.stop()

    host = observations.hosts[0]
    reach = host.reachability
    # ssh-audit and the auth-method query per SSH port, the baseline (the auth-method query, BASELINE_ROUNDS
    # times), then one ssh client per login attempt (the brute-force run's count includes the default-credential
    # attempts that started it)
    ssh_throttled = [o for o in host.throttling if o.protocol == "ssh"]
    ssh_runs = len(host.ssh) * 2 + sum(o.attempts + BASELINE_ROUNDS for o in ssh_throttled)
    lines = [
        "# Network probe benchmark",
        "",
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, Python {platform.python_version()}, "
        "loopback, 2 shared cores (other work ran at the same time).",
        "",
        f"Host 127.0.0.1 with 5 services (weak TLS, weak SSH, telnet, FTP, HTTP basic auth); port list = the "
        f"{len(DEFAULT_PORTS)} default ports + the 5 service ports = {len(ports)} TCP ports; default settings "
        f"(concurrency {settings.concurrency}, rate {settings.rate:g} connections/s, default credentials: "
        f"{'the whole list' if settings.credentials_budget is None else f'the first {settings.credentials_budget}'} "
        f"within {settings.credentials_time_s:g} s per login service, {settings.throttle_attempts} brute-force "
        "attempts).",
        "",
        "| figure | value |",
        "| --- | --- |",
        f"| full probe, wall time (target <= 30 s) | **{probe_s:.1f} s** |",
        f"| the probe's own wall-clock budget (default) | {settings.budget_s:g} s, "
        f"{'cut: ' + reach.budget_stop if reach.budget_stop else 'not reached'} |",
        f"| baseline: sequential blocking connect() scan of the same {len(ports)} ports | {baseline_s * 1000:.1f} ms ({baseline_open} open) |",
        f"| the probe's own asyncio connect scan of the same ports | {asyncio_scan_s * 1000:.1f} ms |",
        f"| full probe / sequential connect scan | {probe_s / baseline_s:.0f}x |",
        f"| TCP connect() calls made in-process (asyncio + sslyze) | {counter.count} |",
        f"| connections through the probe session (scan, banners, HTTP, telnet, FTP, tool runs) | {reach.connections} |",
        f"| ssh / ssh-audit subprocess runs | {ssh_runs} |",
        f"| UDP datagrams sent (SSDP, mDNS, unicast to the host only) | {reach.udp_datagrams} |",
        f"| open ports found | {reach.open_ports} |",
        "",
        "A sequential connect scan is milliseconds on loopback; the probe's own scan is paced on purpose by the",
        f"rate limit ({settings.rate:g} new connections/s: {len(ports)} ports take about {len(ports) / settings.rate:.1f} s).",
        "The rest of the time goes into what a port scan does not do: sslyze's cipher-suite enumeration (most of",
        "the in-process connects: one handshake per suite, SSL 2.0 to TLS 1.3), ssh-audit, one ssh client",
        "process per SSH login attempt, the telnet/FTP/HTTP logins (with the anonymous FTP login and the",
        "no-credential telnet connection) and the brute-force run, with its baseline exchanges.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
