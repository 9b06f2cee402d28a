"""Firmware boot-service checks: cleartext remote login, debug interfaces, discovery and management services.

EN 303 645 5.6-1 (unused interfaces disabled), 5.6-4 (debug interfaces), 5.6-5 (only needed services);
CRA Annex I Part I (2)(j) (limited attack surfaces).
"""

from __future__ import annotations

from collections.abc import Sequence

from cybersafe.checks._firmware import conclude, image_facts
from cybersafe.checks.interface import Check, Finding, Location
from cybersafe.dossier.model import PortDeclaration
from cybersafe.evidence.firmware.model import Area, FirmwareInventory, Service
from cybersafe.evidence.interface import Evidence
from cybersafe.verdict import Severity, Verdict


def _service_findings(check: Check, inv: FirmwareInventory, category: str) -> list[Finding]:
    return [
        check.failed(
            f"{s.name} is started at boot by {s.mechanism}: {s.command}",
            locations=[Location(path=s.path, line=s.line)],
            facts={"service": s.name, "mechanism": s.mechanism, "command": s.command},
        )
        for s in inv.services
        if s.category == category
    ]


class CleartextRemoteLoginCheck(Check):
    ID = "firmware.cleartext-remote-login-enabled"
    TITLE = "No cleartext remote-login service (telnet, ftp, tftp, rlogin) is enabled"
    SEVERITY = Severity.HIGH
    REQUIRES = (FirmwareInventory,)
    REMEDIATION = "Remove telnetd, ftpd, tftpd and r-services from the boot configuration; use SSH if needed."

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        inv = evidence.require(FirmwareInventory)
        boot = inv.stats.get("boot_files", 0)
        return conclude(
            self,
            inv,
            failures=_service_findings(self, inv, "cleartext-login"),
            areas=(Area.SERVICES,),
            pass_message=f"examined {boot} boot configuration files (inittab, init.d, systemd, inetd, xinetd, procd); "
            f"no cleartext remote-login service is started ({len(inv.services)} services found)",
            facts={**image_facts(inv), "boot_files": boot, "services": sorted({s.name for s in inv.services})},
        )


class DebugInterfaceCheck(Check):
    ID = "firmware.debug-interface-enabled"
    TITLE = "No debug interface (gdbserver, root shell on a serial console) is enabled"
    SEVERITY = Severity.MEDIUM
    REQUIRES = (FirmwareInventory,)
    REMEDIATION = (
        "Remove gdbserver from production images and require authentication on serial consoles "
        "(getty/login instead of a bare shell)."
    )

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        inv = evidence.require(FirmwareInventory)
        boot = inv.stats.get("boot_files", 0)
        return conclude(
            self,
            inv,
            failures=_service_findings(self, inv, "debug"),
            areas=(Area.SERVICES,),
            pass_message=f"examined {boot} boot configuration files; no debugger or unauthenticated console shell is started",
            facts={**image_facts(inv), "boot_files": boot},
        )


# Where each discovery or management protocol listens, to compare with the ports the dossier declares.
_PORTS: dict[str, tuple[tuple[int, str], ...]] = {
    "upnp-igd": ((1900, "udp"),),
    "ssdp": ((1900, "udp"),),
    "mdns": ((5353, "udp"),),
    "ws-discovery": ((3702, "udp"),),
    "dlna": ((1900, "udp"), (8200, "tcp")),
    "snmp": ((161, "udp"),),
    "tr-069": ((7547, "tcp"),),
    "lldp": (),
}
_ALIASES: dict[str, tuple[str, ...]] = {
    "upnp-igd": ("upnp", "ssdp", "igd"),
    "ssdp": ("ssdp", "upnp"),
    "mdns": ("mdns", "bonjour", "zeroconf", "dns-sd", "avahi"),
    "ws-discovery": ("ws-discovery", "wsd"),
    "dlna": ("dlna", "upnp"),
    "snmp": ("snmp",),
    "tr-069": ("tr-069", "tr069", "cwmp"),
    "lldp": ("lldp",),
}


