"""Labels: issue a signed label record for a scheme an assessment meets, draw its artwork, verify it.

Contract shared with the registry: /tmp/cybersafe-labels.md (``LabelRecord``, ``issue_label``,
``label_from_envelope``, ``verify_label``). Rendering imports WeasyPrint only when asked for PDF or PNG.
"""

from __future__ import annotations

from cybersafe.label.batch import issue_and_render_all
from cybersafe.label.issue import (
    DEFAULT_REGISTRY_URL,
    DEFAULT_VALID_DAYS,
    LabelRefused,
    build_statement,
    issue_label,
    label_from_envelope,
    read_envelope,
    record_from_statement,
    write_envelope,
)
from cybersafe.label.model import LABEL_SCHEMA, PREDICATE_TYPE, LabelRecord
from cybersafe.label.verify import CheckResult, CheckStatus, VerificationReport, check_label, verify_label

__all__ = [
    "DEFAULT_REGISTRY_URL",
    "DEFAULT_VALID_DAYS",
    "LABEL_SCHEMA",
    "PREDICATE_TYPE",
    "CheckResult",
    "CheckStatus",
    "LabelRecord",
    "LabelRefused",
    "VerificationReport",
    "build_statement",
    "check_label",
    "issue_and_render_all",
    "issue_label",
    "label_from_envelope",
    "read_envelope",
    "record_from_statement",
    "verify_label",
    "write_envelope",
]
