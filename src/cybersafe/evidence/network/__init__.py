"""Device tests over the network (issue 5): what the running product actually exposes.

Only the host the user names is touched (``target.py``); every connection goes through one rate- and
concurrency-limited session (``session.py``). The collector produces ``NetworkObservations``; the
``network.*`` checks in ``cybersafe.checks.network`` decide verdicts.

The names below import their module on first use: a check reading ``model`` does not load the prober.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cybersafe._lazy import lazy_exports

if TYPE_CHECKING:
    from cybersafe.evidence.network.collector import NetworkCollector as NetworkCollector
    from cybersafe.evidence.network.manual import MANUAL_TESTS as MANUAL_TESTS
    from cybersafe.evidence.network.manual import ManualTest as ManualTest
    from cybersafe.evidence.network.model import NetworkObservations as NetworkObservations
    from cybersafe.evidence.network.probe import run_probe as run_probe
    from cybersafe.evidence.network.session import DEFAULT_PORTS as DEFAULT_PORTS
    from cybersafe.evidence.network.session import ProbeSettings as ProbeSettings

_EXPORTS = {
    "DEFAULT_PORTS": "session",
    "MANUAL_TESTS": "manual",
    "ManualTest": "manual",
    "NetworkCollector": "collector",
    "NetworkObservations": "model",
    "ProbeSettings": "session",
    "run_probe": "probe",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)
