"""A label for a new firmware release that replaces the old one, when the verdicts did not change.

``supersession`` allows it only when every one of these holds, and says which one does not otherwise:

- the old label is a signed envelope that verifies with the issuer's own key (the same issuer: key and name);
- it is for the same scheme (and version) and the same product (manufacturer, model, hardware version);
- it was issued on the old assessment given (its ``assessment_sha256``);
- ``cybersafe diff`` from the old assessment to the new one shows no change of this scheme's status, level or
  requirement verdicts (findings may differ: a new release has new files).

The new label then carries ``supersedes``: the old label id, the old assessment's digest and the diff's digest.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cybersafe.attest.dsse import verify_envelope
from cybersafe.attest.keys import key_id
from cybersafe.diff import diff_assessments
from cybersafe.errors import VerificationFailed
from cybersafe.label.issue import LabelRefused, record_from_statement
from cybersafe.label.model import LabelRecord, Supersedes
from cybersafe.results import Assessment


def supersession(
    old_envelope: dict[str, object],
    old_assessment: Assessment,
    new_assessment: Assessment,
    scheme_id: str,
    private_key: Ed25519PrivateKey,
    issuer_name: str,
) -> Supersedes:
    """The ``supersedes`` record of a new label, or ``LabelRefused`` naming the condition that fails."""
    public_key = private_key.public_key()
    try:
        old = record_from_statement(verify_envelope(old_envelope, {key_id(public_key): public_key}))
    except VerificationFailed as exc:
        raise LabelRefused(f"the label to supersede is not signed by this issuer's key: {exc}") from None
    result = new_assessment.scheme(scheme_id)
    if result is None or (old.scheme, old.scheme_version) != (result.scheme, result.version):
        raise LabelRefused(f"the label to supersede ({old.label_id}) is for {old.scheme}@{old.scheme_version}")
    if old.issuer.name != issuer_name.strip():
        raise LabelRefused(f"the label to supersede was issued by {old.issuer.name!r}, not {issuer_name.strip()!r}")
    _same_product(old, new_assessment)
    if old.assessment_sha256 != old_assessment.digest():
        raise LabelRefused(
            f"the label to supersede was issued on assessment {old.assessment_sha256[:12]}, not on the baseline given "
            f"({old_assessment.digest()[:12]})"
        )
    diff = diff_assessments(old_assessment, new_assessment)
    if not diff.verdicts_unchanged(f"{result.scheme}@{result.version}"):
        changed = [r.requirement for r in diff.requirements if r.scheme == f"{result.scheme}@{result.version}"]
        detail = f": {', '.join(changed[:5])}" if changed else ""
        raise LabelRefused(
            f"{result.scheme}@{result.version} verdicts changed since {old.label_id}{detail}; issue a new label "
            "without --supersedes after review"
        )
    return Supersedes(label_id=old.label_id, assessment_sha256=old.assessment_sha256, diff_sha256=diff.digest())


def _same_product(old: LabelRecord, new_assessment: Assessment) -> None:
    new = tuple(new_assessment.product_identity().values())  # manufacturer, model, hardware version
    was = (old.product.manufacturer, old.product.model, old.product.hardware_version)
    if new != was:
        raise LabelRefused(f"the label to supersede is for another product ({' '.join(str(p) for p in was if p)})")
