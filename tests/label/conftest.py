"""Shared fixtures for label tests: a hand-built assessment (tests/label/data) and an issuer key pair."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from label_fixtures import DATA, MET_SCHEMES, NOW, REGISTRY

from cybersafe.attest.keys import generate_keypair, load_private_key, load_public_key
from cybersafe.label.issue import issue_label
from cybersafe.label.model import LabelRecord
from cybersafe.results import Assessment, load_assessment


@pytest.fixture(scope="session")
def assessment() -> Assessment:
    return load_assessment(DATA / "assessment.json")


@pytest.fixture(scope="session")
def key_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return generate_keypair(tmp_path_factory.mktemp("keys"), "issuer")


@pytest.fixture(scope="session")
def private_key(key_files: tuple[Path, Path]) -> Ed25519PrivateKey:
    return load_private_key(key_files[0])


@pytest.fixture(scope="session")
def public_key(key_files: tuple[Path, Path]) -> Ed25519PublicKey:
    return load_public_key(key_files[1])


@pytest.fixture(scope="session")
def issued(assessment: Assessment, private_key: Ed25519PrivateKey) -> dict[str, tuple[LabelRecord, dict[str, Any]]]:
    """One label per met scheme, issued at NOW."""
    return {
        scheme: issue_label(
            assessment, scheme, private_key, "Example CLA", REGISTRY, NOW, issuer_contact="cla@example.test"
        )
        for scheme in MET_SCHEMES
    }
