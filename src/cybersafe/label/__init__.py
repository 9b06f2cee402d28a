"""Labels: issue a signed label record for a scheme an assessment meets, draw its artwork, verify it.

Contract shared with the registry: /tmp/cybersafe-labels.md (``LabelRecord``, ``issue_label``,
``label_from_envelope``, ``verify_label``). Rendering imports WeasyPrint only when asked for PDF or PNG.

The names below import their module on first use: `cybersafe verify` does not load the drawing code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cybersafe._lazy import lazy_exports

if TYPE_CHECKING:
    from cybersafe.label.batch import issue_and_render_all as issue_and_render_all
    from cybersafe.label.defaults import DEFAULT_REGISTRY_URL as DEFAULT_REGISTRY_URL
    from cybersafe.label.defaults import DEFAULT_VALID_DAYS as DEFAULT_VALID_DAYS
    from cybersafe.label.issue import LabelRefused as LabelRefused
    from cybersafe.label.issue import build_statement as build_statement
    from cybersafe.label.issue import issue_label as issue_label
    from cybersafe.label.issue import label_from_envelope as label_from_envelope
    from cybersafe.label.issue import read_envelope as read_envelope
    from cybersafe.label.issue import record_from_statement as record_from_statement
    from cybersafe.label.issue import write_envelope as write_envelope
    from cybersafe.label.model import LABEL_SCHEMA as LABEL_SCHEMA
    from cybersafe.label.model import PREDICATE_TYPE as PREDICATE_TYPE
    from cybersafe.label.model import LabelRecord as LabelRecord
    from cybersafe.label.verify import CheckResult as CheckResult
    from cybersafe.label.verify import CheckStatus as CheckStatus
    from cybersafe.label.verify import VerificationReport as VerificationReport
    from cybersafe.label.verify import check_label as check_label
    from cybersafe.label.verify import verify_label as verify_label

_EXPORTS = {
    "DEFAULT_REGISTRY_URL": "defaults",
    "DEFAULT_VALID_DAYS": "defaults",
    "LABEL_SCHEMA": "model",
    "PREDICATE_TYPE": "model",
    "CheckResult": "verify",
    "CheckStatus": "verify",
    "LabelRecord": "model",
    "LabelRefused": "issue",
    "VerificationReport": "verify",
    "build_statement": "issue",
    "check_label": "verify",
    "issue_and_render_all": "batch",
    "issue_label": "issue",
    "label_from_envelope": "issue",
    "read_envelope": "issue",
    "record_from_statement": "issue",
    "verify_label": "verify",
    "write_envelope": "issue",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)
