"""The bottom of the house: verdicts, severities and error reasons, importable by every layer.

Evidence errors carry an ``ErrorReason`` and checks return ``Verdict`` values, so these types live below
both (``evidence/`` may not import ``checks/``). This module imports nothing of cybersafe.
"""

from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"  # evidence insufficient: needs a declaration or a manual result
    NOT_APPLICABLE = "not_applicable"
    ERROR = "error"  # the check or a collector failed; never becomes a pass
    # Requirement verdicts only (a check never returns these):
    JUSTIFIED = "justified"  # failed, but every failing finding is covered by a documented risk decision
    PENDING = "pending"  # a step only a scheme body can take (a grant, a certificate) is not yet recorded


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}


class AttemptStatus(StrEnum):
    COMPLETED = "completed"
    ERROR = "error"
    NOT_RUN = "not_run"


class ErrorReason(StrEnum):
    """Why a check attempt or a collector did not complete."""

    BUG = "bug"
    MISSING_EVIDENCE = "missing_evidence"
    PROBE_UNREACHABLE = "probe_unreachable"
    BUDGET_EXCEEDED = "budget_exceeded"
    BAD_INPUT = "bad_input"
