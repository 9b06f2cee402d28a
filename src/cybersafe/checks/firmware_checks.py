"""Every firmware check (issue 3), gathered from credentials, crypto, services, binaries and filesystem."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cybersafe.checks import binaries, credentials, crypto, filesystem, services
from cybersafe.checks.interface import Check, CheckAttempt, run_check
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
    """Run every firmware check over one inventory (``cybersafe firmware scan``; ``assess`` uses the engine)."""
    if dossier is None:
        from cybersafe.dossier.model import Dossier, Manufacturer, Product

        # Checks take evidence built around a dossier; a bare image scan has none, so a minimal one stands in.
        dossier = Dossier.model_validate(
            {
                "schema": "cybersafe/dossier/v1",
                "product": Product(
                    manufacturer=Manufacturer(name="unknown"), name=inventory.image, model="unknown"
                ).model_dump(),
            }
        )
    evidence = Evidence(dossier=dossier)
    evidence.add(inventory)
    return [run_check(check(), evidence) for check in FIRMWARE_CHECKS]
