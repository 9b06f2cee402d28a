"""The network integration cases hold on the live simulated devices, not only on their recordings.

The network cases (tests/integration/network/) run on what the probe recorded from the simulated devices of
conftest.py: ``tests/integration/network/__recordings__/<device>.json``, each server's port replaced by a fixed
number per role so that findings name stable locations. Here every case that runs on a recording runs again on
a fresh probe of the same device, with the same expected output. ``CYBERSAFE_UPDATE_GOLDEN=1`` re-records
(review the diff: a recording is the evidence the cases rest on).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from _network_servers import HOST, start_blackhole
from tests.integration.cases import RECORDINGS, Case, assert_outcome, discover, run_case
from tests.support import ClosedPort, dossier, updating_golden

from cybersafe.assess import collect
from cybersafe.checks import BUILTIN_CHECKS
from cybersafe.evidence.interface import Evidence, NullProgressReporter
from cybersafe.evidence.network.collector import NetworkCollector
from cybersafe.evidence.network.model import NetworkObservations
from cybersafe.evidence.network.session import ProbeSettings

pytestmark = pytest.mark.slow

# The port each role's server has in a recording (the live servers get free ports at run time).
CANONICAL_PORTS = {
    "ftp": 2121,
    "ssh": 2222,
    "telnet": 2323,
    "tls": 4433,
    "http": 8080,
    "https": 8443,
    "ssdp": 1900,
    "mdns": 5353,
    "closed": 7,
    "blackhole": 9,
    "telnet-shell": 2324,
    "ftp-anonymous": 2122,
    "ftp-delay": 2123,
    "tls-huge-chain": 4434,
    "tls-malformed": 4435,
}
OFF_ADDRESS = "127.88.0.10"  # a loopback address of its own: nothing listens there


def _recorded_cases() -> list[tuple[str, Case]]:
    out = []
    for case in discover():
        network = case.inputs / "network.json"
        if network.is_file():
            recording = json.loads(network.read_text(encoding="utf-8")).get("recording")
            if recording:
                out.append((recording, case))
    return out


def canonical(document: dict[str, Any], ports: dict[str, int]) -> dict[str, Any]:
    """``document`` with each live port replaced by its role's fixed number, wherever it appears (fields,
    settings, URLs in banners and answers)."""
    text = json.dumps(document, sort_keys=True)
    for role, port in ports.items():
        text = re.sub(rf"(?<![\d.]){port}(?!\d)", str(CANONICAL_PORTS[role]), text)
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _observed(name: str, observations: NetworkObservations, device: Any) -> dict[str, Any]:
    roles = {**device.tcp, **device.udp, "closed": device.closed_port}
    document = {"recorded_from": f"the {name} of tests/evidence/network/conftest.py"}
    return canonical({**document, "observations": dataclasses.asdict(observations)}, roles)


def _collected(recorded_from: str, evidence: Evidence, ports: dict[str, int]) -> dict[str, Any]:
    """What the device collector left in ``evidence``: its observations, or how it failed."""
    document: dict[str, Any] = {"recorded_from": recorded_from}
    failure = evidence.failure(NetworkObservations)
    if failure is not None:
        document["failure"] = {"reason": str(failure.reason), "detail": failure.detail}
    else:
        document["observations"] = dataclasses.asdict(evidence.require(NetworkObservations))
    return canonical(document, ports)


def _unreachable() -> dict[str, Any]:
    hole = start_blackhole()
    try:
        evidence = Evidence(dossier=dossier(artefacts={"device": {"host": HOST}}))
        collector = NetworkCollector(ProbeSettings(ports=(hole.port,), connect_timeout=0.4, udp=False))
        collect(evidence, [collector], NullProgressReporter())
    finally:
        hole.stop()
    return _collected("a port on 127.0.0.1 that drops every SYN", evidence, {"blackhole": hole.port})


def _switched_off() -> dict[str, Any]:
    """A device that is switched off: every declared port answers with a reset (a closed loopback port)."""
    with ClosedPort(host=OFF_ADDRESS) as held:
        closed = held.port
        declared = [{"port": closed, "protocol": "tcp", "service": "https"}]
        evidence = Evidence(
            dossier=dossier(
                artefacts={"device": {"host": OFF_ADDRESS}}, declarations={"interfaces": {"network_ports": declared}}
            )
        )
        collector = NetworkCollector(ProbeSettings(ports=(), connect_timeout=1.0, udp=False))
        collect(evidence, [collector], NullProgressReporter())
    return _collected(f"a dossier declaring a closed port on {OFF_ADDRESS}, as a switched-off device", evidence,
                      {"closed": closed})  # fmt: skip


@pytest.fixture(scope="module")
def live(request: pytest.FixtureRequest) -> Callable[[str], dict[str, Any]]:
    """The recording document of a device, from a fresh probe; written to __recordings__ when updating."""
    cache: dict[str, dict[str, Any]] = {}

    def get(name: str) -> dict[str, Any]:
        if name not in cache:
            if name == "unreachable-device":
                cache[name] = _unreachable()
            elif name == "off-device":
                cache[name] = _switched_off()
            else:
                role = name.removesuffix("-device")
                device = request.getfixturevalue(f"{role}_device")
                cache[name] = _observed(name, request.getfixturevalue(f"{role}_observations"), device)
            if updating_golden():
                path = RECORDINGS / f"{name}.json"
                path.write_text(json.dumps(cache[name], indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return cache[name]

    return get


@pytest.mark.parametrize(
    ("recording", "case"), [pytest.param(name, case, id=case.id) for name, case in _recorded_cases()]
)
def test_case_holds_on_the_live_device(
    recording: str, case: Case, live: Callable[[str], dict[str, Any]], tmp_path: Path
) -> None:
    # Given a fresh probe of the device the case's recording was made from
    document = live(recording)
    # When the case's check runs on it
    attempt = run_case(case, BUILTIN_CHECKS, tmp_path, recordings=lambda name: document)
    # Then the outcome is the one the case expects from the recording
    assert_outcome(attempt, case.expected(), f"{case.id} (live)")


def test_every_recording_is_used_by_some_case() -> None:
    used = {name for name, _ in _recorded_cases()}
    assert {p.stem for p in RECORDINGS.glob("*.json")} == used
