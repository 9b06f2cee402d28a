"""Shared fixtures for label tests: a hand-built assessment (tests/label/data), the fixed issuer key, issued labels."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from label_fixtures import DATA, ISSUER_KEY, MET_SCHEMES, REGISTRY, counter_bytes
from tests.support import NOW

from cybersafe.label.issue import issue_label
from cybersafe.label.model import LabelRecord
from cybersafe.results import Assessment, load_assessment


@pytest.fixture(scope="session")
def assessment() -> Assessment:
    return load_assessment(DATA / "assessment.json")


@pytest.fixture(scope="session")
def private_key() -> Ed25519PrivateKey:
    return ISSUER_KEY


@pytest.fixture(scope="session")
def public_key() -> Ed25519PublicKey:
    return ISSUER_KEY.public_key()


@pytest.fixture(scope="session")
def issued(assessment: Assessment, private_key: Ed25519PrivateKey) -> dict[str, tuple[LabelRecord, dict[str, Any]]]:
    """One label per met scheme, issued at NOW, with reproducible label ids (the QR codes are the same each run)."""
    return {
        scheme: issue_label(
            assessment,
            scheme,
            private_key,
            "Example CLA",
            REGISTRY,
            NOW,
            issuer_contact="cla@example.test",
            random_bytes=counter_bytes(),
        )
        for scheme in MET_SCHEMES
    }
