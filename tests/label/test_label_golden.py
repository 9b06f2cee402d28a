"""Golden files: the SVG of each style and the label record's JSON Schema stay as committed.

Regenerate after an intended change with ``CYBERSAFE_UPDATE_GOLDEN=1 pytest tests/label/test_label_golden.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from label_fixtures import NOW, counter_bytes

from cybersafe.label.issue import issue_label
from cybersafe.label.model import label_json_schema
from cybersafe.label.render import render_svg
from cybersafe.results import Assessment

GOLDEN = Path(__file__).parent / "golden"
SCHEMA_FILE = Path(__file__).parents[2] / "src" / "cybersafe" / "label" / "label-v1.schema.json"
UPDATE = os.environ.get("CYBERSAFE_UPDATE_GOLDEN") == "1"
# a fixed key, so nothing in the output depends on the test run
FIXED_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def _check(path: Path, actual: str) -> None:
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == actual, f"{path.name} changed; regenerate if intended"


@pytest.mark.parametrize(
    ("scheme", "administrator_of"),
    [("us-ctm", "us-ctm"), ("sg-cls", "sg-cls"), ("us-ctm", None), ("eu-cra", None), ("etsi-en-303-645", None)],
)
def test_svg_matches_golden(assessment: Assessment, scheme: str, administrator_of: str | None) -> None:
    record, _ = issue_label(
        assessment,
        scheme,
        FIXED_KEY,
        "Example CLA",
        "https://registry.example.test",
        NOW,
        administrator_of=administrator_of,
        random_bytes=counter_bytes(),
    )
    _check(GOLDEN / f"{scheme}-{record.artwork}.svg", render_svg(record))


def test_published_schema_is_in_step_with_the_model() -> None:
    _check(SCHEMA_FILE, json.dumps(label_json_schema(), indent=2, sort_keys=True) + "\n")


def test_issued_records_validate_against_the_published_schema(assessment: Assessment) -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    for scheme in ("us-ctm", "sg-cls"):
        record, _ = issue_label(assessment, scheme, FIXED_KEY, "CLA", "https://r.test", NOW)
        jsonschema.validate(record.wire(), schema)
