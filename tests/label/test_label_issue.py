from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from label_fixtures import DATA, REGISTRY, counter_bytes, with_scheme
from pydantic import ValidationError
from tests.support import NOW, with_dossier

from cybersafe.attest.keys import key_id
from cybersafe.errors import CybersafeError, InputError, UnknownScheme
from cybersafe.label.issue import (
    DEFAULT_VALID_DAYS,
    LabelRefused,
    build_statement,
    issue_label,
    label_from_envelope,
    new_label_id,
    record_from_statement,
)
from cybersafe.label.model import LABEL_ID_RE, PREDICATE_TYPE, Artwork, LabelRecord
from cybersafe.results import Assessment, RequirementResultOut
from cybersafe.schemes.interface import LabelStyle
from cybersafe.schemes.status import SchemeStatus


def _sha(name: str) -> str:
    return hashlib.sha256((DATA / name).read_bytes()).hexdigest()


def test_binary_label_record_carries_everything_the_contract_names(
    issued: dict[str, tuple[LabelRecord, dict[str, Any]]], assessment: Assessment, private_key: Ed25519PrivateKey
) -> None:
    record, _envelope = issued["us-ctm"]
    assert LABEL_ID_RE.match(record.label_id)
    assert record.label_id.startswith("CSL-USCTM-")
    assert (record.scheme, record.scheme_version, record.level) == ("us-ctm", "ir8425-2022", None)
    assert record.product.manufacturer == "Acme Devices Ltd"
    assert (record.product.name, record.product.model, record.product.firmware_version) == (
        "SmartCam Mini",
        "SC-200",
        "1.4.2",
    )
    assert [(s.name, s.sha256) for s in record.subjects] == [
        ("firmware:firmware.bin", _sha("firmware.bin")),
        ("sbom:sbom.cdx.json", _sha("sbom.cdx.json")),
    ]
    assert record.assessment_sha256 == assessment.digest()
    assert record.verdict_summary.status == "meets"
    assert record.verdict_summary.counts["pass"] == 20
    assert record.issued == dt.date(2026, 11, 29)
    assert record.valid_until == record.issued + dt.timedelta(days=DEFAULT_VALID_DAYS)
    assert record.support_end == dt.date(2031, 11, 30)
    assert record.issuer.name == "Example CLA"
    assert record.issuer.key_id == key_id(private_key.public_key())
    assert record.lab == "Example CyberLAB Inc."
    assert record.registry_url == f"{REGISTRY}/l/{record.label_id}"
    disclosures = record.disclosures
    assert disclosures.default_password == "Open the app, Settings > Security > Change password."
    assert disclosures.secure_configuration == "https://acme.example/secure-setup"
    assert disclosures.updates_automatic is True
    assert disclosures.support_end == dt.date(2031, 11, 30)
    assert (disclosures.sbom_maintained, disclosures.hbom_maintained) == (True, False)
    assert disclosures.administrator == "Example CLA <cla@example.test>"
    assert disclosures.contact == "security@acme.example"


def test_levelled_label_states_the_highest_level_met_with_that_levels_counts(
    issued: dict[str, tuple[LabelRecord, dict[str, Any]]],
) -> None:
    # Given sg-cls is incomplete at levels 3-4 but meets level 2
    record, _ = issued["sg-cls"]
    # Then the label says level 2 and summarises level 2's verdicts
    assert record.level == "2"
    assert record.verdict_summary.highest_level == "2"
    assert record.verdict_summary.counts["inconclusive"] == 0


def test_statement_is_in_toto_v1_with_subjects_and_the_record_as_predicate(
    issued: dict[str, tuple[LabelRecord, dict[str, Any]]],
) -> None:
    record, envelope = issued["eu-cra"]
    statement = json.loads(base64.b64decode(envelope["payload"]))
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == PREDICATE_TYPE == "https://cybersafe.dev/attestation/label/v1"
    assert statement["subject"] == [{"name": s.name, "digest": {"sha256": s.sha256}} for s in record.subjects]
    assert statement["predicate"] == record.wire()
    assert statement == build_statement(record)
    for key in ("scheme", "scheme_version", "level", "verdict_summary", "valid_until", "support_end", "issuer"):
        assert key in statement["predicate"]
    assert label_from_envelope(envelope) == record


def test_validity_never_exceeds_the_support_period_end(assessment: Assessment, private_key: Ed25519PrivateKey) -> None:
    # Given a request for ten years of validity on a product supported for five
    record, _ = issue_label(assessment, "us-ctm", private_key, "CLA", REGISTRY, NOW, valid_days=3650)
    # Then the label ends with the support period
    assert record.valid_until == record.support_end == dt.date(2031, 11, 30)


