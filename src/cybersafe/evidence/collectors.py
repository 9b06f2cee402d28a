"""The built-in collectors, in the order they run (the SBOM before vulnerability matching).

Imported lazily so that `cybersafe schemes` does not pay for unblob, sslyze and friends.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from cybersafe.errors import EvidenceError
from cybersafe.evidence.interface import Collector, CollectorResult, ProgressReporter
from cybersafe.extras import missing_extra
from cybersafe.verdict import ErrorReason

if TYPE_CHECKING:
    from cybersafe.dossier.model import Dossier
    from cybersafe.evidence.network.session import ProbeSettings


class ExtraNotInstalled(EvidenceError):
    """The evidence needs an optional part of cybersafe that is not installed."""

    reason = ErrorReason.MISSING_EVIDENCE


class _Unavailable:
    """Stands in for a collector whose extra is not installed: the artefact's checks read inconclusive with
    the install hint, never error and never pass."""

    def __init__(self, name: str, produces: tuple[type, ...], applies: Callable[[Dossier], bool], hint: str) -> None:
        self.NAME = name
        self.PRODUCES = produces
        self._applies = applies
        self._hint = hint

    def applies(self, dossier: Dossier) -> bool:
        return self._applies(dossier)

    def collect(self, dossier: Dossier, base_dir: Path, progress: ProgressReporter) -> CollectorResult:
        raise ExtraNotInstalled(self._hint)


def _firmware() -> Collector:
    try:
        from cybersafe.evidence.firmware.collector import FirmwareCollector
    except ImportError as exc:
        return _unavailable(exc, "firmware", "FirmwareInventory", lambda d: d.artefacts.firmware is not None)
    return FirmwareCollector()


def _sbom() -> Collector:
    from cybersafe.evidence.sbom.collector import SbomCollector

    return SbomCollector()


def _vulnerabilities() -> Collector:
    from cybersafe.evidence.vulndb.collector import VulnerabilityCollector

    return VulnerabilityCollector()


def _device() -> Collector:
    return device_collector()


def device_collector(settings: ProbeSettings | None = None, *, add_declared_ports: bool = True) -> Collector:
    """The device probe, or a stand-in that records the missing ``network`` extra."""
    try:
        from cybersafe.evidence.network.collector import NetworkCollector

        _require("sslyze", "ssh_audit")  # imported only when a TLS or SSH port is met: check now, cheaply
    except ImportError as exc:
        return _unavailable(exc, "device", "NetworkObservations", lambda d: d.artefacts.device is not None)
    return NetworkCollector(settings, add_declared_ports=add_declared_ports)


def _require(*modules: str) -> None:
    import importlib.util

    for module in modules:
        if importlib.util.find_spec(module) is None:
            raise ModuleNotFoundError(f"No module named {module!r}", name=module)


def _unavailable(exc: ImportError, name: str, kind: str, applies: Callable[[Dossier], bool]) -> Collector:
    hint = missing_extra(exc)
    if hint is None:
        raise exc
    # The evidence class lives in the module that could not be imported; the model module imports none of
    # the extra's packages, so it is importable on its own.
    produces = _evidence_class(kind)
    return _Unavailable(name, (produces,), applies, f"{name} evidence not collected: {hint}")


def _evidence_class(kind: str) -> type:
    if kind == "FirmwareInventory":
        from cybersafe.evidence.firmware.model import FirmwareInventory

        return FirmwareInventory
    from cybersafe.evidence.network.model import NetworkObservations

    return NetworkObservations


BUILTIN_COLLECTORS: tuple[Callable[[], Collector], ...] = (_firmware, _sbom, _vulnerabilities, _device)
