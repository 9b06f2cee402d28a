"""A new firmware release whose verdicts are unchanged gets a label that supersedes the old one from the same
issuer, carrying the digest of the diff between the two assessments."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from label_fixtures import REGISTRY, with_scheme
from tests.support import NOW, with_dossier
from typer.testing import CliRunner

from cybersafe.cli import app
from cybersafe.diff import diff_assessments
from cybersafe.label.issue import LabelRefused, issue_label, label_from_envelope
from cybersafe.label.model import LabelRecord
from cybersafe.label.supersede import supersession
from cybersafe.results import ArtefactOut, Assessment

ISSUER = "Example CLA"


def release(assessment: Assessment, firmware_sha256: str = "cd" * 32, version: str = "1.4.3") -> Assessment:
    """The next firmware release: another image, another version, the same verdicts."""
    artefacts = [
        ArtefactOut(kind=a.kind, name="firmware-1.4.3.bin", sha256=firmware_sha256, size=a.size)
        if a.kind == "firmware"
        else a
        for a in assessment.artefacts
    ]
    newer = with_dossier(assessment, {"product": {"firmware_version": version}})
    return newer.model_copy(update={"artefacts": artefacts})


@pytest.fixture(scope="module")
def key_files(tmp_path_factory: pytest.TempPathFactory, private_key: Ed25519PrivateKey) -> tuple[Path, Path]:
    """The fixed issuer key as the files the CLI reads (PKCS#8 PEM, mode 0600, and its public key)."""
    from cryptography.hazmat.primitives import serialization

    where = tmp_path_factory.mktemp("keys")
    secret, public = where / "issuer.key", where / "issuer.pub"
    secret.write_bytes(
        private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    secret.chmod(0o600)
    public.write_bytes(
        private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return secret, public


@pytest.fixture(scope="module")
def old_label(assessment: Assessment, private_key: Ed25519PrivateKey) -> tuple[LabelRecord, dict[str, Any]]:
    return issue_label(assessment, "us-ctm", private_key, ISSUER, REGISTRY, NOW)


def test_unchanged_verdicts_give_a_label_that_supersedes_with_the_diff_digest(
    assessment: Assessment, private_key: Ed25519PrivateKey, old_label: tuple[LabelRecord, dict[str, Any]]
) -> None:
    old, envelope = old_label
    new = release(assessment)
    replaces = supersession(envelope, assessment, new, "us-ctm", private_key, ISSUER)
    record, signed = issue_label(new, "us-ctm", private_key, ISSUER, REGISTRY, NOW, supersedes=replaces)
    assert record.supersedes is not None
    assert record.supersedes.label_id == old.label_id
    assert record.supersedes.assessment_sha256 == assessment.digest()
    assert record.supersedes.diff_sha256 == diff_assessments(assessment, new).digest()
    assert record.subject("firmware") is not None and record.subject("firmware").sha256 == "cd" * 32  # type: ignore[union-attr]
    # the claim is signed: it is in the envelope's predicate
    assert label_from_envelope(signed).supersedes == record.supersedes


def test_a_label_that_supersedes_nothing_reads_as_before(old_label: tuple[LabelRecord, dict[str, Any]]) -> None:
    record, _ = old_label
    assert "supersedes" not in record.wire()


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        pytest.param(lambda a: with_scheme(a, "us-ctm", highest_level="2"), "verdicts changed", id="a-level-changed"),
        pytest.param(
            lambda a: with_dossier(a, {"product": {"model": "SC-300"}}), "another product", id="another-product"
        ),
    ],
)
def test_changed_verdicts_or_another_product_are_refused(
    assessment: Assessment,
    private_key: Ed25519PrivateKey,
    old_label: tuple[LabelRecord, dict[str, Any]],
    change: Any,
    refusal: str,
) -> None:
    _, envelope = old_label
    new = change(release(assessment))
    with pytest.raises(LabelRefused, match=refusal):
        supersession(envelope, assessment, new, "us-ctm", private_key, ISSUER)


def test_another_issuer_key_or_name_or_baseline_is_refused(
    assessment: Assessment, private_key: Ed25519PrivateKey, old_label: tuple[LabelRecord, dict[str, Any]]
) -> None:
    _, envelope = old_label
    new = release(assessment)
    with pytest.raises(LabelRefused, match="not signed by this issuer's key"):
        supersession(envelope, assessment, new, "us-ctm", Ed25519PrivateKey.generate(), ISSUER)
    with pytest.raises(LabelRefused, match="issued by 'Example CLA'"):
        supersession(envelope, assessment, new, "us-ctm", private_key, "Another CLA")
    with pytest.raises(LabelRefused, match="not on the baseline given"):
        supersession(envelope, new, new, "us-ctm", private_key, ISSUER)
    with pytest.raises(LabelRefused, match="is for us-ctm"):
        supersession(envelope, assessment, new, "eu-cra", private_key, ISSUER)


def test_cli_issues_a_superseding_label_and_it_verifies(
    tmp_path: Path, assessment: Assessment, key_files: tuple[Path, Path], old_label: tuple[LabelRecord, dict[str, Any]]
) -> None:
    old_record, envelope = old_label
    old_file, new_file, old_env = tmp_path / "old.json", tmp_path / "new.json", tmp_path / "old.label.json"
    old_file.write_text(assessment.to_json(), encoding="utf-8")
    new = release(assessment)
    new_file.write_text(new.to_json(), encoding="utf-8")
    old_env.write_text(json.dumps(envelope), encoding="utf-8")
    runner = CliRunner()
    args = ["label", "issue", str(new_file), "--scheme", "us-ctm", "--key", str(key_files[0]), "--issuer", ISSUER]
    args += ["--out", str(tmp_path / "labels"), "--now", NOW.isoformat(), "--format", "json"]
    result = runner.invoke(app, [*args, "--supersedes", str(old_env), "--baseline", str(old_file)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["supersedes"]["label_id"] == old_record.label_id
    assert data["supersedes"]["diff_sha256"] == diff_assessments(assessment, new).digest()
    verified = runner.invoke(app, ["verify", data["file"], "--key", str(key_files[1]), "--now", NOW.isoformat()])
    assert verified.exit_code == 0, verified.output
    # --supersedes without the assessment it was issued on is bad usage
    alone = runner.invoke(app, [*args, "--supersedes", str(old_env)])
    assert alone.exit_code == 2 and "--baseline" in alone.output
