"""The probe against real servers that grant access without credentials, throttle with a fixed delay or break
TLS handshakes; a probe that cannot hang and keeps to its budget; IPv4-mapped targets.

Servers: Debian's busybox telnetd (``-l /bin/sh``) and vsftpd, openssl s_server with a huge certificate chain,
a malformed TLS responder (tests/evidence/network/conftest.py), a telnet option flooder and listeners that
accept and never answer, all on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from _network_servers import HOST, LoopThread, start_tcp, telnet_flood_handler
from tests.support import dossier

from cybersafe.checks.interface import run_check
from cybersafe.checks.network import CHECKS
from cybersafe.evidence.interface import Evidence
from cybersafe.evidence.network.model import DeclaredPort, NetworkObservations
from cybersafe.evidence.network.probe import run_probe
from cybersafe.evidence.network.session import ProbeSession, ProbeSettings
from cybersafe.verdict import Verdict

pytestmark = pytest.mark.slow

CHECKS_BY_ID = {check.ID: check for check in CHECKS}


def _attempt(observations: NetworkObservations, check_id: str) -> Any:
    evidence = Evidence(dossier=dossier())
    evidence.add(observations)
    return run_check(CHECKS_BY_ID[check_id](), evidence)


def _at(attempt: Any, port: int) -> Any:
    (finding,) = [f for f in attempt.findings if f.locations and f.locations[0].port == port]
    return finding


# --- access without credentials -------------------------------------------------------------------------------


def test_busybox_telnetd_shell_fails_the_authentication_checks(
    open_observations: NetworkObservations, open_device: Any
) -> None:
    # Given Debian's busybox telnetd started with -l /bin/sh (a root shell, no login at all)
    port = open_device.tcp["telnet-shell"]
    (access,) = [a for a in open_observations.hosts[0].access if a.port == port]
    # Then the probe saw a shell run its harmless command, without sending any credential
    assert access.outcome == "granted" and "printed cybersafe-42049-probe" in access.evidence
    # And both authentication checks fail on it, naming the port
    login = _at(_attempt(open_observations, "network.login-without-credentials"), port)
    assert login.verdict is Verdict.FAIL and str(login.severity) == "critical"
    default = _at(_attempt(open_observations, "network.default-credentials"), port)
    assert default.verdict is Verdict.FAIL and "without asking for any credential" in default.message
    # and no credential list was spent on a service without a login
    assert port not in {t.port for t in open_observations.hosts[0].credentials}


def test_anonymous_ftp_login_fails(open_observations: NetworkObservations, open_device: Any) -> None:
    # Given vsftpd with anonymous_enable=YES
    port = open_device.tcp["ftp-anonymous"]
    finding = _at(_attempt(open_observations, "network.login-without-credentials"), port)
    # Then the check fails, quoting the server's reply
    assert finding.verdict is Verdict.FAIL
    assert "USER anonymous" in finding.message and "230 Login successful." in finding.message


def test_ftp_that_refuses_anonymous_passes_that_check(open_observations: NetworkObservations, open_device: Any) -> None:
    port = open_device.tcp["ftp-delay"]
    finding = _at(_attempt(open_observations, "network.login-without-credentials"), port)
    assert finding.verdict is Verdict.PASS and "530" in finding.message


# --- a fixed delay after failed logins ---------------------------------------------------------------------------


def test_fixed_delay_after_failed_logins_is_throttling_with_its_length(
    open_observations: NetworkObservations, open_device: Any
) -> None:
    # Given vsftpd answering every failed login after delay_failed_login (plus PAM's own failure delay)
    port = open_device.tcp["ftp-delay"]
    (observation,) = [o for o in open_observations.hosts[0].throttling if o.port == port]
    # Then the delay is measured against the same service's greeting and reported with its length
    assert observation.outcome == "throttled", observation.evidence
    assert observation.baseline_s is not None and observation.baseline_s < 0.5
    assert observation.fixed_delay_s is not None and observation.fixed_delay_s >= 1.0
    assert f"a fixed delay of about {observation.fixed_delay_s:.1f} s" in observation.evidence
    finding = _at(_attempt(open_observations, "network.brute-force-protection"), port)
    assert finding.verdict is Verdict.PASS and finding.facts["fixed_delay_s"] == observation.fixed_delay_s
    # while the anonymous-only server, which answers at once, is not throttled
    fast = _at(_attempt(open_observations, "network.brute-force-protection"), open_device.tcp["ftp-anonymous"])
    assert fast.verdict is Verdict.FAIL and "no lockout or slow-down" in fast.message


# --- TLS handshakes that fail --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "reason"),
    [
        pytest.param("tls-huge-chain", "EXCESSIVE_MESSAGE_SIZE", id="huge-chain"),
        pytest.param("tls-malformed", "TLS handshake failed", id="malformed"),
    ],
)
def test_tls_handshake_failure_is_a_gap_and_tls_checks_are_inconclusive(
    open_observations: NetworkObservations, open_device: Any, role: str, reason: str
) -> None:
    # Given an open port that answers in TLS but whose handshake fails
    port = open_device.tcp[role]
    host = open_observations.hosts[0]
    (seen,) = [p for p in host.open_ports if p.port == port]
    # Then it is known as a TLS service, the failure is recorded, and no TLS check passes or skips it
    assert seen.tls and seen.service == "tls" and reason in (seen.tls_error or "")
    assert any(text.startswith(f"tls://{HOST}:{port}") and reason in text for text in host.reachability.incomplete)
    for check_id in ("network.tls-legacy-protocol", "network.tls-weak-cipher", "network.tls-certificate"):
        finding = _at(_attempt(open_observations, check_id), port)
        assert finding.verdict is Verdict.INCONCLUSIVE, (check_id, finding.message)
        assert "the probe's own handshake" in finding.message


# --- nothing hangs, and the budget holds ----------------------------------------------------------------------


@pytest.fixture
def loop_thread() -> Iterator[LoopThread]:
    loop = LoopThread()
    yield loop
    loop.stop()


def _run_with_deadline(work: Any, seconds: float) -> Any:
    """Run ``work`` on a thread; fail the test (instead of hanging the suite) when it is still running."""
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(work()), daemon=True)
    began = time.monotonic()
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    return result[0], time.monotonic() - began


def test_telnet_peer_flooding_negotiation_and_never_reading_cannot_hang_the_probe(loop_thread: LoopThread) -> None:
    # Given a telnet peer that floods option negotiation and never reads what it is sent
    server, port = loop_thread.run(start_tcp(telnet_flood_handler()))  # type: ignore[misc]
    loop_thread.closers.append(server.close)
    settings = ProbeSettings(ports=(port,), connect_timeout=1, read_timeout=1, banner_timeout=0.3, udp=False,
                             credentials_budget=2, throttle_attempts=2, login_timeout=2, budget_s=60)  # fmt: skip
    # When it is probed
    observations, took = _run_with_deadline(lambda: run_probe(HOST, settings), 45)
    # Then the probe ends on its own, and nothing on that port passes
    host = observations.hosts[0]
    assert took < 30
    assert [a.outcome for a in host.access] == ["error"]
    for check_id in ("network.default-credentials", "network.login-without-credentials"):
        assert _attempt(observations, check_id).verdict is Verdict.INCONCLUSIVE


def test_a_write_to_a_peer_that_never_reads_times_out() -> None:
    # Given a peer that accepts and never reads
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    async def flood() -> float:
        session = ProbeSession(HOST, ProbeSettings(read_timeout=0.5))
        began = time.monotonic()
        async with session.connect(port) as (_reader, writer):
            with pytest.raises(TimeoutError):
                for _ in range(64):  # 64 MiB: far past what loopback buffers hold
                    await session.send(writer, b"\xff" * (1 << 20))
        return time.monotonic() - began

    try:
        took = asyncio.run(asyncio.wait_for(flood(), 20))
    finally:
        listener.close()
    # Then the write gave up after the read timeout instead of blocking forever
    assert took < 10


def test_probe_keeps_to_its_budget_and_records_the_stop() -> None:
    # Given ports that accept connections and never say anything (each costs several timeouts to identify)
    listeners = []
    for _ in range(6):
        sock = socket.socket()
        sock.bind((HOST, 0))
        sock.listen(16)
        listeners.append(sock)
    ports = tuple(s.getsockname()[1] for s in listeners)
    settings = ProbeSettings(ports=ports, connect_timeout=1, read_timeout=3, banner_timeout=1, udp=False,
                             concurrency=2, budget_s=2.0)  # fmt: skip
    declared = tuple(DeclaredPort(p, "tcp", "unknown") for p in ports)
    try:
        # When the probe's budget is 2 s
        observations, took = _run_with_deadline(lambda: run_probe(HOST, settings, declared_ports=declared), 30)
    finally:
        for sock in listeners:
            sock.close()
    # Then it stops near its budget, says where, and no network check passes or reads not_applicable
    reach = observations.hosts[0].reachability
    assert took < 2.0 + 3.5, took
    assert (
        reach.budget_stop is not None
        and "probe budget of 2 s used up during service identification" in reach.budget_stop
    )
    assert "not run:" in reach.budget_stop and reach.budget_stop in reach.incomplete
    assert {p.port for p in observations.hosts[0].open_ports} == set(ports)  # what was seen is kept
    for check in CHECKS:
        assert _attempt(observations, check.ID).verdict in (Verdict.INCONCLUSIVE, Verdict.FAIL), check.ID


def test_ipv4_mapped_target_is_probed_as_its_ipv4_host(strong_device: Any) -> None:
    settings = strong_device.settings(ports=(strong_device.tcp["http"],), credentials=False, udp=False)
    observations = run_probe(f"::ffff:{HOST}", settings)
    (host,) = observations.hosts
    assert observations.target == f"::ffff:{HOST}" and host.address == HOST
    assert [p.port for p in host.open_ports] == [strong_device.tcp["http"]]