def _declared(service: Service, ports: list[PortDeclaration]) -> PortDeclaration | None:
    wanted = set(_PORTS.get(service.name, ()))
    for port in ports:
        if (port.port, port.protocol) in wanted:
            return port
        if any(alias in port.service.lower() for alias in _ALIASES.get(service.name, (service.name,))):
            return port
    return None


class DiscoveryServiceCheck(Check):
    ID = "firmware.discovery-service-enabled"
    TITLE = "No discovery or management service (UPnP, SSDP, mDNS, WS-Discovery, SNMP, TR-069) runs unless needed"
    SEVERITY = Severity.HIGH
    REQUIRES = (FirmwareInventory,)
    REMEDIATION = (
        "Turn UPnP IGD off by default, or at least run it in secure mode (miniupnpd: secure_mode=yes, so a host "
        "can map ports only to itself); start discovery and management daemons only when the product needs "
        "them, and declare each in declarations.interfaces.network_ports."
    )

    def _igd(self, service: Service) -> Finding | None:
        settings = dict(service.settings)
        mode, source = settings.get("secure_mode", "unknown"), settings.get("secure_mode_source", "")
        where = [Location(path=service.path, line=service.line)]
        facts = {"service": service.name, "command": service.command, **settings}
        if mode in ("no", "unset"):
            read = "is set to no" if mode == "no" else "is not set (miniupnpd leaves it off unless told)"
            return self.failed(
                f"UPnP IGD is started at boot by {service.mechanism} and its secure mode {read} in {source}: any "
                "host on the local network can have it forward ports to any other host",
                locations=where,
                facts=facts,
            )
        if mode == "unknown":
            return self.inconclusive(
                f"UPnP IGD is started at boot by {service.mechanism} ({service.command}), but whether its secure "
                "mode is on could not be read: no -S on its command line and no configuration file in the image",
                locations=where,
                facts=facts,
            )
        return None

    def _declaration(self, service: Service, ports: list[PortDeclaration] | None) -> Finding | None:
        where = [Location(path=service.path, line=service.line)]
        facts = {"service": service.name, "mechanism": service.mechanism, "command": service.command}
        listens = ", ".join(f"{p}/{proto}" for p, proto in _PORTS.get(service.name, ())) or "link layer"
        if ports is None:
            return self.inconclusive(
                f"{service.name} ({listens}) is started at boot by {service.mechanism}: {service.command}; the "
                "dossier declares no network interfaces (declarations.interfaces), so whether it is needed is unknown",
                locations=where,
                facts=facts,
            )
        if _declared(service, ports) is None:
            return self.failed(
                f"{service.name} ({listens}) is started at boot by {service.mechanism} but is not among the "
                f"network interfaces the dossier declares: {service.command}",
                locations=where,
                facts=facts,
                severity=Severity.MEDIUM,
            )
        return None

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        inv = evidence.require(FirmwareInventory)
        interfaces = evidence.dossier.declarations.interfaces
        ports = list(interfaces.network_ports) if interfaces is not None and interfaces.network_ports else None
        found = [s for s in inv.services if s.category == "discovery"]
        findings: list[Finding] = []
        for service in found:
            igd = self._igd(service) if service.name == "upnp-igd" else None
            outcome = igd if igd is not None else self._declaration(service, ports)
            if outcome is not None:
                findings.append(outcome)
        failures = [f for f in findings if f.verdict is Verdict.FAIL]
        open_questions = [f for f in findings if f.verdict is not Verdict.FAIL]
        boot = inv.stats.get("boot_files", 0)
        declared = sorted({s.name for s in found})
        return conclude(
            self,
            inv,
            failures=failures + open_questions,
            areas=(Area.SERVICES,),
            pass_message=f"examined {boot} boot configuration files; "
            + (
                f"the discovery services started ({', '.join(declared)}) are declared in the dossier"
                + (" and UPnP IGD runs in secure mode" if "upnp-igd" in declared else "")
                if found
                else "no UPnP, SSDP, mDNS, WS-Discovery, DLNA, SNMP, TR-069 or LLDP daemon is started"
            ),
            facts={**image_facts(inv), "boot_files": boot, "discovery_services": declared},
        )


CHECKS: tuple[type[Check], ...] = (CleartextRemoteLoginCheck, DebugInterfaceCheck, DiscoveryServiceCheck)
