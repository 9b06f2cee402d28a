"""Device tests over the network (issue 5): what the running product actually exposes.

Only the host the user names is touched (``target.py``); every connection goes through one rate- and
concurrency-limited session (``session.py``). The collector produces ``NetworkObservations``; the
``network.*`` checks in ``cybersafe.checks.network`` decide verdicts.
"""

from __future__ import annotations

from cybersafe.evidence.network.collector import NetworkCollector
from cybersafe.evidence.network.manual import MANUAL_TESTS, ManualTest
from cybersafe.evidence.network.model import NetworkObservations
from cybersafe.evidence.network.probe import run_probe
from cybersafe.evidence.network.session import DEFAULT_PORTS, ProbeSettings

__all__ = [
    "DEFAULT_PORTS",
    "MANUAL_TESTS",
    "ManualTest",
    "NetworkCollector",
    "NetworkObservations",
    "ProbeSettings",
    "run_probe",
]
