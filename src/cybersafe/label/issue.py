"""Issue a label: from an assessment that meets a scheme to a signed label record.

A label is refused when the assessment does not meet the scheme (status other than ``meets``, or a scheme
that is not modelled); for levelled schemes (Singapore CLS) the label carries the highest level met and is
refused when no level is met. Validity: ``issued + valid_days``, capped at the declared support-period end,
because a label must not vouch for a product after its manufacturer stops fixing vulnerabilities
(CRA Art. 13(8) and 13(19); 47 CFR 8.222(b)(9); CLS validity is tied to the support period).
The default of three years follows the longest CLS validity reported (standards.md 5.2).

The artwork is decided here and signed with the record: the scheme's own consumer-label style only when the
scheme has a consumer label (its catalog's ``label:``) and the issuer states it is that scheme's administrator
or licensee (``administrator_of``); otherwise a conformity-attestation card. Laws and standards (UK PSTI, the
CRA, EN 303 645, EN 18031) have no consumer label, so their labels are always cards.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from cybersafe import safeio
from cybersafe.attest.dsse import STATEMENT_TYPE, decode_payload, one_line, sign_statement
from cybersafe.attest.keys import key_id
from cybersafe.dossier.model import DefaultPasswordApproach, Dossier
from cybersafe.errors import CybersafeError, InputError, UnknownScheme, VerificationFailed
from cybersafe.label.defaults import DEFAULT_VALID_DAYS
from cybersafe.label.model import (
    PREDICATE_TYPE,
    Artwork,
    Disclosures,
    Issuer,
    LabelProduct,
    LabelRecord,
    Subject,
    Supersedes,
    VerdictSummary,
)
from cybersafe.results import Assessment, RequirementResultOut, SchemeResultOut

ENVELOPE_SUFFIX = ".label.json"
MAX_ENVELOPE_BYTES = 4 * safeio.MiB  # a signed label is a few KiB
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class LabelRefused(CybersafeError):
    """The assessment does not support a label for this scheme (not met, not modelled, support ended)."""


def scheme_tag(scheme_id: str) -> str:
    """``us-ctm`` -> ``USCTM``: the scheme part of a label id."""
    tag = re.sub(r"[^A-Z0-9]", "", scheme_id.upper())[:24]
    return tag or "X"


def new_label_id(scheme_id: str, now: dt.datetime, random_bytes: Callable[[int], bytes] = secrets.token_bytes) -> str:
    """``CSL-<TAG>-<26 Crockford base32 chars>``: 48-bit milliseconds then 80 random bits (ULID layout)."""
    millis = int(_utc(now).timestamp() * 1000) & ((1 << 48) - 1)
    value = (millis << 80) | int.from_bytes(random_bytes(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return f"CSL-{scheme_tag(scheme_id)}-{''.join(reversed(chars))}"


def label_level(result: SchemeResultOut) -> str | None:
    """The level a label may state, or None for a binary scheme; raises ``LabelRefused`` when not met."""
    key = f"{result.scheme}@{result.version}"
    if result.status in ("prepare", "out_of_scope"):
        raise LabelRefused(f"{key}: status is {result.status} on the assessment date; no label issued")
    unmet_later = [later for later in result.later if later.status not in ("meets", "pending")]
    if unmet_later:
        first = unmet_later[0]
        raise LabelRefused(
            f"{key}: meets only what applies on {result.as_of}; from {first.date} it would be {first.status}, "
            "so a label would vouch for more than was shown; no label issued"
        )
    if not result.modelled or result.status == "not_modelled":
        raise LabelRefused(f"{key}: scheme is not modelled, so nothing of it can be shown as met; no label issued")
    if result.levels:
        # The evaluator's highest level met (counted up from the lowest without gaps) is the only one a label may
        # state; a higher level met above a failed one proves nothing.
        if result.highest_level is None:
            raise LabelRefused(f"{key}: no level is met (status {result.status}); no label issued")
        return result.highest_level
    if result.status == "pending" and _only_grants_pending(result):
        return None  # the label is the grant: issuing it is the step the scheme body's verdict waits for
    if result.status != "meets":
        raise LabelRefused(f"{key}: status is {result.status}, not meets; no label issued")
    return None


def _only_grants_pending(result: SchemeResultOut) -> bool:
    """Every pending requirement waits only on a grant (the label administrator's own step)."""
    pending = [r for r in result.requirements if r.required and r.verdict == "pending"]
    return bool(pending) and all(e.kind == "grant" for r in pending for e in r.evidence if e.verdict == "pending")


def issue_label(  # positional signature fixed by the labels contract
    assessment: Assessment,
    scheme_id: str,
    private_key: Ed25519PrivateKey,
    issuer_name: str,
    registry_url: str,
    now: dt.datetime,
    *,
    valid_days: int = DEFAULT_VALID_DAYS,
    issuer_contact: str | None = None,
    administrator_of: str | None = None,
    random_bytes: Callable[[int], bytes] = secrets.token_bytes,
    supersedes: Supersedes | None = None,
) -> tuple[LabelRecord, dict[str, Any]]:
    """Build the label record for ``scheme_id`` and sign it; (record, DSSE envelope).

    ``administrator_of``: the scheme (id or id@version) whose label administrator or licensee the issuer is; it
    must be the label's scheme, and that scheme must have a consumer label. Only then is the artwork the
    scheme's mark; without it the artwork is a conformity-attestation card.
    ``supersedes`` comes from ``supersession`` (cybersafe/label/supersede.py), which checks that the replacement
    is allowed.
    """
    result = assessment.scheme(scheme_id)
    if result is None:
        known = ", ".join(sorted({s.scheme for s in assessment.schemes})) or "none"
        raise UnknownScheme(f"scheme {scheme_id!r} is not in the assessment (assessed: {known})")
    level = label_level(result)
    administers = _administrator_of(result, administrator_of)
    if not issuer_name.strip():
        raise InputError("issuer name is empty", field="issuer")
    if valid_days < 1:
        raise InputError("must be at least 1", field="valid_days")
    base = _registry_base(registry_url)
    dossier = _dossier(assessment)
    support = dossier.declarations.support_period
    if support is None:
        raise InputError(
            "no support period end declared; a label's validity is bounded by it",
            field="dossier.declarations.support_period.end",
        )
    issued = _utc(now).date()
    if support.end <= issued:
        raise LabelRefused(f"the support period ended on {support.end.isoformat()}; no label issued")
    valid_until = min(issued + dt.timedelta(days=valid_days), support.end)
    label_id = new_label_id(result.scheme, now, random_bytes)
    issuer = Issuer(
        name=issuer_name.strip(),
        key_id=key_id(private_key.public_key()),
        contact=issuer_contact,
        administrator_of=administers,
    )
    record = LabelRecord(
        label_id=label_id,
        scheme=result.scheme,
        scheme_version=result.version,
        scheme_name=result.label.name if result.label else result.short_title,
        label_style=result.label.style if result.label else None,
        level=level,
        product=_product(dossier),
        subjects=_subjects(assessment),
        assessment_sha256=assessment.digest(),
        verdict_summary=_summary(result, level),
        issued=issued,
        valid_until=valid_until,
        support_end=support.end,
        issuer=issuer,
        lab=dossier.assessment.lab,
        registry_url=f"{base}/l/{label_id}",
        disclosures=_disclosures(dossier, issuer, issued),
        artwork=Artwork.SCHEME_MARK if administers and result.label else Artwork.ATTESTATION,
        supersedes=supersedes,
    )
    return record, sign_statement(build_statement(record), private_key)


def _administrator_of(result: SchemeResultOut, claimed: str | None) -> str | None:
    """The scheme id the issuer administers, checked against the label's scheme; None when not claimed."""
    if claimed is None or not claimed.strip():
        return None
    key = f"{result.scheme}@{result.version}"
    if claimed.strip() not in (result.scheme, key):
        raise InputError(f"names {claimed.strip()!r}, but the label is for {key}", field="administrator_of")
    if result.label is None:
        kind = f" (a {result.kind})" if result.kind else ""
        raise InputError(
            f"{key}{kind} has no consumer label, so no issuer can draw its mark; its label is a conformity "
            "attestation card without --administrator-of",
            field="administrator_of",
        )
    return result.scheme


def _at(requirement: RequirementResultOut, level: str) -> bool:
    return not requirement.levels or level in requirement.levels


def _summary(result: SchemeResultOut, level: str | None) -> VerdictSummary:
    """The verdict the label rests on: the level's counts for a levelled scheme, justified and pending requirements."""
    counts = dict(result.counts)
    for lv in result.levels:
        if level is not None and lv.level == level:
            counts = dict(lv.counts)
    # a levelled label vouches for its own level's requirements (levels are cumulative; unlevelled ones count too)
    required = [r for r in result.requirements if r.required and r.applies and (level is None or _at(r, level))]
    return VerdictSummary(
        status="pending" if result.status == "pending" and level is None else "meets",
        highest_level=level,
        counts=counts,
        as_of=result.as_of,
        justified=[
            f"{r.id} ({', '.join(r.justified_by)})" if r.justified_by else r.id
            for r in required
            if r.verdict == "justified"
        ],
        pending=[r.id for r in required if r.verdict == "pending"],
    )


def build_statement(record: LabelRecord) -> dict[str, Any]:
    """The in-toto Statement v1: subjects are the firmware and SBOM digests, the predicate is the record."""
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": s.name, "digest": {"sha256": s.sha256}} for s in record.subjects],
        "predicateType": PREDICATE_TYPE,
        "predicate": record.wire(),
    }