def test_label_ids_are_unique_and_time_ordered(assessment: Assessment, private_key: Ed25519PrivateKey) -> None:
    ids = {issue_label(assessment, "us-ctm", private_key, "CLA", REGISTRY, NOW)[0].label_id for _ in range(20)}
    assert len(ids) == 20
    earlier = new_label_id("us-ctm", NOW, counter_bytes())
    later = new_label_id("us-ctm", NOW + dt.timedelta(seconds=1), counter_bytes())
    assert earlier < later
    assert new_label_id("etsi-en-303-645", NOW).startswith("CSL-ETSIEN303645-")


def test_scheme_can_be_named_with_its_version(assessment: Assessment, private_key: Ed25519PrivateKey) -> None:
    record, _ = issue_label(assessment, "sg-cls@sp-151-2-v1.4", private_key, "CLA", REGISTRY, NOW)
    assert record.scheme == "sg-cls"


def _no_level_met(a: Assessment) -> Assessment:
    scheme = a.scheme("sg-cls")
    assert scheme is not None
    levels = [lv.model_copy(update={"status": "incomplete"}) for lv in scheme.levels]
    return with_scheme(a, "sg-cls", levels=levels, highest_level=None)


@pytest.mark.parametrize(
    ("scheme", "change", "error", "message"),
    [
        pytest.param("uk-psti", None, LabelRefused, "status is fails, not meets", id="scheme-fails"),
        pytest.param("de-bsi", None, LabelRefused, "not modelled", id="not-modelled"),
        pytest.param(
            "us-ctm", lambda a: with_scheme(a, "us-ctm", status="incomplete"), LabelRefused, "status is incomplete",
            id="incomplete",
        ),
        pytest.param("sg-cls", _no_level_met, LabelRefused, "no level is met", id="no-level-met"),
        pytest.param("jp-jc-star", None, UnknownScheme, "not in the assessment", id="not-assessed"),
        pytest.param(
            "us-ctm", lambda a: with_dossier(a, {"declarations": {"support_period": {"start": "2021-01-15", "end": "2026-01-01"}}}),
            LabelRefused, "support period ended on 2026-01-01", id="support-ended",
        ),
        pytest.param(
            "us-ctm", lambda a: with_dossier(a, {"declarations": {"support_period": None}}), InputError,
            "dossier.declarations.support_period.end", id="no-support-period",
        ),
        pytest.param(
            "us-ctm", lambda a: a.model_copy(update={"artefacts": a.artefacts[:1]}), InputError,
            "no firmware artefact", id="no-firmware-digest",
        ),
    ],
)  # fmt: skip
def test_issuing_refuses_what_the_assessment_does_not_support(
    assessment: Assessment,
    private_key: Ed25519PrivateKey,
    scheme: str,
    change: Any,
    error: type[CybersafeError],
    message: str,
) -> None:
    subject = change(assessment) if change else assessment
    with pytest.raises(error, match=message) as info:
        issue_label(subject, scheme, private_key, "CLA", REGISTRY, NOW)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"registry_url": "ftp://x"}, "registry", id="registry-scheme"),
        pytest.param({"registry_url": "https://r.test/?q=1"}, "registry", id="registry-query"),
        pytest.param({"valid_days": 0}, "valid_days", id="zero-days"),
        pytest.param({"issuer_name": "  "}, "issuer", id="empty-issuer"),
    ],
)
def test_bad_issue_parameters_are_input_errors(
    assessment: Assessment, private_key: Ed25519PrivateKey, kwargs: dict[str, Any], message: str
) -> None:
    args: dict[str, Any] = {"issuer_name": "CLA", "registry_url": REGISTRY, "valid_days": 30} | kwargs
    with pytest.raises(InputError, match=message):
        issue_label(assessment, "us-ctm", private_key, args["issuer_name"], args["registry_url"], NOW,
                    valid_days=args["valid_days"])  # fmt: skip


def test_registry_url_trailing_slash_is_normalised(assessment: Assessment, private_key: Ed25519PrivateKey) -> None:
    record, _ = issue_label(assessment, "us-ctm", private_key, "CLA", "https://r.test/base/", NOW)
    assert record.registry_url == f"https://r.test/base/l/{record.label_id}"


def test_default_password_statement_comes_from_the_declared_approach(
    assessment: Assessment, private_key: Ed25519PrivateKey
) -> None:
    # Given no change instructions and a password that cannot be changed
    changed = with_dossier(
        assessment,
        {
            "declarations": {
                "authentication": {"change_password_instructions": None, "user_can_change_credentials": False}
            }
        },
    )
    record, _ = issue_label(changed, "us-ctm", private_key, "CLA", REGISTRY, NOW)
    # Then the registry field states it (47 CFR 8.222(b)(6))
    assert record.disclosures.default_password == (
        "Each device ships with its own unique default password. It cannot be changed."
    )


