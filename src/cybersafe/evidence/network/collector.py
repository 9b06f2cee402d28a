"""The ``device`` collector: probes ``dossier.artefacts.device.host`` for ``cybersafe assess``."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from cybersafe.evidence.interface import Artefact, CollectorResult, Problem, ProblemSeverity, ProgressReporter
from cybersafe.evidence.network.model import DeclaredPort, NetworkObservations
from cybersafe.evidence.network.probe import run_probe, utc_now
from cybersafe.evidence.network.session import DEFAULT_PORTS, ProbeSettings

if TYPE_CHECKING:
    from cybersafe.dossier.model import Dossier


def declared_ports(dossier: Dossier) -> tuple[DeclaredPort, ...] | None:
    """The ports the dossier declares (IXIT 13-SoftServ / 28-LogIntf); None when it declares no interfaces."""
    interfaces = dossier.declarations.interfaces
    if interfaces is None:
        return None
    return tuple(DeclaredPort(p.port, p.protocol, p.service, p.authenticated) for p in interfaces.network_ports)


def settings_for(dossier: Dossier, base: ProbeSettings | None = None) -> ProbeSettings:
    """Default ports plus every declared port and every port the device artefact lists."""
    settings = base or ProbeSettings()
    device = dossier.artefacts.device
    extra = [p.port for p in declared_ports(dossier) or () if p.protocol == "tcp"]
    if device is not None:
        extra.extend(device.ports)
    ports = tuple(dict.fromkeys((*settings.ports, *extra)))
    settings = dataclasses.replace(settings, ports=ports)
    if device is not None and device.credentials_budget is not None:
        settings = dataclasses.replace(settings, credentials_budget=device.credentials_budget)
    if device is not None and device.credentials_time_s is not None:
        settings = dataclasses.replace(settings, credentials_time_s=device.credentials_time_s)
    return settings


class NetworkCollector:
    """Probe the one device the dossier names; facts only, every check decides for itself."""

    NAME = "device"
    PRODUCES: tuple[type, ...] = (NetworkObservations,)

    def __init__(
        self,
        settings: ProbeSettings | None = None,
        now: Callable[[], dt.datetime] = utc_now,
        *,
        add_declared_ports: bool = True,
    ) -> None:
        self.settings = settings or ProbeSettings(ports=DEFAULT_PORTS)
        self.now = now
        self.add_declared_ports = add_declared_ports  # False: probe exactly settings.ports (probe --only-ports)

    def applies(self, dossier: Dossier) -> bool:
        return dossier.artefacts.device is not None

    def collect(self, dossier: Dossier, base_dir: Path, progress: ProgressReporter) -> CollectorResult:
        device = dossier.artefacts.device
        assert device is not None  # applies() said so
        observations = run_probe(
            device.host,
            settings_for(dossier, self.settings) if self.add_declared_ports else self.settings,
            allow_multiple=device.allow_multiple_addresses,
            declared_ports=declared_ports(dossier),
            progress=progress,
            now=self.now,
        )
        problems = [
            Problem("network.probe", ProblemSeverity.WARNING, text, path=host.address)
            for host in observations.hosts
            for text in host.reachability.incomplete
        ]
        artefacts = [Artefact("device", f"{device.host} ({h.address})" if h.address != device.host else device.host)
                     for h in observations.hosts]  # fmt: skip
        return CollectorResult(items=(observations,), problems=problems, artefacts=artefacts)
