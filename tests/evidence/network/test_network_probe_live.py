"""The probe against real servers on 127.0.0.1: what it observes on the weak and the strong device."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from _network_servers import HOST, Blackhole
from tests.support import dossier

from cybersafe.assess import collect
from cybersafe.checks.interface import run_check
from cybersafe.checks.network import CHECKS
from cybersafe.dossier.model import Dossier
from cybersafe.errors import ProbeTimeout
from cybersafe.evidence.interface import Evidence, NullProgressReporter
from cybersafe.evidence.network.collector import NetworkCollector, settings_for
from cybersafe.evidence.network.model import NetworkObservations
from cybersafe.evidence.network.probe import run_probe
from cybersafe.evidence.network.session import ProbeSession, ProbeSettings
from cybersafe.verdict import ErrorReason, Verdict

pytestmark = pytest.mark.slow


def by_service(observations: NetworkObservations) -> dict[str, Any]:
    return {p.service: p for p in observations.hosts[0].open_ports}


class TestWeakDevice:
    def test_services_are_identified_from_what_they_send(
        self, weak_observations: NetworkObservations, weak_device: Any
    ) -> None:
        services = by_service(weak_observations)
        assert {"https", "ssh", "telnet", "ftp", "http", "ssdp", "mdns"} <= set(services)
        assert services["ssh"].port == weak_device.tcp["ssh"] and services["ssh"].banner.startswith("SSH-2.0-OpenSSH")
        assert services["telnet"].basis == "banner" and "login:" in services["telnet"].banner
        assert services["https"].tls and services["https"].port == weak_device.tcp["tls"]
        reach = weak_observations.hosts[0].reachability
        assert reach.reachable and reach.open_ports == 5 and reach.closed_ports == 1 and not reach.incomplete

    def test_tls_scan_sees_legacy_protocols_and_the_expired_weak_certificate(
        self, weak_observations: NetworkObservations
    ) -> None:
        (tls,) = weak_observations.hosts[0].tls
        assert tls.completed, tls.error
        assert {"TLSv1.0", "TLSv1.1", "TLSv1.2"} <= set(tls.protocols)
        assert any("3DES" in s.name or "RC4" in s.name or not s.forward_secrecy for s in tls.cipher_suites)
        assert tls.certificate is not None and tls.certificate.key_size == 1024 and tls.certificate.self_signed

    def test_ssh_audit_and_auth_methods(self, weak_observations: NetworkObservations) -> None:
        (ssh,) = weak_observations.hosts[0].ssh
        assert ssh.completed, ssh.error
        names = {a.name for a in ssh.algorithms}
        assert {"diffie-hellman-group1-sha1", "3des-cbc", "hmac-md5"} <= names
        assert ssh.auth_methods is not None and "password" in ssh.auth_methods

    def test_default_credentials_and_lockout(self, weak_observations: NetworkObservations) -> None:
        host = weak_observations.hosts[0]
        tests = {t.protocol: t for t in host.credentials}
        assert [(a.username, a.password) for a in tests["telnet"].accepted] == [("admin", "admin")]
        assert [(a.username, a.password) for a in tests["http-basic"].accepted] == [("admin", "admin")]
        assert not tests["ssh"].accepted and all(a.outcome == "rejected" for a in tests["ssh"].attempts)
        assert tests["ftp"].attempts[-1].outcome == "locked"
        throttling = {o.protocol: o.outcome for o in host.throttling}
        assert throttling == {
            "telnet": "not_throttled",
            "http-basic": "not_throttled",
            "ftp": "locked_out",
            "ssh": "not_throttled",
        }

    def test_cleartext_disclosure_and_discovery(self, weak_observations: NetworkObservations) -> None:
        host = weak_observations.hosts[0]
        assert {c.protocol for c in host.cleartext} == {"telnet", "ftp", "http"}
        markers = {(d.protocol, d.source, d.marker) for d in host.disclosures}
        assert ("http", "/config", "password-field") in markers
        assert ("upnp", "/desc.xml", "serial-number") in markers
        assert {a.protocol for a in host.udp} == {"ssdp", "mdns"}


class TestStrongDevice:
    def test_modern_tls_and_ssh_only(self, strong_observations: NetworkObservations) -> None:
        host = strong_observations.hosts[0]
        (tls,) = host.tls
        assert tls.completed and set(tls.protocols) <= {"TLSv1.2", "TLSv1.3"}
        assert all(s.forward_secrecy for s in tls.cipher_suites)
        (ssh,) = host.ssh
        assert ssh.auth_methods == ("publickey",)
        assert not host.disclosures and not host.udp

    def test_https_basic_auth_locks_out(self, strong_observations: NetworkObservations) -> None:
        host = strong_observations.hosts[0]
        assert [t.protocol for t in host.credentials] == ["http-basic"]
        assert not host.credentials[0].accepted
        assert [o.outcome for o in host.throttling] == ["locked_out"]


def test_every_finding_names_host_port_and_protocol(weak_observations: NetworkObservations) -> None:
    evidence = Evidence(dossier=_dossier("127.0.0.1"))
    evidence.add(weak_observations)
    for check in CHECKS:
        attempt = run_check(check(), evidence)
        for finding in attempt.findings:
            if finding.verdict in (Verdict.FAIL, Verdict.PASS) and check.ID != "network.undeclared-services":
                assert finding.locations or "TCP ports of 127.0.0.1" in finding.message, (check.ID, finding.message)
            for location in finding.locations:
                assert location.host == HOST and location.port and location.protocol


# --- unreachable and slow ---------------------------------------------------------------------------------------


def test_unreachable_device_raises_probe_timeout_with_reason(blackhole: Blackhole) -> None:
    # Given a device whose only port drops every connection attempt
    settings = ProbeSettings(ports=(blackhole.port,), connect_timeout=0.5, udp=False)
    # When it is probed
    with pytest.raises(ProbeTimeout) as info:
        run_probe(HOST, settings)
    # Then the error says so in one line and carries the engine's reason
    assert "unreachable" in str(info.value) and "\n" not in str(info.value)
    assert info.value.reason == "probe_unreachable"  # type: ignore[attr-defined]


def test_probe_outside_loopback_sends_nothing_and_is_unreachable() -> None:
    # The suite guard refuses the connect before any packet leaves; the probe records no answer.
    with pytest.raises(ProbeTimeout):
        run_probe("192.0.2.10", ProbeSettings(ports=(80,), connect_timeout=0.3, udp=False))


def test_silent_service_is_open_but_unidentified() -> None:
    # Given a port that accepts connections and then says nothing (a hung device)
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        observations = run_probe(
            HOST, ProbeSettings(ports=(port,), connect_timeout=0.5, read_timeout=0.5, banner_timeout=0.3, udp=False)
        )
    finally:
        stop.set()
        thread.join(2)
        for sock in held:
            sock.close()
        listener.close()
    # Then it is open but unidentified, and nothing passes on it
    (found,) = observations.hosts[0].open_ports
    assert found.service == "unknown" and found.basis == "port-number"


# --- the collector inside the assessment engine ------------------------------------------------------------------


def _dossier(host: str, ports: list[int] | None = None, declared: list[dict[str, Any]] | None = None) -> Dossier:
    return dossier(
        artefacts={"device": {"host": host, "ports": ports or [], "credentials_budget": 2}},
        declarations=None if declared is None else {"interfaces": {"network_ports": declared}},
    )


def test_collector_probes_declared_and_listed_ports(strong_device: Any) -> None:
    # Given a dossier that declares the HTTPS port and lists the SSH port under the device artefact
    declared = [{"port": strong_device.tcp["https"], "protocol": "tcp", "service": "https"}]
    dossier = _dossier(HOST, ports=[strong_device.tcp["ssh"]], declared=declared)
    collector = NetworkCollector(dataclasses.replace(strong_device.settings(), ports=()))
    strong_device.reset()
    assert collector.applies(dossier)
    # When it collects
    result = collector.collect(dossier, Path(), NullProgressReporter())
    # Then both ports were probed, the budget came from the dossier and the declaration travels with the evidence
    (observations,) = result.items
    assert isinstance(observations, NetworkObservations)
    assert {p.port for p in observations.hosts[0].open_ports if p.protocol == "tcp"} == {
        strong_device.tcp["https"],
        strong_device.tcp["ssh"],
    }
    assert observations.declared_ports is not None and observations.declared_ports[0].service == "https"
    assert all(t.budget == 2 for t in observations.hosts[0].credentials)
    assert result.artefacts[0].kind == "device"
    assert settings_for(dossier).credentials_budget == 2


def test_collector_failure_makes_every_network_check_inconclusive(blackhole: Blackhole) -> None:
    # Given a dossier naming a device that never answers
    dossier = _dossier(HOST, ports=[blackhole.port])
    collector = NetworkCollector(ProbeSettings(ports=(), connect_timeout=0.4, udp=False))
    evidence = Evidence(dossier=dossier)
    # When the engine collects and runs the checks
    collect(evidence, [collector], NullProgressReporter())
    attempts = [run_check(check(), evidence) for check in CHECKS]
    # Then every network check is inconclusive for probe_unreachable, none passes
    assert {a.reason for a in attempts} == {ErrorReason.PROBE_UNREACHABLE}
    assert {a.verdict for a in attempts} == {Verdict.INCONCLUSIVE}
    assert any("unreachable" in p.message for p in evidence.problems)


def test_concurrency_and_rate_limits_hold() -> None:
    # Given a listener that counts how many of our connections are open at once
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen(32)
    port = listener.getsockname()[1]
    open_now = 0
    peak = 0
    lock = threading.Lock()
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        nonlocal open_now, peak
        with lock:
            open_now += 1
            peak = max(peak, open_now)
        conn.recv(1)  # returns when the client closes
        with lock:
            open_now -= 1
        conn.close()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()

    client_open = 0
    client_peak = 0

    async def hold(session: ProbeSession) -> None:
        nonlocal client_open, client_peak
        async with session.connect(port):
            client_open += 1
            client_peak = max(client_peak, client_open)
            await asyncio.sleep(0.15)
            client_open -= 1

    async def main() -> ProbeSession:
        session = ProbeSession(HOST, ProbeSettings(concurrency=2, rate=20.0))
        await asyncio.gather(*(hold(session) for _ in range(6)))
        return session

    # When six connections are asked for at once, with at most 2 open and 20 new per second
    began = time.monotonic()
    try:
        session = asyncio.run(main())
    finally:
        time.sleep(0.1)
        stop.set()
        thread.join(2)
        listener.close()
    # Then never more than 2 were open at once, and the starts were spread over at least 5 intervals.
    # (Counted on the probe's side: the device's threads may see a close a moment late on a busy machine.)
    assert session.connections == 6
    assert client_peak <= 2
    assert 1 <= peak <= 6
    assert time.monotonic() - began >= 0.45


def test_tls_scan_that_times_out_makes_tls_checks_inconclusive(
    weak_device: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a TLS port whose scan times out (sslyze gives up on a device that stopped answering)
    def hung(address: str, port: int, **kwargs: Any) -> Any:
        raise TimeoutError("timed out")

    monkeypatch.setattr("cybersafe.evidence.network.probe.scan_tls", hung)
    settings = dataclasses.replace(
        weak_device.settings(), ports=(weak_device.tcp["tls"],), credentials=False, udp=False
    )
    observations = run_probe(HOST, settings)
    evidence = Evidence(dossier=_dossier(HOST))
    evidence.add(observations)
    # When the TLS checks run
    verdicts = {
        check.ID: run_check(check(), evidence).verdict for check in CHECKS if check.ID.startswith("network.tls-")
    }
    # Then none of them passes: each is inconclusive, and the gap is recorded
    assert set(verdicts.values()) == {Verdict.INCONCLUSIVE}, verdicts
    assert any("sslyze failed: TimeoutError" in text for text in observations.hosts[0].reachability.incomplete)


def test_missing_ssh_tools_are_recorded_not_fatal(weak_device: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a machine without the ssh client and ssh-audit on PATH
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr("cybersafe.evidence.network.ssh.ssh_audit_command", lambda: ["/nonexistent/ssh-audit"])
    settings = dataclasses.replace(
        weak_device.settings(), ports=(weak_device.tcp["ssh"],), credentials=False, udp=False
    )
    # When the SSH port is probed
    observations = run_probe(HOST, settings)
    # Then the SSH result says why it is incomplete
    (ssh,) = observations.hosts[0].ssh
    assert not ssh.completed and "could not run" in (ssh.error or "")
    assert ssh.auth_methods is None and "could not run" in (ssh.auth_methods_evidence or "")