# ------------------------------------------------------------------------------- who may draw the scheme's mark


def test_the_scheme_mark_is_recorded_only_for_the_schemes_administrator(
    assessment: Assessment, private_key: Ed25519PrivateKey
) -> None:
    # Given an issuer that states it is the Cyber Trust Mark's label administrator (by id or id@version)
    for claim in ("us-ctm", "us-ctm@ir8425-2022"):
        record, _ = issue_label(assessment, "us-ctm", private_key, "CLA", REGISTRY, NOW, administrator_of=claim)
        # Then the signed record says so, and carries the scheme's label style and name for the artwork
        assert record.artwork is Artwork.SCHEME_MARK and record.scheme_mark
        assert record.issuer.administrator_of == "us-ctm"
        assert (record.label_style, record.scheme_name) == (LabelStyle.TRUST, "US Cyber Trust Mark")
    # And without the claim the same label is an attestation card
    plain, _ = issue_label(assessment, "us-ctm", private_key, "CLA", REGISTRY, NOW)
    assert plain.artwork is Artwork.ATTESTATION and plain.issuer.administrator_of is None


@pytest.mark.parametrize(
    ("scheme", "claim", "message"),
    [
        pytest.param("us-ctm", "sg-cls", "names 'sg-cls', but the label is for us-ctm@ir8425-2022", id="other-scheme"),
        pytest.param("eu-cra", "eu-cra", "has no consumer label", id="law-without-label"),
        pytest.param("etsi-en-303-645", "etsi-en-303-645", "has no consumer label", id="standard-without-label"),
    ],
)
def test_an_administrator_claim_that_cannot_hold_is_bad_input(
    assessment: Assessment, private_key: Ed25519PrivateKey, scheme: str, claim: str, message: str
) -> None:
    with pytest.raises(InputError, match="administrator_of") as caught:
        issue_label(assessment, scheme, private_key, "CLA", REGISTRY, NOW, administrator_of=claim)
    assert message in str(caught.value)


def test_a_record_claiming_the_mark_without_an_administrator_is_invalid(
    issued: dict[str, tuple[LabelRecord, dict[str, Any]]],
) -> None:
    # Given a card's record edited to claim the scheme's mark (no administrator recorded), or a law's record
    # claiming a mark it does not have
    record, _ = issued["us-ctm"]
    forged = record.wire() | {"artwork": "scheme-mark"}
    with pytest.raises(ValidationError, match="not recorded as us-ctm's label administrator"):
        LabelRecord.model_validate(forged)
    cra, _ = issued["eu-cra"]
    claimed = cra.wire() | {
        "artwork": "scheme-mark",
        "issuer": cra.issuer.model_dump() | {"administrator_of": "eu-cra"},
    }
    with pytest.raises(ValidationError, match="eu-cra has no consumer label"):
        LabelRecord.model_validate(claimed)
    # And the verifier reads such a statement as a broken record, not as a label
    statement = build_statement(record) | {"predicate": forged}
    with pytest.raises(CybersafeError, match="artwork scheme-mark"):
        record_from_statement(statement)


def test_records_written_before_the_artwork_field_read_as_attestation_cards(
    issued: dict[str, tuple[LabelRecord, dict[str, Any]]],
) -> None:
    record, _ = issued["sg-cls"]
    old = {k: v for k, v in record.wire().items() if k != "artwork"}
    old["issuer"] = record.issuer.model_dump(mode="json", exclude={"administrator_of"})
    assert LabelRecord.model_validate(old).artwork is Artwork.ATTESTATION


def test_the_signed_summary_is_the_schemes_status_with_its_date(
    assessment: Assessment, private_key: Ed25519PrivateKey
) -> None:
    # A label issued on 'pending' (only the administrator's grant missing) says pending, never meets
    grant = RequirementResultOut.model_validate(
        {"id": "8.222(b)(4)", "title": "Label administrator", "obligation": "mandatory", "required": True,
         "verdict": "pending", "reason": "grant:us-ctm: pending", "confidence": "confirmed",
         "source": "47 CFR 8.222(b)(4)", "evidence": [{"ref": "grant:us-ctm", "kind": "grant", "verdict": "pending"}]}
    )  # fmt: skip
    changed = with_scheme(
        assessment, "us-ctm", status=SchemeStatus.PENDING, as_of=dt.date(2026, 11, 29), requirements=[grant]
    )
    record, _ = issue_label(changed, "us-ctm", private_key, "CLA", REGISTRY, NOW)
    summary = record.verdict_summary
    assert (summary.status, summary.as_of, summary.pending) == ("pending", dt.date(2026, 11, 29), ["8.222(b)(4)"])
