"""Every firmware check (issue 3), gathered from credentials, crypto, services, binaries and filesystem."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cybersafe.checks import binaries, credentials, crypto, filesystem, services
from cybersafe.checks.interface import Check, CheckAttempt, run_check
from cybersafe.dossier.model import anonymous_dossier
from cybersafe.evidence.firmware.model import FirmwareInventory
from cybersafe.evidence.interface import Evidence

if TYPE_CHECKING:
    from cybersafe.dossier.model import Dossier

FIRMWARE_CHECKS: tuple[type[Check], ...] = (
    *credentials.CHECKS,
    *crypto.CHECKS,
    *services.CHECKS,
    *binaries.CHECKS,
    *filesystem.CHECKS,
)


def run_firmware_checks(inventory: FirmwareInventory, dossier: Dossier | None = None) -> list[CheckAttempt]:
    """Every firmware check over one inventory, for library use and tests (the command line runs the checks
    through the assessment engine, like ``assess``). Without a dossier, the anonymous product of the image."""
    evidence = Evidence(dossier=dossier or anonymous_dossier(inventory.image, firmware=inventory.image))
    evidence.add(inventory)
    return [run_check(check(), evidence) for check in FIRMWARE_CHECKS]
