"""Firmware boot-service checks: cleartext remote login (telnet/ftp/tftp/rlogin) and debug interfaces.

EN 303 645 5.6-1 (unused interfaces disabled), 5.6-4 (debug interfaces); CRA Annex I (2)(j).
"""

from __future__ import annotations

from collections.abc import Sequence

from cybersafe.checks._firmware import conclude, image_facts
from cybersafe.checks.interface import Check, Finding, Location
from cybersafe.evidence.firmware.model import Area, FirmwareInventory
from cybersafe.evidence.interface import Evidence
from cybersafe.verdict import Severity


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


CHECKS: tuple[type[Check], ...] = (CleartextRemoteLoginCheck, DebugInterfaceCheck)
