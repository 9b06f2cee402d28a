"""Built-in checks: the explicit tuple of every check class (no discovery by walking the tree)."""

from __future__ import annotations

from cybersafe.checks.declarations import DECLARATION_CHECKS
from cybersafe.checks.firmware_checks import FIRMWARE_CHECKS
from cybersafe.checks.interface import Check
from cybersafe.checks.network import CHECKS as NETWORK_CHECKS
from cybersafe.checks.software import CHECKS as SOFTWARE_CHECKS
from cybersafe.checks.vulnerabilities import CHECKS as VULNERABILITY_CHECKS

BUILTIN_CHECKS: tuple[type[Check], ...] = (
    *DECLARATION_CHECKS,
    *FIRMWARE_CHECKS,
    *SOFTWARE_CHECKS,
    *VULNERABILITY_CHECKS,
    *NETWORK_CHECKS,
)


def builtin_check_ids() -> frozenset[str]:
    return frozenset(check.ID for check in BUILTIN_CHECKS)
