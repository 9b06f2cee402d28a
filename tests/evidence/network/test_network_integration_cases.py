"""network.* checks, driven by the integration cases in tests/integration/network/<check-id>/cases.json.

Each case names a simulated device (weak, strong, open: real servers on 127.0.0.1; unreachable: a port that
drops every SYN; off: a dossier whose declared port is closed, as on a switched-off device) and the expected
findings: verdict, the server role whose port the finding names, the protocol, and a phrase of the message.
The findings must match exactly, in any order.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _network_servers import HOST, start_blackhole

from cybersafe.assess import collect
from cybersafe.checks.interface import run_check
from cybersafe.checks.network import CHECKS
from cybersafe.dossier.model import Dossier
from cybersafe.evidence.interface import Evidence, NullProgressReporter
from cybersafe.evidence.network.collector import NetworkCollector
from cybersafe.evidence.network.model import NetworkObservations
from cybersafe.evidence.network.session import ProbeSettings

pytestmark = pytest.mark.slow

CASES_DIR = Path(__file__).resolve().parents[2] / "integration" / "network"
CHECKS_BY_ID = {check.ID: check for check in CHECKS}


def _cases() -> Iterator[Any]:
    for path in sorted(CASES_DIR.glob("*/cases.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        assert document["check"] == path.parent.name, f"{path}: check id differs from its directory"
        for case in document["cases"]:
            yield pytest.param(document["check"], case, id=f"{document['check']}:{case['name']}")


OFF_ADDRESS = "127.88.0.10"  # a loopback address of its own: nothing listens there


def _dossier(host: str = HOST, declared: list[dict[str, Any]] | None = None) -> Dossier:
    data: dict[str, Any] = {
        "schema": "cybersafe/dossier/v1",
        "product": {"manufacturer": {"name": "ACME"}, "name": "Cam", "model": "C1"},
        "artefacts": {"device": {"host": host}},
    }
    if declared is not None:
        data["declarations"] = {"interfaces": {"network_ports": declared}}
    return Dossier.model_validate(data)


@pytest.fixture(scope="session")
def unreachable_evidence() -> Evidence:
    hole = start_blackhole()
    try:
        evidence = Evidence(dossier=_dossier())
        collector = NetworkCollector(ProbeSettings(ports=(hole.port,), connect_timeout=0.4, udp=False))
        collect(evidence, [collector], NullProgressReporter())
    finally:
        hole.stop()
    return evidence


@pytest.fixture(scope="session")
def off_evidence() -> Evidence:
    """A device that is switched off: every declared port answers with a reset (a closed loopback port)."""
    with socket.socket() as sock:
        sock.bind((OFF_ADDRESS, 0))
        closed = int(sock.getsockname()[1])
    dossier = _dossier(OFF_ADDRESS, [{"port": closed, "protocol": "tcp", "service": "https"}])
    evidence = Evidence(dossier=dossier)
    collect(
        evidence, [NetworkCollector(ProbeSettings(ports=(), connect_timeout=1.0, udp=False))], NullProgressReporter()
    )
    return evidence


def _order(row: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple("" if value is None else str(value) for value in row[:3])


def test_every_network_check_has_cases() -> None:
    directories = {p.name for p in CASES_DIR.iterdir() if p.is_dir()}
    assert directories == set(CHECKS_BY_ID)


@pytest.mark.parametrize(("check_id", "case"), list(_cases()))
def test_case(check_id: str, case: dict[str, Any], request: pytest.FixtureRequest) -> None:
    # Given the evidence of the named device
    device_name = case["device"]
    if device_name in ("unreachable", "off"):
        evidence = request.getfixturevalue(f"{device_name}_evidence")
        roles: dict[int, str] = {}
    else:
        device = request.getfixturevalue(f"{device_name}_device")
        observations: NetworkObservations = request.getfixturevalue(f"{device_name}_observations")
        evidence = Evidence(dossier=_dossier())
        evidence.add(observations)
        roles = {port: role for role, port in {**device.tcp, **device.udp}.items()}
    # When the check runs
    attempt = run_check(CHECKS_BY_ID[check_id](), evidence)
    # Then the verdict, the reason and the findings are the expected ones
    expected = case["expected"]
    assert str(attempt.verdict) == expected["verdict"], [f.message for f in attempt.findings] or attempt.detail
    if "reason" in expected:
        assert str(attempt.reason) == expected["reason"]
    seen = sorted(
        (
            (
                str(f.verdict),
                roles.get(f.locations[0].port) if f.locations and f.locations[0].port else None,
                f.locations[0].protocol if f.locations else None,
                f.message,
            )
            for f in attempt.findings
        ),
        key=_order,
    )
    wanted = sorted(
        ((f["verdict"], f["port"], f["protocol"], f["message_contains"]) for f in expected["findings"]), key=_order
    )
    assert [s[:3] for s in seen] == [w[:3] for w in wanted], seen
    for got, want in zip(seen, wanted, strict=True):
        assert want[3] in got[3], (want, got[3])