def record_from_statement(statement: dict[str, Any]) -> LabelRecord:
    if statement.get("_type") != STATEMENT_TYPE:
        raise VerificationFailed(f"statement: _type is {statement.get('_type')!r}, expected {STATEMENT_TYPE!r}")
    if statement.get("predicateType") != PREDICATE_TYPE:
        raise VerificationFailed(
            f"statement: predicateType is {statement.get('predicateType')!r}, expected {PREDICATE_TYPE!r}"
        )
    try:
        return LabelRecord.model_validate(statement.get("predicate"))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(one_line(str(p)) for p in first["loc"])
        message = "unknown field" if first["type"] == "extra_forbidden" else first["msg"]
        raise VerificationFailed(
            f"statement: predicate.{field}: {message}" if field else f"statement: {message}"
        ) from None


def label_from_envelope(envelope: dict[str, Any]) -> LabelRecord:
    """The label record inside an envelope, without verifying the signature (use ``verify_label`` for that)."""
    _body, statement = decode_payload(envelope)
    return record_from_statement(statement)


def write_envelope(envelope: dict[str, Any], record: LabelRecord, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{record.label_id}{ENVELOPE_SUFFIX}"
    path.write_text(json.dumps(envelope, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def read_envelope(path: Path) -> dict[str, Any]:
    """Read a label file (a DSSE envelope). Unreadable -> InputError; not an envelope -> VerificationFailed."""
    raw = safeio.read_text(path, MAX_ENVELOPE_BYTES, what="a label envelope")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise VerificationFailed(f"envelope: {path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise VerificationFailed(f"envelope: {path}: not valid JSON (nested too deeply)") from None
    if isinstance(data, dict) and data.get("schema") == "cybersafe/label/v1":
        raise VerificationFailed(f"envelope: {path} is a bare label record, not a signed envelope")
    if not isinstance(data, dict):
        raise VerificationFailed(f"envelope: {path} is not a JSON object")
    return data


def _utc(now: dt.datetime) -> dt.datetime:
    return now.replace(tzinfo=dt.UTC) if now.tzinfo is None else now.astimezone(dt.UTC)


def _registry_base(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.query or parts.fragment:
        raise InputError(f"{url!r} is not an http(s) base URL without query or fragment", field="registry")
    return url.strip().rstrip("/")


def _dossier(assessment: Assessment) -> Dossier:
    try:
        return Dossier.model_validate(assessment.dossier)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(one_line(str(p)) for p in first["loc"])
        raise InputError(first["msg"], field=f"dossier.{field}") from None


def _product(dossier: Dossier) -> LabelProduct:
    product = dossier.product
    return LabelProduct(
        manufacturer=product.manufacturer.name,
        name=product.name,
        model=product.model,
        hardware_version=product.hardware_version,
        firmware_version=product.firmware_version,
    )


def _subjects(assessment: Assessment) -> list[Subject]:
    subjects: list[Subject] = []
    for artefact in assessment.artefacts:
        if artefact.kind in {"firmware", "sbom"} and artefact.sha256:
            name = f"{artefact.kind}:{Path(artefact.name).name or artefact.name}"
            subjects.append(Subject(name=name, sha256=artefact.sha256.lower()))
    if not any(s.kind == "firmware" for s in subjects):
        raise InputError(
            "no firmware artefact with a sha256; a label must name the firmware it was tested on", field="artefacts"
        )
    return subjects


def _disclosures(dossier: Dossier, issuer: Issuer, issued: dt.date) -> Disclosures:
    decl = dossier.declarations
    product = dossier.product
    manufacturer = product.manufacturer
    contact = manufacturer.email or manufacturer.website
    if contact is None and decl.vulnerability_disclosure and decl.vulnerability_disclosure.contact:
        vd = decl.vulnerability_disclosure.contact
        contact = vd.email or vd.url or vd.phone
    support = decl.support_period
    return Disclosures(
        manufacturer=manufacturer.name,
        product=f"{product.name} ({product.model})",
        authorised_on=issued,
        administrator=issuer.name + (f" <{issuer.contact}>" if issuer.contact else ""),
        lab=dossier.assessment.lab,
        default_password=_default_password(dossier),
        secure_configuration=decl.user_information.secure_configuration_url if decl.user_information else None,
        updates_automatic=decl.update.automatic if decl.update else None,
        update_instructions=decl.update.instructions_url if decl.update else None,
        support_end=support.end if support else "unsupported",
        sbom_maintained=decl.sbom.available if decl.sbom else None,
        hbom_maintained=decl.sbom.hbom_available if decl.sbom else None,
        contact=contact,
    )


def _default_password(dossier: Dossier) -> str | None:
    """47 CFR 8.222(b)(6): how to change the default password, or a statement that it cannot be changed."""
    auth = dossier.declarations.authentication
    if auth is None:
        return None
    if auth.change_password_instructions:
        return auth.change_password_instructions
    statements = {
        DefaultPasswordApproach.NONE: "The product uses no passwords.",
        DefaultPasswordApproach.UNIQUE_PER_DEVICE: "Each device ships with its own unique default password.",
        DefaultPasswordApproach.USER_DEFINED: "There is no default password: the user sets one before first use.",
        DefaultPasswordApproach.UNIVERSAL: "The product ships with a shared default password.",
    }
    text = statements[auth.default_password_approach]
    if auth.user_can_change_credentials is False:
        text += " It cannot be changed."
    return text
