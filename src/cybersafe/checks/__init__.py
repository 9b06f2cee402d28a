"""Built-in checks: the explicit tuple of every check class (no discovery by walking the tree)."""

from __future__ import annotations

from cybersafe.checks.declarations import DECLARATION_CHECKS
from cybersafe.checks.interface import Check

BUILTIN_CHECKS: tuple[type[Check], ...] = (*DECLARATION_CHECKS,)


def builtin_check_ids() -> frozenset[str]:
    return frozenset(check.ID for check in BUILTIN_CHECKS)
