"""The built-in collectors, in the order they run (the SBOM before vulnerability matching).

Imported lazily so that `cybersafe schemes` does not pay for unblob, sslyze and friends.
"""

from __future__ import annotations

from collections.abc import Callable

from cybersafe.evidence.interface import Collector


def _firmware() -> Collector:
    from cybersafe.evidence.firmware.collector import FirmwareCollector

    return FirmwareCollector()


def _sbom() -> Collector:
    from cybersafe.evidence.sbom.collector import SbomCollector

    return SbomCollector()


def _vulnerabilities() -> Collector:
    from cybersafe.evidence.vulndb.collector import VulnerabilityCollector

    return VulnerabilityCollector()


def _device() -> Collector:
    from cybersafe.evidence.network.collector import NetworkCollector

    return NetworkCollector()


BUILTIN_COLLECTORS: tuple[Callable[[], Collector], ...] = (_firmware, _sbom, _vulnerabilities, _device)
