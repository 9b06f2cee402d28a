"""Helpers for label tests (a uniquely named module, so test files can import it without clashing)."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image
from pyzbar import pyzbar

from cybersafe.results import Assessment

DATA = Path(__file__).parent / "data"
# The issuer's key: fixed, so that nothing a label test draws or signs depends on the run.
ISSUER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
REGISTRY = "https://registry.example.test"
MET_SCHEMES = ("us-ctm", "sg-cls", "eu-cra", "etsi-en-303-645")


def counter_bytes() -> Callable[[int], bytes]:
    """Deterministic 'random' bytes so label ids are reproducible in tests."""
    counter = itertools.count(1)
    return lambda n: next(counter).to_bytes(n, "big")


def with_scheme(assessment: Assessment, scheme: str, **update: Any) -> Assessment:
    """A copy of the assessment where one scheme result has the given fields replaced."""
    schemes = [s.model_copy(update=update) if s.scheme == scheme else s for s in assessment.schemes]
    return assessment.model_copy(update={"schemes": schemes})


def decode_qr(png: bytes) -> tuple[str, float]:
    """Decode the one QR code in a PNG with zbar (libzbar0, as most scanning apps); (text, symbol width in pixels).

    zbar finds and reads the symbol whatever the label id it carries; OpenCV's detector missed about one label
    in two hundred (the flaky test this replaces)."""
    found = pyzbar.decode(Image.open(io.BytesIO(png)), symbols=[pyzbar.ZBarSymbol.QRCODE])
    assert len(found) == 1, f"expected one QR code, zbar found {len(found)}"
    rect = found[0].rect
    return found[0].data.decode("utf-8"), float(max(rect.width, rect.height))
