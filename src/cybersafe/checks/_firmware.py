"""Shared conclusion rule of the firmware checks: failures, then gaps (inconclusive), else a stated pass."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cybersafe.checks.interface import Check, Finding, Location
from cybersafe.evidence.firmware.model import Area, FirmwareInventory

_MAX_GAPS_LISTED = 5


def conclude(
    check: Check,
    inventory: FirmwareInventory,
    *,
    failures: Sequence[Finding],
    areas: Sequence[Area],
    pass_message: str,
    facts: Mapping[str, Any] | None = None,
) -> list[Finding]:
    """A gap in what was examined blocks a pass; it never hides a failure that was seen."""
    out = list(failures)
    gaps = inventory.gaps(*areas)
    if gaps:
        listed = "; ".join(f"{g.reason}" + (f" ({g.path})" if g.path else "") for g in gaps[:_MAX_GAPS_LISTED])
        more = f" and {len(gaps) - _MAX_GAPS_LISTED} more" if len(gaps) > _MAX_GAPS_LISTED else ""
        out.append(
            check.inconclusive(
                f"not everything could be examined: {listed}{more}",
                locations=[Location(path=g.path) for g in gaps[:_MAX_GAPS_LISTED] if g.path],
                facts={"not_examined": [{"area": str(g.area), "reason": g.reason, "path": g.path} for g in gaps]},
            )
        )
    if not out:
        out.append(check.passed(pass_message, facts=dict(facts or {})))
    return out


def image_facts(inventory: FirmwareInventory) -> dict[str, Any]:
    return {"image": inventory.image, "sha256": inventory.sha256, "files_examined": inventory.files_examined}
