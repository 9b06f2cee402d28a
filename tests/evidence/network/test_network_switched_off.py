"""The bundled example product assessed with its test device switched on and switched off.

Switched on: the simulated camera of ``cybersafe demo`` (src/cybersafe/demo/device.py) on its own loopback
address. Switched off: the same dossier with the device address pointed at a loopback address where nothing
listens, so every declared port answers with a reset. A scheme that needs device evidence must never be met
on the silence of a switched-off device.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support import NOW, ClosedPort

from cybersafe.assess import AssessmentRun, assess, builtin_collectors
from cybersafe.demo import example_dir
from cybersafe.demo.device import SimulatedCamera
from cybersafe.demo.product import prepare_example
from cybersafe.evidence.network.collector import NetworkCollector
from cybersafe.evidence.network.session import ProbeSettings
from cybersafe.schemes.catalog import iter_leaves
from cybersafe.schemes.interface import LeafKind
from cybersafe.schemes.status import SchemeStatus
from cybersafe.verdict import Verdict

pytestmark = pytest.mark.slow

OFF_ADDRESS = "127.88.0.9"  # a loopback address of its own: nothing of this machine listens there


def _assess(work: Path, device: dict[str, object]) -> AssessmentRun:
    product = prepare_example(example_dir(), work, device=device)
    # Only the declared and listed ports are probed, so other services of this machine never show up.
    collectors = [c for c in builtin_collectors() if c.NAME != "device"]
    collectors.append(NetworkCollector(ProbeSettings(ports=(), connect_timeout=1.0, udp=False)))
    return assess(product.dossier, now=NOW, collectors=collectors)


def _needs_device(run: AssessmentRun, scheme_key: str) -> bool:
    """Whether a scheme's requirements that apply on the assessment date reach any network.* check (directly or
    through other requirements); a requirement that applies only later (the CRA's Annex I) cannot decide today."""
    catalog = run.catalog
    result = next(r for r in run.results if r.scheme.key == scheme_key)
    stack = [r.requirement for r in result.requirements if r.applies]
    seen: set[str] = set()
    while stack:
        requirement = stack.pop()
        if requirement.key in seen:
            continue
        seen.add(requirement.key)
        for leaf in iter_leaves(requirement.verified_by):
            if leaf.kind is LeafKind.CHECK and leaf.ref.startswith("network."):
                return True
            if leaf.kind is LeafKind.REQUIREMENT:
                stack.append(catalog.requirement(leaf.ref))
    return False


def test_switched_off_device_makes_every_scheme_that_needs_it_incomplete(tmp_path: Path) -> None:
    # Given the example product assessed with its (simulated) device switched on
    with SimulatedCamera() as camera:
        on = _assess(tmp_path / "on", camera.device_artefact())
    met_on = {r.scheme.key for r in on.results if r.status == SchemeStatus.MEETS}
    # When the same dossier points at a device that is switched off (every declared port closed)
    with ClosedPort(host=OFF_ADDRESS) as closed:
        off = _assess(tmp_path / "off", {"host": OFF_ADDRESS, "ports": [closed.port]})
    # Then no network check passes or reads not_applicable: each is inconclusive and says why
    network = {key: attempt for key, attempt in off.attempts.items() if key.startswith("network.")}
    assert network and {a.verdict for a in network.values()} == {Verdict.INCONCLUSIVE}
    for attempt in network.values():
        assert all("answered on none of its declared ports" in f.message for f in attempt.findings), attempt
    # And every scheme that needs device evidence and was met with the device on is incomplete now,
    # while no scheme that needs the device is met
    needs_device = {r.scheme.key for r in off.results if r.scheme.modelled and _needs_device(off, r.scheme.key)}
    statuses = {r.scheme.key: r.status for r in off.results}
    assert met_on & needs_device, "the example meets some scheme with its device on"
    for key in met_on & needs_device:
        assert statuses[key] == SchemeStatus.INCOMPLETE, (key, statuses[key])
    assert not any(statuses[key] == SchemeStatus.MEETS for key in needs_device), statuses
